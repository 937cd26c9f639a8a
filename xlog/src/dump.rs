//! Human-readable records, as pg_waldump prints them.
//!
//! [`describe_record`] describes xlog's own records. Other resource managers (the envelope's
//! transaction records, MOT's redo) register a name and a describe callback in an
//! [`RmgrTable`]; [`dump`] and [`dump_with`] then print lines like
//!
//! ```text
//! rmgr: XLOG        len (rec/tot):     64/    64, tx:          0, lsn: 0/01000000, prev 0/00000000, desc: CHECKPOINT_SHUTDOWN redo 0/1000000; tli 1; next xid 1; shutdown
//! ```

use std::path::Path;

use crate::control::ControlFile;
use crate::error::Result;
use crate::lsn::Lsn;
use crate::reader::WalReader;
use crate::record::{CheckpointPayload, Record, RM_XLOG, XLOG_CHECKPOINT_ONLINE, XLOG_CHECKPOINT_SHUTDOWN, XLOG_NOOP};

/// Describes one of xlog's own (rmgr 0) records.
pub fn describe_record(rec: &Record) -> String {
    if rec.rmgr != RM_XLOG {
        return format!("UNKNOWN rmgr {} info 0x{:02X}; {} bytes", rec.rmgr, rec.info, rec.payload.len());
    }
    match rec.info {
        XLOG_CHECKPOINT_SHUTDOWN | XLOG_CHECKPOINT_ONLINE => {
            let (name, kind) = if rec.info == XLOG_CHECKPOINT_SHUTDOWN {
                ("CHECKPOINT_SHUTDOWN", "shutdown")
            } else {
                ("CHECKPOINT_ONLINE", "online")
            };
            match CheckpointPayload::decode(&rec.payload) {
                Some(c) => format!("{name} redo {}; tli {}; next xid {}; {kind}", c.redo, c.timeline, c.next_xid),
                None => format!("{name} (invalid payload of {} bytes)", rec.payload.len()),
            }
        }
        XLOG_NOOP => format!("NOOP {} bytes", rec.payload.len()),
        other => format!("UNKNOWN (info 0x{other:02X})"),
    }
}

type Describe = Box<dyn Fn(&Record) -> String + Send + Sync>;

/// Resource manager names and describe callbacks. XLOG (0) is registered from the start.
pub struct RmgrTable {
    entries: Vec<Option<(String, Describe)>>,
}

impl Default for RmgrTable {
    fn default() -> Self {
        let mut t = RmgrTable { entries: (0..=u8::MAX).map(|_| None).collect() };
        t.register(RM_XLOG, "XLOG", describe_record);
        t
    }
}

impl std::fmt::Debug for RmgrTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.entries.iter().flatten().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("RmgrTable").field("rmgrs", &names).finish()
    }
}

impl RmgrTable {
    pub fn new() -> Self {
        RmgrTable::default()
    }

    /// Registers (or replaces) resource manager `rmgr`, e.g. `(1, "Transaction", describe_xact)`.
    pub fn register(&mut self, rmgr: u8, name: &str, describe: impl Fn(&Record) -> String + Send + Sync + 'static) {
        self.entries[rmgr as usize] = Some((name.to_string(), Box::new(describe)));
    }

    /// One pg_waldump line for `rec`.
    pub fn format_record(&self, rec: &Record) -> String {
        let (name, desc) = match &self.entries[rec.rmgr as usize] {
            Some((name, describe)) => (name.clone(), describe(rec)),
            None => (format!("{}", rec.rmgr), format!("info 0x{:02X}; {} bytes", rec.info, rec.payload.len())),
        };
        let len = rec.total_len();
        format!(
            "rmgr: {name:<11} len (rec/tot): {len:>6}/{len:>6}, tx: {:>10}, lsn: {}, prev {}, desc: {desc}",
            rec.xid,
            rec.lsn.padded(),
            rec.prev.padded()
        )
    }
}

/// Lines for every record of `datadir` from the redo LSN of the last checkpoint, with only
/// xlog's own records described.
pub fn dump(datadir: &Path) -> Result<impl Iterator<Item = Result<String>>> {
    dump_with(datadir, None, RmgrTable::default())
}

/// Lines for every record from `from` (default: the control file's redo LSN, the oldest LSN
/// known to be a record start), described by `table`. Stops at the first invalid record.
pub fn dump_with(datadir: &Path, from: Option<Lsn>, table: RmgrTable) -> Result<impl Iterator<Item = Result<String>>> {
    let from = match from {
        Some(l) => l,
        None => ControlFile::read(datadir)?.redo,
    };
    let reader = WalReader::open(datadir, from)?;
    Ok(reader.map(move |r| r.map(|rec| table.format_record(&rec))))
}
