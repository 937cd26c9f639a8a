//! Durability through the embedding API: restart, crash images, torn and damaged WAL, faults.
//!
//! A "crash" is simulated by copying the data directory while the database is running: the
//! copy holds exactly what a SIGKILL would leave on disk (the page cache survives a process
//! kill), so opening it runs the same crash recovery.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use envelope::{Database, DatabaseBuilder};
use xlog::{Fault, FaultyIo, Lsn, WalOptions};

fn rows(db: &Database, sql: &str) -> Vec<String> {
    let mut s = db.session();
    let r = s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    r.rows
        .iter()
        .map(|r| r.iter().map(|d| if d.is_null() { "NULL".into() } else { d.to_text() }).collect::<Vec<_>>().join(","))
        .collect()
}

fn exec(db: &Database, sql: &str) {
    let mut s = db.session();
    for r in s.execute_batch(sql) {
        r.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let Ok(e) = e else { continue };
        let p = e.path();
        let target = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            // A file may vanish while a checkpoint renames or removes it: like a crash, skip it.
            let _ = std::fs::copy(&p, &target);
        }
    }
}

/// Small segments and no real fsync: fast tests that never lose power.
fn fast_opts() -> WalOptions {
    let io = FaultyIo::new();
    io.set_skip_sync(true);
    WalOptions { segment_size: 1 << 20, io: Arc::new(io), ..WalOptions::default() }
}

fn open_fast(dir: &Path) -> Database {
    DatabaseBuilder::new().data_dir(dir).wal_options(fast_opts()).open().unwrap()
}

#[test]
fn restart_keeps_ddl_and_data() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Database::open(dir.path()).unwrap();
        exec(
            &db,
            "CREATE TABLE t (id int PRIMARY KEY, v text, n numeric(10,2));
             CREATE INDEX t_v ON t (v);
             INSERT INTO t VALUES (1, 'a', 1.5), (2, 'b', 2.5), (3, 'c', NULL);
             UPDATE t SET v = 'bb' WHERE id = 2;
             DELETE FROM t WHERE id = 3;
             CREATE SERVER fs FOREIGN DATA WRAPPER file_fdw;
             CREATE FOREIGN TABLE f (a int) SERVER fs OPTIONS (filename '/nonexistent.csv', format 'csv');
             CREATE TABLE u (k int);
             ALTER TABLE u ADD COLUMN w text DEFAULT 'x';
             INSERT INTO u VALUES (7, 'y');",
        );
    }
    let db = Database::open(dir.path()).unwrap();
    assert_eq!(rows(&db, "SELECT id, v, n FROM t ORDER BY id"), vec!["1,a,1.50", "2,bb,2.50"]);
    assert_eq!(rows(&db, "SELECT id FROM t WHERE v = 'bb'"), vec!["2"]);
    assert_eq!(rows(&db, "SELECT v FROM t WHERE id = 1"), vec!["a"]);
    assert_eq!(rows(&db, "SELECT k, w FROM u"), vec!["7,y"]);
    assert_eq!(rows(&db, "SELECT count(*) FROM pg_foreign_table"), vec!["1"]);
    // Unique index rebuilt: a duplicate is still refused.
    let mut s = db.session();
    let e = s.execute("INSERT INTO t VALUES (1, 'z', 0)").unwrap_err();
    assert_eq!(e.sqlstate.0, "23505");
    // And new rows get fresh row ids.
    exec(&db, "INSERT INTO t VALUES (4, 'd', 4)");
    assert_eq!(rows(&db, "SELECT count(*) FROM t"), vec!["3"]);
}

#[test]
fn uncommitted_and_aborted_are_invisible_after_crash() {
    let dir = tempfile::tempdir().unwrap();
    let img = tempfile::tempdir().unwrap();
    let db = open_fast(dir.path());
    exec(&db, "CREATE TABLE t (id int PRIMARY KEY)");
    exec(&db, "INSERT INTO t VALUES (1)");
    exec(&db, "BEGIN; INSERT INTO t VALUES (2); ROLLBACK");
    let mut open_txn = db.session();
    for r in open_txn.execute_batch("BEGIN; INSERT INTO t VALUES (3); UPDATE t SET id = 10 WHERE id = 1") {
        r.unwrap();
    }
    // A failed commit (unique violation) is not committed either.
    let mut s = db.session();
    assert!(s.execute("INSERT INTO t VALUES (1)").is_err());
    copy_dir(dir.path(), img.path());
    let db2 = open_fast(img.path());
    assert_eq!(rows(&db2, "SELECT id FROM t ORDER BY id"), vec!["1"]);
    let st = db2.recovery_stats().unwrap();
    assert!(st.crashed);
}

#[test]
fn synchronous_commit_off_loses_at_most_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let img = tempfile::tempdir().unwrap();
    let opts = WalOptions { wal_writer_delay: Some(Duration::from_millis(50)), ..fast_opts() };
    let db = DatabaseBuilder::new().data_dir(dir.path()).wal_options(opts.clone()).open().unwrap();
    exec(&db, "CREATE TABLE t (id int PRIMARY KEY)");
    let mut s = db.session();
    s.execute("SET synchronous_commit = off").unwrap();
    assert_eq!(s.execute("SHOW synchronous_commit").unwrap().rows[0][0].to_text(), "off");
    let wal = db.wal().unwrap();
    s.execute("INSERT INTO t VALUES (1)").unwrap();
    // Not flushed by the commit itself.
    assert!(wal.flushed_lsn() < wal.insert_lsn());
    std::thread::sleep(Duration::from_millis(300));
    s.execute("INSERT INTO t VALUES (2)").unwrap();
    copy_dir(dir.path(), img.path());
    let db2 = DatabaseBuilder::new().data_dir(img.path()).wal_options(opts).open().unwrap();
    let got = rows(&db2, "SELECT id FROM t ORDER BY id");
    assert!(got == vec!["1"] || got == vec!["1", "2"], "{got:?}");
    let e = s.execute("SET synchronous_commit = maybe").unwrap_err();
    assert_eq!(e.hint.as_deref(), Some("Available values: local, remote_write, remote_apply, on, off."));
}

#[test]
fn checkpoint_then_more_commits_then_crash() {
    let dir = tempfile::tempdir().unwrap();
    let img = tempfile::tempdir().unwrap();
    let db = open_fast(dir.path());
    exec(&db, "CREATE TABLE t (id int PRIMARY KEY, v int); CREATE INDEX t_v ON t (v)");
    exec(&db, "INSERT INTO t SELECT g, g * 10 FROM generate_series(1, 2000) g");
    let before = db.wal().unwrap().control().redo;
    exec(&db, "CHECKPOINT");
    let after = db.wal().unwrap().control().redo;
    assert!(after > before);
    assert!(dir.path().join("mot/control").exists());
    exec(&db, "UPDATE t SET v = v + 1 WHERE id <= 100; DELETE FROM t WHERE id > 1900; INSERT INTO t VALUES (5000, 7)");
    exec(&db, "CREATE TABLE t2 (a int); INSERT INTO t2 VALUES (1)");
    copy_dir(dir.path(), img.path());
    let db2 = open_fast(img.path());
    assert_eq!(rows(&db2, "SELECT count(*), sum(v) FROM t"), rows(&db, "SELECT count(*), sum(v) FROM t"));
    assert_eq!(rows(&db2, "SELECT id FROM t WHERE v = 11"), vec!["1"]);
    assert_eq!(rows(&db2, "SELECT id FROM t WHERE v = 7"), vec!["5000"]);
    assert_eq!(rows(&db2, "SELECT a FROM t2"), vec!["1"]);
    let st = db2.recovery_stats().unwrap();
    assert_eq!(st.redo, after);
    assert!(st.committed >= 4, "{st:?}");
    // A second checkpoint on the recovered copy and a clean reopen.
    exec(&db2, "CHECKPOINT");
    drop(db2);
    let db3 = open_fast(img.path());
    assert_eq!(rows(&db3, "SELECT count(*) FROM t"), vec!["1901"]);
}

fn segment_path(dir: &Path, lsn: u64, seg: u64) -> (PathBuf, u64) {
    (dir.join("wal").join(xlog::segment_file_name(1, lsn / seg, seg)), lsn % seg)
}

/// Cuts the WAL of a copy at `lsn`: every byte from there on becomes zero.
fn cut_wal(dir: &Path, lsn: u64, seg: u64) {
    let (path, off) = segment_path(dir, lsn, seg);
    let mut bytes = std::fs::read(&path).unwrap();
    for b in &mut bytes[off as usize..] {
        *b = 0;
    }
    std::fs::write(&path, bytes).unwrap();
}

#[test]
fn torn_wal_tail_at_every_byte_keeps_exactly_the_complete_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let seg = 1u64 << 20;
    let db = open_fast(dir.path());
    exec(&db, "CREATE TABLE t (id int PRIMARY KEY, v text)");
    let wal = db.wal().unwrap();
    let mut ends = Vec::new();
    let mut s = db.session();
    for i in 1..=4 {
        s.execute(&format!("INSERT INTO t VALUES ({i}, 'row {i}')")).unwrap();
        ends.push(wal.flushed_lsn().0);
    }
    drop(s);
    let start = ends[1];
    let end = ends[3];
    let base = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), base.path());
    for cut in start..=end {
        let img = tempfile::tempdir().unwrap();
        copy_dir(base.path(), img.path());
        cut_wal(img.path(), cut, seg);
        let db2 = open_fast(img.path());
        // Zeroing bytes that already are zero changes nothing: a transaction survives when
        // every byte of it from the cut on was zero anyway.
        let (path, off) = segment_path(base.path(), cut, seg);
        let orig = std::fs::read(path).unwrap();
        let unchanged = |end: u64| orig[off as usize..(off + end.saturating_sub(cut)) as usize].iter().all(|&b| b == 0);
        let complete = ends.iter().filter(|&&e| e <= cut || unchanged(e)).count();
        let want: Vec<String> = (1..=complete).map(|i| i.to_string()).collect();
        assert_eq!(rows(&db2, "SELECT id FROM t ORDER BY id"), want, "cut at {}", Lsn(cut));
        // The next workload runs on the recovered database.
        exec(&db2, "INSERT INTO t VALUES (100, 'x')");
    }
}

#[test]
fn flipped_bits_in_the_last_record_lose_only_it_and_in_the_middle_refuse_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let seg = 1u64 << 20;
    let db = open_fast(dir.path());
    exec(&db, "CREATE TABLE t (id int PRIMARY KEY)");
    let wal = db.wal().unwrap();
    let mut ends = Vec::new();
    for i in 1..=3 {
        exec(&db, &format!("INSERT INTO t VALUES ({i})"));
        ends.push(wal.flushed_lsn().0);
    }
    let flip = |img: &Path, lsn: u64| {
        let (path, off) = segment_path(img, lsn, seg);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[off as usize] ^= 0x10;
        std::fs::write(&path, bytes).unwrap();
    };
    // Inside the last record (the last transaction's commit record): the tail is torn.
    for lsn in [ends[2] - 30, ends[2] - 3] {
        let img = tempfile::tempdir().unwrap();
        copy_dir(dir.path(), img.path());
        flip(img.path(), lsn);
        let db2 = open_fast(img.path());
        assert_eq!(rows(&db2, "SELECT id FROM t ORDER BY id"), vec!["1", "2"]);
    }
    // Inside an earlier record (even the last transaction's redo record, followed by its valid
    // commit record): valid records follow the damage, so open refuses and changes nothing.
    for lsn in [ends[0] + 40, ends[1] + 40] {
        let img = tempfile::tempdir().unwrap();
        copy_dir(dir.path(), img.path());
        flip(img.path(), lsn);
        let e = DatabaseBuilder::new().data_dir(img.path()).wal_options(fast_opts()).open().err().unwrap();
        assert_eq!(e.sqlstate.0, "XX001");
        assert!(e.message.contains("followed by valid records"), "{e:?}");
    }
}

#[test]
fn fsync_failure_fails_the_commit_and_refuses_until_restart() {
    let dir = tempfile::tempdir().unwrap();
    let io = FaultyIo::new();
    let opts = WalOptions { segment_size: 1 << 20, io: Arc::new(io.clone()), ..WalOptions::default() };
    let db = DatabaseBuilder::new().data_dir(dir.path()).wal_options(opts).open().unwrap();
    exec(&db, "CREATE TABLE t (id int PRIMARY KEY)");
    exec(&db, "INSERT INTO t VALUES (1)");
    io.fail_sync(1, Fault::Eio, false);
    let mut s = db.session();
    let e = s.execute("INSERT INTO t VALUES (2)").unwrap_err();
    assert_eq!(e.sqlstate.0, "58030");
    assert!(e.hint.as_deref().unwrap_or("").contains("restarted"), "{e:?}");
    let e = s.execute("INSERT INTO t VALUES (3)").unwrap_err();
    assert_eq!(e.sqlstate.0, "58030");
    assert!(e.message.contains("WAL is unusable"), "{e:?}");
    assert!(s.execute("CREATE TABLE t3 (a int)").is_err());
    assert!(s.execute("CHECKPOINT").is_err());
    drop(s);
    drop(db);
    let db2 = Database::open(dir.path()).unwrap();
    let got = rows(&db2, "SELECT id FROM t ORDER BY id");
    assert!(got == vec!["1"] || got == vec!["1", "2"], "{got:?}");
    exec(&db2, "INSERT INTO t VALUES (3)");
}

#[test]
fn disk_full_is_a_clear_error_and_loses_no_committed_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let io = FaultyIo::new();
    io.set_skip_sync(true);
    let opts = WalOptions { segment_size: 1 << 20, io: Arc::new(io.clone()), ..WalOptions::default() };
    let db = DatabaseBuilder::new().data_dir(dir.path()).wal_options(opts).open().unwrap();
    exec(&db, "CREATE TABLE t (id int PRIMARY KEY)");
    exec(&db, "INSERT INTO t VALUES (1), (2)");
    io.fail_write(1, Fault::Enospc, true);
    let mut s = db.session();
    let e = s.execute("INSERT INTO t VALUES (3)").unwrap_err();
    assert_eq!(e.sqlstate.0, "53100", "{e:?}");
    assert!(e.message.contains("No space left on device"), "{e:?}");
    drop(s);
    drop(db);
    let db2 = open_fast(dir.path());
    let got = rows(&db2, "SELECT id FROM t ORDER BY id");
    assert!(got[..2] == ["1", "2"], "{got:?}");
}

#[test]
fn crash_during_checkpoint_leaves_a_usable_state() {
    let dir = tempfile::tempdir().unwrap();
    let mot = mot_engine::handler();
    let open = |d: &Path| {
        DatabaseBuilder::new()
            .builtin_wrappers(false)
            .register(mot_engine::handler())
            .data_dir(d)
            .wal_options(fast_opts())
            .open()
            .unwrap()
    };
    let db = DatabaseBuilder::new()
        .builtin_wrappers(false)
        .register(mot.clone())
        .data_dir(dir.path())
        .wal_options(fast_opts())
        .open()
        .unwrap();
    exec(&db, "CREATE TABLE t (id int PRIMARY KEY, v text)");
    exec(&db, "INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g");
    exec(&db, "CHECKPOINT");
    exec(&db, "DELETE FROM t WHERE id % 2 = 0; CREATE TABLE t2 (a int); INSERT INTO t2 VALUES (1)");
    let want = rows(&db, "SELECT count(*) FROM t");
    let mut images = Vec::new();
    // Crash after MOT wrote its checkpoint but before the checkpoint record and control file:
    // the WAL still starts at the previous redo LSN, MOT's snapshot is newer.
    let lsn = db.wal().unwrap().insert_lsn();
    mot.durability_routine().unwrap().checkpoint(lsn).unwrap();
    exec(&db, "UPDATE t SET v = 'y' WHERE id = 3; INSERT INTO t2 VALUES (2)");
    let img = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), img.path());
    images.push(img);
    // Crash in the middle of writing a checkpoint: a half-written directory is ignored.
    std::fs::create_dir_all(dir.path().join("mot/chk_00000000FFFFFFFF.tmp")).unwrap();
    std::fs::write(dir.path().join("mot/chk_00000000FFFFFFFF.tmp/seg_0"), b"garbage").unwrap();
    let img = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), img.path());
    images.push(img);
    for img in &images {
        let db2 = open(img.path());
        assert_eq!(rows(&db2, "SELECT count(*) FROM t"), want);
        assert_eq!(rows(&db2, "SELECT v FROM t WHERE id = 3"), vec!["y"]);
        assert_eq!(rows(&db2, "SELECT a FROM t2 ORDER BY a"), vec!["1", "2"]);
        exec(&db2, "CHECKPOINT");
        drop(db2);
        let db3 = open(img.path());
        assert_eq!(rows(&db3, "SELECT count(*) FROM t"), want);
    }
}

/// Writes made on the lite execution path (prepared point statements) are logged like any
/// other: after a crash image is recovered, committed ones are there and the rolled-back one
/// is not.
#[test]
fn lite_path_writes_survive_a_crash() {
    use envelope::Datum;
    let dir = tempfile::tempdir().unwrap();
    let img = tempfile::tempdir().unwrap();
    let db = open_fast(dir.path());
    exec(&db, "CREATE TABLE acc (id int PRIMARY KEY, bal int NOT NULL)");
    let mut s = db.session();
    let ins = s.prepare("INSERT INTO acc VALUES ($1, $2)").unwrap();
    let add = s.prepare("UPDATE acc SET bal = bal + $1 WHERE id = $2").unwrap();
    let del = s.prepare("DELETE FROM acc WHERE id = $1").unwrap();
    for id in 1..=5 {
        s.execute_prepared(&ins, &[Datum::Int4(id), Datum::Int4(100)]).unwrap();
    }
    s.execute("BEGIN").unwrap();
    s.execute_prepared(&add, &[Datum::Int4(-30), Datum::Int4(1)]).unwrap();
    s.execute_prepared(&add, &[Datum::Int4(30), Datum::Int4(2)]).unwrap();
    s.execute("COMMIT").unwrap();
    s.execute_prepared(&del, &[Datum::Int4(5)]).unwrap();
    s.execute("BEGIN").unwrap();
    s.execute_prepared(&add, &[Datum::Int4(1000), Datum::Int4(3)]).unwrap();
    s.execute("ROLLBACK").unwrap();
    assert!(ins.on_lite_path() && add.on_lite_path() && del.on_lite_path());
    copy_dir(dir.path(), img.path());
    let db2 = open_fast(img.path());
    assert_eq!(rows(&db2, "SELECT id, bal FROM acc ORDER BY id"), vec!["1,70", "2,130", "3,100", "4,100"]);
    assert!(db2.recovery_stats().unwrap().crashed);
}
