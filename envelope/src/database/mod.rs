//! The embedding API: `Database` (a data directory, its catalog and registered wrappers) and
//! `Session` (a connection: settings, the current transaction, prepared statements).
//!
//! A session runs each statement of a script in turn: DDL goes to the catalog (a new catalog
//! version is installed atomically and persisted to the data directory), queries and DML are
//! bound against a snapshot of the catalog, planned and executed. Every wrapper a transaction
//! touches is driven through the transaction lifecycle at its end.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use fdw_api::services::{EnvelopeServices, VolatileServices};
use fdw_api::{err, DataType, Datum, ExecContext, FdwError, FdwRoutine, IsolationLevel, Row};
use parking_lot::{Mutex, RwLock};
use sqlparser::ast;

use crate::bind::Binder;
use crate::catalog::registry::WrapperRegistry;
use crate::catalog::{ddl, Catalog};
use crate::plan::explain::{explain, ExplainOptions};
use crate::plan::physical::{Node, PhysicalQuery, Plan};
use crate::plan::plan_query;
use crate::sql::{self, Statement};
use crate::Result;

mod settings;
use settings::Settings;

/// A result column.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: DataType,
}

/// The result of one statement: rows for a query (possibly none), and psql's command tag
/// (`SELECT 3`, `CREATE FOREIGN TABLE`, `INSERT 0 1`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryResult {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub tag: String,
    /// NOTICE/WARNING messages raised by the statement, formatted as psql prints them
    /// (`NOTICE:  ...`).
    pub notices: Vec<String>,
    /// True when the statement returns a result set (even an empty one), so a client prints a
    /// table rather than the command tag.
    pub returns_rows: bool,
}

impl QueryResult {
    fn tag(tag: impl Into<String>) -> Self {
        QueryResult { tag: tag.into(), ..Default::default() }
    }

    /// The value at (row, column), converted to a Rust type.
    pub fn get<T: FromDatum>(&self, row: usize, column: usize) -> Result<T> {
        let d = self
            .rows
            .get(row)
            .and_then(|r| r.get(column))
            .ok_or_else(|| FdwError::internal(format!("no value at row {row}, column {column}")))?;
        T::from_datum(d)
    }
}

/// Conversion of a datum to a Rust value (typed rows).
pub trait FromDatum: Sized {
    fn from_datum(d: &Datum) -> Result<Self>;
}

macro_rules! from_datum_int {
    ($t:ty) => {
        impl FromDatum for $t {
            fn from_datum(d: &Datum) -> Result<Self> {
                d.as_i64()
                    .and_then(|v| <$t>::try_from(v).ok())
                    .ok_or_else(|| FdwError::internal(format!("cannot convert {:?} to {}", d, stringify!($t))))
            }
        }
    };
}
from_datum_int!(i16);
from_datum_int!(i32);
from_datum_int!(i64);

impl FromDatum for String {
    fn from_datum(d: &Datum) -> Result<Self> {
        if d.is_null() {
            return Err(FdwError::internal("cannot convert NULL to String"));
        }
        Ok(d.to_text())
    }
}

impl FromDatum for f64 {
    fn from_datum(d: &Datum) -> Result<Self> {
        match d {
            Datum::Float8(v) => Ok(*v),
            Datum::Float4(v) => Ok(*v as f64),
            Datum::Numeric(n) => n.to_string().parse().map_err(|_| FdwError::internal("bad numeric")),
            _ => d.as_i64().map(|v| v as f64).ok_or_else(|| FdwError::internal(format!("cannot convert {d:?} to f64"))),
        }
    }
}

impl FromDatum for bool {
    fn from_datum(d: &Datum) -> Result<Self> {
        d.as_bool().ok_or_else(|| FdwError::internal(format!("cannot convert {d:?} to bool")))
    }
}

impl<T: FromDatum> FromDatum for Option<T> {
    fn from_datum(d: &Datum) -> Result<Self> {
        if d.is_null() {
            Ok(None)
        } else {
            T::from_datum(d).map(Some)
        }
    }
}

impl FromDatum for Datum {
    fn from_datum(d: &Datum) -> Result<Self> {
        Ok(d.clone())
    }
}

/// Configures and opens a database.
pub struct DatabaseBuilder {
    data_dir: Option<PathBuf>,
    wrappers: Vec<Arc<dyn FdwRoutine>>,
    builtin: bool,
}

impl DatabaseBuilder {
    pub fn new() -> Self {
        DatabaseBuilder { data_dir: None, wrappers: Vec::new(), builtin: true }
    }
    /// Keep the catalog (and durable wrappers' data) in this directory; without one the
    /// database lives in memory.
    pub fn data_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.data_dir = Some(dir.as_ref().to_path_buf());
        self
    }
    /// Registers a wrapper under its `name()` (the handler name `CREATE FOREIGN DATA WRAPPER
    /// ... HANDLER` refers to).
    pub fn register(mut self, wrapper: Arc<dyn FdwRoutine>) -> Self {
        self.wrappers.push(wrapper);
        self
    }
    /// Whether to register the built-in wrappers (cargo feature `builtin-wrappers`).
    /// Default true.
    pub fn builtin_wrappers(mut self, on: bool) -> Self {
        self.builtin = on;
        self
    }
    pub fn open(self) -> Result<Database> {
        let mut registry = WrapperRegistry::new();
        if self.builtin {
            crate::builtin::register(&mut registry);
        }
        for w in self.wrappers {
            registry.register(w);
        }
        let services: Arc<dyn EnvelopeServices> = Arc::new(VolatileServices::default());
        for name in registry.names() {
            if let Some(w) = registry.get(&name) {
                w.init(services.clone())?;
            }
        }
        let catalog = match &self.data_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| FdwError::io(format!("could not create data directory \"{}\"", dir.display()), &e))?;
                Catalog::load(dir, &registry)?
            }
            None => Catalog::bootstrap(&registry),
        };
        Ok(Database {
            inner: Arc::new(DbInner {
                data_dir: self.data_dir,
                registry,
                catalog: RwLock::new(Arc::new(catalog)),
                ddl_lock: Mutex::new(()),
                services,
                next_xid: AtomicU64::new(1),
            }),
        })
    }
}

struct DbInner {
    data_dir: Option<PathBuf>,
    registry: WrapperRegistry,
    catalog: RwLock<Arc<Catalog>>,
    /// Serializes DDL: each DDL statement edits a private copy of the catalog and installs it.
    ddl_lock: Mutex<()>,
    services: Arc<dyn EnvelopeServices>,
    next_xid: AtomicU64,
}

/// A database: its catalog, registered wrappers and (with a data directory) durable state.
/// Cheap to clone; clones share the database.
#[derive(Clone)]
pub struct Database {
    inner: Arc<DbInner>,
}

impl Database {
    /// Opens (creating if needed) the database in `dir`, with the built-in wrappers.
    pub fn open(dir: impl AsRef<Path>) -> Result<Database> {
        DatabaseBuilder::new().data_dir(dir).open()
    }
    /// A database that lives in memory only, with the built-in wrappers.
    pub fn open_in_memory() -> Result<Database> {
        DatabaseBuilder::new().open()
    }
    pub fn builder() -> DatabaseBuilder {
        DatabaseBuilder::new()
    }
    /// A new session (connection) as user `postgres`.
    pub fn session(&self) -> Session {
        Session { db: self.inner.clone(), settings: Settings::default(), txn: None }
    }
    /// The data directory, if any.
    pub fn data_dir(&self) -> Option<&Path> {
        self.inner.data_dir.as_deref()
    }
}

/// A prepared statement (`Session::prepare`), executable many times with `$n` parameters.
#[derive(Clone, Debug)]
pub struct PreparedStatement {
    pub sql: String,
    pub param_types: Vec<DataType>,
    pub columns: Vec<Column>,
}

/// The state of an explicit transaction block (BEGIN ... COMMIT).
struct TxnState {
    xid: u64,
    /// Wrappers that took part, by handler name.
    touched: Vec<Arc<dyn FdwRoutine>>,
    /// Set after an error: everything but ROLLBACK/COMMIT is refused (25P02).
    failed: bool,
    isolation: IsolationLevel,
}

/// A connection to a database.
pub struct Session {
    db: Arc<DbInner>,
    settings: Settings,
    txn: Option<TxnState>,
}

impl Session {
    /// Runs every statement of `sql` in order and returns their results; stops after the
    /// first failing statement, whose error is the last element.
    pub fn execute_batch(&mut self, sql: &str) -> Vec<Result<QueryResult>> {
        let mut out = Vec::new();
        for (text, parsed) in sql::parse_script(sql) {
            let r = parsed.and_then(|stmt| self.run(&stmt, &text, &[]));
            let failed = r.is_err();
            out.push(r);
            if failed {
                break;
            }
        }
        out
    }

    /// Runs the statements of `sql`, returning the last result, or the first error.
    pub fn execute(&mut self, sql: &str) -> Result<QueryResult> {
        let mut last = Ok(QueryResult::tag(""));
        for r in self.execute_batch(sql) {
            last = r;
        }
        last
    }

    /// Runs one statement with `$n` parameters.
    pub fn query(&mut self, sql: &str, params: &[Datum]) -> Result<QueryResult> {
        let p = self.prepare(sql)?;
        self.execute_prepared(&p, params)
    }

    /// Parses and binds a statement, inferring the types of its `$n` parameters.
    pub fn prepare(&mut self, sql: &str) -> Result<PreparedStatement> {
        let stmt = single_statement(sql)?;
        let Statement::Sql(s) = &stmt else {
            return Ok(PreparedStatement { sql: sql.to_string(), param_types: Vec::new(), columns: Vec::new() });
        };
        if !is_plannable(s) {
            return Ok(PreparedStatement { sql: sql.to_string(), param_types: Vec::new(), columns: Vec::new() });
        }
        let catalog = self.db.catalog.read().clone();
        let bound = Binder::new(&catalog, &self.db.registry, crate::catalog::SUPERUSER).bind_statement(s)?;
        Ok(PreparedStatement {
            sql: sql.to_string(),
            param_types: bound.param_types.clone(),
            columns: bound.columns.iter().map(|c| Column { name: c.name.clone(), ty: c.ty.clone() }).collect(),
        })
    }

    /// Executes a prepared statement with parameter values (converted to the inferred types).
    pub fn execute_prepared(&mut self, stmt: &PreparedStatement, params: &[Datum]) -> Result<QueryResult> {
        if params.len() != stmt.param_types.len() {
            return Err(err!(
                PROTOCOL_VIOLATION,
                "bind message supplies {} parameters, but prepared statement requires {}",
                params.len(),
                stmt.param_types.len()
            ));
        }
        let mut converted = Vec::with_capacity(params.len());
        for (d, ty) in params.iter().zip(&stmt.param_types) {
            converted.push(convert_param(d, ty)?);
        }
        let parsed = single_statement(&stmt.sql)?;
        self.run(&parsed, &stmt.sql, &converted)
    }

    /// Whether an explicit transaction block is open.
    pub fn in_transaction(&self) -> bool {
        self.txn.is_some()
    }

    fn run(&mut self, stmt: &Statement, text: &str, params: &[Datum]) -> Result<QueryResult> {
        if let Some(t) = &self.txn {
            if t.failed && !is_txn_end(stmt) {
                return Err(err!(
                    IN_FAILED_SQL_TRANSACTION,
                    "current transaction is aborted, commands ignored until end of transaction block"
                ));
            }
        }
        let r = self.run_inner(stmt, text, params);
        if r.is_err() {
            if let Some(t) = &mut self.txn {
                t.failed = true;
            }
        }
        r
    }

    fn run_inner(&mut self, stmt: &Statement, _text: &str, params: &[Datum]) -> Result<QueryResult> {
        if let Statement::Sql(s) = stmt {
            match &**s {
                ast::Statement::StartTransaction { .. } => return self.begin(s),
                ast::Statement::Commit { .. } => return self.commit(),
                ast::Statement::Rollback { savepoint: None, .. } => return self.rollback(),
                ast::Statement::Rollback { savepoint: Some(_), .. }
                | ast::Statement::Savepoint { .. }
                | ast::Statement::ReleaseSavepoint { .. } => {
                    return Err(FdwError::feature("savepoints are not supported"));
                }
                ast::Statement::Set(set) => return self.settings.set(set).map(|_| QueryResult::tag("SET")),
                ast::Statement::ShowVariable { variable } => return self.settings.show(variable),
                ast::Statement::Explain { .. }
                | ast::Statement::Query(_)
                | ast::Statement::Insert(_)
                | ast::Statement::Update { .. }
                | ast::Statement::Delete(_) => {
                    return self.in_statement_txn(|s, ctx, touched| s.run_query(stmt, params, ctx, touched));
                }
                _ => {}
            }
        }
        if let Statement::Med(sql::med::MedStatement::Checkpoint) = stmt {
            return self.checkpoint();
        }
        self.in_statement_txn(|s, ctx, touched| s.run_ddl(stmt, ctx, touched))
    }

    /// Runs `f` inside the current transaction block, or in a transaction of its own.
    fn in_statement_txn(
        &mut self,
        f: impl FnOnce(&mut Self, &ExecContext, &mut Vec<Arc<dyn FdwRoutine>>) -> Result<QueryResult>,
    ) -> Result<QueryResult> {
        let (xid, block, isolation) = match &self.txn {
            Some(t) => (t.xid, true, t.isolation),
            None => (self.db.next_xid.fetch_add(1, Ordering::Relaxed), false, self.settings.isolation),
        };
        let ctx = ExecContext {
            xid,
            in_transaction_block: block,
            isolation,
            user: crate::catalog::SUPERUSER.to_string(),
            services: self.db.services.clone(),
        };
        let mut touched = Vec::new();
        let r = f(self, &ctx, &mut touched);
        if block {
            if let Some(t) = &mut self.txn {
                for w in touched {
                    if !t.touched.iter().any(|x| x.name() == w.name()) {
                        t.touched.push(w);
                    }
                }
            }
            return r;
        }
        match r {
            Ok(res) => {
                finish_txn(&ctx, &touched, true)?;
                Ok(res)
            }
            Err(e) => {
                let _ = finish_txn(&ctx, &touched, false);
                Err(e)
            }
        }
    }

    fn begin(&mut self, s: &ast::Statement) -> Result<QueryResult> {
        let mut res = QueryResult::tag("BEGIN");
        if self.txn.is_some() {
            res.notices.push("WARNING:  there is already a transaction in progress".into());
            return Ok(res);
        }
        let mut isolation = self.settings.isolation;
        if let ast::Statement::StartTransaction { modes, .. } = s {
            for m in modes {
                if let ast::TransactionMode::IsolationLevel(l) = m {
                    isolation = match l {
                        ast::TransactionIsolationLevel::Serializable => IsolationLevel::Serializable,
                        ast::TransactionIsolationLevel::RepeatableRead | ast::TransactionIsolationLevel::Snapshot => {
                            IsolationLevel::RepeatableRead
                        }
                        _ => IsolationLevel::ReadCommitted,
                    };
                }
            }
        }
        let xid = self.db.next_xid.fetch_add(1, Ordering::Relaxed);
        self.txn = Some(TxnState { xid, touched: Vec::new(), failed: false, isolation });
        Ok(res)
    }

    fn txn_ctx(&self, t: &TxnState) -> ExecContext {
        ExecContext {
            xid: t.xid,
            in_transaction_block: true,
            isolation: t.isolation,
            user: crate::catalog::SUPERUSER.to_string(),
            services: self.db.services.clone(),
        }
    }

    fn commit(&mut self) -> Result<QueryResult> {
        let Some(t) = self.txn.take() else {
            let mut r = QueryResult::tag("COMMIT");
            r.notices.push("WARNING:  there is no transaction in progress".into());
            return Ok(r);
        };
        let ctx = self.txn_ctx(&t);
        if t.failed {
            finish_txn(&ctx, &t.touched, false)?;
            return Ok(QueryResult::tag("ROLLBACK"));
        }
        finish_txn(&ctx, &t.touched, true)?;
        Ok(QueryResult::tag("COMMIT"))
    }

    fn rollback(&mut self) -> Result<QueryResult> {
        let Some(t) = self.txn.take() else {
            let mut r = QueryResult::tag("ROLLBACK");
            r.notices.push("WARNING:  there is no transaction in progress".into());
            return Ok(r);
        };
        let ctx = self.txn_ctx(&t);
        finish_txn(&ctx, &t.touched, false)?;
        Ok(QueryResult::tag("ROLLBACK"))
    }

    fn checkpoint(&mut self) -> Result<QueryResult> {
        if self.txn.is_some() {
            return Err(err!(ACTIVE_SQL_TRANSACTION, "CHECKPOINT cannot run inside a transaction block"));
        }
        let lsn = self.db.services.current_lsn();
        for name in self.db.registry.names() {
            if let Some(d) = self.db.registry.get(&name).and_then(|w| w.durability_routine().map(|_| w.clone())) {
                if let Some(r) = d.durability_routine() {
                    r.checkpoint(lsn)?;
                }
            }
        }
        Ok(QueryResult::tag("CHECKPOINT"))
    }

    fn run_ddl(
        &mut self,
        stmt: &Statement,
        ctx: &ExecContext,
        touched: &mut Vec<Arc<dyn FdwRoutine>>,
    ) -> Result<QueryResult> {
        let _guard = self.db.ddl_lock.lock();
        let mut catalog = (**self.db.catalog.read()).clone();
        let mut notices = Vec::new();
        let tag = {
            let mut cx = ddl::DdlContext {
                catalog: &mut catalog,
                registry: &self.db.registry,
                exec: ctx,
                notices: &mut notices,
            };
            ddl::execute_ddl(&mut cx, stmt)?
        };
        let Some(tag) = tag else {
            return Err(FdwError::feature(format!("statement not supported: {}", statement_text(stmt))));
        };
        // Storage wrappers that took part in the DDL join the transaction.
        for name in self.db.registry.names() {
            if let Some(w) = self.db.registry.get(&name) {
                if w.transaction_routine().is_some() && w.ddl_routine().is_some() {
                    touched.push(w);
                }
            }
        }
        if let Some(dir) = &self.db.data_dir {
            catalog.save(dir)?;
        }
        *self.db.catalog.write() = Arc::new(catalog);
        let mut r = QueryResult::tag(tag);
        r.notices = notices;
        Ok(r)
    }

    fn run_query(
        &mut self,
        stmt: &Statement,
        params: &[Datum],
        ctx: &ExecContext,
        touched: &mut Vec<Arc<dyn FdwRoutine>>,
    ) -> Result<QueryResult> {
        let Statement::Sql(s) = stmt else { return Err(FdwError::internal("not a query")) };
        let catalog = self.db.catalog.read().clone();
        let planner = self.settings.planner.clone();
        let (inner, explain_opts) = match &**s {
            ast::Statement::Explain { statement, analyze, verbose, options, .. } => {
                let mut o = ExplainOptions { verbose: *verbose, costs: true, analyze: *analyze };
                for opt in options.iter().flatten() {
                    let on = opt
                        .arg
                        .as_ref()
                        .map(|v| fdw_api::schema::parse_bool(&v.to_string()) != Some(false))
                        .unwrap_or(true);
                    match opt.name.value.to_lowercase().as_str() {
                        "analyze" => o.analyze = on,
                        "verbose" => o.verbose = on,
                        "costs" => o.costs = on,
                        "timing" | "summary" | "buffers" | "settings" | "wal" => {}
                        "format" => {
                            let v = opt.arg.as_ref().map(|v| v.to_string().to_lowercase()).unwrap_or_default();
                            if v != "text" {
                                return Err(FdwError::feature("only EXPLAIN (FORMAT TEXT) is supported"));
                            }
                        }
                        other => return Err(err!(SYNTAX_ERROR, "unrecognized EXPLAIN option \"{}\"", other)),
                    }
                }
                (&**statement, Some(o))
            }
            other => (other, None),
        };
        let t0 = Instant::now();
        let bound = Binder::new(&catalog, &self.db.registry, &ctx.user).bind_statement(inner)?;
        let physical = plan_query(&bound, &planner)?;
        let planning_ms = t0.elapsed().as_secs_f64() * 1000.0;
        let mut params_full = params.to_vec();
        params_full.resize(physical.num_params, Datum::Null);
        collect_wrappers(&physical, touched);
        begin_wrappers(ctx, touched, self.txn.as_ref())?;
        if let Some(opts) = explain_opts {
            let mut lines;
            if opts.analyze {
                let t1 = Instant::now();
                let (_rows, stats) = crate::exec::execute_analyze(&physical, &params_full, ctx)?;
                let exec_ms = t1.elapsed().as_secs_f64() * 1000.0;
                lines = explain(&physical, opts, Some(&stats));
                lines.push(format!("Planning Time: {planning_ms:.3} ms"));
                lines.push(format!("Execution Time: {exec_ms:.3} ms"));
            } else {
                lines = explain(&physical, opts, None);
            }
            return Ok(QueryResult {
                columns: vec![Column { name: "QUERY PLAN".into(), ty: DataType::Text }],
                tag: format!("EXPLAIN {}", lines.len()),
                rows: lines.into_iter().map(|l| vec![Datum::text(&l)]).collect(),
                notices: Vec::new(),
                returns_rows: true,
            });
        }
        let rows = crate::exec::execute(&physical, &params_full, ctx)?;
        let columns: Vec<Column> =
            bound.columns.iter().map(|c| Column { name: c.name.clone(), ty: c.ty.clone() }).collect();
        if let Node::Modify(m) = &physical.root.node {
            let verb = match m.kind {
                fdw_api::ModifyKind::Insert => "INSERT 0",
                fdw_api::ModifyKind::Update => "UPDATE",
                fdw_api::ModifyKind::Delete => "DELETE",
            };
            if m.returning.is_some() {
                let n = rows.len();
                return Ok(QueryResult {
                    columns,
                    rows,
                    tag: format!("{verb} {n}"),
                    notices: Vec::new(),
                    returns_rows: true,
                });
            }
            let n = rows.first().and_then(|r| r.first()).and_then(|d| d.as_i64()).unwrap_or(0);
            return Ok(QueryResult::tag(format!("{verb} {n}")));
        }
        let n = rows.len();
        Ok(QueryResult { columns, rows, tag: format!("SELECT {n}"), notices: Vec::new(), returns_rows: true })
    }
}

/// Calls `begin` of each wrapper newly touched by a statement.
fn begin_wrappers(ctx: &ExecContext, touched: &[Arc<dyn FdwRoutine>], txn: Option<&TxnState>) -> Result<()> {
    for w in touched {
        let already = txn.is_some_and(|t| t.touched.iter().any(|x| x.name() == w.name()));
        if !already {
            if let Some(tr) = w.transaction_routine() {
                tr.begin(ctx)?;
            }
        }
    }
    Ok(())
}

/// Ends a transaction in every wrapper it touched: pre-commit validation of all of them
/// first (any failure aborts all), then commit; or abort.
fn finish_txn(ctx: &ExecContext, touched: &[Arc<dyn FdwRoutine>], commit: bool) -> Result<()> {
    let routines: Vec<_> = touched.iter().filter_map(|w| w.transaction_routine()).collect();
    if commit {
        for r in &routines {
            if let Err(e) = r.pre_commit(ctx) {
                for r in &routines {
                    let _ = r.abort(ctx);
                    let _ = r.end(ctx.xid);
                }
                return Err(e);
            }
        }
        let lsn = ctx.services.current_lsn();
        let mut first_err = None;
        for r in &routines {
            if let Err(e) = r.commit(ctx, lsn) {
                first_err.get_or_insert(e);
            }
            let _ = r.end(ctx.xid);
        }
        if let Some(e) = first_err {
            return Err(e);
        }
    } else {
        for r in &routines {
            let _ = r.abort(ctx);
            let _ = r.end(ctx.xid);
        }
    }
    Ok(())
}

/// The wrappers a plan reads or writes.
fn collect_wrappers(q: &PhysicalQuery, out: &mut Vec<Arc<dyn FdwRoutine>>) {
    fn walk(p: &Plan, out: &mut Vec<Arc<dyn FdwRoutine>>) {
        let w = match &p.node {
            Node::ForeignScan(s) => Some(s.wrapper.clone()),
            Node::Modify(m) => Some(m.wrapper.clone()),
            _ => None,
        };
        if let Some(w) = w {
            if !out.iter().any(|x| x.name() == w.name()) {
                out.push(w);
            }
        }
        crate::plan::physical::for_each_child(p, &mut |c| walk(c, out));
    }
    walk(&q.root, out);
    for sp in &q.subplans {
        walk(&sp.plan, out);
    }
}

fn convert_param(d: &Datum, ty: &DataType) -> Result<Datum> {
    if d.is_null() {
        return Ok(Datum::Null);
    }
    let from = d.natural_type();
    if &from == ty || from.without_modifier() == ty.without_modifier() {
        return Ok(d.clone());
    }
    if let Datum::Text(s) = d {
        return ty.parse_text(s);
    }
    fdw_api::func::cast_datum(d.clone(), &from, ty)
}

fn single_statement(sql: &str) -> Result<Statement> {
    let mut parsed = sql::parse_script(sql);
    if parsed.len() != 1 {
        return Err(err!(SYNTAX_ERROR, "cannot insert multiple commands into a prepared statement"));
    }
    parsed.remove(0).1
}

fn is_plannable(s: &ast::Statement) -> bool {
    matches!(
        s,
        ast::Statement::Query(_)
            | ast::Statement::Insert(_)
            | ast::Statement::Update { .. }
            | ast::Statement::Delete(_)
    )
}

fn is_txn_end(stmt: &Statement) -> bool {
    matches!(stmt, Statement::Sql(s) if matches!(**s, ast::Statement::Commit { .. } | ast::Statement::Rollback { .. }))
}

fn statement_text(stmt: &Statement) -> String {
    match stmt {
        Statement::Sql(s) => s.to_string(),
        Statement::Med(m) => format!("{m:?}"),
    }
}
