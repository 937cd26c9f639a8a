//! DDL (openGauss's `ValidateTableDef`), TRUNCATE and VACUUM.
//!
//! The envelope keeps the catalog; the engine keeps storage in step with it. DDL runs under
//! the envelope's exclusive table lock and takes effect at once (it is not rolled back with
//! the transaction that issued it; the envelope's catalog change is). Row reshaping (ADD and
//! DROP COLUMN) locks each record, installs the reshaped data as a new version and reshapes
//! the private versions of every open transaction's write set, so nothing refers to the old
//! layout afterwards.
//!
//! TRUNCATE is transactional: it deletes every visible row through the write set, so it
//! commits or rolls back with its transaction (O(rows), like a DELETE without quals).
//!
//! VACUUM is compaction (MOT's): fresh pools, every live row copied into new records and new
//! indexes, the old structures retired as a whole. Old records are marked deleted so a
//! transaction still holding one fails validation rather than writing into the void.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use fdw_api::{err, ColumnDef, Datum, DdlCommand, ExecContext, FdwResult, IndexDef, TableDesc};

use crate::engine::MotEngine;
use crate::errors::{concurrent_update, unique_build_violation};
use crate::index::Index;
use crate::key::Key;
use crate::row::{data_bytes, Record, RowData, ABSENT, RECORD_OVERHEAD};
use crate::table::{Column, Table, TableState};

impl MotEngine {
    /// ValidateTableDef.
    pub fn ddl(&self, cmd: &DdlCommand, ctx: &ExecContext) -> FdwResult<()> {
        match cmd {
            DdlCommand::CreateTable { table } => self.add_table(Table::create(table)?),
            DdlCommand::DropTable { table } => {
                // The table's pools go with it, in one step.
                self.remove_table(table.id);
                Ok(())
            }
            DdlCommand::CreateIndex { table, index } => self.create_index(table, index),
            DdlCommand::DropIndex { table, index } => self.drop_index(table, &index.name),
            DdlCommand::AddColumn { table, column, default } => self.add_column(table, column, default),
            DdlCommand::DropColumn { table, column } => self.drop_column(table, *column),
            DdlCommand::RenameColumn { table, column, new_name } => {
                let t = self.table(table)?;
                let st = t.state();
                let mut columns = st.columns.clone();
                let col = columns.get_mut(*column).ok_or_else(|| no_column(*column, &st.name))?;
                col.name = new_name.clone();
                let _ = ctx;
                t.set_state(TableState {
                    name: st.name.clone(),
                    columns,
                    heap: st.heap.clone(),
                    indexes: st.indexes.clone(),
                });
                Ok(())
            }
        }
    }

    fn create_index(&self, desc: &TableDesc, def: &IndexDef) -> FdwResult<()> {
        let t = self.table(desc)?;
        let st = t.state();
        if st.index(&def.name).is_some() {
            return Err(err!(DUPLICATE_TABLE, "relation \"{}\" already exists", def.name));
        }
        let index = Arc::new(t.make_index(&st, def)?);
        for e in st.heap.map.iter() {
            let rec = e.value();
            let (tid, data) = rec.read();
            if tid & ABSENT != 0 {
                continue;
            }
            let key = index.entry_key(rec.row_id, &data)?;
            if index.map.contains_key(key.as_slice()) {
                return Err(unique_build_violation(
                    &index.name,
                    &st.column_names(&index.columns),
                    &index.values(&data),
                ));
            }
            index.add(key, rec.clone());
        }
        let mut indexes = st.indexes.clone();
        indexes.push(index);
        t.set_state(st.with_indexes(indexes));
        Ok(())
    }

    fn drop_index(&self, desc: &TableDesc, name: &str) -> FdwResult<()> {
        let t = self.table(desc)?;
        let st = t.state();
        if st.index(name).is_none() {
            return Err(err!(UNDEFINED_OBJECT, "index \"{}\" does not exist", name));
        }
        // The index's pool is released with its last reference.
        let indexes = st.indexes.iter().filter(|i| i.name != name).cloned().collect();
        t.set_state(st.with_indexes(indexes));
        Ok(())
    }

    fn add_column(&self, desc: &TableDesc, column: &ColumnDef, default: &Datum) -> FdwResult<()> {
        let t = self.table(desc)?;
        let st = t.state();
        if column.not_null && default.is_null() && t.live_rows() > 0 {
            return Err(err!(
                NOT_NULL_VIOLATION,
                "column \"{}\" of relation \"{}\" contains null values",
                column.name,
                st.name
            ));
        }
        let mut columns = st.columns.clone();
        columns.push(Column { name: column.name.clone(), ty: column.ty.clone(), not_null: column.not_null });
        t.set_state(TableState { name: st.name.clone(), columns, heap: st.heap.clone(), indexes: st.indexes.clone() });
        let d = default.clone();
        self.reshape(&t, &move |row: &[Datum]| {
            let mut v = row.to_vec();
            v.push(d.clone());
            v
        })
    }

    fn drop_column(&self, desc: &TableDesc, column: usize) -> FdwResult<()> {
        let t = self.table(desc)?;
        let st = t.state();
        if column >= st.columns.len() {
            return Err(no_column(column, &st.name));
        }
        let mut columns = st.columns.clone();
        columns.remove(column);
        // Indexes over the column go (PostgreSQL drops them too); the others are renumbered.
        let indexes = st
            .indexes
            .iter()
            .filter(|i| !i.columns.contains(&column))
            .map(|i| Arc::new(i.renumbered(i.columns.iter().map(|&c| if c > column { c - 1 } else { c }).collect())))
            .collect();
        t.set_state(TableState { name: st.name.clone(), columns, heap: st.heap.clone(), indexes });
        self.reshape(&t, &move |row: &[Datum]| {
            let mut v = row.to_vec();
            if column < v.len() {
                v.remove(column);
            }
            v
        })
    }

    /// Rewrites every committed row and every private version of `t` with `f`.
    fn reshape(&self, t: &Arc<Table>, f: &dyn Fn(&[Datum]) -> Vec<Datum>) -> FdwResult<()> {
        let st = t.state();
        let version = self.clock.fetch_add(1, Ordering::AcqRel) + 1;
        for e in st.heap.map.iter() {
            let rec = e.value();
            lock_wait(rec)?;
            let (tid, data) = rec.read();
            if tid & ABSENT == 0 {
                let new: RowData = Arc::from(f(&data));
                st.heap.pool.alloc(data_bytes(&new));
                let old = rec.install(Some(new), version);
                self.gc.retire(&st.heap.pool, data_bytes(&old), old);
            }
            rec.unlock();
        }
        for txn in self.all_txns() {
            let mut txn = txn.lock();
            if let Some(tw) = txn.tables.get_mut(&t.id) {
                for e in tw.entries.values_mut() {
                    for v in e.history.iter_mut() {
                        if let Some(d) = &v.1 {
                            v.1 = Some(Arc::from(f(d)));
                        }
                    }
                }
                tw.clear_overlays();
            }
        }
        Ok(())
    }

    /// TRUNCATE (transactional): deletes every row visible to the transaction.
    pub fn truncate(&self, tables: &[Arc<TableDesc>], ctx: &ExecContext) -> FdwResult<()> {
        let txn = self.txn(ctx);
        let mut txn = txn.lock();
        for desc in tables {
            let t = self.table(desc)?;
            let st = t.state();
            let mut rows: Vec<u64> = Vec::new();
            for e in st.heap.map.iter() {
                if e.value().tid() & ABSENT == 0 {
                    rows.push(e.value().row_id);
                }
            }
            if let Some(tw) = txn.tables.get(&t.id) {
                rows.extend(
                    tw.entries.iter().filter(|(_, e)| e.rec.is_none() && e.latest().is_some()).map(|(r, _)| *r),
                );
            }
            for row in rows {
                txn.delete(&t, &st, row)?;
            }
        }
        Ok(())
    }

    /// VACUUM: compaction into fresh pools.
    pub fn vacuum(&self, desc: &TableDesc) -> FdwResult<()> {
        let t = self.table(desc)?;
        let st = t.state();
        let heap = Arc::new(Table::heap_index(&st.name));
        let indexes: Vec<Arc<Index>> = st.indexes.iter().map(|i| Arc::new(i.fresh())).collect();
        let version = self.clock.fetch_add(1, Ordering::AcqRel) + 1;
        let mut live = 0i64;
        let mut old_records = Vec::new();
        for e in st.heap.map.iter() {
            let rec = e.value();
            lock_wait(rec)?;
            old_records.push(rec.clone());
            let (tid, data) = rec.read();
            if tid & ABSENT != 0 {
                continue;
            }
            let copy: RowData = data.iter().map(deep_copy).collect::<Vec<_>>().into();
            heap.pool.alloc(RECORD_OVERHEAD + data_bytes(&copy));
            let new = Arc::new(Record::present(rec.row_id, copy.clone(), version));
            heap.add(Key::row_id(rec.row_id), new.clone());
            for index in &indexes {
                index.add(index.entry_key(rec.row_id, &copy)?, new.clone());
            }
            live += 1;
        }
        for rec in &old_records {
            rec.install(None, version);
            rec.unlock();
        }
        t.set_state(TableState { name: st.name.clone(), columns: st.columns.clone(), heap, indexes });
        t.set_live(live);
        Ok(())
    }
}

/// A copy that shares no allocation with the original (VACUUM moves rows to new memory).
fn deep_copy(d: &Datum) -> Datum {
    match d {
        Datum::Text(s) => Datum::Text(Arc::from(&**s)),
        other => other.clone(),
    }
}

fn no_column(column: usize, table: &str) -> fdw_api::FdwError {
    err!(UNDEFINED_COLUMN, "column {} of relation \"{}\" does not exist", column + 1, table)
}

/// Locks a record for DDL, waiting for a committer that holds it.
fn lock_wait(rec: &Record) -> FdwResult<()> {
    let start = Instant::now();
    while !rec.try_lock() {
        if start.elapsed().as_secs() > 5 {
            return Err(concurrent_update());
        }
        std::thread::yield_now();
    }
    Ok(())
}
