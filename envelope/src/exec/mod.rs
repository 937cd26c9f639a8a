//! The executor: a demand-pull iterator tree built from a `PhysicalQuery`.
//!
//! Each plan node becomes an operator with `open`/`next`/`rescan`/`close`; the mutable state
//! lives in the operator tree, the plan stays read-only. Expressions are compiled once per
//! query into `fdw_api::eval::Program`s.

use fdw_api::{Datum, ExecContext, FdwError, FdwResult, Row};

use crate::plan::physical::PhysicalQuery;

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
    let _ = (query, params, ctx);
    Err(FdwError::feature("executor not implemented"))
}

/// Runs a query with instrumentation (EXPLAIN ANALYZE): the rows and the per-node statistics.
pub fn execute_analyze(
    query: &PhysicalQuery,
    params: &[Datum],
    ctx: &ExecContext,
) -> FdwResult<(Vec<Row>, Vec<NodeStats>)> {
    let _ = (query, params, ctx);
    Err(FdwError::feature("executor not implemented"))
}
