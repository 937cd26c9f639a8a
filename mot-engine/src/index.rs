//! Ordered indexes: a lock-free skip list from encoded key to row record.
//!
//! Keys are memcomparable encodings of the key columns (`key.rs`), held in a `Key` that keeps
//! up to 22 bytes inline (no allocation per entry, comparisons without a pointer). A unique index keys an
//! entry by the column values alone, so two entries with equal values collide in the map
//! itself, which is how concurrent inserters of the same key find each other at commit. A
//! non-unique index (and a unique index entry with a NULL column, since NULLs never collide in
//! PostgreSQL) appends the row id, making every entry distinct while keeping value order.
//!
//! Entries point at records, not versions: an update that keeps the key leaves the index
//! alone. An update that changes the key publishes the new entry while the record is locked
//! and removes the old one before installing the new data (see `txn.rs`), so a reader that
//! reached a record through a removed entry can tell (`Entry::is_removed`).

use std::sync::Arc;

use crossbeam_skiplist::SkipMap;
use fdw_api::{Datum, FdwResult};

use crate::gc::Gc;
use crate::hint::HintTable;
use crate::key::{Key, KeyClass};
use crate::memory::MemPool;
use crate::row::{Record, ABSENT};

pub type IndexMap = SkipMap<Key, Arc<Record>>;

#[derive(Debug)]
pub struct Index {
    /// Stable id within the table (names may repeat across tables).
    pub id: u32,
    pub name: String,
    /// Table column positions in key order.
    pub columns: Vec<usize>,
    pub classes: Vec<KeyClass>,
    pub unique: bool,
    pub primary: bool,
    pub map: Arc<IndexMap>,
    pub pool: Arc<MemPool>,
    /// Unique indexes: where full keys were last found (see `hint.rs`).
    pub hints: Option<Arc<HintTable>>,
}

/// Bytes accounted for one entry: the key, its `Vec` header, the record pointer and a skip-list
/// node's tower (on average two levels).
pub fn entry_bytes(key_len: usize) -> u64 {
    (key_len + 24 + 8 + 48) as u64
}

impl Index {
    pub fn new(id: u32, name: &str, columns: Vec<usize>, classes: Vec<KeyClass>, unique: bool, primary: bool) -> Index {
        Index {
            id,
            name: name.to_string(),
            columns,
            classes,
            unique,
            primary,
            map: Arc::new(SkipMap::new()),
            pool: Arc::new(MemPool::new(name, "index")),
            hints: unique.then(Default::default),
        }
    }

    /// The same index (same entries and pool) over renumbered columns, after a column drop.
    pub fn renumbered(&self, columns: Vec<usize>) -> Index {
        Index {
            id: self.id,
            name: self.name.clone(),
            columns,
            classes: self.classes.clone(),
            unique: self.unique,
            primary: self.primary,
            map: self.map.clone(),
            pool: self.pool.clone(),
            hints: self.hints.clone(),
        }
    }

    /// An empty copy with a fresh pool (VACUUM).
    pub fn fresh(&self) -> Index {
        Index::new(self.id, &self.name, self.columns.clone(), self.classes.clone(), self.unique, self.primary)
    }

    /// The key column values of a row.
    pub fn values<'a>(&self, row: &'a [Datum]) -> Vec<&'a Datum> {
        self.columns.iter().map(|&c| &row[c]).collect()
    }

    /// Appends the map key of `row` (whose row id is `row_id`) in this index to `out`.
    fn encode_key(&self, row_id: u64, row: &[Datum], out: &mut Vec<u8>) -> FdwResult<()> {
        let mut has_null = false;
        for (i, &c) in self.columns.iter().enumerate() {
            let d = &row[c];
            has_null |= d.is_null();
            self.classes[i].encode(d, out)?;
        }
        if !self.unique || has_null {
            out.extend_from_slice(&row_id.to_be_bytes());
        }
        Ok(())
    }

    /// Runs `f` on the map key of `row` in this index, encoded into a reused buffer.
    fn with_key<T>(&self, row_id: u64, row: &[Datum], f: impl FnOnce(FdwResult<&[u8]>) -> T) -> T {
        thread_local! {
            static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        BUF.with(|b| {
            let mut b = b.borrow_mut();
            b.clear();
            let r = self.encode_key(row_id, row, &mut b);
            f(r.map(|()| b.as_slice()))
        })
    }

    /// The map key of `row` (whose row id is `row_id`) in this index.
    pub fn entry_key(&self, row_id: u64, row: &[Datum]) -> FdwResult<Key> {
        self.with_key(row_id, row, |k| k.map(Key::from_slice))
    }

    /// The map key of `row` in this index, encoded in `buf` (the caller's, reused across rows:
    /// cheaper than the thread-local buffer of [`Index::entry_key`] in a loop over millions).
    pub fn entry_key_into(&self, row_id: u64, row: &[Datum], buf: &mut Vec<u8>) -> FdwResult<Key> {
        buf.clear();
        self.encode_key(row_id, row, buf)?;
        Ok(Key::from_slice(buf))
    }

    /// Whether `row`'s map key in this index is `key` (without allocating: point lookups check
    /// every hint this way).
    pub fn has_key(&self, row_id: u64, row: &[Datum], key: &[u8]) -> bool {
        self.with_key(row_id, row, |k| k.is_ok_and(|k| k == key))
    }

    /// Whether two rows collide in this unique index (equal keys, none NULL).
    pub fn collides(&self, a: &[Datum], b: &[Datum]) -> FdwResult<bool> {
        if !self.unique {
            return Ok(false);
        }
        let ka = self.entry_key(0, a)?;
        let kb = self.entry_key(0, b)?;
        let has_null = self.columns.iter().any(|&c| a[c].is_null());
        Ok(!has_null && ka == kb)
    }

    /// Adds an entry unconditionally (index build, vacuum).
    pub fn add(&self, key: Key, rec: Arc<Record>) {
        self.pool.alloc(entry_bytes(key.len()));
        self.map.insert(key, rec);
    }

    /// Adds entries unconditionally (checkpoint load), accounting their memory once. Entries in
    /// key order insert fastest: each lands next to the one before, on a hot search path.
    pub fn add_batch(&self, entries: impl IntoIterator<Item = (Key, Arc<Record>)>) {
        // Staying pinned makes the skip list's own pin per insert a counter increment; repinning
        // now and then lets the epoch advance.
        let mut guard = crossbeam_epoch::pin();
        let mut bytes = 0;
        for (n, (key, rec)) in entries.into_iter().enumerate() {
            bytes += entry_bytes(key.len());
            self.map.insert(key, rec);
            if n % 4096 == 4095 {
                guard.repin();
            }
        }
        self.pool.alloc(bytes);
    }

    /// The record under full key `key` of a unique index, through the hint table when it has
    /// a valid hint (present, and `key` is its key in this index), else from the skip list.
    /// `Ok(None)`: no entry under `key`. With the record comes the version word at which a hint
    /// was verified to carry `key` (`None` when found by search): a reader that sees the same
    /// version needs no second check. The record's visibility is not checked for the caller.
    pub fn lookup_unique(&self, key: &[u8]) -> FdwResult<Option<(Arc<Record>, Option<u64>)>> {
        let Some(hints) = &self.hints else { return Ok(self.map.get(key).map(|e| (e.value().clone(), None))) };
        if let Some(rec) = hints.get(key) {
            let verified =
                rec.with(|tid, data| (tid & ABSENT == 0 && self.has_key(rec.row_id, data, key)).then_some(tid));
            if verified.is_some() {
                return Ok(Some((rec, verified)));
            }
        }
        let Some(rec) = self.map.get(key).and_then(|e| (!e.is_removed()).then(|| e.value().clone())) else {
            return Ok(None);
        };
        self.hint(key, &rec);
        Ok(Some((rec, None)))
    }

    /// Records where full key `key` of a unique index leads (a no-op for other indexes):
    /// lookups find it there, and new rows are hinted as they are published.
    pub fn hint(&self, key: &[u8], rec: &Arc<Record>) {
        if let Some(h) = &self.hints {
            h.remember(key, rec);
        }
    }

    /// Removes the entry `key` if it still points at `rec`; the entry's memory is retired.
    pub fn remove_if(&self, key: &[u8], rec: &Arc<Record>, gc: &Gc) -> bool {
        if let Some(e) = self.map.get(key) {
            if Arc::ptr_eq(e.value(), rec) && e.remove() {
                if let Some(h) = &self.hints {
                    h.forget(key, rec);
                }
                gc.retire(&self.pool, entry_bytes(key.len()), ());
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_key_into_matches_entry_key_whatever_the_buffer_held() {
        let text = KeyClass::Str { blank_padded: false };
        let unique = Index::new(1, "u", vec![0, 1], vec![KeyClass::Int, text], true, false);
        let plain = Index::new(2, "p", vec![1], vec![text], false, false);
        let rows = [
            vec![Datum::Int8(5), Datum::text("a long value that will not fit inline")],
            vec![Datum::Int4(-1), Datum::text("b")],
            vec![Datum::Null, Datum::text("")],
        ];
        // Longest row first: a reused buffer must not leak bytes into the next, shorter key.
        let mut buf = Vec::new();
        for (row_id, row) in rows.iter().enumerate() {
            for index in [&unique, &plain] {
                let key = index.entry_key_into(row_id as u64, row, &mut buf).unwrap();
                assert_eq!(key, index.entry_key(row_id as u64, row).unwrap());
            }
        }
        // A value of the wrong class is an error, as for `entry_key`.
        assert!(unique.entry_key_into(0, &[Datum::text("x"), Datum::Null], &mut buf).is_err());
    }
}
