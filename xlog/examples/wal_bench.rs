//! Group-commit benchmark: N threads each commit (insert a ~200-byte record, flush it) in a loop
//! against real files with real `fdatasync`, for 1, 2, 8 and 32 threads.
//!
//! `cargo run --release -p xlog --example wal_bench [seconds-per-run] [threads,...] [dir]`
//!
//! fsync latency on a shared machine varies a lot from moment to moment; the commits per fsync
//! column is the stable measure of batching.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use xlog::{Wal, WalOptions};

fn run(threads: usize, secs: f64, base: &std::path::Path) -> (f64, u64, u64) {
    let dir = tempfile::tempdir_in(base).expect("temp dir");
    let opts = WalOptions { wal_writer_delay: None, ..WalOptions::default() };
    let (wal, _) = Wal::open(dir.path(), opts).expect("open WAL");
    let wal = Arc::new(wal);
    let stop = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(AtomicU64::new(0));
    let flushes_before = wal.stats().flushes;
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (wal, stop, commits) = (Arc::clone(&wal), Arc::clone(&stop), Arc::clone(&commits));
            std::thread::spawn(move || {
                let payload = vec![t as u8; 200];
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let end = wal.insert(10, 0, n, &payload).expect("insert");
                    wal.flush(end).expect("flush");
                    n += 1;
                }
                commits.fetch_add(n, Ordering::Relaxed);
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().expect("bench thread");
    }
    let elapsed = start.elapsed().as_secs_f64();
    let n = commits.load(Ordering::Relaxed);
    (n as f64 / elapsed, n, wal.stats().flushes - flushes_before)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let secs: f64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let counts: Vec<usize> =
        args.get(2).map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect()).unwrap_or_else(|| vec![1, 2, 8, 32]);
    let base = args.get(3).map(std::path::PathBuf::from).unwrap_or_else(std::env::temp_dir);
    println!(
        "{:>8} {:>12} {:>10} {:>10} {:>14} {:>8}",
        "threads", "commits/s", "commits", "fsyncs", "commits/fsync", "speedup"
    );
    let mut base_rate = 0.0;
    for threads in counts {
        let (rate, commits, flushes) = run(threads, secs, &base);
        if base_rate == 0.0 {
            base_rate = rate;
        }
        println!(
            "{threads:>8} {rate:>12.0} {commits:>10} {flushes:>10} {:>14.1} {:>7.1}x",
            commits as f64 / flushes.max(1) as f64,
            rate / base_rate
        );
    }
}
