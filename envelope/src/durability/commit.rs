//! The envelope's records: commit records and catalog snapshots.
//!
//! Commit protocol (`database::txn::finish_txn`):
//! 1. take the commit gate (shared);
//! 2. every wrapper's `pre_commit`: validation, then its redo records (MOT writes them while
//!    its write set is locked, so conflicting transactions log in serialization order);
//! 3. if anything was logged for the xid, the commit record (rmgr Transaction, payload: the
//!    commit time in microseconds since the Unix epoch);
//! 4. every wrapper's `commit` (install, unlock), then release the gate;
//! 5. synchronous_commit = on: `flush(commit LSN)`: the statement returns once the commit
//!    record is durable. Concurrent committers share fsyncs (xlog's group commit: a leader
//!    writes and fsyncs everything inserted so far while the others wait for it).
//!    synchronous_commit = off: no flush; xlog's WAL writer flushes every `wal_writer_delay`
//!    (200 ms), so a crash loses at most the commits of the last 200 ms plus one flush, always
//!    a suffix of the log.
//!
//! Installing before the flush (early lock release) lets the next transaction on a hot row
//! go ahead while this one waits for the disk; that is safe because the WAL is a prefix: a
//! later transaction that saw our writes can only become durable after our commit record. A
//! reader may see data whose commit is not durable yet (as with synchronous_commit = off in
//! PostgreSQL); its own client is told nothing was committed until the flush returns.

use std::time::{SystemTime, UNIX_EPOCH};

use fdw_api::{FdwResult, Lsn, TxnId};

use super::{xlog_error, Durability, CATALOG_SNAPSHOT, RM_CATALOG, RM_XACT, XACT_COMMIT};

impl Durability {
    /// Writes the commit record of `xid` if the transaction logged anything; returns its end.
    pub fn log_commit(&self, xid: TxnId) -> FdwResult<Option<Lsn>> {
        if !self.services.take_wrote(xid) {
            return Ok(None);
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64);
        self.wal.insert(RM_XACT, XACT_COMMIT, xid, &now.to_le_bytes()).map(Some).map_err(xlog_error)
    }

    /// Forgets that `xid` logged anything (it aborted; replay discards its records).
    pub fn forget(&self, xid: TxnId) {
        self.services.take_wrote(xid);
    }

    /// Logs the catalog after a DDL statement and makes it durable before the statement returns.
    pub fn log_catalog(&self, text: &str, xid: TxnId) -> FdwResult<()> {
        let end = self.wal.insert(RM_CATALOG, CATALOG_SNAPSHOT, xid, text.as_bytes()).map_err(xlog_error)?;
        self.wal.flush(end).map_err(xlog_error)
    }
}
