//! Paths, costs and labels offered to the planner.

use super::*;
use fdw_api::{BinaryOp, QualSupport};

fn big(db: &Db, n: i64) -> Arc<TableDesc> {
    let t = accounts(db, "accounts");
    db.autocommit(|c| db.insert(c, &t, (0..n).map(|i| row3(i, i % 100, "x")).collect())).unwrap();
    t
}

#[test]
fn point_lookup_is_far_cheaper_than_a_seq_scan() {
    let db = Db::new();
    let t = big(&db, 10_000);
    let rel = db.rel(&t, vec![cmp(0, BinaryOp::Eq, 42)], vec![]);
    let size = db.fdw.get_rel_size(&rel).unwrap();
    assert_eq!(size.total_rows, 10_000.0);
    assert_eq!(size.rows, 1.0);
    let paths = db.fdw.get_paths(&rel, &size).unwrap();
    let seq = paths.iter().find(|p| p.label.as_deref() == Some("Seq Scan")).unwrap();
    let best = paths.iter().min_by(|a, b| a.cost.total.total_cmp(&b.cost.total)).unwrap();
    assert_eq!(best.label.as_deref(), Some("Index Scan using accounts_pkey"));
    assert_eq!(best.qual_support, vec![QualSupport::Exact]);
    assert!(best.cost.total * 100.0 < seq.cost.total, "{:?} vs {:?}", best.cost, seq.cost);
    let c = ctx(next_xid(), IsolationLevel::ReadCommitted);
    assert_eq!(db.scan_path(&c, &rel, best.clone(), false, &[]).unwrap(), vec![row3(42, 42, "x")]);
    let explain = db.fdw.explain_scan(
        &ScanRequest {
            table: t.clone(),
            columns: vec![0],
            quals: rel.quals.clone(),
            param_quals: vec![],
            want_row_id: false,
            path: best.clone(),
            limit: None,
        },
        false,
    );
    assert_eq!(explain, vec![("Index Cond".to_string(), "(id = 42)".to_string())]);
}

#[test]
fn sorted_paths_match_useful_orders() {
    let db = Db::new();
    let t = big(&db, 100);
    let asc = vec![PathKey { column: 0, descending: false, nulls_first: false }];
    let desc = vec![PathKey { column: 0, descending: true, nulls_first: true }];
    let odd = vec![PathKey { column: 0, descending: false, nulls_first: true }];
    let rel = db.rel(&t, vec![], vec![asc.clone(), desc.clone(), odd.clone()]);
    let size = db.fdw.get_rel_size(&rel).unwrap();
    let paths = db.fdw.get_paths(&rel, &size).unwrap();
    assert!(paths.iter().any(|p| p.pathkeys == asc && p.label.as_deref() == Some("Index Scan using accounts_pkey")));
    assert!(paths
        .iter()
        .any(|p| p.pathkeys == desc && p.label.as_deref() == Some("Index Scan Backward using accounts_pkey")));
    assert!(!paths.iter().any(|p| p.pathkeys == odd), "ASC NULLS FIRST is not an index order");
    // v = const fixes v, so an order on (v, id) comes from the (v) index (then row id order
    // is not id order, so only v alone).
    let v_order = vec![PathKey { column: 1, descending: false, nulls_first: false }];
    let rel = db.rel(&t, vec![], vec![v_order.clone()]);
    let size = db.fdw.get_rel_size(&rel).unwrap();
    let p = db.fdw.get_paths(&rel, &size).unwrap().into_iter().find(|p| p.pathkeys == v_order).unwrap();
    let c = ctx(next_xid(), IsolationLevel::ReadCommitted);
    let vs: Vec<i64> = db.scan_path(&c, &rel, p, false, &[]).unwrap().iter().map(|r| r[1].as_i64().unwrap()).collect();
    assert!(vs.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn parameterized_path_for_join_quals() {
    let db = Db::new();
    let t = big(&db, 1000);
    let join = Expr::Binary {
        op: BinaryOp::Eq,
        left: Box::new(colref(0)),
        right: Box::new(Expr::Param { index: 0, ty: DataType::Int8 }),
        ty: DataType::Bool,
    };
    let mut rel = db.rel(&t, vec![], vec![]);
    rel.join_quals = vec![join];
    let size = db.fdw.get_rel_size(&rel).unwrap();
    let paths = db.fdw.get_paths(&rel, &size).unwrap();
    let p = paths.iter().find(|p| p.param_quals == vec![0]).expect("parameterized path").clone();
    assert_eq!(p.rows, 1.0);
    assert_eq!(p.label.as_deref(), Some("Index Scan using accounts_pkey"));
    // The inner side of a nested loop: rescanned with each outer value.
    let c = ctx(next_xid(), IsolationLevel::ReadCommitted);
    let req = ScanRequest {
        table: t.clone(),
        columns: vec![0, 1],
        quals: vec![],
        param_quals: rel.join_quals.clone(),
        want_row_id: false,
        path: p,
        limit: None,
    };
    let mut scan = db.fdw.begin_scan(&req, &c).unwrap();
    for outer in [5i64, 977, 5000, 0] {
        scan.rescan(&[int(outer)]).unwrap();
        let mut b = RowBatch::new();
        while scan.next_batch(&mut b, &[int(outer)]).unwrap() {}
        let want: Vec<Row> = if outer < 1000 { vec![vec![int(outer), int(outer % 100)]] } else { vec![] };
        assert_eq!(b.rows, want);
    }
}

#[test]
fn multi_column_prefix_and_range() {
    let db = Db::new();
    let t = table_desc(
        "mc",
        vec![col("a", DataType::Int4, true), col("b", DataType::Int4, true), col("c", DataType::Text, false)],
        vec![index("mc_pkey", "mc", &[0, 1], true, true)],
    );
    db.create(&t);
    db.autocommit(|c| {
        let rows = (0..10).flat_map(|a| (0..10).map(move |b| vec![Datum::Int4(a), Datum::Int4(b), Datum::text("x")]));
        db.insert(c, &t, rows.collect())
    })
    .unwrap();
    let q = |col: usize, op, v: i32| Expr::Binary {
        op,
        left: Box::new(Expr::column(col, DataType::Int4)),
        right: Box::new(Expr::constant(Datum::Int4(v), DataType::Int4)),
        ty: DataType::Bool,
    };
    let rel = db.rel(&t, vec![q(0, BinaryOp::Eq, 3), q(1, BinaryOp::Gt, 6)], vec![]);
    let p = db.path(&rel, None);
    assert_eq!(p.label.as_deref(), Some("Index Scan using mc_pkey"));
    let c = ctx(next_xid(), IsolationLevel::ReadCommitted);
    let got: Vec<(i64, i64)> = db
        .scan_path(&c, &rel, p, false, &[])
        .unwrap()
        .iter()
        .map(|r| (r[0].as_i64().unwrap(), r[1].as_i64().unwrap()))
        .collect();
    assert_eq!(got, vec![(3, 7), (3, 8), (3, 9)]);
    // Unique full key: exactly one row estimated.
    let rel = db.rel(&t, vec![q(0, BinaryOp::Eq, 3), q(1, BinaryOp::Eq, 4)], vec![]);
    assert_eq!(db.path(&rel, None).rows, 1.0);
}

#[test]
fn residual_quals_are_enforced_by_the_scan() {
    let db = Db::new();
    let t = big(&db, 200);
    let text_eq = Expr::Binary {
        op: BinaryOp::Eq,
        left: Box::new(Expr::column(2, DataType::Text)),
        right: Box::new(Expr::constant(Datum::text("x"), DataType::Text)),
        ty: DataType::Bool,
    };
    // id < 50 bounds the index; v > 40 and s = 'x' are filtered inside the scan.
    let quals = vec![cmp(0, BinaryOp::Lt, 50), cmp(1, BinaryOp::Gt, 40), text_eq];
    let rel = db.rel(&t, quals, vec![]);
    let p = db.path(&rel, Some("Index Scan using accounts_pkey"));
    assert!(p.qual_support.iter().all(|s| *s == QualSupport::Exact));
    let c = ctx(next_xid(), IsolationLevel::ReadCommitted);
    assert_eq!(ids(&db.scan_path(&c, &rel, p.clone(), false, &[]).unwrap()), (41..50).collect::<Vec<_>>());
    let lines = db.fdw.explain_scan(
        &ScanRequest {
            table: t.clone(),
            columns: vec![0],
            quals: rel.quals.clone(),
            param_quals: vec![],
            want_row_id: false,
            path: p,
            limit: None,
        },
        false,
    );
    assert_eq!(lines[0], ("Index Cond".to_string(), "(id < 50)".to_string()));
    assert_eq!(lines[1], ("Filter".to_string(), "((v > 40) AND (s = 'x'::text))".to_string()));
    // A parameter in a residual qual ($1), seq scan.
    let q = Expr::Binary {
        op: BinaryOp::Lt,
        left: Box::new(colref(1)),
        right: Box::new(Expr::Param { index: 0, ty: DataType::Int8 }),
        ty: DataType::Bool,
    };
    let rel = db.rel(&t, vec![q], vec![]);
    let p = db.path(&rel, Some("Seq Scan"));
    assert_eq!(db.scan_path(&c, &rel, p, false, &[int(2)]).unwrap().len(), 4);
}

#[test]
fn limit_scans_validate_only_what_they_read() {
    let db = Db::new();
    let t = big(&db, 3000);
    let c = ctx(next_xid(), IsolationLevel::Serializable);
    let rel = db.rel(&t, vec![cmp(0, BinaryOp::GtEq, 0)], vec![]);
    let p = db.path(&rel, Some("Index Scan using accounts_pkey"));
    let req = ScanRequest {
        table: t.clone(),
        columns: vec![0],
        quals: rel.quals.clone(),
        param_quals: vec![],
        want_row_id: false,
        path: p,
        limit: Some(5),
    };
    let mut scan = db.fdw.begin_scan(&req, &c).unwrap();
    let mut b = RowBatch::new();
    while scan.next_batch(&mut b, &[]).unwrap() {}
    assert_eq!(ids(&b.rows), vec![0, 1, 2, 3, 4]);
    drop(scan);
    // Changes beyond the rows read are no conflict; inside they are.
    db.autocommit(|c| db.insert(c, &t, vec![row3(5000, 0, "far")])).unwrap();
    db.commit(&c).unwrap();
    let c = ctx(next_xid(), IsolationLevel::Serializable);
    let mut scan = db.fdw.begin_scan(&req, &c).unwrap();
    while scan.next_batch(&mut b, &[]).unwrap() {}
    drop(scan);
    db.autocommit(|c| {
        let r = db.lookup(c, &t, 3)?.unwrap();
        db.delete(c, &t, &r[3])
    })
    .unwrap();
    assert_eq!(db.commit(&c).unwrap_err().sqlstate, fdw_api::SqlState::T_R_SERIALIZATION_FAILURE);
}
