//! Incremental parser for RTSP messages and interleaved frames, in both dialects.

use std::mem;

use super::header_map::{name_matches, Headers};
use super::headers::{CSeq, ContentLength, Header};
use super::message::{Dialect, Interleaved, Message, Request, Response};
use super::method::Method;
use super::status::StatusCode;
use super::syntax::{excerpt, is_field_text, is_token, trim_ows};
use super::url::is_bare;
use super::version::Version;

/// Hard limits on what one connection may make the parser hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest line (start line or header line) without its line end. Default 8 KiB.
    pub max_line_len: usize,
    /// Most header lines in one message. Default 64.
    pub max_headers: usize,
    /// Longest head: start line plus header lines, without line ends. Default 32 KiB.
    pub max_head_len: usize,
    /// Largest body. Default 64 KiB.
    pub max_body_len: usize,
    /// Most unconsumed bytes [`MessageParser::push`] accepts. It must exceed the largest
    /// interleaved frame (65539 bytes) plus one read. Default 256 KiB.
    pub max_buffered: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_line_len: 8 * 1024,
            max_headers: 64,
            max_head_len: 32 * 1024,
            max_body_len: 64 * 1024,
            max_buffered: 256 * 1024,
        }
    }
}

/// Why the byte stream is not valid RTSP. See [`MessageParser`] for what happens next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The start line exceeds [`Limits::max_line_len`].
    #[error("start line longer than {limit} bytes")]
    StartLineTooLong {
        /// The limit.
        limit: usize,
    },
    /// A header line exceeds [`Limits::max_line_len`].
    #[error("header line longer than {limit} bytes")]
    HeaderLineTooLong {
        /// The limit.
        limit: usize,
    },
    /// More header lines than [`Limits::max_headers`].
    #[error("more than {limit} header lines")]
    TooManyHeaders {
        /// The limit.
        limit: usize,
    },
    /// The head exceeds [`Limits::max_head_len`].
    #[error("message head longer than {limit} bytes")]
    HeadTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The body exceeds [`Limits::max_body_len`] (announced or, for lab replies, received).
    #[error("body larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// More than [`Limits::max_buffered`] unconsumed bytes: the caller pushed without
    /// draining, or a peer floods the connection.
    #[error("more than {limit} bytes buffered")]
    BufferFull {
        /// The limit.
        limit: usize,
    },
    /// `Content-Length` is not a plain decimal number that fits 64 bits.
    #[error("invalid Content-Length {0:?}")]
    InvalidContentLength(String),
    /// Several `Content-Length` headers with different values.
    #[error("conflicting Content-Length headers")]
    ConflictingContentLength,
    /// A request line that is not `METHOD SP URI SP VERSION`.
    #[error("malformed request line")]
    InvalidRequestLine,
    /// A method that is not a token.
    #[error("invalid method {0:?}")]
    InvalidMethod(String),
    /// A version that is not `RTSP/<digits>.<digits>` (well-formed versions always parse;
    /// the server decides whether it supports them).
    #[error("invalid protocol version {0:?}")]
    InvalidVersion(String),
    /// A status line that is not `RTSP/x.y SP 3DIGIT [SP reason]`.
    #[error("malformed status line")]
    InvalidStatusLine,
    /// A header line that is not `token ":" value` (nor a continuation).
    #[error("malformed header line")]
    InvalidHeaderLine,
    /// The head is not UTF-8.
    #[error("message head is not valid UTF-8")]
    InvalidUtf8,
    /// A control character (other than HTAB) in the head.
    #[error("control character in message head")]
    ControlCharacter,
}

impl ParseError {
    /// The status a server should answer with before closing the connection.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::StartLineTooLong { .. } => StatusCode::REQUEST_URI_TOO_LARGE,
            Self::BodyTooLarge { .. } | Self::BufferFull { .. } => {
                StatusCode::REQUEST_ENTITY_TOO_LARGE
            }
            Self::InvalidVersion(_) => StatusCode::RTSP_VERSION_NOT_SUPPORTED,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// What was known about the message that failed, for the error reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ErrorContext {
    /// Its CSeq, if a valid one had been read.
    pub cseq: Option<u32>,
    /// The dialect its text showed so far (Standard unless a lab sign was seen).
    pub dialect: Dialect,
}

/// An incremental, sans-I/O parser for one direction of an RTSP connection.
///
/// # Framing rules
///
/// Between messages, a `$` byte starts an interleaved frame (RFC 2326 10.12) and empty lines
/// are skipped. Otherwise a start line follows: `RTSP/x.y code reason` for a response, `METHOD
/// uri RTSP/x.y` for a request. Lines end in CRLF, or in CR or LF alone (RFC 2326 section 4:
/// "receivers should be prepared to also interpret CR and LF by themselves as line
/// terminators"); a CR followed by LF is always one CRLF, even when a read ends between the
/// two. The head ends at an empty line; a body follows if `Content-Length` says so.
///
/// # Dialect
///
/// A message is lab-flavoured ([`Dialect::Lab`]) when it was completed at a read boundary
/// without a blank line (see below), carries the lab's `RTSP/1.4`, or (a request) names a bare
/// file instead of `*` or an absolute URL. Line terminators alone say nothing: a standard
/// client may use any of the three.
///
/// The lab dialect has no blank line and no trailing newline: a message ends where the peer's
/// write ends. The parser cannot see writes, so the socket layer reports them by calling
/// [`MessageParser::end_of_read`] after every read. At such a boundary a message is complete
/// when its text so far uses bare LF only (no CR anywhere), it has a complete start line and
/// at least one header, the last line is a `Name: value` header, and no `Content-Length`
/// announces a body. Standard peers always use CRLF and a blank line, so for them boundaries
/// change nothing and add no latency.
///
/// The socket layer's loop is therefore: `push` what a read returned, `end_of_read`, then
/// `next` until it returns `Ok(None)`.
///
/// Lab replies may carry a body without `Content-Length` (the lab report's DESCRIBE reply):
/// in a bare-LF response without `Content-Length`, the first line that is not a `Name: value`
/// header, or everything after an empty line, is body up to the read boundary.
///
/// Two lab requests written back to back and read together arrive as one text whose second
/// request line is glued to the first one's last header line (`...client_port= 25000PLAY
/// movie.Mjpeg RTSP/1.0`, as the lab report's merged SETUP+PLAY client writes them): a header
/// line of a bare-LF request that ends in a known method, a URI and an RTSP version is split
/// there, and the second request parsed on its own.
///
/// Known limit of boundary framing: a lab message split over two reads is indistinguishable
/// from two messages; the lab's own server fails on it too.
///
/// # After an error
///
/// Every [`ParseError`] is final: the byte stream can no longer be framed reliably (after a bad
/// `Content-Length` nobody knows where the next message starts). The parser keeps returning
/// the same error from [`MessageParser::next`] and [`MessageParser::push`]. A server answers
/// with [`ParseError::status`] (using [`MessageParser::error_context`] for the CSeq and the
/// dialect, when known) and closes the connection; a client closes the connection.
///
/// # Example
///
/// ```
/// use rtsp_core::rtsp::{Message, MessageParser, Method};
/// let mut parser = MessageParser::new();
/// // A lab client's PLAY, as one TCP read:
/// parser.push(b"PLAY movie.Mjpeg RTSP/1.0\nCSeq: 2\nSession: 123456")?;
/// assert!(parser.next()?.is_none()); // could still be going on...
/// parser.end_of_read(); // ...but the read ended here.
/// let Some(Message::Request(req)) = parser.next()? else { panic!() };
/// assert_eq!(req.method(), &Method::Play);
/// # Ok::<(), rtsp_core::rtsp::ParseError>(())
/// ```
#[derive(Debug)]
pub struct MessageParser {
    limits: Limits,
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    pos: usize,
    /// Where the search for the end of the current line resumes (bytes before it hold no LF).
    scan: usize,
    state: State,
    /// `end_of_read` was called and nothing was pushed since.
    at_boundary: bool,
    /// A line ended in a CR that was the last byte read: an LF arriving next is the second
    /// half of its CRLF, not an empty line.
    skip_lf: bool,
    progress: ErrorContext,
    failure: Option<(ParseError, ErrorContext)>,
}

#[derive(Debug)]
enum State {
    /// Between messages.
    Idle,
    /// Start line read, reading header lines.
    Head(Box<Head>),
    /// Reading a body of known length; the number is what is still missing.
    Body(Box<Head>, usize),
    /// Reading a lab reply's body, which ends at the read boundary.
    LabBody(Box<Head>),
}

#[derive(Debug)]
enum StartLine {
    Request {
        method: Method,
        uri: String,
        version: Version,
    },
    Response {
        version: Version,
        status: StatusCode,
        reason: String,
    },
}

#[derive(Debug)]
struct Head {
    start: StartLine,
    headers: Headers,
    head_len: usize,
    /// A line ended in CR (CRLF or CR alone): the message is not lab-framed.
    saw_cr: bool,
    body: Vec<u8>,
}

/// How a line ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineEnd {
    CrLf,
    Lf,
    Cr,
}

impl Head {
    /// A bare-LF response without Content-Length, whose body runs to the read boundary.
    fn lab_body_allowed(&self) -> bool {
        matches!(self.start, StartLine::Response { .. })
            && !self.saw_cr
            && !self.headers.contains(ContentLength::NAME)
    }

    fn shows_lab_signs(&self) -> bool {
        match &self.start {
            StartLine::Request { uri, version, .. } => version.is_lab() || is_bare(uri),
            StartLine::Response { version, .. } => version.is_lab(),
        }
    }
}

enum Step {
    Emit(Message),
    Continue,
    NeedMore,
}

enum HeaderLine {
    Field(String, String),
    Continuation(String),
}

impl Default for MessageParser {
    fn default() -> Self {
        Self::new()
    }
}

impl MessageParser {
    /// A parser with [`Limits::default`].
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    /// A parser with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            buf: Vec::new(),
            pos: 0,
            scan: 0,
            state: State::Idle,
            at_boundary: false,
            skip_lf: false,
            progress: ErrorContext::default(),
            failure: None,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Appends bytes read from the connection. Drain with [`next`](Self::next) after every
    /// push; at most [`Limits::max_buffered`] unconsumed bytes are accepted.
    pub fn push(&mut self, data: &[u8]) -> Result<(), ParseError> {
        if let Some((error, _)) = &self.failure {
            return Err(error.clone());
        }
        if data.is_empty() {
            return Ok(());
        }
        self.at_boundary = false;
        let buffered = self.buf.len().saturating_sub(self.pos);
        if buffered.saturating_add(data.len()) > self.limits.max_buffered {
            let error = ParseError::BufferFull {
                limit: self.limits.max_buffered,
            };
            self.fail(error.clone());
            return Err(error);
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// Declares that the peer's write ended at the current end of the buffered bytes: call it
    /// after pushing each read, then drain with [`next`](Self::next). This is what completes
    /// lab-dialect messages (see [`MessageParser`]). A later `push` cancels it.
    pub fn end_of_read(&mut self) {
        self.at_boundary = true;
    }

    /// The next complete item, `Ok(None)` if more bytes are needed.
    // Not an `Iterator`: `None` means "not yet", not "finished", and errors are values.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Message>, ParseError> {
        if let Some((error, _)) = &self.failure {
            return Err(error.clone());
        }
        let result = self.advance();
        if let Err(error) = &result {
            self.fail(error.clone());
        }
        result
    }

    /// Whether a parse error has ended this parser.
    pub fn is_failed(&self) -> bool {
        self.failure.is_some()
    }

    /// After an error: the CSeq and dialect of the message that failed, as far as known.
    pub fn error_context(&self) -> Option<ErrorContext> {
        self.failure.as_ref().map(|(_, context)| *context)
    }

    /// No partial message and no unconsumed bytes: a connection closing now loses nothing.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle) && self.pos >= self.buf.len()
    }

    /// Unconsumed bytes held.
    pub fn buffered_len(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn fail(&mut self, error: ParseError) {
        self.failure = Some((error, self.progress));
        self.skip_lf = false;
        self.state = State::Idle;
        self.buf = Vec::new();
        self.pos = 0;
        self.scan = 0;
    }

    fn advance(&mut self) -> Result<Option<Message>, ParseError> {
        if self.skip_lf {
            match self.available().first() {
                Some(b'\n') => {
                    self.consume(1);
                    self.skip_lf = false;
                }
                Some(_) => self.skip_lf = false,
                None => {}
            }
        }
        loop {
            let step = match mem::replace(&mut self.state, State::Idle) {
                State::Idle => self.step_idle()?,
                State::Head(head) => self.step_head(head)?,
                State::Body(head, missing) => self.step_body(head, missing),
                State::LabBody(head) => self.step_lab_body(head)?,
            };
            match step {
                Step::Emit(message) => return Ok(Some(message)),
                Step::Continue => {}
                Step::NeedMore => {
                    if self.at_boundary {
                        if let Some(message) = self.at_read_boundary()? {
                            return Ok(Some(message));
                        }
                    }
                    self.compact();
                    return Ok(None);
                }
            }
        }
    }

    fn available(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    fn consume(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.buf.len());
        self.scan = self.pos;
    }

    fn compact(&mut self) {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.scan = self.scan.saturating_sub(self.pos);
            self.pos = 0;
        }
    }

    /// Takes a complete line: its bytes without the line end, and how it ended. A CR that is
    /// the last byte buffered ends a line only at a read boundary (it may be the first half of
    /// a CRLF whose LF is still on its way; if that LF comes, it is skipped).
    fn take_line(&mut self) -> Option<(Vec<u8>, LineEnd)> {
        let from = self.scan.max(self.pos);
        let Some(offset) = self
            .buf
            .get(from..)?
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
        else {
            self.scan = self.buf.len();
            return None;
        };
        let at = from + offset;
        let (end, next) = match (self.buf.get(at), self.buf.get(at + 1)) {
            (Some(b'\n'), _) => (LineEnd::Lf, at + 1),
            (_, Some(b'\n')) => (LineEnd::CrLf, at + 2),
            (_, Some(_)) => (LineEnd::Cr, at + 1),
            (_, None) if self.at_boundary => {
                self.skip_lf = true;
                (LineEnd::Cr, at + 1)
            }
            (_, None) => {
                self.scan = at;
                return None;
            }
        };
        let line = self.buf.get(self.pos..at).unwrap_or_default().to_vec();
        self.consume(next - self.pos);
        Some((line, end))
    }

    fn step_idle(&mut self) -> Result<Step, ParseError> {
        match *self.available() {
            [] | [b'\r'] => Ok(Step::NeedMore),
            [b'$', channel, hi, lo, ref rest @ ..] => {
                let len = usize::from(u16::from_be_bytes([hi, lo]));
                let Some(payload) = rest.get(..len) else {
                    return Ok(Step::NeedMore);
                };
                let frame = Interleaved::from_wire(channel, payload.to_vec());
                self.consume(4 + len);
                Ok(Step::Emit(Message::Interleaved(frame)))
            }
            [b'$', ..] => Ok(Step::NeedMore),
            [b'\r', b'\n', ..] => {
                self.consume(2);
                Ok(Step::Continue)
            }
            // Empty lines between messages are tolerated (RFC 2616 4.1), stray CRs too.
            [b'\n' | b'\r', ..] => {
                self.consume(1);
                Ok(Step::Continue)
            }
            _ => {
                let limit = self.limits.max_line_len;
                let Some((line, end)) = self.take_line() else {
                    if self.available().len() > limit.saturating_add(1) {
                        return Err(ParseError::StartLineTooLong { limit });
                    }
                    return Ok(Step::NeedMore);
                };
                if line.len() > limit {
                    return Err(ParseError::StartLineTooLong { limit });
                }
                let start = parse_start_line(&line)?;
                let head = Head {
                    start,
                    headers: Headers::new(),
                    head_len: line.len(),
                    saw_cr: end != LineEnd::Lf,
                    body: Vec::new(),
                };
                if head.head_len > self.limits.max_head_len {
                    return Err(ParseError::HeadTooLarge {
                        limit: self.limits.max_head_len,
                    });
                }
                self.progress = ErrorContext {
                    cseq: None,
                    dialect: if head.shows_lab_signs() {
                        Dialect::Lab
                    } else {
                        Dialect::Standard
                    },
                };
                self.state = State::Head(Box::new(head));
                Ok(Step::Continue)
            }
        }
    }

    fn step_head(&mut self, mut head: Box<Head>) -> Result<Step, ParseError> {
        let limit = self.limits.max_line_len;
        let line_start = self.pos;
        let Some((line, end)) = self.take_line() else {
            if self.available().len() > limit.saturating_add(1) {
                return Err(ParseError::HeaderLineTooLong { limit });
            }
            self.state = State::Head(head);
            return Ok(Step::NeedMore);
        };
        if end != LineEnd::Lf {
            head.saw_cr = true;
        }
        if line.is_empty() {
            return self.end_of_head(head);
        }
        if line.len() > limit {
            return Err(ParseError::HeaderLineTooLong { limit });
        }
        let glued = match head.start {
            StartLine::Request { .. } if !head.saw_cr => glued_request_line(&line),
            _ => None,
        };
        if let Some(at) = glued {
            // This request ends inside the line; the next one starts there.
            let header = line.get(..at).unwrap_or_default();
            let field = classify_header_line(header)?;
            self.add_header(&mut head, field, header.len())?;
            self.pos = line_start.saturating_add(at).min(self.buf.len());
            self.scan = self.pos;
            return Ok(Step::Emit(self.finish(*head, true)));
        }
        match classify_header_line(&line) {
            Ok(header) => self.add_header(&mut head, header, line.len())?,
            Err(_) if head.lab_body_allowed() => {
                head.body.extend_from_slice(&line);
                head.body.push(b'\n');
                self.check_body_len(head.body.len())?;
                self.state = State::LabBody(head);
                return Ok(Step::Continue);
            }
            Err(error) => return Err(error),
        }
        self.state = State::Head(head);
        Ok(Step::Continue)
    }

    fn add_header(
        &mut self,
        head: &mut Head,
        line: HeaderLine,
        len: usize,
    ) -> Result<(), ParseError> {
        head.head_len = head.head_len.saturating_add(len);
        if head.head_len > self.limits.max_head_len {
            return Err(ParseError::HeadTooLarge {
                limit: self.limits.max_head_len,
            });
        }
        match line {
            HeaderLine::Field(name, value) => {
                if head.headers.len() >= self.limits.max_headers {
                    return Err(ParseError::TooManyHeaders {
                        limit: self.limits.max_headers,
                    });
                }
                if name_matches(&name, CSeq::NAME) {
                    self.progress.cseq = CSeq::parse(&value).ok().map(|c| c.0);
                }
                head.headers.push_parsed(name, value);
            }
            HeaderLine::Continuation(more) => {
                if !head.headers.continue_last(&more) {
                    return Err(ParseError::InvalidHeaderLine);
                }
            }
        }
        Ok(())
    }

    fn end_of_head(&mut self, mut head: Box<Head>) -> Result<Step, ParseError> {
        match self.content_length(&head.headers)? {
            Some(len) if len > 0 => {
                head.body.reserve_exact(len);
                self.state = State::Body(head, len);
                Ok(Step::Continue)
            }
            None if head.lab_body_allowed() => {
                self.state = State::LabBody(head);
                Ok(Step::Continue)
            }
            _ => Ok(Step::Emit(self.finish(*head, false))),
        }
    }

    fn step_body(&mut self, mut head: Box<Head>, missing: usize) -> Step {
        let available = self.available();
        let take = missing.min(available.len());
        head.body
            .extend_from_slice(available.get(..take).unwrap_or_default());
        self.consume(take);
        if take == missing {
            Step::Emit(self.finish(*head, false))
        } else {
            self.state = State::Body(head, missing - take);
            Step::NeedMore
        }
    }

    fn step_lab_body(&mut self, mut head: Box<Head>) -> Result<Step, ParseError> {
        let available = self.available();
        let len = available.len();
        if len > 0 {
            self.check_body_len(head.body.len().saturating_add(len))?;
            head.body.extend_from_slice(available);
            self.consume(len);
        }
        self.state = State::LabBody(head);
        Ok(Step::NeedMore)
    }

    fn check_body_len(&self, len: usize) -> Result<(), ParseError> {
        if len > self.limits.max_body_len {
            return Err(ParseError::BodyTooLarge {
                limit: self.limits.max_body_len,
            });
        }
        Ok(())
    }

    /// The announced body length; checks syntax, agreement and the limit.
    fn content_length(&self, headers: &Headers) -> Result<Option<usize>, ParseError> {
        let mut length: Option<u64> = None;
        for value in headers.get_all(ContentLength::NAME) {
            let parsed = ContentLength::parse(value)
                .map_err(|_| ParseError::InvalidContentLength(excerpt(value)))?
                .0;
            if length.is_some_and(|l| l != parsed) {
                return Err(ParseError::ConflictingContentLength);
            }
            length = Some(parsed);
        }
        match length {
            None => Ok(None),
            Some(len) => match usize::try_from(len) {
                Ok(len) if len <= self.limits.max_body_len => Ok(Some(len)),
                _ => Err(ParseError::BodyTooLarge {
                    limit: self.limits.max_body_len,
                }),
            },
        }
    }

    /// Applies the lab rule at a read boundary (see the type docs).
    fn at_read_boundary(&mut self) -> Result<Option<Message>, ParseError> {
        let mut head = match mem::replace(&mut self.state, State::Idle) {
            State::LabBody(head) => return Ok(Some(self.finish(*head, true))),
            State::Head(head) if !head.saw_cr => head,
            other => {
                self.state = other;
                return Ok(None);
            }
        };
        let partial = self.available().to_vec();
        if partial.is_empty() {
            // The last line was complete: the message is, unless it has no header at all or
            // announces a body.
            if head.headers.is_empty() || self.content_length(&head.headers)?.unwrap_or(0) > 0 {
                self.state = State::Head(head);
                return Ok(None);
            }
            return Ok(Some(self.finish(*head, true)));
        }
        if partial.contains(&b'\r') {
            self.state = State::Head(head);
            return Ok(None);
        }
        let limit = self.limits.max_line_len;
        if partial.len() > limit {
            return Err(ParseError::HeaderLineTooLong { limit });
        }
        match classify_header_line(&partial) {
            Ok(HeaderLine::Field(name, value)) => {
                let mut probe = head.headers.clone();
                probe.push_parsed(name.clone(), value.clone());
                if self.content_length(&probe)?.unwrap_or(0) > 0 {
                    self.state = State::Head(head);
                    return Ok(None);
                }
                self.add_header(&mut head, HeaderLine::Field(name, value), partial.len())?;
                self.consume(partial.len());
                Ok(Some(self.finish(*head, true)))
            }
            Err(_) if head.lab_body_allowed() => {
                self.check_body_len(partial.len())?;
                head.body = partial;
                self.consume(head.body.len());
                Ok(Some(self.finish(*head, true)))
            }
            _ => {
                self.state = State::Head(head);
                Ok(None)
            }
        }
    }

    fn finish(&mut self, head: Head, at_boundary: bool) -> Message {
        let dialect = if at_boundary || head.shows_lab_signs() {
            Dialect::Lab
        } else {
            Dialect::Standard
        };
        self.progress = ErrorContext::default();
        let Head {
            start,
            headers,
            body,
            ..
        } = head;
        match start {
            StartLine::Request {
                method,
                uri,
                version,
            } => Message::Request(Request {
                method,
                uri,
                version,
                headers,
                body,
                dialect,
            }),
            StartLine::Response {
                version,
                status,
                reason,
            } => Message::Response(Response {
                version,
                status,
                reason,
                headers,
                body,
                dialect,
            }),
        }
    }
}

/// Head text: UTF-8 without control characters other than HTAB.
fn head_text(line: &[u8]) -> Result<&str, ParseError> {
    let text = std::str::from_utf8(line).map_err(|_| ParseError::InvalidUtf8)?;
    if !is_field_text(text) {
        return Err(ParseError::ControlCharacter);
    }
    Ok(text)
}

fn parse_start_line(line: &[u8]) -> Result<StartLine, ParseError> {
    let text = head_text(line)?;
    if text.starts_with("RTSP/") {
        parse_status_line(text)
    } else {
        parse_request_line(text)
    }
}

fn parse_request_line(text: &str) -> Result<StartLine, ParseError> {
    let mut parts = text.split([' ', '\t']).filter(|p| !p.is_empty());
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::InvalidRequestLine);
    };
    if !is_token(method) {
        return Err(ParseError::InvalidMethod(excerpt(method)));
    }
    let method =
        Method::from_token(method).map_err(|_| ParseError::InvalidMethod(excerpt(method)))?;
    let version =
        Version::parse(version).map_err(|_| ParseError::InvalidVersion(excerpt(version)))?;
    Ok(StartLine::Request {
        method,
        uri: uri.to_owned(),
        version,
    })
}

fn parse_status_line(text: &str) -> Result<StartLine, ParseError> {
    let (version, rest) = text
        .split_once([' ', '\t'])
        .ok_or(ParseError::InvalidStatusLine)?;
    let version =
        Version::parse(version).map_err(|_| ParseError::InvalidVersion(excerpt(version)))?;
    let rest = rest.trim_start_matches([' ', '\t']);
    let (code, reason) = match rest.split_once([' ', '\t']) {
        Some((code, reason)) => (code, reason),
        None => (rest, ""),
    };
    let status = (code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()))
        .then(|| code.parse::<u16>().ok())
        .flatten()
        .and_then(StatusCode::from_u16)
        .ok_or(ParseError::InvalidStatusLine)?;
    Ok(StartLine::Response {
        version,
        status,
        reason: trim_ows(reason).to_owned(),
    })
}

/// Where a request line glued to the end of a header line starts (see [`MessageParser`]): the
/// line must end in `<known method> <uri> RTSP/x.y`, the method glued to the last character of
/// a complete `Name: value` header before it (lab requests end without a newline or a space).
pub(crate) fn glued_request_line(line: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(line).ok()?;
    let (rest, version) = text.rsplit_once(' ')?;
    Version::parse(version).ok()?;
    let (rest, uri) = rest.rsplit_once(' ')?;
    if uri.is_empty() {
        return None;
    }
    // The longest proper suffix of the last word that names a method we know: extension
    // methods would make any word ending in capitals a candidate.
    let word_start = rest.rfind([' ', '\t']).map_or(0, |i| i + 1);
    let start = (word_start + 1..rest.len())
        .filter(|&i| rest.is_char_boundary(i))
        .find(|&i| {
            rest.get(i..)
                .and_then(|m| Method::from_token(m).ok())
                .is_some_and(|m| !matches!(m, Method::Extension(_)))
        })?;
    let header = line.get(..start)?;
    matches!(classify_header_line(header), Ok(HeaderLine::Field(..))).then_some(start)
}

fn classify_header_line(line: &[u8]) -> Result<HeaderLine, ParseError> {
    let text = head_text(line)?;
    if text.starts_with([' ', '\t']) {
        return Ok(HeaderLine::Continuation(trim_ows(text).to_owned()));
    }
    let (name, value) = text.split_once(':').ok_or(ParseError::InvalidHeaderLine)?;
    if !is_token(name) {
        return Err(ParseError::InvalidHeaderLine);
    }
    Ok(HeaderLine::Field(
        name.to_owned(),
        trim_ows(value).to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        let StartLine::Response {
            version,
            status,
            reason,
        } = parse_start_line(b"RTSP/1.0 461 Unsupported transport").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (version, status, reason.as_str()),
            (
                Version::RTSP_1_0,
                StatusCode::UNSUPPORTED_TRANSPORT,
                "Unsupported transport"
            )
        );
        let StartLine::Response { reason, .. } = parse_start_line(b"RTSP/1.0  200   OK  ").unwrap()
        else {
            panic!()
        };
        assert_eq!(reason, "OK");
        for bad in [
            &b"RTSP/1.0 099 x"[..],
            b"RTSP/1.0 2x0 OK",
            b"RTSP/1.0 +20 OK",
            b"RTSP/1.0",
        ] {
            assert!(
                matches!(parse_start_line(bad), Err(ParseError::InvalidStatusLine)),
                "{bad:?}"
            );
        }
        assert!(matches!(
            parse_start_line(b"RTSP/9 200 OK"),
            Err(ParseError::InvalidVersion(_))
        ));
    }

    #[test]
    fn request_lines() {
        let StartLine::Request {
            method,
            uri,
            version,
        } = parse_start_line(b"SETUP movie.Mjpeg RTSP/1.0").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (method, uri.as_str(), version),
            (Method::Setup, "movie.Mjpeg", Version::RTSP_1_0)
        );
        assert!(matches!(
            parse_start_line(b"$ETUP x RTSP/1.0"),
            Err(ParseError::InvalidMethod(_))
        ));
        assert!(matches!(
            parse_start_line(b"\xc3\x28 x RTSP/1.0"),
            Err(ParseError::InvalidUtf8)
        ));
    }

    #[test]
    fn header_lines() {
        assert!(matches!(
            classify_header_line(b"CSeq:  7 "),
            Ok(HeaderLine::Field(n, v)) if n == "CSeq" && v == "7"
        ));
        assert!(matches!(
            classify_header_line(b"\t more"),
            Ok(HeaderLine::Continuation(v)) if v == "more"
        ));
        assert!(matches!(
            classify_header_line(b"The video file : x"),
            Err(ParseError::InvalidHeaderLine)
        ));
        assert!(matches!(
            classify_header_line(b": x"),
            Err(ParseError::InvalidHeaderLine)
        ));
        assert!(matches!(
            classify_header_line(b"StreamID =1"),
            Err(ParseError::InvalidHeaderLine)
        ));
    }

    #[test]
    fn buffer_is_compacted() {
        let mut parser = MessageParser::new();
        for _ in 0..100 {
            parser.push(b"$\x01\x00\x04abcd$\x00").unwrap();
            while parser.next().unwrap().is_some() {}
            parser.push(b"\x00\x01z").unwrap();
            while parser.next().unwrap().is_some() {}
        }
        assert_eq!(parser.buf.len(), 0);
        assert!(parser.is_idle());
    }
}
