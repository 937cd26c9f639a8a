//! Logical plan to physical plan, node by node, with projection pushdown: each call is told
//! which of the node's logical output columns are needed and answers with a physical plan and
//! a map from logical column to physical output position.

use fdw_api::path::costs::{CPU_OPERATOR_COST, CPU_TUPLE_COST};
use fdw_api::path::Cost;
use fdw_api::{err, Datum, Expr, FdwError, FdwResult};

use super::cost::{self, sort_cost, tuple_cost};
use super::physical::*;
use super::PlannerSettings;
use crate::bind::logical::{BoundQuery, LogicalPlan};

/// A planned node: the physical plan and, per logical output column, its physical position
/// (`None` when the column was not needed and is not produced).
pub(super) struct Planned {
    pub plan: Plan,
    pub map: Vec<Option<usize>>,
}

pub(super) struct Planner<'s> {
    pub settings: &'s PlannerSettings,
    /// Next free parameter slot (nested-loop parameters are allocated after the binder's).
    pub next_param: usize,
    /// Parameter slot of each recursive union's work table, by the binder's id.
    pub worktables: std::collections::HashMap<usize, usize>,
    /// An order the node being planned should deliver if a wrapper can do it cheaply (set
    /// when a Sort sits on a single base relation; consumed by that relation's planning).
    pub wanted_order: Option<Vec<fdw_api::PathKey>>,
    /// The HAVING (a Filter right above the Aggregate being planned, over its output), offered
    /// to a wrapper computing the aggregation; `having_pushed` says the wrapper took it.
    pub pending_having: Option<Expr>,
    pub having_pushed: bool,
}

/// Plans a bound statement.
pub fn plan_query(q: &BoundQuery, settings: &PlannerSettings) -> FdwResult<PhysicalQuery> {
    let mut q = q.clone();
    super::decorrelate::decorrelate(&mut q);
    let q = &q;
    let mut p = Planner {
        settings,
        next_param: q.num_params,
        wanted_order: None,
        worktables: Default::default(),
        pending_having: None,
        having_pushed: false,
    };
    let root = p.plan_exact(&q.plan)?;
    let mut subplans = Vec::with_capacity(q.subplans.len());
    for sp in &q.subplans {
        let plan = p.plan_exact(&sp.plan)?;
        subplans.push(SubPlanDef {
            plan,
            kind: sp.kind,
            param_ids: sp.param_ids.clone(),
            test: sp.test.clone(),
            test_param: sp.test_param,
            correlated: sp.correlated,
        });
    }
    Ok(PhysicalQuery { root, subplans, num_params: p.next_param })
}

/// Rewrites column references through a logical-to-physical map.
pub(super) fn remap(e: &Expr, map: &[Option<usize>]) -> FdwResult<Expr> {
    let mut missing = None;
    let out = e.clone().transform(&mut |x| match x {
        Expr::Column { index, ty } => match map.get(index).copied().flatten() {
            Some(p) => Expr::Column { index: p, ty },
            None => {
                missing = Some(index);
                Expr::Column { index, ty }
            }
        },
        other => other,
    });
    match missing {
        Some(i) => Err(FdwError::internal(format!("planner: column {i} is not available"))),
        None => Ok(out),
    }
}

/// Adds `offset` to every column reference.
pub(super) fn shift(e: &Expr, offset: isize) -> Expr {
    e.clone().transform(&mut |x| match x {
        Expr::Column { index, ty } => Expr::Column { index: (index as isize + offset) as usize, ty },
        other => other,
    })
}

pub(super) fn mark_columns(e: &Expr, req: &mut [bool]) {
    for c in e.columns() {
        if c < req.len() {
            req[c] = true;
        }
    }
}

pub(super) fn width_of(cols: &[OutputColumn]) -> u32 {
    cols.iter().map(|c| c.ty.typical_width()).sum::<u32>().max(1)
}

/// The grouping and aggregates a wrapper is asked to compute over `input`.
fn upper_info(
    settings: &PlannerSettings,
    input: &std::sync::Arc<fdw_api::TableDesc>,
    input_quals: Vec<Expr>,
    group_by: &[Expr],
    aggs: &[AggCall],
) -> fdw_api::UpperRelInfo {
    fdw_api::UpperRelInfo {
        input: input.clone(),
        input_quals,
        group_by: group_by.to_vec(),
        aggregates: aggs.iter().map(|a| (a.func, a.args.clone(), a.distinct)).collect(),
        having: None,
        max_parallel_workers: settings.max_parallel_workers,
    }
}

pub(super) fn make(node: Node, output: Vec<OutputColumn>, cost: Cost, rows: f64) -> Plan {
    let width = width_of(&output);
    Plan { node, output, cost, rows: rows.max(1.0).round(), width }
}

fn identity(n: usize) -> Vec<Option<usize>> {
    (0..n).map(Some).collect()
}

impl Planner<'_> {
    /// Plans `lp` producing exactly its logical columns, in order.
    pub(super) fn plan_exact(&mut self, lp: &LogicalPlan) -> FdwResult<Plan> {
        let n = lp.arity();
        let planned = self.plan(lp, &vec![true; n])?;
        self.exact(planned, lp)
    }

    /// Adds a projection if the planned node's output is not exactly the logical columns.
    fn exact(&mut self, p: Planned, lp: &LogicalPlan) -> FdwResult<Plan> {
        let n = p.map.len();
        if p.plan.output.len() == n && p.map.iter().enumerate().all(|(i, m)| *m == Some(i)) {
            return Ok(p.plan);
        }
        let cols = lp.columns();
        let mut exprs = Vec::with_capacity(n);
        let mut output = Vec::with_capacity(n);
        for (i, c) in cols.iter().enumerate() {
            let pos = p.map[i].ok_or_else(|| FdwError::internal("planner: column dropped"))?;
            exprs.push(Expr::Column { index: pos, ty: p.plan.output[pos].ty.clone() });
            output.push(OutputColumn { name: c.name.clone(), ty: p.plan.output[pos].ty.clone() });
        }
        let (cost, rows) = (p.plan.cost, p.plan.rows);
        Ok(make(Node::Project { input: Box::new(p.plan), exprs }, output, cost, rows))
    }

    pub(super) fn plan(&mut self, lp: &LogicalPlan, req: &[bool]) -> FdwResult<Planned> {
        let planned = self.plan_node(lp, req)?;
        if planned.map.len() != lp.arity() {
            return Err(FdwError::internal(format!(
                "planner: {} logical columns mapped for a node of {}",
                planned.map.len(),
                lp.arity()
            )));
        }
        Ok(planned)
    }

    fn plan_node(&mut self, lp: &LogicalPlan, req: &[bool]) -> FdwResult<Planned> {
        match lp {
            LogicalPlan::Scan(_) => self.plan_join_graph(lp, req),
            LogicalPlan::Join { join_type: JoinType::Inner, .. } => self.plan_join_graph(lp, req),
            LogicalPlan::Filter { input, .. }
                if matches!(**input, LogicalPlan::Scan(_) | LogicalPlan::Join { join_type: JoinType::Inner, .. }) =>
            {
                self.plan_join_graph(lp, req)
            }
            LogicalPlan::Join { .. } => self.plan_outer_join(lp, req),
            LogicalPlan::Filter { input, predicate } => {
                let mut creq = req.to_vec();
                mark_columns(predicate, &mut creq);
                // A HAVING is offered to the wrapper if it computes the aggregation.
                let offer = matches!(**input, LogicalPlan::Aggregate { .. })
                    && !predicate.has_subplan()
                    && !predicate.is_volatile();
                let saved = std::mem::replace(&mut self.pending_having, offer.then(|| predicate.clone()));
                let child = self.plan(input, &creq);
                self.pending_having = saved;
                let child = child?;
                if std::mem::take(&mut self.having_pushed) {
                    return Ok(child);
                }
                let pred = remap(predicate, &child.map)?;
                let sel = cost::selectivity(&pred, &|_| None);
                let rows = child.plan.rows * sel;
                let c = child.plan.cost;
                let cost =
                    Cost::new(c.startup, c.total + CPU_OPERATOR_COST * cost::expr_ops(&pred) as f64 * child.plan.rows);
                let output = child.plan.output.clone();
                let plan = make(Node::Filter { input: Box::new(child.plan), predicate: pred }, output, cost, rows);
                Ok(Planned { plan, map: child.map })
            }
            LogicalPlan::Values { rows, columns } => {
                let output: Vec<OutputColumn> =
                    columns.iter().map(|c| OutputColumn { name: c.name.clone(), ty: c.ty.clone() }).collect();
                let n = rows.len() as f64;
                let cost = Cost::new(0.0, CPU_OPERATOR_COST * n * columns.len().max(1) as f64);
                let plan = make(Node::Values { rows: rows.clone() }, output, cost, n);
                Ok(Planned { plan, map: identity(columns.len()) })
            }
            LogicalPlan::Project { input, exprs, columns } => {
                let mut creq = vec![false; input.arity()];
                let mut keep = Vec::new();
                for (i, e) in exprs.iter().enumerate() {
                    if req.get(i).copied().unwrap_or(true) {
                        mark_columns(e, &mut creq);
                        keep.push(i);
                    }
                }
                let child = self.plan(input, &creq)?;
                let mut out_exprs = Vec::with_capacity(keep.len());
                let mut output = Vec::with_capacity(keep.len());
                let mut map = vec![None; exprs.len()];
                for (k, &i) in keep.iter().enumerate() {
                    out_exprs.push(remap(&exprs[i], &child.map)?);
                    output.push(OutputColumn { name: columns[i].name.clone(), ty: columns[i].ty.clone() });
                    map[i] = Some(k);
                }
                // A projection that only passes columns through in order is dropped.
                let passthrough = out_exprs.len() == child.plan.output.len()
                    && out_exprs
                        .iter()
                        .enumerate()
                        .all(|(k, e)| matches!(e, Expr::Column { index, .. } if *index == k));
                if passthrough {
                    let mut plan = child.plan;
                    for (o, n) in plan.output.iter_mut().zip(&output) {
                        o.name = n.name.clone();
                    }
                    return Ok(Planned { plan, map });
                }
                let (cost, rows) = (child.plan.cost, child.plan.rows);
                let plan = make(Node::Project { input: Box::new(child.plan), exprs: out_exprs }, output, cost, rows);
                Ok(Planned { plan, map })
            }
            LogicalPlan::Aggregate { input, group_by, aggs, columns } => {
                let having = self.pending_having.take();
                let mut creq = vec![false; input.arity()];
                for g in group_by {
                    mark_columns(g, &mut creq);
                }
                for a in aggs {
                    for x in &a.args {
                        mark_columns(x, &mut creq);
                    }
                    if let Some(f) = &a.filter {
                        mark_columns(f, &mut creq);
                    }
                }
                let child = self.plan(input, &creq)?;
                let nds: Vec<Option<f64>> = group_by.iter().map(|g| distinct_of_expr(input, g)).collect();
                let group_by: Vec<Expr> = group_by.iter().map(|g| remap(g, &child.map)).collect::<FdwResult<_>>()?;
                let mut new_aggs = Vec::with_capacity(aggs.len());
                for a in aggs {
                    let mut a = a.clone();
                    a.args = a.args.iter().map(|x| remap(x, &child.map)).collect::<FdwResult<_>>()?;
                    a.filter = a.filter.as_ref().map(|f| remap(f, &child.map)).transpose()?;
                    new_aggs.push(a);
                }
                let in_rows = child.plan.rows;
                let work = CPU_OPERATOR_COST * in_rows * (group_by.len() + new_aggs.len()).max(1) as f64;
                let c = child.plan.cost;
                let (strategy, rows, cost) = if group_by.is_empty() {
                    (AggStrategy::Plain, 1.0, Cost::new(c.total + work, c.total + work + CPU_TUPLE_COST))
                } else {
                    let groups = estimate_groups_with(in_rows, nds.into_iter());
                    (AggStrategy::Hashed, groups, Cost::new(c.total + work, c.total + work + tuple_cost(groups)))
                };
                let output: Vec<OutputColumn> =
                    columns.iter().map(|c| OutputColumn { name: c.name.clone(), ty: c.ty.clone() }).collect();
                self.pending_having = having;
                let pushed = self.pushdown_aggregate(input, lp, &output, cost);
                self.pending_having = None;
                if let Some(pushed) = pushed? {
                    return Ok(Planned { plan: pushed, map: identity(columns.len()) });
                }
                if strategy == AggStrategy::Hashed && !self.settings.enable_hashagg {
                    // Sort on the group keys, then aggregate consecutive groups (GroupAggregate).
                    let keys: Vec<SortKey> = group_by
                        .iter()
                        .map(|g| SortKey { expr: g.clone(), descending: false, nulls_first: false })
                        .collect();
                    let startup = c.total + sort_cost(in_rows);
                    let sort_out = child.plan.output.clone();
                    let sorted = make(
                        Node::Sort { input: Box::new(child.plan), keys },
                        sort_out,
                        Cost::new(startup, startup + CPU_OPERATOR_COST * in_rows),
                        in_rows,
                    );
                    let cost = Cost::new(startup, startup + work + tuple_cost(rows));
                    let node = Node::Aggregate {
                        input: Box::new(sorted),
                        strategy: AggStrategy::Sorted,
                        group_by,
                        aggs: new_aggs,
                    };
                    return Ok(Planned { plan: make(node, output, cost, rows), map: identity(columns.len()) });
                }
                let node = Node::Aggregate { input: Box::new(child.plan), strategy, group_by, aggs: new_aggs };
                Ok(Planned { plan: make(node, output, cost, rows), map: identity(columns.len()) })
            }
            LogicalPlan::Sort { input, keys } => {
                let mut creq = req.to_vec();
                for k in keys {
                    mark_columns(&k.expr, &mut creq);
                }
                let (child, sorted) = self.plan_ordered(input, keys, &creq)?;
                if sorted {
                    return Ok(child);
                }
                let keys = remap_keys(keys, &child.map)?;
                let (rows, c) = (child.plan.rows, child.plan.cost);
                let startup = c.total + sort_cost(rows);
                let cost = Cost::new(startup, startup + CPU_OPERATOR_COST * rows);
                let output = child.plan.output.clone();
                let plan = make(Node::Sort { input: Box::new(child.plan), keys }, output, cost, rows);
                Ok(Planned { plan, map: child.map })
            }
            LogicalPlan::Limit { input, limit, offset } => self.plan_limit(input, limit.as_ref(), offset.as_ref(), req),
            LogicalPlan::Distinct { input } => {
                let child = self.plan_exact(input)?;
                let n = child.output.len();
                let in_rows = child.rows;
                let rows = estimate_groups(in_rows, n);
                let c = child.cost;
                let work = CPU_OPERATOR_COST * in_rows * n.max(1) as f64;
                let cost = Cost::new(c.total + work, c.total + work + tuple_cost(rows));
                let output = child.output.clone();
                let plan = make(Node::Distinct { input: Box::new(child), sorted: false }, output, cost, rows);
                Ok(Planned { plan, map: identity(n) })
            }
            LogicalPlan::SetOp { kind, all, left, right, columns } => {
                let l = self.plan_exact(left)?;
                let r = self.plan_exact(right)?;
                let output: Vec<OutputColumn> =
                    columns.iter().map(|c| OutputColumn { name: c.name.clone(), ty: c.ty.clone() }).collect();
                let total = l.cost.total + r.cost.total;
                let plan = if *kind == SetOpKind::Union && *all {
                    let rows = l.rows + r.rows;
                    make(Node::Append { inputs: vec![l, r] }, output, Cost::new(0.0, total + tuple_cost(rows)), rows)
                } else {
                    let rows = match kind {
                        SetOpKind::Union => l.rows + r.rows,
                        SetOpKind::Intersect => l.rows.min(r.rows),
                        SetOpKind::Except => l.rows,
                    };
                    let work = CPU_OPERATOR_COST * (l.rows + r.rows) * columns.len().max(1) as f64;
                    let cost = Cost::new(total + work, total + work + tuple_cost(rows));
                    make(
                        Node::SetOp { kind: *kind, all: *all, left: Box::new(l), right: Box::new(r) },
                        output,
                        cost,
                        rows,
                    )
                };
                Ok(Planned { plan, map: identity(columns.len()) })
            }
            LogicalPlan::RecursiveUnion { id, base, recursive, all, columns } => {
                let slot = self.alloc_internal_param();
                self.worktables.insert(*id, slot);
                let b = self.plan_exact(base)?;
                let r = self.plan_exact(recursive)?;
                let output: Vec<OutputColumn> =
                    columns.iter().map(|c| OutputColumn { name: c.name.clone(), ty: c.ty.clone() }).collect();
                // PostgreSQL's guess: ten rounds of the recursive term.
                let rows = b.rows + 10.0 * r.rows;
                let cost = Cost::new(0.0, b.cost.total + 10.0 * r.cost.total);
                let node =
                    Node::RecursiveUnion { base: Box::new(b), recursive: Box::new(r), all: *all, worktable: slot };
                Ok(Planned { plan: make(node, output, cost, rows), map: identity(columns.len()) })
            }
            LogicalPlan::WorkTable { id, columns } => {
                let slot = *self
                    .worktables
                    .get(id)
                    .ok_or_else(|| FdwError::internal("work table outside its recursive union"))?;
                let output: Vec<OutputColumn> =
                    columns.iter().map(|c| OutputColumn { name: c.name.clone(), ty: c.ty.clone() }).collect();
                let plan =
                    make(Node::WorkTableScan { worktable: slot }, output, Cost::new(0.0, 10.0 * CPU_TUPLE_COST), 10.0);
                Ok(Planned { plan, map: identity(columns.len()) })
            }
            LogicalPlan::Modify { input, target } => {
                let child = self.plan_exact(input)?;
                let output: Vec<OutputColumn> =
                    lp.columns().into_iter().map(|c| OutputColumn { name: c.name, ty: c.ty }).collect();
                let n = output.len();
                let c = child.cost;
                let rows = child.rows;
                let cost = Cost::new(c.startup, c.total + CPU_TUPLE_COST * rows);
                let node = Node::Modify(ModifyNode {
                    kind: target.kind,
                    wrapper: target.scan.routine.clone(),
                    table: target.scan.table.clone(),
                    input: Box::new(child),
                    returning: target.returning.clone(),
                    direct: direct_modify(input, target)?,
                });
                let out_rows = if target.returning.is_some() { rows } else { 1.0 };
                Ok(Planned { plan: make(node, output, cost, out_rows), map: identity(n) })
            }
        }
    }

    fn plan_limit(
        &mut self,
        input: &LogicalPlan,
        limit: Option<&Expr>,
        offset: Option<&Expr>,
        req: &[bool],
    ) -> FdwResult<Planned> {
        let const_of = |e: Option<&Expr>| -> Option<Option<i64>> {
            match e {
                None => Some(None),
                Some(Expr::Const { value: Datum::Int8(v), .. }) => Some(Some(*v)),
                Some(Expr::Const { value: Datum::Null, .. }) => Some(None),
                _ => None,
            }
        };
        let (cl, co) = (const_of(limit), const_of(offset));
        if let Some(v) = cl.flatten() {
            if v < 0 {
                return Err(err!(INVALID_ROW_COUNT_IN_LIMIT, "LIMIT must not be negative"));
            }
        }
        if let Some(v) = co.flatten() {
            if v < 0 {
                return Err(err!(INVALID_ROW_COUNT_IN_OFFSET, "OFFSET must not be negative"));
            }
        }
        // ORDER BY ... LIMIT n as a top-N sort.
        if let (LogicalPlan::Sort { input: sinput, keys }, Some(Some(l)), Some(o)) = (input, cl, co) {
            let o = o.unwrap_or(0);
            let mut creq = req.to_vec();
            for k in keys {
                mark_columns(&k.expr, &mut creq);
            }
            let (child, sorted) = self.plan_ordered(sinput, keys, &creq)?;
            if sorted {
                // The input arrives in order: a plain Limit suffices.
                let lim = Some(Expr::Const { value: Datum::Int8(l), ty: fdw_api::DataType::Int8 });
                let off = (o > 0).then_some(Expr::Const { value: Datum::Int8(o), ty: fdw_api::DataType::Int8 });
                let in_rows = child.plan.rows;
                let rows = (l as f64).min((in_rows - o as f64).max(0.0));
                let c = child.plan.cost;
                let frac = if in_rows > 0.0 { ((rows + o as f64) / in_rows).min(1.0) } else { 1.0 };
                let cost = Cost::new(c.startup, c.startup + (c.total - c.startup) * frac);
                let output = child.plan.output.clone();
                let node = Node::Limit { input: Box::new(child.plan), limit: lim, offset: off };
                return Ok(Planned { plan: make(node, output, cost, rows), map: child.map });
            }
            let keys = remap_keys(keys, &child.map)?;
            // ORDER BY + LIMIT by the wrapper of a pushed-down join or aggregation.
            if let Some(pushed) = self.pushdown_order_limit(&child.plan, &keys, l.saturating_add(o) as u64)? {
                let lim = Some(Expr::Const { value: Datum::Int8(l), ty: fdw_api::DataType::Int8 });
                let off = (o > 0).then_some(Expr::Const { value: Datum::Int8(o), ty: fdw_api::DataType::Int8 });
                let rows = (l as f64).min((pushed.rows - o as f64).max(0.0));
                let (cost, output) = (pushed.cost, pushed.output.clone());
                let node = Node::Limit { input: Box::new(pushed), limit: lim, offset: off };
                return Ok(Planned { plan: make(node, output, cost, rows), map: child.map });
            }
            let (in_rows, c) = (child.plan.rows, child.plan.cost);
            let n = (l + o) as f64;
            let startup = c.total + 2.0 * CPU_OPERATOR_COST * in_rows * (2.0 * n.max(1.0)).log2().max(1.0);
            let rows = (l as f64).min((in_rows - o as f64).max(0.0));
            let cost = Cost::new(startup, startup + CPU_OPERATOR_COST * rows);
            let output = child.plan.output.clone();
            let node = Node::TopN { input: Box::new(child.plan), keys, limit: l as u64, offset: o as u64 };
            return Ok(Planned { plan: make(node, output, cost, rows), map: child.map });
        }
        let child = self.plan(input, req)?;
        let in_rows = child.plan.rows;
        let rows = match (cl.flatten(), co.flatten()) {
            (Some(l), o) => (l as f64).min((in_rows - o.unwrap_or(0) as f64).max(0.0)),
            (None, Some(o)) => (in_rows - o as f64).max(0.0),
            (None, None) => in_rows,
        };
        let c = child.plan.cost;
        let frac = if in_rows > 0.0 { (rows / in_rows).min(1.0) } else { 1.0 };
        let cost = Cost::new(c.startup, c.startup + (c.total - c.startup) * frac);
        let output = child.plan.output.clone();
        let node = Node::Limit { input: Box::new(child.plan), limit: limit.cloned(), offset: offset.cloned() };
        Ok(Planned { plan: make(node, output, cost, rows), map: child.map })
    }
}

impl Planner<'_> {
    /// An aggregation over one base relation computed by its wrapper (postgres_fdw's remote
    /// GROUP BY), if the wrapper offers it cheaper than the local plan costing `local`.
    fn pushdown_aggregate(
        &mut self,
        input: &LogicalPlan,
        agg: &LogicalPlan,
        output: &[OutputColumn],
        local: Cost,
    ) -> FdwResult<Option<Plan>> {
        let LogicalPlan::Aggregate { group_by, aggs, .. } = agg else { return Ok(None) };
        let (scan, quals) = match input {
            LogicalPlan::Scan(s) => (s, Vec::new()),
            LogicalPlan::Filter { input: filtered, predicate } => match &**filtered {
                LogicalPlan::Scan(s) => (s, predicate.clone().split_conjunction()),
                _ => return self.pushdown_join_aggregate(input, agg, output, local),
            },
            _ => return self.pushdown_join_aggregate(input, agg, output, local),
        };
        let Some(pd) = scan.routine.pushdown_routine() else { return Ok(None) };
        if scan.want_row_id
            || aggs.iter().any(|a| a.filter.is_some())
            || quals.iter().chain(group_by).any(|q| q.has_subplan() || q.is_volatile())
        {
            return Ok(None);
        }
        let info = upper_info(self.settings, &scan.table, quals, group_by, aggs);
        self.pushed_aggregate(pd, info, None, &scan.routine, output, local)
    }

    /// The scan of the cheapest aggregation path the wrapper offers for `upper` (over `join` if
    /// given), if it beats `local`; notes whether the pending HAVING went with it.
    fn pushed_aggregate(
        &mut self,
        pd: &dyn fdw_api::PushdownRoutine,
        upper: fdw_api::UpperRelInfo,
        join: Option<&fdw_api::JoinRelInfo>,
        routine: &std::sync::Arc<dyn fdw_api::FdwRoutine>,
        output: &[OutputColumn],
        local: Cost,
    ) -> FdwResult<Option<Plan>> {
        let table = upper.input.clone();
        let Some((path, with_having)) = self.upper_path(pd, upper, join)? else { return Ok(None) };
        if path.cost.total >= local.total {
            return Ok(None);
        }
        self.having_pushed = with_having;
        let node =
            Node::ForeignScan(ScanNode::pushed(routine.clone(), table, (0..output.len()).collect(), path.clone()));
        Ok(Some(make(node, output.to_vec(), path.cost, path.rows)))
    }

    /// The cheapest path the wrapper offers for `upper` (over `join` if given), first with the
    /// pending HAVING, then without it; and whether the HAVING went with it.
    fn upper_path(
        &self,
        pd: &dyn fdw_api::PushdownRoutine,
        mut upper: fdw_api::UpperRelInfo,
        join: Option<&fdw_api::JoinRelInfo>,
    ) -> FdwResult<Option<(fdw_api::ForeignPath, bool)>> {
        let mut having = self.pending_having.clone();
        loop {
            upper.having = having.clone();
            let paths = match join {
                Some(j) => pd.get_join_upper_paths(j, &upper)?,
                None => pd.get_upper_paths(&upper)?,
            };
            if let Some(p) = paths.into_iter().min_by(|x, y| x.cost.total.total_cmp(&y.cost.total)) {
                return Ok(Some((p, having.is_some())));
            }
            if having.take().is_none() {
                return Ok(None);
            }
        }
    }

    /// An aggregation over inner joins of two or more base relations of one wrapper (filters above
    /// the join included) computed by the wrapper (postgres_fdw's remote GROUP BY over a
    /// remote join), if it offers that cheaper than the local plan costing `local`.
    fn pushdown_join_aggregate(
        &mut self,
        input: &LogicalPlan,
        agg: &LogicalPlan,
        output: &[OutputColumn],
        local: Cost,
    ) -> FdwResult<Option<Plan>> {
        let LogicalPlan::Aggregate { group_by, aggs, .. } = agg else { return Ok(None) };
        let mut quals = Vec::new();
        let mut node = input;
        while let LogicalPlan::Filter { input, predicate } = node {
            quals.extend(predicate.clone().split_conjunction());
            node = input;
        }
        if !matches!(node, LogicalPlan::Join { join_type: JoinType::Inner, .. }) {
            return Ok(None);
        }
        // Any number of base relations joined by inner joins (remote_join.rs).
        let Some(scans) = super::remote_join::inner_join_scans(node, &mut quals) else { return Ok(None) };
        let (Some(&a), Some((&b, middle))) = (scans.first(), scans[1..].split_last()) else { return Ok(None) };
        // The join clause buried in an OR (TPC-H Q19) comes out, as for local joins, so the
        // wrapper estimates the join from it.
        let quals: Vec<Expr> = quals.into_iter().flat_map(super::joins::factor_or).collect();
        let Some(pd) = a.routine.pushdown_routine() else { return Ok(None) };
        if scans.iter().any(|s| s.routine.name() != a.routine.name() || s.want_row_id)
            || aggs.iter().any(|a| a.filter.is_some())
            || quals.iter().chain(group_by).any(|q| q.has_subplan() || q.is_volatile())
            || aggs.iter().flat_map(|a| &a.args).any(|x| x.has_subplan() || x.is_volatile())
        {
            return Ok(None);
        }
        let join = fdw_api::JoinRelInfo {
            kind: fdw_api::JoinKind::Inner,
            outer: std::iter::once(a).chain(middle.iter().copied()).map(|s| s.table.clone()).collect(),
            inner: vec![b.table.clone()],
            quals,
        };
        let upper = upper_info(self.settings, &a.table, Vec::new(), group_by, aggs);
        self.pushed_aggregate(pd, upper, Some(&join), &a.routine, output, local)
    }

    /// Plans the input of a sort, asking a lone base relation for that order; returns whether
    /// the plan already delivers it (so no Sort is needed).
    fn plan_ordered(&mut self, input: &LogicalPlan, keys: &[SortKey], req: &[bool]) -> FdwResult<(Planned, bool)> {
        let wanted: Option<Vec<fdw_api::PathKey>> = keys
            .iter()
            .map(|k| match &k.expr {
                Expr::Column { index, .. } => trace_to_table(input, *index).map(|column| fdw_api::PathKey {
                    column,
                    descending: k.descending,
                    nulls_first: k.nulls_first,
                }),
                _ => None,
            })
            .collect();
        let saved = std::mem::replace(&mut self.wanted_order, wanted.clone());
        let child = self.plan(input, req);
        self.wanted_order = saved;
        let child = child?;
        let sorted = wanted.is_some_and(|w| delivers_order(&child.plan, &w));
        Ok((child, sorted))
    }
}

/// The table column a logical column of `lp` comes from, when `lp` is a chain of
/// projections and filters over one base relation.
fn trace_to_table(lp: &LogicalPlan, col: usize) -> Option<usize> {
    match lp {
        LogicalPlan::Scan(s) => (col < s.table.columns.len()).then_some(col),
        LogicalPlan::Filter { input, .. } => trace_to_table(input, col),
        LogicalPlan::Project { input, exprs, .. } => match exprs.get(col)? {
            Expr::Column { index, .. } => trace_to_table(input, *index),
            _ => None,
        },
        _ => None,
    }
}

/// Whether a plan (a scan under filters and projections) yields rows in `wanted` order.
fn delivers_order(p: &Plan, wanted: &[fdw_api::PathKey]) -> bool {
    match &p.node {
        Node::ForeignScan(s) => {
            s.request.path.pathkeys.len() >= wanted.len() && s.request.path.pathkeys[..wanted.len()] == *wanted
        }
        Node::Filter { input, .. } | Node::Project { input, .. } => delivers_order(input, wanted),
        _ => false,
    }
}

pub(super) fn remap_keys(keys: &[SortKey], map: &[Option<usize>]) -> FdwResult<Vec<SortKey>> {
    keys.iter()
        .map(|k| Ok(SortKey { expr: remap(&k.expr, map)?, descending: k.descending, nulls_first: k.nulls_first }))
        .collect()
}

/// Number of groups: the product of the keys' distinct counts (200 for a key without
/// statistics, as PostgreSQL assumes), at most the input rows.
pub(super) fn estimate_groups_with(rows: f64, nd: impl Iterator<Item = Option<f64>>) -> f64 {
    let mut product = 1.0f64;
    for d in nd {
        product *= d.unwrap_or(cost::DEFAULT_NUM_DISTINCT);
        if product > rows {
            break;
        }
    }
    rows.min(product).max(1.0)
}

/// Distinct values of a grouping expression (a column traced down to a base table with
/// statistics).
fn distinct_of_expr(lp: &LogicalPlan, e: &Expr) -> Option<f64> {
    match e {
        Expr::Column { index, .. } => distinct_of(lp, *index),
        Expr::Cast { expr, .. } => distinct_of_expr(lp, expr),
        _ => None,
    }
}

fn distinct_of(lp: &LogicalPlan, col: usize) -> Option<f64> {
    match lp {
        LogicalPlan::Scan(s) => {
            let stats = s.table.stats.as_ref()?;
            let c = stats.columns.get(col)?.as_ref()?;
            Some(cost::ColInfo { stats: Some(c), rel_rows: stats.row_count }.n_distinct())
        }
        LogicalPlan::Filter { input, .. }
        | LogicalPlan::Sort { input, .. }
        | LogicalPlan::Limit { input, .. }
        | LogicalPlan::Distinct { input } => distinct_of(input, col),
        LogicalPlan::Project { input, exprs, .. } => distinct_of_expr(input, exprs.get(col)?),
        LogicalPlan::Join { left, right, .. } => {
            let lw = left.arity();
            if col < lw {
                distinct_of(left, col)
            } else {
                distinct_of(right, col - lw)
            }
        }
        LogicalPlan::Aggregate { input, group_by, .. } => distinct_of_expr(input, group_by.get(col)?),
        _ => None,
    }
}

/// Number of groups of `rows` rows grouped by `keys` columns without statistics:
/// PostgreSQL assumes 200 distinct values per column.
pub(super) fn estimate_groups(rows: f64, keys: usize) -> f64 {
    let per = cost::DEFAULT_NUM_DISTINCT.powi(keys.min(4) as i32);
    rows.min(per).max(1.0)
}

/// PlanDirectModify: an UPDATE/DELETE of one foreign table, without RETURNING, whose input is
/// the table's scan, optionally filtered (no join or sub-select: those arrive as other node
/// shapes or `SubPlan` expressions), offered to the wrapper as one statement. `None` keeps
/// the row-by-row path.
fn direct_modify(
    input: &LogicalPlan,
    target: &crate::bind::logical::ModifyTarget,
) -> FdwResult<Option<fdw_api::DirectModify>> {
    use fdw_api::ModifyKind;
    let Some(pushdown) = target.scan.routine.pushdown_routine() else { return Ok(None) };
    if target.returning.is_some() || target.kind == ModifyKind::Insert {
        return Ok(None);
    }
    let ncols = target.scan.table.columns.len();
    // UPDATE: a projection computing the new row (then the row id) over the filtered scan.
    let (filtered, assignments) = match (target.kind, input) {
        (ModifyKind::Update, LogicalPlan::Project { input, exprs, .. }) => {
            if exprs.len() != ncols + 1 || !matches!(exprs[ncols], Expr::Column { index, .. } if index == ncols) {
                return Ok(None);
            }
            let sets: Vec<(usize, Expr)> = exprs[..ncols]
                .iter()
                .enumerate()
                .filter(|(i, e)| !matches!(e, Expr::Column { index, .. } if index == i))
                .map(|(i, e)| (i, e.clone()))
                .collect();
            (&**input, sets)
        }
        (ModifyKind::Delete, _) => (input, Vec::new()),
        _ => return Ok(None),
    };
    let (scan, quals) = match filtered {
        LogicalPlan::Scan(s) => (s, Vec::new()),
        LogicalPlan::Filter { input, predicate } => match &**input {
            LogicalPlan::Scan(s) => (s, predicate.clone().split_conjunction()),
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    // Expressions over the table's own columns only (not the row id), without sub-selects.
    let local_only = |e: &Expr| {
        let mut bad = false;
        e.walk(&mut |x| {
            bad |= match x {
                Expr::SubPlan { .. } => true,
                Expr::Column { index, .. } => *index >= ncols,
                _ => false,
            }
        });
        bad
    };
    if !std::sync::Arc::ptr_eq(&scan.table, &target.scan.table)
        || (target.kind == ModifyKind::Update && assignments.is_empty())
        || assignments.iter().map(|(_, e)| e).chain(&quals).any(local_only)
    {
        return Ok(None);
    }
    let request = fdw_api::DirectModify { table: target.scan.table.clone(), kind: target.kind, assignments, quals };
    Ok(pushdown.plan_direct_modify(&request)?.then_some(request))
}
