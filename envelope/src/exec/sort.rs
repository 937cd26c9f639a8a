//! Sort (stable, by `SortKey`s with ASC/DESC and NULLS FIRST/LAST) and TopN (`ORDER BY ...
//! LIMIT n OFFSET m` keeping only the first `n + m` rows).
//!
//! Keys that are not plain input columns are computed once per row and appended to the row
//! as extra columns (cut off again on output), so the comparator only ever compares columns.
//! TopN keeps a buffer of at most `2 * (n + m)` rows: when full it is sorted and cut to
//! `n + m`; stable sorting keeps ties in input order, so TopN returns what Sort + Limit would.
//!
//! On rescan the sorted rows are replayed if the input reads no parameter written from
//! outside (they are only kept for that when the node can be rescanned at all).

use std::cmp::Ordering;

use fdw_api::{Datum, FdwResult, Row, BATCH_SIZE};

use super::context::{CExpr, Cx};
use super::keys::{cmp_datum, row_bytes, KeyKind, MemTracker};
use super::{BoxOp, Operator};
use crate::plan::physical::SortKey;

/// One sort key resolved to a column of the (possibly extended) row.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ColKey {
    pub col: usize,
    pub descending: bool,
    pub nulls_first: bool,
    pub kind: KeyKind,
}

/// Compares two rows on the keys.
#[inline]
pub(crate) fn cmp_rows(a: &[Datum], b: &[Datum], keys: &[ColKey]) -> Ordering {
    for k in keys {
        let (x, y) = (&a[k.col], &b[k.col]);
        let o = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => {
                if k.nulls_first {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (false, true) => {
                if k.nulls_first {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (false, false) => {
                let o = cmp_datum(x, y, k.kind);
                if k.descending {
                    o.reverse()
                } else {
                    o
                }
            }
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

pub(crate) struct SortOp {
    input: BoxOp,
    /// Expressions to append to each row (keys that are not plain columns).
    extra: Vec<CExpr>,
    keys: Vec<ColKey>,
    /// `(limit, offset)` for TopN.
    topn: Option<(u64, u64)>,
    keep_for_rescan: bool,
    width: usize,
    rows: Vec<Row>,
    ready: bool,
    pos: usize,
    mem: MemTracker,
}

impl SortOp {
    pub fn new(
        input: BoxOp,
        keys: &[SortKey],
        input_width: usize,
        topn: Option<(u64, u64)>,
        input_dynamic: bool,
        rescannable: bool,
    ) -> FdwResult<Self> {
        let mut extra = Vec::new();
        let mut cols = Vec::new();
        for k in keys {
            let col = match CExpr::compile(&k.expr)? {
                CExpr::Column(c) => c,
                e => {
                    extra.push(e);
                    input_width + extra.len() - 1
                }
            };
            cols.push(ColKey {
                col,
                descending: k.descending,
                nulls_first: k.nulls_first,
                kind: KeyKind::of(&k.expr.data_type()),
            });
        }
        Ok(SortOp {
            input,
            extra,
            keys: cols,
            topn,
            keep_for_rescan: rescannable && !input_dynamic,
            width: input_width,
            rows: Vec::new(),
            ready: false,
            pos: 0,
            mem: MemTracker::unbounded("sort"),
        })
    }

    fn keep(&self) -> usize {
        match self.topn {
            Some((limit, offset)) => usize::try_from(limit.saturating_add(offset)).unwrap_or(usize::MAX),
            None => usize::MAX,
        }
    }

    fn sort_now(&mut self) {
        let keys = &self.keys;
        self.rows.sort_by(|a, b| cmp_rows(a, b, keys));
    }

    fn fill(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.rows.clear();
        self.mem = MemTracker::new("sort", cx.memory());
        let keep = self.keep();
        if keep > 0 {
            let mut batch = Vec::new();
            loop {
                batch.clear();
                self.input.next_batch(cx, &mut batch, BATCH_SIZE)?;
                if batch.is_empty() {
                    break;
                }
                for mut row in batch.drain(..) {
                    if !self.extra.is_empty() {
                        for e in &self.extra {
                            let v = cx.eval(e, &row)?;
                            row.push(v);
                        }
                    }
                    self.mem.add(row_bytes(&row))?;
                    self.rows.push(row);
                }
                if keep != usize::MAX && self.rows.len() >= keep.saturating_mul(2).max(BATCH_SIZE) {
                    self.sort_now();
                    self.rows.truncate(keep);
                    self.mem.reset();
                    for r in &self.rows {
                        self.mem.add(row_bytes(r))?;
                    }
                }
            }
        }
        self.sort_now();
        self.rows.truncate(keep);
        if let Some((_, offset)) = self.topn {
            let skip = usize::try_from(offset).unwrap_or(usize::MAX).min(self.rows.len());
            self.rows.drain(..skip);
        }
        if !self.extra.is_empty() {
            let w = self.width;
            self.rows.iter_mut().for_each(|r| r.truncate(w));
        }
        self.ready = true;
        self.pos = 0;
        Ok(())
    }
}

impl Operator for SortOp {
    fn open(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.ready = false;
        self.rows.clear();
        self.input.open(cx)
    }

    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        if !self.ready {
            self.fill(cx)?;
        }
        let end = self.rows.len().min(self.pos + max);
        if self.keep_for_rescan {
            out.extend_from_slice(&self.rows[self.pos..end]);
        } else {
            out.extend(self.rows[self.pos..end].iter_mut().map(std::mem::take));
        }
        self.pos = end;
        Ok(())
    }

    fn rescan(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        if self.ready && self.keep_for_rescan {
            self.pos = 0;
            return Ok(());
        }
        self.ready = false;
        self.rows.clear();
        self.input.rescan(cx)
    }

    fn close(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.ready = false;
        self.rows = Vec::new();
        self.input.close(cx)
    }
}
