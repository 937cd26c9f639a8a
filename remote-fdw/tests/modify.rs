//! INSERT/UPDATE/DELETE and direct modification against a real PostgreSQL, and quoting of
//! hostile names and values.

mod common;

use std::sync::Arc;

use common::*;
use fdw_api::{BinaryOp, DataType, Datum, DirectModify, Expr, FdwRoutine, ModifyKind};
use remote_fdw::PostgresFdw;

#[test]
fn insert_in_batches_returns_stored_rows() {
    let db = ScratchDb::new("CREATE TABLE t (id int, v text, n numeric(8,2) DEFAULT 1, at timestamp);");
    let fdw = PostgresFdw::new();
    let mut t = db.table(
        "t",
        &[
            ("id", DataType::Int4),
            ("v", DataType::Text),
            ("n", DataType::Numeric(Some((8, 2)))),
            ("at", DataType::Timestamp),
        ],
    );
    t.table_options.set("batch_size", "4");
    let t = Arc::new(t);
    let ctx = ctx(false);
    let m = fdw.modify_routine().unwrap();
    assert_eq!(m.is_updatable(&t), vec![ModifyKind::Insert, ModifyKind::Update, ModifyKind::Delete]);
    let mut ins = m.begin_modify(&t, ModifyKind::Insert, &ctx).unwrap();
    let rows: Vec<Vec<Datum>> = (1..=10)
        .map(|i| {
            vec![
                Datum::Int4(i),
                Datum::text(&format!("r{i}")),
                Datum::Numeric(fdw_api::Numeric::new(i as i64 * 125, 2)),
                DataType::Timestamp.parse_text("2021-02-03 04:05:06.5").unwrap(),
            ]
        })
        .collect();
    let stored = ins.insert(rows).unwrap();
    ins.end().unwrap();
    assert_eq!(stored.len(), 10);
    assert_eq!(stored[2].iter().map(|d| d.to_text()).collect::<Vec<_>>(), ["3", "r3", "3.75", "2021-02-03 04:05:06.5"]);
    // Not visible to others before commit; visible after.
    assert_eq!(db.texts("SELECT count(*) FROM t"), vec![Some("0".into())]);
    commit(&fdw, &ctx).unwrap();
    assert_eq!(db.texts("SELECT count(*) FROM t"), vec![Some("10".into())]);
    // 10 rows in batches of 4: three INSERT statements.
    assert_eq!(db.texts("SELECT sum(n) FROM t"), vec![Some("68.75".into())]);
}

#[test]
fn update_and_delete_by_ctid() {
    let db = ScratchDb::new(
        "CREATE TABLE t (id int, v text); INSERT INTO t SELECT i, 'x' || i FROM generate_series(1, 5) i;",
    );
    let fdw = PostgresFdw::new();
    let t = Arc::new(db.table("t", &[("id", DataType::Int4), ("v", DataType::Text)]));
    let ctx = ctx(true);
    // UPDATE t SET v = 'new' WHERE id <= 2: scan with row ids, then update each row.
    let r = rel(&t, vec![bin(BinaryOp::LtEq, col(0, DataType::Int4), int(2))]);
    let path = plan_first(&fdw, &r);
    let mut req = request(&r, &path, vec![0, 1]);
    req.want_row_id = true;
    assert_eq!(fdw.explain_scan(&req, true)[0].1, "SELECT id, v, ctid FROM public.t WHERE ((id <= 2)) FOR UPDATE");
    let rows = scan_all(&fdw, &req, &ctx, &[]).unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r[2].as_str().unwrap().starts_with('(')));
    let m = fdw.modify_routine().unwrap();
    let mut up = m.begin_modify(&t, ModifyKind::Update, &ctx).unwrap();
    for r in &rows {
        let new = up.update(&r[2], vec![r[0].clone(), Datum::text("new")]).unwrap();
        assert_eq!(new, vec![r[0].clone(), Datum::text("new")]);
    }
    up.end().unwrap();
    let mut del = m.begin_modify(&t, ModifyKind::Delete, &ctx).unwrap();
    let r5 = rel(&t, vec![bin(BinaryOp::Eq, col(0, DataType::Int4), int(5))]);
    let mut req5 = request(&r5, &plan_first(&fdw, &r5), vec![0]);
    req5.want_row_id = true;
    let victim = scan_all(&fdw, &req5, &ctx, &[]).unwrap();
    let old = del.delete(&victim[0][1]).unwrap();
    assert_eq!(old, Some(vec![Datum::Int4(5), Datum::text("x5")]));
    // A hostile row id is refused, never spliced into the statement.
    let e = del.delete(&Datum::text("(0,1)'; DROP TABLE t; --")).unwrap_err();
    assert!(e.message.contains("invalid row identity"), "{}", e.message);
    del.end().unwrap();
    commit(&fdw, &ctx).unwrap();
    let all = db.texts("SELECT id || ':' || v FROM t ORDER BY id");
    assert_eq!(all, ["1:new", "2:new", "3:x3", "4:x4"].map(|s| Some(s.to_string())));
}

#[test]
fn direct_update_and_delete_run_one_remote_statement() {
    let db = ScratchDb::new(
        "CREATE TABLE t (id int, v text); INSERT INTO t SELECT i, 'x' || i FROM generate_series(1, 10) i;",
    );
    let fdw = PostgresFdw::new();
    let t = Arc::new(db.table("t", &[("id", DataType::Int4), ("v", DataType::Text)]));
    let p = fdw.pushdown_routine().unwrap();
    let ctx = ctx(false);
    let upd = DirectModify {
        table: t.clone(),
        kind: ModifyKind::Update,
        assignments: vec![(1, Expr::constant(Datum::text("z"), DataType::Text))],
        quals: vec![bin(BinaryOp::Gt, col(0, DataType::Int4), int(7))],
    };
    // Planned (PlanDirectModify) and explained before it runs.
    assert!(p.plan_direct_modify(&upd).unwrap());
    assert_eq!(
        p.explain_direct_modify(&upd, true),
        [("Remote SQL".to_string(), "UPDATE public.t SET v = 'z'::text WHERE ((id > 7))".to_string())]
    );
    assert!(p.explain_direct_modify(&upd, false).is_empty());
    assert_eq!(p.direct_modify(&upd, &ctx).unwrap(), Some(3));
    let del = DirectModify {
        table: t.clone(),
        kind: ModifyKind::Delete,
        assignments: vec![],
        quals: vec![bin(BinaryOp::LtEq, col(0, DataType::Int4), int(2))],
    };
    assert_eq!(p.direct_modify(&del, &ctx).unwrap(), Some(2));
    // A qual that cannot be shipped: not done directly.
    let random = Expr::Func { func: fdw_api::ScalarFunc::Random, args: vec![], ty: DataType::Float8 };
    let not_direct = DirectModify {
        table: t.clone(),
        kind: ModifyKind::Delete,
        assignments: vec![],
        quals: vec![bin(BinaryOp::Gt, random, Expr::constant(Datum::Float8(0.5), DataType::Float8))],
    };
    assert!(!p.plan_direct_modify(&not_direct).unwrap());
    assert_eq!(p.direct_modify(&not_direct, &ctx).unwrap(), None);
    // An UPDATE without assignments is not a statement.
    let nothing = DirectModify { kind: ModifyKind::Update, ..del.clone() };
    assert!(!p.plan_direct_modify(&nothing).unwrap());
    commit(&fdw, &ctx).unwrap();
    assert_eq!(db.texts("SELECT count(*) FILTER (WHERE v = 'z') || '/' || count(*) FROM t"), vec![Some("3/8".into())]);
}

#[test]
fn updatable_false_refuses_modification() {
    let db = ScratchDb::new("CREATE TABLE t (id int);");
    let fdw = PostgresFdw::new();
    let mut t = db.table("t", &[("id", DataType::Int4)]);
    t.server_options.set("updatable", "false");
    let t = Arc::new(t);
    let m = fdw.modify_routine().unwrap();
    assert!(m.is_updatable(&t).is_empty());
    let e = m.begin_modify(&t, ModifyKind::Insert, &ctx(false)).err().unwrap();
    assert_eq!(e.message, "foreign table \"t\" does not allow inserts");
}

#[test]
fn hostile_names_and_values_cannot_change_statements() {
    let table = "we\"ird; DROP TABLE victim; --";
    let column = "Col'\\\"x";
    let db = ScratchDb::new(&format!(
        "CREATE TABLE victim (x int); CREATE SCHEMA \"S 1\";
         CREATE TABLE \"S 1\".{} (id int, {} text);",
        remote_fdw::quote::quote_ident(table),
        remote_fdw::quote::quote_ident(column)
    ));
    let fdw = PostgresFdw::new();
    let mut t = db.table("local_name", &[("id", DataType::Int4), ("val", DataType::Text)]);
    t.table_options.set("schema_name", "S 1");
    t.table_options.set("table_name", table);
    t.columns[1].options.set("column_name", column);
    let t = Arc::new(t);
    let values = [
        "it's",
        "back\\slash",
        "'; DROP TABLE victim; --",
        "\\'; DROP TABLE victim; --",
        "semi;colon",
        "dollar $$ quote $x$",
        "\"double\"",
        "tab\tnewline\n",
        "",
    ];
    let ctx = ctx(false);
    let mut ins = fdw.modify_routine().unwrap().begin_modify(&t, ModifyKind::Insert, &ctx).unwrap();
    let rows: Vec<Vec<Datum>> =
        values.iter().enumerate().map(|(i, v)| vec![Datum::Int4(i as i32), Datum::text(v)]).collect();
    let stored = ins.insert(rows.clone()).unwrap();
    assert_eq!(stored, rows);
    commit(&fdw, &ctx).unwrap();
    // Each value found again through a pushed-down equality and an IN list.
    for (i, v) in values.iter().enumerate() {
        let r = rel(&t, vec![bin(BinaryOp::Eq, col(1, DataType::Text), text(v))]);
        let path = plan_first(&fdw, &r);
        let req = request(&r, &path, vec![0, 1]);
        let ctx = common::ctx(false);
        let got = scan_all(&fdw, &req, &ctx, &[]).unwrap();
        commit(&fdw, &ctx).unwrap();
        assert_eq!(got, vec![vec![Datum::Int4(i as i32), Datum::text(v)]], "value {v:?}");
    }
    let in_list = Expr::InList {
        expr: Box::new(col(1, DataType::Text)),
        list: values.iter().take(4).map(|v| text(v)).collect(),
        negated: false,
    };
    let r = rel(&t, vec![in_list]);
    let req = request(&r, &plan_first(&fdw, &r), vec![0]);
    let sql = fdw.explain_scan(&req, true)[0].1.clone();
    assert!(
        sql.starts_with("SELECT id FROM \"S 1\".\"we\"\"ird; DROP TABLE victim; --\" WHERE ((\"Col'\\\"\"x\" = ANY ("),
        "{sql}"
    );
    let ctx2 = common::ctx(false);
    assert_eq!(scan_all(&fdw, &req, &ctx2, &[]).unwrap().len(), 4);
    commit(&fdw, &ctx2).unwrap();
    assert_eq!(db.texts("SELECT count(*) FROM victim"), vec![Some("0".into())]);
}
