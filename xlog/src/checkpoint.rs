//! Checkpoint bookkeeping: the redo point, the checkpoint record, the control file update,
//! segment recycling, and when to checkpoint.
//!
//! A checkpoint runs in two steps so that it never stops concurrent inserters (PostgreSQL's
//! online checkpoint):
//! 1. [`Wal::begin_checkpoint`] returns the current insert LSN: the redo point. Every change
//!    logged after it will be replayed.
//! 2. The envelope has every durable wrapper write its state as of (at least) the redo point.
//! 3. [`Wal::complete_checkpoint`] logs a checkpoint record (rmgr XLOG) carrying the redo point,
//!    flushes it, points the control file at it, then drops the segments entirely before the
//!    redo point: renamed to future segment names for reuse while fewer than `min_wal_size` of
//!    them are waiting, removed otherwise.
//!
//! Invariant: the control file only ever names a checkpoint record that is durable, and no
//! segment at or after the redo point of the checkpoint the control file names is removed. A
//! crash anywhere in step 3 leaves either the old checkpoint (whose redo segments still exist,
//! since removal happens last) or the new one.

use std::time::Duration;

use crate::control::{now_secs, DbState};
use crate::error::{ErrorKind, Result, XlogError};
use crate::lsn::Lsn;
use crate::record::{CheckpointPayload, ALIGN, RM_XLOG, XLOG_CHECKPOINT_ONLINE, XLOG_CHECKPOINT_SHUTDOWN};
use crate::wal::Wal;

/// What a completed checkpoint did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointResult {
    /// LSN of the checkpoint record.
    pub checkpoint: Lsn,
    pub redo: Lsn,
    /// Old segments renamed for reuse.
    pub recycled: usize,
    /// Old segments deleted.
    pub removed: usize,
}

impl Wal {
    /// Starts a checkpoint: returns the redo LSN (the current insert position).
    pub fn begin_checkpoint(&self) -> Result<Lsn> {
        self.inner.check_broken()?;
        Ok(self.inner.insert_lsn())
    }

    /// Finishes an online checkpoint begun at `redo`: logs the checkpoint record, flushes it,
    /// updates the control file and recycles the segments before `redo`. `next_xid` is the next
    /// transaction id the envelope will assign, kept so recovery never reuses one.
    pub fn complete_checkpoint(&self, redo: Lsn, next_xid: u64) -> Result<CheckpointResult> {
        self.checkpoint(redo, next_xid, false)
    }

    /// A checkpoint at the current insert position that also marks the cluster shut down (the
    /// last thing before a clean stop; nothing may be inserted after it).
    pub fn shutdown_checkpoint(&self, next_xid: u64) -> Result<CheckpointResult> {
        let redo = self.begin_checkpoint()?;
        self.checkpoint(redo, next_xid, true)
    }

    /// WAL bytes inserted since the redo point of the last checkpoint.
    pub fn bytes_since_checkpoint(&self) -> u64 {
        let redo = self.inner.control.lock().redo;
        self.inner.insert_lsn().0.saturating_sub(redo.0)
    }

    fn checkpoint(&self, redo: Lsn, next_xid: u64, shutdown: bool) -> Result<CheckpointResult> {
        let inner = &self.inner;
        let _one_at_a_time = inner.checkpoint_lock.lock();
        inner.check_broken()?;
        let (old_redo, timeline) = {
            let c = inner.control.lock();
            (c.redo, c.timeline)
        };
        if redo < old_redo || redo > inner.insert_lsn() || redo.0 % ALIGN != 0 {
            return Err(XlogError::new(
                ErrorKind::InvalidParameter,
                format!("invalid checkpoint redo LSN {redo}: it must be a record start between the previous redo LSN {old_redo} and the insert LSN"),
            ));
        }
        let payload = CheckpointPayload { redo, timeline, next_xid, time: now_secs() };
        let info = if shutdown { XLOG_CHECKPOINT_SHUTDOWN } else { XLOG_CHECKPOINT_ONLINE };
        let (start, end) = inner.insert_record(RM_XLOG, info, 0, &payload.encode())?;
        inner.flush(end)?;
        inner.write_control(|c| {
            c.checkpoint = start;
            c.redo = redo;
            c.next_xid = c.next_xid.max(next_xid);
            c.checkpoint_time = payload.time;
            if shutdown {
                c.state = DbState::ShutDown;
            } else if c.state == DbState::ShutDown {
                c.state = DbState::InProduction;
            }
        })?;
        let (recycled, removed) = self.remove_old_segments(redo)?;
        Ok(CheckpointResult { checkpoint: start, redo, recycled, removed })
    }

    /// Recycles or removes the segments entirely before `redo`'s segment.
    fn remove_old_segments(&self, redo: Lsn) -> Result<(usize, usize)> {
        let inner = &self.inner;
        let seg = inner.segment_size;
        // The writer lock keeps the flush leader from creating a segment while we rename into
        // future names (lock order: writer, then insert).
        let w = inner.writer.lock();
        let segs = w.list_segments()?;
        let current = inner.insert_lsn().0 / seg;
        let keep = (inner.min_wal_size / seg) as usize;
        let mut future = segs.iter().filter(|&&s| s > current).count();
        let mut next_free = segs.last().copied().unwrap_or(current).max(current) + 1;
        let (mut recycled, mut removed) = (0, 0);
        for &s in segs.iter().filter(|&&s| s < redo.0 / seg) {
            let name = w.name(s);
            let from = w.wal_dir.join(&name);
            if future < keep {
                let to_name = w.name(next_free);
                w.io.rename(&from, &w.wal_dir.join(&to_name)).map_err(|e| {
                    XlogError::io(&format!("could not rename file \"wal/{name}\" to \"wal/{to_name}\""), &e)
                })?;
                next_free += 1;
                future += 1;
                recycled += 1;
            } else {
                w.io.remove(&from).map_err(|e| XlogError::io(&format!("could not remove file \"wal/{name}\""), &e))?;
                removed += 1;
            }
        }
        if recycled + removed > 0 {
            w.sync_dir()?;
        }
        Ok((recycled, removed))
    }
}

/// When to checkpoint: by WAL volume and by time (PostgreSQL's max_wal_size, checkpoint_timeout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointPolicy {
    pub max_wal_size: u64,
    pub checkpoint_timeout: Duration,
}

impl Default for CheckpointPolicy {
    fn default() -> Self {
        CheckpointPolicy { max_wal_size: 1 << 30, checkpoint_timeout: Duration::from_secs(300) }
    }
}

/// Why a checkpoint is due (the word PostgreSQL logs in "checkpoint starting: ...").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointTrigger {
    Wal,
    Time,
}

impl CheckpointPolicy {
    /// A checkpoint is due when half of max_wal_size was written since the last redo point (so
    /// that, with the segments kept until the next checkpoint completes, the WAL stays under
    /// max_wal_size; PostgreSQL divides by 1 + checkpoint_completion_target, about 2), or when
    /// checkpoint_timeout has passed.
    pub fn should_checkpoint(&self, bytes_since_last: u64, elapsed: Duration) -> Option<CheckpointTrigger> {
        if bytes_since_last >= self.max_wal_size / 2 {
            Some(CheckpointTrigger::Wal)
        } else if elapsed >= self.checkpoint_timeout {
            Some(CheckpointTrigger::Time)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_by_volume_and_time() {
        let p = CheckpointPolicy { max_wal_size: 1000, checkpoint_timeout: Duration::from_secs(60) };
        assert_eq!(p.should_checkpoint(10, Duration::from_secs(1)), None);
        assert_eq!(p.should_checkpoint(500, Duration::from_secs(1)), Some(CheckpointTrigger::Wal));
        assert_eq!(p.should_checkpoint(10, Duration::from_secs(60)), Some(CheckpointTrigger::Time));
        assert_eq!(p.should_checkpoint(499, Duration::from_secs(59)), None);
    }
}
