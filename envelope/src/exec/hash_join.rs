//! Hash join: build a table on the inner side keyed by `inner_keys`, probe it with each outer
//! row's `outer_keys`, check the extra qual on each candidate pair.
//!
//! NULL keys never match: an inner row with one is left out of the table (kept aside for the
//! unmatched pass of right/full joins), an outer row with one goes straight to the unmatched
//! outer handling. The table maps each distinct key to a chain of inner rows (in input order)
//! through index arrays, so probing allocates nothing. If the inner side is empty, inner,
//! semi and right joins finish without reading the outer side (as PostgreSQL does).
//!
//! On rescan the table is kept if the inner side reads no parameter written from outside;
//! only the matched flags are reset.
//!
//! Key filter: when the join drops outer rows without a match (inner, semi, right) on one
//! integer or date key that is a plain (or integer-widened) column of the outer side, the inner keys gathered
//! while building are offered to the outer operator (`Operator::push_key_filter`) before
//! its first row is read, so a scan below can drop the rows that cannot join (see
//! `fdw_api::filter`). Each build offers its own keys.

use std::sync::Arc;

use fdw_api::{DataType, Datum, Expr, FdwResult, KeySet, Row};

use super::context::{CExpr, Cx};
use super::join::JoinSpec;
use super::keys::{row_bytes, KeyKind, KeyTable, MemTracker};
use super::{drain_rows, BoxOp, Child, Operator};
use crate::plan::physical::JoinType;

const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Probe,
    /// Outer side done: emitting the unmatched inner rows (right/full joins).
    Unmatched,
    Done,
}

struct JoinTable {
    keys: KeyTable,
    /// Per key id: first and last inner row of its chain.
    heads: Vec<u32>,
    tails: Vec<u32>,
    /// Per inner row: the next row of the same key.
    next: Vec<u32>,
    rows: Vec<Row>,
    matched: Vec<bool>,
    /// Inner rows with a NULL key (right/full joins only).
    null_rows: Vec<Row>,
    /// The table's share of the query's memory, held for as long as the table.
    mem: MemTracker,
}

pub(crate) struct HashJoinOp {
    spec: JoinSpec,
    outer: Child,
    inner: BoxOp,
    outer_keys: Vec<CExpr>,
    inner_keys: Vec<CExpr>,
    kinds: Vec<KeyKind>,
    /// The outer output column a key filter reads, when the join can offer one.
    filter_col: Option<usize>,
    inner_dynamic: bool,
    /// The inner side is at its start (just opened), no rescan needed before building.
    inner_fresh: bool,
    table: Option<JoinTable>,
    cur: Option<Row>,
    chain: u32,
    matched: bool,
    phase: Phase,
    /// Position of the unmatched-inner pass (table rows, then null-key rows).
    unmatched_pos: usize,
    key_buf: Vec<Datum>,
    scratch: Row,
}

impl HashJoinOp {
    pub fn new(
        spec: JoinSpec,
        outer: BoxOp,
        inner: BoxOp,
        outer_keys: &[Expr],
        inner_keys: &[Expr],
        inner_dynamic: bool,
    ) -> FdwResult<Self> {
        let filter_col = match spec.join_type {
            JoinType::Inner | JoinType::Semi | JoinType::Right => key_filter_column(outer_keys, inner_keys),
            _ => None,
        };
        Ok(HashJoinOp {
            filter_col,
            spec,
            outer: Child::new(outer),
            inner,
            kinds: inner_keys.iter().map(|e| KeyKind::of(&e.data_type())).collect(),
            outer_keys: CExpr::compile_all(outer_keys)?,
            inner_keys: CExpr::compile_all(inner_keys)?,
            inner_dynamic,
            inner_fresh: false,
            table: None,
            cur: None,
            chain: NONE,
            matched: false,
            phase: Phase::Probe,
            unmatched_pos: 0,
            key_buf: Vec::new(),
            scratch: Vec::new(),
        })
    }

    fn reset_probe(&mut self) {
        self.cur = None;
        self.chain = NONE;
        self.matched = false;
        self.unmatched_pos = 0;
        self.phase = Phase::Probe;
    }

    fn build(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        if !self.inner_fresh {
            self.inner.rescan(cx)?;
        }
        self.inner_fresh = false;
        let keep_null = self.spec.keeps_unmatched_inner();
        let mut t = JoinTable {
            keys: KeyTable::new(self.kinds.clone()),
            heads: Vec::new(),
            tails: Vec::new(),
            next: Vec::new(),
            rows: Vec::new(),
            matched: Vec::new(),
            null_rows: Vec::new(),
            mem: MemTracker::new("hash join table", cx.memory()),
        };
        let mut filter_keys = FilterKeys::new(self.filter_col);
        let (inner_keys, key_buf) = (&self.inner_keys, &mut self.key_buf);
        drain_rows(self.inner.as_mut(), cx, |cx, row| {
            cx.eval_into(inner_keys, &row, key_buf)?;
            t.mem.add(row_bytes(&row) + 8)?;
            if key_buf.iter().any(Datum::is_null) {
                if keep_null {
                    t.null_rows.push(row);
                }
                return Ok(());
            }
            let (id, new) = t.keys.find_or_insert(key_buf)?;
            if new {
                t.mem.add(row_bytes(key_buf) + 24)?;
                t.heads.push(NONE);
                t.tails.push(NONE);
                filter_keys.note(key_buf);
            }
            let ri = t.rows.len() as u32;
            t.rows.push(row);
            t.next.push(NONE);
            match t.tails[id] {
                NONE => t.heads[id] = ri,
                tail => t.next[tail as usize] = ri,
            }
            t.tails[id] = ri;
            Ok(())
        })?;
        if keep_null {
            t.matched = vec![false; t.rows.len()];
        }
        if !t.rows.is_empty() {
            filter_keys.offer(self.outer.op.as_mut(), &mut t.mem)?;
        }
        if t.rows.is_empty() && matches!(self.spec.join_type, JoinType::Inner | JoinType::Semi | JoinType::Right) {
            // Nothing can match and no outer row is kept: skip the outer side. Right joins
            // still emit the inner rows with NULL keys.
            self.phase = if keep_null { Phase::Unmatched } else { Phase::Done };
        }
        self.table = Some(t);
        Ok(())
    }
}

/// The distinct keys of a hash table being built, gathered for a key filter on column `col`
/// of the other side; given up at the first key a `KeySet` cannot hold.
pub(crate) struct FilterKeys {
    col: Option<usize>,
    keys: Vec<i64>,
}

impl FilterKeys {
    pub fn new(col: Option<usize>) -> Self {
        FilterKeys { col, keys: Vec::new() }
    }

    /// Notes a new distinct key (one column).
    #[inline]
    pub fn note(&mut self, key: &[Datum]) {
        if self.col.is_some() {
            match key.first().and_then(KeySet::key_of) {
                Some(k) => self.keys.push(k),
                None => self.col = None,
            }
        }
    }

    /// Offers the keys to `op` as a key filter, charging the set to `mem`.
    pub fn offer(self, op: &mut dyn Operator, mem: &mut MemTracker) -> FdwResult<()> {
        if let Some(col) = self.col {
            let set = KeySet::new(&self.keys);
            mem.add(set.heap_bytes())?;
            op.push_key_filter(col, &Arc::new(set));
        }
        Ok(())
    }
}

/// The outer column a key filter may read for the outer key `e`, with its type: a plain
/// column, or one widened to a larger integer type (`int4_col::bigint`, which never fails
/// and keeps the value). Narrowing casts are left out: dropping a row early would hide the
/// overflow error PostgreSQL raises for it.
/// The column of the streamed side a key filter can work on: one key on each side, the
/// streamed one a plain (or widened) column whose type the built keys' set supports.
pub(crate) fn key_filter_column(streamed_keys: &[Expr], built_keys: &[Expr]) -> Option<usize> {
    match (streamed_keys, built_keys) {
        ([streamed], [built]) => {
            filter_column(streamed).filter(|(_, ty)| KeySet::supports(ty, &built.data_type())).map(|(c, _)| c)
        }
        _ => None,
    }
}

fn filter_column(e: &Expr) -> Option<(usize, DataType)> {
    let width = |t: &DataType| match t {
        DataType::Int2 => Some(2),
        DataType::Int4 => Some(4),
        DataType::Int8 => Some(8),
        _ => None,
    };
    match e {
        Expr::Column { index, ty } => Some((*index, ty.clone())),
        Expr::Cast { expr, ty } => match expr.as_ref() {
            Expr::Column { index, ty: from } if width(from).zip(width(ty)).is_some_and(|(f, t)| f <= t) => {
                Some((*index, from.clone()))
            }
            _ => None,
        },
        _ => None,
    }
}

impl Operator for HashJoinOp {
    fn open(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset_probe();
        self.table = None;
        self.outer.open(cx)?;
        self.inner.open(cx)?;
        self.inner_fresh = true;
        Ok(())
    }

    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        if self.table.is_none() {
            self.build(cx)?;
        }
        let Some(t) = self.table.as_mut() else { return Ok(()) };
        let start = out.len();
        while out.len() - start < max {
            match self.phase {
                Phase::Done => return Ok(()),
                Phase::Unmatched => {
                    let n = t.rows.len();
                    while out.len() - start < max {
                        let pos = self.unmatched_pos;
                        if pos < n {
                            if !t.matched[pos] {
                                out.push(self.spec.unmatched_inner(&t.rows[pos]));
                            }
                        } else if let Some(r) = t.null_rows.get(pos - n) {
                            out.push(self.spec.unmatched_inner(r));
                        } else {
                            self.phase = Phase::Done;
                            break;
                        }
                        self.unmatched_pos += 1;
                    }
                    return Ok(());
                }
                Phase::Probe => {}
            }
            if self.cur.is_none() {
                let Some(row) = self.outer.next_row(cx)? else {
                    self.phase = if self.spec.keeps_unmatched_inner() { Phase::Unmatched } else { Phase::Done };
                    continue;
                };
                cx.eval_into(&self.outer_keys, &row, &mut self.key_buf)?;
                self.chain = if self.key_buf.iter().any(Datum::is_null) {
                    NONE
                } else {
                    t.keys.find(&self.key_buf).map_or(NONE, |id| t.heads[id])
                };
                self.matched = false;
                self.cur = Some(row);
            }
            if self.chain == NONE {
                if let Some(row) = self.cur.take() {
                    if !self.matched && (self.spec.keeps_unmatched_outer() || self.spec.join_type == JoinType::Anti) {
                        out.push(self.spec.unmatched_outer(row));
                    }
                }
                continue;
            }
            let ri = self.chain as usize;
            self.chain = t.next[ri];
            let Some(outer_row) = self.cur.as_ref() else { continue };
            let inner_row = &t.rows[ri];
            match self.spec.join_type {
                JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full => {
                    if let Some(joined) = self.spec.try_join(cx, outer_row, inner_row, &mut self.scratch)? {
                        out.push(joined);
                        self.matched = true;
                        if let Some(m) = t.matched.get_mut(ri) {
                            *m = true;
                        }
                    }
                }
                JoinType::Semi => {
                    if self.spec.qual_passes(cx, outer_row, inner_row, &mut self.scratch)? {
                        out.extend(self.cur.take());
                        self.chain = NONE;
                    }
                }
                JoinType::Anti => {
                    if self.spec.qual_passes(cx, outer_row, inner_row, &mut self.scratch)? {
                        self.cur = None;
                        self.chain = NONE;
                    }
                }
            }
        }
        Ok(())
    }

    fn rescan(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset_probe();
        if self.inner_dynamic {
            self.table = None;
        } else if let Some(t) = self.table.as_mut() {
            t.matched.iter_mut().for_each(|m| *m = false);
            if t.rows.is_empty() && matches!(self.spec.join_type, JoinType::Inner | JoinType::Semi | JoinType::Right) {
                self.phase = if self.spec.keeps_unmatched_inner() { Phase::Unmatched } else { Phase::Done };
            }
        }
        self.outer.rescan(cx)
    }

    fn close(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset_probe();
        self.table = None;
        let a = self.outer.close(cx);
        let b = self.inner.close(cx);
        a.and(b)
    }
}
