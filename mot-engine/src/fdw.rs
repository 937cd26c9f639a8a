//! The wrapper: MOT behind the extended FDW API (`mot_fdw`).
//!
//! Everything here translates between the API and the engine: planning goes to `plan.rs`,
//! scans to `scan.rs`, writes to the transaction's write set (`txn.rs`), DDL, TRUNCATE and
//! VACUUM to `ddl.rs`, the transaction lifecycle to `engine.rs`. MOT tables take no options.
//! Durability (redo, checkpoint, recovery) lives in `durability`; this file hooks it in: `init`
//! keeps the envelope's services, DDL is logged once it took effect.

use std::sync::Arc;

use fdw_api::eval::Program;
use fdw_api::{
    err, path_private, AnalyzeSample, Datum, DdlCommand, DdlRoutine, DurabilityRoutine, EnvelopeServices, ExecContext,
    Expr, FdwResult, FdwRoutine, ForeignModify, ForeignPath, ForeignScan, LiteRoutine, Lsn, MaintenanceRoutine,
    MemoryStat, ModifyKind, ModifyRoutine, RelInfo, RelSize, Row, ScanRequest, SupportRoutine, TableDesc,
    TransactionRoutine, TxnId,
};
use parking_lot::Mutex;

use crate::engine::MotEngine;
use crate::plan;
use crate::row::ABSENT;
use crate::scan::{MotScan, ScanSpec};
use crate::table::{Table, TableState};
use crate::txn::Txn;

/// The `mot_fdw` handler. Cloning shares the engine.
#[derive(Clone, Debug)]
pub struct MotFdw {
    engine: Arc<MotEngine>,
}

impl MotFdw {
    pub fn new() -> MotFdw {
        MotFdw { engine: MotEngine::new() }
    }

    pub fn engine(&self) -> &Arc<MotEngine> {
        &self.engine
    }
}

/// The handler to register under `mot_fdw`.
pub fn handler() -> Arc<dyn FdwRoutine> {
    Arc::new(MotFdw::new())
}

impl FdwRoutine for MotFdw {
    fn name(&self) -> &str {
        "mot_fdw"
    }

    fn init(&self, services: Arc<dyn EnvelopeServices>) -> FdwResult<()> {
        self.engine.durability.set_services(services);
        Ok(())
    }

    fn get_rel_size(&self, rel: &RelInfo) -> FdwResult<RelSize> {
        let t = self.engine.table(&rel.table)?;
        let st = t.state();
        Ok(plan::rel_size(rel, &st, t.live_rows(), st.heap.pool.bytes()))
    }

    fn get_paths(&self, rel: &RelInfo, size: &RelSize) -> FdwResult<Vec<ForeignPath>> {
        let t = self.engine.table(&rel.table)?;
        Ok(plan::paths(rel, size, &t.state()))
    }

    fn begin_scan(&self, request: &ScanRequest, ctx: &ExecContext) -> FdwResult<Box<dyn ForeignScan>> {
        Ok(Box::new(ScanTemplate::new(request)?.open(&self.engine, ctx)?.0))
    }

    fn explain_scan(&self, request: &ScanRequest, _verbose: bool) -> Vec<(String, String)> {
        let spec = path_private::<ScanSpec>(&request.path.private).cloned().unwrap_or_default();
        let names: Vec<&str> = request.table.columns.iter().map(|c| c.name.as_str()).collect();
        let mut lines = Vec::new();
        if !spec.bound_quals.is_empty() {
            lines.push(("Index Cond".to_string(), deparse_list(&spec.bound_quals, &names)));
        }
        let residual: Vec<Expr> = request
            .quals
            .iter()
            .chain(request.param_quals.iter())
            .filter(|q| !spec.bound_quals.contains(q))
            .cloned()
            .collect();
        if !residual.is_empty() {
            lines.push(("Filter".to_string(), deparse_list(&residual, &names)));
        }
        lines
    }

    fn modify_routine(&self) -> Option<&dyn ModifyRoutine> {
        Some(self)
    }
    fn support_routine(&self) -> Option<&dyn SupportRoutine> {
        Some(self)
    }
    fn ddl_routine(&self) -> Option<&dyn DdlRoutine> {
        Some(self)
    }
    fn transaction_routine(&self) -> Option<&dyn TransactionRoutine> {
        Some(self)
    }
    fn maintenance_routine(&self) -> Option<&dyn MaintenanceRoutine> {
        Some(self)
    }
    fn durability_routine(&self) -> Option<&dyn DurabilityRoutine> {
        Some(self)
    }
    fn lite_routine(&self) -> Option<&dyn LiteRoutine> {
        Some(self)
    }
}

/// What a scan takes from its request, derived once: a prepared lite plan keeps it, and
/// `begin_scan` makes one per call.
pub(crate) struct ScanTemplate {
    table: Arc<TableDesc>,
    /// The plan's spec is shared, not copied.
    spec: Arc<ScanSpec>,
    residual: Arc<[Program]>,
    columns: Arc<[usize]>,
    want_row_id: bool,
    limit: Option<u64>,
}

impl ScanTemplate {
    pub(crate) fn new(request: &ScanRequest) -> FdwResult<ScanTemplate> {
        let spec: Arc<ScanSpec> = request.path.private.clone().and_then(|p| p.downcast().ok()).unwrap_or_default();
        let residual = request
            .quals
            .iter()
            .chain(request.param_quals.iter())
            .filter(|q| !spec.bound_quals.contains(q))
            .map(Program::compile)
            .collect::<FdwResult<Vec<_>>>()?;
        Ok(ScanTemplate {
            table: request.table.clone(),
            spec,
            residual: residual.into(),
            columns: request.columns.as_slice().into(),
            want_row_id: request.want_row_id,
            limit: request.limit,
        })
    }

    /// Begins the scan in the transaction of `ctx`, against the table as it is now (whose
    /// state comes along for a writer of the same statement).
    pub(crate) fn open(&self, engine: &MotEngine, ctx: &ExecContext) -> FdwResult<(MotScan, Arc<TableState>)> {
        let t = engine.table(&self.table)?;
        let st = t.state();
        let index = match &self.spec.index {
            None => st.heap.clone(),
            Some(name) => {
                st.index(name).cloned().ok_or_else(|| err!(UNDEFINED_OBJECT, "index \"{}\" does not exist", name))?
            }
        };
        if let Some(&c) = self.columns.iter().find(|&&c| c >= st.columns.len()) {
            return Err(err!(UNDEFINED_COLUMN, "column {} of relation \"{}\" does not exist", c + 1, st.name));
        }
        let scan = MotScan::new(
            engine.txn(ctx),
            t,
            index,
            self.spec.clone(),
            self.residual.clone(),
            self.columns.clone(),
            self.want_row_id,
            self.limit,
        );
        Ok((scan, st))
    }
}

/// A running INSERT/UPDATE/DELETE.
pub(crate) struct MotModify {
    txn: Arc<Mutex<Txn>>,
    table: Arc<Table>,
    /// The table's state for the whole statement: what changes it (DDL, TRUNCATE, VACUUM)
    /// takes an exclusive table lock, so it cannot change under a running statement, and
    /// fetching it per row made every writing session write its shared reference count.
    state: Arc<TableState>,
}

impl MotModify {
    pub(crate) fn new(engine: &MotEngine, table: &TableDesc, ctx: &ExecContext) -> FdwResult<MotModify> {
        let table = engine.table(table)?;
        Ok(MotModify { txn: engine.txn(ctx), state: table.state(), table })
    }

    /// The writer for rows a scan of the same statement found.
    pub(crate) fn for_scan(scan: &MotScan, state: Arc<TableState>) -> MotModify {
        MotModify { txn: scan.txn.clone(), table: scan.table.clone(), state }
    }
}

fn row_id_of(d: &Datum) -> FdwResult<u64> {
    d.as_i64().map(|v| v as u64).ok_or_else(|| err!(INTERNAL_ERROR, "mot: invalid row id {:?}", d))
}

impl ForeignModify for MotModify {
    fn insert(&mut self, rows: Vec<Row>) -> FdwResult<Vec<Row>> {
        let st = &self.state;
        let mut txn = self.txn.lock();
        for row in &rows {
            st.check_row(row)?;
            txn.insert(&self.table, st, Arc::from(row.as_slice()))?;
        }
        Ok(rows)
    }

    fn update(&mut self, row_id: &Datum, new_row: Row) -> FdwResult<Row> {
        let st = &self.state;
        st.check_row(&new_row)?;
        self.txn.lock().update(&self.table, st, row_id_of(row_id)?, Arc::from(new_row.as_slice()))?;
        Ok(new_row)
    }

    fn delete(&mut self, row_id: &Datum) -> FdwResult<Option<Row>> {
        let st = &self.state;
        Ok(self.txn.lock().delete(&self.table, st, row_id_of(row_id)?)?.map(|d| d.to_vec()))
    }
}

impl ModifyRoutine for MotFdw {
    fn is_updatable(&self, _table: &TableDesc) -> Vec<ModifyKind> {
        vec![ModifyKind::Insert, ModifyKind::Update, ModifyKind::Delete]
    }

    fn begin_modify(
        &self,
        table: &Arc<TableDesc>,
        _kind: ModifyKind,
        ctx: &ExecContext,
    ) -> FdwResult<Box<dyn ForeignModify>> {
        Ok(Box::new(MotModify::new(&self.engine, table, ctx)?))
    }
}

impl SupportRoutine for MotFdw {
    fn analyze(&self, table: &Arc<TableDesc>, target_rows: usize, _ctx: &ExecContext) -> FdwResult<AnalyzeSample> {
        let t = self.engine.table(table)?;
        let st = t.state();
        let total = t.live_rows().max(1);
        // Every k-th committed row: uniform over row ids, deterministic.
        let step = (total as usize).div_ceil(target_rows.max(1)).max(1);
        let mut rows = Vec::new();
        let mut i = 0usize;
        for e in st.heap.map.iter() {
            let (tid, data) = e.value().read();
            if tid & ABSENT != 0 {
                continue;
            }
            if i.is_multiple_of(step) && rows.len() < target_rows {
                rows.push(data.to_vec());
            }
            i += 1;
        }
        Ok(AnalyzeSample { rows, total_rows: i as f64 })
    }

    fn truncate(&self, tables: &[Arc<TableDesc>], ctx: &ExecContext) -> FdwResult<()> {
        self.engine.truncate(tables, ctx)
    }
}

impl DdlRoutine for MotFdw {
    fn validate_table_def(&self, command: &DdlCommand, ctx: &ExecContext) -> FdwResult<()> {
        if let DdlCommand::CreateTable { table } = command {
            // Catalog ids are never reused, so a table of this id can only be left over by a
            // crash between MOT's DDL record and the catalog's: it is replaced.
            if self.engine.durability.is_durable() {
                self.engine.remove_table(table.id);
            }
        }
        self.engine.ddl(command, ctx)?;
        self.engine.log_ddl(command)
    }
}

impl TransactionRoutine for MotFdw {
    fn begin(&self, ctx: &ExecContext) -> FdwResult<()> {
        self.engine.begin(ctx);
        Ok(())
    }
    fn pre_commit(&self, ctx: &ExecContext) -> FdwResult<()> {
        self.engine.pre_commit(ctx.xid)
    }
    fn commit(&self, ctx: &ExecContext, _commit_lsn: Lsn) -> FdwResult<()> {
        self.engine.commit(ctx.xid)
    }
    fn abort(&self, ctx: &ExecContext) -> FdwResult<()> {
        self.engine.abort(ctx.xid);
        Ok(())
    }
    fn end(&self, xid: TxnId) -> FdwResult<()> {
        self.engine.abort(xid);
        Ok(())
    }
}

impl MaintenanceRoutine for MotFdw {
    fn vacuum(&self, table: &Arc<TableDesc>) -> FdwResult<()> {
        self.engine.vacuum(table)
    }

    fn table_memory(&self, table: &TableDesc) -> FdwResult<(u64, u64)> {
        let st = self.engine.table(table)?.state();
        Ok((st.heap.pool.bytes(), st.index_bytes()))
    }

    fn memory_stats(&self) -> Vec<MemoryStat> {
        let mut out = Vec::new();
        for t in self.engine.tables() {
            let st = t.state();
            out.push(MemoryStat { name: st.name.clone(), kind: "table".into(), bytes: st.heap.pool.bytes() });
            for i in &st.indexes {
                out.push(MemoryStat { name: i.name.clone(), kind: "index".into(), bytes: i.pool.bytes() });
            }
        }
        out
    }
}

/// EXPLAIN text of a qual list, PostgreSQL style: `(a = 1)`, `((a = 1) AND (b > 2))`.
fn deparse_list(quals: &[Expr], names: &[&str]) -> String {
    let parts: Vec<String> = quals.iter().map(|q| deparse(q, names)).collect();
    if parts.len() == 1 {
        parts.into_iter().next().unwrap_or_default()
    } else {
        format!("({})", parts.join(" AND "))
    }
}

/// A small deparser for the qual shapes MOT scans show; other nodes print as `...`.
fn deparse(e: &Expr, names: &[&str]) -> String {
    match e {
        Expr::Column { index, .. } => names.get(*index).map_or_else(|| format!("${index}"), |n| n.to_string()),
        Expr::Param { index, .. } => format!("${}", index + 1),
        Expr::Const { value: Datum::Null, .. } => "NULL".into(),
        Expr::Const { value, ty } => {
            if ty.is_numeric() && !matches!(value, Datum::Float4(_) | Datum::Float8(_) | Datum::Numeric(_)) {
                value.to_text()
            } else {
                format!("'{}'::{}", value.to_text().replace('\'', "''"), ty.sql_name())
            }
        }
        Expr::Binary { op, left, right, .. } => {
            format!("({} {} {})", deparse(left, names), op.sql(), deparse(right, names))
        }
        Expr::Cast { expr, ty } => format!("({})::{}", deparse(expr, names), ty.sql_name()),
        _ => "...".into(),
    }
}
