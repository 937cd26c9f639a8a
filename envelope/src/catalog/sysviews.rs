//! System views: the `pg_catalog` relations and `information_schema` views a client or a
//! test queries, materialized from the catalog on demand (`lookup`). The binder scans the
//! returned rows like a VALUES list.
//!
//! Simplifications against PostgreSQL:
//! - OIDs are `bigint`; array columns (`fdwoptions`, `most_common_vals`, ...) are `text`
//!   rendered as PostgreSQL prints the array (`{a=b,"c=x,y"}`); `fdwhandler` and
//!   `fdwvalidator` show the function name (as `fdwhandler::regproc` would), not an OID.
//! - Only user objects are listed (no rows for the system catalogs themselves).
//! - `pg_user_mappings.umoptions` is shown to superusers and to the mapped user, hidden
//!   (NULL) from others, as PostgreSQL does for a server owned by the superuser; every
//!   session currently runs as the superuser `postgres`, so options are shown.
//! - `table_catalog` and friends name the database `postgres`.

use fdw_api::{ColumnDef, DataType, Datum, Options, Row};

use super::{Catalog, RelKind, RelationEntry, SUPERUSER};

/// The database name information_schema reports.
pub const DATABASE_NAME: &str = "postgres";
const PG_CATALOG_OID: i64 = 11;
const PUBLIC_OID: i64 = 2200;
const INFORMATION_SCHEMA_OID: i64 = 13_000;
const SUPERUSER_OID: i64 = 10;

/// Columns and rows of system view `name` (`schema` = `pg_catalog`, `information_schema` or
/// none for `pg_*` names), or `None` if there is no such view.
pub fn lookup(catalog: &Catalog, schema: Option<&str>, name: &str, user: &str) -> Option<(Vec<ColumnDef>, Vec<Row>)> {
    match (schema, name) {
        (None | Some("pg_catalog"), n) if n.starts_with("pg_") => pg_view(catalog, n, user),
        (Some("information_schema"), n) => info_view(catalog, n),
        _ => None,
    }
}

fn pg_view(cat: &Catalog, name: &str, user: &str) -> Option<(Vec<ColumnDef>, Vec<Row>)> {
    Some(match name {
        "pg_foreign_data_wrapper" => pg_foreign_data_wrapper(cat),
        "pg_foreign_server" => pg_foreign_server(cat),
        "pg_foreign_table" => pg_foreign_table(cat),
        "pg_user_mappings" => pg_user_mappings(cat, user),
        "pg_class" => pg_class(cat),
        "pg_attribute" => pg_attribute(cat),
        "pg_namespace" => pg_namespace(),
        "pg_indexes" => pg_indexes(cat),
        "pg_tables" => pg_tables(cat),
        "pg_views" => pg_views(cat),
        "pg_stats" => pg_stats(cat),
        _ => return None,
    })
}

fn info_view(cat: &Catalog, name: &str) -> Option<(Vec<ColumnDef>, Vec<Row>)> {
    Some(match name {
        "tables" => info_tables(cat),
        "columns" => info_columns(cat),
        "foreign_tables" => info_foreign_tables(cat),
        "foreign_servers" => info_foreign_servers(cat),
        "foreign_data_wrappers" => info_foreign_data_wrappers(cat),
        "foreign_table_options" => info_foreign_table_options(cat),
        "foreign_server_options" => info_foreign_server_options(cat),
        _ => return None,
    })
}

fn cols(spec: &[(&str, DataType)]) -> Vec<ColumnDef> {
    spec.iter()
        .map(|(n, t)| ColumnDef {
            name: n.to_string(),
            ty: t.clone(),
            not_null: false,
            default: None,
            options: Options::new(),
        })
        .collect()
}

fn t(s: &str) -> Datum {
    Datum::text(s)
}

fn opt_t(s: Option<&str>) -> Datum {
    s.map_or(Datum::Null, Datum::text)
}

/// An array element as PostgreSQL's array output writes it (quoted when needed).
fn array_elem(out: &mut String, s: &str) {
    let needs_quotes = s.is_empty()
        || s.eq_ignore_ascii_case("null")
        || s.chars().any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_ascii_whitespace());
    if !needs_quotes {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// A text array literal: `{a,b}`.
pub fn text_array<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from("{");
    for (i, s) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        array_elem(&mut out, s);
    }
    out.push('}');
    out
}

/// An option list as PostgreSQL shows `*options` columns: `{a=b,c=d}`, NULL when empty.
pub fn options_array(o: &Options) -> Datum {
    if o.is_empty() {
        return Datum::Null;
    }
    let items: Vec<String> = o.iter().map(|(k, v)| format!("{k}={v}")).collect();
    t(&text_array(items.iter().map(String::as_str)))
}

/// A float4 as PostgreSQL prints it (shortest round-trip digits; exponent outside 1e-4..1e15).
fn float4_text(v: f32) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e15).contains(&a) {
        let s = format!("{v:e}");
        match s.split_once('e') {
            Some((m, e)) => {
                let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
                format!("{m}e{sign}{digits:0>2}")
            }
            None => s,
        }
    } else {
        format!("{v}")
    }
}

fn relkind(r: &RelationEntry) -> &'static str {
    match r.kind {
        RelKind::View => "v",
        RelKind::ForeignTable if r.is_plain_table => "r",
        RelKind::ForeignTable => "f",
    }
}

fn oid(v: u32) -> Datum {
    Datum::Int8(v as i64)
}

fn pg_foreign_data_wrapper(cat: &Catalog) -> (Vec<ColumnDef>, Vec<Row>) {
    use DataType::*;
    let c = cols(&[
        ("oid", Int8),
        ("fdwname", Text),
        ("fdwowner", Int8),
        ("fdwhandler", Text),
        ("fdwvalidator", Text),
        ("fdwacl", Text),
        ("fdwoptions", Text),
    ]);
    let rows = cat
        .wrappers
        .values()
        .map(|w| {
            vec![
                oid(w.oid),
                t(&w.name),
                Datum::Int8(SUPERUSER_OID),
                opt_t(w.handler.as_ref().map(|h| format!("{h}_handler")).as_deref()),
                opt_t(w.validator.as_ref().map(|h| format!("{h}_validator")).as_deref()),
                Datum::Null,
                options_array(&w.options),
            ]
        })
        .collect();
    (c, rows)
}

fn pg_foreign_server(cat: &Catalog) -> (Vec<ColumnDef>, Vec<Row>) {
    use DataType::*;
    let c = cols(&[
        ("oid", Int8),
        ("srvname", Text),
        ("srvowner", Int8),
        ("srvfdw", Int8),
        ("srvtype", Text),
        ("srvversion", Text),
        ("srvacl", Text),
        ("srvoptions", Text),
    ]);
    let rows = cat
        .servers
        .values()
        .map(|s| {
            vec![
                oid(s.oid),
                t(&s.name),
                Datum::Int8(SUPERUSER_OID),
                cat.wrapper(&s.wrapper).map_or(Datum::Null, |w| oid(w.oid)),
                opt_t(s.server_type.as_deref()),
                opt_t(s.version.as_deref()),
                Datum::Null,
                options_array(&s.options),
            ]
        })
        .collect();
    (c, rows)
}

fn foreign_tables(cat: &Catalog) -> impl Iterator<Item = &RelationEntry> {
    cat.relations.values().map(|r| r.as_ref()).filter(|r| r.kind == RelKind::ForeignTable && !r.is_plain_table)
}

fn pg_foreign_table(cat: &Catalog) -> (Vec<ColumnDef>, Vec<Row>) {
    use DataType::*;
    let c = cols(&[("ftrelid", Int8), ("ftserver", Int8), ("ftoptions", Text)]);
    let rows = foreign_tables(cat)
        .map(|r| vec![oid(r.oid), cat.server(&r.server).map_or(Datum::Null, |s| oid(s.oid)), options_array(&r.options)])
        .collect();
    (c, rows)
}

fn pg_user_mappings(cat: &Catalog, user: &str) -> (Vec<ColumnDef>, Vec<Row>) {
    use DataType::*;
    let c = cols(&[
        ("umid", Int8),
        ("srvid", Int8),
        ("srvname", Text),
        ("umuser", Int8),
        ("usename", Text),
        ("umoptions", Text),
    ]);
    let rows = cat
        .user_mappings
        .iter()
        .map(|m| {
            let umuser = match m.user.as_str() {
                "public" => Datum::Int8(0),
                SUPERUSER => Datum::Int8(SUPERUSER_OID),
                _ => Datum::Null,
            };
            let visible = user == SUPERUSER || user == m.user;
            vec![
                oid(m.oid),
                cat.server(&m.server).map_or(Datum::Null, |s| oid(s.oid)),
                t(&m.server),
                umuser,
                t(&m.user),
                if visible { options_array(&m.options) } else { Datum::Null },
            ]
        })
        .collect();
    (c, rows)
}

fn pg_class(cat: &Catalog) -> (Vec<ColumnDef>, Vec<Row>) {
    use DataType::*;
    let c = cols(&[
        ("oid", Int8),
        ("relname", Text),
        ("relnamespace", Int8),
        ("relowner", Int8),
        ("relkind", Text),
        ("reltuples", Float4),
        ("relnatts", Int2),
    ]);
    let rows = cat
        .relations
        .values()
        .map(|r| {
            let tuples = r.stats.as_ref().map_or(-1.0, |s| s.row_count as f32);
            vec![
                oid(r.oid),
                t(&r.name),
                Datum::Int8(PUBLIC_OID),
                Datum::Int8(SUPERUSER_OID),
                t(relkind(r)),
                Datum::Float4(tuples),
                Datum::Int2(r.columns.len() as i16),
            ]
        })
        .collect();
    (c, rows)
}

/// PostgreSQL's type OID and typmod of a column type.
fn type_oid_mod(ty: &DataType) -> (i64, i32) {
    match ty {
        DataType::Bool => (16, -1),
        DataType::Int2 => (21, -1),
        DataType::Int4 => (23, -1),
        DataType::Int8 => (20, -1),
        DataType::Float4 => (700, -1),
        DataType::Float8 => (701, -1),
        DataType::Numeric(None) => (1700, -1),
        DataType::Numeric(Some((p, s))) => (1700, (((*p as i32) << 16) | *s as i32) + 4),
        DataType::Text => (25, -1),
        DataType::Varchar(n) => (1043, n.map_or(-1, |n| n as i32 + 4)),
        DataType::Char(n) => (1042, n.map_or(-1, |n| n as i32 + 4)),
        DataType::Date => (1082, -1),
        DataType::Timestamp => (1114, -1),
        DataType::Interval => (1186, -1),
        DataType::Unknown => (705, -1),
    }
}

/// The type name PostgreSQL's `pg_type.typname` (information_schema's `udt_name`) uses.
fn udt_name(ty: &DataType) -> &'static str {
    match ty {
        DataType::Bool => "bool",
        DataType::Int2 => "int2",
        DataType::Int4 => "int4",
        DataType::Int8 => "int8",
        DataType::Float4 => "float4",
        DataType::Float8 => "float8",
        DataType::Numeric(_) => "numeric",
        DataType::Text => "text",
        DataType::Varchar(_) => "varchar",
        DataType::Char(_) => "bpchar",
        DataType::Date => "date",
        DataType::Timestamp => "timestamp",
        DataType::Interval => "interval",
        DataType::Unknown => "unknown",
    }
}

fn pg_attribute(cat: &Catalog) -> (Vec<ColumnDef>, Vec<Row>) {
    use DataType::*;
    let c = cols(&[
        ("attrelid", Int8),
        ("attname", Text),
        ("atttypid", Int8),
        ("attnum", Int2),
        ("atttypmod", Int4),
        ("attnotnull", Bool),
        ("atthasdef", Bool),
        ("attisdropped", Bool),
        ("attfdwoptions", Text),
    ]);
    let mut rows = Vec::new();
    for r in cat.relations.values() {
        for (i, col) in r.columns.iter().enumerate() {
            let (typ, typmod) = type_oid_mod(&col.ty);
            rows.push(vec![
                oid(r.oid),
                t(&col.name),
                Datum::Int8(typ),
                Datum::Int2(i as i16 + 1),
                Datum::Int4(typmod),
                Datum::Bool(col.not_null),
                Datum::Bool(col.default.is_some()),
                Datum::Bool(false),
                options_array(&col.options),
            ]);
        }
    }
    (c, rows)
}

fn pg_namespace() -> (Vec<ColumnDef>, Vec<Row>) {
    use DataType::*;
    let c = cols(&[("oid", Int8), ("nspname", Text), ("nspowner", Int8)]);
    let rows = [(PG_CATALOG_OID, "pg_catalog"), (PUBLIC_OID, "public"), (INFORMATION_SCHEMA_OID, "information_schema")]
        .iter()
        .map(|(o, n)| vec![Datum::Int8(*o), t(n), Datum::Int8(SUPERUSER_OID)])
        .collect();
    (c, rows)
}

fn pg_indexes(cat: &Catalog) -> (Vec<ColumnDef>, Vec<Row>) {
    use DataType::*;
    let c = cols(&[
        ("schemaname", Text),
        ("tablename", Text),
        ("indexname", Text),
        ("tablespace", Text),
        ("indexdef", Text),
    ]);
    let mut rows = Vec::new();
    for r in cat.relations.values() {
        for ix in &r.indexes {
            let names: Vec<&str> =
                ix.columns.iter().filter_map(|&i| r.columns.get(i)).map(|c| c.name.as_str()).collect();
            let def = format!(
                "CREATE {}INDEX {} ON {}.{} USING btree ({})",
                if ix.unique { "UNIQUE " } else { "" },
                ix.name,
                r.schema,
                r.name,
                names.join(", ")
            );
            rows.push(vec![t(&r.schema), t(&r.name), t(&ix.name), Datum::Null, t(&def)]);
        }
    }
    (c, rows)
}

fn pg_tables(cat: &Catalog) -> (Vec<ColumnDef>, Vec<Row>) {
    use DataType::*;
    let c = cols(&[
        ("schemaname", Text),
        ("tablename", Text),
        ("tableowner", Text),
        ("tablespace", Text),
        ("hasindexes", Bool),
        ("hasrules", Bool),
        ("hastriggers", Bool),
        ("rowsecurity", Bool),
    ]);
    let rows = cat
        .relations
        .values()
        .filter(|r| r.is_plain_table)
        .map(|r| {
            vec![
                t(&r.schema),
                t(&r.name),
                t(SUPERUSER),
                Datum::Null,
                Datum::Bool(!r.indexes.is_empty()),
                Datum::Bool(false),
                Datum::Bool(false),
                Datum::Bool(false),
            ]
        })
        .collect();
    (c, rows)
}

fn pg_views(cat: &Catalog) -> (Vec<ColumnDef>, Vec<Row>) {
    use DataType::*;
    let c = cols(&[("schemaname", Text), ("viewname", Text), ("viewowner", Text), ("definition", Text)]);
    let rows = cat
        .relations
        .values()
        .filter(|r| r.kind == RelKind::View)
        .map(|r| vec![t(&r.schema), t(&r.name), t(SUPERUSER), opt_t(r.query.as_deref())])
        .collect();
    (c, rows)
}

fn pg_stats(cat: &Catalog) -> (Vec<ColumnDef>, Vec<Row>) {
    use DataType::*;
    let c = cols(&[
        ("schemaname", Text),
        ("tablename", Text),
        ("attname", Text),
        ("inherited", Bool),
        ("null_frac", Float4),
        ("avg_width", Int4),
        ("n_distinct", Float4),
        ("most_common_vals", Text),
        ("most_common_freqs", Text),
        ("histogram_bounds", Text),
        ("correlation", Float4),
    ]);
    let mut rows = Vec::new();
    for r in cat.relations.values() {
        let Some(stats) = &r.stats else { continue };
        for (col, st) in r.columns.iter().zip(&stats.columns) {
            let Some(st) = st else { continue };
            let values = |ds: &mut dyn Iterator<Item = &Datum>| {
                let texts: Vec<String> = ds.map(|d| d.to_text()).collect();
                t(&text_array(texts.iter().map(String::as_str)))
            };
            let (mcv, freqs) = if st.mcv.is_empty() {
                (Datum::Null, Datum::Null)
            } else {
                let freqs: Vec<String> = st.mcv.iter().map(|(_, f)| float4_text(*f as f32)).collect();
                (values(&mut st.mcv.iter().map(|(d, _)| d)), t(&format!("{{{}}}", freqs.join(","))))
            };
            let hist = if st.histogram.is_empty() { Datum::Null } else { values(&mut st.histogram.iter()) };
            rows.push(vec![
                t(&r.schema),
                t(&r.name),
                t(&col.name),
                Datum::Bool(false),
                Datum::Float4(st.null_frac as f32),
                Datum::Int4(st.avg_width as i32),
                Datum::Float4(st.n_distinct as f32),
                mcv,
                freqs,
                hist,
                Datum::Null,
            ]);
        }
    }
    (c, rows)
}

fn info_tables(cat: &Catalog) -> (Vec<ColumnDef>, Vec<Row>) {
    use DataType::*;
    let c = cols(&[
        ("table_catalog", Text),
        ("table_schema", Text),
        ("table_name", Text),
        ("table_type", Text),
        ("self_referencing_column_name", Text),
        ("reference_generation", Text),
        ("user_defined_type_catalog", Text),
        ("user_defined_type_schema", Text),
        ("user_defined_type_name", Text),
        ("is_insertable_into", Text),
        ("is_typed", Text),
        ("commit_action", Text),
    ]);
    let rows = cat
        .relations
        .values()
        .map(|r| {
            let ty = match relkind(r) {
                "v" => "VIEW",
                "r" => "BASE TABLE",
                _ => "FOREIGN",
            };
            let insertable = if r.is_plain_table { "YES" } else { "NO" };
            let mut row = vec![t(DATABASE_NAME), t(&r.schema), t(&r.name), t(ty)];
            row.extend(std::iter::repeat_n(Datum::Null, 5));
            row.extend([t(insertable), t("NO"), Datum::Null]);
            row
        })
        .collect();
    (c, rows)
}

fn info_columns(cat: &Catalog) -> (Vec<ColumnDef>, Vec<Row>) {
    use DataType::*;
    let c = cols(&[
        ("table_catalog", Text),
        ("table_schema", Text),
        ("table_name", Text),
        ("column_name", Text),
        ("ordinal_position", Int4),
        ("column_default", Text),
        ("is_nullable", Text),
        ("data_type", Text),
        ("character_maximum_length", Int4),
        ("character_octet_length", Int4),
        ("numeric_precision", Int4),
        ("numeric_precision_radix", Int4),
        ("numeric_scale", Int4),
        ("datetime_precision", Int4),
        ("udt_catalog", Text),
        ("udt_schema", Text),
        ("udt_name", Text),
    ]);
    let int = |v: Option<i32>| v.map_or(Datum::Null, Datum::Int4);
    let mut rows = Vec::new();
    for r in cat.relations.values() {
        for (i, col) in r.columns.iter().enumerate() {
            let max_len = match &col.ty {
                DataType::Varchar(Some(n)) | DataType::Char(Some(n)) => Some(*n as i32),
                _ => None,
            };
            // UTF-8: up to 4 bytes per character; unlimited strings report 1 GB.
            let octets = match &col.ty {
                DataType::Text | DataType::Varchar(None) | DataType::Char(None) => Some(1_073_741_824),
                _ => max_len.map(|n| n * 4),
            };
            let (precision, radix, scale) = match &col.ty {
                DataType::Int2 => (Some(16), Some(2), Some(0)),
                DataType::Int4 => (Some(32), Some(2), Some(0)),
                DataType::Int8 => (Some(64), Some(2), Some(0)),
                DataType::Float4 => (Some(24), Some(2), None),
                DataType::Float8 => (Some(53), Some(2), None),
                DataType::Numeric(Some((p, s))) => (Some(*p as i32), Some(10), Some(*s as i32)),
                DataType::Numeric(None) => (None, Some(10), None),
                _ => (None, None, None),
            };
            let dt_precision = match &col.ty {
                DataType::Date => Some(0),
                DataType::Timestamp | DataType::Interval => Some(6),
                _ => None,
            };
            rows.push(vec![
                t(DATABASE_NAME),
                t(&r.schema),
                t(&r.name),
                t(&col.name),
                Datum::Int4(i as i32 + 1),
                opt_t(col.default.as_deref()),
                t(if col.not_null { "NO" } else { "YES" }),
                t(col.ty.base_name()),
                int(max_len),
                int(octets),
                int(precision),
                int(radix),
                int(scale),
                int(dt_precision),
                t(DATABASE_NAME),
                t("pg_catalog"),
                t(udt_name(&col.ty)),
            ]);
        }
    }
    (c, rows)
}

fn info_foreign_tables(cat: &Catalog) -> (Vec<ColumnDef>, Vec<Row>) {
    use DataType::*;
    let c = cols(&[
        ("foreign_table_catalog", Text),
        ("foreign_table_schema", Text),
        ("foreign_table_name", Text),
        ("foreign_server_catalog", Text),
        ("foreign_server_name", Text),
    ]);
    let rows = foreign_tables(cat)
        .map(|r| vec![t(DATABASE_NAME), t(&r.schema), t(&r.name), t(DATABASE_NAME), t(&r.server)])
        .collect();
    (c, rows)
}

/// One row per option of each foreign table, as information_schema.foreign_table_options.
fn info_foreign_table_options(cat: &Catalog) -> (Vec<ColumnDef>, Vec<Row>) {
    use DataType::*;
    let c = cols(&[
        ("foreign_table_catalog", Text),
        ("foreign_table_schema", Text),
        ("foreign_table_name", Text),
        ("option_name", Text),
        ("option_value", Text),
    ]);
    let rows = foreign_tables(cat)
        .flat_map(|r| r.options.iter().map(move |(k, v)| vec![t(DATABASE_NAME), t(&r.schema), t(&r.name), t(k), t(v)]))
        .collect();
    (c, rows)
}

/// One row per option of each server, as information_schema.foreign_server_options.
fn info_foreign_server_options(cat: &Catalog) -> (Vec<ColumnDef>, Vec<Row>) {
    use DataType::*;
    let c = cols(&[
        ("foreign_server_catalog", Text),
        ("foreign_server_name", Text),
        ("option_name", Text),
        ("option_value", Text),
    ]);
    let rows = cat
        .servers
        .values()
        .flat_map(|s| s.options.iter().map(move |(k, v)| vec![t(DATABASE_NAME), t(&s.name), t(k), t(v)]))
        .collect();
    (c, rows)
}

fn info_foreign_servers(cat: &Catalog) -> (Vec<ColumnDef>, Vec<Row>) {
    use DataType::*;
    let c = cols(&[
        ("foreign_server_catalog", Text),
        ("foreign_server_name", Text),
        ("foreign_data_wrapper_catalog", Text),
        ("foreign_data_wrapper_name", Text),
        ("foreign_server_type", Text),
        ("foreign_server_version", Text),
        ("authorization_identifier", Text),
    ]);
    let rows = cat
        .servers
        .values()
        .map(|s| {
            vec![
                t(DATABASE_NAME),
                t(&s.name),
                t(DATABASE_NAME),
                t(&s.wrapper),
                opt_t(s.server_type.as_deref()),
                opt_t(s.version.as_deref()),
                t(SUPERUSER),
            ]
        })
        .collect();
    (c, rows)
}

fn info_foreign_data_wrappers(cat: &Catalog) -> (Vec<ColumnDef>, Vec<Row>) {
    use DataType::*;
    let c = cols(&[
        ("foreign_data_wrapper_catalog", Text),
        ("foreign_data_wrapper_name", Text),
        ("authorization_identifier", Text),
        ("library_name", Text),
        ("foreign_data_wrapper_language", Text),
    ]);
    let rows =
        cat.wrappers.values().map(|w| vec![t(DATABASE_NAME), t(&w.name), t(SUPERUSER), Datum::Null, t("c")]).collect();
    (c, rows)
}
