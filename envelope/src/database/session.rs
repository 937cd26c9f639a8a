//! A session: statement dispatch, transaction blocks, prepared statements, EXPLAIN.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use fdw_api::{err, DataType, Datum, ExecContext, FdwError, FdwRoutine, IsolationLevel};
use parking_lot::Mutex;
use sqlparser::ast;

use super::locks::{plan_targets, LockMode};
use super::settings::Settings;
use super::txn::{begin_wrappers, finish_txn};
use super::{Column, DbInner, QueryResult};
use crate::bind::Binder;
use crate::catalog::ddl;
use crate::exec::lite::Lite;
use crate::plan::explain::{explain, ExplainOptions};
use crate::plan::physical::{Node, PhysicalQuery, Plan};
use crate::plan::{plan_query, PlannerSettings};
use crate::sql::{self, Statement};
use crate::Result;

/// A prepared statement (`Session::prepare`), executable many times with `$n` parameters.
///
/// It keeps its parse tree and, once executed, its plan: later executions reuse the plan as
/// long as the catalog version (any DDL or ANALYZE makes a new one) and the planner settings
/// it was made under are unchanged, like PostgreSQL's generic plans of a prepared statement.
#[derive(Clone)]
pub struct PreparedStatement {
    pub sql: String,
    pub param_types: Vec<DataType>,
    pub columns: Vec<Column>,
    parsed: Arc<Statement>,
    cache: PlanCache,
}

impl PreparedStatement {
    /// Whether the statement's current plan runs on its wrapper's lite execution path
    /// (`enable_lite_path`): known once it has been executed.
    pub fn on_lite_path(&self) -> bool {
        self.cache.lock().as_ref().is_some_and(|p| p.lite.is_some())
    }
}

impl std::fmt::Debug for PreparedStatement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedStatement")
            .field("sql", &self.sql)
            .field("param_types", &self.param_types)
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

/// The plan a prepared statement made last, shared by the clones of the statement.
pub(super) type PlanCache = Arc<Mutex<Option<Arc<CachedPlan>>>>;

/// A plan and what it was made under.
pub(super) struct CachedPlan {
    /// `DbInner::catalog_version` when the plan was made (or earlier).
    catalog_version: u64,
    planner: PlannerSettings,
    physical: Arc<PhysicalQuery>,
    columns: Vec<Column>,
    /// The table locks the plan takes.
    locks: Vec<(u64, LockMode)>,
    /// The plan on its wrapper's lite execution path, if it has one.
    lite: Option<Lite>,
    /// The wrappers the plan reads or writes (they join the transaction).
    wrappers: Vec<Arc<dyn FdwRoutine>>,
}

/// The state of an explicit transaction block (BEGIN ... COMMIT).
pub(super) struct TxnState {
    pub(super) xid: u64,
    /// Wrappers that took part, by handler name.
    pub(super) touched: Vec<Arc<dyn FdwRoutine>>,
    /// Set after an error: everything but ROLLBACK/COMMIT is refused (25P02).
    pub(super) failed: bool,
    pub(super) isolation: IsolationLevel,
    /// Transaction start, what `now()` returns throughout the block (microseconds since
    /// 2000-01-01, as timestamps are kept).
    pub(super) started_at: i64,
}

/// A statement of SQL-level PREPARE: the parsed statement, its parameter types, its plan.
#[derive(Clone)]
struct SqlPrepared {
    stmt: Arc<Statement>,
    types: Vec<DataType>,
    cache: PlanCache,
}

/// A connection to a database.
pub struct Session {
    pub(super) db: Arc<DbInner>,
    pub(super) settings: Settings,
    pub(super) txn: Option<TxnState>,
    /// SQL-level prepared statements (PREPARE name AS ...): the statement and its declared
    /// parameter types.
    sql_prepared: HashMap<String, SqlPrepared>,
    /// The database's services behind a handle of this session's own (`SessionServices`).
    pub(super) services: Arc<dyn fdw_api::EnvelopeServices>,
}

/// The database's services, forwarded: every statement puts the services in its
/// `ExecContext`, and cloning the database's own `Arc` there would make all sessions write its
/// reference count, one cache line bouncing between cores. A session clones its own handle.
struct SessionServices(Arc<dyn fdw_api::EnvelopeServices>);

impl fdw_api::EnvelopeServices for SessionServices {
    fn wal_insert(&self, rmgr: fdw_api::services::RmgrId, xid: fdw_api::TxnId, data: &[u8]) -> Result<fdw_api::Lsn> {
        self.0.wal_insert(rmgr, xid, data)
    }
    fn current_lsn(&self) -> fdw_api::Lsn {
        self.0.current_lsn()
    }
    fn wal_flush(&self, lsn: fdw_api::Lsn) -> Result<()> {
        self.0.wal_flush(lsn)
    }
    fn data_dir(&self) -> Option<std::path::PathBuf> {
        self.0.data_dir()
    }
}

impl Session {
    pub(super) fn new(db: Arc<DbInner>) -> Session {
        let services = Arc::new(SessionServices(db.services.clone()));
        Session { db, settings: Settings::default(), txn: None, sql_prepared: HashMap::new(), services }
    }

    /// Runs every statement of `sql` in order and returns their results; stops after the
    /// first failing statement, whose error is the last element.
    pub fn execute_batch(&mut self, sql: &str) -> Vec<Result<QueryResult>> {
        if let Some(stmt) = transaction_control(sql) {
            return vec![self.run(stmt, &[], None)];
        }
        let mut out = Vec::new();
        for (text, parsed) in sql::parse_script(sql) {
            let _ = text;
            let r = parsed.and_then(|stmt| self.run(&stmt, &[], None));
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
        let mut p = PreparedStatement {
            sql: sql.to_string(),
            param_types: Vec::new(),
            columns: Vec::new(),
            parsed: Arc::new(stmt),
            cache: PlanCache::default(),
        };
        if let Statement::Sql(s) = &*p.parsed {
            if is_plannable(s) {
                let catalog = self.db.catalog.read().clone();
                let bound = Binder::new(&catalog, &self.db.registry, crate::catalog::SUPERUSER).bind_statement(s)?;
                p.param_types = bound.param_types;
                p.columns = result_columns(&bound.columns);
            }
        }
        Ok(p)
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
        self.run(&stmt.parsed, &converted, Some(&stmt.cache))
    }

    fn sql_prepare(
        &mut self,
        name: &ast::Ident,
        types: &[ast::DataType],
        stmt: &ast::Statement,
    ) -> Result<QueryResult> {
        let name = sql::ident_name(name);
        if self.sql_prepared.contains_key(&name) {
            return Err(err!(DUPLICATE_PSTATEMENT, "prepared statement \"{}\" already exists", name));
        }
        let types: Vec<DataType> = types.iter().map(sql::data_type).collect::<Result<_>>()?;
        // Bind once now so errors surface at PREPARE, as in PostgreSQL.
        let catalog = self.db.catalog.read().clone();
        let bound = Binder::new(&catalog, &self.db.registry, crate::catalog::SUPERUSER)
            .with_param_types(&types)
            .bind_statement(stmt)?;
        let mut all = bound.param_types;
        for (i, t) in types.into_iter().enumerate() {
            if i < all.len() {
                all[i] = t;
            }
        }
        let prepared = SqlPrepared {
            stmt: Arc::new(Statement::Sql(Box::new(stmt.clone()))),
            types: all,
            cache: PlanCache::default(),
        };
        self.sql_prepared.insert(name, prepared);
        Ok(QueryResult::tag("PREPARE"))
    }

    fn sql_execute(&mut self, name: &ast::ObjectName, args: &[ast::Expr]) -> Result<QueryResult> {
        let (_, name) = sql::object_name(name)?;
        let Some(SqlPrepared { stmt, types, cache }) = self.sql_prepared.get(&name).cloned() else {
            return Err(err!(UNDEFINED_PSTATEMENT, "prepared statement \"{}\" does not exist", name));
        };
        if args.len() != types.len() {
            return Err(err!(SYNTAX_ERROR, "wrong number of parameters for prepared statement \"{}\"", name)
                .with_detail(format!("Expected {} parameters but got {}.", types.len(), args.len())));
        }
        let catalog = self.db.catalog.read().clone();
        let values =
            Binder::new(&catalog, &self.db.registry, crate::catalog::SUPERUSER).eval_constants(args, &types)?;
        self.run_inner(&stmt, &values, Some(&cache))
    }

    fn sql_deallocate(&mut self, name: &ast::Ident) -> Result<QueryResult> {
        let name = sql::ident_name(name);
        if name == "all" {
            self.sql_prepared.clear();
        } else if self.sql_prepared.remove(&name).is_none() {
            return Err(err!(UNDEFINED_PSTATEMENT, "prepared statement \"{}\" does not exist", name));
        }
        Ok(QueryResult::tag("DEALLOCATE"))
    }

    /// Whether an explicit transaction block is open.
    pub fn in_transaction(&self) -> bool {
        self.txn.is_some()
    }

    fn run(&mut self, stmt: &Statement, params: &[Datum], cache: Option<&PlanCache>) -> Result<QueryResult> {
        if let Some(t) = &self.txn {
            if t.failed && !is_txn_end(stmt) {
                return Err(err!(
                    IN_FAILED_SQL_TRANSACTION,
                    "current transaction is aborted, commands ignored until end of transaction block"
                ));
            }
        }
        let r = self.run_inner(stmt, params, cache);
        if r.is_err() {
            if let Some(t) = &mut self.txn {
                t.failed = true;
            }
        }
        r
    }

    fn run_inner(&mut self, stmt: &Statement, params: &[Datum], cache: Option<&PlanCache>) -> Result<QueryResult> {
        if let Statement::Med(sql::med::MedStatement::Reset(name)) = stmt {
            return self.settings.reset(name).map(|_| QueryResult::tag("RESET"));
        }
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
                ast::Statement::Prepare { name, data_types, statement } => {
                    return self.sql_prepare(name, data_types, statement)
                }
                ast::Statement::Execute { name: Some(name), parameters, .. } => {
                    return self.sql_execute(name, parameters)
                }
                ast::Statement::Deallocate { name, .. } => return self.sql_deallocate(name),
                ast::Statement::ShowVariable { variable } => return self.settings.show(variable),
                ast::Statement::Vacuum(v) => return self.run_vacuum(v),
                ast::Statement::Copy { .. } => {
                    return self.in_statement_txn(|sess, ctx, touched| sess.run_copy(s_stmt(stmt), ctx, touched));
                }
                ast::Statement::Explain { .. }
                | ast::Statement::Query(_)
                | ast::Statement::Insert(_)
                | ast::Statement::Update { .. }
                | ast::Statement::Delete(_) => {
                    return self.in_statement_txn(|s, ctx, touched| s.run_query(stmt, params, cache, ctx, touched));
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
    pub(super) fn in_statement_txn(
        &mut self,
        f: impl FnOnce(&mut Self, &ExecContext, &mut Vec<Arc<dyn FdwRoutine>>) -> Result<QueryResult>,
    ) -> Result<QueryResult> {
        let (xid, block, isolation) = match &self.txn {
            Some(t) => (t.xid, true, t.isolation),
            None => (self.db.next_xid.fetch_add(1, Ordering::Relaxed), false, self.settings.isolation),
        };
        // now() is the transaction's start time, as in PostgreSQL.
        fdw_api::func::set_statement_timestamp(self.txn.as_ref().map(|t| t.started_at));
        let ctx = ExecContext {
            xid,
            in_transaction_block: block,
            isolation,
            user: crate::catalog::SUPERUSER.to_string(),
            services: self.services.clone(),
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
        let r = match r {
            Ok(res) => finish_txn(&self.db, self.settings.synchronous_commit, &ctx, &touched, true).map(|_| res),
            Err(e) => {
                let _ = finish_txn(&self.db, self.settings.synchronous_commit, &ctx, &touched, false);
                Err(e)
            }
        };
        self.db.locks.release_all(xid);
        r
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
        let started_at = fdw_api::types::calendar::now_timestamp();
        self.txn = Some(TxnState { xid, touched: Vec::new(), failed: false, isolation, started_at });
        Ok(res)
    }

    fn txn_ctx(&self, t: &TxnState) -> ExecContext {
        ExecContext {
            xid: t.xid,
            in_transaction_block: true,
            isolation: t.isolation,
            user: crate::catalog::SUPERUSER.to_string(),
            services: self.services.clone(),
        }
    }

    fn commit(&mut self) -> Result<QueryResult> {
        let Some(t) = self.txn.take() else {
            let mut r = QueryResult::tag("COMMIT");
            r.notices.push("WARNING:  there is no transaction in progress".into());
            return Ok(r);
        };
        let ctx = self.txn_ctx(&t);
        let commit = !t.failed;
        let r = finish_txn(&self.db, self.settings.synchronous_commit, &ctx, &t.touched, commit);
        self.db.locks.release_all(t.xid);
        r?;
        Ok(QueryResult::tag(if commit { "COMMIT" } else { "ROLLBACK" }))
    }

    fn rollback(&mut self) -> Result<QueryResult> {
        let Some(t) = self.txn.take() else {
            let mut r = QueryResult::tag("ROLLBACK");
            r.notices.push("WARNING:  there is no transaction in progress".into());
            return Ok(r);
        };
        let ctx = self.txn_ctx(&t);
        let r = finish_txn(&self.db, self.settings.synchronous_commit, &ctx, &t.touched, false);
        self.db.locks.release_all(t.xid);
        r?;
        Ok(QueryResult::tag("ROLLBACK"))
    }

    fn checkpoint(&mut self) -> Result<QueryResult> {
        if self.txn.is_some() {
            return Err(err!(ACTIVE_SQL_TRANSACTION, "CHECKPOINT cannot run inside a transaction block"));
        }
        crate::durability::checkpoint::run(&self.db)?;
        Ok(QueryResult::tag("CHECKPOINT"))
    }

    fn run_ddl(
        &mut self,
        stmt: &Statement,
        ctx: &ExecContext,
        touched: &mut Vec<Arc<dyn FdwRoutine>>,
    ) -> Result<QueryResult> {
        self.lock_ddl(stmt, ctx)?;
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
        self.db.log_catalog(&catalog, ctx.xid)?;
        let mut installed = self.db.catalog.write();
        *installed = Arc::new(catalog);
        self.db.catalog_version.fetch_add(1, Ordering::AcqRel);
        drop(installed);
        let mut r = QueryResult::tag(tag);
        r.notices = notices;
        Ok(r)
    }

    fn run_query(
        &mut self,
        stmt: &Statement,
        params: &[Datum],
        cache: Option<&PlanCache>,
        ctx: &ExecContext,
        touched: &mut Vec<Arc<dyn FdwRoutine>>,
    ) -> Result<QueryResult> {
        let Statement::Sql(s) = stmt else { return Err(FdwError::internal("not a query")) };
        let (inner, explain_opts) = match &**s {
            ast::Statement::Explain { statement, analyze, verbose, options, .. } => {
                let mut o =
                    ExplainOptions { verbose: *verbose, costs: true, analyze: *analyze, timing: false, summary: false };
                let (mut timing, mut summary) = (None, None);
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
                        "timing" => timing = Some(on),
                        "summary" => summary = Some(on),
                        "buffers" | "settings" | "wal" => {}
                        "format" => {
                            let v = opt.arg.as_ref().map(|v| v.to_string().to_lowercase()).unwrap_or_default();
                            if v != "text" {
                                return Err(FdwError::feature("only EXPLAIN (FORMAT TEXT) is supported"));
                            }
                        }
                        other => return Err(err!(SYNTAX_ERROR, "unrecognized EXPLAIN option \"{}\"", other)),
                    }
                }
                // As in PostgreSQL: both default to ANALYZE; timing needs something to time.
                o.timing = timing.unwrap_or(o.analyze);
                o.summary = summary.unwrap_or(o.analyze);
                if o.timing && !o.analyze {
                    return Err(err!(INVALID_PARAMETER_VALUE, "EXPLAIN option TIMING requires ANALYZE"));
                }
                (&**statement, Some(o))
            }
            other => (other, None),
        };
        // Only EXPLAIN's summary reports planning time: a point query's two clock reads were 3% of it.
        let t0 = explain_opts.is_some_and(|o| o.summary).then(Instant::now);
        let cached = match (cache, explain_opts) {
            (Some(c), None) => {
                let version = self.db.catalog_version.load(Ordering::Acquire);
                c.lock()
                    .as_ref()
                    .filter(|p| p.catalog_version == version && p.planner == self.settings.planner)
                    .cloned()
            }
            _ => None,
        };
        let plan = match cached {
            Some(hit) => hit,
            None => {
                // The version first: a catalog newer than it only makes the plan look stale.
                let catalog_version = self.db.catalog_version.load(Ordering::Acquire);
                let catalog = self.db.catalog.read().clone();
                let planner = self.settings.planner.clone();
                let bound = Binder::new(&catalog, &self.db.registry, &ctx.user).bind_statement(inner)?;
                let physical = Arc::new(plan_query(&bound, &planner)?);
                let lite = match (cache, explain_opts) {
                    (Some(_), None) if planner.enable_lite => Lite::prepare(&physical)?,
                    _ => None,
                };
                let mut wrappers = Vec::new();
                collect_wrappers(&physical, &mut wrappers);
                let plan = Arc::new(CachedPlan {
                    wrappers,
                    catalog_version,
                    planner,
                    columns: result_columns(&bound.columns),
                    locks: plan_targets(&catalog, &physical),
                    physical,
                    lite,
                });
                if let (Some(c), None) = (cache, explain_opts) {
                    *c.lock() = Some(plan.clone());
                }
                plan
            }
        };
        let physical: &PhysicalQuery = &plan.physical;
        let columns = plan.columns.clone();
        let planning_ms = t0.map_or(0.0, |t| t.elapsed().as_secs_f64() * 1000.0);
        let mut params_full = params.to_vec();
        params_full.resize(physical.num_params, Datum::Null);
        // Wrappers the transaction block already has are not cloned again: a wrapper's `Arc`
        // is shared by every session, and its reference count is a contended cache line.
        let in_block =
            |w: &Arc<dyn FdwRoutine>| self.txn.as_ref().is_some_and(|t| t.touched.iter().any(|x| x.name() == w.name()));
        for w in &plan.wrappers {
            if !in_block(w) && !touched.iter().any(|x| x.name() == w.name()) {
                touched.push(w.clone());
            }
        }
        self.lock_relations(&plan.locks, ctx)?;
        begin_wrappers(ctx, touched, self.txn.as_ref())?;
        let exec_options =
            crate::exec::ExecOptions { memory_limit: (self.settings.query_memory_limit_kb as usize) << 10 };
        if let Some(opts) = explain_opts {
            let mut lines;
            if opts.analyze {
                let t1 = Instant::now();
                let (_rows, stats) = crate::exec::execute_analyze_with(physical, &params_full, ctx, &exec_options)?;
                let exec_ms = t1.elapsed().as_secs_f64() * 1000.0;
                lines = explain(physical, opts, Some(&stats));
                if opts.summary {
                    lines.push(format!("Planning Time: {planning_ms:.3} ms"));
                    lines.push(format!("Execution Time: {exec_ms:.3} ms"));
                }
            } else {
                lines = explain(physical, opts, None);
                if opts.summary {
                    lines.push(format!("Planning Time: {planning_ms:.3} ms"));
                }
            }
            return Ok(QueryResult {
                columns: vec![Column { name: "QUERY PLAN".into(), ty: DataType::Text }],
                tag: format!("EXPLAIN {}", lines.len()),
                rows: lines.into_iter().map(|l| vec![Datum::text(&l)]).collect(),
                notices: Vec::new(),
                returns_rows: true,
            });
        }
        let rows = match &plan.lite {
            Some(lite) => lite.execute(&params_full, ctx)?,
            None => crate::exec::execute_with(physical, &params_full, ctx, &exec_options)?,
        };
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
                    tag: command_tag(verb, n as u64),
                    notices: Vec::new(),
                    returns_rows: true,
                });
            }
            let n = rows.first().and_then(|r| r.first()).and_then(|d| d.as_i64()).unwrap_or(0);
            return Ok(QueryResult::tag(command_tag(verb, n as u64)));
        }
        let n = rows.len();
        Ok(QueryResult { columns, rows, tag: command_tag("SELECT", n as u64), notices: Vec::new(), returns_rows: true })
    }
}

/// `SELECT 3`, `UPDATE 1`: written directly, as `format!` cost a point query 5% of its
/// instructions.
fn command_tag(verb: &str, n: u64) -> String {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let mut tag = String::with_capacity(verb.len() + 1 + digits.len() - i);
    tag.push_str(verb);
    tag.push(' ');
    tag.extend(digits[i..].iter().map(|&d| d as char));
    tag
}

/// The wrappers a plan reads or writes.
pub(super) fn collect_wrappers(q: &PhysicalQuery, out: &mut Vec<Arc<dyn FdwRoutine>>) {
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

fn result_columns(cols: &[crate::bind::logical::LCol]) -> Vec<Column> {
    cols.iter().map(|c| Column { name: c.name.clone(), ty: c.ty.clone() }).collect()
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

/// BEGIN, COMMIT and ROLLBACK without options, recognized without the parser: clients send
/// them as text around every transaction.
fn transaction_control(sql: &str) -> Option<&'static Statement> {
    static PARSED: std::sync::OnceLock<Vec<Statement>> = std::sync::OnceLock::new();
    const WORDS: [&str; 3] = ["begin", "commit", "rollback"];
    let word = sql.trim().trim_end_matches(';').trim_end();
    let i = WORDS.iter().position(|w| word.eq_ignore_ascii_case(w))?;
    let parsed = PARSED.get_or_init(|| WORDS.iter().filter_map(|w| single_statement(w).ok()).collect());
    parsed.get(i).filter(|_| parsed.len() == WORDS.len())
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

fn s_stmt(stmt: &Statement) -> &ast::Statement {
    match stmt {
        Statement::Sql(s) => s,
        Statement::Med(_) => unreachable!("COPY is parsed by sqlparser"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn command_tags_match_format() {
        for n in [0, 1, 9, 10, 99, 1234567, u64::MAX] {
            assert_eq!(super::command_tag("INSERT 0", n), format!("INSERT 0 {n}"));
        }
    }
}
