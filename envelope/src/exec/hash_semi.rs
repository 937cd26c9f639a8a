//! Hash semi and anti joins that build on the outer side (EXPLAIN: `Hash Right Semi Join`,
//! `Hash Right Anti Join`, as PostgreSQL 18 names them).
//!
//! A semi or anti join emits outer rows only, so the usual hash join hashes the inner side,
//! however large: TPC-H Q4 would hash 3.8 million `lineitem` rows to keep 52 thousand orders.
//! When the outer side is the smaller one the planner picks this operator instead: it hashes
//! the outer rows, streams the inner side marking each outer row that finds a partner (the
//! join qual, if any, checked per pair), then emits the marked rows (semi) or the unmarked
//! ones (anti), in the order the outer side produced them. Inner rows whose key no outer row
//! has cannot mark anything, so the outer keys are offered to the inner input as a key filter
//! (see `fdw_api::filter`), for the anti join as well.
//!
//! NULL keys: an outer row with one never matches (dropped by a semi join, emitted by an anti
//! join), an inner row with one is skipped. A rescan starts over: both sides are read again.

use fdw_api::{Datum, Expr, FdwResult, Row};

use super::context::{CExpr, Cx};
use super::hash_join::{key_filter_column, FilterKeys};
use super::join::JoinSpec;
use super::keys::{row_bytes, KeyKind, KeyTable, MemTracker};
use super::{drain_rows, BoxOp, Child, Operator};
use crate::plan::physical::JoinType;

const NONE: u32 = u32::MAX;

/// The hashed outer rows.
struct OuterTable {
    keys: KeyTable,
    /// Per key id: first outer row of its chain.
    heads: Vec<u32>,
    /// Per outer row: the next row of the same key.
    next: Vec<u32>,
    /// Outer rows in input order, with their matched flags; rows with a NULL key are kept
    /// (unhashed, never matched) only for an anti join.
    rows: Vec<Row>,
    matched: Vec<bool>,
    /// Held for as long as the rows are.
    mem: MemTracker,
}

pub(crate) struct HashSemiOuterOp {
    spec: JoinSpec,
    outer: BoxOp,
    inner: Child,
    outer_keys: Vec<CExpr>,
    inner_keys: Vec<CExpr>,
    kinds: Vec<KeyKind>,
    /// The inner output column a key filter reads, when the keys allow one.
    filter_col: Option<usize>,
    table: Option<OuterTable>,
    /// Next outer row to consider for output.
    emit_pos: usize,
    key_buf: Vec<Datum>,
    scratch: Row,
}

impl HashSemiOuterOp {
    pub fn new(
        spec: JoinSpec,
        outer: BoxOp,
        inner: BoxOp,
        outer_keys: &[Expr],
        inner_keys: &[Expr],
    ) -> FdwResult<Self> {
        let filter_col = key_filter_column(inner_keys, outer_keys);
        Ok(HashSemiOuterOp {
            kinds: outer_keys.iter().map(|e| KeyKind::of(&e.data_type())).collect(),
            outer_keys: CExpr::compile_all(outer_keys)?,
            inner_keys: CExpr::compile_all(inner_keys)?,
            spec,
            outer,
            inner: Child::new(inner),
            filter_col,
            table: None,
            emit_pos: 0,
            key_buf: Vec::new(),
            scratch: Vec::new(),
        })
    }

    /// Hashes the outer side, then streams the inner side marking the outer rows it matches.
    fn run(&mut self, cx: &mut Cx<'_>) -> FdwResult<OuterTable> {
        let anti = self.spec.join_type == JoinType::Anti;
        let mut t = OuterTable {
            keys: KeyTable::new(self.kinds.clone()),
            heads: Vec::new(),
            next: Vec::new(),
            rows: Vec::new(),
            matched: Vec::new(),
            mem: MemTracker::new("hash join table", cx.memory()),
        };
        let mut filter_keys = FilterKeys::new(self.filter_col);
        // Outer rows that can still be marked (NULL keys never are).
        let mut hashed = 0usize;
        let (outer_keys, key_buf) = (&self.outer_keys, &mut self.key_buf);
        drain_rows(self.outer.as_mut(), cx, |cx, row| {
            cx.eval_into(outer_keys, &row, key_buf)?;
            t.mem.add(row_bytes(&row) + 9)?;
            let ri = t.rows.len() as u32;
            if key_buf.iter().any(Datum::is_null) {
                if anti {
                    t.rows.push(row);
                    t.next.push(NONE);
                    t.matched.push(false);
                }
                return Ok(());
            }
            hashed += 1;
            let (id, new) = t.keys.find_or_insert(key_buf)?;
            if new {
                t.mem.add(row_bytes(key_buf) + 8)?;
                t.heads.push(NONE);
                filter_keys.note(key_buf);
            }
            // Chains run newest first; the output order comes from `rows`, not the chains.
            t.next.push(t.heads[id]);
            t.heads[id] = ri;
            t.rows.push(row);
            t.matched.push(false);
            Ok(())
        })?;
        if t.heads.is_empty() {
            // No outer row can match: the inner side need not be read.
            return Ok(t);
        }
        filter_keys.offer(self.inner.op.as_mut(), &mut t.mem)?;
        // Once every hashed row is marked, the rest of the inner side changes nothing.
        let mut unmatched = hashed;
        while unmatched > 0 {
            let Some(inner_row) = self.inner.next_row(cx)? else { break };
            cx.eval_into(&self.inner_keys, &inner_row, &mut self.key_buf)?;
            if self.key_buf.iter().any(Datum::is_null) {
                continue;
            }
            let Some(id) = t.keys.find(&self.key_buf) else { continue };
            let mut ri = t.heads[id];
            while ri != NONE {
                let r = ri as usize;
                ri = t.next[r];
                if !t.matched[r] && self.spec.qual_passes(cx, &t.rows[r], &inner_row, &mut self.scratch)? {
                    t.matched[r] = true;
                    unmatched -= 1;
                }
            }
        }
        Ok(t)
    }
}

impl Operator for HashSemiOuterOp {
    fn open(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.table = None;
        self.emit_pos = 0;
        self.outer.open(cx)?;
        self.inner.open(cx)
    }

    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        if self.table.is_none() {
            self.table = Some(self.run(cx)?);
        }
        let Some(t) = self.table.as_mut() else { return Ok(()) };
        let want = self.spec.join_type == JoinType::Semi;
        let start = out.len();
        while self.emit_pos < t.rows.len() && out.len() - start < max {
            let i = self.emit_pos;
            self.emit_pos += 1;
            if t.matched[i] == want {
                out.push(std::mem::take(&mut t.rows[i]));
            }
        }
        Ok(())
    }

    fn rescan(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.table = None;
        self.emit_pos = 0;
        self.outer.rescan(cx)?;
        self.inner.rescan(cx)
    }

    fn close(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.table = None;
        let a = self.outer.close(cx);
        let b = self.inner.close(cx);
        a.and(b)
    }
}
