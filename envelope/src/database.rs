//! The embedding API: `Database` (a data directory and its registered wrappers) and `Session`
//! (a connection: settings, the current transaction, prepared statements).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fdw_api::{DataType, Datum, FdwError, FdwRoutine, Row};

use crate::Result;

/// A result column.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: DataType,
}

/// The result of one statement: rows for a query (possibly none), and psql's command tag
/// (`SELECT 3`, `CREATE FOREIGN TABLE`, `INSERT 0 1`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryResult {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub tag: String,
    /// NOTICE/WARNING messages raised by the statement.
    pub notices: Vec<String>,
    /// True when the statement returns a result set (even an empty one), so a client prints a
    /// table rather than the command tag.
    pub returns_rows: bool,
}

impl QueryResult {
    /// The value at (row, column), converted to a Rust type.
    pub fn get<T: FromDatum>(&self, row: usize, column: usize) -> Result<T> {
        let d = self
            .rows
            .get(row)
            .and_then(|r| r.get(column))
            .ok_or_else(|| FdwError::internal(format!("no value at row {row}, column {column}")))?;
        T::from_datum(d)
    }
}

/// Conversion of a datum to a Rust value (typed rows).
pub trait FromDatum: Sized {
    fn from_datum(d: &Datum) -> Result<Self>;
}

macro_rules! from_datum_int {
    ($t:ty) => {
        impl FromDatum for $t {
            fn from_datum(d: &Datum) -> Result<Self> {
                d.as_i64()
                    .and_then(|v| <$t>::try_from(v).ok())
                    .ok_or_else(|| FdwError::internal(format!("cannot convert {:?} to {}", d, stringify!($t))))
            }
        }
    };
}
from_datum_int!(i16);
from_datum_int!(i32);
from_datum_int!(i64);

impl FromDatum for String {
    fn from_datum(d: &Datum) -> Result<Self> {
        if d.is_null() {
            return Err(FdwError::internal("cannot convert NULL to String"));
        }
        Ok(d.to_text())
    }
}

impl FromDatum for f64 {
    fn from_datum(d: &Datum) -> Result<Self> {
        match d {
            Datum::Float8(v) => Ok(*v),
            Datum::Float4(v) => Ok(*v as f64),
            Datum::Numeric(n) => n.to_string().parse().map_err(|_| FdwError::internal("bad numeric")),
            _ => d.as_i64().map(|v| v as f64).ok_or_else(|| FdwError::internal(format!("cannot convert {d:?} to f64"))),
        }
    }
}

impl FromDatum for bool {
    fn from_datum(d: &Datum) -> Result<Self> {
        d.as_bool().ok_or_else(|| FdwError::internal(format!("cannot convert {d:?} to bool")))
    }
}

impl<T: FromDatum> FromDatum for Option<T> {
    fn from_datum(d: &Datum) -> Result<Self> {
        if d.is_null() {
            Ok(None)
        } else {
            T::from_datum(d).map(Some)
        }
    }
}

impl FromDatum for Datum {
    fn from_datum(d: &Datum) -> Result<Self> {
        Ok(d.clone())
    }
}

/// Configures and opens a database.
pub struct DatabaseBuilder {
    data_dir: Option<PathBuf>,
    wrappers: Vec<Arc<dyn FdwRoutine>>,
    builtin: bool,
}

impl DatabaseBuilder {
    pub fn new() -> Self {
        DatabaseBuilder { data_dir: None, wrappers: Vec::new(), builtin: true }
    }
    /// Keep the catalog (and, later, data) in this directory; without one the database is in
    /// memory.
    pub fn data_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.data_dir = Some(dir.as_ref().to_path_buf());
        self
    }
    /// Registers a wrapper under its `name()` (the handler name `CREATE FOREIGN DATA WRAPPER
    /// ... HANDLER` refers to).
    pub fn register(mut self, wrapper: Arc<dyn FdwRoutine>) -> Self {
        self.wrappers.push(wrapper);
        self
    }
    /// Whether to register the built-in wrappers (feature `builtin-wrappers`). Default true.
    pub fn builtin_wrappers(mut self, on: bool) -> Self {
        self.builtin = on;
        self
    }
    pub fn open(self) -> Result<Database> {
        let _ = (self.data_dir, self.wrappers, self.builtin);
        Ok(Database {})
    }
}

/// A database: its catalog, registered wrappers and (with a data directory) durable state.
#[derive(Clone)]
pub struct Database {}

impl Database {
    /// Opens (creating if needed) the database in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Database> {
        DatabaseBuilder::new().data_dir(dir).open()
    }
    /// A database that lives in memory only.
    pub fn open_in_memory() -> Result<Database> {
        DatabaseBuilder::new().open()
    }
    pub fn builder() -> DatabaseBuilder {
        DatabaseBuilder::new()
    }
    /// A new session (connection) as user `postgres`.
    pub fn session(&self) -> Session {
        Session {}
    }
}

/// A prepared statement (`Session::prepare`), executable many times with `$n` parameters.
#[derive(Clone, Debug)]
pub struct PreparedStatement {
    pub sql: String,
    pub param_types: Vec<DataType>,
    pub columns: Vec<Column>,
}

/// A connection to a database.
pub struct Session {}

impl Session {
    /// Runs every statement of `sql` in order and returns their results; stops after the
    /// first failing statement, whose error is the last element.
    pub fn execute_batch(&mut self, sql: &str) -> Vec<Result<QueryResult>> {
        let _ = sql;
        vec![Err(FdwError::feature("not implemented"))]
    }
    /// Runs the statements of `sql`, returning the last result, or the first error.
    pub fn execute(&mut self, sql: &str) -> Result<QueryResult> {
        let mut last = Ok(QueryResult::default());
        for r in self.execute_batch(sql) {
            last = r;
            if last.is_err() {
                break;
            }
        }
        last
    }
    /// Runs one statement with `$n` parameters.
    pub fn query(&mut self, sql: &str, params: &[Datum]) -> Result<QueryResult> {
        let p = self.prepare(sql)?;
        self.execute_prepared(&p, params)
    }
    pub fn prepare(&mut self, sql: &str) -> Result<PreparedStatement> {
        let _ = sql;
        Err(FdwError::feature("not implemented"))
    }
    pub fn execute_prepared(&mut self, stmt: &PreparedStatement, params: &[Datum]) -> Result<QueryResult> {
        let _ = (stmt, params);
        Err(FdwError::feature("not implemented"))
    }
}
