//! Planning: from the logical plan to an immutable physical plan, and EXPLAIN.
//!
//! PostgreSQL's shape, simplified:
//! - `builder`: walks the logical plan top-down passing which output columns are needed, so
//!   every scan asks its wrapper only for the columns the query uses (projection pushdown);
//!   each planned node reports where each logical column landed in its physical output.
//! - `joins`: a tree of inner joins and the filters over it is flattened into a join graph
//!   (leaves and conjunctive quals); each base relation's wrapper sizes it and offers paths
//!   (`get_rel_size`, `get_paths`) with its per-qual answer; the join order is chosen by
//!   dynamic programming over connected subsets (greedy beyond `DP_LIMIT` relations), with
//!   hash, merge and nested-loop joins (parameterized by the outer row when the wrapper offers
//!   such a path, e.g. an index lookup).
//! - `cost`: selectivities from ANALYZE statistics and PostgreSQL's cost constants.
//! - `explain`: PostgreSQL's text format.

mod builder;
pub mod cost;
pub mod decorrelate;
pub mod explain;
mod joins;
pub mod physical;
mod remote_join;

pub use builder::plan_query;

/// Planner settings a session can change with SET.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannerSettings {
    pub enable_hashjoin: bool,
    pub enable_mergejoin: bool,
    pub enable_nestloop: bool,
    pub enable_hashagg: bool,
    /// `max_parallel_workers_per_gather`.
    pub max_parallel_workers: usize,
    /// `enable_lite_path`: prepared statements a wrapper can run on its lite execution path
    /// skip the executor (`exec::lite`).
    pub enable_lite: bool,
}

impl Default for PlannerSettings {
    fn default() -> Self {
        PlannerSettings {
            enable_hashjoin: true,
            enable_mergejoin: true,
            enable_nestloop: true,
            enable_hashagg: true,
            enable_lite: true,
            max_parallel_workers: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8),
        }
    }
}
