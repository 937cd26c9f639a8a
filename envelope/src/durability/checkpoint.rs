//! Checkpoints: the CHECKPOINT statement and the background checkpointer.
//!
//! A checkpoint (PostgreSQL's online checkpoint, simplified):
//! 1. holds the DDL lock for its whole duration (DDL waits; transactions do not), so the
//!    wrappers' snapshots and the catalog file agree with each other and no DDL record can be
//!    both inside a snapshot and after its redo LSN (DDL replay is not idempotent);
//! 2. takes the commit gate exclusively just long enough to read the redo LSN: no transaction is
//!    then between its redo record and its install, so each one is either wholly before the
//!    redo point (and installed, so in the snapshot) or wholly after (and replayed);
//! 3. asks every durable wrapper to checkpoint (MOT: a fuzzy copy made consistent by replaying
//!    from the redo LSN, see `mot_engine::durability`);
//! 4. writes the catalog file;
//! 5. `Wal::complete_checkpoint`: checkpoint record, control file, recycling of old segments.
//!
//! The background checkpointer wakes every second and runs one when xlog's policy says so: after
//! half of max_wal_size of WAL, or checkpoint_timeout after the last one.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use xlog::CheckpointResult;

use super::xlog_error;
use crate::database::DbInner;
use crate::Result;

/// Runs one checkpoint of `db`; `None` for an in-memory database.
pub(crate) fn run(db: &DbInner) -> Result<Option<CheckpointResult>> {
    let Some(d) = &db.durability else { return Ok(None) };
    let _ddl = db.ddl_lock.lock();
    let _one = d.checkpoint_lock.lock();
    let redo = {
        let _gate = d.commit_gate.write();
        d.wal.begin_checkpoint().map_err(xlog_error)?
    };
    for name in db.registry.names() {
        if let Some(w) = db.registry.get(&name) {
            if let Some(r) = w.durability_routine() {
                r.checkpoint(redo)?;
            }
        }
    }
    if let Some(dir) = &db.data_dir {
        db.catalog.read().save(dir)?;
    }
    let next_xid = db.next_xid.load(std::sync::atomic::Ordering::Relaxed);
    let r = d.wal.complete_checkpoint(redo, next_xid).map_err(xlog_error)?;
    *d.last_checkpoint.lock() = Instant::now();
    Ok(Some(r))
}

/// Starts the background checkpointer of `db`; it stops when the database is dropped.
pub(crate) fn spawn_checkpointer(db: &Arc<DbInner>) {
    let Some(d) = &db.durability else { return };
    let stop = d.stop.clone();
    let weak: Weak<DbInner> = Arc::downgrade(db);
    let _ = std::thread::Builder::new().name("checkpointer".into()).spawn(move || loop {
        {
            let mut stopped = stop.0.lock();
            if *stopped {
                return;
            }
            stop.1.wait_for(&mut stopped, Duration::from_secs(1));
            if *stopped {
                return;
            }
        }
        let Some(db) = weak.upgrade() else { return };
        let Some(d) = &db.durability else { return };
        if d.wal.is_broken() {
            continue;
        }
        let elapsed = d.last_checkpoint.lock().elapsed();
        if d.policy.should_checkpoint(d.wal.bytes_since_checkpoint(), elapsed).is_some() {
            // A failure leaves the previous checkpoint in force; the next round retries.
            let _ = run(&db);
        }
    });
}
