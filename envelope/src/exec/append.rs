//! Append: the rows of each input in turn (UNION ALL).

use fdw_api::{FdwResult, Row};

use super::context::Cx;
use super::{BoxOp, Operator};

pub(crate) struct AppendOp {
    inputs: Vec<BoxOp>,
    current: usize,
}

impl AppendOp {
    pub fn new(inputs: Vec<BoxOp>) -> Self {
        AppendOp { inputs, current: 0 }
    }
}

impl Operator for AppendOp {
    fn open(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.current = 0;
        self.inputs.iter_mut().try_for_each(|i| i.open(cx))
    }

    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        while let Some(input) = self.inputs.get_mut(self.current) {
            let before = out.len();
            input.next_batch(cx, out, max)?;
            if out.len() > before {
                return Ok(());
            }
            self.current += 1;
        }
        Ok(())
    }

    fn rescan(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.current = 0;
        self.inputs.iter_mut().try_for_each(|i| i.rescan(cx))
    }

    fn close(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        let mut first = Ok(());
        for i in &mut self.inputs {
            let r = i.close(cx);
            if first.is_ok() {
                first = r;
            }
        }
        first
    }
}
