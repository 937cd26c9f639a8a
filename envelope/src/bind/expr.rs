//! Expression binding: AST expressions to typed `fdw_api::Expr`, with PostgreSQL's operator
//! and function resolution and implicit coercions.
//!
//! Aggregate calls are allowed only where an [`AggCollector`] is given (the SELECT list,
//! HAVING and ORDER BY of a grouped query). There they are bound over the query's input
//! and replaced by a placeholder column `AGG_BASE + j`, which `select.rs` later rewrites to
//! the j-th aggregate output of the Aggregate node.

use fdw_api::eval::{EvalContext, Program};
use fdw_api::func::{self, Resolved};
use fdw_api::{err, BinaryOp, DataType, Datum, Expr, FdwError, FdwResult, ScalarFunc, SubLinkKind, UnaryOp};
use sqlparser::ast;

use super::logical::LogicalSubPlan;
use super::scope::{Lookup, Scope};
use super::{ident_name, Binder, OuterFrame};
use crate::plan::physical::AggCall;

/// Column index of the first aggregate placeholder.
pub(crate) const AGG_BASE: usize = usize::MAX / 2;

/// Aggregates found while binding the outputs of a grouped query.
#[derive(Default)]
pub(crate) struct AggCollector {
    pub calls: Vec<AggCall>,
}

/// Where an expression is being bound, for error messages (`aggregate functions are not
/// allowed in WHERE`).
pub(crate) struct ExprCtx<'s> {
    pub scope: &'s Scope,
    pub agg: Option<&'s mut AggCollector>,
    pub clause: &'static str,
}

impl<'s> ExprCtx<'s> {
    pub fn new(scope: &'s Scope, clause: &'static str) -> Self {
        ExprCtx { scope, agg: None, clause }
    }
}

impl Binder<'_> {
    pub(crate) fn bind_expr(&mut self, e: &ast::Expr, cx: &mut ExprCtx<'_>) -> FdwResult<Expr> {
        use ast::Expr as A;
        Ok(match e {
            A::Identifier(id) => self.bind_column(None, &ident_name(id), cx)?,
            A::CompoundIdentifier(ids) => {
                let names: Vec<String> = ids.iter().map(ident_name).collect();
                match names.len() {
                    2 => self.bind_column(Some(&names[0]), &names[1], cx)?,
                    3 => self.bind_column(Some(&names[1]), &names[2], cx)?,
                    _ => return Err(err!(SYNTAX_ERROR, "improper qualified name: {}", e)),
                }
            }
            A::Value(v) => self.bind_value(&v.value)?,
            A::Nested(inner) => self.bind_expr(inner, cx)?,
            A::BinaryOp { left, op, right } => {
                let op = map_binary(op)?;
                let l = self.bind_expr(left, cx)?;
                let r = self.bind_expr(right, cx)?;
                self.make_binary(op, l, r)?
            }
            A::UnaryOp { op, expr } => match op {
                ast::UnaryOperator::Minus => {
                    if let A::Value(v) = &**expr {
                        if let ast::Value::Number(n, _) = &v.value {
                            return number_literal(&format!("-{n}"));
                        }
                    }
                    let x = self.bind_expr(expr, cx)?;
                    self.make_unary(UnaryOp::Neg, x)?
                }
                ast::UnaryOperator::Plus => self.bind_expr(expr, cx)?,
                ast::UnaryOperator::Not => {
                    let x = self.bind_expr(expr, cx)?;
                    self.make_unary(UnaryOp::Not, x)?
                }
                other => return Err(FdwError::feature(format!("operator not supported: {other}"))),
            },
            A::IsNull(x) => self.unary_of(UnaryOp::IsNull, x, cx)?,
            A::IsNotNull(x) => self.unary_of(UnaryOp::IsNotNull, x, cx)?,
            A::IsTrue(x) => self.unary_of(UnaryOp::IsTrue, x, cx)?,
            A::IsNotTrue(x) => self.unary_of(UnaryOp::IsNotTrue, x, cx)?,
            A::IsFalse(x) => self.unary_of(UnaryOp::IsFalse, x, cx)?,
            A::IsNotFalse(x) => self.unary_of(UnaryOp::IsNotFalse, x, cx)?,
            A::IsUnknown(x) => {
                let x = self.bind_expr(x, cx)?;
                let x = self.coerce(x, &DataType::Bool, "IS UNKNOWN")?;
                self.make_unary(UnaryOp::IsNull, x)?
            }
            A::IsNotUnknown(x) => {
                let x = self.bind_expr(x, cx)?;
                let x = self.coerce(x, &DataType::Bool, "IS NOT UNKNOWN")?;
                self.make_unary(UnaryOp::IsNotNull, x)?
            }
            A::IsDistinctFrom(a, b) => {
                let (l, r) = (self.bind_expr(a, cx)?, self.bind_expr(b, cx)?);
                self.make_binary(BinaryOp::IsDistinctFrom, l, r)?
            }
            A::IsNotDistinctFrom(a, b) => {
                let (l, r) = (self.bind_expr(a, cx)?, self.bind_expr(b, cx)?);
                self.make_binary(BinaryOp::IsNotDistinctFrom, l, r)?
            }
            A::Between { expr, negated, low, high } => {
                let x = self.bind_expr(expr, cx)?;
                let lo = self.bind_expr(low, cx)?;
                let hi = self.bind_expr(high, cx)?;
                if *negated {
                    let a = self.make_binary(BinaryOp::Lt, x.clone(), lo)?;
                    let b = self.make_binary(BinaryOp::Gt, x, hi)?;
                    self.make_binary(BinaryOp::Or, a, b)?
                } else {
                    let a = self.make_binary(BinaryOp::GtEq, x.clone(), lo)?;
                    let b = self.make_binary(BinaryOp::LtEq, x, hi)?;
                    self.make_binary(BinaryOp::And, a, b)?
                }
            }
            A::InList { expr, list, negated } => {
                let x = self.bind_expr(expr, cx)?;
                let items: Vec<Expr> = list.iter().map(|i| self.bind_expr(i, cx)).collect::<FdwResult<_>>()?;
                let mut types = vec![x.data_type()];
                types.extend(items.iter().map(|i| i.data_type()));
                let ty = func::common_type(&types, "IN")?;
                let x = self.coerce(x, &ty, "IN")?;
                let items = items.into_iter().map(|i| self.coerce(i, &ty, "IN")).collect::<FdwResult<_>>()?;
                Expr::InList { expr: Box::new(x), list: items, negated: *negated }
            }
            A::InSubquery { expr, subquery, negated } => {
                let lhs = self.bind_expr(expr, cx)?;
                let e = self.bind_sublink(SubLinkKind::Any, Some((lhs, BinaryOp::Eq)), subquery, cx)?;
                if *negated {
                    self.make_unary(UnaryOp::Not, e)?
                } else {
                    e
                }
            }
            A::AnyOp { left, compare_op, right, .. } | A::AllOp { left, compare_op, right } => {
                let all = matches!(e, A::AllOp { .. });
                let op = map_binary(compare_op)?;
                let lhs = self.bind_expr(left, cx)?;
                let kind = if all { SubLinkKind::All } else { SubLinkKind::Any };
                match &**right {
                    A::Subquery(q) => self.bind_sublink(kind, Some((lhs, op)), q, cx)?,
                    A::Nested(inner) if matches!(&**inner, A::Subquery(_)) => {
                        let A::Subquery(q) = &**inner else { unreachable!() };
                        self.bind_sublink(kind, Some((lhs, op)), q, cx)?
                    }
                    _ => return Err(FdwError::feature("ANY/ALL over an array is not supported")),
                }
            }
            A::Exists { subquery, negated } => {
                let e = self.bind_sublink(SubLinkKind::Exists, None, subquery, cx)?;
                if *negated {
                    self.make_unary(UnaryOp::Not, e)?
                } else {
                    e
                }
            }
            A::Subquery(q) => self.bind_sublink(SubLinkKind::Scalar, None, q, cx)?,
            A::Like { negated, expr, pattern, escape_char, any: false } => {
                self.bind_like(expr, pattern, escape_char.as_ref(), *negated, false, cx)?
            }
            A::ILike { negated, expr, pattern, escape_char, any: false } => {
                self.bind_like(expr, pattern, escape_char.as_ref(), *negated, true, cx)?
            }
            A::Cast { expr, data_type, .. } => {
                let ty = crate::sql::data_type(data_type)?;
                let x = self.bind_expr(expr, cx)?;
                self.explicit_cast(x, &ty)?
            }
            A::TypedString(ts) => {
                let ty = crate::sql::data_type(&ts.data_type)?;
                let s = string_value(&ts.value.value)
                    .ok_or_else(|| err!(SYNTAX_ERROR, "syntax error at or near \"{}\"", ts.value))?;
                Expr::Const { value: ty.parse_text(&s)?, ty }
            }
            A::Interval(iv) => self.bind_interval(iv, cx)?,
            A::Case { operand, conditions, else_result, .. } => {
                let operand = match operand {
                    Some(o) => Some(self.bind_expr(o, cx)?),
                    None => None,
                };
                let mut whens = Vec::new();
                let mut results = Vec::new();
                for cw in conditions {
                    let c = self.bind_expr(&cw.condition, cx)?;
                    let c = match &operand {
                        Some(o) => self.make_binary(BinaryOp::Eq, o.clone(), c)?,
                        None => self.coerce(c, &DataType::Bool, "CASE/WHEN")?,
                    };
                    whens.push(c);
                    results.push(self.bind_expr(&cw.result, cx)?);
                }
                let else_e = match else_result {
                    Some(e) => Some(self.bind_expr(e, cx)?),
                    None => None,
                };
                // PostgreSQL considers the ELSE branch first (it names the pair in errors so).
                let mut types: Vec<DataType> = Vec::new();
                if let Some(e) = &else_e {
                    types.push(e.data_type());
                }
                types.extend(results.iter().map(|r| r.data_type()));
                let ty = func::common_type(&types, "CASE")?;
                let mut pairs = Vec::new();
                for (w, r) in whens.into_iter().zip(results) {
                    pairs.push((w, self.coerce(r, &ty, "CASE")?));
                }
                let else_expr = match else_e {
                    Some(e) => Some(Box::new(self.coerce(e, &ty, "CASE")?)),
                    None => None,
                };
                fold(Expr::Case { whens: pairs, else_expr, ty })
            }
            A::Function(f) => self.bind_function(f, cx)?,
            A::Extract { field, expr, .. } => {
                let x = self.bind_expr(expr, cx)?;
                let fname = field.to_string().to_lowercase();
                let args = vec![Expr::Const { value: Datum::text(&fname), ty: DataType::Unknown }, x];
                self.call_function("extract", args)?
            }
            A::Substring { expr, substring_from, substring_for, .. } => {
                let mut args = vec![self.bind_expr(expr, cx)?];
                match (substring_from, substring_for) {
                    (Some(f), Some(n)) => {
                        args.push(self.bind_expr(f, cx)?);
                        args.push(self.bind_expr(n, cx)?);
                    }
                    (Some(f), None) => args.push(self.bind_expr(f, cx)?),
                    (None, Some(n)) => {
                        args.push(Expr::Const { value: Datum::Int4(1), ty: DataType::Int4 });
                        args.push(self.bind_expr(n, cx)?);
                    }
                    (None, None) => {}
                }
                self.call_function("substring", args)?
            }
            A::Position { expr, r#in } => {
                let sub = self.bind_expr(expr, cx)?;
                let s = self.bind_expr(r#in, cx)?;
                self.call_function("strpos", vec![s, sub])?
            }
            A::Trim { expr, trim_where, trim_what, trim_characters } => {
                let mut args = vec![self.bind_expr(expr, cx)?];
                if let Some(w) = trim_what {
                    args.push(self.bind_expr(w, cx)?);
                } else if let Some(chars) = trim_characters {
                    if let Some(c) = chars.first() {
                        args.push(self.bind_expr(c, cx)?);
                    }
                }
                let name = match trim_where {
                    Some(ast::TrimWhereField::Leading) => "ltrim",
                    Some(ast::TrimWhereField::Trailing) => "rtrim",
                    _ => "btrim",
                };
                self.call_function(name, args)?
            }
            A::Ceil { expr, field } | A::Floor { expr, field } => {
                let name = if matches!(e, A::Ceil { .. }) { "ceil" } else { "floor" };
                if !matches!(field, ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime)) {
                    return Err(FdwError::feature(format!("{name} with a field or scale is not supported")));
                }
                let x = self.bind_expr(expr, cx)?;
                self.call_function(name, vec![x])?
            }
            A::Tuple(_) => return Err(FdwError::feature("row constructors are not supported")),
            other => return Err(FdwError::feature(format!("expression not supported: {other}"))),
        })
    }

    fn unary_of(&mut self, op: UnaryOp, x: &ast::Expr, cx: &mut ExprCtx<'_>) -> FdwResult<Expr> {
        let x = self.bind_expr(x, cx)?;
        self.make_unary(op, x)
    }

    /// Resolves a column reference in the current scope, then in enclosing queries' scopes
    /// (correlation: the value arrives as a parameter).
    fn bind_column(&mut self, qualifier: Option<&str>, name: &str, cx: &mut ExprCtx<'_>) -> FdwResult<Expr> {
        if let Lookup::Found(index, ty) = cx.scope.lookup(qualifier, name)? {
            return Ok(Expr::Column { index, ty });
        }
        for k in (0..self.outer.len()).rev() {
            if let Lookup::Found(index, ty) = self.outer[k].scope.lookup(qualifier, name)? {
                let col = Expr::Column { index, ty: ty.clone() };
                for frame in &mut self.outer[k..] {
                    frame.correlated = true;
                }
                if let Some((p, _)) = self.outer[k].correlation.iter().find(|(_, e)| *e == col) {
                    return Ok(Expr::Param { index: *p, ty });
                }
                let p = self.alloc_param();
                self.outer[k].correlation.push((p, col));
                return Ok(Expr::Param { index: p, ty });
            }
        }
        match qualifier {
            Some(q) if !cx.scope.has_qualifier(q) && !self.outer.iter().any(|f| f.scope.has_qualifier(q)) => {
                Err(err!(UNDEFINED_TABLE, "missing FROM-clause entry for table \"{}\"", q))
            }
            Some(q) => Err(err!(UNDEFINED_COLUMN, "column {}.{} does not exist", q, name)),
            None => Err(err!(UNDEFINED_COLUMN, "column \"{}\" does not exist", name)),
        }
    }

    fn bind_value(&mut self, v: &ast::Value) -> FdwResult<Expr> {
        Ok(match v {
            ast::Value::Number(n, _) => number_literal(n)?,
            ast::Value::Boolean(b) => Expr::Const { value: Datum::Bool(*b), ty: DataType::Bool },
            ast::Value::Null => Expr::null(DataType::Unknown),
            ast::Value::Placeholder(p) => {
                let n: usize = p[1..].parse().map_err(|_| err!(SYNTAX_ERROR, "syntax error at or near \"{}\"", p))?;
                Expr::Param { index: n - 1, ty: self.param_types[n - 1].clone() }
            }
            other => match string_value(other) {
                Some(s) => Expr::Const { value: Datum::text(&s), ty: DataType::Unknown },
                None => return Err(FdwError::feature(format!("literal not supported: {other}"))),
            },
        })
    }

    fn bind_interval(&mut self, iv: &ast::Interval, cx: &mut ExprCtx<'_>) -> FdwResult<Expr> {
        let v = self.bind_expr(&iv.value, cx)?;
        let Expr::Const { value: Datum::Text(s), .. } = &v else {
            return Err(FdwError::feature("INTERVAL with a non-literal value is not supported"));
        };
        let mut text = s.to_string();
        if let Some(f) = &iv.leading_field {
            // `interval '3' month` means 3 months; `interval '1-2' year to month` is not handled.
            if iv.last_field.is_none() && text.trim().parse::<f64>().is_ok() {
                text = format!("{} {}", text.trim(), f.to_string().to_lowercase());
            }
        }
        Ok(Expr::Const { value: DataType::Interval.parse_text(&text)?, ty: DataType::Interval })
    }

    fn bind_like(
        &mut self,
        expr: &ast::Expr,
        pattern: &ast::Expr,
        escape: Option<&ast::Value>,
        negated: bool,
        ci: bool,
        cx: &mut ExprCtx<'_>,
    ) -> FdwResult<Expr> {
        let x = self.bind_expr(expr, cx)?;
        let p = self.bind_expr(pattern, cx)?;
        let x = self.coerce_to_text(x)?;
        let p = self.coerce_to_text(p)?;
        let escape = match escape {
            None => Some('\\'),
            Some(v) => {
                let s = string_value(v).unwrap_or_default();
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (None, _) => None,
                    (Some(c), None) => Some(c),
                    _ => return Err(err!(INVALID_ESCAPE_SEQUENCE, "invalid escape string")),
                }
            }
        };
        Ok(Expr::Like { expr: Box::new(x), pattern: Box::new(p), escape, negated, case_insensitive: ci })
    }

    fn coerce_to_text(&mut self, x: Expr) -> FdwResult<Expr> {
        match x.data_type() {
            DataType::Text | DataType::Varchar(_) => Ok(x),
            DataType::Char(_) => Ok(self.explicit_cast(x, &DataType::Text)?),
            _ => self.coerce(x, &DataType::Text, "LIKE"),
        }
    }

    fn bind_function(&mut self, f: &ast::Function, cx: &mut ExprCtx<'_>) -> FdwResult<Expr> {
        let (_, name) = super::object_name(&f.name)?;
        let (args, distinct, star) = match &f.args {
            ast::FunctionArguments::None => (Vec::new(), false, false),
            ast::FunctionArguments::Subquery(_) => return Err(FdwError::feature("function over a subquery")),
            ast::FunctionArguments::List(list) => {
                if !list.clauses.is_empty() {
                    return Err(FdwError::feature(format!("function clauses not supported in {}", f)));
                }
                let distinct = matches!(list.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct));
                let mut star = false;
                let mut args = Vec::new();
                for a in &list.args {
                    match a {
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard) => star = true,
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => args.push(e.clone()),
                        _ => return Err(FdwError::feature(format!("argument form not supported in {}", f))),
                    }
                }
                (args, distinct, star)
            }
        };
        if f.over.is_some() {
            return Err(FdwError::feature("window functions are not supported"));
        }
        // Aggregates: bound over the query's input, outside any aggregate context.
        let arg_types_probe = |b: &mut Self, cx: &mut ExprCtx<'_>| -> FdwResult<Vec<Expr>> {
            let mut inner = ExprCtx { scope: cx.scope, agg: None, clause: "aggregate function calls" };
            args.iter().map(|a| b.bind_expr(a, &mut inner)).collect()
        };
        if func::is_aggregate(&name) {
            let bound = arg_types_probe(self, cx)?;
            let types: Vec<DataType> = bound.iter().map(|e| e.data_type()).collect();
            if let Some(res) = func::resolve_aggregate(&name, &types, star) {
                let (afunc, resolved) = res?;
                let Some(collector) = cx.agg.as_deref_mut() else {
                    return Err(err!(GROUPING_ERROR, "aggregate functions are not allowed in {}", cx.clause));
                };
                let mut bargs = Vec::new();
                for (a, t) in bound.into_iter().zip(&resolved.arg_types) {
                    bargs.push(self.coerce(a, t, &name)?);
                }
                let filter = match &f.filter {
                    Some(fe) => {
                        let mut inner = ExprCtx { scope: cx.scope, agg: None, clause: "FILTER" };
                        let e = self.bind_expr(fe, &mut inner)?;
                        Some(self.coerce(e, &DataType::Bool, "FILTER")?)
                    }
                    None => None,
                };
                let call = AggCall {
                    func: afunc,
                    arg_type: resolved.arg_types.first().cloned().unwrap_or(DataType::Int8),
                    args: bargs,
                    distinct,
                    filter,
                    ret: resolved.ret.clone(),
                };
                let j = match collector.calls.iter().position(|c| *c == call) {
                    Some(j) => j,
                    None => {
                        collector.calls.push(call);
                        collector.calls.len() - 1
                    }
                };
                return Ok(Expr::Column { index: AGG_BASE + j, ty: resolved.ret });
            }
        }
        if star || distinct || f.filter.is_some() {
            return Err(err!(WRONG_OBJECT_TYPE, "{}(*) specified, but {} is not an aggregate function", name, name));
        }
        let bound: Vec<Expr> = args.iter().map(|a| self.bind_expr(a, cx)).collect::<FdwResult<_>>()?;
        if let Some(r) = self.system_function(&name, &bound) {
            return r;
        }
        match name.as_str() {
            "coalesce" => {
                let types: Vec<DataType> = bound.iter().map(|e| e.data_type()).collect();
                let ty = func::common_type(&types, "COALESCE")?;
                let args = bound.into_iter().map(|a| self.coerce(a, &ty, "COALESCE")).collect::<FdwResult<_>>()?;
                Ok(Expr::Coalesce { args, ty })
            }
            "nullif" if bound.len() == 2 => {
                let mut it = bound.into_iter();
                let (l, r) = (
                    it.next().unwrap_or(Expr::null(DataType::Unknown)),
                    it.next().unwrap_or(Expr::null(DataType::Unknown)),
                );
                let res = func::resolve_binary(BinaryOp::Eq, &l.data_type(), &r.data_type())?;
                let ty = res.arg_types[0].clone();
                let l = self.coerce(l, &res.arg_types[0], "NULLIF")?;
                let r = self.coerce(r, &res.arg_types[1], "NULLIF")?;
                Ok(Expr::NullIf { left: Box::new(l), right: Box::new(r), ty })
            }
            _ => self.call_function(&name, bound),
        }
    }

    /// Resolves and builds a scalar function call, coercing its arguments.
    pub(crate) fn call_function(&mut self, name: &str, args: Vec<Expr>) -> FdwResult<Expr> {
        let types: Vec<DataType> = args.iter().map(|e| e.data_type()).collect();
        let (func, Resolved { arg_types, ret }) = func::resolve_function(name, &types)?;
        let mut out = Vec::with_capacity(args.len());
        for (a, t) in args.into_iter().zip(arg_types.iter()) {
            out.push(self.coerce(a, t, name)?);
        }
        Ok(fold(Expr::Func { func, args: out, ty: ret }))
    }

    /// Binds a sub-select in an expression as a sub-plan.
    fn bind_sublink(
        &mut self,
        kind: SubLinkKind,
        test: Option<(Expr, BinaryOp)>,
        q: &ast::Query,
        cx: &mut ExprCtx<'_>,
    ) -> FdwResult<Expr> {
        self.outer.push(OuterFrame { scope: cx.scope.clone(), correlation: Vec::new(), correlated: false });
        let bound = self.bind_query(q);
        let frame = self.outer.pop().expect("frame pushed above");
        let (plan, _) = bound?;
        let cols = plan.columns();
        let (args, param_ids): (Vec<Expr>, Vec<usize>) = frame.correlation.into_iter().map(|(p, e)| (e, p)).unzip();
        let test_param = self.alloc_param();
        let (lhs, test_expr, ty) = match kind {
            SubLinkKind::Scalar => {
                if cols.len() != 1 {
                    return Err(err!(SYNTAX_ERROR, "subquery must return only one column"));
                }
                let ty = if cols[0].ty == DataType::Unknown { DataType::Text } else { cols[0].ty.clone() };
                (None, None, ty)
            }
            SubLinkKind::Exists => (None, None, DataType::Bool),
            SubLinkKind::Any | SubLinkKind::All => {
                let (lhs, op) = test.ok_or_else(|| FdwError::internal("ANY/ALL without operand"))?;
                if cols.len() != 1 {
                    return Err(err!(SYNTAX_ERROR, "subquery has too many columns"));
                }
                let p = Expr::Param { index: test_param, ty: lhs.data_type() };
                let c = Expr::Column { index: 0, ty: cols[0].ty.clone() };
                let t = self.make_binary(op, p, c)?;
                (Some(Box::new(lhs)), Some(t), DataType::Bool)
            }
        };
        let id = self.subplans.len();
        self.subplans.push(LogicalSubPlan {
            plan,
            kind,
            param_ids,
            test: test_expr,
            test_param,
            correlated: frame.correlated,
        });
        Ok(Expr::SubPlan { id, kind, args, lhs, ty })
    }

    pub(crate) fn make_binary(&mut self, op: BinaryOp, l: Expr, r: Expr) -> FdwResult<Expr> {
        let (lt, rt) = (l.data_type(), r.data_type());
        if op == BinaryOp::Concat && (lt.is_string() || rt.is_string()) {
            // PostgreSQL's `text || text` and `anynonarray || text`: a non-string operand is
            // converted with its output function, as an explicit cast would.
            let l = self.text_operand(l)?;
            let r = self.text_operand(r)?;
            return Ok(fold(Expr::Binary { op, left: Box::new(l), right: Box::new(r), ty: DataType::Text }));
        }
        let res = func::resolve_binary(op, &lt, &rt)?;
        let l = self.coerce(l, &res.arg_types[0], op.sql())?;
        let r = self.coerce(r, &res.arg_types[1], op.sql())?;
        if let Some(e) = date_vs_timestamp(op, &l, &r) {
            return Ok(e);
        }
        Ok(fold(Expr::Binary { op, left: Box::new(l), right: Box::new(r), ty: res.ret }))
    }

    fn text_operand(&mut self, x: Expr) -> FdwResult<Expr> {
        match x.data_type() {
            DataType::Text => Ok(x),
            DataType::Unknown => self.coerce(x, &DataType::Text, "||"),
            _ => self.explicit_cast(x, &DataType::Text),
        }
    }

    pub(crate) fn make_unary(&mut self, op: UnaryOp, x: Expr) -> FdwResult<Expr> {
        let res = func::resolve_unary(op, &x.data_type())?;
        let x = self.coerce(x, &res.arg_types[0], "")?;
        Ok(fold(Expr::Unary { op, expr: Box::new(x), ty: res.ret }))
    }

    /// Implicit coercion of `x` to `target` (operator and function arguments, CASE branches,
    /// set-operation columns). Unknown literals are converted at bind time.
    pub(crate) fn coerce(&mut self, x: Expr, target: &DataType, what: &str) -> FdwResult<Expr> {
        self.coerce_inner(x, target, false, what)
    }

    /// Assignment coercion (INSERT/UPDATE values): also allows the casts PostgreSQL permits
    /// in assignment, and enforces the column's modifier.
    pub(crate) fn assign_coerce(&mut self, x: Expr, target: &DataType, column: &str) -> FdwResult<Expr> {
        let from = x.data_type();
        if from != DataType::Unknown && !func::can_cast(&from, target, false) && !assignment_castable(&from, target) {
            return Err(err!(
                DATATYPE_MISMATCH,
                "column \"{}\" is of type {} but expression is of type {}",
                column,
                target.sql_name(),
                from.sql_name()
            )
            .with_hint("You will need to rewrite or cast the expression."));
        }
        self.coerce_inner(x, target, true, column)
    }

    fn coerce_inner(&mut self, x: Expr, target: &DataType, assignment: bool, what: &str) -> FdwResult<Expr> {
        let from = x.data_type();
        if &from == target || *target == DataType::Unknown {
            return Ok(x);
        }
        // Dropping a type modifier (numeric(10,2) to numeric) changes no value.
        if target.without_modifier() == *target && from.without_modifier() == *target {
            return Ok(x);
        }
        match x {
            Expr::Const { value: Datum::Null, .. } => Ok(Expr::null(target.clone())),
            Expr::Const { value: Datum::Text(s), ty: DataType::Unknown } => {
                let value = target.parse_text(&s)?;
                Ok(Expr::Const { value, ty: target.clone() })
            }
            Expr::Param { index, ty: DataType::Unknown } if index < self.param_types.len() => {
                self.param_types[index] = target.clone();
                Ok(Expr::Param { index, ty: target.clone() })
            }
            x => {
                if !assignment && !func::can_cast(&from, target, false) {
                    return Err(err!(
                        DATATYPE_MISMATCH,
                        "{} types {} and {} cannot be matched",
                        what,
                        from.sql_name(),
                        target.sql_name()
                    ));
                }
                Ok(fold(Expr::Cast { expr: Box::new(x), ty: target.clone() }))
            }
        }
    }

    /// `CAST(x AS t)` / `x::t`.
    pub(crate) fn explicit_cast(&mut self, x: Expr, target: &DataType) -> FdwResult<Expr> {
        let from = x.data_type();
        if &from == target {
            return Ok(x);
        }
        // An explicit cast to varchar(n)/char(n) truncates instead of failing.
        if let (DataType::Varchar(Some(n)) | DataType::Char(Some(n)), true) = (target, from.is_string()) {
            let n = *n as i32;
            let cut = match x {
                Expr::Const { value: Datum::Text(s), .. } => {
                    let t: String = s.chars().take(n as usize).collect();
                    Expr::Const { value: Datum::text(&t), ty: DataType::Unknown }
                }
                other => {
                    let other = if other.data_type() == DataType::Text {
                        other
                    } else {
                        self.explicit_cast(other, &DataType::Text)?
                    };
                    self.call_function("left", vec![other, Expr::Const { value: Datum::Int4(n), ty: DataType::Int4 }])?
                }
            };
            return match cut {
                Expr::Const { value: Datum::Text(s), ty: DataType::Unknown } => {
                    Ok(Expr::Const { value: target.parse_text(&s)?, ty: target.clone() })
                }
                c => Ok(fold(Expr::Cast { expr: Box::new(c), ty: target.clone() })),
            };
        }
        match x {
            Expr::Const { value: Datum::Null, .. } => Ok(Expr::null(target.clone())),
            Expr::Const { value: Datum::Text(s), ty: DataType::Unknown } => {
                Ok(Expr::Const { value: target.parse_text(&s)?, ty: target.clone() })
            }
            Expr::Param { index, ty: DataType::Unknown } if index < self.param_types.len() => {
                self.param_types[index] = target.clone();
                Ok(Expr::Param { index, ty: target.clone() })
            }
            x => {
                if !func::can_cast(&from, target, true) {
                    return Err(err!(CANNOT_COERCE, "cannot cast type {} to {}", from.sql_name(), target.sql_name()));
                }
                Ok(fold(Expr::Cast { expr: Box::new(x), ty: target.clone() }))
            }
        }
    }
}

/// Casts PostgreSQL allows in assignment but not implicitly (numeric to integer, text to
/// varchar, ...): any conversion between numeric types or between string types.
fn assignment_castable(from: &DataType, to: &DataType) -> bool {
    (from.is_numeric() && to.is_numeric()) || (from.is_string() && to.is_string()) || func::can_cast(from, to, true)
}

/// Evaluates an expression at bind time when it has no column, parameter or sub-select
/// inputs and no volatile function (PostgreSQL's eval_const_expressions). Errors are left
/// for run time (a division by zero in a branch never taken must not fail the query).
/// `date_expr::timestamp op timestamp_constant` as the same comparison of dates, so a
/// filter such as TPC-H's `l_shipdate < date '1994-01-01' + interval '1' year` (a date
/// against a timestamp, which PostgreSQL compares with a cross-type operator) costs one date
/// comparison per row instead of a cast and a timestamp comparison. With the constant at
/// midnight of day `D` the operator stays and `D` replaces it; past midnight, `<`/`<=` become
/// `<= D` and `>`/`>=` become `> D` (no date lies strictly inside the day), and `=`/`<>` are
/// left alone. The result is the same for every date, NULL included; infinite constants are
/// left alone.
fn date_vs_timestamp(op: BinaryOp, l: &Expr, r: &Expr) -> Option<Expr> {
    use fdw_api::types::calendar::{TS_NEG_INFINITY, TS_POS_INFINITY};
    use fdw_api::types::USECS_PER_DAY;
    let widened_date = |e: &Expr| match e {
        Expr::Cast { expr, ty: DataType::Timestamp } if expr.data_type() == DataType::Date => {
            Some(expr.as_ref().clone())
        }
        _ => None,
    };
    let (date, ts, op) = match (widened_date(l), r, widened_date(r), l) {
        (Some(d), Expr::Const { value: Datum::Timestamp(t), .. }, _, _) => (d, *t, op),
        (_, _, Some(d), Expr::Const { value: Datum::Timestamp(t), .. }) => (d, *t, op.commuted()?),
        _ => return None,
    };
    if ts == TS_NEG_INFINITY || ts == TS_POS_INFINITY {
        return None;
    }
    let day = i32::try_from(ts.div_euclid(USECS_PER_DAY)).ok()?;
    let midnight = ts.rem_euclid(USECS_PER_DAY) == 0;
    let op = match op {
        BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq | BinaryOp::Eq | BinaryOp::NotEq if midnight => {
            op
        }
        BinaryOp::Lt | BinaryOp::LtEq => BinaryOp::LtEq,
        BinaryOp::Gt | BinaryOp::GtEq => BinaryOp::Gt,
        _ => return None,
    };
    let day = Expr::Const { value: Datum::Date(day), ty: DataType::Date };
    Some(Expr::Binary { op, left: Box::new(date), right: Box::new(day), ty: DataType::Bool })
}

pub(crate) fn fold(e: Expr) -> Expr {
    if matches!(e, Expr::Const { .. }) || !is_constant(&e) {
        return e;
    }
    let ty = e.data_type();
    match Program::compile(&e).and_then(|p| p.eval(&[], &mut EvalContext::default())) {
        Ok(value) => Expr::Const { value, ty },
        Err(_) => e,
    }
}

fn is_constant(e: &Expr) -> bool {
    let mut constant = true;
    e.walk(&mut |n| match n {
        Expr::Column { .. } | Expr::Param { .. } | Expr::SubPlan { .. } => constant = false,
        Expr::Func { func: ScalarFunc::Random | ScalarFunc::Now | ScalarFunc::CurrentDate, .. } => constant = false,
        Expr::Const { ty: DataType::Unknown, .. } => constant = false,
        _ => {}
    });
    constant
}

fn number_literal(n: &str) -> FdwResult<Expr> {
    if !n.contains(['.', 'e', 'E']) {
        if let Ok(v) = n.parse::<i32>() {
            return Ok(Expr::Const { value: Datum::Int4(v), ty: DataType::Int4 });
        }
        if let Ok(v) = n.parse::<i64>() {
            return Ok(Expr::Const { value: Datum::Int8(v), ty: DataType::Int8 });
        }
    }
    let ty = DataType::Numeric(None);
    Ok(Expr::Const { value: ty.parse_text(n)?, ty })
}

pub(crate) fn string_value(v: &ast::Value) -> Option<String> {
    match v {
        ast::Value::SingleQuotedString(s)
        | ast::Value::EscapedStringLiteral(s)
        | ast::Value::UnicodeStringLiteral(s)
        | ast::Value::NationalStringLiteral(s)
        | ast::Value::DoubleQuotedString(s) => Some(s.clone()),
        ast::Value::DollarQuotedString(d) => Some(d.value.clone()),
        _ => None,
    }
}

fn map_binary(op: &ast::BinaryOperator) -> FdwResult<BinaryOp> {
    use ast::BinaryOperator as B;
    Ok(match op {
        B::Plus => BinaryOp::Add,
        B::Minus => BinaryOp::Sub,
        B::Multiply => BinaryOp::Mul,
        B::Divide => BinaryOp::Div,
        B::Modulo => BinaryOp::Mod,
        B::StringConcat => BinaryOp::Concat,
        B::Gt => BinaryOp::Gt,
        B::Lt => BinaryOp::Lt,
        B::GtEq => BinaryOp::GtEq,
        B::LtEq => BinaryOp::LtEq,
        B::Eq => BinaryOp::Eq,
        B::NotEq => BinaryOp::NotEq,
        B::And => BinaryOp::And,
        B::Or => BinaryOp::Or,
        B::PGExp => BinaryOp::Pow,
        other => return Err(FdwError::feature(format!("operator not supported: {other}"))),
    })
}
