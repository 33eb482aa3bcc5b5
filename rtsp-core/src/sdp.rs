//! Session descriptions (SDP, RFC 4566) for an RTP/JPEG stream.
//!
//! - [`SessionDescription`] writes what the server answers to DESCRIBE: the shape every
//!   measured client (FFmpeg, GStreamer, live555) accepts, plus the range, frame-rate and
//!   frame-size attributes they read.
//! - [`Sdp::parse`] is a tolerant reader for the client: LF or CRLF, unknown lines ignored,
//!   attributes matched case-insensitively, but bounded in size and line count.
//! - [`resolve_control_url`] and [`session_base_url`] turn `a=control` values into the URLs
//!   SETUP and PLAY go to.
//!
//! ```
//! use std::time::Duration;
//! use rtsp_core::sdp::{resolve_control_url, Dimensions, Sdp, SessionDescription};
//!
//! let mut desc = SessionDescription::new(1234, "movie");
//! desc.duration = Some(Duration::from_secs(25));
//! desc.frame_rate = Some(20.0);
//! desc.dimensions = Some(Dimensions { width: 640, height: 480 });
//! let text = desc.to_sdp()?;
//!
//! let sdp = Sdp::parse(&text)?;
//! let video = sdp.video().expect("a video stream");
//! assert_eq!(video.payload_type(), Some(26));
//! assert_eq!(video.control_url("rtsp://h:8554/movie/"), "rtsp://h:8554/movie/track1");
//! assert_eq!(resolve_control_url("rtsp://h/movie", "track1"), "rtsp://h/movie/track1");
//! # Ok::<(), rtsp_core::sdp::SdpError>(())
//! ```

use std::fmt::{self, Write as _};
use std::net::IpAddr;
use std::time::Duration;

/// Largest SDP body [`Sdp::parse`] accepts, in bytes.
pub const MAX_SDP_LEN: usize = 64 * 1024;
/// Most lines [`Sdp::parse`] accepts (blank lines included).
pub const MAX_SDP_LINES: usize = 2048;

/// Errors of the SDP reader and writer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdpError {
    /// The body is longer than [`MAX_SDP_LEN`].
    #[error("SDP is {len} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Length of the body.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The body has more than [`MAX_SDP_LINES`] lines.
    #[error("SDP has more than {limit} lines")]
    TooManyLines {
        /// The limit.
        limit: usize,
    },
    /// The body is not UTF-8.
    #[error("SDP is not valid UTF-8")]
    NotUtf8,
    /// Not a single `x=value` line: this is not a session description.
    #[error("not a session description (no `x=value` line)")]
    NotSdp,
    /// `v=` is not 0.
    #[error("line {line}: unsupported SDP version")]
    UnsupportedVersion {
        /// 1-based line number.
        line: usize,
    },
    /// An `m=` line without media, port, protocol and format, or with a bad port.
    #[error("line {line}: malformed m= line")]
    BadMediaLine {
        /// 1-based line number.
        line: usize,
    },
    /// The writer was given a field it cannot put in an SDP line.
    #[error("invalid SDP field `{field}`: {reason}")]
    InvalidField {
        /// Name of the field of [`SessionDescription`].
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Width and height of a video in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dimensions {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

/// The session description the server sends for one RTP/JPEG video stream.
///
/// [`to_sdp`](Self::to_sdp) produces, with CRLF line ends:
///
/// ```text
/// v=0
/// o=- <session_id> <session_version> IN IP4 <origin_address>
/// s=<session_name>
/// c=IN IP4 <connection_address>
/// t=0 0
/// a=control:<aggregate_control>
/// a=range:npt=0-<duration>            (npt=now- when live)
/// m=video 0 RTP/AVP <payload_type>
/// a=rtpmap:<payload_type> JPEG/<clock_rate>
/// a=control:<media_control>
/// a=framerate:<frame_rate>            (if set)
/// a=framesize:<payload_type> <W>-<H>  (if set)
/// a=x-dimensions:<W>,<H>              (if set)
/// ```
///
/// The port is 0 because the transport is negotiated by SETUP. `framesize` and `x-dimensions`
/// are the frame-size attributes FFmpeg and GStreamer read; GStreamer also needs
/// `x-dimensions` for frames above the 2040 pixels the RFC 2435 header can express.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionDescription {
    /// `o=` session id (any number unique to the server, e.g. random).
    pub session_id: u64,
    /// `o=` session version, to be increased when the description changes.
    pub session_version: u64,
    /// `o=` address of the originating host.
    pub origin_address: IpAddr,
    /// `s=` session name (e.g. the file name); must not contain line breaks.
    pub session_name: String,
    /// `c=` connection address: unspecified (`0.0.0.0`) for unicast over SETUP.
    pub connection_address: IpAddr,
    /// Length of the stream, or `None` for a live source (`a=range:npt=now-`).
    pub duration: Option<Duration>,
    /// Session-level `a=control` (`*`: the aggregate URL is the Content-Base).
    pub aggregate_control: String,
    /// Media-level `a=control`, relative to Content-Base or absolute.
    pub media_control: String,
    /// RTP payload type: 26 (static, JPEG) unless there is a reason to change it.
    pub payload_type: u8,
    /// RTP clock rate: 90 000 Hz, as RFC 2435 requires.
    pub clock_rate: u32,
    /// Frames per second, announced with `a=framerate`.
    pub frame_rate: Option<f64>,
    /// Frame size, announced with `a=framesize` and `a=x-dimensions`.
    pub dimensions: Option<Dimensions>,
}

impl SessionDescription {
    /// A live description with the defaults above: version 1, origin 127.0.0.1, connection
    /// 0.0.0.0, controls `*` and `track1`, payload type 26 at 90 kHz, no rate or size.
    pub fn new(session_id: u64, session_name: impl Into<String>) -> Self {
        Self {
            session_id,
            session_version: 1,
            origin_address: IpAddr::from([127, 0, 0, 1]),
            session_name: session_name.into(),
            connection_address: IpAddr::from([0, 0, 0, 0]),
            duration: None,
            aggregate_control: "*".to_owned(),
            media_control: "track1".to_owned(),
            payload_type: 26,
            clock_rate: 90_000,
            frame_rate: None,
            dimensions: None,
        }
    }

    /// Renders the description (CRLF line ends), or says which field cannot be written.
    pub fn to_sdp(&self) -> Result<String, SdpError> {
        let invalid = |field, reason| SdpError::InvalidField { field, reason };
        if self.session_name.chars().any(char::is_control) {
            return Err(invalid("session_name", "contains control characters"));
        }
        for (field, value) in [
            ("aggregate_control", &self.aggregate_control),
            ("media_control", &self.media_control),
        ] {
            if value.is_empty() || value.chars().any(|c| c.is_control() || c.is_whitespace()) {
                return Err(invalid(field, "must be non-empty without spaces"));
            }
        }
        if self.payload_type > 127 {
            return Err(invalid("payload_type", "must be 0-127"));
        }
        if self.clock_rate == 0 {
            return Err(invalid("clock_rate", "must be positive"));
        }
        if let Some(fps) = self.frame_rate {
            if !(fps.is_finite() && fps > 0.0) {
                return Err(invalid("frame_rate", "must be a positive number"));
            }
        }
        if let Some(d) = self.dimensions {
            if d.width == 0 || d.height == 0 {
                return Err(invalid("dimensions", "must be non-zero"));
            }
        }

        // RFC 4566 5.3: a session without a name still needs a non-empty s= line.
        let name = if self.session_name.is_empty() {
            " "
        } else {
            &self.session_name
        };
        let pt = self.payload_type;
        let mut out = String::with_capacity(384);
        // Writing into a String cannot fail; the results are discarded for that reason.
        let _ = write!(
            out,
            "v=0\r\n\
             o=- {id} {version} IN {origin}\r\n\
             s={name}\r\n\
             c=IN {connection}\r\n\
             t=0 0\r\n\
             a=control:{aggregate}\r\n",
            id = self.session_id,
            version = self.session_version,
            origin = AddrField(self.origin_address),
            connection = AddrField(self.connection_address),
            aggregate = self.aggregate_control,
        );
        match self.duration {
            Some(d) => {
                let _ = write!(out, "a=range:npt=0-{:.3}\r\n", d.as_secs_f64());
            }
            None => out.push_str("a=range:npt=now-\r\n"),
        }
        let _ = write!(
            out,
            "m=video 0 RTP/AVP {pt}\r\n\
             a=rtpmap:{pt} JPEG/{clock}\r\n\
             a=control:{control}\r\n",
            clock = self.clock_rate,
            control = self.media_control,
        );
        if let Some(fps) = self.frame_rate {
            let _ = write!(out, "a=framerate:{}\r\n", FrameRate(fps));
        }
        if let Some(Dimensions { width, height }) = self.dimensions {
            let _ = write!(
                out,
                "a=framesize:{pt} {width}-{height}\r\na=x-dimensions:{width},{height}\r\n"
            );
        }
        Ok(out)
    }
}

/// `IP4 a.b.c.d` or `IP6 ::1`.
struct AddrField(IpAddr);

impl fmt::Display for AddrField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(a) => write!(f, "IP4 {a}"),
            IpAddr::V6(a) => write!(f, "IP6 {a}"),
        }
    }
}

/// A frame rate without needless decimals: `20`, `29.97`, `12.5`.
struct FrameRate(f64);

impl fmt::Display for FrameRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = format!("{:.3}", self.0);
        f.write_str(text.trim_end_matches('0').trim_end_matches('.'))
    }
}

// ---------------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------------

/// `o=` line: `username sess-id sess-version nettype addrtype address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// User name (`-` when there is none).
    pub username: String,
    /// Session id, kept as text (some servers exceed 64 bits).
    pub session_id: String,
    /// Session version, kept as text.
    pub session_version: String,
    /// Network type (`IN`).
    pub net_type: String,
    /// Address type (`IP4` or `IP6`).
    pub addr_type: String,
    /// Address of the originating host.
    pub address: String,
}

/// `c=` line: `nettype addrtype address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Network type (`IN`).
    pub net_type: String,
    /// Address type (`IP4` or `IP6`).
    pub addr_type: String,
    /// Connection address, possibly with `/ttl` or `/count` suffixes.
    pub address: String,
}

/// `b=` line: `bwtype:bandwidth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bandwidth {
    /// Bandwidth type (`AS`, `CT`, `TIAS`, ...).
    pub kind: String,
    /// Value (kbit/s for `AS` and `CT`, bit/s for `TIAS`).
    pub value: u64,
}

/// `a=` line: `name:value` or a flag `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Attribute name.
    pub name: String,
    /// Value after the first `:`, or `None` for a flag attribute.
    pub value: Option<String>,
}

/// `a=rtpmap:<pt> <encoding>/<clock>[/<params>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// RTP payload type.
    pub payload_type: u8,
    /// Encoding name as written (e.g. `JPEG`).
    pub encoding: String,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Encoding parameters (channels for audio), if any.
    pub params: Option<String>,
}

/// One end of an NPT range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NptTime {
    /// `now`: the live edge.
    Now,
    /// Seconds from the start of the presentation.
    Seconds(f64),
}

/// `a=range:npt=<start>-[<end>]` (RFC 2326 3.6). Other range units are not interpreted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NptRange {
    /// Start, absent in the form `npt=-<end>`.
    pub start: Option<NptTime>,
    /// End, absent for an open range.
    pub end: Option<NptTime>,
}

impl NptRange {
    /// Parses `npt=...` (also `npt = ...`); `None` for other units or malformed text.
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.trim().strip_prefix("npt")?.trim_start();
        let rest = rest.strip_prefix('=')?.trim();
        let (start, end) = rest.split_once('-')?;
        let parse_end = |s: &str| -> Option<Option<NptTime>> {
            let s = s.trim();
            if s.is_empty() {
                Some(None)
            } else {
                parse_npt_time(s).map(Some)
            }
        };
        let range = Self {
            start: parse_end(start)?,
            end: parse_end(end)?,
        };
        if range.start.is_none() && range.end.is_none() {
            return None;
        }
        Some(range)
    }

    /// Length of the range in seconds when both ends are times (a missing start is 0).
    pub fn duration(&self) -> Option<f64> {
        let start = match self.start {
            None => 0.0,
            Some(NptTime::Seconds(s)) => s,
            Some(NptTime::Now) => return None,
        };
        match self.end {
            Some(NptTime::Seconds(end)) if end >= start => Some(end - start),
            _ => None,
        }
    }

    /// Whether the range describes a live source: it starts at `now` or has no end.
    pub fn is_live(&self) -> bool {
        matches!(self.start, Some(NptTime::Now)) || self.end.is_none()
    }
}

/// `now`, `123.45` or `h:mm:ss.frac` (RFC 2326 3.6).
fn parse_npt_time(s: &str) -> Option<NptTime> {
    if s.eq_ignore_ascii_case("now") {
        return Some(NptTime::Now);
    }
    // Validated before `f64::from_str`, which would also take "inf", "NaN" and "1e400".
    let number = |t: &str, max_len: usize| -> Option<f64> {
        let ok = !t.is_empty()
            && t.len() <= max_len
            && t.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && t.bytes().filter(|&b| b == b'.').count() <= 1
            && t.bytes().next().is_some_and(|b| b.is_ascii_digit());
        if ok {
            t.parse().ok()
        } else {
            None
        }
    };
    let seconds = match s.split(':').collect::<Vec<_>>().as_slice() {
        [secs] => number(secs, 32)?,
        [h, m, sec] => {
            let h = number(h, 12)?;
            let m = number(m, 2)?;
            let sec = number(sec, 32)?;
            if h.fract() != 0.0 || m.fract() != 0.0 || m >= 60.0 || sec >= 60.0 {
                return None;
            }
            h * 3600.0 + m * 60.0 + sec
        }
        _ => return None,
    };
    Some(NptTime::Seconds(seconds))
}

/// One `m=` section and the lines under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    kind: String,
    port: u16,
    port_count: Option<u16>,
    protocol: String,
    formats: Vec<String>,
    connection: Option<Connection>,
    bandwidths: Vec<Bandwidth>,
    attributes: Vec<Attribute>,
}

impl MediaDescription {
    /// Media type: `video`, `audio`, ...
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// Port on the `m=` line (0 when SETUP negotiates it).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Number of ports (`m=video 5000/2 ...`), if given.
    pub fn port_count(&self) -> Option<u16> {
        self.port_count
    }

    /// Transport protocol (`RTP/AVP`).
    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    /// Formats (payload types for RTP) as written.
    pub fn formats(&self) -> &[String] {
        &self.formats
    }

    /// Media-level `c=` line.
    pub fn connection(&self) -> Option<&Connection> {
        self.connection.as_ref()
    }

    /// Media-level `b=` lines.
    pub fn bandwidths(&self) -> &[Bandwidth] {
        &self.bandwidths
    }

    /// Media-level `a=` lines in order.
    pub fn attributes(&self) -> &[Attribute] {
        &self.attributes
    }

    /// Value of the first attribute named `name` (case-insensitive); `""` for a flag.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        find_attribute(&self.attributes, name)
    }

    /// The first format as an RTP payload type (0-127).
    pub fn payload_type(&self) -> Option<u8> {
        let pt: u8 = self.formats.first()?.parse().ok()?;
        (pt <= 127).then_some(pt)
    }

    /// The `a=rtpmap` of the first payload type.
    pub fn rtpmap(&self) -> Option<RtpMap> {
        let pt = self.payload_type()?;
        self.attributes_named("rtpmap")
            .filter_map(parse_rtpmap)
            .find(|map| map.payload_type == pt)
    }

    /// Media-level `a=control`.
    pub fn control(&self) -> Option<&str> {
        self.attribute("control").map(str::trim)
    }

    /// The URL to SETUP this stream: `a=control` resolved against `base` (see
    /// [`resolve_control_url`]), or `base` itself when there is no `a=control`.
    pub fn control_url(&self, base: &str) -> String {
        resolve_control_url(base, self.control().unwrap_or("*"))
    }

    /// Frames per second from `a=framerate` or `a=x-framerate`.
    pub fn framerate(&self) -> Option<f64> {
        ["framerate", "x-framerate"]
            .iter()
            .filter_map(|name| self.attribute(name))
            .filter_map(|v| v.trim().parse::<f64>().ok())
            .find(|fps| fps.is_finite() && *fps > 0.0)
    }

    /// Frame size from `a=x-dimensions:W,H`, `a=framesize:<pt> W-H` or
    /// `a=cliprect:top,left,bottom,right`, in that order of preference.
    pub fn dimensions(&self) -> Option<Dimensions> {
        let pair = |a: &str, b: &str| -> Option<Dimensions> {
            let width = a.trim().parse().ok()?;
            let height = b.trim().parse().ok()?;
            (width > 0 && height > 0).then_some(Dimensions { width, height })
        };
        let x_dimensions = || {
            let (w, h) = self.attribute("x-dimensions")?.split_once(',')?;
            pair(w, h)
        };
        let framesize = || {
            let pt = self.payload_type();
            self.attributes_named("framesize").find_map(|v| {
                let (fmt, size) = v.trim().split_once(' ')?;
                if fmt.trim().parse::<u8>().ok() != pt {
                    return None;
                }
                let (w, h) = size.split_once('-')?;
                pair(w, h)
            })
        };
        let cliprect = || {
            let parts: Vec<u32> = self
                .attribute("cliprect")?
                .split(',')
                .map(|p| p.trim().parse().ok())
                .collect::<Option<_>>()?;
            let [top, left, bottom, right] = parts.as_slice() else {
                return None;
            };
            let width = right.checked_sub(*left)?;
            let height = bottom.checked_sub(*top)?;
            (width > 0 && height > 0).then_some(Dimensions { width, height })
        };
        x_dimensions().or_else(framesize).or_else(cliprect)
    }

    /// Media-level `a=range`.
    pub fn range(&self) -> Option<NptRange> {
        NptRange::parse(self.attribute("range")?)
    }

    fn attributes_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.attributes
            .iter()
            .filter(move |a| a.name.eq_ignore_ascii_case(name))
            .filter_map(|a| a.value.as_deref())
    }
}

fn find_attribute<'a>(attributes: &'a [Attribute], name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
        .map(|a| a.value.as_deref().unwrap_or(""))
}

fn parse_rtpmap(value: &str) -> Option<RtpMap> {
    let (pt, rest) = value.trim().split_once(char::is_whitespace)?;
    let payload_type: u8 = pt.parse().ok()?;
    let mut parts = rest.trim().splitn(3, '/');
    let encoding = parts.next()?.trim().to_owned();
    let clock_rate = parts.next()?.trim().parse().ok()?;
    let params = parts.next().map(|p| p.trim().to_owned());
    if encoding.is_empty() || payload_type > 127 {
        return None;
    }
    Some(RtpMap {
        payload_type,
        encoding,
        clock_rate,
        params,
    })
}

/// A parsed session description.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sdp {
    origin: Option<Origin>,
    session_name: Option<String>,
    connection: Option<Connection>,
    bandwidths: Vec<Bandwidth>,
    attributes: Vec<Attribute>,
    media: Vec<MediaDescription>,
}

impl Sdp {
    /// Parses a session description.
    ///
    /// Tolerant of what real servers send: LF or CRLF line ends, blank lines, spaces around
    /// `=`, missing `v=`, unknown or malformed optional lines (ignored). Strict where a
    /// mistake would mislead: `v=` other than 0, a malformed `m=` line, size limits.
    pub fn parse(text: &str) -> Result<Self, SdpError> {
        if text.len() > MAX_SDP_LEN {
            return Err(SdpError::TooLarge {
                len: text.len(),
                limit: MAX_SDP_LEN,
            });
        }
        let mut sdp = Sdp::default();
        let mut seen_line = false;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            if line_no > MAX_SDP_LINES {
                return Err(SdpError::TooManyLines {
                    limit: MAX_SDP_LINES,
                });
            }
            let mut chars = raw.trim().chars();
            let Some(kind) = chars.next().filter(char::is_ascii_lowercase) else {
                continue;
            };
            let Some(value) = chars.as_str().trim_start().strip_prefix('=') else {
                continue;
            };
            let value = value.trim();
            seen_line = true;
            sdp.apply_line(kind, value, line_no)?;
        }
        if seen_line {
            Ok(sdp)
        } else {
            Err(SdpError::NotSdp)
        }
    }

    /// Parses a body received as bytes (it must be UTF-8).
    pub fn parse_bytes(body: &[u8]) -> Result<Self, SdpError> {
        if body.len() > MAX_SDP_LEN {
            return Err(SdpError::TooLarge {
                len: body.len(),
                limit: MAX_SDP_LEN,
            });
        }
        let text = std::str::from_utf8(body).map_err(|_| SdpError::NotUtf8)?;
        Self::parse(text)
    }

    fn apply_line(&mut self, kind: char, value: &str, line: usize) -> Result<(), SdpError> {
        match kind {
            'v' if value != "0" => return Err(SdpError::UnsupportedVersion { line }),
            'm' => self.media.push(parse_media_line(value, line)?),
            'o' if self.media.is_empty() => self.origin = parse_origin(value),
            's' if self.media.is_empty() => self.session_name = Some(value.to_owned()),
            'c' => {
                let connection = parse_connection(value);
                match self.media.last_mut() {
                    Some(media) => media.connection = connection,
                    None => self.connection = connection,
                }
            }
            'b' => {
                if let Some(bandwidth) = parse_bandwidth(value) {
                    match self.media.last_mut() {
                        Some(media) => media.bandwidths.push(bandwidth),
                        None => self.bandwidths.push(bandwidth),
                    }
                }
            }
            'a' => {
                let attribute = match value.split_once(':') {
                    Some((name, v)) => Attribute {
                        name: name.trim().to_owned(),
                        value: Some(v.trim().to_owned()),
                    },
                    None => Attribute {
                        name: value.to_owned(),
                        value: None,
                    },
                };
                match self.media.last_mut() {
                    Some(media) => media.attributes.push(attribute),
                    None => self.attributes.push(attribute),
                }
            }
            // i=, u=, e=, p=, t=, r=, z=, k= and unknown types carry nothing a player needs.
            _ => {}
        }
        Ok(())
    }

    /// The `o=` line, if well formed.
    pub fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }

    /// The `s=` line.
    pub fn session_name(&self) -> Option<&str> {
        self.session_name.as_deref()
    }

    /// Session-level `c=` line, if well formed.
    pub fn connection(&self) -> Option<&Connection> {
        self.connection.as_ref()
    }

    /// Session-level `b=` lines.
    pub fn bandwidths(&self) -> &[Bandwidth] {
        &self.bandwidths
    }

    /// Session-level `a=` lines in order.
    pub fn attributes(&self) -> &[Attribute] {
        &self.attributes
    }

    /// Value of the first session-level attribute named `name` (case-insensitive); `""` for
    /// a flag.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        find_attribute(&self.attributes, name)
    }

    /// All media sections in order.
    pub fn media(&self) -> &[MediaDescription] {
        &self.media
    }

    /// The first `m=video` section.
    pub fn video(&self) -> Option<&MediaDescription> {
        self.media
            .iter()
            .find(|m| m.kind.eq_ignore_ascii_case("video"))
    }

    /// Session-level `a=control`.
    pub fn control(&self) -> Option<&str> {
        self.attribute("control").map(str::trim)
    }

    /// The aggregate URL for PLAY, PAUSE and TEARDOWN: session-level `a=control` resolved
    /// against `base`, or `base` when it is absent or `*`.
    pub fn aggregate_url(&self, base: &str) -> String {
        resolve_control_url(base, self.control().unwrap_or("*"))
    }

    /// The stream's range: session-level `a=range`, else the first video section's.
    pub fn range(&self) -> Option<NptRange> {
        self.attribute("range")
            .and_then(NptRange::parse)
            .or_else(|| self.video()?.range())
    }

    /// The connection that applies to `media`: its own `c=`, else the session's.
    pub fn connection_for<'a>(&'a self, media: &'a MediaDescription) -> Option<&'a Connection> {
        media.connection().or(self.connection())
    }
}

fn parse_media_line(value: &str, line: usize) -> Result<MediaDescription, SdpError> {
    let bad = || SdpError::BadMediaLine { line };
    let mut fields = value.split_whitespace();
    let kind = fields.next().ok_or_else(bad)?.to_owned();
    let ports = fields.next().ok_or_else(bad)?;
    let protocol = fields.next().ok_or_else(bad)?.to_owned();
    let formats: Vec<String> = fields.map(str::to_owned).collect();
    if formats.is_empty() {
        return Err(bad());
    }
    let (port, port_count) = match ports.split_once('/') {
        Some((p, n)) => (p, Some(n.parse().map_err(|_| bad())?)),
        None => (ports, None),
    };
    Ok(MediaDescription {
        kind,
        port: port.parse().map_err(|_| bad())?,
        port_count,
        protocol,
        formats,
        connection: None,
        bandwidths: Vec::new(),
        attributes: Vec::new(),
    })
}

fn parse_origin(value: &str) -> Option<Origin> {
    let f: Vec<&str> = value.split_whitespace().collect();
    let [username, session_id, session_version, net_type, addr_type, address] = f.as_slice() else {
        return None;
    };
    Some(Origin {
        username: (*username).to_owned(),
        session_id: (*session_id).to_owned(),
        session_version: (*session_version).to_owned(),
        net_type: (*net_type).to_owned(),
        addr_type: (*addr_type).to_owned(),
        address: (*address).to_owned(),
    })
}

fn parse_connection(value: &str) -> Option<Connection> {
    let f: Vec<&str> = value.split_whitespace().collect();
    let [net_type, addr_type, address] = f.as_slice() else {
        return None;
    };
    Some(Connection {
        net_type: (*net_type).to_owned(),
        addr_type: (*addr_type).to_owned(),
        address: (*address).to_owned(),
    })
}

fn parse_bandwidth(value: &str) -> Option<Bandwidth> {
    let (kind, v) = value.split_once(':')?;
    Some(Bandwidth {
        kind: kind.trim().to_owned(),
        value: v.trim().parse().ok()?,
    })
}

// ---------------------------------------------------------------------------------------------
// Control URLs
// ---------------------------------------------------------------------------------------------

/// The base URL that relative `a=control` values are resolved against (RFC 2326 C.1.1): the
/// DESCRIBE reply's `Content-Base`, else its `Content-Location`, else the request URL.
pub fn session_base_url<'a>(
    content_base: Option<&'a str>,
    content_location: Option<&'a str>,
    request_url: &'a str,
) -> &'a str {
    [content_base, content_location]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or(request_url)
}

/// Resolves an `a=control` value against a base URL (see [`session_base_url`]).
///
/// - `*` or empty: the base itself (the aggregate URL).
/// - an absolute URL (`rtsp://...`, any `scheme://`): used as is.
/// - `/path`: replaces the path of the base.
/// - anything else is appended to the base with exactly one `/` in between.
///
/// The last rule is what FFmpeg and live555 do: against `rtsp://h/movie`, `track1` becomes
/// `rtsp://h/movie/track1`. GStreamer applies RFC 3986 instead and gets `rtsp://h/track1`,
/// which is why servers send a Content-Base ending in `/`, on which both rules agree.
pub fn resolve_control_url(base: &str, control: &str) -> String {
    let control = control.trim();
    let base = base.trim();
    if control.is_empty() || control == "*" {
        return base.to_owned();
    }
    if has_scheme(control) {
        return control.to_owned();
    }
    if control.starts_with('/') {
        if let Some(origin) = url_origin(base) {
            return format!("{origin}{control}");
        }
    }
    let control = control.trim_start_matches('/');
    if base.ends_with('/') {
        format!("{base}{control}")
    } else {
        format!("{base}/{control}")
    }
}

/// Whether `s` starts with `scheme://` (RFC 3986 3.1 scheme characters).
fn has_scheme(s: &str) -> bool {
    let Some((scheme, _)) = s.split_once("://") else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// `scheme://authority` of an absolute URL.
fn url_origin(url: &str) -> Option<&str> {
    if !has_scheme(url) {
        return None;
    }
    let after = url.find("://")? + 3;
    let end = url
        .get(after..)?
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after + i);
    url.get(..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_rate_formatting() {
        assert_eq!(FrameRate(20.0).to_string(), "20");
        assert_eq!(FrameRate(12.5).to_string(), "12.5");
        assert_eq!(FrameRate(30000.0 / 1001.0).to_string(), "29.97");
    }

    #[test]
    fn npt_forms() {
        let r = NptRange::parse("npt=0-25.000").unwrap();
        assert_eq!(r.start, Some(NptTime::Seconds(0.0)));
        assert_eq!(r.end, Some(NptTime::Seconds(25.0)));
        assert_eq!(r.duration(), Some(25.0));
        assert!(!r.is_live());
        let live = NptRange::parse("npt=now-").unwrap();
        assert_eq!(live.start, Some(NptTime::Now));
        assert!(live.is_live());
        assert_eq!(live.duration(), None);
        let hms = NptRange::parse("npt = 0:01:02.5-1:00:00").unwrap();
        assert_eq!(hms.start, Some(NptTime::Seconds(62.5)));
        assert_eq!(hms.duration(), Some(3600.0 - 62.5));
        let open_start = NptRange::parse("npt=-10").unwrap();
        assert_eq!(open_start.duration(), Some(10.0));
        for bad in [
            "npt=-",
            "npt=inf-",
            "npt=NaN-1",
            "npt=1e5-",
            "clock=19961108T142300Z-",
            "npt=0:61:00-",
            "npt=.5-",
            "npt=1.2.3-",
        ] {
            assert_eq!(NptRange::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn url_helpers() {
        assert_eq!(url_origin("rtsp://h:554/a/b?x"), Some("rtsp://h:554"));
        assert_eq!(url_origin("rtsp://h"), Some("rtsp://h"));
        assert_eq!(url_origin("track1"), None);
        assert!(has_scheme("RTSP://x"));
        assert!(!has_scheme("1tsp://x"));
        assert!(!has_scheme("track=1"));
    }

    #[test]
    fn writer_rejects_injection() {
        let mut d = SessionDescription::new(1, "a\r\nm=audio 0 RTP/AVP 0");
        assert!(matches!(
            d.to_sdp(),
            Err(SdpError::InvalidField {
                field: "session_name",
                ..
            })
        ));
        d.session_name = "ok".into();
        d.media_control = "track 1".into();
        assert!(matches!(
            d.to_sdp(),
            Err(SdpError::InvalidField {
                field: "media_control",
                ..
            })
        ));
        d.media_control = "track1".into();
        d.frame_rate = Some(f64::NAN);
        assert!(d.to_sdp().is_err());
        d.frame_rate = None;
        d.payload_type = 128;
        assert!(d.to_sdp().is_err());
    }
}
