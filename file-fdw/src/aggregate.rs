//! Aggregate pushdown, the execution half: a scan that returns groups instead of rows.
//!
//! The file is read as a plain scan reads it ([`ScanPlan::next_row`]: only the columns the
//! keys, arguments and quals need are parsed, the quals drop rows, bad data fails with the
//! same `CONTEXT` lines). Each row is folded into a hash table from group key (compared
//! and hashed as `fdw_api::GroupKey` does) to the group's accumulators
//! (`fdw_api::eval::Accumulator`), stored flat, one run of `n_aggs` per group; without GROUP BY there is a single group and no
//! hashing at all. The row buffer, the probe key and the argument buffer are reused, so a
//! row that joins an existing group allocates nothing.
//!
//! Parallel: the file is cut into byte ranges as for a parallel scan ([`parallel::split`]),
//! each range is aggregated on its own thread into its own partial table, and the partial
//! tables are merged in range order (`Accumulator::merge`), so order-sensitive results such
//! as `string_agg` see the rows in file order. Errors follow the parallel scan's rule: the
//! failing range stops the ranges after it, the ranges before it run on, and the first error
//! in file order is reported with its absolute line number.
//!
//! Everything is computed at the first batch; then the result rows are handed out in
//! batches. Memory is bounded by the number of groups (times the number of threads before
//! the merge), not by the file: one key and one set of accumulators per group per thread.
//! `string_agg` is the exception as everywhere: its state grows with its input.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicI64, Ordering};

use fdw_api::eval::{Accumulator, EvalContext, Program};
use fdw_api::{
    DataType, Datum, Expr, FdwError, FdwResult, ForeignScan, Row, RowBatch, ScanParams, ScanRequest, BATCH_SIZE,
};

use crate::context::ScanError;
use crate::parallel;
use crate::pushdown::AggSpec;
use crate::scan::{remap, ScanPlan};

/// Rows between two looks at the cancel flag.
const CANCEL_CHECK_ROWS: u32 = 4096;

/// A group key: `fdw_api::GroupKey`'s grouping semantics (NULLs group together, `1.0` and
/// `1.00` are one numeric group) and its hash, with a shortcut for keys of the same integer
/// or date type, which is what a key column always holds (its expression has one type).
#[derive(Clone, Debug, Default)]
struct Key(Vec<Datum>);

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self.0.iter().zip(&other.0).all(|(a, b)| match (a, b) {
                (Datum::Int4(x), Datum::Int4(y)) | (Datum::Date(x), Datum::Date(y)) => x == y,
                (Datum::Int8(x), Datum::Int8(y)) => x == y,
                (Datum::Int2(x), Datum::Int2(y)) => x == y,
                (Datum::Null, Datum::Null) => true,
                _ => a.group_eq(b),
            })
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for d in &self.0 {
            d.hash_into(state);
        }
    }
}

/// A value the aggregation reads from the parsed row.
#[derive(Debug)]
enum Value {
    /// A bare column: read in place, never cloned for an aggregate argument.
    Column(usize),
    Expr(Program),
}

impl Value {
    fn new(e: &Expr, parsed: &[usize]) -> FdwResult<Value> {
        let p = Program::compile(&remap(e, parsed))?;
        Ok(match p.as_column() {
            Some(i) => Value::Column(i),
            None => Value::Expr(p),
        })
    }

    #[inline]
    fn eval(&self, row: &[Datum], ctx: &mut EvalContext<'_>) -> FdwResult<Datum> {
        match self {
            Value::Column(i) => Ok(row.get(*i).cloned().unwrap_or(Datum::Null)),
            Value::Expr(p) => p.eval(row, ctx),
        }
    }
}

/// A group key expression.
#[derive(Debug)]
struct KeyExpr {
    value: Value,
    /// Of an integer or date type (the `Int` index applies when it is the only key).
    is_int: bool,
}

/// The compiled aggregation, shared read-only by all threads.
#[derive(Debug)]
pub struct AggPlan {
    scan: ScanPlan,
    keys: Vec<KeyExpr>,
    /// Per aggregate, its arguments.
    args: Vec<Vec<Value>>,
    /// A fresh state per aggregate: each new group starts from a copy.
    fresh: Vec<Accumulator>,
}

impl AggPlan {
    pub fn new(request: &ScanRequest, spec: &AggSpec) -> FdwResult<AggPlan> {
        let columns = spec.columns();
        let quals: Vec<&Expr> = spec.quals.iter().collect();
        // Every column the quals read is in `columns`, so the parsed row is exactly `columns`.
        let scan = ScanPlan::build(&request.table, &columns, &quals, false)?;
        let keys = spec
            .group_by
            .iter()
            .map(|e| {
                let is_int = matches!(e.data_type(), DataType::Int2 | DataType::Int4 | DataType::Int8 | DataType::Date);
                Ok(KeyExpr { value: Value::new(e, &columns)?, is_int })
            })
            .collect::<FdwResult<_>>()?;
        let args = spec
            .aggs
            .iter()
            .map(|a| a.args.iter().map(|e| Value::new(e, &columns)).collect::<FdwResult<Vec<_>>>())
            .collect::<FdwResult<_>>()?;
        let fresh = spec.aggs.iter().map(|a| Accumulator::new(a.func, &a.arg_type, &a.ret)).collect();
        Ok(AggPlan { scan, keys, args, fresh })
    }
}

/// How a range finds the group of a key.
enum Index {
    /// No GROUP BY: the one group, 0.
    Plain,
    /// One key of an integer or date type: small non-negative values index `dense` directly
    /// (`a % 1000`, small codes), others are hashed as plain integers; NULL apart.
    Int { dense: Vec<usize>, map: HashMap<i64, usize, ahash::RandomState>, null: Option<usize> },
    /// Any other keys.
    General(HashMap<Key, usize, ahash::RandomState>),
}

/// Integer keys in `0..DENSE_KEYS` are found by direct indexing (at most 512 kB a thread).
const DENSE_KEYS: i64 = 1 << 16;

/// An empty slot of the dense index.
const NO_GROUP: usize = usize::MAX;

/// A key of the `Int` index: `Some(None)` for NULL, `None` for a value of another type.
#[inline]
fn int_key(d: &Datum) -> Option<Option<i64>> {
    match d {
        Datum::Null => Some(None),
        Datum::Int4(v) | Datum::Date(v) => Some(Some(*v as i64)),
        Datum::Int8(v) => Some(Some(*v)),
        Datum::Int2(v) => Some(Some(*v as i64)),
        _ => None,
    }
}

/// The groups of one range (or, after merging, of the whole file).
struct Groups {
    index: Index,
    /// Key values per group, in group-index (first-seen) order.
    keys: Vec<Key>,
    /// `n_aggs` accumulators per group, in group-index order.
    states: Vec<Accumulator>,
    n_aggs: usize,
}

impl Groups {
    fn new(plan: &AggPlan) -> Groups {
        let index = match plan.keys.as_slice() {
            [] => Index::Plain,
            [k] if k.is_int => Index::Int { dense: Vec::new(), map: HashMap::default(), null: None },
            _ => Index::General(HashMap::default()),
        };
        let mut g = Groups { index, keys: Vec::new(), states: Vec::new(), n_aggs: plan.fresh.len() };
        if plan.keys.is_empty() {
            // Plain aggregation has its one group even over no rows (count 0, sum NULL).
            g.keys.push(Key::default());
            g.states.extend_from_slice(&plan.fresh);
        }
        g
    }

    /// The group of `key`, if it exists.
    #[inline]
    fn find(&self, key: &Key) -> FdwResult<Option<usize>> {
        Ok(match &self.index {
            Index::Plain => Some(0),
            Index::Int { dense, map, null } => match key.0.first().and_then(int_key) {
                Some(Some(v)) if (0..DENSE_KEYS).contains(&v) => {
                    dense.get(v as usize).copied().filter(|&g| g != NO_GROUP)
                }
                Some(Some(v)) => map.get(&v).copied(),
                Some(None) => *null,
                None => return Err(FdwError::internal("file_fdw: group key of an unexpected type")),
            },
            Index::General(map) => map.get(key).copied(),
        })
    }

    /// Adds a group with these accumulators (fresh ones, or another range's).
    fn add(&mut self, key: Key, accs: &[Accumulator]) -> usize {
        let idx = self.keys.len();
        match &mut self.index {
            Index::Plain => {}
            Index::Int { dense, map, null } => match key.0.first().and_then(int_key) {
                Some(Some(v)) if (0..DENSE_KEYS).contains(&v) => {
                    let v = v as usize;
                    if dense.len() <= v {
                        dense.resize(v + 1, NO_GROUP);
                    }
                    dense[v] = idx;
                }
                Some(Some(v)) => {
                    map.insert(v, idx);
                }
                _ => *null = Some(idx),
            },
            Index::General(map) => {
                map.insert(key.clone(), idx);
            }
        }
        self.keys.push(key);
        self.states.extend_from_slice(accs);
        idx
    }

    fn group(&mut self, idx: usize) -> &mut [Accumulator] {
        &mut self.states[idx * self.n_aggs..(idx + 1) * self.n_aggs]
    }

    /// Folds another range's groups into these (its new groups after ours, in its order, so
    /// the result keeps file order).
    fn merge(&mut self, other: Groups) -> FdwResult<()> {
        let n = self.n_aggs;
        for (j, key) in other.keys.into_iter().enumerate() {
            let theirs = &other.states[j * n..(j + 1) * n];
            match self.find(&key)? {
                Some(i) => {
                    for (mine, t) in self.group(i).iter_mut().zip(theirs) {
                        mine.merge(t)?;
                    }
                }
                None => {
                    self.add(key, theirs);
                }
            }
        }
        Ok(())
    }

    /// The result rows: group keys, then aggregate values, groups in first-seen order.
    fn finish(self) -> FdwResult<Vec<Row>> {
        let n = self.n_aggs;
        self.keys
            .into_iter()
            .enumerate()
            .map(|(g, key)| {
                let mut row = key.0;
                row.reserve(n);
                for acc in &self.states[g * n..(g + 1) * n] {
                    row.push(acc.finish()?);
                }
                Ok(row)
            })
            .collect()
    }
}

/// Aggregates the records starting in `[start, stop)`; stops early (with what it has) once
/// `cancel` falls below `idx`.
fn aggregate_range(
    plan: &AggPlan,
    idx: usize,
    (start, stop): (u64, Option<u64>),
    params: &[Datum],
    cancel: &AtomicI64,
) -> Result<Groups, ScanError> {
    let mut reader = plan.scan.reader(start, stop)?;
    let mut groups = Groups::new(plan);
    let mut row: Row = Vec::new();
    let mut scratch = Vec::new();
    let mut probe = Key(Vec::with_capacity(plan.keys.len()));
    let mut argbuf: Vec<Datum> = Vec::new();
    let mut ctx = EvalContext { params, subplans: None };
    let mut until_check = CANCEL_CHECK_ROWS;
    while plan.scan.next_row(&mut reader, idx == 0, params, &mut row, &mut scratch)?.is_some() {
        until_check -= 1;
        if until_check == 0 {
            until_check = CANCEL_CHECK_ROWS;
            if idx as i64 > cancel.load(Ordering::Relaxed) {
                break;
            }
        }
        let g = if plan.keys.is_empty() {
            0
        } else {
            probe.0.clear();
            for k in &plan.keys {
                probe.0.push(k.value.eval(&row, &mut ctx)?);
            }
            match groups.find(&probe)? {
                Some(g) => g,
                None => groups.add(probe.clone(), &plan.fresh),
            }
        };
        for (acc, args) in groups.group(g).iter_mut().zip(&plan.args) {
            match args.as_slice() {
                [] => acc.update(&[])?,
                [Value::Column(i)] => acc.update(std::slice::from_ref(&row[*i]))?,
                _ => {
                    argbuf.clear();
                    for a in args {
                        argbuf.push(a.eval(&row, &mut ctx)?);
                    }
                    acc.update(&argbuf)?;
                }
            }
        }
    }
    Ok(groups)
}

/// Runs the aggregation: serially, or over `workers` threads when the file splits.
fn compute(plan: &AggPlan, workers: usize, params: &[Datum]) -> FdwResult<Vec<Row>> {
    // Ranges above this index stop (none at first).
    let cancel = &AtomicI64::new(i64::MAX);
    let ranges = if workers >= 2 { parallel::split(&plan.scan, workers)? } else { None };
    let Some(ranges) = ranges else {
        let groups =
            aggregate_range(plan, 0, (0, None), params, cancel).map_err(|e| e.into_fdw(&plan.scan.table_name, 0))?;
        return groups.finish();
    };
    let results: Vec<Result<Groups, ScanError>> = std::thread::scope(|s| {
        let handles: Vec<_> = ranges
            .iter()
            .enumerate()
            .map(|(idx, &(start, stop))| {
                std::thread::Builder::new().name(format!("file_fdw-agg-{idx}")).spawn_scoped(s, move || {
                    let r = aggregate_range(plan, idx, (start, Some(stop)), params, cancel);
                    if r.is_err() {
                        // Later ranges cannot hold the first error any more.
                        cancel.fetch_min(idx as i64, Ordering::SeqCst);
                    }
                    r
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h {
                Ok(h) => {
                    h.join().unwrap_or_else(|_| Err(ScanError::plain(FdwError::internal("file_fdw worker panicked"))))
                }
                Err(e) => Err(ScanError::plain(FdwError::internal(format!("could not start file_fdw worker: {e}")))),
            })
            .collect()
    });
    let mut total: Option<Groups> = None;
    for (idx, r) in results.into_iter().enumerate() {
        match r {
            Ok(g) => match total.as_mut() {
                None => total = Some(g),
                Some(t) => t.merge(g)?,
            },
            Err(e) => {
                let offset = if e.line == 0 { 0 } else { parallel::lines_before(&plan.scan, ranges[idx].0)? };
                return Err(e.into_fdw(&plan.scan.table_name, offset));
            }
        }
    }
    match total {
        Some(t) => t.finish(),
        None => Groups::new(plan).finish(),
    }
}

/// A running aggregate scan.
pub struct AggScan {
    plan: AggPlan,
    workers: usize,
    /// Whether an expression reads parameters (a rescan must then recompute).
    uses_params: bool,
    rows: Option<Vec<Row>>,
    pos: usize,
}

impl AggScan {
    pub fn new(request: &ScanRequest, spec: &AggSpec) -> FdwResult<AggScan> {
        let mut uses_params = false;
        for e in spec.exprs() {
            e.walk(&mut |x| uses_params |= matches!(x, Expr::Param { .. }));
        }
        Ok(AggScan {
            plan: AggPlan::new(request, spec)?,
            workers: request.path.parallel_workers,
            uses_params,
            rows: None,
            pos: 0,
        })
    }
}

impl ForeignScan for AggScan {
    fn next_batch(&mut self, out: &mut RowBatch, params: ScanParams<'_>) -> FdwResult<bool> {
        let rows = match &mut self.rows {
            Some(rows) => rows,
            None => self.rows.insert(compute(&self.plan, self.workers, params)?),
        };
        let end = rows.len().min(self.pos + BATCH_SIZE);
        out.rows.extend(rows[self.pos..end].iter().cloned());
        self.pos = end;
        Ok(self.pos < rows.len())
    }

    fn rescan(&mut self, _params: ScanParams<'_>) -> FdwResult<()> {
        self.pos = 0;
        if self.uses_params {
            self.rows = None;
        }
        Ok(())
    }

    fn end(&mut self) -> FdwResult<()> {
        if self.uses_params {
            self.rows = None;
        }
        Ok(())
    }
}
