//! `date` and `timestamp` text input and output and the calendar arithmetic behind them.
//!
//! A date is days since 2000-01-01 and a timestamp microseconds since 2000-01-01 00:00, as in
//! PostgreSQL; `i32::MIN`/`i32::MAX` (dates) and `i64::MIN`/`i64::MAX` (timestamps) stand for
//! `-infinity`/`infinity`, as PostgreSQL's `DATEVAL_NOBEGIN`/`NOEND`. The calendar is the
//! proleptic Gregorian one; year 0 is 1 BC.
//!
//! Input accepts the forms PostgreSQL accepts with `DateStyle = ISO, MDY` that matter in
//! practice: `1999-01-08`, `1/8/1999`, `19990108`, `January 8, 1999`, `1999-Jan-08`,
//! `08-Jan-1999`, optional `BC`, times `10:00[:00[.123456]]` with `am`/`pm`, an ISO `T`
//! separator, and a time zone suffix, which `timestamp without time zone` ignores as
//! PostgreSQL does. Special values: `infinity`, `-infinity`, `epoch`, `now`, `today`,
//! `tomorrow`, `yesterday`. Not supported: Julian day input (`J2451187`), week dates.

use std::fmt::Write;

use crate::error::{FdwError, FdwResult, SqlState};
use crate::types::USECS_PER_DAY;

pub const DATE_NEG_INFINITY: i32 = i32::MIN;
pub const DATE_POS_INFINITY: i32 = i32::MAX;
pub const TS_NEG_INFINITY: i64 = i64::MIN;
pub const TS_POS_INFINITY: i64 = i64::MAX;
/// Days from 1970-01-01 to 2000-01-01.
const UNIX_TO_PG_DAYS: i64 = 10_957;
/// PostgreSQL's date range: 4714-11-24 BC .. 5874897-12-31.
const MIN_DAYS: i64 = -2_451_545;
const MAX_DAYS: i64 = 2_145_031_948;

/// Days since 2000-01-01 of a proleptic Gregorian date (astronomical year numbering).
pub fn days_from_ymd(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 - UNIX_TO_PG_DAYS
}

/// The (year, month, day) of a day number (inverse of `days_from_ymd`).
pub fn ymd_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + UNIX_TO_PG_DAYS + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

pub fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Day of week, 0 = Sunday.
pub fn day_of_week(days: i64) -> u32 {
    // 2000-01-01 was a Saturday.
    (days + 6).rem_euclid(7) as u32
}

fn write_year_md(out: &mut String, y: i64, m: u32, d: u32) {
    let year = if y <= 0 { 1 - y } else { y };
    let _ = write!(out, "{year:04}-{m:02}-{d:02}");
}

/// Appends a date as PostgreSQL prints it (`1996-03-13`, `0001-12-31 BC`, `infinity`).
pub fn write_date(out: &mut String, days: i32) {
    match days {
        DATE_NEG_INFINITY => out.push_str("-infinity"),
        DATE_POS_INFINITY => out.push_str("infinity"),
        _ => {
            let (y, m, d) = ymd_from_days(days as i64);
            write_year_md(out, y, m, d);
            if y <= 0 {
                out.push_str(" BC");
            }
        }
    }
}

/// Appends `HH:MM:SS[.ffffff]` with trailing zeros of the fraction removed.
pub fn write_time_of_day(out: &mut String, micros: i64) {
    let secs = micros / 1_000_000;
    let frac = micros % 1_000_000;
    let _ = write!(out, "{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    write_fraction(out, frac);
}

/// Appends `.ffffff` without trailing zeros (nothing when zero).
pub fn write_fraction(out: &mut String, frac: i64) {
    if frac != 0 {
        let mut f = frac;
        let mut width = 6;
        while f % 10 == 0 {
            f /= 10;
            width -= 1;
        }
        let _ = write!(out, ".{f:0width$}");
    }
}

/// Appends a timestamp as PostgreSQL prints it (`1996-03-13 10:00:00.5`).
pub fn write_timestamp(out: &mut String, ts: i64) {
    match ts {
        TS_NEG_INFINITY => out.push_str("-infinity"),
        TS_POS_INFINITY => out.push_str("infinity"),
        _ => {
            let days = ts.div_euclid(USECS_PER_DAY);
            let tod = ts.rem_euclid(USECS_PER_DAY);
            let (y, m, d) = ymd_from_days(days);
            write_year_md(out, y, m, d);
            out.push(' ');
            write_time_of_day(out, tod);
            if y <= 0 {
                out.push_str(" BC");
            }
        }
    }
}

/// Current local time as a timestamp (for `now()` and the `now` input), in microseconds
/// since 2000-01-01.
pub fn now_timestamp() -> i64 {
    let now = chrono::Local::now().naive_local();
    let epoch = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
    (now - epoch).num_microseconds().unwrap_or(0)
}

fn syntax(ty: &str, s: &str) -> FdwError {
    FdwError::new(SqlState::INVALID_DATETIME_FORMAT, format!("invalid input syntax for type {ty}: \"{s}\""))
}

fn field_range(s: &str) -> FdwError {
    FdwError::new(SqlState::DATETIME_FIELD_OVERFLOW, format!("date/time field value out of range: \"{s}\""))
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

fn month_from_name(w: &str) -> Option<u32> {
    if w.len() < 3 {
        return None;
    }
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    for (i, name) in full.iter().enumerate() {
        if *name == w || (w.len() == 3 && MONTHS[i] == w) || (w == "sept" && i == 8) {
            return Some(i as u32 + 1);
        }
    }
    None
}

fn is_weekday_name(w: &str) -> bool {
    const DAYS: [&str; 7] = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
    DAYS.iter().any(|d| *d == w || (w.len() == 3 && d.starts_with(w)))
}

/// What a date/time string parsed to.
enum Parsed {
    /// Days and microseconds of the day.
    Value(i64, i64),
    NegInfinity,
    PosInfinity,
}

#[derive(Default)]
struct Fields {
    year: Option<i64>,
    year_digits: usize,
    month: Option<u32>,
    day: Option<u32>,
    /// Numbers not yet placed (`January 8, 1999` gives 8 and 1999).
    loose: Vec<(i64, usize)>,
    time: Option<i64>,
    bc: bool,
    pm: Option<bool>,
}

/// Parses a time of day `HH:MM[:SS[.frac]]` into microseconds; `None` on bad syntax.
fn parse_time(t: &str) -> Option<Result<i64, ()>> {
    let mut parts = t.split(':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let sec_str = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let mut micros = 0i64;
    if let Some(ss) = sec_str {
        let (whole, frac) = ss.split_once('.').unwrap_or((ss, ""));
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let sec: i64 = whole.parse().ok()?;
        if sec > 60 {
            return Some(Err(()));
        }
        micros = sec * 1_000_000 + frac_to_micros(frac);
    }
    if !(0..=24).contains(&h) || !(0..60).contains(&m) {
        return Some(Err(()));
    }
    let total = (h * 3600 + m * 60) * 1_000_000 + micros;
    if total > USECS_PER_DAY {
        return Some(Err(()));
    }
    Some(Ok(total))
}

/// Fractional digits to microseconds, rounding at the seventh digit as PostgreSQL does.
pub(crate) fn frac_to_micros(frac: &str) -> i64 {
    let mut v = 0i64;
    let mut n = 0;
    for b in frac.bytes().take(6) {
        v = v * 10 + (b - b'0') as i64;
        n += 1;
    }
    while n < 6 {
        v *= 10;
        n += 1;
    }
    if frac.len() > 6 && frac.as_bytes()[6] >= b'5' {
        v += 1;
    }
    v
}

fn two_digit_year(y: i64, digits: usize) -> i64 {
    if digits <= 2 {
        if y < 70 {
            y + 2000
        } else {
            y + 1900
        }
    } else {
        y
    }
}

/// Splits a date token at `-`, `/` or `.` into its parts, placing them into `f`.
fn date_token(tok: &str, f: &mut Fields) -> Result<(), ()> {
    let sep = tok.bytes().find(|b| matches!(b, b'-' | b'/' | b'.')).ok_or(())?;
    let parts: Vec<&str> = tok.split(sep as char).collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(());
    }
    let num = |p: &str| -> Option<(i64, usize)> {
        if p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 9 {
            p.parse().ok().map(|v| (v, p.len()))
        } else {
            None
        }
    };
    if let Some(pos) = parts.iter().position(|p| month_from_name(p).is_some()) {
        f.month = month_from_name(parts[pos]);
        let others: Vec<(i64, usize)> = parts
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != pos)
            .map(|(_, p)| num(p).ok_or(()))
            .collect::<Result<_, _>>()?;
        // `1999-Jan-08` (year first when it has 3+ digits), `08-Jan-1999`, `Jan-08-1999`.
        let (a, b) = (others[0], others[1]);
        if a.1 >= 3 {
            set_year(f, a);
            f.day = Some(b.0 as u32);
        } else {
            f.day = Some(a.0 as u32);
            set_year(f, b);
        }
        return Ok(());
    }
    let a = num(parts[0]).ok_or(())?;
    let b = num(parts[1]).ok_or(())?;
    let c = num(parts[2]).ok_or(())?;
    if a.1 >= 3 {
        // ISO order: year, month, day.
        set_year(f, a);
        f.month = Some(b.0 as u32);
        f.day = Some(c.0 as u32);
    } else {
        // DateStyle MDY.
        f.month = Some(a.0 as u32);
        f.day = Some(b.0 as u32);
        set_year(f, c);
    }
    Ok(())
}

fn set_year(f: &mut Fields, (v, digits): (i64, usize)) {
    f.year = Some(v);
    f.year_digits = digits;
}

fn parse_datetime(s: &str, ty: &str) -> FdwResult<Parsed> {
    let lower = s.trim().to_ascii_lowercase();
    match lower.as_str() {
        "infinity" | "+infinity" => return Ok(Parsed::PosInfinity),
        "-infinity" => return Ok(Parsed::NegInfinity),
        "epoch" => return Ok(Parsed::Value(-UNIX_TO_PG_DAYS, 0)),
        "now" => {
            let ts = now_timestamp();
            return Ok(Parsed::Value(ts.div_euclid(USECS_PER_DAY), ts.rem_euclid(USECS_PER_DAY)));
        }
        "today" | "tomorrow" | "yesterday" => {
            let d = now_timestamp().div_euclid(USECS_PER_DAY);
            let off = match lower.as_str() {
                "tomorrow" => 1,
                "yesterday" => -1,
                _ => 0,
            };
            return Ok(Parsed::Value(d + off, 0));
        }
        _ => {}
    }
    let mut f = Fields::default();
    let mut tokens: Vec<String> = Vec::new();
    for raw in lower.split(|c: char| c.is_ascii_whitespace() || c == ',').filter(|t| !t.is_empty()) {
        // ISO `T` separator: 1996-03-13t10:00:00.
        if let Some(pos) = raw.find('t') {
            let (d, t) = raw.split_at(pos);
            let numeric_date = !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit() || b == b'-' || b == b'/');
            if numeric_date && t.len() > 1 && t.as_bytes()[1].is_ascii_digit() {
                tokens.push(d.to_string());
                tokens.push(t[1..].to_string());
                continue;
            }
        }
        tokens.push(raw.to_string());
    }
    if tokens.is_empty() {
        return Err(syntax(ty, s));
    }
    for tok in &tokens {
        let t = tok.as_str();
        if t.contains(':') && f.time.is_none() {
            // Strip a zone suffix (`+02`, `-05:00`, `z`); a timestamp ignores it.
            let cut = t.char_indices().skip(1).find(|(_, c)| matches!(c, '+' | '-' | 'z')).map(|(i, _)| i);
            let time_part = cut.map_or(t, |i| &t[..i]);
            match parse_time(time_part) {
                Some(Ok(us)) => f.time = Some(us),
                Some(Err(())) => return Err(field_range(s)),
                None => return Err(syntax(ty, s)),
            }
        } else if t.bytes().all(|b| b.is_ascii_digit()) {
            if t.len() == 8 && f.year.is_none() && f.month.is_none() {
                let v: i64 = t.parse().map_err(|_| syntax(ty, s))?;
                set_year(&mut f, (v / 10000, 4));
                f.month = Some((v / 100 % 100) as u32);
                f.day = Some((v % 100) as u32);
            } else if t.len() <= 9 {
                let v: i64 = t.parse().map_err(|_| syntax(ty, s))?;
                f.loose.push((v, t.len()));
            } else {
                return Err(syntax(ty, s));
            }
        } else if t.bytes().any(|b| b.is_ascii_digit())
            && t.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'/' | b'.'))
            && t.bytes().skip(1).any(|b| matches!(b, b'-' | b'/' | b'.'))
            && f.year.is_none()
            && f.month.is_none()
        {
            date_token(t, &mut f).map_err(|_| syntax(ty, s))?;
        } else if let Some(m) = month_from_name(t.trim_end_matches('.')) {
            if f.month.is_some() {
                return Err(syntax(ty, s));
            }
            f.month = Some(m);
        } else if t == "bc" {
            f.bc = true;
        } else if t == "ad" {
        } else if t == "am" || t == "pm" {
            f.pm = Some(t == "pm");
        } else if is_weekday_name(t.trim_end_matches('.')) {
        } else if f.time.is_some() && (matches!(t, "z" | "utc" | "gmt") || t.starts_with('+') || t.starts_with('-')) {
            // A time zone after the time: ignored by timestamp without time zone.
        } else {
            return Err(syntax(ty, s));
        }
    }
    // Place loose numbers: `January 8, 1999` / `8 January 1999`.
    if f.month.is_some() && f.day.is_none() {
        let loose = std::mem::take(&mut f.loose);
        match loose.as_slice() {
            [a, b] => {
                if a.1 >= 3 {
                    set_year(&mut f, *a);
                    f.day = Some(b.0 as u32);
                } else {
                    f.day = Some(a.0 as u32);
                    set_year(&mut f, *b);
                }
            }
            _ => return Err(syntax(ty, s)),
        }
    } else if f.month.is_none() && f.year.is_none() && f.loose.len() == 3 {
        // `1999 01 08` (year first when it has 3+ digits) or `01 08 1999` (MDY).
        let l = std::mem::take(&mut f.loose);
        if l[0].1 >= 3 {
            set_year(&mut f, l[0]);
            f.month = Some(l[1].0 as u32);
            f.day = Some(l[2].0 as u32);
        } else {
            f.month = Some(l[0].0 as u32);
            f.day = Some(l[1].0 as u32);
            set_year(&mut f, l[2]);
        }
    } else if f.month.is_none() && f.year.is_none() && f.loose.len() == 1 && f.loose[0].1 <= 2 {
        // PostgreSQL reads a lone small number as a field that is out of range here.
        return Err(field_range(s).with_hint("Perhaps you need a different \"datestyle\" setting."));
    } else if !f.loose.is_empty() {
        return Err(syntax(ty, s));
    }
    let (Some(y), Some(m), Some(d)) = (f.year, f.month, f.day) else {
        return Err(syntax(ty, s));
    };
    let mut y = two_digit_year(y, f.year_digits);
    if f.bc {
        if y <= 0 {
            return Err(field_range(s));
        }
        y = 1 - y;
    } else if y == 0 {
        return Err(field_range(s));
    }
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return Err(field_range(s));
    }
    let mut time = f.time.unwrap_or(0);
    if let Some(pm) = f.pm {
        let hour = time / 3_600_000_000;
        if hour > 12 {
            return Err(field_range(s));
        }
        if pm && hour < 12 {
            time += 12 * 3_600_000_000;
        } else if !pm && hour == 12 {
            time -= 12 * 3_600_000_000;
        }
    }
    let days = days_from_ymd(y, m, d);
    if !(MIN_DAYS..=MAX_DAYS).contains(&days) {
        return Err(FdwError::new(SqlState::DATETIME_FIELD_OVERFLOW, format!("date out of range: \"{s}\"")));
    }
    Ok(Parsed::Value(days, time))
}

/// The common `YYYY-MM-DD` form without allocating (bulk loads and file scans parse millions
/// of these); `None` sends anything else to the general parser ([`parse_date`]), which gives
/// the same day for every input this accepts.
pub fn fast_iso_date(b: &[u8]) -> Option<i64> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, c| c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32))
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if y == 0 || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y as i64, m) {
        return None;
    }
    Some(days_from_ymd(y as i64, m, d))
}

/// Parses `date` input.
pub fn parse_date(s: &str) -> FdwResult<i32> {
    if let Some(d) = fast_iso_date(s.as_bytes()) {
        return Ok(d as i32);
    }
    match parse_datetime(s, "date")? {
        Parsed::PosInfinity => Ok(DATE_POS_INFINITY),
        Parsed::NegInfinity => Ok(DATE_NEG_INFINITY),
        Parsed::Value(d, _) => Ok(d as i32),
    }
}

/// Parses `timestamp` input.
pub fn parse_timestamp(s: &str) -> FdwResult<i64> {
    // Fast path: `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` exactly.
    let b = s.as_bytes();
    if b.len() >= 10 {
        if let Some(days) = fast_iso_date(&b[..10]) {
            if b.len() == 10 {
                return Ok(days * USECS_PER_DAY);
            }
            if b.len() == 19 && (b[10] == b' ' || b[10] == b'T') && b[13] == b':' && b[16] == b':' {
                let two = |i: usize| -> Option<i64> {
                    (b[i].is_ascii_digit() && b[i + 1].is_ascii_digit())
                        .then(|| ((b[i] - b'0') * 10 + (b[i + 1] - b'0')) as i64)
                };
                if let (Some(h), Some(mi), Some(sec)) = (two(11), two(14), two(17)) {
                    if h < 24 && mi < 60 && sec < 60 {
                        return Ok(days * USECS_PER_DAY + ((h * 60 + mi) * 60 + sec) * 1_000_000);
                    }
                }
            }
        }
    }
    match parse_datetime(s, "timestamp")? {
        Parsed::PosInfinity => Ok(TS_POS_INFINITY),
        Parsed::NegInfinity => Ok(TS_NEG_INFINITY),
        Parsed::Value(d, t) => d
            .checked_mul(USECS_PER_DAY)
            .and_then(|v| v.checked_add(t))
            .filter(|v| *v != TS_POS_INFINITY && *v != TS_NEG_INFINITY)
            .ok_or_else(|| {
                FdwError::new(SqlState::DATETIME_FIELD_OVERFLOW, format!("timestamp out of range: \"{s}\""))
            }),
    }
}

/// A timestamp from its parts (`make_date`, `date_trunc`).
pub fn timestamp_from_parts(days: i64, micros_of_day: i64) -> i64 {
    days * USECS_PER_DAY + micros_of_day
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> String {
        let mut o = String::new();
        write_date(&mut o, parse_date(s).unwrap());
        o
    }
    fn ts(s: &str) -> String {
        let mut o = String::new();
        write_timestamp(&mut o, parse_timestamp(s).unwrap());
        o
    }

    #[test]
    fn calendar_roundtrip() {
        assert_eq!(days_from_ymd(2000, 1, 1), 0);
        assert_eq!(days_from_ymd(1970, 1, 1), -10957);
        for days in [-800_000i64, -1, 0, 1, 59, 60, 365, 366, 10_000, 3_000_000] {
            let (y, m, dd) = ymd_from_days(days);
            assert_eq!(days_from_ymd(y, m, dd), days);
        }
        assert_eq!(day_of_week(0), 6);
    }

    #[test]
    fn date_io_matches_postgres() {
        // Verified with psql.
        assert_eq!(d("1996-03-13"), "1996-03-13");
        assert_eq!(d("1/8/1999"), "1999-01-08");
        assert_eq!(d("19990108"), "1999-01-08");
        assert_eq!(d("January 8, 1999"), "1999-01-08");
        assert_eq!(d("1999-Jan-08"), "1999-01-08");
        assert_eq!(d("08-Jan-1999"), "1999-01-08");
        assert_eq!(d("10000-01-01"), "10000-01-01");
        assert_eq!(d("0001-12-31 BC"), "0001-12-31 BC");
        assert_eq!(d(" infinity "), "infinity");
        assert_eq!(d("2000-02-29"), "2000-02-29");
        let e = parse_date("2020-02-30").unwrap_err();
        assert_eq!(
            (e.sqlstate, e.message.as_str()),
            (SqlState::DATETIME_FIELD_OVERFLOW, "date/time field value out of range: \"2020-02-30\"")
        );
        let e = parse_date("abc").unwrap_err();
        assert_eq!(
            (e.sqlstate, e.message.as_str()),
            (SqlState::INVALID_DATETIME_FORMAT, "invalid input syntax for type date: \"abc\"")
        );
    }

    #[test]
    fn timestamp_io_matches_postgres() {
        assert_eq!(ts("1996-03-13 10:00"), "1996-03-13 10:00:00");
        assert_eq!(ts("1996-03-13 10:00:00.5"), "1996-03-13 10:00:00.5");
        assert_eq!(ts("1996-03-13T10:00:00.123456789"), "1996-03-13 10:00:00.123457");
        assert_eq!(ts("1996-03-13 10:00:00+02"), "1996-03-13 10:00:00");
        assert_eq!(ts("1996-03-13"), "1996-03-13 00:00:00");
        assert_eq!(ts("epoch"), "1970-01-01 00:00:00");
        assert_eq!(ts("-infinity"), "-infinity");
        assert_eq!(ts("1999-01-08 04:05:06 pm"), "1999-01-08 16:05:06");
        assert!(parse_timestamp("1996-03-13 25:00").is_err());
    }
}
