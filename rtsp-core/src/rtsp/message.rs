//! RTSP requests, responses and interleaved binary frames, and the lab reply shape.

use std::fmt;

use super::error::BuildError;
use super::header_map::{name_matches, Headers};
use super::headers::{CSeq, Header};
use super::method::Method;
use super::status::StatusCode;
use super::syntax::{excerpt, is_field_text, is_uri_text, trim_ows};
use super::url::{RequestUri, UrlError};
use super::version::Version;
use super::write::push_lab_body;

/// The two wire formats this crate speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// RFC 2326: CRLF line ends, a blank line after the headers, bodies framed by
    /// Content-Length, absolute URLs.
    #[default]
    Standard,
    /// The networking lab's Python client and server: `\n` line ends, no blank line, no
    /// trailing newline (a message ends where the peer's write ends), bare file names.
    Lab,
}

/// An RTSP request.
///
/// Build one with [`Request::new`] and the `with_*` methods; every part is validated on the
/// way in, so [`Request::write`] cannot produce a malformed message.
///
/// ```
/// use rtsp_core::rtsp::{Dialect, Method, Request};
/// let req = Request::new(Method::Setup, "movie.Mjpeg")?
///     .with_header("CSeq", 1)?
///     .with_header("Transport", "RTP/UDP; client_port= 25000")?;
/// assert_eq!(
///     req.to_bytes(Dialect::Lab),
///     b"SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 25000"
/// );
/// # Ok::<(), rtsp_core::rtsp::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) uri: String,
    pub(crate) version: Version,
    pub(crate) headers: Headers,
    pub(crate) body: Vec<u8>,
    pub(crate) dialect: Dialect,
}

impl Request {
    /// A request without headers or body, version RTSP/1.0. The URI is taken verbatim
    /// (`rtsp://...`, `*` or a lab file name) and must not contain whitespace.
    pub fn new(method: Method, uri: &str) -> Result<Self, BuildError> {
        if !method.is_valid() {
            return Err(BuildError::InvalidMethod(excerpt(method.as_str())));
        }
        if !is_uri_text(uri) {
            return Err(BuildError::InvalidUri(excerpt(uri)));
        }
        Ok(Self {
            method,
            uri: uri.to_owned(),
            version: Version::RTSP_1_0,
            headers: Headers::new(),
            body: Vec::new(),
            dialect: Dialect::Standard,
        })
    }

    /// Sets the version (e.g. [`Version::LAB_1_4`]).
    pub fn with_version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// Appends a header line.
    pub fn with_header(mut self, name: &str, value: impl fmt::Display) -> Result<Self, BuildError> {
        self.headers.append(name, value)?;
        Ok(self)
    }

    /// Sets a typed header (replacing lines of the same name).
    pub fn with_typed<H: Header>(mut self, header: &H) -> Result<Self, BuildError> {
        self.headers.insert_typed(header)?;
        Ok(self)
    }

    /// Sets the body. The writer adds `Content-Length` itself.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The request-URI as sent.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The request-URI, parsed.
    pub fn target(&self) -> Result<RequestUri, UrlError> {
        RequestUri::parse(&self.uri)
    }

    /// The protocol version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The headers.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The headers, for changes (values are validated on insertion).
    pub fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }

    /// The body (empty if none).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Replaces the body.
    pub fn set_body(&mut self, body: impl Into<Vec<u8>>) {
        self.body = body.into();
    }

    /// Takes the body.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// The dialect the request was framed in when parsed ([`Dialect::Standard`] for requests
    /// built in memory). A server answers in the same dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The `CSeq` value, if present and valid.
    pub fn cseq(&self) -> Option<u32> {
        cseq_of(&self.headers)
    }

    /// The request serialized in `dialect` (see [`Request::write`]).
    pub fn to_bytes(&self, dialect: Dialect) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(dialect, &mut out);
        out
    }
}

/// An RTSP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub(crate) version: Version,
    pub(crate) status: StatusCode,
    pub(crate) reason: String,
    pub(crate) headers: Headers,
    pub(crate) body: Vec<u8>,
    pub(crate) dialect: Dialect,
}

impl Response {
    /// A response with the RFC 2326 reason phrase for `status`, version RTSP/1.0.
    pub fn new(status: StatusCode) -> Self {
        Self {
            version: Version::RTSP_1_0,
            status,
            reason: status.reason().to_owned(),
            headers: Headers::new(),
            body: Vec::new(),
            dialect: Dialect::Standard,
        }
    }

    /// A response to `request`: same version when supported (RTSP/1.0 otherwise, as a 505
    /// must be understood) and the request's `CSeq` echoed (RFC 2326 12.17).
    pub fn reply_to(request: &Request, status: StatusCode) -> Self {
        let mut response = Self::new(status);
        if request.version.is_supported() {
            response.version = request.version;
        }
        if let Some(cseq) = request.headers.get(CSeq::NAME) {
            // Already validated when it entered the request.
            response
                .headers
                .push_parsed(CSeq::NAME.to_owned(), cseq.to_owned());
        }
        response.dialect = request.dialect;
        response
    }

    /// Sets the version.
    pub fn with_version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// Replaces the reason phrase (no control characters; surrounding spaces are dropped).
    pub fn with_reason(mut self, reason: &str) -> Result<Self, BuildError> {
        let reason = trim_ows(reason);
        if !is_field_text(reason) {
            return Err(BuildError::InvalidReason(excerpt(reason)));
        }
        self.reason = reason.to_owned();
        Ok(self)
    }

    /// Appends a header line.
    pub fn with_header(mut self, name: &str, value: impl fmt::Display) -> Result<Self, BuildError> {
        self.headers.append(name, value)?;
        Ok(self)
    }

    /// Sets a typed header (replacing lines of the same name).
    pub fn with_typed<H: Header>(mut self, header: &H) -> Result<Self, BuildError> {
        self.headers.insert_typed(header)?;
        Ok(self)
    }

    /// Sets the body. The standard writer adds `Content-Length` itself.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The protocol version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The reason phrase.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The headers.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The headers, for changes (values are validated on insertion).
    pub fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }

    /// The body (empty if none).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Replaces the body.
    pub fn set_body(&mut self, body: impl Into<Vec<u8>>) {
        self.body = body.into();
    }

    /// Takes the body.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// The dialect the response was framed in when parsed ([`Dialect::Standard`] for
    /// responses built in memory, the request's for [`Response::reply_to`]).
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The `CSeq` value, if present and valid.
    pub fn cseq(&self) -> Option<u32> {
        cseq_of(&self.headers)
    }

    /// The response serialized in `dialect` (see [`Response::write`]).
    pub fn to_bytes(&self, dialect: Dialect) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(dialect, &mut out);
        out
    }
}

fn cseq_of(headers: &Headers) -> Option<u32> {
    headers.typed::<CSeq>().and_then(Result::ok).map(|c| c.0)
}

/// A reply in the exact shape lab clients parse.
///
/// The lab client splits the reply on `\n` and reads the status code from line 1, the CSeq
/// from line 2 and the session number from line 3 (`int(lines[2].split(' ')[1])`), so those
/// lines are fixed here: status line, `CSeq: N`, `Session: N` (decimal, nothing after it).
/// Extra lines such as `Frames: 500` follow, `\n`-separated, with no trailing newline. A body
/// (the lab DESCRIBE description) is announced by `Content-Length` like any other body and
/// follows a blank line (the lab report's server leaves the length out, which only works when
/// the body happens to arrive in the same read). Lab clients read replies with `recv(1024)`:
/// keep replies under 1024 bytes.
///
/// ```
/// use rtsp_core::rtsp::{LabReply, StatusCode};
/// let reply = LabReply::new(StatusCode::OK, 1, 123456).with_frames(500);
/// assert_eq!(reply.to_bytes(), b"RTSP/1.0 200 OK\nCSeq: 1\nSession: 123456\nFrames: 500");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabReply {
    version: Version,
    status: StatusCode,
    cseq: u32,
    session: u64,
    extra: Headers,
    body: Vec<u8>,
}

impl LabReply {
    /// A reply with the given status, echoed CSeq and session number. Before SETUP has
    /// created a session, pass the number the client will ignore (the lab client starts
    /// with 0).
    pub fn new(status: StatusCode, cseq: u32, session: u64) -> Self {
        Self {
            version: Version::RTSP_1_0,
            status,
            cseq,
            session,
            extra: Headers::new(),
            body: Vec::new(),
        }
    }

    /// Sets the version (echo [`Version::LAB_1_4`] to RTSP/1.4 clients).
    pub fn with_version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// Adds the lab report's `Frames: <total>` line.
    pub fn with_frames(mut self, total: u64) -> Self {
        self.extra
            .push_parsed("Frames".to_owned(), total.to_string());
        self
    }

    /// Adds an extra line after the fixed three. `CSeq`, `Session` and `Content-Length` are
    /// refused: the first two have fixed positions, the third is computed from the body.
    pub fn with_header(mut self, name: &str, value: impl fmt::Display) -> Result<Self, BuildError> {
        if ["CSeq", "Session", "Content-Length"]
            .iter()
            .any(|reserved| name_matches(name, reserved))
        {
            return Err(BuildError::ReservedHeader(excerpt(name)));
        }
        self.extra.append(name, value)?;
        Ok(self)
    }

    /// Sets the body (written after its Content-Length and a blank line).
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Appends the reply's bytes to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        push_status_line(out, self.version, self.status, self.status.reason());
        out.extend_from_slice(b"\nCSeq: ");
        out.extend_from_slice(self.cseq.to_string().as_bytes());
        out.extend_from_slice(b"\nSession: ");
        out.extend_from_slice(self.session.to_string().as_bytes());
        for (name, value) in self.extra.iter() {
            push_lab_field(out, name, value);
        }
        push_lab_body(out, &self.body);
    }

    /// The reply's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    /// The same reply as a general [`Response`] (whose lab writer produces the same bytes).
    pub fn into_response(self) -> Response {
        let mut headers = Headers::new();
        headers.push_parsed("CSeq".to_owned(), self.cseq.to_string());
        headers.push_parsed("Session".to_owned(), self.session.to_string());
        for (name, value) in self.extra.iter() {
            headers.push_parsed(name.to_owned(), value.to_owned());
        }
        Response {
            version: self.version,
            status: self.status,
            reason: self.status.reason().to_owned(),
            headers,
            body: self.body,
            dialect: Dialect::Lab,
        }
    }
}

/// A `$`-framed binary packet on the RTSP connection (RFC 2326 10.12): RTP or RTCP for
/// `interleaved=` transports, in either direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interleaved {
    channel: u8,
    payload: Vec<u8>,
}

impl Interleaved {
    /// A frame; the payload must fit the 16-bit length field.
    pub fn new(channel: u8, payload: impl Into<Vec<u8>>) -> Result<Self, BuildError> {
        let payload = payload.into();
        if payload.len() > usize::from(u16::MAX) {
            return Err(BuildError::PayloadTooLarge(payload.len()));
        }
        Ok(Self { channel, payload })
    }

    /// A frame read off the wire, whose length field bounded the payload already.
    pub(crate) fn from_wire(channel: u8, payload: Vec<u8>) -> Self {
        Self { channel, payload }
    }

    /// The channel number.
    pub fn channel(&self) -> u8 {
        self.channel
    }

    /// The packet.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// Takes the packet.
    pub fn into_payload(self) -> Vec<u8> {
        self.payload
    }

    /// Appends `$`, channel, big-endian length and payload to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        // The constructor bounded the length.
        let len = u16::try_from(self.payload.len()).unwrap_or(u16::MAX);
        out.push(b'$');
        out.push(self.channel);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(self.payload.get(..usize::from(len)).unwrap_or_default());
    }
}

/// Appends an interleaved frame to `out` without building an [`Interleaved`] (no copy of the
/// payload). Fails, writing nothing, if the payload is longer than 65535 bytes.
pub fn write_interleaved(channel: u8, payload: &[u8], out: &mut Vec<u8>) -> Result<(), BuildError> {
    let len =
        u16::try_from(payload.len()).map_err(|_| BuildError::PayloadTooLarge(payload.len()))?;
    out.push(b'$');
    out.push(channel);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    Ok(())
}

/// One item off an RTSP connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A request (what a server reads).
    Request(Request),
    /// A response (what a client reads).
    Response(Response),
    /// A `$` frame, which can sit between messages in both directions.
    Interleaved(Interleaved),
}

impl Message {
    /// Appends the item's bytes to `out` (`dialect` is ignored for interleaved frames).
    pub fn write(&self, dialect: Dialect, out: &mut Vec<u8>) {
        match self {
            Self::Request(r) => r.write(dialect, out),
            Self::Response(r) => r.write(dialect, out),
            Self::Interleaved(i) => i.write(out),
        }
    }
}

pub(crate) fn push_status_line(
    out: &mut Vec<u8>,
    version: Version,
    status: StatusCode,
    reason: &str,
) {
    out.extend_from_slice(version.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
}

pub(crate) fn push_lab_field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.push(b'\n');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaved_frames() {
        let frame = Interleaved::new(1, vec![9; 3]).unwrap();
        let mut out = Vec::new();
        frame.write(&mut out);
        assert_eq!(out, [b'$', 1, 0, 3, 9, 9, 9]);
        let mut direct = Vec::new();
        write_interleaved(1, &[9; 3], &mut direct).unwrap();
        assert_eq!(direct, out);
        assert!(Interleaved::new(0, vec![0; 65535]).is_ok());
        assert_eq!(
            Interleaved::new(0, vec![0; 65536]),
            Err(BuildError::PayloadTooLarge(65536))
        );
        let mut untouched = Vec::new();
        assert!(write_interleaved(0, &[0; 70000], &mut untouched).is_err());
        assert!(untouched.is_empty());
    }

    #[test]
    fn builders_validate() {
        assert!(Request::new(Method::Extension("BAD METHOD".into()), "*").is_err());
        assert!(Request::new(Method::Extension("$X".into()), "*").is_err());
        assert!(Request::new(Method::Play, "").is_err());
        assert!(Request::new(Method::Play, "a b").is_err());
        assert!(Request::new(Method::Play, "a\r\nX: y").is_err());
        assert!(Response::new(StatusCode::OK).with_reason("O\nK").is_err());
        let r = Response::new(StatusCode::OK)
            .with_reason("  Fine  ")
            .unwrap();
        assert_eq!(r.reason(), "Fine");
        let req = Request::new(Method::Play, "m")
            .unwrap()
            .with_header("CSeq", "12")
            .unwrap();
        assert_eq!(req.cseq(), Some(12));
        assert_eq!(req.dialect(), Dialect::Standard);
    }
}
