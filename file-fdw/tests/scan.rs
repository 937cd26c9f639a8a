//! Scans as the executor drives them: projection, quals, limits, rescans, parallel scans,
//! ANALYZE samples, and the planner's view (sizes, paths, EXPLAIN).

mod common;

use std::sync::Arc;

use common::*;
use fdw_api::{BinaryOp, DataType, Datum, Expr, FdwRoutine, QualSupport, RowBatch, TableDesc, TableStats, BATCH_SIZE};
use file_fdw::scan::FileScan;
use file_fdw::FileFdw;

/// `n` rows `i, i*1.5, 'name<i>'` as CSV (with a header line) or text.
fn numbers(n: usize, csv: bool) -> (tempfile::NamedTempFile, Arc<TableDesc>) {
    let mut data = String::new();
    let sep = if csv { ',' } else { '\t' };
    if csv {
        data.push_str("a,b,c\n");
    }
    for k in 0..n {
        data.push_str(&format!("{k}{sep}{}{sep}name{k}\n", k as f64 * 1.5));
    }
    let f = file(data.as_bytes());
    let columns = vec![col("a", DataType::Int4), col("b", DataType::Float8), col("c", DataType::Text)];
    let options: &[(&str, &str)] = if csv { &[("format", "csv"), ("header", "true")] } else { &[] };
    let tbl = table("numbers", f.path().to_str().unwrap(), columns, options);
    (f, tbl)
}

fn a_lt(v: i32) -> Expr {
    Expr::Binary {
        op: BinaryOp::Lt,
        left: Box::new(Expr::column(0, DataType::Int4)),
        right: Box::new(Expr::constant(i(v), DataType::Int4)),
        ty: DataType::Bool,
    }
}

fn c_eq_param() -> Expr {
    Expr::Binary {
        op: BinaryOp::Eq,
        left: Box::new(Expr::column(2, DataType::Text)),
        right: Box::new(Expr::Param { index: 0, ty: DataType::Text }),
        ty: DataType::Bool,
    }
}

#[test]
fn projection_returns_requested_columns_in_order() {
    let (_f, tbl) = numbers(3000, true);
    let rows = run(&request(&tbl, vec![2, 0], vec![], 0), &[]).unwrap();
    assert_eq!(rows.len(), 3000);
    assert_eq!(rows[7], vec![t("name7"), i(7)]);
    let rows = run(&request(&tbl, vec![], vec![], 0), &[]).unwrap();
    assert_eq!(rows.len(), 3000);
    assert!(rows.iter().all(|r| r.is_empty()));
    let rows = run(&request(&tbl, vec![1, 1], vec![], 0), &[]).unwrap();
    assert_eq!(rows[2], vec![Datum::Float8(3.0), Datum::Float8(3.0)]);
}

#[test]
fn quals_filter_rows_during_the_scan() {
    let (_f, tbl) = numbers(5000, true);
    // The qual reads a column that is not returned.
    let rows = run(&request(&tbl, vec![2], vec![a_lt(3)], 0), &[]).unwrap();
    assert_eq!(rows, vec![vec![t("name0")], vec![t("name1")], vec![t("name2")]]);
    // Parameters arrive with the batch.
    let rows = run(&request(&tbl, vec![0], vec![c_eq_param()], 0), &[t("name4321")]).unwrap();
    assert_eq!(rows, vec![vec![i(4321)]]);
    // The paths enforce the qual exactly.
    let fdw = FileFdw::new();
    let rel = rel(&tbl, vec![a_lt(3), c_eq_param()], 0);
    let size = fdw.get_rel_size(&rel).unwrap();
    let paths = fdw.get_paths(&rel, &size).unwrap();
    assert_eq!(paths[0].qual_support, vec![QualSupport::Exact, QualSupport::Exact]);
}

#[test]
fn bad_values_only_matter_in_converted_columns() {
    let f = file(b"1,x\n2,y\n");
    let tbl = table(
        "bad",
        f.path().to_str().unwrap(),
        vec![col("a", DataType::Int4), col("b", DataType::Int4)],
        &[("format", "csv")],
    );
    assert_eq!(run(&request(&tbl, vec![0], vec![], 0), &[]).unwrap(), vec![vec![i(1)], vec![i(2)]]);
    assert_eq!(run(&request(&tbl, vec![], vec![], 0), &[]).unwrap().len(), 2);
    let e = run(&request(&tbl, vec![1], vec![], 0), &[]).unwrap_err();
    assert_eq!(describe(&e).1, "COPY bad, line 1, column b: \"x\"");
}

/// Each qual converts the columns it is the first to read: later quals and the output see
/// those values (not a previous row's), and a bad value in a column a later qual reads fails
/// the scan only for a row the earlier quals let through.
#[test]
fn quals_convert_their_columns_as_they_go() {
    let (_f, tbl) = numbers(5000, false);
    let c_is = |s: &str| Expr::Binary {
        op: BinaryOp::Eq,
        left: Box::new(Expr::column(2, DataType::Text)),
        right: Box::new(Expr::constant(t(s), DataType::Text)),
        ty: DataType::Bool,
    };
    let a_ge = |v: i32| Expr::Binary {
        op: BinaryOp::GtEq,
        left: Box::new(Expr::column(0, DataType::Int4)),
        right: Box::new(Expr::constant(i(v), DataType::Int4)),
        ty: DataType::Bool,
    };
    // a >= 10 AND a < 40 AND c = 'name35', returning b and a: the second qual reuses a, the
    // third converts c, the output converts b.
    let rows = run(&request(&tbl, vec![1, 0], vec![a_ge(10), a_lt(40), c_is("name35")], 0), &[]).unwrap();
    assert_eq!(rows, vec![vec![Datum::Float8(52.5), i(35)]]);
    let rows = run(&request(&tbl, vec![2], vec![c_is("name7"), a_lt(8)], 2), &[]).unwrap();
    assert_eq!(rows, vec![vec![t("name7")]]);

    let f = file(b"1,x\n5,6\n");
    let cols = vec![col("a", DataType::Int4), col("b", DataType::Int4)];
    let tbl = table("bad", f.path().to_str().unwrap(), cols, &[("format", "csv")]);
    let b_gt_0 = Expr::Binary {
        op: BinaryOp::Gt,
        left: Box::new(Expr::column(1, DataType::Int4)),
        right: Box::new(Expr::constant(i(0), DataType::Int4)),
        ty: DataType::Bool,
    };
    let rows = run(&request(&tbl, vec![0], vec![a_ge(2), b_gt_0.clone()], 0), &[]).unwrap();
    assert_eq!(rows, vec![vec![i(5)]]);
    let e = run(&request(&tbl, vec![0], vec![a_lt(2), b_gt_0], 0), &[]).unwrap_err();
    assert_eq!(describe(&e).1, "COPY bad, line 1, column b: \"x\"");
}

#[test]
fn limit_rescan_and_batches() {
    let (_f, tbl) = numbers(5000, false);
    let fdw = FileFdw::new();
    let mut req = request(&tbl, vec![0], vec![], 0);
    req.limit = Some(1500);
    let mut scan = fdw.begin_scan(&req, &ctx()).unwrap();
    let mut total = 0;
    loop {
        let mut batch = RowBatch::new();
        let more = scan.next_batch(&mut batch, &[]).unwrap();
        assert!(batch.len() <= BATCH_SIZE);
        total += batch.len();
        if !more {
            break;
        }
    }
    assert_eq!(total, 1500);
    scan.rescan(&[]).unwrap();
    let mut batch = RowBatch::new();
    assert!(scan.next_batch(&mut batch, &[]).unwrap());
    assert_eq!(batch.len(), BATCH_SIZE);
    assert_eq!(batch.rows[0], vec![i(0)]);
    scan.end().unwrap();
    // Row ids are line numbers.
    let mut req = request(&tbl, vec![0], vec![], 0);
    req.want_row_id = true;
    let rows = run(&req, &[]).unwrap();
    assert_eq!(rows[9], vec![i(9), Datum::Int8(10)]);
}

fn sorted(mut rows: Vec<Vec<Datum>>) -> Vec<Vec<Datum>> {
    rows.sort_by_key(|r| r[0].as_i64());
    rows
}

#[test]
fn parallel_scan_returns_the_same_rows() {
    for csv in [true, false] {
        let (_f, tbl) = numbers(200_000, csv);
        assert!(FileScan::new(&request(&tbl, vec![0], vec![], 3)).unwrap().is_parallel());
        let serial = run(&request(&tbl, vec![0, 2], vec![], 0), &[]).unwrap();
        let parallel = run(&request(&tbl, vec![0, 2], vec![], 3), &[]).unwrap();
        assert_eq!(serial.len(), 200_000);
        assert_eq!(sorted(parallel), serial);
        let filtered = run(&request(&tbl, vec![0], vec![a_lt(100)], 2), &[]).unwrap();
        assert_eq!(sorted(filtered), (0..100).map(|k| vec![i(k)]).collect::<Vec<_>>());
        let mut req = request(&tbl, vec![0], vec![], 2);
        req.limit = Some(5000);
        assert_eq!(run(&req, &[]).unwrap().len(), 5000);
    }
}

#[test]
fn parallel_scan_handles_escaped_newlines_and_quotes() {
    // Text: backslash-newline sequences are data; the split must not cut there.
    let mut data = String::new();
    for k in 0..100_000 {
        data.push_str(&format!("{k}\tline\\\\\\\nmore\\\\\n"));
    }
    let f = file(data.as_bytes());
    let tbl = table("esc", f.path().to_str().unwrap(), vec![col("a", DataType::Int4), col("b", DataType::Text)], &[]);
    let serial = run(&request(&tbl, vec![0, 1], vec![], 0), &[]).unwrap();
    assert_eq!(serial[5], vec![i(5), t("line\\\nmore\\")]);
    assert_eq!(sorted(run(&request(&tbl, vec![0, 1], vec![], 4), &[]).unwrap()), serial);
    // CSV with quoted newlines falls back to a serial scan, with the same answer.
    let mut data = String::new();
    for k in 0..100_000 {
        data.push_str(&format!("{k},\"a\n{k}\"\n"));
    }
    let f = file(data.as_bytes());
    let tbl = table(
        "q",
        f.path().to_str().unwrap(),
        vec![col("a", DataType::Int4), col("b", DataType::Text)],
        &[("format", "csv")],
    );
    assert!(!FileScan::new(&request(&tbl, vec![0], vec![], 4)).unwrap().is_parallel());
    let serial = run(&request(&tbl, vec![0, 1], vec![], 0), &[]).unwrap();
    assert_eq!(run(&request(&tbl, vec![0, 1], vec![], 4), &[]).unwrap(), serial);
    // CRLF line ends split fine; lone CR line ends are read serially.
    for (eol, parallel) in [("\r\n", true), ("\r", false)] {
        let data: String = (0..200_000).map(|k| format!("{k},x{eol}")).collect();
        let f = file(data.as_bytes());
        let tbl = table(
            "crlf",
            f.path().to_str().unwrap(),
            vec![col("a", DataType::Int4), col("b", DataType::Text)],
            &[("format", "csv")],
        );
        assert_eq!(FileScan::new(&request(&tbl, vec![0], vec![], 2)).unwrap().is_parallel(), parallel);
        let serial = run(&request(&tbl, vec![0, 1], vec![], 0), &[]).unwrap();
        assert_eq!(serial.len(), 200_000);
        assert_eq!(sorted(run(&request(&tbl, vec![0, 1], vec![], 2), &[]).unwrap()), serial);
    }
}

#[test]
fn parallel_errors_report_absolute_lines() {
    let mut data = String::new();
    for k in 0..300_000 {
        if k == 250_000 {
            data.push_str("oops,1\n");
        } else {
            data.push_str(&format!("{k},1\n"));
        }
    }
    let f = file(data.as_bytes());
    let tbl = table(
        "pe",
        f.path().to_str().unwrap(),
        vec![col("a", DataType::Int4), col("b", DataType::Int4)],
        &[("format", "csv")],
    );
    for workers in [0, 2, 3] {
        let e = run(&request(&tbl, vec![0], vec![], workers), &[]).unwrap_err();
        assert_eq!(describe(&e).1, "COPY pe, line 250001, column a: \"oops\"", "workers {workers}");
    }
}

#[test]
fn analyze_samples_uniformly_with_exact_count() {
    let (_f, tbl) = numbers(20_000, true);
    let fdw = FileFdw::new();
    let support = fdw.support_routine().unwrap();
    let sample = support.analyze(&tbl, 1000, &ctx()).unwrap();
    assert_eq!(sample.total_rows, 20_000.0);
    assert_eq!(sample.rows.len(), 1000);
    assert!(sample.rows.iter().all(|r| r.len() == 3));
    // Uniform: about half of the sample from each half of the file.
    let low = sample.rows.iter().filter(|r| r[0].as_i64().unwrap() < 10_000).count();
    assert!((400..600).contains(&low), "{low}");
    let small = support.analyze(&tbl, 50_000, &ctx()).unwrap();
    assert_eq!(small.rows.len(), 20_000);
}

#[test]
fn sizes_costs_and_explain() {
    let path = "/work/shared/pg-regress/file_fdw/data/agg.csv";
    let tbl = table("agg_csv", path, vec![col("a", DataType::Int2), col("b", DataType::Float4)], &[("format", "csv")]);
    let fdw = FileFdw::new();
    let rel = rel(&tbl, vec![], 4);
    let size = fdw.get_rel_size(&rel).unwrap();
    // 46 bytes / (MAXALIGN(6) + 24) rounds to 1 row on 1 page: PostgreSQL's cost=0.00..1.10.
    assert_eq!((size.rows, size.pages), (1.0, 1.0));
    let paths = fdw.get_paths(&rel, &size).unwrap();
    assert_eq!(paths.len(), 1, "small files get no parallel path");
    assert!((paths[0].cost.total - 1.10).abs() < 1e-9);
    let req = request(&tbl, vec![0, 1], vec![], 0);
    assert_eq!(fdw.explain_scan(&req, false), vec![("Foreign File".to_string(), path.to_string())]);
    assert_eq!(fdw.explain_scan(&req, true)[1], ("Foreign File Size".to_string(), "46 b".to_string()));
    // With statistics, rows come from ANALYZE.
    let mut desc = (*tbl).clone();
    desc.stats = Some(Arc::new(TableStats { row_count: 1234.0, columns: vec![] }));
    let size = fdw.get_rel_size(&common::rel(&Arc::new(desc), vec![], 0)).unwrap();
    assert_eq!(size.total_rows, 1234.0);
    // A large file gets a cheaper parallel path (on a machine with 2+ cores).
    let (_f, big) = numbers(600_000, false);
    let rel = common::rel(&big, vec![], 4);
    let size = fdw.get_rel_size(&rel).unwrap();
    let paths = fdw.get_paths(&rel, &size).unwrap();
    if std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2 {
        assert_eq!(paths.len(), 2);
        assert!(paths[1].parallel_workers >= 2);
        assert!(paths[1].cost.total < paths[0].cost.total);
    }
    assert!(fdw.modify_routine().is_none());
    assert_eq!(fdw.name(), "file_fdw");
}
