//! Sizes, costs and paths (postgres_fdw's `postgresGetForeignRelSize`/`GetForeignPaths`,
//! `estimate_path_cost_size`).
//!
//! Without `use_remote_estimate` the estimates are local: the row count from ANALYZE
//! (`TableDesc::stats`) or, for a table never analyzed, postgres_fdw's guess of 10 pages;
//! selectivities from the column statistics where there are some, PostgreSQL's defaults
//! otherwise (equality 0.005, range 1/3, LIKE 0.005). With `use_remote_estimate` the remote
//! server's own `EXPLAIN` of the remote query gives rows and costs, and shipped quals with
//! parameters are estimated locally on top.
//!
//! Costs are postgres_fdw's: `fdw_startup_cost` (100) for the connection and query, the
//! remote scan, and `fdw_tuple_cost` (0.01) + `cpu_tuple_cost` per row transferred. A sorted
//! path (remote ORDER BY) costs 5% more (`DEFAULT_FDW_SORT_MULTIPLIER`).

use fdw_api::path::costs::{CPU_OPERATOR_COST, CPU_TUPLE_COST, PAGE_SIZE, SEQ_PAGE_COST};
use fdw_api::{
    BinaryOp, Cost, Datum, Expr, FdwResult, ForeignPath, PathKey, QualSupport, RelInfo, RelSize, TableDesc, UnaryOp,
};

use crate::deparse::is_shippable;
use crate::options::TableSettings;

/// postgres_fdw's `DEFAULT_FDW_SORT_MULTIPLIER`.
pub const SORT_MULTIPLIER: f64 = 1.05;
const DEFAULT_EQ_SEL: f64 = 0.005;
const DEFAULT_INEQ_SEL: f64 = 1.0 / 3.0;
const DEFAULT_MATCH_SEL: f64 = 0.005;

/// Average width in bytes of the given columns (ANALYZE's `avg_width` where known).
pub fn width(table: &TableDesc, columns: &[usize]) -> u32 {
    columns
        .iter()
        .map(|&c| {
            let stat = table.stats.as_ref().and_then(|s| s.columns.get(c).cloned().flatten()).map(|s| s.avg_width);
            stat.filter(|w| *w > 0).unwrap_or_else(|| table.columns.get(c).map_or(8, |col| col.ty.typical_width()))
        })
        .sum()
}

/// Rows of the table: ANALYZE's count, else postgres_fdw's 10-page guess.
pub fn table_rows(table: &TableDesc) -> f64 {
    match &table.stats {
        Some(s) => s.row_count.max(0.0),
        None => {
            let all: Vec<usize> = (0..table.columns.len()).collect();
            (10.0 * PAGE_SIZE / (width(table, &all) as f64 + 24.0)).floor()
        }
    }
}

fn pages(table: &TableDesc, rows: f64) -> f64 {
    let all: Vec<usize> = (0..table.columns.len()).collect();
    ((rows * (width(table, &all) as f64 + 24.0)) / PAGE_SIZE).ceil().max(1.0)
}

/// Selectivity of one qual over `table`'s columns.
pub fn selectivity(table: &TableDesc, e: &Expr) -> f64 {
    let stats = |c: usize| table.stats.as_ref().and_then(|s| s.columns.get(c).cloned().flatten());
    let rows = table_rows(table).max(1.0);
    let eq_sel = |c: usize, v: Option<&Datum>| -> f64 {
        let Some(s) = stats(c) else { return DEFAULT_EQ_SEL };
        if let Some(v) = v {
            if let Some((_, f)) = s.mcv.iter().find(|(m, _)| m == v) {
                return *f;
            }
        }
        let nd = if s.n_distinct < 0.0 { -s.n_distinct * rows } else { s.n_distinct };
        let mcv_total: f64 = s.mcv.iter().map(|(_, f)| f).sum();
        let rest = (nd - s.mcv.len() as f64).max(1.0);
        ((1.0 - mcv_total - s.null_frac).max(0.0) / rest).clamp(0.0, 1.0)
    };
    let sel = match e {
        Expr::Binary { op: BinaryOp::And, left, right, .. } => selectivity(table, left) * selectivity(table, right),
        Expr::Binary { op: BinaryOp::Or, left, right, .. } => {
            let (a, b) = (selectivity(table, left), selectivity(table, right));
            a + b - a * b
        }
        Expr::Binary { op, left, right, .. } => {
            let (col, other) = match (&**left, &**right) {
                (Expr::Column { index, .. }, o) | (o, Expr::Column { index, .. }) => (Some(*index), o),
                _ => (None, &**right),
            };
            let value = match other {
                Expr::Const { value, .. } => Some(value),
                _ => None,
            };
            match (op, col) {
                (BinaryOp::Eq | BinaryOp::IsNotDistinctFrom, Some(c)) => eq_sel(c, value),
                (BinaryOp::Eq, None) => DEFAULT_EQ_SEL,
                (BinaryOp::NotEq | BinaryOp::IsDistinctFrom, Some(c)) => 1.0 - eq_sel(c, value),
                (BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq, _) => DEFAULT_INEQ_SEL,
                _ => 0.5,
            }
        }
        Expr::Unary { op: UnaryOp::Not, expr, .. } => 1.0 - selectivity(table, expr),
        Expr::Unary { op: UnaryOp::IsNull, expr, .. } => match &**expr {
            Expr::Column { index, .. } => stats(*index).map_or(DEFAULT_EQ_SEL, |s| s.null_frac),
            _ => DEFAULT_EQ_SEL,
        },
        Expr::Unary { op: UnaryOp::IsNotNull, expr, .. } => match &**expr {
            Expr::Column { index, .. } => stats(*index).map_or(1.0 - DEFAULT_EQ_SEL, |s| 1.0 - s.null_frac),
            _ => 1.0 - DEFAULT_EQ_SEL,
        },
        Expr::InList { expr, list, negated } => {
            let one = match &**expr {
                Expr::Column { index, .. } => list
                    .iter()
                    .map(|v| eq_sel(*index, if let Expr::Const { value, .. } = v { Some(value) } else { None }))
                    .sum(),
                _ => DEFAULT_EQ_SEL * list.len() as f64,
            };
            let s: f64 = f64::min(one, 1.0);
            if *negated {
                1.0 - s
            } else {
                s
            }
        }
        Expr::Like { negated, .. } => {
            if *negated {
                1.0 - DEFAULT_MATCH_SEL
            } else {
                DEFAULT_MATCH_SEL
            }
        }
        Expr::Const { value: Datum::Bool(b), .. } => f64::from(u8::from(*b)),
        _ => 0.5,
    };
    sel.clamp(0.0, 1.0)
}

/// Product of the selectivities of several quals.
pub fn selectivity_all<'a>(table: &TableDesc, quals: impl IntoIterator<Item = &'a Expr>) -> f64 {
    quals.into_iter().map(|q| selectivity(table, q)).product()
}

/// The local cost of a remote scan returning `rows` of `total_rows`, with `n_quals` quals
/// evaluated remotely.
pub fn local_cost(table: &TableDesc, s: &TableSettings, total_rows: f64, rows: f64, n_quals: usize) -> Cost {
    let startup = s.fdw_startup_cost;
    let remote_run =
        pages(table, total_rows) * SEQ_PAGE_COST + total_rows * (CPU_TUPLE_COST + CPU_OPERATOR_COST * n_quals as f64);
    let transfer = rows * (s.fdw_tuple_cost + CPU_TUPLE_COST);
    Cost::new(startup, startup + remote_run + transfer)
}

/// The paths of a base relation: the plain scan, one sorted path per useful order, and a
/// parameterized path when join quals can be shipped.
pub fn base_paths(
    rel: &RelInfo,
    size: &RelSize,
    s: &TableSettings,
    remote: Option<(f64, Cost)>,
) -> FdwResult<Vec<ForeignPath>> {
    let t = &rel.table;
    let shipped: Vec<bool> = rel.quals.iter().map(is_shippable).collect();
    let support: Vec<QualSupport> =
        shipped.iter().map(|&ok| if ok { QualSupport::Exact } else { QualSupport::Unsupported }).collect();
    let n_shipped = shipped.iter().filter(|x| **x).count();
    let (rows, cost) = match remote {
        Some((rows, c)) => {
            (rows, Cost::new(c.startup + s.fdw_startup_cost, c.total + s.fdw_startup_cost + rows * s.fdw_tuple_cost))
        }
        None => {
            let rows = (size.total_rows
                * selectivity_all(t, rel.quals.iter().zip(&shipped).filter(|(_, ok)| **ok).map(|(q, _)| q)))
            .max(1.0)
            .round();
            (rows, local_cost(t, s, size.total_rows, rows, n_shipped))
        }
    };
    let base = ForeignPath {
        rows,
        cost,
        pathkeys: Vec::new(),
        qual_support: support.clone(),
        param_quals: Vec::new(),
        parallel_workers: 0,
        label: None,
        private: None,
    };
    let mut paths = vec![base.clone()];
    for order in rel.useful_orders.iter().take(4) {
        if order.is_empty() || order.iter().any(|k: &PathKey| k.column >= t.columns.len()) {
            continue;
        }
        let mut p = base.clone();
        p.pathkeys = order.clone();
        p.cost = Cost::new(cost.startup * SORT_MULTIPLIER, cost.total * SORT_MULTIPLIER);
        paths.push(p);
    }
    let joinable: Vec<usize> = (0..rel.join_quals.len()).filter(|&i| is_shippable(&rel.join_quals[i])).collect();
    if !joinable.is_empty() {
        let sel = selectivity_all(t, joinable.iter().map(|&i| &rel.join_quals[i]));
        let prow = (rows * sel).max(1.0).round();
        let mut p = base;
        p.rows = prow;
        p.param_quals = joinable;
        p.cost = local_cost(t, s, size.total_rows, prow, n_shipped + p.param_quals.len());
        paths.push(p);
    }
    Ok(paths)
}

/// Parses the top line of a remote EXPLAIN: `... (cost=S..T rows=R width=W)`.
pub fn parse_explain(line: &str) -> Option<(Cost, f64, u32)> {
    let at = line.find("(cost=")?;
    let rest = &line[at + 6..];
    let (startup, rest) = rest.split_once("..")?;
    let (total, rest) = rest.split_once(" rows=")?;
    let (rows, rest) = rest.split_once(" width=")?;
    let width = rest.trim_end_matches(')');
    Some((Cost::new(startup.parse().ok()?, total.parse().ok()?), rows.parse().ok()?, width.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explain_line() {
        let (c, rows, w) = parse_explain("Seq Scan on t1  (cost=0.00..35.50 rows=2550 width=4)").unwrap();
        assert_eq!((c.startup, c.total, rows, w), (0.0, 35.5, 2550.0, 4));
        assert!(parse_explain("garbage").is_none());
    }
}
