//! The binary encoding of MOT's redo records and checkpoint files: little-endian integers,
//! length-prefixed strings, one tag byte per datum. Simple and allocation-light; decoding
//! never panics on bad input (a damaged file is a clear XX001 error).

use std::sync::Arc;

use fdw_api::{err, ColumnDef, DataType, Datum, FdwError, FdwResult, IndexDef, Interval, Numeric, Options, TableDesc};

/// Appends encoded values to a byte buffer.
#[derive(Debug, Default)]
pub struct Enc {
    pub buf: Vec<u8>,
}

impl Enc {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.buf.extend_from_slice(s.as_bytes());
    }
    pub fn datatype(&mut self, t: &DataType) {
        let (tag, a, b) = match t {
            DataType::Bool => (0, 0, 0),
            DataType::Int2 => (1, 0, 0),
            DataType::Int4 => (2, 0, 0),
            DataType::Int8 => (3, 0, 0),
            DataType::Float4 => (4, 0, 0),
            DataType::Float8 => (5, 0, 0),
            DataType::Numeric(None) => (6, 0, 0),
            DataType::Numeric(Some((p, s))) => (7, *p as u32, *s as u32),
            DataType::Text => (8, 0, 0),
            DataType::Varchar(None) => (9, 0, 0),
            DataType::Varchar(Some(n)) => (10, *n, 0),
            DataType::Char(None) => (11, 0, 0),
            DataType::Char(Some(n)) => (12, *n, 0),
            DataType::Date => (13, 0, 0),
            DataType::Timestamp => (14, 0, 0),
            DataType::Interval => (15, 0, 0),
            DataType::Unknown => (16, 0, 0),
        };
        self.u8(tag);
        self.u32(a);
        self.u32(b);
    }
    pub fn datum(&mut self, d: &Datum) {
        match d {
            Datum::Null => self.u8(0),
            Datum::Bool(b) => {
                self.u8(1);
                self.u8(*b as u8);
            }
            Datum::Int2(v) => {
                self.u8(2);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            Datum::Int4(v) => {
                self.u8(3);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            Datum::Int8(v) => {
                self.u8(4);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            Datum::Float4(v) => {
                self.u8(5);
                self.buf.extend_from_slice(&v.to_bits().to_le_bytes());
            }
            Datum::Float8(v) => {
                self.u8(6);
                self.u64(v.to_bits());
            }
            Datum::Numeric(n) => {
                self.u8(7);
                self.buf.extend_from_slice(&n.serialize());
            }
            Datum::Text(s) => {
                self.u8(8);
                self.str(s);
            }
            Datum::Date(v) => {
                self.u8(9);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            Datum::Timestamp(v) => {
                self.u8(10);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            Datum::Interval(i) => {
                self.u8(11);
                self.buf.extend_from_slice(&i.months.to_le_bytes());
                self.buf.extend_from_slice(&i.days.to_le_bytes());
                self.buf.extend_from_slice(&i.micros.to_le_bytes());
            }
        }
    }
    pub fn row(&mut self, row: &[Datum]) {
        self.u32(row.len() as u32);
        for d in row {
            self.datum(d);
        }
    }
    /// The parts of a table description MOT needs to rebuild the table: id, names, column
    /// types and NOT NULL, indexes. (Options, defaults and statistics belong to the catalog.)
    pub fn table_desc(&mut self, t: &TableDesc) {
        self.u64(t.id);
        self.str(&t.schema);
        self.str(&t.name);
        self.u32(t.columns.len() as u32);
        for c in &t.columns {
            self.column(c);
        }
        self.u32(t.indexes.len() as u32);
        for i in &t.indexes {
            self.index_def(i);
        }
    }
    pub fn column(&mut self, c: &ColumnDef) {
        self.str(&c.name);
        self.datatype(&c.ty);
        self.u8(c.not_null as u8);
    }
    pub fn index_def(&mut self, i: &IndexDef) {
        self.str(&i.name);
        self.str(&i.table);
        self.u32(i.columns.len() as u32);
        for &c in &i.columns {
            self.u32(c as u32);
        }
        self.u8(i.unique as u8);
        self.u8(i.primary as u8);
    }
}

/// Reads values back; every read checks the remaining length.
#[derive(Debug)]
pub struct Dec<'a> {
    pub buf: &'a [u8],
    pub pos: usize,
}

pub fn corrupt(what: &str) -> FdwError {
    err!(DATA_CORRUPTED, "invalid MOT {}", what)
}

/// Why a read failed: what [`corrupt`] will name. The `raw_` readers return this small value
/// rather than an `FdwError` (over 100 bytes): a checkpoint load makes tens of millions of
/// reads, and moving the large error type through each one's `Result` cost more than many a
/// read itself. The public readers turn it into the `FdwError`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Bad(&'static str);

type Raw<T> = Result<T, Bad>;

fn fdw(b: Bad) -> FdwError {
    corrupt(b.0)
}

impl<'a> Dec<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Dec { buf, pos: 0 }
    }
    pub fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }
    #[inline]
    fn raw_take(&mut self, n: usize) -> Raw<&'a [u8]> {
        if self.buf.len() - self.pos < n {
            return Err(Bad("data: record truncated"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    #[inline]
    fn raw_arr<const N: usize>(&mut self) -> Raw<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.raw_take(N)?);
        Ok(a)
    }
    #[inline]
    fn raw_u8(&mut self) -> Raw<u8> {
        Ok(self.raw_take(1)?[0])
    }
    #[inline]
    fn raw_u32(&mut self) -> Raw<u32> {
        Ok(u32::from_le_bytes(self.raw_arr()?))
    }
    #[inline]
    fn raw_u64(&mut self) -> Raw<u64> {
        Ok(u64::from_le_bytes(self.raw_arr()?))
    }
    #[inline]
    fn raw_str(&mut self) -> Raw<&'a str> {
        let n = self.raw_u32()? as usize;
        std::str::from_utf8(self.raw_take(n)?).map_err(|_| Bad("data: invalid UTF-8"))
    }
    pub fn u8(&mut self) -> FdwResult<u8> {
        self.raw_u8().map_err(fdw)
    }
    pub fn u32(&mut self) -> FdwResult<u32> {
        self.raw_u32().map_err(fdw)
    }
    pub fn u64(&mut self) -> FdwResult<u64> {
        self.raw_u64().map_err(fdw)
    }
    pub fn str(&mut self) -> FdwResult<&'a str> {
        self.raw_str().map_err(fdw)
    }
    pub fn datatype(&mut self) -> FdwResult<DataType> {
        let tag = self.u8()?;
        let a = self.u32()?;
        let b = self.u32()?;
        Ok(match tag {
            0 => DataType::Bool,
            1 => DataType::Int2,
            2 => DataType::Int4,
            3 => DataType::Int8,
            4 => DataType::Float4,
            5 => DataType::Float8,
            6 => DataType::Numeric(None),
            7 => DataType::Numeric(Some((a as u8, b as u8))),
            8 => DataType::Text,
            9 => DataType::Varchar(None),
            10 => DataType::Varchar(Some(a)),
            11 => DataType::Char(None),
            12 => DataType::Char(Some(a)),
            13 => DataType::Date,
            14 => DataType::Timestamp,
            15 => DataType::Interval,
            16 => DataType::Unknown,
            _ => return Err(corrupt("data: unknown type tag")),
        })
    }
    pub fn datum(&mut self) -> FdwResult<Datum> {
        self.raw_datum().map_err(fdw)
    }
    #[inline]
    fn raw_datum(&mut self) -> Raw<Datum> {
        Ok(match self.raw_u8()? {
            0 => Datum::Null,
            1 => Datum::Bool(self.raw_u8()? != 0),
            2 => Datum::Int2(i16::from_le_bytes(self.raw_arr()?)),
            3 => Datum::Int4(i32::from_le_bytes(self.raw_arr()?)),
            4 => Datum::Int8(i64::from_le_bytes(self.raw_arr()?)),
            5 => Datum::Float4(f32::from_bits(u32::from_le_bytes(self.raw_arr()?))),
            6 => Datum::Float8(f64::from_bits(self.raw_u64()?)),
            7 => Datum::Numeric(Numeric::deserialize(self.raw_arr()?)),
            8 => Datum::Text(Arc::from(self.raw_str()?)),
            9 => Datum::Date(i32::from_le_bytes(self.raw_arr()?)),
            10 => Datum::Timestamp(i64::from_le_bytes(self.raw_arr()?)),
            11 => {
                let months = i32::from_le_bytes(self.raw_arr()?);
                let days = i32::from_le_bytes(self.raw_arr()?);
                let micros = i64::from_le_bytes(self.raw_arr()?);
                Datum::Interval(Interval { months, days, micros })
            }
            _ => return Err(Bad("data: unknown datum tag")),
        })
    }
    pub fn row(&mut self) -> FdwResult<Vec<Datum>> {
        let mut v = Vec::new();
        self.row_into(&mut v)?;
        Ok(v)
    }
    /// Decodes a row into `out` (cleared first), reusing its memory.
    pub fn row_into(&mut self, out: &mut Vec<Datum>) -> FdwResult<()> {
        self.raw_row_into(out).map_err(fdw)
    }
    /// Decodes a row of `width` columns straight into its shared form: the datums are written
    /// into the row's one allocation as they are read, with no intermediate vector (the
    /// checkpoint load decodes millions of rows).
    pub fn row_data(&mut self, width: usize) -> FdwResult<Arc<[Datum]>> {
        self.raw_row_data(width).map_err(fdw)
    }
    fn raw_row_data(&mut self, width: usize) -> Raw<Arc<[Datum]>> {
        if self.raw_u32()? as usize != width {
            return Err(Bad("checkpoint: row of the wrong width"));
        }
        // `width` comes from the table definition, not the file; a datum takes at least a byte.
        if width > self.buf.len() - self.pos {
            return Err(Bad("data: record truncated"));
        }
        let mut bad = None;
        // An exact-size iterator lets the `Arc` be allocated once and filled in place; a failed
        // read stops the reading (its slot and the rest are NULL) and the row is dropped.
        let row: Arc<[Datum]> = (0..width)
            .map(|_| {
                if bad.is_some() {
                    return Datum::Null;
                }
                self.raw_datum().unwrap_or_else(|e| {
                    bad = Some(e);
                    Datum::Null
                })
            })
            .collect();
        match bad {
            Some(e) => Err(e),
            None => Ok(row),
        }
    }
    fn raw_row_into(&mut self, out: &mut Vec<Datum>) -> Raw<()> {
        out.clear();
        let n = self.raw_u32()? as usize;
        if n > self.buf.len() - self.pos {
            return Err(Bad("data: bad column count"));
        }
        out.reserve(n);
        for _ in 0..n {
            out.push(self.raw_datum()?);
        }
        Ok(())
    }
    pub fn table_desc(&mut self) -> FdwResult<TableDesc> {
        let id = self.u64()?;
        let schema = self.str()?.to_string();
        let name = self.str()?.to_string();
        let n = self.u32()? as usize;
        let mut columns = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            columns.push(self.column()?);
        }
        let n = self.u32()? as usize;
        let mut indexes = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            indexes.push(self.index_def()?);
        }
        Ok(TableDesc {
            id,
            schema,
            name,
            columns,
            table_options: Options::default(),
            server_name: String::new(),
            server_options: Options::default(),
            wrapper_options: Options::default(),
            user_mapping_options: Options::default(),
            indexes,
            stats: None,
        })
    }
    pub fn column(&mut self) -> FdwResult<ColumnDef> {
        let name = self.str()?.to_string();
        let ty = self.datatype()?;
        let not_null = self.u8()? != 0;
        Ok(ColumnDef { name, ty, not_null, default: None, options: Options::default() })
    }
    pub fn index_def(&mut self) -> FdwResult<IndexDef> {
        let name = self.str()?.to_string();
        let table = self.str()?.to_string();
        let n = self.u32()? as usize;
        let mut columns = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            columns.push(self.u32()? as usize);
        }
        let unique = self.u8()? != 0;
        let primary = self.u8()? != 0;
        Ok(IndexDef { name, table, columns, unique, primary })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datums_round_trip() {
        let row = vec![
            Datum::Null,
            Datum::Bool(true),
            Datum::Int2(-3),
            Datum::Int4(7),
            Datum::Int8(-9),
            Datum::Float4(1.5),
            Datum::Float8(f64::NAN),
            Datum::Numeric("12.345".parse().unwrap()),
            Datum::text("héllo"),
            Datum::Date(100),
            Datum::Timestamp(-5),
            Datum::Interval(Interval { months: 1, days: 2, micros: 3 }),
        ];
        let mut e = Enc::default();
        e.row(&row);
        let back = Dec::new(&e.buf).row().unwrap();
        assert_eq!(format!("{row:?}"), format!("{back:?}"));
        // Truncated input is an error, never a panic.
        for cut in 0..e.buf.len() {
            assert!(Dec::new(&e.buf[..cut]).row().is_err());
        }
    }

    #[test]
    fn row_data_decodes_in_place_and_rejects_bad_rows() {
        let row = vec![Datum::Int8(-9), Datum::Null, Datum::text("héllo"), Datum::Int4(7)];
        let mut e = Enc::default();
        e.row(&row);
        e.row(&row);
        let mut d = Dec::new(&e.buf);
        for _ in 0..2 {
            let back = d.row_data(row.len()).unwrap();
            assert_eq!(format!("{row:?}"), format!("{back:?}"));
        }
        assert!(d.done());
        // A row of another width than the table's is corrupt, whichever way it differs.
        for width in [0, 3, 5] {
            let err = Dec::new(&e.buf).row_data(width).unwrap_err();
            assert!(err.message.contains("wrong width"), "{}", err.message);
        }
        // Truncated input, or a bad tag in any column, is an error, never a panic.
        let one = e.buf.len() / 2;
        for cut in 0..one {
            assert!(Dec::new(&e.buf[..cut]).row_data(row.len()).is_err());
        }
        for at in 4..one {
            let mut bad = e.buf[..one].to_vec();
            bad[at] = 0xEE;
            // Either the byte was a tag (unknown) or inside a value (a different value, or a
            // length that runs past the end, or invalid UTF-8): never a panic.
            let _ = Dec::new(&bad).row_data(row.len());
        }
        let mut bad = e.buf[..one].to_vec();
        bad[4] = 0xEE;
        let err = Dec::new(&bad).row_data(row.len()).unwrap_err();
        assert!(err.message.contains("unknown datum tag"), "{}", err.message);
        // A width larger than the bytes left cannot be a row.
        assert!(Dec::new(&[5, 0, 0, 0][..]).row_data(5).is_err());
    }
}
