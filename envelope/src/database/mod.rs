//! The embedding API: `Database` (a data directory, its catalog and registered wrappers) and
//! `Session` (a connection: settings, the current transaction, prepared statements).
//!
//! A session runs each statement of a script in turn: DDL goes to the catalog (a new catalog
//! version is installed atomically and logged to the WAL of an on-disk database), queries and DML are
//! bound against a snapshot of the catalog, planned and executed. Every wrapper a transaction
//! touches is driven through the transaction lifecycle at its end.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use fdw_api::services::{EnvelopeServices, VolatileServices};
use fdw_api::{DataType, Datum, FdwError, FdwRoutine, Row};
use parking_lot::{Mutex, RwLock};

use xlog::{CheckpointPolicy, WalOptions};

use crate::catalog::registry::WrapperRegistry;
use crate::catalog::Catalog;
use crate::durability::{recovery, Durability, RecoveryStats};
use crate::Result;

mod settings;

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
    /// NOTICE/WARNING messages raised by the statement, formatted as psql prints them
    /// (`NOTICE:  ...`).
    pub notices: Vec<String>,
    /// True when the statement returns a result set (even an empty one), so a client prints a
    /// table rather than the command tag.
    pub returns_rows: bool,
}

impl QueryResult {
    fn tag(tag: impl Into<String>) -> Self {
        QueryResult { tag: tag.into(), ..Default::default() }
    }

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
    pub(crate) data_dir: Option<PathBuf>,
    wrappers: Vec<Arc<dyn FdwRoutine>>,
    builtin: bool,
    wal_options: WalOptions,
    checkpoint_policy: CheckpointPolicy,
    background_checkpointer: bool,
}

impl DatabaseBuilder {
    pub fn new() -> Self {
        DatabaseBuilder {
            data_dir: None,
            wrappers: Vec::new(),
            builtin: true,
            wal_options: WalOptions::default(),
            checkpoint_policy: CheckpointPolicy::default(),
            background_checkpointer: true,
        }
    }
    /// Keep the catalog (and durable wrappers' data) in this directory; without one the
    /// database lives in memory.
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
    /// Whether to register the built-in wrappers (cargo feature `builtin-wrappers`).
    /// Default true.
    pub fn builtin_wrappers(mut self, on: bool) -> Self {
        self.builtin = on;
        self
    }
    /// WAL settings of an on-disk database (segment size, wal_writer_delay, the file-system
    /// layer, e.g. `xlog::FaultyIo` for fault-injection tests).
    pub fn wal_options(mut self, opts: WalOptions) -> Self {
        self.wal_options = opts;
        self
    }
    /// When the background checkpointer runs (max_wal_size, checkpoint_timeout).
    pub fn checkpoint_policy(mut self, policy: CheckpointPolicy) -> Self {
        self.checkpoint_policy = policy;
        self
    }
    /// Whether to run the background checkpointer (default true; CHECKPOINT always works).
    pub fn background_checkpointer(mut self, on: bool) -> Self {
        self.background_checkpointer = on;
        self
    }
    /// Opens the database; with a data directory this runs crash recovery (see
    /// `crate::durability::recovery`).
    pub fn open(self) -> Result<Database> {
        let mut registry = WrapperRegistry::new();
        if self.builtin {
            crate::builtin::register(&mut registry);
        }
        for w in self.wrappers {
            registry.register(w);
        }
        let (services, durable): (Arc<dyn EnvelopeServices>, _) = match &self.data_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| FdwError::io(format!("could not create data directory \"{}\"", dir.display()), &e))?;
                let (wal, info, services) = recovery::open_wal(dir, self.wal_options)?;
                (services.clone(), Some((wal, info, services)))
            }
            None => (Arc::new(VolatileServices::default()), None),
        };
        for name in registry.names() {
            if let Some(w) = registry.get(&name) {
                w.init(services.clone())?;
            }
        }
        let (catalog, durability, next_xid) = match (&self.data_dir, durable) {
            (Some(dir), Some((wal, info, ds))) => {
                let r = recovery::recover(dir, &registry, wal, info, ds, self.checkpoint_policy)?;
                (r.catalog, Some(r.durability), r.next_xid)
            }
            _ => (Catalog::bootstrap(&registry), None, 1),
        };
        let inner = Arc::new(DbInner {
            data_dir: self.data_dir,
            registry,
            catalog: RwLock::new(Arc::new(catalog)),
            catalog_version: AtomicU64::new(0),
            ddl_lock: Mutex::new(()),
            services,
            next_xid: AtomicU64::new(next_xid),
            durability,
            locks: locks::LockManager::new(),
        });
        if self.background_checkpointer {
            crate::durability::checkpoint::spawn_checkpointer(&inner);
        }
        Ok(Database { inner })
    }
}

pub(crate) struct DbInner {
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) registry: WrapperRegistry,
    pub(crate) catalog: RwLock<Arc<Catalog>>,
    /// Bumped after each new catalog is installed: a prepared statement checks its plan
    /// against it with a plain load (sessions on other cores would contend on the catalog's
    /// lock word and reference count, which a load does not write).
    pub(crate) catalog_version: AtomicU64,
    /// Serializes DDL: each DDL statement edits a private copy of the catalog and installs it.
    pub(crate) ddl_lock: Mutex<()>,
    pub(crate) services: Arc<dyn EnvelopeServices>,
    pub(crate) next_xid: AtomicU64,
    /// The WAL and checkpoint state of an on-disk database.
    pub(crate) durability: Option<Arc<Durability>>,
    /// Table locks held by running transactions (`locks.rs`).
    pub(crate) locks: locks::LockManager,
}

impl DbInner {
    /// Makes a DDL statement's new catalog durable: a catalog record in the WAL, flushed.
    pub(crate) fn log_catalog(&self, catalog: &Catalog, xid: u64) -> Result<()> {
        match &self.durability {
            Some(d) => d.log_catalog(&crate::catalog::persist::encode(catalog), xid),
            None => Ok(()),
        }
    }
}

/// A database: its catalog, registered wrappers and (with a data directory) durable state.
/// Cheap to clone; clones share the database.
#[derive(Clone)]
pub struct Database {
    inner: Arc<DbInner>,
}

impl Database {
    /// Opens (creating if needed) the database in `dir`, with the built-in wrappers.
    pub fn open(dir: impl AsRef<Path>) -> Result<Database> {
        DatabaseBuilder::new().data_dir(dir).open()
    }
    /// A database that lives in memory only, with the built-in wrappers.
    pub fn open_in_memory() -> Result<Database> {
        DatabaseBuilder::new().open()
    }
    pub fn builder() -> DatabaseBuilder {
        DatabaseBuilder::new()
    }
    /// A new session (connection) as user `postgres`.
    pub fn session(&self) -> Session {
        Session::new(self.inner.clone())
    }
    /// The data directory, if any.
    pub fn data_dir(&self) -> Option<&Path> {
        self.inner.data_dir.as_deref()
    }
    /// Runs a checkpoint now (what the CHECKPOINT statement does); `None` in memory.
    pub fn checkpoint(&self) -> Result<Option<xlog::CheckpointResult>> {
        crate::durability::checkpoint::run(&self.inner)
    }
    /// What crash recovery did when the database was opened (on-disk databases).
    pub fn recovery_stats(&self) -> Option<RecoveryStats> {
        self.inner.durability.as_ref().map(|d| d.recovery.clone())
    }
    /// The write-ahead log of an on-disk database.
    pub fn wal(&self) -> Option<Arc<xlog::Wal>> {
        self.inner.durability.as_ref().map(|d| d.wal.clone())
    }
}

mod copy;
mod locks;
mod session;
mod txn;

pub use session::{PreparedStatement, Session};
