//! IMPORT FOREIGN SCHEMA, ANALYZE, TRUNCATE and join/aggregate pushdown against a real
//! PostgreSQL.

mod common;

use std::sync::Arc;

use common::*;
use fdw_api::{AggFunc, BinaryOp, DataType, Datum, FdwRoutine, ImportFilter, JoinKind, JoinRelInfo, UpperRelInfo};
use remote_fdw::PostgresFdw;

#[test]
fn import_schema_maps_tables_types_and_filters() {
    let db = ScratchDb::new(
        "CREATE SCHEMA \"Remote S\";
         CREATE TABLE \"Remote S\".orders (id bigint NOT NULL, total numeric(15,2), note varchar(25), code char(3),
             at timestamp, d date, ok boolean, f real, dur interval, doc jsonb, \"Mixed Case\" text);
         CREATE VIEW \"Remote S\".v AS SELECT id FROM \"Remote S\".orders;
         CREATE TABLE \"Remote S\".other (x int);",
    );
    let fdw = PostgresFdw::new();
    let s = fdw.support_routine().unwrap();
    let all = s.import_schema("Remote S", &ImportFilter::All, &db.server_options(), &db.mapping()).unwrap();
    let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["orders", "other", "v"]);
    let orders = &all[0];
    assert_eq!(orders.options.get("schema_name"), Some("Remote S"));
    assert_eq!(orders.options.get("table_name"), Some("orders"));
    let types: Vec<(String, DataType, bool)> =
        orders.columns.iter().map(|c| (c.name.clone(), c.ty.clone(), c.not_null)).collect();
    assert_eq!(
        types,
        vec![
            ("id".into(), DataType::Int8, true),
            ("total".into(), DataType::Numeric(Some((15, 2))), false),
            ("note".into(), DataType::Varchar(Some(25)), false),
            ("code".into(), DataType::Char(Some(3)), false),
            ("at".into(), DataType::Timestamp, false),
            ("d".into(), DataType::Date, false),
            ("ok".into(), DataType::Bool, false),
            ("f".into(), DataType::Float4, false),
            ("dur".into(), DataType::Interval, false),
            ("doc".into(), DataType::Text, false),
            ("Mixed Case".into(), DataType::Text, false),
        ]
    );
    assert_eq!(orders.columns[10].options.get("column_name"), Some("Mixed Case"));
    let limited = s
        .import_schema(
            "Remote S",
            &ImportFilter::LimitTo(vec!["v".into(), "nope".into()]),
            &db.server_options(),
            &db.mapping(),
        )
        .unwrap();
    assert_eq!(limited.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["v"]);
    let except = s
        .import_schema("Remote S", &ImportFilter::Except(vec!["v".into()]), &db.server_options(), &db.mapping())
        .unwrap();
    assert_eq!(except.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["orders", "other"]);
    let e = s.import_schema("missing", &ImportFilter::All, &db.server_options(), &db.mapping()).unwrap_err();
    assert_eq!(e.sqlstate.code(), "HV00B");
    assert!(e.message.starts_with("schema \"missing\" is not present on foreign server"));
}

#[test]
fn analyze_samples_rows_and_counts() {
    let db = ScratchDb::new(
        "CREATE TABLE t (a int, b text); INSERT INTO t SELECT i, 'b' || i FROM generate_series(1, 5000) i;",
    );
    let fdw = PostgresFdw::new();
    let t = Arc::new(db.table("t", &[("a", DataType::Int4), ("b", DataType::Text)]));
    let s = fdw.support_routine().unwrap();
    let ctx = ctx(false);
    let small = s.analyze(&t, 10_000, &ctx).unwrap();
    assert_eq!((small.rows.len(), small.total_rows), (5000, 5000.0));
    let sample = s.analyze(&t, 300, &ctx).unwrap();
    assert_eq!(sample.rows.len(), 300);
    assert_eq!(sample.total_rows, 5000.0);
    assert!(sample.rows.iter().all(|r| matches!(&r[0], Datum::Int4(v) if (1..=5000).contains(v))));
    // Spread over the table, not its first pages.
    assert!(sample.rows.iter().any(|r| r[0].as_i64().unwrap() > 2500));
}

#[test]
fn truncate_runs_in_the_remote_transaction() {
    let db = ScratchDb::new(
        "CREATE TABLE t1 (a int); CREATE TABLE t2 (a int); INSERT INTO t1 VALUES (1); INSERT INTO t2 VALUES (2);",
    );
    let fdw = PostgresFdw::new();
    let t1 = Arc::new(db.table("t1", &[("a", DataType::Int4)]));
    let t2 = Arc::new(db.table("t2", &[("a", DataType::Int4)]));
    let s = fdw.support_routine().unwrap();
    let a = ctx(true);
    s.truncate(&[t1.clone(), t2.clone()], &a).unwrap();
    rollback(&fdw, &a);
    assert_eq!(db.texts("SELECT (SELECT count(*) FROM t1) + (SELECT count(*) FROM t2)"), vec![Some("2".into())]);
    let b = ctx(true);
    s.truncate(&[t1.clone(), t2.clone()], &b).unwrap();
    commit(&fdw, &b).unwrap();
    assert_eq!(db.texts("SELECT (SELECT count(*) FROM t1) + (SELECT count(*) FROM t2)"), vec![Some("0".into())]);
    let mut no = (*t1).clone();
    no.table_options.set("truncatable", "false");
    let e = s.truncate(&[Arc::new(no)], &ctx(false)).unwrap_err();
    assert_eq!(e.message, "foreign table \"t1\" does not allow truncates");
}

#[test]
fn join_and_aggregate_paths_run_as_one_remote_query() {
    let db = ScratchDb::new(
        "CREATE TABLE a (id int, g text); CREATE TABLE b (aid int, v int);
         INSERT INTO a SELECT i, 'g' || (i % 3) FROM generate_series(1, 30) i;
         INSERT INTO b SELECT i % 10, i FROM generate_series(1, 50) i;",
    );
    let fdw = PostgresFdw::new();
    let a = Arc::new(db.table("a", &[("id", DataType::Int4), ("g", DataType::Text)]));
    let b = Arc::new(db.table("b", &[("aid", DataType::Int4), ("v", DataType::Int4)]));
    let p = fdw.pushdown_routine().unwrap();
    let join = JoinRelInfo {
        kind: JoinKind::Left,
        outer: vec![a.clone()],
        inner: vec![b.clone()],
        quals: vec![bin(BinaryOp::Eq, col(0, DataType::Int4), col(2, DataType::Int4))],
    };
    let paths = p.get_join_paths(&join).unwrap();
    assert_eq!(paths.len(), 1);
    let mut req = request(&rel(&a, vec![]), &paths[0], vec![0, 3]);
    req.quals = vec![bin(BinaryOp::LtEq, col(0, DataType::Int4), int(12))];
    assert_eq!(
        fdw.explain_scan(&req, true),
        vec![
            ("Relations".to_string(), "(public.a) LEFT JOIN (public.b)".to_string()),
            (
                "Remote SQL".to_string(),
                "SELECT r1.id, r2.v FROM (public.a r1 LEFT JOIN public.b r2 ON (((r1.id = r2.aid)))) WHERE ((r1.id <= 12))"
                    .to_string()
            ),
        ]
    );
    let ctx = ctx(false);
    let rows = scan_all(&fdw, &req, &ctx, &[]).unwrap();
    // ids 1..9 match 5 rows each, 10..12 match none (LEFT JOIN keeps them).
    assert_eq!(rows.len(), 9 * 5 + 3);
    assert_eq!(rows.iter().filter(|r| r[1].is_null()).count(), 3);
    // Tables of different servers are not joined remotely.
    let mut elsewhere = (*b).clone();
    elsewhere.server_name = "other".into();
    let j2 = JoinRelInfo { inner: vec![Arc::new(elsewhere)], ..join.clone() };
    assert!(p.get_join_paths(&j2).unwrap().is_empty());

    let upper = UpperRelInfo {
        input: a.clone(),
        input_quals: vec![],
        group_by: vec![col(1, DataType::Text)],
        aggregates: vec![(AggFunc::CountStar, vec![], false), (AggFunc::Sum, vec![col(0, DataType::Int4)], false)],
        having: Some(bin(BinaryOp::Gt, col(2, DataType::Int8), int8(150))),
        max_parallel_workers: 2,
    };
    let paths = p.get_upper_paths(&upper).unwrap();
    assert_eq!(paths.len(), 1);
    let mut req = request(&rel(&a, vec![]), &paths[0], vec![1, 2, 0]);
    req.path.pathkeys = vec![fdw_api::PathKey { column: 0, descending: false, nulls_first: false }];
    assert_eq!(
        fdw.explain_scan(&req, true),
        vec![
            ("Relations".to_string(), "Aggregate on (public.a)".to_string()),
            (
                "Remote SQL".to_string(),
                "SELECT count(*), sum(id), g FROM public.a GROUP BY 3 HAVING ((sum(id) > 150::bigint)) \
                 ORDER BY g COLLATE \"C\" ASC NULLS LAST"
                    .to_string()
            ),
        ]
    );
    let rows = scan_all(&fdw, &req, &ctx, &[]).unwrap();
    commit(&fdw, &ctx).unwrap();
    let got: Vec<String> =
        rows.iter().map(|r| format!("{}:{}:{}", r[2].to_text(), r[0].to_text(), r[1].to_text())).collect();
    assert_eq!(got, ["g0:10:165", "g2:10:155"]);

    // The aggregation over the (inner) join, as one remote query.
    let inner_join = JoinRelInfo { kind: JoinKind::Inner, ..join.clone() };
    let upper = UpperRelInfo {
        input: a.clone(),
        input_quals: vec![bin(BinaryOp::Gt, col(3, DataType::Int4), int(20))],
        group_by: vec![col(1, DataType::Text)],
        aggregates: vec![(AggFunc::CountStar, vec![], false), (AggFunc::Sum, vec![col(3, DataType::Int4)], false)],
        having: None,
        max_parallel_workers: 2,
    };
    let paths = p.get_join_upper_paths(&inner_join, &upper).unwrap();
    assert_eq!(paths.len(), 1);
    let req = request(&rel(&a, vec![]), &paths[0], vec![0, 1, 2]);
    assert_eq!(
        fdw.explain_scan(&req, true),
        vec![
            ("Relations".to_string(), "Aggregate on ((public.a) INNER JOIN (public.b))".to_string()),
            (
                "Remote SQL".to_string(),
                "SELECT r1.g, count(*), sum(r2.v) FROM (public.a r1 INNER JOIN public.b r2 ON (((r1.id = r2.aid)) \
                 AND ((r2.v > 20)))) GROUP BY 1"
                    .to_string()
            ),
        ]
    );
    let mut got: Vec<String> = scan_all(&fdw, &req, &ctx, &[])
        .unwrap()
        .iter()
        .map(|r| r.iter().map(|d| d.to_text()).collect::<Vec<_>>().join(":"))
        .collect();
    commit(&fdw, &ctx).unwrap();
    got.sort();
    // b rows v = 21..50 with aid = v % 10 in 1..9 (aid 0 has no a row): 27 rows.
    let total: i64 = got.iter().map(|r| r.split(':').nth(1).unwrap().parse::<i64>().unwrap()).sum();
    assert_eq!(total, 27);
    // A left join is not aggregated remotely here.
    assert!(p.get_join_upper_paths(&join, &upper).unwrap().is_empty());
}

fn int8(v: i64) -> fdw_api::Expr {
    fdw_api::Expr::constant(Datum::Int8(v), DataType::Int8)
}
