//! The harness binary: SQL shell, sqllogictest runner, benchmarks.
//!
//! ```text
//! harness sql [--data DIR] [-c SQL]... [-f FILE] [--csv]
//! harness slt [--postgres] FILE...
//! harness bench file-scan [--rows N]
//! harness bench tpch [--sf SF]
//! harness bench oltp [--scale 10] [--threads 1,2] [--seconds 10]
//! harness tpch-gen --dir DIR [--sf SF] [--format tbl|csv]
//! harness tpch-setup --dir DIR [--data DATADIR]
//! harness tpch-fixtures [--sf SF]
//! ```

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use envelope::Database;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use harness::format::{format_error, Format};
use harness::shell::{Outcome, Shell};

#[derive(Parser)]
#[command(name = "harness", about = "The envelope's SQL shell, sqllogictest runner and benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run SQL (like psql -v ON_ERROR_STOP=1): -c strings in order, then -f; with neither, an
    /// interactive prompt on a terminal or the script on stdin.
    Sql {
        /// Data directory of the database.
        #[arg(long = "data", default_value = "./envelope-data")]
        data: PathBuf,
        /// SQL to run (repeatable; each string is one batch).
        #[arg(short = 'c', long = "command")]
        commands: Vec<String>,
        /// Script file to run after the -c strings.
        #[arg(short = 'f', long = "file")]
        file: Option<PathBuf>,
        /// Print rows as psql --csv does.
        #[arg(long)]
        csv: bool,
    },
    /// Run sqllogictest files, each against a fresh in-memory database.
    Slt {
        /// Run against a scratch database of the local PostgreSQL instead (checks the files).
        #[arg(long)]
        postgres: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Benchmarks against the local PostgreSQL.
    Bench {
        #[command(subcommand)]
        bench: harness::bench::Bench,
    },
    #[command(flatten)]
    Tpch(harness::tpch::TpchCommand),
    #[command(flatten)]
    Durability(harness::crash::DurabilityCommand),
}

/// mimalloc's `mi_option_purge_decommits` (its position in v3's `mi_option_e`).
const MI_OPTION_PURGE_DECOMMITS: libmimalloc_sys::mi_option_t = 5;

/// Makes mimalloc hand unused pages back with `MADV_FREE` instead of decommitting them. With
/// decommit, every page freed by MOT's version churn and then reused took a page fault and a
/// kernel zeroing (`clear_page_erms` was 8-20% of the TPC-B benchmark, and two threads ran no
/// faster than one); the kernel still reclaims `MADV_FREE` pages under memory pressure.
#[allow(unsafe_code)]
fn tune_allocator() {
    // SAFETY: called first thing in main, before any other thread exists (mi_option_set is
    // not thread-safe); the option takes a plain integer.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DECOMMITS, 0) }
}

fn main() -> ExitCode {
    tune_allocator();
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("harness: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Sql { data, commands, file, csv } => sql(data, commands, file, csv),
        Command::Slt { postgres, files } => slt(&files, postgres),
        Command::Bench { bench } => {
            harness::bench::run(bench)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Tpch(command) => {
            harness::tpch::run(command)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Durability(command) => harness::crash::run_command(command).map(|_| ExitCode::SUCCESS),
    }
}

fn sql(data: PathBuf, commands: Vec<String>, file: Option<PathBuf>, csv: bool) -> anyhow::Result<ExitCode> {
    let db = match Database::open(&data) {
        Ok(db) => db,
        Err(e) => {
            eprint!("{}", format_error(&e));
            return Ok(ExitCode::FAILURE);
        }
    };
    let format = if csv { Format::Csv } else { Format::Aligned };
    let mut shell = Shell::new(db.session(), format, std::io::stdout().lock(), std::io::stderr());
    let failed = |o: Outcome| o == Outcome::Failed;
    if !commands.is_empty() || file.is_some() {
        for c in &commands {
            if failed(shell.run_command(c)) {
                return Ok(ExitCode::FAILURE);
            }
        }
        if let Some(f) = file {
            let text = std::fs::read_to_string(&f).with_context(|| format!("cannot read {}", f.display()))?;
            if failed(shell.run_script(&text)) {
                return Ok(ExitCode::FAILURE);
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    if std::io::stdin().is_terminal() {
        shell.interactive(&data.join(".harness_history"))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).context("cannot read stdin")?;
    Ok(if failed(shell.run_script(&text)) { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn slt(files: &[PathBuf], postgres: bool) -> anyhow::Result<ExitCode> {
    let vars = harness::slt::default_vars();
    let (mut passed, mut failed) = (0, 0);
    for f in files {
        let report = if postgres {
            harness::slt::run_file_with(f, harness::pg::PgDb::open, &vars)
        } else {
            harness::slt::run_file(f, &vars)
        };
        match report {
            Ok(r) => {
                for msg in &r.failures {
                    eprintln!("{msg}");
                }
                println!("{}: {} passed, {} failed", f.display(), r.passed, r.failed);
                passed += r.passed;
                failed += r.failed;
            }
            Err(msg) => {
                eprintln!("{msg}");
                println!("{}: 0 passed, 1 failed", f.display());
                failed += 1;
            }
        }
    }
    println!("total: {passed} passed, {failed} failed");
    Ok(if failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
