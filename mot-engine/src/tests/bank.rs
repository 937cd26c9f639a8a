//! Concurrent bank transfers: 8 threads, random transfers, the total never changes and every
//! abort is a serialization failure.

use super::*;
use fdw_api::SqlState;
use std::sync::atomic::AtomicUsize;

const ACCOUNTS: i64 = 16;
const INITIAL: i64 = 1000;

fn transfer(db: &Db, t: &Arc<TableDesc>, iso: IsolationLevel, from: i64, to: i64, amount: i64) -> FdwResult<()> {
    let c = ctx(next_xid(), iso);
    let run = || -> FdwResult<()> {
        let a = db.lookup(&c, t, from)?.expect("account");
        let b = db.lookup(&c, t, to)?.expect("account");
        db.update(&c, t, &a[3], vec![a[0].clone(), int(a[1].as_i64().unwrap() - amount), a[2].clone()])?;
        db.update(&c, t, &b[3], vec![b[0].clone(), int(b[1].as_i64().unwrap() + amount), b[2].clone()])?;
        Ok(())
    };
    match run() {
        Ok(()) => db.commit(&c),
        Err(e) => {
            db.abort(&c);
            Err(e)
        }
    }
}

fn total(db: &Db, t: &Arc<TableDesc>, iso: IsolationLevel) -> FdwResult<i64> {
    let c = ctx(next_xid(), iso);
    let rows = db.scan_all(&c, t)?;
    db.commit(&c)?;
    Ok(rows.iter().map(|r| r[1].as_i64().unwrap()).sum())
}

fn run_bank(iso: IsolationLevel) {
    let db = Arc::new(Db::new());
    let t = accounts(&db, "bank");
    db.autocommit(|c| db.insert(c, &t, (0..ACCOUNTS).map(|i| row3(i, INITIAL, "acct")).collect())).unwrap();
    let commits = Arc::new(AtomicUsize::new(0));
    let aborts = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..8u64)
        .map(|th| {
            let (db, t, commits, aborts) = (db.clone(), t.clone(), commits.clone(), aborts.clone());
            std::thread::spawn(move || {
                let mut seed = th.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                let mut rnd = move || {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed
                };
                for i in 0..150 {
                    if th == 0 && i % 10 == 0 {
                        // A reader: under SERIALIZABLE a committed read sees the invariant.
                        match total(&db, &t, iso) {
                            Ok(sum) if iso == IsolationLevel::Serializable => assert_eq!(sum, ACCOUNTS * INITIAL),
                            Ok(_) => {}
                            Err(e) => assert_eq!(e.sqlstate, SqlState::T_R_SERIALIZATION_FAILURE, "{e:?}"),
                        }
                    }
                    let from = (rnd() % ACCOUNTS as u64) as i64;
                    let to = (from + 1 + (rnd() % (ACCOUNTS as u64 - 1)) as i64) % ACCOUNTS;
                    match transfer(&db, &t, iso, from, to, (rnd() % 50) as i64) {
                        Ok(()) => commits.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            assert_eq!(e.sqlstate, SqlState::T_R_SERIALIZATION_FAILURE, "{e:?}");
                            aborts.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert!(commits.load(Ordering::Relaxed) > 0);
    assert_eq!(total(&db, &t, iso).unwrap(), ACCOUNTS * INITIAL);
    // Heap and index agree after the churn.
    let c = ctx(next_xid(), iso);
    assert_eq!(db.select(&c, &t, vec![cmp(0, fdw_api::BinaryOp::GtEq, 0)]).unwrap().len(), ACCOUNTS as usize);
}

#[test]
fn bank_transfers_serializable() {
    run_bank(IsolationLevel::Serializable);
}

#[test]
fn bank_transfers_read_committed() {
    // Write-set validation alone prevents lost updates, so the total holds here too.
    run_bank(IsolationLevel::ReadCommitted);
}
