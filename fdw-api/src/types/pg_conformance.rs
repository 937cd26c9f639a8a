//! Differential tests against the reference PostgreSQL 15 (honours PGHOST, PGPORT, PGUSER;
//! default 127.0.0.1:5432 as postgres): text input/output of every type, float formatting
//! of random values, numeric arithmetic scales, interval/date/timestamp output, and error
//! wording with SQLSTATE. They fail with a clear message when the server is down.

use postgres::{Client, NoTls, SimpleQueryMessage};

use crate::expr::BinaryOp;
use crate::types::{DataType, Datum, Interval};

fn connect() -> Client {
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let info = format!(
        "host={} port={} user={} dbname={}",
        var("PGHOST", "127.0.0.1"),
        var("PGPORT", "5432"),
        var("PGUSER", "postgres"),
        var("PGDATABASE", "postgres")
    );
    Client::connect(&info, NoTls).unwrap_or_else(|e| {
        panic!("these tests compare with PostgreSQL, which is not reachable ({info}): {e}; start it with: pg_ctlcluster 15 main start")
    })
}

/// The first column of every row, as PostgreSQL prints it; or the error's (SQLSTATE, message).
fn query(c: &mut Client, sql: &str) -> Result<Vec<Option<String>>, (String, String)> {
    match c.simple_query(sql) {
        Ok(msgs) => Ok(msgs
            .into_iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => Some(r.get(0).map(str::to_string)),
                _ => None,
            })
            .collect()),
        Err(e) => {
            let db = e.as_db_error().unwrap_or_else(|| panic!("{sql}: {e}"));
            Err((db.code().code().to_string(), db.message().to_string()))
        }
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn text_input_and_output_match_postgres() {
    let mut c = connect();
    let cases: &[(&str, DataType, &[&str])] = &[
        ("int2", DataType::Int2, &["0", " -32768", "32767 ", "32768", "1.5", "", "+12", "- 1", "1e3"]),
        ("int4", DataType::Int4, &["2147483647", "-2147483648", "2147483648", " 42 ", "abc", "0x10", "--1"]),
        ("int8", DataType::Int8, &["9223372036854775807", "-9223372036854775808", "9223372036854775808", "7"]),
        ("bool", DataType::Bool, &["t", "TRUE", " yes ", "on", "off", "of", "o", "1", "0", "y", "n", "maybe", ""]),
        (
            "float8",
            DataType::Float8,
            &[
                "0.1",
                "1e20",
                "-0",
                "NaN",
                "-Infinity",
                "inf",
                "1e-5",
                "123456789012345678",
                "1e400",
                "abc",
                " 2.5 ",
                "1e-400",
            ],
        ),
        ("float4", DataType::Float4, &["0.1", "1e6", "123456", "3.4e38", "1e39", "1.17549435e-38", "-1.5"]),
        (
            "numeric",
            DataType::Numeric(None),
            &["1.50", "1e5", "1.5e1", "-0.00", "  12  ", ".5", "5.", "1.5e-3", "abc", "1e", "00012.3400", "-.1"],
        ),
        ("numeric(5,2)", DataType::Numeric(Some((5, 2))), &["1.005", "-1.005", "3", "999.994", "999.995", "12345.678"]),
        ("numeric(2,2)", DataType::Numeric(Some((2, 2))), &["0.5", "1", "0.994", "0.995"]),
        ("varchar(3)", DataType::Varchar(Some(3)), &["ab", "abc", "abcd", "abc   ", "éèà", "éèàx"]),
        ("char(3)", DataType::Char(Some(3)), &["ab", "abc", "abcd", "a  ", ""]),
        (
            "date",
            DataType::Date,
            &[
                "1996-03-13",
                "1/8/1999",
                "19990108",
                "January 8, 1999",
                "1999-Jan-08",
                "08-Jan-1999",
                "10000-01-01",
                "0001-12-31 BC",
                "infinity",
                "-infinity",
                "2000-02-29",
                "2001-02-29",
                "2020-02-30",
                "abc",
                "2020-13-01",
                "99-01-08",
                "1999-01-08 10:00:00",
                "42",
                "99",
                "2020",
                "1999 01 08",
                "01 08 1999",
                "jan",
                "2020-01",
            ],
        ),
        (
            "timestamp",
            DataType::Timestamp,
            &[
                "1996-03-13 10:00",
                "1996-03-13 10:00:00.5",
                "1996-03-13T10:00:00.123456789",
                "1996-03-13 10:00:00+02",
                "1996-03-13",
                "epoch",
                "infinity",
                "1999-01-08 04:05:06 pm",
                "1999-01-08 12:00:00 am",
                "1996-03-13 25:00",
                "1996-03-13 10:61",
                "January 8, 1999 10:00",
                "1999-01-08 23:59:59.9999999",
            ],
        ),
        (
            "interval",
            DataType::Interval,
            &[
                "1 year 2 mons 3 days 04:05:06",
                "-1 days",
                "0",
                "1.5 days",
                "1.5 months",
                "-1 year -2 mons +3 days -04:05:06.5",
                "1 year -1 mons",
                "P1Y2M3DT4H5M6S",
                "100 hours",
                "2 hours ago",
                "@ 1 minute",
                "10",
                "1:2",
                "1 week",
                "0.000001 sec",
                "-0.5 sec",
                "3 months",
                "1 decade",
                "2 centuries",
                "1.25 years",
                "1 day -1 hour",
                "-1:30",
                "1 millisecond",
                "abc",
                "1 fortnight",
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (ty_sql, ty, inputs) in cases {
        for input in *inputs {
            // `'x'::varchar(3)` is an explicit cast (it truncates); input into a column, as
            // COPY does and `parse_text` models, is an assignment: compare with INSERT.
            let sql = if ty_sql.contains('(') && !ty_sql.starts_with("numeric") {
                let table = format!("h1_{}", ty_sql.replace(['(', ')'], "_"));
                c.batch_execute(&format!("create temp table if not exists {table} (c {ty_sql})")).unwrap();
                format!("insert into {table} values ({}) returning c", quote(input))
            } else {
                format!("select {}::{ty_sql}", quote(input))
            };
            let pg = query(&mut c, &sql);
            let ours = ty.parse_text(input).map(|d| d.to_text());
            match (&pg, &ours) {
                (Ok(rows), Ok(v)) if rows.first().and_then(|r| r.as_deref()) == Some(v.as_str()) => {}
                (Err((code, msg)), Err(e)) if *code == e.sqlstate.code() && *msg == e.message => {}
                _ => failures.push(format!("{sql}: postgres {pg:?}, ours {:?}", ours.map_err(|e| e.to_string()))),
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn random_float_output_matches_postgres() {
    let mut c = connect();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut f8 = Vec::new();
    let mut f4 = Vec::new();
    while f8.len() < 6000 {
        let bits = rng.next();
        let v = match rng.below(3) {
            0 => f64::from_bits(bits),
            1 => (bits % 1_000_000) as f64 / 10f64.powi(rng.below(12) as i32),
            _ => (bits as f64) * 10f64.powi(rng.below(40) as i32 - 20),
        };
        if v.is_finite() {
            f8.push(v);
            let f = if rng.below(2) == 0 { v as f32 } else { f32::from_bits(bits as u32) };
            if f.is_finite() && (f != 0.0 || v == 0.0) {
                f4.push(f);
            }
        }
    }
    let check = |c: &mut Client, ty: &str, lits: Vec<String>, ours: Vec<String>| {
        let values: Vec<String> = lits.iter().map(|l| format!("({})", quote(l))).collect();
        let sql = format!("select v::{ty} from (values {}) t(v)", values.join(","));
        let rows = query(c, &sql).unwrap_or_else(|e| panic!("{e:?}"));
        let mut bad = Vec::new();
        for ((row, mine), lit) in rows.iter().zip(&ours).zip(&lits) {
            if row.as_deref() != Some(mine.as_str()) {
                bad.push(format!("{lit}: postgres {row:?}, ours {mine}"));
            }
        }
        assert!(bad.is_empty(), "{ty} output differs:\n{}", bad.join("\n"));
    };
    check(
        &mut c,
        "float8",
        f8.iter().map(|v| format!("{v:e}")).collect(),
        f8.iter().map(|v| Datum::Float8(*v).to_text()).collect(),
    );
    check(
        &mut c,
        "float4",
        f4.iter().map(|v| format!("{v:e}")).collect(),
        f4.iter().map(|v| Datum::Float4(*v).to_text()).collect(),
    );
}

fn random_numeric(rng: &mut Rng) -> String {
    let int_digits = rng.below(9) as usize;
    let frac_digits = rng.below(7) as usize;
    let mut s = String::new();
    if rng.below(4) == 0 {
        s.push('-');
    }
    for i in 0..int_digits.max(1) {
        let d = rng.below(10);
        s.push(char::from(b'0' + if i == 0 && int_digits > 1 { d.max(1) } else { d } as u8));
    }
    if frac_digits > 0 {
        s.push('.');
        for _ in 0..frac_digits {
            s.push(char::from(b'0' + rng.below(10) as u8));
        }
    }
    s
}

#[test]
fn numeric_arithmetic_scales_match_postgres() {
    let mut c = connect();
    let mut rng = Rng(0xdead_beef_1234_5678);
    let ops = [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div, BinaryOp::Mod];
    let mut exprs = Vec::new();
    let mut ours = Vec::new();
    for i in 0..600 {
        let (a, b) = (random_numeric(&mut rng), random_numeric(&mut rng));
        let op = ops[i % ops.len()];
        let da = DataType::Numeric(None).parse_text(&a).unwrap();
        let db = DataType::Numeric(None).parse_text(&b).unwrap();
        match crate::eval::ops::binary(op, &da, &db, false) {
            Ok(v) => {
                exprs.push(format!("({}::numeric {} {}::numeric)::text", quote(&a), op.sql(), quote(&b)));
                ours.push(v.to_text());
            }
            Err(e) if e.sqlstate.code() == "22012" => {}
            Err(e) => panic!("{a} {} {b}: {e}", op.sql()),
        }
    }
    let sql = format!("select unnest(array[{}])", exprs.join(","));
    let rows = query(&mut c, &sql).unwrap_or_else(|e| panic!("{e:?}"));
    let bad: Vec<String> = rows
        .iter()
        .zip(&ours)
        .zip(&exprs)
        .filter(|((pg, mine), _)| pg.as_deref() != Some(mine.as_str()))
        .map(|((pg, mine), e)| format!("{e}: postgres {pg:?}, ours {mine}"))
        .collect();
    assert!(bad.is_empty(), "{} of {} differ:\n{}", bad.len(), ours.len(), bad.join("\n"));
}

#[test]
fn random_datetime_output_matches_postgres() {
    let mut c = connect();
    let mut rng = Rng(0x0bad_cafe_f00d_1234);
    let mut exprs = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..400 {
        let months = rng.below(400) as i32 - 200;
        let days = rng.below(80) as i32 - 40;
        let micros = (rng.next() % 400_000_000_000) as i64 - 200_000_000_000;
        let micros = if rng.below(3) == 0 { micros / 1_000_000 * 1_000_000 } else { micros };
        let (months, days, micros) = match rng.below(4) {
            0 => (months, 0, 0),
            1 => (0, days, 0),
            2 => (0, 0, micros),
            _ => (months, days, micros),
        };
        exprs.push(format!(
            "(interval '{months} months' + interval '{days} days' + interval '{micros} microseconds')::text"
        ));
        ours.push(Datum::Interval(Interval::new(months, days, micros)).to_text());
        let d = rng.below(1_500_000) as i32 - 750_000;
        exprs.push(format!("(date '2000-01-01' + {d})::text"));
        ours.push(Datum::Date(d).to_text());
        let ts = (rng.next() % 60_000_000_000_000_000) as i64 - 30_000_000_000_000_000;
        exprs.push(format!("(timestamp '2000-01-01' + interval '{ts} microseconds')::text"));
        ours.push(Datum::Timestamp(ts).to_text());
    }
    let sql = format!("select unnest(array[{}])", exprs.join(","));
    let rows = query(&mut c, &sql).unwrap_or_else(|e| panic!("{e:?}"));
    let bad: Vec<String> = rows
        .iter()
        .zip(&ours)
        .zip(&exprs)
        .filter(|((pg, mine), _)| pg.as_deref() != Some(mine.as_str()))
        .map(|((pg, mine), e)| format!("{e}: postgres {pg:?}, ours {mine}"))
        .collect();
    assert!(bad.is_empty(), "{} differ:\n{}", bad.len(), bad.join("\n"));
}

#[test]
fn explicit_casts_match_postgres() {
    let mut c = connect();
    let types: &[(&str, DataType, &[&str])] = &[
        ("int2", DataType::Int2, &["-7", "300"]),
        ("int4", DataType::Int4, &["0", "-70000", "1"]),
        ("int8", DataType::Int8, &["5000000000", "-3"]),
        ("float4", DataType::Float4, &["2.5", "-1.5e10", "0.1"]),
        ("float8", DataType::Float8, &["3.5", "1e300", "-0.5", "123456789.987654321", "NaN"]),
        ("numeric", DataType::Numeric(None), &["2.5", "-2.5", "12345.678", "0.000123", "99999999999"]),
        ("numeric(5,2)", DataType::Numeric(Some((5, 2))), &["1.25"]),
        ("text", DataType::Text, &["42", " 1.5 ", "abc", "t", "2020-01-02", "1 day", "abcdef", "2020", "1999 01 08"]),
        ("bool", DataType::Bool, &["t", "f"]),
        ("date", DataType::Date, &["2020-01-02", "infinity"]),
        ("timestamp", DataType::Timestamp, &["2020-01-02 10:11:12.5", "1999-12-31 23:59:59"]),
        ("interval", DataType::Interval, &["1 day 02:00", "-3 mons"]),
        ("varchar(3)", DataType::Varchar(Some(3)), &["ab"]),
        ("char(3)", DataType::Char(Some(3)), &["ab"]),
    ];
    let mut failures = Vec::new();
    let mut checked = 0;
    for (from_sql, from, values) in types {
        for v in *values {
            let Ok(datum) = from.parse_text(v) else { continue };
            for (to_sql, to, _) in types {
                let sql = format!("select ({}::{from_sql})::{to_sql}", quote(v));
                let pg = query(&mut c, &sql);
                if matches!(&pg, Err((code, _)) if code == "42846") && crate::func::can_cast(from, to, true) {
                    failures.push(format!("{sql}: postgres has no such cast but can_cast says yes"));
                    continue;
                }
                let ours = crate::func::cast_datum_explicit(datum.clone(), from, to).map(|d| d.to_text());
                // Documented limits of our numeric (no NaN, 28 digits): PostgreSQL succeeds,
                // we must fail with a clear error rather than give a wrong value.
                let beyond_numeric = matches!(to, DataType::Numeric(_))
                    && matches!(&pg, Ok(rows) if rows.first().and_then(|r| r.as_deref()).is_some_and(|t| t == "NaN" || t.len() > 30));
                if beyond_numeric {
                    assert!(ours.is_err(), "{sql}: expected an error, got {ours:?}");
                    continue;
                }
                checked += 1;
                match (&pg, &ours) {
                    (Ok(rows), Ok(o)) if rows.first().and_then(|r| r.as_deref()) == Some(o.as_str()) => {}
                    (Err((code, msg)), Err(e)) if *code == e.sqlstate.code() && *msg == e.message => {}
                    _ => failures.push(format!(
                        "{sql}: postgres {pg:?}, ours {:?}",
                        ours.map_err(|e| format!("{e} ({})", e.sqlstate))
                    )),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} casts differ:\n{}", failures.len(), failures.join("\n"));
}

/// Builds what the binder would: resolve, coerce each argument with a cast, then evaluate
/// the compiled program.
fn eval_call(name: &str, args: &[(DataType, Datum)]) -> crate::error::FdwResult<String> {
    use crate::expr::Expr;
    let types: Vec<DataType> = args.iter().map(|(t, _)| t.clone()).collect();
    let coerce = |i: usize, want: &DataType| {
        let (t, v) = &args[i];
        let e = Expr::constant(v.clone(), t.clone());
        if t == want {
            e
        } else {
            Expr::Cast { expr: Box::new(e), ty: want.clone() }
        }
    };
    let expr = if let Some(op) = binary_op(name) {
        let r = crate::func::resolve_binary(op, &types[0], &types[1])?;
        Expr::Binary {
            op,
            left: Box::new(coerce(0, &r.arg_types[0])),
            right: Box::new(coerce(1, &r.arg_types[1])),
            ty: r.ret,
        }
    } else {
        let (func, r) = crate::func::resolve_function(name, &types)?;
        Expr::Func { func, args: (0..args.len()).map(|i| coerce(i, &r.arg_types[i])).collect(), ty: r.ret }
    };
    Ok(crate::eval::eval_const(&expr)?.to_text())
}

fn binary_op(s: &str) -> Option<BinaryOp> {
    Some(match s {
        "+" => BinaryOp::Add,
        "-" => BinaryOp::Sub,
        "*" => BinaryOp::Mul,
        "/" => BinaryOp::Div,
        "%" => BinaryOp::Mod,
        "^" => BinaryOp::Pow,
        "||" => BinaryOp::Concat,
        "<" => BinaryOp::Lt,
        "=" => BinaryOp::Eq,
        _ => return None,
    })
}

#[test]
fn functions_and_operators_match_postgres() {
    let mut c = connect();
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("+", &[("int4", "1"), ("int8", "2")]),
        ("+", &[("int4", "2147483647"), ("int4", "1")]),
        ("/", &[("int4", "7"), ("int4", "2")]),
        ("/", &[("int4", "7"), ("numeric", "2")]),
        ("/", &[("numeric", "1"), ("numeric", "3")]),
        ("/", &[("numeric", "123456.789"), ("numeric", "0.007")]),
        ("/", &[("float8", "1"), ("int4", "0")]),
        ("%", &[("numeric", "10.5"), ("int4", "3")]),
        ("^", &[("int4", "2"), ("int4", "10")]),
        ("^", &[("numeric", "1.5"), ("int4", "3")]),
        ("*", &[("numeric", "1.25"), ("numeric", "0.004")]),
        ("*", &[("float4", "1.5"), ("numeric", "2")]),
        ("-", &[("date", "2020-03-01"), ("date", "2020-02-01")]),
        ("+", &[("date", "2020-01-31"), ("interval", "1 month")]),
        ("-", &[("timestamp", "2020-03-01 10:00"), ("timestamp", "2020-02-28 12:30")]),
        ("*", &[("interval", "1 day 3 hours"), ("float8", "2.5")]),
        ("/", &[("interval", "1 mon"), ("int4", "7")]),
        ("||", &[("text", "ab"), ("int4", "12")]),
        ("||", &[("char(4)", "ab"), ("text", "|")]),
        ("<", &[("char(4)", "ab"), ("varchar", "ab  ")]),
        ("=", &[("numeric", "1.0"), ("numeric", "1.00")]),
        ("=", &[("float8", "NaN"), ("float8", "NaN")]),
        ("abs", &[("int4", "-5")]),
        ("abs", &[("numeric", "-1.50")]),
        ("round", &[("numeric", "2.345"), ("int4", "2")]),
        ("round", &[("float8", "2.5")]),
        ("round", &[("int4", "7")]),
        ("round", &[("numeric", "-1234.5678"), ("int4", "-2")]),
        ("trunc", &[("numeric", "-2.789"), ("int4", "1")]),
        ("ceil", &[("numeric", "-1.5")]),
        ("floor", &[("float8", "-1.5")]),
        ("sqrt", &[("numeric", "2.0000")]),
        ("sqrt", &[("int4", "2")]),
        ("sqrt", &[("numeric", "0.0004")]),
        ("power", &[("numeric", "2"), ("numeric", "0.5")]),
        ("power", &[("int4", "3"), ("int4", "2")]),
        ("sign", &[("numeric", "-0.5")]),
        ("mod", &[("int4", "-7"), ("int4", "3")]),
        ("mod", &[("numeric", "7.5"), ("numeric", "2")]),
        ("length", &[("text", "héllo")]),
        ("length", &[("char(6)", "ab")]),
        ("char_length", &[("varchar", "abc")]),
        ("octet_length", &[("text", "héllo")]),
        ("octet_length", &[("char(6)", "ab")]),
        ("upper", &[("char(4)", "ab")]),
        ("upper", &[("text", "straße")]),
        ("lower", &[("text", "ÀB")]),
        ("substring", &[("text", "hello world"), ("int4", "3"), ("int4", "4")]),
        ("substr", &[("text", "hello"), ("int4", "-2"), ("int4", "4")]),
        ("position", &[("text", "lo"), ("text", "hello")]),
        ("strpos", &[("text", "héllo"), ("text", "llo")]),
        ("btrim", &[("text", "  hi  ")]),
        ("ltrim", &[("text", "xxyhi"), ("text", "xy")]),
        ("rtrim", &[("text", "hi  ")]),
        ("replace", &[("text", "aaa"), ("text", "a"), ("text", "bb")]),
        ("left", &[("text", "héllo"), ("int4", "2")]),
        ("right", &[("text", "hello"), ("int4", "-1")]),
        ("lpad", &[("text", "5"), ("int4", "3"), ("text", "0")]),
        ("rpad", &[("text", "héllo"), ("int4", "2")]),
        ("concat", &[("text", "a"), ("int4", "1"), ("bool", "t"), ("date", "2020-01-02")]),
        ("concat_ws", &[("text", "-"), ("numeric", "1.50"), ("text", "x")]),
        ("repeat", &[("text", "ab"), ("int4", "0")]),
        ("reverse", &[("text", "héllo")]),
        ("split_part", &[("text", "a||b||c"), ("text", "||"), ("int4", "-1")]),
        ("initcap", &[("text", "hi THERE o'neil")]),
        ("md5", &[("text", "The quick brown fox")]),
        ("to_char", &[("timestamp", "2021-07-04 09:05:03.25"), ("text", "YYYY/MM/DD HH12:MI:SS.MS PM Dy")]),
        ("to_char", &[("date", "2021-07-04"), ("text", "FMMonth FMDD, YYYY")]),
        ("to_char", &[("numeric", "-1234.567"), ("text", "99999.99")]),
        ("to_char", &[("int4", "42"), ("text", "FM0000")]),
        ("extract", &[("text", "year"), ("date", "2021-07-04")]),
        ("extract", &[("text", "epoch"), ("timestamp", "2021-07-04 10:00:00.25")]),
        ("extract", &[("text", "dow"), ("timestamp", "2021-07-04")]),
        ("extract", &[("text", "minute"), ("interval", "3 hours 25 minutes")]),
        ("date_part", &[("text", "doy"), ("date", "2021-12-31")]),
        ("date_part", &[("text", "epoch"), ("interval", "1 year 1 day")]),
        ("date_trunc", &[("text", "month"), ("timestamp", "2021-07-04 09:05:03")]),
        ("date_trunc", &[("text", "hour"), ("interval", "1 day 03:25:00")]),
        ("age", &[("timestamp", "2021-07-04"), ("timestamp", "1999-12-31 23:00")]),
        ("make_date", &[("int4", "2021"), ("int4", "2"), ("int4", "29")]),
        ("greatest", &[("int4", "3"), ("numeric", "3.5"), ("int4", "1")]),
        ("least", &[("text", "b"), ("text", "a")]),
    ];
    let mut failures = Vec::new();
    for (name, args) in cases {
        let parsed: Vec<(DataType, Datum)> = args
            .iter()
            .map(|(t, v)| {
                let ty = match *t {
                    "int4" => DataType::Int4,
                    "int8" => DataType::Int8,
                    "float4" => DataType::Float4,
                    "float8" => DataType::Float8,
                    "numeric" => DataType::Numeric(None),
                    "text" => DataType::Text,
                    "varchar" => DataType::Varchar(None),
                    "char(4)" => DataType::Char(Some(4)),
                    "char(6)" => DataType::Char(Some(6)),
                    "bool" => DataType::Bool,
                    "date" => DataType::Date,
                    "timestamp" => DataType::Timestamp,
                    "interval" => DataType::Interval,
                    other => panic!("type {other}"),
                };
                let d = ty.parse_text(v).unwrap();
                (ty, d)
            })
            .collect();
        let lits: Vec<String> = args.iter().map(|(t, v)| format!("{}::{t}", quote(v))).collect();
        let sql = match (binary_op(name), *name) {
            (Some(_), _) => format!("select {} {name} {}", lits[0], lits[1]),
            (None, "position") => format!("select position({} in {})", lits[0], lits[1]),
            (None, "extract") => format!("select extract({} from {})", args[0].1, lits[1]),
            (None, _) => format!("select {name}({})", lits.join(", ")),
        };
        let pg = query(&mut c, &sql);
        let ours = eval_call(name, &parsed);
        match (&pg, &ours) {
            (Ok(rows), Ok(o)) if rows.first().and_then(|r| r.as_deref()) == Some(o.as_str()) => {}
            (Err((code, msg)), Err(e)) if *code == e.sqlstate.code() && *msg == e.message => {}
            _ => failures.push(format!("{sql}: postgres {pg:?}, ours {:?}", ours.map_err(|e| e.to_string()))),
        }
    }
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn random_aggregates_match_postgres() {
    use crate::eval::Accumulator;
    use crate::expr::AggFunc;
    let mut c = connect();
    let mut rng = Rng(0x0005_eed0_fa99_u64);
    let aggs = [
        ("sum", AggFunc::Sum),
        ("avg", AggFunc::Avg),
        ("var_samp", AggFunc::VarSamp),
        ("var_pop", AggFunc::VarPop),
        ("stddev_samp", AggFunc::StddevSamp),
        ("stddev_pop", AggFunc::StddevPop),
        ("min", AggFunc::Min),
        ("max", AggFunc::Max),
    ];
    let mut failures = Vec::new();
    for round in 0..30 {
        let (ty_sql, ty) = match round % 3 {
            0 => ("numeric", DataType::Numeric(None)),
            1 => ("int4", DataType::Int4),
            _ => ("float8", DataType::Float8),
        };
        let n = 1 + rng.below(12) as usize;
        let vals: Vec<String> = (0..n)
            .map(|_| {
                let v = random_numeric(&mut rng);
                if ty == DataType::Int4 {
                    v.split('.').next().unwrap_or("0").chars().take(6).collect::<String>().replace("-", "-0")
                } else {
                    v
                }
            })
            .map(|v| if v == "-" || v.is_empty() { "0".into() } else { v })
            .collect();
        let datums: Vec<Datum> = vals.iter().map(|v| ty.parse_text(v).unwrap()).collect();
        let values: Vec<String> = vals.iter().map(|v| format!("({}::{ty_sql})", quote(v))).collect();
        for (name, func) in aggs {
            let sql = format!("select {name}(x) from (values {}) t(x)", values.join(","));
            let pg = query(&mut c, &sql).unwrap_or_else(|e| panic!("{sql}: {e:?}"));
            let (_, r) = crate::func::resolve_aggregate(name, std::slice::from_ref(&ty), false).unwrap().unwrap();
            let mut acc = Accumulator::new(func, &ty, &r.ret);
            for d in &datums {
                acc.update(std::slice::from_ref(d)).unwrap();
            }
            let ours = acc.finish().unwrap();
            let ours = if ours.is_null() { None } else { Some(ours.to_text()) };
            if pg.first().cloned().flatten() != ours {
                failures.push(format!("{sql}: postgres {:?}, ours {ours:?}", pg.first()));
            }
        }
    }
    assert!(failures.is_empty(), "{} differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn random_interval_input_matches_postgres() {
    let mut c = connect();
    let mut rng = Rng(0x1a2b_3c4d_5e6f_7788);
    let units = [
        "microseconds",
        "ms",
        "second",
        "secs",
        "min",
        "minutes",
        "hour",
        "hrs",
        "day",
        "days",
        "week",
        "mon",
        "months",
        "year",
        "yrs",
        "decade",
        "century",
    ];
    let mut inputs = Vec::new();
    for _ in 0..300 {
        let parts = 1 + rng.below(3);
        let mut s = String::new();
        if rng.below(6) == 0 {
            s.push_str("@ ");
        }
        for _ in 0..parts {
            let sign = ["", "-", "+"][rng.below(3) as usize];
            let whole = rng.below(100);
            let v =
                if rng.below(3) == 0 { format!("{sign}{whole}.{}", rng.below(1000)) } else { format!("{sign}{whole}") };
            s.push_str(&format!("{v} {} ", units[rng.below(units.len() as u64) as usize]));
        }
        if rng.below(3) == 0 {
            let sign = ["", "-"][rng.below(2) as usize];
            s.push_str(&format!("{sign}{}:{:02}:{:02}", rng.below(30), rng.below(60), rng.below(60)));
            if rng.below(2) == 0 {
                s.push_str(&format!(".{}", rng.below(1_000_000)));
            }
        }
        if rng.below(8) == 0 {
            s.push_str(" ago");
        }
        inputs.push(s.trim().to_string());
    }
    let mut failures = Vec::new();
    for input in &inputs {
        let sql = format!("select {}::interval", quote(input));
        let pg = query(&mut c, &sql);
        let ours = DataType::Interval.parse_text(input).map(|d| d.to_text());
        match (&pg, &ours) {
            (Ok(rows), Ok(o)) if rows.first().and_then(|r| r.as_deref()) == Some(o.as_str()) => {}
            (Err((code, msg)), Err(e)) if *code == e.sqlstate.code() && *msg == e.message => {}
            _ => failures.push(format!("{sql}: postgres {pg:?}, ours {:?}", ours.map_err(|e| e.to_string()))),
        }
    }
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), inputs.len(), failures.join("\n"));
}

#[test]
fn random_date_and_timestamp_input_matches_postgres() {
    let mut c = connect();
    let mut rng = Rng(0x7777_1234_abcd_0001);
    let months = ["jan", "February", "MAR", "apr", "May", "june", "Jul", "aug", "Sept", "oct", "nov", "DEC"];
    let mut inputs = Vec::new();
    for _ in 0..300 {
        let y = 1 + rng.below(2100);
        let m = 1 + rng.below(12);
        let d = 1 + rng.below(31);
        let mut s = match rng.below(7) {
            0 => format!("{y:04}-{m:02}-{d:02}"),
            1 => format!("{m}/{d}/{y}"),
            2 => format!("{y:04}{m:02}{d:02}"),
            3 => format!("{} {d}, {y}", months[(m - 1) as usize]),
            4 => format!("{d}-{}-{y:04}", months[(m - 1) as usize]),
            5 => format!("{y:04}-{}-{d:02}", months[(m - 1) as usize]),
            _ => format!("{y:04}-{m}-{d}"),
        };
        if rng.below(3) > 0 {
            let h = rng.below(25);
            s.push_str(if rng.below(4) == 0 { "T" } else { " " });
            s.push_str(&format!("{h:02}:{:02}", rng.below(61)));
            if rng.below(2) == 0 {
                s.push_str(&format!(":{:02}", rng.below(61)));
                if rng.below(2) == 0 {
                    s.push_str(&format!(".{}", rng.below(10_000_000)));
                }
            }
            match rng.below(6) {
                0 => s.push_str(" pm"),
                1 => s.push_str("+02"),
                2 => s.push_str(" am"),
                _ => {}
            }
        }
        if rng.below(10) == 0 {
            s.push_str(" BC");
        }
        inputs.push(s);
    }
    let mut failures = Vec::new();
    for input in &inputs {
        for (ty_sql, ty) in [("date", DataType::Date), ("timestamp", DataType::Timestamp)] {
            let sql = format!("select {}::{ty_sql}", quote(input));
            let pg = query(&mut c, &sql);
            let ours = ty.parse_text(input).map(|d| d.to_text());
            match (&pg, &ours) {
                (Ok(rows), Ok(o)) if rows.first().and_then(|r| r.as_deref()) == Some(o.as_str()) => {}
                (Err((code, msg)), Err(e)) if *code == e.sqlstate.code() && *msg == e.message => {}
                _ => failures.push(format!("{sql}: postgres {pg:?}, ours {:?}", ours.map_err(|e| e.to_string()))),
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), inputs.len() * 2, failures.join("\n"));
}
