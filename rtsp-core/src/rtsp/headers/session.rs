//! `Session` (RFC 2326 12.37).

use std::fmt;

use super::{Header, HeaderError};
use crate::rtsp::syntax::{parse_decimal, trim_ows};

/// A session identifier with an optional timeout in seconds: `id[;timeout=N]`.
///
/// Lab peers use a bare decimal number (`Session: 123456`); see [`Session::from_number`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Session {
    id: String,
    timeout: Option<u32>,
}

/// Characters of a session identifier. RFC 2326 allows `ALPHA | DIGIT | $ - _ . +`; other
/// visible characters seen in the wild are tolerated, except the separators `;` and `,`,
/// quotes and whitespace, so that the value always writes back unambiguously.
fn is_id_char(b: u8) -> bool {
    b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'"' | b'\\')
}

impl Session {
    /// The default timeout when a server announces none (RFC 2326 12.37).
    pub const DEFAULT_TIMEOUT_SECS: u32 = 60;

    /// A session with the given identifier and no announced timeout.
    pub fn new(id: &str) -> Result<Self, HeaderError> {
        if id.is_empty() {
            return Err(HeaderError::Empty { header: Self::NAME });
        }
        if !id.bytes().all(is_id_char) {
            return Err(HeaderError::malformed(
                Self::NAME,
                "invalid character in session id",
            ));
        }
        Ok(Self {
            id: id.to_owned(),
            timeout: None,
        })
    }

    /// A session whose identifier is a decimal number, as the lab dialect uses.
    pub fn from_number(id: u64) -> Self {
        Self {
            id: id.to_string(),
            timeout: None,
        }
    }

    /// Announces a timeout in seconds (`;timeout=N`).
    pub fn with_timeout(mut self, seconds: u32) -> Self {
        self.timeout = Some(seconds);
        self
    }

    /// The session identifier.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The announced timeout in seconds, if any.
    pub fn timeout(&self) -> Option<u32> {
        self.timeout
    }

    /// The identifier as a number, for lab peers that expect one.
    pub fn id_number(&self) -> Option<u64> {
        parse_decimal(&self.id)
    }
}

impl Header for Session {
    const NAME: &'static str = "Session";

    fn parse_value(value: &str) -> Result<Self, HeaderError> {
        let mut parts = value.split(';');
        let mut session = Self::new(trim_ows(parts.next().unwrap_or_default()))?;
        for param in parts {
            let param = trim_ows(param);
            if param.is_empty() {
                continue;
            }
            let (name, val) = param.split_once('=').unwrap_or((param, ""));
            // Only `timeout` is defined; other parameters are ignored (RFC 2326 says nothing
            // about them, and a client must not fail over a server's extension).
            if trim_ows(name).eq_ignore_ascii_case("timeout") {
                if session.timeout.is_some() {
                    return Err(HeaderError::malformed(Self::NAME, "duplicate timeout"));
                }
                let secs = parse_decimal(trim_ows(val)).ok_or(HeaderError::malformed(
                    Self::NAME,
                    "timeout is not a number",
                ))?;
                session.timeout = Some(
                    u32::try_from(secs)
                        .map_err(|_| HeaderError::OutOfRange { header: Self::NAME })?,
                );
            }
        }
        Ok(session)
    }
}

impl fmt::Display for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)?;
        if let Some(t) = self.timeout {
            write!(f, ";timeout={t}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_session() {
        let s: Session = "123456".parse().unwrap();
        assert_eq!(
            (s.id(), s.timeout(), s.id_number()),
            ("123456", None, Some(123456))
        );
        let s: Session = "abcDEF_-.+$;timeout=60".parse().unwrap();
        assert_eq!((s.id(), s.timeout()), ("abcDEF_-.+$", Some(60)));
        let s: Session = " 0A1B ; Timeout = 30 ;x=y".parse().unwrap();
        assert_eq!((s.id(), s.timeout()), ("0A1B", Some(30)));
        assert_eq!(s.to_string(), "0A1B;timeout=30");
    }

    #[test]
    fn reject_bad_sessions() {
        for bad in [
            "",
            ";timeout=5",
            "a b",
            "x;timeout=",
            "x;timeout=-1",
            "x;timeout=1;timeout=2",
        ] {
            assert!(bad.parse::<Session>().is_err(), "{bad}");
        }
        assert!(matches!(
            "x;timeout=99999999999".parse::<Session>(),
            Err(HeaderError::OutOfRange { .. })
        ));
        assert!(Session::new("a,b").is_err());
    }

    #[test]
    fn lab_numbers() {
        assert_eq!(Session::from_number(510307).to_string(), "510307");
        assert_eq!(
            Session::from_number(7).with_timeout(60).to_string(),
            "7;timeout=60"
        );
    }
}
