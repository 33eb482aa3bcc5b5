//! `Public` (RFC 2326 12.28): the methods a server supports.

use std::fmt;

use super::{list_elements, Header, HeaderError};
use crate::rtsp::Method;

/// The `Public` header, answered to OPTIONS.
///
/// ffmpeg picks its keep-alive from it: with `GET_PARAMETER` listed it sends GET_PARAMETER,
/// otherwise `OPTIONS *`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Public(pub Vec<Method>);

impl Public {
    /// Whether `method` is listed.
    pub fn contains(&self, method: &Method) -> bool {
        self.0.contains(method)
    }
}

impl Header for Public {
    const NAME: &'static str = "Public";
    const IS_LIST: bool = true;

    fn parse_value(value: &str) -> Result<Self, HeaderError> {
        list_elements(Self::NAME, value)?
            .into_iter()
            .map(|m| {
                Method::from_token(m)
                    .map_err(|_| HeaderError::malformed(Self::NAME, "invalid method token"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Public)
    }
}

impl fmt::Display for Public {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(m.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_public() {
        let p: Public = "OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE, GET_PARAMETER, X-FOO"
            .parse()
            .unwrap();
        assert_eq!(p.0.len(), 8);
        assert!(p.contains(&Method::GetParameter));
        assert!(!p.contains(&Method::Record));
        assert_eq!(p.0[7], Method::Extension("X-FOO".into()));
        assert_eq!(
            p.to_string(),
            "OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE, GET_PARAMETER, X-FOO"
        );
        let p: Public = "OPTIONS,,PLAY ,".parse().unwrap();
        assert_eq!(p.0, [Method::Options, Method::Play]);
        assert!("".parse::<Public>().is_err());
        assert!(" , ".parse::<Public>().is_err());
        assert!("PLAY PAUSE".parse::<Public>().is_err());
    }
}
