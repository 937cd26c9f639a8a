//! A running remote scan: a cursor on the transaction's connection, read `fetch_size` rows
//! at a time (postgres_fdw's `fetch_more_data`), so memory stays bounded whatever the size of
//! the remote result.
//!
//! The cursor is declared at the first `next_batch`, because only then are the parameter
//! values known; they travel as query parameters in text form (`$1::integer`), never spliced
//! into the SQL. Rows arrive in text form and are converted with `DataType::parse_text`, the
//! same parser COPY uses, since the remote session's output settings are pinned (ISO dates,
//! `extra_float_digits = 3`). A rescan closes the cursor; the next batch declares it again
//! with the new parameter values.

use std::sync::atomic::{AtomicU64, Ordering};

use fdw_api::{Datum, FdwResult, ForeignScan, Row, RowBatch, ScanParams, BATCH_SIZE};
use postgres::SimpleQueryRow;

use crate::conn::SharedConn;
use crate::sql::RemoteQuery;

/// Rows received from remote cursors by every scan of this process (see
/// [`crate::rows_fetched`]).
static ROWS_FETCHED: AtomicU64 = AtomicU64::new(0);

/// The running total of rows fetched across the wire by scans.
pub fn rows_fetched() -> u64 {
    ROWS_FETCHED.load(Ordering::Relaxed)
}

pub struct RemoteScan {
    conn: SharedConn,
    query: RemoteQuery,
    fetch_size: u32,
    /// What to name the relation in conversion errors.
    relation: String,
    cursor: Option<String>,
    /// The last FETCH's rows not yet returned.
    pending: Vec<SimpleQueryRow>,
    pos: usize,
    /// The cursor has no more rows.
    exhausted: bool,
}

impl RemoteScan {
    pub fn new(conn: SharedConn, query: RemoteQuery, fetch_size: u32, relation: String) -> RemoteScan {
        RemoteScan { conn, query, fetch_size, relation, cursor: None, pending: Vec::new(), pos: 0, exhausted: false }
    }

    fn open(&mut self, params: ScanParams<'_>) -> FdwResult<()> {
        let mut conn = self.conn.lock();
        let name = conn.next_cursor();
        let declare = format!("DECLARE {name} CURSOR FOR\n{}", self.query.sql);
        // Errors name the query, not the cursor around it, as postgres_fdw's do.
        let shown = |mut e: fdw_api::FdwError| {
            if let Some(c) = e.context.iter_mut().find(|c| c.starts_with("remote SQL command: ")) {
                *c = format!("remote SQL command: {}", self.query.sql);
            }
            e
        };
        if self.query.params.is_empty() {
            conn.exec(&declare).map_err(shown)?;
        } else {
            let values: Vec<Option<String>> = self
                .query
                .params
                .iter()
                .map(|(idx, _)| match params.get(*idx) {
                    None | Some(Datum::Null) => None,
                    Some(d) => Some(d.to_text()),
                })
                .collect();
            conn.exec_params(&declare, &values).map_err(shown)?;
        }
        self.cursor = Some(name);
        Ok(())
    }

    fn fetch(&mut self) -> FdwResult<()> {
        let Some(name) = &self.cursor else { return Ok(()) };
        let sql = format!("FETCH {} FROM {name}", self.fetch_size);
        let rows = self.conn.lock().rows(&sql)?;
        ROWS_FETCHED.fetch_add(rows.len() as u64, Ordering::Relaxed);
        self.exhausted = rows.len() < self.fetch_size as usize;
        self.pending = rows;
        self.pos = 0;
        Ok(())
    }

    fn convert(&self, r: &SimpleQueryRow) -> FdwResult<Row> {
        let mut row = Vec::with_capacity(self.query.types.len());
        for (i, ty) in self.query.types.iter().enumerate() {
            row.push(match r.get(i) {
                None => Datum::Null,
                Some(s) => ty.parse_text(s).map_err(|e| {
                    e.with_context(format!(
                        "processing a remote row of foreign table \"{}\", column {}",
                        self.relation,
                        i + 1
                    ))
                })?,
            });
        }
        Ok(row)
    }

    fn close(&mut self) -> FdwResult<()> {
        self.pending.clear();
        self.pos = 0;
        self.exhausted = false;
        if let Some(name) = self.cursor.take() {
            let mut conn = self.conn.lock();
            if !conn.is_broken() {
                conn.exec(&format!("CLOSE {name}"))?;
            }
        }
        Ok(())
    }
}

impl ForeignScan for RemoteScan {
    fn next_batch(&mut self, out: &mut RowBatch, params: ScanParams<'_>) -> FdwResult<bool> {
        if self.cursor.is_none() && !self.exhausted {
            self.open(params)?;
        }
        while out.rows.len() < BATCH_SIZE {
            if self.pos >= self.pending.len() {
                if self.exhausted {
                    return Ok(false);
                }
                self.fetch()?;
                if self.pending.is_empty() {
                    return Ok(false);
                }
            }
            let row = self.convert(&self.pending[self.pos])?;
            self.pos += 1;
            out.rows.push(row);
        }
        Ok(!(self.exhausted && self.pos >= self.pending.len()))
    }

    fn rescan(&mut self, _params: ScanParams<'_>) -> FdwResult<()> {
        self.close()
    }

    fn end(&mut self) -> FdwResult<()> {
        // The cursor dies with the remote transaction anyway; a failure to close it early
        // (the transaction already failed) is not the statement's error.
        let _ = self.close();
        Ok(())
    }
}
