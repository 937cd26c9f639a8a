//! Remote transactions and the connection cache against a real PostgreSQL: commit,
//! rollback, a failure at commit, isolation, reuse, invalidation and dead connections.

mod common;

use std::sync::Arc;

use common::*;
use fdw_api::{DataType, Datum, ExecContext, FdwRoutine, IsolationLevel, ModifyKind, TableDesc};
use remote_fdw::PostgresFdw;

const SETUP: &str = "CREATE TABLE t (id int);
     CREATE TABLE u (id int UNIQUE DEFERRABLE INITIALLY DEFERRED);
     CREATE VIEW backend AS SELECT pg_backend_pid() AS pid, current_setting('transaction_isolation') AS iso;";

fn backend(db: &ScratchDb) -> Arc<TableDesc> {
    Arc::new(db.table("backend", &[("pid", DataType::Int4), ("iso", DataType::Text)]))
}

/// (remote backend pid, remote isolation) as seen by transaction `ctx`.
fn remote_session(fdw: &PostgresFdw, t: &Arc<TableDesc>, ctx: &ExecContext) -> fdw_api::FdwResult<(i32, String)> {
    let r = rel(t, vec![]);
    let rows = scan_all(fdw, &request(&r, &plan_first(fdw, &r), vec![0, 1]), ctx, &[])?;
    Ok((rows[0][0].as_i64().unwrap() as i32, rows[0][1].to_text()))
}

fn insert(fdw: &PostgresFdw, t: &Arc<TableDesc>, ctx: &ExecContext, v: i32) {
    let mut m = fdw.modify_routine().unwrap().begin_modify(t, ModifyKind::Insert, ctx).unwrap();
    m.insert(vec![vec![Datum::Int4(v)]]).unwrap();
    m.end().unwrap();
}

#[test]
fn commit_and_rollback_reach_the_remote() {
    let db = ScratchDb::new(SETUP);
    let fdw = PostgresFdw::new();
    let t = Arc::new(db.table("t", &[("id", DataType::Int4)]));
    let a = ctx(true);
    insert(&fdw, &t, &a, 1);
    insert(&fdw, &t, &a, 2);
    rollback(&fdw, &a);
    assert_eq!(db.texts("SELECT count(*) FROM t"), vec![Some("0".into())]);
    let b = ctx(true);
    insert(&fdw, &t, &b, 3);
    commit(&fdw, &b).unwrap();
    assert_eq!(db.texts("SELECT string_agg(id::text, ',') FROM t"), vec![Some("3".into())]);
}

#[test]
fn remote_failure_at_commit_fails_the_local_commit() {
    let db = ScratchDb::new(SETUP);
    let fdw = PostgresFdw::new();
    let u = Arc::new(db.table("u", &[("id", DataType::Int4)]));
    let a = ctx(true);
    insert(&fdw, &u, &a, 1);
    insert(&fdw, &u, &a, 1); // deferred: accepted until COMMIT
    let e = commit(&fdw, &a).unwrap_err();
    assert_eq!(e.sqlstate.code(), "23505");
    assert_eq!(e.message, "duplicate key value violates unique constraint \"u_id_key\"");
    assert_eq!(e.detail.as_deref(), Some("Key (id)=(1) already exists."));
    assert_eq!(e.context, vec!["remote SQL command: COMMIT TRANSACTION".to_string()]);
    assert_eq!(db.texts("SELECT count(*) FROM u"), vec![Some("0".into())]);
    // The connection is still good for the next transaction.
    let b = ctx(true);
    insert(&fdw, &u, &b, 2);
    commit(&fdw, &b).unwrap();
    assert_eq!(db.texts("SELECT count(*) FROM u"), vec![Some("1".into())]);
}

#[test]
fn isolation_follows_postgres_fdw() {
    let db = ScratchDb::new(SETUP);
    let fdw = PostgresFdw::new();
    let t = backend(&db);
    let a = ctx(false);
    assert_eq!(remote_session(&fdw, &t, &a).unwrap().1, "repeatable read");
    commit(&fdw, &a).unwrap();
    let mut b = ctx(true);
    b.isolation = IsolationLevel::Serializable;
    assert_eq!(remote_session(&fdw, &t, &b).unwrap().1, "serializable");
    commit(&fdw, &b).unwrap();
}

#[test]
fn connections_are_cached_per_server_and_mapping_and_invalidated_on_change() {
    let db = ScratchDb::new(SETUP);
    let fdw = PostgresFdw::new();
    let t = backend(&db);
    let a = ctx(false);
    let (p1, _) = remote_session(&fdw, &t, &a).unwrap();
    // Same transaction, second scan: same connection.
    assert_eq!(remote_session(&fdw, &t, &a).unwrap().0, p1);
    // A concurrent transaction gets its own connection.
    let other = ctx(true);
    let (p_other, _) = remote_session(&fdw, &t, &other).unwrap();
    assert_ne!(p_other, p1);
    commit(&fdw, &other).unwrap();
    commit(&fdw, &a).unwrap();
    assert_eq!(fdw.idle_connections(), 2);
    let b = ctx(false);
    let (p2, _) = remote_session(&fdw, &t, &b).unwrap();
    assert!(p2 == p1 || p2 == p_other, "reused a cached connection");
    commit(&fdw, &b).unwrap();
    // ALTER SERVER ... OPTIONS: cached connections with the old options are not reused.
    let mut changed = (*t).clone();
    changed.server_options.set("application_name", "changed");
    let changed = Arc::new(changed);
    let c = ctx(false);
    let (p3, _) = remote_session(&fdw, &changed, &c).unwrap();
    assert!(p3 != p1 && p3 != p_other);
    commit(&fdw, &c).unwrap();
    // keep_connections off: closed at the end of the transaction.
    let mut nokeep = (*t).clone();
    nokeep.server_options.set("keep_connections", "off");
    let nokeep = Arc::new(nokeep);
    assert_eq!(fdw.idle_connections(), 1, "only the connection with the new options stays cached");
    let d = ctx(false);
    remote_session(&fdw, &nokeep, &d).unwrap();
    commit(&fdw, &d).unwrap();
    // The cached one had other server options (dropped), and this one was not kept.
    assert_eq!(fdw.idle_connections(), 0);
}

fn terminate(db: &ScratchDb, pid: i32) {
    db.texts(&format!("SELECT pg_terminate_backend({pid}, 5000)"));
}

#[test]
fn killed_connection_fails_the_statement_and_the_next_transaction_reconnects() {
    let db = ScratchDb::new(SETUP);
    let fdw = PostgresFdw::new();
    let t = backend(&db);
    let a = ctx(true);
    let (p1, _) = remote_session(&fdw, &t, &a).unwrap();
    terminate(&db, p1);
    let e = remote_session(&fdw, &t, &a).unwrap_err();
    assert!(["57P01", "08006"].contains(&e.sqlstate.code()), "unexpected error {:?} {:?} {:?}", e, e.detail, e.hint);
    assert!(e.hint.unwrap_or_default().contains("next transaction reconnects"));
    // The local transaction cannot commit what the remote lost.
    let e = commit(&fdw, &a).unwrap_err();
    assert_eq!(e.sqlstate.code(), "08006");
    let b = ctx(true);
    let (p2, _) = remote_session(&fdw, &t, &b).unwrap();
    assert_ne!(p2, p1);
    commit(&fdw, &b).unwrap();
    // Killed while idle in the cache: replaced silently at the next transaction.
    terminate(&db, p2);
    let c = ctx(false);
    let (p3, _) = remote_session(&fdw, &t, &c).unwrap();
    assert_ne!(p3, p2);
    commit(&fdw, &c).unwrap();
}
