//! Which parameter slots a plan subtree reads that are written at run time from outside it.
//!
//! PostgreSQL tracks changed parameters per node (`chgParam`) so a rescan redoes only the work
//! that depends on them. We decide it once per node at build time instead: a caching operator
//! (Materialize, Sort, Aggregate, a hash join's table, ...) whose input reads no such slot
//! replays its cached result on rescan; otherwise it recomputes. `$n` slots never change during
//! an execution, so only slots written by nested loops and sub-plan calls count.

use fdw_api::Expr;

use crate::plan::physical::{Node, PhysicalQuery, Plan};

/// The expressions a node evaluates itself (not those of its children).
pub(crate) fn node_exprs(node: &Node) -> Vec<&Expr> {
    let mut v: Vec<&Expr> = Vec::new();
    match node {
        Node::ForeignScan(s) => {
            v.extend(s.request.quals.iter());
            v.extend(s.request.param_quals.iter());
            v.extend(s.filter.iter());
        }
        Node::Values { rows } => v.extend(rows.iter().flatten()),
        Node::Filter { predicate, .. } => v.push(predicate),
        Node::Project { exprs, .. } => v.extend(exprs.iter()),
        Node::NestedLoop { qual, params, .. } => {
            v.extend(qual.iter());
            v.extend(params.iter().map(|(_, e)| e));
        }
        Node::HashJoin { outer_keys, inner_keys, qual, .. } | Node::MergeJoin { outer_keys, inner_keys, qual, .. } => {
            v.extend(outer_keys.iter());
            v.extend(inner_keys.iter());
            v.extend(qual.iter());
        }
        Node::Sort { keys, .. } | Node::TopN { keys, .. } => v.extend(keys.iter().map(|k| &k.expr)),
        Node::Limit { limit, offset, .. } => {
            v.extend(limit.iter());
            v.extend(offset.iter());
        }
        Node::Aggregate { group_by, aggs, .. } => {
            v.extend(group_by.iter());
            for a in aggs {
                v.extend(a.args.iter());
                v.extend(a.filter.iter());
            }
        }
        Node::Modify(m) => v.extend(m.returning.iter().flatten()),
        Node::Distinct { .. }
        | Node::SetOp { .. }
        | Node::Append { .. }
        | Node::Materialize { .. }
        | Node::RecursiveUnion { .. }
        | Node::WorkTableScan { .. } => {}
    }
    v
}

/// The input plans of a node, in EXPLAIN (pre-order) order.
pub(crate) fn node_children(node: &Node) -> Vec<&Plan> {
    match node {
        Node::ForeignScan(_) | Node::Values { .. } | Node::WorkTableScan { .. } => vec![],
        Node::RecursiveUnion { base, recursive, .. } => vec![base, recursive],
        Node::Filter { input, .. }
        | Node::Project { input, .. }
        | Node::Sort { input, .. }
        | Node::TopN { input, .. }
        | Node::Limit { input, .. }
        | Node::Aggregate { input, .. }
        | Node::Distinct { input, .. }
        | Node::Materialize { input } => vec![input],
        Node::Modify(m) => vec![&m.input],
        Node::NestedLoop { outer, inner, .. }
        | Node::HashJoin { outer, inner, .. }
        | Node::MergeJoin { outer, inner, .. } => vec![outer, inner],
        Node::SetOp { left, right, .. } => vec![left, right],
        Node::Append { inputs } => inputs.iter().collect(),
    }
}

/// The slots written at run time anywhere in the query, found on first use: most plans (all
/// of a point query's) have no caching operator and never ask.
pub(crate) struct ParamDeps<'q> {
    query: &'q PhysicalQuery,
    dynamic: std::cell::OnceCell<Vec<bool>>,
}

#[derive(Default)]
struct Usage {
    reads: Vec<usize>,
    writes: Vec<usize>,
    visited: Vec<usize>,
}

impl<'q> ParamDeps<'q> {
    pub fn new(query: &'q PhysicalQuery) -> Self {
        ParamDeps { query, dynamic: std::cell::OnceCell::new() }
    }

    fn dynamic(&self) -> &[bool] {
        self.dynamic.get_or_init(|| {
            let mut u = Usage::default();
            self.collect(&self.query.root, &mut u);
            for id in 0..self.query.subplans.len() {
                self.collect_subplan(id, &mut u);
            }
            let n = u.writes.iter().copied().max().map_or(0, |m| m + 1);
            let mut dynamic = vec![false; n];
            for w in u.writes {
                dynamic[w] = true;
            }
            dynamic
        })
    }

    /// Whether the output of `plan` may change when slots written outside it change.
    pub fn depends(&self, plan: &Plan) -> bool {
        let mut u = Usage::default();
        self.collect(plan, &mut u);
        let dynamic = self.dynamic();
        u.reads.iter().any(|r| dynamic.get(*r).copied().unwrap_or(false) && !u.writes.contains(r))
    }

    fn collect(&self, plan: &Plan, u: &mut Usage) {
        match &plan.node {
            Node::NestedLoop { params, .. } => u.writes.extend(params.iter().map(|(p, _)| *p)),
            // The work table changes every round, as if it were a parameter.
            Node::RecursiveUnion { worktable, .. } => u.writes.push(*worktable),
            Node::WorkTableScan { worktable } => u.reads.push(*worktable),
            Node::ForeignScan(s) => u.reads.extend(s.param_ids.iter().copied()),
            _ => {}
        }
        for e in node_exprs(&plan.node) {
            self.collect_expr(e, u);
        }
        for c in node_children(&plan.node) {
            self.collect(c, u);
        }
    }

    fn collect_expr(&self, e: &Expr, u: &mut Usage) {
        let mut ids = Vec::new();
        let reads = &mut u.reads;
        e.walk(&mut |e| match e {
            Expr::Param { index, .. } => reads.push(*index),
            Expr::SubPlan { id, .. } => ids.push(*id),
            _ => {}
        });
        // Sub-plans referenced from here run as part of this subtree.
        for id in ids {
            self.collect_subplan(id, u);
        }
    }

    fn collect_subplan(&self, id: usize, u: &mut Usage) {
        if u.visited.contains(&id) {
            return;
        }
        u.visited.push(id);
        let Some(def) = self.query.subplans.get(id) else { return };
        u.writes.extend(def.param_ids.iter().copied());
        if let Some(t) = &def.test {
            u.writes.push(def.test_param);
            self.collect_expr(t, u);
        }
        self.collect(&def.plan, u);
    }
}
