//! Text input and output of every type, byte for byte as PostgreSQL 15 prints them
//! (`DateStyle = ISO, MDY`, `IntervalStyle = postgres`, `extra_float_digits = 1`).
//!
//! This file dispatches by type and holds the small parsers (integers, booleans, strings);
//! floats, numerics, dates/timestamps and intervals have their own modules. Output appends
//! to a caller's `String` so printing a result set does not allocate per value.

use crate::error::{FdwError, FdwResult, SqlState};

use super::{calendar, float, interval_io, numeric, DataType, Datum};

fn invalid_syntax(type_name: &str, s: &str) -> FdwError {
    FdwError::new(SqlState::INVALID_TEXT_REPRESENTATION, format!("invalid input syntax for type {type_name}: \"{s}\""))
}

/// Parses an integer as PostgreSQL's `int4in` family: blanks around, optional sign, decimal
/// digits only; `value "..." is out of range for type integer` past `min..=max`.
pub fn parse_int(s: &str, type_name: &str, min: i64, max: i64) -> FdwResult<i64> {
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace());
    let b = t.as_bytes();
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || !digits.iter().all(|c| c.is_ascii_digit()) {
        return Err(invalid_syntax(type_name, s));
    }
    // Accumulate negatively so that i64::MIN parses.
    let mut v: i64 = 0;
    let range = || {
        FdwError::new(
            SqlState::NUMERIC_VALUE_OUT_OF_RANGE,
            format!("value \"{s}\" is out of range for type {type_name}"),
        )
    };
    for &c in digits {
        v = v.checked_mul(10).and_then(|v| v.checked_sub((c - b'0') as i64)).ok_or_else(range)?;
    }
    let v = if neg { v } else { v.checked_neg().ok_or_else(range)? };
    if v < min || v > max {
        return Err(range());
    }
    Ok(v)
}

/// PostgreSQL's `boolin`: `t`/`true`/`yes`/`on`/`1` and their opposites, any case, any
/// unambiguous prefix of `true`/`false`/`yes`/`no`, blanks around.
pub fn parse_bool_text(s: &str) -> Option<bool> {
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace()).to_ascii_lowercase();
    let prefix_of = |word: &str| !t.is_empty() && word.starts_with(t.as_str());
    if prefix_of("true") || prefix_of("yes") || t == "on" || t == "1" {
        Some(true)
    } else if prefix_of("false") || prefix_of("no") || (t.len() >= 2 && "off".starts_with(t.as_str())) || t == "0" {
        Some(false)
    } else {
        None
    }
}

/// Number of characters (not bytes), as `length` counts them.
pub fn char_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// Byte offset of the `n`-th character (or the length if there are fewer).
pub fn char_offset(s: &str, n: usize) -> usize {
    if s.is_ascii() {
        n.min(s.len())
    } else {
        s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
    }
}

/// Enforces `varchar(n)` / `char(n)` on input or assignment: too long is an error unless the
/// excess is all blanks (then truncated), as PostgreSQL does. `char(n)` is blank-padded.
pub fn fit_string(s: &str, ty: &DataType, explicit: bool) -> FdwResult<Datum> {
    match ty {
        DataType::Varchar(Some(n)) | DataType::Char(Some(n)) => {
            let n = *n as usize;
            let len = char_len(s);
            let body = if len > n {
                let cut = char_offset(s, n);
                if !explicit && !s[cut..].bytes().all(|b| b == b' ') {
                    return Err(FdwError::new(
                        SqlState::STRING_DATA_RIGHT_TRUNCATION,
                        format!("value too long for type {}", ty.sql_name()),
                    ));
                }
                &s[..cut]
            } else {
                s
            };
            if matches!(ty, DataType::Char(_)) && len < n {
                let mut padded = String::with_capacity(body.len() + n - len);
                padded.push_str(body);
                padded.extend(std::iter::repeat_n(' ', n - len));
                Ok(Datum::text(&padded))
            } else {
                Ok(Datum::text(body))
            }
        }
        _ => Ok(Datum::text(s)),
    }
}

impl DataType {
    /// Parses the external text form of a value of this type (COPY input, a string literal
    /// cast), with PostgreSQL's error wording:
    /// `invalid input syntax for type integer: "abc"` (22P02).
    pub fn parse_text(&self, s: &str) -> FdwResult<Datum> {
        Ok(match self {
            DataType::Bool => Datum::Bool(parse_bool_text(s).ok_or_else(|| invalid_syntax("boolean", s))?),
            DataType::Int2 => Datum::Int2(parse_int(s, "smallint", i16::MIN as i64, i16::MAX as i64)? as i16),
            DataType::Int4 => Datum::Int4(parse_int(s, "integer", i32::MIN as i64, i32::MAX as i64)? as i32),
            DataType::Int8 => Datum::Int8(parse_int(s, "bigint", i64::MIN, i64::MAX)?),
            DataType::Float4 => Datum::Float4(float::parse_f32(s)?),
            DataType::Float8 => Datum::Float8(float::parse_f64(s, "double precision")?),
            DataType::Numeric(tm) => {
                let v = numeric::parse_numeric(s)?;
                Datum::Numeric(match tm {
                    Some((p, sc)) => numeric::apply_typmod(v, *p, *sc)?,
                    None => v,
                })
            }
            DataType::Text | DataType::Unknown | DataType::Varchar(None) | DataType::Char(None) => Datum::text(s),
            DataType::Varchar(_) | DataType::Char(_) => fit_string(s, self, false)?,
            DataType::Date => Datum::Date(calendar::parse_date(s)?),
            DataType::Timestamp => Datum::Timestamp(calendar::parse_timestamp(s)?),
            DataType::Interval => Datum::Interval(interval_io::parse_interval(s)?),
        })
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
        match self {
            Datum::Null => {}
            Datum::Bool(b) => out.push_str(if *b { "t" } else { "f" }),
            Datum::Int2(v) => {
                let _ = write!(out, "{v}");
            }
            Datum::Int4(v) => {
                let _ = write!(out, "{v}");
            }
            Datum::Int8(v) => {
                let _ = write!(out, "{v}");
            }
            Datum::Float4(v) => float::write_f32(out, *v),
            Datum::Float8(v) => float::write_f64(out, *v),
            Datum::Numeric(v) => numeric::write_numeric(out, v),
            Datum::Text(s) => out.push_str(s),
            Datum::Date(d) => calendar::write_date(out, *d),
            Datum::Timestamp(t) => calendar::write_timestamp(out, *t),
            Datum::Interval(i) => interval_io::write_interval(out, i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Interval;

    fn rt(ty: DataType, s: &str) -> String {
        ty.parse_text(s).unwrap().to_text()
    }

    #[test]
    fn integer_input_as_postgres() {
        assert_eq!(rt(DataType::Int4, "  12  "), "12");
        assert_eq!(rt(DataType::Int4, "-2147483648"), "-2147483648");
        assert_eq!(rt(DataType::Int8, "-9223372036854775808"), "-9223372036854775808");
        assert_eq!(rt(DataType::Int2, "+7"), "7");
        let e = DataType::Int4.parse_text(" 99999999999 ").unwrap_err();
        assert_eq!(e.message, "value \" 99999999999 \" is out of range for type integer");
        assert_eq!(e.sqlstate, SqlState::NUMERIC_VALUE_OUT_OF_RANGE);
        let e = DataType::Int4.parse_text("abc").unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.sqlstate),
            ("invalid input syntax for type integer: \"abc\"", SqlState::INVALID_TEXT_REPRESENTATION)
        );
        assert_eq!(DataType::Int4.parse_text("").unwrap_err().message, "invalid input syntax for type integer: \"\"");
        assert_eq!(
            DataType::Int4.parse_text("12.5").unwrap_err().message,
            "invalid input syntax for type integer: \"12.5\""
        );
        assert_eq!(
            DataType::Int2.parse_text("99999").unwrap_err().message,
            "value \"99999\" is out of range for type smallint"
        );
        assert!(DataType::Int8.parse_text("9223372036854775808").is_err());
    }

    #[test]
    fn bool_input_as_postgres() {
        for t in ["t", "true", "TRUE", " yes ", "on", "1", "tr", "y"] {
            assert_eq!(DataType::Bool.parse_text(t).unwrap(), Datum::Bool(true), "{t}");
        }
        for f in ["f", "false", "no", "off", "of", "0", "n"] {
            assert_eq!(DataType::Bool.parse_text(f).unwrap(), Datum::Bool(false), "{f}");
        }
        assert_eq!(DataType::Bool.parse_text("o").unwrap_err().message, "invalid input syntax for type boolean: \"o\"");
        assert_eq!(rt(DataType::Bool, "yes"), "t");
    }

    #[test]
    fn string_typmods_as_postgres() {
        assert_eq!(rt(DataType::Char(Some(3)), "ab"), "ab ");
        assert_eq!(rt(DataType::Varchar(Some(3)), "abc   "), "abc");
        let e = DataType::Varchar(Some(3)).parse_text("abcd").unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.sqlstate),
            ("value too long for type character varying(3)", SqlState::STRING_DATA_RIGHT_TRUNCATION)
        );
        assert_eq!(
            DataType::Char(Some(3)).parse_text("abcd").unwrap_err().message,
            "value too long for type character(3)"
        );
        assert_eq!(fit_string("abcd", &DataType::Varchar(Some(3)), true).unwrap().to_text(), "abc");
        assert_eq!(rt(DataType::Varchar(Some(2)), "éé"), "éé");
    }

    #[test]
    fn output_of_every_type() {
        assert_eq!(Datum::Bool(true).to_text(), "t");
        assert_eq!(Datum::Int8(-5).to_text(), "-5");
        assert_eq!(Datum::Float8(1e20).to_text(), "1e+20");
        assert_eq!(rt(DataType::Numeric(None), "1.50"), "1.50");
        assert_eq!(rt(DataType::Numeric(Some((15, 2))), "3"), "3.00");
        assert_eq!(Datum::Date(0).to_text(), "2000-01-01");
        assert_eq!(Datum::Timestamp(1_500_000).to_text(), "2000-01-01 00:00:01.5");
        assert_eq!(Datum::Interval(Interval::new(14, 3, 14_706_000_000)).to_text(), "1 year 2 mons 3 days 04:05:06");
        assert_eq!(Datum::Null.to_text(), "");
        assert_eq!(rt(DataType::Date, "1996-03-13"), "1996-03-13");
        assert_eq!(rt(DataType::Interval, "1 year 2 mons"), "1 year 2 mons");
    }
}
