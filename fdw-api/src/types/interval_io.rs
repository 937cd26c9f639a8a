//! `interval` text input and output with `IntervalStyle = postgres`.
//!
//! Output: `1 year 2 mons 3 days 04:05:06`, `-1 days`, `00:00:00`; a field after a negative
//! one gets an explicit `+` as PostgreSQL prints it. Input: `[@] quantity unit [...]`
//! (units from microseconds to millennia, abbreviations as PostgreSQL knows them), a
//! `[-]hh:mm[:ss[.f]]` time, a bare number (seconds), `ago`, and ISO 8601 `P1Y2M3DT4H5M6S`.
//! Fractions cascade downwards as PostgreSQL does (`1.5 months` = `1 mon 15 days`).
//! Not supported: SQL-standard `1-2` year-month syntax and interval qualifiers
//! (`interval '1' day`), which the binder handles if needed.

use std::fmt::Write;

use crate::error::{FdwError, FdwResult, SqlState};
use crate::types::calendar::frac_to_micros;
use crate::types::{Interval, USECS_PER_DAY};

const USECS_PER_HOUR: i64 = 3_600_000_000;
const USECS_PER_MINUTE: i64 = 60_000_000;
const USECS_PER_SEC: i64 = 1_000_000;

fn add_part(out: &mut String, value: i64, unit: &str, is_zero: &mut bool, is_before: &mut bool) {
    if value == 0 {
        return;
    }
    let _ = write!(
        out,
        "{}{}{} {}{}",
        if *is_zero { "" } else { " " },
        if *is_before && value > 0 { "+" } else { "" },
        value,
        unit,
        if value != 1 { "s" } else { "" }
    );
    *is_before = value < 0;
    *is_zero = false;
}

/// Appends an interval as PostgreSQL prints it.
pub fn write_interval(out: &mut String, iv: &Interval) {
    let years = (iv.months / 12) as i64;
    let mons = (iv.months % 12) as i64;
    let mut is_zero = true;
    let mut is_before = false;
    add_part(out, years, "year", &mut is_zero, &mut is_before);
    add_part(out, mons, "mon", &mut is_zero, &mut is_before);
    add_part(out, iv.days as i64, "day", &mut is_zero, &mut is_before);
    let us = iv.micros;
    if is_zero || us != 0 {
        let hours = us / USECS_PER_HOUR;
        let mins = (us / USECS_PER_MINUTE) % 60;
        let secs = (us / USECS_PER_SEC) % 60;
        let frac = us % USECS_PER_SEC;
        let minus = us < 0;
        let _ = write!(
            out,
            "{}{}{:02}:{:02}:{:02}",
            if is_zero { "" } else { " " },
            if minus {
                "-"
            } else if is_before {
                "+"
            } else {
                ""
            },
            hours.unsigned_abs(),
            mins.unsigned_abs(),
            secs.unsigned_abs()
        );
        crate::types::calendar::write_fraction(out, frac.abs());
    }
}

fn syntax(s: &str) -> FdwError {
    FdwError::new(SqlState::INVALID_DATETIME_FORMAT, format!("invalid input syntax for type interval: \"{s}\""))
}

fn out_of_range(s: &str) -> FdwError {
    FdwError::new(SqlState::DATETIME_FIELD_OVERFLOW, format!("interval field value out of range: \"{s}\""))
}

/// Accumulates fields in wide integers plus fractional microseconds; converted at the end.
#[derive(Default)]
struct Acc {
    months: i64,
    days: i64,
    micros: f64,
    micros_int: i64,
}

impl Acc {
    fn add_micros(&mut self, v: f64) {
        let whole = v.trunc();
        self.micros_int += whole as i64;
        self.micros += v - whole;
    }
    /// Adds `val` of a unit, cascading the fraction to smaller units as PostgreSQL does.
    fn add(&mut self, val: f64, unit: Unit) {
        match unit {
            Unit::Micro => self.add_micros(val),
            Unit::Milli => self.add_micros(val * 1000.0),
            Unit::Second => self.add_micros(val * 1e6),
            Unit::Minute => self.add_micros(val * 6e7),
            Unit::Hour => self.add_micros(val * 3.6e9),
            Unit::Day => self.add_days(val, 1.0),
            Unit::Week => self.add_days(val, 7.0),
            Unit::Month => {
                let whole = val.trunc();
                self.months += whole as i64;
                self.add_days((val - whole) * 30.0, 1.0);
            }
            Unit::Year(n) => {
                let whole = val.trunc();
                self.months += whole as i64 * 12 * n;
                self.months += ((val - whole) * 12.0 * n as f64).round() as i64;
            }
        }
    }
    fn add_days(&mut self, val: f64, mult: f64) {
        let v = val * mult;
        let whole = v.trunc();
        self.days += whole as i64;
        self.add_micros((v - whole) * USECS_PER_DAY as f64);
    }
    fn finish(self, negate: bool, s: &str) -> FdwResult<Interval> {
        let sign = if negate { -1 } else { 1 };
        let micros = self.micros_int + self.micros.round() as i64;
        let months = i32::try_from(self.months * sign).map_err(|_| out_of_range(s))?;
        let days = i32::try_from(self.days * sign).map_err(|_| out_of_range(s))?;
        Ok(Interval::new(months, days, micros * sign))
    }
}

#[derive(Clone, Copy)]
enum Unit {
    Micro,
    Milli,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    /// Years times n (1 year, 10 decade, 100 century, 1000 millennium).
    Year(i64),
}

fn unit_of(w: &str) -> Option<Unit> {
    Some(match w {
        "us" | "usec" | "usecs" | "microsecond" | "microseconds" | "useconds" | "usecond" => Unit::Micro,
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" | "mseconds" | "msecond" => Unit::Milli,
        "s" | "sec" | "secs" | "second" | "seconds" => Unit::Second,
        "m" | "min" | "mins" | "minute" | "minutes" => Unit::Minute,
        "h" | "hr" | "hrs" | "hour" | "hours" => Unit::Hour,
        "d" | "day" | "days" => Unit::Day,
        "w" | "week" | "weeks" => Unit::Week,
        "mon" | "mons" | "month" | "months" => Unit::Month,
        "y" | "yr" | "yrs" | "year" | "years" => Unit::Year(1),
        "dec" | "decs" | "decade" | "decades" => Unit::Year(10),
        "c" | "cent" | "century" | "centuries" => Unit::Year(100),
        "mil" | "mils" | "millennium" | "millennia" | "millenniums" => Unit::Year(1000),
        _ => return None,
    })
}

/// Parses `interval` input.
pub fn parse_interval(s: &str) -> FdwResult<Interval> {
    let lower = s.trim().to_ascii_lowercase();
    if lower.is_empty() {
        return Err(syntax(s));
    }
    if let Some(iso) = lower.strip_prefix('p') {
        return parse_iso(iso, s);
    }
    // Split into tokens: numbers (with sign, point) and words, `hh:mm:ss` as one token.
    let mut tokens: Vec<&str> = Vec::new();
    for part in lower.split(|c: char| c.is_ascii_whitespace() || c == ',') {
        let mut rest = part;
        while !rest.is_empty() {
            let b = rest.as_bytes();
            let is_num_start = |c: u8| c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.');
            let end = if is_num_start(b[0]) {
                1 + rest[1..].find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ':')).unwrap_or(rest.len() - 1)
            } else {
                rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len()).max(1)
            };
            tokens.push(&rest[..end]);
            rest = &rest[end..];
        }
    }
    let mut acc = Acc::default();
    let mut negate = false;
    let mut any = false;
    // Each field may be given once, as PostgreSQL's DecodeInterval checks with its mask.
    let mut seen: u32 = 0;
    let mut claim = |mask: u32| -> FdwResult<()> {
        if seen & mask != 0 {
            return Err(syntax(s));
        }
        seen |= mask;
        Ok(())
    };
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        i += 1;
        if t == "@" {
            continue;
        }
        if t == "ago" {
            negate = true;
            continue;
        }
        let b0 = t.as_bytes()[0];
        if !(b0.is_ascii_digit() || matches!(b0, b'+' | b'-' | b'.')) {
            return Err(syntax(s));
        }
        any = true;
        if t.contains(':') {
            let us = parse_time_field(t).ok_or_else(|| syntax(s))?;
            claim(M_HOUR | M_MINUTE | M_ALL_SECS)?;
            acc.micros_int += us;
            continue;
        }
        let val: f64 = t.parse().map_err(|_| syntax(s))?;
        if !val.is_finite() {
            return Err(out_of_range(s));
        }
        match tokens.get(i).and_then(|w| unit_of(w)) {
            Some(unit) => {
                i += 1;
                claim(unit_mask(unit, val))?;
                acc.add(val, unit);
            }
            None if i == tokens.len() || tokens.get(i) == Some(&"ago") => {
                claim(unit_mask(Unit::Second, val))?;
                acc.add(val, Unit::Second)
            }
            None => return Err(syntax(s)),
        }
    }
    if !any {
        return Err(syntax(s));
    }
    acc.finish(negate, s)
}

const M_MICRO: u32 = 1;
const M_MILLI: u32 = 2;
const M_SECOND: u32 = 4;
const M_ALL_SECS: u32 = M_MICRO | M_MILLI | M_SECOND;
const M_MINUTE: u32 = 8;
const M_HOUR: u32 = 16;

/// The fields a quantity of `unit` occupies; fractional seconds also take the millisecond
/// and microsecond fields, as in PostgreSQL.
fn unit_mask(unit: Unit, val: f64) -> u32 {
    match unit {
        Unit::Micro => M_MICRO,
        Unit::Milli => M_MILLI,
        Unit::Second if val.fract() != 0.0 => M_ALL_SECS,
        Unit::Second => M_SECOND,
        Unit::Minute => M_MINUTE,
        Unit::Hour => M_HOUR,
        Unit::Day => 32,
        Unit::Week => 64,
        Unit::Month => 128,
        Unit::Year(1) => 256,
        Unit::Year(10) => 512,
        Unit::Year(100) => 1024,
        Unit::Year(_) => 2048,
    }
}

/// `[-]hh:mm[:ss[.f]]` (also `mm:ss.f` is not distinguished: PostgreSQL reads `1:2` as
/// hours and minutes).
fn parse_time_field(t: &str) -> Option<i64> {
    let (neg, body) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let mut parts = body.split(':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let mut us = h.checked_mul(USECS_PER_HOUR)? + m * USECS_PER_MINUTE;
    if let Some(sec) = parts.next() {
        let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
        let w: i64 = whole.parse().ok()?;
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        us += w * USECS_PER_SEC + frac_to_micros(frac);
    }
    if parts.next().is_some() || m >= 60 {
        return None;
    }
    Some(if neg { -us } else { us })
}

/// ISO 8601 `PnYnMnWnDTnHnMnS` (the leading `P` already stripped).
fn parse_iso(body: &str, s: &str) -> FdwResult<Interval> {
    let mut acc = Acc::default();
    let mut in_time = false;
    let mut rest = body;
    if rest.is_empty() {
        return Err(syntax(s));
    }
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('t') {
            in_time = true;
            rest = r;
            continue;
        }
        let end =
            rest.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+')).ok_or_else(|| syntax(s))?;
        if end == 0 {
            return Err(syntax(s));
        }
        let val: f64 = rest[..end].parse().map_err(|_| syntax(s))?;
        let unit = match (rest.as_bytes()[end], in_time) {
            (b'y', false) => Unit::Year(1),
            (b'm', false) => Unit::Month,
            (b'w', false) => Unit::Week,
            (b'd', false) => Unit::Day,
            (b'h', true) => Unit::Hour,
            (b'm', true) => Unit::Minute,
            (b's', true) => Unit::Second,
            _ => return Err(syntax(s)),
        };
        acc.add(val, unit);
        rest = &rest[end + 1..];
    }
    acc.finish(false, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(s: &str) -> String {
        let mut o = String::new();
        write_interval(&mut o, &parse_interval(s).unwrap());
        o
    }

    #[test]
    fn interval_io_matches_postgres() {
        // Verified with psql.
        assert_eq!(iv("1 year 2 mons 3 days 04:05:06"), "1 year 2 mons 3 days 04:05:06");
        assert_eq!(iv("-1 days"), "-1 days");
        assert_eq!(iv("0"), "00:00:00");
        assert_eq!(iv("1 day"), "1 day");
        assert_eq!(iv("1.5 days"), "1 day 12:00:00");
        assert_eq!(iv("1.5 months"), "1 mon 15 days");
        assert_eq!(iv("-1 year -2 mons +3 days -04:05:06.5"), "-1 years -2 mons +3 days -04:05:06.5");
        assert_eq!(iv("1 year -1 mons"), "11 mons");
        assert_eq!(iv("P1Y2M3DT4H5M6S"), "1 year 2 mons 3 days 04:05:06");
        assert_eq!(iv("100 hours"), "100:00:00");
        assert_eq!(iv("2 hours ago"), "-02:00:00");
        assert_eq!(iv("@ 1 minute"), "00:01:00");
        assert_eq!(iv("10"), "00:00:10");
        assert_eq!(iv("1:2"), "01:02:00");
        assert_eq!(iv("1 week"), "7 days");
        assert_eq!(iv("0.000001 sec"), "00:00:00.000001");
        assert_eq!(iv("-0.5 sec"), "-00:00:00.5");
        assert_eq!(iv("3 months"), "3 mons");
        assert_eq!(iv("1 year 2 mons"), "1 year 2 mons");
        assert_eq!(iv("1day"), "1 day");
        let e = parse_interval("abc").unwrap_err();
        assert_eq!(e.message, "invalid input syntax for type interval: \"abc\"");
        assert!(parse_interval("1 fortnight").is_err());
    }
}
