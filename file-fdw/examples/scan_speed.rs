//! Times file_fdw scans without the envelope:
//! `cargo run --release -p file-fdw --example scan_speed -- [rows] [workers]`.
//! Writes a CSV of `rows` lines (int, float8, numeric, text, date) to a temporary file, then
//! runs count(*) (no column), sum(a) (one int column) and a full conversion (a third argument
//! `count`, `sum` or `all` runs only that one).

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use fdw_api::services::VolatileServices;
use fdw_api::{
    ColumnDef, Cost, DataType, Datum, ExecContext, FdwRoutine, ForeignPath, IsolationLevel, Options, RowBatch,
    ScanRequest, TableDesc,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let rows: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let workers: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
    let only = args.get(3).cloned().unwrap_or_default();
    let mut f = tempfile::NamedTempFile::new()?;
    // SCAN_FILE names an existing file of that shape instead.
    let given = std::env::var("SCAN_FILE").ok();
    if given.is_none() {
        let mut w = std::io::BufWriter::new(f.as_file_mut());
        for k in 0..rows {
            writeln!(
                w,
                "{k},{}.25,{}.{:02},item number {k},2024-{:02}-{:02}",
                k * 3,
                k % 1000,
                k % 100,
                k % 12 + 1,
                k % 28 + 1
            )?;
        }
    }
    let filename = given.unwrap_or_else(|| f.path().to_str().unwrap_or_default().to_string());
    let size = std::fs::metadata(&filename)?.len();
    println!("{rows} rows, {:.1} MB, workers {workers}", size as f64 / 1e6);
    let column =
        |name: &str, ty| ColumnDef { name: name.into(), ty, not_null: false, default: None, options: Options::new() };
    let table = Arc::new(TableDesc {
        id: 1,
        schema: "public".into(),
        name: "bench".into(),
        columns: vec![
            column("a", DataType::Int4),
            column("b", DataType::Float8),
            column("c", DataType::Numeric(None)),
            column("d", DataType::Text),
            column("e", DataType::Date),
        ],
        table_options: Options(vec![("filename".into(), filename.clone()), ("format".into(), "csv".into())]),
        server_name: "s".into(),
        server_options: Options::new(),
        wrapper_options: Options::new(),
        user_mapping_options: Options::new(),
        indexes: vec![],
        stats: None,
    });
    let ctx = ExecContext {
        xid: 1,
        in_transaction_block: false,
        isolation: IsolationLevel::ReadCommitted,
        user: "bench".into(),
        services: Arc::new(VolatileServices::default()),
    };
    let fdw = file_fdw::FileFdw::new();
    for (label, columns) in [("count(*)", vec![]), ("sum(a)", vec![0]), ("all columns", vec![0, 1, 2, 3, 4])] {
        if !only.is_empty() && !label.starts_with(only.as_str()) {
            continue;
        }
        let mut path = ForeignPath::simple(1.0, Cost::default(), 0);
        path.parallel_workers = workers;
        let req = ScanRequest {
            table: table.clone(),
            columns,
            quals: vec![],
            param_quals: vec![],
            want_row_id: false,
            path,
            limit: None,
        };
        for _ in 0..std::env::var("SCAN_REPEAT").ok().and_then(|s| s.parse().ok()).unwrap_or(3) {
            let start = Instant::now();
            let mut scan = fdw.begin_scan(&req, &ctx)?;
            let (mut n, mut sum) = (0u64, 0i64);
            loop {
                let mut batch = RowBatch::new();
                let more = scan.next_batch(&mut batch, &[])?;
                n += batch.len() as u64;
                for r in &batch.rows {
                    if let Some(Datum::Int4(v)) = r.first() {
                        sum += *v as i64;
                    }
                }
                if !more {
                    break;
                }
            }
            println!("{label:12} {n} rows sum {sum}: {:?}", start.elapsed());
        }
    }
    Ok(())
}
