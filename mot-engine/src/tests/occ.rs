//! Optimistic concurrency: conflicts, write skew, phantoms, lost updates.

use super::*;
use fdw_api::{BinaryOp, SqlState};

const SER: IsolationLevel = IsolationLevel::Serializable;
const RC: IsolationLevel = IsolationLevel::ReadCommitted;

fn setup(db: &Db, name: &str, n: i64) -> Arc<TableDesc> {
    let t = accounts(db, name);
    db.autocommit(|c| db.insert(c, &t, (1..=n).map(|i| row3(i, 100, "acct")).collect())).unwrap();
    t
}

fn set_v(db: &Db, c: &ExecContext, t: &Arc<TableDesc>, id: i64, v: i64) -> FdwResult<()> {
    let r = db.lookup(c, t, id)?.expect("row exists");
    db.update(c, t, &r[3], vec![r[0].clone(), int(v), r[2].clone()]).map(|_| ())
}

fn v_of(db: &Db, c: &ExecContext, t: &Arc<TableDesc>, id: i64) -> i64 {
    db.lookup(c, t, id).unwrap().unwrap()[1].as_i64().unwrap()
}

#[test]
fn concurrent_updates_one_wins_nothing_half_applied() {
    for iso in [SER, RC] {
        let db = Db::new();
        let t = setup(&db, "occ", 3);
        let (c1, c2) = (ctx(next_xid(), iso), ctx(next_xid(), iso));
        set_v(&db, &c1, &t, 1, 1).unwrap();
        set_v(&db, &c2, &t, 1, 2).unwrap();
        db.insert(&c2, &t, vec![row3(50, 0, "loser")]).unwrap();
        set_v(&db, &c2, &t, 3, 333).unwrap();
        db.commit(&c1).unwrap();
        let e = db.commit(&c2).unwrap_err();
        assert_eq!(e.sqlstate, SqlState::T_R_SERIALIZATION_FAILURE);
        assert_eq!(e.message, "could not serialize access due to concurrent update");
        let rows = db.autocommit(|c| db.scan_all(c, &t)).unwrap();
        assert_eq!(rows.iter().map(|r| r[1].as_i64().unwrap()).collect::<Vec<_>>(), vec![1, 100, 100]);
        // The failed transaction's index publications were rolled back: the key is free.
        db.autocommit(|c| db.insert(c, &t, vec![row3(50, 0, "winner")])).unwrap();
    }
}

#[test]
fn write_skew_prevented_under_serializable() {
    let db = Db::new();
    let t = setup(&db, "skew", 2);
    let (c1, c2) = (ctx(next_xid(), SER), ctx(next_xid(), SER));
    // Each reads both rows and updates a different one (the on-call doctors anomaly).
    let sum1 = v_of(&db, &c1, &t, 1) + v_of(&db, &c1, &t, 2);
    let sum2 = v_of(&db, &c2, &t, 1) + v_of(&db, &c2, &t, 2);
    assert_eq!((sum1, sum2), (200, 200));
    set_v(&db, &c1, &t, 1, 0).unwrap();
    set_v(&db, &c2, &t, 2, 0).unwrap();
    db.commit(&c1).unwrap();
    assert_eq!(db.commit(&c2).unwrap_err().sqlstate, SqlState::T_R_SERIALIZATION_FAILURE);
    let c = ctx(next_xid(), RC);
    assert_eq!(v_of(&db, &c, &t, 1) + v_of(&db, &c, &t, 2), 100);
}

#[test]
fn write_skew_allowed_under_read_committed() {
    // Documented: READ COMMITTED validates only the write set.
    let db = Db::new();
    let t = setup(&db, "skew_rc", 2);
    let (c1, c2) = (ctx(next_xid(), RC), ctx(next_xid(), RC));
    let _ = (v_of(&db, &c1, &t, 2), v_of(&db, &c2, &t, 1));
    set_v(&db, &c1, &t, 1, 0).unwrap();
    set_v(&db, &c2, &t, 2, 0).unwrap();
    db.commit(&c1).unwrap();
    db.commit(&c2).unwrap();
}

#[test]
fn phantom_detected_by_range_validation() {
    let db = Db::new();
    let t = setup(&db, "ph", 10);
    let c1 = ctx(next_xid(), SER);
    let count = db.select(&c1, &t, vec![cmp(0, BinaryOp::Lt, 100)]).unwrap().len();
    assert_eq!(count, 10);
    set_v(&db, &c1, &t, 1, count as i64).unwrap();
    // Someone inserts into the scanned range and commits.
    db.autocommit(|c| db.insert(c, &t, vec![row3(50, 0, "phantom")])).unwrap();
    let e = db.commit(&c1).unwrap_err();
    assert_eq!(e.sqlstate, SqlState::T_R_SERIALIZATION_FAILURE);

    // An insert outside the range does not disturb it.
    let c1 = ctx(next_xid(), SER);
    db.select(&c1, &t, vec![cmp(0, BinaryOp::Lt, 100)]).unwrap();
    set_v(&db, &c1, &t, 1, 7).unwrap();
    db.autocommit(|c| db.insert(c, &t, vec![row3(500, 0, "outside")])).unwrap();
    db.commit(&c1).unwrap();
}

#[test]
fn insert_skew_through_phantoms_prevented() {
    // Each transaction checks a range is empty, then inserts into the other's range.
    let db = Db::new();
    let t = setup(&db, "ins_skew", 0);
    let (c1, c2) = (ctx(next_xid(), SER), ctx(next_xid(), SER));
    assert!(db.select(&c1, &t, vec![cmp(0, BinaryOp::Lt, 10)]).unwrap().is_empty());
    assert!(db.select(&c2, &t, vec![cmp(0, BinaryOp::GtEq, 10)]).unwrap().is_empty());
    db.insert(&c1, &t, vec![row3(20, 0, "a")]).unwrap();
    db.insert(&c2, &t, vec![row3(5, 0, "b")]).unwrap();
    // Interleave validation: both pre-commit before either installs.
    let tr = db.fdw.transaction_routine().unwrap();
    let r1 = tr.pre_commit(&c1);
    let r2 = tr.pre_commit(&c2);
    assert!(r1.is_ok());
    assert_eq!(r2.unwrap_err().sqlstate, SqlState::T_R_SERIALIZATION_FAILURE);
    tr.commit(&c1, Lsn(0)).unwrap();
    tr.abort(&c2).unwrap();
    assert_eq!(ids(&db.autocommit(|c| db.scan_all(c, &t)).unwrap()), vec![20]);
}

#[test]
fn deleted_row_in_read_set_fails_validation() {
    let db = Db::new();
    let t = setup(&db, "del", 3);
    let c1 = ctx(next_xid(), SER);
    assert_eq!(v_of(&db, &c1, &t, 2), 100);
    db.insert(&c1, &t, vec![row3(10, 0, "x")]).unwrap();
    db.autocommit(|c| {
        let r = db.lookup(c, &t, 2)?.unwrap();
        db.delete(c, &t, &r[3])
    })
    .unwrap();
    assert_eq!(db.commit(&c1).unwrap_err().sqlstate, SqlState::T_R_SERIALIZATION_FAILURE);
}

#[test]
fn lost_update_prevented_under_read_committed() {
    let db = Db::new();
    let t = setup(&db, "lost", 1);
    let c1 = ctx(next_xid(), RC);
    // c1 reads the row (with its row id, as an UPDATE's scan does) ...
    let r = db.lookup(&c1, &t, 1).unwrap().unwrap();
    // ... someone else updates and commits ...
    db.autocommit(|c| set_v(&db, c, &t, 1, 500)).unwrap();
    // ... and c1 writes a value computed from its stale read.
    db.update(&c1, &t, &r[3], vec![int(1), int(r[1].as_i64().unwrap() + 1), r[2].clone()]).unwrap();
    assert_eq!(db.commit(&c1).unwrap_err().sqlstate, SqlState::T_R_SERIALIZATION_FAILURE);
    assert_eq!(v_of(&db, &ctx(next_xid(), RC), &t, 1), 500);
}

#[test]
fn read_only_serializable_sees_consistent_state_or_aborts() {
    let db = Db::new();
    let t = setup(&db, "ro", 2);
    let c1 = ctx(next_xid(), SER);
    let a = v_of(&db, &c1, &t, 1);
    db.autocommit(|c| {
        set_v(&db, c, &t, 1, 50)?;
        set_v(&db, c, &t, 2, 150)
    })
    .unwrap();
    let b = v_of(&db, &c1, &t, 2);
    assert_eq!(a + b, 250, "inconsistent read observed");
    assert_eq!(db.commit(&c1).unwrap_err().sqlstate, SqlState::T_R_SERIALIZATION_FAILURE);
}
