//! The server's session identifiers.

use std::fmt;
use std::str::FromStr;

/// A session identifier this server hands out (RFC 2326 section 3.4 allows any token; ours are
/// decimal integers, which the lab client parses with `int()`).
///
/// On the wire it is its decimal digits ([`fmt::Display`], [`FromStr`]). Zero is what a lab
/// client sends before it has a session, so it names none and is never handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(u64);

impl SessionId {
    /// The id with this number, or `None` for 0 (no session).
    pub const fn new(number: u64) -> Option<Self> {
        if number == 0 {
            None
        } else {
            Some(Self(number))
        }
    }

    /// The number (for logs and for spreading sessions over workers).
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A Session header value that is not one of our ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotOurSessionId;

impl fmt::Display for NotOurSessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a session id of this server (a non-zero decimal number)")
    }
}

impl std::error::Error for NotOurSessionId {}

impl FromStr for SessionId {
    type Err = NotOurSessionId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NotOurSessionId);
        }
        s.parse::<u64>()
            .ok()
            .and_then(Self::new)
            .ok_or(NotOurSessionId)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn decimal_on_the_wire_and_zero_is_no_session() {
        let id: SessionId = "1234567890123456".parse().unwrap();
        assert_eq!(id.get(), 1_234_567_890_123_456);
        assert_eq!(id.to_string(), "1234567890123456");
        assert_eq!(SessionId::new(0), None);
        for bad in ["0", "", "+5", "-5", "12a", "99999999999999999999", " 7"] {
            assert_eq!(bad.parse::<SessionId>(), Err(NotOurSessionId), "{bad:?}");
        }
    }
}
