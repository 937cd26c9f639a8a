//! MOT redo records: their format, writing them at commit and at DDL, replaying them.
//!
//! Payload (little-endian; see `codec`):
//!
//! ```text
//! TXN  = 0x01 { op:u8 table:u64 row:u64 [row] }*      op 1 insert, 2 update (row follows), 3 delete
//! DDL  = 0x02 kind:u8 table-desc ...                   kind 1 create table .. 7 rename column
//! ```
//!
//! A large write set is cut into several TXN records (at most [`MAX_CHUNK`] bytes each) under
//! the same xid; replay applies them all at the commit record. Insert and update replay alike
//! as an upsert of the full row, delete as "remove if present": applying a record to a state
//! that already reflects it (a fuzzy checkpoint) changes nothing that later records do not set.

use std::sync::Arc;

use fdw_api::{err, DdlCommand, ExecContext, FdwResult, IsolationLevel, Lsn, TxnId};

use super::codec::{corrupt, Dec, Enc};
use crate::engine::MotEngine;
use crate::key::Key;
use crate::row::{data_bytes, Record, RowData, ABSENT, RECORD_OVERHEAD};
use crate::table::Table;
use crate::txn::Txn;

pub const REDO_TXN: u8 = 1;
pub const REDO_DDL: u8 = 2;

const OP_INSERT: u8 = 1;
const OP_UPDATE: u8 = 2;
const OP_DELETE: u8 = 3;

/// Largest TXN record payload before the write set is cut into another record.
pub const MAX_CHUNK: usize = 4 << 20;

impl MotEngine {
    /// Logs the redo of a validated transaction (called with its locks held).
    pub(crate) fn log_txn(&self, txn: &Txn, xid: TxnId) -> FdwResult<()> {
        if !self.durability.is_durable() {
            return Ok(());
        }
        let mut e = Enc::default();
        e.u8(REDO_TXN);
        let mut result = Ok(());
        txn.for_each_write(|table, row, data, insert| {
            if result.is_err() {
                return;
            }
            if e.buf.len() >= MAX_CHUNK {
                result = self.durability.insert(xid, &e.buf).map(|_| ());
                e.buf.truncate(1);
            }
            match data {
                Some(d) => {
                    e.u8(if insert { OP_INSERT } else { OP_UPDATE });
                    e.u64(table);
                    e.u64(row);
                    e.row(d);
                }
                None => {
                    e.u8(OP_DELETE);
                    e.u64(table);
                    e.u64(row);
                }
            }
        });
        result?;
        if e.buf.len() > 1 {
            self.durability.insert(xid, &e.buf)?;
        }
        Ok(())
    }

    /// Logs a DDL command that just took effect (xid 0: replayed in log order, not per
    /// transaction, since MOT's DDL is not rolled back with its transaction).
    pub(crate) fn log_ddl(&self, cmd: &DdlCommand) -> FdwResult<()> {
        if !self.durability.is_durable() {
            return Ok(());
        }
        let mut e = Enc::default();
        e.u8(REDO_DDL);
        encode_ddl(&mut e, cmd);
        self.durability.insert(0, &e.buf).map(|_| ())
    }
}

fn encode_ddl(e: &mut Enc, cmd: &DdlCommand) {
    match cmd {
        DdlCommand::CreateTable { table } => {
            e.u8(1);
            e.table_desc(table);
        }
        DdlCommand::DropTable { table } => {
            e.u8(2);
            e.table_desc(table);
        }
        DdlCommand::CreateIndex { table, index } => {
            e.u8(3);
            e.table_desc(table);
            e.index_def(index);
        }
        DdlCommand::DropIndex { table, index } => {
            e.u8(4);
            e.table_desc(table);
            e.index_def(index);
        }
        DdlCommand::AddColumn { table, column, default } => {
            e.u8(5);
            e.table_desc(table);
            e.column(column);
            e.datum(default);
        }
        DdlCommand::DropColumn { table, column } => {
            e.u8(6);
            e.table_desc(table);
            e.u32(*column as u32);
        }
        DdlCommand::RenameColumn { table, column, new_name } => {
            e.u8(7);
            e.table_desc(table);
            e.u32(*column as u32);
            e.str(new_name);
        }
    }
}

fn decode_ddl(d: &mut Dec<'_>) -> FdwResult<DdlCommand> {
    let kind = d.u8()?;
    let table = Arc::new(d.table_desc()?);
    Ok(match kind {
        1 => DdlCommand::CreateTable { table },
        2 => DdlCommand::DropTable { table },
        3 => DdlCommand::CreateIndex { table, index: d.index_def()? },
        4 => DdlCommand::DropIndex { table, index: d.index_def()? },
        5 => {
            let column = d.column()?;
            let default = d.datum()?;
            DdlCommand::AddColumn { table, column, default }
        }
        6 => DdlCommand::DropColumn { table, column: d.u32()? as usize },
        7 => {
            let column = d.u32()? as usize;
            DdlCommand::RenameColumn { table, column, new_name: d.str()?.to_string() }
        }
        _ => return Err(corrupt("redo record: unknown DDL kind")),
    })
}

/// Replays one MOT record of a committed transaction (or a DDL record). Records older than
/// the loaded checkpoint are already in it and skipped.
pub fn apply(engine: &MotEngine, lsn: Lsn, data: &[u8]) -> FdwResult<()> {
    if lsn < engine.durability.checkpoint_lsn() {
        return Ok(());
    }
    let mut d = Dec::new(data);
    match d.u8()? {
        REDO_TXN => {
            while !d.done() {
                let op = d.u8()?;
                let table = d.u64()?;
                let row = d.u64()?;
                let new = match op {
                    OP_INSERT | OP_UPDATE => Some(RowData::from(d.row()?)),
                    OP_DELETE => None,
                    _ => return Err(corrupt("redo record: unknown operation")),
                };
                // A table dropped later in the log is gone already; its rows do not matter.
                if let Some(t) = engine.table_by_id(table) {
                    apply_row(engine, &t, row, new)?;
                }
            }
            Ok(())
        }
        REDO_DDL => {
            let cmd = decode_ddl(&mut d)?;
            let ctx = replay_ctx();
            if let DdlCommand::CreateTable { table } = &cmd {
                // Idempotent: a table of that id left by an earlier replay is replaced.
                engine.remove_table(table.id);
            }
            engine.ddl(&cmd, &ctx)
        }
        _ => Err(corrupt("redo record: unknown record type")),
    }
}

fn replay_ctx() -> ExecContext {
    ExecContext {
        xid: 0,
        in_transaction_block: false,
        isolation: IsolationLevel::ReadCommitted,
        user: String::new(),
        services: Arc::new(fdw_api::services::VolatileServices::default()),
    }
}

/// Sets row `row_id` of `t` to `new` (`None`: removes it), keeping every index in step.
pub(crate) fn apply_row(engine: &MotEngine, t: &Arc<Table>, row_id: u64, new: Option<RowData>) -> FdwResult<()> {
    let st = t.state();
    t.bump_row_id(row_id);
    if let Some(d) = &new {
        if d.len() != st.columns.len() {
            return Err(err!(
                DATA_CORRUPTED,
                "invalid MOT redo record: row of {} columns for table \"{}\" of {}",
                d.len(),
                st.name,
                st.columns.len()
            ));
        }
    }
    let key = row_id.to_be_bytes();
    let existing = st.heap.map.get(key.as_slice()).map(|e| e.value().clone());
    let version = engine.clock.load(std::sync::atomic::Ordering::Relaxed);
    match (existing, new) {
        (Some(rec), Some(new)) => {
            let (tid, old) = rec.read();
            for index in &st.indexes {
                let nk = index.entry_key(row_id, &new)?;
                if tid & ABSENT == 0 {
                    let ok = index.entry_key(row_id, &old)?;
                    if ok != nk {
                        index.remove_if(&ok, &rec, &engine.gc);
                    }
                }
                // Even when the key is unchanged: a fuzzy snapshot may have left it to another row.
                if !index.map.get(nk.as_slice()).is_some_and(|e| Arc::ptr_eq(e.value(), &rec)) {
                    index.add(nk, rec.clone());
                }
            }
            st.heap.pool.alloc(data_bytes(&new));
            let old = rec.install(Some(new), version);
            engine.gc.retire(&st.heap.pool, data_bytes(&old), old);
            if tid & ABSENT != 0 {
                t.add_live(1);
            }
        }
        (None, Some(new)) => {
            st.heap.pool.alloc(RECORD_OVERHEAD + data_bytes(&new));
            let rec = Arc::new(Record::present(row_id, new.clone(), version));
            st.heap.add(Key::from_slice(&key), rec.clone());
            for index in &st.indexes {
                index.add(index.entry_key(row_id, &new)?, rec.clone());
            }
            t.add_live(1);
        }
        (Some(rec), None) => {
            let (tid, old) = rec.read();
            if tid & ABSENT == 0 {
                for index in &st.indexes {
                    if let Ok(k) = index.entry_key(row_id, &old) {
                        index.remove_if(&k, &rec, &engine.gc);
                    }
                }
                t.add_live(-1);
            }
            if st.heap.remove_if(&key, &rec, &engine.gc) {
                let old = rec.install(None, version);
                engine.gc.retire(&st.heap.pool, RECORD_OVERHEAD + data_bytes(&old), old);
            }
        }
        (None, None) => {}
    }
    Ok(())
}

/// pg_waldump's description of a MOT record.
pub fn describe(data: &[u8]) -> String {
    let mut d = Dec::new(data);
    match d.u8() {
        Ok(REDO_TXN) => {
            let (mut ins, mut upd, mut del) = (0, 0, 0);
            let mut tables = Vec::new();
            while !d.done() {
                let (Ok(op), Ok(table), Ok(_row)) = (d.u8(), d.u64(), d.u64()) else {
                    return "TXN (truncated)".into();
                };
                match op {
                    OP_INSERT => ins += 1,
                    OP_UPDATE => upd += 1,
                    _ => del += 1,
                }
                if op != OP_DELETE && d.row().is_err() {
                    return "TXN (truncated)".into();
                }
                if !tables.contains(&table) {
                    tables.push(table);
                }
            }
            let t: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
            format!("TXN tables {}; {ins} inserts, {upd} updates, {del} deletes", t.join(","))
        }
        Ok(REDO_DDL) => match decode_ddl(&mut d) {
            Ok(cmd) => match cmd {
                DdlCommand::CreateTable { table } => format!("CREATE TABLE {} (id {})", table.name, table.id),
                DdlCommand::DropTable { table } => format!("DROP TABLE {} (id {})", table.name, table.id),
                DdlCommand::CreateIndex { table, index } => format!("CREATE INDEX {} ON {}", index.name, table.name),
                DdlCommand::DropIndex { table, index } => format!("DROP INDEX {} ON {}", index.name, table.name),
                DdlCommand::AddColumn { table, column, .. } => format!("ADD COLUMN {} TO {}", column.name, table.name),
                DdlCommand::DropColumn { table, column } => format!("DROP COLUMN {} OF {}", column + 1, table.name),
                DdlCommand::RenameColumn { table, new_name, .. } => {
                    format!("RENAME COLUMN TO {new_name} IN {}", table.name)
                }
            },
            Err(_) => "DDL (invalid)".into(),
        },
        _ => format!("UNKNOWN {} bytes", data.len()),
    }
}
