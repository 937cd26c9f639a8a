//! The catalog file: the whole catalog (objects, options, statistics) in a versioned,
//! line-oriented text format, rewritten atomically after each DDL.
//!
//! Crash safety: the new version is written to `catalog.tmp`, fsynced, renamed over
//! `catalog`, and the directory is fsynced, so after a crash the file is either the old or
//! the new version, never a mix. A checksum line at the end catches truncation and
//! corruption; a damaged file is a clear error (XX001), never a panic or a silent reset.
//!
//! Format (fields separated by tabs, shown as spaces here; `\t`, `\n`, `\r` and `\\` escaped; `\N` is "none"):
//!
//! ```text
//! envelope-catalog 1
//! next_oid 16390
//! role alice
//! extension file_fdw
//! wrapper 16384 file_fdw file_fdw file_fdw <options>
//! server 16385 s file_fdw \N \N <options>
//! mapping 16386 postgres s <options>
//! relation 16387 public t f 0 s <options> <view query or \N>
//! column a int4 1 \N <options>
//! index t_pkey 1 1 0,1
//! stats 1000
//! colstats 0 0 -1 4
//! mcv i4:5 0.25
//! hist i4:1
//! checksum <fnv-1a 64 of everything above, hex>
//! ```
//!
//! `<options>` is `k=v` pairs joined by `,` with `%`-escaping of `%`, `,` and `=`. Datums
//! are `type:value` with floats stored as their bit patterns, so statistics round-trip
//! exactly.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use fdw_api::{
    ColumnDef, ColumnStats, DataType, Datum, FdwError, FdwResult, IndexDef, Interval, Options, SqlState, TableStats,
};

use super::registry::WrapperRegistry;
use super::{Catalog, RelKind, RelationEntry, ServerEntry, UserMappingEntry, WrapperEntry};

const MAGIC: &str = "envelope-catalog";
const VERSION: u32 = 1;
/// The catalog file's name in the data directory.
pub const CATALOG_FILE: &str = "catalog";

impl Catalog {
    /// Loads the catalog of `dir`, or bootstraps a fresh one if the directory has none.
    pub fn load(dir: &Path, registry: &WrapperRegistry) -> FdwResult<Catalog> {
        let path = dir.join(CATALOG_FILE);
        match fs::read_to_string(&path) {
            Ok(text) => decode(&text).map_err(|(line, msg)| {
                FdwError::new(
                    SqlState::DATA_CORRUPTED,
                    format!("catalog file \"{}\" is corrupt: line {}: {}", path.display(), line, msg),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Catalog::bootstrap(registry)),
            Err(e) => Err(FdwError::io(format!("could not read catalog file \"{}\"", path.display()), &e)),
        }
    }

    /// Writes the catalog to `dir` atomically and durably (see the module docs).
    pub fn save(&self, dir: &Path) -> FdwResult<()> {
        let text = encode(self);
        let tmp = dir.join(format!("{CATALOG_FILE}.tmp"));
        let path = dir.join(CATALOG_FILE);
        let io = |what: &str, e: std::io::Error| FdwError::io(format!("could not {what} \"{}\"", tmp.display()), &e);
        let mut f = fs::File::create(&tmp).map_err(|e| io("create catalog file", e))?;
        f.write_all(text.as_bytes()).map_err(|e| io("write catalog file", e))?;
        f.sync_all().map_err(|e| io("fsync catalog file", e))?;
        drop(f);
        fs::rename(&tmp, &path).map_err(|e| io("rename catalog file", e))?;
        // The rename is durable only once the directory entry is.
        if let Ok(d) = fs::File::open(dir) {
            d.sync_all().map_err(|e| FdwError::io(format!("could not fsync directory \"{}\"", dir.display()), &e))?;
        }
        Ok(())
    }
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

fn opt(s: &Option<String>) -> String {
    s.as_deref().map_or_else(|| "\\N".to_string(), esc)
}

fn pct(s: &str) -> String {
    s.replace('%', "%25").replace(',', "%2C").replace('=', "%3D")
}

fn unpct(s: &str) -> String {
    s.replace("%2C", ",").replace("%3D", "=").replace("%25", "%")
}

fn enc_options(o: &Options) -> String {
    let parts: Vec<String> = o.iter().map(|(k, v)| format!("{}={}", pct(k), pct(v))).collect();
    esc(&parts.join(","))
}

fn enc_type(t: &DataType) -> String {
    match t {
        DataType::Bool => "bool".into(),
        DataType::Int2 => "int2".into(),
        DataType::Int4 => "int4".into(),
        DataType::Int8 => "int8".into(),
        DataType::Float4 => "float4".into(),
        DataType::Float8 => "float8".into(),
        DataType::Numeric(None) => "numeric".into(),
        DataType::Numeric(Some((p, s))) => format!("numeric({p},{s})"),
        DataType::Text => "text".into(),
        DataType::Varchar(None) => "varchar".into(),
        DataType::Varchar(Some(n)) => format!("varchar({n})"),
        DataType::Char(None) => "char".into(),
        DataType::Char(Some(n)) => format!("char({n})"),
        DataType::Date => "date".into(),
        DataType::Timestamp => "timestamp".into(),
        DataType::Interval => "interval".into(),
        DataType::Unknown => "unknown".into(),
    }
}

fn enc_datum(d: &Datum) -> String {
    let raw = match d {
        Datum::Null => "null".to_string(),
        Datum::Bool(b) => format!("b:{}", if *b { 't' } else { 'f' }),
        Datum::Int2(v) => format!("i2:{v}"),
        Datum::Int4(v) => format!("i4:{v}"),
        Datum::Int8(v) => format!("i8:{v}"),
        Datum::Float4(v) => format!("f4:{:x}", v.to_bits()),
        Datum::Float8(v) => format!("f8:{:x}", v.to_bits()),
        Datum::Numeric(n) => format!("n:{n}"),
        Datum::Text(s) => format!("t:{s}"),
        Datum::Date(v) => format!("d:{v}"),
        Datum::Timestamp(v) => format!("ts:{v}"),
        Datum::Interval(i) => format!("iv:{},{},{}", i.months, i.days, i.micros),
    };
    esc(&raw)
}

fn f64_field(v: f64) -> String {
    format!("{:x}", v.to_bits())
}

/// The catalog as text (checksum line included).
pub(crate) fn encode(cat: &Catalog) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{MAGIC}\t{VERSION}");
    let _ = writeln!(s, "next_oid\t{}", cat.next_oid);
    for r in &cat.roles {
        let _ = writeln!(s, "role\t{}", esc(r));
    }
    for e in &cat.extensions {
        let _ = writeln!(s, "extension\t{}", esc(e));
    }
    for w in cat.wrappers.values() {
        let _ = writeln!(
            s,
            "wrapper\t{}\t{}\t{}\t{}\t{}",
            w.oid,
            esc(&w.name),
            opt(&w.handler),
            opt(&w.validator),
            enc_options(&w.options)
        );
    }
    for v in cat.servers.values() {
        let _ = writeln!(
            s,
            "server\t{}\t{}\t{}\t{}\t{}\t{}",
            v.oid,
            esc(&v.name),
            esc(&v.wrapper),
            opt(&v.server_type),
            opt(&v.version),
            enc_options(&v.options)
        );
    }
    for m in &cat.user_mappings {
        let _ = writeln!(s, "mapping\t{}\t{}\t{}\t{}", m.oid, esc(&m.user), esc(&m.server), enc_options(&m.options));
    }
    for r in cat.relations.values() {
        let kind = if r.kind == RelKind::View { "v" } else { "f" };
        let _ = writeln!(
            s,
            "relation\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.oid,
            esc(&r.schema),
            esc(&r.name),
            kind,
            r.is_plain_table as u8,
            esc(&r.server),
            enc_options(&r.options),
            opt(&r.query)
        );
        for c in &r.columns {
            let _ = writeln!(
                s,
                "column\t{}\t{}\t{}\t{}\t{}",
                esc(&c.name),
                enc_type(&c.ty),
                c.not_null as u8,
                opt(&c.default),
                enc_options(&c.options)
            );
        }
        for i in &r.indexes {
            let cols: Vec<String> = i.columns.iter().map(|c| c.to_string()).collect();
            let _ = writeln!(s, "index\t{}\t{}\t{}\t{}", esc(&i.name), i.unique as u8, i.primary as u8, cols.join(","));
        }
        if let Some(st) = &r.stats {
            let _ = writeln!(s, "stats\t{}", f64_field(st.row_count));
            for (i, c) in st.columns.iter().enumerate() {
                let Some(c) = c else { continue };
                let _ = writeln!(
                    s,
                    "colstats\t{}\t{}\t{}\t{}",
                    i,
                    f64_field(c.null_frac),
                    f64_field(c.n_distinct),
                    c.avg_width
                );
                for (d, f) in &c.mcv {
                    let _ = writeln!(s, "mcv\t{}\t{}", enc_datum(d), f64_field(*f));
                }
                for d in &c.histogram {
                    let _ = writeln!(s, "hist\t{}", enc_datum(d));
                }
            }
        }
    }
    let sum = fnv1a(&s);
    let _ = writeln!(s, "checksum\t{sum:016x}");
    s
}

type DecodeResult<T> = Result<T, (usize, String)>;

fn unesc(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('\\') => out.push('\\'),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            other => return Err(format!("bad escape \\{}", other.map(String::from).unwrap_or_default())),
        }
    }
    Ok(out)
}

/// A line's fields, with typed accessors that report what is wrong.
struct Fields<'a> {
    parts: Vec<&'a str>,
}

impl<'a> Fields<'a> {
    fn get(&self, i: usize) -> Result<&'a str, String> {
        self.parts.get(i).copied().ok_or_else(|| format!("missing field {i}"))
    }
    fn text(&self, i: usize) -> Result<String, String> {
        unesc(self.get(i)?)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, String> {
        let f = self.get(i)?;
        if f == "\\N" {
            Ok(None)
        } else {
            unesc(f).map(Some)
        }
    }
    fn num<T: std::str::FromStr>(&self, i: usize) -> Result<T, String> {
        let f = self.get(i)?;
        f.parse().map_err(|_| format!("bad number \"{f}\""))
    }
    fn float(&self, i: usize) -> Result<f64, String> {
        let f = self.get(i)?;
        u64::from_str_radix(f, 16).map(f64::from_bits).map_err(|_| format!("bad float \"{f}\""))
    }
    fn flag(&self, i: usize) -> Result<bool, String> {
        match self.get(i)? {
            "0" => Ok(false),
            "1" => Ok(true),
            f => Err(format!("bad flag \"{f}\"")),
        }
    }
    fn options(&self, i: usize) -> Result<Options, String> {
        let raw = self.text(i)?;
        let mut o = Options::new();
        for part in raw.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').ok_or_else(|| format!("bad option \"{part}\""))?;
            o.0.push((unpct(k), unpct(v)));
        }
        Ok(o)
    }
    fn datum(&self, i: usize) -> Result<Datum, String> {
        dec_datum(&self.text(i)?)
    }
}

fn dec_type(s: &str) -> Result<DataType, String> {
    let bad = || format!("bad type \"{s}\"");
    let args = |inner: &str| -> Result<Vec<u32>, String> {
        inner.split(',').map(|x| x.trim().parse::<u32>().map_err(|_| bad())).collect()
    };
    Ok(match s {
        "bool" => DataType::Bool,
        "int2" => DataType::Int2,
        "int4" => DataType::Int4,
        "int8" => DataType::Int8,
        "float4" => DataType::Float4,
        "float8" => DataType::Float8,
        "numeric" => DataType::Numeric(None),
        "text" => DataType::Text,
        "varchar" => DataType::Varchar(None),
        "char" => DataType::Char(None),
        "date" => DataType::Date,
        "timestamp" => DataType::Timestamp,
        "interval" => DataType::Interval,
        "unknown" => DataType::Unknown,
        _ => {
            let (base, rest) = s.split_once('(').ok_or_else(bad)?;
            let a = args(rest.strip_suffix(')').ok_or_else(bad)?)?;
            match (base, a.as_slice()) {
                ("numeric", [p, sc]) if *p <= 255 && *sc <= 255 => DataType::Numeric(Some((*p as u8, *sc as u8))),
                ("varchar", [n]) => DataType::Varchar(Some(*n)),
                ("char", [n]) => DataType::Char(Some(*n)),
                _ => return Err(bad()),
            }
        }
    })
}

fn dec_datum(s: &str) -> Result<Datum, String> {
    if s == "null" {
        return Ok(Datum::Null);
    }
    let bad = || format!("bad value \"{s}\"");
    let (tag, v) = s.split_once(':').ok_or_else(bad)?;
    let int = |v: &str| v.parse::<i64>().map_err(|_| bad());
    Ok(match tag {
        "b" => Datum::Bool(v == "t"),
        "i2" => Datum::Int2(v.parse().map_err(|_| bad())?),
        "i4" => Datum::Int4(v.parse().map_err(|_| bad())?),
        "i8" => Datum::Int8(int(v)?),
        "f4" => Datum::Float4(f32::from_bits(u32::from_str_radix(v, 16).map_err(|_| bad())?)),
        "f8" => Datum::Float8(f64::from_bits(u64::from_str_radix(v, 16).map_err(|_| bad())?)),
        "n" => Datum::Numeric(v.parse().map_err(|_| bad())?),
        "t" => Datum::text(v),
        "d" => Datum::Date(v.parse().map_err(|_| bad())?),
        "ts" => Datum::Timestamp(int(v)?),
        "iv" => {
            let p: Vec<&str> = v.split(',').collect();
            let [m, d, us] = p.as_slice() else { return Err(bad()) };
            Datum::Interval(Interval::new(m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?, int(us)?))
        }
        _ => return Err(bad()),
    })
}

/// Parses a catalog file; errors carry the 1-based line number.
pub(crate) fn decode(text: &str) -> DecodeResult<Catalog> {
    // Verify the checksum first: a torn or damaged file is rejected as a whole.
    let body_end = text.trim_end_matches('\n').rfind('\n').map(|p| p + 1).ok_or((1, "file is empty".to_string()))?;
    let (body, trailer) = text.split_at(body_end);
    let nlines = body.lines().count() + 1;
    let sum = trailer
        .trim_end()
        .strip_prefix("checksum\t")
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .ok_or((nlines, "missing checksum (file truncated?)".to_string()))?;
    if sum != fnv1a(body) {
        return Err((nlines, "checksum mismatch".to_string()));
    }
    let mut cat = Catalog::default();
    let mut rel: Option<RelationEntry> = None;
    let mut col_stats: Option<usize> = None;
    let finish = |cat: &mut Catalog, rel: &mut Option<RelationEntry>| {
        if let Some(r) = rel.take() {
            cat.relations.insert((r.schema.clone(), r.name.clone()), Arc::new(r));
        }
    };
    for (i, line) in body.lines().enumerate() {
        let ln = i + 1;
        let f = Fields { parts: line.split('\t').collect() };
        let e = |m: String| (ln, m);
        let kind = f.get(0).map_err(e)?;
        if i == 0 {
            if kind != MAGIC {
                return Err((ln, "not an envelope catalog file".into()));
            }
            let v: u32 = f.num(1).map_err(e)?;
            if v != VERSION {
                return Err((ln, format!("unsupported catalog version {v} (expected {VERSION})")));
            }
            continue;
        }
        let res: Result<(), String> = (|| {
            match kind {
                "next_oid" => cat.next_oid = f.num(1)?,
                "role" => {
                    cat.roles.insert(f.text(1)?);
                }
                "extension" => {
                    cat.extensions.insert(f.text(1)?);
                }
                "wrapper" => {
                    let w = WrapperEntry {
                        oid: f.num(1)?,
                        name: f.text(2)?,
                        handler: f.opt_text(3)?,
                        validator: f.opt_text(4)?,
                        options: f.options(5)?,
                    };
                    cat.wrappers.insert(w.name.clone(), w);
                }
                "server" => {
                    let s = ServerEntry {
                        oid: f.num(1)?,
                        name: f.text(2)?,
                        wrapper: f.text(3)?,
                        server_type: f.opt_text(4)?,
                        version: f.opt_text(5)?,
                        options: f.options(6)?,
                    };
                    cat.servers.insert(s.name.clone(), s);
                }
                "mapping" => cat.user_mappings.push(UserMappingEntry {
                    oid: f.num(1)?,
                    user: f.text(2)?,
                    server: f.text(3)?,
                    options: f.options(4)?,
                }),
                "relation" => {
                    finish(&mut cat, &mut rel);
                    col_stats = None;
                    let kind = match f.get(4)? {
                        "f" => RelKind::ForeignTable,
                        "v" => RelKind::View,
                        k => return Err(format!("bad relation kind \"{k}\"")),
                    };
                    rel = Some(RelationEntry {
                        oid: f.num(1)?,
                        schema: f.text(2)?,
                        name: f.text(3)?,
                        kind,
                        is_plain_table: f.flag(5)?,
                        server: f.text(6)?,
                        options: f.options(7)?,
                        query: f.opt_text(8)?,
                        columns: Vec::new(),
                        indexes: Vec::new(),
                        stats: None,
                    });
                }
                "column" | "index" | "stats" | "colstats" | "mcv" | "hist" => {
                    let r = rel.as_mut().ok_or_else(|| format!("\"{kind}\" outside a relation"))?;
                    relation_line(r, kind, &f, &mut col_stats)?;
                }
                other => return Err(format!("unknown record \"{other}\"")),
            }
            Ok(())
        })();
        res.map_err(e)?;
    }
    finish(&mut cat, &mut rel);
    Ok(cat)
}

fn relation_line(
    r: &mut RelationEntry,
    kind: &str,
    f: &Fields<'_>,
    col_stats: &mut Option<usize>,
) -> Result<(), String> {
    match kind {
        "column" => r.columns.push(ColumnDef {
            name: f.text(1)?,
            ty: dec_type(&f.text(2)?)?,
            not_null: f.flag(3)?,
            default: f.opt_text(4)?,
            options: f.options(5)?,
        }),
        "index" => {
            let cols = f.text(4)?;
            let columns = cols
                .split(',')
                .filter(|c| !c.is_empty())
                .map(|c| c.parse::<usize>().ok().filter(|&c| c < r.columns.len()))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| format!("bad index columns \"{cols}\""))?;
            r.indexes.push(IndexDef {
                name: f.text(1)?,
                table: r.name.clone(),
                columns,
                unique: f.flag(2)?,
                primary: f.flag(3)?,
            });
        }
        "stats" => {
            r.stats = Some(Arc::new(TableStats { row_count: f.float(1)?, columns: vec![None; r.columns.len()] }));
        }
        _ => {
            let st = r.stats.as_mut().ok_or("column statistics before \"stats\"")?;
            let st = Arc::make_mut(st);
            if kind == "colstats" {
                let i: usize = f.num(1)?;
                let slot = st.columns.get_mut(i).ok_or_else(|| format!("statistics for missing column {i}"))?;
                *slot = Some(ColumnStats {
                    null_frac: f.float(2)?,
                    n_distinct: f.float(3)?,
                    avg_width: f.num(4)?,
                    mcv: Vec::new(),
                    histogram: Vec::new(),
                });
                *col_stats = Some(i);
                return Ok(());
            }
            let i = col_stats.ok_or("values before \"colstats\"")?;
            let c = st.columns[i].as_mut().ok_or("values before \"colstats\"")?;
            if kind == "mcv" {
                c.mcv.push((f.datum(1)?, f.float(2)?));
            } else {
                c.histogram.push(f.datum(1)?);
            }
        }
    }
    Ok(())
}
