//! Sending clients to another server: `302 Moved Temporarily` with `Location` (RFC 2326
//! section 11.3, whose 3xx codes follow HTTP/1.1's).
//!
//! Two reasons to redirect, decided here without I/O:
//!
//! - a **path rule** (`--redirect PATH=URL`): the presentation moved; DESCRIBE and a SETUP
//!   that starts a session get `Location: URL`, however loaded the server is;
//! - **load** (`--redirect-to URL` for each edge, `--redirect-above N`): once the server holds
//!   more than `N` sessions, a new DESCRIBE is sent to an edge, with its path appended to the
//!   edge's URL.
//!
//! OPTIONS is never redirected: it describes this server, which still answers (ffmpeg gives up
//! on an OPTIONS that is not 200 before it would look at a Location, and `OPTIONS *` is a
//! keep-alive). Requests inside a session (PLAY, PAUSE, TEARDOWN, keep-alives) are never
//! redirected either: sessions already here stay here. A redirected SETUP gets the
//! presentation's URL, not a track's: the client starts over there with DESCRIBE, as ffmpeg
//! and GStreamer do.
//!
//! Which edge: the origin cannot see its edges' sessions without asking them, and an answer
//! fetched over the network is stale by the time the next client arrives. What it does know
//! is how many clients it sent where, so it sends each new client to the edge it has sent the
//! fewest clients to, the first listed on a tie: an even spread of the clients it steers (round
//! robin over a fixed list). Viewers that reach an edge another way are not counted; to
//! balance on the edges' real load, put a balancer that sees it (HAProxy `leastconn`) in
//! front of them and list the balancer.

use super::target::Target;
use crate::rtsp::url::AbsoluteUrl;

/// Why a redirect rule or edge URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    /// `PATH=URL` without the `=`, or with an empty path.
    #[error("expected PATH=rtsp://HOST[:PORT]/PATH, got {0:?}")]
    NotARule(String),
    /// The URL is not an absolute `rtsp://` URL with a host.
    #[error("{0:?} is not an absolute rtsp:// URL")]
    BadUrl(String),
    /// The URL carries `user:password@`, which would be sent to every client.
    #[error("{0:?}: a redirect URL must not carry user information")]
    Userinfo(String),
}

/// One `--redirect PATH=URL`: requests for the presentation `path` go to `location`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRule {
    /// The presentation, as the server names it (no leading `/`, `/`-separated).
    pub path: String,
    /// Where it went: an absolute `rtsp://` URL.
    pub location: String,
}

impl PathRule {
    /// Parses `PATH=URL` (`movie.Mjpeg=rtsp://other:8554/movie.Mjpeg`; a leading `/` on the
    /// path is ignored).
    pub fn parse(rule: &str) -> Result<Self, RedirectError> {
        let (path, url) = rule
            .split_once('=')
            .ok_or_else(|| RedirectError::NotARule(rule.to_owned()))?;
        let target = super::target::resolve(&format!("rtsp://localhost/{path}"))
            .ok()
            .flatten()
            .filter(|t| !t.track)
            .ok_or_else(|| RedirectError::NotARule(rule.to_owned()))?;
        Ok(Self {
            path: target.presentation,
            location: checked_url(url)?.to_string(),
        })
    }
}

/// An absolute `rtsp://` URL fit to be a `Location`: parsed (so no whitespace or line break can
/// reach a header) and without userinfo.
fn checked_url(url: &str) -> Result<AbsoluteUrl, RedirectError> {
    let parsed = AbsoluteUrl::parse(url).map_err(|_| RedirectError::BadUrl(url.to_owned()))?;
    if !url
        .get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("rtsp://"))
    {
        return Err(RedirectError::BadUrl(url.to_owned()));
    }
    if crate::rtsp::url::userinfo(url).is_some() {
        return Err(RedirectError::Userinfo(url.to_owned()));
    }
    Ok(parsed)
}

/// The redirect settings: path rules, and the edges new clients go to under load.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedirectConfig {
    /// `--redirect` rules, the first matching one applies.
    pub rules: Vec<PathRule>,
    /// `--redirect-to` edges: base URLs (`rtsp://edge1:8554`, or with a path prefix) the
    /// presentation's path is appended to.
    pub edges: Vec<String>,
    /// `--redirect-above`: with more sessions than this, new DESCRIBEs go to an edge.
    pub above: Option<usize>,
}

impl RedirectConfig {
    /// Adds an edge, checking its URL.
    pub fn add_edge(&mut self, url: &str) -> Result<(), RedirectError> {
        checked_url(url)?;
        self.edges.push(url.to_owned());
        Ok(())
    }

    /// Whether any redirect can happen.
    pub fn is_active(&self) -> bool {
        !self.rules.is_empty() || (self.above.is_some() && !self.edges.is_empty())
    }
}

/// The request kinds a redirect applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// DESCRIBE.
    Describe,
    /// SETUP without a session (one that would start a session).
    Setup,
}

/// Why a client was redirected (for logs and metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A `--redirect` rule.
    Path,
    /// Over `--redirect-above` sessions: sent to an edge.
    Load,
}

impl Reason {
    /// A short name for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Path => "path",
            Self::Load => "load",
        }
    }
}

/// A redirect decided: the reply is `302 Moved Temporarily` with `Location: location`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The `Location` header's value.
    pub location: String,
    /// Why.
    pub reason: Reason,
}

/// The redirect decisions: the configuration plus how many clients went to each edge.
#[derive(Debug, Clone, Default)]
pub struct Redirector {
    config: RedirectConfig,
    sent: Vec<u64>,
}

impl Redirector {
    /// Decisions for `config`, no client sent anywhere yet.
    pub fn new(config: RedirectConfig) -> Self {
        let sent = vec![0; config.edges.len()];
        Self { config, sent }
    }

    /// Whether a request asking `asked` for `target`, while the server holds `sessions`
    /// sessions, goes elsewhere; `None`: serve it here.
    pub fn decide(&mut self, asked: Asked, target: &Target, sessions: usize) -> Option<Redirect> {
        if let Some(rule) = self
            .config
            .rules
            .iter()
            .find(|r| r.path == target.presentation)
        {
            return Some(Redirect {
                location: rule.location.clone(),
                reason: Reason::Path,
            });
        }
        let above = self.config.above?;
        if asked != Asked::Describe || sessions <= above {
            return None;
        }
        let edge = self.least_sent()?;
        let location = edge_location(self.config.edges.get(edge)?, &target.presentation)?;
        if let Some(n) = self.sent.get_mut(edge) {
            *n += 1;
        }
        Some(Redirect {
            location,
            reason: Reason::Load,
        })
    }

    /// How many clients went to each edge, in the configured order.
    pub fn sent(&self) -> &[u64] {
        &self.sent
    }

    /// The edge with the fewest clients sent, the first on a tie.
    fn least_sent(&self) -> Option<usize> {
        self.sent
            .iter()
            .enumerate()
            .min_by_key(|(i, n)| (**n, *i))
            .map(|(i, _)| i)
    }
}

/// `edge` (a base URL) with `presentation` appended as its path's last segments, encoded.
fn edge_location(edge: &str, presentation: &str) -> Option<String> {
    let mut url = AbsoluteUrl::parse(edge).ok()?;
    let base = url.path.trim_end_matches('/');
    url.path = format!("{base}/{presentation}");
    url.query = None;
    Some(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(path: &str) -> Target {
        Target {
            presentation: path.to_owned(),
            track: false,
        }
    }

    #[test]
    fn rules_parse_and_refuse_what_would_break_a_header() {
        let r = PathRule::parse("/clips/a.mjpg=rtsp://other:8554/b.mjpg").unwrap();
        assert_eq!(r.path, "clips/a.mjpg");
        assert_eq!(r.location, "rtsp://other:8554/b.mjpg");
        for bad in [
            "movie.Mjpeg",
            "=rtsp://h/x",
            "../x=rtsp://h/x",
            "movie=http://h/x",
            "movie=rtsp://h/x y",
            "movie=rtsp://h/x\r\nX: y",
            "movie=/relative",
            "movie=rtsp://user:pw@h/x",
        ] {
            assert!(PathRule::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_path_rule_moves_describe_and_setup_whatever_the_load() {
        let mut r = Redirector::new(RedirectConfig {
            rules: vec![PathRule::parse("movie.Mjpeg=rtsp://b:9/movie.Mjpeg").unwrap()],
            ..RedirectConfig::default()
        });
        for asked in [Asked::Describe, Asked::Setup] {
            let d = r.decide(asked, &target("movie.Mjpeg"), 0).unwrap();
            assert_eq!(d.location, "rtsp://b:9/movie.Mjpeg");
            assert_eq!(d.reason, Reason::Path);
        }
        assert_eq!(r.decide(Asked::Describe, &target("other.mjpg"), 1000), None);
    }

    #[test]
    fn under_load_new_describes_spread_over_the_edges_evenly() {
        let mut config = RedirectConfig {
            above: Some(2),
            ..RedirectConfig::default()
        };
        config.add_edge("rtsp://e1:8554").unwrap();
        config.add_edge("rtsp://e2:8554/live/").unwrap();
        assert!(config.add_edge("e3:8554").is_err());
        let mut r = Redirector::new(config);
        // At or under the threshold, and SETUP at any load: served here.
        assert_eq!(r.decide(Asked::Describe, &target("movie.Mjpeg"), 2), None);
        assert_eq!(r.decide(Asked::Setup, &target("movie.Mjpeg"), 50), None);
        let got: Vec<String> = (0..5)
            .map(|_| {
                r.decide(Asked::Describe, &target("a b.mjpg"), 3)
                    .unwrap()
                    .location
            })
            .collect();
        assert_eq!(
            got,
            [
                "rtsp://e1:8554/a%20b.mjpg",
                "rtsp://e2:8554/live/a%20b.mjpg",
                "rtsp://e1:8554/a%20b.mjpg",
                "rtsp://e2:8554/live/a%20b.mjpg",
                "rtsp://e1:8554/a%20b.mjpg",
            ]
        );
        assert_eq!(r.sent(), [3, 2]);
    }

    #[test]
    fn no_edges_or_no_threshold_means_no_load_redirect() {
        let mut only_edges = RedirectConfig::default();
        only_edges.add_edge("rtsp://e1").unwrap();
        assert!(!only_edges.is_active());
        let mut r = Redirector::new(only_edges);
        assert_eq!(r.decide(Asked::Describe, &target("m.mjpg"), 10_000), None);
        let mut r = Redirector::new(RedirectConfig {
            above: Some(0),
            ..RedirectConfig::default()
        });
        assert_eq!(r.decide(Asked::Describe, &target("m.mjpg"), 1), None);
    }
}
