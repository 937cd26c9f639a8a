//! Resolution of operators, functions, aggregates and casts with PostgreSQL's rules.
//!
//! The binder asks here what `a + b`, `substring(x from 2)` or `sum(x)` means for the given
//! argument types; the answer says which argument types to coerce to (the binder inserts the
//! casts) and the result type. Keeping these rules beside the evaluator means a wrapper that
//! evaluates a pushed-down qual agrees with the envelope on every detail.

use crate::error::{FdwError, FdwResult, SqlState};
use crate::expr::{AggFunc, BinaryOp, ScalarFunc, UnaryOp};
use crate::types::{DataType, Datum};

/// The outcome of resolving a call: coerce argument i to `arg_types[i]`; the call yields `ret`.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    pub arg_types: Vec<DataType>,
    pub ret: DataType,
}

/// Resolves a binary operator. Errors as PostgreSQL: `operator does not exist: text + integer`
/// (42883).
pub fn resolve_binary(op: BinaryOp, left: &DataType, right: &DataType) -> FdwResult<Resolved> {
    Err(FdwError::new(
        SqlState::UNDEFINED_FUNCTION,
        format!("operator does not exist: {} {} {}", left, op.sql(), right),
    ))
}

/// Resolves a unary operator (`NOT`, `-`, `IS NULL`, ...).
pub fn resolve_unary(op: UnaryOp, arg: &DataType) -> FdwResult<Resolved> {
    let _ = op;
    Err(FdwError::new(SqlState::UNDEFINED_FUNCTION, format!("operator does not exist: {arg}")))
}

/// Resolves a scalar function call by name (lower-case) and argument types. Errors as
/// PostgreSQL: `function foo(integer) does not exist` (42883).
pub fn resolve_function(name: &str, args: &[DataType]) -> FdwResult<(ScalarFunc, Resolved)> {
    let list: Vec<String> = args.iter().map(|t| t.sql_name()).collect();
    Err(FdwError::new(SqlState::UNDEFINED_FUNCTION, format!("function {}({}) does not exist", name, list.join(", "))))
}

/// Resolves an aggregate by name; `star` for `count(*)`. Returns `None` when `name` is not an
/// aggregate at all (the binder then tries scalar functions).
pub fn resolve_aggregate(name: &str, args: &[DataType], star: bool) -> Option<FdwResult<(AggFunc, Resolved)>> {
    let _ = (name, args, star);
    None
}

/// The common type of several expressions (CASE branches, UNION columns, COALESCE and IN
/// arguments), as PostgreSQL's `select_common_type`; `context` names the construct for the
/// error (`CASE types integer and text cannot be matched`).
pub fn common_type(types: &[DataType], context: &str) -> FdwResult<DataType> {
    let _ = context;
    Ok(types.first().cloned().unwrap_or(DataType::Text))
}

/// Whether a value of `from` may be converted to `to`: implicitly (in an assignment or an
/// operator argument) or only with an explicit `CAST`/`::`.
pub fn can_cast(from: &DataType, to: &DataType, explicit: bool) -> bool {
    let _ = explicit;
    from == to
}

/// Converts a datum from one type to another (with typmod enforcement: rounding to a numeric
/// scale, `value too long for type character varying(3)`).
pub fn cast_datum(value: Datum, from: &DataType, to: &DataType) -> FdwResult<Datum> {
    if from == to {
        return Ok(value);
    }
    Err(FdwError::new(SqlState::CANNOT_COERCE, format!("cannot cast type {from} to {to}")))
}
