//! The one error type that crosses the wrapper boundary.
//!
//! Every error carries a PostgreSQL SQLSTATE so the envelope can report it exactly as PostgreSQL
//! would (`ERROR:  relation "x" does not exist`, 42P01). Wrappers add `context` (for file-fdw:
//! `COPY t, line 3, column a: "abc"`) and optionally `detail`/`hint`.

use std::fmt;

/// A five-character SQLSTATE code (see PostgreSQL's errcodes.txt).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SqlState(pub &'static str);

impl SqlState {
    pub const SUCCESSFUL_COMPLETION: SqlState = SqlState("00000");
    pub const FEATURE_NOT_SUPPORTED: SqlState = SqlState("0A000");
    pub const CARDINALITY_VIOLATION: SqlState = SqlState("21000");
    pub const DATA_EXCEPTION: SqlState = SqlState("22000");
    pub const STRING_DATA_RIGHT_TRUNCATION: SqlState = SqlState("22001");
    pub const NUMERIC_VALUE_OUT_OF_RANGE: SqlState = SqlState("22003");
    pub const NULL_VALUE_NOT_ALLOWED: SqlState = SqlState("22004");
    pub const DATETIME_FIELD_OVERFLOW: SqlState = SqlState("22008");
    pub const INVALID_DATETIME_FORMAT: SqlState = SqlState("22007");
    pub const DIVISION_BY_ZERO: SqlState = SqlState("22012");
    pub const INVALID_PARAMETER_VALUE: SqlState = SqlState("22023");
    pub const INVALID_TEXT_REPRESENTATION: SqlState = SqlState("22P02");
    pub const BAD_COPY_FILE_FORMAT: SqlState = SqlState("22P04");
    pub const INVALID_ESCAPE_SEQUENCE: SqlState = SqlState("22025");
    pub const CHARACTER_NOT_IN_REPERTOIRE: SqlState = SqlState("22021");
    pub const INTEGRITY_CONSTRAINT_VIOLATION: SqlState = SqlState("23000");
    pub const NOT_NULL_VIOLATION: SqlState = SqlState("23502");
    pub const FOREIGN_KEY_VIOLATION: SqlState = SqlState("23503");
    pub const UNIQUE_VIOLATION: SqlState = SqlState("23505");
    pub const CHECK_VIOLATION: SqlState = SqlState("23514");
    pub const INVALID_TRANSACTION_STATE: SqlState = SqlState("25000");
    pub const ACTIVE_SQL_TRANSACTION: SqlState = SqlState("25001");
    pub const NO_ACTIVE_SQL_TRANSACTION: SqlState = SqlState("25P01");
    pub const IN_FAILED_SQL_TRANSACTION: SqlState = SqlState("25P02");
    pub const INVALID_AUTHORIZATION: SqlState = SqlState("28000");
    pub const INVALID_PASSWORD: SqlState = SqlState("28P01");
    pub const DEPENDENT_OBJECTS_STILL_EXIST: SqlState = SqlState("2BP01");
    pub const INVALID_CURSOR_NAME: SqlState = SqlState("34000");
    pub const DUPLICATE_PSTATEMENT: SqlState = SqlState("42P05");
    pub const UNDEFINED_PSTATEMENT: SqlState = SqlState("26000");
    pub const T_R_SERIALIZATION_FAILURE: SqlState = SqlState("40001");
    pub const T_R_DEADLOCK_DETECTED: SqlState = SqlState("40P01");
    pub const SYNTAX_ERROR: SqlState = SqlState("42601");
    pub const INSUFFICIENT_PRIVILEGE: SqlState = SqlState("42501");
    pub const GROUPING_ERROR: SqlState = SqlState("42803");
    pub const DATATYPE_MISMATCH: SqlState = SqlState("42804");
    pub const WRONG_OBJECT_TYPE: SqlState = SqlState("42809");
    pub const CANNOT_COERCE: SqlState = SqlState("42846");
    pub const UNDEFINED_FUNCTION: SqlState = SqlState("42883");
    pub const UNDEFINED_TABLE: SqlState = SqlState("42P01");
    pub const UNDEFINED_COLUMN: SqlState = SqlState("42703");
    pub const UNDEFINED_OBJECT: SqlState = SqlState("42704");
    pub const UNDEFINED_PARAMETER: SqlState = SqlState("42P02");
    pub const DUPLICATE_COLUMN: SqlState = SqlState("42701");
    pub const DUPLICATE_OBJECT: SqlState = SqlState("42710");
    pub const DUPLICATE_TABLE: SqlState = SqlState("42P07");
    pub const DUPLICATE_ALIAS: SqlState = SqlState("42712");
    pub const AMBIGUOUS_COLUMN: SqlState = SqlState("42702");
    pub const AMBIGUOUS_FUNCTION: SqlState = SqlState("42725");
    pub const INVALID_COLUMN_REFERENCE: SqlState = SqlState("42P10");
    pub const INVALID_TABLE_DEFINITION: SqlState = SqlState("42P16");
    pub const INVALID_OBJECT_DEFINITION: SqlState = SqlState("42P17");
    pub const INVALID_RECURSION: SqlState = SqlState("42P19");
    pub const UNDEFINED_DATABASE: SqlState = SqlState("3D000");
    pub const INVALID_SCHEMA_NAME: SqlState = SqlState("3F000");
    pub const PROGRAM_LIMIT_EXCEEDED: SqlState = SqlState("54000");
    pub const OUT_OF_MEMORY: SqlState = SqlState("53200");
    pub const DISK_FULL: SqlState = SqlState("53100");
    pub const OBJECT_IN_USE: SqlState = SqlState("55006");
    pub const LOCK_NOT_AVAILABLE: SqlState = SqlState("55P03");
    pub const QUERY_CANCELED: SqlState = SqlState("57014");
    pub const IO_ERROR: SqlState = SqlState("58030");
    pub const UNDEFINED_FILE: SqlState = SqlState("58P01");
    pub const INTERNAL_ERROR: SqlState = SqlState("XX000");
    pub const DATA_CORRUPTED: SqlState = SqlState("XX001");
    pub const FDW_ERROR: SqlState = SqlState("HV000");
    pub const PROTOCOL_VIOLATION: SqlState = SqlState("08P01");
    pub const INVALID_ROW_COUNT_IN_LIMIT: SqlState = SqlState("2201W");
    pub const INVALID_ROW_COUNT_IN_OFFSET: SqlState = SqlState("2201X");
    pub const UNDEFINED_CONFIG: SqlState = SqlState("42704");
    pub const CANT_CHANGE_RUNTIME_PARAM: SqlState = SqlState("55P02");
    pub const FDW_INVALID_OPTION_NAME: SqlState = SqlState("HV00D");
    pub const FDW_INVALID_STRING_FORMAT: SqlState = SqlState("HV00C");
    pub const FDW_OPTION_NAME_NOT_FOUND: SqlState = SqlState("HV00J");
    pub const FDW_UNABLE_TO_ESTABLISH_CONNECTION: SqlState = SqlState("08001");
    pub const CONNECTION_FAILURE: SqlState = SqlState("08006");

    pub fn code(&self) -> &'static str {
        self.0
    }
}

impl fmt::Debug for SqlState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Display for SqlState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// An error as PostgreSQL reports it: SQLSTATE, primary message, optional detail, hint and
/// context lines.
#[derive(Clone, PartialEq, Eq)]
pub struct FdwError {
    pub sqlstate: SqlState,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// Innermost context first (`COPY t, line 3, column a: "abc"`).
    pub context: Vec<String>,
}

pub type FdwResult<T> = Result<T, FdwError>;

impl FdwError {
    pub fn new(sqlstate: SqlState, message: impl Into<String>) -> Self {
        FdwError { sqlstate, message: message.into(), detail: None, hint: None, context: Vec::new() }
    }
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn with_context(mut self, context: impl Into<String>) -> Self {
        self.context.push(context.into());
        self
    }
    /// `<wrapper> does not support <callback>`: what a capability that a wrapper did not
    /// implement answers. Never a silent `Ok`.
    pub fn unsupported(wrapper: &str, callback: &str) -> Self {
        FdwError::new(SqlState::FEATURE_NOT_SUPPORTED, format!("{wrapper} does not support {callback}"))
    }
    pub fn internal(message: impl Into<String>) -> Self {
        FdwError::new(SqlState::INTERNAL_ERROR, message)
    }
    pub fn io(what: impl fmt::Display, err: &std::io::Error) -> Self {
        let state = match err.kind() {
            std::io::ErrorKind::NotFound => SqlState::UNDEFINED_FILE,
            std::io::ErrorKind::PermissionDenied => SqlState::INSUFFICIENT_PRIVILEGE,
            _ => SqlState::IO_ERROR,
        };
        FdwError::new(state, format!("{what}: {err}"))
    }
    pub fn syntax(message: impl Into<String>) -> Self {
        FdwError::new(SqlState::SYNTAX_ERROR, message)
    }
    pub fn feature(message: impl Into<String>) -> Self {
        FdwError::new(SqlState::FEATURE_NOT_SUPPORTED, message)
    }
    /// True for errors a client should retry (serialization failures and deadlocks).
    pub fn is_retryable(&self) -> bool {
        self.sqlstate == SqlState::T_R_SERIALIZATION_FAILURE || self.sqlstate == SqlState::T_R_DEADLOCK_DETECTED
    }
}

impl fmt::Debug for FdwError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.sqlstate)?;
        for c in &self.context {
            write!(f, " [{c}]")?;
        }
        Ok(())
    }
}

impl fmt::Display for FdwError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FdwError {}

/// Shorthand: `err!(UNDEFINED_TABLE, "relation \"{}\" does not exist", name)`.
#[macro_export]
macro_rules! err {
    ($state:ident, $($arg:tt)*) => {
        $crate::error::FdwError::new($crate::error::SqlState::$state, format!($($arg)*))
    };
}
