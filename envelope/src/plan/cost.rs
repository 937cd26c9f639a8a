//! Selectivity and cost estimation, after PostgreSQL's clausesel.c/selfuncs.c/costsize.c,
//! much simplified: per-column statistics from ANALYZE (null fraction, distinct count, most
//! common values, histogram) when present, PostgreSQL's default selectivities otherwise.

use fdw_api::path::costs::{CPU_OPERATOR_COST, CPU_TUPLE_COST};
use fdw_api::types::compare::cmp_bpchar;
use fdw_api::{BinaryOp, ColumnStats, DataType, Datum, Expr, UnaryOp};

/// PostgreSQL's defaults (selfuncs.h).
pub const DEFAULT_EQ_SEL: f64 = 0.005;
pub const DEFAULT_INEQ_SEL: f64 = 0.3333333333333333;
pub const DEFAULT_MATCH_SEL: f64 = 0.005;
pub const DEFAULT_NUM_DISTINCT: f64 = 200.0;
pub const DEFAULT_BOOL_SEL: f64 = 0.5;

/// Statistics of one column of a row layout, and the row count of its relation.
#[derive(Clone, Copy)]
pub struct ColInfo<'a> {
    pub stats: Option<&'a ColumnStats>,
    pub rel_rows: f64,
}

impl ColInfo<'_> {
    /// Estimated number of distinct values.
    pub fn n_distinct(&self) -> f64 {
        match self.stats {
            Some(s) if s.n_distinct > 0.0 => s.n_distinct,
            Some(s) if s.n_distinct < 0.0 => (-s.n_distinct * self.rel_rows).max(1.0),
            _ => DEFAULT_NUM_DISTINCT.min(self.rel_rows.max(1.0)),
        }
    }
}

/// PostgreSQL's default for a range whose bounds could not be estimated.
pub const DEFAULT_RANGE_INEQ_SEL: f64 = 0.005;

/// The fraction of rows satisfying every qual of `quals`: their selectivities multiplied, but
/// for a lower and an upper bound on one column (`d >= x AND d < y`), which PostgreSQL's
/// `clauselist_selectivity` estimates together as `P(d >= x) + P(d < y) - 1`, not as a
/// product that treats them as independent (TPC-H Q14's one-month range of `l_shipdate` is
/// 1.3% of `lineitem`, not the product's 25%).
pub fn clauselist_selectivity<'a>(quals: &[Expr], col: &dyn Fn(usize) -> Option<ColInfo<'a>>) -> f64 {
    let conjuncts: Vec<Expr> = quals.iter().flat_map(|q| q.clone().split_conjunction()).collect();
    // Per column: the tightest lower- and upper-bound selectivities.
    let mut ranges: Vec<(usize, Option<f64>, Option<f64>)> = Vec::new();
    let mut s = 1.0;
    for q in &conjuncts {
        let sel = selectivity(q, col);
        let bound = match q {
            Expr::Binary { op, left, right, .. }
                if op.is_comparison() && !matches!(op, BinaryOp::Eq | BinaryOp::NotEq) =>
            {
                let (c, op) = if is_value(right) {
                    (left.as_ref(), *op)
                } else if is_value(left) {
                    (right.as_ref(), op.commuted().unwrap_or(*op))
                } else {
                    (q, BinaryOp::Eq)
                };
                match (strip(c), op) {
                    (Expr::Column { index, .. }, BinaryOp::Gt | BinaryOp::GtEq) => Some((*index, true)),
                    (Expr::Column { index, .. }, BinaryOp::Lt | BinaryOp::LtEq) => Some((*index, false)),
                    _ => None,
                }
            }
            _ => None,
        };
        let Some((index, lower)) = bound else {
            s *= sel;
            continue;
        };
        let entry = match ranges.iter_mut().find(|r| r.0 == index) {
            Some(e) => e,
            None => {
                ranges.push((index, None, None));
                ranges.last_mut().expect("just pushed")
            }
        };
        let slot = if lower { &mut entry.1 } else { &mut entry.2 };
        *slot = Some(slot.map_or(sel, |old: f64| old.min(sel)));
    }
    for (_, lo, hi) in ranges {
        s *= match (lo, hi) {
            (Some(lo), Some(hi)) => {
                if lo == DEFAULT_INEQ_SEL || hi == DEFAULT_INEQ_SEL {
                    DEFAULT_RANGE_INEQ_SEL
                } else {
                    let r = lo + hi - 1.0;
                    // An empty range by the estimates: tiny if barely so, else the default.
                    if r > 0.0 {
                        r
                    } else if r > -0.01 {
                        1.0e-10
                    } else {
                        DEFAULT_RANGE_INEQ_SEL
                    }
                }
            }
            (Some(one), None) | (None, Some(one)) => one,
            (None, None) => 1.0,
        };
    }
    s.clamp(0.0, 1.0)
}

/// Estimates the fraction of rows satisfying `e`; `col` gives statistics for a column of the
/// layout `e` is written over.
pub fn selectivity<'a>(e: &Expr, col: &dyn Fn(usize) -> Option<ColInfo<'a>>) -> f64 {
    let s = match e {
        Expr::Binary { op: BinaryOp::And, left, right, .. } => selectivity(left, col) * selectivity(right, col),
        Expr::Binary { op: BinaryOp::Or, left, right, .. } => {
            let (a, b) = (selectivity(left, col), selectivity(right, col));
            a + b - a * b
        }
        Expr::Unary { op: UnaryOp::Not, expr, .. } => 1.0 - selectivity(expr, col),
        Expr::Unary { op: UnaryOp::IsNull, expr, .. } => null_frac(expr, col).unwrap_or(DEFAULT_EQ_SEL),
        Expr::Unary { op: UnaryOp::IsNotNull, expr, .. } => 1.0 - null_frac(expr, col).unwrap_or(DEFAULT_EQ_SEL),
        Expr::Binary { op, left, right, .. } if op.is_comparison() => compare_sel(*op, left, right, col),
        Expr::InList { expr, list, negated } => {
            let each: f64 = list.iter().map(|v| eq_sel(expr, v, col)).sum::<f64>().min(1.0);
            if *negated {
                1.0 - each
            } else {
                each
            }
        }
        Expr::Like { pattern, negated, .. } => {
            let s = like_sel(pattern);
            if *negated {
                1.0 - s
            } else {
                s
            }
        }
        Expr::Const { value: Datum::Bool(b), .. } => {
            if *b {
                1.0
            } else {
                0.0
            }
        }
        Expr::Const { value: Datum::Null, .. } => 0.0,
        Expr::Column { ty: DataType::Bool, .. } => DEFAULT_BOOL_SEL,
        _ => DEFAULT_INEQ_SEL,
    };
    s.clamp(0.0, 1.0)
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Cast { expr, .. } => strip(expr),
        _ => e,
    }
}

fn column_of<'a>(e: &Expr, col: &dyn Fn(usize) -> Option<ColInfo<'a>>) -> Option<ColInfo<'a>> {
    match strip(e) {
        Expr::Column { index, .. } => col(*index),
        _ => None,
    }
}

fn null_frac<'a>(e: &Expr, col: &dyn Fn(usize) -> Option<ColInfo<'a>>) -> Option<f64> {
    column_of(e, col).and_then(|c| c.stats.map(|s| s.null_frac))
}

fn is_value(e: &Expr) -> bool {
    matches!(strip(e), Expr::Const { .. } | Expr::Param { .. })
}

fn const_value(e: &Expr) -> Option<&Datum> {
    match strip(e) {
        Expr::Const { value, .. } => Some(value),
        _ => None,
    }
}

fn eq_sel<'a>(a: &Expr, b: &Expr, col: &dyn Fn(usize) -> Option<ColInfo<'a>>) -> f64 {
    let (c, v) = if is_value(b) {
        (a, b)
    } else if is_value(a) {
        (b, a)
    } else {
        return join_eq_sel(a, b, col);
    };
    let Some(info) = column_of(c, col) else { return DEFAULT_EQ_SEL };
    let Some(stats) = info.stats else { return 1.0 / info.n_distinct() };
    if let Some(value) = const_value(v) {
        if value.is_null() {
            return 0.0;
        }
        // `char(n)` values equal when they differ only in trailing blanks ('BUILDING' and
        // the stored 'BUILDING  ').
        let bpchar = matches!(strip(c), Expr::Column { ty: DataType::Char(_), .. });
        let equal = |m: &Datum| if bpchar { cmp_bpchar(m, value).is_eq() } else { m == value };
        if let Some((_, f)) = stats.mcv.iter().find(|(m, _)| equal(m)) {
            return *f;
        }
    }
    let mcv_total: f64 = stats.mcv.iter().map(|(_, f)| f).sum();
    let rest = (1.0 - mcv_total - stats.null_frac).max(0.0);
    let others = (info.n_distinct() - stats.mcv.len() as f64).max(1.0);
    (rest / others).min(1.0)
}

/// Selectivity of `a = b` between two columns (of different relations, usually).
pub fn join_eq_sel<'a>(a: &Expr, b: &Expr, col: &dyn Fn(usize) -> Option<ColInfo<'a>>) -> f64 {
    let na = column_of(a, col).map(|c| c.n_distinct());
    let nb = column_of(b, col).map(|c| c.n_distinct());
    match (na, nb) {
        (Some(x), Some(y)) => 1.0 / x.max(y).max(1.0),
        (Some(x), None) | (None, Some(x)) => 1.0 / x.max(1.0),
        _ => DEFAULT_EQ_SEL,
    }
}

fn compare_sel<'a>(op: BinaryOp, l: &Expr, r: &Expr, col: &dyn Fn(usize) -> Option<ColInfo<'a>>) -> f64 {
    match op {
        BinaryOp::Eq => eq_sel(l, r, col),
        BinaryOp::NotEq => 1.0 - eq_sel(l, r, col),
        _ => {
            // Column op constant: use the histogram.
            let (c, v, op) = if is_value(r) {
                (l, r, op)
            } else if is_value(l) {
                (r, l, op.commuted().unwrap_or(op))
            } else {
                return DEFAULT_INEQ_SEL;
            };
            let (Some(info), Some(value)) = (column_of(c, col), const_value(v)) else { return DEFAULT_INEQ_SEL };
            let Some(stats) = info.stats else { return DEFAULT_INEQ_SEL };
            if stats.histogram.len() < 2 {
                return DEFAULT_INEQ_SEL;
            }
            // `date_col::timestamp < '1995-01-01 00:00:00'` (a date plus an interval): a
            // midnight compares with the date histogram as that date.
            let as_date;
            let value = match (value, &stats.histogram[0]) {
                (Datum::Timestamp(t), Datum::Date(_)) if t.rem_euclid(fdw_api::types::USECS_PER_DAY) == 0 => {
                    match i32::try_from(t.div_euclid(fdw_api::types::USECS_PER_DAY)) {
                        Ok(d) => {
                            as_date = Datum::Date(d);
                            &as_date
                        }
                        Err(_) => return DEFAULT_INEQ_SEL,
                    }
                }
                (Datum::Timestamp(_), Datum::Date(_)) => return DEFAULT_INEQ_SEL,
                _ => value,
            };
            let below = histogram_fraction_below(&stats.histogram, value);
            let mcv_total: f64 = stats.mcv.iter().map(|(_, f)| f).sum();
            let mcv_below: f64 = stats
                .mcv
                .iter()
                .filter(|(m, _)| datum_lt(m, value) || (matches!(op, BinaryOp::LtEq | BinaryOp::Gt) && m == value))
                .map(|(_, f)| f)
                .sum();
            let rest = (1.0 - mcv_total - stats.null_frac).max(0.0);
            let lt = mcv_below + rest * below;
            match op {
                BinaryOp::Lt | BinaryOp::LtEq => lt,
                _ => (1.0 - stats.null_frac - lt).max(0.0),
            }
        }
    }
}

fn datum_lt(a: &Datum, b: &Datum) -> bool {
    a.cmp_for_sort(b) == std::cmp::Ordering::Less
}

/// Fraction of histogram population below `v`, interpolating linearly inside a bucket where
/// values are numeric.
fn histogram_fraction_below(h: &[Datum], v: &Datum) -> f64 {
    let n = h.len() - 1;
    let pos = h.iter().position(|b| !datum_lt(b, v)).unwrap_or(h.len());
    if pos == 0 {
        return 0.0;
    }
    if pos >= h.len() {
        return 1.0;
    }
    let (lo, hi) = (&h[pos - 1], &h[pos]);
    let frac = match (as_f64(lo), as_f64(hi), as_f64(v)) {
        (Some(a), Some(b), Some(x)) if b > a => ((x - a) / (b - a)).clamp(0.0, 1.0),
        _ => 0.5,
    };
    ((pos - 1) as f64 + frac) / n as f64
}

fn as_f64(d: &Datum) -> Option<f64> {
    match d {
        Datum::Int2(v) => Some(*v as f64),
        Datum::Int4(v) => Some(*v as f64),
        Datum::Int8(v) => Some(*v as f64),
        Datum::Float4(v) => Some(*v as f64),
        Datum::Float8(v) => Some(*v),
        Datum::Numeric(n) => n.to_string().parse().ok(),
        Datum::Date(d) => Some(*d as f64),
        Datum::Timestamp(t) => Some(*t as f64),
        _ => None,
    }
}

fn like_sel(pattern: &Expr) -> f64 {
    match const_value(pattern) {
        Some(Datum::Text(p)) => {
            if !p.contains(['%', '_']) {
                DEFAULT_EQ_SEL
            } else {
                // A fixed prefix narrows the match; each literal character a little more.
                let fixed = p.chars().filter(|c| *c != '%' && *c != '_').count() as f64;
                (DEFAULT_MATCH_SEL * 20.0 * 0.8f64.powf(fixed)).clamp(DEFAULT_MATCH_SEL / 10.0, 0.25)
            }
        }
        _ => DEFAULT_MATCH_SEL,
    }
}

/// Cost of sorting `rows` rows (PostgreSQL's cost_sort, in memory).
pub fn sort_cost(rows: f64) -> f64 {
    let n = rows.max(2.0);
    2.0 * CPU_OPERATOR_COST * n * n.log2()
}

/// Per-row cost of evaluating `n` operator-sized expressions.
pub fn expr_cost(n: usize, rows: f64) -> f64 {
    CPU_OPERATOR_COST * n as f64 * rows
}

/// Per-row cost of emitting a tuple.
pub fn tuple_cost(rows: f64) -> f64 {
    CPU_TUPLE_COST * rows
}

/// Number of operators in an expression (for per-row cost).
pub fn expr_ops(e: &Expr) -> usize {
    let mut n = 0;
    e.walk(&mut |x| {
        if matches!(
            x,
            Expr::Binary { .. } | Expr::Func { .. } | Expr::Like { .. } | Expr::InList { .. } | Expr::Unary { .. }
        ) {
            n += 1;
        }
    });
    n.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fdw_api::types::USECS_PER_DAY;

    /// A date column compared with a timestamp (what `date + interval` gives) is estimated
    /// from the date histogram when the timestamp is a midnight.
    #[test]
    fn date_column_against_midnight_timestamp_uses_the_histogram() {
        let stats = ColumnStats {
            null_frac: 0.0,
            n_distinct: 100.0,
            avg_width: 4,
            mcv: Vec::new(),
            histogram: (0..=10).map(|i| Datum::Date(i * 100)).collect(),
        };
        let col = |_: usize| Some(ColInfo { stats: Some(&stats), rel_rows: 1000.0 });
        let column = Expr::Column { index: 0, ty: DataType::Date };
        let cast = Expr::Cast { expr: Box::new(column.clone()), ty: DataType::Timestamp };
        let lt = |left: Expr, value: Datum| Expr::Binary {
            op: BinaryOp::Lt,
            left: Box::new(left),
            right: Box::new(Expr::Const { ty: value.natural_type(), value }),
            ty: DataType::Bool,
        };
        let by_date = selectivity(&lt(column, Datum::Date(250)), &col);
        let by_timestamp = selectivity(&lt(cast.clone(), Datum::Timestamp(250 * USECS_PER_DAY)), &col);
        assert!((by_date - 0.25).abs() < 1e-9, "{by_date}");
        assert!((by_timestamp - by_date).abs() < 1e-9, "{by_timestamp}");
        let noon = selectivity(&lt(cast, Datum::Timestamp(250 * USECS_PER_DAY + USECS_PER_DAY / 2)), &col);
        assert_eq!(noon, DEFAULT_INEQ_SEL);
    }

    /// A lower and an upper bound on one column are estimated together, as a range; other
    /// quals multiply; a bound without statistics gives PostgreSQL's default range estimate.
    #[test]
    fn range_pairs_are_estimated_together() {
        let stats = ColumnStats {
            null_frac: 0.0,
            n_distinct: 100.0,
            avg_width: 4,
            mcv: Vec::new(),
            histogram: (0..=10).map(|i| Datum::Int4(i * 100)).collect(),
        };
        let col = |c: usize| (c == 0).then_some(ColInfo { stats: Some(&stats), rel_rows: 1000.0 });
        let cmp = |op: BinaryOp, index: usize, v: i32| Expr::Binary {
            op,
            left: Box::new(Expr::Column { index, ty: DataType::Int4 }),
            right: Box::new(Expr::constant(Datum::Int4(v), DataType::Int4)),
            ty: DataType::Bool,
        };
        let range = [cmp(BinaryOp::GtEq, 0, 300), cmp(BinaryOp::Lt, 0, 400)];
        let s = clauselist_selectivity(&range, &col);
        assert!((s - 0.1).abs() < 1e-9, "{s}");
        // The same pair inside one AND, and with a tighter second upper bound.
        let and = Expr::Binary {
            op: BinaryOp::And,
            left: Box::new(range[0].clone()),
            right: Box::new(range[1].clone()),
            ty: DataType::Bool,
        };
        let s = clauselist_selectivity(&[and, cmp(BinaryOp::LtEq, 0, 900)], &col);
        assert!((s - 0.1).abs() < 1e-9, "{s}");
        // A bound alone, and an empty range.
        assert!((clauselist_selectivity(&range[..1], &col) - 0.7).abs() < 1e-9);
        let empty = [cmp(BinaryOp::Gt, 0, 800), cmp(BinaryOp::Lt, 0, 200)];
        assert_eq!(clauselist_selectivity(&empty, &col), DEFAULT_RANGE_INEQ_SEL);
        // Column 1 has no statistics.
        let unknown = [cmp(BinaryOp::GtEq, 1, 300), cmp(BinaryOp::Lt, 1, 400)];
        assert_eq!(clauselist_selectivity(&unknown, &col), DEFAULT_RANGE_INEQ_SEL);
    }

    /// `char(n)` equality finds its most common value whatever the trailing blanks (a
    /// `c_mktsegment = 'BUILDING'` is a fifth of `customer`, not a row).
    #[test]
    fn bpchar_equality_matches_most_common_values_without_trailing_blanks() {
        let mcv = ["AUTOMOBILE", "BUILDING  ", "FURNITURE ", "HOUSEHOLD ", "MACHINERY "];
        let stats = ColumnStats {
            null_frac: 0.0,
            n_distinct: 5.0,
            avg_width: 10,
            mcv: mcv.iter().map(|m| (Datum::text(m), 0.2)).collect(),
            histogram: Vec::new(),
        };
        let col = |_: usize| Some(ColInfo { stats: Some(&stats), rel_rows: 150_000.0 });
        let eq = |ty: DataType, value: &str| Expr::Binary {
            op: BinaryOp::Eq,
            left: Box::new(Expr::Column { index: 0, ty }),
            right: Box::new(Expr::Const { ty: DataType::Char(None), value: Datum::text(value) }),
            ty: DataType::Bool,
        };
        assert_eq!(selectivity(&eq(DataType::Char(Some(10)), "BUILDING"), &col), 0.2);
        assert_eq!(selectivity(&eq(DataType::Char(Some(10)), "OTHER"), &col), 0.0);
        // Text keeps its blanks significant.
        assert_eq!(selectivity(&eq(DataType::Text, "BUILDING"), &col), 0.0);
    }
}
