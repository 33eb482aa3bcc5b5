//! `Scale` (RFC 2326 12.34).

use std::fmt;

use super::{Header, HeaderError};
use crate::rtsp::syntax::trim_ows;

/// The playback speed factor (`1`, `2.0`, `-1.5`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale(f64);

impl Scale {
    /// Normal speed.
    pub const NORMAL: Scale = Scale(1.0);

    /// A scale factor; `None` unless finite.
    pub fn new(factor: f64) -> Option<Self> {
        factor.is_finite().then_some(Self(factor))
    }

    /// The factor.
    pub fn factor(self) -> f64 {
        self.0
    }
}

impl Header for Scale {
    const NAME: &'static str = "Scale";

    fn parse_value(value: &str) -> Result<Self, HeaderError> {
        let value = trim_ows(value);
        if value.is_empty() {
            return Err(HeaderError::Empty { header: Self::NAME });
        }
        // RFC grammar: [ "-" ] 1*DIGIT [ "." *DIGIT ]. Checked by hand because Rust's float
        // parser also takes "inf", "1e5" or "+1".
        let digits = value.strip_prefix('-').unwrap_or(value);
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(frac) {
            return Err(HeaderError::malformed(Self::NAME, "not a decimal number"));
        }
        value
            .parse::<f64>()
            .ok()
            .and_then(Self::new)
            .ok_or(HeaderError::OutOfRange { header: Self::NAME })
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Display` for f64 prints the shortest decimal that parses back to the same value,
        // without exponent, which is exactly the RFC grammar.
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_scale() {
        assert_eq!("1".parse::<Scale>().unwrap().factor(), 1.0);
        assert_eq!("-2.5".parse::<Scale>().unwrap().factor(), -2.5);
        assert_eq!("0.5".parse::<Scale>().unwrap().to_string(), "0.5");
        assert_eq!(Scale::NORMAL.to_string(), "1");
        for bad in ["", "inf", "NaN", "1e3", "+1", ".5", "1.2.3", "--1", "- 1"] {
            assert!(bad.parse::<Scale>().is_err(), "{bad:?}");
        }
        let huge = format!("1{}", "0".repeat(400));
        assert!(matches!(
            huge.parse::<Scale>(),
            Err(HeaderError::OutOfRange { .. })
        ));
        let big = Scale::new(1e300).unwrap();
        assert_eq!(big.to_string().parse::<Scale>().unwrap(), big);
        assert!(Scale::new(f64::NAN).is_none());
    }
}
