//! Opening a WAL: creating a new cluster, finding the end of the WAL, and telling a torn tail
//! (cut off, go on) from damage in the middle (refuse, touch nothing).
//!
//! Finding the end: read the checkpoint record named by the control file (it must be valid),
//! then read every record from the redo LSN on, checking each prev-link, until the first record
//! that is not valid at position `end`. Then look for valid records *after* `end`: for every
//! 8-byte aligned position `q` from `end + 8` up to `MAX_RECORD_LEN + segment_size` bytes further
//! (clipped to the segment files that exist), a candidate must have a sane header, a prev-link
//! in `[last, q)` where `last` is the last valid record (records written after the damaged one
//! link back to it or to records after it; stale data of recycled segments links to older LSNs)
//! and a CRC that verifies at `q` (the CRC binds the LSN). The window is large enough to reach
//! past any single damaged record, whatever its true length.
//!
//! * No valid record after `end`: the tail is torn (a crash interrupted the last writes, which
//!   were never acknowledged because a commit waits for its fsync). The rest of the segment
//!   holding `end` is zeroed, later segments are removed, and the next insert goes to `end`.
//!   A clean end (zeros of a pre-allocated segment, the end of the files, or intact old records
//!   of a recycled segment) is left as it is.
//! * A valid record after `end`: committed data lies beyond damage. Refuse to start with XX001
//!   and change nothing, unless `ignore_corruption` is set, which cuts the WAL at `end` as above.
//!
//! A known limit: if a crash persists a later page of an unflushed write but not an earlier one,
//! the tail looks like middle damage and we refuse (safe side); `ignore_corruption` gets past it.

use std::path::Path;
use std::sync::Arc;

use crate::control::{now_secs, ControlFile, DbState};
use crate::error::{ErrorKind, Result, XlogError};
use crate::io::WalIo;
use crate::lsn::{check_segment_size, Lsn};
use crate::reader::{read_record, Invalid, SegmentSource};
use crate::record::{
    align, CheckpointPayload, RecordHeader, ALIGN, HEADER_LEN, MAX_RECORD_LEN, RM_XLOG, XLOG_CHECKPOINT_ONLINE,
    XLOG_CHECKPOINT_SHUTDOWN,
};
use crate::wal::{Inner, Wal, WalOptions};
use crate::writer::SegmentWriter;

/// What [`Wal::open`] found; the envelope replays from `redo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveryInfo {
    /// A new cluster was created.
    pub created: bool,
    /// The cluster state the control file held before this start.
    pub previous_state: DbState,
    pub checkpoint: Lsn,
    /// Replay starts here.
    pub redo: Lsn,
    pub next_xid: u64,
    /// The last valid record and the position after it (where the next insert goes).
    pub last_record: Lsn,
    pub end_of_wal: Lsn,
    /// Valid records from `redo` to the end, including the checkpoint record.
    pub records_after_redo: u64,
    /// Why reading stopped at `end_of_wal` (for the log: "redo done at ...").
    pub end_reason: String,
    /// Set when the tail was a torn or damaged record of ours, which was cut off (zeroed); a clean
    /// end (zeros, end of files, unlinked old bytes of a recycled segment) leaves it `None`.
    pub truncated_tail: Option<String>,
}

impl RecoveryInfo {
    /// The previous run did not shut down cleanly.
    pub fn crashed(&self) -> bool {
        self.previous_state != DbState::ShutDown
    }
}

struct ScanResult {
    last: Lsn,
    end: Lsn,
    records: u64,
    next_xid: u64,
    stop: Invalid,
    /// A valid record found after the end (middle damage).
    valid_after: Option<(Lsn, Lsn)>,
}

impl Wal {
    /// Opens (or creates) the WAL of `datadir`: `<datadir>/wal/` and `<datadir>/global/pg_control`.
    pub fn open(datadir: impl AsRef<Path>, opts: WalOptions) -> Result<(Wal, RecoveryInfo)> {
        let datadir = datadir.as_ref().to_path_buf();
        let io = Arc::clone(&opts.io);
        let wal_dir = datadir.join("wal");
        io.create_dir_all(&wal_dir).map_err(|e| XlogError::io("could not create directory \"wal\"", &e))?;
        let (control, created) = match ControlFile::read_with(&*io, &datadir) {
            Ok(c) => (c, false),
            Err(e) if e.kind == ErrorKind::UndefinedFile => {
                check_segment_size(opts.segment_size)?;
                let w = SegmentWriter::new(Arc::clone(&io), wal_dir.clone(), opts.segment_size, 1);
                if !w.list_segments()?.is_empty() {
                    return Err(e.with_detail("The WAL directory holds segments but the control file is missing."));
                }
                (bootstrap(&*io, &datadir, w)?, true)
            }
            Err(e) => return Err(e),
        };
        check_segment_size(control.segment_size)?;
        let mut writer = SegmentWriter::new(Arc::clone(&io), wal_dir.clone(), control.segment_size, control.timeline);
        let mut src = SegmentSource::new(Arc::clone(&io), wal_dir, control.segment_size, control.timeline);
        let existing = writer.list_segments()?;
        let files_end = existing.last().map_or(0, |s| (s + 1) * control.segment_size);
        let scan = scan(&mut src, &control, files_end)?;

        let mut truncated_tail = None;
        if let Some((q, prev)) = scan.valid_after {
            let msg = scan.stop.message(scan.end);
            if !opts.ignore_corruption {
                return Err(XlogError::corrupted(format!("invalid record at {}: {msg} followed by valid records", scan.end))
                    .with_detail(format!("A valid record starts at {q} with prev-link {prev}; the WAL is damaged in the middle, not torn at its end."))
                    .with_hint("Restore the data directory from a backup, or open with ignore_corruption to discard the WAL from the damaged record on."));
            }
            cut_tail(&mut writer, scan.end)?;
            truncated_tail = Some(format!("{msg} (later valid records discarded)"));
        } else if let Invalid::Damaged(msg) = &scan.stop {
            cut_tail(&mut writer, scan.end)?;
            truncated_tail = Some(msg.clone());
        }

        let info = RecoveryInfo {
            created,
            previous_state: control.state,
            checkpoint: control.checkpoint,
            redo: control.redo,
            next_xid: scan.next_xid.max(control.next_xid),
            last_record: scan.last,
            end_of_wal: scan.end,
            records_after_redo: scan.records,
            end_reason: scan.stop.message(scan.end),
            truncated_tail,
        };
        let mut control = control;
        control.state =
            if control.state == DbState::ShutDown { DbState::InProduction } else { DbState::InCrashRecovery };
        control.write_with(&*io, &datadir)?;
        let delay = opts.wal_writer_delay;
        let inner = Inner::new(datadir, writer, control, &opts, scan.end, scan.last);
        Ok((Wal::from_inner(inner, delay), info))
    }
}

/// Creates a new cluster: a shutdown checkpoint record at the start of segment 1, then the
/// control file pointing at it.
fn bootstrap(io: &dyn WalIo, datadir: &Path, mut writer: SegmentWriter) -> Result<ControlFile> {
    let seg = writer.segment_size;
    let lsn = Lsn(seg);
    let now = now_secs();
    let payload = CheckpointPayload { redo: lsn, timeline: 1, next_xid: 1, time: now }.encode();
    let tot = HEADER_LEN + payload.len();
    let hdr = RecordHeader::encode(
        tot as u32,
        0,
        Lsn::INVALID,
        RM_XLOG,
        XLOG_CHECKPOINT_SHUTDOWN,
        crc32c::crc32c(&payload),
        lsn,
    );
    let mut buf = Vec::with_capacity(align(tot as u64) as usize);
    buf.extend_from_slice(&hdr);
    buf.extend_from_slice(&payload);
    buf.resize(align(tot as u64) as usize, 0);
    writer.write(lsn.0, &buf)?;
    writer.close()?;
    let pid = u64::from(std::process::id());
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let control = ControlFile {
        system_identifier: now << 32 | u64::from(nanos >> 12) << 12 | (pid & 0xfff),
        state: DbState::ShutDown,
        timeline: 1,
        checkpoint: lsn,
        redo: lsn,
        next_xid: 1,
        checkpoint_time: now,
        modified: now,
        segment_size: seg,
    };
    control.write_with(io, datadir)?;
    Ok(control)
}

fn no_checkpoint(control: &ControlFile, why: &str) -> XlogError {
    XlogError::corrupted("could not locate a valid checkpoint record")
        .with_detail(format!("The control file points at a checkpoint at {}: {why}", control.checkpoint))
}

/// Reads from the redo LSN to the end and probes for valid records after it.
fn scan(src: &mut SegmentSource, control: &ControlFile, files_end: u64) -> Result<ScanResult> {
    let ckpt = match read_record(src, control.checkpoint, None)? {
        Ok(r) => r,
        Err(why) => return Err(no_checkpoint(control, &why.message(control.checkpoint))),
    };
    let is_ckpt = ckpt.rmgr == RM_XLOG && matches!(ckpt.info, XLOG_CHECKPOINT_ONLINE | XLOG_CHECKPOINT_SHUTDOWN);
    let payload = CheckpointPayload::decode(&ckpt.payload).filter(|_| is_ckpt);
    let Some(payload) = payload else {
        return Err(no_checkpoint(control, "the record there is not a checkpoint"));
    };
    if control.redo > control.checkpoint || payload.redo != control.redo {
        return Err(no_checkpoint(control, "its redo LSN does not match the control file"));
    }

    let mut pos = control.redo;
    let mut prev = None;
    let mut last = Lsn::INVALID;
    let mut records = 0u64;
    let stop = loop {
        match read_record(src, pos, prev)? {
            Ok(rec) => {
                last = rec.lsn;
                prev = Some(rec.lsn);
                pos = rec.end;
                records += 1;
            }
            Err(why) => break why,
        }
    };
    if pos <= control.checkpoint {
        return Err(XlogError::corrupted(format!(
            "invalid record at {pos} between the redo point {} and the checkpoint record {}: {}",
            control.redo,
            control.checkpoint,
            stop.message(pos)
        )));
    }
    let valid_after = probe_valid_after(src, last, pos, files_end)?;
    Ok(ScanResult { last, end: pos, records, next_xid: payload.next_xid, stop, valid_after })
}

/// Looks for a valid record after the end of the WAL (see the module docs). Returns its LSN and
/// prev-link.
fn probe_valid_after(src: &mut SegmentSource, last: Lsn, end: Lsn, files_end: u64) -> Result<Option<(Lsn, Lsn)>> {
    let seg = src.segment_size();
    let limit = (end.0 + MAX_RECORD_LEN + seg).min(files_end);
    let mut q = end.0 + ALIGN;
    let mut h = [0u8; HEADER_LEN];
    while q + HEADER_LEN as u64 <= limit {
        if !src.segment_exists(q)? {
            q = (q / seg + 1) * seg;
            continue;
        }
        if src.read(q, &mut h)? == HEADER_LEN {
            if let Some(hdr) = RecordHeader::decode(&h) {
                let plausible = (HEADER_LEN as u64..=MAX_RECORD_LEN).contains(&u64::from(hdr.tot_len))
                    && hdr.prev >= last
                    && hdr.prev.0 < q
                    && hdr.prev.0 % ALIGN == 0;
                if plausible {
                    if let Ok(rec) = read_record(src, Lsn(q), Some(hdr.prev))? {
                        return Ok(Some((rec.lsn, rec.prev)));
                    }
                }
            }
        }
        q += ALIGN;
    }
    Ok(None)
}

/// Cuts the WAL at `end`: zeroes the rest of its segment and deletes the segments after it (they
/// hold nothing valid: remnants of the torn record, or recycled segments, which are recreated
/// when needed).
fn cut_tail(writer: &mut SegmentWriter, end: Lsn) -> Result<()> {
    let seg = writer.segment_size;
    let segno = end.0 / seg;
    let mut pos = end.0;
    let seg_end = (segno + 1) * seg;
    let zeros = vec![0u8; (seg_end - pos).min(1 << 20) as usize];
    while pos < seg_end {
        let n = ((seg_end - pos) as usize).min(zeros.len());
        writer.write(pos, &zeros[..n])?;
        pos += n as u64;
    }
    writer.close()?;
    for s in writer.list_segments()? {
        if s > segno {
            let name = writer.name(s);
            writer
                .io
                .remove(&writer.wal_dir.join(&name))
                .map_err(|e| XlogError::io(&format!("could not remove file \"wal/{name}\""), &e))?;
        }
    }
    writer.sync_dir()
}
