//! ANALYZE, IMPORT FOREIGN SCHEMA and TRUNCATE against the remote server.
//!
//! - ANALYZE: the row count is the remote `reltuples` when the remote table was analyzed,
//!   else an exact `count(*)`; the sample is the whole table when it is small, else a
//!   `TABLESAMPLE BERNOULLI` of about 1.5 times the target reduced to the target by reservoir
//!   sampling (tables), or `ORDER BY random() LIMIT n` (views and foreign tables, which cannot
//!   be table-sampled).
//! - IMPORT FOREIGN SCHEMA reads `pg_class`/`pg_attribute` as postgres_fdw does (tables,
//!   views, materialized views, foreign and partitioned tables; not partitions), keeps
//!   `NOT NULL`, and sets `schema_name`/`table_name` and each column's `column_name`. Remote
//!   types the envelope lacks (json, uuid, timestamptz, arrays...) are imported as `text`:
//!   their text form travels unchanged, and comparisons with literals still work remotely.
//!   postgres_fdw's `import_default`/`import_collate` statement options are not available
//!   through the API (defaults are not imported).
//! - TRUNCATE: one `TRUNCATE ... CONTINUE IDENTITY RESTRICT` per server and user mapping,
//!   inside the remote transaction.

use std::sync::Arc;

use fdw_api::{
    err, AnalyzeSample, ColumnDef, DataType, Datum, ExecContext, FdwResult, ImportFilter, ImportedTable, Options,
    TableDesc,
};

use crate::conn::{ConnManager, ConnSpec, RemoteConn};
use crate::errors::intern_state;
use crate::options::{remote_column, remote_schema, remote_table, TableSettings};
use crate::quote::{push_ident, push_literal, quote_literal};
use crate::sql::push_table;

/// A small xorshift generator for reservoir sampling (no cryptographic need).
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        Rng(seed | 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn parse_row(table: &TableDesc, r: &postgres::SimpleQueryRow) -> FdwResult<Vec<Datum>> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| match r.get(i) {
            None => Ok(Datum::Null),
            Some(s) => c.ty.parse_text(s),
        })
        .collect()
}

/// AnalyzeForeignTable + AcquireSampleRowsFunc.
pub fn analyze(conns: &ConnManager, table: &Arc<TableDesc>, target: usize) -> FdwResult<AnalyzeSample> {
    let spec = ConnSpec::of_table(table);
    conns.with_conn(&spec, |conn| {
        let mut rel = String::new();
        push_table(&mut rel, table);
        let info = conn.rows(&format!(
            "SELECT reltuples, relkind FROM pg_catalog.pg_class WHERE oid = {}::pg_catalog.regclass",
            quote_literal(&rel)
        ))?;
        let (reltuples, relkind) = info
            .first()
            .map(|r| {
                (r.get(0).and_then(|v| v.parse::<f64>().ok()).unwrap_or(-1.0), r.get(1).unwrap_or("r").to_string())
            })
            .unwrap_or((-1.0, "r".into()));
        let total = if reltuples >= 0.0 && matches!(relkind.as_str(), "r" | "m") {
            reltuples
        } else {
            let rows = conn.rows(&format!("SELECT count(*) FROM {rel}"))?;
            rows.first().and_then(|r| r.get(0)).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        };
        let mut cols = String::new();
        for i in 0..table.columns.len() {
            if i > 0 {
                cols.push_str(", ");
            }
            push_ident(&mut cols, remote_column(table, i)?);
        }
        if cols.is_empty() {
            cols.push_str("NULL");
        }
        let sql = if total <= target as f64 {
            format!("SELECT {cols} FROM {rel}")
        } else if matches!(relkind.as_str(), "r" | "m") {
            let pct = (100.0 * 1.5 * target as f64 / total.max(1.0)).min(100.0);
            format!("SELECT {cols} FROM {rel} TABLESAMPLE BERNOULLI ({pct:.6})")
        } else {
            format!("SELECT {cols} FROM {rel} ORDER BY random() LIMIT {target}")
        };
        let fetched = conn.rows(&sql)?;
        let mut rng = Rng::new();
        let mut rows: Vec<Vec<Datum>> = Vec::with_capacity(target.min(fetched.len()));
        for (seen, r) in fetched.iter().enumerate() {
            if rows.len() < target {
                rows.push(parse_row(table, r)?);
            } else {
                let j = rng.below(seen as u64 + 1) as usize;
                if j < target {
                    rows[j] = parse_row(table, r)?;
                }
            }
        }
        Ok(AnalyzeSample { rows, total_rows: total.max(fetched.len() as f64) })
    })
}

/// Maps a remote `format_type` name to the envelope's type (`text` for the ones it lacks).
pub fn map_type(name: &str) -> DataType {
    let (base, args) = match name.find('(') {
        Some(p) => (name[..p].trim(), name[p + 1..].split(')').next().unwrap_or("")),
        None => (name.trim(), ""),
    };
    let nums: Vec<u32> = args.split(',').filter_map(|a| a.trim().parse().ok()).collect();
    let suffix = name.rsplit(')').next().unwrap_or("").trim();
    match base {
        "integer" => DataType::Int4,
        "smallint" => DataType::Int2,
        "bigint" => DataType::Int8,
        "real" => DataType::Float4,
        "double precision" => DataType::Float8,
        "boolean" => DataType::Bool,
        "text" => DataType::Text,
        "date" => DataType::Date,
        "timestamp without time zone" => DataType::Timestamp,
        "timestamp" if suffix == "without time zone" => DataType::Timestamp,
        "interval" => DataType::Interval,
        _ if base.starts_with("interval ") => DataType::Interval,
        "numeric" => match nums.as_slice() {
            [p, s] if *p <= 255 && *s <= *p => DataType::Numeric(Some((*p as u8, *s as u8))),
            [p] if *p <= 255 => DataType::Numeric(Some((*p as u8, 0))),
            _ => DataType::Numeric(None),
        },
        "character varying" => DataType::Varchar(nums.first().copied()),
        "character" => DataType::Char(Some(nums.first().copied().unwrap_or(1))),
        "bpchar" => DataType::Char(None),
        _ => DataType::Text,
    }
}

/// ImportForeignSchema.
pub fn import_schema(
    conns: &ConnManager,
    remote_schema_name: &str,
    filter: &ImportFilter,
    server_options: &Options,
    mapping: &Options,
) -> FdwResult<Vec<ImportedTable>> {
    // The API does not pass the server's name; its host names it in messages.
    let server = server_options.get("host").unwrap_or("localhost").to_string();
    let spec = ConnSpec { server: server.clone(), server_options: server_options.clone(), mapping: mapping.clone() };
    conns.with_conn(&spec, |conn| import_with(conn, &server, remote_schema_name, filter))
}

fn import_with(
    conn: &mut RemoteConn,
    server: &str,
    schema: &str,
    filter: &ImportFilter,
) -> FdwResult<Vec<ImportedTable>> {
    let exists =
        conn.rows(&format!("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = {}", quote_literal(schema)))?;
    if exists.is_empty() {
        return Err(fdw_api::FdwError::new(
            intern_state("HV00B"),
            format!("schema \"{schema}\" is not present on foreign server \"{server}\""),
        ));
    }
    let mut sql = String::from(
        "SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull \
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE c.relkind IN ('r', 'v', 'f', 'm', 'p') AND NOT c.relispartition AND n.nspname = ",
    );
    push_literal(&mut sql, schema);
    let (names, negate) = match filter {
        ImportFilter::All => (&[][..], false),
        ImportFilter::LimitTo(v) => (v.as_slice(), false),
        ImportFilter::Except(v) => (v.as_slice(), true),
    };
    if !names.is_empty() || matches!(filter, ImportFilter::LimitTo(_)) {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        sql.push_str(if negate { " AND c.relname NOT IN (" } else { " AND c.relname IN (" });
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            push_literal(&mut sql, n);
        }
        sql.push(')');
    }
    sql.push_str(" ORDER BY c.relname, a.attnum");
    let rows = conn.rows(&sql)?;
    let mut out: Vec<ImportedTable> = Vec::new();
    for r in &rows {
        let rel = r.get(0).unwrap_or_default();
        if out.last().is_none_or(|t| t.name != rel) {
            let mut options = Options::new();
            options.set("schema_name", schema);
            options.set("table_name", rel);
            out.push(ImportedTable { name: rel.to_string(), columns: Vec::new(), options });
        }
        let Some(att) = r.get(1) else { continue };
        let mut col_opts = Options::new();
        col_opts.set("column_name", att);
        if let Some(t) = out.last_mut() {
            t.columns.push(ColumnDef {
                name: att.to_string(),
                ty: map_type(r.get(2).unwrap_or("text")),
                not_null: r.get(3) == Some("t"),
                default: None,
                options: col_opts,
            });
        }
    }
    Ok(out)
}

/// ExecForeignTruncate.
pub fn truncate(conns: &ConnManager, tables: &[Arc<TableDesc>], ctx: &ExecContext) -> FdwResult<()> {
    let mut groups: Vec<(ConnSpec, Vec<&Arc<TableDesc>>)> = Vec::new();
    for t in tables {
        if !TableSettings::of(t)?.truncatable {
            return Err(fdw_api::FdwError::new(
                intern_state("55000"),
                format!("foreign table \"{}\" does not allow truncates", t.name),
            ));
        }
        let spec = ConnSpec::of_table(t);
        match groups.iter_mut().find(|(s, _)| s.key() == spec.key()) {
            Some((_, v)) => v.push(t),
            None => groups.push((spec, vec![t])),
        }
    }
    for (spec, ts) in groups {
        let mut sql = String::from("TRUNCATE ");
        for (i, t) in ts.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            push_ident(&mut sql, remote_schema(t));
            sql.push('.');
            push_ident(&mut sql, remote_table(t));
        }
        sql.push_str(" CONTINUE IDENTITY RESTRICT");
        let conn = conns.for_xact(&spec, ctx)?;
        conn.lock().exec(&sql)?;
    }
    Ok(())
}

/// PostgreSQL's error (`CheckValidResultRel`) for a table whose `updatable` is off.
pub fn not_updatable(table: &TableDesc, what: &str) -> fdw_api::FdwError {
    err!(WRONG_OBJECT_TYPE, "foreign table \"{}\" does not allow {}", table.name, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_type_names() {
        assert_eq!(map_type("integer"), DataType::Int4);
        assert_eq!(map_type("numeric(15,2)"), DataType::Numeric(Some((15, 2))));
        assert_eq!(map_type("numeric"), DataType::Numeric(None));
        assert_eq!(map_type("character varying(25)"), DataType::Varchar(Some(25)));
        assert_eq!(map_type("character varying"), DataType::Varchar(None));
        assert_eq!(map_type("character(1)"), DataType::Char(Some(1)));
        assert_eq!(map_type("timestamp(3) without time zone"), DataType::Timestamp);
        assert_eq!(map_type("timestamp with time zone"), DataType::Text);
        assert_eq!(map_type("interval day to second"), DataType::Interval);
        assert_eq!(map_type("jsonb"), DataType::Text);
        assert_eq!(map_type("integer[]"), DataType::Text);
    }
}
