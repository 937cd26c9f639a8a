//! Model test: random operations through the FDW traits against a `BTreeMap`, with
//! transactions that commit or abort.

use super::*;
use fdw_api::{BinaryOp, SqlState};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
enum Op {
    Insert(i64, i64),
    Update(i64, i64),
    /// Change the primary key.
    Rekey(i64, i64),
    Delete(i64),
    Get(i64),
    Range(i64, i64, bool),
    ByValue(i64),
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0i64..40;
    prop_oneof![
        (k.clone(), 0i64..8).prop_map(|(k, v)| Op::Insert(k, v)),
        (k.clone(), 0i64..8).prop_map(|(k, v)| Op::Update(k, v)),
        (k.clone(), k.clone()).prop_map(|(a, b)| Op::Rekey(a, b)),
        k.clone().prop_map(Op::Delete),
        k.clone().prop_map(Op::Get),
        (k.clone(), k.clone(), any::<bool>()).prop_map(|(a, b, d)| Op::Range(a.min(b), a.max(b), d)),
        (0i64..8).prop_map(Op::ByValue),
    ]
}

type Model = BTreeMap<i64, i64>;

/// Applies one op to the engine (inside `c`) and the model copy; checks reads.
fn apply(db: &Db, t: &Arc<TableDesc>, c: &ExecContext, m: &mut Model, op: &Op) -> Result<(), TestCaseError> {
    match op {
        Op::Insert(k, v) => {
            let r = db.insert(c, t, vec![row3(*k, *v, "m")]);
            if m.contains_key(k) {
                prop_assert_eq!(r.unwrap_err().sqlstate, SqlState::UNIQUE_VIOLATION);
                return Err(TestCaseError::reject("statement failed"));
            }
            r.unwrap();
            m.insert(*k, *v);
        }
        Op::Update(k, v) | Op::Rekey(k, v) => {
            let Some(row) = db.lookup(c, t, *k).unwrap() else {
                prop_assert!(!m.contains_key(k));
                return Ok(());
            };
            let (nk, nv) = if matches!(op, Op::Update(..)) { (*k, *v) } else { (*v, m[k]) };
            let r = db.update(c, t, &row[3], row3(nk, nv, "m"));
            if nk != *k && m.contains_key(&nk) {
                prop_assert_eq!(r.unwrap_err().sqlstate, SqlState::UNIQUE_VIOLATION);
                return Err(TestCaseError::reject("statement failed"));
            }
            r.unwrap();
            m.remove(k);
            m.insert(nk, nv);
        }
        Op::Delete(k) => {
            let found = db.lookup(c, t, *k).unwrap();
            prop_assert_eq!(found.is_some(), m.remove(k).is_some());
            if let Some(row) = found {
                prop_assert_eq!(db.delete(c, t, &row[3]).unwrap().map(|r| r[0].clone()), Some(int(*k)));
            }
            prop_assert!(db.lookup(c, t, *k).unwrap().is_none());
        }
        Op::Get(k) => {
            let got = db.lookup(c, t, *k).unwrap().map(|r| r[1].as_i64().unwrap());
            prop_assert_eq!(got, m.get(k).copied());
        }
        Op::Range(lo, hi, desc) => {
            let order = vec![PathKey { column: 0, descending: *desc, nulls_first: *desc }];
            let rel = db.rel(t, vec![cmp(0, BinaryOp::GtEq, *lo), cmp(0, BinaryOp::Lt, *hi)], vec![order]);
            let label = if *desc { "Index Scan Backward using model_pkey" } else { "Index Scan using model_pkey" };
            let p = db.path(&rel, Some(label));
            let got: Vec<(i64, i64)> = db
                .scan_path(c, &rel, p, false, &[])
                .unwrap()
                .iter()
                .map(|r| (r[0].as_i64().unwrap(), r[1].as_i64().unwrap()))
                .collect();
            let mut want: Vec<(i64, i64)> = m.range(*lo..*hi).map(|(k, v)| (*k, *v)).collect();
            if *desc {
                want.reverse();
            }
            prop_assert_eq!(got, want);
        }
        Op::ByValue(v) => {
            let rel = db.rel(t, vec![cmp(1, BinaryOp::Eq, *v)], vec![]);
            let p = db.path(&rel, Some("Index Scan using model_v_idx"));
            let mut got = ids(&db.scan_path(c, &rel, p, false, &[]).unwrap());
            got.sort();
            let want: Vec<i64> = m.iter().filter(|(_, x)| **x == *v).map(|(k, _)| *k).collect();
            prop_assert_eq!(got, want);
        }
    }
    Ok(())
}

fn run(txns: Vec<(Vec<Op>, bool)>, iso: IsolationLevel) -> Result<(), TestCaseError> {
    let db = Db::new();
    let t = accounts(&db, "model");
    let mut model = Model::new();
    for (ops, commit) in txns {
        let c = ctx(next_xid(), iso);
        let mut m = model.clone();
        let mut failed = false;
        for op in &ops {
            match apply(&db, &t, &c, &mut m, op) {
                Ok(()) => {}
                // A failed statement aborts the transaction, as in PostgreSQL.
                Err(TestCaseError::Reject(_)) => {
                    failed = true;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        if commit && !failed {
            db.commit(&c).unwrap();
            model = m;
        } else {
            db.abort(&c);
        }
        let all: Vec<(i64, i64)> = db
            .autocommit(|c| db.scan_all(c, &t))
            .unwrap()
            .iter()
            .map(|r| (r[0].as_i64().unwrap(), r[1].as_i64().unwrap()))
            .collect();
        let mut sorted = all.clone();
        sorted.sort();
        prop_assert_eq!(sorted, model.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>());
    }
    prop_assert_eq!(db.fdw.engine().table(&t).unwrap().live_rows() as usize, model.len());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn model_all_commit(ops in proptest::collection::vec(op(), 1..60)) {
        run(ops.chunks(6).map(|c| (c.to_vec(), true)).collect(), IsolationLevel::Serializable)?;
    }

    #[test]
    fn model_with_aborts(txns in proptest::collection::vec((proptest::collection::vec(op(), 1..8), any::<bool>()), 1..12)) {
        run(txns, IsolationLevel::ReadCommitted)?;
    }
}
