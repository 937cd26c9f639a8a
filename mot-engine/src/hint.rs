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

/// Folded-multiply hashing (the 128-bit product's halves xored, as wyhash and foldhash do):
/// every input bit reaches every output bit, which a plain multiply does not (it only carries
/// differences upward, and keys differing in their last bytes then collide). Keys are short
/// memcomparable strings from inside the engine; a collision only costs a skip-list search.
#[derive(Clone, Copy, Debug, Default)]
struct KeyHash;

impl BuildHasher for KeyHash {
    type Hasher = KeyHasher;
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(0x243f_6a88_85a3_08d3)
    }
}

struct KeyHasher(u64);

fn fold_mul(a: u64, b: u64) -> u64 {
    let p = (a as u128) * (b as u128);
    (p as u64) ^ ((p >> 64) as u64)
}

const K1: u64 = 0xa076_1d64_78bd_642f;
const K2: u64 = 0xe703_7ed1_a0b4_28db;

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let v = u64::from_le_bytes(c.try_into().unwrap_or_default());
            self.0 = fold_mul(self.0 ^ v, K1);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut v = rest.len() as u64;
            for (i, &b) in rest.iter().enumerate() {
                v |= (b as u64) << (8 * (i + 1));
            }
            self.0 = fold_mul(self.0 ^ v, K2);
        }
    }
    fn finish(&self) -> u64 {
        fold_mul(self.0, K1 ^ K2)
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
        // Keys that differ in their last bytes (sequential integer keys) keep their own hints.
        let recs: Vec<_> =
            (0..20_000u32).map(|i| Arc::new(Record::present(i as u64, Arc::from(Vec::new()), 1))).collect();
        let key = |i: u32| [&[1u8, 128, 0, 0, 0][..], &i.to_be_bytes()].concat();
        for (i, r) in recs.iter().enumerate() {
            assert!(h.remember(&key(i as u32), r), "key {i} collided");
        }
        for (i, r) in recs.iter().enumerate() {
            assert!(Arc::ptr_eq(&h.get(&key(i as u32)).unwrap(), r));
        }
        // A dropped record is never returned.
        assert!(h.remember(b"j", &a));
        drop(a);
        assert!(h.get(b"j").is_none());
    }
}
