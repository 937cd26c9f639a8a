//! Pushdown of joins of three or more relations, and of ORDER BY + LIMIT, to a wrapper
//! (postgres_fdw's nested join relations and its ORDERED/FINAL upper paths).
//!
//! PostgreSQL builds a foreign join relation from two joinable sides, each a base relation or
//! an already pushed-down join of the same server: `((a JOIN b) JOIN c)`. For inner joins the
//! result does not depend on how the set was split, so the join search asks the wrapper once
//! per set of base relations of one wrapper ([`Planner::pushdown_join_set`]): the tables in
//! the join search's order (the first ones as the outer side, the last one as the inner) and
//! every qual inside the set. An aggregation over such a join goes to the wrapper as a whole
//! ([`inner_join_scans`] flattens its input), and an ORDER BY + LIMIT over a pushed-down join
//! or aggregation becomes the remote query's ([`Planner::pushdown_order_limit`]).

use std::collections::HashMap;

use fdw_api::{Expr, FdwResult};

use super::builder::{make, Planner};
use super::physical::{JoinType, Node, OutputColumn, Plan, ScanNode, SortKey};
use crate::bind::logical::{LogicalPlan, ScanRel};

/// The base relations of a tree of inner joins and filters over scans, in column order, with
/// its join conditions and filters (over the tree's layout, split into conjuncts) added to
/// `quals`. `None` if the tree holds anything else.
pub(super) fn inner_join_scans<'a>(lp: &'a LogicalPlan, quals: &mut Vec<Expr>) -> Option<Vec<&'a ScanRel>> {
    fn walk<'a>(lp: &'a LogicalPlan, offset: usize, scans: &mut Vec<&'a ScanRel>, quals: &mut Vec<Expr>) -> bool {
        let shifted = |e: &Expr| {
            e.clone().transform(&mut |x| match x {
                Expr::Column { index, ty } => Expr::Column { index: index + offset, ty },
                other => other,
            })
        };
        match lp {
            LogicalPlan::Scan(s) => {
                scans.push(s);
                true
            }
            LogicalPlan::Filter { input, predicate } => {
                quals.extend(shifted(predicate).split_conjunction());
                walk(input, offset, scans, quals)
            }
            LogicalPlan::Join { left, right, join_type: JoinType::Inner, on } => {
                if let Some(on) = on {
                    quals.extend(shifted(on).split_conjunction());
                }
                let lw = left.arity();
                walk(left, offset, scans, quals) && walk(right, offset + lw, scans, quals)
            }
            _ => false,
        }
    }
    let mut scans = Vec::new();
    walk(lp, 0, &mut scans, quals).then_some(scans)
}

/// The column equalities among `quals` (`a = b`), as pairs of column numbers.
fn column_equality(e: &Expr) -> Option<(usize, usize)> {
    match e {
        Expr::Binary { op: fdw_api::BinaryOp::Eq, left, right, .. } => match (&**left, &**right) {
            (Expr::Column { index: a, .. }, Expr::Column { index: b, .. }) => Some((*a, *b)),
            _ => None,
        },
        _ => None,
    }
}

impl Planner<'_> {
    /// An inner join of the base relations `members` (offset in the join search's layout,
    /// scan, and its own quals over its columns; `None` for a relation that is not a base
    /// relation) computed by their wrapper, if it offers one. `quals` are the conditions
    /// between them (over the global layout, with whether the join search implied it from an
    /// equivalence class); `needed` the global columns wanted above. Returns the plan and
    /// where each global column lands in its output.
    pub(super) fn pushdown_join_set(
        &mut self,
        members: &[(usize, Option<(&ScanRel, &[Expr])>)],
        quals: &[(&Expr, bool)],
        needed: &[bool],
        global_width: usize,
    ) -> FdwResult<Option<(Plan, Vec<Option<usize>>)>> {
        let mut scans = Vec::with_capacity(members.len());
        for (offset, m) in members {
            let Some((scan, own)) = m else { return Ok(None) };
            scans.push((*offset, *scan, *own));
        }
        let Some((_, first, _)) = scans.first() else { return Ok(None) };
        if scans.len() < 2
            || scans.iter().any(|(_, s, _)| s.want_row_id || s.routine.name() != first.routine.name())
            || scans
                .iter()
                .flat_map(|(_, _, q)| q.iter())
                .chain(quals.iter().map(|(q, _)| *q))
                .any(|q| q.is_volatile() || q.has_subplan())
        {
            return Ok(None);
        }
        let Some(pd) = first.routine.pushdown_routine() else { return Ok(None) };
        // The wrapper's layout: each table's columns, in order.
        let mut starts = Vec::with_capacity(scans.len());
        let mut at = 0;
        for (_, s, _) in &scans {
            starts.push(at);
            at += s.table.columns.len();
        }
        let to_local = |g: usize| -> Option<usize> {
            scans
                .iter()
                .zip(&starts)
                .find_map(|((off, s, _), st)| (g >= *off && g < off + s.table.columns.len()).then(|| g - off + st))
        };
        let relocate = |e: &Expr| -> Option<Expr> {
            let mut ok = true;
            let out = e.clone().transform(&mut |x| match x {
                Expr::Column { index, ty } => match to_local(index) {
                    Some(i) => Expr::Column { index: i, ty },
                    None => {
                        ok = false;
                        Expr::Column { index, ty }
                    }
                },
                other => other,
            });
            ok.then_some(out)
        };
        let mut local_quals = Vec::new();
        for ((_, _, own), st) in scans.iter().zip(&starts) {
            for q in own.iter() {
                local_quals.push(q.clone().transform(&mut |x| match x {
                    Expr::Column { index, ty } => Expr::Column { index: index + st, ty },
                    other => other,
                }));
            }
        }
        // The written conditions, then the implied equalities that connect columns the written
        // ones do not already equate.
        let mut parent: HashMap<usize, usize> = HashMap::new();
        fn root(parent: &HashMap<usize, usize>, mut c: usize) -> usize {
            while let Some(&p) = parent.get(&c) {
                if p == c {
                    break;
                }
                c = p;
            }
            c
        }
        let mut ordered: Vec<&Expr> = quals.iter().filter(|(_, implied)| !implied).map(|(q, _)| *q).collect();
        for q in &ordered {
            if let Some((a, b)) = column_equality(q) {
                let (ra, rb) = (root(&parent, a), root(&parent, b));
                if ra != rb {
                    parent.insert(ra, rb);
                }
            }
        }
        for (q, implied) in quals {
            if !implied {
                continue;
            }
            match column_equality(q) {
                Some((a, b)) => {
                    let (ra, rb) = (root(&parent, a), root(&parent, b));
                    if ra != rb {
                        parent.insert(ra, rb);
                        ordered.push(q);
                    }
                }
                None => ordered.push(q),
            }
        }
        for q in ordered {
            let Some(q) = relocate(q) else { return Ok(None) };
            local_quals.push(q);
        }
        let last = scans.len() - 1;
        let info = fdw_api::JoinRelInfo {
            kind: fdw_api::JoinKind::Inner,
            outer: scans[..last].iter().map(|(_, s, _)| s.table.clone()).collect(),
            inner: vec![scans[last].1.table.clone()],
            quals: local_quals,
        };
        let rels: Vec<(usize, &ScanRel, usize)> =
            scans.iter().zip(&starts).map(|((off, s, _), &st)| (*off, *s, st)).collect();
        let Some((path, columns, map, output)) = pushed_join(pd, &info, &rels, needed, global_width)? else {
            return Ok(None);
        };
        let node =
            Node::ForeignScan(ScanNode::pushed(first.routine.clone(), first.table.clone(), columns, path.clone()));
        Ok(Some((make(node, output, path.cost, path.rows), map)))
    }

    /// ORDER BY `keys` (over `plan`'s output) LIMIT `limit` done by the wrapper of `plan`, a
    /// pushed-down scan (under a projection of its columns) without a local filter, if the
    /// wrapper offers it: the scan with the new path and `ScanRequest::limit`, under the same
    /// projection. The caller keeps its Limit (and OFFSET) above.
    pub(super) fn pushdown_order_limit(&self, plan: &Plan, keys: &[SortKey], limit: u64) -> FdwResult<Option<Plan>> {
        let (scan_plan, project) = match &plan.node {
            Node::ForeignScan(_) => (plan, None),
            Node::Project { input, exprs } if matches!(input.node, Node::ForeignScan(_)) => (&**input, Some(exprs)),
            _ => return Ok(None),
        };
        let Node::ForeignScan(scan) = &scan_plan.node else { return Ok(None) };
        if scan.filter.is_some() || !scan.param_ids.is_empty() || scan.request.limit.is_some() {
            return Ok(None);
        }
        let Some(pd) = scan.wrapper.pushdown_routine() else { return Ok(None) };
        let mut order = Vec::with_capacity(keys.len());
        for k in keys {
            let Expr::Column { index, .. } = &k.expr else { return Ok(None) };
            let at = match project {
                None => *index,
                Some(exprs) => match exprs.get(*index) {
                    Some(Expr::Column { index, .. }) => *index,
                    _ => return Ok(None),
                },
            };
            let Some(&column) = scan.request.columns.get(at) else { return Ok(None) };
            order.push(fdw_api::PathKey { column, descending: k.descending, nulls_first: k.nulls_first });
        }
        let Some(path) = pd.get_final_path(&scan.request, &order, Some(limit))? else { return Ok(None) };
        let mut new_scan = scan.clone();
        new_scan.request.path = path.clone();
        new_scan.request.limit = Some(limit);
        let scan_out = make(Node::ForeignScan(new_scan), scan_plan.output.clone(), path.cost, path.rows);
        Ok(Some(match project {
            None => scan_out,
            Some(exprs) => {
                let node = Node::Project { input: Box::new(scan_out), exprs: exprs.clone() };
                make(node, plan.output.clone(), path.cost, path.rows)
            }
        }))
    }
}

/// The cheapest path the wrapper offers for join `info`, and the layout of its rows: for
/// `rels` (each relation's offset in the global row, its scan, its first column in the join's
/// row), the `needed` columns in order; the positions to return, the global-to-output map and
/// the output columns.
#[allow(clippy::type_complexity)]
pub(super) fn pushed_join(
    pd: &dyn fdw_api::PushdownRoutine,
    info: &fdw_api::JoinRelInfo,
    rels: &[(usize, &ScanRel, usize)],
    needed: &[bool],
    global_width: usize,
) -> FdwResult<Option<(fdw_api::ForeignPath, Vec<usize>, Vec<Option<usize>>, Vec<OutputColumn>)>> {
    let paths = pd.get_join_paths(info)?;
    let Some(path) = paths.into_iter().min_by(|x, y| x.cost.total.total_cmp(&y.cost.total)) else {
        return Ok(None);
    };
    let mut columns = Vec::new();
    let mut map = vec![None; global_width];
    let mut output = Vec::new();
    for &(off, s, start) in rels {
        let q = s.alias.clone().unwrap_or_else(|| s.relation.clone());
        for c in 0..s.table.columns.len() {
            if needed.get(off + c).copied().unwrap_or(false) {
                map[off + c] = Some(columns.len());
                columns.push(start + c);
                output.push(OutputColumn {
                    name: format!("{q}.{}", s.table.columns[c].name),
                    ty: s.table.columns[c].ty.clone(),
                });
            }
        }
    }
    Ok(Some((path, columns, map, output)))
}
