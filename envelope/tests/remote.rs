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
