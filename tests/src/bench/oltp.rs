//! OLTP benchmark: pgbench's schema and transactions on MOT tables through the embedding API,
//! against SQLite in memory (`harness bench oltp [--scale 10] [--threads 1,2] [--seconds 10]`).
//!
//! Both systems get pgbench's four tables at the same scale (scale 10 = 10 branches, 100
//! tellers, 1,000,000 accounts; ours loaded with `INSERT ... SELECT FROM generate_series`,
//! SQLite's with one prepared insert per row in one transaction) and run the same workloads
//! with prepared statements for a fixed time per thread count:
//! - `select`: a point SELECT by primary key (pgbench `-S`), autocommit;
//! - `update`: a point UPDATE by primary key, autocommit;
//! - `tpcb`: pgbench's TPC-B-like transaction (update an account, read it back, update its
//!   teller and branch, insert a history row).
//!
//! A serialization failure (40001, MOT's optimistic validation) rolls back and retries the
//! transaction; retries are counted and the latency includes them. SQLite has one writer at
//! a time, so its threads share one connection behind a mutex held for a whole transaction
//! (an in-memory database cannot be opened twice without its shared-cache table locks, which
//! would only add SQLITE_LOCKED retries). The report gives transactions per second, p50/p99
//! latency in microseconds and the throughput ratio (ours / SQLite, above 1 = faster). At
//! the end the TPC-B invariant is checked on both systems: the sum of branch balances equals
//! the sum of teller balances and of the history deltas.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use envelope::{Database, Datum, Session};

use crate::format::{write_aligned, Align};

/// Options of `harness bench oltp`.
#[derive(clap::Args, Debug, Clone)]
pub struct OltpArgs {
    /// pgbench scale factor (100,000 accounts each).
    #[arg(long, default_value_t = 10)]
    pub scale: u32,
    /// Thread counts to run each workload with.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub threads: Vec<usize>,
    /// Seconds per workload, thread count and system.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Workloads to run: select, update, tpcb.
    #[arg(long, value_delimiter = ',', default_value = "select,update,tpcb")]
    pub workloads: Vec<String>,
    /// Skip SQLite (to profile ours alone).
    #[arg(long)]
    pub no_sqlite: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Workload {
    Select,
    Update,
    TpcB,
}

impl Workload {
    fn parse(s: &str) -> anyhow::Result<Workload> {
        match s {
            "select" => Ok(Workload::Select),
            "update" => Ok(Workload::Update),
            "tpcb" => Ok(Workload::TpcB),
            _ => Err(anyhow!("unknown workload {s:?} (select, update, tpcb)")),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Workload::Select => "point select",
            Workload::Update => "point update",
            Workload::TpcB => "tpcb-like",
        }
    }
}

/// The pgbench sizes of a scale factor.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    branches: i32,
    tellers: i32,
    accounts: i32,
}

impl Sizes {
    fn new(scale: u32) -> Sizes {
        let s = scale.max(1) as i32;
        Sizes { branches: s, tellers: 10 * s, accounts: 100_000 * s }
    }
}

/// A small xorshift generator: each thread its own, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// Uniform in 1..=n.
    fn upto(&mut self, n: i32) -> i32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as i32 + 1
    }
    /// pgbench's delta: uniform in -5000..=5000.
    fn delta(&mut self) -> i32 {
        self.upto(10_001) - 5001
    }
}

/// Per-run results.
#[derive(Debug, Default)]
struct RunStats {
    txns: u64,
    retries: u64,
    elapsed: Duration,
    /// Latencies in microseconds, sorted.
    latencies: Vec<u32>,
}

impl RunStats {
    fn merge(parts: Vec<(u64, u64, Vec<u32>)>, elapsed: Duration) -> RunStats {
        let mut s = RunStats { elapsed, ..Default::default() };
        for (t, r, l) in parts {
            s.txns += t;
            s.retries += r;
            s.latencies.extend(l);
        }
        s.latencies.sort_unstable();
        s
    }
    fn tps(&self) -> f64 {
        self.txns as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    fn percentile(&self, p: f64) -> u32 {
        if self.latencies.is_empty() {
            return 0;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i.min(self.latencies.len() - 1)]
    }
}

/// Runs `worker(thread index, stop flag)` on `threads` threads for `seconds`.
fn run_threads<F>(threads: usize, seconds: f64, worker: F) -> anyhow::Result<RunStats>
where
    F: Fn(usize, &AtomicBool) -> anyhow::Result<(u64, u64, Vec<u32>)> + Sync,
{
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let (worker, stop_ref) = (&worker, &stop);
    let parts = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|i| scope.spawn(move || worker(i, stop_ref))).collect();
        std::thread::sleep(Duration::from_secs_f64(seconds));
        stop.store(true, Ordering::Relaxed);
        handles.into_iter().map(|h| h.join().map_err(|_| anyhow!("worker panicked"))?).collect::<Vec<_>>()
    });
    let elapsed = start.elapsed();
    let parts = parts.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    Ok(RunStats::merge(parts, elapsed))
}

// --- envelope -------------------------------------------------------------------------------

fn env_err(e: envelope::Error) -> anyhow::Error {
    anyhow!("{e}")
}

fn is_retryable(e: &envelope::Error) -> bool {
    e.sqlstate.0 == "40001" || e.sqlstate.0 == "40P01"
}

fn setup_envelope(sizes: Sizes) -> anyhow::Result<Database> {
    let db = Database::open_in_memory().map_err(env_err)?;
    let mut s = db.session();
    let ddl = "CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88));
         CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int, tbalance int, filler char(84));
         CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84));
         CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22));";
    for r in s.execute_batch(ddl) {
        r.map_err(env_err)?;
    }
    s.execute(&format!("INSERT INTO pgbench_branches SELECT g, 0, '' FROM generate_series(1, {}) g", sizes.branches))
        .map_err(env_err)?;
    s.execute(&format!(
        "INSERT INTO pgbench_tellers SELECT g, (g - 1) / 10 + 1, 0, '' FROM generate_series(1, {}) g",
        sizes.tellers
    ))
    .map_err(env_err)?;
    // Accounts in chunks of 100,000 (one pgbench scale unit per transaction).
    let mut lo = 1;
    while lo <= sizes.accounts {
        let hi = (lo + 99_999).min(sizes.accounts);
        s.execute(&format!(
            "INSERT INTO pgbench_accounts SELECT g, (g - 1) / 100000 + 1, 0, '' FROM generate_series({lo}, {hi}) g"
        ))
        .map_err(env_err)?;
        lo = hi + 1;
    }
    for t in ["pgbench_branches", "pgbench_tellers", "pgbench_accounts", "pgbench_history"] {
        s.execute(&format!("ANALYZE {t}")).map_err(env_err)?;
    }
    Ok(db)
}

/// A retryable attempt: `Ok(true)` done, `Ok(false)` serialization failure (retry).
fn attempt(r: Result<envelope::QueryResult, envelope::Error>) -> anyhow::Result<bool> {
    match r {
        Ok(_) => Ok(true),
        Err(e) if is_retryable(&e) => Ok(false),
        Err(e) => Err(env_err(e)),
    }
}

fn tpcb_envelope(s: &mut Session, st: &EnvStatements, rng: &mut Rng, sizes: Sizes) -> anyhow::Result<u64> {
    let aid = rng.upto(sizes.accounts);
    let tid = rng.upto(sizes.tellers);
    let bid = rng.upto(sizes.branches);
    let delta = rng.delta();
    let mut retries = 0;
    loop {
        s.execute("BEGIN").map_err(env_err)?;
        let body = (|| -> Result<(), envelope::Error> {
            s.execute_prepared(&st.update_account, &[Datum::Int4(delta), Datum::Int4(aid)])?;
            s.execute_prepared(&st.select_account, &[Datum::Int4(aid)])?;
            s.execute_prepared(&st.update_teller, &[Datum::Int4(delta), Datum::Int4(tid)])?;
            s.execute_prepared(&st.update_branch, &[Datum::Int4(delta), Datum::Int4(bid)])?;
            s.execute_prepared(
                &st.insert_history,
                &[Datum::Int4(tid), Datum::Int4(bid), Datum::Int4(aid), Datum::Int4(delta)],
            )?;
            Ok(())
        })();
        let done = match body {
            Ok(()) => attempt(s.execute("COMMIT"))?,
            Err(e) if is_retryable(&e) => {
                s.execute("ROLLBACK").map_err(env_err)?;
                false
            }
            Err(e) => {
                let _ = s.execute("ROLLBACK");
                return Err(env_err(e));
            }
        };
        if done {
            return Ok(retries);
        }
        retries += 1;
    }
}

struct EnvStatements {
    select_account: envelope::PreparedStatement,
    update_account: envelope::PreparedStatement,
    update_teller: envelope::PreparedStatement,
    update_branch: envelope::PreparedStatement,
    insert_history: envelope::PreparedStatement,
}

impl EnvStatements {
    fn prepare(s: &mut Session) -> anyhow::Result<EnvStatements> {
        let p = |s: &mut Session, sql: &str| s.prepare(sql).map_err(env_err).with_context(|| sql.to_string());
        Ok(EnvStatements {
            select_account: p(s, "SELECT abalance FROM pgbench_accounts WHERE aid = $1")?,
            update_account: p(s, "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2")?,
            update_teller: p(s, "UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2")?,
            update_branch: p(s, "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2")?,
            insert_history: p(
                s,
                "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)",
            )?,
        })
    }
}

fn run_envelope(db: &Database, w: Workload, threads: usize, seconds: f64, sizes: Sizes) -> anyhow::Result<RunStats> {
    run_threads(threads, seconds, |i, stop| {
        let mut s = db.session();
        let st = EnvStatements::prepare(&mut s)?;
        let mut rng = Rng::new(i as u64 + 1);
        let (mut txns, mut retries, mut lat) = (0u64, 0u64, Vec::with_capacity(1 << 16));
        while !stop.load(Ordering::Relaxed) {
            let t0 = Instant::now();
            match w {
                Workload::Select => {
                    let r = s.execute_prepared(&st.select_account, &[Datum::Int4(rng.upto(sizes.accounts))]);
                    r.map_err(env_err)?;
                }
                Workload::Update => {
                    let (aid, delta) = (rng.upto(sizes.accounts), rng.delta());
                    while !attempt(s.execute_prepared(&st.update_account, &[Datum::Int4(delta), Datum::Int4(aid)]))? {
                        retries += 1;
                    }
                }
                Workload::TpcB => retries += tpcb_envelope(&mut s, &st, &mut rng, sizes)?,
            }
            lat.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
            txns += 1;
        }
        Ok((txns, retries, lat))
    })
}

fn envelope_balances(db: &Database) -> anyhow::Result<[i64; 3]> {
    let mut s = db.session();
    let mut out = [0i64; 3];
    for (i, q) in [
        "SELECT coalesce(sum(bbalance), 0) FROM pgbench_branches",
        "SELECT coalesce(sum(tbalance), 0) FROM pgbench_tellers",
        "SELECT coalesce(sum(delta), 0) FROM pgbench_history",
    ]
    .iter()
    .enumerate()
    {
        let r = s.execute(q).map_err(env_err)?;
        out[i] = r.get::<i64>(0, 0).map_err(env_err)?;
    }
    Ok(out)
}

// --- SQLite ---------------------------------------------------------------------------------

fn setup_sqlite(sizes: Sizes) -> anyhow::Result<rusqlite::Connection> {
    let mut c = rusqlite::Connection::open_in_memory()?;
    c.execute_batch(
        "CREATE TABLE pgbench_branches (bid INTEGER PRIMARY KEY, bbalance INTEGER, filler CHAR(88));
         CREATE TABLE pgbench_tellers (tid INTEGER PRIMARY KEY, bid INTEGER, tbalance INTEGER, filler CHAR(84));
         CREATE TABLE pgbench_accounts (aid INTEGER PRIMARY KEY, bid INTEGER, abalance INTEGER, filler CHAR(84));
         CREATE TABLE pgbench_history (tid INTEGER, bid INTEGER, aid INTEGER, delta INTEGER, mtime TIMESTAMP,
                                       filler CHAR(22));",
    )?;
    let tx = c.transaction()?;
    let filler84 = " ".repeat(84);
    {
        let mut b = tx.prepare("INSERT INTO pgbench_branches VALUES (?1, 0, ?2)")?;
        for i in 1..=sizes.branches {
            b.execute(rusqlite::params![i, " ".repeat(88)])?;
        }
        let mut t = tx.prepare("INSERT INTO pgbench_tellers VALUES (?1, ?2, 0, ?3)")?;
        for i in 1..=sizes.tellers {
            t.execute(rusqlite::params![i, (i - 1) / 10 + 1, filler84])?;
        }
        let mut a = tx.prepare("INSERT INTO pgbench_accounts VALUES (?1, ?2, 0, ?3)")?;
        for i in 1..=sizes.accounts {
            a.execute(rusqlite::params![i, (i - 1) / 100_000 + 1, filler84])?;
        }
    }
    tx.commit()?;
    c.execute_batch("ANALYZE")?;
    Ok(c)
}

const SQ_SELECT: &str = "SELECT abalance FROM pgbench_accounts WHERE aid = ?1";
const SQ_UPDATE_ACCOUNT: &str = "UPDATE pgbench_accounts SET abalance = abalance + ?1 WHERE aid = ?2";
const SQ_UPDATE_TELLER: &str = "UPDATE pgbench_tellers SET tbalance = tbalance + ?1 WHERE tid = ?2";
const SQ_UPDATE_BRANCH: &str = "UPDATE pgbench_branches SET bbalance = bbalance + ?1 WHERE bid = ?2";
const SQ_INSERT_HISTORY: &str =
    "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (?1, ?2, ?3, ?4, CURRENT_TIMESTAMP)";

fn sqlite_txn(c: &rusqlite::Connection, w: Workload, rng: &mut Rng, sizes: Sizes) -> rusqlite::Result<()> {
    match w {
        Workload::Select => {
            let v: i64 = c.prepare_cached(SQ_SELECT)?.query_row([rng.upto(sizes.accounts)], |r| r.get(0))?;
            std::hint::black_box(v);
        }
        Workload::Update => {
            c.prepare_cached(SQ_UPDATE_ACCOUNT)?.execute([rng.delta(), rng.upto(sizes.accounts)])?;
        }
        Workload::TpcB => {
            let (aid, tid, bid, delta) =
                (rng.upto(sizes.accounts), rng.upto(sizes.tellers), rng.upto(sizes.branches), rng.delta());
            c.execute_batch("BEGIN")?;
            c.prepare_cached(SQ_UPDATE_ACCOUNT)?.execute([delta, aid])?;
            let v: i64 = c.prepare_cached(SQ_SELECT)?.query_row([aid], |r| r.get(0))?;
            std::hint::black_box(v);
            c.prepare_cached(SQ_UPDATE_TELLER)?.execute([delta, tid])?;
            c.prepare_cached(SQ_UPDATE_BRANCH)?.execute([delta, bid])?;
            c.prepare_cached(SQ_INSERT_HISTORY)?.execute([tid, bid, aid, delta])?;
            c.execute_batch("COMMIT")?;
        }
    }
    Ok(())
}

fn run_sqlite(
    conn: &Arc<Mutex<rusqlite::Connection>>,
    w: Workload,
    threads: usize,
    seconds: f64,
    sizes: Sizes,
) -> anyhow::Result<RunStats> {
    run_threads(threads, seconds, |i, stop| {
        let mut rng = Rng::new(i as u64 + 1001);
        let (mut txns, mut lat) = (0u64, Vec::with_capacity(1 << 16));
        while !stop.load(Ordering::Relaxed) {
            let t0 = Instant::now();
            {
                let c = conn.lock().map_err(|_| anyhow!("sqlite connection poisoned"))?;
                sqlite_txn(&c, w, &mut rng, sizes)?;
            }
            lat.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
            txns += 1;
        }
        Ok((txns, 0, lat))
    })
}

fn sqlite_balances(c: &rusqlite::Connection) -> anyhow::Result<[i64; 3]> {
    let q = |sql: &str| -> anyhow::Result<i64> { Ok(c.query_row(sql, [], |r| r.get(0))?) };
    Ok([
        q("SELECT coalesce(sum(bbalance), 0) FROM pgbench_branches")?,
        q("SELECT coalesce(sum(tbalance), 0) FROM pgbench_tellers")?,
        q("SELECT coalesce(sum(delta), 0) FROM pgbench_history")?,
    ])
}

// --- driver ---------------------------------------------------------------------------------

struct Line {
    workload: Workload,
    threads: usize,
    ours: RunStats,
    sqlite: RunStats,
}

fn report(lines: &[Line]) -> String {
    let headers: Vec<String> = [
        "workload",
        "threads",
        "ours tps",
        "sqlite tps",
        "ratio (ours/sqlite)",
        "ours p50 us",
        "ours p99 us",
        "sqlite p50 us",
        "sqlite p99 us",
        "retries (40001)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut aligns = vec![Align::Left];
    aligns.extend(std::iter::repeat_n(Align::Right, headers.len() - 1));
    let cells: Vec<Vec<Option<String>>> = lines
        .iter()
        .map(|l| {
            // No SQLite run (--no-sqlite): no ratio rather than a division by zero.
            let ratio = match l.sqlite.txns {
                0 => "-".to_string(),
                _ => format!("{:.2}", l.ours.tps() / l.sqlite.tps()),
            };
            [
                l.workload.name().to_string(),
                l.threads.to_string(),
                format!("{:.0}", l.ours.tps()),
                format!("{:.0}", l.sqlite.tps()),
                ratio,
                l.ours.percentile(0.5).to_string(),
                l.ours.percentile(0.99).to_string(),
                l.sqlite.percentile(0.5).to_string(),
                l.sqlite.percentile(0.99).to_string(),
                l.ours.retries.to_string(),
            ]
            .into_iter()
            .map(Some)
            .collect()
        })
        .collect();
    let mut out = String::new();
    write_aligned(&mut out, &headers, &aligns, &cells);
    out
}

/// Runs the benchmark and prints the report.
pub fn run(args: OltpArgs) -> anyhow::Result<()> {
    let workloads = args.workloads.iter().map(|w| Workload::parse(w)).collect::<anyhow::Result<Vec<_>>>()?;
    let sizes = Sizes::new(args.scale);
    eprintln!("loading scale {} ({} accounts) into envelope (MOT) ...", args.scale, sizes.accounts);
    let t0 = Instant::now();
    let db = setup_envelope(sizes)?;
    eprintln!("  {:.1} s", t0.elapsed().as_secs_f64());
    eprintln!("loading SQLite (in memory) ...");
    let t0 = Instant::now();
    let sqlite = Arc::new(Mutex::new(setup_sqlite(sizes)?));
    eprintln!("  {:.1} s", t0.elapsed().as_secs_f64());
    let mut lines = Vec::new();
    for &w in &workloads {
        for &threads in &args.threads {
            eprintln!("{} with {} thread(s) ...", w.name(), threads);
            let ours = run_envelope(&db, w, threads, args.seconds, sizes)?;
            let sq = if args.no_sqlite {
                RunStats { elapsed: Duration::from_secs(1), ..Default::default() }
            } else {
                run_sqlite(&sqlite, w, threads, args.seconds, sizes)?
            };
            lines.push(Line { workload: w, threads, ours, sqlite: sq });
        }
    }
    print!("{}", report(&lines));
    let ours = envelope_balances(&db)?;
    let theirs = {
        let c = sqlite.lock().map_err(|_| anyhow!("sqlite connection poisoned"))?;
        sqlite_balances(&c)?
    };
    for (name, b) in [("envelope", ours), ("sqlite", theirs)] {
        if b[0] != b[1] || b[1] != b[2] {
            return Err(anyhow!(
                "{name}: TPC-B invariant broken: branches {}, tellers {}, history {}",
                b[0],
                b[1],
                b[2]
            ));
        }
    }
    println!("TPC-B invariant holds on both (sum of balances: envelope {}, sqlite {})", ours[0], theirs[0]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_run_keeps_the_invariant() {
        let sizes = Sizes { branches: 2, tellers: 20, accounts: 1000 };
        let db = setup_envelope(sizes).unwrap();
        let stats = run_envelope(&db, Workload::TpcB, 2, 0.3, sizes).unwrap();
        assert!(stats.txns > 0);
        let b = envelope_balances(&db).unwrap();
        assert_eq!((b[0], b[1]), (b[2], b[2]), "{b:?}");
        let c = Arc::new(Mutex::new(setup_sqlite(sizes).unwrap()));
        let sq = run_sqlite(&c, Workload::TpcB, 2, 0.2, sizes).unwrap();
        assert!(sq.txns > 0);
        let b = sqlite_balances(&c.lock().unwrap()).unwrap();
        assert_eq!((b[0], b[1]), (b[2], b[2]));
    }

    #[test]
    fn percentiles() {
        let s = RunStats::merge(vec![(3, 0, vec![30, 10, 20]), (1, 2, vec![40])], Duration::from_secs(2));
        assert_eq!((s.txns, s.retries), (4, 2));
        assert_eq!(s.tps(), 2.0);
        assert_eq!(s.percentile(0.0), 10);
        assert_eq!(s.percentile(1.0), 40);
    }
}
