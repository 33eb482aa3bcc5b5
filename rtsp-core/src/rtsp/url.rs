//! Request-URIs: absolute `rtsp://` URLs, the lab's bare file names, and `*`.
//!
//! No filesystem checks happen here. The path of an absolute URL is percent-decoded so that
//! whoever maps it to a file sees `..` however it was spelled (`%2e%2e%2f` decodes to `../`);
//! refusing traversal is the media root's job.

use std::borrow::Cow;
use std::fmt;

use super::syntax::{excerpt, is_uri_text};

/// Why a request-URI does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// Empty, or whitespace / control characters in the URI.
    #[error("request-URI is empty or contains whitespace or control characters")]
    InvalidCharacter,
    /// A `scheme://` other than `rtsp`, `rtsps` or `rtspu`.
    #[error("unsupported URL scheme {0:?}")]
    UnsupportedScheme(String),
    /// Missing or malformed host.
    #[error("invalid host in URL")]
    InvalidHost,
    /// A port that is not 1..=65535.
    #[error("invalid port in URL")]
    InvalidPort,
    /// `%` not followed by two hex digits, or a decoded path that is not UTF-8 text.
    #[error("invalid percent-encoding in URL path")]
    InvalidPercentEncoding,
}

/// The scheme of an absolute URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `rtsp://` (default port 554).
    Rtsp,
    /// `rtsps://` (default port 322).
    Rtsps,
    /// `rtspu://` (default port 554).
    Rtspu,
}

impl Scheme {
    /// The port used when the URL names none.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Rtsps => 322,
            Self::Rtsp | Self::Rtspu => 554,
        }
    }

    /// The scheme name in lowercase.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rtsp => "rtsp",
            Self::Rtsps => "rtsps",
            Self::Rtspu => "rtspu",
        }
    }
}

/// A parsed `rtsp://host[:port]/path[?query]` URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AbsoluteUrl {
    /// The scheme.
    pub scheme: Scheme,
    /// Host name or address; IPv6 literals without brackets. User info is dropped.
    pub host: String,
    /// The port, the scheme's default if absent.
    pub port: u16,
    /// The percent-decoded path, starting with `/` (`/` if the URL has none).
    pub path: String,
    /// The query after `?`, verbatim.
    pub query: Option<String>,
}

/// What a request line names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RequestUri {
    /// `*`: the server itself (`OPTIONS *`, ffmpeg's keep-alive).
    Asterisk,
    /// An absolute URL, as RFC 2326 clients send.
    Absolute(AbsoluteUrl),
    /// A bare name such as `movie.Mjpeg`, as the lab client sends, verbatim (not decoded).
    Bare(String),
}

impl RequestUri {
    /// Parses a request-URI.
    pub fn parse(s: &str) -> Result<Self, UrlError> {
        if !is_uri_text(s) {
            return Err(UrlError::InvalidCharacter);
        }
        if s == "*" {
            return Ok(Self::Asterisk);
        }
        match scheme_of(s) {
            Some(_) => AbsoluteUrl::parse(s).map(Self::Absolute),
            None => Ok(Self::Bare(s.to_owned())),
        }
    }

    /// The resource path: the decoded path of an absolute URL or the bare name; `None` for
    /// `*`. Feed it to [`split_control`].
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::Asterisk => None,
            Self::Absolute(url) => Some(&url.path),
            Self::Bare(name) => Some(name),
        }
    }

    /// Whether this is the lab's bare-name form.
    pub fn is_bare(&self) -> bool {
        matches!(self, Self::Bare(_))
    }
}

/// The scheme name if `s` starts with `scheme://` (RFC 3986 scheme characters).
fn scheme_of(s: &str) -> Option<&str> {
    let (scheme, _) = s.split_once("://")?;
    let mut bytes = scheme.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    (first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
        .then_some(scheme)
}

/// Whether a request-URI is the lab's bare-name form (neither `*` nor `scheme://...`).
pub(crate) fn is_bare(s: &str) -> bool {
    s != "*" && scheme_of(s).is_none()
}

impl AbsoluteUrl {
    /// Parses an absolute `rtsp://`, `rtsps://` or `rtspu://` URL.
    pub fn parse(s: &str) -> Result<Self, UrlError> {
        if !is_uri_text(s) {
            return Err(UrlError::InvalidCharacter);
        }
        let scheme_name = scheme_of(s).ok_or(UrlError::UnsupportedScheme(String::new()))?;
        let scheme = match scheme_name.to_ascii_lowercase().as_str() {
            "rtsp" => Scheme::Rtsp,
            "rtsps" => Scheme::Rtsps,
            "rtspu" => Scheme::Rtspu,
            _ => return Err(UrlError::UnsupportedScheme(excerpt(scheme_name))),
        };
        let rest = s.get(scheme_name.len() + 3..).unwrap_or_default();
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path_and_query) = rest.split_at(authority_end);
        let (raw_path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q.to_owned())),
            None => (path_and_query, None),
        };
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
        let (host, port) = split_host_port(host_port)?;
        let port = match port {
            None | Some("") => scheme.default_port(),
            Some(p) if p.len() <= 5 => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or(UrlError::InvalidPort)?,
            Some(_) => return Err(UrlError::InvalidPort),
        };
        let path = if raw_path.is_empty() {
            "/".to_owned()
        } else {
            percent_decode(raw_path)?
        };
        Ok(Self {
            scheme,
            host: host.to_owned(),
            port,
            path,
            query,
        })
    }
}

/// Splits `host[:port]` / `[v6]:port`.
fn split_host_port(s: &str) -> Result<(&str, Option<&str>), UrlError> {
    let (host, port) = if let Some(v6) = s.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or(UrlError::InvalidHost)?;
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(UrlError::InvalidHost);
        }
        match after {
            "" => (host, None),
            _ => (
                host,
                Some(after.strip_prefix(':').ok_or(UrlError::InvalidHost)?),
            ),
        }
    } else {
        let (host, port) = match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        };
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        {
            return Err(UrlError::InvalidHost);
        }
        (host, port)
    };
    if port.is_some_and(|p| !p.bytes().all(|b| b.is_ascii_digit())) {
        return Err(UrlError::InvalidPort);
    }
    Ok((host, port))
}

/// Decodes `%XX` escapes. The result must be UTF-8 without control characters, so that a
/// decoded NUL or newline can never reach a file name or a log line.
pub(crate) fn percent_decode(s: &str) -> Result<String, UrlError> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b != b'%' {
            out.push(b);
            continue;
        }
        let hex = |b: Option<u8>| b.and_then(|b| (b as char).to_digit(16));
        match (hex(bytes.next()), hex(bytes.next())) {
            (Some(hi), Some(lo)) => out.push(((hi << 4) | lo) as u8),
            _ => return Err(UrlError::InvalidPercentEncoding),
        }
    }
    let decoded = String::from_utf8(out).map_err(|_| UrlError::InvalidPercentEncoding)?;
    if decoded.chars().any(char::is_control) {
        return Err(UrlError::InvalidPercentEncoding);
    }
    Ok(decoded)
}

/// Where `user[:password]@` sits in `scheme://user[:password]@host/...`: the userinfo and the
/// byte range it takes with its `@`.
fn userinfo_span(url: &str) -> Option<(&str, std::ops::Range<usize>)> {
    let scheme_end = url.find("://")? + 3;
    let rest = url.get(scheme_end..)?;
    let authority = rest.get(..rest.find(['/', '?', '#']).unwrap_or(rest.len()))?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    Some((userinfo, scheme_end..scheme_end + userinfo.len() + 1))
}

/// The `user[:password]` of an absolute URL, still percent-encoded.
pub(crate) fn userinfo(url: &str) -> Option<&str> {
    userinfo_span(url).map(|(userinfo, _)| userinfo)
}

/// `url` without its `user:password@`. A request-URI must never carry it: RFC 2326 URLs have
/// none, and a password there would travel in clear and land in server logs.
pub fn without_userinfo(url: &str) -> Cow<'_, str> {
    match userinfo_span(url) {
        Some((_, range)) => {
            let mut out = url.to_owned();
            out.replace_range(range, "");
            Cow::Owned(out)
        }
        None => Cow::Borrowed(url),
    }
}

/// `url` with the password left out of its userinfo (`rtsp://user@host/x`): what may be shown,
/// logged or saved. An empty user name goes too.
pub fn without_password(url: &str) -> Cow<'_, str> {
    let Some((userinfo, range)) = userinfo_span(url) else {
        return Cow::Borrowed(url);
    };
    let user = userinfo.split(':').next().unwrap_or_default();
    let mut out = url.to_owned();
    if user.is_empty() {
        out.replace_range(range, "");
    } else {
        out.replace_range(range, &format!("{user}@"));
    }
    Cow::Owned(out)
}

/// Path characters written as-is; everything else is percent-encoded.
fn is_path_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b)
}

impl fmt::Display for AbsoluteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme.as_str())?;
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        if self.port != self.scheme.default_port() {
            write!(f, ":{}", self.port)?;
        }
        for b in self.path.bytes() {
            if is_path_char(b) {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "%{b:02X}")?;
            }
        }
        if let Some(q) = &self.query {
            write!(f, "?{q}")?;
        }
        Ok(())
    }
}

impl fmt::Display for RequestUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Asterisk => f.write_str("*"),
            Self::Absolute(url) => url.fmt(f),
            Self::Bare(name) => f.write_str(name),
        }
    }
}

/// A resource path split into the presentation and an optional track control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlPath<'a> {
    /// The presentation (file) name, without leading or trailing `/`.
    pub presentation: &'a str,
    /// The track control (`track1`, `trackID=1`, `stream=0`), if the last segment is one.
    pub track: Option<&'a str>,
}

/// Whether a path segment names a track rather than a presentation.
fn is_track_control(segment: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    ["track", "trackID=", "stream="]
        .iter()
        .any(|prefix| segment.strip_prefix(prefix).is_some_and(digits))
}

/// Splits a path (decoded URL path or bare name) into presentation and track:
/// `/movie.Mjpeg/track1` gives `movie.Mjpeg` + `track1`, `/movie/stream=0` gives `movie` +
/// `stream=0`, `/movie/` and `movie.Mjpeg` give the presentation alone. One leading and one
/// trailing `/` are ignored; nothing else is interpreted.
pub fn split_control(path: &str) -> ControlPath<'_> {
    let p = path.strip_prefix('/').unwrap_or(path);
    let p = p.strip_suffix('/').unwrap_or(p);
    match p.rsplit_once('/') {
        Some((presentation, last)) if !presentation.is_empty() && is_track_control(last) => {
            ControlPath {
                presentation,
                track: Some(last),
            }
        }
        _ => ControlPath {
            presentation: p,
            track: None,
        },
    }
}

/// Resolves an SDP `a=control:` value against a base URL the way RTSP clients do (ffmpeg,
/// live555; docs/INTEROP.md section 2): `*` means the base, an absolute URL stays as it is, anything else is
/// appended after a `/`.
pub fn join(base: &str, control: &str) -> String {
    if control == "*" || control.is_empty() {
        base.to_owned()
    } else if scheme_of(control).is_some() {
        control.to_owned()
    } else if base.ends_with('/') {
        format!("{base}{control}")
    } else {
        format!("{base}/{control}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_taken_out_of_urls() {
        let url = "rtsp://alice:s%3Acret@cam.local:554/a/b@c?x=@#f";
        assert_eq!(userinfo(url), Some("alice:s%3Acret"));
        assert_eq!(without_userinfo(url), "rtsp://cam.local:554/a/b@c?x=@#f");
        assert_eq!(
            without_password(url),
            "rtsp://alice@cam.local:554/a/b@c?x=@#f"
        );
        assert_eq!(without_password("rtsp://:pw@h/x"), "rtsp://h/x");
        assert_eq!(
            without_userinfo("rtsp://a:b@[::1]:8554"),
            "rtsp://[::1]:8554"
        );
        for plain in [
            "rtsp://h:1/x@y",
            "rtsp://h",
            "movie.Mjpeg",
            "*",
            "rtsp://h?q=a@b",
        ] {
            assert_eq!(userinfo(plain), None, "{plain}");
            assert!(
                matches!(without_userinfo(plain), Cow::Borrowed(_)),
                "{plain}"
            );
            assert!(
                matches!(without_password(plain), Cow::Borrowed(_)),
                "{plain}"
            );
        }
    }

    fn abs(s: &str) -> AbsoluteUrl {
        match RequestUri::parse(s).unwrap() {
            RequestUri::Absolute(u) => u,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn absolute_urls() {
        let u = abs("rtsp://127.0.0.1:8554/movie");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.1", 8554, "/movie")
        );
        let u = abs("RTSP://Example.com/movie/track1?x=1#frag");
        assert_eq!(
            (u.scheme, u.port, u.path.as_str()),
            (Scheme::Rtsp, 554, "/movie/track1")
        );
        assert_eq!(u.query.as_deref(), Some("x=1"));
        let u = abs("rtsp://user:pw@[::1]:10554");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 10554, "/")
        );
        assert_eq!(u.to_string(), "rtsp://[::1]:10554/");
        assert_eq!(abs("rtsps://h/x").port, 322);
        assert_eq!(abs("rtsp://h:/x").port, 554);
    }

    #[test]
    fn traversal_is_decoded() {
        let u = abs("rtsp://h/%2e%2e%2f%2E%2E%2Fetc/passwd");
        assert_eq!(u.path, "/../../etc/passwd");
        let u = abs("rtsp://h/my%20movie.Mjpeg");
        assert_eq!(u.path, "/my movie.Mjpeg");
        assert_eq!(u.to_string(), "rtsp://h/my%20movie.Mjpeg");
        for bad in [
            "rtsp://h/%zz",
            "rtsp://h/%2",
            "rtsp://h/%00",
            "rtsp://h/a%0d%0a",
            "rtsp://h/%ff",
        ] {
            assert_eq!(
                RequestUri::parse(bad),
                Err(UrlError::InvalidPercentEncoding),
                "{bad}"
            );
        }
    }

    #[test]
    fn bare_and_asterisk() {
        assert_eq!(RequestUri::parse("*").unwrap(), RequestUri::Asterisk);
        let bare = RequestUri::parse("movie.Mjpeg").unwrap();
        assert_eq!(bare, RequestUri::Bare("movie.Mjpeg".into()));
        assert!(bare.is_bare());
        assert_eq!(bare.path(), Some("movie.Mjpeg"));
        // Bare names are kept verbatim: the lab server opens them literally.
        assert_eq!(RequestUri::parse("a%2fb").unwrap().path(), Some("a%2fb"));
        assert_eq!(
            RequestUri::parse("C:/videos/m.Mjpeg").unwrap().path(),
            Some("C:/videos/m.Mjpeg")
        );
        assert!(is_bare("movie.Mjpeg") && !is_bare("*") && !is_bare("rtsp://h/m"));
    }

    #[test]
    fn bad_urls() {
        assert_eq!(RequestUri::parse(""), Err(UrlError::InvalidCharacter));
        assert_eq!(RequestUri::parse("a b"), Err(UrlError::InvalidCharacter));
        assert!(matches!(
            RequestUri::parse("http://h/x"),
            Err(UrlError::UnsupportedScheme(_))
        ));
        for bad in [
            "rtsp://",
            "rtsp:///x",
            "rtsp://h h/",
            "rtsp://[::1/x",
            "rtsp://[zz]/",
            "rtsp://h:x/",
        ] {
            assert!(RequestUri::parse(bad).is_err(), "{bad}");
        }
        for bad in [
            "rtsp://h:0/",
            "rtsp://h:65536/",
            "rtsp://h:-1/",
            "rtsp://h:000001/",
        ] {
            assert_eq!(RequestUri::parse(bad), Err(UrlError::InvalidPort), "{bad}");
        }
    }

    #[test]
    fn control_paths() {
        let c = split_control("/movie.Mjpeg/track1");
        assert_eq!((c.presentation, c.track), ("movie.Mjpeg", Some("track1")));
        let c = split_control("movie.Mjpeg/stream=0");
        assert_eq!((c.presentation, c.track), ("movie.Mjpeg", Some("stream=0")));
        let c = split_control("/movie/trackID=2/");
        assert_eq!((c.presentation, c.track), ("movie", Some("trackID=2")));
        let c = split_control("/movie/");
        assert_eq!((c.presentation, c.track), ("movie", None));
        let c = split_control("movie.Mjpeg");
        assert_eq!((c.presentation, c.track), ("movie.Mjpeg", None));
        let c = split_control("/dir/movie.Mjpeg");
        assert_eq!((c.presentation, c.track), ("dir/movie.Mjpeg", None));
        let c = split_control("/track1");
        assert_eq!((c.presentation, c.track), ("track1", None));
        let c = split_control("/movie/tracks");
        assert_eq!((c.presentation, c.track), ("movie/tracks", None));
    }

    #[test]
    fn joining() {
        assert_eq!(join("rtsp://h/movie/", "track1"), "rtsp://h/movie/track1");
        assert_eq!(join("rtsp://h/movie", "track1"), "rtsp://h/movie/track1");
        assert_eq!(join("rtsp://h/movie/", "*"), "rtsp://h/movie/");
        assert_eq!(join("rtsp://h/movie/", "rtsp://o/x"), "rtsp://o/x");
    }
}
