//! Writing the log stream into segment files.
//!
//! Only one thread writes at a time (the flush leader, or recovery and checkpointing, which hold
//! the same lock), so this is plain sequential code. A segment is created full size, zero-filled,
//! under a temporary name and renamed into place (PostgreSQL's `XLogFileInit`): a crash while
//! creating leaves no half-made segment, and writes into a pre-allocated file do not change its
//! size, so `fdatasync` need not flush file-size metadata.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Result, XlogError};
use crate::io::{WalFile, WalIo};
use crate::lsn::{parse_segment_file_name, segment_file_name};

const TEMP_NAME: &str = "xlogtemp";
const ZERO_CHUNK: usize = 1 << 20;

pub(crate) struct SegmentWriter {
    pub(crate) io: Arc<dyn WalIo>,
    pub(crate) wal_dir: PathBuf,
    pub(crate) segment_size: u64,
    pub(crate) timeline: u32,
    /// The open segment, and whether it has writes not yet fsynced.
    current: Option<(u64, Box<dyn WalFile>, bool)>,
}

impl SegmentWriter {
    pub(crate) fn new(io: Arc<dyn WalIo>, wal_dir: PathBuf, segment_size: u64, timeline: u32) -> Self {
        SegmentWriter { io, wal_dir, segment_size, timeline, current: None }
    }

    pub(crate) fn name(&self, segno: u64) -> String {
        segment_file_name(self.timeline, segno, self.segment_size)
    }

    /// Writes `data` at stream position `lsn` (possibly across segments). Segments left behind are
    /// fsynced when the writer moves past them; call [`SegmentWriter::sync`] for the last one.
    pub(crate) fn write(&mut self, lsn: u64, data: &[u8]) -> Result<()> {
        let mut done = 0usize;
        while done < data.len() {
            let pos = lsn + done as u64;
            let segno = pos / self.segment_size;
            let off = pos % self.segment_size;
            let n = ((self.segment_size - off) as usize).min(data.len() - done);
            self.switch_to(segno)?;
            let name = self.name(segno);
            if let Some((_, file, dirty)) = self.current.as_mut() {
                file.write_all_at(&data[done..done + n], off).map_err(|e| {
                    XlogError::io(
                        &format!("could not write to WAL file \"wal/{name}\" at offset {off}, length {n}"),
                        &e,
                    )
                })?;
                *dirty = true;
            }
            done += n;
        }
        Ok(())
    }

    /// fsyncs the open segment if it has unsynced writes.
    pub(crate) fn sync(&mut self) -> Result<()> {
        let name = match &self.current {
            Some((segno, _, true)) => self.name(*segno),
            _ => return Ok(()),
        };
        if let Some((_, file, dirty)) = self.current.as_mut() {
            file.sync_data().map_err(|e| XlogError::io(&format!("could not fsync WAL file \"wal/{name}\""), &e))?;
            *dirty = false;
        }
        Ok(())
    }

    /// Makes `segno` the open segment, fsyncing the previous one and creating the new one if needed.
    fn switch_to(&mut self, segno: u64) -> Result<()> {
        if self.current.as_ref().is_some_and(|c| c.0 == segno) {
            return Ok(());
        }
        self.sync()?;
        self.current = None;
        let name = self.name(segno);
        let path = self.wal_dir.join(&name);
        let file = match self.io.open(&path, false) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.create_segment(segno)?;
                self.io
                    .open(&path, false)
                    .map_err(|e| XlogError::io(&format!("could not open file \"wal/{name}\""), &e))?
            }
            Err(e) => return Err(XlogError::io(&format!("could not open file \"wal/{name}\""), &e)),
        };
        self.current = Some((segno, file, false));
        Ok(())
    }

    /// Creates segment `segno` full of zeros, atomically.
    pub(crate) fn create_segment(&self, segno: u64) -> Result<()> {
        let tmp = self.wal_dir.join(TEMP_NAME);
        let what = |op: &str| format!("could not {op} file \"wal/{TEMP_NAME}\"");
        // A leftover from a crash while creating a segment.
        let _ = self.io.remove(&tmp);
        let file = self.io.open(&tmp, true).map_err(|e| XlogError::io(&what("create"), &e))?;
        let zeros = vec![0u8; ZERO_CHUNK.min(self.segment_size as usize)];
        let mut off = 0u64;
        while off < self.segment_size {
            let n = (zeros.len() as u64).min(self.segment_size - off) as usize;
            file.write_all_at(&zeros[..n], off).map_err(|e| XlogError::io(&what("write to"), &e))?;
            off += n as u64;
        }
        file.sync_data().map_err(|e| XlogError::io(&what("fsync"), &e))?;
        drop(file);
        let name = self.name(segno);
        self.io
            .rename(&tmp, &self.wal_dir.join(&name))
            .map_err(|e| XlogError::io(&format!("could not rename file \"wal/{TEMP_NAME}\" to \"wal/{name}\""), &e))?;
        self.sync_dir()
    }

    pub(crate) fn sync_dir(&self) -> Result<()> {
        self.io.sync_dir(&self.wal_dir).map_err(|e| XlogError::io("could not fsync directory \"wal\"", &e))
    }

    /// The segment numbers present in the WAL directory, sorted.
    pub(crate) fn list_segments(&self) -> Result<Vec<u64>> {
        let names = self.io.list(&self.wal_dir).map_err(|e| XlogError::io("could not open directory \"wal\"", &e))?;
        let mut segs: Vec<u64> = names
            .iter()
            .filter_map(|n| parse_segment_file_name(n, self.segment_size))
            .filter(|&(tli, _)| tli == self.timeline)
            .map(|(_, s)| s)
            .collect();
        segs.sort_unstable();
        Ok(segs)
    }

    /// Forgets the open segment (it may be about to be removed or rewritten).
    pub(crate) fn close(&mut self) -> Result<()> {
        self.sync()?;
        self.current = None;
        Ok(())
    }
}
