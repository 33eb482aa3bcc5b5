//! Requests in, replies and session actions out.
//!
//! The decisions live in `crate::server` (sans-I/O): [`classify`] checks the request,
//! the [`SessionMachine`](crate::server::SessionMachine) table says what a command does in
//! the session's state, [`transport::choose`] picks the transport, [`Reply`] writes the answer
//! in the client's dialect. This module does what needs the runtime: looking sessions and media
//! up, routing media to the connection worker's ports, giving the session's worker its orders.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::rtsp::headers::{RtpInfo, RtpInfoEntry};
use crate::rtsp::{Dialect, Method, Request};
use crate::server::describe;
use crate::server::publish::{
    self, Classified, PublishConfig, PublishDenial, PublishIntent, PublishRequest, PublishRules,
    Publisher,
};
use crate::server::redirect::{self, Asked};
use crate::server::request::{applies_to, public_methods};
use crate::server::{
    classify, seek, state, transport, Command, Effect, Incoming, Intent, Playhead, Refusal, Reply,
    Route, SessionState, Target,
};

use crate::server::runtime::conn::ConnState;
use crate::server::runtime::metrics::{Redirected, RefusedSession, TransportLabel};
use crate::server::runtime::published::READER_POLL_FPS;
use crate::server::runtime::shared::session::{
    Delivery, EndReason, LiveSession, SessionId, SessionInit, UdpDelivery, NO_END,
};
use crate::server::runtime::shared::Ctx;
use crate::server::runtime::shared::{ConnLink, WorkerMsg};
use crate::server::runtime::source::Source;

/// Most sessions one connection may set up.
const MAX_SESSIONS_PER_CONNECTION: usize = 16;

/// What the connection worker must do besides sending the reply.
#[derive(Debug)]
pub enum ConnEffect {
    /// Route the session's incoming RTCP (its transport is set).
    Watch(Arc<LiveSession>),
    /// Stop routing the session's incoming RTCP (its transport is about to change).
    Forget(Arc<LiveSession>),
}

/// Handle one request from `conn`: queue the reply on the connection, return the side effects.
pub fn handle(ctx: &Ctx, conn: &mut ConnState, req: Request) -> Vec<ConnEffect> {
    let dialect = conn.dialect.unwrap_or(req.dialect());
    if let Some(denied) = authenticate(ctx, conn, &req, dialect) {
        conn.queue(denied.to_bytes(&req, dialect));
        return Vec::new();
    }
    handle_authenticated(ctx, conn, req)
}

/// Handle a request that passed authentication: a parked request resumes here, because its
/// credentials were checked once already (a Digest response is single-use, so a second check
/// would refuse it as a replay).
pub fn handle_authenticated(ctx: &Ctx, conn: &mut ConnState, req: Request) -> Vec<ConnEffect> {
    let mut effects = Vec::new();
    let dialect = conn.dialect.unwrap_or(req.dialect());
    if publish_rules(ctx).enabled() {
        let config = PublishConfig { publish: true };
        let reply = match publish::classify(&req, &config) {
            Ok(Classified::Read(_)) => None,
            Ok(Classified::Publish(p)) => Some(publish_request(ctx, conn, &req, p, &mut effects)),
            Err(refusal) => Some(Err(refusal)),
        };
        if let Some(reply) = reply {
            let reply = reply.unwrap_or_else(|refusal| {
                tracing::info!(peer = %conn.peer, method = req.method().as_str(), uri = %logged_uri(&req), "refused: {refusal}");
                Reply::refusal(&refusal)
            });
            tracing::debug!(peer = %conn.peer, method = req.method().as_str(), uri = %logged_uri(&req), status = reply.status_code().as_u16(), "request");
            conn.queue(reply.to_bytes(&req, dialect));
            return effects;
        }
    }
    if let Some(moved) = redirect(ctx, conn, &req, dialect) {
        conn.queue(moved.to_bytes(&req, dialect));
        return effects;
    }
    if must_wait_for_media(ctx, conn, &req) {
        conn.parked = Some(Box::new(req));
        return effects;
    }
    // A lab connection owns its session: its requests apply to it (see `applies_to`).
    let owned = match dialect {
        Dialect::Lab => conn.lab_session(ctx),
        Dialect::Standard => None,
    };
    let reply = match classify(&req)
        .and_then(|inc| dispatch(ctx, conn, &req, inc, dialect, owned, &mut effects))
    {
        Ok(reply) => reply,
        Err(refusal) => {
            tracing::info!(peer = %conn.peer, method = req.method().as_str(), uri = %logged_uri(&req), "refused: {refusal}");
            Reply::refusal(&refusal)
                .lab_session(owned.map_or_else(|| echoed_session(&req), SessionId::get))
        }
    };
    tracing::debug!(peer = %conn.peer, method = req.method().as_str(), uri = %logged_uri(&req), status = reply.status_code().as_u16(), "request");
    conn.queue(reply.to_bytes(&req, dialect));
    effects
}

/// A `302 Moved Temporarily` for a DESCRIBE, or a SETUP that would start a session, that
/// `Config::redirect` sends elsewhere (see `crate::server::redirect`). Lab clients cannot
/// follow a redirect and are served here.
fn redirect(ctx: &Ctx, conn: &ConnState, req: &Request, dialect: Dialect) -> Option<Reply> {
    if dialect != Dialect::Standard || !ctx.config.redirect.is_active() {
        return None;
    }
    let inc = classify(req).ok()?;
    let asked = match inc.intent {
        Intent::Describe => Asked::Describe,
        Intent::Setup(_) => Asked::Setup,
        _ => return None,
    };
    if inc.session.is_some() {
        return None;
    }
    let target = inc.target?;
    let moved = ctx
        .redirector
        .lock()
        .decide(asked, &target, ctx.registry.len())?;
    ctx.metrics.redirected(match moved.reason {
        redirect::Reason::Path => Redirected::path,
        redirect::Reason::Load => Redirected::load,
    });
    tracing::info!(peer = %conn.peer, method = req.method().as_str(), uri = %logged_uri(req), location = %moved.location, reason = moved.reason.as_str(), "redirected");
    Some(
        Reply::status(crate::server::runtime::conn::status(302)).header("Location", moved.location),
    )
}

/// Lab clients read the session from line 3 even in errors: echo theirs.
/// The request-URI as logged: a client that put credentials in its URL (against RFC 2326, which
/// keeps them in `Authorization`) must not get its password into the server's logs.
fn logged_uri(req: &Request) -> std::borrow::Cow<'_, str> {
    crate::rtsp::url::without_userinfo(req.uri())
}

/// Whether `req` needs a file that is not loaded yet, or a relayed path's upstream that has
/// not sent a frame yet. A loader (or the relay) then resumes the connection
/// ([`WorkerMsg::Resume`]), so the worker never reads and packetizes a file, or waits for an
/// upstream, while its other connections wait.
fn must_wait_for_media(ctx: &Ctx, conn: &ConnState, req: &Request) -> bool {
    let Ok(inc) = classify(req) else {
        return false;
    };
    let (Intent::Describe | Intent::Setup(_), Some(target)) = (&inc.intent, &inc.target) else {
        return false;
    };
    let link = conn.link.clone();
    let resume = Box::new(move || {
        // A full queue leaves the request parked; the idle-connection check closes it.
        let _ = link.worker.send(WorkerMsg::Resume(link.conn));
    });
    if let Some(relay) = ctx.relays.get(&target.presentation) {
        return relay.must_wait(ctx.clock.origin().elapsed(), resume);
    }
    if ctx.published.get(&target.presentation).is_some() {
        return false;
    }
    if ctx.for_origin(target) {
        return match ctx.relays.of_origin(&target.presentation, &ctx.published) {
            Ok((relay, created)) => {
                // The demand comes before the thread, which ends a relay nobody wants.
                let wait = relay.must_wait(ctx.clock.origin().elapsed(), resume);
                if created {
                    crate::server::runtime::relay::start(relay, ctx);
                }
                wait
            }
            // Answered by `relay_unavailable`.
            Err(_) => false,
        };
    }
    !ctx.catalog.prefetch(target, resume)
}

fn echoed_session(req: &Request) -> u64 {
    req.headers()
        .typed::<crate::rtsp::headers::Session>()
        .and_then(Result::ok)
        .and_then(|s| s.id_number())
        .unwrap_or(0)
}

/// With authentication on, the reply refusing `req`, or `None` to serve it.
///
/// OPTIONS is served without credentials, as most RTSP servers do: it reveals nothing but the
/// method list, ffmpeg gives up on a failed OPTIONS before it ever sees a challenge, and
/// clients use it as a keep-alive. Every other method needs credentials, checked on every
/// request (RTSP sessions outlive connections, so a connection is never "logged in"). Lab
/// clients cannot authenticate at all: they get a lab-shaped 401.
fn authenticate(ctx: &Ctx, conn: &mut ConnState, req: &Request, dialect: Dialect) -> Option<Reply> {
    let auth = ctx.auth.as_ref()?;
    let unauthorized = crate::server::runtime::conn::status(401);
    if dialect == Dialect::Lab {
        ctx.metrics.auth_failed();
        if let Some(held_back) = ctx.may_log(conn.peer.ip()) {
            tracing::warn!(peer = %conn.peer, suppressed = held_back, "authentication failed: lab-dialect clients cannot authenticate");
        }
        return Some(Reply::status(unauthorized).lab_session(echoed_session(req)));
    }
    if *req.method() == Method::Options {
        return None;
    }
    let values: Vec<&str> = req.headers().get_all("Authorization").collect();
    let now = ctx.clock.origin().elapsed();
    let verdict = auth
        .lock()
        .check(req.method().as_str(), req.uri(), &values, now);
    match verdict {
        Ok(user) => {
            if conn.user.as_deref() != Some(user.as_str()) {
                tracing::debug!(peer = %conn.peer, user, "authenticated");
                conn.user = Some(user);
            }
            None
        }
        Err(failure) => {
            // A client's first request without credentials is the normal start of the
            // handshake, not worth a warning.
            if !values.is_empty() {
                ctx.metrics.auth_failed();
                if let Some(held_back) = ctx.may_log(conn.peer.ip()) {
                    tracing::warn!(
                        peer = %conn.peer,
                        user = failure.user.as_deref().unwrap_or("-"),
                        method = req.method().as_str(),
                        reason = failure.reason,
                        suppressed = held_back,
                        "authentication failed"
                    );
                }
            }
            let status = crate::server::runtime::conn::status(failure.challenge.status);
            Some(
                failure
                    .challenge
                    .www_authenticate
                    .into_iter()
                    .fold(Reply::status(status), |r, v| {
                        r.header("WWW-Authenticate", v)
                    }),
            )
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn dispatch(
    ctx: &Ctx,
    conn: &mut ConnState,
    req: &Request,
    inc: Incoming,
    dialect: Dialect,
    owned: Option<SessionId>,
    effects: &mut Vec<ConnEffect>,
) -> Result<Reply, Refusal> {
    let session = match applies_to(&inc, dialect, owned)? {
        // OPTIONS always succeeds (ffmpeg gives up on a failed OPTIONS, and uses `OPTIONS *`
        // with its Session as a keep-alive): an unknown session there is just ignored.
        Some(id) if inc.intent == Intent::Options => find_session(ctx, conn, id).ok(),
        Some(id) => Some(find_session(ctx, conn, id)?),
        None => None,
    };
    if let Some(s) = &session {
        s.touch();
    }
    if session.is_none() && ctx.draining.load(Ordering::Acquire) {
        if let Some(refused) = draining_refusal(&inc.intent) {
            ctx.metrics.session_refused(RefusedSession::draining);
            return Ok(refused);
        }
    }
    match inc.intent {
        Intent::Options => {
            let reply = Reply::ok().header("Public", public_methods());
            Ok(match &session {
                Some(s) => with_session(ctx, reply, s),
                None => reply,
            })
        }
        Intent::Describe => {
            let target = inc.target.ok_or(Refusal::NotFound)?;
            describe(
                ctx,
                conn,
                req,
                &target,
                dialect,
                session.as_ref(),
                inc.session,
            )
        }
        Intent::Setup(t) => {
            let target = inc.target.ok_or(Refusal::NotFound)?;
            setup(ctx, conn, req, &target, &t, dialect, session, effects)
        }
        Intent::Control(command) => match session {
            Some(s) => control(ctx, conn, inc.target.as_ref(), s, command),
            None => {
                // No session, which only a request that needs none gets this far with (a
                // GET_PARAMETER / SET_PARAMETER liveness test): the INIT row of the table.
                let head = Playhead {
                    next_frame: 0,
                    total_frames: None,
                    fps: ctx.config.fps,
                };
                state::outcome(SessionState::Init, command, head)?;
                Ok(Reply::ok())
            }
        },
    }
}

/// While draining, what a request that would start a new session (DESCRIBE or SETUP outside
/// any session) gets: 503 with a `Retry-After` long enough for a balancer's health check to
/// have taken this server out. A client that follows it lands on another server.
fn draining_refusal(intent: &Intent) -> Option<Reply> {
    const RETRY_AFTER_S: &str = "30";
    matches!(intent, Intent::Describe | Intent::Setup(_)).then(|| {
        Reply::status(crate::server::runtime::conn::status(503))
            .header("Retry-After", RETRY_AFTER_S)
    })
}

/// The session `id`, checked to belong to this peer's address.
fn find_session(ctx: &Ctx, conn: &ConnState, id: SessionId) -> Result<Arc<LiveSession>, Refusal> {
    let session = ctx.registry.get(id).ok_or(Refusal::SessionNotFound)?;
    // Another host knowing (or guessing) the id gains nothing.
    if session.peer.ip() != conn.peer.ip() {
        tracing::warn!(peer = %conn.peer, session = id.get(), owner = %session.peer, "session id used from another address");
        return Err(Refusal::SessionNotFound);
    }
    Ok(session)
}

fn with_session(ctx: &Ctx, reply: Reply, s: &LiveSession) -> Reply {
    let timeout = u32::try_from(ctx.config.session_timeout.as_secs()).unwrap_or(u32::MAX);
    reply
        .session(s.id, Some(timeout))
        .frames(s.source.total_frames())
}

/// Lab clients need every frame in one UDP datagram; a file with larger frames (not
/// re-encoded: no `--transcode`) is refused at SETUP with the reason logged.
fn lab_capable(source: &Source, conn: &ConnState) -> Result<(), Refusal> {
    match source.lab_error() {
        Some(why) => {
            tracing::warn!(peer = %conn.peer, file = source.name(), "refusing lab client: {why}");
            Err(Refusal::UnsupportedMedia(
                "whole-JPEG RTP (lab dialect) cannot carry frames larger than one UDP datagram; restart the server with --transcode",
            ))
        }
        None => Ok(()),
    }
}

/// A client announcing that it rebuilds frames from the JPEG header extension's SOF gets 4:4:4
/// and grayscale frames unchanged; any other would decode them as garbage.
fn reads_frame_header(req: &Request, source: Arc<Source>) -> Arc<Source> {
    let announced = req.headers().get_all("Supported").any(|v| {
        v.split(',')
            .any(|tag| tag.trim() == crate::jpeg::FRAME_HEADER_OPTION)
    });
    if announced {
        source.for_frame_header_reader()
    } else {
        source
    }
}

/// Standard clients need RFC 2435; a file it cannot carry is refused with the reason logged.
fn rtp_capable(source: &Source) -> Result<(), Refusal> {
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

fn describe(
    ctx: &Ctx,
    conn: &ConnState,
    req: &Request,
    target: &Target,
    dialect: Dialect,
    session: Option<&Arc<LiveSession>>,
    requested: Option<SessionId>,
) -> Result<Reply, Refusal> {
    if let Some(refused) = relay_unavailable(ctx, conn, target) {
        return Ok(refused);
    }
    let source = reads_frame_header(req, ctx.reader_source(target)?);
    if dialect == Dialect::Standard {
        rtp_capable(&source)?;
    }
    let sdp = describe::sdp(
        &source.presentation(ctx.config.fps),
        conn.local.map(|a| a.ip()),
        ctx.config.fps,
        ctx.sdp_session_id,
    );
    let reply = match session {
        Some(s) => with_session(ctx, Reply::ok(), s),
        None => Reply::ok()
            .lab_session(requested.map_or(0, SessionId::get))
            .frames(source.total_frames()),
    };
    Ok(reply
        .header(
            "Content-Base",
            describe::content_base(req.uri(), conn.local, &target.presentation, conn.secure()),
        )
        .content("application/sdp", sdp))
}

fn playhead(s: &LiveSession) -> Playhead {
    Playhead {
        next_frame: s.position.load(Ordering::Acquire),
        total_frames: s.source.total_frames(),
        fps: s.fps,
    }
}

/// PLAY, PAUSE, TEARDOWN, FORWARD, BACKWARD, RESTART and keep-alives on a session.
fn control(
    ctx: &Ctx,
    conn: &mut ConnState,
    target: Option<&Target>,
    session: Arc<LiveSession>,
    command: Command,
) -> Result<Reply, Refusal> {
    if let Some(t) = target {
        if t.presentation != session.presentation {
            return Err(Refusal::OnlyAggregateAllowed);
        }
    }
    let transition = session.machine.lock().apply(command, playhead(&session))?;
    let mut reply = with_session(ctx, Reply::ok(), &session);
    match transition.effect {
        // RTP-Info is read before pacing starts: the first frame may leave at once.
        Effect::StartPlaying { from, until } => {
            reply = play_headers(reply, &session, from, until);
            start_pacing(&session, from, until);
        }
        // A lab skip while playing keeps the PLAY's end.
        Effect::Seek { to } if transition.to == SessionState::Playing => {
            start_pacing(&session, to, session.until());
        }
        // Not playing: just move the position for the next PLAY.
        Effect::Seek { to } => session.position.store(to, Ordering::Release),
        Effect::Pause => {
            session.next_epoch();
            let _ = session.home.worker.send(WorkerMsg::Stop(session.id));
            tracing::debug!(
                session = session.id.get(),
                at = session.position.load(Ordering::Relaxed),
                "paused"
            );
        }
        Effect::Teardown => {
            ctx.end_session(&session, EndReason::Teardown);
            conn.sessions.retain(|id| *id != session.id);
        }
        Effect::None if matches!(command, Command::Play { .. }) => {
            let at = session.position.load(Ordering::Acquire);
            reply = play_headers(reply, &session, at, session.until());
        }
        Effect::None | Effect::Establish | Effect::ChangeTransport => {}
    }
    Ok(reply)
}

/// Give the session's home worker its order; on this connection's own worker it is carried out
/// in the same loop turn, so the first frame leaves right after the reply.
fn start_pacing(session: &Arc<LiveSession>, from: u64, until: Option<u64>) {
    let epoch = session.next_epoch();
    session.position.store(from, Ordering::Release);
    session
        .play_until
        .store(until.unwrap_or(NO_END), Ordering::Release);
    let _ = session.home.worker.send(WorkerMsg::Play {
        session: Arc::clone(session),
        from,
        until,
        epoch,
    });
}

/// `Range` and `RTP-Info` of a PLAY reply. The Range is what will be played (RFC 2326 12.29):
/// from the first frame sent to the end of the range or the file.
fn play_headers(reply: Reply, s: &LiveSession, from: u64, until: Option<u64>) -> Reply {
    let range = match s.source.total_frames() {
        Some(total) => format!(
            "npt={:.3}-{:.3}",
            seek::npt_of_frame(from, s.fps),
            seek::npt_of_frame(until.map_or(total, |u| u.min(total)), s.fps)
        ),
        None => "npt=now-".to_owned(),
    };
    let info = RtpInfo(vec![RtpInfoEntry {
        url: s.control_url.clone(),
        seq: Some(s.rtp_seq.load(Ordering::Relaxed) as u16),
        rtptime: Some(s.rtp_timestamp(s.next_ticks.load(Ordering::Acquire))),
    }]);
    reply
        .header("Range", range)
        .header("RTP-Info", info.to_string())
}

#[allow(clippy::too_many_arguments)]
fn setup(
    ctx: &Ctx,
    conn: &mut ConnState,
    req: &Request,
    target: &Target,
    transports: &crate::rtsp::headers::Transport,
    dialect: Dialect,
    session: Option<Arc<LiveSession>>,
    effects: &mut Vec<ConnEffect>,
) -> Result<Reply, Refusal> {
    if let Some(existing) = session {
        // SETUP on an existing session: only the same presentation (it has one track), and
        // only to change the transport while not playing (a lab SETUP while playing is
        // acknowledged and changes nothing: see `state::outcome_in`).
        if target.presentation != existing.presentation {
            return Err(Refusal::AggregateNotAllowed);
        }
        let chosen = transport::choose(transports, existing.dialect == Dialect::Lab)?;
        let transition = existing
            .machine
            .lock()
            .apply(Command::Setup, playhead(&existing))?;
        if transition.effect != Effect::ChangeTransport {
            return Ok(with_session(ctx, Reply::ok(), &existing));
        }
        let (delivery, reply_transport) = open_route(
            conn,
            &existing.home,
            &chosen,
            existing.dialect,
            existing.ssrc,
        );
        effects.push(ConnEffect::Forget(Arc::clone(&existing)));
        *existing.delivery.write() = Some(delivery);
        effects.push(ConnEffect::Watch(Arc::clone(&existing)));
        let mut reply = with_session(ctx, Reply::ok(), &existing);
        if let Some(t) = reply_transport {
            reply = reply.header("Transport", t);
        }
        return Ok(reply);
    }
    if let Some(refused) = relay_unavailable(ctx, conn, target) {
        return Ok(refused);
    }
    let source = reads_frame_header(req, ctx.reader_source(target)?);
    match dialect {
        Dialect::Standard => rtp_capable(&source)?,
        Dialect::Lab => lab_capable(&source, conn)?,
    }
    let chosen = transport::choose(transports, dialect == Dialect::Lab)?;
    // Readers of a published path poll for its latest frame (see `published`).
    let fps = match source.feed() {
        Some(_) => READER_POLL_FPS,
        None => ctx.config.fps,
    };
    let (_, reply) = new_session(
        ctx,
        conn,
        req,
        &target.presentation,
        source,
        &chosen,
        fps,
        effects,
    )?;
    Ok(reply)
}

/// Create a session on this connection for `presentation`, with its route opened: the session
/// and the SETUP reply.
#[allow(clippy::too_many_arguments)]
fn new_session(
    ctx: &Ctx,
    conn: &mut ConnState,
    req: &Request,
    presentation: &str,
    source: Arc<Source>,
    chosen: &transport::Chosen,
    fps: f64,
    effects: &mut Vec<ConnEffect>,
) -> Result<(Arc<LiveSession>, Reply), Refusal> {
    let dialect = conn.dialect.unwrap_or(req.dialect());
    if !ctx.registry.has_room() || conn.sessions.len() >= MAX_SESSIONS_PER_CONNECTION {
        return Err(Refusal::ServiceUnavailable);
    }
    let ssrc: u32 = rand::random();
    let (delivery, reply_transport) = open_route(conn, &conn.link, chosen, dialect, ssrc);
    let session = LiveSession::new(
        SessionInit {
            id: ctx.registry.fresh_id(),
            peer: conn.peer,
            dialect,
            presentation: presentation.to_owned(),
            control_url: req.uri().to_owned(),
            ssrc,
            source: Arc::clone(&source),
            fps,
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
    if dialect == Dialect::Lab {
        // The lab protocol has no keep-alive: the session lives as long as the connection.
        session.pinned.store(true, Ordering::Relaxed);
    }
    if ctx.registry.insert(Arc::clone(&session)).is_err() {
        return Err(Refusal::ServiceUnavailable);
    }
    conn.sessions.push(session.id);
    effects.push(ConnEffect::Watch(Arc::clone(&session)));
    tracing::info!(
        session = session.id.get(),
        peer = %conn.peer,
        user = conn.user.as_deref().unwrap_or("-"),
        media = %session.presentation,
        dialect = ?dialect,
        transport = reply_transport.as_deref().unwrap_or("lab RTP/UDP"),
        frames = ?source.total_frames(),
        "session start"
    );
    ctx.metrics.session_started(
        dialect,
        TransportLabel::of(session.delivery.read().as_ref()),
    );
    let mut reply = with_session(ctx, Reply::ok(), &session);
    if let Some(t) = reply_transport {
        reply = reply.header("Transport", t);
    }
    Ok((session, reply))
}

/// For a relayed path whose upstream sends nothing now: 503 with the reason in a text body.
/// Readers set up earlier keep their sessions; new ones are told to come back.
fn relay_unavailable(ctx: &Ctx, conn: &ConnState, target: &Target) -> Option<Reply> {
    let why = match ctx.relays.get(&target.presentation) {
        Some(relay) => relay.available().err()?,
        None if ctx.for_origin(target) && ctx.relays.origin_full() => {
            "this server relays as many paths from its origin as it may"
        }
        None => return None,
    };
    tracing::info!(peer = %conn.peer, media = %target.presentation, "refused: {why}");
    Some(Reply::status(crate::server::runtime::conn::status(503)).content("text/plain", why))
}

/// The reply refusing a second publisher (or a publisher of a file): 455 with the reason in a
/// text body, which the generic refusal does not carry.
fn refuse_publisher(why: &'static str) -> Reply {
    Reply::status(crate::server::runtime::conn::status(455)).content("text/plain", why)
}

/// What the configuration says may be published.
fn publish_rules(ctx: &Ctx) -> PublishRules<'_> {
    PublishRules {
        any_path: ctx.config.publish,
        paths: &ctx.config.publish_paths,
    }
}

/// The refusal of a publishing request on `path` by this connection's user, or `None` to go
/// on: 405 for a path that may not be published, 403 for a user who may not publish it (the
/// user did log in: a 401 would make clients ask for other credentials instead of reporting
/// the refusal). The reason goes in a text body and an `info` log line.
fn refuse_publishing(ctx: &Ctx, conn: &ConnState, req: &Request, path: &str) -> Option<Reply> {
    let who = match (ctx.auth.as_ref(), conn.user.as_deref()) {
        (None, _) => Publisher::Anyone,
        (Some(auth), Some(name)) => Publisher::User {
            name,
            marked: auth.lock().may_publish(name),
        },
        // Authentication passed without a user: nobody the rules can admit.
        (Some(_), None) => Publisher::User {
            name: "",
            marked: false,
        },
    };
    let (code, why) = match publish_rules(ctx).decide(path, who).err()? {
        PublishDenial::NotPublishable(why) => (405, why),
        PublishDenial::Forbidden(why) => (403, why),
    };
    tracing::info!(
        peer = %conn.peer,
        user = conn.user.as_deref().unwrap_or("-"),
        method = req.method().as_str(),
        uri = %logged_uri(req),
        status = code,
        "refused: {why}"
    );
    let mut reply =
        Reply::status(crate::server::runtime::conn::status(code)).content("text/plain", why);
    if code == 405 {
        reply = reply.header("Allow", crate::server::request::public_methods());
    }
    Some(reply)
}

/// ANNOUNCE, SETUP `mode=record` and RECORD (with `Config::publish`).
fn publish_request(
    ctx: &Ctx,
    conn: &mut ConnState,
    req: &Request,
    p: PublishRequest,
    effects: &mut Vec<ConnEffect>,
) -> Result<Reply, Refusal> {
    let target = p.target.as_ref();
    // SETUP and RECORD act on the path announced on this connection.
    let path = match (&p.intent, &conn.announced) {
        (PublishIntent::Announce(_), _) | (_, None) => target.map(|t| t.presentation.as_str()),
        (_, Some((announced, _))) => Some(announced.as_str()),
    };
    if let Some(refused) = path.and_then(|path| refuse_publishing(ctx, conn, req, path)) {
        return Ok(refused);
    }
    match p.intent {
        PublishIntent::Announce(announcement) => {
            let target = target.ok_or(Refusal::NotFound)?;
            if target.is_test_source() || target.has_mjpeg_extension() {
                return Ok(refuse_publisher(
                    "files and the test source cannot be published to",
                ));
            }
            if ctx.relays.get(&target.presentation).is_some() {
                return Ok(refuse_publisher(
                    "this path is relayed from an upstream server",
                ));
            }
            let busy = ctx.published.get(&target.presentation);
            if busy.is_some_and(|source| ctx.is_published(&source)) {
                return Ok(refuse_publisher("this path already has a publisher"));
            }
            conn.announced = Some((target.presentation.clone(), announcement.control));
            Ok(Reply::ok())
        }
        PublishIntent::Setup(transports) => {
            let target = target.ok_or(Refusal::NotFound)?;
            if p.session.is_some() {
                return Err(Refusal::AggregateNotAllowed);
            }
            let not_announced = Refusal::MethodNotValidInState {
                method: "SETUP",
                state: SessionState::Init,
            };
            let (path, control) = conn.announced.clone().ok_or(not_announced)?;
            let stream_url = control.map(|c| format!("{path}/{c}"));
            if target.presentation != path && Some(&target.presentation) != stream_url.as_ref() {
                return Err(not_announced);
            }
            let chosen = transport::choose(&transports, false)?;
            let source = ctx
                .published
                .get_or_create(&path)
                .ok_or(Refusal::ServiceUnavailable)?;
            let Some(feed) = source.feed().cloned() else {
                return Err(Refusal::Internal("a published path without a feed"));
            };
            if ctx.is_published(&source) {
                return Ok(refuse_publisher("this path already has a publisher"));
            }
            let fps = ctx.config.fps;
            let (session, reply) =
                new_session(ctx, conn, req, &path, source, &chosen, fps, effects)?;
            if !feed.claim(session.id, |id| ctx.registry.get(id).is_some()) {
                ctx.end_session(&session, EndReason::Teardown);
                conn.sessions.retain(|id| *id != session.id);
                return Ok(refuse_publisher("this path already has a publisher"));
            }
            tracing::info!(session = session.id.get(), media = %path, "publisher set up");
            Ok(reply)
        }
        PublishIntent::Record => {
            let id = p.session.ok_or(Refusal::SessionNotFound)?;
            let session = find_session(ctx, conn, id)?;
            session.touch();
            let publishing = session
                .source
                .feed()
                .and_then(|f| f.publisher())
                .is_some_and(|p| p == session.id);
            if !publishing {
                return Err(Refusal::MethodNotValidInState {
                    method: "RECORD",
                    state: session.machine.lock().state(),
                });
            }
            session
                .machine
                .lock()
                .apply(Command::Play { range: None }, playhead(&session))?;
            tracing::info!(session = session.id.get(), media = %session.presentation, "recording");
            Ok(with_session(ctx, Reply::ok(), &session))
        }
    }
}

/// Where the chosen route sends: UDP from the home worker's port pair (a session opens no
/// socket of its own, so SETUP cannot run out of descriptors or ports), interleaved on this
/// connection. RTP only ever goes to the RTSP peer's own address.
fn open_route(
    conn: &ConnState,
    home: &ConnLink,
    chosen: &transport::Chosen,
    dialect: Dialect,
    ssrc: u32,
) -> (Delivery, Option<String>) {
    let peer_ip = conn.peer.ip();
    match chosen.route {
        Route::Interleaved { rtp_channel } => (
            Delivery::Interleaved {
                link: conn.link.clone(),
                rtp_channel,
            },
            Some(transport::reply(chosen, None, ssrc).to_string()),
        ),
        // The lab reply has no Transport line: the lab client reads lines by position.
        Route::Udp { rtp_port, .. } if dialect == Dialect::Lab => (
            Delivery::Udp(UdpDelivery {
                rtp_dest: SocketAddr::new(peer_ip, rtp_port),
                rtcp_dest: None,
            }),
            None,
        ),
        Route::Udp {
            rtp_port,
            rtcp_port,
        } => {
            let server_port = home.worker.ports.rtp_port();
            let reply = transport::reply(chosen, Some(server_port), ssrc).to_string();
            let delivery = Delivery::Udp(UdpDelivery {
                rtp_dest: SocketAddr::new(peer_ip, rtp_port),
                rtcp_dest: rtcp_port.map(|p| SocketAddr::new(peer_ip, p)),
            });
            (delivery, Some(reply))
        }
    }
}
