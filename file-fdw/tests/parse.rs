//! Parsing of both formats, NULL rules, headers, and the errors a bad file raises, checked
//! against what PostgreSQL 15's file_fdw answers for the same bytes.

mod common;

use common::*;
use fdw_api::{DataType, Datum};

const REGRESS: &str = "/work/shared/pg-regress/file_fdw/data";

fn int_text_table(
    data: &[u8],
    options: &[(&str, &str)],
) -> (tempfile::NamedTempFile, std::sync::Arc<fdw_api::TableDesc>) {
    let f = file(data);
    let tbl = table("t", f.path().to_str().unwrap(), vec![col("a", DataType::Int4), col("b", DataType::Text)], options);
    (f, tbl)
}

fn rows(data: &[u8], options: &[(&str, &str)]) -> Vec<Vec<Datum>> {
    let (_f, tbl) = int_text_table(data, options);
    scan_all(&tbl).unwrap_or_else(|e| panic!("{e:?}"))
}

fn error(data: &[u8], options: &[(&str, &str)]) -> (String, String) {
    let (_f, tbl) = int_text_table(data, options);
    describe(&scan_all(&tbl).expect_err("should fail"))
}

#[test]
fn regress_agg_csv_and_text() {
    let agg = |file: &str, options: &[(&str, &str)]| {
        let path = format!("{REGRESS}/{file}");
        let tbl = table("agg", &path, vec![col("a", DataType::Int2), col("b", DataType::Float4)], options);
        scan_all(&tbl)
    };
    let csv =
        [("format", "csv"), ("header", "true"), ("delimiter", ";"), ("quote", "@"), ("escape", "\""), ("null", "")];
    let want = vec![
        vec![Datum::Int2(100), Datum::Float4(99.097)],
        vec![Datum::Int2(0), Datum::Float4(0.09561)],
        vec![Datum::Int2(42), Datum::Float4(324.78)],
    ];
    assert_eq!(agg("agg.csv", &csv).unwrap(), want);
    let text = agg("agg.data", &[("format", "text"), ("delimiter", "\t"), ("null", "\\N")]).unwrap();
    assert_eq!(text.len(), 4);
    assert_eq!(text[0], vec![Datum::Int2(56), Datum::Float4(7.8)]);
    let e = agg("agg.bad", &csv).unwrap_err();
    assert_eq!(
        describe(&e),
        ("invalid input syntax for type real: \"aaa\"".into(), "COPY agg, line 3, column b: \"aaa\"".into())
    );
    assert_eq!(e.sqlstate.code(), "22P02");
}

#[test]
fn regress_header_match() {
    let path = format!("{REGRESS}/list1.csv");
    let ok = table(
        "header_match",
        &path,
        vec![col("1", DataType::Int4), col("foo", DataType::Text)],
        &[("format", "csv"), ("header", "match")],
    );
    assert_eq!(scan_all(&ok).unwrap(), vec![vec![i(1), t("bar")]]);
    let bad = table(
        "header_doesnt_match",
        &path,
        vec![col("a", DataType::Int4), col("foo", DataType::Text)],
        &[("format", "csv"), ("header", "match")],
    );
    let e = scan_all(&bad).unwrap_err();
    assert_eq!(
        describe(&e),
        (
            "column name mismatch in header line field 1: got \"1\", expected \"a\"".into(),
            "COPY header_doesnt_match, line 1: \"1,foo\"".into()
        )
    );
    assert_eq!(e.sqlstate.code(), "22P04");
    assert_eq!(
        error(b"a,b,c\n1,2\n", &[("format", "csv"), ("header", "match")]),
        ("wrong number of fields in header line: got 3, expected 2".into(), "COPY t, line 1: \"a,b,c\"".into())
    );
}

#[test]
fn regress_force_null_and_not_null() {
    let path = format!("{REGRESS}/text.csv");
    let columns = vec![
        col_opts("word1", DataType::Text, &[("force_not_null", "true")]),
        col_opts("word2", DataType::Text, &[("force_not_null", "off")]),
        col_opts("word3", DataType::Text, &[("force_null", "true")]),
        col_opts("word4", DataType::Text, &[("force_null", "off")]),
    ];
    let tbl = table("text_csv", &path, columns, &[("format", "csv"), ("null", "NULL")]);
    let n = Datum::Null;
    assert_eq!(
        scan_all(&tbl).unwrap(),
        vec![
            vec![t("AAA"), t("aaa"), t("123"), t("")],
            vec![t("XYZ"), t("xyz"), t(""), t("321")],
            vec![t("NULL"), n.clone(), n.clone(), n.clone()],
            vec![t("NULL"), n.clone(), n.clone(), n.clone()],
            vec![t("ABC"), t("abc"), t(""), t("")],
        ]
    );
}

#[test]
fn csv_quotes_nulls_and_newlines() {
    let csv = [("format", "csv")];
    assert_eq!(
        rows(b"1,\n2,\"\"\n3,NULL\n4,\"a,\"\"b\"\"\nc\"\n5,x\"y,z\"w\n", &csv),
        vec![
            vec![i(1), Datum::Null],
            vec![i(2), t("")],
            vec![i(3), t("NULL")],
            vec![i(4), t("a,\"b\"\nc")],
            vec![i(5), t("xy,zw")],
        ]
    );
    // Custom escape, CRLF line ends, no final newline.
    assert_eq!(
        rows(b"1,'a\\'b'\r\n2,'c\\\\d'\r\n3,'e\\f'", &[("format", "csv"), ("quote", "'"), ("escape", "\\")]),
        vec![vec![i(1), t("a'b")], vec![i(2), t("c\\d")], vec![i(3), t("e\\f")]]
    );
    // Quoted fields are never NULL; a NULL marker applies unquoted.
    assert_eq!(
        rows(b"1,N\n2,\"N\"\n", &[("format", "csv"), ("null", "N")]),
        vec![vec![i(1), Datum::Null], vec![i(2), t("N")]]
    );
    // The end-of-data marker.
    assert_eq!(rows(b"1,a\n\\.\n2,b\n", &csv), vec![vec![i(1), t("a")]]);
    // Lone CR line endings.
    assert_eq!(rows(b"1,a\r2,b\r", &csv), vec![vec![i(1), t("a")], vec![i(2), t("b")]]);
}

#[test]
fn text_escapes() {
    assert_eq!(
        rows(b"1\t\\x41\\101\\n\\N\\\\\\\ta\n2\t\\N\n3\t\n4\ta\\\nb\n", &[]),
        vec![vec![i(1), t("AA\nN\\\ta")], vec![i(2), Datum::Null], vec![i(3), t("")], vec![i(4), t("a\nb")]]
    );
    assert_eq!(rows(b"1|a\\|b\n", &[("delimiter", "|")]), vec![vec![i(1), t("a|b")]]);
    assert_eq!(rows(b"1\tx\n\\.\n2\ty\n", &[]), vec![vec![i(1), t("x")]]);
    assert_eq!(rows(b"1\tNULL\n", &[("null", "NULL")]), vec![vec![i(1), Datum::Null]]);
    let e = error(b"1\t\\xff\n", &[]);
    assert_eq!(e.0, "invalid byte sequence for encoding \"UTF8\": 0xff");
    assert_eq!(error(b"1\ta\\.b\n", &[]).0, "end-of-copy marker corrupt");
}

#[test]
fn column_count_errors() {
    let csv = [("format", "csv"), ("header", "true")];
    let e = error(b"a,b\n1,2\n3\n", &csv);
    assert_eq!(e, ("missing data for column \"b\"".into(), "COPY t, line 3: \"3\"".into()));
    let e = error(b"a,b\n1,2\n4,5,6\n", &csv);
    assert_eq!(e, ("extra data after last expected column".into(), "COPY t, line 3: \"4,5,6\"".into()));
    // Even count(*) checks the shape of every line.
    let (_f, tbl) = int_text_table(b"1,2\n3\n", &[("format", "csv")]);
    let e = run(&request(&tbl, vec![], vec![], 0), &[]).unwrap_err();
    assert_eq!(describe(&e).0, "missing data for column \"b\"");
    assert_eq!(e.sqlstate.code(), "22P04");
    // A scan of the first column splits only that far and still counts the rest, in long
    // records (the sixteen-byte path) and short ones.
    let long = format!("1,{}\n2,{},extra\n", "y".repeat(40), "z".repeat(40));
    let (_f, tbl) = int_text_table(long.as_bytes(), &[("format", "csv")]);
    let e = run(&request(&tbl, vec![0], vec![], 0), &[]).unwrap_err();
    assert_eq!(
        describe(&e),
        ("extra data after last expected column".into(), format!("COPY t, line 2: \"2,{},extra\"", "z".repeat(40)))
    );
    let (_f, tbl) = int_text_table(b"1,2\n3,4,5\n", &[("format", "csv")]);
    let e = run(&request(&tbl, vec![0], vec![], 0), &[]).unwrap_err();
    assert_eq!(describe(&e).0, "extra data after last expected column");
    let (_f, tbl) = int_text_table(format!("1,{}\n3\n", "q".repeat(30)).as_bytes(), &[("format", "csv")]);
    let e = run(&request(&tbl, vec![0], vec![], 0), &[]).unwrap_err();
    assert_eq!(describe(&e).0, "missing data for column \"b\"");
}

#[test]
fn value_errors_have_line_and_column() {
    // Lines are records: the quoted newline does not count.
    let e = error(b"1,\"x\ny\nz\"\nq,w\n", &[("format", "csv")]);
    assert_eq!(e, ("invalid input syntax for type integer: \"q\"".into(), "COPY t, line 2, column a: \"q\"".into()));
    let long = format!("{},b\n", "x".repeat(150));
    let e = error(long.as_bytes(), &[("format", "csv")]);
    assert_eq!(e.1, format!("COPY t, line 1, column a: \"{}...\"", "x".repeat(100)));
    let f = file(b"1,abcdef\n");
    let tbl = table(
        "vc",
        f.path().to_str().unwrap(),
        vec![col("a", DataType::Int4), col("b", DataType::Varchar(Some(3)))],
        &[("format", "csv")],
    );
    let e = scan_all(&tbl).unwrap_err();
    assert_eq!(
        describe(&e),
        ("value too long for type character varying(3)".into(), "COPY vc, line 1, column b: \"abcdef\"".into())
    );
    let e = error(b"99999999999,a\n", &[("format", "csv")]);
    assert_eq!(e.0, "value \"99999999999\" is out of range for type integer");
}

#[test]
fn line_ending_and_quote_errors() {
    let csv = [("format", "csv")];
    let e = error(b"1,2\n3,4\r\n", &csv);
    assert_eq!(e, ("unquoted carriage return found in data".into(), "COPY t, line 2".into()));
    let e = error(b"1\t2\r\n3\t4\n", &[]);
    assert_eq!(e, ("literal newline found in data".into(), "COPY t, line 2".into()));
    let e = error(b"1,\"abc\n", &csv);
    assert_eq!(e, ("unterminated CSV quoted field".into(), "COPY t, line 1: \"1,\"abc\n\"".into()));
}

#[test]
fn encodings() {
    let e = error(b"1,caf\xc3\xa9\n2,ab\xe9 b\n", &[("format", "csv")]);
    assert_eq!(e, ("invalid byte sequence for encoding \"UTF8\": 0xe9 0x20 0x62".into(), "COPY t, line 2".into()));
    assert_eq!(
        rows(b"1,caf\xc3\xa9\n2,ab\xe9 b\n", &[("format", "csv"), ("encoding", "latin1")]),
        vec![vec![i(1), t("caf\u{c3}\u{a9}")], vec![i(2), t("ab\u{e9} b")]]
    );
    assert_eq!(
        rows(b"1,caf\xc3\xa9\n", &[("format", "csv"), ("encoding", "sql_ascii")]),
        vec![vec![i(1), t("caf\u{e9}")]]
    );
    // Rows before the bad line are returned by earlier batches; the error names the line.
    let mut data = Vec::new();
    for n in 0..5000 {
        data.extend_from_slice(format!("{n},x\n").as_bytes());
    }
    data.extend_from_slice(b"5000,\xff\n");
    let e = error(&data, &[("format", "csv")]);
    assert_eq!(e, ("invalid byte sequence for encoding \"UTF8\": 0xff".into(), "COPY t, line 5001".into()));
}

#[test]
fn missing_file_and_directory() {
    let tbl = table("nof", "/nonexistent/h2/x.csv", vec![col("a", DataType::Int4)], &[]);
    let e = scan_all(&tbl).unwrap_err();
    assert_eq!(e.message, "could not open file \"/nonexistent/h2/x.csv\" for reading: No such file or directory");
    assert_eq!(e.sqlstate.code(), "58P01");
    let dir = tempfile::tempdir().unwrap();
    let tbl = table("d", dir.path().to_str().unwrap(), vec![col("a", DataType::Int4)], &[]);
    assert!(scan_all(&tbl).unwrap_err().message.ends_with("is a directory"));
}

#[test]
fn records_across_block_boundaries() {
    // Long records, quoted newlines and multibyte characters straddling the 2 MB blocks.
    let mut data = Vec::new();
    let mut want = Vec::new();
    let mut n = 0;
    while data.len() < 5 << 20 {
        let text = format!("\u{e9}{}\n\"{}", "y".repeat(n % 3000), n);
        let line = format!("{n},\"{}\"\n", text.replace('"', "\"\""));
        data.extend_from_slice(line.as_bytes());
        want.push(vec![i(n as i32), t(&text)]);
        n += 1;
    }
    assert_eq!(rows(&data, &[("format", "csv")]), want);
}
