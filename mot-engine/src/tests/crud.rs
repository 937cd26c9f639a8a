//! Inserts, scans, updates, deletes, constraints and own-write visibility.

use super::*;
use fdw_api::{BinaryOp, SqlState};

const RC: IsolationLevel = IsolationLevel::ReadCommitted;

#[test]
fn crud_roundtrip_and_visibility() {
    let db = Db::new();
    let t = accounts(&db, "crud");
    let c1 = ctx(next_xid(), RC);
    db.insert(&c1, &t, vec![row3(1, 10, "a"), row3(2, 20, "b"), row3(3, 30, "c")]).unwrap();
    // Own writes are visible before commit, others' are not.
    assert_eq!(ids(&db.scan_all(&c1, &t).unwrap()), vec![1, 2, 3]);
    let c2 = ctx(next_xid(), RC);
    assert!(db.scan_all(&c2, &t).unwrap().is_empty());
    db.commit(&c1).unwrap();
    assert_eq!(db.scan_all(&c2, &t).unwrap().len(), 3);
    db.commit(&c2).unwrap();

    db.autocommit(|c| {
        let r = db.lookup(c, &t, 2)?.unwrap();
        db.update(c, &t, &r[3], row3(2, 21, "bb"))?;
        let r = db.lookup(c, &t, 3)?.unwrap();
        assert_eq!(db.delete(c, &t, &r[3])?, Some(row3(3, 30, "c")));
        // Reads see the private versions.
        assert_eq!(db.lookup(c, &t, 2)?.unwrap()[..3], row3(2, 21, "bb")[..]);
        assert!(db.lookup(c, &t, 3)?.is_none());
        Ok(())
    })
    .unwrap();
    let rows = db.autocommit(|c| db.scan_all(c, &t)).unwrap();
    assert_eq!(rows, vec![row3(1, 10, "a"), row3(2, 21, "bb")]);
    assert_eq!(db.fdw.engine().table(&t).unwrap().live_rows(), 2);
}

#[test]
fn aborted_writes_leave_nothing() {
    let db = Db::new();
    let t = accounts(&db, "abrt");
    db.autocommit(|c| db.insert(c, &t, vec![row3(1, 1, "x")])).unwrap();
    let c = ctx(next_xid(), RC);
    db.insert(&c, &t, vec![row3(2, 2, "y")]).unwrap();
    let r = db.lookup(&c, &t, 1).unwrap().unwrap();
    db.update(&c, &t, &r[3], row3(1, 100, "z")).unwrap();
    db.abort(&c);
    assert_eq!(db.autocommit(|c| db.scan_all(c, &t)).unwrap(), vec![row3(1, 1, "x")]);
}

#[test]
fn unique_violation_wording() {
    let db = Db::new();
    let t = accounts(&db, "t");
    db.autocommit(|c| db.insert(c, &t, vec![row3(1, 1, "x")])).unwrap();
    // Against a committed row.
    let e = db.autocommit(|c| db.insert(c, &t, vec![row3(1, 2, "y")])).unwrap_err();
    assert_eq!(e.sqlstate, SqlState::UNIQUE_VIOLATION);
    assert_eq!(e.message, "duplicate key value violates unique constraint \"t_pkey\"");
    assert_eq!(e.detail.as_deref(), Some("Key (id)=(1) already exists."));
    // Within one transaction.
    let e = db.autocommit(|c| db.insert(c, &t, vec![row3(5, 1, "x"), row3(5, 2, "y")])).unwrap_err();
    assert_eq!(e.sqlstate, SqlState::UNIQUE_VIOLATION);
    // Delete then re-insert the same key in one transaction is fine.
    db.autocommit(|c| {
        let r = db.lookup(c, &t, 1)?.unwrap();
        db.delete(c, &t, &r[3])?;
        db.insert(c, &t, vec![row3(1, 9, "again")])
    })
    .unwrap();
    assert_eq!(db.autocommit(|c| db.scan_all(c, &t)).unwrap(), vec![row3(1, 9, "again")]);
}

#[test]
fn unique_violation_found_at_commit() {
    let db = Db::new();
    let t = accounts(&db, "uc");
    let c1 = ctx(next_xid(), RC);
    let c2 = ctx(next_xid(), RC);
    db.insert(&c1, &t, vec![row3(7, 1, "one")]).unwrap();
    db.insert(&c2, &t, vec![row3(7, 2, "two")]).unwrap();
    db.commit(&c2).unwrap();
    let e = db.commit(&c1).unwrap_err();
    assert_eq!(e.sqlstate, SqlState::UNIQUE_VIOLATION);
    assert_eq!(e.detail.as_deref(), Some("Key (id)=(7) already exists."));
    assert_eq!(db.autocommit(|c| db.scan_all(c, &t)).unwrap(), vec![row3(7, 2, "two")]);
}

#[test]
fn multi_column_unique_and_nulls() {
    let db = Db::new();
    let t = table_desc(
        "u",
        vec![col("a", DataType::Int4, false), col("b", DataType::Text, false)],
        vec![index("u_a_b_key", "u", &[0, 1], true, false)],
    );
    db.create(&t);
    let r = |a: Option<i32>, b: &str| vec![a.map_or(Datum::Null, Datum::Int4), Datum::text(b)];
    // NULLs never collide.
    db.autocommit(|c| db.insert(c, &t, vec![r(None, "x"), r(None, "x"), r(Some(1), "x")])).unwrap();
    let e = db.autocommit(|c| db.insert(c, &t, vec![r(Some(1), "x")])).unwrap_err();
    assert_eq!(e.message, "duplicate key value violates unique constraint \"u_a_b_key\"");
    assert_eq!(e.detail.as_deref(), Some("Key (a, b)=(1, x) already exists."));
}

#[test]
fn not_null_wording() {
    let db = Db::new();
    let t = table_desc(
        "t",
        vec![col("id", DataType::Int4, true), col("x", DataType::Text, true), col("y", DataType::Int4, false)],
        vec![],
    );
    db.create(&t);
    let e = db.autocommit(|c| db.insert(c, &t, vec![vec![Datum::Int4(2), Datum::Null, Datum::Int4(2)]])).unwrap_err();
    assert_eq!(e.sqlstate, SqlState::NOT_NULL_VIOLATION);
    assert_eq!(e.message, "null value in column \"x\" of relation \"t\" violates not-null constraint");
    assert_eq!(e.detail.as_deref(), Some("Failing row contains (2, null, 2)."));
}

#[test]
fn index_range_scans_both_directions() {
    let db = Db::new();
    let t = accounts(&db, "rng");
    db.autocommit(|c| db.insert(c, &t, (0..100).map(|i| row3(i, i % 10, "s")).collect())).unwrap();
    let c = ctx(next_xid(), RC);
    let quals = vec![cmp(0, BinaryOp::GtEq, 10), cmp(0, BinaryOp::Lt, 20)];
    let rel = db.rel(&t, quals.clone(), vec![]);
    let p = db.path(&rel, None);
    assert_eq!(p.label.as_deref(), Some("Index Scan using rng_pkey"));
    assert_eq!(ids(&db.scan_path(&c, &rel, p, false, &[]).unwrap()), (10..20).collect::<Vec<_>>());
    // Backward, for ORDER BY id DESC.
    let desc = vec![PathKey { column: 0, descending: true, nulls_first: true }];
    let rel = db.rel(&t, vec![cmp(0, BinaryOp::Gt, 10), cmp(0, BinaryOp::LtEq, 20)], vec![desc.clone()]);
    let p = db.path(&rel, Some("Index Scan Backward using rng_pkey"));
    assert_eq!(p.pathkeys, desc);
    assert_eq!(ids(&db.scan_path(&c, &rel, p, false, &[]).unwrap()), (11..=20).rev().collect::<Vec<_>>());
    // Secondary non-unique index: equality then row order within the key is by row id.
    let rel = db.rel(&t, vec![cmp(1, BinaryOp::Eq, 3)], vec![]);
    let p = db.path(&rel, None);
    assert_eq!(p.label.as_deref(), Some("Index Scan using rng_v_idx"));
    assert_eq!(ids(&db.scan_path(&c, &rel, p, false, &[]).unwrap()), (0..10).map(|i| i * 10 + 3).collect::<Vec<_>>());
    // Own uncommitted rows are merged in index order, both directions.
    db.insert(&c, &t, vec![row3(-5, 3, "own"), row3(1000, 3, "own")]).unwrap();
    let asc = vec![PathKey { column: 0, descending: false, nulls_first: false }];
    let rel = db.rel(&t, vec![cmp(0, BinaryOp::Lt, 3)], vec![asc]);
    let p = db.path(&rel, Some("Index Scan using rng_pkey"));
    assert_eq!(ids(&db.scan_path(&c, &rel, p, false, &[]).unwrap()), vec![-5, 0, 1, 2]);
    let rel = db.rel(&t, vec![cmp(0, BinaryOp::Gt, 97)], vec![desc]);
    let p = db.path(&rel, Some("Index Scan Backward using rng_pkey"));
    assert_eq!(ids(&db.scan_path(&c, &rel, p, false, &[]).unwrap()), vec![1000, 99, 98]);
}

#[test]
fn nulls_sort_last_and_range_quals_skip_them() {
    let db = Db::new();
    let t = accounts(&db, "nl");
    db.autocommit(|c| {
        db.insert(c, &t, vec![vec![int(1), Datum::Null, Datum::Null], row3(2, 5, "a"), row3(3, -5, "b")])
    })
    .unwrap();
    let c = ctx(next_xid(), RC);
    let rel = db.rel(&t, vec![cmp(1, BinaryOp::Gt, 0)], vec![]);
    let p = db.path(&rel, Some("Index Scan using nl_v_idx"));
    assert_eq!(ids(&db.scan_path(&c, &rel, p, false, &[]).unwrap()), vec![2]);
    let asc = vec![PathKey { column: 1, descending: false, nulls_first: false }];
    let rel = db.rel(&t, vec![], vec![asc]);
    let p = db.path(&rel, Some("Index Scan using nl_v_idx"));
    assert_eq!(ids(&db.scan_path(&c, &rel, p, false, &[]).unwrap()), vec![3, 2, 1]);
    // `v = NULL` matches nothing.
    let q = Expr::Binary {
        op: BinaryOp::Eq,
        left: Box::new(colref(1)),
        right: Box::new(Expr::null(DataType::Int8)),
        ty: DataType::Bool,
    };
    let rel = db.rel(&t, vec![q], vec![]);
    let p = db.path(&rel, Some("Index Scan using nl_v_idx"));
    assert!(db.scan_path(&c, &rel, p, false, &[]).unwrap().is_empty());
}

#[test]
fn key_update_moves_the_row() {
    let db = Db::new();
    let t = accounts(&db, "mv");
    db.autocommit(|c| db.insert(c, &t, vec![row3(1, 1, "a"), row3(2, 2, "b")])).unwrap();
    db.autocommit(|c| {
        let r = db.lookup(c, &t, 1)?.unwrap();
        db.update(c, &t, &r[3], row3(10, 1, "a"))
    })
    .unwrap();
    db.autocommit(|c| {
        assert!(db.lookup(c, &t, 1)?.is_none());
        assert_eq!(db.lookup(c, &t, 10)?.unwrap()[2], Datum::text("a"));
        // Swap keys inside one transaction: 2 -> 1 is free now, then 10 -> 2.
        let r = db.lookup(c, &t, 2)?.unwrap();
        db.update(c, &t, &r[3], row3(1, 2, "b"))?;
        let r = db.lookup(c, &t, 10)?.unwrap();
        db.update(c, &t, &r[3], row3(2, 1, "a"))?;
        Ok(())
    })
    .unwrap();
    let rows = db.autocommit(|c| db.select(c, &t, vec![cmp(0, BinaryOp::Lt, 100)])).unwrap();
    assert_eq!(rows, vec![row3(1, 2, "b"), row3(2, 1, "a")]);
}

#[test]
fn statement_snapshot_hides_rows_written_during_the_scan() {
    let db = Db::new();
    let t = accounts(&db, "ins_sel");
    db.autocommit(|c| db.insert(c, &t, (0..3000).map(|i| row3(i, i, "s")).collect())).unwrap();
    let c = ctx(next_xid(), RC);
    // INSERT INTO t SELECT id + 10000 ... FROM t: the scan must not see the new rows.
    let rel = db.rel(&t, vec![], vec![vec![PathKey { column: 0, descending: false, nulls_first: false }]]);
    let p = db.path(&rel, Some("Index Scan using ins_sel_pkey"));
    let req = ScanRequest {
        table: t.clone(),
        columns: vec![0, 1, 2],
        quals: vec![],
        param_quals: vec![],
        want_row_id: false,
        path: p,
        limit: None,
    };
    let mut scan = db.fdw.begin_scan(&req, &c).unwrap();
    let mut n = 0;
    let mut b = RowBatch::new();
    loop {
        b.clear();
        let more = scan.next_batch(&mut b, &[]).unwrap();
        let new: Vec<Row> = b.rows.iter().map(|r| row3(r[0].as_i64().unwrap() + 10000, 0, "n")).collect();
        n += new.len();
        db.insert(&c, &t, new).unwrap();
        if !more {
            break;
        }
    }
    assert_eq!(n, 3000);
    db.commit(&c).unwrap();
    assert_eq!(db.fdw.engine().table(&t).unwrap().live_rows(), 6000);
}

/// Published rows are hinted: a primary-key lookup finds its record through the hint table,
/// key-checked, without searching the skip list.
#[test]
fn published_rows_are_found_through_hints() {
    let db = Db::new();
    let t = accounts(&db, "hinted");
    db.autocommit(|c| db.insert(c, &t, (0..100).map(|i| row3(i, i, "x")).collect())).unwrap();
    let st = db.fdw.engine().table(&t).unwrap().state();
    let pk = st.indexes.iter().find(|i| i.primary).unwrap();
    let hints = pk.hints.as_ref().unwrap();
    for e in pk.map.iter() {
        let rec = hints.get(e.key()).expect("every published key has a hint");
        assert!(Arc::ptr_eq(&rec, e.value()));
        assert!(rec.with(|_, data| pk.has_key(rec.row_id, data, e.key())));
    }
}
