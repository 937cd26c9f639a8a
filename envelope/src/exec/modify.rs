//! INSERT / UPDATE / DELETE on a foreign table through the wrapper's `ModifyRoutine`.
//!
//! Input rows: INSERT, full rows in table column order (sent in batches, as PostgreSQL's
//! batch insert); UPDATE, the new row followed by the row id; DELETE, the row id as the last
//! column, preceded by the old row when RETURNING needs it. Output: the RETURNING rows, each
//! computed over the row as stored (the wrapper's answer), or one row with the affected count
//! as `bigint` when there is no RETURNING.
//!
//! A direct modification (`ModifyNode::direct`, PostgreSQL's PlanDirectModify) has a
//! `DirectModifyOp` as input: one `PushdownRoutine::direct_modify` call whose single output
//! row is the affected count.
//!
//! A wrapper without a modify routine gets PostgreSQL's errors (`cannot insert into foreign
//! table "t"`, 0A000); one whose `is_updatable` leaves the kind out gets `foreign table "t"
//! does not allow inserts`.

use std::sync::Arc;

use fdw_api::{
    Datum, DirectModify, FdwError, FdwResult, FdwRoutine, ForeignModify, ModifyKind, Row, SqlState, TableDesc,
    BATCH_SIZE,
};

use super::context::{CExpr, Cx};
use super::{BoxOp, Operator};
use crate::plan::physical::ModifyNode;

pub(crate) struct ModifyOp {
    node: Target,
    input: BoxOp,
    returning: Option<Vec<CExpr>>,
    results: Vec<Row>,
    pos: usize,
    done: bool,
}

/// What the operator needs of its `ModifyNode` (the node itself holds the input plan, which
/// is not worth copying on every execution of a prepared statement).
struct Target {
    kind: ModifyKind,
    wrapper: Arc<dyn FdwRoutine>,
    table: Arc<TableDesc>,
    /// The input is a `DirectModifyOp`.
    direct: bool,
}

fn not_supported(kind: ModifyKind, table: &str) -> FdwError {
    let msg = match kind {
        ModifyKind::Insert => format!("cannot insert into foreign table \"{table}\""),
        ModifyKind::Update => format!("cannot update foreign table \"{table}\""),
        ModifyKind::Delete => format!("cannot delete from foreign table \"{table}\""),
    };
    FdwError::new(SqlState::FEATURE_NOT_SUPPORTED, msg)
}

fn not_allowed(kind: ModifyKind, table: &str) -> FdwError {
    let what = match kind {
        ModifyKind::Insert => "inserts",
        ModifyKind::Update => "updates",
        ModifyKind::Delete => "deletes",
    };
    FdwError::new(SqlState::FEATURE_NOT_SUPPORTED, format!("foreign table \"{table}\" does not allow {what}"))
}

impl ModifyOp {
    pub fn new(node: &ModifyNode, input: BoxOp) -> FdwResult<Self> {
        let returning = node.returning.as_deref().map(CExpr::compile_all).transpose()?;
        let target = Target {
            kind: node.kind,
            wrapper: node.wrapper.clone(),
            table: node.table.clone(),
            direct: node.direct.is_some(),
        };
        Ok(ModifyOp { node: target, input, returning, results: Vec::new(), pos: 0, done: false })
    }

    fn check(&self) -> FdwResult<()> {
        let table = &self.node.table;
        let routine = self.node.wrapper.modify_routine().ok_or_else(|| not_supported(self.node.kind, &table.name))?;
        if !routine.is_updatable(table).contains(&self.node.kind) {
            return Err(not_allowed(self.node.kind, &table.name));
        }
        Ok(())
    }

    fn emit(&mut self, cx: &mut Cx<'_>, stored: &[Datum]) -> FdwResult<()> {
        if let Some(exprs) = &self.returning {
            let mut row = Vec::with_capacity(exprs.len());
            for e in exprs {
                row.push(cx.eval(e, stored)?);
            }
            self.results.push(row);
        }
        Ok(())
    }

    fn run(&mut self, cx: &mut Cx<'_>, m: &mut dyn ForeignModify) -> FdwResult<u64> {
        let ncols = self.node.table.columns.len();
        let mut count = 0u64;
        let mut batch = Vec::new();
        loop {
            batch.clear();
            self.input.next_batch(cx, &mut batch, BATCH_SIZE)?;
            if batch.is_empty() {
                return Ok(count);
            }
            match self.node.kind {
                ModifyKind::Insert => {
                    count += batch.len() as u64;
                    let stored = m.insert(std::mem::take(&mut batch))?;
                    for row in &stored {
                        self.emit(cx, row)?;
                    }
                }
                ModifyKind::Update => {
                    for mut row in batch.drain(..) {
                        if row.len() <= ncols {
                            return Err(FdwError::internal("UPDATE input row lacks the row id"));
                        }
                        let row_id = row.swap_remove(ncols);
                        row.truncate(ncols);
                        let stored = m.update(&row_id, row)?;
                        count += 1;
                        self.emit(cx, &stored)?;
                    }
                }
                ModifyKind::Delete => {
                    for mut row in batch.drain(..) {
                        let row_id =
                            row.pop().ok_or_else(|| FdwError::internal("DELETE input row lacks the row id"))?;
                        let old = m.delete(&row_id)?;
                        count += 1;
                        if self.returning.is_some() {
                            let old = match old {
                                Some(r) => r,
                                None if row.len() >= ncols => row,
                                None => return Err(FdwError::internal("DELETE RETURNING without the old row")),
                            };
                            self.emit(cx, &old)?;
                        }
                    }
                }
            }
        }
    }
}

impl Operator for ModifyOp {
    fn open(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.check()?;
        self.results.clear();
        self.pos = 0;
        self.done = false;
        self.input.open(cx)
    }

    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, max: usize) -> FdwResult<()> {
        if !self.done && self.node.direct {
            self.done = true;
            // The input is a `DirectModifyOp`: one row, the affected count.
            let mut rows = Vec::new();
            self.input.next_batch(cx, &mut rows, 1)?;
            let count = rows.first().and_then(|r| r.first()).cloned().unwrap_or(Datum::Int8(0));
            self.results.push(vec![count]);
        }
        if !self.done {
            self.done = true;
            let wrapper = self.node.wrapper.clone();
            let routine =
                wrapper.modify_routine().ok_or_else(|| not_supported(self.node.kind, &self.node.table.name))?;
            let mut m = routine.begin_modify(&self.node.table, self.node.kind, cx.env.exec)?;
            let count = match self.run(cx, m.as_mut()) {
                Ok(c) => c,
                Err(e) => {
                    let _ = m.end();
                    return Err(e);
                }
            };
            m.end()?;
            if self.returning.is_none() {
                self.results.push(vec![Datum::Int8(count as i64)]);
            }
        }
        let end = self.results.len().min(self.pos + max);
        out.extend(self.results[self.pos..end].iter_mut().map(std::mem::take));
        self.pos = end;
        Ok(())
    }

    fn rescan(&mut self, _cx: &mut Cx<'_>) -> FdwResult<()> {
        Err(FdwError::internal("a modification cannot be rescanned"))
    }

    fn close(&mut self, cx: &mut Cx<'_>) -> FdwResult<()> {
        self.results = Vec::new();
        self.input.close(cx)
    }
}

/// `Foreign Update`/`Foreign Delete`: the whole UPDATE/DELETE as one call of the wrapper
/// (BeginDirectModify + IterateDirectModify); outputs one row, the affected count.
pub(crate) struct DirectModifyOp {
    wrapper: Arc<dyn FdwRoutine>,
    request: DirectModify,
    done: bool,
}

impl DirectModifyOp {
    pub fn new(wrapper: Arc<dyn FdwRoutine>, request: DirectModify) -> Self {
        DirectModifyOp { wrapper, request, done: false }
    }
}

impl Operator for DirectModifyOp {
    fn open(&mut self, _cx: &mut Cx<'_>) -> FdwResult<()> {
        self.done = false;
        Ok(())
    }

    fn next_batch(&mut self, cx: &mut Cx<'_>, out: &mut Vec<Row>, _max: usize) -> FdwResult<()> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        let table = &self.request.table.name;
        let routine = self.wrapper.pushdown_routine().ok_or_else(|| not_supported(self.request.kind, table))?;
        let n = routine.direct_modify(&self.request, cx.env.exec)?.ok_or_else(|| {
            FdwError::internal(format!("{} declined the direct modification it planned", self.wrapper.name()))
        })?;
        out.push(vec![Datum::Int8(n as i64)]);
        Ok(())
    }

    fn rescan(&mut self, _cx: &mut Cx<'_>) -> FdwResult<()> {
        Err(FdwError::internal("a modification cannot be rescanned"))
    }

    fn close(&mut self, _cx: &mut Cx<'_>) -> FdwResult<()> {
        Ok(())
    }
}
