//! SQL types with their modifiers.

use std::fmt;

/// A SQL type as PostgreSQL names it, with its type modifier where one applies.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DataType {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    /// `numeric(precision, scale)`; `None` for unconstrained `numeric`.
    Numeric(Option<(u8, u8)>),
    Text,
    /// `varchar(n)`; `None` for unconstrained `varchar`.
    Varchar(Option<u32>),
    /// `char(n)` (`bpchar`): blank-padded to `n`, trailing blanks insignificant.
    Char(Option<u32>),
    Date,
    Timestamp,
    Interval,
    /// The type of an untyped string literal or NULL before resolution (PostgreSQL's
    /// `unknown`). Never the type of a stored column.
    Unknown,
}

impl DataType {
    /// PostgreSQL's name of the type, as `format_type` prints it (`integer`, `numeric(15,2)`,
    /// `character varying(25)`), used by EXPLAIN VERBOSE and information_schema.
    pub fn sql_name(&self) -> String {
        match self {
            DataType::Bool => "boolean".into(),
            DataType::Int2 => "smallint".into(),
            DataType::Int4 => "integer".into(),
            DataType::Int8 => "bigint".into(),
            DataType::Float4 => "real".into(),
            DataType::Float8 => "double precision".into(),
            DataType::Numeric(None) => "numeric".into(),
            DataType::Numeric(Some((p, s))) => format!("numeric({p},{s})"),
            DataType::Text => "text".into(),
            DataType::Varchar(None) => "character varying".into(),
            DataType::Varchar(Some(n)) => format!("character varying({n})"),
            DataType::Char(None) => "bpchar".into(),
            DataType::Char(Some(n)) => format!("character({n})"),
            DataType::Date => "date".into(),
            DataType::Timestamp => "timestamp without time zone".into(),
            DataType::Interval => "interval".into(),
            DataType::Unknown => "unknown".into(),
        }
    }

    /// The name without modifier (`character varying`, `numeric`), as information_schema's
    /// `data_type` column shows it.
    pub fn base_name(&self) -> &'static str {
        match self {
            DataType::Bool => "boolean",
            DataType::Int2 => "smallint",
            DataType::Int4 => "integer",
            DataType::Int8 => "bigint",
            DataType::Float4 => "real",
            DataType::Float8 => "double precision",
            DataType::Numeric(_) => "numeric",
            DataType::Text => "text",
            DataType::Varchar(_) => "character varying",
            DataType::Char(_) => "character",
            DataType::Date => "date",
            DataType::Timestamp => "timestamp without time zone",
            DataType::Interval => "interval",
            DataType::Unknown => "unknown",
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            DataType::Int2
                | DataType::Int4
                | DataType::Int8
                | DataType::Float4
                | DataType::Float8
                | DataType::Numeric(_)
        )
    }

    pub fn is_integer(&self) -> bool {
        matches!(self, DataType::Int2 | DataType::Int4 | DataType::Int8)
    }

    pub fn is_string(&self) -> bool {
        matches!(self, DataType::Text | DataType::Varchar(_) | DataType::Char(_) | DataType::Unknown)
    }

    /// The same type without its modifier (`numeric(15,2)` -> `numeric`), which is what an
    /// expression over a column yields.
    pub fn without_modifier(&self) -> DataType {
        match self {
            DataType::Numeric(_) => DataType::Numeric(None),
            DataType::Varchar(_) => DataType::Varchar(None),
            DataType::Char(_) => DataType::Char(None),
            t => t.clone(),
        }
    }

    /// Typical width in bytes, for the `width=` of EXPLAIN.
    pub fn typical_width(&self) -> u32 {
        match self {
            DataType::Bool => 1,
            DataType::Int2 => 2,
            DataType::Int4 | DataType::Float4 | DataType::Date => 4,
            DataType::Int8 | DataType::Float8 | DataType::Timestamp => 8,
            DataType::Interval => 16,
            DataType::Numeric(_) => 8,
            DataType::Varchar(Some(n)) | DataType::Char(Some(n)) => (*n).min(1000) + 4,
            _ => 32,
        }
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sql_name())
    }
}
