//! Tests of the SQL/MED parser: every statement form, option lists, errors.

use fdw_api::{DataType, ImportFilter};

use super::med::*;
use super::{parse_script, parse_statement, Statement};

fn med(sql: &str) -> MedStatement {
    match parse_statement(sql) {
        Ok(Statement::Med(m)) => m,
        other => panic!("{sql}: expected a SQL/MED statement, got {other:?}"),
    }
}

fn opts(v: &[(&str, &str)]) -> OptionList {
    v.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn change(action: OptionAction, name: &str, value: Option<&str>) -> OptionChange {
    OptionChange { action, name: name.into(), value: value.map(str::to_string) }
}

fn qn(name: &str) -> QualifiedName {
    QualifiedName { schema: None, name: name.into() }
}

#[test]
fn wrapper_statements() {
    assert_eq!(
        med("CREATE FOREIGN DATA WRAPPER file_fdw2 HANDLER file_fdw_handler VALIDATOR file_fdw_validator"),
        MedStatement::CreateWrapper {
            name: "file_fdw2".into(),
            handler: Some("file_fdw_handler".into()),
            validator: Some("file_fdw_validator".into()),
            options: vec![],
        }
    );
    assert_eq!(
        med("create foreign data wrapper w NO HANDLER no validator options (a '1', \"B\" 'x''y')"),
        MedStatement::CreateWrapper {
            name: "w".into(),
            handler: None,
            validator: None,
            options: opts(&[("a", "1"), ("B", "x'y")]),
        }
    );
    assert_eq!(
        med("ALTER FOREIGN DATA WRAPPER file_fdw NO HANDLER VALIDATOR v OPTIONS (ADD force_not_null '*', SET a 'b', DROP c, d 'e')"),
        MedStatement::AlterWrapper {
            name: "file_fdw".into(),
            handler: Some(None),
            validator: Some(Some("v".into())),
            options: vec![
                change(OptionAction::Add, "force_not_null", Some("*")),
                change(OptionAction::Set, "a", Some("b")),
                change(OptionAction::Drop, "c", None),
                change(OptionAction::Add, "d", Some("e")),
            ],
        }
    );
    assert_eq!(
        med("DROP FOREIGN DATA WRAPPER IF EXISTS a, b CASCADE"),
        MedStatement::Drop {
            object: MedObject::Wrapper,
            if_exists: true,
            names: vec![qn("a"), qn("b")],
            cascade: true
        }
    );
    assert_eq!(
        med("ALTER FOREIGN DATA WRAPPER w RENAME TO w2"),
        MedStatement::Rename {
            object: MedObject::Wrapper,
            if_exists: false,
            name: qn("w"),
            column: None,
            new_name: "w2".into()
        }
    );
}

#[test]
fn server_statements() {
    assert_eq!(
        med("CREATE SERVER IF NOT EXISTS s TYPE 'pg' VERSION '15' FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'localhost', port '5432')"),
        MedStatement::CreateServer {
            name: "s".into(),
            if_not_exists: true,
            server_type: Some("pg".into()),
            version: Some("15".into()),
            wrapper: "postgres_fdw".into(),
            options: opts(&[("host", "localhost"), ("port", "5432")]),
        }
    );
    assert_eq!(
        med("ALTER SERVER s VERSION '16' OPTIONS (SET host 'h')"),
        MedStatement::AlterServer {
            name: "s".into(),
            version: Some(Some("16".into())),
            options: vec![change(OptionAction::Set, "host", Some("h"))],
        }
    );
    assert_eq!(
        med("DROP SERVER s RESTRICT"),
        MedStatement::Drop { object: MedObject::Server, if_exists: false, names: vec![qn("s")], cascade: false }
    );
    assert_eq!(
        med("ALTER SERVER s OWNER TO bob"),
        MedStatement::Owner { object: MedObject::Server, name: "s".into(), owner: "bob".into() }
    );
}

#[test]
fn user_mapping_statements() {
    assert_eq!(
        med("CREATE USER MAPPING IF NOT EXISTS FOR CURRENT_USER SERVER s OPTIONS (user 'u', password 'p')"),
        MedStatement::CreateUserMapping {
            if_not_exists: true,
            user: UserSpec::Current,
            server: "s".into(),
            options: opts(&[("user", "u"), ("password", "p")]),
        }
    );
    for (kw, spec) in [
        ("public", UserSpec::Public),
        ("USER", UserSpec::Current),
        ("current_role", UserSpec::Current),
        ("Bob", UserSpec::Name("bob".into())),
    ] {
        assert_eq!(
            med(&format!("DROP USER MAPPING IF EXISTS FOR {kw} SERVER s")),
            MedStatement::DropUserMapping { if_exists: true, user: spec, server: "s".into() }
        );
    }
    assert_eq!(
        med("ALTER USER MAPPING FOR postgres SERVER s OPTIONS (DROP password)"),
        MedStatement::AlterUserMapping {
            user: UserSpec::Name("postgres".into()),
            server: "s".into(),
            options: vec![change(OptionAction::Drop, "password", None)],
        }
    );
}

#[test]
fn create_foreign_table() {
    let m = med("CREATE FOREIGN TABLE IF NOT EXISTS public.agg_text (\n a int2 CHECK (a >= 0),\n b float4 NOT NULL DEFAULT 1.5,\n \
                 c text OPTIONS (force_not_null 'true') NULL,\n d varchar(10) COLLATE \"C\", CHECK (a > 1)\n) SERVER file_server \
                 OPTIONS (format 'text', filename '/x/agg.data', delimiter '\t', null '\\N')");
    let MedStatement::CreateForeignTable { name, if_not_exists, columns, server, options } = m else { panic!("{m:?}") };
    assert_eq!(name, QualifiedName { schema: Some("public".into()), name: "agg_text".into() });
    assert!(if_not_exists);
    assert_eq!(server, "file_server");
    assert_eq!(options, opts(&[("format", "text"), ("filename", "/x/agg.data"), ("delimiter", "\t"), ("null", "\\N")]));
    assert_eq!(columns.len(), 4);
    assert_eq!(columns[0].ty, DataType::Int2);
    assert_eq!((columns[1].not_null, columns[1].default.as_deref()), (true, Some("1.5")));
    assert_eq!(columns[2].options, opts(&[("force_not_null", "true")]));
    assert_eq!(columns[3].ty, DataType::Varchar(Some(10)));
    // No columns at all, as file_fdw's regression test writes.
    let MedStatement::CreateForeignTable { columns, options, .. } =
        med("CREATE FOREIGN TABLE tbl () SERVER file_server OPTIONS (\"a=b\" 'true')")
    else {
        panic!()
    };
    assert!(columns.is_empty());
    assert_eq!(options, opts(&[("a=b", "true")]));
    // E'' strings unescape.
    let MedStatement::CreateForeignTable { options, .. } =
        med("CREATE FOREIGN TABLE t (a int) SERVER s OPTIONS (d E'\\t')")
    else {
        panic!()
    };
    assert_eq!(options, opts(&[("d", "\t")]));
}

#[test]
fn alter_and_drop_foreign_table() {
    use ForeignTableAction as A;
    assert_eq!(
        med("ALTER FOREIGN TABLE text_csv OPTIONS (SET format 'csv')"),
        MedStatement::AlterForeignTable {
            name: qn("text_csv"),
            if_exists: false,
            actions: vec![A::Options(vec![change(OptionAction::Set, "format", Some("csv"))])],
        }
    );
    let MedStatement::AlterForeignTable { actions, if_exists, .. } =
        med("ALTER FOREIGN TABLE IF EXISTS t ALTER COLUMN word1 OPTIONS (force_null 'true'), ADD COLUMN e date, \
         DROP COLUMN IF EXISTS f CASCADE, ADD CHECK (a >= 0), ALTER g SET NOT NULL, ALTER g DROP DEFAULT, OWNER TO u")
    else {
        panic!()
    };
    assert!(if_exists);
    assert_eq!(
        actions[0],
        A::ColumnOptions {
            column: "word1".into(),
            changes: vec![change(OptionAction::Add, "force_null", Some("true"))]
        }
    );
    assert!(
        matches!(&actions[1], A::AddColumn { column, if_not_exists: false } if column.name == "e" && column.ty == DataType::Date)
    );
    assert_eq!(actions[2], A::DropColumn { column: "f".into(), if_exists: true, cascade: true });
    assert_eq!(actions[3], A::AddCheck);
    assert_eq!(actions[4], A::SetNotNull { column: "g".into(), not_null: true });
    assert_eq!(actions[5], A::SetDefault { column: "g".into(), default: None });
    assert_eq!(actions[6], A::Owner("u".into()));
    assert!(
        matches!(&med("ALTER FOREIGN TABLE agg_csv INHERIT agg"), MedStatement::AlterForeignTable { actions, .. } if matches!(actions[0], A::Unsupported(_)))
    );
    assert_eq!(
        med("ALTER FOREIGN TABLE t RENAME COLUMN a TO b"),
        MedStatement::Rename {
            object: MedObject::ForeignTable,
            if_exists: false,
            name: qn("t"),
            column: Some("a".into()),
            new_name: "b".into()
        }
    );
    assert_eq!(
        med("DROP FOREIGN TABLE IF EXISTS a, s.b"),
        MedStatement::Drop {
            object: MedObject::ForeignTable,
            if_exists: true,
            names: vec![qn("a"), QualifiedName { schema: Some("s".into()), name: "b".into() }],
            cascade: false
        }
    );
}

#[test]
fn import_checkpoint_analyze_grant() {
    assert_eq!(
        med("IMPORT FOREIGN SCHEMA remote LIMIT TO (a, \"B\") FROM SERVER s INTO public OPTIONS (import_default 'true')"),
        MedStatement::ImportForeignSchema {
            remote_schema: "remote".into(),
            filter: ImportFilter::LimitTo(vec!["a".into(), "B".into()]),
            server: "s".into(),
            local_schema: "public".into(),
            options: opts(&[("import_default", "true")]),
        }
    );
    assert!(matches!(
        med("IMPORT FOREIGN SCHEMA r EXCEPT (x) FROM SERVER s INTO l"),
        MedStatement::ImportForeignSchema { filter: ImportFilter::Except(_), .. }
    ));
    assert_eq!(med("checkpoint"), MedStatement::Checkpoint);
    assert_eq!(med("ANALYZE"), MedStatement::Analyze { verbose: false, tables: vec![] });
    assert_eq!(
        med("ANALYZE VERBOSE t (a, b), u"),
        MedStatement::Analyze {
            verbose: true,
            tables: vec![(qn("t"), vec!["a".into(), "b".into()]), (qn("u"), vec![])]
        }
    );
    assert_eq!(med("analyze (verbose) t").tag(), "ANALYZE");
    assert_eq!(
        med("GRANT USAGE ON FOREIGN SERVER file_server TO regress_file_fdw_user"),
        MedStatement::Privileges { grant: true }
    );
    assert_eq!(med("REVOKE SELECT ON t FROM u").tag(), "REVOKE");
    assert_eq!(med("RESET client_min_messages"), MedStatement::Reset("client_min_messages".into()));
    assert_eq!(med("reset ALL"), MedStatement::Reset("all".into()));
    assert_eq!(med("RESET ROLE"), MedStatement::Reset("role".into()));
    assert_eq!(med("RESET SESSION AUTHORIZATION"), MedStatement::Reset("session_authorization".into()));
}

#[test]
fn syntax_errors() {
    for (sql, msg) in [
        ("CREATE SERVER s FOREIGN DATA", "syntax error at end of input"),
        ("CREATE SERVER s FOREIGN DATA WRAPPER w OPTIONS (a)", "syntax error at or near \")\""),
        ("CREATE FOREIGN TABLE t (a int) SERVER s OPTIONS (a 1)", "syntax error at or near \"1\""),
        ("DROP SERVER s t", "syntax error at or near \"t\""),
        ("CREATE USER MAPPING FOR u SERVER", "syntax error at end of input"),
        ("ALTER SERVER s", "syntax error at end of input"),
    ] {
        let e = parse_statement(sql).unwrap_err();
        assert_eq!((e.sqlstate.code(), e.message.as_str()), ("42601", msg), "{sql}");
    }
    let e = parse_statement("CREATE FOREIGN TABLE t (a nosuchtype) SERVER s").unwrap_err();
    assert_eq!(e.message, "type \"nosuchtype\" does not exist");
}

#[test]
fn other_statements_go_to_sqlparser() {
    for sql in [
        "CREATE EXTENSION file_fdw",
        "CREATE EXTENSION IF NOT EXISTS postgres_fdw",
        "DROP EXTENSION file_fdw CASCADE",
        "CREATE TABLE t (a int primary key)",
        "CREATE ROLE regress_file_fdw_superuser LOGIN SUPERUSER",
        "DROP ROLE IF EXISTS a, b",
        "SELECT 1",
    ] {
        assert!(matches!(parse_statement(sql), Ok(Statement::Sql(_))), "{sql}: {:?}", parse_statement(sql));
    }
    // A whole script with comments and both kinds of statement.
    let r = parse_script("-- c\nCREATE SERVER s FOREIGN DATA WRAPPER w; /* x; */ SELECT 1;");
    assert_eq!(r.len(), 2);
    assert!(matches!(r[0].1, Ok(Statement::Med(MedStatement::CreateServer { .. }))));
    assert!(matches!(r[1].1, Ok(Statement::Sql(_))));
}
