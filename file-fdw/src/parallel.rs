//! Parallel scan: the file is cut into byte ranges at record boundaries and each range is
//! parsed on its own thread; batches come back through a bounded channel.
//!
//! Where to cut. A record boundary is a newline that ends a record. In text format that is a
//! `\n` preceded by an even number of backslashes (an odd run escapes the newline), which a
//! worker can check locally. In CSV a newline may sit inside quotes, and whether it does
//! depends on every quote since the start of the file, so CSV is split only when the file
//! has no quote character at all. Before splitting, one pass over the file (memchr speed)
//! looks for what would make cutting unsafe: the quote character (CSV) and the `\.`
//! end-of-data marker (after which PostgreSQL stops reading). Files that fail the check,
//! LATIN1 files (whose offsets change in conversion) and files with `\r`-only line endings
//! are scanned serially; the plan's choice is only a hint. The check's answer is remembered
//! per file (path, size, modification time, quote), so repeated queries over an unchanged
//! file skip that pass.
//!
//! Errors and line numbers. Workers count lines from the start of their range. When one
//! fails, workers of later ranges are stopped, earlier ones run on (an earlier error is the
//! one PostgreSQL's serial read would report), and the lowest failing range wins. Its line
//! number is made absolute by counting the records before the range, which costs one more
//! pass but only on the error path.
//!
//! Rows come out in the order workers deliver them, not file order (as with PostgreSQL's
//! parallel sequential scan).

use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::SystemTime;

use fdw_api::{Datum, FdwError, FdwResult, Row, BATCH_SIZE};

use crate::context::ScanError;
use crate::encoding::Encoding;
use crate::options::Format;
use crate::reader;
use crate::scan::ScanPlan;

/// Files smaller than this are not worth splitting.
pub const MIN_SPLIT_BYTES: u64 = 1 << 20;

enum Msg {
    Rows(Vec<Row>),
    Done,
    Failed(usize, ScanError),
}

struct Running {
    rx: Receiver<Msg>,
    /// Workers whose range index is above this stop.
    cancel_above: Arc<AtomicI64>,
    handles: Vec<JoinHandle<()>>,
    live: usize,
    pending: Vec<Row>,
}

/// A scan whose ranges are read by worker threads.
pub struct ParallelScan {
    plan: Arc<ScanPlan>,
    /// Byte ranges `[start, stop)`; records starting in a range belong to it.
    ranges: Vec<(u64, u64)>,
    running: Option<Running>,
}

impl ParallelScan {
    /// Splits the file among `workers` threads, or `None` when it cannot be split safely (the
    /// caller then scans serially). Never fails for a missing file: the serial scan reports it.
    pub fn new(plan: Arc<ScanPlan>, workers: usize) -> FdwResult<Option<ParallelScan>> {
        Ok(split(&plan, workers)?.map(|ranges| ParallelScan { plan, ranges, running: None }))
    }

    /// Replaces the plan (a join key filter arrived); running workers are stopped first, and
    /// the next batch starts them over with it.
    pub fn set_plan(&mut self, plan: Arc<ScanPlan>) {
        self.stop();
        self.plan = plan;
    }

    /// Number of ranges (threads) this scan uses.
    pub fn ranges(&self) -> usize {
        self.ranges.len()
    }

    fn start(&mut self, params: &[Datum]) -> FdwResult<()> {
        let (tx, rx) = sync_channel(self.ranges.len() * 4);
        let cancel_above = Arc::new(AtomicI64::new(i64::MAX));
        let mut handles = Vec::new();
        for (idx, &(start, stop)) in self.ranges.iter().enumerate() {
            let plan = self.plan.clone();
            let tx = tx.clone();
            let cancel = cancel_above.clone();
            let params = params.to_vec();
            let handle = std::thread::Builder::new()
                .name(format!("file_fdw-{idx}"))
                .spawn(move || worker(&plan, idx, start, stop, &params, &tx, &cancel))
                .map_err(|e| FdwError::internal(format!("could not start file_fdw worker: {e}")))?;
            handles.push(handle);
        }
        self.running = Some(Running { rx, cancel_above, live: handles.len(), handles, pending: Vec::new() });
        Ok(())
    }

    /// Moves rows into `out` until it holds `max` rows; false once every worker is done.
    pub fn next_batch(&mut self, out: &mut Vec<Row>, max: usize, params: &[Datum]) -> FdwResult<bool> {
        if self.running.is_none() {
            self.start(params)?;
        }
        let Some(run) = self.running.as_mut() else { return Ok(false) };
        loop {
            if !run.pending.is_empty() {
                let take = run.pending.len().min(max.saturating_sub(out.len()));
                out.extend(run.pending.drain(..take));
            }
            if out.len() >= max {
                return Ok(true);
            }
            if run.live == 0 {
                return Ok(false);
            }
            match run.rx.recv() {
                Ok(Msg::Rows(rows)) => run.pending = rows,
                Ok(Msg::Done) => run.live -= 1,
                Ok(Msg::Failed(idx, e)) => return Err(self.fail(idx, e)),
                Err(_) => run.live = 0,
            }
        }
    }

    /// A worker failed: stop later ranges, let earlier ones finish, report the first error
    /// in file order with its absolute line number.
    fn fail(&mut self, idx: usize, e: ScanError) -> FdwError {
        let Some(run) = self.running.as_mut() else { return e.error };
        let (mut idx, mut e) = (idx, e);
        run.cancel_above.fetch_min(idx as i64, Ordering::SeqCst);
        run.live -= 1;
        while run.live > 0 {
            match run.rx.recv() {
                Ok(Msg::Rows(_)) => {}
                Ok(Msg::Done) => run.live -= 1,
                Ok(Msg::Failed(i, err)) => {
                    run.live -= 1;
                    if i < idx {
                        (idx, e) = (i, err);
                        run.cancel_above.fetch_min(idx as i64, Ordering::SeqCst);
                    }
                }
                Err(_) => break,
            }
        }
        self.stop();
        let offset = if e.line == 0 { Ok(0) } else { lines_before(&self.plan, self.ranges[idx].0) };
        match offset {
            Ok(offset) => e.into_fdw(&self.plan.table_name, offset),
            Err(other) => other,
        }
    }

    /// Stops the workers and forgets them (a later batch starts over).
    pub fn stop(&mut self) {
        if let Some(run) = self.running.take() {
            run.cancel_above.store(-1, Ordering::SeqCst);
            drop(run.rx);
            for h in run.handles {
                let _ = h.join();
            }
        }
    }
}

impl Drop for ParallelScan {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Cuts the file into up to `workers` byte ranges `[start, stop)` at record boundaries (the
/// last one open-ended), or `None` when it is too small, cannot be split safely, or cannot
/// be opened (the serial scan then reports the error).
pub fn split(plan: &ScanPlan, workers: usize) -> FdwResult<Option<Vec<(u64, u64)>>> {
    let copy = &plan.opts.copy;
    if copy.encoding == Encoding::Latin1 || workers < 2 {
        return Ok(None);
    }
    let Ok(mut file) = reader::open(&plan.opts.filename) else { return Ok(None) };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size < MIN_SPLIT_BYTES {
        return Ok(None);
    }
    let csv = copy.format == Format::Csv;
    let Some(first_eol) = checked_split(&plan.opts.filename, &mut file, size, csv.then_some(copy.quote))? else {
        return Ok(None);
    };
    if first_eol == Some(b'\r') {
        return Ok(None);
    }
    let mut bounds = vec![0u64];
    for k in 1..workers as u64 {
        let b = find_boundary(&plan.opts.filename, size * k / workers as u64, !csv)?;
        if b > *bounds.last().unwrap_or(&0) && b < size {
            bounds.push(b);
        }
    }
    bounds.push(u64::MAX);
    Ok(Some(bounds.windows(2).map(|w| (w[0], w[1])).collect()))
}

/// Records that start before file offset `stop` (to make a worker's line numbers absolute).
pub fn lines_before(plan: &ScanPlan, stop: u64) -> FdwResult<u64> {
    if stop == 0 {
        return Ok(0);
    }
    let mut reader = plan.reader(0, Some(stop))?;
    while reader.next_record().map_err(|e| e.into_fdw(&plan.table_name, 0))?.is_some() {}
    Ok(reader.line)
}

fn worker(
    plan: &ScanPlan,
    idx: usize,
    start: u64,
    stop: u64,
    params: &[Datum],
    tx: &SyncSender<Msg>,
    cancel: &AtomicI64,
) {
    let run = || -> Result<(), ScanError> {
        let mut reader = plan.reader(start, Some(stop))?;
        let mut scratch = Vec::new();
        loop {
            if idx as i64 > cancel.load(Ordering::Relaxed) {
                return Ok(());
            }
            let mut rows = Vec::with_capacity(BATCH_SIZE);
            let more = plan.fill(&mut reader, idx == 0, params, &mut rows, BATCH_SIZE, &mut scratch)?;
            if !rows.is_empty() && tx.send(Msg::Rows(rows)).is_err() {
                return Ok(());
            }
            if !more {
                return Ok(());
            }
        }
    };
    let _ = tx.send(match run() {
        Ok(()) => Msg::Done,
        Err(e) => Msg::Failed(idx, e),
    });
}

/// What [`safe_to_split`] said about a file, by (path, size, modification time, quote).
type SplitCache = HashMap<(String, u64, SystemTime, Option<u8>), Option<Option<u8>>>;

/// Files remembered at most; the cache is emptied when it is full.
const SPLIT_CACHE_FILES: usize = 64;

/// [`safe_to_split`], remembered while the file keeps its size and modification time (an
/// edit in place that keeps both within the clock's resolution would go unnoticed; files
/// without a modification time are checked every time).
fn checked_split(path: &str, file: &mut std::fs::File, size: u64, quote: Option<u8>) -> FdwResult<Option<Option<u8>>> {
    static CACHE: OnceLock<Mutex<SplitCache>> = OnceLock::new();
    let Ok(mtime) = file.metadata().and_then(|m| m.modified()) else { return safe_to_split(file, quote) };
    let key = (path.to_string(), size, mtime, quote);
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().ok().and_then(|c| c.get(&key).copied()) {
        return Ok(v);
    }
    let v = safe_to_split(file, quote)?;
    if let Ok(mut c) = cache.lock() {
        if c.len() >= SPLIT_CACHE_FILES {
            c.clear();
        }
        c.insert(key, v);
    }
    Ok(v)
}

/// One pass over the file: `None` if it holds the CSV quote character or a `\.` marker
/// (splitting would be wrong); otherwise how the first line ends (`\n` for `\n` and `\r\n`,
/// `\r` for a lone carriage return), if any line ends.
fn safe_to_split(file: &mut std::fs::File, quote: Option<u8>) -> FdwResult<Option<Option<u8>>> {
    let mut buf = vec![0u8; reader::CHUNK];
    let mut first_eol = None;
    let mut prev_backslash = false;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => return Ok(Some(first_eol)),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(crate::context::read_error(&e)),
        };
        let chunk = &buf[..n];
        if first_eol.is_none() {
            // `\r\n` counts as `\n`: only a lone `\r` (old Mac line ends) prevents splitting.
            first_eol = memchr::memchr2(b'\n', b'\r', chunk).map(|i| {
                if chunk[i] == b'\r' && chunk.get(i + 1) == Some(&b'\n') {
                    b'\n'
                } else {
                    chunk[i]
                }
            });
        }
        if let Some(q) = quote {
            if memchr::memchr(q, chunk).is_some() {
                return Ok(None);
            }
        }
        if prev_backslash && chunk[0] == b'.' {
            return Ok(None);
        }
        if memchr::memmem::find(chunk, b"\\.").is_some() {
            return Ok(None);
        }
        prev_backslash = chunk[n - 1] == b'\\';
    }
}

/// The first record boundary at or after `nominal`: just past a `\n` (in text format one not
/// escaped by an odd run of backslashes).
fn find_boundary(path: &str, nominal: u64, text: bool) -> FdwResult<u64> {
    use std::io::{Seek, SeekFrom};
    const LOOKBACK: u64 = 4096;
    let mut file = reader::open(path)?;
    let from = nominal.saturating_sub(LOOKBACK);
    file.seek(SeekFrom::Start(from)).map_err(|e| crate::context::read_error(&e))?;
    let mut window = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    let mut scanned = (nominal - from) as usize;
    loop {
        let n = match file.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(crate::context::read_error(&e)),
        };
        if n == 0 {
            return Ok(u64::MAX);
        }
        window.extend_from_slice(&chunk[..n]);
        while let Some(i) = memchr::memchr(b'\n', &window[scanned.min(window.len())..]) {
            let at = scanned + i;
            let escaped = text && window[..at].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1;
            if !escaped {
                return Ok(from + at as u64 + 1);
            }
            scanned = at + 1;
        }
        scanned = window.len();
    }
}
