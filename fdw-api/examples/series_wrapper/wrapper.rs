//! `series_fdw`: a small read-only wrapper whose foreign tables generate an arithmetic series,
//! written against `fdw-api` alone (the guide in `fdw-api/README.md` walks through it).
//!
//! ```sql
//! CREATE FOREIGN DATA WRAPPER series HANDLER series_fdw VALIDATOR series_fdw;
//! CREATE SERVER gen FOREIGN DATA WRAPPER series;
//! CREATE FOREIGN TABLE squares (n bigint, square bigint, label text)
//!     SERVER gen OPTIONS (start '1', stop '10', step '1');
//! ```
//!
//! A table yields one row per element `n` of `start, start+step, ...` up to `stop` (the rules
//! of PostgreSQL's `generate_series`), with `square = n*n` and `label` = `even`/`odd`. Its
//! columns are any of `n bigint`, `square bigint`, `label text`, in any order. Options:
//! `start` and `stop` (required on the table), `step` (table or server, default 1).
//!
//! What it shows:
//! - option validation with PostgreSQL's errors (`validate_options`);
//! - sizes computed from the options, exactly when the quals are constants (`get_rel_size`);
//! - quals `n op value` (`=`, `<`, `<=`, `>`, `>=`, value a constant or a parameter) enforced
//!   `Exact` by generating only the matching part of the series, every other qual answered
//!   `Unsupported` (the envelope filters those);
//! - a path in the reverse order when the query wants it, carried to the scan as private data;
//! - a parameterized path for join quals `n = $p` (the inner side of a nested loop), whose
//!   values arrive with each `rescan`;
//! - projection (only the requested columns are computed), batches, `explain_scan`.
//!
//! It has no capability routines: INSERT/UPDATE/DELETE get the envelope's
//! `cannot insert into foreign table "t"`.

use std::sync::Arc;

use fdw_api::eval::{EvalContext, Program};
use fdw_api::path::costs;
use fdw_api::{
    err, path_private, BinaryOp, Cost, DataType, Datum, ExecContext, Expr, FdwError, FdwResult, FdwRoutine,
    ForeignPath, ForeignScan, OptionTarget, Options, PathKey, QualSupport, RelInfo, RelSize, RowBatch, ScanParams,
    ScanRequest, SqlState, TableDesc, BATCH_SIZE,
};

/// Options accepted on a foreign table, and on a server (a default `step` for its tables).
const TABLE_OPTIONS: &[&str] = &["start", "stop", "step"];
const SERVER_OPTIONS: &[&str] = &["step"];

/// PostgreSQL's default selectivities for quals it cannot estimate (`DEFAULT_EQ_SEL`,
/// `DEFAULT_INEQ_SEL`).
const DEFAULT_EQ_SEL: f64 = 0.005;
const DEFAULT_INEQ_SEL: f64 = 1.0 / 3.0;

/// The `series_fdw` handler. It holds no state: everything a query needs is in the table's
/// options, so one instance serves every table (and every thread).
#[derive(Debug, Default)]
pub struct SeriesFdw;

/// The handler to register: `DatabaseBuilder::register(handler())`.
pub fn handler() -> Arc<dyn FdwRoutine> {
    Arc::new(SeriesFdw)
}

// --- options -------------------------------------------------------------------------------

/// `invalid option "x"` (HV00D) with PostgreSQL's hint listing what the context accepts.
fn invalid_option(key: &str, valid: &[&str]) -> FdwError {
    let e = err!(FDW_INVALID_OPTION_NAME, "invalid option \"{}\"", key);
    if valid.is_empty() {
        e.with_hint("There are no valid options in this context.")
    } else {
        e.with_hint(format!("Valid options in this context are: {}", valid.join(", ")))
    }
}

/// An integer option value, with postgres_fdw's wording for a bad one.
fn parse_int(key: &str, value: &str) -> FdwResult<i64> {
    value
        .trim()
        .parse()
        .map_err(|_| err!(INVALID_PARAMETER_VALUE, "invalid value for integer option \"{}\": {}", key, value))
}

fn check_step(step: i64) -> FdwResult<i64> {
    if step == 0 {
        return Err(err!(INVALID_PARAMETER_VALUE, "step size cannot equal zero"));
    }
    Ok(step)
}

/// The validator: one catalog object's own options, at CREATE/ALTER.
fn validate(target: OptionTarget, options: &Options) -> FdwResult<()> {
    let valid = match target {
        OptionTarget::Table => TABLE_OPTIONS,
        OptionTarget::Server => SERVER_OPTIONS,
        OptionTarget::Wrapper | OptionTarget::UserMapping | OptionTarget::Column => &[],
    };
    for (key, value) in options.iter() {
        if !valid.contains(&key) {
            return Err(invalid_option(key, valid));
        }
        let v = parse_int(key, value)?;
        if key == "step" {
            check_step(v)?;
        }
    }
    if target == OptionTarget::Table {
        if let Some(missing) = ["start", "stop"].into_iter().find(|k| !options.contains(k)) {
            // HV002: fdw_dynamic_parameter_value_needed, as file_fdw's missing filename.
            return Err(FdwError::new(
                SqlState("HV002"),
                format!("option \"{missing}\" is required for series_fdw foreign tables"),
            ));
        }
    }
    Ok(())
}

/// A table's series: `start, start+step, ...` while not past `stop`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Series {
    start: i64,
    stop: i64,
    step: i64,
}

/// The range of `n` the enforced quals leave, `lo <= n <= hi` (empty when `lo > hi`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Bounds {
    lo: i128,
    hi: i128,
}

impl Bounds {
    const ALL: Bounds = Bounds { lo: i64::MIN as i128, hi: i64::MAX as i128 };
    const EMPTY: Bounds = Bounds { lo: 1, hi: 0 };

    /// Narrows to the values satisfying `n op v`.
    fn restrict(&mut self, op: BinaryOp, v: i64) {
        let v = v as i128;
        match op {
            BinaryOp::Eq => (self.lo, self.hi) = (self.lo.max(v), self.hi.min(v)),
            BinaryOp::Lt => self.hi = self.hi.min(v - 1),
            BinaryOp::LtEq => self.hi = self.hi.min(v),
            BinaryOp::Gt => self.lo = self.lo.max(v + 1),
            BinaryOp::GtEq => self.lo = self.lo.max(v),
            _ => {}
        }
    }
}

impl Series {
    /// Reads the series of a table. Runs at planning and at scan time, not only in the
    /// validator: a wrapper created without `VALIDATOR` gets its options unchecked at DDL
    /// time, as in PostgreSQL.
    fn from_table(table: &TableDesc) -> FdwResult<Series> {
        let required = |key: &str| {
            let v = table.table_options.get(key).ok_or_else(|| {
                FdwError::new(SqlState("HV002"), format!("option \"{key}\" is required for series_fdw foreign tables"))
            })?;
            parse_int(key, v)
        };
        // `option` looks at the table, then the server, then the wrapper.
        let step = match table.option("step") {
            Some(v) => check_step(parse_int("step", v)?)?,
            None => 1,
        };
        Ok(Series { start: required("start")?, stop: required("stop")?, step })
    }

    /// Number of elements (up to 2^64, hence i128).
    fn len(&self) -> i128 {
        let (start, stop, step) = (self.start as i128, self.stop as i128, self.step as i128);
        if (step > 0 && start > stop) || (step < 0 && start < stop) {
            0
        } else {
            (stop - start) / step + 1
        }
    }

    /// Element `k` (`k < len()`, so it fits an i64).
    fn value(&self, k: i128) -> i64 {
        (self.start as i128 + k * self.step as i128) as i64
    }

    /// The positions `[first, last]` of the elements within `b` (first > last when none):
    /// solved arithmetically, so `n = 999999` generates one row, not a million.
    fn positions(&self, b: Bounds) -> (i128, i128) {
        let (start, step) = (self.start as i128, self.step as i128);
        let (lo, hi) = (b.lo.max(i64::MIN as i128), b.hi.min(i64::MAX as i128));
        let ceil_div = |a: i128, d: i128| -((-a).div_euclid(d));
        let (first, last) = if step > 0 {
            (ceil_div(lo - start, step), (hi - start).div_euclid(step))
        } else {
            (ceil_div(start - hi, -step), (start - lo).div_euclid(-step))
        };
        (first.max(0), last.min(self.len() - 1))
    }

    /// How many elements lie within `b`.
    fn count_within(&self, b: Bounds) -> i128 {
        let (first, last) = self.positions(b);
        (last - first + 1).max(0)
    }
}

// --- columns and quals -----------------------------------------------------------------------

/// What a table column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    N,
    Square,
    Label,
}

/// Maps every column of the table to its field, checking names and types (at planning: the
/// envelope validates only options at CREATE FOREIGN TABLE, not columns).
fn fields(table: &TableDesc) -> FdwResult<Vec<Field>> {
    table
        .columns
        .iter()
        .map(|c| {
            let (field, ty) = match c.name.as_str() {
                "n" => (Field::N, DataType::Int8),
                "square" => (Field::Square, DataType::Int8),
                "label" => (Field::Label, DataType::Text),
                _ => {
                    // HV007: fdw_invalid_column_name.
                    return Err(FdwError::new(
                        SqlState("HV007"),
                        format!("column \"{}\" of foreign table \"{}\" is not a series_fdw column", c.name, table.name),
                    )
                    .with_hint("series_fdw tables have the columns n bigint, square bigint and label text."));
                }
            };
            if c.ty != ty {
                // HV004: fdw_invalid_data_type.
                return Err(FdwError::new(
                    SqlState("HV004"),
                    format!("column \"{}\" of foreign table \"{}\" must have type {}", c.name, table.name, ty),
                ));
            }
            Ok(field)
        })
        .collect()
}

/// A qual the scan enforces, `n op value`, with `n` turned to the left. `value` references no
/// column: a constant, a parameter, or a cast of one.
fn n_qual(q: &Expr, n_col: Option<usize>) -> Option<(BinaryOp, &Expr)> {
    let n_col = n_col?;
    let Expr::Binary { op, left, right, .. } = q else { return None };
    if !matches!(op, BinaryOp::Eq | BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq) {
        return None;
    }
    let is_n = |e: &Expr| matches!(e, Expr::Column { index, .. } if *index == n_col);
    let is_value = |e: &Expr| e.data_type().is_integer() && e.columns().is_empty() && !e.is_volatile();
    if is_n(left) && is_value(right) {
        Some((*op, right))
    } else if is_n(right) && is_value(left) {
        Some((op.commuted()?, left))
    } else {
        None
    }
}

/// The value of `n op value` at plan time, if `value` is a constant.
fn const_value(value: &Expr) -> Option<Datum> {
    Program::compile(value).ok()?.as_const().cloned()
}

/// Estimated fraction of the rows satisfying `n_quals`: exact for constants, PostgreSQL's
/// defaults for parameters.
fn n_selectivity(series: &Series, n_quals: &[(BinaryOp, &Expr)]) -> f64 {
    let total = series.len() as f64;
    let mut bounds = Bounds::ALL;
    let mut guess = 1.0;
    for (op, value) in n_quals {
        match const_value(value) {
            Some(d) => match d.as_i64() {
                Some(v) => bounds.restrict(*op, v),
                None => bounds = Bounds::EMPTY, // `n = NULL` matches nothing
            },
            None if *op == BinaryOp::Eq => guess *= 1.0 / total.max(1.0),
            None => guess *= DEFAULT_INEQ_SEL,
        }
    }
    if total == 0.0 {
        return 1.0;
    }
    series.count_within(bounds) as f64 / total * guess
}

/// PostgreSQL's `clamp_row_est`: at least one row, a whole number.
fn clamp_rows(rows: f64) -> f64 {
    rows.round().max(1.0)
}

/// Private data of a path, read back in `begin_scan` (PostgreSQL's `fdw_private`).
#[derive(Clone, Copy, Debug, Default)]
struct ScanSpec {
    /// Generate from the end of the series (the order the query wants).
    reverse: bool,
}

/// The series' natural order as pathkeys, reversed if asked.
fn order(series: &Series, n_col: usize, reverse: bool) -> Vec<PathKey> {
    let descending = (series.step < 0) != reverse;
    // PostgreSQL's default: NULLS FIRST for DESC (n is never NULL, but keys compare equal).
    vec![PathKey { column: n_col, descending, nulls_first: descending }]
}

// --- the routine -----------------------------------------------------------------------------

impl FdwRoutine for SeriesFdw {
    fn name(&self) -> &str {
        "series_fdw"
    }

    fn validate_options(&self, target: OptionTarget, options: &Options) -> FdwResult<()> {
        validate(target, options)
    }

    fn get_rel_size(&self, rel: &RelInfo) -> FdwResult<RelSize> {
        let series = Series::from_table(&rel.table)?;
        let fields = fields(&rel.table)?;
        let n_col = fields.iter().position(|f| *f == Field::N);
        let mut n_quals = Vec::new();
        let mut other_sel = 1.0;
        for q in &rel.quals {
            match n_qual(q, n_col) {
                Some(nq) => n_quals.push(nq),
                None if matches!(q, Expr::Binary { op: BinaryOp::Eq, .. }) => other_sel *= DEFAULT_EQ_SEL,
                None => other_sel *= DEFAULT_INEQ_SEL,
            }
        }
        let total = series.len() as f64;
        let width = rel
            .needed_columns
            .iter()
            .map(|&c| match fields.get(c) {
                Some(Field::Label) => 5, // "even"/"odd" plus a header byte
                _ => 8,
            })
            .sum();
        Ok(RelSize {
            total_rows: total,
            rows: clamp_rows(total * n_selectivity(&series, &n_quals) * other_sel),
            width,
            pages: 0.0, // nothing is read from storage
        })
    }

    fn get_paths(&self, rel: &RelInfo, _size: &RelSize) -> FdwResult<Vec<ForeignPath>> {
        let series = Series::from_table(&rel.table)?;
        let n_col = fields(&rel.table)?.iter().position(|f| *f == Field::N);
        let n_quals: Vec<(BinaryOp, &Expr)> = rel.quals.iter().filter_map(|q| n_qual(q, n_col)).collect();
        let support: Vec<QualSupport> = rel
            .quals
            .iter()
            .map(|q| if n_qual(q, n_col).is_some() { QualSupport::Exact } else { QualSupport::Unsupported })
            .collect();
        // Rows generated: those passing the quals we enforce (the envelope filters the rest).
        let rows = clamp_rows(series.len() as f64 * n_selectivity(&series, &n_quals));
        // Evaluating the bound values once at start; then one tuple and one operator per
        // computed column for each generated row.
        let per_row = costs::CPU_TUPLE_COST + costs::CPU_OPERATOR_COST * rel.needed_columns.len() as f64;
        let startup = costs::CPU_OPERATOR_COST * n_quals.len() as f64;
        let cost = Cost::new(startup, startup + per_row * rows);

        let mut forward = ForeignPath::simple(rows, cost, rel.quals.len());
        forward.qual_support = support.clone();
        let mut paths = Vec::new();
        if let Some(n) = n_col {
            forward.pathkeys = order(&series, n, false);
            // Generating backwards costs the same: offer it when the query wants that order.
            let backward = order(&series, n, true);
            if rel.useful_orders.iter().any(|o| o.first() == backward.first()) {
                let mut reverse = forward.clone();
                reverse.pathkeys = backward;
                reverse.private = Some(Arc::new(ScanSpec { reverse: true }));
                paths.push(reverse);
            }
            // Inner side of a nested loop: `n = <outer value>` yields at most one row.
            for (k, jq) in rel.join_quals.iter().enumerate() {
                if matches!(n_qual(jq, n_col), Some((BinaryOp::Eq, _))) {
                    // One more bound to evaluate per rescan, then at most one row.
                    let start = startup + costs::CPU_OPERATOR_COST;
                    let mut p = ForeignPath::simple(1.0, Cost::new(start, start + per_row), rel.quals.len());
                    p.qual_support = support.clone();
                    p.param_quals = vec![k];
                    p.label = Some("Foreign Scan (lookup)".into());
                    paths.push(p);
                }
            }
        }
        paths.insert(0, forward);
        Ok(paths)
    }

    fn begin_scan(&self, request: &ScanRequest, _ctx: &ExecContext) -> FdwResult<Box<dyn ForeignScan>> {
        SeriesScan::new(request).map(|s| Box::new(s) as Box<dyn ForeignScan>)
    }

    fn explain_scan(&self, request: &ScanRequest, verbose: bool) -> Vec<(String, String)> {
        // Planning already parsed the options, so this cannot fail in practice; EXPLAIN has no
        // error channel here, so a bad table shows no lines rather than a panic.
        let Ok(s) = Series::from_table(&request.table) else { return Vec::new() };
        let mut lines = vec![("Series".to_string(), format!("{} to {} step {}", s.start, s.stop, s.step))];
        if path_private::<ScanSpec>(&request.path.private).is_some_and(|p| p.reverse) {
            lines.push(("Generation Order".to_string(), "backward".to_string()));
        }
        if verbose {
            lines.push(("Series Length".to_string(), s.len().to_string()));
        }
        lines
    }
}

// --- the scan --------------------------------------------------------------------------------

/// A running scan: the part of the series the quals leave, generated a batch at a time.
struct SeriesScan {
    series: Series,
    /// Per output column, what to compute (the request's columns, in its order).
    out: Vec<Field>,
    /// The enforced quals `n op value`, values compiled once and evaluated with the params.
    quals: Vec<(BinaryOp, Program)>,
    step: i128,
    limit: Option<u64>,
    table: String,
    /// Labels shared by every row (a reference-count bump per row, no allocation).
    even: Datum,
    odd: Datum,
    // Position state, set by `start`.
    started: bool,
    next: i128,
    remaining: i128,
}

impl SeriesScan {
    fn new(request: &ScanRequest) -> FdwResult<SeriesScan> {
        let table = &request.table;
        if request.want_row_id {
            return Err(FdwError::unsupported("series_fdw", "row identities (UPDATE/DELETE)"));
        }
        let series = Series::from_table(table)?;
        let fields = fields(table)?;
        let n_col = fields.iter().position(|f| *f == Field::N);
        let out = request
            .columns
            .iter()
            .map(|&c| fields.get(c).copied().ok_or_else(|| FdwError::internal(format!("series_fdw: no column {c}"))))
            .collect::<FdwResult<Vec<_>>>()?;
        // The envelope hands over exactly the quals the chosen path said it enforces, plus
        // the join quals of a parameterized path: all of the form `n op value`.
        let quals = request
            .quals
            .iter()
            .chain(&request.param_quals)
            .map(|q| {
                let (op, value) = n_qual(q, n_col)
                    .ok_or_else(|| FdwError::internal("series_fdw: asked to enforce a foreign qual"))?;
                Ok((op, Program::compile(value)?))
            })
            .collect::<FdwResult<Vec<_>>>()?;
        let reverse = path_private::<ScanSpec>(&request.path.private).is_some_and(|p| p.reverse);
        Ok(SeriesScan {
            series,
            out,
            quals,
            step: if reverse { -1 } else { 1 },
            limit: request.limit,
            table: table.name.clone(),
            even: Datum::text("even"),
            odd: Datum::text("odd"),
            started: false,
            next: 0,
            remaining: 0,
        })
    }

    /// Evaluates the bound values with this execution's parameters and positions the scan.
    fn start(&mut self, params: ScanParams<'_>) -> FdwResult<()> {
        let mut bounds = Bounds::ALL;
        let mut cx = EvalContext { params, subplans: None };
        for (op, value) in &self.quals {
            match value.eval(&[], &mut cx)? {
                Datum::Null => bounds = Bounds::EMPTY,
                d => {
                    let v = d.as_i64().ok_or_else(|| FdwError::internal(format!("series_fdw: bound {d:?}")))?;
                    bounds.restrict(*op, v);
                }
            }
        }
        let (first, last) = self.series.positions(bounds);
        self.remaining = (last - first + 1).max(0);
        if let Some(limit) = self.limit {
            self.remaining = self.remaining.min(limit as i128);
        }
        self.next = if self.step > 0 { first } else { last };
        self.started = true;
        Ok(())
    }
}

impl ForeignScan for SeriesScan {
    fn next_batch(&mut self, out: &mut RowBatch, params: ScanParams<'_>) -> FdwResult<bool> {
        if !self.started {
            self.start(params)?;
        }
        while self.remaining > 0 && out.len() < BATCH_SIZE {
            let n = self.series.value(self.next);
            let mut row = Vec::with_capacity(self.out.len());
            for f in &self.out {
                row.push(match f {
                    Field::N => Datum::Int8(n),
                    Field::Square => Datum::Int8(n.checked_mul(n).ok_or_else(|| {
                        err!(NUMERIC_VALUE_OUT_OF_RANGE, "bigint out of range")
                            .with_context(format!("series_fdw table \"{}\", n = {}", self.table, n))
                    })?),
                    Field::Label if n % 2 == 0 => self.even.clone(),
                    Field::Label => self.odd.clone(),
                });
            }
            out.push(row);
            self.next += self.step;
            self.remaining -= 1;
        }
        Ok(self.remaining > 0)
    }

    fn rescan(&mut self, params: ScanParams<'_>) -> FdwResult<()> {
        self.start(params)
    }

    fn end(&mut self) -> FdwResult<()> {
        self.remaining = 0;
        Ok(())
    }
}

// These run with `cargo test -p envelope --test custom_wrapper`, which includes this file.
#[cfg(test)]
mod tests {
    use super::*;

    fn positions(start: i64, stop: i64, step: i64, lo: i128, hi: i128) -> Vec<i64> {
        let s = Series { start, stop, step };
        let (first, last) = s.positions(Bounds { lo, hi });
        (first..=last).map(|k| s.value(k)).collect()
    }

    #[test]
    fn positions_solve_the_bounds() {
        let all = (i64::MIN as i128, i64::MAX as i128);
        assert_eq!(positions(1, 10, 3, all.0, all.1), vec![1, 4, 7, 10]);
        assert_eq!(positions(1, 11, 3, 2, 8), vec![4, 7]);
        assert_eq!(positions(1, 11, 3, 5, 6), Vec::<i64>::new()); // between two steps
        assert_eq!(positions(5, -5, -2, -1, 4), vec![3, 1, -1]);
        assert_eq!(positions(5, 6, -1, all.0, all.1), Vec::<i64>::new()); // wrong direction
        assert_eq!(positions(i64::MAX - 1, i64::MAX, 1, all.0, all.1), vec![i64::MAX - 1, i64::MAX]);
        assert_eq!(positions(i64::MIN, i64::MIN + 4, 2, all.0, all.1), vec![i64::MIN, i64::MIN + 2, i64::MIN + 4]);
        assert_eq!(Series { start: i64::MIN, stop: i64::MAX, step: 1 }.len(), 1i128 << 64);
        let mut b = Bounds::ALL;
        b.restrict(BinaryOp::Gt, i64::MAX);
        assert_eq!(positions(0, i64::MAX, 1, b.lo, b.hi), Vec::<i64>::new());
    }

    #[test]
    fn only_n_op_value_is_enforced() {
        let n = Expr::column(0, DataType::Int8);
        let five = Expr::constant(Datum::Int8(5), DataType::Int8);
        let bin = |op, l: &Expr, r: &Expr| Expr::Binary {
            op,
            left: Box::new(l.clone()),
            right: Box::new(r.clone()),
            ty: DataType::Bool,
        };
        assert!(matches!(n_qual(&bin(BinaryOp::Lt, &n, &five), Some(0)), Some((BinaryOp::Lt, _))));
        assert!(matches!(n_qual(&bin(BinaryOp::Lt, &five, &n), Some(0)), Some((BinaryOp::Gt, _))));
        assert!(n_qual(&bin(BinaryOp::NotEq, &n, &five), Some(0)).is_none());
        assert!(n_qual(&bin(BinaryOp::Lt, &n, &five), Some(1)).is_none()); // not the n column
        let cast = Expr::Cast { expr: Box::new(n.clone()), ty: DataType::Numeric(None) };
        let half = Expr::constant(Datum::Numeric("2.5".parse().unwrap()), DataType::Numeric(None));
        assert!(n_qual(&bin(BinaryOp::Eq, &cast, &half), Some(0)).is_none()); // n = 2.5
    }

    #[test]
    fn validator_speaks_postgresql() {
        let opts =
            |pairs: &[(&str, &str)]| Options(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        assert!(validate(OptionTarget::Table, &opts(&[("start", "1"), ("stop", " 9 "), ("step", "-2")])).is_ok());
        assert!(validate(OptionTarget::Server, &opts(&[])).is_ok());
        let e = validate(OptionTarget::Wrapper, &opts(&[("step", "1")])).unwrap_err();
        assert_eq!(
            (e.sqlstate, e.hint.as_deref()),
            (SqlState::FDW_INVALID_OPTION_NAME, Some("There are no valid options in this context."))
        );
        let e = validate(OptionTarget::Table, &opts(&[("start", "1"), ("stop", "99999999999999999999")])).unwrap_err();
        assert_eq!(e.message, "invalid value for integer option \"stop\": 99999999999999999999");
        let e = validate(OptionTarget::Table, &opts(&[("stop", "1")])).unwrap_err();
        assert_eq!(
            (e.sqlstate.code(), e.message.as_str()),
            ("HV002", "option \"start\" is required for series_fdw foreign tables")
        );
    }
}
