//! Materialize: keeps the rows it has passed on so a rescan replays them instead of running
//! the input again (a nested loop's inner side). Rows are cached as they are read, so a
//! rescan after a partial read replays the cache and then continues with the input.
//!
//! If the input reads a parameter written from outside (it would change between rescans),
//! a rescan is passed down instead and the cache rebuilt.

use fdw_api::{FdwResult, Row};

use super::context::Cx;
use super::keys::{row_bytes, MemTracker};
use super::{BoxOp, Operator};

pub(crate) struct MaterializeOp {
    input: BoxOp,
    input_dynamic: bool,
    cache: Vec<Row>,
    pos: usize,
    input_done: bool,
    mem: MemTracker,
}

impl MaterializeOp {
    pub fn new(input: BoxOp, input_dynamic: bool) -> Self {
        MaterializeOp {
            input,
            input_dynamic,
            cache: Vec::new(),
            pos: 0,
            input_done: false,
            mem: MemTracker::unbounded("materialized rows"),
        }
    }

    fn reset(&mut self, cx: &Cx<'_>) {
        self.cache.clear();
        self.pos = 0;
        self.input_done = false;
        self.mem = MemTracker::new("materialized rows", cx.memory());
    }
}

impl Operator for MaterializeOp {
    fn open(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset(cx);
        self.input.open(cx)
    }

    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        if self.pos >= self.cache.len() && !self.input_done {
            let before = self.cache.len();
            self.input.next_batch(cx, &mut self.cache, max)?;
            if self.cache.len() == before {
                self.input_done = true;
            }
            for r in &self.cache[before..] {
                self.mem.add(row_bytes(r))?;
            }
        }
        let end = self.cache.len().min(self.pos + max);
        out.extend_from_slice(&self.cache[self.pos..end]);
        self.pos = end;
        Ok(())
    }

    fn rescan(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        if self.input_dynamic {
            self.reset(cx);
            return self.input.rescan(cx);
        }
        self.pos = 0;
        Ok(())
    }

    fn close(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.cache = Vec::new();
        self.input.close(cx)
    }
}
