//! Dates, timestamps and intervals in PostgreSQL's representation.

/// Julian day number of 2000-01-01, PostgreSQL's date epoch.
pub const DATE_EPOCH_JDN: i32 = 2_451_545;
pub const USECS_PER_DAY: i64 = 86_400_000_000;

/// PostgreSQL's interval: months, days and microseconds kept apart, because a month has no
/// fixed number of days and a day no fixed number of seconds across DST in PostgreSQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Interval {
    pub months: i32,
    pub days: i32,
    pub micros: i64,
}

impl Interval {
    pub fn new(months: i32, days: i32, micros: i64) -> Self {
        Interval { months, days, micros }
    }
    /// Comparison key, as PostgreSQL compares intervals: 30-day months, 24-hour days.
    pub fn cmp_key(&self) -> i128 {
        (self.months as i128 * 30 + self.days as i128) * USECS_PER_DAY as i128 + self.micros as i128
    }
}
