//! Set-returning functions in FROM, run as an internal wrapper (`pg_function_scan`).
//!
//! `FROM generate_series(1, 10) AS g(x)` is bound (`bind::srf`) into an ordinary scan of a
//! synthetic one-column table whose wrapper is a [`FunctionScanFdw`] holding the function and
//! its argument values (evaluated once at bind time). The planner and the executor need no
//! special case: the wrapper sizes the relation (an exact row count for integer series, as
//! PostgreSQL's support function estimates it; 1000 rows otherwise, PostgreSQL's `prorows`),
//! offers one path labelled `Function Scan` so EXPLAIN prints `Function Scan on
//! generate_series g`, and produces rows a batch at a time, so memory stays bounded for
//! `generate_series(1, 10000000)`.
//!
//! Quals are reported `Unsupported`: the envelope keeps them in its own filter, which EXPLAIN
//! prints as `Filter:` under the scan, as PostgreSQL does. Any qual the planner still hands to
//! the scan is applied (compiled once) and the requested projection is honoured, like any
//! wrapper.
//!
//! Simplifications: the functions run at most once per query (no LATERAL, so arguments are
//! constants); date arguments give `timestamp` rows where PostgreSQL gives `timestamptz`
//! (we have no time zones).

use std::sync::Arc;

use fdw_api::eval::ops::ts_plus_interval;
use fdw_api::eval::{EvalContext, Program};
use fdw_api::path::costs::CPU_TUPLE_COST;
use fdw_api::{
    err, ColumnDef, Cost, DataType, Datum, ExecContext, FdwResult, FdwRoutine, ForeignPath, ForeignScan, Interval,
    Numeric, Options, RelInfo, RelSize, Row, RowBatch, ScanParams, ScanRequest, TableDesc, BATCH_SIZE,
};

/// The handler name of the function-scan wrapper (never registered: the binder creates one
/// per function call in FROM).
pub const FUNCTION_SCAN: &str = "pg_function_scan";

/// PostgreSQL's default row estimate of a set-returning function (`prorows`).
const DEFAULT_ROWS: f64 = 1000.0;

/// What a function call in FROM produces.
#[derive(Clone, Debug)]
pub enum FunctionSpec {
    /// `generate_series(start, stop, step)` over `integer` or `bigint`.
    IntSeries { start: i64, stop: i64, step: i64, ty: DataType },
    /// `generate_series` over `numeric`.
    NumericSeries { start: Numeric, stop: Numeric, step: Numeric },
    /// `generate_series(timestamp, timestamp, interval)`, microseconds since 2000-01-01.
    TimestampSeries { start: i64, stop: i64, step: Interval },
    /// A series with a NULL argument: no rows.
    Empty,
    /// Rows computed at bind time (system table functions such as `mot_memory_detail()`).
    Rows(Arc<Vec<Row>>),
}

impl FunctionSpec {
    /// Estimated rows, exact where it is cheap to know.
    fn estimated_rows(&self) -> f64 {
        match self {
            FunctionSpec::IntSeries { start, stop, step, .. } => {
                let span = *stop as i128 - *start as i128;
                let step = *step as i128;
                if step == 0 || (span != 0 && (span > 0) != (step > 0)) {
                    0.0
                } else {
                    (span / step + 1) as f64
                }
            }
            FunctionSpec::Empty => 0.0,
            FunctionSpec::Rows(r) => r.len() as f64,
            _ => DEFAULT_ROWS,
        }
    }
}

/// The wrapper behind one function call in FROM.
#[derive(Debug)]
pub struct FunctionScanFdw {
    spec: FunctionSpec,
}

impl FunctionScanFdw {
    pub fn new(spec: FunctionSpec) -> FunctionScanFdw {
        FunctionScanFdw { spec }
    }
}

/// A synthetic table for a function call: its name (the function's), its columns.
pub fn function_table(function: &str, columns: Vec<(String, DataType)>) -> Arc<TableDesc> {
    Arc::new(TableDesc {
        id: 0,
        schema: "pg_catalog".into(),
        name: function.to_string(),
        columns: columns
            .into_iter()
            .map(|(name, ty)| ColumnDef { name, ty, not_null: false, default: None, options: Options::new() })
            .collect(),
        table_options: Options::new(),
        server_name: String::new(),
        server_options: Options::new(),
        wrapper_options: Options::new(),
        user_mapping_options: Options::new(),
        indexes: Vec::new(),
        stats: None,
    })
}

fn type_width(ty: &DataType) -> u32 {
    match ty {
        DataType::Bool => 1,
        DataType::Int2 => 2,
        DataType::Int4 | DataType::Float4 | DataType::Date => 4,
        DataType::Int8 | DataType::Float8 | DataType::Timestamp => 8,
        DataType::Interval => 16,
        _ => 32,
    }
}

impl FdwRoutine for FunctionScanFdw {
    fn name(&self) -> &str {
        FUNCTION_SCAN
    }

    fn get_rel_size(&self, rel: &RelInfo) -> FdwResult<RelSize> {
        let rows = self.spec.estimated_rows();
        let width = rel.table.columns.iter().map(|c| type_width(&c.ty)).sum();
        Ok(RelSize { total_rows: rows, rows, width, pages: 0.0 })
    }

    fn get_paths(&self, rel: &RelInfo, size: &RelSize) -> FdwResult<Vec<ForeignPath>> {
        // PostgreSQL's cost_functionscan: the function itself is nearly free, each row costs
        // cpu_tuple_cost.
        let mut path = ForeignPath::simple(size.rows, Cost::new(0.0, size.rows * CPU_TUPLE_COST), rel.quals.len());
        path.label = Some("Function Scan".into());
        Ok(vec![path])
    }

    fn begin_scan(&self, request: &ScanRequest, _ctx: &ExecContext) -> FdwResult<Box<dyn ForeignScan>> {
        let quals = request.quals.iter().chain(&request.param_quals).map(Program::compile).collect::<FdwResult<_>>()?;
        let ncols = request.table.columns.len();
        if let Some(&c) = request.columns.iter().find(|&&c| c >= ncols) {
            return Err(fdw_api::FdwError::internal(format!("function scan: column {c} out of range")));
        }
        let mut scan = FunctionScan {
            spec: self.spec.clone(),
            columns: request.columns.clone(),
            quals,
            limit: request.limit,
            state: State::Done,
            emitted: 0,
        };
        scan.restart()?;
        Ok(Box::new(scan))
    }
}

/// Where a running series is.
enum State {
    Int(i64),
    Numeric(Numeric),
    Timestamp(i64),
    Rows(usize),
    Done,
}

struct FunctionScan {
    spec: FunctionSpec,
    columns: Vec<usize>,
    quals: Vec<Program>,
    limit: Option<u64>,
    state: State,
    emitted: u64,
}

impl FunctionScan {
    fn restart(&mut self) -> FdwResult<()> {
        self.emitted = 0;
        self.state = match &self.spec {
            FunctionSpec::IntSeries { start, step, .. } => {
                check_step(*step == 0)?;
                State::Int(*start)
            }
            FunctionSpec::NumericSeries { start, step, .. } => {
                check_step(step.is_zero())?;
                State::Numeric(*start)
            }
            FunctionSpec::TimestampSeries { start, step, .. } => {
                check_step(step.cmp_key() == 0)?;
                State::Timestamp(*start)
            }
            FunctionSpec::Rows(_) => State::Rows(0),
            FunctionSpec::Empty => State::Done,
        };
        Ok(())
    }

    /// The next value of the function (a full one-row-per-call table row), or `None` at the end.
    fn next_row(&mut self) -> FdwResult<Option<Row>> {
        let (row, next) = match (&self.state, &self.spec) {
            (State::Int(v), FunctionSpec::IntSeries { stop, step, ty, .. }) => {
                let v = *v;
                if (*step > 0 && v > *stop) || (*step < 0 && v < *stop) {
                    return Ok(None);
                }
                let d = if *ty == DataType::Int8 { Datum::Int8(v) } else { Datum::Int4(v as i32) };
                // An overflowing next value ends the series (PostgreSQL stops there too).
                let next = v.checked_add(*step).map_or(State::Done, State::Int);
                (vec![d], next)
            }
            (State::Numeric(v), FunctionSpec::NumericSeries { stop, step, .. }) => {
                let v = *v;
                if (step.is_sign_positive() && v > *stop) || (step.is_sign_negative() && v < *stop) {
                    return Ok(None);
                }
                let next = v.checked_add(*step).map_or(State::Done, State::Numeric);
                (vec![Datum::Numeric(v)], next)
            }
            (State::Timestamp(v), FunctionSpec::TimestampSeries { stop, step, .. }) => {
                let v = *v;
                let up = step.cmp_key() > 0;
                if (up && v > *stop) || (!up && v < *stop) {
                    return Ok(None);
                }
                let next = ts_plus_interval(v, step).map_or(State::Done, State::Timestamp);
                (vec![Datum::Timestamp(v)], next)
            }
            (State::Rows(i), FunctionSpec::Rows(rows)) => match rows.get(*i) {
                Some(r) => (r.clone(), State::Rows(i + 1)),
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        self.state = next;
        Ok(Some(row))
    }
}

fn check_step(zero: bool) -> FdwResult<()> {
    if zero {
        return Err(err!(INVALID_PARAMETER_VALUE, "step size cannot equal zero"));
    }
    Ok(())
}

impl ForeignScan for FunctionScan {
    fn next_batch(&mut self, out: &mut RowBatch, params: ScanParams<'_>) -> FdwResult<bool> {
        let mut ecx = EvalContext { params, ..Default::default() };
        while out.len() < BATCH_SIZE {
            if self.limit.is_some_and(|l| self.emitted >= l) {
                self.state = State::Done;
                return Ok(false);
            }
            let Some(row) = self.next_row()? else {
                self.state = State::Done;
                return Ok(false);
            };
            let mut keep = true;
            for q in &self.quals {
                if !q.eval_predicate(&row, &mut ecx)? {
                    keep = false;
                    break;
                }
            }
            if !keep {
                continue;
            }
            self.emitted += 1;
            // The common projections: every column (the row as is) or none (count(*)).
            if self.columns.len() == row.len() && self.columns.iter().enumerate().all(|(i, &c)| i == c) {
                out.push(row);
            } else {
                out.push(self.columns.iter().map(|&c| row[c].clone()).collect());
            }
        }
        Ok(true)
    }

    fn rescan(&mut self, _params: ScanParams<'_>) -> FdwResult<()> {
        self.restart()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fdw_api::path::ForeignPath;

    fn run(spec: FunctionSpec, columns: Vec<usize>, limit: Option<u64>) -> FdwResult<Vec<Row>> {
        let table = function_table("generate_series", vec![("generate_series".into(), DataType::Int8)]);
        let fdw = FunctionScanFdw::new(spec);
        let request = ScanRequest {
            table,
            columns,
            quals: Vec::new(),
            param_quals: Vec::new(),
            want_row_id: false,
            path: ForeignPath::simple(1.0, Cost::default(), 0),
            limit,
        };
        let ctx = ExecContext {
            xid: 1,
            in_transaction_block: false,
            isolation: Default::default(),
            user: "postgres".into(),
            services: Arc::new(fdw_api::services::VolatileServices::default()),
        };
        let mut scan = fdw.begin_scan(&request, &ctx)?;
        let mut rows = Vec::new();
        loop {
            let mut b = RowBatch::new();
            let more = scan.next_batch(&mut b, &[])?;
            assert!(b.len() <= BATCH_SIZE);
            rows.extend(b.rows);
            if !more {
                return Ok(rows);
            }
        }
    }

    fn ints(start: i64, stop: i64, step: i64) -> FunctionSpec {
        FunctionSpec::IntSeries { start, stop, step, ty: DataType::Int8 }
    }

    #[test]
    fn integer_series_in_batches() {
        let rows = run(ints(1, 3000, 1), vec![0], None).unwrap();
        assert_eq!(rows.len(), 3000);
        assert_eq!(rows[2999], vec![Datum::Int8(3000)]);
        assert_eq!(run(ints(10, 1, -3), vec![0], None).unwrap().len(), 4);
        assert_eq!(run(ints(5, 1, 1), vec![0], None).unwrap().len(), 0);
        assert_eq!(ints(1, 10, 1).estimated_rows(), 10.0);
        assert_eq!(ints(10, 1, -3).estimated_rows(), 4.0);
        assert_eq!(ints(5, 1, 1).estimated_rows(), 0.0);
    }

    #[test]
    fn series_stops_at_overflow_and_limit() {
        let rows = run(ints(i64::MAX - 2, i64::MAX, 2), vec![0], None).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(run(ints(1, 100, 1), vec![], Some(7)).unwrap(), vec![Vec::<Datum>::new(); 7]);
    }

    #[test]
    fn zero_step_is_an_error() {
        let e = run(ints(1, 3, 0), vec![0], None).unwrap_err();
        assert_eq!(e.message, "step size cannot equal zero");
        assert_eq!(e.sqlstate.0, "22023");
    }

    #[test]
    fn timestamp_series_by_month() {
        let day = fdw_api::types::USECS_PER_DAY;
        let spec = FunctionSpec::TimestampSeries { start: 30 * day, stop: 100 * day, step: Interval::new(1, 0, 0) };
        let rows = run(spec, vec![0], None).unwrap();
        // 2000-01-31, 2000-02-29 (clamped from the start, as PostgreSQL adds to each value), ...
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1], vec![Datum::Timestamp(59 * day)]);
    }
}
