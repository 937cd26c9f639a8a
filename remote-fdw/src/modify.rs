//! INSERT, UPDATE and DELETE on a remote table (postgres_fdw's `ExecForeignInsert` etc.).
//!
//! Rows are identified by the remote `ctid`, which the scan below an UPDATE/DELETE fetches as
//! its row identity (`want_row_id`, text such as `(0,1)`, with `FOR UPDATE` so the row cannot
//! move meanwhile). Inserts go in batches of `batch_size` rows as one multi-row `VALUES`
//! statement. Values are written as quoted literals with their type label (the simple query
//! protocol returns `RETURNING` rows in text form, which is what the scan parser reads); the
//! quoting in `quote` makes a hostile value harmless. Every statement returns the stored row
//! (`RETURNING` every column), so remote defaults and triggers show in the result.

use std::sync::Arc;

use fdw_api::{Datum, FdwResult, ForeignModify, ModifyKind, Row, TableDesc};
use postgres::SimpleQueryRow;

use crate::conn::SharedConn;
use crate::sql::{build_delete_row, build_insert, build_update_row};

pub struct RemoteModify {
    conn: SharedConn,
    table: Arc<TableDesc>,
    kind: ModifyKind,
    batch_size: usize,
}

impl RemoteModify {
    pub fn new(conn: SharedConn, table: Arc<TableDesc>, kind: ModifyKind, batch_size: u32) -> RemoteModify {
        RemoteModify { conn, table, kind, batch_size: batch_size.max(1) as usize }
    }

    fn convert(&self, r: &SimpleQueryRow) -> FdwResult<Row> {
        let mut row = Vec::with_capacity(self.table.columns.len());
        for (i, col) in self.table.columns.iter().enumerate() {
            row.push(match r.get(i) {
                None => Datum::Null,
                Some(s) => col.ty.parse_text(s).map_err(|e| {
                    e.with_context(format!("column \"{}\" of foreign table \"{}\"", col.name, self.table.name))
                })?,
            });
        }
        Ok(row)
    }

    fn run(&self, sql: &str) -> FdwResult<Vec<Row>> {
        let rows = self.conn.lock().rows(sql)?;
        rows.iter().map(|r| self.convert(r)).collect()
    }
}

impl ForeignModify for RemoteModify {
    fn insert(&mut self, rows: Vec<Row>) -> FdwResult<Vec<Row>> {
        debug_assert_eq!(self.kind, ModifyKind::Insert);
        let mut stored = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(self.batch_size) {
            let sql = build_insert(&self.table, chunk)?;
            stored.extend(self.run(&sql)?);
        }
        Ok(stored)
    }

    fn update(&mut self, row_id: &Datum, new_row: Row) -> FdwResult<Row> {
        let sql = build_update_row(&self.table, row_id, &new_row)?;
        // A row that vanished remotely meanwhile updates nothing, as in postgres_fdw; the
        // caller still gets the row it asked for.
        Ok(self.run(&sql)?.pop().unwrap_or(new_row))
    }

    fn delete(&mut self, row_id: &Datum) -> FdwResult<Option<Row>> {
        let sql = build_delete_row(&self.table, row_id)?;
        Ok(self.run(&sql)?.pop())
    }
}
