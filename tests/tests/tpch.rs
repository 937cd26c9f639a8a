//! The 22 TPC-H queries at SF 0.01 against PostgreSQL's answers, and our EXPLAIN of each
//! against a golden file.
//!
//! The data is generated in-process (`tpchgen`, identical to dbgen) into a temporary
//! directory and read through file_fdw foreign tables (`tests/tpch/setup.sql`) in an in-memory
//! database. Answers compare with `tests/tpch/expected/sf0.01/qNN.csv` (PostgreSQL's, written
//! by `harness tpch-fixtures`) exactly as text, in ORDER BY order, rows with equal ORDER BY
//! keys as multisets (see `harness::tpch::compare`). Plans compare with
//! `tests/tpch/explain/qNN.txt` (our `EXPLAIN (COSTS OFF)`), so a planner change shows as a
//! diff; `UPDATE_GOLDENS=1 cargo test -p harness --test tpch` rewrites them.
//!
//! Each test prints one line per query (`q01 ok`, `q02 FAILED: ...`; see them with
//! `--nocapture`) and fails if any query fails. A query still running after
//! TPCH_QUERY_TIMEOUT seconds (default 60) fails as a timeout. No PostgreSQL is needed: the
//! fixtures are committed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use envelope::{Database, Session};
use harness::tpch::compare::{compare, parse_csv};
use harness::tpch::fixtures::{default_dir, fixture_path};
use harness::tpch::gen::{generate, FileFormat};
use harness::tpch::queries::{explain_ours, name, numbers, ordering, run_with_timeout, Answer, Outcome};
use harness::tpch::setup::setup_session;

const SF: f64 = 0.01;

/// A database with the TPC-H tables over freshly generated files (kept alive with it).
fn tpch_session() -> (tempfile::TempDir, Arc<Database>, Session) {
    let dir = tempfile::tempdir().expect("temp dir");
    generate(SF, dir.path(), FileFormat::Tbl).expect("generating TPC-H data");
    let db = Arc::new(Database::open_in_memory().expect("in-memory database"));
    let mut session = db.session();
    setup_session(&mut session, dir.path(), FileFormat::Tbl).expect("TPC-H setup");
    (dir, db, session)
}

/// The time limit of one query (TPCH_QUERY_TIMEOUT seconds, default 60): a plan gone wrong
/// (a cross product) fails its query instead of hanging the test.
fn query_timeout() -> Duration {
    let secs = std::env::var("TPCH_QUERY_TIMEOUT").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    Duration::from_secs(secs)
}

/// Prints the per-query report and panics if any query failed.
fn finish(what: &str, results: Vec<(usize, Result<(), String>)>) {
    let mut failed = Vec::new();
    for (n, r) in &results {
        match r {
            Ok(()) => println!("{} ok", name(*n)),
            Err(msg) => {
                println!("{} FAILED: {msg}", name(*n));
                failed.push(name(*n));
            }
        }
    }
    println!("{what}: {} of {} queries pass", results.len() - failed.len(), results.len());
    assert!(failed.is_empty(), "{what}: {} failed: {}", failed.len(), failed.join(", "));
}

#[test]
fn tpch_answers_match_postgresql() {
    let (_dir, db, _session) = tpch_session();
    let limit = query_timeout();
    let results = numbers()
        .map(|n| {
            let path = fixture_path(&default_dir(), SF, n);
            let check = || -> Result<(), String> {
                let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                let expected = parse_csv(&text).map_err(|e| format!("{}: {e}", path.display()))?;
                match run_with_timeout(&db, n, SF, limit) {
                    Outcome::Done(actual, _) => compare(&expected, &Answer::from_result(&actual), ordering(n)),
                    Outcome::Failed(e) => Err(e),
                    Outcome::Timeout => Err(format!("no answer after {} s (TPCH_QUERY_TIMEOUT)", limit.as_secs())),
                }
            };
            (n, check())
        })
        .collect();
    finish("TPC-H answers at SF 0.01", results);
}

fn explain_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tpch").join("explain")
}

#[test]
fn tpch_plans_match_goldens() {
    let (dir, _db, mut session) = tpch_session();
    // The files' directory changes from run to run; the goldens say @DIR@ (as setup.sql does).
    let dir = std::fs::canonicalize(dir.path()).expect("temp dir path");
    let dir = dir.to_str().expect("UTF-8 temp dir");
    let update = std::env::var("UPDATE_GOLDENS").is_ok_and(|v| v == "1");
    let results = numbers()
        .map(|n| {
            let plan = explain_ours(&mut session, n, SF).replace(dir, "@DIR@");
            let path = explain_dir().join(format!("{}.txt", name(n)));
            if update {
                return (n, std::fs::write(&path, &plan).map_err(|e| format!("{}: {e}", path.display())));
            }
            let check = match std::fs::read_to_string(&path) {
                Ok(golden) if golden == plan => Ok(()),
                Ok(golden) => Err(format!(
                    "plan differs from {} (UPDATE_GOLDENS=1 rewrites it)\n--- golden\n{golden}--- ours\n{plan}",
                    path.display()
                )),
                Err(e) => Err(format!("{}: {e} (UPDATE_GOLDENS=1 writes it)", path.display())),
            };
            (n, check)
        })
        .collect();
    finish("TPC-H EXPLAIN goldens", results);
}
