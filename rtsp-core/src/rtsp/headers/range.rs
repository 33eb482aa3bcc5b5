//! `Range` (RFC 2326 12.29), normal play time only.

use std::fmt;
use std::time::Duration;

use super::{Header, HeaderError};
use crate::rtsp::syntax::{is_token, parse_decimal, trim_ows};

const NAME: &str = "Range";

/// A normal play time (RFC 2326 3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NptTime {
    /// `now`: the current position of a live stream.
    Now,
    /// A position from the start of the presentation.
    At(Duration),
}

impl NptTime {
    /// Parses `now`, `123.45` or `hh:mm:ss.frac`. Fractions beyond nanoseconds are truncated.
    fn parse(s: &str) -> Result<Self, HeaderError> {
        if s.eq_ignore_ascii_case("now") {
            return Ok(Self::Now);
        }
        let bad = || HeaderError::malformed(NAME, "malformed npt time");
        let (whole, frac) = match s.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (s, None),
        };
        let secs = if whole.contains(':') {
            let mut fields = whole.split(':');
            let (h, m, sec) = match (fields.next(), fields.next(), fields.next(), fields.next()) {
                (Some(h), Some(m), Some(s), None) => (h, m, s),
                _ => return Err(bad()),
            };
            let two_digits = |v: &str| {
                if v.is_empty() || v.len() > 2 {
                    return None;
                }
                parse_decimal(v).filter(|&n| n < 60)
            };
            let h = parse_decimal(h).ok_or_else(bad)?;
            let m = two_digits(m).ok_or_else(bad)?;
            let sec = two_digits(sec).ok_or_else(bad)?;
            h.checked_mul(3600)
                .and_then(|v| v.checked_add(m * 60 + sec))
                .ok_or(HeaderError::OutOfRange { header: NAME })?
        } else {
            parse_decimal(whole).ok_or_else(bad)?
        };
        let nanos = match frac {
            None => 0,
            Some(f) if !f.bytes().all(|b| b.is_ascii_digit()) => return Err(bad()),
            Some(f) => f
                .bytes()
                .chain(std::iter::repeat(b'0'))
                .take(9)
                .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0')),
        };
        Ok(Self::At(Duration::new(secs, nanos)))
    }
}

impl fmt::Display for NptTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Now => f.write_str("now"),
            Self::At(d) => {
                // Seconds with at least millisecond digits (`0.000`, as ffmpeg writes), more
                // only when needed to stay exact.
                let mut nanos = d.subsec_nanos();
                let mut digits = 9;
                while digits > 3 && nanos % 10 == 0 {
                    nanos /= 10;
                    digits -= 1;
                }
                write!(f, "{}.{:0width$}", d.as_secs(), nanos, width = digits)
            }
        }
    }
}

/// An npt range: `npt=start-[end]` or `npt=-end`, with an optional `;time=` wall-clock start.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Range {
    /// Where playback starts (`None` for `npt=-end`).
    pub start: Option<NptTime>,
    /// Where playback ends (`None`: to the end).
    pub end: Option<NptTime>,
    /// The `time=` parameter (an RFC 2326 UTC time), verbatim.
    pub time: Option<String>,
}

impl Range {
    /// `npt=<start>-`.
    pub fn starting_at(start: NptTime) -> Self {
        Self {
            start: Some(start),
            end: None,
            time: None,
        }
    }

    /// `npt=<start>-<end>`.
    pub fn between(start: NptTime, end: NptTime) -> Self {
        Self {
            start: Some(start),
            end: Some(end),
            time: None,
        }
    }
}

impl Header for Range {
    const NAME: &'static str = NAME;

    fn parse_value(value: &str) -> Result<Self, HeaderError> {
        let mut parts = value.split(';');
        let spec = trim_ows(parts.next().unwrap_or_default());
        if spec.is_empty() {
            return Err(HeaderError::Empty { header: NAME });
        }
        let (unit, range) = spec
            .split_once('=')
            .ok_or(HeaderError::malformed(NAME, "missing unit"))?;
        let unit = trim_ows(unit);
        if !is_token(unit) {
            return Err(HeaderError::malformed(NAME, "invalid unit"));
        }
        if !unit.eq_ignore_ascii_case("npt") {
            return Err(HeaderError::UnsupportedRangeUnit {
                unit: unit.to_owned(),
            });
        }
        let (start, end) = trim_ows(range)
            .split_once('-')
            .ok_or(HeaderError::malformed(NAME, "missing '-'"))?;
        let (start, end) = (trim_ows(start), trim_ows(end));
        if start.is_empty() && end.is_empty() {
            return Err(HeaderError::malformed(NAME, "neither start nor end"));
        }
        let time_of = |s: &str| (!s.is_empty()).then(|| NptTime::parse(s)).transpose();
        let mut range = Range {
            start: time_of(start)?,
            end: time_of(end)?,
            time: None,
        };
        for param in parts {
            let Some((name, value)) = param.split_once('=') else {
                continue;
            };
            if trim_ows(name).eq_ignore_ascii_case("time") {
                let value = trim_ows(value);
                if value.is_empty() || range.time.is_some() {
                    return Err(HeaderError::malformed(NAME, "bad time parameter"));
                }
                range.time = Some(value.to_owned());
            }
        }
        Ok(range)
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("npt=")?;
        if let Some(start) = self.start {
            write!(f, "{start}")?;
        }
        f.write_str("-")?;
        if let Some(end) = self.end {
            write!(f, "{end}")?;
        }
        if let Some(time) = &self.time {
            write!(f, ";time={time}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, nanos: u32) -> Option<NptTime> {
        Some(NptTime::At(Duration::new(secs, nanos)))
    }

    #[test]
    fn client_ranges() {
        let r: Range = "npt=0.000-".parse().unwrap();
        assert_eq!((r.start, r.end), (at(0, 0), None));
        assert_eq!(r.to_string(), "npt=0.000-");
        let r: Range = "npt=0-".parse().unwrap();
        assert_eq!(r.start, at(0, 0));
        let r: Range = "npt=now-".parse().unwrap();
        assert_eq!(r.start, Some(NptTime::Now));
        assert_eq!(r.to_string(), "npt=now-");
        let r: Range = "npt=0.000-1.000".parse().unwrap();
        assert_eq!(r.end, at(1, 0));
        let r: Range = "npt=10.5-20".parse().unwrap();
        assert_eq!((r.start, r.end), (at(10, 500_000_000), at(20, 0)));
        assert_eq!(r.to_string(), "npt=10.500-20.000");
    }

    #[test]
    fn hhmmss_and_fractions() {
        let r: Range = "npt=01:02:03.25-".parse().unwrap();
        assert_eq!(r.start, at(3723, 250_000_000));
        let r: Range = "npt = -0:00:10".parse().unwrap();
        assert_eq!((r.start, r.end), (None, at(10, 0)));
        let r: Range = "npt=1.0000000019-".parse().unwrap();
        assert_eq!(r.start, at(1, 1));
        assert_eq!(r.to_string(), "npt=1.000000001-");
        let r: Range = "npt=5.-".parse().unwrap();
        assert_eq!(r.start, at(5, 0));
        let r: Range = "npt=0-;time=19970123T143720Z".parse().unwrap();
        assert_eq!(r.time.as_deref(), Some("19970123T143720Z"));
        assert_eq!(r.to_string(), "npt=0.000-;time=19970123T143720Z");
    }

    #[test]
    fn unsupported_units() {
        for (v, unit) in [
            ("clock=19961108T142300Z-19961108T143520Z", "clock"),
            ("smpte=10:07:00-10:07:33:05.01", "smpte"),
            ("smpte-25=10:07:00-", "smpte-25"),
        ] {
            assert_eq!(
                v.parse::<Range>(),
                Err(HeaderError::UnsupportedRangeUnit { unit: unit.into() })
            );
        }
    }

    #[test]
    fn malformed_ranges() {
        for bad in [
            "",
            "npt",
            "npt=",
            "npt=-",
            "npt=5",
            "npt=a-",
            "npt=1:2-",
            "npt=1:60:00-",
            "npt=1:2:3:4-",
            "npt=1:123:00-",
            "npt=1.2.3-",
            "npt=1.x-",
            "npt=-1-",
            "=0-",
            "npt=0-;time=",
        ] {
            assert!(bad.parse::<Range>().is_err(), "{bad:?}");
        }
        assert!(matches!(
            "npt=99999999999999999999-".parse::<Range>(),
            Err(HeaderError::Malformed { .. })
        ));
        assert!(matches!(
            "npt=9999999999999999999:00:00-".parse::<Range>(),
            Err(HeaderError::OutOfRange { .. })
        ));
    }
}
