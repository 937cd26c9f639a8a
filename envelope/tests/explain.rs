//! EXPLAIN golden tests: the plans of a fixed set of queries over file_fdw tables (before and
//! after ANALYZE) and MOT tables are kept in `tests/explain/*.out`, so any planner change
//! shows as a diff. Run with `UPDATE_GOLDENS=1` to rewrite the files after an intended
//! change, then review the diff.

use std::path::{Path, PathBuf};

use envelope::{Database, Session};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn setup(s: &mut Session) {
    let d = data_dir();
    let script = format!(
        "CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
         CREATE FOREIGN TABLE emp (id int, dept text, salary int, proj int) SERVER files
           OPTIONS (filename '{d}/emp.csv', format 'csv');
         CREATE FOREIGN TABLE dept (name text, city text, budget int) SERVER files
           OPTIONS (filename '{d}/dept.csv', format 'csv');
         CREATE FOREIGN TABLE proj (id int, lead int, size int) SERVER files
           OPTIONS (filename '{d}/proj.csv', format 'csv');
         CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance int);
         CREATE INDEX accounts_owner_idx ON accounts (owner);
         INSERT INTO accounts SELECT id, dept, salary FROM emp;",
        d = d.display()
    );
    for r in s.execute_batch(&script) {
        r.unwrap();
    }
}

const QUERIES: &[(&str, &str)] = &[
    ("scan_filter", "SELECT id, salary FROM emp WHERE salary > 100000"),
    ("aggregate", "SELECT dept, count(*), avg(salary) FROM emp GROUP BY dept HAVING count(*) > 10 ORDER BY dept"),
    ("hash_join", "SELECT e.id, d.city FROM emp e JOIN dept d ON e.dept = d.name WHERE d.budget > 5"),
    (
        "three_way_join",
        "SELECT e.id, d.city, p.size FROM emp e JOIN dept d ON e.dept = d.name JOIN proj p ON p.lead = e.id",
    ),
    (
        "or_restrictions",
        "SELECT e.id FROM emp e JOIN dept d ON e.dept = d.name
         WHERE (e.salary > 140000 AND d.city = 'Paris') OR (e.salary < 1000 AND d.budget > 5 AND e.proj = 3)",
    ),
    ("left_join", "SELECT d.name, e.id FROM dept d LEFT JOIN emp e ON e.dept = d.name AND e.salary > 140000"),
    ("full_join", "SELECT d.name, e.id FROM dept d FULL JOIN emp e ON e.dept = d.name"),
    ("cross_join_limit", "SELECT d.name, p.id FROM dept d CROSS JOIN proj p ORDER BY p.id LIMIT 3"),
    ("top_n", "SELECT id FROM emp ORDER BY salary DESC, id LIMIT 5"),
    ("distinct_union", "SELECT dept FROM emp UNION SELECT name FROM dept"),
    ("exists_semi", "SELECT name FROM dept d WHERE EXISTS (SELECT 1 FROM emp e WHERE e.dept = d.name)"),
    ("not_exists_anti", "SELECT name FROM dept d WHERE NOT EXISTS (SELECT 1 FROM emp e WHERE e.dept = d.name)"),
    ("in_subquery", "SELECT id FROM proj WHERE lead IN (SELECT id FROM emp WHERE salary > 140000)"),
    (
        "scalar_agg_subquery",
        "SELECT id FROM emp e WHERE salary > (SELECT avg(salary) FROM emp e2 WHERE e2.dept = e.dept)",
    ),
    ("uncorrelated_scalar", "SELECT id FROM emp WHERE salary = (SELECT max(salary) FROM emp)"),
    ("values_cte", "WITH v(x) AS (VALUES (1), (2)) SELECT x FROM v WHERE x > 1"),
    ("index_point", "SELECT owner FROM accounts WHERE id = 42"),
    ("index_range_order", "SELECT id FROM accounts WHERE id BETWEEN 10 AND 20 ORDER BY id"),
    ("index_order_desc_limit", "SELECT id, balance FROM accounts ORDER BY id DESC LIMIT 3"),
    ("index_nested_loop", "SELECT p.id, a.owner FROM proj p JOIN accounts a ON a.id = p.lead WHERE p.size > 8"),
];

fn explain(s: &mut Session, sql: &str, costs: bool) -> String {
    let q = format!("EXPLAIN (COSTS {}) {sql}", if costs { "ON" } else { "OFF" });
    let r = s.execute(&q).unwrap_or_else(|e| panic!("{q}: {e:?}"));
    let mut out = String::new();
    for row in &r.rows {
        out.push_str(&row[0].to_text());
        out.push('\n');
    }
    out.replace(&data_dir().display().to_string(), "$DATA")
}

#[test]
fn explain_goldens() {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    setup(&mut s);
    let mut actual = String::new();
    for (name, sql) in QUERIES {
        actual.push_str(&format!("-- {name}\n{sql}\n{}\n", explain(&mut s, sql, false)));
    }
    s.execute("ANALYZE").unwrap();
    actual.push_str("-- after ANALYZE, with costs\n");
    for (name, sql) in &QUERIES[..6] {
        actual.push_str(&format!("-- {name}\n{sql}\n{}\n", explain(&mut s, sql, true)));
    }
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/explain/plans.out");
    if std::env::var_os("UPDATE_GOLDENS").is_some() {
        std::fs::write(&golden, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&golden)
        .unwrap_or_else(|_| panic!("{} is missing: run with UPDATE_GOLDENS=1 to create it", golden.display()));
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(20)
            .map(|(i, (a, b))| format!("line {}:\n  expected: {a}\n  actual:   {b}", i + 1))
            .collect();
        panic!("EXPLAIN output differs from {} (UPDATE_GOLDENS=1 to accept):\n{}", golden.display(), diff.join("\n"));
    }
}

/// EXPLAIN's TIMING and SUMMARY options and the Result node, with PostgreSQL 15's output
/// (checked with psql): TIMING OFF drops the times, SUMMARY OFF the totals, SUMMARY without
/// ANALYZE prints the planning time, TIMING without ANALYZE is an error.
#[test]
fn timing_summary_and_result() {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    s.execute("CREATE TABLE t (a int PRIMARY KEY, b text)").unwrap();
    s.execute("INSERT INTO t SELECT g, 'x' FROM generate_series(1, 10) g").unwrap();
    let lines = |s: &mut Session, sql: &str| -> Vec<String> {
        s.execute(sql).unwrap().rows.iter().map(|r| r[0].to_text()).collect()
    };
    assert_eq!(
        lines(&mut s, "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY OFF, COSTS OFF) SELECT count(*) FROM t WHERE a > 3"),
        [
            "Aggregate (actual rows=1 loops=1)",
            "  ->  Index Scan using t_pkey on t (actual rows=7 loops=1)",
            "        Index Cond: (a > 3)"
        ]
    );
    let timed = lines(&mut s, "EXPLAIN (ANALYZE, SUMMARY OFF, COSTS OFF) SELECT count(*) FROM t");
    assert_eq!(timed.len(), 2, "{timed:?}");
    assert!(timed[0].starts_with("Aggregate (actual time=") && timed[0].ends_with(" rows=1 loops=1)"), "{timed:?}");
    let summary = lines(&mut s, "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) SELECT 1");
    assert_eq!(summary[0], "Result (actual rows=1 loops=1)");
    assert!(summary[1].starts_with("Planning Time: ") && summary[2].starts_with("Execution Time: "), "{summary:?}");
    let planned = lines(&mut s, "EXPLAIN (SUMMARY ON, COSTS OFF) SELECT 1");
    assert_eq!(planned.len(), 2, "{planned:?}");
    assert!(planned[1].starts_with("Planning Time: "));
    assert_eq!(
        lines(&mut s, "EXPLAIN (VERBOSE, COSTS OFF) INSERT INTO t VALUES (1, 'y')"),
        ["Insert on public.t", "  ->  Result", "        Output: 1, 'y'::text"]
    );
    assert_eq!(lines(&mut s, "EXPLAIN (COSTS OFF) VALUES (1), (2)"), ["Values Scan on \"*VALUES*\""]);
    // The Hash node counts the rows it hashed, not its join's.
    s.execute("CREATE TABLE u (a int, c int); INSERT INTO u SELECT g, g FROM generate_series(1, 5) g").unwrap();
    s.execute("SET enable_nestloop = off; SET enable_mergejoin = off").unwrap();
    assert_eq!(
        lines(
            &mut s,
            "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY OFF, COSTS OFF) SELECT t.a FROM t JOIN u ON t.a = u.c + 100"
        ),
        [
            "Hash Join (actual rows=0 loops=1)",
            "  Hash Cond: (t.a = (u.c + 100))",
            "  ->  Seq Scan on t (actual rows=10 loops=1)",
            "  ->  Hash (actual rows=5 loops=1)",
            "        ->  Seq Scan on u (actual rows=5 loops=1)"
        ]
    );
    let e = s.execute("EXPLAIN (TIMING ON) SELECT 1").unwrap_err();
    assert_eq!((e.sqlstate.0, e.message.as_str()), ("22023", "EXPLAIN option TIMING requires ANALYZE"));
}

/// A correlated sub-select in the target list is printed under the node that computes it, its
/// plan indented below its label and the outer value it reads named, as PostgreSQL 15 prints it.
#[test]
fn target_list_subplans_are_shown() {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    s.execute("CREATE TABLE t (a int PRIMARY KEY, b int); CREATE TABLE u (a int, c int)").unwrap();
    let r = s.execute("EXPLAIN (COSTS OFF, VERBOSE) SELECT a, (SELECT max(c) FROM u WHERE u.a = t.b) FROM t").unwrap();
    let lines: Vec<String> = r.rows.iter().map(|r| r[0].to_text()).collect();
    assert_eq!(
        lines,
        [
            "Seq Scan on t",
            "  Output: t.a, (SubPlan 1)",
            "  SubPlan 1",
            "    ->  Aggregate",
            "          Output: max(u.c)",
            "          ->  Seq Scan on u",
            "                Output: u.c",
            "                Filter: (a = t.b)",
        ]
    );
}
