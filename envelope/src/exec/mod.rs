//! The executor: a demand-pull iterator tree built from a `PhysicalQuery`.
//!
//! Each plan node becomes an operator (one file per operator) with `open`/`next_batch`/
//! `rescan`/`close`; the mutable state lives in the operator tree, the plan stays read-only,
//! so a prepared statement's plan runs again and again. Expressions are compiled once per
//! execution into `fdw_api::eval::Program`s (plain column/constant/parameter references are
//! read directly: `context::CExpr`).
//!
//! Rows move between operators in batches (`Vec<Row>`, up to `BATCH_SIZE`), matching the
//! wrapper boundary: one virtual call per batch and operator, not per row. The `max` argument
//! of `next_batch` bounds how many rows a caller wants (a LIMIT, an EXISTS); operators stop
//! adding rows once they reach it. Appending no row means the operator is exhausted.
//!
//! Parameters: one vector of slots, `$n` first, then internal ones written at run time by
//! nested loops (outer values for the inner side) and by sub-plan calls (`subplan.rs`).
//! Caching operators decide at build time whether their input reads slots written from
//! outside (`deps.rs`) and, if not, replay their cached result on rescan.
//!
//! Memory: hash tables, sorts and materialized inputs count their bytes against one budget per
//! execution, `ExecOptions::memory_limit` (the `query_memory_limit` setting), and the query fails
//! with `out of memory for query` (53200) past it; spilling to disk is future work.

mod aggregate;
mod append;
mod context;
mod deps;
mod distinct;
mod filter;
mod hash_join;
mod hash_semi;
mod instrument;
mod join;
mod keys;
mod limit;
pub(crate) mod lite;
mod materialize;
mod merge_join;
mod modify;
mod nested_loop;
mod project;
mod recursive;
mod scan;
mod setop;
mod sort;
mod subplan;
mod values;

#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::sync::Arc;

use fdw_api::{Datum, ExecContext, FdwResult, KeySet, Row, BATCH_SIZE};

pub use context::{ExecOptions, DEFAULT_MEMORY_LIMIT};

use crate::plan::physical::{Node, PhysicalQuery, Plan};
use context::{CExpr, Cx, Env};
use deps::ParamDeps;
use keys::QueryMemory;
use subplan::SubPlans;

/// Per-node runtime statistics for EXPLAIN ANALYZE, in the same pre-order as the plan tree
/// (a node, then its children left to right; sub-plans after the main tree).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeStats {
    /// Time to the first row, milliseconds (summed over loops, as PostgreSQL reports per loop
    /// averages: divide by `loops`).
    pub startup_ms: f64,
    pub total_ms: f64,
    pub rows: u64,
    pub loops: u64,
}

/// Runs a query to completion and returns all rows.
pub fn execute(query: &PhysicalQuery, params: &[Datum], ctx: &ExecContext) -> FdwResult<Vec<Row>> {
    execute_with(query, params, ctx, &ExecOptions::default())
}

/// `execute` with explicit options.
pub fn execute_with(
    query: &PhysicalQuery,
    params: &[Datum],
    ctx: &ExecContext,
    options: &ExecOptions,
) -> FdwResult<Vec<Row>> {
    run(query, params, ctx, options, false).map(|(rows, _)| rows)
}

/// Runs a query with instrumentation (EXPLAIN ANALYZE): the rows and the per-node statistics.
pub fn execute_analyze(
    query: &PhysicalQuery,
    params: &[Datum],
    ctx: &ExecContext,
) -> FdwResult<(Vec<Row>, Vec<NodeStats>)> {
    execute_analyze_with(query, params, ctx, &ExecOptions::default())
}

/// `execute_analyze` with explicit options.
pub fn execute_analyze_with(
    query: &PhysicalQuery,
    params: &[Datum],
    ctx: &ExecContext,
    options: &ExecOptions,
) -> FdwResult<(Vec<Row>, Vec<NodeStats>)> {
    run(query, params, ctx, options, true)
}

fn run(
    query: &PhysicalQuery,
    params: &[Datum],
    ctx: &ExecContext,
    options: &ExecOptions,
    instrument: bool,
) -> FdwResult<(Vec<Row>, Vec<NodeStats>)> {
    let mut builder =
        Builder { deps: ParamDeps::new(query), instrument, next_id: 0, rescannable: false, worktables: Vec::new() };
    let mut root = builder.build(&query.root)?;
    let mut subplans = SubPlans::default();
    for def in &query.subplans {
        builder.rescannable = def.correlated;
        let op = builder.build(&def.plan)?;
        subplans.push(def, op)?;
    }
    let env = Env {
        exec: ctx,
        memory: QueryMemory::new(options.memory_limit),
        query,
        stats: instrument.then(|| RefCell::new(vec![NodeStats::default(); builder.next_id])),
    };
    let mut slots: Vec<Datum> = params.to_vec();
    slots.resize(query.num_params.max(params.len()), Datum::Null);
    let mut cx = Cx { params: &mut slots, subplans: &mut subplans, env: &env };
    let mut rows = Vec::new();
    let result = (|| {
        root.open(&mut cx)?;
        loop {
            let before = rows.len();
            root.next_batch(&mut cx, &mut rows, BATCH_SIZE)?;
            if rows.len() == before {
                return Ok(());
            }
        }
    })();
    let closed = root.close(&mut cx);
    let closed_subplans = subplans.close_all(&env, &mut slots);
    result?;
    closed?;
    closed_subplans?;
    let stats = env.stats.map(RefCell::into_inner).unwrap_or_default();
    Ok((rows, stats))
}

/// A running plan node.
///
/// Protocol: `open` once, then `next_batch` until it appends nothing, `rescan` to start over
/// (parameters may have changed), and `close` at the end, also after an error or when `open`
/// was never called (so it must tolerate any state).
pub(crate) trait Operator {
    fn open(&mut self, cx: &mut Cx<'_>) -> FdwResult<()>;
    /// Appends up to `max` (>= 1) rows to `out`; appending none means exhausted.
    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()>;
    fn rescan(&mut self, cx: &mut Cx<'_>) -> FdwResult<()>;
    fn close(&mut self, cx: &mut Cx<'_>) -> FdwResult<()>;
    /// A hash join offers the keys of its inner side to its outer input: rows whose output
    /// column `col` holds a value `keys` does not admit may be dropped (see
    /// `fdw_api::filter`). Only scans take it; returns whether this operator did.
    fn push_key_filter(&mut self, col: usize, keys: &Arc<KeySet>) -> bool {
        let _ = (col, keys);
        false
    }
}

pub(crate) type BoxOp = Box<dyn Operator>;

/// Reads `op` to its end, a batch at a time, handing each row to `f` (what a hash join does
/// with the side it builds its table from).
pub(crate) fn drain_rows(
    op: &mut dyn Operator,
    cx: &mut Cx<'_>,
    mut f: impl FnMut(&mut Cx<'_>, Row) -> FdwResult<()>,
) -> FdwResult<()> {
    let mut batch = Vec::new();
    loop {
        batch.clear();
        op.next_batch(cx, &mut batch, BATCH_SIZE)?;
        if batch.is_empty() {
            return Ok(());
        }
        for row in batch.drain(..) {
            f(cx, row)?;
        }
    }
}

/// An operator's input, read a row at a time out of batches (joins, grouping).
pub(crate) struct Child {
    pub op: BoxOp,
    buf: Vec<Row>,
    pos: usize,
    done: bool,
}

impl Child {
    pub fn new(op: BoxOp) -> Self {
        Child { op, buf: Vec::new(), pos: 0, done: false }
    }

    fn reset(&mut self) {
        self.buf.clear();
        self.pos = 0;
        self.done = false;
    }

    pub fn open(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset();
        self.op.open(cx)
    }

    pub fn rescan(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset();
        self.op.rescan(cx)
    }

    pub fn close(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset();
        self.op.close(cx)
    }

    /// The next row, `None` when exhausted.
    #[inline]
    pub fn next_row(&mut self, cx: &mut Cx<'_>) -> FdwResult<Option<Row>> {
        loop {
            if let Some(slot) = self.buf.get_mut(self.pos) {
                self.pos += 1;
                return Ok(Some(std::mem::take(slot)));
            }
            if self.done {
                return Ok(None);
            }
            self.buf.clear();
            self.pos = 0;
            self.op.next_batch(cx, &mut self.buf, BATCH_SIZE)?;
            if self.buf.is_empty() {
                self.done = true;
            }
        }
    }

    /// Appends the next rows (what is buffered, else a fresh batch); none when exhausted.
    pub fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        if self.pos < self.buf.len() {
            let end = self.buf.len().min(self.pos + max);
            out.extend(self.buf[self.pos..end].iter_mut().map(std::mem::take));
            self.pos = end;
            return Ok(());
        }
        if self.done {
            return Ok(());
        }
        let before = out.len();
        self.op.next_batch(cx, out, max)?;
        if out.len() == before {
            self.done = true;
        }
        Ok(())
    }
}

/// Turns plan nodes into operators, numbering them in pre-order for instrumentation.
struct Builder<'q> {
    deps: ParamDeps<'q>,
    instrument: bool,
    next_id: usize,
    /// The node being built may be rescanned (it is under a nested loop's inner side or in a
    /// correlated sub-plan), so caching its result can pay off.
    rescannable: bool,
    /// Work tables of the recursive unions being built (innermost last).
    worktables: Vec<(usize, recursive::WorkTable)>,
}

impl Builder<'_> {
    fn build(&mut self, plan: &Plan) -> FdwResult<BoxOp> {
        let id = self.next_id;
        self.next_id += 1;
        let op = self.build_node(plan)?;
        Ok(if self.instrument { instrument::Instrumented::wrap(op, id) } else { op })
    }

    fn build_node(&mut self, plan: &Plan) -> FdwResult<BoxOp> {
        Ok(match &plan.node {
            Node::ForeignScan(s) => Box::new(scan::ScanOp::new(s)?),
            Node::Values { rows } => Box::new(values::ValuesOp::new(rows)?),
            Node::Filter { input, predicate } => {
                Box::new(filter::FilterOp::new(self.build(input)?, CExpr::compile(predicate)?))
            }
            Node::Project { input, exprs } => {
                Box::new(project::ProjectOp::new(self.build(input)?, CExpr::compile_all(exprs)?))
            }
            Node::NestedLoop { outer, inner, join_type, qual, params } => {
                let spec = join::JoinSpec::new(*join_type, outer, inner, qual.as_ref())?;
                let params = params.iter().map(|(p, e)| Ok((*p, CExpr::compile(e)?))).collect::<FdwResult<_>>()?;
                let outer_op = self.build(outer)?;
                let saved = std::mem::replace(&mut self.rescannable, true);
                let inner_op = self.build(inner);
                self.rescannable = saved;
                Box::new(nested_loop::NestedLoopOp::new(spec, outer_op, inner_op?, params))
            }
            Node::HashJoin { outer, inner, join_type, outer_keys, inner_keys, qual, build_outer: true } => {
                let spec = join::JoinSpec::new(*join_type, outer, inner, qual.as_ref())?;
                // Built (and numbered for EXPLAIN ANALYZE) in display order: inner side first.
                let inner_op = self.build(inner)?;
                let outer_op = self.build(outer)?;
                Box::new(hash_semi::HashSemiOuterOp::new(spec, outer_op, inner_op, outer_keys, inner_keys)?)
            }
            Node::HashJoin { outer, inner, join_type, outer_keys, inner_keys, qual, build_outer: false } => {
                let spec = join::JoinSpec::new(*join_type, outer, inner, qual.as_ref())?;
                let inner_dynamic = self.deps.depends(inner);
                let outer_op = self.build(outer)?;
                let inner_op = self.build(inner)?;
                Box::new(hash_join::HashJoinOp::new(spec, outer_op, inner_op, outer_keys, inner_keys, inner_dynamic)?)
            }
            Node::MergeJoin { outer, inner, join_type, outer_keys, inner_keys, qual } => {
                let spec = join::JoinSpec::new(*join_type, outer, inner, qual.as_ref())?;
                let outer_op = self.build(outer)?;
                let inner_op = self.build(inner)?;
                Box::new(merge_join::MergeJoinOp::new(spec, outer_op, inner_op, outer_keys, inner_keys)?)
            }
            Node::Sort { input, keys } => {
                let dynamic = self.deps.depends(input);
                let width = input.output.len();
                Box::new(sort::SortOp::new(self.build(input)?, keys, width, None, dynamic, self.rescannable)?)
            }
            Node::TopN { input, keys, limit, offset } => {
                let dynamic = self.deps.depends(input);
                let (width, topn) = (input.output.len(), Some((*limit, *offset)));
                Box::new(sort::SortOp::new(self.build(input)?, keys, width, topn, dynamic, self.rescannable)?)
            }
            Node::Limit { input, limit, offset } => Box::new(limit::LimitOp::new(
                self.build(input)?,
                CExpr::compile_opt(limit.as_ref())?,
                CExpr::compile_opt(offset.as_ref())?,
            )),
            Node::Aggregate { input, strategy, group_by, aggs } => {
                let dynamic = self.deps.depends(input);
                let input_op = self.build(input)?;
                Box::new(aggregate::AggregateOp::new(input_op, *strategy, group_by, aggs, dynamic, self.rescannable)?)
            }
            Node::Distinct { input, sorted } => {
                let kinds = input.output.iter().map(|c| keys::KeyKind::of(&c.ty)).collect();
                Box::new(distinct::DistinctOp::new(self.build(input)?, *sorted, kinds))
            }
            Node::SetOp { kind, all, left, right } => {
                let kinds = left.output.iter().map(|c| keys::KeyKind::of(&c.ty)).collect();
                let left_op = self.build(left)?;
                let right_op = self.build(right)?;
                Box::new(setop::SetOpOp::new(*kind, *all, left_op, right_op, kinds))
            }
            Node::Append { inputs } => {
                Box::new(append::AppendOp::new(inputs.iter().map(|p| self.build(p)).collect::<FdwResult<_>>()?))
            }
            Node::Materialize { input } => {
                let dynamic = self.deps.depends(input);
                Box::new(materialize::MaterializeOp::new(self.build(input)?, dynamic))
            }
            Node::Modify(m) => {
                let input = match &m.direct {
                    // The `Foreign Update`/`Foreign Delete` child EXPLAIN shows, instead of the
                    // scan the row-by-row path would read.
                    Some(d) => {
                        let id = self.next_id;
                        self.next_id += 1;
                        let op: BoxOp = Box::new(modify::DirectModifyOp::new(m.wrapper.clone(), d.clone()));
                        if self.instrument {
                            instrument::Instrumented::wrap(op, id)
                        } else {
                            op
                        }
                    }
                    None => self.build(&m.input)?,
                };
                Box::new(modify::ModifyOp::new(m, input)?)
            }
            Node::RecursiveUnion { base, recursive, all, worktable } => {
                let table = recursive::WorkTable::default();
                self.worktables.push((*worktable, table.clone()));
                let base_op = self.build(base)?;
                let saved = std::mem::replace(&mut self.rescannable, true);
                let rec_op = self.build(recursive);
                self.rescannable = saved;
                self.worktables.pop();
                let kinds = base.output.iter().map(|c| keys::KeyKind::of(&c.ty)).collect();
                Box::new(recursive::RecursiveUnionOp::new(base_op, rec_op?, *all, table, kinds))
            }
            Node::WorkTableScan { worktable } => {
                let table = self
                    .worktables
                    .iter()
                    .rev()
                    .find(|(slot, _)| slot == worktable)
                    .map(|(_, t)| t.clone())
                    .ok_or_else(|| fdw_api::FdwError::internal("work table scan outside its recursive union"))?;
                Box::new(recursive::WorkTableScanOp::new(table))
            }
        })
    }
}
