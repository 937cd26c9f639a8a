//! DISTINCT over whole rows (NULLs equal). Hashed: a `KeyTable` of the rows seen, each new row
//! passed on at once (streaming). Sorted: the input has duplicates adjacent, so a row is passed
//! on when it differs from the previous one.

use fdw_api::{FdwResult, Row};

use super::context::Cx;
use super::keys::{eq_keys, row_bytes, KeyKind, KeyTable, MemTracker};
use super::{BoxOp, Operator};

pub(crate) struct DistinctOp {
    input: BoxOp,
    sorted: bool,
    kinds: Vec<KeyKind>,
    seen: KeyTable,
    prev: Option<Row>,
    mem: MemTracker,
    buf: Vec<Row>,
}

impl DistinctOp {
    pub fn new(input: BoxOp, sorted: bool, kinds: Vec<KeyKind>) -> Self {
        DistinctOp {
            input,
            sorted,
            seen: KeyTable::new(kinds.clone()),
            kinds,
            prev: None,
            mem: MemTracker::unbounded("hash table of DISTINCT"),
            buf: Vec::new(),
        }
    }

    fn reset(&mut self, cx: &Cx<'_>) {
        self.seen.clear();
        self.prev = None;
        self.mem = MemTracker::new("hash table of DISTINCT", cx.memory());
    }
}

impl Operator for DistinctOp {
    fn open(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset(cx);
        self.input.open(cx)
    }

    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        let start = out.len();
        while out.len() == start {
            self.buf.clear();
            self.input.next_batch(cx, &mut self.buf, max)?;
            if self.buf.is_empty() {
                return Ok(());
            }
            for row in self.buf.drain(..) {
                if self.sorted {
                    if self.prev.as_ref().is_some_and(|p| eq_keys(p, &row, &self.kinds)) {
                        continue;
                    }
                    self.prev = Some(row.clone());
                    out.push(row);
                } else {
                    let (_, new) = self.seen.find_or_insert(&row)?;
                    if new {
                        self.mem.add(row_bytes(&row) + 12)?;
                        out.push(row);
                    }
                }
            }
        }
        Ok(())
    }

    fn rescan(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.reset(cx);
        self.input.rescan(cx)
    }

    fn close(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.seen.clear();
        self.prev = None;
        self.input.close(cx)
    }
}
