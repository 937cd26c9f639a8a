//! The engine: its tables, its running transactions and the global commit clock.
//!
//! Transactions are keyed by the envelope's `TxnId`. Any scan or modification for an xid not
//! yet begun begins it implicitly (with the isolation level of that first context), so a
//! statement outside BEGIN is its own transaction whether or not the envelope calls `begin`.

type HashMap<K, V> = fdw_api::hash::FastMap<K, V>;
use fdw_api::hash::Padded;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use fdw_api::{err, ExecContext, FdwResult, IsolationLevel, TableDesc, TxnId};
use parking_lot::{Mutex, RwLock};

use crate::durability::Durability;
use crate::gc::Gc;
use crate::table::Table;
use crate::txn::Txn;

const TXN_SHARDS: usize = 16;

#[derive(Debug, Default)]
pub struct MotEngine {
    tables: RwLock<HashMap<u64, Arc<Table>>>,
    /// Running transactions, sharded by xid: every statement looks its transaction up a few
    /// times, and one map behind one lock would serialize all sessions there.
    txns: [Padded<Mutex<HashMap<TxnId, Arc<Mutex<Txn>>>>>; TXN_SHARDS],
    /// The commit clock: versions are drawn from it, so they never repeat.
    pub(crate) clock: AtomicU64,
    pub gc: Gc,
    /// Redo logging and the checkpoint LSN (`durability`).
    pub durability: Durability,
}

impl MotEngine {
    pub fn new() -> Arc<MotEngine> {
        Arc::new(MotEngine::default())
    }

    pub fn table(&self, desc: &TableDesc) -> FdwResult<Arc<Table>> {
        self.table_by_id(desc.id).ok_or_else(|| {
            err!(UNDEFINED_TABLE, "relation \"{}\" does not exist in the MOT engine (id {})", desc.name, desc.id)
        })
    }

    pub fn table_by_id(&self, id: u64) -> Option<Arc<Table>> {
        self.tables.read().get(&id).cloned()
    }

    pub fn tables(&self) -> Vec<Arc<Table>> {
        let mut v: Vec<_> = self.tables.read().values().cloned().collect();
        v.sort_by_key(|t| t.id);
        v
    }

    pub(crate) fn add_table(&self, table: Table) -> FdwResult<()> {
        let mut tables = self.tables.write();
        if tables.contains_key(&table.id) {
            return Err(err!(DUPLICATE_TABLE, "relation \"{}\" already exists", table.state().name));
        }
        tables.insert(table.id, Arc::new(table));
        Ok(())
    }

    pub(crate) fn remove_table(&self, id: u64) -> Option<Arc<Table>> {
        let t = self.tables.write().remove(&id);
        for txn in self.all_txns() {
            txn.lock().forget_table(id);
        }
        t
    }

    /// The transaction of `ctx.xid`, begun implicitly if needed.
    pub fn txn(&self, ctx: &ExecContext) -> Arc<Mutex<Txn>> {
        self.txn_for(ctx.xid, ctx.isolation)
    }

    pub fn txn_for(&self, xid: TxnId, isolation: IsolationLevel) -> Arc<Mutex<Txn>> {
        self.txn_shard(xid).lock().entry(xid).or_insert_with(|| Arc::new(Mutex::new(Txn::new(xid, isolation)))).clone()
    }

    fn txn_shard(&self, xid: TxnId) -> &Mutex<HashMap<TxnId, Arc<Mutex<Txn>>>> {
        &self.txns[(xid % TXN_SHARDS as u64) as usize]
    }

    fn existing(&self, xid: TxnId) -> Option<Arc<Mutex<Txn>>> {
        self.txn_shard(xid).lock().get(&xid).cloned()
    }

    pub(crate) fn all_txns(&self) -> Vec<Arc<Mutex<Txn>>> {
        self.txns.iter().flat_map(|s| s.lock().values().cloned().collect::<Vec<_>>()).collect()
    }

    pub fn begin(&self, ctx: &ExecContext) {
        let t = self.txn(ctx);
        t.lock().isolation = ctx.isolation;
    }

    /// Validation (steps 1-3) and the redo record; a failure leaves nothing applied and the
    /// locks released.
    pub fn pre_commit(&self, xid: TxnId) -> FdwResult<()> {
        match self.existing(xid) {
            Some(t) => {
                let mut t = t.lock();
                t.pre_commit(&self.gc)?;
                // The redo record is written while the write set is still locked, so
                // conflicting transactions log in their serialization order.
                self.log_txn(&t, xid).inspect_err(|_| t.abort(&self.gc))
            }
            None => Ok(()),
        }
    }

    /// Install (step 4) and forget the transaction.
    pub fn commit(&self, xid: TxnId) -> FdwResult<()> {
        let Some(t) = self.existing(xid) else { return Ok(()) };
        let r = t.lock().commit(&self.clock, &self.gc);
        if r.is_err() {
            t.lock().abort(&self.gc);
        }
        self.txn_shard(xid).lock().remove(&xid);
        r
    }

    pub fn abort(&self, xid: TxnId) {
        if let Some(t) = self.txn_shard(xid).lock().remove(&xid) {
            t.lock().abort(&self.gc);
        }
    }

    /// Runs one closure as its own transaction, committing it (tests and internal use).
    pub fn run<R>(&self, xid: TxnId, isolation: IsolationLevel, f: impl FnOnce() -> FdwResult<R>) -> FdwResult<R> {
        self.txn_for(xid, isolation);
        match f() {
            Ok(r) => {
                self.pre_commit(xid).inspect_err(|_| self.abort(xid))?;
                self.commit(xid)?;
                Ok(r)
            }
            Err(e) => {
                self.abort(xid);
                Err(e)
            }
        }
    }

    /// Reclaims retired memory now (as far as other threads allow); true if nothing is left.
    pub fn reclaim(&self) -> bool {
        self.gc.collect()
    }
}
