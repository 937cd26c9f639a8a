//! Option validation: each message of PostgreSQL 15's file_fdw regression test, and the
//! checks made when a scan opens the file.

mod common;

use common::*;
use fdw_api::{DataType, FdwRoutine, OptionTarget};
use file_fdw::FileFdw;

fn table_err(pairs: &[(&str, &str)]) -> (String, String) {
    let e = FileFdw::new().validate_options(OptionTarget::Table, &opts(pairs)).expect_err("should fail");
    (e.message.clone(), e.sqlstate.code().to_string())
}

fn table_msg(pairs: &[(&str, &str)]) -> String {
    table_err(pairs).0
}

#[test]
fn invalid_option_names_list_the_valid_ones() {
    let fdw = FileFdw::new();
    let e = fdw.validate_options(OptionTarget::Table, &opts(&[("foo", "bar")])).unwrap_err();
    assert_eq!(e.message, "invalid option \"foo\"");
    assert_eq!(e.sqlstate.code(), "HV00D");
    assert_eq!(
        e.hint.as_deref(),
        Some("Valid options in this context are: filename, program, format, header, delimiter, quote, escape, null, encoding")
    );
    for target in [OptionTarget::Wrapper, OptionTarget::Server, OptionTarget::UserMapping] {
        let e = fdw.validate_options(target, &opts(&[("force_not_null", "*")])).unwrap_err();
        assert_eq!(e.message, "invalid option \"force_not_null\"");
        assert_eq!(e.hint.as_deref(), Some("There are no valid options in this context."));
    }
    let e = fdw.validate_options(OptionTarget::Table, &opts(&[("force_null", "*")])).unwrap_err();
    assert_eq!(e.message, "invalid option \"force_null\"");
    let e = fdw.validate_options(OptionTarget::Column, &opts(&[("foo", "x")])).unwrap_err();
    assert_eq!(e.hint.as_deref(), Some("Valid options in this context are: force_not_null, force_null"));
    assert!(fdw.validate_options(OptionTarget::Server, &opts(&[])).is_ok());
}

#[test]
fn regression_messages() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("format", "xml")], "COPY format \"xml\" not recognized"),
        (&[("format", "text"), ("quote", ":")], "COPY quote available only in CSV mode"),
        (&[("format", "text"), ("escape", ":")], "COPY escape available only in CSV mode"),
        (&[("format", "binary"), ("header", "true")], "cannot specify HEADER in BINARY mode"),
        (&[("format", "binary"), ("quote", ":")], "COPY quote available only in CSV mode"),
        (&[("format", "binary"), ("escape", ":")], "COPY escape available only in CSV mode"),
        (&[("format", "text"), ("delimiter", "a")], "COPY delimiter cannot be \"a\""),
        (&[("format", "text"), ("escape", "-")], "COPY escape available only in CSV mode"),
        (
            &[("format", "csv"), ("quote", "-"), ("null", "=-=")],
            "CSV quote character must not appear in the NULL specification",
        ),
        (
            &[("format", "csv"), ("delimiter", "-"), ("null", "=-=")],
            "COPY delimiter must not appear in the NULL specification",
        ),
        (&[("format", "csv"), ("delimiter", "-"), ("quote", "-")], "COPY delimiter and quote must be different"),
        (&[("format", "csv"), ("delimiter", "---")], "COPY delimiter must be a single one-byte character"),
        (&[("format", "csv"), ("quote", "---")], "COPY quote must be a single one-byte character"),
        (&[("format", "csv"), ("escape", "---")], "COPY escape must be a single one-byte character"),
        (&[("format", "text"), ("delimiter", "\\")], "COPY delimiter cannot be \"\\\""),
        (&[("format", "text"), ("delimiter", ".")], "COPY delimiter cannot be \".\""),
        (&[("format", "text"), ("delimiter", "1")], "COPY delimiter cannot be \"1\""),
        (&[("format", "csv"), ("delimiter", "\n")], "COPY delimiter cannot be newline or carriage return"),
        (&[("format", "csv"), ("null", "\n")], "COPY null representation cannot use newline or carriage return"),
        (&[], "either filename or program is required for file_fdw foreign tables"),
        (&[("filename", "/x"), ("header", "maybe")], "header requires a Boolean value or \"match\""),
        (&[("filename", "/x"), ("encoding", "foo")], "argument to option \"encoding\" must be a valid encoding name"),
        (&[("filename", "/x"), ("program", "cat")], "conflicting or redundant options"),
        (&[("filename", "/x"), ("format", "binary"), ("delimiter", ",")], "cannot specify DELIMITER in BINARY mode"),
        (&[("filename", "/x"), ("format", "binary"), ("null", "x")], "cannot specify NULL in BINARY mode"),
        (
            &[("filename", "/x"), ("delimiter", "---"), ("quote", ":")],
            "COPY delimiter must be a single one-byte character",
        ),
        (&[("filename", "/x"), ("format", "Csv")], "COPY format \"Csv\" not recognized"),
    ];
    for (pairs, msg) in cases {
        assert_eq!(table_msg(pairs), *msg, "options {pairs:?}");
    }
    assert_eq!(table_err(&[]).1, "HV002");
    assert_eq!(table_err(&[("format", "xml")]).1, "22023");
}

#[test]
fn unsupported_features_say_so() {
    let (msg, state) = table_err(&[("program", "cat /etc/passwd")]);
    assert_eq!(msg, "file_fdw does not support the \"program\" option");
    assert_eq!(state, "0A000");
    let (msg, state) = table_err(&[("filename", "/x"), ("format", "binary")]);
    assert_eq!(msg, "file_fdw does not support COPY format \"binary\"");
    assert_eq!(state, "0A000");
    let (msg, state) = table_err(&[("filename", "/x"), ("encoding", "WIN1252")]);
    assert_eq!(msg, "file_fdw does not support encoding \"WIN1252\"");
    assert_eq!(state, "0A000");
}

#[test]
fn valid_options_pass() {
    let fdw = FileFdw::new();
    let ok = [
        opts(&[("filename", "/x"), ("format", "csv"), ("header", "match"), ("delimiter", ";"), ("quote", "@")]),
        opts(&[("filename", "/x"), ("format", "csv"), ("escape", "\\"), ("null", ""), ("encoding", "latin1")]),
        opts(&[("filename", "/x"), ("format", "text"), ("null", ""), ("header", "on"), ("encoding", "UTF-8")]),
        opts(&[("filename", "/x"), ("delimiter", "|"), ("encoding", "sql_ascii")]),
    ];
    for o in &ok {
        fdw.validate_options(OptionTarget::Table, o).unwrap_or_else(|e| panic!("{o:?}: {e:?}"));
    }
    fdw.validate_options(OptionTarget::Column, &opts(&[("force_not_null", "true"), ("force_null", "OFF")])).unwrap();
    let e = fdw.validate_options(OptionTarget::Column, &opts(&[("force_null", "yes")])).unwrap_err();
    assert_eq!(e.message, "force_null requires a Boolean value");
}

#[test]
fn force_options_need_csv_at_scan_time() {
    let f = file(b"a\n");
    let path = f.path().to_str().unwrap();
    let columns = vec![col_opts("w", DataType::Text, &[("force_not_null", "true")])];
    let tbl = table("text_csv", path, columns, &[("format", "text"), ("null", "NULL")]);
    let e = scan_all(&tbl).unwrap_err();
    assert_eq!(e.message, "COPY force not null available only in CSV mode");
    let columns = vec![col_opts("w", DataType::Text, &[("force_null", "on")])];
    let tbl = table("text_csv", path, columns, &[]);
    assert_eq!(scan_all(&tbl).unwrap_err().message, "COPY force null available only in CSV mode");
    // 'false' values do not count.
    let columns = vec![col_opts("w", DataType::Text, &[("force_null", "off")])];
    let tbl = table("text_csv", path, columns, &[]);
    assert_eq!(scan_all(&tbl).unwrap(), vec![vec![t("a")]]);
}
