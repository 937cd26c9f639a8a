//! Date/time functions: `extract`/`date_part`, `date_trunc`, `age`, `make_date`, `to_char`,
//! and the statement clock behind `now()` and `current_date`.
//!
//! `extract` returns numeric as PostgreSQL 15 does (seconds and epochs of timestamps with
//! scale 6, milliseconds with scale 3); `date_part` the same values as float8.
//! `now()` returns the timestamp set by the envelope with `set_statement_timestamp` (the
//! transaction start, as PostgreSQL), or the wall clock when none is set. There are no time
//! zones: `now()` is local time as `timestamp without time zone`.
//! `to_char` supports the common patterns: for dates `YYYY YY MM DD D DDD Q WW HH HH12 HH24
//! MI SS MS US AM PM Mon MON mon Month MONTH month Day DAY day Dy DY dy` with the `FM`
//! prefix; for numbers `9 0 . D , S FM`.

use std::cell::Cell;
use std::fmt::Write;

use rust_decimal::prelude::*;
use rust_decimal::Decimal;

use crate::error::{FdwError, FdwResult, SqlState};
use crate::eval::ops::{date_range, ts_minus_ts};
use crate::types::calendar::{self, day_of_week, days_from_ymd, days_in_month, now_timestamp, ymd_from_days};
use crate::types::compare::date_to_ts;
use crate::types::{Datum, Interval, USECS_PER_DAY};

thread_local! {
    static STATEMENT_TS: Cell<Option<i64>> = const { Cell::new(None) };
}

/// Sets the timestamp `now()`/`current_date` return on this thread; the envelope sets it to
/// the transaction start of a transaction block so every call in the transaction agrees, as in
/// PostgreSQL. `None` starts a new single-statement transaction whose timestamp is taken at
/// the first call and then kept (most statements never ask, so they never read the clock).
pub fn set_statement_timestamp(ts: Option<i64>) {
    STATEMENT_TS.with(|c| c.set(ts));
}

/// The timestamp `now()` returns on this thread.
pub fn statement_timestamp() -> i64 {
    STATEMENT_TS.with(|c| match c.get() {
        Some(ts) => ts,
        None => {
            let ts = now_timestamp();
            c.set(Some(ts));
            ts
        }
    })
}

const USECS_PER_HOUR: i64 = 3_600_000_000;
const USECS_PER_MINUTE: i64 = 60_000_000;

/// Broken-down timestamp.
struct Tm {
    year: i64,
    mon: u32,
    mday: u32,
    hour: i64,
    min: i64,
    sec: i64,
    usec: i64,
    days: i64,
}

fn tm(ts: i64) -> Tm {
    let days = ts.div_euclid(USECS_PER_DAY);
    let tod = ts.rem_euclid(USECS_PER_DAY);
    let (year, mon, mday) = ymd_from_days(days);
    Tm {
        year,
        mon,
        mday,
        hour: tod / USECS_PER_HOUR,
        min: tod / USECS_PER_MINUTE % 60,
        sec: tod / 1_000_000 % 60,
        usec: tod % 1_000_000,
        days,
    }
}

/// ISO 8601 week number and ISO year of a day.
fn iso_week(days: i64) -> (i64, i64) {
    let (y, _, _) = ymd_from_days(days);
    let week_of = |year: i64| {
        // Monday of ISO week 1: the week containing January 4th.
        let jan4 = days_from_ymd(year, 1, 4);
        let dow = (day_of_week(jan4) + 6) % 7; // 0 = Monday
        jan4 - dow as i64
    };
    let mut year = y;
    let mut start = week_of(year);
    if days < start {
        year -= 1;
        start = week_of(year);
    } else {
        let next = week_of(year + 1);
        if days >= next {
            year += 1;
            start = next;
        }
    }
    ((days - start) / 7 + 1, year)
}

fn dec(v: i64) -> Decimal {
    Decimal::from(v)
}

fn dec_scaled(mantissa: i64, scale: u32) -> Decimal {
    Decimal::from_i128_with_scale(mantissa as i128, scale)
}

fn unsupported_unit(unit: &str, ty: &str) -> FdwError {
    FdwError::new(SqlState::FEATURE_NOT_SUPPORTED, format!("unit \"{unit}\" not supported for type {ty}"))
}

fn unknown_unit(unit: &str, ty: &str) -> FdwError {
    FdwError::new(SqlState::INVALID_PARAMETER_VALUE, format!("unit \"{unit}\" not recognized for type {ty}"))
}

fn normalize_unit(unit: &str) -> String {
    let u = unit.trim().to_ascii_lowercase();
    match u.as_str() {
        "years" | "y" | "yr" | "yrs" => "year".into(),
        "months" | "mon" | "mons" => "month".into(),
        "days" | "d" => "day".into(),
        "hours" | "h" | "hr" | "hrs" => "hour".into(),
        "minutes" | "m" | "min" | "mins" => "minute".into(),
        "seconds" | "s" | "sec" | "secs" => "second".into(),
        "millisecond" | "ms" | "msec" | "msecs" => "milliseconds".into(),
        "microsecond" | "us" | "usec" | "usecs" => "microseconds".into(),
        "weeks" | "w" => "week".into(),
        "decades" => "decade".into(),
        "centuries" => "century".into(),
        "millennia" | "millenniums" => "millennium".into(),
        "qtr" => "quarter".into(),
        _ => u,
    }
}

/// `extract(unit from source)`: numeric when `numeric` (extract), else float8 (date_part).
pub fn extract(unit: &str, src: &Datum, numeric: bool) -> FdwResult<Datum> {
    let u = normalize_unit(unit);
    let v: Decimal = match src {
        Datum::Date(d) => {
            if *d == i32::MIN || *d == i32::MAX {
                return Ok(Datum::Null);
            }
            if matches!(u.as_str(), "hour" | "minute" | "second" | "milliseconds" | "microseconds") {
                if !numeric {
                    return extract(unit, &Datum::Timestamp(date_to_ts(*d)), false);
                }
                return Err(unsupported_unit(unit, "date"));
            }
            if u == "epoch" {
                dec((*d as i64 + 10_957) * 86_400)
            } else {
                extract_ts_field(&u, &tm(*d as i64 * USECS_PER_DAY)).ok_or_else(|| unknown_unit(unit, "date"))?
            }
        }
        Datum::Timestamp(ts) => {
            if *ts == i64::MIN || *ts == i64::MAX {
                return Ok(Datum::Null);
            }
            let t = tm(*ts);
            match u.as_str() {
                "epoch" => dec_scaled(*ts + 10_957 * USECS_PER_DAY, 6),
                "second" => dec_scaled(t.sec * 1_000_000 + t.usec, 6),
                "milliseconds" => dec_scaled(t.sec * 1_000_000 + t.usec, 3),
                "microseconds" => dec(t.sec * 1_000_000 + t.usec),
                "hour" => dec(t.hour),
                "minute" => dec(t.min),
                _ => extract_ts_field(&u, &t).ok_or_else(|| unknown_unit(unit, "timestamp without time zone"))?,
            }
        }
        Datum::Interval(iv) => {
            let us = iv.micros;
            match u.as_str() {
                "epoch" => {
                    let secs_years = Decimal::from(iv.months / 12) * Decimal::new(3_155_760_000, 2);
                    let rest = dec_scaled(((iv.months % 12) as i64 * 30 + iv.days as i64) * USECS_PER_DAY + us, 6);
                    secs_years + rest
                }
                "year" => dec((iv.months / 12) as i64),
                "month" => dec((iv.months % 12) as i64),
                "day" => dec(iv.days as i64),
                "hour" => dec(us / USECS_PER_HOUR),
                "minute" => dec(us / USECS_PER_MINUTE % 60),
                "second" => dec_scaled(us % USECS_PER_MINUTE, 6),
                "milliseconds" => dec_scaled(us % USECS_PER_MINUTE, 3),
                "microseconds" => dec(us % USECS_PER_MINUTE),
                "quarter" => dec(((iv.months % 12) / 3 + 1) as i64),
                "decade" => dec((iv.months / 120) as i64),
                "century" => dec((iv.months / 1200) as i64),
                "millennium" => dec((iv.months / 12000) as i64),
                _ => return Err(unknown_unit(unit, "interval")),
            }
        }
        _ => return Err(FdwError::internal("extract from a value that is not a date, timestamp or interval")),
    };
    Ok(if numeric { Datum::Numeric(v) } else { Datum::Float8(super::cast::numeric_to_f64(&v)) })
}

fn extract_ts_field(u: &str, t: &Tm) -> Option<Decimal> {
    let y = t.year;
    Some(dec(match u {
        "year" => {
            if y <= 0 {
                y - 1
            } else {
                y
            }
        }
        "month" => t.mon as i64,
        "day" => t.mday as i64,
        "hour" => t.hour,
        "minute" => t.min,
        "dow" => day_of_week(t.days) as i64,
        "isodow" => {
            let d = day_of_week(t.days) as i64;
            if d == 0 {
                7
            } else {
                d
            }
        }
        "doy" => t.days - days_from_ymd(y, 1, 1) + 1,
        "quarter" => (t.mon as i64 - 1) / 3 + 1,
        "week" => iso_week(t.days).0,
        "isoyear" => iso_week(t.days).1,
        "decade" => y.div_euclid(10),
        "century" => {
            if y > 0 {
                (y + 99) / 100
            } else {
                -((99 - (y - 1)) / 100)
            }
        }
        "millennium" => {
            if y > 0 {
                (y + 999) / 1000
            } else {
                -((999 - (y - 1)) / 1000)
            }
        }
        "julian" => t.days + calendar::days_from_ymd(2000, 1, 1) + crate::types::DATE_EPOCH_JDN as i64,
        _ => return None,
    }))
}

/// `date_trunc(unit, timestamp|interval)`.
pub fn date_trunc(unit: &str, src: &Datum) -> FdwResult<Datum> {
    let u = normalize_unit(unit);
    match src {
        Datum::Timestamp(_) | Datum::Date(_) if !matches!(src, Datum::Timestamp(i64::MIN | i64::MAX)) => {
            let ts = match src {
                Datum::Date(d) => date_to_ts(*d),
                _ => *ts_of(src),
            };
            let t = tm(ts);
            let day_start = t.days * USECS_PER_DAY;
            let ymd = |y: i64, m: u32| days_from_ymd(y, m, 1) * USECS_PER_DAY;
            let r = match u.as_str() {
                "microseconds" => ts,
                "milliseconds" => ts - ts.rem_euclid(1000),
                "second" => ts - ts.rem_euclid(1_000_000),
                "minute" => ts - ts.rem_euclid(USECS_PER_MINUTE),
                "hour" => ts - ts.rem_euclid(USECS_PER_HOUR),
                "day" => day_start,
                "week" => (t.days - ((day_of_week(t.days) as i64 + 6) % 7)) * USECS_PER_DAY,
                "month" => ymd(t.year, t.mon),
                "quarter" => ymd(t.year, (t.mon - 1) / 3 * 3 + 1),
                "year" => ymd(t.year, 1),
                "decade" => ymd(t.year.div_euclid(10) * 10, 1),
                "century" => ymd((t.year - 1).div_euclid(100) * 100 + 1, 1),
                "millennium" => ymd((t.year - 1).div_euclid(1000) * 1000 + 1, 1),
                _ => return Err(unknown_unit(unit, "timestamp without time zone")),
            };
            Ok(Datum::Timestamp(r))
        }
        Datum::Timestamp(ts) => Ok(Datum::Timestamp(*ts)),
        Datum::Interval(iv) => {
            let us = iv.micros;
            let r = match u.as_str() {
                "microseconds" => *iv,
                "milliseconds" => Interval::new(iv.months, iv.days, us - us % 1000),
                "second" => Interval::new(iv.months, iv.days, us - us % 1_000_000),
                "minute" => Interval::new(iv.months, iv.days, us - us % USECS_PER_MINUTE),
                "hour" => Interval::new(iv.months, iv.days, us - us % USECS_PER_HOUR),
                "day" => Interval::new(iv.months, iv.days, 0),
                "month" => Interval::new(iv.months, 0, 0),
                "quarter" => Interval::new(iv.months - iv.months % 3, 0, 0),
                "year" => Interval::new(iv.months - iv.months % 12, 0, 0),
                "decade" => Interval::new(iv.months - iv.months % 120, 0, 0),
                "century" => Interval::new(iv.months - iv.months % 1200, 0, 0),
                "millennium" => Interval::new(iv.months - iv.months % 12000, 0, 0),
                "week" => return Err(unsupported_unit(unit, "interval")),
                _ => return Err(unknown_unit(unit, "interval")),
            };
            Ok(Datum::Interval(r))
        }
        _ => Err(FdwError::internal("date_trunc on a value that is not a timestamp or interval")),
    }
}

fn ts_of(d: &Datum) -> &i64 {
    match d {
        Datum::Timestamp(t) => t,
        _ => &0,
    }
}

/// `age(a, b)`: a symbolic difference in years, months, days and time, as PostgreSQL; `age(a)`
/// is measured from midnight of the current date.
pub fn age(args: &[&Datum]) -> FdwResult<Datum> {
    let as_ts = |d: &Datum| match d {
        Datum::Timestamp(t) => Ok(*t),
        Datum::Date(d) => Ok(date_to_ts(*d)),
        _ => Err(FdwError::internal("age of a value that is not a timestamp")),
    };
    let a = as_ts(args[0])?;
    let b = match args.get(1) {
        Some(d) => as_ts(d)?,
        None => statement_timestamp().div_euclid(USECS_PER_DAY) * USECS_PER_DAY,
    };
    let (b, a) = if args.len() == 1 { (a, b) } else { (b, a) };
    if [a, b].iter().any(|v| *v == i64::MIN || *v == i64::MAX) {
        return ts_minus_ts(a, b).map(Datum::Interval);
    }
    let (t1, t2) = (tm(a), tm(b));
    let mut usec = t1.usec - t2.usec;
    let mut sec = t1.sec - t2.sec;
    let mut min = t1.min - t2.min;
    let mut hour = t1.hour - t2.hour;
    let mut mday = t1.mday as i64 - t2.mday as i64;
    let mut mon = t1.mon as i64 - t2.mon as i64;
    let mut year = t1.year - t2.year;
    let flip = a < b;
    if flip {
        usec = -usec;
        sec = -sec;
        min = -min;
        hour = -hour;
        mday = -mday;
        mon = -mon;
        year = -year;
    }
    while usec < 0 {
        usec += 1_000_000;
        sec -= 1;
    }
    while sec < 0 {
        sec += 60;
        min -= 1;
    }
    while min < 0 {
        min += 60;
        hour -= 1;
    }
    while hour < 0 {
        hour += 24;
        mday -= 1;
    }
    while mday < 0 {
        let (y, m) = if flip { (t1.year, t1.mon) } else { (t2.year, t2.mon) };
        mday += days_in_month(y, m) as i64;
        mon -= 1;
    }
    while mon < 0 {
        mon += 12;
        year -= 1;
    }
    let sign = if flip { -1 } else { 1 };
    let months = i32::try_from((year * 12 + mon) * sign).map_err(|_| crate::eval::ops::interval_range())?;
    let micros = ((hour * 60 + min) * 60 + sec) * 1_000_000 + usec;
    Ok(Datum::Interval(Interval::new(months, (mday * sign) as i32, micros * sign)))
}

/// `make_date(year, month, day)`.
pub fn make_date(y: i64, m: i64, d: i64) -> FdwResult<Datum> {
    let bad = || {
        FdwError::new(SqlState::DATETIME_FIELD_OVERFLOW, format!("date field value out of range: {y}-{m:02}-{d:02}"))
    };
    if y == 0 || !(1..=12).contains(&m) || d < 1 {
        return Err(bad());
    }
    let year = if y < 0 { y + 1 } else { y };
    if d > days_in_month(year, m as u32) as i64 {
        return Err(bad());
    }
    let days = days_from_ymd(year, m as u32, d as u32);
    i32::try_from(days).map(Datum::Date).map_err(|_| date_range())
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAY_NAMES: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// `to_char(value, format)`.
pub fn to_char(v: &Datum, fmt: &str) -> FdwResult<Datum> {
    match v {
        Datum::Date(d) => Ok(Datum::text(&format_ts(date_to_ts(*d), fmt))),
        Datum::Timestamp(t) => Ok(Datum::text(&format_ts(*t, fmt))),
        Datum::Int2(_) | Datum::Int4(_) | Datum::Int8(_) => {
            Ok(Datum::text(&format_number(Decimal::from(v.as_i64().unwrap_or(0)), fmt)))
        }
        Datum::Numeric(n) => Ok(Datum::text(&format_number(*n, fmt))),
        Datum::Float8(f) => Ok(Datum::text(&format_number(Decimal::from_f64(*f).unwrap_or_default(), fmt))),
        Datum::Float4(f) => Ok(Datum::text(&format_number(Decimal::from_f32(*f).unwrap_or_default(), fmt))),
        Datum::Interval(iv) => {
            let hours = iv.micros / USECS_PER_HOUR;
            let ts = iv.micros - hours * USECS_PER_HOUR;
            Ok(Datum::text(&format_ts(ts + hours * USECS_PER_HOUR % USECS_PER_DAY, fmt)))
        }
        _ => Err(FdwError::internal("to_char of an unsupported type")),
    }
}

fn format_ts(ts: i64, fmt: &str) -> String {
    let t = tm(ts);
    let mut out = String::new();
    let mut rest = fmt;
    let year = if t.year <= 0 { 1 - t.year } else { t.year };
    while !rest.is_empty() {
        let mut fm = false;
        if rest.len() >= 2 && rest[..2].eq_ignore_ascii_case("fm") {
            fm = true;
            rest = &rest[2..];
        }
        let num = |out: &mut String, v: i64, width: usize| {
            if fm {
                let _ = write!(out, "{v}");
            } else {
                let _ = write!(out, "{v:0width$}");
            }
        };
        let name = |out: &mut String, s: &str, case: u8, pad: usize| {
            let s = match case {
                0 => s.to_string(),
                1 => s.to_uppercase(),
                _ => s.to_lowercase(),
            };
            if fm {
                out.push_str(&s);
            } else {
                let _ = write!(out, "{s:<pad$}");
            }
        };
        let hour12 = if t.hour % 12 == 0 { 12 } else { t.hour % 12 };
        let tokens: &[(&str, u8)] = &[
            ("YYYY", 0),
            ("yyyy", 0),
            ("HH24", 1),
            ("hh24", 1),
            ("HH12", 2),
            ("hh12", 2),
            ("MONTH", 3),
            ("Month", 4),
            ("month", 5),
            ("MON", 6),
            ("Mon", 7),
            ("mon", 8),
            ("DAY", 9),
            ("Day", 10),
            ("day", 11),
            ("DDD", 12),
            ("ddd", 12),
            ("DY", 13),
            ("Dy", 14),
            ("dy", 15),
            ("YY", 16),
            ("yy", 16),
            ("MM", 17),
            ("mm", 17),
            ("DD", 18),
            ("dd", 18),
            ("HH", 2),
            ("hh", 2),
            ("MI", 19),
            ("mi", 19),
            ("SS", 20),
            ("ss", 20),
            ("MS", 21),
            ("ms", 21),
            ("US", 22),
            ("us", 22),
            ("AM", 23),
            ("PM", 23),
            ("am", 24),
            ("pm", 24),
            ("Q", 25),
            ("D", 26),
        ];
        let Some((tok, kind)) = tokens.iter().find(|(p, _)| rest.starts_with(p)) else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        };
        rest = &rest[tok.len()..];
        let mon = MONTH_NAMES[(t.mon - 1) as usize];
        let day = DAY_NAMES[day_of_week(t.days) as usize];
        match kind {
            0 => num(&mut out, year, 4),
            1 => num(&mut out, t.hour, 2),
            2 => num(&mut out, hour12, 2),
            3 => name(&mut out, mon, 1, 9),
            4 => name(&mut out, mon, 0, 9),
            5 => name(&mut out, mon, 2, 9),
            6 => name(&mut out, &mon[..3], 1, 3),
            7 => name(&mut out, &mon[..3], 0, 3),
            8 => name(&mut out, &mon[..3], 2, 3),
            9 => name(&mut out, day, 1, 9),
            10 => name(&mut out, day, 0, 9),
            11 => name(&mut out, day, 2, 9),
            12 => num(&mut out, t.days - days_from_ymd(t.year, 1, 1) + 1, 3),
            13 => name(&mut out, &day[..3], 1, 3),
            14 => name(&mut out, &day[..3], 0, 3),
            15 => name(&mut out, &day[..3], 2, 3),
            16 => num(&mut out, year % 100, 2),
            17 => num(&mut out, t.mon as i64, 2),
            18 => num(&mut out, t.mday as i64, 2),
            19 => num(&mut out, t.min, 2),
            20 => num(&mut out, t.sec, 2),
            21 => num(&mut out, t.usec / 1000, 3),
            22 => num(&mut out, t.usec, 6),
            23 => out.push_str(if t.hour >= 12 { "PM" } else { "AM" }),
            24 => out.push_str(if t.hour >= 12 { "pm" } else { "am" }),
            25 => num(&mut out, (t.mon as i64 - 1) / 3 + 1, 1),
            _ => num(&mut out, day_of_week(t.days) as i64 + 1, 1),
        }
    }
    out
}

/// Number formatting for `to_char`: digit slots `9` (blank when leading) and `0` (always a
/// digit), `.`/`D` decimal point, `,`/`G` group separator, `S` sign, `FM` no padding.
fn format_number(v: Decimal, fmt: &str) -> String {
    let fm = fmt.to_ascii_uppercase().contains("FM");
    let body: String = {
        let mut s = fmt.to_string();
        for p in ["FM", "fm", "Fm", "fM"] {
            s = s.replace(p, "");
        }
        s
    };
    let (int_fmt, frac_fmt) = match body.find(['.', 'D']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body.as_str(), None),
    };
    let frac_slots = frac_fmt.map_or(0, |f| f.chars().filter(|c| *c == '9' || *c == '0').count());
    let int_slots = int_fmt.chars().filter(|c| *c == '9' || *c == '0').count();
    let r = v.round_dp_with_strategy(frac_slots as u32, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let neg = r.is_sign_negative() && !r.is_zero();
    let abs = r.abs();
    let int_digits = abs.trunc().to_string();
    let int_digits = if int_digits == "0" { String::new() } else { int_digits };
    if int_digits.len() > int_slots {
        let mut o = String::from(" ");
        for c in body.chars() {
            o.push(if c == '9' || c == '0' { '#' } else { c });
        }
        return o;
    }
    let frac_str = num_frac_digits(&abs, frac_slots);
    // Integer part, right-aligned into the slots.
    let mut out = String::new();
    let mut digit_iter = int_digits.chars().rev();
    let mut pieces: Vec<char> = Vec::new();
    let mut started_zero = false;
    let int_fmt_chars: Vec<char> = int_fmt.chars().filter(|c| *c != 'S').collect();
    let first_zero = int_fmt_chars.iter().position(|c| *c == '0');
    let slot_positions: Vec<usize> =
        int_fmt_chars.iter().enumerate().filter(|(_, c)| **c == '9' || **c == '0').map(|(i, _)| i).collect();
    let mut slot_chars = vec![' '; int_fmt_chars.len()];
    for &pos in slot_positions.iter().rev() {
        match digit_iter.next() {
            Some(d) => slot_chars[pos] = d,
            None => {
                let forced = first_zero.is_some_and(|z| pos >= z);
                slot_chars[pos] = if forced { '0' } else { ' ' };
            }
        }
    }
    // A lone leading slot with a zero value and no fractional part prints 0 (`to_char(0,'9')`).
    if int_digits.is_empty() && frac_slots == 0 {
        if let Some(&last) = slot_positions.last() {
            slot_chars[last] = '0';
        }
    }
    for (i, c) in int_fmt_chars.iter().enumerate() {
        if *c == ',' || *c == 'G' {
            let digit_before = slot_chars[..i].iter().any(|c| c.is_ascii_digit());
            slot_chars[i] = if digit_before { ',' } else { ' ' };
        } else if *c != '9' && *c != '0' {
            slot_chars[i] = *c;
        }
    }
    let first_digit = slot_chars.iter().position(|c| c.is_ascii_digit()).unwrap_or(slot_chars.len());
    pieces.extend(slot_chars[..first_digit].iter());
    pieces.push(if neg { '-' } else { ' ' });
    pieces.extend(slot_chars[first_digit..].iter());
    let _ = &mut started_zero;
    out.extend(pieces);
    if frac_fmt.is_some() {
        out.push('.');
        out.push_str(&frac_str);
    }
    if fm {
        let trimmed = out.trim_start().to_string();
        let mut t = trimmed;
        if frac_fmt.is_some_and(|f| !f.contains('0')) {
            while t.ends_with('0') {
                t.pop();
            }
        }
        if t.starts_with('-') || !neg {
            return t;
        }
        return format!("-{t}");
    }
    out
}

fn num_frac_digits(v: &Decimal, slots: usize) -> String {
    let f = v.fract();
    let s = f.to_string();
    let digits = s.split_once('.').map_or("", |(_, d)| d);
    let mut out: String = digits.chars().take(slots).collect();
    while out.len() < slots {
        out.push('0');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::DataType;

    fn ts(s: &str) -> Datum {
        DataType::Timestamp.parse_text(s).unwrap()
    }
    fn d(s: &str) -> Datum {
        DataType::Date.parse_text(s).unwrap()
    }
    fn iv(s: &str) -> Datum {
        DataType::Interval.parse_text(s).unwrap()
    }
    fn ex(u: &str, v: Datum) -> String {
        extract(u, &v, true).unwrap().to_text()
    }

    #[test]
    fn extract_matches_postgres() {
        // Verified with psql.
        assert_eq!(ex("epoch", d("2020-01-01")), "1577836800");
        assert_eq!(ex("year", d("2020-01-01")), "2020");
        assert_eq!(ex("milliseconds", ts("2020-01-01 10:00:03.5")), "3500.000");
        assert_eq!(ex("microseconds", ts("2020-01-01 10:00:03.5")), "3500000");
        assert_eq!(ex("epoch", ts("2020-01-01 10:00:00.5")), "1577872800.500000");
        assert_eq!(ex("second", ts("2020-01-01 10:00:03.5")), "3.500000");
        assert_eq!(ex("julian", d("2020-01-01")), "2458850");
        assert_eq!(ex("week", d("2020-01-01")), "1");
        assert_eq!(ex("isodow", d("2020-01-05")), "7");
        assert_eq!(ex("dow", d("2020-01-01")), "3");
        assert_eq!(ex("quarter", d("2020-05-01")), "2");
        assert_eq!(ex("century", d("2020-01-01")), "21");
        assert_eq!(ex("decade", d("2020-01-01")), "202");
        assert_eq!(ex("millennium", d("2020-01-01")), "3");
        assert_eq!(ex("doy", d("2020-03-01")), "61");
        assert_eq!(ex("isoyear", d("2021-01-01")), "2020");
        assert_eq!(ex("hour", iv("25 hours")), "25");
        assert_eq!(ex("minute", iv("-1 hour -5 min")), "-5");
        assert_eq!(ex("second", iv("1 min 2.5 sec")), "2.500000");
        assert_eq!(ex("year", iv("14 mons")), "1");
        assert_eq!(ex("milliseconds", iv("2.5 sec")), "2500.000");
        assert_eq!(ex("epoch", iv("1 day")), "86400.000000");
        assert_eq!(extract("second", &iv("2.5 sec"), false).unwrap().to_text(), "2.5");
        assert_eq!(extract("dow", &ts("2020-01-01"), false).unwrap(), Datum::Float8(3.0));
        let e = extract("hour", &d("2020-01-01"), true).unwrap_err();
        assert_eq!(e.message, "unit \"hour\" not supported for type date");
        let e = extract("foo", &d("2020-01-01"), true).unwrap_err();
        assert_eq!(e.message, "unit \"foo\" not recognized for type date");
    }

    #[test]
    fn trunc_age_make_date_match_postgres() {
        let tr = |u: &str, v: Datum| date_trunc(u, &v).unwrap().to_text();
        assert_eq!(tr("month", ts("2020-03-15 10:11:12")), "2020-03-01 00:00:00");
        assert_eq!(tr("week", ts("2020-03-15 10:11:12")), "2020-03-09 00:00:00");
        assert_eq!(tr("quarter", ts("2020-05-15")), "2020-04-01 00:00:00");
        assert_eq!(tr("hour", ts("2020-03-15 10:11:12.5")), "2020-03-15 10:00:00");
        assert_eq!(tr("day", iv("1 day 10:11:12")), "1 day");
        assert_eq!(tr("year", iv("1 year 2 mons 3 days")), "1 year");
        assert_eq!(tr("decade", ts("2025-03-01")), "2020-01-01 00:00:00");
        assert_eq!(tr("century", ts("2025-03-01")), "2001-01-01 00:00:00");
        let a = |x: Datum, y: Datum| age(&[&x, &y]).unwrap().to_text();
        assert_eq!(a(ts("2020-03-01"), ts("2019-01-31 10:00")), "1 year 1 mon 14:00:00");
        assert_eq!(a(ts("2019-01-31"), ts("2020-03-01 10:00")), "-1 years -1 mons -1 days -10:00:00");
        assert_eq!(a(ts("2020-01-01"), ts("2020-01-01")), "00:00:00");
        assert_eq!(make_date(2020, 2, 29).unwrap().to_text(), "2020-02-29");
        assert_eq!(make_date(2020, 2, 30).unwrap_err().message, "date field value out of range: 2020-02-30");
    }

    #[test]
    fn to_char_matches_postgres() {
        let tc = |v: Datum, f: &str| to_char(&v, f).unwrap().to_text();
        assert_eq!(tc(d("2020-03-05"), "YYYY-MM-DD"), "2020-03-05");
        assert_eq!(tc(ts("2020-03-05 14:07:09"), "YYYY-MM-DD HH24:MI:SS"), "2020-03-05 14:07:09");
        assert_eq!(tc(ts("2020-03-05 14:07:09"), "Mon DD, YYYY HH12:MI AM"), "Mar 05, 2020 02:07 PM");
        assert_eq!(tc(d("2020-03-05"), "Day Month DY dd"), "Thursday  March     THU 05");
        let n = |s: &str| DataType::Numeric(None).parse_text(s).unwrap();
        assert_eq!(tc(n("1234.5"), "9999.99"), " 1234.50");
        assert_eq!(tc(n("1234.5"), "FM9999.99"), "1234.5");
        assert_eq!(tc(Datum::Int4(12), "000"), " 012");
        assert_eq!(tc(Datum::Int4(-12), "9999"), "  -12");
        assert_eq!(tc(Datum::Int4(1234567), "9,999,999"), " 1,234,567");
        assert_eq!(tc(Datum::Int4(12345), "999"), " ###");
    }
}
