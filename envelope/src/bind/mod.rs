//! Binding: from sqlparser's AST to a [`logical::LogicalPlan`] over typed `fdw_api::Expr`s.
//!
//! Names are resolved against a catalog snapshot, types checked and coerced with PostgreSQL's
//! rules (`fdw_api::func`), and errors reported with PostgreSQL's wording. Sub-selects in
//! expressions become sub-plans; their references to columns of enclosing queries become
//! parameters, set by the enclosing query before each run (correlation).
//!
//! Simplifications: one schema (`public`, plus `pg_catalog`/`information_schema` system
//! views); no window functions; `USING` joins merge their columns for `*` and unqualified
//! references, but a FULL JOIN's merged column is the left one.

mod dml;
mod expr;
pub mod logical;
mod scope;
mod select;
mod srf;
mod sysfunc;

use std::collections::HashMap;

use fdw_api::{err, DataType, FdwResult};
use sqlparser::ast;

use crate::catalog::registry::WrapperRegistry;
use crate::catalog::Catalog;
use logical::{BoundQuery, LCol, LogicalPlan, LogicalSubPlan};
use scope::Scope;

/// A frame of the scope stack: the scope of an enclosing query while one of its sub-selects
/// is bound.
struct OuterFrame {
    scope: Scope,
    /// Parameters the sub-select being bound reads from this frame: (param id, expression in
    /// this frame's scope).
    correlation: Vec<(usize, fdw_api::Expr)>,
    /// Whether the sub-select being bound (at the level just inside this frame) reads any
    /// outer value.
    correlated: bool,
}

/// A CTE binding visible by name.
#[derive(Clone)]
struct CteDef {
    plan: LogicalPlan,
    columns: Vec<LCol>,
}

pub struct Binder<'a> {
    pub(crate) catalog: &'a Catalog,
    pub(crate) registry: &'a WrapperRegistry,
    pub(crate) user: String,
    subplans: Vec<LogicalSubPlan>,
    next_param: usize,
    param_types: Vec<DataType>,
    outer: Vec<OuterFrame>,
    ctes: Vec<HashMap<String, CteDef>>,
    /// Views being expanded (to report a recursive definition instead of looping).
    expanding_views: Vec<String>,
    /// Ids of recursive CTEs' work tables.
    next_worktable: usize,
}

impl<'a> Binder<'a> {
    pub fn new(catalog: &'a Catalog, registry: &'a WrapperRegistry, user: &str) -> Self {
        Binder {
            catalog,
            registry,
            user: user.to_string(),
            subplans: Vec::new(),
            next_param: 0,
            param_types: Vec::new(),
            outer: Vec::new(),
            ctes: Vec::new(),
            expanding_views: Vec::new(),
            next_worktable: 0,
        }
    }

    /// Declares the types of `$1..$n` (PREPARE name (types) AS ...).
    pub fn with_param_types(mut self, types: &[DataType]) -> Self {
        self.param_types = types.to_vec();
        self
    }

    /// Binds a query or DML statement.
    pub fn bind_statement(mut self, stmt: &ast::Statement) -> FdwResult<BoundQuery> {
        let n = max_placeholder(stmt)?.max(self.param_types.len());
        self.next_param = n;
        self.param_types.resize(n, DataType::Unknown);
        let plan = match stmt {
            ast::Statement::Query(q) => {
                let (plan, _scope) = self.bind_query(q)?;
                plan
            }
            ast::Statement::Insert(ins) => self.bind_insert(ins)?,
            ast::Statement::Update { table, assignments, from, selection, returning, .. } => {
                if from.is_some() {
                    return Err(fdw_api::FdwError::feature("UPDATE ... FROM is not supported"));
                }
                self.bind_update(table, assignments, selection.as_ref(), returning.as_deref())?
            }
            ast::Statement::Delete(del) => self.bind_delete(del)?,
            other => return Err(fdw_api::FdwError::feature(format!("statement not supported: {other}"))),
        };
        let mut columns = plan.columns();
        // Unknown-typed outputs (a bare string literal or NULL) are text, as in PostgreSQL.
        for c in &mut columns {
            if c.ty == DataType::Unknown {
                c.ty = DataType::Text;
            }
        }
        let param_types =
            self.param_types.iter().map(|t| if *t == DataType::Unknown { DataType::Text } else { t.clone() }).collect();
        Ok(BoundQuery { plan, subplans: self.subplans, num_params: self.next_param, param_types, columns })
    }

    /// Evaluates constant argument expressions (EXECUTE's parameters) as values of `types`.
    pub fn eval_constants(mut self, args: &[ast::Expr], types: &[DataType]) -> FdwResult<Vec<fdw_api::Datum>> {
        let scope = scope::Scope::new();
        let mut out = Vec::with_capacity(args.len());
        for (a, t) in args.iter().zip(types) {
            let mut cx = expr::ExprCtx::new(&scope, "EXECUTE parameter");
            let e = self.bind_expr(a, &mut cx)?;
            let e = self.assign_coerce(e, t, "parameter")?;
            let p = fdw_api::eval::Program::compile(&e)?;
            out.push(p.eval(&[], &mut fdw_api::eval::EvalContext::default())?);
        }
        Ok(out)
    }

    /// Allocates an internal parameter slot.
    pub(crate) fn alloc_param(&mut self) -> usize {
        let p = self.next_param;
        self.next_param += 1;
        p
    }
}

/// The highest `$n` in the statement (0 if none).
fn max_placeholder(stmt: &ast::Statement) -> FdwResult<usize> {
    use sqlparser::ast::Visit;
    use std::ops::ControlFlow;
    let mut max = 0usize;
    let mut bad: Option<String> = None;
    let _ = stmt.visit(&mut PlaceholderVisitor {
        f: &mut |s: &str| match s.strip_prefix('$').and_then(|d| d.parse::<usize>().ok()) {
            Some(n) if n >= 1 => max = max.max(n),
            _ => bad = Some(s.to_string()),
        },
    });
    if let Some(b) = bad {
        return Err(err!(SYNTAX_ERROR, "syntax error at or near \"{}\"", b));
    }
    let _: ControlFlow<()> = ControlFlow::Continue(());
    Ok(max)
}

struct PlaceholderVisitor<'f> {
    f: &'f mut dyn FnMut(&str),
}

impl sqlparser::ast::Visitor for PlaceholderVisitor<'_> {
    type Break = ();
    fn pre_visit_expr(&mut self, expr: &ast::Expr) -> std::ops::ControlFlow<()> {
        if let ast::Expr::Value(v) = expr {
            if let ast::Value::Placeholder(s) = &v.value {
                (self.f)(s);
            }
        }
        std::ops::ControlFlow::Continue(())
    }
}

pub(crate) use crate::sql::{ident_name, object_name};
