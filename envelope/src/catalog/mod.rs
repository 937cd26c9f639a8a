//! The catalog: SQL/MED objects (foreign data wrappers, servers, user mappings, foreign
//! tables), relations with their columns, indexes and statistics.
//!
//! The whole catalog is a value (`Catalog`) behind an `RwLock` in the database; a statement
//! takes a snapshot (`Arc<Catalog>`) and DDL installs a new version, so readers never block on
//! DDL and a query sees one consistent catalog.

use std::collections::BTreeMap;
use std::sync::Arc;

use fdw_api::{ColumnDef, IndexDef, Options, TableStats};

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
}

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
    pub fn alloc_oid(&mut self) -> Oid {
        if self.next_oid < 16384 {
            self.next_oid = 16384;
        }
        let oid = self.next_oid;
        self.next_oid += 1;
        oid
    }
}
