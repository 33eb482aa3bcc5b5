//! Sans-I/O server side: the per-session state machine and the rules that turn requests into
//! outcomes.
//!
//! Nothing here opens a socket, reads a clock or touches a file, except in [`runtime`]: the
//! threaded server (in this crate, so that the `rtsp-server` binary, the C ABI and the Python
//! bindings run the same one). The runtime parses a request, looks up what it needs (the
//! session, the media), hands the pieces to this module and gets back either an accepted [`Transition`] with an [`Effect`] to carry out, or a
//! [`Refusal`] that maps to exactly one RFC 2326 status code.
//!
//! - [`state`]: INIT / READY / PLAYING and the full state x command table.
//! - [`describe`]: a DESCRIBE reply's SDP and Content-Base.
//! - [`prepare`]: a file's frames packetized (RFC 2435) and fitted to lab datagrams at load.
//! - [`pacing`]: the frame deadline grid (slot `n` at `start + n / fps`) and RTP ticks.
//! - [`seek`]: npt and the lab's FORWARD / BACKWARD / RESTART mapped to frame indices.
//! - [`target`]: request-URI to presentation name, refusing anything that would leave the media
//!   root.
//! - [`request`]: a parsed request checked and reduced to an [`Intent`] (the checks that need
//!   no state, in the order that yields the most useful status code), and which session it
//!   applies to.
//! - [`transport`]: SETUP transport negotiation and the reply's Transport header.
//! - [`reply`]: replies written in the client's dialect (RFC 2326, or the lab's fixed shape).
//! - [`publish`]: ANNOUNCE (the description checked), SETUP `mode=record` and RECORD; off
//!   unless [`publish::PublishConfig::publish`] is set.
//! - [`http`]: requests of the web and metrics listeners (httparse) and what they name.
//! - [`ingest`]: a published stream's RTP packets to whole JPEG frames, dropping and counting
//!   garbage, other sources, oversized frames and floods.
//! - [`relay`]: when a relayed path's upstream is connected, let go and retried, and how long
//!   a reader waits for its first frame.
//! - [`redirect`]: which DESCRIBE and SETUP requests get `302` and where to (a moved path, or
//!   an edge once the server holds too many sessions).
//!
//! A server's request path is then: [`request::classify`] -> [`request::applies_to`] -> look
//! up the session and media ->
//! [`SessionMachine::apply`] (or [`transport::choose`] for SETUP) -> carry out the [`Effect`]
//! -> [`Reply::to_bytes`]. Every refusal on the way is a [`Refusal`], written with
//! [`Reply::refusal`].

pub mod describe;
pub mod http;
pub mod ingest;
pub mod pacing;
pub mod prepare;
pub mod publish;
pub mod redirect;
pub mod relay;
pub mod reply;
pub mod request;
#[cfg(feature = "runtime")]
pub mod runtime;
pub mod seek;
mod session_id;
pub mod state;
pub mod target;
pub mod transport;

pub use reply::Reply;
pub use request::{classify, Incoming, Intent};
pub use seek::{NptRange, NptStart};
pub use session_id::{NotOurSessionId, SessionId};
pub use state::{Command, Effect, Playhead, SessionMachine, SessionState, Transition};
pub use target::Target;
pub use transport::{Chosen, Route};

use std::fmt;

/// Why a request is refused; each variant has one RFC 2326 status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 400: the request is malformed; the text says how.
    BadRequest(&'static str),
    /// 404: unknown presentation, or one outside the media root (not distinguished, so the
    /// reply does not reveal which files exist outside the root).
    NotFound,
    /// 405: a method RTSP defines but this server does not allow (ANNOUNCE, RECORD, ...).
    MethodNotAllowed,
    /// 415: the file exists but RFC 2435 cannot carry it; the text says why.
    UnsupportedMedia(&'static str),
    /// 451: SET_PARAMETER / GET_PARAMETER naming parameters we do not have.
    ParameterNotUnderstood,
    /// 454: the Session header names no session (or one owned by another peer).
    SessionNotFound,
    /// 455: the method cannot be applied in the session's state.
    MethodNotValidInState {
        /// The refused method.
        method: &'static str,
        /// The state the session was in.
        state: SessionState,
    },
    /// 457: the Range start is outside the presentation.
    InvalidRange,
    /// 459: SETUP of a different presentation into an existing session.
    AggregateNotAllowed,
    /// 460: a session-level request on a URL that is not the session's presentation.
    OnlyAggregateAllowed,
    /// 461: none of the requested transports can be served.
    UnsupportedTransport,
    /// 500: the server failed in a way retrying will not mend.
    Internal(&'static str),
    /// 501: a method this server does not know.
    NotImplemented,
    /// 503: out of a resource for now: the session limit, file descriptors, UDP ports.
    ServiceUnavailable,
    /// 505: an RTSP version other than 1.0 (or the lab's 1.4).
    VersionNotSupported,
}

/// [`Refusal`] without its payload, for matching in tests and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalKind {
    /// 400: see [`Refusal::BadRequest`].
    BadRequest,
    /// 404: see [`Refusal::NotFound`].
    NotFound,
    /// 405: see [`Refusal::MethodNotAllowed`].
    MethodNotAllowed,
    /// 415: see [`Refusal::UnsupportedMedia`].
    UnsupportedMedia,
    /// 451: see [`Refusal::ParameterNotUnderstood`].
    ParameterNotUnderstood,
    /// 454: see [`Refusal::SessionNotFound`].
    SessionNotFound,
    /// 455: see [`Refusal::MethodNotValidInState`].
    MethodNotValidInState,
    /// 457: see [`Refusal::InvalidRange`].
    InvalidRange,
    /// 459: see [`Refusal::AggregateNotAllowed`].
    AggregateNotAllowed,
    /// 460: see [`Refusal::OnlyAggregateAllowed`].
    OnlyAggregateAllowed,
    /// 461: see [`Refusal::UnsupportedTransport`].
    UnsupportedTransport,
    /// 500: see [`Refusal::Internal`].
    Internal,
    /// 501: see [`Refusal::NotImplemented`].
    NotImplemented,
    /// 503: see [`Refusal::ServiceUnavailable`].
    ServiceUnavailable,
    /// 505: see [`Refusal::VersionNotSupported`].
    VersionNotSupported,
}

impl Refusal {
    /// The RFC 2326 status code.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::UnsupportedMedia(_) => 415,
            Self::ParameterNotUnderstood => 451,
            Self::SessionNotFound => 454,
            Self::MethodNotValidInState { .. } => 455,
            Self::InvalidRange => 457,
            Self::AggregateNotAllowed => 459,
            Self::OnlyAggregateAllowed => 460,
            Self::UnsupportedTransport => 461,
            Self::Internal(_) => 500,
            Self::NotImplemented => 501,
            Self::ServiceUnavailable => 503,
            Self::VersionNotSupported => 505,
        }
    }

    /// The payload-free kind.
    pub fn kind(&self) -> RefusalKind {
        match self {
            Self::BadRequest(_) => RefusalKind::BadRequest,
            Self::NotFound => RefusalKind::NotFound,
            Self::MethodNotAllowed => RefusalKind::MethodNotAllowed,
            Self::UnsupportedMedia(_) => RefusalKind::UnsupportedMedia,
            Self::ParameterNotUnderstood => RefusalKind::ParameterNotUnderstood,
            Self::SessionNotFound => RefusalKind::SessionNotFound,
            Self::MethodNotValidInState { .. } => RefusalKind::MethodNotValidInState,
            Self::InvalidRange => RefusalKind::InvalidRange,
            Self::AggregateNotAllowed => RefusalKind::AggregateNotAllowed,
            Self::OnlyAggregateAllowed => RefusalKind::OnlyAggregateAllowed,
            Self::UnsupportedTransport => RefusalKind::UnsupportedTransport,
            Self::Internal(_) => RefusalKind::Internal,
            Self::NotImplemented => RefusalKind::NotImplemented,
            Self::ServiceUnavailable => RefusalKind::ServiceUnavailable,
            Self::VersionNotSupported => RefusalKind::VersionNotSupported,
        }
    }

    /// The reason phrase for the status line (RFC 2326 section 7.1.1 wording).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "Bad Request",
            Self::NotFound => "Not Found",
            Self::MethodNotAllowed => "Method Not Allowed",
            Self::UnsupportedMedia(_) => "Unsupported Media Type",
            Self::ParameterNotUnderstood => "Parameter Not Understood",
            Self::SessionNotFound => "Session Not Found",
            Self::MethodNotValidInState { .. } => "Method Not Valid in This State",
            Self::InvalidRange => "Invalid Range",
            Self::AggregateNotAllowed => "Aggregate Operation Not Allowed",
            Self::OnlyAggregateAllowed => "Only Aggregate Operation Allowed",
            Self::UnsupportedTransport => "Unsupported Transport",
            Self::Internal(_) => "Internal Server Error",
            Self::NotImplemented => "Not Implemented",
            Self::ServiceUnavailable => "Service Unavailable",
            Self::VersionNotSupported => "RTSP Version Not Supported",
        }
    }
}

impl fmt::Display for Refusal {
    /// A one-line explanation for logs (and for clients that show a reason).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status(), self.reason())?;
        match self {
            Self::BadRequest(why) | Self::UnsupportedMedia(why) | Self::Internal(why) => {
                write!(f, ": {why}")
            }
            Self::MethodNotValidInState { method, state } => {
                write!(f, ": {method} in state {state}")
            }
            _ => Ok(()),
        }
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_its_rfc_code_and_phrase() {
        let all = [
            (Refusal::BadRequest("x"), 400),
            (Refusal::NotFound, 404),
            (Refusal::MethodNotAllowed, 405),
            (Refusal::UnsupportedMedia("x"), 415),
            (Refusal::ParameterNotUnderstood, 451),
            (Refusal::SessionNotFound, 454),
            (
                Refusal::MethodNotValidInState {
                    method: "PLAY",
                    state: SessionState::Init,
                },
                455,
            ),
            (Refusal::InvalidRange, 457),
            (Refusal::AggregateNotAllowed, 459),
            (Refusal::OnlyAggregateAllowed, 460),
            (Refusal::UnsupportedTransport, 461),
            (Refusal::Internal("x"), 500),
            (Refusal::NotImplemented, 501),
            (Refusal::ServiceUnavailable, 503),
            (Refusal::VersionNotSupported, 505),
        ];
        for (r, code) in all {
            assert_eq!(r.status(), code);
            assert!(!r.reason().is_empty());
            assert!(!r.reason().contains(['\r', '\n']));
            assert!(r.to_string().starts_with(&code.to_string()));
        }
        let r = Refusal::MethodNotValidInState {
            method: "PLAY",
            state: SessionState::Init,
        };
        assert_eq!(
            r.to_string(),
            "455 Method Not Valid in This State: PLAY in state INIT"
        );
    }
}
