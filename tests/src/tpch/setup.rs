//! The TPC-H tables over generated files: in our database (file_fdw foreign tables, the script
//! `tests/tpch/setup.sql`) and in PostgreSQL (the same foreign tables in schema `files`, and
//! heap tables in `public` loaded with COPY and ANALYZEd).
//!
//! One script serves both systems, so the column types cannot drift apart: PostgreSQL's heap
//! tables are created `LIKE` its foreign tables.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use envelope::Session;

use super::gen::{table_path, FileFormat};
use super::TABLES;
use crate::format::format_error;

/// `tests/tpch/setup.sql`, with the placeholder `@DIR@`, for the `tbl` layout.
pub const SETUP_SQL: &str = include_str!("../../tpch/setup.sql");

const TBL_OPTIONS: &str = ".tbl', format 'text', delimiter '|'";
const CSV_OPTIONS: &str = ".csv', format 'csv'";

/// The absolute form of `dir` (file_fdw resolves relative names against the server's
/// directory, not ours).
pub fn absolute_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::canonicalize(dir).with_context(|| format!("cannot resolve {}", dir.display()))
}

/// The setup script for the files of `dir` in layout `format`.
pub fn setup_script(dir: &Path, format: FileFormat) -> anyhow::Result<String> {
    let dir = absolute_dir(dir)?;
    let text = dir.to_str().with_context(|| format!("{} is not UTF-8", dir.display()))?;
    let mut script = SETUP_SQL.replace("@DIR@", &text.replace('\'', "''"));
    if format == FileFormat::Csv {
        script = script.replace(TBL_OPTIONS, CSV_OPTIONS);
    }
    Ok(script)
}

/// Runs the setup script on our session: server, eight foreign tables, ANALYZE.
pub fn setup_session(session: &mut Session, dir: &Path, format: FileFormat) -> anyhow::Result<()> {
    let script = setup_script(dir, format)?;
    for r in session.execute_batch(&script) {
        if let Err(e) = r {
            bail!("TPC-H setup failed: {}", format_error(&e).trim_end());
        }
    }
    Ok(())
}

/// TPC-H's primary keys and indexes on the foreign keys (dbgen's `dss.ri`, with lineitem's
/// part/supplier reference as one index), for PostgreSQL's heap tables.
const PG_INDEXES: &str = "\
ALTER TABLE region ADD PRIMARY KEY (r_regionkey);
ALTER TABLE nation ADD PRIMARY KEY (n_nationkey);
ALTER TABLE part ADD PRIMARY KEY (p_partkey);
ALTER TABLE supplier ADD PRIMARY KEY (s_suppkey);
ALTER TABLE partsupp ADD PRIMARY KEY (ps_partkey, ps_suppkey);
ALTER TABLE customer ADD PRIMARY KEY (c_custkey);
ALTER TABLE orders ADD PRIMARY KEY (o_orderkey);
ALTER TABLE lineitem ADD PRIMARY KEY (l_orderkey, l_linenumber);
CREATE INDEX ON nation (n_regionkey);
CREATE INDEX ON supplier (s_nationkey);
CREATE INDEX ON partsupp (ps_suppkey);
CREATE INDEX ON customer (c_nationkey);
CREATE INDEX ON orders (o_custkey);
CREATE INDEX ON lineitem (l_partkey, l_suppkey);
ANALYZE;
";

/// Sets up TPC-H in a PostgreSQL database: PostgreSQL's file_fdw foreign tables in schema
/// `files` and heap tables in `public` (COPY from the same files, then ANALYZE), with TPC-H's
/// keys and foreign-key indexes when `indexes` (without them PostgreSQL runs Q17 and Q20's
/// correlated sub-selects as a scan of lineitem per outer row: Q20 takes a minute at SF 0.01).
/// The server process reads the files, so they must be readable by it.
pub fn load_postgres(
    client: &mut postgres::Client,
    dir: &Path,
    format: FileFormat,
    indexes: bool,
) -> anyhow::Result<()> {
    let script = setup_script(dir, format)?;
    client
        .batch_execute(&format!("CREATE SCHEMA files; SET search_path = files;\n{script}\nRESET search_path;"))
        .context("postgres: creating the file_fdw tables")?;
    let dir = absolute_dir(dir)?;
    for table in TABLES {
        let path = table_path(&dir, table, format);
        let sql = format!(
            "CREATE TABLE public.{table} (LIKE files.{table});\n\
             COPY public.{table} FROM '{}' WITH ({});\n\
             ANALYZE public.{table};",
            path.display().to_string().replace('\'', "''"),
            format.copy_options()
        );
        client.batch_execute(&sql).with_context(|| format!("postgres: loading {table}"))?;
    }
    if indexes {
        client.batch_execute(PG_INDEXES).context("postgres: creating keys and indexes")?;
    }
    Ok(())
}

/// Makes `dir` and its files readable by other users (the PostgreSQL server process).
pub fn make_world_readable(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let chmod = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("chmod {}", p.display()))
    };
    chmod(dir, 0o755)?;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() {
            chmod(&path, 0o644)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_has_every_table_and_both_layouts() {
        assert_eq!(SETUP_SQL.matches(TBL_OPTIONS).count(), TABLES.len());
        let dir = tempfile::tempdir().unwrap();
        let csv = setup_script(dir.path(), FileFormat::Csv).unwrap();
        assert_eq!(csv.matches(CSV_OPTIONS).count(), TABLES.len());
        assert!(!csv.contains("@DIR@"));
        for t in TABLES {
            assert!(csv.contains(&format!("CREATE FOREIGN TABLE {t} (")), "{t}");
            assert!(csv.contains(&format!("ANALYZE {t};")), "{t}");
        }
    }
}
