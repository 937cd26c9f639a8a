//! ANALYZE: a sample of rows from the wrapper (`SupportRoutine::analyze`, PostgreSQL's
//! AcquireSampleRowsFunc) and per-column statistics computed as PostgreSQL's
//! `compute_scalar_stats` does, for the default statistics target 100:
//!
//! - sample size 300 × target = 30000 rows;
//! - `null_frac`, `avg_width` (PostgreSQL's stored widths: fixed-size types their size,
//!   text its bytes plus a 1- or 4-byte header);
//! - `n_distinct`: exact when every sampled value repeats (the column likely has only those
//!   values), -1 × non-null fraction when no value repeats (a unique column), else the
//!   Haas-Stokes estimator `n·d / (n − f1 + f1·n/N)`; stored as a negative fraction of the
//!   row count when above 10 % of the rows, since it then scales with the table;
//! - up to 100 most common values among those seen at least twice, cut where a value is no
//!   longer significantly more common than the average of the rest (PostgreSQL's
//!   `analyze_mcv_list` test: count above `selec·n + 2σ + 0.5` for the hypergeometric σ);
//! - a histogram of up to 101 equi-depth bounds over the values not in the MCV list.
//!
//! Simplifications: no correlation statistic; values are not excluded for being too wide.

use std::cmp::Ordering;
use std::sync::Arc;

use fdw_api::{err, ColumnStats, DataType, Datum, FdwResult, SqlState};

use super::ddl::DdlContext;
use super::{routine_for, table_desc, RelKind, RelationEntry};
use crate::sql::med::QualifiedName;

/// PostgreSQL's `default_statistics_target`.
pub const STATISTICS_TARGET: usize = 100;
/// Rows sampled per table (PostgreSQL: 300 × the target).
pub const SAMPLE_ROWS: usize = 300 * STATISTICS_TARGET;

/// `ANALYZE [t [(cols)], ...]`: every table (skipping silently those whose wrapper cannot
/// analyze) or the named ones (with PostgreSQL's WARNING for those).
pub(crate) fn analyze(cx: &mut DdlContext<'_>, tables: &[(QualifiedName, Vec<String>)]) -> FdwResult<()> {
    if tables.is_empty() {
        let all: Vec<Arc<RelationEntry>> =
            cx.catalog.relations.values().filter(|r| r.kind == RelKind::ForeignTable).cloned().collect();
        for rel in all {
            analyze_one(cx, &rel, &[], false)?;
        }
        return Ok(());
    }
    for (name, cols) in tables {
        let rel = cx
            .catalog
            .relation(name.schema.as_deref(), &name.name)
            .cloned()
            .ok_or_else(|| err!(UNDEFINED_TABLE, "relation \"{}\" does not exist", name.name))?;
        if rel.kind == RelKind::View {
            cx.warning(format!("skipping \"{}\" --- cannot analyze non-tables or special system tables", rel.name));
            continue;
        }
        analyze_one(cx, &rel, cols, true)?;
    }
    Ok(())
}

fn analyze_one(cx: &mut DdlContext<'_>, rel: &Arc<RelationEntry>, cols: &[String], explicit: bool) -> FdwResult<()> {
    let columns: Vec<usize> = if cols.is_empty() {
        (0..rel.columns.len()).collect()
    } else {
        cols.iter().map(|c| super::ddl::column_index(rel, c)).collect::<FdwResult<_>>()?
    };
    let skip = |cx: &mut DdlContext<'_>| {
        if explicit {
            cx.warning(format!("skipping \"{}\" --- cannot analyze this foreign table", rel.name));
        }
    };
    let routine = match routine_for(cx.catalog, cx.registry, rel) {
        Ok(r) => r,
        Err(e) if explicit => return Err(e),
        Err(_) => return Ok(()),
    };
    let Some(support) = routine.support_routine() else {
        skip(cx);
        return Ok(());
    };
    let desc = table_desc(cx.catalog, rel, &cx.exec.user)?;
    let sample = match support.analyze(&desc, SAMPLE_ROWS, cx.exec) {
        Ok(s) => s,
        Err(e) if e.sqlstate == SqlState::FEATURE_NOT_SUPPORTED && e.message.contains("AnalyzeForeignTable") => {
            skip(cx);
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let mut stats = rel.stats.as_deref().cloned().unwrap_or_default();
    stats.columns.resize(rel.columns.len(), None);
    stats.row_count = sample.total_rows;
    for &c in &columns {
        stats.columns[c] = if sample.rows.is_empty() {
            None
        } else {
            let values: Vec<&Datum> = sample.rows.iter().map(|r| r.get(c).unwrap_or(&Datum::Null)).collect();
            Some(column_stats(&values, &rel.columns[c].ty, sample.total_rows))
        };
    }
    let mut new = (**rel).clone();
    new.stats = Some(Arc::new(stats));
    cx.catalog.relations.insert((new.schema.clone(), new.name.clone()), Arc::new(new));
    Ok(())
}

/// The order statistics are computed in (fdw-api's total order on datums; NULLs are
/// excluded by the caller).
pub fn cmp_values(a: &Datum, b: &Datum) -> Ordering {
    a.cmp_for_sort(b)
}

/// The width PostgreSQL would store for a value.
fn stored_width(d: &Datum, ty: &DataType) -> usize {
    match d {
        Datum::Null => 0,
        Datum::Bool(_) => 1,
        Datum::Int2(_) => 2,
        Datum::Int4(_) | Datum::Float4(_) | Datum::Date(_) => 4,
        Datum::Int8(_) | Datum::Float8(_) | Datum::Timestamp(_) => 8,
        Datum::Interval(_) => 16,
        Datum::Numeric(n) => {
            // Header, weight/sign word and one 2-byte word per 4 decimal digits on each side
            // of the point.
            let s = n.abs().to_string();
            let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
            let int = int.trim_start_matches('0');
            let words = int.len().div_ceil(4) + frac.trim_end_matches('0').len().div_ceil(4);
            1 + 2 + 2 * words
        }
        Datum::Text(s) => {
            let len = match ty {
                DataType::Char(Some(n)) => (*n as usize).max(s.chars().count()) + s.len() - s.chars().count(),
                _ => s.len(),
            };
            len + if len < 127 { 1 } else { 4 }
        }
    }
}

/// Statistics of one column from its sampled values.
pub fn column_stats(values: &[&Datum], ty: &DataType, total_rows: f64) -> ColumnStats {
    let sample_rows = values.len() as f64;
    let mut nonnull: Vec<&Datum> = values.iter().copied().filter(|d| !d.is_null()).collect();
    let null_frac = (values.len() - nonnull.len()) as f64 / sample_rows.max(1.0);
    if nonnull.is_empty() {
        return ColumnStats { null_frac, n_distinct: 0.0, avg_width: 0, mcv: Vec::new(), histogram: Vec::new() };
    }
    let width: usize = nonnull.iter().map(|d| stored_width(d, ty)).sum();
    let avg_width = (width as f64 / nonnull.len() as f64).round() as u32;
    nonnull.sort_by(|a, b| cmp_values(a, b));

    // Runs of equal values: (first index, count).
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for (i, d) in nonnull.iter().enumerate() {
        match groups.last_mut() {
            Some((start, n)) if cmp_values(nonnull[*start], d) == Ordering::Equal => *n += 1,
            _ => groups.push((i, 1)),
        }
    }
    let d = groups.len() as f64;
    let f1 = groups.iter().filter(|g| g.1 == 1).count() as f64;
    let nmultiple = groups.len() as f64 - f1;
    let n = nonnull.len() as f64;
    let big_n = total_rows.max(sample_rows) * (1.0 - null_frac);

    let mut n_distinct = if nmultiple == 0.0 {
        -(1.0 - null_frac)
    } else if nmultiple == d {
        d
    } else {
        let est = (n * d) / ((n - f1) + f1 * n / big_n);
        est.clamp(d, big_n.max(d)).round()
    };
    if n_distinct > 0.0 && total_rows > 0.0 && n_distinct > 0.1 * total_rows {
        n_distinct = -(n_distinct / total_rows);
    }

    // Candidates: values seen at least twice, most common first (ties in value order).
    let mut track: Vec<(usize, usize)> = groups.iter().copied().filter(|g| g.1 > 1).collect();
    track.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    track.truncate(STATISTICS_TARGET);
    let all_tracked = track.len() == groups.len() && n_distinct > 0.0;
    let num_mcv = if all_tracked {
        track.len()
    } else {
        let counts: Vec<f64> = track.iter().map(|g| g.1 as f64).collect();
        mcv_cutoff(&counts, n_distinct, null_frac, sample_rows, total_rows)
    };
    track.truncate(num_mcv);
    let mcv: Vec<(Datum, f64)> = track.iter().map(|&(i, c)| (nonnull[i].clone(), c as f64 / sample_rows)).collect();

    // Histogram over the remaining values.
    let in_mcv = |start: usize| track.iter().any(|g| g.0 == start);
    let rest: Vec<&Datum> = groups
        .iter()
        .filter(|g| !in_mcv(g.0))
        .flat_map(|&(start, count)| nonnull[start..start + count].iter().copied())
        .collect();
    let rest_distinct = groups.iter().filter(|g| !in_mcv(g.0)).count();
    let num_hist = rest_distinct.min(STATISTICS_TARGET + 1);
    let histogram = if num_hist >= 2 {
        let nvals = rest.len();
        (0..num_hist).map(|i| rest[i * (nvals - 1) / (num_hist - 1)].clone()).collect()
    } else {
        Vec::new()
    };
    ColumnStats { null_frac, n_distinct, avg_width, mcv, histogram }
}

/// How many of the candidate MCVs (counts, most common first) to keep: drop the least common
/// while it is not significantly more common than the other values would be on average.
fn mcv_cutoff(counts: &[f64], n_distinct: f64, null_frac: f64, sample_rows: f64, total_rows: f64) -> usize {
    let mut num = counts.len();
    if num == 0 || sample_rows >= total_rows || total_rows <= 1.0 {
        return num;
    }
    let nd_table = if n_distinct < 0.0 { -n_distinct * total_rows } else { n_distinct };
    let mut sum_others: f64 = counts[..num - 1].iter().sum();
    while num > 0 {
        let mut selec = (1.0 - sum_others / sample_rows - null_frac).clamp(0.0, 1.0);
        let other_distinct = nd_table - (num as f64 - 1.0);
        if other_distinct > 1.0 {
            selec /= other_distinct;
        }
        let (big_n, n) = (total_rows, sample_rows);
        let k = big_n * counts[num - 1] / n;
        let variance = n * k * (big_n - k) * (big_n - n) / (big_n * big_n * (big_n - 1.0));
        if counts[num - 1] > selec * sample_rows + 2.0 * variance.max(0.0).sqrt() + 0.5 {
            break;
        }
        num -= 1;
        if num == 0 {
            break;
        }
        sum_others -= counts[num - 1];
    }
    num
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(v: &[Option<i32>]) -> Vec<Datum> {
        v.iter().map(|x| x.map_or(Datum::Null, Datum::Int4)).collect()
    }

    #[test]
    fn unique_column_is_negative_one_times_nonnull_fraction() {
        let mut v: Vec<Option<i32>> = (0..90).map(Some).collect();
        v.extend(std::iter::repeat_n(None, 10));
        let d = ints(&v);
        let refs: Vec<&Datum> = d.iter().collect();
        let s = column_stats(&refs, &DataType::Int4, 100.0);
        assert!((s.null_frac - 0.1).abs() < 1e-9);
        assert!((s.n_distinct + 0.9).abs() < 1e-9);
        assert!(s.mcv.is_empty());
        assert_eq!(s.histogram.len(), 90);
        assert_eq!(s.histogram[0], Datum::Int4(0));
        assert_eq!(s.histogram[89], Datum::Int4(89));
        assert_eq!(s.avg_width, 4);
    }

    #[test]
    fn few_repeated_values_are_all_mcvs() {
        let d: Vec<Datum> = (0..1000).map(|i| Datum::text(["a", "bb", "ccc"][i % 3])).collect();
        let refs: Vec<&Datum> = d.iter().collect();
        let s = column_stats(&refs, &DataType::Text, 1000.0);
        assert_eq!(s.n_distinct, 3.0);
        assert_eq!(s.mcv.len(), 3);
        assert_eq!(s.mcv[0].0, Datum::text("a"));
        assert!((s.mcv[0].1 - 334.0 / 1000.0).abs() < 1e-9);
        assert!(s.histogram.is_empty());
        // (334*2 + 333*3 + 333*4) / 1000 bytes
        assert_eq!(s.avg_width, 3);
    }

    #[test]
    fn haas_stokes_when_sampled() {
        // 30000 sampled of 1e6 rows: 10000 values seen 2 times, 10000 seen once.
        let mut d = Vec::new();
        for i in 0..10000 {
            d.push(Datum::Int8(i));
            d.push(Datum::Int8(i));
        }
        for i in 10000..20000 {
            d.push(Datum::Int8(i));
        }
        let refs: Vec<&Datum> = d.iter().collect();
        let s = column_stats(&refs, &DataType::Int8, 1_000_000.0);
        // n=30000, d=20000, f1=10000, N=1e6: 6e8 / (20000 + 300) = 29556.65 -> 29557
        assert_eq!(s.n_distinct, 29557.0);
        // Every value is about as common as any other: no MCVs.
        assert!(s.mcv.is_empty());
        assert_eq!(s.histogram.len(), 101);
        assert_eq!(s.histogram[0], Datum::Int8(0));
        assert_eq!(s.histogram[100], Datum::Int8(19999));
    }

    #[test]
    fn many_distinct_values_become_a_negative_fraction() {
        let d: Vec<Datum> = (0..1000).map(|i| Datum::Int4(i / 2)).collect();
        let refs: Vec<&Datum> = d.iter().collect();
        let s = column_stats(&refs, &DataType::Int4, 1000.0);
        // 500 distinct, each twice, whole table sampled: 500 > 10% of 1000.
        assert_eq!(s.n_distinct, -0.5);
        assert_eq!(s.mcv.len(), 100);
    }

    #[test]
    fn skewed_values_keep_the_common_ones() {
        // 1000 rows sampled of 100000: value 0 in half the rows, the rest unique-ish pairs.
        let mut d: Vec<Datum> = std::iter::repeat_n(Datum::Int4(0), 500).collect();
        d.extend((1..=250).flat_map(|i| [Datum::Int4(i), Datum::Int4(i)]));
        let refs: Vec<&Datum> = d.iter().collect();
        let s = column_stats(&refs, &DataType::Int4, 100_000.0);
        assert_eq!(s.mcv[0].0, Datum::Int4(0));
        assert!((s.mcv[0].1 - 0.5).abs() < 1e-9);
        assert_eq!(s.mcv.len(), 1);
        assert_eq!(s.histogram.len(), 101);
    }

    #[test]
    fn all_null_column() {
        let d = ints(&[None, None]);
        let refs: Vec<&Datum> = d.iter().collect();
        let s = column_stats(&refs, &DataType::Int4, 2.0);
        assert_eq!((s.null_frac, s.n_distinct, s.avg_width), (1.0, 0.0, 0));
    }
}
