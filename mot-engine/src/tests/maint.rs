//! DDL, TRUNCATE, VACUUM, memory accounting and reclamation, heap/index consistency.

use super::*;
use fdw_api::{BinaryOp, SqlState};

const RC: IsolationLevel = IsolationLevel::ReadCommitted;

/// Every index holds exactly the live rows, under the right keys, and agrees with the heap.
fn assert_consistent(db: &Db, t: &Arc<TableDesc>) {
    let table = db.fdw.engine().table(t).unwrap();
    let st = table.state();
    let mut heap_rows = Vec::new();
    for e in st.heap.map.iter() {
        let (tid, data) = e.value().read();
        assert_eq!(tid & crate::row::ABSENT, 0, "absent record left in heap");
        assert_eq!(e.key().as_slice(), e.value().row_id.to_be_bytes());
        heap_rows.push(e.value().row_id);
        let _ = data;
    }
    assert_eq!(heap_rows.len() as u64, table.live_rows());
    for index in &st.indexes {
        let mut rows = Vec::new();
        for e in index.map.iter() {
            let (tid, data) = e.value().read();
            assert_eq!(tid & crate::row::ABSENT, 0, "index {} points at a dead row", index.name);
            assert_eq!(&index.entry_key(e.value().row_id, &data).unwrap(), e.key(), "stale key in {}", index.name);
            rows.push(e.value().row_id);
        }
        rows.sort();
        let mut h = heap_rows.clone();
        h.sort();
        assert_eq!(rows, h, "index {} disagrees with the heap", index.name);
    }
}

fn churn(db: &Db, t: &Arc<TableDesc>) {
    db.autocommit(|c| db.insert(c, t, (0..500).map(|i| row3(i, i % 7, "some text value")).collect())).unwrap();
    db.autocommit(|c| {
        for i in (0..500).step_by(3) {
            let r = db.lookup(c, t, i)?.unwrap();
            db.delete(c, t, &r[3])?;
        }
        for i in (1..500).step_by(3) {
            let r = db.lookup(c, t, i)?.unwrap();
            db.update(c, t, &r[3], row3(i + 1000, 99, "moved"))?;
        }
        Ok(())
    })
    .unwrap();
}

#[test]
fn index_heap_consistency_after_churn_and_vacuum() {
    let db = Db::new();
    let t = accounts(&db, "churn");
    churn(&db, &t);
    assert_consistent(&db, &t);
    let before = db.autocommit(|c| db.select(c, &t, vec![cmp(0, BinaryOp::GtEq, -1)])).unwrap();
    db.fdw.maintenance_routine().unwrap().vacuum(&t).unwrap();
    assert_consistent(&db, &t);
    let after = db.autocommit(|c| db.select(c, &t, vec![cmp(0, BinaryOp::GtEq, -1)])).unwrap();
    assert_eq!(before, after);
    assert_eq!(db.autocommit(|c| db.select(c, &t, vec![cmp(1, BinaryOp::Eq, 99)])).unwrap().len(), 167);
    // Writes keep working after the switch to fresh pools.
    db.autocommit(|c| db.insert(c, &t, vec![row3(-1, 0, "new")])).unwrap();
    assert_consistent(&db, &t);
}

#[test]
fn memory_returns_to_baseline_after_delete_and_reclaim() {
    let db = Db::new();
    let t = accounts(&db, "mem");
    let m = db.fdw.maintenance_routine().unwrap();
    assert_eq!(m.table_memory(&t).unwrap(), (0, 0));
    db.autocommit(|c| db.insert(c, &t, (0..1000).map(|i| row3(i, i, "payload payload")).collect())).unwrap();
    let (heap, idx) = m.table_memory(&t).unwrap();
    assert!(heap > 1000 * 100 && idx > 1000 * 2 * 50, "{heap} {idx}");
    let stats = m.memory_stats();
    assert!(stats.iter().any(|s| s.name == "mem_pkey" && s.kind == "index" && s.bytes > 0));
    // Updates retire the replaced versions.
    db.autocommit(|c| {
        for i in 0..1000 {
            let r = db.lookup(c, &t, i)?.unwrap();
            db.update(c, &t, &r[3], row3(i, i + 1, "payload payload"))?;
        }
        Ok(())
    })
    .unwrap();
    assert!(db.fdw.engine().reclaim());
    assert_eq!(m.table_memory(&t).unwrap(), (heap, idx));
    db.autocommit(|c| {
        for i in 0..1000 {
            let r = db.lookup(c, &t, i)?.unwrap();
            db.delete(c, &t, &r[3])?;
        }
        Ok(())
    })
    .unwrap();
    assert!(db.fdw.engine().reclaim(), "garbage left unreclaimed");
    assert_eq!(m.table_memory(&t).unwrap(), (0, 0));
}

#[test]
fn drop_table_releases_pools() {
    let db = Db::new();
    let t = accounts(&db, "dropme");
    db.autocommit(|c| db.insert(c, &t, (0..10).map(|i| row3(i, i, "x")).collect())).unwrap();
    let m = db.fdw.maintenance_routine().unwrap();
    assert!(m.memory_stats().iter().any(|s| s.name == "dropme"));
    db.ddl(DdlCommand::DropTable { table: t.clone() }).unwrap();
    assert!(!m.memory_stats().iter().any(|s| s.name.starts_with("dropme")));
    assert_eq!(m.table_memory(&t).unwrap_err().sqlstate, SqlState::UNDEFINED_TABLE);
}

#[test]
fn create_index_builds_and_checks_uniqueness() {
    let db = Db::new();
    let t = accounts(&db, "ci");
    db.autocommit(|c| db.insert(c, &t, vec![row3(1, 5, "a"), row3(2, 5, "b"), row3(3, 6, "c")])).unwrap();
    let e = db
        .ddl(DdlCommand::CreateIndex { table: t.clone(), index: index("ci_v_key", "ci", &[1], true, false) })
        .unwrap_err();
    assert_eq!(e.sqlstate, SqlState::UNIQUE_VIOLATION);
    assert_eq!(e.message, "could not create unique index \"ci_v_key\"");
    assert_eq!(e.detail.as_deref(), Some("Key (v)=(5) is duplicated."));
    db.ddl(DdlCommand::CreateIndex { table: t.clone(), index: index("ci_s_key", "ci", &[2], true, false) }).unwrap();
    assert_consistent(&db, &t);
    let e = db.autocommit(|c| db.insert(c, &t, vec![row3(4, 0, "a")])).unwrap_err();
    assert_eq!(e.message, "duplicate key value violates unique constraint \"ci_s_key\"");
    db.ddl(DdlCommand::DropIndex { table: t.clone(), index: index("ci_s_key", "ci", &[2], true, false) }).unwrap();
    db.autocommit(|c| db.insert(c, &t, vec![row3(4, 0, "a")])).unwrap();
    assert_consistent(&db, &t);
}

#[test]
fn add_drop_rename_column() {
    let db = Db::new();
    let t = accounts(&db, "alt");
    db.autocommit(|c| db.insert(c, &t, vec![row3(1, 5, "a"), row3(2, 6, "b")])).unwrap();
    // An open transaction's private rows are reshaped too.
    let c = ctx(next_xid(), RC);
    db.insert(&c, &t, vec![row3(3, 7, "c")]).unwrap();
    db.ddl(DdlCommand::AddColumn {
        table: t.clone(),
        column: col("z", DataType::Int4, false),
        default: Datum::Int4(42),
    })
    .unwrap();
    let mut t2 = (*t).clone();
    t2.columns.push(col("z", DataType::Int4, false));
    let t2 = Arc::new(t2);
    db.commit(&c).unwrap();
    let rows = db.autocommit(|c| db.scan_all(c, &t2)).unwrap();
    assert_eq!(rows.iter().map(|r| r[3].clone()).collect::<Vec<_>>(), vec![Datum::Int4(42); 3]);
    // Dropping v drops its index; the primary key keeps working.
    db.ddl(DdlCommand::DropColumn { table: t2.clone(), column: 1 }).unwrap();
    let mut t3 = (*t2).clone();
    t3.columns.remove(1);
    let t3 = Arc::new(t3);
    let st = db.fdw.engine().table(&t3).unwrap().state();
    assert_eq!(st.indexes.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), vec!["alt_pkey"]);
    db.ddl(DdlCommand::RenameColumn { table: t3.clone(), column: 1, new_name: "label".into() }).unwrap();
    let e = db
        .autocommit(|c| {
            let r = db.lookup(c, &t3, 1)?.unwrap();
            db.update(c, &t3, &r[3], vec![int(1), Datum::Null, Datum::Int4(1)])?;
            db.insert(c, &t3, vec![vec![int(2), Datum::text("dup"), Datum::Null]])
        })
        .unwrap_err();
    assert_eq!(e.detail.as_deref(), Some("Key (id)=(2) already exists."));
    let rows = db.autocommit(|c| db.scan_all(c, &t3)).unwrap();
    assert_eq!(rows[0], vec![int(1), Datum::text("a"), Datum::Int4(42)]);
    assert_consistent(&db, &t3);
}

#[test]
fn truncate_is_transactional() {
    let db = Db::new();
    let t = accounts(&db, "tr");
    db.autocommit(|c| db.insert(c, &t, (0..50).map(|i| row3(i, i, "x")).collect())).unwrap();
    let s = db.fdw.support_routine().unwrap();
    let c = ctx(next_xid(), RC);
    db.insert(&c, &t, vec![row3(100, 0, "own")]).unwrap();
    s.truncate(std::slice::from_ref(&t), &c).unwrap();
    assert!(db.scan_all(&c, &t).unwrap().is_empty());
    db.abort(&c);
    assert_eq!(db.autocommit(|c| db.scan_all(c, &t)).unwrap().len(), 50);
    db.autocommit(|c| s.truncate(std::slice::from_ref(&t), c)).unwrap();
    assert!(db.autocommit(|c| db.scan_all(c, &t)).unwrap().is_empty());
    assert_consistent(&db, &t);
}
