//! Table locks: PostgreSQL's heavyweight relation locks, held until the end of the
//! transaction.
//!
//! Every statement locks the relations it touches before running: a query takes
//! `AccessShare` on each relation it scans, DML `RowExclusive` on its target, DDL a stronger
//! mode on its target (`AccessExclusive` for DROP, ALTER, TRUNCATE and VACUUM; `Share` for
//! CREATE INDEX, which lets readers in but keeps writers out, as PostgreSQL does). Locks are
//! released together when the transaction ends (`release_all`), so a DROP TABLE waits for
//! every transaction that has read the table to finish. MOT's own optimistic concurrency
//! control still decides row-level conflicts: these locks only order DDL and maintenance
//! against running transactions (openGauss's "vacuum under an exclusive table lock").
//!
//! The conflict matrix is PostgreSQL's eight modes. A request that conflicts with a lock held
//! by another transaction, or with an earlier waiter (first come, first served, so a stream of
//! readers cannot starve a DROP), waits on a condition variable until it can be granted, at
//! most `lock_timeout` (`canceling statement due to lock timeout`, 55P03; 0 waits forever).
//! Before waiting, the wait-for graph is searched: a cycle through the requester is reported
//! at once as `deadlock detected` (40P01), where PostgreSQL would wait `deadlock_timeout`
//! first.
//!
//! Fast path (PostgreSQL's, for the same reason): the weak modes every query and DML statement
//! takes (`AccessShare`, `RowShare`, `RowExclusive`) never conflict with each other, so while
//! no transaction holds or wants a strong mode (`Share` and above) on a relation, they are
//! recorded in a small table sharded by transaction instead of the shared lock table. A strong
//! request first counts itself in its relation's partition of `strong` (new weak requests then
//! take the slow path), then moves the fast-path locks of that relation into the shared table,
//! so it sees and waits for them as usual. Lock order: the shared table, then a shard.
//!
//! Simplifications: one mutex over the shared table (only strong locks and weak locks taken
//! while a strong one is around get there); no row locks (MOT validates rows at commit); no
//! advisory locks; no `LOCK TABLE` statement.

type HashMap<K, V> = fdw_api::hash::FastMap<K, V>;
use fdw_api::hash::Padded;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use fdw_api::{err, ExecContext, FdwResult, TxnId};
use parking_lot::{Condvar, Mutex};
use sqlparser::ast;

use super::session::Session;
use super::txn::finish_txn;
use crate::catalog::Catalog;
use crate::plan::physical::{for_each_child, Node, PhysicalQuery, Plan};
use crate::sql::{self, Statement};

/// PostgreSQL's table lock modes, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LockMode {
    /// SELECT.
    AccessShare = 0,
    /// SELECT FOR UPDATE/SHARE.
    RowShare,
    /// INSERT, UPDATE, DELETE, COPY FROM.
    RowExclusive,
    /// Plain VACUUM, ANALYZE in PostgreSQL.
    ShareUpdateExclusive,
    /// CREATE INDEX.
    Share,
    ShareRowExclusive,
    Exclusive,
    /// DROP, ALTER, TRUNCATE, VACUUM (here).
    AccessExclusive,
}

impl LockMode {
    fn bit(self) -> u8 {
        1 << self as u8
    }

    /// The modes this one conflicts with, as a bit set (PostgreSQL's conflict table).
    fn conflicts(self) -> u8 {
        use LockMode::*;
        let set = |modes: &[LockMode]| modes.iter().fold(0u8, |acc, m| acc | m.bit());
        match self {
            AccessShare => set(&[AccessExclusive]),
            RowShare => set(&[Exclusive, AccessExclusive]),
            RowExclusive => set(&[Share, ShareRowExclusive, Exclusive, AccessExclusive]),
            ShareUpdateExclusive => set(&[ShareUpdateExclusive, Share, ShareRowExclusive, Exclusive, AccessExclusive]),
            Share => set(&[RowExclusive, ShareUpdateExclusive, ShareRowExclusive, Exclusive, AccessExclusive]),
            ShareRowExclusive => {
                set(&[RowExclusive, ShareUpdateExclusive, Share, ShareRowExclusive, Exclusive, AccessExclusive])
            }
            Exclusive => set(&[
                RowShare,
                RowExclusive,
                ShareUpdateExclusive,
                Share,
                ShareRowExclusive,
                Exclusive,
                AccessExclusive,
            ]),
            AccessExclusive => 0xff,
        }
    }
}

/// The locks on one relation: who holds which modes, who waits for which, in arrival order.
#[derive(Default)]
struct RelLocks {
    holders: Vec<(TxnId, u8)>,
    waiters: Vec<(TxnId, LockMode)>,
}

impl RelLocks {
    fn held_by(&self, xid: TxnId) -> u8 {
        self.holders.iter().find(|(x, _)| *x == xid).map_or(0, |(_, m)| *m)
    }

    /// Transactions in the way of `xid` getting `mode`: conflicting holders, and conflicting
    /// waiters that arrived earlier unless `xid` already holds a lock here (as PostgreSQL, a
    /// holder upgrading does not queue behind newcomers).
    fn blockers(&self, xid: TxnId, mode: LockMode) -> Vec<TxnId> {
        let conflicts = mode.conflicts();
        let mut out: Vec<TxnId> =
            self.holders.iter().filter(|(x, m)| *x != xid && m & conflicts != 0).map(|(x, _)| *x).collect();
        if self.held_by(xid) == 0 {
            for (w, wm) in &self.waiters {
                if *w == xid {
                    break;
                }
                if wm.bit() & conflicts != 0 && !out.contains(w) {
                    out.push(*w);
                }
            }
        }
        out
    }
}

#[derive(Default)]
struct LockTable {
    rels: HashMap<u64, RelLocks>,
    /// Relations each transaction holds locks on.
    held: HashMap<TxnId, Vec<u64>>,
    /// The relation each waiting transaction waits for.
    waiting: HashMap<TxnId, (u64, LockMode)>,
}

impl LockTable {
    fn grant(&mut self, xid: TxnId, rel: u64, mode: LockMode) {
        let r = self.rels.entry(rel).or_default();
        match r.holders.iter_mut().find(|(x, _)| *x == xid) {
            Some((_, m)) => *m |= mode.bit(),
            None => {
                r.holders.push((xid, mode.bit()));
                self.held.entry(xid).or_default().push(rel);
            }
        }
    }

    /// Whether waiting would close a cycle: some transaction `xid` waits for, directly or
    /// through other waiters, waits for `xid`.
    fn would_deadlock(&self, xid: TxnId, rel: u64, mode: LockMode) -> bool {
        let mut stack: Vec<TxnId> = self.rels.get(&rel).map(|r| r.blockers(xid, mode)).unwrap_or_default();
        let mut seen: Vec<TxnId> = Vec::new();
        while let Some(t) = stack.pop() {
            if t == xid {
                return true;
            }
            if seen.contains(&t) {
                continue;
            }
            seen.push(t);
            if let Some(&(r, m)) = self.waiting.get(&t) {
                if let Some(rl) = self.rels.get(&r) {
                    stack.extend(rl.blockers(t, m));
                }
            }
        }
        false
    }

    fn stop_waiting(&mut self, xid: TxnId, rel: u64) {
        self.waiting.remove(&xid);
        if let Some(r) = self.rels.get_mut(&rel) {
            r.waiters.retain(|(x, _)| *x != xid);
            if r.holders.is_empty() && r.waiters.is_empty() {
                self.rels.remove(&rel);
            }
        }
    }
}

const STRONG_MODES: [LockMode; 4] =
    [LockMode::Share, LockMode::ShareRowExclusive, LockMode::Exclusive, LockMode::AccessExclusive];

/// Partitions of the strong-lock counters (relations hash into them).
const STRONG_PARTITIONS: usize = 256;
/// Shards of the fast-path table (transactions hash into them).
const FAST_SHARDS: usize = 32;

/// One transaction's fast-path locks.
#[derive(Default)]
struct FastLocks {
    locks: Vec<(u64, LockMode)>,
    /// The transaction (also) has locks in the shared table.
    shared: bool,
}

/// The lock table of a database.
pub struct LockManager {
    table: Mutex<LockTable>,
    released: Condvar,
    /// Strong locks held or requested, per relation partition.
    strong: Box<[AtomicU32]>,
    fast: Box<[Padded<Mutex<HashMap<TxnId, FastLocks>>>]>,
}

impl Default for LockManager {
    fn default() -> Self {
        LockManager {
            table: Mutex::default(),
            released: Condvar::new(),
            strong: (0..STRONG_PARTITIONS).map(|_| AtomicU32::new(0)).collect(),
            fast: (0..FAST_SHARDS).map(|_| Padded::default()).collect(),
        }
    }
}

fn is_strong(mode: LockMode) -> bool {
    mode > LockMode::ShareUpdateExclusive
}

impl LockManager {
    pub fn new() -> LockManager {
        LockManager::default()
    }

    fn strong_count(&self, rel: u64) -> &AtomicU32 {
        &self.strong[(rel.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize % STRONG_PARTITIONS]
    }

    fn fast_shard(&self, xid: TxnId) -> &Mutex<HashMap<TxnId, FastLocks>> {
        &self.fast[(xid % FAST_SHARDS as u64) as usize]
    }

    /// Locks relation `rel` in `mode` for transaction `xid`, waiting at most `timeout` (`None`:
    /// forever) for conflicting locks of other transactions to be released.
    pub fn lock(&self, xid: TxnId, rel: u64, mode: LockMode, timeout: Option<Duration>) -> FdwResult<()> {
        if mode < LockMode::ShareUpdateExclusive {
            let mut shard = self.fast_shard(xid).lock();
            let mine = shard.entry(xid).or_default();
            if mine.locks.contains(&(rel, mode)) {
                return Ok(());
            }
            if self.strong_count(rel).load(Ordering::SeqCst) == 0 {
                mine.locks.push((rel, mode));
                return Ok(());
            }
            // Marked before the shared table has anything, so release_all looks there.
            mine.shared = true;
            drop(shard);
            return self.lock_shared(xid, rel, mode, timeout).map(drop);
        }
        self.fast_shard(xid).lock().entry(xid).or_default().shared = true;
        if !is_strong(mode) {
            // ShareUpdateExclusive: conflicts with itself, so never on the fast path, but with
            // no weak mode, so it does not turn the fast path off either.
            return self.lock_shared(xid, rel, mode, timeout).map(drop);
        }
        let counter = self.strong_count(rel);
        counter.fetch_add(1, Ordering::SeqCst);
        let r = self.lock_shared(xid, rel, mode, timeout);
        // The count stays while the lock is held (release_all takes it back).
        if !matches!(r, Ok(true)) {
            counter.fetch_sub(1, Ordering::SeqCst);
        }
        r.map(drop)
    }

    /// Moves the fast-path locks on `rel` into the shared table (a strong request is coming).
    fn transfer(&self, t: &mut LockTable, rel: u64) {
        for shard in self.fast.iter() {
            let mut shard = shard.lock();
            for (&xid, f) in shard.iter_mut() {
                let before = f.locks.len();
                let mut moved = Vec::new();
                f.locks.retain(|&(r, m)| {
                    let keep = r != rel;
                    if !keep {
                        moved.push(m);
                    }
                    keep
                });
                if f.locks.len() != before {
                    f.shared = true;
                    for m in moved {
                        t.grant(xid, rel, m);
                    }
                }
            }
        }
    }

    /// The shared table's side of `lock`: `Ok(false)` if `xid` held the mode already.
    fn lock_shared(&self, xid: TxnId, rel: u64, mode: LockMode, timeout: Option<Duration>) -> FdwResult<bool> {
        let mut t = self.table.lock();
        if is_strong(mode) {
            self.transfer(&mut t, rel);
        }
        let r = t.rels.entry(rel).or_default();
        if r.held_by(xid) & mode.bit() != 0 {
            return Ok(false);
        }
        if r.blockers(xid, mode).is_empty() {
            t.grant(xid, rel, mode);
            return Ok(true);
        }
        if t.would_deadlock(xid, rel, mode) {
            if let Some(r) = t.rels.get(&rel) {
                if r.holders.is_empty() && r.waiters.is_empty() {
                    t.rels.remove(&rel);
                }
            }
            return Err(deadlock());
        }
        t.rels.entry(rel).or_default().waiters.push((xid, mode));
        t.waiting.insert(xid, (rel, mode));
        let deadline = timeout.map(|d| Instant::now() + d);
        loop {
            match deadline {
                Some(d) => {
                    if self.released.wait_until(&mut t, d).timed_out() {
                        let free = t.rels.get(&rel).is_some_and(|r| r.blockers(xid, mode).is_empty());
                        if !free {
                            t.stop_waiting(xid, rel);
                            drop(t);
                            // Others queued behind this request may go now.
                            self.released.notify_all();
                            return Err(err!(LOCK_NOT_AVAILABLE, "canceling statement due to lock timeout"));
                        }
                    }
                }
                None => self.released.wait(&mut t),
            }
            let free = t.rels.get(&rel).is_none_or(|r| r.blockers(xid, mode).is_empty());
            if free {
                t.stop_waiting(xid, rel);
                t.grant(xid, rel, mode);
                return Ok(true);
            }
            // Someone new may have started waiting for this transaction meanwhile.
            if t.would_deadlock(xid, rel, mode) {
                t.stop_waiting(xid, rel);
                return Err(deadlock());
            }
        }
    }

    /// Releases every lock of `xid` (transaction end).
    pub fn release_all(&self, xid: TxnId) {
        let fast = self.fast_shard(xid).lock().remove(&xid);
        if !fast.is_some_and(|f| f.shared) {
            return;
        }
        let mut t = self.table.lock();
        let Some(rels) = t.held.remove(&xid) else { return };
        for rel in rels {
            if let Some(r) = t.rels.get_mut(&rel) {
                let held = r.held_by(xid);
                for m in STRONG_MODES {
                    if held & m.bit() != 0 {
                        self.strong_count(rel).fetch_sub(1, Ordering::SeqCst);
                    }
                }
                r.holders.retain(|(x, _)| *x != xid);
                if r.holders.is_empty() && r.waiters.is_empty() {
                    t.rels.remove(&rel);
                }
            }
        }
        drop(t);
        self.released.notify_all();
    }

    /// The modes `xid` holds on `rel`.
    #[cfg(test)]
    fn held(&self, xid: TxnId, rel: u64) -> Vec<LockMode> {
        use LockMode::*;
        let mut bits = self.table.lock().rels.get(&rel).map_or(0, |r| r.held_by(xid));
        if let Some(f) = self.fast_shard(xid).lock().get(&xid) {
            bits |= f.locks.iter().filter(|(r, _)| *r == rel).fold(0, |b, (_, m)| b | m.bit());
        }
        [
            AccessShare,
            RowShare,
            RowExclusive,
            ShareUpdateExclusive,
            Share,
            ShareRowExclusive,
            Exclusive,
            AccessExclusive,
        ]
        .into_iter()
        .filter(|m| bits & m.bit() != 0)
        .collect()
    }
}

fn deadlock() -> fdw_api::FdwError {
    err!(T_R_DEADLOCK_DETECTED, "deadlock detected")
        .with_detail("The transaction waits for a table lock held by a transaction that waits for one of its own.")
        .with_hint("See server log for query details.")
}

/// The relations a DDL or maintenance statement changes, with the mode it needs (relations
/// the catalog does not know are skipped: the DDL itself reports them).
pub(super) fn ddl_targets(catalog: &Catalog, stmt: &Statement) -> Vec<(u64, LockMode)> {
    let mut names: Vec<(&ast::ObjectName, LockMode)> = Vec::new();
    let mut indexes: Vec<&ast::ObjectName> = Vec::new();
    match stmt {
        Statement::Sql(s) => match &**s {
            ast::Statement::Drop { object_type, names: n, .. } => match object_type {
                ast::ObjectType::Table | ast::ObjectType::View => {
                    names.extend(n.iter().map(|x| (x, LockMode::AccessExclusive)))
                }
                ast::ObjectType::Index => indexes.extend(n.iter()),
                _ => {}
            },
            ast::Statement::AlterTable { name, .. } => names.push((name, LockMode::AccessExclusive)),
            ast::Statement::CreateIndex(ci) => names.push((&ci.table_name, LockMode::Share)),
            ast::Statement::Truncate { table_names, .. } => {
                names.extend(table_names.iter().map(|t| (&t.name, LockMode::AccessExclusive)))
            }
            ast::Statement::Vacuum(v) => names.extend(v.table_name.iter().map(|t| (t, LockMode::AccessExclusive))),
            _ => {}
        },
        Statement::Med(_) => {}
    }
    let mut out = Vec::new();
    for (n, mode) in names {
        if let Ok((schema, rel)) = sql::object_name(n) {
            if let Some(r) = catalog.relation(schema.as_deref(), &rel) {
                out.push((r.oid as u64, mode));
            }
        }
    }
    for n in indexes {
        if let Ok((_, idx)) = sql::object_name(n) {
            if let Some(r) = catalog.relations.values().find(|r| r.indexes.iter().any(|i| i.name == idx)) {
                out.push((r.oid as u64, LockMode::AccessExclusive));
            }
        }
    }
    out
}

/// The relations a plan reads (`AccessShare`) or writes (`RowExclusive`), by OID; scans of
/// things that are not catalog relations (function scans) take no lock.
pub(super) fn plan_targets(catalog: &Catalog, q: &PhysicalQuery) -> Vec<(u64, LockMode)> {
    fn walk(catalog: &Catalog, p: &Plan, out: &mut Vec<(u64, LockMode)>) {
        let target = match &p.node {
            Node::ForeignScan(s) => Some((&s.request.table, LockMode::AccessShare)),
            Node::Modify(m) => Some((&m.table, LockMode::RowExclusive)),
            _ => None,
        };
        if let Some((t, mode)) = target {
            let known = catalog.relation(Some(&t.schema), &t.name).is_some_and(|r| r.oid as u64 == t.id);
            if known && !out.contains(&(t.id, mode)) {
                out.push((t.id, mode));
            }
        }
        for_each_child(p, &mut |c| walk(catalog, c, out));
    }
    let mut out = Vec::new();
    walk(catalog, &q.root, &mut out);
    for sp in &q.subplans {
        walk(catalog, &sp.plan, &mut out);
    }
    out
}

/// A `lock_timeout` value in PostgreSQL's syntax (`10s`, `500ms`, `1min`, a number of
/// milliseconds); 0 means wait forever.
pub(super) fn parse_lock_timeout(v: &str) -> Option<Duration> {
    let v = v.trim().trim_matches('\'');
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num.parse().ok()?;
    let ms = match unit.trim() {
        "" | "ms" => n,
        "s" => n * 1000,
        "min" => n * 60_000,
        "h" => n * 3_600_000,
        "d" => n * 86_400_000,
        _ => return None,
    };
    Some(Duration::from_millis(ms))
}

/// The default `lock_timeout` when the session has none.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

impl Session {
    /// The session's `lock_timeout`.
    fn lock_timeout(&self) -> Option<Duration> {
        self.settings.lock_timeout
    }

    /// Takes the locks a statement's plan needs (`plan_targets`), for the statement's
    /// transaction.
    pub(super) fn lock_relations(&self, targets: &[(u64, LockMode)], ctx: &ExecContext) -> FdwResult<()> {
        let timeout = self.lock_timeout();
        for &(rel, mode) in targets {
            self.db.locks.lock(ctx.xid, rel, mode, timeout)?;
        }
        Ok(())
    }

    /// Takes the lock a DDL or maintenance statement needs on its target relations.
    pub(super) fn lock_ddl(&self, stmt: &Statement, ctx: &ExecContext) -> FdwResult<()> {
        let catalog = self.db.catalog.read().clone();
        let timeout = self.lock_timeout();
        for (rel, mode) in ddl_targets(&catalog, stmt) {
            self.db.locks.lock(ctx.xid, rel, mode, timeout)?;
        }
        Ok(())
    }

    /// Locks one relation (COPY's target, VACUUM's tables).
    pub(super) fn lock_relation(&self, rel: u64, mode: LockMode, ctx: &ExecContext) -> FdwResult<()> {
        self.db.locks.lock(ctx.xid, rel, mode, self.lock_timeout())
    }
}

/// A session dropped inside a transaction block rolls it back and releases its locks (as a
/// PostgreSQL backend does when its client disconnects).
impl Drop for Session {
    fn drop(&mut self) {
        if let Some(t) = self.txn.take() {
            let ctx = ExecContext {
                xid: t.xid,
                in_transaction_block: true,
                isolation: t.isolation,
                user: crate::catalog::SUPERUSER.to_string(),
                services: self.services.clone(),
            };
            let _ = finish_txn(&self.db, false, &ctx, &t.touched, false);
            self.db.locks.release_all(t.xid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::thread;

    const SHORT: Option<Duration> = Some(Duration::from_millis(50));

    #[test]
    fn conflict_matrix_is_postgres() {
        use LockMode::*;
        assert_eq!(AccessShare.conflicts(), AccessExclusive.bit());
        assert!(RowExclusive.conflicts() & Share.bit() != 0);
        assert!(RowExclusive.conflicts() & RowExclusive.bit() == 0);
        assert!(Share.conflicts() & AccessShare.bit() == 0);
        assert!(Share.conflicts() & Share.bit() == 0);
        // The table is symmetric.
        let all = [AccessShare, RowShare, RowExclusive, ShareUpdateExclusive, Share, ShareRowExclusive, Exclusive];
        for a in all.iter().chain([AccessExclusive].iter()) {
            for b in all.iter().chain([AccessExclusive].iter()) {
                assert_eq!(a.conflicts() & b.bit() != 0, b.conflicts() & a.bit() != 0, "{a:?} vs {b:?}");
            }
        }
    }

    /// Weak locks stay out of the shared table until a strong request moves them there, and
    /// the strong request waits for them all the same.
    #[test]
    fn fast_path_locks_are_seen_by_strong_requests() {
        use LockMode::*;
        let m = LockManager::new();
        let in_shared = |m: &LockManager, xid| m.table.lock().held.contains_key(&xid);
        m.lock(1, 5, AccessShare, SHORT).unwrap();
        m.lock(1, 5, AccessShare, SHORT).unwrap();
        assert!(!in_shared(&m, 1));
        assert_eq!(m.held(1, 5), vec![AccessShare]);
        let e = m.lock(2, 5, AccessExclusive, SHORT).unwrap_err();
        assert_eq!(e.sqlstate.0, "55P03");
        assert!(in_shared(&m, 1), "the strong request moved the weak lock");
        assert_eq!(m.strong_count(5).load(Ordering::SeqCst), 0, "a failed request uncounts itself");
        m.release_all(1);
        m.lock(2, 5, AccessExclusive, SHORT).unwrap();
        // While it is held, weak requests take the slow path and wait.
        assert_eq!(m.lock(3, 5, RowExclusive, SHORT).unwrap_err().sqlstate.0, "55P03");
        m.lock(3, 6, RowExclusive, SHORT).unwrap();
        m.release_all(2);
        assert_eq!(m.strong_count(5).load(Ordering::SeqCst), 0);
        m.lock(4, 5, RowExclusive, SHORT).unwrap();
        assert!(!in_shared(&m, 4), "the fast path is back");
        // ShareUpdateExclusive conflicts with itself: never on the fast path.
        m.lock(5, 7, ShareUpdateExclusive, SHORT).unwrap();
        assert_eq!(m.lock(6, 7, ShareUpdateExclusive, SHORT).unwrap_err().sqlstate.0, "55P03");
        m.lock(6, 7, RowExclusive, SHORT).unwrap();
        for x in 3..=6 {
            m.release_all(x);
        }
        assert!(m.table.lock().rels.is_empty());
    }

    #[test]
    fn shared_locks_coexist_and_exclusive_times_out() {
        let m = LockManager::new();
        m.lock(1, 10, LockMode::AccessShare, SHORT).unwrap();
        m.lock(2, 10, LockMode::RowExclusive, SHORT).unwrap();
        let e = m.lock(3, 10, LockMode::AccessExclusive, SHORT).unwrap_err();
        assert_eq!(e.message, "canceling statement due to lock timeout");
        assert_eq!(e.sqlstate.0, "55P03");
        m.release_all(1);
        m.release_all(2);
        m.lock(3, 10, LockMode::AccessExclusive, SHORT).unwrap();
        assert_eq!(m.held(3, 10), vec![LockMode::AccessExclusive]);
        // The holder itself may take any other mode.
        m.lock(3, 10, LockMode::AccessShare, SHORT).unwrap();
        m.release_all(3);
        assert!(m.table.lock().rels.is_empty());
    }

    #[test]
    fn waiter_is_granted_at_release() {
        let m = Arc::new(LockManager::new());
        m.lock(1, 7, LockMode::AccessShare, None).unwrap();
        let m2 = m.clone();
        let h = thread::spawn(move || m2.lock(2, 7, LockMode::AccessExclusive, Some(Duration::from_secs(5))));
        thread::sleep(Duration::from_millis(50));
        // A newcomer queues behind the waiting exclusive request.
        assert!(m.lock(3, 7, LockMode::AccessShare, SHORT).is_err());
        m.release_all(1);
        h.join().unwrap().unwrap();
        assert_eq!(m.held(2, 7), vec![LockMode::AccessExclusive]);
    }

    #[test]
    fn upgrade_cycle_is_a_deadlock() {
        let m = Arc::new(LockManager::new());
        m.lock(1, 5, LockMode::AccessShare, None).unwrap();
        m.lock(2, 5, LockMode::AccessShare, None).unwrap();
        let m2 = m.clone();
        let h = thread::spawn(move || m2.lock(1, 5, LockMode::AccessExclusive, Some(Duration::from_secs(5))));
        thread::sleep(Duration::from_millis(50));
        let e = m.lock(2, 5, LockMode::AccessExclusive, Some(Duration::from_secs(5))).unwrap_err();
        assert_eq!(e.sqlstate.0, "40P01");
        m.release_all(2);
        h.join().unwrap().unwrap();
    }

    #[test]
    fn lock_timeout_syntax() {
        assert_eq!(parse_lock_timeout("100ms"), Some(Duration::from_millis(100)));
        assert_eq!(parse_lock_timeout("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_lock_timeout("1500"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_lock_timeout("0"), Some(Duration::ZERO));
        assert_eq!(parse_lock_timeout("soon"), None);
    }
}
