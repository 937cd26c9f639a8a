//! Client-side output formats: psql's aligned table and `--csv`, plus what to print for a
//! statement that returns no rows (its command tag) and for an error (`ERROR:  ...` with
//! DETAIL/HINT/CONTEXT lines, as psql prints them at default verbosity).

pub mod aligned;
pub mod cell;
pub mod csv;

use envelope::{DataType, Error, QueryResult};

pub use aligned::{write_aligned, Align};
pub use csv::write_csv;

/// Output format of the `sql` command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Aligned,
    Csv,
}

/// psql right-aligns the numeric types (int2/4/8, float4/8, numeric) and left-aligns the rest.
pub fn align_for(ty: &DataType) -> Align {
    if ty.is_numeric() {
        Align::Right
    } else {
        Align::Left
    }
}

/// The rows of a result as text (`None` for NULL).
pub fn text_rows(result: &QueryResult) -> Vec<Vec<Option<String>>> {
    result.rows.iter().map(|row| row.iter().map(|d| (!d.is_null()).then(|| d.to_text())).collect()).collect()
}

/// What psql prints on stdout for one successful statement: the table for a statement that
/// returns rows, else the command tag on its own line.
pub fn format_result(result: &QueryResult, format: Format) -> String {
    let mut out = String::new();
    if !result.returns_rows {
        out.push_str(&result.tag);
        out.push('\n');
        return out;
    }
    let headers: Vec<String> = result.columns.iter().map(|c| c.name.clone()).collect();
    let rows = text_rows(result);
    match format {
        Format::Aligned => {
            let aligns: Vec<Align> = result.columns.iter().map(|c| align_for(&c.ty)).collect();
            write_aligned(&mut out, &headers, &aligns, &rows);
        }
        Format::Csv => write_csv(&mut out, &headers, &rows),
    }
    out
}

/// What psql prints on stderr for an error at default verbosity.
pub fn format_error(err: &Error) -> String {
    let mut out = format!("ERROR:  {}\n", err.message);
    if let Some(d) = &err.detail {
        out.push_str(&format!("DETAIL:  {d}\n"));
    }
    if let Some(h) = &err.hint {
        out.push_str(&format!("HINT:  {h}\n"));
    }
    // psql prints the whole context stack (innermost first) under one CONTEXT label.
    if !err.context.is_empty() {
        out.push_str(&format!("CONTEXT:  {}\n", err.context.join("\n")));
    }
    out
}

/// What psql prints on stderr for a notice (`NOTICE:  relation "t" already exists, skipping`).
pub fn format_notice(message: &str) -> String {
    format!("NOTICE:  {message}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use envelope::{Column, Datum, SqlState};

    #[test]
    fn command_tag_for_statements_without_rows() {
        let r = QueryResult { tag: "CREATE FOREIGN TABLE".into(), ..Default::default() };
        assert_eq!(format_result(&r, Format::Aligned), "CREATE FOREIGN TABLE\n");
        assert_eq!(format_result(&r, Format::Csv), "CREATE FOREIGN TABLE\n");
    }

    #[test]
    fn numeric_columns_are_right_aligned() {
        let r = QueryResult {
            columns: vec![
                Column { name: "number".into(), ty: DataType::Int4 },
                Column { name: "word".into(), ty: DataType::Text },
            ],
            rows: vec![vec![Datum::Int4(7), Datum::text("x")], vec![Datum::Null, Datum::Null]],
            tag: "SELECT 2".into(),
            notices: vec![],
            returns_rows: true,
        };
        assert_eq!(
            format_result(&r, Format::Aligned),
            " number | word \n--------+------\n      7 | x\n        | \n(2 rows)\n\n"
        );
        assert_eq!(format_result(&r, Format::Csv), "number,word\n7,x\n,\n");
    }

    #[test]
    fn error_with_detail_hint_context() {
        let e = Error::new(SqlState::BAD_COPY_FILE_FORMAT, "missing data for column \"b\"")
            .with_detail("d")
            .with_hint("h")
            .with_context("COPY agg_bad, line 1: \"1\"");
        assert_eq!(
            format_error(&e),
            "ERROR:  missing data for column \"b\"\nDETAIL:  d\nHINT:  h\nCONTEXT:  COPY agg_bad, line 1: \"1\"\n"
        );
    }
}
