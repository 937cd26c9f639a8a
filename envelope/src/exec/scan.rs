//! Foreign scan: drives a wrapper's `ForeignScan` (begin at open, `next_batch` with the current
//! parameter values, `rescan` with new ones, `end` at close) and applies the local filter for
//! the quals the wrapper does not enforce exactly.
//!
//! The wrapper's batch is handed on without copying rows when the caller wants all of it.

use std::sync::Arc;

use fdw_api::{FdwResult, ForeignScan, KeySet, Row, RowBatch};

use super::context::{CExpr, Cx};
use super::Operator;
use crate::plan::physical::ScanNode;

pub(crate) struct ScanOp {
    node: ScanNode,
    filter: Option<CExpr>,
    scan: Option<Box<dyn ForeignScan>>,
    batch: RowBatch,
    pos: usize,
    /// The wrapper said its last batch was the last.
    exhausted: bool,
}

impl ScanOp {
    pub fn new(node: &ScanNode) -> FdwResult<Self> {
        Ok(ScanOp {
            node: node.clone(),
            filter: CExpr::compile_opt(node.filter.as_ref())?,
            scan: None,
            batch: RowBatch::default(),
            pos: 0,
            exhausted: false,
        })
    }

    /// Refills `batch` from the wrapper and filters it in place; false once nothing is left.
    fn refill(&mut self, cx: &mut Cx<'_>) -> FdwResult<bool> {
        loop {
            self.batch.clear();
            self.pos = 0;
            if self.exhausted {
                return Ok(false);
            }
            let Some(scan) = self.scan.as_mut() else { return Ok(false) };
            let more = scan.next_batch(&mut self.batch, cx.params)?;
            if !more {
                self.exhausted = true;
            }
            if let Some(f) = &self.filter {
                let rows = &mut self.batch.rows;
                let mut kept = 0;
                for i in 0..rows.len() {
                    if cx.eval_pred(f, &rows[i])? {
                        rows.swap(kept, i);
                        kept += 1;
                    }
                }
                rows.truncate(kept);
            }
            if !self.batch.is_empty() {
                return Ok(true);
            }
        }
    }
}

impl Operator for ScanOp {
    fn open(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.batch.clear();
        self.pos = 0;
        self.exhausted = false;
        if self.scan.is_none() {
            self.scan = Some(self.node.wrapper.begin_scan(&self.node.request, cx.env.exec)?);
        }
        Ok(())
    }

    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        if self.pos >= self.batch.len() && !self.refill(cx)? {
            return Ok(());
        }
        let rows = &mut self.batch.rows;
        if self.pos == 0 && out.is_empty() && rows.len() <= max {
            // Hand the whole batch over; the caller's empty vector becomes our next buffer.
            std::mem::swap(out, rows);
            return Ok(());
        }
        let end = rows.len().min(self.pos + max);
        out.extend(rows[self.pos..end].iter_mut().map(std::mem::take));
        self.pos = end;
        Ok(())
    }

    fn rescan(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.batch.clear();
        self.pos = 0;
        self.exhausted = false;
        match self.scan.as_mut() {
            Some(scan) => scan.rescan(cx.params),
            None => self.open(cx),
        }
    }

    fn push_key_filter(&mut self, col: usize, keys: &Arc<KeySet>) -> bool {
        // Output column `col` is table column `columns[col]` (a row id, if any, comes after).
        let (Some(scan), Some(&column)) = (self.scan.as_mut(), self.node.request.columns.get(col)) else {
            return false;
        };
        scan.set_key_filter(column, keys.clone())
    }

    fn close(&mut self, _cx: &mut Cx<'_>) -> FdwResult<()> {
        self.batch.clear();
        match self.scan.take() {
            Some(mut scan) => scan.end(),
            None => Ok(()),
        }
    }
}
