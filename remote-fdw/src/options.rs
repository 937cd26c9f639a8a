//! Option validation (postgres_fdw's validator) and the settings read from the merged options
//! of a foreign table, its server and the user mapping.
//!
//! The accepted option names per catalog object, their order in the `HINT` and the error
//! wording are PostgreSQL 15's. libpq connection options are accepted where libpq accepts
//! them; the ones this client cannot honour (TLS files, Kerberos, `service`, `passfile`) are
//! refused when a connection is opened, with an error naming the option, rather than
//! silently ignored (see `conn::ConnSpec`).

use fdw_api::{err, FdwError, FdwResult, OptionTarget, Options, TableDesc};

/// libpq options valid on a server (PostgreSQL 15's list, in its order).
const LIBPQ_SERVER: &[&str] = &[
    "service",
    "passfile",
    "channel_binding",
    "connect_timeout",
    "dbname",
    "host",
    "hostaddr",
    "port",
    "options",
    "application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "sslmode",
    "sslcompression",
    "sslcert",
    "sslkey",
    "sslrootcert",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "requirepeer",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "gssencmode",
    "krbsrvname",
    "gsslib",
    "target_session_attrs",
];

/// postgres_fdw's own server options.
const FDW_SERVER: &[&str] = &[
    "use_remote_estimate",
    "fdw_startup_cost",
    "fdw_tuple_cost",
    "extensions",
    "updatable",
    "truncatable",
    "fetch_size",
    "batch_size",
    "async_capable",
    "parallel_commit",
    "keep_connections",
];

const USER_MAPPING: &[&str] = &["user", "password", "sslpassword", "password_required", "sslcert", "sslkey"];

const TABLE: &[&str] = &[
    "schema_name",
    "table_name",
    "use_remote_estimate",
    "updatable",
    "truncatable",
    "fetch_size",
    "batch_size",
    "async_capable",
];

const COLUMN: &[&str] = &["column_name"];

const BOOL_OPTIONS: &[&str] = &[
    "use_remote_estimate",
    "updatable",
    "truncatable",
    "async_capable",
    "parallel_commit",
    "keep_connections",
    "password_required",
];

fn valid_names(target: OptionTarget) -> Vec<&'static str> {
    match target {
        OptionTarget::Wrapper => Vec::new(),
        OptionTarget::Server => LIBPQ_SERVER.iter().chain(FDW_SERVER).copied().collect(),
        OptionTarget::UserMapping => USER_MAPPING.to_vec(),
        OptionTarget::Table => TABLE.to_vec(),
        OptionTarget::Column => COLUMN.to_vec(),
    }
}

/// postgres_fdw_validator: names per target, Boolean values, costs and sizes.
pub fn validate(target: OptionTarget, options: &Options) -> FdwResult<()> {
    let valid = valid_names(target);
    for (key, value) in options.iter() {
        if !valid.contains(&key) {
            let hint = if valid.is_empty() {
                "There are no valid options in this context.".to_string()
            } else {
                format!("Valid options in this context are: {}", valid.join(", "))
            };
            return Err(err!(FDW_INVALID_OPTION_NAME, "invalid option \"{}\"", key).with_hint(hint));
        }
        if BOOL_OPTIONS.contains(&key) && fdw_api::schema::parse_bool(value).is_none() {
            return Err(err!(SYNTAX_ERROR, "{} requires a Boolean value", key));
        }
        match key {
            "fdw_startup_cost" | "fdw_tuple_cost" => {
                parse_cost(key, value)?;
            }
            "fetch_size" | "batch_size" => {
                parse_positive_int(key, value)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// PostgreSQL's `parse_real` for a cost option: a finite number >= 0, blanks allowed around.
pub fn parse_cost(key: &str, value: &str) -> FdwResult<f64> {
    let v: f64 = value.trim().parse().ok().filter(|v: &f64| v.is_finite()).ok_or_else(|| {
        err!(INVALID_PARAMETER_VALUE, "invalid value for floating point option \"{}\": {}", key, value)
    })?;
    if v < 0.0 {
        return Err(err!(
            INVALID_PARAMETER_VALUE,
            "\"{}\" must be a floating point value greater than or equal to zero",
            key
        ));
    }
    Ok(v)
}

/// PostgreSQL's `parse_int` for a size option (a fraction is rounded, as there), then > 0.
pub fn parse_positive_int(key: &str, value: &str) -> FdwResult<u32> {
    let bad = || err!(INVALID_PARAMETER_VALUE, "invalid value for integer option \"{}\": {}", key, value);
    let t = value.trim();
    let v: f64 = if let Ok(i) = t.parse::<i64>() {
        i as f64
    } else if t.contains(['.', 'e', 'E']) && !t.contains(['n', 'N', 'i', 'I']) {
        t.parse::<f64>().map_err(|_| bad())?.round()
    } else {
        return Err(bad());
    };
    if v > i32::MAX as f64 || v < i32::MIN as f64 {
        return Err(bad());
    }
    if v <= 0.0 {
        return Err(err!(INVALID_PARAMETER_VALUE, "\"{}\" must be an integer value greater than zero", key));
    }
    Ok(v as u32)
}

/// The settings of one foreign table, with postgres_fdw's defaults; a table option overrides
/// the server's.
#[derive(Clone, Debug, PartialEq)]
pub struct TableSettings {
    pub fetch_size: u32,
    pub batch_size: u32,
    pub use_remote_estimate: bool,
    pub updatable: bool,
    pub truncatable: bool,
    pub fdw_startup_cost: f64,
    pub fdw_tuple_cost: f64,
}

/// postgres_fdw's `DEFAULT_FDW_STARTUP_COST`.
pub const DEFAULT_FDW_STARTUP_COST: f64 = 100.0;
/// postgres_fdw's `DEFAULT_FDW_TUPLE_COST`.
pub const DEFAULT_FDW_TUPLE_COST: f64 = 0.01;

impl TableSettings {
    pub fn of(table: &TableDesc) -> FdwResult<TableSettings> {
        let boolean = |key: &str, default: bool| -> FdwResult<bool> {
            match table.option(key) {
                None => Ok(default),
                Some(v) => {
                    fdw_api::schema::parse_bool(v).ok_or_else(|| err!(SYNTAX_ERROR, "{} requires a Boolean value", key))
                }
            }
        };
        let int = |key: &str, default: u32| -> FdwResult<u32> {
            table.option(key).map_or(Ok(default), |v| parse_positive_int(key, v))
        };
        let cost = |key: &str, default: f64| -> FdwResult<f64> {
            table.server_options.get(key).map_or(Ok(default), |v| parse_cost(key, v))
        };
        Ok(TableSettings {
            fetch_size: int("fetch_size", 100)?,
            batch_size: int("batch_size", 1)?,
            use_remote_estimate: boolean("use_remote_estimate", false)?,
            updatable: boolean("updatable", true)?,
            truncatable: boolean("truncatable", true)?,
            fdw_startup_cost: cost("fdw_startup_cost", DEFAULT_FDW_STARTUP_COST)?,
            fdw_tuple_cost: cost("fdw_tuple_cost", DEFAULT_FDW_TUPLE_COST)?,
        })
    }
}

/// The remote schema of a foreign table: `schema_name`, else the local schema.
pub fn remote_schema(table: &TableDesc) -> &str {
    table.table_options.get("schema_name").unwrap_or(&table.schema)
}

/// The remote table name: `table_name`, else the local name.
pub fn remote_table(table: &TableDesc) -> &str {
    table.table_options.get("table_name").unwrap_or(&table.name)
}

/// The remote name of column `i`: its `column_name` option, else the local name.
pub fn remote_column(table: &TableDesc, i: usize) -> FdwResult<&str> {
    let col = table
        .columns
        .get(i)
        .ok_or_else(|| FdwError::internal(format!("column {i} out of range for \"{}\"", table.name)))?;
    Ok(col.options.get("column_name").unwrap_or(&col.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fdw_api::SqlState;

    fn opts(pairs: &[(&str, &str)]) -> Options {
        Options(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn unknown_option_lists_valid_ones() {
        let e = validate(OptionTarget::Table, &opts(&[("foo", "x")])).unwrap_err();
        assert_eq!(e.sqlstate, SqlState::FDW_INVALID_OPTION_NAME);
        assert_eq!(e.message, "invalid option \"foo\"");
        assert_eq!(
            e.hint.as_deref(),
            Some(
                "Valid options in this context are: schema_name, table_name, use_remote_estimate, updatable, \
                 truncatable, fetch_size, batch_size, async_capable"
            )
        );
        let e = validate(OptionTarget::Server, &opts(&[("password", "x")])).unwrap_err();
        assert!(e.hint.unwrap().contains("target_session_attrs, use_remote_estimate, fdw_startup_cost"));
        let e = validate(OptionTarget::UserMapping, &opts(&[("host", "x")])).unwrap_err();
        assert_eq!(
            e.hint.as_deref(),
            Some("Valid options in this context are: user, password, sslpassword, password_required, sslcert, sslkey")
        );
        let e = validate(OptionTarget::Wrapper, &opts(&[("foo", "x")])).unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("There are no valid options in this context."));
        let e = validate(OptionTarget::Column, &opts(&[("table_name", "x")])).unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("Valid options in this context are: column_name"));
    }

    #[test]
    fn numbers_and_booleans_as_postgres() {
        let msg = |t, k: &str, v: &str| validate(t, &opts(&[(k, v)])).unwrap_err().message;
        assert_eq!(
            msg(OptionTarget::Server, "fetch_size", "-1"),
            "\"fetch_size\" must be an integer value greater than zero"
        );
        assert_eq!(
            msg(OptionTarget::Server, "fetch_size", "0.4"),
            "\"fetch_size\" must be an integer value greater than zero"
        );
        assert_eq!(
            msg(OptionTarget::Table, "batch_size", "abc"),
            "invalid value for integer option \"batch_size\": abc"
        );
        assert_eq!(
            msg(OptionTarget::Server, "fetch_size", "2147483648"),
            "invalid value for integer option \"fetch_size\": 2147483648"
        );
        assert_eq!(
            msg(OptionTarget::Server, "fetch_size", "10kB"),
            "invalid value for integer option \"fetch_size\": 10kB"
        );
        assert_eq!(
            msg(OptionTarget::Server, "fdw_startup_cost", "-1"),
            "\"fdw_startup_cost\" must be a floating point value greater than or equal to zero"
        );
        assert_eq!(
            msg(OptionTarget::Server, "fdw_tuple_cost", "nan"),
            "invalid value for floating point option \"fdw_tuple_cost\": nan"
        );
        let e = validate(OptionTarget::Server, &opts(&[("use_remote_estimate", "maybe")])).unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.sqlstate),
            ("use_remote_estimate requires a Boolean value", SqlState::SYNTAX_ERROR)
        );
        assert!(validate(
            OptionTarget::Server,
            &opts(&[
                ("fetch_size", " 5 "),
                ("batch_size", "1.5"),
                ("fdw_tuple_cost", " 1 "),
                ("keep_connections", "off")
            ])
        )
        .is_ok());
        assert_eq!(parse_positive_int("batch_size", "1.5").unwrap(), 2);
        assert!(validate(OptionTarget::UserMapping, &opts(&[("user", "u"), ("password", "p")])).is_ok());
    }
}
