//! DDL on relations and the remaining utility statements: plain CREATE/DROP/ALTER TABLE
//! (stored by the default storage wrapper through `DdlRoutine::validate_table_def`),
//! CREATE/DROP VIEW, CREATE/DROP INDEX, TRUNCATE, IMPORT FOREIGN SCHEMA, CREATE/DROP
//! EXTENSION and CREATE/DROP ROLE.
//!
//! Simplifications: CHECK and FOREIGN KEY constraints of plain tables are rejected (the
//! storage engines enforce NOT NULL, PRIMARY KEY and UNIQUE only); a view stores its SQL text
//! and is expanded by the binder, so renaming a table a view uses breaks the view (PostgreSQL
//! binds views by OID); ALTER TABLE ADD COLUMN accepts constant defaults only.

use std::sync::Arc;

use fdw_api::{err, DataType, Datum, DdlCommand, FdwError, FdwResult, ImportFilter, IndexDef, SqlState, TableDesc};
use sqlparser::ast::{
    self, AlterColumnOperation, AlterTableOperation, ColumnOption, Expr, ObjectType, TableConstraint,
};

use super::ddl::{
    self, check_new_relation, column_index, new_options, server_entry, target_schema, validate, DdlContext,
};
use super::depend::ObjRef;
use super::{routine_for, table_desc, Catalog, RelKind, RelationEntry, PUBLIC_SCHEMA};
use crate::sql::med::{ForeignColumn, OptionList, QualifiedName};
use crate::sql::{data_type, ident_name, object_name};

/// The sqlparser statements that are DDL; `None` for the others.
pub(crate) fn sql_ddl(cx: &mut DdlContext<'_>, stmt: &ast::Statement) -> FdwResult<Option<String>> {
    use ast::Statement as S;
    let tag = match stmt {
        S::CreateTable(ct) => {
            create_table(cx, ct)?;
            "CREATE TABLE"
        }
        S::CreateView { name, columns, query, or_replace, materialized, if_not_exists, temporary, .. } => {
            if *materialized {
                return Err(FdwError::feature("materialized views are not supported"));
            }
            if *temporary {
                return Err(FdwError::feature("temporary views are not supported"));
            }
            create_view(cx, name, columns, query, *or_replace, *if_not_exists)?;
            "CREATE VIEW"
        }
        S::CreateIndex(ci) => {
            create_index(cx, ci)?;
            "CREATE INDEX"
        }
        S::Drop { object_type, if_exists, names, cascade, .. } => {
            let tag = match object_type {
                ObjectType::Table => "DROP TABLE",
                ObjectType::View => "DROP VIEW",
                ObjectType::Index => "DROP INDEX",
                ObjectType::Role | ObjectType::User => {
                    drop_roles(cx, names, *if_exists)?;
                    return Ok(Some("DROP ROLE".into()));
                }
                _ => return Ok(None),
            };
            drop_relations(cx, *object_type, names, *if_exists, *cascade)?;
            tag
        }
        S::AlterTable { name, if_exists, operations, .. } => {
            alter_table(cx, name, *if_exists, operations)?;
            "ALTER TABLE"
        }
        S::Truncate { table_names, .. } => {
            let names: Vec<&ast::ObjectName> = table_names.iter().map(|t| &t.name).collect();
            truncate(cx, &names)?;
            "TRUNCATE TABLE"
        }
        S::CreateExtension { name, if_not_exists, .. } => {
            create_extension(cx, &ident_name(name), *if_not_exists)?;
            "CREATE EXTENSION"
        }
        S::DropExtension { names, if_exists, cascade_or_restrict } => {
            let cascade = matches!(cascade_or_restrict, Some(ast::ReferentialAction::Cascade));
            for n in names {
                drop_extension(cx, &ident_name(n), *if_exists, cascade)?;
            }
            "DROP EXTENSION"
        }
        S::CreateRole { names, if_not_exists, .. } => {
            for n in names {
                let (_, role) = object_name(n)?;
                if cx.catalog.role_exists(&role) {
                    if *if_not_exists {
                        cx.notice(format!("role \"{role}\" already exists, skipping"));
                        continue;
                    }
                    return Err(err!(DUPLICATE_OBJECT, "role \"{}\" already exists", role));
                }
                cx.catalog.roles.insert(role);
            }
            "CREATE ROLE"
        }
        _ => return Ok(None),
    };
    Ok(Some(tag.to_string()))
}

/// The wrapper's `validate_table_def` for a plain table (`<wrapper> does not support
/// ValidateTableDef` if it has no DDL routine).
fn storage_ddl(cx: &DdlContext<'_>, rel: &RelationEntry, command: &DdlCommand) -> FdwResult<()> {
    let routine = routine_for(cx.catalog, cx.registry, rel)?;
    let ddl = routine.ddl_routine().ok_or_else(|| FdwError::unsupported(routine.name(), "ValidateTableDef"))?;
    ddl.validate_table_def(command, cx.exec)
}

fn desc(cx: &DdlContext<'_>, rel: &RelationEntry) -> FdwResult<Arc<TableDesc>> {
    table_desc(cx.catalog, rel, &cx.exec.user)
}

pub(crate) fn storage_drop_table(cx: &DdlContext<'_>, rel: &RelationEntry) -> FdwResult<()> {
    let table = desc(cx, rel)?;
    storage_ddl(cx, rel, &DdlCommand::DropTable { table })
}

fn qualified(name: &ast::ObjectName) -> FdwResult<QualifiedName> {
    let (schema, name) = object_name(name)?;
    Ok(QualifiedName { schema, name })
}

/// A free index name derived from `base` (`t_a_key`, `t_a_key1`, ...).
fn free_index_name(cat: &Catalog, extra: &[IndexDef], base: &str) -> String {
    let taken = |n: &str| {
        cat.relation(None, n).is_some()
            || extra.iter().any(|i| i.name == n)
            || cat.relations.values().any(|r| r.indexes.iter().any(|i| i.name == n))
    };
    if !taken(base) {
        return base.to_string();
    }
    (1..).map(|i| format!("{base}{i}")).find(|n| !taken(n)).unwrap_or_else(|| base.to_string())
}

fn index_columns(rel_name: &str, columns: &[fdw_api::ColumnDef], names: &[String]) -> FdwResult<Vec<usize>> {
    names
        .iter()
        .map(|n| {
            columns.iter().position(|c| &c.name == n).ok_or_else(|| {
                let _ = rel_name;
                err!(UNDEFINED_COLUMN, "column \"{}\" named in key does not exist", n)
            })
        })
        .collect()
}

fn ident_list(cols: &[ast::IndexColumn]) -> FdwResult<Vec<String>> {
    cols.iter()
        .map(|c| match &c.column.expr {
            Expr::Identifier(i) => Ok(ident_name(i)),
            other => Err(FdwError::feature(format!("index expressions are not supported: {other}"))),
        })
        .collect()
}

// --- CREATE TABLE --------------------------------------------------------------------------

fn create_table(cx: &mut DdlContext<'_>, ct: &ast::CreateTable) -> FdwResult<()> {
    if ct.query.is_some() || ct.like.is_some() || ct.clone.is_some() {
        return Err(FdwError::feature("CREATE TABLE AS / LIKE / CLONE is not supported"));
    }
    if ct.temporary {
        return Err(FdwError::feature("temporary tables are not supported"));
    }
    let name = qualified(&ct.name)?;
    let schema = target_schema(&name)?;
    let Some(server) = cx.catalog.default_table_server().map(str::to_string) else {
        return Err(FdwError::feature(
            "CREATE TABLE needs a storage wrapper: register the mot_fdw wrapper (server mot_server), \
             or use CREATE FOREIGN TABLE",
        ));
    };
    if !check_new_relation(cx, &schema, &name.name, ct.if_not_exists)? {
        return Ok(());
    }
    let mut cols = Vec::with_capacity(ct.columns.len());
    let mut pk: Option<Vec<String>> = None;
    let mut uniques: Vec<Vec<String>> = Vec::new();
    for c in &ct.columns {
        let col_name = ident_name(&c.name);
        let mut col = ForeignColumn {
            name: col_name.clone(),
            ty: data_type(&c.data_type)?,
            options: Vec::new(),
            not_null: false,
            default: None,
        };
        for o in &c.options {
            match &o.option {
                ColumnOption::NotNull => col.not_null = true,
                ColumnOption::Null => col.not_null = false,
                ColumnOption::Default(e) => col.default = Some(e.to_string()),
                ColumnOption::Unique { is_primary: true, .. } => {
                    if pk.is_some() {
                        return Err(multiple_pk(&name.name));
                    }
                    pk = Some(vec![col_name.clone()]);
                }
                ColumnOption::Unique { is_primary: false, .. } => uniques.push(vec![col_name.clone()]),
                other => return Err(FdwError::feature(format!("column constraint {other} is not supported"))),
            }
        }
        cols.push(col);
    }
    for c in &ct.constraints {
        match c {
            TableConstraint::PrimaryKey { columns, .. } => {
                if pk.is_some() {
                    return Err(multiple_pk(&name.name));
                }
                pk = Some(ident_list(columns)?);
            }
            TableConstraint::Unique { columns, .. } => uniques.push(ident_list(columns)?),
            other => return Err(FdwError::feature(format!("table constraint {other} is not supported"))),
        }
    }
    let mut columns = ddl::column_defs(&cols)?;
    let mut indexes: Vec<IndexDef> = Vec::new();
    if let Some(pk) = &pk {
        let positions = index_columns(&name.name, &columns, pk)?;
        for &p in &positions {
            columns[p].not_null = true;
        }
        let iname = free_index_name(cx.catalog, &indexes, &format!("{}_pkey", name.name));
        indexes.push(IndexDef {
            name: iname,
            table: name.name.clone(),
            columns: positions,
            unique: true,
            primary: true,
        });
    }
    for u in &uniques {
        let positions = index_columns(&name.name, &columns, u)?;
        let iname = free_index_name(cx.catalog, &indexes, &format!("{}_{}_key", name.name, u.join("_")));
        indexes.push(IndexDef {
            name: iname,
            table: name.name.clone(),
            columns: positions,
            unique: true,
            primary: false,
        });
    }
    let oid = cx.catalog.alloc_oid();
    let rel = RelationEntry {
        oid,
        schema: schema.clone(),
        name: name.name.clone(),
        kind: RelKind::ForeignTable,
        columns,
        server,
        options: Default::default(),
        indexes,
        stats: None,
        query: None,
        is_plain_table: true,
    };
    // The constraint indexes travel with CreateTable in `table.indexes`.
    let table = desc(cx, &rel)?;
    storage_ddl(cx, &rel, &DdlCommand::CreateTable { table })?;
    cx.catalog.relations.insert((schema, name.name), Arc::new(rel));
    Ok(())
}

fn multiple_pk(table: &str) -> FdwError {
    err!(INVALID_TABLE_DEFINITION, "multiple primary keys for table \"{}\" are not allowed", table)
}

// --- views ---------------------------------------------------------------------------------

fn create_view(
    cx: &mut DdlContext<'_>,
    name: &ast::ObjectName,
    columns: &[ast::ViewColumnDef],
    query: &ast::Query,
    or_replace: bool,
    if_not_exists: bool,
) -> FdwResult<()> {
    let name = qualified(name)?;
    let schema = target_schema(&name)?;
    let existing = cx.catalog.relation(Some(&schema), &name.name).cloned();
    match &existing {
        Some(r) if or_replace && r.kind == RelKind::View => {}
        Some(r) if or_replace => return Err(err!(WRONG_OBJECT_TYPE, "\"{}\" is not a view", r.name)),
        _ => {
            if !check_new_relation(cx, &schema, &name.name, if_not_exists)? {
                return Ok(());
            }
        }
    }
    let mut cols: Vec<fdw_api::ColumnDef> = Vec::new();
    for c in columns {
        let n = ident_name(&c.name);
        if cols.iter().any(|x| x.name == n) {
            return Err(err!(DUPLICATE_COLUMN, "column \"{}\" specified more than once", n));
        }
        // The binder knows the types; the catalog keeps the names the view renames to.
        cols.push(fdw_api::ColumnDef {
            name: n,
            ty: DataType::Unknown,
            not_null: false,
            default: None,
            options: Default::default(),
        });
    }
    let oid = existing.as_ref().map(|r| r.oid).unwrap_or_else(|| cx.catalog.alloc_oid());
    let rel = RelationEntry {
        oid,
        schema: schema.clone(),
        name: name.name.clone(),
        kind: RelKind::View,
        columns: cols,
        server: String::new(),
        options: Default::default(),
        indexes: Vec::new(),
        stats: None,
        query: Some(query.to_string()),
        is_plain_table: false,
    };
    cx.catalog.relations.insert((schema, name.name), Arc::new(rel));
    Ok(())
}

// --- indexes -------------------------------------------------------------------------------

fn create_index(cx: &mut DdlContext<'_>, ci: &ast::CreateIndex) -> FdwResult<()> {
    if ci.predicate.is_some() {
        return Err(FdwError::feature("partial indexes are not supported"));
    }
    let tname = qualified(&ci.table_name)?;
    let rel = cx
        .catalog
        .relation(tname.schema.as_deref(), &tname.name)
        .cloned()
        .ok_or_else(|| err!(UNDEFINED_TABLE, "relation \"{}\" does not exist", tname.name))?;
    if !rel.is_plain_table {
        let what = if rel.kind == RelKind::View { "view" } else { "foreign table" };
        return Err(err!(WRONG_OBJECT_TYPE, "cannot create index on {} \"{}\"", what, rel.name));
    }
    let names = ident_list(&ci.columns)?;
    let positions = index_columns(&rel.name, &rel.columns, &names)?;
    let iname = match &ci.name {
        Some(n) => {
            let n = qualified(n)?.name;
            if !check_new_relation(cx, &rel.schema, &n, ci.if_not_exists)? {
                return Ok(());
            }
            n
        }
        None => free_index_name(cx.catalog, &[], &format!("{}_{}_idx", rel.name, names.join("_"))),
    };
    let index =
        IndexDef { name: iname, table: rel.name.clone(), columns: positions, unique: ci.unique, primary: false };
    let table = desc(cx, &rel)?;
    storage_ddl(cx, &rel, &DdlCommand::CreateIndex { table, index: index.clone() })?;
    let mut new = (*rel).clone();
    new.indexes.push(index);
    cx.catalog.relations.insert((new.schema.clone(), new.name.clone()), Arc::new(new));
    Ok(())
}

// --- DROP TABLE / VIEW / INDEX -------------------------------------------------------------

/// `"t" is not a table` with PostgreSQL's hint naming the right DROP.
pub(crate) fn wrong_drop_kind(rel: &RelationEntry, expected: &str) -> FdwError {
    let (kind, hint) = if rel.kind == RelKind::View {
        ("view", "DROP VIEW")
    } else if rel.is_plain_table {
        ("table", "DROP TABLE")
    } else {
        ("foreign table", "DROP FOREIGN TABLE")
    };
    let article = if expected.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    err!(WRONG_OBJECT_TYPE, "\"{}\" is not {} {}", rel.name, article, expected)
        .with_hint(format!("Use {hint} to remove a {kind}."))
}

fn drop_relations(
    cx: &mut DdlContext<'_>,
    kind: ObjectType,
    names: &[ast::ObjectName],
    if_exists: bool,
    cascade: bool,
) -> FdwResult<()> {
    if kind == ObjectType::Index {
        for n in names {
            drop_index(cx, &qualified(n)?, if_exists)?;
        }
        return Ok(());
    }
    let expected = if kind == ObjectType::View { "view" } else { "table" };
    let mut roots = Vec::new();
    for n in names {
        let n = qualified(n)?;
        match cx.catalog.relation(n.schema.as_deref(), &n.name) {
            Some(r) => {
                let ok = if kind == ObjectType::View { r.kind == RelKind::View } else { r.is_plain_table };
                if !ok {
                    return Err(wrong_drop_kind(r, expected));
                }
                roots.push(ObjRef::relation(&r.schema, &r.name));
            }
            None if if_exists => cx.notice(format!("{expected} \"{}\" does not exist, skipping", n.name)),
            None => return Err(err!(UNDEFINED_TABLE, "{} \"{}\" does not exist", expected, n.name)),
        }
    }
    if roots.is_empty() {
        return Ok(());
    }
    let what = roots[0].describe(cx.catalog);
    ddl::drop_objects(cx, roots, &what, cascade)
}

fn drop_index(cx: &mut DdlContext<'_>, name: &QualifiedName, if_exists: bool) -> FdwResult<()> {
    let owner = cx.catalog.relations.values().find(|r| r.indexes.iter().any(|i| i.name == name.name)).cloned();
    let Some(rel) = owner else {
        if if_exists {
            cx.notice(format!("index \"{}\" does not exist, skipping", name.name));
            return Ok(());
        }
        return Err(err!(UNDEFINED_OBJECT, "index \"{}\" does not exist", name.name));
    };
    let Some(index) = rel.indexes.iter().find(|i| i.name == name.name).cloned() else { return Ok(()) };
    if index.primary || index.unique && index.name.ends_with("_key") {
        // Constraint indexes go with their constraint, as in PostgreSQL.
        let constraint = index.name.clone();
        return Err(err!(
            DEPENDENT_OBJECTS_STILL_EXIST,
            "cannot drop index {} because constraint {} on table {} requires it",
            index.name,
            constraint,
            rel.name
        )
        .with_hint(format!("You can drop constraint {constraint} on table {} instead.", rel.name)));
    }
    let table = desc(cx, &rel)?;
    storage_ddl(cx, &rel, &DdlCommand::DropIndex { table, index: index.clone() })?;
    let mut new = (*rel).clone();
    new.indexes.retain(|i| i.name != index.name);
    cx.catalog.relations.insert((new.schema.clone(), new.name.clone()), Arc::new(new));
    Ok(())
}

// --- ALTER TABLE ---------------------------------------------------------------------------

fn alter_table(
    cx: &mut DdlContext<'_>,
    name: &ast::ObjectName,
    if_exists: bool,
    ops: &[AlterTableOperation],
) -> FdwResult<()> {
    let qn = qualified(name)?;
    let Some(rel) = ddl::relation_for_alter(cx, &qn, if_exists)? else { return Ok(()) };
    if rel.kind == RelKind::View {
        return Err(err!(WRONG_OBJECT_TYPE, "\"{}\" is not a table", rel.name).with_hint("Use ALTER VIEW instead."));
    }
    for op in ops {
        // Re-read: each operation sees the previous one's result.
        let rel = cx
            .catalog
            .relation(Some(&rel.schema), &rel.name)
            .cloned()
            .ok_or_else(|| err!(UNDEFINED_TABLE, "relation \"{}\" does not exist", rel.name))?;
        alter_table_op(cx, &rel, op)?;
    }
    Ok(())
}

fn alter_table_op(cx: &mut DdlContext<'_>, rel: &Arc<RelationEntry>, op: &AlterTableOperation) -> FdwResult<()> {
    let mut new = (**rel).clone();
    match op {
        AlterTableOperation::AddColumn { if_not_exists, column_def, .. } => {
            let cname = ident_name(&column_def.name);
            if rel.columns.iter().any(|c| c.name == cname) {
                let msg = format!("column \"{}\" of relation \"{}\" already exists", cname, rel.name);
                if *if_not_exists {
                    cx.notice(format!("{msg}, skipping"));
                    return Ok(());
                }
                return Err(err!(DUPLICATE_COLUMN, "{}", msg));
            }
            let mut col = fdw_api::ColumnDef {
                name: cname,
                ty: data_type(&column_def.data_type)?,
                not_null: false,
                default: None,
                options: Default::default(),
            };
            let mut default_expr = None;
            for o in &column_def.options {
                match &o.option {
                    ColumnOption::NotNull => col.not_null = true,
                    ColumnOption::Null => col.not_null = false,
                    ColumnOption::Default(e) => {
                        col.default = Some(e.to_string());
                        default_expr = Some(e.clone());
                    }
                    other => return Err(FdwError::feature(format!("column constraint {other} is not supported here"))),
                }
            }
            if rel.is_plain_table {
                let default = match &default_expr {
                    Some(e) => constant_default(e, &col.ty)?,
                    None => Datum::Null,
                };
                let table = desc(cx, rel)?;
                storage_ddl(cx, rel, &DdlCommand::AddColumn { table, column: col.clone(), default })?;
            }
            new.columns.push(col);
            new.stats = None;
        }
        AlterTableOperation::DropColumn { column_names, if_exists, .. } => {
            for c in column_names {
                let cname = ident_name(c);
                let Some(i) = new.columns.iter().position(|x| x.name == cname) else {
                    if *if_exists {
                        cx.notice(format!(
                            "column \"{}\" of relation \"{}\" does not exist, skipping",
                            cname, rel.name
                        ));
                        continue;
                    }
                    return Err(column_index(&new, &cname).unwrap_err());
                };
                if new.is_plain_table {
                    let table = desc(cx, &new)?;
                    // Indexes on the column go with it.
                    for index in new.indexes.iter().filter(|ix| ix.columns.contains(&i)) {
                        storage_ddl(cx, &new, &DdlCommand::DropIndex { table: table.clone(), index: index.clone() })?;
                    }
                    storage_ddl(cx, &new, &DdlCommand::DropColumn { table, column: i })?;
                }
                new.columns.remove(i);
                new.indexes.retain(|ix| !ix.columns.contains(&i));
                for ix in &mut new.indexes {
                    for p in &mut ix.columns {
                        if *p > i {
                            *p -= 1;
                        }
                    }
                }
                new.stats = None;
            }
        }
        AlterTableOperation::RenameColumn { old_column_name, new_column_name } => {
            return rename_relation(cx, rel, Some(&ident_name(old_column_name)), &ident_name(new_column_name));
        }
        AlterTableOperation::RenameTable { table_name } => {
            let target = match table_name {
                ast::RenameTableNameKind::As(n) | ast::RenameTableNameKind::To(n) => qualified(n)?.name,
            };
            return rename_relation(cx, rel, None, &target);
        }
        AlterTableOperation::AlterColumn { column_name, op } => {
            let i = column_index(&new, &ident_name(column_name))?;
            match op {
                AlterColumnOperation::SetNotNull => new.columns[i].not_null = true,
                AlterColumnOperation::DropNotNull => {
                    if new.indexes.iter().any(|ix| ix.primary && ix.columns.contains(&i)) {
                        return Err(err!(
                            INVALID_TABLE_DEFINITION,
                            "column \"{}\" is in a primary key",
                            new.columns[i].name
                        ));
                    }
                    new.columns[i].not_null = false
                }
                AlterColumnOperation::SetDefault { value } => new.columns[i].default = Some(value.to_string()),
                AlterColumnOperation::DropDefault => new.columns[i].default = None,
                other => return Err(FdwError::feature(format!("ALTER COLUMN {other} is not supported"))),
            }
        }
        AlterTableOperation::AddConstraint { constraint: TableConstraint::Check { .. }, .. } if !rel.is_plain_table => {
        }
        other => return Err(FdwError::feature(format!("ALTER TABLE {other} is not supported"))),
    }
    cx.catalog.relations.insert((new.schema.clone(), new.name.clone()), Arc::new(new));
    Ok(())
}

/// The value of a constant DEFAULT (what existing rows get on ADD COLUMN).
fn constant_default(e: &Expr, ty: &DataType) -> FdwResult<Datum> {
    let text = match e {
        Expr::Value(v) => match &v.value {
            ast::Value::Null => return Ok(Datum::Null),
            ast::Value::Number(n, _) => n.clone(),
            ast::Value::SingleQuotedString(s) | ast::Value::EscapedStringLiteral(s) => s.clone(),
            ast::Value::Boolean(b) => b.to_string(),
            _ => return Err(non_constant(e)),
        },
        Expr::UnaryOp { op: ast::UnaryOperator::Minus, expr } => match expr.as_ref() {
            Expr::Value(v) => match &v.value {
                ast::Value::Number(n, _) => format!("-{n}"),
                _ => return Err(non_constant(e)),
            },
            _ => return Err(non_constant(e)),
        },
        _ => return Err(non_constant(e)),
    };
    ty.parse_text(&text)
}

fn non_constant(e: &Expr) -> FdwError {
    FdwError::feature(format!("ALTER TABLE ADD COLUMN with a non-constant default ({e}) is not supported"))
}

/// RENAME TO (column `None`) or RENAME COLUMN of a table or foreign table.
pub(crate) fn rename_relation(
    cx: &mut DdlContext<'_>,
    rel: &Arc<RelationEntry>,
    column: Option<&str>,
    new_name: &str,
) -> FdwResult<()> {
    let mut new = (**rel).clone();
    match column {
        None => {
            check_new_relation(cx, &rel.schema, new_name, false)?;
            new.name = new_name.to_string();
            for ix in &mut new.indexes {
                ix.table = new_name.to_string();
            }
            cx.catalog.relations.remove(&(rel.schema.clone(), rel.name.clone()));
        }
        Some(old) => {
            let i = rel
                .columns
                .iter()
                .position(|c| c.name == old)
                .ok_or_else(|| err!(UNDEFINED_COLUMN, "column \"{}\" does not exist", old))?;
            if rel.columns.iter().any(|c| c.name == new_name) {
                return Err(err!(
                    DUPLICATE_COLUMN,
                    "column \"{}\" of relation \"{}\" already exists",
                    new_name,
                    rel.name
                ));
            }
            if rel.is_plain_table {
                let table = desc(cx, rel)?;
                storage_ddl(cx, rel, &DdlCommand::RenameColumn { table, column: i, new_name: new_name.to_string() })?;
            }
            new.columns[i].name = new_name.to_string();
        }
    }
    cx.catalog.relations.insert((new.schema.clone(), new.name.clone()), Arc::new(new));
    Ok(())
}

// --- TRUNCATE ------------------------------------------------------------------------------

fn truncate(cx: &mut DdlContext<'_>, names: &[&ast::ObjectName]) -> FdwResult<()> {
    // Group the tables by wrapper: one ExecForeignTruncate call each, as PostgreSQL does.
    let mut groups: Vec<(String, Vec<Arc<TableDesc>>)> = Vec::new();
    for n in names {
        let qn = qualified(n)?;
        let rel = cx
            .catalog
            .relation(qn.schema.as_deref(), &qn.name)
            .cloned()
            .ok_or_else(|| err!(UNDEFINED_TABLE, "relation \"{}\" does not exist", qn.name))?;
        if rel.kind == RelKind::View {
            return Err(err!(WRONG_OBJECT_TYPE, "\"{}\" is not a table", rel.name));
        }
        let wrapper = server_entry(cx.catalog, &rel.server)?.wrapper.clone();
        let routine = routine_for(cx.catalog, cx.registry, &rel)?;
        if routine.support_routine().is_none() {
            return Err(err!(FEATURE_NOT_SUPPORTED, "cannot truncate foreign table \"{}\"", rel.name));
        }
        let d = desc(cx, &rel)?;
        match groups.iter_mut().find(|(w, _)| *w == wrapper) {
            Some((_, v)) => v.push(d),
            None => groups.push((wrapper, vec![d])),
        }
    }
    for (wrapper, tables) in groups {
        let routine = super::wrapper_routine(cx.catalog, cx.registry, &wrapper)?;
        if let Some(support) = routine.support_routine() {
            support.truncate(&tables, cx.exec).map_err(|e| {
                if e.sqlstate == SqlState::FEATURE_NOT_SUPPORTED && e.message.contains("ExecForeignTruncate") {
                    err!(FEATURE_NOT_SUPPORTED, "cannot truncate foreign table \"{}\"", tables[0].name)
                } else {
                    e
                }
            })?;
        }
    }
    Ok(())
}

// --- IMPORT FOREIGN SCHEMA -----------------------------------------------------------------

pub(crate) fn import_foreign_schema(
    cx: &mut DdlContext<'_>,
    remote_schema: &str,
    filter: &ImportFilter,
    server: &str,
    local_schema: &str,
    options: &OptionList,
) -> FdwResult<()> {
    let srv = server_entry(cx.catalog, server)?.clone();
    if local_schema != PUBLIC_SCHEMA {
        return Err(FdwError::new(SqlState("3F000"), format!("schema \"{local_schema}\" does not exist")));
    }
    let routine = super::wrapper_routine(cx.catalog, cx.registry, &srv.wrapper)?;
    let unsupported = || {
        FdwError::new(
            SqlState("HV00P"),
            format!("foreign-data wrapper \"{}\" does not support IMPORT FOREIGN SCHEMA", srv.wrapper),
        )
    };
    let support = routine.support_routine().ok_or_else(unsupported)?;
    // The statement's OPTIONS reach the wrapper merged over the server's options (the API
    // has no separate parameter for them).
    let mut server_options = srv.options.clone();
    for (k, v) in new_options(options)?.iter() {
        server_options.set(k, v);
    }
    let mapping = cx.catalog.user_mapping(server, &cx.exec.user).map(|m| m.options.clone()).unwrap_or_default();
    let tables = support.import_schema(remote_schema, filter, &server_options, &mapping).map_err(|e| {
        if e.sqlstate == SqlState::FEATURE_NOT_SUPPORTED && e.message.contains("ImportForeignSchema") {
            unsupported()
        } else {
            e
        }
    })?;
    for t in tables {
        check_new_relation(cx, PUBLIC_SCHEMA, &t.name, false)?;
        for c in t.columns.iter().filter(|c| !c.options.is_empty()) {
            validate(cx, &srv.wrapper, fdw_api::OptionTarget::Column, &c.options)?;
        }
        validate(cx, &srv.wrapper, fdw_api::OptionTarget::Table, &t.options)?;
        let oid = cx.catalog.alloc_oid();
        let rel = RelationEntry {
            oid,
            schema: PUBLIC_SCHEMA.to_string(),
            name: t.name.clone(),
            kind: RelKind::ForeignTable,
            columns: t.columns,
            server: server.to_string(),
            options: t.options,
            indexes: Vec::new(),
            stats: None,
            query: None,
            is_plain_table: false,
        };
        cx.catalog.relations.insert((PUBLIC_SCHEMA.to_string(), t.name), Arc::new(rel));
    }
    Ok(())
}

// --- extensions and roles ------------------------------------------------------------------

fn create_extension(cx: &mut DdlContext<'_>, name: &str, if_not_exists: bool) -> FdwResult<()> {
    if cx.catalog.extensions.contains(name) {
        // The built-in wrappers' extensions exist from bootstrap; a script's plain
        // `CREATE EXTENSION file_fdw` is accepted silently rather than failing.
        if if_not_exists {
            cx.notice(format!("extension \"{name}\" already exists, skipping"));
        }
        return Ok(());
    }
    if cx.registry.get(name).is_none() {
        return Err(err!(FEATURE_NOT_SUPPORTED, "extension \"{}\" is not available", name)
            .with_hint("The extension must first be installed on the system where PostgreSQL is running."));
    }
    if cx.catalog.wrappers.contains_key(name) {
        return Err(err!(DUPLICATE_OBJECT, "foreign-data wrapper \"{}\" already exists", name));
    }
    cx.catalog.install_extension(name);
    Ok(())
}

fn drop_extension(cx: &mut DdlContext<'_>, name: &str, if_exists: bool, cascade: bool) -> FdwResult<()> {
    if !cx.catalog.extensions.contains(name) {
        if if_exists {
            cx.notice(format!("extension \"{name}\" does not exist, skipping"));
            return Ok(());
        }
        return Err(err!(UNDEFINED_OBJECT, "extension \"{}\" does not exist", name));
    }
    if cx.catalog.wrappers.contains_key(name) {
        ddl::drop_objects(cx, vec![ObjRef::Wrapper(name.to_string())], &format!("extension {name}"), cascade)?;
    }
    cx.catalog.extensions.remove(name);
    Ok(())
}

fn drop_roles(cx: &mut DdlContext<'_>, names: &[ast::ObjectName], if_exists: bool) -> FdwResult<()> {
    for n in names {
        let (_, role) = object_name(n)?;
        if !cx.catalog.role_exists(&role) {
            if if_exists {
                cx.notice(format!("role \"{role}\" does not exist, skipping"));
                continue;
            }
            return Err(err!(UNDEFINED_OBJECT, "role \"{}\" does not exist", role));
        }
        if role == cx.exec.user {
            return Err(FdwError::new(SqlState::OBJECT_IN_USE, "current user cannot be dropped"));
        }
        if role == super::SUPERUSER {
            return Err(err!(
                DEPENDENT_OBJECTS_STILL_EXIST,
                "cannot drop role {} because it is required by the database system",
                role
            ));
        }
        let maps: Vec<String> = cx
            .catalog
            .user_mappings
            .iter()
            .filter(|m| m.user == role)
            .map(|m| format!("user mapping for {} on server {}", m.user, m.server))
            .collect();
        if !maps.is_empty() {
            return Err(err!(
                DEPENDENT_OBJECTS_STILL_EXIST,
                "role \"{}\" cannot be dropped because some objects depend on it",
                role
            )
            .with_detail(maps.join("\n")));
        }
        cx.catalog.roles.remove(&role);
    }
    Ok(())
}
