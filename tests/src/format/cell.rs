//! How psql turns one cell's text into display lines.
//!
//! psql never prints a value raw: a newline starts a new display line, a tab becomes spaces up
//! to the next multiple of 8 columns, and characters a terminal cannot show become escapes
//! (`\r`, `\x1B` for C0 controls and DEL, `\u0085` for C1 controls). Widths are display columns
//! (an East Asian wide character counts 2, a combining mark 0), which is what aligning a table
//! of multibyte text needs.

use std::fmt::Write;

use unicode_width::UnicodeWidthChar;

/// One display line of a cell: its text and its width in terminal columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    pub width: usize,
}

/// Splits `value` into display lines as psql does (always at least one line, possibly empty).
pub fn display_lines(value: &str) -> Vec<Line> {
    let mut lines = Vec::with_capacity(1);
    let mut cur = Line { text: String::with_capacity(value.len()), width: 0 };
    for c in value.chars() {
        match c {
            '\n' => {
                lines.push(std::mem::replace(&mut cur, Line { text: String::new(), width: 0 }));
            }
            '\t' => {
                let spaces = 8 - cur.width % 8;
                cur.text.extend(std::iter::repeat_n(' ', spaces));
                cur.width += spaces;
            }
            '\r' => {
                cur.text.push_str("\\r");
                cur.width += 2;
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(cur.text, "\\x{:02X}", c as u32);
                cur.width += 4;
            }
            c if (0x80..0xa0).contains(&(c as u32)) => {
                let _ = write!(cur.text, "\\u{:04X}", c as u32);
                cur.width += 6;
            }
            c => {
                cur.text.push(c);
                cur.width += c.width().unwrap_or(0);
            }
        }
    }
    lines.push(cur);
    lines
}

/// Display width of the widest line of `value`.
pub fn display_width(value: &str) -> usize {
    display_lines(value).iter().map(|l| l.width).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(v: &str) -> Vec<(String, usize)> {
        display_lines(v).into_iter().map(|l| (l.text, l.width)).collect()
    }

    #[test]
    fn plain_and_multiline() {
        assert_eq!(texts("abc"), vec![("abc".into(), 3)]);
        assert_eq!(texts(""), vec![("".into(), 0)]);
        assert_eq!(texts("ab\ncdef\n"), vec![("ab".into(), 2), ("cdef".into(), 4), ("".into(), 0)]);
    }

    #[test]
    fn tabs_expand_to_multiples_of_eight() {
        assert_eq!(texts("a\tb"), vec![("a       b".into(), 9)]);
        assert_eq!(texts("ab\tc\td"), vec![("ab      c       d".into(), 17)]);
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(texts("a\rb"), vec![("a\\rb".into(), 4)]);
        assert_eq!(texts("a\u{1b}b"), vec![("a\\x1Bb".into(), 6)]);
        assert_eq!(texts("x\u{85}y"), vec![("x\\u0085y".into(), 8)]);
    }

    #[test]
    fn multibyte_widths() {
        assert_eq!(display_width("日本語"), 6);
        assert_eq!(display_width("héllo wörld"), 11);
        assert_eq!(display_width("e\u{301}"), 1);
    }
}
