//! Control file, checkpoints, segment recycling and the waldump output.

mod common;

use common::*;
use xlog::{dump_with, ControlFile, DbState, ErrorKind, Lsn, RmgrTable, Wal, CONTROL_FILE_LEN, RM_XLOG};

fn segments(dir: &std::path::Path) -> Vec<u64> {
    let mut v: Vec<u64> = std::fs::read_dir(dir.join("wal"))
        .unwrap()
        .filter_map(|e| xlog::parse_segment_file_name(&e.unwrap().file_name().to_string_lossy(), SEG).map(|x| x.1))
        .collect();
    v.sort_unstable();
    v
}

#[test]
fn control_file_round_trip_and_atomic_replace() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = ControlFile {
        system_identifier: 42,
        state: DbState::InProduction,
        timeline: 1,
        checkpoint: Lsn(0x1000028),
        redo: Lsn(0x1000000),
        next_xid: 7,
        checkpoint_time: 1,
        modified: 0,
        segment_size: 16 << 20,
    };
    c.write(dir.path()).unwrap();
    let read = ControlFile::read(dir.path()).unwrap();
    assert_eq!(ControlFile { modified: 0, ..read }, c);
    assert!(read.modified > 0);
    // A replacement is complete or absent: no temporary file is left, the new contents win.
    c.checkpoint = Lsn(0x2000028);
    c.state = DbState::ShutDown;
    c.write(dir.path()).unwrap();
    assert_eq!(ControlFile::read(dir.path()).unwrap().checkpoint, Lsn(0x2000028));
    assert!(!dir.path().join("global/pg_control.tmp").exists());
    // A temporary file from a crash in the middle of a replacement does not matter.
    std::fs::write(dir.path().join("global/pg_control.tmp"), b"half written").unwrap();
    assert_eq!(ControlFile::read(dir.path()).unwrap().state, DbState::ShutDown);
    c.write(dir.path()).unwrap();
    assert_eq!(ControlFile::read(dir.path()).unwrap().state, DbState::ShutDown);
    assert_eq!(std::fs::read(ControlFile::path(dir.path())).unwrap().len(), CONTROL_FILE_LEN);
    assert_eq!(DbState::InCrashRecovery.to_string(), "in crash recovery");
}

#[test]
fn corrupt_or_missing_control_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open(dir.path());
    wal.flush(wal.insert(4, 0, 1, b"x").unwrap()).unwrap();
    drop(wal);
    let path = ControlFile::path(dir.path());
    let good = std::fs::read(&path).unwrap();

    let mut bad = good.clone();
    bad[30] ^= 0x10;
    std::fs::write(&path, &bad).unwrap();
    let err = ControlFile::read(dir.path()).unwrap_err();
    assert_eq!((err.message.as_str(), err.sqlstate()), ("incorrect checksum in control file", "XX001"));
    let err = Wal::open(dir.path(), opts()).map(|_| ()).unwrap_err();
    assert_eq!(err.message, "incorrect checksum in control file");

    std::fs::write(&path, &good[..20]).unwrap();
    let err = ControlFile::read(dir.path()).unwrap_err();
    assert_eq!(err.message, "could not read file \"global/pg_control\": read 20 of 76");

    let mut other = good.clone();
    other[0] = b'X';
    std::fs::write(&path, &other).unwrap();
    let err = ControlFile::read(dir.path()).unwrap_err();
    assert_eq!(err.message, "database files are incompatible with server");

    std::fs::remove_file(&path).unwrap();
    let err = Wal::open(dir.path(), opts()).map(|_| ()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::UndefinedFile);
    assert_eq!(err.message, "could not open file \"global/pg_control\": No such file or directory");

    std::fs::write(&path, &good).unwrap();
    let (wal, _) = open(dir.path());
    assert_eq!(user_records(&wal).len(), 1);
}

#[test]
fn cluster_state_follows_the_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, info) = open(dir.path());
    assert_eq!(info.previous_state, DbState::ShutDown);
    assert_eq!(ControlFile::read(dir.path()).unwrap().state, DbState::InProduction);
    drop(wal); // a crash
    let (wal, info) = open(dir.path());
    assert!(info.crashed());
    assert_eq!(ControlFile::read(dir.path()).unwrap().state, DbState::InCrashRecovery);
    wal.end_recovery().unwrap();
    assert_eq!(ControlFile::read(dir.path()).unwrap().state, DbState::InProduction);
    wal.shutdown_checkpoint(17).unwrap();
    drop(wal);
    let c = ControlFile::read(dir.path()).unwrap();
    assert_eq!((c.state, c.next_xid), (DbState::ShutDown, 17));
    let (_wal, info) = open(dir.path());
    assert!(!info.crashed());
    assert_eq!(info.next_xid, 17);
    assert_eq!(info.redo, c.redo);
    assert_eq!(info.records_after_redo, 1, "only the shutdown checkpoint itself");
}

#[test]
fn checkpoint_recycles_old_segments_and_recovery_starts_at_redo() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open(dir.path());
    let mut n = 0u64;
    let mut write = |wal: &Wal, count: u64| {
        for _ in 0..count {
            wal.insert(4, 0, n, &payload(n, 200)).unwrap();
            n += 1;
        }
        wal.flush_all().unwrap();
    };
    write(&wal, 100); // about 6 segments
    assert_eq!(segments(dir.path()).first(), Some(&1));
    let redo = wal.begin_checkpoint().unwrap();
    write(&wal, 10); // concurrent work between the redo point and the checkpoint record
    let done = wal.complete_checkpoint(redo, 500).unwrap();
    assert_eq!(done.redo, redo);
    assert!(done.checkpoint > redo);
    assert_eq!(done.recycled + done.removed, (redo.0 / SEG - 1) as usize);
    assert_eq!(done.recycled, 2, "min_wal_size is two segments");
    let c = ControlFile::read(dir.path()).unwrap();
    assert_eq!((c.checkpoint, c.redo, c.next_xid), (done.checkpoint, redo, 500));
    let segs = segments(dir.path());
    let current = wal.insert_lsn().0 / SEG;
    assert!(segs.iter().all(|&s| s >= redo.0 / SEG), "nothing before the redo segment: {segs:?}");
    assert_eq!(segs.iter().filter(|&&s| s > current).count(), 2, "two recycled future segments: {segs:?}");
    assert!(wal.bytes_since_checkpoint() < 10 * 300);

    // Write into the recycled segments (they hold stale records), then crash and recover.
    write(&wal, 40);
    let end = wal.insert_lsn();
    drop(wal);
    let (wal, info) = open(dir.path());
    assert_eq!((info.redo, info.checkpoint, info.end_of_wal), (redo, done.checkpoint, end));
    assert_eq!(info.truncated_tail, None, "stale data of a recycled segment is a clean end");
    assert_eq!(info.records_after_redo, 10 + 1 + 40);
    let recs: Vec<_> = wal.reader(info.redo).map(|r| r.unwrap()).collect();
    assert_eq!(recs.iter().filter(|r| r.rmgr == RM_XLOG).count(), 1);
    assert_eq!(recs[0].payload, payload(100, 200));
    assert_eq!(recs.last().unwrap().payload, payload(149, 200));

    // Checkpoint arguments are checked.
    assert_eq!(wal.complete_checkpoint(Lsn(redo.0 - 8), 1).unwrap_err().sqlstate(), "22023");
    assert_eq!(wal.complete_checkpoint(Lsn(end.0 + 4096), 1).unwrap_err().sqlstate(), "22023");
}

#[test]
fn waldump_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open(dir.path());
    let redo = wal.begin_checkpoint().unwrap();
    wal.insert(1, 0x20, 735, b"commit!").unwrap();
    wal.insert(9, 0, 736, &[0u8; 100]).unwrap();
    wal.complete_checkpoint(redo, 737).unwrap();
    drop(wal);
    let mut table = RmgrTable::new();
    table.register(1, "Transaction", |r| format!("COMMIT {}", String::from_utf8_lossy(&r.payload)));
    let lines: Vec<String> = dump_with(dir.path(), Some(Lsn(SEG)), table).unwrap().map(|l| l.unwrap()).collect();
    assert_eq!(
        lines,
        [
            "rmgr: XLOG        len (rec/tot):     64/    64, tx:          0, lsn: 0/00001000, prev 0/00000000, desc: CHECKPOINT_SHUTDOWN redo 0/1000; tli 1; next xid 1; shutdown",
            "rmgr: Transaction len (rec/tot):     39/    39, tx:        735, lsn: 0/00001040, prev 0/00001000, desc: COMMIT commit!",
            "rmgr: 9           len (rec/tot):    132/   132, tx:        736, lsn: 0/00001068, prev 0/00001040, desc: info 0x00; 100 bytes",
            "rmgr: XLOG        len (rec/tot):     64/    64, tx:          0, lsn: 0/000010F0, prev 0/00001068, desc: CHECKPOINT_ONLINE redo 0/1040; tli 1; next xid 737; online",
        ]
    );
    // The default start is the redo LSN of the last checkpoint.
    let lines: Vec<String> = xlog::dump(dir.path()).unwrap().map(|l| l.unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("rmgr: 1           len (rec/tot):     39/    39, tx:        735, lsn: 0/00001040"));
}

#[test]
fn checkpoints_concurrent_with_commits() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open(dir.path());
    let wal = std::sync::Arc::new(wal);
    let workers: Vec<_> = (0..4u64)
        .map(|t| {
            let wal = std::sync::Arc::clone(&wal);
            std::thread::spawn(move || {
                for i in 0..300u64 {
                    let end = wal.insert(4, 0, t, &payload(t << 32 | i, 150)).unwrap();
                    wal.flush(end).unwrap();
                    if i % 10 == 0 {
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                }
            })
        })
        .collect();
    // Checkpoint over and over while the workers commit.
    let mut last = None;
    let mut count = 0;
    while !workers.iter().all(|w| w.is_finished()) {
        let redo = wal.begin_checkpoint().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1));
        let done = wal.complete_checkpoint(redo, 1).unwrap();
        if !workers.iter().all(|w| w.is_finished()) {
            last = Some(done);
            count += 1;
        }
    }
    assert!(count >= 2, "checkpoints overlapped the commits");
    for w in workers {
        w.join().unwrap();
    }
    let last = last.unwrap();
    let end = wal.insert_lsn();
    let redo = wal.control().redo;
    assert!(redo >= last.redo);
    drop(wal);
    let (wal, info) = open(dir.path());
    assert_eq!((info.redo, info.end_of_wal), (redo, end));
    // Every worker's records after the redo point are there, in order, with nothing missing.
    let mut next: Vec<Option<u64>> = vec![None; 4];
    let recs = user_records(&wal);
    assert!(!recs.is_empty());
    for r in recs {
        let id = u64::from_le_bytes(r.payload[..8].try_into().unwrap());
        let (t, i) = ((id >> 32) as usize, id & 0xffff_ffff);
        if let Some(n) = next[t] {
            assert_eq!(i, n);
        }
        next[t] = Some(i + 1);
        assert_eq!(r.payload, payload(id, 150));
    }
    assert!(next.iter().all(|n| n.is_none() || *n == Some(300)));
}
