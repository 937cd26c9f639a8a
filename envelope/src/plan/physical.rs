//! The physical plan: an immutable tree the executor runs.
//!
//! Every node lists its output columns; expressions inside a node refer to the columns of its
//! input by position (`Expr::Column`), and a join's expressions to the outer columns followed
//! by the inner ones. Mutable execution state lives in the executor's state tree, never here,
//! so a prepared statement's plan can be run again and again.

use std::sync::Arc;

use fdw_api::path::Cost;
use fdw_api::routine::{FdwRoutine, ModifyKind, ScanRequest};
use fdw_api::{AggFunc, DataType, Expr, TableDesc};

/// One output column of a plan node.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputColumn {
    pub name: String,
    pub ty: DataType,
}

/// A plan node with its estimates.
#[derive(Clone, Debug)]
pub struct Plan {
    pub node: Node,
    pub output: Vec<OutputColumn>,
    pub cost: Cost,
    /// Estimated output rows.
    pub rows: f64,
    /// Estimated average output row width in bytes.
    pub width: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JoinType {
    Inner,
    Left,
    Right,
    Full,
    /// Outer rows with at least one match (output: outer columns only).
    Semi,
    /// Outer rows without a match (output: outer columns only).
    Anti,
}

impl JoinType {
    /// The word EXPLAIN puts in "Hash Left Join" (empty for inner).
    pub fn explain_name(&self) -> &'static str {
        match self {
            JoinType::Inner => "",
            JoinType::Left => "Left",
            JoinType::Right => "Right",
            JoinType::Full => "Full",
            JoinType::Semi => "Semi",
            JoinType::Anti => "Anti",
        }
    }
    /// Whether the output has the inner side's columns.
    pub fn emits_inner(&self) -> bool {
        !matches!(self, JoinType::Semi | JoinType::Anti)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub descending: bool,
    pub nulls_first: bool,
}

/// One aggregate call of an Aggregate node.
#[derive(Clone, Debug, PartialEq)]
pub struct AggCall {
    pub func: AggFunc,
    /// Arguments over the input row (empty for `count(*)`).
    pub args: Vec<Expr>,
    pub distinct: bool,
    /// `FILTER (WHERE ...)` over the input row.
    pub filter: Option<Expr>,
    /// Type of the (first) argument, as resolved.
    pub arg_type: DataType,
    pub ret: DataType,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AggStrategy {
    /// No GROUP BY: exactly one output row.
    Plain,
    /// Hash table keyed by the group values.
    Hashed,
    /// Input sorted by the group keys; groups are consecutive.
    Sorted,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SetOpKind {
    Union,
    Intersect,
    Except,
}

/// A foreign scan: the wrapper's chosen path and what the executor asks of it.
#[derive(Clone)]
pub struct ScanNode {
    pub wrapper: Arc<dyn FdwRoutine>,
    pub request: ScanRequest,
    /// Relation name and alias as written (EXPLAIN: `Foreign Scan on t x`).
    pub relation: String,
    pub alias: Option<String>,
    /// Quals the wrapper does not enforce exactly, over the scan's output columns.
    pub filter: Option<Expr>,
    /// Values of the parameters the scan's pushed quals use, computed from the enclosing
    /// context (a nested loop's outer row sets them; `$n` come from the statement).
    pub param_ids: Vec<usize>,
}

impl ScanNode {
    /// The scan of a path a wrapper computes whole (a pushed-down join or aggregate): no quals,
    /// filter or parameters of its own, `columns` of `table`'s output (the path's row shape).
    pub fn pushed(
        wrapper: Arc<dyn FdwRoutine>,
        table: Arc<TableDesc>,
        columns: Vec<usize>,
        path: fdw_api::ForeignPath,
    ) -> ScanNode {
        let request = ScanRequest {
            table,
            columns,
            quals: Vec::new(),
            param_quals: Vec::new(),
            want_row_id: false,
            path,
            limit: None,
        };
        ScanNode { wrapper, request, relation: String::new(), alias: None, filter: None, param_ids: Vec::new() }
    }
}

impl std::fmt::Debug for ScanNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanNode")
            .field("wrapper", &self.wrapper.name())
            .field("relation", &self.relation)
            .field("columns", &self.request.columns)
            .field("quals", &self.request.quals)
            .field("filter", &self.filter)
            .finish()
    }
}

/// A modification of a foreign table.
#[derive(Clone)]
pub struct ModifyNode {
    pub kind: ModifyKind,
    pub wrapper: Arc<dyn FdwRoutine>,
    pub table: Arc<TableDesc>,
    /// INSERT: rows in table column order. UPDATE: new full row followed by the row id.
    /// DELETE: the row id as the last column (other columns for RETURNING).
    pub input: Box<Plan>,
    /// RETURNING expressions over the stored row (table column order).
    pub returning: Option<Vec<Expr>>,
    /// A direct modification the wrapper accepted (PlanDirectModify): the executor runs it as
    /// one `PushdownRoutine::direct_modify` call, EXPLAIN shows it as `Foreign Update on t`,
    /// and `input` is kept only for its estimates.
    pub direct: Option<fdw_api::DirectModify>,
}

impl std::fmt::Debug for ModifyNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModifyNode").field("kind", &self.kind).field("table", &self.table.name).finish()
    }
}

#[derive(Clone, Debug)]
pub enum Node {
    ForeignScan(ScanNode),
    /// Literal rows; expressions have no column references (may use params and sub-plans).
    /// One empty row for a `SELECT` without FROM.
    Values {
        rows: Vec<Vec<Expr>>,
    },
    Filter {
        input: Box<Plan>,
        predicate: Expr,
    },
    Project {
        input: Box<Plan>,
        exprs: Vec<Expr>,
    },
    /// For each outer row: set `params` (param id <- expression over the outer row), rescan
    /// the inner side, and join on `qual` (over outer ++ inner columns).
    NestedLoop {
        outer: Box<Plan>,
        inner: Box<Plan>,
        join_type: JoinType,
        qual: Option<Expr>,
        params: Vec<(usize, Expr)>,
    },
    /// Build a hash table on `inner` by `inner_keys`, probe with `outer`; NULL keys never
    /// match. `qual` is an extra condition over outer ++ inner.
    HashJoin {
        outer: Box<Plan>,
        inner: Box<Plan>,
        join_type: JoinType,
        outer_keys: Vec<Expr>,
        inner_keys: Vec<Expr>,
        qual: Option<Expr>,
        /// Semi and anti joins only: hash the outer side and stream the inner one (EXPLAIN:
        /// `Hash Right Semi Join`, the inner side shown first), for a small outer side.
        build_outer: bool,
    },
    /// Both inputs sorted ascending (NULLS LAST) on their keys.
    MergeJoin {
        outer: Box<Plan>,
        inner: Box<Plan>,
        join_type: JoinType,
        outer_keys: Vec<Expr>,
        inner_keys: Vec<Expr>,
        qual: Option<Expr>,
    },
    Sort {
        input: Box<Plan>,
        keys: Vec<SortKey>,
    },
    /// A sort that keeps only the first `limit` rows (ORDER BY ... LIMIT as a top-N heap).
    TopN {
        input: Box<Plan>,
        keys: Vec<SortKey>,
        limit: u64,
        offset: u64,
    },
    /// `LIMIT`/`OFFSET`; the expressions are constants or params, evaluated at open.
    Limit {
        input: Box<Plan>,
        limit: Option<Expr>,
        offset: Option<Expr>,
    },
    /// Output: the group-by values then the aggregate values.
    Aggregate {
        input: Box<Plan>,
        strategy: AggStrategy,
        group_by: Vec<Expr>,
        aggs: Vec<AggCall>,
    },
    /// Removes duplicate rows (all columns; NULLs equal). `sorted`: the input is sorted on all
    /// columns so duplicates are adjacent.
    Distinct {
        input: Box<Plan>,
        sorted: bool,
    },
    /// UNION/INTERSECT/EXCEPT [ALL] of two inputs with the same column types.
    SetOp {
        kind: SetOpKind,
        all: bool,
        left: Box<Plan>,
        right: Box<Plan>,
    },
    /// Concatenation (UNION ALL).
    Append {
        inputs: Vec<Plan>,
    },
    /// Caches its input so rescans are cheap (nested-loop inner side).
    Materialize {
        input: Box<Plan>,
    },
    Modify(ModifyNode),
    /// `WITH RECURSIVE`: `base` once, then `recursive` until it yields no new row; each round
    /// of `recursive` reads the previous round's rows through `WorkTableScan`s of the same
    /// `worktable` slot (a parameter slot, so caching operators see it change).
    RecursiveUnion {
        base: Box<Plan>,
        recursive: Box<Plan>,
        all: bool,
        worktable: usize,
    },
    WorkTableScan {
        worktable: usize,
    },
}

/// A sub-select referenced by `Expr::SubPlan { id }`.
#[derive(Clone, Debug)]
pub struct SubPlanDef {
    pub plan: Plan,
    pub kind: fdw_api::SubLinkKind,
    /// The parameter slots the `args` of `Expr::SubPlan` are written to before each run.
    pub param_ids: Vec<usize>,
    /// For ANY/ALL: the comparison, evaluated over the sub-select's row, with the left operand
    /// available as `Expr::Param { index: test_param }`. Three-valued: ANY is true if any row
    /// gives true, NULL if none does but one gives NULL, false otherwise (ALL dually).
    pub test: Option<Expr>,
    pub test_param: usize,
    /// False when the sub-select reads no parameter of the outer query: its result may be
    /// computed once and reused (PostgreSQL's InitPlan).
    pub correlated: bool,
}

/// A planned statement.
#[derive(Clone, Debug)]
pub struct PhysicalQuery {
    pub root: Plan,
    pub subplans: Vec<SubPlanDef>,
    /// Number of parameter slots: the statement's `$n` first, then internal ones.
    pub num_params: usize,
}

/// Calls `f` on each direct child of a plan node.
pub fn for_each_child(p: &Plan, f: &mut dyn FnMut(&Plan)) {
    match &p.node {
        Node::ForeignScan(_) | Node::Values { .. } | Node::WorkTableScan { .. } => {}
        Node::RecursiveUnion { base, recursive, .. } => {
            f(base);
            f(recursive);
        }
        Node::Filter { input, .. }
        | Node::Project { input, .. }
        | Node::Sort { input, .. }
        | Node::TopN { input, .. }
        | Node::Limit { input, .. }
        | Node::Aggregate { input, .. }
        | Node::Distinct { input, .. }
        | Node::Materialize { input } => f(input),
        Node::NestedLoop { outer, inner, .. }
        | Node::HashJoin { outer, inner, .. }
        | Node::MergeJoin { outer, inner, .. } => {
            f(outer);
            f(inner);
        }
        Node::SetOp { left, right, .. } => {
            f(left);
            f(right);
        }
        Node::Append { inputs } => inputs.iter().for_each(f),
        Node::Modify(m) => f(&m.input),
    }
}
