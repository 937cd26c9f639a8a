//! # envelope: a PostgreSQL-style database whose every table is a foreign table
//!
//! ## Life of a query
//!
//! 1. **Parse** ([`sql`]): sqlparser's PostgreSQL dialect, plus our own parser for SQL/MED
//!    statements.
//! 2. **Bind** ([`bind`]): names resolved against a catalog snapshot ([`catalog`]), types
//!    checked and coerced with PostgreSQL's rules into a logical plan over `fdw_api::Expr`.
//! 3. **Plan** ([`plan`]): each base relation's wrapper sizes it and offers paths; joins are
//!    ordered by dynamic programming over the join graph; the cheapest path becomes an
//!    immutable [`plan::physical::Plan`].
//! 4. **Execute** ([`exec`]): a demand-pull iterator tree; scans call the wrapper's
//!    `begin_scan`/`next_batch`/`rescan`/`end`.
//! 5. **Commit**: the session drives every wrapper the transaction touched through the
//!    transaction lifecycle.
//!
//! ## Embedding
//!
//! ```
//! use envelope::Database;
//!
//! let db = Database::open_in_memory().unwrap();
//! let mut session = db.session();
//! let result = session.query("SELECT 1 + $1 AS two", &[envelope::Datum::Int4(1)]).unwrap();
//! assert_eq!(result.columns[0].name, "two");
//! ```

pub mod bind;
pub mod builtin;
pub mod catalog;
pub mod database;
pub mod durability;
pub mod exec;
pub mod plan;
pub mod sql;
pub mod srf;

pub use database::{Column, Database, DatabaseBuilder, PreparedStatement, QueryResult, Session};
pub use fdw_api::{DataType, Datum, FdwError as Error, Row, SqlState};

/// The envelope's result type: errors carry PostgreSQL's SQLSTATE.
pub type Result<T> = std::result::Result<T, Error>;
