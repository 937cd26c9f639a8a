//! Aggregate accumulators with PostgreSQL's result types and values.
//!
//! - `sum` of int2/int4 accumulates exactly and yields bigint (`bigint out of range` past
//!   it); of int8 and numeric yields numeric (28 digits, `value overflows numeric format`
//!   past them); of floats the float type.
//! - `avg` of integers and numerics is the numeric quotient with PostgreSQL's division scale
//!   (`avg(1, 2) = 1.5000000000000000`); of floats float8.
//! - `var_*`/`stddev_*` of floats use the Youngs-Cramer update PostgreSQL uses (so results
//!   agree to the last bit); of integers/numerics exact sums and PostgreSQL's scale rules.
//! - `merge` combines partial states for parallel aggregation.

use std::cmp::Ordering;

use rust_decimal::{Decimal, MathematicalOps};

use crate::error::{FdwError, FdwResult};
use crate::expr::AggFunc;
use crate::types::compare::{cmp_bpchar, cmp_datum};
use crate::types::numeric as num;
use crate::types::{DataType, Datum, Interval};

use super::ops;

#[derive(Clone, Debug)]
enum State {
    Count(i64),
    /// Sum/avg of int2/int4/int8 (exact), with the row count.
    Int {
        sum: i128,
        n: i64,
    },
    Num {
        sum: Decimal,
        n: i64,
    },
    Float {
        sum: f64,
        n: i64,
    },
    Interval {
        sum: Interval,
        n: i64,
    },
    /// Min or max so far.
    Extreme(Option<Datum>),
    Bool(Option<bool>),
    /// string_agg as PostgreSQL keeps it: every value preceded by its delimiter, and the
    /// length of the first delimiter, dropped when finishing. Merging is concatenation.
    Str(Option<(String, usize)>),
    /// Youngs-Cramer state for float variance.
    FloatVar {
        n: f64,
        sx: f64,
        sxx: f64,
    },
    /// Exact sums for numeric variance.
    NumVar {
        n: i64,
        sx: Decimal,
        sxx: Decimal,
    },
}

/// The running state of one aggregate over one group.
#[derive(Clone, Debug)]
pub struct Accumulator {
    func: AggFunc,
    ret: DataType,
    bpchar: bool,
    state: State,
}

fn overflow_i64() -> FdwError {
    ops::int_range("bigint")
}

impl Accumulator {
    /// A fresh state for `func` whose (single) argument has type `arg_type` and whose result
    /// type is `ret` (from `crate::func::resolve_aggregate`).
    pub fn new(func: AggFunc, arg_type: &DataType, ret: &DataType) -> Accumulator {
        use AggFunc as A;
        let state = match func {
            A::CountStar | A::Count => State::Count(0),
            A::Sum | A::Avg => match arg_type {
                DataType::Int2 | DataType::Int4 | DataType::Int8 => State::Int { sum: 0, n: 0 },
                DataType::Numeric(_) => State::Num { sum: Decimal::ZERO, n: 0 },
                DataType::Interval => State::Interval { sum: Interval::default(), n: 0 },
                _ => State::Float { sum: 0.0, n: 0 },
            },
            A::Min | A::Max => State::Extreme(None),
            A::BoolAnd | A::BoolOr => State::Bool(None),
            A::StringAgg => State::Str(None),
            A::StddevSamp | A::StddevPop | A::VarSamp | A::VarPop => match arg_type {
                DataType::Float4 | DataType::Float8 => State::FloatVar { n: 0.0, sx: 0.0, sxx: 0.0 },
                _ => State::NumVar { n: 0, sx: Decimal::ZERO, sxx: Decimal::ZERO },
            },
        };
        Accumulator { func, ret: ret.clone(), bpchar: matches!(arg_type, DataType::Char(_)), state }
    }

    /// Adds one input row's arguments (empty for `count(*)`). NULL inputs are ignored as SQL
    /// requires, except by `count(*)`.
    pub fn update(&mut self, args: &[Datum]) -> FdwResult<()> {
        if let State::Count(c) = &mut self.state {
            if self.func == AggFunc::CountStar || args.first().is_some_and(|a| !a.is_null()) {
                *c += 1;
            }
            return Ok(());
        }
        let Some(v) = args.first() else { return Ok(()) };
        if v.is_null() {
            return Ok(());
        }
        match &mut self.state {
            State::Count(_) => {}
            State::Int { sum, n } => {
                *sum += v.as_i64().unwrap_or(0) as i128;
                *n += 1;
            }
            State::Num { sum, n } => {
                let x = match v {
                    Datum::Numeric(d) => *d,
                    _ => Decimal::from(v.as_i64().unwrap_or(0)),
                };
                *sum = sum.checked_add(x).ok_or_else(num::overflow)?;
                *n += 1;
            }
            State::Float { sum, n } => {
                *sum += float_of(v);
                *n += 1;
            }
            State::Interval { sum, n } => {
                if let Datum::Interval(iv) = v {
                    *sum = add_interval(sum, iv)?;
                }
                *n += 1;
            }
            State::Extreme(cur) => {
                let replace = match cur {
                    None => true,
                    Some(c) => {
                        let ord = if self.bpchar { cmp_bpchar(v, c) } else { cmp_datum(v, c) };
                        if self.func == AggFunc::Max {
                            ord == Ordering::Greater
                        } else {
                            ord == Ordering::Less
                        }
                    }
                };
                if replace {
                    *cur = Some(v.clone());
                }
            }
            State::Bool(cur) => {
                let b = v.as_bool().unwrap_or(false);
                *cur = Some(match (*cur, self.func) {
                    (None, _) => b,
                    (Some(c), AggFunc::BoolAnd) => c && b,
                    (Some(c), _) => c || b,
                });
            }
            State::Str(cur) => {
                let s = v.as_str().unwrap_or("");
                let delim = match args.get(1) {
                    Some(Datum::Text(d)) => d,
                    _ => "",
                };
                let (buf, _) = cur.get_or_insert_with(|| (String::new(), delim.len()));
                buf.push_str(delim);
                buf.push_str(s);
            }
            State::FloatVar { n, sx, sxx } => {
                let x = float_of(v);
                *n += 1.0;
                *sx += x;
                if *n > 1.0 {
                    let tmp = x * *n - *sx;
                    *sxx += tmp * tmp / (*n * (*n - 1.0));
                } else {
                    *sxx = if x.is_finite() { 0.0 } else { f64::NAN };
                }
            }
            State::NumVar { n, sx, sxx } => {
                let x = match v {
                    Datum::Numeric(d) => *d,
                    _ => Decimal::from(v.as_i64().unwrap_or(0)),
                };
                *n += 1;
                *sx = sx.checked_add(x).ok_or_else(num::overflow)?;
                let sq = x.checked_mul(x).ok_or_else(num::overflow)?;
                *sxx = sxx.checked_add(sq).ok_or_else(num::overflow)?;
            }
        }
        Ok(())
    }

    /// Merges another partial state of the same aggregate (parallel aggregation).
    pub fn merge(&mut self, other: &Accumulator) -> FdwResult<()> {
        match (&mut self.state, &other.state) {
            (State::Count(a), State::Count(b)) => *a += b,
            (State::Int { sum, n }, State::Int { sum: s2, n: n2 }) => {
                *sum += s2;
                *n += n2;
            }
            (State::Num { sum, n }, State::Num { sum: s2, n: n2 }) => {
                *sum = sum.checked_add(*s2).ok_or_else(num::overflow)?;
                *n += n2;
            }
            (State::Float { sum, n }, State::Float { sum: s2, n: n2 }) => {
                *sum += s2;
                *n += n2;
            }
            (State::Interval { sum, n }, State::Interval { sum: s2, n: n2 }) => {
                *sum = add_interval(sum, s2)?;
                *n += n2;
            }
            (State::Extreme(_), State::Extreme(Some(v))) => self.update(std::slice::from_ref(v))?,
            (State::Extreme(_), State::Extreme(None)) => {}
            (State::Bool(_), State::Bool(Some(b))) => self.update(&[Datum::Bool(*b)])?,
            (State::Bool(_), State::Bool(None)) => {}
            (State::Str(a), State::Str(b)) => match (a.as_mut(), b) {
                (Some((x, _)), Some((y, _))) => x.push_str(y),
                (None, Some(y)) => *a = Some(y.clone()),
                _ => {}
            },
            (State::FloatVar { n, sx, sxx }, State::FloatVar { n: n2, sx: sx2, sxx: sxx2 }) => {
                if *n == 0.0 {
                    (*n, *sx, *sxx) = (*n2, *sx2, *sxx2);
                } else if *n2 > 0.0 {
                    let total = *n + n2;
                    let tmp = *sx / *n - sx2 / n2;
                    *sxx = *sxx + sxx2 + *n * n2 * tmp * tmp / total;
                    *sx += sx2;
                    *n = total;
                }
            }
            (State::NumVar { n, sx, sxx }, State::NumVar { n: n2, sx: sx2, sxx: sxx2 }) => {
                *n += n2;
                *sx = sx.checked_add(*sx2).ok_or_else(num::overflow)?;
                *sxx = sxx.checked_add(*sxx2).ok_or_else(num::overflow)?;
            }
            _ => return Err(FdwError::internal("merging accumulators of different aggregates")),
        }
        Ok(())
    }

    /// The aggregate's value for the group (NULL for sum/min/max over no rows, 0 for count).
    pub fn finish(&self) -> FdwResult<Datum> {
        let avg = self.func == AggFunc::Avg;
        Ok(match &self.state {
            State::Count(c) => Datum::Int8(*c),
            State::Int { n: 0, .. }
            | State::Num { n: 0, .. }
            | State::Float { n: 0, .. }
            | State::Interval { n: 0, .. } => Datum::Null,
            State::Int { sum, n } => {
                if avg {
                    let s = Decimal::try_from_i128_with_scale(*sum, 0).map_err(|_| num::overflow())?;
                    Datum::Numeric(num::div(&s, &Decimal::from(*n))?)
                } else if matches!(self.ret, DataType::Numeric(_)) {
                    Datum::Numeric(Decimal::try_from_i128_with_scale(*sum, 0).map_err(|_| num::overflow())?)
                } else {
                    Datum::Int8(i64::try_from(*sum).map_err(|_| overflow_i64())?)
                }
            }
            State::Num { sum, n } => {
                if avg {
                    Datum::Numeric(num::div(sum, &Decimal::from(*n))?)
                } else {
                    Datum::Numeric(*sum)
                }
            }
            State::Float { sum, n } => {
                let v = if avg { sum / *n as f64 } else { *sum };
                match self.ret {
                    DataType::Float4 => Datum::Float4(v as f32),
                    _ => Datum::Float8(v),
                }
            }
            State::Interval { sum, n } => {
                if avg {
                    Datum::Interval(ops::interval_scale(sum, *n as f64, true)?)
                } else {
                    Datum::Interval(*sum)
                }
            }
            State::Extreme(v) => v.clone().unwrap_or(Datum::Null),
            State::Bool(b) => b.map_or(Datum::Null, Datum::Bool),
            State::Str(s) => match s {
                Some((buf, first_delim)) => Datum::text(buf.get(*first_delim..).unwrap_or("")),
                None => Datum::Null,
            },
            State::FloatVar { n, sxx, .. } => {
                let sample = matches!(self.func, AggFunc::VarSamp | AggFunc::StddevSamp);
                if *n == 0.0 || (sample && *n <= 1.0) {
                    return Ok(Datum::Null);
                }
                let var = sxx / if sample { n - 1.0 } else { *n };
                Datum::Float8(if matches!(self.func, AggFunc::StddevSamp | AggFunc::StddevPop) {
                    var.sqrt()
                } else {
                    var
                })
            }
            State::NumVar { n, sx, sxx } => self.numeric_variance(*n, sx, sxx)?,
        })
    }

    /// PostgreSQL's `numeric_stddev_internal`: numerator `N*sum(x^2) - sum(x)^2` at scale
    /// `2 * dscale(sum(x))`, divided with `select_div_scale`, square root at the same scale.
    /// Exact in 128-bit integers when the sums fit, else through `rust_decimal`.
    fn numeric_variance(&self, n: i64, sx: &Decimal, sxx: &Decimal) -> FdwResult<Datum> {
        let sample = matches!(self.func, AggFunc::VarSamp | AggFunc::StddevSamp);
        let stddev = matches!(self.func, AggFunc::StddevSamp | AggFunc::StddevPop);
        if n == 0 || (sample && n <= 1) {
            return Ok(Datum::Null);
        }
        let denom = if sample { n as u128 * (n as u128 - 1) } else { n as u128 * n as u128 };
        let scale2 = 2 * sx.scale();
        let exact = (|| {
            let shift = scale2.checked_sub(sxx.scale())?;
            let sxx_m = sxx.mantissa().checked_mul(10i128.checked_pow(shift)?)?;
            let sx_m = sx.mantissa();
            let numer = (n as i128).checked_mul(sxx_m)?.checked_sub(sx_m.checked_mul(sx_m)?)?;
            if numer <= 0 {
                return Some(Decimal::ZERO);
            }
            let numer = numer as u128;
            let rscale = num::raw_div_scale(numer, scale2, denom, 0);
            let var = num::raw_div(numer, scale2, denom, 0, rscale, false)?;
            if stddev {
                num::sqrt_exact(&var, rscale)
            } else {
                Some(var)
            }
        })();
        if let Some(v) = exact {
            return Ok(Datum::Numeric(v));
        }
        let vn = Decimal::from(n);
        let numer = vn
            .checked_mul(*sxx)
            .and_then(|a| sx.checked_mul(*sx).and_then(|b| a.checked_sub(b)))
            .ok_or_else(num::overflow)?;
        if numer <= Decimal::ZERO {
            return Ok(Datum::Numeric(Decimal::ZERO));
        }
        let denom = Decimal::from_i128_with_scale(denom as i128, 0);
        let rscale = num::div_scale(&numer, &denom);
        let var = num::div(&numer, &denom)?;
        let v = if stddev { var.sqrt().ok_or_else(num::overflow)? } else { var };
        Ok(Datum::Numeric(num::with_scale(v, rscale)))
    }
}

fn float_of(v: &Datum) -> f64 {
    match v {
        Datum::Float8(f) => *f,
        Datum::Float4(f) => *f as f64,
        Datum::Numeric(d) => num::to_f64(d),
        _ => v.as_i64().unwrap_or(0) as f64,
    }
}

fn add_interval(a: &Interval, b: &Interval) -> FdwResult<Interval> {
    Ok(Interval::new(
        a.months.checked_add(b.months).ok_or_else(ops::interval_range)?,
        a.days.checked_add(b.days).ok_or_else(ops::interval_range)?,
        a.micros.checked_add(b.micros).ok_or_else(ops::interval_range)?,
    ))
}
