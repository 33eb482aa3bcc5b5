//! The client's error type.

use std::time::Duration;

use super::event::State;

/// Why a client operation failed.
///
/// Cheap to clone (it travels inside [`super::Event::Error`] as well as in `Result`s).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The URL or lab target could not be understood.
    #[error("bad URL or target: {0}")]
    BadUrl(String),
    /// The server refused the TCP connection (nothing listens on that port).
    #[error("connection to {0} refused")]
    ConnectionRefused(String),
    /// Any other socket failure.
    #[error("I/O error: {0}")]
    Io(String),
    /// No reply arrived in time. The lab's Python server answers errors (for example an unknown
    /// file) with silence, so for a lab server this usually means "not found".
    #[error("no reply to {method} within {} ms{}", timeout.as_millis(),
        if *lab { " (the lab server answers errors with silence: is the file name right?)" } else { "" })]
    Timeout {
        /// The request that got no answer.
        method: String,
        /// How long the client waited.
        timeout: Duration,
        /// Whether the peer speaks the lab dialect (changes the hint in the message).
        lab: bool,
    },
    /// The server answered with a non-2xx status.
    #[error("server answered {method} with {code} {reason}")]
    Status {
        /// The request.
        method: String,
        /// The status code.
        code: u16,
        /// The reason phrase.
        reason: String,
    },
    /// The server knows who the client is and refuses the request all the same (403
    /// Forbidden): for example a user allowed to read a path but not to publish it. Other
    /// credentials may help, retrying the same ones will not.
    #[error("{method} forbidden by the server: {reason}")]
    Forbidden {
        /// The refused request.
        method: String,
        /// Why: the server's explanation (its `text/plain` body, printable characters only,
        /// at most 200 of them), else its reason phrase.
        reason: String,
    },
    /// The server requires authentication and refused the credentials (or none were given,
    /// or it asks for a scheme this client does not speak).
    #[error("{method}: the server requires authentication (realm {realm:?}) and {}",
        if *had_credentials { "refused the credentials" } else { "no credentials were given" })]
    Unauthorized {
        /// The refused request.
        method: String,
        /// The realm the server named ("" if none).
        realm: String,
        /// Whether the client had credentials to offer.
        had_credentials: bool,
    },
    /// The reply could not be parsed or contradicts the request (wrong CSeq, missing Session...).
    #[error("malformed reply: {0}")]
    MalformedReply(String),
    /// The method cannot be sent in the current state (for example PLAY before SETUP).
    #[error("{method} is not allowed in state {state}")]
    BadState {
        /// The request that was refused locally.
        method: String,
        /// The state the session was in.
        state: State,
    },
    /// The server closed the RTSP connection.
    #[error("the server closed the connection")]
    Closed,
    /// PLAYING, but no RTP or RTCP packet arrived for [`super::ClientConfig::media_timeout`]: the
    /// server or the path to it stalled without closing the connection. Reported once per
    /// silence; the session stays up.
    #[error("no media for {} ms while playing (the server or the network stalled)", silent.as_millis())]
    Stalled {
        /// How long nothing had arrived when this was reported.
        silent: Duration,
    },
    /// The server offers nothing this client can play (no JPEG video track, unknown transport...).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// `rtsps://`: the server's certificate was refused (not signed by a trusted CA, expired,
    /// for another name...). [`super::ClientConfig::certificate_check`] says what is trusted.
    #[error("the server's TLS certificate is not trusted: {0}")]
    UntrustedCertificate(String),
    /// `rtsps://`: TLS failed otherwise (no common protocol version or cipher, a CA file that
    /// cannot be read, the server does not speak TLS...).
    #[error("TLS failed: {0}")]
    Tls(String),
    /// The server kept redirecting (3xx with `Location`): more than
    /// [`super::MAX_REDIRECTS`] before a session was set up, a loop most likely.
    #[error("{method}: redirected {limit} times before a session was set up, last to {location}; giving up (a redirect loop?)")]
    TooManyRedirects {
        /// The request that was redirected.
        method: String,
        /// How many redirects were followed.
        limit: u32,
        /// Where the last redirect pointed (without userinfo).
        location: String,
    },
    /// The client was shut down (freed or torn down) while the operation was pending.
    #[error("the client has shut down")]
    Shutdown,
}

impl ClientError {
    /// Builds an [`ClientError::Io`] or [`ClientError::ConnectionRefused`] from a socket error.
    pub(crate) fn from_io(err: &std::io::Error, peer: &str) -> Self {
        match err.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                ClientError::ConnectionRefused(peer.to_owned())
            }
            std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::BrokenPipe => ClientError::Closed,
            _ => ClientError::Io(format!("{peer}: {err}")),
        }
    }
}
