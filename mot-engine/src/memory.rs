//! Memory pools: exact byte accounting per table and per index.
//!
//! Every allocation the engine makes for committed rows (record, data, heap entry) is charged
//! to the table's pool and every index entry to its index's pool; the same amounts are
//! credited back when the memory is reclaimed (after the epoch GC, see `gc.rs`). A pool is
//! a counter, not an allocator: Rust's allocator does the work and the pool answers
//! `pg_relation_size`/`pg_indexes_size` and the global memory view. Dropping a table or an
//! index drops its pools as one step; VACUUM switches to fresh pools.

use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Debug)]
pub struct MemPool {
    pub name: String,
    /// `table` or `index`.
    pub kind: &'static str,
    bytes: AtomicI64,
}

impl MemPool {
    pub fn new(name: &str, kind: &'static str) -> MemPool {
        MemPool { name: name.to_string(), kind, bytes: AtomicI64::new(0) }
    }
    pub fn alloc(&self, n: u64) {
        self.bytes.fetch_add(n as i64, Ordering::Relaxed);
    }
    pub fn free(&self, n: u64) {
        self.bytes.fetch_sub(n as i64, Ordering::Relaxed);
    }
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed).max(0) as u64
    }
}
