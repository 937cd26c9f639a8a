//! Benchmarks against the local PostgreSQL, one module per benchmark (`harness bench <name>`).
//!
//! Every benchmark times each query as the median of several runs after a warm-up, checks that
//! both systems return the same result, and prints `query | ours ms | postgres ms | ratio`
//! (ratio = postgres / ours, so above 1 means we are faster). Run them on a release build.

pub mod data;
pub mod file_scan;
pub mod timing;

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
}

/// Runs one benchmark.
pub fn run(bench: Bench) -> anyhow::Result<()> {
    match bench {
        Bench::FileScan { rows } => file_scan::run(rows),
    }
}
