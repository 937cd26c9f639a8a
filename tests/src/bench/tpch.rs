//! `harness bench tpch`: the 22 TPC-H queries on our engine (file_fdw over generated files)
//! against PostgreSQL on the same data, twice: loaded into heap tables (ANALYZEd; the main
//! comparison) and through PostgreSQL's own file_fdw over the same files.
//!
//! Loading and ANALYZE are not timed. Each query runs once to warm up, then `--runs` times
//! (median); PostgreSQL's file_fdw column runs once (`--fdw-runs`). Our tables are set up once
//! in a data directory; each query then runs in a child process of its own (`harness
//! tpch-query`, opening that directory), so a runaway query is killed after `--timeout`
//! seconds (the engine has no statement_timeout yet) and its peak RSS (`VmHWM`, reset after
//! the database is open) is the query's alone. PostgreSQL's queries honour
//! `statement_timeout`. Our answers are checked against PostgreSQL's heap answers with
//! [`crate::tpch::compare`].

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::Context;
use envelope::Database;

use crate::format::{format_error, write_aligned, write_csv, Align};
use crate::pg::{simple_rows, ScratchDb};
use crate::tpch::compare::{compare, parse_csv};
use crate::tpch::gen::{generate, is_generated, FileFormat};
use crate::tpch::queries::{name, numbers, ordering, query_text, run_ours, Answer};
use crate::tpch::setup::{load_postgres, make_world_readable, setup_session};
use crate::tpch::sf_name;

use super::timing::peak_rss_kb;

/// Options of `harness bench tpch`.
#[derive(clap::Args, Debug)]
pub struct TpchArgs {
    /// Scale factor.
    #[arg(long, default_value_t = 1.0)]
    pub sf: f64,
    /// Data directory (generated if missing; default /tmp/envelope-tpch/sfSF, which PostgreSQL's
    /// server process can read).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Timed runs per query after the warm-up (median reported).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Runs per query of PostgreSQL's file_fdw column (no warm-up).
    #[arg(long, default_value_t = 1)]
    pub fdw_runs: usize,
    /// Per-query timeout in seconds (statement_timeout on PostgreSQL).
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// Only these queries (e.g. --queries 1,6,14).
    #[arg(long, value_delimiter = ',')]
    pub queries: Vec<usize>,
    /// Run PostgreSQL without parallel workers (max_parallel_workers_per_gather = 0).
    #[arg(long)]
    pub pg_serial: bool,
    /// Give PostgreSQL's heap tables TPC-H's primary keys and foreign-key indexes (default: bare
    /// heap tables, the same access paths as our files; Q17 and Q20 then time out past SF 0.01).
    #[arg(long)]
    pub pg_indexes: bool,
}

/// The outcome of timing one query on one system.
#[derive(Clone, Debug)]
enum Timed {
    Done { median: Duration, answer: Answer },
    Timeout,
    Error(String),
}

impl Timed {
    fn cell(&self) -> String {
        match self {
            Timed::Done { median, .. } => format!("{:.1}", median.as_secs_f64() * 1000.0),
            Timed::Timeout => "timeout".into(),
            Timed::Error(_) => "error".into(),
        }
    }

    fn millis(&self) -> Option<f64> {
        match self {
            Timed::Done { median, .. } => Some(median.as_secs_f64() * 1000.0),
            _ => None,
        }
    }
}

/// Times `runs` executions after a warm-up (when `warm_up`), stopping at the first failure;
/// `once` returns the answer and the time of one execution.
fn time_runs(runs: usize, warm_up: bool, mut once: impl FnMut() -> Result<(Answer, Duration), Timed>) -> Timed {
    if warm_up {
        if let Err(t) = once() {
            return t;
        }
    }
    let mut times = Vec::new();
    let mut answer = None;
    for _ in 0..runs.max(1) {
        match once() {
            Ok((a, t)) => {
                answer = Some(a);
                times.push(t);
            }
            Err(t) => return t,
        }
    }
    times.sort();
    match answer {
        Some(answer) => Timed::Done { median: times[times.len() / 2], answer },
        None => Timed::Error("no run".into()),
    }
}

/// Runs query `n` in a child process over the data directory `data`: a warm-up, then `runs`
/// timed runs. The child is killed when the warm-up takes longer than `limit`, or the runs
/// longer than `runs * limit`. Returns the outcome and the child's peak RSS in kB.
fn ours_in_child(data: &Path, sf: f64, n: usize, runs: usize, limit: Duration) -> (Timed, Option<u64>) {
    let spawned = Command::new(std::env::current_exe().unwrap_or_else(|_| PathBuf::from("harness")))
        .arg("tpch-query")
        .arg("--data")
        .arg(data)
        .args(["--sf", &sf.to_string(), "--query", &n.to_string(), "--runs", &runs.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return (Timed::Error(format!("cannot run harness tpch-query: {e}")), None),
    };
    let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return (Timed::Error("no pipes to the child".into()), None);
    };
    // Lines arrive through a thread so waiting for them can time out.
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let outcome = read_child(&rx, limit, runs);
    if matches!(outcome, ChildOutput::Timeout) {
        let _ = child.kill();
    }
    let status = child.wait();
    let stderr_text = err_reader.join().unwrap_or_default();
    match outcome {
        ChildOutput::Timeout => (Timed::Timeout, None),
        ChildOutput::Done { times, rss_kb, csv } => match parse_csv(&csv) {
            Ok(answer) if !times.is_empty() => {
                let mut times = times;
                times.sort();
                (Timed::Done { median: times[times.len() / 2], answer }, rss_kb)
            }
            Ok(_) => (Timed::Error("the child reported no run".into()), rss_kb),
            Err(e) => (Timed::Error(format!("unreadable answer from the child: {e}")), rss_kb),
        },
        ChildOutput::Ended => {
            let msg = stderr_text.trim_end();
            let msg = if msg.is_empty() { format!("the child ended with {status:?}") } else { msg.to_string() };
            (Timed::Error(msg), None)
        }
    }
}

enum ChildOutput {
    Done {
        times: Vec<Duration>,
        rss_kb: Option<u64>,
        csv: String,
    },
    Timeout,
    /// The output ended early (an error, reported on stderr).
    Ended,
}

/// Reads the child's protocol: `warm MS`, then `run MS` per run, `rss KB`, `answer`, and the
/// answer as psql CSV until the end of the output.
fn read_child(rx: &Receiver<std::io::Result<String>>, limit: Duration, runs: usize) -> ChildOutput {
    let mut deadline = Instant::now() + limit;
    let (mut times, mut rss_kb, mut csv, mut in_answer) = (Vec::new(), None, String::new(), false);
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        let line = match rx.recv_timeout(wait) {
            Ok(Ok(line)) => line,
            Ok(Err(_)) | Err(RecvTimeoutError::Disconnected) => {
                return if in_answer { ChildOutput::Done { times, rss_kb, csv } } else { ChildOutput::Ended };
            }
            Err(RecvTimeoutError::Timeout) => return ChildOutput::Timeout,
        };
        if in_answer {
            csv.push_str(&line);
            csv.push('\n');
            continue;
        }
        let mut words = line.split_whitespace();
        let (key, value) = (words.next().unwrap_or(""), words.next().and_then(|v| v.parse::<f64>().ok()));
        match (key, value) {
            ("warm", _) => deadline = Instant::now() + limit * runs.max(1) as u32,
            ("run", Some(ms)) => times.push(Duration::from_secs_f64(ms / 1000.0)),
            ("rss", Some(kb)) => rss_kb = Some(kb as u64),
            ("answer", _) => {
                in_answer = true;
                deadline = Instant::now() + limit;
            }
            _ => {}
        }
    }
}

/// `harness tpch-query`: the child side of [`ours_in_child`]. Opens the database at `data`,
/// runs query `n` (warm-up and `runs` runs) and prints the protocol [`read_child`] reads.
pub fn child_main(data: &Path, sf: f64, n: usize, runs: usize) -> anyhow::Result<()> {
    let db = Database::open(data).map_err(|e| anyhow::anyhow!("{}", format_error(&e).trim_end()))?;
    let mut session = db.session();
    reset_peak_rss();
    let mut out = std::io::stdout().lock();
    let mut last = None;
    for run in 0..=runs.max(1) {
        let start = Instant::now();
        let r = run_ours(&mut session, n, sf).map_err(|e| anyhow::anyhow!("{e}"))?;
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        writeln!(out, "{} {ms:.3}", if run == 0 { "warm" } else { "run" })?;
        out.flush()?;
        last = Some(r);
    }
    if let Some(kb) = peak_rss_kb() {
        writeln!(out, "rss {kb}")?;
    }
    writeln!(out, "answer")?;
    if let Some(r) = last {
        let a = Answer::from_result(&r);
        let rows: Vec<Vec<Option<String>>> = a.rows.into_iter().map(|r| r.into_iter().map(Some).collect()).collect();
        let mut csv = String::new();
        write_csv(&mut csv, &a.columns, &rows);
        out.write_all(csv.as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

fn pg_once(client: &mut postgres::Client, n: usize, sf: f64) -> Result<(Answer, Duration), Timed> {
    let start = Instant::now();
    match simple_rows(client, &query_text(n, sf)) {
        Ok((columns, rows)) => Ok((
            Answer {
                columns,
                rows: rows.into_iter().map(|r| r.into_iter().map(Option::unwrap_or_default).collect()).collect(),
            },
            start.elapsed(),
        )),
        Err(e) => {
            if n == 15 {
                let _ = client.batch_execute("DROP VIEW IF EXISTS revenue0");
            }
            match e.as_db_error() {
                Some(db) if db.code().code() == "57014" => Err(Timed::Timeout),
                Some(db) => Err(Timed::Error(format!("ERROR:  {}", db.message()))),
                None => Err(Timed::Error(e.to_string())),
            }
        }
    }
}

/// Resets this process's peak RSS to its current RSS (Linux ≥ 4.0); false if unsupported.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

struct Line {
    n: usize,
    ours: Timed,
    pg: Timed,
    fdw: Timed,
    rss_mb: Option<f64>,
    check: String,
}

/// Runs the benchmark and prints its report.
pub fn run(args: TpchArgs) -> anyhow::Result<()> {
    let sf = args.sf;
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("/tmp/envelope-tpch").join(sf_name(sf)));
    if is_generated(&dir, sf, FileFormat::Tbl) {
        eprintln!("using TPC-H SF {sf} in {}", dir.display());
    } else {
        eprintln!("generating TPC-H SF {sf} in {}...", dir.display());
        generate(sf, &dir, FileFormat::Tbl)?;
    }
    if let Some(parent) = dir.parent().filter(|p| p.starts_with("/tmp/envelope-tpch")) {
        make_world_readable(parent).ok();
    }
    make_world_readable(&dir)?;

    // Our tables live in a data directory the per-query child processes open.
    let ours_dir = tempfile::Builder::new().prefix("envelope-tpch-db-").tempdir()?;
    eprintln!("setting up our foreign tables in {} (ANALYZE reads every file)...", ours_dir.path().display());
    {
        let db = Database::open(ours_dir.path()).map_err(|e| anyhow::anyhow!("{}", format_error(&e).trim_end()))?;
        setup_session(&mut db.session(), &dir, FileFormat::Tbl)?;
    }
    eprintln!("loading PostgreSQL heap tables...");
    let scratch = ScratchDb::create("tpch_bench")?;
    load_postgres(&mut scratch.connect()?, &dir, FileFormat::Tbl, args.pg_indexes)?;
    let settings = format!(
        "SET statement_timeout = '{}s';{}",
        args.timeout,
        if args.pg_serial { " SET max_parallel_workers_per_gather = 0;" } else { "" }
    );
    let mut heap = scratch.connect()?;
    heap.batch_execute(&settings).context("postgres: settings")?;
    let mut files = scratch.connect()?;
    files.batch_execute(&format!("{settings} SET search_path = files;")).context("postgres: settings")?;

    let timeout = Duration::from_secs(args.timeout);
    let rss_supported = reset_peak_rss();
    let selected: Vec<usize> = numbers().filter(|n| args.queries.is_empty() || args.queries.contains(n)).collect();
    let mut lines = Vec::new();
    for n in selected {
        eprintln!("{}...", name(n));
        let (our, rss_kb) = ours_in_child(ours_dir.path(), sf, n, args.runs, timeout);
        let rss_mb = rss_kb.map(|kb| kb as f64 / 1024.0);
        let pg = time_runs(args.runs, true, || pg_once(&mut heap, n, sf));
        let fdw = time_runs(args.fdw_runs, false, || pg_once(&mut files, n, sf));
        let check = match (&our, &pg) {
            (Timed::Done { answer: a, .. }, Timed::Done { answer: e, .. }) => match compare(e, a, ordering(n)) {
                Ok(()) => "ok".to_string(),
                Err(msg) => format!("MISMATCH: {msg}"),
            },
            (Timed::Error(msg), _) => msg.clone(),
            _ => "-".to_string(),
        };
        lines.push(Line { n, ours: our, pg, fdw, rss_mb, check });
    }
    print_report(&args, &lines, rss_supported);
    Ok(())
}

fn print_report(args: &TpchArgs, lines: &[Line], rss_supported: bool) {
    let headers: Vec<String> =
        ["query", "ours ms", "postgres ms", "ratio (pg/ours)", "pg file_fdw ms", "ours peak RSS MB", "answer"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let aligns = [Align::Left, Align::Right, Align::Right, Align::Right, Align::Right, Align::Right, Align::Left];
    let ratio = |o: Option<f64>, p: Option<f64>| match (o, p) {
        (Some(o), Some(p)) => format!("{:.2}", p / o.max(1e-6)),
        _ => "-".into(),
    };
    let mut cells: Vec<Vec<Option<String>>> = lines
        .iter()
        .map(|l| {
            let answer = if l.check.starts_with("ok") || l.check == "-" { l.check.clone() } else { "see below".into() };
            vec![
                Some(name(l.n)),
                Some(l.ours.cell()),
                Some(l.pg.cell()),
                Some(ratio(l.ours.millis(), l.pg.millis())),
                Some(l.fdw.cell()),
                Some(l.rss_mb.map_or("-".into(), |m| format!("{m:.1}"))),
                Some(answer),
            ]
        })
        .collect();
    // Totals over the queries both systems finished, so the ratio compares like with like.
    let both: Vec<&Line> = lines.iter().filter(|l| l.ours.millis().is_some() && l.pg.millis().is_some()).collect();
    let sum = |f: &dyn Fn(&Line) -> Option<f64>| both.iter().filter_map(|l| f(l)).sum::<f64>();
    let (o, p) = (sum(&|l| l.ours.millis()), sum(&|l| l.pg.millis()));
    let fdw_done = lines.iter().filter(|l| l.fdw.millis().is_some()).count();
    cells.push(vec![
        Some(format!("total ({} both ran)", both.len())),
        Some(format!("{o:.1}")),
        Some(format!("{p:.1}")),
        Some(ratio(Some(o), Some(p))),
        Some(format!("{:.1} ({fdw_done} ran)", sum(&|l| l.fdw.millis()))),
        Some(lines.iter().filter_map(|l| l.rss_mb).fold(0.0f64, f64::max)).map(|m| format!("max {m:.1}")),
        Some(format!("{} ok", lines.iter().filter(|l| l.check == "ok").count())),
    ]);
    println!(
        "TPC-H SF {}: median of {} runs after a warm-up (pg file_fdw: {} run{}), timeout {} s{}",
        args.sf,
        args.runs,
        args.fdw_runs,
        if args.fdw_runs == 1 { "" } else { "s" },
        args.timeout,
        if args.pg_serial { ", PostgreSQL without parallel workers" } else { "" }
    );
    println!(
        "PostgreSQL heap tables {}",
        if args.pg_indexes { "with TPC-H's keys and foreign-key indexes" } else { "without indexes" }
    );
    if !rss_supported {
        println!("(peak RSS per query unavailable: /proc/self/clear_refs not writable)");
    }
    let mut out = String::new();
    write_aligned(&mut out, &headers, &aligns, &cells);
    print!("{out}");
    println!("{}", plain_table(&headers, &aligns, &cells));
    for l in lines.iter().filter(|l| l.check != "ok" && l.check != "-") {
        println!("{}: {}", name(l.n), l.check);
    }
    for l in lines {
        for (who, t) in [("postgres", &l.pg), ("pg file_fdw", &l.fdw)] {
            if let Timed::Error(e) = t {
                println!("{} ({who}): {e}", name(l.n));
            }
        }
    }
}

/// The table as plain text: columns padded to their width, separated by two spaces, a dashed
/// rule under the header (for pasting into notes and reports).
fn plain_table(headers: &[String], aligns: &[Align], rows: &[Vec<Option<String>>]) -> String {
    let cell = |r: &Vec<Option<String>>, i: usize| r.get(i).cloned().flatten().unwrap_or_default();
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| rows.iter().map(|r| cell(r, i).chars().count()).chain([headers[i].len()]).max().unwrap_or(0))
        .collect();
    let line = |values: Vec<String>| {
        let parts: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| match aligns[i] {
                Align::Right => format!("{v:>w$}", w = widths[i]),
                _ => format!("{v:<w$}", w = widths[i]),
            })
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    let mut out = vec![line(headers.to_vec())];
    out.push(line(widths.iter().map(|w| "-".repeat(*w)).collect()));
    out.extend(rows.iter().map(|r| line((0..headers.len()).map(|i| cell(r, i)).collect())));
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_table_pads_columns() {
        let t = plain_table(
            &["q".to_string(), "ms".to_string()],
            &[Align::Left, Align::Right],
            &[vec![Some("q01".into()), Some("12.5".into())]],
        );
        assert_eq!(t, "q      ms\n---  ----\nq01  12.5");
    }

    #[test]
    fn time_runs_stops_at_failure_and_takes_median() {
        let mut n = 0;
        let t = time_runs(3, true, || {
            n += 1;
            Ok((Answer { columns: vec![], rows: vec![] }, Duration::from_millis(n)))
        });
        assert!(matches!(t, Timed::Done { .. }));
        assert_eq!(n, 4);
        assert!(matches!(time_runs(3, true, || Err(Timed::Timeout)), Timed::Timeout));
    }
}
