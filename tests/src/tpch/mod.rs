//! TPC-H: data generation, setup, the 22 queries and the comparison of their answers.
//!
//! - [`gen`]: `harness tpch-gen`, the eight tables as files (`tpchgen`, identical to dbgen);
//! - [`setup`]: the foreign tables over those files (`tests/tpch/setup.sql`) in our database,
//!   and the same files loaded into PostgreSQL (heap tables, plus its own file_fdw);
//! - [`queries`]: the 22 queries (`tests/tpch/queries/qNN.sql`, PostgreSQL syntax, validation
//!   parameters), Q11's fraction scaled, running them on a session (Q15 creates a view);
//! - [`compare`]: answers as psql `--csv` text, compared exactly and in order, with ties of the
//!   ORDER BY compared as multisets;
//! - [`fixtures`]: `harness tpch-fixtures`, PostgreSQL's answers stored under
//!   `tests/tpch/expected/sfSF/` for the integration test `tests/tpch.rs`.
//!
//! The benchmark (`harness bench tpch`) is `bench::tpch`.

pub mod compare;
pub mod fixtures;
pub mod gen;
pub mod queries;
pub mod setup;

/// The eight tables, smallest first (the order of generation and setup).
pub const TABLES: [&str; 8] = ["region", "nation", "part", "supplier", "partsupp", "customer", "orders", "lineitem"];

/// Scale factor as a directory name component (`0.01` -> `sf0.01`, `1` -> `sf1`).
pub fn sf_name(sf: f64) -> String {
    format!("sf{sf}")
}

use std::path::PathBuf;

use envelope::Database;

use crate::format::format_error;

/// The TPC-H subcommands of the harness binary (flattened into its command list).
#[derive(clap::Subcommand, Debug)]
pub enum TpchCommand {
    /// Generate the eight TPC-H tables as files (dbgen's rows, without dbgen's trailing '|').
    TpchGen {
        /// Scale factor (1 = 6 million lineitem rows, about 1 GB).
        #[arg(long, default_value_t = 1.0)]
        sf: f64,
        /// Directory of the files (created if missing).
        #[arg(long)]
        dir: PathBuf,
        /// File layout: tbl ('|'-separated, read as format 'text') or csv.
        #[arg(long, value_enum, default_value = "tbl")]
        format: gen::FileFormat,
    },
    /// Create the eight TPC-H foreign tables over generated files (tests/tpch/setup.sql) and
    /// ANALYZE them, so `harness sql --data DATA` can run the queries.
    TpchSetup {
        /// Directory written by tpch-gen (its layout is detected).
        #[arg(long)]
        dir: PathBuf,
        /// Data directory of the database.
        #[arg(long = "data", default_value = "./envelope-data")]
        data: PathBuf,
    },
    /// Store PostgreSQL's answers to the 22 queries as test fixtures (needs the local PostgreSQL).
    TpchFixtures {
        #[arg(long, default_value_t = 0.01)]
        sf: f64,
        /// Root of the fixtures (default: tests/tpch/expected of the source tree).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// One query of `harness bench tpch`, run in a child process (internal).
    #[command(hide = true)]
    TpchQuery {
        #[arg(long = "data")]
        data: PathBuf,
        #[arg(long)]
        sf: f64,
        #[arg(long)]
        query: usize,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
}

/// Runs one TPC-H subcommand.
pub fn run(command: TpchCommand) -> anyhow::Result<()> {
    match command {
        TpchCommand::TpchGen { sf, dir, format } => {
            gen::generate(sf, &dir, format)?;
            eprintln!("TPC-H SF {sf} written to {} ({})", dir.display(), format.extension());
        }
        TpchCommand::TpchSetup { dir, data } => {
            let format = gen::detect_format(&dir)?;
            let db = Database::open(&data).map_err(|e| anyhow::anyhow!("{}", format_error(&e).trim_end()))?;
            setup::setup_session(&mut db.session(), &dir, format)?;
            eprintln!("TPC-H foreign tables over {} created in {}", dir.display(), data.display());
        }
        TpchCommand::TpchFixtures { sf, out } => {
            fixtures::write_fixtures(sf, &out.unwrap_or_else(fixtures::default_dir))?;
        }
        TpchCommand::TpchQuery { data, sf, query, runs } => {
            anyhow::ensure!((1..=22).contains(&query), "no TPC-H query {query}");
            crate::bench::tpch::child_main(&data, sf, query, runs)?;
        }
    }
    Ok(())
}
