//! The extended FDW routine: PostgreSQL's `FdwRoutine` callbacks plus what openGauss added to
//! host a storage engine, split into capability traits.
//!
//! A wrapper implements [`FdwRoutine`] (name, option validation, the scan callbacks) and
//! returns the capability objects it has from the `*_routine` accessors. A capability it does
//! not have is `None`, and the envelope answers a statement that needs it with
//! `<wrapper> does not support <callback>` (or PostgreSQL's own wording, such as
//! `cannot insert into foreign table "t"`). Inside a capability trait, each callback a
//! wrapper leaves out fails loudly by default, never a silent `Ok`.
//!
//! | group | PostgreSQL / openGauss callback | here |
//! |---|---|---|
//! | scan | GetForeignRelSize, GetForeignPaths, GetForeignPlan, Begin/Iterate/ReScan/EndForeignScan | [`FdwRoutine::get_rel_size`], [`FdwRoutine::get_paths`], [`FdwRoutine::begin_scan`], [`ForeignScan`] |
//! | modify | PlanForeignModify, BeginForeignModify, ExecForeignInsert/Update/Delete, EndForeignModify, IsForeignRelUpdatable, AddForeignUpdateTargets | [`ModifyRoutine`], [`ForeignModify`] |
//! | pushdown | GetForeignJoinPaths, GetForeignUpperPaths (over a base or a join relation), PlanDirectModify/ExplainDirectModify/BeginDirectModify/IterateDirectModify | [`PushdownRoutine`] |
//! | support | ExplainForeignScan, AnalyzeForeignTable, ImportForeignSchema, ExecForeignTruncate, the validator function | [`FdwRoutine::explain_scan`], [`SupportRoutine`], [`FdwRoutine::validate_options`] |
//! | DDL (openGauss) | ValidateTableDef | [`DdlRoutine`] |
//! | transaction (openGauss) | the MOT transaction hooks: begin, pre-commit validation, commit, abort, end | [`TransactionRoutine`] |
//! | durability (openGauss) | checkpoint callback, redo, recovery | [`DurabilityRoutine`] |
//! | maintenance (openGauss) | vacuum, drop memory pools, memory statistics (GetFdwMemorySize) | [`MaintenanceRoutine`] |
//! | lite path (openGauss) | MOT's JIT "lite executor" for simple queries | [`LiteRoutine`] |

use std::sync::Arc;

use crate::batch::RowBatch;
use crate::error::{FdwError, FdwResult};
use crate::expr::Expr;
use crate::filter::KeySet;
use crate::path::{ForeignPath, PathKey, PathPrivate, RelInfo, RelSize};
use crate::schema::{ColumnDef, IndexDef, OptionTarget, Options, TableDesc};
use crate::services::{EnvelopeServices, ExecContext, Lsn, TxnId};
use crate::types::{Datum, Row};

/// The handler of one foreign data wrapper (what `HANDLER` names in
/// `CREATE FOREIGN DATA WRAPPER`). One instance serves every server and table of the wrapper;
/// it must be thread-safe.
pub trait FdwRoutine: Send + Sync {
    /// The handler name the envelope registers it under (`file_fdw`, `mot_fdw`).
    fn name(&self) -> &str;

    /// Called once when the envelope registers the wrapper, with the services it offers.
    fn init(&self, services: Arc<dyn EnvelopeServices>) -> FdwResult<()> {
        let _ = services;
        Ok(())
    }

    /// The validator function (PostgreSQL: `VALIDATOR`): checks an option list at CREATE and
    /// ALTER of a wrapper, server, user mapping, foreign table or column, with PostgreSQL's
    /// errors (`invalid option "foo"`, HV00D). The default accepts no options at all.
    fn validate_options(&self, target: OptionTarget, options: &Options) -> FdwResult<()> {
        match options.0.first() {
            None => Ok(()),
            Some((k, _)) => Err(crate::err!(FDW_INVALID_OPTION_NAME, "invalid option \"{}\"", k)
                .with_context(format!("{} options of {}", target.describe(), self.name()))),
        }
    }

    // --- scan: required ------------------------------------------------------------------

    /// GetForeignRelSize: how many rows the table has, and how many survive `rel.quals`.
    /// Called once per base relation per query, before `get_paths`.
    fn get_rel_size(&self, rel: &RelInfo) -> FdwResult<RelSize>;

    /// GetForeignPaths: the access paths the wrapper offers (at least one: the full scan).
    /// Index, sorted, parameterized and parallel paths are offered here too.
    fn get_paths(&self, rel: &RelInfo, size: &RelSize) -> FdwResult<Vec<ForeignPath>>;

    /// BeginForeignScan (with GetForeignPlan folded in: the plan is the chosen path plus the
    /// request). Called when the executor opens the scan node.
    fn begin_scan(&self, request: &ScanRequest, ctx: &ExecContext) -> FdwResult<Box<dyn ForeignScan>>;

    /// ExplainForeignScan: extra lines for EXPLAIN (`verbose` for EXPLAIN VERBOSE), such as
    /// `Foreign File: /path` or `Remote SQL: ...`. Each item is (label, value).
    fn explain_scan(&self, request: &ScanRequest, verbose: bool) -> Vec<(String, String)> {
        let _ = (request, verbose);
        Vec::new()
    }

    // --- capabilities ----------------------------------------------------------------------

    fn modify_routine(&self) -> Option<&dyn ModifyRoutine> {
        None
    }
    fn pushdown_routine(&self) -> Option<&dyn PushdownRoutine> {
        None
    }
    fn support_routine(&self) -> Option<&dyn SupportRoutine> {
        None
    }
    fn ddl_routine(&self) -> Option<&dyn DdlRoutine> {
        None
    }
    fn transaction_routine(&self) -> Option<&dyn TransactionRoutine> {
        None
    }
    fn durability_routine(&self) -> Option<&dyn DurabilityRoutine> {
        None
    }
    fn maintenance_routine(&self) -> Option<&dyn MaintenanceRoutine> {
        None
    }
    fn lite_routine(&self) -> Option<&dyn LiteRoutine> {
        None
    }
}

/// What the executor asks a scan for: the plan-time decisions, fixed for the query.
#[derive(Clone, Debug)]
pub struct ScanRequest {
    pub table: Arc<TableDesc>,
    /// Table columns to return, in this order: each row of the scan has exactly these.
    pub columns: Vec<usize>,
    /// Quals the chosen path enforces (`Exact` or `Inexact`), over table columns; they may
    /// contain `Param`s (the values arrive with `ForeignScan::rescan`/`ScanParams`).
    pub quals: Vec<Expr>,
    /// Join quals the parameterized path uses (over table columns and outer `Param`s).
    pub param_quals: Vec<Expr>,
    /// Return a row identity as an extra last column (for UPDATE/DELETE, PostgreSQL's ctid
    /// or AddForeignUpdateTargets).
    pub want_row_id: bool,
    /// The chosen path (its private data, pathkeys, parallel workers).
    pub path: ForeignPath,
    /// Stop after this many rows if set (a LIMIT the wrapper may use).
    pub limit: Option<u64>,
}

/// Parameter values for a scan: `$n` and outer-row values, indexed like `Expr::Param`.
pub type ScanParams<'a> = &'a [Datum];

/// A running scan (ForeignScanState).
pub trait ForeignScan: Send {
    /// IterateForeignScan, a batch at a time: fills `out` (cleared by the caller) with up to
    /// `BATCH_SIZE` rows and returns `false` once the scan is exhausted (a final call may
    /// return rows and `false`).
    fn next_batch(&mut self, out: &mut RowBatch, params: ScanParams<'_>) -> FdwResult<bool>;
    /// ReScanForeignScan: restart from the beginning, with new parameter values.
    fn rescan(&mut self, params: ScanParams<'_>) -> FdwResult<()>;
    /// EndForeignScan: release resources. Also called on error paths; dropping must be safe
    /// without it.
    fn end(&mut self) -> FdwResult<()> {
        Ok(())
    }
    /// A hash join above this scan offers the keys of its inner side (see [`crate::filter`]):
    /// rows whose table column `column` holds a value `keys` does not admit cannot join and
    /// may be dropped. Called before the first batch, or after a rescan, and replaces any
    /// earlier filter. Returns whether the scan uses it; the default ignores it (a scan must
    /// return every row that passes, so ignoring the filter is always correct).
    fn set_key_filter(&mut self, column: usize, keys: Arc<KeySet>) -> bool {
        let _ = (column, keys);
        false
    }
}

/// What kind of modification a `begin_modify` prepares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModifyKind {
    Insert,
    Update,
    Delete,
}

impl ModifyKind {
    /// The PostgreSQL callback name, for `does not support` errors.
    pub fn callback(&self) -> &'static str {
        match self {
            ModifyKind::Insert => "ExecForeignInsert",
            ModifyKind::Update => "ExecForeignUpdate",
            ModifyKind::Delete => "ExecForeignDelete",
        }
    }
}

/// DML on foreign tables (PostgreSQL 3.2 callbacks).
pub trait ModifyRoutine: Send + Sync {
    /// IsForeignRelUpdatable: which kinds the table accepts.
    fn is_updatable(&self, table: &TableDesc) -> Vec<ModifyKind>;
    /// BeginForeignModify (PlanForeignModify folded in).
    fn begin_modify(
        &self,
        table: &Arc<TableDesc>,
        kind: ModifyKind,
        ctx: &ExecContext,
    ) -> FdwResult<Box<dyn ForeignModify>>;
}

/// A running modification (ResultRelInfo's FDW state).
pub trait ForeignModify: Send {
    /// ExecForeignInsert (ExecForeignBatchInsert for several rows): full rows in table column
    /// order. Returns the rows as stored (defaults applied by the wrapper, if any).
    fn insert(&mut self, rows: Vec<Row>) -> FdwResult<Vec<Row>> {
        let _ = rows;
        Err(FdwError::unsupported("this wrapper", "ExecForeignInsert"))
    }
    /// ExecForeignUpdate: replaces the row with identity `row_id` by `new_row`.
    fn update(&mut self, row_id: &Datum, new_row: Row) -> FdwResult<Row> {
        let _ = (row_id, new_row);
        Err(FdwError::unsupported("this wrapper", "ExecForeignUpdate"))
    }
    /// ExecForeignDelete: removes the row with identity `row_id`; returns the old row if known.
    fn delete(&mut self, row_id: &Datum) -> FdwResult<Option<Row>> {
        let _ = row_id;
        Err(FdwError::unsupported("this wrapper", "ExecForeignDelete"))
    }
    /// EndForeignModify.
    fn end(&mut self) -> FdwResult<()> {
        Ok(())
    }
}

/// Join and aggregate pushdown, and direct modification (PostgreSQL 3.3).
pub trait PushdownRoutine: Send + Sync {
    /// GetForeignJoinPaths: a path computing the join of two relations remotely, or nothing.
    fn get_join_paths(&self, join: &JoinRelInfo) -> FdwResult<Vec<ForeignPath>> {
        let _ = join;
        Ok(Vec::new())
    }
    /// GetForeignUpperPaths: a path computing grouping/aggregation remotely, or nothing.
    fn get_upper_paths(&self, upper: &UpperRelInfo) -> FdwResult<Vec<ForeignPath>> {
        let _ = upper;
        Ok(Vec::new())
    }
    /// GetForeignUpperPaths over a join relation: a path computing the aggregation `upper`
    /// whose input is the join `join` (both relations of the wrapper), remotely, or nothing.
    /// `upper.input` is the join's first outer table; the expressions of `upper` are over the
    /// join's columns (outer tables' then inner tables'), and every qual of the join is in
    /// `join.quals` (all must be applied remotely for the path to be correct). The default
    /// offers nothing.
    fn get_join_upper_paths(&self, join: &JoinRelInfo, upper: &UpperRelInfo) -> FdwResult<Vec<ForeignPath>> {
        let _ = (join, upper);
        Ok(Vec::new())
    }
    /// GetForeignUpperPaths for the ORDERED and FINAL upper relations: a path of the planned
    /// scan `request` (usually a pushed-down join or aggregation) returning its rows in
    /// `order` (pathkeys over the path's own column numbering, as `request.columns`) and, if
    /// `limit` is set, no more than that many of them (the envelope then sets
    /// `ScanRequest::limit` and keeps its own Limit above). The default offers nothing.
    fn get_final_path(
        &self,
        request: &ScanRequest,
        order: &[PathKey],
        limit: Option<u64>,
    ) -> FdwResult<Option<ForeignPath>> {
        let _ = (request, order, limit);
        Ok(None)
    }
    /// PlanDirectModify: whether `request` (an UPDATE/DELETE of one table, without joins,
    /// sub-selects or RETURNING) can run as one statement of the wrapper, decided at plan time.
    /// The envelope then plans PostgreSQL's `Update on t` / `-> Foreign Update on t` shape and
    /// calls [`PushdownRoutine::direct_modify`] instead of scanning rows and modifying them
    /// one by one. The default (`false`) keeps the row-by-row path.
    fn plan_direct_modify(&self, request: &DirectModify) -> FdwResult<bool> {
        let _ = request;
        Ok(false)
    }
    /// ExplainDirectModify: extra lines for EXPLAIN of a planned direct modification (`verbose`
    /// for EXPLAIN VERBOSE), such as `Remote SQL: UPDATE ...`. Each item is (label, value).
    fn explain_direct_modify(&self, request: &DirectModify, verbose: bool) -> Vec<(String, String)> {
        let _ = (request, verbose);
        Vec::new()
    }
    /// BeginDirectModify + IterateDirectModify + EndDirectModify: run an UPDATE/DELETE whose
    /// quals are all pushable as one remote statement; returns the affected row count, or
    /// `None` if it cannot be done directly (after a `true` from `plan_direct_modify`, `None`
    /// is an error of the wrapper).
    fn direct_modify(&self, request: &DirectModify, ctx: &ExecContext) -> FdwResult<Option<u64>> {
        let _ = (request, ctx);
        Ok(None)
    }
}

/// Join type of a pushed-down join.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
    Semi,
    Anti,
}

/// Two relations of the same wrapper being joined.
#[derive(Clone, Debug)]
pub struct JoinRelInfo {
    pub kind: JoinKind,
    /// Base tables of the outer side and of the inner side. A side holds several tables only
    /// for an inner join of three or more relations (a join relation joined with another
    /// relation, every join inner): all the quals between them are then in `quals`.
    pub outer: Vec<Arc<TableDesc>>,
    pub inner: Vec<Arc<TableDesc>>,
    /// Join quals over the concatenated columns of all outer tables then all inner tables.
    pub quals: Vec<Expr>,
}

/// A grouping/aggregation over one relation of the wrapper. Expressions are over the
/// table's columns; the output is the group keys followed by the aggregates.
#[derive(Clone, Debug)]
pub struct UpperRelInfo {
    pub input: Arc<TableDesc>,
    /// The WHERE quals over the input table (all must be applied remotely for the path to be
    /// correct: a wrapper that cannot ship one of them must offer no path).
    pub input_quals: Vec<Expr>,
    pub group_by: Vec<Expr>,
    pub aggregates: Vec<(crate::expr::AggFunc, Vec<Expr>, bool)>,
    pub having: Option<Expr>,
    /// The session's `max_parallel_workers_per_gather`: threads a path may use.
    pub max_parallel_workers: usize,
}

/// An UPDATE/DELETE a wrapper may run directly.
#[derive(Clone, Debug)]
pub struct DirectModify {
    pub table: Arc<TableDesc>,
    pub kind: ModifyKind,
    /// For UPDATE: (column, new value expression over the old row's columns).
    pub assignments: Vec<(usize, Expr)>,
    /// The WHERE conjuncts, over the table's columns (all must be applied by the wrapper).
    pub quals: Vec<Expr>,
}

/// A sample of rows from ANALYZE (AcquireSampleRowsFunc's answer).
#[derive(Clone, Debug, Default)]
pub struct AnalyzeSample {
    /// Up to the requested number of rows, all columns in table order, sampled uniformly.
    pub rows: Vec<Row>,
    /// The table's total row count (exact or estimated).
    pub total_rows: f64,
}

/// IMPORT FOREIGN SCHEMA's list restriction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportFilter {
    All,
    LimitTo(Vec<String>),
    Except(Vec<String>),
}

/// A foreign table definition returned by IMPORT FOREIGN SCHEMA.
#[derive(Clone, Debug)]
pub struct ImportedTable {
    pub name: String,
    pub columns: Vec<ColumnDef>,
    pub options: Options,
}

/// Support callbacks (PostgreSQL 3.4).
pub trait SupportRoutine: Send + Sync {
    /// AnalyzeForeignTable + AcquireSampleRowsFunc: a uniform sample of up to `target_rows`.
    fn analyze(&self, table: &Arc<TableDesc>, target_rows: usize, ctx: &ExecContext) -> FdwResult<AnalyzeSample> {
        let _ = (table, target_rows, ctx);
        Err(FdwError::unsupported("this wrapper", "AnalyzeForeignTable"))
    }
    /// ImportForeignSchema.
    fn import_schema(
        &self,
        remote_schema: &str,
        filter: &ImportFilter,
        server_options: &Options,
        user_mapping_options: &Options,
    ) -> FdwResult<Vec<ImportedTable>> {
        let _ = (remote_schema, filter, server_options, user_mapping_options);
        Err(FdwError::unsupported("this wrapper", "ImportForeignSchema"))
    }
    /// ExecForeignTruncate.
    fn truncate(&self, tables: &[Arc<TableDesc>], ctx: &ExecContext) -> FdwResult<()> {
        let _ = (tables, ctx);
        Err(FdwError::unsupported("this wrapper", "ExecForeignTruncate"))
    }
}

/// A DDL command routed to a storage engine (openGauss's `ValidateTableDef`).
#[derive(Clone, Debug)]
pub enum DdlCommand {
    CreateTable { table: Arc<TableDesc> },
    DropTable { table: Arc<TableDesc> },
    CreateIndex { table: Arc<TableDesc>, index: IndexDef },
    DropIndex { table: Arc<TableDesc>, index: IndexDef },
    AddColumn { table: Arc<TableDesc>, column: ColumnDef, default: Datum },
    DropColumn { table: Arc<TableDesc>, column: usize },
    RenameColumn { table: Arc<TableDesc>, column: usize, new_name: String },
}

/// Complete DDL for storage-engine wrappers: the envelope keeps the catalog, the wrapper keeps
/// the storage in step with it.
pub trait DdlRoutine: Send + Sync {
    /// ValidateTableDef: apply a DDL command to the engine, inside transaction `ctx.xid`.
    fn validate_table_def(&self, command: &DdlCommand, ctx: &ExecContext) -> FdwResult<()>;
}

/// The transaction lifecycle (openGauss's MOT hooks), driven by the envelope for every wrapper
/// a transaction touched, in this order: `begin` (first touch), `pre_commit` (validation; an
/// error aborts the whole transaction), `commit` (install, given the commit record's LSN),
/// or `abort`; then `end`.
pub trait TransactionRoutine: Send + Sync {
    fn begin(&self, ctx: &ExecContext) -> FdwResult<()>;
    /// Validation (OCC) and writing the transaction's redo through `EnvelopeServices`.
    /// A serialization failure is SQLSTATE 40001.
    fn pre_commit(&self, ctx: &ExecContext) -> FdwResult<()>;
    fn commit(&self, ctx: &ExecContext, commit_lsn: Lsn) -> FdwResult<()>;
    fn abort(&self, ctx: &ExecContext) -> FdwResult<()>;
    fn end(&self, xid: TxnId) -> FdwResult<()> {
        let _ = xid;
        Ok(())
    }
}

/// Checkpoint, redo and recovery (openGauss's durability hooks for MOT).
pub trait DurabilityRoutine: Send + Sync {
    /// The resource-manager id of this wrapper's WAL records.
    fn rmgr_id(&self) -> crate::services::RmgrId;
    /// Called by the checkpointer: write a consistent snapshot; the returned LSN is where
    /// replay must start for this wrapper.
    fn checkpoint(&self, redo_lsn: Lsn) -> FdwResult<Lsn>;
    /// Replay one of this wrapper's WAL records (only records of committed transactions are
    /// dispatched).
    fn redo(&self, lsn: Lsn, xid: TxnId, data: &[u8]) -> FdwResult<()>;
    /// Load the last checkpoint at startup, before WAL replay; `threads` may be used in
    /// parallel.
    fn recover(&self, threads: usize) -> FdwResult<()>;
}

/// Memory use of one pool of a storage engine.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemoryStat {
    /// Table or index name, or a global pool name.
    pub name: String,
    pub kind: String,
    pub bytes: u64,
}

/// Vacuum, pool release and memory statistics (openGauss's extensions).
pub trait MaintenanceRoutine: Send + Sync {
    /// VACUUM: compact the table and its indexes (under an exclusive table lock held by the
    /// envelope).
    fn vacuum(&self, table: &Arc<TableDesc>) -> FdwResult<()> {
        let _ = table;
        Err(FdwError::unsupported("this wrapper", "VACUUM"))
    }
    /// Memory used by one table (`pg_relation_size`) and its indexes (`pg_indexes_size`).
    fn table_memory(&self, table: &TableDesc) -> FdwResult<(u64, u64)> {
        let _ = table;
        Err(FdwError::unsupported("this wrapper", "GetFdwMemorySize"))
    }
    /// All pools, for a global memory view.
    fn memory_stats(&self) -> Vec<MemoryStat> {
        Vec::new()
    }
}

/// A statement simple enough for the lite execution path (MOT's "lite executor"): one scan of
/// one table, or one row to insert, with nothing around it that needs the executor. The
/// envelope offers it once, when a prepared statement is planned; the plan the wrapper returns
/// then runs every execution without building operators.
#[derive(Clone, Debug)]
pub struct LiteQuery {
    pub table: Arc<TableDesc>,
    pub op: LiteOp,
}

/// What a lite statement does.
#[derive(Clone, Debug)]
pub enum LiteOp {
    /// `SELECT`: the rows of the scan, as the scan returns them (its `columns`).
    Select { scan: ScanRequest },
    /// `UPDATE`: each row of the scan (which wants the row id) becomes `new_row`, the full row
    /// in table column order, computed over the scanned row (`Expr::Column` = a position in
    /// the scan's output, the row id last) and the statement's parameters.
    Update { scan: ScanRequest, new_row: Vec<Expr> },
    /// `DELETE`: each row of the scan (which wants the row id) is deleted.
    Delete { scan: ScanRequest },
    /// `INSERT` of one row: column-free expressions in table column order.
    Insert { row: Vec<Expr> },
}

/// A prepared lite plan.
pub trait LitePlan: Send + Sync {
    /// Runs the statement in the transaction of `ctx` with the statement's parameter values.
    /// A `Select` appends its rows to `out`; every kind returns the number of rows it
    /// returned or changed.
    fn execute(&self, params: &[Datum], ctx: &ExecContext, out: &mut Vec<Row>) -> FdwResult<u64>;
}

/// The lite execution path.
pub trait LiteRoutine: Send + Sync {
    /// A plan for `query` if the wrapper has a faster way to run it; `None` sends it down the
    /// normal path (which must give the same results).
    fn prepare_lite(&self, query: &LiteQuery) -> FdwResult<Option<Arc<dyn LitePlan>>>;
}

/// Helper for wrappers: the private data of a path downcast to the wrapper's own type.
pub fn path_private<T: 'static>(private: &PathPrivate) -> Option<&T> {
    private.as_ref().and_then(|p| p.downcast_ref::<T>())
}
