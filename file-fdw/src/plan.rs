//! Planning: size estimates, costs and paths, the way PostgreSQL's file_fdw estimates them.
//!
//! Size (`estimate_size`): the file's size in 8 kB pages (10 pages when it cannot be read at
//! plan time); rows from ANALYZE's row count when the table has statistics, otherwise the
//! file size divided by the width of a tuple of the needed columns plus a heap tuple header
//! (PostgreSQL's deliberately rough guess). Rows after quals use a small selectivity model:
//! PostgreSQL's defaults (0.005 for `=`, 1/3 for ranges) refined by the column statistics
//! when present.
//!
//! Cost (`estimate_costs`): like a sequential scan of a heap of the same size, but with ten
//! times `cpu_tuple_cost` per line for parsing, plus the cost of the quals we evaluate.
//!
//! The parallel path is ours: for files of at least [`PARALLEL_MIN_BYTES`] and when the
//! planner allows workers, a second path splits the CPU part of the cost among
//! min(`max_parallel_workers`, cores) threads and adds `parallel_setup_cost`. Both paths
//! enforce every qual that compiles (`Exact`).

use fdw_api::eval::Program;
use fdw_api::path::costs;
use fdw_api::{BinaryOp, Cost, Expr, ForeignPath, QualSupport, RelInfo, RelSize, TableDesc, UnaryOp};

use crate::options;

/// Files smaller than this get no parallel path.
pub const PARALLEL_MIN_BYTES: u64 = 8 << 20;

/// PostgreSQL's `clamp_row_est`.
pub fn clamp_rows(rows: f64) -> f64 {
    if rows <= 1.0 {
        1.0
    } else {
        rows.round()
    }
}

/// File size in bytes, or PostgreSQL's default of 10 pages when unknown.
pub fn file_size(table: &TableDesc) -> Option<u64> {
    let name = options::filename(table)?;
    std::fs::metadata(name).ok().filter(|m| m.is_file()).map(|m| m.len())
}

fn column_width(table: &TableDesc, c: usize) -> u32 {
    let stats = table.stats.as_ref().and_then(|s| s.columns.get(c).cloned().flatten());
    match stats {
        Some(s) if s.avg_width > 0 => s.avg_width,
        _ => table.columns.get(c).map_or(0, |col| col.ty.typical_width()),
    }
}

/// GetForeignRelSize.
pub fn rel_size(rel: &RelInfo) -> RelSize {
    let table = &rel.table;
    let size = file_size(table).unwrap_or(10 * 8192) as f64;
    let pages = (size / costs::PAGE_SIZE).ceil().max(1.0);
    let width: u32 = rel.needed_columns.iter().map(|&c| column_width(table, c)).sum();
    let total = match &table.stats {
        Some(s) if s.row_count >= 0.0 => clamp_rows(s.row_count),
        _ => {
            let maxalign = |w: u32| w.div_ceil(8) * 8;
            clamp_rows(size / (maxalign(width) + maxalign(23)) as f64)
        }
    };
    let sel: f64 = rel.quals.iter().map(|q| selectivity(q, table, total)).product();
    RelSize { total_rows: total, rows: clamp_rows(total * sel), width, pages }
}

/// Estimated fraction of rows satisfying `q`.
fn selectivity(q: &Expr, table: &TableDesc, rows: f64) -> f64 {
    const EQ: f64 = 0.005;
    const INEQ: f64 = 1.0 / 3.0;
    let stats_of = |e: &Expr| match e {
        Expr::Column { index, .. } => table.stats.as_ref().and_then(|s| s.columns.get(*index).cloned().flatten()),
        _ => None,
    };
    let s = match q {
        Expr::Binary { op: BinaryOp::And, left, right, .. } => {
            selectivity(left, table, rows) * selectivity(right, table, rows)
        }
        Expr::Binary { op: BinaryOp::Or, left, right, .. } => {
            let (a, b) = (selectivity(left, table, rows), selectivity(right, table, rows));
            a + b - a * b
        }
        Expr::Binary { op: op @ (BinaryOp::Eq | BinaryOp::NotEq), left, right, .. } => {
            let eq = match stats_of(left).or_else(|| stats_of(right)) {
                Some(s) if s.n_distinct > 0.0 => (1.0 - s.null_frac) / s.n_distinct,
                Some(s) if s.n_distinct < 0.0 => (1.0 - s.null_frac) / (-s.n_distinct * rows).max(1.0),
                _ => EQ,
            };
            if *op == BinaryOp::Eq {
                eq
            } else {
                1.0 - eq
            }
        }
        Expr::Binary { op, .. } if op.is_comparison() => INEQ,
        Expr::Unary { op: op @ (UnaryOp::IsNull | UnaryOp::IsNotNull), expr, .. } => {
            let nf = stats_of(expr).map_or(EQ, |s| s.null_frac);
            if *op == UnaryOp::IsNull {
                nf
            } else {
                1.0 - nf
            }
        }
        Expr::Unary { op: UnaryOp::Not, expr, .. } => 1.0 - selectivity(expr, table, rows),
        Expr::InList { list, negated, .. } => {
            let s = (EQ * list.len() as f64).min(0.5);
            if *negated {
                1.0 - s
            } else {
                s
            }
        }
        Expr::Like { negated, .. } => {
            if *negated {
                1.0 - EQ
            } else {
                EQ
            }
        }
        _ => 0.33,
    };
    s.clamp(0.0, 1.0)
}

/// Whether the scan can evaluate a qual itself.
pub fn can_enforce(q: &Expr) -> bool {
    !q.has_subplan() && Program::compile(q).is_ok()
}

/// Per-tuple cost of evaluating the quals (one `cpu_operator_cost` per operator or function).
pub fn qual_cost(quals: &[Expr]) -> f64 {
    let mut ops = 0usize;
    for q in quals {
        q.walk(&mut |e| {
            if !matches!(e, Expr::Column { .. } | Expr::Const { .. } | Expr::Param { .. }) {
                ops += 1;
            }
        });
    }
    ops as f64 * costs::CPU_OPERATOR_COST
}

/// The parts of a full scan's cost, shared by the scan paths and the aggregate path.
#[derive(Clone, Copy, Debug)]
pub struct ScanCost {
    /// Rows after the quals the scan enforces.
    pub rows: f64,
    /// Reading the pages.
    pub io: f64,
    /// Parsing every line and evaluating the quals: the part worker threads share.
    pub cpu: f64,
}

/// Cost of a full scan of `rel` that evaluates `enforced` itself.
pub fn scan_cost(rel: &RelInfo, size: &RelSize, enforced: &[Expr]) -> ScanCost {
    let rows = clamp_rows(
        size.total_rows * enforced.iter().map(|q| selectivity(q, &rel.table, size.total_rows)).product::<f64>(),
    );
    let io = costs::SEQ_PAGE_COST * size.pages;
    let cpu = (costs::CPU_TUPLE_COST * 10.0 + qual_cost(enforced)) * size.total_rows;
    ScanCost { rows, io, cpu }
}

/// Threads a parallel scan of `table` would use, or 0 when it gets no parallel path: the
/// file is under [`PARALLEL_MIN_BYTES`], LATIN1 (read serially), or fewer than two workers
/// are allowed or available.
pub fn parallel_workers(table: &TableDesc, max_workers: usize) -> usize {
    let workers = max_workers.min(std::thread::available_parallelism().map_or(1, |n| n.get()));
    let big = file_size(table).is_some_and(|s| s >= PARALLEL_MIN_BYTES);
    let latin1 = table
        .option("encoding")
        .is_some_and(|e| matches!(crate::encoding::Encoding::lookup(e), Ok(crate::encoding::Encoding::Latin1)));
    if workers >= 2 && big && !latin1 {
        workers
    } else {
        0
    }
}

/// GetForeignPaths: the serial path, and a parallel one for large files.
pub fn paths(rel: &RelInfo, size: &RelSize) -> Vec<ForeignPath> {
    let support: Vec<QualSupport> =
        rel.quals.iter().map(|q| if can_enforce(q) { QualSupport::Exact } else { QualSupport::Unsupported }).collect();
    let enforced: Vec<Expr> =
        rel.quals.iter().zip(&support).filter(|(_, s)| **s == QualSupport::Exact).map(|(q, _)| q.clone()).collect();
    // Rows after the quals we enforce (the envelope filters the rest).
    let ScanCost { rows, io, cpu } = scan_cost(rel, size, &enforced);
    let mut serial = ForeignPath::simple(rows, Cost::new(0.0, io + cpu), rel.quals.len());
    serial.qual_support = support.clone();
    let mut out = vec![serial];

    let workers = parallel_workers(&rel.table, rel.max_parallel_workers);
    if workers >= 2 {
        let startup = costs::PARALLEL_SETUP_COST;
        let mut parallel = ForeignPath::simple(rows, Cost::new(startup, startup + io + cpu / workers as f64), 0);
        parallel.qual_support = support;
        parallel.parallel_workers = workers;
        out.push(parallel);
    }
    out
}

/// ExplainForeignScan: the file name, and its size under VERBOSE.
pub fn explain(table: &TableDesc, verbose: bool) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    if let Some(name) = options::filename(table) {
        lines.push(("Foreign File".to_string(), name.to_string()));
        if verbose {
            if let Some(size) = file_size(table) {
                lines.push(("Foreign File Size".to_string(), format!("{size} b")));
            }
        }
    }
    lines
}
