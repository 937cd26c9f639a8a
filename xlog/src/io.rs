//! The file-system layer under the WAL, injectable so tests can make writes and fsyncs fail.
//!
//! [`FileIo`] is the real thing (positional `pwrite`/`pread`, `fdatasync`, directory fsync;
//! Unix only). [`FaultyIo`] wraps it, counts writes and fsyncs (the group-commit test counts
//! fsyncs) and fails the Nth write or fsync with EIO or ENOSPC, optionally for good ("disk stays
//! full"), and can slow fsyncs down to make batching observable or skip them to make tests fast.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

/// An open file: positional reads and writes, and `fdatasync`.
pub trait WalFile: Send + Sync {
    /// Reads up to `buf.len()` bytes at `offset`; fewer only at end of file.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;
    /// Makes the written data durable (`fdatasync`).
    fn sync_data(&self) -> io::Result<()>;
    fn file_size(&self) -> io::Result<u64>;
}

/// File-system operations the WAL and control file need.
pub trait WalIo: Send + Sync + std::fmt::Debug {
    /// Opens `path` for reading and writing; creates it (empty) when `create` is set, otherwise a
    /// missing file is `NotFound`.
    fn open(&self, path: &Path, create: bool) -> io::Result<Box<dyn WalFile>>;
    /// Names of the entries of `dir`.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// fsyncs a directory so renames and creations in it are durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// The real file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct FileIo;

struct RealFile(File);

impl WalFile for RealFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let mut done = 0;
        while done < buf.len() {
            match self.0.read_at(&mut buf[done..], offset + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.0.write_all_at(buf, offset)
    }
    fn sync_data(&self) -> io::Result<()> {
        self.0.sync_data()
    }
    fn file_size(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }
}

impl WalIo for FileIo {
    fn open(&self, path: &Path, create: bool) -> io::Result<Box<dyn WalFile>> {
        let f = OpenOptions::new().read(true).write(true).create(create).truncate(false).open(path)?;
        Ok(Box::new(RealFile(f)))
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        Ok(names)
    }
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }
}

/// The error an injected fault produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// EIO, "Input/output error".
    Eio,
    /// ENOSPC, "No space left on device".
    Enospc,
}

impl Fault {
    fn error(self) -> io::Error {
        // Linux errno values.
        io::Error::from_raw_os_error(match self {
            Fault::Eio => 5,
            Fault::Enospc => 28,
        })
    }
}

/// When a fault fires: the `nth` operation (1-based, counted from when the fault was armed), and
/// every later one too when `sticky`.
#[derive(Clone, Copy, Debug)]
struct Trigger {
    at: u64,
    fault: Fault,
    sticky: bool,
}

#[derive(Debug, Default)]
struct FaultState {
    writes: AtomicU64,
    syncs: AtomicU64,
    dir_syncs: AtomicU64,
    write_fault: Mutex<Option<Trigger>>,
    sync_fault: Mutex<Option<Trigger>>,
    sync_delay: Mutex<Duration>,
    skip_sync: std::sync::atomic::AtomicBool,
}

impl FaultState {
    fn check(&self, slot: &Mutex<Option<Trigger>>, count: u64) -> io::Result<()> {
        let t = *slot.lock();
        match t {
            Some(t) if count == t.at || (t.sticky && count > t.at) => Err(t.fault.error()),
            _ => Ok(()),
        }
    }
}

/// [`FileIo`] with counters and injectable faults. Clones share counters and faults, so a test
/// keeps one clone and hands the other to the WAL.
#[derive(Clone, Debug, Default)]
pub struct FaultyIo {
    state: Arc<FaultState>,
}

impl FaultyIo {
    pub fn new() -> Self {
        FaultyIo::default()
    }
    /// File writes so far (WAL segments, zero-fill of new segments, control file).
    pub fn writes(&self) -> u64 {
        self.state.writes.load(Ordering::SeqCst)
    }
    /// File fsyncs (`sync_data`) so far, directories not included.
    pub fn syncs(&self) -> u64 {
        self.state.syncs.load(Ordering::SeqCst)
    }
    pub fn dir_syncs(&self) -> u64 {
        self.state.dir_syncs.load(Ordering::SeqCst)
    }
    /// Fails the `n`th write from now (1 = the next one); all later writes too if `sticky`.
    pub fn fail_write(&self, n: u64, fault: Fault, sticky: bool) {
        let at = self.writes() + n;
        *self.state.write_fault.lock() = Some(Trigger { at, fault, sticky });
    }
    /// Fails the `n`th file fsync from now; all later ones too if `sticky`.
    pub fn fail_sync(&self, n: u64, fault: Fault, sticky: bool) {
        let at = self.syncs() + n;
        *self.state.sync_fault.lock() = Some(Trigger { at, fault, sticky });
    }
    pub fn clear_faults(&self) {
        *self.state.write_fault.lock() = None;
        *self.state.sync_fault.lock() = None;
    }
    /// Turns fsyncs into no-ops (still counted, still failing when a fault says so): for tests
    /// that simulate crashes by editing files and need no real durability, only speed.
    pub fn set_skip_sync(&self, skip: bool) {
        self.state.skip_sync.store(skip, Ordering::SeqCst);
    }
    /// Makes every file fsync take at least `d` (a slow disk).
    pub fn set_sync_delay(&self, d: Duration) {
        *self.state.sync_delay.lock() = d;
    }
}

struct FaultyFile {
    inner: Box<dyn WalFile>,
    state: Arc<FaultState>,
}

impl WalFile for FaultyFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.inner.read_at(buf, offset)
    }
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        let n = self.state.writes.fetch_add(1, Ordering::SeqCst) + 1;
        self.state.check(&self.state.write_fault, n)?;
        self.inner.write_all_at(buf, offset)
    }
    fn sync_data(&self) -> io::Result<()> {
        let n = self.state.syncs.fetch_add(1, Ordering::SeqCst) + 1;
        let delay = *self.state.sync_delay.lock();
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        self.state.check(&self.state.sync_fault, n)?;
        if self.state.skip_sync.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.inner.sync_data()
    }
    fn file_size(&self) -> io::Result<u64> {
        self.inner.file_size()
    }
}

impl WalIo for FaultyIo {
    fn open(&self, path: &Path, create: bool) -> io::Result<Box<dyn WalFile>> {
        let inner = FileIo.open(path, create)?;
        Ok(Box::new(FaultyFile { inner, state: Arc::clone(&self.state) }))
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        FileIo.list(dir)
    }
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        FileIo.create_dir_all(dir)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        FileIo.rename(from, to)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        FileIo.remove(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.state.dir_syncs.fetch_add(1, Ordering::SeqCst);
        if self.state.skip_sync.load(Ordering::SeqCst) {
            return Ok(());
        }
        FileIo.sync_dir(dir)
    }
}
