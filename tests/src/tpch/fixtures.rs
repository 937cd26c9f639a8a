//! `harness tpch-fixtures`: PostgreSQL's answers to the 22 queries, stored as the fixtures of
//! the integration test (`tests/tpch/expected/sfSF/qNN.csv`).
//!
//! The data is generated into a scratch directory, loaded into heap tables of a scratch
//! database of the local PostgreSQL (COPY, TPC-H's keys and indexes, ANALYZE), and every query runs through
//! `psql --csv -q`, so a fixture is byte for byte what psql prints (Q15's CREATE/DROP VIEW
//! print nothing under `-q`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context};

use super::gen::{generate, FileFormat};
use super::queries::{name, numbers, query_text};
use super::setup::{load_postgres, make_world_readable};
use super::sf_name;
use crate::pg::{psql_command, ScratchDb};

/// The committed fixtures: `tests/tpch/expected`.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tpch").join("expected")
}

/// The fixture of query `n` at scale factor `sf` under `root`.
pub fn fixture_path(root: &Path, sf: f64, n: usize) -> PathBuf {
    root.join(sf_name(sf)).join(format!("{}.csv", name(n)))
}

/// Generates SF `sf`, runs the 22 queries on PostgreSQL and writes their answers under `root`.
pub fn write_fixtures(sf: f64, root: &Path) -> anyhow::Result<()> {
    // PostgreSQL's server process reads the files (COPY FROM a file), so /tmp and mode 755.
    let data = tempfile::Builder::new().prefix("envelope-tpch-").tempdir_in("/tmp")?;
    eprintln!("generating SF {sf} in {}...", data.path().display());
    generate(sf, data.path(), FileFormat::Tbl)?;
    make_world_readable(data.path())?;
    let db = ScratchDb::create("tpch")?;
    eprintln!("loading into PostgreSQL database {}...", db.name);
    // Indexes change no answer, and without them Q20 alone takes minutes.
    load_postgres(&mut db.connect()?, data.path(), FileFormat::Tbl, true)?;
    let out_dir = root.join(sf_name(sf));
    std::fs::create_dir_all(&out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    for n in numbers() {
        let csv = psql_csv(&db.name, &query_text(n, sf)).with_context(|| format!("postgres: {}", name(n)))?;
        let path = fixture_path(root, sf, n);
        std::fs::write(&path, csv).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Runs a script with `psql --csv -q -v ON_ERROR_STOP=1` and returns its stdout.
pub fn psql_csv(dbname: &str, script: &str) -> anyhow::Result<String> {
    let mut child = psql_command(Some(dbname))
        .args(["--csv", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run psql")?;
    child.stdin.take().context("psql stdin")?.write_all(script.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("psql failed: {}", String::from_utf8_lossy(&out.stderr).trim_end());
    }
    String::from_utf8(out.stdout).context("psql printed non-UTF-8 output")
}
