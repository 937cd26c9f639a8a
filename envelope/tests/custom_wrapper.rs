//! A wrapper written outside the workspace's crates, with `fdw-api` alone, plugged into a
//! database: the `series_fdw` example of `fdw-api/examples/series_wrapper` registered with
//! `DatabaseBuilder::register` and used through SQL from CREATE FOREIGN DATA WRAPPER to joins
//! and aggregates. The example's `main.rs` drives the same code without the envelope.

#[path = "../../fdw-api/examples/series_wrapper/wrapper.rs"]
mod wrapper;

use envelope::{Database, Datum, Session};

/// A database with series_fdw registered, a wrapper `series` (HANDLER and VALIDATOR), a
/// server and three tables: 1..10, the even numbers 0..1000000, and 5 down to -5 by 2.
fn setup() -> (Database, Session) {
    let db = Database::builder().register(wrapper::handler()).open().expect("open database");
    let mut s = db.session();
    for r in s.execute_batch(
        "CREATE FOREIGN DATA WRAPPER series HANDLER series_fdw VALIDATOR series_fdw;
         CREATE SERVER gen FOREIGN DATA WRAPPER series;
         CREATE FOREIGN TABLE squares (n bigint, square bigint, label text) SERVER gen OPTIONS (start '1', stop '10');
         CREATE FOREIGN TABLE evens (n bigint, label text) SERVER gen OPTIONS (start '0', stop '1000000', step '2');
         CREATE FOREIGN TABLE down (label text, n bigint) SERVER gen OPTIONS (start '5', stop '-5', step '-2');",
    ) {
        r.expect("setup");
    }
    (db, s)
}

/// Rows as text, NULL as "NULL".
fn rows(s: &mut Session, sql: &str) -> Vec<Vec<String>> {
    let r = s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    r.rows.iter().map(|r| r.iter().map(|d| if d.is_null() { "NULL".into() } else { d.to_text() }).collect()).collect()
}

fn table(lines: &[&[&str]]) -> Vec<Vec<String>> {
    lines.iter().map(|l| l.iter().map(|c| c.to_string()).collect()).collect()
}

fn explain(s: &mut Session, sql: &str) -> String {
    let plan = rows(s, &format!("EXPLAIN {sql}"));
    plan.iter().map(|r| r[0].as_str()).collect::<Vec<_>>().join("\n")
}

/// (SQLSTATE, message, hint) of a failing statement.
fn error(s: &mut Session, sql: &str) -> (String, String, Option<String>) {
    let e = s.execute(sql).expect_err(sql);
    (e.sqlstate.code().to_string(), e.message, e.hint)
}

#[test]
fn bad_options_fail_at_create() {
    let (_db, mut s) = setup();
    let (code, msg, hint) =
        error(&mut s, "CREATE FOREIGN TABLE t (n bigint) SERVER gen OPTIONS (start '1', stop '9', fiter 'x')");
    assert_eq!((code.as_str(), msg.as_str()), ("HV00D", "invalid option \"fiter\""));
    assert_eq!(hint.as_deref(), Some("Valid options in this context are: start, stop, step"));

    let (code, msg, _) = error(&mut s, "CREATE FOREIGN TABLE t (n bigint) SERVER gen OPTIONS (start '1', stop 'ten')");
    assert_eq!((code.as_str(), msg.as_str()), ("22023", "invalid value for integer option \"stop\": ten"));

    let (code, msg, _) =
        error(&mut s, "CREATE FOREIGN TABLE t (n bigint) SERVER gen OPTIONS (start '1', stop '9', step '0')");
    assert_eq!((code.as_str(), msg.as_str()), ("22023", "step size cannot equal zero"));

    let (code, msg, _) = error(&mut s, "CREATE FOREIGN TABLE t (n bigint) SERVER gen OPTIONS (start '1')");
    assert_eq!((code.as_str(), msg.as_str()), ("HV002", "option \"stop\" is required for series_fdw foreign tables"));

    let (code, msg, hint) = error(&mut s, "CREATE SERVER gen2 FOREIGN DATA WRAPPER series OPTIONS (start '1')");
    assert_eq!((code.as_str(), msg.as_str()), ("HV00D", "invalid option \"start\""));
    assert_eq!(hint.as_deref(), Some("Valid options in this context are: step"));

    let (code, msg, _) = error(&mut s, "ALTER FOREIGN TABLE squares OPTIONS (SET stop '1e3')");
    assert_eq!((code.as_str(), msg.as_str()), ("22023", "invalid value for integer option \"stop\": 1e3"));
    // Nothing was created or changed.
    assert_eq!(rows(&mut s, "SELECT count(*) FROM squares"), table(&[&["10"]]));
    assert_eq!(error(&mut s, "SELECT * FROM t").0, "42P01");
}

/// Without VALIDATOR, PostgreSQL checks no option at DDL time; the wrapper still reads its
/// options when planning, so the error comes with the first query.
#[test]
fn options_unchecked_without_validator_fail_at_planning() {
    let (_db, mut s) = setup();
    for r in s.execute_batch(
        "CREATE FOREIGN DATA WRAPPER lax HANDLER series_fdw;
         CREATE SERVER laxgen FOREIGN DATA WRAPPER lax;
         CREATE FOREIGN TABLE t (n bigint) SERVER laxgen OPTIONS (start '1', stop 'ten');",
    ) {
        r.expect("accepted without validator");
    }
    let (code, msg, _) = error(&mut s, "SELECT n FROM t");
    assert_eq!((code.as_str(), msg.as_str()), ("22023", "invalid value for integer option \"stop\": ten"));
}

#[test]
fn select_where_checks_rows() {
    let (_db, mut s) = setup();
    assert_eq!(
        rows(&mut s, "SELECT n, square, label FROM squares WHERE n < 4"),
        table(&[&["1", "1", "odd"], &["2", "4", "even"], &["3", "9", "odd"]])
    );
    assert_eq!(rows(&mut s, "SELECT square FROM squares WHERE n = 7"), table(&[&["49"]]));
    assert_eq!(rows(&mut s, "SELECT n FROM squares WHERE 8 <= n"), table(&[&["8"], &["9"], &["10"]]));
    assert_eq!(rows(&mut s, "SELECT n FROM squares WHERE n > 3 AND n <= 5"), table(&[&["4"], &["5"]]));
    // A qual the wrapper does not enforce is filtered by the envelope.
    assert_eq!(
        rows(&mut s, "SELECT n, label FROM squares WHERE n < 6 AND label = 'odd'"),
        table(&[&["1", "odd"], &["3", "odd"], &["5", "odd"]])
    );
    assert_eq!(rows(&mut s, "SELECT n FROM squares WHERE square > 80"), table(&[&["9"], &["10"]]));
    // Outside the series, or between two of its steps: nothing.
    assert!(rows(&mut s, "SELECT n FROM squares WHERE n = 11").is_empty());
    assert!(rows(&mut s, "SELECT n FROM evens WHERE n = 999999").is_empty());
    assert_eq!(rows(&mut s, "SELECT n, label FROM evens WHERE n = 999998"), table(&[&["999998", "even"]]));
    // A descending series, columns in another order.
    assert_eq!(
        rows(&mut s, "SELECT * FROM down"),
        table(&[&["odd", "5"], &["odd", "3"], &["odd", "1"], &["odd", "-1"], &["odd", "-3"], &["odd", "-5"]])
    );
    assert_eq!(rows(&mut s, "SELECT n FROM down WHERE n >= -1 AND n < 5"), table(&[&["3"], &["1"], &["-1"]]));
    // A parameter in a pushed qual is evaluated at execution.
    let r = s.query("SELECT square FROM squares WHERE n = $1", &[Datum::Int8(6)]).expect("query with $1");
    assert_eq!(r.rows, vec![vec![Datum::Int8(36)]]);
}

#[test]
fn order_by_uses_the_series_order() {
    let (_db, mut s) = setup();
    assert_eq!(
        rows(&mut s, "SELECT n FROM squares WHERE n > 6 ORDER BY n DESC"),
        table(&[&["10"], &["9"], &["8"], &["7"]])
    );
    assert_eq!(rows(&mut s, "SELECT n FROM down ORDER BY n LIMIT 2"), table(&[&["-5"], &["-3"]]));
    let plan = explain(&mut s, "SELECT n FROM squares ORDER BY n DESC");
    assert!(!plan.contains("Sort"), "{plan}");
    assert!(plan.contains("Generation Order: backward"), "{plan}");
}

#[test]
fn explain_shows_pushed_qual() {
    let (_db, mut s) = setup();
    let plan = explain(&mut s, "SELECT n, label FROM squares WHERE n = 3 AND label = 'odd'");
    assert!(plan.starts_with("Foreign Scan on squares"), "{plan}");
    assert!(plan.contains("Pushed Filter: (n = 3)"), "{plan}");
    assert!(plan.contains("Filter: (label = 'odd'::text)"), "{plan}");
    assert!(plan.contains("Series: 1 to 10 step 1"), "{plan}");
    // The estimate comes from the options: exactly one row matches `n = 3`.
    assert!(plan.contains("rows=1 "), "{plan}");
    let plan = explain(&mut s, "SELECT n FROM evens WHERE n < 1000");
    assert!(plan.contains("rows=500 "), "{plan}");
}

#[test]
fn join_with_another_series_table() {
    let (_db, mut s) = setup();
    assert_eq!(
        rows(&mut s, "SELECT a.n, a.square, b.label FROM squares a JOIN evens b ON a.n = b.n ORDER BY a.n"),
        table(&[
            &["2", "4", "even"],
            &["4", "16", "even"],
            &["6", "36", "even"],
            &["8", "64", "even"],
            &["10", "100", "even"]
        ])
    );
    // The big side as the inner side of a nested loop: one lookup per outer row, each a
    // rescan with the outer value as parameter, instead of generating 500001 rows.
    let sql = "SELECT a.n, b.n FROM squares a JOIN evens b ON b.n = a.square WHERE a.n < 5 ORDER BY a.n";
    assert_eq!(rows(&mut s, sql), table(&[&["2", "4"], &["4", "16"]]));
    let plan = explain(&mut s, sql);
    assert!(plan.contains("Nested Loop"), "{plan}");
    assert!(plan.contains("Foreign Scan (lookup) on evens b"), "{plan}");
}

#[test]
fn aggregates() {
    let (_db, mut s) = setup();
    assert_eq!(
        rows(&mut s, "SELECT label, count(*), sum(square), max(n) FROM squares GROUP BY label ORDER BY label"),
        table(&[&["even", "5", "220", "10"], &["odd", "5", "165", "9"]])
    );
    assert_eq!(rows(&mut s, "SELECT count(*), sum(n) FROM evens"), table(&[&["500001", "250000500000"]]));
    assert_eq!(rows(&mut s, "SELECT count(*) FROM evens WHERE n >= 999000"), table(&[&["501"]]));
}

#[test]
fn writes_fail_clearly() {
    let (_db, mut s) = setup();
    let (code, msg, _) = error(&mut s, "INSERT INTO squares VALUES (11, 121, 'odd')");
    assert_eq!((code.as_str(), msg.as_str()), ("0A000", "cannot insert into foreign table \"squares\""));
    let (code, msg, _) = error(&mut s, "DELETE FROM squares WHERE n = 1");
    assert_eq!((code.as_str(), msg.as_str()), ("0A000", "cannot delete from foreign table \"squares\""));
}

#[test]
fn bad_columns_and_overflow_fail_at_query_time() {
    let (_db, mut s) = setup();
    for r in s.execute_batch(
        "CREATE FOREIGN TABLE wrongcol (n bigint, cube bigint) SERVER gen OPTIONS (start '1', stop '3');
         CREATE FOREIGN TABLE wrongtype (n integer) SERVER gen OPTIONS (start '1', stop '3');
         CREATE FOREIGN TABLE huge (n bigint, square bigint) SERVER gen OPTIONS (start '3037000499', stop '3037000500');",
    ) {
        r.expect("create");
    }
    let (code, msg, hint) = error(&mut s, "SELECT * FROM wrongcol");
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("HV007", "column \"cube\" of foreign table \"wrongcol\" is not a series_fdw column")
    );
    assert!(hint.is_some());
    let (code, msg, _) = error(&mut s, "SELECT * FROM wrongtype");
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("HV004", "column \"n\" of foreign table \"wrongtype\" must have type bigint")
    );
    assert_eq!(rows(&mut s, "SELECT square FROM huge WHERE n = 3037000499"), table(&[&["9223372030926249001"]]));
    let e = s.execute("SELECT square FROM huge").expect_err("overflow");
    assert_eq!((e.sqlstate.code(), e.message.as_str()), ("22003", "bigint out of range"));
    assert_eq!(e.context, vec!["series_fdw table \"huge\", n = 3037000500".to_string()]);
}

#[test]
fn server_step_and_extremes() {
    let (_db, mut s) = setup();
    for r in s.execute_batch(
        "CREATE SERVER by5 FOREIGN DATA WRAPPER series OPTIONS (step '5');
         CREATE FOREIGN TABLE fives (n bigint) SERVER by5 OPTIONS (start '0', stop '20');
         CREATE FOREIGN TABLE threes (n bigint) SERVER by5 OPTIONS (start '0', stop '9', step '3');
         CREATE FOREIGN TABLE edge (n bigint) SERVER gen OPTIONS (start '9223372036854775806', stop '9223372036854775807');",
    ) {
        r.expect("create");
    }
    // The server's step applies unless the table sets its own.
    assert_eq!(rows(&mut s, "SELECT n FROM fives"), table(&[&["0"], &["5"], &["10"], &["15"], &["20"]]));
    assert_eq!(rows(&mut s, "SELECT n FROM threes"), table(&[&["0"], &["3"], &["6"], &["9"]]));
    // The last element of bigint's range ends the series without overflowing.
    assert_eq!(rows(&mut s, "SELECT n FROM edge"), table(&[&["9223372036854775806"], &["9223372036854775807"]]));
    assert_eq!(rows(&mut s, "SELECT n FROM edge WHERE n > 9223372036854775806"), table(&[&["9223372036854775807"]]));
    assert!(rows(&mut s, "SELECT n FROM edge WHERE n < -9223372036854775807").is_empty());
    // A NULL bound matches nothing.
    assert!(rows(&mut s, "SELECT n FROM fives WHERE n = NULL").is_empty());
    let r = s.query("SELECT n FROM fives WHERE n <= $1", &[Datum::Null]).expect("NULL parameter");
    assert!(r.rows.is_empty());
}
