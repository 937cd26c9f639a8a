//! Options of file_fdw and their validation, with PostgreSQL 15's rules and messages.
//!
//! Two entry points mirror PostgreSQL's two moments:
//! - [`validate`] is the validator function, run at CREATE/ALTER of each catalog object with
//!   that object's options alone (`file_fdw_validator`);
//! - [`ScanOptions::from_table`] runs when a scan or ANALYZE opens the file, with the options of
//!   the wrapper, server and table together plus the column options, and applies the checks
//!   that need all of them (`COPY force not null available only in CSV mode`).
//!
//! Both go through [`CopyOptions::process`], our reading of COPY's option processing (same
//! checks, same order, same wording and SQLSTATEs). Simplifications: `program` is recognised
//! but refused (we never run shell commands), and the binary format is validated like
//! PostgreSQL does and then refused.

use fdw_api::{err, FdwError, FdwResult, OptionTarget, Options, SqlState, TableDesc};

use crate::encoding::Encoding;

/// Options valid on a foreign table.
const TABLE_OPTIONS: &[&str] =
    &["filename", "program", "format", "header", "delimiter", "quote", "escape", "null", "encoding"];
/// Options valid on a column of a foreign table.
const COLUMN_OPTIONS: &[&str] = &["force_not_null", "force_null"];

/// The file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Csv,
    Binary,
}

/// The `header` option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Header {
    None,
    /// Skip the first line.
    Skip,
    /// Check that the first line names the table's columns in order.
    Match,
}

/// The format options after COPY's processing, with defaults filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyOptions {
    pub format: Format,
    pub header: Header,
    pub delimiter: u8,
    pub quote: u8,
    pub escape: u8,
    /// The NULL marker (`\N` in text, empty in CSV by default).
    pub null: Vec<u8>,
    pub encoding: Encoding,
}

fn conflicting() -> FdwError {
    err!(SYNTAX_ERROR, "conflicting or redundant options")
}

/// PostgreSQL's `defGetBoolean` for a string value: true/false/on/off, any case.
fn parse_bool(key: &str, value: &str) -> FdwResult<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "on" => Ok(true),
        "false" | "off" => Ok(false),
        _ => Err(err!(SYNTAX_ERROR, "{} requires a Boolean value", key)),
    }
}

fn parse_header(value: &str) -> FdwResult<Header> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "on" => Ok(Header::Skip),
        "false" | "off" => Ok(Header::None),
        "match" => Ok(Header::Match),
        _ => Err(err!(SYNTAX_ERROR, "header requires a Boolean value or \"match\"")),
    }
}

impl CopyOptions {
    /// COPY FROM's option processing over format options (no filename, program or column
    /// options): every check PostgreSQL makes, in its order.
    pub fn process<'a>(options: impl IntoIterator<Item = (&'a str, &'a str)>) -> FdwResult<CopyOptions> {
        let mut format: Option<Format> = None;
        let mut header: Option<Header> = None;
        let (mut delimiter, mut quote, mut escape, mut null, mut encoding) = (None, None, None, None, None);
        for (key, value) in options {
            match key {
                "format" => {
                    if format.is_some() {
                        return Err(conflicting());
                    }
                    format = Some(match value {
                        "text" => Format::Text,
                        "csv" => Format::Csv,
                        "binary" => Format::Binary,
                        _ => return Err(err!(INVALID_PARAMETER_VALUE, "COPY format \"{}\" not recognized", value)),
                    });
                }
                "header" => {
                    if header.is_some() {
                        return Err(conflicting());
                    }
                    header = Some(parse_header(value)?);
                }
                "delimiter" | "quote" | "escape" | "null" => {
                    let slot = match key {
                        "delimiter" => &mut delimiter,
                        "quote" => &mut quote,
                        "escape" => &mut escape,
                        _ => &mut null,
                    };
                    if slot.is_some() {
                        return Err(conflicting());
                    }
                    *slot = Some(value);
                }
                "encoding" => {
                    if encoding.is_some() {
                        return Err(conflicting());
                    }
                    encoding = Some(Encoding::lookup(value)?);
                }
                _ => return Err(err!(SYNTAX_ERROR, "option \"{}\" not recognized", key)),
            }
        }
        let format = format.unwrap_or(Format::Text);
        let csv = format == Format::Csv;
        if format == Format::Binary && delimiter.is_some() {
            return Err(err!(SYNTAX_ERROR, "cannot specify DELIMITER in BINARY mode"));
        }
        if format == Format::Binary && null.is_some() {
            return Err(err!(SYNTAX_ERROR, "cannot specify NULL in BINARY mode"));
        }
        let delimiter = delimiter.unwrap_or(if csv { "," } else { "\t" });
        let null = null.unwrap_or(if csv { "" } else { "\\N" });
        if delimiter.len() != 1 {
            return Err(err!(FEATURE_NOT_SUPPORTED, "COPY delimiter must be a single one-byte character"));
        }
        let delim = delimiter.as_bytes()[0];
        if delim == b'\r' || delim == b'\n' {
            return Err(err!(INVALID_PARAMETER_VALUE, "COPY delimiter cannot be newline or carriage return"));
        }
        if null.contains(['\r', '\n']) {
            return Err(err!(
                INVALID_PARAMETER_VALUE,
                "COPY null representation cannot use newline or carriage return"
            ));
        }
        // In text mode a backslash, a period, a lower-case letter or a digit as delimiter
        // would collide with backslash escapes.
        if !csv && (b"\\.".contains(&delim) || delim.is_ascii_lowercase() || delim.is_ascii_digit()) {
            return Err(err!(INVALID_PARAMETER_VALUE, "COPY delimiter cannot be \"{}\"", delimiter));
        }
        if format == Format::Binary && header.is_some_and(|h| h != Header::None) {
            return Err(err!(FEATURE_NOT_SUPPORTED, "cannot specify HEADER in BINARY mode"));
        }
        if !csv && quote.is_some() {
            return Err(err!(FEATURE_NOT_SUPPORTED, "COPY quote available only in CSV mode"));
        }
        let quote = quote.unwrap_or("\"");
        if csv && quote.len() != 1 {
            return Err(err!(FEATURE_NOT_SUPPORTED, "COPY quote must be a single one-byte character"));
        }
        if csv && delim == quote.as_bytes()[0] {
            return Err(err!(INVALID_PARAMETER_VALUE, "COPY delimiter and quote must be different"));
        }
        if !csv && escape.is_some() {
            return Err(err!(FEATURE_NOT_SUPPORTED, "COPY escape available only in CSV mode"));
        }
        let escape = escape.unwrap_or(quote);
        if csv && escape.len() != 1 {
            return Err(err!(FEATURE_NOT_SUPPORTED, "COPY escape must be a single one-byte character"));
        }
        if null.as_bytes().contains(&delim) {
            return Err(err!(INVALID_PARAMETER_VALUE, "COPY delimiter must not appear in the NULL specification"));
        }
        if csv && null.as_bytes().contains(&quote.as_bytes()[0]) {
            return Err(err!(INVALID_PARAMETER_VALUE, "CSV quote character must not appear in the NULL specification"));
        }
        Ok(CopyOptions {
            format,
            header: header.unwrap_or(Header::None),
            delimiter: delim,
            quote: quote.as_bytes().first().copied().unwrap_or(b'"'),
            escape: escape.as_bytes().first().copied().unwrap_or(b'"'),
            null: null.as_bytes().to_vec(),
            encoding: encoding.unwrap_or(Encoding::Utf8),
        })
    }
}

/// `invalid option "x"` with PostgreSQL's hint listing what the context accepts.
fn invalid_option(key: &str, valid: &[&str]) -> FdwError {
    let e = err!(FDW_INVALID_OPTION_NAME, "invalid option \"{}\"", key);
    if valid.is_empty() {
        e.with_hint("There are no valid options in this context.")
    } else {
        e.with_hint(format!("Valid options in this context are: {}", valid.join(", ")))
    }
}

fn program_unsupported() -> FdwError {
    err!(FEATURE_NOT_SUPPORTED, "file_fdw does not support the \"program\" option")
        .with_hint("Only reading a file named by the \"filename\" option is supported.")
}

fn binary_unsupported() -> FdwError {
    err!(FEATURE_NOT_SUPPORTED, "file_fdw does not support COPY format \"binary\"")
        .with_hint("Use format 'text' or 'csv'.")
}

/// The validator: checks the options of one catalog object as `file_fdw_validator` does.
pub fn validate(target: OptionTarget, options: &Options) -> FdwResult<()> {
    let valid: &[&str] = match target {
        OptionTarget::Table => TABLE_OPTIONS,
        OptionTarget::Column => COLUMN_OPTIONS,
        OptionTarget::Wrapper | OptionTarget::Server | OptionTarget::UserMapping => &[],
    };
    let mut source: Option<&str> = None;
    let mut program = false;
    let (mut force_not_null, mut force_null) = (false, false);
    let mut copy_options = Vec::new();
    for (key, value) in options.iter() {
        if !valid.contains(&key) {
            return Err(invalid_option(key, valid));
        }
        match key {
            "filename" | "program" => {
                if source.is_some() {
                    return Err(conflicting());
                }
                source = Some(value);
                program = key == "program";
            }
            "force_not_null" | "force_null" => {
                let seen = if key == "force_null" { &mut force_null } else { &mut force_not_null };
                if *seen {
                    return Err(
                        conflicting().with_hint(format!("Option \"{key}\" supplied more than once for a column."))
                    );
                }
                *seen = true;
                parse_bool(key, value)?;
            }
            _ => copy_options.push((key, value)),
        }
    }
    let copy = CopyOptions::process(copy_options)?;
    if target == OptionTarget::Table && source.is_none() {
        return Err(FdwError::new(
            SqlState("HV002"),
            "either filename or program is required for file_fdw foreign tables",
        ));
    }
    if program {
        return Err(program_unsupported());
    }
    if copy.format == Format::Binary {
        return Err(binary_unsupported());
    }
    Ok(())
}

/// Everything a scan needs from the options: the file, its format, and per column whether
/// FORCE_NOT_NULL / FORCE_NULL apply.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    pub filename: String,
    pub copy: CopyOptions,
    pub force_not_null: Vec<bool>,
    pub force_null: Vec<bool>,
}

impl ScanOptions {
    /// Gathers and checks the options of a table as `fileGetOptions` does when the file is
    /// opened (wrapper, server and table options together, then the column options).
    pub fn from_table(table: &TableDesc) -> FdwResult<ScanOptions> {
        let mut filename = None;
        let mut program = false;
        let mut copy_options = Vec::new();
        let all = table.wrapper_options.iter().chain(table.server_options.iter()).chain(table.table_options.iter());
        for (key, value) in all {
            match key {
                "filename" => filename = Some(value.to_string()),
                "program" => program = true,
                _ => copy_options.push((key, value)),
            }
        }
        let copy = CopyOptions::process(copy_options)?;
        let mut force_not_null = vec![false; table.columns.len()];
        let mut force_null = vec![false; table.columns.len()];
        for (i, column) in table.columns.iter().enumerate() {
            if let Some(v) = column.options.get("force_not_null") {
                force_not_null[i] = parse_bool("force_not_null", v)?;
            }
            if let Some(v) = column.options.get("force_null") {
                force_null[i] = parse_bool("force_null", v)?;
            }
        }
        let csv = copy.format == Format::Csv;
        if !csv && force_not_null.contains(&true) {
            return Err(err!(FEATURE_NOT_SUPPORTED, "COPY force not null available only in CSV mode"));
        }
        if !csv && force_null.contains(&true) {
            return Err(err!(FEATURE_NOT_SUPPORTED, "COPY force null available only in CSV mode"));
        }
        if program {
            return Err(program_unsupported());
        }
        let filename = filename.ok_or_else(|| {
            FdwError::new(SqlState("HV002"), "either filename or program is required for file_fdw foreign tables")
        })?;
        if copy.format == Format::Binary {
            return Err(binary_unsupported());
        }
        Ok(ScanOptions { filename, copy, force_not_null, force_null })
    }
}

/// The file name of a table, for planning and EXPLAIN (no validation).
pub fn filename(table: &TableDesc) -> Option<&str> {
    table.table_options.get("filename").or_else(|| table.option("filename"))
}
