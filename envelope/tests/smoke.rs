//! End-to-end smoke tests of the SQL path through the embedding API (file_fdw tables over
//! temporary CSV files).

use envelope::{Database, Datum};

fn rows(db: &Database, sql: &str) -> Vec<Vec<String>> {
    let mut s = db.session();
    let r = s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    r.rows.iter().map(|r| r.iter().map(|d| if d.is_null() { "NULL".into() } else { d.to_text() }).collect()).collect()
}

#[test]
fn select_without_from() {
    let db = Database::open_in_memory().unwrap();
    assert_eq!(rows(&db, "SELECT 1 + 2, 'a' || 'b'"), vec![vec!["3".to_string(), "ab".to_string()]]);
    let mut s = db.session();
    let r = s.query("SELECT 1 + $1 AS two", &[Datum::Int4(1)]).unwrap();
    assert_eq!(r.columns[0].name, "two");
    assert_eq!(r.rows, vec![vec![Datum::Int4(2)]]);
}

#[test]
fn file_table_scan_filter_join_aggregate() {
    let dir = tempfile::tempdir().unwrap();
    let f1 = dir.path().join("t1.csv");
    std::fs::write(&f1, "1,a,10.5\n2,b,20\n3,c,\n4,a,7.25\n").unwrap();
    let f2 = dir.path().join("t2.csv");
    std::fs::write(&f2, "a,alpha\nb,beta\nz,zeta\n").unwrap();
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    for r in s.execute_batch(&format!(
        "CREATE SERVER fs FOREIGN DATA WRAPPER file_fdw;
         CREATE FOREIGN TABLE t1 (id int, k text, v numeric(10,2)) SERVER fs OPTIONS (filename '{}', format 'csv');
         CREATE FOREIGN TABLE t2 (k text, name text) SERVER fs OPTIONS (filename '{}', format 'csv');",
        f1.display(),
        f2.display()
    )) {
        r.unwrap();
    }
    assert_eq!(rows(&db, "SELECT id FROM t1 WHERE v > 8 ORDER BY id"), vec![vec!["1"], vec!["2"]]);
    assert_eq!(
        rows(&db, "SELECT t1.id, t2.name FROM t1 JOIN t2 ON t1.k = t2.k ORDER BY 1"),
        vec![vec!["1", "alpha"], vec!["2", "beta"], vec!["4", "alpha"]]
    );
    assert_eq!(
        rows(&db, "SELECT k, count(*), sum(v) FROM t1 GROUP BY k ORDER BY k"),
        vec![vec!["a", "2", "17.75"], vec!["b", "1", "20.00"], vec!["c", "1", "NULL"]]
    );
    assert_eq!(
        rows(&db, "SELECT t2.k, t1.id FROM t2 LEFT JOIN t1 ON t1.k = t2.k ORDER BY 1, 2"),
        vec![vec!["a", "1"], vec!["a", "4"], vec!["b", "2"], vec!["z", "NULL"]]
    );
    assert_eq!(rows(&db, "SELECT count(*) FROM t1 WHERE id IN (SELECT id FROM t1 WHERE k = 'a')"), vec![vec!["2"]]);
}

#[test]
fn plain_tables_insert_update_delete() {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    for r in s.execute_batch(
        "CREATE TABLE t (id int PRIMARY KEY, name text, score numeric(6,2) DEFAULT 1.5);
         INSERT INTO t VALUES (1, 'a', 10), (2, 'b', 20);
         INSERT INTO t (id, name) VALUES (3, 'c');
         UPDATE t SET score = score + 1 WHERE id >= 2;
         DELETE FROM t WHERE id = 1;",
    ) {
        r.unwrap();
    }
    assert_eq!(
        rows(&db, "SELECT id, name, score FROM t ORDER BY id"),
        vec![vec!["2", "b", "21.00"], vec!["3", "c", "2.50"]]
    );
    let e = s.execute("INSERT INTO t VALUES (2, 'dup', 0)").unwrap_err();
    assert_eq!(e.sqlstate.code(), "23505", "{e:?}");
    let r = s.execute("INSERT INTO t VALUES (7, 'x', 1) RETURNING id, score * 2").unwrap();
    assert_eq!(r.rows, vec![vec![Datum::Int4(7), Datum::Numeric("2.00".parse().unwrap())]]);
    assert_eq!(r.tag, "INSERT 0 1");
}

/// Sub-selects that become joins give the same answers as the sub-plans would, and the
/// plans show the joins.
#[test]
fn decorrelated_subqueries() {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    for r in s.execute_batch(
        "CREATE TABLE p (id int PRIMARY KEY, g int);
         CREATE TABLE c (pid int, q int);
         INSERT INTO p VALUES (1, 1), (2, 1), (3, 2), (4, NULL);
         INSERT INTO c VALUES (1, 10), (1, 20), (2, 5), (3, 7), (NULL, 1);",
    ) {
        r.unwrap();
    }
    assert_eq!(
        rows(&db, "SELECT id FROM p WHERE EXISTS (SELECT 1 FROM c WHERE c.pid = p.id) ORDER BY id"),
        vec![vec!["1"], vec!["2"], vec!["3"]]
    );
    assert_eq!(
        rows(&db, "SELECT id FROM p WHERE NOT EXISTS (SELECT 1 FROM c WHERE c.pid = p.id) ORDER BY id"),
        vec![vec!["4"]]
    );
    assert_eq!(
        rows(&db, "SELECT id FROM p WHERE id IN (SELECT pid FROM c WHERE q > 6) ORDER BY id"),
        vec![vec!["1"], vec!["3"]]
    );
    // NOT IN with a NULL in the sub-select is never true.
    assert_eq!(rows(&db, "SELECT count(*) FROM p WHERE id NOT IN (SELECT pid FROM c)"), vec![vec!["0"]]);
    assert_eq!(
        rows(&db, "SELECT c.pid, c.q FROM c WHERE c.q > (SELECT 0.8 * avg(c2.q) FROM c c2 WHERE c2.pid = c.pid) ORDER BY 1, 2"),
        vec![vec!["1", "20"], vec!["2", "5"], vec!["3", "7"]]
    );
    let plan =
        rows(&db, "EXPLAIN SELECT id FROM p WHERE EXISTS (SELECT 1 FROM c WHERE c.pid = p.id)").concat().join("\n");
    assert!(plan.contains("Semi Join"), "{plan}");
    let plan =
        rows(&db, "EXPLAIN SELECT id FROM p WHERE NOT EXISTS (SELECT 1 FROM c WHERE c.pid = p.id)").concat().join("\n");
    assert!(plan.contains("Anti Join"), "{plan}");
    let plan = rows(&db, "EXPLAIN SELECT c.q FROM c WHERE c.q > (SELECT avg(c2.q) FROM c c2 WHERE c2.pid = c.pid)")
        .concat()
        .join("\n");
    assert!(plan.contains("Left Join") && !plan.contains("SubPlan"), "{plan}");
}

#[test]
fn recursive_cte() {
    let db = Database::open_in_memory().unwrap();
    assert_eq!(
        rows(&db, "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT sum(n), count(*) FROM r"),
        vec![vec!["15", "5"]]
    );
    // UNION stops a walk around a cycle.
    let mut s = db.session();
    for r in s.execute_batch(
        "CREATE TABLE edge (a int, b int);
         INSERT INTO edge VALUES (1, 2), (2, 3), (3, 1), (3, 4);",
    ) {
        r.unwrap();
    }
    assert_eq!(
        rows(&db, "WITH RECURSIVE reach(x) AS (SELECT 1 UNION SELECT e.b FROM reach JOIN edge e ON e.a = reach.x) SELECT x FROM reach ORDER BY x"),
        vec![vec!["1"], vec!["2"], vec!["3"], vec!["4"]]
    );
    let e = s.execute("WITH RECURSIVE r(n) AS (SELECT n FROM r) SELECT * FROM r").unwrap_err();
    assert_eq!(e.sqlstate.code(), "42P19", "{e:?}");
}

#[test]
fn sorted_aggregation_when_hashing_is_off() {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    s.execute("SET enable_hashagg = off").unwrap();
    let r = s.execute("SELECT x % 3, count(*) FROM (VALUES (1), (2), (3), (4), (5), (NULL)) v(x) GROUP BY 1 ORDER BY 1 NULLS FIRST").unwrap();
    let got: Vec<String> = r.rows.iter().map(|r| format!("{}:{}", r[0].to_text(), r[1].to_text())).collect();
    assert_eq!(got, vec![":1", "0:1", "1:2", "2:2"]);
    let plan = s.execute("EXPLAIN SELECT x % 3, count(*) FROM (VALUES (1), (2)) v(x) GROUP BY 1").unwrap();
    let text: Vec<String> = plan.rows.iter().map(|r| r[0].to_text()).collect();
    assert!(text[0].starts_with("GroupAggregate") && text.iter().any(|l| l.contains("Sort Key")), "{text:?}");
}

/// One memory budget per query (`query_memory_limit`), shared by its hash tables and sorts:
/// past it the query fails with 53200 and the session goes on; the budget is a setting.
#[test]
fn query_memory_limit_bounds_a_query_and_names_itself() {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    assert_eq!(rows(&db, "SHOW query_memory_limit"), vec![vec!["1GB".to_string()]]);
    let q = "SELECT count(*) FROM (SELECT g % 20000 AS k, count(*) FROM generate_series(1, 40000) g GROUP BY 1) t";
    s.execute("SET query_memory_limit = '256kB'").unwrap();
    let e = s.execute(q).unwrap_err();
    assert_eq!((e.sqlstate.code(), e.message.as_str()), ("53200", "out of memory for query"));
    let detail = e.detail.unwrap_or_default();
    assert!(detail.contains("hash aggregate table") && detail.contains("query_memory_limit (256 kB)"), "{detail}");
    // Two sorts of 2,000 rows each fit alone, not together: the budget is per query.
    let one = "SELECT count(*) FROM (SELECT g FROM generate_series(1, 3000) g ORDER BY g DESC LIMIT 2999) a";
    let both = "SELECT count(*) FROM (SELECT g FROM generate_series(1, 3000) g ORDER BY g DESC LIMIT 2999) a, \
                (SELECT g FROM generate_series(1, 3000) g ORDER BY g LIMIT 2999) b WHERE a.g = b.g";
    s.execute("SET query_memory_limit = '200kB'").unwrap();
    assert_eq!(s.execute(one).unwrap().rows, vec![vec![Datum::Int8(2999)]]);
    assert_eq!(s.execute(both).unwrap_err().sqlstate.code(), "53200");
    let e = s.execute("SET query_memory_limit = '10kB'").unwrap_err();
    assert_eq!(e.message, "10 kB is outside the valid range for parameter \"query_memory_limit\" (64 .. 2147483647)");
    s.execute("RESET query_memory_limit").unwrap();
    assert_eq!(s.execute(q).unwrap().rows, vec![vec![Datum::Int8(20000)]]);
    assert_eq!(s.execute(both).unwrap().rows, vec![vec![Datum::Int8(2998)]]);
}
