//! DDL execution: every statement that changes the catalog, with PostgreSQL 15's semantics
//! (error wording and SQLSTATE, IF [NOT] EXISTS notices, RESTRICT/CASCADE).
//!
//! This file holds the entry point and the SQL/MED objects (wrappers, servers, user
//! mappings, foreign tables); `ddl_rel` holds plain tables, views, indexes, TRUNCATE,
//! IMPORT FOREIGN SCHEMA, extensions and roles.
//!
//! A statement either fails before changing anything or succeeds completely: each one checks
//! first and mutates last, and calls into a wrapper (validators, `validate_table_def`)
//! before the catalog changes. The caller still runs DDL on a copy of the catalog and
//! installs it only on success.
//!
//! Notices are pushed as psql prints them, severity included:
//! `NOTICE:  server "s" does not exist, skipping`, a DETAIL on following lines
//! (`\nDETAIL:  ...`), and `WARNING:  ...` for warnings.

use std::sync::Arc;

use fdw_api::{err, ExecContext, FdwResult, OptionTarget, Options};

use super::depend::{self, ObjRef};
use super::registry::WrapperRegistry;
use super::{ddl_rel, Catalog, RelKind, RelationEntry, ServerEntry, UserMappingEntry, WrapperEntry, PUBLIC_SCHEMA};
use crate::sql::med::{
    ForeignColumn, ForeignTableAction, MedObject, MedStatement, OptionAction, OptionChange, OptionList, QualifiedName,
    UserSpec,
};
use crate::sql::Statement;

/// What a DDL statement works with.
pub struct DdlContext<'a> {
    pub catalog: &'a mut Catalog,
    pub registry: &'a WrapperRegistry,
    pub exec: &'a ExecContext,
    /// NOTICE/WARNING messages, formatted as psql prints them (see the module docs).
    pub notices: &'a mut Vec<String>,
}

impl DdlContext<'_> {
    pub(crate) fn notice(&mut self, msg: impl AsRef<str>) {
        self.notices.push(format!("NOTICE:  {}", msg.as_ref()));
    }
    pub(crate) fn warning(&mut self, msg: impl AsRef<str>) {
        self.notices.push(format!("WARNING:  {}", msg.as_ref()));
    }
}

/// Runs a DDL statement; `Some(command tag)` if it was one, `None` for statements the
/// session handles (queries, DML, SET/SHOW/RESET, transactions, EXPLAIN, CHECKPOINT, ...).
pub fn execute_ddl(cx: &mut DdlContext<'_>, stmt: &Statement) -> FdwResult<Option<String>> {
    match stmt {
        Statement::Med(MedStatement::Checkpoint | MedStatement::Reset(_)) => Ok(None),
        Statement::Med(m) => {
            med_ddl(cx, m)?;
            Ok(Some(m.tag().to_string()))
        }
        Statement::Sql(s) => ddl_rel::sql_ddl(cx, s),
    }
}

fn med_ddl(cx: &mut DdlContext<'_>, m: &MedStatement) -> FdwResult<()> {
    use MedStatement as M;
    match m {
        M::CreateWrapper { name, handler, validator, options } => create_wrapper(cx, name, handler, validator, options),
        M::AlterWrapper { name, handler, validator, options } => alter_wrapper(cx, name, handler, validator, options),
        M::CreateServer { name, if_not_exists, server_type, version, wrapper, options } => {
            create_server(cx, name, *if_not_exists, server_type, version, wrapper, options)
        }
        M::AlterServer { name, version, options } => alter_server(cx, name, version, options),
        M::CreateUserMapping { if_not_exists, user, server, options } => {
            create_user_mapping(cx, *if_not_exists, user, server, options)
        }
        M::AlterUserMapping { user, server, options } => alter_user_mapping(cx, user, server, options),
        M::DropUserMapping { if_exists, user, server } => drop_user_mapping(cx, *if_exists, user, server),
        M::CreateForeignTable { name, if_not_exists, columns, server, options } => {
            create_foreign_table(cx, name, *if_not_exists, columns, server, options)
        }
        M::AlterForeignTable { name, if_exists, actions } => alter_foreign_table(cx, name, *if_exists, actions),
        M::Drop { object, if_exists, names, cascade } => drop_med(cx, *object, *if_exists, names, *cascade),
        M::Rename { object, if_exists, name, column, new_name } => {
            rename(cx, *object, *if_exists, name, column.as_deref(), new_name)
        }
        M::Owner { object, name, .. } => {
            // One owner (the superuser): only check that the object exists.
            match object {
                MedObject::Wrapper => wrapper_entry(cx.catalog, name).map(|_| ()),
                MedObject::Server => server_entry(cx.catalog, name).map(|_| ()),
                MedObject::ForeignTable => Ok(()),
            }
        }
        M::ImportForeignSchema { remote_schema, filter, server, local_schema, options } => {
            ddl_rel::import_foreign_schema(cx, remote_schema, filter, server, local_schema, options)
        }
        M::Analyze { verbose: _, tables } => super::analyze::analyze(cx, tables),
        M::Privileges { .. } | M::Checkpoint | M::Reset(_) => Ok(()),
    }
}

// --- options -----------------------------------------------------------------------------

/// An option list as written at CREATE (duplicates rejected, names checked).
pub(crate) fn new_options(list: &OptionList) -> FdwResult<Options> {
    let mut out = Options::new();
    for (k, v) in list {
        if out.contains(k) {
            return Err(err!(DUPLICATE_OBJECT, "option \"{}\" provided more than once", k));
        }
        out.0.push((k.clone(), v.clone()));
    }
    check_names(&out)?;
    Ok(out)
}

/// The option list after `ALTER ... OPTIONS (ADD/SET/DROP ...)`.
pub(crate) fn altered_options(current: &Options, changes: &[OptionChange]) -> FdwResult<Options> {
    let mut out = current.clone();
    for c in changes {
        let present = out.contains(&c.name);
        match c.action {
            OptionAction::Add if present => {
                return Err(err!(DUPLICATE_OBJECT, "option \"{}\" provided more than once", c.name))
            }
            OptionAction::Set | OptionAction::Drop if !present => {
                return Err(err!(UNDEFINED_OBJECT, "option \"{}\" not found", c.name))
            }
            OptionAction::Drop => {
                out.remove(&c.name);
            }
            _ => out.set(&c.name, c.value.as_deref().unwrap_or("")),
        }
    }
    check_names(&out)?;
    Ok(out)
}

fn check_names(opts: &Options) -> FdwResult<()> {
    match opts.0.iter().find(|(k, _)| k.contains('=')) {
        Some((k, _)) => Err(err!(INVALID_PARAMETER_VALUE, "invalid option name \"{}\": must not contain \"=\"", k)),
        None => Ok(()),
    }
}

/// Runs the validator of `wrapper` (if it has one) on an option list.
pub(crate) fn validate(cx: &DdlContext<'_>, wrapper: &str, target: OptionTarget, opts: &Options) -> FdwResult<()> {
    let w = wrapper_entry(cx.catalog, wrapper)?;
    validate_with(cx.registry, w.validator.as_deref(), target, opts)
}

fn validate_with(
    registry: &WrapperRegistry,
    validator: Option<&str>,
    target: OptionTarget,
    opts: &Options,
) -> FdwResult<()> {
    let Some(v) = validator else { return Ok(()) };
    let routine = registry
        .get(v)
        .ok_or_else(|| err!(UNDEFINED_FUNCTION, "function {}_validator(text[], oid) does not exist", v))?;
    routine.validate_options(target, opts)
}

// --- lookups -------------------------------------------------------------------------------

pub(crate) fn wrapper_entry<'c>(cat: &'c Catalog, name: &str) -> FdwResult<&'c WrapperEntry> {
    cat.wrapper(name).ok_or_else(|| err!(UNDEFINED_OBJECT, "foreign-data wrapper \"{}\" does not exist", name))
}

pub(crate) fn server_entry<'c>(cat: &'c Catalog, name: &str) -> FdwResult<&'c ServerEntry> {
    cat.server(name).ok_or_else(|| err!(UNDEFINED_OBJECT, "server \"{}\" does not exist", name))
}

/// The schema a new relation goes into: only `public` exists.
pub(crate) fn target_schema(name: &QualifiedName) -> FdwResult<String> {
    match name.schema.as_deref() {
        None | Some(PUBLIC_SCHEMA) => Ok(PUBLIC_SCHEMA.to_string()),
        Some(s) => Err(fdw_api::FdwError::new(fdw_api::SqlState("3F000"), format!("schema \"{s}\" does not exist"))),
    }
}

fn user_name(cx: &DdlContext<'_>, user: &UserSpec) -> String {
    match user {
        UserSpec::Name(n) => n.clone(),
        UserSpec::Current => cx.exec.user.clone(),
        UserSpec::Public => "public".to_string(),
    }
}

// --- wrappers ------------------------------------------------------------------------------

fn create_wrapper(
    cx: &mut DdlContext<'_>,
    name: &str,
    handler: &Option<String>,
    validator: &Option<String>,
    options: &OptionList,
) -> FdwResult<()> {
    if cx.catalog.wrappers.contains_key(name) {
        return Err(err!(DUPLICATE_OBJECT, "foreign-data wrapper \"{}\" already exists", name));
    }
    let handler = handler.as_deref().map(|h| resolve_handler(cx.registry, h)).transpose()?;
    let validator = validator.as_deref().map(|v| resolve_validator(cx.registry, v)).transpose()?;
    let opts = new_options(options)?;
    validate_with(cx.registry, validator.as_deref(), OptionTarget::Wrapper, &opts)?;
    let oid = cx.catalog.alloc_oid();
    cx.catalog
        .wrappers
        .insert(name.to_string(), WrapperEntry { oid, name: name.to_string(), handler, validator, options: opts });
    Ok(())
}

fn resolve_handler(registry: &WrapperRegistry, f: &str) -> FdwResult<String> {
    registry.resolve_function(f, "_handler").ok_or_else(|| err!(UNDEFINED_FUNCTION, "function {}() does not exist", f))
}

fn resolve_validator(registry: &WrapperRegistry, f: &str) -> FdwResult<String> {
    registry
        .resolve_function(f, "_validator")
        .ok_or_else(|| err!(UNDEFINED_FUNCTION, "function {}(text[], oid) does not exist", f))
}

fn alter_wrapper(
    cx: &mut DdlContext<'_>,
    name: &str,
    handler: &Option<Option<String>>,
    validator: &Option<Option<String>>,
    changes: &[OptionChange],
) -> FdwResult<()> {
    let mut w = wrapper_entry(cx.catalog, name)?.clone();
    if let Some(h) = handler {
        w.handler = h.as_deref().map(|h| resolve_handler(cx.registry, h)).transpose()?;
    }
    if let Some(v) = validator {
        w.validator = v.as_deref().map(|v| resolve_validator(cx.registry, v)).transpose()?;
    }
    // PostgreSQL validates the (possibly unchanged) options with the new validator only when
    // OPTIONS is given.
    if !changes.is_empty() {
        w.options = altered_options(&w.options, changes)?;
        validate_with(cx.registry, w.validator.as_deref(), OptionTarget::Wrapper, &w.options)?;
    }
    if handler.is_some() {
        cx.warning("changing the foreign-data wrapper handler can change behavior of existing foreign tables");
    }
    if validator.is_some() {
        cx.warning(
            "changing the foreign-data wrapper validator can cause the options for dependent objects to become invalid",
        );
    }
    cx.catalog.wrappers.insert(name.to_string(), w);
    Ok(())
}

// --- servers -------------------------------------------------------------------------------

fn create_server(
    cx: &mut DdlContext<'_>,
    name: &str,
    if_not_exists: bool,
    server_type: &Option<String>,
    version: &Option<String>,
    wrapper: &str,
    options: &OptionList,
) -> FdwResult<()> {
    if cx.catalog.servers.contains_key(name) {
        if if_not_exists {
            cx.notice(format!("server \"{name}\" already exists, skipping"));
            return Ok(());
        }
        return Err(err!(DUPLICATE_OBJECT, "server \"{}\" already exists", name));
    }
    wrapper_entry(cx.catalog, wrapper)?;
    let opts = new_options(options)?;
    validate(cx, wrapper, OptionTarget::Server, &opts)?;
    let oid = cx.catalog.alloc_oid();
    cx.catalog.servers.insert(
        name.to_string(),
        ServerEntry {
            oid,
            name: name.to_string(),
            wrapper: wrapper.to_string(),
            server_type: server_type.clone(),
            version: version.clone(),
            options: opts,
        },
    );
    Ok(())
}

fn alter_server(
    cx: &mut DdlContext<'_>,
    name: &str,
    version: &Option<Option<String>>,
    changes: &[OptionChange],
) -> FdwResult<()> {
    let mut s = server_entry(cx.catalog, name)?.clone();
    if let Some(v) = version {
        s.version = v.clone();
    }
    if !changes.is_empty() {
        s.options = altered_options(&s.options, changes)?;
        validate(cx, &s.wrapper, OptionTarget::Server, &s.options)?;
    }
    cx.catalog.servers.insert(name.to_string(), s);
    Ok(())
}

// --- user mappings -------------------------------------------------------------------------

fn create_user_mapping(
    cx: &mut DdlContext<'_>,
    if_not_exists: bool,
    user: &UserSpec,
    server: &str,
    options: &OptionList,
) -> FdwResult<()> {
    let user = user_name(cx, user);
    if user != "public" && !cx.catalog.role_exists(&user) {
        return Err(err!(UNDEFINED_OBJECT, "role \"{}\" does not exist", user));
    }
    let wrapper = server_entry(cx.catalog, server)?.wrapper.clone();
    if cx.catalog.user_mappings.iter().any(|m| m.user == user && m.server == server) {
        let msg = format!("user mapping for \"{user}\" already exists for server \"{server}\"");
        if if_not_exists {
            cx.notice(format!("{msg}, skipping"));
            return Ok(());
        }
        return Err(err!(DUPLICATE_OBJECT, "{}", msg));
    }
    let opts = new_options(options)?;
    validate(cx, &wrapper, OptionTarget::UserMapping, &opts)?;
    let oid = cx.catalog.alloc_oid();
    cx.catalog.user_mappings.push(UserMappingEntry { oid, user, server: server.to_string(), options: opts });
    Ok(())
}

fn alter_user_mapping(
    cx: &mut DdlContext<'_>,
    user: &UserSpec,
    server: &str,
    changes: &[OptionChange],
) -> FdwResult<()> {
    let user = user_name(cx, user);
    if user != "public" && !cx.catalog.role_exists(&user) {
        return Err(err!(UNDEFINED_OBJECT, "role \"{}\" does not exist", user));
    }
    let wrapper = server_entry(cx.catalog, server)?.wrapper.clone();
    let idx = cx.catalog.user_mappings.iter().position(|m| m.user == user && m.server == server).ok_or_else(|| {
        err!(UNDEFINED_OBJECT, "user mapping for \"{}\" does not exist for server \"{}\"", user, server)
    })?;
    let opts = altered_options(&cx.catalog.user_mappings[idx].options, changes)?;
    validate(cx, &wrapper, OptionTarget::UserMapping, &opts)?;
    cx.catalog.user_mappings[idx].options = opts;
    Ok(())
}

fn drop_user_mapping(cx: &mut DdlContext<'_>, if_exists: bool, user: &UserSpec, server: &str) -> FdwResult<()> {
    let user = user_name(cx, user);
    if user != "public" && !cx.catalog.role_exists(&user) {
        if if_exists {
            cx.notice(format!("role \"{user}\" does not exist, skipping"));
            return Ok(());
        }
        return Err(err!(UNDEFINED_OBJECT, "role \"{}\" does not exist", user));
    }
    if cx.catalog.server(server).is_none() {
        if if_exists {
            cx.notice(format!("server \"{server}\" does not exist, skipping"));
            return Ok(());
        }
        return Err(err!(UNDEFINED_OBJECT, "server \"{}\" does not exist", server));
    }
    if !cx.catalog.user_mappings.iter().any(|m| m.user == user && m.server == server) {
        let msg = format!("user mapping for \"{user}\" does not exist for server \"{server}\"");
        if if_exists {
            cx.notice(format!("{msg}, skipping"));
            return Ok(());
        }
        return Err(err!(UNDEFINED_OBJECT, "{}", msg));
    }
    cx.catalog.user_mappings.retain(|m| !(m.user == user && m.server == server));
    Ok(())
}

// --- foreign tables ------------------------------------------------------------------------

/// Column definitions from the parser, with duplicate names rejected.
pub(crate) fn column_defs(columns: &[ForeignColumn]) -> FdwResult<Vec<fdw_api::ColumnDef>> {
    let mut out: Vec<fdw_api::ColumnDef> = Vec::with_capacity(columns.len());
    for c in columns {
        if out.iter().any(|o| o.name == c.name) {
            return Err(err!(DUPLICATE_COLUMN, "column \"{}\" specified more than once", c.name));
        }
        out.push(fdw_api::ColumnDef {
            name: c.name.clone(),
            ty: c.ty.clone(),
            not_null: c.not_null,
            default: c.default.clone(),
            options: new_options(&c.options)?,
        });
    }
    Ok(out)
}

/// Fails with `relation "x" already exists` (or returns false after a NOTICE with IF NOT
/// EXISTS) when the name is taken by a relation or an index.
pub(crate) fn check_new_relation(
    cx: &mut DdlContext<'_>,
    schema: &str,
    name: &str,
    if_not_exists: bool,
) -> FdwResult<bool> {
    let taken = cx.catalog.relation(Some(schema), name).is_some()
        || cx.catalog.relations.values().any(|r| r.schema == schema && r.indexes.iter().any(|i| i.name == name));
    if !taken {
        return Ok(true);
    }
    if if_not_exists {
        cx.notice(format!("relation \"{name}\" already exists, skipping"));
        return Ok(false);
    }
    Err(err!(DUPLICATE_TABLE, "relation \"{}\" already exists", name))
}

fn create_foreign_table(
    cx: &mut DdlContext<'_>,
    name: &QualifiedName,
    if_not_exists: bool,
    columns: &[ForeignColumn],
    server: &str,
    options: &OptionList,
) -> FdwResult<()> {
    let schema = target_schema(name)?;
    if !check_new_relation(cx, &schema, &name.name, if_not_exists)? {
        return Ok(());
    }
    let wrapper = server_entry(cx.catalog, server)?.wrapper.clone();
    let cols = column_defs(columns)?;
    for c in cols.iter().filter(|c| !c.options.is_empty()) {
        validate(cx, &wrapper, OptionTarget::Column, &c.options)?;
    }
    let opts = new_options(options)?;
    validate(cx, &wrapper, OptionTarget::Table, &opts)?;
    let oid = cx.catalog.alloc_oid();
    let rel = RelationEntry {
        oid,
        schema: schema.clone(),
        name: name.name.clone(),
        kind: RelKind::ForeignTable,
        columns: cols,
        server: server.to_string(),
        options: opts,
        indexes: Vec::new(),
        stats: None,
        query: None,
        is_plain_table: false,
    };
    cx.catalog.relations.insert((schema, name.name.clone()), Arc::new(rel));
    Ok(())
}

/// The relation an ALTER names; `None` after a NOTICE with IF EXISTS.
pub(crate) fn relation_for_alter(
    cx: &mut DdlContext<'_>,
    name: &QualifiedName,
    if_exists: bool,
) -> FdwResult<Option<Arc<RelationEntry>>> {
    match cx.catalog.relation(name.schema.as_deref(), &name.name) {
        Some(r) => Ok(Some(r.clone())),
        None if if_exists => {
            cx.notice(format!("relation \"{}\" does not exist, skipping", name.name));
            Ok(None)
        }
        None => Err(err!(UNDEFINED_TABLE, "relation \"{}\" does not exist", name.name)),
    }
}

pub(crate) fn column_index(rel: &RelationEntry, column: &str) -> FdwResult<usize> {
    rel.columns
        .iter()
        .position(|c| c.name == column)
        .ok_or_else(|| err!(UNDEFINED_COLUMN, "column \"{}\" of relation \"{}\" does not exist", column, rel.name))
}

fn alter_foreign_table(
    cx: &mut DdlContext<'_>,
    name: &QualifiedName,
    if_exists: bool,
    actions: &[ForeignTableAction],
) -> FdwResult<()> {
    let Some(rel) = relation_for_alter(cx, name, if_exists)? else { return Ok(()) };
    if rel.kind != RelKind::ForeignTable || rel.is_plain_table {
        return Err(err!(WRONG_OBJECT_TYPE, "\"{}\" is not a foreign table", rel.name));
    }
    let wrapper = server_entry(cx.catalog, &rel.server)?.wrapper.clone();
    let mut new = (*rel).clone();
    let mut table_options_changed = false;
    for action in actions {
        use ForeignTableAction as A;
        match action {
            A::Options(changes) => {
                new.options = altered_options(&new.options, changes)?;
                table_options_changed = true;
            }
            A::ColumnOptions { column, changes } => {
                let i = column_index(&new, column)?;
                let opts = altered_options(&new.columns[i].options, changes)?;
                validate(cx, &wrapper, OptionTarget::Column, &opts)?;
                new.columns[i].options = opts;
            }
            A::AddColumn { column, if_not_exists } => {
                if new.columns.iter().any(|c| c.name == column.name) {
                    let msg = format!("column \"{}\" of relation \"{}\" already exists", column.name, new.name);
                    if *if_not_exists {
                        cx.notice(format!("{msg}, skipping"));
                        continue;
                    }
                    return Err(err!(DUPLICATE_COLUMN, "{}", msg));
                }
                let def = column_defs(std::slice::from_ref(column))?.remove(0);
                if !def.options.is_empty() {
                    validate(cx, &wrapper, OptionTarget::Column, &def.options)?;
                }
                new.columns.push(def);
            }
            A::DropColumn { column, if_exists, .. } => match new.columns.iter().position(|c| &c.name == column) {
                Some(i) => {
                    new.columns.remove(i);
                }
                None if *if_exists => {
                    cx.notice(format!("column \"{}\" of relation \"{}\" does not exist, skipping", column, new.name))
                }
                None => return Err(column_index(&new, column).unwrap_err()),
            },
            A::SetNotNull { column, not_null } => {
                let i = column_index(&new, column)?;
                new.columns[i].not_null = *not_null;
            }
            A::SetDefault { column, default } => {
                let i = column_index(&new, column)?;
                new.columns[i].default = default.clone();
            }
            A::AddCheck | A::Owner(_) => {}
            A::Unsupported(what) => return Err(fdw_api::FdwError::feature(format!("{what} is not supported"))),
        }
    }
    if table_options_changed {
        validate(cx, &wrapper, OptionTarget::Table, &new.options)?;
    }
    // Statistics describe the old columns; drop them when the shape changes.
    if new.columns.len() != rel.columns.len() {
        new.stats = None;
    }
    cx.catalog.relations.insert((new.schema.clone(), new.name.clone()), Arc::new(new));
    Ok(())
}

fn rename(
    cx: &mut DdlContext<'_>,
    object: MedObject,
    if_exists: bool,
    name: &QualifiedName,
    column: Option<&str>,
    new_name: &str,
) -> FdwResult<()> {
    match object {
        MedObject::Wrapper => {
            let mut w = wrapper_entry(cx.catalog, &name.name)?.clone();
            if cx.catalog.wrappers.contains_key(new_name) {
                return Err(err!(DUPLICATE_OBJECT, "foreign-data wrapper \"{}\" already exists", new_name));
            }
            cx.catalog.wrappers.remove(&name.name);
            for s in cx.catalog.servers.values_mut().filter(|s| s.wrapper == name.name) {
                s.wrapper = new_name.to_string();
            }
            w.name = new_name.to_string();
            cx.catalog.wrappers.insert(new_name.to_string(), w);
        }
        MedObject::Server => {
            let mut s = server_entry(cx.catalog, &name.name)?.clone();
            if cx.catalog.servers.contains_key(new_name) {
                return Err(err!(DUPLICATE_OBJECT, "server \"{}\" already exists", new_name));
            }
            cx.catalog.servers.remove(&name.name);
            for m in cx.catalog.user_mappings.iter_mut().filter(|m| m.server == name.name) {
                m.server = new_name.to_string();
            }
            for r in cx.catalog.relations.values_mut().filter(|r| r.server == name.name) {
                Arc::make_mut(r).server = new_name.to_string();
            }
            s.name = new_name.to_string();
            cx.catalog.servers.insert(new_name.to_string(), s);
        }
        MedObject::ForeignTable => {
            let Some(rel) = relation_for_alter(cx, name, if_exists)? else { return Ok(()) };
            ddl_rel::rename_relation(cx, &rel, column, new_name)?;
        }
    }
    Ok(())
}

// --- DROP ----------------------------------------------------------------------------------

fn drop_med(
    cx: &mut DdlContext<'_>,
    object: MedObject,
    if_exists: bool,
    names: &[QualifiedName],
    cascade: bool,
) -> FdwResult<()> {
    let mut roots = Vec::new();
    for n in names {
        let found = match object {
            MedObject::Wrapper => {
                if cx.catalog.extensions.contains(&n.name) && cx.catalog.wrappers.contains_key(&n.name) {
                    return Err(depend::extension_member_error(&n.name));
                }
                cx.catalog.wrappers.contains_key(&n.name).then(|| ObjRef::Wrapper(n.name.clone()))
            }
            MedObject::Server => cx.catalog.servers.contains_key(&n.name).then(|| ObjRef::Server(n.name.clone())),
            MedObject::ForeignTable => match cx.catalog.relation(n.schema.as_deref(), &n.name) {
                Some(r) if r.kind == RelKind::ForeignTable && !r.is_plain_table => {
                    Some(ObjRef::relation(&r.schema, &r.name))
                }
                Some(r) => return Err(ddl_rel::wrong_drop_kind(r, "foreign table")),
                None => None,
            },
        };
        match found {
            Some(o) => roots.push(o),
            None => {
                let what = match object {
                    MedObject::Wrapper => format!("foreign-data wrapper \"{}\" does not exist", n.name),
                    MedObject::Server => format!("server \"{}\" does not exist", n.name),
                    MedObject::ForeignTable => format!("foreign table \"{}\" does not exist", n.name),
                };
                if if_exists {
                    cx.notice(format!("{what}, skipping"));
                } else {
                    let state = if object == MedObject::ForeignTable {
                        fdw_api::SqlState::UNDEFINED_TABLE
                    } else {
                        fdw_api::SqlState::UNDEFINED_OBJECT
                    };
                    return Err(fdw_api::FdwError::new(state, what));
                }
            }
        }
    }
    if roots.is_empty() {
        return Ok(());
    }
    let what = roots[0].describe(cx.catalog);
    drop_objects(cx, roots, &what, cascade)
}

/// Drops `roots` and (with CASCADE) everything depending on them; tells storage wrappers
/// about plain tables that go away before the catalog forgets them.
pub(crate) fn drop_objects(cx: &mut DdlContext<'_>, roots: Vec<ObjRef>, what: &str, cascade: bool) -> FdwResult<()> {
    let mut notices = Vec::new();
    let deps = depend::check_drop(cx.catalog, &roots, what, cascade, &mut notices)?;
    let all: Vec<ObjRef> = roots.into_iter().chain(deps).collect();
    for o in &all {
        if let ObjRef::Relation { schema, name } = o {
            if let Some(rel) = cx.catalog.relation(Some(schema), name).cloned() {
                if rel.is_plain_table {
                    ddl_rel::storage_drop_table(cx, &rel)?;
                }
            }
        }
    }
    for o in &all {
        depend::remove(cx.catalog, o);
    }
    cx.notices.extend(notices);
    Ok(())
}
