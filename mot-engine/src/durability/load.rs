//! Loading a checkpoint's segment files into the tables: the rows, every heap and every index.
//!
//! The work is split into steps that a small pool of threads takes from one scheduler:
//!
//! * **decode** a segment: read the file (into a buffer each thread reuses), check its CRC,
//!   decode its rows into records, and compute the entries of the table's heap and of each of its
//!   indexes for them: one batch per heap or index, sorted by key (the heap's and, usually, the
//!   primary key's batches are sorted already: the writer emits rows in row-id order);
//! * **insert** one batch into its heap or index. Each heap and index takes its segments' batches
//!   in row-id order, one thread at a time: consecutive insertions land next to each other (the
//!   skip list's search path stays in cache) and threads never contend on one skip list's head
//!   and counters. Memory is accounted once per batch.
//!
//! A thread takes a ready insert step before decoding another segment, so decoded batches do not
//! pile up; with two threads and one index, one thread mostly fills the heap while the other fills
//! the index, and both decode in between. Any error stops every thread at its next step.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use fdw_api::{FdwError, FdwResult};
use parking_lot::{Condvar, Mutex};

use super::checkpoint::{read_segment_into, segment_table};
use super::codec::{corrupt, Dec};
use crate::engine::MotEngine;
use crate::key::Key;
use crate::row::{data_bytes, Record, RowData, RECORD_OVERHEAD};
use crate::table::{Table, TableState};

/// Entries for one heap or index, from one segment.
type Batch = Vec<(Key, Arc<Record>)>;

struct TableLoad {
    table: Arc<Table>,
    state: Arc<TableState>,
}

struct Seg {
    path: PathBuf,
    table: usize,
}

/// A heap (`index: None`) or an index of one table, with the segments it still has to take.
struct Target {
    table: usize,
    index: Option<usize>,
    segs: Vec<usize>,
    pos: usize,
    busy: bool,
}

impl Target {
    /// Its slot in a decoded segment's batches: the heap first, then the indexes in order.
    fn slot(&self) -> usize {
        self.index.map_or(0, |i| i + 1)
    }
}

struct Sched {
    next_decode: usize,
    /// Per segment, once decoded: the batches not yet inserted, by target slot.
    decoded: Vec<Option<Vec<Option<Batch>>>>,
    targets: Vec<Target>,
    unfinished: usize,
    /// Emptied batches, kept for their memory: a segment's batches are megabytes each, and
    /// allocating them afresh would fault their pages in again for every segment.
    spare: Vec<Batch>,
    /// Per segment: how many batches it makes (the heap and each index of its table).
    nbatches: Vec<usize>,
    rows: u64,
    bytes: u64,
    error: Option<FdwError>,
}

enum Step {
    /// Segment number, with spare batches to fill.
    Decode(usize, Vec<Batch>),
    /// Target number, its table, its index (`None`: the heap), the batch.
    Insert(usize, usize, Option<usize>, Batch),
}

/// Loads the segment files `paths` into the engine's (just recreated, empty) tables with up to
/// `threads` threads. Returns the rows and the bytes of segment files loaded.
pub(super) fn load_segments(engine: &MotEngine, paths: Vec<PathBuf>, threads: usize) -> FdwResult<(u64, u64)> {
    if paths.is_empty() {
        return Ok((0, 0));
    }
    let mut tables: Vec<TableLoad> = Vec::new();
    let mut by_id: HashMap<u64, usize> = HashMap::new();
    let mut segs = Vec::with_capacity(paths.len());
    for path in paths {
        let id = segment_table(&path)?;
        let table = match by_id.get(&id) {
            Some(&i) => i,
            None => {
                let t = engine.table_by_id(id).ok_or_else(|| corrupt("checkpoint: segment of an unknown table"))?;
                tables.push(TableLoad { state: t.state(), table: t });
                by_id.insert(id, tables.len() - 1);
                tables.len() - 1
            }
        };
        segs.push(Seg { path, table });
    }
    // Row-id order within a table: the writer numbers a table's segments by ascending row ids.
    let number = |s: &Seg| -> u64 {
        s.path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("seg_"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(u64::MAX)
    };
    segs.sort_by(|a, b| (a.table, number(a), &a.path).cmp(&(b.table, number(b), &b.path)));

    let mut targets = Vec::new();
    for (ti, tl) in tables.iter().enumerate() {
        let mine: Vec<usize> = (0..segs.len()).filter(|&s| segs[s].table == ti).collect();
        targets.push(Target { table: ti, index: None, segs: mine.clone(), pos: 0, busy: false });
        for i in 0..tl.state.indexes.len() {
            targets.push(Target { table: ti, index: Some(i), segs: mine.clone(), pos: 0, busy: false });
        }
    }
    let sched = Mutex::new(Sched {
        next_decode: 0,
        decoded: (0..segs.len()).map(|_| None).collect(),
        unfinished: targets.len(),
        targets,
        spare: Vec::new(),
        nbatches: segs.iter().map(|s| 1 + tables[s.table].state.indexes.len()).collect(),
        rows: 0,
        bytes: 0,
        error: None,
    });
    let wake = Condvar::new();
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| worker(&tables, &segs, &sched, &wake));
        }
    });
    let sched = sched.into_inner();
    match sched.error {
        Some(e) => Err(e),
        None => Ok((sched.rows, sched.bytes)),
    }
}

fn worker(tables: &[TableLoad], segs: &[Seg], sched: &Mutex<Sched>, wake: &Condvar) {
    let mut buf = Vec::new();
    let mut g = sched.lock();
    loop {
        if g.error.is_some() || (g.unfinished == 0 && g.next_decode == segs.len()) {
            return;
        }
        let step = next_step(&mut g);
        let Some(step) = step else {
            wake.wait(&mut g);
            continue;
        };
        drop(g);
        match step {
            Step::Decode(i, spare) => {
                let seg = &segs[i];
                let r = decode(&seg.path, &tables[seg.table], &mut buf, spare);
                g = sched.lock();
                match r {
                    Ok((batches, rows, bytes)) => {
                        g.decoded[i] = Some(batches.into_iter().map(Some).collect());
                        g.rows += rows;
                        g.bytes += bytes;
                    }
                    Err(e) => {
                        g.error.get_or_insert(e);
                    }
                }
            }
            Step::Insert(t, table, index, mut batch) => {
                let st = &tables[table].state;
                match index {
                    None => st.heap.add_batch(batch.drain(..)),
                    Some(i) => st.indexes[i].add_batch(batch.drain(..)),
                }
                g = sched.lock();
                g.spare.push(batch);
                let target = &mut g.targets[t];
                let seg = target.segs[target.pos];
                target.pos += 1;
                target.busy = false;
                let finished = target.pos == target.segs.len();
                if finished {
                    g.unfinished -= 1;
                }
                // The segment's slot goes once every batch of it is inserted.
                if g.decoded[seg].as_ref().is_some_and(|b| b.iter().all(Option::is_none)) {
                    g.decoded[seg] = None;
                }
            }
        }
        wake.notify_all();
    }
}

/// A ready insert step (its target free, its batch decoded) or else the next segment to decode.
fn next_step(g: &mut Sched) -> Option<Step> {
    let Sched { targets, decoded, .. } = g;
    for (t, target) in targets.iter_mut().enumerate() {
        if target.busy || target.pos == target.segs.len() {
            continue;
        }
        let slot = target.slot();
        if let Some(batch) = decoded[target.segs[target.pos]].as_mut().and_then(|b| b[slot].take()) {
            target.busy = true;
            return Some(Step::Insert(t, target.table, target.index, batch));
        }
    }
    if g.next_decode < g.nbatches.len() {
        let i = g.next_decode;
        g.next_decode += 1;
        let keep = g.spare.len().saturating_sub(g.nbatches[i]);
        return Some(Step::Decode(i, g.spare.split_off(keep)));
    }
    None
}

/// Reads and decodes one segment of `tl`: its records, as a heap batch then one batch per index,
/// each sorted by key. Accounts the rows' memory and live count to the table.
fn decode(
    path: &std::path::Path,
    tl: &TableLoad,
    buf: &mut Vec<u8>,
    mut spare: Vec<Batch>,
) -> FdwResult<(Vec<Batch>, u64, u64)> {
    read_segment_into(path, buf)?;
    let body = &buf[8..buf.len() - 4];
    let mut d = Dec::new(body);
    if d.u64()? != tl.table.id {
        return Err(corrupt("checkpoint: segment header changed while loading"));
    }
    let rows = d.u64()?;
    let st = &tl.state;
    let width = st.columns.len();
    // A row takes at least 12 bytes (row id, column count): `rows` alone is not trusted for memory.
    let cap = rows.min(body.len() as u64 / 12) as usize;
    let mut batches: Vec<Batch> = (0..=st.indexes.len())
        .map(|_| {
            let mut b = spare.pop().unwrap_or_default();
            b.reserve(cap);
            b
        })
        .collect();
    let mut key_buf = Vec::new();
    let mut keys = Vec::with_capacity(st.indexes.len());
    let mut data_total = 0u64;
    let mut max_row = 0;
    for _ in 0..rows {
        let row_id = d.u64()?;
        let data: RowData = d.row_data(width)?;
        data_total += RECORD_OVERHEAD + data_bytes(&data);
        keys.clear();
        for index in &st.indexes {
            keys.push(index.entry_key_into(row_id, &data, &mut key_buf)?);
        }
        let rec = Arc::new(Record::present(row_id, data, 1));
        for (batch, key) in batches[1..].iter_mut().zip(keys.drain(..)) {
            batch.push((key, rec.clone()));
        }
        batches[0].push((Key::row_id(row_id), rec));
        max_row = max_row.max(row_id);
    }
    if !d.done() {
        return Err(corrupt("checkpoint: segment longer than its rows"));
    }
    for batch in &mut batches {
        if !batch.is_sorted_by(|a, b| a.0 <= b.0) {
            batch.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        }
    }
    st.heap.pool.alloc(data_total);
    tl.table.bump_row_id(max_row);
    tl.table.add_live(rows as i64);
    Ok((batches, rows, buf.len() as u64))
}
