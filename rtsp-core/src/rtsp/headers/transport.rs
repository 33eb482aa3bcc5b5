//! `Transport` (RFC 2326 12.39), including the lab client's `RTP/UDP; client_port= 25000`.

use std::fmt;

use super::{list_elements, Header, HeaderError};
use crate::rtsp::syntax::{
    is_tchar, is_token, parse_decimal, split_outside_quotes, trim_ows, unquote,
};

const NAME: &str = "Transport";

/// The `transport-protocol/profile[/lower-transport]` part of a transport specification.
///
/// `RTP/AVP` and `RTP/AVP/UDP` mean the same but are kept apart so that a server can echo the
/// client's spelling (ffmpeg sends the explicit `/UDP`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TransportProtocol {
    /// `RTP/AVP` (UDP implied).
    RtpAvp,
    /// `RTP/AVP/UDP`.
    RtpAvpUdp,
    /// `RTP/AVP/TCP`: interleaved on the RTSP connection.
    RtpAvpTcp,
    /// `RTP/UDP`: what the lab client sends (not an RFC 2326 spelling).
    LabRtpUdp,
    /// Anything else (e.g. `RTP/SAVP`), as sent.
    Other(String),
}

impl TransportProtocol {
    fn parse(s: &str) -> Result<Self, HeaderError> {
        if s.is_empty() {
            return Err(HeaderError::malformed(NAME, "missing transport protocol"));
        }
        if !s.bytes().all(|b| is_tchar(b) || b == b'/') {
            return Err(HeaderError::malformed(NAME, "invalid transport protocol"));
        }
        let known = [
            ("RTP/AVP", Self::RtpAvp),
            ("RTP/AVP/UDP", Self::RtpAvpUdp),
            ("RTP/AVP/TCP", Self::RtpAvpTcp),
            ("RTP/UDP", Self::LabRtpUdp),
        ];
        Ok(known
            .into_iter()
            .find(|(name, _)| s.eq_ignore_ascii_case(name))
            .map(|(_, p)| p)
            .unwrap_or_else(|| Self::Other(s.to_owned())))
    }

    /// The protocol as written.
    pub fn as_str(&self) -> &str {
        match self {
            Self::RtpAvp => "RTP/AVP",
            Self::RtpAvpUdp => "RTP/AVP/UDP",
            Self::RtpAvpTcp => "RTP/AVP/TCP",
            Self::LabRtpUdp => "RTP/UDP",
            Self::Other(s) => s,
        }
    }

    /// Whether the media goes over the RTSP TCP connection.
    pub fn is_tcp(&self) -> bool {
        match self {
            Self::RtpAvpTcp => true,
            Self::Other(s) => {
                s.len() > 4
                    && s.get(s.len() - 4..)
                        .is_some_and(|t| t.eq_ignore_ascii_case("/TCP"))
            }
            _ => false,
        }
    }

    /// RTP over UDP in any of the spellings this crate serves (`RTP/AVP`, `RTP/AVP/UDP`, lab
    /// `RTP/UDP`).
    pub fn is_rtp_over_udp(&self) -> bool {
        matches!(self, Self::RtpAvp | Self::RtpAvpUdp | Self::LabRtpUdp)
    }
}

/// `unicast` or `multicast`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cast {
    /// `unicast`
    Unicast,
    /// `multicast`
    Multicast,
}

/// A port or an increasing port pair (`client_port=a` / `client_port=a-b`). Ports are 1..=65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    first: u16,
    last: Option<u16>,
}

impl PortRange {
    /// A single port (not 0).
    pub fn single(port: u16) -> Result<Self, HeaderError> {
        Self::new(port, None)
    }

    /// A pair `first-last` with `first < last`, usually RTP and RTCP (`last = first + 1`).
    pub fn pair(first: u16, last: u16) -> Result<Self, HeaderError> {
        Self::new(first, Some(last))
    }

    fn new(first: u16, last: Option<u16>) -> Result<Self, HeaderError> {
        if first == 0 || last == Some(0) {
            return Err(HeaderError::InvalidPort {
                header: NAME,
                reason: "port 0",
            });
        }
        if last.is_some_and(|l| l <= first) {
            return Err(HeaderError::InvalidPort {
                header: NAME,
                reason: "port pair not increasing",
            });
        }
        Ok(Self { first, last })
    }

    fn parse(s: &str) -> Result<Self, HeaderError> {
        let port = |p: &str| {
            parse_decimal(trim_ows(p))
                .ok_or(HeaderError::malformed(NAME, "port is not a number"))
                .and_then(|n| {
                    u16::try_from(n).map_err(|_| HeaderError::InvalidPort {
                        header: NAME,
                        reason: "port above 65535",
                    })
                })
        };
        match s.split_once('-') {
            Some((a, b)) => Self::new(port(a)?, Some(port(b)?)),
            None => Self::new(port(s)?, None),
        }
    }

    /// The first (RTP) port.
    pub fn first(self) -> u16 {
        self.first
    }

    /// The second port of a pair.
    pub fn last(self) -> Option<u16> {
        self.last
    }

    /// The RTCP port: the second of a pair, or the first plus one (RFC 3550 11).
    pub fn rtcp(self) -> Option<u16> {
        self.last.or_else(|| self.first.checked_add(1))
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.last {
            Some(last) => write!(f, "{}-{}", self.first, last),
            None => write!(f, "{}", self.first),
        }
    }
}

/// Interleaved channel numbers (`interleaved=0-1`): a channel or an increasing pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChannelRange {
    first: u8,
    last: Option<u8>,
}

impl ChannelRange {
    /// A single channel.
    pub fn single(channel: u8) -> Self {
        Self {
            first: channel,
            last: None,
        }
    }

    /// A pair `first-last` with `first < last`.
    pub fn pair(first: u8, last: u8) -> Result<Self, HeaderError> {
        if last <= first {
            return Err(HeaderError::malformed(NAME, "channel pair not increasing"));
        }
        Ok(Self {
            first,
            last: Some(last),
        })
    }

    fn parse(s: &str) -> Result<Self, HeaderError> {
        let channel = |c: &str| {
            parse_decimal(trim_ows(c))
                .ok_or(HeaderError::malformed(NAME, "channel is not a number"))
                .and_then(|n| u8::try_from(n).map_err(|_| HeaderError::OutOfRange { header: NAME }))
        };
        match s.split_once('-') {
            Some((a, b)) => Self::pair(channel(a)?, channel(b)?),
            None => Ok(Self::single(channel(s)?)),
        }
    }

    /// The first (RTP) channel.
    pub fn first(self) -> u8 {
        self.first
    }

    /// The second channel of a pair.
    pub fn last(self) -> Option<u8> {
        self.last
    }

    /// The RTCP channel: the second of a pair, or the first plus one.
    pub fn rtcp(self) -> Option<u8> {
        self.last.or_else(|| self.first.checked_add(1))
    }
}

impl fmt::Display for ChannelRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.last {
            Some(last) => write!(f, "{}-{}", self.first, last),
            None => write!(f, "{}", self.first),
        }
    }
}

/// One transport alternative: protocol plus parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportSpec {
    /// `RTP/AVP`, `RTP/AVP/TCP`, ...
    pub protocol: TransportProtocol,
    /// `unicast` / `multicast`.
    pub cast: Option<Cast>,
    /// `destination=address`.
    pub destination: Option<String>,
    /// `source=address`.
    pub source: Option<String>,
    /// `interleaved=a[-b]`.
    pub interleaved: Option<ChannelRange>,
    /// `append`.
    pub append: bool,
    /// `ttl=n` (multicast).
    pub ttl: Option<u8>,
    /// `layers=n` (multicast).
    pub layers: Option<u32>,
    /// `port=a[-b]` (multicast).
    pub port: Option<PortRange>,
    /// `client_port=a[-b]`.
    pub client_port: Option<PortRange>,
    /// `server_port=a[-b]`.
    pub server_port: Option<PortRange>,
    /// `ssrc=XXXXXXXX` (hexadecimal).
    pub ssrc: Option<u32>,
    /// `mode=PLAY` or `mode="PLAY"`, unquoted.
    pub mode: Option<String>,
    /// Parameters this type does not know, in wire order: `(name, value)`.
    pub other: Vec<(String, Option<String>)>,
}

impl TransportSpec {
    /// A specification with no parameters.
    pub fn new(protocol: TransportProtocol) -> Self {
        Self {
            protocol,
            cast: None,
            destination: None,
            source: None,
            interleaved: None,
            append: false,
            ttl: None,
            layers: None,
            port: None,
            client_port: None,
            server_port: None,
            ssrc: None,
            mode: None,
            other: Vec::new(),
        }
    }

    /// What the lab client sends: `RTP/UDP; client_port= <port>`.
    pub fn lab_udp(client_port: u16) -> Result<Self, HeaderError> {
        let mut spec = Self::new(TransportProtocol::LabRtpUdp);
        spec.client_port = Some(PortRange::single(client_port)?);
        Ok(spec)
    }

    /// Whether the media goes over the RTSP TCP connection.
    pub fn is_tcp(&self) -> bool {
        self.protocol.is_tcp()
    }

    fn parse(s: &str) -> Result<Self, HeaderError> {
        let parts = split_outside_quotes(s, b';')
            .ok_or(HeaderError::malformed(NAME, "unterminated quoted string"))?;
        let mut parts = parts.into_iter().map(trim_ows);
        let mut spec = Self::new(TransportProtocol::parse(parts.next().unwrap_or_default())?);
        for param in parts.filter(|p| !p.is_empty()) {
            let (name, value) = match param.split_once('=') {
                Some((n, v)) => (trim_ows(n), Some(trim_ows(v))),
                None => (param, None),
            };
            if !is_token(name) {
                return Err(HeaderError::malformed(NAME, "invalid parameter name"));
            }
            spec.apply(name, value)?;
        }
        Ok(spec)
    }

    fn apply(&mut self, name: &str, value: Option<&str>) -> Result<(), HeaderError> {
        let dup = || HeaderError::malformed(NAME, "duplicate parameter");
        let need = || value.ok_or(HeaderError::malformed(NAME, "parameter needs a value"));
        fn set<T>(slot: &mut Option<T>, v: T, dup: HeaderError) -> Result<(), HeaderError> {
            if slot.is_some() {
                return Err(dup);
            }
            *slot = Some(v);
            Ok(())
        }
        let lower = name.to_ascii_lowercase();
        match (lower.as_str(), value) {
            ("unicast", None) => set(&mut self.cast, Cast::Unicast, dup()),
            ("multicast", None) => set(&mut self.cast, Cast::Multicast, dup()),
            ("append", None) => {
                if self.append {
                    return Err(dup());
                }
                self.append = true;
                Ok(())
            }
            ("destination", Some(v)) => set(&mut self.destination, v.to_owned(), dup()),
            ("source", Some(v)) => set(&mut self.source, v.to_owned(), dup()),
            ("interleaved", _) => set(&mut self.interleaved, ChannelRange::parse(need()?)?, dup()),
            ("ttl", _) => {
                let ttl = parse_decimal(need()?)
                    .ok_or(HeaderError::malformed(NAME, "ttl is not a number"))?;
                let ttl =
                    u8::try_from(ttl).map_err(|_| HeaderError::OutOfRange { header: NAME })?;
                set(&mut self.ttl, ttl, dup())
            }
            ("layers", _) => {
                let layers = parse_decimal(need()?)
                    .ok_or(HeaderError::malformed(NAME, "layers is not a number"))?;
                let layers =
                    u32::try_from(layers).map_err(|_| HeaderError::OutOfRange { header: NAME })?;
                set(&mut self.layers, layers, dup())
            }
            ("port", _) => set(&mut self.port, PortRange::parse(need()?)?, dup()),
            ("client_port", _) => set(&mut self.client_port, PortRange::parse(need()?)?, dup()),
            ("server_port", _) => set(&mut self.server_port, PortRange::parse(need()?)?, dup()),
            ("ssrc", _) => {
                let hex = need()?;
                if hex.is_empty() || hex.len() > 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(HeaderError::malformed(
                        NAME,
                        "ssrc is not 1 to 8 hex digits",
                    ));
                }
                let ssrc = u32::from_str_radix(hex, 16)
                    .map_err(|_| HeaderError::malformed(NAME, "ssrc is not hexadecimal"))?;
                set(&mut self.ssrc, ssrc, dup())
            }
            ("mode", _) => {
                let mode = unquote(need()?)
                    .ok_or(HeaderError::malformed(NAME, "malformed quoted mode"))?;
                set(&mut self.mode, mode, dup())
            }
            ("unicast" | "multicast" | "append", Some(_)) => {
                Err(HeaderError::malformed(NAME, "flag parameter with a value"))
            }
            _ => {
                // Unknown parameters (and `destination` without an address) are kept
                // verbatim so that a server can echo them and a client can inspect them.
                self.other.push((name.to_owned(), value.map(str::to_owned)));
                Ok(())
            }
        }
    }
}

impl fmt::Display for TransportSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The lab server splits the Transport line on single spaces and takes the fourth
        // field as the port, so the lab spelling needs "; " and "= " exactly.
        let lab = self.protocol == TransportProtocol::LabRtpUdp;
        let (sep, eq) = if lab { ("; ", "= ") } else { (";", "=") };
        f.write_str(self.protocol.as_str())?;
        match self.cast {
            Some(Cast::Unicast) => write!(f, "{sep}unicast")?,
            Some(Cast::Multicast) => write!(f, "{sep}multicast")?,
            None => {}
        }
        if let Some(d) = &self.destination {
            write!(f, "{sep}destination{eq}{d}")?;
        }
        if let Some(s) = &self.source {
            write!(f, "{sep}source{eq}{s}")?;
        }
        if let Some(i) = self.interleaved {
            write!(f, "{sep}interleaved{eq}{i}")?;
        }
        if self.append {
            write!(f, "{sep}append")?;
        }
        if let Some(t) = self.ttl {
            write!(f, "{sep}ttl{eq}{t}")?;
        }
        if let Some(l) = self.layers {
            write!(f, "{sep}layers{eq}{l}")?;
        }
        if let Some(p) = self.port {
            write!(f, "{sep}port{eq}{p}")?;
        }
        if let Some(p) = self.client_port {
            write!(f, "{sep}client_port{eq}{p}")?;
        }
        if let Some(p) = self.server_port {
            write!(f, "{sep}server_port{eq}{p}")?;
        }
        if let Some(s) = self.ssrc {
            write!(f, "{sep}ssrc{eq}{s:08X}")?;
        }
        if let Some(m) = &self.mode {
            // Always quoted, as gst-rtsp-server writes it.
            write!(f, "{sep}mode{eq}\"")?;
            for c in m.chars() {
                if c == '"' || c == '\\' {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str("\"")?;
        }
        for (name, value) in &self.other {
            match value {
                Some(v) => write!(f, "{sep}{name}{eq}{v}")?,
                None => write!(f, "{sep}{name}")?,
            }
        }
        Ok(())
    }
}

/// The `Transport` header: one or more alternatives in the client's order of preference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transport(pub Vec<TransportSpec>);

impl Transport {
    /// A header with a single alternative.
    pub fn single(spec: TransportSpec) -> Self {
        Self(vec![spec])
    }

    /// The preferred alternative (a parsed header always has one).
    pub fn first(&self) -> Option<&TransportSpec> {
        self.0.first()
    }
}

impl Header for Transport {
    const NAME: &'static str = NAME;
    const IS_LIST: bool = true;

    fn parse_value(value: &str) -> Result<Self, HeaderError> {
        list_elements(NAME, value)?
            .into_iter()
            .map(TransportSpec::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Transport)
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, spec) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{spec}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> TransportSpec {
        let t: Transport = s.parse().unwrap();
        assert_eq!(t.0.len(), 1, "{s}");
        t.0.into_iter().next().unwrap()
    }

    #[test]
    fn lab_transport() {
        let spec = one("RTP/UDP; client_port= 25000");
        assert_eq!(spec.protocol, TransportProtocol::LabRtpUdp);
        assert_eq!(spec.client_port, Some(PortRange::single(25000).unwrap()));
        assert_eq!(spec.to_string(), "RTP/UDP; client_port= 25000");
        assert_eq!(TransportSpec::lab_udp(25000).unwrap(), spec);
        assert!(spec.protocol.is_rtp_over_udp());
    }

    #[test]
    fn client_transports() {
        let ff = one("RTP/AVP/UDP;unicast;client_port=5000-5001");
        assert_eq!(ff.protocol, TransportProtocol::RtpAvpUdp);
        assert_eq!(ff.cast, Some(Cast::Unicast));
        let ports = ff.client_port.unwrap();
        assert_eq!(
            (ports.first(), ports.last(), ports.rtcp()),
            (5000, Some(5001), Some(5001))
        );
        assert_eq!(ff.to_string(), "RTP/AVP/UDP;unicast;client_port=5000-5001");

        let gst = one("RTP/AVP;unicast;client_port=41234-41235");
        assert_eq!(gst.protocol, TransportProtocol::RtpAvp);
        assert!(!gst.is_tcp());

        let tcp = one("RTP/AVP/TCP;unicast;interleaved=0-1");
        assert!(tcp.is_tcp());
        assert_eq!(tcp.interleaved, Some(ChannelRange::pair(0, 1).unwrap()));
    }

    #[test]
    fn server_reply_params() {
        let s = one(
            "RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001;ssrc=1A2b3C4d;mode=\"PLAY\"",
        );
        assert_eq!(s.server_port.unwrap().first(), 6000);
        assert_eq!(s.ssrc, Some(0x1A2B_3C4D));
        assert_eq!(s.mode.as_deref(), Some("PLAY"));
        assert_eq!(
            s.to_string(),
            "RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001;ssrc=1A2B3C4D;mode=\"PLAY\""
        );
        assert_eq!(one("RTP/AVP;mode=PLAY").mode.as_deref(), Some("PLAY"));
        assert_eq!(one("RTP/AVP;ssrc=ff").ssrc, Some(0xff));
    }

    #[test]
    fn control_characters_are_refused_even_in_unknown_params() {
        // Found by the rtsp_headers fuzz target: a NUL inside an unknown parameter was kept and
        // then could not be written back as a header.
        assert!(Transport::parse("RTP/UDP; cliecliport=\u{0}25000").is_err());
        assert!(Transport::parse("RTP/AVP;unicast;x=\u{7f}").is_err());
    }

    #[test]
    fn alternatives_and_unknown_params() {
        let t: Transport =
            "RTP/AVP/TCP;interleaved=0-1, RTP/AVP;multicast;destination=224.2.0.1;ttl=16;port=3456-3457;x-foo=bar;x-flag"
                .parse()
                .unwrap();
        assert_eq!(t.0.len(), 2);
        let m = &t.0[1];
        assert_eq!(m.cast, Some(Cast::Multicast));
        assert_eq!(m.destination.as_deref(), Some("224.2.0.1"));
        assert_eq!(m.ttl, Some(16));
        assert_eq!(m.port.unwrap().first(), 3456);
        assert_eq!(
            m.other,
            [
                ("x-foo".to_owned(), Some("bar".to_owned())),
                ("x-flag".to_owned(), None)
            ]
        );
        assert_eq!(t.to_string().parse::<Transport>().unwrap(), t);
        let s = one("RTP/AVP;destination;append");
        assert!(s.append);
        assert_eq!(s.other, [("destination".to_owned(), None)]);
    }

    #[test]
    fn invalid_transports() {
        for bad in [
            "",
            ",",
            ";unicast",
            "RTP AVP;unicast",
            "RTP/AVP;client_port=0-1",
            "RTP/AVP;client_port=65535-65536",
            "RTP/AVP;client_port=70000",
            "RTP/AVP;client_port=5001-5000",
            "RTP/AVP;client_port=5000-5000",
            "RTP/AVP;client_port=",
            "RTP/AVP;client_port",
            "RTP/AVP;client_port=a-b",
            "RTP/AVP;server_port=0",
            "RTP/AVP;interleaved=1-0",
            "RTP/AVP;interleaved=256",
            "RTP/AVP;ssrc=123456789",
            "RTP/AVP;ssrc=xyz",
            "RTP/AVP;ttl=300",
            "RTP/AVP;unicast;unicast",
            "RTP/AVP;unicast;multicast",
            "RTP/AVP;unicast=1",
            "RTP/AVP;mode=\"PLAY",
            "RTP/AVP;bad name=1",
            "RTP/AVP;client_port=1;client_port=2",
        ] {
            assert!(bad.parse::<Transport>().is_err(), "{bad:?}");
        }
        assert!(matches!(
            "RTP/AVP;client_port=0".parse::<Transport>(),
            Err(HeaderError::InvalidPort { .. })
        ));
        assert!(matches!(
            "RTP/AVP;client_port=65536".parse::<Transport>(),
            Err(HeaderError::InvalidPort { .. })
        ));
    }

    #[test]
    fn port_edge_cases() {
        assert_eq!(PortRange::single(65535).unwrap().rtcp(), None);
        assert_eq!(PortRange::single(1).unwrap().rtcp(), Some(2));
        assert!(PortRange::pair(10, 9).is_err());
        assert_eq!(ChannelRange::single(255).rtcp(), None);
    }
}
