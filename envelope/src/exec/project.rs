//! Project: computes the output columns from each input row. Plain column references are
//! moved out of the input row rather than cloned when each is used once.

use fdw_api::{FdwResult, Row};

use super::context::{CExpr, Cx};
use super::{BoxOp, Operator};

pub(crate) struct ProjectOp {
    input: BoxOp,
    exprs: Vec<CExpr>,
    /// Every expression is a column and no column is used twice: rows are rearranged by
    /// moving values.
    moves_only: bool,
    buf: Vec<Row>,
}

impl ProjectOp {
    pub fn new(input: BoxOp, exprs: Vec<CExpr>) -> Self {
        let cols: Vec<usize> = exprs.iter().filter_map(CExpr::as_column).collect();
        let mut distinct = cols.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let moves_only = cols.len() == exprs.len() && distinct.len() == cols.len();
        ProjectOp { input, exprs, moves_only, buf: Vec::new() }
    }
}

impl Operator for ProjectOp {
    fn open(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.input.open(cx)
    }

    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        self.buf.clear();
        self.input.next_batch(cx, &mut self.buf, max)?;
        out.reserve(self.buf.len());
        for mut row in self.buf.drain(..) {
            let mut new = Vec::with_capacity(self.exprs.len());
            if self.moves_only {
                for e in &self.exprs {
                    let i = e.as_column().unwrap_or(usize::MAX);
                    match row.get_mut(i) {
                        Some(d) => new.push(std::mem::replace(d, fdw_api::Datum::Null)),
                        None => new.push(cx.eval(e, &row)?),
                    }
                }
            } else {
                for e in &self.exprs {
                    new.push(cx.eval(e, &row)?);
                }
            }
            out.push(new);
        }
        Ok(())
    }

    fn rescan(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.input.rescan(cx)
    }

    fn close(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.input.close(cx)
    }
}
