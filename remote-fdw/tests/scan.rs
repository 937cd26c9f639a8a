//! Scans against a real PostgreSQL: qual pushdown, sorted paths, LIMIT, parameters, cursor
//! streaming and rescans.

mod common;

use std::sync::Arc;

use common::*;
use fdw_api::{BinaryOp, DataType, Datum, Expr, FdwRoutine, PathKey, QualSupport, RowBatch, ScalarFunc};
use remote_fdw::PostgresFdw;

const SETUP: &str = "CREATE TABLE t1 (a int PRIMARY KEY, b text, c numeric(10,2), d date, e bigint, f float8);
     INSERT INTO t1 SELECT i, 'v' || i, i * 1.5, date '2020-01-01' + i, i * 1000000000::bigint, i / 4.0
       FROM generate_series(1, 100) i;
     INSERT INTO t1 VALUES (101, NULL, NULL, NULL, NULL, NULL);";

fn t1(db: &ScratchDb) -> Arc<fdw_api::TableDesc> {
    Arc::new(db.table(
        "t1",
        &[
            ("a", DataType::Int4),
            ("b", DataType::Text),
            ("c", DataType::Numeric(Some((10, 2)))),
            ("d", DataType::Date),
            ("e", DataType::Int8),
            ("f", DataType::Float8),
        ],
    ))
}

#[test]
fn quals_are_pushed_down_and_deparsed_like_postgres_fdw() {
    let db = ScratchDb::new(SETUP);
    let fdw = PostgresFdw::new();
    let t = t1(&db);
    let upper = Expr::Func { func: ScalarFunc::Upper, args: vec![col(1, DataType::Text)], ty: DataType::Text };
    let quals = vec![
        bin(BinaryOp::Gt, col(0, DataType::Int4), int(10)),
        bin(BinaryOp::Lt, col(1, DataType::Text), text("v5")),
        bin(BinaryOp::NotEq, upper, text("V20")),
        Expr::Unary { op: fdw_api::UnaryOp::IsNotNull, expr: Box::new(col(4, DataType::Int8)), ty: DataType::Bool },
    ];
    let r = rel(&t, quals);
    let path = plan_first(&fdw, &r);
    assert_eq!(
        path.qual_support,
        vec![QualSupport::Exact, QualSupport::Exact, QualSupport::Unsupported, QualSupport::Exact]
    );
    let req = request(&r, &path, vec![0, 1]);
    let explain = fdw.explain_scan(&req, true);
    assert_eq!(
        explain,
        vec![(
            "Remote SQL".to_string(),
            "SELECT a, b FROM public.t1 WHERE ((a > 10)) AND ((b COLLATE \"C\" < 'v5')) AND ((e IS NOT NULL))"
                .to_string()
        )]
    );
    assert!(fdw.explain_scan(&req, false).is_empty());
    let ctx = ctx(false);
    let rows = scan_all(&fdw, &req, &ctx, &[]).unwrap();
    commit(&fdw, &ctx).unwrap();
    // b < 'v5' in byte order: v11..v49 (and v100) among a > 10.
    let mut got: Vec<i32> = rows.iter().map(|r| r[0].as_i64().unwrap() as i32).collect();
    got.sort();
    let mut want: Vec<i32> = (11..=100).filter(|i| format!("v{i}").as_str() < "v5").collect();
    want.sort();
    assert_eq!(got, want);
    assert!(rows.iter().all(|r| r.len() == 2 && r[1].as_str().unwrap() < "v5"));
}

#[test]
fn values_of_every_type_round_trip() {
    let db = ScratchDb::new(SETUP);
    let fdw = PostgresFdw::new();
    let t = t1(&db);
    let r = rel(&t, vec![bin(BinaryOp::Eq, col(0, DataType::Int4), int(3))]);
    let path = plan_first(&fdw, &r);
    let ctx = ctx(false);
    let rows = scan_all(&fdw, &request(&r, &path, vec![0, 1, 2, 3, 4, 5]), &ctx, &[]).unwrap();
    commit(&fdw, &ctx).unwrap();
    assert_eq!(rows.len(), 1);
    let texts: Vec<String> = rows[0].iter().map(|d| d.to_text()).collect();
    assert_eq!(texts, ["3", "v3", "4.50", "2020-01-04", "3000000000", "0.75"]);
    // NULLs and a scan needing no column at all (count(*)).
    let r = rel(&t, vec![bin(BinaryOp::Eq, col(0, DataType::Int4), int(101))]);
    let path = plan_first(&fdw, &r);
    let ctx2 = common::ctx(false);
    let rows = scan_all(&fdw, &request(&r, &path, vec![1, 2, 3]), &ctx2, &[]).unwrap();
    assert_eq!(rows, vec![vec![Datum::Null, Datum::Null, Datum::Null]]);
    let req = request(&rel(&t, vec![]), &path, vec![]);
    assert_eq!(fdw.explain_scan(&req, true)[0].1, "SELECT NULL FROM public.t1");
    let rows = scan_all(&fdw, &req, &ctx2, &[]).unwrap();
    assert_eq!(rows.len(), 101);
    commit(&fdw, &ctx2).unwrap();
}

#[test]
fn sorted_path_and_limit_go_remote() {
    let db = ScratchDb::new(SETUP);
    let fdw = PostgresFdw::new();
    let t = t1(&db);
    let mut r = rel(&t, vec![]);
    r.useful_orders = vec![vec![PathKey { column: 1, descending: true, nulls_first: true }]];
    let size = fdw.get_rel_size(&r).unwrap();
    let paths = fdw.get_paths(&r, &size).unwrap();
    assert_eq!(paths.len(), 2);
    let sorted = paths.iter().find(|p| !p.pathkeys.is_empty()).unwrap();
    assert!(sorted.cost.total > paths[0].cost.total, "a remote sort costs more than the plain scan");
    let mut req = request(&r, sorted, vec![0, 1]);
    req.limit = Some(3);
    assert_eq!(
        fdw.explain_scan(&req, true)[0].1,
        "SELECT a, b FROM public.t1 ORDER BY b COLLATE \"C\" DESC NULLS FIRST LIMIT 3::bigint"
    );
    let ctx = ctx(false);
    let rows = scan_all(&fdw, &req, &ctx, &[]).unwrap();
    commit(&fdw, &ctx).unwrap();
    let got: Vec<String> = rows.iter().map(|r| r[1].to_text()).collect();
    assert_eq!(got, ["", "v99", "v98"]);
    assert!(rows[0][1].is_null());
}

#[test]
fn params_are_sent_as_query_parameters_and_rescans_use_new_values() {
    let db = ScratchDb::new(SETUP);
    let fdw = PostgresFdw::new();
    let t = t1(&db);
    let mut r = rel(&t, vec![]);
    r.join_quals = vec![bin(BinaryOp::Eq, col(0, DataType::Int4), Expr::Param { index: 1, ty: DataType::Int4 })];
    let size = fdw.get_rel_size(&r).unwrap();
    let paths = fdw.get_paths(&r, &size).unwrap();
    let p = paths.iter().find(|p| !p.param_quals.is_empty()).expect("a parameterized path");
    assert_eq!(p.param_quals, vec![0]);
    assert!(p.rows < paths[0].rows);
    let req = request(&r, p, vec![0, 1]);
    assert_eq!(fdw.explain_scan(&req, true)[0].1, "SELECT a, b FROM public.t1 WHERE ((a = $1::integer))");
    let ctx = ctx(true);
    let mut scan = fdw.begin_scan(&req, &ctx).unwrap();
    let mut out = RowBatch::new();
    let params = [Datum::Null, Datum::Int4(7)];
    assert!(!scan.next_batch(&mut out, &params).unwrap());
    assert_eq!(out.rows, vec![vec![Datum::Int4(7), Datum::text("v7")]]);
    for v in [42, 1000, 8] {
        scan.rescan(&[Datum::Null, Datum::Int4(v)]).unwrap();
        let mut out = RowBatch::new();
        scan.next_batch(&mut out, &[Datum::Null, Datum::Int4(v)]).unwrap();
        let want: Vec<Vec<Datum>> =
            if v <= 101 { vec![vec![Datum::Int4(v), Datum::text(&format!("v{v}"))]] } else { vec![] };
        assert_eq!(out.rows, want);
    }
    scan.end().unwrap();
    commit(&fdw, &ctx).unwrap();
}

#[test]
fn cursor_streams_100k_rows_in_fetch_size_chunks() {
    let db = ScratchDb::new(
        "CREATE TABLE big (id int, pad text);
         INSERT INTO big SELECT i, repeat('x', 20) FROM generate_series(1, 100000) i;",
    );
    let fdw = PostgresFdw::new();
    let mut t = db.table("big", &[("id", DataType::Int4), ("pad", DataType::Text)]);
    t.table_options.set("fetch_size", "500");
    t.server_options.set("application_name", &format!("stream_{}", db.name));
    let t = Arc::new(t);
    let r = rel(&t, vec![]);
    let path = plan_first(&fdw, &r);
    let req = request(&r, &path, vec![0]);
    let ctx = ctx(false);
    let mut scan = fdw.begin_scan(&req, &ctx).unwrap();
    let mut count = 0u64;
    let mut sum = 0i64;
    let mut first = true;
    loop {
        let mut b = RowBatch::new();
        let more = scan.next_batch(&mut b, &[]).unwrap();
        assert!(b.len() <= fdw_api::BATCH_SIZE);
        count += b.len() as u64;
        sum += b.rows.iter().map(|r| r[0].as_i64().unwrap()).sum::<i64>();
        if first {
            // The remote session is reading a cursor 500 rows at a time, not the whole result.
            let q =
                db.texts(&format!("SELECT query FROM pg_stat_activity WHERE application_name = 'stream_{}'", db.name));
            assert_eq!(q, vec![Some("FETCH 500 FROM c1".to_string())]);
            first = false;
        }
        if !more {
            break;
        }
    }
    scan.end().unwrap();
    commit(&fdw, &ctx).unwrap();
    assert_eq!(count, 100_000);
    assert_eq!(sum, 100_000 * 100_001 / 2);
}

#[test]
fn remote_estimate_uses_remote_explain() {
    let db = ScratchDb::new(SETUP);
    let fdw = PostgresFdw::new();
    let mut t = t1(&db);
    Arc::make_mut(&mut t).server_options.set("use_remote_estimate", "true");
    db.client().batch_execute("ANALYZE t1").unwrap();
    let r = rel(&t, vec![bin(BinaryOp::LtEq, col(0, DataType::Int4), int(20))]);
    let size = fdw.get_rel_size(&r).unwrap();
    assert_eq!(size.total_rows, 101.0);
    assert!((15.0..=25.0).contains(&size.rows), "remote estimate {}", size.rows);
    let paths = fdw.get_paths(&r, &size).unwrap();
    assert!(paths[0].cost.startup >= 100.0);
}

#[test]
fn local_estimates_use_defaults_and_stats() {
    let db = ScratchDb::new(SETUP);
    let fdw = PostgresFdw::new();
    let t = t1(&db);
    let r = rel(&t, vec![]);
    let size = fdw.get_rel_size(&r).unwrap();
    let path = plan_first(&fdw, &r);
    assert!(size.total_rows > 100.0, "postgres_fdw's 10-page guess");
    assert_eq!(path.cost.startup, 100.0);
    let mut t2 = (*t).clone();
    t2.stats = Some(Arc::new(fdw_api::TableStats { row_count: 101.0, columns: vec![] }));
    let r2 = rel(&Arc::new(t2), vec![bin(BinaryOp::Eq, col(0, DataType::Int4), int(1))]);
    let size = fdw.get_rel_size(&r2).unwrap();
    assert_eq!((size.total_rows, size.rows), (101.0, 1.0));
}
