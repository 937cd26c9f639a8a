//! The local PostgreSQL, our reference: connecting to it (honouring PGHOST, PGPORT, PGUSER,
//! PGDATABASE; default 127.0.0.1:5432 as postgres), scratch databases, and a sqllogictest
//! database over it so our `.slt` files can be checked against the real thing
//! (`harness slt --postgres FILE`).

use postgres::{Client, NoTls, SimpleQueryMessage};
use sqllogictest::{DBOutput, DefaultColumnType};

use crate::slt::{format_text_value, SltError};

/// The connection string from the PG* environment variables.
pub fn conninfo(dbname: Option<&str>) -> String {
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let db = dbname.map(str::to_string).unwrap_or_else(|| var("PGDATABASE", "postgres"));
    format!(
        "host={} port={} user={} dbname={}",
        var("PGHOST", "127.0.0.1"),
        var("PGPORT", "5432"),
        var("PGUSER", "postgres"),
        db
    )
}

/// A `psql` command for the same server (`-X`: no ~/.psqlrc), for comparing output.
pub fn psql_command(dbname: Option<&str>) -> std::process::Command {
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let mut cmd = std::process::Command::new("psql");
    cmd.arg("-X")
        .args(["-h", &var("PGHOST", "127.0.0.1")])
        .args(["-p", &var("PGPORT", "5432")])
        .args(["-U", &var("PGUSER", "postgres")])
        .args(["-d", &dbname.map(str::to_string).unwrap_or_else(|| var("PGDATABASE", "postgres"))]);
    cmd
}

/// Connects to the local PostgreSQL, with an error that says how to start it.
pub fn connect(dbname: Option<&str>) -> anyhow::Result<Client> {
    let info = conninfo(dbname);
    Client::connect(&info, NoTls).map_err(|e| {
        anyhow::anyhow!("PostgreSQL is not reachable ({info}): {e}; start it with: pg_ctlcluster 15 main start")
    })
}

/// A database created for one run and dropped when this value is dropped.
pub struct ScratchDb {
    pub name: String,
    admin: Client,
}

impl ScratchDb {
    /// Creates `envelope_<prefix>_<random>` on the local server.
    pub fn create(prefix: &str) -> anyhow::Result<ScratchDb> {
        let mut admin = connect(None)?;
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let name = format!("envelope_{prefix}_{}_{}", std::process::id(), nanos % 1_000_000_000);
        admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
        Ok(ScratchDb { name, admin })
    }

    pub fn connect(&self) -> anyhow::Result<Client> {
        connect(Some(&self.name))
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        let _ = self.admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

/// Runs `sql` with the simple protocol and returns the rows as text (`None` for NULL), with
/// the column names, of the last statement that returned rows.
pub fn simple_rows(client: &mut Client, sql: &str) -> Result<(Vec<String>, Vec<Vec<Option<String>>>), postgres::Error> {
    let mut names = Vec::new();
    let mut rows = Vec::new();
    for m in client.simple_query(sql)? {
        match m {
            SimpleQueryMessage::RowDescription(cols) => {
                names = cols.iter().map(|c| c.name().to_string()).collect();
                rows.clear();
            }
            SimpleQueryMessage::Row(r) => {
                rows.push((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect());
            }
            _ => {}
        }
    }
    Ok((names, rows))
}

/// The sqllogictest column type of a PostgreSQL type.
fn column_type(ty: &postgres::types::Type) -> DefaultColumnType {
    use postgres::types::Type;
    match *ty {
        Type::INT2 | Type::INT4 | Type::INT8 => DefaultColumnType::Integer,
        Type::FLOAT4 | Type::FLOAT8 | Type::NUMERIC => DefaultColumnType::FloatingPoint,
        _ => DefaultColumnType::Text,
    }
}

/// A sqllogictest database on a scratch PostgreSQL database.
pub struct PgDb {
    client: Client,
    _db: ScratchDb,
}

impl PgDb {
    pub fn open() -> Result<PgDb, SltError> {
        let db = ScratchDb::create("slt").map_err(|e| SltError(e.to_string()))?;
        let client = db.connect().map_err(|e| SltError(e.to_string()))?;
        Ok(PgDb { client, _db: db })
    }
}

fn pg_error(e: postgres::Error) -> SltError {
    match e.as_db_error() {
        Some(db) => SltError(format!("{} (SQLSTATE {})", db.message(), db.code().code())),
        None => SltError(e.to_string()),
    }
}

impl sqllogictest::DB for PgDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        // The column types come from describing the statement; the values from the simple
        // protocol (text, exactly what psql shows). Statements that cannot be described
        // (several statements, utility commands) run as a batch.
        let types: Option<Vec<DefaultColumnType>> = match self.client.prepare(sql) {
            Ok(stmt) if !stmt.columns().is_empty() => {
                Some(stmt.columns().iter().map(|c| column_type(c.type_())).collect())
            }
            _ => None,
        };
        let mut count = 0;
        let mut rows = Vec::new();
        for m in self.client.simple_query(sql).map_err(pg_error)? {
            match m {
                SimpleQueryMessage::Row(r) => {
                    let tys = types.as_deref().unwrap_or(&[]);
                    rows.push(
                        (0..r.len())
                            .map(|i| format_text_value(r.get(i), tys.get(i).unwrap_or(&DefaultColumnType::Text)))
                            .collect(),
                    );
                }
                SimpleQueryMessage::CommandComplete(n) => count = n,
                _ => {}
            }
        }
        Ok(match types {
            Some(types) => DBOutput::Rows { types, rows },
            None => DBOutput::StatementComplete(count),
        })
    }

    fn engine_name(&self) -> &str {
        "postgresql"
    }
}
