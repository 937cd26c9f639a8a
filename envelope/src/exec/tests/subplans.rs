//! Sub-plans: scalar, EXISTS, ANY/ALL (three-valued), correlated through parameters,
//! uncorrelated ones computed once.

use fdw_api::{BinaryOp, DataType, Datum, Expr, Row, SqlState, SubLinkKind};

use super::*;
use crate::plan::physical::SubPlanDef;

fn outer_rows() -> Vec<Row> {
    vec![vec![i(1)], vec![i(2)], vec![N], vec![i(4)]]
}

fn subplan_expr(id: usize, kind: SubLinkKind, args: Vec<Expr>, lhs: Option<Expr>) -> Expr {
    let ty = if kind == SubLinkKind::Scalar { I } else { B };
    Expr::SubPlan { id, kind, args, lhs: lhs.map(Box::new), ty }
}

/// `SELECT a, <expr> FROM o` with the given sub-plans.
fn select(f: &std::sync::Arc<TestFdw>, expr: Expr, subplans: Vec<SubPlanDef>, num_params: usize) -> PhysicalQuery {
    let ty = expr.data_type();
    let root = plan(Node::Project { input: Box::new(scan(f, "o", &[I])), exprs: vec![col(0, I), expr] }, &[I, ty]);
    PhysicalQuery { root, subplans, num_params }
}

fn def(plan: Plan, kind: SubLinkKind, param_ids: Vec<usize>, test: Option<Expr>, correlated: bool) -> SubPlanDef {
    SubPlanDef { plan, kind, param_ids, test, test_param: 1, correlated }
}

fn second(rows: Vec<Row>) -> Vec<Datum> {
    rows.into_iter().map(|r| r[1].clone()).collect()
}

#[test]
fn uncorrelated_scalar_runs_once() {
    let f = TestFdw::new(&[("o", outer_rows())]);
    let sf = TestFdw::new(&[("s", vec![vec![i(42)]])]);
    let q = select(
        &f,
        subplan_expr(0, SubLinkKind::Scalar, vec![], None),
        vec![def(scan(&sf, "s", &[I]), SubLinkKind::Scalar, vec![], None, false)],
        0,
    );
    assert_eq!(second(run(&q)), vec![i(42); 4]);
    let log = sf.log.lock().unwrap();
    assert_eq!((log.begins, log.rescans, log.ends), (1, 0, 1));
}

#[test]
fn scalar_subplan_with_no_row_is_null_and_with_two_rows_fails() {
    let f = TestFdw::new(&[("o", outer_rows())]);
    let sf = TestFdw::new(&[("none", vec![]), ("two", vec![vec![i(1)], vec![i(2)]])]);
    let q = select(
        &f,
        subplan_expr(0, SubLinkKind::Scalar, vec![], None),
        vec![def(scan(&sf, "none", &[I]), SubLinkKind::Scalar, vec![], None, false)],
        0,
    );
    assert_eq!(second(run(&q)), vec![N; 4]);
    let q = select(
        &f,
        subplan_expr(0, SubLinkKind::Scalar, vec![], None),
        vec![def(scan(&sf, "two", &[I]), SubLinkKind::Scalar, vec![], None, false)],
        0,
    );
    let e = run_err(&q);
    assert_eq!(e.sqlstate, SqlState::CARDINALITY_VIOLATION);
    assert_eq!(e.message, "more than one row returned by a subquery used as an expression");
}

#[test]
fn correlated_exists_rescans_with_the_outer_value() {
    let f = TestFdw::new(&[("o", outer_rows())]);
    let sf = TestFdw::new(&[("r", vec![vec![i(2)], vec![i(2)], vec![i(3)], vec![N], vec![i(4)]])]);
    let inner = scan_opts(&sf, "r", &[I], &[("param_filter", "0:0")], vec![0], false);
    let q = select(
        &f,
        subplan_expr(0, SubLinkKind::Exists, vec![col(0, I)], None),
        vec![def(inner, SubLinkKind::Exists, vec![0], None, true)],
        2,
    );
    let b = Datum::Bool;
    assert_eq!(second(run(&q)), vec![b(false), b(true), b(false), b(true)]);
    let log = sf.log.lock().unwrap();
    assert_eq!((log.begins, log.rescans), (1, 3));
    assert_eq!(log.params, vec![i(2), N, i(4)]);
}

/// `a = ANY (SELECT b FROM r)` with r = {2, 2, 3, NULL, 4}: hashed (uncorrelated) and
/// row-by-row (marked correlated) give PostgreSQL's three-valued answers.
#[test]
fn any_is_three_valued_hashed_or_not() {
    let test = bin(BinaryOp::Eq, param(1, I), col(0, I));
    for correlated in [false, true] {
        let f = TestFdw::new(&[("o", outer_rows())]);
        let sf = TestFdw::new(&[("r", vec![vec![i(2)], vec![i(2)], vec![i(3)], vec![N], vec![i(4)]])]);
        let q = select(
            &f,
            subplan_expr(0, SubLinkKind::Any, vec![], Some(col(0, I))),
            vec![def(scan(&sf, "r", &[I]), SubLinkKind::Any, vec![], Some(test.clone()), correlated)],
            2,
        );
        let b = Datum::Bool;
        assert_eq!(second(run(&q)), vec![N, b(true), N, b(true)], "correlated={correlated}");
    }
}

#[test]
fn all_is_three_valued_and_true_for_no_rows() {
    let test = bin(BinaryOp::Gt, param(1, I), col(0, I));
    let b = Datum::Bool;
    let cases = [
        (vec![i(1), i(2)], vec![b(false), b(false), N, b(true)]),
        (vec![i(1), N], vec![b(false), N, N, N]),
        (vec![], vec![b(true); 4]),
    ];
    for (set, want) in cases {
        let f = TestFdw::new(&[("o", outer_rows())]);
        let sf = TestFdw::new(&[("r", set.into_iter().map(|d| vec![d]).collect())]);
        let q = select(
            &f,
            subplan_expr(0, SubLinkKind::All, vec![], Some(col(0, I))),
            vec![def(scan(&sf, "r", &[I]), SubLinkKind::All, vec![], Some(test.clone()), false)],
            2,
        );
        assert_eq!(second(run(&q)), want);
    }
}

/// A correlated scalar sub-select over an aggregate: `(SELECT count(*) FROM r WHERE b = o.a)`.
#[test]
fn correlated_scalar_over_an_aggregate() {
    use crate::plan::physical::{AggCall, AggStrategy};
    let f = TestFdw::new(&[("o", outer_rows())]);
    let sf = TestFdw::new(&[("r", vec![vec![i(2)], vec![i(2)], vec![i(3)], vec![N], vec![i(4)]])]);
    let inner = scan_opts(&sf, "r", &[I], &[("param_filter", "0:0")], vec![0], false);
    let count = AggCall {
        func: fdw_api::AggFunc::CountStar,
        args: vec![],
        distinct: false,
        filter: None,
        arg_type: DataType::Int8,
        ret: DataType::Int8,
    };
    let agg = plan(
        Node::Aggregate { input: Box::new(inner), strategy: AggStrategy::Plain, group_by: vec![], aggs: vec![count] },
        &[DataType::Int8],
    );
    let q = select(
        &f,
        subplan_expr(0, SubLinkKind::Scalar, vec![col(0, I)], None),
        vec![def(agg, SubLinkKind::Scalar, vec![0], None, true)],
        2,
    );
    let n = Datum::Int8;
    assert_eq!(second(run(&q)), vec![n(0), n(2), n(0), n(1)]);
}

#[test]
fn explain_analyze_reports_sub_plan_nodes_after_the_main_tree() {
    let f = TestFdw::new(&[("o", outer_rows())]);
    let sf = TestFdw::new(&[("r", vec![vec![i(2)], vec![i(4)]])]);
    let inner = scan_opts(&sf, "r", &[I], &[("param_filter", "0:0")], vec![0], false);
    let q = select(
        &f,
        subplan_expr(0, SubLinkKind::Exists, vec![col(0, I)], None),
        vec![def(inner, SubLinkKind::Exists, vec![0], None, true)],
        2,
    );
    let (rows, stats) = run_analyze(&q);
    assert_eq!(rows.len(), 4);
    let summary: Vec<(u64, u64)> = stats.iter().map(|s| (s.rows, s.loops)).collect();
    // Project, its scan, then the sub-plan's scan: run once per outer row, 2 rows found.
    assert_eq!(summary, vec![(4, 1), (4, 1), (2, 4)]);
}

/// `string_agg(DISTINCT x, ',')` feeds distinct values in ascending order, as PostgreSQL.
#[test]
fn distinct_aggregate_input_is_sorted() {
    use crate::plan::physical::{AggCall, AggStrategy};
    let f = TestFdw::new(&[("s", ["pear", "apple", "fig", "apple", "pear"].iter().map(|s| vec![t(s)]).collect())]);
    let call = AggCall {
        func: fdw_api::AggFunc::StringAgg,
        args: vec![col(0, T), Expr::constant(t(","), T)],
        distinct: true,
        filter: None,
        arg_type: T,
        ret: T,
    };
    let node = Node::Aggregate {
        input: Box::new(scan(&f, "s", &[T])),
        strategy: AggStrategy::Plain,
        group_by: vec![],
        aggs: vec![call],
    };
    assert_eq!(run(&query(plan(node, &[T]))), vec![vec![t("apple,fig,pear")]]);
}
