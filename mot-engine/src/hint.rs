//! Point-lookup hints: a hash table beside a unique index's skip list, from a full key to the
//! record last found under it.
//!
//! A skip-list search touches a node or two per level, tens of cache misses on a table of a
//! million rows, and a lookup by primary key is the common OLTP statement. So a unique index
//! remembers where it found each key. A hint is only a hint: writers never maintain it, and a
//! reader uses one only after checking that the record is present and still carries that key,
//! otherwise it searches the skip list (which refreshes the hint). A stale hint therefore costs
//! a search, never a wrong answer. An entry is dropped with its index entry, and the table with
//! its index. Like a cache, hints are not charged to the index's memory pool (whose figures
//! stay those of the index proper, the same after a checkpoint load, which builds no hints);
//! they cost about 24 bytes per key of a unique index.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Weak};

use parking_lot::RwLock;

use crate::row::Record;

/// Shards, so that readers of different keys rarely share a lock word.
const SHARDS: usize = 64;

/// One shard: a key's 64-bit hash to the record. Keys themselves are not stored: a reader
/// checks the record's key anyway, so two keys with the same hash (rare) only cost searches,
/// and a probe touches one bucket instead of also a separately allocated key.
type Shard = RwLock<HashMap<u64, Weak<Record>, Prehashed>>;

#[derive(Debug)]
pub struct HintTable {
    shards: Box<[Shard]>,
}

impl Default for HintTable {
    fn default() -> Self {
        HintTable { shards: (0..SHARDS).map(|_| RwLock::new(HashMap::with_hasher(Prehashed))).collect() }
    }
}

impl HintTable {
    fn slot(&self, key: &[u8]) -> (&Shard, u64) {
        let h = KeyHash.hash_one(key);
        // Bits the map's own bucket choice (low bits) and tag (top bits) do not use.
        (&self.shards[(h >> 32) as usize % SHARDS], h)
    }

    /// The record last found under `key` (or a key with the same hash), if it still exists;
    /// unchecked: see the module doc.
    pub fn get(&self, key: &[u8]) -> Option<Arc<Record>> {
        let (shard, h) = self.slot(key);
        shard.read().get(&h).and_then(Weak::upgrade)
    }

    /// Remembers `rec` under `key`; true when this added an entry.
    pub fn remember(&self, key: &[u8], rec: &Arc<Record>) -> bool {
        let (shard, h) = self.slot(key);
        shard.write().insert(h, Arc::downgrade(rec)).is_none()
    }

    /// Forgets `key` if it points at `rec`; true when an entry went.
    pub fn forget(&self, key: &[u8], rec: &Arc<Record>) -> bool {
        let (shard, h) = self.slot(key);
        let mut shard = shard.write();
        if shard.get(&h).is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(rec))) {
            shard.remove(&h);
            return true;
        }
        false
    }
}

/// The map's hasher for keys that are hashes already.
#[derive(Clone, Copy, Debug, Default)]
struct Prehashed;

impl BuildHasher for Prehashed {
    type Hasher = PassThrough;
    fn build_hasher(&self) -> PassThrough {
        PassThrough(0)
    }
}

struct PassThrough(u64);

impl Hasher for PassThrough {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// FxHash-style multiplicative hashing: keys are short memcomparable strings from inside the
/// engine (no adversary chooses them against a fixed seed any more than a B-tree's keys).
#[derive(Clone, Copy, Debug, Default)]
struct KeyHash;

impl BuildHasher for KeyHash {
    type Hasher = KeyHasher;
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(0)
    }
}

struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let v = u64::from_le_bytes(c.try_into().unwrap_or_default());
            self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(K);
        }
    }
    fn finish(&self) -> u64 {
        // Mix the high bits down so the shard choice (top bits) and the buckets (low bits)
        // both see every input byte.
        self.0 ^ (self.0 >> 29)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::Record;

    #[test]
    fn remember_get_forget() {
        let h = HintTable::default();
        let a = Arc::new(Record::present(1, Arc::from(Vec::new()), 1));
        let b = Arc::new(Record::present(2, Arc::from(Vec::new()), 1));
        assert!(h.get(b"k").is_none());
        assert!(h.remember(b"k", &a));
        assert!(Arc::ptr_eq(&h.get(b"k").unwrap(), &a));
        assert!(!h.remember(b"k", &b), "overwriting is not a new entry");
        assert!(!h.forget(b"k", &a), "only the record it points at removes it");
        assert!(h.forget(b"k", &b));
        assert!(h.get(b"k").is_none());
        // A dropped record is never returned.
        assert!(h.remember(b"j", &a));
        drop(a);
        assert!(h.get(b"j").is_none());
    }
}
