//! Helpers shared by the integration tests: tables over temporary files, scans collected
//! into rows, without any envelope.

#![allow(dead_code)]

use std::io::Write;
use std::sync::Arc;

use fdw_api::services::VolatileServices;
use fdw_api::{
    ColumnDef, Cost, DataType, Datum, ExecContext, Expr, FdwError, FdwRoutine, ForeignPath, IsolationLevel, Options,
    RelInfo, Row, RowBatch, ScanRequest, TableDesc,
};
use file_fdw::FileFdw;

/// A temporary file holding `data`.
pub fn file(data: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    f.write_all(data).expect("write temp file");
    f.flush().expect("flush");
    f
}

pub fn opts(pairs: &[(&str, &str)]) -> Options {
    Options(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

pub fn col(name: &str, ty: DataType) -> ColumnDef {
    ColumnDef { name: name.to_string(), ty, not_null: false, default: None, options: Options::new() }
}

pub fn col_opts(name: &str, ty: DataType, o: &[(&str, &str)]) -> ColumnDef {
    ColumnDef { options: opts(o), ..col(name, ty) }
}

/// A table `name` over `path` with these columns and table options (filename added).
pub fn table(name: &str, path: &str, columns: Vec<ColumnDef>, options: &[(&str, &str)]) -> Arc<TableDesc> {
    let mut table_options = opts(options);
    table_options.set("filename", path);
    Arc::new(TableDesc {
        id: 1,
        schema: "public".into(),
        name: name.into(),
        columns,
        table_options,
        server_name: "file_server".into(),
        server_options: Options::new(),
        wrapper_options: Options::new(),
        user_mapping_options: Options::new(),
        indexes: Vec::new(),
        stats: None,
    })
}

pub fn ctx() -> ExecContext {
    ExecContext {
        xid: 1,
        in_transaction_block: false,
        isolation: IsolationLevel::ReadCommitted,
        user: "postgres".into(),
        services: Arc::new(VolatileServices::default()),
    }
}

pub fn request(table: &Arc<TableDesc>, columns: Vec<usize>, quals: Vec<Expr>, workers: usize) -> ScanRequest {
    let mut path = ForeignPath::simple(1.0, Cost::new(0.0, 1.0), quals.len());
    path.parallel_workers = workers;
    ScanRequest { table: table.clone(), columns, quals, param_quals: Vec::new(), want_row_id: false, path, limit: None }
}

/// Runs a scan to the end.
pub fn run(req: &ScanRequest, params: &[Datum]) -> Result<Vec<Row>, FdwError> {
    let fdw = FileFdw::new();
    let mut scan = fdw.begin_scan(req, &ctx())?;
    let mut rows = Vec::new();
    loop {
        let mut batch = RowBatch::new();
        let more = scan.next_batch(&mut batch, params)?;
        assert!(batch.len() <= fdw_api::BATCH_SIZE);
        rows.extend(batch.rows);
        if !more {
            break;
        }
    }
    scan.end()?;
    Ok(rows)
}

/// All columns of a table, serially.
pub fn scan_all(table: &Arc<TableDesc>) -> Result<Vec<Row>, FdwError> {
    run(&request(table, (0..table.columns.len()).collect(), Vec::new(), 0), &[])
}

pub fn rel(table: &Arc<TableDesc>, quals: Vec<Expr>, workers: usize) -> RelInfo {
    RelInfo {
        table: table.clone(),
        quals,
        join_quals: Vec::new(),
        needed_columns: (0..table.columns.len()).collect(),
        useful_orders: Vec::new(),
        max_parallel_workers: workers,
    }
}

pub fn i(v: i32) -> Datum {
    Datum::Int4(v)
}

pub fn t(s: &str) -> Datum {
    Datum::text(s)
}

/// The error's message, and its context lines joined.
pub fn describe(e: &FdwError) -> (String, String) {
    (e.message.clone(), e.context.join(" | "))
}
