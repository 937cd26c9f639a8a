//! Set-returning functions in FROM (`generate_series`).

use fdw_api::{err, FdwResult};
use sqlparser::ast;

use super::logical::LogicalPlan;
use super::scope::Scope;
use super::Binder;

impl Binder<'_> {
    /// Binds `FROM name(args) [AS alias(cols)]`.
    pub(crate) fn bind_srf(
        &mut self,
        name: &str,
        args: Option<&ast::TableFunctionArgs>,
        alias: Option<&ast::TableAlias>,
    ) -> FdwResult<(LogicalPlan, Scope)> {
        let _ = (args, alias);
        Err(err!(UNDEFINED_FUNCTION, "function {}() does not exist", name))
    }
}
