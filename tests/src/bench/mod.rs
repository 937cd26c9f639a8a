//! Benchmarks against the local PostgreSQL, one module per benchmark (`harness bench <name>`).
//!
//! Every benchmark times each query as the median of several runs after a warm-up, checks that
//! both systems return the same result, and prints `query | ours ms | postgres ms | ratio`
//! (ratio = postgres / ours, so above 1 means we are faster). Run them on a release build.

pub mod data;
pub mod file_scan;
pub mod oltp;
pub mod remote;
pub mod timing;
pub mod tpch;
pub mod wal;

use clap::Subcommand;

/// The benchmarks.
#[derive(Subcommand, Debug)]
pub enum Bench {
    /// Full scans and aggregates over a generated CSV file through file_fdw.
    FileScan {
        /// Number of rows of the generated file.
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
    },
    /// The 22 TPC-H queries: ours over file_fdw, PostgreSQL over heap tables and over its file_fdw.
    Tpch(tpch::TpchArgs),
    /// pgbench-style OLTP (point select, point update, TPC-B-like) on MOT against SQLite.
    Oltp(oltp::OltpArgs),
    /// Commits/s with the WAL (synchronous_commit on/off, group commit) against pgbench; recovery speed.
    Wal(wal::WalArgs),
    /// TPC-H on a remote PostgreSQL: our remote-fdw against PostgreSQL's postgres_fdw and direct.
    Remote(remote::RemoteArgs),
}

/// Runs one benchmark.
pub fn run(bench: Bench) -> anyhow::Result<()> {
    match bench {
        Bench::FileScan { rows } => file_scan::run(rows),
        Bench::Tpch(args) => tpch::run(args),
        Bench::Oltp(args) => oltp::run(args),
        Bench::Wal(args) => wal::run(args),
        Bench::Remote(args) => remote::run(args),
    }
}
