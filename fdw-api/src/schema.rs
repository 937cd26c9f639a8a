//! Table descriptions and options as the envelope hands them to a wrapper.

use std::sync::Arc;

use crate::types::{DataType, Datum};

/// `OPTIONS (key 'value', ...)` of a wrapper, server, user mapping, table or column, in the
/// order written. Keys are case-sensitive as in PostgreSQL (`filename`, not `FILENAME`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options(pub Vec<(String, String)>);

impl Options {
    pub fn new() -> Self {
        Options(Vec::new())
    }
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn set(&mut self, key: &str, value: &str) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value.to_string(),
            None => self.0.push((key.to_string(), value.to_string())),
        }
    }
    pub fn remove(&mut self, key: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|(k, _)| k != key);
        before != self.0.len()
    }
    /// Parses a boolean option value as PostgreSQL's `defGetBoolean` does (true/false, on/off,
    /// yes/no, 1/0, any case).
    pub fn get_bool(&self, key: &str) -> Option<Result<bool, String>> {
        self.get(key).map(|v| parse_bool(v).ok_or_else(|| format!("{key} requires a Boolean value")))
    }
}

/// PostgreSQL's boolean option parsing.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" | "t" | "y" => Some(true),
        "false" | "off" | "no" | "0" | "f" | "n" => Some(false),
        _ => None,
    }
}

/// Which catalog object an option list belongs to, for the validator (PostgreSQL passes the
/// catalog OID: ForeignDataWrapperRelationId, ForeignServerRelationId, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OptionTarget {
    Wrapper,
    Server,
    UserMapping,
    Table,
    Column,
}

impl OptionTarget {
    pub fn describe(&self) -> &'static str {
        match self {
            OptionTarget::Wrapper => "foreign-data wrapper",
            OptionTarget::Server => "server",
            OptionTarget::UserMapping => "user mapping",
            OptionTarget::Table => "foreign table",
            OptionTarget::Column => "column",
        }
    }
}

/// One column of a table.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnDef {
    pub name: String,
    pub ty: DataType,
    pub not_null: bool,
    /// Default expression as SQL text (the envelope evaluates it).
    pub default: Option<String>,
    pub options: Options,
}

/// An index the wrapper keeps on a table (storage-engine wrappers only).
#[derive(Clone, Debug, PartialEq)]
pub struct IndexDef {
    pub name: String,
    pub table: String,
    /// Column positions in the table, in key order.
    pub columns: Vec<usize>,
    pub unique: bool,
    pub primary: bool,
}

/// Per-column statistics gathered by ANALYZE, which the envelope keeps in its catalog and
/// hands back to the wrapper at planning time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ColumnStats {
    pub null_frac: f64,
    /// Number of distinct values; negative means a fraction of the row count, as
    /// PostgreSQL's `stadistinct`.
    pub n_distinct: f64,
    pub avg_width: u32,
    /// Most common values and their frequencies.
    pub mcv: Vec<(Datum, f64)>,
    /// Equi-depth histogram bounds of the values not in `mcv`.
    pub histogram: Vec<Datum>,
}

/// Table-level statistics from ANALYZE.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TableStats {
    pub row_count: f64,
    /// Per column, same order as the table's columns; `None` if not analyzed.
    pub columns: Vec<Option<ColumnStats>>,
}

/// Everything a wrapper needs to know about one foreign table: its identity, columns, and the
/// options of the table, its server, the wrapper and the current user's mapping.
#[derive(Clone)]
pub struct TableDesc {
    /// The envelope's id of the relation (stable while it exists).
    pub id: u64,
    pub schema: String,
    pub name: String,
    pub columns: Vec<ColumnDef>,
    pub table_options: Options,
    pub server_name: String,
    pub server_options: Options,
    pub wrapper_options: Options,
    /// Options of the user mapping in force for the current user (PUBLIC or the user's own);
    /// empty if none.
    pub user_mapping_options: Options,
    pub indexes: Vec<IndexDef>,
    pub stats: Option<Arc<TableStats>>,
}

impl TableDesc {
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
    /// Option of a column (`force_not_null`, `column_name`).
    pub fn column_option(&self, column: usize, key: &str) -> Option<&str> {
        self.columns.get(column).and_then(|c| c.options.get(key))
    }
    /// Looks an option up on the table, then its server, then the wrapper (the order
    /// postgres_fdw uses for per-table overrides of server settings).
    pub fn option(&self, key: &str) -> Option<&str> {
        self.table_options.get(key).or_else(|| self.server_options.get(key)).or_else(|| self.wrapper_options.get(key))
    }
}

impl std::fmt::Debug for TableDesc {
    /// User-mapping options hold credentials: only their names are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mapping_keys: Vec<&str> = self.user_mapping_options.0.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("TableDesc")
            .field("id", &self.id)
            .field("schema", &self.schema)
            .field("name", &self.name)
            .field("columns", &self.columns)
            .field("table_options", &self.table_options)
            .field("server_name", &self.server_name)
            .field("server_options", &self.server_options)
            .field("wrapper_options", &self.wrapper_options)
            .field("user_mapping_options", &mapping_keys)
            .field("indexes", &self.indexes)
            .finish()
    }
}
