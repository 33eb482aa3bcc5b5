//! RTSP methods (RFC 2326 section 10) plus the lab report's extensions.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use super::error::BuildError;
use super::syntax::{excerpt, is_token};

/// An RTSP request method.
///
/// Method names are case-sensitive (RFC 2326 section 6.1): `play` is an
/// [`Extension`](Method::Extension), which a server answers with 501. Equality and hashing go by
/// the method name, so `Method::Extension("PLAY".into()) == Method::Play`; prefer
/// [`Method::from_token`] or [`str::parse`], which never build such a value.
#[derive(Debug, Clone)]
pub enum Method {
    /// `OPTIONS` (RFC 2326 10.1).
    Options,
    /// `DESCRIBE` (RFC 2326 10.2).
    Describe,
    /// `ANNOUNCE` (RFC 2326 10.3).
    Announce,
    /// `SETUP` (RFC 2326 10.4).
    Setup,
    /// `PLAY` (RFC 2326 10.5).
    Play,
    /// `PAUSE` (RFC 2326 10.6).
    Pause,
    /// `TEARDOWN` (RFC 2326 10.7).
    Teardown,
    /// `GET_PARAMETER` (RFC 2326 10.8).
    GetParameter,
    /// `SET_PARAMETER` (RFC 2326 10.9).
    SetParameter,
    /// `REDIRECT` (RFC 2326 10.10).
    Redirect,
    /// `RECORD` (RFC 2326 10.11).
    Record,
    /// Lab extension (report, "RTSP/1.4"): skip ahead 20 frames.
    Forward,
    /// Lab extension: go back 20 frames.
    Backward,
    /// Lab extension: restart from the first frame.
    Restart,
    /// Any other method token.
    Extension(String),
}

impl Method {
    /// The methods RFC 2326 defines, in the order of its section 10.
    pub const RFC2326: [Method; 11] = [
        Method::Options,
        Method::Describe,
        Method::Announce,
        Method::Setup,
        Method::Play,
        Method::Pause,
        Method::Teardown,
        Method::GetParameter,
        Method::SetParameter,
        Method::Redirect,
        Method::Record,
    ];

    /// Parses a method token, mapping known names to their variant.
    pub fn from_token(token: &str) -> Result<Self, BuildError> {
        Ok(match token {
            "OPTIONS" => Self::Options,
            "DESCRIBE" => Self::Describe,
            "ANNOUNCE" => Self::Announce,
            "SETUP" => Self::Setup,
            "PLAY" => Self::Play,
            "PAUSE" => Self::Pause,
            "TEARDOWN" => Self::Teardown,
            "GET_PARAMETER" => Self::GetParameter,
            "SET_PARAMETER" => Self::SetParameter,
            "REDIRECT" => Self::Redirect,
            "RECORD" => Self::Record,
            "FORWARD" => Self::Forward,
            "BACKWARD" => Self::Backward,
            "RESTART" => Self::Restart,
            other if is_method_token(other) => Self::Extension(other.to_owned()),
            other => return Err(BuildError::InvalidMethod(excerpt(other))),
        })
    }

    /// The method name as written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Options => "OPTIONS",
            Self::Describe => "DESCRIBE",
            Self::Announce => "ANNOUNCE",
            Self::Setup => "SETUP",
            Self::Play => "PLAY",
            Self::Pause => "PAUSE",
            Self::Teardown => "TEARDOWN",
            Self::GetParameter => "GET_PARAMETER",
            Self::SetParameter => "SET_PARAMETER",
            Self::Redirect => "REDIRECT",
            Self::Record => "RECORD",
            Self::Forward => "FORWARD",
            Self::Backward => "BACKWARD",
            Self::Restart => "RESTART",
            Self::Extension(name) => name,
        }
    }

    /// `FORWARD`, `BACKWARD` or `RESTART`: the lab report's "RTSP/1.4" additions.
    pub fn is_lab_extension(&self) -> bool {
        matches!(self, Self::Forward | Self::Backward | Self::Restart)
    }

    /// One of the eleven methods of RFC 2326.
    pub fn is_rfc2326(&self) -> bool {
        Self::RFC2326.iter().any(|m| m == self)
    }

    /// Whether the name is a valid token (only an `Extension` built by hand can fail this).
    pub(crate) fn is_valid(&self) -> bool {
        is_method_token(self.as_str())
    }
}

/// A token that does not start with `$`: a line starting with `$` is an interleaved frame
/// (RFC 2326 10.12), so such a method could never be framed.
fn is_method_token(s: &str) -> bool {
    is_token(s) && !s.starts_with('$')
}

impl PartialEq for Method {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Method {}

impl Hash for Method {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Method {
    type Err = BuildError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_token(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_tokens_round_trip() {
        let all = [
            "OPTIONS",
            "DESCRIBE",
            "ANNOUNCE",
            "SETUP",
            "PLAY",
            "PAUSE",
            "TEARDOWN",
            "GET_PARAMETER",
            "SET_PARAMETER",
            "REDIRECT",
            "RECORD",
            "FORWARD",
            "BACKWARD",
            "RESTART",
        ];
        for name in all {
            let m: Method = name.parse().unwrap();
            assert!(!matches!(m, Method::Extension(_)), "{name}");
            assert_eq!(m.to_string(), name);
        }
    }

    #[test]
    fn case_sensitive_and_extensions() {
        assert_eq!(
            Method::from_token("play").unwrap(),
            Method::Extension("play".into())
        );
        assert_eq!(Method::from_token("FLY").unwrap().as_str(), "FLY");
        assert!(Method::from_token("").is_err());
        assert!(Method::from_token("PL AY").is_err());
        assert!(Method::from_token("RTSP/1.0").is_err());
        assert!(Method::from_token("$X").is_err());
    }

    #[test]
    fn equality_by_name() {
        assert_eq!(Method::Extension("PLAY".into()), Method::Play);
        assert!(Method::Forward.is_lab_extension());
        assert!(!Method::Play.is_lab_extension());
        assert!(Method::Record.is_rfc2326());
        assert!(!Method::Restart.is_rfc2326());
    }
}
