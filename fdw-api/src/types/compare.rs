//! Ordering, equality and hashing of datums as PostgreSQL's default btree and hash operator
//! classes define them, for sorting, grouping, DISTINCT, hash joins and comparisons.
//!
//! - Every type has a total order: floats put `NaN` above every number and equal to itself,
//!   and `-0 = 0` (PostgreSQL's float8 comparisons); numerics compare by value (`1.0 = 1.00`);
//!   intervals compare with 30-day months and 24-hour days (`'1 mon' = '30 days'`); text
//!   compares bytes, which is PostgreSQL's order under the `C` (and `C.UTF-8`) collation the
//!   reference server uses.
//! - `char(n)` compares ignoring trailing blanks: use `cmp_bpchar`.
//! - Values of different integer widths (and int/numeric, int/float, date/timestamp) also
//!   compare correctly, though the binder normally coerces both sides to one type first.
//! - `Null` sorts after every value (PostgreSQL's default `NULLS LAST` for ascending order);
//!   SQL comparisons must check for NULL before calling these.
//!
//! `GroupKey` / `DatumKey` wrap datums with `Eq`/`Hash` consistent with this order (NULLs
//! equal to each other, as GROUP BY and DISTINCT treat them).

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use rust_decimal::Decimal;

use super::calendar::{DATE_NEG_INFINITY, DATE_POS_INFINITY, TS_NEG_INFINITY, TS_POS_INFINITY};
use super::{Datum, USECS_PER_DAY};

/// Total order of floats as PostgreSQL's `float8_cmp`: NaN last and equal to NaN.
pub fn cmp_f64(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// A date as a timestamp (for comparing the two), keeping the infinities.
pub fn date_to_ts(d: i32) -> i64 {
    match d {
        DATE_NEG_INFINITY => TS_NEG_INFINITY,
        DATE_POS_INFINITY => TS_POS_INFINITY,
        _ => d as i64 * USECS_PER_DAY,
    }
}

fn rank(d: &Datum) -> u8 {
    match d {
        Datum::Bool(_) => 0,
        Datum::Int2(_) | Datum::Int4(_) | Datum::Int8(_) | Datum::Float4(_) | Datum::Float8(_) | Datum::Numeric(_) => 1,
        Datum::Text(_) => 2,
        Datum::Date(_) | Datum::Timestamp(_) => 3,
        Datum::Interval(_) => 4,
        Datum::Null => 5,
    }
}

fn as_f64(d: &Datum) -> f64 {
    match d {
        Datum::Int2(v) => *v as f64,
        Datum::Int4(v) => *v as f64,
        Datum::Int8(v) => *v as f64,
        Datum::Float4(v) => *v as f64,
        Datum::Float8(v) => *v,
        Datum::Numeric(v) => super::numeric::to_f64(v),
        _ => 0.0,
    }
}

/// Strips trailing blanks, the way `char(n)` compares.
pub fn trim_bpchar(s: &str) -> &str {
    s.trim_end_matches(' ')
}

/// Compares two `char(n)` values (trailing blanks insignificant); other datums as `cmp_datum`.
pub fn cmp_bpchar(a: &Datum, b: &Datum) -> Ordering {
    match (a, b) {
        (Datum::Text(x), Datum::Text(y)) => trim_bpchar(x).as_bytes().cmp(trim_bpchar(y).as_bytes()),
        _ => cmp_datum(a, b),
    }
}

/// The total order of two datums (see the module docs).
pub fn cmp_datum(a: &Datum, b: &Datum) -> Ordering {
    use Datum::*;
    match (a, b) {
        (Int4(x), Int4(y)) => x.cmp(y),
        (Int8(x), Int8(y)) => x.cmp(y),
        (Text(x), Text(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Numeric(x), Numeric(y)) => x.cmp(y),
        (Float8(x), Float8(y)) => cmp_f64(*x, *y),
        (Date(x), Date(y)) => x.cmp(y),
        (Int2(x), Int2(y)) => x.cmp(y),
        (Float4(x), Float4(y)) => cmp_f64(*x as f64, *y as f64),
        (Bool(x), Bool(y)) => x.cmp(y),
        (Timestamp(x), Timestamp(y)) => x.cmp(y),
        (Interval(x), Interval(y)) => x.cmp_key().cmp(&y.cmp_key()),
        (Null, Null) => Ordering::Equal,
        (Null, _) => Ordering::Greater,
        (_, Null) => Ordering::Less,
        (Date(x), Timestamp(y)) => date_to_ts(*x).cmp(y),
        (Timestamp(x), Date(y)) => x.cmp(&date_to_ts(*y)),
        _ => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => match (a, b) {
                (Numeric(x), _) if b.as_i64().is_some() => x.cmp(&Decimal::from(b.as_i64().unwrap_or(0))),
                (_, Numeric(y)) if a.as_i64().is_some() => Decimal::from(a.as_i64().unwrap_or(0)).cmp(y),
                _ if rank(a) == 1 && rank(b) == 1 => cmp_f64(as_f64(a), as_f64(b)),
                _ => rank(a).cmp(&rank(b)),
            },
        },
    }
}

impl Datum {
    /// Total order for sorting (see `types::compare`). NULL sorts last; callers implementing
    /// `NULLS FIRST` or SQL comparisons handle NULL themselves.
    pub fn cmp_for_sort(&self, other: &Datum) -> Ordering {
        cmp_datum(self, other)
    }

    /// Equality as GROUP BY sees it (NULL equals NULL, `1.0 = 1.00`, `NaN = NaN`).
    pub fn group_eq(&self, other: &Datum) -> bool {
        cmp_datum(self, other) == Ordering::Equal
    }

    /// Feeds a hash consistent with `group_eq` into `state`.
    pub fn hash_into<H: Hasher>(&self, state: &mut H) {
        match self {
            Datum::Null => state.write_u8(0),
            Datum::Bool(b) => state.write_u8(2 + *b as u8),
            Datum::Int2(_) | Datum::Int4(_) | Datum::Int8(_) => {
                state.write_u8(4);
                state.write_i64(self.as_i64().unwrap_or(0));
            }
            Datum::Float4(v) => hash_f64(*v as f64, state),
            Datum::Float8(v) => hash_f64(*v, state),
            Datum::Numeric(v) => {
                let n = v.normalize();
                state.write_u8(6);
                state.write_i128(n.mantissa());
                state.write_u32(n.scale());
            }
            Datum::Text(s) => {
                state.write_u8(7);
                state.write(s.as_bytes());
                state.write_u8(0xff);
            }
            Datum::Date(d) => {
                state.write_u8(8);
                state.write_i64(date_to_ts(*d));
            }
            Datum::Timestamp(t) => {
                state.write_u8(8);
                state.write_i64(*t);
            }
            Datum::Interval(i) => {
                state.write_u8(9);
                state.write_i128(i.cmp_key());
            }
        }
    }
}

fn hash_f64<H: Hasher>(v: f64, state: &mut H) {
    state.write_u8(5);
    let canon = if v.is_nan() {
        f64::NAN.to_bits()
    } else if v == 0.0 {
        0
    } else {
        v.to_bits()
    };
    state.write_u64(canon);
}

/// Hashes one datum with `ahash` (fixed keys, so equal values hash equally across threads
/// and runs of the same build).
pub fn hash_datum(d: &Datum) -> u64 {
    let mut h = ahash::RandomState::with_seeds(1, 2, 3, 4).build_hasher();
    d.hash_into(&mut h);
    h.finish()
}

use std::hash::BuildHasher;

/// One datum usable as a hash-map key with grouping semantics.
#[derive(Clone, Debug)]
pub struct DatumKey(pub Datum);

impl PartialEq for DatumKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.group_eq(&other.0)
    }
}
impl Eq for DatumKey {}
impl Hash for DatumKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash_into(state)
    }
}

/// A composite grouping key (GROUP BY columns, DISTINCT rows, hash join keys).
#[derive(Clone, Debug, Default)]
pub struct GroupKey(pub Vec<Datum>);

impl PartialEq for GroupKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(&other.0).all(|(a, b)| a.group_eq(b))
    }
}
impl Eq for GroupKey {}
impl Hash for GroupKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for d in &self.0 {
            d.hash_into(state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{DataType, Interval};

    fn num(s: &str) -> Datum {
        DataType::Numeric(None).parse_text(s).unwrap()
    }

    #[test]
    fn total_order_and_grouping() {
        assert_eq!(cmp_datum(&Datum::Float8(f64::NAN), &Datum::Float8(f64::INFINITY)), Ordering::Greater);
        assert!(Datum::Float8(f64::NAN).group_eq(&Datum::Float8(f64::NAN)));
        assert!(Datum::Float8(-0.0).group_eq(&Datum::Float8(0.0)));
        assert_eq!(hash_datum(&Datum::Float8(-0.0)), hash_datum(&Datum::Float8(0.0)));
        assert!(num("1.0").group_eq(&num("1.00")));
        assert_eq!(hash_datum(&num("1.0")), hash_datum(&num("1.00")));
        let a = Datum::Interval(Interval::new(1, 0, 0));
        let b = Datum::Interval(Interval::new(0, 30, 0));
        assert!(a.group_eq(&b));
        assert_eq!(hash_datum(&a), hash_datum(&b));
        assert_eq!(cmp_datum(&Datum::Int4(3), &Datum::Int8(2)), Ordering::Greater);
        assert_eq!(cmp_datum(&Datum::Int4(3), &num("3.5")), Ordering::Less);
        assert_eq!(cmp_datum(&Datum::Null, &Datum::Int4(1)), Ordering::Greater);
        assert_eq!(cmp_datum(&Datum::text("a"), &Datum::text("B")), Ordering::Greater);
        assert_eq!(cmp_bpchar(&Datum::text("ab  "), &Datum::text("ab")), Ordering::Equal);
        assert_ne!(cmp_datum(&Datum::text("ab  "), &Datum::text("ab")), Ordering::Equal);
        let k1 = GroupKey(vec![Datum::Null, num("2.50")]);
        let k2 = GroupKey(vec![Datum::Null, num("2.5")]);
        let mut set = std::collections::HashSet::new();
        set.insert(k1);
        assert!(set.contains(&k2));
    }
}
