//! Errors raised while building messages in memory (as opposed to parsing them off the wire).

/// A value handed to a message builder would make the written message malformed.
///
/// Builders validate eagerly so that [`Request::write`](super::Request::write) and
/// [`Response::write`](super::Response::write) can be infallible: anything that made it into a
/// message is known to serialize into a well-formed one (no CR/LF injection, no bad tokens).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A method must be an RFC 2326 `token`.
    #[error("invalid method token {0:?}")]
    InvalidMethod(String),
    /// A request-URI must be non-empty and free of whitespace and control characters.
    #[error("invalid request-URI {0:?}")]
    InvalidUri(String),
    /// A version must be `RTSP/<major>.<minor>`.
    #[error("invalid RTSP version {0:?}")]
    InvalidVersion(String),
    /// A reason phrase must not contain control characters.
    #[error("invalid reason phrase {0:?}")]
    InvalidReason(String),
    /// A header name must be a `token`.
    #[error("invalid header name {0:?}")]
    InvalidHeaderName(String),
    /// A header value must not contain CR, LF or other control characters.
    #[error("invalid value for header {0}")]
    InvalidHeaderValue(String),
    /// The lab reply writes this header itself at a fixed position.
    #[error("header {0} is written by the lab reply itself")]
    ReservedHeader(String),
    /// An interleaved frame carries at most 65535 bytes (16-bit length field).
    #[error("interleaved payload of {0} bytes does not fit the 16-bit length field")]
    PayloadTooLarge(usize),
}
