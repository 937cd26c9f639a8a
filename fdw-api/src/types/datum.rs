//! One SQL value.

use std::sync::Arc;

use super::{DataType, Interval, Numeric};

/// One value. `Null` is typeless; the type of a column lives in its schema.
#[derive(Clone, Debug, PartialEq)]
pub enum Datum {
    Null,
    Bool(bool),
    Int2(i16),
    Int4(i32),
    Int8(i64),
    Float4(f32),
    Float8(f64),
    Numeric(Numeric),
    /// text, varchar and char values alike.
    Text(Arc<str>),
    /// Days since 2000-01-01.
    Date(i32),
    /// Microseconds since 2000-01-01 00:00:00.
    Timestamp(i64),
    Interval(Interval),
}

/// A row: one datum per column of the producing node's schema.
pub type Row = Vec<Datum>;

impl Datum {
    pub fn is_null(&self) -> bool {
        matches!(self, Datum::Null)
    }

    pub fn text(s: &str) -> Datum {
        Datum::Text(Arc::from(s))
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Datum::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Integer value of any integer datum.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Datum::Int2(v) => Some(*v as i64),
            Datum::Int4(v) => Some(*v as i64),
            Datum::Int8(v) => Some(*v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Datum::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The natural type of a non-null datum (`Int4` for `Int4`, `Text` for text).
    pub fn natural_type(&self) -> DataType {
        match self {
            Datum::Null => DataType::Unknown,
            Datum::Bool(_) => DataType::Bool,
            Datum::Int2(_) => DataType::Int2,
            Datum::Int4(_) => DataType::Int4,
            Datum::Int8(_) => DataType::Int8,
            Datum::Float4(_) => DataType::Float4,
            Datum::Float8(_) => DataType::Float8,
            Datum::Numeric(_) => DataType::Numeric(None),
            Datum::Text(_) => DataType::Text,
            Datum::Date(_) => DataType::Date,
            Datum::Timestamp(_) => DataType::Timestamp,
            Datum::Interval(_) => DataType::Interval,
        }
    }
}
