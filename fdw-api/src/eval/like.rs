//! `LIKE` / `ILIKE` matching.
//!
//! A pattern is split at `%` into segments of literal characters and `_`; the first segment
//! is anchored at the start, the last at the end, and every middle one matches at its
//! leftmost position, which is optimal because a `%` can absorb anything in between. Pure
//! literal segments use a substring searcher built once per pattern (`memchr::memmem`, SIMD),
//! so `'%green%'` costs one search and no per-row setup.
//! The escape character (default backslash) makes the next character literal; a pattern
//! ending in it is PostgreSQL's `LIKE pattern must not end with escape character` (22025).
//! `ILIKE` lower-cases both sides (Unicode simple lower case).

use crate::error::{FdwError, FdwResult, SqlState};

#[derive(Clone, Debug)]
enum Seg {
    /// A literal and its searcher.
    Lit(String, memchr::memmem::Finder<'static>),
    /// Characters, `None` standing for `_`.
    Mixed(Vec<Option<char>>),
}

/// A compiled LIKE pattern.
#[derive(Clone, Debug)]
pub struct LikePattern {
    segs: Vec<Seg>,
    leading_pct: bool,
    trailing_pct: bool,
    any_pct: bool,
    case_insensitive: bool,
}

impl LikePattern {
    pub fn compile(pattern: &str, escape: Option<char>, case_insensitive: bool) -> FdwResult<LikePattern> {
        let pat: String = if case_insensitive { pattern.to_lowercase() } else { pattern.to_string() };
        let esc = escape.map(|c| if case_insensitive { c.to_lowercase().next().unwrap_or(c) } else { c });
        let mut segs = Vec::new();
        let mut cur: Vec<Option<char>> = Vec::new();
        let mut any_pct = false;
        let mut leading_pct = false;
        let mut trailing_pct = false;
        let mut chars = pat.chars().peekable();
        let mut first = true;
        let flush = |cur: &mut Vec<Option<char>>, segs: &mut Vec<Seg>| {
            if cur.is_empty() {
                return;
            }
            let seg = if cur.iter().all(|c| c.is_some()) {
                let lit: String = cur.iter().flatten().collect();
                let finder = memchr::memmem::Finder::new(lit.as_bytes()).into_owned();
                Seg::Lit(lit, finder)
            } else {
                Seg::Mixed(std::mem::take(cur))
            };
            cur.clear();
            segs.push(seg);
        };
        while let Some(c) = chars.next() {
            trailing_pct = false;
            if Some(c) == esc {
                match chars.next() {
                    Some(n) => cur.push(Some(n)),
                    None => {
                        return Err(FdwError::new(
                            SqlState::INVALID_ESCAPE_SEQUENCE,
                            "LIKE pattern must not end with escape character",
                        ))
                    }
                }
            } else if c == '%' {
                any_pct = true;
                if first {
                    leading_pct = true;
                }
                trailing_pct = true;
                flush(&mut cur, &mut segs);
            } else if c == '_' {
                cur.push(None);
            } else {
                cur.push(Some(c));
            }
            first = false;
        }
        flush(&mut cur, &mut segs);
        Ok(LikePattern { segs, leading_pct, trailing_pct, any_pct, case_insensitive })
    }

    /// Whether `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        if self.case_insensitive {
            let lower = text.to_lowercase();
            self.matches_prepared(&lower)
        } else {
            self.matches_prepared(text)
        }
    }

    fn matches_prepared(&self, text: &str) -> bool {
        if !self.any_pct {
            return match self.segs.first() {
                None => text.is_empty(),
                Some(seg) => match_at(seg, text, 0) == Some(text.len()),
            };
        }
        let mut segs: &[Seg] = &self.segs;
        let mut pos = 0;
        let mut end = text.len();
        if !self.leading_pct {
            let Some((first, rest)) = segs.split_first() else { return true };
            match match_at(first, text, 0) {
                Some(e) => pos = e,
                None => return false,
            }
            segs = rest;
        }
        if !self.trailing_pct {
            let Some((last, rest)) = segs.split_last() else { return pos == text.len() };
            match suffix_start(last, text) {
                Some(s) if s >= pos && match_at(last, text, s) == Some(text.len()) => end = s,
                _ => return false,
            }
            segs = rest;
        }
        let hay = &text[..end];
        for seg in segs {
            match find(seg, hay, pos) {
                Some(e) => pos = e,
                None => return false,
            }
        }
        true
    }
}

/// Matches `seg` at byte `pos`; the end offset on success.
fn match_at(seg: &Seg, text: &str, pos: usize) -> Option<usize> {
    let rest = text.get(pos..)?;
    match seg {
        Seg::Lit(l, _) => rest.starts_with(l.as_str()).then(|| pos + l.len()),
        Seg::Mixed(items) => {
            let mut it = rest.char_indices();
            for want in items {
                let (_, c) = it.next()?;
                if let Some(w) = want {
                    if *w != c {
                        return None;
                    }
                }
            }
            Some(pos + it.next().map_or(rest.len(), |(i, _)| i))
        }
    }
}

/// Leftmost match of `seg` at or after `from`; the end offset.
fn find(seg: &Seg, text: &str, from: usize) -> Option<usize> {
    match seg {
        // A match of a whole literal starts and ends on character boundaries.
        Seg::Lit(l, finder) => finder.find(text.get(from..)?.as_bytes()).map(|i| from + i + l.len()),
        Seg::Mixed(_) => {
            let rest = text.get(from..)?;
            for (i, _) in rest.char_indices() {
                if let Some(e) = match_at(seg, text, from + i) {
                    return Some(e);
                }
            }
            None
        }
    }
}

/// Where a trailing segment would have to start to end exactly at the end of `text`.
fn suffix_start(seg: &Seg, text: &str) -> Option<usize> {
    match seg {
        Seg::Lit(l, _) => text.len().checked_sub(l.len()).filter(|s| text.is_char_boundary(*s)),
        Seg::Mixed(items) => {
            let n = items.len();
            if n == 0 {
                return Some(text.len());
            }
            text.char_indices().rev().nth(n - 1).map(|(i, _)| i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn like(t: &str, p: &str) -> bool {
        LikePattern::compile(p, Some('\\'), false).unwrap().matches(t)
    }

    #[test]
    fn like_semantics() {
        assert!(like("abc", "abc"));
        assert!(!like("abcd", "abc"));
        assert!(like("abc", "a%"));
        assert!(like("abc", "%c"));
        assert!(like("abc", "%b%"));
        assert!(like("abc", "a_c"));
        assert!(!like("abc", "a_"));
        assert!(like("", "%"));
        assert!(!like("", "_"));
        assert!(like("a%c", "a\\%c"));
        assert!(!like("abc", "a\\%c"));
        assert!(like("special requests", "%special%requests%"));
        assert!(!like("requests special", "%special%requests%"));
        assert!(like("aXbXc", "a%b%c"));
        assert!(like("aa", "a%a"));
        assert!(!like("a", "a%a"));
        assert!(like("héllo", "h_llo"));
        assert!(like("PROMO BRUSHED", "PROMO%"));
        assert!(like("ab", "%_b"));
        assert!(like("abab", "%ab"));
        assert!(LikePattern::compile("ABC%", None, true).unwrap().matches("abcdef"));
        assert!(LikePattern::compile("a!%", Some('!'), false).unwrap().matches("a%"));
        let e = LikePattern::compile("ab\\", Some('\\'), false).unwrap_err();
        assert_eq!(e.message, "LIKE pattern must not end with escape character");
    }
}
