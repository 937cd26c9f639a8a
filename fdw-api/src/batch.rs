//! Rows cross the wrapper boundary in batches, so a scan costs one virtual call per batch,
//! not per row or per value.

use crate::types::Row;

/// The number of rows a scan should aim to put into one batch.
pub const BATCH_SIZE: usize = 1024;

/// A batch of rows, all with the same shape (the columns the scan was asked for).
#[derive(Clone, Debug, Default)]
pub struct RowBatch {
    pub rows: Vec<Row>,
}

impl RowBatch {
    pub fn new() -> Self {
        RowBatch { rows: Vec::with_capacity(BATCH_SIZE) }
    }
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    pub fn clear(&mut self) {
        self.rows.clear();
    }
    pub fn push(&mut self, row: Row) {
        self.rows.push(row);
    }
    pub fn is_full(&self) -> bool {
        self.rows.len() >= BATCH_SIZE
    }
}
