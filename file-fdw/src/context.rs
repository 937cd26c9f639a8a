//! Errors raised while reading a file, and the `CONTEXT` line PostgreSQL attaches to them.
//!
//! PostgreSQL's COPY error callback says where an error happened:
//! `COPY t, line 3, column b: "aaa"` for a bad value, `COPY t, line 3: "<line>"` for a
//! malformed line and `COPY t, line 3` when the line itself could not be read (encoding,
//! line endings). A scan builds a [`ScanError`] holding the line number relative to where it
//! started reading; the number becomes absolute, and the context text is written, only when
//! the error leaves the scan ([`ScanError::into_fdw`]). That lets a parallel worker, which
//! does not know how many lines precede its byte range, report exact line numbers.

use fdw_api::{err, FdwError, SqlState};

/// PostgreSQL shows at most this many bytes of a line or value in a context line.
const MAX_DISPLAY: usize = 100;

/// Which flavour of context an error gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ctx {
    /// No COPY context (I/O errors, option errors).
    None,
    /// `COPY t, line N`
    Line,
    /// `COPY t, line N: "text"`
    LineText(String),
    /// `COPY t, line N, column c: "value"` or `... column c: null input`.
    Column { name: String, value: Option<String> },
}

/// An error of a scan, with its position in the file.
#[derive(Clone, Debug)]
pub struct ScanError {
    pub error: FdwError,
    /// Line (record) number counted from the start of the byte range being read, from 1.
    pub line: u64,
    pub ctx: Ctx,
}

impl ScanError {
    pub fn plain(error: FdwError) -> ScanError {
        ScanError { error, line: 0, ctx: Ctx::None }
    }

    /// The error as the envelope shows it: `line_offset` lines precede the range read.
    pub fn into_fdw(self, table: &str, line_offset: u64) -> FdwError {
        let line = self.line + line_offset;
        let context = match self.ctx {
            Ctx::None => return self.error,
            Ctx::Line => format!("COPY {table}, line {line}"),
            Ctx::LineText(text) => format!("COPY {table}, line {line}: \"{}\"", clip(&text)),
            Ctx::Column { name, value: Some(v) } => {
                format!("COPY {table}, line {line}, column {name}: \"{}\"", clip(&v))
            }
            Ctx::Column { name, value: None } => format!("COPY {table}, line {line}, column {name}: null input"),
        };
        self.error.with_context(context)
    }
}

impl From<FdwError> for ScanError {
    fn from(error: FdwError) -> Self {
        ScanError::plain(error)
    }
}

/// PostgreSQL's `limit_printout_length`: at most 100 bytes (cut at a character boundary)
/// followed by `...`.
pub fn clip(s: &str) -> String {
    if s.len() <= MAX_DISPLAY {
        return s.to_string();
    }
    let mut cut = MAX_DISPLAY;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}...", &s[..cut])
}

/// Text of raw file bytes for a context line (invalid UTF-8 shown lossily).
pub fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `strerror` text of an I/O error, without Rust's ` (os error N)` suffix.
fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn io_state(e: &std::io::Error) -> SqlState {
    match e.kind() {
        std::io::ErrorKind::NotFound => SqlState::UNDEFINED_FILE,
        std::io::ErrorKind::PermissionDenied => SqlState::INSUFFICIENT_PRIVILEGE,
        _ => SqlState::IO_ERROR,
    }
}

/// `could not open file "x" for reading: No such file or directory`, as COPY FROM says it.
pub fn open_error(path: &str, e: &std::io::Error) -> FdwError {
    FdwError::new(io_state(e), format!("could not open file \"{path}\" for reading: {}", strerror(e))).with_hint(
        "COPY FROM instructs the PostgreSQL server process to read a file. \
         You may want a client-side facility such as psql's \\copy.",
    )
}

/// `could not read from COPY file: ...`
pub fn read_error(e: &std::io::Error) -> FdwError {
    FdwError::new(io_state(e), format!("could not read from COPY file: {}", strerror(e)))
}

/// `"x" is a directory`
pub fn is_directory(path: &str) -> FdwError {
    err!(WRONG_OBJECT_TYPE, "\"{}\" is a directory", path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts() {
        let e = ScanError { error: err!(DATA_EXCEPTION, "x"), line: 2, ctx: Ctx::Line };
        assert_eq!(e.into_fdw("t", 1).context, vec!["COPY t, line 3".to_string()]);
        let e = ScanError {
            error: err!(DATA_EXCEPTION, "x"),
            line: 3,
            ctx: Ctx::Column { name: "b".into(), value: Some("aaa".into()) },
        };
        assert_eq!(e.into_fdw("agg_bad", 0).context, vec!["COPY agg_bad, line 3, column b: \"aaa\"".to_string()]);
        let long = "x".repeat(150);
        assert_eq!(clip(&long), format!("{}...", "x".repeat(100)));
        let accents = "\u{e9}".repeat(60);
        assert_eq!(clip(&accents), format!("{}...", "\u{e9}".repeat(50)));
    }

    #[test]
    fn io_messages() {
        let e = std::fs::File::open("/nonexistent/x.csv").unwrap_err();
        let f = open_error("/nonexistent/x.csv", &e);
        assert_eq!(f.message, "could not open file \"/nonexistent/x.csv\" for reading: No such file or directory");
        assert_eq!(f.sqlstate.code(), "58P01");
    }
}
