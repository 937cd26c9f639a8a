//! Aggregation: plain (no GROUP BY, exactly one output row even without input), hashed (a
//! `KeyTable` from group values to a dense group id; accumulators in one flat vector indexed
//! by `group * n_aggs + agg`) and sorted (groups are consecutive in the input; streamed).
//!
//! `FILTER (WHERE ...)` skips rows per aggregate. `DISTINCT` aggregates collect their distinct
//! argument tuples (keyed by group id and arguments) and feed them to the accumulator at the
//! end of the group in ascending order, as PostgreSQL's sort-based DISTINCT does, so
//! `string_agg(DISTINCT x, ',')` lists values in order.
//!
//! Output rows: the group values, then the aggregate values. Hash-table growth counts
//! against the memory budget.

use std::cmp::Ordering;

use fdw_api::eval::Accumulator;
use fdw_api::{Datum, Expr, FdwResult, Row, BATCH_SIZE};

use super::context::{CExpr, Cx};
use super::keys::{cmp_datum, eq_keys, row_bytes, KeyKind, KeyTable, MemTracker};
use super::{BoxOp, Child, Operator};
use crate::plan::physical::{AggCall, AggStrategy};

struct AggSpec {
    args: Vec<CExpr>,
    filter: Option<CExpr>,
    distinct: bool,
    template: Accumulator,
    /// Kinds of the DISTINCT key: group id, then the arguments.
    distinct_kinds: Vec<KeyKind>,
}

/// Running state of a set of groups.
struct Groups {
    accs: Vec<Accumulator>,
    /// Per aggregate: its DISTINCT tuples (group id ++ args), if DISTINCT.
    distinct: Vec<Option<KeyTable>>,
    args: Vec<Datum>,
    dkey: Vec<Datum>,
}

impl Groups {
    fn new(specs: &[AggSpec]) -> Self {
        Groups {
            accs: Vec::new(),
            distinct: specs.iter().map(|s| s.distinct.then(|| KeyTable::new(s.distinct_kinds.clone()))).collect(),
            args: Vec::new(),
            dkey: Vec::new(),
        }
    }

    fn add_group(&mut self, specs: &[AggSpec]) {
        self.accs.extend(specs.iter().map(|s| s.template.clone()));
    }

    fn clear(&mut self) {
        self.accs.clear();
        self.distinct.iter_mut().flatten().for_each(KeyTable::clear);
    }

    /// Feeds one input row to the aggregates of group `g`.
    fn advance(
        &mut self,
        cx: &mut Cx<'_>,
        specs: &[AggSpec],
        g: usize,
        row: &[Datum],
        mem: &mut MemTracker,
    ) -> FdwResult<()> {
        let n = specs.len();
        for (j, s) in specs.iter().enumerate() {
            if let Some(f) = &s.filter {
                if !cx.eval_pred(f, row)? {
                    continue;
                }
            }
            // A plain column argument is read in place: no copy of the value per row.
            if self.distinct[j].is_none() {
                if let [CExpr::Column(i)] = s.args.as_slice() {
                    if let Some(v) = row.get(*i) {
                        self.accs[g * n + j].update(std::slice::from_ref(v))?;
                        continue;
                    }
                }
            }
            cx.eval_into(&s.args, row, &mut self.args)?;
            if let Some(table) = &mut self.distinct[j] {
                self.dkey.clear();
                self.dkey.push(Datum::Int8(g as i64));
                self.dkey.extend_from_slice(&self.args);
                let (_, new) = table.find_or_insert(&self.dkey)?;
                if new {
                    mem.add(row_bytes(&self.dkey))?;
                }
                continue;
            }
            self.accs[g * n + j].update(&self.args)?;
        }
        Ok(())
    }

    /// Feeds the collected DISTINCT tuples, in ascending order per group.
    fn feed_distinct(&mut self, specs: &[AggSpec]) -> FdwResult<()> {
        let n = specs.len();
        for (j, table) in self.distinct.iter().enumerate() {
            let Some(table) = table else { continue };
            let mut ids: Vec<usize> = (0..table.len()).collect();
            let kinds = &specs[j].distinct_kinds;
            ids.sort_by(|a, b| {
                let (ka, kb) = (table.key(*a), table.key(*b));
                for ((x, y), k) in ka.iter().zip(kb).zip(kinds) {
                    match cmp_datum(x, y, *k) {
                        Ordering::Equal => {}
                        o => return o,
                    }
                }
                Ordering::Equal
            });
            for id in ids {
                let key = table.key(id);
                let g = key[0].as_i64().unwrap_or(0) as usize;
                self.accs[g * n + j].update(&key[1..])?;
            }
        }
        Ok(())
    }

    fn finish(&self, g: usize, n: usize, out: &mut Row) -> FdwResult<()> {
        for acc in &self.accs[g * n..(g + 1) * n] {
            out.push(acc.finish()?);
        }
        Ok(())
    }
}

pub(crate) struct AggregateOp {
    input: Child,
    strategy: AggStrategy,
    group_by: Vec<CExpr>,
    kinds: Vec<KeyKind>,
    specs: Vec<AggSpec>,
    keep_for_rescan: bool,
    /// Plain/hashed: the finished rows.
    results: Vec<Row>,
    ready: bool,
    pos: usize,
    /// Sorted: the current group's values, and whether the input is exhausted.
    cur_key: Option<Vec<Datum>>,
    sorted_done: bool,
    sorted_groups: Option<Groups>,
    sorted_mem: Option<MemTracker>,
    key_buf: Vec<Datum>,
}

impl AggregateOp {
    pub fn new(
        input: BoxOp,
        strategy: AggStrategy,
        group_by: &[Expr],
        aggs: &[AggCall],
        input_dynamic: bool,
        rescannable: bool,
    ) -> FdwResult<Self> {
        let specs = aggs
            .iter()
            .map(|a| {
                let mut distinct_kinds = vec![KeyKind::Plain];
                distinct_kinds.extend(a.args.iter().map(|e| KeyKind::of(&e.data_type())));
                Ok(AggSpec {
                    args: CExpr::compile_all(&a.args)?,
                    filter: CExpr::compile_opt(a.filter.as_ref())?,
                    distinct: a.distinct,
                    template: Accumulator::new(a.func, &a.arg_type, &a.ret),
                    distinct_kinds,
                })
            })
            .collect::<FdwResult<_>>()?;
        Ok(AggregateOp {
            input: Child::new(input),
            strategy,
            kinds: group_by.iter().map(|e| KeyKind::of(&e.data_type())).collect(),
            group_by: CExpr::compile_all(group_by)?,
            specs,
            keep_for_rescan: rescannable && !input_dynamic && strategy != AggStrategy::Sorted,
            results: Vec::new(),
            ready: false,
            pos: 0,
            cur_key: None,
            sorted_done: false,
            sorted_groups: None,
            sorted_mem: None,
            key_buf: Vec::new(),
        })
    }

    fn reset(&mut self) {
        self.results.clear();
        self.ready = false;
        self.pos = 0;
        self.cur_key = None;
        self.sorted_done = false;
        self.sorted_groups = None;
        self.sorted_mem = None;
    }

    /// Plain and hashed: consumes the input and computes every group.
    fn compute(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        let n = self.specs.len();
        let mut mem = MemTracker::new("hash aggregate table", cx.memory());
        let mut groups = Groups::new(&self.specs);
        let mut table = KeyTable::new(self.kinds.clone());
        if self.strategy == AggStrategy::Plain {
            groups.add_group(&self.specs);
        }
        let mut batch = Vec::new();
        loop {
            batch.clear();
            self.input.next_batch(cx, &mut batch, BATCH_SIZE)?;
            if batch.is_empty() {
                break;
            }
            for row in &batch {
                let g = if self.strategy == AggStrategy::Plain {
                    0
                } else {
                    cx.eval_into(&self.group_by, row, &mut self.key_buf)?;
                    let (g, new) = table.find_or_insert(&self.key_buf)?;
                    if new {
                        groups.add_group(&self.specs);
                        mem.add(row_bytes(&self.key_buf) + n * std::mem::size_of::<Accumulator>() + 16)?;
                    }
                    g
                };
                groups.advance(cx, &self.specs, g, row, &mut mem)?;
            }
        }
        groups.feed_distinct(&self.specs)?;
        let n_groups = if self.strategy == AggStrategy::Plain { 1 } else { table.len() };
        self.results.reserve(n_groups);
        for g in 0..n_groups {
            let mut row = Vec::with_capacity(self.group_by.len() + n);
            if self.strategy != AggStrategy::Plain {
                row.extend_from_slice(table.key(g));
            }
            groups.finish(g, n, &mut row)?;
            self.results.push(row);
        }
        self.ready = true;
        self.pos = 0;
        Ok(())
    }

    /// Sorted: emits finished groups as their last row goes by.
    fn next_sorted(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        let n = self.specs.len();
        let mut groups = self.sorted_groups.take().unwrap_or_else(|| Groups::new(&self.specs));
        let mut mem =
            self.sorted_mem.take().unwrap_or_else(|| MemTracker::new("aggregate DISTINCT values", cx.memory()));
        let start = out.len();
        while out.len() - start < max && !self.sorted_done {
            let Some(row) = self.input.next_row(cx)? else {
                self.sorted_done = true;
                if let Some(key) = self.cur_key.take() {
                    groups.feed_distinct(&self.specs)?;
                    let mut r = key;
                    groups.finish(0, n, &mut r)?;
                    out.push(r);
                }
                break;
            };
            cx.eval_into(&self.group_by, &row, &mut self.key_buf)?;
            match &self.cur_key {
                Some(k) if eq_keys(k, &self.key_buf, &self.kinds) => {}
                _ => {
                    if let Some(key) = self.cur_key.take() {
                        groups.feed_distinct(&self.specs)?;
                        let mut r = key;
                        groups.finish(0, n, &mut r)?;
                        out.push(r);
                    }
                    groups.clear();
                    mem.reset();
                    groups.add_group(&self.specs);
                    self.cur_key = Some(self.key_buf.clone());
                }
            }
            groups.advance(cx, &self.specs, 0, &row, &mut mem)?;
        }
        // A group still open keeps its state for the next call.
        self.sorted_groups = Some(groups);
        self.sorted_mem = Some(mem);
        Ok(())
    }
}

impl Operator for AggregateOp {
    fn open(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset();
        self.input.open(cx)
    }

    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        if self.strategy == AggStrategy::Sorted {
            return self.next_sorted(cx, out, max);
        }
        if !self.ready {
            self.compute(cx)?;
        }
        let end = self.results.len().min(self.pos + max);
        if self.keep_for_rescan {
            out.extend_from_slice(&self.results[self.pos..end]);
        } else {
            out.extend(self.results[self.pos..end].iter_mut().map(std::mem::take));
        }
        self.pos = end;
        Ok(())
    }

    fn rescan(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        if self.ready && self.keep_for_rescan {
            self.pos = 0;
            return Ok(());
        }
        self.reset();
        self.input.rescan(cx)
    }

    fn close(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset();
        self.results = Vec::new();
        self.input.close(cx)
    }
}
