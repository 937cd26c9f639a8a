//! What every operator reads besides its input: the parameter slots, the sub-plan states, the
//! statement's `ExecContext`, the query's memory budget and (for EXPLAIN ANALYZE) the statistics.
//!
//! Borrowing: an operator evaluates expressions that may run sub-plans, and a sub-plan run
//! writes parameter slots and drives another operator tree. So the context is split: `Cx`
//! holds `&mut` to the parameter vector and to the sub-plan states as separate fields, and an
//! evaluation lends the parameters immutably to the expression and the sub-plan states
//! mutably to the `SubPlanRunner` (`subplan.rs`). A sub-plan runs on its own copy of the
//! parameter vector, so the caller's slots are never written behind its back.

use std::cell::RefCell;
use std::sync::Arc;

use fdw_api::eval::{EvalContext, Program};
use fdw_api::{Datum, ExecContext, Expr, FdwError, FdwResult};

use super::keys::QueryMemory;
use super::subplan::{Runner, SubPlans};
use super::NodeStats;
use crate::plan::physical::PhysicalQuery;

/// Knobs of one execution.
#[derive(Clone, Debug)]
pub struct ExecOptions {
    /// Byte budget of the hash tables, sort buffers and materialized inputs of one execution,
    /// all together (the `query_memory_limit` setting). A hard limit: spilling to disk is
    /// future work, so past it the query fails with `out of memory for query` (53200) instead
    /// of eating the machine.
    pub memory_limit: usize,
}

/// The default `query_memory_limit`: 1 GB.
pub const DEFAULT_MEMORY_LIMIT: usize = 1 << 30;

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions { memory_limit: DEFAULT_MEMORY_LIMIT }
    }
}

/// Read-only state shared by every operator of one execution.
pub(crate) struct Env<'q> {
    pub exec: &'q ExecContext,
    pub memory: Arc<QueryMemory>,
    #[allow(dead_code)]
    pub query: &'q PhysicalQuery,
    /// Per-node statistics when instrumenting (EXPLAIN ANALYZE), indexed by pre-order number.
    pub stats: Option<RefCell<Vec<NodeStats>>>,
}

/// The mutable context threaded through `open`/`next_batch`/`rescan`/`close`.
pub(crate) struct Cx<'a> {
    /// `$1..$n` then the internal slots (nested-loop and sub-plan parameters).
    pub params: &'a mut Vec<Datum>,
    pub subplans: &'a mut SubPlans,
    pub env: &'a Env<'a>,
}

/// A compiled expression, with the trivial shapes (a column, a constant, a parameter) read
/// directly instead of going through the program interpreter: they are most sort, group and
/// join keys and most projections.
#[derive(Clone, Debug)]
pub(crate) enum CExpr {
    Column(usize),
    Const(Datum),
    Param(usize),
    Program { program: Program, has_subplan: bool },
}

impl CExpr {
    pub fn compile(expr: &Expr) -> FdwResult<CExpr> {
        Ok(match expr {
            Expr::Column { index, .. } => CExpr::Column(*index),
            Expr::Const { value, .. } => CExpr::Const(value.clone()),
            Expr::Param { index, .. } => CExpr::Param(*index),
            e => CExpr::Program { program: Program::compile(e)?, has_subplan: e.has_subplan() },
        })
    }

    pub fn compile_all(exprs: &[Expr]) -> FdwResult<Vec<CExpr>> {
        exprs.iter().map(CExpr::compile).collect()
    }

    pub fn compile_opt(expr: Option<&Expr>) -> FdwResult<Option<CExpr>> {
        expr.map(CExpr::compile).transpose()
    }

    pub fn as_column(&self) -> Option<usize> {
        match self {
            CExpr::Column(i) => Some(*i),
            _ => None,
        }
    }
}

fn missing_column(i: usize, width: usize) -> FdwError {
    FdwError::internal(format!("executor: column {i} referenced in a row of {width} columns"))
}

fn missing_param(i: usize) -> FdwError {
    FdwError::internal(format!("executor: parameter slot {i} does not exist"))
}

impl Cx<'_> {
    /// Evaluates `e` over `row`.
    #[inline]
    pub fn eval(&mut self, e: &CExpr, row: &[Datum]) -> FdwResult<Datum> {
        match e {
            CExpr::Column(i) => row.get(*i).cloned().ok_or_else(|| missing_column(*i, row.len())),
            CExpr::Const(d) => Ok(d.clone()),
            CExpr::Param(i) => self.params.get(*i).cloned().ok_or_else(|| missing_param(*i)),
            CExpr::Program { program, has_subplan: false } => {
                let mut ecx = EvalContext { params: self.params, subplans: None };
                program.eval(row, &mut ecx)
            }
            CExpr::Program { program, has_subplan: true } => {
                let mut runner = Runner { params: self.params, subplans: self.subplans, env: self.env };
                let mut ecx = EvalContext { params: self.params, subplans: Some(&mut runner) };
                program.eval(row, &mut ecx)
            }
        }
    }

    /// Evaluates a predicate: NULL counts as false, as in WHERE.
    #[inline]
    pub fn eval_pred(&mut self, e: &CExpr, row: &[Datum]) -> FdwResult<bool> {
        match e {
            CExpr::Program { program, has_subplan: false } => {
                let mut ecx = EvalContext { params: self.params, subplans: None };
                program.eval_predicate(row, &mut ecx)
            }
            CExpr::Program { program, has_subplan: true } => {
                let mut runner = Runner { params: self.params, subplans: self.subplans, env: self.env };
                let mut ecx = EvalContext { params: self.params, subplans: Some(&mut runner) };
                program.eval_predicate(row, &mut ecx)
            }
            other => Ok(matches!(self.eval(other, row)?, Datum::Bool(true))),
        }
    }

    /// Evaluates every expression of `exprs` over `row` into `out` (cleared first).
    #[inline]
    pub fn eval_into(&mut self, exprs: &[CExpr], row: &[Datum], out: &mut Vec<Datum>) -> FdwResult<()> {
        out.clear();
        for e in exprs {
            let v = self.eval(e, row)?;
            out.push(v);
        }
        Ok(())
    }

    /// Writes a parameter slot (nested-loop parameters).
    pub fn set_param(&mut self, index: usize, value: Datum) -> FdwResult<()> {
        match self.params.get_mut(index) {
            Some(slot) => {
                *slot = value;
                Ok(())
            }
            None => Err(missing_param(index)),
        }
    }

    /// The execution's memory budget, which every memory-hungry operator draws on.
    pub fn memory(&self) -> &Arc<QueryMemory> {
        &self.env.memory
    }
}
