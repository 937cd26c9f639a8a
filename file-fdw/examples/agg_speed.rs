//! Times pushed-down aggregates without the envelope:
//! `cargo run --release -p file-fdw --example agg_speed -- FILE [workers] [repeat]`.
//! FILE is a CSV shaped like `harness bench file-scan`'s (`a int, b float8,
//! c numeric(12,2), d text, e date`); the three queries of that benchmark run through
//! `get_upper_paths`' plan shape on `workers` threads (default 2), and each prints its wall
//! time and the process's CPU time, whose ratio shows how well the threads overlap.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fdw_api::services::VolatileServices;
use fdw_api::{
    AggFunc, BinaryOp, ColumnDef, Cost, DataType, Datum, ExecContext, Expr, FdwRoutine, ForeignPath, IsolationLevel,
    Options, RowBatch, ScanRequest, TableDesc, UpperRelInfo,
};

/// User + system CPU time of this process so far (from `/proc/self/stat`).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let Some(filename) = args.get(1).cloned() else {
        eprintln!("usage: agg_speed FILE [workers] [repeat]");
        std::process::exit(2);
    };
    let workers: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2);
    let repeat: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(5);
    let column =
        |name: &str, ty| ColumnDef { name: name.into(), ty, not_null: false, default: None, options: Options::new() };
    let table = Arc::new(TableDesc {
        id: 1,
        schema: "public".into(),
        name: "t".into(),
        columns: vec![
            column("a", DataType::Int4),
            column("b", DataType::Float8),
            column("c", DataType::Numeric(Some((12, 2)))),
            column("d", DataType::Text),
            column("e", DataType::Date),
        ],
        table_options: Options(vec![("filename".into(), filename), ("format".into(), "csv".into())]),
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
    let col = |i: usize| Expr::column(i, table.columns[i].ty.clone());
    let a_mod = Expr::Binary {
        op: BinaryOp::Mod,
        left: Box::new(col(0)),
        right: Box::new(Expr::constant(Datum::Int4(1000), DataType::Int4)),
        ty: DataType::Int4,
    };
    let queries = [
        ("count(*)", vec![], vec![(AggFunc::CountStar, vec![], false)]),
        (
            "count, sum(a), sum(b)",
            vec![],
            vec![
                (AggFunc::CountStar, vec![], false),
                (AggFunc::Sum, vec![col(0)], false),
                (AggFunc::Sum, vec![col(1)], false),
            ],
        ),
        (
            "a % 1000, count, sum(c)",
            vec![a_mod],
            vec![(AggFunc::CountStar, vec![], false), (AggFunc::Sum, vec![col(2)], false)],
        ),
    ];
    let fdw = file_fdw::FileFdw::new();
    for (label, group_by, aggregates) in queries {
        let upper = UpperRelInfo {
            input: table.clone(),
            input_quals: vec![],
            group_by,
            aggregates,
            having: None,
            max_parallel_workers: 8,
        };
        let spec = file_fdw::pushdown::spec(&upper).ok_or("not pushable")?;
        let mut path = ForeignPath::simple(1.0, Cost::default(), 0);
        path.parallel_workers = workers;
        path.private = Some(Arc::new(spec));
        let req = ScanRequest {
            table: table.clone(),
            columns: (0..upper.group_by.len() + upper.aggregates.len()).collect(),
            quals: vec![],
            param_quals: vec![],
            want_row_id: false,
            path,
            limit: None,
        };
        for _ in 0..repeat {
            let (start, cpu) = (Instant::now(), cpu_time());
            let mut scan = fdw.begin_scan(&req, &ctx)?;
            let mut rows = 0;
            loop {
                let mut batch = RowBatch::new();
                let more = scan.next_batch(&mut batch, &[])?;
                rows += batch.len();
                if !more {
                    break;
                }
            }
            println!("{label:24} {rows} rows: wall {:?}, cpu {:?}", start.elapsed(), cpu_time() - cpu);
        }
    }
    Ok(())
}
