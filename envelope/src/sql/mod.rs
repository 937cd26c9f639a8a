//! Parsing: sqlparser (PostgreSqlDialect) for standard SQL, plus `med` for the SQL/MED and
//! utility statements sqlparser lacks.

pub mod med;

use fdw_api::FdwResult;

/// One parsed statement.
#[derive(Clone, Debug)]
pub enum Statement {
    Sql(Box<sqlparser::ast::Statement>),
    Med(med::MedStatement),
}

/// Splits a script into statements (on `;` outside quotes and comments) and parses each.
/// Each element is the statement's text and its parse result, so a caller can run the
/// statements before a syntax error, as psql does.
pub fn parse_script(sql: &str) -> Vec<(String, FdwResult<Statement>)> {
    let _ = sql;
    Vec::new()
}
