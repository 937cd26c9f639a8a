//! Transactions: Silo-style optimistic concurrency control.
//!
//! During execution a transaction changes nothing shared. It remembers
//! - the **read set**: every committed record it read, with the version it saw
//!   (SERIALIZABLE / REPEATABLE READ only);
//! - the **scan set**: every index or heap key range it traversed, truncated to the part
//!   actually consumed (SERIALIZABLE / REPEATABLE READ only), to catch phantoms;
//! - the **write set**: per table, per row id, the history of the row's private versions
//!   (insert, update, delete), each stamped with a statement-order sequence number, plus the
//!   committed version each update/delete was based on.
//!
//! Reads see their own writes: scans merge the committed index range with an ordered
//! overlay of the write set (`TableWrites::overlay`). A scan sees the write set as it was when
//! the scan began (its *snapshot* sequence number), which gives PostgreSQL's statement-level
//! visibility: `INSERT INTO t SELECT * FROM t` does not see its own rows and an UPDATE that
//! moves a key forward does not meet the row again.
//!
//! Commit (`pre_commit` then `commit`):
//! 1. lock the records to update or delete, in the global order (table id, row id), and check
//!    that each still has the version the write was based on;
//! 2. publish: new records (locked, absent) go into the heap and every index, updated records
//!    into the indexes whose key changed. A unique index entry that already exists for a live
//!    row is a 23505; one whose owner is being committed by someone else is a 40001;
//! 3. validate (SERIALIZABLE): every read-set record still has its version and is not locked
//!    by another transaction; re-scan every scan-set range: any live record in it that the
//!    transaction did not read is a phantom;
//! 4. install (in `commit`): one new version from the global clock, old index entries of moved
//!    keys removed, data swapped, deletes marked absent and removed from heap and indexes,
//!    replaced data retired to the epoch GC; then unlock.
//!
//! Publishing before validating is what catches write skew through phantoms: of two
//! transactions that each insert into the other's scanned range, the second to validate sees
//! the first one's entry. Any failure rolls publications back and unlocks: nothing is applied.
//!
//! Isolation levels:
//! - SERIALIZABLE (and REPEATABLE READ, which gets the same, stronger guarantee since there
//!   are no snapshots to offer): full validation as above, so every committed transaction is
//!   serializable (no lost updates, no write skew, no phantoms); a conflict is a 40001.
//! - READ COMMITTED: only step 1 and the unique checks. Each read returns the last committed
//!   version at the moment it is made (even within one statement, unlike PostgreSQL's
//!   per-statement snapshot); an UPDATE/DELETE of a row that someone else changed after this
//!   transaction read it fails with 40001 where PostgreSQL would re-evaluate the row (EvalPlanQual).
//!   Non-repeatable reads, phantoms and write skew are allowed.
//!
//! Durability: after a successful `pre_commit` (validated, every written record still locked)
//! the engine serializes the write set in lock order (`for_each_write`) into a redo record and
//! inserts it into the WAL (`durability::redo`), before the envelope's commit record. Because
//! the locks are held, two transactions writing the same row log in their serialization order.

use std::collections::BTreeMap;

pub(crate) type HashMap<K, V> = fdw_api::hash::FastMap<K, V>;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fdw_api::{err, Datum, FdwResult, IsolationLevel, TxnId};

use crate::errors::{concurrent_update, serialization_failure, unique_violation};
use crate::gc::Gc;
use crate::index::{entry_bytes, Index};
use crate::key::{prefix_successor, Key};
use crate::row::{data_bytes, unlocked, Record, RowData, ABSENT, LOCK, RECORD_OVERHEAD};
use crate::table::{Table, TableState};

/// A private version of a row: (sequence number of the write, data or `None` for deleted).
pub type Version = (u64, Option<RowData>);

/// One row in the write set.
#[derive(Debug)]
pub struct WsEntry {
    /// The committed record written, or `None` for a row this transaction inserted.
    pub rec: Option<Arc<Record>>,
    /// The committed version the first write was based on.
    pub observed: u64,
    /// Private versions, oldest first (never empty).
    pub history: Vec<Version>,
}

impl WsEntry {
    pub fn latest(&self) -> Option<&RowData> {
        self.history.last().and_then(|v| v.1.as_ref())
    }
    /// The private version a scan with snapshot `snap` sees, or `None` if the transaction had
    /// not written the row yet at that point.
    pub fn visible(&self, snap: u64) -> Option<&Version> {
        self.history.iter().rev().find(|v| v.0 < snap)
    }
    /// Whether a scan with snapshot `snap` must take this row from the write set.
    pub fn masks(&self, snap: u64) -> bool {
        self.history[0].0 < snap
    }
}

/// The write set of one table.
#[derive(Debug)]
pub struct TableWrites {
    pub table: Arc<Table>,
    pub entries: BTreeMap<u64, WsEntry>,
    /// Per index id: entry key ++ row id ++ seq of every private version -> (row id, seq).
    /// Built on first use by a scan or unique check, then maintained on each write.
    overlays: HashMap<u32, BTreeMap<Vec<u8>, (u64, u64)>>,
}

impl TableWrites {
    fn new(table: Arc<Table>) -> Self {
        TableWrites { table, entries: BTreeMap::new(), overlays: HashMap::default() }
    }

    fn overlay_key(index: &Index, row_id: u64, seq: u64, data: &[Datum]) -> FdwResult<Vec<u8>> {
        let mut k = index.entry_key(row_id, data)?.to_vec();
        k.extend_from_slice(&row_id.to_be_bytes());
        k.extend_from_slice(&seq.to_be_bytes());
        Ok(k)
    }

    /// The ordered overlay of `index`, built if needed.
    pub fn overlay(&mut self, index: &Index) -> FdwResult<&BTreeMap<Vec<u8>, (u64, u64)>> {
        if !self.overlays.contains_key(&index.id) {
            let mut m = BTreeMap::new();
            for (&row_id, e) in &self.entries {
                for (seq, data) in &e.history {
                    if let Some(d) = data {
                        m.insert(Self::overlay_key(index, row_id, *seq, d)?, (row_id, *seq));
                    }
                }
            }
            self.overlays.insert(index.id, m);
        }
        Ok(&self.overlays[&index.id])
    }

    /// Forgets every overlay (after DDL changed the row layout or the indexes).
    pub fn clear_overlays(&mut self) {
        self.overlays.clear();
    }

    fn note_version(&mut self, state: &TableState, row_id: u64, seq: u64, data: &Option<RowData>) -> FdwResult<()> {
        let Some(d) = data else { return Ok(()) };
        for (id, m) in self.overlays.iter_mut() {
            if let Some(index) = state.index_by_id(*id) {
                m.insert(Self::overlay_key(index, row_id, seq, d)?, (row_id, seq));
            }
        }
        Ok(())
    }

    /// Rows (other than `row_id`) whose latest private version has `key` in unique `index`.
    fn own_duplicate(&mut self, index: &Index, key: &[u8], row_id: u64) -> FdwResult<bool> {
        let hi = prefix_successor(key).map_or(Bound::Unbounded, Bound::Excluded);
        let ov = self.overlay(index)?;
        let hits: Vec<(u64, u64)> =
            ov.range::<[u8], _>((Bound::Included(key), hi.as_ref().map(|v| v.as_slice()))).map(|(_, v)| *v).collect();
        Ok(hits.into_iter().any(|(r, seq)| {
            r != row_id
                && self.entries.get(&r).is_some_and(|e| e.history.last().is_some_and(|v| v.0 == seq && v.1.is_some()))
        }))
    }
}

/// A key range a scan traversed (for phantom validation).
#[derive(Debug)]
pub struct ScanRange {
    pub index: Arc<Index>,
    pub lo: Bound<Vec<u8>>,
    pub hi: Bound<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Act {
    Insert,
    Update,
    Delete,
}

struct Action {
    table: Arc<Table>,
    state: Arc<TableState>,
    rec: Arc<Record>,
    act: Act,
    new: Option<RowData>,
    old: Option<RowData>,
    /// (index, old key) of entries to remove at install (key changed).
    moves: Vec<(Arc<Index>, Key)>,
}

struct Publication {
    index: Arc<Index>,
    key: Key,
    rec: Arc<Record>,
    replaced: Option<Arc<Record>>,
}

/// What `pre_commit` holds until `commit` or `abort`.
#[derive(Default)]
struct CommitState {
    actions: Vec<Action>,
    locked: Vec<Arc<Record>>,
    /// Records locked by this transaction -> their new data (`None`: deleted).
    ours: HashMap<usize, Option<RowData>>,
    pubs: Vec<Publication>,
}

fn ptr(rec: &Arc<Record>) -> usize {
    Arc::as_ptr(rec) as usize
}

/// One transaction of the engine.
pub struct Txn {
    pub xid: TxnId,
    pub isolation: IsolationLevel,
    seq: u64,
    pub tables: BTreeMap<u64, TableWrites>,
    read_set: HashMap<usize, (Arc<Record>, u64)>,
    scans: Vec<ScanRange>,
    /// (table id, row id) -> version seen by a scan that returned row ids (for UPDATE/DELETE).
    row_reads: HashMap<(u64, u64), (Arc<Record>, u64)>,
    commit: Option<CommitState>,
}

impl std::fmt::Debug for Txn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Txn").field("xid", &self.xid).field("isolation", &self.isolation).finish()
    }
}

/// How long a committer waits for a record another committer has locked before giving up.
const LOCK_WAIT: Duration = Duration::from_millis(200);

impl Txn {
    pub fn new(xid: TxnId, isolation: IsolationLevel) -> Txn {
        Txn {
            xid,
            isolation,
            seq: 1,
            tables: BTreeMap::new(),
            read_set: HashMap::default(),
            scans: Vec::new(),
            row_reads: HashMap::default(),
            commit: None,
        }
    }

    /// Full validation (read set and scan set) applies.
    pub fn serializable(&self) -> bool {
        self.isolation != IsolationLevel::ReadCommitted
    }

    /// The snapshot sequence number for a scan starting now.
    pub fn snapshot(&self) -> u64 {
        self.seq
    }

    pub fn has_writes(&self) -> bool {
        self.tables.values().any(|t| !t.entries.is_empty())
    }

    pub fn note_read(&mut self, rec: &Arc<Record>, tid: u64) {
        self.read_set.entry(ptr(rec)).or_insert_with(|| (rec.clone(), unlocked(tid)));
    }

    pub fn note_row_read(&mut self, table: u64, rec: &Arc<Record>, tid: u64) {
        self.row_reads.insert((table, rec.row_id), (rec.clone(), unlocked(tid)));
    }

    pub fn note_scan(&mut self, range: ScanRange) {
        self.scans.push(range);
    }

    fn writes(&mut self, table: &Arc<Table>) -> &mut TableWrites {
        self.tables.entry(table.id).or_insert_with(|| TableWrites::new(table.clone()))
    }

    /// Statement-time unique check of `data` (row `row_id`) against committed rows not
    /// rewritten by this transaction and against this transaction's latest versions.
    /// `old`: the version an UPDATE replaces; an index whose key columns it leaves alone needs
    /// no check (the row already holds that key).
    fn check_unique(
        &mut self,
        table: &Arc<Table>,
        state: &TableState,
        row_id: u64,
        data: &[Datum],
        old: Option<&[Datum]>,
    ) -> FdwResult<()> {
        for index in &state.indexes {
            if !index.unique || index.columns.iter().any(|&c| data[c].is_null()) {
                continue;
            }
            if old.is_some_and(|o| index.columns.iter().all(|&c| o[c] == data[c])) {
                continue;
            }
            let key = index.entry_key(row_id, data)?;
            let dup = if let Some(e) = index.map.get(key.as_slice()) {
                let x = e.value();
                let mine = self.tables.get(&table.id).is_some_and(|tw| tw.entries.contains_key(&x.row_id));
                x.row_id != row_id
                    && !mine
                    && x.with(|t, d| {
                        t & ABSENT == 0 && !e.is_removed() && index.entry_key(x.row_id, d).is_ok_and(|k| k == key)
                    })
            } else {
                false
            };
            if dup || self.writes(table).own_duplicate(index, &key, row_id)? {
                return Err(unique_violation(&index.name, &state.column_names(&index.columns), &index.values(data)));
            }
        }
        Ok(())
    }

    /// Writes version `v` of row `row_id` on top of `base`.
    fn write(
        &mut self,
        table: &Arc<Table>,
        state: &TableState,
        row_id: u64,
        base: Base,
        v: Option<RowData>,
    ) -> FdwResult<()> {
        let seq = self.seq;
        self.seq += 1;
        let serializable = self.serializable();
        let tw = self.writes(table);
        tw.note_version(state, row_id, seq, &v)?;
        match base {
            Base::Own(_) => match tw.entries.get_mut(&row_id) {
                Some(e) => e.history.push((seq, v)),
                None => return Err(err!(INTERNAL_ERROR, "mot: write set entry of row {} vanished", row_id)),
            },
            Base::Committed(rec, observed, _) => {
                tw.entries.insert(row_id, WsEntry { rec: Some(rec.clone()), observed, history: vec![(seq, v)] });
                if serializable {
                    self.read_set.entry(ptr(&rec)).or_insert((rec, observed));
                }
            }
        }
        Ok(())
    }

    /// INSERT of one row (already checked for NOT NULL); returns its row id.
    pub fn insert(&mut self, table: &Arc<Table>, state: &TableState, data: RowData) -> FdwResult<u64> {
        let row_id = table.alloc_row_id();
        self.check_unique(table, state, row_id, &data, None)?;
        let seq = self.seq;
        let tw = self.writes(table);
        tw.note_version(state, row_id, seq, &Some(data.clone()))?;
        tw.entries.insert(row_id, WsEntry { rec: None, observed: 0, history: vec![(seq, Some(data))] });
        self.seq += 1;
        Ok(row_id)
    }

    /// The version of row `row_id` this transaction would overwrite: its own latest version,
    /// or the committed one with the version the write is based on (the one a row-id scan saw,
    /// else the current one).
    fn base(&self, table: &Arc<Table>, state: &TableState, row_id: u64) -> FdwResult<Base> {
        if let Some(e) = self.tables.get(&table.id).and_then(|tw| tw.entries.get(&row_id)) {
            return Ok(Base::Own(e.latest().cloned()));
        }
        // The scan that produced the row id usually handed over its record (a record is a
        // row's identity for life), which saves a search of the heap.
        let (rec, observed) = match self.row_reads.get(&(table.id, row_id)) {
            Some((rec, observed)) => (rec.clone(), Some(*observed)),
            None => match state.heap.map.get(row_id.to_be_bytes().as_slice()) {
                Some(e) => (e.value().clone(), None),
                None => return Err(serialization_failure("concurrent delete")),
            },
        };
        let (tid, data) = rec.read();
        if tid & ABSENT != 0 {
            return Err(serialization_failure("concurrent delete"));
        }
        Ok(Base::Committed(rec, observed.unwrap_or(unlocked(tid)), data))
    }

    /// UPDATE of row `row_id` to `data` (already checked for NOT NULL).
    pub fn update(&mut self, table: &Arc<Table>, state: &TableState, row_id: u64, data: RowData) -> FdwResult<()> {
        let base = self.base(table, state, row_id)?;
        let old = match &base {
            Base::Own(None) => {
                return Err(err!(INTERNAL_ERROR, "mot: row {} of \"{}\" was already deleted", row_id, state.name))
            }
            Base::Own(Some(d)) | Base::Committed(_, _, d) => d.clone(),
        };
        self.check_unique(table, state, row_id, &data, Some(&old))?;
        self.write(table, state, row_id, base, Some(data))
    }

    /// DELETE of row `row_id`; returns the row deleted (`None` if this transaction already
    /// deleted it).
    pub fn delete(&mut self, table: &Arc<Table>, state: &TableState, row_id: u64) -> FdwResult<Option<RowData>> {
        let base = self.base(table, state, row_id)?;
        let old = match &base {
            Base::Own(None) => return Ok(None),
            Base::Own(Some(d)) | Base::Committed(_, _, d) => d.clone(),
        };
        self.write(table, state, row_id, base, None)?;
        Ok(Some(old))
    }
}

/// What a write overwrites.
enum Base {
    Own(Option<RowData>),
    Committed(Arc<Record>, u64, RowData),
}

/// Takes a record's commit lock, waiting a bounded time for another committer to finish.
fn lock_record(rec: &Record) -> FdwResult<()> {
    let start = Instant::now();
    let mut spins = 0u32;
    while !rec.try_lock() {
        spins += 1;
        if spins > 64 {
            if start.elapsed() > LOCK_WAIT {
                return Err(concurrent_update());
            }
            std::thread::yield_now();
        }
    }
    Ok(())
}

impl Txn {
    /// Steps 1-3 of the commit protocol; on success the locks stay held until `commit` or
    /// `abort`, on failure everything is undone.
    pub fn pre_commit(&mut self, gc: &Gc) -> FdwResult<()> {
        if self.commit.is_some() {
            return Ok(());
        }
        let mut cs = CommitState::default();
        match self.prepare(&mut cs) {
            Ok(()) => {
                self.commit = Some(cs);
                Ok(())
            }
            Err(e) => {
                rollback(cs, gc);
                self.discard();
                Err(e)
            }
        }
    }

    fn prepare(&mut self, cs: &mut CommitState) -> FdwResult<()> {
        // 1. Lock in (table id, row id) order and check the bases of updates and deletes.
        for tw in self.tables.values() {
            let state = tw.table.state();
            for (&row_id, e) in &tw.entries {
                let new = e.latest().cloned();
                match &e.rec {
                    None => {
                        let Some(d) = new else { continue };
                        let rec = Arc::new(Record::pending_insert(row_id, d.clone()));
                        cs.ours.insert(ptr(&rec), Some(d.clone()));
                        cs.locked.push(rec.clone());
                        cs.actions.push(Action {
                            table: tw.table.clone(),
                            state: state.clone(),
                            rec,
                            act: Act::Insert,
                            new: Some(d),
                            old: None,
                            moves: Vec::new(),
                        });
                    }
                    Some(rec) => {
                        lock_record(rec)?;
                        cs.locked.push(rec.clone());
                        cs.ours.insert(ptr(rec), new.clone());
                        let (tid, old) = rec.read();
                        if unlocked(tid) != e.observed {
                            let what = if tid & ABSENT != 0 { "concurrent delete" } else { "concurrent update" };
                            return Err(serialization_failure(what));
                        }
                        let act = if new.is_some() { Act::Update } else { Act::Delete };
                        cs.actions.push(Action {
                            table: tw.table.clone(),
                            state: state.clone(),
                            rec: rec.clone(),
                            act,
                            new,
                            old: Some(old),
                            moves: Vec::new(),
                        });
                    }
                }
            }
        }
        // 2. Publish new records and moved keys.
        for i in 0..cs.actions.len() {
            let (state, rec, act) = (cs.actions[i].state.clone(), cs.actions[i].rec.clone(), cs.actions[i].act);
            let row_id = rec.row_id;
            match act {
                Act::Insert => {
                    let Some(new) = cs.actions[i].new.clone() else { continue };
                    publish(cs, &state, &state.heap, Key::row_id(row_id), &rec, &new)?;
                    for index in &state.indexes {
                        publish(cs, &state, index, index.entry_key(row_id, &new)?, &rec, &new)?;
                    }
                }
                Act::Update => {
                    let (Some(new), Some(old)) = (cs.actions[i].new.clone(), cs.actions[i].old.clone()) else {
                        continue;
                    };
                    for index in &state.indexes {
                        let (ok, nk) = (index.entry_key(row_id, &old)?, index.entry_key(row_id, &new)?);
                        if ok != nk {
                            publish(cs, &state, index, nk, &rec, &new)?;
                            cs.actions[i].moves.push((index.clone(), ok));
                        }
                    }
                }
                Act::Delete => {}
            }
        }
        // 3. Validate reads and scanned ranges.
        if self.serializable() {
            for (p, (rec, version)) in &self.read_set {
                let tid = rec.tid();
                if (tid & LOCK != 0 && !cs.ours.contains_key(p)) || unlocked(tid) != *version {
                    return Err(concurrent_update());
                }
            }
            for range in &self.scans {
                validate_range(range, &cs.ours, &self.read_set)?;
            }
        }
        Ok(())
    }

    /// Step 4: installs the validated writes with one new version and unlocks.
    pub fn commit(&mut self, clock: &AtomicU64, gc: &Gc) -> FdwResult<()> {
        if self.commit.is_none() && self.has_writes() {
            self.pre_commit(gc)?;
        }
        let Some(cs) = self.commit.take() else {
            self.discard();
            return Ok(());
        };
        // A read-only transaction installs nothing and takes no version: the clock is a
        // cache line every committing session writes.
        let version = if cs.actions.is_empty() { 0 } else { clock.fetch_add(1, Ordering::AcqRel) + 1 };
        for a in &cs.actions {
            let pool = &a.state.heap.pool;
            let row_id = a.rec.row_id;
            match a.act {
                Act::Insert => {
                    let new = a.new.clone();
                    pool.alloc(RECORD_OVERHEAD + new.as_deref().map_or(0, data_bytes));
                    a.rec.install(new, version);
                    a.table.add_live(1);
                }
                Act::Update => {
                    for (index, key) in &a.moves {
                        index.remove_if(key, &a.rec, gc);
                    }
                    pool.alloc(a.new.as_deref().map_or(0, data_bytes));
                    let old = a.rec.install(a.new.clone(), version);
                    gc.retire(pool, data_bytes(&old), old);
                }
                Act::Delete => {
                    if let Some(old) = &a.old {
                        for index in &a.state.indexes {
                            if let Ok(key) = index.entry_key(row_id, old) {
                                index.remove_if(&key, &a.rec, gc);
                            }
                        }
                    }
                    a.state.heap.remove_if(&row_id.to_be_bytes(), &a.rec, gc);
                    let old = a.rec.install(None, version);
                    gc.retire(pool, RECORD_OVERHEAD + data_bytes(&old), (old, a.rec.clone()));
                    a.table.add_live(-1);
                }
            }
        }
        for rec in &cs.locked {
            rec.unlock();
        }
        self.discard();
        Ok(())
    }

    /// Visits the writes of a validated transaction (after `pre_commit`, locks held) in lock
    /// order: (table id, row id, new data or `None` for a delete, whether it is an insert).
    /// This is what the redo record carries (`durability::redo`).
    pub(crate) fn for_each_write(&self, mut f: impl FnMut(u64, u64, Option<&[Datum]>, bool)) {
        let Some(cs) = &self.commit else { return };
        for a in &cs.actions {
            f(a.table.id, a.rec.row_id, a.new.as_deref(), a.act == Act::Insert);
        }
    }

    /// Undoes a validated but uncommitted transaction (or drops an active one's state).
    pub fn abort(&mut self, gc: &Gc) {
        if let Some(cs) = self.commit.take() {
            rollback(cs, gc);
        }
        self.discard();
    }

    /// Forgets all private state (the transaction may be reused by a later statement).
    fn discard(&mut self) {
        self.tables.clear();
        self.read_set.clear();
        self.scans.clear();
        self.row_reads.clear();
        self.commit = None;
    }

    /// Drops write-set entries of a table (DROP TABLE).
    pub fn forget_table(&mut self, table: u64) {
        self.tables.remove(&table);
    }
}

/// Puts `key -> rec` into `index` for a committing transaction (`new` is rec's new data).
fn publish(
    cs: &mut CommitState,
    state: &TableState,
    index: &Arc<Index>,
    key: Key,
    rec: &Arc<Record>,
    new: &[Datum],
) -> FdwResult<()> {
    let duplicate = || unique_violation(&index.name, &state.column_names(&index.columns), &index.values(new));
    loop {
        let e = index.map.get_or_insert(key.clone(), rec.clone());
        if Arc::ptr_eq(e.value(), rec) {
            index.pool.alloc(entry_bytes(key.len()));
            index.hint(&key, rec);
            cs.pubs.push(Publication { index: index.clone(), key, rec: rec.clone(), replaced: None });
            return Ok(());
        }
        let x = e.value().clone();
        drop(e);
        let replace = if let Some(x_new) = cs.ours.get(&ptr(&x)) {
            // One of our own records: free unless its new version keeps this key.
            match x_new {
                Some(d) if index.entry_key(x.row_id, d)? == key => return Err(duplicate()),
                _ => true,
            }
        } else {
            let (tid, data) = x.read();
            if tid & LOCK != 0 {
                return Err(concurrent_update());
            }
            tid & ABSENT != 0 || index.entry_key(x.row_id, &data)? != key
        };
        if !replace {
            return Err(duplicate());
        }
        let e = index.map.compare_insert(key.clone(), rec.clone(), |v| Arc::ptr_eq(v, &x));
        if Arc::ptr_eq(e.value(), rec) {
            index.hint(&key, rec);
            cs.pubs.push(Publication { index: index.clone(), key, rec: rec.clone(), replaced: Some(x) });
            return Ok(());
        }
    }
}

/// Undoes publications (newest first) and releases locks.
fn rollback(cs: CommitState, gc: &Gc) {
    for p in cs.pubs.into_iter().rev() {
        match p.replaced {
            Some(x) if cs.ours.contains_key(&ptr(&x)) => {
                p.index.map.compare_insert(p.key, x, |v| Arc::ptr_eq(v, &p.rec));
            }
            _ => {
                p.index.remove_if(&p.key, &p.rec, gc);
            }
        }
    }
    for rec in &cs.locked {
        rec.unlock();
    }
}

/// Re-scans a traversed range: every live record in it must be one this transaction read
/// (or owns); anything else appeared since (a phantom) or is being committed right now.
fn validate_range(
    range: &ScanRange,
    ours: &HashMap<usize, Option<RowData>>,
    read_set: &HashMap<usize, (Arc<Record>, u64)>,
) -> FdwResult<()> {
    let lo = range.lo.as_ref().map(|v| v.as_slice());
    let hi = range.hi.as_ref().map(|v| v.as_slice());
    for e in range.index.map.range::<[u8], _>((lo, hi)) {
        let rec = e.value();
        let p = ptr(rec);
        if ours.contains_key(&p) {
            continue;
        }
        let tid = rec.tid();
        if tid & LOCK != 0 {
            return Err(concurrent_update());
        }
        if tid & ABSENT != 0 || e.is_removed() {
            continue;
        }
        if !read_set.contains_key(&p) {
            return Err(serialization_failure("read/write dependencies among transactions"));
        }
    }
    Ok(())
}
