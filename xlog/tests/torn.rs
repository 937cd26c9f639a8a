//! A torn or damaged tail is cut off; damage followed by valid records is refused.

mod common;

use std::path::Path;

use common::*;
use xlog::{ErrorKind, Lsn, Record, Wal, WalOptions};

/// Builds a WAL whose last two records straddle a segment boundary; returns all user records.
fn build(dir: &Path) -> Vec<Record> {
    let (wal, _) = open(dir);
    for n in 0..6u64 {
        wal.insert(9, 0, n, &payload(n, 500)).unwrap();
    }
    // Pad so that the second-to-last record starts shortly before the end of a segment.
    let pos = wal.insert_lsn().0 % SEG;
    let filler = (SEG - pos) as usize - 32 - 40;
    wal.insert(9, 0, 6, &payload(6, filler)).unwrap();
    wal.insert(9, 1, 7, &payload(7, 90)).unwrap();
    wal.insert(9, 1, 8, &payload(8, 61)).unwrap();
    wal.flush_all().unwrap();
    let recs = user_records(&wal);
    let n = recs.len();
    assert_eq!(recs[n - 2].lsn.0 / SEG + 1, recs[n - 1].end.0 / SEG, "the last records cross a segment boundary");
    recs
}

/// Cuts the log at stream position `cut`: truncates its segment there (or zeroes from there when
/// `zero`), and drops later segments.
fn cut(dir: &Path, cut: u64, zero: bool) {
    let segno = cut / SEG;
    for entry in std::fs::read_dir(dir.join("wal")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some((_, s)) = xlog::parse_segment_file_name(&name, SEG) else { continue };
        if s > segno {
            std::fs::remove_file(&path).unwrap();
        } else if s == segno {
            let mut bytes = std::fs::read(&path).unwrap();
            let off = (cut % SEG) as usize;
            if zero {
                bytes[off..].iter_mut().for_each(|b| *b = 0);
            } else {
                bytes.truncate(off);
            }
            std::fs::write(&path, bytes).unwrap();
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for sub in ["wal", "global"] {
        std::fs::create_dir_all(to.join(sub)).unwrap();
        for e in std::fs::read_dir(from.join(sub)).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, to.join(sub).join(p.file_name().unwrap())).unwrap();
        }
    }
}

#[test]
fn torn_tail_at_every_byte_of_the_last_two_records() {
    let pristine = tempfile::tempdir().unwrap();
    let recs = build(pristine.path());
    let n = recs.len();
    let first = recs[n - 2].lsn.0;
    let last_end = recs[n - 1].lsn.0 + recs[n - 1].total_len() as u64;
    for c in first..=last_end {
        for zero in [false, true] {
            if zero && c % 7 != 0 {
                continue; // zero-filled variant on a sample of offsets, to keep the test fast
            }
            let work = tempfile::tempdir().unwrap();
            copy_dir(pristine.path(), work.path());
            cut(work.path(), c, zero);
            let survivors: Vec<&Record> = recs.iter().filter(|r| r.lsn.0 + r.total_len() as u64 <= c).collect();
            let (wal, info) = open(work.path());
            let expected_end = survivors.last().unwrap().end;
            assert_eq!(info.end_of_wal, expected_end, "cut at {c} (zero {zero})");
            // Zero-filled after the cut, a header missing its prev-link is not recognisably ours.
            let link_len = 8 - u64::from(survivors.last().unwrap().lsn.0.leading_zeros() / 8);
            let ours = c > expected_end.0 && (!zero || c >= expected_end.0 + 16 + link_len);
            assert_eq!(info.truncated_tail.is_some(), ours, "cut at {c}: {:?}", info.truncated_tail);
            let got = user_records(&wal);
            assert_eq!(got.len(), survivors.len(), "cut at {c}");
            assert!(got.iter().zip(&survivors).all(|(a, b)| a == *b));
            // The next insert goes right after the last complete record and survives a restart.
            let (start, _) = wal.insert_with_start(9, 2, 99, b"new record").unwrap();
            assert_eq!(start, expected_end);
            wal.flush_all().unwrap();
            drop(wal);
            let (wal, info) = open(work.path());
            assert_eq!(info.truncated_tail, None, "cut at {c}: the cut tail was cleaned up");
            let got = user_records(&wal);
            assert_eq!(got.len(), survivors.len() + 1);
            assert_eq!(got.last().unwrap().payload, b"new record");
            assert_eq!(got.last().unwrap().prev, survivors.last().unwrap().lsn);
        }
    }
}

#[test]
fn bit_flip_in_last_record_is_a_torn_tail() {
    let pristine = tempfile::tempdir().unwrap();
    let recs = build(pristine.path());
    let last = recs.last().unwrap();
    // Every byte of the last record (header and payload), one bit each.
    for off in 0..last.total_len() as u64 {
        let work = tempfile::tempdir().unwrap();
        copy_dir(pristine.path(), work.path());
        flip_bit(work.path(), Lsn(last.lsn.0 + off), (off % 8) as u8);
        let (wal, info) = open(work.path());
        assert_eq!(info.end_of_wal, last.lsn, "flip at +{off}");
        let got = user_records(&wal);
        assert_eq!(got.len(), recs.len() - 1);
        wal.insert(9, 0, 1, b"x").unwrap();
        wal.flush_all().unwrap();
        drop(wal);
        let (wal, _) = open(work.path());
        assert_eq!(user_records(&wal).len(), recs.len());
    }
}

#[test]
fn bit_flip_in_a_middle_record_is_refused_and_changes_nothing() {
    let pristine = tempfile::tempdir().unwrap();
    let recs = build(pristine.path());
    let victim = &recs[3];
    for off in [0u64, 2, 5, 9, 17, 24, 25, 27, 32, 100, victim.total_len() as u64 - 1] {
        let work = tempfile::tempdir().unwrap();
        copy_dir(pristine.path(), work.path());
        flip_bit(work.path(), Lsn(victim.lsn.0 + off), 3);
        let before = snapshot(work.path());
        let err = Wal::open(work.path(), opts()).map(|_| ()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::DataCorrupted, "flip at +{off}: {err}");
        assert_eq!(err.sqlstate(), "XX001");
        let prefix = format!("invalid record at {}: ", victim.lsn);
        assert!(err.message.starts_with(&prefix), "{}", err.message);
        assert!(err.message.ends_with("followed by valid records"), "{}", err.message);
        assert!(err.detail.as_deref().unwrap_or("").contains(&format!("A valid record starts at {}", recs[4].lsn)));
        let after = snapshot(work.path());
        assert!(before == after, "a refused open must not touch the files");

        // The operator may choose to discard the WAL from the damage on.
        let (wal, info) = Wal::open(work.path(), WalOptions { ignore_corruption: true, ..opts() }).unwrap();
        assert_eq!(info.end_of_wal, victim.lsn);
        assert!(info.truncated_tail.is_some());
        assert_eq!(user_records(&wal).len(), 3);
    }
}

#[test]
fn zeroed_middle_segment_is_refused() {
    let pristine = tempfile::tempdir().unwrap();
    let (wal, _) = open(pristine.path());
    for n in 0..40u64 {
        wal.insert(9, 0, n, &payload(n, 300)).unwrap();
    }
    wal.flush_all().unwrap();
    let end = wal.insert_lsn();
    drop(wal);
    assert!(end.0 / SEG >= 3);
    // A whole segment in the middle reads back as zeros.
    let path = seg_path(pristine.path(), Lsn(2 * SEG));
    std::fs::write(&path, vec![0u8; SEG as usize]).unwrap();
    let err = Wal::open(pristine.path(), opts()).map(|_| ()).unwrap_err();
    assert_eq!(err.sqlstate(), "XX001");
    assert!(err.message.contains("followed by valid records"), "{err}");
    // A missing middle segment, likewise.
    std::fs::remove_file(&path).unwrap();
    let err = Wal::open(pristine.path(), opts()).map(|_| ()).unwrap_err();
    assert!(err.message.contains("followed by valid records"), "{err}");
}
