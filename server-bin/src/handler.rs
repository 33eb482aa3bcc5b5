//! Requests in, replies and session actions out.
//!
//! The decisions (which state allows what, which status code a mistake earns, what a seek
//! lands on, which names are inside the media root) are made by `rtsp_core::server`; this
//! module looks things up (sessions, media, ports), carries out the resulting [`Effect`] on
//! the runtime (scheduler orders, sockets) and writes the reply in the client's dialect.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use rtsp_core::rtsp::headers::{
    Cast, ChannelRange, NptTime, PortRange, Range, RtpInfo, RtpInfoEntry, Session as SessionHeader,
    Transport, TransportProtocol, TransportSpec,
};
use rtsp_core::rtsp::url::RequestUri;
use rtsp_core::rtsp::{Dialect, LabReply, Method, Request, Response, StatusCode};
use rtsp_core::server::{
    state, target, Command, Effect, NptStart, Playhead, Refusal, SessionState, Target,
};

use crate::conn::ConnState;
use crate::scheduler::SchedMsg;
use crate::server::Ctx;
use crate::session::{Delivery, EndReason, Flavor, Session, SessionInit, UdpDelivery};

/// Methods listed in `Public:` (every method this server serves).
pub const PUBLIC: &str =
    "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER, FORWARD, BACKWARD, RESTART";
/// Methods RFC 2326 defines that this server refuses with 405 (listed in `Allow:`).
const ALLOW: &str = PUBLIC;
/// Most sessions one connection may set up.
const MAX_SESSIONS_PER_CONNECTION: usize = 16;
/// `Server:` header value.
const SERVER: &str = concat!("rtsp-server/", env!("CARGO_PKG_VERSION"));

/// What the connection worker must do besides sending the reply.
#[derive(Debug)]
pub enum ConnEffect {
    /// Watch a session's UDP socket (RTCP from the client; junk on the RTP port is drained).
    Watch {
        /// The session.
        session: Arc<Session>,
        /// A clone of the socket.
        socket: std::net::UdpSocket,
        /// Whether it is the RTCP socket.
        rtcp: bool,
    },
    /// Stop watching a session's sockets.
    Forget(u64),
    /// Close the connection after the reply.
    Close,
}

/// A reply before it is written in a dialect.
struct Reply {
    status: StatusCode,
    /// Reason phrase override (None: the RFC phrase).
    session: Option<Arc<Session>>,
    /// Session number to echo in lab replies when no session object exists.
    lab_session: u64,
    /// Frames total for the lab `Frames:` line.
    frames: Option<u64>,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn ok() -> Self {
        Self::status(StatusCode::OK)
    }

    fn status(status: StatusCode) -> Self {
        Self {
            status,
            session: None,
            lab_session: 0,
            frames: None,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    fn refusal(r: Refusal) -> Self {
        let mut reply = Self::status(crate::conn::status(r.status()));
        if r.kind() == rtsp_core::server::RefusalKind::MethodNotAllowed {
            reply.headers.push(("Allow", ALLOW.to_owned()));
        }
        reply
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn with_session(mut self, s: &Arc<Session>) -> Self {
        self.frames = s.source.total_frames();
        self.session = Some(Arc::clone(s));
        self
    }
}

/// Handle one request from `conn`: queue the reply on the connection, return the side effects.
pub fn handle(ctx: &Ctx, conn: &mut ConnState, req: Request) -> Vec<ConnEffect> {
    let mut effects = Vec::new();
    let dialect = conn.dialect.unwrap_or(req.dialect());
    let method = req.method().clone();
    let reply = match dispatch(ctx, conn, &req, dialect, &mut effects) {
        Ok(reply) => reply,
        Err(refusal) => {
            tracing::info!(peer = %conn.peer, method = method.as_str(), uri = req.uri(), "refused: {refusal}");
            let mut reply = Reply::refusal(refusal);
            // Lab clients read the session from line 3 even in errors: echo theirs.
            reply.lab_session = requested_session_number(&req).unwrap_or(0);
            reply
        }
    };
    tracing::debug!(peer = %conn.peer, method = method.as_str(), uri = req.uri(), status = reply.status.as_u16(), "request");
    let bytes = render(ctx, &req, dialect, reply);
    conn.queue(bytes);
    effects
}

fn render(ctx: &Ctx, req: &Request, dialect: Dialect, reply: Reply) -> Vec<u8> {
    match dialect {
        Dialect::Lab => {
            let session = reply
                .session
                .as_ref()
                .map(|s| s.id)
                .unwrap_or(reply.lab_session);
            let mut lab = LabReply::new(reply.status, req.cseq().unwrap_or(0), session);
            if req.version().is_lab() {
                lab = lab.with_version(req.version());
            }
            if let Some(total) = reply.frames {
                lab = lab.with_frames(total);
            }
            if !reply.body.is_empty() {
                lab = lab.with_body(reply.body);
            }
            lab.to_bytes()
        }
        Dialect::Standard => {
            let mut r = Response::reply_to(req, reply.status);
            let add =
                |r: Response, name: &str, value: &str| match r.clone().with_header(name, value) {
                    Ok(with) => with,
                    Err(_) => r,
                };
            r = add(r, "Server", SERVER);
            if let Some(s) = &reply.session {
                let timeout =
                    u32::try_from(ctx.config.session_timeout.as_secs()).unwrap_or(u32::MAX);
                let header = SessionHeader::from_number(s.id).with_timeout(timeout);
                r = add(r, "Session", &header.to_string());
            }
            for (name, value) in &reply.headers {
                r = add(r, name, value);
            }
            if !reply.body.is_empty() {
                r = r.with_body(reply.body);
            }
            r.to_bytes(Dialect::Standard)
        }
    }
}

fn dispatch(
    ctx: &Ctx,
    conn: &mut ConnState,
    req: &Request,
    dialect: Dialect,
    effects: &mut Vec<ConnEffect>,
) -> Result<Reply, Refusal> {
    if !req.version().is_supported() {
        return Err(Refusal::VersionNotSupported);
    }
    if req.cseq().is_none() {
        return Err(Refusal::BadRequest("missing or invalid CSeq"));
    }
    // Method problems come first: a request we cannot serve at all says so whatever its session.
    match req.method() {
        Method::Announce | Method::Record | Method::Redirect => {
            return Err(Refusal::MethodNotAllowed)
        }
        Method::Extension(_) => return Err(Refusal::NotImplemented),
        _ => {}
    }
    let session = find_session(ctx, conn, req)?;
    if let Some(s) = &session {
        s.touch();
    }
    match req.method() {
        Method::Options => {
            let mut reply = Reply::ok().header("Public", PUBLIC);
            if let Some(s) = &session {
                reply = reply.with_session(s);
            }
            Ok(reply)
        }
        Method::Describe => describe(ctx, conn, req, dialect, session.as_ref()),
        Method::Setup => setup(ctx, conn, req, dialect, session, effects),
        Method::Play => {
            let range = play_range(req)?;
            control(ctx, conn, req, session, Command::Play { range }, effects)
        }
        Method::Pause => control(ctx, conn, req, session, Command::Pause, effects),
        Method::Teardown => control(ctx, conn, req, session, Command::Teardown, effects),
        Method::Forward => control(ctx, conn, req, session, Command::Forward, effects),
        Method::Backward => control(ctx, conn, req, session, Command::Backward, effects),
        Method::Restart => control(ctx, conn, req, session, Command::Restart, effects),
        Method::GetParameter | Method::SetParameter => {
            // An empty body is a keep-alive; we have no parameters to get or set.
            if !req.body().iter().all(u8::is_ascii_whitespace) {
                return Err(Refusal::ParameterNotUnderstood);
            }
            match session {
                Some(s) => control(ctx, conn, req, Some(s), Command::KeepAlive, effects),
                None => Ok(Reply::ok()),
            }
        }
        Method::Announce | Method::Record | Method::Redirect => Err(Refusal::MethodNotAllowed),
        Method::Extension(_) => Err(Refusal::NotImplemented),
    }
}

/// The session the request names, checked to belong to this peer.
fn find_session(
    ctx: &Ctx,
    conn: &ConnState,
    req: &Request,
) -> Result<Option<Arc<Session>>, Refusal> {
    let Some(raw) = req.headers().get("Session") else {
        return Ok(None);
    };
    let id = requested_session_number(req).ok_or(Refusal::SessionNotFound)?;
    // Lab clients send `Session: 0` before SETUP (their initial sessionId).
    if id == 0 && conn.dialect == Some(Dialect::Lab) {
        return Ok(None);
    }
    let session = ctx.registry.get(id).ok_or(Refusal::SessionNotFound)?;
    // Another host knowing (or guessing) the id gains nothing.
    if session.peer.ip() != conn.peer.ip() {
        tracing::warn!(peer = %conn.peer, session = id, owner = %session.peer, "session id used from another address");
        return Err(Refusal::SessionNotFound);
    }
    let _ = raw;
    Ok(Some(session))
}

fn requested_session_number(req: &Request) -> Option<u64> {
    req.headers()
        .typed::<SessionHeader>()
        .and_then(Result::ok)
        .and_then(|s| s.id_number())
}

/// The request's target, `None` for `*`.
fn target_of(req: &Request) -> Result<Option<Target>, Refusal> {
    let uri =
        RequestUri::parse(req.uri()).map_err(|_| Refusal::BadRequest("malformed request URI"))?;
    match uri {
        RequestUri::Asterisk => Ok(None),
        _ => target::resolve(req.uri()).map(Some),
    }
}

fn describe(
    ctx: &Ctx,
    conn: &ConnState,
    req: &Request,
    dialect: Dialect,
    session: Option<&Arc<Session>>,
) -> Result<Reply, Refusal> {
    let target = target_of(req)?.ok_or(Refusal::NotFound)?;
    let source = ctx.catalog.open(&target)?;
    if dialect == Dialect::Standard {
        rtp_capable(&source)?;
    }
    let base = content_base(conn, req, &target);
    let sdp = crate::source::sdp(
        &source,
        conn.local.map(|a| a.ip()),
        ctx.config.fps,
        rand::random::<u32>().into(),
    );
    let mut reply = Reply::ok();
    if let Some(s) = session {
        reply = reply.with_session(s);
    } else {
        reply.frames = source.total_frames();
        reply.lab_session = requested_session_number(req).unwrap_or(0);
    }
    match dialect {
        Dialect::Lab => Ok(Reply {
            body: sdp.into_bytes(),
            ..reply
        }),
        Dialect::Standard => Ok(Reply {
            body: sdp.into_bytes(),
            ..reply
                .header("Content-Type", "application/sdp")
                .header("Content-Base", base)
        }),
    }
}

/// `rtsp://host:port/<presentation>/`, with the host the client used when it sent a URL.
fn content_base(conn: &ConnState, req: &Request, target: &Target) -> String {
    let authority = match RequestUri::parse(req.uri()) {
        Ok(RequestUri::Absolute(url)) => {
            if url.host.contains(':') {
                format!("[{}]:{}", url.host, url.port)
            } else {
                format!("{}:{}", url.host, url.port)
            }
        }
        _ => match conn.local {
            Some(SocketAddr::V6(a)) => format!("[{}]:{}", a.ip(), a.port()),
            Some(a) => a.to_string(),
            None => "127.0.0.1:8554".to_owned(),
        },
    };
    format!("rtsp://{authority}/{}/", target.presentation)
}

fn play_range(req: &Request) -> Result<Option<NptStart>, Refusal> {
    match req.headers().typed::<Range>() {
        None => Ok(None),
        Some(Err(_)) => Err(Refusal::InvalidRange),
        Some(Ok(range)) => Ok(match range.start {
            None | Some(NptTime::Now) => Some(NptStart::Now),
            Some(NptTime::At(d)) => Some(NptStart::Seconds(d.as_secs_f64())),
        }),
    }
}

fn playhead(s: &Session) -> Playhead {
    Playhead {
        next_frame: s.position.load(Ordering::Acquire),
        total_frames: s.source.total_frames(),
        fps: s.fps,
    }
}

/// PLAY, PAUSE, TEARDOWN, FORWARD, BACKWARD, RESTART and keep-alives.
fn control(
    ctx: &Ctx,
    conn: &mut ConnState,
    req: &Request,
    session: Option<Arc<Session>>,
    command: Command,
    effects: &mut Vec<ConnEffect>,
) -> Result<Reply, Refusal> {
    let Some(session) = session else {
        // No session: the request meets the INIT row of the table.
        state::outcome(
            SessionState::Init,
            command,
            Playhead {
                next_frame: 0,
                total_frames: None,
                fps: ctx.config.fps,
            },
        )?;
        return Ok(Reply::ok());
    };
    if let Some(target) = target_of(req)? {
        if target.presentation != session.presentation {
            return Err(Refusal::OnlyAggregateAllowed);
        }
    }
    let transition = session.machine.lock().apply(command, playhead(&session))?;
    let mut reply = Reply::ok().with_session(&session);
    match transition.effect {
        Effect::StartPlaying { from } | Effect::Seek { to: from }
            if transition.to == SessionState::Playing =>
        {
            start_pacing(ctx, &session, from);
            reply = play_headers(reply, req, &session, from);
        }
        Effect::Seek { to } => {
            // Not playing: just move the position for the next PLAY.
            session.position.store(to, Ordering::Release);
        }
        Effect::StartPlaying { .. } => {}
        Effect::Pause => {
            session.next_epoch();
            let _ = ctx.scheduler.send(SchedMsg::Stop(session.id));
            tracing::debug!(
                session = session.id,
                at = session.position.load(Ordering::Relaxed),
                "paused"
            );
        }
        Effect::Teardown => {
            ctx.end_session(&session, EndReason::Teardown);
            conn.sessions.retain(|id| *id != session.id);
            effects.push(ConnEffect::Forget(session.id));
        }
        Effect::None => {
            if matches!(command, Command::Play { .. }) {
                let at = session.position.load(Ordering::Acquire);
                reply = play_headers(reply, req, &session, at);
            }
        }
        Effect::Establish | Effect::ChangeTransport => {}
    }
    Ok(reply)
}

fn start_pacing(ctx: &Ctx, session: &Arc<Session>, from: u64) {
    let epoch = session.next_epoch();
    session.position.store(from, Ordering::Release);
    let _ = ctx.scheduler.send(SchedMsg::Play {
        session: Arc::clone(session),
        from,
        epoch,
    });
}

fn play_headers(reply: Reply, req: &Request, s: &Session, from: u64) -> Reply {
    let range = match s.source.total_frames() {
        Some(total) => format!(
            "npt={:.3}-{:.3}",
            rtsp_core::server::seek::npt_of_frame(from, s.fps),
            rtsp_core::server::seek::npt_of_frame(total, s.fps)
        ),
        None => "npt=now-".to_owned(),
    };
    let info = RtpInfo(vec![RtpInfoEntry {
        url: s.control_url.clone(),
        seq: Some(s.rtp_seq.load(Ordering::Relaxed) as u16),
        rtptime: Some(s.rtp_timestamp(s.next_ticks.load(Ordering::Acquire))),
    }]);
    let _ = req;
    reply
        .header("Range", range)
        .header("RTP-Info", info.to_string())
}

fn setup(
    ctx: &Ctx,
    conn: &mut ConnState,
    req: &Request,
    dialect: Dialect,
    session: Option<Arc<Session>>,
    effects: &mut Vec<ConnEffect>,
) -> Result<Reply, Refusal> {
    let target = target_of(req)?.ok_or(Refusal::NotFound)?;
    let transport = match req.headers().typed::<Transport>() {
        Some(Ok(t)) => t,
        _ => return Err(Refusal::UnsupportedTransport),
    };
    if let Some(existing) = session {
        // SETUP on an existing session: only the same presentation (one track) and only to
        // change the transport while not playing.
        if target.presentation != existing.presentation {
            return Err(Refusal::AggregateNotAllowed);
        }
        let flavor = existing.flavor;
        let (delivery, reply_spec, watch) =
            negotiate(ctx, conn, &transport, flavor, existing.ssrc)?;
        existing
            .machine
            .lock()
            .apply(Command::Setup, playhead(&existing))?;
        effects.push(ConnEffect::Forget(existing.id));
        *existing.delivery.write() = Some(delivery);
        for (socket, rtcp) in watch {
            effects.push(ConnEffect::Watch {
                session: Arc::clone(&existing),
                socket,
                rtcp,
            });
        }
        return Ok(setup_reply(&existing, reply_spec));
    }
    let source = ctx.catalog.open(&target)?;
    if dialect == Dialect::Standard {
        rtp_capable(&source)?;
    }
    if !ctx.registry.has_room() || conn.sessions.len() >= MAX_SESSIONS_PER_CONNECTION {
        return Err(Refusal::ServiceUnavailable);
    }
    let flavor = match dialect {
        Dialect::Lab => Flavor::Lab,
        Dialect::Standard => Flavor::Standard,
    };
    let ssrc: u32 = rand::random();
    let (delivery, reply_spec, watch) = negotiate(ctx, conn, &transport, flavor, ssrc)?;
    let transport_desc = reply_spec
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let session = Session::new(
        SessionInit {
            id: ctx.registry.fresh_id(),
            peer: conn.peer,
            flavor,
            presentation: target.presentation.clone(),
            control_url: req.uri().to_owned(),
            ssrc,
            source: Arc::clone(&source),
            fps: ctx.config.fps,
            looping: ctx.config.looping,
            home: conn.link.clone(),
        },
        ctx.clock,
    );
    session
        .machine
        .lock()
        .apply(Command::Setup, playhead(&session))?;
    *session.delivery.write() = Some(delivery);
    let session = Arc::new(session);
    if flavor == Flavor::Lab {
        session.pinned.store(true, Ordering::Relaxed);
    }
    if ctx.registry.insert(Arc::clone(&session)).is_err() {
        return Err(Refusal::ServiceUnavailable);
    }
    conn.sessions.push(session.id);
    for (socket, rtcp) in watch {
        effects.push(ConnEffect::Watch {
            session: Arc::clone(&session),
            socket,
            rtcp,
        });
    }
    tracing::info!(
        session = session.id,
        peer = %conn.peer,
        media = %session.presentation,
        dialect = ?flavor,
        transport = %transport_desc,
        frames = ?source.total_frames(),
        "session start"
    );
    Ok(setup_reply(&session, reply_spec))
}

/// Standard clients need RFC 2435; a file it cannot carry is refused with the reason logged.
fn rtp_capable(source: &crate::source::Source) -> Result<(), Refusal> {
    match source.rtp_error() {
        Some(why) => {
            tracing::info!(file = source.name(), "refusing RTP/JPEG client: {why}");
            Err(Refusal::UnsupportedMedia(
                "RTP/JPEG (RFC 2435) cannot carry this file; restart the server with --transcode",
            ))
        }
        None => Ok(()),
    }
}

fn setup_reply(session: &Arc<Session>, spec: Option<TransportSpec>) -> Reply {
    let mut reply = Reply::ok().with_session(session);
    if let Some(spec) = spec {
        reply = reply.header("Transport", Transport::single(spec).to_string());
    }
    reply
}

type Watch = Vec<(std::net::UdpSocket, bool)>;

/// Pick the first transport alternative we can serve and set it up.
fn negotiate(
    ctx: &Ctx,
    conn: &ConnState,
    transport: &Transport,
    flavor: Flavor,
    ssrc: u32,
) -> Result<(Delivery, Option<TransportSpec>, Watch), Refusal> {
    let peer_ip: IpAddr = conn.peer.ip();
    for spec in &transport.0 {
        if spec.cast == Some(Cast::Multicast) {
            continue;
        }
        if spec.protocol.is_tcp() {
            if flavor == Flavor::Lab {
                continue;
            }
            let channels = spec
                .interleaved
                .unwrap_or_else(|| ChannelRange::pair(0, 1).unwrap_or(ChannelRange::single(0)));
            let rtp_channel = channels.first();
            let mut reply = spec.clone();
            reply.cast = Some(Cast::Unicast);
            reply.interleaved = Some(
                ChannelRange::pair(rtp_channel, rtp_channel.saturating_add(1)).unwrap_or(channels),
            );
            reply.ssrc = Some(ssrc);
            reply.mode = Some("PLAY".to_owned());
            reply.destination = None;
            return Ok((
                Delivery::Interleaved {
                    link: conn.link.clone(),
                    rtp_channel,
                },
                Some(reply),
                Vec::new(),
            ));
        }
        if !spec.protocol.is_rtp_over_udp() {
            continue;
        }
        let Some(client) = spec.client_port else {
            continue;
        };
        // RTP only ever goes to the RTSP peer: a `destination=` naming another host is ignored.
        let rtp_dest = SocketAddr::new(peer_ip, client.first());
        if flavor == Flavor::Lab {
            let socket = ctx
                .ports
                .single()
                .map_err(|_| Refusal::Internal("cannot open a UDP socket"))?;
            let watch_rtp = socket.try_clone().ok();
            let delivery = Delivery::Udp(UdpDelivery {
                rtp: Arc::new(socket),
                rtcp: None,
                rtp_dest,
                rtcp_dest: None,
            });
            let watch = watch_rtp.into_iter().map(|s| (s, false)).collect();
            // The lab reply has no Transport line (the lab client would not read it).
            return Ok((delivery, None, watch));
        }
        let pair = ctx
            .ports
            .allocate()
            .map_err(|_| Refusal::Internal("no free UDP port pair"))?;
        let server_rtp = pair.rtp_port();
        let rtcp_dest = client.rtcp().map(|p| SocketAddr::new(peer_ip, p));
        let mut watch = Vec::new();
        if let Ok(s) = pair.rtp.try_clone() {
            watch.push((s, false));
        }
        if let Ok(s) = pair.rtcp.try_clone() {
            watch.push((s, true));
        }
        let mut reply = spec.clone();
        reply.cast = Some(Cast::Unicast);
        reply.destination = None;
        reply.source = None;
        reply.server_port = PortRange::pair(server_rtp, server_rtp.saturating_add(1)).ok();
        reply.ssrc = Some(ssrc);
        reply.mode = Some("PLAY".to_owned());
        if reply.protocol == TransportProtocol::LabRtpUdp {
            reply.protocol = TransportProtocol::RtpAvp;
        }
        let delivery = Delivery::Udp(UdpDelivery {
            rtp: Arc::new(pair.rtp),
            rtcp: Some(Arc::new(pair.rtcp)),
            rtp_dest,
            rtcp_dest,
        });
        return Ok((delivery, Some(reply), watch));
    }
    Err(Refusal::UnsupportedTransport)
}
