//! Epoch-based reclamation of deleted rows, replaced versions and removed index entries.
//!
//! A reader may still be looking at a row version that a committer just replaced or deleted.
//! Instead of freeing it at once, the committer *retires* it: the garbage and its byte count
//! are deferred to crossbeam-epoch's collector, which runs the closure only after every
//! thread pinned at retirement time has unpinned. Only then is the pool credited, so memory
//! statistics show what is really still reachable. Scans and commits pin the epoch.
//!
//! Simplification: the process-wide default collector is shared with the skip lists; garbage
//! sits in the retiring thread's local bag until that thread pins again or `collect` flushes
//! it, so reclamation is prompt on active threads and eventual on idle ones.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_epoch as epoch;

use crate::memory::MemPool;

/// Garbage of one engine not yet reclaimed.
#[derive(Debug, Default)]
pub struct Gc {
    pending: Arc<AtomicU64>,
}

impl Gc {
    /// Defers dropping `garbage` and crediting `bytes` to `pool` until no reader can see it.
    pub fn retire<T: Send + 'static>(&self, pool: &Arc<MemPool>, bytes: u64, garbage: T) {
        self.pending.fetch_add(1, Ordering::Relaxed);
        let pending = self.pending.clone();
        let pool = pool.clone();
        epoch::pin().defer(move || {
            drop(garbage);
            pool.free(bytes);
            pending.fetch_sub(1, Ordering::Relaxed);
        });
    }

    /// Items retired and not yet reclaimed.
    pub fn pending(&self) -> u64 {
        self.pending.load(Ordering::Relaxed)
    }

    /// Pushes this thread's garbage to the collector and helps advance the epoch until
    /// everything this engine retired is reclaimed (or a bounded number of tries passed,
    /// when another thread stays pinned or holds unflushed garbage). True if all is reclaimed.
    pub fn collect(&self) -> bool {
        for i in 0..2000 {
            if self.pending() == 0 {
                return true;
            }
            epoch::pin().flush();
            if i > 100 {
                std::thread::yield_now();
            }
        }
        self.pending() == 0
    }
}
