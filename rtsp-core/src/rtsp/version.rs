//! The protocol version token of start lines.

use std::fmt;
use std::str::FromStr;

use super::error::BuildError;
use super::syntax::{excerpt, parse_decimal};

/// An `RTSP/<major>.<minor>` version.
///
/// Any well-formed version parses, so that a server can answer an unsupported one with
/// 505 RTSP Version not supported instead of dropping the connection. Match on the constants:
///
/// ```
/// use rtsp_core::rtsp::Version;
/// let v: Version = "RTSP/1.4".parse().unwrap();
/// assert!(matches!(v, Version::LAB_1_4));
/// assert!(!"RTSP/2.0".parse::<Version>().unwrap().is_supported());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version {
    major: u16,
    minor: u16,
}

impl Version {
    /// `RTSP/1.0`, RFC 2326.
    pub const RTSP_1_0: Version = Version { major: 1, minor: 0 };
    /// `RTSP/1.4`, the lab report's extended dialect (adds FORWARD, BACKWARD, RESTART, `Frames:`).
    pub const LAB_1_4: Version = Version { major: 1, minor: 4 };

    /// A version with the given numbers.
    pub const fn new(major: u16, minor: u16) -> Self {
        Self { major, minor }
    }

    /// The major version number.
    pub const fn major(self) -> u16 {
        self.major
    }

    /// The minor version number.
    pub const fn minor(self) -> u16 {
        self.minor
    }

    /// RTSP/1.0 or the lab's RTSP/1.4; anything else deserves a 505.
    pub fn is_supported(self) -> bool {
        self == Self::RTSP_1_0 || self == Self::LAB_1_4
    }

    /// The lab report's RTSP/1.4.
    pub fn is_lab(self) -> bool {
        self == Self::LAB_1_4
    }

    /// Parses `RTSP/<digits>.<digits>` (exact, case-sensitive protocol name).
    pub fn parse(s: &str) -> Result<Self, BuildError> {
        let bad = || BuildError::InvalidVersion(excerpt(s));
        let numbers = s.strip_prefix("RTSP/").ok_or_else(bad)?;
        let (major, minor) = numbers.split_once('.').ok_or_else(bad)?;
        let number = |n: &str| {
            parse_decimal(n)
                .and_then(|v| u16::try_from(v).ok())
                .ok_or_else(bad)
        };
        Ok(Self::new(number(major)?, number(minor)?))
    }
}

impl Default for Version {
    fn default() -> Self {
        Self::RTSP_1_0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RTSP/{}.{}", self.major, self.minor)
    }
}

impl FromStr for Version {
    type Err = BuildError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert_eq!(Version::parse("RTSP/1.0").unwrap(), Version::RTSP_1_0);
        assert_eq!(Version::parse("RTSP/1.4").unwrap(), Version::LAB_1_4);
        assert_eq!(Version::parse("RTSP/2.0").unwrap(), Version::new(2, 0));
        assert_eq!(Version::parse("RTSP/01.00").unwrap(), Version::RTSP_1_0);
        for bad in [
            "HTTP/1.1",
            "RTSP/1",
            "RTSP/1.",
            "RTSP/.0",
            "rtsp/1.0",
            "RTSP/1.0.0",
            "RTSP/-1.0",
            "RTSP/70000.0",
            "RTSP/ 1.0",
            "",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn display_and_support() {
        assert_eq!(Version::new(2, 0).to_string(), "RTSP/2.0");
        assert!(Version::RTSP_1_0.is_supported());
        assert!(Version::LAB_1_4.is_supported() && Version::LAB_1_4.is_lab());
        assert!(!Version::new(1, 1).is_supported());
    }
}
