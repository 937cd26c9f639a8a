//! Expression programs: an `Expr` compiled once per query into a flat sequence of steps over
//! a register file, evaluated per row without walking the tree or allocating for
//! intermediate results that are not needed.
//!
//! Also the aggregate accumulators. Both are here, in `fdw-api`, so that a wrapper applying a
//! pushed-down qual during its scan and the envelope's executor share one implementation.
//!
//! Layout: `program` (compilation, constant folding and the interpreter loop), `ops` (the
//! operator kernels), `like` (LIKE matching), `agg` (accumulators). Scalar functions and
//! casts live in `crate::func`.

mod agg;
pub mod like;
pub mod ops;
mod program;

pub use agg::Accumulator;

#[cfg(test)]
mod tests;
pub use program::{eval_const, Program};

use crate::error::FdwResult;
use crate::expr::SubLinkKind;
use crate::types::Datum;

/// Runs the sub-selects an expression refers to (`Expr::SubPlan`). The envelope's executor
/// implements it; a wrapper never sees expressions with sub-selects.
pub trait SubPlanRunner {
    /// Runs sub-plan `id` with its parameters set from `args` (`param_ids[i] = args[i]`) and
    /// returns its value: the scalar (NULL for no row), the EXISTS boolean, or the ANY/ALL
    /// answer after comparing `lhs` with each row (three-valued).
    fn run_subplan(&mut self, id: usize, kind: SubLinkKind, args: &[Datum], lhs: Option<&Datum>) -> FdwResult<Datum>;
}

/// What an expression may read besides the current row.
#[derive(Default)]
pub struct EvalContext<'a> {
    /// `$1..$n` and the envelope's internal parameters.
    pub params: &'a [Datum],
    pub subplans: Option<&'a mut dyn SubPlanRunner>,
}
