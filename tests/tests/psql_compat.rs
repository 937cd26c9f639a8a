//! Our output against psql's, byte for byte: the same statements (over literals and VALUES,
//! so no tables are needed) run through `psql -c` on the local PostgreSQL and through our
//! shell on an in-memory database; stdout (aligned and `--csv`) and stderr must be equal.

use envelope::Database;
use harness::format::Format;
use harness::pg::psql_command;
use harness::shell::{Outcome, Shell};

/// stdout, stderr and success of one `-c` run.
type Run = (String, String, bool);

fn psql(sql: &str, format: Format) -> Run {
    let mut cmd = psql_command(None);
    cmd.args(["-v", "ON_ERROR_STOP=1"]);
    if format == Format::Csv {
        cmd.arg("--csv");
    }
    let out = cmd.args(["-c", sql]).output().expect("cannot run psql (is postgresql-client installed?)");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !stderr.contains("could not connect") && !stderr.contains("Connection refused"),
        "PostgreSQL is not reachable: {stderr}; start it with: pg_ctlcluster 15 main start"
    );
    (String::from_utf8_lossy(&out.stdout).to_string(), without_error_position(&stderr), out.status.success())
}

/// psql's `LINE n: ...` and caret lines under an error with a position. Our errors carry no
/// cursor position yet, so these lines are left out of the comparison.
fn without_error_position(stderr: &str) -> String {
    let mut out = String::new();
    let mut skip_caret = false;
    for line in stderr.split_inclusive('\n') {
        if line.starts_with("LINE ") {
            skip_caret = true;
            continue;
        }
        if skip_caret && line.trim_end().ends_with('^') && line.trim_start().starts_with('^') {
            skip_caret = false;
            continue;
        }
        out.push_str(line);
    }
    out
}

fn ours(sql: &str, format: Format) -> Run {
    let db = Database::open_in_memory().expect("open_in_memory");
    let mut shell = Shell::new(db.session(), format, Vec::new(), Vec::new());
    let ok = shell.run_command(sql) == Outcome::Ok;
    (String::from_utf8_lossy(&shell.out).to_string(), String::from_utf8_lossy(&shell.err).to_string(), ok)
}

fn compare_all(queries: &[&str], format: Format) {
    let mut diffs = Vec::new();
    for q in queries {
        let (want, got) = (psql(q, format), ours(q, format));
        if want != got {
            diffs.push(format!(
                "--- {q}\npsql (ok={}):\n{}{}\nours (ok={}):\n{}{}",
                want.2, want.0, want.1, got.2, got.0, got.1
            ));
        }
    }
    assert!(diffs.is_empty(), "{} of {} outputs differ from psql:\n\n{}", diffs.len(), queries.len(), diffs.join("\n"));
}

const ALIGNED: &[&str] = &[
    "SELECT 1 AS a, 'hello'::text AS longer_name, NULL::int AS n, 1.5 AS num",
    "SELECT 1 AS a WHERE false",
    "SELECT x, y FROM (VALUES ('héllo wörld', 12), ('日本語', 1234567)) v(x, y)",
    "SELECT E'a\\nbcd' AS ml, 2 AS i",
    "SELECT E'ab\\ncdef\\n' AS x, 1 AS y",
    "SELECT E'a\\tb' AS t, E'a\\rb' AS r, 'end' AS e",
    "SELECT 1::int2 AS a, 2::int8 AS b, 1.5::float4 AS c, -2.25::float8 AS d, 123.450::numeric(10,3) AS e, \
     true AS f, DATE '2024-02-29' AS g",
    "SELECT * FROM (VALUES (1, NULL), (NULL, 'x')) v(a, b)",
    "SELECT 1 AS \"a long header\", 'x' AS ab, 'yy' AS \"odd\"",
    "SELECT 1 AS \"multi\nline\", 'v' AS w",
    "SELECT '' AS e, NULL::text AS n",
    "SELECT 12345678901234::int8 AS big, -1 AS neg, 0.5::float8 AS half",
    "SELECT 1 AS a; SELECT 2 AS b",
    "SELECT a, b FROM (VALUES (3, 'three'), (1, 'one'), (2, 'two')) v(a, b) ORDER BY a",
];

#[test]
fn aligned_output_matches_psql() {
    compare_all(ALIGNED, Format::Aligned);
}

#[test]
fn csv_output_matches_psql() {
    compare_all(
        &[
            "SELECT 1 AS a, 'hello'::text AS longer_name, NULL::int AS n, 1.5 AS num",
            "SELECT 1 AS a WHERE false",
            "SELECT 'a,b' AS c, 'q\"q' AS q, ' lead' AS l, 'trail ' AS t, '' AS e, NULL AS n, '\\.' AS bs",
            "SELECT E'x\\ny' AS nl, E'tab\\there' AS tb",
            "SELECT * FROM (VALUES (1, NULL), (NULL, 'x')) v(a, b)",
            "SELECT 1 AS \"a,b\", 2 AS \"x\"\"y\"",
        ],
        Format::Csv,
    );
}

#[test]
fn errors_match_psql() {
    compare_all(
        &[
            "SELECT 1/0",
            "SELECT 1 AS a; SELECT 1/0; SELECT 3 AS c",
            "SELECT 'abc'::int",
            "SELECT * FROM no_such_table",
            "SELECT 2147483647 + 1",
        ],
        Format::Aligned,
    );
}
