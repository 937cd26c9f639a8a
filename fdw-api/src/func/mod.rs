//! Resolution of operators, functions, aggregates and casts with PostgreSQL's rules.
//!
//! The binder asks here what `a + b`, `substring(x from 2)` or `sum(x)` means for the given
//! argument types; the answer says which argument types to coerce to (the binder inserts the
//! casts) and the result type. Keeping these rules beside the evaluator means a wrapper that
//! evaluates a pushed-down qual agrees with the envelope on every detail.
//!
//! Simplifications against PostgreSQL's catalog-driven resolution: the candidates are the
//! built-in operators and functions of `expr::{BinaryOp, ScalarFunc, AggFunc}` only; an
//! `unknown` literal takes the other operand's type (or `text` when both are unknown);
//! numbers promote along int2 < int4 < int8 < numeric < float4 < float8 (float4 with numeric
//! gives float8, as PostgreSQL picks its float8 operators).
//!
//! Submodules: `cast` (value conversion), `scalar` (function evaluation), `datetime`
//! (date/time functions and the statement clock), `md5`.

pub mod cast;
pub mod datetime;
mod md5;
pub mod scalar;

pub use datetime::{set_statement_timestamp, statement_timestamp};
pub use scalar::call_scalar;

use crate::error::{FdwError, FdwResult, SqlState};
use crate::expr::{AggFunc, BinaryOp, ScalarFunc, UnaryOp};
use crate::types::{DataType, Datum};

/// The outcome of resolving a call: coerce argument i to `arg_types[i]`; the call yields `ret`.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    pub arg_types: Vec<DataType>,
    pub ret: DataType,
}

fn resolved(arg_types: Vec<DataType>, ret: DataType) -> Resolved {
    Resolved { arg_types, ret }
}

/// Position in the numeric promotion tower; `None` for non-numeric types.
fn num_rank(t: &DataType) -> Option<u8> {
    Some(match t {
        DataType::Int2 => 0,
        DataType::Int4 => 1,
        DataType::Int8 => 2,
        DataType::Numeric(_) => 3,
        DataType::Float4 => 4,
        DataType::Float8 => 5,
        _ => return None,
    })
}

fn from_rank(r: u8) -> DataType {
    match r {
        0 => DataType::Int2,
        1 => DataType::Int4,
        2 => DataType::Int8,
        3 => DataType::Numeric(None),
        4 => DataType::Float4,
        _ => DataType::Float8,
    }
}

/// The common numeric type of two numeric types.
fn num_common(a: &DataType, b: &DataType) -> Option<DataType> {
    let (ra, rb) = (num_rank(a)?, num_rank(b)?);
    // float4 with numeric: PostgreSQL resolves to its float8 operators.
    if (ra == 4 && rb == 3) || (ra == 3 && rb == 4) {
        return Some(DataType::Float8);
    }
    Some(from_rank(ra.max(rb)))
}

fn is_str(t: &DataType) -> bool {
    matches!(t, DataType::Text | DataType::Varchar(_) | DataType::Char(_))
}

fn no_operator(l: &DataType, op: &str, r: &DataType) -> FdwError {
    FdwError::new(
        SqlState::UNDEFINED_FUNCTION,
        format!("operator does not exist: {} {} {}", l.sql_name(), op, r.sql_name()),
    )
    .with_hint("No operator matches the given name and argument types. You might need to add explicit type casts.")
}

/// Resolves a binary operator. Errors as PostgreSQL: `operator does not exist: text + integer`
/// (42883).
pub fn resolve_binary(op: BinaryOp, left: &DataType, right: &DataType) -> FdwResult<Resolved> {
    use DataType as T;
    // An unknown literal takes the other side's type.
    let (l, r) = match (left, right) {
        (T::Unknown, T::Unknown) => (T::Text, T::Text),
        (T::Unknown, other) => (unknown_partner(op, other), other.clone()),
        (other, T::Unknown) => (other.clone(), unknown_partner(op, other)),
        _ => (left.clone(), right.clone()),
    };
    let l0 = l.without_modifier();
    let r0 = r.without_modifier();
    match op {
        BinaryOp::And | BinaryOp::Or => {
            let word = if op == BinaryOp::And { "AND" } else { "OR" };
            for t in [&l, &r] {
                if *t != T::Bool {
                    return Err(FdwError::new(
                        SqlState::DATATYPE_MISMATCH,
                        format!("argument of {word} must be type boolean, not type {}", t.sql_name()),
                    ));
                }
            }
            Ok(resolved(vec![T::Bool, T::Bool], T::Bool))
        }
        BinaryOp::Concat => {
            if is_str(&l0) || is_str(&r0) || *left == T::Unknown || *right == T::Unknown {
                Ok(resolved(vec![T::Text, T::Text], T::Text))
            } else {
                Err(no_operator(left, op.sql(), right))
            }
        }
        _ if op.is_comparison() || matches!(op, BinaryOp::IsDistinctFrom | BinaryOp::IsNotDistinctFrom) => {
            let common = comparison_type(&l0, &r0).ok_or_else(|| no_operator(left, op.sql(), right))?;
            Ok(resolved(vec![common.clone(), common], T::Bool))
        }
        _ => resolve_arith(op, &l0, &r0).ok_or_else(|| no_operator(left, op.sql(), right)),
    }
}

/// The type an unknown literal takes opposite `other` under `op`.
fn unknown_partner(op: BinaryOp, other: &DataType) -> DataType {
    use DataType as T;
    match (op, other) {
        (BinaryOp::Concat, _) => T::Text,
        // `date + '1 day'` / `timestamp - '1 hour'`: PostgreSQL picks the interval operator.
        (BinaryOp::Add | BinaryOp::Sub, T::Date | T::Timestamp) => T::Interval,
        (BinaryOp::Mul | BinaryOp::Div, T::Interval) => T::Float8,
        _ => other.without_modifier(),
    }
}

/// The type both sides of a comparison are coerced to.
fn comparison_type(l: &DataType, r: &DataType) -> Option<DataType> {
    use DataType as T;
    if let Some(t) = num_common(l, r) {
        return Some(t);
    }
    Some(match (l, r) {
        (T::Char(_), T::Char(_) | T::Varchar(_)) | (T::Varchar(_), T::Char(_)) => T::Char(None),
        _ if is_str(l) && is_str(r) => T::Text,
        (T::Date, T::Date) => T::Date,
        (T::Date | T::Timestamp, T::Date | T::Timestamp) => T::Timestamp,
        _ if l == r && !matches!(l, T::Unknown) => l.clone(),
        _ => return None,
    })
}

fn resolve_arith(op: BinaryOp, l: &DataType, r: &DataType) -> Option<Resolved> {
    use BinaryOp as B;
    use DataType as T;
    let int_like = |t: &DataType| matches!(t, T::Int2 | T::Int4);
    Some(match (op, l, r) {
        (B::Pow, _, _) if num_rank(l).is_some() && num_rank(r).is_some() => {
            let t = if matches!(l, T::Numeric(_)) || matches!(r, T::Numeric(_)) {
                if num_rank(l)? <= 3 && num_rank(r)? <= 3 {
                    T::Numeric(None)
                } else {
                    T::Float8
                }
            } else {
                T::Float8
            };
            resolved(vec![t.clone(), t.clone()], t)
        }
        (B::Mod, _, _) if num_rank(l).is_some() && num_rank(r).is_some() => {
            let t = num_common(l, r)?;
            if matches!(t, T::Float4 | T::Float8) {
                return None;
            }
            resolved(vec![t.clone(), t.clone()], t)
        }
        (B::Add | B::Sub | B::Mul | B::Div, _, _) if num_rank(l).is_some() && num_rank(r).is_some() => {
            let t = num_common(l, r)?;
            resolved(vec![t.clone(), t.clone()], t)
        }
        (B::Add | B::Sub, T::Date, _) if int_like(r) => resolved(vec![T::Date, T::Int4], T::Date),
        (B::Add, _, T::Date) if int_like(l) => resolved(vec![T::Int4, T::Date], T::Date),
        (B::Sub, T::Date, T::Date) => resolved(vec![T::Date, T::Date], T::Int4),
        (B::Add | B::Sub, T::Date | T::Timestamp, T::Interval) => resolved(vec![l.clone(), T::Interval], T::Timestamp),
        (B::Add, T::Interval, T::Date | T::Timestamp) => resolved(vec![T::Interval, r.clone()], T::Timestamp),
        (B::Sub, T::Date | T::Timestamp, T::Date | T::Timestamp) => {
            resolved(vec![T::Timestamp, T::Timestamp], T::Interval)
        }
        (B::Add | B::Sub, T::Interval, T::Interval) => resolved(vec![T::Interval, T::Interval], T::Interval),
        (B::Mul | B::Div, T::Interval, _) if num_rank(r).is_some() => {
            resolved(vec![T::Interval, T::Float8], T::Interval)
        }
        (B::Mul, _, T::Interval) if num_rank(l).is_some() => resolved(vec![T::Float8, T::Interval], T::Interval),
        _ => return None,
    })
}

/// Resolves a unary operator (`NOT`, `-`, `IS NULL`, ...).
pub fn resolve_unary(op: UnaryOp, arg: &DataType) -> FdwResult<Resolved> {
    use DataType as T;
    let a = if *arg == T::Unknown && matches!(op, UnaryOp::IsNull | UnaryOp::IsNotNull) {
        T::Text
    } else if *arg == T::Unknown {
        T::Bool
    } else {
        arg.clone()
    };
    match op {
        UnaryOp::Not | UnaryOp::IsTrue | UnaryOp::IsNotTrue | UnaryOp::IsFalse | UnaryOp::IsNotFalse => {
            if a != T::Bool {
                let what = match op {
                    UnaryOp::Not => "argument of NOT must be type boolean".to_string(),
                    _ => "argument of IS TRUE/IS FALSE must be type boolean".to_string(),
                };
                return Err(FdwError::new(SqlState::DATATYPE_MISMATCH, format!("{what}, not type {}", a.sql_name())));
            }
            Ok(resolved(vec![T::Bool], T::Bool))
        }
        UnaryOp::IsNull | UnaryOp::IsNotNull => Ok(resolved(vec![a], T::Bool)),
        UnaryOp::Neg => {
            let t = if *arg == T::Unknown { T::Float8 } else { arg.without_modifier() };
            if num_rank(&t).is_some() || t == T::Interval {
                Ok(resolved(vec![t.clone()], t))
            } else {
                Err(FdwError::new(
                    SqlState::UNDEFINED_FUNCTION,
                    format!("operator does not exist: - {}", arg.sql_name()),
                )
                .with_hint(
                    "No operator matches the given name and argument type. You might need to add an explicit type cast.",
                ))
            }
        }
    }
}

fn no_function(name: &str, args: &[DataType]) -> FdwError {
    let list: Vec<String> = args.iter().map(|t| t.sql_name()).collect();
    FdwError::new(SqlState::UNDEFINED_FUNCTION, format!("function {}({}) does not exist", name, list.join(", ")))
        .with_hint("No function matches the given name and argument types. You might need to add explicit type casts.")
}

/// Numeric argument for a function that has float8 and numeric variants: integers and
/// float go to float8 (PostgreSQL's preferred type), numeric stays numeric.
fn float_or_numeric(t: &DataType) -> Option<DataType> {
    match t {
        DataType::Numeric(_) => Some(DataType::Numeric(None)),
        DataType::Unknown => Some(DataType::Float8),
        _ if num_rank(t).is_some() => Some(DataType::Float8),
        _ => None,
    }
}

fn string_arg(t: &DataType) -> bool {
    is_str(t) || *t == DataType::Unknown
}

fn int_arg(t: &DataType) -> bool {
    matches!(t, DataType::Int2 | DataType::Int4 | DataType::Unknown)
}

/// Resolves a scalar function call by name (lower-case) and argument types. Errors as
/// PostgreSQL: `function foo(integer) does not exist` (42883).
///
/// Argument order follows the SQL function signatures: `position(needle, haystack)` (the
/// binder turns `position(a IN b)` into `position(a, b)`), `strpos(haystack, needle)`,
/// `substring(s, from[, for])`, `extract(field, source)` with the field as a text constant,
/// `btrim(s[, chars])` for `trim(BOTH chars FROM s)`.
pub fn resolve_function(name: &str, args: &[DataType]) -> FdwResult<(ScalarFunc, Resolved)> {
    use DataType as T;
    use ScalarFunc as F;
    let n = args.len();
    let text_n = |k: usize| vec![T::Text; k];
    let fail = || no_function(name, args);
    let all_str = args.iter().all(string_arg);
    let r = match (name, n) {
        ("abs", 1) => {
            let t = if args[0] == T::Unknown { T::Float8 } else { args[0].without_modifier() };
            if num_rank(&t).is_none() && t != T::Interval {
                return Err(fail());
            }
            (F::Abs, resolved(vec![t.clone()], t))
        }
        ("round" | "trunc", 1) => {
            let t = float_or_numeric(&args[0]).ok_or_else(fail)?;
            (if name == "round" { F::Round } else { F::Trunc }, resolved(vec![t.clone()], t))
        }
        ("round" | "trunc", 2) if num_rank(&args[0]).is_some() || args[0] == T::Unknown => {
            if !int_arg(&args[1]) {
                return Err(fail());
            }
            let f = if name == "round" { F::Round } else { F::Trunc };
            (f, resolved(vec![T::Numeric(None), T::Int4], T::Numeric(None)))
        }
        ("ceil" | "ceiling" | "floor" | "sqrt" | "sign", 1) => {
            let t = float_or_numeric(&args[0]).ok_or_else(fail)?;
            let f = match name {
                "floor" => F::Floor,
                "sqrt" => F::Sqrt,
                "sign" => F::Sign,
                _ => F::Ceil,
            };
            (f, resolved(vec![t.clone()], t))
        }
        ("power" | "pow", 2) => {
            let a = float_or_numeric(&args[0]).ok_or_else(fail)?;
            let b = float_or_numeric(&args[1]).ok_or_else(fail)?;
            let t = if matches!(args[0], T::Numeric(_)) || matches!(args[1], T::Numeric(_)) {
                if a == T::Float8 && !args[0].is_integer() || b == T::Float8 && !args[1].is_integer() {
                    T::Float8
                } else {
                    T::Numeric(None)
                }
            } else {
                T::Float8
            };
            (F::Power, resolved(vec![t.clone(), t.clone()], t))
        }
        ("mod", 2) => {
            let a = if args[0] == T::Unknown { args[1].clone() } else { args[0].clone() };
            let b = if args[1] == T::Unknown { a.clone() } else { args[1].clone() };
            let t = num_common(&a, &b).filter(|t| !matches!(t, T::Float4 | T::Float8)).ok_or_else(fail)?;
            (F::Mod, resolved(vec![t.clone(), t.clone()], t))
        }
        ("length" | "char_length" | "character_length", 1) if string_arg(&args[0]) => {
            // char(n) goes to text, losing its padding: length ignores trailing blanks.
            (if name == "length" { F::Length } else { F::CharLength }, resolved(text_n(1), T::Int4))
        }
        ("octet_length", 1) if string_arg(&args[0]) => {
            // ... but octet_length counts them (PostgreSQL's bpcharoctetlen).
            let arg = if matches!(args[0], T::Char(_)) { T::Char(None) } else { T::Text };
            (F::OctetLength, resolved(vec![arg], T::Int4))
        }
        ("upper" | "lower" | "reverse" | "initcap" | "md5", 1) if all_str => {
            let f = match name {
                "upper" => F::Upper,
                "lower" => F::Lower,
                "reverse" => F::Reverse,
                "initcap" => F::Initcap,
                _ => F::Md5,
            };
            (f, resolved(text_n(1), T::Text))
        }
        ("substring" | "substr", 2 | 3) if string_arg(&args[0]) && args[1..].iter().all(int_arg) => {
            let mut a = vec![T::Text, T::Int4];
            if n == 3 {
                a.push(T::Int4);
            }
            (F::Substring, resolved(a, T::Text))
        }
        ("position" | "strpos", 2) if all_str => {
            (if name == "position" { F::Position } else { F::StrPos }, resolved(text_n(2), T::Int4))
        }
        ("btrim" | "trim" | "ltrim" | "rtrim", 1 | 2) if all_str => {
            let f = match name {
                "ltrim" => F::LTrim,
                "rtrim" => F::RTrim,
                _ => F::BTrim,
            };
            (f, resolved(text_n(n), T::Text))
        }
        ("replace", 3) if all_str => (F::Replace, resolved(text_n(3), T::Text)),
        ("left" | "right" | "repeat", 2) if string_arg(&args[0]) && int_arg(&args[1]) => {
            let f = match name {
                "left" => F::Left,
                "right" => F::Right,
                _ => F::Repeat,
            };
            (f, resolved(vec![T::Text, T::Int4], T::Text))
        }
        ("lpad" | "rpad", 2 | 3) if string_arg(&args[0]) && int_arg(&args[1]) && (n == 2 || string_arg(&args[2])) => {
            let mut a = vec![T::Text, T::Int4];
            if n == 3 {
                a.push(T::Text);
            }
            (if name == "lpad" { F::Lpad } else { F::Rpad }, resolved(a, T::Text))
        }
        ("concat", _) => {
            let a = args.iter().map(|t| if *t == T::Unknown { T::Text } else { t.clone() }).collect();
            (F::Concat, resolved(a, T::Text))
        }
        ("concat_ws", k) if k >= 1 && string_arg(&args[0]) => {
            let a = args.iter().map(|t| if *t == T::Unknown { T::Text } else { t.clone() }).collect::<Vec<_>>();
            let mut a = a;
            a[0] = T::Text;
            (F::ConcatWs, resolved(a, T::Text))
        }
        ("split_part", 3) if string_arg(&args[0]) && string_arg(&args[1]) && int_arg(&args[2]) => {
            (F::SplitPart, resolved(vec![T::Text, T::Text, T::Int4], T::Text))
        }
        ("to_char", 2) if string_arg(&args[1]) => {
            let a = match &args[0] {
                T::Date => T::Timestamp,
                T::Unknown => return Err(fail()),
                t if num_rank(t).is_some() || matches!(t, T::Timestamp | T::Interval) => t.without_modifier(),
                _ => return Err(fail()),
            };
            (F::ToChar, resolved(vec![a, T::Text], T::Text))
        }
        ("extract" | "date_part", 2) if string_arg(&args[0]) => {
            let src = match &args[1] {
                T::Date if name == "extract" => T::Date,
                T::Date | T::Unknown => T::Timestamp,
                T::Timestamp => T::Timestamp,
                T::Interval => T::Interval,
                _ => return Err(fail()),
            };
            let (f, ret) = if name == "extract" { (F::Extract, T::Numeric(None)) } else { (F::DatePart, T::Float8) };
            (f, resolved(vec![T::Text, src], ret))
        }
        ("date_trunc", 2) if string_arg(&args[0]) => {
            let src = match &args[1] {
                T::Interval => T::Interval,
                T::Date | T::Timestamp | T::Unknown => T::Timestamp,
                _ => return Err(fail()),
            };
            (F::DateTrunc, resolved(vec![T::Text, src.clone()], src))
        }
        ("age", 1 | 2) if args.iter().all(|t| matches!(t, T::Date | T::Timestamp | T::Unknown)) => {
            (F::Age, resolved(vec![T::Timestamp; n], T::Interval))
        }
        ("now" | "current_timestamp" | "localtimestamp" | "transaction_timestamp" | "statement_timestamp", 0) => {
            (F::Now, resolved(vec![], T::Timestamp))
        }
        ("current_date", 0) => (F::CurrentDate, resolved(vec![], T::Date)),
        ("make_date", 3) if args.iter().all(int_arg) => (F::MakeDate, resolved(vec![T::Int4; 3], T::Date)),
        ("greatest" | "least", k) if k >= 1 => {
            let t = common_type(args, if name == "greatest" { "GREATEST" } else { "LEAST" })?;
            (if name == "greatest" { F::Greatest } else { F::Least }, resolved(vec![t.clone(); k], t))
        }
        ("random", 0) => (F::Random, resolved(vec![], T::Float8)),
        _ => return Err(fail()),
    };
    Ok(r)
}

/// Whether `name` (lower case) is a built-in aggregate function.
pub fn is_aggregate(name: &str) -> bool {
    matches!(
        name,
        "count"
            | "sum"
            | "avg"
            | "min"
            | "max"
            | "bool_and"
            | "bool_or"
            | "every"
            | "string_agg"
            | "stddev"
            | "stddev_samp"
            | "stddev_pop"
            | "variance"
            | "var_samp"
            | "var_pop"
    )
}

/// Resolves an aggregate by name; `star` for `count(*)`. Returns `None` when `name` is not an
/// aggregate at all (the binder then tries scalar functions).
pub fn resolve_aggregate(name: &str, args: &[DataType], star: bool) -> Option<FdwResult<(AggFunc, Resolved)>> {
    use AggFunc as A;
    use DataType as T;
    let known = is_aggregate(name);
    if !known {
        return None;
    }
    let fail = || no_function(name, args);
    let one = args.len() == 1;
    let arg = args.first().map(|t| if *t == T::Unknown { T::Text } else { t.without_modifier() });
    Some((|| {
        Ok(match name {
            "count" if star => (A::CountStar, resolved(vec![], T::Int8)),
            "count" if one => (A::Count, resolved(vec![arg.clone().unwrap_or(T::Text)], T::Int8)),
            "sum" if one => {
                let a = arg.clone().ok_or_else(fail)?;
                let ret = match &a {
                    T::Int2 | T::Int4 => T::Int8,
                    T::Int8 | T::Numeric(_) => T::Numeric(None),
                    T::Float4 => T::Float4,
                    T::Float8 => T::Float8,
                    T::Interval => T::Interval,
                    _ => return Err(fail()),
                };
                (A::Sum, resolved(vec![a], ret))
            }
            "avg" if one => {
                let a = arg.clone().ok_or_else(fail)?;
                let ret = match &a {
                    T::Int2 | T::Int4 | T::Int8 | T::Numeric(_) => T::Numeric(None),
                    T::Float4 | T::Float8 => T::Float8,
                    T::Interval => T::Interval,
                    _ => return Err(fail()),
                };
                (A::Avg, resolved(vec![a], ret))
            }
            "min" | "max" if one => {
                let a = arg.clone().ok_or_else(fail)?;
                if a == T::Bool {
                    return Err(fail());
                }
                let a = if matches!(a, T::Varchar(_)) { T::Text } else { a };
                (if name == "min" { A::Min } else { A::Max }, resolved(vec![a.clone()], a))
            }
            "bool_and" | "every" | "bool_or" if one => {
                if arg != Some(T::Bool) {
                    return Err(fail());
                }
                (if name == "bool_or" { A::BoolOr } else { A::BoolAnd }, resolved(vec![T::Bool], T::Bool))
            }
            "string_agg" if args.len() == 2 && args.iter().all(string_arg) => {
                (A::StringAgg, resolved(vec![T::Text, T::Text], T::Text))
            }
            "stddev" | "stddev_samp" | "stddev_pop" | "variance" | "var_samp" | "var_pop" if one => {
                let a = arg.clone().ok_or_else(fail)?;
                let (a, ret) = match &a {
                    T::Int2 | T::Int4 | T::Int8 | T::Numeric(_) => (a.clone(), T::Numeric(None)),
                    T::Float4 | T::Float8 => (T::Float8, T::Float8),
                    _ => return Err(fail()),
                };
                let f = match name {
                    "stddev" | "stddev_samp" => A::StddevSamp,
                    "stddev_pop" => A::StddevPop,
                    "var_pop" => A::VarPop,
                    _ => A::VarSamp,
                };
                (f, resolved(vec![a], ret))
            }
            _ => return Err(fail()),
        })
    })())
}

/// Type category, as PostgreSQL's `typcategory`.
fn category(t: &DataType) -> u8 {
    match t {
        DataType::Bool => b'B',
        DataType::Date | DataType::Timestamp => b'D',
        DataType::Interval => b'T',
        _ if num_rank(t).is_some() => b'N',
        _ if is_str(t) => b'S',
        _ => b'X',
    }
}

/// The common type of several expressions (CASE branches, UNION columns, COALESCE and IN
/// arguments), as PostgreSQL's `select_common_type`; `context` names the construct for the
/// error (`CASE types integer and text cannot be matched`, 42804). Pass the types in
/// PostgreSQL's order so the message names the same pair: for CASE the ELSE result first,
/// then the THEN results. All-unknown resolves to text; unknowns are ignored otherwise.
/// Identical types keep their modifier (`varchar(3)`), mixed ones lose it.
pub fn common_type(types: &[DataType], context: &str) -> FdwResult<DataType> {
    use DataType as T;
    let known: Vec<&DataType> = types.iter().filter(|t| **t != T::Unknown).collect();
    let Some(first) = known.first() else { return Ok(T::Text) };
    if known.iter().all(|t| *t == *first) {
        return Ok((*first).clone());
    }
    let mut cur = first.without_modifier();
    for t in &known[1..] {
        let t0 = t.without_modifier();
        if category(&cur) != category(&t0) {
            return Err(FdwError::new(
                SqlState::DATATYPE_MISMATCH,
                format!("{context} types {} and {} cannot be matched", cur.sql_name(), t.sql_name()),
            ));
        }
        cur = match category(&cur) {
            b'N' => num_common(&cur, &t0).unwrap_or(T::Float8),
            b'S' => {
                if cur == t0 {
                    cur
                } else {
                    T::Text
                }
            }
            b'D' => {
                if cur == t0 {
                    cur
                } else {
                    T::Timestamp
                }
            }
            _ => cur,
        };
    }
    Ok(cur)
}

/// Whether a value of `from` may be converted to `to`: implicitly (in an assignment or an
/// operator argument) or only with an explicit `CAST`/`::`. For the assignment level
/// (INSERT/UPDATE targets: `numeric` to `integer`, anything to text) use `can_cast_assignment`.
pub fn can_cast(from: &DataType, to: &DataType, explicit: bool) -> bool {
    cast::castable(from, to, if explicit { 2 } else { 0 })
}

/// Whether PostgreSQL converts `from` to `to` in an assignment (INSERT/UPDATE target).
pub fn can_cast_assignment(from: &DataType, to: &DataType) -> bool {
    cast::castable(from, to, 1)
}

/// Converts a datum from one type to another (with typmod enforcement: rounding to a numeric
/// scale, `value too long for type character varying(3)`). This applies the assignment rule
/// for string lengths; an explicit `CAST` truncates silently (`cast_datum_explicit`).
pub fn cast_datum(value: Datum, from: &DataType, to: &DataType) -> FdwResult<Datum> {
    cast::cast(value, from, to, false)
}

/// `cast_datum` with the explicit-cast rule: `'abcd'::varchar(3)` is `abc`.
pub fn cast_datum_explicit(value: Datum, from: &DataType, to: &DataType) -> FdwResult<Datum> {
    cast::cast(value, from, to, true)
}

#[cfg(test)]
mod tests;
