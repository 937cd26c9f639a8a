//! Tests of DDL semantics (errors, notices, dependencies), ANALYZE, persistence and system
//! views, against small in-test wrappers.

use std::sync::{Arc, Mutex};

use fdw_api::{
    err, AnalyzeSample, Datum, DdlCommand, DdlRoutine, ExecContext, FdwResult, FdwRoutine, ForeignPath, ForeignScan,
    ImportFilter, ImportedTable, OptionTarget, Options, RelInfo, RelSize, Row, ScanRequest, SupportRoutine, TableDesc,
};

use super::ddl::{execute_ddl, DdlContext};
use super::registry::WrapperRegistry;
use super::*;
use crate::sql::parse_statement;

/// A wrapper that accepts a few options per target, samples fixed rows, and logs the
/// storage commands and truncates it receives.
struct Fake {
    name: &'static str,
    rows: Vec<Row>,
    support: bool,
    ddl: bool,
    log: Mutex<Vec<String>>,
}

impl Fake {
    fn new(name: &'static str, support: bool, ddl: bool) -> Arc<Fake> {
        let rows = (0..10).map(|i| vec![Datum::Int4(i % 3), Datum::text(&format!("v{i}"))]).collect();
        Arc::new(Fake { name, rows, support, ddl, log: Mutex::new(Vec::new()) })
    }
    fn log(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl FdwRoutine for Fake {
    fn name(&self) -> &str {
        self.name
    }
    fn validate_options(&self, target: OptionTarget, options: &Options) -> FdwResult<()> {
        let allowed: &[&str] = match target {
            OptionTarget::Wrapper => &[],
            OptionTarget::Server => &["host", "c"],
            OptionTarget::UserMapping => &["user", "password"],
            OptionTarget::Table => &["filename", "format"],
            OptionTarget::Column => &["force_null"],
        };
        for (k, _) in options.iter() {
            if !allowed.contains(&k) {
                return Err(err!(FDW_INVALID_OPTION_NAME, "invalid option \"{}\"", k));
            }
        }
        if target == OptionTarget::Table && self.name == "file_fdw" && !options.contains("filename") {
            return Err(err!(FDW_ERROR, "either filename or program is required for file_fdw foreign tables"));
        }
        Ok(())
    }
    fn get_rel_size(&self, _rel: &RelInfo) -> FdwResult<RelSize> {
        Err(fdw_api::FdwError::feature("no scans"))
    }
    fn get_paths(&self, _rel: &RelInfo, _size: &RelSize) -> FdwResult<Vec<ForeignPath>> {
        Err(fdw_api::FdwError::feature("no scans"))
    }
    fn begin_scan(&self, _request: &ScanRequest, _ctx: &ExecContext) -> FdwResult<Box<dyn ForeignScan>> {
        Err(fdw_api::FdwError::feature("no scans"))
    }
    fn support_routine(&self) -> Option<&dyn SupportRoutine> {
        self.support.then_some(self as &dyn SupportRoutine)
    }
    fn ddl_routine(&self) -> Option<&dyn DdlRoutine> {
        self.ddl.then_some(self as &dyn DdlRoutine)
    }
}

impl SupportRoutine for Fake {
    fn analyze(&self, _table: &Arc<TableDesc>, target_rows: usize, _ctx: &ExecContext) -> FdwResult<AnalyzeSample> {
        assert_eq!(target_rows, 30000);
        Ok(AnalyzeSample { rows: self.rows.clone(), total_rows: self.rows.len() as f64 })
    }
    fn truncate(&self, tables: &[Arc<TableDesc>], _ctx: &ExecContext) -> FdwResult<()> {
        let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        self.log.lock().unwrap().push(format!("truncate {}", names.join(",")));
        Ok(())
    }
    fn import_schema(
        &self,
        remote_schema: &str,
        filter: &ImportFilter,
        server_options: &Options,
        _user_mapping_options: &Options,
    ) -> FdwResult<Vec<ImportedTable>> {
        let mut out = Vec::new();
        for name in ["r1", "r2"] {
            let keep = match filter {
                ImportFilter::All => true,
                ImportFilter::LimitTo(v) => v.iter().any(|n| n == name),
                ImportFilter::Except(v) => !v.iter().any(|n| n == name),
            };
            if keep {
                let mut options = Options::new();
                options.set("filename", &format!("{remote_schema}/{name}{}", server_options.get("c").unwrap_or("")));
                out.push(ImportedTable {
                    name: name.into(),
                    columns: vec![fdw_api::ColumnDef {
                        name: "x".into(),
                        ty: fdw_api::DataType::Int4,
                        not_null: false,
                        default: None,
                        options: Options::new(),
                    }],
                    options,
                });
            }
        }
        Ok(out)
    }
}

impl DdlRoutine for Fake {
    fn validate_table_def(&self, command: &DdlCommand, _ctx: &ExecContext) -> FdwResult<()> {
        let entry = match command {
            DdlCommand::CreateTable { table } => {
                let ix: Vec<String> =
                    table.indexes.iter().map(|i| format!("{}{:?}{}", i.name, i.columns, i.primary)).collect();
                format!("create {} [{}]", table.name, ix.join(" "))
            }
            DdlCommand::DropTable { table } => format!("drop {}", table.name),
            DdlCommand::CreateIndex { table, index } => {
                format!("index {} on {} {:?}", index.name, table.name, index.columns)
            }
            DdlCommand::DropIndex { index, .. } => format!("drop index {}", index.name),
            DdlCommand::AddColumn { column, default, .. } => format!("add {} {:?}", column.name, default),
            DdlCommand::DropColumn { column, .. } => format!("drop column {column}"),
            DdlCommand::RenameColumn { column, new_name, .. } => format!("rename {column} {new_name}"),
        };
        self.log.lock().unwrap().push(entry);
        Ok(())
    }
}

struct Env {
    cat: Catalog,
    reg: WrapperRegistry,
    exec: ExecContext,
    notices: Vec<String>,
    file: Arc<Fake>,
    mot: Arc<Fake>,
}

impl Env {
    fn new(with_mot: bool) -> Env {
        let file = Fake::new("file_fdw", true, false);
        let mot = Fake::new("mot_fdw", true, true);
        let mut reg = WrapperRegistry::new();
        reg.register(file.clone());
        reg.register(Fake::new("bare_fdw", false, false));
        if with_mot {
            reg.register(mot.clone());
        }
        let exec = ExecContext {
            xid: 1,
            in_transaction_block: false,
            isolation: Default::default(),
            user: "postgres".into(),
            services: Arc::new(fdw_api::services::VolatileServices::default()),
        };
        Env { cat: Catalog::bootstrap(&reg), reg, exec, notices: Vec::new(), file, mot }
    }

    /// Runs a statement on a copy of the catalog, installed on success (as the session does).
    fn run(&mut self, sql: &str) -> FdwResult<String> {
        self.notices.clear();
        let stmt = parse_statement(sql)?;
        let mut cat = self.cat.clone();
        let mut cx =
            DdlContext { catalog: &mut cat, registry: &self.reg, exec: &self.exec, notices: &mut self.notices };
        let tag = execute_ddl(&mut cx, &stmt)?.unwrap_or_else(|| panic!("{sql}: not DDL"));
        self.cat = cat;
        Ok(tag)
    }

    fn ok(&mut self, sql: &str) -> String {
        self.run(sql).unwrap_or_else(|e| panic!("{sql}: {e:?}"))
    }

    /// The error's (SQLSTATE, message).
    fn fail(&mut self, sql: &str) -> (String, String) {
        match self.run(sql) {
            Ok(tag) => panic!("{sql}: expected an error, got {tag}"),
            Err(e) => (e.sqlstate.code().to_string(), e.message),
        }
    }

    fn error(&mut self, sql: &str) -> fdw_api::FdwError {
        self.run(sql).err().unwrap_or_else(|| panic!("{sql}: expected an error"))
    }
}

fn e(state: &str, msg: &str) -> (String, String) {
    (state.to_string(), msg.to_string())
}

#[test]
fn bootstrap_creates_a_wrapper_per_handler() {
    let env = Env::new(true);
    let names: Vec<&String> = env.cat.wrappers.keys().collect();
    assert_eq!(names, ["bare_fdw", "file_fdw", "mot_fdw"]);
    assert_eq!(env.cat.wrapper("file_fdw").unwrap().handler.as_deref(), Some("file_fdw"));
    assert_eq!(env.cat.default_table_server(), Some("mot_server"));
    assert!(env.cat.extensions.contains("file_fdw"));
    assert_eq!(Env::new(false).cat.default_table_server(), None);
}

#[test]
fn wrappers_and_extensions() {
    let mut env = Env::new(false);
    assert_eq!(
        env.ok("CREATE FOREIGN DATA WRAPPER w2 HANDLER file_fdw_handler VALIDATOR file_fdw_validator"),
        "CREATE FOREIGN DATA WRAPPER"
    );
    assert_eq!(env.cat.wrapper("w2").unwrap().handler.as_deref(), Some("file_fdw"));
    assert_eq!(env.fail("CREATE FOREIGN DATA WRAPPER w2"), e("42710", "foreign-data wrapper \"w2\" already exists"));
    assert_eq!(
        env.fail("CREATE FOREIGN DATA WRAPPER w3 HANDLER nosuch"),
        e("42883", "function nosuch() does not exist")
    );
    assert_eq!(
        env.fail("CREATE FOREIGN DATA WRAPPER w3 VALIDATOR nosuch"),
        e("42883", "function nosuch(text[], oid) does not exist")
    );
    assert_eq!(
        env.fail("ALTER FOREIGN DATA WRAPPER file_fdw OPTIONS (ADD force_not_null '*')"),
        e("HV00D", "invalid option \"force_not_null\"")
    );
    env.ok("ALTER FOREIGN DATA WRAPPER w2 NO VALIDATOR");
    assert_eq!(env.notices, ["WARNING:  changing the foreign-data wrapper validator can cause the options for dependent objects to become invalid"]);
    env.ok("ALTER FOREIGN DATA WRAPPER w2 OPTIONS (anything 'goes')");
    // A wrapper of an extension cannot be dropped on its own.
    let err = env.error("DROP FOREIGN DATA WRAPPER file_fdw");
    assert_eq!(err.message, "cannot drop foreign-data wrapper file_fdw because extension file_fdw requires it");
    assert_eq!(err.hint.as_deref(), Some("You can drop extension file_fdw instead."));
    // CREATE EXTENSION of a built-in wrapper is accepted; unknown ones are not available.
    assert_eq!(env.ok("CREATE EXTENSION file_fdw"), "CREATE EXTENSION");
    env.ok("CREATE EXTENSION IF NOT EXISTS file_fdw");
    assert_eq!(env.notices, ["NOTICE:  extension \"file_fdw\" already exists, skipping"]);
    assert_eq!(env.fail("CREATE EXTENSION nosuch"), e("0A000", "extension \"nosuch\" is not available"));
    env.ok("CREATE SERVER fs FOREIGN DATA WRAPPER file_fdw");
    env.ok("CREATE FOREIGN TABLE ft (a int) SERVER fs OPTIONS (filename 'x')");
    assert_eq!(
        env.fail("DROP EXTENSION file_fdw").1,
        "cannot drop extension file_fdw because other objects depend on it"
    );
    env.ok("DROP EXTENSION file_fdw CASCADE");
    assert_eq!(env.notices, ["NOTICE:  drop cascades to 2 other objects\nDETAIL:  drop cascades to server fs\ndrop cascades to foreign table ft"]);
    assert!(env.cat.wrapper("file_fdw").is_none() && env.cat.relation(None, "ft").is_none());
    env.ok("CREATE EXTENSION file_fdw");
    assert!(env.cat.wrapper("file_fdw").is_some());
    env.ok("DROP FOREIGN DATA WRAPPER w2");
    assert_eq!(env.fail("DROP FOREIGN DATA WRAPPER w2"), e("42704", "foreign-data wrapper \"w2\" does not exist"));
}

#[test]
fn servers_and_user_mappings() {
    let mut env = Env::new(false);
    assert_eq!(env.ok("CREATE SERVER s FOREIGN DATA WRAPPER file_fdw OPTIONS (host 'h')"), "CREATE SERVER");
    assert_eq!(env.fail("CREATE SERVER s FOREIGN DATA WRAPPER file_fdw"), e("42710", "server \"s\" already exists"));
    env.ok("CREATE SERVER IF NOT EXISTS s FOREIGN DATA WRAPPER file_fdw");
    assert_eq!(env.notices, ["NOTICE:  server \"s\" already exists, skipping"]);
    assert_eq!(
        env.fail("CREATE SERVER s2 FOREIGN DATA WRAPPER nosuch"),
        e("42704", "foreign-data wrapper \"nosuch\" does not exist")
    );
    assert_eq!(
        env.fail("CREATE SERVER s2 FOREIGN DATA WRAPPER file_fdw OPTIONS (a '1', a '2')"),
        e("42710", "option \"a\" provided more than once")
    );
    assert_eq!(
        env.fail("ALTER SERVER s OPTIONS (ADD force_not_null '*')"),
        e("HV00D", "invalid option \"force_not_null\"")
    );
    assert_eq!(
        env.fail("ALTER SERVER s OPTIONS (ADD host 'x')"),
        e("42710", "option \"host\" provided more than once")
    );
    assert_eq!(env.fail("ALTER SERVER s OPTIONS (SET c 'x')"), e("42704", "option \"c\" not found"));
    assert_eq!(env.fail("ALTER SERVER s OPTIONS (DROP c)"), e("42704", "option \"c\" not found"));
    assert_eq!(env.fail("ALTER SERVER nosuch OPTIONS (SET c 'x')"), e("42704", "server \"nosuch\" does not exist"));
    env.ok("ALTER SERVER s VERSION '2' OPTIONS (SET host 'h2', ADD c 'x,y')");
    let s = env.cat.server("s").unwrap();
    assert_eq!((s.version.as_deref(), s.options.get("host"), s.options.get("c")), (Some("2"), Some("h2"), Some("x,y")));

    assert_eq!(env.ok("CREATE USER MAPPING FOR postgres SERVER s OPTIONS (user 'u')"), "CREATE USER MAPPING");
    assert_eq!(
        env.fail("CREATE USER MAPPING FOR current_user SERVER s"),
        e("42710", "user mapping for \"postgres\" already exists for server \"s\"")
    );
    env.ok("CREATE USER MAPPING IF NOT EXISTS FOR postgres SERVER s");
    assert_eq!(env.notices, ["NOTICE:  user mapping for \"postgres\" already exists for server \"s\", skipping"]);
    assert_eq!(
        env.fail("CREATE USER MAPPING FOR nosuchrole SERVER s"),
        e("42704", "role \"nosuchrole\" does not exist")
    );
    assert_eq!(
        env.fail("CREATE USER MAPPING FOR public SERVER s OPTIONS (force_null '*')"),
        e("HV00D", "invalid option \"force_null\"")
    );
    env.ok("CREATE USER MAPPING FOR public SERVER s OPTIONS (user 'pub')");
    env.ok("ALTER USER MAPPING FOR postgres SERVER s OPTIONS (ADD password 'p')");
    assert_eq!(env.cat.user_mapping("s", "postgres").unwrap().options.get("password"), Some("p"));
    assert_eq!(env.cat.user_mapping("s", "bob").unwrap().options.get("user"), Some("pub"));
    assert_eq!(
        env.fail("DROP USER MAPPING FOR postgres SERVER nosuch"),
        e("42704", "server \"nosuch\" does not exist")
    );
    env.ok("DROP USER MAPPING IF EXISTS FOR postgres SERVER nosuch");
    assert_eq!(env.notices, ["NOTICE:  server \"nosuch\" does not exist, skipping"]);
    assert_eq!(env.ok("DROP USER MAPPING FOR postgres SERVER s"), "DROP USER MAPPING");
    assert_eq!(
        env.fail("DROP USER MAPPING FOR postgres SERVER s"),
        e("42704", "user mapping for \"postgres\" does not exist for server \"s\"")
    );
    env.ok("DROP USER MAPPING IF EXISTS FOR postgres SERVER s");
    assert_eq!(env.notices, ["NOTICE:  user mapping for \"postgres\" does not exist for server \"s\", skipping"]);
    // Roles.
    env.ok("CREATE ROLE alice LOGIN");
    assert_eq!(env.fail("CREATE ROLE alice"), e("42710", "role \"alice\" already exists"));
    env.ok("CREATE USER MAPPING FOR alice SERVER s");
    assert_eq!(env.fail("DROP ROLE alice").1, "role \"alice\" cannot be dropped because some objects depend on it");
    env.ok("DROP USER MAPPING FOR alice SERVER s");
    assert_eq!(env.ok("DROP ROLE IF EXISTS alice, nobody"), "DROP ROLE");
    assert_eq!(env.notices, ["NOTICE:  role \"nobody\" does not exist, skipping"]);
}

#[test]
fn foreign_tables() {
    let mut env = Env::new(false);
    env.ok("CREATE SERVER s FOREIGN DATA WRAPPER file_fdw");
    assert_eq!(
        env.fail("CREATE FOREIGN TABLE tbl () SERVER s OPTIONS (foo 'bar')"),
        e("HV00D", "invalid option \"foo\"")
    );
    assert_eq!(
        env.fail("CREATE FOREIGN TABLE tbl () SERVER s OPTIONS (\"a=b\" 'true')"),
        e("22023", "invalid option name \"a=b\": must not contain \"=\"")
    );
    assert_eq!(
        env.fail("CREATE FOREIGN TABLE tbl () SERVER s").1,
        "either filename or program is required for file_fdw foreign tables"
    );
    assert_eq!(
        env.fail("CREATE FOREIGN TABLE tbl (a int OPTIONS (x '1')) SERVER s OPTIONS (filename 'f')"),
        e("HV00D", "invalid option \"x\"")
    );
    assert_eq!(
        env.fail("CREATE FOREIGN TABLE tbl (a int, a text) SERVER s OPTIONS (filename 'f')"),
        e("42701", "column \"a\" specified more than once")
    );
    assert_eq!(
        env.fail("CREATE FOREIGN TABLE tbl (a int) SERVER nosuch"),
        e("42704", "server \"nosuch\" does not exist")
    );
    assert_eq!(env.ok("CREATE FOREIGN TABLE t (a int NOT NULL, b text OPTIONS (force_null 'true')) SERVER s OPTIONS (filename 'f')"), "CREATE FOREIGN TABLE");
    let t = env.cat.relation(None, "t").unwrap().clone();
    assert!(t.columns[0].not_null && !t.is_plain_table && t.kind == RelKind::ForeignTable);
    assert_eq!(t.columns[1].options.get("force_null"), Some("true"));
    assert_eq!(
        env.fail("CREATE FOREIGN TABLE t (a int) SERVER s OPTIONS (filename 'f')"),
        e("42P07", "relation \"t\" already exists")
    );
    env.ok("CREATE FOREIGN TABLE IF NOT EXISTS t (a int) SERVER s OPTIONS (filename 'f')");
    assert_eq!(env.notices, ["NOTICE:  relation \"t\" already exists, skipping"]);
    assert_eq!(
        env.fail("CREATE FOREIGN TABLE nope.t2 (a int) SERVER s OPTIONS (filename 'f')"),
        e("3F000", "schema \"nope\" does not exist")
    );

    // ALTER: the resulting option list is validated as a whole.
    assert_eq!(
        env.fail("ALTER FOREIGN TABLE t OPTIONS (ADD filename 'y')"),
        e("42710", "option \"filename\" provided more than once")
    );
    assert_eq!(env.fail("ALTER FOREIGN TABLE t OPTIONS (SET format 'y')"), e("42704", "option \"format\" not found"));
    assert_eq!(
        env.fail("ALTER FOREIGN TABLE t OPTIONS (DROP filename)").1,
        "either filename or program is required for file_fdw foreign tables"
    );
    env.ok("ALTER FOREIGN TABLE t OPTIONS (format 'csv')");
    env.ok("ALTER FOREIGN TABLE t OPTIONS (SET format 'text')");
    assert_eq!(env.cat.relation(None, "t").unwrap().options.get("format"), Some("text"));
    assert_eq!(
        env.fail("ALTER FOREIGN TABLE t ALTER COLUMN z OPTIONS (force_null 'true')"),
        e("42703", "column \"z\" of relation \"t\" does not exist")
    );
    assert_eq!(
        env.fail("ALTER FOREIGN TABLE t ALTER COLUMN a OPTIONS (bad 'true')"),
        e("HV00D", "invalid option \"bad\"")
    );
    env.ok("ALTER FOREIGN TABLE t ALTER COLUMN a OPTIONS (force_null 'true'), ADD COLUMN c date, ADD CHECK (a > 0)");
    assert_eq!(env.cat.relation(None, "t").unwrap().columns.len(), 3);
    assert_eq!(
        env.fail("ALTER FOREIGN TABLE t ADD COLUMN c int"),
        e("42701", "column \"c\" of relation \"t\" already exists")
    );
    env.ok("ALTER FOREIGN TABLE t DROP COLUMN c, DROP COLUMN IF EXISTS zz");
    assert_eq!(env.notices, ["NOTICE:  column \"zz\" of relation \"t\" does not exist, skipping"]);
    assert_eq!(
        env.fail("ALTER FOREIGN TABLE nosuch OPTIONS (SET format 'csv')"),
        e("42P01", "relation \"nosuch\" does not exist")
    );
    env.ok("ALTER FOREIGN TABLE IF EXISTS nosuch OPTIONS (SET format 'csv')");
    assert_eq!(env.notices, ["NOTICE:  relation \"nosuch\" does not exist, skipping"]);
    assert_eq!(env.fail("ALTER FOREIGN TABLE t INHERIT agg").0, "0A000");
    env.ok("ALTER FOREIGN TABLE t RENAME COLUMN b TO bb");
    env.ok("ALTER FOREIGN TABLE t RENAME TO t2");
    assert!(env.cat.relation(None, "t").is_none());
    assert_eq!(env.cat.relation(None, "t2").unwrap().columns[1].name, "bb");

    // DROP.
    assert_eq!(env.fail("DROP FOREIGN TABLE nosuch"), e("42P01", "foreign table \"nosuch\" does not exist"));
    let err = env.error("DROP TABLE t2");
    assert_eq!((err.sqlstate.code(), err.message.as_str()), ("42809", "\"t2\" is not a table"));
    assert_eq!(err.hint.as_deref(), Some("Use DROP FOREIGN TABLE to remove a foreign table."));
    assert_eq!(env.ok("DROP FOREIGN TABLE IF EXISTS nosuch, t2"), "DROP FOREIGN TABLE");
    assert_eq!(env.notices, ["NOTICE:  foreign table \"nosuch\" does not exist, skipping"]);
    assert!(env.cat.relation(None, "t2").is_none());
}

#[test]
fn drop_restrict_and_cascade_follow_dependencies() {
    let mut env = Env::new(false);
    env.ok("CREATE SERVER s FOREIGN DATA WRAPPER file_fdw");
    env.ok("CREATE USER MAPPING FOR postgres SERVER s");
    env.ok("CREATE USER MAPPING FOR public SERVER s");
    env.ok("CREATE FOREIGN TABLE t (a int) SERVER s OPTIONS (filename 'f')");
    env.ok("CREATE FOREIGN TABLE t2 (a int) SERVER s OPTIONS (filename 'f')");
    env.ok("CREATE VIEW v AS SELECT * FROM t");
    env.ok("CREATE VIEW v2 AS SELECT * FROM v JOIN public.t2 ON true");
    let err = env.error("DROP SERVER s");
    assert_eq!(
        (err.sqlstate.code(), err.message.as_str()),
        ("2BP01", "cannot drop server s because other objects depend on it")
    );
    assert_eq!(
        err.detail.as_deref(),
        Some(
            "user mapping for postgres on server s depends on server s\n\
             user mapping for public on server s depends on server s\n\
             foreign table t depends on server s\n\
             view v depends on foreign table t\n\
             view v2 depends on view v\n\
             foreign table t2 depends on server s"
        )
    );
    assert_eq!(err.hint.as_deref(), Some("Use DROP ... CASCADE to drop the dependent objects too."));
    let err = env.error("DROP FOREIGN TABLE t");
    assert_eq!(err.detail.as_deref(), Some("view v depends on foreign table t\nview v2 depends on view v"));
    let err = env.error("DROP VIEW t");
    assert_eq!(
        (err.message.as_str(), err.hint.as_deref()),
        ("\"t\" is not a view", Some("Use DROP FOREIGN TABLE to remove a foreign table."))
    );
    env.ok("DROP VIEW v2");
    env.ok("DROP FOREIGN TABLE t CASCADE");
    assert_eq!(env.notices, ["NOTICE:  drop cascades to view v"]);
    env.ok("DROP SERVER s CASCADE");
    assert_eq!(
        env.notices,
        ["NOTICE:  drop cascades to 3 other objects\nDETAIL:  drop cascades to user mapping for postgres on server s\n\
          drop cascades to user mapping for public on server s\ndrop cascades to foreign table t2"]
    );
    assert!(env.cat.user_mappings.is_empty() && env.cat.relations.is_empty() && env.cat.server("s").is_none());
    assert_eq!(env.fail("DROP SERVER s"), e("42704", "server \"s\" does not exist"));
    assert_eq!(env.ok("DROP SERVER IF EXISTS s"), "DROP SERVER");
    assert_eq!(env.notices, ["NOTICE:  server \"s\" does not exist, skipping"]);
    assert_eq!(env.fail("DROP VIEW nosuch"), e("42P01", "view \"nosuch\" does not exist"));
    assert_eq!(env.fail("DROP TABLE nosuch"), e("42P01", "table \"nosuch\" does not exist"));
}

#[test]
fn plain_tables_go_to_the_storage_wrapper() {
    let mut bare = Env::new(false);
    let (state, msg) = bare.fail("CREATE TABLE t (a int)");
    assert_eq!(state, "0A000");
    assert!(msg.starts_with("CREATE TABLE needs a storage wrapper"), "{msg}");

    let mut env = Env::new(true);
    assert_eq!(env.ok("CREATE TABLE t (a int primary key, b text unique, c int not null default 5)"), "CREATE TABLE");
    let t = env.cat.relation(None, "t").unwrap().clone();
    assert!(t.is_plain_table && t.server == "mot_server");
    assert!(t.columns[0].not_null && !t.columns[1].not_null && t.columns[2].not_null);
    assert_eq!(t.columns[2].default.as_deref(), Some("5"));
    assert_eq!(env.mot.log(), ["create t [t_pkey[0]true t_b_key[1]false]"]);
    assert_eq!(env.fail("CREATE TABLE t (a int)"), e("42P07", "relation \"t\" already exists"));
    assert_eq!(
        env.fail("CREATE TABLE u (a int primary key, b int, primary key (b))").1,
        "multiple primary keys for table \"u\" are not allowed"
    );
    assert_eq!(env.ok("CREATE INDEX ON t (c)"), "CREATE INDEX");
    env.ok("CREATE INDEX ON t (c, b)");
    env.ok("CREATE UNIQUE INDEX ix ON t (b)");
    assert_eq!(env.fail("CREATE INDEX ix ON t (b)"), e("42P07", "relation \"ix\" already exists"));
    assert_eq!(env.fail("CREATE INDEX ON t (zz)"), e("42703", "column \"zz\" named in key does not exist"));
    let names: Vec<String> = env.cat.relation(None, "t").unwrap().indexes.iter().map(|i| i.name.clone()).collect();
    assert_eq!(names, ["t_pkey", "t_b_key", "t_c_idx", "t_c_b_idx", "ix"]);
    assert_eq!(env.ok("DROP INDEX ix"), "DROP INDEX");
    assert_eq!(env.fail("DROP INDEX ix"), e("42704", "index \"ix\" does not exist"));
    env.ok("DROP INDEX IF EXISTS ix");
    assert_eq!(env.notices, ["NOTICE:  index \"ix\" does not exist, skipping"]);
    assert_eq!(env.ok("ALTER TABLE t ADD COLUMN d int DEFAULT -7"), "ALTER TABLE");
    assert_eq!(
        env.fail("ALTER TABLE t ADD COLUMN e int DEFAULT 'x'").1,
        "invalid input syntax for type integer: \"x\""
    );
    assert_eq!(env.fail("ALTER TABLE t ADD COLUMN e int DEFAULT now()").0, "0A000");
    assert_eq!(env.fail("ALTER TABLE t ADD COLUMN a int"), e("42701", "column \"a\" of relation \"t\" already exists"));
    assert_eq!(env.fail("ALTER TABLE t DROP COLUMN z"), e("42703", "column \"z\" of relation \"t\" does not exist"));
    assert_eq!(env.fail("ALTER TABLE t RENAME COLUMN z TO y"), e("42703", "column \"z\" does not exist"));
    assert_eq!(
        env.fail("ALTER TABLE t RENAME COLUMN b TO c"),
        e("42701", "column \"c\" of relation \"t\" already exists")
    );
    env.ok("ALTER TABLE t RENAME COLUMN d TO dd");
    env.ok("ALTER TABLE t DROP COLUMN b");
    let t = env.cat.relation(None, "t").unwrap().clone();
    let names: Vec<(&str, &[usize])> = t.indexes.iter().map(|i| (i.name.as_str(), i.columns.as_slice())).collect();
    assert_eq!(names, [("t_pkey", &[0][..]), ("t_c_idx", &[1][..])]);
    assert_eq!(env.ok("TRUNCATE t"), "TRUNCATE TABLE");
    let log = env.mot.log();
    assert_eq!(
        log[1..],
        [
            "index t_c_idx on t [2]",
            "index t_c_b_idx on t [2, 1]",
            "index ix on t [1]",
            "drop index ix",
            "add d Int4(-7)",
            "rename 3 dd",
            "drop index t_b_key",
            "drop index t_c_b_idx",
            "drop column 1",
            "truncate t",
        ]
    );
    env.ok("CREATE VIEW tv AS SELECT a FROM t");
    assert_eq!(env.fail("DROP TABLE t").1, "cannot drop table t because other objects depend on it");
    assert_eq!(env.ok("DROP TABLE t CASCADE"), "DROP TABLE");
    assert_eq!(env.notices, ["NOTICE:  drop cascades to view tv"]);
    assert_eq!(env.mot.log().last().map(String::as_str), Some("drop t"));
    // A plain table cannot be altered as a foreign table.
    env.ok("CREATE TABLE pt (a int)");
    assert_eq!(
        env.fail("ALTER FOREIGN TABLE pt OPTIONS (SET format 'csv')"),
        e("42809", "\"pt\" is not a foreign table")
    );
}

#[test]
fn truncate_import_and_views() {
    let mut env = Env::new(false);
    env.ok("CREATE SERVER s FOREIGN DATA WRAPPER file_fdw OPTIONS (c '!')");
    env.ok("CREATE SERVER b FOREIGN DATA WRAPPER bare_fdw");
    env.ok("CREATE FOREIGN TABLE t (a int) SERVER s OPTIONS (filename 'f')");
    env.ok("CREATE FOREIGN TABLE bt (a int) SERVER b");
    env.ok("TRUNCATE t");
    assert_eq!(env.file.log(), ["truncate t"]);
    assert_eq!(env.fail("TRUNCATE bt"), e("0A000", "cannot truncate foreign table \"bt\""));
    assert_eq!(env.ok("IMPORT FOREIGN SCHEMA rem EXCEPT (r1) FROM SERVER s INTO public"), "IMPORT FOREIGN SCHEMA");
    assert_eq!(env.cat.relation(None, "r2").unwrap().options.get("filename"), Some("rem/r2!"));
    assert_eq!(
        env.fail("IMPORT FOREIGN SCHEMA rem LIMIT TO (r2) FROM SERVER s INTO public"),
        e("42P07", "relation \"r2\" already exists")
    );
    assert_eq!(
        env.fail("IMPORT FOREIGN SCHEMA rem FROM SERVER s INTO nope"),
        e("3F000", "schema \"nope\" does not exist")
    );
    assert_eq!(
        env.fail("IMPORT FOREIGN SCHEMA rem FROM SERVER b INTO public"),
        e("HV00P", "foreign-data wrapper \"bare_fdw\" does not support IMPORT FOREIGN SCHEMA")
    );
    assert_eq!(env.ok("CREATE VIEW v (x) AS SELECT a FROM t"), "CREATE VIEW");
    let v = env.cat.relation(None, "v").unwrap().clone();
    assert_eq!((v.kind, v.query.as_deref(), v.columns[0].name.as_str()), (RelKind::View, Some("SELECT a FROM t"), "x"));
    assert_eq!(env.fail("CREATE VIEW v AS SELECT 1"), e("42P07", "relation \"v\" already exists"));
    env.ok("CREATE OR REPLACE VIEW v AS SELECT 2");
    assert_eq!(env.cat.relation(None, "v").unwrap().oid, v.oid);
    assert_eq!(env.fail("CREATE OR REPLACE VIEW t AS SELECT 2"), e("42809", "\"t\" is not a view"));
    assert_eq!(env.ok("DROP VIEW v"), "DROP VIEW");
    assert_eq!(env.ok("GRANT SELECT ON t TO alice"), "GRANT");
}

#[test]
fn analyze_stores_statistics() {
    let mut env = Env::new(false);
    env.ok("CREATE SERVER s FOREIGN DATA WRAPPER file_fdw");
    env.ok("CREATE SERVER b FOREIGN DATA WRAPPER bare_fdw");
    env.ok("CREATE FOREIGN TABLE t (a int, b text) SERVER s OPTIONS (filename 'f')");
    env.ok("CREATE FOREIGN TABLE bt (a int) SERVER b");
    assert_eq!(env.ok("ANALYZE"), "ANALYZE");
    assert!(env.notices.is_empty());
    let stats = env.cat.relation(None, "t").unwrap().stats.clone().unwrap();
    assert_eq!(stats.row_count, 10.0);
    let a = stats.columns[0].as_ref().unwrap();
    // Values 0,1,2 (4, 3, 3 times): all kept as MCVs, no histogram; 3 distinct values are
    // more than 10% of 10 rows, so stored as a fraction.
    assert_eq!(a.n_distinct, -0.3);
    assert_eq!(a.mcv, vec![(Datum::Int4(0), 0.4), (Datum::Int4(1), 0.3), (Datum::Int4(2), 0.3)]);
    let b = stats.columns[1].as_ref().unwrap();
    assert_eq!((b.n_distinct, b.histogram.len(), b.avg_width), (-1.0, 10, 3));
    assert!(env.cat.relation(None, "bt").unwrap().stats.is_none());
    env.ok("ANALYZE bt");
    assert_eq!(env.notices, ["WARNING:  skipping \"bt\" --- cannot analyze this foreign table"]);
    assert_eq!(env.fail("ANALYZE nosuch"), e("42P01", "relation \"nosuch\" does not exist"));
    assert_eq!(env.fail("ANALYZE t (zz)"), e("42703", "column \"zz\" of relation \"t\" does not exist"));
    // Only the named column is recomputed; the others keep their statistics.
    env.ok("ANALYZE t (a)");
    assert!(env.cat.relation(None, "t").unwrap().stats.as_ref().unwrap().columns[1].is_some());
    let (_, rows) = sysviews::lookup(&env.cat, None, "pg_stats", "postgres").unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][7], Datum::text("{0,1,2}"));
    assert_eq!(rows[0][8], Datum::text("{0.4,0.3,0.3}"));
    assert_eq!(rows[1][6], Datum::Float4(-1.0));
    assert_eq!(rows[1][9], Datum::text("{v0,v1,v2,v3,v4,v5,v6,v7,v8,v9}"));
}

#[test]
fn table_desc_and_routine() {
    let mut env = Env::new(false);
    env.ok("CREATE FOREIGN DATA WRAPPER nohandler");
    env.ok("CREATE SERVER n FOREIGN DATA WRAPPER nohandler");
    env.ok("CREATE FOREIGN TABLE nt (a int) SERVER n OPTIONS (anything 'x')");
    env.ok("CREATE SERVER s FOREIGN DATA WRAPPER file_fdw OPTIONS (host 'h')");
    env.ok("CREATE USER MAPPING FOR public SERVER s OPTIONS (user 'pub')");
    env.ok("CREATE USER MAPPING FOR postgres SERVER s OPTIONS (user 'pg')");
    env.ok("CREATE FOREIGN TABLE t (a int) SERVER s OPTIONS (filename 'f')");
    let rel = env.cat.relation(None, "t").unwrap().clone();
    let d = table_desc(&env.cat, &rel, "postgres").unwrap();
    assert_eq!((d.option("filename"), d.option("host"), d.server_name.as_str()), (Some("f"), Some("h"), "s"));
    assert_eq!(d.user_mapping_options.get("user"), Some("pg"));
    assert_eq!(table_desc(&env.cat, &rel, "bob").unwrap().user_mapping_options.get("user"), Some("pub"));
    assert_eq!(routine_for(&env.cat, &env.reg, &rel).unwrap().name(), "file_fdw");
    let nt = env.cat.relation(None, "nt").unwrap().clone();
    let err = routine_for(&env.cat, &env.reg, &nt).err().unwrap();
    assert_eq!(
        (err.sqlstate.code(), err.message.as_str()),
        ("55000", "foreign-data wrapper \"nohandler\" has no handler")
    );
    assert_eq!(env.fail("ANALYZE nt"), e("55000", "foreign-data wrapper \"nohandler\" has no handler"));
}

#[test]
fn persistence_round_trip_and_corruption() {
    let mut env = Env::new(true);
    env.ok("CREATE ROLE alice");
    env.ok("CREATE SERVER s TYPE 'x' FOREIGN DATA WRAPPER file_fdw OPTIONS (c 'a,b=c%\t\\\nz')");
    env.ok("CREATE USER MAPPING FOR alice SERVER s OPTIONS (user 'u')");
    env.ok("CREATE FOREIGN TABLE t (a int NOT NULL DEFAULT 1, b text OPTIONS (force_null 'true')) SERVER s OPTIONS (filename 'f')");
    env.ok("CREATE TABLE p (k numeric(15,2) primary key, v varchar(10), w char(3), d date, ts timestamp, i interval, f float8, g real, bo bool, s smallint, l bigint)");
    env.ok("CREATE VIEW v (x) AS SELECT 'it''s' FROM t");
    env.ok("ANALYZE t");
    let dir = tempfile::tempdir().unwrap();
    env.cat.save(dir.path()).unwrap();
    assert!(!dir.path().join("catalog.tmp").exists());
    let loaded = Catalog::load(dir.path(), &env.reg).unwrap();
    assert_eq!(loaded.wrappers, env.cat.wrappers);
    assert_eq!(loaded.servers, env.cat.servers);
    assert_eq!(loaded.user_mappings, env.cat.user_mappings);
    assert_eq!(loaded.relations, env.cat.relations);
    assert_eq!(
        (loaded.next_oid, &loaded.roles, &loaded.extensions),
        (env.cat.next_oid, &env.cat.roles, &env.cat.extensions)
    );

    // A damaged file is an error, never a panic or a silent reset.
    let path = dir.path().join("catalog");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("filename=f", "filename=g")).unwrap();
    let err = Catalog::load(dir.path(), &env.reg).err().unwrap();
    assert_eq!(err.sqlstate.code(), "XX001");
    assert!(err.message.contains("checksum mismatch"), "{}", err.message);
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    assert!(Catalog::load(dir.path(), &env.reg).err().unwrap().message.contains("is corrupt"));
    std::fs::write(&path, "").unwrap();
    assert!(Catalog::load(dir.path(), &env.reg).is_err());
    // Well-formed but wrong content is reported with its line.
    let mut bad = String::from("envelope-catalog\t1\nbogus\t1\n");
    let sum = bad.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
    bad.push_str(&format!("checksum\t{sum:016x}\n"));
    std::fs::write(&path, bad).unwrap();
    let msg = Catalog::load(dir.path(), &env.reg).err().unwrap().message;
    assert!(msg.ends_with("line 2: unknown record \"bogus\""), "{msg}");
    // No file: a fresh database.
    let empty = tempfile::tempdir().unwrap();
    let fresh = Catalog::load(empty.path(), &env.reg).unwrap();
    assert!(fresh.server("mot_server").is_some() && fresh.relations.is_empty());
}

#[test]
fn system_views() {
    let mut env = Env::new(true);
    env.ok("CREATE SERVER s FOREIGN DATA WRAPPER file_fdw OPTIONS (host '3', c 'x,y')");
    env.ok("CREATE USER MAPPING FOR public SERVER s OPTIONS (user 'u')");
    env.ok("CREATE FOREIGN TABLE ft (a int, b varchar(5) NOT NULL) SERVER s OPTIONS (filename 'f')");
    env.ok("CREATE TABLE pt (k numeric(10,2) primary key)");
    env.ok("CREATE VIEW v AS SELECT 1");
    let get = |schema: Option<&str>, name: &str| sysviews::lookup(&env.cat, schema, name, "postgres").unwrap();
    let (cols, rows) = get(None, "pg_foreign_server");
    assert_eq!(
        cols.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["oid", "srvname", "srvowner", "srvfdw", "srvtype", "srvversion", "srvacl", "srvoptions"]
    );
    let s = rows.iter().find(|r| r[1] == Datum::text("s")).unwrap();
    assert_eq!(s[7], Datum::text("{host=3,\"c=x,y\"}"));
    assert_eq!(s[3], Datum::Int8(env.cat.wrapper("file_fdw").unwrap().oid as i64));
    let (_, rows) = get(Some("pg_catalog"), "pg_foreign_table");
    assert_eq!(
        rows,
        vec![vec![
            Datum::Int8(env.cat.relation(None, "ft").unwrap().oid as i64),
            Datum::Int8(env.cat.server("s").unwrap().oid as i64),
            Datum::text("{filename=f}")
        ]]
    );
    let (_, rows) = get(None, "pg_foreign_data_wrapper");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][3], Datum::text("file_fdw_handler"));
    assert_eq!(rows[1][6], Datum::Null);
    let (_, rows) = get(None, "pg_user_mappings");
    assert_eq!(rows[0][4..], [Datum::text("public"), Datum::text("{user=u}")]);
    let (_, hidden) = sysviews::lookup(&env.cat, None, "pg_user_mappings", "bob").unwrap();
    assert_eq!(hidden[0][5], Datum::Null);
    let (_, rows) = get(Some("information_schema"), "tables");
    let kinds: Vec<(Datum, Datum)> = rows.iter().map(|r| (r[2].clone(), r[3].clone())).collect();
    assert_eq!(
        kinds,
        [
            (Datum::text("ft"), Datum::text("FOREIGN")),
            (Datum::text("pt"), Datum::text("BASE TABLE")),
            (Datum::text("v"), Datum::text("VIEW"))
        ]
    );
    assert_eq!(rows[0][0], Datum::text("postgres"));
    let (cols, rows) = get(Some("information_schema"), "columns");
    let idx = |n: &str| cols.iter().position(|c| c.name == n).unwrap();
    let b = &rows[1];
    assert_eq!(
        (&b[idx("column_name")], &b[idx("is_nullable")], &b[idx("data_type")], &b[idx("character_maximum_length")]),
        (&Datum::text("b"), &Datum::text("NO"), &Datum::text("character varying"), &Datum::Int4(5))
    );
    let k = &rows[2];
    assert_eq!(
        (&k[idx("numeric_precision")], &k[idx("numeric_scale")], &k[idx("udt_name")]),
        (&Datum::Int4(10), &Datum::Int4(2), &Datum::text("numeric"))
    );
    let (_, rows) = get(None, "pg_class");
    let kinds: Vec<Datum> = rows.iter().map(|r| r[4].clone()).collect();
    assert_eq!(kinds, [Datum::text("f"), Datum::text("r"), Datum::text("v")]);
    assert_eq!(rows[0][5], Datum::Float4(-1.0));
    let (_, rows) = get(None, "pg_indexes");
    assert_eq!(rows[0][4], Datum::text("CREATE UNIQUE INDEX pt_pkey ON public.pt USING btree (k)"));
    let (_, rows) = get(Some("information_schema"), "foreign_tables");
    assert_eq!(rows[0][4], Datum::text("s"));
    assert_eq!(get(Some("information_schema"), "foreign_servers").1.len(), 2);
    assert!(sysviews::lookup(&env.cat, None, "pg_nosuch", "postgres").is_none());
    assert!(sysviews::lookup(&env.cat, Some("public"), "pg_class", "postgres").is_none());
    assert!(sysviews::lookup(&env.cat, None, "tables", "postgres").is_none());
    assert_eq!(get(None, "pg_attribute").1.len(), 3);
    assert_eq!(get(None, "pg_namespace").1.len(), 3);
}
