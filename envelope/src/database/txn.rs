//! Driving wrappers through the transaction lifecycle at the end of a transaction, and the
//! commit record that makes it durable (protocol: `crate::durability::commit`).

use std::sync::Arc;

use fdw_api::{ExecContext, FdwRoutine, TransactionRoutine};

use super::session::TxnState;
use super::DbInner;
use crate::durability::xlog_error;
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

fn abort_all(db: &DbInner, ctx: &ExecContext, routines: &[&dyn TransactionRoutine]) {
    for r in routines {
        let _ = r.abort(ctx);
        let _ = r.end(ctx.xid);
    }
    if let Some(d) = &db.durability {
        d.forget(ctx.xid);
    }
}

/// Ends a transaction in every wrapper it touched: pre-commit validation of all of them
/// first (any failure aborts all), the commit record, then commit (install); or abort.
/// With `synchronous_commit` the call returns once the commit record is durable.
pub(super) fn finish_txn(
    db: &DbInner,
    synchronous_commit: bool,
    ctx: &ExecContext,
    touched: &[Arc<dyn FdwRoutine>],
    commit: bool,
) -> Result<()> {
    let routines: Vec<_> = touched.iter().filter_map(|w| w.transaction_routine()).collect();
    if !commit {
        abort_all(db, ctx, &routines);
        return Ok(());
    }
    let durability = db.durability.as_deref();
    let commit_lsn = {
        let _gate = durability.map(|d| d.commit_gate.read());
        // After a WAL failure nothing commits until restart and recovery (PostgreSQL PANICs).
        if let Some(Err(e)) = durability.map(|d| d.wal.check()) {
            abort_all(db, ctx, &routines);
            return Err(xlog_error(e));
        }
        for r in &routines {
            if let Err(e) = r.pre_commit(ctx) {
                abort_all(db, ctx, &routines);
                return Err(e);
            }
        }
        let commit_lsn = match durability.map(|d| d.log_commit(ctx.xid)) {
            Some(Err(e)) => {
                abort_all(db, ctx, &routines);
                return Err(e);
            }
            Some(Ok(lsn)) => lsn,
            None => None,
        };
        let lsn = commit_lsn.unwrap_or_else(|| ctx.services.current_lsn());
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
        commit_lsn
    };
    if let (Some(d), Some(lsn)) = (durability, commit_lsn) {
        if synchronous_commit {
            d.wal.flush(lsn).map_err(xlog_error)?;
        }
    }
    Ok(())
}
