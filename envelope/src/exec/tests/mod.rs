//! Executor tests: physical plans built by hand over a tiny in-memory wrapper that returns
//! fixed rows and records what the executor asked of it (scans begun, rescans, parameters).
//!
//! Expected results were derived by hand and checked against PostgreSQL 15 where the
//! semantics are subtle (outer joins with NULL keys, set operations with duplicates).

mod joins;
mod ops;
mod subplans;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use fdw_api::path::Cost;
use fdw_api::services::VolatileServices;
use fdw_api::{
    BinaryOp, ColumnDef, DataType, Datum, ExecContext, Expr, FdwResult, ForeignModify, ForeignPath, ForeignScan,
    IsolationLevel, ModifyKind, ModifyRoutine, Options, RelInfo, RelSize, Row, RowBatch, ScanParams, ScanRequest,
    TableDesc,
};

use super::{execute, execute_analyze, execute_with, ExecOptions, NodeStats};
use crate::plan::physical::{Node, OutputColumn, PhysicalQuery, Plan, ScanNode};

/// What the test wrapper saw.
#[derive(Default, Debug)]
pub(super) struct Log {
    pub begins: usize,
    pub rescans: usize,
    pub ends: usize,
    /// The parameter values of each rescan (the slots named by the table's `param_filter`).
    pub params: Vec<Datum>,
}

/// An in-memory wrapper. Tables: name -> rows. A table with option `param_filter 'c:p'` only
/// returns rows whose column `c` equals parameter `p` (a parameterized path). With
/// `writable`, it has a modify routine; row ids are row positions (`Int8`).
#[derive(Default)]
pub(super) struct TestFdw {
    pub tables: Mutex<HashMap<String, Vec<Option<Row>>>>,
    pub log: Mutex<Log>,
    pub writable: bool,
    /// Rows per batch the scan returns (to exercise batch boundaries).
    pub batch: usize,
}

impl TestFdw {
    pub fn new(tables: &[(&str, Vec<Row>)]) -> Arc<TestFdw> {
        Arc::new(TestFdw {
            tables: Mutex::new(
                tables.iter().map(|(n, r)| (n.to_string(), r.iter().cloned().map(Some).collect())).collect(),
            ),
            batch: 2,
            ..Default::default()
        })
    }
    pub fn writable(tables: &[(&str, Vec<Row>)]) -> Arc<TestFdw> {
        let f = TestFdw::new(tables);
        let mut f = Arc::try_unwrap(f).unwrap_or_else(|_| unreachable!());
        f.writable = true;
        Arc::new(f)
    }
    pub fn rows(&self, table: &str) -> Vec<Row> {
        self.tables.lock().unwrap()[table].iter().flatten().cloned().collect()
    }
}

struct TestScan {
    rows: Vec<Row>,
    filter: Option<(usize, usize)>,
    pos: usize,
    batch: usize,
    fdw: Arc<TestFdw>,
}

impl ForeignScan for TestScan {
    fn next_batch(&mut self, out: &mut RowBatch, params: ScanParams<'_>) -> FdwResult<bool> {
        while self.pos < self.rows.len() && out.len() < self.batch {
            let row = &self.rows[self.pos];
            self.pos += 1;
            if let Some((c, p)) = self.filter {
                if row[c].is_null() || row[c] != params[p] {
                    continue;
                }
            }
            out.push(row.clone());
        }
        Ok(self.pos < self.rows.len())
    }
    fn rescan(&mut self, params: ScanParams<'_>) -> FdwResult<()> {
        let mut log = self.fdw.log.lock().unwrap();
        log.rescans += 1;
        if let Some((_, p)) = self.filter {
            log.params.push(params[p].clone());
        }
        self.pos = 0;
        Ok(())
    }
    fn end(&mut self) -> FdwResult<()> {
        self.fdw.log.lock().unwrap().ends += 1;
        Ok(())
    }
}

/// The wrapper handle given to plans; the `Arc<TestFdw>` inside lets scans log.
pub(super) struct Handle(pub Arc<TestFdw>);

impl fdw_api::FdwRoutine for Handle {
    fn name(&self) -> &str {
        "test_fdw"
    }
    fn get_rel_size(&self, _rel: &RelInfo) -> FdwResult<RelSize> {
        Ok(RelSize::default())
    }
    fn get_paths(&self, _rel: &RelInfo, _size: &RelSize) -> FdwResult<Vec<ForeignPath>> {
        Ok(vec![])
    }
    fn begin_scan(&self, request: &ScanRequest, _ctx: &ExecContext) -> FdwResult<Box<dyn ForeignScan>> {
        self.0.log.lock().unwrap().begins += 1;
        let tables = self.0.tables.lock().unwrap();
        let rows = tables[&request.table.name]
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let r = r.as_ref()?;
                let mut out: Row = request.columns.iter().map(|c| r[*c].clone()).collect();
                if request.want_row_id {
                    out.push(Datum::Int8(i as i64));
                }
                Some(out)
            })
            .collect();
        let filter = request.table.table_options.get("param_filter").map(|s| {
            let (c, p) = s.split_once(':').unwrap();
            (c.parse().unwrap(), p.parse().unwrap())
        });
        Ok(Box::new(TestScan { rows, filter, pos: 0, batch: self.0.batch, fdw: self.0.clone() }))
    }
    fn modify_routine(&self) -> Option<&dyn ModifyRoutine> {
        self.0.writable.then_some(self as &dyn ModifyRoutine)
    }
}

impl ModifyRoutine for Handle {
    fn is_updatable(&self, _table: &TableDesc) -> Vec<ModifyKind> {
        vec![ModifyKind::Insert, ModifyKind::Update, ModifyKind::Delete]
    }
    fn begin_modify(
        &self,
        table: &Arc<TableDesc>,
        _kind: ModifyKind,
        _ctx: &ExecContext,
    ) -> FdwResult<Box<dyn ForeignModify>> {
        Ok(Box::new(TestModify { fdw: self.0.clone(), table: table.name.clone() }))
    }
}

struct TestModify {
    fdw: Arc<TestFdw>,
    table: String,
}

impl ForeignModify for TestModify {
    fn insert(&mut self, rows: Vec<Row>) -> FdwResult<Vec<Row>> {
        let mut t = self.fdw.tables.lock().unwrap();
        t.get_mut(&self.table).unwrap().extend(rows.iter().cloned().map(Some));
        Ok(rows)
    }
    fn update(&mut self, row_id: &Datum, new_row: Row) -> FdwResult<Row> {
        let mut t = self.fdw.tables.lock().unwrap();
        t.get_mut(&self.table).unwrap()[row_id.as_i64().unwrap() as usize] = Some(new_row.clone());
        Ok(new_row)
    }
    fn delete(&mut self, row_id: &Datum) -> FdwResult<Option<Row>> {
        let mut t = self.fdw.tables.lock().unwrap();
        Ok(t.get_mut(&self.table).unwrap()[row_id.as_i64().unwrap() as usize].take())
    }
}

// --- plan building helpers ---------------------------------------------------------------

pub(super) fn ctx() -> ExecContext {
    ExecContext {
        xid: 1,
        in_transaction_block: false,
        isolation: IsolationLevel::ReadCommitted,
        user: "test".into(),
        services: Arc::new(VolatileServices::default()),
    }
}

pub(super) fn table(name: &str, types: &[DataType], options: &[(&str, &str)]) -> Arc<TableDesc> {
    Arc::new(TableDesc {
        id: 1,
        schema: "public".into(),
        name: name.into(),
        columns: types
            .iter()
            .enumerate()
            .map(|(i, t)| ColumnDef {
                name: format!("c{i}"),
                ty: t.clone(),
                not_null: false,
                default: None,
                options: Options::new(),
            })
            .collect(),
        table_options: Options(options.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
        server_name: "s".into(),
        server_options: Options::new(),
        wrapper_options: Options::new(),
        user_mapping_options: Options::new(),
        indexes: vec![],
        stats: None,
    })
}

pub(super) fn plan(node: Node, types: &[DataType]) -> Plan {
    Plan {
        node,
        output: types.iter().enumerate().map(|(i, t)| OutputColumn { name: format!("c{i}"), ty: t.clone() }).collect(),
        cost: Cost::default(),
        rows: 0.0,
        width: 0,
    }
}

/// A scan of all columns of `name`.
pub(super) fn scan(fdw: &Arc<TestFdw>, name: &str, types: &[DataType]) -> Plan {
    scan_opts(fdw, name, types, &[], vec![], false)
}

pub(super) fn scan_opts(
    fdw: &Arc<TestFdw>,
    name: &str,
    types: &[DataType],
    options: &[(&str, &str)],
    param_ids: Vec<usize>,
    want_row_id: bool,
) -> Plan {
    let t = table(name, types, options);
    let request = ScanRequest {
        table: t,
        columns: (0..types.len()).collect(),
        quals: vec![],
        param_quals: vec![],
        want_row_id,
        path: ForeignPath::simple(0.0, Cost::default(), 0),
        limit: None,
    };
    let mut out = types.to_vec();
    if want_row_id {
        out.push(DataType::Int8);
    }
    plan(
        Node::ForeignScan(ScanNode {
            wrapper: Arc::new(Handle(fdw.clone())),
            request,
            relation: name.into(),
            alias: None,
            filter: None,
            param_ids,
        }),
        &out,
    )
}

pub(super) fn query(root: Plan) -> PhysicalQuery {
    PhysicalQuery { root, subplans: vec![], num_params: 0 }
}

pub(super) fn run(q: &PhysicalQuery) -> Vec<Row> {
    execute(q, &[], &ctx()).unwrap_or_else(|e| panic!("execution failed: {e:?}"))
}

pub(super) fn run_err(q: &PhysicalQuery) -> fdw_api::FdwError {
    match execute(q, &[], &ctx()) {
        Ok(rows) => panic!("expected an error, got {rows:?}"),
        Err(e) => e,
    }
}

pub(super) fn run_with(q: &PhysicalQuery, options: &ExecOptions) -> FdwResult<Vec<Row>> {
    execute_with(q, &[], &ctx(), options)
}

pub(super) fn run_analyze(q: &PhysicalQuery) -> (Vec<Row>, Vec<NodeStats>) {
    execute_analyze(q, &[], &ctx()).unwrap_or_else(|e| panic!("execution failed: {e:?}"))
}

pub(super) const I: DataType = DataType::Int4;
pub(super) const T: DataType = DataType::Text;
pub(super) const B: DataType = DataType::Bool;

pub(super) fn i(v: i32) -> Datum {
    Datum::Int4(v)
}
pub(super) fn t(s: &str) -> Datum {
    Datum::text(s)
}
pub(super) const N: Datum = Datum::Null;

pub(super) fn col(index: usize, ty: DataType) -> Expr {
    Expr::Column { index, ty }
}
pub(super) fn int(v: i64) -> Expr {
    Expr::Const { value: Datum::Int8(v), ty: DataType::Int8 }
}
pub(super) fn param(index: usize, ty: DataType) -> Expr {
    Expr::Param { index, ty }
}
pub(super) fn bin(op: BinaryOp, l: Expr, r: Expr) -> Expr {
    let ty = if op.is_comparison() { DataType::Bool } else { l.data_type() };
    Expr::Binary { op, left: Box::new(l), right: Box::new(r), ty }
}

/// Sorts rows for order-insensitive comparison.
pub(super) fn sorted(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort_by(|a, b| {
        for (x, y) in a.iter().zip(b) {
            let o = fdw_api::types::compare::cmp_datum(x, y);
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        a.len().cmp(&b.len())
    });
    rows
}
