//! SQL/MED and utility statements that sqlparser does not parse: CREATE/ALTER/DROP FOREIGN
//! DATA WRAPPER, SERVER, USER MAPPING, FOREIGN TABLE, IMPORT FOREIGN SCHEMA, CHECKPOINT,
//! PostgreSQL's ANALYZE, and GRANT/REVOKE (accepted for script compatibility).
//!
//! Built on sqlparser's own `Parser` (its tokenizer, identifiers, data types and
//! expressions), so quoting and literals behave the same as in the rest of the SQL.
//! Keywords sqlparser does not know (HANDLER, VALIDATOR, MAPPING, CHECKPOINT) are matched
//! as words.

use fdw_api::{DataType, FdwResult, ImportFilter};
use sqlparser::ast::{ColumnOption, Ident};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use super::{data_type, ident_name, object_name, syntax_at, syntax_error};

/// A possibly schema-qualified relation name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QualifiedName {
    pub schema: Option<String>,
    pub name: String,
}

/// A generic option list as written at CREATE: `OPTIONS (name 'value', ...)`, in order,
/// duplicates kept (the executor rejects them with PostgreSQL's error).
pub type OptionList = Vec<(String, String)>;

/// `ADD` / `SET` / `DROP` of an ALTER ... OPTIONS element (no keyword means ADD).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionAction {
    Add,
    Set,
    Drop,
}

/// One element of `ALTER ... OPTIONS (...)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionChange {
    pub action: OptionAction,
    pub name: String,
    /// `None` for DROP.
    pub value: Option<String>,
}

/// The user of a user mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserSpec {
    Name(String),
    /// CURRENT_USER, USER, CURRENT_ROLE, SESSION_USER.
    Current,
    Public,
}

/// The kinds of SQL/MED object a generic DROP/RENAME/OWNER applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MedObject {
    Wrapper,
    Server,
    ForeignTable,
}

/// A column of CREATE FOREIGN TABLE / ALTER FOREIGN TABLE ADD COLUMN.
#[derive(Clone, Debug, PartialEq)]
pub struct ForeignColumn {
    pub name: String,
    pub ty: DataType,
    pub options: OptionList,
    pub not_null: bool,
    /// DEFAULT expression as SQL text.
    pub default: Option<String>,
}

/// One action of ALTER FOREIGN TABLE.
#[derive(Clone, Debug, PartialEq)]
pub enum ForeignTableAction {
    Options(Vec<OptionChange>),
    ColumnOptions {
        column: String,
        changes: Vec<OptionChange>,
    },
    AddColumn {
        column: ForeignColumn,
        if_not_exists: bool,
    },
    DropColumn {
        column: String,
        if_exists: bool,
        cascade: bool,
    },
    SetNotNull {
        column: String,
        not_null: bool,
    },
    SetDefault {
        column: String,
        default: Option<String>,
    },
    /// ADD [CONSTRAINT name] CHECK (...): accepted; foreign tables' CHECK constraints are not
    /// enforced by PostgreSQL either (they only inform the planner).
    AddCheck,
    /// OWNER TO: accepted and ignored (there is one superuser).
    Owner(String),
    /// A valid PostgreSQL action we do not implement (INHERIT, ...): fails at execution.
    Unsupported(String),
}

/// A statement parsed by this module.
#[derive(Clone, Debug, PartialEq)]
pub enum MedStatement {
    CreateWrapper {
        name: String,
        /// Handler function name as written (`file_fdw_handler` or `file_fdw`).
        handler: Option<String>,
        validator: Option<String>,
        options: OptionList,
    },
    AlterWrapper {
        name: String,
        /// `Some(None)` for NO HANDLER.
        handler: Option<Option<String>>,
        validator: Option<Option<String>>,
        options: Vec<OptionChange>,
    },
    CreateServer {
        name: String,
        if_not_exists: bool,
        server_type: Option<String>,
        version: Option<String>,
        wrapper: String,
        options: OptionList,
    },
    AlterServer {
        name: String,
        /// `Some(None)` for VERSION NULL.
        version: Option<Option<String>>,
        options: Vec<OptionChange>,
    },
    CreateUserMapping {
        if_not_exists: bool,
        user: UserSpec,
        server: String,
        options: OptionList,
    },
    AlterUserMapping {
        user: UserSpec,
        server: String,
        options: Vec<OptionChange>,
    },
    DropUserMapping {
        if_exists: bool,
        user: UserSpec,
        server: String,
    },
    CreateForeignTable {
        name: QualifiedName,
        if_not_exists: bool,
        columns: Vec<ForeignColumn>,
        server: String,
        options: OptionList,
    },
    AlterForeignTable {
        name: QualifiedName,
        if_exists: bool,
        actions: Vec<ForeignTableAction>,
    },
    /// DROP FOREIGN DATA WRAPPER / SERVER / FOREIGN TABLE.
    Drop {
        object: MedObject,
        if_exists: bool,
        names: Vec<QualifiedName>,
        cascade: bool,
    },
    /// ALTER ... RENAME TO (object) and ALTER FOREIGN TABLE ... RENAME [COLUMN] a TO b.
    Rename {
        object: MedObject,
        if_exists: bool,
        name: QualifiedName,
        /// `Some(old)` when a column is renamed.
        column: Option<String>,
        new_name: String,
    },
    /// ALTER FOREIGN DATA WRAPPER / SERVER ... OWNER TO: accepted, ignored.
    Owner {
        object: MedObject,
        name: String,
        owner: String,
    },
    ImportForeignSchema {
        remote_schema: String,
        filter: ImportFilter,
        server: String,
        local_schema: String,
        options: OptionList,
    },
    Checkpoint,
    /// ANALYZE [VERBOSE] [table [(columns)], ...]; no tables means every table.
    Analyze {
        verbose: bool,
        tables: Vec<(QualifiedName, Vec<String>)>,
    },
    /// GRANT/REVOKE: accepted without effect (one superuser, no privileges to check).
    Privileges {
        grant: bool,
    },
    /// `RESET name` / `RESET ALL` (`"all"`) / `RESET ROLE` / `RESET SESSION AUTHORIZATION`
    /// (`"session_authorization"`), lower-cased: the session executes it.
    Reset(String),
}

impl MedStatement {
    /// psql's command tag.
    pub fn tag(&self) -> &'static str {
        use MedStatement as M;
        match self {
            M::CreateWrapper { .. } => "CREATE FOREIGN DATA WRAPPER",
            M::AlterWrapper { .. } => "ALTER FOREIGN DATA WRAPPER",
            M::CreateServer { .. } => "CREATE SERVER",
            M::AlterServer { .. } => "ALTER SERVER",
            M::CreateUserMapping { .. } => "CREATE USER MAPPING",
            M::AlterUserMapping { .. } => "ALTER USER MAPPING",
            M::DropUserMapping { .. } => "DROP USER MAPPING",
            M::CreateForeignTable { .. } => "CREATE FOREIGN TABLE",
            M::AlterForeignTable { .. } => "ALTER FOREIGN TABLE",
            M::Drop { object, .. } => match object {
                MedObject::Wrapper => "DROP FOREIGN DATA WRAPPER",
                MedObject::Server => "DROP SERVER",
                MedObject::ForeignTable => "DROP FOREIGN TABLE",
            },
            M::Rename { object, .. } | M::Owner { object, .. } => match object {
                MedObject::Wrapper => "ALTER FOREIGN DATA WRAPPER",
                MedObject::Server => "ALTER SERVER",
                MedObject::ForeignTable => "ALTER FOREIGN TABLE",
            },
            M::ImportForeignSchema { .. } => "IMPORT FOREIGN SCHEMA",
            M::Checkpoint => "CHECKPOINT",
            M::Analyze { .. } => "ANALYZE",
            M::Privileges { grant: true } => "GRANT",
            M::Privileges { grant: false } => "REVOKE",
            M::Reset(_) => "RESET",
        }
    }
}

/// The upper-cased value of a bare word token.
fn word(t: &Token) -> Option<String> {
    match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    }
}

/// Whether the statement ahead is one this module parses (decided by its leading words).
pub(crate) fn is_med_statement(p: &Parser<'_>) -> bool {
    let t: [Token; 4] = p.peek_tokens();
    let w: Vec<String> = t.iter().map(|t| word(t).unwrap_or_default()).collect();
    let w: Vec<&str> = w.iter().map(String::as_str).collect();
    matches!(
        w.as_slice(),
        ["CREATE" | "ALTER" | "DROP", "FOREIGN", "DATA" | "TABLE", _]
            | ["CREATE" | "ALTER" | "DROP", "SERVER", ..]
            | ["CREATE" | "ALTER" | "DROP", "USER", "MAPPING", _]
            | ["IMPORT", "FOREIGN", "SCHEMA", _]
            | ["CHECKPOINT" | "ANALYZE" | "ANALYSE" | "GRANT" | "REVOKE" | "RESET", ..]
    )
}

type P<'a, 'b> = &'a mut Parser<'b>;

fn peek_word(p: &Parser<'_>, w: &str) -> bool {
    word(&p.peek_token().token).is_some_and(|x| x == w)
}

fn eat_word(p: P<'_, '_>, w: &str) -> bool {
    if peek_word(p, w) {
        p.next_token();
        true
    } else {
        false
    }
}

fn expect_word(p: P<'_, '_>, w: &str) -> FdwResult<()> {
    if eat_word(p, w) {
        Ok(())
    } else {
        Err(unexpected(p))
    }
}

fn eat_words(p: P<'_, '_>, ws: &[&str]) -> bool {
    for (i, w) in ws.iter().enumerate() {
        if !eat_word(p, w) {
            for _ in 0..i {
                p.prev_token();
            }
            return false;
        }
    }
    true
}

fn unexpected(p: &Parser<'_>) -> fdw_api::FdwError {
    syntax_at(&p.peek_token().token.to_string())
}

fn expect_token(p: P<'_, '_>, t: Token) -> FdwResult<()> {
    if p.consume_token(&t) {
        Ok(())
    } else {
        Err(unexpected(p))
    }
}

fn ident(p: P<'_, '_>) -> FdwResult<String> {
    match p.peek_token().token {
        Token::Word(_) => p.parse_identifier().map(|i: Ident| ident_name(&i)).map_err(syntax_error),
        _ => Err(unexpected(p)),
    }
}

fn qualified(p: P<'_, '_>) -> FdwResult<QualifiedName> {
    let n = p.parse_object_name(false).map_err(syntax_error)?;
    let (schema, name) = object_name(&n)?;
    Ok(QualifiedName { schema, name })
}

/// A string constant (`'..'` or `E'..'`).
fn string_lit(p: P<'_, '_>) -> FdwResult<String> {
    match p.peek_token().token {
        Token::SingleQuotedString(s) | Token::EscapedStringLiteral(s) => {
            p.next_token();
            Ok(s)
        }
        _ => Err(unexpected(p)),
    }
}

fn if_not_exists(p: P<'_, '_>) -> bool {
    p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS])
}

fn if_exists(p: P<'_, '_>) -> bool {
    p.parse_keywords(&[Keyword::IF, Keyword::EXISTS])
}

/// `[CASCADE | RESTRICT]`; true for CASCADE.
fn drop_behavior(p: P<'_, '_>) -> bool {
    if p.parse_keyword(Keyword::CASCADE) {
        true
    } else {
        let _ = p.parse_keyword(Keyword::RESTRICT);
        false
    }
}

/// `OPTIONS (name 'value', ...)` if present.
fn create_options(p: P<'_, '_>) -> FdwResult<OptionList> {
    if !p.parse_keyword(Keyword::OPTIONS) {
        return Ok(Vec::new());
    }
    expect_token(p, Token::LParen)?;
    let mut out = Vec::new();
    loop {
        let name = ident(p)?;
        let value = string_lit(p)?;
        out.push((name, value));
        if !p.consume_token(&Token::Comma) {
            break;
        }
    }
    expect_token(p, Token::RParen)?;
    Ok(out)
}

/// `OPTIONS ([ADD|SET|DROP] name ['value'], ...)` if present.
fn alter_options(p: P<'_, '_>) -> FdwResult<Vec<OptionChange>> {
    if !p.parse_keyword(Keyword::OPTIONS) {
        return Ok(Vec::new());
    }
    expect_token(p, Token::LParen)?;
    let mut out = Vec::new();
    loop {
        // ADD/SET/DROP are actions only when followed by a name (`add 'x'` names option add).
        let next_is_name = matches!(p.peek_nth_token(1).token, Token::Word(_));
        let action = if next_is_name && eat_word(p, "ADD") {
            OptionAction::Add
        } else if next_is_name && eat_word(p, "SET") {
            OptionAction::Set
        } else if next_is_name && eat_word(p, "DROP") {
            OptionAction::Drop
        } else {
            OptionAction::Add
        };
        let name = ident(p)?;
        let value = if action == OptionAction::Drop { None } else { Some(string_lit(p)?) };
        out.push(OptionChange { action, name, value });
        if !p.consume_token(&Token::Comma) {
            break;
        }
    }
    expect_token(p, Token::RParen)?;
    Ok(out)
}

fn user_spec(p: P<'_, '_>) -> FdwResult<UserSpec> {
    let t = p.peek_token().token;
    if let Some(w) = word(&t) {
        match w.as_str() {
            "CURRENT_USER" | "USER" | "CURRENT_ROLE" | "SESSION_USER" => {
                p.next_token();
                return Ok(UserSpec::Current);
            }
            "PUBLIC" => {
                p.next_token();
                return Ok(UserSpec::Public);
            }
            _ => {}
        }
    }
    Ok(UserSpec::Name(ident(p)?))
}

/// Parses the statement ahead (the caller checked [`is_med_statement`]).
pub(crate) fn parse_med(p: P<'_, '_>) -> FdwResult<MedStatement> {
    if eat_word(p, "CHECKPOINT") {
        return Ok(MedStatement::Checkpoint);
    }
    if eat_word(p, "RESET") {
        if eat_words(p, &["SESSION", "AUTHORIZATION"]) {
            return Ok(MedStatement::Reset("session_authorization".into()));
        }
        // A configuration parameter may be qualified (`RESET myext.x`).
        let name = p.parse_object_name(false).map_err(syntax_error)?.to_string().to_lowercase();
        return Ok(MedStatement::Reset(name));
    }
    if eat_word(p, "ANALYZE") || eat_word(p, "ANALYSE") {
        return parse_analyze(p);
    }
    if peek_word(p, "GRANT") || peek_word(p, "REVOKE") {
        let grant = eat_word(p, "GRANT");
        if !grant {
            eat_word(p, "REVOKE");
        }
        // Consume the rest: privileges are not modelled.
        while p.next_token().token != Token::EOF {}
        return Ok(MedStatement::Privileges { grant });
    }
    if eat_words(p, &["IMPORT", "FOREIGN", "SCHEMA"]) {
        return parse_import(p);
    }
    if eat_word(p, "CREATE") {
        if eat_words(p, &["FOREIGN", "DATA", "WRAPPER"]) {
            return parse_create_wrapper(p);
        }
        if eat_words(p, &["FOREIGN", "TABLE"]) {
            return parse_create_foreign_table(p);
        }
        if eat_word(p, "SERVER") {
            return parse_create_server(p);
        }
        if eat_words(p, &["USER", "MAPPING"]) {
            let if_not_exists = if_not_exists(p);
            expect_word(p, "FOR")?;
            let user = user_spec(p)?;
            expect_word(p, "SERVER")?;
            let server = ident(p)?;
            let options = create_options(p)?;
            return Ok(MedStatement::CreateUserMapping { if_not_exists, user, server, options });
        }
    } else if eat_word(p, "ALTER") {
        if eat_words(p, &["FOREIGN", "DATA", "WRAPPER"]) {
            return parse_alter_wrapper(p);
        }
        if eat_words(p, &["FOREIGN", "TABLE"]) {
            return parse_alter_foreign_table(p);
        }
        if eat_word(p, "SERVER") {
            return parse_alter_server(p);
        }
        if eat_words(p, &["USER", "MAPPING"]) {
            expect_word(p, "FOR")?;
            let user = user_spec(p)?;
            expect_word(p, "SERVER")?;
            let server = ident(p)?;
            if !peek_word(p, "OPTIONS") {
                return Err(unexpected(p));
            }
            let options = alter_options(p)?;
            return Ok(MedStatement::AlterUserMapping { user, server, options });
        }
    } else if eat_word(p, "DROP") {
        let object = if eat_words(p, &["FOREIGN", "DATA", "WRAPPER"]) {
            MedObject::Wrapper
        } else if eat_words(p, &["FOREIGN", "TABLE"]) {
            MedObject::ForeignTable
        } else if eat_word(p, "SERVER") {
            MedObject::Server
        } else if eat_words(p, &["USER", "MAPPING"]) {
            let if_exists = if_exists(p);
            expect_word(p, "FOR")?;
            let user = user_spec(p)?;
            expect_word(p, "SERVER")?;
            let server = ident(p)?;
            return Ok(MedStatement::DropUserMapping { if_exists, user, server });
        } else {
            return Err(unexpected(p));
        };
        let if_exists = if_exists(p);
        let mut names = Vec::new();
        loop {
            names.push(if object == MedObject::ForeignTable {
                qualified(p)?
            } else {
                QualifiedName { schema: None, name: ident(p)? }
            });
            if !p.consume_token(&Token::Comma) {
                break;
            }
        }
        let cascade = drop_behavior(p);
        return Ok(MedStatement::Drop { object, if_exists, names, cascade });
    }
    Err(unexpected(p))
}

/// `HANDLER name | NO HANDLER` and `VALIDATOR name | NO VALIDATOR` in any order, then OPTIONS.
fn wrapper_functions(p: P<'_, '_>) -> FdwResult<(Option<Option<String>>, Option<Option<String>>)> {
    let (mut handler, mut validator) = (None, None);
    loop {
        if eat_word(p, "HANDLER") {
            handler = Some(Some(p.parse_object_name(false).map_err(syntax_error)?.to_string().to_lowercase()));
        } else if eat_words(p, &["NO", "HANDLER"]) {
            handler = Some(None);
        } else if eat_word(p, "VALIDATOR") {
            validator = Some(Some(p.parse_object_name(false).map_err(syntax_error)?.to_string().to_lowercase()));
        } else if eat_words(p, &["NO", "VALIDATOR"]) {
            validator = Some(None);
        } else {
            return Ok((handler, validator));
        }
    }
}

fn parse_create_wrapper(p: P<'_, '_>) -> FdwResult<MedStatement> {
    let name = ident(p)?;
    let (handler, validator) = wrapper_functions(p)?;
    let options = create_options(p)?;
    Ok(MedStatement::CreateWrapper { name, handler: handler.flatten(), validator: validator.flatten(), options })
}

fn parse_alter_wrapper(p: P<'_, '_>) -> FdwResult<MedStatement> {
    let name = ident(p)?;
    if let Some(stmt) = rename_or_owner(p, MedObject::Wrapper, &name)? {
        return Ok(stmt);
    }
    let (handler, validator) = wrapper_functions(p)?;
    let options = alter_options(p)?;
    if handler.is_none() && validator.is_none() && options.is_empty() {
        return Err(unexpected(p));
    }
    Ok(MedStatement::AlterWrapper { name, handler, validator, options })
}

/// `RENAME TO x` / `OWNER TO x` of a wrapper or server.
fn rename_or_owner(p: P<'_, '_>, object: MedObject, name: &str) -> FdwResult<Option<MedStatement>> {
    if eat_words(p, &["RENAME", "TO"]) {
        let new_name = ident(p)?;
        let name = QualifiedName { schema: None, name: name.to_string() };
        return Ok(Some(MedStatement::Rename { object, if_exists: false, name, column: None, new_name }));
    }
    if eat_words(p, &["OWNER", "TO"]) {
        let owner = user_spec(p).map(|u| match u {
            UserSpec::Name(n) => n,
            UserSpec::Current => "current_user".into(),
            UserSpec::Public => "public".into(),
        })?;
        return Ok(Some(MedStatement::Owner { object, name: name.to_string(), owner }));
    }
    Ok(None)
}

fn parse_create_server(p: P<'_, '_>) -> FdwResult<MedStatement> {
    let if_not_exists = if_not_exists(p);
    let name = ident(p)?;
    let server_type = if p.parse_keyword(Keyword::TYPE) { Some(string_lit(p)?) } else { None };
    let version = if p.parse_keyword(Keyword::VERSION) { Some(string_lit(p)?) } else { None };
    expect_word(p, "FOREIGN")?;
    expect_word(p, "DATA")?;
    expect_word(p, "WRAPPER")?;
    let wrapper = ident(p)?;
    let options = create_options(p)?;
    Ok(MedStatement::CreateServer { name, if_not_exists, server_type, version, wrapper, options })
}

fn parse_alter_server(p: P<'_, '_>) -> FdwResult<MedStatement> {
    let name = ident(p)?;
    if let Some(stmt) = rename_or_owner(p, MedObject::Server, &name)? {
        return Ok(stmt);
    }
    let version = if p.parse_keyword(Keyword::VERSION) {
        if p.parse_keyword(Keyword::NULL) {
            Some(None)
        } else {
            Some(Some(string_lit(p)?))
        }
    } else {
        None
    };
    let options = alter_options(p)?;
    if version.is_none() && options.is_empty() {
        return Err(unexpected(p));
    }
    Ok(MedStatement::AlterServer { name, version, options })
}

/// `name type [OPTIONS (...)] [constraints...]`.
fn foreign_column(p: P<'_, '_>) -> FdwResult<ForeignColumn> {
    let name = ident(p)?;
    let ty = p.parse_data_type().map_err(syntax_error)?;
    let ty = data_type(&ty)?;
    let mut col = ForeignColumn { name, ty, options: Vec::new(), not_null: false, default: None };
    loop {
        if peek_word(p, "OPTIONS") {
            col.options.extend(create_options(p)?);
            continue;
        }
        if p.parse_keyword(Keyword::CONSTRAINT) {
            ident(p)?;
        }
        match p.parse_optional_column_option().map_err(syntax_error)? {
            None => break,
            Some(ColumnOption::NotNull) => col.not_null = true,
            Some(ColumnOption::Null) => col.not_null = false,
            Some(ColumnOption::Default(e)) => col.default = Some(e.to_string()),
            // CHECK and COLLATE are accepted; a foreign table's constraints are not enforced.
            Some(ColumnOption::Check(_)) | Some(ColumnOption::Collation(_)) => {}
            Some(other) => {
                return Err(fdw_api::err!(
                    FEATURE_NOT_SUPPORTED,
                    "column constraint \"{}\" is not supported on foreign tables",
                    other
                ))
            }
        }
    }
    Ok(col)
}

fn parse_create_foreign_table(p: P<'_, '_>) -> FdwResult<MedStatement> {
    let if_not_exists = if_not_exists(p);
    let name = qualified(p)?;
    expect_token(p, Token::LParen)?;
    let mut columns = Vec::new();
    if !p.consume_token(&Token::RParen) {
        loop {
            if p.parse_keyword(Keyword::CONSTRAINT) {
                ident(p)?;
                table_check(p)?;
            } else if p.peek_keyword(Keyword::CHECK) {
                table_check(p)?;
            } else {
                columns.push(foreign_column(p)?);
            }
            if !p.consume_token(&Token::Comma) {
                break;
            }
        }
        expect_token(p, Token::RParen)?;
    }
    if peek_word(p, "PARTITION") || peek_word(p, "INHERITS") {
        return Err(fdw_api::FdwError::feature("partitioned and inherited foreign tables are not supported"));
    }
    expect_word(p, "SERVER")?;
    let server = ident(p)?;
    let options = create_options(p)?;
    Ok(MedStatement::CreateForeignTable { name, if_not_exists, columns, server, options })
}

/// `CHECK (expr)` (parsed and dropped).
fn table_check(p: P<'_, '_>) -> FdwResult<()> {
    if !p.parse_keyword(Keyword::CHECK) {
        return Err(unexpected(p));
    }
    expect_token(p, Token::LParen)?;
    p.parse_expr().map_err(syntax_error)?;
    expect_token(p, Token::RParen)?;
    // NO INHERIT / NOT VALID may follow.
    eat_words(p, &["NO", "INHERIT"]);
    eat_words(p, &["NOT", "VALID"]);
    Ok(())
}

fn parse_alter_foreign_table(p: P<'_, '_>) -> FdwResult<MedStatement> {
    let if_exists = if_exists(p);
    let name = qualified(p)?;
    if eat_word(p, "RENAME") {
        let (column, new_name) = if eat_word(p, "TO") {
            (None, ident(p)?)
        } else {
            eat_word(p, "COLUMN");
            let old = ident(p)?;
            expect_word(p, "TO")?;
            (Some(old), ident(p)?)
        };
        return Ok(MedStatement::Rename { object: MedObject::ForeignTable, if_exists, name, column, new_name });
    }
    let mut actions = Vec::new();
    loop {
        actions.push(foreign_table_action(p)?);
        if !p.consume_token(&Token::Comma) {
            break;
        }
    }
    Ok(MedStatement::AlterForeignTable { name, if_exists, actions })
}

fn foreign_table_action(p: P<'_, '_>) -> FdwResult<ForeignTableAction> {
    use ForeignTableAction as A;
    if peek_word(p, "OPTIONS") {
        return Ok(A::Options(alter_options(p)?));
    }
    if eat_word(p, "ADD") {
        if p.parse_keyword(Keyword::CONSTRAINT) {
            ident(p)?;
            table_check(p)?;
            return Ok(A::AddCheck);
        }
        if p.peek_keyword(Keyword::CHECK) {
            table_check(p)?;
            return Ok(A::AddCheck);
        }
        eat_word(p, "COLUMN");
        let if_not_exists = if_not_exists(p);
        return Ok(A::AddColumn { column: foreign_column(p)?, if_not_exists });
    }
    if eat_word(p, "DROP") {
        eat_word(p, "COLUMN");
        let if_exists = if_exists(p);
        let column = ident(p)?;
        let cascade = drop_behavior(p);
        return Ok(A::DropColumn { column, if_exists, cascade });
    }
    if eat_word(p, "ALTER") {
        eat_word(p, "COLUMN");
        let column = ident(p)?;
        if peek_word(p, "OPTIONS") {
            return Ok(A::ColumnOptions { column, changes: alter_options(p)? });
        }
        if eat_words(p, &["SET", "NOT", "NULL"]) {
            return Ok(A::SetNotNull { column, not_null: true });
        }
        if eat_words(p, &["DROP", "NOT", "NULL"]) {
            return Ok(A::SetNotNull { column, not_null: false });
        }
        if eat_words(p, &["SET", "DEFAULT"]) {
            let e = p.parse_expr().map_err(syntax_error)?;
            return Ok(A::SetDefault { column, default: Some(e.to_string()) });
        }
        if eat_words(p, &["DROP", "DEFAULT"]) {
            return Ok(A::SetDefault { column, default: None });
        }
        return Err(unexpected(p));
    }
    if eat_words(p, &["OWNER", "TO"]) {
        return Ok(A::Owner(ident(p)?));
    }
    if eat_word(p, "INHERIT") || eat_words(p, &["NO", "INHERIT"]) {
        ident(p)?;
        return Ok(A::Unsupported("ALTER FOREIGN TABLE ... INHERIT".into()));
    }
    Err(unexpected(p))
}

fn parse_import(p: P<'_, '_>) -> FdwResult<MedStatement> {
    let remote_schema = ident(p)?;
    let list = |p: P<'_, '_>| -> FdwResult<Vec<String>> {
        expect_token(p, Token::LParen)?;
        let mut v = Vec::new();
        loop {
            v.push(ident(p)?);
            if !p.consume_token(&Token::Comma) {
                break;
            }
        }
        expect_token(p, Token::RParen)?;
        Ok(v)
    };
    let filter = if eat_words(p, &["LIMIT", "TO"]) {
        ImportFilter::LimitTo(list(p)?)
    } else if eat_word(p, "EXCEPT") {
        ImportFilter::Except(list(p)?)
    } else {
        ImportFilter::All
    };
    expect_word(p, "FROM")?;
    expect_word(p, "SERVER")?;
    let server = ident(p)?;
    expect_word(p, "INTO")?;
    let local_schema = ident(p)?;
    let options = create_options(p)?;
    Ok(MedStatement::ImportForeignSchema { remote_schema, filter, server, local_schema, options })
}

fn parse_analyze(p: P<'_, '_>) -> FdwResult<MedStatement> {
    let mut verbose = eat_word(p, "VERBOSE");
    // ANALYZE (VERBOSE, SKIP_LOCKED) form.
    if p.consume_token(&Token::LParen) {
        loop {
            let opt = ident(p)?;
            match opt.as_str() {
                "verbose" => verbose = true,
                "skip_locked" => {}
                _ => return Err(fdw_api::err!(SYNTAX_ERROR, "unrecognized ANALYZE option \"{}\"", opt)),
            }
            // An optional boolean argument.
            if !matches!(p.peek_token().token, Token::Comma | Token::RParen) {
                p.next_token();
            }
            if !p.consume_token(&Token::Comma) {
                break;
            }
        }
        expect_token(p, Token::RParen)?;
    }
    let mut tables = Vec::new();
    if matches!(p.peek_token().token, Token::Word(_)) {
        loop {
            let name = qualified(p)?;
            let mut cols = Vec::new();
            if p.consume_token(&Token::LParen) {
                loop {
                    cols.push(ident(p)?);
                    if !p.consume_token(&Token::Comma) {
                        break;
                    }
                }
                expect_token(p, Token::RParen)?;
            }
            tables.push((name, cols));
            if !p.consume_token(&Token::Comma) {
                break;
            }
        }
    }
    Ok(MedStatement::Analyze { verbose, tables })
}
