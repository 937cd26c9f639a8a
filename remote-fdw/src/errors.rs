//! Remote errors as the envelope reports them, the way postgres_fdw's `pgfdw_report_error`
//! does: the remote message, SQLSTATE, detail and hint unchanged, plus a
//! `remote SQL command: ...` context line. Errors without a remote message (the connection
//! died) get SQLSTATE 08006 and name the server.
//!
//! Every text that leaves this module passes through [`redact`], so a password that a client
//! library or the remote server echoed can never reach a message, a log or a client.

use std::error::Error as _;

use fdw_api::{FdwError, SqlState};
use parking_lot::Mutex;

/// What replaces a password in any message.
pub const REDACTED: &str = "********";

/// Replaces every occurrence of `secret` in `text` (nothing to do for an empty secret).
pub fn redact(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(s) if !s.is_empty() && text.contains(s) => text.replace(s, REDACTED),
        _ => text.to_string(),
    }
}

/// The SQLSTATE of a remote error. `SqlState` holds a `&'static str`; codes are interned
/// once each (there are a few hundred at most), so a remote code the envelope does not know
/// still reaches the client unchanged.
pub fn intern_state(code: &str) -> SqlState {
    static CODES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    if code.len() != 5 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return SqlState::FDW_ERROR;
    }
    let mut codes = CODES.lock();
    if let Some(c) = codes.iter().find(|c| **c == code) {
        return SqlState(c);
    }
    let leaked: &'static str = Box::leak(code.to_string().into_boxed_str());
    codes.push(leaked);
    SqlState(leaked)
}

/// The innermost cause of a client error, as text (`Connection refused (os error 111)`).
fn cause_text(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        text = s.to_string();
        src = s.source();
    }
    text
}

/// An error of a remote command: the remote error as is, or a lost connection.
pub fn remote_error(server: &str, e: &postgres::Error, sql: Option<&str>, secret: Option<&str>) -> FdwError {
    let mut err = match e.as_db_error() {
        Some(db) => {
            let mut f = FdwError::new(intern_state(db.code().code()), redact(db.message(), secret));
            if let Some(d) = db.detail() {
                f = f.with_detail(redact(d, secret));
            }
            if let Some(h) = db.hint() {
                f = f.with_hint(redact(h, secret));
            }
            // A FATAL error (administrator shutdown, idle timeout) ends the session too.
            if db.severity() == "FATAL" || db.severity() == "PANIC" {
                f = f.with_hint(format!(
                    "The connection to server \"{server}\" was lost; the next transaction reconnects."
                ));
            }
            f
        }
        None => FdwError::new(SqlState::CONNECTION_FAILURE, format!("lost connection to server \"{server}\""))
            .with_detail(redact(&cause_text(e), secret))
            .with_hint("The remote transaction was rolled back; the next transaction reconnects."),
    };
    if let Some(sql) = sql {
        err = err.with_context(format!("remote SQL command: {}", redact(sql, secret)));
    }
    err
}

/// `could not connect to server "s"` (08001) with the client's reason as DETAIL, as
/// postgres_fdw's `connect_pg_server` reports it.
pub fn connect_error(server: &str, host: &str, port: u16, e: &postgres::Error, secret: Option<&str>) -> FdwError {
    let reason = match e.as_db_error() {
        Some(db) => format!("{}:  {}", db.severity(), db.message()),
        None => cause_text(e),
    };
    FdwError::new(SqlState::FDW_UNABLE_TO_ESTABLISH_CONNECTION, format!("could not connect to server \"{server}\""))
        .with_detail(redact(&format!("connection to server at \"{host}\", port {port} failed: {reason}"), secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_and_interning() {
        assert_eq!(redact("password=s3cret host=x", Some("s3cret")), "password=******** host=x");
        assert_eq!(redact("abc", Some("")), "abc");
        assert_eq!(redact("abc", None), "abc");
        let a = intern_state("23505");
        let b = intern_state("23505");
        assert_eq!(a, SqlState::UNIQUE_VIOLATION);
        assert!(std::ptr::eq(a.0, b.0));
        assert_eq!(intern_state("bad"), SqlState::FDW_ERROR);
    }
}
