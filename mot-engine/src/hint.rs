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
//! they cost 21 to 43 bytes per key of a unique index (16-byte slots, tables a quarter to three
//! quarters full).

use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Weak};

use parking_lot::RwLock;

use crate::row::Record;

/// Shards, so that readers of different keys rarely share a lock word.
const SHARDS: usize = 64;

/// One shard: an open-addressing table from a key's 64-bit hash to the record. Keys themselves
/// are not stored: a reader checks the record's key anyway, so two keys with the same hash
/// (rare) only cost searches.
///
/// Why not a `HashMap`: a probe of a table much larger than the caches is a cache miss per
/// memory area it touches, and a SwissTable keeps its control bytes apart from its slots (two
/// misses). Here hash and record sit together in a 16-byte slot and linear probing stays in
/// that cache line (one miss); a point lookup takes about four misses in all.
type Shard = RwLock<Slots>;

#[derive(Debug, Default)]
struct Slots {
    /// A power of two in length (or empty); `hash == 0` marks a free slot.
    slots: Vec<Slot>,
    used: usize,
}

#[derive(Debug, Default)]
struct Slot {
    hash: u64,
    rec: Weak<Record>,
}

impl Slots {
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The slot holding `hash`, if any.
    fn find(&self, hash: u64) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mut i = hash as usize & self.mask();
        loop {
            match self.slots[i].hash {
                0 => return None,
                h if h == hash => return Some(i),
                _ => i = (i + 1) & self.mask(),
            }
        }
    }

    /// Sets `hash` to `rec`; true when this added an entry.
    fn insert(&mut self, hash: u64, rec: Weak<Record>) -> bool {
        // At most 3/4 full, so probes stay short and always end at a free slot.
        if (self.used + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let mut i = hash as usize & self.mask();
        loop {
            let slot = &mut self.slots[i];
            if slot.hash == 0 || slot.hash == hash {
                let added = slot.hash == 0;
                *slot = Slot { hash, rec };
                self.used += added as usize;
                return added;
            }
            i = (i + 1) & self.mask();
        }
    }

    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        self.slots = (0..(old.len() * 2).max(16)).map(|_| Slot::default()).collect();
        self.used = 0;
        for s in old.into_iter().filter(|s| s.hash != 0) {
            self.insert(s.hash, s.rec);
        }
    }

    /// Empties slot `i` and moves later entries of its probe run back, so that no probe for
    /// them stops early at the hole (deletion without tombstones).
    fn remove_at(&mut self, mut hole: usize) {
        let mask = self.mask();
        self.slots[hole] = Slot::default();
        self.used -= 1;
        let mut i = (hole + 1) & mask;
        while self.slots[i].hash != 0 {
            let home = self.slots[i].hash as usize & mask;
            // The entry may fill the hole unless its home lies cyclically in (hole, i].
            let stays = if hole <= i { hole < home && home <= i } else { hole < home || home <= i };
            if !stays {
                self.slots.swap(hole, i);
                hole = i;
            }
            i = (i + 1) & mask;
        }
    }
}

#[derive(Debug)]
pub struct HintTable {
    shards: Box<[Shard]>,
}

impl Default for HintTable {
    fn default() -> Self {
        HintTable { shards: (0..SHARDS).map(|_| RwLock::new(Slots::default())).collect() }
    }
}

impl HintTable {
    fn slot(&self, key: &[u8]) -> (&Shard, u64) {
        // Never 0 (the free-slot mark).
        let h = KeyHash.hash_one(key).max(1);
        // Bits the slot choice (low bits) does not use.
        (&self.shards[(h >> 48) as usize % SHARDS], h)
    }

    /// The record last found under `key` (or a key with the same hash), if it still exists;
    /// unchecked: see the module doc.
    pub fn get(&self, key: &[u8]) -> Option<Arc<Record>> {
        let (shard, h) = self.slot(key);
        let shard = shard.read();
        shard.find(h).and_then(|i| shard.slots[i].rec.upgrade())
    }

    /// Remembers `rec` under `key`; true when this added an entry.
    pub fn remember(&self, key: &[u8], rec: &Arc<Record>) -> bool {
        let (shard, h) = self.slot(key);
        shard.write().insert(h, Arc::downgrade(rec))
    }

    /// Forgets `key` if it points at `rec`; true when an entry went.
    pub fn forget(&self, key: &[u8], rec: &Arc<Record>) -> bool {
        let (shard, h) = self.slot(key);
        let mut shard = shard.write();
        match shard.find(h) {
            Some(i) if std::ptr::eq(shard.slots[i].rec.as_ptr(), Arc::as_ptr(rec)) => {
                shard.remove_at(i);
                true
            }
            _ => false,
        }
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
        // Forgetting keeps every other hint reachable (entries behind a hole move back).
        for (i, r) in recs.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
            assert!(h.forget(&key(i as u32), r));
        }
        for (i, r) in recs.iter().enumerate() {
            assert_eq!(h.get(&key(i as u32)).is_some_and(|g| Arc::ptr_eq(&g, r)), i % 3 != 0, "key {i}");
        }
        // A dropped record is never returned.
        assert!(h.remember(b"j", &a));
        drop(a);
        assert!(h.get(b"j").is_none());
    }

    /// Removal in the middle of probe runs that collide and wrap around the end of the table.
    #[test]
    fn removal_keeps_colliding_runs_intact() {
        let rec = Arc::new(Record::present(1, Arc::from(Vec::new()), 1));
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..200 {
            let mut t = Slots::default();
            let mut live = std::collections::BTreeSet::new();
            for _ in 0..40 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // Few distinct home slots (the low bits), many distinct hashes.
                let hash = ((((seed >> 8) << 6) | ((seed & 7) + 60)) & !(1 << 63)) | (1 << 62);
                if seed.is_multiple_of(3) && !live.is_empty() {
                    let &victim = live.iter().nth(seed as usize % live.len()).unwrap();
                    let i = t.find(victim).expect("live hash found");
                    t.remove_at(i);
                    live.remove(&victim);
                } else {
                    assert_eq!(t.insert(hash, Arc::downgrade(&rec)), live.insert(hash));
                }
                for &h in &live {
                    assert!(t.find(h).is_some(), "round {round}: lost {h:x}");
                }
                assert_eq!(t.used, live.len());
            }
        }
    }
}
