//! Join key filters: the set of keys a hash join has built, offered to the scan that feeds
//! its probe side (what other engines call a runtime or sideways filter).
//!
//! A hash join reads its inner side first. When its outer side is a foreign scan, an outer row
//! whose key is not among the inner keys cannot join, so for the join types that drop such
//! rows (inner, semi, right) the scan may drop it before converting the row's other columns,
//! allocating it and handing it up. PostgreSQL has no such filter; over a text file, where
//! each value is parsed, it spares most of the work of a join that keeps a small part of a
//! large table (TPC-H Q8 keeps 40 thousand of 6 million `lineitem` rows).
//!
//! Only integer keys (`smallint`, `integer`, `bigint`, compared as integers across the three)
//! and dates are filtered, so membership is exactly the join's equality. The set is a bitmap
//! over `[min, max]` when that range is dense enough, otherwise a hash set. A scan that uses a
//! filter must return every row whose key is in the set (the join still checks each pair);
//! dropping rows is the only freedom it gets. NULL is never in the set: an inner, semi or
//! right join never matches a NULL key.

use std::collections::HashSet;

use crate::types::{DataType, Datum};

/// Bitmaps above this many bits (16 MB) give way to a hash set.
const MAX_BITMAP_BITS: u64 = 1 << 27;

/// The keys of a hash join's inner side.
#[derive(Debug)]
pub struct KeySet {
    min: i64,
    repr: Repr,
    len: usize,
}

#[derive(Debug)]
enum Repr {
    Empty,
    /// Bit `k - min` set for each key `k`.
    Bitmap(Vec<u64>),
    Hashed(HashSet<i64, ahash::RandomState>),
}

impl KeySet {
    /// Whether values of types `a` and `b` can be filtered against each other: both integers,
    /// or both dates.
    pub fn supports(a: &DataType, b: &DataType) -> bool {
        let int = |t: &DataType| matches!(t, DataType::Int2 | DataType::Int4 | DataType::Int8);
        (int(a) && int(b)) || (*a == DataType::Date && *b == DataType::Date)
    }

    /// The integer a key datum stands for, `None` for NULL and for types a set cannot hold.
    pub fn key_of(d: &Datum) -> Option<i64> {
        match d {
            Datum::Int2(v) => Some(i64::from(*v)),
            Datum::Int4(v) | Datum::Date(v) => Some(i64::from(*v)),
            Datum::Int8(v) => Some(*v),
            _ => None,
        }
    }

    /// The set of `keys` (duplicates allowed).
    pub fn new(keys: &[i64]) -> KeySet {
        let (Some(&min), Some(&max)) = (keys.iter().min(), keys.iter().max()) else {
            return KeySet { min: 0, repr: Repr::Empty, len: 0 };
        };
        // A bitmap costs (max - min) bits: take it when that is at most 64 bits per key (or a
        // few kB in all), and within the cap.
        let span = max.abs_diff(min).saturating_add(1);
        let dense = span <= MAX_BITMAP_BITS && span <= (keys.len() as u64).saturating_mul(64).max(1 << 16);
        if dense {
            let mut bits = vec![0u64; span.div_ceil(64) as usize];
            for &k in keys {
                let i = k.abs_diff(min);
                bits[(i / 64) as usize] |= 1 << (i % 64);
            }
            let len = bits.iter().map(|w| w.count_ones() as usize).sum();
            return KeySet { min, repr: Repr::Bitmap(bits), len };
        }
        let set: HashSet<i64, ahash::RandomState> = keys.iter().copied().collect();
        KeySet { min, len: set.len(), repr: Repr::Hashed(set) }
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether key `k` is in the set.
    #[inline]
    pub fn contains_key(&self, k: i64) -> bool {
        match &self.repr {
            Repr::Empty => false,
            Repr::Bitmap(bits) => {
                if k < self.min {
                    return false;
                }
                let i = k.abs_diff(self.min);
                bits.get((i / 64) as usize).is_some_and(|w| w & (1 << (i % 64)) != 0)
            }
            Repr::Hashed(set) => set.contains(&k),
        }
    }

    /// Whether a row whose key column holds `d` may join: false for NULL and for keys not in
    /// the set; true for a value of a type the set cannot judge (the join decides).
    #[inline]
    pub fn admits(&self, d: &Datum) -> bool {
        match d {
            Datum::Null => false,
            _ => KeySet::key_of(d).is_none_or(|k| self.contains_key(k)),
        }
    }

    /// Bytes the set holds, for the memory accounting of the join that built it.
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Empty => 0,
            Repr::Bitmap(bits) => bits.len() * 8,
            Repr::Hashed(set) => set.capacity() * 16,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(keys: &[i64], probes: impl IntoIterator<Item = i64>) -> KeySet {
        let set = KeySet::new(keys);
        let want: HashSet<i64> = keys.iter().copied().collect();
        assert_eq!(set.len(), want.len());
        for k in probes {
            assert_eq!(set.contains_key(k), want.contains(&k), "key {k} of {keys:?}");
        }
        set
    }

    #[test]
    fn dense_and_sparse_sets_hold_exactly_their_keys() {
        let dense: Vec<i64> = (0..5000).map(|i| i * 7 - 300).collect();
        let set = check(&dense, -400..35_000);
        assert!(matches!(set.repr, Repr::Bitmap(_)));
        let sparse = [i64::MIN, -1, 0, 1, 1 << 40, i64::MAX, 1 << 40];
        let set = check(&sparse, sparse.iter().flat_map(|&k| [k.wrapping_sub(1), k, k.wrapping_add(1)]));
        assert!(matches!(set.repr, Repr::Hashed(_)));
        // Both ends of a bitmap, and one past them.
        check(&[63, 64, 127, 128], 60..132);
        let empty = check(&[], -2..2);
        assert!(empty.is_empty());
    }

    #[test]
    fn datums_are_admitted_by_their_integer_value() {
        let set = KeySet::new(&[5, 70_000]);
        assert!(set.admits(&Datum::Int2(5)) && set.admits(&Datum::Int4(5)) && set.admits(&Datum::Int8(70_000)));
        assert!(!set.admits(&Datum::Int4(6)) && !set.admits(&Datum::Null));
        assert!(set.admits(&Datum::Date(5)));
        // A type the set cannot judge is left to the join.
        assert!(set.admits(&Datum::text("x")));
        assert!(KeySet::supports(&DataType::Int4, &DataType::Int8));
        assert!(KeySet::supports(&DataType::Date, &DataType::Date));
        assert!(!KeySet::supports(&DataType::Int4, &DataType::Date));
        assert!(!KeySet::supports(&DataType::Text, &DataType::Text));
        assert!(!KeySet::supports(&DataType::Numeric(None), &DataType::Int4));
    }
}
