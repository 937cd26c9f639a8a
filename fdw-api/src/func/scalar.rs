//! Evaluation of the built-in scalar functions on already-coerced arguments.
//!
//! Arguments arrive with the types `resolve_function` asked for, so each function matches
//! the datum variants it expects. Functions are strict (NULL in, NULL out) except `concat`,
//! `concat_ws`, `greatest` and `least`, which skip NULLs as in PostgreSQL.

use rust_decimal::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::{FdwError, FdwResult, SqlState};
use crate::eval::ops::{self, int_range};
use crate::expr::{BinaryOp, ScalarFunc};
use crate::types::compare::cmp_datum;
use crate::types::numeric as num;
use crate::types::text::{char_len, char_offset};
use crate::types::{DataType, Datum};

use super::datetime;

fn wrong_args(f: ScalarFunc) -> FdwError {
    FdwError::internal(format!("function {f:?} called with arguments of unexpected types"))
}

fn text(d: &Datum, f: ScalarFunc) -> FdwResult<&str> {
    d.as_str().ok_or_else(|| wrong_args(f))
}

fn int(d: &Datum, f: ScalarFunc) -> FdwResult<i64> {
    d.as_i64().ok_or_else(|| wrong_args(f))
}

/// Evaluates `f(args)`; `ret` is the resolved result type.
pub fn call_scalar(f: ScalarFunc, args: &[&Datum], ret: &DataType) -> FdwResult<Datum> {
    use ScalarFunc as F;
    // The result type follows from the coerced argument types; `ret` is kept for functions
    // whose result type is not (none at present).
    let _ = ret;
    match f {
        F::Concat => return Ok(concat(args, None)),
        F::ConcatWs => {
            return match args.split_first() {
                Some((Datum::Null, _)) | None => Ok(Datum::Null),
                Some((sep, rest)) => Ok(concat(rest, Some(text(sep, f)?))),
            }
        }
        F::Greatest | F::Least => return Ok(extreme(args, f == F::Greatest)),
        F::Random => return Ok(Datum::Float8(random())),
        F::Now => return Ok(Datum::Timestamp(datetime::statement_timestamp())),
        F::CurrentDate => {
            return Ok(Datum::Date(datetime::statement_timestamp().div_euclid(crate::types::USECS_PER_DAY) as i32))
        }
        _ => {}
    }
    if args.iter().any(|a| a.is_null()) {
        return Ok(Datum::Null);
    }
    match f {
        F::Abs => abs(args[0]),
        F::Round | F::Trunc => {
            let places = match args.get(1) {
                Some(p) => int(p, f)?,
                None => 0,
            };
            round_trunc(args[0], places, f == F::Round)
        }
        F::Ceil | F::Floor => ceil_floor(args[0], f == F::Ceil),
        F::Sqrt => match args[0] {
            Datum::Float8(v) => {
                if *v < 0.0 {
                    return Err(FdwError::new(SqlState("2201F"), "cannot take square root of a negative number"));
                }
                Ok(Datum::Float8(v.sqrt()))
            }
            Datum::Numeric(v) => {
                if v.is_sign_negative() && !v.is_zero() {
                    return Err(FdwError::new(SqlState("2201F"), "cannot take square root of a negative number"));
                }
                let rscale = num::sqrt_scale(v);
                if let Some(r) = num::sqrt_exact(v, rscale) {
                    return Ok(Datum::Numeric(r));
                }
                let r = v.sqrt().ok_or_else(num::overflow)?;
                Ok(Datum::Numeric(num::with_scale(r, rscale)))
            }
            _ => Err(wrong_args(f)),
        },
        F::Power => ops::binary(BinaryOp::Pow, args[0], args[1], false),
        F::Mod => ops::binary(BinaryOp::Mod, args[0], args[1], false),
        F::Sign => Ok(match args[0] {
            Datum::Float8(v) => Datum::Float8(if *v > 0.0 {
                1.0
            } else if *v < 0.0 {
                -1.0
            } else {
                0.0
            }),
            Datum::Numeric(v) => Datum::Numeric(Decimal::from(v.cmp(&Decimal::ZERO) as i32)),
            d => Datum::Float8(d.as_i64().ok_or_else(|| wrong_args(f))?.signum() as f64),
        }),
        F::Length | F::CharLength => {
            let s = text(args[0], f)?;
            Ok(Datum::Int4(char_len(s) as i32))
        }
        F::OctetLength => Ok(Datum::Int4(text(args[0], f)?.len() as i32)),
        F::Upper => Ok(Datum::text(&map_case(text(args[0], f)?, true))),
        F::Lower => Ok(Datum::text(&map_case(text(args[0], f)?, false))),
        F::Substring => {
            let s = text(args[0], f)?;
            let start = int(args[1], f)?;
            let len = match args.get(2) {
                Some(l) => Some(int(l, f)?),
                None => None,
            };
            substring(s, start, len).map(Datum::text)
        }
        F::Position => Ok(Datum::Int4(strpos(text(args[1], f)?, text(args[0], f)?))),
        F::StrPos => Ok(Datum::Int4(strpos(text(args[0], f)?, text(args[1], f)?))),
        F::BTrim | F::LTrim | F::RTrim => {
            let s = text(args[0], f)?;
            let set = match args.get(1) {
                Some(c) => text(c, f)?,
                None => " ",
            };
            let pred = |c: char| set.contains(c);
            Ok(Datum::text(match f {
                F::BTrim => s.trim_matches(pred),
                F::LTrim => s.trim_start_matches(pred),
                _ => s.trim_end_matches(pred),
            }))
        }
        F::Replace => {
            let (s, from, to) = (text(args[0], f)?, text(args[1], f)?, text(args[2], f)?);
            Ok(if from.is_empty() { Datum::text(s) } else { Datum::text(&s.replace(from, to)) })
        }
        F::Left | F::Right => {
            let s = text(args[0], f)?;
            let n = int(args[1], f)?;
            let len = char_len(s) as i64;
            let keep = if n >= 0 { n.min(len) } else { (len + n).max(0) } as usize;
            Ok(Datum::text(if f == F::Left {
                &s[..char_offset(s, keep)]
            } else {
                &s[char_offset(s, len as usize - keep)..]
            }))
        }
        F::Lpad | F::Rpad => {
            let s = text(args[0], f)?;
            let n = int(args[1], f)?.max(0) as usize;
            let fill = match args.get(2) {
                Some(p) => text(p, f)?,
                None => " ",
            };
            Ok(Datum::text(&pad(s, n, fill, f == F::Lpad)))
        }
        F::Repeat => {
            let s = text(args[0], f)?;
            let n = int(args[1], f)?.max(0) as usize;
            if s.len().saturating_mul(n) > (1 << 30) {
                return Err(FdwError::new(SqlState::PROGRAM_LIMIT_EXCEEDED, "requested length too large"));
            }
            Ok(Datum::text(&s.repeat(n)))
        }
        F::Reverse => Ok(Datum::text(&text(args[0], f)?.chars().rev().collect::<String>())),
        F::SplitPart => {
            let (s, delim, n) = (text(args[0], f)?, text(args[1], f)?, int(args[2], f)?);
            split_part(s, delim, n).map(Datum::text)
        }
        F::Initcap => Ok(Datum::text(&initcap(text(args[0], f)?))),
        F::Md5 => Ok(Datum::text(&super::md5::md5_hex(text(args[0], f)?.as_bytes()))),
        F::ToChar => datetime::to_char(args[0], text(args[1], f)?),
        F::Extract | F::DatePart => datetime::extract(text(args[0], f)?, args[1], f == F::Extract),
        F::DateTrunc => datetime::date_trunc(text(args[0], f)?, args[1]),
        F::Age => datetime::age(args),
        F::MakeDate => datetime::make_date(int(args[0], f)?, int(args[1], f)?, int(args[2], f)?),
        F::Concat | F::ConcatWs | F::Greatest | F::Least | F::Random | F::Now | F::CurrentDate => Err(wrong_args(f)),
    }
}

/// Upper/lower case character by character, as PostgreSQL's `towupper`/`towlower`: a
/// character whose case mapping is not a single character (`ß`) is left alone.
fn map_case(s: &str, upper: bool) -> String {
    if s.is_ascii() {
        return if upper { s.to_ascii_uppercase() } else { s.to_ascii_lowercase() };
    }
    fn single(mut it: impl Iterator<Item = char>, c: char) -> char {
        match (it.next(), it.next()) {
            (Some(x), None) => x,
            _ => c,
        }
    }
    s.chars().map(|c| if upper { single(c.to_uppercase(), c) } else { single(c.to_lowercase(), c) }).collect()
}

fn concat(args: &[&Datum], sep: Option<&str>) -> Datum {
    let mut out = String::new();
    let mut first = true;
    for a in args {
        if a.is_null() {
            continue;
        }
        if let (Some(s), false) = (sep, first) {
            out.push_str(s);
        }
        first = false;
        // concat uses each type's output function (`t` for true, unlike a cast to text).
        a.write_text(&mut out);
    }
    Datum::text(&out)
}

fn extreme(args: &[&Datum], greatest: bool) -> Datum {
    let mut best: Option<&Datum> = None;
    for a in args.iter().filter(|a| !a.is_null()) {
        best = match best {
            None => Some(a),
            Some(b) => {
                let ord = cmp_datum(a, b);
                if (greatest && ord.is_gt()) || (!greatest && ord.is_lt()) {
                    Some(a)
                } else {
                    Some(b)
                }
            }
        };
    }
    best.cloned().unwrap_or(Datum::Null)
}

thread_local! {
    static RNG: std::cell::Cell<u64> = std::cell::Cell::new(seed());
}

fn seed() -> u64 {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(1);
    (t as u64) ^ 0x9E37_79B9_7F4A_7C15 | 1
}

/// A uniform value in [0, 1) from a per-thread xorshift generator.
fn random() -> f64 {
    RNG.with(|r| {
        let mut x = r.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        r.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

fn abs(d: &Datum) -> FdwResult<Datum> {
    Ok(match d {
        Datum::Int2(v) => Datum::Int2(v.checked_abs().ok_or_else(|| int_range("smallint"))?),
        Datum::Int4(v) => Datum::Int4(v.checked_abs().ok_or_else(|| int_range("integer"))?),
        Datum::Int8(v) => Datum::Int8(v.checked_abs().ok_or_else(|| int_range("bigint"))?),
        Datum::Float4(v) => Datum::Float4(v.abs()),
        Datum::Float8(v) => Datum::Float8(v.abs()),
        Datum::Numeric(v) => Datum::Numeric(v.abs()),
        Datum::Interval(_) => {
            if cmp_datum(d, &Datum::Interval(Default::default())).is_lt() {
                ops::negate(d)?
            } else {
                d.clone()
            }
        }
        _ => return Err(wrong_args(ScalarFunc::Abs)),
    })
}

fn round_trunc(d: &Datum, places: i64, round: bool) -> FdwResult<Datum> {
    Ok(match d {
        Datum::Float8(v) => Datum::Float8(if round { v.round_ties_even() } else { v.trunc() }),
        Datum::Numeric(v) => {
            let strategy = if round { RoundingStrategy::MidpointAwayFromZero } else { RoundingStrategy::ToZero };
            if places >= 0 {
                let p = (places as u32).min(num::MAX_SCALE);
                Datum::Numeric(num::with_scale(v.round_dp_with_strategy(p, strategy), p))
            } else {
                // Negative places round to tens, hundreds...: scale down, round, scale up.
                let k = (-places).min(28) as u32;
                let factor = Decimal::from_i128_with_scale(10i128.pow(k), 0);
                let shifted = (v / factor).round_dp_with_strategy(0, strategy);
                let r = shifted.checked_mul(factor).ok_or_else(num::overflow)?;
                Datum::Numeric(num::with_scale(r, 0))
            }
        }
        _ => return Err(wrong_args(ScalarFunc::Round)),
    })
}

fn ceil_floor(d: &Datum, ceil: bool) -> FdwResult<Datum> {
    Ok(match d {
        Datum::Float8(v) => Datum::Float8(if ceil { v.ceil() } else { v.floor() }),
        Datum::Numeric(v) => Datum::Numeric(num::with_scale(if ceil { v.ceil() } else { v.floor() }, 0)),
        _ => return Err(wrong_args(ScalarFunc::Ceil)),
    })
}

/// SQL `substring(s from start for len)`: positions are 1-based and may start before the
/// string; a negative length is an error.
pub fn substring(s: &str, start: i64, len: Option<i64>) -> FdwResult<&str> {
    let end = match len {
        Some(l) if l < 0 => {
            return Err(FdwError::new(SqlState("22011"), "negative substring length not allowed"));
        }
        Some(l) => Some(start.saturating_add(l)),
        None => None,
    };
    let from = (start.max(1) - 1) as usize;
    let to = match end {
        Some(e) if e <= 1 => return Ok(""),
        Some(e) => (e - 1) as usize,
        None => usize::MAX,
    };
    if to <= from {
        return Ok("");
    }
    let b = char_offset(s, from);
    let e = if to == usize::MAX { s.len() } else { char_offset(s, to) };
    Ok(&s[b..e.max(b)])
}

fn strpos(hay: &str, needle: &str) -> i32 {
    match hay.find(needle) {
        Some(i) => char_len(&hay[..i]) as i32 + 1,
        None => 0,
    }
}

fn pad(s: &str, n: usize, fill: &str, left: bool) -> String {
    let len = char_len(s);
    if len >= n {
        return s[..char_offset(s, n)].to_string();
    }
    if fill.is_empty() {
        return s.to_string();
    }
    let padding: String = fill.chars().cycle().take(n - len).collect();
    if left {
        padding + s
    } else {
        let mut out = s.to_string();
        out.push_str(&padding);
        out
    }
}

fn split_part<'a>(s: &'a str, delim: &str, n: i64) -> FdwResult<&'a str> {
    if n == 0 {
        return Err(FdwError::new(SqlState::INVALID_PARAMETER_VALUE, "field position must not be zero"));
    }
    if delim.is_empty() {
        return Ok(if n == 1 || n == -1 { s } else { "" });
    }
    let parts: Vec<&str> = s.split(delim).collect();
    let idx = if n > 0 { n - 1 } else { parts.len() as i64 + n };
    Ok(if idx >= 0 { parts.get(idx as usize).copied().unwrap_or("") } else { "" })
}

fn initcap(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_word = false;
    for c in s.chars() {
        if c.is_alphanumeric() {
            if in_word {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            in_word = true;
        } else {
            out.push(c);
            in_word = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::DataType as T;

    fn call(f: ScalarFunc, args: &[Datum], ret: T) -> String {
        let refs: Vec<&Datum> = args.iter().collect();
        call_scalar(f, &refs, &ret).unwrap().to_text()
    }
    fn t(s: &str) -> Datum {
        Datum::text(s)
    }
    fn n(s: &str) -> Datum {
        T::Numeric(None).parse_text(s).unwrap()
    }

    #[test]
    fn math_functions_match_postgres() {
        use ScalarFunc::*;
        // Verified with psql.
        let nn = T::Numeric(None);
        assert_eq!(call(Round, &[n("2.5")], nn.clone()), "3");
        assert_eq!(call(Round, &[n("-2.5")], nn.clone()), "-3");
        assert_eq!(call(Round, &[Datum::Float8(2.5)], T::Float8), "2");
        assert_eq!(call(Round, &[Datum::Float8(3.5)], T::Float8), "4");
        assert_eq!(call(Round, &[n("1.2345"), Datum::Int4(2)], nn.clone()), "1.23");
        assert_eq!(call(Round, &[n("1234.5"), Datum::Int4(-2)], nn.clone()), "1200");
        assert_eq!(call(Round, &[n("1.5"), Datum::Int4(3)], nn.clone()), "1.500");
        assert_eq!(call(Trunc, &[n("1.999"), Datum::Int4(2)], nn.clone()), "1.99");
        assert_eq!(call(Trunc, &[n("-1.5")], nn.clone()), "-1");
        assert_eq!(call(Ceil, &[n("1.20")], nn.clone()), "2");
        assert_eq!(call(Floor, &[n("-1.2")], nn.clone()), "-2");
        assert_eq!(call(Abs, &[n("-1.50")], nn.clone()), "1.50");
        assert_eq!(call(Sign, &[n("-2.5")], nn.clone()), "-1");
        assert_eq!(call(Mod, &[Datum::Int4(-7), Datum::Int4(3)], T::Int4), "-1");
        assert_eq!(call(Sqrt, &[n("2")], nn.clone()), "1.414213562373095");
        assert_eq!(call(Sqrt, &[n("100")], nn.clone()), "10.000000000000000");
        assert_eq!(call(Sqrt, &[n("123.456")], nn), "11.111075555498666");
        assert!(call_scalar(Abs, &[&Datum::Int4(i32::MIN)], &T::Int4).is_err());
    }

    #[test]
    fn string_functions_match_postgres() {
        use ScalarFunc::*;
        assert_eq!(call(Substring, &[t("hello"), Datum::Int4(2), Datum::Int4(3)], T::Text), "ell");
        assert_eq!(call(Substring, &[t("hello"), Datum::Int4(0), Datum::Int4(3)], T::Text), "he");
        assert_eq!(call(Substring, &[t("hello"), Datum::Int4(-1)], T::Text), "hello");
        assert_eq!(call(Substring, &[t("hello"), Datum::Int4(3)], T::Text), "llo");
        let e = call_scalar(Substring, &[&t("hello"), &Datum::Int4(2), &Datum::Int4(-1)], &T::Text).unwrap_err();
        assert_eq!(e.message, "negative substring length not allowed");
        assert_eq!(call(Position, &[t("l"), t("hello")], T::Int4), "3");
        assert_eq!(call(StrPos, &[t("hello"), t("lo")], T::Int4), "4");
        assert_eq!(call(BTrim, &[t("xxhixx"), t("x")], T::Text), "hi");
        assert_eq!(call(LTrim, &[t("  hi")], T::Text), "hi");
        assert_eq!(call(RTrim, &[t("hi  ")], T::Text), "hi");
        assert_eq!(call(Lpad, &[t("hi"), Datum::Int4(5), t("ab")], T::Text), "abahi");
        assert_eq!(call(Rpad, &[t("hi"), Datum::Int4(5)], T::Text), "hi   ");
        assert_eq!(call(Lpad, &[t("hello"), Datum::Int4(3)], T::Text), "hel");
        assert_eq!(call(Left, &[t("hello"), Datum::Int4(-2)], T::Text), "hel");
        assert_eq!(call(Right, &[t("hello"), Datum::Int4(2)], T::Text), "lo");
        assert_eq!(call(Concat, &[t("a"), Datum::Null, Datum::Int4(1)], T::Text), "a1");
        assert_eq!(call(ConcatWs, &[t(","), t("a"), Datum::Null, Datum::Int4(2)], T::Text), "a,2");
        assert_eq!(call(Repeat, &[t("ab"), Datum::Int4(3)], T::Text), "ababab");
        assert_eq!(call(Reverse, &[t("abc")], T::Text), "cba");
        assert_eq!(call(SplitPart, &[t("a,b,c"), t(","), Datum::Int4(2)], T::Text), "b");
        assert_eq!(call(SplitPart, &[t("a,b,c"), t(","), Datum::Int4(5)], T::Text), "");
        assert_eq!(call(Initcap, &[t("hello wORLD-foo")], T::Text), "Hello World-Foo");
        assert_eq!(call(Md5, &[t("abc")], T::Text), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(call(Length, &[t("héllo")], T::Int4), "5");
        assert_eq!(call(OctetLength, &[t("héllo")], T::Int4), "6");
        assert_eq!(call(Upper, &[t("abc")], T::Text), "ABC");
        assert_eq!(call(Replace, &[t("abcabc"), t("b"), t("X")], T::Text), "aXcaXc");
        assert_eq!(call(Greatest, &[Datum::Int4(1), Datum::Null, Datum::Int4(3)], T::Int4), "3");
        assert_eq!(call(Least, &[Datum::Int4(1), Datum::Null, Datum::Int4(3)], T::Int4), "1");
        assert_eq!(call(Upper, &[Datum::Null], T::Text), "");
        assert!(call_scalar(Upper, &[&Datum::Null], &T::Text).unwrap().is_null());
    }
}
