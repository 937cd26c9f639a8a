//! UNION / INTERSECT / EXCEPT, with and without ALL, by hashing whole rows (NULLs equal).
//!
//! UNION ALL concatenates; UNION streams the distinct rows of both inputs. INTERSECT and
//! EXCEPT count each distinct row's occurrences on the left (kept in a `KeyTable`, the first
//! occurrence being the row output) and on the right (looked up only, never inserted), then
//! emit per row, as PostgreSQL does: INTERSECT one copy if both counts are positive,
//! INTERSECT ALL `min(l, r)` copies, EXCEPT one copy if `r = 0`, EXCEPT ALL `max(l - r, 0)`.

use fdw_api::{FdwResult, Row, BATCH_SIZE};

use super::context::Cx;
use super::keys::{row_bytes, KeyKind, KeyTable, MemTracker};
use super::{BoxOp, Operator};
use crate::plan::physical::SetOpKind;

pub(crate) struct SetOpOp {
    kind: SetOpKind,
    all: bool,
    left: BoxOp,
    right: BoxOp,
    table: KeyTable,
    counts: Vec<(u64, u64)>,
    /// Union: reading the right input. Others: counts are complete.
    phase: u8,
    /// Intersect/except: the group being emitted and the copies left of it.
    emit_id: usize,
    emit_left: u64,
    mem: MemTracker,
    buf: Vec<Row>,
}

impl SetOpOp {
    pub fn new(kind: SetOpKind, all: bool, left: BoxOp, right: BoxOp, kinds: Vec<KeyKind>) -> Self {
        SetOpOp {
            kind,
            all,
            left,
            right,
            table: KeyTable::new(kinds),
            counts: Vec::new(),
            phase: 0,
            emit_id: 0,
            emit_left: 0,
            mem: MemTracker::unbounded("set operation hash table"),
            buf: Vec::new(),
        }
    }

    fn reset(&mut self, cx: &Cx<'_>) {
        self.table.clear();
        self.counts.clear();
        self.phase = 0;
        self.emit_id = 0;
        self.emit_left = 0;
        self.mem = MemTracker::new("set operation hash table", cx.memory());
    }

    fn next_union(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        let start = out.len();
        while out.len() == start && self.phase < 2 {
            let input = if self.phase == 0 { &mut self.left } else { &mut self.right };
            if self.all {
                input.next_batch(cx, out, max)?;
                if out.len() == start {
                    self.phase += 1;
                }
                continue;
            }
            self.buf.clear();
            input.next_batch(cx, &mut self.buf, max)?;
            if self.buf.is_empty() {
                self.phase += 1;
                continue;
            }
            for row in self.buf.drain(..) {
                let (_, new) = self.table.find_or_insert(&row)?;
                if new {
                    self.mem.add(row_bytes(&row) + 12)?;
                    out.push(row);
                }
            }
        }
        Ok(())
    }

    fn count_inputs(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        loop {
            self.buf.clear();
            self.left.next_batch(cx, &mut self.buf, BATCH_SIZE)?;
            if self.buf.is_empty() {
                break;
            }
            for row in &self.buf {
                let (id, new) = self.table.find_or_insert(row)?;
                if new {
                    self.mem.add(row_bytes(row) + 28)?;
                    self.counts.push((0, 0));
                }
                self.counts[id].0 += 1;
            }
        }
        loop {
            self.buf.clear();
            self.right.next_batch(cx, &mut self.buf, BATCH_SIZE)?;
            if self.buf.is_empty() {
                break;
            }
            for row in &self.buf {
                if let Some(id) = self.table.find(row) {
                    self.counts[id].1 += 1;
                }
            }
        }
        self.phase = 2;
        self.emit_id = 0;
        self.emit_left = 0;
        Ok(())
    }

    fn copies(&self, (l, r): (u64, u64)) -> u64 {
        match (self.kind, self.all) {
            (SetOpKind::Intersect, true) => l.min(r),
            (SetOpKind::Intersect, false) => (l > 0 && r > 0) as u64,
            (SetOpKind::Except, true) => l.saturating_sub(r),
            (SetOpKind::Except, false) => (l > 0 && r == 0) as u64,
            (SetOpKind::Union, true) => l + r,
            (SetOpKind::Union, false) => 1,
        }
    }
}

impl Operator for SetOpOp {
    fn open(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset(cx);
        self.left.open(cx)?;
        self.right.open(cx)
    }

    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        if self.kind == SetOpKind::Union {
            return self.next_union(cx, out, max);
        }
        if self.phase < 2 {
            self.count_inputs(cx)?;
        }
        let start = out.len();
        while out.len() - start < max {
            if self.emit_left == 0 {
                if self.emit_id >= self.table.len() {
                    break;
                }
                self.emit_left = self.copies(self.counts[self.emit_id]);
                self.emit_id += 1;
                continue;
            }
            out.push(self.table.key(self.emit_id - 1).to_vec());
            self.emit_left -= 1;
        }
        Ok(())
    }

    fn rescan(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset(cx);
        self.left.rescan(cx)?;
        self.right.rescan(cx)
    }

    fn close(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.table.clear();
        self.counts = Vec::new();
        let a = self.left.close(cx);
        let b = self.right.close(cx);
        a.and(b)
    }
}
