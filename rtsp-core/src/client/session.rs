//! The sans-I/O client session: method calls become request bytes, replies become
//! [`Outcome`]s. No sockets, no clocks: the runtime (or a test) moves the bytes.
//!
//! The standard dialect follows what VLC and FFmpeg send (OPTIONS, DESCRIBE with
//! `Accept: application/sdp`, SETUP on the track URL resolved against Content-Base, PLAY/PAUSE/
//! TEARDOWN on the aggregate URL, `User-Agent` and `Session` headers). The lab dialect writes
//! exactly what the lab's `Client.py` writes: the bare file name, `CSeq` on line 2,
//! `Transport: RTP/UDP; client_port= N` on line 3, `\n` separators and no trailing newline.

use std::time::Duration;

use super::error::ClientError;
use super::event::{Description, State};
use crate::rtsp::headers::{
    ChannelRange, ContentBase, ContentType, NptTime, PortRange, Public, Range, RtpInfo,
    Session as SessionHeader, Transport, TransportProtocol, TransportSpec,
};
use crate::rtsp::url::{self, AbsoluteUrl};
use crate::rtsp::{Dialect, Message, MessageParser, Method, Response, Version};
use crate::sdp::{resolve_control_url, session_base_url, Dimensions, Sdp};

/// The lab extension's FORWARD/BACKWARD step, in frames: the server's, by definition.
pub use crate::server::seek::LAB_SKIP_FRAMES;

/// The lab server reads each request with `recv(256)`: a longer one would be cut.
pub const LAB_MAX_REQUEST: usize = 256;

/// Longest position the client works with (about 31 years): keeps peer-supplied or caller-supplied
/// seconds from overflowing a `Duration`.
const MAX_SECONDS: f64 = 1e9;

/// Seconds as a `Duration`, with NaN, negative and absurdly large values clamped instead of
/// panicking (they can come from a server's Range or SDP, or from the embedder).
pub(crate) fn seconds(s: f64) -> Duration {
    if s.is_nan() {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(s.clamp(0.0, MAX_SECONDS)).unwrap_or(Duration::ZERO)
}

/// Default session timeout when the server announces none (RFC 2326 12.37).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Largest reply body accepted (an SDP is a few hundred bytes).
const MAX_BODY: usize = 64 * 1024;

/// A request the session can build.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Request {
    /// OPTIONS (standard dialect).
    Options,
    /// DESCRIBE.
    Describe,
    /// SETUP with the given transport.
    Setup(SetupTransport),
    /// PLAY, from a position in seconds or from where the stream is.
    Play(Option<f64>),
    /// PAUSE.
    Pause,
    /// TEARDOWN.
    Teardown,
    /// GET_PARAMETER with an empty body (keepalive).
    GetParameter,
    /// OPTIONS with the session, as a keepalive.
    KeepaliveOptions,
    /// The lab extension's FORWARD (20 frames).
    LabForward,
    /// The lab extension's BACKWARD (20 frames).
    LabBackward,
    /// The lab extension's RESTART.
    LabRestart,
    /// ANNOUNCE of the stream a publishing session sends (its SDP is the body).
    Announce,
    /// RECORD: the publishing session starts sending.
    Record,
}

impl Request {
    /// The method this request sends.
    pub fn method(&self) -> Method {
        match self {
            Request::Options | Request::KeepaliveOptions => Method::Options,
            Request::Describe => Method::Describe,
            Request::Setup(_) => Method::Setup,
            Request::Play(_) => Method::Play,
            Request::Pause => Method::Pause,
            Request::Teardown => Method::Teardown,
            Request::GetParameter => Method::GetParameter,
            Request::LabForward => Method::Forward,
            Request::LabBackward => Method::Backward,
            Request::LabRestart => Method::Restart,
            Request::Announce => Method::Announce,
            Request::Record => Method::Record,
        }
    }

    /// The method name, for messages.
    pub fn method_name(&self) -> &'static str {
        match self {
            Request::Options | Request::KeepaliveOptions => "OPTIONS",
            Request::Describe => "DESCRIBE",
            Request::Setup(_) => "SETUP",
            Request::Play(_) => "PLAY",
            Request::Pause => "PAUSE",
            Request::Teardown => "TEARDOWN",
            Request::GetParameter => "GET_PARAMETER",
            Request::LabForward => "FORWARD",
            Request::LabBackward => "BACKWARD",
            Request::LabRestart => "RESTART",
            Request::Announce => "ANNOUNCE",
            Request::Record => "RECORD",
        }
    }
}

/// The transport the client asks for in SETUP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupTransport {
    /// `RTP/AVP;unicast;client_port=rtp-rtcp`.
    Udp {
        /// Local RTP port (even).
        rtp_port: u16,
        /// Local RTCP port (RTP + 1).
        rtcp_port: u16,
    },
    /// `RTP/AVP/TCP;unicast;interleaved=rtp-rtcp`.
    Interleaved {
        /// RTP channel.
        rtp: u8,
        /// RTCP channel.
        rtcp: u8,
    },
    /// The lab's `RTP/UDP; client_port= N`.
    Lab {
        /// Local RTP port.
        rtp_port: u16,
    },
}

/// The transport the server accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerTransport {
    /// RTP over UDP; RTCP receiver reports go to `server_rtcp_port` when the server named one.
    Udp {
        /// The server's RTP port, if announced (`server_port=a-b`): where a publisher sends.
        server_rtp_port: Option<u16>,
        /// The server's RTCP port, if announced (`server_port=a-b`).
        server_rtcp_port: Option<u16>,
    },
    /// Interleaved channels on the RTSP connection.
    Interleaved {
        /// RTP channel.
        rtp: u8,
        /// RTCP channel.
        rtcp: u8,
    },
}

/// What the session description says about the video stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaInfo {
    /// `a=framerate`, if announced.
    pub frame_rate: Option<f64>,
    /// Duration from `a=range:npt=0-D`, if announced.
    pub duration: Option<Duration>,
    /// RTP clock rate (90 kHz for JPEG).
    pub clock_rate: u32,
    /// Total frames (the lab extension's `Frames:` line).
    pub frames: Option<u64>,
    /// Frame size from `a=x-dimensions` (or `a=framesize`, `a=cliprect`), if announced.
    pub dimensions: Option<Dimensions>,
}

impl MediaInfo {
    /// Frames per second (the lab's 20 when not announced).
    pub fn frame_rate(&self) -> f64 {
        match self.frame_rate {
            Some(r) if r.is_finite() && r > 0.0 => r,
            _ => 20.0,
        }
    }
}

/// What the PLAY reply said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlayInfo {
    /// Where playback starts, in seconds (the reply's Range, else what was asked, else 0).
    pub start: f64,
    /// `RTP-Info` sequence number of the first packet, if given.
    pub seq: Option<u16>,
    /// `RTP-Info` timestamp that corresponds to `start`, if given.
    pub rtptime: Option<u32>,
}

/// The meaning of a successful reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// OPTIONS answered (the `Public` methods were recorded).
    Options,
    /// DESCRIBE answered.
    Described(Description, MediaInfo),
    /// SETUP accepted: the session exists, state READY.
    SetUp(ServerTransport),
    /// PLAY accepted: state PLAYING.
    Playing(PlayInfo),
    /// PAUSE accepted: state READY.
    Paused,
    /// TEARDOWN accepted: state INIT.
    TornDown,
    /// A keepalive was answered.
    Keepalive,
    /// A lab FORWARD/BACKWARD/RESTART was accepted.
    LabMoved,
    /// The server asked for credentials (401) and the session can now answer: encode and send
    /// the same request again.
    RetryWithAuth,
    /// ANNOUNCE accepted: the server knows the stream; SETUP comes next.
    Announced,
    /// RECORD accepted: state PLAYING, the publisher sends.
    Recording,
    /// The server sent the client elsewhere (301, 302, 303 or 307 with `Location`, to
    /// OPTIONS, DESCRIBE or SETUP): the session now targets `location` (a new host and port
    /// maybe) in state INIT with nothing described; connect there and start over with the
    /// same request (after SETUP: DESCRIBE first).
    Redirected {
        /// The absolute URL the session now targets (without userinfo).
        location: String,
    },
}

/// What the receive thread hands the control thread.
#[derive(Debug)]
pub(crate) enum Incoming {
    Reply(Response),
    Closed(ClientError),
    Failed(ClientError),
}

/// Splits the bytes of the RTSP connection into replies and interleaved packets, and with a
/// protocol log keeps the exact bytes of every message.
#[derive(Debug)]
pub(crate) struct ReplyReader {
    parser: MessageParser,
    lab: bool,
    interleaved: Vec<(u8, Vec<u8>)>,
    /// With a protocol log: the bytes pushed and not yet accounted to an item. Each item the
    /// parser emits is exactly the bytes it consumed since the previous one.
    raw: Option<Vec<u8>>,
    logged: Vec<Vec<u8>>,
}

impl ReplyReader {
    /// `keep_messages`: collect every message's bytes for [`ReplyReader::take_messages`].
    pub(crate) fn new(lab: bool, keep_messages: bool) -> Self {
        Self {
            parser: MessageParser::new(),
            lab,
            interleaved: Vec::new(),
            raw: keep_messages.then(Vec::new),
            logged: Vec::new(),
        }
    }

    /// Feeds one read's worth of bytes; complete replies go to `out`, interleaved packets wait
    /// in [`ReplyReader::take_interleaved`].
    pub(crate) fn push(
        &mut self,
        bytes: &[u8],
        out: &mut Vec<Incoming>,
    ) -> Result<(), ClientError> {
        if let Some(raw) = &mut self.raw {
            raw.extend_from_slice(bytes);
        }
        if let Err(e) = self.parser.push(bytes) {
            self.account_rest();
            return Err(ClientError::MalformedReply(e.to_string()));
        }
        if self.lab {
            // The lab server's replies end where its write ends (no blank line).
            self.parser.end_of_read();
        }
        loop {
            match self.parser.next() {
                Ok(Some(Message::Response(r))) => {
                    self.account_item(true);
                    out.push(Incoming::Reply(r));
                }
                Ok(Some(Message::Interleaved(frame))) => {
                    self.account_item(false);
                    let channel = frame.channel();
                    self.interleaved.push((channel, frame.into_payload()));
                }
                // Server-to-client requests (ANNOUNCE, GET_PARAMETER) are only logged.
                Ok(Some(Message::Request(_))) => self.account_item(true),
                Ok(None) => return Ok(()),
                Err(e) => {
                    self.account_rest();
                    return Err(ClientError::MalformedReply(e.to_string()));
                }
            }
        }
    }

    /// The bytes of the item the parser just emitted, kept if it is a message.
    fn account_item(&mut self, message: bool) {
        let Some(raw) = &mut self.raw else { return };
        let len = raw.len().saturating_sub(self.parser.buffered_len());
        let item = raw.drain(..len);
        if message {
            self.logged.push(item.collect());
        }
    }

    /// After a parse error: what could not be parsed, kept as it is (it is what broke the
    /// connection).
    fn account_rest(&mut self) {
        if let Some(raw) = self.raw.as_mut().filter(|r| !r.is_empty()) {
            self.logged.push(std::mem::take(raw));
        }
    }

    /// The interleaved packets read so far, as (channel, packet).
    pub(crate) fn take_interleaved(&mut self) -> Vec<(u8, Vec<u8>)> {
        std::mem::take(&mut self.interleaved)
    }

    /// The bytes of the messages read so far (with `keep_messages` only).
    pub(crate) fn take_messages(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.logged)
    }
}

/// A request sent and not answered yet.
#[derive(Debug, Clone, Copy)]
struct Pending {
    cseq: u32,
    request: Request,
    /// Whether it carried an Authorization header.
    authorized: bool,
}

/// Most 401 retries in a row (stale nonces included) before giving up.
const MAX_AUTH_RETRIES: u32 = 3;

/// Most redirects followed before a session is set up (a SETUP succeeds): HTTP clients use 5
/// to 20; an RTSP presentation that moved more than five times on the way is a loop. Only a
/// set-up session resets the count, so a loop of servers that describe but redirect SETUP ends
/// too.
pub const MAX_REDIRECTS: u32 = 5;

/// The client side of one RTSP session (see the module documentation).
#[derive(Debug)]
pub struct Session {
    dialect: Dialect,
    /// Standard: the presentation URL; lab: the file name.
    target: String,
    host: String,
    port: u16,
    user_agent: String,
    next_cseq: u32,
    state: State,
    session: Option<SessionHeader>,
    public: Option<Public>,
    /// Where SETUP goes (the video track's control URL).
    setup_url: Option<String>,
    /// Where PLAY, PAUSE, TEARDOWN and keepalives go.
    aggregate_url: Option<String>,
    media: Option<MediaInfo>,
    pending: Option<Pending>,
    resume_at: Option<f64>,
    played_once: bool,
    auth: Option<crate::auth::ClientAuth>,
    auth_retries: u32,
    /// A publishing session: what ANNOUNCE sends.
    publish: Option<Announcement>,
    /// The host and port of the URL the session was made for: credentials are offered there
    /// only, never to a host a redirect leads to.
    origin: (String, u16),
    /// Redirects followed since the last SETUP that succeeded.
    redirects: u32,
}

/// The stream a publishing session announces.
#[derive(Debug, Clone)]
struct Announcement {
    sdp: String,
    /// The stream's `a=control`, which the SETUP URL is resolved from.
    control: String,
}

/// The 3xx codes whose `Location` is followed: 301 Moved Permanently, 302 Moved Temporarily,
/// 303 See Other and 307 Temporary Redirect. Not 300 Multiple Choices (nothing to choose
/// with), 304 (no conditional requests here) nor 305 Use Proxy (its Location is a proxy to
/// go through, not the resource, and following it blindly hands the stream to whoever sent
/// it; HTTP deprecated it for that).
fn is_followed_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307)
}

/// Most characters of a server's refusal text kept in [`ClientError::Forbidden`]: enough for a
/// sentence, not enough for a peer to fill logs and dialogs.
const MAX_REFUSAL_TEXT: usize = 200;

/// Why the server refused: its `text/plain` body (the explanation servers such as rtsp-server
/// give), control characters dropped and cut to [`MAX_REFUSAL_TEXT`], or the reason phrase
/// when there is no such body. The text is the peer's, shown to people: nothing in it may
/// move a cursor or forge a log line.
fn refusal_text(reply: &Response) -> String {
    let plain = reply
        .headers()
        .get("Content-Type")
        .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("text/plain"));
    let body = if plain {
        String::from_utf8_lossy(reply.body())
    } else {
        std::borrow::Cow::Borrowed("")
    };
    let text = if body.trim().is_empty() {
        reply.reason()
    } else {
        body.trim()
    };
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_REFUSAL_TEXT)
        .collect()
}

/// A `Location` resolved against the URL it answers (RFC 3986 section 5: absolute, or a
/// relative reference such as `/other` or `../b`), without userinfo (a server may not hand
/// the client credentials to present elsewhere), and only `rtsp://`.
fn resolve_location(base: &str, location: &str) -> Result<String, ClientError> {
    let bad = |why: String| ClientError::BadUrl(format!("redirect to {location:?}: {why}"));
    let base = ::url::Url::parse(base).map_err(|e| bad(e.to_string()))?;
    let mut resolved = base.join(location).map_err(|e| bad(e.to_string()))?;
    if resolved.scheme() != "rtsp" {
        return Err(bad("only rtsp:// is supported".into()));
    }
    resolved
        .set_username("")
        .and_then(|()| resolved.set_password(None))
        .map_err(|()| bad("no host".into()))?;
    if resolved.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".into()));
    }
    Ok(resolved.to_string())
}

/// `url` without its userinfo, and the userinfo's percent-decoded user and password.
fn split_userinfo(url: &str) -> Result<(String, Option<(String, String)>), ClientError> {
    let Some(userinfo) = url::userinfo(url) else {
        return Ok((url.to_owned(), None));
    };
    let decode = |s: &str| {
        url::percent_decode(s)
            .map_err(|e| ClientError::BadUrl(format!("user information in the URL: {e}")))
    };
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    Ok((
        url::without_userinfo(url).into_owned(),
        Some((decode(user)?, decode(password)?)),
    ))
}

impl Session {
    /// A standard-dialect session for `rtsp://host[:port]/path`.
    ///
    /// `rtsp://user:password@host/...` userinfo is taken out of the URL (it is never sent) and
    /// used as credentials (percent-decoded).
    pub fn standard(url: &str, user_agent: &str) -> Result<Self, ClientError> {
        let (url, userinfo) = split_userinfo(url)?;
        let url = url.as_str();
        let parsed =
            AbsoluteUrl::parse(url).map_err(|e| ClientError::BadUrl(format!("{url:?}: {e}")))?;
        if !matches!(
            parsed.scheme,
            crate::rtsp::url::Scheme::Rtsp | crate::rtsp::url::Scheme::Rtsps
        ) {
            return Err(ClientError::BadUrl(format!(
                "{url:?}: only rtsp:// and rtsps:// URLs are supported"
            )));
        }
        if parsed.host.is_empty() {
            return Err(ClientError::BadUrl(format!("{url:?}: no host")));
        }
        let mut session = Self::new(
            Dialect::Standard,
            url.to_owned(),
            parsed.host,
            parsed.port,
            user_agent,
        );
        if let Some((user, password)) = userinfo {
            session.set_credentials(&user, &password);
        }
        Ok(session)
    }

    /// A standard-dialect session that publishes one RTP/JPEG video stream to `url`
    /// (ANNOUNCE, SETUP with `mode=record`, RECORD) instead of playing one. Userinfo as in
    /// [`Session::standard`].
    pub fn publisher(url: &str, user_agent: &str) -> Result<Self, ClientError> {
        let mut session = Self::standard(url, user_agent)?;
        let mut description =
            crate::sdp::SessionDescription::new(rand::random::<u32>().into(), "rtsp-core");
        // ffmpeg's name for a published stream; servers resolve SETUP against it.
        description.media_control = "streamid=0".to_owned();
        let sdp = description
            .to_sdp()
            .map_err(|e| ClientError::BadUrl(format!("session description: {e}")))?;
        session.publish = Some(Announcement {
            sdp,
            control: description.media_control,
        });
        Ok(session)
    }

    /// Whether this session publishes (see [`Session::publisher`]).
    pub fn is_publisher(&self) -> bool {
        self.publish.is_some()
    }

    /// Credentials for servers that answer 401 (standard dialect); replaces any from the URL.
    pub fn set_credentials(&mut self, user: &str, password: &str) {
        self.auth = Some(crate::auth::ClientAuth::new(user, password));
    }

    /// A lab-dialect session for `file` (the host and port are the runtime's business).
    pub fn lab(file: &str) -> Self {
        Self::new(Dialect::Lab, file.to_owned(), String::new(), 0, "")
    }

    fn new(dialect: Dialect, target: String, host: String, port: u16, user_agent: &str) -> Self {
        Self {
            dialect,
            target,
            port,
            user_agent: user_agent.to_owned(),
            // The lab client's first request (SETUP) carries CSeq 1.
            next_cseq: 1,
            state: State::Init,
            session: None,
            public: None,
            setup_url: None,
            aggregate_url: None,
            media: None,
            pending: None,
            resume_at: None,
            played_once: false,
            auth: None,
            auth_retries: 0,
            publish: None,
            origin: (host.clone(), port),
            redirects: 0,
            host,
        }
    }

    /// The server host and port from the URL (standard dialect), or from where a redirect
    /// led.
    pub fn host_port(&self) -> (String, u16) {
        (self.host.clone(), self.port)
    }

    /// Whether the URL is `rtsps://`: the RTSP connection is TLS.
    pub fn is_tls(&self) -> bool {
        self.dialect == Dialect::Standard
            && self
                .target
                .get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case("rtsps://"))
    }

    /// The presentation URL requests go to now (standard dialect; without userinfo).
    pub fn url(&self) -> &str {
        &self.target
    }

    /// Whether the session still talks to the host and port of the URL it was made for, the
    /// only place its credentials may go.
    fn at_origin(&self) -> bool {
        self.host.eq_ignore_ascii_case(&self.origin.0) && self.port == self.origin.1
    }

    /// Whether this session speaks the lab dialect.
    pub fn is_lab(&self) -> bool {
        self.dialect == Dialect::Lab
    }

    /// The session state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The session identifier, once SETUP succeeded.
    pub fn session_id(&self) -> Option<&str> {
        self.session.as_ref().map(SessionHeader::id)
    }

    /// The total frame count, if the lab extension's `Frames:` line announced it.
    pub fn total_frames(&self) -> Option<u64> {
        self.media.as_ref().and_then(|m| m.frames)
    }

    /// Whether DESCRIBE has been answered.
    pub fn has_description(&self) -> bool {
        self.media.is_some()
    }

    /// Forgets the session (connection lost, or starting over on a new connection). What
    /// DESCRIBE taught (URLs, media) is kept.
    pub fn reset(&mut self) {
        self.state = State::Init;
        self.session = None;
        self.pending = None;
        self.played_once = false;
    }

    /// Forgets a request that will never be answered (timed out).
    pub fn abandon_pending(&mut self) {
        self.pending = None;
    }

    /// Where the next PLAY without a position starts (a seek while paused).
    pub fn set_resume_position(&mut self, seconds: f64) {
        self.resume_at = Some(seconds);
    }

    /// The keepalive period: half the session timeout (standard dialect, session open).
    pub fn keepalive_interval(&self) -> Option<Duration> {
        if self.is_lab() || self.state == State::Init {
            return None;
        }
        let timeout = self
            .session
            .as_ref()
            .and_then(SessionHeader::timeout)
            .map_or(DEFAULT_TIMEOUT, |s| {
                Duration::from_secs(u64::from(s.max(2)))
            });
        Some(timeout / 2)
    }

    /// The keepalive request: GET_PARAMETER if the server lists it in `Public`, else OPTIONS;
    /// `other` gives the alternative (used when the first one failed).
    pub fn keepalive_request(&self, other: bool) -> Request {
        let get_parameter = self
            .public
            .as_ref()
            .is_some_and(|p| p.contains(&Method::GetParameter));
        if get_parameter != other {
            Request::GetParameter
        } else {
            Request::KeepaliveOptions
        }
    }

    fn bad_state(&self, request: &Request) -> ClientError {
        ClientError::BadState {
            method: request.method_name().to_owned(),
            state: self.state,
        }
    }

    fn check_state(&self, request: &Request) -> Result<(), ClientError> {
        let lab = self.is_lab();
        let publishing = self.is_publisher();
        let ok = match request {
            Request::Options => !lab,
            Request::Describe => !publishing,
            Request::Setup(SetupTransport::Lab { .. }) => lab && self.state == State::Init,
            // A publisher sets up the stream its ANNOUNCE described.
            Request::Setup(_) => {
                !lab && self.state == State::Init && (!publishing || self.setup_url.is_some())
            }
            Request::Announce => publishing && self.state == State::Init,
            Request::Record => publishing && self.state == State::Ready,
            Request::Play(_) => {
                !publishing
                    && (self.state == State::Ready || (!lab && self.state == State::Playing))
            }
            // The lab server only pauses while playing.
            Request::Pause => self.state == State::Playing || (!lab && self.state == State::Ready),
            Request::Teardown => self.state != State::Init,
            Request::GetParameter | Request::KeepaliveOptions => !lab && self.state != State::Init,
            Request::LabForward | Request::LabBackward | Request::LabRestart => {
                lab && self.state != State::Init
            }
        };
        if ok {
            Ok(())
        } else {
            Err(self.bad_state(request))
        }
    }

    /// Builds the bytes of `request`, to be written in one write; the reply must then go to
    /// [`Session::handle_reply`]. Fails without side effects if the state does not allow it.
    pub fn encode(&mut self, request: &Request) -> Result<Vec<u8>, ClientError> {
        self.check_state(request)?;
        let cseq = self.next_cseq;
        let mut msg = if self.is_lab() {
            self.lab_request(request, cseq)?
        } else {
            self.standard_request(request, cseq)?
        };
        let mut authorized = false;
        let may_authorize = self.dialect == Dialect::Standard && self.at_origin();
        if let Some(auth) = self.auth.as_mut().filter(|_| may_authorize) {
            // Once challenged, every request carries credentials (Digest with the next nc),
            // which saves a 401 round trip per request.
            if let Some(value) = auth.authorization(msg.method().as_str(), msg.uri()) {
                msg = msg
                    .with_header("Authorization", value)
                    .map_err(|e| ClientError::BadUrl(e.to_string()))?;
                authorized = true;
            }
        }
        let bytes = msg.to_bytes(self.dialect);
        if self.is_lab() && bytes.len() > LAB_MAX_REQUEST {
            return Err(ClientError::BadUrl(format!(
                "the lab request would be {} bytes; the lab server reads at most {LAB_MAX_REQUEST}",
                bytes.len()
            )));
        }
        self.next_cseq = self.next_cseq.wrapping_add(1);
        self.pending = Some(Pending {
            cseq,
            request: *request,
            authorized,
        });
        Ok(bytes)
    }

    fn lab_request(
        &self,
        request: &Request,
        cseq: u32,
    ) -> Result<crate::rtsp::Request, ClientError> {
        let build = |e: crate::rtsp::BuildError| ClientError::BadUrl(e.to_string());
        let mut msg = crate::rtsp::Request::new(request.method(), &self.target)
            .map_err(build)?
            .with_header("CSeq", cseq)
            .map_err(build)?;
        if request.method().is_lab_extension() {
            // The report's extension announces itself as RTSP/1.4.
            msg = msg.with_version(Version::LAB_1_4);
        }
        match request {
            Request::Setup(SetupTransport::Lab { rtp_port }) => {
                msg = msg
                    .with_header(
                        "Transport",
                        format_args!("RTP/UDP; client_port= {rtp_port}"),
                    )
                    .map_err(build)?;
            }
            _ => {
                if let Some(s) = &self.session {
                    msg = msg.with_header("Session", s.id()).map_err(build)?;
                }
            }
        }
        Ok(msg)
    }

    fn standard_request(
        &self,
        request: &Request,
        cseq: u32,
    ) -> Result<crate::rtsp::Request, ClientError> {
        let build = |e: crate::rtsp::BuildError| ClientError::BadUrl(e.to_string());
        let aggregate = self.aggregate_url.as_deref().unwrap_or(&self.target);
        let uri = match request {
            Request::Options | Request::Describe | Request::Announce => self.target.as_str(),
            Request::Setup(_) => self.setup_url.as_deref().unwrap_or(&self.target),
            // ffmpeg's keepalive without GET_PARAMETER: `OPTIONS *` with the session.
            Request::KeepaliveOptions => "*",
            _ => aggregate,
        };
        // The server's Content-Base or control URLs may carry userinfo (some echo the URL
        // they were asked for); it never goes back on the wire.
        let uri = url::without_userinfo(uri);
        let mut msg = crate::rtsp::Request::new(request.method(), &uri)
            .map_err(build)?
            .with_header("CSeq", cseq)
            .map_err(build)?
            .with_header("User-Agent", &self.user_agent)
            .map_err(build)?;
        match request {
            Request::Describe => {
                msg = msg
                    .with_header("Accept", "application/sdp")
                    .map_err(build)?
                    // The depacketizer rebuilds 4:4:4 and grayscale frames from the JPEG
                    // header extension, so servers knowing this may send them unchanged.
                    .with_header("Supported", crate::jpeg::FRAME_HEADER_OPTION)
                    .map_err(build)?;
            }
            Request::Setup(t) => {
                let spec = match *t {
                    SetupTransport::Udp {
                        rtp_port,
                        rtcp_port,
                    } => {
                        let mut s = TransportSpec::new(TransportProtocol::RtpAvp);
                        s.cast = Some(crate::rtsp::headers::Cast::Unicast);
                        s.client_port = Some(
                            PortRange::pair(rtp_port, rtcp_port)
                                .map_err(|e| ClientError::Io(e.to_string()))?,
                        );
                        s
                    }
                    SetupTransport::Interleaved { rtp, rtcp } => {
                        let mut s = TransportSpec::new(TransportProtocol::RtpAvpTcp);
                        s.cast = Some(crate::rtsp::headers::Cast::Unicast);
                        s.interleaved = Some(
                            ChannelRange::pair(rtp, rtcp)
                                .map_err(|e| ClientError::Io(e.to_string()))?,
                        );
                        s
                    }
                    SetupTransport::Lab { .. } => return Err(self.bad_state(request)),
                };
                let mut spec = spec;
                if self.is_publisher() {
                    spec.mode = Some("record".to_owned());
                }
                msg = msg.with_typed(&Transport::single(spec)).map_err(build)?;
                if !self.is_publisher() {
                    msg = msg
                        .with_header("Supported", crate::jpeg::FRAME_HEADER_OPTION)
                        .map_err(build)?;
                }
            }
            Request::Announce => {
                if let Some(a) = &self.publish {
                    msg = msg
                        .with_header("Content-Type", "application/sdp")
                        .map_err(build)?
                        .with_body(a.sdp.as_bytes());
                }
            }
            Request::Record => {
                let range = Range::starting_at(NptTime::At(Duration::ZERO));
                msg = msg.with_typed(&range).map_err(build)?;
            }
            Request::Play(from) => {
                let start = from
                    .or(self.resume_at)
                    .or((!self.played_once).then_some(0.0));
                if let Some(s) = start {
                    let range = Range::starting_at(NptTime::At(seconds(s)));
                    msg = msg.with_typed(&range).map_err(build)?;
                }
            }
            _ => {}
        }
        if !matches!(
            request,
            Request::Options | Request::Describe | Request::Announce | Request::Setup(_)
        ) {
            if let Some(s) = &self.session {
                msg = msg.with_header("Session", s.id()).map_err(build)?;
            }
        }
        Ok(msg)
    }

    /// Whether `reply` answers the pending request (a reply to an abandoned request does not).
    pub fn is_reply_to_pending(&self, reply: &Response) -> bool {
        match (&self.pending, reply.cseq()) {
            (Some(p), Some(cseq)) => p.cseq == cseq,
            // A reply without CSeq can only be for what is outstanding.
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// Applies the reply to the pending request.
    pub fn handle_reply(&mut self, reply: &Response) -> Result<Outcome, ClientError> {
        let pending = self
            .pending
            .take()
            .ok_or_else(|| ClientError::MalformedReply("a reply with no request pending".into()))?;
        let request = pending.request;
        let status = u16::from(reply.status());
        if status == 401 && !self.is_lab() {
            return self.on_unauthorized(reply, &pending);
        }
        self.auth_retries = 0;
        if is_followed_redirect(status) && self.may_follow(&request) {
            return self.on_redirect(reply, &request, status);
        }
        if !(200..300).contains(&status) {
            if status == 454 {
                // Session Not Found: the server forgot us; start over.
                self.reset();
            }
            if status == 403 {
                return Err(ClientError::Forbidden {
                    method: request.method_name().to_owned(),
                    reason: refusal_text(reply),
                });
            }
            return Err(ClientError::Status {
                method: request.method_name().to_owned(),
                code: status,
                reason: reply.reason().to_owned(),
            });
        }
        match request {
            Request::Options => {
                self.public = reply.headers().typed::<Public>().and_then(Result::ok);
                Ok(Outcome::Options)
            }
            Request::Describe => self.on_described(reply),
            Request::Setup(asked) => {
                self.redirects = 0;
                self.on_setup(reply, asked)
            }
            Request::Play(from) => {
                self.state = State::Playing;
                self.played_once = true;
                let asked = from.or(self.resume_at.take());
                let range_start = reply
                    .headers()
                    .typed::<Range>()
                    .and_then(Result::ok)
                    .and_then(|r| match r.start {
                        Some(NptTime::At(d)) => Some(d.as_secs_f64().min(MAX_SECONDS)),
                        _ => None,
                    });
                let rtp_info = reply
                    .headers()
                    .typed::<RtpInfo>()
                    .and_then(Result::ok)
                    .and_then(|i| i.0.into_iter().next());
                Ok(Outcome::Playing(PlayInfo {
                    start: range_start.or(asked).unwrap_or(0.0),
                    seq: rtp_info.as_ref().and_then(|e| e.seq),
                    rtptime: rtp_info.as_ref().and_then(|e| e.rtptime),
                }))
            }
            Request::Pause => {
                self.state = State::Ready;
                Ok(Outcome::Paused)
            }
            Request::Teardown => {
                self.state = State::Init;
                self.session = None;
                self.played_once = false;
                self.resume_at = None;
                Ok(Outcome::TornDown)
            }
            Request::GetParameter | Request::KeepaliveOptions => Ok(Outcome::Keepalive),
            Request::Announce => {
                let control = self.publish.as_ref().map_or("*", |a| a.control.as_str());
                self.setup_url = Some(resolve_control_url(&self.target, control));
                self.aggregate_url = Some(self.target.clone());
                Ok(Outcome::Announced)
            }
            Request::Record => {
                self.state = State::Playing;
                Ok(Outcome::Recording)
            }
            Request::LabForward | Request::LabBackward | Request::LabRestart => {
                if let Some(total) = reply
                    .headers()
                    .get("Frames")
                    .and_then(|v| v.trim().parse().ok())
                {
                    self.media.get_or_insert_with(MediaInfo::default).frames = Some(total);
                }
                Ok(Outcome::LabMoved)
            }
        }
    }

    /// A 401: answer the challenge once (or again after `stale=true`), else give up with
    /// [`ClientError::Unauthorized`] rather than loop.
    fn on_unauthorized(
        &mut self,
        reply: &Response,
        pending: &Pending,
    ) -> Result<Outcome, ClientError> {
        let challenges: Vec<&str> = reply.headers().get_all("WWW-Authenticate").collect();
        let realm_of = |c: &[&str]| {
            c.iter()
                .filter_map(|v| crate::auth::params::parse_challenges(v).ok())
                .flatten()
                .find_map(|i| i.param("realm").map(str::to_owned))
                .unwrap_or_default()
        };
        let method = pending.request.method_name().to_owned();
        // Away from the original host (after a redirect), the credentials stay unused.
        let at_origin = self.at_origin();
        let Some(auth) = self.auth.as_mut().filter(|_| at_origin) else {
            return Err(ClientError::Unauthorized {
                method,
                realm: realm_of(&challenges),
                had_credentials: false,
            });
        };
        let accepted = auth.on_challenge(&challenges);
        let retry = match &accepted {
            Ok(a) => (!pending.authorized || a.stale) && self.auth_retries < MAX_AUTH_RETRIES,
            Err(_) => false,
        };
        if retry {
            self.auth_retries += 1;
            return Ok(Outcome::RetryWithAuth);
        }
        self.auth_retries = 0;
        Err(ClientError::Unauthorized {
            method,
            realm: accepted
                .map(|a| a.realm)
                .unwrap_or_else(|_| realm_of(&challenges)),
            had_credentials: true,
        })
    }

    /// Whether a 3xx to `request` is followed: OPTIONS, DESCRIBE and SETUP of a playing
    /// session (a publisher's ANNOUNCE is not: its stream would land somewhere unasked).
    fn may_follow(&self, request: &Request) -> bool {
        !self.is_lab()
            && !self.is_publisher()
            && matches!(
                request,
                Request::Options | Request::Describe | Request::Setup(_)
            )
    }

    /// A 3xx with `Location`: retarget the session there, or give up after
    /// [`MAX_REDIRECTS`] before a session is set up.
    fn on_redirect(
        &mut self,
        reply: &Response,
        request: &Request,
        status: u16,
    ) -> Result<Outcome, ClientError> {
        let method = request.method_name().to_owned();
        let location = reply
            .headers()
            .get("Location")
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .ok_or_else(|| {
                ClientError::MalformedReply(format!("{status} to {method} without a Location"))
            })?;
        let resolved = resolve_location(&self.target, location)?;
        if self.redirects >= MAX_REDIRECTS {
            return Err(ClientError::TooManyRedirects {
                method,
                limit: MAX_REDIRECTS,
                location: resolved,
            });
        }
        let parsed = AbsoluteUrl::parse(&resolved)
            .map_err(|e| ClientError::BadUrl(format!("redirected to {resolved:?}: {e}")))?;
        self.redirects += 1;
        self.host = parsed.host;
        self.port = parsed.port;
        self.target = resolved.clone();
        self.setup_url = None;
        self.aggregate_url = None;
        self.media = None;
        self.public = None;
        self.resume_at = None;
        self.reset();
        Ok(Outcome::Redirected { location: resolved })
    }

    fn on_described(&mut self, reply: &Response) -> Result<Outcome, ClientError> {
        let content_type = reply
            .headers()
            .typed::<ContentType>()
            .and_then(Result::ok)
            .map(|c| c.to_string())
            .unwrap_or_default();
        let body = reply.body();
        if body.len() > MAX_BODY {
            return Err(ClientError::MalformedReply(format!(
                "{} byte description",
                body.len()
            )));
        }
        let text = String::from_utf8_lossy(body).into_owned();
        let description = Description { content_type, text };
        if self.is_lab() {
            // The lab extension's description is free text.
            let info = self.media.get_or_insert_with(MediaInfo::default).clone();
            return Ok(Outcome::Described(description, info));
        }
        let sdp = Sdp::parse(&description.text)
            .map_err(|e| ClientError::MalformedReply(format!("SDP: {e}")))?;
        let video = sdp.video().ok_or_else(|| {
            ClientError::Unsupported("the description has no video stream".into())
        })?;
        let jpeg = video.payload_type() == Some(26)
            || video
                .rtpmap()
                .is_some_and(|m| m.encoding.eq_ignore_ascii_case("JPEG"));
        if !jpeg {
            return Err(ClientError::Unsupported(
                "the video stream is not RTP/JPEG (payload type 26)".into(),
            ));
        }
        let content_base = reply
            .headers()
            .typed::<ContentBase>()
            .and_then(Result::ok)
            .map(|b| b.as_str().to_owned());
        let content_location = reply.headers().get("Content-Location").map(str::to_owned);
        let base = session_base_url(
            content_base.as_deref(),
            content_location.as_deref(),
            &self.target,
        )
        .to_owned();
        self.setup_url = Some(resolve_control_url(&base, video.control().unwrap_or("*")));
        self.aggregate_url = Some(sdp.aggregate_url(&base));
        let range = video.range().or_else(|| sdp.range());
        let info = MediaInfo {
            frame_rate: video.framerate(),
            duration: range
                .and_then(|r| r.duration())
                .filter(|d| d.is_finite() && *d >= 0.0)
                .map(seconds),
            clock_rate: video.rtpmap().map_or(90_000, |m| m.clock_rate),
            frames: None,
            dimensions: video.dimensions(),
        };
        self.media = Some(info.clone());
        Ok(Outcome::Described(description, info))
    }

    fn on_setup(
        &mut self,
        reply: &Response,
        asked: SetupTransport,
    ) -> Result<Outcome, ClientError> {
        let session = match reply.headers().typed::<SessionHeader>() {
            Some(Ok(s)) => s,
            Some(Err(e)) => return Err(ClientError::MalformedReply(format!("Session: {e}"))),
            None => {
                return Err(ClientError::MalformedReply(
                    "SETUP reply without Session".into(),
                ))
            }
        };
        let transport = if self.is_lab() {
            ServerTransport::Udp {
                server_rtp_port: None,
                server_rtcp_port: None,
            }
        } else {
            let spec = reply
                .headers()
                .typed::<Transport>()
                .and_then(Result::ok)
                .and_then(|t| t.first().cloned());
            match (spec, asked) {
                (Some(spec), _) if spec.is_tcp() => {
                    let channels = spec.interleaved.unwrap_or(ChannelRange::single(0));
                    let rtp = channels.first();
                    ServerTransport::Interleaved {
                        rtp,
                        rtcp: channels.rtcp().unwrap_or(rtp.wrapping_add(1)),
                    }
                }
                (Some(spec), _) => ServerTransport::Udp {
                    server_rtp_port: spec.server_port.map(PortRange::first),
                    server_rtcp_port: spec.server_port.and_then(PortRange::rtcp),
                },
                // No Transport in the reply: assume the server took what was asked.
                (None, SetupTransport::Interleaved { rtp, rtcp }) => {
                    ServerTransport::Interleaved { rtp, rtcp }
                }
                (None, _) => ServerTransport::Udp {
                    server_rtp_port: None,
                    server_rtcp_port: None,
                },
            }
        };
        self.session = Some(session);
        self.state = State::Ready;
        Ok(Outcome::SetUp(transport))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses one reply the way the runtime does.
    fn reply(lab: bool, bytes: &[u8]) -> Response {
        let mut reader = ReplyReader::new(lab, false);
        let mut out = Vec::new();
        reader.push(bytes, &mut out).unwrap();
        match out.pop() {
            Some(Incoming::Reply(r)) => r,
            other => panic!(
                "no reply in {:?}: {other:?}",
                String::from_utf8_lossy(bytes)
            ),
        }
    }

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).unwrap()
    }

    // Recorded from gst-rtsp-server 1.22 (Debian 12).
    const GST_DESCRIBE: &[u8] = b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Base: rtsp://127.0.0.1:33291/test/\r\nServer: GStreamer RTSP server\r\nContent-Length: 316\r\n\r\nv=0\r\no=- 7301433031427635466 1 IN IP4 127.0.0.1\r\ns=Session streamed with GStreamer\r\ni=rtsp-server\r\nt=0 0\r\na=tool:GStreamer\r\na=type:broadcast\r\na=control:*\r\na=range:npt=0-\r\nm=video 0 RTP/AVP 26\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:26 JPEG/90000\r\na=framerate:20.000000\r\na=control:stream=0\r\na=ts-refclk:local\r\na=mediaclk:sender\r\n";
    const GST_SETUP: &[u8] = b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;client_port=50000-50001;server_port=32792-32793;ssrc=17481A1D;mode=\"PLAY\"\r\nServer: GStreamer RTSP server\r\nSession: vCiPOHpyLOJ2OWsk\r\n\r\n";

    /// A `status` reply with `Location: location` to the DESCRIBE `s` sends now.
    fn redirect(s: &mut Session, status: u16, location: &str) -> Result<Outcome, ClientError> {
        let sent = s.encode(&Request::Describe).unwrap();
        let cseq = text(&sent)
            .lines()
            .find_map(|l| l.strip_prefix("CSeq: "))
            .unwrap()
            .to_owned();
        let bytes =
            format!("RTSP/1.0 {status} Moved\r\nCSeq: {cseq}\r\nLocation: {location}\r\n\r\n");
        s.handle_reply(&reply(false, bytes.as_bytes()))
    }

    #[test]
    fn redirects_resolve_relative_locations_and_forget_the_old_server() {
        let mut s = Session::standard("rtsp://a.example:8554/dir/movie", "ua").unwrap();
        let moved = |location: &str| Outcome::Redirected {
            location: location.to_owned(),
        };
        assert_eq!(
            redirect(&mut s, 302, "other"),
            Ok(moved("rtsp://a.example:8554/dir/other"))
        );
        assert_eq!(
            redirect(&mut s, 301, "/top?x=1"),
            Ok(moved("rtsp://a.example:8554/top?x=1"))
        );
        assert_eq!(
            redirect(&mut s, 307, "rtsp://eve:pw@b.example/m"),
            Ok(moved("rtsp://b.example/m"))
        );
        assert_eq!(s.host_port(), ("b.example".to_owned(), 554));
        assert_eq!(s.state(), State::Init);
        assert!(!s.has_description());
        let sent = s.encode(&Request::Describe).unwrap();
        assert!(text(&sent).starts_with("DESCRIBE rtsp://b.example/m RTSP/1.0\r\n"));
    }

    #[test]
    fn redirects_are_bounded_and_some_are_not_followed() {
        let mut s = Session::standard("rtsp://a.example/x", "ua").unwrap();
        for _ in 0..MAX_REDIRECTS {
            assert!(matches!(
                redirect(&mut s, 302, "/x"),
                Ok(Outcome::Redirected { .. })
            ));
        }
        assert_eq!(
            redirect(&mut s, 302, "/x"),
            Err(ClientError::TooManyRedirects {
                method: "DESCRIBE".into(),
                limit: MAX_REDIRECTS,
                location: "rtsp://a.example/x".into(),
            })
        );
        let mut s = Session::standard("rtsp://a.example/x", "ua").unwrap();
        assert!(matches!(
            redirect(&mut s, 305, "rtsp://proxy.example/"),
            Err(ClientError::Status { code: 305, .. })
        ));
        assert!(matches!(
            redirect(&mut s, 302, "http://web.example/x"),
            Err(ClientError::BadUrl(_))
        ));
        s.encode(&Request::Describe).unwrap();
        let no_location = format!("RTSP/1.0 302 Moved\r\nCSeq: {}\r\n\r\n", s.next_cseq - 1);
        assert!(matches!(
            s.handle_reply(&reply(false, no_location.as_bytes())),
            Err(ClientError::MalformedReply(_))
        ));
    }

    #[test]
    fn servers_that_describe_but_redirect_every_setup_cannot_loop() {
        let mut s = Session::standard("rtsp://a.example/test", "ua").unwrap();
        let setup = Request::Setup(SetupTransport::Interleaved { rtp: 0, rtcp: 1 });
        let moved = b"RTSP/1.0 302 Moved\r\nCSeq: 3\r\nLocation: /test\r\n\r\n";
        for hop in 0..=MAX_REDIRECTS {
            s.encode(&Request::Describe).unwrap();
            assert!(matches!(
                s.handle_reply(&reply(false, GST_DESCRIBE)),
                Ok(Outcome::Described(..))
            ));
            s.encode(&setup).unwrap();
            let outcome = s.handle_reply(&reply(false, moved));
            if hop < MAX_REDIRECTS {
                assert!(
                    matches!(outcome, Ok(Outcome::Redirected { .. })),
                    "{outcome:?}"
                );
            } else {
                assert!(
                    matches!(outcome, Err(ClientError::TooManyRedirects { ref method, .. }) if method == "SETUP"),
                    "{outcome:?}"
                );
            }
        }
    }

    #[test]
    fn credentials_are_offered_to_the_original_host_and_port_only() {
        let challenge = |s: &mut Session| {
            s.encode(&Request::Describe).unwrap();
            let bytes = format!(
                "RTSP/1.0 401 Unauthorized\r\nCSeq: {}\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n\r\n",
                s.next_cseq - 1
            );
            s.handle_reply(&reply(false, bytes.as_bytes()))
        };
        let mut s = Session::standard("rtsp://alice:pw@a.example:8554/x", "ua").unwrap();
        assert_eq!(challenge(&mut s), Ok(Outcome::RetryWithAuth));
        let authorized = |s: &mut Session| {
            let sent = s.encode(&Request::Describe).unwrap();
            s.abandon_pending();
            text(&sent).contains("\r\nAuthorization: ")
        };
        assert!(authorized(&mut s));
        // Another port of the same host is another server.
        redirect(&mut s, 302, "rtsp://a.example:9000/x").unwrap();
        assert!(!authorized(&mut s));
        assert_eq!(
            challenge(&mut s),
            Err(ClientError::Unauthorized {
                method: "DESCRIBE".into(),
                realm: "r".into(),
                had_credentials: false,
            })
        );
        // Back home (the host's case does not matter): the credentials answer again.
        redirect(&mut s, 302, "rtsp://A.EXAMPLE:8554/x").unwrap();
        assert!(authorized(&mut s));
    }

    #[test]
    fn seconds_never_panic() {
        assert_eq!(seconds(f64::NAN), Duration::ZERO);
        assert_eq!(seconds(-3.0), Duration::ZERO);
        assert_eq!(seconds(f64::INFINITY), Duration::from_secs(1_000_000_000));
        assert_eq!(seconds(1.5), Duration::from_millis(1500));
        let mut s = Session::standard("rtsp://h/x", "ua").unwrap();
        s.encode(&Request::Setup(SetupTransport::Interleaved {
            rtp: 0,
            rtcp: 1,
        }))
        .unwrap();
        s.handle_reply(&reply(
            false,
            b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nSession: a\r\n\r\n",
        ))
        .unwrap();
        let play = s.encode(&Request::Play(Some(f64::INFINITY))).unwrap();
        assert!(
            text(&play).contains("Range: npt=1000000000.000-"),
            "{}",
            text(&play)
        );
    }

    #[test]
    fn lab_requests_are_byte_exact() {
        let mut s = Session::lab("movie.Mjpeg");
        let setup = s
            .encode(&Request::Setup(SetupTransport::Lab { rtp_port: 25000 }))
            .unwrap();
        assert_eq!(
            text(&setup),
            "SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 25000"
        );
        let r = reply(true, b"RTSP/1.0 200 OK\nCSeq: 1\nSession: 123456");
        assert!(s.is_reply_to_pending(&r));
        assert_eq!(
            s.handle_reply(&r).unwrap(),
            Outcome::SetUp(ServerTransport::Udp {
                server_rtp_port: None,
                server_rtcp_port: None
            })
        );
        assert_eq!((s.state(), s.session_id()), (State::Ready, Some("123456")));
        let play = s.encode(&Request::Play(None)).unwrap();
        assert_eq!(
            text(&play),
            "PLAY movie.Mjpeg RTSP/1.0\nCSeq: 2\nSession: 123456"
        );
        s.handle_reply(&reply(true, b"RTSP/1.0 200 OK\nCSeq: 2\nSession: 123456"))
            .unwrap();
        assert_eq!(s.state(), State::Playing);
        let fwd = s.encode(&Request::LabForward).unwrap();
        assert_eq!(
            text(&fwd),
            "FORWARD movie.Mjpeg RTSP/1.4\nCSeq: 3\nSession: 123456"
        );
        s.handle_reply(&reply(
            true,
            b"RTSP/1.0 200 OK\nCSeq: 3\nSession: 123456\nFrames: 500",
        ))
        .unwrap();
        assert_eq!(s.media.as_ref().and_then(|m| m.frames), Some(500));
        let pause = s.encode(&Request::Pause).unwrap();
        assert_eq!(
            text(&pause),
            "PAUSE movie.Mjpeg RTSP/1.0\nCSeq: 4\nSession: 123456"
        );
        s.handle_reply(&reply(true, b"RTSP/1.0 200 OK\nCSeq: 4\nSession: 123456"))
            .unwrap();
        let teardown = s.encode(&Request::Teardown).unwrap();
        assert_eq!(
            text(&teardown),
            "TEARDOWN movie.Mjpeg RTSP/1.0\nCSeq: 5\nSession: 123456"
        );
        s.handle_reply(&reply(true, b"RTSP/1.0 200 OK\nCSeq: 5\nSession: 123456"))
            .unwrap();
        assert_eq!((s.state(), s.session_id()), (State::Init, None));
    }

    #[test]
    fn lab_state_rules_and_size_limit() {
        let mut s = Session::lab("movie.Mjpeg");
        for r in [
            Request::Play(None),
            Request::Pause,
            Request::Teardown,
            Request::Options,
        ] {
            assert!(
                matches!(s.encode(&r), Err(ClientError::BadState { .. })),
                "{r:?}"
            );
        }
        // Nothing was sent, so the CSeq did not move.
        let setup = s
            .encode(&Request::Setup(SetupTransport::Lab { rtp_port: 1 }))
            .unwrap();
        assert!(text(&setup).contains("\nCSeq: 1\n"));
        let long = "x".repeat(240);
        let mut s = Session::lab(&long);
        let err = s
            .encode(&Request::Setup(SetupTransport::Lab { rtp_port: 25000 }))
            .unwrap_err();
        assert!(err.to_string().contains("256"), "{err}");
    }

    #[test]
    fn standard_exchange_against_recorded_gstreamer_replies() {
        let mut s = Session::standard("rtsp://127.0.0.1:33291/test", "ua/1").unwrap();
        assert_eq!(s.host_port(), ("127.0.0.1".to_owned(), 33291));
        let opts = s.encode(&Request::Options).unwrap();
        assert_eq!(
            text(&opts),
            "OPTIONS rtsp://127.0.0.1:33291/test RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: ua/1\r\n\r\n"
        );
        s.handle_reply(&reply(
            false,
            b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE, GET_PARAMETER, PAUSE, PLAY, SETUP, TEARDOWN\r\n\r\n",
        ))
        .unwrap();
        let describe = s.encode(&Request::Describe).unwrap();
        assert!(text(&describe).contains("\r\nAccept: application/sdp\r\n"));
        let Outcome::Described(d, info) = s.handle_reply(&reply(false, GST_DESCRIBE)).unwrap()
        else {
            panic!("not a description")
        };
        assert_eq!(d.content_type, "application/sdp");
        assert_eq!(info.frame_rate(), 20.0);
        assert_eq!(info.clock_rate, 90_000);
        let setup = s
            .encode(&Request::Setup(SetupTransport::Udp {
                rtp_port: 50000,
                rtcp_port: 50001,
            }))
            .unwrap();
        assert!(
            text(&setup).starts_with("SETUP rtsp://127.0.0.1:33291/test/stream=0 RTSP/1.0\r\n"),
            "{}",
            text(&setup)
        );
        assert!(text(&setup).contains("\r\nTransport: RTP/AVP;unicast;client_port=50000-50001\r\n"));
        assert_eq!(
            s.handle_reply(&reply(false, GST_SETUP)).unwrap(),
            Outcome::SetUp(ServerTransport::Udp {
                server_rtp_port: Some(32792),
                server_rtcp_port: Some(32793)
            })
        );
        assert_eq!(s.keepalive_interval(), Some(Duration::from_secs(30)));
        assert_eq!(s.keepalive_request(false), Request::GetParameter);
        assert_eq!(s.keepalive_request(true), Request::KeepaliveOptions);
        let play = s.encode(&Request::Play(None)).unwrap();
        let play = text(&play);
        assert!(
            play.starts_with("PLAY rtsp://127.0.0.1:33291/test/ RTSP/1.0\r\n"),
            "{play}"
        );
        assert!(play.contains("\r\nRange: npt=0.000-\r\n"), "{play}");
        assert!(play.contains("\r\nSession: vCiPOHpyLOJ2OWsk\r\n"), "{play}");
        let outcome = s
            .handle_reply(&reply(
                false,
                b"RTSP/1.0 200 OK\r\nCSeq: 5\r\nRange: npt=0-\r\nRTP-Info: url=rtsp://127.0.0.1:33291/test/stream=0;seq=100;rtptime=9000\r\nSession: vCiPOHpyLOJ2OWsk\r\n\r\n",
            ))
            .unwrap();
        assert_eq!(
            outcome,
            Outcome::Playing(PlayInfo {
                start: 0.0,
                seq: Some(100),
                rtptime: Some(9000)
            })
        );
        let ka = s.encode(&Request::KeepaliveOptions).unwrap();
        assert!(text(&ka).starts_with("OPTIONS * RTSP/1.0\r\n"));
        assert!(text(&ka).contains("Session: vCiPOHpyLOJ2OWsk"));
    }

    /// A URL's userinfo gives credentials and never appears in a request, not even where a
    /// server echoes it in Content-Base or control URLs.
    #[test]
    fn userinfo_never_reaches_a_request_uri() {
        let mut s = Session::standard(
            "rtsp://alice:open%20sesame@127.0.0.1:8554/movie.Mjpeg",
            "ua",
        )
        .unwrap();
        let opts = s.encode(&Request::Options).unwrap();
        assert_eq!(
            text(&opts),
            "OPTIONS rtsp://127.0.0.1:8554/movie.Mjpeg RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: ua\r\n\r\n"
        );
        s.handle_reply(&reply(false, b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n"))
            .unwrap();
        s.encode(&Request::Describe).unwrap();
        let sdp = "v=0\r\nm=video 0 RTP/AVP 26\r\na=control:rtsp://bob:pw@127.0.0.1:8554/movie.Mjpeg/track1\r\n";
        let described = format!(
            "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Base: rtsp://alice:open%20sesame@127.0.0.1:8554/movie.Mjpeg/\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        );
        s.handle_reply(&reply(false, described.as_bytes())).unwrap();
        let setup = s
            .encode(&Request::Setup(SetupTransport::Interleaved {
                rtp: 0,
                rtcp: 1,
            }))
            .unwrap();
        assert!(
            text(&setup).starts_with("SETUP rtsp://127.0.0.1:8554/movie.Mjpeg/track1 RTSP/1.0\r\n"),
            "{}",
            text(&setup)
        );
        s.handle_reply(&reply(
            false,
            b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: a\r\n\r\n",
        ))
        .unwrap();
        let play = s.encode(&Request::Play(None)).unwrap();
        assert!(
            text(&play).starts_with("PLAY rtsp://127.0.0.1:8554/movie.Mjpeg/ RTSP/1.0\r\n"),
            "{}",
            text(&play)
        );
        for bytes in [opts, setup, play] {
            assert!(!text(&bytes).contains('@'), "{}", text(&bytes));
        }
    }

    #[test]
    fn publisher_announces_sets_up_for_record_and_records() {
        let mut s = Session::publisher("rtsp://cam:pw@127.0.0.1:8554/live/cam", "t").unwrap();
        assert!(s.is_publisher());
        // A publisher neither describes nor plays.
        assert!(s.encode(&Request::Describe).is_err());
        assert!(s
            .encode(&Request::Setup(SetupTransport::Interleaved {
                rtp: 0,
                rtcp: 1
            }))
            .is_err());
        let announce = s.encode(&Request::Announce).unwrap();
        let announce = text(&announce);
        assert!(announce.starts_with("ANNOUNCE rtsp://127.0.0.1:8554/live/cam RTSP/1.0\r\n"));
        assert!(
            announce.contains("Content-Type: application/sdp\r\n"),
            "{announce}"
        );
        let body = announce.split("\r\n\r\n").nth(1).unwrap();
        let sdp = Sdp::parse(body).unwrap();
        let video = sdp.video().unwrap();
        assert_eq!(video.payload_type(), Some(26));
        assert_eq!(video.rtpmap().unwrap().encoding, "JPEG");
        assert_eq!(video.rtpmap().unwrap().clock_rate, 90_000);
        assert!(!announce.contains("pw"), "{announce}");
        let ok = |cseq: u32, extra: &str| {
            reply(
                false,
                format!("RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n{extra}\r\n").as_bytes(),
            )
        };
        assert_eq!(s.handle_reply(&ok(1, "")).unwrap(), Outcome::Announced);
        let setup = s
            .encode(&Request::Setup(SetupTransport::Udp {
                rtp_port: 5000,
                rtcp_port: 5001,
            }))
            .unwrap();
        let setup = text(&setup);
        assert!(
            setup.starts_with("SETUP rtsp://127.0.0.1:8554/live/cam/streamid=0 RTSP/1.0\r\n"),
            "{setup}"
        );
        assert!(
            setup.contains("client_port=5000-5001;mode=\"record\""),
            "{setup}"
        );
        let setup_reply = ok(
            2,
            "Session: abc;timeout=10\r\nTransport: RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001;mode=record\r\n",
        );
        assert_eq!(
            s.handle_reply(&setup_reply).unwrap(),
            Outcome::SetUp(ServerTransport::Udp {
                server_rtp_port: Some(6000),
                server_rtcp_port: Some(6001)
            })
        );
        assert!(s.encode(&Request::Play(None)).is_err());
        let record = s.encode(&Request::Record).unwrap();
        let record = text(&record);
        assert!(
            record.starts_with("RECORD rtsp://127.0.0.1:8554/live/cam RTSP/1.0\r\n"),
            "{record}"
        );
        assert!(
            record.contains("Session: abc\r\n") && record.contains("Range: npt=0"),
            "{record}"
        );
        assert_eq!(
            s.handle_reply(&ok(3, "Session: abc\r\n")).unwrap(),
            Outcome::Recording
        );
        assert_eq!(s.state(), State::Playing);
        assert_eq!(s.keepalive_interval(), Some(Duration::from_secs(5)));
        // A player session never records.
        let mut player = Session::standard("rtsp://127.0.0.1/x", "t").unwrap();
        assert!(player.encode(&Request::Announce).is_err());
    }

    #[test]
    fn without_get_parameter_the_keepalive_is_options() {
        let mut s = Session::standard("rtsp://h/x", "ua").unwrap();
        s.encode(&Request::Options).unwrap();
        s.handle_reply(&reply(
            false,
            b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, PLAY\r\n\r\n",
        ))
        .unwrap();
        assert_eq!(s.keepalive_request(false), Request::KeepaliveOptions);
        assert_eq!(s.keepalive_request(true), Request::GetParameter);
    }

    #[test]
    fn forbidden_carries_the_servers_text_cleaned_and_bounded() {
        let mut s = Session::standard("rtsp://h:554/x", "ua").unwrap();
        s.encode(&Request::Describe).unwrap();
        let body = format!("may not\x1b[2J\r\npublish{}", "x".repeat(500));
        let raw = format!(
            "RTSP/1.0 403 Forbidden\r\nCSeq: 1\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let Err(ClientError::Forbidden { method, reason }) =
            s.handle_reply(&reply(false, raw.as_bytes()))
        else {
            panic!("403 is not Forbidden");
        };
        assert_eq!(method, "DESCRIBE");
        assert!(reason.starts_with("may not [2J  publishxx"), "{reason:?}");
        assert_eq!(reason.chars().count(), MAX_REFUSAL_TEXT);
        // No text body: the reason phrase.
        s.encode(&Request::Describe).unwrap();
        let err = s
            .handle_reply(&reply(false, b"RTSP/1.0 403 Go Away\r\nCSeq: 2\r\n\r\n"))
            .unwrap_err();
        assert_eq!(
            err,
            ClientError::Forbidden {
                method: "DESCRIBE".into(),
                reason: "Go Away".into()
            }
        );
    }

    #[test]
    fn errors_and_stale_replies() {
        let mut s = Session::standard("rtsp://h:554/x", "ua").unwrap();
        s.encode(&Request::Describe).unwrap();
        let stale = reply(false, b"RTSP/1.0 200 OK\r\nCSeq: 7\r\n\r\n");
        assert!(!s.is_reply_to_pending(&stale));
        let err = s
            .handle_reply(&reply(false, b"RTSP/1.0 404 Not Found\r\nCSeq: 1\r\n\r\n"))
            .unwrap_err();
        assert_eq!(
            err,
            ClientError::Status {
                method: "DESCRIBE".into(),
                code: 404,
                reason: "Not Found".into()
            }
        );
        assert_eq!(s.state(), State::Init);
        // A description without JPEG video is refused.
        s.encode(&Request::Describe).unwrap();
        let h264 = b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: 40\r\n\r\nv=0\r\nm=video 0 RTP/AVP 96\r\na=control:t\r\n";
        assert!(matches!(
            s.handle_reply(&reply(false, h264)),
            Err(ClientError::Unsupported(_))
        ));
        for bad in [
            "http://h/x",
            "rtsp://",
            "rtsp://h:99999/x",
            "nothing",
            "rtspu://h/x",
        ] {
            assert!(
                matches!(Session::standard(bad, "ua"), Err(ClientError::BadUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn rtsps_urls_are_tls_on_port_322() {
        let s = Session::standard("rtsps://cam.example/live", "ua").unwrap();
        assert!(s.is_tls());
        assert_eq!(s.host_port(), ("cam.example".to_owned(), 322));
        let s = Session::standard("RTSPS://cam.example:8322/live", "ua").unwrap();
        assert!(s.is_tls());
        assert_eq!(s.host_port().1, 8322);
        assert!(!Session::standard("rtsp://cam.example/live", "ua")
            .unwrap()
            .is_tls());
        assert!(!Session::lab("rtsps://x").is_tls());
        // A publisher's connection is TLS too.
        assert!(Session::publisher("rtsps://cam.example/live", "ua")
            .unwrap()
            .is_tls());
    }

    #[test]
    fn setup_reply_with_interleaved_transport() {
        let mut s = Session::standard("rtsp://h/x", "ua").unwrap();
        let bytes = s
            .encode(&Request::Setup(SetupTransport::Interleaved {
                rtp: 0,
                rtcp: 1,
            }))
            .unwrap();
        assert!(text(&bytes).contains("Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"));
        let r = reply(
            false,
            b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP;unicast;interleaved=2-3\r\nSession: abc;timeout=20\r\n\r\n",
        );
        assert_eq!(
            s.handle_reply(&r).unwrap(),
            Outcome::SetUp(ServerTransport::Interleaved { rtp: 2, rtcp: 3 })
        );
        assert_eq!(s.keepalive_interval(), Some(Duration::from_secs(10)));
        // Session Not Found forgets the session.
        s.encode(&Request::Play(None)).unwrap();
        let _ = s.handle_reply(&reply(
            false,
            b"RTSP/1.0 454 Session Not Found\r\nCSeq: 2\r\n\r\n",
        ));
        assert_eq!(s.state(), State::Init);
    }

    #[test]
    fn reader_separates_interleaved_frames_from_replies() {
        let mut reader = ReplyReader::new(false, false);
        let mut out = Vec::new();
        let mut bytes = vec![b'$', 0, 0, 3, 1, 2, 3];
        bytes.extend_from_slice(b"RTSP/1.0 200 OK\r\nCSeq: 4\r\n\r\n$\x01\x00\x01");
        reader.push(&bytes, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        // The second frame is incomplete until its last byte arrives.
        assert_eq!(reader.take_interleaved(), vec![(0, vec![1, 2, 3])]);
        reader.push(&[9], &mut out).unwrap();
        assert_eq!(reader.take_interleaved(), vec![(1, vec![9])]);
        assert!(reader.push(b"GARBAGE\x00\r\n\r\n", &mut out).is_err());
        assert!(reader.take_messages().is_empty());
    }

    /// However the stream is cut, each message's bytes are kept exactly, and interleaved
    /// frames are not.
    #[test]
    fn reader_keeps_the_bytes_of_each_message() {
        let reply = b"RTSP/1.0 200 OK\r\nCSeq: 4\r\nContent-Length: 3\r\n\r\nabc".to_vec();
        let request = b"GET_PARAMETER rtsp://h/x RTSP/1.0\r\nCSeq: 9\r\n\r\n".to_vec();
        let mut stream = vec![b'$', 0, 0, 3, 1, 2, 3];
        stream.extend_from_slice(&reply);
        stream.extend_from_slice(&[b'$', 1, 0, 1, 9]);
        stream.extend_from_slice(&request);
        for chunk in [1, 5, stream.len()] {
            let mut reader = ReplyReader::new(false, true);
            let mut out = Vec::new();
            for piece in stream.chunks(chunk) {
                reader.push(piece, &mut out).unwrap();
            }
            assert_eq!(out.len(), 1);
            assert_eq!(reader.take_interleaved().len(), 2);
            assert_eq!(reader.take_messages(), vec![reply.clone(), request.clone()]);
        }
        // Lab replies end with the read.
        let mut reader = ReplyReader::new(true, true);
        let mut out = Vec::new();
        reader
            .push(b"RTSP/1.0 200 OK\nCSeq: 1\nSession: 123456", &mut out)
            .unwrap();
        assert_eq!(
            reader.take_messages(),
            vec![b"RTSP/1.0 200 OK\nCSeq: 1\nSession: 123456".to_vec()]
        );
        // What breaks the parser is kept as it came.
        let mut reader = ReplyReader::new(false, true);
        assert!(reader.push(b"GARBAGE\x00\r\n\r\n", &mut out).is_err());
        assert_eq!(
            reader.take_messages(),
            vec![b"GARBAGE\x00\r\n\r\n".to_vec()]
        );
    }
}
