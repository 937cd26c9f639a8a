//! Joins: every join type for each of the three algorithms, over keys with duplicates and
//! NULLs; parameterized nested loops; materialized inner sides; the memory limit.

use std::sync::Arc;

use fdw_api::{BinaryOp, DataType, Expr, Row, SqlState};

use super::*;
use crate::plan::physical::{JoinType, SortKey};

fn left_rows() -> Vec<Row> {
    vec![vec![i(1), t("a")], vec![i(2), t("b")], vec![i(2), t("b2")], vec![N, t("n")], vec![i(4), t("d")]]
}

fn right_rows() -> Vec<Row> {
    vec![vec![i(2), t("X")], vec![i(2), t("Y")], vec![i(3), t("Z")], vec![N, t("M")], vec![i(4), t("W")]]
}

fn fdw() -> Arc<TestFdw> {
    TestFdw::new(&[("l", left_rows()), ("r", right_rows())])
}

fn out_types(jt: JoinType) -> Vec<DataType> {
    if jt.emits_inner() {
        vec![I, T, I, T]
    } else {
        vec![I, T]
    }
}

fn inner_matches() -> Vec<Row> {
    vec![
        vec![i(2), t("b"), i(2), t("X")],
        vec![i(2), t("b"), i(2), t("Y")],
        vec![i(2), t("b2"), i(2), t("X")],
        vec![i(2), t("b2"), i(2), t("Y")],
        vec![i(4), t("d"), i(4), t("W")],
    ]
}

/// `l JOIN r ON l.a = r.b` for each join type, derived by hand (and as PostgreSQL answers).
fn expected(jt: JoinType) -> Vec<Row> {
    let left_extra = vec![vec![i(1), t("a"), N, N], vec![N, t("n"), N, N]];
    let right_extra = vec![vec![N, N, i(3), t("Z")], vec![N, N, N, t("M")]];
    let rows = match jt {
        JoinType::Inner => inner_matches(),
        JoinType::Left => [inner_matches(), left_extra].concat(),
        JoinType::Right => [inner_matches(), right_extra].concat(),
        JoinType::Full => [inner_matches(), left_extra, right_extra].concat(),
        JoinType::Semi => vec![vec![i(2), t("b")], vec![i(2), t("b2")], vec![i(4), t("d")]],
        JoinType::Anti => vec![vec![i(1), t("a")], vec![N, t("n")]],
    };
    sorted(rows)
}

const ALL: [JoinType; 6] =
    [JoinType::Inner, JoinType::Left, JoinType::Right, JoinType::Full, JoinType::Semi, JoinType::Anti];

fn sort_on_first(p: Plan, types: &[DataType]) -> Plan {
    let keys = vec![SortKey { expr: col(0, I), descending: false, nulls_first: false }];
    plan(Node::Sort { input: Box::new(p), keys }, types)
}

/// `l JOIN r ON l.0 = r.0` (plus `qual`) as a hash join.
fn hash_join_on_first_columns(join_type: JoinType, qual: Option<Expr>, build_outer: bool) -> Node {
    let f = fdw();
    Node::HashJoin {
        outer: Box::new(scan(&f, "l", &[I, T])),
        inner: Box::new(scan(&f, "r", &[I, T])),
        join_type,
        outer_keys: vec![col(0, I)],
        inner_keys: vec![col(0, I)],
        qual,
        build_outer,
    }
}

#[test]
fn hash_join_every_type_with_duplicates_and_null_keys() {
    // Semi and anti joins also with the outer side hashed (`Hash Right Semi/Anti Join`).
    let variants = ALL.into_iter().map(|jt| (jt, false)).chain([(JoinType::Semi, true), (JoinType::Anti, true)]);
    for (jt, build_outer) in variants {
        let node = hash_join_on_first_columns(jt, None, build_outer);
        let got = run(&query(plan(node, &out_types(jt))));
        assert_eq!(sorted(got), expected(jt), "hash join {jt:?}, build_outer {build_outer}");
    }
}

/// Semi and anti joins with a qual beyond the keys: the same rows whichever side is hashed,
/// and (outer side hashed) in the outer side's order.
#[test]
fn semi_and_anti_join_quals_hold_whichever_side_is_hashed() {
    let qual = bin(BinaryOp::NotEq, col(3, T), Expr::constant(t("Y"), T));
    for jt in [JoinType::Semi, JoinType::Anti] {
        let mut answers = Vec::new();
        for build_outer in [false, true] {
            let node = hash_join_on_first_columns(jt, Some(qual.clone()), build_outer);
            answers.push(run(&query(plan(node, &[I, T]))));
        }
        let nested = Node::NestedLoop {
            outer: Box::new(scan(&fdw(), "l", &[I, T])),
            inner: Box::new(scan(&fdw(), "r", &[I, T])),
            join_type: jt,
            qual: Some(bin(BinaryOp::And, bin(BinaryOp::Eq, col(0, I), col(2, I)), qual.clone())),
            params: vec![],
        };
        let want = run(&query(plan(nested, &[I, T])));
        assert!(!want.is_empty(), "{jt:?}");
        assert_eq!(answers[1], want, "{jt:?}: outer side hashed, in outer order");
        assert_eq!(sorted(answers[0].clone()), sorted(want), "{jt:?}: inner side hashed");
    }
}

#[test]
fn merge_join_every_type_with_duplicates_and_null_keys() {
    for jt in ALL {
        let f = fdw();
        let node = Node::MergeJoin {
            outer: Box::new(sort_on_first(scan(&f, "l", &[I, T]), &[I, T])),
            inner: Box::new(sort_on_first(scan(&f, "r", &[I, T]), &[I, T])),
            join_type: jt,
            outer_keys: vec![col(0, I)],
            inner_keys: vec![col(0, I)],
            qual: None,
        };
        let got = run(&query(plan(node, &out_types(jt))));
        assert_eq!(sorted(got), expected(jt), "merge join {jt:?}");
    }
}

#[test]
fn nested_loop_every_type_with_a_qual() {
    for jt in ALL {
        let f = fdw();
        let node = Node::NestedLoop {
            outer: Box::new(scan(&f, "l", &[I, T])),
            inner: Box::new(scan(&f, "r", &[I, T])),
            join_type: jt,
            qual: Some(bin(BinaryOp::Eq, col(0, I), col(2, I))),
            params: vec![],
        };
        let got = run(&query(plan(node, &out_types(jt))));
        assert_eq!(sorted(got), expected(jt), "nested loop {jt:?}");
    }
}

/// The extra qual decides matches: `ON l.a = r.b AND r.y <> 'Y'`.
#[test]
fn join_quals_decide_matches_for_outer_joins() {
    let qual = bin(BinaryOp::NotEq, col(3, T), Expr::constant(t("Y"), T));
    let matches =
        vec![vec![i(2), t("b"), i(2), t("X")], vec![i(2), t("b2"), i(2), t("X")], vec![i(4), t("d"), i(4), t("W")]];
    let right_extra = vec![vec![N, N, i(2), t("Y")], vec![N, N, i(3), t("Z")], vec![N, N, N, t("M")]];
    for merge in [false, true] {
        let f = fdw();
        let (outer, inner) = if merge {
            (sort_on_first(scan(&f, "l", &[I, T]), &[I, T]), sort_on_first(scan(&f, "r", &[I, T]), &[I, T]))
        } else {
            (scan(&f, "l", &[I, T]), scan(&f, "r", &[I, T]))
        };
        let make = |outer: Plan, inner: Plan| {
            let (outer, inner) = (Box::new(outer), Box::new(inner));
            let (outer_keys, inner_keys, qual) = (vec![col(0, I)], vec![col(0, I)], Some(qual.clone()));
            let join_type = JoinType::Right;
            if merge {
                Node::MergeJoin { outer, inner, join_type, outer_keys, inner_keys, qual }
            } else {
                Node::HashJoin { outer, inner, join_type, outer_keys, inner_keys, qual, build_outer: false }
            }
        };
        let got = run(&query(plan(make(outer, inner), &[I, T, I, T])));
        assert_eq!(sorted(got), sorted([matches.clone(), right_extra.clone()].concat()), "merge={merge}");
    }
}

#[test]
fn parameterized_nested_loop_rescans_the_inner_side_with_outer_values() {
    let lf = TestFdw::new(&[("l", left_rows())]);
    let rf = TestFdw::new(&[("r", right_rows())]);
    for jt in [JoinType::Inner, JoinType::Left, JoinType::Anti] {
        let inner = scan_opts(&rf, "r", &[I, T], &[("param_filter", "0:0")], vec![0], false);
        let node = Node::NestedLoop {
            outer: Box::new(scan(&lf, "l", &[I, T])),
            inner: Box::new(inner),
            join_type: jt,
            qual: None,
            params: vec![(0, col(0, I))],
        };
        let mut q = query(plan(node, &out_types(jt)));
        q.num_params = 1;
        assert_eq!(sorted(run(&q)), expected(jt), "{jt:?}");
    }
    let log = rf.log.lock().unwrap();
    // Per execution: opened for the first outer row, rescanned for the four others.
    assert_eq!((log.begins, log.rescans, log.ends), (3, 12, 3));
    assert_eq!(&log.params[..4], &[i(2), i(2), N, i(4)]);
}

#[test]
fn materialize_replays_the_inner_side_on_rescan() {
    let lf = TestFdw::new(&[("l", left_rows())]);
    let rf = TestFdw::new(&[("r", right_rows())]);
    let node = Node::NestedLoop {
        outer: Box::new(scan(&lf, "l", &[I, T])),
        inner: Box::new(plan(Node::Materialize { input: Box::new(scan(&rf, "r", &[I, T])) }, &[I, T])),
        join_type: JoinType::Inner,
        qual: None,
        params: vec![],
    };
    let got = run(&query(plan(node, &[I, T, I, T])));
    assert_eq!(got.len(), 25, "cross join of 5 x 5");
    assert_eq!(&got[..5].iter().map(|r| r[3].clone()).collect::<Vec<_>>(), &[t("X"), t("Y"), t("Z"), t("M"), t("W")]);
    let log = rf.log.lock().unwrap();
    assert_eq!((log.begins, log.rescans), (1, 0), "inner scan read once");
}

#[test]
fn hash_join_fails_cleanly_past_the_memory_limit() {
    let f = fdw();
    let node = Node::HashJoin {
        outer: Box::new(scan(&f, "l", &[I, T])),
        inner: Box::new(scan(&f, "r", &[I, T])),
        join_type: JoinType::Inner,
        outer_keys: vec![col(0, I)],
        inner_keys: vec![col(0, I)],
        qual: None,
        build_outer: false,
    };
    let err = run_with(&query(plan(node, &[I, T, I, T])), &ExecOptions { memory_limit: 200 }).unwrap_err();
    assert_eq!(err.sqlstate, SqlState::OUT_OF_MEMORY);
    assert_eq!(err.message, "out of memory for query");
    let detail = err.detail.unwrap_or_default();
    assert!(detail.contains("hash join table") && detail.contains("(200 bytes)"), "{detail}");
    // Every scan was ended despite the error.
    let log = f.log.lock().unwrap();
    assert_eq!(log.begins, log.ends);
}

#[test]
fn hash_join_with_empty_inner_skips_the_outer_side() {
    let lf = TestFdw::new(&[("l", left_rows())]);
    let rf = TestFdw::new(&[("r", vec![])]);
    let node = Node::HashJoin {
        outer: Box::new(scan(&lf, "l", &[I, T])),
        inner: Box::new(scan(&rf, "r", &[I, T])),
        join_type: JoinType::Inner,
        outer_keys: vec![col(0, I)],
        inner_keys: vec![col(0, I)],
        qual: None,
        build_outer: false,
    };
    let (rows, stats) = run_analyze(&query(plan(node, &[I, T, I, T])));
    assert!(rows.is_empty());
    assert_eq!(stats.len(), 3);
    assert_eq!(stats[1].loops, 0, "outer never executed");
    assert_eq!(stats[2].loops, 1);
}

/// Under a nested loop, a hash join whose inner side reads no outer parameter keeps its
/// table across rescans: only the probe side is rescanned.
#[test]
fn hash_table_survives_rescans_when_the_inner_side_is_parameter_free() {
    let of = TestFdw::new(&[("o", vec![vec![i(1)], vec![i(2)], vec![i(3)]])]);
    let pf = TestFdw::new(&[("l", left_rows())]);
    let bf = TestFdw::new(&[("r", right_rows())]);
    let hj = plan(
        Node::HashJoin {
            outer: Box::new(scan(&pf, "l", &[I, T])),
            inner: Box::new(scan(&bf, "r", &[I, T])),
            join_type: JoinType::Full,
            outer_keys: vec![col(0, I)],
            inner_keys: vec![col(0, I)],
            qual: None,
            build_outer: false,
        },
        &[I, T, I, T],
    );
    let node = Node::NestedLoop {
        outer: Box::new(scan(&of, "o", &[I])),
        inner: Box::new(hj),
        join_type: JoinType::Inner,
        qual: None,
        params: vec![],
    };
    let got = run(&query(plan(node, &[I, I, T, I, T])));
    // Each outer row sees the whole full join again (matched flags reset on rescan).
    assert_eq!(got.len(), 3 * expected(JoinType::Full).len());
    let third: Vec<Row> = got.iter().filter(|r| r[0] == i(3)).map(|r| r[1..].to_vec()).collect();
    assert_eq!(sorted(third), expected(JoinType::Full));
    let log = bf.log.lock().unwrap();
    assert_eq!((log.begins, log.rescans), (1, 0));
    assert_eq!(pf.log.lock().unwrap().rescans, 2);
}

/// A Materialize whose input reads an outer parameter must not replay stale rows.
#[test]
fn materialize_over_a_parameterized_input_reruns_it() {
    let lf = TestFdw::new(&[("l", left_rows())]);
    let rf = TestFdw::new(&[("r", right_rows())]);
    let inner = scan_opts(&rf, "r", &[I, T], &[("param_filter", "0:0")], vec![0], false);
    let node = Node::NestedLoop {
        outer: Box::new(scan(&lf, "l", &[I, T])),
        inner: Box::new(plan(Node::Materialize { input: Box::new(inner) }, &[I, T])),
        join_type: JoinType::Left,
        qual: None,
        params: vec![(0, col(0, I))],
    };
    let mut q = query(plan(node, &[I, T, I, T]));
    q.num_params = 1;
    assert_eq!(sorted(run(&q)), expected(JoinType::Left));
    assert_eq!(rf.log.lock().unwrap().rescans, 4);
}

/// Merge join on two keys where NULLs sit between non-NULL keys in the sort order.
#[test]
fn merge_join_on_two_keys_with_interleaved_nulls() {
    let l = vec![vec![i(1), N], vec![i(1), i(1)], vec![i(1), i(1)], vec![i(2), i(0)], vec![N, i(1)]];
    let r = vec![vec![i(1), N], vec![i(1), i(1)], vec![i(2), i(0)], vec![i(2), i(0)], vec![N, i(1)]];
    let f = TestFdw::new(&[("l", l), ("r", r)]);
    let sort2 = |p: Plan| {
        let keys = (0..2).map(|c| SortKey { expr: col(c, I), descending: false, nulls_first: false }).collect();
        plan(Node::Sort { input: Box::new(p), keys }, &[I, I])
    };
    let node = Node::MergeJoin {
        outer: Box::new(sort2(scan(&f, "l", &[I, I]))),
        inner: Box::new(sort2(scan(&f, "r", &[I, I]))),
        join_type: JoinType::Full,
        outer_keys: vec![col(0, I), col(1, I)],
        inner_keys: vec![col(0, I), col(1, I)],
        qual: None,
    };
    let got = run(&query(plan(node, &[I, I, I, I])));
    let want = vec![
        vec![i(1), i(1), i(1), i(1)],
        vec![i(1), i(1), i(1), i(1)],
        vec![i(2), i(0), i(2), i(0)],
        vec![i(2), i(0), i(2), i(0)],
        vec![i(1), N, N, N],
        vec![N, i(1), N, N],
        vec![N, N, i(1), N],
        vec![N, N, N, i(1)],
    ];
    assert_eq!(sorted(got), sorted(want));
}
