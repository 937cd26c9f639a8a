//! EXPLAIN ANALYZE instrumentation: a wrapper around an operator that times its calls and
//! counts loops and rows, as PostgreSQL's `Instrumentation` does.
//!
//! Only built when instrumenting, so a plain execution pays nothing. A loop starts at the
//! first `next_batch` after `open`/`rescan` (a node never pulled shows `loops = 0`, "never
//! executed"); the time spent in `open`/`rescan` is charged to the loop that follows.
//! Simplification: rows move in batches, so "time to the first row" is the time to the first
//! batch.

use std::sync::Arc;
use std::time::Instant;

use fdw_api::{FdwResult, KeySet, Row};

use super::context::Cx;
use super::{BoxOp, Operator};

pub(crate) struct Instrumented {
    pub inner: BoxOp,
    pub id: usize,
    /// Time spent in open/rescan since the last loop, in ms.
    pending_ms: f64,
    /// A loop is in progress (first batch pulled).
    running: bool,
    /// The current loop has produced its first batch.
    first_done: bool,
    loop_ms: f64,
}

impl Instrumented {
    pub fn wrap(inner: BoxOp, id: usize) -> BoxOp {
        Box::new(Instrumented { inner, id, pending_ms: 0.0, running: false, first_done: false, loop_ms: 0.0 })
    }

    fn end_loop(&mut self) {
        self.running = false;
        self.first_done = false;
        self.loop_ms = 0.0;
    }

    fn charge(&mut self, cx: &Cx<'_>, ms: f64, rows: usize, first_batch: bool) {
        if let Some(stats) = &cx.env.stats {
            let mut stats = stats.borrow_mut();
            if let Some(s) = stats.get_mut(self.id) {
                s.total_ms += ms;
                s.rows += rows as u64;
                if first_batch {
                    s.startup_ms += self.loop_ms;
                }
            }
        }
    }
}

impl Operator for Instrumented {
    fn open(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        let t = Instant::now();
        let r = self.inner.open(cx);
        self.end_loop();
        self.pending_ms += t.elapsed().as_secs_f64() * 1000.0;
        r
    }

    fn push_key_filter(&mut self, col: usize, keys: &Arc<KeySet>) -> bool {
        self.inner.push_key_filter(col, keys)
    }

    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        let t = Instant::now();
        let before = out.len();
        let r = self.inner.next_batch(cx, out, max);
        let mut ms = t.elapsed().as_secs_f64() * 1000.0;
        if !self.running {
            self.running = true;
            ms += std::mem::take(&mut self.pending_ms);
            if let Some(stats) = &cx.env.stats {
                if let Some(s) = stats.borrow_mut().get_mut(self.id) {
                    s.loops += 1;
                }
            }
        }
        self.loop_ms += ms;
        let first = !self.first_done;
        self.first_done = true;
        self.charge(cx, ms, out.len().saturating_sub(before), first);
        r
    }

    fn rescan(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        let t = Instant::now();
        let r = self.inner.rescan(cx);
        self.end_loop();
        self.pending_ms += t.elapsed().as_secs_f64() * 1000.0;
        r
    }

    fn close(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.inner.close(cx)
    }
}
