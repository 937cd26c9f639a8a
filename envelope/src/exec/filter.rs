//! Filter: keeps the input rows for which the predicate is true (NULL counts as false).
//! Rows are filtered in place in the caller's batch: nothing is copied or allocated.

use fdw_api::{FdwResult, Row};

use super::context::{CExpr, Cx};
use super::{BoxOp, Operator};

pub(crate) struct FilterOp {
    input: BoxOp,
    predicate: CExpr,
}

impl FilterOp {
    pub fn new(input: BoxOp, predicate: CExpr) -> Self {
        FilterOp { input, predicate }
    }
}

impl Operator for FilterOp {
    fn open(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.input.open(cx)
    }

    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        let start = out.len();
        loop {
            self.input.next_batch(cx, out, max)?;
            if out.len() == start {
                return Ok(());
            }
            let mut kept = start;
            for i in start..out.len() {
                if cx.eval_pred(&self.predicate, &out[i])? {
                    out.swap(kept, i);
                    kept += 1;
                }
            }
            out.truncate(kept);
            if kept > start {
                return Ok(());
            }
        }
    }

    fn rescan(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.input.rescan(cx)
    }

    fn close(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.input.close(cx)
    }
}
