//! Reading a file (or a byte range of it) as a sequence of records.
//!
//! The file is read in large blocks (`CHUNK`, a few MB) into one growing buffer; a record cut
//! by the end of a block is moved to the front before the next read, so the tokenizer always
//! sees whole records as plain byte slices and values are parsed straight from the buffer
//! without a copy. Encoding is handled per block: UTF-8 (and SQL_ASCII) is validated with the
//! standard library's fast validator and the offset of the first bad byte is remembered, so
//! the error is raised, with its line number, only when the scan reaches the record holding
//! it (rows before it are returned, as PostgreSQL does); LATIN1 is converted to UTF-8 as it is
//! read.
//!
//! A reader may be limited to records that start inside a byte range `[start, stop)` of the
//! file (parallel scans); the record that starts before `stop` is read to its end.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use crate::context::{self, Ctx, ScanError};
use crate::encoding::{self, Encoding};
use crate::options::CopyOptions;
use crate::tokenizer::{Field, Step, TokError, Tokenizer};
use fdw_api::FdwError;

/// Bytes read per block.
pub const CHUNK: usize = 2 << 20;

/// One record: `buf[start..end]` without its line terminator, split into `fields`.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    pub buf: &'a [u8],
    pub start: usize,
    pub end: usize,
    pub fields: &'a [Field],
    /// Number of fields of the record (`fields` may hold only the first ones: see
    /// [`RecordReader::set_field_limit`]).
    pub nfields: usize,
    /// Line number within the range being read, from 1.
    pub line: u64,
}

impl Record<'_> {
    /// The raw text of the record, for a context line.
    pub fn text(&self) -> String {
        context::lossy(&self.buf[self.start..self.end])
    }

    /// Raw bytes of field `i`.
    pub fn raw(&self, i: usize) -> &[u8] {
        let f = self.fields[i];
        &self.buf[f.start..f.end]
    }
}

/// Opens a file for reading as COPY FROM does (errors with COPY's wording).
pub fn open(path: &str) -> Result<File, FdwError> {
    let file = File::open(path).map_err(|e| context::open_error(path, &e))?;
    match file.metadata() {
        Ok(m) if m.is_dir() => Err(context::is_directory(path)),
        _ => Ok(file),
    }
}

/// Reads records one at a time.
pub struct RecordReader {
    file: File,
    encoding: Encoding,
    buf: Vec<u8>,
    /// LATIN1 bytes before conversion.
    raw: Vec<u8>,
    /// Start of the next record in `buf`.
    pos: usize,
    /// File offset of `buf[0]` (meaningful for UTF-8 files, which are not converted).
    base: u64,
    /// `buf[..validated]` is known to be valid UTF-8 (or up to `bad`).
    validated: usize,
    /// Offset in `buf` of the first invalid byte sequence.
    bad: Option<usize>,
    eof: bool,
    /// Offset in `buf` of the next byte the tokenizer's fast path cannot handle; stale when
    /// below `pos`.
    special: usize,
    stop: Option<u64>,
    tok: Tokenizer,
    /// Records returned so far (the line number of the last one).
    pub line: u64,
}

impl RecordReader {
    /// A reader of the whole file, or of the records starting in `[start, stop)`.
    pub fn new(file: File, opts: &CopyOptions, start: u64, stop: Option<u64>) -> Result<RecordReader, FdwError> {
        let mut reader = RecordReader {
            file,
            encoding: opts.encoding,
            buf: Vec::with_capacity(CHUNK + 4096),
            raw: Vec::new(),
            pos: 0,
            base: start,
            validated: 0,
            bad: None,
            eof: false,
            special: 0,
            stop,
            tok: Tokenizer::new(opts),
            line: 0,
        };
        if start > 0 {
            reader.file.seek(SeekFrom::Start(start)).map_err(|e| context::read_error(&e))?;
        }
        Ok(reader)
    }

    /// Splits out only the first `n` fields of each record where it can (the others are
    /// counted, for the field-count check): a scan reading its first columns sets this.
    pub fn set_field_limit(&mut self, n: usize) {
        self.tok.limit = n;
    }

    /// Back to the start of the range.
    pub fn restart(&mut self, start: u64) -> Result<(), FdwError> {
        self.file.seek(SeekFrom::Start(start)).map_err(|e| context::read_error(&e))?;
        self.buf.clear();
        self.pos = 0;
        self.base = start;
        self.validated = 0;
        self.bad = None;
        self.eof = false;
        self.special = 0;
        self.tok.reset();
        self.line = 0;
        Ok(())
    }

    /// File offset where the next record starts.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// The next record, or `None` at the end of the data (or of the range).
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, ScanError> {
        loop {
            if let Some(stop) = self.stop {
                if self.offset() >= stop {
                    return Ok(None);
                }
            }
            if self.special < self.pos {
                self.special = self.tok.next_special(&self.buf, self.pos);
            }
            let limit = self.bad.map_or(self.special, |b| b.min(self.special));
            match self.tok.next_record(&self.buf, self.pos, limit, self.eof) {
                Ok(Step::Record { end, next }) => {
                    self.line += 1;
                    if let Some(b) = self.bad {
                        if b < next.max(end + 1) {
                            return Err(self.encoding_error(b));
                        }
                    }
                    let start = self.pos;
                    self.pos = next;
                    return Ok(Some(Record {
                        buf: &self.buf,
                        start,
                        end,
                        fields: &self.tok.fields,
                        nfields: self.tok.count,
                        line: self.line,
                    }));
                }
                Ok(Step::NeedMore) => self.fill()?,
                Ok(Step::Eof) => {
                    if let Some(b) = self.bad {
                        if b >= self.pos && b < self.buf.len() {
                            self.line += 1;
                            return Err(self.encoding_error(b));
                        }
                    }
                    return Ok(None);
                }
                Err(e) => {
                    self.line += 1;
                    return Err(self.format_error(e));
                }
            }
        }
    }

    fn encoding_error(&self, at: usize) -> ScanError {
        ScanError { error: encoding::invalid_utf8(&self.buf[at..]), line: self.line, ctx: Ctx::Line }
    }

    fn format_error(&self, e: TokError) -> ScanError {
        let (error, ctx) = match e {
            TokError::LineEnding(msg, hint) => {
                (fdw_api::err!(BAD_COPY_FILE_FORMAT, "{}", msg).with_hint(hint), Ctx::Line)
            }
            TokError::Marker(msg) => (fdw_api::err!(BAD_COPY_FILE_FORMAT, "{}", msg), Ctx::Line),
            TokError::Unterminated { end } => (
                fdw_api::err!(BAD_COPY_FILE_FORMAT, "unterminated CSV quoted field"),
                Ctx::LineText(context::lossy(&self.buf[self.pos..end])),
            ),
        };
        ScanError { error, line: self.line, ctx }
    }

    /// Moves the unread tail to the front and reads the next block.
    fn fill(&mut self) -> Result<(), ScanError> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.base += self.pos as u64;
            self.validated -= self.pos.min(self.validated);
            self.bad = self.bad.map(|b| b - self.pos);
            self.pos = 0;
        }
        self.special = 0;
        let n = match self.encoding {
            Encoding::Latin1 => {
                self.raw.resize(CHUNK, 0);
                let n = read_some(&mut self.file, &mut self.raw)?;
                encoding::latin1_to_utf8(&self.raw[..n], &mut self.buf);
                self.validated = self.buf.len();
                n
            }
            Encoding::Utf8 | Encoding::SqlAscii => {
                let len = self.buf.len();
                self.buf.resize(len + CHUNK, 0);
                let n = read_some(&mut self.file, &mut self.buf[len..])?;
                self.buf.truncate(len + n);
                n
            }
        };
        if n == 0 {
            self.eof = true;
        }
        self.validate();
        Ok(())
    }

    /// Validates the new bytes as UTF-8, remembering the first bad sequence.
    fn validate(&mut self) {
        if self.bad.is_some() || self.validated >= self.buf.len() {
            return;
        }
        match std::str::from_utf8(&self.buf[self.validated..]) {
            Ok(_) => self.validated = self.buf.len(),
            Err(e) => {
                let at = self.validated + e.valid_up_to();
                if e.error_len().is_none() && !self.eof {
                    // A character cut by the end of the block: finish it after the next read.
                    self.validated = at;
                } else {
                    self.bad = Some(at);
                    self.validated = self.buf.len();
                }
            }
        }
    }
}

/// One `read`, retried on interruption.
fn read_some(file: &mut File, out: &mut [u8]) -> Result<usize, ScanError> {
    loop {
        match file.read(out) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ScanError::plain(context::read_error(&e))),
        }
    }
}
