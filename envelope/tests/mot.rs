//! End-to-end SQL over MOT tables (the default storage of plain CREATE TABLE) through the
//! embedding API: constraints and their PostgreSQL error texts, transactions and their
//! visibility, optimistic conflicts between sessions, DDL, table locks, VACUUM,
//! generate_series, COPY and the size functions.

use std::time::{Duration, Instant};

use envelope::{Database, Error, QueryResult, Session};

fn ok(s: &mut Session, sql: &str) -> QueryResult {
    s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e:?}"))
}

fn fail(s: &mut Session, sql: &str) -> Error {
    match s.execute(sql) {
        Ok(r) => panic!("{sql}: expected an error, got {r:?}"),
        Err(e) => e,
    }
}

/// Rows as text (NULL as `NULL`).
fn rows(s: &mut Session, sql: &str) -> Vec<Vec<String>> {
    let r = ok(s, sql);
    r.rows.iter().map(|r| r.iter().map(|d| if d.is_null() { "NULL".into() } else { d.to_text() }).collect()).collect()
}

fn one(s: &mut Session, sql: &str) -> String {
    let r = rows(s, sql);
    assert_eq!(r.len(), 1, "{sql}: {r:?}");
    r[0][0].clone()
}

fn accounts(db: &Database) -> Session {
    let mut s = db.session();
    ok(
        &mut s,
        "CREATE TABLE acc (id int PRIMARY KEY, name text NOT NULL, bal numeric(12,2) DEFAULT 0, email text UNIQUE)",
    );
    s
}

#[test]
fn insert_select_default_returning() {
    let db = Database::open_in_memory().unwrap();
    let mut s = accounts(&db);
    let r = ok(&mut s, "INSERT INTO acc VALUES (1, 'a', 10, 'x@y'), (2, 'b', DEFAULT, NULL) RETURNING *");
    assert_eq!(r.tag, "INSERT 0 2");
    assert_eq!(r.rows.len(), 2);
    assert_eq!(r.rows[1][2].to_text(), "0.00");
    ok(&mut s, "INSERT INTO acc (id, name) VALUES (3, 'c')");
    assert_eq!(
        rows(&mut s, "SELECT id, name, bal, email FROM acc ORDER BY id"),
        vec![vec!["1", "a", "10.00", "x@y"], vec!["2", "b", "0.00", "NULL"], vec!["3", "c", "0.00", "NULL"]]
    );
    let r = ok(&mut s, "UPDATE acc SET bal = bal + 1 WHERE id = 2 RETURNING id, bal");
    assert_eq!(r.tag, "UPDATE 1");
    assert_eq!(r.rows[0][1].to_text(), "1.00");
    let r = ok(&mut s, "DELETE FROM acc WHERE id = 2 RETURNING *");
    assert_eq!(r.tag, "DELETE 1");
    assert_eq!(r.rows[0][1].to_text(), "b");
    assert_eq!(one(&mut s, "SELECT count(*) FROM acc"), "2");
}

#[test]
fn constraint_errors_have_postgres_wording() {
    let db = Database::open_in_memory().unwrap();
    let mut s = accounts(&db);
    ok(&mut s, "INSERT INTO acc VALUES (1, 'a', 10, 'x@y')");
    let e = fail(&mut s, "INSERT INTO acc VALUES (1, 'c', 1, NULL)");
    assert_eq!(e.sqlstate.0, "23505");
    assert_eq!(e.message, "duplicate key value violates unique constraint \"acc_pkey\"");
    assert_eq!(e.detail.as_deref(), Some("Key (id)=(1) already exists."));
    let e = fail(&mut s, "INSERT INTO acc VALUES (3, NULL, 1, NULL)");
    assert_eq!(e.sqlstate.0, "23502");
    assert_eq!(e.message, "null value in column \"name\" of relation \"acc\" violates not-null constraint");
    assert_eq!(e.detail.as_deref(), Some("Failing row contains (3, null, 1.00, null)."));
    let e = fail(&mut s, "INSERT INTO acc VALUES (3, 'd', 1, 'x@y')");
    assert_eq!(e.message, "duplicate key value violates unique constraint \"acc_email_key\"");
    assert_eq!(e.detail.as_deref(), Some("Key (email)=(x@y) already exists."));
    // A failed multi-row insert leaves nothing behind.
    let e = fail(&mut s, "INSERT INTO acc VALUES (5, 'e', 1, NULL), (1, 'f', 1, NULL)");
    assert_eq!(e.sqlstate.0, "23505");
    assert_eq!(one(&mut s, "SELECT count(*) FROM acc"), "1");
    // UPDATE: a key that moves onto another row's collides; one that stays put does not.
    ok(&mut s, "INSERT INTO acc VALUES (2, 'b', 0, 'b@y')");
    let e = fail(&mut s, "UPDATE acc SET id = 1 WHERE id = 2");
    assert_eq!(e.message, "duplicate key value violates unique constraint \"acc_pkey\"");
    let e = fail(&mut s, "UPDATE acc SET email = 'x@y' WHERE id = 2");
    assert_eq!(e.message, "duplicate key value violates unique constraint \"acc_email_key\"");
    assert_eq!(ok(&mut s, "UPDATE acc SET id = id, email = email, bal = bal + 1").tag, "UPDATE 2");
}

#[test]
fn transaction_blocks_and_visibility() {
    let db = Database::open_in_memory().unwrap();
    let mut a = accounts(&db);
    let mut b = db.session();
    ok(&mut a, "BEGIN");
    ok(&mut a, "INSERT INTO acc (id, name) VALUES (1, 'a')");
    assert_eq!(one(&mut a, "SELECT count(*) FROM acc"), "1");
    assert_eq!(one(&mut b, "SELECT count(*) FROM acc"), "0");
    ok(&mut a, "COMMIT");
    assert_eq!(one(&mut b, "SELECT count(*) FROM acc"), "1");
    ok(&mut a, "BEGIN");
    ok(&mut a, "UPDATE acc SET name = 'z'");
    ok(&mut a, "ROLLBACK");
    assert_eq!(one(&mut b, "SELECT name FROM acc"), "a");
    // An error aborts the block; COMMIT then rolls back.
    ok(&mut a, "BEGIN");
    ok(&mut a, "INSERT INTO acc (id, name) VALUES (2, 'b')");
    fail(&mut a, "INSERT INTO acc (id, name) VALUES (1, 'dup')");
    let e = fail(&mut a, "SELECT 1");
    assert_eq!(e.sqlstate.0, "25P02");
    assert_eq!(ok(&mut a, "COMMIT").tag, "ROLLBACK");
    assert_eq!(one(&mut b, "SELECT count(*) FROM acc"), "1");
}

#[test]
fn savepoints_are_refused() {
    let db = Database::open_in_memory().unwrap();
    let mut s = accounts(&db);
    ok(&mut s, "BEGIN");
    let e = fail(&mut s, "SAVEPOINT p");
    assert_eq!(e.sqlstate.0, "0A000");
    ok(&mut s, "ROLLBACK");
}

#[test]
fn concurrent_update_conflict_is_a_serialization_failure() {
    let db = Database::open_in_memory().unwrap();
    let mut s = accounts(&db);
    ok(&mut s, "INSERT INTO acc (id, name, bal) VALUES (1, 'a', 100)");
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let db = db.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut s = db.session();
                ok(&mut s, "BEGIN ISOLATION LEVEL SERIALIZABLE");
                ok(&mut s, "SELECT bal FROM acc WHERE id = 1");
                ok(&mut s, &format!("UPDATE acc SET bal = bal + {} WHERE id = 1", i + 1));
                barrier.wait();
                s.execute("COMMIT")
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let failures: Vec<&Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(failures.len(), 1, "{results:?}");
    assert_eq!(failures[0].sqlstate.0, "40001");
    let bal = one(&mut s, "SELECT bal FROM acc");
    assert!(bal == "101.00" || bal == "102.00", "{bal}");
}

#[test]
fn create_drop_index_and_alter_table() {
    let db = Database::open_in_memory().unwrap();
    let mut s = accounts(&db);
    ok(&mut s, "INSERT INTO acc (id, name) SELECT g, 'n' || g FROM generate_series(1, 100) g");
    assert_eq!(ok(&mut s, "CREATE INDEX acc_name_idx ON acc (name)").tag, "CREATE INDEX");
    assert_eq!(one(&mut s, "SELECT id FROM acc WHERE name = 'n42'"), "42");
    assert_eq!(ok(&mut s, "DROP INDEX acc_name_idx").tag, "DROP INDEX");
    assert_eq!(one(&mut s, "SELECT id FROM acc WHERE name = 'n42'"), "42");
    ok(&mut s, "ALTER TABLE acc ADD COLUMN flag int DEFAULT 7");
    assert_eq!(one(&mut s, "SELECT flag FROM acc WHERE id = 5"), "7");
    ok(&mut s, "ALTER TABLE acc RENAME COLUMN flag TO marker");
    assert_eq!(one(&mut s, "SELECT sum(marker) FROM acc"), "700");
    ok(&mut s, "ALTER TABLE acc DROP COLUMN marker");
    let e = fail(&mut s, "SELECT marker FROM acc");
    assert_eq!(e.sqlstate.0, "42703");
}

#[test]
fn truncate_rolls_back() {
    let db = Database::open_in_memory().unwrap();
    let mut s = accounts(&db);
    ok(&mut s, "INSERT INTO acc (id, name) SELECT g, 'x' FROM generate_series(1, 10) g");
    ok(&mut s, "BEGIN");
    assert_eq!(ok(&mut s, "TRUNCATE acc").tag, "TRUNCATE TABLE");
    assert_eq!(one(&mut s, "SELECT count(*) FROM acc"), "0");
    ok(&mut s, "ROLLBACK");
    assert_eq!(one(&mut s, "SELECT count(*) FROM acc"), "10");
}

#[test]
fn vacuum_keeps_rows_and_refuses_blocks() {
    let db = Database::open_in_memory().unwrap();
    let mut s = accounts(&db);
    ok(&mut s, "INSERT INTO acc (id, name) SELECT g, 'x' FROM generate_series(1, 1000) g");
    ok(&mut s, "DELETE FROM acc WHERE id % 2 = 0");
    assert_eq!(ok(&mut s, "VACUUM acc").tag, "VACUUM");
    assert_eq!(ok(&mut s, "VACUUM").tag, "VACUUM");
    assert_eq!(one(&mut s, "SELECT count(*) FROM acc"), "500");
    assert_eq!(one(&mut s, "SELECT name FROM acc WHERE id = 999"), "x");
    ok(&mut s, "BEGIN");
    let e = fail(&mut s, "VACUUM acc");
    assert_eq!(e.sqlstate.0, "25001");
    assert_eq!(e.message, "VACUUM cannot run inside a transaction block");
    ok(&mut s, "ROLLBACK");
    let e = fail(&mut s, "VACUUM nosuch");
    assert_eq!(e.message, "relation \"nosuch\" does not exist");
}

#[test]
fn generate_series_forms() {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    let r = ok(&mut s, "SELECT * FROM generate_series(1, 3)");
    assert_eq!(r.columns[0].name, "generate_series");
    assert_eq!(r.columns[0].ty, envelope::DataType::Int4);
    assert_eq!(r.rows.len(), 3);
    let r = ok(&mut s, "SELECT * FROM generate_series(1, 3) AS g");
    assert_eq!(r.columns[0].name, "g");
    let r = ok(&mut s, "SELECT x FROM generate_series(10, 1, -4) AS g(x)");
    assert_eq!(r.rows.iter().map(|r| r[0].to_text()).collect::<Vec<_>>(), ["10", "6", "2"]);
    assert_eq!(one(&mut s, "SELECT sum(g) FROM generate_series(1::bigint, 100) g"), "5050");
    assert_eq!(rows(&mut s, "SELECT * FROM generate_series(1, 2, 0.5)"), vec![vec!["1"], vec!["1.5"], vec!["2.0"]]);
    assert_eq!(
        rows(&mut s, "SELECT * FROM generate_series('2020-01-30'::timestamp, '2020-04-01', '1 month')"),
        vec![vec!["2020-01-30 00:00:00"], vec!["2020-02-29 00:00:00"], vec!["2020-03-29 00:00:00"]]
    );
    assert_eq!(one(&mut s, "SELECT count(*) FROM generate_series('2020-01-01'::date, '2020-12-31', '1 day')"), "366");
    assert_eq!(one(&mut s, "SELECT count(*) FROM generate_series(1, NULL)"), "0");
    let e = fail(&mut s, "SELECT * FROM generate_series(1, 3, 0)");
    assert_eq!((e.sqlstate.0, e.message.as_str()), ("22023", "step size cannot equal zero"));
    let e = fail(&mut s, "SELECT * FROM generate_series(1)");
    assert_eq!(e.message, "function generate_series(integer) does not exist");
    let e = s.query("SELECT * FROM generate_series(1, $1)", &[envelope::Datum::Int4(3)]).unwrap_err();
    assert_eq!(e.sqlstate.0, "0A000");
    assert!(e.message.contains("must be constants"), "{}", e.message);
    // Joined with a table, and memory stays flat for a long series.
    assert_eq!(one(&mut s, "SELECT count(*) FROM generate_series(1, 3000000) g WHERE g % 1000 = 0"), "3000");
}

#[test]
fn generate_series_bulk_insert() {
    let db = Database::open_in_memory().unwrap();
    let mut s = accounts(&db);
    let r = ok(&mut s, "INSERT INTO acc (id, name, bal) SELECT g, 'n' || g, g * 2 FROM generate_series(1, 50000) g");
    assert_eq!(r.tag, "INSERT 0 50000");
    assert_eq!(one(&mut s, "SELECT sum(bal) FROM acc"), "2500050000.00");
    assert_eq!(one(&mut s, "SELECT name FROM acc WHERE id = 31337"), "n31337");
}

#[test]
fn size_functions() {
    let db = Database::open_in_memory().unwrap();
    let mut s = accounts(&db);
    assert_eq!(one(&mut s, "SELECT pg_relation_size('acc')"), "0");
    ok(&mut s, "INSERT INTO acc (id, name, email) SELECT g, 'n' || g, 'e' || g FROM generate_series(1, 1000) g");
    let rel: i64 = one(&mut s, "SELECT pg_relation_size('acc')").parse().unwrap();
    let idx: i64 = one(&mut s, "SELECT pg_indexes_size('acc')").parse().unwrap();
    let total: i64 = one(&mut s, "SELECT pg_total_relation_size('acc')").parse().unwrap();
    assert!(rel > 1000 * 16, "{rel}");
    assert!(idx > 0, "{idx}");
    assert_eq!(total, rel + idx);
    assert_eq!(one(&mut s, "SELECT pg_table_size('acc')"), rel.to_string());
    assert_eq!(one(&mut s, "SELECT pg_relation_size('acc', 'fsm')"), "0");
    assert_eq!(one(&mut s, "SELECT pg_size_pretty(10485248::bigint)"), "10 MB");
    assert_eq!(
        one(&mut s, "SELECT pg_size_pretty(pg_relation_size('ACC')) = pg_size_pretty(pg_table_size('acc'))"),
        "t"
    );
    let e = fail(&mut s, "SELECT pg_relation_size('nosuch')");
    assert_eq!((e.sqlstate.0, e.message.as_str()), ("42P01", "relation \"nosuch\" does not exist"));
    assert_eq!(one(&mut s, "SELECT pg_relation_size(NULL)"), "NULL");
    assert_eq!(one(&mut s, "SELECT current_database()"), "postgres");
    assert_eq!(one(&mut s, "SELECT current_user"), "postgres");
    assert!(one(&mut s, "SELECT version()").starts_with("PostgreSQL 15"));
    // The engine's memory view lists the table and its two indexes.
    let pools = rows(&mut s, "SELECT name, kind FROM mot_memory_detail() WHERE bytes > 0 ORDER BY name");
    assert_eq!(pools, vec![vec!["acc", "table"], vec!["acc_email_key", "index"], vec!["acc_pkey", "index"]]);
    // A file_fdw table has no storage: 0, as PostgreSQL says for a foreign table.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f.csv");
    std::fs::write(&f, "1\n").unwrap();
    ok(&mut s, "CREATE SERVER fs FOREIGN DATA WRAPPER file_fdw");
    ok(&mut s, &format!("CREATE FOREIGN TABLE ft (a int) SERVER fs OPTIONS (filename '{}')", f.display()));
    assert_eq!(one(&mut s, "SELECT pg_total_relation_size('ft')"), "0");
}

#[test]
fn copy_from_csv_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, "id,name,email\n1,alice,a@x\n2,\"bob, jr\",\n3,carol,c@x\n").unwrap();
    let db = Database::open_in_memory().unwrap();
    let mut s = accounts(&db);
    let r = ok(&mut s, &format!("COPY acc (id, name, email) FROM '{}' WITH (FORMAT csv, HEADER true)", good.display()));
    assert_eq!(r.tag, "COPY 3");
    assert_eq!(
        rows(&mut s, "SELECT id, name, bal, email FROM acc ORDER BY id"),
        vec![
            vec!["1", "alice", "0.00", "a@x"],
            vec!["2", "bob, jr", "0.00", "NULL"],
            vec!["3", "carol", "0.00", "c@x"]
        ]
    );
    // A bad value on line 3: the error carries COPY's context and nothing is inserted.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "10,x,\n11,y,\nzz,z,\n").unwrap();
    let e = fail(&mut s, &format!("COPY acc (id, name, email) FROM '{}' (FORMAT csv)", bad.display()));
    assert_eq!(e.sqlstate.0, "22P02");
    assert_eq!(e.message, "invalid input syntax for type integer: \"zz\"");
    assert_eq!(e.context, vec!["COPY acc, line 3, column id: \"zz\"".to_string()]);
    assert_eq!(one(&mut s, "SELECT count(*) FROM acc"), "3");
    // A duplicate key stops the COPY and rolls it back.
    let dup = dir.path().join("dup.csv");
    std::fs::write(&dup, "20\tt\n1\tu\n").unwrap();
    let e = fail(&mut s, &format!("COPY acc (id, name) FROM '{}'", dup.display()));
    assert_eq!(e.sqlstate.0, "23505");
    assert_eq!(one(&mut s, "SELECT count(*) FROM acc WHERE id = 20"), "0");
    // Text format with a NULL marker; then COPY TO a file and back into a copy of the table.
    let text = dir.path().join("t.txt");
    std::fs::write(&text, "30|dora|-\n").unwrap();
    ok(&mut s, &format!("COPY acc (id, name, email) FROM '{}' (DELIMITER '|', NULL '-')", text.display()));
    assert_eq!(one(&mut s, "SELECT email IS NULL FROM acc WHERE id = 30"), "t");
    let out = dir.path().join("out.csv");
    assert_eq!(ok(&mut s, &format!("COPY acc TO '{}' (FORMAT csv, HEADER)", out.display())).tag, "COPY 4");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.starts_with("id,name,bal,email\n"), "{written}");
    assert!(written.contains("2,\"bob, jr\",0.00,\n"), "{written}");
    ok(&mut s, "CREATE TABLE acc2 (id int PRIMARY KEY, name text, bal numeric(12,2), email text)");
    assert_eq!(ok(&mut s, &format!("COPY acc2 FROM '{}' (FORMAT csv, HEADER)", out.display())).tag, "COPY 4");
    assert_eq!(one(&mut s, "SELECT count(*) FROM acc2 a JOIN acc b USING (id, name)"), "4");
    let r = ok(&mut s, "COPY (SELECT id, name FROM acc WHERE id < 3 ORDER BY id) TO STDOUT");
    assert_eq!(r.tag, "COPY 2");
    assert_eq!(r.rows.iter().map(|r| r[0].to_text()).collect::<Vec<_>>(), ["1\talice", "2\tbob, jr"]);
    let e = fail(&mut s, "COPY acc TO 'relative.csv'");
    assert_eq!(e.message, "relative path not allowed for COPY to file");
}

#[test]
fn ddl_waits_for_a_running_transaction_lock() {
    let db = Database::open_in_memory().unwrap();
    let mut a = accounts(&db);
    ok(&mut a, "INSERT INTO acc (id, name) VALUES (1, 'a')");
    ok(&mut a, "BEGIN");
    ok(&mut a, "SELECT * FROM acc");
    let mut b = db.session();
    ok(&mut b, "SET lock_timeout = '100ms'");
    let t0 = Instant::now();
    let e = fail(&mut b, "DROP TABLE acc");
    assert!(t0.elapsed() >= Duration::from_millis(100));
    assert_eq!((e.sqlstate.0, e.message.as_str()), ("55P03", "canceling statement due to lock timeout"));
    let e = fail(&mut b, "ALTER TABLE acc ADD COLUMN c int");
    assert_eq!(e.sqlstate.0, "55P03");
    // Readers and writers do not wait for each other.
    ok(&mut b, "INSERT INTO acc (id, name) VALUES (2, 'b')");
    // Once the transaction ends, the DDL goes through; a waiting DDL is woken at release.
    let db2 = db.clone();
    let h = std::thread::spawn(move || {
        let mut c = db2.session();
        ok(&mut c, "SET lock_timeout = '5s'");
        c.execute("DROP TABLE acc")
    });
    std::thread::sleep(Duration::from_millis(100));
    ok(&mut a, "COMMIT");
    assert_eq!(h.join().unwrap().unwrap().tag, "DROP TABLE");
    // A session dropped inside a block releases its locks.
    let mut s = accounts(&db);
    {
        let mut d = db.session();
        ok(&mut d, "BEGIN");
        ok(&mut d, "SELECT * FROM acc");
    }
    ok(&mut s, "SET lock_timeout = '100ms'");
    ok(&mut s, "DROP TABLE acc");
}

#[test]
fn transaction_over_a_file_table_and_a_mot_table() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("names.csv");
    std::fs::write(&f, "1,alice\n2,bob\n3,carol\n").unwrap();
    let db = Database::open_in_memory().unwrap();
    let mut s = accounts(&db);
    ok(&mut s, "CREATE SERVER fs FOREIGN DATA WRAPPER file_fdw");
    ok(
        &mut s,
        &format!(
            "CREATE FOREIGN TABLE names (id int, name text) SERVER fs OPTIONS (filename '{}', format 'csv')",
            f.display()
        ),
    );
    ok(&mut s, "BEGIN");
    assert_eq!(ok(&mut s, "INSERT INTO acc (id, name) SELECT id, name FROM names WHERE id <> 2").tag, "INSERT 0 2");
    assert_eq!(
        rows(&mut s, "SELECT n.name, a.bal FROM names n LEFT JOIN acc a ON a.id = n.id ORDER BY n.id"),
        vec![vec!["alice", "0.00"], vec!["bob", "NULL"], vec!["carol", "0.00"]]
    );
    ok(&mut s, "COMMIT");
    assert_eq!(rows(&mut s, "SELECT name FROM acc ORDER BY id"), vec![vec!["alice"], vec!["carol"]]);
}

/// A prepared statement keeps its plan across executions and replans after DDL and ANALYZE:
/// a plan that outlived its table (here: dropped and created again with another layout) would
/// read the old table or fail.
#[test]
fn prepared_plans_are_reused_and_replanned_after_ddl() {
    use envelope::Datum;
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    ok(&mut s, "CREATE TABLE kv (k int PRIMARY KEY, v text)");
    ok(&mut s, "INSERT INTO kv SELECT g, 'v' || g FROM generate_series(1, 100) g");
    let get = s.prepare("SELECT v FROM kv WHERE k = $1").unwrap();
    let put = s.prepare("UPDATE kv SET v = $2 WHERE k = $1").unwrap();
    let text = |r: &QueryResult| r.rows[0][0].to_text();
    for k in [1, 50, 100] {
        assert_eq!(text(&s.execute_prepared(&get, &[Datum::Int4(k)]).unwrap()), format!("v{k}"));
    }
    assert_eq!(s.execute_prepared(&put, &[Datum::Int4(7), Datum::text("seven")]).unwrap().tag, "UPDATE 1");
    assert_eq!(text(&s.execute_prepared(&get, &[Datum::Int4(7)]).unwrap()), "seven");
    // Inside a transaction block the cached plan sees the block's own writes.
    ok(&mut s, "BEGIN");
    assert_eq!(s.execute_prepared(&put, &[Datum::Int4(8), Datum::text("eight")]).unwrap().tag, "UPDATE 1");
    assert_eq!(text(&s.execute_prepared(&get, &[Datum::Int4(8)]).unwrap()), "eight");
    ok(&mut s, "ROLLBACK");
    assert_eq!(text(&s.execute_prepared(&get, &[Datum::Int4(8)]).unwrap()), "v8");
    // The table goes and comes back with the key in another column.
    ok(&mut s, "DROP TABLE kv");
    let e = s.execute_prepared(&get, &[Datum::Int4(1)]).unwrap_err();
    assert_eq!((e.sqlstate.0, e.message.as_str()), ("42P01", "relation \"kv\" does not exist"));
    ok(&mut s, "CREATE TABLE kv (v text, k int PRIMARY KEY)");
    ok(&mut s, "INSERT INTO kv VALUES ('new', 1)");
    assert_eq!(text(&s.execute_prepared(&get, &[Datum::Int4(1)]).unwrap()), "new");
    ok(&mut s, "ANALYZE kv");
    assert_eq!(text(&s.execute_prepared(&get, &[Datum::Int4(1)]).unwrap()), "new");
    // SQL-level PREPARE/EXECUTE share the mechanism.
    ok(&mut s, "PREPARE q(int) AS SELECT v FROM kv WHERE k = $1");
    assert_eq!(one(&mut s, "EXECUTE q(1)"), "new");
    ok(&mut s, "ALTER TABLE kv RENAME COLUMN v TO w");
    let e = fail(&mut s, "EXECUTE q(1)");
    assert_eq!(e.sqlstate.0, "42703", "{e:?}");
}

/// Primary-key lookups go through the index's hints (mot-engine `hint.rs`), which writers never
/// maintain: a key that moved, a row deleted and a key reused must never answer from a stale
/// hint, inside or outside a transaction block.
#[test]
fn point_lookups_survive_moved_deleted_and_reused_keys() {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    ok(&mut s, "CREATE TABLE h (k int PRIMARY KEY, v text)");
    ok(&mut s, "INSERT INTO h SELECT g, 'v' || g FROM generate_series(1, 3) g");
    let get = |s: &mut Session, k: i32| rows(s, &format!("SELECT v FROM h WHERE k = {k}"));
    assert_eq!(get(&mut s, 1), [["v1"]]);
    ok(&mut s, "UPDATE h SET k = 10 WHERE k = 1");
    assert!(get(&mut s, 1).is_empty());
    assert_eq!(get(&mut s, 10), [["v1"]]);
    ok(&mut s, "DELETE FROM h WHERE k = 10");
    assert!(get(&mut s, 10).is_empty());
    ok(&mut s, "INSERT INTO h VALUES (10, 'new ten'), (1, 'new one')");
    assert_eq!(get(&mut s, 10), [["new ten"]]);
    assert_eq!(get(&mut s, 1), [["new one"]]);
    // A transaction's own writes come first, then are gone with its rollback.
    ok(&mut s, "BEGIN");
    ok(&mut s, "UPDATE h SET v = 'mine' WHERE k = 2");
    assert_eq!(get(&mut s, 2), [["mine"]]);
    ok(&mut s, "DELETE FROM h WHERE k = 3");
    assert!(get(&mut s, 3).is_empty());
    ok(&mut s, "INSERT INTO h VALUES (4, 'four')");
    assert_eq!(get(&mut s, 4), [["four"]]);
    ok(&mut s, "ROLLBACK");
    assert_eq!(get(&mut s, 2), [["v2"]]);
    assert_eq!(get(&mut s, 3), [["v3"]]);
    assert!(get(&mut s, 4).is_empty());
}
