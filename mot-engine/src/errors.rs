//! The engine's errors, worded and coded as PostgreSQL 15 reports them.

use fdw_api::{err, Datum, FdwError};

/// 40001: a transaction lost an optimistic validation (or met a concurrent committer).
pub fn serialization_failure(what: &str) -> FdwError {
    err!(T_R_SERIALIZATION_FAILURE, "could not serialize access due to {}", what)
        .with_hint("The transaction might succeed if retried.")
}

/// 40001 for the usual case.
pub fn concurrent_update() -> FdwError {
    serialization_failure("concurrent update")
}

/// 23505 with PostgreSQL's DETAIL `Key (a, b)=(1, x) already exists.`
pub fn unique_violation(index: &str, columns: &[&str], values: &[&Datum]) -> FdwError {
    err!(UNIQUE_VIOLATION, "duplicate key value violates unique constraint \"{}\"", index).with_detail(format!(
        "Key ({})=({}) already exists.",
        columns.join(", "),
        key_values(values)
    ))
}

/// 23505 of CREATE UNIQUE INDEX over duplicated rows.
pub fn unique_build_violation(index: &str, columns: &[&str], values: &[&Datum]) -> FdwError {
    err!(UNIQUE_VIOLATION, "could not create unique index \"{}\"", index).with_detail(format!(
        "Key ({})=({}) is duplicated.",
        columns.join(", "),
        key_values(values)
    ))
}

/// 23502 with PostgreSQL 15's DETAIL `Failing row contains (2, null, 2).`
pub fn not_null_violation(column: &str, table: &str, row: &[Datum]) -> FdwError {
    err!(
        NOT_NULL_VIOLATION,
        "null value in column \"{}\" of relation \"{}\" violates not-null constraint",
        column,
        table
    )
    .with_detail(format!("Failing row contains {}.", record_text(row)))
}

fn key_values(values: &[&Datum]) -> String {
    let mut out = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if v.is_null() {
            out.push_str("null");
        } else {
            v.write_text(&mut out);
        }
    }
    out
}

/// A row as PostgreSQL's `record_out` prints it: NULL as `null`, values with blanks, quotes,
/// commas, parentheses or backslashes (and empty strings) double-quoted.
pub fn record_text(row: &[Datum]) -> String {
    let mut out = String::from("(");
    let mut buf = String::new();
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if v.is_null() {
            out.push_str("null");
            continue;
        }
        buf.clear();
        v.write_text(&mut buf);
        let quote =
            buf.is_empty() || buf.chars().any(|c| matches!(c, '"' | '\\' | '(' | ')' | ',') || c.is_whitespace());
        if quote {
            out.push('"');
            for c in buf.chars() {
                if c == '"' || c == '\\' {
                    out.push(c);
                }
                out.push(c);
            }
            out.push('"');
        } else {
            out.push_str(&buf);
        }
    }
    out.push(')');
    out
}
