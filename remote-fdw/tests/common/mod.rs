//! Test support: a scratch database on the real PostgreSQL (dropped when the guard drops,
//! also when the test fails), table descriptions as the envelope would build them, and
//! helpers that drive the wrapper through the fdw-api the way the envelope does.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use fdw_api::services::VolatileServices;
use fdw_api::{
    ColumnDef, DataType, Datum, ExecContext, Expr, FdwResult, FdwRoutine, ForeignPath, IsolationLevel, Options,
    RelInfo, Row, RowBatch, ScanRequest, TableDesc,
};
use remote_fdw::PostgresFdw;

pub fn pg_host() -> String {
    std::env::var("PGHOST").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "127.0.0.1".into())
}
pub fn pg_port() -> u16 {
    std::env::var("PGPORT").ok().and_then(|p| p.parse().ok()).unwrap_or(5432)
}
pub fn pg_user() -> String {
    std::env::var("PGUSER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "postgres".into())
}

pub fn connect(db: &str) -> postgres::Client {
    let mut cfg = postgres::Config::new();
    cfg.host(&pg_host()).port(pg_port()).user(&pg_user()).dbname(db);
    cfg.connect_timeout(std::time::Duration::from_secs(5));
    match cfg.connect(postgres::NoTls) {
        Ok(c) => c,
        Err(e) => panic!(
            "PostgreSQL is not reachable at {}:{}: start it with `pg_ctlcluster 15 main start` ({e})",
            pg_host(),
            pg_port()
        ),
    }
}

/// A database created for one test and dropped at the end.
pub struct ScratchDb {
    pub name: String,
}

static SEQ: AtomicU64 = AtomicU64::new(0);

impl ScratchDb {
    pub fn new(setup: &str) -> ScratchDb {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let name = format!(
            "h8_remote_{}_{}_{}",
            std::process::id(),
            nanos % 1_000_000_000,
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        connect("postgres").batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let db = ScratchDb { name };
        if !setup.is_empty() {
            db.client().batch_execute(setup).unwrap();
        }
        db
    }

    pub fn client(&self) -> postgres::Client {
        connect(&self.name)
    }

    /// Server options pointing at this database.
    pub fn server_options(&self) -> Options {
        let mut o = Options::new();
        o.set("host", &pg_host());
        o.set("port", &pg_port().to_string());
        o.set("dbname", &self.name);
        o
    }

    pub fn mapping(&self) -> Options {
        let mut o = Options::new();
        o.set("user", &pg_user());
        o
    }

    /// A foreign table of server "loopback" over remote table `public.<name>`.
    pub fn table(&self, name: &str, cols: &[(&str, DataType)]) -> TableDesc {
        TableDesc {
            id: SEQ.fetch_add(1, Ordering::Relaxed),
            schema: "public".into(),
            name: name.into(),
            columns: cols
                .iter()
                .map(|(n, t)| ColumnDef {
                    name: n.to_string(),
                    ty: t.clone(),
                    not_null: false,
                    default: None,
                    options: Options::new(),
                })
                .collect(),
            table_options: Options::new(),
            server_name: "loopback".into(),
            server_options: self.server_options(),
            wrapper_options: Options::new(),
            user_mapping_options: self.mapping(),
            indexes: Vec::new(),
            stats: None,
        }
    }

    /// Runs one query on this database and returns the first column of each row as text.
    pub fn texts(&self, sql: &str) -> Vec<Option<String>> {
        self.client()
            .simple_query(sql)
            .unwrap()
            .into_iter()
            .filter_map(|m| match m {
                postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).map(str::to_string)),
                _ => None,
            })
            .collect()
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        let mut c = connect("postgres");
        let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

static XID: AtomicU64 = AtomicU64::new(1000);

pub fn ctx(in_block: bool) -> ExecContext {
    ExecContext {
        xid: XID.fetch_add(1, Ordering::Relaxed),
        in_transaction_block: in_block,
        isolation: IsolationLevel::ReadCommitted,
        user: "tester".into(),
        services: Arc::new(VolatileServices::default()),
    }
}

pub fn rel(table: &Arc<TableDesc>, quals: Vec<Expr>) -> RelInfo {
    RelInfo {
        table: table.clone(),
        quals,
        join_quals: Vec::new(),
        needed_columns: (0..table.columns.len()).collect(),
        useful_orders: Vec::new(),
        max_parallel_workers: 0,
    }
}

/// A scan request for `path`, with the quals the path enforces.
pub fn request(rel: &RelInfo, path: &ForeignPath, columns: Vec<usize>) -> ScanRequest {
    let quals = rel
        .quals
        .iter()
        .zip(&path.qual_support)
        .filter(|(_, s)| **s != fdw_api::QualSupport::Unsupported)
        .map(|(q, _)| q.clone())
        .collect();
    ScanRequest {
        table: rel.table.clone(),
        columns,
        quals,
        param_quals: path.param_quals.iter().map(|&i| rel.join_quals[i].clone()).collect(),
        want_row_id: false,
        path: path.clone(),
        limit: None,
    }
}

/// All rows of a scan.
pub fn scan_all(fdw: &PostgresFdw, req: &ScanRequest, ctx: &ExecContext, params: &[Datum]) -> FdwResult<Vec<Row>> {
    let mut scan = fdw.begin_scan(req, ctx)?;
    let mut rows = Vec::new();
    loop {
        let mut b = RowBatch::new();
        let more = scan.next_batch(&mut b, params)?;
        assert!(b.len() <= fdw_api::BATCH_SIZE);
        rows.extend(b.rows);
        if !more {
            break;
        }
    }
    scan.end()?;
    Ok(rows)
}

/// Commits `ctx`'s transaction as the envelope does (pre-commit, commit, end; abort and end
/// on a pre-commit failure).
pub fn commit(fdw: &PostgresFdw, ctx: &ExecContext) -> FdwResult<()> {
    let tr = fdw.transaction_routine().unwrap();
    if let Err(e) = tr.pre_commit(ctx) {
        tr.abort(ctx)?;
        tr.end(ctx.xid)?;
        return Err(e);
    }
    tr.commit(ctx, fdw_api::Lsn(0))?;
    tr.end(ctx.xid)
}

pub fn rollback(fdw: &PostgresFdw, ctx: &ExecContext) {
    let tr = fdw.transaction_routine().unwrap();
    tr.abort(ctx).unwrap();
    tr.end(ctx.xid).unwrap();
}

/// Plans (sizes, paths) and picks the first path, as a simple envelope would.
pub fn plan_first(fdw: &PostgresFdw, rel: &RelInfo) -> ForeignPath {
    let size = fdw.get_rel_size(rel).unwrap();
    fdw.get_paths(rel, &size).unwrap().remove(0)
}

pub fn int(v: i32) -> Expr {
    Expr::constant(Datum::Int4(v), DataType::Int4)
}
pub fn text(v: &str) -> Expr {
    Expr::constant(Datum::text(v), DataType::Text)
}
pub fn col(i: usize, ty: DataType) -> Expr {
    Expr::column(i, ty)
}
pub fn bin(op: fdw_api::BinaryOp, l: Expr, r: Expr) -> Expr {
    Expr::Binary { op, left: Box::new(l), right: Box::new(r), ty: DataType::Bool }
}
