//! Splitting a script into statements, as psql does: on `;` outside string literals
//! (`'..'`, `E'..'`), quoted identifiers (`".."`), dollar quotes (`$tag$..$tag$`) and
//! comments (`-- ..` and nested `/* .. */`).
//!
//! Simplification: psql meta-commands (`\set`) are not recognised here; the caller strips them.

/// The statements of a script: each one's text without the terminating `;`, leading
/// comments and surrounding whitespace.
pub(crate) fn split_statements(sql: &str) -> Vec<&str> {
    split_raw(sql).into_iter().map(strip_leading_comments).collect()
}

/// `s` without the whitespace and comments it starts with.
fn strip_leading_comments(mut s: &str) -> &str {
    loop {
        s = s.trim_start();
        if s.starts_with("--") {
            s = s.find('\n').map_or("", |p| &s[p + 1..]);
        } else if s.starts_with("/*") {
            s = &s[skip_block_comment(s.as_bytes(), 0).min(s.len())..];
        } else {
            return s.trim_end();
        }
    }
}

fn split_raw(sql: &str) -> Vec<&str> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    // Whether the current statement has anything besides whitespace and comments.
    let mut has_content = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b';' => {
                if has_content {
                    out.push(sql[start..i].trim());
                }
                start = i + 1;
                has_content = false;
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(b.len(), |p| i + p + 1);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(b, i);
            }
            b'\'' => {
                let escapes = i > 0 && matches!(b[i - 1], b'e' | b'E') && (i < 2 || !is_ident_byte(b[i - 2]));
                i = skip_quoted(b, i, b'\'', escapes);
                has_content = true;
            }
            b'"' => {
                i = skip_quoted(b, i, b'"', false);
                has_content = true;
            }
            b'$' if i == 0 || !is_ident_byte(b[i - 1]) => {
                has_content = true;
                match dollar_tag(b, i) {
                    Some(tag_len) => {
                        let tag = &sql[i..i + tag_len];
                        let body = i + tag_len;
                        i = sql[body..].find(tag).map_or(b.len(), |p| body + p + tag_len);
                    }
                    None => i += 1,
                }
            }
            _ => {
                if !c.is_ascii_whitespace() {
                    has_content = true;
                }
                i += 1;
            }
        }
    }
    if has_content {
        out.push(sql[start..].trim());
    }
    out
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// Index just past a (nested) block comment starting at `i`.
fn skip_block_comment(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// Index just past a quoted literal starting at `i` (a doubled quote is an escaped quote; with
/// `escapes`, a backslash escapes the next byte).
fn skip_quoted(b: &[u8], mut i: usize, quote: u8, escapes: bool) -> usize {
    i += 1;
    while i < b.len() {
        if escapes && b[i] == b'\\' {
            i += 2;
        } else if b[i] == quote {
            if b.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// Length of a dollar-quote opening tag (`$$` or `$tag$`) at `i`, if there is one.
fn dollar_tag(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if b.get(j).is_some_and(|c| c.is_ascii_digit()) {
        return None; // `$1` is a parameter
    }
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] >= 0x80) {
        j += 1;
    }
    (b.get(j) == Some(&b'$')).then_some(j + 1 - i)
}

#[cfg(test)]
mod tests {
    use super::split_statements;

    #[test]
    fn splits_outside_quotes_and_comments() {
        let s = "select 1; select 'a;b', \"x;y\" -- c;d\n from t; /* a; /* nested; */ b; */ select E'\\';'; \
                 create function f() as $$ a; b $$; select $tag$ ; $ $tag$;;  ; -- only comment;\n";
        let parts = split_statements(s);
        assert_eq!(
            parts,
            vec![
                "select 1",
                "select 'a;b', \"x;y\" -- c;d\n from t",
                "select E'\\';'",
                "create function f() as $$ a; b $$",
                "select $tag$ ; $ $tag$",
            ]
        );
    }

    #[test]
    fn parameters_are_not_dollar_quotes() {
        assert_eq!(split_statements("select $1; select $2"), vec!["select $1", "select $2"]);
        assert_eq!(split_statements("select 'it''s;'; x"), vec!["select 'it''s;'", "x"]);
        assert!(split_statements("  -- nothing\n /* here */ ").is_empty());
    }
}
