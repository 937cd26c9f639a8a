//! The catalog: SQL/MED objects (foreign data wrappers, servers, user mappings, foreign
//! tables), relations with their columns, indexes and statistics.
//!
//! The whole catalog is a value (`Catalog`) behind an `RwLock` in the database; a statement
//! takes a snapshot (`Arc<Catalog>`) and DDL installs a new version, so readers never block on
//! DDL and a query sees one consistent catalog.

pub mod analyze;
pub mod ddl;
mod ddl_rel;
mod depend;
pub mod persist;
pub mod registry;
pub mod sysviews;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use fdw_api::{err, ColumnDef, FdwError, FdwResult, FdwRoutine, IndexDef, Options, SqlState, TableDesc, TableStats};

use registry::WrapperRegistry;

pub type Oid = u32;

/// The name of the only schema of user objects, and of the system catalogs.
pub const PUBLIC_SCHEMA: &str = "public";

/// `pg_foreign_data_wrapper`.
#[derive(Clone, Debug, PartialEq)]
pub struct WrapperEntry {
    pub oid: Oid,
    pub name: String,
    /// The registered handler name (`file_fdw`); `None` for a wrapper without handler
    /// (usable only for servers that are never scanned, as in PostgreSQL).
    pub handler: Option<String>,
    /// Whether options are checked by the handler's validator.
    pub validator: Option<String>,
    pub options: Options,
}

/// `pg_foreign_server`.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerEntry {
    pub oid: Oid,
    pub name: String,
    pub wrapper: String,
    pub server_type: Option<String>,
    pub version: Option<String>,
    pub options: Options,
}

/// `pg_user_mapping`; `user` is `public` for `FOR PUBLIC`.
#[derive(Clone, Debug, PartialEq)]
pub struct UserMappingEntry {
    pub oid: Oid,
    pub user: String,
    pub server: String,
    pub options: Options,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RelKind {
    /// `CREATE FOREIGN TABLE`, or a `CREATE TABLE` stored by the default storage wrapper.
    ForeignTable,
    /// `CREATE VIEW`: `query` holds its SQL.
    View,
}

/// `pg_class` + `pg_attribute` + `pg_foreign_table` + `pg_index` + `pg_statistic` for one
/// relation.
#[derive(Clone, Debug, PartialEq)]
pub struct RelationEntry {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    pub kind: RelKind,
    pub columns: Vec<ColumnDef>,
    /// The server of a foreign table.
    pub server: String,
    pub options: Options,
    pub indexes: Vec<IndexDef>,
    pub stats: Option<Arc<TableStats>>,
    /// A view's defining query.
    pub query: Option<String>,
    /// True for tables created with plain `CREATE TABLE` (shown as `BASE TABLE` in
    /// information_schema.tables); false for `CREATE FOREIGN TABLE`.
    pub is_plain_table: bool,
}

/// One version of the catalog.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub wrappers: BTreeMap<String, WrapperEntry>,
    pub servers: BTreeMap<String, ServerEntry>,
    pub user_mappings: Vec<UserMappingEntry>,
    /// Keyed by (schema, name).
    pub relations: BTreeMap<(String, String), Arc<RelationEntry>>,
    pub next_oid: Oid,
    /// Installed extensions; an extension named like a registered handler owns the wrapper
    /// of the same name (as `CREATE EXTENSION file_fdw` creates wrapper `file_fdw`).
    pub extensions: BTreeSet<String>,
    /// Roles (for user mappings); `postgres` always exists.
    pub roles: BTreeSet<String>,
}

/// The superuser every session runs as, and the owner of every object.
pub const SUPERUSER: &str = "postgres";
/// The storage wrapper plain `CREATE TABLE` uses when registered, and its server.
pub const MOT_HANDLER: &str = "mot_fdw";
pub const MOT_SERVER: &str = "mot_server";

impl Catalog {
    /// Looks a relation up by (unqualified or qualified) name.
    pub fn relation(&self, schema: Option<&str>, name: &str) -> Option<&Arc<RelationEntry>> {
        self.relations.get(&(schema.unwrap_or(PUBLIC_SCHEMA).to_string(), name.to_string()))
    }
    pub fn server(&self, name: &str) -> Option<&ServerEntry> {
        self.servers.get(name)
    }
    pub fn wrapper(&self, name: &str) -> Option<&WrapperEntry> {
        self.wrappers.get(name)
    }
    /// The user mapping in force for `user` on `server`: the user's own, else PUBLIC's.
    pub fn user_mapping(&self, server: &str, user: &str) -> Option<&UserMappingEntry> {
        self.user_mappings
            .iter()
            .find(|m| m.server == server && m.user == user)
            .or_else(|| self.user_mappings.iter().find(|m| m.server == server && m.user == "public"))
    }
    /// A fresh database: one wrapper per registered handler, named like it, as if
    /// `CREATE EXTENSION` had run for each; with `mot_fdw`, also its server `mot_server`.
    pub fn bootstrap(registry: &WrapperRegistry) -> Catalog {
        let mut cat = Catalog::default();
        cat.roles.insert(SUPERUSER.to_string());
        for name in registry.names() {
            cat.install_extension(&name);
        }
        if cat.wrappers.contains_key(MOT_HANDLER) {
            let oid = cat.alloc_oid();
            cat.servers.insert(
                MOT_SERVER.to_string(),
                ServerEntry {
                    oid,
                    name: MOT_SERVER.to_string(),
                    wrapper: MOT_HANDLER.to_string(),
                    server_type: None,
                    version: None,
                    options: Options::new(),
                },
            );
        }
        cat
    }

    /// Creates the wrapper of an extension named like a registered handler.
    pub(crate) fn install_extension(&mut self, name: &str) {
        let oid = self.alloc_oid();
        self.extensions.insert(name.to_string());
        self.wrappers.insert(
            name.to_string(),
            WrapperEntry {
                oid,
                name: name.to_string(),
                handler: Some(name.to_string()),
                validator: Some(name.to_string()),
                options: Options::new(),
            },
        );
    }

    /// The server plain `CREATE TABLE` stores tables on: `mot_server` if it exists.
    pub fn default_table_server(&self) -> Option<&str> {
        self.servers.get(MOT_SERVER).map(|s| s.name.as_str())
    }

    /// Whether a role exists (`public` is not a role but is accepted where PostgreSQL does).
    pub fn role_exists(&self, name: &str) -> bool {
        name == SUPERUSER || self.roles.contains(name)
    }

    /// The relation with this OID.
    pub fn relation_by_oid(&self, oid: Oid) -> Option<&Arc<RelationEntry>> {
        self.relations.values().find(|r| r.oid == oid)
    }

    pub fn alloc_oid(&mut self) -> Oid {
        if self.next_oid < 16384 {
            self.next_oid = 16384;
        }
        let oid = self.next_oid;
        self.next_oid += 1;
        oid
    }
}

/// What a wrapper is told about one of its tables: columns, indexes, statistics and the
/// options of the table, its server, its wrapper and `user`'s mapping (their own, else
/// PUBLIC's).
pub fn table_desc(catalog: &Catalog, rel: &RelationEntry, user: &str) -> FdwResult<Arc<TableDesc>> {
    let server = catalog
        .server(&rel.server)
        .ok_or_else(|| err!(UNDEFINED_OBJECT, "server \"{}\" does not exist", rel.server))?;
    let wrapper = catalog
        .wrapper(&server.wrapper)
        .ok_or_else(|| err!(UNDEFINED_OBJECT, "foreign-data wrapper \"{}\" does not exist", server.wrapper))?;
    let mapping = catalog.user_mapping(&server.name, user).map(|m| m.options.clone()).unwrap_or_default();
    Ok(Arc::new(TableDesc {
        id: rel.oid as u64,
        schema: rel.schema.clone(),
        name: rel.name.clone(),
        columns: rel.columns.clone(),
        table_options: rel.options.clone(),
        server_name: server.name.clone(),
        server_options: server.options.clone(),
        wrapper_options: wrapper.options.clone(),
        user_mapping_options: mapping,
        indexes: rel.indexes.clone(),
        stats: rel.stats.clone(),
    }))
}

/// The handler serving a foreign table (`foreign-data wrapper "w" has no handler`, 55000).
pub fn routine_for(
    catalog: &Catalog,
    registry: &WrapperRegistry,
    rel: &RelationEntry,
) -> FdwResult<Arc<dyn FdwRoutine>> {
    let server = catalog
        .server(&rel.server)
        .ok_or_else(|| err!(UNDEFINED_OBJECT, "server \"{}\" does not exist", rel.server))?;
    wrapper_routine(catalog, registry, &server.wrapper)
}

/// The handler of a wrapper, by wrapper name.
pub fn wrapper_routine(catalog: &Catalog, registry: &WrapperRegistry, wrapper: &str) -> FdwResult<Arc<dyn FdwRoutine>> {
    let w = catalog
        .wrapper(wrapper)
        .ok_or_else(|| err!(UNDEFINED_OBJECT, "foreign-data wrapper \"{}\" does not exist", wrapper))?;
    let handler = w.handler.as_deref().ok_or_else(|| {
        FdwError::new(SqlState("55000"), format!("foreign-data wrapper \"{}\" has no handler", w.name))
    })?;
    registry.get(handler).ok_or_else(|| {
        FdwError::new(
            SqlState("55000"),
            format!(
                "handler \"{}\" of foreign-data wrapper \"{}\" is not registered in this database",
                handler, w.name
            ),
        )
    })
}
