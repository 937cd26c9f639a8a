//! `WITH RECURSIVE`: the recursive union and the scan of its work table.
//!
//! The union runs its base term once, then its recursive term round after round. Each round
//! reads, through `WorkTableScan`, exactly the rows the previous round produced (PostgreSQL's
//! working table); a round producing nothing new ends the recursion. With UNION (not ALL) a
//! row already produced is dropped, which is what makes a cyclic graph walk terminate.
//! Rounds are bounded by the memory limit of the rows kept for deduplication and by
//! `MAX_ROUNDS`, which turns a runaway recursion into an error instead of a hang.

use std::cell::RefCell;
use std::rc::Rc;

use fdw_api::{err, FdwResult, Row};

use super::context::Cx;
use super::keys::{row_bytes, KeyKind, KeyTable, MemTracker};
use super::{BoxOp, Operator};

/// Rounds after which a recursion is considered runaway.
const MAX_ROUNDS: usize = 1_000_000;

/// The rows of the previous round, shared by the union and the scans of its recursive term.
#[derive(Clone, Default)]
pub(crate) struct WorkTable(Rc<RefCell<Vec<Row>>>);

pub(crate) struct RecursiveUnionOp {
    base: BoxOp,
    recursive: BoxOp,
    all: bool,
    table: WorkTable,
    seen: KeyTable,
    mem: MemTracker,
    /// Rows produced by the current round: next round's work table.
    next: Vec<Row>,
    in_base: bool,
    rounds: usize,
    done: bool,
}

impl RecursiveUnionOp {
    pub fn new(base: BoxOp, recursive: BoxOp, all: bool, table: WorkTable, kinds: Vec<KeyKind>) -> Self {
        RecursiveUnionOp {
            base,
            recursive,
            all,
            table,
            seen: KeyTable::new(kinds),
            mem: MemTracker::unbounded("recursive union rows"),
            next: Vec::new(),
            in_base: true,
            rounds: 0,
            done: false,
        }
    }

    fn reset(&mut self, cx: &Cx<'_>) {
        self.seen.clear();
        self.mem = MemTracker::new("recursive union rows", cx.memory());
        self.next.clear();
        self.table.0.borrow_mut().clear();
        self.in_base = true;
        self.rounds = 0;
        self.done = false;
    }

    /// Keeps the new rows of `batch` (all of them for UNION ALL), appending them to `out` and
    /// to the next round's work table.
    fn accept(&mut self, batch: Vec<Row>, out: &mut Vec<Row>) -> FdwResult<()> {
        for row in batch {
            if !self.all {
                let (_, fresh) = self.seen.find_or_insert(&row)?;
                if !fresh {
                    continue;
                }
            }
            self.mem.add(row_bytes(&row))?;
            self.next.push(row.clone());
            out.push(row);
        }
        Ok(())
    }
}

impl Operator for RecursiveUnionOp {
    fn open(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset(cx);
        self.base.open(cx)
    }

    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        let start = out.len();
        while !self.done && out.len() == start {
            let mut batch = Vec::new();
            if self.in_base {
                self.base.next_batch(cx, &mut batch, max)?;
            } else {
                self.recursive.next_batch(cx, &mut batch, max)?;
            }
            if !batch.is_empty() {
                self.accept(batch, out)?;
                continue;
            }
            // The current term is exhausted: start the next round, if the last one produced
            // anything.
            if self.next.is_empty() {
                self.done = true;
                break;
            }
            self.rounds += 1;
            if self.rounds > MAX_ROUNDS {
                return Err(err!(PROGRAM_LIMIT_EXCEEDED, "recursive query did not finish after {} rounds", MAX_ROUNDS));
            }
            *self.table.0.borrow_mut() = std::mem::take(&mut self.next);
            if self.in_base {
                self.in_base = false;
                self.recursive.open(cx)?;
            } else {
                self.recursive.rescan(cx)?;
            }
        }
        Ok(())
    }

    fn rescan(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        let was_recursing = !self.in_base;
        self.reset(cx);
        if was_recursing {
            self.recursive.close(cx)?;
        }
        self.base.rescan(cx)
    }

    fn close(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        let r = self.base.close(cx);
        if !self.in_base {
            self.recursive.close(cx)?;
        }
        r
    }
}

/// Reads the work table as it stood when the round began.
pub(crate) struct WorkTableScanOp {
    table: WorkTable,
    rows: Vec<Row>,
    pos: usize,
}

impl WorkTableScanOp {
    pub fn new(table: WorkTable) -> Self {
        WorkTableScanOp { table, rows: Vec::new(), pos: 0 }
    }
}

impl Operator for WorkTableScanOp {
    fn open(&mut self, _cx: &mut Cx<'_>) -> FdwResult<()> {
        self.rows = self.table.0.borrow().clone();
        self.pos = 0;
        Ok(())
    }

    fn next_batch(&mut self, _cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        let end = self.rows.len().min(self.pos + max);
        out.extend(self.rows[self.pos..end].iter().cloned());
        self.pos = end;
        Ok(())
    }

    fn rescan(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.open(cx)
    }

    fn close(&mut self, _cx: &mut Cx<'_>) -> FdwResult<()> {
        self.rows.clear();
        Ok(())
    }
}
