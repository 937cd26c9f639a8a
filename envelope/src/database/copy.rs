//! COPY.

use std::sync::Arc;

use fdw_api::{ExecContext, FdwError, FdwRoutine};
use sqlparser::ast;

use super::{QueryResult, Session};
use crate::Result;

impl Session {
    /// Runs a COPY statement.
    pub(super) fn run_copy(
        &mut self,
        stmt: &ast::Statement,
        ctx: &ExecContext,
        touched: &mut Vec<Arc<dyn FdwRoutine>>,
    ) -> Result<QueryResult> {
        let _ = (stmt, ctx, touched);
        Err(FdwError::feature("COPY is not supported yet"))
    }
}
