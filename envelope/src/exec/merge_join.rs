//! Merge join: both inputs arrive sorted ascending, NULLS LAST, on their keys. The inner side
//! is read one group of equal keys at a time; each outer row is compared with the current
//! group and joined with all of it when the keys are equal, so duplicate keys on both sides
//! give every pair. Keys containing a NULL never match (they still take part in the ordering,
//! so an outer or inner row with one is simply left unmatched).
//!
//! Simplification: the rows one outer row produces with its group are emitted together, so a
//! batch may exceed `max` by up to one group.

use std::cmp::Ordering;

use fdw_api::{Datum, Expr, FdwResult, Row};

use super::context::{CExpr, Cx};
use super::join::JoinSpec;
use super::keys::{cmp_datum, KeyKind};
use super::{BoxOp, Child, Operator};
use crate::plan::physical::JoinType;

pub(crate) struct MergeJoinOp {
    spec: JoinSpec,
    outer: Child,
    inner: Child,
    outer_keys: Vec<CExpr>,
    inner_keys: Vec<CExpr>,
    kinds: Vec<KeyKind>,
    started: bool,
    cur: Option<Row>,
    cur_key: Vec<Datum>,
    group: Vec<Row>,
    group_key: Vec<Datum>,
    group_matched: Vec<bool>,
    /// False once the inner side is exhausted.
    group_valid: bool,
    /// The first inner row past the current group, with its key.
    lookahead: Option<(Row, Vec<Datum>)>,
    scratch: Row,
}

fn cmp_keys(a: &[Datum], b: &[Datum], kinds: &[KeyKind]) -> Ordering {
    for ((x, y), k) in a.iter().zip(b).zip(kinds) {
        match cmp_datum(x, y, *k) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    Ordering::Equal
}

impl MergeJoinOp {
    pub fn new(
        spec: JoinSpec,
        outer: BoxOp,
        inner: BoxOp,
        outer_keys: &[Expr],
        inner_keys: &[Expr],
    ) -> FdwResult<Self> {
        Ok(MergeJoinOp {
            spec,
            outer: Child::new(outer),
            inner: Child::new(inner),
            kinds: inner_keys.iter().map(|e| KeyKind::of(&e.data_type())).collect(),
            outer_keys: CExpr::compile_all(outer_keys)?,
            inner_keys: CExpr::compile_all(inner_keys)?,
            started: false,
            cur: None,
            cur_key: Vec::new(),
            group: Vec::new(),
            group_key: Vec::new(),
            group_matched: Vec::new(),
            group_valid: false,
            lookahead: None,
            scratch: Vec::new(),
        })
    }

    fn reset(&mut self) {
        self.started = false;
        self.cur = None;
        self.group.clear();
        self.group_matched.clear();
        self.group_valid = false;
        self.lookahead = None;
    }

    fn next_inner(&mut self, cx: &mut Cx<'_>) -> FdwResult<Option<(Row, Vec<Datum>)>> {
        if let Some(x) = self.lookahead.take() {
            return Ok(Some(x));
        }
        let Some(row) = self.inner.next_row(cx)? else { return Ok(None) };
        let mut key = Vec::with_capacity(self.inner_keys.len());
        cx.eval_into(&self.inner_keys, &row, &mut key)?;
        Ok(Some((row, key)))
    }

    /// Loads the next group of inner rows with equal keys; false when the inner side is done.
    fn load_group(&mut self, cx: &mut Cx<'_>) -> FdwResult<bool> {
        self.group.clear();
        let Some((first, key)) = self.next_inner(cx)? else {
            self.group_valid = false;
            self.group_matched.clear();
            return Ok(false);
        };
        self.group.push(first);
        self.group_key = key;
        while let Some((row, key)) = self.next_inner(cx)? {
            if cmp_keys(&key, &self.group_key, &self.kinds) == Ordering::Equal {
                self.group.push(row);
            } else {
                self.lookahead = Some((row, key));
                break;
            }
        }
        self.group_matched.clear();
        self.group_matched.resize(self.group.len(), false);
        self.group_valid = true;
        Ok(true)
    }

    /// Right/full joins: emits the rows of the current group no outer row matched.
    fn flush_group(&mut self, out: &mut Vec<Row>) {
        if self.spec.keeps_unmatched_inner() && self.group_valid {
            for (row, m) in self.group.iter().zip(&self.group_matched) {
                if !m {
                    out.push(self.spec.unmatched_inner(row));
                }
            }
        }
        self.group_matched.iter_mut().for_each(|m| *m = true);
    }

    fn finish_outer(&mut self, matched: bool, out: &mut Vec<Row>) {
        if let Some(row) = self.cur.take() {
            if !matched && (self.spec.keeps_unmatched_outer() || self.spec.join_type == JoinType::Anti) {
                out.push(self.spec.unmatched_outer(row));
            }
        }
    }

    /// Joins the current outer row with the current (equal-keyed) group.
    fn join_group(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>) -> FdwResult<bool> {
        let Some(outer_row) = self.cur.as_ref() else { return Ok(false) };
        let mut matched = false;
        for (i, inner_row) in self.group.iter().enumerate() {
            match self.spec.join_type {
                JoinType::Semi | JoinType::Anti => {
                    if self.spec.qual_passes(cx, outer_row, inner_row, &mut self.scratch)? {
                        matched = true;
                        break;
                    }
                }
                _ => {
                    if let Some(j) = self.spec.try_join(cx, outer_row, inner_row, &mut self.scratch)? {
                        out.push(j);
                        matched = true;
                        self.group_matched[i] = true;
                    }
                }
            }
        }
        if matched && self.spec.join_type == JoinType::Semi {
            out.extend(self.cur.take());
        }
        Ok(matched)
    }
}

impl Operator for MergeJoinOp {
    fn open(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset();
        self.outer.open(cx)?;
        self.inner.open(cx)
    }

    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        if !self.started {
            self.started = true;
            self.load_group(cx)?;
        }
        let start = out.len();
        while out.len() - start < max {
            if self.cur.is_none() {
                match self.outer.next_row(cx)? {
                    Some(row) => {
                        cx.eval_into(&self.outer_keys, &row, &mut self.cur_key)?;
                        self.cur = Some(row);
                    }
                    None => {
                        // Outer side done: what is left of the inner side is unmatched.
                        if !self.spec.keeps_unmatched_inner() || !self.group_valid {
                            return Ok(());
                        }
                        self.flush_group(out);
                        self.load_group(cx)?;
                        continue;
                    }
                }
            }
            if !self.group_valid {
                self.finish_outer(false, out);
                continue;
            }
            match cmp_keys(&self.cur_key, &self.group_key, &self.kinds) {
                Ordering::Less => self.finish_outer(false, out),
                Ordering::Greater => {
                    self.flush_group(out);
                    self.load_group(cx)?;
                }
                Ordering::Equal => {
                    let matched =
                        if self.cur_key.iter().any(Datum::is_null) { false } else { self.join_group(cx, out)? };
                    self.finish_outer(matched, out);
                }
            }
        }
        Ok(())
    }

    fn rescan(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset();
        self.outer.rescan(cx)?;
        self.inner.rescan(cx)
    }

    fn close(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset();
        let a = self.outer.close(cx);
        let b = self.inner.close(cx);
        a.and(b)
    }
}
