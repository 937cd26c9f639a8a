//! The `harness sql` binary: -c/-f/stdin, stop at the first error with exit status 1, --csv,
//! and a data directory that persists between runs.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn harness(data: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_harness"));
    cmd.arg("sql").arg("--data").arg(data).args(args);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn harness");
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

#[test]
fn commands_run_in_order_and_stop_at_the_first_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = harness(dir.path(), &["-c", "SELECT 1 AS a", "-c", "SELECT 1/0", "-c", "SELECT 2 AS b"], None);
    assert_eq!(text(&out.stdout), " a \n---\n 1\n(1 row)\n\n");
    assert_eq!(text(&out.stderr), "ERROR:  division by zero\n");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn csv_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = harness(dir.path(), &["--csv", "-c", "SELECT 1 AS a, 'x,y' AS b"], None);
    assert_eq!(text(&out.stdout), "a,b\n1,\"x,y\"\n");
    assert!(out.status.success());
}

#[test]
fn script_from_stdin_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let script = "SELECT 1 AS a;\n-- comment; not a statement\nSELECT 'a;b' AS s\n";
    let out = harness(dir.path(), &[], Some(script));
    assert_eq!(text(&out.stdout), " a \n---\n 1\n(1 row)\n\n  s  \n-----\n a;b\n(1 row)\n\n", "{}", text(&out.stderr));
    assert!(out.status.success());

    let file = dir.path().join("script.sql");
    std::fs::write(&file, "SELECT 1 AS a;\nSELECT nope;\nSELECT 3 AS c;\n").unwrap();
    let out = harness(dir.path(), &["-f", file.to_str().unwrap()], None);
    assert_eq!(text(&out.stdout), " a \n---\n 1\n(1 row)\n\n");
    assert!(text(&out.stderr).starts_with("ERROR:  column \"nope\" does not exist\n"), "{}", text(&out.stderr));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn command_tags_and_persistent_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("db");
    let csv = dir.path().join("t.csv");
    std::fs::write(&csv, "1,one\n2,two\n").unwrap();
    let ddl = format!(
        "CREATE EXTENSION file_fdw; CREATE SERVER s FOREIGN DATA WRAPPER file_fdw; \
         CREATE FOREIGN TABLE t (a int, b text) SERVER s OPTIONS (filename '{}', format 'csv')",
        csv.display()
    );
    let out = harness(&data, &["-c", &ddl], None);
    assert_eq!(text(&out.stdout), "CREATE EXTENSION\nCREATE SERVER\nCREATE FOREIGN TABLE\n", "{}", text(&out.stderr));
    // A second process sees the table created by the first.
    let out = harness(&data, &["-c", "SELECT b FROM t ORDER BY a DESC"], None);
    assert_eq!(text(&out.stdout), "  b  \n-----\n two\n one\n(2 rows)\n\n", "{}", text(&out.stderr));
}
