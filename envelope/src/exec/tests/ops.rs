//! Single-input operators: scan/filter/project, values, sort and TopN, limit, aggregation,
//! DISTINCT, set operations, append, modification and EXPLAIN ANALYZE statistics.

use fdw_api::{AggFunc, BinaryOp, Datum, Expr, Row, SqlState};

use super::*;
use crate::plan::physical::{AggCall, AggStrategy, ModifyNode, SetOpKind, SortKey};

fn nums() -> Vec<Row> {
    // (k int, v text, keep bool)
    vec![
        vec![i(3), t("c"), Datum::Bool(true)],
        vec![N, t("n1"), Datum::Bool(false)],
        vec![i(1), t("a"), Datum::Bool(true)],
        vec![i(3), t("c2"), N],
        vec![i(2), t("b"), Datum::Bool(true)],
        vec![N, t("n2"), Datum::Bool(true)],
    ]
}

fn src() -> (std::sync::Arc<TestFdw>, Plan) {
    let f = TestFdw::new(&[("n", nums())]);
    let p = scan(&f, "n", &[I, T, B]);
    (f, p)
}

fn key(index: usize, descending: bool, nulls_first: bool) -> SortKey {
    SortKey { expr: col(index, I), descending, nulls_first }
}

#[test]
fn filter_keeps_true_rows_and_project_reorders() {
    let (_f, s) = src();
    let filtered = plan(Node::Filter { input: Box::new(s), predicate: col(2, B) }, &[I, T, B]);
    let projected = plan(Node::Project { input: Box::new(filtered), exprs: vec![col(1, T), col(0, I)] }, &[T, I]);
    let got = run(&query(projected));
    assert_eq!(got, vec![vec![t("c"), i(3)], vec![t("a"), i(1)], vec![t("b"), i(2)], vec![t("n2"), N]]);
}

#[test]
fn scan_local_filter_and_rows_across_batches() {
    let (f, mut s) = src();
    if let Node::ForeignScan(sn) = &mut s.node {
        sn.filter = Some(col(2, B));
    }
    let got = run(&query(s));
    assert_eq!(got.len(), 4);
    assert_eq!(f.log.lock().unwrap().ends, 1);
}

#[test]
fn values_and_expressions() {
    let rows = vec![vec![int(1), Expr::constant(t("x"), T)], vec![int(2), bin(BinaryOp::Add, int(40), int(2))]];
    let got = run(&query(plan(Node::Values { rows }, &[DataType::Int8, T])));
    assert_eq!(got, vec![vec![Datum::Int8(1), t("x")], vec![Datum::Int8(2), Datum::Int8(42)]]);
}

#[test]
fn sort_orders_with_desc_and_nulls_placement_stably() {
    let cases = [
        (key(0, false, false), vec!["a", "b", "c", "c2", "n1", "n2"]),
        (key(0, true, true), vec!["n1", "n2", "c", "c2", "b", "a"]),
        (key(0, true, false), vec!["c", "c2", "b", "a", "n1", "n2"]),
        (key(0, false, true), vec!["n1", "n2", "a", "b", "c", "c2"]),
    ];
    for (k, want) in cases {
        let (_f, s) = src();
        let got = run(&query(plan(Node::Sort { input: Box::new(s), keys: vec![k.clone()] }, &[I, T, B])));
        let names: Vec<String> = got.iter().map(|r| r[1].to_text()).collect();
        assert_eq!(names, want, "{k:?}");
    }
}

#[test]
fn sort_on_computed_key_drops_the_key_column() {
    let (_f, s) = src();
    // ORDER BY -k (a computed key), NULLS LAST.
    let neg = Expr::Unary { op: fdw_api::UnaryOp::Neg, expr: Box::new(col(0, I)), ty: I };
    let keys = vec![SortKey { expr: neg, descending: false, nulls_first: false }];
    let got = run(&query(plan(Node::Sort { input: Box::new(s), keys }, &[I, T, B])));
    assert_eq!(got.iter().map(|r| r.len()).max(), Some(3));
    let names: Vec<String> = got.iter().map(|r| r[1].to_text()).collect();
    assert_eq!(names, vec!["c", "c2", "b", "a", "n1", "n2"]);
}

#[test]
fn topn_matches_sort_then_limit() {
    for (limit, offset, want) in
        [(2, 0, vec!["a", "b"]), (3, 2, vec!["c", "c2", "n1"]), (0, 0, vec![]), (9, 5, vec!["n2"])]
    {
        let (_f, s) = src();
        let node = Node::TopN { input: Box::new(s), keys: vec![key(0, false, false)], limit, offset };
        let got = run(&query(plan(node, &[I, T, B])));
        let names: Vec<String> = got.iter().map(|r| r[1].to_text()).collect();
        assert_eq!(names, want, "limit {limit} offset {offset}");
    }
}

#[test]
fn topn_large_input_is_stable() {
    let rows: Vec<Row> = (0..5000).map(|n| vec![i(n % 7), i(n)]).collect();
    let f = TestFdw::new(&[("big", rows.clone())]);
    let node = Node::TopN {
        input: Box::new(scan(&f, "big", &[I, I])),
        keys: vec![key(0, true, false)],
        limit: 1500,
        offset: 10,
    };
    let got = run(&query(plan(node, &[I, I])));
    let mut want = rows;
    want.sort_by(|a, b| b[0].as_i64().cmp(&a[0].as_i64()));
    assert_eq!(got, want[10..1510].to_vec());
}

fn limit_plan(limit: Option<i64>, offset: Option<i64>) -> PhysicalQuery {
    let (_f, s) = src();
    let c = |v: Option<i64>| v.map(|v| if v == i64::MIN { Expr::null(DataType::Int8) } else { int(v) });
    query(plan(Node::Limit { input: Box::new(s), limit: c(limit), offset: c(offset) }, &[I, T, B]))
}

#[test]
fn limit_and_offset() {
    let names = |rows: Vec<Row>| rows.iter().map(|r| r[1].to_text()).collect::<Vec<_>>();
    assert_eq!(names(run(&limit_plan(Some(2), None))), vec!["c", "n1"]);
    assert_eq!(names(run(&limit_plan(Some(2), Some(3)))), vec!["c2", "b"]);
    assert_eq!(names(run(&limit_plan(None, Some(5)))), vec!["n2"]);
    assert_eq!(names(run(&limit_plan(Some(0), None))), Vec::<String>::new());
    assert_eq!(names(run(&limit_plan(Some(10), Some(10)))), Vec::<String>::new());
    // LIMIT NULL is no limit.
    assert_eq!(run(&limit_plan(Some(i64::MIN), Some(1))).len(), 5);
    let e = run_err(&limit_plan(Some(-1), None));
    assert_eq!((e.sqlstate.code(), e.message.as_str()), ("2201W", "LIMIT must not be negative"));
    let e = run_err(&limit_plan(Some(1), Some(-1)));
    assert_eq!((e.sqlstate.code(), e.message.as_str()), ("2201X", "OFFSET must not be negative"));
}

fn agg(func: AggFunc, args: Vec<Expr>, distinct: bool, filter: Option<Expr>) -> AggCall {
    AggCall { func, args, distinct, filter, arg_type: I, ret: DataType::Int8 }
}

#[test]
fn plain_aggregate_returns_one_row_even_without_input() {
    let f = TestFdw::new(&[("e", vec![])]);
    let node = Node::Aggregate {
        input: Box::new(scan(&f, "e", &[I])),
        strategy: AggStrategy::Plain,
        group_by: vec![],
        aggs: vec![agg(AggFunc::CountStar, vec![], false, None), agg(AggFunc::Count, vec![col(0, I)], false, None)],
    };
    assert_eq!(run(&query(plan(node, &[DataType::Int8, DataType::Int8]))), vec![vec![Datum::Int8(0), Datum::Int8(0)]]);
}

#[test]
fn grouped_aggregates_with_distinct_and_filter() {
    // Rows (g, x, keep): GROUP BY g: count(*), count(x), count(DISTINCT x), count(*) FILTER (WHERE keep)
    let rows = vec![
        vec![t("p"), i(1), Datum::Bool(true)],
        vec![t("q"), i(5), Datum::Bool(false)],
        vec![t("p"), i(1), N],
        vec![N, i(7), Datum::Bool(true)],
        vec![t("p"), N, Datum::Bool(true)],
        vec![t("p"), i(2), Datum::Bool(true)],
        vec![N, i(7), Datum::Bool(true)],
    ];
    let want = vec![
        vec![t("p"), Datum::Int8(4), Datum::Int8(3), Datum::Int8(2), Datum::Int8(3)],
        vec![t("q"), Datum::Int8(1), Datum::Int8(1), Datum::Int8(1), Datum::Int8(0)],
        vec![N, Datum::Int8(2), Datum::Int8(2), Datum::Int8(1), Datum::Int8(2)],
    ];
    for strategy in [AggStrategy::Hashed, AggStrategy::Sorted] {
        let f = TestFdw::new(&[("g", rows.clone())]);
        let mut input = scan(&f, "g", &[T, I, B]);
        if strategy == AggStrategy::Sorted {
            let keys = vec![SortKey { expr: col(0, T), descending: false, nulls_first: false }];
            input = plan(Node::Sort { input: Box::new(input), keys }, &[T, I, B]);
        }
        let node = Node::Aggregate {
            input: Box::new(input),
            strategy,
            group_by: vec![col(0, T)],
            aggs: vec![
                agg(AggFunc::CountStar, vec![], false, None),
                agg(AggFunc::Count, vec![col(1, I)], false, None),
                agg(AggFunc::Count, vec![col(1, I)], true, None),
                agg(AggFunc::CountStar, vec![], false, Some(col(2, B))),
            ],
        };
        let got = run(&query(plan(node, &[T, DataType::Int8, DataType::Int8, DataType::Int8, DataType::Int8])));
        assert_eq!(sorted(got), sorted(want.clone()), "{strategy:?}");
    }
}

#[test]
fn distinct_hashed_and_sorted_treat_nulls_as_equal() {
    let rows = vec![vec![i(1), N], vec![N, N], vec![i(1), N], vec![N, N], vec![i(1), i(2)], vec![N, i(2)]];
    let want = sorted(vec![vec![i(1), N], vec![N, N], vec![i(1), i(2)], vec![N, i(2)]]);
    for sorted_input in [false, true] {
        let f = TestFdw::new(&[("d", rows.clone())]);
        let mut input = scan(&f, "d", &[I, I]);
        if sorted_input {
            let keys = vec![key(0, false, false), key(1, false, false)];
            input = plan(Node::Sort { input: Box::new(input), keys }, &[I, I]);
        }
        let got = run(&query(plan(Node::Distinct { input: Box::new(input), sorted: sorted_input }, &[I, I])));
        assert_eq!(sorted(got), want, "sorted={sorted_input}");
    }
}

#[test]
fn set_operations_follow_duplicate_count_semantics() {
    // left: 1,1,1,2,NULL,NULL,3   right: 1,2,2,NULL,4
    let l: Vec<Row> = [i(1), i(1), i(1), i(2), N, N, i(3)].into_iter().map(|d| vec![d]).collect();
    let r: Vec<Row> = [i(1), i(2), i(2), N, i(4)].into_iter().map(|d| vec![d]).collect();
    let v = |ds: Vec<Datum>| sorted(ds.into_iter().map(|d| vec![d]).collect());
    let cases = [
        (SetOpKind::Union, false, v(vec![i(1), i(2), i(3), i(4), N])),
        (SetOpKind::Union, true, v(vec![i(1), i(1), i(1), i(2), N, N, i(3), i(1), i(2), i(2), N, i(4)])),
        (SetOpKind::Intersect, false, v(vec![i(1), i(2), N])),
        (SetOpKind::Intersect, true, v(vec![i(1), i(2), N])),
        (SetOpKind::Except, false, v(vec![i(3)])),
        (SetOpKind::Except, true, v(vec![i(1), i(1), N, i(3)])),
    ];
    for (kind, all, want) in cases {
        let f = TestFdw::new(&[("l", l.clone()), ("r", r.clone())]);
        let node = Node::SetOp { kind, all, left: Box::new(scan(&f, "l", &[I])), right: Box::new(scan(&f, "r", &[I])) };
        assert_eq!(sorted(run(&query(plan(node, &[I])))), want, "{kind:?} all={all}");
    }
}

#[test]
fn append_concatenates_in_order() {
    let f = TestFdw::new(&[("a", vec![vec![i(1)], vec![i(2)], vec![i(3)]]), ("b", vec![]), ("c", vec![vec![i(9)]])]);
    let node = Node::Append { inputs: vec![scan(&f, "a", &[I]), scan(&f, "b", &[I]), scan(&f, "c", &[I])] };
    assert_eq!(run(&query(plan(node, &[I]))), vec![vec![i(1)], vec![i(2)], vec![i(3)], vec![i(9)]]);
}

fn modify(f: &std::sync::Arc<TestFdw>, kind: fdw_api::ModifyKind, input: Plan, returning: Option<Vec<Expr>>) -> Plan {
    let types = if returning.is_some() { vec![I] } else { vec![DataType::Int8] };
    let node = ModifyNode {
        kind,
        wrapper: std::sync::Arc::new(Handle(f.clone())),
        table: table("w", &[I, T], &[]),
        input: Box::new(input),
        returning,
        direct: None,
    };
    plan(Node::Modify(node), &types)
}

#[test]
fn insert_update_delete_through_the_modify_routine() {
    use fdw_api::ModifyKind::*;
    let f = TestFdw::writable(&[("w", vec![vec![i(1), t("one")]])]);
    let values = plan(
        Node::Values {
            rows: vec![
                vec![Expr::constant(i(2), I), Expr::constant(t("two"), T)],
                vec![Expr::constant(i(3), I), Expr::constant(t("three"), T)],
            ],
        },
        &[I, T],
    );
    assert_eq!(run(&query(modify(&f, Insert, values.clone(), None))), vec![vec![Datum::Int8(2)]]);
    assert_eq!(run(&query(modify(&f, Insert, values, Some(vec![col(0, I)])))), vec![vec![i(2)], vec![i(3)]]);
    assert_eq!(f.rows("w").len(), 5);

    // UPDATE w SET c1 = 'x' WHERE c0 = 2 RETURNING c0: new row ++ row id.
    let s = scan_opts(&f, "w", &[I, T], &[], vec![], true);
    let only2 = plan(
        Node::Filter { input: Box::new(s), predicate: bin(BinaryOp::Eq, col(0, I), Expr::constant(i(2), I)) },
        &[I, T, DataType::Int8],
    );
    let newrow = plan(
        Node::Project {
            input: Box::new(only2),
            exprs: vec![col(0, I), Expr::constant(t("x"), T), col(2, DataType::Int8)],
        },
        &[I, T, DataType::Int8],
    );
    assert_eq!(run(&query(modify(&f, Update, newrow, Some(vec![col(0, I)])))), vec![vec![i(2)], vec![i(2)]]);
    assert_eq!(f.rows("w").iter().filter(|r| r[1] == t("x")).count(), 2);

    // DELETE FROM w (row id only): count of deleted rows.
    let s = scan_opts(&f, "w", &[I, T], &[], vec![], true);
    let ids = plan(Node::Project { input: Box::new(s), exprs: vec![col(2, DataType::Int8)] }, &[DataType::Int8]);
    assert_eq!(run(&query(modify(&f, Delete, ids, None))), vec![vec![Datum::Int8(5)]]);
    assert!(f.rows("w").is_empty());
}

#[test]
fn modify_without_a_modify_routine_fails_like_postgres() {
    use fdw_api::ModifyKind::*;
    for (kind, msg) in [
        (Insert, "cannot insert into foreign table \"w\""),
        (Update, "cannot update foreign table \"w\""),
        (Delete, "cannot delete from foreign table \"w\""),
    ] {
        let f = TestFdw::new(&[("w", vec![])]);
        let e = run_err(&query(modify(&f, kind, plan(Node::Values { rows: vec![] }, &[I, T]), None)));
        assert_eq!((e.sqlstate, e.message.as_str()), (SqlState::FEATURE_NOT_SUPPORTED, msg));
    }
}

#[test]
fn explain_analyze_counts_rows_and_loops_in_pre_order() {
    let (_f, s) = src();
    let filtered = plan(Node::Filter { input: Box::new(s), predicate: col(2, B) }, &[I, T, B]);
    let limited = plan(Node::Limit { input: Box::new(filtered), limit: Some(int(2)), offset: None }, &[I, T, B]);
    let (rows, stats) = run_analyze(&query(limited));
    assert_eq!(rows.len(), 2);
    assert_eq!(stats.iter().map(|s| (s.rows, s.loops)).collect::<Vec<_>>(), vec![(2, 1), (2, 1), (3, 1)]);
    assert!(stats.iter().all(|s| s.total_ms >= s.startup_ms && s.startup_ms >= 0.0));
}
