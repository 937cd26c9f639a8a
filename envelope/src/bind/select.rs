//! Binding of queries: WITH, set operations, VALUES, SELECT (FROM, WHERE, GROUP BY, HAVING,
//! the select list, DISTINCT, ORDER BY, LIMIT/OFFSET).
//!
//! A SELECT becomes, bottom-up: FROM (scans and joins) -> Filter (WHERE) -> Aggregate ->
//! Filter (HAVING) -> Project (outputs plus hidden ORDER BY keys) -> Distinct -> Sort ->
//! Project (dropping hidden keys) -> Limit.

use std::collections::HashMap;

use fdw_api::func;
use fdw_api::{err, DataType, Datum, Expr, FdwError, FdwResult};
use sqlparser::ast;

use super::expr::{AggCollector, ExprCtx, AGG_BASE};
use super::logical::{LCol, LogicalPlan, ScanRel};
use super::scope::Scope;
use super::{ident_name, object_name, Binder, CteDef};
use crate::plan::physical::{JoinType, SetOpKind, SortKey};

impl Binder<'_> {
    /// Binds a full query; returns its plan and the scope its output presents to an enclosing
    /// FROM (unqualified; the caller applies the alias).
    pub(crate) fn bind_query(&mut self, q: &ast::Query) -> FdwResult<(LogicalPlan, Scope)> {
        let pushed = match &q.with {
            Some(with) => {
                let mut frame = HashMap::new();
                self.ctes.push(HashMap::new());
                for cte in &with.cte_tables {
                    let name = ident_name(&cte.alias.name);
                    if frame.contains_key(&name) {
                        self.ctes.pop();
                        return Err(err!(DUPLICATE_ALIAS, "WITH query name \"{}\" specified more than once", name));
                    }
                    let bound = if with.recursive && references_relation(&cte.query, &name) {
                        self.bind_recursive_cte(&name, cte)
                    } else {
                        self.bind_query(&cte.query).map(|(plan, _)| {
                            let mut columns = plan.columns();
                            for (i, c) in cte.alias.columns.iter().enumerate() {
                                if let Some(col) = columns.get_mut(i) {
                                    col.name = ident_name(&c.name);
                                }
                            }
                            CteDef { plan, columns }
                        })
                    };
                    let def = match bound {
                        Ok(d) => d,
                        Err(e) => {
                            self.ctes.pop();
                            return Err(e);
                        }
                    };
                    frame.insert(name.clone(), def.clone());
                    if let Some(top) = self.ctes.last_mut() {
                        top.insert(name, def);
                    }
                }
                true
            }
            None => false,
        };
        let result = self.bind_query_body(q);
        if pushed {
            self.ctes.pop();
        }
        let plan = result?;
        let mut scope = Scope::new();
        let cols: Vec<(String, DataType)> = plan.columns().into_iter().map(|c| (c.name, c.ty)).collect();
        scope.add_relation(None, &cols, 0);
        Ok((plan, scope))
    }

    /// `name AS (base UNION [ALL] recursive)` where `recursive` reads `name`.
    fn bind_recursive_cte(&mut self, name: &str, cte: &ast::Cte) -> FdwResult<CteDef> {
        let form_error = || {
            err!(
                INVALID_RECURSION,
                "recursive query \"{}\" does not have the form non-recursive-term UNION [ALL] recursive-term",
                name
            )
        };
        let q = &cte.query;
        if q.order_by.is_some() || q.limit_clause.is_some() || q.with.is_some() {
            return Err(form_error());
        }
        let ast::SetExpr::SetOperation { op: ast::SetOperator::Union, set_quantifier, left, right } = &*q.body else {
            return Err(form_error());
        };
        let all = matches!(set_quantifier, ast::SetQuantifier::All);
        let base = self.bind_set_expr(left)?;
        let mut columns = base.columns();
        for (i, c) in cte.alias.columns.iter().enumerate() {
            if let Some(col) = columns.get_mut(i) {
                col.name = ident_name(&c.name);
            }
        }
        let types: Vec<DataType> =
            columns.iter().map(|c| if c.ty == DataType::Unknown { DataType::Text } else { c.ty.clone() }).collect();
        for (c, t) in columns.iter_mut().zip(&types) {
            c.ty = t.clone();
        }
        let base = self.cast_columns(base, &types, "UNION")?;
        let id = self.next_worktable;
        self.next_worktable += 1;
        let work = CteDef { plan: LogicalPlan::WorkTable { id, columns: columns.clone() }, columns: columns.clone() };
        if let Some(top) = self.ctes.last_mut() {
            top.insert(name.to_string(), work);
        }
        let recursive = self.bind_set_expr(right)?;
        if recursive.arity() != columns.len() {
            return Err(err!(SYNTAX_ERROR, "each UNION query must have the same number of columns"));
        }
        let recursive = self.cast_columns(recursive, &types, "UNION")?;
        let plan = LogicalPlan::RecursiveUnion {
            id,
            base: Box::new(base),
            recursive: Box::new(recursive),
            all,
            columns: columns.clone(),
        };
        Ok(CteDef { plan, columns })
    }

    fn bind_query_body(&mut self, q: &ast::Query) -> FdwResult<LogicalPlan> {
        let order: &[ast::OrderByExpr] = match &q.order_by {
            None => &[],
            Some(ob) => match &ob.kind {
                ast::OrderByKind::Expressions(v) => v,
                ast::OrderByKind::All(_) => return Err(FdwError::feature("ORDER BY ALL is not supported")),
            },
        };
        let mut plan = match &*q.body {
            ast::SetExpr::Select(s) => self.bind_select(s, order)?,
            other => {
                let plan = self.bind_set_expr(other)?;
                if order.is_empty() {
                    plan
                } else {
                    self.order_set_result(plan, order)?
                }
            }
        };
        let (mut limit, mut offset) = (None, None);
        match &q.limit_clause {
            None => {}
            Some(ast::LimitClause::LimitOffset { limit: l, offset: o, limit_by }) => {
                if !limit_by.is_empty() {
                    return Err(FdwError::feature("LIMIT BY is not supported"));
                }
                if let Some(l) = l {
                    limit = self.bind_limit_value(l, "LIMIT")?;
                }
                if let Some(o) = o {
                    offset = self.bind_limit_value(&o.value, "OFFSET")?;
                }
            }
            Some(ast::LimitClause::OffsetCommaLimit { .. }) => {
                return Err(err!(SYNTAX_ERROR, "LIMIT #,# syntax is not supported"));
            }
        }
        if let Some(f) = &q.fetch {
            if f.percent || f.with_ties {
                return Err(FdwError::feature("FETCH ... PERCENT/WITH TIES is not supported"));
            }
            limit = match &f.quantity {
                Some(e) => self.bind_limit_value(e, "LIMIT")?,
                None => Some(Expr::Const { value: Datum::Int8(1), ty: DataType::Int8 }),
            };
        }
        if limit.is_some() || offset.is_some() {
            plan = LogicalPlan::Limit { input: Box::new(plan), limit, offset };
        }
        Ok(plan)
    }

    fn bind_limit_value(&mut self, e: &ast::Expr, what: &'static str) -> FdwResult<Option<Expr>> {
        let scope = Scope::new();
        let mut cx = ExprCtx::new(&scope, what);
        let x = self.bind_expr(e, &mut cx)?;
        if matches!(x, Expr::Const { value: Datum::Null, .. }) {
            return Ok(None); // LIMIT NULL / LIMIT ALL
        }
        Ok(Some(self.coerce(x, &DataType::Int8, what)?))
    }

    /// ORDER BY over the result of a set operation or VALUES: only output columns (by name or
    /// position) or expressions over them.
    fn order_set_result(&mut self, plan: LogicalPlan, order: &[ast::OrderByExpr]) -> FdwResult<LogicalPlan> {
        let cols = plan.columns();
        let mut scope = Scope::new();
        let named: Vec<(String, DataType)> = cols.iter().map(|c| (c.name.clone(), c.ty.clone())).collect();
        scope.add_relation(None, &named, 0);
        let mut keys = Vec::new();
        for o in order {
            let expr = match ordinal(&o.expr) {
                Some(n) => {
                    let c = cols.get(n.wrapping_sub(1)).ok_or_else(|| {
                        err!(INVALID_COLUMN_REFERENCE, "ORDER BY position {} is not in select list", n)
                    })?;
                    Expr::Column { index: n - 1, ty: c.ty.clone() }
                }
                None => {
                    let mut cx = ExprCtx::new(&scope, "ORDER BY");
                    self.bind_expr(&o.expr, &mut cx)?
                }
            };
            keys.push(sort_key(expr, &o.options));
        }
        Ok(LogicalPlan::Sort { input: Box::new(plan), keys })
    }

    pub(crate) fn bind_set_expr(&mut self, body: &ast::SetExpr) -> FdwResult<LogicalPlan> {
        match body {
            ast::SetExpr::Select(s) => self.bind_select(s, &[]),
            ast::SetExpr::Query(q) => Ok(self.bind_query(q)?.0),
            ast::SetExpr::Values(v) => self.bind_values(&v.rows),
            ast::SetExpr::SetOperation { op, set_quantifier, left, right } => {
                let kind = match op {
                    ast::SetOperator::Union => SetOpKind::Union,
                    ast::SetOperator::Intersect => SetOpKind::Intersect,
                    ast::SetOperator::Except | ast::SetOperator::Minus => SetOpKind::Except,
                };
                let all = match set_quantifier {
                    ast::SetQuantifier::All => true,
                    ast::SetQuantifier::Distinct | ast::SetQuantifier::None => false,
                    other => return Err(FdwError::feature(format!("set quantifier {other} is not supported"))),
                };
                let name = match kind {
                    SetOpKind::Union => "UNION",
                    SetOpKind::Intersect => "INTERSECT",
                    SetOpKind::Except => "EXCEPT",
                };
                let l = self.bind_set_expr(left)?;
                let r = self.bind_set_expr(right)?;
                let (lc, rc) = (l.columns(), r.columns());
                if lc.len() != rc.len() {
                    return Err(err!(SYNTAX_ERROR, "each {} query must have the same number of columns", name));
                }
                let mut types = Vec::new();
                for (a, b) in lc.iter().zip(&rc) {
                    let t = func::common_type(&[a.ty.clone(), b.ty.clone()], name)?;
                    types.push(if t == DataType::Unknown { DataType::Text } else { t });
                }
                let l = self.cast_columns(l, &types, name)?;
                let r = self.cast_columns(r, &types, name)?;
                let columns = lc.iter().zip(&types).map(|(c, t)| LCol::new(c.name.clone(), t.clone())).collect();
                Ok(LogicalPlan::SetOp { kind, all, left: Box::new(l), right: Box::new(r), columns })
            }
            other => Err(FdwError::feature(format!("query form not supported: {other}"))),
        }
    }

    /// Adds a projection casting each column to `types` where it differs.
    fn cast_columns(&mut self, plan: LogicalPlan, types: &[DataType], what: &str) -> FdwResult<LogicalPlan> {
        let cols = plan.columns();
        if cols.iter().zip(types).all(|(c, t)| &c.ty == t) {
            return Ok(plan);
        }
        // Literal VALUES rows can be converted in place (keeps unknown literals parseable).
        if let LogicalPlan::Values { rows, columns } = plan {
            let mut out = Vec::new();
            for row in rows {
                let mut r = Vec::new();
                for (e, t) in row.into_iter().zip(types) {
                    r.push(self.coerce(e, t, what)?);
                }
                out.push(r);
            }
            let columns = columns.into_iter().zip(types).map(|(c, t)| LCol::new(c.name, t.clone())).collect();
            return Ok(LogicalPlan::Values { rows: out, columns });
        }
        let mut exprs = Vec::new();
        let mut columns = Vec::new();
        for (i, (c, t)) in cols.iter().zip(types).enumerate() {
            let col = Expr::Column { index: i, ty: c.ty.clone() };
            let e = match &c.ty {
                DataType::Unknown => col,
                _ => self.coerce(col, t, what)?,
            };
            exprs.push(e);
            columns.push(LCol::new(c.name.clone(), t.clone()));
        }
        // Unknown-typed columns (bare literals) are re-typed by coercing their source.
        let plan = retype_unknown(plan, types, self)?;
        Ok(LogicalPlan::Project { input: Box::new(plan), exprs, columns })
    }

    fn bind_values(&mut self, rows: &[Vec<ast::Expr>]) -> FdwResult<LogicalPlan> {
        let scope = Scope::new();
        let mut bound: Vec<Vec<Expr>> = Vec::new();
        for row in rows {
            let mut cx = ExprCtx::new(&scope, "VALUES");
            let r: Vec<Expr> = row.iter().map(|e| self.bind_expr(e, &mut cx)).collect::<FdwResult<_>>()?;
            if let Some(first) = bound.first() {
                if first.len() != r.len() {
                    return Err(err!(SYNTAX_ERROR, "VALUES lists must all be the same length"));
                }
            }
            bound.push(r);
        }
        let width = bound.first().map_or(0, |r| r.len());
        let mut types = Vec::new();
        for c in 0..width {
            let col: Vec<DataType> = bound.iter().map(|r| r[c].data_type()).collect();
            let t = func::common_type(&col, "VALUES")?;
            types.push(if t == DataType::Unknown && bound.len() > 1 { DataType::Text } else { t });
        }
        let mut out = Vec::new();
        for row in bound {
            let mut r = Vec::new();
            for (e, t) in row.into_iter().zip(&types) {
                r.push(self.coerce(e, t, "VALUES")?);
            }
            out.push(r);
        }
        let columns = types.iter().enumerate().map(|(i, t)| LCol::new(format!("column{}", i + 1), t.clone())).collect();
        Ok(LogicalPlan::Values { rows: out, columns })
    }

    fn bind_select(&mut self, s: &ast::Select, order: &[ast::OrderByExpr]) -> FdwResult<LogicalPlan> {
        if s.having.is_some() && s.from.is_empty() && s.projection.is_empty() {
            return Err(err!(SYNTAX_ERROR, "syntax error at or near \"HAVING\""));
        }
        if matches!(s.distinct, Some(ast::Distinct::On(_))) {
            return Err(FdwError::feature("SELECT DISTINCT ON is not supported"));
        }
        // FROM
        let (mut plan, scope) = if s.from.is_empty() {
            (LogicalPlan::Values { rows: vec![vec![]], columns: vec![] }, Scope::new())
        } else {
            let mut acc: Option<(LogicalPlan, Scope)> = None;
            for twj in &s.from {
                let (p, sc) = self.bind_table_with_joins(twj)?;
                acc = Some(match acc {
                    None => (p, sc),
                    Some((lp, mut lsc)) => {
                        let offset = lp.arity();
                        lsc.extend_shifted(&sc, offset);
                        let j = LogicalPlan::Join {
                            left: Box::new(lp),
                            right: Box::new(p),
                            join_type: JoinType::Inner,
                            on: None,
                        };
                        (j, lsc)
                    }
                });
            }
            acc.expect("non-empty FROM")
        };
        // WHERE
        if let Some(w) = &s.selection {
            let mut cx = ExprCtx::new(&scope, "WHERE");
            let pred = self.bind_expr(w, &mut cx)?;
            let pred = self.require_bool(pred, "WHERE")?;
            plan = LogicalPlan::Filter { input: Box::new(plan), predicate: pred };
        }
        // Select list (with aggregates collected).
        let mut collector = AggCollector::default();
        let mut outputs: Vec<(Expr, String)> = Vec::new();
        for item in &s.projection {
            match item {
                ast::SelectItem::Wildcard(_) => {
                    let cols = scope.star(None);
                    if cols.is_empty() && s.from.is_empty() {
                        return Err(err!(SYNTAX_ERROR, "SELECT * with no tables specified is not valid"));
                    }
                    for c in cols {
                        outputs.push((Expr::Column { index: c.index, ty: c.ty.clone() }, c.name.clone()));
                    }
                }
                ast::SelectItem::QualifiedWildcard(kind, _) => {
                    let q = match kind {
                        ast::SelectItemQualifiedWildcardKind::ObjectName(n) => object_name(n)?.1,
                        ast::SelectItemQualifiedWildcardKind::Expr(e) => {
                            return Err(FdwError::feature(format!("wildcard over expression {e}")))
                        }
                    };
                    if !scope.has_qualifier(&q) {
                        return Err(err!(UNDEFINED_TABLE, "missing FROM-clause entry for table \"{}\"", q));
                    }
                    for c in scope.star(Some(&q)) {
                        outputs.push((Expr::Column { index: c.index, ty: c.ty.clone() }, c.name.clone()));
                    }
                }
                ast::SelectItem::UnnamedExpr(e) => {
                    let mut cx = ExprCtx { scope: &scope, agg: Some(&mut collector), clause: "SELECT" };
                    let x = self.bind_expr(e, &mut cx)?;
                    outputs.push((x, output_name(e)));
                }
                ast::SelectItem::ExprWithAlias { expr, alias } => {
                    let mut cx = ExprCtx { scope: &scope, agg: Some(&mut collector), clause: "SELECT" };
                    let x = self.bind_expr(expr, &mut cx)?;
                    outputs.push((x, ident_name(alias)));
                }
            }
        }
        // GROUP BY
        let mut group_by: Vec<Expr> = Vec::new();
        match &s.group_by {
            ast::GroupByExpr::All(_) => return Err(FdwError::feature("GROUP BY ALL is not supported")),
            ast::GroupByExpr::Expressions(exprs, mods) => {
                if !mods.is_empty() {
                    return Err(FdwError::feature("GROUP BY modifiers are not supported"));
                }
                for g in exprs {
                    let e = if let Some(n) = ordinal(g) {
                        let (e, _) = outputs.get(n.wrapping_sub(1)).ok_or_else(|| {
                            err!(INVALID_COLUMN_REFERENCE, "GROUP BY position {} is not in select list", n)
                        })?;
                        if contains_agg(e) {
                            return Err(err!(GROUPING_ERROR, "aggregate functions are not allowed in GROUP BY"));
                        }
                        e.clone()
                    } else {
                        let mut cx = ExprCtx::new(&scope, "GROUP BY");
                        match self.bind_expr(g, &mut cx) {
                            Ok(e) => e,
                            Err(err) if err.sqlstate == fdw_api::SqlState::UNDEFINED_COLUMN => {
                                // PostgreSQL lets GROUP BY name an output column alias.
                                let name = match g {
                                    ast::Expr::Identifier(id) => ident_name(id),
                                    _ => return Err(err),
                                };
                                match outputs.iter().find(|(_, n)| *n == name) {
                                    Some((e, _)) => e.clone(),
                                    None => return Err(err),
                                }
                            }
                            Err(e) => return Err(e),
                        }
                    };
                    if !group_by.contains(&e) {
                        group_by.push(e);
                    }
                }
            }
        }
        // HAVING
        let having = match &s.having {
            Some(h) => {
                let mut cx = ExprCtx { scope: &scope, agg: Some(&mut collector), clause: "HAVING" };
                let e = self.bind_expr(h, &mut cx)?;
                Some(self.require_bool(e, "HAVING")?)
            }
            None => None,
        };
        // ORDER BY keys: output names and positions first, then expressions over the input.
        let distinct = s.distinct.is_some();
        let mut keys: Vec<(usize, &ast::OrderByOptions)> = Vec::new();
        let mut hidden: Vec<Expr> = Vec::new();
        for o in order {
            if let Some(n) = ordinal(&o.expr) {
                if n == 0 || n > outputs.len() {
                    return Err(err!(INVALID_COLUMN_REFERENCE, "ORDER BY position {} is not in select list", n));
                }
                keys.push((n - 1, &o.options));
                continue;
            }
            if let ast::Expr::Identifier(id) = &o.expr {
                let name = ident_name(id);
                let matches: Vec<usize> =
                    outputs.iter().enumerate().filter(|(_, (_, n))| *n == name).map(|(i, _)| i).collect();
                if let Some(&first) = matches.first() {
                    let all_same = matches.iter().all(|&i| outputs[i].0 == outputs[first].0);
                    if !all_same {
                        return Err(err!(AMBIGUOUS_COLUMN, "ORDER BY \"{}\" is ambiguous", name));
                    }
                    keys.push((first, &o.options));
                    continue;
                }
            }
            let mut cx = ExprCtx { scope: &scope, agg: Some(&mut collector), clause: "ORDER BY" };
            let e = self.bind_expr(&o.expr, &mut cx)?;
            if let Some(i) = outputs.iter().position(|(x, _)| *x == e) {
                keys.push((i, &o.options));
            } else {
                if distinct {
                    return Err(err!(
                        INVALID_COLUMN_REFERENCE,
                        "for SELECT DISTINCT, ORDER BY expressions must appear in select list"
                    ));
                }
                let i = outputs.len() + hidden.len();
                hidden.push(e);
                keys.push((i, &o.options));
            }
        }
        let mut exprs: Vec<Expr> = outputs.iter().map(|(e, _)| e.clone()).collect();
        exprs.extend(hidden.iter().cloned());
        let mut having = having;
        // Aggregation.
        if !collector.calls.is_empty() || !group_by.is_empty() || having.is_some() {
            let ngroups = group_by.len();
            let rewrite = |e: Expr| rewrite_grouped(e, &group_by, ngroups, &scope);
            exprs = exprs.into_iter().map(rewrite).collect::<FdwResult<_>>()?;
            having = having.map(rewrite).transpose()?;
            let mut columns: Vec<LCol> = group_by.iter().map(|g| LCol::new("?group?", g.data_type())).collect();
            columns.extend(collector.calls.iter().map(|c| LCol::new("?agg?", c.ret.clone())));
            plan = LogicalPlan::Aggregate { input: Box::new(plan), group_by, aggs: collector.calls, columns };
            if let Some(h) = having {
                plan = LogicalPlan::Filter { input: Box::new(plan), predicate: h };
            }
        }
        let mut columns: Vec<LCol> = outputs.iter().map(|(e, n)| LCol::new(n.clone(), e.data_type())).collect();
        let visible = columns.len();
        columns.extend(hidden.iter().map(|e| LCol::new("?sort?", e.data_type())));
        plan = LogicalPlan::Project { input: Box::new(plan), exprs, columns: columns.clone() };
        if distinct {
            plan = LogicalPlan::Distinct { input: Box::new(plan) };
        }
        if !keys.is_empty() {
            let keys = keys
                .into_iter()
                .map(|(i, opts)| sort_key(Expr::Column { index: i, ty: columns[i].ty.clone() }, opts))
                .collect();
            plan = LogicalPlan::Sort { input: Box::new(plan), keys };
        }
        if columns.len() > visible {
            let exprs = (0..visible).map(|i| Expr::Column { index: i, ty: columns[i].ty.clone() }).collect();
            columns.truncate(visible);
            plan = LogicalPlan::Project { input: Box::new(plan), exprs, columns };
        }
        Ok(plan)
    }

    pub(crate) fn require_bool(&mut self, e: Expr, clause: &str) -> FdwResult<Expr> {
        match e.data_type() {
            DataType::Bool => Ok(e),
            DataType::Unknown => self.coerce(e, &DataType::Bool, clause),
            t => Err(err!(DATATYPE_MISMATCH, "argument of {} must be type boolean, not type {}", clause, t.sql_name())),
        }
    }

    pub(crate) fn bind_table_with_joins(&mut self, twj: &ast::TableWithJoins) -> FdwResult<(LogicalPlan, Scope)> {
        let (mut plan, mut scope) = self.bind_table_factor(&twj.relation)?;
        for j in &twj.joins {
            let (rp, rs) = self.bind_table_factor(&j.relation)?;
            use ast::JoinOperator as J;
            let (jt, constraint) = match &j.join_operator {
                J::Join(c) | J::Inner(c) => (JoinType::Inner, Some(c)),
                J::Left(c) | J::LeftOuter(c) => (JoinType::Left, Some(c)),
                J::Right(c) | J::RightOuter(c) => (JoinType::Right, Some(c)),
                J::FullOuter(c) => (JoinType::Full, Some(c)),
                J::CrossJoin(_) => (JoinType::Inner, None),
                other => return Err(FdwError::feature(format!("join type not supported: {other:?}"))),
            };
            let offset = plan.arity();
            let left_scope = scope.clone();
            let mut merged = scope.clone();
            merged.extend_shifted(&rs, offset);
            let mut using: Vec<String> = Vec::new();
            let on = match constraint {
                None | Some(ast::JoinConstraint::None) => None,
                Some(ast::JoinConstraint::On(e)) => {
                    let mut cx = ExprCtx::new(&merged, "JOIN/ON");
                    let x = self.bind_expr(e, &mut cx)?;
                    Some(self.require_bool(x, "JOIN/ON")?)
                }
                Some(ast::JoinConstraint::Using(names)) => {
                    using = names.iter().map(|n| object_name(n).map(|x| x.1)).collect::<FdwResult<_>>()?;
                    Some(self.using_condition(&using, &left_scope, &rs, offset)?)
                }
                Some(ast::JoinConstraint::Natural) => {
                    using = rs
                        .star(None)
                        .iter()
                        .filter(|c| left_scope.star(None).iter().any(|l| l.name == c.name))
                        .map(|c| c.name.clone())
                        .collect();
                    if using.is_empty() {
                        None
                    } else {
                        Some(self.using_condition(&using, &left_scope, &rs, offset)?)
                    }
                }
            };
            plan = LogicalPlan::Join { left: Box::new(plan), right: Box::new(rp), join_type: jt, on };
            scope = merged;
            if !using.is_empty() {
                (plan, scope) = self.merge_using_columns(plan, &using, &left_scope, &rs, offset, jt)?;
            }
        }
        Ok((plan, scope))
    }

    /// `USING (a, b)`: equality of the like-named columns of both sides.
    fn using_condition(&mut self, names: &[String], left: &Scope, right: &Scope, offset: usize) -> FdwResult<Expr> {
        let mut conds = Vec::new();
        for n in names {
            let (l, r) = using_pair(n, left, right, offset)?;
            conds.push(self.make_binary(fdw_api::BinaryOp::Eq, l, r)?);
        }
        Ok(Expr::conjunction(conds).expect("USING list is not empty"))
    }

    /// PostgreSQL's output of a USING join: the merged join columns first (the left one, the
    /// right one for RIGHT JOIN, COALESCE of both for FULL JOIN), then the other columns of
    /// each side. The sides' own copies stay reachable qualified (`x.k`) but are hidden from
    /// `*` and unqualified references.
    fn merge_using_columns(
        &mut self,
        plan: LogicalPlan,
        names: &[String],
        left: &Scope,
        right: &Scope,
        offset: usize,
        jt: JoinType,
    ) -> FdwResult<(LogicalPlan, Scope)> {
        let cols = plan.columns();
        let m = names.len();
        let mut exprs = Vec::with_capacity(m + cols.len());
        let mut out_cols = Vec::with_capacity(m + cols.len());
        let mut scope = Scope::new();
        for (i, n) in names.iter().enumerate() {
            let (l, r) = using_pair(n, left, right, offset)?;
            let e = match jt {
                JoinType::Right => r,
                JoinType::Full => {
                    let ty = func::common_type(&[l.data_type(), r.data_type()], "JOIN/USING")?;
                    let l = self.coerce(l, &ty, "JOIN/USING")?;
                    let r = self.coerce(r, &ty, "JOIN/USING")?;
                    Expr::Coalesce { args: vec![l, r], ty }
                }
                _ => l,
            };
            out_cols.push(LCol::new(n.clone(), e.data_type()));
            scope.cols.push(super::scope::ScopeCol {
                qualifier: None,
                name: n.clone(),
                ty: e.data_type(),
                index: i,
                hidden: false,
            });
            exprs.push(e);
        }
        for (k, c) in cols.iter().enumerate() {
            exprs.push(Expr::Column { index: k, ty: c.ty.clone() });
            out_cols.push(c.clone());
        }
        for side in [(left, 0usize), (right, offset)] {
            for c in &side.0.cols {
                let mut c = c.clone();
                c.index += side.1 + m;
                if names.contains(&c.name) {
                    c.hidden = true;
                }
                scope.cols.push(c);
            }
        }
        Ok((LogicalPlan::Project { input: Box::new(plan), exprs, columns: out_cols }, scope))
    }

    fn bind_table_factor(&mut self, tf: &ast::TableFactor) -> FdwResult<(LogicalPlan, Scope)> {
        match tf {
            ast::TableFactor::Table { name, alias, args, .. } => {
                if args.is_some() {
                    return self.bind_table_function(name, args.as_ref(), alias.as_ref());
                }
                let (schema, rel) = object_name(name)?;
                let alias_name = alias.as_ref().map(|a| ident_name(&a.name));
                let qualifier = alias_name.clone().unwrap_or_else(|| rel.clone());
                let (plan, mut cols) = self.resolve_relation(schema.as_deref(), &rel, alias_name.clone())?;
                if let Some(a) = alias {
                    if a.columns.len() > cols.len() {
                        return Err(err!(
                            INVALID_COLUMN_REFERENCE,
                            "table \"{}\" has {} columns available but {} columns specified",
                            qualifier,
                            cols.len(),
                            a.columns.len()
                        ));
                    }
                    for (i, c) in a.columns.iter().enumerate() {
                        cols[i].0 = ident_name(&c.name);
                    }
                }
                let mut scope = Scope::new();
                scope.add_relation(Some(&qualifier), &cols, 0);
                Ok((plan, scope))
            }
            ast::TableFactor::Derived { lateral, subquery, alias } => {
                if *lateral {
                    return Err(FdwError::feature("LATERAL is not supported"));
                }
                let Some(alias) = alias else {
                    return Err(err!(SYNTAX_ERROR, "subquery in FROM must have an alias")
                        .with_hint("For example, FROM (SELECT ...) [AS] foo."));
                };
                let (plan, _) = self.bind_query(subquery)?;
                let q = ident_name(&alias.name);
                let mut cols: Vec<(String, DataType)> = plan.columns().into_iter().map(|c| (c.name, c.ty)).collect();
                for (i, c) in alias.columns.iter().enumerate() {
                    if i < cols.len() {
                        cols[i].0 = ident_name(&c.name);
                    }
                }
                let mut scope = Scope::new();
                scope.add_relation(Some(&q), &cols, 0);
                Ok((plan, scope))
            }
            ast::TableFactor::NestedJoin { table_with_joins, alias } => {
                let (plan, scope) = self.bind_table_with_joins(table_with_joins)?;
                match alias {
                    None => Ok((plan, scope)),
                    Some(a) => {
                        let q = ident_name(&a.name);
                        let mut s = Scope::new();
                        for c in scope.cols {
                            s.cols.push(super::scope::ScopeCol { qualifier: Some(q.clone()), ..c });
                        }
                        Ok((plan, s))
                    }
                }
            }
            other => Err(FdwError::feature(format!("FROM item not supported: {other}"))),
        }
    }

    fn bind_table_function(
        &mut self,
        name: &ast::ObjectName,
        args: Option<&ast::TableFunctionArgs>,
        alias: Option<&ast::TableAlias>,
    ) -> FdwResult<(LogicalPlan, Scope)> {
        let (_, fname) = object_name(name)?;
        self.bind_srf(&fname, args, alias)
    }

    /// A relation name in FROM: a CTE, a table or view of the catalog, or a system view.
    /// Returns its plan and its columns.
    pub(crate) fn resolve_relation(
        &mut self,
        schema: Option<&str>,
        name: &str,
        alias: Option<String>,
    ) -> FdwResult<(LogicalPlan, Vec<(String, DataType)>)> {
        if schema.is_none() {
            for frame in self.ctes.iter().rev() {
                if let Some(def) = frame.get(name) {
                    let cols = def.columns.iter().map(|c| (c.name.clone(), c.ty.clone())).collect();
                    let plan = rename_columns(def.plan.clone(), &def.columns);
                    return Ok((plan, cols));
                }
            }
        }
        let catalog = self.catalog;
        if let Some(rel) = catalog.relation(schema, name) {
            let cols: Vec<(String, DataType)> = rel.columns.iter().map(|c| (c.name.clone(), c.ty.clone())).collect();
            if rel.kind == crate::catalog::RelKind::View {
                return self.expand_view(rel, cols);
            }
            let table = crate::catalog::table_desc(catalog, rel, &self.user)?;
            let routine = crate::catalog::routine_for(catalog, self.registry, rel)?;
            let scan = ScanRel { table, routine, relation: name.to_string(), alias, want_row_id: false };
            return Ok((LogicalPlan::Scan(scan), cols));
        }
        if let Some((cols, rows)) = crate::catalog::sysviews::lookup(catalog, schema, name, &self.user) {
            let columns: Vec<LCol> = cols.iter().map(|c| LCol::new(c.name.clone(), c.ty.clone())).collect();
            let rows = rows
                .into_iter()
                .map(|r| r.into_iter().zip(&cols).map(|(v, c)| Expr::Const { value: v, ty: c.ty.clone() }).collect())
                .collect();
            let names = cols.into_iter().map(|c| (c.name, c.ty)).collect();
            return Ok((LogicalPlan::Values { rows, columns }, names));
        }
        let shown = match schema {
            Some(s) => format!("{s}.{name}"),
            None => name.to_string(),
        };
        Err(err!(UNDEFINED_TABLE, "relation \"{}\" does not exist", shown))
    }

    fn expand_view(
        &mut self,
        rel: &crate::catalog::RelationEntry,
        cols: Vec<(String, DataType)>,
    ) -> FdwResult<(LogicalPlan, Vec<(String, DataType)>)> {
        if self.expanding_views.contains(&rel.name) {
            return Err(err!(
                INVALID_OBJECT_DEFINITION,
                "infinite recursion detected in rules for relation \"{}\"",
                rel.name
            ));
        }
        let sql = rel.query.clone().ok_or_else(|| FdwError::internal("view without query"))?;
        let parsed = crate::sql::parse_script(&sql);
        let stmt = match parsed.into_iter().next() {
            Some((_, Ok(crate::sql::Statement::Sql(s)))) => s,
            Some((_, Err(e))) => return Err(e),
            _ => return Err(FdwError::internal(format!("view \"{}\" has no query", rel.name))),
        };
        let ast::Statement::Query(q) = &*stmt else {
            return Err(FdwError::internal(format!("view \"{}\" is not a query", rel.name)));
        };
        // A view sees neither the CTEs nor the outer queries of the statement using it.
        let saved_ctes = std::mem::take(&mut self.ctes);
        let saved_outer = std::mem::take(&mut self.outer);
        self.expanding_views.push(rel.name.clone());
        let res = self.bind_query(q);
        self.expanding_views.pop();
        self.ctes = saved_ctes;
        self.outer = saved_outer;
        let (plan, _) = res?;
        let lcols: Vec<LCol> = cols.iter().map(|(n, t)| LCol::new(n.clone(), t.clone())).collect();
        let plan = rename_columns(plan, &lcols);
        let names = plan.columns().into_iter().map(|c| (c.name, c.ty)).collect();
        Ok((plan, names))
    }
}

/// The left and right columns named `n` of a USING join.
fn using_pair(n: &str, left: &Scope, right: &Scope, offset: usize) -> FdwResult<(Expr, Expr)> {
    let l = match left.lookup(None, n)? {
        super::scope::Lookup::Found(i, t) => Expr::Column { index: i, ty: t },
        _ => {
            return Err(err!(
                UNDEFINED_COLUMN,
                "column \"{}\" specified in USING clause does not exist in left table",
                n
            ))
        }
    };
    let r = match right.lookup(None, n)? {
        super::scope::Lookup::Found(i, t) => Expr::Column { index: i + offset, ty: t },
        _ => {
            return Err(err!(
                UNDEFINED_COLUMN,
                "column \"{}\" specified in USING clause does not exist in right table",
                n
            ))
        }
    };
    Ok((l, r))
}

/// Whether a query mentions relation `name` (unqualified) anywhere.
fn references_relation(q: &ast::Query, name: &str) -> bool {
    let mut found = false;
    let _ = ast::visit_relations(q, |rel| {
        if rel.0.len() == 1 && rel.0[0].as_ident().is_some_and(|i| ident_name(i) == name) {
            found = true;
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    found
}

/// Re-labels a plan's output columns (CTE and view column names).
fn rename_columns(plan: LogicalPlan, cols: &[LCol]) -> LogicalPlan {
    let current = plan.columns();
    if current.iter().zip(cols).all(|(a, b)| a.name == b.name) {
        return plan;
    }
    let exprs = current.iter().enumerate().map(|(i, c)| Expr::Column { index: i, ty: c.ty.clone() }).collect();
    let columns = current
        .iter()
        .enumerate()
        .map(|(i, c)| LCol::new(cols.get(i).map_or(c.name.clone(), |x| x.name.clone()), c.ty.clone()))
        .collect();
    LogicalPlan::Project { input: Box::new(plan), exprs, columns }
}

/// Re-types unknown literal columns of a plan (a SELECT of bare literals under a UNION).
fn retype_unknown(plan: LogicalPlan, types: &[DataType], b: &mut Binder<'_>) -> FdwResult<LogicalPlan> {
    match plan {
        LogicalPlan::Project { input, exprs, columns } => {
            let mut out = Vec::new();
            let mut cols = Vec::new();
            for ((e, c), t) in exprs.into_iter().zip(columns).zip(types) {
                if e.data_type() == DataType::Unknown {
                    out.push(b.coerce(e, t, "UNION")?);
                    cols.push(LCol::new(c.name, t.clone()));
                } else {
                    out.push(e);
                    cols.push(c);
                }
            }
            Ok(LogicalPlan::Project { input, exprs: out, columns: cols })
        }
        other => Ok(other),
    }
}

/// Replaces, in a grouped query's output expression, grouping expressions by the Aggregate
/// node's group columns and aggregate placeholders by its aggregate columns; any other
/// reference to an input column is a grouping error.
fn rewrite_grouped(e: Expr, group_by: &[Expr], ngroups: usize, scope: &Scope) -> FdwResult<Expr> {
    if let Some(i) = group_by.iter().position(|g| *g == e) {
        return Ok(Expr::Column { index: i, ty: e.data_type() });
    }
    match e {
        Expr::Column { index, ty } if index >= AGG_BASE => Ok(Expr::Column { index: ngroups + index - AGG_BASE, ty }),
        Expr::Column { index, .. } => {
            let c = scope.cols.iter().find(|c| c.index == index);
            let name = match c {
                Some(c) => match &c.qualifier {
                    Some(q) => format!("{q}.{}", c.name),
                    None => c.name.clone(),
                },
                None => format!("#{index}"),
            };
            Err(err!(
                GROUPING_ERROR,
                "column \"{}\" must appear in the GROUP BY clause or be used in an aggregate function",
                name
            ))
        }
        mut other => {
            let mut err = None;
            for c in other.children_mut() {
                let taken = std::mem::replace(c, Expr::null(DataType::Unknown));
                match rewrite_grouped(taken, group_by, ngroups, scope) {
                    Ok(x) => *c = x,
                    Err(e) => {
                        err = Some(e);
                        break;
                    }
                }
            }
            match err {
                Some(e) => Err(e),
                None => Ok(other),
            }
        }
    }
}

fn contains_agg(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |n| found |= matches!(n, Expr::Column { index, .. } if *index >= AGG_BASE));
    found
}

fn ordinal(e: &ast::Expr) -> Option<usize> {
    match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

fn sort_key(expr: Expr, o: &ast::OrderByOptions) -> SortKey {
    let descending = o.asc == Some(false);
    // PostgreSQL: NULLs sort as larger than any value, so last ascending and first descending.
    let nulls_first = o.nulls_first.unwrap_or(descending);
    SortKey { expr, descending, nulls_first }
}

/// The column name PostgreSQL gives an unaliased select-list expression.
fn output_name(e: &ast::Expr) -> String {
    use ast::Expr as A;
    match e {
        A::Identifier(id) => ident_name(id),
        A::CompoundIdentifier(ids) => ids.last().map(ident_name).unwrap_or_default(),
        A::Function(f) => f.name.0.last().and_then(|p| p.as_ident()).map(ident_name).unwrap_or_default(),
        A::Nested(inner) => output_name(inner),
        A::Cast { expr, data_type, .. } => match output_name(expr).as_str() {
            "?column?" => cast_type_name(data_type),
            n => n.to_string(),
        },
        A::TypedString(ts) => cast_type_name(&ts.data_type),
        A::Case { .. } => "case".into(),
        A::Exists { .. } => "exists".into(),
        A::Extract { .. } => "extract".into(),
        A::Substring { .. } => "substring".into(),
        A::Position { .. } => "position".into(),
        A::Trim { .. } => "btrim".into(),
        A::Ceil { .. } => "ceil".into(),
        A::Floor { .. } => "floor".into(),
        A::Interval(_) => "interval".into(),
        A::Subquery(q) => match &*q.body {
            ast::SetExpr::Select(s) if s.projection.len() == 1 => match &s.projection[0] {
                ast::SelectItem::UnnamedExpr(x) => output_name(x),
                ast::SelectItem::ExprWithAlias { alias, .. } => ident_name(alias),
                _ => "?column?".into(),
            },
            _ => "?column?".into(),
        },
        _ => "?column?".into(),
    }
}

fn cast_type_name(t: &ast::DataType) -> String {
    match crate::sql::data_type(t) {
        Ok(dt) => match dt {
            DataType::Int2 => "int2".into(),
            DataType::Int4 => "int4".into(),
            DataType::Int8 => "int8".into(),
            DataType::Float4 => "float4".into(),
            DataType::Float8 => "float8".into(),
            DataType::Bool => "bool".into(),
            DataType::Varchar(_) => "varchar".into(),
            DataType::Char(_) => "bpchar".into(),
            other => other.base_name().to_string(),
        },
        Err(_) => "?column?".into(),
    }
}
