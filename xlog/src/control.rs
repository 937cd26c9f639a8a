//! The control file `<datadir>/global/pg_control`: where recovery starts and how the cluster
//! was left.
//!
//! It holds the last checkpoint's LSN and redo LSN, the cluster state, the timeline, the next
//! transaction id and the WAL segment size, protected by a CRC32C. PostgreSQL overwrites its
//! 8 kB pg_control in place, trusting a 512-byte sector write to be atomic; we instead replace it
//! atomically: write `pg_control.tmp`, fsync it, rename it over `pg_control`, fsync `global/`.
//! A reader therefore sees either the old or the new file, never a mix.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{os_message, ErrorKind, Result, XlogError};
use crate::io::{FileIo, WalIo};
use crate::lsn::Lsn;

/// "ENVC" in little-endian.
const MAGIC: u32 = 0x4356_4e45;
const VERSION: u32 = 1;
/// Encoded size including the trailing CRC.
pub const CONTROL_FILE_LEN: usize = 76;
const REL_PATH: &str = "global/pg_control";

/// How the cluster was left (PostgreSQL's `DBState`, the states we use).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbState {
    ShutDown,
    InProduction,
    InCrashRecovery,
}

impl DbState {
    fn code(self) -> u32 {
        match self {
            DbState::ShutDown => 1,
            DbState::InCrashRecovery => 2,
            DbState::InProduction => 3,
        }
    }
    fn from_code(c: u32) -> Option<DbState> {
        match c {
            1 => Some(DbState::ShutDown),
            2 => Some(DbState::InCrashRecovery),
            3 => Some(DbState::InProduction),
            _ => None,
        }
    }
}

impl fmt::Display for DbState {
    /// pg_controldata's wording.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DbState::ShutDown => "shut down",
            DbState::InProduction => "in production",
            DbState::InCrashRecovery => "in crash recovery",
        })
    }
}

/// The contents of the control file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControlFile {
    /// Random-ish id chosen at cluster creation.
    pub system_identifier: u64,
    pub state: DbState,
    pub timeline: u32,
    /// LSN of the last checkpoint record.
    pub checkpoint: Lsn,
    /// Where replay starts: the insert LSN when that checkpoint began.
    pub redo: Lsn,
    pub next_xid: u64,
    /// Unix seconds of the last checkpoint.
    pub checkpoint_time: u64,
    /// Unix seconds of the last write of this file.
    pub modified: u64,
    pub segment_size: u64,
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl ControlFile {
    pub fn path(datadir: &Path) -> PathBuf {
        datadir.join(REL_PATH)
    }

    pub fn encode(&self) -> [u8; CONTROL_FILE_LEN] {
        let mut b = [0u8; CONTROL_FILE_LEN];
        b[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        b[4..8].copy_from_slice(&VERSION.to_le_bytes());
        b[8..16].copy_from_slice(&self.system_identifier.to_le_bytes());
        b[16..20].copy_from_slice(&self.state.code().to_le_bytes());
        b[20..24].copy_from_slice(&self.timeline.to_le_bytes());
        b[24..32].copy_from_slice(&self.checkpoint.0.to_le_bytes());
        b[32..40].copy_from_slice(&self.redo.0.to_le_bytes());
        b[40..48].copy_from_slice(&self.next_xid.to_le_bytes());
        b[48..56].copy_from_slice(&self.checkpoint_time.to_le_bytes());
        b[56..64].copy_from_slice(&self.modified.to_le_bytes());
        b[64..72].copy_from_slice(&self.segment_size.to_le_bytes());
        let crc = crc32c::crc32c(&b[..72]);
        b[72..76].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Decodes and verifies the file contents, with PostgreSQL's messages for each failure.
    pub fn decode(b: &[u8]) -> Result<ControlFile> {
        if b.len() < CONTROL_FILE_LEN {
            return Err(XlogError::corrupted(format!(
                "could not read file \"{REL_PATH}\": read {} of {CONTROL_FILE_LEN}",
                b.len()
            )));
        }
        let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let u64_at = |o: usize| {
            let mut x = [0u8; 8];
            x.copy_from_slice(&b[o..o + 8]);
            u64::from_le_bytes(x)
        };
        if u32_at(0) != MAGIC || u32_at(4) != VERSION {
            return Err(XlogError::corrupted("database files are incompatible with server").with_detail(format!(
                "The database cluster was initialized with control file magic {:#010x} version {}, but the server expects magic {MAGIC:#010x} version {VERSION}.",
                u32_at(0),
                u32_at(4)
            )));
        }
        if crc32c::crc32c(&b[..72]) != u32_at(72) {
            return Err(XlogError::corrupted("incorrect checksum in control file"));
        }
        let state = DbState::from_code(u32_at(16))
            .ok_or_else(|| XlogError::corrupted(format!("invalid cluster state {} in control file", u32_at(16))))?;
        Ok(ControlFile {
            system_identifier: u64_at(8),
            state,
            timeline: u32_at(20),
            checkpoint: Lsn(u64_at(24)),
            redo: Lsn(u64_at(32)),
            next_xid: u64_at(40),
            checkpoint_time: u64_at(48),
            modified: u64_at(56),
            segment_size: u64_at(64),
        })
    }

    /// Reads `<datadir>/global/pg_control` from the real file system.
    pub fn read(datadir: &Path) -> Result<ControlFile> {
        ControlFile::read_with(&FileIo, datadir)
    }

    pub fn read_with(io: &dyn WalIo, datadir: &Path) -> Result<ControlFile> {
        let path = ControlFile::path(datadir);
        let file = io.open(&path, false).map_err(|e| {
            let kind = if e.kind() == io::ErrorKind::NotFound { ErrorKind::UndefinedFile } else { ErrorKind::Io };
            XlogError::new(kind, format!("could not open file \"{REL_PATH}\": {}", os_message(&e)))
        })?;
        let mut buf = [0u8; CONTROL_FILE_LEN];
        let n =
            file.read_at(&mut buf, 0).map_err(|e| XlogError::io(&format!("could not read file \"{REL_PATH}\""), &e))?;
        ControlFile::decode(&buf[..n])
    }

    /// Atomically replaces `<datadir>/global/pg_control` on the real file system.
    pub fn write(&self, datadir: &Path) -> Result<()> {
        self.write_with(&FileIo, datadir)
    }

    /// Writes a temporary file, fsyncs it, renames it over the control file and fsyncs the
    /// directory. Sets `modified` in the written image to now.
    pub fn write_with(&self, io: &dyn WalIo, datadir: &Path) -> Result<()> {
        let dir = datadir.join("global");
        let tmp = dir.join("pg_control.tmp");
        let tmp_name = "global/pg_control.tmp";
        io.create_dir_all(&dir).map_err(|e| XlogError::io("could not create directory \"global\"", &e))?;
        let image = ControlFile { modified: now_secs(), ..*self }.encode();
        let file =
            io.open(&tmp, true).map_err(|e| XlogError::io(&format!("could not create file \"{tmp_name}\""), &e))?;
        file.write_all_at(&image, 0).map_err(|e| XlogError::io(&format!("could not write file \"{tmp_name}\""), &e))?;
        file.sync_data().map_err(|e| XlogError::io(&format!("could not fsync file \"{tmp_name}\""), &e))?;
        drop(file);
        io.rename(&tmp, &ControlFile::path(datadir))
            .map_err(|e| XlogError::io(&format!("could not rename file \"{tmp_name}\" to \"{REL_PATH}\""), &e))?;
        io.sync_dir(&dir).map_err(|e| XlogError::io("could not fsync directory \"global\"", &e))
    }
}
