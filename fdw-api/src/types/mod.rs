//! Values and their types, with PostgreSQL's semantics.
//!
//! `DataType` is a SQL type with its modifier (`numeric(15,2)`, `varchar(25)`); `Datum` is one
//! value. Both cross the wrapper boundary, so a wrapper parses its source data straight into
//! `Datum`s (`DataType::parse_text`) and the envelope prints them exactly as PostgreSQL's text
//! output does (`Datum::to_text`).
//!
//! Representation choices (simplifications against PostgreSQL):
//! - `numeric` is a 96-bit decimal (`rust_decimal`, 28 significant digits) rather than
//!   arbitrary precision; a value beyond that is `value overflows numeric format` (22003), or
//!   `numeric field overflow` against a `numeric(p,s)` modifier. There is no numeric `NaN`
//!   or `Infinity` (their input is rejected with 0A000). Within 28 digits results, scales and
//!   rounding are PostgreSQL's (see `numeric`).
//! - `date` is days since 2000-01-01 and `timestamp` microseconds since 2000-01-01 00:00, as in
//!   PostgreSQL, with `i32::MIN/MAX` and `i64::MIN/MAX` for -infinity/infinity; no time zones.
//! - text values are reference-counted so copying a row into a hash table is cheap.
//!
//! Modules: `text` (parse/print dispatch, integers, booleans, string modifiers), `float`,
//! `numeric`, `calendar` (date/timestamp), `interval_io`, and `compare` (the total order,
//! grouping equality and hashing: `Datum::cmp_for_sort`, `GroupKey`, `hash_datum`). The
//! `pg_conformance` tests compare all of it with a running PostgreSQL 15.

pub mod calendar;
pub mod compare;
mod datatype;
mod datetime;
mod datum;
pub mod float;
pub mod interval_io;
pub mod numeric;
#[cfg(test)]
mod pg_conformance;
pub mod text;

pub use compare::{hash_datum, DatumKey, GroupKey};
pub use datatype::DataType;
pub use datetime::{Interval, DATE_EPOCH_JDN, USECS_PER_DAY};
pub use datum::{Datum, Row};
pub use rust_decimal::Decimal as Numeric;
