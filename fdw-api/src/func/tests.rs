//! Resolution tests; expected types and messages verified against PostgreSQL 15.

use super::*;
use crate::types::DataType as T;

fn ret(op: BinaryOp, l: T, r: T) -> T {
    resolve_binary(op, &l, &r).unwrap().ret
}

#[test]
fn binary_resolution_as_postgres() {
    use BinaryOp::*;
    assert_eq!(ret(Add, T::Int4, T::Int4), T::Int4);
    assert_eq!(ret(Add, T::Int2, T::Int2), T::Int2);
    assert_eq!(ret(Add, T::Int4, T::Int8), T::Int8);
    assert_eq!(ret(Mul, T::Int4, T::Numeric(Some((15, 2)))), T::Numeric(None));
    assert_eq!(ret(Add, T::Float4, T::Numeric(None)), T::Float8);
    assert_eq!(ret(Div, T::Int4, T::Float8), T::Float8);
    assert_eq!(ret(Pow, T::Int4, T::Int4), T::Float8);
    assert_eq!(ret(Pow, T::Numeric(None), T::Int4), T::Numeric(None));
    assert_eq!(ret(Sub, T::Date, T::Date), T::Int4);
    assert_eq!(ret(Add, T::Date, T::Int4), T::Date);
    assert_eq!(ret(Add, T::Int4, T::Date), T::Date);
    assert_eq!(ret(Add, T::Date, T::Interval), T::Timestamp);
    assert_eq!(ret(Sub, T::Date, T::Unknown), T::Timestamp);
    assert_eq!(ret(Sub, T::Timestamp, T::Timestamp), T::Interval);
    assert_eq!(ret(Mul, T::Interval, T::Int4), T::Interval);
    assert_eq!(ret(Concat, T::Text, T::Int4), T::Text);
    assert_eq!(ret(Concat, T::Unknown, T::Int4), T::Text);
    assert_eq!(ret(Eq, T::Int4, T::Unknown), T::Bool);
    let r = resolve_binary(Lt, &T::Date, &T::Unknown).unwrap();
    assert_eq!(r.arg_types, vec![T::Date, T::Date]);
    let r = resolve_binary(Eq, &T::Int4, &T::Unknown).unwrap();
    assert_eq!(r.arg_types, vec![T::Int4, T::Int4]);
    let r = resolve_binary(Eq, &T::Char(Some(3)), &T::Varchar(Some(5))).unwrap();
    assert_eq!(r.arg_types, vec![T::Char(None), T::Char(None)]);
    let r = resolve_binary(Eq, &T::Char(Some(3)), &T::Text).unwrap();
    assert_eq!(r.arg_types, vec![T::Text, T::Text]);
    let r = resolve_binary(Lt, &T::Date, &T::Timestamp).unwrap();
    assert_eq!(r.arg_types, vec![T::Timestamp, T::Timestamp]);
    let e = resolve_binary(Add, &T::Int4, &T::Text).unwrap_err();
    assert_eq!(
        (e.message.as_str(), e.sqlstate),
        ("operator does not exist: integer + text", SqlState::UNDEFINED_FUNCTION)
    );
    let e = resolve_binary(Mod, &T::Float8, &T::Int4).unwrap_err();
    assert_eq!(e.message, "operator does not exist: double precision % integer");
    let e = resolve_binary(Add, &T::Date, &T::Int8).unwrap_err();
    assert_eq!(e.message, "operator does not exist: date + bigint");
    let e = resolve_binary(And, &T::Int4, &T::Bool).unwrap_err();
    assert_eq!(
        (e.message.as_str(), e.sqlstate),
        ("argument of AND must be type boolean, not type integer", SqlState::DATATYPE_MISMATCH)
    );
    assert!(resolve_binary(Concat, &T::Int4, &T::Int4).is_err());
}

#[test]
fn unary_resolution() {
    assert_eq!(resolve_unary(UnaryOp::Neg, &T::Int4).unwrap().ret, T::Int4);
    assert_eq!(resolve_unary(UnaryOp::IsNull, &T::Int4).unwrap().ret, T::Bool);
    let e = resolve_unary(UnaryOp::Not, &T::Int4).unwrap_err();
    assert_eq!(e.message, "argument of NOT must be type boolean, not type integer");
    assert!(resolve_unary(UnaryOp::Neg, &T::Text).is_err());
}

#[test]
fn function_resolution_as_postgres() {
    let f = |name: &str, args: &[T]| resolve_function(name, args).unwrap();
    // pg_typeof checked in psql: round(5), sqrt(4), ceil(5), power(2,3) are double precision.
    assert_eq!(f("round", &[T::Int4]).1.ret, T::Float8);
    assert_eq!(f("round", &[T::Numeric(None), T::Int4]).1.ret, T::Numeric(None));
    assert_eq!(f("round", &[T::Int4, T::Int4]).1.ret, T::Numeric(None));
    assert_eq!(f("sqrt", &[T::Int4]).1.ret, T::Float8);
    assert_eq!(f("ceiling", &[T::Numeric(None)]).0, ScalarFunc::Ceil);
    assert_eq!(f("power", &[T::Int4, T::Int4]).1.ret, T::Float8);
    assert_eq!(f("mod", &[T::Int4, T::Int4]).1.ret, T::Int4);
    assert_eq!(f("abs", &[T::Int2]).1.ret, T::Int2);
    assert_eq!(f("substr", &[T::Varchar(Some(3)), T::Int4]).1.arg_types, vec![T::Text, T::Int4]);
    assert_eq!(f("extract", &[T::Text, T::Date]).1.ret, T::Numeric(None));
    assert_eq!(f("date_part", &[T::Unknown, T::Date]).1.arg_types, vec![T::Text, T::Timestamp]);
    assert_eq!(f("date_trunc", &[T::Unknown, T::Interval]).1.ret, T::Interval);
    assert_eq!(f("now", &[]).1.ret, T::Timestamp);
    assert_eq!(f("greatest", &[T::Int4, T::Numeric(None)]).1.ret, T::Numeric(None));
    assert_eq!(f("concat", &[T::Text, T::Int4, T::Unknown]).1.ret, T::Text);
    let e = resolve_function("foo", &[T::Int4]).unwrap_err();
    assert_eq!(
        (e.message.as_str(), e.sqlstate),
        ("function foo(integer) does not exist", SqlState::UNDEFINED_FUNCTION)
    );
    assert!(resolve_function("upper", &[T::Int4]).is_err());
}

#[test]
fn aggregate_resolution_as_postgres() {
    let a = |name: &str, args: &[T], star: bool| resolve_aggregate(name, args, star).unwrap().unwrap();
    assert_eq!(a("count", &[], true).0, AggFunc::CountStar);
    assert_eq!(a("sum", &[T::Int4], false).1.ret, T::Int8);
    assert_eq!(a("sum", &[T::Int8], false).1.ret, T::Numeric(None));
    assert_eq!(a("sum", &[T::Float4], false).1.ret, T::Float4);
    assert_eq!(a("avg", &[T::Int4], false).1.ret, T::Numeric(None));
    assert_eq!(a("avg", &[T::Float4], false).1.ret, T::Float8);
    assert_eq!(a("max", &[T::Numeric(Some((15, 2)))], false).1.ret, T::Numeric(None));
    assert_eq!(a("every", &[T::Bool], false).0, AggFunc::BoolAnd);
    assert_eq!(a("stddev", &[T::Int4], false).1.ret, T::Numeric(None));
    assert_eq!(a("variance", &[T::Float8], false).0, AggFunc::VarSamp);
    assert!(resolve_aggregate("upper", &[T::Text], false).is_none());
    assert!(resolve_aggregate("sum", &[T::Text], false).unwrap().is_err());
}

#[test]
fn common_type_as_postgres() {
    assert_eq!(common_type(&[T::Int4, T::Numeric(None)], "CASE").unwrap(), T::Numeric(None));
    assert_eq!(common_type(&[T::Unknown, T::Unknown], "CASE").unwrap(), T::Text);
    assert_eq!(common_type(&[T::Unknown, T::Int4], "CASE").unwrap(), T::Int4);
    assert_eq!(common_type(&[T::Varchar(Some(3)), T::Varchar(Some(5))], "CASE").unwrap(), T::Varchar(None));
    assert_eq!(common_type(&[T::Varchar(Some(3)), T::Varchar(Some(3))], "CASE").unwrap(), T::Varchar(Some(3)));
    assert_eq!(common_type(&[T::Char(Some(2)), T::Text], "COALESCE").unwrap(), T::Text);
    assert_eq!(common_type(&[T::Date, T::Timestamp], "UNION").unwrap(), T::Timestamp);
    // psql: select case when true then 1 else 'a'::text end -> CASE types text and integer
    // (the ELSE type comes first).
    let e = common_type(&[T::Text, T::Int4], "CASE").unwrap_err();
    assert_eq!(
        (e.message.as_str(), e.sqlstate),
        ("CASE types text and integer cannot be matched", SqlState::DATATYPE_MISMATCH)
    );
    let e = common_type(&[T::Int4, T::Text], "COALESCE").unwrap_err();
    assert_eq!(e.message, "COALESCE types integer and text cannot be matched");
}
