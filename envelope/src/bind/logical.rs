//! The logical plan: what the query computes, with names resolved and types fixed, before
//! any choice of join order, join method or access path.
//!
//! Every node's output is a list of columns; expressions refer to input columns by position.
//! A join's output is the left columns followed by the right ones (only the left for semi and
//! anti joins), which lets the planner treat a tree of inner joins as one "wide row" whose
//! column positions are stable while it reorders the joins.

use std::sync::Arc;

use fdw_api::{DataType, Expr, FdwRoutine, TableDesc};

use crate::plan::physical::{AggCall, JoinType, SetOpKind, SortKey};

/// An output column: its name (as the user sees it) and type; `qualifier` is the relation
/// alias it came from, used by EXPLAIN to print `t.a`.
#[derive(Clone, Debug, PartialEq)]
pub struct LCol {
    pub name: String,
    pub ty: DataType,
    pub qualifier: Option<String>,
}

impl LCol {
    pub fn new(name: impl Into<String>, ty: DataType) -> Self {
        LCol { name: name.into(), ty, qualifier: None }
    }
}

/// A base relation reached through a wrapper.
#[derive(Clone)]
pub struct ScanRel {
    pub table: Arc<TableDesc>,
    pub routine: Arc<dyn FdwRoutine>,
    /// The name as written and the alias, for EXPLAIN.
    pub relation: String,
    pub alias: Option<String>,
    /// Produce the row identity as an extra last column (UPDATE/DELETE targets).
    pub want_row_id: bool,
}

impl std::fmt::Debug for ScanRel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ScanRel({})", self.table.name)
    }
}

/// What INSERT/UPDATE/DELETE does, above its input.
#[derive(Clone, Debug)]
pub struct ModifyTarget {
    pub kind: fdw_api::ModifyKind,
    pub scan: ScanRel,
    pub returning: Option<Vec<Expr>>,
    pub returning_cols: Vec<LCol>,
}

#[derive(Clone, Debug)]
pub enum LogicalPlan {
    Scan(ScanRel),
    Values {
        rows: Vec<Vec<Expr>>,
        columns: Vec<LCol>,
    },
    Filter {
        input: Box<LogicalPlan>,
        predicate: Expr,
    },
    Project {
        input: Box<LogicalPlan>,
        exprs: Vec<Expr>,
        columns: Vec<LCol>,
    },
    Join {
        left: Box<LogicalPlan>,
        right: Box<LogicalPlan>,
        join_type: JoinType,
        on: Option<Expr>,
    },
    Aggregate {
        input: Box<LogicalPlan>,
        group_by: Vec<Expr>,
        aggs: Vec<AggCall>,
        columns: Vec<LCol>,
    },
    Sort {
        input: Box<LogicalPlan>,
        keys: Vec<SortKey>,
    },
    Limit {
        input: Box<LogicalPlan>,
        limit: Option<Expr>,
        offset: Option<Expr>,
    },
    Distinct {
        input: Box<LogicalPlan>,
    },
    SetOp {
        kind: SetOpKind,
        all: bool,
        left: Box<LogicalPlan>,
        right: Box<LogicalPlan>,
        columns: Vec<LCol>,
    },
    Modify {
        input: Box<LogicalPlan>,
        target: ModifyTarget,
    },
    /// `WITH RECURSIVE`: the base term, then the recursive term over and over, each time
    /// reading the rows the previous round produced through `WorkTable { id }`, until a round
    /// produces none (UNION drops rows already produced).
    RecursiveUnion {
        id: usize,
        base: Box<LogicalPlan>,
        recursive: Box<LogicalPlan>,
        all: bool,
        columns: Vec<LCol>,
    },
    /// The rows of the previous round of recursive union `id`.
    WorkTable {
        id: usize,
        columns: Vec<LCol>,
    },
}

impl LogicalPlan {
    /// The node's output columns.
    pub fn columns(&self) -> Vec<LCol> {
        match self {
            LogicalPlan::Scan(s) => {
                let q = s.alias.clone().unwrap_or_else(|| s.table.name.clone());
                let mut cols: Vec<LCol> = s
                    .table
                    .columns
                    .iter()
                    .map(|c| LCol { name: c.name.clone(), ty: c.ty.clone(), qualifier: Some(q.clone()) })
                    .collect();
                if s.want_row_id {
                    cols.push(LCol { name: "ctid".into(), ty: DataType::Int8, qualifier: Some(q) });
                }
                cols
            }
            LogicalPlan::Values { columns, .. }
            | LogicalPlan::Project { columns, .. }
            | LogicalPlan::Aggregate { columns, .. }
            | LogicalPlan::SetOp { columns, .. }
            | LogicalPlan::RecursiveUnion { columns, .. }
            | LogicalPlan::WorkTable { columns, .. } => columns.clone(),
            LogicalPlan::Filter { input, .. }
            | LogicalPlan::Sort { input, .. }
            | LogicalPlan::Limit { input, .. }
            | LogicalPlan::Distinct { input } => input.columns(),
            LogicalPlan::Join { left, right, join_type, .. } => {
                let mut c = left.columns();
                if join_type.emits_inner() {
                    c.extend(right.columns());
                }
                c
            }
            LogicalPlan::Modify { target, .. } => {
                if target.returning.is_some() {
                    target.returning_cols.clone()
                } else {
                    vec![LCol::new("count", DataType::Int8)]
                }
            }
        }
    }

    pub fn arity(&self) -> usize {
        self.columns().len()
    }
}

/// A sub-select of an expression, bound.
#[derive(Clone, Debug)]
pub struct LogicalSubPlan {
    pub plan: LogicalPlan,
    pub kind: fdw_api::SubLinkKind,
    pub param_ids: Vec<usize>,
    pub test: Option<Expr>,
    pub test_param: usize,
    pub correlated: bool,
}

/// A bound statement ready for planning.
#[derive(Clone, Debug)]
pub struct BoundQuery {
    pub plan: LogicalPlan,
    pub subplans: Vec<LogicalSubPlan>,
    /// Total parameter slots (`$n` first).
    pub num_params: usize,
    /// Types inferred for `$1..$n`.
    pub param_types: Vec<DataType>,
    /// Result column names and types.
    pub columns: Vec<LCol>,
}
