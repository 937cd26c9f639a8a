//! System information functions evaluated at bind time against the catalog and the
//! wrappers: the size functions (`pg_relation_size`, `pg_total_relation_size`,
//! `pg_indexes_size`, `pg_table_size`), `pg_size_pretty`, `current_database()`,
//! `current_user` and friends, `current_schema`, `version()`.
//!
//! Sizes come from the table's wrapper (`MaintenanceRoutine::table_memory`: the memory of the
//! rows, and of the indexes). As PostgreSQL reports 0 for a relation without storage (a
//! foreign table, a view), a wrapper that keeps no memory statistics gives 0.
//!
//! Simplifications: the functions are folded to constants while binding, so their relation
//! argument must be a constant (a name as text, or an OID); there is no `regclass` type, so
//! `'t'::regclass` is not accepted (write `'t'`). The value is computed when the statement is
//! bound, which for a prepared statement is each execution (statements are re-bound).

use fdw_api::eval::{EvalContext, Program};
use fdw_api::{err, DataType, Datum, Expr, FdwError, FdwResult, Numeric, SqlState};

use super::Binder;
use crate::catalog::{sysviews, RelationEntry, PUBLIC_SCHEMA};

/// Which part of a relation a size function measures.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SizePart {
    /// `pg_relation_size`, `pg_table_size`: the rows.
    Rows,
    /// `pg_indexes_size`.
    Indexes,
    /// `pg_total_relation_size`: both.
    Total,
    /// Forks other than `main` (`fsm`, `vm`, `init`) have no counterpart in memory.
    Zero,
}

impl Binder<'_> {
    /// If `name` is a system function, its value for these (bound) arguments.
    pub(crate) fn system_function(&mut self, name: &str, args: &[Expr]) -> Option<FdwResult<Expr>> {
        let text = |s: String| Ok(Expr::Const { value: Datum::text(&s), ty: DataType::Text });
        Some(match (name, args.len()) {
            ("pg_relation_size", 1 | 2) | ("pg_table_size", 1) => self.relation_size(name, args, SizePart::Rows),
            ("pg_indexes_size", 1) => self.relation_size(name, args, SizePart::Indexes),
            ("pg_total_relation_size", 1) => self.relation_size(name, args, SizePart::Total),
            ("pg_size_pretty", 1) => size_pretty_call(&args[0]),
            ("current_database" | "current_catalog", 0) => text(sysviews::DATABASE_NAME.to_string()),
            ("current_user" | "session_user" | "user" | "current_role", 0) => text(self.user.clone()),
            ("current_schema", 0) => text(PUBLIC_SCHEMA.to_string()),
            ("version", 0) => text(version()),
            _ => return None,
        })
    }

    fn relation_size(&mut self, name: &str, args: &[Expr], part: SizePart) -> FdwResult<Expr> {
        let null = Ok(Expr::null(DataType::Int8));
        let rel_arg = const_value(name, &args[0])?;
        if rel_arg.is_null() {
            return null;
        }
        let mut part = part;
        if let Some(fork) = args.get(1) {
            match const_value(name, fork)? {
                Datum::Null => return null,
                Datum::Text(f) => match &*f {
                    "main" => {}
                    "fsm" | "vm" | "init" => part = SizePart::Zero,
                    _ => {
                        return Err(err!(INVALID_PARAMETER_VALUE, "invalid fork name")
                            .with_hint("Valid fork names are \"main\", \"fsm\", \"vm\", and \"init\"."))
                    }
                },
                other => return Err(no_such_function(name, &[rel_arg.natural_type(), other.natural_type()])),
            }
        }
        let catalog = self.catalog;
        let rel: &RelationEntry = match &rel_arg {
            Datum::Text(s) => {
                let (schema, rel) = parse_relation_name(s)?;
                match catalog.relation(schema.as_deref(), &rel) {
                    Some(r) => r,
                    None => return Err(err!(UNDEFINED_TABLE, "relation \"{}\" does not exist", s)),
                }
            }
            d => match d.as_i64().and_then(|o| u32::try_from(o).ok()) {
                // An OID naming no relation: NULL, as in PostgreSQL.
                Some(oid) => match catalog.relation_by_oid(oid) {
                    Some(r) => r,
                    None => return null,
                },
                None => return Err(no_such_function(name, &[d.natural_type()])),
            },
        };
        let bytes = if part == SizePart::Zero { 0 } else { self.wrapper_bytes(rel, part)? };
        Ok(Expr::Const { value: Datum::Int8(bytes.min(i64::MAX as u64) as i64), ty: DataType::Int8 })
    }

    /// Memory of a relation as its wrapper reports it; 0 without storage statistics.
    fn wrapper_bytes(&self, rel: &RelationEntry, part: SizePart) -> FdwResult<u64> {
        if rel.kind == crate::catalog::RelKind::View {
            return Ok(0);
        }
        let routine = crate::catalog::routine_for(self.catalog, self.registry, rel)?;
        let Some(m) = routine.maintenance_routine() else { return Ok(0) };
        let table = crate::catalog::table_desc(self.catalog, rel, &self.user)?;
        let (rows, indexes) = match m.table_memory(&table) {
            Ok(v) => v,
            Err(e) if e.sqlstate == SqlState::FEATURE_NOT_SUPPORTED => return Ok(0),
            Err(e) => return Err(e),
        };
        Ok(match part {
            SizePart::Rows => rows,
            SizePart::Indexes => indexes,
            SizePart::Total => rows.saturating_add(indexes),
            SizePart::Zero => 0,
        })
    }
}

fn no_such_function(name: &str, types: &[DataType]) -> FdwError {
    let shown: Vec<String> = types.iter().map(|t| t.sql_name()).collect();
    err!(UNDEFINED_FUNCTION, "function {}({}) does not exist", name, shown.join(", "))
        .with_hint("No function matches the given name and argument types. You might need to add explicit type casts.")
}

/// The value of a constant argument (`'t'` stays text).
fn const_value(function: &str, e: &Expr) -> FdwResult<Datum> {
    let mut variable = false;
    e.walk(&mut |n| {
        if matches!(n, Expr::Param { .. } | Expr::Column { .. } | Expr::SubPlan { .. }) {
            variable = true;
        }
    });
    if variable {
        return Err(FdwError::feature(format!("{function}() needs a constant argument here")));
    }
    Program::compile(e)?.eval(&[], &mut EvalContext::default())
}

/// A relation name as `regclass` input reads it: `t`, `"T"`, `public.t` (unquoted parts
/// are folded to lower case).
fn parse_relation_name(s: &str) -> FdwResult<(Option<String>, String)> {
    let invalid = || FdwError::new(SqlState("42602"), "invalid name syntax");
    let mut parts = Vec::new();
    let mut chars = s.trim().chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                    None => return Err(invalid()),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' || c == '"' {
                    break;
                }
                part.extend(c.to_lowercase());
                chars.next();
            }
        }
        if part.is_empty() {
            return Err(invalid());
        }
        parts.push(part);
        match chars.next() {
            None => break,
            Some('.') => continue,
            Some(_) => return Err(invalid()),
        }
    }
    match parts.len() {
        1 => Ok((None, parts.remove(0))),
        2 => {
            let rel = parts.remove(1);
            Ok((Some(parts.remove(0)), rel))
        }
        _ => Err(invalid()),
    }
}

fn size_pretty_call(arg: &Expr) -> FdwResult<Expr> {
    let v = const_value("pg_size_pretty", arg)?;
    let text = match &v {
        Datum::Null => return Ok(Expr::null(DataType::Text)),
        Datum::Numeric(n) => size_pretty_numeric(n),
        d => match d.as_i64() {
            Some(i) => size_pretty(i),
            None => return Err(no_such_function("pg_size_pretty", &[d.natural_type()])),
        },
    };
    Ok(Expr::Const { value: Datum::text(&text), ty: DataType::Text })
}

/// PostgreSQL 15's `pg_size_pretty(bigint)`: bytes below 10 kB, then the largest unit (kB,
/// MB, GB, TB, PB) that keeps the value under 20480 half-units, rounded half away from zero.
pub fn size_pretty(size: i64) -> String {
    size_pretty_wide(size as i128)
}

fn size_pretty_numeric(n: &Numeric) -> String {
    if n.abs() < Numeric::from(10 * 1024) {
        return format!("{} bytes", n);
    }
    // Beyond bytes PostgreSQL divides with truncation, so the integer part is all that counts.
    let whole = n.trunc().to_string().parse::<i128>().unwrap_or(i128::MAX);
    size_pretty_wide(whole)
}

fn size_pretty_wide(mut size: i128) -> String {
    // (name, limit, half-rounded, bits of the unit)
    const UNITS: [(&str, i128, bool, u32); 6] = [
        ("bytes", 10 * 1024, false, 0),
        ("kB", 20 * 1024 - 1, true, 10),
        ("MB", 20 * 1024 - 1, true, 20),
        ("GB", 20 * 1024 - 1, true, 30),
        ("TB", 20 * 1024 - 1, true, 40),
        ("PB", 20 * 1024 - 1, true, 50),
    ];
    for (i, (name, limit, round, bits)) in UNITS.iter().enumerate() {
        let last = i + 1 == UNITS.len();
        if last || size.abs() < *limit {
            if *round {
                size = if size < 0 { (size - 1) / 2 } else { (size + 1) / 2 };
            }
            return format!("{size} {name}");
        }
        let (_, _, next_round, next_bits) = UNITS[i + 1];
        // One bit less when the next unit keeps a bit for half rounding, one more when this
        // unit kept one; division (not a shift) rounds negative values like positive ones.
        let shift = next_bits - bits - u32::from(next_round) + u32::from(*round);
        size /= 1i128 << shift;
    }
    unreachable!("the last unit always matches")
}

/// `version()`: PostgreSQL's shape, so clients that parse it see 15.
fn version() -> String {
    format!(
        "PostgreSQL 15.0 (envelope {}) on {}-{}, compiled by rustc, {}-bit",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH,
        std::env::consts::OS,
        usize::BITS
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_pretty_matches_postgres() {
        // Values checked against PostgreSQL 15.
        let cases = [
            (0, "0 bytes"),
            (1023, "1023 bytes"),
            (10239, "10239 bytes"),
            (10240, "10 kB"),
            (10485247, "10239 kB"),
            (10485248, "10 MB"),
            (-10240, "-10 kB"),
            (123456789012345, "112 TB"),
            (9000000000000000000, "7994 PB"),
            (-9000000000000000000, "-7994 PB"),
            (20479, "20 kB"),
            (10752, "11 kB"),
            (-10752, "-11 kB"),
            (-10753, "-11 kB"),
            (11263, "11 kB"),
        ];
        for (v, want) in cases {
            assert_eq!(size_pretty(v), want, "pg_size_pretty({v})");
        }
        assert_eq!(size_pretty_numeric(&"1.5".parse().unwrap()), "1.5 bytes");
        assert_eq!(size_pretty_numeric(&"10240.7".parse().unwrap()), "10 kB");
    }

    #[test]
    fn relation_names_parse_like_regclass() {
        assert_eq!(parse_relation_name("T").unwrap(), (None, "t".to_string()));
        assert_eq!(parse_relation_name("\"T\"").unwrap(), (None, "T".to_string()));
        assert_eq!(parse_relation_name("public.Acc").unwrap(), (Some("public".into()), "acc".to_string()));
        assert!(parse_relation_name("a.b.c").is_err());
        assert!(parse_relation_name("").is_err());
    }
}
