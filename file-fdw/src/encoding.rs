//! The `encoding` option: which file encodings are accepted, and how file bytes become the
//! UTF-8 text the rest of the scan works on.
//!
//! PostgreSQL accepts every encoding it knows and converts to the server encoding. We accept
//! the three that need no conversion table: `UTF8` and `SQL_ASCII` (both validated as UTF-8,
//! exactly what PostgreSQL does when the server encoding is UTF8 and the file is SQL_ASCII)
//! and `LATIN1` (each byte is one code point, converted while reading). Any other name that
//! PostgreSQL recognises gets a clear "not supported" error; a name PostgreSQL does not know
//! gets PostgreSQL's own error.

use fdw_api::{err, FdwError, FdwResult};

/// A file encoding file_fdw can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    SqlAscii,
    Latin1,
}

/// PostgreSQL's encoding names and aliases (`pg_encname_tbl`), normalised as PostgreSQL
/// does (lower case, only letters and digits), with the canonical name each stands for.
const KNOWN: &[(&str, &str)] = &[
    ("abc", "WIN1258"),
    ("alt", "WIN866"),
    ("big5", "BIG5"),
    ("euccn", "EUC_CN"),
    ("eucjis2004", "EUC_JIS_2004"),
    ("eucjp", "EUC_JP"),
    ("euckr", "EUC_KR"),
    ("euctw", "EUC_TW"),
    ("gb18030", "GB18030"),
    ("gbk", "GBK"),
    ("iso88591", "LATIN1"),
    ("iso885910", "LATIN6"),
    ("iso885913", "LATIN7"),
    ("iso885914", "LATIN8"),
    ("iso885915", "LATIN9"),
    ("iso885916", "LATIN10"),
    ("iso88592", "LATIN2"),
    ("iso88593", "LATIN3"),
    ("iso88594", "LATIN4"),
    ("iso88595", "ISO_8859_5"),
    ("iso88596", "ISO_8859_6"),
    ("iso88597", "ISO_8859_7"),
    ("iso88598", "ISO_8859_8"),
    ("iso88599", "LATIN5"),
    ("johab", "JOHAB"),
    ("koi8", "KOI8R"),
    ("koi8r", "KOI8R"),
    ("koi8u", "KOI8U"),
    ("latin1", "LATIN1"),
    ("latin10", "LATIN10"),
    ("latin2", "LATIN2"),
    ("latin3", "LATIN3"),
    ("latin4", "LATIN4"),
    ("latin5", "LATIN5"),
    ("latin6", "LATIN6"),
    ("latin7", "LATIN7"),
    ("latin8", "LATIN8"),
    ("latin9", "LATIN9"),
    ("mskanji", "SJIS"),
    ("muleinternal", "MULE_INTERNAL"),
    ("shiftjis", "SJIS"),
    ("shiftjis2004", "SHIFT_JIS_2004"),
    ("sjis", "SJIS"),
    ("sqlascii", "SQL_ASCII"),
    ("tcvn", "WIN1258"),
    ("tcvn5712", "WIN1258"),
    ("uhc", "UHC"),
    ("unicode", "UTF8"),
    ("utf8", "UTF8"),
    ("vscii", "WIN1258"),
    ("win", "WIN1251"),
    ("win1250", "WIN1250"),
    ("win1251", "WIN1251"),
    ("win1252", "WIN1252"),
    ("win1253", "WIN1253"),
    ("win1254", "WIN1254"),
    ("win1255", "WIN1255"),
    ("win1256", "WIN1256"),
    ("win1257", "WIN1257"),
    ("win1258", "WIN1258"),
    ("win866", "WIN866"),
    ("win874", "WIN874"),
    ("win932", "SJIS"),
    ("win936", "GBK"),
    ("win949", "UHC"),
    ("win950", "BIG5"),
    ("windows1250", "WIN1250"),
    ("windows1251", "WIN1251"),
    ("windows1252", "WIN1252"),
    ("windows1253", "WIN1253"),
    ("windows1254", "WIN1254"),
    ("windows1255", "WIN1255"),
    ("windows1256", "WIN1256"),
    ("windows1257", "WIN1257"),
    ("windows1258", "WIN1258"),
    ("windows866", "WIN866"),
    ("windows874", "WIN874"),
    ("windows932", "SJIS"),
    ("windows936", "GBK"),
    ("windows949", "UHC"),
    ("windows950", "BIG5"),
];

impl Encoding {
    /// Resolves an `encoding` option value: PostgreSQL's error for an unknown name, a
    /// feature-not-supported error for a known encoding we do not convert.
    pub fn lookup(name: &str) -> FdwResult<Encoding> {
        let key: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
        let canonical = KNOWN.iter().find(|(alias, _)| *alias == key).map(|(_, c)| *c).ok_or_else(|| {
            err!(INVALID_PARAMETER_VALUE, "argument to option \"encoding\" must be a valid encoding name")
        })?;
        match canonical {
            "UTF8" => Ok(Encoding::Utf8),
            "SQL_ASCII" => Ok(Encoding::SqlAscii),
            "LATIN1" => Ok(Encoding::Latin1),
            other => Err(err!(FEATURE_NOT_SUPPORTED, "file_fdw does not support encoding \"{}\"", other)
                .with_hint("Supported file encodings are UTF8, SQL_ASCII and LATIN1.")),
        }
    }
}

/// Appends the UTF-8 form of LATIN1 bytes (each byte is the code point of the same value).
pub fn latin1_to_utf8(src: &[u8], dst: &mut Vec<u8>) {
    dst.reserve(src.len() + src.len() / 8);
    for &b in src {
        if b < 0x80 {
            dst.push(b);
        } else {
            dst.push(0xC0 | (b >> 6));
            dst.push(0x80 | (b & 0x3F));
        }
    }
}

/// PostgreSQL's `invalid byte sequence for encoding "UTF8": 0xe9 0x20 0x62` (22021): the
/// bytes shown are as many as the first byte announces, cut at the end of the data.
pub fn invalid_utf8(bytes: &[u8]) -> FdwError {
    let want = match bytes.first() {
        Some(b) if b & 0xE0 == 0xC0 => 2,
        Some(b) if b & 0xF0 == 0xE0 => 3,
        Some(b) if b & 0xF8 == 0xF0 => 4,
        _ => 1,
    };
    let shown: Vec<String> = bytes.iter().take(want).map(|b| format!("0x{b:02x}")).collect();
    err!(CHARACTER_NOT_IN_REPERTOIRE, "invalid byte sequence for encoding \"UTF8\": {}", shown.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_names() {
        assert_eq!(Encoding::lookup("UTF-8").unwrap(), Encoding::Utf8);
        assert_eq!(Encoding::lookup("unicode").unwrap(), Encoding::Utf8);
        assert_eq!(Encoding::lookup("sql_ascii").unwrap(), Encoding::SqlAscii);
        assert_eq!(Encoding::lookup("ISO-8859-1").unwrap(), Encoding::Latin1);
        let e = Encoding::lookup("foo").unwrap_err();
        assert_eq!(e.message, "argument to option \"encoding\" must be a valid encoding name");
        assert_eq!(e.sqlstate.code(), "22023");
        let e = Encoding::lookup("win1252").unwrap_err();
        assert_eq!(e.message, "file_fdw does not support encoding \"WIN1252\"");
        assert_eq!(e.sqlstate.code(), "0A000");
    }

    #[test]
    fn latin1_conversion() {
        let mut out = Vec::new();
        latin1_to_utf8(b"ab\xe9\xff", &mut out);
        assert_eq!(std::str::from_utf8(&out).unwrap(), "ab\u{e9}\u{ff}");
    }

    #[test]
    fn invalid_bytes_message() {
        assert_eq!(invalid_utf8(b"\xe9 b,c").message, "invalid byte sequence for encoding \"UTF8\": 0xe9 0x20 0x62");
        assert_eq!(invalid_utf8(b"\xff\n").message, "invalid byte sequence for encoding \"UTF8\": 0xff");
        assert_eq!(invalid_utf8(b"\xe9").message, "invalid byte sequence for encoding \"UTF8\": 0xe9");
    }
}
