//! The lite execution path (`enable_lite_path`, MOT's `LiteRoutine`): which prepared
//! statements take it, that it answers exactly as the executor does (a differential run of
//! random statements and transactions against a database with the path turned off), and that
//! its point reads still take part in serializable validation.

use envelope::{Database, Datum, PreparedStatement, QueryResult, Session};

fn ok(s: &mut Session, sql: &str) -> QueryResult {
    s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e:?}"))
}

fn table(db: &Database) -> Session {
    let mut s = db.session();
    ok(&mut s, "CREATE TABLE t (k int PRIMARY KEY, u int UNIQUE, v int NOT NULL, w text DEFAULT 'd')");
    ok(&mut s, "INSERT INTO t SELECT g, 1000 + g, g * 10, 'w' || g FROM generate_series(1, 50) g");
    ok(&mut s, "ANALYZE t");
    s
}

#[test]
fn point_statements_take_the_lite_path_and_others_do_not() {
    let db = Database::open_in_memory().unwrap();
    let mut s = table(&db);
    let run = |s: &mut Session, sql: &str, params: &[Datum]| -> (PreparedStatement, QueryResult) {
        let p = s.prepare(sql).unwrap();
        let r = s.execute_prepared(&p, params).unwrap_or_else(|e| panic!("{sql}: {e:?}"));
        (p, r)
    };
    let lite = [
        ("SELECT v FROM t WHERE k = $1", vec![Datum::Int4(3)], "SELECT 1"),
        ("SELECT w, k FROM t WHERE u = $1", vec![Datum::Int4(1004)], "SELECT 1"),
        ("SELECT k FROM t WHERE k > $1", vec![Datum::Int4(45)], "SELECT 5"),
        ("UPDATE t SET v = v + $1 WHERE k = $2", vec![Datum::Int4(1), Datum::Int4(5)], "UPDATE 1"),
        ("UPDATE t SET v = 0 WHERE k = $1", vec![Datum::Int4(500)], "UPDATE 0"),
        ("DELETE FROM t WHERE k = $1", vec![Datum::Int4(6)], "DELETE 1"),
        ("INSERT INTO t VALUES ($1, $2, $3)", vec![Datum::Int4(60), Datum::Int4(60), Datum::Int4(1)], "INSERT 0 1"),
        ("INSERT INTO t (k, v) VALUES ($1, $1 * 2)", vec![Datum::Int4(61)], "INSERT 0 1"),
    ];
    for (sql, params, tag) in lite {
        let (p, r) = run(&mut s, sql, &params);
        assert_eq!(r.tag, tag, "{sql}");
        assert!(p.on_lite_path(), "{sql} should run on the lite path");
    }
    let executor = [
        ("SELECT count(*) FROM t WHERE k < $1", vec![Datum::Int4(10)]),
        ("SELECT upper(w) FROM t WHERE k = $1", vec![Datum::Int4(1)]),
        ("SELECT k FROM t WHERE k < $1 ORDER BY v DESC", vec![Datum::Int4(10)]),
        ("SELECT a.k FROM t a JOIN t b ON a.k = b.u WHERE a.k = $1", vec![Datum::Int4(1)]),
        ("UPDATE t SET v = v + 1 WHERE k = $1 RETURNING v", vec![Datum::Int4(1)]),
        ("INSERT INTO t SELECT k + 100, u + 100, v FROM t WHERE k = $1", vec![Datum::Int4(1)]),
        ("INSERT INTO t (k, v) VALUES ($1, 1), ($1 + 1, 2)", vec![Datum::Int4(70)]),
    ];
    for (sql, params) in executor {
        let (p, _) = run(&mut s, sql, &params);
        assert!(!p.on_lite_path(), "{sql} should run on the executor");
    }
    // The setting is a planner setting: changing it replans.
    let get = s.prepare("SELECT v FROM t WHERE k = $1").unwrap();
    let first = s.execute_prepared(&get, &[Datum::Int4(5)]).unwrap();
    assert!(get.on_lite_path());
    ok(&mut s, "SET enable_lite_path = off");
    assert_eq!(ok(&mut s, "SHOW enable_lite_path").rows[0][0].to_text(), "off");
    let again = s.execute_prepared(&get, &[Datum::Int4(5)]).unwrap();
    assert!(!get.on_lite_path());
    assert_eq!(first.rows, again.rows);
    assert_eq!(first.rows, vec![vec![Datum::Int4(51)]]);
}

/// A small deterministic generator (no dependency).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
    fn int(&mut self, n: u64) -> Datum {
        Datum::Int4(self.below(n) as i32)
    }
}

/// What a statement gave, comparable across the two databases.
fn outcome(r: envelope::Result<QueryResult>) -> String {
    match r {
        Ok(r) => format!("{} {:?}", r.tag, r.rows),
        Err(e) => format!("ERROR {} {}", e.sqlstate.0, e.message),
    }
}

#[test]
fn lite_path_answers_as_the_executor_does() {
    const STATEMENTS: [&str; 11] = [
        "SELECT k, u, v, w FROM t WHERE k = $1",
        "SELECT v FROM t WHERE u = $1",
        "SELECT k, v FROM t WHERE k >= $1 AND k < $2",
        "UPDATE t SET v = v + $1 WHERE k = $2",
        "UPDATE t SET u = $1 WHERE k = $2",
        "UPDATE t SET k = $1 WHERE k = $2",
        "DELETE FROM t WHERE k = $1",
        "INSERT INTO t VALUES ($1, $2, $3)",
        "INSERT INTO t (k, u, v) VALUES ($1, $2, NULL)",
        "INSERT INTO t (k, v) VALUES ($1, $2)",
        "UPDATE t SET v = NULL WHERE k = $1",
    ];
    let (lite_db, exec_db) = (Database::open_in_memory().unwrap(), Database::open_in_memory().unwrap());
    let (mut a, mut b) = (table(&lite_db), table(&exec_db));
    ok(&mut b, "SET enable_lite_path = off");
    let prep =
        |s: &mut Session| -> Vec<PreparedStatement> { STATEMENTS.iter().map(|q| s.prepare(q).unwrap()).collect() };
    let (pa, pb) = (prep(&mut a), prep(&mut b));
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut errors = 0;
    for step in 0..3000 {
        let which = rng.below(14) as usize;
        let (ra, rb) = if which >= STATEMENTS.len() {
            let sql = ["BEGIN", "COMMIT", "ROLLBACK"][which - STATEMENTS.len()];
            (outcome(a.execute(sql)), outcome(b.execute(sql)))
        } else {
            let params: Vec<Datum> = match which {
                2 => {
                    let lo = rng.below(80) as i32;
                    vec![Datum::Int4(lo), Datum::Int4(lo + rng.below(6) as i32)]
                }
                0 | 6 | 10 => vec![rng.int(80)],
                1 => vec![Datum::Int4(1000 + rng.below(80) as i32)],
                7 => vec![rng.int(80), Datum::Int4(1000 + rng.below(80) as i32), rng.int(100)],
                _ => vec![rng.int(80), rng.int(80)],
            };
            (outcome(a.execute_prepared(&pa[which], &params)), outcome(b.execute_prepared(&pb[which], &params)))
        };
        assert_eq!(ra, rb, "step {step}: statement {which}");
        errors += ra.starts_with("ERROR") as usize;
    }
    // The run met constraint errors and failed blocks, not only the easy cases.
    assert!(errors > 50, "only {errors} errors");
    for sql in ["COMMIT", "SELECT * FROM t ORDER BY k"] {
        assert_eq!(outcome(a.execute(sql)), outcome(b.execute(sql)));
    }
    for (i, p) in pa.iter().enumerate() {
        assert!(p.on_lite_path(), "{} should have run on the lite path", STATEMENTS[i]);
        assert!(!pb[i].on_lite_path());
    }
}

/// A point read that found its row needs no phantom check of its key (the row is in the read
/// set), and one that found nothing does: both must still fail a serializable commit when
/// another transaction changed what they saw.
#[test]
fn lite_point_reads_are_validated_at_commit() {
    let db = Database::open_in_memory().unwrap();
    let mut s1 = table(&db);
    let mut s2 = db.session();
    let get = s1.prepare("SELECT v FROM t WHERE k = $1").unwrap();
    let set = s1.prepare("UPDATE t SET v = $1 WHERE k = $2").unwrap();
    let write_elsewhere = |s1: &mut Session| s1.execute_prepared(&set, &[Datum::Int4(0), Datum::Int4(40)]).unwrap();
    let cases = [
        // Read a present row; another session deletes it.
        (1, "DELETE FROM t WHERE k = 1", true),
        // Read a present row; another session replaces it under the same key.
        (2, "DELETE FROM t WHERE k = 2; INSERT INTO t VALUES (2, 2, 2)", true),
        // Read an absent key; another session inserts it (a phantom).
        (90, "INSERT INTO t VALUES (90, 90, 90)", false),
    ];
    for (k, other, present) in cases {
        ok(&mut s1, "BEGIN ISOLATION LEVEL SERIALIZABLE");
        let r = s1.execute_prepared(&get, &[Datum::Int4(k)]).unwrap();
        assert_eq!(r.rows.len(), present as usize, "key {k}");
        assert!(get.on_lite_path());
        write_elsewhere(&mut s1);
        ok(&mut s2, other);
        let e = s1.execute("COMMIT").unwrap_err();
        assert_eq!(e.sqlstate.0, "40001", "key {k}: {e:?}");
    }
    // Without interference the same transaction commits.
    ok(&mut s1, "BEGIN ISOLATION LEVEL SERIALIZABLE");
    s1.execute_prepared(&get, &[Datum::Int4(3)]).unwrap();
    write_elsewhere(&mut s1);
    ok(&mut s1, "COMMIT");
}
