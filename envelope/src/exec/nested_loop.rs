//! Nested loop join: for each outer row, write the parameters the inner side reads (values of
//! the outer row), rescan the inner side and join on the qual.
//!
//! Inner, left, semi and anti joins stream the inner side per outer row (a semi or anti join
//! stops at the first match). Right and full joins must remember which inner rows matched
//! across all outer rows, so they read the inner side once into memory and loop over it; the
//! planner never parameterizes their inner side.

use fdw_api::{FdwError, FdwResult, Row, BATCH_SIZE};

use super::context::{CExpr, Cx};
use super::join::JoinSpec;
use super::keys::{row_bytes, MemTracker};
use super::{BoxOp, Child, Operator};
use crate::plan::physical::JoinType;

pub(crate) struct NestedLoopOp {
    spec: JoinSpec,
    outer: Child,
    inner: BoxOp,
    params: Vec<(usize, CExpr)>,
    inner_opened: bool,
    /// The outer row being joined, with whether it matched so far.
    cur: Option<Row>,
    matched: bool,
    /// Streaming inner side: the current batch.
    inner_buf: Vec<Row>,
    inner_pos: usize,
    inner_done: bool,
    /// Right/full joins: the whole inner side, its matched flags, the position for the
    /// current outer row, and the position of the final unmatched-inner pass.
    inner_rows: Option<Vec<Row>>,
    inner_matched: Vec<bool>,
    inner_idx: usize,
    unmatched_pos: usize,
    mem: MemTracker,
    scratch: Row,
}

impl NestedLoopOp {
    pub fn new(spec: JoinSpec, outer: BoxOp, inner: BoxOp, params: Vec<(usize, CExpr)>) -> Self {
        NestedLoopOp {
            spec,
            outer: Child::new(outer),
            inner,
            params,
            inner_opened: false,
            cur: None,
            matched: false,
            inner_buf: Vec::new(),
            inner_pos: 0,
            inner_done: false,
            inner_rows: None,
            inner_matched: Vec::new(),
            inner_idx: 0,
            unmatched_pos: 0,
            mem: MemTracker::unbounded("nested loop inner side"),
            scratch: Vec::new(),
        }
    }

    fn reset(&mut self) {
        self.cur = None;
        self.matched = false;
        self.inner_buf.clear();
        self.inner_pos = 0;
        self.inner_done = false;
        self.inner_rows = None;
        self.inner_matched.clear();
        self.inner_idx = 0;
        self.unmatched_pos = 0;
        self.mem.reset();
    }

    fn start_inner(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        if self.inner_opened {
            self.inner.rescan(cx)
        } else {
            self.inner_opened = true;
            self.inner.open(cx)
        }
    }

    /// Right/full joins: reads the inner side into memory once.
    fn materialize_inner(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        if self.inner_rows.is_some() {
            return Ok(());
        }
        if !self.params.is_empty() {
            return Err(FdwError::internal("nested loop right/full join with a parameterized inner side"));
        }
        self.mem = MemTracker::new("nested loop inner side", cx.memory());
        self.start_inner(cx)?;
        let mut rows = Vec::new();
        loop {
            let before = rows.len();
            self.inner.next_batch(cx, &mut rows, BATCH_SIZE)?;
            if rows.len() == before {
                break;
            }
            for r in &rows[before..] {
                self.mem.add(row_bytes(r))?;
            }
        }
        self.inner_matched = vec![false; rows.len()];
        self.inner_rows = Some(rows);
        Ok(())
    }

    /// Moves to the next outer row; false when the outer side is exhausted.
    fn next_outer(&mut self, cx: &mut Cx<'_>) -> FdwResult<bool> {
        let Some(row) = self.outer.next_row(cx)? else { return Ok(false) };
        for (slot, e) in &self.params {
            let v = cx.eval(e, &row)?;
            cx.set_param(*slot, v)?;
        }
        if self.spec.keeps_unmatched_inner() {
            self.inner_idx = 0;
        } else {
            self.start_inner(cx)?;
            self.inner_buf.clear();
            self.inner_pos = 0;
            self.inner_done = false;
        }
        self.matched = false;
        self.cur = Some(row);
        Ok(true)
    }

    /// Finishes the current outer row: emits it NULL-extended (left/full) or alone (anti) if
    /// nothing matched.
    fn finish_outer(&mut self, out: &mut Vec<Row>) {
        if let Some(row) = self.cur.take() {
            if !self.matched && (self.spec.keeps_unmatched_outer() || self.spec.join_type == JoinType::Anti) {
                out.push(self.spec.unmatched_outer(row));
            }
        }
    }
}

impl Operator for NestedLoopOp {
    fn open(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset();
        self.outer.open(cx)
    }

    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        let start = out.len();
        let right = self.spec.keeps_unmatched_inner();
        if right {
            self.materialize_inner(cx)?;
        }
        while out.len() - start < max {
            if self.cur.is_none() && !self.next_outer(cx)? {
                // Outer side exhausted: right/full joins add the unmatched inner rows.
                if let Some(rows) = &self.inner_rows {
                    while self.unmatched_pos < rows.len() && out.len() - start < max {
                        if !self.inner_matched[self.unmatched_pos] {
                            out.push(self.spec.unmatched_inner(&rows[self.unmatched_pos]));
                        }
                        self.unmatched_pos += 1;
                    }
                }
                return Ok(());
            }
            // The next inner row for the current outer row.
            let inner_row: &Row = if let Some(rows) = &self.inner_rows {
                match rows.get(self.inner_idx) {
                    Some(r) => {
                        self.inner_idx += 1;
                        r
                    }
                    None => {
                        self.finish_outer(out);
                        continue;
                    }
                }
            } else {
                if self.inner_pos >= self.inner_buf.len() {
                    self.inner_buf.clear();
                    self.inner_pos = 0;
                    if !self.inner_done {
                        self.inner.next_batch(cx, &mut self.inner_buf, BATCH_SIZE)?;
                        self.inner_done = self.inner_buf.is_empty();
                    }
                    if self.inner_buf.is_empty() {
                        self.finish_outer(out);
                        continue;
                    }
                }
                self.inner_pos += 1;
                &self.inner_buf[self.inner_pos - 1]
            };
            let Some(outer_row) = self.cur.as_ref() else { continue };
            match self.spec.join_type {
                JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full => {
                    if let Some(joined) = self.spec.try_join(cx, outer_row, inner_row, &mut self.scratch)? {
                        out.push(joined);
                        self.matched = true;
                        if right {
                            self.inner_matched[self.inner_idx - 1] = true;
                        }
                    }
                }
                JoinType::Semi => {
                    if self.spec.qual_passes(cx, outer_row, inner_row, &mut self.scratch)? {
                        out.extend(self.cur.take());
                    }
                }
                JoinType::Anti => {
                    if self.spec.qual_passes(cx, outer_row, inner_row, &mut self.scratch)? {
                        self.cur = None;
                    }
                }
            }
        }
        Ok(())
    }

    fn rescan(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset();
        self.outer.rescan(cx)
    }

    fn close(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset();
        let a = self.outer.close(cx);
        let b = self.inner.close(cx);
        self.inner_opened = false;
        a.and(b)
    }
}
