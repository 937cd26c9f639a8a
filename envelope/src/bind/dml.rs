//! Binding of INSERT, UPDATE and DELETE.
//!
//! Each becomes a `Modify` node over an input producing what the wrapper's modify callbacks
//! take: INSERT full rows in table column order (defaults filled in, values coerced with
//! assignment rules); UPDATE the new full row followed by the old row's identity; DELETE the
//! old row followed by its identity.

use fdw_api::{err, DataType, Expr, FdwError, FdwResult, ModifyKind};
use sqlparser::ast;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::expr::ExprCtx;
use super::logical::{LCol, LogicalPlan, ModifyTarget, ScanRel};
use super::scope::Scope;
use super::{ident_name, object_name, Binder};

impl Binder<'_> {
    fn target_table(&mut self, name: &ast::ObjectName, alias: Option<String>) -> FdwResult<ScanRel> {
        let (schema, rel) = object_name(name)?;
        let catalog = self.catalog;
        let Some(entry) = catalog.relation(schema.as_deref(), &rel) else {
            if crate::catalog::sysviews::lookup(catalog, schema.as_deref(), &rel, &self.user).is_some() {
                return Err(err!(WRONG_OBJECT_TYPE, "cannot change system view \"{}\"", rel));
            }
            return Err(err!(UNDEFINED_TABLE, "relation \"{}\" does not exist", rel));
        };
        if entry.kind == crate::catalog::RelKind::View {
            return Err(err!(FEATURE_NOT_SUPPORTED, "cannot change view \"{}\"", rel)
                .with_detail("Views are not automatically updatable here."));
        }
        let table = crate::catalog::table_desc(catalog, entry, &self.user)?;
        let routine = crate::catalog::routine_for(catalog, self.registry, entry)?;
        Ok(ScanRel { table, routine, relation: rel, alias, want_row_id: false })
    }

    fn table_scope(scan: &ScanRel) -> Scope {
        let q = scan.alias.clone().unwrap_or_else(|| scan.table.name.clone());
        let cols: Vec<(String, DataType)> = scan.table.columns.iter().map(|c| (c.name.clone(), c.ty.clone())).collect();
        let mut s = Scope::new();
        s.add_relation(Some(&q), &cols, 0);
        s
    }

    /// The default of column `i` as an expression (NULL if none), coerced to its type.
    fn column_default(&mut self, scan: &ScanRel, i: usize) -> FdwResult<Expr> {
        let col = &scan.table.columns[i];
        let e = match &col.default {
            None => Expr::null(col.ty.clone()),
            Some(sql) => {
                let ast = Parser::new(&PostgreSqlDialect {})
                    .try_with_sql(sql)
                    .and_then(|mut p| p.parse_expr())
                    .map_err(|e| err!(SYNTAX_ERROR, "invalid default expression for column \"{}\": {}", col.name, e))?;
                let scope = Scope::new();
                let mut cx = ExprCtx::new(&scope, "DEFAULT expressions");
                self.bind_expr(&ast, &mut cx)?
            }
        };
        let name = col.name.clone();
        let ty = col.ty.clone();
        self.assign_coerce(e, &ty, &name)
    }

    fn bind_returning(
        &mut self,
        scan: &ScanRel,
        items: Option<&[ast::SelectItem]>,
    ) -> FdwResult<(Option<Vec<Expr>>, Vec<LCol>)> {
        let Some(items) = items else { return Ok((None, Vec::new())) };
        let scope = Self::table_scope(scan);
        let mut exprs = Vec::new();
        let mut cols = Vec::new();
        for item in items {
            match item {
                ast::SelectItem::Wildcard(_) | ast::SelectItem::QualifiedWildcard(..) => {
                    for c in scope.star(None) {
                        exprs.push(Expr::Column { index: c.index, ty: c.ty.clone() });
                        cols.push(LCol::new(c.name.clone(), c.ty.clone()));
                    }
                }
                ast::SelectItem::UnnamedExpr(e) | ast::SelectItem::ExprWithAlias { expr: e, .. } => {
                    let mut cx = ExprCtx::new(&scope, "RETURNING");
                    let x = self.bind_expr(e, &mut cx)?;
                    let name = match item {
                        ast::SelectItem::ExprWithAlias { alias, .. } => ident_name(alias),
                        _ => match e {
                            ast::Expr::Identifier(id) => ident_name(id),
                            ast::Expr::CompoundIdentifier(ids) => ids.last().map(ident_name).unwrap_or_default(),
                            _ => "?column?".into(),
                        },
                    };
                    cols.push(LCol::new(name, x.data_type()));
                    exprs.push(x);
                }
            }
        }
        Ok((Some(exprs), cols))
    }

    pub(crate) fn bind_insert(&mut self, ins: &ast::Insert) -> FdwResult<LogicalPlan> {
        let ast::TableObject::TableName(name) = &ins.table else {
            return Err(FdwError::feature("INSERT INTO TABLE FUNCTION is not supported"));
        };
        if ins.on.is_some() {
            return Err(FdwError::feature("INSERT ... ON CONFLICT is not supported"));
        }
        let scan = self.target_table(name, ins.table_alias.as_ref().map(ident_name))?;
        let ncols = scan.table.columns.len();
        // Without a column list the targets are the first columns, as many as the source has
        // (PostgreSQL: "the first N column names, if there are only N columns supplied").
        let mut targets: Vec<usize> = if ins.columns.is_empty() {
            (0..ncols).collect()
        } else {
            let mut v = Vec::new();
            for c in &ins.columns {
                let n = ident_name(c);
                let i = scan.table.column_index(&n).ok_or_else(|| {
                    err!(UNDEFINED_COLUMN, "column \"{}\" of relation \"{}\" does not exist", n, scan.table.name)
                })?;
                if v.contains(&i) {
                    return Err(err!(DUPLICATE_COLUMN, "column \"{}\" specified more than once", n));
                }
                v.push(i);
            }
            v
        };
        let source = ins.source.as_ref().ok_or_else(|| FdwError::feature("INSERT without a source"))?;
        let input = match (
            &*source.body,
            source.order_by.is_none() && source.limit_clause.is_none() && source.with.is_none(),
        ) {
            (ast::SetExpr::Values(values), true) => {
                if let Some(first) = values.rows.first() {
                    if values.rows.iter().any(|r| r.len() != first.len()) {
                        return Err(err!(SYNTAX_ERROR, "VALUES lists must all be the same length"));
                    }
                    if ins.columns.is_empty() {
                        targets.truncate(first.len());
                    }
                }
                self.insert_values(&scan, &targets, &values.rows)?
            }
            _ => {
                let (plan, _) = self.bind_query(source)?;
                let cols = plan.columns();
                if ins.columns.is_empty() {
                    targets.truncate(cols.len());
                }
                if cols.len() > targets.len() {
                    return Err(err!(SYNTAX_ERROR, "INSERT has more expressions than target columns"));
                }
                if cols.len() < targets.len() {
                    return Err(err!(SYNTAX_ERROR, "INSERT has more target columns than expressions"));
                }
                let mut exprs = Vec::with_capacity(ncols);
                let mut columns = Vec::with_capacity(ncols);
                for i in 0..ncols {
                    let col = scan.table.columns[i].clone();
                    let e = match targets.iter().position(|&t| t == i) {
                        Some(k) => {
                            let src = Expr::Column { index: k, ty: cols[k].ty.clone() };
                            self.assign_coerce(src, &col.ty, &col.name)?
                        }
                        None => self.column_default(&scan, i)?,
                    };
                    exprs.push(e);
                    columns.push(LCol::new(col.name.clone(), col.ty.clone()));
                }
                LogicalPlan::Project { input: Box::new(plan), exprs, columns }
            }
        };
        let (returning, returning_cols) = self.bind_returning(&scan, ins.returning.as_deref())?;
        Ok(LogicalPlan::Modify {
            input: Box::new(input),
            target: ModifyTarget { kind: ModifyKind::Insert, scan, returning, returning_cols },
        })
    }

    /// `INSERT ... VALUES`: each value is coerced straight to its column's type (so literals
    /// parse as that type) and `DEFAULT` takes the column default.
    fn insert_values(&mut self, scan: &ScanRel, targets: &[usize], rows: &[Vec<ast::Expr>]) -> FdwResult<LogicalPlan> {
        let ncols = scan.table.columns.len();
        let scope = Scope::new();
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            if row.len() > targets.len() {
                return Err(err!(SYNTAX_ERROR, "INSERT has more expressions than target columns"));
            }
            if row.len() < targets.len() {
                return Err(err!(SYNTAX_ERROR, "INSERT has more target columns than expressions"));
            }
            let mut full: Vec<Option<Expr>> = vec![None; ncols];
            for (e, &t) in row.iter().zip(targets) {
                let is_default = matches!(e, ast::Expr::Identifier(id) if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("default"));
                if is_default {
                    continue;
                }
                let mut cx = ExprCtx::new(&scope, "VALUES");
                let x = self.bind_expr(e, &mut cx)?;
                let col = scan.table.columns[t].clone();
                full[t] = Some(self.assign_coerce(x, &col.ty, &col.name)?);
            }
            let mut r = Vec::with_capacity(ncols);
            for (i, slot) in full.into_iter().enumerate() {
                r.push(match slot {
                    Some(e) => e,
                    None => self.column_default(scan, i)?,
                });
            }
            out.push(r);
        }
        let columns = scan.table.columns.iter().map(|c| LCol::new(c.name.clone(), c.ty.clone())).collect();
        Ok(LogicalPlan::Values { rows: out, columns })
    }

    pub(crate) fn bind_update(
        &mut self,
        table: &ast::TableWithJoins,
        assignments: &[ast::Assignment],
        selection: Option<&ast::Expr>,
        returning: Option<&[ast::SelectItem]>,
    ) -> FdwResult<LogicalPlan> {
        if !table.joins.is_empty() {
            return Err(FdwError::feature("UPDATE of a join is not supported"));
        }
        let ast::TableFactor::Table { name, alias, .. } = &table.relation else {
            return Err(FdwError::feature("UPDATE target must be a table"));
        };
        let mut scan = self.target_table(name, alias.as_ref().map(|a| ident_name(&a.name)))?;
        scan.want_row_id = true;
        let ncols = scan.table.columns.len();
        let scope = Self::table_scope(&scan);
        let mut plan = LogicalPlan::Scan(scan.clone());
        if let Some(w) = selection {
            let mut cx = ExprCtx::new(&scope, "WHERE");
            let p = self.bind_expr(w, &mut cx)?;
            let p = self.require_bool(p, "WHERE")?;
            plan = LogicalPlan::Filter { input: Box::new(plan), predicate: p };
        }
        let mut exprs: Vec<Expr> =
            scan.table.columns.iter().enumerate().map(|(i, c)| Expr::Column { index: i, ty: c.ty.clone() }).collect();
        let mut assigned = vec![false; ncols];
        for a in assignments {
            let ast::AssignmentTarget::ColumnName(cn) = &a.target else {
                return Err(FdwError::feature("multiple-column assignment is not supported"));
            };
            let (_, n) = object_name(cn)?;
            let i = scan.table.column_index(&n).ok_or_else(|| {
                err!(UNDEFINED_COLUMN, "column \"{}\" of relation \"{}\" does not exist", n, scan.table.name)
            })?;
            if assigned[i] {
                return Err(err!(SYNTAX_ERROR, "multiple assignments to same column \"{}\"", n));
            }
            assigned[i] = true;
            let col = scan.table.columns[i].clone();
            let is_default = matches!(&a.value, ast::Expr::Identifier(id) if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("default"));
            exprs[i] = if is_default {
                self.column_default(&scan, i)?
            } else {
                let mut cx = ExprCtx::new(&scope, "UPDATE");
                let x = self.bind_expr(&a.value, &mut cx)?;
                self.assign_coerce(x, &col.ty, &col.name)?
            };
        }
        exprs.push(Expr::Column { index: ncols, ty: DataType::Int8 });
        let mut columns: Vec<LCol> =
            scan.table.columns.iter().map(|c| LCol::new(c.name.clone(), c.ty.clone())).collect();
        columns.push(LCol::new("ctid", DataType::Int8));
        let input = LogicalPlan::Project { input: Box::new(plan), exprs, columns };
        let (ret, returning_cols) = self.bind_returning(&scan, returning)?;
        scan.want_row_id = false;
        Ok(LogicalPlan::Modify {
            input: Box::new(input),
            target: ModifyTarget { kind: ModifyKind::Update, scan, returning: ret, returning_cols },
        })
    }

    pub(crate) fn bind_delete(&mut self, del: &ast::Delete) -> FdwResult<LogicalPlan> {
        let from = match &del.from {
            ast::FromTable::WithFromKeyword(v) | ast::FromTable::WithoutKeyword(v) => v,
        };
        if from.len() != 1 || !from[0].joins.is_empty() || del.using.is_some() {
            return Err(FdwError::feature("DELETE of several tables or with USING is not supported"));
        }
        let ast::TableFactor::Table { name, alias, .. } = &from[0].relation else {
            return Err(FdwError::feature("DELETE target must be a table"));
        };
        let mut scan = self.target_table(name, alias.as_ref().map(|a| ident_name(&a.name)))?;
        scan.want_row_id = true;
        let scope = Self::table_scope(&scan);
        let mut plan = LogicalPlan::Scan(scan.clone());
        if let Some(w) = &del.selection {
            let mut cx = ExprCtx::new(&scope, "WHERE");
            let p = self.bind_expr(w, &mut cx)?;
            let p = self.require_bool(p, "WHERE")?;
            plan = LogicalPlan::Filter { input: Box::new(plan), predicate: p };
        }
        let (ret, returning_cols) = self.bind_returning(&scan, del.returning.as_deref())?;
        scan.want_row_id = false;
        Ok(LogicalPlan::Modify {
            input: Box::new(plan),
            target: ModifyTarget { kind: ModifyKind::Delete, scan, returning: ret, returning_cols },
        })
    }
}
