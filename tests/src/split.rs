//! Splitting a script into statements at `;`, as psql does on the client side.
//!
//! A `;` ends a statement only outside string literals (`'...'`, `E'...'` with backslash
//! escapes), quoted identifiers, dollar-quoted strings (`$tag$...$tag$`), comments (`--`,
//! nested `/* */`) and parentheses. The shell uses the same scan to know when a multi-line
//! statement is complete.

/// The result of scanning a script: the complete statements (without their `;`) and the text
/// after the last `;`.
#[derive(Debug, PartialEq, Eq)]
pub struct Split {
    pub statements: Vec<String>,
    pub rest: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Normal,
    Quote { backslash: bool },
    Ident,
    LineComment,
    BlockComment(u32),
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// If a dollar-quote tag (`$$` or `$tag$`) starts at `i`, its length.
fn dollar_tag_len(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if j < b.len() && b[j].is_ascii_digit() {
        return None; // `$1` is a parameter
    }
    while j < b.len() && is_ident_char(b[j]) && b[j] != b'$' {
        j += 1;
    }
    (j < b.len() && b[j] == b'$').then_some(j + 1 - i)
}

/// Splits `text` into statements. Statements that are only whitespace and comments are
/// dropped; the statement text keeps its comments but not its surrounding whitespace.
pub fn split_statements(text: &str) -> Split {
    let b = text.as_bytes();
    let mut statements = Vec::new();
    let mut state = State::Normal;
    let mut depth = 0u32;
    let mut start = 0usize;
    let mut i = 0usize;
    while i < b.len() {
        let c = b[i];
        match state {
            State::Normal => match c {
                b'\'' => {
                    let escaped = i > 0 && matches!(b[i - 1], b'e' | b'E') && (i < 2 || !is_ident_char(b[i - 2]));
                    state = State::Quote { backslash: escaped };
                }
                b'"' => state = State::Ident,
                b'-' if b.get(i + 1) == Some(&b'-') => {
                    state = State::LineComment;
                    i += 1;
                }
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    state = State::BlockComment(1);
                    i += 1;
                }
                b'$' if i == 0 || !is_ident_char(b[i - 1]) => {
                    if let Some(len) = dollar_tag_len(b, i) {
                        let tag = &b[i..i + len];
                        // Skip to the closing tag (or the end: an unterminated string).
                        let body = i + len;
                        match b[body..].windows(len).position(|w| w == tag) {
                            Some(p) => i = body + p + len - 1,
                            None => i = b.len() - 1,
                        }
                    }
                }
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                b';' if depth == 0 => {
                    push_statement(&mut statements, &text[start..i]);
                    start = i + 1;
                }
                _ => {}
            },
            State::Quote { backslash } => {
                if backslash && c == b'\\' {
                    i += 1;
                } else if c == b'\'' {
                    state = State::Normal;
                }
            }
            State::Ident => {
                if c == b'"' {
                    state = State::Normal;
                }
            }
            State::LineComment => {
                if c == b'\n' {
                    state = State::Normal;
                }
            }
            State::BlockComment(n) => {
                if c == b'*' && b.get(i + 1) == Some(&b'/') {
                    state = if n == 1 { State::Normal } else { State::BlockComment(n - 1) };
                    i += 1;
                } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
                    state = State::BlockComment(n + 1);
                    i += 1;
                }
            }
        }
        i += 1;
    }
    Split { statements, rest: text[start.min(text.len())..].to_string() }
}

fn push_statement(statements: &mut Vec<String>, s: &str) {
    if !is_blank(s) {
        statements.push(s.trim().to_string());
    }
}

/// True when `s` holds nothing but whitespace and comments.
pub fn is_blank(s: &str) -> bool {
    let mut rest = s.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.find('\n').map(|p| &r[p..]).unwrap_or("").trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            match r.find("*/") {
                Some(p) => rest = r[p + 2..].trim_start(),
                None => return true,
            }
        } else {
            return rest.is_empty();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmts(s: &str) -> Vec<String> {
        split_statements(s).statements
    }

    #[test]
    fn splits_at_semicolons() {
        assert_eq!(stmts("select 1; select 2;\n"), vec!["select 1", "select 2"]);
        let s = split_statements("select 1; select");
        assert_eq!(s.statements, vec!["select 1"]);
        assert_eq!(s.rest, " select");
    }

    #[test]
    fn ignores_semicolons_in_literals_comments_and_parens() {
        assert_eq!(stmts("select 'a;b', \"x;y\"; select 2;"), vec!["select 'a;b', \"x;y\"", "select 2"]);
        assert_eq!(stmts("select E'it\\'s;'; select 1;"), vec!["select E'it\\'s;'", "select 1"]);
        assert_eq!(stmts("select 'it''s;'; x;"), vec!["select 'it''s;'", "x"]);
        assert_eq!(stmts("select 1 -- a;b\n; x;"), vec!["select 1 -- a;b", "x"]);
        assert_eq!(stmts("select /* a; /* b; */ c; */ 1; x;"), vec!["select /* a; /* b; */ c; */ 1", "x"]);
        assert_eq!(stmts("select $$a;b$$, $t$;$t$; x;"), vec!["select $$a;b$$, $t$;$t$", "x"]);
        assert_eq!(stmts("select $1; x;"), vec!["select $1", "x"]);
        assert_eq!(
            stmts("create rule r as on insert to t do (a; b); x;"),
            vec!["create rule r as on insert to t do (a; b)", "x"]
        );
    }

    #[test]
    fn blank_statements_are_dropped() {
        assert_eq!(stmts(";; -- only a comment\n;"), Vec::<String>::new());
        assert!(is_blank("  -- c\n /* d */ "));
        assert!(!is_blank("-- c\nselect"));
    }

    #[test]
    fn unterminated_literal_keeps_statement_open() {
        let s = split_statements("select 'a;\nb");
        assert!(s.statements.is_empty());
        assert_eq!(s.rest, "select 'a;\nb");
    }
}
