//! Casts between every pair of types, with PostgreSQL's semantics and errors.
//!
//! - integers: range-checked (`integer out of range`); float to integer rounds to nearest,
//!   ties to even (`rint`), numeric to integer rounds ties away from zero;
//! - float to numeric goes through 15 (float4: 6) significant digits, as PostgreSQL does;
//! - `numeric(p,s)` targets round to the scale and check the precision;
//! - anything to a string type uses the text output (`bool` prints `true`/`false` here,
//!   `char(n)` loses its trailing blanks); strings to anything use the text input;
//! - `varchar(n)`/`char(n)` targets: `cast_datum` applies the assignment rule (too long is an
//!   error unless the excess is blanks), `cast_datum_explicit` truncates silently as an
//!   explicit `CAST` does.

use std::fmt::Write;

use rust_decimal::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::{FdwError, FdwResult, SqlState};
use crate::eval::ops::{check_f64, int_range};
use crate::types::compare::date_to_ts;
use crate::types::float::StackBuf;
use crate::types::numeric as num;
use crate::types::text::fit_string;
use crate::types::{DataType, Datum, USECS_PER_DAY};

/// The type name PostgreSQL's cast errors use: without modifier, `character` for bpchar.
fn cast_name(t: &DataType) -> String {
    match t {
        DataType::Char(_) => "character".into(),
        _ => t.without_modifier().sql_name(),
    }
}

fn cannot(from: &DataType, to: &DataType) -> FdwError {
    FdwError::new(SqlState::CANNOT_COERCE, format!("cannot cast type {} to {}", cast_name(from), cast_name(to)))
}

fn int_to(v: i64, to: &DataType) -> FdwResult<Datum> {
    Ok(match to {
        DataType::Int2 => Datum::Int2(i16::try_from(v).map_err(|_| int_range("smallint"))?),
        DataType::Int4 => Datum::Int4(i32::try_from(v).map_err(|_| int_range("integer"))?),
        DataType::Int8 => Datum::Int8(v),
        DataType::Float4 => Datum::Float4(v as f32),
        DataType::Float8 => Datum::Float8(v as f64),
        DataType::Numeric(tm) => numeric_to_typmod(Decimal::from(v), tm)?,
        DataType::Bool => Datum::Bool(v != 0),
        _ => return Err(cannot(&DataType::Int8, to)),
    })
}

fn numeric_to_typmod(v: Decimal, tm: &Option<(u8, u8)>) -> FdwResult<Datum> {
    Ok(Datum::Numeric(match tm {
        Some((p, s)) => num::apply_typmod(v, *p, *s)?,
        None => v,
    }))
}

fn float_to_int(v: f64, to: &DataType) -> FdwResult<Datum> {
    let name = match to {
        DataType::Int2 => "smallint",
        DataType::Int4 => "integer",
        _ => "bigint",
    };
    if !v.is_finite() {
        return Err(int_range(name));
    }
    let r = v.round_ties_even();
    // i64 range check with floats: 2^63 is exactly representable.
    if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&r) {
        return Err(int_range(name));
    }
    int_to(r as i64, to)
}

/// Float to numeric through `digits` significant digits, as PostgreSQL's `float8_numeric`.
fn float_to_numeric(v: f64, digits: usize) -> FdwResult<Decimal> {
    if v.is_nan() {
        return Err(FdwError::feature("cannot convert NaN to numeric (numeric has no NaN here)"));
    }
    if v.is_infinite() {
        return Err(FdwError::feature("cannot convert infinity to numeric"));
    }
    let mut b = StackBuf::<64>::new();
    let _ = write!(b, "{:.*e}", digits - 1, v);
    num::parse_numeric(b.as_str()).map(|d| d.normalize())
}

/// Float to `numeric(p,s)`: a value too large for 28 digits is still PostgreSQL's
/// `numeric field overflow` when a modifier is there to overflow.
fn float_to_typmod(v: f64, digits: usize, tm: &Option<(u8, u8)>) -> FdwResult<Datum> {
    match (float_to_numeric(v, digits), tm) {
        (Err(e), Some((p, s))) if e.sqlstate == SqlState::NUMERIC_VALUE_OUT_OF_RANGE => {
            Err(num::typmod_overflow(*p, *s))
        }
        (r, _) => numeric_to_typmod(r?, tm),
    }
}

/// Numeric to float through its decimal text, so the result is correctly rounded.
pub(crate) fn numeric_to_f64(v: &Decimal) -> f64 {
    let mut b = StackBuf::<64>::new();
    let _ = write!(b, "{v}");
    b.as_str().parse().unwrap_or_else(|_| num::to_f64(v))
}

fn numeric_to_int(v: &Decimal, to: &DataType) -> FdwResult<Datum> {
    let name = match to {
        DataType::Int2 => "smallint",
        DataType::Int4 => "integer",
        _ => "bigint",
    };
    let r = v.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    let i = r.to_i64().ok_or_else(|| int_range(name))?;
    int_to(i, to)
}

/// Text output for a cast to a string type (differs from `write_text` for booleans and
/// `char(n)`).
fn to_string_value(value: &Datum, from: &DataType) -> String {
    match (value, from) {
        (Datum::Bool(b), _) => (if *b { "true" } else { "false" }).to_string(),
        (Datum::Text(s), DataType::Char(_)) => s.trim_end_matches(' ').to_string(),
        _ => value.to_text(),
    }
}

/// Converts with the assignment rule for string lengths (see the module docs).
pub fn cast(value: Datum, from: &DataType, to: &DataType, explicit: bool) -> FdwResult<Datum> {
    use DataType as T;
    if value.is_null() {
        return Ok(Datum::Null);
    }
    if (from == to && !matches!(to, T::Unknown)) || (to.without_modifier() == *to && from.without_modifier() == *to) {
        return Ok(value);
    }
    // To strings.
    if matches!(to, T::Text | T::Varchar(_) | T::Char(_) | T::Unknown) {
        if let (Datum::Text(s), T::Text | T::Varchar(_) | T::Unknown) = (&value, from) {
            if matches!(to, T::Text | T::Varchar(None) | T::Unknown) {
                return Ok(value.clone());
            }
            return fit_string(s, to, explicit);
        }
        let s = to_string_value(&value, from);
        return fit_string(&s, to, explicit);
    }
    // From strings: the type's input function.
    if let Datum::Text(s) = &value {
        return to.parse_text(s);
    }
    Ok(match (&value, to) {
        (Datum::Int2(_) | Datum::Int4(_) | Datum::Int8(_), _) if to.is_numeric() || *to == T::Bool => {
            if *to == T::Bool && !matches!(value, Datum::Int4(_)) {
                return Err(cannot(from, to));
            }
            int_to(value.as_i64().unwrap_or(0), to)?
        }
        (Datum::Float8(v), T::Float4) => {
            let f = *v as f32;
            if f.is_infinite() && v.is_finite() {
                return Err(FdwError::new(SqlState::NUMERIC_VALUE_OUT_OF_RANGE, "value out of range: overflow"));
            }
            if f == 0.0 && *v != 0.0 {
                return Err(FdwError::new(SqlState::NUMERIC_VALUE_OUT_OF_RANGE, "value out of range: underflow"));
            }
            Datum::Float4(f)
        }
        (Datum::Float4(v), T::Float8) => Datum::Float8(*v as f64),
        (Datum::Float8(v), T::Int2 | T::Int4 | T::Int8) => float_to_int(*v, to)?,
        (Datum::Float4(v), T::Int2 | T::Int4 | T::Int8) => float_to_int(*v as f64, to)?,
        (Datum::Float8(v), T::Numeric(tm)) => float_to_typmod(*v, 15, tm)?,
        (Datum::Float4(v), T::Numeric(tm)) => float_to_typmod(*v as f64, 6, tm)?,
        (Datum::Numeric(v), T::Numeric(tm)) => numeric_to_typmod(*v, tm)?,
        (Datum::Numeric(v), T::Int2 | T::Int4 | T::Int8) => numeric_to_int(v, to)?,
        (Datum::Numeric(v), T::Float8) => Datum::Float8(check_f64(numeric_to_f64(v), false, true)?),
        (Datum::Numeric(v), T::Float4) => {
            let f = numeric_to_f64(v) as f32;
            if f.is_infinite() {
                return Err(FdwError::new(SqlState::NUMERIC_VALUE_OUT_OF_RANGE, "value out of range: overflow"));
            }
            Datum::Float4(f)
        }
        (Datum::Bool(b), T::Int4) => Datum::Int4(*b as i32),
        (Datum::Date(d), T::Timestamp) => Datum::Timestamp(date_to_ts(*d)),
        (Datum::Timestamp(t), T::Date) => Datum::Date(match *t {
            i64::MIN => i32::MIN,
            i64::MAX => i32::MAX,
            t => i32::try_from(t.div_euclid(USECS_PER_DAY)).map_err(|_| crate::eval::ops::date_range())?,
        }),
        (Datum::Interval(_), T::Interval)
        | (Datum::Date(_), T::Date)
        | (Datum::Timestamp(_), T::Timestamp)
        | (Datum::Bool(_), T::Bool) => value,
        (Datum::Int2(_), _) | (Datum::Int4(_), _) | (Datum::Int8(_), _) => return Err(cannot(from, to)),
        _ => return Err(cannot(from, to)),
    })
}

/// Whether PostgreSQL allows the cast; `level`: 0 implicit, 1 assignment, 2 explicit.
pub fn castable(from: &DataType, to: &DataType, level: u8) -> bool {
    use DataType as T;
    let rank = |t: &DataType| match t {
        T::Int2 => Some(0),
        T::Int4 => Some(1),
        T::Int8 => Some(2),
        T::Numeric(_) => Some(3),
        T::Float4 => Some(4),
        T::Float8 => Some(5),
        _ => None,
    };
    if from.without_modifier() == to.without_modifier() || *from == T::Unknown {
        return true;
    }
    if let (Some(a), Some(b)) = (rank(from), rank(to)) {
        return a < b || level >= 1;
    }
    let string = |t: &DataType| matches!(t, T::Text | T::Varchar(_) | T::Char(_));
    if string(from) && string(to) {
        return true;
    }
    match (from, to) {
        (T::Date, T::Timestamp) => true,
        (T::Timestamp, T::Date) => level >= 1,
        (_, t) if string(t) => level >= 1,
        (f, _) if string(f) => level >= 2,
        (T::Int4, T::Bool) | (T::Bool, T::Int4) => level >= 2,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(v: Datum, from: DataType, to: DataType) -> String {
        cast(v, &from, &to, false).unwrap().to_text()
    }

    #[test]
    fn casts_match_postgres() {
        use DataType as T;
        // Verified with psql.
        assert_eq!(c(Datum::Float8(0.1), T::Float8, T::Numeric(None)), "0.1");
        assert_eq!(c(Datum::Float8(1.0 / 3.0), T::Float8, T::Numeric(None)), "0.333333333333333");
        assert_eq!(c(Datum::Float8(1e20), T::Float8, T::Numeric(None)), "100000000000000000000");
        assert_eq!(c(Datum::Float8(12345678901234567890.0), T::Float8, T::Numeric(None)), "12345678901234600000");
        assert_eq!(c(Datum::Float8(0.000001234), T::Float8, T::Numeric(None)), "0.000001234");
        assert_eq!(c(Datum::Float4(2.5), T::Float4, T::Int4), "2");
        assert_eq!(c(Datum::Float8(3.5), T::Float8, T::Int4), "4");
        assert_eq!(c(Datum::Float8(-2.5), T::Float8, T::Int4), "-2");
        let n = T::Numeric(None).parse_text("2.5").unwrap();
        assert_eq!(c(n.clone(), T::Numeric(None), T::Int4), "3");
        assert_eq!(c(n, T::Numeric(None), T::Float8), "2.5");
        assert_eq!(c(Datum::Bool(true), T::Bool, T::Text), "true");
        assert_eq!(c(Datum::Int4(1), T::Int4, T::Bool), "t");
        assert_eq!(c(Datum::text("ab "), T::Char(Some(3)), T::Text), "ab");
        assert_eq!(c(Datum::text(" 12 "), T::Text, T::Int4), "12");
        assert_eq!(c(Datum::Int4(3), T::Int4, T::Numeric(Some((5, 2)))), "3.00");
        assert_eq!(c(Datum::Date(1), T::Date, T::Timestamp), "2000-01-02 00:00:00");
        assert_eq!(c(Datum::Timestamp(-1), T::Timestamp, T::Date), "1999-12-31");
        assert_eq!(c(Datum::Int4(42), T::Int4, T::Varchar(Some(5))), "42");
        let e = cast(Datum::Float8(1e10), &T::Float8, &T::Int4, false).unwrap_err();
        assert_eq!(e.message, "integer out of range");
        assert!(cast(Datum::Float8(f64::NAN), &T::Float8, &T::Int4, false).is_err());
        let e = cast(Datum::Int8(1 << 40), &T::Int8, &T::Int4, false).unwrap_err();
        assert_eq!(e.message, "integer out of range");
        let e = cast(Datum::text("abcd"), &T::Text, &T::Varchar(Some(3)), false).unwrap_err();
        assert_eq!(e.message, "value too long for type character varying(3)");
        assert_eq!(cast(Datum::text("abcd"), &T::Text, &T::Varchar(Some(3)), true).unwrap().to_text(), "abc");
        let e = cast(Datum::Date(1), &T::Date, &T::Int4, true).unwrap_err();
        assert_eq!((e.message.as_str(), e.sqlstate), ("cannot cast type date to integer", SqlState::CANNOT_COERCE));
    }

    #[test]
    fn cast_levels() {
        use DataType as T;
        assert!(castable(&T::Int4, &T::Int8, 0));
        assert!(!castable(&T::Int8, &T::Int4, 0));
        assert!(castable(&T::Int8, &T::Int4, 1));
        assert!(castable(&T::Int4, &T::Text, 1));
        assert!(!castable(&T::Int4, &T::Text, 0));
        assert!(castable(&T::Text, &T::Int4, 2));
        assert!(!castable(&T::Text, &T::Int4, 1));
        assert!(castable(&T::Date, &T::Timestamp, 0));
        assert!(!castable(&T::Date, &T::Int4, 2));
    }
}
