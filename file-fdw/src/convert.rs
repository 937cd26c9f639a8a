//! From a record's field spans to `Datum`s, for the columns a scan reads.
//!
//! PostgreSQL's file_fdw converts only the columns a query needs (its "selective binary
//! conversion"); so do we, but we also parse straight from the file buffer: a field is
//! decoded (CSV quotes, text backslash escapes) into a scratch buffer only when the tokenizer
//! flagged it, and integers, floats and plain decimals (numeric) have fast paths that never
//! build a `String` and give exactly what the general parser gives. Only text values
//! allocate (their `Arc<str>`). Anything the fast paths do not recognise goes to
//! `DataType::parse_text`, which gives PostgreSQL's exact errors.
//!
//! NULL rules are COPY's: a raw field equal to the NULL marker is NULL (in CSV only when not
//! quoted); FORCE_NOT_NULL turns such a field into the marker string; FORCE_NULL makes a
//! quoted field equal to the marker NULL.

use std::sync::Arc;

use fdw_api::{err, DataType, Datum, FdwError, Numeric, TableDesc};

use crate::context::{Ctx, ScanError};
use crate::encoding;
use crate::options::{Format, ScanOptions};
use crate::reader::Record;
use crate::tokenizer::{Field, ESCAPED, QUOTED};

/// How a column's values are parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    /// With its `(precision, scale)` modifier, if any.
    Numeric(Option<(u8, u8)>),
    Text,
    /// `char(n)` and `varchar(n)`.
    Char(u32),
    Varchar(u32),
    Date,
    Other,
}

/// One column to convert.
#[derive(Clone, Debug)]
struct Column {
    /// Position in the table (and in the record's fields).
    index: usize,
    name: String,
    ty: DataType,
    kind: Kind,
    force_not_null: bool,
    force_null: bool,
}

/// Converts records to rows of selected table columns.
#[derive(Clone, Debug)]
pub struct Converter {
    csv: bool,
    quote: u8,
    escape: u8,
    null: Vec<u8>,
    /// Column names of the whole table (header matching, field-count messages).
    names: Vec<String>,
    columns: Vec<Column>,
}

impl Converter {
    /// A converter producing, for each record, the values of table columns `columns`.
    pub fn new(table: &TableDesc, opts: &ScanOptions, columns: &[usize]) -> Converter {
        let cols = columns
            .iter()
            .map(|&i| {
                let def = &table.columns[i];
                let kind = match def.ty {
                    DataType::Int2 => Kind::Int2,
                    DataType::Int4 => Kind::Int4,
                    DataType::Int8 => Kind::Int8,
                    DataType::Float4 => Kind::Float4,
                    DataType::Float8 => Kind::Float8,
                    DataType::Numeric(tm) => Kind::Numeric(tm),
                    DataType::Text => Kind::Text,
                    DataType::Char(Some(n)) => Kind::Char(n),
                    DataType::Varchar(Some(n)) => Kind::Varchar(n),
                    DataType::Date => Kind::Date,
                    _ => Kind::Other,
                };
                Column {
                    index: i,
                    name: def.name.clone(),
                    ty: def.ty.clone(),
                    kind,
                    force_not_null: opts.force_not_null[i],
                    force_null: opts.force_null[i],
                }
            })
            .collect();
        Converter {
            csv: opts.copy.format == Format::Csv,
            quote: opts.copy.quote,
            escape: opts.copy.escape,
            null: opts.copy.null.clone(),
            names: table.columns.iter().map(|c| c.name.clone()).collect(),
            columns: cols,
        }
    }

    /// Fields a record must be split into for this converter: up to its last column.
    pub fn fields_needed(&self) -> usize {
        self.columns.iter().map(|c| c.index + 1).max().unwrap_or(0)
    }

    /// Number of values `convert` appends per record.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Checks the record has one field per table column (COPY's `missing data for column`
    /// and `extra data after last expected column`).
    #[inline]
    pub fn check_fields(&self, rec: &Record<'_>) -> Result<(), ScanError> {
        let n = rec.nfields;
        let want = self.names.len();
        if n == want || want == 0 {
            return Ok(());
        }
        let error = if n > want {
            err!(BAD_COPY_FILE_FORMAT, "extra data after last expected column")
        } else {
            err!(BAD_COPY_FILE_FORMAT, "missing data for column \"{}\"", self.names[n])
        };
        Err(ScanError { error, line: rec.line, ctx: Ctx::LineText(rec.text()) })
    }

    /// Appends the selected columns of `rec` to `out` (the field count must have been checked).
    #[inline]
    pub fn convert(&self, rec: &Record<'_>, out: &mut Vec<Datum>, scratch: &mut Vec<u8>) -> Result<(), ScanError> {
        for col in &self.columns {
            out.push(self.convert_one(rec, col, scratch)?);
        }
        Ok(())
    }

    /// Converts the selected columns at `positions` (indexes into the selection) of `rec`
    /// into the same positions of `row` (as long as the selection).
    #[inline]
    pub fn convert_at(
        &self,
        rec: &Record<'_>,
        positions: &[usize],
        row: &mut [Datum],
        scratch: &mut Vec<u8>,
    ) -> Result<(), ScanError> {
        for &p in positions {
            row[p] = self.convert_one(rec, &self.columns[p], scratch)?;
        }
        Ok(())
    }

    #[inline]
    fn convert_one(&self, rec: &Record<'_>, col: &Column, scratch: &mut Vec<u8>) -> Result<Datum, ScanError> {
        let field = rec.fields[col.index];
        Ok(match self.value(rec, field, col.force_not_null, col.force_null, scratch)? {
            None => Datum::Null,
            Some(bytes) => parse(col, bytes).map_err(|(error, value)| ScanError {
                error,
                line: rec.line,
                ctx: Ctx::Column { name: col.name.clone(), value: Some(value) },
            })?,
        })
    }

    /// The decoded bytes of a field, `None` for NULL.
    #[inline]
    fn value<'a>(
        &self,
        rec: &Record<'a>,
        f: Field,
        force_not_null: bool,
        force_null: bool,
        scratch: &'a mut Vec<u8>,
    ) -> Result<Option<&'a [u8]>, ScanError> {
        let raw: &'a [u8] = &rec.buf[f.start..f.end];
        if self.csv {
            if f.flags & QUOTED == 0 && raw == self.null.as_slice() {
                return Ok(if force_not_null { Some(rec.buf[f.start..f.end].as_ref()) } else { None });
            }
            let v: &'a [u8] = if f.flags & ESCAPED != 0 {
                dequote(raw, self.quote, self.escape, scratch);
                scratch
            } else {
                raw
            };
            if force_null && v == self.null.as_slice() {
                return Ok(None);
            }
            Ok(Some(v))
        } else {
            if raw == self.null.as_slice() {
                return Ok(None);
            }
            if f.flags & ESCAPED == 0 {
                return Ok(Some(raw));
            }
            if unescape(raw, scratch) {
                // Octal or hex escapes may have produced any byte: PostgreSQL verifies the
                // result (and rejects NUL).
                let bad = match std::str::from_utf8(scratch) {
                    Ok(_) => scratch.iter().position(|&b| b == 0),
                    Err(e) => Some(e.valid_up_to()),
                };
                if let Some(at) = bad {
                    return Err(ScanError {
                        error: encoding::invalid_utf8(&scratch[at..]),
                        line: rec.line,
                        ctx: Ctx::LineText(rec.text()),
                    });
                }
            }
            Ok(Some(scratch))
        }
    }

    /// `header 'match'`: the first line must name every column, in order.
    pub fn check_header(&self, rec: &Record<'_>, scratch: &mut Vec<u8>) -> Result<(), ScanError> {
        let fail = |error: FdwError| ScanError { error, line: rec.line, ctx: Ctx::LineText(rec.text()) };
        if rec.fields.len() != self.names.len() {
            return Err(fail(err!(
                BAD_COPY_FILE_FORMAT,
                "wrong number of fields in header line: got {}, expected {}",
                rec.fields.len(),
                self.names.len()
            )));
        }
        for (i, name) in self.names.iter().enumerate() {
            let value = self.value(rec, rec.fields[i], false, false, scratch)?;
            match value {
                None => {
                    return Err(fail(err!(
                        BAD_COPY_FILE_FORMAT,
                        "column name mismatch in header line field {}: got null value (\"{}\"), expected \"{}\"",
                        i + 1,
                        String::from_utf8_lossy(&self.null),
                        name
                    )))
                }
                Some(v) if v != name.as_bytes() => {
                    return Err(fail(err!(
                        BAD_COPY_FILE_FORMAT,
                        "column name mismatch in header line field {}: got \"{}\", expected \"{}\"",
                        i + 1,
                        String::from_utf8_lossy(v),
                        name
                    )))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

/// The fast paths of [`parse`]: numbers in their plain forms, or `None`. Kept apart so the
/// per-value loop handles a small `Option` and the general parser stays out of line.
#[inline]
fn parse_fast(kind: Kind, bytes: &[u8]) -> Option<Datum> {
    match kind {
        Kind::Int2 => fast_int(bytes).and_then(|v| i16::try_from(v).ok()).map(Datum::Int2),
        Kind::Int4 => fast_int(bytes).and_then(|v| i32::try_from(v).ok()).map(Datum::Int4),
        Kind::Int8 => fast_int(bytes).map(Datum::Int8),
        Kind::Float8 => fast_float(bytes)
            .or_else(|| float_text(bytes).and_then(|s| s.parse::<f64>().ok()))
            .filter(|v| v.is_finite() && *v != 0.0)
            .map(Datum::Float8),
        Kind::Float4 => float_text(bytes)
            .and_then(|s| s.parse::<f32>().ok())
            .filter(|v| v.is_finite() && *v != 0.0)
            .map(Datum::Float4),
        Kind::Numeric(tm) => fast_numeric(bytes, tm).map(Datum::Numeric),
        Kind::Char(n) => fast_char(bytes, n as usize, true),
        Kind::Varchar(n) => fast_char(bytes, n as usize, false),
        Kind::Date => fdw_api::types::calendar::fast_iso_date(bytes).map(|d| Datum::Date(d as i32)),
        Kind::Text | Kind::Other => None,
    }
}

/// `char(n)`/`varchar(n)` values of ASCII text that fit (one character per byte): the value
/// `parse_text` gives (`char` blank-padded to `n`) with a single allocation. Longer or
/// non-ASCII values go the slow way (truncation of trailing blanks, length errors).
#[inline]
fn fast_char(bytes: &[u8], n: usize, pad: bool) -> Option<Datum> {
    if bytes.len() > n || !bytes.is_ascii() {
        return None;
    }
    let s = std::str::from_utf8(bytes).ok()?;
    if !pad || bytes.len() == n {
        return Some(Datum::Text(Arc::from(s)));
    }
    if n > 256 {
        return None;
    }
    let mut buf = [b' '; 256];
    buf[..bytes.len()].copy_from_slice(bytes);
    let padded = std::str::from_utf8(&buf[..n]).ok()?;
    Some(Datum::Text(Arc::from(padded)))
}

/// Parses one non-NULL value; on error returns it with the value's text for the context.
#[inline]
fn parse(col: &Column, bytes: &[u8]) -> Result<Datum, (FdwError, String)> {
    if let Some(d) = parse_fast(col.kind, bytes) {
        return Ok(d);
    }
    // The buffer was validated as UTF-8 and fields end at ASCII bytes, so this holds.
    let s = std::str::from_utf8(bytes).map_err(|e| {
        (encoding::invalid_utf8(&bytes[e.valid_up_to()..]), String::from_utf8_lossy(bytes).into_owned())
    })?;
    if col.kind == Kind::Text {
        return Ok(Datum::Text(Arc::from(s)));
    }
    col.ty.parse_text(s).map_err(|e| (e, s.to_string()))
}

/// Plain decimal integers (optional minus, up to 18 digits); anything else goes the slow way.
#[inline]
fn fast_int(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + d as i64;
    }
    Some(if neg { -v } else { v })
}

/// Plain decimals (`-12.5`, `.5`, `7.`) of at most 18 digits whose value fits the column's
/// `numeric(p, s)` without rounding: the value `parse_text` would give, without its general
/// parser. Anything else (exponents, signs other than a leading minus, more fractional
/// digits than the scale, too many integer digits, scales above 10 or above the precision)
/// goes the slow way, which also gives PostgreSQL's errors.
#[inline]
fn fast_numeric(b: &[u8], typmod: Option<(u8, u8)>) -> Option<Numeric> {
    let (neg, body) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    // At most 18 digits and a point: the mantissa fits a u64, and scaled by up to 10^10 it
    // stays within a Decimal's 96 bits.
    if body.is_empty() || body.len() > 19 {
        return None;
    }
    let mut digits = 0u32;
    let mut mant: u64 = 0;
    // Integer digits from the first non-zero one (what the precision limits).
    let mut int_digits = 0u32;
    let mut frac: Option<u32> = None;
    for &c in body {
        let d = c.wrapping_sub(b'0');
        if d <= 9 {
            mant = mant * 10 + d as u64;
            digits += 1;
            match frac.as_mut() {
                Some(f) => *f += 1,
                None => int_digits += u32::from(mant != 0),
            }
        } else if c == b'.' && frac.is_none() {
            frac = Some(0);
        } else {
            return None;
        }
    }
    if digits == 0 || digits > 18 {
        return None;
    }
    let frac = frac.unwrap_or(0);
    let (mant, scale) = match typmod {
        None => (mant as i128, frac),
        Some((precision, scale)) => {
            let scale = scale as u32;
            if frac > scale || scale > 10 || scale > precision as u32 || int_digits + scale > precision as u32 {
                return None;
            }
            (mant as i128 * 10i128.pow(scale - frac), scale)
        }
    };
    Some(Numeric::from_i128_with_scale(if neg { -mant } else { mant }, scale))
}

/// Powers of ten that are exact in an f64.
const EXACT_POW10: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/// Plain decimals (`-12.125`) of at most 15 digits: the mantissa and the power of ten are
/// both exact in an f64, so one IEEE division gives the correctly rounded value, the same
/// as a full parse (the classic fast path of decimal-to-float conversion).
#[inline]
fn fast_float(b: &[u8]) -> Option<f64> {
    let (neg, body) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if body.is_empty() || body.len() > 16 {
        return None;
    }
    let mut mant: u64 = 0;
    let mut digits = 0usize;
    let mut point: Option<usize> = None;
    for &c in body {
        let d = c.wrapping_sub(b'0');
        if d <= 9 {
            mant = mant * 10 + d as u64;
            digits += 1;
        } else if c == b'.' && point.is_none() {
            point = Some(digits);
        } else {
            return None;
        }
    }
    if digits == 0 || digits > 15 {
        return None;
    }
    let frac = digits - point.unwrap_or(digits);
    let v = mant as f64 / EXACT_POW10[frac];
    Some(if neg { -v } else { v })
}

/// Plain decimal floats (digits, point, exponent) as `&str`; the caller parses and sends
/// zero, infinities and anything unusual to `parse_text` so that range errors and special
/// values follow PostgreSQL.
#[inline]
fn float_text(b: &[u8]) -> Option<&str> {
    if b.is_empty() || b.len() > 40 || !b.iter().all(|c| matches!(c, b'0'..=b'9' | b'.' | b'-' | b'+' | b'e' | b'E')) {
        return None;
    }
    std::str::from_utf8(b).ok()
}

/// Removes CSV quoting from a raw field (the tokenizer has checked the quotes balance).
fn dequote(raw: &[u8], quote: u8, escape: u8, out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    let mut in_quote = false;
    while i < raw.len() {
        let c = raw[i];
        i += 1;
        if !in_quote {
            if c == quote {
                in_quote = true;
            } else {
                out.push(c);
            }
            continue;
        }
        if c == escape {
            if let Some(&next) = raw.get(i) {
                if next == escape || next == quote {
                    out.push(next);
                    i += 1;
                    continue;
                }
            }
        }
        if c == quote {
            in_quote = false;
        } else {
            out.push(c);
        }
    }
}

/// Decodes text-format backslash escapes; returns true when an octal or hex escape produced
/// a byte that needs verification (NUL or non-ASCII).
fn unescape(raw: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut verify = false;
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = raw.get(i) else { break };
        i += 1;
        let byte = match e {
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                for _ in 0..2 {
                    match raw.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = (v << 3) + (d - b'0') as u32;
                            i += 1;
                        }
                        _ => break,
                    }
                }
                let b = (v & 0xff) as u8;
                verify |= b == 0 || b >= 0x80;
                b
            }
            b'x' => match raw.get(i).and_then(|&h| (h as char).to_digit(16)) {
                Some(h) => {
                    i += 1;
                    let mut v = h;
                    if let Some(l) = raw.get(i).and_then(|&l| (l as char).to_digit(16)) {
                        v = (v << 4) + l;
                        i += 1;
                    }
                    let b = v as u8;
                    verify |= b == 0 || b >= 0x80;
                    b
                }
                None => b'x',
            },
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'v' => 0x0b,
            other => other,
        };
        out.push(byte);
    }
    verify
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_rules() {
        let mut out = Vec::new();
        assert!(!unescape(b"\\x41\\101\\n\\N\\\\\\\ta", &mut out));
        assert_eq!(out, b"AA\nN\\\ta");
        assert!(unescape(b"\\xe9", &mut out));
        assert_eq!(out, b"\xe9");
        assert!(!unescape(b"\\xg", &mut out));
        assert_eq!(out, b"xg");
        assert!(unescape(b"\\0", &mut out));
        assert_eq!(out, b"\0");
    }

    #[test]
    fn dequote_rules() {
        let mut out = Vec::new();
        dequote(b"\"a\"\"b\"", b'"', b'"', &mut out);
        assert_eq!(out, b"a\"b");
        dequote(b"x\"a,b\"y", b'"', b'"', &mut out);
        assert_eq!(out, b"xa,by");
        dequote(b"@a\\@b\\c@", b'@', b'\\', &mut out);
        assert_eq!(out, b"a@b\\c");
    }

    /// The `char(n)`/`varchar(n)` fast path gives what `parse_text` gives, or leaves the value
    /// to it.
    #[test]
    fn fast_char_matches_parse_text() {
        for (text, n) in [("AIR", 10u32), ("", 3), ("abc", 3), ("ab ", 2), ("é", 3), ("abcd", 3), ("x", 1)] {
            for (pad, ty) in [(true, DataType::Char(Some(n))), (false, DataType::Varchar(Some(n)))] {
                match fast_char(text.as_bytes(), n as usize, pad) {
                    Some(d) => assert_eq!(Ok(d), ty.parse_text(text), "{text:?} as {ty:?}"),
                    None => assert!(!text.is_ascii() || text.len() > n as usize, "{text:?} as {ty:?}"),
                }
            }
        }
        assert_eq!(fast_char(b"AIR", 10, true), Some(Datum::text("AIR       ")));
    }

    /// The date fast path gives the general parser's day, and leaves everything else (other
    /// forms, impossible days, year 0) to it, so its errors stay PostgreSQL's.
    #[test]
    fn fast_dates_equal_the_general_parser() {
        let inputs = ["1998-12-01", "2000-02-29", "1900-02-29", "0001-01-01", "0000-01-01", "1996-13-01", "96-01-01"];
        for text in inputs.into_iter().chain(["1992-01-02x", "1992/01/02", "19920102", "1992-1-02"]) {
            let general = DataType::Date.parse_text(text);
            match parse_fast(Kind::Date, text.as_bytes()) {
                Some(d) => assert_eq!(Ok(d), general, "{text}"),
                None => assert!(general.is_err() || text.len() != 10 || !text.contains('-'), "{text}: {general:?}"),
            }
        }
        assert_eq!(parse_fast(Kind::Date, b"2000-01-01"), Some(Datum::Date(0)));
        assert_eq!(parse_fast(Kind::Date, b"1900-02-29"), None);
    }

    #[test]
    fn fast_numbers() {
        assert_eq!(fast_int(b"-123"), Some(-123));
        assert_eq!(fast_int(b" 1"), None);
        assert_eq!(fast_int(b""), None);
        assert_eq!(fast_int(b"-"), None);
        let col = |ty: DataType, kind| Column {
            index: 0,
            name: "a".into(),
            ty,
            kind,
            force_not_null: false,
            force_null: false,
        };
        assert_eq!(parse(&col(DataType::Float8, Kind::Float8), b"1.5e3").unwrap(), Datum::Float8(1500.0));
        assert_eq!(parse(&col(DataType::Float4, Kind::Float4), b"0.1").unwrap(), Datum::Float4(0.1));
        assert_eq!(parse(&col(DataType::Int4, Kind::Int4), b"-2147483648").unwrap(), Datum::Int4(i32::MIN));
        assert_eq!(parse(&col(DataType::Text, Kind::Text), b"abc").unwrap(), Datum::text("abc"));
        assert_eq!(float_text(b"NaN"), None);
        for s in ["0.1", "-2.5", "123456.125", "999999999999999", "0.00000000000001", "7.", ".5", "3.14159265358979"] {
            assert_eq!(fast_float(s.as_bytes()), Some(s.parse::<f64>().unwrap()), "{s}");
        }
        for s in ["1e5", "1234567890123456", "--1", "1.2.3", ".", ""] {
            assert_eq!(fast_float(s.as_bytes()), None, "{s}");
        }
    }

    #[test]
    fn fast_numerics_equal_the_general_parser() {
        let types = [DataType::Numeric(None), DataType::Numeric(Some((12, 2))), DataType::Numeric(Some((5, 0)))];
        let inputs = [
            "0",
            "-0",
            "-0.00",
            "7",
            "007",
            "12.5",
            "-12.50",
            ".5",
            "5.",
            "-.25",
            "123456789.01",
            "1234567890.12",
            "99999",
            "100000",
            "0.001",
            "1.005",
            "123456789012345678",
            "1234567890123456789",
            "1e3",
            "+1",
            "1.2.3",
            "-",
            ".",
            "",
            "1 ",
        ];
        for ty in &types {
            let tm = match ty {
                DataType::Numeric(tm) => *tm,
                _ => None,
            };
            for s in inputs {
                let general = ty.parse_text(s).ok();
                // Same value and the same scale (it shows in the output).
                if let Some(v) = fast_numeric(s.as_bytes(), tm) {
                    assert_eq!(Some(Datum::Numeric(v)), general, "{s} as {ty}");
                    assert_eq!(Datum::Numeric(v).to_text(), general.unwrap().to_text(), "{s} as {ty}");
                }
            }
        }
        assert!(fast_numeric(b"12.5", Some((12, 2))).is_some());
        assert!(fast_numeric(b"1.005", Some((12, 2))).is_none(), "rounding goes the slow way");
        assert!(fast_numeric(b"100000", Some((5, 0))).is_none(), "overflow goes the slow way");
    }
}
