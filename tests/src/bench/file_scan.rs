//! `harness bench file-scan`: full scans and aggregates over a generated CSV through file_fdw,
//! ours against PostgreSQL's, on the same file.
//!
//! The file has columns `a int, b float8, c numeric(12,2), d text, e date`. `b` values are
//! multiples of 1/8, exactly representable, so float sums do not depend on summation order
//! and the results of both systems can be compared exactly.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use envelope::{Database, Session};

use super::data::{date_text, Rng};
use super::timing::{median_of, peak_rss_kb, report_table, Measurement};
use crate::pg::{simple_rows, ScratchDb};

const QUERIES: [&str; 3] = [
    "SELECT count(*) FROM t",
    "SELECT count(*), sum(a), sum(b) FROM t",
    "SELECT a % 1000 AS g, count(*), sum(c) FROM t GROUP BY g",
];

const RUNS: usize = 5;

/// Writes the benchmark file with `rows` rows; returns its path.
pub fn generate_csv(dir: &Path, rows: u64) -> anyhow::Result<PathBuf> {
    let path = dir.join("file_scan.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let mut rng = Rng::new(42);
    let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
    let mut line = String::with_capacity(96);
    for _ in 0..rows {
        line.clear();
        let a = rng.below(1_000_000);
        let b = rng.below(8_000_000) as f64 / 8.0;
        let c = rng.below(1_000_000_000);
        let word = words[rng.below(words.len() as u64) as usize];
        let e = 8035 + rng.below(2557) as i64; // 1992-01-01 .. 1998-12-31
        let _ = writeln!(line, "{a},{b},{}.{:02},{word} {},{}", c / 100, c % 100, rng.below(100_000), date_text(e));
        w.write_all(line.as_bytes())?;
    }
    w.flush()?;
    Ok(path)
}

fn ddl(path: &Path) -> String {
    format!(
        "CREATE EXTENSION file_fdw;\n\
         CREATE SERVER bench_files FOREIGN DATA WRAPPER file_fdw;\n\
         CREATE FOREIGN TABLE t (a int, b float8, c numeric(12,2), d text, e date) \
         SERVER bench_files OPTIONS (filename '{}', format 'csv')",
        path.display().to_string().replace('\'', "''")
    )
}

/// Sorted text rows (NULL as `None`), so results compare regardless of row order.
type Rows = Vec<Vec<Option<String>>>;

fn ours(session: &mut Session, sql: &str) -> anyhow::Result<Rows> {
    let r = session.execute(sql).map_err(|e| anyhow::anyhow!("envelope: {sql}: {}", e.message))?;
    let mut rows: Rows =
        r.rows.iter().map(|row| row.iter().map(|d| (!d.is_null()).then(|| d.to_text())).collect()).collect();
    rows.sort();
    Ok(rows)
}

fn theirs(client: &mut postgres::Client, sql: &str) -> anyhow::Result<Rows> {
    let (_, mut rows) = simple_rows(client, sql).with_context(|| format!("postgres: {sql}"))?;
    rows.sort();
    Ok(rows)
}

/// Runs the benchmark and prints its report.
pub fn run(rows: u64) -> anyhow::Result<()> {
    // PostgreSQL's server process reads the file, so it must live in a world-readable place.
    let dir = tempfile::Builder::new().prefix("envelope-bench-").tempdir_in("/tmp")?;
    set_mode(dir.path(), 0o755)?;
    eprintln!("generating {rows} rows...");
    let path = generate_csv(dir.path(), rows)?;
    set_mode(&path, 0o644)?;
    let size = std::fs::metadata(&path)?.len();

    let db = Database::open_in_memory().map_err(|e| anyhow::anyhow!("envelope: {}", e.message))?;
    let mut session = db.session();
    for r in session.execute_batch(&ddl(&path)) {
        r.map_err(|e| anyhow::anyhow!("envelope: creating the table: {}", e.message))?;
    }
    let scratch = ScratchDb::create("bench")?;
    let mut client = scratch.connect()?;
    client.batch_execute(&ddl(&path)).context("postgres: creating the table")?;

    let mut measurements = Vec::new();
    let mut mismatches = BTreeMap::new();
    for q in QUERIES {
        eprintln!("timing: {q}");
        let (our_time, our_rows) = median_of(RUNS, || ours(&mut session, q))?;
        let (pg_time, pg_rows) = median_of(RUNS, || theirs(&mut client, q))?;
        if our_rows != pg_rows {
            mismatches.insert(
                q,
                (our_rows.into_iter().take(3).collect::<Vec<_>>(), pg_rows.into_iter().take(3).collect::<Vec<_>>()),
            );
        }
        measurements.push(Measurement { query: q.to_string(), ours: our_time, postgres: pg_time });
    }
    println!("file-scan: {rows} rows, {:.1} MB, median of {RUNS} runs after a warm-up", size as f64 / 1e6);
    print!("{}", report_table(&measurements));
    if let Some(kb) = peak_rss_kb() {
        println!("peak RSS (ours, whole process): {:.1} MB", kb as f64 / 1024.0);
    }
    if !mismatches.is_empty() {
        for (q, (o, p)) in &mismatches {
            eprintln!("result mismatch for {q}: ours starts {o:?}, postgres starts {p:?}");
        }
        bail!("{} of {} queries returned different results", mismatches.len(), QUERIES.len());
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("chmod {}", path.display()))
}
