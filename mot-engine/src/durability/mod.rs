//! MOT durability: redo records through the envelope's WAL, checkpoints in segment files,
//! recovery (openGauss MOT's checkpoint / redo / recovery, simplified).
//!
//! * **Redo** ([`redo`]): at the end of a successful `pre_commit` (validated, every written
//!   record still locked, so conflicting transactions log in their serialization order) the
//!   write set becomes one redo record of resource manager [`RM_MOT`]: a list of full-row
//!   upserts and deletes keyed by (table id, row id), inserted with `EnvelopeServices::wal_insert`
//!   under the transaction's xid. The envelope then writes its commit record; replay applies a
//!   transaction's records only when it meets that commit record. DDL on MOT tables is logged
//!   when it takes effect (it is not transactional in MOT) with xid 0: replayed in log order.
//!   Every redo operation sets a row to a value or removes it, so replaying it over a state that
//!   already contains it (or a later state) converges to the same result: redo is idempotent.
//! * **Checkpoint** ([`checkpoint`]): a fuzzy snapshot made consistent by replay. The envelope
//!   takes the redo LSN while no transaction is between its redo record and its install (its
//!   commit gate) and holds DDL off for the whole checkpoint. MOT then copies every committed row
//!   into segment files (a segment is a row-id range of one table), with concurrent transactions
//!   running on. A row copied may already include changes logged after the redo LSN; replaying
//!   from the redo LSN re-applies them, which is harmless (idempotent) and brings every row to
//!   its final committed state: the snapshot plus the WAL is transaction-consistent. The files
//!   go to a new directory; a small control file (`mot/control`) is switched atomically to it
//!   and older directories are removed. MOT keeps the LSN of its checkpoint and ignores redo
//!   records older than it during replay.
//! * **Recovery**: [`checkpoint::load`] reads the control file, rebuilds the tables, then loads the
//!   segments in parallel (`load`: segments are decoded by any thread, each heap and index is
//!   built by one thread at a time in row-id order, from sorted batches). The envelope then
//!   replays the WAL into [`redo::apply`].

pub mod checkpoint;
pub mod codec;
mod load;
pub mod redo;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use fdw_api::services::RmgrId;
use fdw_api::{EnvelopeServices, FdwResult, Lsn, TxnId};
use parking_lot::RwLock;

pub use redo::describe;

/// MOT's resource-manager id in the envelope's WAL.
pub const RM_MOT: RmgrId = 10;

/// The engine's durability state: the services to log through and the checkpoint LSN.
#[derive(Default)]
pub struct Durability {
    services: RwLock<Option<Arc<dyn EnvelopeServices>>>,
    /// Set when the envelope has a data directory: only then are redo records built at all.
    dir: RwLock<Option<PathBuf>>,
    /// LSN of the checkpoint loaded or last written: redo records before it are in the snapshot.
    checkpoint_lsn: AtomicU64,
    last_load: parking_lot::Mutex<checkpoint::CheckpointStats>,
}

impl std::fmt::Debug for Durability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Durability")
            .field("dir", &*self.dir.read())
            .field("checkpoint_lsn", &self.checkpoint_lsn())
            .finish()
    }
}

impl Durability {
    /// Remembers the envelope's services (`FdwRoutine::init`).
    pub fn set_services(&self, services: Arc<dyn EnvelopeServices>) {
        *self.dir.write() = services.data_dir();
        *self.services.write() = Some(services);
    }

    /// The data directory, when the database is durable.
    pub fn dir(&self) -> Option<PathBuf> {
        self.dir.read().clone()
    }

    pub fn is_durable(&self) -> bool {
        self.dir.read().is_some()
    }

    pub fn checkpoint_lsn(&self) -> Lsn {
        Lsn(self.checkpoint_lsn.load(Ordering::Acquire))
    }

    pub(crate) fn set_checkpoint_lsn(&self, lsn: Lsn) {
        self.checkpoint_lsn.store(lsn.0, Ordering::Release);
    }

    /// Inserts one record of [`RM_MOT`] through the envelope.
    pub(crate) fn insert(&self, xid: TxnId, data: &[u8]) -> FdwResult<Lsn> {
        match &*self.services.read() {
            Some(s) => s.wal_insert(RM_MOT, xid, data),
            None => Ok(Lsn(0)),
        }
    }
}

impl crate::MotFdw {
    /// Statistics of the last checkpoint loaded at startup.
    pub fn last_load(&self) -> checkpoint::CheckpointStats {
        *self.engine().durability.last_load.lock()
    }
}

impl fdw_api::DurabilityRoutine for crate::MotFdw {
    fn rmgr_id(&self) -> RmgrId {
        RM_MOT
    }

    fn checkpoint(&self, redo_lsn: Lsn) -> FdwResult<Lsn> {
        let engine = self.engine();
        let Some(dir) = engine.durability.dir() else { return Ok(redo_lsn) };
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        checkpoint::write(engine, &dir, redo_lsn, threads)?;
        Ok(redo_lsn)
    }

    fn redo(&self, lsn: Lsn, _xid: TxnId, data: &[u8]) -> FdwResult<()> {
        redo::apply(self.engine(), lsn, data)
    }

    fn recover(&self, threads: usize) -> FdwResult<()> {
        let engine = self.engine();
        let Some(dir) = engine.durability.dir() else { return Ok(()) };
        let stats = checkpoint::load(engine, &dir, threads)?;
        *engine.durability.last_load.lock() = stats;
        Ok(())
    }
}
