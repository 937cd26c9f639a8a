//! `xlog`: the write-ahead log of the envelope, its control file and checkpoint bookkeeping.
//!
//! Storage-agnostic: a record is bytes tagged with a resource-manager id, an info byte and a
//! transaction id; whoever wrote it replays it. Modelled on PostgreSQL's WAL, simplified (no
//! page headers, no full-page images, one timeline, no archiving or replication); see
//! `README.md` in this crate for the mechanism, the invariants and a worked example.
//!
//! * [`Wal`]: open (with recovery of the end of WAL), insert, flush with group commit, a
//!   background writer for synchronous_commit = off, a broken state after any I/O failure.
//! * [`WalReader`]: records in LSN order from a record start, CRC-checked.
//! * [`ControlFile`]: `global/pg_control`, replaced atomically.
//! * Checkpoints: [`Wal::begin_checkpoint`], [`Wal::complete_checkpoint`], [`CheckpointPolicy`].
//! * [`dump`] / [`RmgrTable`]: pg_waldump-style lines.
//! * [`WalIo`]: the file-system layer, with [`FaultyIo`] for fault-injection tests.

mod checkpoint;
mod control;
mod dump;
mod error;
mod io;
mod lsn;
mod reader;
mod record;
mod recovery;
mod wal;
mod writer;

pub use checkpoint::{CheckpointPolicy, CheckpointResult, CheckpointTrigger};
pub use control::{ControlFile, DbState, CONTROL_FILE_LEN};
pub use dump::{describe_record, dump, dump_with, RmgrTable};
pub use error::{ErrorKind, Result, XlogError, RESTART_HINT};
pub use io::{Fault, FaultyIo, FileIo, WalFile, WalIo};
pub use lsn::{parse_segment_file_name, segment_file_name, Lsn, MAX_SEGMENT_SIZE, MIN_SEGMENT_SIZE};
pub use reader::{Invalid, WalReader};
pub use record::{
    CheckpointPayload, Record, HEADER_LEN, MAX_PAYLOAD_LEN, RM_XLOG, XLOG_CHECKPOINT_ONLINE, XLOG_CHECKPOINT_SHUTDOWN,
    XLOG_NOOP,
};
pub use recovery::RecoveryInfo;
pub use wal::{Wal, WalOptions, WalStats};
