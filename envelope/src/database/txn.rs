//! Driving wrappers through the transaction lifecycle at the end of a transaction.

use std::sync::Arc;

use fdw_api::{ExecContext, FdwRoutine};

use super::session::TxnState;
use crate::Result;

/// Calls `begin` of each wrapper newly touched by a statement.
pub(super) fn begin_wrappers(ctx: &ExecContext, touched: &[Arc<dyn FdwRoutine>], txn: Option<&TxnState>) -> Result<()> {
    for w in touched {
        let already = txn.is_some_and(|t| t.touched.iter().any(|x| x.name() == w.name()));
        if !already {
            if let Some(tr) = w.transaction_routine() {
                tr.begin(ctx)?;
            }
        }
    }
    Ok(())
}

/// Ends a transaction in every wrapper it touched: pre-commit validation of all of them
/// first (any failure aborts all), then commit; or abort.
pub(super) fn finish_txn(ctx: &ExecContext, touched: &[Arc<dyn FdwRoutine>], commit: bool) -> Result<()> {
    let routines: Vec<_> = touched.iter().filter_map(|w| w.transaction_routine()).collect();
    if commit {
        for r in &routines {
            if let Err(e) = r.pre_commit(ctx) {
                for r in &routines {
                    let _ = r.abort(ctx);
                    let _ = r.end(ctx.xid);
                }
                return Err(e);
            }
        }
        let lsn = ctx.services.current_lsn();
        let mut first_err = None;
        for r in &routines {
            if let Err(e) = r.commit(ctx, lsn) {
                first_err.get_or_insert(e);
            }
            let _ = r.end(ctx.xid);
        }
        if let Some(e) = first_err {
            return Err(e);
        }
    } else {
        for r in &routines {
            let _ = r.abort(ctx);
            let _ = r.end(ctx.xid);
        }
    }
    Ok(())
}
