//! Tables: a heap of row records keyed by row id, plus secondary indexes.
//!
//! The heap is itself an [`Index`] with no key columns (its entry key is the row id), so one
//! code path serves sequential and index scans, and phantom validation works the same on both.
//! A table's shape (columns, indexes, pools) is an immutable [`TableState`] swapped as a whole
//! by DDL and VACUUM, so a running scan keeps a consistent view without locks.
//!
//! Row ids are assigned at insert time (before commit) from a per-table counter and never
//! reused; they are what the executor hands back to `update`/`delete` (PostgreSQL's ctid).

use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use fdw_api::{err, DataType, Datum, FdwResult, IndexDef, TableDesc};
use parking_lot::RwLock;

use crate::errors::not_null_violation;
use crate::index::Index;
use crate::key::KeyClass;

#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    pub ty: DataType,
    pub not_null: bool,
}

/// The shape and storage of a table at one point in time.
#[derive(Debug)]
pub struct TableState {
    pub name: String,
    pub columns: Vec<Column>,
    /// Row id -> record; its pool is the table's memory pool.
    pub heap: Arc<Index>,
    pub indexes: Vec<Arc<Index>>,
}

impl TableState {
    pub fn index(&self, name: &str) -> Option<&Arc<Index>> {
        self.indexes.iter().find(|i| i.name == name)
    }

    pub fn index_by_id(&self, id: u32) -> Option<&Arc<Index>> {
        if self.heap.id == id {
            return Some(&self.heap);
        }
        self.indexes.iter().find(|i| i.id == id)
    }

    pub fn column_names(&self, cols: &[usize]) -> Vec<&str> {
        cols.iter().map(|&c| self.columns.get(c).map_or("?", |col| col.name.as_str())).collect()
    }

    /// Checks a row about to be stored: arity and NOT NULL (23502).
    pub fn check_row(&self, row: &[Datum]) -> FdwResult<()> {
        if row.len() != self.columns.len() {
            return Err(err!(
                INTERNAL_ERROR,
                "mot: row of {} columns for table \"{}\" of {} columns",
                row.len(),
                self.name,
                self.columns.len()
            ));
        }
        for (c, d) in self.columns.iter().zip(row) {
            if c.not_null && d.is_null() {
                return Err(not_null_violation(&c.name, &self.name, row));
            }
        }
        Ok(())
    }

    /// Bytes of all secondary indexes.
    pub fn index_bytes(&self) -> u64 {
        self.indexes.iter().map(|i| i.pool.bytes()).sum()
    }

    /// The same state with other indexes.
    pub fn with_indexes(&self, indexes: Vec<Arc<Index>>) -> TableState {
        TableState { name: self.name.clone(), columns: self.columns.clone(), heap: self.heap.clone(), indexes }
    }
}

#[derive(Debug)]
pub struct Table {
    pub id: u64,
    state: RwLock<Arc<TableState>>,
    next_row_id: AtomicU64,
    next_index_id: AtomicU32,
    live: AtomicI64,
}

impl Table {
    /// A table for `desc`, with the indexes it declares (primary key, unique constraints).
    pub fn create(desc: &TableDesc) -> FdwResult<Table> {
        let columns: Vec<Column> = desc
            .columns
            .iter()
            .map(|c| Column { name: c.name.clone(), ty: c.ty.clone(), not_null: c.not_null })
            .collect();
        let heap = Arc::new(Table::heap_index(&desc.name));
        let state = TableState { name: desc.name.clone(), columns, heap, indexes: Vec::new() };
        let table = Table {
            id: desc.id,
            state: RwLock::new(Arc::new(state)),
            next_row_id: AtomicU64::new(1),
            next_index_id: AtomicU32::new(1),
            live: AtomicI64::new(0),
        };
        let mut indexes = Vec::new();
        for def in &desc.indexes {
            let st = table.state();
            if st.index(&def.name).is_some() || indexes.iter().any(|i: &Arc<Index>| i.name == def.name) {
                return Err(err!(DUPLICATE_TABLE, "relation \"{}\" already exists", def.name));
            }
            indexes.push(Arc::new(table.make_index(&st, def)?));
        }
        let st = table.state().with_indexes(indexes);
        table.set_state(st);
        Ok(table)
    }

    pub fn heap_index(name: &str) -> Index {
        let mut heap = Index::new(0, name, Vec::new(), Vec::new(), false, false);
        heap.pool = Arc::new(crate::memory::MemPool::new(name, "table"));
        heap
    }

    /// An empty index for `def` over the current columns.
    pub fn make_index(&self, state: &TableState, def: &IndexDef) -> FdwResult<Index> {
        let mut classes = Vec::with_capacity(def.columns.len());
        for &c in &def.columns {
            let col = state.columns.get(c).ok_or_else(|| {
                err!(UNDEFINED_COLUMN, "column {} of relation \"{}\" does not exist", c + 1, state.name)
            })?;
            let class = KeyClass::of(&col.ty).ok_or_else(|| {
                err!(UNDEFINED_OBJECT, "data type {} has no default operator class for access method \"btree\"", col.ty)
            })?;
            classes.push(class);
        }
        let id = self.next_index_id.fetch_add(1, Ordering::Relaxed);
        Ok(Index::new(id, &def.name, def.columns.clone(), classes, def.unique || def.primary, def.primary))
    }

    pub fn state(&self) -> Arc<TableState> {
        self.state.read().clone()
    }

    pub fn set_state(&self, state: TableState) {
        *self.state.write() = Arc::new(state);
    }

    pub fn alloc_row_id(&self) -> u64 {
        self.next_row_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Makes sure row ids above `row_id` are never handed out again (recovery).
    pub fn bump_row_id(&self, row_id: u64) {
        self.next_row_id.fetch_max(row_id + 1, Ordering::Relaxed);
    }

    /// The next row id to be handed out (checkpoint).
    pub fn next_row_id(&self) -> u64 {
        self.next_row_id.load(Ordering::Relaxed)
    }

    /// Committed live rows (exact).
    pub fn live_rows(&self) -> u64 {
        self.live.load(Ordering::Relaxed).max(0) as u64
    }

    pub fn add_live(&self, delta: i64) {
        self.live.fetch_add(delta, Ordering::Relaxed);
    }

    pub fn set_live(&self, n: i64) {
        self.live.store(n, Ordering::Relaxed);
    }
}
