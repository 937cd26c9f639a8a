//! `harness bench wal`: commit throughput with the WAL (group commit, synchronous_commit on and
//! off) on pgbench's TPC-B-like transaction over MOT tables, against the `pgbench` binary on the
//! local PostgreSQL at the same scale, clients and synchronous_commit; then recovery speed:
//! MB/s of WAL replayed and MB/s of MOT checkpoint loaded.
//!
//! Our side runs one session per client thread with prepared statements; a serialization
//! failure (40001, MOT's optimistic concurrency on the hot branch and teller rows) is retried
//! and not counted, as pgbench --max-tries would. Run it on a release build.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use envelope::{Database, DatabaseBuilder, Datum};

/// Options of `harness bench wal`.
#[derive(clap::Args, Debug)]
pub struct WalArgs {
    /// pgbench scale factor (branches; 100000 accounts each).
    #[arg(long, default_value_t = 4)]
    pub scale: u64,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Client counts.
    #[arg(long, value_delimiter = ',', default_values_t = vec![1, 2, 8, 32])]
    pub clients: Vec<u64>,
    /// Size of the database for the recovery measurement, in MB of row data.
    #[arg(long, default_value_t = 128)]
    pub recovery_mb: u64,
    /// Skip PostgreSQL.
    #[arg(long)]
    pub no_postgres: bool,
    /// Directory for the data (default: the temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Only the recovery measurement (skip the TPC-B-like runs).
    #[arg(long)]
    pub recovery_only: bool,
    /// Keep the recovery database in `<dir>/envelope-bench-recovery-<MB>` and, when it is already
    /// there from an earlier run with this flag, only measure its checkpoint load again.
    #[arg(long)]
    pub keep_recovery: bool,
}

fn err(e: envelope::Error) -> anyhow::Error {
    anyhow!("{e}")
}

fn exec(db: &Database, sql: &str) -> anyhow::Result<()> {
    let mut s = db.session();
    for r in s.execute_batch(sql) {
        r.map_err(|e| anyhow!("{sql}: {e}"))?;
    }
    Ok(())
}

fn scratch(base: &Option<PathBuf>, name: &str) -> anyhow::Result<PathBuf> {
    let root = base.clone().unwrap_or_else(std::env::temp_dir);
    let dir = root.join(format!("envelope-bench-{name}-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Creates and fills the pgbench tables at `scale` (as `pgbench -i`).
fn init_pgbench(db: &Database, scale: u64) -> anyhow::Result<()> {
    exec(
        db,
        "CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88));
         CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int, tbalance int, filler char(84));
         CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84));
         CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22));",
    )?;
    exec(db, &format!("INSERT INTO pgbench_branches SELECT g, 0, '' FROM generate_series(1, {scale}) g"))?;
    exec(
        db,
        &format!(
            "INSERT INTO pgbench_tellers SELECT g, (g - 1) / 10 + 1, 0, '' FROM generate_series(1, {}) g",
            scale * 10
        ),
    )?;
    let per = 100_000u64;
    for b in 0..scale {
        exec(
            db,
            &format!(
                "INSERT INTO pgbench_accounts SELECT g, {}, 0, '' FROM generate_series({}, {}) g",
                b + 1,
                b * per + 1,
                (b + 1) * per
            ),
        )?;
    }
    Ok(())
}

/// Commits/s of `clients` sessions running the TPC-B-like transaction for `secs`.
fn run_ours(db: &Database, scale: u64, clients: u64, sync: bool, secs: u64) -> anyhow::Result<(f64, u64)> {
    let stop = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(AtomicU64::new(0));
    let retries = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for c in 0..clients {
        let (db, stop, commits, retries) = (db.clone(), stop.clone(), commits.clone(), retries.clone());
        handles.push(std::thread::spawn(move || -> anyhow::Result<()> {
            let mut s = db.session();
            s.execute(if sync { "SET synchronous_commit = on" } else { "SET synchronous_commit = off" })
                .map_err(err)?;
            let upd_a =
                s.prepare("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2").map_err(err)?;
            let sel_a = s.prepare("SELECT abalance FROM pgbench_accounts WHERE aid = $1").map_err(err)?;
            let upd_t = s.prepare("UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2").map_err(err)?;
            let upd_b =
                s.prepare("UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2").map_err(err)?;
            let ins_h = s
                .prepare("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, now())")
                .map_err(err)?;
            let mut rng = crate::crash::Rng::new(c + 17);
            while !stop.load(Ordering::Relaxed) {
                let aid = Datum::Int4((rng.below(scale * 100_000) + 1) as i32);
                let tid = Datum::Int4((rng.below(scale * 10) + 1) as i32);
                let bid = Datum::Int4((rng.below(scale) + 1) as i32);
                let delta = Datum::Int4(rng.below(10_001) as i32 - 5000);
                let r: envelope::Result<()> = (|| {
                    s.execute("BEGIN")?;
                    s.execute_prepared(&upd_a, &[delta.clone(), aid.clone()])?;
                    s.execute_prepared(&sel_a, std::slice::from_ref(&aid))?;
                    s.execute_prepared(&upd_t, &[delta.clone(), tid.clone()])?;
                    s.execute_prepared(&upd_b, &[delta.clone(), bid.clone()])?;
                    s.execute_prepared(&ins_h, &[tid.clone(), bid.clone(), aid.clone(), delta.clone()])?;
                    s.execute("COMMIT")?;
                    Ok(())
                })();
                match r {
                    Ok(()) => {
                        commits.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) if e.sqlstate.0 == "40001" => {
                        let _ = s.execute("ROLLBACK");
                        retries.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        let _ = s.execute("ROLLBACK");
                        return Err(anyhow!("{e}"));
                    }
                }
            }
            Ok(())
        }));
    }
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().map_err(|_| anyhow!("client panicked"))??;
    }
    let n = commits.load(Ordering::Relaxed);
    Ok((n as f64 / t0.elapsed().as_secs_f64(), retries.load(Ordering::Relaxed)))
}

fn pgbench_bin() -> String {
    let p = "/usr/lib/postgresql/15/bin/pgbench";
    if Path::new(p).exists() {
        p.to_string()
    } else {
        "pgbench".to_string()
    }
}

fn pgbench(db: &str, args: &[String], sync: bool) -> anyhow::Result<String> {
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let out = Command::new(pgbench_bin())
        .args(["-h", &var("PGHOST", "127.0.0.1"), "-p", &var("PGPORT", "5432"), "-U", &var("PGUSER", "postgres")])
        .args(args)
        .arg(db)
        .env("PGOPTIONS", format!("-c synchronous_commit={}", if sync { "on" } else { "off" }))
        .output()
        .context("cannot run pgbench")?;
    if !out.status.success() {
        return Err(anyhow!("pgbench failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

fn parse_tps(out: &str) -> Option<f64> {
    out.lines().find(|l| l.starts_with("tps = "))?.trim_start_matches("tps = ").split_whitespace().next()?.parse().ok()
}

fn dir_bytes(dir: &Path) -> u64 {
    let mut n = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            n += if p.is_dir() { dir_bytes(&p) } else { e.metadata().map_or(0, |m| m.len()) };
        }
    }
    n
}

/// Runs the benchmark and prints its tables.
pub fn run(args: WalArgs) -> anyhow::Result<()> {
    if args.recovery_only {
        return recovery(&args);
    }
    let dir = scratch(&args.dir, "tpcb")?;
    let db = Database::open(&dir).map_err(err)?;
    init_pgbench(&db, args.scale)?;
    exec(&db, "CHECKPOINT")?;
    let pg = if args.no_postgres {
        None
    } else {
        let scratch = crate::pg::ScratchDb::create("walbench")?;
        pgbench(&scratch.name, &["-i".into(), "-q".into(), "-s".into(), args.scale.to_string()], true)?;
        Some(scratch)
    };
    println!("TPC-B-like, scale {}, {} s per run", args.scale, args.seconds);
    println!("sync_commit | clients | ours commits/s | retries | postgres tps | ratio");
    let mut ours_on = Vec::new();
    for sync in [true, false] {
        for &c in &args.clients {
            let (tps, retries) = run_ours(&db, args.scale, c, sync, args.seconds)?;
            if sync {
                ours_on.push((c, tps));
            }
            let pg_tps = match &pg {
                Some(p) => {
                    let j = c.min(std::thread::available_parallelism().map_or(2, |n| n.get()) as u64);
                    let out = pgbench(
                        &p.name,
                        &[
                            "-n".into(),
                            "-c".into(),
                            c.to_string(),
                            "-j".into(),
                            j.to_string(),
                            "-T".into(),
                            args.seconds.to_string(),
                        ],
                        sync,
                    )?;
                    parse_tps(&out)
                }
                None => None,
            };
            let (pg_s, ratio) = match pg_tps {
                Some(p) => (format!("{p:.0}"), format!("{:.2}", tps / p)),
                None => ("-".into(), "-".into()),
            };
            println!(
                "{:>11} | {c:>7} | {tps:>14.0} | {retries:>7} | {pg_s:>12} | {ratio}",
                if sync { "on" } else { "off" }
            );
        }
    }
    if let (Some(one), Some(max)) = (ours_on.first(), ours_on.last()) {
        println!("group commit: {} sessions make {:.1}x the commits/s of {}", max.0, max.1 / one.1.max(1e-9), one.0);
    }
    let wal = db.wal().ok_or_else(|| anyhow!("no WAL"))?;
    let st = wal.stats();
    println!(
        "WAL: {} records, {} flushes ({:.1} records per flush)",
        st.records,
        st.flushes,
        st.records as f64 / st.flushes.max(1) as f64
    );
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
    recovery(&args)
}

/// Loads `recovery_mb` MB of rows without a checkpoint, reopens (WAL replay), checkpoints,
/// reopens (checkpoint load).
fn recovery(args: &WalArgs) -> anyhow::Result<()> {
    let kept = args
        .dir
        .clone()
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("envelope-bench-recovery-{}", args.recovery_mb));
    let reuse = args.keep_recovery && kept.join("mot").join("control").exists();
    let dir = if args.keep_recovery {
        if !reuse {
            if kept.exists() {
                std::fs::remove_dir_all(&kept)?;
            }
            std::fs::create_dir_all(&kept)?;
        }
        kept
    } else {
        scratch(&args.dir, "recovery")?
    };
    let open = || {
        DatabaseBuilder::new()
            .data_dir(&dir)
            .checkpoint_policy(xlog_policy_never())
            .background_checkpointer(false)
            .open()
            .map_err(err)
    };
    // About 120 bytes of row data each.
    let rows = args.recovery_mb * 1_000_000 / 120;
    if !reuse {
        build_recovery_db(&dir, &open, rows)?;
    }
    measure_checkpoint_load(&dir, &open, rows)?;
    if !args.keep_recovery {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// Fills the recovery database with `rows` rows, measures WAL replay, then writes a checkpoint.
fn build_recovery_db(dir: &Path, open: &dyn Fn() -> anyhow::Result<Database>, rows: u64) -> anyhow::Result<()> {
    let db = open()?;
    exec(&db, "CREATE TABLE big (id bigint PRIMARY KEY, k int, v text)")?;
    let batch = 50_000u64;
    let t0 = Instant::now();
    let mut lo = 1;
    while lo <= rows {
        let hi = (lo + batch - 1).min(rows);
        exec(
            &db,
            &format!(
                "SET synchronous_commit = off; INSERT INTO big SELECT g, g % 1000, repeat('v', 100) FROM generate_series({lo}, {hi}) g"
            ),
        )?;
        lo = hi + 1;
    }
    let load_s = t0.elapsed().as_secs_f64();
    drop(db);
    let wal_mb = dir_bytes(&dir.join("wal")) as f64 / 1e6;
    let db = open()?;
    let st = db.recovery_stats().ok_or_else(|| anyhow!("no recovery"))?;
    let replay_mb = st.wal_bytes as f64 / 1e6;
    println!(
        "recovery: {rows} rows loaded in {load_s:.1} s; WAL replay {replay_mb:.0} MB in {:.2} s = {:.0} MB/s (WAL dir {wal_mb:.0} MB)",
        st.replay.as_secs_f64(),
        replay_mb / st.replay.as_secs_f64().max(1e-9)
    );
    let t1 = Instant::now();
    exec(&db, "CHECKPOINT")?;
    let ck_s = t1.elapsed().as_secs_f64();
    drop(db);
    let ck_mb = dir_bytes(&dir.join("mot")) as f64 / 1e6;
    println!("checkpoint: {ck_mb:.0} MB written in {ck_s:.2} s = {:.0} MB/s", ck_mb / ck_s.max(1e-9));
    Ok(())
}

/// Reopens the database in `dir` (checkpoint load, then a WAL replay of nothing) and checks the
/// rows are all there and reachable through the primary key.
fn measure_checkpoint_load(dir: &Path, open: &dyn Fn() -> anyhow::Result<Database>, rows: u64) -> anyhow::Result<()> {
    // The checkpoint files the load reads (control, table definitions, segments).
    let ck_mb = dir_bytes(&dir.join("mot")) as f64 / 1e6;
    let cpu0 = cpu_seconds();
    let db = open()?;
    let cpu = cpu_seconds() - cpu0;
    let st = db.recovery_stats().ok_or_else(|| anyhow!("no recovery"))?;
    let load_s = st.checkpoint_load.as_secs_f64();
    println!(
        "checkpoint: {ck_mb:.0} MB loaded in {load_s:.2} s = {:.0} MB/s ({rows} rows, tables and indexes); \
         open used {cpu:.2} CPU-s ({:.0} MB per CPU-s)",
        ck_mb / load_s.max(1e-9),
        ck_mb / cpu.max(1e-9),
    );
    let mut s = db.session();
    let n: i64 = s.execute("SELECT count(*) FROM big").map_err(err)?.get(0, 0).map_err(err)?;
    if n as u64 != rows {
        return Err(anyhow!("recovered {n} rows, expected {rows}"));
    }
    // The primary key index is complete: its first, middle and last keys are found.
    for id in [1, rows.div_ceil(2), rows] {
        let sql = format!("SELECT k FROM big WHERE id = {id}");
        let r = s.execute(&sql).map_err(err)?;
        let k: i32 = r.get(0, 0).map_err(|e| anyhow!("{sql}: {e}"))?;
        if k as u64 != id % 1000 {
            return Err(anyhow!("{sql}: got {k}"));
        }
    }
    Ok(())
}

/// CPU time (user + system) this process has used so far, in seconds (0 where `/proc` is missing).
/// With other work on the machine, wall-clock speed understates what the load itself costs.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else { return 0.0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Clock ticks of 1/100 s (USER_HZ on Linux).
    (ticks(11) + ticks(12)) / 100.0
}

fn xlog_policy_never() -> envelope::durability::CheckpointPolicy {
    envelope::durability::CheckpointPolicy { max_wal_size: u64::MAX, checkpoint_timeout: Duration::from_secs(1 << 30) }
}
