//! Aggregate pushdown through the fdw-api: the pushed aggregation must return what the
//! envelope would compute over a plain serial scan, serially and on several threads, with
//! NULL keys and inputs, quals, empty files and bad data; the planner offers the path only
//! where it parallelizes and prices it under the local plan.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use common::*;
use fdw_api::eval::{Accumulator, EvalContext, Program};
use fdw_api::types::GroupKey;
use fdw_api::{
    AggFunc, BinaryOp, Cost, DataType, Datum, Expr, FdwError, FdwRoutine, ForeignPath, Row, RowBatch, ScanRequest,
    SubLinkKind, TableDesc, UnaryOp, UpperRelInfo,
};
use file_fdw::pushdown;
use file_fdw::FileFdw;

const WORDS: [&str; 5] = ["alpha", "bravo", "charlie", "delta", "echo"];

/// `n` rows of `a int4, b float8, c numeric(12,2), d text, e date, f int8` in CSV, with
/// NULLs in `a` (every 97th row) and `d` (every 13th). `b` is a multiple of 1/4, so float
/// sums are exact whatever the summation order.
fn sample(n: usize) -> (tempfile::NamedTempFile, Arc<TableDesc>) {
    let mut data = String::with_capacity(n * 48);
    for k in 0..n {
        let a = if k % 97 == 5 { String::new() } else { k.to_string() };
        let d = if k % 13 == 4 { "" } else { WORDS[k % 5] };
        let day = 1 + k % 28;
        let f = k as i64 * 1_000_000_007 - 3_000_000_000_000;
        data.push_str(&format!(
            "{a},{},{}.{:02},{d},2024-02-{day:02},{f}\n",
            (k % 50) as f64 * 0.25,
            k % 1000,
            k % 100
        ));
    }
    let f = file(data.as_bytes());
    let columns = vec![
        col("a", DataType::Int4),
        col("b", DataType::Float8),
        col("c", DataType::Numeric(Some((12, 2)))),
        col("d", DataType::Text),
        col("e", DataType::Date),
        col("f", DataType::Int8),
    ];
    let tbl = table("agg", f.path().to_str().unwrap(), columns, &[("format", "csv")]);
    (f, tbl)
}

fn column(tbl: &TableDesc, i: usize) -> Expr {
    Expr::column(i, tbl.columns[i].ty.clone())
}

fn a_mod(tbl: &TableDesc, m: i32) -> Expr {
    Expr::Binary {
        op: BinaryOp::Mod,
        left: Box::new(column(tbl, 0)),
        right: Box::new(Expr::constant(i(m), DataType::Int4)),
        ty: DataType::Int4,
    }
}

fn a_lt(tbl: &TableDesc, v: i32) -> Expr {
    Expr::Binary {
        op: BinaryOp::Lt,
        left: Box::new(column(tbl, 0)),
        right: Box::new(Expr::constant(i(v), DataType::Int4)),
        ty: DataType::Bool,
    }
}

fn not_null(e: Expr) -> Expr {
    Expr::Unary { op: UnaryOp::IsNotNull, expr: Box::new(e), ty: DataType::Bool }
}

fn agg(func: AggFunc, args: Vec<Expr>) -> (AggFunc, Vec<Expr>, bool) {
    (func, args, false)
}

fn upper(
    tbl: &Arc<TableDesc>,
    quals: Vec<Expr>,
    group_by: Vec<Expr>,
    aggs: Vec<(AggFunc, Vec<Expr>, bool)>,
) -> UpperRelInfo {
    UpperRelInfo {
        input: tbl.clone(),
        input_quals: quals,
        group_by,
        aggregates: aggs,
        having: None,
        max_parallel_workers: 8,
    }
}

/// The request the envelope builds for an aggregate path.
fn agg_request(up: &UpperRelInfo, path: ForeignPath) -> ScanRequest {
    let width = up.group_by.len() + up.aggregates.len();
    ScanRequest {
        table: up.input.clone(),
        columns: (0..width).collect(),
        quals: Vec::new(),
        param_quals: Vec::new(),
        want_row_id: false,
        path,
        limit: None,
    }
}

/// Runs the aggregation pushed down, on `workers` threads (0: serially).
fn pushed(up: &UpperRelInfo, workers: usize) -> Result<Vec<Row>, FdwError> {
    let spec = pushdown::spec(up).expect("pushable");
    let mut path = ForeignPath::simple(1.0, Cost::new(0.0, 1.0), 0);
    path.parallel_workers = workers;
    path.private = Some(Arc::new(spec));
    run(&agg_request(up, path), &[])
}

/// The same aggregation done the simple way: a plain serial scan of every column, then
/// grouping in a hash map in first-seen order.
fn reference(up: &UpperRelInfo) -> Result<Vec<Row>, FdwError> {
    let tbl = &up.input;
    let rows = run(&request(tbl, (0..tbl.columns.len()).collect(), up.input_quals.clone(), 0), &[])?;
    let keys: Vec<Program> = up.group_by.iter().map(|e| Program::compile(e).unwrap()).collect();
    let args: Vec<Vec<Program>> =
        up.aggregates.iter().map(|(_, a, _)| a.iter().map(|e| Program::compile(e).unwrap()).collect()).collect();
    let calls: Vec<pushdown::AggCall> =
        up.aggregates.iter().map(|(f, a, _)| pushdown::resolve(*f, a).unwrap()).collect();
    let fresh: Vec<Accumulator> = calls.iter().map(|c| Accumulator::new(c.func, &c.arg_type, &c.ret)).collect();
    let mut index: HashMap<GroupKey, usize> = HashMap::new();
    let mut groups: Vec<(Vec<Datum>, Vec<Accumulator>)> = Vec::new();
    if keys.is_empty() {
        index.insert(GroupKey(vec![]), 0);
        groups.push((vec![], fresh.clone()));
    }
    let mut ctx = EvalContext::default();
    for row in &rows {
        let key: Vec<Datum> = keys.iter().map(|k| k.eval(row, &mut ctx).unwrap()).collect();
        let g = *index.entry(GroupKey(key.clone())).or_insert_with(|| {
            groups.push((key, fresh.clone()));
            groups.len() - 1
        });
        for (acc, a) in groups[g].1.iter_mut().zip(&args) {
            let vals: Vec<Datum> = a.iter().map(|p| p.eval(row, &mut ctx).unwrap()).collect();
            acc.update(&vals)?;
        }
    }
    groups
        .into_iter()
        .map(|(mut key, accs)| {
            for a in accs {
                key.push(a.finish()?);
            }
            Ok(key)
        })
        .collect()
}

fn sorted(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort_by(|x, y| {
        x.iter().zip(y).map(|(a, b)| a.cmp_for_sort(b)).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal)
    });
    rows
}

/// The aggregations every data set is checked with.
fn cases(tbl: &Arc<TableDesc>) -> Vec<(&'static str, UpperRelInfo)> {
    use AggFunc::*;
    let c = |i| column(tbl, i);
    let every_type = vec![
        agg(CountStar, vec![]),
        agg(Count, vec![c(3)]),
        agg(Sum, vec![c(0)]),
        agg(Sum, vec![c(5)]),
        agg(Sum, vec![c(2)]),
        agg(Sum, vec![c(1)]),
        agg(Avg, vec![c(0)]),
        agg(Avg, vec![c(1)]),
        agg(Avg, vec![c(2)]),
        agg(Min, vec![c(0)]),
        agg(Max, vec![c(1)]),
        agg(Min, vec![c(2)]),
        agg(Max, vec![c(3)]),
        agg(Min, vec![c(4)]),
        agg(Max, vec![c(5)]),
    ];
    vec![
        ("plain", upper(tbl, vec![], vec![], every_type.clone())),
        (
            "group by a % 1000",
            upper(tbl, vec![], vec![a_mod(tbl, 1000)], vec![agg(CountStar, vec![]), agg(Sum, vec![c(2)])]),
        ),
        ("group by d (NULL keys)", upper(tbl, vec![], vec![c(3)], every_type)),
        (
            "two keys, expression argument",
            upper(
                tbl,
                vec![],
                vec![a_mod(tbl, 10), c(3)],
                vec![agg(Sum, vec![a_mod(tbl, 7)]), agg(Max, vec![c(4)]), agg(StddevSamp, vec![c(2)])],
            ),
        ),
        (
            "string_agg keeps file order",
            upper(
                tbl,
                vec![a_lt(tbl, 5000)],
                vec![a_mod(tbl, 3)],
                vec![agg(StringAgg, vec![c(3), Expr::constant(t(","), DataType::Text)])],
            ),
        ),
        (
            "where quals",
            upper(
                tbl,
                vec![a_lt(tbl, 1500), not_null(c(3))],
                vec![c(4)],
                vec![agg(CountStar, vec![]), agg(Sum, vec![c(0)]), agg(Avg, vec![c(1)])],
            ),
        ),
        (
            "quals reject everything",
            upper(tbl, vec![a_lt(tbl, -1)], vec![], vec![agg(CountStar, vec![]), agg(Sum, vec![c(0)])]),
        ),
    ]
}

#[test]
fn serial_aggregates_match_a_plain_scan() {
    let (_f, tbl) = sample(3000);
    for (name, up) in cases(&tbl) {
        let expect = reference(&up).unwrap();
        assert_eq!(sorted(pushed(&up, 0).unwrap()), sorted(expect), "{name}");
    }
    // Spot checks that do not go through the reference.
    let (_, up) = &cases(&tbl)[0];
    let row = &pushed(up, 0).unwrap()[0];
    assert_eq!(row[0], Datum::Int8(3000));
    assert_eq!(row[1], Datum::Int8((0..3000).filter(|k| k % 13 != 4).count() as i64));
    let nulls_a: Vec<i64> = (0..3000).filter(|k| k % 97 == 5).collect();
    assert_eq!(row[2], Datum::Int8((0..3000).sum::<i64>() - nulls_a.iter().sum::<i64>()));
    assert_eq!(
        row[3].to_text(),
        ((0..3000i128).map(|k| k * 1_000_000_007 - 3_000_000_000_000).sum::<i128>()).to_string()
    );
    let (_, by_mod) = &cases(&tbl)[1];
    assert_eq!(pushed(by_mod, 0).unwrap().len(), 1001, "1000 groups and the NULL key");
}

#[test]
fn parallel_aggregates_match_a_plain_scan() {
    let (_f, tbl) = sample(120_000);
    assert!(std::fs::metadata(_f.path()).unwrap().len() > 4 << 20);
    for (name, up) in cases(&tbl) {
        let expect = sorted(reference(&up).unwrap());
        for workers in [2, 3] {
            assert_eq!(sorted(pushed(&up, workers).unwrap()), expect, "{name}, {workers} workers");
        }
    }
}

#[test]
fn empty_input() {
    let f = file(b"");
    let tbl = table("empty", f.path().to_str().unwrap(), vec![col("a", DataType::Int4)], &[("format", "csv")]);
    let aggs = vec![agg(AggFunc::CountStar, vec![]), agg(AggFunc::Sum, vec![column(&tbl, 0)])];
    // Plain aggregation over no rows still yields its one row, as in PostgreSQL.
    let plain = upper(&tbl, vec![], vec![], aggs.clone());
    assert_eq!(pushed(&plain, 0).unwrap(), vec![vec![Datum::Int8(0), Datum::Null]]);
    assert_eq!(pushed(&plain, 2).unwrap(), vec![vec![Datum::Int8(0), Datum::Null]]);
    let grouped = upper(&tbl, vec![], vec![column(&tbl, 0)], aggs);
    assert_eq!(pushed(&grouped, 0).unwrap(), Vec::<Row>::new());
}

#[test]
fn bad_data_errors_keep_their_context() {
    let mut data = String::new();
    for k in 0..300_000 {
        if k == 250_000 {
            data.push_str("oops,1\n");
        } else {
            data.push_str(&format!("{},1\n", k % 100));
        }
    }
    let f = file(data.as_bytes());
    let tbl = table(
        "pe",
        f.path().to_str().unwrap(),
        vec![col("a", DataType::Int4), col("b", DataType::Int4)],
        &[("format", "csv")],
    );
    let by_a = upper(&tbl, vec![], vec![column(&tbl, 0)], vec![agg(AggFunc::CountStar, vec![])]);
    let sum_b = upper(&tbl, vec![], vec![], vec![agg(AggFunc::Sum, vec![column(&tbl, 1)])]);
    for workers in [0, 2, 3] {
        let e = pushed(&by_a, workers).unwrap_err();
        assert_eq!(
            describe(&e),
            (
                "invalid input syntax for type integer: \"oops\"".into(),
                "COPY pe, line 250001, column a: \"oops\"".into()
            ),
            "{workers}"
        );
        // A bad value in a column the aggregation does not read does not matter.
        assert_eq!(pushed(&sum_b, workers).unwrap(), vec![vec![Datum::Int8(300_000)]]);
    }
    // A malformed line fails whatever is read.
    let f = file(b"1,1\n2\n");
    let tbl = table(
        "short",
        f.path().to_str().unwrap(),
        vec![col("a", DataType::Int4), col("b", DataType::Int4)],
        &[("format", "csv")],
    );
    let e = pushed(&upper(&tbl, vec![], vec![], vec![agg(AggFunc::CountStar, vec![])]), 0).unwrap_err();
    assert_eq!(describe(&e), ("missing data for column \"b\"".into(), "COPY short, line 2: \"2\"".into()));
}

#[test]
fn planner_offers_the_path_only_when_it_parallelizes() {
    let fdw = FileFdw::new();
    let routine = fdw.pushdown_routine().expect("file_fdw pushes aggregates down");
    // A small file: the envelope's own aggregation is as good.
    let (_small, small) = sample(3000);
    let up = upper(&small, vec![], vec![], vec![agg(AggFunc::CountStar, vec![])]);
    assert!(routine.get_upper_paths(&up).unwrap().is_empty());

    let (_big, big) = sample(400_000);
    assert!(std::fs::metadata(_big.path()).unwrap().len() >= file_fdw::plan::PARALLEL_MIN_BYTES);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let aggs = vec![agg(AggFunc::CountStar, vec![]), agg(AggFunc::Sum, vec![column(&big, 2)])];
    let mut up = upper(&big, vec![], vec![a_mod(&big, 1000)], aggs.clone());
    // The session allows no parallel workers (max_parallel_workers_per_gather = 0 or 1).
    for allowed in [0, 1] {
        up.max_parallel_workers = allowed;
        assert!(routine.get_upper_paths(&up).unwrap().is_empty());
    }
    up.max_parallel_workers = 8;
    let paths = routine.get_upper_paths(&up).unwrap();
    if cores < 2 {
        assert!(paths.is_empty());
        return;
    }
    assert_eq!(paths.len(), 1);
    let path = &paths[0];
    assert!(path.parallel_workers >= 2);
    assert_eq!(path.rows, 200.0, "PostgreSQL's default of 200 groups for an expression");
    // Cheaper than the local plan: the parallel scan + cpu_operator_cost per row and
    // per key/aggregate + cpu_tuple_cost per group.
    let rel = rel(&big, vec![], cores);
    let mut rel = rel;
    rel.needed_columns = vec![0, 2];
    let size = fdw.get_rel_size(&rel).unwrap();
    let scan = fdw.get_paths(&rel, &size).unwrap().into_iter().map(|p| p.cost.total).fold(f64::INFINITY, f64::min);
    let local = scan + 0.0025 * size.rows * 3.0 + 0.01 * 200.0;
    assert!(path.cost.total < local - 1000.0, "{} vs {local}", path.cost.total);
    // The path runs: the same groups as the reference.
    let rows = run(&agg_request(&up, path.clone()), &[]).unwrap();
    assert_eq!(sorted(rows), sorted(reference(&up).unwrap()));
    // EXPLAIN.
    let lines = fdw.explain_scan(&agg_request(&up, path.clone()), false);
    assert_eq!(lines[1], ("Pushed Aggregate".to_string(), "count(*), sum(c) GROUP BY (a % 1000)".to_string()));
    assert_eq!(lines[2], ("Workers".to_string(), path.parallel_workers.to_string()));

    // What cannot run in the scan gets no path.
    let mut distinct = up.clone();
    distinct.aggregates[1].2 = true;
    assert!(routine.get_upper_paths(&distinct).unwrap().is_empty());
    let mut having = up.clone();
    having.having = Some(Expr::constant(Datum::Bool(true), DataType::Bool));
    assert!(routine.get_upper_paths(&having).unwrap().is_empty());
    let sub = Expr::SubPlan { id: 0, kind: SubLinkKind::Exists, args: vec![], lhs: None, ty: DataType::Bool };
    let with_subplan = upper(&big, vec![sub], vec![], aggs);
    assert!(routine.get_upper_paths(&with_subplan).unwrap().is_empty());
}

#[test]
fn rescan_returns_the_groups_again() {
    let (_f, tbl) = sample(3000);
    let up = upper(&tbl, vec![], vec![a_mod(&tbl, 1000)], vec![agg(AggFunc::CountStar, vec![])]);
    let mut path = ForeignPath::simple(1.0, Cost::new(0.0, 1.0), 0);
    path.private = Some(Arc::new(pushdown::spec(&up).unwrap()));
    let fdw = FileFdw::new();
    let mut scan = fdw.begin_scan(&agg_request(&up, path), &ctx()).unwrap();
    let mut first = RowBatch::new();
    // 1001 groups: more than one batch only if BATCH_SIZE is small; read to the end.
    while scan.next_batch(&mut first, &[]).unwrap() {}
    assert_eq!(first.rows.len(), 1001);
    scan.rescan(&[]).unwrap();
    let mut again = RowBatch::new();
    while scan.next_batch(&mut again, &[]).unwrap() {}
    assert_eq!(sorted(again.rows), sorted(first.rows));
    scan.end().unwrap();
}
