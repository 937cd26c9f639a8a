//! Row records and their version word (Silo's TID word).
//!
//! A record is one row's identity for its whole life: its row id, a version word and the
//! current data. The version word packs a commit lock bit, an "absent" bit (not yet inserted,
//! or deleted) and the version: the commit TID of the transaction that last installed it.
//! A committing transaction sets the lock bit on the records it writes (in a global order)
//! and keeps it until it has installed its writes, which is how concurrent committers detect
//! each other.
//!
//! Readers never wait: the data and the version word are read together under the record's
//! read guard and installers replace both under its write guard, so a reader always sees a
//! consistent (version, data) pair, the last committed one. A transaction that later finds the
//! version changed (or locked by someone else) fails its validation.
//!
//! Simplification against Silo/MOT: the data is an `Arc<[Datum]>` behind a reader-writer
//! lock instead of raw memory read optimistically, because the crate is free of `unsafe`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use fdw_api::Datum;
use parking_lot::RwLock;

/// Set while a committing transaction owns the record.
pub const LOCK: u64 = 1 << 63;
/// Set while the record is not (or no longer) part of the table.
pub const ABSENT: u64 = 1 << 62;
/// The version bits (commit TIDs come from one global counter, so they never repeat).
pub const VERSION_MASK: u64 = ABSENT - 1;

/// The values of one row, in table column order.
pub type RowData = Arc<[Datum]>;

/// Bytes accounted for a record besides its data: the record, its `Arc` and the heap entry.
pub const RECORD_OVERHEAD: u64 = (std::mem::size_of::<Record>() + 16 + 64) as u64;

/// Bytes accounted for a row's data.
pub fn data_bytes(data: &[Datum]) -> u64 {
    let mut n = 16 + std::mem::size_of_val(data);
    for d in data {
        if let Datum::Text(s) = d {
            n += 16 + s.len();
        }
    }
    n as u64
}

#[derive(Debug)]
pub struct Record {
    pub row_id: u64,
    tid: AtomicU64,
    data: RwLock<RowData>,
}

impl Record {
    /// A committed, present record (index builds, vacuum).
    pub fn present(row_id: u64, data: RowData, version: u64) -> Record {
        Record { row_id, tid: AtomicU64::new(version & VERSION_MASK), data: RwLock::new(data) }
    }

    /// A record being inserted by a committing transaction: locked and absent until installed.
    pub fn pending_insert(row_id: u64, data: RowData) -> Record {
        Record { row_id, tid: AtomicU64::new(LOCK | ABSENT), data: RwLock::new(data) }
    }

    /// The version word as it is now.
    pub fn tid(&self) -> u64 {
        self.tid.load(Ordering::Acquire)
    }

    /// Runs `f` on the (version word, data) pair, read consistently.
    pub fn with<R>(&self, f: impl FnOnce(u64, &[Datum]) -> R) -> R {
        let g = self.data.read();
        let tid = self.tid.load(Ordering::Acquire);
        f(tid, &g)
    }

    /// The (version word, data) pair, read consistently.
    pub fn read(&self) -> (u64, RowData) {
        let g = self.data.read();
        (self.tid.load(Ordering::Acquire), g.clone())
    }

    /// Takes the commit lock if free.
    pub fn try_lock(&self) -> bool {
        let cur = self.tid.load(Ordering::Acquire);
        cur & LOCK == 0 && self.tid.compare_exchange(cur, cur | LOCK, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Releases the commit lock.
    pub fn unlock(&self) {
        self.tid.fetch_and(!LOCK, Ordering::AcqRel);
    }

    /// Installs new data (`None`: the row is deleted) with a new version; the lock bit stays
    /// as it is. Returns the data it replaced.
    pub fn install(&self, data: Option<RowData>, version: u64) -> RowData {
        let mut g = self.data.write();
        let lock = self.tid.load(Ordering::Acquire) & LOCK;
        let (new, absent) = match data {
            Some(d) => (d, 0),
            None => (Arc::from(Vec::new()), ABSENT),
        };
        let old = std::mem::replace(&mut *g, new);
        self.tid.store(lock | absent | (version & VERSION_MASK), Ordering::Release);
        old
    }
}

/// The version word without the lock bit: what a reader remembers and validation compares.
pub fn unlocked(tid: u64) -> u64 {
    tid & !LOCK
}
