//! MOT checkpoints: writing every table's committed rows into segment files, and loading them
//! back in parallel at startup.
//!
//! Layout under the data directory:
//!
//! ```text
//! mot/control                     "MOTCTL01", checkpoint LSN, directory name, CRC32C
//! mot/chk_<LSN as 16 hex digits>/tables    "MOTTBL01", table definitions + next row id, CRC32C
//! mot/chk_<LSN>/seg_<n>           "MOTSEG01", table id, row count, {row id, row}*, CRC32C
//! ```
//!
//! A segment holds the rows of one table whose row ids fall in one range of [`SEG_ROWS`] ids,
//! so a large table is written and loaded by several threads. A checkpoint is written into
//! `chk_<LSN>.tmp`, every file fsynced, the directory renamed and fsynced, and only then does
//! the control file (replaced atomically: tmp, fsync, rename, fsync) name it; a crash at any
//! point leaves the previous checkpoint in force. Older directories are removed afterwards.
//!
//! The snapshot is fuzzy: rows are copied while transactions commit (see `durability` for why
//! replay from the redo LSN makes it consistent). Rows being inserted by a committing
//! transaction (locked and absent) are skipped: their redo record follows the redo LSN.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fdw_api::{err, ColumnDef, FdwError, FdwResult, IndexDef, Lsn, Options, TableDesc};
use parking_lot::Mutex;

use super::codec::{Dec, Enc};
use crate::engine::MotEngine;
use crate::row::ABSENT;
use crate::table::{Table, TableState};

/// Row ids per segment file.
pub const SEG_ROWS: u64 = 1 << 18;

const CONTROL_MAGIC: &[u8; 8] = b"MOTCTL01";
const TABLES_MAGIC: &[u8; 8] = b"MOTTBL01";
const SEG_MAGIC: &[u8; 8] = b"MOTSEG01";

/// What a checkpoint wrote or a recovery loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CheckpointStats {
    pub tables: usize,
    pub segments: usize,
    pub rows: u64,
    /// Bytes of segment files.
    pub bytes: u64,
    pub elapsed: Duration,
}

fn io_err(what: &str, path: &Path, e: &std::io::Error) -> FdwError {
    FdwError::io(format!("could not {what} \"{}\"", path.display()), e)
}

fn mot_dir(dir: &Path) -> PathBuf {
    dir.join("mot")
}

/// Writes `bytes` + CRC32C to `path` and fsyncs it.
fn write_file(path: &Path, mut bytes: Vec<u8>) -> FdwResult<u64> {
    let crc = crc32c::crc32c(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    let mut f = fs::File::create(path).map_err(|e| io_err("create file", path, &e))?;
    f.write_all(&bytes).map_err(|e| io_err("write to file", path, &e))?;
    f.sync_all().map_err(|e| io_err("fsync file", path, &e))?;
    Ok(bytes.len() as u64)
}

/// Reads a file written by [`write_file`], checking magic and CRC; returns the body after the magic.
fn read_file(path: &Path, magic: &[u8; 8]) -> FdwResult<Vec<u8>> {
    let mut bytes = fs::read(path).map_err(|e| io_err("read file", path, &e))?;
    let bad = || err!(DATA_CORRUPTED, "invalid MOT checkpoint file \"{}\"", path.display());
    if bytes.len() < 12 || &bytes[..8] != magic {
        return Err(bad());
    }
    let body_end = bytes.len() - 4;
    let mut crc = [0u8; 4];
    crc.copy_from_slice(&bytes[body_end..]);
    if crc32c::crc32c(&bytes[..body_end]) != u32::from_le_bytes(crc) {
        return Err(bad().with_detail("incorrect checksum"));
    }
    bytes.truncate(body_end);
    bytes.drain(..8);
    Ok(bytes)
}

fn fsync_dir(path: &Path) -> FdwResult<()> {
    let d = fs::File::open(path).map_err(|e| io_err("open directory", path, &e))?;
    d.sync_all().map_err(|e| io_err("fsync directory", path, &e))
}

/// The definition MOT needs to rebuild a table (what `Table::create` takes).
fn table_desc(t: &Table, st: &TableState) -> TableDesc {
    TableDesc {
        id: t.id,
        schema: String::new(),
        name: st.name.clone(),
        columns: st
            .columns
            .iter()
            .map(|c| ColumnDef {
                name: c.name.clone(),
                ty: c.ty.clone(),
                not_null: c.not_null,
                default: None,
                options: Options::default(),
            })
            .collect(),
        table_options: Options::default(),
        server_name: String::new(),
        server_options: Options::default(),
        wrapper_options: Options::default(),
        user_mapping_options: Options::default(),
        indexes: st
            .indexes
            .iter()
            .map(|i| IndexDef {
                name: i.name.clone(),
                table: st.name.clone(),
                columns: i.columns.clone(),
                unique: i.unique,
                primary: i.primary,
            })
            .collect(),
        stats: None,
    }
}

struct SegTask {
    table: Arc<Table>,
    state: Arc<TableState>,
    lo: u64,
    hi: u64,
}

/// Writes a checkpoint of every table as of (at least) `redo` into the data directory `dir`
/// with up to `threads` writer threads, then makes it the current one.
pub fn write(engine: &MotEngine, dir: &Path, redo: Lsn, threads: usize) -> FdwResult<CheckpointStats> {
    let start = Instant::now();
    let root = mot_dir(dir);
    fs::create_dir_all(&root).map_err(|e| io_err("create directory", &root, &e))?;
    let name = format!("chk_{:016X}", redo.0);
    let tmp = root.join(format!("{name}.tmp"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| io_err("remove directory", &tmp, &e))?;
    }
    fs::create_dir(&tmp).map_err(|e| io_err("create directory", &tmp, &e))?;

    let tables = engine.tables();
    let mut e = Enc::default();
    e.buf.extend_from_slice(TABLES_MAGIC);
    e.u32(tables.len() as u32);
    let mut tasks = Vec::new();
    for t in &tables {
        let st = t.state();
        // Read before the rows: every row id copied below is smaller.
        let next = t.next_row_id();
        e.table_desc(&table_desc(t, &st));
        e.u64(next);
        let mut lo = 0;
        while lo < next {
            tasks.push(SegTask { table: t.clone(), state: st.clone(), lo, hi: lo.saturating_add(SEG_ROWS) });
            lo = lo.saturating_add(SEG_ROWS);
        }
    }
    write_file(&tmp.join("tables"), e.buf)?;

    let stats = Mutex::new(CheckpointStats { tables: tables.len(), ..Default::default() });
    let next_task = AtomicUsize::new(0);
    let first_err: Mutex<Option<FdwError>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, tasks.len().max(1)) {
            s.spawn(|| loop {
                let i = next_task.fetch_add(1, Ordering::Relaxed);
                let Some(task) = tasks.get(i) else { return };
                if first_err.lock().is_some() {
                    return;
                }
                match write_segment(task, &tmp.join(format!("seg_{i}"))) {
                    Ok((rows, bytes)) => {
                        let mut st = stats.lock();
                        st.segments += usize::from(rows > 0);
                        st.rows += rows;
                        st.bytes += bytes;
                    }
                    Err(e) => {
                        first_err.lock().get_or_insert(e);
                        return;
                    }
                }
            });
        }
    });
    if let Some(e) = first_err.into_inner() {
        return Err(e);
    }
    fsync_dir(&tmp)?;
    let target = root.join(&name);
    if target.exists() {
        fs::remove_dir_all(&target).map_err(|e| io_err("remove directory", &target, &e))?;
    }
    fs::rename(&tmp, &target).map_err(|e| io_err("rename directory", &tmp, &e))?;
    fsync_dir(&root)?;
    write_control(&root, redo, &name)?;
    engine.durability.set_checkpoint_lsn(redo);
    // Older checkpoints are no longer named by anything.
    if let Ok(entries) = fs::read_dir(&root) {
        for entry in entries.flatten() {
            let n = entry.file_name().to_string_lossy().to_string();
            if n.starts_with("chk_") && n != name {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
    let mut st = stats.into_inner();
    st.elapsed = start.elapsed();
    Ok(st)
}

/// One segment: the present rows of `task.table` with row ids in `[lo, hi)`. Empty ranges
/// write no file.
fn write_segment(task: &SegTask, path: &Path) -> FdwResult<(u64, u64)> {
    let mut e = Enc::default();
    e.buf.extend_from_slice(SEG_MAGIC);
    e.u64(task.table.id);
    e.u64(0);
    let mut rows = 0u64;
    let (lo, hi) = (task.lo.to_be_bytes(), task.hi.to_be_bytes());
    let range = (std::ops::Bound::Included(lo.as_slice()), std::ops::Bound::Excluded(hi.as_slice()));
    for entry in task.state.heap.map.range::<[u8], _>(range) {
        let rec = entry.value();
        rec.with(|tid, data| {
            if tid & ABSENT == 0 {
                e.u64(rec.row_id);
                e.row(data);
                rows += 1;
            }
        });
    }
    if rows == 0 {
        return Ok((0, 0));
    }
    e.buf[16..24].copy_from_slice(&rows.to_le_bytes());
    let bytes = write_file(path, e.buf)?;
    Ok((rows, bytes))
}

fn write_control(root: &Path, lsn: Lsn, name: &str) -> FdwResult<()> {
    let mut e = Enc::default();
    e.buf.extend_from_slice(CONTROL_MAGIC);
    e.u64(lsn.0);
    e.str(name);
    let tmp = root.join("control.tmp");
    write_file(&tmp, e.buf)?;
    let path = root.join("control");
    fs::rename(&tmp, &path).map_err(|e| io_err("rename file", &tmp, &e))?;
    fsync_dir(root)
}

/// The current checkpoint: its LSN and directory, if any.
pub fn current(dir: &Path) -> FdwResult<Option<(Lsn, PathBuf)>> {
    let root = mot_dir(dir);
    let path = root.join("control");
    if !path.exists() {
        return Ok(None);
    }
    let body = read_file(&path, CONTROL_MAGIC)?;
    let mut d = Dec::new(&body);
    let lsn = Lsn(d.u64()?);
    let name = d.str()?.to_string();
    Ok(Some((lsn, root.join(name))))
}

/// Loads the current checkpoint of `dir` into the (empty) engine with up to `threads` loader
/// threads: the tables are recreated, then [`super::load`] loads the segments and builds the
/// heaps and indexes.
pub fn load(engine: &MotEngine, dir: &Path, threads: usize) -> FdwResult<CheckpointStats> {
    let start = Instant::now();
    let Some((lsn, chk)) = current(dir)? else { return Ok(CheckpointStats::default()) };
    let body = read_file(&chk.join("tables"), TABLES_MAGIC)?;
    let mut d = Dec::new(&body);
    let n = d.u32()? as usize;
    let mut stats = CheckpointStats { tables: n, ..Default::default() };
    for _ in 0..n {
        let desc = d.table_desc()?;
        let next = d.u64()?;
        engine.remove_table(desc.id);
        let t = Table::create(&desc)?;
        t.bump_row_id(next.saturating_sub(1));
        engine.add_table(t)?;
    }
    let segs: Vec<PathBuf> = fs::read_dir(&chk)
        .map_err(|e| io_err("read directory", &chk, &e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("seg_")))
        .collect();
    stats.segments = segs.len();
    let (rows, bytes) = super::load::load_segments(engine, segs, threads)?;
    stats.rows = rows;
    stats.bytes = bytes;
    stats.elapsed = start.elapsed();
    engine.clock.fetch_max(1, Ordering::AcqRel);
    engine.durability.set_checkpoint_lsn(lsn);
    Ok(stats)
}

/// Reads a segment file into `buf` (reusing its memory), checking magic and CRC; the body is
/// `buf[8..buf.len() - 4]`.
pub(super) fn read_segment_into(path: &Path, buf: &mut Vec<u8>) -> FdwResult<()> {
    use std::io::Read;
    buf.clear();
    let mut f = fs::File::open(path).map_err(|e| io_err("read file", path, &e))?;
    f.read_to_end(buf).map_err(|e| io_err("read file", path, &e))?;
    let bad = || err!(DATA_CORRUPTED, "invalid MOT checkpoint file \"{}\"", path.display());
    if buf.len() < 12 || &buf[..8] != SEG_MAGIC {
        return Err(bad());
    }
    let body_end = buf.len() - 4;
    let mut crc = [0u8; 4];
    crc.copy_from_slice(&buf[body_end..]);
    if crc32c::crc32c(&buf[..body_end]) != u32::from_le_bytes(crc) {
        return Err(bad().with_detail("incorrect checksum"));
    }
    Ok(())
}

/// The table id in a segment file's header (read before the file is checked as a whole).
pub(super) fn segment_table(path: &Path) -> FdwResult<u64> {
    use std::io::Read;
    let mut head = [0u8; 16];
    let mut f = fs::File::open(path).map_err(|e| io_err("read file", path, &e))?;
    f.read_exact(&mut head).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            err!(DATA_CORRUPTED, "invalid MOT checkpoint file \"{}\"", path.display())
        } else {
            io_err("read file", path, &e)
        }
    })?;
    if &head[..8] != SEG_MAGIC {
        return Err(err!(DATA_CORRUPTED, "invalid MOT checkpoint file \"{}\"", path.display()));
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&head[8..]);
    Ok(u64::from_le_bytes(id))
}
