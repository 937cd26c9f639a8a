//! Durability of an on-disk database: the WAL (crate `xlog`) under `<datadir>/wal`, the
//! envelope's own resource managers, the services wrappers log through, checkpoints and crash
//! recovery.
//!
//! Resource managers (the `rmgr` byte of each WAL record):
//!
//! | id | name        | records                                                         |
//! |----|-------------|-----------------------------------------------------------------|
//! | 0  | XLOG        | checkpoints (xlog's own)                                        |
//! | 1  | Transaction | COMMIT of a transaction that wrote records (after its redo)     |
//! | 2  | Catalog     | the whole catalog after a DDL statement, in the catalog file's text format |
//! | 10 | MOT         | MOT's redo (written by the wrapper through [`DurableServices`]) |
//!
//! **Catalog.** Each DDL statement logs the complete new catalog (its serialized text, the
//! catalog file's format) and flushes it before the statement returns: DDL is rare, a snapshot
//! replays trivially (the last one wins, so replay is idempotent) and needs no per-statement
//! redo logic. The catalog file itself is now part of the checkpoint: written (atomically) at
//! each checkpoint rather than at each DDL. Catalog records apply in log order whatever happens
//! to the transaction of the statement, because the envelope installs a DDL's catalog at once.
//!
//! **Commit.** See [`commit`]: redo records of the wrappers (in `pre_commit`), then a commit
//! record, then install, then (synchronous_commit = on) a group-commit flush. Replay applies a
//! transaction's records only when it meets the commit record; records with xid 0 (DDL of a
//! storage wrapper) apply immediately, in log order.
//!
//! **Checkpoint / recovery**: [`checkpoint`], [`recovery`].

pub mod checkpoint;
pub mod commit;
pub mod recovery;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use fdw_api::services::RmgrId;
use fdw_api::{EnvelopeServices, FdwError, FdwResult, Lsn, SqlState, TxnId};
use parking_lot::{Mutex, RwLock};
use xlog::{Record, RmgrTable, Wal, XlogError};

pub use recovery::RecoveryStats;
pub use xlog::{CheckpointPolicy, Fault, FaultyIo, WalOptions};

/// The envelope's transaction manager.
pub const RM_XACT: RmgrId = 1;
/// Catalog snapshots logged by DDL.
pub const RM_CATALOG: RmgrId = 2;
/// Info byte of a commit record.
pub const XACT_COMMIT: u8 = 0x00;
/// Info byte of a catalog snapshot record.
pub const CATALOG_SNAPSHOT: u8 = 0x00;

/// An `xlog` error as the envelope reports it: same SQLSTATE, message, detail and hint.
pub fn xlog_error(e: XlogError) -> FdwError {
    let mut f = FdwError::new(SqlState(e.sqlstate()), e.message);
    f.detail = e.detail;
    f.hint = e.hint;
    f
}

/// The durable state of an on-disk database.
pub struct Durability {
    pub wal: Arc<Wal>,
    pub services: Arc<DurableServices>,
    /// Held shared by a committing transaction from before its redo records until its writes are
    /// installed; taken exclusively while a checkpoint picks its redo LSN, so that no
    /// transaction straddles the redo point (its redo before it, its install after the
    /// checkpoint copied the rows).
    pub commit_gate: RwLock<()>,
    pub policy: CheckpointPolicy,
    /// When the last checkpoint completed (or the database was opened).
    pub last_checkpoint: Mutex<Instant>,
    /// One checkpoint at a time.
    pub checkpoint_lock: Mutex<()>,
    pub recovery: RecoveryStats,
    pub(crate) stop: Arc<(Mutex<bool>, parking_lot::Condvar)>,
}

impl std::fmt::Debug for Durability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Durability").field("datadir", &self.wal.datadir()).finish()
    }
}

impl Drop for Durability {
    fn drop(&mut self) {
        *self.stop.0.lock() = true;
        self.stop.1.notify_all();
        // A clean close keeps what synchronous_commit = off commits wrote so far.
        let _ = self.wal.flush_all();
    }
}

/// [`EnvelopeServices`] over the WAL: what wrappers log their redo through.
pub struct DurableServices {
    wal: Arc<Wal>,
    dir: PathBuf,
    /// Transactions that inserted a record and still need a commit record.
    wrote: Mutex<HashSet<TxnId>>,
}

impl DurableServices {
    pub fn new(wal: Arc<Wal>, dir: PathBuf) -> Self {
        DurableServices { wal, dir, wrote: Mutex::new(HashSet::new()) }
    }

    /// Whether `xid` logged anything (and forgets it).
    pub fn take_wrote(&self, xid: TxnId) -> bool {
        self.wrote.lock().remove(&xid)
    }
}

impl EnvelopeServices for DurableServices {
    fn wal_insert(&self, rmgr: RmgrId, xid: TxnId, data: &[u8]) -> FdwResult<Lsn> {
        if xid != 0 {
            self.wrote.lock().insert(xid);
        }
        self.wal.insert(rmgr, 0, xid, data).map_err(xlog_error)
    }
    fn current_lsn(&self) -> Lsn {
        self.wal.insert_lsn()
    }
    fn wal_flush(&self, lsn: Lsn) -> FdwResult<()> {
        self.wal.flush(lsn).map_err(xlog_error)
    }
    fn data_dir(&self) -> Option<PathBuf> {
        Some(self.dir.clone())
    }
}

/// pg_waldump descriptions of the envelope's resource managers (wrappers add theirs).
pub fn rmgr_table() -> RmgrTable {
    let mut t = RmgrTable::new();
    t.register(RM_XACT, "Transaction", |rec: &Record| match rec.info {
        XACT_COMMIT => match <[u8; 8]>::try_from(rec.payload.as_slice()) {
            Ok(b) => format!("COMMIT {}", format_time(u64::from_le_bytes(b))),
            Err(_) => "COMMIT".to_string(),
        },
        other => format!("UNKNOWN (info 0x{other:02X})"),
    });
    t.register(RM_CATALOG, "Catalog", |rec: &Record| {
        let text = String::from_utf8_lossy(&rec.payload);
        let objects = text.lines().filter(|l| l.starts_with("relation ")).count();
        format!("SNAPSHOT {} bytes; {objects} relations", rec.payload.len())
    });
    t
}

/// pg_waldump lines of the WAL of `dir` from `from` (default: the last checkpoint's redo LSN),
/// described by `table` (start from [`rmgr_table`] and register the wrappers' resource managers).
pub fn dump(
    dir: &std::path::Path,
    from: Option<Lsn>,
    table: RmgrTable,
) -> xlog::Result<impl Iterator<Item = xlog::Result<String>>> {
    xlog::dump_with(dir, from, table)
}

/// Microseconds since the Unix epoch as `YYYY-MM-DD HH:MM:SS.ffffff UTC`.
fn format_time(micros: u64) -> String {
    let secs = (micros / 1_000_000) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:06} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        micros % 1_000_000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_time_format() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00.000000 UTC");
        assert_eq!(format_time(1_700_000_000_123_456), "2023-11-14 22:13:20.123456 UTC");
    }

    #[test]
    fn xlog_errors_keep_sqlstate_and_hint() {
        let e = xlog_error(XlogError::new(xlog::ErrorKind::DiskFull, "disk full").with_hint("h"));
        assert_eq!(e.sqlstate.0, "53100");
        assert_eq!(e.hint.as_deref(), Some("h"));
    }
}
