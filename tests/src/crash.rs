//! `harness crash-test`: kill -9 a process running a mixed workload, recover, check.
//!
//! Each cycle the parent starts a child (this binary, hidden subcommand `crash-worker`) on the
//! data directory. The child runs [`WORKERS`] sessions in threads; each runs numbered
//! transactions and prints `ack N` once COMMIT of transaction N returned (or `abort N` once it
//! rolled back), flushing stdout after each line. The parent kills the child with SIGKILL at a
//! random moment, reopens the directory in-process and checks:
//!
//! * every acknowledged transaction (of every cycle so far) is present, no aborted one is;
//! * each present transaction is complete: its row in `c_log`, exactly its rows in its table
//!   with their updated values and minus its deleted row, and no rows of absent transactions;
//! * the per-(table, worker) counters, updated in the same transactions, sum to the tables'
//!   row counts (atomicity across tables);
//! * index paths agree with sequential scans (per-transaction counts through the `txn` index
//!   against a GROUP BY over the heap, primary-key lookups of sampled rows).
//!
//! Transaction `n` (unique across cycles: cycle `c` numbers from `c * 10^6`) writes table
//! `c_t{n % TABLES}`: inserts `1 + n % 4` rows `(n * 10 + j, n, j)`, adds 1 to `val` of its own
//! rows when `n % 3 == 0`, deletes its row `n * 10` when `n % 5 == 0` (and it has more than one
//! row), inserts `n` into `c_log` and adds its net row count to its counter row. When
//! `n % 7 == 3` it rolls back instead of committing. Worker 0 also runs CHECKPOINT every 40 of
//! its transactions and toggles an index on `c_t*.val` (DDL) every 25.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use envelope::{Database, Session};

/// Tables written by the workload.
pub const TABLES: u64 = 3;
/// Concurrent sessions of a worker.
pub const WORKERS: u64 = 4;

/// A small deterministic generator (xorshift64*), so a seed replays the same kill times.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

fn rows_of(n: u64) -> u64 {
    1 + n % 4
}

fn aborts(n: u64) -> bool {
    n % 7 == 3
}

fn deletes(n: u64) -> bool {
    n.is_multiple_of(5) && rows_of(n) > 1
}

/// Rows a committed transaction leaves, with their `val`.
fn expected_rows(n: u64) -> Vec<(i64, i64)> {
    let bump = i64::from(n.is_multiple_of(3));
    (0..rows_of(n)).filter(|&j| !(deletes(n) && j == 0)).map(|j| ((n * 10 + j) as i64, j as i64 + bump)).collect()
}

fn exec(s: &mut Session, sql: &str) -> envelope::Result<()> {
    for r in s.execute_batch(sql) {
        r?;
    }
    Ok(())
}

/// Creates the schema (idempotent: existing tables are kept).
fn setup(db: &Database) -> anyhow::Result<()> {
    let mut s = db.session();
    let mut create = |sql: &str| match s.execute(sql) {
        Ok(_) => Ok(()),
        Err(e) if e.sqlstate.0 == "42P07" => Ok(()),
        Err(e) => Err(anyhow!("{sql}: {e}")),
    };
    create("CREATE TABLE c_log (txn bigint PRIMARY KEY)")?;
    create("CREATE TABLE c_counter (tbl int, worker int, cnt bigint, PRIMARY KEY (tbl, worker))")?;
    for k in 0..TABLES {
        create(&format!("CREATE TABLE c_t{k} (id bigint PRIMARY KEY, txn bigint NOT NULL, val bigint)"))?;
        create(&format!("CREATE INDEX c_t{k}_txn ON c_t{k} (txn)"))?;
    }
    let mut s = db.session();
    for k in 0..TABLES {
        for w in 0..WORKERS {
            let r = s.execute(&format!("SELECT count(*) FROM c_counter WHERE tbl = {k} AND worker = {w}"))?;
            if r.get::<i64>(0, 0)? == 0 {
                s.execute(&format!("INSERT INTO c_counter VALUES ({k}, {w}, 0)"))?;
            }
        }
    }
    Ok(())
}

/// One numbered transaction; `Ok(true)` if it committed.
fn run_txn(s: &mut Session, n: u64, worker: u64) -> envelope::Result<bool> {
    let k = n % TABLES;
    let m = rows_of(n);
    let values: Vec<String> = (0..m).map(|j| format!("({}, {n}, {j})", n * 10 + j)).collect();
    let mut sql = format!("BEGIN; INSERT INTO c_t{k} VALUES {};", values.join(", "));
    if n.is_multiple_of(3) {
        sql += &format!("UPDATE c_t{k} SET val = val + 1 WHERE txn = {n};");
    }
    let mut net = m;
    if deletes(n) {
        sql += &format!("DELETE FROM c_t{k} WHERE id = {};", n * 10);
        net -= 1;
    }
    sql += &format!("INSERT INTO c_log VALUES ({n});");
    sql += &format!("UPDATE c_counter SET cnt = cnt + {net} WHERE tbl = {k} AND worker = {worker};");
    if let Err(e) = exec(s, &sql) {
        let _ = s.execute("ROLLBACK");
        return Err(e);
    }
    if aborts(n) {
        s.execute("ROLLBACK")?;
        return Ok(false);
    }
    let r = s.execute("COMMIT")?;
    Ok(r.tag == "COMMIT")
}

/// The child: runs the workload until killed (or until `max_txns` per worker).
pub fn worker(data: &Path, start: u64, max_txns: u64) -> anyhow::Result<()> {
    let db = Database::open(data).context("open")?;
    setup(&db)?;
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let say = |out: &Mutex<std::io::Stdout>, line: String| {
        let mut o = out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(o, "{line}");
        let _ = o.flush();
    };
    say(&out, "ready".into());
    std::thread::scope(|sc| {
        for w in 0..WORKERS {
            let (db, out) = (db.clone(), out.clone());
            sc.spawn(move || {
                let mut s = db.session();
                let mut val_index = false;
                for i in 0..max_txns {
                    let n = start + i * WORKERS + w;
                    match run_txn(&mut s, n, w) {
                        Ok(true) => say(&out, format!("ack {n}")),
                        Ok(false) => say(&out, format!("abort {n}")),
                        Err(e) => say(&out, format!("abort {n} {}", e.sqlstate.0)),
                    }
                    if w == 0 && i % 40 == 39 {
                        let _ = s.execute("CHECKPOINT");
                    }
                    if w == 0 && i % 25 == 24 {
                        let k = (i / 25) % TABLES;
                        let sql = if val_index {
                            format!("DROP INDEX c_t{k}_val")
                        } else {
                            format!("CREATE INDEX c_t{k}_val ON c_t{k} (val)")
                        };
                        if s.execute(&sql).is_ok() {
                            val_index = !val_index;
                        }
                    }
                }
            });
        }
    });
    Ok(())
}

/// Outcome of a child as seen by the parent.
#[derive(Debug, Default)]
pub struct Seen {
    pub acked: BTreeSet<u64>,
    pub aborted: BTreeSet<u64>,
}

fn query_pairs(s: &mut Session, sql: &str) -> anyhow::Result<Vec<(i64, i64)>> {
    let r = s.execute(sql).map_err(|e| anyhow!("{sql}: {e}"))?;
    (0..r.rows.len()).map(|i| Ok((r.get::<i64>(i, 0)?, r.get::<i64>(i, 1)?))).collect()
}

/// Checks a recovered database against everything the parent saw.
pub fn verify(db: &Database, seen: &Seen, rng: &mut Rng) -> anyhow::Result<usize> {
    let mut s = db.session();
    let r = s.execute("SELECT txn FROM c_log").map_err(|e| anyhow!("{e}"))?;
    let present: BTreeSet<u64> =
        (0..r.rows.len()).map(|i| r.get::<i64>(i, 0).map(|v| v as u64)).collect::<Result<_, _>>()?;
    if let Some(n) = seen.acked.difference(&present).next() {
        bail!("acknowledged transaction {n} is missing after recovery");
    }
    if let Some(n) = seen.aborted.intersection(&present).next() {
        bail!("aborted transaction {n} is visible after recovery");
    }
    for k in 0..TABLES {
        let table = format!("c_t{k}");
        // Heap (sequential scan): rows per transaction and their values.
        let rows = query_pairs(&mut s, &format!("SELECT id, val FROM {table}"))?;
        let mut by_txn: BTreeMap<u64, Vec<(i64, i64)>> = BTreeMap::new();
        for (id, val) in rows.iter().copied() {
            by_txn.entry(id as u64 / 10).or_default().push((id, val));
        }
        for (n, mut got) in by_txn.clone() {
            if !present.contains(&n) {
                bail!("{table} holds rows of transaction {n}, which is not in c_log");
            }
            got.sort();
            if got != expected_rows(n) {
                bail!("{table}: transaction {n} has rows {got:?}, expected {:?}", expected_rows(n));
            }
        }
        for n in present.iter().filter(|&&n| n % TABLES == k) {
            if !by_txn.contains_key(n) {
                bail!("{table}: committed transaction {n} has no rows");
            }
        }
        let counted = query_pairs(
            &mut s,
            &format!("SELECT count(*), coalesce(sum(cnt), 0)::bigint FROM c_counter WHERE tbl = {k}"),
        )?;
        let total: i64 = by_txn.values().map(|v| v.len() as i64).sum();
        if counted[0].1 != total {
            bail!("counters of {table} say {} rows, the table has {total}", counted[0].1);
        }
        // Index paths against the heap.
        let grouped = query_pairs(&mut s, &format!("SELECT txn, count(*) FROM {table} GROUP BY txn"))?;
        if grouped.len() != by_txn.len() {
            bail!("{table}: GROUP BY txn gives {} groups, the heap {}", grouped.len(), by_txn.len());
        }
        let ns: Vec<u64> = by_txn.keys().copied().collect();
        for _ in 0..ns.len().min(20) {
            let n = ns[rng.below(ns.len() as u64) as usize];
            let want = by_txn[&n].len() as i64;
            let via_index = query_pairs(&mut s, &format!("SELECT count(*), 0 FROM {table} WHERE txn = {n}"))?;
            if via_index[0].0 != want {
                bail!("{table}: index on txn finds {} rows of transaction {n}, the heap {want}", via_index[0].0);
            }
            let (id, val) = by_txn[&n][0];
            let via_pk = query_pairs(&mut s, &format!("SELECT id, val FROM {table} WHERE id = {id}"))?;
            if via_pk != vec![(id, val)] {
                bail!("{table}: primary key lookup of {id} gives {via_pk:?}");
            }
        }
    }
    Ok(present.len())
}

/// Runs `cycles` kill-and-recover cycles on `data` (created if needed) with the child binary
/// `exe`; prints one line per cycle. Returns the number of transactions present at the end.
pub fn run(exe: &Path, data: &Path, cycles: u64, seed: u64, max_kill_ms: u64) -> anyhow::Result<usize> {
    let mut rng = Rng::new(seed);
    let mut seen = Seen::default();
    let mut present = 0;
    let started = Instant::now();
    for cycle in 0..cycles {
        let start = (cycle + 1) * 1_000_000;
        let mut child = Command::new(exe)
            .args(["crash-worker", "--data"])
            .arg(data)
            .args(["--start", &start.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let reader = {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                    lines.lock().unwrap_or_else(|e| e.into_inner()).push(l);
                }
            })
        };
        // Wait until the child recovered and set up, then kill it at a random moment.
        let t0 = Instant::now();
        while !lines.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|l| l == "ready") {
            if t0.elapsed() > Duration::from_secs(120) {
                let _ = child.kill();
                bail!("cycle {cycle}: the worker did not start within 120 s");
            }
            if let Some(status) = child.try_wait()? {
                bail!("cycle {cycle}: the worker exited early with {status}");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(rng.below(max_kill_ms) + 1));
        child.kill().context("kill")?;
        child.wait()?;
        let _ = reader.join();
        let (mut acks, mut aborts) = (0, 0);
        for l in lines.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let mut parts = l.split(' ');
            match (parts.next(), parts.next().and_then(|n| n.parse::<u64>().ok())) {
                (Some("ack"), Some(n)) => {
                    seen.acked.insert(n);
                    acks += 1;
                }
                (Some("abort"), Some(n)) => {
                    seen.aborted.insert(n);
                    aborts += 1;
                }
                _ => {}
            }
        }
        let t1 = Instant::now();
        let db = Database::open(data).map_err(|e| anyhow!("cycle {cycle}: recovery failed: {e}"))?;
        let recovery_ms = t1.elapsed().as_millis();
        let stats = db.recovery_stats().unwrap_or_default();
        present = verify(&db, &seen, &mut rng).with_context(|| format!("cycle {cycle} (seed {seed})"))?;
        println!(
            "cycle {cycle}: {acks} acked, {aborts} aborted; recovered in {recovery_ms} ms ({} WAL bytes, {} txns); {present} txns present; ok",
            stats.wal_bytes, stats.committed
        );
    }
    println!(
        "crash-test: {cycles} cycles, {} acknowledged, {present} present, all checks passed in {:.1} s",
        seen.acked.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(present)
}

/// A fresh scratch directory for a crash test run.
pub fn scratch_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("envelope-crash-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The durability subcommands of the harness binary.
#[derive(clap::Subcommand, Debug)]
pub enum DurabilityCommand {
    /// Print the WAL of a data directory as pg_waldump does.
    Waldump {
        /// Data directory.
        dir: PathBuf,
        /// Start at this LSN (default: the redo LSN of the last checkpoint).
        #[arg(long)]
        start: Option<String>,
    },
    /// Kill -9 a worker running a mixed workload at random moments, recover, check.
    CrashTest {
        #[arg(long, default_value_t = 20)]
        cycles: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Data directory (default: a fresh one under the temporary directory, removed after).
        #[arg(long)]
        data: Option<PathBuf>,
        /// The kill comes at most this many milliseconds after the worker is ready.
        #[arg(long, default_value_t = 1500)]
        max_kill_ms: u64,
    },
    /// The crash test's child process (internal).
    #[command(hide = true)]
    CrashWorker {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        start: u64,
        #[arg(long, default_value_t = u64::MAX / 64)]
        max_txns: u64,
    },
}

/// Runs a durability subcommand.
pub fn run_command(cmd: DurabilityCommand) -> anyhow::Result<()> {
    match cmd {
        DurabilityCommand::Waldump { dir, start } => {
            let from = match start {
                Some(s) => Some(s.parse::<fdw_api::Lsn>().map_err(|e| anyhow!("{}", e.message))?),
                None => None,
            };
            let mut out = std::io::stdout().lock();
            for line in waldump(&dir, from)? {
                writeln!(out, "{line}")?;
            }
            Ok(())
        }
        DurabilityCommand::CrashTest { cycles, seed, data, max_kill_ms } => {
            let exe = std::env::current_exe()?;
            let (dir, scratch) = match data {
                Some(d) => (d, false),
                None => (scratch_dir()?, true),
            };
            run(&exe, &dir, cycles, seed, max_kill_ms)?;
            if scratch {
                let _ = std::fs::remove_dir_all(&dir);
            }
            Ok(())
        }
        DurabilityCommand::CrashWorker { data, start, max_txns } => worker(&data, start, max_txns),
    }
}

/// pg_waldump lines for the WAL of `dir`, with the envelope's and MOT's records described.
pub fn waldump(dir: &Path, from: Option<fdw_api::Lsn>) -> anyhow::Result<Vec<String>> {
    let mut table = envelope::durability::rmgr_table();
    table.register(mot_engine::durability::RM_MOT, "MOT", |rec| mot_engine::durability::describe(&rec.payload));
    let mut lines = Vec::new();
    let iter = envelope::durability::dump(dir, from, table).map_err(|e| anyhow!("{}", e.message))?;
    for l in iter {
        match l {
            Ok(l) => lines.push(l),
            Err(e) => {
                lines.push(format!("pg_waldump: error: {}", e.message));
                break;
            }
        }
    }
    Ok(lines)
}
