//! Join planning: base relations through their wrappers, and the join order.
//!
//! A tree of inner joins with the filters above and inside it is flattened into leaves (base
//! relations and any other subtree) over one "global" row layout (the leaves' columns side
//! by side, as the logical join produces them) and a list of conjunctive quals. Each qual
//! touching one base relation is offered to its wrapper; the rest are applied at the lowest
//! join that sees all their relations. The best plan for every connected subset of leaves is
//! found by dynamic programming (PostgreSQL's standard_join_search); past `DP_LIMIT` leaves a
//! greedy search is used.

use std::collections::HashMap;
use std::sync::Arc;

use fdw_api::path::costs::CPU_OPERATOR_COST;
use fdw_api::path::{Cost, ForeignPath, QualSupport, RelInfo};
use fdw_api::routine::ScanRequest;
use fdw_api::{err, BinaryOp, ColumnStats, DataType, Expr, FdwError, FdwResult, TableStats};

use super::builder::{make, mark_columns, remap, shift, Planned, Planner};
use super::cost::{self, expr_cost, sort_cost, tuple_cost, ColInfo};
use super::physical::*;
use crate::bind::logical::{LogicalPlan, ScanRel};

/// Leaves beyond which the join search is greedy.
const DP_LIMIT: usize = 10;

struct Leaf<'a> {
    lp: &'a LogicalPlan,
    offset: usize,
    width: usize,
}

/// A qual of the join graph over the global layout, with the set of leaves it references.
struct Qual {
    expr: Expr,
    mask: u64,
    /// The equivalence class (of three or more relations) this column equality belongs to:
    /// its selectivity is then estimated per class, not per qual.
    class: Option<usize>,
    /// Added by `equivalence_classes` or `or_restrictions` (not written in the query).
    implied: bool,
    /// Restrictions of single leaves derived from this OR (`or_restrictions`): the leaves'
    /// row estimates already count them, so the join's estimate divides them back out.
    derived: Vec<Expr>,
}

/// A candidate plan for a set of leaves, with where each global column landed.
#[derive(Clone)]
struct Cand {
    plan: Plan,
    map: Vec<Option<usize>>,
}

/// A parameterized access path of a base leaf: usable as the inner side of a nested loop
/// whose outer side covers `outer_mask`; before each inner scan, `params` are set from the
/// outer row (expressions over the global layout).
#[derive(Clone)]
struct ParamScan {
    cand: Cand,
    outer_mask: u64,
    params: Vec<(usize, Expr)>,
    /// The join quals (over the global layout) the inner scan enforces with these params.
    enforced: Vec<Expr>,
}

fn collect<'a>(lp: &'a LogicalPlan, offset: usize, leaves: &mut Vec<Leaf<'a>>, quals: &mut Vec<Expr>) {
    match lp {
        LogicalPlan::Join { left, right, join_type: JoinType::Inner, on } => {
            let lw = left.arity();
            collect(left, offset, leaves, quals);
            collect(right, offset + lw, leaves, quals);
            if let Some(on) = on {
                quals.extend(shift(on, offset as isize).split_conjunction());
            }
        }
        LogicalPlan::Filter { input, predicate }
            if matches!(**input, LogicalPlan::Scan(_) | LogicalPlan::Join { join_type: JoinType::Inner, .. }) =>
        {
            quals.extend(shift(predicate, offset as isize).split_conjunction());
            collect(input, offset, leaves, quals);
        }
        other => leaves.push(Leaf { lp: other, offset, width: other.arity() }),
    }
}

fn leaf_of(leaves: &[Leaf<'_>], col: usize) -> Option<usize> {
    leaves.iter().position(|l| col >= l.offset && col < l.offset + l.width)
}

fn mask_of(e: &Expr, leaves: &[Leaf<'_>]) -> u64 {
    e.columns().into_iter().filter_map(|c| leaf_of(leaves, c)).fold(0, |m, l| m | (1 << l))
}

fn pushable(e: &Expr) -> bool {
    !e.is_volatile()
}

fn concat_maps(outer: &Cand, inner: &Cand) -> Vec<Option<usize>> {
    let off = outer.plan.output.len();
    outer.map.iter().zip(&inner.map).map(|(o, i)| o.or(i.map(|p| p + off))).collect()
}

impl Planner<'_> {
    pub(super) fn plan_join_graph(&mut self, lp: &LogicalPlan, req: &[bool]) -> FdwResult<Planned> {
        let mut leaves = Vec::new();
        let mut raw = Vec::new();
        collect(lp, 0, &mut leaves, &mut raw);
        if leaves.len() > 63 {
            return Err(FdwError::feature("too many relations in one join"));
        }
        let width: usize = leaves.iter().map(|l| l.width).sum();
        let raw: Vec<Expr> = raw.into_iter().flat_map(factor_or).collect();
        let mut quals: Vec<Qual> = raw
            .into_iter()
            .map(|e| Qual { mask: mask_of(&e, &leaves), expr: e, class: None, implied: false, derived: Vec::new() })
            .collect();
        or_restrictions(&mut quals, &leaves);
        let classes = equivalence_classes(&mut quals, &leaves);
        // Columns needed above each leaf: the requested ones plus those of multi-leaf quals.
        let mut needed = vec![false; width];
        for (i, r) in req.iter().enumerate() {
            if *r && i < width {
                needed[i] = true;
            }
        }
        for q in &quals {
            if q.mask.count_ones() != 1 {
                mark_columns(&q.expr, &mut needed);
            }
        }
        // Plan each leaf.
        let mut base: Vec<Cand> = Vec::with_capacity(leaves.len());
        let mut param_scans: Vec<Vec<ParamScan>> = Vec::with_capacity(leaves.len());
        let mut leaf_stats: Vec<Option<(Arc<TableStats>, f64)>> = Vec::with_capacity(leaves.len());
        // Base relations and their own quals, for join pushdown into their wrapper.
        let mut scan_leaves: Vec<Option<(&ScanRel, Vec<Expr>)>> = Vec::with_capacity(leaves.len());
        for (i, leaf) in leaves.iter().enumerate() {
            let local: Vec<Expr> =
                quals.iter().filter(|q| q.mask == 1 << i).map(|q| shift(&q.expr, -(leaf.offset as isize))).collect();
            let lneeded: Vec<bool> = needed[leaf.offset..leaf.offset + leaf.width].to_vec();
            match leaf.lp {
                LogicalPlan::Scan(scan) => {
                    // Equality join quals usable by a parameterized path: `col = <outer expr>`.
                    let mut join_quals = Vec::new();
                    for q in &quals {
                        if q.mask & (1 << i) == 0 || q.mask.count_ones() < 2 {
                            continue;
                        }
                        if let Some((col, other)) = equi_side(&q.expr, &leaves, i) {
                            join_quals.push((
                                col - leaf.offset,
                                other.clone(),
                                mask_of(other, &leaves),
                                q.expr.clone(),
                            ));
                        }
                    }
                    let (cand, params) = self.plan_scan(scan, &local, &lneeded, &join_quals, leaf.offset, width)?;
                    scan_leaves.push(Some((scan, local.clone())));
                    leaf_stats.push(scan.table.stats.clone().map(|s| (s, cand.plan.rows)));
                    base.push(cand);
                    param_scans.push(params);
                }
                other => {
                    let mut lreq = lneeded.clone();
                    for q in &local {
                        mark_columns(q, &mut lreq);
                    }
                    let mut planned = self.plan(other, &lreq)?;
                    if let Some(pred) = Expr::conjunction(local) {
                        planned = self.filter(planned, &pred)?;
                    }
                    let mut map = vec![None; width];
                    for (k, m) in planned.map.iter().enumerate() {
                        map[leaf.offset + k] = *m;
                    }
                    leaf_stats.push(None);
                    scan_leaves.push(None);
                    base.push(Cand { plan: planned.plan, map });
                    param_scans.push(Vec::new());
                }
            }
        }
        let col_info = |g: usize| -> Option<ColInfo<'_>> {
            let l = leaf_of(&leaves, g)?;
            let (stats, _) = leaf_stats[l].as_ref()?;
            let s: Option<&ColumnStats> = stats.columns.get(g - leaves[l].offset).and_then(|c| c.as_ref());
            Some(ColInfo { stats: s, rel_rows: stats.row_count })
        };
        let n = leaves.len();
        let full: u64 = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
        let mut best: HashMap<u64, Cand> = HashMap::new();
        for (i, c) in base.iter().enumerate() {
            best.insert(1 << i, c.clone());
        }
        let mut rows_cache: HashMap<u64, f64> = HashMap::new();
        let mut rows_of = |mask: u64, best: &HashMap<u64, Cand>| -> f64 {
            if let Some(r) = rows_cache.get(&mask) {
                return *r;
            }
            let mut r: f64 = (0..n).filter(|i| mask & (1 << i) != 0).map(|i| base[i].plan.rows).product();
            for q in &quals {
                if q.mask & mask == q.mask && q.mask.count_ones() >= 2 && q.class.is_none() {
                    let derived: f64 = q.derived.iter().map(|d| cost::selectivity(d, &col_info)).product();
                    r *= (cost::selectivity(&q.expr, &col_info) / derived.max(1e-10)).min(1.0);
                }
            }
            // A class of k relations equal on one key: the product of their rows divided by
            // all distinct counts but the smallest (1/max(d1, d2) for two, as join_eq_sel).
            for class in &classes {
                let mut distinct: Vec<f64> = Vec::new();
                let mut seen = 0u64;
                for &c in class {
                    let Some(l) = leaf_of(&leaves, c) else { continue };
                    if mask & (1 << l) != 0 && seen & (1 << l) == 0 {
                        seen |= 1 << l;
                        distinct.push(col_info(c).map_or(cost::DEFAULT_NUM_DISTINCT, |ci| ci.n_distinct()).max(1.0));
                    }
                }
                distinct.sort_by(f64::total_cmp);
                for d in distinct.iter().skip(1) {
                    r /= d;
                }
            }
            let _ = best;
            let r = r.max(1.0);
            rows_cache.insert(mask, r);
            r
        };
        if n <= DP_LIMIT {
            for size in 2..=n {
                for set in subsets_of_size(n, size) {
                    let mut sub = (set - 1) & set;
                    while sub > 0 {
                        let other = set ^ sub;
                        if let (Some(o), Some(inn)) = (best.get(&sub), best.get(&other)) {
                            let connecting: Vec<&Qual> = quals
                                .iter()
                                .filter(|q| q.mask & set == q.mask && q.mask & sub != 0 && q.mask & other != 0)
                                .collect();
                            let connecting = drop_redundant(connecting, &quals, sub, other);
                            {
                                let rows = rows_of(set, &best);
                                let pscans = if other.count_ones() == 1 {
                                    &param_scans[other.trailing_zeros() as usize]
                                } else {
                                    &Vec::new()
                                };
                                let bound = best.get(&set).map_or(f64::INFINITY, |b| b.plan.cost.total);
                                let mut cands = self.join_candidates(
                                    o,
                                    inn,
                                    sub,
                                    other,
                                    &connecting,
                                    &leaves,
                                    rows,
                                    pscans,
                                    bound,
                                )?;
                                if size == 2 {
                                    let (a, b) = (sub.trailing_zeros() as usize, other.trailing_zeros() as usize);
                                    if let (Some(sa), Some(sb)) = (&scan_leaves[a], &scan_leaves[b]) {
                                        let jl = (&leaves[a], sa.0, sa.1.as_slice());
                                        let jr = (&leaves[b], sb.0, sb.1.as_slice());
                                        if let Some(c) = self.pushdown_join(jl, jr, &connecting, &needed, width)? {
                                            cands.push(c);
                                        }
                                    }
                                }
                                for c in cands {
                                    let better = best.get(&set).is_none_or(|b| c.plan.cost.total < b.plan.cost.total);
                                    if better {
                                        best.insert(set, c);
                                    }
                                }
                            }
                        }
                        sub = (sub - 1) & set;
                    }
                    // Three or more base relations of one wrapper joined by it (remote_join.rs).
                    if size >= 3 {
                        let members: Vec<_> = (0..n)
                            .filter(|i| set & (1 << i) != 0)
                            .map(|i| (leaves[i].offset, scan_leaves[i].as_ref().map(|(s, q)| (*s, q.as_slice()))))
                            .collect();
                        let inside: Vec<(&Expr, bool)> = quals
                            .iter()
                            .filter(|q| q.mask & set == q.mask && q.mask.count_ones() >= 2)
                            .map(|q| (&q.expr, q.implied))
                            .collect();
                        if let Some((plan, map)) = self.pushdown_join_set(&members, &inside, &needed, width)? {
                            if best.get(&set).is_none_or(|b| plan.cost.total < b.plan.cost.total) {
                                best.insert(set, Cand { plan, map });
                            }
                        }
                    }
                }
            }
        } else {
            // Greedy: start from the smallest relation, repeatedly add the leaf whose join is
            // cheapest, preferring leaves connected by a qual.
            let start = (0..n).min_by(|a, b| base[*a].plan.rows.total_cmp(&base[*b].plan.rows)).unwrap_or(0);
            let mut cur_mask = 1u64 << start;
            let mut cur = base[start].clone();
            while cur_mask != full {
                let mut choice: Option<(u64, Cand)> = None;
                let any_connected = (0..n).filter(|i| cur_mask & (1 << i) == 0).any(|i| {
                    quals
                        .iter()
                        .any(|q| q.mask & (1 << i) != 0 && q.mask & cur_mask != 0 && q.mask & !(cur_mask | 1 << i) == 0)
                });
                for i in 0..n {
                    let bit = 1u64 << i;
                    if cur_mask & bit != 0 {
                        continue;
                    }
                    let set = cur_mask | bit;
                    let connecting: Vec<&Qual> = quals
                        .iter()
                        .filter(|q| q.mask & set == q.mask && q.mask & bit != 0 && q.mask & cur_mask != 0)
                        .collect();
                    let connecting = drop_redundant(connecting, &quals, cur_mask, bit);
                    if connecting.is_empty() && any_connected {
                        continue;
                    }
                    let rows = rows_of(set, &best);
                    let bound = choice.as_ref().map_or(f64::INFINITY, |(_, b)| b.plan.cost.total);
                    let cands = self.join_candidates(
                        &cur,
                        &base[i],
                        cur_mask,
                        bit,
                        &connecting,
                        &leaves,
                        rows,
                        &param_scans[i],
                        bound,
                    )?;
                    for c in cands {
                        if choice.as_ref().is_none_or(|(_, b)| c.plan.cost.total < b.plan.cost.total) {
                            choice = Some((bit, c));
                        }
                    }
                }
                let (bit, c) = choice.ok_or_else(|| FdwError::internal("greedy join search found no join"))?;
                cur_mask |= bit;
                cur = c;
            }
            best.insert(full, cur);
        }
        let mut top = best.remove(&full).ok_or_else(|| FdwError::internal("join search produced no plan"))?;
        // Quals without column references (constant or parameter-only) apply on top.
        let consts: Vec<Expr> = quals.iter().filter(|q| q.mask == 0).map(|q| q.expr.clone()).collect();
        if let Some(pred) = Expr::conjunction(consts) {
            let planned = self.filter(Planned { plan: top.plan, map: top.map.clone() }, &pred)?;
            top.plan = planned.plan;
        }
        Ok(Planned { plan: top.plan, map: top.map })
    }

    /// A join of two base relations computed by their wrapper (postgres_fdw's remote join),
    /// if the wrapper offers one. Only for inner joins: every qual of both relations and of the
    /// join goes to the wrapper, which must ship all of them or offer nothing.
    fn pushdown_join(
        &mut self,
        (la, a, aq): (&Leaf<'_>, &ScanRel, &[Expr]),
        (lb, b, bq): (&Leaf<'_>, &ScanRel, &[Expr]),
        connecting: &[&Qual],
        needed: &[bool],
        global_width: usize,
    ) -> FdwResult<Option<Cand>> {
        if a.routine.name() != b.routine.name() || a.want_row_id || b.want_row_id {
            return Ok(None);
        }
        let Some(pd) = a.routine.pushdown_routine() else { return Ok(None) };
        if aq.iter().chain(bq).chain(connecting.iter().map(|q| &q.expr)).any(|q| q.is_volatile() || q.has_subplan()) {
            return Ok(None);
        }
        let na = a.table.columns.len();
        // Quals over (a's columns ++ b's columns).
        let to_local =
            |g: usize| if g >= lb.offset && g < lb.offset + lb.width { g - lb.offset + na } else { g - la.offset };
        let mut quals: Vec<Expr> = aq.to_vec();
        quals.extend(bq.iter().map(|q| shift(q, na as isize)));
        for q in connecting {
            quals.push(q.expr.clone().transform(&mut |x| match x {
                Expr::Column { index, ty } => Expr::Column { index: to_local(index), ty },
                other => other,
            }));
        }
        let info = fdw_api::JoinRelInfo {
            kind: fdw_api::JoinKind::Inner,
            outer: vec![a.table.clone()],
            inner: vec![b.table.clone()],
            quals,
        };
        let rels = [(la.offset, a, 0), (lb.offset, b, na)];
        let Some((path, columns, map, output)) =
            super::remote_join::pushed_join(pd, &info, &rels, needed, global_width)?
        else {
            return Ok(None);
        };
        let node = Node::ForeignScan(ScanNode::pushed(a.routine.clone(), a.table.clone(), columns, path.clone()));
        Ok(Some(Cand { plan: make(node, output, path.cost, path.rows), map }))
    }

    /// Wraps a planned node in a Filter (quals over its logical layout).
    fn filter(&mut self, p: Planned, pred: &Expr) -> FdwResult<Planned> {
        let pred = remap(pred, &p.map)?;
        let sel = cost::selectivity(&pred, &|_| None);
        let rows = p.plan.rows * sel;
        let c = p.plan.cost;
        let cost = Cost::new(c.startup, c.total + expr_cost(cost::expr_ops(&pred), p.plan.rows));
        let output = p.plan.output.clone();
        Ok(Planned {
            plan: make(Node::Filter { input: Box::new(p.plan), predicate: pred }, output, cost, rows),
            map: p.map,
        })
    }

    /// Plans a base relation: asks the wrapper for its size and paths, keeps the cheapest
    /// unparameterized one, and the parameterized ones for nested loops.
    fn plan_scan(
        &mut self,
        scan: &ScanRel,
        quals: &[Expr],
        needed: &[bool],
        join_quals: &[(usize, Expr, u64, Expr)],
        offset: usize,
        global_width: usize,
    ) -> FdwResult<(Cand, Vec<ParamScan>)> {
        let ncols = scan.table.columns.len();
        let (pushed, local): (Vec<Expr>, Vec<Expr>) = quals.iter().cloned().partition(pushable);
        // Parameterized quals: `col = $p`, with $p set from the outer row.
        let mut jq_exprs = Vec::new();
        let mut jq_params = Vec::new();
        for (col, other, mask, source) in join_quals {
            let ty = scan.table.columns[*col].ty.clone();
            let pid = self.alloc_internal_param();
            jq_exprs.push(Expr::Binary {
                op: BinaryOp::Eq,
                left: Box::new(Expr::Column { index: *col, ty: ty.clone() }),
                right: Box::new(Expr::Param { index: pid, ty }),
                ty: DataType::Bool,
            });
            jq_params.push((pid, other.clone(), *mask, source.clone()));
        }
        let needed_cols: Vec<usize> = (0..ncols).filter(|c| needed.get(*c).copied().unwrap_or(false)).collect();
        let rel = RelInfo {
            table: scan.table.clone(),
            quals: pushed.clone(),
            join_quals: jq_exprs.clone(),
            needed_columns: needed_cols.clone(),
            useful_orders: self.wanted_order.clone().into_iter().collect(),
            max_parallel_workers: self.settings.max_parallel_workers,
        };
        let size = scan.routine.get_rel_size(&rel)?;
        let paths = scan.routine.get_paths(&rel, &size)?;
        if paths.is_empty() {
            return Err(err!(
                FDW_ERROR,
                "foreign-data wrapper {} offered no access path for \"{}\"",
                scan.routine.name(),
                scan.table.name
            ));
        }
        let stats = scan.table.stats.clone();
        let total_rows = stats.as_ref().map(|s| s.row_count).unwrap_or(size.total_rows).max(1.0);
        let col_info = |c: usize| -> Option<ColInfo<'_>> {
            let s = stats.as_ref()?;
            Some(ColInfo { stats: s.columns.get(c).and_then(|x| x.as_ref()), rel_rows: s.row_count })
        };
        let sel = cost::clauselist_selectivity(quals, &col_info);
        let rows = if stats.is_some() {
            total_rows * sel
        } else {
            size.rows.max(1.0).min(total_rows * sel.max(0.0)).max(size.rows.min(total_rows * sel))
        };
        let rows = rows.max(1.0);
        let wanted = self.wanted_order.take();
        let mut best: Option<(f64, Cand)> = None;
        let mut params = Vec::new();
        for path in &paths {
            let cand =
                self.scan_plan(scan, path, &pushed, &local, needed, &jq_exprs, offset, global_width, rows, &col_info)?;
            if path.param_quals.is_empty() {
                // A path delivering the wanted order saves the sort above it.
                let sorted =
                    wanted.as_ref().is_some_and(|w| path.pathkeys.len() >= w.len() && path.pathkeys[..w.len()] == **w);
                let penalty = if wanted.is_some() && !sorted { cost::sort_cost(rows) } else { 0.0 };
                let effective = cand.plan.cost.total + penalty;
                if best.as_ref().is_none_or(|(b, _)| effective < *b) {
                    best = Some((effective, cand));
                }
            } else {
                let mut outer_mask = 0;
                let mut ps = Vec::new();
                let mut enforced = Vec::new();
                for &k in &path.param_quals {
                    let (pid, other, mask, source) = &jq_params[k];
                    outer_mask |= mask;
                    ps.push((*pid, other.clone()));
                    enforced.push(source.clone());
                }
                params.push(ParamScan { cand, outer_mask, params: ps, enforced });
            }
        }
        let (_, best) = best.ok_or_else(|| {
            err!(
                FDW_ERROR,
                "foreign-data wrapper {} offered no unparameterized path for \"{}\"",
                scan.routine.name(),
                scan.table.name
            )
        })?;
        Ok((best, params))
    }

    fn scan_plan<'c>(
        &mut self,
        scan: &ScanRel,
        path: &ForeignPath,
        pushed: &[Expr],
        local: &[Expr],
        needed: &[bool],
        jq_exprs: &[Expr],
        offset: usize,
        global_width: usize,
        rows: f64,
        col_info: &dyn Fn(usize) -> Option<ColInfo<'c>>,
    ) -> FdwResult<Cand> {
        let ncols = scan.table.columns.len();
        let mut filter = local.to_vec();
        let mut enforced = Vec::new();
        for (i, q) in pushed.iter().enumerate() {
            match path.qual_support.get(i).copied().unwrap_or(QualSupport::Unsupported) {
                QualSupport::Exact => enforced.push(q.clone()),
                QualSupport::Inexact => {
                    enforced.push(q.clone());
                    filter.push(q.clone());
                }
                QualSupport::Unsupported => filter.push(q.clone()),
            }
        }
        // Columns the scan returns: the needed ones plus those the local filter reads.
        let mut want: Vec<bool> = (0..ncols).map(|c| needed.get(c).copied().unwrap_or(false)).collect();
        for q in &filter {
            mark_columns(q, &mut want);
        }
        let columns: Vec<usize> = (0..ncols).filter(|c| want[*c]).collect();
        let mut local_map = vec![None; ncols + 1];
        for (pos, c) in columns.iter().enumerate() {
            local_map[*c] = Some(pos);
        }
        if scan.want_row_id {
            local_map[ncols] = Some(columns.len());
        }
        let filter_expr = match Expr::conjunction(filter.clone()) {
            Some(f) => Some(remap(&f, &local_map)?),
            None => None,
        };
        let param_quals: Vec<Expr> = path.param_quals.iter().map(|&k| jq_exprs[k].clone()).collect();
        let mut param_ids = Vec::new();
        for q in enforced.iter().chain(&param_quals).chain(filter_expr.iter()) {
            q.walk(&mut |e| {
                if let Expr::Param { index, .. } = e {
                    if !param_ids.contains(index) {
                        param_ids.push(*index);
                    }
                }
            });
        }
        let q = scan.alias.clone().unwrap_or_else(|| scan.relation.clone());
        let mut output: Vec<OutputColumn> = columns
            .iter()
            .map(|&c| OutputColumn {
                name: format!("{q}.{}", scan.table.columns[c].name),
                ty: scan.table.columns[c].ty.clone(),
            })
            .collect();
        if scan.want_row_id {
            output.push(OutputColumn { name: format!("{q}.ctid"), ty: DataType::Int8 });
        }
        let request = ScanRequest {
            table: scan.table.clone(),
            columns,
            quals: enforced,
            param_quals: param_quals.clone(),
            want_row_id: scan.want_row_id,
            path: path.clone(),
            limit: None,
        };
        let out_rows = if param_quals.is_empty() {
            rows
        } else {
            // Rows per outer row: the table's rows times the selectivity of `col = value`.
            let psel: f64 = param_quals
                .iter()
                .map(|pq| match pq {
                    Expr::Binary { left, .. } => match &**left {
                        Expr::Column { index, .. } => {
                            1.0 / col_info(*index).map(|c| c.n_distinct()).unwrap_or(cost::DEFAULT_NUM_DISTINCT)
                        }
                        _ => cost::DEFAULT_EQ_SEL,
                    },
                    _ => cost::DEFAULT_EQ_SEL,
                })
                .product();
            (rows * psel).max(1.0).min(path.rows.max(1.0))
        };
        let filter_cost = filter_expr.as_ref().map_or(0.0, |f| expr_cost(cost::expr_ops(f), path.rows));
        let cost = Cost::new(path.cost.startup, path.cost.total + filter_cost);
        let node = Node::ForeignScan(ScanNode {
            wrapper: scan.routine.clone(),
            request,
            relation: scan.relation.clone(),
            alias: scan.alias.clone(),
            filter: filter_expr,
            param_ids,
        });
        let plan = make(node, output, cost, out_rows);
        let mut map = vec![None; global_width];
        for (c, m) in local_map.iter().enumerate() {
            if offset + c < global_width {
                map[offset + c] = *m;
            }
        }
        Ok(Cand { plan, map })
    }

    /// The cheapest join plan for outer set `om` and inner set `im` whose total cost is below
    /// `bound` (the best plan known for the set), if any. Every method is costed first and
    /// only the winner is built: building clones both inputs, which the join search would
    /// otherwise do for every candidate of every pair of subsets.
    #[allow(clippy::too_many_arguments)]
    fn join_candidates(
        &mut self,
        outer: &Cand,
        inner: &Cand,
        om: u64,
        im: u64,
        connecting: &[&Qual],
        leaves: &[Leaf<'_>],
        rows: f64,
        pscans: &[ParamScan],
        bound: f64,
    ) -> FdwResult<Vec<Cand>> {
        enum Method {
            Hash,
            Merge,
            NestLoop,
            Param(usize),
        }
        let (o, i) = (&outer.plan, &inner.plan);
        let nq = connecting.len().max(1);
        // Equi-join keys (over the global layout; remapped once the method is chosen).
        let mut equi = Vec::new();
        let mut residual = Vec::new();
        for q in connecting {
            match split_equi(&q.expr, leaves, om, im) {
                Some(pair) => equi.push(pair),
                None => residual.push(q.expr.clone()),
            }
        }
        let nkeys = equi.len();
        let residual_cost = match Expr::conjunction(residual.clone()) {
            Some(r) => expr_cost(cost::expr_ops(&r), rows),
            None => 0.0,
        };
        // (method, startup, total), in the order ties are broken.
        let mut costed: Vec<(Method, f64, f64)> = Vec::new();
        if nkeys > 0 && self.settings.enable_hashjoin {
            let startup = i.cost.total + tuple_cost(i.rows) + expr_cost(nkeys, i.rows) + o.cost.startup;
            let total =
                startup + (o.cost.total - o.cost.startup) + expr_cost(nkeys, o.rows) + residual_cost + tuple_cost(rows);
            costed.push((Method::Hash, startup, total));
        }
        if nkeys > 0 && self.settings.enable_mergejoin {
            let (so, si) = (sorted_cost(o), sorted_cost(i));
            let startup = so.startup + si.startup;
            let total = so.total + si.total + expr_cost(nkeys, o.rows + i.rows) + residual_cost + tuple_cost(rows);
            costed.push((Method::Merge, startup, total));
        }
        // `enable_nestloop = off` rules out nested loops of both kinds (plain and over a
        // parameterized inner scan) unless nothing else can join the two sides.
        let nestloop_ok = self.settings.enable_nestloop || costed.is_empty();
        if nestloop_ok {
            let mat_total = if matches!(i.node, Node::Values { .. } | Node::Materialize { .. }) {
                i.cost.total
            } else {
                i.cost.total + tuple_cost(i.rows) * 0.5
            };
            let total = o.cost.total
                + mat_total
                + (o.rows - 1.0).max(0.0) * CPU_OPERATOR_COST * i.rows
                + CPU_OPERATOR_COST * nq as f64 * o.rows * i.rows
                + tuple_cost(rows);
            costed.push((Method::NestLoop, o.cost.startup, total));
        }
        for (k, ps) in pscans.iter().enumerate() {
            if !nestloop_ok || ps.outer_mask & !om != 0 || ps.outer_mask == 0 {
                continue;
            }
            let pi = &ps.cand.plan;
            let total = o.cost.total
                + o.rows * pi.cost.total
                + CPU_OPERATOR_COST * nq as f64 * o.rows * pi.rows
                + tuple_cost(rows);
            costed.push((Method::Param(k), o.cost.startup, total));
        }
        let mut winner: Option<(Method, f64, f64)> = None;
        for c in costed {
            if c.2 < winner.as_ref().map_or(bound, |w| w.2) {
                winner = Some(c);
            }
        }
        let Some((method, startup, total)) = winner else { return Ok(Vec::new()) };
        let cost = Cost::new(startup, total);
        let output: Vec<OutputColumn> = o.output.iter().chain(&i.output).cloned().collect();
        let joined_map = concat_maps(outer, inner);
        let keys = |side: &Cand, pick: fn(&(Expr, Expr)) -> &Expr| -> FdwResult<Vec<Expr>> {
            equi.iter().map(|pair| remap(pick(pair), &side.map)).collect()
        };
        let residual_expr = match Expr::conjunction(residual) {
            Some(r) => Some(remap(&r, &joined_map)?),
            None => None,
        };
        let plan = match method {
            Method::Hash => {
                let node = Node::HashJoin {
                    outer: Box::new(o.clone()),
                    inner: Box::new(i.clone()),
                    join_type: JoinType::Inner,
                    outer_keys: keys(outer, |p| &p.0)?,
                    inner_keys: keys(inner, |p| &p.1)?,
                    qual: residual_expr,
                    build_outer: false,
                };
                make(node, output, cost, rows)
            }
            Method::Merge => {
                let (okeys, ikeys) = (keys(outer, |p| &p.0)?, keys(inner, |p| &p.1)?);
                let (so, si) = (self.sorted(o.clone(), &okeys), self.sorted(i.clone(), &ikeys));
                let node = Node::MergeJoin {
                    outer: Box::new(so),
                    inner: Box::new(si),
                    join_type: JoinType::Inner,
                    outer_keys: okeys,
                    inner_keys: ikeys,
                    qual: residual_expr,
                };
                make(node, output, cost, rows)
            }
            Method::NestLoop => {
                // Plain nested loop over a materialized inner side.
                let mat_cost = Cost::new(i.cost.startup, i.cost.total + tuple_cost(i.rows) * 0.5);
                let inner_plan = if matches!(i.node, Node::Values { .. } | Node::Materialize { .. }) {
                    i.clone()
                } else {
                    make(Node::Materialize { input: Box::new(i.clone()) }, i.output.clone(), mat_cost, i.rows)
                };
                let all_qual = match Expr::conjunction(connecting.iter().map(|q| q.expr.clone()).collect()) {
                    Some(q) => Some(remap(&q, &joined_map)?),
                    None => None,
                };
                let node = Node::NestedLoop {
                    outer: Box::new(o.clone()),
                    inner: Box::new(inner_plan),
                    join_type: JoinType::Inner,
                    qual: all_qual,
                    params: Vec::new(),
                };
                make(node, output, cost, rows)
            }
            Method::Param(k) => {
                // Nested loop with a parameterized inner scan (an index lookup per outer row).
                let ps = &pscans[k];
                let params: Vec<(usize, Expr)> =
                    ps.params.iter().map(|(p, e)| Ok((*p, remap(e, &outer.map)?))).collect::<FdwResult<_>>()?;
                let pi = &ps.cand.plan;
                let map = concat_maps(outer, &ps.cand);
                let rest: Vec<Expr> =
                    connecting.iter().map(|q| q.expr.clone()).filter(|e| !ps.enforced.contains(e)).collect();
                let qual = match Expr::conjunction(rest) {
                    Some(q) => Some(remap(&q, &map)?),
                    None => None,
                };
                let pout: Vec<OutputColumn> = o.output.iter().chain(&pi.output).cloned().collect();
                let node = Node::NestedLoop {
                    outer: Box::new(o.clone()),
                    inner: Box::new(pi.clone()),
                    join_type: JoinType::Inner,
                    qual,
                    params,
                };
                return Ok(vec![Cand { plan: make(node, pout, cost, rows), map }]);
            }
        };
        Ok(vec![Cand { plan, map: joined_map }])
    }

    /// Sorts a plan ascending on `keys` (for a merge join).
    fn sorted(&mut self, p: Plan, keys: &[Expr]) -> Plan {
        let rows = p.rows;
        let cost = sorted_cost(&p);
        let output = p.output.clone();
        let keys = keys.iter().map(|k| SortKey { expr: k.clone(), descending: false, nulls_first: false }).collect();
        make(Node::Sort { input: Box::new(p), keys }, output, cost, rows)
    }

    pub(super) fn alloc_internal_param(&mut self) -> usize {
        let p = self.next_param;
        self.next_param += 1;
        p
    }

    /// A LEFT/RIGHT/FULL join: both sides planned on their own; ON quals that touch only the
    /// nullable side are pushed into it.
    pub(super) fn plan_outer_join(&mut self, lp: &LogicalPlan, req: &[bool]) -> FdwResult<Planned> {
        let LogicalPlan::Join { left, right, join_type, on } = lp else {
            return Err(FdwError::internal("plan_outer_join on a non-join"));
        };
        let lw = left.arity();
        let rw = right.arity();
        let mut conjuncts = on.clone().map(|o| o.split_conjunction()).unwrap_or_default();
        let mut left_only = Vec::new();
        let mut right_only = Vec::new();
        conjuncts.retain(|q| {
            let cols = q.columns();
            if q.has_subplan() || cols.is_empty() {
                return true;
            }
            if matches!(join_type, JoinType::Left | JoinType::Semi | JoinType::Anti) && cols.iter().all(|c| *c >= lw) {
                right_only.push(shift(q, -(lw as isize)));
                return false;
            }
            if *join_type == JoinType::Right && cols.iter().all(|c| *c < lw) {
                left_only.push(q.clone());
                return false;
            }
            true
        });
        let lplan = match Expr::conjunction(left_only) {
            Some(p) => LogicalPlan::Filter { input: left.clone(), predicate: p },
            None => (**left).clone(),
        };
        let rplan = match Expr::conjunction(right_only) {
            Some(p) => LogicalPlan::Filter { input: right.clone(), predicate: p },
            None => (**right).clone(),
        };
        let mut lreq: Vec<bool> = (0..lw).map(|i| req.get(i).copied().unwrap_or(true)).collect();
        let mut rreq: Vec<bool> =
            (0..rw).map(|i| join_type.emits_inner() && req.get(lw + i).copied().unwrap_or(true)).collect();
        for q in &conjuncts {
            for c in q.columns() {
                if c < lw {
                    lreq[c] = true;
                } else if c - lw < rw {
                    rreq[c - lw] = true;
                }
            }
        }
        let l = self.plan(&lplan, &lreq)?;
        let r = self.plan(&rplan, &rreq)?;
        let outer = Cand { plan: l.plan, map: l.map.iter().copied().chain(std::iter::repeat_n(None, rw)).collect() };
        let inner_map: Vec<Option<usize>> = std::iter::repeat_n(None, lw).chain(r.map.iter().copied()).collect();
        let inner = Cand { plan: r.plan, map: inner_map };
        // Expressions of the join see outer ++ inner, whatever the join emits.
        let joined = concat_maps(&outer, &inner);
        let qual_map = joined.clone();
        let (o, i) = (&outer.plan, &inner.plan);
        let mut okeys = Vec::new();
        let mut ikeys = Vec::new();
        let mut residual = Vec::new();
        for q in &conjuncts {
            match split_equi_cols(q, lw) {
                Some((a, b)) => {
                    okeys.push(remap(&a, &outer.map)?);
                    ikeys.push(remap(&b, &inner.map)?);
                }
                None => residual.push(q.clone()),
            }
        }
        let residual = match Expr::conjunction(residual) {
            Some(x) => Some(remap(&x, &qual_map)?),
            None => None,
        };
        let sel = if okeys.is_empty() {
            cost::DEFAULT_INEQ_SEL
        } else {
            1.0 / cost::DEFAULT_NUM_DISTINCT.min(i.rows.max(1.0))
        };
        let mut rows = o.rows * i.rows * sel;
        match join_type {
            JoinType::Left => rows = rows.max(o.rows),
            JoinType::Right => rows = rows.max(i.rows),
            JoinType::Full => rows = rows.max(o.rows + i.rows),
            // A semi join keeps each outer row at most once; assume half of them match.
            JoinType::Semi => rows = (o.rows * 0.5).max(1.0).min(rows.max(1.0)),
            JoinType::Anti => rows = (o.rows * 0.5).max(1.0),
            JoinType::Inner => {}
        }
        // Semi and anti joins emit the outer columns only.
        let (output, map): (Vec<OutputColumn>, Vec<Option<usize>>) = if join_type.emits_inner() {
            (o.output.iter().chain(&i.output).cloned().collect(), joined)
        } else {
            (o.output.clone(), outer.map[..lw].to_vec())
        };
        let plan = if !okeys.is_empty() && self.settings.enable_hashjoin {
            // A semi or anti join whose outer side is the smaller one hashes that side.
            let build_outer = !join_type.emits_inner() && o.rows * 2.0 < i.rows;
            let (startup, total) = if build_outer {
                let startup = o.cost.total + tuple_cost(o.rows) + i.cost.total + expr_cost(ikeys.len(), i.rows);
                (startup, startup + tuple_cost(rows))
            } else {
                let startup = i.cost.total + tuple_cost(i.rows);
                (startup, startup + o.cost.total + expr_cost(okeys.len(), o.rows) + tuple_cost(rows))
            };
            let node = Node::HashJoin {
                outer: Box::new(o.clone()),
                inner: Box::new(i.clone()),
                join_type: *join_type,
                outer_keys: okeys,
                inner_keys: ikeys,
                qual: residual,
                build_outer,
            };
            make(node, output, Cost::new(startup, total), rows)
        } else {
            let qual = match Expr::conjunction(conjuncts) {
                Some(x) => Some(remap(&x, &qual_map)?),
                None => None,
            };
            let mat = make(Node::Materialize { input: Box::new(i.clone()) }, i.output.clone(), i.cost, i.rows);
            let total = o.cost.total + i.cost.total + CPU_OPERATOR_COST * o.rows * i.rows + tuple_cost(rows);
            let node = Node::NestedLoop {
                outer: Box::new(o.clone()),
                inner: Box::new(mat),
                join_type: *join_type,
                qual,
                params: Vec::new(),
            };
            make(node, output, Cost::new(o.cost.startup, total), rows)
        };
        Ok(Planned { plan, map })
    }
}

/// `a = b` with `a` over the `om` leaves and `b` over the `im` leaves (either order).
fn split_equi(e: &Expr, leaves: &[Leaf<'_>], om: u64, im: u64) -> Option<(Expr, Expr)> {
    let Expr::Binary { op: BinaryOp::Eq, left, right, .. } = e else { return None };
    if left.has_subplan() || right.has_subplan() {
        return None;
    }
    let (lm, rm) = (mask_of(left, leaves), mask_of(right, leaves));
    if lm == 0 || rm == 0 {
        return None;
    }
    if lm & !om == 0 && rm & !im == 0 {
        Some(((**left).clone(), (**right).clone()))
    } else if lm & !im == 0 && rm & !om == 0 {
        Some(((**right).clone(), (**left).clone()))
    } else {
        None
    }
}

/// Like `split_equi` for a two-input layout split at `lw`.
fn split_equi_cols(e: &Expr, lw: usize) -> Option<(Expr, Expr)> {
    let Expr::Binary { op: BinaryOp::Eq, left, right, .. } = e else { return None };
    if left.has_subplan() || right.has_subplan() {
        return None;
    }
    let (lc, rc) = (left.columns(), right.columns());
    if lc.is_empty() || rc.is_empty() {
        return None;
    }
    if lc.iter().all(|c| *c < lw) && rc.iter().all(|c| *c >= lw) {
        Some(((**left).clone(), (**right).clone()))
    } else if rc.iter().all(|c| *c < lw) && lc.iter().all(|c| *c >= lw) {
        Some(((**right).clone(), (**left).clone()))
    } else {
        None
    }
}

/// For an equality qual with one side a plain column of leaf `i`, that column (global index)
/// and the other side's expression (which must not touch leaf `i`).
fn equi_side<'e>(e: &'e Expr, leaves: &[Leaf<'_>], i: usize) -> Option<(usize, &'e Expr)> {
    let Expr::Binary { op: BinaryOp::Eq, left, right, .. } = e else { return None };
    let bit = 1u64 << i;
    for (a, b) in [(left, right), (right, left)] {
        if let Expr::Column { index, .. } = &**a {
            if leaf_of(leaves, *index) == Some(i)
                && mask_of(b, leaves) & bit == 0
                && !b.has_subplan()
                && !b.columns().is_empty()
            {
                return Some((*index, b));
            }
        }
    }
    None
}

/// Equivalence classes of columns equated by quals `a = b` (plain columns of two leaves, of
/// one type), as PostgreSQL's EquivalenceClasses: for a class spanning three or more leaves,
/// the equalities the quals imply are added (`c = s` and `s = n` give `c = n`, so `c` and `n`
/// can be joined directly, TPC-H Q5) and every equality of the class is marked with it for
/// estimation. Returns the classes (global columns) that were marked.
fn equivalence_classes(quals: &mut Vec<Qual>, leaves: &[Leaf<'_>]) -> Vec<Vec<usize>> {
    fn find(parent: &mut HashMap<usize, usize>, c: usize) -> usize {
        let p = *parent.entry(c).or_insert(c);
        if p == c {
            return c;
        }
        let root = find(parent, p);
        parent.insert(c, root);
        root
    }
    let column_pair = |e: &Expr| -> Option<(usize, usize, DataType)> {
        let Expr::Binary { op: BinaryOp::Eq, left, right, .. } = e else { return None };
        match (&**left, &**right) {
            (Expr::Column { index: a, ty: ta }, Expr::Column { index: b, ty: tb })
                if ta == tb && leaf_of(leaves, *a).is_some() && leaf_of(leaves, *a) != leaf_of(leaves, *b) =>
            {
                Some((*a, *b, ta.clone()))
            }
            _ => None,
        }
    };
    let mut parent: HashMap<usize, usize> = HashMap::new();
    let mut types: HashMap<usize, DataType> = HashMap::new();
    for q in quals.iter() {
        if let Some((a, b, ty)) = column_pair(&q.expr) {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                parent.insert(ra, rb);
            }
            types.insert(a, ty.clone());
            types.insert(b, ty);
        }
    }
    let mut members: Vec<usize> = parent.keys().copied().collect();
    members.sort_unstable();
    let mut by_root: Vec<(usize, Vec<usize>)> = Vec::new();
    for c in members {
        let r = find(&mut parent, c);
        match by_root.iter_mut().find(|(root, _)| *root == r) {
            Some((_, cols)) => cols.push(c),
            None => by_root.push((r, vec![c])),
        }
    }
    let mut classes = Vec::new();
    for (_, cols) in by_root {
        let leaf_mask = cols.iter().filter_map(|c| leaf_of(leaves, *c)).fold(0u64, |m, l| m | 1 << l);
        if leaf_mask.count_ones() < 3 {
            continue;
        }
        let id = classes.len();
        for q in quals.iter_mut() {
            if column_pair(&q.expr).is_some_and(|(a, _, _)| cols.contains(&a)) {
                q.class = Some(id);
            }
        }
        // One column per leaf; an equality between every two leaves not yet equated.
        let mut reps: Vec<usize> = Vec::new();
        for &c in &cols {
            if !reps.iter().any(|r| leaf_of(leaves, *r) == leaf_of(leaves, c)) {
                reps.push(c);
            }
        }
        for (k, &a) in reps.iter().enumerate() {
            for &b in &reps[k + 1..] {
                let pair_mask = (1u64 << leaf_of(leaves, a).unwrap_or(0)) | (1u64 << leaf_of(leaves, b).unwrap_or(0));
                if quals.iter().any(|q| q.class == Some(id) && q.mask == pair_mask) {
                    continue;
                }
                let ty = types.get(&a).cloned().unwrap_or(DataType::Int4);
                let expr = Expr::Binary {
                    op: BinaryOp::Eq,
                    left: Box::new(Expr::Column { index: a, ty: ty.clone() }),
                    right: Box::new(Expr::Column { index: b, ty }),
                    ty: DataType::Bool,
                };
                quals.push(Qual { expr, mask: pair_mask, class: Some(id), implied: true, derived: Vec::new() });
            }
        }
        classes.push(cols);
    }
    classes
}

/// The connecting quals of a join of leaf sets `a` and `b` without the equalities of a class
/// that the others and those applied inside either side already enforce (one equality per
/// class and join, as PostgreSQL generates them; written ones are kept before implied ones).
fn drop_redundant<'q>(connecting: Vec<&'q Qual>, quals: &[Qual], a: u64, b: u64) -> Vec<&'q Qual> {
    if !connecting.iter().any(|q| q.class.is_some()) {
        return connecting;
    }
    fn root(parent: &HashMap<usize, usize>, mut c: usize) -> usize {
        while let Some(&p) = parent.get(&c) {
            if p == c {
                break;
            }
            c = p;
        }
        c
    }
    /// Joins the classes of the two columns of `e`; false if they were one already.
    fn unite(parent: &mut HashMap<usize, usize>, e: &Expr) -> bool {
        let cols = e.columns();
        let (Some(&x), Some(&y)) = (cols.first(), cols.get(1)) else { return true };
        let (rx, ry) = (root(parent, x), root(parent, y));
        if rx == ry {
            return false;
        }
        parent.insert(rx, ry);
        true
    }
    let mut parent: HashMap<usize, usize> = HashMap::new();
    // Equalities applied inside either side hold for its rows.
    for q in quals.iter().filter(|q| q.class.is_some() && (q.mask & a == q.mask || q.mask & b == q.mask)) {
        unite(&mut parent, &q.expr);
    }
    let mut keep = vec![true; connecting.len()];
    for implied in [false, true] {
        for (k, q) in connecting.iter().enumerate() {
            if q.class.is_some() && q.implied == implied {
                keep[k] = unite(&mut parent, &q.expr);
            }
        }
    }
    connecting.into_iter().zip(keep).filter(|(_, k)| *k).map(|(q, _)| q).collect()
}

/// `(a AND x) OR (a AND y)` becomes `a AND (x OR y)`: conjuncts common to every arm of an
/// OR are pulled out (PostgreSQL does this for TPC-H Q19's join clause), so a join qual
/// buried in an OR can drive a hash join.
pub(super) fn factor_or(e: Expr) -> Vec<Expr> {
    let Expr::Binary { op: BinaryOp::Or, .. } = &e else { return vec![e] };
    let mut arms = Vec::new();
    flatten_or(&e, &mut arms);
    let arm_conjuncts: Vec<Vec<Expr>> = arms.into_iter().map(|a| a.clone().split_conjunction()).collect();
    let common: Vec<Expr> = arm_conjuncts[0]
        .iter()
        .filter(|c| !c.is_volatile() && arm_conjuncts[1..].iter().all(|arm| arm.contains(c)))
        .cloned()
        .collect();
    if common.is_empty() {
        return vec![e];
    }
    let mut rest_arms = Vec::new();
    for arm in arm_conjuncts {
        let rest: Vec<Expr> = arm.into_iter().filter(|c| !common.contains(c)).collect();
        match Expr::conjunction(rest) {
            Some(r) => rest_arms.push(r),
            // One arm is just the common part: the OR is implied by it.
            None => return common,
        }
    }
    let mut out = common;
    let or = rest_arms
        .into_iter()
        .reduce(|a, b| Expr::Binary { op: BinaryOp::Or, left: Box::new(a), right: Box::new(b), ty: DataType::Bool })
        .expect("an OR has arms");
    out.push(or);
    out
}

/// For an OR over several relations, the restriction it implies on each relation that every
/// arm restricts: `(a.x = 1 AND b.y = 2) OR (a.x = 3 AND b.y = 4)` implies `a.x = 1 OR a.x =
/// 3` on `a`. PostgreSQL derives these too (TPC-H Q19 and Q7): a scan can then drop rows
/// early, and a hash join hashes only the rows that can match. The OR itself stays at the join.
fn or_restrictions(quals: &mut Vec<Qual>, leaves: &[Leaf<'_>]) {
    let mut added = Vec::new();
    for q in quals.iter_mut() {
        if q.mask.count_ones() < 2 || !matches!(q.expr, Expr::Binary { op: BinaryOp::Or, .. }) {
            continue;
        }
        let mut arms = Vec::new();
        flatten_or(&q.expr, &mut arms);
        let arm_conjuncts: Vec<Vec<Expr>> = arms.into_iter().map(|a| a.clone().split_conjunction()).collect();
        for leaf in (0..leaves.len()).filter(|l| q.mask & (1 << l) != 0) {
            let only_leaf = |c: &&Expr| mask_of(c, leaves) == 1 << leaf && !c.is_volatile();
            let restricted: Option<Vec<Expr>> = arm_conjuncts
                .iter()
                .map(|arm| Expr::conjunction(arm.iter().filter(only_leaf).cloned().collect()))
                .collect();
            let Some(restricted) = restricted else { continue };
            let or = restricted
                .into_iter()
                .reduce(|a, b| Expr::Binary {
                    op: BinaryOp::Or,
                    left: Box::new(a),
                    right: Box::new(b),
                    ty: DataType::Bool,
                })
                .expect("an OR has arms");
            q.derived.push(or.clone());
            added.push(Qual { mask: 1 << leaf, expr: or, class: None, implied: true, derived: Vec::new() });
        }
    }
    quals.extend(added);
}

fn flatten_or<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::Binary { op: BinaryOp::Or, left, right, .. } => {
            flatten_or(left, out);
            flatten_or(right, out);
        }
        other => out.push(other),
    }
}

/// The cost of [`Planner::sorted`] over `p`, without building it.
fn sorted_cost(p: &Plan) -> Cost {
    let startup = p.cost.total + sort_cost(p.rows);
    Cost::new(startup, startup + CPU_OPERATOR_COST * p.rows)
}

fn subsets_of_size(n: usize, k: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let full = 1u64 << n;
    let mut s: u64 = (1u64 << k) - 1;
    while s < full {
        out.push(s);
        let c = s & s.wrapping_neg();
        let r = s + c;
        s = (((r ^ s) >> 2) / c) | r;
    }
    out
}
