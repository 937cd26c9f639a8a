//! The scan: records in, rows of the requested columns out, quals applied on the way.
//!
//! A [`ScanPlan`] is built once per `begin_scan` and shared (read-only) by the serial scan and
//! by parallel workers. It decides which table columns to parse: the requested ones plus the
//! columns the quals read. Quals are compiled with `fdw_api::eval::Program` after their
//! column references are renumbered to positions in that parsed row, and rows failing them
//! are dropped before they leave the wrapper (so the paths report them `Exact`).
//!
//! Conversion is lazy along the quals: each qual converts only the columns no earlier qual
//! needed, so a row the first qual rejects costs one or two conversions, not all of them
//! (Q6's `l_shipdate` range rejects 85% of `lineitem` before its numeric columns are read).
//! The columns only the output reads are converted for rows that pass. A bad value
//! therefore fails the scan only when its row gets as far as the qual or output reading it;
//! PostgreSQL converts every needed column of every row first, so a file whose bad values sit
//! in rows an earlier qual rejects fails there and not here.
//!
//! A join key filter (`ForeignScan::set_key_filter`, offered by a hash join above) acts as a
//! first qual: its column is converted and looked up before anything else.
//!
//! `count(*)` (no column, no qual) converts no value at all: each record is still split and
//! its field count and encoding checked, but values are not parsed. PostgreSQL 15's file_fdw
//! converts every column in that case, so a file with a bad value fails `count(*)` there and
//! not here; we accept that difference for the speed (documented in the crate docs).
//!
//! The file is opened at the first batch, not in `begin_scan`, so that an EXPLAIN of a table
//! whose file is missing works as in PostgreSQL; the `could not open file` error comes with
//! the first fetch.

use std::sync::Arc;

use fdw_api::eval::{EvalContext, Program};
use fdw_api::{
    Datum, Expr, FdwError, FdwResult, ForeignScan, KeySet, Row, RowBatch, ScanParams, ScanRequest, TableDesc,
    BATCH_SIZE,
};

use crate::context::ScanError;
use crate::convert::Converter;
use crate::options::{Header, ScanOptions};
use crate::parallel::ParallelScan;
use crate::reader::{self, RecordReader};

/// Everything a scan decided before reading: shared by all threads of a scan.
#[derive(Clone, Debug)]
pub struct ScanPlan {
    /// Relation name for context lines (`COPY t, line 3`).
    pub table_name: String,
    pub opts: ScanOptions,
    pub conv: Converter,
    /// Each qual with the parsed-row positions it reads that no earlier qual read (converted
    /// just before it is evaluated).
    quals: Vec<(Vec<usize>, Program)>,
    /// With quals: the positions no qual reads (converted only for rows that pass).
    other_cols: Vec<usize>,
    /// A join key filter: the parsed-row position it reads and the keys it admits.
    key_filter: Option<(usize, Arc<KeySet>)>,
    /// Table column of each parsed-row position.
    parsed: Vec<usize>,
    /// Output positions in the parsed row, or `None` when the parsed row is the output.
    out_map: Option<Vec<usize>>,
    row_id: bool,
}

/// Renumbers the column references of a qual to positions in the parsed row.
pub fn remap(expr: &Expr, parsed: &[usize]) -> Expr {
    expr.clone().transform(&mut |e| match e {
        Expr::Column { index, ty } => {
            Expr::Column { index: parsed.iter().position(|&c| c == index).unwrap_or(usize::MAX), ty }
        }
        other => other,
    })
}

impl ScanPlan {
    pub fn new(request: &ScanRequest) -> FdwResult<ScanPlan> {
        let quals: Vec<&Expr> = request.quals.iter().chain(request.param_quals.iter()).collect();
        ScanPlan::build(&request.table, &request.columns, &quals, request.want_row_id)
    }

    /// A plan returning table `columns` of the rows satisfying every qual of `quals`.
    pub fn build(table: &TableDesc, columns: &[usize], quals: &[&Expr], row_id: bool) -> FdwResult<ScanPlan> {
        let opts = ScanOptions::from_table(table)?;
        let mut parsed: Vec<usize> = Vec::new();
        for &c in columns {
            if !parsed.contains(&c) {
                parsed.push(c);
            }
        }
        for q in quals {
            for c in q.columns() {
                if !parsed.contains(&c) {
                    parsed.push(c);
                }
            }
        }
        if let Some(&bad) = parsed.iter().find(|&&c| c >= table.columns.len()) {
            return Err(FdwError::internal(format!("file_fdw: column {bad} out of range")));
        }
        let out_map = if parsed == columns {
            None
        } else {
            Some(columns.iter().map(|c| parsed.iter().position(|p| p == c).unwrap_or(0)).collect())
        };
        let mut converted: Vec<usize> = Vec::new();
        let mut steps = Vec::with_capacity(quals.len());
        for q in quals {
            let cols = q.columns();
            let fresh: Vec<usize> =
                (0..parsed.len()).filter(|&p| cols.contains(&parsed[p]) && !converted.contains(&p)).collect();
            converted.extend(&fresh);
            steps.push((fresh, Program::compile(&remap(q, &parsed))?));
        }
        let other_cols = (0..parsed.len()).filter(|p| !converted.contains(p)).collect();
        let conv = Converter::new(table, &opts, &parsed);
        Ok(ScanPlan {
            table_name: table.name.clone(),
            opts,
            conv,
            quals: steps,
            other_cols,
            key_filter: None,
            parsed,
            out_map,
            row_id,
        })
    }

    /// This plan with a join key filter on table column `column` as its first qual; `None`
    /// when the scan does not read that column.
    pub fn with_key_filter(&self, column: usize, keys: Arc<KeySet>) -> Option<ScanPlan> {
        let pos = self.parsed.iter().position(|&c| c == column)?;
        let mut plan = self.clone();
        // The filter converts its column first; no later step converts it again.
        for (cols, _) in &mut plan.quals {
            cols.retain(|&p| p != pos);
        }
        plan.other_cols.retain(|&p| p != pos);
        plan.key_filter = Some((pos, keys));
        Some(plan)
    }

    /// Opens the file and a reader of the records starting in `[start, stop)`.
    pub fn reader(&self, start: u64, stop: Option<u64>) -> FdwResult<RecordReader> {
        let file = reader::open(&self.opts.filename)?;
        let mut reader = RecordReader::new(file, &self.opts.copy, start, stop)?;
        // `header 'match'` compares every field of the first line.
        if self.opts.copy.header != Header::Match {
            reader.set_field_limit(self.conv.fields_needed());
        }
        Ok(reader)
    }

    /// Reads records until one satisfies the quals and leaves its parsed values in `row`
    /// (cleared first, its allocation reused); returns the record's line number (counted from
    /// the reader's start), or `None` at the end of the range. `first_range` says the reader
    /// starts at the top of the file (where the header line is).
    #[inline]
    pub fn next_row(
        &self,
        reader: &mut RecordReader,
        first_range: bool,
        params: &[Datum],
        row: &mut Row,
        scratch: &mut Vec<u8>,
    ) -> Result<Option<u64>, ScanError> {
        loop {
            let Some(rec) = reader.next_record()? else { return Ok(None) };
            if first_range && rec.line == 1 && self.opts.copy.header != Header::None {
                if self.opts.copy.header == Header::Match {
                    self.conv.check_header(&rec, scratch)?;
                }
                continue;
            }
            self.conv.check_fields(&rec)?;
            let line = rec.line;
            if self.quals.is_empty() && self.key_filter.is_none() {
                row.clear();
                self.conv.convert(&rec, row, scratch)?;
                return Ok(Some(line));
            }
            // Each qual after the columns it is the first to read; the rest only for rows that
            // pass (see the module docs). A reused row keeps its slots: each is overwritten
            // before it is read.
            if row.len() != self.conv.width() {
                row.clear();
                row.resize(self.conv.width(), Datum::Null);
            }
            if let Some((pos, keys)) = &self.key_filter {
                self.conv.convert_at(&rec, std::slice::from_ref(pos), row, scratch)?;
                if !keys.admits(&row[*pos]) {
                    continue;
                }
            }
            let mut ctx = EvalContext { params, subplans: None };
            let mut pass = true;
            for (cols, q) in &self.quals {
                self.conv.convert_at(&rec, cols, row, scratch)?;
                if !q.eval_predicate(row, &mut ctx)? {
                    pass = false;
                    break;
                }
            }
            if !pass {
                continue;
            }
            self.conv.convert_at(&rec, &self.other_cols, row, scratch)?;
            return Ok(Some(line));
        }
    }

    /// Reads records into `out` until it holds `max` rows or the range ends; returns whether
    /// records may remain. `first_range` as for [`ScanPlan::next_row`].
    pub fn fill(
        &self,
        reader: &mut RecordReader,
        first_range: bool,
        params: &[Datum],
        out: &mut Vec<Row>,
        max: usize,
        scratch: &mut Vec<u8>,
    ) -> Result<bool, ScanError> {
        let width = self.conv.width() + usize::from(self.row_id);
        // Rows the quals reject leave their buffer here for the next record.
        let mut row: Row = Vec::new();
        while out.len() < max {
            if row.capacity() < width {
                row = Vec::with_capacity(width);
            }
            let Some(line) = self.next_row(reader, first_range, params, &mut row, scratch)? else {
                return Ok(false);
            };
            if let Some(map) = &self.out_map {
                let mut projected = Vec::with_capacity(map.len() + usize::from(self.row_id));
                projected.extend(map.iter().map(|&i| row[i].clone()));
                out.push(projected);
            } else {
                out.push(std::mem::take(&mut row));
            }
            if self.row_id {
                if let Some(last) = out.last_mut() {
                    last.push(Datum::Int8(line as i64));
                }
            }
        }
        Ok(true)
    }
}

/// The serial reading state.
struct Serial {
    reader: Option<RecordReader>,
    scratch: Vec<u8>,
}

enum Mode {
    Serial(Serial),
    Parallel(ParallelScan),
}

/// A running scan of one file.
pub struct FileScan {
    plan: Arc<ScanPlan>,
    mode: Mode,
    done: bool,
    limit: Option<u64>,
    returned: u64,
}

impl FileScan {
    pub fn new(request: &ScanRequest) -> FdwResult<FileScan> {
        let plan = Arc::new(ScanPlan::new(request)?);
        let workers = request.path.parallel_workers;
        let mode = match (workers > 1).then(|| ParallelScan::new(plan.clone(), workers)).transpose()? {
            Some(Some(p)) => Mode::Parallel(p),
            _ => Mode::Serial(Serial { reader: None, scratch: Vec::new() }),
        };
        Ok(FileScan { plan, mode, done: false, limit: request.limit, returned: 0 })
    }

    /// True when the scan runs on worker threads.
    pub fn is_parallel(&self) -> bool {
        matches!(self.mode, Mode::Parallel(_))
    }
}

impl ForeignScan for FileScan {
    fn next_batch(&mut self, out: &mut RowBatch, params: ScanParams<'_>) -> FdwResult<bool> {
        if self.done {
            return Ok(false);
        }
        let max = match self.limit {
            Some(l) => BATCH_SIZE.min(l.saturating_sub(self.returned) as usize),
            None => BATCH_SIZE,
        };
        let before = out.rows.len();
        let more = match &mut self.mode {
            Mode::Serial(s) => {
                if s.reader.is_none() {
                    s.reader = Some(self.plan.reader(0, None)?);
                }
                let reader = s.reader.as_mut().ok_or_else(|| FdwError::internal("file_fdw: no reader"))?;
                self.plan
                    .fill(reader, true, params, &mut out.rows, before + max, &mut s.scratch)
                    .map_err(|e| e.into_fdw(&self.plan.table_name, 0))?
            }
            Mode::Parallel(p) => p.next_batch(&mut out.rows, before + max, params)?,
        };
        self.returned += (out.rows.len() - before) as u64;
        if !more || self.limit.is_some_and(|l| self.returned >= l) {
            self.done = true;
            self.end()?;
            return Ok(false);
        }
        Ok(true)
    }

    fn rescan(&mut self, _params: ScanParams<'_>) -> FdwResult<()> {
        self.done = false;
        self.returned = 0;
        match &mut self.mode {
            Mode::Serial(s) => {
                if let Some(r) = s.reader.as_mut() {
                    r.restart(0)?;
                }
            }
            Mode::Parallel(p) => p.stop(),
        }
        Ok(())
    }

    fn end(&mut self) -> FdwResult<()> {
        match &mut self.mode {
            Mode::Serial(s) => s.reader = None,
            Mode::Parallel(p) => p.stop(),
        }
        Ok(())
    }

    fn set_key_filter(&mut self, column: usize, keys: Arc<KeySet>) -> bool {
        let Some(plan) = self.plan.with_key_filter(column, keys) else { return false };
        self.plan = Arc::new(plan);
        if let Mode::Parallel(p) = &mut self.mode {
            p.set_plan(self.plan.clone());
        }
        true
    }
}
