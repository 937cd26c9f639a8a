//! The error type of the WAL: a PostgreSQL-worded message plus the SQLSTATE the envelope reports.
//!
//! `xlog` depends on no crate of ours, so it cannot use `fdw_api::FdwError`; the envelope maps an
//! [`XlogError`] to its own error by [`XlogError::sqlstate`], message, detail and hint.

use std::io;

/// What went wrong, which decides the SQLSTATE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A read, write or fsync failed (58030 io_error).
    Io,
    /// A write failed with ENOSPC (53100 disk_full).
    DiskFull,
    /// A WAL record or the control file is damaged (XX001 data_corrupted).
    DataCorrupted,
    /// An earlier write or fsync failed; the WAL refuses all work until restart (58030).
    Broken,
    /// A caller passed a bad argument or option (22023 invalid_parameter_value).
    InvalidParameter,
    /// A record exceeds the size limit (54000 program_limit_exceeded).
    ProgramLimit,
    /// A required file is missing (58P01 undefined_file).
    UndefinedFile,
}

impl ErrorKind {
    pub fn sqlstate(self) -> &'static str {
        match self {
            ErrorKind::Io | ErrorKind::Broken => "58030",
            ErrorKind::DiskFull => "53100",
            ErrorKind::DataCorrupted => "XX001",
            ErrorKind::InvalidParameter => "22023",
            ErrorKind::ProgramLimit => "54000",
            ErrorKind::UndefinedFile => "58P01",
        }
    }
}

/// An error of the WAL or control file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct XlogError {
    pub kind: ErrorKind,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

pub type Result<T, E = XlogError> = std::result::Result<T, E>;

/// The hint every error that leaves the WAL unusable carries (PostgreSQL PANICs instead).
pub const RESTART_HINT: &str = "the database must be restarted and recovered";

impl XlogError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        XlogError { kind, message: message.into(), detail: None, hint: None }
    }
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn sqlstate(&self) -> &'static str {
        self.kind.sqlstate()
    }

    /// `what` failed on `file` with `err` (`could not fsync file "wal/...": Input/output error`);
    /// ENOSPC becomes [`ErrorKind::DiskFull`].
    pub fn io(what: &str, err: &io::Error) -> Self {
        let kind = if is_enospc(err) { ErrorKind::DiskFull } else { ErrorKind::Io };
        XlogError::new(kind, format!("{what}: {}", os_message(err)))
    }

    /// The error every operation returns once the WAL is broken, quoting the original failure.
    pub fn broken(cause: &XlogError) -> Self {
        XlogError::new(
            ErrorKind::Broken,
            format!("WAL is unusable after an earlier failure ({}); {RESTART_HINT}", cause.message),
        )
    }

    pub fn corrupted(message: impl Into<String>) -> Self {
        XlogError::new(ErrorKind::DataCorrupted, message)
    }
}

/// True for "No space left on device".
pub fn is_enospc(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::StorageFull || err.raw_os_error() == Some(28)
}

/// The OS message without Rust's ` (os error N)` suffix, as PostgreSQL's `%m` prints it.
pub fn os_message(err: &io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(pos) if text.ends_with(')') => text[..pos].to_string(),
        _ => text,
    }
}
