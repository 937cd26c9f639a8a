//! Sub-select decorrelation: turning sub-plans evaluated once per outer row into joins.
//!
//! A WHERE conjunct that is
//! - `EXISTS (SELECT ... WHERE inner = outer AND ...)` becomes a semi join (NOT EXISTS: anti
//!   join) on the correlation predicates;
//! - `x IN (SELECT y ...)` becomes a semi join on `x = y` plus the correlation predicates
//!   (NOT IN is left alone: its NULL semantics differ from an anti join);
//! - a comparison with a scalar aggregate sub-select correlated by equalities
//!   (`l_quantity < (SELECT 0.2 * avg(l_quantity) FROM lineitem WHERE l_partkey = p_partkey)`)
//!   becomes a LEFT JOIN with the sub-select grouped by its correlation keys, the comparison
//!   reading the joined aggregate. This is how a query runs in one pass over the inner table
//!   instead of one pass per outer row. `count` aggregates are excluded (an empty group
//!   would read NULL instead of 0).
//!
//! The rewrite runs on the bound logical plan before planning, bottom-up (sub-selects of
//! sub-selects first). Anything outside these shapes keeps its sub-plan.

use fdw_api::{BinaryOp, DataType, Expr, SubLinkKind, UnaryOp};

use crate::bind::logical::{BoundQuery, LCol, LogicalPlan, LogicalSubPlan};
use crate::plan::physical::{AggCall, JoinType};

/// Rewrites every eligible sub-plan of the query into a join.
pub fn decorrelate(q: &mut BoundQuery) {
    let mut subplans = std::mem::take(&mut q.subplans);
    // Sub-selects nested in sub-selects: rewrite their plans first.
    for i in 0..subplans.len() {
        let plan = std::mem::replace(&mut subplans[i].plan, empty());
        let plan = rewrite(plan, &mut subplans);
        subplans[i].plan = plan;
    }
    let plan = std::mem::replace(&mut q.plan, empty());
    q.plan = rewrite(plan, &mut subplans);
    q.subplans = subplans;
}

fn empty() -> LogicalPlan {
    LogicalPlan::Values { rows: Vec::new(), columns: Vec::new() }
}

/// Rewrites Filter nodes of `lp` (recursively).
fn rewrite(lp: LogicalPlan, subplans: &mut [LogicalSubPlan]) -> LogicalPlan {
    let lp = map_children(lp, &mut |c| rewrite(c, subplans));
    let LogicalPlan::Filter { input, predicate } = lp else { return lp };
    let arity = input.arity();
    // Plain conjuncts filter the input first, so the joins made below start from the
    // restricted (and joinable) input, not from a cross product.
    let (with_sub, plain): (Vec<Expr>, Vec<Expr>) =
        predicate.split_conjunction().into_iter().partition(|c| c.has_subplan());
    if with_sub.is_empty() {
        return LogicalPlan::Filter { input, predicate: Expr::conjunction(plain).expect("non-empty predicate") };
    }
    let mut input = match Expr::conjunction(plain) {
        Some(p) => LogicalPlan::Filter { input, predicate: p },
        None => *input,
    };
    let mut keep = Vec::new();
    for conjunct in with_sub {
        match try_join(&input, &conjunct, subplans) {
            Some((joined, residual)) => {
                input = joined;
                if let Some(r) = residual {
                    keep.push(r);
                }
            }
            None => keep.push(conjunct),
        }
    }
    let mut out = match Expr::conjunction(keep) {
        Some(p) => LogicalPlan::Filter { input: Box::new(input), predicate: p },
        None => input,
    };
    // Left joins with grouped sub-selects add columns: trim back to the original ones.
    let cols = out.columns();
    if cols.len() > arity {
        let exprs =
            cols[..arity].iter().enumerate().map(|(i, c)| Expr::Column { index: i, ty: c.ty.clone() }).collect();
        out = LogicalPlan::Project { input: Box::new(out), exprs, columns: cols[..arity].to_vec() };
    }
    out
}

/// Tries to turn one conjunct into a join with `input`; returns the new input and what
/// remains of the conjunct to filter on.
fn try_join(
    input: &LogicalPlan,
    conjunct: &Expr,
    subplans: &mut [LogicalSubPlan],
) -> Option<(LogicalPlan, Option<Expr>)> {
    let (sub, negated) = match conjunct {
        Expr::SubPlan { .. } => (conjunct, false),
        Expr::Unary { op: UnaryOp::Not, expr, .. } if matches!(**expr, Expr::SubPlan { .. }) => (&**expr, true),
        _ => return scalar_agg_join(input, conjunct, subplans),
    };
    let Expr::SubPlan { id, kind, args, lhs, .. } = sub else { return None };
    let sp = &subplans[*id];
    let join_type = match (kind, negated) {
        (SubLinkKind::Exists, false) => JoinType::Semi,
        (SubLinkKind::Exists, true) => JoinType::Anti,
        (SubLinkKind::Any, false) => JoinType::Semi,
        _ => return None,
    };
    let outer_arity = input.arity();
    // Strip the sub-select's projection (EXISTS ignores it; IN needs its first expression).
    let (body, out_expr) = match &sp.plan {
        LogicalPlan::Project { input, exprs, .. } => ((**input).clone(), exprs.first().cloned()),
        LogicalPlan::Distinct { input } => match &**input {
            LogicalPlan::Project { input, exprs, .. } => ((**input).clone(), exprs.first().cloned()),
            _ => return None,
        },
        _ => return None,
    };
    let (inner, corr) = split_correlation(body, &sp.param_ids, subplans)?;
    let mut on = Vec::new();
    for c in corr {
        on.push(bind_params(&c, &sp.param_ids, args, outer_arity)?);
    }
    if *kind == SubLinkKind::Any {
        // `lhs op y`: the test compares Param(test_param) with the sub-select's column 0.
        let test = sp.test.clone()?;
        let out_expr = out_expr?;
        if uses_params(&out_expr, &sp.param_ids) {
            return None;
        }
        let lhs = lhs.as_deref()?.clone();
        let tp = sp.test_param;
        let t = test.transform(&mut |e| match e {
            Expr::Param { index, .. } if index == tp => lhs.clone(),
            Expr::Column { index: 0, .. } => shift(&out_expr, outer_arity),
            other => other,
        });
        on.push(t);
    }
    let on = Expr::conjunction(on);
    let joined = LogicalPlan::Join { left: Box::new(input.clone()), right: Box::new(inner), join_type, on };
    subplans[*id].plan = empty();
    Some((joined, None))
}

/// `expr op (SELECT f(agg) FROM ... WHERE k1 = outer1 AND ...)`: a left join with the
/// sub-select grouped by its correlation keys.
fn scalar_agg_join(
    input: &LogicalPlan,
    conjunct: &Expr,
    subplans: &mut [LogicalSubPlan],
) -> Option<(LogicalPlan, Option<Expr>)> {
    let mut found: Option<(usize, Vec<Expr>)> = None;
    conjunct.walk(&mut |e| {
        if let Expr::SubPlan { id, kind: SubLinkKind::Scalar, args, .. } = e {
            if found.is_none() && !args.is_empty() {
                found = Some((*id, args.clone()));
            }
        }
    });
    let (id, args) = found?;
    let sp = &subplans[id];
    if !sp.correlated {
        return None;
    }
    let LogicalPlan::Project { input: agg, exprs, .. } = &sp.plan else { return None };
    if exprs.len() != 1 {
        return None;
    }
    let LogicalPlan::Aggregate { input: body, group_by, aggs, .. } = &**agg else { return None };
    if !group_by.is_empty()
        || aggs.iter().any(|a| matches!(a.func, fdw_api::AggFunc::Count | fdw_api::AggFunc::CountStar))
    {
        return None;
    }
    if aggs.iter().any(|a| {
        a.args.iter().any(|x| uses_params(x, &sp.param_ids))
            || a.filter.as_ref().is_some_and(|f| uses_params(f, &sp.param_ids))
    }) {
        return None;
    }
    let (inner, corr) = split_correlation((**body).clone(), &sp.param_ids, subplans)?;
    // Every correlation predicate must be `inner_expr = Param`.
    let mut keys = Vec::new();
    let mut outer_keys = Vec::new();
    for c in &corr {
        let Expr::Binary { op: BinaryOp::Eq, left, right, .. } = c else { return None };
        let (inner_e, param_e) = if uses_params(left, &sp.param_ids) { (right, left) } else { (left, right) };
        if uses_params(inner_e, &sp.param_ids) || !param_e.columns().is_empty() {
            return None;
        }
        keys.push((**inner_e).clone());
        outer_keys.push(bind_params(param_e, &sp.param_ids, &args, 0)?);
    }
    if keys.is_empty() {
        return None;
    }
    let nk = keys.len();
    let mut columns: Vec<LCol> = keys.iter().map(|k| LCol::new("?key?", k.data_type())).collect();
    columns.extend(aggs.iter().map(|a| LCol::new("?agg?", a.ret.clone())));
    let aggs: Vec<AggCall> = aggs.clone();
    let grouped = LogicalPlan::Aggregate { input: Box::new(inner), group_by: keys.clone(), aggs, columns };
    // Project: keys, then the sub-select's expression over the aggregates.
    let value = shift(&exprs[0], nk);
    let mut pexprs: Vec<Expr> =
        keys.iter().enumerate().map(|(i, k)| Expr::Column { index: i, ty: k.data_type() }).collect();
    pexprs.push(value.clone());
    let mut pcols: Vec<LCol> = keys.iter().map(|k| LCol::new("?key?", k.data_type())).collect();
    pcols.push(LCol::new("?value?", value.data_type()));
    let right = LogicalPlan::Project { input: Box::new(grouped), exprs: pexprs, columns: pcols };
    let outer_arity = input.arity();
    let on: Vec<Expr> = outer_keys
        .iter()
        .enumerate()
        .map(|(i, ok)| Expr::Binary {
            op: BinaryOp::Eq,
            left: Box::new(ok.clone()),
            right: Box::new(Expr::Column { index: outer_arity + i, ty: keys[i].data_type() }),
            ty: DataType::Bool,
        })
        .collect();
    let joined = LogicalPlan::Join {
        left: Box::new(input.clone()),
        right: Box::new(right),
        join_type: JoinType::Left,
        on: Expr::conjunction(on),
    };
    let value_col = Expr::Column { index: outer_arity + nk, ty: value.data_type() };
    let residual = conjunct.clone().transform(&mut |e| match e {
        Expr::SubPlan { id: i, .. } if i == id => value_col.clone(),
        other => other,
    });
    subplans[id].plan = empty();
    Some((joined, Some(residual)))
}

/// Splits the correlation conjuncts (those reading the sub-select's parameters) off the
/// Filter at the top of `body`. Fails if the parameters are used anywhere else.
fn split_correlation(
    body: LogicalPlan,
    params: &[usize],
    subplans: &[LogicalSubPlan],
) -> Option<(LogicalPlan, Vec<Expr>)> {
    let (inner, corr) = match body {
        LogicalPlan::Filter { input, predicate } => {
            let (corr, rest): (Vec<Expr>, Vec<Expr>) =
                predicate.split_conjunction().into_iter().partition(|c| uses_params(c, params));
            let inner = match Expr::conjunction(rest) {
                Some(p) => LogicalPlan::Filter { input, predicate: p },
                None => *input,
            };
            (inner, corr)
        }
        other => (other, Vec::new()),
    };
    if corr.iter().any(|c| c.has_subplan()) || plan_uses_params(&inner, params, subplans) {
        return None;
    }
    Some((inner, corr))
}

/// Replaces the sub-select's parameters by the outer expressions they stand for, and shifts
/// the sub-select's own columns past the outer ones.
fn bind_params(e: &Expr, params: &[usize], args: &[Expr], outer_arity: usize) -> Option<Expr> {
    let mut ok = true;
    let shifted = shift(e, outer_arity);
    let out = shifted.transform(&mut |x| match x {
        Expr::Param { index, ty } => match params.iter().position(|p| *p == index) {
            Some(i) => args[i].clone(),
            None => {
                ok = false;
                Expr::Param { index, ty }
            }
        },
        other => other,
    });
    ok.then_some(out)
}

fn shift(e: &Expr, by: usize) -> Expr {
    e.clone().transform(&mut |x| match x {
        Expr::Column { index, ty } => Expr::Column { index: index + by, ty },
        other => other,
    })
}

fn uses_params(e: &Expr, params: &[usize]) -> bool {
    let mut found = false;
    e.walk(&mut |x| {
        if let Expr::Param { index, .. } = x {
            found |= params.contains(index);
        }
    });
    found
}

/// Whether any expression of the plan, or of a sub-plan it references, reads `params`.
fn plan_uses_params(lp: &LogicalPlan, params: &[usize], subplans: &[LogicalSubPlan]) -> bool {
    let mut found = false;
    let mut check = |e: &Expr| {
        e.walk(&mut |x| match x {
            Expr::Param { index, .. } if params.contains(index) => found = true,
            Expr::SubPlan { id, .. } => {
                if let Some(sp) = subplans.get(*id) {
                    if plan_uses_params(&sp.plan, params, subplans)
                        || sp.test.as_ref().is_some_and(|t| uses_params(t, params))
                    {
                        found = true;
                    }
                }
            }
            _ => {}
        })
    };
    for_each_expr(lp, &mut check);
    found
}

fn for_each_expr(lp: &LogicalPlan, f: &mut dyn FnMut(&Expr)) {
    match lp {
        LogicalPlan::Scan(_) | LogicalPlan::WorkTable { .. } => {}
        LogicalPlan::RecursiveUnion { base, recursive, .. } => {
            for_each_expr(base, f);
            for_each_expr(recursive, f);
        }
        LogicalPlan::Values { rows, .. } => rows.iter().flatten().for_each(&mut *f),
        LogicalPlan::Filter { input, predicate } => {
            f(predicate);
            for_each_expr(input, f);
        }
        LogicalPlan::Project { input, exprs, .. } => {
            exprs.iter().for_each(&mut *f);
            for_each_expr(input, f);
        }
        LogicalPlan::Join { left, right, on, .. } => {
            if let Some(o) = on {
                f(o);
            }
            for_each_expr(left, f);
            for_each_expr(right, f);
        }
        LogicalPlan::Aggregate { input, group_by, aggs, .. } => {
            group_by.iter().for_each(&mut *f);
            for a in aggs {
                a.args.iter().for_each(&mut *f);
                if let Some(x) = &a.filter {
                    f(x);
                }
            }
            for_each_expr(input, f);
        }
        LogicalPlan::Sort { input, keys } => {
            keys.iter().for_each(|k| f(&k.expr));
            for_each_expr(input, f);
        }
        LogicalPlan::Limit { input, limit, offset } => {
            limit.iter().chain(offset.iter()).for_each(&mut *f);
            for_each_expr(input, f);
        }
        LogicalPlan::Distinct { input } => for_each_expr(input, f),
        LogicalPlan::SetOp { left, right, .. } => {
            for_each_expr(left, f);
            for_each_expr(right, f);
        }
        LogicalPlan::Modify { input, target } => {
            target.returning.iter().flatten().for_each(&mut *f);
            for_each_expr(input, f);
        }
    }
}

/// Applies `f` to each child plan, rebuilding the node.
fn map_children(lp: LogicalPlan, f: &mut dyn FnMut(LogicalPlan) -> LogicalPlan) -> LogicalPlan {
    use LogicalPlan as L;
    match lp {
        L::Scan(_) | L::Values { .. } | L::WorkTable { .. } => lp,
        L::RecursiveUnion { id, base, recursive, all, columns } => {
            L::RecursiveUnion { id, base: Box::new(f(*base)), recursive: Box::new(f(*recursive)), all, columns }
        }
        L::Filter { input, predicate } => L::Filter { input: Box::new(f(*input)), predicate },
        L::Project { input, exprs, columns } => L::Project { input: Box::new(f(*input)), exprs, columns },
        L::Join { left, right, join_type, on } => {
            L::Join { left: Box::new(f(*left)), right: Box::new(f(*right)), join_type, on }
        }
        L::Aggregate { input, group_by, aggs, columns } => {
            L::Aggregate { input: Box::new(f(*input)), group_by, aggs, columns }
        }
        L::Sort { input, keys } => L::Sort { input: Box::new(f(*input)), keys },
        L::Limit { input, limit, offset } => L::Limit { input: Box::new(f(*input)), limit, offset },
        L::Distinct { input } => L::Distinct { input: Box::new(f(*input)) },
        L::SetOp { kind, all, left, right, columns } => {
            L::SetOp { kind, all, left: Box::new(f(*left)), right: Box::new(f(*right)), columns }
        }
        L::Modify { input, target } => L::Modify { input: Box::new(f(*input)), target },
    }
}
