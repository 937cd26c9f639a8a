//! Ordering, hashing and equality of datums for sorting, grouping and hash joins, and the
//! compact hash table all hashed operators share.
//!
//! The order and hash are `fdw_api::types::compare`'s (PostgreSQL's btree/hash operator
//! classes: bytewise text, NaN last, `1.0 = 1.00`, ...), plus `char(n)`'s insignificant
//! trailing blanks, chosen per key column from its type. For grouping, DISTINCT and set
//! operations NULLs are equal to each other; join code checks NULL keys itself (they never
//! match).
//!
//! `KeyTable` stores its keys flattened in one `Vec<Datum>` and probes an open-addressing slot
//! array, so finding a group or a join key allocates nothing per row.

use std::cmp::Ordering;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use fdw_api::types::compare;
use fdw_api::{DataType, Datum, FdwError, FdwResult, SqlState};

/// How a key column compares beyond its datum variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Plain,
    /// `char(n)`: trailing blanks are insignificant.
    Bpchar,
}

impl KeyKind {
    pub fn of(ty: &DataType) -> KeyKind {
        match ty {
            DataType::Char(_) => KeyKind::Bpchar,
            _ => KeyKind::Plain,
        }
    }
}

/// Total order of two datums of one type (NULL sorts as greater than everything; callers
/// apply NULLS FIRST/LAST themselves).
#[inline]
pub(crate) fn cmp_datum(a: &Datum, b: &Datum, kind: KeyKind) -> Ordering {
    match kind {
        KeyKind::Plain => compare::cmp_datum(a, b),
        KeyKind::Bpchar => compare::cmp_bpchar(a, b),
    }
}

/// Equality for grouping: NULL equals NULL; consistent with `hash_datum`.
#[inline]
pub(crate) fn eq_datum(a: &Datum, b: &Datum, kind: KeyKind) -> bool {
    match (a, b) {
        (Datum::Int4(x), Datum::Int4(y)) => x == y,
        (Datum::Int8(x), Datum::Int8(y)) => x == y,
        (Datum::Text(x), Datum::Text(y)) if kind == KeyKind::Plain => x == y,
        _ => cmp_datum(a, b, kind) == Ordering::Equal,
    }
}

/// Feeds a datum to a hasher, consistently with `eq_datum`.
#[inline]
pub(crate) fn hash_datum<H: Hasher>(d: &Datum, kind: KeyKind, h: &mut H) {
    match (d, kind) {
        (Datum::Text(s), KeyKind::Bpchar) => {
            h.write(compare::trim_bpchar(s).as_bytes());
            h.write_u8(0xff);
        }
        _ => d.hash_into(h),
    }
}

/// Compares two keys column by column (grouping equality).
#[inline]
pub(crate) fn eq_keys(a: &[Datum], b: &[Datum], kinds: &[KeyKind]) -> bool {
    a.len() == b.len() && a.iter().zip(b).zip(kinds).all(|((x, y), k)| eq_datum(x, y, *k))
}

/// Approximate heap bytes of a row, for memory accounting.
pub(crate) fn row_bytes(row: &[Datum]) -> usize {
    let mut n = std::mem::size_of::<Vec<Datum>>() + std::mem::size_of_val(row);
    for d in row {
        if let Datum::Text(s) = d {
            n += s.len() + 16;
        }
    }
    n
}

/// The error of a query whose in-memory state passed its budget.
pub(crate) fn out_of_memory(what: &str, limit: usize) -> FdwError {
    FdwError::new(SqlState::OUT_OF_MEMORY, "out of memory for query")
        .with_detail(format!(
            "The {what}, with the query's other hash tables, sorts and materialized rows, needs more than \
             query_memory_limit ({}); spilling to disk is not implemented.",
            format_bytes(limit)
        ))
        .with_hint("Raise the limit, for example SET query_memory_limit = '4GB'.")
}

fn format_bytes(n: usize) -> String {
    if n >= 1 << 30 && n.is_multiple_of(1 << 30) {
        format!("{} GB", n >> 30)
    } else if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} kB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// The memory budget of one execution, shared by all its operators (`query_memory_limit`).
#[derive(Debug)]
pub(crate) struct QueryMemory {
    limit: usize,
    used: AtomicUsize,
}

impl QueryMemory {
    pub fn new(limit: usize) -> Arc<QueryMemory> {
        Arc::new(QueryMemory { limit, used: AtomicUsize::new(0) })
    }

    /// Takes `bytes` from the budget, or nothing if that would pass the limit.
    fn reserve(&self, bytes: usize) -> bool {
        let before = self.used.fetch_add(bytes, Relaxed);
        if before.saturating_add(bytes) > self.limit {
            self.used.fetch_sub(bytes, Relaxed);
            return false;
        }
        true
    }

    fn release(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Relaxed);
    }
}

/// Reservations from the query's budget are made in chunks of this size (or what is left), so
/// that counting a row is an addition, not an atomic operation.
const MEM_CHUNK: usize = 256 << 10;

/// Counts the bytes of one operator's buffered state against its query's budget.
#[derive(Debug)]
pub(crate) struct MemTracker {
    what: &'static str,
    budget: Option<Arc<QueryMemory>>,
    used: usize,
    /// Bytes taken from the budget (at least `used`).
    reserved: usize,
}

impl MemTracker {
    pub fn new(what: &'static str, budget: &Arc<QueryMemory>) -> Self {
        MemTracker { what, budget: Some(budget.clone()), used: 0, reserved: 0 }
    }

    /// A tracker with no budget (operators before they are opened).
    pub fn unbounded(what: &'static str) -> Self {
        MemTracker { what, budget: None, used: 0, reserved: 0 }
    }

    #[inline]
    pub fn add(&mut self, bytes: usize) -> FdwResult<()> {
        self.used += bytes;
        if self.used > self.reserved {
            if let Err(e) = self.grow() {
                self.used -= bytes;
                return Err(e);
            }
        }
        Ok(())
    }

    #[cold]
    fn grow(&mut self) -> FdwResult<()> {
        let Some(budget) = &self.budget else {
            self.reserved = self.used;
            return Ok(());
        };
        let need = self.used - self.reserved;
        // A whole chunk if the budget has it, else exactly what is needed.
        for want in [need.max(MEM_CHUNK), need] {
            if budget.reserve(want) {
                self.reserved += want;
                return Ok(());
            }
        }
        Err(out_of_memory(self.what, budget.limit))
    }

    /// Forgets the operator's state (it was dropped) and gives its bytes back to the budget.
    pub fn reset(&mut self) {
        if let Some(b) = &self.budget {
            b.release(self.reserved);
        }
        self.used = 0;
        self.reserved = 0;
    }
}

impl Drop for MemTracker {
    fn drop(&mut self) {
        self.reset();
    }
}

const SEEDS: [u64; 4] = [0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344, 0xa409_3822_299f_31d0, 0x082e_fa98_ec4e_6c89];

/// A hash set of fixed-width composite keys; each distinct key gets a dense id (0, 1, ...) in
/// insertion order, which callers use to index their per-key state (accumulators, counts,
/// join chains).
pub(crate) struct KeyTable {
    kinds: Vec<KeyKind>,
    width: usize,
    /// Key `i` is `keys[i * width..(i + 1) * width]`.
    keys: Vec<Datum>,
    hashes: Vec<u64>,
    /// Open addressing with linear probing: 0 is empty, else key id + 1.
    slots: Vec<u32>,
    state: ahash::RandomState,
    text_bytes: usize,
}

impl KeyTable {
    pub fn new(kinds: Vec<KeyKind>) -> Self {
        KeyTable {
            width: kinds.len(),
            kinds,
            keys: Vec::new(),
            hashes: Vec::new(),
            slots: vec![0; 16],
            state: ahash::RandomState::with_seeds(SEEDS[0], SEEDS[1], SEEDS[2], SEEDS[3]),
            text_bytes: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn key(&self, id: usize) -> &[Datum] {
        &self.keys[id * self.width..(id + 1) * self.width]
    }

    pub fn clear(&mut self) {
        self.keys.clear();
        self.hashes.clear();
        self.slots.clear();
        self.slots.resize(16, 0);
        self.text_bytes = 0;
    }

    #[inline]
    pub fn hash(&self, key: &[Datum]) -> u64 {
        let mut h = self.state.build_hasher();
        for (d, k) in key.iter().zip(&self.kinds) {
            hash_datum(d, *k, &mut h);
        }
        h.finish()
    }

    #[inline]
    fn probe(&self, key: &[Datum], hash: u64) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let mut pos = hash as usize & mask;
        loop {
            let slot = self.slots[pos];
            if slot == 0 {
                return Err(pos);
            }
            let id = slot as usize - 1;
            if self.hashes[id] == hash && eq_keys(self.key(id), key, &self.kinds) {
                return Ok(id);
            }
            pos = (pos + 1) & mask;
        }
    }

    /// The id of `key`, if present.
    #[inline]
    pub fn find(&self, key: &[Datum]) -> Option<usize> {
        self.probe(key, self.hash(key)).ok()
    }

    /// The id of `key`, inserting a copy of it if absent; the flag says whether it was new.
    #[inline]
    pub fn find_or_insert(&mut self, key: &[Datum]) -> FdwResult<(usize, bool)> {
        let hash = self.hash(key);
        match self.probe(key, hash) {
            Ok(id) => Ok((id, false)),
            Err(pos) => {
                let id = self.hashes.len();
                if id >= u32::MAX as usize - 1 {
                    return Err(FdwError::new(SqlState::PROGRAM_LIMIT_EXCEEDED, "hash table has too many entries"));
                }
                self.slots[pos] = id as u32 + 1;
                self.hashes.push(hash);
                for d in key {
                    if let Datum::Text(s) = d {
                        self.text_bytes += s.len() + 16;
                    }
                }
                self.keys.extend_from_slice(key);
                if self.hashes.len() * 2 > self.slots.len() {
                    self.grow();
                }
                Ok((id, true))
            }
        }
    }

    fn grow(&mut self) {
        let n = self.slots.len() * 2;
        let mask = n - 1;
        let mut slots = vec![0u32; n];
        for (id, h) in self.hashes.iter().enumerate() {
            let mut pos = *h as usize & mask;
            while slots[pos] != 0 {
                pos = (pos + 1) & mask;
            }
            slots[pos] = id as u32 + 1;
        }
        self.slots = slots;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_table_groups_equal_values() {
        let mut t = KeyTable::new(vec![KeyKind::Plain, KeyKind::Bpchar]);
        for i in 0..1000 {
            let (id, new) = t.find_or_insert(&[Datum::Int4(i % 10), Datum::text("ab  ")]).unwrap();
            assert_eq!(id, (i % 10) as usize);
            assert_eq!(new, i < 10);
        }
        // Widths and trailing blanks of char(n) do not matter; NULLs group together.
        assert_eq!(t.find(&[Datum::Int8(3), Datum::text("ab")]), Some(3));
        assert_eq!(t.find(&[Datum::Int8(3), Datum::text("abc")]), None);
        let (a, _) = t.find_or_insert(&[Datum::Null, Datum::Null]).unwrap();
        let (b, new) = t.find_or_insert(&[Datum::Null, Datum::Null]).unwrap();
        assert_eq!((a, new), (b, false));
        assert_eq!(t.len(), 11);
    }

    #[test]
    fn float_and_numeric_equality_follows_postgres() {
        assert!(eq_datum(&Datum::Float8(f64::NAN), &Datum::Float8(f64::NAN), KeyKind::Plain));
        assert!(eq_datum(&Datum::Float8(-0.0), &Datum::Float8(0.0), KeyKind::Plain));
        assert_eq!(cmp_datum(&Datum::Float8(f64::NAN), &Datum::Float8(1e300), KeyKind::Plain), Ordering::Greater);
        let mut t = KeyTable::new(vec![KeyKind::Plain]);
        t.find_or_insert(&[Datum::Numeric("1.0".parse().unwrap())]).unwrap();
        assert_eq!(t.find(&[Datum::Numeric("1.00".parse().unwrap())]), Some(0));
        t.find_or_insert(&[Datum::Float8(-0.0)]).unwrap();
        assert_eq!(t.find(&[Datum::Float8(0.0)]), Some(1));
    }

    #[test]
    fn text_orders_bytewise() {
        assert_eq!(cmp_datum(&Datum::text("B"), &Datum::text("a"), KeyKind::Plain), Ordering::Less);
        assert_eq!(cmp_datum(&Datum::text("a "), &Datum::text("a"), KeyKind::Bpchar), Ordering::Equal);
        assert_eq!(cmp_datum(&Datum::Null, &Datum::Int4(1), KeyKind::Plain), Ordering::Greater);
    }

    #[test]
    fn memory_trackers_share_the_query_budget() {
        let budget = QueryMemory::new(1 << 20);
        let mut a = MemTracker::new("hash table", &budget);
        let mut b = MemTracker::new("sort", &budget);
        assert!(a.add(600 << 10).is_ok());
        // Alone within the limit, together past it.
        let e = b.add(600 << 10).unwrap_err();
        assert_eq!(e.sqlstate, SqlState::OUT_OF_MEMORY);
        assert_eq!(e.message, "out of memory for query");
        let detail = e.detail.clone().unwrap_or_default();
        assert!(detail.contains("sort") && detail.contains("query_memory_limit (1 MB)"), "{detail}");
        // What an operator frees (or a dropped operator held) is available again.
        a.reset();
        assert!(b.add(600 << 10).is_ok());
        drop(b);
        assert_eq!(budget.used.load(Relaxed), 0);
        // The last bytes of the budget can be used (no chunk rounding at the edge).
        let mut c = MemTracker::new("hash table", &budget);
        assert!(c.add((1 << 20) - 1).is_ok());
        assert!(c.add(1).is_ok());
        assert!(c.add(1).is_err());
    }
}
