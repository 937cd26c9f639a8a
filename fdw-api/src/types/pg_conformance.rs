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
            let sql = format!("select {}::{ty_sql}", quote(input));
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
    while f8.len() < 1500 {
        let bits = rng.next();
        let v = match rng.below(3) {
            0 => f64::from_bits(bits),
            1 => (bits % 1_000_000) as f64 / 10f64.powi(rng.below(12) as i32),
            _ => (bits as f64) * 10f64.powi(rng.below(40) as i32 - 20),
        };
        if v.is_finite() {
            f8.push(v);
            let f = v as f32;
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
