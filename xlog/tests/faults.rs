//! Write and fsync failures are never ignored; group commit shares fsyncs.

mod common;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::*;
use xlog::{ErrorKind, Fault, FaultyIo, Wal, RESTART_HINT};

#[test]
fn fsync_failure_breaks_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let io = FaultyIo::new();
    let (wal, _) = Wal::open(dir.path(), opts_with_io(&io)).unwrap();
    let durable = wal.insert(4, 0, 1, b"committed before the failure").unwrap();
    wal.flush(durable).unwrap();

    io.fail_sync(1, Fault::Eio, false);
    let end = wal.insert(4, 0, 2, b"commit hit by the fsync failure").unwrap();
    let err = wal.flush(end).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Io);
    assert_eq!(err.sqlstate(), "58030");
    assert!(
        err.message.starts_with("could not fsync WAL file \"wal/000000010000000000000001\": Input/output error"),
        "{err}"
    );
    assert_eq!(err.hint.as_deref(), Some(RESTART_HINT));
    assert!(wal.is_broken());

    // The fault is gone, but the WAL stays broken: a retried fsync could "succeed" on pages the
    // kernel already dropped.
    io.clear_faults();
    for e in [
        wal.insert(4, 0, 3, b"later").unwrap_err(),
        wal.flush(end).unwrap_err(),
        wal.flush(durable).unwrap_err(),
        wal.begin_checkpoint().unwrap_err(),
    ] {
        assert_eq!(e.kind, ErrorKind::Broken);
        assert_eq!(e.sqlstate(), "58030");
        assert!(e.message.contains("could not fsync WAL file"), "{e}");
        assert!(e.message.ends_with("the database must be restarted and recovered"), "{e}");
    }
    drop(wal);

    // Restart and recovery: what was flushed before is there.
    let (wal, info) = open(dir.path());
    assert!(info.crashed());
    let got = user_records(&wal);
    assert_eq!(got[0].payload, b"committed before the failure");
    wal.flush(wal.insert(4, 0, 4, b"after restart").unwrap()).unwrap();
}

#[test]
fn enospc_is_disk_full_and_keeps_committed_data() {
    let dir = tempfile::tempdir().unwrap();
    let io = FaultyIo::new();
    io.set_skip_sync(true);
    let (wal, _) = Wal::open(dir.path(), opts_with_io(&io)).unwrap();
    for n in 0..5u64 {
        let end = wal.insert(4, 0, n, &payload(n, 150)).unwrap();
        wal.flush(end).unwrap();
    }
    // The disk is full from now on.
    io.fail_write(1, Fault::Enospc, true);
    let end = wal.insert(4, 0, 5, &payload(5, 150)).unwrap();
    let err = wal.flush(end).unwrap_err();
    assert_eq!(err.kind, ErrorKind::DiskFull);
    assert_eq!(err.sqlstate(), "53100");
    assert!(err.message.starts_with("could not write to WAL file \"wal/"), "{err}");
    assert!(err.message.ends_with(": No space left on device"), "{err}");
    let again = wal.flush(end).unwrap_err();
    assert_eq!(again.kind, ErrorKind::Broken);
    assert!(again.message.contains("No space left on device"));
    drop(wal);

    // Space is freed; the five committed records are intact.
    io.clear_faults();
    let (wal, _) = Wal::open(dir.path(), opts_with_io(&io)).unwrap();
    let got = user_records(&wal);
    assert_eq!(got.len(), 5);
    assert!(got.iter().enumerate().all(|(n, r)| r.payload == payload(n as u64, 150)));
}

#[test]
fn enospc_while_creating_a_segment() {
    let dir = tempfile::tempdir().unwrap();
    let io = FaultyIo::new();
    io.set_skip_sync(true);
    let (wal, _) = Wal::open(dir.path(), opts_with_io(&io)).unwrap();
    // Fill segment 1 up to just before its end.
    let mut n = 0;
    while wal.insert_lsn().0 + 400 < 2 * SEG {
        wal.flush(wal.insert(4, 0, n, &payload(n, 200)).unwrap()).unwrap();
        n += 1;
    }
    io.fail_write(1, Fault::Enospc, true);
    // This record crosses into segment 2, which cannot be created.
    let end = wal.insert(4, 0, n, &payload(n, 600)).unwrap();
    let err = wal.flush(end).unwrap_err();
    assert_eq!(err.sqlstate(), "53100", "{err}");
    assert!(err.message.contains("No space left on device"), "{err}");
    drop(wal);
    io.clear_faults();
    let (wal, info) = Wal::open(dir.path(), opts_with_io(&io)).unwrap();
    assert_eq!(user_records(&wal).len() as u64, n);
    assert!(info.end_of_wal.0 < 2 * SEG);
    // With space back, the record that needs segment 2 goes through.
    let end = wal.insert(4, 0, n, &payload(n, 600)).unwrap();
    wal.flush(end).unwrap();
    assert!(end.0 > 2 * SEG);
}

#[test]
fn write_failure_at_nth_write_breaks_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let io = FaultyIo::new();
    io.set_skip_sync(true);
    let (wal, _) = Wal::open(dir.path(), opts_with_io(&io)).unwrap();
    io.fail_write(3, Fault::Eio, false);
    let mut failed_at = None;
    for n in 0..5u64 {
        if let Err(e) = wal.insert(4, 0, n, b"r").and_then(|end| wal.flush(end)) {
            failed_at = Some((n, e));
            break;
        }
    }
    let (n, e) = failed_at.expect("the third write fails");
    assert_eq!(n, 2);
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(e.message.contains("Input/output error"));
    assert!(wal.insert(4, 0, 9, b"r").is_err());
}

/// A WAL on a slow disk (each fsync takes `delay`): while one fsync runs, the other committers
/// queue up behind it.
fn slow_disk_wal(delay: Duration) -> (tempfile::TempDir, FaultyIo, Arc<Wal>) {
    let dir = tempfile::tempdir().unwrap();
    let io = FaultyIo::new();
    io.set_skip_sync(true);
    io.set_sync_delay(delay);
    let (wal, _) = Wal::open(dir.path(), opts_with_io(&io)).unwrap();
    (dir, io, Arc::new(wal))
}

/// Runs `body(wal, t)` on `threads` committer threads started together; their results in order.
fn run_committers<T: Send + 'static>(
    wal: &Arc<Wal>,
    threads: u64,
    body: impl Fn(&Wal, u64) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(threads as usize));
    let body = Arc::new(body);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (wal, barrier, body) = (Arc::clone(wal), Arc::clone(&barrier), Arc::clone(&body));
            std::thread::spawn(move || {
                barrier.wait();
                body(&wal, t)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn group_commit_shares_fsyncs() {
    let (_dir, io, wal) = slow_disk_wal(Duration::from_millis(3));
    let threads = 16u64;
    let per = 25u64;
    let syncs_before = io.syncs();
    let flushes_before = wal.stats().flushes;
    run_committers(&wal, threads, move |wal, t| {
        for i in 0..per {
            let end = wal.insert(4, 0, t, &payload(t * 1000 + i, 200)).unwrap();
            wal.flush(end).unwrap();
            assert!(wal.flushed_lsn() >= end);
        }
    });
    let commits = threads * per;
    let segment_syncs = io.syncs() - syncs_before;
    let flushes = wal.stats().flushes - flushes_before;
    // Without batching every commit would fsync; with it, one fsync serves many commits.
    assert!(flushes * 4 <= commits, "{flushes} flushes for {commits} commits");
    assert!(segment_syncs * 3 <= commits, "{segment_syncs} fsyncs for {commits} commits");
    assert_eq!(user_records(&wal).len() as u64, commits);
}

#[test]
fn single_committer_fsyncs_each_commit() {
    let dir = tempfile::tempdir().unwrap();
    let io = FaultyIo::new();
    io.set_skip_sync(true);
    let (wal, _) = Wal::open(dir.path(), opts_with_io(&io)).unwrap();
    let before = io.syncs();
    for n in 0..10u64 {
        let end = wal.insert(4, 0, n, b"tiny").unwrap();
        wal.flush(end).unwrap();
        // Already durable: no second fsync.
        wal.flush(end).unwrap();
    }
    assert_eq!(io.syncs() - before, 10);
}

#[test]
fn fsync_failure_under_group_commit_wakes_every_waiter_with_the_error() {
    let (dir, io, wal) = slow_disk_wal(Duration::from_millis(2));
    // Some rounds succeed first, so the failure hits a leader with committers parked behind it.
    io.fail_sync(io.syncs() + 6, Fault::Eio, false);
    let threads = 12u64;
    let results = run_committers(&wal, threads, |wal, t| {
        let mut acknowledged = Vec::new();
        for i in 0..50u64 {
            let p = payload(t * 1000 + i, 100);
            match wal.insert(4, 0, t, &p).and_then(|end| wal.flush(end)) {
                Ok(()) => acknowledged.push(p),
                Err(e) => {
                    assert!(matches!(e.kind, ErrorKind::Io | ErrorKind::Broken), "{e}");
                    return (acknowledged, true);
                }
            }
        }
        (acknowledged, false)
    });
    // Every thread returns (none stays parked) and every one of them saw the failure.
    assert!(results.iter().all(|(_, failed)| *failed), "every committer sees the broken WAL");
    assert!(wal.is_broken());
    let acknowledged: Vec<Vec<u8>> = results.into_iter().flat_map(|(a, _)| a).collect();
    assert!(!acknowledged.is_empty(), "commits before the failure were acknowledged");
    drop(wal);
    // Everything acknowledged before the failure survives recovery.
    let (wal, _) = open(dir.path());
    let recovered: std::collections::HashSet<Vec<u8>> = user_records(&wal).into_iter().map(|r| r.payload).collect();
    for p in &acknowledged {
        assert!(recovered.contains(p), "an acknowledged commit was lost");
    }
}
