//! The operator kernels: arithmetic, comparison and concatenation on non-null datums, with
//! PostgreSQL's overflow checks and error wording.
//!
//! One function, `binary`, dispatches on the operator and the operands' variants in a single
//! `match`; the common same-type cases come first. Operands of different numeric widths
//! (which the binder normally prevents by coercing) are promoted rather than rejected.

use std::cmp::Ordering;

use rust_decimal::prelude::*;
use rust_decimal::Decimal;

use crate::error::{FdwError, FdwResult, SqlState};
use crate::expr::BinaryOp;
use crate::types::calendar::{self, DATE_NEG_INFINITY, DATE_POS_INFINITY, TS_NEG_INFINITY, TS_POS_INFINITY};
use crate::types::compare::{cmp_bpchar, cmp_datum, date_to_ts};
use crate::types::numeric as num;
use crate::types::{Datum, Interval, USECS_PER_DAY};

pub(crate) fn int_range(ty: &str) -> FdwError {
    FdwError::new(SqlState::NUMERIC_VALUE_OUT_OF_RANGE, format!("{ty} out of range"))
}
pub(crate) fn div_zero() -> FdwError {
    FdwError::new(SqlState::DIVISION_BY_ZERO, "division by zero")
}
fn float_overflow() -> FdwError {
    FdwError::new(SqlState::NUMERIC_VALUE_OUT_OF_RANGE, "value out of range: overflow")
}
fn float_underflow() -> FdwError {
    FdwError::new(SqlState::NUMERIC_VALUE_OUT_OF_RANGE, "value out of range: underflow")
}
pub(crate) fn interval_range() -> FdwError {
    FdwError::new(SqlState::DATETIME_FIELD_OVERFLOW, "interval out of range")
}
pub(crate) fn ts_range() -> FdwError {
    FdwError::new(SqlState::DATETIME_FIELD_OVERFLOW, "timestamp out of range")
}
pub(crate) fn date_range() -> FdwError {
    FdwError::new(SqlState::DATETIME_FIELD_OVERFLOW, "date out of range")
}

/// PostgreSQL's float result check: infinity from finite inputs is overflow, zero from
/// non-zero inputs (where `zero_ok` is false) underflow.
pub(crate) fn check_f64(r: f64, inf_ok: bool, zero_ok: bool) -> FdwResult<f64> {
    if r.is_infinite() && !inf_ok {
        return Err(float_overflow());
    }
    if r == 0.0 && !zero_ok {
        return Err(float_underflow());
    }
    Ok(r)
}

fn check_f32(r: f32, inf_ok: bool, zero_ok: bool) -> FdwResult<f32> {
    if r.is_infinite() && !inf_ok {
        return Err(float_overflow());
    }
    if r == 0.0 && !zero_ok {
        return Err(float_underflow());
    }
    Ok(r)
}

macro_rules! int_arith {
    ($op:expr, $a:expr, $b:expr, $variant:path, $name:expr) => {{
        let (a, b) = ($a, $b);
        let r = match $op {
            BinaryOp::Add => a.checked_add(b),
            BinaryOp::Sub => a.checked_sub(b),
            BinaryOp::Mul => a.checked_mul(b),
            BinaryOp::Div => {
                if b == 0 {
                    return Err(div_zero());
                }
                a.checked_div(b)
            }
            BinaryOp::Mod => {
                if b == 0 {
                    return Err(div_zero());
                }
                // i32::MIN % -1 is 0 in SQL, not an overflow.
                Some(if b == -1 { 0 } else { a % b })
            }
            _ => return Err(no_operator($op)),
        };
        r.map($variant).ok_or_else(|| int_range($name))
    }};
}

fn no_operator(op: BinaryOp) -> FdwError {
    FdwError::new(SqlState::UNDEFINED_FUNCTION, format!("operator {} cannot be evaluated on these operands", op.sql()))
}

fn f64_arith(op: BinaryOp, a: f64, b: f64) -> FdwResult<f64> {
    let fin = a.is_infinite() || b.is_infinite();
    match op {
        BinaryOp::Add => check_f64(a + b, fin, true),
        BinaryOp::Sub => check_f64(a - b, fin, true),
        BinaryOp::Mul => check_f64(a * b, fin, a == 0.0 || b == 0.0),
        BinaryOp::Div => {
            if b == 0.0 {
                return Err(div_zero());
            }
            check_f64(a / b, a.is_infinite(), a == 0.0 || b.is_infinite())
        }
        BinaryOp::Mod => {
            if b == 0.0 {
                return Err(div_zero());
            }
            Ok(a % b)
        }
        BinaryOp::Pow => pow_f64(a, b),
        _ => Err(no_operator(op)),
    }
}

/// `float8 ^ float8` with PostgreSQL's error cases.
pub(crate) fn pow_f64(a: f64, b: f64) -> FdwResult<f64> {
    if a == 0.0 && b < 0.0 {
        return Err(FdwError::new(SqlState("2201F"), "zero raised to a negative power is undefined"));
    }
    if a < 0.0 && b.fract() != 0.0 && b.is_finite() {
        return Err(FdwError::new(
            SqlState("2201F"),
            "a negative number raised to a non-integer power yields a complex result",
        ));
    }
    let r = a.powf(b);
    check_f64(r, a.is_infinite() || b.is_infinite(), a == 0.0 || b.is_infinite() || r != 0.0 || b < 0.0)
}

fn numeric_arith(op: BinaryOp, a: &Decimal, b: &Decimal) -> FdwResult<Decimal> {
    match op {
        BinaryOp::Add => a.checked_add(*b).ok_or_else(num::overflow),
        BinaryOp::Sub => a.checked_sub(*b).ok_or_else(num::overflow),
        BinaryOp::Mul => {
            let r = a.checked_mul(*b).ok_or_else(num::overflow)?;
            Ok(num::with_scale(r, a.scale() + b.scale()))
        }
        BinaryOp::Div => num::div(a, b),
        BinaryOp::Mod => {
            if b.is_zero() {
                return Err(div_zero());
            }
            let r = a.checked_rem(*b).ok_or_else(num::overflow)?;
            Ok(num::with_scale(r, a.scale().max(b.scale())))
        }
        BinaryOp::Pow => pow_numeric(a, b),
        _ => Err(no_operator(op)),
    }
}

/// `numeric ^ numeric` with PostgreSQL's result scale (at least 16 significant digits).
pub(crate) fn pow_numeric(a: &Decimal, b: &Decimal) -> FdwResult<Decimal> {
    if a.is_zero() && b.is_sign_negative() && !b.is_zero() {
        return Err(FdwError::new(SqlState("2201F"), "zero raised to a negative power is undefined"));
    }
    if a.is_sign_negative() && !a.is_zero() && !b.fract().is_zero() {
        return Err(FdwError::new(
            SqlState("2201F"),
            "a negative number raised to a non-integer power yields a complex result",
        ));
    }
    if b.fract().is_zero() {
        let e = b.to_i64().ok_or_else(num::overflow)?;
        let rscale = 16u32.max(a.scale());
        let r = if e >= 0 {
            a.checked_powi(e).ok_or_else(num::overflow)?
        } else {
            let p = a.checked_powi(-e).ok_or_else(num::overflow)?;
            Decimal::ONE.checked_div(p).ok_or_else(num::overflow)?
        };
        return Ok(num::with_scale(r, rscale));
    }
    let r = a.checked_powd(*b).ok_or_else(num::overflow)?;
    let approx = num::to_f64(&r).abs();
    let val = if approx > 0.0 { approx.log10().trunc() as i32 } else { 0 };
    let rscale = (16 - val).max(a.scale() as i32).max(b.scale() as i32).clamp(0, num::MAX_SCALE as i32) as u32;
    Ok(num::with_scale(r, rscale))
}

fn to_decimal(d: &Datum) -> Option<Decimal> {
    match d {
        Datum::Numeric(v) => Some(*v),
        _ => d.as_i64().map(Decimal::from),
    }
}

fn to_f64(d: &Datum) -> Option<f64> {
    match d {
        Datum::Float8(v) => Some(*v),
        Datum::Float4(v) => Some(*v as f64),
        Datum::Numeric(v) => Some(num::to_f64(v)),
        _ => d.as_i64().map(|v| v as f64),
    }
}

/// The boolean answer of a comparison operator for an ordering.
#[inline]
pub fn cmp_result(op: BinaryOp, ord: Ordering) -> bool {
    match op {
        BinaryOp::Eq | BinaryOp::IsNotDistinctFrom => ord == Ordering::Equal,
        BinaryOp::NotEq | BinaryOp::IsDistinctFrom => ord != Ordering::Equal,
        BinaryOp::Lt => ord == Ordering::Less,
        BinaryOp::LtEq => ord != Ordering::Greater,
        BinaryOp::Gt => ord == Ordering::Greater,
        BinaryOp::GtEq => ord != Ordering::Less,
        _ => false,
    }
}

/// The hot same-type integer, float and date cases of `binary`, small enough to inline into
/// the interpreter loop; `None` means "take the general path" (including NULL operands and
/// overflow, which the general path reports).
#[inline(always)]
pub fn fast_binary(op: BinaryOp, l: &Datum, r: &Datum) -> Option<Datum> {
    use Datum::*;
    match (l, r) {
        (Int4(a), Int4(b)) => match op {
            BinaryOp::Add => a.checked_add(*b).map(Int4),
            BinaryOp::Sub => a.checked_sub(*b).map(Int4),
            BinaryOp::Mul => a.checked_mul(*b).map(Int4),
            _ if op.is_comparison() => Some(Bool(cmp_result(op, a.cmp(b)))),
            _ => None,
        },
        (Int8(a), Int8(b)) => match op {
            BinaryOp::Add => a.checked_add(*b).map(Int8),
            BinaryOp::Sub => a.checked_sub(*b).map(Int8),
            BinaryOp::Mul => a.checked_mul(*b).map(Int8),
            _ if op.is_comparison() => Some(Bool(cmp_result(op, a.cmp(b)))),
            _ => None,
        },
        (Date(a), Date(b)) if op.is_comparison() => Some(Bool(cmp_result(op, a.cmp(b)))),
        (Float8(a), Float8(b)) if op.is_comparison() && !a.is_nan() && !b.is_nan() => {
            Some(Bool(cmp_result(op, a.partial_cmp(b).unwrap_or(Ordering::Equal))))
        }
        _ => None,
    }
}

/// Compares two non-null datums with a comparison operator; `bpchar` for `char(n)` operands.
#[inline]
pub fn compare(op: BinaryOp, l: &Datum, r: &Datum, bpchar: bool) -> bool {
    let ord = match (l, r) {
        (Datum::Int4(a), Datum::Int4(b)) => a.cmp(b),
        (Datum::Int8(a), Datum::Int8(b)) => a.cmp(b),
        _ if bpchar => cmp_bpchar(l, r),
        _ => cmp_datum(l, r),
    };
    cmp_result(op, ord)
}

/// Adds months to a day number, clamping the day to the end of the month
/// (`2020-01-31 + 1 month = 2020-02-29`).
fn add_months_days(days: i64, months: i32) -> FdwResult<i64> {
    if months == 0 {
        return Ok(days);
    }
    let (y, m, d) = calendar::ymd_from_days(days);
    let total = y * 12 + (m as i64 - 1) + months as i64;
    let ny = total.div_euclid(12);
    let nm = (total.rem_euclid(12) + 1) as u32;
    let nd = d.min(calendar::days_in_month(ny, nm));
    Ok(calendar::days_from_ymd(ny, nm, nd))
}

/// `timestamp + interval` as PostgreSQL: months first (clamped), then days, then time.
pub fn ts_plus_interval(ts: i64, iv: &Interval) -> FdwResult<i64> {
    if ts == TS_NEG_INFINITY || ts == TS_POS_INFINITY {
        return Ok(ts);
    }
    let days = ts.div_euclid(USECS_PER_DAY);
    let tod = ts.rem_euclid(USECS_PER_DAY);
    let days = add_months_days(days, iv.months)? + iv.days as i64;
    days.checked_mul(USECS_PER_DAY)
        .and_then(|v| v.checked_add(tod))
        .and_then(|v| v.checked_add(iv.micros))
        .filter(|v| *v != TS_NEG_INFINITY && *v != TS_POS_INFINITY)
        .ok_or_else(ts_range)
}

fn neg_interval(iv: &Interval) -> FdwResult<Interval> {
    Ok(Interval::new(
        iv.months.checked_neg().ok_or_else(interval_range)?,
        iv.days.checked_neg().ok_or_else(interval_range)?,
        iv.micros.checked_neg().ok_or_else(interval_range)?,
    ))
}

/// PostgreSQL's `justify_hours`: whole days out of the time part, signs made consistent.
pub fn justify_hours(mut iv: Interval) -> Interval {
    let extra = iv.micros / USECS_PER_DAY;
    iv.micros -= extra * USECS_PER_DAY;
    iv.days = iv.days.saturating_add(extra as i32);
    if iv.days > 0 && iv.micros < 0 {
        iv.micros += USECS_PER_DAY;
        iv.days -= 1;
    } else if iv.days < 0 && iv.micros > 0 {
        iv.micros -= USECS_PER_DAY;
        iv.days += 1;
    }
    iv
}

/// `timestamp - timestamp`: an interval of days and time (`justify_hours` applied).
pub fn ts_minus_ts(a: i64, b: i64) -> FdwResult<Interval> {
    if [a, b].iter().any(|v| *v == TS_NEG_INFINITY || *v == TS_POS_INFINITY) {
        return Err(FdwError::new(SqlState::DATETIME_FIELD_OVERFLOW, "cannot subtract infinite timestamps"));
    }
    let diff = a.checked_sub(b).ok_or_else(interval_range)?;
    Ok(justify_hours(Interval::new(0, 0, diff)))
}

/// `interval * factor` (and `/` with `1/factor` semantics via `divide`) as PostgreSQL's
/// `interval_mul`: fractional months spill into days (30 per month), fractional days into
/// time.
pub fn interval_scale(iv: &Interval, factor: f64, divide: bool) -> FdwResult<Interval> {
    if divide && factor == 0.0 {
        return Err(div_zero());
    }
    let apply = |v: f64| if divide { v / factor } else { v * factor };
    let m = apply(iv.months as f64);
    let d = apply(iv.days as f64);
    if !m.is_finite() || !d.is_finite() || m.abs() >= i32::MAX as f64 || d.abs() >= i32::MAX as f64 {
        return Err(interval_range());
    }
    let months = m.trunc() as i32;
    let mut days = d.trunc() as i32;
    let round_us = |v: f64| (v * 1e6).round() / 1e6;
    let month_rem_days = round_us((m - months as f64) * 30.0);
    let mut sec_rem = round_us((d - days as f64 + month_rem_days - month_rem_days.trunc()) * 86400.0);
    if sec_rem.abs() >= 86400.0 {
        let whole = (sec_rem / 86400.0).trunc();
        days += whole as i32;
        sec_rem -= whole * 86400.0;
    }
    days += month_rem_days.trunc() as i32;
    let t = (apply(iv.micros as f64) + sec_rem * 1e6).round();
    if !t.is_finite() || t.abs() >= i64::MAX as f64 {
        return Err(interval_range());
    }
    Ok(Interval::new(months, days, t as i64))
}

fn date_plus_days(d: i32, n: i64) -> FdwResult<Datum> {
    if d == DATE_NEG_INFINITY || d == DATE_POS_INFINITY {
        return Ok(Datum::Date(d));
    }
    let r = d as i64 + n;
    if r <= DATE_NEG_INFINITY as i64 || r >= DATE_POS_INFINITY as i64 {
        return Err(date_range());
    }
    Ok(Datum::Date(r as i32))
}

/// Evaluates `l op r` on non-null operands. Comparison operators compare with the total
/// order (`bpchar` selects blank-insensitive text comparison); `And`/`Or` are handled by the
/// program, not here.
pub fn binary(op: BinaryOp, l: &Datum, r: &Datum, bpchar: bool) -> FdwResult<Datum> {
    use Datum::*;
    if op.is_comparison() || matches!(op, BinaryOp::IsDistinctFrom | BinaryOp::IsNotDistinctFrom) {
        return Ok(Bool(compare(op, l, r, bpchar)));
    }
    match (l, r) {
        (Int4(a), Int4(b)) if op != BinaryOp::Pow => int_arith!(op, *a, *b, Int4, "integer"),
        (Int8(a), Int8(b)) if op != BinaryOp::Pow => int_arith!(op, *a, *b, Int8, "bigint"),
        (Int2(a), Int2(b)) if op != BinaryOp::Pow => int_arith!(op, *a, *b, Int2, "smallint"),
        (Float8(a), Float8(b)) => f64_arith(op, *a, *b).map(Float8),
        (Numeric(a), Numeric(b)) => numeric_arith(op, a, b).map(Numeric),
        (Float4(a), Float4(b)) => {
            let (a, b) = (*a, *b);
            let fin = a.is_infinite() || b.is_infinite();
            let v = match op {
                BinaryOp::Add => check_f32(a + b, fin, true)?,
                BinaryOp::Sub => check_f32(a - b, fin, true)?,
                BinaryOp::Mul => check_f32(a * b, fin, a == 0.0 || b == 0.0)?,
                BinaryOp::Div => {
                    if b == 0.0 {
                        return Err(div_zero());
                    }
                    check_f32(a / b, a.is_infinite(), a == 0.0 || b.is_infinite())?
                }
                _ => return f64_arith(op, a as f64, b as f64).map(Float8),
            };
            Ok(Float4(v))
        }
        (Text(a), Text(b)) if op == BinaryOp::Concat => {
            let mut s = String::with_capacity(a.len() + b.len());
            s.push_str(a);
            s.push_str(b);
            Ok(Datum::text(&s))
        }
        (Date(a), Date(b)) if op == BinaryOp::Sub => {
            if [*a, *b].iter().any(|v| *v == DATE_NEG_INFINITY || *v == DATE_POS_INFINITY) {
                return Err(FdwError::new(SqlState::DATETIME_FIELD_OVERFLOW, "cannot subtract infinite dates"));
            }
            Ok(Int4(a - b))
        }
        (Date(a), Int4(_) | Int2(_) | Int8(_)) if matches!(op, BinaryOp::Add | BinaryOp::Sub) => {
            let n = r.as_i64().unwrap_or(0);
            date_plus_days(*a, if op == BinaryOp::Sub { -n } else { n })
        }
        (Int4(_) | Int2(_) | Int8(_), Date(b)) if op == BinaryOp::Add => date_plus_days(*b, l.as_i64().unwrap_or(0)),
        (Date(_) | Timestamp(_), Interval(iv)) if matches!(op, BinaryOp::Add | BinaryOp::Sub) => {
            let ts = match l {
                Date(d) => date_to_ts(*d),
                Timestamp(t) => *t,
                _ => 0,
            };
            let iv = if op == BinaryOp::Sub { neg_interval(iv)? } else { *iv };
            ts_plus_interval(ts, &iv).map(Timestamp)
        }
        (Interval(iv), Date(_) | Timestamp(_)) if op == BinaryOp::Add => binary(op, r, l, bpchar),
        (Timestamp(a), Timestamp(b)) if op == BinaryOp::Sub => ts_minus_ts(*a, *b).map(Interval),
        (Timestamp(a), Date(b)) if op == BinaryOp::Sub => ts_minus_ts(*a, date_to_ts(*b)).map(Interval),
        (Date(a), Timestamp(b)) if op == BinaryOp::Sub => ts_minus_ts(date_to_ts(*a), *b).map(Interval),
        (Interval(a), Interval(b)) if matches!(op, BinaryOp::Add | BinaryOp::Sub) => {
            let b = if op == BinaryOp::Sub { neg_interval(b)? } else { *b };
            Ok(Interval(crate::types::Interval::new(
                a.months.checked_add(b.months).ok_or_else(interval_range)?,
                a.days.checked_add(b.days).ok_or_else(interval_range)?,
                a.micros.checked_add(b.micros).ok_or_else(interval_range)?,
            )))
        }
        (Interval(iv), _) if matches!(op, BinaryOp::Mul | BinaryOp::Div) && to_f64(r).is_some() => {
            interval_scale(iv, to_f64(r).unwrap_or(1.0), op == BinaryOp::Div).map(Interval)
        }
        (_, Interval(iv)) if op == BinaryOp::Mul && to_f64(l).is_some() => {
            interval_scale(iv, to_f64(l).unwrap_or(1.0), false).map(Interval)
        }
        _ => promote(op, l, r),
    }
}

/// Mixed operand types: promote along int2 < int4 < int8 < numeric < float8.
fn promote(op: BinaryOp, l: &Datum, r: &Datum) -> FdwResult<Datum> {
    use Datum::*;
    let any_float = matches!(l, Float4(_) | Float8(_)) || matches!(r, Float4(_) | Float8(_));
    let any_num = matches!(l, Numeric(_)) || matches!(r, Numeric(_));
    if op == BinaryOp::Pow && l.as_i64().is_some() && r.as_i64().is_some() {
        let (a, b) = (to_f64(l).unwrap_or(0.0), to_f64(r).unwrap_or(0.0));
        return f64_arith(op, a, b).map(Float8);
    }
    if any_float {
        if let (Some(a), Some(b)) = (to_f64(l), to_f64(r)) {
            return f64_arith(op, a, b).map(Float8);
        }
    } else if any_num {
        if let (Some(a), Some(b)) = (to_decimal(l), to_decimal(r)) {
            return numeric_arith(op, &a, &b).map(Numeric);
        }
    } else if let (Some(a), Some(b)) = (l.as_i64(), r.as_i64()) {
        let wide = matches!(l, Int8(_)) || matches!(r, Int8(_));
        return if wide {
            int_arith!(op, a, b, Int8, "bigint")
        } else {
            int_arith!(op, a as i32, b as i32, Int4, "integer")
        };
    }
    Err(FdwError::new(
        SqlState::UNDEFINED_FUNCTION,
        format!(
            "operator does not exist: {} {} {}",
            l.natural_type().sql_name(),
            op.sql(),
            r.natural_type().sql_name()
        ),
    ))
}

/// Unary minus with overflow checks.
pub fn negate(v: &Datum) -> FdwResult<Datum> {
    use Datum::*;
    Ok(match v {
        Int2(a) => Int2(a.checked_neg().ok_or_else(|| int_range("smallint"))?),
        Int4(a) => Int4(a.checked_neg().ok_or_else(|| int_range("integer"))?),
        Int8(a) => Int8(a.checked_neg().ok_or_else(|| int_range("bigint"))?),
        Float4(a) => Float4(-a),
        Float8(a) => Float8(-a),
        Numeric(a) => Numeric(-a),
        Interval(iv) => Interval(neg_interval(iv)?),
        Null => Null,
        other => {
            return Err(FdwError::new(
                SqlState::UNDEFINED_FUNCTION,
                format!("operator does not exist: - {}", other.natural_type().sql_name()),
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::DataType;

    fn n(s: &str) -> Datum {
        DataType::Numeric(None).parse_text(s).unwrap()
    }
    fn b(op: BinaryOp, l: Datum, r: Datum) -> String {
        binary(op, &l, &r, false).unwrap().to_text()
    }
    fn iv(s: &str) -> Datum {
        DataType::Interval.parse_text(s).unwrap()
    }
    fn ts(s: &str) -> Datum {
        DataType::Timestamp.parse_text(s).unwrap()
    }
    fn d(s: &str) -> Datum {
        DataType::Date.parse_text(s).unwrap()
    }

    #[test]
    fn arithmetic_matches_postgres() {
        use BinaryOp::*;
        // Expected values verified with psql.
        assert_eq!(b(Div, Datum::Int4(7), Datum::Int4(2)), "3");
        assert_eq!(b(Div, Datum::Int4(-7), Datum::Int4(2)), "-3");
        assert_eq!(b(Mod, Datum::Int4(-7), Datum::Int4(3)), "-1");
        assert_eq!(b(Mod, n("-7"), n("3")), "-1");
        assert_eq!(b(Mod, n("7"), n("3.5")), "0.0");
        assert_eq!(b(Mul, n("1.5"), n("2.25")), "3.375");
        assert_eq!(b(Pow, n("2"), n("3")), "8.0000000000000000");
        assert_eq!(b(Pow, n("2.5"), n("2")), "6.2500000000000000");
        assert_eq!(b(Pow, n("2"), n("0.5")), "1.4142135623730950");
        assert_eq!(b(Pow, n("3"), n("0.5")), "1.7320508075688773");
        assert_eq!(b(Pow, n("100"), n("0.5")), "10.000000000000000");
        assert_eq!(b(Pow, n("2"), n("-2")), "0.2500000000000000");
        assert_eq!(b(Pow, n("1.1"), n("10")), "2.5937424601000000");
        assert_eq!(b(Pow, Datum::Float8(2.0), Datum::Float8(3.0)), "8");
        assert_eq!(b(Div, Datum::Float8(3.0), Datum::Float8(2.0)), "1.5");
        let e = binary(Add, &Datum::Int4(i32::MAX), &Datum::Int4(1), false).unwrap_err();
        assert_eq!((e.message.as_str(), e.sqlstate), ("integer out of range", SqlState::NUMERIC_VALUE_OUT_OF_RANGE));
        let e = binary(Mul, &Datum::Int2(-32768), &Datum::Int2(-1), false).unwrap_err();
        assert_eq!(e.message, "smallint out of range");
        let e = binary(Div, &Datum::Int4(1), &Datum::Int4(0), false).unwrap_err();
        assert_eq!((e.message.as_str(), e.sqlstate), ("division by zero", SqlState::DIVISION_BY_ZERO));
        assert_eq!(
            binary(Mul, &Datum::Float8(1e308), &Datum::Float8(10.0), false).unwrap_err().message,
            "value out of range: overflow"
        );
        assert_eq!(
            binary(Mul, &Datum::Float8(1e-308), &Datum::Float8(1e-308), false).unwrap_err().message,
            "value out of range: underflow"
        );
        assert_eq!(
            binary(Div, &Datum::Float8(1.0), &Datum::Float8(0.0), false).unwrap_err().message,
            "division by zero"
        );
        assert_eq!(binary(Div, &n("1"), &n("0"), false).unwrap_err().sqlstate, SqlState::DIVISION_BY_ZERO);
        assert_eq!(b(Add, Datum::Int4(1), Datum::Int8(2)), "3");
        assert_eq!(b(Add, Datum::Int4(1), n("2.5")), "3.5");
    }

    #[test]
    fn datetime_arithmetic_matches_postgres() {
        use BinaryOp::*;
        assert_eq!(b(Mul, iv("1 day"), Datum::Float8(1.5)), "1 day 12:00:00");
        assert_eq!(b(Mul, iv("1 mon"), Datum::Float8(0.5)), "15 days");
        assert_eq!(b(Div, iv("1 hour"), Datum::Float8(3.0)), "00:20:00");
        assert_eq!(b(Sub, ts("2020-03-01"), ts("2020-01-01")), "60 days");
        assert_eq!(b(Sub, ts("2020-01-01 10:00"), ts("2019-12-31 12:30")), "21:30:00");
        assert_eq!(b(Sub, d("2020-03-01"), d("2020-01-01")), "60");
        assert_eq!(b(Add, d("2020-01-31"), iv("1 month")), "2020-02-29 00:00:00");
        assert_eq!(b(Add, d("2020-01-01"), Datum::Int4(30)), "2020-01-31");
        assert_eq!(b(Sub, iv("1 day"), iv("1 hour")), "1 day -01:00:00");
        assert_eq!(negate(&iv("1 day")).unwrap().to_text(), "-1 days");
        assert_eq!(b(Sub, d("1998-12-01"), iv("90 days")), "1998-09-02 00:00:00");
    }

    #[test]
    fn comparisons() {
        use BinaryOp::*;
        assert_eq!(b(Lt, Datum::text("a"), Datum::text("b")), "t");
        assert_eq!(binary(Eq, &Datum::text("ab "), &Datum::text("ab"), true).unwrap(), Datum::Bool(true));
        assert_eq!(b(Eq, n("1.0"), n("1.00")), "t");
        assert_eq!(b(Eq, Datum::Float8(f64::NAN), Datum::Float8(f64::NAN)), "t");
        assert_eq!(b(Gt, Datum::Float8(f64::NAN), Datum::Float8(1e300)), "t");
        assert_eq!(b(Concat, Datum::text("abc"), Datum::text("1")), "abc1");
    }
}
