//! Lexical helpers shared by the message parser, the writer and the typed headers.
//!
//! The grammar is RFC 2326 section 15, which borrows `token`, `quoted-string` and linear
//! whitespace from HTTP/1.1.

use std::fmt;

/// Longest excerpt of peer-controlled text kept inside an error value, so that errors stay small.
const EXCERPT_LEN: usize = 64;

/// `tchar` of RFC 7230: the characters allowed in a method, a header name or a parameter name.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A non-empty run of [`is_tchar`] characters.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// Strips spaces and horizontal tabs on both ends (HTTP "optional whitespace").
pub(crate) fn trim_ows(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t')
}

/// Text that may appear in a header value or a reason phrase: no control characters except HTAB.
/// CR and LF in particular are refused, which is what keeps the writer from ever emitting a
/// header that splits into two.
pub(crate) fn is_field_text(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// A request-URI or URL: non-empty, no whitespace and no control characters.
pub(crate) fn is_uri_text(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b > 0x20 && b != 0x7f)
}

/// A short, char-boundary-safe prefix of `s` for error values.
pub(crate) fn excerpt(s: &str) -> String {
    match s.char_indices().nth(EXCERPT_LEN) {
        Some((idx, _)) => s.get(..idx).unwrap_or_default().to_owned(),
        None => s.to_owned(),
    }
}

/// Parses `1*DIGIT` into a `u64`: no sign, no whitespace, no overflow.
pub(crate) fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.bytes().try_fold(0u64, |acc, b| {
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// Splits `s` on `sep`, ignoring separators inside double-quoted strings (with backslash
/// escapes). Returns `None` when a quoted string is not terminated.
pub(crate) fn split_outside_quotes(s: &str, sep: u8) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_quotes = false;
            }
        } else if b == b'"' {
            in_quotes = true;
        } else if b == sep {
            // `sep` is ASCII, so `i` is a char boundary.
            parts.push(s.get(start..i)?);
            start = i + 1;
        }
    }
    if in_quotes {
        return None;
    }
    parts.push(s.get(start..)?);
    Some(parts)
}

/// Removes the quotes and escapes of a quoted string; returns plain tokens unchanged.
/// Returns `None` for a malformed quoted string.
pub(crate) fn unquote(s: &str) -> Option<String> {
    let Some(inner) = s.strip_prefix('"') else {
        return Some(s.to_owned());
    };
    let inner = inner.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// Writes `v` as a token when it is one, as a quoted string otherwise.
pub(crate) fn write_token_or_quoted(f: &mut fmt::Formatter<'_>, v: &str) -> fmt::Result {
    if is_token(v) {
        return f.write_str(v);
    }
    f.write_str("\"")?;
    for c in v.chars() {
        if c == '"' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert!(is_token("GET_PARAMETER"));
        assert!(is_token("CSeq"));
        assert!(!is_token(""));
        assert!(!is_token("RTSP/1.0"));
        assert!(!is_token("a b"));
        assert!(!is_token("Version "));
    }

    #[test]
    fn decimal() {
        assert_eq!(parse_decimal("0"), Some(0));
        assert_eq!(parse_decimal("007"), Some(7));
        assert_eq!(parse_decimal("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_decimal("18446744073709551616"), None);
        assert_eq!(parse_decimal("-1"), None);
        assert_eq!(parse_decimal("+1"), None);
        assert_eq!(parse_decimal(""), None);
        assert_eq!(parse_decimal("1 "), None);
    }

    #[test]
    fn split_respects_quotes() {
        assert_eq!(
            split_outside_quotes(r#"a;mode="PLAY;RECORD";b"#, b';'),
            Some(vec!["a", r#"mode="PLAY;RECORD""#, "b"])
        );
        assert_eq!(
            split_outside_quotes(r#"x="a\";b";c"#, b';'),
            Some(vec![r#"x="a\";b""#, "c"])
        );
        assert_eq!(split_outside_quotes(r#"a;"b"#, b';'), None);
        assert_eq!(split_outside_quotes("", b','), Some(vec![""]));
    }

    #[test]
    fn unquoting() {
        assert_eq!(unquote("PLAY").as_deref(), Some("PLAY"));
        assert_eq!(unquote("\"PLAY\"").as_deref(), Some("PLAY"));
        assert_eq!(unquote(r#""a\"b""#).as_deref(), Some("a\"b"));
        assert_eq!(unquote("\"").as_deref(), None);
        assert_eq!(unquote("\"a\"b\"").as_deref(), None);
        assert_eq!(unquote("\"a\\\"").as_deref(), None);
    }

    #[test]
    fn excerpt_is_char_safe() {
        let long = "é".repeat(100);
        assert_eq!(excerpt(&long).chars().count(), EXCERPT_LEN);
        assert_eq!(excerpt("short"), "short");
    }
}
