//! `RTP-Info` (RFC 2326 12.33).

use std::fmt;

use super::{Header, HeaderError};
use crate::rtsp::syntax::{is_uri_text, parse_decimal, trim_ows};

const NAME: &str = "RTP-Info";

/// Where one stream starts after PLAY: `url=...;seq=N;rtptime=T`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RtpInfoEntry {
    /// The stream URL (as in SETUP).
    pub url: String,
    /// Sequence number of the first packet sent after PLAY.
    pub seq: Option<u16>,
    /// RTP timestamp matching the start of the Range.
    pub rtptime: Option<u32>,
}

impl RtpInfoEntry {
    fn parse(s: &str) -> Result<Self, HeaderError> {
        let (mut url, mut seq, mut rtptime) = (None, None, None);
        for param in s.split(';').map(trim_ows).filter(|p| !p.is_empty()) {
            let (name, value) = param
                .split_once('=')
                .ok_or(HeaderError::malformed(NAME, "parameter without '='"))?;
            let value = trim_ows(value);
            let dup = HeaderError::malformed(NAME, "duplicate parameter");
            let number =
                || parse_decimal(value).ok_or(HeaderError::malformed(NAME, "not a decimal number"));
            let out_of_range = |_| HeaderError::OutOfRange { header: NAME };
            match trim_ows(name).to_ascii_lowercase().as_str() {
                "url" => {
                    if url.is_some() {
                        return Err(dup);
                    }
                    if !is_uri_text(value) {
                        return Err(HeaderError::malformed(NAME, "invalid url"));
                    }
                    url = Some(value.to_owned());
                }
                "seq" => {
                    if seq.is_some() {
                        return Err(dup);
                    }
                    seq = Some(u16::try_from(number()?).map_err(out_of_range)?);
                }
                "rtptime" => {
                    if rtptime.is_some() {
                        return Err(dup);
                    }
                    rtptime = Some(u32::try_from(number()?).map_err(out_of_range)?);
                }
                // RTSP 2.0 adds ssrc; nothing here needs it.
                _ => {}
            }
        }
        let url = url.ok_or(HeaderError::malformed(NAME, "missing url"))?;
        Ok(Self { url, seq, rtptime })
    }
}

impl fmt::Display for RtpInfoEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "url={}", self.url)?;
        if let Some(seq) = self.seq {
            write!(f, ";seq={seq}")?;
        }
        if let Some(rtptime) = self.rtptime {
            write!(f, ";rtptime={rtptime}")?;
        }
        Ok(())
    }
}

/// The `RTP-Info` header: one entry per stream.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RtpInfo(pub Vec<RtpInfoEntry>);

impl Header for RtpInfo {
    const NAME: &'static str = NAME;
    const IS_LIST: bool = true;

    fn parse_value(value: &str) -> Result<Self, HeaderError> {
        value
            .split(',')
            .map(trim_ows)
            .filter(|e| !e.is_empty())
            .map(RtpInfoEntry::parse)
            .collect::<Result<Vec<_>, _>>()
            .and_then(|entries| {
                if entries.is_empty() {
                    Err(HeaderError::Empty { header: NAME })
                } else {
                    Ok(RtpInfo(entries))
                }
            })
    }
}

impl fmt::Display for RtpInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, entry) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{entry}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rtp_info() {
        let info: RtpInfo =
            "url=rtsp://h:8554/movie/track1;seq=45102;rtptime=2890844526, url=rtsp://h/movie/track2;seq=3"
                .parse()
                .unwrap();
        assert_eq!(info.0.len(), 2);
        assert_eq!(info.0[0].url, "rtsp://h:8554/movie/track1");
        assert_eq!(info.0[0].seq, Some(45102));
        assert_eq!(info.0[0].rtptime, Some(2_890_844_526));
        assert_eq!(info.0[1].rtptime, None);
        assert_eq!(info.to_string().parse::<RtpInfo>().unwrap(), info);
        let unordered: RtpInfo = "seq=1;url=rtsp://h/a;ssrc=0A0B0C0D".parse().unwrap();
        assert_eq!(unordered.to_string(), "url=rtsp://h/a;seq=1");
    }

    #[test]
    fn reject_bad_rtp_info() {
        for bad in [
            "",
            ",",
            "seq=1",
            "url=",
            "url=a b",
            "url=x;seq=65536",
            "url=x;rtptime=4294967296",
            "url=x;seq=-1",
            "url=x;seq",
            "url=x;url=y",
            "url=x;seq=1;seq=2",
        ] {
            assert!(bad.parse::<RtpInfo>().is_err(), "{bad:?}");
        }
    }
}
