//! Hash maps for internal keys: transaction and relation ids, pointers, row ids.
//!
//! The std default (SipHash behind a per-map random seed) is built against hash flooding by
//! untrusted keys, which these are not; it was a sixth of a point SELECT's instructions.
//! `ahash::RandomState::new()` would draw each map's seed from a process-wide atomic counter,
//! a cache line that concurrent sessions creating maps per transaction fight over. So the maps
//! here hash with ahash under fixed seeds: nothing shared is written. [`Padded`] keeps the
//! shards of a sharded map off each other's cache lines.

use std::hash::BuildHasher;

/// ahash with fixed seeds (the digits of e).
const SEEDED: ahash::RandomState = ahash::RandomState::with_seeds(
    0x2b7e_1516_28ae_d2a6,
    0xabf7_1588_09cf_4f3c,
    0x7625_1b5d_a1f2_1c7f,
    0x3f9a_4d1b_6c2e_8a35,
);

/// The `BuildHasher` of [`FastMap`].
#[derive(Clone, Copy, Debug, Default)]
pub struct FixedState;

impl BuildHasher for FixedState {
    type Hasher = ahash::AHasher;
    fn build_hasher(&self) -> ahash::AHasher {
        SEEDED.build_hasher()
    }
}

/// A `HashMap` for internal keys (see the module doc); create it with `FastMap::default()`.
pub type FastMap<K, V> = std::collections::HashMap<K, V, FixedState>;

/// One shard of a sharded map (or any per-core value) on cache lines of its own: shards side
/// by side in an array would share lines, and sessions locking different shards would still
/// bounce them between cores. 128 bytes: adjacent-line prefetching pairs 64-byte lines.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct Padded<T>(pub T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_hash_the_same_key_alike_and_keep_entries_apart() {
        let mut m: FastMap<u64, u64> = FastMap::default();
        for i in 0..10_000u64 {
            m.insert(i, i * 2);
        }
        assert_eq!(m.len(), 10_000);
        assert!((0..10_000u64).all(|i| m[&i] == i * 2));
        assert_eq!(FixedState.hash_one(42u64), FixedState.hash_one(42u64));
        assert_ne!(FixedState.hash_one(42u64), FixedState.hash_one(43u64));
    }
}
