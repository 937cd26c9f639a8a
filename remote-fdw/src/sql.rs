//! Remote statements: the SELECT of a scan (a base table, a pushed-down join or a pushed-down
//! aggregation), and the INSERT/UPDATE/DELETE of modifications, written as postgres_fdw
//! writes them so EXPLAIN VERBOSE shows the same `Remote SQL`.
//!
//! A scan's shape is a [`Source`]; a path carries it in its private data ([`RemotePath`]),
//! so `begin_scan` can run whatever the planner chose. Column numbering of each source:
//! - `Base`: the table's columns;
//! - `Join`: the columns of each table in order (aliases `r1`, `r2`, ...);
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
    /// A join of two tables of kind `kind`, or an inner join of three or more (joined left
    /// to right, as postgres_fdw nests a join relation with a further base relation): each
    /// condition of `on` goes to the `ON` of the first join where all its tables are present.
    Join {
        kind: JoinKind,
        tables: Vec<Arc<TableDesc>>,
        on: Vec<Expr>,
    },
    Agg {
        input: Arc<TableDesc>,
        /// An inner join of `input` (as `r1`) with these tables (`r2`, ...) on these
        /// conditions: the aggregation's input is then the join, and every expression of the
        /// aggregation is over `input`'s columns followed by those of each table.
        join: Option<(Vec<Arc<TableDesc>>, Vec<Expr>)>,
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
            Source::Join { tables, .. } => &tables[0],
        }
    }

    /// Types of the output columns.
    pub fn output_types(&self) -> FdwResult<Vec<DataType>> {
        Ok(match self {
            Source::Base(t) => t.columns.iter().map(|c| c.ty.clone()).collect(),
            Source::Join { tables, .. } => tables.iter().flat_map(|t| &t.columns).map(|c| c.ty.clone()).collect(),
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
        // `(a) INNER JOIN (b)`, `((a) INNER JOIN (b)) INNER JOIN (c)`, ...
        let joined = |kind: JoinKind, first: &TableDesc, rest: &[Arc<TableDesc>]| {
            let mut s = name(first);
            for (i, t) in rest.iter().enumerate() {
                if i > 0 {
                    s = format!("({s})");
                }
                s = format!("{s} {} JOIN {}", join_word(kind), name(t));
            }
            s
        };
        match self {
            Source::Base(_) => None,
            Source::Join { kind, tables, .. } => Some(joined(*kind, &tables[0], &tables[1..])),
            Source::Agg { input, join: None, .. } => Some(format!("Aggregate on {}", name(input))),
            Source::Agg { input, join: Some((rest, _)), .. } => {
                Some(format!("Aggregate on ({})", joined(JoinKind::Inner, input, rest)))
            }
        }
    }
}

/// Appends the `FROM` items of a join of `tables` (aliases `r1`, `r2`, ...), nested left to
/// right: `((t1 r1 INNER JOIN t2 r2 ON (...)) INNER JOIN t3 r3 ON (...))`. `on` is over the
/// tables' concatenated columns; each condition goes to the first join where all the tables
/// it references are present (a condition without columns to the first join).
fn push_join_from(
    out: &mut String,
    d: &mut Deparser<'_>,
    kind: JoinKind,
    tables: &[Arc<TableDesc>],
    on: &[Expr],
) -> FdwResult<()> {
    if tables.len() < 2 || (tables.len() > 2 && kind != JoinKind::Inner) {
        return Err(FdwError::internal("postgres_fdw: a remote join needs two tables, or only inner joins"));
    }
    let mut ends = Vec::with_capacity(tables.len());
    let mut end = 0;
    for t in tables {
        end += t.columns.len();
        ends.push(end);
    }
    // The join (1 = the first) where each condition goes.
    let level = |q: &Expr| -> usize {
        let last = q.columns().into_iter().max().map_or(0, |c| ends.iter().position(|&e| c < e).unwrap_or(usize::MAX));
        last.max(1)
    };
    if on.iter().any(|q| level(q) >= tables.len()) {
        return Err(FdwError::internal("postgres_fdw: a join condition references a column out of range"));
    }
    for _ in 1..tables.len() {
        out.push('(');
    }
    push_table(out, &tables[0]);
    out.push_str(" r1");
    for (i, t) in tables.iter().enumerate().skip(1) {
        out.push(' ');
        out.push_str(join_word(kind));
        out.push_str(" JOIN ");
        push_table(out, t);
        out.push_str(&format!(" r{} ON (", i + 1));
        let here: Vec<Expr> = on.iter().filter(|q| level(q) == i).cloned().collect();
        if here.is_empty() {
            out.push_str("TRUE");
        } else {
            push_conditions(out, d, &here)?;
        }
        out.push_str("))");
    }
    Ok(())
}

/// The SQL text of every column of the joined `tables`, qualified by `r1`, `r2`, ...
fn join_column_texts(tables: &[Arc<TableDesc>]) -> FdwResult<Vec<String>> {
    let mut cols = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        cols.extend(column_texts(t, Some(&format!("r{}", i + 1)))?);
    }
    Ok(cols)
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
        Source::Join { kind, tables, on } => {
            let cols = join_column_texts(tables)?;
            sql.push_str("SELECT ");
            push_target_list(&mut sql, &cols, spec.columns, None);
            sql.push_str(" FROM ");
            let mut d = Deparser::new(&cols);
            push_join_from(&mut sql, &mut d, *kind, tables, on)?;
            if !spec.quals.is_empty() {
                sql.push_str(" WHERE ");
                push_conditions(&mut sql, &mut d, spec.quals)?;
            }
            push_order_limit(&mut sql, &cols, &all_types, spec)?;
            params = d.params;
        }
        Source::Agg { input, join, input_quals, group_by, aggregates, having } => {
            let input_cols = match join {
                None => column_texts(input, None)?,
                Some((rest, _)) => {
                    let mut cols = column_texts(input, Some("r1"))?;
                    for (i, t) in rest.iter().enumerate() {
                        cols.extend(column_texts(t, Some(&format!("r{}", i + 2)))?);
                    }
                    cols
                }
            };
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
            match join {
                None => push_table(&mut sql, input),
                Some((rest, on)) => {
                    let tables: Vec<Arc<TableDesc>> =
                        std::iter::once(input.clone()).chain(rest.iter().cloned()).collect();
                    push_join_from(&mut sql, &mut d, JoinKind::Inner, &tables, on)?;
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use fdw_api::{BinaryOp, ColumnDef, Options};

    fn table(name: &str, cols: &[&str]) -> Arc<TableDesc> {
        Arc::new(TableDesc {
            id: 1,
            schema: "public".into(),
            name: name.into(),
            columns: cols
                .iter()
                .map(|c| ColumnDef {
                    name: c.to_string(),
                    ty: DataType::Int4,
                    not_null: false,
                    default: None,
                    options: Options::default(),
                })
                .collect(),
            table_options: Options::default(),
            server_name: "s".into(),
            server_options: Options::default(),
            wrapper_options: Options::default(),
            user_mapping_options: Options::default(),
            indexes: Vec::new(),
            stats: None,
        })
    }

    fn eq(a: usize, b: usize) -> Expr {
        Expr::Binary {
            op: BinaryOp::Eq,
            left: Box::new(Expr::Column { index: a, ty: DataType::Int4 }),
            right: Box::new(Expr::Column { index: b, ty: DataType::Int4 }),
            ty: DataType::Bool,
        }
    }

    #[test]
    fn joins_of_three_tables_nest_left_to_right() {
        let tables = vec![table("a", &["x", "y"]), table("b", &["x"]), table("c", &["y"])];
        // a.y = c.y (needs all three), a.x = b.x (first join), b.x = b.x (over b alone).
        let on = vec![eq(1, 3), eq(0, 2), eq(2, 2)];
        let source = Source::Join { kind: JoinKind::Inner, tables: tables.clone(), on: on.clone() };
        let q = build_select(&source, &SelectSpec { columns: &[0, 3], ..Default::default() }).unwrap();
        assert_eq!(
            q.sql,
            "SELECT r1.x, r3.y FROM ((public.a r1 INNER JOIN public.b r2 ON (((r1.x = r2.x)) AND ((r2.x = r2.x)))) \
             INNER JOIN public.c r3 ON (((r1.y = r3.y))))"
        );
        assert_eq!(source.relations().unwrap(), "((public.a) INNER JOIN (public.b)) INNER JOIN (public.c)");
        // An aggregation over it names the same nesting.
        let agg = Source::Agg {
            input: tables[0].clone(),
            join: Some((tables[1..].to_vec(), on.clone())),
            input_quals: Vec::new(),
            group_by: vec![Expr::Column { index: 3, ty: DataType::Int4 }],
            aggregates: vec![(AggFunc::CountStar, Vec::new(), false)],
            having: None,
        };
        assert_eq!(agg.relations().unwrap(), "Aggregate on (((public.a) INNER JOIN (public.b)) INNER JOIN (public.c))");
        // Only inner joins nest; a column past the last table is an error, not a panic.
        let left = Source::Join { kind: JoinKind::Left, tables: tables.clone(), on: on.clone() };
        assert!(build_select(&left, &SelectSpec { columns: &[0], ..Default::default() }).is_err());
        let bad = Source::Join { kind: JoinKind::Inner, tables, on: vec![eq(0, 9)] };
        assert!(build_select(&bad, &SelectSpec { columns: &[0], ..Default::default() }).is_err());
    }
}
