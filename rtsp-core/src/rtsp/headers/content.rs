//! `Content-Length` (RFC 2326 12.14) and `Content-Base` (12.11).

use std::fmt;

use super::{Header, HeaderError};
use crate::rtsp::syntax::{is_uri_text, parse_decimal, trim_ows};

/// The body length in bytes.
///
/// Parsing accepts any `1*DIGIT` that fits a `u64`; whether the size is acceptable is the
/// message parser's business ([`Limits::max_body_len`](crate::rtsp::Limits::max_body_len)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentLength(pub u64);

impl Header for ContentLength {
    const NAME: &'static str = "Content-Length";

    fn parse_value(value: &str) -> Result<Self, HeaderError> {
        let value = trim_ows(value);
        if value.is_empty() {
            return Err(HeaderError::Empty { header: Self::NAME });
        }
        if !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(HeaderError::malformed(Self::NAME, "not a decimal number"));
        }
        parse_decimal(value)
            .map(ContentLength)
            .ok_or(HeaderError::OutOfRange { header: Self::NAME })
    }
}

impl fmt::Display for ContentLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The base URL for relative URLs in the body (the SDP `a=control:` lines).
///
/// GStreamer resolves relative controls wrongly without it; send `rtsp://h:p/movie/` (with
/// the trailing slash).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContentBase(String);

impl ContentBase {
    /// A base URL: non-empty, no whitespace or control characters.
    pub fn new(url: &str) -> Result<Self, HeaderError> {
        if url.is_empty() {
            return Err(HeaderError::Empty { header: Self::NAME });
        }
        if !is_uri_text(url) {
            return Err(HeaderError::malformed(Self::NAME, "invalid URL"));
        }
        Ok(Self(url.to_owned()))
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Header for ContentBase {
    const NAME: &'static str = "Content-Base";

    fn parse_value(value: &str) -> Result<Self, HeaderError> {
        Self::new(trim_ows(value))
    }
}

impl fmt::Display for ContentBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length() {
        assert_eq!("0".parse::<ContentLength>(), Ok(ContentLength(0)));
        assert_eq!(" 42 ".parse::<ContentLength>(), Ok(ContentLength(42)));
        assert_eq!(
            "9223372036854775808".parse::<ContentLength>(),
            Ok(ContentLength(1 << 63))
        );
        assert!(matches!(
            "99999999999999999999".parse::<ContentLength>(),
            Err(HeaderError::OutOfRange { .. })
        ));
        for bad in ["", "-1", "+1", "1.0", "1e3", "0x10", "1 2", "five"] {
            assert!(bad.parse::<ContentLength>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn content_base() {
        let b: ContentBase = " rtsp://h:8554/movie/ ".parse().unwrap();
        assert_eq!(b.as_str(), "rtsp://h:8554/movie/");
        assert_eq!(b.to_string(), "rtsp://h:8554/movie/");
        assert!("".parse::<ContentBase>().is_err());
        assert!("rtsp://h/a b".parse::<ContentBase>().is_err());
    }
}
