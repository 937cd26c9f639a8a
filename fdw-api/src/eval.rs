//! Expression programs: an `Expr` compiled once per query into a flat sequence of steps over
//! a register file, evaluated per row without walking the tree or allocating for
//! intermediate results that are not needed.
//!
//! Also the aggregate accumulators. Both are here, in `fdw-api`, so that a wrapper applying a
//! pushed-down qual during its scan and the envelope's executor share one implementation.

use crate::error::{FdwError, FdwResult};
use crate::expr::{AggFunc, Expr, SubLinkKind};
use crate::types::{DataType, Datum};

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

/// A compiled expression.
#[derive(Clone, Debug)]
pub struct Program {
    expr: Expr,
}

impl Program {
    /// Compiles an expression. Constant sub-expressions are folded here.
    pub fn compile(expr: &Expr) -> FdwResult<Program> {
        Ok(Program { expr: expr.clone() })
    }

    pub fn data_type(&self) -> DataType {
        self.expr.data_type()
    }

    /// Evaluates against one row.
    pub fn eval(&self, row: &[Datum], ctx: &mut EvalContext<'_>) -> FdwResult<Datum> {
        let _ = (row, ctx);
        Err(FdwError::feature("expression evaluation is not implemented"))
    }

    /// Evaluates a predicate: NULL counts as false, as in WHERE.
    pub fn eval_predicate(&self, row: &[Datum], ctx: &mut EvalContext<'_>) -> FdwResult<bool> {
        Ok(matches!(self.eval(row, ctx)?, Datum::Bool(true)))
    }
}

/// The running state of one aggregate over one group.
#[derive(Clone, Debug)]
pub struct Accumulator {
    func: AggFunc,
    count: i64,
}

impl Accumulator {
    /// A fresh state for `func` whose (single) argument has type `arg_type` and whose result
    /// type is `ret` (from `crate::func::resolve_aggregate`).
    pub fn new(func: AggFunc, arg_type: &DataType, ret: &DataType) -> Accumulator {
        let _ = (arg_type, ret);
        Accumulator { func, count: 0 }
    }

    /// Adds one input row's arguments (empty for `count(*)`). NULL inputs are ignored as SQL
    /// requires, except by `count(*)`.
    pub fn update(&mut self, args: &[Datum]) -> FdwResult<()> {
        let _ = args;
        self.count += 1;
        Ok(())
    }

    /// Merges another partial state of the same aggregate (parallel aggregation).
    pub fn merge(&mut self, other: &Accumulator) -> FdwResult<()> {
        self.count += other.count;
        Ok(())
    }

    /// The aggregate's value for the group (NULL for sum/min/max over no rows, 0 for count).
    pub fn finish(&self) -> FdwResult<Datum> {
        match self.func {
            AggFunc::Count | AggFunc::CountStar => Ok(Datum::Int8(self.count)),
            _ => Err(FdwError::feature("aggregate is not implemented")),
        }
    }
}
