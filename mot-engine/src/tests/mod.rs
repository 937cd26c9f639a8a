//! Tests of the engine through the fdw-api traits only (no envelope).

mod bank;
mod crud;
mod durability;
mod maint;
mod model;
mod occ;
mod planning;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use fdw_api::services::VolatileServices;
use fdw_api::{
    BinaryOp, ColumnDef, DataType, Datum, DdlCommand, ExecContext, Expr, FdwResult, FdwRoutine, ForeignPath, IndexDef,
    IsolationLevel, Lsn, Options, PathKey, RelInfo, Row, RowBatch, ScanRequest, TableDesc,
};

use crate::fdw::MotFdw;

static NEXT_ID: AtomicU64 = AtomicU64::new(1000);

pub fn next_xid() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

pub fn ctx(xid: u64, isolation: IsolationLevel) -> ExecContext {
    ExecContext {
        xid,
        in_transaction_block: true,
        isolation,
        user: "postgres".into(),
        services: Arc::new(VolatileServices::default()),
    }
}

pub fn col(name: &str, ty: DataType, not_null: bool) -> ColumnDef {
    ColumnDef { name: name.into(), ty, not_null, default: None, options: Options::new() }
}

pub fn index(name: &str, table: &str, columns: &[usize], unique: bool, primary: bool) -> IndexDef {
    IndexDef { name: name.into(), table: table.into(), columns: columns.to_vec(), unique, primary }
}

pub fn table_desc(name: &str, columns: Vec<ColumnDef>, indexes: Vec<IndexDef>) -> Arc<TableDesc> {
    Arc::new(TableDesc {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        schema: "public".into(),
        name: name.into(),
        columns,
        table_options: Options::new(),
        server_name: String::new(),
        server_options: Options::new(),
        wrapper_options: Options::new(),
        user_mapping_options: Options::new(),
        indexes,
        stats: None,
    })
}

pub fn int(v: i64) -> Datum {
    Datum::Int8(v)
}

pub fn colref(i: usize) -> Expr {
    Expr::column(i, DataType::Int8)
}

pub fn cmp(column: usize, op: BinaryOp, v: i64) -> Expr {
    Expr::Binary {
        op,
        left: Box::new(colref(column)),
        right: Box::new(Expr::constant(int(v), DataType::Int8)),
        ty: DataType::Bool,
    }
}

/// A table `name(id int8 primary key, v int8, s text)` plus a non-unique index on v.
pub fn accounts(db: &Db, name: &str) -> Arc<TableDesc> {
    let d = table_desc(
        name,
        vec![col("id", DataType::Int8, true), col("v", DataType::Int8, false), col("s", DataType::Text, false)],
        vec![
            index(&format!("{name}_pkey"), name, &[0], true, true),
            index(&format!("{name}_v_idx"), name, &[1], false, false),
        ],
    );
    db.create(&d);
    d
}

pub fn row3(id: i64, v: i64, s: &str) -> Row {
    vec![int(id), int(v), Datum::text(s)]
}

/// A MOT wrapper and helpers that drive it as the envelope would.
pub struct Db {
    pub fdw: MotFdw,
}

impl Db {
    pub fn new() -> Db {
        Db { fdw: MotFdw::new() }
    }

    pub fn create(&self, d: &Arc<TableDesc>) {
        let c = ctx(next_xid(), IsolationLevel::ReadCommitted);
        self.fdw.ddl_routine().unwrap().validate_table_def(&DdlCommand::CreateTable { table: d.clone() }, &c).unwrap();
    }

    pub fn ddl(&self, cmd: DdlCommand) -> FdwResult<()> {
        let c = ctx(next_xid(), IsolationLevel::ReadCommitted);
        self.fdw.ddl_routine().unwrap().validate_table_def(&cmd, &c)
    }

    pub fn insert(&self, c: &ExecContext, d: &Arc<TableDesc>, rows: Vec<Row>) -> FdwResult<Vec<Row>> {
        let mut m = self.fdw.modify_routine().unwrap().begin_modify(d, fdw_api::ModifyKind::Insert, c)?;
        m.insert(rows)
    }

    pub fn update(&self, c: &ExecContext, d: &Arc<TableDesc>, row_id: &Datum, row: Row) -> FdwResult<Row> {
        let mut m = self.fdw.modify_routine().unwrap().begin_modify(d, fdw_api::ModifyKind::Update, c)?;
        m.update(row_id, row)
    }

    pub fn delete(&self, c: &ExecContext, d: &Arc<TableDesc>, row_id: &Datum) -> FdwResult<Option<Row>> {
        let mut m = self.fdw.modify_routine().unwrap().begin_modify(d, fdw_api::ModifyKind::Delete, c)?;
        m.delete(row_id)
    }

    /// pre_commit + commit, or abort on a failed validation.
    pub fn commit(&self, c: &ExecContext) -> FdwResult<()> {
        let t = self.fdw.transaction_routine().unwrap();
        if let Err(e) = t.pre_commit(c) {
            t.abort(c)?;
            return Err(e);
        }
        t.commit(c, Lsn(0))?;
        t.end(c.xid)
    }

    pub fn abort(&self, c: &ExecContext) {
        let t = self.fdw.transaction_routine().unwrap();
        t.abort(c).unwrap();
        t.end(c.xid).unwrap();
    }

    /// Runs `f` in its own committed transaction.
    pub fn autocommit<R>(&self, f: impl FnOnce(&ExecContext) -> FdwResult<R>) -> FdwResult<R> {
        let c = ctx(next_xid(), IsolationLevel::ReadCommitted);
        self.fdw.transaction_routine().unwrap().begin(&c)?;
        match f(&c) {
            Ok(r) => self.commit(&c).map(|_| r),
            Err(e) => {
                self.abort(&c);
                Err(e)
            }
        }
    }

    pub fn rel(&self, d: &Arc<TableDesc>, quals: Vec<Expr>, orders: Vec<Vec<PathKey>>) -> RelInfo {
        RelInfo {
            table: d.clone(),
            quals,
            join_quals: Vec::new(),
            needed_columns: (0..d.columns.len()).collect(),
            useful_orders: orders,
            max_parallel_workers: 0,
        }
    }

    /// The cheapest path for `rel` (or the one whose label is `label`).
    pub fn path(&self, rel: &RelInfo, label: Option<&str>) -> ForeignPath {
        let size = self.fdw.get_rel_size(rel).unwrap();
        let paths = self.fdw.get_paths(rel, &size).unwrap();
        match label {
            Some(l) => {
                paths.into_iter().find(|p| p.label.as_deref() == Some(l)).unwrap_or_else(|| panic!("no path {l}"))
            }
            None => paths.into_iter().min_by(|a, b| a.cost.total.total_cmp(&b.cost.total)).unwrap(),
        }
    }

    /// Runs a scan over `path` returning all columns (+ row id), enforcing every qual the
    /// path claims.
    pub fn scan_path(
        &self,
        c: &ExecContext,
        rel: &RelInfo,
        path: ForeignPath,
        want_row_id: bool,
        params: &[Datum],
    ) -> FdwResult<Vec<Row>> {
        let quals = rel
            .quals
            .iter()
            .zip(&path.qual_support)
            .filter(|(_, s)| **s != fdw_api::QualSupport::Unsupported)
            .map(|(q, _)| q.clone())
            .collect();
        let param_quals = path.param_quals.iter().map(|&i| rel.join_quals[i].clone()).collect();
        let req = ScanRequest {
            table: rel.table.clone(),
            columns: (0..rel.table.columns.len()).collect(),
            quals,
            param_quals,
            want_row_id,
            path,
            limit: None,
        };
        let mut scan = self.fdw.begin_scan(&req, c)?;
        let mut out = Vec::new();
        let mut batch = RowBatch::new();
        loop {
            batch.clear();
            let more = scan.next_batch(&mut batch, params)?;
            out.append(&mut batch.rows);
            if !more {
                break;
            }
        }
        scan.end()?;
        Ok(out)
    }

    /// All rows, heap order.
    pub fn scan_all(&self, c: &ExecContext, d: &Arc<TableDesc>) -> FdwResult<Vec<Row>> {
        let rel = self.rel(d, vec![], vec![]);
        let p = self.path(&rel, Some("Seq Scan"));
        self.scan_path(c, &rel, p, false, &[])
    }

    /// Rows with the cheapest path for `quals`, sorted by id (column 0).
    pub fn select(&self, c: &ExecContext, d: &Arc<TableDesc>, quals: Vec<Expr>) -> FdwResult<Vec<Row>> {
        let rel = self.rel(d, quals, vec![]);
        let p = self.path(&rel, None);
        let mut rows = self.scan_path(c, &rel, p, false, &[])?;
        rows.sort_by_key(|r| r[0].as_i64());
        Ok(rows)
    }

    /// The row (with row id last) whose id is `id`, through the primary key.
    pub fn lookup(&self, c: &ExecContext, d: &Arc<TableDesc>, id: i64) -> FdwResult<Option<Row>> {
        let rel = self.rel(d, vec![cmp(0, BinaryOp::Eq, id)], vec![]);
        let p = self.path(&rel, Some(&format!("Index Scan using {}_pkey", d.name)));
        let rows = self.scan_path(c, &rel, p, true, &[])?;
        assert!(rows.len() <= 1);
        Ok(rows.into_iter().next())
    }
}

pub fn ids(rows: &[Row]) -> Vec<i64> {
    rows.iter().map(|r| r[0].as_i64().unwrap()).collect()
}
