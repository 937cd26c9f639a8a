//! Program tests: three-valued logic, NULL rules, short-circuit, folding; expected values
//! verified against PostgreSQL 15.

use super::*;
use crate::error::SqlState;
use crate::expr::{AggFunc, BinaryOp, Expr, ScalarFunc, UnaryOp};
use crate::types::{DataType as T, Datum};

fn col(i: usize, ty: T) -> Expr {
    Expr::column(i, ty)
}
fn lit(v: Datum) -> Expr {
    let ty = v.natural_type();
    Expr::constant(v, ty)
}
fn int(v: i32) -> Expr {
    lit(Datum::Int4(v))
}
fn null(ty: T) -> Expr {
    Expr::null(ty)
}
fn bin(op: BinaryOp, l: Expr, r: Expr) -> Expr {
    let ty = if op.is_comparison() || matches!(op, BinaryOp::And | BinaryOp::Or) { T::Bool } else { l.data_type() };
    Expr::Binary { op, left: Box::new(l), right: Box::new(r), ty }
}
fn eval(e: &Expr, row: &[Datum]) -> FdwResult<Datum> {
    Program::compile(e)?.eval(row, &mut EvalContext::default())
}
fn b(v: Option<bool>) -> Datum {
    v.map_or(Datum::Null, Datum::Bool)
}

#[test]
fn three_valued_logic() {
    use BinaryOp::*;
    let vals = [Some(true), Some(false), None];
    for x in vals {
        for y in vals {
            let row = [b(x), b(y)];
            let and = eval(&bin(And, col(0, T::Bool), col(1, T::Bool)), &row).unwrap();
            let or = eval(&bin(Or, col(0, T::Bool), col(1, T::Bool)), &row).unwrap();
            let want_and = match (x, y) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            };
            let want_or = match (x, y) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            };
            assert_eq!(and, b(want_and), "{x:?} AND {y:?}");
            assert_eq!(or, b(want_or), "{x:?} OR {y:?}");
        }
        let not = Expr::Unary { op: UnaryOp::Not, expr: Box::new(col(0, T::Bool)), ty: T::Bool };
        assert_eq!(eval(&not, &[b(x)]).unwrap(), b(x.map(|v| !v)));
    }
}

#[test]
fn and_or_short_circuit_skips_errors() {
    use BinaryOp::*;
    // false AND (1/0 = 1): PostgreSQL does not evaluate the right side.
    let div0 = bin(Eq, bin(Div, int(1), col(1, T::Int4)), int(1));
    let e = bin(And, col(0, T::Bool), div0.clone());
    assert_eq!(eval(&e, &[Datum::Bool(false), Datum::Int4(0)]).unwrap(), Datum::Bool(false));
    let e = bin(Or, col(0, T::Bool), div0);
    assert_eq!(eval(&e, &[Datum::Bool(true), Datum::Int4(0)]).unwrap(), Datum::Bool(true));
    let err = eval(&e, &[Datum::Bool(false), Datum::Int4(0)]).unwrap_err();
    assert_eq!(err.sqlstate, SqlState::DIVISION_BY_ZERO);
}

#[test]
fn null_propagation_and_distinct() {
    use BinaryOp::*;
    assert_eq!(eval(&bin(Add, col(0, T::Int4), int(1)), &[Datum::Null]).unwrap(), Datum::Null);
    assert_eq!(eval(&bin(Eq, col(0, T::Int4), int(1)), &[Datum::Null]).unwrap(), Datum::Null);
    let d = bin(IsDistinctFrom, col(0, T::Int4), col(1, T::Int4));
    assert_eq!(eval(&d, &[Datum::Null, Datum::Null]).unwrap(), Datum::Bool(false));
    assert_eq!(eval(&d, &[Datum::Null, Datum::Int4(1)]).unwrap(), Datum::Bool(true));
    assert_eq!(eval(&d, &[Datum::Int4(1), Datum::Int4(1)]).unwrap(), Datum::Bool(false));
    let nd = bin(IsNotDistinctFrom, col(0, T::Int4), col(1, T::Int4));
    assert_eq!(eval(&nd, &[Datum::Null, Datum::Null]).unwrap(), Datum::Bool(true));
    let isnull = Expr::Unary { op: UnaryOp::IsNull, expr: Box::new(col(0, T::Int4)), ty: T::Bool };
    assert_eq!(eval(&isnull, &[Datum::Null]).unwrap(), Datum::Bool(true));
    let isnottrue = Expr::Unary { op: UnaryOp::IsNotTrue, expr: Box::new(col(0, T::Bool)), ty: T::Bool };
    assert_eq!(eval(&isnottrue, &[Datum::Null]).unwrap(), Datum::Bool(true));
    let isfalse = Expr::Unary { op: UnaryOp::IsFalse, expr: Box::new(col(0, T::Bool)), ty: T::Bool };
    assert_eq!(eval(&isfalse, &[Datum::Null]).unwrap(), Datum::Bool(false));
}

#[test]
fn in_list_null_semantics() {
    let inl = |list: Vec<Expr>, negated: bool| Expr::InList { expr: Box::new(col(0, T::Int4)), list, negated };
    let row = [Datum::Int4(3)];
    // psql: select 3 in (1, null) -> NULL; 1 in (1, null) -> t; 3 not in (1, null) -> NULL.
    assert_eq!(eval(&inl(vec![int(1), null(T::Int4)], false), &row).unwrap(), Datum::Null);
    assert_eq!(eval(&inl(vec![int(3), null(T::Int4)], false), &row).unwrap(), Datum::Bool(true));
    assert_eq!(eval(&inl(vec![int(1), null(T::Int4)], true), &row).unwrap(), Datum::Null);
    assert_eq!(eval(&inl(vec![int(1), int(2)], true), &row).unwrap(), Datum::Bool(true));
    assert_eq!(eval(&inl(vec![int(1)], false), &[Datum::Null]).unwrap(), Datum::Null);
    // Long constant lists go through the hash set, with the same answers.
    let long: Vec<Expr> = (10..30).map(int).chain([null(T::Int4)]).collect();
    assert_eq!(eval(&inl(long.clone(), false), &row).unwrap(), Datum::Null);
    assert_eq!(eval(&inl(long.clone(), false), &[Datum::Int4(15)]).unwrap(), Datum::Bool(true));
    assert_eq!(eval(&inl(long[..20].to_vec(), true), &row).unwrap(), Datum::Bool(true));
}

#[test]
fn case_coalesce_nullif() {
    use BinaryOp::*;
    let case = Expr::Case {
        whens: vec![
            (bin(Lt, col(0, T::Int4), int(0)), lit(Datum::text("neg"))),
            (bin(Eq, col(0, T::Int4), int(0)), lit(Datum::text("zero"))),
        ],
        else_expr: Some(Box::new(lit(Datum::text("pos")))),
        ty: T::Text,
    };
    assert_eq!(eval(&case, &[Datum::Int4(-5)]).unwrap().to_text(), "neg");
    assert_eq!(eval(&case, &[Datum::Int4(0)]).unwrap().to_text(), "zero");
    assert_eq!(eval(&case, &[Datum::Int4(7)]).unwrap().to_text(), "pos");
    assert_eq!(eval(&case, &[Datum::Null]).unwrap().to_text(), "pos");
    let no_else = Expr::Case { whens: vec![(col(0, T::Bool), int(1))], else_expr: None, ty: T::Int4 };
    assert_eq!(eval(&no_else, &[Datum::Bool(false)]).unwrap(), Datum::Null);
    // CASE WHEN false THEN 1/0 END folds without raising.
    let lazy = Expr::Case {
        whens: vec![(lit(Datum::Bool(false)), bin(Div, int(1), int(0)))],
        else_expr: Some(Box::new(int(2))),
        ty: T::Int4,
    };
    assert_eq!(eval(&lazy, &[]).unwrap(), Datum::Int4(2));
    let co = Expr::Coalesce { args: vec![col(0, T::Int4), col(1, T::Int4), int(9)], ty: T::Int4 };
    assert_eq!(eval(&co, &[Datum::Null, Datum::Int4(4)]).unwrap(), Datum::Int4(4));
    assert_eq!(eval(&co, &[Datum::Null, Datum::Null]).unwrap(), Datum::Int4(9));
    let ni = Expr::NullIf { left: Box::new(col(0, T::Int4)), right: Box::new(int(1)), ty: T::Int4 };
    assert_eq!(eval(&ni, &[Datum::Int4(1)]).unwrap(), Datum::Null);
    assert_eq!(eval(&ni, &[Datum::Int4(2)]).unwrap(), Datum::Int4(2));
}

#[test]
fn like_cast_func_param() {
    let like = |pat: &str, neg: bool| Expr::Like {
        expr: Box::new(col(0, T::Text)),
        pattern: Box::new(lit(Datum::text(pat))),
        escape: None,
        negated: neg,
        case_insensitive: false,
    };
    let row = [Datum::text("forest green")];
    assert_eq!(eval(&like("%green%", false), &row).unwrap(), Datum::Bool(true));
    assert_eq!(eval(&like("%green%", true), &row).unwrap(), Datum::Bool(false));
    assert_eq!(eval(&like("a%", false), &[Datum::Null]).unwrap(), Datum::Null);
    let dynamic = Expr::Like {
        expr: Box::new(col(0, T::Text)),
        pattern: Box::new(col(1, T::Text)),
        escape: None,
        negated: false,
        case_insensitive: true,
    };
    assert_eq!(eval(&dynamic, &[Datum::text("ABC"), Datum::text("a_c")]).unwrap(), Datum::Bool(true));
    let cast = Expr::Cast { expr: Box::new(col(0, T::Text)), ty: T::Int4 };
    assert_eq!(eval(&cast, &[Datum::text(" 42 ")]).unwrap(), Datum::Int4(42));
    let e = eval(&cast, &[Datum::text("abc")]).unwrap_err();
    assert_eq!(e.message, "invalid input syntax for type integer: \"abc\"");
    let f = Expr::Func { func: ScalarFunc::Upper, args: vec![col(0, T::Text)], ty: T::Text };
    assert_eq!(eval(&f, &[Datum::text("abc")]).unwrap().to_text(), "ABC");
    let p = bin(BinaryOp::Add, Expr::Param { index: 0, ty: T::Int4 }, int(1));
    let prog = Program::compile(&p).unwrap();
    let params = [Datum::Int4(41)];
    let mut ctx = EvalContext { params: &params, subplans: None };
    assert_eq!(prog.eval(&[], &mut ctx).unwrap(), Datum::Int4(42));
    let e = prog.eval(&[], &mut EvalContext::default()).unwrap_err();
    assert_eq!(e.message, "there is no parameter $1");
}

#[test]
fn overflow_errors() {
    use BinaryOp::*;
    let e = eval(&bin(Add, col(0, T::Int4), int(1)), &[Datum::Int4(i32::MAX)]).unwrap_err();
    assert_eq!((e.message.as_str(), e.sqlstate), ("integer out of range", SqlState::NUMERIC_VALUE_OUT_OF_RANGE));
    let e = eval(&bin(Mul, col(0, T::Int8), col(0, T::Int8)), &[Datum::Int8(i64::MAX)]).unwrap_err();
    assert_eq!(e.message, "bigint out of range");
    let neg = Expr::Unary { op: UnaryOp::Neg, expr: Box::new(col(0, T::Int2)), ty: T::Int2 };
    assert_eq!(eval(&neg, &[Datum::Int2(i16::MIN)]).unwrap_err().message, "smallint out of range");
}

#[test]
fn constant_folding() {
    use BinaryOp::*;
    let e = bin(Add, bin(Mul, int(2), int(3)), col(0, T::Int4));
    let p = Program::compile(&e).unwrap();
    assert_eq!(p.len(), 1, "2*3 folds, leaving one add");
    assert_eq!(p.eval(&[Datum::Int4(1)], &mut EvalContext::default()).unwrap(), Datum::Int4(7));
    let c = Program::compile(&bin(Add, int(2), int(3))).unwrap();
    assert_eq!(c.as_const(), Some(&Datum::Int4(5)));
    assert_eq!(eval_const(&bin(Mul, int(6), int(7))).unwrap(), Datum::Int4(42));
    // A failing constant stays and fails at run time.
    let p = Program::compile(&bin(Div, int(1), int(0))).unwrap();
    assert!(p.as_const().is_none());
    let r = Program::compile(&Expr::Func { func: ScalarFunc::Random, args: vec![], ty: T::Float8 }).unwrap();
    assert!(r.as_const().is_none());
}

struct FakeRunner;
impl SubPlanRunner for FakeRunner {
    fn run_subplan(&mut self, id: usize, _k: SubLinkKind, args: &[Datum], lhs: Option<&Datum>) -> FdwResult<Datum> {
        Ok(Datum::Int8(id as i64 * 100 + args.len() as i64 * 10 + lhs.and_then(|d| d.as_i64()).unwrap_or(0)))
    }
}

#[test]
fn subplans_call_the_runner() {
    let e = Expr::SubPlan {
        id: 3,
        kind: SubLinkKind::Any,
        args: vec![col(0, T::Int4), int(1)],
        lhs: Some(Box::new(int(5))),
        ty: T::Int8,
    };
    let p = Program::compile(&e).unwrap();
    let mut runner = FakeRunner;
    let mut ctx = EvalContext { params: &[], subplans: Some(&mut runner) };
    assert_eq!(p.eval(&[Datum::Int4(0)], &mut ctx).unwrap(), Datum::Int8(325));
    let e = p.eval(&[Datum::Int4(0)], &mut EvalContext::default()).unwrap_err();
    assert_eq!(e.sqlstate, SqlState::INTERNAL_ERROR);
}

#[test]
fn wide_programs_use_heap_registers() {
    let mut e = col(0, T::Int8);
    for i in 0..40 {
        e = bin(BinaryOp::Add, e, col(0, T::Int8));
        let _ = i;
    }
    assert_eq!(eval(&e, &[Datum::Int8(1)]).unwrap(), Datum::Int8(41));
}

fn agg(func: AggFunc, arg: T, vals: &[Datum]) -> String {
    let (_, r) = match func {
        AggFunc::CountStar => crate::func::resolve_aggregate("count", &[], true),
        _ => crate::func::resolve_aggregate(func.sql_name(), std::slice::from_ref(&arg), false),
    }
    .unwrap()
    .unwrap();
    let mut a = Accumulator::new(func, &arg, &r.ret);
    for v in vals {
        a.update(std::slice::from_ref(v)).unwrap();
    }
    // Splitting the input in two partial states and merging gives the same answer.
    let mut p1 = Accumulator::new(func, &arg, &r.ret);
    let mut p2 = Accumulator::new(func, &arg, &r.ret);
    for (i, v) in vals.iter().enumerate() {
        if i % 2 == 0 { &mut p1 } else { &mut p2 }.update(std::slice::from_ref(v)).unwrap();
    }
    p1.merge(&p2).unwrap();
    let whole = a.finish().unwrap().to_text();
    let merged = p1.finish().unwrap().to_text();
    if !matches!(func, AggFunc::VarSamp | AggFunc::VarPop | AggFunc::StddevSamp | AggFunc::StddevPop)
        || arg != T::Float8
    {
        assert_eq!(whole, merged, "{func:?}");
    }
    whole
}

#[test]
fn aggregates_match_postgres() {
    use AggFunc::*;
    let ints: Vec<Datum> = [1, 2, 3, 4].iter().map(|v| Datum::Int4(*v)).collect();
    // psql: select avg(x), sum(x), stddev(x), variance(x), var_pop(x), stddev_pop(x)
    //       from (values (1),(2),(3),(4)) t(x)
    assert_eq!(agg(Avg, T::Int4, &ints), "2.5000000000000000");
    assert_eq!(agg(Sum, T::Int4, &ints), "10");
    assert_eq!(agg(StddevSamp, T::Int4, &ints), "1.2909944487358056");
    assert_eq!(agg(VarSamp, T::Int4, &ints), "1.6666666666666667");
    assert_eq!(agg(VarPop, T::Int4, &ints), "1.2500000000000000");
    assert_eq!(agg(StddevPop, T::Int4, &ints), "1.1180339887498948");
    assert_eq!(agg(Avg, T::Int4, &ints[..2]), "1.5000000000000000");
    let nums: Vec<Datum> = ["1.5", "2.25", "3.0"].iter().map(|s| T::Numeric(None).parse_text(s).unwrap()).collect();
    assert_eq!(agg(Avg, T::Numeric(None), &nums), "2.2500000000000000");
    assert_eq!(agg(Sum, T::Numeric(None), &nums), "6.75");
    assert_eq!(agg(StddevSamp, T::Numeric(None), &nums), "0.75000000000000000000");
    assert_eq!(agg(VarSamp, T::Numeric(None), &nums), "0.56250000000000000000");
    let floats: Vec<Datum> = [1.5, 2.25, 3.1].iter().map(|v| Datum::Float8(*v)).collect();
    assert_eq!(agg(Avg, T::Float8, &floats), "2.283333333333333");
    assert_eq!(agg(Sum, T::Float8, &floats), "6.85");
    assert_eq!(agg(StddevSamp, T::Float8, &floats), "0.8005206639015221");
    assert_eq!(agg(VarSamp, T::Float8, &floats), "0.6408333333333337");
    assert_eq!(agg(VarPop, T::Float8, &floats), "0.42722222222222245");
    assert_eq!(agg(VarSamp, T::Int4, &[Datum::Int4(1), Datum::Int4(1)]), "0");
    assert_eq!(agg(Sum, T::Int8, &[Datum::Int8(i64::MAX), Datum::Int8(1)]), "9223372036854775808");
    assert_eq!(agg(Sum, T::Int4, &[]), "");
    assert!(Accumulator::new(Sum, &T::Int4, &T::Int8).finish().unwrap().is_null());
    assert_eq!(agg(Count, T::Int4, &[Datum::Int4(1), Datum::Null]), "1");
    assert_eq!(agg(CountStar, T::Int4, &[Datum::Int4(1), Datum::Null]), "2");
    assert_eq!(agg(Max, T::Text, &[Datum::text("b"), Datum::text("a"), Datum::Null]), "b");
    assert_eq!(agg(Min, T::Int4, &ints), "1");
    assert_eq!(agg(BoolAnd, T::Bool, &[Datum::Bool(true), Datum::Bool(false)]), "f");
    assert_eq!(agg(BoolOr, T::Bool, &[Datum::Bool(true), Datum::Bool(false)]), "t");
    let ivs = [T::Interval.parse_text("1 day").unwrap(), T::Interval.parse_text("2 days 1 hour").unwrap()];
    assert_eq!(agg(Avg, T::Interval, &ivs), "1 day 12:30:00");
    assert_eq!(agg(Sum, T::Interval, &ivs), "3 days 01:00:00");
    assert_eq!(agg(Sum, T::Float4, &[Datum::Float4(1.5), Datum::Float4(2.25)]), "3.75");
    let mut sa = Accumulator::new(StringAgg, &T::Text, &T::Text);
    for v in [Datum::text("a"), Datum::Null, Datum::text("c")] {
        sa.update(&[v, Datum::text(",")]).unwrap();
    }
    assert_eq!(sa.finish().unwrap().to_text(), "a,c");
    // Partial states merge with the delimiters in place (PostgreSQL's string_agg combine).
    let mut p1 = Accumulator::new(StringAgg, &T::Text, &T::Text);
    let mut p2 = Accumulator::new(StringAgg, &T::Text, &T::Text);
    p1.update(&[Datum::text("a"), Datum::text(";")]).unwrap();
    p2.update(&[Datum::text("b"), Datum::text(",")]).unwrap();
    p2.update(&[Datum::text("c"), Datum::text("-")]).unwrap();
    p1.merge(&p2).unwrap();
    assert_eq!(p1.finish().unwrap().to_text(), "a,b-c");
    let mut big = Accumulator::new(Sum, &T::Int4, &T::Int8);
    big.update(&[Datum::Int4(1)]).unwrap();
    let mut other = Accumulator::new(Sum, &T::Int4, &T::Int8);
    other.update(&[Datum::Int4(2)]).unwrap();
    big.merge(&other).unwrap();
    assert_eq!(big.finish().unwrap(), Datum::Int8(3));
}

#[test]
fn batch_evaluation_matches_row_evaluation() {
    use BinaryOp::*;
    let pred = bin(And, bin(Gt, col(0, T::Int4), int(1)), bin(Lt, col(1, T::Int4), int(10)));
    let p = Program::compile(&pred).unwrap();
    let rows: Vec<crate::types::Row> = vec![
        vec![Datum::Int4(2), Datum::Int4(5)],
        vec![Datum::Int4(0), Datum::Int4(5)],
        vec![Datum::Null, Datum::Int4(5)],
        vec![Datum::Int4(3), Datum::Int4(50)],
        vec![Datum::Int4(9), Datum::Int4(-1)],
    ];
    let mut selected = Vec::new();
    p.filter_batch(&rows, &mut EvalContext::default(), &mut selected).unwrap();
    assert_eq!(selected, vec![0, 4]);
    let mut out = Vec::new();
    p.eval_batch(&rows, &mut EvalContext::default(), &mut out).unwrap();
    let one_by_one: Vec<Datum> = rows.iter().map(|r| p.eval(r, &mut EvalContext::default()).unwrap()).collect();
    assert_eq!(out, one_by_one);
    let short = vec![vec![Datum::Int4(1)]];
    assert!(p.filter_batch(&short, &mut EvalContext::default(), &mut selected).is_err());
}
