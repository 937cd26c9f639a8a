//! The lite execution path (openGauss MOT's "lite executor"): a prepared statement that is
//! one scan of a MOT table (SELECT, UPDATE, DELETE) or a one-row INSERT runs straight against
//! the engine, without the envelope building, opening and closing operators at every
//! execution. What the generic path redoes each time (compiling the scan's residual quals and
//! the SET or VALUES expressions, copying the scan request) is done once, at prepare.
//!
//! The work itself is the generic path's: the same scan (`MotScan`, through the request's
//! `ScanTemplate`) and the same writes (`MotModify`), so both paths give the same rows, the
//! same read and scan sets, and the same errors. A plan holds the table's descriptor, not the
//! engine's table: each execution finds the table as it is then (a TRUNCATE or VACUUM swaps
//! its storage; DDL changes the catalog, which makes the envelope plan the statement anew).

use std::sync::Arc;

use fdw_api::eval::{EvalContext, Program};
use fdw_api::{
    Datum, ExecContext, FdwResult, ForeignModify, ForeignScan, LiteOp, LitePlan, LiteQuery, LiteRoutine, Row, RowBatch,
    TableDesc,
};

use crate::engine::MotEngine;
use crate::fdw::{MotFdw, MotModify, ScanTemplate};
use crate::scan::MotScan;
use crate::table::TableState;

/// A prepared lite statement.
struct MotLite {
    engine: Arc<MotEngine>,
    table: Arc<TableDesc>,
    op: Op,
}

enum Op {
    Select(ScanTemplate),
    /// The scan (with row ids) and the new row's expressions over a scanned row.
    Update(ScanTemplate, Vec<Program>),
    Delete(ScanTemplate),
    Insert(Vec<Program>),
}

impl LiteRoutine for MotFdw {
    fn prepare_lite(&self, query: &LiteQuery) -> FdwResult<Option<Arc<dyn LitePlan>>> {
        let compile = |exprs: &[fdw_api::Expr]| exprs.iter().map(Program::compile).collect::<FdwResult<Vec<_>>>();
        let op = match &query.op {
            LiteOp::Select { scan } => Op::Select(ScanTemplate::new(scan)?),
            LiteOp::Update { scan, new_row } if scan.want_row_id => {
                Op::Update(ScanTemplate::new(scan)?, compile(new_row)?)
            }
            LiteOp::Delete { scan } if scan.want_row_id => Op::Delete(ScanTemplate::new(scan)?),
            LiteOp::Insert { row } => Op::Insert(compile(row)?),
            // A write without row ids has nothing to address rows by.
            LiteOp::Update { .. } | LiteOp::Delete { .. } => return Ok(None),
        };
        Ok(Some(Arc::new(MotLite { engine: self.engine().clone(), table: query.table.clone(), op })))
    }
}

impl MotLite {
    /// Runs the scan of `tpl` to its end, handing each row to `f` together with what `with`
    /// made from the scan and its table state (a writer of the scanned table, or nothing).
    fn scan<W>(
        &self,
        tpl: &ScanTemplate,
        params: &[Datum],
        ctx: &ExecContext,
        with: impl FnOnce(&MotScan, Arc<TableState>) -> W,
        mut f: impl FnMut(&mut W, Row) -> FdwResult<()>,
    ) -> FdwResult<()> {
        let (mut scan, state) = tpl.open(&self.engine, ctx)?;
        let mut w = with(&scan, state);
        let mut batch = RowBatch::default();
        loop {
            let more = scan.next_batch(&mut batch, params)?;
            for row in batch.rows.drain(..) {
                f(&mut w, row)?;
            }
            if !more {
                return scan.end();
            }
        }
    }
}

/// Evaluates `exprs` over `row`: the row a write stores.
fn eval_row(exprs: &[Program], row: &[Datum], params: &[Datum]) -> FdwResult<Row> {
    let mut cx = EvalContext { params, subplans: None };
    exprs.iter().map(|p| p.eval(row, &mut cx)).collect()
}

fn row_id(row: &[Datum]) -> FdwResult<&Datum> {
    row.last().ok_or_else(|| fdw_api::FdwError::internal("mot: a lite write scanned a row without its row id"))
}

impl LitePlan for MotLite {
    fn execute(&self, params: &[Datum], ctx: &ExecContext, out: &mut Vec<Row>) -> FdwResult<u64> {
        let mut n = 0u64;
        match &self.op {
            Op::Select(tpl) => self.scan(
                tpl,
                params,
                ctx,
                |_, _| (),
                |_, row| {
                    out.push(row);
                    n += 1;
                    Ok(())
                },
            )?,
            Op::Update(tpl, new_row) => self.scan(tpl, params, ctx, MotModify::for_scan, |m, row| {
                let new = eval_row(new_row, &row, params)?;
                m.update(row_id(&row)?, new)?;
                n += 1;
                Ok(())
            })?,
            Op::Delete(tpl) => self.scan(tpl, params, ctx, MotModify::for_scan, |m, row| {
                m.delete(row_id(&row)?)?;
                n += 1;
                Ok(())
            })?,
            Op::Insert(exprs) => {
                let row = eval_row(exprs, &[], params)?;
                MotModify::new(&self.engine, &self.table, ctx)?.insert(vec![row])?;
                n = 1;
            }
        }
        Ok(n)
    }
}
