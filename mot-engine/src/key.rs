//! Order-preserving ("memcomparable") key encoding.
//!
//! Index keys are byte strings whose plain byte order (`memcmp`) equals the SQL order of the
//! datums they encode, so every index is one ordered map of bytes and a range of SQL values is
//! a range of byte strings. Each column is encoded self-delimiting: a tag byte (`0x01` value,
//! `0x02` NULL, so NULLs sort last as in PostgreSQL's default `ASC NULLS LAST`), then a
//! fixed-width or terminated body. Consequently a prefix of columns is a byte prefix, and a
//! multi-column range is a byte range.
//!
//! Simplifications: text compares by bytes (PostgreSQL's `C`/`C.UTF-8` collation, which is what
//! the reference server uses); integers of every width share one encoding, as do `real` and
//! `double precision`, so cross-width comparisons (`int4_col = 5::int8`) are exact.

use fdw_api::{DataType, Datum, FdwError, FdwResult, Numeric};

/// How values of a column are encoded; two types of the same class compare exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyClass {
    Bool,
    Int,
    Float,
    Numeric,
    /// `blank_padded`: `char(n)`, whose trailing blanks are insignificant.
    Str {
        blank_padded: bool,
    },
    Date,
    Timestamp,
    Interval,
}

pub const TAG_VALUE: u8 = 0x01;
pub const TAG_NULL: u8 = 0x02;

impl KeyClass {
    /// The class of a column type; `None` for types that cannot be keyed.
    pub fn of(ty: &DataType) -> Option<KeyClass> {
        Some(match ty {
            DataType::Bool => KeyClass::Bool,
            DataType::Int2 | DataType::Int4 | DataType::Int8 => KeyClass::Int,
            DataType::Float4 | DataType::Float8 => KeyClass::Float,
            DataType::Numeric(_) => KeyClass::Numeric,
            DataType::Text | DataType::Varchar(_) => KeyClass::Str { blank_padded: false },
            DataType::Char(_) => KeyClass::Str { blank_padded: true },
            DataType::Date => KeyClass::Date,
            DataType::Timestamp => KeyClass::Timestamp,
            DataType::Interval => KeyClass::Interval,
            DataType::Unknown => return None,
        })
    }

    /// Whether a comparison of a column of this class with a value of type `ty` means the
    /// same as comparing their encodings (so the index enforces it exactly).
    pub fn accepts(&self, ty: &DataType) -> bool {
        match KeyClass::of(ty) {
            Some(c) => c == *self,
            None => false,
        }
    }

    /// Appends the encoding of `d` (which must be of this class, or NULL) to `out`.
    pub fn encode(&self, d: &Datum, out: &mut Vec<u8>) -> FdwResult<()> {
        if d.is_null() {
            out.push(TAG_NULL);
            return Ok(());
        }
        out.push(TAG_VALUE);
        match (self, d) {
            (KeyClass::Bool, Datum::Bool(b)) => out.push(*b as u8),
            (KeyClass::Int | KeyClass::Date | KeyClass::Timestamp, _) if int_of(d).is_some() => {
                let v = int_of(d).unwrap_or_default();
                out.extend_from_slice(&((v as u64) ^ (1 << 63)).to_be_bytes());
            }
            (KeyClass::Float, Datum::Float4(f)) => encode_f64(*f as f64, out),
            (KeyClass::Float, Datum::Float8(f)) => encode_f64(*f, out),
            (KeyClass::Numeric, Datum::Numeric(n)) => encode_numeric(n, out),
            (KeyClass::Str { blank_padded }, Datum::Text(s)) => {
                let s: &str = if *blank_padded { s.trim_end_matches(' ') } else { s };
                for &b in s.as_bytes() {
                    if b == 0 {
                        out.extend_from_slice(&[0x00, 0xFF]);
                    } else {
                        out.push(b);
                    }
                }
                out.extend_from_slice(&[0x00, 0x01]);
            }
            (KeyClass::Interval, Datum::Interval(i)) => {
                out.extend_from_slice(&((i.cmp_key() as u128) ^ (1 << 127)).to_be_bytes());
            }
            _ => {
                return Err(FdwError::internal(format!("mot: cannot encode {d:?} as a key of class {self:?}")));
            }
        }
        Ok(())
    }
}

/// Integers, dates and timestamps as one i64 (each class has its own datum kinds).
fn int_of(d: &Datum) -> Option<i64> {
    match d {
        Datum::Int2(v) => Some(*v as i64),
        Datum::Int4(v) => Some(*v as i64),
        Datum::Int8(v) => Some(*v),
        Datum::Date(v) => Some(*v as i64),
        Datum::Timestamp(v) => Some(*v),
        _ => None,
    }
}

/// IEEE order made unsigned: negative numbers have all bits flipped, positive ones the sign
/// bit. `-0` equals `0` and NaN sorts above everything, as PostgreSQL compares floats.
fn encode_f64(f: f64, out: &mut Vec<u8>) {
    let bits = if f.is_nan() {
        u64::MAX
    } else {
        let f = if f == 0.0 { 0.0 } else { f };
        let b = f.to_bits();
        if b >> 63 == 1 {
            !b
        } else {
            b ^ (1 << 63)
        }
    };
    out.extend_from_slice(&bits.to_be_bytes());
}

/// Numerics: sign class, then for non-zero values the decimal exponent and the significant
/// digits (trailing zeros removed, so `1.50` = `1.5`) ended by `0x00`; negative values have
/// exponent and digits complemented so larger magnitudes sort lower.
fn encode_numeric(n: &Numeric, out: &mut Vec<u8>) {
    if n.is_zero() {
        out.push(0x02);
        return;
    }
    let norm = n.normalize();
    let digits = norm.mantissa().unsigned_abs().to_string();
    let exp = digits.len() as i32 - norm.scale() as i32;
    let neg = norm.is_sign_negative();
    out.push(if neg { 0x01 } else { 0x03 });
    let flip = |b: u8| if neg { !b } else { b };
    out.push(flip((exp + 64) as u8));
    for b in digits.bytes() {
        out.push(flip(b));
    }
    out.push(flip(0x00));
}

/// The smallest byte string greater than every string that starts with `prefix`, or `None`
/// when there is none (only for all-`0xFF` prefixes, which keys never are).
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut v = prefix.to_vec();
    while let Some(last) = v.pop() {
        if last != 0xFF {
            v.push(last + 1);
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(c: KeyClass, d: Datum) -> Vec<u8> {
        let mut v = Vec::new();
        c.encode(&d, &mut v).unwrap();
        v
    }

    #[test]
    fn keys_order_as_their_bytes_inline_or_not() {
        // Lengths around the inline limit, with shared prefixes and trailing zero bytes.
        let mut raw: Vec<Vec<u8>> = Vec::new();
        for len in [0, 1, 8, 21, 22, 23, 40] {
            raw.push(vec![7; len]);
            raw.push((0..len as u8).collect());
            raw.push(vec![0; len]);
        }
        let keys: Vec<Key> = raw.iter().map(|r| Key::from_slice(r)).collect();
        assert!(matches!(Key::from_slice(&[1; 22]), Key::Inline { .. }));
        assert!(matches!(Key::from_slice(&[1; 23]), Key::Heap(_)));
        for (a, ka) in raw.iter().zip(&keys) {
            assert_eq!(ka.as_slice(), a.as_slice());
            for (b, kb) in raw.iter().zip(&keys) {
                assert_eq!(ka.cmp(kb), a.cmp(b), "{a:?} vs {b:?}");
                assert_eq!(ka == kb, a == b);
            }
        }
        // A map keyed by `Key` is searched with byte slices.
        let map: std::collections::BTreeMap<Key, usize> = keys.iter().cloned().zip(0..).collect();
        assert!(map.contains_key(&[7u8; 23][..]));
        assert_eq!(Key::row_id(258).as_slice(), &258u64.to_be_bytes());
    }

    #[test]
    fn integers_order_and_widths_agree() {
        let vals = [i64::MIN, -300, -1, 0, 1, 2, 255, 256, i64::MAX];
        let encs: Vec<_> = vals.iter().map(|v| enc(KeyClass::Int, Datum::Int8(*v))).collect();
        assert!(encs.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(enc(KeyClass::Int, Datum::Int4(7)), enc(KeyClass::Int, Datum::Int8(7)));
        assert!(enc(KeyClass::Int, Datum::Null) > enc(KeyClass::Int, Datum::Int8(i64::MAX)));
    }

    #[test]
    fn floats_order() {
        let vals = [f64::NEG_INFINITY, -2.5, -0.0, 0.0, 1e-300, 3.0, f64::INFINITY, f64::NAN];
        let encs: Vec<_> = vals.iter().map(|v| enc(KeyClass::Float, Datum::Float8(*v))).collect();
        assert!(encs.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(encs[2], encs[3]);
        assert!(encs[6] < encs[7]);
    }

    #[test]
    fn numerics_order_and_scale_insensitive() {
        let p = |s: &str| enc(KeyClass::Numeric, Datum::Numeric(s.parse().unwrap()));
        let vals = ["-1000", "-12.5", "-12.25", "-0.001", "0", "0.001", "0.1", "0.12", "1", "1.5", "10", "99.99"];
        let encs: Vec<_> = vals.iter().map(|s| p(s)).collect();
        for w in encs.windows(2) {
            assert!(w[0] < w[1], "{w:?}");
        }
        assert_eq!(p("1.50"), p("1.5"));
        assert_eq!(p("0.00"), p("0"));
    }

    #[test]
    fn text_order_and_prefixes() {
        let c = KeyClass::Str { blank_padded: false };
        let vals = ["", "a", "a\u{0}", "ab", "b"];
        let encs: Vec<_> = vals.iter().map(|s| enc(c, Datum::text(s))).collect();
        assert!(encs.windows(2).all(|w| w[0] < w[1]));
        let bp = KeyClass::Str { blank_padded: true };
        assert_eq!(enc(bp, Datum::text("ab  ")), enc(bp, Datum::text("ab")));
        assert!(prefix_successor(&encs[1]).unwrap() > encs[1]);
        assert!(prefix_successor(&encs[1]).unwrap() < encs[4]);
    }

    #[test]
    fn mismatched_class_is_an_error() {
        let mut v = Vec::new();
        assert!(KeyClass::Int.encode(&Datum::text("x"), &mut v).is_err());
    }
}

#[cfg(test)]
mod agree_with_cmp_datum {
    use super::*;
    use fdw_api::types::compare::cmp_datum;
    use proptest::prelude::*;

    fn datum_of(class: u8) -> BoxedStrategy<Datum> {
        let null = Just(Datum::Null);
        match class {
            0 => prop_oneof![null, any::<i64>().prop_map(Datum::Int8), any::<i32>().prop_map(Datum::Int4)].boxed(),
            1 => prop_oneof![null, any::<f64>().prop_map(Datum::Float8), Just(Datum::Float8(-0.0))].boxed(),
            2 => prop_oneof![null, (any::<i64>(), 0u32..10).prop_map(|(m, s)| Datum::Numeric(Numeric::new(m, s)))]
                .boxed(),
            _ => prop_oneof![null, "[a-c\\u{e9}]{0,4}".prop_map(|s| Datum::text(&s))].boxed(),
        }
    }

    fn class_of(c: u8) -> KeyClass {
        [KeyClass::Int, KeyClass::Float, KeyClass::Numeric, KeyClass::Str { blank_padded: false }][c as usize]
    }

    proptest! {
        #[test]
        fn encoding_order_is_cmp_datum((c, a, b) in (0u8..4).prop_flat_map(|c| (Just(c), datum_of(c), datum_of(c)))) {
            let (mut ea, mut eb) = (Vec::new(), Vec::new());
            class_of(c).encode(&a, &mut ea).unwrap();
            class_of(c).encode(&b, &mut eb).unwrap();
            prop_assert_eq!(ea.cmp(&eb), cmp_datum(&a, &b), "{:?} vs {:?}", a, b);
        }
    }
}

/// Keys up to this many bytes live inside the [`Key`] itself.
const INLINE: usize = 22;

/// An index entry's key: memcomparable bytes, stored inline when they fit in 22 bytes (every
/// heap key, and single-column integer, date and short text keys with their row id), on the
/// heap otherwise. It is the same size as a `Vec<u8>`; inline, a key costs no allocation of
/// its own and the skip list compares it without following a pointer (checkpoint loading
/// inserts millions of entries, each search comparing dozens of keys).
#[derive(Clone)]
pub enum Key {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl Key {
    pub fn from_slice(b: &[u8]) -> Key {
        if b.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..b.len()].copy_from_slice(b);
            Key::Inline { len: b.len() as u8, bytes }
        } else {
            Key::Heap(b.into())
        }
    }

    /// The key of a row in a table's heap: its row id, big-endian so that byte order is id order.
    pub fn row_id(row_id: u64) -> Key {
        Key::from_slice(&row_id.to_be_bytes())
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..*len as usize],
            Key::Heap(b) => b,
        }
    }
}

impl std::ops::Deref for Key {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl std::borrow::Borrow<[u8]> for Key {
    #[inline]
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl From<&[u8]> for Key {
    fn from(b: &[u8]) -> Key {
        Key::from_slice(b)
    }
}

impl PartialEq for Key {
    #[inline]
    fn eq(&self, other: &Key) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    #[inline]
    fn partial_cmp(&self, other: &Key) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    #[inline]
    fn cmp(&self, other: &Key) -> std::cmp::Ordering {
        match (self, other) {
            // Two inline keys compare as two big-endian integers and then their lengths, without
            // a `memcmp` call: the bytes past `len` are zero, so when one key is a prefix of the
            // other the padded arrays tie (or the longer one is greater) and the length decides,
            // exactly as for the byte strings.
            (Key::Inline { len: la, bytes: a }, Key::Inline { len: lb, bytes: b }) => {
                let head = |x: &[u8; INLINE]| u128::from_be_bytes(x[..16].try_into().unwrap_or_default());
                let tail = |x: &[u8; INLINE]| {
                    let mut t = [0u8; 8];
                    t[..INLINE - 16].copy_from_slice(&x[16..]);
                    u64::from_be_bytes(t)
                };
                head(a).cmp(&head(b)).then_with(|| tail(a).cmp(&tail(b))).then(la.cmp(lb))
            }
            _ => self.as_slice().cmp(other.as_slice()),
        }
    }
}

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({:02x?})", self.as_slice())
    }
}
