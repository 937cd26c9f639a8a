//! Differential test against the local PostgreSQL: the same generated CSV files behind a
//! file_fdw foreign table on both sides, the same queries, results compared as text (in
//! order for queries whose outermost clause is ORDER BY, as multisets otherwise; errors by
//! message). PostgreSQL reads the files itself, so they live in a world-readable directory
//! under /tmp; its scratch database (C collation, as our byte-order text comparison) is dropped
//! at the end.

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use envelope::{Database, Session};
use harness::bench::data::{date_text, Rng};
use harness::pg::{simple_rows, ScratchDb};

type Rows = Vec<Vec<Option<String>>>;

const NAMES: &[&str] = &[
    "alpha",
    "bravo",
    "word123",
    "O'Brien",
    "comma, inside",
    "quote \"q\"",
    "Ünïcödé",
    "日本",
    "  padded  ",
    "",
    "tab\there",
];
const TAGS: &[&str] = &["red", "green", "blue", "x", ""];

/// A CSV field, quoted when needed; `None` is NULL (an unquoted empty field).
fn field(out: &mut String, v: Option<&str>) {
    match v {
        None => {}
        Some(s) if s.is_empty() || s.contains([',', '"', '\n', '\r']) || s != s.trim() => {
            let _ = write!(out, "\"{}\"", s.replace('"', "\"\""));
        }
        Some(s) => out.push_str(s),
    }
}

fn write_files(dir: &Path) {
    let mut rng = Rng::new(2024);
    let mut t1 = String::from("id,grp,val,amt,name,d,flag\n");
    for id in 1..=2000u64 {
        let grp = (rng.below(20) != 0).then(|| (rng.below(10)).to_string());
        let val = (rng.below(20) != 0).then(|| (rng.below(80_000) as f64 / 8.0).to_string());
        let amt = format!("{}.{:02}", rng.below(100_000), rng.below(100));
        let name = (rng.below(30) != 0).then(|| {
            let n = NAMES[rng.below(NAMES.len() as u64) as usize];
            if n == "word123" {
                format!("w{}", rng.below(50))
            } else {
                n.to_string()
            }
        });
        let d = date_text(8035 + rng.below(2557) as i64);
        let flag = ["t", "f", ""][rng.below(3) as usize];
        let _ = write!(t1, "{id},");
        field(&mut t1, grp.as_deref());
        t1.push(',');
        field(&mut t1, val.as_deref());
        let _ = write!(t1, ",{amt},");
        field(&mut t1, name.as_deref());
        let _ = writeln!(t1, ",{d},{flag}");
    }
    let mut t2 = String::from("id,t1_id,qty,tag\n");
    for id in 1..=3000u64 {
        let t1_id = (rng.below(25) != 0).then(|| (1 + rng.below(2200)).to_string());
        let qty = rng.below(100);
        let tag = (rng.below(10) != 0).then(|| TAGS[rng.below(TAGS.len() as u64) as usize]);
        let _ = write!(t2, "{id},");
        field(&mut t2, t1_id.as_deref());
        let _ = write!(t2, ",{qty},");
        field(&mut t2, tag);
        t2.push('\n');
    }
    for (name, text) in [("t1.csv", t1), ("t2.csv", t2)] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
}

fn ddl(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "CREATE EXTENSION file_fdw;
         CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
         CREATE FOREIGN TABLE t1 (id int, grp int, val float8, amt numeric(10,2), name text, d date, flag bool)
           SERVER files OPTIONS (filename '{d}/t1.csv', format 'csv', header 'true');
         CREATE FOREIGN TABLE t2 (id int, t1_id int, qty int, tag varchar(10))
           SERVER files OPTIONS (filename '{d}/t2.csv', format 'csv', header 'true')"
    )
}

const QUERIES: &[&str] = &[
    "SELECT count(*) FROM t1",
    "SELECT count(*), count(grp), count(val), count(name), count(flag) FROM t1",
    "SELECT sum(id), min(id), max(id) FROM t1",
    "SELECT sum(val), min(val), max(val) FROM t1",
    "SELECT sum(amt), min(amt), max(amt) FROM t1",
    "SELECT avg(amt) FROM t1",
    "SELECT avg(val) FROM t1",
    "SELECT grp, count(*), sum(amt) FROM t1 GROUP BY grp",
    "SELECT grp, count(*) FROM t1 GROUP BY grp HAVING count(*) > 190",
    "SELECT * FROM t1 WHERE id <= 20 ORDER BY id",
    "SELECT id, name FROM t1 WHERE name LIKE 'w%' ORDER BY id",
    "SELECT id FROM t1 WHERE val > 5000 AND grp = 3 ORDER BY id",
    "SELECT id, val FROM t1 WHERE val IS NULL ORDER BY id",
    "SELECT name, count(*) FROM t1 GROUP BY name",
    "SELECT d, count(*) FROM t1 GROUP BY d ORDER BY count(*) DESC, d LIMIT 10",
    "SELECT count(*) FROM t1 WHERE d BETWEEN DATE '1995-01-01' AND DATE '1995-12-31'",
    "SELECT id, d + 30, d - DATE '1992-01-01' FROM t1 WHERE id < 10 ORDER BY id",
    "SELECT flag, count(*) FROM t1 GROUP BY flag",
    "SELECT t1.id, t2.id FROM t1 JOIN t2 ON t2.t1_id = t1.id WHERE t1.id < 50",
    "SELECT count(*) FROM t1 JOIN t2 ON t2.t1_id = t1.id",
    "SELECT count(*) FROM t1 LEFT JOIN t2 ON t2.t1_id = t1.id",
    "SELECT count(*) FROM t1 RIGHT JOIN t2 ON t2.t1_id = t1.id",
    "SELECT count(*), count(t1.id), count(t2.id) FROM t1 FULL JOIN t2 ON t2.t1_id = t1.id",
    "SELECT t2.tag, sum(t2.qty), count(DISTINCT t1.grp) FROM t1 JOIN t2 ON t2.t1_id = t1.id GROUP BY t2.tag",
    "SELECT id FROM t1 WHERE id NOT IN (SELECT t1_id FROM t2 WHERE t1_id IS NOT NULL) ORDER BY id",
    // Correlated: kept to few outer rows, as each one rescans t2 until the planner decorrelates.
    "SELECT id FROM t1 t WHERE t.id % 40 = 0 AND EXISTS (SELECT 1 FROM t2 WHERE t2.t1_id = t.id AND t2.qty > 50) \
     ORDER BY id",
    "SELECT grp, max(val) - min(val) FROM t1 GROUP BY grp",
    "SELECT id, CASE WHEN val < 100 THEN 'low' WHEN val < 1000 THEN 'mid' ELSE 'high' END FROM t1 \
     WHERE id % 97 = 0 ORDER BY id",
    "SELECT coalesce(grp, -1), count(*) FROM t1 GROUP BY 1",
    "SELECT id, amt * 2, amt / 3, -amt FROM t1 WHERE id % 101 = 0 ORDER BY id",
    "SELECT id, val * 1.5, val / 7, val::int FROM t1 WHERE id % 103 = 0 ORDER BY id",
    "SELECT id % 10, count(*) FROM t1 GROUP BY 1 UNION ALL SELECT 99, count(*) FROM t2",
    "SELECT grp FROM t1 INTERSECT SELECT qty FROM t2",
    "SELECT tag FROM t2 EXCEPT SELECT name FROM t1",
    "WITH g AS (SELECT grp, sum(amt) AS s FROM t1 GROUP BY grp) SELECT grp, s FROM g WHERE s > (SELECT avg(s) FROM g)",
    "SELECT id, name FROM t1 ORDER BY name NULLS FIRST, id LIMIT 15",
    "SELECT id FROM t1 ORDER BY val DESC NULLS LAST, id LIMIT 10 OFFSET 5",
    "SELECT id, length(name), name || '!' FROM t1 WHERE id < 30 ORDER BY id",
    "SELECT count(*) FROM t2 WHERE tag IS NULL OR tag = ''",
    "SELECT t1_id, count(*) FROM t2 GROUP BY t1_id HAVING count(*) >= 4",
    "SELECT name FROM t1 WHERE name LIKE '%,%' OR name LIKE '%\"%' ORDER BY id",
    "SELECT a.id, b.id FROM t1 a JOIN t1 b ON a.grp = b.grp AND a.id + 1 = b.id WHERE a.id < 300",
    "SELECT sum(id) / 0 FROM t1",
    "SELECT id::int2 * 100 FROM t1 WHERE id > 1990",
];

/// True when the query has an ORDER BY outside parentheses (its order is then part of the
/// result; every such query here orders by a total order).
fn ordered(q: &str) -> bool {
    let mut depth = 0i32;
    for (i, c) in q.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            'O' if depth == 0 && q[i..].starts_with("ORDER BY") => return true,
            _ => {}
        }
    }
    false
}

fn ours(session: &mut Session, q: &str) -> Result<Rows, String> {
    let r = session.execute(q).map_err(|e| e.message)?;
    Ok(r.rows.iter().map(|row| row.iter().map(|d| (!d.is_null()).then(|| d.to_text())).collect()).collect())
}

fn theirs(client: &mut postgres::Client, q: &str) -> Result<Rows, String> {
    match simple_rows(client, q) {
        Ok((_, rows)) => Ok(rows),
        Err(e) => Err(e.as_db_error().map(|d| d.message().to_string()).unwrap_or_else(|| e.to_string())),
    }
}

fn show(r: &Result<Rows, String>) -> String {
    match r {
        Err(e) => format!("ERROR: {e}"),
        Ok(rows) => {
            let mut s = format!("{} rows", rows.len());
            for row in rows.iter().take(8) {
                let cells: Vec<&str> = row.iter().map(|v| v.as_deref().unwrap_or("NULL")).collect();
                let _ = write!(s, "\n    {}", cells.join(" | "));
            }
            if rows.len() > 8 {
                s.push_str("\n    ...");
            }
            s
        }
    }
}

#[test]
fn same_results_as_postgresql() {
    let scratch = ScratchDb::create("diff").unwrap_or_else(|e| panic!("{e:#}"));
    let mut client = scratch.connect().unwrap();
    // PostgreSQL's server process reads the files: a world-readable directory under /tmp.
    let dir = tempfile::Builder::new().prefix("envelope-diff-").tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    write_files(dir.path());
    client.batch_execute(&ddl(dir.path())).expect("PostgreSQL: create the foreign tables");

    let db = Database::open_in_memory().unwrap();
    let mut session = db.session();
    for r in session.execute_batch(&ddl(dir.path())) {
        if let Err(e) = r {
            panic!("envelope: create the foreign tables: {e:?}");
        }
    }

    let mut diffs = Vec::new();
    for q in QUERIES {
        let (mut want, mut got) = (theirs(&mut client, q), ours(&mut session, q));
        // Only the division by zero is meant to fail; any other error is a broken query.
        assert_eq!(want.is_err(), q.contains("/ 0"), "PostgreSQL: {q}: {want:?}");
        if !ordered(q) {
            for rows in [&mut want, &mut got].into_iter().flat_map(|r| r.as_mut().ok()) {
                rows.sort();
            }
        }
        if want != got {
            diffs.push(format!("--- {q}\npostgres: {}\nours:     {}", show(&want), show(&got)));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} of {} queries differ from PostgreSQL:\n\n{}",
        diffs.len(),
        QUERIES.len(),
        diffs.join("\n\n")
    );
}

#[test]
fn order_detection() {
    assert!(ordered("SELECT a FROM t ORDER BY a"));
    assert!(!ordered("SELECT a FROM t"));
    assert!(!ordered("SELECT (SELECT a FROM t ORDER BY a LIMIT 1)"));
    assert!(ordered("SELECT f(a) FROM t ORDER BY count(*) DESC, a LIMIT 3"));
}
