//! Typed RTSP headers.
//!
//! Each type parses the value of its header (not the `Name:` part) with [`Header::parse`] or
//! [`str::parse`], and writes it back with `Display`. Parsing what `Display` wrote gives back an
//! equal value. Use them through [`Headers::typed`](super::Headers::typed) and
//! [`Headers::insert_typed`](super::Headers::insert_typed).

use std::fmt;

mod content;
mod cseq;
mod media_type;
mod public;
mod range;
mod rtp_info;
mod scale;
mod session;
mod transport;

pub use content::{ContentBase, ContentLength};
pub use cseq::CSeq;
pub use media_type::{Accept, ContentType, MediaType};
pub use public::Public;
pub use range::{NptTime, Range};
pub use rtp_info::{RtpInfo, RtpInfoEntry};
pub use scale::Scale;
pub use session::Session;
pub use transport::{Cast, ChannelRange, PortRange, Transport, TransportProtocol, TransportSpec};

/// A header with a typed value.
pub trait Header: Sized + fmt::Display {
    /// The canonical header name.
    const NAME: &'static str;
    /// Whether several lines of this header combine into one comma-separated list.
    const IS_LIST: bool = false;

    /// Parses a header value (surrounding whitespace is ignored).
    ///
    /// Control characters (other than HTAB) are refused here, for every header, because several
    /// headers keep parts of the value verbatim (unknown parameters, URLs, quoted strings): a
    /// value that parses must also be writable as a header again.
    fn parse(value: &str) -> Result<Self, HeaderError> {
        if !crate::rtsp::syntax::is_field_text(value) {
            return Err(HeaderError::malformed(
                Self::NAME,
                "control character in value",
            ));
        }
        Self::parse_value(value)
    }

    /// Parses a value already known to be free of control characters.
    fn parse_value(value: &str) -> Result<Self, HeaderError>;
}

/// A header value that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// The value is empty (or only separators).
    #[error("empty {header} header")]
    Empty {
        /// Header name.
        header: &'static str,
    },
    /// The value does not follow the header's grammar.
    #[error("malformed {header} header: {reason}")]
    Malformed {
        /// Header name.
        header: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A number does not fit its field.
    #[error("number out of range in {header} header")]
    OutOfRange {
        /// Header name.
        header: &'static str,
    },
    /// A port or port pair is not usable (0, above 65535, or a pair not in increasing order).
    #[error("invalid port in {header} header: {reason}")]
    InvalidPort {
        /// Header name.
        header: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A Range header in a unit other than `npt` (`clock`, `smpte`, ...).
    #[error("unsupported Range unit {unit:?}: only npt is supported")]
    UnsupportedRangeUnit {
        /// The unit as sent.
        unit: String,
    },
}

impl HeaderError {
    pub(crate) fn malformed(header: &'static str, reason: &'static str) -> Self {
        Self::Malformed { header, reason }
    }
}

/// Implements `FromStr` through [`Header::parse`].
macro_rules! from_str_via_header {
    ($($ty:ty),* $(,)?) => {
        $(impl std::str::FromStr for $ty {
            type Err = HeaderError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$ty as Header>::parse(s)
            }
        })*
    };
}

from_str_via_header!(
    CSeq,
    Session,
    Transport,
    Range,
    RtpInfo,
    Public,
    ContentType,
    ContentLength,
    ContentBase,
    Accept,
    Scale,
);

/// Splits a list header on commas outside quotes and drops empty elements (the HTTP `#rule`).
pub(crate) fn list_elements<'a>(
    header: &'static str,
    value: &'a str,
) -> Result<Vec<&'a str>, HeaderError> {
    let parts = crate::rtsp::syntax::split_outside_quotes(value, b',')
        .ok_or(HeaderError::malformed(header, "unterminated quoted string"))?;
    let parts: Vec<&str> = parts
        .into_iter()
        .map(crate::rtsp::syntax::trim_ows)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return Err(HeaderError::Empty { header });
    }
    Ok(parts)
}
