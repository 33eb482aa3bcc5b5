//! What a request-URI names: a presentation (by a path relative to the media root) and maybe
//! its single track.
//!
//! This is the lexical half of confining requests to the media root: it refuses `..`, absolute
//! paths (in the lab's bare-name form), control characters and backslashes before any file
//! system call is made. The runtime does the other half (canonicalising the path and checking
//! that symlinks stay under the root), which needs the file system.

use super::Refusal;
use crate::rtsp::url::{RequestUri, UrlError};

/// The `a=control` name of the one video track of every presentation.
pub const TRACK_CONTROL: &str = "track1";

/// The name of the live synthetic source.
pub const TEST_SOURCE: &str = "testsrc";

/// Longest presentation path accepted, in bytes.
pub const MAX_PATH_LEN: usize = 1024;

/// File extensions (compared case-insensitively) the server will serve as MJPEG files.
pub const MJPEG_EXTENSIONS: [&str; 2] = ["mjpeg", "mjpg"];

/// A request-URI resolved to a presentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Path of the presentation relative to the media root, `/`-separated, never empty, without
    /// `.`/`..` components or empty segments (for example `movie.Mjpeg` or `clips/a.mjpg`).
    pub presentation: String,
    /// True when the URI named the track (`.../track1`) rather than the aggregate.
    pub track: bool,
}

impl Target {
    /// Is this the live synthetic source?
    pub fn is_test_source(&self) -> bool {
        self.presentation == TEST_SOURCE
    }

    /// Does the presentation name end in one of [`MJPEG_EXTENSIONS`]?
    pub fn has_mjpeg_extension(&self) -> bool {
        let Some((_, ext)) = self.presentation.rsplit_once('.') else {
            return false;
        };
        MJPEG_EXTENSIONS
            .iter()
            .any(|known| ext.eq_ignore_ascii_case(known))
    }

    /// The path segments, for joining onto the media root one by one.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.presentation.split('/')
    }
}

/// Resolve a request-URI: an absolute `rtsp://host[:port]/path` URL (whose path the URL
/// parser has percent-decoded) or the lab's bare file name. `Ok(None)` for `*`.
///
/// Errors: 400 for a URI that does not parse, 404 for anything that would leave the media
/// root or names nothing.
pub fn resolve(uri: &str) -> Result<Option<Target>, Refusal> {
    let parsed = RequestUri::parse(uri).map_err(|e| match e {
        UrlError::UnsupportedScheme(_) => Refusal::BadRequest("unsupported URI scheme"),
        UrlError::InvalidPercentEncoding => Refusal::BadRequest("bad percent-encoding in URI"),
        _ => Refusal::BadRequest("malformed request URI"),
    })?;
    let path = match &parsed {
        RequestUri::Asterisk => return Ok(None),
        RequestUri::Absolute(url) => url.path.as_str(),
        // The lab's bare file name is relative to the server's directory; a leading '/' would
        // make it absolute, which the lab server honoured and we refuse.
        RequestUri::Bare(name) if name.starts_with('/') => return Err(Refusal::NotFound),
        RequestUri::Bare(name) => name.as_str(),
    };
    resolve_path(path).map(Some)
}

/// The lexical checks on a decoded path (an RTSP URL's, or an HTTP stream's after
/// `/stream/`).
pub fn resolve_path(path: &str) -> Result<Target, Refusal> {
    if path.len() > MAX_PATH_LEN {
        return Err(Refusal::NotFound);
    }
    let mut segments: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => return Err(Refusal::NotFound),
            s if s.chars().any(|c| c.is_control() || c == '\\') => return Err(Refusal::NotFound),
            s => segments.push(s),
        }
    }
    let track = segments.len() > 1 && segments.last() == Some(&TRACK_CONTROL);
    if track {
        segments.pop();
    }
    if segments.is_empty() {
        return Err(Refusal::NotFound);
    }
    Ok(Target {
        presentation: segments.join("/"),
        track,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(uri: &str) -> (String, bool) {
        let t = resolve(uri)
            .unwrap_or_else(|e| panic!("{uri}: {e:?}"))
            .expect("not *");
        (t.presentation, t.track)
    }

    fn status(uri: &str) -> u16 {
        resolve(uri).unwrap_err().status()
    }

    #[test]
    fn standard_urls() {
        let m = ("movie.Mjpeg".to_owned(), false);
        let t = ("movie.Mjpeg".to_owned(), true);
        assert_eq!(ok("rtsp://127.0.0.1:8554/movie.Mjpeg"), m);
        assert_eq!(ok("rtsp://127.0.0.1:8554/movie.Mjpeg/"), m);
        assert_eq!(ok("RTSP://host/movie.Mjpeg"), m);
        assert_eq!(ok("rtsp://h:1/movie.Mjpeg/track1"), t);
        assert_eq!(ok("rtsp://h:1//movie.Mjpeg//track1/"), t);
        assert_eq!(ok("rtsp://h/movie.Mjpeg?x=1"), m);
        assert_eq!(ok("rtsp://h/a%20b.mjpg").0, "a b.mjpg");
        assert_eq!(ok("rtsp://h/sub/./clip.mjpg").0, "sub/clip.mjpg");
        assert_eq!(
            ok("rtsp://[::1]:8554/testsrc"),
            ("testsrc".to_owned(), false)
        );
        // A file literally called track1 at the root is a presentation, not a track.
        assert_eq!(ok("rtsp://h/track1"), ("track1".to_owned(), false));
    }

    #[test]
    fn lab_bare_names() {
        assert_eq!(ok("movie.Mjpeg"), ("movie.Mjpeg".to_owned(), false));
        assert_eq!(ok("videos/movie.Mjpeg").0, "videos/movie.Mjpeg");
    }

    #[test]
    fn escapes_are_refused() {
        for uri in [
            "/etc/passwd",
            "../movie.Mjpeg",
            "a/../../movie.Mjpeg",
            "rtsp://h/../etc/passwd",
            "rtsp://h/%2e%2e/etc/passwd",
            "rtsp://h/a%2f..%2fb",
            "rtsp://h/",
            "rtsp://h",
            "rtsp://h/a\\b.mjpg",
        ] {
            assert_eq!(status(uri), 404, "{uri:?}");
        }
        assert_eq!(status("http://h/movie.Mjpeg"), 400);
        assert_eq!(status("rtsp://h/%zz"), 400);
        assert_eq!(status("rtsp://h/%ff"), 400);
        assert_eq!(status(""), 400);
        // The URL parser refuses control characters, even percent-encoded.
        assert_eq!(status("rtsp://h/a%00.mjpg"), 400);
        assert_eq!(resolve("*"), Ok(None));
        assert_eq!(status(&format!("rtsp://h/{}", "a".repeat(2000))), 404);
    }

    #[test]
    fn extensions() {
        for (name, want) in [
            ("movie.Mjpeg", true),
            ("m.mjpeg", true),
            ("m.MJPG", true),
            ("m.jpg", false),
            ("mjpeg", false),
            ("testsrc", false),
        ] {
            let t = Target {
                presentation: name.to_owned(),
                track: false,
            };
            assert_eq!(t.has_mjpeg_extension(), want, "{name}");
        }
        assert!(resolve("rtsp://h/testsrc/track1")
            .unwrap()
            .unwrap()
            .is_test_source());
    }
}
