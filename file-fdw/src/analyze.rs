//! ANALYZE: a uniform sample of rows with every column parsed, and the exact row count.
//!
//! Every record is read and converted, as PostgreSQL's `file_acquire_sample_rows` does, so a
//! file with a bad value fails ANALYZE with the same error and context as a scan. The sample
//! is a reservoir (Algorithm R): after `k` rows each of them is in the sample with the same
//! probability `target / k`. The random generator is a small SplitMix64 seeded from the
//! table id, so that a sample is reproducible for a given file.

use std::sync::Arc;

use fdw_api::{AnalyzeSample, FdwResult, Row, TableDesc, BATCH_SIZE};

use crate::scan::ScanPlan;

/// SplitMix64: tiny, fast and good enough for choosing sample slots.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0); the modulo bias is negligible for n far below 2^64.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Reads the whole file and returns up to `target_rows` rows sampled uniformly.
pub fn sample(table: &Arc<TableDesc>, target_rows: usize) -> FdwResult<AnalyzeSample> {
    let columns: Vec<usize> = (0..table.columns.len()).collect();
    let plan = ScanPlan::build(table, &columns, &[], false)?;
    let mut reader = plan.reader(0, None)?;
    let mut rng = SplitMix(0x5EED ^ table.id);
    let mut sample: Vec<Row> = Vec::with_capacity(target_rows.min(1 << 16));
    let mut seen: u64 = 0;
    let mut batch = Vec::with_capacity(BATCH_SIZE);
    let mut scratch = Vec::new();
    loop {
        batch.clear();
        let more = plan
            .fill(&mut reader, true, &[], &mut batch, BATCH_SIZE, &mut scratch)
            .map_err(|e| e.into_fdw(&plan.table_name, 0))?;
        for row in batch.drain(..) {
            seen += 1;
            if sample.len() < target_rows {
                sample.push(row);
            } else if target_rows > 0 {
                let slot = rng.below(seen) as usize;
                if slot < target_rows {
                    sample[slot] = row;
                }
            }
        }
        if !more {
            break;
        }
    }
    Ok(AnalyzeSample { rows: sample, total_rows: seen as f64 })
}

#[cfg(test)]
mod tests {
    use super::SplitMix;

    #[test]
    fn rng_spreads() {
        let mut r = SplitMix(1);
        let mut hits = [0u32; 4];
        for _ in 0..4000 {
            hits[r.below(4) as usize] += 1;
        }
        assert!(hits.iter().all(|&h| (800..1200).contains(&h)), "{hits:?}");
    }
}
