//! Media types for `Content-Type` (RFC 2326 12.16) and `Accept` (12.1).

use std::fmt;

use super::{list_elements, Header, HeaderError};
use crate::rtsp::syntax::{
    is_token, split_outside_quotes, trim_ows, unquote, write_token_or_quoted,
};

/// `type/subtype` with parameters. Type, subtype and parameter names are compared
/// case-insensitively and stored in lowercase; parameter values keep their case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaType {
    essence: String,
    params: Vec<(String, String)>,
}

impl MediaType {
    /// A media type without parameters, e.g. `MediaType::new("application/sdp")`.
    pub fn new(essence: &str) -> Result<Self, HeaderError> {
        Self::parse_in("Content-Type", essence)
    }

    /// `application/sdp`.
    pub fn sdp() -> Self {
        Self {
            essence: "application/sdp".to_owned(),
            params: Vec::new(),
        }
    }

    /// Adds a parameter (`; name=value`).
    pub fn with_param(mut self, name: &str, value: &str) -> Result<Self, HeaderError> {
        if !is_token(name) || value.chars().any(char::is_control) {
            return Err(HeaderError::malformed("Content-Type", "invalid parameter"));
        }
        self.params
            .push((name.to_ascii_lowercase(), value.to_owned()));
        Ok(self)
    }

    /// `type/subtype` in lowercase.
    pub fn essence(&self) -> &str {
        &self.essence
    }

    /// Parameters in order, names in lowercase, values unquoted.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// The value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether this is `application/sdp`.
    pub fn is_sdp(&self) -> bool {
        self.essence == "application/sdp"
    }

    /// Whether this (possibly wildcard) range covers `essence`: `*/*`, `application/*` or an
    /// exact match.
    pub fn matches(&self, essence: &str) -> bool {
        let (t, _) = self.essence.split_once('/').unwrap_or((&self.essence, ""));
        let (other_t, _) = essence.split_once('/').unwrap_or((essence, ""));
        self.essence == "*/*"
            || self.essence.eq_ignore_ascii_case(essence)
            || (self.essence.ends_with("/*") && t.eq_ignore_ascii_case(other_t))
    }

    fn parse_in(header: &'static str, s: &str) -> Result<Self, HeaderError> {
        // Quoted parameter values are kept verbatim, so they must be writable again.
        if !crate::rtsp::syntax::is_field_text(s) {
            return Err(HeaderError::malformed(header, "control character in value"));
        }
        let parts = split_outside_quotes(s, b';')
            .ok_or(HeaderError::malformed(header, "unterminated quoted string"))?;
        let mut parts = parts.into_iter().map(trim_ows);
        let essence = parts.next().unwrap_or_default();
        if essence.is_empty() {
            return Err(HeaderError::Empty { header });
        }
        let (t, sub) = essence
            .split_once('/')
            .ok_or(HeaderError::malformed(header, "missing '/' in media type"))?;
        if !is_token(t) || !is_token(sub) {
            return Err(HeaderError::malformed(header, "invalid media type"));
        }
        let mut media = Self {
            essence: essence.to_ascii_lowercase(),
            params: Vec::new(),
        };
        for param in parts.filter(|p| !p.is_empty()) {
            let (name, value) = param
                .split_once('=')
                .ok_or(HeaderError::malformed(header, "parameter without '='"))?;
            let name = trim_ows(name);
            if !is_token(name) {
                return Err(HeaderError::malformed(header, "invalid parameter name"));
            }
            let value = unquote(trim_ows(value))
                .ok_or(HeaderError::malformed(header, "malformed quoted string"))?;
            media.params.push((name.to_ascii_lowercase(), value));
        }
        Ok(media)
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.essence)?;
        for (name, value) in &self.params {
            write!(f, ";{name}=")?;
            write_token_or_quoted(f, value)?;
        }
        Ok(())
    }
}

/// The `Content-Type` header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContentType(pub MediaType);

impl ContentType {
    /// `Content-Type: application/sdp`.
    pub fn sdp() -> Self {
        Self(MediaType::sdp())
    }
}

impl Header for ContentType {
    const NAME: &'static str = "Content-Type";

    fn parse_value(value: &str) -> Result<Self, HeaderError> {
        MediaType::parse_in(Self::NAME, value).map(ContentType)
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The `Accept` header: acceptable description formats.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Accept(pub Vec<MediaType>);

impl Accept {
    /// Whether `essence` (e.g. `application/sdp`) is acceptable.
    pub fn accepts(&self, essence: &str) -> bool {
        self.0.iter().any(|m| m.matches(essence))
    }
}

impl Header for Accept {
    const NAME: &'static str = "Accept";
    const IS_LIST: bool = true;

    fn parse_value(value: &str) -> Result<Self, HeaderError> {
        list_elements(Self::NAME, value)?
            .into_iter()
            .map(|m| MediaType::parse_in(Self::NAME, m))
            .collect::<Result<Vec<_>, _>>()
            .map(Accept)
    }
}

impl fmt::Display for Accept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type() {
        let ct: ContentType = "Application/SDP".parse().unwrap();
        assert!(ct.0.is_sdp());
        assert_eq!(ct, ContentType::sdp());
        let ct: ContentType = "text/parameters; charset=\"utf-8\"; x=a b".parse().unwrap();
        assert_eq!(ct.0.essence(), "text/parameters");
        assert_eq!(ct.0.param("x"), Some("a b"));
        assert_eq!(ct.to_string(), "text/parameters;charset=utf-8;x=\"a b\"");
        let ct: ContentType = "text/parameters;Charset=\"a;b\"".parse().unwrap();
        assert_eq!(ct.0.param("charset"), Some("a;b"));
        assert_eq!(ct.to_string(), "text/parameters;charset=\"a;b\"");
        assert_eq!(ct.to_string().parse::<ContentType>().unwrap(), ct);
        for bad in [
            "",
            "sdp",
            "a/",
            "/b",
            "a/b c",
            "a/b;x",
            "a/b;x=\"y",
            "a b/c",
        ] {
            assert!(bad.parse::<ContentType>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn accept_lists() {
        let a: Accept = "application/sdp, application/rtsl, application/mheg"
            .parse()
            .unwrap();
        assert_eq!(a.0.len(), 3);
        assert!(a.accepts("application/sdp"));
        assert!(!a.accepts("text/plain"));
        let any: Accept = "*/*".parse().unwrap();
        assert!(any.accepts("application/sdp"));
        let app: Accept = "application/*;q=0.5".parse().unwrap();
        assert!(app.accepts("application/sdp") && !app.accepts("text/plain"));
        assert_eq!(app.to_string(), "application/*;q=0.5");
        assert!("".parse::<Accept>().is_err());
    }
}
