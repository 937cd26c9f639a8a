//! Scans: one index (or the heap) range, merged with the transaction's own writes.
//!
//! A scan walks the committed entries of one ordered map between two byte bounds, forward or
//! backward, and merges in the transaction's private versions from the write-set overlay
//! (materialized for the range when the scan starts, in scan order). Committed rows that the
//! transaction had already rewritten when the scan started are skipped there and come from the
//! overlay instead. Each batch restarts the map iteration after the last key returned, so no
//! iterator is held across calls and concurrent writers never block a scan.
//!
//! Under SERIALIZABLE every committed record traversed (including those the residual quals
//! reject) goes into the read set, and the traversed key range into the scan set.

use std::ops::Bound;
use std::sync::Arc;

use fdw_api::eval::{EvalContext, Program};
use fdw_api::{err, Datum, Expr, FdwResult, ForeignScan, RowBatch, ScanParams, BATCH_SIZE};
use parking_lot::Mutex;

use crate::index::Index;
use crate::key::{prefix_successor, Key, TAG_NULL};
use crate::row::{Record, RowData, ABSENT, LOCK};
use crate::table::Table;
use crate::txn::{ScanRange, Txn};

/// The plan-time shape of a scan: which map, which bounds (as value expressions evaluated
/// when the scan starts), which direction. Carried in the path's private data.
#[derive(Clone, Debug, Default)]
pub struct ScanSpec {
    /// `None`: the heap (row id order).
    pub index: Option<String>,
    /// Values of the leading index columns fixed by equality.
    pub eq: Vec<Expr>,
    /// Bounds on the next index column: (value, inclusive).
    pub lower: Option<(Expr, bool)>,
    pub upper: Option<(Expr, bool)>,
    /// The quals these bounds enforce (left out of the residual filter).
    pub bound_quals: Vec<Expr>,
    pub backward: bool,
}

/// A running scan.
pub struct MotScan {
    pub(crate) txn: Arc<Mutex<Txn>>,
    pub(crate) table: Arc<Table>,
    pub(crate) index: Arc<Index>,
    pub(crate) spec: Arc<ScanSpec>,
    pub(crate) residual: Arc<[Program]>,
    pub(crate) columns: Arc<[usize]>,
    pub(crate) want_row_id: bool,
    pub(crate) limit: Option<u64>,
    pub(crate) snapshot: u64,
    started: bool,
    done: bool,
    /// The committed range was walked to its end (not stopped by a LIMIT).
    exhausted: bool,
    lo: Bound<Vec<u8>>,
    hi: Bound<Vec<u8>>,
    cursor: Option<Vec<u8>>,
    overlay: Vec<(Vec<u8>, u64, RowData)>,
    ov_pos: usize,
    emitted: u64,
    /// Equality on every column of a unique index: at most one row, found through the hints.
    point: bool,
    /// A point lookup found a committed record, now in the read set: no other record can
    /// take its key while it keeps it, so the range needs no phantom check.
    covered: bool,
}

impl MotScan {
    pub(crate) fn new(
        txn: Arc<Mutex<Txn>>,
        table: Arc<Table>,
        index: Arc<Index>,
        spec: Arc<ScanSpec>,
        residual: Arc<[Program]>,
        columns: Arc<[usize]>,
        want_row_id: bool,
        limit: Option<u64>,
    ) -> MotScan {
        let snapshot = txn.lock().snapshot();
        let point = index.hints.is_some()
            && spec.eq.len() == index.columns.len()
            && spec.lower.is_none()
            && spec.upper.is_none();
        MotScan {
            point,
            covered: false,
            txn,
            table,
            index,
            spec,
            residual,
            columns,
            want_row_id,
            limit,
            snapshot,
            started: false,
            done: false,
            exhausted: false,
            lo: Bound::Unbounded,
            hi: Bound::Unbounded,
            cursor: None,
            overlay: Vec::new(),
            ov_pos: 0,
            emitted: 0,
        }
    }

    /// Evaluates the bounds with `params` and materializes the overlay.
    fn start(&mut self, params: ScanParams<'_>) -> FdwResult<()> {
        self.started = true;
        self.covered = false;
        self.done = false;
        self.exhausted = false;
        self.cursor = None;
        self.emitted = 0;
        self.overlay.clear();
        self.ov_pos = 0;
        match self.bounds(params)? {
            Some((lo, hi)) => {
                self.lo = lo;
                self.hi = hi;
            }
            None => {
                // A bound is NULL: no row can satisfy `col op NULL`.
                self.done = true;
                self.exhausted = true;
                return Ok(());
            }
        }
        let mut txn = self.txn.lock();
        let Some(tw) = txn.tables.get_mut(&self.table.id) else { return Ok(()) };
        if tw.entries.is_empty() {
            return Ok(());
        }
        let snap = self.snapshot;
        let lo = self.lo.as_ref().map(|v| v.as_slice());
        let hi = self.hi.as_ref().map(|v| v.as_slice());
        let items: Vec<(Vec<u8>, u64, u64)> = tw
            .overlay(&self.index)?
            .range::<[u8], _>((lo, hi))
            .map(|(k, &(row, seq))| (k[..k.len() - 16].to_vec(), row, seq))
            .collect();
        for (key, row, seq) in items {
            let Some(e) = tw.entries.get(&row) else { continue };
            if let Some((s, Some(d))) = e.visible(snap) {
                if *s == seq {
                    self.overlay.push((key, row, d.clone()));
                }
            }
        }
        if self.spec.backward {
            self.overlay.reverse();
        }
        Ok(())
    }

    /// The byte range of the spec's bounds, or `None` if a bound value is NULL.
    fn bounds(&self, params: ScanParams<'_>) -> FdwResult<Option<(Bound<Vec<u8>>, Bound<Vec<u8>>)>> {
        let classes = &self.index.classes;
        let mut prefix = Vec::with_capacity(16 * (self.spec.eq.len() + 1));
        for (i, e) in self.spec.eq.iter().enumerate() {
            let v = eval_value(e, params)?;
            if v.is_null() {
                return Ok(None);
            }
            classes[i].encode(&v, &mut prefix)?;
        }
        let k = self.spec.eq.len();
        let with = |e: &Expr| -> FdwResult<Option<Vec<u8>>> {
            let v = eval_value(e, params)?;
            if v.is_null() {
                return Ok(None);
            }
            let mut b = prefix.clone();
            classes[k].encode(&v, &mut b)?;
            Ok(Some(b))
        };
        let succ = |b: &[u8]| prefix_successor(b).map_or(Bound::Unbounded, Bound::Excluded);
        let lo = match &self.spec.lower {
            Some((e, incl)) => match with(e)? {
                None => return Ok(None),
                Some(b) if *incl => Bound::Included(b),
                Some(b) => match prefix_successor(&b) {
                    Some(s) => Bound::Included(s),
                    None => return Ok(None),
                },
            },
            None if prefix.is_empty() => Bound::Unbounded,
            None => Bound::Included(prefix.clone()),
        };
        let hi = match &self.spec.upper {
            Some((e, incl)) => match with(e)? {
                None => return Ok(None),
                Some(b) if *incl => succ(&b),
                Some(b) => Bound::Excluded(b),
            },
            // A lower bound alone must stop before the NULLs, which sort last.
            None if self.spec.lower.is_some() => {
                let mut b = prefix.clone();
                b.push(TAG_NULL);
                Bound::Excluded(b)
            }
            None if prefix.is_empty() => Bound::Unbounded,
            None => succ(&prefix),
        };
        Ok(Some((lo, hi)))
    }

    /// Records the traversed part of the range in the scan set (SERIALIZABLE).
    fn record_range(&mut self) {
        if !self.started {
            return;
        }
        self.started = false;
        if self.covered {
            return;
        }
        let mut txn = self.txn.lock();
        if !txn.serializable() {
            return;
        }
        let (lo, hi) = match (&self.cursor, self.exhausted) {
            (_, true) => (self.lo.clone(), self.hi.clone()),
            (None, false) => return,
            (Some(c), false) if self.spec.backward => (Bound::Included(c.clone()), self.hi.clone()),
            (Some(c), false) => {
                let mut end = c.clone();
                end.push(0);
                (self.lo.clone(), Bound::Excluded(end))
            }
        };
        txn.note_scan(ScanRange { index: self.index.clone(), lo, hi });
    }

    /// Emits a row if it passes the residual quals.
    fn emit(&mut self, data: &[Datum], row_id: u64, out: &mut RowBatch, params: ScanParams<'_>) -> FdwResult<bool> {
        let emitted = emit_row(&self.residual, &self.columns, self.want_row_id, data, row_id, out, params)?;
        self.emitted += emitted as u64;
        Ok(emitted)
    }

    fn limit_reached(&self) -> bool {
        self.limit.is_some_and(|l| self.emitted >= l)
    }

    /// Emits overlay rows that come before committed key `key` in scan order (all if `None`).
    fn emit_overlay_until(&mut self, key: Option<&[u8]>, out: &mut RowBatch, params: ScanParams<'_>) -> FdwResult<()> {
        while self.ov_pos < self.overlay.len() && !self.limit_reached() {
            let before = match key {
                None => true,
                Some(k) if self.spec.backward => self.overlay[self.ov_pos].0.as_slice() > k,
                Some(k) => self.overlay[self.ov_pos].0.as_slice() < k,
            };
            if !before {
                break;
            }
            let (_, row, data) = self.overlay[self.ov_pos].clone();
            self.ov_pos += 1;
            self.emit(&data, row, out, params)?;
        }
        Ok(())
    }

    fn fill(&mut self, out: &mut RowBatch, params: ScanParams<'_>) -> FdwResult<()> {
        if self.point && self.cursor.is_none() {
            if let Bound::Included(key) = &self.lo {
                let key = key.clone();
                return self.fill_point(&key, out, params);
            }
        }
        let index = self.index.clone();
        let txn_arc = self.txn.clone();
        let mut txn = txn_arc.lock();
        let serializable = txn.serializable();
        let table_id = self.table.id;
        let (lo, hi) = match (&self.cursor, self.spec.backward) {
            (Some(c), false) => (Bound::Excluded(c.clone()), self.hi.clone()),
            (Some(c), true) => (self.lo.clone(), Bound::Excluded(c.clone())),
            (None, _) => (self.lo.clone(), self.hi.clone()),
        };
        let range = (lo.as_ref().map(|v| v.as_slice()), hi.as_ref().map(|v| v.as_slice()));
        let mut iter = index.map.range::<[u8], _>(range);
        let snap = self.snapshot;
        let mut prev = None;
        loop {
            let next = if self.spec.backward { iter.next_back() } else { iter.next() };
            let Some(e) = next else {
                drop(txn);
                self.emit_overlay_until(None, out, params)?;
                self.done = true;
                self.exhausted = true;
                return Ok(());
            };
            let key = e.key();
            if self.ov_pos < self.overlay.len() {
                self.emit_overlay_until(Some(key), out, params)?;
            }
            if self.limit_reached() {
                self.stop_after(prev.as_ref().map(|p: &crossbeam_skiplist::map::Entry<'_, Key, _>| p.key().as_slice()));
                return Ok(());
            }
            let rec = e.value();
            // Rows this transaction had rewritten when the scan began come from the overlay.
            let masked =
                txn.tables.get(&table_id).and_then(|tw| tw.entries.get(&rec.row_id)).is_some_and(|we| we.masks(snap));
            if !masked {
                let seen = read_visible(&self.sink(), rec, key, |_, _| e.is_removed(), out, params)?;
                self.note_seen(&mut txn, rec, seen, serializable);
            }
            if self.limit_reached() {
                self.stop_after(Some(key.as_slice()));
                return Ok(());
            }
            if out.len() >= BATCH_SIZE {
                self.cursor = Some(key.to_vec());
                return Ok(());
            }
            prev = Some(e);
        }
    }

    /// A point lookup on a unique index through its hints (see `hint.rs`): the whole range
    /// is the one key `key`, so the scan ends here.
    /// The transaction's own version of the row (the overlay) comes first; the committed one
    /// is then masked, as in a range scan.
    fn fill_point(&mut self, key: &[u8], out: &mut RowBatch, params: ScanParams<'_>) -> FdwResult<()> {
        self.done = true;
        self.exhausted = true;
        self.emit_overlay_until(None, out, params)?;
        let Some((rec, verified)) = self.index.lookup_unique(key)? else { return Ok(()) };
        let txn_arc = self.txn.clone();
        let mut txn = txn_arc.lock();
        let serializable = txn.serializable();
        let masked = txn
            .tables
            .get(&self.table.id)
            .and_then(|tw| tw.entries.get(&rec.row_id))
            .is_some_and(|we| we.masks(self.snapshot));
        if !masked {
            // Found by a search that may have raced a key change, or by hash at a version that
            // may have changed since: check the key (a version is never reused, so the same
            // version still carries the key it was verified with).
            let index = self.index.clone();
            let moved = |tid: u64, data: &[Datum]| verified != Some(tid) && !index.has_key(rec.row_id, data, key);
            let seen = read_visible(&self.sink(), &rec, key, moved, out, params)?;
            self.covered = seen.is_some() && self.overlay.is_empty();
            self.note_seen(&mut txn, &rec, seen, serializable);
        }
        Ok(())
    }

    fn sink(&self) -> Sink<'_> {
        Sink { index: &self.index, residual: &self.residual, columns: &self.columns, want_row_id: self.want_row_id }
    }

    /// Bookkeeping for a record read: the count against LIMIT, the read set (SERIALIZABLE)
    /// and the version an UPDATE/DELETE of the row will be based on.
    fn note_seen(&mut self, txn: &mut Txn, rec: &Arc<Record>, seen: Option<(u64, bool)>, serializable: bool) {
        let Some((tid, emitted)) = seen else { return };
        self.emitted += emitted as u64;
        if serializable {
            txn.note_read(rec, tid);
        }
        if emitted && self.want_row_id {
            txn.note_row_read(self.table.id, rec, tid);
        }
    }

    /// Ends the scan early (LIMIT) after committed key `last`, so that only the part of the
    /// range actually traversed is validated.
    fn stop_after(&mut self, last: Option<&[u8]>) {
        if let Some(k) = last {
            self.cursor = Some(k.to_vec());
        }
        self.done = true;
    }
}

/// What a scan emits rows with.
struct Sink<'a> {
    index: &'a Index,
    residual: &'a [Program],
    columns: &'a [usize],
    want_row_id: bool,
}

/// Reads record `rec`, found under `key`, and emits it if it is visible: present, not `removed`
/// from `key` (given the version and data read), and, when a committer holds it (it may be moving to
/// another key), still carrying `key`. Returns the version read and whether the row passed the quals, or
/// `None` if it was not visible.
fn read_visible(
    sink: &Sink<'_>,
    rec: &Arc<Record>,
    key: &[u8],
    removed: impl Fn(u64, &[Datum]) -> bool,
    out: &mut RowBatch,
    params: ScanParams<'_>,
) -> FdwResult<Option<(u64, bool)>> {
    rec.with(|tid, data| -> FdwResult<Option<(u64, bool)>> {
        let visible =
            tid & ABSENT == 0 && (tid & LOCK == 0 || sink.index.has_key(rec.row_id, data, key)) && !removed(tid, data);
        if !visible {
            return Ok(None);
        }
        let emitted = emit_row(sink.residual, sink.columns, sink.want_row_id, data, rec.row_id, out, params)?;
        Ok(Some((tid, emitted)))
    })
}

/// Applies the residual quals to a stored row and, if it passes, appends its projection.
fn emit_row(
    residual: &[Program],
    columns: &[usize],
    want_row_id: bool,
    data: &[Datum],
    row_id: u64,
    out: &mut RowBatch,
    params: ScanParams<'_>,
) -> FdwResult<bool> {
    if !residual.is_empty() {
        let mut ctx = EvalContext { params, subplans: None };
        for p in residual {
            if !p.eval_predicate(data, &mut ctx)? {
                return Ok(false);
            }
        }
    }
    let mut row = Vec::with_capacity(columns.len() + want_row_id as usize);
    row.extend(columns.iter().map(|&c| data[c].clone()));
    if want_row_id {
        row.push(Datum::Int8(row_id as i64));
    }
    out.push(row);
    Ok(true)
}

impl ForeignScan for MotScan {
    fn next_batch(&mut self, out: &mut RowBatch, params: ScanParams<'_>) -> FdwResult<bool> {
        if !self.started {
            self.start(params)?;
        }
        if self.limit_reached() {
            self.done = true;
        }
        if !self.done {
            let _guard = crossbeam_epoch::pin();
            self.fill(out, params)?;
        }
        Ok(!self.done)
    }

    fn rescan(&mut self, params: ScanParams<'_>) -> FdwResult<()> {
        self.record_range();
        self.start(params)
    }

    fn end(&mut self) -> FdwResult<()> {
        self.record_range();
        Ok(())
    }
}

impl Drop for MotScan {
    fn drop(&mut self) {
        self.record_range();
    }
}

/// The value of a bound expression: a constant, a parameter, or any column-free expression.
pub fn eval_value(e: &Expr, params: ScanParams<'_>) -> FdwResult<Datum> {
    match e {
        Expr::Const { value, .. } => Ok(value.clone()),
        Expr::Param { index, .. } => {
            params.get(*index).cloned().ok_or_else(|| err!(UNDEFINED_PARAMETER, "there is no parameter ${}", index + 1))
        }
        _ => Program::compile(e)?.eval(&[], &mut EvalContext { params, subplans: None }),
    }
}
