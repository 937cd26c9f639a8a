//! Join key filters end to end: a hash join hands the keys of its inner side to the file scan
//! on its outer side, which then returns only rows that can join. The answers must be those
//! of the plain join for every join type, and the scan must read fewer rows exactly where the
//! join drops rows without a match (inner and semi joins), never where it keeps them (left
//! and anti joins).

use std::io::Write;

use envelope::{Database, Session};

/// `big(k int, v text, y int, d date)`: k = 1..=2000 and two rows with NULL keys;
/// `small(k bigint, name text)`: keys 5, 17, 1999 (twice) and 5000 (no partner); `days(d
/// date)`: two days, each the `d` of 100 rows of `big`.
fn setup() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let mut big = std::fs::File::create(dir.path().join("big.csv")).unwrap();
    for k in 1..=2000 {
        writeln!(big, "{k},v{k},{},2024-01-{:02}", 2000 + k % 20, 1 + k % 20).unwrap();
    }
    writeln!(big, ",null key,2000,").unwrap();
    writeln!(big, ",null key,2001,").unwrap();
    std::fs::write(dir.path().join("small.csv"), "5,five\n17,seventeen\n1999,a\n1999,b\n5000,none\n").unwrap();
    std::fs::write(dir.path().join("days.csv"), "2024-01-03\n2024-01-05\n").unwrap();
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    let d = dir.path().display();
    let script = format!(
        "CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
         CREATE FOREIGN TABLE big (k int, v text, y int, d date) SERVER files OPTIONS (filename '{d}/big.csv', format 'csv');
         CREATE FOREIGN TABLE small (k bigint, name text) SERVER files
           OPTIONS (filename '{d}/small.csv', format 'csv');
         CREATE FOREIGN TABLE days (d date) SERVER files OPTIONS (filename '{d}/days.csv', format 'csv');
         ANALYZE big; ANALYZE small; ANALYZE days;"
    );
    for r in s.execute_batch(&script) {
        r.unwrap();
    }
    (dir, db)
}

fn rows(s: &mut Session, sql: &str) -> Vec<String> {
    let r = s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    r.rows.iter().map(|row| row.iter().map(|d| d.to_text()).collect::<Vec<_>>().join("|")).collect()
}

/// The plan of `sql` under EXPLAIN ANALYZE, and the actual row count of the scan of `big`.
fn big_scan_rows(s: &mut Session, sql: &str) -> (String, u64) {
    let plan = rows(s, &format!("EXPLAIN (ANALYZE, COSTS OFF) {sql}")).join("\n");
    let line = plan.lines().find(|l| l.contains("Foreign Scan on big")).unwrap_or_else(|| panic!("{plan}"));
    let n = line.split("rows=").nth(1).and_then(|r| r.split_whitespace().next()).and_then(|n| n.parse().ok());
    (plan.clone(), n.unwrap_or_else(|| panic!("no row count in {line}")))
}

#[test]
fn inner_and_semi_joins_scan_only_joining_rows() {
    let (_dir, db) = setup();
    let mut s = db.session();
    let inner = "SELECT b.k, b.v, s.name FROM big b JOIN small s ON b.k = s.k";
    assert_eq!(
        rows(&mut s, &format!("{inner} ORDER BY 1, 3")),
        ["5|v5|five", "17|v17|seventeen", "1999|v1999|a", "1999|v1999|b"]
    );
    let (plan, n) = big_scan_rows(&mut s, inner);
    assert!(plan.contains("Hash Join"), "{plan}");
    assert_eq!(n, 3, "{plan}");

    let semi = "SELECT count(*), sum(k) FROM big WHERE k IN (SELECT k FROM small)";
    assert_eq!(rows(&mut s, semi), ["3|2021"]);
    let (plan, n) = big_scan_rows(&mut s, semi);
    assert_eq!(n, 3, "{plan}");

    // With a qual on the scan too: both apply.
    let both = "SELECT b.k FROM big b JOIN small s ON b.k = s.k WHERE b.y > 2010 ORDER BY 1";
    assert_eq!(rows(&mut s, both), ["17", "1999", "1999"]);
}

#[test]
fn joins_that_keep_unmatched_outer_rows_scan_everything() {
    let (_dir, db) = setup();
    let mut s = db.session();
    let left = "SELECT count(*), count(s.name) FROM big b LEFT JOIN small s ON b.k = s.k";
    assert_eq!(rows(&mut s, left), ["2003|4"]);
    let (plan, n) = big_scan_rows(&mut s, left);
    assert_eq!(n, 2002, "{plan}");

    let anti = "SELECT count(*) FROM big b WHERE NOT EXISTS (SELECT 1 FROM small s WHERE s.k = b.k)";
    assert_eq!(rows(&mut s, anti), ["1999"]);
    let (plan, n) = big_scan_rows(&mut s, anti);
    assert_eq!(n, 2002, "{plan}");

    let full = "SELECT count(*), count(b.k), count(s.k) FROM big b FULL JOIN small s ON b.k = s.k";
    // 2002 rows of big (1999 twice) and small's 5000.
    assert_eq!(rows(&mut s, full), ["2004|2001|5"]);
}

#[test]
fn key_filters_follow_rescans_and_other_key_types() {
    let (_dir, db) = setup();
    let mut s = db.session();
    // Date keys.
    let dates = "SELECT count(*), min(b.k) FROM big b JOIN days d ON b.d = d.d";
    assert_eq!(rows(&mut s, dates), ["200|2"]);
    let (plan, n) = big_scan_rows(&mut s, dates);
    assert_eq!(n, 200, "{plan}");
    // An expression key is not a plain column: no filter, still the right answer.
    let expr = "SELECT count(*) FROM big b JOIN days d ON d.d = date '2024-01-01' + (b.k - 1)";
    assert_eq!(rows(&mut s, expr), ["2"]);
    // Text keys are not filtered; the answer stays right.
    let text = "SELECT b.k FROM big b JOIN small s ON b.v = 'v' || s.k ORDER BY 1";
    assert_eq!(rows(&mut s, text), ["5", "17", "1999", "1999"]);
    // A hash join inside a correlated subquery is rebuilt for each outer row; each build
    // offers its own keys.
    let correlated = "SELECT s.k, (SELECT count(*) FROM big b JOIN small s2 ON b.k = s2.k WHERE s2.name = s.name)
                      FROM small s ORDER BY 1, 2";
    assert_eq!(rows(&mut s, correlated), ["5|1", "17|1", "1999|1", "1999|1", "5000|0"]);
}

/// A semi or anti join with a small outer side hashes that side (`Hash Right Semi Join`) and
/// streams the large inner one through its key filter; NULL keys on either side and a join
/// qual keep their meaning.
#[test]
fn semi_and_anti_joins_hash_a_small_outer_side() {
    let (_dir, db) = setup();
    let mut s = db.session();
    let semi = "SELECT s.k, s.name FROM small s WHERE EXISTS (SELECT 1 FROM big b WHERE b.k = s.k) ORDER BY 1, 2";
    assert_eq!(rows(&mut s, semi), ["5|five", "17|seventeen", "1999|a", "1999|b"]);
    let plan = rows(&mut s, &format!("EXPLAIN (COSTS OFF) {semi}")).join("\n");
    assert!(plan.contains("Hash Right Semi Join"), "{plan}");
    assert!(plan.contains("Hash Cond: ((b.k)::bigint = s.k)"), "{plan}");
    let (plan, n) = big_scan_rows(&mut s, semi);
    assert_eq!(n, 3, "{plan}");

    let anti = "SELECT s.k, s.name FROM small s WHERE NOT EXISTS (SELECT 1 FROM big b WHERE b.k = s.k)";
    assert_eq!(rows(&mut s, anti), ["5000|none"]);
    let plan = rows(&mut s, &format!("EXPLAIN (COSTS OFF) {anti}")).join("\n");
    assert!(plan.contains("Hash Right Anti Join"), "{plan}");

    // A join qual beyond the keys: checked per pair.
    let qual = "SELECT s.name FROM small s WHERE EXISTS (SELECT 1 FROM big b WHERE b.k = s.k AND b.y > 2010)
                ORDER BY 1";
    assert_eq!(rows(&mut s, qual), ["a", "b", "seventeen"]);
    let qual_anti = "SELECT s.name FROM small s WHERE NOT EXISTS (SELECT 1 FROM big b WHERE b.k = s.k AND b.y > 2010)
                     ORDER BY 1";
    assert_eq!(rows(&mut s, qual_anti), ["five", "none"]);

    // NULL keys: an outer row with one is kept by NOT EXISTS and dropped by EXISTS; the inner
    // rows with NULL keys match nothing.
    let nulls = "SELECT count(*) FILTER (WHERE v = 'null key'), count(*) FROM
                   (SELECT b.v FROM (SELECT * FROM big WHERE y = 2000) b
                    WHERE NOT EXISTS (SELECT 1 FROM big c WHERE c.k = b.k)) x";
    assert_eq!(rows(&mut s, nulls), ["1|1"]);
    let nulls_semi = "SELECT count(*) FROM (SELECT * FROM big WHERE y = 2000) b
                      WHERE EXISTS (SELECT 1 FROM big c WHERE c.k = b.k)";
    assert_eq!(rows(&mut s, nulls_semi), ["100"]);
}
