//! Replies, written in the dialect of the client that asked.
//!
//! A [`Reply`] is dialect-neutral: a status, the session it concerns, the lab's frame count,
//! extra headers and a body. [`Reply::to_bytes`] writes it as an RFC 2326 response (CSeq
//! echoed, `Session: id;timeout=N`, `Content-Length` from the body) or in the exact shape lab
//! clients parse (status line, `CSeq: N`, `Session: N`, then `Frames: N`, because the lab
//! client reads those lines by position; then, for a body, its `Content-Type` and
//! `Content-Length`), errors included.

use super::request::public_methods;
use super::{Refusal, RefusalKind, SessionId};
use crate::rtsp::headers::Session as SessionHeader;
use crate::rtsp::{Dialect, LabReply, Request, Response, StatusCode};

/// `Server:` header value of standard replies.
pub const SERVER: &str = concat!("rtsp-core/", env!("CARGO_PKG_VERSION"));

/// A reply before it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    status: StatusCode,
    session: Option<(SessionId, Option<u32>)>,
    lab_session: u64,
    frames: Option<u64>,
    headers: Vec<(&'static str, String)>,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

impl Reply {
    /// 200 OK.
    pub fn ok() -> Self {
        Self::status(StatusCode::OK)
    }

    /// Any status.
    pub fn status(status: StatusCode) -> Self {
        Self {
            status,
            session: None,
            lab_session: 0,
            frames: None,
            headers: Vec::new(),
            content_type: None,
            body: Vec::new(),
        }
    }

    /// The error reply for a refusal (405 lists what is allowed, RFC 2326 10.1).
    pub fn refusal(refusal: &Refusal) -> Self {
        let status =
            StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let reply = Self::status(status);
        if refusal.kind() == RefusalKind::MethodNotAllowed {
            reply.header("Allow", public_methods())
        } else {
            reply
        }
    }

    /// The status.
    pub fn status_code(&self) -> StatusCode {
        self.status
    }

    /// The session this reply concerns, announced with its timeout in standard replies.
    pub fn session(mut self, id: SessionId, timeout_secs: Option<u32>) -> Self {
        self.session = Some((id, timeout_secs));
        self
    }

    /// The number lab clients read from line 3 when no session is concerned (they parse it
    /// even in errors); the request's own session number is the natural choice.
    pub fn lab_session(mut self, id: u64) -> Self {
        self.lab_session = id;
        self
    }

    /// The lab report's `Frames: <total>` line (lab dialect only).
    pub fn frames(mut self, total: Option<u64>) -> Self {
        self.frames = total;
        self
    }

    /// An extra header (standard dialect only: the lab shape has fixed lines).
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// A body of type `content_type` (the SDP of DESCRIBE), written with its `Content-Type`
    /// and `Content-Length` in both dialects.
    pub fn content(mut self, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        self.content_type = Some(content_type);
        self.body = body.into();
        self
    }

    /// The reply to `req`, in `dialect`.
    pub fn to_bytes(&self, req: &Request, dialect: Dialect) -> Vec<u8> {
        match dialect {
            Dialect::Lab => self.lab_bytes(req),
            Dialect::Standard => self.standard_bytes(req),
        }
    }

    fn lab_bytes(&self, req: &Request) -> Vec<u8> {
        let session = self.session.map_or(self.lab_session, |(id, _)| id.get());
        let mut lab = LabReply::new(self.status, req.cseq().unwrap_or(0), session);
        if req.version().is_lab() {
            lab = lab.with_version(req.version());
        }
        if let Some(total) = self.frames {
            lab = lab.with_frames(total);
        }
        if !self.body.is_empty() {
            if let Some(ct) = self.content_type {
                // A valid constant of this crate; left out rather than failing the reply.
                if let Ok(with) = lab.clone().with_header("Content-Type", ct) {
                    lab = with;
                }
            }
            lab = lab.with_body(self.body.clone());
        }
        lab.to_bytes()
    }

    fn standard_bytes(&self, req: &Request) -> Vec<u8> {
        let mut r = Response::reply_to(req, self.status);
        // Values below are built by this crate and valid; a refused one is left out rather than
        // failing the whole reply.
        let add = |r: Response, name: &str, value: &str| match r.clone().with_header(name, value) {
            Ok(with) => with,
            Err(_) => r,
        };
        r = add(r, "Server", SERVER);
        if let Some((id, timeout)) = self.session {
            let mut h = SessionHeader::from_number(id.get());
            if let Some(t) = timeout {
                h = h.with_timeout(t);
            }
            r = add(r, "Session", &h.to_string());
        }
        for (name, value) in &self.headers {
            r = add(r, name, value);
        }
        if !self.body.is_empty() {
            if let Some(ct) = self.content_type {
                r = add(r, "Content-Type", ct);
            }
            r = r.with_body(self.body.clone());
        }
        r.to_bytes(Dialect::Standard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtsp::{Message, MessageParser};
    use crate::server::SessionState;

    fn sid(number: u64) -> SessionId {
        SessionId::new(number).unwrap()
    }

    fn parse(text: &str) -> Request {
        let mut p = MessageParser::new();
        p.push(text.as_bytes()).unwrap();
        p.end_of_read();
        match p.next().unwrap() {
            Some(Message::Request(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lab_shape() {
        let req = parse("PLAY movie.Mjpeg RTSP/1.0\nCSeq: 2\nSession: 123456");
        let bytes = Reply::ok()
            .session(sid(123456), Some(60))
            .frames(Some(500))
            .header("Range", "npt=0-")
            .to_bytes(&req, Dialect::Lab);
        assert_eq!(
            bytes,
            b"RTSP/1.0 200 OK\nCSeq: 2\nSession: 123456\nFrames: 500"
        );
        let req = parse("FORWARD movie.Mjpeg RTSP/1.4\nCSeq: 9\nSession: 5");
        let bytes = Reply::ok()
            .session(sid(5), None)
            .frames(Some(7))
            .to_bytes(&req, Dialect::Lab);
        assert_eq!(bytes, b"RTSP/1.4 200 OK\nCSeq: 9\nSession: 5\nFrames: 7");
    }

    #[test]
    fn lab_errors_keep_the_shape() {
        let req = parse("PLAY movie.Mjpeg RTSP/1.0\nCSeq: 3\nSession: 42");
        let refusal = Refusal::SessionNotFound;
        let bytes = Reply::refusal(&refusal)
            .lab_session(42)
            .to_bytes(&req, Dialect::Lab);
        assert_eq!(
            bytes,
            b"RTSP/1.0 454 Session Not Found\nCSeq: 3\nSession: 42"
        );
        let refusal = Refusal::MethodNotValidInState {
            method: "PLAY",
            state: SessionState::Init,
        };
        let bytes = Reply::refusal(&refusal).to_bytes(&req, Dialect::Lab);
        assert!(bytes.starts_with(b"RTSP/1.0 455 "));
        assert!(bytes.ends_with(b"\nCSeq: 3\nSession: 0"));
    }

    #[test]
    fn standard_shape() {
        let req = parse("SETUP rtsp://h/m.mjpg/track1 RTSP/1.0\r\nCSeq: 5\r\nTransport: RTP/AVP;unicast;client_port=1-2\r\n\r\n");
        let text = String::from_utf8(
            Reply::ok()
                .session(sid(77), Some(60))
                .frames(Some(500))
                .header("Transport", "RTP/AVP;unicast")
                .to_bytes(&req, Dialect::Standard),
        )
        .unwrap();
        assert!(text.starts_with("RTSP/1.0 200 OK\r\nCSeq: 5\r\n"), "{text}");
        assert!(text.contains("\r\nSession: 77;timeout=60\r\n"));
        assert!(text.contains("\r\nTransport: RTP/AVP;unicast\r\n"));
        assert!(!text.contains("Frames"));
        assert!(text.ends_with("\r\n\r\n"));
        let req = parse("RECORD rtsp://h/m.mjpg RTSP/1.0\r\nCSeq: 6\r\n\r\n");
        let text = String::from_utf8(
            Reply::refusal(&Refusal::MethodNotAllowed).to_bytes(&req, Dialect::Standard),
        )
        .unwrap();
        assert!(text.starts_with("RTSP/1.0 405 Method Not Allowed\r\nCSeq: 6\r\n"));
        assert!(text.contains("Allow: OPTIONS, DESCRIBE, SETUP, PLAY"));
        let body = Reply::ok()
            .content("application/sdp", "v=0\r\n")
            .to_bytes(&req, Dialect::Standard);
        assert!(String::from_utf8(body)
            .unwrap()
            .contains("Content-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n"));
    }

    #[test]
    fn lab_bodies_have_their_entity_headers() {
        let req = parse("DESCRIBE movie.Mjpeg RTSP/1.0\nCSeq: 2\nSession: 5");
        let bytes = Reply::ok()
            .session(sid(5), Some(60))
            .frames(Some(500))
            .header("Content-Base", "rtsp://h/movie.Mjpeg/")
            .content("application/sdp", "v=0\n")
            .to_bytes(&req, Dialect::Lab);
        assert_eq!(
            bytes,
            b"RTSP/1.0 200 OK\nCSeq: 2\nSession: 5\nFrames: 500\nContent-Type: application/sdp\nContent-Length: 4\n\nv=0\n"
        );
    }
}
