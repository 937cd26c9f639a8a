//! Remote statements: the SELECT of a scan (a base table, a pushed-down join or a pushed-down
//! aggregation), and the INSERT/UPDATE/DELETE of modifications, written as postgres_fdw
//! writes them so EXPLAIN VERBOSE shows the same `Remote SQL`.
//!
//! A scan's shape is a [`Source`]; a path carries it in its private data ([`RemotePath`]),
//! so `begin_scan` can run whatever the planner chose. Column numbering of each source:
//! - `Base`: the table's columns;
//! - `Join`: the outer table's columns, then the inner table's (aliases `r1`, `r2`);
//! - `Agg`: the grouping expressions, then the aggregates.
//!
//! `ScanRequest::columns`, its `quals` and the path's pathkeys use that numbering; quals of a
//! join become its `WHERE`, quals of an aggregation its `HAVING`.

use std::sync::Arc;

use fdw_api::{AggFunc, DataType, Datum, Expr, FdwError, FdwResult, JoinKind, PathKey, TableDesc};

use crate::deparse::{agg_name, is_shippable, needs_c_collation, push_const, Deparser};
use crate::options::{remote_column, remote_schema, remote_table};
use crate::quote::{push_ident, quote_ident};

/// What a remote query reads.
#[derive(Clone, Debug)]
pub enum Source {
    Base(Arc<TableDesc>),
    Join {
        kind: JoinKind,
        outer: Arc<TableDesc>,
        inner: Arc<TableDesc>,
        on: Vec<Expr>,
    },
    Agg {
        input: Arc<TableDesc>,
        /// Restriction quals of the input, over its columns (the `WHERE`).
        input_quals: Vec<Expr>,
        group_by: Vec<Expr>,
        aggregates: Vec<(AggFunc, Vec<Expr>, bool)>,
        /// Over the output columns (group keys, then aggregates).
        having: Option<Expr>,
    },
}

/// The private data of a join or aggregate path: its source and output column types.
#[derive(Clone, Debug)]
pub struct RemotePath {
    pub source: Source,
    pub output_types: Vec<DataType>,
}

impl Source {
    /// The table whose server and user mapping the query runs on.
    pub fn anchor(&self) -> &Arc<TableDesc> {
        match self {
            Source::Base(t) | Source::Agg { input: t, .. } => t,
            Source::Join { outer, .. } => outer,
        }
    }

    /// Types of the output columns.
    pub fn output_types(&self) -> FdwResult<Vec<DataType>> {
        Ok(match self {
            Source::Base(t) => t.columns.iter().map(|c| c.ty.clone()).collect(),
            Source::Join { outer, inner, .. } => {
                outer.columns.iter().chain(&inner.columns).map(|c| c.ty.clone()).collect()
            }
            Source::Agg { group_by, aggregates, .. } => {
                let mut v: Vec<DataType> = group_by.iter().map(Expr::data_type).collect();
                for (f, args, _) in aggregates {
                    v.push(agg_type(*f, args)?);
                }
                v
            }
        })
    }

    /// The `Relations:` line of EXPLAIN for joins and aggregations.
    pub fn relations(&self) -> Option<String> {
        let name = |t: &TableDesc| format!("({}.{})", quote_ident(&t.schema), quote_ident(&t.name));
        match self {
            Source::Base(_) => None,
            Source::Join { kind, outer, inner, .. } => {
                Some(format!("{} {} JOIN {}", name(outer), join_word(*kind), name(inner)))
            }
            Source::Agg { input, .. } => Some(format!("Aggregate on {}", name(input))),
        }
    }
}

fn join_word(kind: JoinKind) -> &'static str {
    match kind {
        JoinKind::Inner => "INNER",
        JoinKind::Left => "LEFT",
        JoinKind::Right => "RIGHT",
        JoinKind::Full => "FULL",
        JoinKind::Semi => "SEMI",
        JoinKind::Anti => "ANTI",
    }
}

/// The result type of an aggregate, as the envelope resolves it.
pub fn agg_type(func: AggFunc, args: &[Expr]) -> FdwResult<DataType> {
    let types: Vec<DataType> = args.iter().map(Expr::data_type).collect();
    let name = agg_name(func);
    match fdw_api::func::resolve_aggregate(name, &types, func == AggFunc::CountStar) {
        Some(r) => Ok(r?.1.ret),
        None => Err(FdwError::internal(format!("unknown aggregate {name}"))),
    }
}

/// `schema.table` of the remote relation.
pub fn push_table(out: &mut String, t: &TableDesc) {
    push_ident(out, remote_schema(t));
    out.push('.');
    push_ident(out, remote_table(t));
}

/// The SQL text of each column of `t`, optionally qualified by an alias.
fn column_texts(t: &TableDesc, alias: Option<&str>) -> FdwResult<Vec<String>> {
    (0..t.columns.len())
        .map(|i| {
            let mut s = String::new();
            if let Some(a) = alias {
                s.push_str(a);
                s.push('.');
            }
            push_ident(&mut s, remote_column(t, i)?);
            Ok(s)
        })
        .collect()
}

/// Appends `(c1) AND (c2) ...` (postgres_fdw's `appendConditions`).
fn push_conditions(out: &mut String, d: &mut Deparser<'_>, quals: &[Expr]) -> FdwResult<()> {
    for (i, q) in quals.iter().enumerate() {
        if i > 0 {
            out.push_str(" AND ");
        }
        out.push('(');
        d.expr(out, q)?;
        out.push(')');
    }
    Ok(())
}

/// What a scan asks of its remote query.
#[derive(Clone, Debug, Default)]
pub struct SelectSpec<'a> {
    pub columns: &'a [usize],
    pub quals: &'a [Expr],
    pub pathkeys: &'a [PathKey],
    pub limit: Option<u64>,
    /// Fetch `ctid` as an extra last column and lock the rows (`FOR UPDATE`).
    pub row_id: bool,
}

/// A deparsed query: its text, the envelope parameters behind `$1..$n` and the types of the
/// columns it returns.
#[derive(Clone, Debug)]
pub struct RemoteQuery {
    pub sql: String,
    pub params: Vec<(usize, DataType)>,
    pub types: Vec<DataType>,
}

/// The remote SELECT of a scan.
pub fn build_select(source: &Source, spec: &SelectSpec<'_>) -> FdwResult<RemoteQuery> {
    for q in spec.quals {
        if !is_shippable(q) {
            return Err(FdwError::internal("postgres_fdw: a qual of the scan cannot be evaluated remotely"));
        }
    }
    if spec.row_id && !matches!(source, Source::Base(_)) {
        return Err(FdwError::internal("postgres_fdw: row identities exist only for scans of one table"));
    }
    let all_types = source.output_types()?;
    let mut types = Vec::with_capacity(spec.columns.len() + 1);
    for &c in spec.columns {
        types.push(
            all_types.get(c).cloned().ok_or_else(|| FdwError::internal(format!("scan column {c} out of range")))?,
        );
    }
    let mut sql = String::with_capacity(128);
    let params;
    match source {
        Source::Base(t) => {
            let cols = column_texts(t, None)?;
            sql.push_str("SELECT ");
            push_target_list(&mut sql, &cols, spec.columns, spec.row_id.then_some("ctid"));
            sql.push_str(" FROM ");
            push_table(&mut sql, t);
            let mut d = Deparser::new(&cols);
            if !spec.quals.is_empty() {
                sql.push_str(" WHERE ");
                push_conditions(&mut sql, &mut d, spec.quals)?;
            }
            push_order_limit(&mut sql, &cols, &all_types, spec)?;
            params = d.params;
        }
        Source::Join { kind, outer, inner, on } => {
            let mut cols = column_texts(outer, Some("r1"))?;
            cols.extend(column_texts(inner, Some("r2"))?);
            sql.push_str("SELECT ");
            push_target_list(&mut sql, &cols, spec.columns, None);
            sql.push_str(" FROM (");
            push_table(&mut sql, outer);
            sql.push_str(" r1 ");
            sql.push_str(join_word(*kind));
            sql.push_str(" JOIN ");
            push_table(&mut sql, inner);
            sql.push_str(" r2 ON (");
            let mut d = Deparser::new(&cols);
            if on.is_empty() {
                sql.push_str("TRUE");
            } else {
                push_conditions(&mut sql, &mut d, on)?;
            }
            sql.push_str("))");
            if !spec.quals.is_empty() {
                sql.push_str(" WHERE ");
                push_conditions(&mut sql, &mut d, spec.quals)?;
            }
            push_order_limit(&mut sql, &cols, &all_types, spec)?;
            params = d.params;
        }
        Source::Agg { input, input_quals, group_by, aggregates, having } => {
            let input_cols = column_texts(input, None)?;
            let mut d = Deparser::new(&input_cols);
            // The text of each output column: group keys, then aggregates.
            let mut outs = Vec::with_capacity(group_by.len() + aggregates.len());
            for g in group_by {
                let mut s = String::new();
                d.expr(&mut s, g)?;
                outs.push(s);
            }
            for (f, args, distinct) in aggregates {
                let mut s = String::new();
                if matches!(f, AggFunc::Min | AggFunc::Max)
                    && args.first().is_some_and(|a| needs_c_collation(&a.data_type()))
                {
                    s.push_str(agg_name(*f));
                    s.push('(');
                    if *distinct {
                        s.push_str("DISTINCT ");
                    }
                    d.expr(&mut s, &args[0])?;
                    s.push_str(" COLLATE \"C\")");
                } else {
                    d.aggregate(&mut s, *f, args, *distinct)?;
                }
                outs.push(s);
            }
            sql.push_str("SELECT ");
            push_target_list(&mut sql, &outs, spec.columns, None);
            sql.push_str(" FROM ");
            push_table(&mut sql, input);
            if !input_quals.is_empty() {
                sql.push_str(" WHERE ");
                push_conditions(&mut sql, &mut d, input_quals)?;
            }
            let mut params_so_far = std::mem::take(&mut d.params);
            if !group_by.is_empty() {
                sql.push_str(" GROUP BY ");
                for (i, g) in outs.iter().take(group_by.len()).enumerate() {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    // Positional when selected (as postgres_fdw), else the expression.
                    match spec.columns.iter().position(|&c| c == i) {
                        Some(p) => sql.push_str(&(p + 1).to_string()),
                        None => sql.push_str(g),
                    }
                }
            }
            let mut hd = Deparser::new(&outs);
            hd.params = std::mem::take(&mut params_so_far);
            let having_quals: Vec<Expr> = having.iter().cloned().chain(spec.quals.iter().cloned()).collect();
            if !having_quals.is_empty() {
                sql.push_str(" HAVING ");
                push_conditions(&mut sql, &mut hd, &having_quals)?;
            }
            push_order_limit(&mut sql, &outs, &all_types, spec)?;
            params = hd.params;
        }
    }
    if spec.row_id {
        types.push(DataType::Text);
        sql.push_str(" FOR UPDATE");
    }
    Ok(RemoteQuery { sql, params, types })
}

fn push_target_list(out: &mut String, cols: &[String], wanted: &[usize], extra: Option<&str>) {
    let mut first = true;
    for &c in wanted {
        if !first {
            out.push_str(", ");
        }
        first = false;
        out.push_str(&cols[c]);
    }
    if let Some(e) = extra {
        if !first {
            out.push_str(", ");
        }
        first = false;
        out.push_str(e);
    }
    if first {
        out.push_str("NULL");
    }
}

fn push_order_limit(out: &mut String, cols: &[String], types: &[DataType], spec: &SelectSpec<'_>) -> FdwResult<()> {
    for (i, k) in spec.pathkeys.iter().enumerate() {
        let text = cols.get(k.column).ok_or_else(|| FdwError::internal("sort column out of range"))?;
        out.push_str(if i == 0 { " ORDER BY " } else { ", " });
        out.push_str(text);
        if types.get(k.column).is_some_and(needs_c_collation) {
            out.push_str(" COLLATE \"C\"");
        }
        out.push_str(if k.descending { " DESC" } else { " ASC" });
        out.push_str(if k.nulls_first { " NULLS FIRST" } else { " NULLS LAST" });
    }
    if let Some(n) = spec.limit {
        out.push_str(" LIMIT ");
        out.push_str(&n.to_string());
        out.push_str("::bigint");
    }
    Ok(())
}

/// `ctid` text as a literal, after checking it looks like one (`(block,offset)`).
pub fn push_ctid(out: &mut String, row_id: &Datum) -> FdwResult<()> {
    let s = row_id.as_str().unwrap_or("");
    let ok = s.len() >= 5
        && s.starts_with('(')
        && s.ends_with(')')
        && s[1..s.len() - 1].split(',').count() == 2
        && s[1..s.len() - 1].split(',').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        return Err(fdw_api::err!(INVALID_TEXT_REPRESENTATION, "invalid row identity for a remote row: \"{}\"", s));
    }
    out.push('\'');
    out.push_str(s);
    out.push_str("'::tid");
    Ok(())
}

/// ` RETURNING c1, c2, ...` over every column of `t`.
fn push_returning(out: &mut String, t: &TableDesc) -> FdwResult<()> {
    out.push_str(" RETURNING ");
    for i in 0..t.columns.len() {
        if i > 0 {
            out.push_str(", ");
        }
        push_ident(out, remote_column(t, i)?);
    }
    Ok(())
}

/// A literal for value `v` stored into column `i` of `t`.
fn push_value(out: &mut String, t: &TableDesc, i: usize, v: &Datum) {
    push_const(out, v, &t.columns[i].ty.without_modifier(), true);
}

/// `INSERT INTO t(c...) VALUES (...), (...) RETURNING c...` for a batch of full rows.
pub fn build_insert(t: &TableDesc, rows: &[fdw_api::Row]) -> FdwResult<String> {
    let mut sql = String::from("INSERT INTO ");
    push_table(&mut sql, t);
    sql.push('(');
    for i in 0..t.columns.len() {
        if i > 0 {
            sql.push_str(", ");
        }
        push_ident(&mut sql, remote_column(t, i)?);
    }
    sql.push_str(") VALUES ");
    for (r, row) in rows.iter().enumerate() {
        if row.len() != t.columns.len() {
            return Err(FdwError::internal(format!(
                "insert row has {} values for {} columns",
                row.len(),
                t.columns.len()
            )));
        }
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            push_value(&mut sql, t, i, v);
        }
        sql.push(')');
    }
    push_returning(&mut sql, t)?;
    Ok(sql)
}

/// `UPDATE t SET c = v, ... WHERE ctid = '(b,o)'::tid RETURNING c...`.
pub fn build_update_row(t: &TableDesc, row_id: &Datum, row: &[Datum]) -> FdwResult<String> {
    let mut sql = String::from("UPDATE ");
    push_table(&mut sql, t);
    sql.push_str(" SET ");
    for (i, v) in row.iter().enumerate().take(t.columns.len()) {
        if i > 0 {
            sql.push_str(", ");
        }
        push_ident(&mut sql, remote_column(t, i)?);
        sql.push_str(" = ");
        push_value(&mut sql, t, i, v);
    }
    sql.push_str(" WHERE ctid = ");
    push_ctid(&mut sql, row_id)?;
    push_returning(&mut sql, t)?;
    Ok(sql)
}

/// `DELETE FROM t WHERE ctid = '(b,o)'::tid RETURNING c...`.
pub fn build_delete_row(t: &TableDesc, row_id: &Datum) -> FdwResult<String> {
    let mut sql = String::from("DELETE FROM ");
    push_table(&mut sql, t);
    sql.push_str(" WHERE ctid = ");
    push_ctid(&mut sql, row_id)?;
    push_returning(&mut sql, t)?;
    Ok(sql)
}

/// A direct UPDATE/DELETE (`UPDATE t SET b = 'z'::text WHERE ((a = 1))`), or `None` when an
/// assignment or qual cannot be shipped or needs a parameter value.
pub fn build_direct(t: &TableDesc, assignments: Option<&[(usize, Expr)]>, quals: &[Expr]) -> FdwResult<Option<String>> {
    let has_param = |e: &Expr| {
        let mut found = false;
        e.walk(&mut |x| found |= matches!(x, Expr::Param { .. }));
        found
    };
    let exprs = assignments.unwrap_or(&[]).iter().map(|(_, e)| e).chain(quals);
    for e in exprs {
        if !is_shippable(e) || has_param(e) {
            return Ok(None);
        }
    }
    let cols = column_texts(t, None)?;
    let mut d = Deparser::new(&cols);
    let mut sql = String::new();
    match assignments {
        Some(sets) => {
            sql.push_str("UPDATE ");
            push_table(&mut sql, t);
            sql.push_str(" SET ");
            for (i, (c, e)) in sets.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(cols.get(*c).ok_or_else(|| FdwError::internal("assignment column out of range"))?);
                sql.push_str(" = ");
                d.expr(&mut sql, e)?;
            }
        }
        None => {
            sql.push_str("DELETE FROM ");
            push_table(&mut sql, t);
        }
    }
    if !quals.is_empty() {
        sql.push_str(" WHERE ");
        push_conditions(&mut sql, &mut d, quals)?;
    }
    Ok(Some(sql))
}
