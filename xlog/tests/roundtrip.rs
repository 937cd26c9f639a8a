//! Records written are read back identically, across segments, restarts and threads.

mod common;

use std::sync::Arc;

use common::*;
use xlog::{Lsn, Wal};

#[test]
fn round_trip_across_segments_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, info) = open(dir.path());
    assert!(info.created);
    assert_eq!(info.end_of_wal, Lsn(SEG + 64));
    let mut expected = Vec::new();
    for n in 0..400u64 {
        let p = payload(n, (n as usize * 37) % 900 + 1);
        let (start, end) = wal.insert_with_start(7, (n % 4) as u8, n + 100, &p).unwrap();
        assert!(end > start);
        expected.push((start, n + 100, p));
        if n % 50 == 0 {
            wal.flush(end).unwrap();
        }
    }
    wal.flush_all().unwrap();
    let end = wal.insert_lsn();
    // Crosses many 4 kB segments, some records span two.
    assert!(end.0 / SEG > 20);
    let got = user_records(&wal);
    assert_eq!(got.len(), expected.len());
    for (rec, (lsn, xid, p)) in got.iter().zip(&expected) {
        assert_eq!((rec.lsn, rec.xid, &rec.payload, rec.rmgr), (*lsn, *xid, p, 7));
    }
    drop(wal);

    let (wal, info) = open(dir.path());
    assert!(!info.created);
    assert!(info.crashed(), "never shut down cleanly");
    assert_eq!(info.end_of_wal, end);
    assert_eq!(info.truncated_tail, None);
    assert_eq!(info.records_after_redo, 401);
    let got = user_records(&wal);
    assert_eq!(got.len(), expected.len());
    assert!(got.iter().zip(&expected).all(|(r, (l, _, p))| r.lsn == *l && &r.payload == p));
    // New records go after the old ones and link to the last one.
    let (start, _) = wal.insert_with_start(7, 0, 1, b"after restart").unwrap();
    assert_eq!(start, end);
    wal.shutdown().unwrap();
    drop(wal);
    let (wal, info) = open(dir.path());
    assert!(!info.crashed());
    let got = user_records(&wal);
    assert_eq!(got.len(), 401);
    assert_eq!(got[400].prev, expected[399].0);
    assert_eq!(got[400].payload, b"after restart");
}

#[test]
fn concurrent_inserters_keep_lsn_order() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open(dir.path());
    let wal = Arc::new(wal);
    let threads = 8u64;
    let per = 400u64;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let wal = Arc::clone(&wal);
            std::thread::spawn(move || {
                let mut last = Lsn(0);
                for i in 0..per {
                    let mut p = vec![t as u8; 20 + (i as usize % 50)];
                    p[..8].copy_from_slice(&i.to_le_bytes());
                    let end = wal.insert(3, 0, t, &p).unwrap();
                    assert!(end > last, "insert LSNs grow within a thread");
                    last = end;
                    if i % 10 == 0 {
                        wal.flush(end).unwrap();
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    wal.flush_all().unwrap();
    let got = user_records(&wal);
    assert_eq!(got.len() as u64, threads * per);
    let mut next = vec![0u64; threads as usize];
    let mut prev_lsn = Lsn(0);
    for r in &got {
        assert!(r.lsn > prev_lsn);
        prev_lsn = r.lsn;
        let t = r.xid as usize;
        let i = u64::from_le_bytes(r.payload[..8].try_into().unwrap());
        assert_eq!(i, next[t], "thread {t}'s records appear in its insert order");
        assert!(r.payload[8..].iter().all(|&b| b == t as u8), "no interleaving inside a record");
        next[t] += 1;
    }
    assert_eq!(wal.stats().records, threads * per);
}

#[test]
fn background_writer_flushes_async_commits() {
    let dir = tempfile::tempdir().unwrap();
    let opts = xlog::WalOptions { wal_writer_delay: Some(std::time::Duration::from_millis(20)), ..opts() };
    let (wal, _) = Wal::open(dir.path(), opts.clone()).unwrap();
    let end = wal.insert(5, 0, 1, b"async commit").unwrap();
    assert!(wal.flushed_lsn() < end);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while wal.flushed_lsn() < end {
        assert!(std::time::Instant::now() < deadline, "background writer did not flush");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    drop(wal);
    let (wal, _) = Wal::open(dir.path(), opts).unwrap();
    assert_eq!(user_records(&wal).len(), 1);
}

#[test]
fn insert_only_without_flush_is_lost_like_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open(dir.path());
    let end1 = wal.insert(5, 0, 1, b"durable").unwrap();
    wal.flush(end1).unwrap();
    wal.insert(5, 0, 2, b"never flushed").unwrap();
    drop(wal);
    let (wal, info) = open(dir.path());
    assert_eq!(info.end_of_wal, end1);
    let got = user_records(&wal);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].payload, b"durable");
}

#[test]
fn oversized_record_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open(dir.path());
    let err = wal.insert(5, 0, 1, &vec![0u8; xlog::MAX_PAYLOAD_LEN + 1]).unwrap_err();
    assert_eq!(err.sqlstate(), "54000");
    assert!(!wal.is_broken());
}
