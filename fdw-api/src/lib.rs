//! # fdw-api: the extended Foreign Data Wrapper API
//!
//! Every table of the envelope is reached through this API, whether its rows live in a CSV
//! file, a remote PostgreSQL or the in-memory MOT engine. It is PostgreSQL's `FdwRoutine`
//! (scan, modify, pushdown, support callbacks) extended with what openGauss added to host a
//! storage engine: index-aware planning, complete DDL, the transaction lifecycle, checkpoint,
//! redo, recovery, vacuum, memory statistics and a lite execution path. See [`routine`] for
//! the map from PostgreSQL's callbacks to these traits, and `README.md` for a guide to writing
//! a wrapper with this crate alone.
//!
//! The crate also holds what a wrapper and the envelope must agree on: values and types
//! ([`types`]), bound expressions ([`expr`]) and their evaluation ([`eval`], [`func`]), table
//! descriptions and options ([`schema`]), paths and costs ([`path`]), row batches
//! ([`batch`]), the services the envelope offers ([`services`]) and the error type
//! ([`error`]).

pub mod batch;
pub mod error;
pub mod eval;
pub mod expr;
pub mod filter;
pub mod func;
pub mod hash;
pub mod path;
pub mod routine;
pub mod schema;
pub mod services;
pub mod types;

pub use batch::{RowBatch, BATCH_SIZE};
pub use error::{FdwError, FdwResult, SqlState};
pub use expr::{AggFunc, BinaryOp, Expr, ScalarFunc, SubLinkKind, UnaryOp};
pub use filter::KeySet;
pub use path::{Cost, ForeignPath, PathKey, QualSupport, RelInfo, RelSize};
pub use routine::*;
pub use schema::{ColumnDef, ColumnStats, IndexDef, OptionTarget, Options, TableDesc, TableStats};
pub use services::{EnvelopeServices, ExecContext, IsolationLevel, Lsn, TxnId};
pub use types::{DataType, Datum, Interval, Numeric, Row};

/// The wrapper author's guide (`README.md`), whose examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
