//! The crash test in CI: a few kill -9 / recover cycles of `harness crash-worker` (see
//! `harness::crash`), bounded to stay well under a minute.

#[test]
fn kill_nine_cycles_keep_every_acknowledged_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_harness"));
    let present = harness::crash::run(exe, dir.path(), 6, 42, 700).unwrap();
    assert!(present > 0, "no transaction survived six cycles");
}

#[test]
fn waldump_describes_envelope_and_mot_records() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = envelope::Database::open(dir.path()).unwrap();
        let mut s = db.session();
        for r in s.execute_batch(
            "CREATE TABLE w (a int PRIMARY KEY); INSERT INTO w VALUES (1), (2); DELETE FROM w WHERE a = 1",
        ) {
            r.unwrap();
        }
    }
    let lines = harness::crash::waldump(dir.path(), None).unwrap();
    let text = lines.join("\n");
    assert!(text.contains("rmgr: XLOG"), "{text}");
    assert!(text.contains("rmgr: Catalog"), "{text}");
    assert!(text.contains("desc: CREATE TABLE w"), "{text}");
    assert!(text.contains("desc: TXN tables"), "{text}");
    assert!(text.contains("2 inserts, 0 updates, 0 deletes"), "{text}");
    assert!(text.contains("0 inserts, 0 updates, 1 deletes"), "{text}");
    assert!(text.contains("rmgr: Transaction") && text.contains("desc: COMMIT 20"), "{text}");
}
