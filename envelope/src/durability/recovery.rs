//! Opening an on-disk database: WAL recovery, checkpoint load, replay.
//!
//! 1. `xlog::Wal::open` reads the control file and finds the end of the WAL (cutting a torn
//!    tail, refusing damage followed by valid records).
//! 2. Every wrapper is initialized with [`DurableServices`] (done by the caller) and the catalog
//!    file written by the last checkpoint is loaded.
//! 3. Every durable wrapper loads its checkpoint (`DurabilityRoutine::recover`, in parallel
//!    inside the wrapper).
//! 4. The WAL is replayed from the checkpoint's redo LSN: catalog snapshots replace the catalog;
//!    a wrapper record with xid 0 goes to its wrapper at once; other records wait in a buffer
//!    per xid until the transaction's commit record, then go to their wrappers in log order.
//!    Transactions without a commit record (aborted, or cut off by the crash) are discarded.
//! 5. `end_recovery`: the control file says "in production"; the next xid is past every xid seen.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fdw_api::{err, FdwError, FdwRoutine, Lsn};
use parking_lot::Mutex;
use xlog::{CheckpointPolicy, Record, Wal, WalOptions, RM_XLOG};

use super::{xlog_error, Durability, DurableServices, RM_CATALOG, RM_XACT, XACT_COMMIT};
use crate::catalog::registry::WrapperRegistry;
use crate::catalog::Catalog;
use crate::Result;

/// What recovery did at open.
#[derive(Clone, Debug, Default)]
pub struct RecoveryStats {
    /// The previous run did not shut down cleanly.
    pub crashed: bool,
    pub redo: Lsn,
    pub end_of_wal: Lsn,
    /// WAL bytes replayed (end of WAL minus redo LSN).
    pub wal_bytes: u64,
    pub records: u64,
    /// Transactions applied at their commit record.
    pub committed: u64,
    /// Transactions with records but no commit record (discarded).
    pub discarded: u64,
    /// Time the durable wrappers took to load their checkpoints.
    pub checkpoint_load: Duration,
    pub replay: Duration,
    /// Why the end of the WAL was cut, if it was torn.
    pub truncated_tail: Option<String>,
}

/// An opened and recovered database's durable parts.
pub(crate) struct Recovered {
    pub durability: Arc<Durability>,
    pub catalog: Catalog,
    pub next_xid: u64,
}

/// Opens the WAL of `dir` and hands wrappers their services (steps 1-2).
pub(crate) fn open_wal(dir: &Path, opts: WalOptions) -> Result<(Arc<Wal>, xlog::RecoveryInfo, Arc<DurableServices>)> {
    let (wal, info) = Wal::open(dir, opts).map_err(xlog_error)?;
    let wal = Arc::new(wal);
    let services = Arc::new(DurableServices::new(wal.clone(), dir.to_path_buf()));
    Ok((wal, info, services))
}

/// Steps 2-5: the caller has opened the WAL and initialized the wrappers.
pub(crate) fn recover(
    dir: &Path,
    registry: &WrapperRegistry,
    wal: Arc<Wal>,
    info: xlog::RecoveryInfo,
    services: Arc<DurableServices>,
    policy: CheckpointPolicy,
) -> Result<Recovered> {
    let mut catalog = Catalog::load(dir, registry)?;
    let mut by_rmgr: HashMap<u8, Arc<dyn FdwRoutine>> = HashMap::new();
    for name in registry.names() {
        let Some(w) = registry.get(&name) else { continue };
        let Some(d) = w.durability_routine() else { continue };
        let id = d.rmgr_id();
        if id <= RM_CATALOG {
            return Err(err!(INTERNAL_ERROR, "wrapper \"{}\" uses reserved resource manager id {}", name, id));
        }
        if let Some(other) = by_rmgr.insert(id, w.clone()) {
            return Err(err!(
                INTERNAL_ERROR,
                "wrappers \"{}\" and \"{}\" use the same resource manager id {}",
                other.name(),
                name,
                id
            ));
        }
    }
    let mut stats = RecoveryStats {
        crashed: info.crashed(),
        redo: info.redo,
        end_of_wal: info.end_of_wal,
        wal_bytes: info.end_of_wal.0.saturating_sub(info.redo.0),
        truncated_tail: info.truncated_tail.clone(),
        ..Default::default()
    };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let t0 = Instant::now();
    for w in by_rmgr.values() {
        if let Some(d) = w.durability_routine() {
            d.recover(threads)?;
        }
    }
    stats.checkpoint_load = t0.elapsed();

    let t1 = Instant::now();
    let dispatch = |rec: &Record| -> Result<()> {
        let w = by_rmgr.get(&rec.rmgr).ok_or_else(|| {
            err!(DATA_CORRUPTED, "WAL record at {} has unknown resource manager id {}", rec.lsn, rec.rmgr)
        })?;
        match w.durability_routine() {
            Some(d) => d.redo(rec.lsn, rec.xid, &rec.payload).map_err(|e| in_record(e, rec)),
            None => Ok(()),
        }
    };
    let mut pending: HashMap<u64, Vec<Record>> = HashMap::new();
    let mut max_xid = 0u64;
    for rec in wal.reader(info.redo) {
        let rec = rec.map_err(xlog_error)?;
        stats.records += 1;
        max_xid = max_xid.max(rec.xid);
        match rec.rmgr {
            RM_XLOG => {}
            RM_CATALOG => {
                let text = std::str::from_utf8(&rec.payload)
                    .map_err(|_| err!(DATA_CORRUPTED, "invalid catalog record at {}", rec.lsn))?;
                catalog = crate::catalog::persist::decode(text).map_err(|(line, msg)| {
                    err!(DATA_CORRUPTED, "invalid catalog record at {}: line {}: {}", rec.lsn, line, msg)
                })?;
            }
            RM_XACT => {
                if rec.info == XACT_COMMIT {
                    if let Some(records) = pending.remove(&rec.xid) {
                        for r in &records {
                            dispatch(r)?;
                        }
                        stats.committed += 1;
                    }
                } else {
                    pending.remove(&rec.xid);
                }
            }
            _ if rec.xid == 0 => dispatch(&rec)?,
            _ => pending.entry(rec.xid).or_default().push(rec),
        }
    }
    stats.discarded = pending.len() as u64;
    stats.replay = t1.elapsed();
    wal.end_recovery().map_err(xlog_error)?;
    let next_xid = info.next_xid.max(max_xid + 1).max(1);
    let durability = Arc::new(Durability {
        wal,
        services,
        commit_gate: Default::default(),
        policy,
        last_checkpoint: Mutex::new(Instant::now()),
        checkpoint_lock: Mutex::new(()),
        recovery: stats,
        stop: Arc::new((Mutex::new(false), parking_lot::Condvar::new())),
    });
    Ok(Recovered { durability, catalog, next_xid })
}

fn in_record(e: FdwError, rec: &Record) -> FdwError {
    e.with_context(format!("WAL redo at {} for rmgr {} xid {}", rec.lsn, rec.rmgr, rec.xid))
}
