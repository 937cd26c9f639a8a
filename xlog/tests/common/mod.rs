//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use xlog::{FaultyIo, Lsn, Record, Wal, WalIo, WalOptions};

pub const SEG: u64 = 4096;

/// Small segments, no background writer (tests flush explicitly), real files without fsync
/// (crashes are simulated by editing files, so durability against power loss is not needed).
pub fn opts() -> WalOptions {
    let io = FaultyIo::new();
    io.set_skip_sync(true);
    WalOptions {
        segment_size: SEG,
        wal_writer_delay: None,
        min_wal_size: 2 * SEG,
        io: Arc::new(io),
        ..WalOptions::default()
    }
}

/// Like [`opts`] with a test-held I/O layer (which really fsyncs unless told otherwise).
pub fn opts_with_io(io: &FaultyIo) -> WalOptions {
    WalOptions { io: Arc::new(io.clone()) as Arc<dyn WalIo>, ..opts() }
}

pub fn open(dir: &Path) -> (Wal, xlog::RecoveryInfo) {
    match Wal::open(dir, opts()) {
        Ok(x) => x,
        Err(e) => panic!("open failed: {e} ({:?})", e.detail),
    }
}

/// A payload that identifies record `n` and has a length depending on it.
pub fn payload(n: u64, len: usize) -> Vec<u8> {
    let mut p = n.to_le_bytes().to_vec();
    while p.len() < len {
        p.push((n as usize * 31 + p.len()) as u8);
    }
    p.truncate(len.max(8));
    p
}

/// All records after the redo LSN of the open WAL that are not XLOG records.
pub fn user_records(wal: &Wal) -> Vec<Record> {
    wal.reader(wal.control().redo).map(|r| r.expect("valid record")).filter(|r| r.rmgr != xlog::RM_XLOG).collect()
}

/// The whole log as one byte vector from LSN `from` to `to` (for corruption tests).
pub fn seg_path(dir: &Path, lsn: Lsn) -> std::path::PathBuf {
    dir.join("wal").join(xlog::segment_file_name(1, lsn.0 / SEG, SEG))
}

/// Flips bit `bit` of the byte at `lsn`.
pub fn flip_bit(dir: &Path, lsn: Lsn, bit: u8) {
    let path = seg_path(dir, lsn);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[(lsn.0 % SEG) as usize] ^= 1 << bit;
    std::fs::write(&path, bytes).unwrap();
}

/// Snapshot of every file under `dir` (name, contents), to check nothing was touched.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for sub in ["wal", "global"] {
        let mut names: Vec<_> = std::fs::read_dir(dir.join(sub)).unwrap().map(|e| e.unwrap().path()).collect();
        names.sort();
        for p in names {
            out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    out
}
