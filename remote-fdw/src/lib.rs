//! postgres_fdw for the envelope: tables of a remote PostgreSQL server as foreign tables,
//! registered under PostgreSQL's handler name `postgres_fdw` so scripts written for
//! PostgreSQL's postgres_fdw run unchanged.
//!
//! Map of the crate:
//! - [`options`]: the validator (PostgreSQL 15's option names and errors) and table settings;
//! - [`conn`]: connections, their cache and their remote transactions (one per local
//!   transaction and server/user mapping, REPEATABLE READ or SERIALIZABLE);
//! - [`deparse`]: which expressions may run remotely and their SQL text; [`quote`]:
//!   identifier and literal quoting; [`sql`]: whole remote statements (scans, joins,
//!   aggregations, INSERT/UPDATE/DELETE);
//! - [`plan`]: sizes, costs and paths; [`scan`]: cursors fetched `fetch_size` rows at a time;
//!   [`modify`]: DML by `ctid`; [`support`]: ANALYZE, IMPORT FOREIGN SCHEMA, TRUNCATE;
//! - [`errors`]: remote errors as postgres_fdw reports them, passwords redacted.
//!
//! Join and aggregate pushdown: `get_join_paths`/`get_upper_paths` answer paths whose private
//! data is a [`sql::RemotePath`]; `begin_scan` runs any such path. For the envelope wiring
//! them: the scan's `ScanRequest::table` may be any table of the path (the first one is
//! used for the connection), `columns` index the path's output columns (outer table's then
//! inner table's for a join; group keys then aggregates for an aggregation), and `quals` over
//! those output columns become the join's WHERE or the aggregation's HAVING.
//!
//! Simplifications against PostgreSQL's postgres_fdw: no TLS (sslmode `require` and TLS
//! files are refused with a clear error), no async/parallel-commit execution (the options are
//! accepted), joins of exactly two base tables, aggregations over one table, no savepoints
//! (the API has no subtransactions), and `password_required` is not enforced (the envelope
//! has no superuser distinction).

pub mod conn;
pub mod deparse;
pub mod errors;
pub mod modify;
pub mod options;
pub mod plan;
pub mod quote;
pub mod scan;
pub mod sql;
pub mod support;

use std::sync::Arc;

use fdw_api::path::costs::CPU_TUPLE_COST;
use fdw_api::{
    path_private, AnalyzeSample, BinaryOp, Cost, DirectModify, ExecContext, Expr, FdwError, FdwResult, FdwRoutine,
    ForeignModify, ForeignPath, ForeignScan, ImportFilter, ImportedTable, JoinKind, JoinRelInfo, Lsn, ModifyKind,
    ModifyRoutine, OptionTarget, Options, PushdownRoutine, QualSupport, RelInfo, RelSize, ScanRequest, SupportRoutine,
    TableDesc, TransactionRoutine, TxnId, UpperRelInfo,
};

use crate::conn::{ConnManager, ConnSpec};
use crate::deparse::is_shippable;
use crate::options::TableSettings;
use crate::sql::{build_select, RemotePath, SelectSpec, Source};

/// The postgres_fdw handler: one instance serves every server, table and session.
#[derive(Debug, Default)]
pub struct PostgresFdw {
    conns: ConnManager,
}

impl PostgresFdw {
    pub fn new() -> PostgresFdw {
        PostgresFdw::default()
    }

    /// Idle cached connections (for tests and diagnostics).
    pub fn idle_connections(&self) -> usize {
        self.conns.idle_count()
    }

    /// The remote query of a scan request.
    pub fn remote_query(&self, request: &ScanRequest) -> FdwResult<sql::RemoteQuery> {
        let source = scan_source(request);
        let quals: Vec<Expr> = request.quals.iter().chain(&request.param_quals).cloned().collect();
        build_select(
            &source,
            &SelectSpec {
                columns: &request.columns,
                quals: &quals,
                pathkeys: &request.path.pathkeys,
                limit: request.limit,
                row_id: request.want_row_id,
            },
        )
    }

    /// Remote EXPLAIN of the shippable, parameter-free quals: (rows, cost).
    fn remote_estimate(&self, rel: &RelInfo, quals: &[Expr]) -> FdwResult<(f64, Cost)> {
        let q = build_select(
            &Source::Base(rel.table.clone()),
            &SelectSpec { columns: &rel.needed_columns, quals, ..Default::default() },
        )?;
        let spec = ConnSpec::of_table(&rel.table);
        let rows = self.conns.with_conn(&spec, |c| c.rows(&format!("EXPLAIN {}", q.sql)))?;
        let line = rows.first().and_then(|r| r.get(0)).unwrap_or_default();
        let (cost, rows, _) = plan::parse_explain(line)
            .ok_or_else(|| FdwError::internal(format!("could not parse remote EXPLAIN output: {line}")))?;
        Ok((rows, cost))
    }
}

/// The handler function (`postgres_fdw_handler`): what the envelope registers as
/// `postgres_fdw`.
pub fn handler() -> Arc<dyn FdwRoutine> {
    Arc::new(PostgresFdw::new())
}

fn scan_source(request: &ScanRequest) -> Source {
    match path_private::<RemotePath>(&request.path.private) {
        Some(p) => p.source.clone(),
        None => Source::Base(request.table.clone()),
    }
}

fn has_param(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |x| found |= matches!(x, Expr::Param { .. }));
    found
}

impl FdwRoutine for PostgresFdw {
    fn name(&self) -> &str {
        "postgres_fdw"
    }

    fn validate_options(&self, target: OptionTarget, options: &Options) -> FdwResult<()> {
        options::validate(target, options)
    }

    fn get_rel_size(&self, rel: &RelInfo) -> FdwResult<RelSize> {
        let t = &rel.table;
        let s = TableSettings::of(t)?;
        let width = plan::width(t, &rel.needed_columns);
        let (total_rows, rows) = if s.use_remote_estimate {
            let (remote_quals, local): (Vec<Expr>, Vec<Expr>) =
                rel.quals.iter().cloned().partition(|q| is_shippable(q) && !has_param(q));
            let (rows, _) = self.remote_estimate(rel, &remote_quals)?;
            let total = match &t.stats {
                Some(st) => st.row_count,
                None => self.remote_estimate(rel, &[])?.0,
            };
            (total, rows * plan::selectivity_all(t, &local))
        } else {
            let total = plan::table_rows(t);
            (total, total * plan::selectivity_all(t, &rel.quals))
        };
        let pages = (total_rows * (width as f64 + 24.0) / fdw_api::path::costs::PAGE_SIZE).ceil();
        Ok(RelSize { total_rows, rows: rows.max(1.0).round(), width, pages })
    }

    fn get_paths(&self, rel: &RelInfo, size: &RelSize) -> FdwResult<Vec<ForeignPath>> {
        let s = TableSettings::of(&rel.table)?;
        let remote = if s.use_remote_estimate {
            let shipped: Vec<Expr> = rel.quals.iter().filter(|q| is_shippable(q) && !has_param(q)).cloned().collect();
            let (rows, cost) = self.remote_estimate(rel, &shipped)?;
            let with_params =
                plan::selectivity_all(&rel.table, rel.quals.iter().filter(|q| is_shippable(q) && has_param(q)));
            Some(((rows * with_params).max(1.0).round(), cost))
        } else {
            None
        };
        plan::base_paths(rel, size, &s, remote)
    }

    fn begin_scan(&self, request: &ScanRequest, ctx: &ExecContext) -> FdwResult<Box<dyn ForeignScan>> {
        let query = self.remote_query(request)?;
        let source = scan_source(request);
        let anchor = source.anchor();
        let s = TableSettings::of(anchor)?;
        let conn = self.conns.for_xact(&ConnSpec::of_table(anchor), ctx)?;
        Ok(Box::new(scan::RemoteScan::new(conn, query, s.fetch_size, request.table.name.clone())))
    }

    fn explain_scan(&self, request: &ScanRequest, verbose: bool) -> Vec<(String, String)> {
        let mut lines = Vec::new();
        if let Some(r) = scan_source(request).relations() {
            lines.push(("Relations".to_string(), r));
        }
        if verbose {
            let sql = match self.remote_query(request) {
                Ok(q) => q.sql,
                Err(e) => format!("(not available: {})", e.message),
            };
            lines.push(("Remote SQL".to_string(), sql));
        }
        lines
    }

    fn modify_routine(&self) -> Option<&dyn ModifyRoutine> {
        Some(self)
    }
    fn pushdown_routine(&self) -> Option<&dyn PushdownRoutine> {
        Some(self)
    }
    fn support_routine(&self) -> Option<&dyn SupportRoutine> {
        Some(self)
    }
    fn transaction_routine(&self) -> Option<&dyn TransactionRoutine> {
        Some(self)
    }
}

impl ModifyRoutine for PostgresFdw {
    fn is_updatable(&self, table: &TableDesc) -> Vec<ModifyKind> {
        match TableSettings::of(table) {
            Ok(s) if s.updatable => vec![ModifyKind::Insert, ModifyKind::Update, ModifyKind::Delete],
            _ => Vec::new(),
        }
    }

    fn begin_modify(
        &self,
        table: &Arc<TableDesc>,
        kind: ModifyKind,
        ctx: &ExecContext,
    ) -> FdwResult<Box<dyn ForeignModify>> {
        let s = TableSettings::of(table)?;
        if !s.updatable {
            let what = match kind {
                ModifyKind::Insert => "inserts",
                ModifyKind::Update => "updates",
                ModifyKind::Delete => "deletes",
            };
            return Err(support::not_updatable(table, what));
        }
        let conn = self.conns.for_xact(&ConnSpec::of_table(table), ctx)?;
        Ok(Box::new(modify::RemoteModify::new(conn, table.clone(), kind, s.batch_size)))
    }
}

/// Whether two tables are reached through the same connection (server and user mapping).
fn same_connection(a: &TableDesc, b: &TableDesc) -> bool {
    a.server_name == b.server_name
        && a.server_options == b.server_options
        && ConnSpec::of_table(a).key() == ConnSpec::of_table(b).key()
}

impl PushdownRoutine for PostgresFdw {
    fn get_join_paths(&self, join: &JoinRelInfo) -> FdwResult<Vec<ForeignPath>> {
        let (Some(outer), Some(inner)) = (join.outer.first(), join.inner.first()) else { return Ok(Vec::new()) };
        if join.outer.len() != 1
            || join.inner.len() != 1
            || !matches!(join.kind, JoinKind::Inner | JoinKind::Left | JoinKind::Right | JoinKind::Full)
            || !same_connection(outer, inner)
            || !join.quals.iter().all(|q| is_shippable(q) && !has_param(q))
        {
            return Ok(Vec::new());
        }
        let s = TableSettings::of(outer)?;
        let (ro, ri) = (plan::table_rows(outer), plan::table_rows(inner));
        let n_outer = outer.columns.len();
        let mut sel = 1.0;
        for q in &join.quals {
            sel *= match q {
                Expr::Binary { op: BinaryOp::Eq, left, right, .. } => match (&**left, &**right) {
                    (Expr::Column { index: a, .. }, Expr::Column { index: b, .. })
                        if (*a < n_outer) != (*b < n_outer) =>
                    {
                        1.0 / ro.max(ri).max(1.0)
                    }
                    _ => 0.005,
                },
                _ => 1.0 / 3.0,
            };
        }
        let mut rows = ro * ri * sel;
        rows = match join.kind {
            JoinKind::Left => rows.max(ro),
            JoinKind::Right => rows.max(ri),
            JoinKind::Full => rows.max(ro.max(ri)),
            _ => rows,
        }
        .max(1.0)
        .round();
        let startup = s.fdw_startup_cost;
        let total = startup + (ro + ri) * 2.0 * CPU_TUPLE_COST + rows * (s.fdw_tuple_cost + CPU_TUPLE_COST);
        let source =
            Source::Join { kind: join.kind, outer: outer.clone(), inner: inner.clone(), on: join.quals.clone() };
        let output_types = source.output_types()?;
        Ok(vec![ForeignPath {
            rows,
            cost: Cost::new(startup, total),
            pathkeys: Vec::new(),
            qual_support: vec![QualSupport::Exact; join.quals.len()],
            param_quals: Vec::new(),
            parallel_workers: 0,
            label: None,
            private: Some(Arc::new(RemotePath { source, output_types })),
        }])
    }

    fn get_upper_paths(&self, upper: &UpperRelInfo) -> FdwResult<Vec<ForeignPath>> {
        let ok = upper.group_by.iter().all(|g| is_shippable(g) && !has_param(g) && !matches!(g, Expr::Const { .. }))
            && upper.input_quals.iter().all(|q| is_shippable(q) && !has_param(q))
            && upper.aggregates.iter().all(|(_, args, _)| args.iter().all(|a| is_shippable(a) && !has_param(a)))
            && upper.having.as_ref().is_none_or(|h| is_shippable(h) && !has_param(h));
        if !ok {
            return Ok(Vec::new());
        }
        let t = &upper.input;
        let s = TableSettings::of(t)?;
        let total = plan::table_rows(t);
        let rows = if upper.group_by.is_empty() { 1.0 } else { (total / 10.0).max(1.0).round() };
        let scan = plan::local_cost(t, &s, total, rows, 0);
        let source = Source::Agg {
            input: t.clone(),
            input_quals: upper.input_quals.clone(),
            group_by: upper.group_by.clone(),
            aggregates: upper.aggregates.clone(),
            having: upper.having.clone(),
        };
        let output_types = source.output_types()?;
        let startup = scan.total - rows * (s.fdw_tuple_cost + CPU_TUPLE_COST);
        Ok(vec![ForeignPath {
            rows,
            cost: Cost::new(
                startup.max(s.fdw_startup_cost),
                scan.total + total * fdw_api::path::costs::CPU_OPERATOR_COST,
            ),
            pathkeys: Vec::new(),
            qual_support: Vec::new(),
            param_quals: Vec::new(),
            parallel_workers: 0,
            label: None,
            private: Some(Arc::new(RemotePath { source, output_types })),
        }])
    }

    fn direct_modify(&self, request: &DirectModify, ctx: &ExecContext) -> FdwResult<Option<u64>> {
        let assignments = match request.kind {
            ModifyKind::Insert => return Ok(None),
            ModifyKind::Update => Some(request.assignments.as_slice()),
            ModifyKind::Delete => None,
        };
        if !TableSettings::of(&request.table)?.updatable {
            return Ok(None);
        }
        let Some(sql) = sql::build_direct(&request.table, assignments, &request.quals)? else { return Ok(None) };
        let conn = self.conns.for_xact(&ConnSpec::of_table(&request.table), ctx)?;
        let n = conn.lock().exec(&sql)?;
        Ok(Some(n))
    }
}

impl SupportRoutine for PostgresFdw {
    fn analyze(&self, table: &Arc<TableDesc>, target_rows: usize, _ctx: &ExecContext) -> FdwResult<AnalyzeSample> {
        support::analyze(&self.conns, table, target_rows)
    }

    fn import_schema(
        &self,
        remote_schema: &str,
        filter: &ImportFilter,
        server_options: &Options,
        user_mapping_options: &Options,
    ) -> FdwResult<Vec<ImportedTable>> {
        support::import_schema(&self.conns, remote_schema, filter, server_options, user_mapping_options)
    }

    fn truncate(&self, tables: &[Arc<TableDesc>], ctx: &ExecContext) -> FdwResult<()> {
        support::truncate(&self.conns, tables, ctx)
    }
}

impl TransactionRoutine for PostgresFdw {
    /// Nothing to do yet: the remote transaction starts at the first remote access.
    fn begin(&self, _ctx: &ExecContext) -> FdwResult<()> {
        Ok(())
    }
    fn pre_commit(&self, ctx: &ExecContext) -> FdwResult<()> {
        self.conns.pre_commit(ctx.xid)
    }
    fn commit(&self, _ctx: &ExecContext, _commit_lsn: Lsn) -> FdwResult<()> {
        Ok(())
    }
    fn abort(&self, ctx: &ExecContext) -> FdwResult<()> {
        self.conns.abort(ctx.xid);
        Ok(())
    }
    fn end(&self, xid: TxnId) -> FdwResult<()> {
        self.conns.end(xid);
        Ok(())
    }
}
