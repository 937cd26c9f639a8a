//! LIMIT/OFFSET. The counts are evaluated when the node starts (open and each rescan), as
//! PostgreSQL's `recompute_limits` does: a NULL limit means no limit, a NULL offset means 0,
//! negative values are errors (2201W, 2201X). The input is asked for no more rows than the
//! limit still allows.

use fdw_api::{Datum, FdwError, FdwResult, Row, SqlState, BATCH_SIZE};

use super::context::{CExpr, Cx};
use super::{BoxOp, Operator};

pub(crate) struct LimitOp {
    input: BoxOp,
    limit: Option<CExpr>,
    offset: Option<CExpr>,
    remaining: u64,
    to_skip: u64,
    /// Rows read from the input and not yet skipped or passed on.
    buf: Vec<Row>,
    pos: usize,
}

/// The integer value of a LIMIT/OFFSET count (`None` for NULL).
fn count_value(d: Datum) -> FdwResult<Option<i64>> {
    Ok(match d {
        Datum::Null => None,
        Datum::Numeric(n) => Some(
            n.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
                .try_into()
                .map_err(|_| FdwError::new(SqlState::NUMERIC_VALUE_OUT_OF_RANGE, "bigint out of range"))?,
        ),
        Datum::Float8(f) => Some(f.round_ties_even() as i64),
        Datum::Float4(f) => Some((f as f64).round_ties_even() as i64),
        d => Some(d.as_i64().ok_or_else(|| FdwError::internal("LIMIT/OFFSET count is not a number"))?),
    })
}

impl LimitOp {
    pub fn new(input: BoxOp, limit: Option<CExpr>, offset: Option<CExpr>) -> Self {
        LimitOp { input, limit, offset, remaining: u64::MAX, to_skip: 0, buf: Vec::new(), pos: 0 }
    }

    fn compute(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.buf.clear();
        self.pos = 0;
        self.to_skip = 0;
        if let Some(e) = &self.offset {
            if let Some(v) = count_value(cx.eval(e, &[])?)? {
                if v < 0 {
                    return Err(FdwError::new(SqlState("2201X"), "OFFSET must not be negative"));
                }
                self.to_skip = v as u64;
            }
        }
        self.remaining = u64::MAX;
        if let Some(e) = &self.limit {
            if let Some(v) = count_value(cx.eval(e, &[])?)? {
                if v < 0 {
                    return Err(FdwError::new(SqlState("2201W"), "LIMIT must not be negative"));
                }
                self.remaining = v as u64;
            }
        }
        Ok(())
    }
}

fn cap(n: u64, max: usize) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX).min(max)
}

impl Operator for LimitOp {
    fn open(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.compute(cx)?;
        self.input.open(cx)
    }

    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        loop {
            if self.remaining == 0 {
                return Ok(());
            }
            let avail = self.buf.len() - self.pos;
            if avail > 0 {
                if self.to_skip > 0 {
                    let skip = cap(self.to_skip, avail);
                    self.pos += skip;
                    self.to_skip -= skip as u64;
                    continue;
                }
                let k = cap(self.remaining, max).min(avail);
                out.extend(self.buf[self.pos..self.pos + k].iter_mut().map(std::mem::take));
                self.pos += k;
                self.remaining -= k as u64;
                return Ok(());
            }
            self.buf.clear();
            self.pos = 0;
            let want = if self.to_skip > 0 { cap(self.to_skip, BATCH_SIZE) } else { cap(self.remaining, max) };
            self.input.next_batch(cx, &mut self.buf, want)?;
            if self.buf.is_empty() {
                self.remaining = 0;
                return Ok(());
            }
        }
    }

    fn rescan(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.compute(cx)?;
        self.input.rescan(cx)
    }

    fn close(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.input.close(cx)
    }
}
