//! The on-disk record format.
//!
//! Every record is a 32-byte header followed by its payload, and starts at an 8-byte aligned LSN
//! (the gap up to the next multiple of 8 is zero padding):
//!
//! ```text
//! offset  size  field
//!      0     4  tot_len   header + payload length, without padding (u32 LE)
//!      4     4  crc       CRC32C, see below
//!      8     8  xid       transaction id, 0 for none
//!     16     8  prev      LSN of the previous record (0 for the first)
//!     24     1  rmgr      resource manager id (0 = XLOG itself)
//!     25     1  info      flags owned by the resource manager
//!     26     6  reserved  zero
//! ```
//!
//! The CRC covers, in this order, the payload, the header without the crc field, and the LSN at
//! which the record starts. Mixing the LSN in (PostgreSQL gets the same protection from its page
//! headers' `xlp_pageaddr`) means stale bytes of a recycled segment can never pass for a record at
//! their new position, so recycled segments need no zeroing.

use crate::lsn::Lsn;

pub const HEADER_LEN: usize = 32;
/// Records start at multiples of this.
pub const ALIGN: u64 = 8;
/// Largest payload accepted by `insert`. Bounded so that recovery's search for valid records after
/// a damaged one (see `recovery.rs`) has a bounded window.
pub const MAX_PAYLOAD_LEN: usize = 16 << 20;
/// Largest `tot_len` of a valid record.
pub const MAX_RECORD_LEN: u64 = (HEADER_LEN + MAX_PAYLOAD_LEN) as u64;

/// Resource manager id of the WAL itself (checkpoints, no-ops).
pub const RM_XLOG: u8 = 0;
/// XLOG info values (PostgreSQL's numbering for the checkpoints).
pub const XLOG_CHECKPOINT_SHUTDOWN: u8 = 0x00;
pub const XLOG_CHECKPOINT_ONLINE: u8 = 0x10;
pub const XLOG_NOOP: u8 = 0x20;

/// Rounds `n` up to the record alignment.
pub fn align(n: u64) -> u64 {
    (n + ALIGN - 1) & !(ALIGN - 1)
}

/// The decoded header fields of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    pub tot_len: u32,
    pub crc: u32,
    pub xid: u64,
    pub prev: Lsn,
    pub rmgr: u8,
    pub info: u8,
}

impl RecordHeader {
    /// Serializes the header of a record starting at `lsn`, computing the CRC from the payload's
    /// CRC (computed by the caller outside any lock).
    pub fn encode(
        tot_len: u32,
        xid: u64,
        prev: Lsn,
        rmgr: u8,
        info: u8,
        payload_crc: u32,
        lsn: Lsn,
    ) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0..4].copy_from_slice(&tot_len.to_le_bytes());
        h[8..16].copy_from_slice(&xid.to_le_bytes());
        h[16..24].copy_from_slice(&prev.0.to_le_bytes());
        h[24] = rmgr;
        h[25] = info;
        let crc = finish_crc(payload_crc, &h, lsn);
        h[4..8].copy_from_slice(&crc.to_le_bytes());
        h
    }

    /// Parses the fixed fields; `None` if the reserved bytes are not zero.
    pub fn decode(h: &[u8; HEADER_LEN]) -> Option<RecordHeader> {
        if h[26..32].iter().any(|&b| b != 0) {
            return None;
        }
        let u32_at = |o: usize| u32::from_le_bytes([h[o], h[o + 1], h[o + 2], h[o + 3]]);
        let u64_at = |o: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&h[o..o + 8]);
            u64::from_le_bytes(b)
        };
        Some(RecordHeader {
            tot_len: u32_at(0),
            crc: u32_at(4),
            xid: u64_at(8),
            prev: Lsn(u64_at(16)),
            rmgr: h[24],
            info: h[25],
        })
    }
}

/// Completes a record CRC: payload CRC, then the header without its crc field, then the LSN.
pub fn finish_crc(payload_crc: u32, header: &[u8; HEADER_LEN], lsn: Lsn) -> u32 {
    let crc = crc32c::crc32c_append(payload_crc, &header[0..4]);
    let crc = crc32c::crc32c_append(crc, &header[8..HEADER_LEN]);
    crc32c::crc32c_append(crc, &lsn.0.to_le_bytes())
}

/// A record read back from the WAL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Where the record starts.
    pub lsn: Lsn,
    /// Where the next record starts (after alignment padding).
    pub end: Lsn,
    pub prev: Lsn,
    pub xid: u64,
    pub rmgr: u8,
    pub info: u8,
    pub payload: Vec<u8>,
}

impl Record {
    /// Header plus payload, without padding (pg_waldump's "len").
    pub fn total_len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }
}

/// The payload of a checkpoint record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointPayload {
    /// Where replay must start.
    pub redo: Lsn,
    pub timeline: u32,
    /// The next transaction id to assign, so recovery never reuses one.
    pub next_xid: u64,
    /// Seconds since the Unix epoch.
    pub time: u64,
}

pub const CHECKPOINT_PAYLOAD_LEN: usize = 32;

impl CheckpointPayload {
    pub fn encode(&self) -> [u8; CHECKPOINT_PAYLOAD_LEN] {
        let mut b = [0u8; CHECKPOINT_PAYLOAD_LEN];
        b[0..8].copy_from_slice(&self.redo.0.to_le_bytes());
        b[8..12].copy_from_slice(&self.timeline.to_le_bytes());
        b[16..24].copy_from_slice(&self.next_xid.to_le_bytes());
        b[24..32].copy_from_slice(&self.time.to_le_bytes());
        b
    }

    pub fn decode(b: &[u8]) -> Option<CheckpointPayload> {
        if b.len() != CHECKPOINT_PAYLOAD_LEN {
            return None;
        }
        let u64_at = |o: usize| {
            let mut x = [0u8; 8];
            x.copy_from_slice(&b[o..o + 8]);
            u64::from_le_bytes(x)
        };
        Some(CheckpointPayload {
            redo: Lsn(u64_at(0)),
            timeline: u32::from_le_bytes([b[8], b[9], b[10], b[11]]),
            next_xid: u64_at(16),
            time: u64_at(24),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_crc_binds_lsn() {
        let payload = b"hello";
        let pcrc = crc32c::crc32c(payload);
        let h = RecordHeader::encode(37, 7, Lsn(0x100), 3, 0x10, pcrc, Lsn(0x200));
        let d = RecordHeader::decode(&h).unwrap();
        assert_eq!((d.tot_len, d.xid, d.prev, d.rmgr, d.info), (37, 7, Lsn(0x100), 3, 0x10));
        assert_eq!(d.crc, finish_crc(pcrc, &h, Lsn(0x200)));
        // The same bytes at another LSN do not verify.
        assert_ne!(d.crc, finish_crc(pcrc, &h, Lsn(0x208)));
        let mut bad = h;
        bad[30] = 1;
        assert!(RecordHeader::decode(&bad).is_none());
    }

    #[test]
    fn checkpoint_payload_round_trip() {
        let c = CheckpointPayload { redo: Lsn(0x1000028), timeline: 1, next_xid: 42, time: 1_700_000_000 };
        assert_eq!(CheckpointPayload::decode(&c.encode()), Some(c));
        assert_eq!(CheckpointPayload::decode(&[0u8; 3]), None);
        assert_eq!(align(33), 40);
        assert_eq!(align(40), 40);
    }
}
