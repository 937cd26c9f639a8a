//! Connection and remote errors: wording, SQLSTATE, speed, and no password anywhere.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use fdw_api::{DataType, FdwError, FdwRoutine};
use remote_fdw::PostgresFdw;

const PASSWORD: &str = "Sup3r-S3cret-pw";

fn everything(e: &FdwError) -> String {
    format!("{} {:?} {:?} {:?} {:?}", e.message, e.detail, e.hint, e.context, e)
}

fn scan_error(fdw: &PostgresFdw, t: fdw_api::TableDesc) -> FdwError {
    let t = Arc::new(t);
    let r = rel(&t, vec![]);
    let req = request(&r, &plan_first(fdw, &r), vec![0]);
    let ctx = ctx(false);
    let e = scan_all(fdw, &req, &ctx, &[]).unwrap_err();
    rollback(fdw, &ctx);
    assert!(!everything(&e).contains(PASSWORD), "password leaked: {}", everything(&e));
    for (_, line) in fdw.explain_scan(&req, true) {
        assert!(!line.contains(PASSWORD));
    }
    e
}

#[test]
fn unreachable_port_fails_fast_with_a_clear_message() {
    let db = ScratchDb::new("CREATE TABLE t (a int);");
    let fdw = PostgresFdw::new();
    let mut t = db.table("t", &[("a", DataType::Int4)]);
    t.server_options.set("port", "1");
    t.user_mapping_options.set("password", PASSWORD);
    let start = Instant::now();
    let e = scan_error(&fdw, t);
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    assert_eq!(e.sqlstate.code(), "08001");
    assert_eq!(e.message, "could not connect to server \"loopback\"");
    let detail = e.detail.unwrap();
    assert!(detail.starts_with(&format!("connection to server at \"{}\", port 1 failed: ", pg_host())), "{detail}");
}

#[test]
fn bad_credentials_and_database_are_reported_with_the_remote_reason() {
    let db = ScratchDb::new("CREATE TABLE t (a int);");
    let fdw = PostgresFdw::new();
    let mut t = db.table("t", &[("a", DataType::Int4)]);
    t.user_mapping_options.set("user", "no_such_role_h8");
    t.user_mapping_options.set("password", PASSWORD);
    let e = scan_error(&fdw, t);
    assert_eq!((e.sqlstate.code(), e.message.as_str()), ("08001", "could not connect to server \"loopback\""));
    assert!(
        e.detail.as_deref().unwrap().ends_with("FATAL:  role \"no_such_role_h8\" does not exist"),
        "{:?}",
        e.detail
    );
    let mut t = db.table("t", &[("a", DataType::Int4)]);
    t.server_options.set("dbname", "no_such_db_h8");
    let e = scan_error(&fdw, t);
    assert!(e.detail.as_deref().unwrap().ends_with("FATAL:  database \"no_such_db_h8\" does not exist"));
}

#[test]
fn remote_errors_keep_sqlstate_and_show_the_remote_sql() {
    let db = ScratchDb::new("CREATE TABLE t (a int); INSERT INTO t VALUES (0);");
    let fdw = PostgresFdw::new();
    let mut t = db.table("nope", &[("a", DataType::Int4)]);
    t.user_mapping_options.set("password", PASSWORD);
    let e = scan_error(&fdw, t);
    assert_eq!(e.sqlstate.code(), "42P01");
    assert_eq!(e.message, "relation \"public.nope\" does not exist");
    assert_eq!(e.context, vec!["remote SQL command: SELECT a FROM public.nope".to_string()]);
    // A remote run-time error (division by zero in a shipped qual).
    let t = Arc::new(db.table("t", &[("a", DataType::Int4)]));
    let div = fdw_api::Expr::Binary {
        op: fdw_api::BinaryOp::Div,
        left: Box::new(int(1)),
        right: Box::new(col(0, DataType::Int4)),
        ty: DataType::Int4,
    };
    let r = rel(&t, vec![bin(fdw_api::BinaryOp::Eq, div, int(1))]);
    let req = request(&r, &plan_first(&fdw, &r), vec![0]);
    let ctx = ctx(false);
    let e = scan_all(&fdw, &req, &ctx, &[]).unwrap_err();
    rollback(&fdw, &ctx);
    assert_eq!((e.sqlstate.code(), e.message.as_str()), ("22012", "division by zero"));
}

#[test]
fn unsupported_connection_options_are_refused_clearly() {
    let db = ScratchDb::new("CREATE TABLE t (a int);");
    let fdw = PostgresFdw::new();
    let mut t = db.table("t", &[("a", DataType::Int4)]);
    t.server_options.set("sslmode", "require");
    let e = scan_error(&fdw, t);
    assert_eq!(e.message, "sslmode value \"require\" is not supported by this postgres_fdw");
    let mut t = db.table("t", &[("a", DataType::Int4)]);
    t.server_options.set("port", "abc");
    let e = scan_error(&fdw, t);
    assert_eq!(e.message, "invalid integer value \"abc\" for connection option \"port\"");
}
