//! Literal rows (`VALUES`, and the single empty row of a `SELECT` without FROM). The
//! expressions may use parameters and sub-plans, so they are evaluated on each scan.

use fdw_api::{Expr, FdwResult, Row};

use super::context::{CExpr, Cx};
use super::Operator;

pub(crate) struct ValuesOp {
    rows: Vec<Vec<CExpr>>,
    pos: usize,
}

impl ValuesOp {
    pub fn new(rows: &[Vec<Expr>]) -> FdwResult<Self> {
        Ok(ValuesOp { rows: rows.iter().map(|r| CExpr::compile_all(r)).collect::<FdwResult<_>>()?, pos: 0 })
    }
}

impl Operator for ValuesOp {
    fn open(&mut self, _cx: &mut Cx<'_>) -> FdwResult<()> {
        self.pos = 0;
        Ok(())
    }

    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        let end = self.rows.len().min(self.pos + max);
        for exprs in &self.rows[self.pos..end] {
            let mut row = Vec::with_capacity(exprs.len());
            for e in exprs {
                row.push(cx.eval(e, &[])?);
            }
            out.push(row);
        }
        self.pos = end;
        Ok(())
    }

    fn rescan(&mut self, _cx: &mut Cx<'_>) -> FdwResult<()> {
        self.pos = 0;
        Ok(())
    }

    fn close(&mut self, _cx: &mut Cx<'_>) -> FdwResult<()> {
        Ok(())
    }
}
