//! HTTP/1.1 requests to the server's web listener (`--http`: the MJPEG streams, the page and its
//! JSON) and to its `--metrics` listener, parsed with `httparse` and reduced to a [`Route`].
//!
//! Sans-I/O: bytes in, a request or "need more bytes" out. The runtime reads the socket and
//! writes the replies; this module decides what a request names, confining stream paths to the
//! media root with the same lexical checks as RTSP request-URIs ([`super::target`]).

use super::target::{self, Target};
use super::Refusal;
use crate::rtsp::url::percent_decode;

/// Longest request head accepted, in bytes (a browser's is well under 2 KiB).
pub const MAX_HEAD: usize = 8 * 1024;

/// Most header lines in a request head.
const MAX_HEADERS: usize = 48;

/// The multipart boundary of every stream (RFC 2046 section 5.1.1: at most 70 characters,
/// never found in a JPEG's entropy-coded data because a part's length is given anyway).
pub const BOUNDARY: &str = "rtspjpegframe";

/// The `Content-Type` of a stream.
pub const STREAM_CONTENT_TYPE: &str = "multipart/x-mixed-replace; boundary=rtspjpegframe";

/// The path prefix of the streams: `/stream/<path>` streams the presentation `<path>`.
pub const STREAM_PREFIX: &str = "/stream/";

/// The request methods the listeners tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`: the reply's head without its body.
    Head,
    /// Anything else (answered 405).
    Other,
}

impl Method {
    /// The method's name as Digest hashes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Other => "OTHER",
        }
    }
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The request-target as sent (path and query, still percent-encoded): what Digest's
    /// `uri` parameter repeats.
    pub target: String,
    /// Every `Authorization` header value, in order.
    pub authorization: Vec<String>,
}

/// Outcome of [`parse`] on the bytes received so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// The head is not complete yet: read more.
    Partial,
    /// A whole head of `len` bytes (a body, if any, is ignored: no route takes one).
    Complete {
        /// The request.
        request: Request,
        /// Bytes the head took.
        len: usize,
    },
}

/// Why a request head was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// 400: not an HTTP/1.x request head.
    #[error("malformed request")]
    Malformed,
    /// 431: the head is longer than [`MAX_HEAD`] or has too many header lines.
    #[error("request head too large")]
    TooLarge,
}

impl HttpError {
    /// The status code and reason phrase of the reply.
    pub fn status(self) -> (u16, &'static str) {
        match self {
            Self::Malformed => (400, "Bad Request"),
            Self::TooLarge => (431, "Request Header Fields Too Large"),
        }
    }
}

/// Parse the start of `buf` as an HTTP/1.x request head.
pub fn parse(buf: &[u8]) -> Result<Parsed, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) if len <= MAX_HEAD => {
            let method = match req.method {
                Some("GET") => Method::Get,
                Some("HEAD") => Method::Head,
                _ => Method::Other,
            };
            let target = req.path.unwrap_or_default().to_owned();
            let authorization = req
                .headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case("authorization"))
                .map(|h| std::str::from_utf8(h.value).map(str::to_owned))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| HttpError::Malformed)?;
            Ok(Parsed::Complete {
                request: Request {
                    method,
                    target,
                    authorization,
                },
                len,
            })
        }
        Ok(httparse::Status::Complete(_)) => Err(HttpError::TooLarge),
        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => Ok(Parsed::Partial),
        Ok(httparse::Status::Partial) | Err(httparse::Error::TooManyHeaders) => {
            Err(HttpError::TooLarge)
        }
        Err(_) => Err(HttpError::Malformed),
    }
}

/// A file of the page, embedded in the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asset {
    /// `/`: the page.
    Index,
    /// `/app.js`: the page's script.
    Script,
    /// `/style.css`: the page's style sheet.
    Style,
}

/// What a request of the web listener names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// One of the page's files.
    Asset(Asset),
    /// `/api/paths`: the paths, their viewers and statistics, as JSON.
    Paths,
    /// `/stream/<path>`: the presentation's frames as multipart MJPEG.
    Stream(Target),
    /// `/metrics`: the Prometheus exposition.
    Metrics,
    /// `/healthz`: 200 while serving, 503 while draining.
    Health,
}

/// What `target` (a request-target) names. The query string is ignored. Errors: 404 for
/// anything else, including stream paths that would leave the media root; 400 for a bad
/// percent-encoding.
pub fn route(target: &str) -> Result<Route, Refusal> {
    let path = target.split(['?', '#']).next().unwrap_or_default();
    match path {
        "/" | "/index.html" => Ok(Route::Asset(Asset::Index)),
        "/app.js" => Ok(Route::Asset(Asset::Script)),
        "/style.css" => Ok(Route::Asset(Asset::Style)),
        "/api/paths" => Ok(Route::Paths),
        "/metrics" => Ok(Route::Metrics),
        "/healthz" => Ok(Route::Health),
        _ => {
            let encoded = path.strip_prefix(STREAM_PREFIX).ok_or(Refusal::NotFound)?;
            let decoded = percent_decode(encoded)
                .map_err(|_| Refusal::BadRequest("bad percent-encoding in the path"))?;
            let stream = target::resolve_path(&decoded)?;
            // `/stream/movie.Mjpeg/track1` is not a stream: only RTSP has tracks.
            if stream.track {
                return Err(Refusal::NotFound);
            }
            Ok(Route::Stream(stream))
        }
    }
}

/// The head of one multipart part carrying a JPEG of `len` bytes. The part's body follows,
/// then [`PART_END`].
pub fn part_head(len: usize) -> String {
    format!("--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len}\r\n\r\n")
}

/// What ends each part's body.
pub const PART_END: &[u8] = b"\r\n";

/// The head of a reply: status line, `Content-Type`, `Content-Length` when the body has one
/// (a stream has none: it ends when the connection does), no caching, `Connection: close`,
/// then `extra` header lines (each ending in CRLF).
pub fn reply_head(
    status: u16,
    reason: &str,
    content_type: &str,
    len: Option<usize>,
    extra: &str,
) -> String {
    let length = len.map_or_else(String::new, |n| format!("Content-Length: {n}\r\n"));
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n{length}Cache-Control: no-store\r\nConnection: close\r\n{extra}\r\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(bytes: &[u8]) -> (Request, usize) {
        match parse(bytes) {
            Ok(Parsed::Complete { request, len }) => (request, len),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_browser_request_parses_with_its_credentials() {
        let head =
            b"GET /stream/movie.Mjpeg HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YTpi\r\n\r\nrest";
        let (req, len) = complete(head);
        assert_eq!(len, head.len() - 4);
        assert_eq!(req.method, Method::Get);
        assert_eq!(req.target, "/stream/movie.Mjpeg");
        assert_eq!(req.authorization, vec!["Basic YTpi".to_owned()]);
    }

    #[test]
    fn a_head_cut_short_asks_for_more_and_an_endless_one_is_refused() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\nHost:"), Ok(Parsed::Partial));
        let mut long = b"GET / HTTP/1.1\r\n".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_HEAD));
        assert_eq!(parse(&long), Err(HttpError::TooLarge));
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..MAX_HEADERS + 1 {
            many.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(parse(&many), Err(HttpError::TooLarge));
        assert_eq!(
            parse(b"\x16\x03\x01garbage\r\n\r\n"),
            Err(HttpError::Malformed)
        );
    }

    #[test]
    fn other_methods_are_told_apart() {
        assert_eq!(complete(b"HEAD / HTTP/1.0\r\n\r\n").0.method, Method::Head);
        assert_eq!(complete(b"POST / HTTP/1.1\r\n\r\n").0.method, Method::Other);
    }

    #[test]
    fn routes() {
        assert_eq!(route("/"), Ok(Route::Asset(Asset::Index)));
        assert_eq!(route("/app.js?v=1"), Ok(Route::Asset(Asset::Script)));
        assert_eq!(route("/api/paths"), Ok(Route::Paths));
        assert_eq!(route("/healthz"), Ok(Route::Health));
        let Ok(Route::Stream(t)) = route("/stream/live/cam") else {
            panic!("not a stream")
        };
        assert_eq!(t.presentation, "live/cam");
        let Ok(Route::Stream(t)) = route("/stream/my%20clip.mjpg?x") else {
            panic!("not a stream")
        };
        assert_eq!(t.presentation, "my clip.mjpg");
    }

    #[test]
    fn stream_paths_stay_in_the_media_root() {
        for bad in [
            "/stream/../etc/passwd",
            "/stream/a/../../b.mjpg",
            "/stream/%2e%2e/secret.mjpg",
            "/stream/",
            "/stream/movie.Mjpeg/track1",
            "/stream/a%5cb.mjpg",
            "/etc/passwd",
            "/streamx",
        ] {
            assert_eq!(route(bad), Err(Refusal::NotFound), "{bad}");
        }
        assert!(matches!(route("/stream/%zz"), Err(Refusal::BadRequest(_))));
        assert!(matches!(
            route("/stream/%00.mjpg"),
            Err(Refusal::BadRequest(_))
        ));
    }

    #[test]
    fn a_part_says_its_length() {
        assert_eq!(
            part_head(1234),
            "--rtspjpegframe\r\nContent-Type: image/jpeg\r\nContent-Length: 1234\r\n\r\n"
        );
        assert!(STREAM_CONTENT_TYPE.ends_with(BOUNDARY));
    }
}
