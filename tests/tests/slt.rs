//! Our sqllogictest files (`tests/slt/*.slt`, one test each) and SQLite's select1.test, each
//! against a fresh in-memory database. Every file is also checked against PostgreSQL by
//! `harness slt --postgres FILE`, which is how their expectations were verified.

use std::path::{Path, PathBuf};

use harness::slt::{default_vars, run_file};

fn slt_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("slt")
}

fn run(path: &Path) {
    let report = run_file(path, &default_vars()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        report.failed == 0,
        "{}: {} passed, {} failed\n\n{}",
        path.display(),
        report.passed,
        report.failed,
        report.failures.join("\n")
    );
    assert!(report.passed > 0, "{}: no record ran", path.display());
}

macro_rules! slt_files {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run(&slt_dir().join(concat!(stringify!($name), ".slt")));
            }
        )*

        /// Every file in tests/slt has a test above (a new file must be added to the list).
        #[test]
        fn every_file_is_listed() {
            let listed = [$(concat!(stringify!($name), ".slt")),*];
            for entry in std::fs::read_dir(slt_dir()).unwrap() {
                let name = entry.unwrap().file_name().to_string_lossy().to_string();
                if name.ends_with(".slt") {
                    assert!(listed.contains(&name.as_str()), "tests/slt/{name} is not listed in tests/tests/slt.rs");
                }
            }
        }
    };
}

slt_files!(
    aggregates,
    basics,
    cte,
    errors,
    file_fdw,
    joins,
    null_logic,
    order_limit,
    setops,
    strings,
    subqueries,
    system_views,
    types,
);

/// SQLite's select1.test, kept beside the repository (`../shared/slt/sqlite/select1.test`).
#[test]
fn sqlite_select1() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = root.join("../shared/slt/sqlite/select1.test");
    assert!(
        path.exists(),
        "SQLite's select1.test is expected at {} (the repository's ../shared/slt/sqlite/select1.test)",
        path.display()
    );
    run(&path);
}
