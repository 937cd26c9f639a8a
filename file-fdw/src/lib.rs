//! file_fdw: CSV and text files as foreign tables, PostgreSQL 15's file_fdw made faster.
//!
//! Behaviour follows PostgreSQL's file_fdw and COPY FROM: the same options and validation
//! errors ([`options`]), the same parsing rules for the text and CSV formats
//! ([`tokenizer`], [`convert`]), the same error messages with the same `CONTEXT` lines
//! ([`context`]), the same size and cost estimates ([`plan`]) and EXPLAIN lines. Files cannot
//! be written: the wrapper has no modify routine, so the envelope answers INSERT/UPDATE/DELETE
//! with `cannot insert into foreign table "t"`.
//!
//! Where it is faster:
//! - the file is read in blocks of a few MB and records are split a word (eight bytes) at a
//!   time, with a byte-at-a-time path only for records holding quotes, escapes or `\r`;
//! - only the columns the query reads (and its quals read) are converted, straight from the
//!   buffer; integers and floats skip `String`s altogether;
//! - quals are evaluated during the scan (compiled `fdw_api::eval::Program`s), so filtered
//!   rows never leave the wrapper;
//! - large files may be scanned by several threads ([`parallel`]);
//! - an aggregation directly over a large file runs inside the scan, each thread aggregating
//!   its part of the file and the partial groups merged at the end ([`pushdown`] plans it,
//!   [`aggregate`] runs it).
//!
//! Differences from PostgreSQL, on purpose:
//! - `count(*)` (no column read) checks every line's structure and encoding but converts no
//!   value, so a file with a malformed value still counts (PostgreSQL converts every column
//!   then and fails); likewise a scan with quals converts the columns they read first and
//!   the others only for rows that pass, so a malformed value in a column only the output
//!   reads fails the scan only when its row passes the quals;
//! - the `program` option and the binary format are refused with a clear error; the
//!   `encoding` option accepts UTF8, SQL_ASCII and LATIN1 only;
//! - a parallel scan returns rows in no particular order.

pub mod aggregate;
pub mod analyze;
pub mod context;
pub mod convert;
pub mod encoding;
pub mod options;
pub mod parallel;
pub mod plan;
pub mod pushdown;
pub mod reader;
pub mod scan;
pub mod tokenizer;

use std::sync::Arc;

use fdw_api::{
    AnalyzeSample, ExecContext, FdwResult, FdwRoutine, ForeignPath, ForeignScan, OptionTarget, Options,
    PushdownRoutine, RelInfo, RelSize, ScanRequest, SupportRoutine, TableDesc, UpperRelInfo,
};

/// The file_fdw handler.
#[derive(Debug, Default)]
pub struct FileFdw;

impl FileFdw {
    pub fn new() -> FileFdw {
        FileFdw
    }
}

/// The handler function (`file_fdw_handler`): what the envelope registers as `file_fdw`.
pub fn handler() -> Arc<dyn FdwRoutine> {
    Arc::new(FileFdw::new())
}

impl FdwRoutine for FileFdw {
    fn name(&self) -> &str {
        "file_fdw"
    }

    fn validate_options(&self, target: OptionTarget, options: &Options) -> FdwResult<()> {
        options::validate(target, options)
    }

    fn get_rel_size(&self, rel: &RelInfo) -> FdwResult<RelSize> {
        Ok(plan::rel_size(rel))
    }

    fn get_paths(&self, rel: &RelInfo, size: &RelSize) -> FdwResult<Vec<ForeignPath>> {
        Ok(plan::paths(rel, size))
    }

    fn begin_scan(&self, request: &ScanRequest, _ctx: &ExecContext) -> FdwResult<Box<dyn ForeignScan>> {
        if let Some(spec) = pushdown::spec_of(&request.path) {
            return Ok(Box::new(aggregate::AggScan::new(request, spec)?));
        }
        Ok(Box::new(scan::FileScan::new(request)?))
    }

    fn explain_scan(&self, request: &ScanRequest, verbose: bool) -> Vec<(String, String)> {
        let mut lines = plan::explain(&request.table, verbose);
        if let Some(spec) = pushdown::spec_of(&request.path) {
            lines.extend(pushdown::explain(spec, &request.table, request.path.parallel_workers, verbose));
        }
        lines
    }

    fn pushdown_routine(&self) -> Option<&dyn PushdownRoutine> {
        Some(self)
    }

    fn support_routine(&self) -> Option<&dyn SupportRoutine> {
        Some(self)
    }
}

impl PushdownRoutine for FileFdw {
    fn get_upper_paths(&self, upper: &UpperRelInfo) -> FdwResult<Vec<ForeignPath>> {
        pushdown::upper_paths(upper)
    }
}

impl SupportRoutine for FileFdw {
    fn analyze(&self, table: &Arc<TableDesc>, target_rows: usize, _ctx: &ExecContext) -> FdwResult<AnalyzeSample> {
        analyze::sample(table, target_rows)
    }
}
