//! Serialization of requests and responses in either dialect.
//!
//! Writers never fail: every part of a message was validated when it was built or parsed.
//! `Content-Length` is always computed from the body; a `Content-Length` header stored in the
//! message is ignored, so the two can never disagree.

use super::header_map::{name_matches, Headers};
use super::message::{push_lab_field, push_status_line, Dialect, Request, Response};

const CONTENT_LENGTH: &str = "Content-Length";

impl Request {
    /// Appends the request's bytes to `out`.
    ///
    /// - [`Dialect::Standard`]: CRLF after every line, `Content-Length` when there is a body,
    ///   a blank line, the body.
    /// - [`Dialect::Lab`]: exactly what the lab client sends: the request line and the header
    ///   lines in order, `\n`-separated, with no trailing newline, e.g.
    ///   `SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 25000`. A body
    ///   (not something lab clients send) goes after `Content-Length` and a blank line.
    ///
    /// A lab request is only recognized by a parser when it has at least one header (lab
    /// clients always send `CSeq`); see
    /// [`MessageParser::end_of_read`](super::MessageParser::end_of_read).
    pub fn write(&self, dialect: Dialect, out: &mut Vec<u8>) {
        out.extend_from_slice(self.method.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.uri.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.version.to_string().as_bytes());
        match dialect {
            Dialect::Standard => write_standard_tail(&self.headers, &self.body, out),
            Dialect::Lab => {
                for (name, value) in fields(&self.headers) {
                    push_lab_field(out, name, value);
                }
                push_lab_body(out, &self.body);
            }
        }
    }
}

impl Response {
    /// Appends the response's bytes to `out`.
    ///
    /// - [`Dialect::Standard`]: CRLF after every line, `Content-Length` when there is a body,
    ///   a blank line, the body.
    /// - [`Dialect::Lab`]: status line, then the `CSeq` lines, then the `Session` lines with
    ///   their parameters dropped (lab clients want a bare number), then the other headers in
    ///   order, `\n`-separated with no trailing newline; a body follows its `Content-Length`
    ///   and a blank line. Use [`LabReply`](super::LabReply) to get the lab client's exact
    ///   three-line shape guaranteed.
    pub fn write(&self, dialect: Dialect, out: &mut Vec<u8>) {
        push_status_line(out, self.version, self.status, &self.reason);
        match dialect {
            Dialect::Standard => write_standard_tail(&self.headers, &self.body, out),
            Dialect::Lab => {
                let is = |name: &str, wanted: &str| name_matches(name, wanted);
                for (name, value) in fields(&self.headers).filter(|(n, _)| is(n, "CSeq")) {
                    push_lab_field(out, name, value);
                }
                for (name, value) in fields(&self.headers).filter(|(n, _)| is(n, "Session")) {
                    let id = value.split(';').next().unwrap_or_default().trim();
                    push_lab_field(out, name, id);
                }
                for (name, value) in
                    fields(&self.headers).filter(|(n, _)| !is(n, "CSeq") && !is(n, "Session"))
                {
                    push_lab_field(out, name, value);
                }
                push_lab_body(out, &self.body);
            }
        }
    }
}

/// A lab message's body, if any: its `Content-Length` line, a blank line, the bytes.
pub(super) fn push_lab_body(out: &mut Vec<u8>, body: &[u8]) {
    if !body.is_empty() {
        push_lab_field(out, CONTENT_LENGTH, &body.len().to_string());
        out.extend_from_slice(b"\n\n");
        out.extend_from_slice(body);
    }
}

/// Header lines except `Content-Length`, which the writers compute.
fn fields(headers: &Headers) -> impl Iterator<Item = (&str, &str)> {
    headers
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case(CONTENT_LENGTH))
}

/// Everything after the start line in the standard dialect.
fn write_standard_tail(headers: &Headers, body: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b"\r\n");
    for (name, value) in fields(headers) {
        push_standard_field(out, name, value);
    }
    if !body.is_empty() {
        push_standard_field(out, CONTENT_LENGTH, &body.len().to_string());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

fn push_standard_field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtsp::headers::Session;
    use crate::rtsp::{LabReply, Method, StatusCode, Version};

    #[test]
    fn standard_request() {
        let req = Request::new(Method::Options, "*")
            .unwrap()
            .with_header("CSeq", 2)
            .unwrap()
            .with_header("Session", "abc")
            .unwrap();
        assert_eq!(
            req.to_bytes(Dialect::Standard),
            b"OPTIONS * RTSP/1.0\r\nCSeq: 2\r\nSession: abc\r\n\r\n"
        );
    }

    #[test]
    fn content_length_is_computed() {
        let req = Request::new(Method::SetParameter, "rtsp://h/m")
            .unwrap()
            .with_header("Content-Length", 999)
            .unwrap()
            .with_header("CSeq", 9)
            .unwrap()
            .with_body(&b"x: 1\r\n"[..]);
        assert_eq!(
            req.to_bytes(Dialect::Standard),
            b"SET_PARAMETER rtsp://h/m RTSP/1.0\r\nCSeq: 9\r\nContent-Length: 6\r\n\r\nx: 1\r\n"
        );
        assert_eq!(
            req.to_bytes(Dialect::Lab),
            b"SET_PARAMETER rtsp://h/m RTSP/1.0\nCSeq: 9\nContent-Length: 6\n\nx: 1\r\n"
        );
    }

    #[test]
    fn lab_requests_byte_exact() {
        let play = Request::new(Method::Play, "movie.Mjpeg")
            .unwrap()
            .with_header("CSeq", 2)
            .unwrap()
            .with_typed(&Session::from_number(123456))
            .unwrap();
        assert_eq!(
            play.to_bytes(Dialect::Lab),
            b"PLAY movie.Mjpeg RTSP/1.0\nCSeq: 2\nSession: 123456"
        );
        let fwd = Request::new(Method::Forward, "movie.Mjpeg")
            .unwrap()
            .with_version(Version::LAB_1_4)
            .with_header("CSeq", 6)
            .unwrap();
        assert_eq!(
            fwd.to_bytes(Dialect::Lab),
            b"FORWARD movie.Mjpeg RTSP/1.4\nCSeq: 6"
        );
    }

    #[test]
    fn lab_response_reorders_and_strips() {
        let resp = Response::new(StatusCode::OK)
            .with_header("Frames", 500)
            .unwrap()
            .with_header("Session", "77;timeout=60")
            .unwrap()
            .with_header("CSeq", 3)
            .unwrap();
        assert_eq!(
            resp.to_bytes(Dialect::Lab),
            b"RTSP/1.0 200 OK\nCSeq: 3\nSession: 77\nFrames: 500"
        );
        assert_eq!(
            resp.to_bytes(Dialect::Standard),
            b"RTSP/1.0 200 OK\r\nFrames: 500\r\nSession: 77;timeout=60\r\nCSeq: 3\r\n\r\n"
        );
    }

    #[test]
    fn lab_reply_shapes() {
        let reply = LabReply::new(StatusCode::NOT_FOUND, 1, 0);
        assert_eq!(
            reply.to_bytes(),
            b"RTSP/1.0 404 Not Found\nCSeq: 1\nSession: 0"
        );
        let describe = LabReply::new(StatusCode::OK, 4, 510307)
            .with_version(Version::LAB_1_4)
            .with_frames(500)
            .with_body(&b"DESCRIPTION\nThe video file : movie.Mjpeg\n"[..]);
        let bytes = describe.to_bytes();
        assert_eq!(
            bytes,
            b"RTSP/1.4 200 OK\nCSeq: 4\nSession: 510307\nFrames: 500\nContent-Length: 41\n\nDESCRIPTION\nThe video file : movie.Mjpeg\n"
        );
        assert_eq!(
            describe.clone().into_response().to_bytes(Dialect::Lab),
            bytes
        );
        assert!(matches!(
            LabReply::new(StatusCode::OK, 1, 1).with_header("session", 5),
            Err(crate::rtsp::BuildError::ReservedHeader(_))
        ));
        assert!(LabReply::new(StatusCode::OK, 1, 1)
            .with_header("Sesssion", 5)
            .is_err());
        assert!(LabReply::new(StatusCode::OK, 1, 1)
            .with_header("X", "a\nb")
            .is_err());
    }

    #[test]
    fn reply_to_echoes_cseq_and_version() {
        let req = Request::new(Method::Play, "movie.Mjpeg")
            .unwrap()
            .with_version(Version::new(2, 0))
            .with_header("CSeq", 41)
            .unwrap();
        let resp = Response::reply_to(&req, StatusCode::RTSP_VERSION_NOT_SUPPORTED);
        assert_eq!(
            resp.to_bytes(Dialect::Standard),
            b"RTSP/1.0 505 RTSP Version not supported\r\nCSeq: 41\r\n\r\n"
        );
    }
}
