//! The write-ahead log: insertion, flushing with group commit, the background writer, and the
//! broken state after an I/O failure.
//!
//! Insertion appends the record to an in-memory buffer under a short lock (`insert`) and returns
//! its end LSN. Nothing is written yet. `flush(lsn)` makes everything up to `lsn` durable:
//!
//! * Group commit (leader/follower). At most one thread, the leader, writes and fsyncs at a time.
//!   A caller whose LSN is already flushed returns at once; one that finds a leader at work
//!   registers as a waiter (its LSN and its thread) and parks instead of issuing its own fsync.
//!   After each fsync the leader unparks exactly the waiters it covered; they return without
//!   touching a lock. If waiters remain (their records arrived during the fsync) the leader
//!   flushes again at once, taking the whole buffer (every record inserted meanwhile by all
//!   waiting committers) in one write and one `fdatasync`; the more committers wait, the more
//!   each fsync carries. After `MAX_LEADER_ROUNDS` rounds, so that one committer does not serve
//!   indefinitely, it wakes the rest and one of them becomes the next leader.
//!   Why not a condition variable: waking through one requeues every waiter onto the mutex, and
//!   they take it one after the other; on two cores with 32 committers that chain of wake-ups
//!   delayed both the next fsync and the committers' next transactions, and each fsync carried
//!   a third of what it could (32 sessions made 4x the commits/s of one).
//! * Failures are never ignored: a failed write or fsync returns the error to the caller and
//!   leaves the WAL broken; every later insert and flush fails, quoting the first error. After a
//!   failed fsync the kernel may have dropped the dirty pages, so retrying could report success
//!   for data that is gone; PostgreSQL PANICs and recovers from the WAL on disk, and so must we.
//! * With synchronous commit off a committer does not call `flush`; the background writer flushes
//!   everything inserted every `wal_writer_delay`. A crash loses at most the commits of the last
//!   `wal_writer_delay` plus the duration of one flush (PostgreSQL documents three times the delay
//!   because its writer may sleep longer when idle; ours wakes on a fixed period).
//! * When the buffer grows past `wal_buffers` the inserter flushes it itself, bounding memory.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{JoinHandle, Thread};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use crate::control::{ControlFile, DbState};
use crate::error::{ErrorKind, Result, XlogError, RESTART_HINT};
use crate::io::{FileIo, WalIo};
use crate::lsn::Lsn;
use crate::reader::{SegmentSource, WalReader};
use crate::record::{align, RecordHeader, HEADER_LEN, MAX_PAYLOAD_LEN};
use crate::writer::SegmentWriter;

/// Settings of [`Wal::open`].
#[derive(Clone, Debug)]
pub struct WalOptions {
    /// Segment size for a new cluster (an existing one keeps the size in its control file).
    pub segment_size: u64,
    /// Inserted-but-unwritten bytes after which an inserter flushes (PostgreSQL's wal_buffers).
    pub wal_buffers: usize,
    /// Period of the background writer; `None` runs none (every commit must flush itself).
    pub wal_writer_delay: Option<Duration>,
    /// Recycled segments kept for reuse (as future segments) instead of being removed.
    pub min_wal_size: u64,
    /// Treat damage in the middle of the WAL like a torn tail: discard everything from the first
    /// invalid record on (losing committed data) instead of refusing to start.
    pub ignore_corruption: bool,
    pub io: Arc<dyn WalIo>,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_size: 16 << 20,
            wal_buffers: 16 << 20,
            wal_writer_delay: Some(Duration::from_millis(200)),
            min_wal_size: 80 << 20,
            ignore_corruption: false,
            io: Arc::new(FileIo),
        }
    }
}

struct InsertState {
    /// Bytes of the stream from `buf_start` to `insert_lsn`, not yet handed to a writer.
    buf: Vec<u8>,
    buf_start: u64,
    /// Where the next record starts.
    insert_lsn: u64,
    /// Start of the last inserted record (the next record's prev-link).
    prev_lsn: u64,
    /// An emptied buffer returned by the last flush, reused to avoid reallocation.
    spare: Vec<u8>,
}

/// Rounds a leader may flush in a row while committers wait (see the module docs).
const MAX_LEADER_ROUNDS: usize = 8;

/// A parked committer: it returns once `woken` is set (its LSN is flushed, the WAL broke, or the
/// leader stepped down and it must look again).
struct Waiter {
    upto: u64,
    thread: Thread,
    woken: Arc<AtomicBool>,
}

impl Waiter {
    fn wake(self) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

struct FlushState {
    flushed: u64,
    leader_active: bool,
    /// Committers parked until the WAL is flushed past their LSN.
    waiters: Vec<Waiter>,
    broken: Option<XlogError>,
}

/// Counters for benchmarks and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WalStats {
    pub records: u64,
    /// Leader rounds that wrote and fsynced something.
    pub flushes: u64,
}

pub(crate) struct Inner {
    pub(crate) datadir: PathBuf,
    pub(crate) io: Arc<dyn WalIo>,
    pub(crate) segment_size: u64,
    pub(crate) timeline: u32,
    pub(crate) wal_buffers: usize,
    pub(crate) min_wal_size: u64,
    insert: Mutex<InsertState>,
    flush: Mutex<FlushState>,
    pub(crate) writer: Mutex<SegmentWriter>,
    broken: AtomicBool,
    flushed: AtomicU64,
    pub(crate) control: Mutex<ControlFile>,
    /// One checkpoint at a time.
    pub(crate) checkpoint_lock: Mutex<()>,
    records: AtomicU64,
    flushes: AtomicU64,
}

/// The write-ahead log of one data directory. Share it as `Arc<Wal>`.
pub struct Wal {
    pub(crate) inner: Arc<Inner>,
    bg: Option<BgWriter>,
}

struct BgWriter {
    stop: Arc<(Mutex<bool>, Condvar)>,
    handle: Option<JoinHandle<()>>,
}

impl Inner {
    pub(crate) fn new(
        datadir: PathBuf,
        writer: SegmentWriter,
        control: ControlFile,
        opts: &WalOptions,
        end: Lsn,
        last: Lsn,
    ) -> Inner {
        Inner {
            datadir,
            io: Arc::clone(&opts.io),
            segment_size: control.segment_size,
            timeline: control.timeline,
            wal_buffers: opts.wal_buffers.max(HEADER_LEN),
            min_wal_size: opts.min_wal_size,
            insert: Mutex::new(InsertState {
                buf: Vec::new(),
                buf_start: end.0,
                insert_lsn: end.0,
                prev_lsn: last.0,
                spare: Vec::new(),
            }),
            flush: Mutex::new(FlushState { flushed: end.0, leader_active: false, waiters: Vec::new(), broken: None }),
            writer: Mutex::new(writer),
            broken: AtomicBool::new(false),
            flushed: AtomicU64::new(end.0),
            control: Mutex::new(control),
            checkpoint_lock: Mutex::new(()),
            records: AtomicU64::new(0),
            flushes: AtomicU64::new(0),
        }
    }

    pub(crate) fn check_broken(&self) -> Result<()> {
        if self.broken.load(Ordering::Acquire) {
            let st = self.flush.lock();
            if let Some(cause) = &st.broken {
                return Err(XlogError::broken(cause));
            }
        }
        Ok(())
    }

    /// Records `err` as the reason the WAL is broken (the first one wins) and returns it.
    pub(crate) fn fail(&self, err: XlogError) -> XlogError {
        let err = if err.hint.is_none() { err.with_hint(RESTART_HINT) } else { err };
        let mut st = self.flush.lock();
        if st.broken.is_none() {
            st.broken = Some(err.clone());
        }
        self.broken.store(true, Ordering::Release);
        for w in st.waiters.drain(..) {
            w.wake();
        }
        err
    }

    pub(crate) fn insert_lsn(&self) -> Lsn {
        Lsn(self.insert.lock().insert_lsn)
    }

    /// Appends a record to the buffer; returns its (start, end) LSNs.
    pub(crate) fn insert_record(&self, rmgr: u8, info: u8, xid: u64, payload: &[u8]) -> Result<(Lsn, Lsn)> {
        self.check_broken()?;
        if payload.len() > MAX_PAYLOAD_LEN {
            return Err(XlogError::new(
                ErrorKind::ProgramLimit,
                format!("WAL record too long: {} bytes, the maximum is {MAX_PAYLOAD_LEN}", payload.len()),
            ));
        }
        let tot_len = HEADER_LEN + payload.len();
        // The payload CRC is the expensive part; compute it before taking the lock.
        let payload_crc = crc32c::crc32c(payload);
        let (start, end, overfull) = {
            let mut st = self.insert.lock();
            let start = st.insert_lsn;
            let hdr = RecordHeader::encode(tot_len as u32, xid, Lsn(st.prev_lsn), rmgr, info, payload_crc, Lsn(start));
            let padded = align(tot_len as u64) as usize;
            st.buf.reserve(padded);
            st.buf.extend_from_slice(&hdr);
            st.buf.extend_from_slice(payload);
            let new_len = st.buf.len() + padded - tot_len;
            st.buf.resize(new_len, 0);
            st.prev_lsn = start;
            st.insert_lsn = start + padded as u64;
            (start, st.insert_lsn, st.buf.len() >= self.wal_buffers)
        };
        self.records.fetch_add(1, Ordering::Relaxed);
        if overfull {
            self.flush(Lsn(end))?;
        }
        Ok((Lsn(start), Lsn(end)))
    }

    /// Makes the WAL durable up to `upto` (clamped to the insert position), sharing fsyncs with
    /// concurrent callers.
    pub(crate) fn flush(&self, upto: Lsn) -> Result<()> {
        if self.flushed.load(Ordering::Acquire) >= upto.0 {
            return self.check_broken();
        }
        let upto = upto.0.min(self.insert.lock().insert_lsn);
        let mut st = self.flush.lock();
        loop {
            if let Some(cause) = &st.broken {
                return Err(XlogError::broken(cause));
            }
            if st.flushed >= upto {
                return Ok(());
            }
            if !st.leader_active {
                break;
            }
            // Follower: the leader's fsync (or the next one) will cover us.
            let woken = Arc::new(AtomicBool::new(false));
            st.waiters.push(Waiter { upto, thread: std::thread::current(), woken: Arc::clone(&woken) });
            drop(st);
            while !woken.load(Ordering::Acquire) {
                std::thread::park();
            }
            if self.flushed.load(Ordering::Acquire) >= upto {
                return self.check_broken();
            }
            st = self.flush.lock();
        }
        st.leader_active = true;
        drop(st);

        let mut round = 0;
        loop {
            round += 1;
            let end = match self.write_and_sync() {
                Ok(end) => end,
                // `fail` wakes every waiter, and they report the error.
                Err(e) => {
                    let e = self.fail(e);
                    self.flush.lock().leader_active = false;
                    return Err(e);
                }
            };
            let mut st = self.flush.lock();
            st.flushed = st.flushed.max(end);
            self.flushed.store(st.flushed, Ordering::Release);
            let flushed = st.flushed;
            let (covered, rest): (Vec<Waiter>, Vec<Waiter>) =
                std::mem::take(&mut st.waiters).into_iter().partition(|w| w.upto <= flushed);
            st.waiters = rest;
            // Waiters whose records this round did not cover get the next round right away.
            let again = round < MAX_LEADER_ROUNDS && !st.waiters.is_empty() && self.insert_lsn().0 > flushed;
            let handover = if again {
                Vec::new()
            } else {
                st.leader_active = false;
                std::mem::take(&mut st.waiters)
            };
            drop(st);
            for w in covered.into_iter().chain(handover) {
                w.wake();
            }
            if !again {
                return Ok(());
            }
        }
    }

    /// Leader work: take the whole buffer, write it, fsync. Returns the new flushed LSN.
    fn write_and_sync(&self) -> Result<u64> {
        let (mut data, start, end) = {
            let mut st = self.insert.lock();
            let spare = std::mem::take(&mut st.spare);
            let data = std::mem::replace(&mut st.buf, spare);
            let start = st.buf_start;
            st.buf_start = st.insert_lsn;
            (data, start, st.insert_lsn)
        };
        if data.is_empty() {
            return Ok(end);
        }
        {
            let mut w = self.writer.lock();
            w.write(start, &data)?;
            w.sync()?;
        }
        self.flushes.fetch_add(1, Ordering::Relaxed);
        data.clear();
        let mut st = self.insert.lock();
        if st.spare.capacity() < data.capacity() {
            st.spare = data;
        }
        Ok(end)
    }

    pub(crate) fn write_control(&self, update: impl FnOnce(&mut ControlFile)) -> Result<()> {
        let mut c = self.control.lock();
        let mut next = *c;
        update(&mut next);
        next.write_with(&*self.io, &self.datadir).map_err(|e| self.fail(e))?;
        *c = next;
        Ok(())
    }
}

impl Wal {
    pub(crate) fn from_inner(inner: Inner, writer_delay: Option<Duration>) -> Wal {
        let inner = Arc::new(inner);
        let bg = writer_delay.map(|delay| {
            let stop = Arc::new((Mutex::new(false), Condvar::new()));
            let (inner2, stop2) = (Arc::clone(&inner), Arc::clone(&stop));
            let handle = std::thread::Builder::new()
                .name("wal writer".into())
                .spawn(move || background_writer(&inner2, &stop2, delay))
                .ok();
            BgWriter { stop, handle }
        });
        Wal { inner, bg }
    }

    /// Appends a record for resource manager `rmgr`; returns the LSN just past it (what a
    /// committer passes to [`Wal::flush`]). Not durable until flushed.
    pub fn insert(&self, rmgr: u8, info: u8, xid: u64, payload: &[u8]) -> Result<Lsn> {
        Ok(self.inner.insert_record(rmgr, info, xid, payload)?.1)
    }

    /// Like [`Wal::insert`] but also returns the record's start LSN.
    pub fn insert_with_start(&self, rmgr: u8, info: u8, xid: u64, payload: &[u8]) -> Result<(Lsn, Lsn)> {
        self.inner.insert_record(rmgr, info, xid, payload)
    }

    /// Makes everything up to `lsn` durable (write + fdatasync), sharing the fsync with concurrent
    /// callers.
    pub fn flush(&self, lsn: Lsn) -> Result<()> {
        self.inner.flush(lsn)
    }

    /// Flushes everything inserted so far.
    pub fn flush_all(&self) -> Result<()> {
        self.inner.flush(self.insert_lsn())
    }

    /// Where the next record will start.
    pub fn insert_lsn(&self) -> Lsn {
        self.inner.insert_lsn()
    }

    /// Everything before this LSN is durable.
    pub fn flushed_lsn(&self) -> Lsn {
        Lsn(self.inner.flushed.load(Ordering::Acquire))
    }

    pub fn is_broken(&self) -> bool {
        self.inner.broken.load(Ordering::Acquire)
    }

    /// Fails with the broken-state error if an earlier write or fsync failed.
    pub fn check(&self) -> Result<()> {
        self.inner.check_broken()
    }

    pub fn control(&self) -> ControlFile {
        *self.inner.control.lock()
    }

    pub fn segment_size(&self) -> u64 {
        self.inner.segment_size
    }

    pub fn datadir(&self) -> &Path {
        &self.inner.datadir
    }

    pub fn stats(&self) -> WalStats {
        WalStats {
            records: self.inner.records.load(Ordering::Relaxed),
            flushes: self.inner.flushes.load(Ordering::Relaxed),
        }
    }

    /// Reads flushed records from `from` (a record start, e.g. the redo LSN) in LSN order. Every
    /// record before the flushed LSN must be valid; damage is an XX001 error.
    pub fn reader(&self, from: Lsn) -> WalReader {
        let src = SegmentSource::new(
            Arc::clone(&self.inner.io),
            self.inner.datadir.join("wal"),
            self.inner.segment_size,
            self.inner.timeline,
        );
        WalReader::with_source(src, from, Some(self.flushed_lsn()))
    }

    /// Marks the end of crash recovery (the envelope calls this after replaying): the control
    /// file says "in production" again.
    pub fn end_recovery(&self) -> Result<()> {
        self.inner.check_broken()?;
        if self.control().state != DbState::InProduction {
            self.inner.write_control(|c| c.state = DbState::InProduction)?;
        }
        Ok(())
    }

    /// Flushes everything and records a clean shutdown in the control file. The envelope runs a
    /// shutdown checkpoint first if it wants a fast next start.
    pub fn shutdown(&self) -> Result<()> {
        self.flush_all()?;
        self.inner.write_control(|c| c.state = DbState::ShutDown)
    }
}

impl Drop for Wal {
    /// Stops the background writer. Does not flush: unflushed records are lost as in a crash;
    /// call [`Wal::shutdown`] for a clean stop.
    fn drop(&mut self) {
        if let Some(bg) = self.bg.as_mut() {
            *bg.stop.0.lock() = true;
            bg.stop.1.notify_all();
            if let Some(h) = bg.handle.take() {
                let _ = h.join();
            }
        }
    }
}

fn background_writer(inner: &Inner, stop: &(Mutex<bool>, Condvar), delay: Duration) {
    loop {
        {
            let mut stopped = stop.0.lock();
            if *stopped {
                return;
            }
            stop.1.wait_for(&mut stopped, delay);
            if *stopped {
                return;
            }
        }
        if inner.broken.load(Ordering::Acquire) {
            continue;
        }
        let target = inner.insert_lsn();
        if target.0 > inner.flushed.load(Ordering::Acquire) {
            // A failure puts the WAL in the broken state; the next committer reports it.
            let _ = inner.flush(target);
        }
    }
}
