//! The worked example of README.md, with the default 16 MB segments.

use std::sync::Arc;

use xlog::{dump, DbState, FaultyIo, Lsn, Wal, WalOptions};

#[test]
fn worked_example() {
    let dir = tempfile::tempdir().unwrap();
    let io = FaultyIo::new();
    io.set_skip_sync(true);
    let opts = WalOptions { wal_writer_delay: None, io: Arc::new(io), ..WalOptions::default() };
    let (wal, info) = Wal::open(dir.path(), opts.clone()).unwrap();
    assert_eq!(info.end_of_wal, "0/1000040".parse().unwrap());
    assert_eq!(wal.insert(9, 0, 735, &[0u8; 100]).unwrap(), "0/10000C8".parse().unwrap());
    let end = wal.insert(1, 0, 735, b"commit!").unwrap();
    assert_eq!(end, "0/10000F0".parse().unwrap());
    wal.flush(end).unwrap();
    // Transaction 736's commit record is torn: its header made it, its payload did not.
    wal.flush(wal.insert(1, 0, 736, b"commit?").unwrap()).unwrap();
    drop(wal);
    let seg = dir.path().join("wal/000000010000000000000001");
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[0xF0 + 32..0xF0 + 39].iter_mut().for_each(|b| *b = 0);
    std::fs::write(&seg, bytes).unwrap();

    let lines: Vec<String> = dump(dir.path()).unwrap().map(|l| l.unwrap()).collect();
    assert_eq!(
        lines,
        [
            "rmgr: XLOG        len (rec/tot):     64/    64, tx:          0, lsn: 0/01000000, prev 0/00000000, desc: CHECKPOINT_SHUTDOWN redo 0/1000000; tli 1; next xid 1; shutdown",
            "rmgr: 9           len (rec/tot):    132/   132, tx:        735, lsn: 0/01000040, prev 0/01000000, desc: info 0x00; 100 bytes",
            "rmgr: 1           len (rec/tot):     39/    39, tx:        735, lsn: 0/010000C8, prev 0/01000040, desc: info 0x00; 7 bytes",
        ]
    );

    let (wal, info) = Wal::open(dir.path(), opts).unwrap();
    assert_eq!(info.previous_state, DbState::InProduction);
    assert_eq!((info.redo, info.end_of_wal), (Lsn(0x1000000), Lsn(0x10000F0)));
    assert_eq!(info.truncated_tail.as_deref(), Some("incorrect resource manager data checksum in record at 0/10000F0"));
    assert_eq!(wal.control().state, DbState::InCrashRecovery);
    let replay: Vec<_> = wal.reader(info.redo).map(|r| r.unwrap()).filter(|r| r.rmgr != 0).collect();
    assert_eq!(replay.iter().map(|r| r.lsn).collect::<Vec<_>>(), [Lsn(0x1000040), Lsn(0x10000C8)]);
    wal.end_recovery().unwrap();
    assert_eq!(wal.control().state, DbState::InProduction);
    let (start, _) = wal.insert_with_start(1, 0, 737, b"commit!").unwrap();
    assert_eq!(start, Lsn(0x10000F0));
}
