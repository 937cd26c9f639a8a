//! Session settings: SET/SHOW/RESET of the run-time parameters the envelope knows.
//!
//! Parameters that only exist for script compatibility with PostgreSQL (client_encoding,
//! DateStyle, ...) accept their usual values and report them back; those that change
//! behaviour are the planner switches, `max_parallel_workers_per_gather`, `work_mem` and the
//! default transaction isolation.

use fdw_api::{err, DataType, Datum, FdwResult, IsolationLevel};
use sqlparser::ast;

use super::{Column, QueryResult};
use crate::plan::PlannerSettings;

#[derive(Clone, Debug)]
pub(super) struct Settings {
    pub planner: PlannerSettings,
    pub isolation: IsolationLevel,
    pub work_mem_kb: u64,
    /// The executor's hard memory budget per query (see `ExecOptions::memory_limit`).
    pub query_memory_limit_kb: u64,
    /// Whether COMMIT waits for its WAL record to be durable (every value but `off`; there is
    /// no replication, so `local`, `remote_write` and `remote_apply` behave as `on`).
    pub synchronous_commit: bool,
    /// `lock_timeout` parsed (`None`: wait forever), kept apart from its text in `extra`
    /// because every statement takes locks.
    pub lock_timeout: Option<std::time::Duration>,
    pub extra: Vec<(String, String)>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            planner: PlannerSettings::default(),
            isolation: IsolationLevel::ReadCommitted,
            work_mem_kb: 4096,
            query_memory_limit_kb: (crate::exec::DEFAULT_MEMORY_LIMIT >> 10) as u64,
            synchronous_commit: true,
            lock_timeout: Some(super::locks::DEFAULT_LOCK_TIMEOUT),
            extra: vec![
                ("client_encoding".into(), "UTF8".into()),
                ("server_encoding".into(), "UTF8".into()),
                ("datestyle".into(), "ISO, MDY".into()),
                ("intervalstyle".into(), "postgres".into()),
                ("timezone".into(), "UTC".into()),
                ("search_path".into(), "\"$user\", public".into()),
                ("server_version".into(), "15.0".into()),
                ("standard_conforming_strings".into(), "on".into()),
                ("extra_float_digits".into(), "1".into()),
                ("statement_timeout".into(), "0".into()),
                ("lock_timeout".into(), "10s".into()),
                ("synchronous_commit".into(), "on".into()),
                ("application_name".into(), "".into()),
                ("client_min_messages".into(), "notice".into()),
            ],
        }
    }
}

fn on_off(v: &str, name: &str) -> FdwResult<bool> {
    fdw_api::schema::parse_bool(v)
        .ok_or_else(|| err!(INVALID_PARAMETER_VALUE, "parameter \"{}\" requires a Boolean value", name))
}

fn value_text(e: &ast::Expr) -> String {
    match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) => s.clone(),
            other => other.to_string(),
        },
        ast::Expr::Identifier(i) => i.value.clone(),
        other => other.to_string(),
    }
}

impl Settings {
    pub fn set(&mut self, set: &ast::Set) -> FdwResult<()> {
        let (name, values) = match set {
            ast::Set::SingleAssignment { variable, values, .. } => {
                (variable.to_string().to_lowercase(), values.clone())
            }
            ast::Set::SetTransaction { .. } => return Ok(()),
            ast::Set::SetTimeZone { .. } => return Ok(()),
            other => return Err(fdw_api::FdwError::feature(format!("SET form not supported: {other}"))),
        };
        let value = values.iter().map(value_text).collect::<Vec<_>>().join(", ");
        if value.eq_ignore_ascii_case("default") {
            return self.reset(&name);
        }
        self.assign(&name, value, false)
    }

    /// `RESET name` (as `SET name TO DEFAULT`), `RESET ALL`; `RESET ROLE` and
    /// `RESET SESSION AUTHORIZATION` change nothing (there are no roles to switch to).
    pub fn reset(&mut self, name: &str) -> FdwResult<()> {
        match name {
            "all" => {
                *self = Settings::default();
                Ok(())
            }
            "role" | "session_authorization" => Ok(()),
            _ => {
                let default = Settings::default().extra.into_iter().find(|(k, _)| k == name).map(|(_, v)| v);
                self.assign(name, default.unwrap_or_default(), true)
            }
        }
    }

    fn assign(&mut self, name: &str, value: String, reset: bool) -> FdwResult<()> {
        if name == "lock_timeout" {
            self.lock_timeout = match super::locks::parse_lock_timeout(&value) {
                Some(d) if d.is_zero() => None,
                Some(d) => Some(d),
                None => Some(super::locks::DEFAULT_LOCK_TIMEOUT),
            };
        }
        match name {
            "enable_hashjoin" => self.planner.enable_hashjoin = reset || on_off(&value, name)?,
            "enable_mergejoin" => self.planner.enable_mergejoin = reset || on_off(&value, name)?,
            "enable_nestloop" => self.planner.enable_nestloop = reset || on_off(&value, name)?,
            "enable_hashagg" => self.planner.enable_hashagg = reset || on_off(&value, name)?,
            "enable_lite_path" => self.planner.enable_lite = reset || on_off(&value, name)?,
            "max_parallel_workers_per_gather" => {
                self.planner.max_parallel_workers = if reset {
                    PlannerSettings::default().max_parallel_workers
                } else {
                    value.parse().map_err(|_| {
                        err!(INVALID_PARAMETER_VALUE, "invalid value for parameter \"{}\": \"{}\"", name, value)
                    })?
                }
            }
            "work_mem" | "query_memory_limit" => {
                let kb = if reset {
                    None
                } else {
                    let kb = parse_memory(&value).ok_or_else(|| {
                        err!(INVALID_PARAMETER_VALUE, "invalid value for parameter \"{}\": \"{}\"", name, value)
                    })?;
                    if !(64..=i32::MAX as u64).contains(&kb) {
                        return Err(err!(
                            INVALID_PARAMETER_VALUE,
                            "{} kB is outside the valid range for parameter \"{}\" (64 .. 2147483647)",
                            kb,
                            name
                        ));
                    }
                    Some(kb)
                };
                let d = Settings::default();
                if name == "work_mem" {
                    self.work_mem_kb = kb.unwrap_or(d.work_mem_kb);
                } else {
                    self.query_memory_limit_kb = kb.unwrap_or(d.query_memory_limit_kb);
                }
            }
            "default_transaction_isolation" | "transaction_isolation" => {
                self.isolation = match value.to_lowercase().as_str() {
                    "serializable" => IsolationLevel::Serializable,
                    "repeatable read" => IsolationLevel::RepeatableRead,
                    "read committed" | "default" => IsolationLevel::ReadCommitted,
                    _ => {
                        return Err(err!(
                            INVALID_PARAMETER_VALUE,
                            "invalid value for parameter \"{}\": \"{}\"",
                            name,
                            value
                        ))
                    }
                }
            }
            "synchronous_commit" => {
                let v = if reset { "on".to_string() } else { value.to_lowercase() };
                let shown = match v.as_str() {
                    "local" | "remote_write" | "remote_apply" => v.clone(),
                    _ => match fdw_api::schema::parse_bool(&v) {
                        Some(true) => "on".to_string(),
                        Some(false) => "off".to_string(),
                        None => {
                            return Err(err!(
                                INVALID_PARAMETER_VALUE,
                                "invalid value for parameter \"{}\": \"{}\"",
                                name,
                                value
                            )
                            .with_hint("Available values: local, remote_write, remote_apply, on, off."))
                        }
                    },
                };
                self.synchronous_commit = shown != "off";
                if let Some(slot) = self.extra.iter_mut().find(|(k, _)| k == "synchronous_commit") {
                    slot.1 = shown;
                }
            }
            "server_version" | "server_encoding" => {
                return Err(err!(CANT_CHANGE_RUNTIME_PARAM, "parameter \"{}\" cannot be changed", name))
            }
            _ => match self.extra.iter_mut().find(|(k, _)| *k == name) {
                Some(slot) => slot.1 = value,
                None => return Err(err!(UNDEFINED_CONFIG, "unrecognized configuration parameter \"{}\"", name)),
            },
        }
        Ok(())
    }

    pub fn show(&self, variable: &[ast::Ident]) -> FdwResult<QueryResult> {
        let name: String = variable.iter().map(|i| i.value.to_lowercase()).collect::<Vec<_>>().join(" ");
        let b = |v: bool| if v { "on".to_string() } else { "off".to_string() };
        let value = match name.as_str() {
            "enable_hashjoin" => b(self.planner.enable_hashjoin),
            "enable_mergejoin" => b(self.planner.enable_mergejoin),
            "enable_nestloop" => b(self.planner.enable_nestloop),
            "enable_hashagg" => b(self.planner.enable_hashagg),
            "enable_lite_path" => b(self.planner.enable_lite),
            "max_parallel_workers_per_gather" => self.planner.max_parallel_workers.to_string(),
            "work_mem" => format_memory(self.work_mem_kb),
            "query_memory_limit" => format_memory(self.query_memory_limit_kb),
            "transaction isolation level" | "transaction_isolation" | "default_transaction_isolation" => {
                match self.isolation {
                    IsolationLevel::ReadCommitted => "read committed",
                    IsolationLevel::RepeatableRead => "repeatable read",
                    IsolationLevel::Serializable => "serializable",
                }
                .to_string()
            }
            _ => match self.extra.iter().find(|(k, _)| *k == name) {
                Some((_, v)) => v.clone(),
                None => return Err(err!(UNDEFINED_CONFIG, "unrecognized configuration parameter \"{}\"", name)),
            },
        };
        let shown = match name.as_str() {
            "datestyle" => "DateStyle".to_string(),
            "timezone" => "TimeZone".to_string(),
            "intervalstyle" => "IntervalStyle".to_string(),
            "transaction isolation level" => "transaction_isolation".to_string(),
            other => other.to_string(),
        };
        Ok(QueryResult {
            columns: vec![Column { name: shown, ty: DataType::Text }],
            rows: vec![vec![Datum::text(&value)]],
            tag: "SHOW".into(),
            notices: Vec::new(),
            returns_rows: true,
        })
    }
}

/// `4MB`, `64kB`, `1GB`, or a number of kB.
fn parse_memory(v: &str) -> Option<u64> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult = match unit.trim() {
        "" | "kB" => 1,
        "MB" => 1024,
        "GB" => 1024 * 1024,
        "TB" => 1024 * 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(mult)
}

fn format_memory(kb: u64) -> String {
    if kb.is_multiple_of(1024 * 1024) {
        format!("{}GB", kb / (1024 * 1024))
    } else if kb.is_multiple_of(1024) {
        format!("{}MB", kb / 1024)
    } else {
        format!("{kb}kB")
    }
}
