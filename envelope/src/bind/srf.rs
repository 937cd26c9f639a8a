//! Set-returning functions in FROM: `generate_series` and the engine's memory view.
//!
//! A function call in FROM becomes a `LogicalPlan::Scan` of a synthetic one-relation table
//! served by a fresh [`crate::srf::FunctionScanFdw`] (see that module): the planner and the
//! executor treat it like any wrapper's table. Arguments are bound like any expression and
//! evaluated here, once, so they must be constants or fold to one; `$n` parameters and outer
//! references are refused with a clear error (there is no LATERAL).
//!
//! Type resolution follows PostgreSQL's candidates for `generate_series`: `(int, int [, int])`,
//! `(bigint, ...)`, `(numeric, ...)` and `(timestamp, timestamp, interval)`; a `date`
//! argument is taken as a timestamp. The output column is named after the function, or after
//! the alias (`AS g` names the column `g` too, `AS g(x)` names it `x`).
//!
//! COPY FROM binds its INSERT here too ([`Binder::bind_insert_from`]).
//!
//! `mot_memory_detail()` lists the memory pools of every registered storage wrapper
//! (`MaintenanceRoutine::memory_stats`): one row per table heap and index, with its bytes.

use std::sync::Arc;

use fdw_api::eval::{EvalContext, Program};
use fdw_api::types::compare::date_to_ts;
use fdw_api::{err, DataType, Datum, Expr, FdwError, FdwResult, Row};
use sqlparser::ast;

use super::expr::ExprCtx;
use super::logical::{BoundQuery, LogicalPlan, ScanRel};
use super::scope::Scope;
use super::{ident_name, Binder, CteDef};
use crate::srf::{function_table, FunctionScanFdw, FunctionSpec};

/// The columns of `mot_memory_detail()`.
const MEMORY_DETAIL_COLUMNS: [(&str, DataType); 4] =
    [("wrapper", DataType::Text), ("name", DataType::Text), ("kind", DataType::Text), ("bytes", DataType::Int8)];

impl Binder<'_> {
    /// Binds `FROM name(args) [AS alias(cols)]`.
    pub(crate) fn bind_srf(
        &mut self,
        name: &str,
        args: Option<&ast::TableFunctionArgs>,
        alias: Option<&ast::TableAlias>,
    ) -> FdwResult<(LogicalPlan, Scope)> {
        let args = self.srf_args(name, args)?;
        let (spec, columns) = match name {
            "generate_series" => {
                let (spec, ty) = generate_series(&args)?;
                (spec, vec![("generate_series".to_string(), ty)])
            }
            "mot_memory_detail" if args.is_empty() => {
                let cols = MEMORY_DETAIL_COLUMNS.iter().map(|(n, t)| (n.to_string(), t.clone())).collect();
                (FunctionSpec::Rows(Arc::new(self.memory_detail())), cols)
            }
            _ => return Err(no_function(name, &args)),
        };
        let columns = apply_alias(name, columns, alias)?;
        let table = function_table(name, columns.clone());
        let alias_name = alias.map(|a| ident_name(&a.name));
        let qualifier = alias_name.clone().unwrap_or_else(|| name.to_string());
        let scan = ScanRel {
            table,
            routine: Arc::new(FunctionScanFdw::new(spec)),
            relation: name.to_string(),
            alias: alias_name,
            want_row_id: false,
        };
        let mut scope = Scope::new();
        scope.add_relation(Some(&qualifier), &columns, 0);
        Ok((LogicalPlan::Scan(scan), scope))
    }

    /// Binds the arguments as constants: each is evaluated now.
    fn srf_args(&mut self, name: &str, args: Option<&ast::TableFunctionArgs>) -> FdwResult<Vec<Expr>> {
        let Some(args) = args else { return Ok(Vec::new()) };
        let scope = Scope::new();
        let mut out = Vec::with_capacity(args.args.len());
        for a in &args.args {
            let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) = a else {
                return Err(FdwError::feature(format!("argument form not supported in {name}(): {a}")));
            };
            let mut cx = ExprCtx::new(&scope, "functions in FROM");
            let bound = self.bind_expr(e, &mut cx)?;
            let mut variable = false;
            bound.walk(&mut |n| {
                if matches!(n, Expr::Param { .. } | Expr::Column { .. } | Expr::SubPlan { .. }) {
                    variable = true;
                }
            });
            if variable {
                return Err(FdwError::feature(format!(
                    "arguments of {name}() in FROM must be constants: parameters ($n), sub-selects and \
                     references to other relations are not supported there"
                )));
            }
            out.push(bound);
        }
        Ok(out)
    }

    /// Binds `insert` (an `INSERT ... SELECT * FROM <source_name>`) with `source_name`
    /// standing for `source`, as a CTE would: how COPY FROM reuses INSERT's defaults,
    /// coercions and batching over a scan of a transient file table.
    pub(crate) fn bind_insert_from(
        mut self,
        insert: &ast::Statement,
        source_name: &str,
        source: LogicalPlan,
    ) -> FdwResult<BoundQuery> {
        let columns = source.columns();
        let mut frame = std::collections::HashMap::new();
        frame.insert(source_name.to_string(), CteDef { plan: source, columns });
        self.ctes.push(frame);
        self.bind_statement(insert)
    }

    /// One row per memory pool of every registered wrapper that reports them.
    fn memory_detail(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        for wname in self.registry.names() {
            let Some(w) = self.registry.get(&wname) else { continue };
            let Some(m) = w.maintenance_routine() else { continue };
            for s in m.memory_stats() {
                rows.push(vec![
                    Datum::text(&wname),
                    Datum::text(&s.name),
                    Datum::text(&s.kind),
                    Datum::Int8(s.bytes.min(i64::MAX as u64) as i64),
                ]);
            }
        }
        rows
    }
}

/// PostgreSQL's naming of a function's output columns under an alias: `AS g` renames the
/// single column too; `AS g(a, b)` names columns in order.
fn apply_alias(
    function: &str,
    mut columns: Vec<(String, DataType)>,
    alias: Option<&ast::TableAlias>,
) -> FdwResult<Vec<(String, DataType)>> {
    let Some(a) = alias else { return Ok(columns) };
    if a.columns.len() > columns.len() {
        return Err(err!(SYNTAX_ERROR, "too many column aliases specified for function {}", function));
    }
    if a.columns.is_empty() && columns.len() == 1 {
        columns[0].0 = ident_name(&a.name);
    }
    for (i, c) in a.columns.iter().enumerate() {
        columns[i].0 = ident_name(&c.name);
    }
    Ok(columns)
}

fn no_function(name: &str, args: &[Expr]) -> FdwError {
    let types: Vec<String> = args.iter().map(|a| a.data_type().sql_name()).collect();
    err!(UNDEFINED_FUNCTION, "function {}({}) does not exist", name, types.join(", "))
        .with_hint("No function matches the given name and argument types. You might need to add explicit type casts.")
}

/// The value of a bound constant argument, converted to `ty`.
fn constant(e: &Expr, ty: &DataType) -> FdwResult<Datum> {
    let v = Program::compile(e)?.eval(&[], &mut EvalContext::default())?;
    let from = e.data_type();
    match (&v, &from) {
        (Datum::Null, _) => Ok(Datum::Null),
        (Datum::Text(s), DataType::Unknown) => ty.parse_text(s),
        _ if &from == ty => Ok(v),
        _ => fdw_api::func::cast_datum(v, &from, ty),
    }
}

/// Resolves `generate_series` for these argument types and evaluates its arguments.
fn generate_series(args: &[Expr]) -> FdwResult<(FunctionSpec, DataType)> {
    if !(2..=3).contains(&args.len()) {
        return Err(no_function("generate_series", args));
    }
    let types: Vec<DataType> = args.iter().map(|a| a.data_type()).collect();
    let is = |t: &DataType, f: fn(&DataType) -> bool| f(t) || *t == DataType::Unknown;
    let bounds = &types[..2];
    let ty = if bounds.iter().any(|t| matches!(t, DataType::Timestamp | DataType::Date))
        && bounds.iter().all(|t| matches!(t, DataType::Timestamp | DataType::Date | DataType::Unknown))
        && types.len() == 3
        && matches!(types[2], DataType::Interval | DataType::Unknown)
    {
        DataType::Timestamp
    } else if types.iter().all(|t| *t == DataType::Unknown) {
        let shown: Vec<String> = types.iter().map(|t| t.sql_name()).collect();
        return Err(err!(AMBIGUOUS_FUNCTION, "function generate_series({}) is not unique", shown.join(", "))
            .with_hint("Could not choose a best candidate function. You might need to add explicit type casts."));
    } else if types.iter().all(|t| is(t, DataType::is_integer)) {
        if types.contains(&DataType::Int8) {
            DataType::Int8
        } else {
            DataType::Int4
        }
    } else if types.iter().all(|t| is(t, DataType::is_integer) || matches!(t, DataType::Numeric(_))) {
        DataType::Numeric(None)
    } else {
        return Err(no_function("generate_series", args));
    };
    let start = constant(&args[0], &ty)?;
    let stop = constant(&args[1], &ty)?;
    let step = match (args.get(2), &ty) {
        (Some(e), DataType::Timestamp) => constant(e, &DataType::Interval)?,
        (Some(e), _) => constant(e, &ty)?,
        (None, DataType::Int4) => Datum::Int4(1),
        (None, DataType::Int8) => Datum::Int8(1),
        (None, _) => Datum::Numeric(1.into()),
    };
    if start.is_null() || stop.is_null() || step.is_null() {
        return Ok((FunctionSpec::Empty, ty));
    }
    let spec = match (&start, &stop, &step) {
        (Datum::Numeric(a), Datum::Numeric(b), Datum::Numeric(s)) => {
            FunctionSpec::NumericSeries { start: *a, stop: *b, step: *s }
        }
        (_, _, Datum::Interval(iv)) => {
            let ts = |d: &Datum| match d {
                Datum::Timestamp(t) => Ok(*t),
                Datum::Date(d) => Ok(date_to_ts(*d)),
                other => Err(FdwError::internal(format!("generate_series: {other:?} is not a timestamp"))),
            };
            FunctionSpec::TimestampSeries { start: ts(&start)?, stop: ts(&stop)?, step: *iv }
        }
        _ => {
            let int = |d: &Datum| d.as_i64().ok_or_else(|| FdwError::internal("generate_series: not an integer"));
            FunctionSpec::IntSeries { start: int(&start)?, stop: int(&stop)?, step: int(&step)?, ty: ty.clone() }
        }
    };
    Ok((spec, ty))
}
