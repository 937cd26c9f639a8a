//! What a wrapper tells the planner: sizes, access paths with costs, and how well it enforces
//! each qual. Paths stay apart from the plan (PostgreSQL's optimizer README): the planner
//! compares paths, then turns the cheapest into an immutable plan node.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::expr::Expr;
use crate::schema::TableDesc;

/// PostgreSQL's default cost constants, for wrappers that estimate like the built-in scans.
pub mod costs {
    pub const SEQ_PAGE_COST: f64 = 1.0;
    pub const RANDOM_PAGE_COST: f64 = 4.0;
    pub const CPU_TUPLE_COST: f64 = 0.01;
    pub const CPU_INDEX_TUPLE_COST: f64 = 0.005;
    pub const CPU_OPERATOR_COST: f64 = 0.0025;
    pub const PARALLEL_TUPLE_COST: f64 = 0.1;
    pub const PARALLEL_SETUP_COST: f64 = 1000.0;
    pub const PAGE_SIZE: f64 = 8192.0;
}

/// Startup and total cost in PostgreSQL's arbitrary units (one sequential page fetch = 1.0).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Cost {
    pub startup: f64,
    pub total: f64,
}

impl Cost {
    pub fn new(startup: f64, total: f64) -> Self {
        Cost { startup, total }
    }
}

/// How a wrapper enforces a qual it was offered (DataFusion's `TableProviderFilterPushDown`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QualSupport {
    /// The scan returns only rows satisfying the qual; the envelope drops its own filter.
    Exact,
    /// The scan uses the qual to skip data but may return rows that fail it; the envelope
    /// keeps its filter.
    Inexact,
    /// The qual is not used by the scan.
    Unsupported,
}

/// One sort key of a path's output order, by column of the table.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PathKey {
    pub column: usize,
    pub descending: bool,
    pub nulls_first: bool,
}

/// A wrapper's private data attached to a path and carried into its plan (PostgreSQL's
/// `fdw_private`). The envelope never looks inside.
pub type PathPrivate = Option<Arc<dyn Any + Send + Sync>>;

/// An access path a wrapper offers for a base relation.
#[derive(Clone)]
pub struct ForeignPath {
    /// Estimated rows returned, after the quals the path enforces exactly.
    pub rows: f64,
    pub cost: Cost,
    /// The order in which rows come out (empty: unordered).
    pub pathkeys: Vec<PathKey>,
    /// Per qual of `RelInfo::quals`, same order: what this path does with it.
    pub qual_support: Vec<QualSupport>,
    /// For a parameterized path (nested-loop inner side): indexes into `RelInfo::join_quals`
    /// that this path enforces exactly with values from the outer row (the envelope drops
    /// those quals from the join). Empty for an unparameterized path.
    pub param_quals: Vec<usize>,
    /// Worker threads the wrapper's own parallel scan will use (0 or 1: serial). The envelope
    /// calls `begin_scan` once; the wrapper splits the work among its threads itself.
    pub parallel_workers: usize,
    /// Shown by EXPLAIN in place of "Foreign Scan" (for example "Index Scan using t_pkey").
    pub label: Option<String>,
    pub private: PathPrivate,
}

impl fmt::Debug for ForeignPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForeignPath")
            .field("rows", &self.rows)
            .field("cost", &self.cost)
            .field("pathkeys", &self.pathkeys)
            .field("qual_support", &self.qual_support)
            .field("param_quals", &self.param_quals)
            .field("parallel_workers", &self.parallel_workers)
            .field("label", &self.label)
            .finish()
    }
}

impl ForeignPath {
    /// A plain unordered path that enforces none of `n_quals` quals.
    pub fn simple(rows: f64, cost: Cost, n_quals: usize) -> Self {
        ForeignPath {
            rows,
            cost,
            pathkeys: Vec::new(),
            qual_support: vec![QualSupport::Unsupported; n_quals],
            param_quals: Vec::new(),
            parallel_workers: 0,
            label: None,
            private: None,
        }
    }
}

/// The planner's view of one base relation, given to `get_rel_size` and `get_paths`.
#[derive(Clone, Debug)]
pub struct RelInfo {
    pub table: Arc<TableDesc>,
    /// Restriction quals over the table's columns (`Expr::Column(i)` = table column i),
    /// without sub-selects or volatile functions.
    pub quals: Vec<Expr>,
    /// Join quals of the form `column op Param` usable by a parameterized path: the `Param`
    /// stands for a value of the outer row (PostgreSQL's ParamPathInfo).
    pub join_quals: Vec<Expr>,
    /// Table columns the query needs.
    pub needed_columns: Vec<usize>,
    /// Orders that would help the query (ORDER BY, merge join), most useful first.
    pub useful_orders: Vec<Vec<PathKey>>,
    /// `max_parallel_workers_per_gather`: 0 disables parallel paths.
    pub max_parallel_workers: usize,
}

/// `get_rel_size`'s answer (PostgreSQL's `baserel->rows`, `width`, `pages`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RelSize {
    /// Rows in the table before quals.
    pub total_rows: f64,
    /// Rows expected after all quals.
    pub rows: f64,
    /// Average output row width in bytes.
    pub width: u32,
    /// Size on disk/in memory in 8 kB pages (for costing).
    pub pages: f64,
}
