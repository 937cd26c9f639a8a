//! psql's `--csv` output, byte for byte.
//!
//! A header line of column names, then one line per row; no footer. A field is quoted (with
//! `"` doubled) when it contains the delimiter, a quote, CR or LF, or is exactly `\.` (which
//! COPY would read as end-of-data); leading and trailing spaces are not quoted. NULL and the
//! empty string both print as an empty field, as in psql.

/// Appends one field to `out`, quoted if psql would quote it.
pub fn write_field(out: &mut String, value: &str) {
    let needs_quotes = value == "\\." || value.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'));
    if !needs_quotes {
        out.push_str(value);
        return;
    }
    out.push('"');
    for c in value.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

/// Appends the header line and the rows.
pub fn write_csv(out: &mut String, headers: &[String], rows: &[Vec<Option<String>>]) {
    write_line(out, headers.iter().map(|h| Some(h.as_str())));
    for row in rows {
        write_line(out, row.iter().map(|v| v.as_deref()));
    }
}

fn write_line<'a>(out: &mut String, fields: impl Iterator<Item = Option<&'a str>>) {
    for (i, f) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        if let Some(f) = f {
            write_field(out, f);
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_follows_psql() {
        let headers: Vec<String> =
            ["a", "e", "n", "l", "t", "c", "q", "nl", "cr", "bs", "tb", "x"].iter().map(|s| s.to_string()).collect();
        let row: Vec<Option<String>> =
            [Some("1"), Some(""), None, Some(" lead"), Some("trail "), Some("a,b"), Some("q\"q"), Some("x\ny")]
                .into_iter()
                .chain([Some("x\ry"), Some("\\."), Some("tab\there"), Some("\\.x")])
                .map(|v| v.map(str::to_string))
                .collect();
        let mut out = String::new();
        write_csv(&mut out, &headers, &[row]);
        assert_eq!(
            out,
            "a,e,n,l,t,c,q,nl,cr,bs,tb,x\n1,,, lead,trail ,\"a,b\",\"q\"\"q\",\"x\ny\",\"x\ry\",\"\\.\",tab\there,\\.x\n"
        );
    }

    #[test]
    fn header_names_are_quoted_too() {
        let mut out = String::new();
        write_csv(&mut out, &["a,b".to_string(), "x\"y".to_string()], &[vec![Some("1".into()), Some("2".into())]]);
        assert_eq!(out, "\"a,b\",\"x\"\"y\"\n1,2\n");
    }
}
