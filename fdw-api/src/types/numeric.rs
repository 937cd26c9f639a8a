//! `numeric` with PostgreSQL's scale rules on top of `rust_decimal`.
//!
//! PostgreSQL keeps a display scale with every numeric and derives result scales from the
//! operands: `+`/`-` keep the larger scale, `*` adds the scales, `/` picks at least 16
//! significant digits (`select_div_scale`). `rust_decimal` keeps a scale too, so the value
//! `1.50` is stored as mantissa 150, scale 2 and prints as PostgreSQL prints it.
//!
//! Limits (simplification): 28 significant digits (96-bit mantissa) and scale at most 28.
//! Input with more fractional digits than fit is rounded; a value whose integer part does
//! not fit is `value overflows numeric format` (22003). `NaN` and `Infinity` are rejected,
//! since `rust_decimal` has no such values.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::{FdwError, FdwResult, SqlState};

/// The largest scale a numeric may carry.
pub const MAX_SCALE: u32 = 28;
/// The largest mantissa `rust_decimal` can hold (2^96 - 1).
const MAX_MANTISSA: u128 = (1u128 << 96) - 1;

pub(crate) fn overflow() -> FdwError {
    FdwError::new(SqlState::NUMERIC_VALUE_OUT_OF_RANGE, "value overflows numeric format")
}

fn syntax(s: &str) -> FdwError {
    FdwError::new(SqlState::INVALID_TEXT_REPRESENTATION, format!("invalid input syntax for type numeric: \"{s}\""))
}

/// Parses numeric input: blanks around, sign, digits with an optional point, optional
/// exponent. The scale is the number of fractional digits after applying the exponent
/// (`1.50` has scale 2, `1.5e1` scale 0), as PostgreSQL keeps it.
pub fn parse_numeric(s: &str) -> FdwResult<Decimal> {
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace());
    let b = t.as_bytes();
    let mut i = 0;
    let neg = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let body = &t[i..];
    if body.eq_ignore_ascii_case("nan") || body.eq_ignore_ascii_case("infinity") || body.eq_ignore_ascii_case("inf") {
        return Err(FdwError::new(
            SqlState::FEATURE_NOT_SUPPORTED,
            format!("numeric value \"{s}\" is not supported (no NaN or Infinity for numeric)"),
        ));
    }
    // Mantissa digits beyond what u128 holds are dropped; `dropped_int` counts integer
    // digits dropped (they scale the value), `round_digit` is the first dropped digit.
    let mut mant: u128 = 0;
    let mut sig = 0u32;
    let mut frac_digits: i64 = 0;
    let mut dropped_int: i64 = 0;
    let mut round_digit: Option<u8> = None;
    let mut any_digit = false;
    let mut seen_point = false;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            any_digit = true;
            let d = c - b'0';
            if sig < 38 {
                mant = mant * 10 + d as u128;
                if mant != 0 {
                    sig += 1;
                }
                if seen_point {
                    frac_digits += 1;
                }
            } else {
                if round_digit.is_none() {
                    round_digit = Some(d);
                }
                if !seen_point {
                    dropped_int += 1;
                }
            }
        } else if c == b'.' && !seen_point {
            seen_point = true;
        } else {
            break;
        }
        i += 1;
    }
    if !any_digit {
        return Err(syntax(s));
    }
    let mut exp: i64 = 0;
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        let eneg = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            exp = (exp * 10 + (b[i] - b'0') as i64).min(100_000);
            i += 1;
        }
        if start == i {
            return Err(syntax(s));
        }
        if eneg {
            exp = -exp;
        }
    }
    if i != b.len() {
        return Err(syntax(s));
    }
    // value = mant * 10^(dropped_int + exp - frac_digits)
    let mut scale: i64 = frac_digits - exp - dropped_int;
    let mut pending_round = round_digit.is_some_and(|d| d >= 5);
    while scale > MAX_SCALE as i64 || mant > MAX_MANTISSA {
        if scale <= 0 {
            if mant == 0 {
                break;
            }
            return Err(overflow());
        }
        let d = (mant % 10) as u8;
        mant /= 10;
        scale -= 1;
        pending_round = d >= 5;
        if d >= 5 {
            // Half away from zero, applied once when the loop stops.
        }
    }
    if pending_round {
        mant += 1;
        if mant > MAX_MANTISSA {
            if scale <= 0 {
                return Err(overflow());
            }
            mant /= 10;
            scale -= 1;
        }
    }
    if scale < 0 {
        if mant == 0 {
            scale = 0;
        } else {
            while scale < 0 {
                mant = mant.checked_mul(10).filter(|m| *m <= MAX_MANTISSA).ok_or_else(overflow)?;
                scale += 1;
            }
        }
    }
    let mut d = Decimal::from_i128_with_scale(mant as i128, scale as u32);
    if neg && mant != 0 {
        d.set_sign_negative(true);
    }
    Ok(d)
}

/// Appends PostgreSQL's output of a numeric (its scale kept, no `-0`).
pub fn write_numeric(out: &mut String, v: &Decimal) {
    use std::fmt::Write;
    if v.is_zero() && v.is_sign_negative() {
        let mut z = *v;
        z.set_sign_positive(true);
        let _ = write!(out, "{z}");
    } else {
        let _ = write!(out, "{v}");
    }
}

/// Gives `v` exactly `scale` fractional digits: rounds half away from zero when reducing,
/// pads with zeros when increasing (as far as 28 digits allow).
pub fn with_scale(v: Decimal, scale: u32) -> Decimal {
    let scale = scale.min(MAX_SCALE);
    if v.scale() > scale {
        v.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero)
    } else if v.scale() < scale {
        let mut r = v;
        // `rescale` pads as far as the mantissa allows; the value never changes.
        let mut target = scale;
        loop {
            let mut t = v;
            t.rescale(target);
            if t == v && t.scale() == target {
                r = t;
                break;
            }
            if target == v.scale() {
                break;
            }
            target -= 1;
        }
        r
    } else {
        v
    }
}

/// Applies a `numeric(precision, scale)` modifier: round to the scale, then fail with
/// PostgreSQL's `numeric field overflow` when the integer part has too many digits.
pub fn apply_typmod(v: Decimal, precision: u8, scale: u8) -> FdwResult<Decimal> {
    let r = with_scale(v, scale as u32);
    let int_digits_allowed = precision as i32 - scale as i32;
    // Digits of the integer part, from the mantissa (no allocation: this runs per value
    // when loading numeric(p,s) columns).
    let int_part = r.mantissa().unsigned_abs() / 10u128.pow(r.scale());
    let n_int_digits = if int_part == 0 { 0 } else { int_part.ilog10() as i32 + 1 };
    if n_int_digits > int_digits_allowed {
        return Err(typmod_overflow(precision, scale));
    }
    Ok(r)
}

/// PostgreSQL's `numeric field overflow` for a `numeric(precision, scale)` target.
pub fn typmod_overflow(precision: u8, scale: u8) -> FdwError {
    let allowed = precision as i32 - scale as i32;
    let limit = if allowed <= 0 { "1".to_string() } else { format!("10^{allowed}") };
    FdwError::new(SqlState::NUMERIC_VALUE_OUT_OF_RANGE, "numeric field overflow").with_detail(format!(
        "A field with precision {precision}, scale {scale} must round to an absolute value less than {limit}."
    ))
}

/// PostgreSQL stores numerics in base-10000 digits; its scale choices depend on the weight
/// (position of the first non-zero base-10000 digit) and that digit's value.
fn weight_and_first_digit(v: &Decimal) -> (i32, u32) {
    raw_weight_and_first_digit(v.mantissa().unsigned_abs(), v.scale())
}

/// `weight_and_first_digit` of the value `m / 10^scale`.
fn raw_weight_and_first_digit(m: u128, scale: u32) -> (i32, u32) {
    if m == 0 {
        return (0, 0);
    }
    let ndigits = (m.ilog10() + 1) as i32;
    let p10 = ndigits - 1 - scale as i32;
    let weight = p10.div_euclid(4);
    let k = -(scale as i32) - 4 * weight;
    let group = if k >= 0 { m * 10u128.pow(k as u32) } else { m / 10u128.pow((-k) as u32) };
    (weight, (group % 10000) as u32)
}

/// The result scale PostgreSQL chooses for `a / b` (`select_div_scale`): enough for 16
/// significant digits, at least either operand's scale.
pub fn div_scale(a: &Decimal, b: &Decimal) -> u32 {
    raw_div_scale(a.mantissa().unsigned_abs(), a.scale(), b.mantissa().unsigned_abs(), b.scale())
}

/// `div_scale` on raw mantissas and (display) scales.
pub(crate) fn raw_div_scale(am: u128, a_scale: u32, bm: u128, b_scale: u32) -> u32 {
    let (w1, f1) = raw_weight_and_first_digit(am, a_scale);
    let (w2, f2) = raw_weight_and_first_digit(bm, b_scale);
    let mut qweight = w1 - w2;
    if f1 <= f2 {
        qweight -= 1;
    }
    let rscale = (16 - qweight * 4).max(a_scale as i32).max(b_scale as i32).max(0);
    rscale.min(MAX_SCALE as i32) as u32
}

/// `a / b` with PostgreSQL's result scale.
pub fn div(a: &Decimal, b: &Decimal) -> FdwResult<Decimal> {
    if b.is_zero() {
        return Err(FdwError::new(SqlState::DIVISION_BY_ZERO, "division by zero"));
    }
    let rscale = div_scale(a, b);
    if let Some(q) = div_exact(a, b, rscale) {
        return Ok(q);
    }
    let q = a.checked_div(*b).ok_or_else(overflow)?;
    Ok(with_scale(q, rscale))
}

/// `a / b` rounded (half away from zero) at exactly `rscale` digits by long division on the
/// mantissas, as PostgreSQL's `div_var` rounds; `None` when the result does not fit (the
/// caller then falls back to `rust_decimal`'s 28-digit division).
pub fn div_exact(a: &Decimal, b: &Decimal, rscale: u32) -> Option<Decimal> {
    let negative = a.is_sign_negative() != b.is_sign_negative();
    raw_div(a.mantissa().unsigned_abs(), a.scale(), b.mantissa().unsigned_abs(), b.scale(), rscale, negative)
}

/// `(am / 10^a_scale) / (bm / 10^b_scale)` rounded half away from zero at `rscale` digits;
/// `None` when it does not fit a numeric.
pub(crate) fn raw_div(am: u128, a_scale: u32, bm: u128, b_scale: u32, rscale: u32, negative: bool) -> Option<Decimal> {
    if bm == 0 || bm > MAX_MANTISSA * 1000 {
        return None;
    }
    // a / b = (am / bm) * 10^(b_scale - a_scale); we need k fractional digits of am / bm.
    let k = rscale as i64 + b_scale as i64 - a_scale as i64;
    let (mut q, mut r, divisor) = if k >= 0 {
        (am / bm, am % bm, bm)
    } else {
        let d = bm.checked_mul(10u128.checked_pow((-k) as u32)?)?;
        (am / d, am % d, d)
    };
    for _ in 0..k.max(0) {
        // r < divisor = bm, small enough (checked above) that r * 10 cannot overflow.
        let r10 = r * 10;
        q = q.checked_mul(10)?.checked_add(r10 / divisor)?;
        r = r10 % divisor;
    }
    if r.checked_mul(2)? >= divisor {
        q += 1;
    }
    if q > MAX_MANTISSA {
        return None;
    }
    let mut d = Decimal::from_i128_with_scale(q as i128, rscale);
    if negative && q != 0 {
        d.set_sign_negative(true);
    }
    Some(d)
}

/// `sqrt(v)` rounded half away from zero at `rscale` digits, exactly (integer square root
/// over 256-bit intermediates), or `None` when the result does not fit a numeric.
pub fn sqrt_exact(v: &Decimal, rscale: u32) -> Option<Decimal> {
    if v.is_sign_negative() && !v.is_zero() {
        return None;
    }
    // sqrt(m / 10^s) * 10^(r+1) = sqrt(m * 10^(2r + 2 - s)).
    let e = 2 * rscale as i64 + 2 - v.scale() as i64;
    let m = v.mantissa().unsigned_abs();
    let n = if e >= 0 {
        let mut n = U256 { hi: 0, lo: m };
        for _ in 0..e {
            n = n.mul_small(10)?;
        }
        n
    } else {
        U256 { hi: 0, lo: m / 10u128.pow((-e) as u32) }
    };
    // Binary search for the largest r with r * r <= n; r < 2^104 is all a numeric can use.
    let (mut lo, mut hi) = (0u128, 1u128 << 104);
    if U256::square(hi) <= n {
        return None;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if U256::square(mid) <= n {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let (q, last) = (lo / 10, lo % 10);
    let q = if last >= 5 { q + 1 } else { q };
    if q > MAX_MANTISSA {
        return None;
    }
    Some(Decimal::from_i128_with_scale(q as i128, rscale))
}

/// Just enough of a 256-bit unsigned integer for `sqrt_exact`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct U256 {
    hi: u128,
    lo: u128,
}

impl U256 {
    fn mul_small(self, k: u64) -> Option<U256> {
        let k = k as u128;
        let lo_lo = (self.lo & u64::MAX as u128) * k;
        let lo_hi = (self.lo >> 64) * k + (lo_lo >> 64);
        let lo = (lo_hi << 64) | (lo_lo & u64::MAX as u128);
        let hi = self.hi.checked_mul(k)?.checked_add(lo_hi >> 64)?;
        Some(U256 { hi, lo })
    }
    /// `a * a` for `a < 2^127`.
    fn square(a: u128) -> U256 {
        let (a1, a0) = (a >> 64, a & u64::MAX as u128);
        let low = a0 * a0;
        let mid = a1 * a0; // counted twice
        let high = a1 * a1;
        let (mid2_lo, mid2_hi) = (mid << 65, mid >> 63);
        let (lo, carry) = low.overflowing_add(mid2_lo);
        U256 { hi: high + mid2_hi + carry as u128, lo }
    }
}

/// The scale PostgreSQL gives `sqrt(x)`: 16 significant digits, at least the input's scale.
pub fn sqrt_scale(v: &Decimal) -> u32 {
    let (w, _) = weight_and_first_digit(v);
    let sweight = (w + 1) * 4 / 2 - 1;
    (16 - sweight).max(v.scale() as i32).clamp(0, MAX_SCALE as i32) as u32
}

/// Converts to f64 (for float casts and statistics).
pub fn to_f64(v: &Decimal) -> f64 {
    v.to_f64().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        let mut o = String::new();
        write_numeric(&mut o, &parse_numeric(s).unwrap());
        o
    }

    #[test]
    fn numeric_input_keeps_scale() {
        assert_eq!(p("1.50"), "1.50");
        assert_eq!(p("1e5"), "100000");
        assert_eq!(p("1.5e1"), "15");
        assert_eq!(p("1.50e1"), "15.0");
        assert_eq!(p("-0.00"), "0.00");
        assert_eq!(p("  12  "), "12");
        assert_eq!(p(".5"), "0.5");
        assert_eq!(p("5."), "5");
        assert_eq!(p("1.5e-3"), "0.0015");
        assert_eq!(p("0.12345678901234567890123456789"), "0.1234567890123456789012345679");
        assert!(parse_numeric("abc").is_err());
        assert!(parse_numeric("1e").is_err());
        assert!(parse_numeric("").is_err());
        assert_eq!(parse_numeric("1e40").unwrap_err().sqlstate, SqlState::NUMERIC_VALUE_OUT_OF_RANGE);
    }

    #[test]
    fn division_scale_as_postgres() {
        let d = |a: &str, b: &str| {
            let mut o = String::new();
            write_numeric(&mut o, &div(&parse_numeric(a).unwrap(), &parse_numeric(b).unwrap()).unwrap());
            o
        };
        // Verified with psql.
        assert_eq!(d("1", "3"), "0.33333333333333333333");
        assert_eq!(d("10", "4"), "2.5000000000000000");
        assert_eq!(d("1000000", "3"), "333333.333333333333");
        assert_eq!(d("1.5", "2"), "0.75000000000000000000");
        assert_eq!(d("3", "1.5"), "2.0000000000000000");
        assert_eq!(d("-2", "3"), "-0.66666666666666666667");
        assert_eq!(d("123456.789", "0.007"), "17636684.142857142857");
        assert_eq!(d("0", "-3"), "0.00000000000000000000");
        assert_eq!(d("1", "-0.0000001"), "-10000000.000000000000");
        let sq = |v: &str, r: u32| sqrt_exact(&parse_numeric(v).unwrap(), r).unwrap().to_string();
        assert_eq!(sq("2", 15), "1.414213562373095");
        assert_eq!(sq("1050733446441097.050531159515", 12), "32415018.840671634731");
        assert_eq!(sq("0", 3), "0.000");
    }

    #[test]
    fn typmod_rounds_and_checks() {
        let n = |s: &str| parse_numeric(s).unwrap();
        assert_eq!(apply_typmod(n("1.005"), 5, 2).unwrap().to_string(), "1.01");
        assert_eq!(apply_typmod(n("-1.005"), 5, 2).unwrap().to_string(), "-1.01");
        assert_eq!(apply_typmod(n("3"), 5, 2).unwrap().to_string(), "3.00");
        let e = apply_typmod(n("12345.678"), 5, 2).unwrap_err();
        assert_eq!(e.message, "numeric field overflow");
        assert_eq!(
            e.detail.as_deref(),
            Some("A field with precision 5, scale 2 must round to an absolute value less than 10^3.")
        );
        let e = apply_typmod(n("1"), 2, 2).unwrap_err();
        assert_eq!(
            e.detail.as_deref(),
            Some("A field with precision 2, scale 2 must round to an absolute value less than 1.")
        );
        assert_eq!(apply_typmod(n("0.5"), 2, 2).unwrap().to_string(), "0.50");
    }
}
