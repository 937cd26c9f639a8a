//! `harness bench remote`: TPC-H queries on a remote PostgreSQL three ways in one run: through
//! our remote-fdw (`postgres_fdw` in the envelope), through PostgreSQL's own postgres_fdw (a
//! loopback server in a second scratch database), and directly on the PostgreSQL that holds
//! the data.
//!
//! Setup (not timed): TPC-H at `--sf` (default 0.1) is generated (or reused) and loaded into a
//! scratch database with TPC-H's keys and foreign-key indexes ([`load_postgres`]); a second
//! scratch database gets `CREATE EXTENSION postgres_fdw`, a server pointing at the first,
//! `IMPORT FOREIGN SCHEMA public` and ANALYZE of the foreign tables; our database (in a
//! temporary directory) gets the same three statements and ANALYZE. Both wrappers run with
//! their default options (fetch_size 100, no remote estimates), so they plan from the same
//! kind of sampled statistics.
//!
//! Each query runs once to warm up, then `--runs` times (median). Rows fetched across the
//! wire are measured on one extra execution: for postgres_fdw, the actual rows (times loops)
//! of the Foreign Scan nodes of `EXPLAIN (ANALYZE, VERBOSE)`; for ours, the difference of
//! [`remote_fdw::rows_fetched`] around the query. The answers of both wrappers are checked
//! against the direct one with [`compare`].

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use envelope::{Database, Session};

use crate::format::{format_error, write_aligned, Align};
use crate::pg::{conninfo, simple_rows, ScratchDb};
use crate::tpch::compare::compare;
use crate::tpch::gen::{generate, is_generated, FileFormat};
use crate::tpch::queries::{name, ordering, query_text, run_ours, Answer, Ordering};
use crate::tpch::setup::{load_postgres, make_world_readable};
use crate::tpch::{sf_name, TABLES};

/// The TPC-H queries of the benchmark (the list); the point lookup follows them.
const QUERIES: [usize; 9] = [1, 3, 5, 6, 10, 12, 14, 18, 19];

/// The selective point lookup (one row through the primary key).
const POINT_LOOKUP: &str = "SELECT * FROM orders WHERE o_orderkey = 4225";

/// Options of `harness bench remote`.
#[derive(clap::Args, Debug)]
pub struct RemoteArgs {
    /// Scale factor.
    #[arg(long, default_value_t = 0.1)]
    pub sf: f64,
    /// Timed runs per query and system after the warm-up (median reported).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Per-query timeout in seconds on PostgreSQL (statement_timeout).
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
    /// Only these TPC-H queries (e.g. --queries 1,6); 0 is the point lookup.
    #[arg(long, value_delimiter = ',')]
    pub queries: Vec<usize>,
}

/// One query of the benchmark: a TPC-H number, or 0 for the point lookup.
#[derive(Clone, Copy, Debug)]
struct Query(usize);

impl Query {
    fn label(self) -> String {
        if self.0 == 0 {
            "point lookup".into()
        } else {
            name(self.0)
        }
    }
    fn text(self, sf: f64) -> String {
        if self.0 == 0 {
            POINT_LOOKUP.to_string()
        } else {
            query_text(self.0, sf)
        }
    }
    fn ordering(self) -> Ordering {
        if self.0 == 0 {
            Ordering { keys: &[], limit: None }
        } else {
            ordering(self.0)
        }
    }
}

/// How one system did on one query.
#[derive(Debug)]
enum Outcome {
    Done { median: Duration, answer: Answer, rows: Option<u64> },
    Error(String),
}

impl Outcome {
    fn millis(&self) -> Option<f64> {
        match self {
            Outcome::Done { median, .. } => Some(median.as_secs_f64() * 1000.0),
            Outcome::Error(_) => None,
        }
    }
    fn rows(&self) -> Option<u64> {
        match self {
            Outcome::Done { rows, .. } => *rows,
            Outcome::Error(_) => None,
        }
    }
    fn cell(&self) -> String {
        self.millis().map_or("error".into(), |m| format!("{m:.1}"))
    }
}

/// A warm-up, then `runs` timed runs of `once`; the median and the last answer.
fn time_runs(runs: usize, mut once: impl FnMut() -> Result<Answer, String>) -> Result<(Duration, Answer), String> {
    once()?;
    let mut times = Vec::new();
    let mut answer = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let a = once()?;
        times.push(start.elapsed());
        answer = Some(a);
    }
    times.sort();
    Ok((times[times.len() / 2], answer.unwrap_or(Answer { columns: vec![], rows: vec![] })))
}

fn pg_answer(client: &mut postgres::Client, sql: &str) -> Result<Answer, String> {
    match simple_rows(client, sql) {
        Ok((columns, rows)) => Ok(Answer {
            columns,
            rows: rows.into_iter().map(|r| r.into_iter().map(Option::unwrap_or_default).collect()).collect(),
        }),
        Err(e) => Err(match e.as_db_error() {
            Some(db) => format!("ERROR:  {}", db.message()),
            None => e.to_string(),
        }),
    }
}

fn ours_answer(session: &mut Session, q: Query, sf: f64) -> Result<Answer, String> {
    if q.0 == 0 {
        return session
            .execute(POINT_LOOKUP)
            .map(|r| Answer::from_result(&r))
            .map_err(|e| format_error(&e).trim_end().to_string());
    }
    run_ours(session, q.0, sf).map(|r| Answer::from_result(&r))
}

/// Sums `rows=R loops=L` (as R * L) over the Foreign Scan nodes of an `EXPLAIN ANALYZE` text.
fn foreign_scan_rows(plan: &[String]) -> u64 {
    let mut total = 0;
    for line in plan.iter().filter(|l| l.contains("Foreign Scan")) {
        let Some(actual) = line.split("(actual ").nth(1) else { continue };
        let field = |key: &str| -> Option<u64> {
            let rest = actual.split(key).nth(1)?;
            rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
        };
        if let (Some(rows), Some(loops)) = (field("rows="), field("loops=")) {
            total += rows * loops;
        }
    }
    total
}

/// Rows postgres_fdw fetched for `sql`: one `EXPLAIN (ANALYZE, VERBOSE)` execution.
fn fdw_rows(client: &mut postgres::Client, sql: &str) -> Result<u64, String> {
    let (_, rows) = simple_rows(client, &format!("EXPLAIN (ANALYZE, VERBOSE) {sql}")).map_err(|e| e.to_string())?;
    let lines: Vec<String> = rows.into_iter().filter_map(|r| r.into_iter().next().flatten()).collect();
    Ok(foreign_scan_rows(&lines))
}

/// Rows our remote-fdw fetched for one execution of `q`.
fn our_rows(session: &mut Session, q: Query, sf: f64) -> Result<u64, String> {
    let before = remote_fdw::rows_fetched();
    ours_answer(session, q, sf)?;
    Ok(remote_fdw::rows_fetched() - before)
}

fn run_statements(session: &mut Session, script: &str, what: &str) -> anyhow::Result<()> {
    for r in session.execute_batch(script) {
        if let Err(e) = r {
            bail!("{what}: {}", format_error(&e).trim_end());
        }
    }
    Ok(())
}

/// The `host`/`port`/`dbname` options of a server pointing at database `dbname`, and the
/// user name, from the PG* variables.
fn server_options(dbname: &str) -> (String, String) {
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let opts = format!(
        "host '{}', port '{}', dbname '{dbname}'",
        var("PGHOST", "127.0.0.1").replace('\'', "''"),
        var("PGPORT", "5432").replace('\'', "''")
    );
    (opts, var("PGUSER", "postgres").replace('\'', "''"))
}

struct Line {
    query: Query,
    ours: Outcome,
    fdw: Outcome,
    direct: Outcome,
    check: String,
}

/// Runs the benchmark and prints its report.
pub fn run(args: RemoteArgs) -> anyhow::Result<()> {
    let sf = args.sf;
    let dir = std::path::PathBuf::from("/tmp/envelope-tpch").join(sf_name(sf));
    if is_generated(&dir, sf, FileFormat::Tbl) {
        eprintln!("using TPC-H SF {sf} in {}", dir.display());
    } else {
        eprintln!("generating TPC-H SF {sf} in {}...", dir.display());
        generate(sf, &dir, FileFormat::Tbl)?;
    }
    if let Some(parent) = dir.parent() {
        make_world_readable(parent).ok();
    }
    make_world_readable(&dir)?;

    eprintln!("loading the remote PostgreSQL database (heap tables, keys, indexes, ANALYZE)...");
    let data = ScratchDb::create("remote_data")?;
    load_postgres(&mut data.connect()?, &dir, FileFormat::Tbl, true)?;
    let (server, user) = server_options(&data.name);
    let settings = format!("SET statement_timeout = '{}s';", args.timeout);
    let mut direct = data.connect()?;
    direct.batch_execute(&settings).context("postgres: settings")?;

    eprintln!("setting up PostgreSQL's postgres_fdw (loopback server, IMPORT FOREIGN SCHEMA, ANALYZE)...");
    let loopback = ScratchDb::create("remote_fdw")?;
    let mut fdw = loopback.connect()?;
    fdw.batch_execute(&format!(
        "CREATE EXTENSION postgres_fdw;
         CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS ({server});
         CREATE USER MAPPING FOR CURRENT_USER SERVER remote OPTIONS (user '{user}');
         IMPORT FOREIGN SCHEMA public FROM SERVER remote INTO public;
         ANALYZE;
         {settings}"
    ))
    .context("postgres_fdw setup")?;

    eprintln!("setting up ours (CREATE SERVER ... postgres_fdw, IMPORT FOREIGN SCHEMA, ANALYZE)...");
    let ours_dir = tempfile::Builder::new().prefix("envelope-remote-db-").tempdir()?;
    let db = Database::open(ours_dir.path()).map_err(|e| anyhow::anyhow!("{}", format_error(&e).trim_end()))?;
    let mut session = db.session();
    let analyze: String = TABLES.iter().map(|t| format!("ANALYZE {t};\n")).collect();
    run_statements(
        &mut session,
        &format!(
            "CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS ({server});
             CREATE USER MAPPING FOR CURRENT_USER SERVER remote OPTIONS (user '{user}');
             IMPORT FOREIGN SCHEMA public FROM SERVER remote INTO public;
             {analyze}"
        ),
        "our setup",
    )?;
    // Our connection from the connection string, to say which server the report is about.
    let remote = conninfo(Some(&data.name));

    let selected: Vec<Query> = QUERIES
        .iter()
        .copied()
        .chain([0])
        .filter(|n| args.queries.is_empty() || args.queries.contains(n))
        .map(Query)
        .collect();
    let mut lines = Vec::new();
    for q in selected {
        eprintln!("{}...", q.label());
        let text = q.text(sf);
        let direct_out = match time_runs(args.runs, || pg_answer(&mut direct, &text)) {
            Ok((median, answer)) => Outcome::Done { median, answer, rows: None },
            Err(e) => Outcome::Error(e),
        };
        let fdw_out = match time_runs(args.runs, || pg_answer(&mut fdw, &text)) {
            Ok((median, answer)) => match fdw_rows(&mut fdw, &text) {
                Ok(rows) => Outcome::Done { median, answer, rows: Some(rows) },
                Err(e) => Outcome::Error(e),
            },
            Err(e) => Outcome::Error(e),
        };
        let ours_out = match time_runs(args.runs, || ours_answer(&mut session, q, sf)) {
            Ok((median, answer)) => match our_rows(&mut session, q, sf) {
                Ok(rows) => Outcome::Done { median, answer, rows: Some(rows) },
                Err(e) => Outcome::Error(e),
            },
            Err(e) => Outcome::Error(e),
        };
        let mut problems = Vec::new();
        if let Outcome::Done { answer: expected, .. } = &direct_out {
            for (who, out) in [("ours", &ours_out), ("postgres_fdw", &fdw_out)] {
                if let Outcome::Done { answer, .. } = out {
                    if let Err(msg) = compare(expected, answer, q.ordering()) {
                        problems.push(format!("{who} MISMATCH: {msg}"));
                    }
                }
            }
        }
        for (who, out) in [("ours", &ours_out), ("postgres_fdw", &fdw_out), ("direct", &direct_out)] {
            if let Outcome::Error(e) = out {
                problems.push(format!("{who}: {e}"));
            }
        }
        let check = if problems.is_empty() { "ok".to_string() } else { problems.join("; ") };
        lines.push(Line { query: q, ours: ours_out, fdw: fdw_out, direct: direct_out, check });
    }
    print_report(&args, &remote, &lines);
    Ok(())
}

fn print_report(args: &RemoteArgs, remote: &str, lines: &[Line]) {
    let headers: Vec<String> =
        ["query", "ours ms", "postgres_fdw ms", "direct ms", "ratio (fdw/ours)", "ours rows", "fdw rows", "answer"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let aligns =
        [Align::Left, Align::Right, Align::Right, Align::Right, Align::Right, Align::Right, Align::Right, Align::Left];
    let ratio = |o: Option<f64>, p: Option<f64>| match (o, p) {
        (Some(o), Some(p)) => format!("{:.2}", p / o.max(1e-6)),
        _ => "-".into(),
    };
    let count = |r: Option<u64>| r.map_or("-".to_string(), |r| r.to_string());
    let mut cells: Vec<Vec<Option<String>>> = lines
        .iter()
        .map(|l| {
            vec![
                Some(l.query.label()),
                Some(l.ours.cell()),
                Some(l.fdw.cell()),
                Some(l.direct.cell()),
                Some(ratio(l.ours.millis(), l.fdw.millis())),
                Some(count(l.ours.rows())),
                Some(count(l.fdw.rows())),
                Some(if l.check == "ok" { "ok".into() } else { "see below".into() }),
            ]
        })
        .collect();
    // Totals over the queries all three finished, so the ratio compares like with like.
    let all: Vec<&Line> = lines
        .iter()
        .filter(|l| l.ours.millis().is_some() && l.fdw.millis().is_some() && l.direct.millis().is_some())
        .collect();
    let sum = |f: &dyn Fn(&Line) -> Option<f64>| all.iter().filter_map(|l| f(l)).sum::<f64>();
    let (o, f, d) = (sum(&|l| l.ours.millis()), sum(&|l| l.fdw.millis()), sum(&|l| l.direct.millis()));
    let rows = |f: &dyn Fn(&Line) -> Option<u64>| all.iter().filter_map(|l| f(l)).sum::<u64>();
    cells.push(vec![
        Some(format!("total ({} ran)", all.len())),
        Some(format!("{o:.1}")),
        Some(format!("{f:.1}")),
        Some(format!("{d:.1}")),
        Some(ratio(Some(o), Some(f))),
        Some(rows(&|l| l.ours.rows()).to_string()),
        Some(rows(&|l| l.fdw.rows()).to_string()),
        Some(format!("{} ok", lines.iter().filter(|l| l.check == "ok").count())),
    ]);
    println!(
        "Remote PostgreSQL, TPC-H SF {}: median of {} runs after a warm-up; ratio = postgres_fdw / ours \
         (above 1: ours faster); rows = rows fetched across the wire",
        args.sf, args.runs
    );
    println!("remote: {remote}");
    let mut out = String::new();
    write_aligned(&mut out, &headers, &aligns, &cells);
    print!("{out}");
    let more_rows: Vec<String> = lines
        .iter()
        .filter(|l| matches!((l.ours.rows(), l.fdw.rows()), (Some(o), Some(f)) if o > f))
        .map(|l| l.query.label())
        .collect();
    if !more_rows.is_empty() {
        println!("ours fetched more rows than postgres_fdw on: {}", more_rows.join(", "));
    }
    for l in lines.iter().filter(|l| l.check != "ok") {
        println!("{}: {}", l.query.label(), l.check);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_scan_rows_multiplies_loops_and_skips_other_nodes() {
        let plan: Vec<String> = [
            "Hash Join  (cost=1.00..2.00 rows=10 width=4) (actual time=0.1..0.2 rows=7 loops=1)",
            "  ->  Foreign Scan on public.orders  (cost=100.00..200.00 rows=10 width=4) (actual time=0.1..0.2 rows=12 loops=1)",
            "  ->  Foreign Scan  (cost=100.00..200.00 rows=10 width=4) (actual time=0.1..0.2 rows=3 loops=4)",
            "        Relations: (public.orders) INNER JOIN (public.customer)",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(foreign_scan_rows(&plan), 24);
    }
}
