//! Redo idempotence and checkpoint/recovery round trips, with a WAL stand-in that keeps the
//! records in memory.

use std::path::PathBuf;
use std::sync::Arc;

use fdw_api::services::RmgrId;
use fdw_api::{DataType, Datum, EnvelopeServices, FdwResult, FdwRoutine, IsolationLevel, Lsn, TxnId};
use parking_lot::Mutex;

use super::*;
use crate::durability::RM_MOT;

/// Records kept in memory; LSNs are positions in the list (times 8, plus 8).
struct MemWal {
    dir: PathBuf,
    records: Mutex<Vec<(Lsn, TxnId, Vec<u8>)>>,
}

impl EnvelopeServices for MemWal {
    fn wal_insert(&self, rmgr: RmgrId, xid: TxnId, data: &[u8]) -> FdwResult<Lsn> {
        assert_eq!(rmgr, RM_MOT);
        let mut r = self.records.lock();
        let lsn = Lsn(8 * r.len() as u64 + 8);
        r.push((lsn, xid, data.to_vec()));
        Ok(Lsn(lsn.0 + 8))
    }
    fn current_lsn(&self) -> Lsn {
        Lsn(8 * self.records.lock().len() as u64 + 8)
    }
    fn wal_flush(&self, _lsn: Lsn) -> FdwResult<()> {
        Ok(())
    }
    fn data_dir(&self) -> Option<PathBuf> {
        Some(self.dir.clone())
    }
}

fn durable_db(dir: &std::path::Path) -> (Db, Arc<MemWal>) {
    let wal = Arc::new(MemWal { dir: dir.to_path_buf(), records: Mutex::new(Vec::new()) });
    let db = Db::new();
    db.fdw.init(wal.clone()).unwrap();
    (db, wal)
}

fn replay(db: &Db, records: &[(Lsn, TxnId, Vec<u8>)]) {
    let d = db.fdw.durability_routine().unwrap();
    for (lsn, xid, data) in records {
        d.redo(*lsn, *xid, data).unwrap();
    }
}

/// Some DDL and committed writes, plus an aborted transaction (which logs nothing).
fn workload(db: &Db) -> Arc<TableDesc> {
    let t = accounts(db, "acc");
    db.autocommit(|c| db.insert(c, &t, (1..=50).map(|i| row3(i, i * 10, &format!("s{i}"))).collect())).unwrap();
    let c = ctx(next_xid(), IsolationLevel::ReadCommitted);
    for id in 1..=10 {
        let r = db.lookup(&c, &t, id).unwrap().unwrap();
        db.update(&c, &t, r.last().unwrap(), row3(id, -id, "upd")).unwrap();
    }
    for id in 41..=50 {
        let r = db.lookup(&c, &t, id).unwrap().unwrap();
        db.delete(&c, &t, r.last().unwrap()).unwrap();
    }
    db.commit(&c).unwrap();
    let c = ctx(next_xid(), IsolationLevel::ReadCommitted);
    db.insert(&c, &t, vec![row3(999, 1, "aborted")]).unwrap();
    db.abort(&c);
    db.ddl(fdw_api::DdlCommand::AddColumn {
        table: t.clone(),
        column: col("extra", DataType::Int8, false),
        default: Datum::Int8(7),
    })
    .unwrap();
    t
}

fn contents(db: &Db, t: &Arc<TableDesc>) -> Vec<String> {
    let c = ctx(next_xid(), IsolationLevel::ReadCommitted);
    let mut rows: Vec<String> = db.scan_all(&c, t).unwrap().iter().map(|r| format!("{r:?}")).collect();
    db.commit(&c).unwrap();
    rows.sort();
    rows
}

#[test]
fn redo_rebuilds_the_same_state_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let (db, wal) = durable_db(dir.path());
    let t = workload(&db);
    let records = wal.records.lock().clone();
    assert!(records.len() >= 4);
    let mut t2 = (*t).clone();
    t2.columns.push(col("extra", DataType::Int8, false));
    let t2 = Arc::new(t2);
    let want = contents(&db, &t2);
    assert_eq!(want.len(), 40);

    let (db2, _) = durable_db(dir.path());
    replay(&db2, &records);
    assert_eq!(contents(&db2, &t2), want);
    // Replaying transactions again over a state that already has them (as over a fuzzy
    // checkpoint) changes nothing. (DDL is never replayed twice: checkpoints exclude DDL.)
    let (db3, _) = durable_db(dir.path());
    let (ddl_last, rest) = records.split_last().unwrap();
    assert_eq!(ddl_last.1, 0);
    replay(&db3, rest);
    let txns: Vec<_> = rest.iter().filter(|r| r.1 != 0).cloned().collect();
    replay(&db3, &txns);
    replay(&db3, &txns[1..]);
    replay(&db3, std::slice::from_ref(ddl_last));
    assert_eq!(contents(&db3, &t2), want);
    // Index lookups agree with the table after replay.
    let c = ctx(next_xid(), IsolationLevel::ReadCommitted);
    assert_eq!(db2.lookup(&c, &t2, 5).unwrap().map(|r| r[1].clone()), Some(Datum::Int8(-5)));
    assert_eq!(db2.lookup(&c, &t2, 45).unwrap(), None);
    db2.commit(&c).unwrap();
}

#[test]
fn checkpoint_and_recover_round_trip_then_replay_later_records() {
    let dir = tempfile::tempdir().unwrap();
    let (db, wal) = durable_db(dir.path());
    let t = accounts(&db, "big");
    db.autocommit(|c| {
        db.insert(
            c,
            &t,
            (1..=(2 * crate::durability::checkpoint::SEG_ROWS as i64 + 10)).map(|i| row3(i, i, "x")).collect(),
        )
    })
    .unwrap();
    let ck = wal.current_lsn();
    db.fdw.durability_routine().unwrap().checkpoint(ck).unwrap();
    // Later writes: replayed from the checkpoint LSN; an older record must be skipped.
    db.autocommit(|c| db.insert(c, &t, vec![row3(-1, -1, "after")])).unwrap();
    let want = contents(&db, &t);

    let (db2, _) = durable_db(dir.path());
    db2.fdw.durability_routine().unwrap().recover(4).unwrap();
    let stats = db2.fdw.last_load();
    assert_eq!(stats.rows, 2 * crate::durability::checkpoint::SEG_ROWS + 10);
    assert!(stats.segments >= 3, "{stats:?}");
    let records = wal.records.lock().clone();
    replay(&db2, &records);
    assert_eq!(contents(&db2, &t), want);
    let c = ctx(next_xid(), IsolationLevel::ReadCommitted);
    assert!(db2.lookup(&c, &t, -1).unwrap().is_some());
    assert!(db2.lookup(&c, &t, 1234).unwrap().is_some());
    db2.commit(&c).unwrap();
    // New inserts after recovery do not reuse row ids.
    db2.autocommit(|c| db2.insert(c, &t, vec![row3(-2, 0, "new")])).unwrap();
    assert_eq!(contents(&db2, &t).len(), want.len() + 1);
}

#[test]
fn damaged_checkpoint_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (db, wal) = durable_db(dir.path());
    let t = accounts(&db, "d");
    db.autocommit(|c| db.insert(c, &t, vec![row3(1, 1, "a")])).unwrap();
    db.fdw.durability_routine().unwrap().checkpoint(wal.current_lsn()).unwrap();
    let (_, chk) = crate::durability::checkpoint::current(dir.path()).unwrap().unwrap();
    let seg = chk.join("seg_0");
    let mut bytes = std::fs::read(&seg).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 1;
    std::fs::write(&seg, bytes).unwrap();
    let (db2, _) = durable_db(dir.path());
    let e = db2.fdw.durability_routine().unwrap().recover(2).unwrap_err();
    assert_eq!(e.sqlstate.0, "XX001");
}

/// Per table: the heap's and every index's (name, pool bytes, entries as (key, row id)).
fn index_state(db: &Db) -> Vec<(String, u64, Vec<(Vec<u8>, u64)>)> {
    let mut out = Vec::new();
    for t in db.fdw.engine().tables() {
        let st = t.state();
        for index in std::iter::once(&st.heap).chain(&st.indexes) {
            let entries = index.map.iter().map(|e| (e.key().to_vec(), e.value().row_id)).collect();
            out.push((format!("{}.{}", st.name, index.name), index.pool.bytes(), entries));
        }
        out.push((format!("{} live", st.name), t.live_rows(), Vec::new()));
    }
    out
}

#[test]
fn checkpoint_load_rebuilds_every_index_and_its_exact_memory() {
    let dir = tempfile::tempdir().unwrap();
    let (db, wal) = durable_db(dir.path());
    let a = accounts(&db, "la");
    let b = accounts(&db, "lb");
    // Secondary keys out of row-id order, NULL now and then (NULL keys carry the row id).
    let rows_a = (1..=3000)
        .map(|i| {
            let mut r = row3(i, (i * 7919) % 1000, "a");
            if i % 17 == 0 {
                r[1] = Datum::Null;
            }
            r
        })
        .collect();
    db.autocommit(|c| db.insert(c, &a, rows_a)).unwrap();
    // Primary keys in descending row-id order.
    db.autocommit(|c| db.insert(c, &b, (1..=500).rev().map(|i| row3(i, -i, "b")).collect())).unwrap();
    let want = index_state(&db);
    assert_eq!(want.len(), 2 * 4);
    db.fdw.durability_routine().unwrap().checkpoint(wal.current_lsn()).unwrap();
    for threads in [1, 2, 5] {
        let (db2, _) = durable_db(dir.path());
        db2.fdw.durability_routine().unwrap().recover(threads).unwrap();
        assert_eq!(db2.fdw.last_load().rows, 3500);
        let got = index_state(&db2);
        for (w, g) in want.iter().zip(&got) {
            assert_eq!((&w.0, w.1, w.2.len()), (&g.0, g.1, g.2.len()), "{threads} threads");
            assert!(w.2 == g.2, "{} differs after a load with {threads} threads", w.0);
        }
        assert_eq!(got.len(), want.len());
        let c = ctx(next_xid(), IsolationLevel::ReadCommitted);
        assert_eq!(db2.lookup(&c, &b, 250).unwrap().map(|r| r[1].clone()), Some(Datum::Int8(-250)));
        db2.commit(&c).unwrap();
    }
}
