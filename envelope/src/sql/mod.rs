//! Parsing: sqlparser (PostgreSqlDialect) for standard SQL, plus `med` for the SQL/MED and
//! utility statements sqlparser lacks.
//!
//! A script is split on `;` first ([`split`]), then each statement is parsed on its own, so a
//! syntax error in one statement does not hide the statements before it (psql's behaviour).
//! The leading keywords decide the parser: `med` for CREATE/ALTER/DROP FOREIGN DATA WRAPPER,
//! SERVER, USER MAPPING, FOREIGN TABLE, IMPORT FOREIGN SCHEMA, CHECKPOINT, PostgreSQL's
//! `ANALYZE [VERBOSE] [t [(cols)], ...]` and GRANT/REVOKE; sqlparser for the rest.
//!
//! Identifiers follow PostgreSQL: unquoted names fold to lower case ([`ident_name`]).

pub mod med;
#[cfg(test)]
mod med_tests;
mod split;

use fdw_api::{err, DataType, FdwError, FdwResult};
use sqlparser::ast::{self, CharacterLength, ExactNumberInfo, ObjectName, TimezoneInfo};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};

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
    split::split_statements(sql).into_iter().map(|text| (text.to_string(), parse_statement(text))).collect()
}

/// Parses exactly one statement (no trailing `;` needed).
pub fn parse_statement(sql: &str) -> FdwResult<Statement> {
    let dialect = PostgreSqlDialect {};
    let mut parser = Parser::new(&dialect).try_with_sql(sql).map_err(syntax_error)?;
    if med::is_med_statement(&parser) {
        let stmt = med::parse_med(&mut parser)?;
        expect_end(&mut parser)?;
        return Ok(Statement::Med(stmt));
    }
    let stmt = parser.parse_statement().map_err(syntax_error)?;
    expect_end(&mut parser)?;
    Ok(Statement::Sql(Box::new(stmt)))
}

/// Fails unless only an optional `;` is left.
fn expect_end(parser: &mut Parser<'_>) -> FdwResult<()> {
    while parser.consume_token(&sqlparser::tokenizer::Token::SemiColon) {}
    let t = parser.peek_token();
    if t.token == sqlparser::tokenizer::Token::EOF {
        Ok(())
    } else {
        Err(syntax_at(&t.token.to_string()))
    }
}

/// `syntax error at or near "x"` (42601), or `at end of input`.
pub(crate) fn syntax_at(found: &str) -> FdwError {
    if found == "EOF" || found.is_empty() {
        FdwError::syntax("syntax error at end of input")
    } else {
        FdwError::syntax(format!("syntax error at or near \"{found}\""))
    }
}

/// Maps a sqlparser error to PostgreSQL's wording where the offending token is known
/// (`Expected: ..., found: x at Line: 1, Column: 8`).
pub(crate) fn syntax_error(e: ParserError) -> FdwError {
    match e {
        ParserError::ParserError(msg) | ParserError::TokenizerError(msg) => {
            if let Some(pos) = msg.find("found: ") {
                let rest = &msg[pos + 7..];
                let found = rest.rfind(" at Line:").map_or(rest, |end| &rest[..end]);
                syntax_at(found)
            } else if msg.contains("Unterminated string literal") {
                FdwError::syntax("unterminated quoted string at or near \"'\"")
            } else if msg.contains("Unterminated dollar-quoted") {
                FdwError::syntax("unterminated dollar-quoted string")
            } else {
                FdwError::syntax(format!("syntax error: {msg}"))
            }
        }
        ParserError::RecursionLimitExceeded => {
            err!(PROGRAM_LIMIT_EXCEEDED, "stack depth limit exceeded")
        }
    }
}

/// A name as PostgreSQL sees it: unquoted identifiers fold to lower case.
pub fn ident_name(ident: &ast::Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// `(schema, name)` of a possibly qualified name (`db.schema.name` keeps the last two parts).
pub fn object_name(name: &ObjectName) -> FdwResult<(Option<String>, String)> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| p.as_ident().map(ident_name).ok_or_else(|| syntax_at(&p.to_string())))
        .collect::<FdwResult<_>>()?;
    match parts.as_slice() {
        [n] => Ok((None, n.clone())),
        [s, n] | [_, s, n] => Ok((Some(s.clone()), n.clone())),
        _ => Err(err!(SYNTAX_ERROR, "improper qualified name (too many dotted names): {}", name)),
    }
}

/// Maps a column type as written to the envelope's type (`type "x" does not exist`, 42704,
/// for types we do not have).
pub fn data_type(ty: &ast::DataType) -> FdwResult<DataType> {
    use ast::DataType as T;
    let char_len = |l: &Option<CharacterLength>| -> FdwResult<Option<u32>> {
        match l {
            None => Ok(None),
            Some(CharacterLength::IntegerLength { length, .. }) => {
                if *length == 0 {
                    Err(err!(INVALID_PARAMETER_VALUE, "length for type varchar must be at least 1"))
                } else if *length > 10_485_760 {
                    Err(err!(INVALID_PARAMETER_VALUE, "length for type varchar cannot exceed 10485760"))
                } else {
                    Ok(Some(*length as u32))
                }
            }
            Some(CharacterLength::Max) => Err(err!(UNDEFINED_OBJECT, "type \"varchar(max)\" does not exist")),
        }
    };
    let numeric = |info: &ExactNumberInfo| -> FdwResult<DataType> {
        match info {
            ExactNumberInfo::None => Ok(DataType::Numeric(None)),
            ExactNumberInfo::Precision(p) => Ok(DataType::Numeric(Some((check_precision(*p)?, 0)))),
            ExactNumberInfo::PrecisionAndScale(p, s) => {
                let p = check_precision(*p)?;
                if *s < 0 || *s > p as i64 {
                    return Err(err!(
                        INVALID_PARAMETER_VALUE,
                        "NUMERIC scale {} must be between 0 and precision {}",
                        s,
                        p
                    ));
                }
                Ok(DataType::Numeric(Some((p, *s as u8))))
            }
        }
    };
    Ok(match ty {
        T::Int(_) | T::Integer(_) | T::Int4(_) => DataType::Int4,
        T::SmallInt(_) | T::Int2(_) => DataType::Int2,
        T::BigInt(_) | T::Int8(_) => DataType::Int8,
        T::Real | T::Float4 => DataType::Float4,
        T::DoublePrecision | T::Float8 | T::Double(ExactNumberInfo::None) => DataType::Float8,
        // float(p): PostgreSQL picks real for p <= 24.
        T::Float(ExactNumberInfo::Precision(p)) if *p >= 1 && *p <= 24 => DataType::Float4,
        T::Float(ExactNumberInfo::Precision(p)) if *p >= 25 && *p <= 53 => DataType::Float8,
        T::Float(ExactNumberInfo::None) => DataType::Float8,
        T::Float(ExactNumberInfo::Precision(p)) => {
            return Err(err!(INVALID_PARAMETER_VALUE, "precision for type float must be less than 54 bits (got {p})"))
        }
        T::Numeric(info) | T::Decimal(info) | T::Dec(info) => numeric(info)?,
        T::Text => DataType::Text,
        T::Varchar(l) | T::CharacterVarying(l) | T::CharVarying(l) => DataType::Varchar(char_len(l)?),
        // `char` without a length is char(1) in PostgreSQL.
        T::Char(l) | T::Character(l) => DataType::Char(Some(char_len(l)?.unwrap_or(1))),
        T::Date => DataType::Date,
        T::Timestamp(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => DataType::Timestamp,
        T::Interval { .. } => DataType::Interval,
        T::Bool | T::Boolean => DataType::Bool,
        T::Custom(name, mods) => {
            let (_, n) = object_name(name)?;
            match (n.as_str(), mods.as_slice()) {
                ("bpchar", []) => DataType::Char(None),
                ("bpchar", [m]) => DataType::Char(Some(parse_len(m)?)),
                ("int2", []) => DataType::Int2,
                ("int4", []) => DataType::Int4,
                ("int8", []) => DataType::Int8,
                ("float4", []) => DataType::Float4,
                ("float8", []) => DataType::Float8,
                ("bool", []) => DataType::Bool,
                ("text", []) => DataType::Text,
                ("varchar", []) => DataType::Varchar(None),
                ("varchar", [m]) => DataType::Varchar(Some(parse_len(m)?)),
                _ => return Err(err!(UNDEFINED_OBJECT, "type \"{}\" does not exist", n)),
            }
        }
        other => return Err(err!(UNDEFINED_OBJECT, "type \"{}\" does not exist", other.to_string().to_lowercase())),
    })
}

fn check_precision(p: u64) -> FdwResult<u8> {
    if (1..=28).contains(&p) {
        Ok(p as u8)
    } else if (29..=1000).contains(&p) {
        // Our numeric is a 96-bit decimal (28 digits): wider declarations are not representable.
        Err(err!(FEATURE_NOT_SUPPORTED, "NUMERIC precision {} is not supported (at most 28)", p))
    } else {
        Err(err!(INVALID_PARAMETER_VALUE, "NUMERIC precision {} must be between 1 and 1000", p))
    }
}

fn parse_len(m: &str) -> FdwResult<u32> {
    m.trim().parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| err!(SYNTAX_ERROR, "invalid type modifier"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(s: &str) -> FdwResult<DataType> {
        let stmt = parse_statement(&format!("CREATE TABLE t (a {s})"))?;
        match stmt {
            Statement::Sql(b) => match *b {
                ast::Statement::CreateTable(ct) => data_type(&ct.columns[0].data_type),
                _ => panic!("not create table"),
            },
            _ => panic!("not sql"),
        }
    }

    #[test]
    fn maps_types() {
        assert_eq!(ty("int").unwrap(), DataType::Int4);
        assert_eq!(ty("integer").unwrap(), DataType::Int4);
        assert_eq!(ty("int4").unwrap(), DataType::Int4);
        assert_eq!(ty("int2").unwrap(), DataType::Int2);
        assert_eq!(ty("smallint").unwrap(), DataType::Int2);
        assert_eq!(ty("bigint").unwrap(), DataType::Int8);
        assert_eq!(ty("int8").unwrap(), DataType::Int8);
        assert_eq!(ty("real").unwrap(), DataType::Float4);
        assert_eq!(ty("float4").unwrap(), DataType::Float4);
        assert_eq!(ty("double precision").unwrap(), DataType::Float8);
        assert_eq!(ty("float8").unwrap(), DataType::Float8);
        assert_eq!(ty("float").unwrap(), DataType::Float8);
        assert_eq!(ty("numeric").unwrap(), DataType::Numeric(None));
        assert_eq!(ty("decimal(15,2)").unwrap(), DataType::Numeric(Some((15, 2))));
        assert_eq!(ty("numeric(10)").unwrap(), DataType::Numeric(Some((10, 0))));
        assert_eq!(ty("text").unwrap(), DataType::Text);
        assert_eq!(ty("varchar(25)").unwrap(), DataType::Varchar(Some(25)));
        assert_eq!(ty("character varying").unwrap(), DataType::Varchar(None));
        assert_eq!(ty("char(10)").unwrap(), DataType::Char(Some(10)));
        assert_eq!(ty("character").unwrap(), DataType::Char(Some(1)));
        assert_eq!(ty("bpchar").unwrap(), DataType::Char(None));
        assert_eq!(ty("date").unwrap(), DataType::Date);
        assert_eq!(ty("timestamp").unwrap(), DataType::Timestamp);
        assert_eq!(ty("timestamp without time zone").unwrap(), DataType::Timestamp);
        assert_eq!(ty("interval").unwrap(), DataType::Interval);
        assert_eq!(ty("boolean").unwrap(), DataType::Bool);
        assert_eq!(ty("bool").unwrap(), DataType::Bool);
        let e = ty("foo").unwrap_err();
        assert_eq!((e.sqlstate.code(), e.message.as_str()), ("42704", "type \"foo\" does not exist"));
    }

    #[test]
    fn script_reports_each_statement() {
        let r = parse_script("select 1; selec 2; select 'a;b'");
        assert_eq!(r.len(), 3);
        assert!(r[0].1.is_ok());
        let e = r[1].1.as_ref().unwrap_err();
        assert_eq!(e.sqlstate.code(), "42601");
        assert_eq!(e.message, "syntax error at or near \"selec\"");
        assert!(r[2].1.is_ok());
        assert_eq!(r[2].0, "select 'a;b'");
        let e = parse_statement("select 1 +").unwrap_err();
        assert_eq!(e.message, "syntax error at end of input");
    }

    #[test]
    fn identifiers_fold_to_lower_case() {
        let n = ObjectName::from(vec![ast::Ident::new("Foo"), ast::Ident::with_quote('"', "Bar")]);
        assert_eq!(object_name(&n).unwrap(), (Some("foo".to_string()), "Bar".to_string()));
    }
}
