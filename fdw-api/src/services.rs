//! What the envelope offers wrappers: WAL insertion, the current LSN, the data directory and
//! the execution context of a statement.
//!
//! A storage-engine wrapper writes its redo through `wal_insert` into the one shared WAL
//! (openGauss's XLOG interface for MOT) and replays it from `DurabilityRoutine::redo`.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::FdwResult;

/// A WAL position: the byte offset of a record in the log (xlog's type, printed `X/XXXXXXXX`).
pub use xlog::Lsn;

/// A resource manager id: which component wrote a WAL record and must replay it.
pub type RmgrId = u8;

/// A transaction id assigned by the envelope.
pub type TxnId = u64;

/// Services of the envelope available to every wrapper.
pub trait EnvelopeServices: Send + Sync {
    /// Appends a record for resource manager `rmgr` on behalf of transaction `xid`; returns the
    /// LSN just past it. Durable only once `wal_flush` covers it (the envelope flushes at
    /// commit).
    fn wal_insert(&self, rmgr: RmgrId, xid: TxnId, data: &[u8]) -> FdwResult<Lsn>;
    /// The current insert position of the WAL.
    fn current_lsn(&self) -> Lsn;
    /// Makes the WAL durable up to `lsn`.
    fn wal_flush(&self, lsn: Lsn) -> FdwResult<()>;
    /// The data directory, or `None` for an in-memory database.
    fn data_dir(&self) -> Option<PathBuf>;
}

/// Services of an in-memory database: no WAL. Inserting a record succeeds and is dropped, so a
/// storage engine behaves the same with and without durability; the LSN still advances.
#[derive(Debug, Default)]
pub struct VolatileServices {
    lsn: std::sync::atomic::AtomicU64,
}

impl EnvelopeServices for VolatileServices {
    fn wal_insert(&self, _rmgr: RmgrId, _xid: TxnId, data: &[u8]) -> FdwResult<Lsn> {
        let len = data.len() as u64 + 24;
        Ok(Lsn(self.lsn.fetch_add(len, std::sync::atomic::Ordering::Relaxed) + len))
    }
    fn current_lsn(&self) -> Lsn {
        Lsn(self.lsn.load(std::sync::atomic::Ordering::Relaxed))
    }
    fn wal_flush(&self, _lsn: Lsn) -> FdwResult<()> {
        Ok(())
    }
    fn data_dir(&self) -> Option<PathBuf> {
        None
    }
}

/// Isolation level of the current transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum IsolationLevel {
    #[default]
    ReadCommitted,
    RepeatableRead,
    Serializable,
}

/// The context of one statement's execution handed to scan and modify callbacks.
#[derive(Clone)]
pub struct ExecContext {
    pub xid: TxnId,
    /// True when the statement runs inside an explicit BEGIN ... COMMIT block.
    pub in_transaction_block: bool,
    pub isolation: IsolationLevel,
    /// The current user name (for user mappings).
    pub user: String,
    pub services: Arc<dyn EnvelopeServices>,
}

impl std::fmt::Debug for ExecContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecContext").field("xid", &self.xid).field("user", &self.user).finish()
    }
}
