//! Timing and reporting shared by the benchmarks.

use std::time::{Duration, Instant};

use crate::format::{write_aligned, Align};

/// Runs `f` once to warm up, then `runs` times, returning the median duration and the result
/// of the last run (so callers can check it).
pub fn median_of<T>(runs: usize, mut f: impl FnMut() -> anyhow::Result<T>) -> anyhow::Result<(Duration, T)> {
    let mut last = f()?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        last = f()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok((times[times.len() / 2], last))
}

/// One line of a benchmark report.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub query: String,
    pub ours: Duration,
    pub postgres: Duration,
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// The report table, in psql's aligned format: query | ours ms | postgres ms | ratio (pg/ours).
pub fn report_table(rows: &[Measurement]) -> String {
    let headers: Vec<String> =
        ["query", "ours ms", "postgres ms", "ratio (pg/ours)"].iter().map(|s| s.to_string()).collect();
    let aligns = [Align::Left, Align::Right, Align::Right, Align::Right];
    let cells: Vec<Vec<Option<String>>> = rows
        .iter()
        .map(|m| {
            let ratio = m.postgres.as_secs_f64() / m.ours.as_secs_f64().max(1e-9);
            vec![Some(m.query.clone()), Some(ms(m.ours)), Some(ms(m.postgres)), Some(format!("{ratio:.2}"))]
        })
        .collect();
    let mut out = String::new();
    write_aligned(&mut out, &headers, &aligns, &cells);
    out
}

/// Peak resident set size of this process in kB (`VmHWM` of /proc/self/status), if known.
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_takes_the_middle_run() {
        let mut n = 0;
        let (_, last) = median_of(5, || {
            n += 1;
            Ok(n)
        })
        .unwrap();
        assert_eq!(last, 6); // one warm-up and five timed runs
    }

    #[test]
    fn table_has_ratio() {
        let t = report_table(&[Measurement {
            query: "q".into(),
            ours: Duration::from_millis(10),
            postgres: Duration::from_millis(25),
        }]);
        assert!(t.ends_with("|            2.50\n(1 row)\n\n"), "{t}");
        assert!(peak_rss_kb().unwrap_or(1) > 0);
    }
}
