//! SQL/MED and utility statements that sqlparser does not parse: CREATE/ALTER/DROP FOREIGN
//! DATA WRAPPER, SERVER, USER MAPPING, FOREIGN TABLE, IMPORT FOREIGN SCHEMA, CHECKPOINT.

/// A statement parsed by this module.
#[derive(Clone, Debug, PartialEq)]
pub enum MedStatement {
    Checkpoint,
}
