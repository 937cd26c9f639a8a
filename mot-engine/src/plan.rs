//! Index-aware planning (openGauss's extension): which paths a MOT table offers and what they
//! cost.
//!
//! Quals of the form `column op value` (op one of `= < <= > >=`, value free of columns,
//! sub-selects and volatile calls, of the column's key class) can bound an index: equalities on
//! a leading run of index columns, then a range on the next column. The index enforces those
//! exactly; every other qual is evaluated inside the scan (`Exact` too) with the shared
//! expression programs, so the envelope keeps no filter of its own over MOT scans.
//!
//! Paths offered: the heap scan; per index, a bounded scan when quals bound it, sorted scans
//! (forward or backward) for each `useful_orders` entry the index can produce, and a
//! parameterized scan when join quals `column = Param` fix leading columns. Costs count the
//! rows traversed (in-memory: no page costs), so a point lookup is orders of magnitude cheaper
//! than a scan of a large table.

use std::sync::Arc;

use fdw_api::path::costs::{CPU_INDEX_TUPLE_COST, CPU_OPERATOR_COST, CPU_TUPLE_COST};
use fdw_api::{BinaryOp, Cost, Expr, ForeignPath, PathKey, QualSupport, RelInfo, RelSize, UnaryOp};

use crate::index::Index;
use crate::key::KeyClass;
use crate::scan::ScanSpec;
use crate::table::TableState;

/// PostgreSQL's default selectivities (selfuncs.h).
const DEFAULT_EQ_SEL: f64 = 0.005;
const DEFAULT_INEQ_SEL: f64 = 1.0 / 3.0;
const DEFAULT_RANGE_INEQ_SEL: f64 = 0.005;

/// `column op value` in a form an index can use.
#[derive(Clone, Debug)]
pub struct Bound {
    pub col: usize,
    pub op: BinaryOp,
    pub value: Expr,
}

/// Recognizes an index-usable qual.
pub fn analyze(q: &Expr, state: &TableState) -> Option<Bound> {
    let Expr::Binary { op, left, right, .. } = q else { return None };
    if !matches!(op, BinaryOp::Eq | BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq) {
        return None;
    }
    let (col, op, value) = match (&**left, &**right) {
        (Expr::Column { index, .. }, v) if value_ok(v) => (*index, *op, v),
        (v, Expr::Column { index, .. }) if value_ok(v) => (*index, op.commuted()?, v),
        _ => return None,
    };
    let class = KeyClass::of(&state.columns.get(col)?.ty)?;
    class.accepts(&value.data_type()).then(|| Bound { col, op, value: value.clone() })
}

fn value_ok(v: &Expr) -> bool {
    v.columns().is_empty() && !v.has_subplan() && !v.is_volatile()
}

/// Whether the scan can evaluate a qual itself.
pub fn evaluable(q: &Expr) -> bool {
    !q.has_subplan() && !q.is_volatile()
}

/// The bounds one index gets from the quals.
#[derive(Clone, Debug, Default)]
struct Matched {
    /// (value, qual, index into join quals if it came from one)
    eq: Vec<(Expr, Expr, Option<usize>)>,
    lower: Option<(Expr, bool, Expr)>,
    upper: Option<(Expr, bool, Expr)>,
}

impl Matched {
    fn bounded(&self) -> bool {
        !self.eq.is_empty() || self.lower.is_some() || self.upper.is_some()
    }
    fn joins(&self) -> Vec<usize> {
        self.eq.iter().filter_map(|e| e.2).collect()
    }
    fn spec(&self, index: &Index, backward: bool) -> ScanSpec {
        let mut bound_quals: Vec<Expr> = self.eq.iter().map(|e| e.1.clone()).collect();
        bound_quals.extend(self.lower.iter().chain(self.upper.iter()).map(|b| b.2.clone()));
        ScanSpec {
            index: Some(index.name.clone()),
            eq: self.eq.iter().map(|e| e.0.clone()).collect(),
            lower: self.lower.as_ref().map(|b| (b.0.clone(), b.1)),
            upper: self.upper.as_ref().map(|b| (b.0.clone(), b.1)),
            bound_quals,
            backward,
        }
    }
}

fn match_index(
    index: &Index,
    quals: &[(Expr, Option<Bound>)],
    joins: &[(usize, Expr, Bound)],
    use_joins: bool,
) -> Matched {
    let mut m = Matched::default();
    for &col in &index.columns {
        let restr =
            quals.iter().find_map(|(q, b)| b.as_ref().filter(|b| b.col == col && b.op == BinaryOp::Eq).map(|b| (q, b)));
        if let Some((q, b)) = restr {
            m.eq.push((b.value.clone(), q.clone(), None));
            continue;
        }
        let join = joins.iter().find(|(_, _, b)| use_joins && b.col == col && b.op == BinaryOp::Eq);
        match join {
            Some((i, q, b)) => m.eq.push((b.value.clone(), q.clone(), Some(*i))),
            None => break,
        }
    }
    if let Some(&col) = index.columns.get(m.eq.len()) {
        for (q, b) in quals {
            let Some(b) = b.as_ref().filter(|b| b.col == col) else { continue };
            match b.op {
                BinaryOp::Gt | BinaryOp::GtEq if m.lower.is_none() => {
                    m.lower = Some((b.value.clone(), b.op == BinaryOp::GtEq, q.clone()))
                }
                BinaryOp::Lt | BinaryOp::LtEq if m.upper.is_none() => {
                    m.upper = Some((b.value.clone(), b.op == BinaryOp::LtEq, q.clone()))
                }
                _ => {}
            }
        }
    }
    m
}

/// Selectivity estimates for one table.
struct Estimator<'a> {
    rel: &'a RelInfo,
    state: &'a TableState,
    n: f64,
}

impl Estimator<'_> {
    fn eq_sel(&self, col: usize) -> f64 {
        if self.state.indexes.iter().any(|i| i.unique && i.columns == [col]) {
            return 1.0 / self.n.max(1.0);
        }
        let stats = self.rel.table.stats.as_ref().and_then(|s| s.columns.get(col).cloned().flatten());
        match stats {
            Some(s) if s.n_distinct > 0.0 => 1.0 / s.n_distinct,
            Some(s) if s.n_distinct < 0.0 => 1.0 / (-s.n_distinct * self.n).max(1.0),
            _ => DEFAULT_EQ_SEL,
        }
    }

    fn qual_sel(&self, q: &Expr) -> f64 {
        if let Some(b) = analyze(q, self.state) {
            return if b.op == BinaryOp::Eq { self.eq_sel(b.col) } else { DEFAULT_INEQ_SEL };
        }
        match q {
            Expr::Binary { op: BinaryOp::Eq, .. } | Expr::Like { negated: false, .. } => DEFAULT_EQ_SEL,
            Expr::Binary { op: BinaryOp::NotEq, .. } | Expr::Like { negated: true, .. } => 1.0 - DEFAULT_EQ_SEL,
            Expr::Binary { op, .. } if op.is_comparison() => DEFAULT_INEQ_SEL,
            Expr::Binary { op: BinaryOp::And, left, right, .. } => self.qual_sel(left) * self.qual_sel(right),
            Expr::Unary { op: UnaryOp::IsNull, .. } => DEFAULT_EQ_SEL,
            Expr::Unary { op: UnaryOp::IsNotNull, .. } => 1.0 - DEFAULT_EQ_SEL,
            _ => 0.5,
        }
    }

    /// Fraction of the index traversed for `m`.
    fn bound_sel(&self, index: &Index, m: &Matched) -> f64 {
        if index.unique && m.eq.len() == index.columns.len() {
            return 1.0 / self.n.max(1.0);
        }
        let mut sel: f64 = m.eq.iter().zip(&index.columns).map(|(_, &c)| self.eq_sel(c)).product();
        sel *= match (&m.lower, &m.upper) {
            (Some(_), Some(_)) => DEFAULT_RANGE_INEQ_SEL,
            (Some(_), None) | (None, Some(_)) => DEFAULT_INEQ_SEL,
            (None, None) => 1.0,
        };
        sel
    }
}

/// GetForeignRelSize.
pub fn rel_size(rel: &RelInfo, state: &TableState, live: u64, heap_bytes: u64) -> RelSize {
    let n = live as f64;
    let est = Estimator { rel, state, n };
    let sel: f64 = rel.quals.iter().map(|q| est.qual_sel(q)).product();
    let rows = if n == 0.0 { 0.0 } else { (n * sel).round().max(1.0) };
    let cols: Vec<usize> =
        if rel.needed_columns.is_empty() { (0..state.columns.len()).collect() } else { rel.needed_columns.clone() };
    let width = cols.iter().filter_map(|&c| state.columns.get(c)).map(|c| c.ty.typical_width()).sum();
    RelSize { total_rows: n, rows, width, pages: (heap_bytes as f64 / 8192.0).ceil() }
}

fn natural_keys(index: &Index, backward: bool) -> Vec<PathKey> {
    index.columns.iter().map(|&column| PathKey { column, descending: backward, nulls_first: backward }).collect()
}

/// Whether `index` (with `fixed` columns bound by equality) yields `order`; `Some(backward)`.
fn order_direction(index: &Index, fixed: &[usize], order: &[PathKey]) -> Option<bool> {
    let mut dir = None;
    let mut pos = 0;
    for key in order {
        if fixed.contains(&key.column) {
            continue;
        }
        while pos < index.columns.len() && fixed.contains(&index.columns[pos]) {
            pos += 1;
        }
        if index.columns.get(pos) != Some(&key.column) || key.nulls_first != key.descending {
            return None;
        }
        match dir {
            None => dir = Some(key.descending),
            Some(d) if d != key.descending => return None,
            _ => {}
        }
        pos += 1;
    }
    Some(dir.unwrap_or(false))
}

/// GetForeignPaths.
pub fn paths(rel: &RelInfo, size: &RelSize, state: &TableState) -> Vec<ForeignPath> {
    let n = size.total_rows;
    let est = Estimator { rel, state, n };
    let quals: Vec<(Expr, Option<Bound>)> = rel.quals.iter().map(|q| (q.clone(), analyze(q, state))).collect();
    let joins: Vec<(usize, Expr, Bound)> =
        rel.join_quals.iter().enumerate().filter_map(|(i, q)| analyze(q, state).map(|b| (i, q.clone(), b))).collect();
    let nq = rel.quals.len() as f64;
    let support: Vec<QualSupport> =
        rel.quals.iter().map(|q| if evaluable(q) { QualSupport::Exact } else { QualSupport::Unsupported }).collect();
    let mut out = Vec::new();

    let seq_total = n * (CPU_TUPLE_COST + nq * CPU_OPERATOR_COST);
    out.push(ForeignPath {
        rows: size.rows,
        cost: Cost::new(0.0, seq_total),
        pathkeys: Vec::new(),
        qual_support: support.clone(),
        param_quals: Vec::new(),
        parallel_workers: 0,
        label: Some("Seq Scan".into()),
        private: Some(Arc::new(ScanSpec::default())),
    });

    let index_path = |index: &Index, m: &Matched, backward: bool, pathkeys: Vec<PathKey>, rows: f64| {
        let traversed = (n * est.bound_sel(index, m)).max(1.0);
        let residual = (nq
            - (m.eq.iter().filter(|e| e.2.is_none()).count() + m.lower.is_some() as usize + m.upper.is_some() as usize)
                as f64)
            .max(0.0);
        let startup = CPU_OPERATOR_COST * (n + 2.0).log2();
        let total = startup + traversed * (CPU_INDEX_TUPLE_COST + CPU_TUPLE_COST + residual * CPU_OPERATOR_COST);
        let label = format!("Index Scan{} using {}", if backward { " Backward" } else { "" }, index.name);
        ForeignPath {
            rows,
            cost: Cost::new(startup, total),
            pathkeys,
            qual_support: support.clone(),
            param_quals: m.joins(),
            parallel_workers: 0,
            label: Some(label),
            private: Some(Arc::new(m.spec(index, backward))),
        }
    };

    for index in &state.indexes {
        let m = match_index(index, &quals, &joins, false);
        if m.bounded() {
            out.push(index_path(index, &m, false, natural_keys(index, false), size.rows));
        }
        let fixed: Vec<usize> = index.columns.iter().take(m.eq.len()).copied().collect();
        for order in &rel.useful_orders {
            if let Some(backward) = order_direction(index, &fixed, order) {
                out.push(index_path(index, &m, backward, order.clone(), size.rows));
            }
        }
        if !joins.is_empty() {
            let mj = match_index(index, &quals, &joins, true);
            if !mj.joins().is_empty() {
                let join_sel: f64 = mj
                    .eq
                    .iter()
                    .zip(&index.columns)
                    .filter(|(e, _)| e.2.is_some())
                    .map(|(_, &c)| est.eq_sel(c))
                    .product();
                let rows = (size.rows * join_sel).max(1.0);
                let rows = if index.unique && mj.eq.len() == index.columns.len() { 1.0 } else { rows };
                out.push(index_path(index, &mj, false, natural_keys(index, false), rows));
            }
        }
    }
    out
}
