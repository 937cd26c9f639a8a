//! postgres_fdw through SQL: foreign tables on the local PostgreSQL (a scratch database made
//! and dropped by the test), with joins and aggregates pushed down as one remote query.

use envelope::Database;

struct Scratch {
    name: String,
}

fn pg() -> postgres::Client {
    let host = std::env::var("PGHOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port = std::env::var("PGPORT").unwrap_or_else(|_| "5432".into());
    let user = std::env::var("PGUSER").unwrap_or_else(|_| "postgres".into());
    postgres::Client::connect(&format!("host={host} port={port} user={user} dbname=postgres"), postgres::NoTls)
        .unwrap_or_else(|e| {
            panic!("PostgreSQL is not reachable at {host}:{port} ({e}): start it with `pg_ctlcluster 15 main start`")
        })
}

impl Scratch {
    fn new() -> Scratch {
        let name = format!(
            "envelope_remote_{}_{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() % 1_000_000
        );
        pg().batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        Scratch { name }
    }
    fn client(&self) -> postgres::Client {
        let host = std::env::var("PGHOST").unwrap_or_else(|_| "127.0.0.1".into());
        let port = std::env::var("PGPORT").unwrap_or_else(|_| "5432".into());
        let user = std::env::var("PGUSER").unwrap_or_else(|_| "postgres".into());
        postgres::Client::connect(&format!("host={host} port={port} user={user} dbname={}", self.name), postgres::NoTls)
            .unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = pg().batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

fn text_rows(r: &envelope::QueryResult) -> Vec<Vec<String>> {
    r.rows
        .iter()
        .map(|row| row.iter().map(|d| if d.is_null() { "NULL".into() } else { d.to_text() }).collect())
        .collect()
}

#[test]
fn remote_tables_with_join_and_aggregate_pushdown() {
    let scratch = Scratch::new();
    scratch
        .client()
        .batch_execute(
            "CREATE TABLE cust (id int PRIMARY KEY, name text, region text);
             CREATE TABLE ord (id int PRIMARY KEY, cust int, amount numeric(10,2));
             INSERT INTO cust SELECT g, 'c' || g, CASE WHEN g % 2 = 0 THEN 'east' ELSE 'west' END FROM generate_series(1, 50) g;
             INSERT INTO ord SELECT g, 1 + g % 50, (g * 7 % 100) + 0.25 FROM generate_series(1, 500) g;
             ANALYZE;",
        )
        .unwrap();
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    let port = std::env::var("PGPORT").unwrap_or_else(|_| "5432".into());
    let host = std::env::var("PGHOST").unwrap_or_else(|_| "127.0.0.1".into());
    let user = std::env::var("PGUSER").unwrap_or_else(|_| "postgres".into());
    for r in s.execute_batch(&format!(
        "CREATE SERVER pg FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '{host}', port '{port}', dbname '{}');
         CREATE USER MAPPING FOR CURRENT_USER SERVER pg OPTIONS (user '{user}', password 'secret-password');
         IMPORT FOREIGN SCHEMA public FROM SERVER pg INTO public;",
        scratch.name
    )) {
        r.unwrap();
    }
    // Join pushdown: one remote query, same answer as PostgreSQL.
    let q = "SELECT c.region, count(*), sum(o.amount) FROM ord o JOIN cust c ON o.cust = c.id WHERE o.amount > 50 GROUP BY c.region ORDER BY 1";
    let ours = text_rows(&s.execute(q).unwrap());
    let theirs: Vec<Vec<String>> = scratch
        .client()
        .query(
            "SELECT c.region, count(*)::text, sum(o.amount)::text FROM ord o JOIN cust c ON o.cust = c.id \
             WHERE o.amount > 50 GROUP BY c.region ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| vec![r.get::<_, String>(0), r.get::<_, String>(1), r.get::<_, String>(2)])
        .collect();
    assert_eq!(ours, theirs);
    let plan: Vec<String> =
        text_rows(&s.execute(&format!("EXPLAIN VERBOSE {q}")).unwrap()).into_iter().map(|r| r[0].clone()).collect();
    let plan = plan.join("\n");
    assert!(plan.contains("Remote SQL:") && plan.contains("JOIN"), "join not pushed down:\n{plan}");
    // The aggregation over the join goes with it: one remote query returns the groups.
    assert!(plan.contains("Relations: Aggregate on ((public.ord) INNER JOIN (public.cust))"), "{plan}");
    assert!(plan.contains("GROUP BY"), "aggregate over the join not pushed down:\n{plan}");
    assert!(!plan.contains("secret-password"), "password in EXPLAIN:\n{plan}");
    // Aggregate pushdown over one table.
    let q = "SELECT cust, count(*), max(amount) FROM ord WHERE id <= 100 GROUP BY cust";
    let plan: Vec<String> =
        text_rows(&s.execute(&format!("EXPLAIN VERBOSE {q}")).unwrap()).into_iter().map(|r| r[0].clone()).collect();
    let plan = plan.join("\n");
    assert!(plan.contains("GROUP BY"), "aggregate not pushed down:\n{plan}");
    let mut ours = text_rows(&s.execute(q).unwrap());
    ours.sort();
    let mut theirs: Vec<Vec<String>> = scratch
        .client()
        .query("SELECT cust::text, count(*)::text, max(amount)::text FROM ord WHERE id <= 100 GROUP BY cust", &[])
        .unwrap()
        .iter()
        .map(|r| vec![r.get::<_, String>(0), r.get::<_, String>(1), r.get::<_, String>(2)])
        .collect();
    theirs.sort();
    assert_eq!(ours, theirs);
    // HAVING goes with the aggregation (over an aggregate the select list does not show).
    let q = "SELECT cust, count(*) FROM ord GROUP BY cust HAVING sum(amount) > 530 ORDER BY cust";
    let plan: Vec<String> =
        text_rows(&s.execute(&format!("EXPLAIN VERBOSE {q}")).unwrap()).into_iter().map(|r| r[0].clone()).collect();
    let plan = plan.join("\n");
    assert!(plan.contains("HAVING ((sum(amount) > "), "HAVING not pushed down:\n{plan}");
    assert!(!plan.contains("Filter:"), "HAVING also applied locally:\n{plan}");
    let ours = text_rows(&s.execute(q).unwrap());
    let theirs: Vec<Vec<String>> = scratch
        .client()
        .query(q, &[])
        .unwrap()
        .iter()
        .map(|r| vec![r.get::<_, i32>(0).to_string(), r.get::<_, i64>(1).to_string()])
        .collect();
    assert!(!theirs.is_empty() && theirs.len() < 50, "{theirs:?}");
    assert_eq!(ours, theirs);
    // DML goes to the remote table inside the local transaction.
    s.execute("BEGIN").unwrap();
    s.execute("UPDATE cust SET name = 'renamed' WHERE id = 3").unwrap();
    s.execute("ROLLBACK").unwrap();
    let n: i64 = scratch.client().query_one("SELECT count(*) FROM cust WHERE name = 'renamed'", &[]).unwrap().get(0);
    assert_eq!(n, 0);
    s.execute("INSERT INTO cust VALUES (1000, 'new', 'north')").unwrap();
    let n: i64 = scratch.client().query_one("SELECT count(*) FROM cust WHERE id = 1000", &[]).unwrap().get(0);
    assert_eq!(n, 1);
}

/// Our session on a scratch database: server `pg`, a user mapping and the imported schema.
fn envelope_on(scratch: &Scratch) -> envelope::Session {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    let port = std::env::var("PGPORT").unwrap_or_else(|_| "5432".into());
    let host = std::env::var("PGHOST").unwrap_or_else(|_| "127.0.0.1".into());
    let user = std::env::var("PGUSER").unwrap_or_else(|_| "postgres".into());
    for r in s.execute_batch(&format!(
        "CREATE SERVER pg FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '{host}', port '{port}', dbname '{}');
         CREATE USER MAPPING FOR CURRENT_USER SERVER pg OPTIONS (user '{user}');
         IMPORT FOREIGN SCHEMA public FROM SERVER pg INTO public;",
        scratch.name
    )) {
        r.unwrap();
    }
    s
}

fn plan_of(s: &mut envelope::Session, sql: &str) -> String {
    let rows = text_rows(&s.execute(&format!("EXPLAIN (VERBOSE, COSTS OFF) {sql}")).unwrap());
    rows.into_iter().map(|r| r[0].clone()).collect::<Vec<_>>().join("\n")
}

/// The remote table's rows, `a:b` in key order.
fn remote_rows(scratch: &Scratch) -> Vec<String> {
    scratch
        .client()
        .query("SELECT a, b FROM t ORDER BY a", &[])
        .unwrap()
        .iter()
        .map(|r| format!("{}:{}", r.get::<_, i32>(0), r.get::<_, Option<String>>(1).unwrap_or_else(|| "NULL".into())))
        .collect()
}

/// A scratch database with `t (a int PRIMARY KEY, b text)` holding rows 1..=`rows` (`b` is
/// `'v' || a`), and a session of ours over it.
fn remote_t(rows: u32) -> (Scratch, envelope::Session) {
    let scratch = Scratch::new();
    scratch
        .client()
        .batch_execute(&format!(
            "CREATE TABLE t (a int PRIMARY KEY, b text);
             INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, {rows}) g;"
        ))
        .unwrap();
    let s = envelope_on(&scratch);
    (scratch, s)
}

#[test]
fn update_and_delete_run_as_one_remote_statement_when_pushable() {
    let (scratch, mut s) = remote_t(10);

    // UPDATE with constant and column expressions: PostgreSQL's postgres_fdw plan shape.
    let q = "UPDATE t SET b = 'x' WHERE a = 1";
    assert_eq!(
        plan_of(&mut s, q),
        "Update on public.t\n  ->  Foreign Update on public.t\n        Remote SQL: UPDATE public.t SET b = 'x'::text WHERE ((a = 1))"
    );
    assert_eq!(s.execute(q).unwrap().tag, "UPDATE 1");
    let q = "UPDATE t SET b = b || '!' WHERE a > 7";
    let plan = plan_of(&mut s, q);
    assert!(
        plan.contains("Foreign Update on public.t") && plan.contains("Remote SQL: UPDATE public.t SET b = "),
        "{plan}"
    );
    assert_eq!(s.execute(q).unwrap().tag, "UPDATE 3");
    // No row matches: still one statement, and the tag says so.
    assert_eq!(s.execute("UPDATE t SET b = 'never' WHERE a > 100").unwrap().tag, "UPDATE 0");

    // DELETE.
    let q = "DELETE FROM t WHERE a <= 2 AND a > 1";
    assert_eq!(
        plan_of(&mut s, q),
        "Delete on public.t\n  ->  Foreign Delete on public.t\n        Remote SQL: DELETE FROM public.t WHERE ((a <= 2)) AND ((a > 1))"
    );
    assert_eq!(s.execute(q).unwrap().tag, "DELETE 1");
    assert_eq!(remote_rows(&scratch), ["1:x", "3:v3", "4:v4", "5:v5", "6:v6", "7:v7", "8:v8!", "9:v9!", "10:v10!"]);

    // Without VERBOSE: the node names only.
    let rows = text_rows(&s.execute("EXPLAIN (COSTS OFF) DELETE FROM t WHERE a = 3").unwrap());
    let plan: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(plan, ["Delete on t", "  ->  Foreign Delete on t"]);
    // EXPLAIN ANALYZE runs it: actual rows on both nodes.
    let rows = text_rows(&s.execute("EXPLAIN (ANALYZE, COSTS OFF) DELETE FROM t WHERE a = 3").unwrap());
    assert!(rows[1][0].contains("Foreign Delete on t (actual"), "{rows:?}");

    // The direct statement belongs to the local transaction.
    s.execute("BEGIN").unwrap();
    assert_eq!(s.execute("DELETE FROM t").unwrap().tag, "DELETE 8");
    s.execute("ROLLBACK").unwrap();
    assert_eq!(remote_rows(&scratch).len(), 8);
}

#[test]
fn update_and_delete_fall_back_to_row_by_row_when_not_pushable() {
    let (scratch, mut s) = remote_t(6);

    // A qual with a function that is not shipped (upper depends on the remote locale).
    let q = "UPDATE t SET b = 'y' WHERE upper(b) = 'V3'";
    let plan = plan_of(&mut s, q);
    assert!(!plan.contains("Foreign Update") && plan.contains("Foreign Scan on"), "{plan}");
    assert!(plan.contains("FOR UPDATE") || plan.contains("ctid"), "{plan}");
    assert_eq!(s.execute(q).unwrap().tag, "UPDATE 1");
    // An assignment computed locally.
    let q = "UPDATE t SET b = upper(b) WHERE a = 4";
    assert!(!plan_of(&mut s, q).contains("Foreign Update"));
    assert_eq!(s.execute(q).unwrap().tag, "UPDATE 1");
    // A sub-select in the WHERE clause.
    let q = "DELETE FROM t WHERE a = (SELECT max(a) FROM t)";
    assert!(!plan_of(&mut s, q).contains("Foreign Delete"));
    assert_eq!(s.execute(q).unwrap().tag, "DELETE 1");
    // RETURNING takes the row-by-row path too, and returns the stored rows.
    let q = "UPDATE t SET b = 'z' WHERE a = 5 RETURNING a, b";
    assert!(!plan_of(&mut s, q).contains("Foreign Update"));
    let r = s.execute(q).unwrap();
    assert_eq!(r.tag, "UPDATE 1");
    assert_eq!(text_rows(&r), [["5", "z"]]);
    let q = "DELETE FROM t WHERE lower(b) = 'v1'";
    assert!(!plan_of(&mut s, q).contains("Foreign Delete"));
    assert_eq!(s.execute(q).unwrap().tag, "DELETE 1");
    assert_eq!(remote_rows(&scratch), ["2:v2", "3:y", "4:V4", "5:z"]);
}

/// PostgreSQL's answer to `sql`, every column as text (NULL as "NULL").
fn pg_text_rows(scratch: &Scratch, sql: &str) -> Vec<Vec<String>> {
    let mut c = scratch.client();
    let mut out = Vec::new();
    for m in c.simple_query(sql).unwrap() {
        if let postgres::SimpleQueryMessage::Row(r) = m {
            out.push((0..r.len()).map(|i| r.get(i).unwrap_or("NULL").to_string()).collect());
        }
    }
    out
}

#[test]
fn join_of_three_tables_with_aggregate_order_and_limit_is_one_remote_query() {
    let scratch = Scratch::new();
    scratch
        .client()
        .batch_execute(
            "CREATE TABLE cust (c_id int PRIMARY KEY, c_seg text);
             CREATE TABLE ord (o_id int PRIMARY KEY, o_cust int, o_date date, o_prio int);
             CREATE TABLE item (i_ord int, i_price numeric(12,2), i_disc numeric(4,2), i_ship date);
             INSERT INTO cust SELECT g, CASE WHEN g % 5 = 0 THEN 'BUILDING' ELSE 'OTHER' END FROM generate_series(1, 300) g;
             INSERT INTO ord SELECT g, 1 + g % 300, date '1995-01-01' + g % 150, g % 3 FROM generate_series(1, 2000) g;
             INSERT INTO item SELECT 1 + g % 2000, (g * 37 % 1000) + 0.5, (g % 10) / 100.0, date '1995-01-01' + g % 200
               FROM generate_series(1, 8000) g;
             ANALYZE;",
        )
        .unwrap();
    let mut s = envelope_on(&scratch);
    s.execute("ANALYZE cust").unwrap();
    s.execute("ANALYZE ord").unwrap();
    s.execute("ANALYZE item").unwrap();
    // TPC-H Q3's shape: three tables, GROUP BY, ORDER BY an aggregate, LIMIT.
    let q = "SELECT i_ord, sum(i_price * (1 - i_disc)) AS revenue, o_date, o_prio \
             FROM cust, ord, item \
             WHERE c_seg = 'BUILDING' AND c_id = o_cust AND i_ord = o_id \
               AND o_date < date '1995-03-15' AND i_ship > date '1995-03-15' \
             GROUP BY i_ord, o_date, o_prio ORDER BY revenue DESC, o_date, i_ord LIMIT 10";
    let plan = plan_of(&mut s, q);
    assert_eq!(plan.matches("Foreign Scan").count(), 1, "not one remote query:\n{plan}");
    assert!(
        plan.contains("Relations: Aggregate on (((public.cust) INNER JOIN (public.ord)) INNER JOIN (public.item))"),
        "{plan}"
    );
    assert!(plan.contains("Remote SQL: SELECT "), "{plan}");
    assert!(plan.contains("FROM ((public.cust r1 INNER JOIN public.ord r2 ON ("), "{plan}");
    assert!(plan.contains(") INNER JOIN public.item r3 ON ("), "{plan}");
    assert!(plan.contains(" GROUP BY "), "{plan}");
    assert!(plan.contains(" DESC NULLS FIRST"), "ORDER BY not pushed down:\n{plan}");
    assert!(plan.contains(" LIMIT 10::bigint"), "LIMIT not pushed down:\n{plan}");
    assert!(!plan.contains("Sort") && !plan.contains("Aggregate\n"), "{plan}");
    let before = remote_fdw::rows_fetched();
    let ours = text_rows(&s.execute(q).unwrap());
    assert_eq!(remote_fdw::rows_fetched() - before, 10, "only the ten groups cross the wire");
    let theirs = pg_text_rows(&scratch, q);
    assert_eq!(theirs.len(), 10);
    assert_eq!(ours, theirs);
    // With an OFFSET: the remote query returns LIMIT + OFFSET rows, the envelope skips.
    let q2 = q.replace("LIMIT 10", "LIMIT 4 OFFSET 3");
    assert!(plan_of(&mut s, &q2).contains(" LIMIT 7::bigint"), "{}", plan_of(&mut s, &q2));
    assert_eq!(text_rows(&s.execute(&q2).unwrap()), pg_text_rows(&scratch, &q2));
    // A plain three-table join (no aggregate) is pushed down as one nested join too.
    let q3 = "SELECT c_id, o_id, i_price FROM cust JOIN ord ON c_id = o_cust JOIN item ON i_ord = o_id \
              WHERE c_seg = 'BUILDING' AND i_price > 990 ORDER BY 1, 2, 3";
    let plan = plan_of(&mut s, q3);
    assert_eq!(plan.matches("Foreign Scan").count(), 1, "not one remote query:\n{plan}");
    assert!(plan.contains("Relations: ((public.cust) INNER JOIN (public.ord)) INNER JOIN (public.item)"), "{plan}");
    let ours = text_rows(&s.execute(q3).unwrap());
    let theirs = pg_text_rows(&scratch, q3);
    assert!(!theirs.is_empty());
    assert_eq!(ours, theirs);
}
