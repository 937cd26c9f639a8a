//! Log sequence numbers and the mapping from an LSN to a segment file.
//!
//! An LSN is a byte position in the (conceptually endless) log. The log is cut into segment files of
//! `segment_size` bytes (a power of two); segment number `n` holds LSNs `[n * size, (n + 1) * size)`
//! and is named like PostgreSQL's: timeline, then the segment number split in "log id" (the high
//! 32 bits of the LSN) and segment within that log id, each as 8 hex digits.

use std::fmt;
use std::str::FromStr;

use crate::error::{ErrorKind, Result, XlogError};

/// A WAL position: the byte offset of a record (or of the end of one) in the log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

impl Lsn {
    /// "No LSN", used as the prev-link of the very first record.
    pub const INVALID: Lsn = Lsn(0);

    pub fn is_valid(self) -> bool {
        self.0 != 0
    }

    /// PostgreSQL's `%X/%08X` form, used by pg_waldump lines.
    pub fn padded(self) -> String {
        format!("{:X}/{:08X}", self.0 >> 32, self.0 & 0xffff_ffff)
    }
}

impl fmt::Display for Lsn {
    /// PostgreSQL's `X/XXXXXXXX` notation (`0/1000028`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xffff_ffff)
    }
}

impl FromStr for Lsn {
    type Err = XlogError;
    /// Parses `X/X` as `pg_lsn` input does.
    fn from_str(s: &str) -> Result<Lsn> {
        let bad =
            || XlogError::new(ErrorKind::InvalidParameter, format!("invalid input syntax for type pg_lsn: \"{s}\""));
        let (hi, lo) = s.split_once('/').ok_or_else(bad)?;
        if hi.is_empty() || lo.is_empty() || hi.len() > 8 || lo.len() > 8 {
            return Err(bad());
        }
        let hi = u64::from_str_radix(hi, 16).map_err(|_| bad())?;
        let lo = u64::from_str_radix(lo, 16).map_err(|_| bad())?;
        Ok(Lsn(hi << 32 | lo))
    }
}

/// Smallest and largest accepted segment sizes. PostgreSQL allows 1 MB..1 GB; we go down to
/// 1 kB so tests cross segment boundaries with a handful of records.
pub const MIN_SEGMENT_SIZE: u64 = 1 << 10;
pub const MAX_SEGMENT_SIZE: u64 = 1 << 30;

/// Checks a segment size: a power of two within the limits.
pub fn check_segment_size(size: u64) -> Result<()> {
    if !size.is_power_of_two() || !(MIN_SEGMENT_SIZE..=MAX_SEGMENT_SIZE).contains(&size) {
        return Err(XlogError::new(
            ErrorKind::InvalidParameter,
            format!("WAL segment size must be a power of two between 1 kB and 1 GB, got {size} bytes"),
        ));
    }
    Ok(())
}

/// File name of segment `segno` on timeline `tli` (`000000010000000000000001`).
pub fn segment_file_name(tli: u32, segno: u64, segment_size: u64) -> String {
    let per_id = 0x1_0000_0000 / segment_size;
    format!("{:08X}{:08X}{:08X}", tli, segno / per_id, segno % per_id)
}

/// Parses a segment file name back into (timeline, segno); `None` for other files.
pub fn parse_segment_file_name(name: &str, segment_size: u64) -> Option<(u32, u64)> {
    if name.len() != 24 || !name.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase()) {
        return None;
    }
    let tli = u32::from_str_radix(&name[0..8], 16).ok()?;
    let log = u64::from_str_radix(&name[8..16], 16).ok()?;
    let seg = u64::from_str_radix(&name[16..24], 16).ok()?;
    let per_id = 0x1_0000_0000 / segment_size;
    if seg >= per_id {
        return None;
    }
    Some((tli, log * per_id + seg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse() {
        assert_eq!(Lsn(0x1000028).to_string(), "0/1000028");
        assert_eq!(Lsn(0x1_0000_0028).to_string(), "1/28");
        assert_eq!(Lsn(0x1000028).padded(), "0/01000028");
        assert_eq!("0/1000028".parse::<Lsn>().unwrap(), Lsn(0x1000028));
        assert_eq!("1/28".parse::<Lsn>().unwrap(), Lsn(0x1_0000_0028));
        assert!("xyz".parse::<Lsn>().is_err());
        assert!("1/".parse::<Lsn>().is_err());
    }

    #[test]
    fn segment_names_match_postgres() {
        let mb16 = 16 << 20;
        assert_eq!(segment_file_name(1, 1, mb16), "000000010000000000000001");
        assert_eq!(segment_file_name(1, 256, mb16), "000000010000000100000000");
        assert_eq!(parse_segment_file_name("000000010000000100000000", mb16), Some((1, 256)));
        assert_eq!(parse_segment_file_name("000000010000000000000100", mb16), None);
        assert_eq!(parse_segment_file_name("xlogtemp", mb16), None);
        for segno in [0, 1, 5, 4095, 4096, 123_456] {
            let name = segment_file_name(1, segno, 1024);
            assert_eq!(parse_segment_file_name(&name, 1024), Some((1, segno)));
        }
        assert!(check_segment_size(1000).is_err());
        assert!(check_segment_size(4096).is_ok());
    }
}
