//! Connections to remote servers: opening them, caching them, and tying them to local
//! transactions (postgres_fdw's `connection.c`).
//!
//! - A connection is identified by the server name plus the user mapping's options
//!   ([`ConnKey`]); it also remembers the server options it was opened with, and an idle
//!   connection whose server options no longer match (ALTER SERVER) is closed instead of
//!   reused. A changed user mapping is a different key.
//! - One handler serves every session of the envelope, so the cache is a pool: a local
//!   transaction (`ExecContext::xid`) takes one connection per key at its first remote access
//!   and keeps it until `end`, then gives it back (unless `keep_connections` is off or it is
//!   broken). Two concurrent transactions never share a connection; consecutive ones reuse it.
//! - The remote transaction starts at that first access: `START TRANSACTION ISOLATION LEVEL
//!   REPEATABLE READ` (`SERIALIZABLE` when the local one is), as postgres_fdw always does, so
//!   all scans of one local statement or transaction see one remote snapshot.
//! - A connection found dead when its transaction starts (the remote backend was terminated
//!   while it sat idle) is replaced silently; one that dies during a transaction makes that
//!   statement fail with 08006, and the transaction cannot commit.
//! - Session settings are pinned as postgres_fdw pins them (`search_path = pg_catalog`, UTC,
//!   ISO dates, `extra_float_digits = 3`) so text values parse the same everywhere.
//!
//! Never a hang: `connect_timeout` defaults to 10 s, and TCP keepalives are on (idle 30 s)
//! so a vanished host is detected; a statement timeout can be set per server with
//! `options '-c statement_timeout=...'`, as with libpq.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use fdw_api::{err, ExecContext, FdwError, FdwResult, IsolationLevel, Options, TableDesc, TxnId};
use parking_lot::Mutex;
use postgres::types::{Format, IsNull, ToSql, Type};
use postgres::{Client, Config, NoTls, SimpleQueryMessage, SimpleQueryRow};

use crate::errors::{connect_error, redact, remote_error};

/// Default `connect_timeout` in seconds (libpq waits forever; a wrapper must not).
const DEFAULT_CONNECT_TIMEOUT: u64 = 10;
/// Idle connections kept per key.
const MAX_IDLE_PER_KEY: usize = 8;

/// What identifies a cached connection: the server and the user mapping's options.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ConnKey {
    pub server: String,
    mapping: Vec<(String, String)>,
}

impl fmt::Debug for ConnKey {
    /// Never prints option values: the user mapping holds the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self.mapping.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ConnKey").field("server", &self.server).field("mapping_keys", &keys).finish()
    }
}

/// Everything needed to open a connection.
#[derive(Clone)]
pub struct ConnSpec {
    pub server: String,
    pub server_options: Options,
    pub mapping: Options,
}

impl fmt::Debug for ConnSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnSpec").field("server", &self.server).finish_non_exhaustive()
    }
}

impl ConnSpec {
    pub fn of_table(table: &TableDesc) -> ConnSpec {
        ConnSpec {
            server: table.server_name.clone(),
            server_options: table.server_options.clone(),
            mapping: table.user_mapping_options.clone(),
        }
    }

    pub fn key(&self) -> ConnKey {
        let mut mapping = self.mapping.0.clone();
        mapping.sort();
        ConnKey { server: self.server.clone(), mapping }
    }

    pub fn password(&self) -> Option<&str> {
        self.mapping.get("password")
    }

    fn keep_connections(&self) -> bool {
        self.server_options.get("keep_connections").and_then(fdw_api::schema::parse_bool).unwrap_or(true)
    }

    /// The client configuration, plus the first host and port for messages.
    fn config(&self) -> FdwResult<(Config, String, u16)> {
        let mut cfg = Config::new();
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let opt = |k: &str| self.server_options.get(k).or_else(|| self.mapping.get(k));
        let bad_int = |k: &str, v: &str| {
            err!(FDW_UNABLE_TO_ESTABLISH_CONNECTION, "invalid integer value \"{}\" for connection option \"{}\"", v, k)
        };
        let secs = |k: &str, v: &str| -> FdwResult<Duration> {
            v.trim().parse::<u64>().map(Duration::from_secs).map_err(|_| bad_int(k, v))
        };
        let host = opt("host").map(str::to_string).or_else(|| env("PGHOST")).unwrap_or_else(|| "localhost".into());
        let hosts: Vec<&str> = host.split(',').map(str::trim).collect();
        for h in &hosts {
            cfg.host(h);
        }
        if let Some(a) = opt("hostaddr") {
            for a in a.split(',') {
                let ip = a.trim().parse().map_err(|_| {
                    err!(FDW_UNABLE_TO_ESTABLISH_CONNECTION, "could not parse network address \"{}\"", a.trim())
                })?;
                cfg.hostaddr(ip);
            }
        }
        let port_text = opt("port").map(str::to_string).or_else(|| env("PGPORT")).unwrap_or_else(|| "5432".into());
        let mut first_port = 5432;
        for (i, p) in port_text.split(',').enumerate() {
            let port: u16 = p.trim().parse().map_err(|_| bad_int("port", p))?;
            if i == 0 {
                first_port = port;
            }
            cfg.port(port);
        }
        let user = self
            .mapping
            .get("user")
            .map(str::to_string)
            .or_else(|| env("PGUSER"))
            .or_else(|| env("USER"))
            .unwrap_or_else(|| "postgres".into());
        cfg.user(&user);
        if let Some(pw) = self.password() {
            cfg.password(pw);
        }
        cfg.dbname(opt("dbname").unwrap_or(&user));
        cfg.application_name(opt("application_name").unwrap_or("postgres_fdw"));
        if let Some(o) = opt("options") {
            cfg.options(o);
        }
        let timeout = match opt("connect_timeout") {
            Some(v) => secs("connect_timeout", v)?,
            None => Duration::from_secs(DEFAULT_CONNECT_TIMEOUT),
        };
        // libpq: 0 means wait forever; we still bound it, as the default.
        cfg.connect_timeout(if timeout.is_zero() { Duration::from_secs(DEFAULT_CONNECT_TIMEOUT) } else { timeout });
        let keepalives = opt("keepalives").map(|v| v.trim() != "0").unwrap_or(true);
        cfg.keepalives(keepalives);
        cfg.keepalives_idle(match opt("keepalives_idle") {
            Some(v) => secs("keepalives_idle", v)?,
            None => Duration::from_secs(30),
        });
        if let Some(v) = opt("keepalives_interval") {
            cfg.keepalives_interval(secs("keepalives_interval", v)?);
        }
        if let Some(v) = opt("keepalives_count") {
            cfg.keepalives_retries(v.trim().parse().map_err(|_| bad_int("keepalives_count", v))?);
        }
        if let Some(v) = opt("tcp_user_timeout") {
            let ms: u64 = v.trim().parse().map_err(|_| bad_int("tcp_user_timeout", v))?;
            cfg.tcp_user_timeout(Duration::from_millis(ms));
        }
        if let Some(v) = opt("target_session_attrs") {
            cfg.target_session_attrs(match v {
                "any" => postgres::config::TargetSessionAttrs::Any,
                "read-write" => postgres::config::TargetSessionAttrs::ReadWrite,
                _ => return Err(unsupported_value("target_session_attrs", v)),
            });
        }
        if let Some(v) = opt("channel_binding") {
            cfg.channel_binding(match v {
                "disable" => postgres::config::ChannelBinding::Disable,
                "prefer" => postgres::config::ChannelBinding::Prefer,
                "require" => postgres::config::ChannelBinding::Require,
                _ => return Err(unsupported_value("channel_binding", v)),
            });
        }
        match opt("sslmode") {
            None | Some("disable" | "allow" | "prefer") => {}
            Some(v) => return Err(unsupported_value("sslmode", v)),
        }
        if let Some(v) = opt("gssencmode") {
            if v == "require" {
                return Err(unsupported_value("gssencmode", v));
            }
        }
        // Options that change how to connect and that this client cannot honour.
        for k in [
            "service",
            "passfile",
            "sslcert",
            "sslkey",
            "sslrootcert",
            "sslcrl",
            "sslcrldir",
            "sslpassword",
            "requirepeer",
            "krbsrvname",
            "gsslib",
        ] {
            if opt(k).is_some() {
                return Err(err!(
                    FDW_UNABLE_TO_ESTABLISH_CONNECTION,
                    "connection option \"{}\" is not supported by this postgres_fdw",
                    k
                )
                .with_detail(format!("server \"{}\"", self.server)));
            }
        }
        Ok((cfg, hosts.first().copied().unwrap_or("localhost").to_string(), first_port))
    }
}

fn unsupported_value(key: &str, value: &str) -> FdwError {
    err!(FDW_UNABLE_TO_ESTABLISH_CONNECTION, "{} value \"{}\" is not supported by this postgres_fdw", key, value)
        .with_hint("TLS and GSSAPI encryption are not available; use sslmode disable, allow or prefer.")
}

/// A query parameter sent in text form, whatever the remote type: the remote parses it with
/// its own input function, exactly as a literal of the `$n::type` cast would be.
struct TextParam<'a>(Option<&'a str>);

impl fmt::Debug for TextParam<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TextParam")
    }
}

impl ToSql for TextParam<'_> {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self.0 {
            None => Ok(IsNull::Yes),
            Some(s) => {
                out.extend_from_slice(s.as_bytes());
                Ok(IsNull::No)
            }
        }
    }
    fn accepts(_ty: &Type) -> bool {
        true
    }
    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }
    postgres::types::to_sql_checked!();
}

/// One open connection.
pub struct RemoteConn {
    client: Client,
    pub server: String,
    secret: Option<String>,
    server_options: Options,
    keep: bool,
    in_xact: bool,
    broken: bool,
    cursor_seq: u32,
}

impl fmt::Debug for RemoteConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteConn").field("server", &self.server).field("in_xact", &self.in_xact).finish()
    }
}

/// postgres_fdw's `configure_remote_session`.
const SESSION_SETUP: &str = "SET search_path = pg_catalog; SET timezone = 'UTC'; SET datestyle = ISO; \
                             SET intervalstyle = postgres; SET extra_float_digits = 3";

impl RemoteConn {
    pub fn connect(spec: &ConnSpec) -> FdwResult<RemoteConn> {
        let (cfg, host, port) = spec.config()?;
        let secret = spec.password().map(str::to_string);
        let client = cfg.connect(NoTls).map_err(|e| connect_error(&spec.server, &host, port, &e, secret.as_deref()))?;
        let mut conn = RemoteConn {
            client,
            server: spec.server.clone(),
            secret,
            server_options: spec.server_options.clone(),
            keep: spec.keep_connections(),
            in_xact: false,
            broken: false,
            cursor_seq: 0,
        };
        conn.exec(SESSION_SETUP)?;
        Ok(conn)
    }

    /// Usable for another transaction.
    fn is_usable(&self) -> bool {
        !self.broken && !self.client.is_closed()
    }

    pub fn is_broken(&self) -> bool {
        self.broken || self.client.is_closed()
    }

    pub fn secret(&self) -> Option<&str> {
        self.secret.as_deref()
    }

    /// A fresh cursor name (`c1`, `c2`, ...), unique on this connection.
    pub fn next_cursor(&mut self) -> String {
        self.cursor_seq += 1;
        format!("c{}", self.cursor_seq)
    }

    fn fail(&mut self, e: &postgres::Error, sql: &str) -> FdwError {
        if e.is_closed() || self.client.is_closed() || e.as_db_error().is_none_or(|d| d.severity() == "FATAL") {
            self.broken = true;
        }
        remote_error(&self.server, e, Some(sql), self.secret.as_deref())
    }

    /// Runs `sql` (one or several statements, no parameters) with the simple protocol.
    pub fn simple(&mut self, sql: &str) -> FdwResult<Vec<SimpleQueryMessage>> {
        if self.broken {
            return Err(self.lost(sql));
        }
        match self.client.simple_query(sql) {
            Ok(m) => Ok(m),
            Err(e) => Err(self.fail(&e, sql)),
        }
    }

    /// Runs a command; returns the row count of the last one.
    pub fn exec(&mut self, sql: &str) -> FdwResult<u64> {
        let msgs = self.simple(sql)?;
        Ok(msgs
            .iter()
            .rev()
            .find_map(|m| match m {
                SimpleQueryMessage::CommandComplete(n) => Some(*n),
                _ => None,
            })
            .unwrap_or(0))
    }

    /// Runs a query; returns its rows in text form.
    pub fn rows(&mut self, sql: &str) -> FdwResult<Vec<SimpleQueryRow>> {
        let msgs = self.simple(sql)?;
        Ok(msgs
            .into_iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => Some(r),
                _ => None,
            })
            .collect())
    }

    /// Runs a command with `$n` parameters sent as text (the extended protocol).
    pub fn exec_params(&mut self, sql: &str, params: &[Option<String>]) -> FdwResult<u64> {
        if self.broken {
            return Err(self.lost(sql));
        }
        let wrapped: Vec<TextParam<'_>> = params.iter().map(|p| TextParam(p.as_deref())).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = wrapped.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        match self.client.execute(sql, &refs) {
            Ok(n) => Ok(n),
            Err(e) => Err(self.fail(&e, sql)),
        }
    }

    fn lost(&self, sql: &str) -> FdwError {
        err!(CONNECTION_FAILURE, "lost connection to server \"{}\"", self.server)
            .with_detail("The connection was lost earlier in this transaction.")
            .with_context(format!("remote SQL command: {}", redact(sql, self.secret.as_deref())))
    }

    fn start_xact(&mut self, isolation: IsolationLevel) -> FdwResult<()> {
        let sql = match isolation {
            IsolationLevel::Serializable => "START TRANSACTION ISOLATION LEVEL SERIALIZABLE",
            _ => "START TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        };
        self.exec(sql)?;
        self.in_xact = true;
        Ok(())
    }
}

/// A connection in use by a transaction, shared by its scans and modifications.
pub type SharedConn = Arc<Mutex<RemoteConn>>;

struct XactConns {
    conns: Vec<(ConnKey, SharedConn)>,
}

/// The pool of idle connections and the connections of running transactions.
#[derive(Default)]
pub struct ConnManager {
    idle: Mutex<HashMap<ConnKey, Vec<RemoteConn>>>,
    xacts: Mutex<HashMap<TxnId, XactConns>>,
}

impl fmt::Debug for ConnManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnManager").finish_non_exhaustive()
    }
}

impl ConnManager {
    /// An idle connection for `spec` (closed ones and ones opened with other server options
    /// are dropped), or a new one; the flag says whether it came from the pool.
    fn checkout(&self, spec: &ConnSpec) -> FdwResult<(RemoteConn, bool)> {
        let key = spec.key();
        {
            let mut idle = self.idle.lock();
            if let Some(list) = idle.get_mut(&key) {
                while let Some(c) = list.pop() {
                    if c.is_usable() && c.server_options == spec.server_options {
                        return Ok((c, true));
                    }
                }
            }
        }
        Ok((RemoteConn::connect(spec)?, false))
    }

    fn checkin(&self, key: ConnKey, conn: RemoteConn) {
        if !conn.is_usable() || !conn.keep || conn.in_xact {
            return;
        }
        let mut idle = self.idle.lock();
        let list = idle.entry(key).or_default();
        if list.len() < MAX_IDLE_PER_KEY {
            list.push(conn);
        }
    }

    /// Runs `f` on a connection outside any transaction (planning, IMPORT FOREIGN SCHEMA).
    pub fn with_conn<T>(&self, spec: &ConnSpec, mut f: impl FnMut(&mut RemoteConn) -> FdwResult<T>) -> FdwResult<T> {
        let (mut conn, pooled) = self.checkout(spec)?;
        let r = f(&mut conn);
        let conn = match r {
            Err(_) if pooled && conn.is_broken() => {
                // A pooled connection that had died while idle: retry once on a new one.
                let mut fresh = RemoteConn::connect(spec)?;
                let r2 = f(&mut fresh);
                self.checkin(spec.key(), fresh);
                return r2;
            }
            _ => conn,
        };
        self.checkin(spec.key(), conn);
        r
    }

    /// The connection transaction `ctx.xid` uses for `spec`, with its remote transaction
    /// started (postgres_fdw's `GetConnection` + `begin_remote_xact`).
    pub fn for_xact(&self, spec: &ConnSpec, ctx: &ExecContext) -> FdwResult<SharedConn> {
        let key = spec.key();
        if let Some(x) = self.xacts.lock().get(&ctx.xid) {
            if let Some((_, c)) = x.conns.iter().find(|(k, _)| *k == key) {
                return Ok(c.clone());
            }
        }
        let (mut conn, pooled) = self.checkout(spec)?;
        if let Err(e) = conn.start_xact(ctx.isolation) {
            if !(pooled && conn.is_broken()) {
                return Err(e);
            }
            // It died while idle: this is the next transaction, so replace it.
            conn = RemoteConn::connect(spec)?;
            conn.start_xact(ctx.isolation)?;
        }
        let shared = Arc::new(Mutex::new(conn));
        let mut xacts = self.xacts.lock();
        let x = xacts.entry(ctx.xid).or_insert_with(|| XactConns { conns: Vec::new() });
        if let Some((_, c)) = x.conns.iter().find(|(k, _)| *k == key) {
            // Another thread of the same transaction won the race; ours is not needed.
            return Ok(c.clone());
        }
        x.conns.push((key, shared.clone()));
        Ok(shared)
    }

    fn conns_of(&self, xid: TxnId) -> Vec<SharedConn> {
        self.xacts.lock().get(&xid).map(|x| x.conns.iter().map(|(_, c)| c.clone()).collect()).unwrap_or_default()
    }

    /// Commits every remote transaction of `xid`; the first failure is the local commit's
    /// error (the envelope then aborts).
    pub fn pre_commit(&self, xid: TxnId) -> FdwResult<()> {
        for c in self.conns_of(xid) {
            let mut conn = c.lock();
            if !conn.in_xact {
                continue;
            }
            if conn.broken {
                return Err(err!(
                    CONNECTION_FAILURE,
                    "lost connection to server \"{}\" before the transaction could commit",
                    conn.server
                )
                .with_detail("Remote changes of this transaction were rolled back."));
            }
            let r = conn.exec("COMMIT TRANSACTION");
            conn.in_xact = false;
            r?;
        }
        Ok(())
    }

    /// Rolls back every remote transaction of `xid` that is still open.
    pub fn abort(&self, xid: TxnId) {
        for c in self.conns_of(xid) {
            let mut conn = c.lock();
            rollback(&mut conn);
        }
    }

    /// Forgets `xid`, returning its connections to the pool.
    pub fn end(&self, xid: TxnId) {
        let Some(x) = self.xacts.lock().remove(&xid) else { return };
        for (key, shared) in x.conns {
            match Arc::try_unwrap(shared) {
                Ok(m) => {
                    let mut conn = m.into_inner();
                    rollback(&mut conn);
                    self.checkin(key, conn);
                }
                // A scan that was never dropped still holds it: it closes with the scan.
                Err(shared) => rollback(&mut shared.lock()),
            }
        }
    }

    /// Number of idle connections (tests and diagnostics).
    pub fn idle_count(&self) -> usize {
        self.idle.lock().values().map(Vec::len).sum()
    }
}

fn rollback(conn: &mut RemoteConn) {
    if conn.in_xact {
        conn.in_xact = false;
        if !conn.is_broken() && conn.exec("ROLLBACK TRANSACTION").is_err() {
            conn.broken = true;
        }
    }
}
