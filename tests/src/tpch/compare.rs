//! Comparing a TPC-H answer with PostgreSQL's (a `psql --csv` fixture or a live result).
//!
//! Values compare as text, exactly as psql prints them (numeric to the last digit). Column
//! names must match. Rows compare in order, except where the ORDER BY leaves the order open:
//! rows with equal sort keys (a tie group) compare as multisets, since PostgreSQL may return
//! them in any order. When a LIMIT cuts through the last tie group, which of its rows make the
//! cut is not determined either, so for that group only the sort keys are compared.

use std::collections::BTreeMap;

use super::queries::{Answer, Ordering};

/// Parses `psql --csv` output: a header line, then rows (quoted fields may hold commas, quotes
/// and newlines; NULL and the empty string are both empty).
pub fn parse_csv(text: &str) -> Result<Answer, String> {
    let mut records: Vec<Vec<String>> = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut in_quotes = false;
    let mut pending = false; // a record has started
    while let Some(c) = chars.next() {
        pending = true;
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                pending = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err("unterminated quoted field".into());
    }
    if pending {
        record.push(field);
        records.push(record);
    }
    let mut records = records.into_iter();
    let columns = records.next().ok_or("empty CSV: no header line")?;
    let rows: Vec<Vec<String>> = records.collect();
    if let Some(bad) = rows.iter().position(|r| r.len() != columns.len()) {
        return Err(format!("row {} has {} fields, the header {}", bad + 1, rows[bad].len(), columns.len()));
    }
    Ok(Answer { columns, rows })
}

/// Checks `actual` against `expected`; the error says what differs first.
pub fn compare(expected: &Answer, actual: &Answer, ordering: Ordering) -> Result<(), String> {
    if expected.columns != actual.columns {
        return Err(format!("columns differ: expected {:?}, got {:?}", expected.columns, actual.columns));
    }
    if expected.rows.len() != actual.rows.len() {
        return Err(format!(
            "expected {} rows, got {}{}",
            expected.rows.len(),
            actual.rows.len(),
            first_difference(&expected.rows, &actual.rows)
        ));
    }
    let key = |row: &[String]| -> Vec<String> { ordering.keys.iter().map(|&k| row[k].clone()).collect() };
    let truncated = ordering.limit.is_some_and(|l| expected.rows.len() == l);
    let mut start = 0;
    while start < expected.rows.len() {
        let group_key = key(&expected.rows[start]);
        let end = start + expected.rows[start..].iter().take_while(|r| key(r) == group_key).count();
        let (exp, act) = (&expected.rows[start..end], &actual.rows[start..end]);
        if let Some(i) = act.iter().position(|r| key(r) != group_key) {
            return Err(format!(
                "row {}: expected {:?}, got {:?} (ORDER BY keys differ)",
                start + i + 1,
                expected.rows[start + i],
                act[i]
            ));
        }
        let last_cut = truncated && end == expected.rows.len();
        if end - start == 1 || ordering.keys.is_empty() {
            if exp != act && !last_cut {
                return Err(format!("rows {}..{}{}", start + 1, end, first_difference(exp, act)));
            }
        } else if !last_cut && multiset(exp) != multiset(act) {
            return Err(format!(
                "rows {}..{} (equal ORDER BY keys {:?}, compared as multisets) differ{}",
                start + 1,
                end,
                group_key,
                first_difference(&sorted(exp), &sorted(act))
            ));
        }
        start = end;
    }
    Ok(())
}

fn multiset(rows: &[Vec<String>]) -> BTreeMap<&Vec<String>, usize> {
    let mut m = BTreeMap::new();
    for r in rows {
        *m.entry(r).or_insert(0) += 1;
    }
    m
}

fn sorted(rows: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut v = rows.to_vec();
    v.sort();
    v
}

fn first_difference(expected: &[Vec<String>], actual: &[Vec<String>]) -> String {
    let n = expected.len().max(actual.len());
    (0..n)
        .find(|&i| expected.get(i) != actual.get(i))
        .map(|i| {
            format!(": first difference at row {}: expected {:?}, got {:?}", i + 1, expected.get(i), actual.get(i))
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(rows: &[&[&str]]) -> Answer {
        Answer {
            columns: vec!["k".into(), "v".into()],
            rows: rows.iter().map(|r| r.iter().map(|s| s.to_string()).collect()).collect(),
        }
    }

    #[test]
    fn csv_quotes_and_header() {
        let a = parse_csv("a,b\n\"x, y\",\"say \"\"hi\"\"\"\n,2\n").unwrap();
        assert_eq!(a.columns, ["a", "b"]);
        assert_eq!(a.rows, [vec!["x, y".to_string(), "say \"hi\"".into()], vec![String::new(), "2".into()]]);
        assert!(parse_csv("a,b\n1\n").is_err());
        assert_eq!(parse_csv("a\n").unwrap().rows.len(), 0);
    }

    #[test]
    fn ties_compare_as_multisets_but_order_of_keys_counts() {
        let by_k = Ordering { keys: &[0], limit: None };
        let exp = answer(&[&["1", "a"], &["1", "b"], &["2", "c"]]);
        assert!(compare(&exp, &answer(&[&["1", "b"], &["1", "a"], &["2", "c"]]), by_k).is_ok());
        assert!(compare(&exp, &answer(&[&["2", "c"], &["1", "a"], &["1", "b"]]), by_k).is_err());
        assert!(compare(&exp, &answer(&[&["1", "a"], &["1", "a"], &["2", "c"]]), by_k).is_err());
        assert!(compare(&exp, &answer(&[&["1", "a"], &["1", "b"], &["2", "c.0"]]), by_k).is_err());
        // No ORDER BY keys: the rows must be equal in order (single-row answers).
        assert!(compare(&exp, &answer(&[&["1", "b"], &["1", "a"], &["2", "c"]]), Ordering { keys: &[], limit: None })
            .is_err());
    }

    #[test]
    fn limit_cutting_a_tie_group_compares_its_keys_only() {
        let limited = Ordering { keys: &[0], limit: Some(3) };
        let exp = answer(&[&["1", "a"], &["2", "b"], &["2", "c"]]);
        assert!(compare(&exp, &answer(&[&["1", "a"], &["2", "d"], &["2", "b"]]), limited).is_ok());
        assert!(compare(&exp, &answer(&[&["1", "x"], &["2", "d"], &["2", "b"]]), limited).is_err());
        assert!(compare(&exp, &answer(&[&["1", "a"], &["2", "d"], &["2", "b"]]), Ordering { limit: None, ..limited })
            .is_err());
    }

    #[test]
    fn column_names_and_counts() {
        let exp = answer(&[&["1", "a"]]);
        let mut other = exp.clone();
        other.columns[1] = "w".into();
        assert!(compare(&exp, &other, Ordering { keys: &[], limit: None }).unwrap_err().contains("columns differ"));
        let err = compare(&exp, &answer(&[]), Ordering { keys: &[], limit: None }).unwrap_err();
        assert!(err.starts_with("expected 1 rows, got 0"), "{err}");
    }
}
