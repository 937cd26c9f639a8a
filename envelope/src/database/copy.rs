//! The utility commands that move or compact a table's data: COPY and VACUUM.
//!
//! **COPY FROM 'file'** reuses the registered `file_fdw` wrapper (looked up by handler name;
//! without it COPY FROM is refused) rather than a parser of its own: the COPY options become
//! the options of a transient foreign table over the file whose columns are the target
//! columns, and the statement is run as `INSERT INTO t (cols) SELECT * FROM <that scan>`
//! (bound through [`Binder::bind_insert_from`]), so column defaults, coercions and batched
//! inserts through the target's modify routine are exactly INSERT's. The scan is planned
//! serial so lines are read in order and the first bad line is the one reported, with
//! file_fdw's `CONTEXT:  COPY t, line 3, column a: "x"` as PostgreSQL's COPY prints it. It
//! runs inside the statement's transaction: any error (a bad line, a unique or not-null
//! violation) aborts the transaction and nothing is inserted. The target is locked
//! `RowExclusive`, as any DML.
//!
//! **COPY TO** runs `SELECT cols FROM t` (or the given query) and writes PostgreSQL's text or
//! CSV format to a file (absolute path only, as PostgreSQL), tag `COPY n`. `COPY ... TO
//! STDOUT` cannot stream through the embedding API: the lines (without their newline) come
//! back as the rows of one text column, with `returns_rows` false so a client prints the
//! command tag; a client that wants the data reads `rows`.
//!
//! **VACUUM [t]** calls the wrapper's `MaintenanceRoutine::vacuum` under an `AccessExclusive`
//! lock; tables whose wrapper cannot vacuum get PostgreSQL's `skipping "t"` warning.
//!
//! Simplifications: no COPY FROM STDIN or PROGRAM, no binary format, no `WHERE` clause; a
//! constraint violation reports no `COPY t, line n` context (rows reach the engine in
//! batches, after the file position is gone).

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Arc;

use fdw_api::{err, DataType, Datum, ExecContext, FdwError, FdwRoutine, OptionTarget, Options, SqlState, TableDesc};
use sqlparser::ast;

use super::locks::LockMode;
use super::session::collect_wrappers;
use super::txn::begin_wrappers;
use super::{Column, QueryResult, Session};
use crate::bind::logical::{LogicalPlan, ScanRel};
use crate::bind::Binder;
use crate::catalog::{self, Catalog, RelKind, RelationEntry};
use crate::plan::plan_query;
use crate::sql::{ident_name, object_name};
use crate::Result;

/// The handler COPY FROM parses files with.
const FILE_HANDLER: &str = "file_fdw";
/// The name the file scan goes by inside COPY's INSERT (a CTE name no user query sees).
const SOURCE_NAME: &str = "pg copy source";

/// COPY's format options, as (file_fdw option, value), plus the per-column flags.
#[derive(Default)]
struct CopyOpts {
    options: Options,
    force_not_null: Vec<String>,
    force_null: Vec<String>,
    force_quote: Option<Vec<String>>,
}

impl CopyOpts {
    fn parse(options: &[ast::CopyOption], legacy: &[ast::CopyLegacyOption]) -> Result<CopyOpts> {
        let mut o = CopyOpts::default();
        let names = |ids: &[ast::Ident]| ids.iter().map(ident_name).collect::<Vec<_>>();
        let set = |o: &mut CopyOpts, k: &str, v: String| -> Result<()> {
            if o.options.contains(k) {
                return Err(err!(SYNTAX_ERROR, "conflicting or redundant options"));
            }
            o.options.set(k, &v);
            Ok(())
        };
        for opt in options {
            match opt {
                ast::CopyOption::Format(f) => set(&mut o, "format", ident_name(f))?,
                ast::CopyOption::Freeze(_) => {}
                ast::CopyOption::Delimiter(c) => set(&mut o, "delimiter", c.to_string())?,
                ast::CopyOption::Null(s) => set(&mut o, "null", s.clone())?,
                ast::CopyOption::Header(h) => set(&mut o, "header", h.to_string())?,
                ast::CopyOption::Quote(c) => set(&mut o, "quote", c.to_string())?,
                ast::CopyOption::Escape(c) => set(&mut o, "escape", c.to_string())?,
                ast::CopyOption::Encoding(e) => set(&mut o, "encoding", e.clone())?,
                ast::CopyOption::ForceQuote(cols) => o.force_quote = Some(names(cols)),
                ast::CopyOption::ForceNotNull(cols) => o.force_not_null.extend(names(cols)),
                ast::CopyOption::ForceNull(cols) => o.force_null.extend(names(cols)),
            }
        }
        for opt in legacy {
            match opt {
                ast::CopyLegacyOption::Binary => set(&mut o, "format", "binary".into())?,
                ast::CopyLegacyOption::Delimiter(c) => set(&mut o, "delimiter", c.to_string())?,
                ast::CopyLegacyOption::Null(s) => set(&mut o, "null", s.clone())?,
                ast::CopyLegacyOption::Header => set(&mut o, "header", "true".into())?,
                ast::CopyLegacyOption::Csv(csv) => {
                    set(&mut o, "format", "csv".into())?;
                    for c in csv {
                        match c {
                            ast::CopyLegacyCsvOption::Header => set(&mut o, "header", "true".into())?,
                            ast::CopyLegacyCsvOption::Quote(q) => set(&mut o, "quote", q.to_string())?,
                            ast::CopyLegacyCsvOption::Escape(e) => set(&mut o, "escape", e.to_string())?,
                            ast::CopyLegacyCsvOption::ForceQuote(cols) => o.force_quote = Some(names(cols)),
                            ast::CopyLegacyCsvOption::ForceNotNull(cols) => o.force_not_null.extend(names(cols)),
                        }
                    }
                }
                other => return Err(FdwError::feature(format!("COPY option {other} is not supported"))),
            }
        }
        Ok(o)
    }

    fn csv(&self) -> bool {
        self.options.get("format") == Some("csv")
    }
}

/// The relation a COPY names, checked to be a table.
fn copy_relation<'c>(catalog: &'c Catalog, name: &ast::ObjectName, from: bool) -> Result<&'c Arc<RelationEntry>> {
    let (schema, rel) = object_name(name)?;
    let entry = catalog
        .relation(schema.as_deref(), &rel)
        .ok_or_else(|| err!(UNDEFINED_TABLE, "relation \"{}\" does not exist", rel))?;
    if entry.kind == RelKind::View {
        return Err(if from {
            err!(WRONG_OBJECT_TYPE, "cannot copy to view \"{}\"", rel)
                .with_hint("To enable copying to a view, provide an INSTEAD OF INSERT trigger.")
        } else {
            err!(WRONG_OBJECT_TYPE, "cannot copy from view \"{}\"", rel)
                .with_hint("Try the COPY (SELECT ...) TO variant.")
        });
    }
    if !from && !entry.is_plain_table {
        return Err(err!(WRONG_OBJECT_TYPE, "cannot copy from foreign table \"{}\"", rel)
            .with_hint("Try the COPY (SELECT ...) TO variant."));
    }
    Ok(entry)
}

/// Positions of the named columns (all columns when none are named).
fn copy_columns(rel: &RelationEntry, columns: &[ast::Ident]) -> Result<Vec<usize>> {
    if columns.is_empty() {
        return Ok((0..rel.columns.len()).collect());
    }
    let mut out = Vec::new();
    for c in columns {
        let n = ident_name(c);
        let i =
            rel.columns.iter().position(|x| x.name == n).ok_or_else(|| {
                err!(UNDEFINED_COLUMN, "column \"{}\" of relation \"{}\" does not exist", n, rel.name)
            })?;
        if out.contains(&i) {
            return Err(err!(DUPLICATE_COLUMN, "column \"{}\" specified more than once", n));
        }
        out.push(i);
    }
    Ok(out)
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

impl Session {
    /// Runs a COPY statement.
    pub(super) fn run_copy(
        &mut self,
        stmt: &ast::Statement,
        ctx: &ExecContext,
        touched: &mut Vec<Arc<dyn FdwRoutine>>,
    ) -> Result<QueryResult> {
        let ast::Statement::Copy { source, to, target, options, legacy_options, .. } = stmt else {
            return Err(FdwError::internal("run_copy: not a COPY statement"));
        };
        let opts = CopyOpts::parse(options, legacy_options)?;
        if *to {
            return self.copy_to(source, target, &opts, ctx, touched);
        }
        let ast::CopySource::Table { table_name, columns } = source else {
            return Err(err!(SYNTAX_ERROR, "COPY (query) FROM is not allowed"));
        };
        let filename = match target {
            ast::CopyTarget::File { filename } => filename.clone(),
            ast::CopyTarget::Stdin => {
                return Err(FdwError::feature("COPY FROM STDIN is not supported: use COPY FROM 'file'"))
            }
            _ => return Err(FdwError::feature("COPY FROM PROGRAM is not supported")),
        };
        if opts.force_quote.is_some() {
            return Err(err!(FEATURE_NOT_SUPPORTED, "COPY force quote only available using COPY TO"));
        }
        self.copy_from(table_name, columns, &filename, opts, ctx, touched)
    }

    fn copy_from(
        &mut self,
        table_name: &ast::ObjectName,
        columns: &[ast::Ident],
        filename: &str,
        opts: CopyOpts,
        ctx: &ExecContext,
        touched: &mut Vec<Arc<dyn FdwRoutine>>,
    ) -> Result<QueryResult> {
        let file_fdw = self.db.registry.get(FILE_HANDLER).ok_or_else(|| {
            FdwError::feature("COPY FROM a file needs the file_fdw wrapper, which is not registered in this database")
        })?;
        let catalog = self.db.catalog.read().clone();
        let rel = copy_relation(&catalog, table_name, true)?;
        let cols = copy_columns(rel, columns)?;
        // The transient file table: the target columns, COPY's options as table options.
        let mut table_options = opts.options.clone();
        table_options.set("filename", filename);
        file_fdw.validate_options(OptionTarget::Table, &table_options)?;
        let csv = opts.csv();
        let mut file_columns = Vec::with_capacity(cols.len());
        for &c in &cols {
            let mut def = rel.columns[c].clone();
            def.not_null = false;
            def.default = None;
            def.options = Options::new();
            for (list, key) in [(&opts.force_not_null, "force_not_null"), (&opts.force_null, "force_null")] {
                if list.contains(&def.name) {
                    def.options.set(key, "true");
                }
            }
            file_columns.push(def);
        }
        for (list, what) in [(&opts.force_not_null, "FORCE_NOT_NULL"), (&opts.force_null, "FORCE_NULL")] {
            if !list.is_empty() && !csv {
                let mode = if what == "FORCE_NOT_NULL" { "force not null" } else { "force null" };
                return Err(err!(FEATURE_NOT_SUPPORTED, "COPY {} available only in CSV mode", mode));
            }
            if let Some(bad) = list.iter().find(|n| !file_columns.iter().any(|c| &c.name == *n)) {
                return Err(err!(INVALID_COLUMN_REFERENCE, "{} column \"{}\" not referenced by COPY", what, bad));
            }
        }
        let file_table = Arc::new(TableDesc {
            id: 0,
            schema: rel.schema.clone(),
            name: rel.name.clone(),
            columns: file_columns,
            table_options,
            server_name: String::new(),
            server_options: Options::new(),
            wrapper_options: Options::new(),
            user_mapping_options: Options::new(),
            indexes: Vec::new(),
            stats: None,
        });
        let source = LogicalPlan::Scan(ScanRel {
            table: file_table,
            routine: file_fdw,
            relation: rel.name.clone(),
            alias: None,
            want_row_id: false,
        });
        let target_cols: Vec<String> = cols.iter().map(|&c| quote_ident(&rel.columns[c].name)).collect();
        let sql = format!(
            "INSERT INTO {}.{} ({}) SELECT * FROM {}",
            quote_ident(&rel.schema),
            quote_ident(&rel.name),
            target_cols.join(", "),
            quote_ident(SOURCE_NAME)
        );
        let insert = single_sql(&sql)?;
        let bound =
            Binder::new(&catalog, &self.db.registry, &ctx.user).bind_insert_from(&insert, SOURCE_NAME, source)?;
        let mut planner = self.settings.planner.clone();
        // One serial scan: lines arrive in file order and the first bad one is reported.
        planner.max_parallel_workers = 0;
        let physical = plan_query(&bound, &planner)?;
        self.lock_relation(rel.oid as u64, LockMode::RowExclusive, ctx)?;
        collect_wrappers(&physical, touched);
        begin_wrappers(ctx, touched, self.txn.as_ref())?;
        let rows = crate::exec::execute(&physical, &[], ctx)?;
        let n = rows.first().and_then(|r| r.first()).and_then(|d| d.as_i64()).unwrap_or(0);
        Ok(QueryResult::tag(format!("COPY {n}")))
    }

    fn copy_to(
        &mut self,
        source: &ast::CopySource,
        target: &ast::CopyTarget,
        opts: &CopyOpts,
        ctx: &ExecContext,
        touched: &mut Vec<Arc<dyn FdwRoutine>>,
    ) -> Result<QueryResult> {
        let file = match target {
            ast::CopyTarget::Stdout => None,
            ast::CopyTarget::File { filename } => {
                if !std::path::Path::new(filename).is_absolute() {
                    return Err(FdwError::new(SqlState("42602"), "relative path not allowed for COPY to file"));
                }
                Some(filename.clone())
            }
            _ => return Err(FdwError::feature("COPY TO PROGRAM is not supported")),
        };
        let catalog = self.db.catalog.read().clone();
        let query = match source {
            ast::CopySource::Table { table_name, columns } => {
                let rel = copy_relation(&catalog, table_name, false)?;
                let cols: Vec<String> =
                    copy_columns(rel, columns)?.iter().map(|&c| quote_ident(&rel.columns[c].name)).collect();
                single_sql(&format!(
                    "SELECT {} FROM {}.{}",
                    cols.join(", "),
                    quote_ident(&rel.schema),
                    quote_ident(&rel.name)
                ))?
            }
            ast::CopySource::Query(q) => ast::Statement::Query(q.clone()),
        };
        let format = TextFormat::new(opts)?;
        let bound = Binder::new(&catalog, &self.db.registry, &ctx.user).bind_statement(&query)?;
        let physical = plan_query(&bound, &self.settings.planner)?;
        collect_wrappers(&physical, touched);
        self.lock_relations(&super::locks::plan_targets(&catalog, &physical), ctx)?;
        begin_wrappers(ctx, touched, self.txn.as_ref())?;
        let rows = crate::exec::execute(&physical, &[], ctx)?;
        let names: Vec<String> = bound.columns.iter().map(|c| c.name.clone()).collect();
        let force: Vec<bool> = match &opts.force_quote {
            None => vec![false; names.len()],
            Some(list) => {
                if !format.csv {
                    return Err(err!(FEATURE_NOT_SUPPORTED, "COPY force quote available only in CSV mode"));
                }
                if let Some(bad) = list.iter().find(|n| *n != "*" && !names.contains(n)) {
                    return Err(err!(
                        INVALID_COLUMN_REFERENCE,
                        "FORCE_QUOTE column \"{}\" not referenced by COPY",
                        bad
                    ));
                }
                names.iter().map(|n| list.iter().any(|x| x == n || x == "*")).collect()
            }
        };
        let mut lines = Vec::with_capacity(rows.len() + 1);
        if format.header {
            let header: Vec<Datum> = names.iter().map(|n| Datum::text(n)).collect();
            lines.push(format.line(&header, &vec![false; names.len()]));
        }
        for r in &rows {
            lines.push(format.line(r, &force));
        }
        let tag = format!("COPY {}", rows.len());
        match file {
            Some(path) => {
                write_lines(&path, &lines)?;
                Ok(QueryResult::tag(tag))
            }
            None => Ok(QueryResult {
                columns: vec![Column { name: "COPY".into(), ty: DataType::Text }],
                rows: lines.into_iter().map(|l| vec![Datum::text(&l)]).collect(),
                tag,
                notices: Vec::new(),
                returns_rows: false,
            }),
        }
    }

    /// VACUUM [table]: compaction by the table's wrapper under an exclusive lock.
    pub(super) fn run_vacuum(&mut self, v: &ast::VacuumStatement) -> Result<QueryResult> {
        if self.txn.is_some() {
            return Err(err!(ACTIVE_SQL_TRANSACTION, "VACUUM cannot run inside a transaction block"));
        }
        let v = v.clone();
        self.in_statement_txn(move |s, ctx, _touched| s.vacuum(&v, ctx))
    }

    fn vacuum(&mut self, v: &ast::VacuumStatement, ctx: &ExecContext) -> Result<QueryResult> {
        let catalog = self.db.catalog.read().clone();
        let (named, targets): (bool, Vec<Arc<RelationEntry>>) = match &v.table_name {
            Some(n) => {
                let (schema, rel) = object_name(n)?;
                let entry = catalog
                    .relation(schema.as_deref(), &rel)
                    .ok_or_else(|| err!(UNDEFINED_TABLE, "relation \"{}\" does not exist", rel))?;
                (true, vec![entry.clone()])
            }
            None => (false, catalog.relations.values().filter(|r| r.kind == RelKind::ForeignTable).cloned().collect()),
        };
        let mut result = QueryResult::tag("VACUUM");
        for rel in targets {
            let skip =
                || format!("WARNING:  skipping \"{}\" --- cannot vacuum non-tables or special system tables", rel.name);
            if rel.kind == RelKind::View {
                result.notices.push(skip());
                continue;
            }
            let routine = catalog::routine_for(&catalog, &self.db.registry, &rel)?;
            let Some(m) = routine.maintenance_routine() else {
                if named {
                    result.notices.push(skip());
                }
                continue;
            };
            self.lock_relation(rel.oid as u64, LockMode::AccessExclusive, ctx)?;
            let table = catalog::table_desc(&catalog, &rel, &ctx.user)?;
            match m.vacuum(&table) {
                Ok(()) => {}
                Err(e) if e.sqlstate == SqlState::FEATURE_NOT_SUPPORTED => {
                    if named {
                        result.notices.push(skip());
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(result)
    }
}

fn single_sql(sql: &str) -> Result<ast::Statement> {
    match crate::sql::parse_script(sql).into_iter().next() {
        Some((_, Ok(crate::sql::Statement::Sql(s)))) => Ok(*s),
        Some((_, Err(e))) => Err(e),
        _ => Err(FdwError::internal(format!("COPY could not build its statement: {sql}"))),
    }
}

/// PostgreSQL's text and CSV output formats.
struct TextFormat {
    csv: bool,
    header: bool,
    delimiter: char,
    null: String,
    quote: char,
    escape: char,
}

impl TextFormat {
    fn new(opts: &CopyOpts) -> Result<TextFormat> {
        let o = &opts.options;
        let csv = match o.get("format") {
            None | Some("text") => false,
            Some("csv") => true,
            Some("binary") => return Err(FdwError::feature("COPY TO in binary format is not supported")),
            Some(f) => return Err(err!(INVALID_PARAMETER_VALUE, "COPY format \"{}\" not recognized", f)),
        };
        let header = match o.get_bool("header") {
            Some(Ok(h)) => h,
            Some(Err(_)) => return Err(err!(SYNTAX_ERROR, "header requires a Boolean value")),
            None => false,
        };
        let one = |k: &str, default: char| -> Result<char> {
            match o.get(k) {
                None => Ok(default),
                Some(v) if v.len() == 1 => Ok(v.chars().next().unwrap_or(default)),
                Some(_) => Err(err!(FEATURE_NOT_SUPPORTED, "COPY {} must be a single one-byte character", k)),
            }
        };
        let delimiter = one("delimiter", if csv { ',' } else { '\t' })?;
        if !csv && (o.contains("quote") || o.contains("escape")) {
            let k = if o.contains("quote") { "quote" } else { "escape" };
            return Err(err!(FEATURE_NOT_SUPPORTED, "COPY {} available only in CSV mode", k));
        }
        let quote = one("quote", '"')?;
        let escape = one("escape", quote)?;
        let null = o.get("null").map(str::to_string).unwrap_or_else(|| if csv { String::new() } else { "\\N".into() });
        Ok(TextFormat { csv, header, delimiter, null, quote, escape })
    }

    fn line(&self, row: &[Datum], force_quote: &[bool]) -> String {
        let mut out = String::new();
        for (i, d) in row.iter().enumerate() {
            if i > 0 {
                out.push(self.delimiter);
            }
            if d.is_null() {
                out.push_str(&self.null);
                continue;
            }
            let v = d.to_text();
            if self.csv {
                self.csv_value(&mut out, &v, force_quote.get(i).copied().unwrap_or(false), row.len() == 1);
            } else {
                self.text_value(&mut out, &v);
            }
        }
        out
    }

    fn text_value(&self, out: &mut String, v: &str) {
        for c in v.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\u{b}' => out.push_str("\\v"),
                c if c == self.delimiter => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
    }

    fn csv_value(&self, out: &mut String, v: &str, force: bool, single_column: bool) {
        let needs = force
            || v == self.null
            || (single_column && v == "\\.")
            || v.chars().any(|c| c == self.delimiter || c == self.quote || c == '\n' || c == '\r');
        if !needs {
            out.push_str(v);
            return;
        }
        out.push(self.quote);
        for c in v.chars() {
            if c == self.quote || c == self.escape {
                out.push(self.escape);
            }
            out.push(c);
        }
        out.push(self.quote);
    }
}

fn write_lines(path: &str, lines: &[String]) -> Result<()> {
    let open_err = |e: std::io::Error| {
        FdwError::io(format!("could not open file \"{path}\" for writing"), &e).with_hint(
            "COPY TO instructs the PostgreSQL server process to write a file. You may want a client-side facility \
             such as psql's \\copy.",
        )
    };
    let f = std::fs::File::create(path).map_err(open_err)?;
    let mut w = std::io::BufWriter::new(f);
    let mut buf = String::new();
    for l in lines {
        buf.clear();
        let _ = writeln!(buf, "{l}");
        w.write_all(buf.as_bytes()).map_err(|e| FdwError::io("could not write to COPY file", &e))?;
    }
    w.flush().map_err(|e| FdwError::io("could not write to COPY file", &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(options: &[(&str, &str)]) -> TextFormat {
        let mut o = CopyOpts::default();
        for (k, v) in options {
            o.options.set(k, v);
        }
        TextFormat::new(&o).unwrap()
    }

    #[test]
    fn text_format_escapes_like_postgres() {
        let f = fmt(&[]);
        let row = vec![Datum::Int4(1), Datum::text("a\tb\\c\nd"), Datum::Null];
        assert_eq!(f.line(&row, &[false; 3]), "1\ta\\tb\\\\c\\nd\t\\N");
    }

    #[test]
    fn csv_format_quotes_when_needed() {
        let f = fmt(&[("format", "csv")]);
        let row = vec![Datum::text("x,y"), Datum::text(""), Datum::Null, Datum::text("say \"hi\""), Datum::text("p")];
        assert_eq!(f.line(&row, &[false, false, false, false, true]), "\"x,y\",\"\",,\"say \"\"hi\"\"\",\"p\"");
        assert_eq!(f.line(&[Datum::text("\\.")], &[false]), "\"\\.\"");
    }
}
