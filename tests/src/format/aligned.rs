//! psql's default "aligned" output with border 1, byte for byte.
//!
//! Layout (what psql 15 prints, checked against it): every cell is framed by one space on the
//! left and a mark on the right; columns are separated by `|`. Headers are centred (the odd
//! space goes right) and always padded; data cells are left- or right-aligned by type, and the
//! last column is not padded on the right unless a continuation mark follows. A value with
//! newlines spans several display lines, each but the last ending in `+`; a cell with fewer
//! lines than its row's tallest cell is blank below. The separator under the header is
//! `width + 2` dashes per column joined by `+`. The footer is `(N rows)` (`(1 row)`) then a
//! blank line.
//!
//! Simplification: no wrapped/expanded formats, no `\pset` options, no title.

use super::cell::{display_lines, Line};

/// How a column's data cells are aligned. psql right-aligns numeric types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

fn spaces(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Appends the table (header, separator, rows, footer) to `out`. `rows[r][c]` is `None` for
/// NULL, which psql shows as an empty cell.
pub fn write_aligned(out: &mut String, headers: &[String], aligns: &[Align], rows: &[Vec<Option<String>>]) {
    let ncols = headers.len();
    let header_lines: Vec<Vec<Line>> = headers.iter().map(|h| display_lines(h)).collect();
    let cell_lines: Vec<Vec<Vec<Line>>> = rows
        .iter()
        .map(|row| (0..ncols).map(|c| display_lines(row.get(c).and_then(|v| v.as_deref()).unwrap_or(""))).collect())
        .collect();

    let mut widths: Vec<usize> = header_lines.iter().map(|ls| ls.iter().map(|l| l.width).max().unwrap_or(0)).collect();
    for row in &cell_lines {
        for (c, lines) in row.iter().enumerate() {
            for l in lines {
                widths[c] = widths[c].max(l.width);
            }
        }
    }

    // Header lines.
    let header_height = header_lines.iter().map(Vec::len).max().unwrap_or(0);
    for l in 0..header_height {
        for c in 0..ncols {
            out.push(' ');
            let lines = &header_lines[c];
            match lines.get(l) {
                Some(line) => {
                    let free = widths[c] - line.width;
                    spaces(out, free / 2);
                    out.push_str(&line.text);
                    spaces(out, free - free / 2);
                    out.push(if l + 1 < lines.len() { '+' } else { ' ' });
                }
                None => {
                    spaces(out, widths[c]);
                    out.push(' ');
                }
            }
            if c + 1 < ncols {
                out.push('|');
            }
        }
        out.push('\n');
    }

    // Separator.
    out.push('-');
    for (c, w) in widths.iter().enumerate() {
        if c > 0 {
            out.push_str("-+-");
        }
        out.extend(std::iter::repeat_n('-', *w));
    }
    out.push('-');
    out.push('\n');

    // Data rows (a table with no columns prints no row lines at all, as psql does).
    if ncols > 0 {
        for row in &cell_lines {
            write_row(out, row, &widths, aligns);
        }
    }

    match rows.len() {
        1 => out.push_str("(1 row)\n\n"),
        n => {
            out.push_str(&format!("({n} rows)\n\n"));
        }
    }
}

fn write_row(out: &mut String, row: &[Vec<Line>], widths: &[usize], aligns: &[Align]) {
    let ncols = row.len();
    let height = row.iter().map(Vec::len).max().unwrap_or(1);
    for l in 0..height {
        for (c, lines) in row.iter().enumerate() {
            let last = c + 1 == ncols;
            out.push(' ');
            match lines.get(l) {
                Some(line) => {
                    let more = l + 1 < lines.len();
                    let pad = widths[c] - line.width;
                    if aligns.get(c) == Some(&Align::Right) {
                        spaces(out, pad);
                        out.push_str(&line.text);
                    } else {
                        out.push_str(&line.text);
                        if !last || more {
                            spaces(out, pad);
                        }
                    }
                    if more {
                        out.push('+');
                    } else if !last {
                        out.push(' ');
                    }
                }
                None => {
                    if !last {
                        spaces(out, widths[c]);
                        out.push(' ');
                    }
                }
            }
            if !last {
                out.push('|');
            }
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(headers: &[&str], aligns: &[Align], rows: &[&[Option<&str>]]) -> String {
        let headers: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
        let rows: Vec<Vec<Option<String>>> =
            rows.iter().map(|r| r.iter().map(|v| v.map(str::to_string)).collect()).collect();
        let mut out = String::new();
        write_aligned(&mut out, &headers, aligns, &rows);
        out
    }

    use Align::{Left as L, Right as R};

    #[test]
    fn simple_table_with_null() {
        let got =
            table(&["a", "longer_name", "n", "num"], &[R, L, R, R], &[&[Some("1"), Some("hello"), None, Some("1.5")]]);
        assert_eq!(
            got,
            " a | longer_name | n | num \n---+-------------+---+-----\n 1 | hello       |   | 1.5\n(1 row)\n\n"
        );
    }

    #[test]
    fn empty_result() {
        assert_eq!(table(&["a"], &[R], &[]), " a \n---\n(0 rows)\n\n");
    }

    #[test]
    fn no_columns() {
        assert_eq!(table(&[], &[], &[&[]]), "--\n(1 row)\n\n");
    }

    #[test]
    fn multiline_and_multibyte() {
        let got = table(
            &["x", "ml", "i"],
            &[L, L, R],
            &[&[Some("héllo wörld"), Some("a\nbcd"), Some("12")], &[Some("日本語"), Some("x"), Some("1234567")]],
        );
        let want = "      x      | ml  |    i    \n\
                    -------------+-----+---------\n \
                    héllo wörld | a  +|      12\n             \
                    | bcd | \n \
                    日本語      | x   | 1234567\n\
                    (2 rows)\n\n";
        assert_eq!(got, want);
    }

    #[test]
    fn multiline_header_and_trailing_newline() {
        let got = table(&["multi\nline", "nl2"], &[L, L], &[&[Some("x"), Some("\n")]]);
        assert_eq!(got, " multi+| nl2 \n line  |     \n-------+-----\n x     |    +\n       | \n(1 row)\n\n");
        let got = table(&["x", "y"], &[L, R], &[&[Some("ab\ncdef\n"), Some("1")]]);
        assert_eq!(got, "  x   | y \n------+---\n ab  +| 1\n cdef+| \n      | \n(1 row)\n\n");
    }
}
