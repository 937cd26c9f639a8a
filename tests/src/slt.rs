//! The `slt` command: sqllogictest files run against a fresh in-memory database per file.
//!
//! The `sqllogictest` crate parses the files and checks each record; this module supplies the
//! database (a wrapper around [`Session`]), formats values the way SQLite's corpus expects
//! (`NULL`, `(empty)` for the empty string, floating point and numeric with three decimals),
//! and counts passed and failed records per file instead of stopping at the first failure.
//!
//! Result comparison ignores line structure: the SQLite corpus lists one value per line,
//! while hand-written files list one row per line, so both sides are compared as sequences of
//! whitespace-separated tokens (what the crate's default normalizer does within a line).
//! The engine name is `postgresql`, so `skipif postgresql` / `onlyif postgresql` records of the
//! corpus apply to us as they would to PostgreSQL, whose behaviour we follow.

use std::fmt;
use std::path::{Path, PathBuf};

use envelope::{DataType, Database, Datum, Error, QueryResult, Session};
use sqllogictest::{DBOutput, DefaultColumnType, Record, RecordOutput, Runner};

/// An error of a statement, displayed with its SQLSTATE so a test can match either
/// (`statement error division by zero`, `statement error 22012`).
#[derive(Debug)]
pub struct SltError(pub String);

impl fmt::Display for SltError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SltError {}

impl From<Error> for SltError {
    fn from(e: Error) -> Self {
        SltError(format!("{} (SQLSTATE {})", e.message, e.sqlstate))
    }
}

/// The sqllogictest view of a session.
pub struct EnvelopeDb {
    session: Session,
}

impl EnvelopeDb {
    /// A session on a fresh in-memory database.
    pub fn open() -> Result<Self, SltError> {
        Ok(EnvelopeDb { session: Database::open_in_memory()?.session() })
    }
}

/// The sqllogictest column type of a SQL type.
pub fn column_type(ty: &DataType) -> DefaultColumnType {
    match ty {
        DataType::Int2 | DataType::Int4 | DataType::Int8 => DefaultColumnType::Integer,
        DataType::Float4 | DataType::Float8 | DataType::Numeric(_) => DefaultColumnType::FloatingPoint,
        _ => DefaultColumnType::Text,
    }
}

/// A value as the sqllogictest convention prints it.
pub fn format_value(d: &Datum) -> String {
    match d {
        Datum::Null => "NULL".into(),
        Datum::Float4(v) => format_float(*v as f64),
        Datum::Float8(v) => format_float(*v),
        Datum::Numeric(n) => {
            // Round half away from zero on the decimal itself (no detour through f64).
            let r = n.round_dp_with_strategy(3, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
            format!("{r:.3}")
        }
        Datum::Text(s) if s.is_empty() => "(empty)".into(),
        d => d.to_text(),
    }
}

/// Text-form values (what PostgreSQL's simple protocol returns) formatted by column type.
pub fn format_text_value(v: Option<&str>, ty: &DefaultColumnType) -> String {
    match (v, ty) {
        (None, _) => "NULL".into(),
        (Some(""), _) => "(empty)".into(),
        (Some(s), DefaultColumnType::FloatingPoint) => match s.parse::<f64>() {
            Ok(f) => format_float(f),
            Err(_) => s.to_string(),
        },
        (Some(s), _) => s.to_string(),
    }
}

fn format_float(v: f64) -> String {
    if v.is_finite() {
        let s = format!("{v:.3}");
        // C's printf prints -0.000 too, but SQLite's results never contain it.
        if s == "-0.000" {
            "0.000".into()
        } else {
            s
        }
    } else if v.is_nan() {
        "NaN".into()
    } else if v > 0.0 {
        "Infinity".into()
    } else {
        "-Infinity".into()
    }
}

/// The affected-row count of a command tag (`INSERT 0 3` -> 3, `CREATE TABLE` -> 0).
pub fn tag_count(tag: &str) -> u64 {
    tag.rsplit(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

fn to_output(r: QueryResult) -> DBOutput<DefaultColumnType> {
    if r.returns_rows {
        let types = r.columns.iter().map(|c| column_type(&c.ty)).collect();
        let rows = r.rows.iter().map(|row| row.iter().map(format_value).collect()).collect();
        DBOutput::Rows { types, rows }
    } else {
        DBOutput::StatementComplete(tag_count(&r.tag))
    }
}

impl sqllogictest::DB for EnvelopeDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let mut last = None;
        for r in self.session.execute_batch(sql) {
            last = Some(r?);
        }
        Ok(to_output(last.unwrap_or_default()))
    }

    fn engine_name(&self) -> &str {
        "postgresql"
    }
}

/// Compares results as token sequences, so value-per-line and row-per-line expectations both
/// match (see the module documentation).
fn token_validator(normalizer: sqllogictest::Normalizer, actual: &[Vec<String>], expected: &[String]) -> bool {
    let _ = normalizer;
    let actual_tokens = actual.iter().flatten().flat_map(|v| v.split_ascii_whitespace());
    let expected_tokens = expected.iter().flat_map(|l| l.split_ascii_whitespace());
    actual_tokens.eq(expected_tokens)
}

/// The hash threshold a file starts with: 8 for SQLite's corpus (`*.test`, generated by a
/// runner that hashes results of more than 8 values unless the file says otherwise), none
/// for our own `*.slt` files. A `hash-threshold` record in the file overrides it.
pub fn default_hash_threshold(path: &Path) -> usize {
    if path.extension().is_some_and(|e| e == "test") {
        8
    } else {
        0
    }
}

/// The outcome of one file.
#[derive(Debug, Default)]
pub struct FileReport {
    pub passed: usize,
    pub failed: usize,
    /// One message per failed record (location, SQL, expected and actual).
    pub failures: Vec<String>,
}

/// Runs one file against a connection made by `make` (called once per `connection` name),
/// counting records instead of stopping at the first failure. `vars` are substituted as
/// `$NAME` in files that say `control substitution on`.
pub fn run_file_with<D, F>(path: &Path, make: F, vars: &[(String, String)]) -> Result<FileReport, String>
where
    D: sqllogictest::DB<ColumnType = DefaultColumnType> + Send + 'static,
    F: FnMut() -> Result<D, D::Error> + 'static,
{
    let records = sqllogictest::parse_file::<DefaultColumnType>(path)
        .map_err(|e| format!("{}: cannot parse: {e}", path.display()))?;
    let mut make = make;
    let mut runner = Runner::new(move || std::future::ready(make()));
    runner.with_validator(token_validator);
    runner.with_hash_threshold(default_hash_threshold(path));
    for (k, v) in vars {
        runner.set_var(k.clone(), v.clone());
    }
    let mut report = FileReport::default();
    for record in records {
        if matches!(record, Record::Halt { .. }) {
            break;
        }
        let counted = matches!(record, Record::Statement { .. } | Record::Query { .. } | Record::System { .. });
        match runner.run(record) {
            Ok(RecordOutput::Nothing) => {}
            Ok(_) if counted => report.passed += 1,
            Ok(_) => {}
            Err(e) => {
                report.failed += 1;
                report.failures.push(e.display(false).to_string());
            }
        }
    }
    Ok(report)
}

/// Runs one file against a fresh in-memory envelope database.
pub fn run_file(path: &Path, vars: &[(String, String)]) -> Result<FileReport, String> {
    run_file_with(path, EnvelopeDb::open, vars)
}

/// The variables every run provides: `$DATA_DIR`, the absolute path of `tests/data` (files
/// for file_fdw tables).
pub fn default_vars() -> Vec<(String, String)> {
    vec![("DATA_DIR".to_string(), data_dir().display().to_string())]
}

/// `tests/data` of this package.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database that answers `SELECT <n>` with one integer row and fails anything else.
    struct EchoDb;

    impl sqllogictest::DB for EchoDb {
        type Error = SltError;
        type ColumnType = DefaultColumnType;
        fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
            match sql.trim().strip_prefix("SELECT ").and_then(|n| n.parse::<i64>().ok()) {
                Some(n) => {
                    Ok(DBOutput::Rows { types: vec![DefaultColumnType::Integer], rows: vec![vec![n.to_string()]] })
                }
                None => Err(SltError(format!("cannot run {sql}"))),
            }
        }
        fn engine_name(&self) -> &str {
            "postgresql"
        }
    }

    #[test]
    fn counts_failures_and_keeps_going() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.slt");
        std::fs::write(
            &path,
            "query I\nSELECT 1\n----\n1\n\nquery I\nSELECT 2\n----\n3\n\nstatement error cannot run\nDROP x\n\n\
             statement ok\nDROP y\n\nskipif postgresql\nquery I\nSELECT 9\n----\n0\n\nquery I\nSELECT 4\n----\n4\n",
        )
        .unwrap();
        let report = run_file_with(&path, || Ok(EchoDb), &[]).unwrap();
        assert_eq!((report.passed, report.failed), (3, 2), "{:?}", report.failures);
        assert!(report.failures[0].contains("SELECT 2"));
    }

    #[test]
    fn value_formats_follow_the_sqlite_convention() {
        use fdw_api::Numeric;
        assert_eq!(format_value(&Datum::Null), "NULL");
        assert_eq!(format_value(&Datum::text("")), "(empty)");
        assert_eq!(format_value(&Datum::Float8(2.0 / 3.0)), "0.667");
        assert_eq!(format_value(&Datum::Numeric(Numeric::new(12345, 4))), "1.235");
        assert_eq!(format_value(&Datum::Numeric(Numeric::new(-5, 0))), "-5.000");
        assert_eq!(format_value(&Datum::Int8(-7)), "-7");
        assert_eq!(format_text_value(Some("2.5"), &DefaultColumnType::FloatingPoint), "2.500");
        assert_eq!(column_type(&DataType::Numeric(None)), DefaultColumnType::FloatingPoint);
        assert_eq!(column_type(&DataType::Int2), DefaultColumnType::Integer);
        assert_eq!(column_type(&DataType::Bool), DefaultColumnType::Text);
        assert_eq!(tag_count("INSERT 0 3"), 3);
        assert_eq!(tag_count("CREATE TABLE"), 0);
    }

    #[test]
    fn sqlite_files_hash_beyond_eight_values() {
        assert_eq!(default_hash_threshold(Path::new("a/select1.test")), 8);
        assert_eq!(default_hash_threshold(Path::new("tests/slt/joins.slt")), 0);
    }
}
