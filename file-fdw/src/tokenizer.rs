//! Splitting the bytes of a file into records and fields, for both COPY formats.
//!
//! A record is one line of text format, or one CSV line with its quoted newlines. For each
//! record the tokenizer fills `fields` with byte spans into the buffer and flags saying
//! whether a field needs de-escaping (text backslashes, CSV quotes); the values themselves
//! are decoded later and only for the columns a query reads (see `convert`).
//!
//! Two paths produce the same spans:
//! - the fast path handles a record with no special byte (CSV quote, text backslash, carriage
//!   return): one pass sixteen bytes at a time over delimiters and newlines (SSE2
//!   compares on x86_64, the crate's one `unsafe` call; word arithmetic elsewhere);
//! - the general path is a byte-at-a-time state machine for everything else: quotes and
//!   escapes, backslash escapes, `\r\n` and `\r` line endings and their consistency checks
//!   (`unquoted carriage return found in data`), the `\.` end-of-data marker and the
//!   `unterminated CSV quoted field` error.
//!
//! The caller keeps the position of the next special byte (`next_special`) so that files
//! where special bytes are rare run almost entirely on the fast path.

use crate::options::CopyOptions;

/// The field contains CSV quotes (so it is never NULL unless FORCE_NULL applies).
pub const QUOTED: u8 = 1;
/// The raw bytes differ from the value: text backslashes or CSV quotes/escapes.
pub const ESCAPED: u8 = 2;

/// One field of the current record: `buf[start..end]` raw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Field {
    pub start: usize,
    pub end: usize,
    pub flags: u8,
}

/// The line ending of the file, fixed by its first line as in PostgreSQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eol {
    Unknown,
    Nl,
    CrNl,
    Cr,
}

/// What `next_record` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// A record `buf[start..end]` (terminator excluded); the next one starts at `next`.
    Record { end: usize, next: usize },
    /// The buffer ends inside a record: read more (only when not at end of file).
    NeedMore,
    /// No more records (end of file or the `\.` marker).
    Eof,
}

/// A format error of the file itself, reported with the record's line number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokError {
    /// Bad line ending: message and hint.
    LineEnding(&'static str, &'static str),
    /// `end-of-copy marker corrupt` and friends.
    Marker(&'static str),
    /// `unterminated CSV quoted field`; the record runs to `end`.
    Unterminated { end: usize },
}

/// A 16-byte block's matches: bit `i` of the first mask is set when `block[i] == a`, of the
/// second when `block[i] == b`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[allow(unsafe_code)]
fn block_masks(block: &[u8; 16], a: u8, b: u8) -> (u32, u32) {
    #[target_feature(enable = "sse2")]
    fn sse2(block: &[u8; 16], a: u8, b: u8) -> (u32, u32) {
        use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_movemask_epi8, _mm_set1_epi8, _mm_set_epi64x};
        // Two word reads instead of `_mm_loadu_si128`, which takes a raw pointer; the compiler
        // merges them into one 16-byte load.
        let lo = u64::from_le_bytes([block[0], block[1], block[2], block[3], block[4], block[5], block[6], block[7]]);
        let hi =
            u64::from_le_bytes([block[8], block[9], block[10], block[11], block[12], block[13], block[14], block[15]]);
        let v = _mm_set_epi64x(hi as i64, lo as i64);
        let ma = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(a as i8))) as u32;
        let mb = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8))) as u32;
        (ma, mb)
    }
    // SAFETY: SSE2 is part of the x86_64 baseline (every x86_64 CPU has it, and the target
    // enables it), so the one condition of calling a `target_feature(enable = "sse2")`
    // function holds; the function itself touches memory only through the safe reference.
    unsafe { sse2(block, a, b) }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn block_masks(block: &[u8; 16], a: u8, b: u8) -> (u32, u32) {
    block_masks_words(block, a, b)
}

/// The same masks a word at a time, for other architectures.
#[cfg(any(test, not(target_arch = "x86_64")))]
#[inline]
fn block_masks_words(block: &[u8; 16], a: u8, b: u8) -> (u32, u32) {
    let mut masks = (0u32, 0u32);
    for (half, word) in block.chunks_exact(8).enumerate() {
        let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        masks.0 |= byte_mask(zero_bytes(w ^ splat(a))) << (8 * half);
        masks.1 |= byte_mask(zero_bytes(w ^ splat(b))) << (8 * half);
    }
    masks
}

/// `b` in every byte of a word.
#[cfg(any(test, not(target_arch = "x86_64")))]
#[inline]
fn splat(b: u8) -> u64 {
    u64::from(b) * 0x0101_0101_0101_0101
}

/// The high bit of each byte of `w` that is zero, and no other bit (exact, unlike the
/// borrow-based trick, so every set bit is a match).
#[cfg(any(test, not(target_arch = "x86_64")))]
#[inline]
fn zero_bytes(w: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((w & LOW7).wrapping_add(LOW7)) | w | LOW7)
}

/// The high bits of the bytes of `m` (as `zero_bytes` sets them) gathered into 8 bits.
#[cfg(any(test, not(target_arch = "x86_64")))]
#[inline]
fn byte_mask(m: u64) -> u32 {
    ((m >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
}

/// Splits records into fields.
#[derive(Clone, Debug)]
pub struct Tokenizer {
    csv: bool,
    delim: u8,
    quote: u8,
    escape: u8,
    pub eol: Eol,
    /// Spans of the fields of the last record returned: its first `limit` fields (all of
    /// them when it has fewer, or when the general path split it).
    pub fields: Vec<Field>,
    /// How many fields the fast path records; past them it only counts delimiters, so a scan
    /// that reads the first columns of wide records skips the work for the rest.
    pub limit: usize,
    /// Number of fields of the last record returned.
    pub count: usize,
    /// Set once the `\.` marker has been seen.
    done: bool,
}

impl Tokenizer {
    pub fn new(opts: &CopyOptions) -> Tokenizer {
        Tokenizer {
            csv: opts.format == crate::options::Format::Csv,
            delim: opts.delimiter,
            quote: opts.quote,
            escape: opts.escape,
            eol: Eol::Unknown,
            fields: Vec::with_capacity(16),
            limit: usize::MAX,
            count: 0,
            done: false,
        }
    }

    /// Forget the line-ending style and the end marker (restart of a scan).
    pub fn reset(&mut self) {
        self.eol = Eol::Unknown;
        self.done = false;
    }

    /// Position of the first byte at or after `pos` that the fast path cannot handle.
    pub fn next_special(&self, buf: &[u8], pos: usize) -> usize {
        let hay = &buf[pos.min(buf.len())..];
        let found = if self.csv { memchr::memchr2(self.quote, b'\r', hay) } else { memchr::memchr2(b'\\', b'\r', hay) };
        pos + found.unwrap_or(hay.len())
    }

    /// Tokenizes the record starting at `pos`. `special` is a position at or before the next
    /// special byte after `pos` (from `next_special`); `eof` says no data follows `buf`.
    pub fn next_record(&mut self, buf: &[u8], pos: usize, special: usize, eof: bool) -> Result<Step, TokError> {
        if self.done {
            return Ok(Step::Eof);
        }
        if self.eol == Eol::Nl && special > pos {
            if let Some(step) = self.fast(buf, pos, special) {
                return Ok(step);
            }
        }
        let step = self.general(buf, pos, eof);
        self.count = self.fields.len();
        step
    }

    /// The fast path: a record free of special bytes ending with `\n` before `special`.
    #[inline]
    fn fast(&mut self, buf: &[u8], pos: usize, special: usize) -> Option<Step> {
        let hay = &buf[pos..special];
        // A CSV line `\.` is the end marker: leave it to the general path.
        if self.csv && hay.starts_with(b"\\.") {
            return None;
        }
        self.fields.clear();
        let mut start = pos;
        // Fields past the limit, counted but not recorded.
        let mut counted = 0usize;
        // Sixteen bytes at a time: one mask of delimiters and one of newlines; the delimiters
        // before the first newline end fields, the newline ends the record (records are short
        // and fields shorter, so a per-field search costs more).
        let mut blocks = hay.chunks_exact(16);
        let mut base = pos;
        for block in &mut blocks {
            let (mut delims, newlines) = block_masks(block.try_into().unwrap_or(&[0; 16]), self.delim, b'\n');
            let last = newlines.trailing_zeros();
            if newlines != 0 {
                delims &= (1u32 << last) - 1;
            }
            while delims != 0 {
                if self.fields.len() >= self.limit {
                    counted += delims.count_ones() as usize;
                    break;
                }
                let at = base + delims.trailing_zeros() as usize;
                self.fields.push(Field { start, end: at, flags: 0 });
                start = at + 1;
                delims &= delims - 1;
            }
            if newlines != 0 {
                return Some(self.end_fast_record(start, base + last as usize, counted));
            }
            base += 16;
        }
        for (k, &c) in blocks.remainder().iter().enumerate() {
            let at = base + k;
            if c == b'\n' {
                return Some(self.end_fast_record(start, at, counted));
            }
            if c == self.delim {
                if self.fields.len() >= self.limit {
                    counted += 1;
                } else {
                    self.fields.push(Field { start, end: at, flags: 0 });
                }
                start = at + 1;
            }
        }
        None
    }

    /// The fast path reached the record's newline at `at`: its last field starts at `start`.
    #[inline]
    fn end_fast_record(&mut self, start: usize, at: usize, counted: usize) -> Step {
        if self.fields.len() < self.limit {
            self.fields.push(Field { start, end: at, flags: 0 });
            self.count = self.fields.len() + counted;
        } else {
            self.count = self.fields.len() + counted + 1;
        }
        Step::Record { end: at, next: at + 1 }
    }

    /// The general path: PostgreSQL's line and attribute rules, one byte at a time.
    fn general(&mut self, buf: &[u8], pos: usize, eof: bool) -> Result<Step, TokError> {
        self.fields.clear();
        let n = buf.len();
        let mut i = pos;
        let mut start = pos;
        let mut flags = 0u8;
        let mut in_quote = false;
        if pos >= n {
            return Ok(if eof { Step::Eof } else { Step::NeedMore });
        }
        // CSV: `\.` alone on a line ends the data; anything else starting with it is data.
        if self.csv && buf[pos] == b'\\' {
            if n - pos < 4 && !eof {
                return Ok(Step::NeedMore);
            }
            if buf.get(pos + 1) == Some(&b'.') && self.marker_end(buf, pos + 2, eof)?.is_some() {
                self.done = true;
                return Ok(Step::Eof);
            }
        }
        loop {
            if i >= n {
                if !eof {
                    return Ok(Step::NeedMore);
                }
                if in_quote {
                    return Err(TokError::Unterminated { end: n });
                }
                self.fields.push(Field { start, end: n, flags });
                return Ok(Step::Record { end: n, next: n });
            }
            let c = buf[i];
            if in_quote {
                if c == self.escape && self.escape != self.quote {
                    match buf.get(i + 1) {
                        None if !eof => return Ok(Step::NeedMore),
                        Some(&next) if next == self.escape || next == self.quote => {
                            flags |= ESCAPED;
                            i += 2;
                            continue;
                        }
                        _ => {}
                    }
                } else if c == self.quote {
                    // A doubled quote inside quotes is a literal quote (escape == quote).
                    match buf.get(i + 1) {
                        None if !eof => return Ok(Step::NeedMore),
                        Some(&next) if next == self.quote && self.escape == self.quote => {
                            flags |= ESCAPED;
                            i += 2;
                            continue;
                        }
                        _ => in_quote = false,
                    }
                }
                i += 1;
                continue;
            }
            if c == self.delim {
                self.fields.push(Field { start, end: i, flags });
                i += 1;
                start = i;
                flags = 0;
                continue;
            }
            match c {
                b'\n' => {
                    if matches!(self.eol, Eol::Cr | Eol::CrNl) {
                        return Err(self.newline_error());
                    }
                    self.eol = Eol::Nl;
                    self.fields.push(Field { start, end: i, flags });
                    return Ok(Step::Record { end: i, next: i + 1 });
                }
                b'\r' => {
                    let next = match self.eol {
                        Eol::Nl => return Err(self.return_error()),
                        Eol::Cr => i + 1,
                        Eol::Unknown | Eol::CrNl => match buf.get(i + 1) {
                            None if !eof => return Ok(Step::NeedMore),
                            Some(b'\n') => {
                                self.eol = Eol::CrNl;
                                i + 2
                            }
                            _ if self.eol == Eol::CrNl => return Err(self.return_error()),
                            _ => {
                                self.eol = Eol::Cr;
                                i + 1
                            }
                        },
                    };
                    self.fields.push(Field { start, end: i, flags });
                    return Ok(Step::Record { end: i, next });
                }
                _ if self.csv && c == self.quote => {
                    in_quote = true;
                    flags |= QUOTED | ESCAPED;
                    i += 1;
                }
                b'\\' if !self.csv => match buf.get(i + 1) {
                    None if !eof => return Ok(Step::NeedMore),
                    None => {
                        flags |= ESCAPED;
                        i += 1;
                    }
                    Some(b'.') => match self.marker_end(buf, i + 2, eof)? {
                        None => return Ok(Step::NeedMore),
                        Some(_) => {
                            self.done = true;
                            if i == pos {
                                return Ok(Step::Eof);
                            }
                            self.fields.push(Field { start, end: i, flags });
                            return Ok(Step::Record { end: i, next: n });
                        }
                    },
                    Some(_) => {
                        flags |= ESCAPED;
                        i += 2;
                    }
                },
                _ => i += 1,
            }
        }
    }

    /// Checks what follows a `\.` (at `at`): `Some(())` when a line end in the file's style
    /// (or the end of the file) follows, so the marker ends the data; `None` when more bytes
    /// are needed, or, in CSV, when it is not a marker after all (then it is plain data). In
    /// text format a malformed marker is an error, as in PostgreSQL.
    fn marker_end(&self, buf: &[u8], at: usize, eof: bool) -> Result<Option<()>, TokError> {
        let rest = &buf[at.min(buf.len())..];
        let need = if self.eol == Eol::CrNl { 2 } else { 1 };
        if rest.len() < need && !eof {
            return Ok(None);
        }
        let fail = |msg: &'static str| if self.csv { Ok(None) } else { Err(TokError::Marker(msg)) };
        if rest.is_empty() {
            return Ok(Some(()));
        }
        let ok = match self.eol {
            Eol::Unknown => rest[0] == b'\n' || rest[0] == b'\r',
            Eol::Nl => rest[0] == b'\n',
            Eol::Cr => rest[0] == b'\r',
            Eol::CrNl => rest.starts_with(b"\r\n"),
        };
        if ok {
            return Ok(Some(()));
        }
        if rest[0] != b'\n' && rest[0] != b'\r' {
            return fail("end-of-copy marker corrupt");
        }
        fail("end-of-copy marker does not match previous newline style")
    }

    fn return_error(&self) -> TokError {
        if self.csv {
            TokError::LineEnding(
                "unquoted carriage return found in data",
                "Use quoted CSV field to represent carriage return.",
            )
        } else {
            TokError::LineEnding("literal carriage return found in data", "Use \"\\r\" to represent carriage return.")
        }
    }

    fn newline_error(&self) -> TokError {
        if self.csv {
            TokError::LineEnding("unquoted newline found in data", "Use quoted CSV field to represent newline.")
        } else {
            TokError::LineEnding("literal newline found in data", "Use \"\\n\" to represent newline.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::CopyOptions;

    fn tokenizer(csv: bool) -> Tokenizer {
        let format = if csv { "csv" } else { "text" };
        let mut t = Tokenizer::new(&CopyOptions::process([("format", format)]).unwrap());
        t.eol = Eol::Nl;
        t
    }

    /// The fast and the general path agree on records without special bytes.
    /// Splits `data` record by record with `fast` (its fast path offered the whole rest) and
    /// `general` (no special byte known, so the general path), checking that both agree.
    /// Returns the records split and the position after the last.
    fn split_both_ways(fast: &mut Tokenizer, general: &mut Tokenizer, data: &[u8]) -> (usize, usize) {
        let (mut pos, mut records) = (0, 0);
        while pos < data.len() {
            let f = fast.next_record(data, pos, data.len(), false).unwrap();
            let g = general.next_record(data, pos, pos, false).unwrap();
            assert_eq!(f, g);
            assert_eq!(fast.fields, general.fields);
            let Step::Record { next, .. } = f else { panic!("expected a record, got {f:?}") };
            pos = next;
            records += 1;
        }
        (records, pos)
    }

    #[test]
    fn fast_and_general_paths_agree() {
        for (csv, data) in [(true, &b"a,,bc\n\n1,2\n"[..]), (false, &b"a\t\tbc\n\n1\t2\n"[..])] {
            let (mut fast, mut general) = (tokenizer(csv), tokenizer(csv));
            let (_, pos) = split_both_ways(&mut fast, &mut general, data);
            assert_eq!(fast.next_record(data, pos, pos, false).unwrap(), Step::NeedMore);
            assert_eq!(fast.next_record(data, pos, pos, true).unwrap(), Step::Eof);
        }
    }

    /// Records longer than a word, fields straddling word boundaries, bytes with the high bit
    /// set next to delimiters: the word-at-a-time split matches the byte-at-a-time one.
    #[test]
    fn fast_path_splits_long_records_like_the_general_path() {
        let data = "1|155190|7706|1|17|21168.23|0.04|0.02|N|O|1996-03-13|1996-02-12|TRUCK|egular courts\n\
                    ||é|ü|0123456789abcdef|x|\n7|\n|||||||||||||||||||||\n"
            .as_bytes();
        let opts = CopyOptions::process([("format", "text"), ("delimiter", "|")]).unwrap();
        let (mut fast, mut general) = (Tokenizer::new(&opts), Tokenizer::new(&opts));
        fast.eol = Eol::Nl;
        general.eol = Eol::Nl;
        assert_eq!(split_both_ways(&mut fast, &mut general, data).0, 4);
        // A record cut by the end of the data (no newline yet) is not taken by the fast path.
        assert_eq!(fast.fast(b"abc|defghijkl|mn", 0, 16), None);
    }

    /// With a field limit the fast path records the first fields only and counts the others:
    /// the same spans as far as they go, the same count.
    #[test]
    fn field_limits_record_the_first_fields_and_count_the_rest() {
        let data = "1|155190|7706|1|17|21168.23|0.04|0.02|N|O|1996-03-13|1996-02-12|TRUCK|egular courts\n\
                    ||é|ü|0123456789abcdef|x|\n7|\n\n|||||||||||||||||||||||||||||||||||||\nab\n"
            .as_bytes();
        let opts = CopyOptions::process([("format", "text"), ("delimiter", "|")]).unwrap();
        for limit in [0, 1, 2, 3, 7, 14, 15, 40] {
            let (mut fast, mut general) = (Tokenizer::new(&opts), Tokenizer::new(&opts));
            fast.eol = Eol::Nl;
            general.eol = Eol::Nl;
            fast.limit = limit;
            let mut pos = 0;
            while pos < data.len() {
                let f = fast.next_record(data, pos, data.len(), false).unwrap();
                let g = general.next_record(data, pos, pos, false).unwrap();
                assert_eq!(f, g, "limit {limit} at {pos}");
                assert_eq!(fast.count, general.fields.len(), "limit {limit} at {pos}");
                assert_eq!(general.count, general.fields.len());
                let n = general.fields.len().min(limit);
                assert_eq!(fast.fields, general.fields[..n], "limit {limit} at {pos}");
                let Step::Record { next, .. } = f else { panic!("expected a record, got {f:?}") };
                pos = next;
            }
        }
    }

    #[test]
    fn block_masks_mark_exactly_the_matching_bytes() {
        let blocks: [[u8; 16]; 4] = [
            *b"a|b|\n|||xyz\n\n\n|\n",
            [0; 16],
            [b'|'; 16],
            [0x7c, 0xfc, 0x0a, 0x8a, 0x7d, 0x7b, 0x0b, 0x09, 0x7c, 0x00, 0xff, 0x0a, 0x80, 0x7c, 0x0a, 0x7c],
        ];
        for block in blocks {
            let want = |b: u8| (0..16).filter(|&i| block[i] == b).fold(0u32, |m, i| m | 1 << i);
            assert_eq!(block_masks(&block, b'|', b'\n'), (want(b'|'), want(b'\n')), "{block:?}");
            assert_eq!(block_masks_words(&block, b'|', b'\n'), (want(b'|'), want(b'\n')), "{block:?}");
        }
    }

    #[test]
    fn zero_bytes_marks_exactly_the_zero_bytes() {
        for w in [0u64, u64::MAX, 0x0100_ff00_8000_0001, 0x8080_8080_8080_8080, 0x0001_0000_0100_0001] {
            let want = (0..8).filter(|i| (w >> (8 * i)) & 0xff == 0).fold(0u64, |m, i| m | 0x80 << (8 * i));
            assert_eq!(zero_bytes(w), want, "{w:#x}");
        }
    }

    #[test]
    fn incomplete_records_ask_for_more() {
        let mut t = tokenizer(true);
        assert_eq!(t.next_record(b"1,\"a\nb", 0, 0, false).unwrap(), Step::NeedMore);
        assert_eq!(t.next_record(b"1,\"a\"", 0, 0, false).unwrap(), Step::NeedMore);
        assert_eq!(t.next_record(b"1,\"a\"", 0, 0, true).unwrap(), Step::Record { end: 5, next: 5 });
        assert_eq!(t.fields[1], Field { start: 2, end: 5, flags: QUOTED | ESCAPED });
        assert_eq!(t.next_record(b"1,\"a", 0, 0, true).unwrap_err(), TokError::Unterminated { end: 4 });
    }
}
