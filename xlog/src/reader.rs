//! Reading records back: a byte stream over the segment files, record validation, and
//! [`WalReader`], an iterator over records from a given LSN.
//!
//! Validation of a record at LSN `p` (PostgreSQL's `ValidXLogRecordHeader` + CRC check):
//! the header must be complete, `tot_len` within `[HEADER_LEN, MAX_RECORD_LEN]`, the reserved
//! bytes zero, `prev` equal to the LSN of the record read just before (when there is one), the
//! whole payload present, and the CRC (payload, header, LSN) must match. The first failure ends
//! the readable WAL; what that means (end of WAL, torn tail, corruption) is decided by the
//! caller: recovery (`recovery.rs`) or a reader bounded by the flushed LSN (an error).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Result, XlogError};
use crate::io::{FileIo, WalIo};
use crate::lsn::{segment_file_name, Lsn};
use crate::record::{align, finish_crc, Record, RecordHeader, HEADER_LEN, MAX_RECORD_LEN};

/// Reads the log as one byte stream, loading one whole segment at a time.
pub(crate) struct SegmentSource {
    io: Arc<dyn WalIo>,
    wal_dir: PathBuf,
    segment_size: u64,
    timeline: u32,
    /// The loaded segment and its bytes (shorter than a segment when the file is short, empty
    /// when it does not exist).
    cached: Option<(u64, Vec<u8>)>,
}

impl SegmentSource {
    pub(crate) fn new(io: Arc<dyn WalIo>, wal_dir: PathBuf, segment_size: u64, timeline: u32) -> Self {
        SegmentSource { io, wal_dir, segment_size, timeline, cached: None }
    }

    pub(crate) fn segment_size(&self) -> u64 {
        self.segment_size
    }

    fn load(&mut self, segno: u64) -> Result<&[u8]> {
        if self.cached.as_ref().map(|c| c.0) != Some(segno) {
            let name = segment_file_name(self.timeline, segno, self.segment_size);
            let mut data = Vec::new();
            match self.io.open(&self.wal_dir.join(&name), false) {
                Ok(f) => {
                    let len =
                        f.file_size().map_err(|e| XlogError::io(&format!("could not stat file \"wal/{name}\""), &e))?;
                    data.resize(len.min(self.segment_size) as usize, 0);
                    let n = f
                        .read_at(&mut data, 0)
                        .map_err(|e| XlogError::io(&format!("could not read file \"wal/{name}\""), &e))?;
                    data.truncate(n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(XlogError::io(&format!("could not open file \"wal/{name}\""), &e)),
            }
            self.cached = Some((segno, data));
        }
        Ok(self.cached.as_ref().map(|c| c.1.as_slice()).unwrap_or(&[]))
    }

    /// True when the segment holding `lsn` exists as a file.
    pub(crate) fn segment_exists(&mut self, lsn: u64) -> Result<bool> {
        let seg = lsn / self.segment_size;
        Ok(!self.load(seg)?.is_empty())
    }

    /// Copies the stream bytes at `lsn` into `out`; returns how many were available (fewer at
    /// the end of the data: a missing or short segment).
    pub(crate) fn read(&mut self, lsn: u64, out: &mut [u8]) -> Result<usize> {
        let mut done = 0;
        while done < out.len() {
            let pos = lsn + done as u64;
            let seg = pos / self.segment_size;
            let off = (pos % self.segment_size) as usize;
            let data = self.load(seg)?;
            if off >= data.len() {
                break;
            }
            let n = (data.len() - off).min(out.len() - done);
            out[done..done + n].copy_from_slice(&data[off..off + n]);
            done += n;
            if off + n < self.segment_size as usize {
                // A short segment file: the data stops here.
                if done < out.len() {
                    break;
                }
            }
        }
        Ok(done)
    }
}

/// Why a record could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// No byte at all at this position: the files end exactly here.
    EndOfFiles,
    /// An all-zero header: unused space of a pre-allocated segment.
    Zeros,
    /// Bytes whose prev-link does not point at the previous record: old contents of a recycled
    /// segment or other garbage, never a record of this log's tail. A clean end of WAL.
    Unlinked(String),
    /// A record that links to the previous one (or a file ending inside a record) but is torn or
    /// damaged: bad length, reserved bytes, incomplete, or a CRC mismatch.
    Damaged(String),
}

impl Invalid {
    pub fn message(&self, lsn: Lsn) -> String {
        match self {
            Invalid::EndOfFiles => format!("no WAL data at {lsn}"),
            Invalid::Zeros => format!("invalid record length at {lsn}: expected at least {HEADER_LEN}, got 0"),
            Invalid::Damaged(m) | Invalid::Unlinked(m) => m.clone(),
        }
    }
}

/// Reads and validates the record at `lsn`. `expected_prev` is the LSN of the record read just
/// before (`None` when reading starts here and the link cannot be checked).
pub(crate) fn read_record(
    src: &mut SegmentSource,
    lsn: Lsn,
    expected_prev: Option<Lsn>,
) -> Result<std::result::Result<Record, Invalid>> {
    let mut h = [0u8; HEADER_LEN];
    let n = src.read(lsn.0, &mut h)?;
    if n == 0 {
        return Ok(Err(Invalid::EndOfFiles));
    }
    if h.iter().all(|&b| b == 0) {
        return Ok(Err(Invalid::Zeros));
    }
    // Bytes that do not link to the previous record were never part of this log's tail: old
    // contents of a recycled segment or other garbage. Only a record that links back (or a file
    // that ends inside it) is a torn or damaged record of ours.
    let u64_at =
        |o: usize| u64::from_le_bytes([h[o], h[o + 1], h[o + 2], h[o + 3], h[o + 4], h[o + 5], h[o + 6], h[o + 7]]);
    if n < HEADER_LEN {
        return Ok(Err(Invalid::Damaged(format!("incomplete record header at {lsn}: got {n} of {HEADER_LEN} bytes"))));
    }
    if let Some(prev) = expected_prev {
        let link = Lsn(u64_at(16));
        if link != prev {
            return Ok(Err(Invalid::Unlinked(format!("record with incorrect prev-link {link} at {lsn}"))));
        }
    }
    let Some(hdr) = RecordHeader::decode(&h) else {
        return Ok(Err(Invalid::Damaged(format!("invalid record header at {lsn}: reserved bytes are not zero"))));
    };
    let tot = hdr.tot_len as u64;
    if tot < HEADER_LEN as u64 || tot > MAX_RECORD_LEN {
        return Ok(Err(Invalid::Damaged(format!(
            "invalid record length at {lsn}: expected at least {HEADER_LEN}, got {tot}"
        ))));
    }
    let mut payload = vec![0u8; tot as usize - HEADER_LEN];
    let got = src.read(lsn.0 + HEADER_LEN as u64, &mut payload)?;
    if got < payload.len() {
        return Ok(Err(Invalid::Damaged(format!(
            "record at {lsn} is incomplete: expected {} payload bytes, got {got}",
            payload.len()
        ))));
    }
    if finish_crc(crc32c::crc32c(&payload), &h, lsn) != hdr.crc {
        return Ok(Err(Invalid::Damaged(format!("incorrect resource manager data checksum in record at {lsn}"))));
    }
    Ok(Ok(Record {
        lsn,
        end: Lsn(lsn.0 + align(tot)),
        prev: hdr.prev,
        xid: hdr.xid,
        rmgr: hdr.rmgr,
        info: hdr.info,
        payload,
    }))
}

/// An iterator over the records from an LSN on, in LSN order.
///
/// Without a bound it stops quietly at the first record that is not valid (pg_waldump's
/// behaviour; [`WalReader::stopped_at`] tells where and why). With a bound (`Wal::reader` uses
/// the flushed LSN) every record before the bound must be valid and a bad one is an XX001 error.
pub struct WalReader {
    src: SegmentSource,
    next: Lsn,
    prev: Option<Lsn>,
    bound: Option<Lsn>,
    stopped: Option<(Lsn, Invalid)>,
    done: bool,
}

impl WalReader {
    pub(crate) fn with_source(src: SegmentSource, from: Lsn, bound: Option<Lsn>) -> WalReader {
        WalReader { src, next: from, prev: None, bound, stopped: None, done: false }
    }

    /// Reads the WAL of `datadir` (real file system) from `from`, which must be a record start
    /// (the control file's redo LSN is one), until the first invalid record.
    pub fn open(datadir: &Path, from: Lsn) -> Result<WalReader> {
        let control = crate::control::ControlFile::read(datadir)?;
        let src = SegmentSource::new(Arc::new(FileIo), datadir.join("wal"), control.segment_size, control.timeline);
        Ok(WalReader::with_source(src, from, None))
    }

    /// Where reading stopped and why, once the iterator has returned `None`.
    pub fn stopped_at(&self) -> Option<&(Lsn, Invalid)> {
        self.stopped.as_ref()
    }

    /// The LSN the next record would start at.
    pub fn next_lsn(&self) -> Lsn {
        self.next
    }
}

impl Iterator for WalReader {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        if self.done || self.bound.is_some_and(|b| self.next >= b) {
            return None;
        }
        match read_record(&mut self.src, self.next, self.prev) {
            Ok(Ok(rec)) => {
                self.prev = Some(rec.lsn);
                self.next = rec.end;
                Some(Ok(rec))
            }
            Ok(Err(why)) => {
                self.done = true;
                let at = self.next;
                let msg = why.message(at);
                self.stopped = Some((at, why));
                self.bound.map(|b| {
                    Err(XlogError::corrupted(format!("invalid record at {at} before the flushed end {b}: {msg}")))
                })
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
