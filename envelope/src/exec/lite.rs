//! The lite execution path, the envelope's half: recognizing a planned statement that a
//! wrapper may run without the executor, and offering it once, when a prepared statement is
//! planned (`LiteRoutine::prepare_lite`).
//!
//! Eligible shapes, all on one foreign table and without sub-plans:
//! - `SELECT`: a scan, or plain columns of a scan;
//! - `UPDATE`/`DELETE` without RETURNING: a scan with row ids, under the projection that
//!   computes the new row (UPDATE);
//! - `INSERT` of one `VALUES` row without RETURNING.
//!
//! The scan must be exact: no local filter, no parameterized path (those need the executor's
//! filter and nested loop). Anything else, or a wrapper that declines, runs on the executor.
//! The result rows are the executor's: the scan's rows, or one row with the affected count.

use std::sync::Arc;

use fdw_api::{Datum, Expr, FdwResult, LiteOp, LitePlan, LiteQuery, ModifyKind, Row, ScanRequest};

use crate::plan::physical::{Node, PhysicalQuery, Plan, ScanNode};

/// A prepared statement's plan on its wrapper's lite path.
pub(crate) struct Lite {
    plan: Arc<dyn LitePlan>,
    /// `Some` for INSERT/UPDATE/DELETE: the output is the affected count.
    modify: Option<ModifyKind>,
}

impl Lite {
    /// The lite plan of `q`, if it has an eligible shape and its wrapper takes it.
    pub(crate) fn prepare(q: &PhysicalQuery) -> FdwResult<Option<Lite>> {
        if !q.subplans.is_empty() {
            return Ok(None);
        }
        let Some((wrapper, query)) = lite_query(&q.root) else { return Ok(None) };
        let Some(routine) = wrapper.lite_routine() else { return Ok(None) };
        let modify = match &q.root.node {
            Node::Modify(m) => Some(m.kind),
            _ => None,
        };
        Ok(routine.prepare_lite(&query)?.map(|plan| Lite { plan, modify }))
    }

    /// Runs the statement: the rows the executor would return.
    pub(crate) fn execute(&self, params: &[Datum], ctx: &fdw_api::ExecContext) -> FdwResult<Vec<Row>> {
        let mut rows = Vec::new();
        let n = self.plan.execute(params, ctx, &mut rows)?;
        if self.modify.is_some() {
            rows = vec![vec![Datum::Int8(n as i64)]];
        }
        Ok(rows)
    }
}

/// The scan of `p` if it is one the wrapper enforces whole.
fn exact_scan(p: &Plan) -> Option<&ScanNode> {
    match &p.node {
        Node::ForeignScan(s) if s.filter.is_none() && s.request.param_quals.is_empty() => Some(s),
        _ => None,
    }
}

fn lite_query(root: &Plan) -> Option<(Arc<dyn fdw_api::FdwRoutine>, LiteQuery)> {
    let (wrapper, table, op) = match &root.node {
        Node::ForeignScan(_) => {
            let s = exact_scan(root).filter(|s| !s.request.want_row_id)?;
            (&s.wrapper, &s.request.table, LiteOp::Select { scan: s.request.clone() })
        }
        Node::Project { input, exprs } => {
            let s = exact_scan(input).filter(|s| !s.request.want_row_id)?;
            (&s.wrapper, &s.request.table, LiteOp::Select { scan: projected(&s.request, exprs)? })
        }
        Node::Modify(m) if m.direct.is_none() && m.returning.is_none() => {
            let op = match m.kind {
                ModifyKind::Insert => LiteOp::Insert { row: values_row(&m.input)? },
                ModifyKind::Delete => {
                    let s = exact_scan(&m.input).filter(|s| s.request.want_row_id)?;
                    LiteOp::Delete { scan: s.request.clone() }
                }
                ModifyKind::Update => {
                    let Node::Project { input, exprs } = &m.input.node else { return None };
                    let s = exact_scan(input).filter(|s| s.request.want_row_id)?;
                    // The projection is the new row then the row id, passed through.
                    let (last, new_row) = exprs.split_last()?;
                    let row_id_col = s.request.columns.len();
                    if !matches!(last, Expr::Column { index, .. } if *index == row_id_col)
                        || new_row.len() != m.table.columns.len()
                    {
                        return None;
                    }
                    LiteOp::Update { scan: s.request.clone(), new_row: new_row.to_vec() }
                }
            };
            (&m.wrapper, &m.table, op)
        }
        _ => return None,
    };
    Some((wrapper.clone(), LiteQuery { table: table.clone(), op }))
}

/// The scan narrowed to the columns `exprs` pick, if they are plain columns of its table.
fn projected(request: &ScanRequest, exprs: &[Expr]) -> Option<ScanRequest> {
    let columns = exprs
        .iter()
        .map(|e| match e {
            Expr::Column { index, .. } => request.columns.get(*index).copied(),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some(ScanRequest { columns, ..request.clone() })
}

/// The one row of a `VALUES` input (possibly under a projection of its columns).
fn values_row(p: &Plan) -> Option<Vec<Expr>> {
    match &p.node {
        Node::Values { rows } if rows.len() == 1 => {
            let row = &rows[0];
            row.iter().all(|e| e.columns().is_empty()).then(|| row.clone())
        }
        Node::Project { input, exprs } => {
            let row = values_row(input)?;
            let subst = |e: &Expr| {
                e.clone().transform(&mut |x| match x {
                    Expr::Column { index, .. } if index < row.len() => row[index].clone(),
                    x => x,
                })
            };
            let out: Vec<Expr> = exprs.iter().map(subst).collect();
            out.iter().all(|e| e.columns().is_empty()).then_some(out)
        }
        _ => None,
    }
}
