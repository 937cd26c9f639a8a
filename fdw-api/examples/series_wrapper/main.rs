//! Drives `series_fdw` (see `wrapper.rs`) through `fdw-api` alone, playing the envelope's part
//! by hand: the validator at DDL time, then planning (`get_rel_size`, `get_paths`) and
//! execution (`begin_scan`, `next_batch`, `rescan`, `end`) of two queries.
//!
//! ```text
//! cargo run -p fdw-api --example series_wrapper
//! ```
//!
//! `envelope/tests/custom_wrapper.rs` registers the same wrapper in a database and runs the
//! same queries as SQL.

mod wrapper;

use std::sync::Arc;

use fdw_api::eval::{EvalContext, Program};
use fdw_api::services::VolatileServices;
use fdw_api::{
    BinaryOp, ColumnDef, DataType, Datum, ExecContext, Expr, FdwError, FdwResult, ForeignPath, IsolationLevel,
    OptionTarget, Options, QualSupport, RelInfo, RowBatch, ScanRequest, TableDesc,
};

fn options(pairs: &[(&str, &str)]) -> Options {
    Options(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

fn column(name: &str, ty: DataType) -> ColumnDef {
    ColumnDef { name: name.into(), ty, not_null: false, default: None, options: Options::new() }
}

/// What the envelope builds from `CREATE FOREIGN TABLE squares (n bigint, square bigint,
/// label text) SERVER gen OPTIONS (start '1', stop '1000000')`.
fn squares_table() -> Arc<TableDesc> {
    Arc::new(TableDesc {
        id: 1,
        schema: "public".into(),
        name: "squares".into(),
        columns: vec![column("n", DataType::Int8), column("square", DataType::Int8), column("label", DataType::Text)],
        table_options: options(&[("start", "1"), ("stop", "1000000")]),
        server_name: "gen".into(),
        server_options: Options::new(),
        wrapper_options: Options::new(),
        user_mapping_options: Options::new(),
        indexes: Vec::new(),
        stats: None,
    })
}

/// `table.column op value`.
fn compare(column: usize, ty: DataType, op: BinaryOp, value: Expr) -> Expr {
    Expr::Binary { op, left: Box::new(Expr::column(column, ty)), right: Box::new(value), ty: DataType::Bool }
}

/// Prints an error the way psql shows it.
fn print_error(e: &FdwError) {
    println!("  ERROR:  {}  (SQLSTATE {})", e.message, e.sqlstate);
    if let Some(h) = &e.hint {
        println!("  HINT:  {h}");
    }
}

fn print_path(i: usize, p: &ForeignPath) {
    let label = p.label.as_deref().unwrap_or("Foreign Scan");
    println!(
        "  path {i}: {label}  (cost={:.2}..{:.2} rows={}) quals={:?} pathkeys={:?} param_quals={:?}",
        p.cost.startup, p.cost.total, p.rows, p.qual_support, p.pathkeys, p.param_quals
    );
}

fn print_rows(batch: &RowBatch) {
    for row in &batch.rows {
        let cells: Vec<String> = row.iter().map(Datum::to_text).collect();
        println!("    {}", cells.join(" | "));
    }
}

fn main() -> FdwResult<()> {
    let fdw = wrapper::handler();
    let ctx = ExecContext {
        xid: 1,
        in_transaction_block: false,
        isolation: IsolationLevel::ReadCommitted,
        user: "postgres".into(),
        services: Arc::new(VolatileServices::default()),
    };
    fdw.init(ctx.services.clone())?;

    println!("== DDL: the validator ({})", fdw.name());
    let attempts: [(OptionTarget, &[(&str, &str)]); 5] = [
        (OptionTarget::Table, &[("start", "1"), ("stop", "10")]),
        (OptionTarget::Table, &[("start", "1"), ("stop", "ten")]),
        (OptionTarget::Table, &[("start", "1"), ("stop", "10"), ("step", "0")]),
        (OptionTarget::Table, &[("start", "1")]),
        (OptionTarget::Server, &[("start", "1")]),
    ];
    for (target, opts) in attempts {
        println!("{} OPTIONS {opts:?}", target.describe());
        match fdw.validate_options(target, &options(opts)) {
            Ok(()) => println!("  ok"),
            Err(e) => print_error(&e),
        }
    }

    // SELECT n, label FROM squares WHERE n < 6 AND label = 'odd'
    println!("\n== SELECT n, label FROM squares WHERE n < 6 AND label = 'odd'");
    let table = squares_table();
    let n_lt_6 = compare(0, DataType::Int8, BinaryOp::Lt, Expr::constant(Datum::Int8(6), DataType::Int8));
    let odd = compare(2, DataType::Text, BinaryOp::Eq, Expr::constant(Datum::text("odd"), DataType::Text));
    let rel = RelInfo {
        table: table.clone(),
        quals: vec![n_lt_6, odd.clone()],
        join_quals: Vec::new(),
        needed_columns: vec![0, 2],
        useful_orders: Vec::new(),
        max_parallel_workers: 0,
    };
    let size = fdw.get_rel_size(&rel)?;
    println!("  rel size: {size:?}");
    let paths = fdw.get_paths(&rel, &size)?;
    for (i, p) in paths.iter().enumerate() {
        print_path(i, p);
    }
    // The envelope picks the cheapest path and hands over the quals it enforces; it keeps a
    // filter of its own for the others (here `label = 'odd'`, column 1 of the scan's rows).
    let path = paths[0].clone();
    let enforced: Vec<Expr> = rel
        .quals
        .iter()
        .zip(&path.qual_support)
        .filter(|(_, s)| **s != QualSupport::Unsupported)
        .map(|(q, _)| q.clone())
        .collect();
    let request = ScanRequest {
        table: table.clone(),
        columns: vec![0, 2],
        quals: enforced,
        param_quals: Vec::new(),
        want_row_id: false,
        path,
        limit: None,
    };
    for (k, v) in fdw.explain_scan(&request, true) {
        println!("  EXPLAIN: {k}: {v}");
    }
    let local_filter = Program::compile(&compare(
        1,
        DataType::Text,
        BinaryOp::Eq,
        Expr::constant(Datum::text("odd"), DataType::Text),
    ))?;
    let mut scan = fdw.begin_scan(&request, &ctx)?;
    let mut batch = RowBatch::new();
    let mut more = true;
    while more {
        batch.clear();
        more = scan.next_batch(&mut batch, &[])?;
        println!("  batch of {} rows from the wrapper", batch.len());
        let mut cx = EvalContext::default();
        let mut kept = RowBatch::new();
        for row in batch.rows.drain(..) {
            if local_filter.eval_predicate(&row, &mut cx)? {
                kept.push(row);
            }
        }
        print_rows(&kept);
    }
    scan.end()?;

    // The inner side of a nested loop: `squares.n = outer.n`, the outer value as `$1`.
    println!("\n== nested-loop inner side: squares.n = $1 (parameterized path, rescan)");
    let join_qual = compare(0, DataType::Int8, BinaryOp::Eq, Expr::Param { index: 0, ty: DataType::Int8 });
    let rel = RelInfo {
        table: table.clone(),
        quals: Vec::new(),
        join_quals: vec![join_qual.clone()],
        needed_columns: vec![0, 1],
        useful_orders: Vec::new(),
        max_parallel_workers: 0,
    };
    let size = fdw.get_rel_size(&rel)?;
    let paths = fdw.get_paths(&rel, &size)?;
    for (i, p) in paths.iter().enumerate() {
        print_path(i, p);
    }
    let Some(lookup) = paths.into_iter().find(|p| !p.param_quals.is_empty()) else {
        return Err(FdwError::internal("series_fdw offered no parameterized path"));
    };
    let request = ScanRequest {
        table,
        columns: vec![0, 1],
        quals: Vec::new(),
        param_quals: vec![join_qual],
        want_row_id: false,
        path: lookup,
        limit: None,
    };
    let mut scan = fdw.begin_scan(&request, &ctx)?;
    for (i, outer) in [7i64, 999_999, 2_000_000].into_iter().enumerate() {
        let params = [Datum::Int8(outer)];
        if i > 0 {
            scan.rescan(&params)?;
        }
        batch.clear();
        scan.next_batch(&mut batch, &params)?;
        println!("  $1 = {outer}: {} row(s)", batch.len());
        print_rows(&batch);
    }
    scan.end()?;
    Ok(())
}
