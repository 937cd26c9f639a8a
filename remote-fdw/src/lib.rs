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
//! `get_final_path` adds the ORDER BY and LIMIT of the query to such a path. Inner joins of
//! three or more tables nest left to right (`((r1 JOIN r2) JOIN r3)`), as postgres_fdw's.
//!
//! Simplifications against PostgreSQL's postgres_fdw: no TLS (sslmode `require` and TLS
//! files are refused with a clear error), no async/parallel-commit execution (the options are
//! accepted), outer joins of exactly two base tables (inner joins of any number), no savepoints
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
    ModifyRoutine, OptionTarget, Options, PathKey, PushdownRoutine, QualSupport, RelInfo, RelSize, ScanRequest,
    SupportRoutine, TableDesc, TransactionRoutine, TxnId, UpperRelInfo,
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

/// Rows fetched across the wire by the scans of this process so far (all servers, all
/// sessions; a monotonic counter: take the difference around a query). Benchmarks use it to
/// compare with PostgreSQL's postgres_fdw, whose foreign scans report theirs in EXPLAIN ANALYZE.
pub fn rows_fetched() -> u64 {
    scan::rows_fetched()
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

/// The number of distinct values of column `c` (ANALYZE statistics; the row count if unknown).
fn n_distinct(t: &TableDesc, c: usize) -> f64 {
    let rows = plan::table_rows(t).max(1.0);
    match t.stats.as_ref().and_then(|s| s.columns.get(c).cloned().flatten()) {
        Some(s) if s.n_distinct < 0.0 => -s.n_distinct * rows,
        Some(s) if s.n_distinct > 0.0 => s.n_distinct,
        _ => rows,
    }
}

/// Whether two tables are reached through the same connection (server and user mapping).
fn same_connection(a: &TableDesc, b: &TableDesc) -> bool {
    a.server_name == b.server_name
        && a.server_options == b.server_options
        && ConnSpec::of_table(a).key() == ConnSpec::of_table(b).key()
}

impl PushdownRoutine for PostgresFdw {
    /// Joins of two tables of any outer kind, and inner joins of any number of tables (a
    /// join relation joined with a further relation, as postgres_fdw nests them), all of the
    /// same server and user mapping.
    fn get_join_paths(&self, join: &JoinRelInfo) -> FdwResult<Vec<ForeignPath>> {
        let tables: Vec<Arc<TableDesc>> = join.outer.iter().chain(&join.inner).cloned().collect();
        let (Some(first), false) = (tables.first(), join.outer.is_empty() || join.inner.is_empty()) else {
            return Ok(Vec::new());
        };
        let two = join.outer.len() == 1 && join.inner.len() == 1;
        let kind_ok = match join.kind {
            JoinKind::Inner => true,
            JoinKind::Left | JoinKind::Right | JoinKind::Full => two,
            JoinKind::Semi | JoinKind::Anti => false,
        };
        if !kind_ok
            || !tables.iter().all(|t| same_connection(first, t))
            || !join.quals.iter().all(|q| is_shippable(q) && !has_param(q))
        {
            return Ok(Vec::new());
        }
        let s = TableSettings::of(first)?;
        // Where each table's columns start in the concatenated numbering.
        let mut starts = Vec::with_capacity(tables.len());
        let mut at = 0;
        for t in &tables {
            starts.push(at);
            at += t.columns.len();
        }
        let table_of = |c: usize| starts.iter().rposition(|&s| s <= c).unwrap_or(0);
        // PostgreSQL's estimates: an equi-join clause selects 1 / max(distinct values of its
        // two columns) (from ANALYZE statistics; the table's row count when unknown), a qual
        // over one table its restriction selectivity.
        let mut sel = 1.0;
        for q in &join.quals {
            let cols = q.columns();
            let mut owners: Vec<usize> = cols.iter().map(|&c| table_of(c)).collect();
            owners.dedup();
            sel *= match q {
                Expr::Binary { op: BinaryOp::Eq, left, right, .. }
                    if matches!((&**left, &**right), (Expr::Column { index: a, .. }, Expr::Column { index: b, .. })
                        if table_of(*a) != table_of(*b)) =>
                {
                    let (ta, tb) = (table_of(cols[0]), table_of(cols[1]));
                    let da = n_distinct(&tables[ta], cols[0] - starts[ta]);
                    let db = n_distinct(&tables[tb], cols[1] - starts[tb]);
                    1.0 / da.max(db).max(1.0)
                }
                _ if !cols.is_empty() && owners.iter().all(|&o| o == owners[0]) => {
                    let (t, start) = (owners[0], starts[owners[0]]);
                    let shifted = q.clone().transform(&mut |x| match x {
                        Expr::Column { index, ty } => Expr::Column { index: index - start, ty },
                        other => other,
                    });
                    plan::selectivity(&tables[t], &shifted)
                }
                Expr::Binary { op: BinaryOp::Eq, .. } => 0.005,
                _ => 1.0 / 3.0,
            };
        }
        let sizes: Vec<f64> = tables.iter().map(|t| plan::table_rows(t)).collect();
        let (ro, ri) = (sizes[0], sizes[sizes.len() - 1]);
        let mut rows = sizes.iter().product::<f64>() * sel;
        rows = match join.kind {
            JoinKind::Left => rows.max(ro),
            JoinKind::Right => rows.max(ri),
            JoinKind::Full => rows.max(ro.max(ri)),
            _ => rows,
        }
        .max(1.0)
        .round();
        let startup = s.fdw_startup_cost;
        let total =
            startup + sizes.iter().sum::<f64>() * 2.0 * CPU_TUPLE_COST + rows * (s.fdw_tuple_cost + CPU_TUPLE_COST);
        let source = Source::Join { kind: join.kind, tables, on: join.quals.clone() };
        let exact = vec![QualSupport::Exact; join.quals.len()];
        Ok(vec![remote_path(source, rows, Cost::new(startup, total), exact)?])
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
            join: None,
            input_quals: upper.input_quals.clone(),
            group_by: upper.group_by.clone(),
            aggregates: upper.aggregates.clone(),
            having: upper.having.clone(),
        };
        let startup = scan.total - rows * (s.fdw_tuple_cost + CPU_TUPLE_COST);
        let cost =
            Cost::new(startup.max(s.fdw_startup_cost), scan.total + total * fdw_api::path::costs::CPU_OPERATOR_COST);
        Ok(vec![remote_path(source, rows, cost, Vec::new())?])
    }

    /// An aggregation over a join of two tables pushed down as one remote query (postgres_fdw
    /// pushes grouping over any join relation it could push). Costed as the join path minus
    /// the transfer of its rows, plus the aggregation's work and the transfer of the groups,
    /// so it wins over aggregating the pushed-down join locally.
    fn get_join_upper_paths(&self, join: &JoinRelInfo, upper: &UpperRelInfo) -> FdwResult<Vec<ForeignPath>> {
        let shippable = |e: &Expr| is_shippable(e) && !has_param(e);
        let ok = join.kind == JoinKind::Inner
            && upper.group_by.iter().all(|g| shippable(g) && !matches!(g, Expr::Const { .. }))
            && upper.input_quals.iter().all(shippable)
            && upper.aggregates.iter().all(|(_, args, _)| args.iter().all(shippable))
            && upper.having.as_ref().is_none_or(shippable);
        if !ok {
            return Ok(Vec::new());
        }
        let Some(join_path) = self.get_join_paths(join)?.into_iter().next() else { return Ok(Vec::new()) };
        let mut tables = join.outer.iter().chain(&join.inner).cloned();
        let Some(first) = tables.next() else { return Ok(Vec::new()) };
        let rest: Vec<Arc<TableDesc>> = tables.collect();
        let s = TableSettings::of(&first)?;
        let join_rows = join_path.rows;
        let rows = if upper.group_by.is_empty() { 1.0 } else { (join_rows / 10.0).max(1.0).round() };
        let work = join_rows * fdw_api::path::costs::CPU_OPERATOR_COST * (upper.aggregates.len().max(1) as f64);
        let total = join_path.cost.total - join_rows * (s.fdw_tuple_cost + CPU_TUPLE_COST)
            + work
            + rows * (s.fdw_tuple_cost + CPU_TUPLE_COST);
        let mut on = join.quals.clone();
        on.extend(upper.input_quals.iter().cloned());
        let source = Source::Agg {
            input: first,
            join: Some((rest, on)),
            input_quals: Vec::new(),
            group_by: upper.group_by.clone(),
            aggregates: upper.aggregates.clone(),
            having: upper.having.clone(),
        };
        let startup = join_path.cost.startup.max(total - rows * (s.fdw_tuple_cost + CPU_TUPLE_COST));
        Ok(vec![remote_path(source, rows, Cost::new(startup, total), Vec::new())?])
    }

    /// ORDER BY and LIMIT on a pushed-down join or aggregation (postgres_fdw's ORDERED and
    /// FINAL upper paths): the remote query sorts and stops. Every sort column must be one the
    /// query computes (a column of the source), the order shippable (pathkeys over columns;
    /// text sorts as `COLLATE "C"`), and the scan not lock rows. Costed as the path plus
    /// postgres_fdw's sort multiplier, with the transfer of only `limit` rows.
    fn get_final_path(
        &self,
        request: &ScanRequest,
        order: &[PathKey],
        limit: Option<u64>,
    ) -> FdwResult<Option<ForeignPath>> {
        let Some(remote) = path_private::<RemotePath>(&request.path.private) else { return Ok(None) };
        if request.want_row_id
            || !request.param_quals.is_empty()
            || request.quals.iter().any(|q| !is_shippable(q) || has_param(q))
            || order.iter().any(|k| k.column >= remote.output_types.len())
            || (order.is_empty() && limit.is_none())
        {
            return Ok(None);
        }
        let s = TableSettings::of(remote.source.anchor())?;
        let old = &request.path;
        let mut path = old.clone();
        path.pathkeys = order.to_vec();
        let per_row = s.fdw_tuple_cost + CPU_TUPLE_COST;
        let rows = limit.map_or(old.rows, |l| old.rows.min(l as f64).max(1.0));
        let remote_total = (old.cost.total - old.rows * per_row).max(old.cost.startup);
        let sorted = if order.is_empty() { remote_total } else { remote_total * plan::SORT_MULTIPLIER };
        path.rows = rows;
        path.cost = Cost::new(sorted, sorted + rows * per_row);
        Ok(Some(path))
    }

    /// PostgreSQL's postgres_fdw plans a direct modification when the table is updatable and
    /// every assignment and qual is shippable; so do we (`direct_sql` decides both).
    fn plan_direct_modify(&self, request: &DirectModify) -> FdwResult<bool> {
        Ok(direct_sql(request)?.is_some())
    }

    fn explain_direct_modify(&self, request: &DirectModify, verbose: bool) -> Vec<(String, String)> {
        if !verbose {
            return Vec::new();
        }
        let sql = match direct_sql(request) {
            Ok(Some(sql)) => sql,
            Ok(None) => "(not available: not pushable)".to_string(),
            Err(e) => format!("(not available: {})", e.message),
        };
        vec![("Remote SQL".to_string(), sql)]
    }

    fn direct_modify(&self, request: &DirectModify, ctx: &ExecContext) -> FdwResult<Option<u64>> {
        let Some(sql) = direct_sql(request)? else { return Ok(None) };
        let conn = self.conns.for_xact(&ConnSpec::of_table(&request.table), ctx)?;
        let n = conn.lock().exec(&sql)?;
        Ok(Some(n))
    }
}

/// The remote UPDATE/DELETE of a direct modification, or `None` when it cannot be one
/// statement (an INSERT, a table that is not `updatable`, an expression that is not shippable
/// or uses a parameter).
fn direct_sql(request: &DirectModify) -> FdwResult<Option<String>> {
    let assignments = match request.kind {
        ModifyKind::Insert => return Ok(None),
        ModifyKind::Update if request.assignments.is_empty() => return Ok(None),
        ModifyKind::Update => Some(request.assignments.as_slice()),
        ModifyKind::Delete => None,
    };
    if !TableSettings::of(&request.table)?.updatable {
        return Ok(None);
    }
    sql::build_direct(&request.table, assignments, &request.quals)
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

/// A path that computes `source` on the remote server (a pushed-down join or aggregation):
/// `rows` rows at `cost`, the path's quals handled as `qual_support` says.
fn remote_path(source: Source, rows: f64, cost: Cost, qual_support: Vec<QualSupport>) -> FdwResult<ForeignPath> {
    let output_types = source.output_types()?;
    Ok(ForeignPath {
        rows,
        cost,
        pathkeys: Vec::new(),
        qual_support,
        param_quals: Vec::new(),
        parallel_workers: 0,
        label: None,
        private: Some(Arc::new(RemotePath { source, output_types })),
    })
}
