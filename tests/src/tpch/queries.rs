//! The 22 TPC-H queries (`tests/tpch/queries/qNN.sql`: PostgreSQL syntax, the specification's
//! validation parameters) and running them on our session.
//!
//! Q11's `HAVING ... > sum(...) * 0.0001` uses the fraction for SF 1; at another scale factor
//! the specification divides it by SF, which [`query_text`] does. Q15 is a script (create a
//! view, query it, drop it): its answer is the result of the statement that returns rows.

use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use envelope::{Database, QueryResult, Session};
use rust_decimal::Decimal;

use crate::format::{format_error, text_rows};
use crate::split::{is_blank, split_statements};

const TEXTS: [&str; 22] = [
    include_str!("../../tpch/queries/q01.sql"),
    include_str!("../../tpch/queries/q02.sql"),
    include_str!("../../tpch/queries/q03.sql"),
    include_str!("../../tpch/queries/q04.sql"),
    include_str!("../../tpch/queries/q05.sql"),
    include_str!("../../tpch/queries/q06.sql"),
    include_str!("../../tpch/queries/q07.sql"),
    include_str!("../../tpch/queries/q08.sql"),
    include_str!("../../tpch/queries/q09.sql"),
    include_str!("../../tpch/queries/q10.sql"),
    include_str!("../../tpch/queries/q11.sql"),
    include_str!("../../tpch/queries/q12.sql"),
    include_str!("../../tpch/queries/q13.sql"),
    include_str!("../../tpch/queries/q14.sql"),
    include_str!("../../tpch/queries/q15.sql"),
    include_str!("../../tpch/queries/q16.sql"),
    include_str!("../../tpch/queries/q17.sql"),
    include_str!("../../tpch/queries/q18.sql"),
    include_str!("../../tpch/queries/q19.sql"),
    include_str!("../../tpch/queries/q20.sql"),
    include_str!("../../tpch/queries/q21.sql"),
    include_str!("../../tpch/queries/q22.sql"),
];

/// How a query's answer is ordered: the output columns of its ORDER BY (0-based, in ORDER BY
/// order) and its LIMIT. The order is total when the keys are; [`super::compare`] compares
/// rows with equal keys as multisets.
#[derive(Clone, Copy, Debug)]
pub struct Ordering {
    pub keys: &'static [usize],
    pub limit: Option<usize>,
}

const ORDERINGS: [Ordering; 22] = [
    Ordering { keys: &[0, 1], limit: None },            // l_returnflag, l_linestatus
    Ordering { keys: &[0, 2, 1, 3], limit: Some(100) }, // s_acctbal desc, n_name, s_name, p_partkey
    Ordering { keys: &[1, 2], limit: Some(10) },        // revenue desc, o_orderdate
    Ordering { keys: &[0], limit: None },               // o_orderpriority
    Ordering { keys: &[1], limit: None },               // revenue desc
    Ordering { keys: &[], limit: None },                // one row
    Ordering { keys: &[0, 1, 2], limit: None },         // supp_nation, cust_nation, l_year
    Ordering { keys: &[0], limit: None },               // o_year
    Ordering { keys: &[0, 1], limit: None },            // nation, o_year desc
    Ordering { keys: &[2], limit: Some(20) },           // revenue desc
    Ordering { keys: &[1], limit: None },               // value desc
    Ordering { keys: &[0], limit: None },               // l_shipmode
    Ordering { keys: &[1, 0], limit: None },            // custdist desc, c_count desc
    Ordering { keys: &[], limit: None },                // one row
    Ordering { keys: &[0], limit: None },               // s_suppkey
    Ordering { keys: &[3, 0, 1, 2], limit: None },      // supplier_cnt desc, p_brand, p_type, p_size
    Ordering { keys: &[], limit: None },                // one row
    Ordering { keys: &[4, 3], limit: Some(100) },       // o_totalprice desc, o_orderdate
    Ordering { keys: &[], limit: None },                // one row
    Ordering { keys: &[0], limit: None },               // s_name
    Ordering { keys: &[1, 0], limit: Some(100) },       // numwait desc, s_name
    Ordering { keys: &[0], limit: None },               // cntrycode
];

/// Query numbers, 1..=22.
pub fn numbers() -> impl Iterator<Item = usize> {
    1..=22
}

/// `q01` .. `q22`.
pub fn name(n: usize) -> String {
    format!("q{n:02}")
}

/// The ordering of query `n` (1..=22).
pub fn ordering(n: usize) -> Ordering {
    ORDERINGS[n - 1]
}

/// The text of query `n` (1..=22) for scale factor `sf`.
pub fn query_text(n: usize, sf: f64) -> String {
    let text = TEXTS[n - 1];
    if n != 11 {
        return text.to_string();
    }
    text.replace("* 0.0001", &format!("* {}", q11_fraction(sf)))
}

/// 0.0001 / SF as an exact decimal literal.
fn q11_fraction(sf: f64) -> String {
    let base = Decimal::new(1, 4);
    match Decimal::from_str_exact(&sf.to_string()) {
        Ok(sf) if !sf.is_zero() => (base / sf).normalize().to_string(),
        _ => base.to_string(),
    }
}

/// The statements of a query (one, or three for Q15).
pub fn statements(text: &str) -> Vec<String> {
    let split = split_statements(text);
    let mut out: Vec<String> = split.statements.iter().map(|s| s.trim().to_string()).collect();
    if !is_blank(&split.rest) {
        out.push(split.rest.trim().to_string());
    }
    out
}

/// A query's answer: column names and rows as psql prints them (NULL as the empty string, as
/// `psql --csv` does).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Answer {
    pub fn from_result(result: &QueryResult) -> Answer {
        Answer {
            columns: result.columns.iter().map(|c| c.name.clone()).collect(),
            rows: text_rows(result)
                .into_iter()
                .map(|r| r.into_iter().map(Option::unwrap_or_default).collect())
                .collect(),
        }
    }
}

/// Runs query `n` on our session; the error is psql's `ERROR:` text. After a failure Q15's
/// view is dropped so the next run starts clean.
pub fn run_ours(session: &mut Session, n: usize, sf: f64) -> Result<QueryResult, String> {
    let mut answer = None;
    for stmt in statements(&query_text(n, sf)) {
        match session.execute(&stmt) {
            Ok(r) if r.returns_rows => answer = Some(r),
            Ok(_) => {}
            Err(e) => {
                if n == 15 {
                    let _ = session.execute("DROP VIEW IF EXISTS revenue0");
                }
                return Err(format_error(&e).trim_end().to_string());
            }
        }
    }
    answer.ok_or_else(|| "the query returned no result set".to_string())
}

/// How a query run with a time limit ended.
#[derive(Debug)]
pub enum Outcome {
    /// The answer and the time the query took.
    Done(QueryResult, Duration),
    /// psql's `ERROR:` text (or a panic of the engine).
    Failed(String),
    /// Still running when the time limit passed.
    Timeout,
}

/// Runs query `n` on a new session of `db` on its own thread, waiting at most `limit`. The
/// engine has no statement_timeout yet, so a query past the limit is abandoned: its thread
/// keeps running (and a core busy) until it finishes or the process exits.
pub fn run_with_timeout(db: &Arc<Database>, n: usize, sf: f64, limit: Duration) -> Outcome {
    let (tx, rx) = channel();
    let db = db.clone();
    std::thread::spawn(move || {
        let mut session = db.session();
        let start = Instant::now();
        let r = run_ours(&mut session, n, sf);
        let _ = tx.send(r.map(|r| (r, start.elapsed())));
    });
    match rx.recv_timeout(limit) {
        Ok(Ok((r, t))) => Outcome::Done(r, t),
        Ok(Err(e)) => Outcome::Failed(e),
        Err(RecvTimeoutError::Timeout) => Outcome::Timeout,
        Err(RecvTimeoutError::Disconnected) => Outcome::Failed(format!("{}: the engine panicked", name(n))),
    }
}

/// Our `EXPLAIN (COSTS OFF)` of query `n`: the plan of each statement that returns rows (the
/// other statements of Q15 run); an error becomes its `ERROR:` text, so a golden file records
/// that a query does not plan yet.
pub fn explain_ours(session: &mut Session, n: usize, sf: f64) -> String {
    let mut out = String::new();
    for stmt in statements(&query_text(n, sf)) {
        let is_query = stmt.trim_start().get(..6).is_some_and(|w| w.eq_ignore_ascii_case("select"));
        let sql = if is_query { format!("EXPLAIN (COSTS OFF) {stmt}") } else { stmt };
        match session.execute(&sql) {
            Ok(r) if is_query => {
                for row in text_rows(&r) {
                    out.push_str(row.first().and_then(|v| v.as_deref()).unwrap_or(""));
                    out.push('\n');
                }
            }
            Ok(_) => {}
            Err(e) => {
                out.push_str(&format_error(&e));
                if n == 15 {
                    let _ = session.execute("DROP VIEW IF EXISTS revenue0");
                }
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q11_fraction_scales() {
        assert_eq!(q11_fraction(1.0), "0.0001");
        assert_eq!(q11_fraction(0.01), "0.01");
        assert_eq!(q11_fraction(0.1), "0.001");
        assert_eq!(q11_fraction(10.0), "0.00001");
        assert!(query_text(11, 0.01).contains("sum(ps_supplycost * ps_availqty) * 0.01\n"));
        assert_eq!(query_text(1, 0.01), TEXTS[0]);
    }

    #[test]
    fn q15_is_three_statements() {
        let s = statements(&query_text(15, 1.0));
        assert_eq!(s.len(), 3);
        assert!(s[0].starts_with("create view revenue0"));
        assert_eq!(s[2], "drop view revenue0");
        assert!(numbers().all(|n| n == 15 || statements(&query_text(n, 1.0)).len() == 1));
    }

    #[test]
    fn ordering_keys_are_output_columns() {
        assert_eq!(ordering(18).keys, &[4, 3]);
        assert_eq!(ORDERINGS.iter().filter(|o| o.limit.is_some()).count(), 5);
    }
}
