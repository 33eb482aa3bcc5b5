//! Connection workers: a fixed number of threads, each running a mio event loop over many RTSP
//! connections, the sessions set up on them and one RTP/RTCP socket pair.
//!
//! Why an event loop per worker rather than a thread per connection: a client that opens a
//! connection and goes quiet (every standard client between requests, every vanished client
//! until its timeout) costs a table entry, not a thread stack.
//!
//! A worker also paces and sends its sessions' media itself, so a frame crosses no thread: the
//! poll timeout is the next frame deadline of its [`Playout`], and each wake-up sends every due
//! frame, UDP ones in one [`crate::server::runtime::udp::UdpBatch`], TCP-interleaved ones as
//! whole units on their connection's outbound queue (written in order, so a `$` frame can never
//! be torn by a reply and replies slot in between frames). The queue is bounded: a frame that
//! does not fit is dropped whole and counted, and the connection stays open. Threads are thus
//! spread by connection, not by stage; other threads reach a worker only with control messages
//! (a new connection, PLAY or PAUSE from another worker's connection, the end of a session).

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use std::os::fd::AsRawFd;

use mio::net::TcpStream;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token, Waker};

use crate::server::runtime::conn::{ConnState, Inbound};
use crate::server::runtime::playout::Playout;
use crate::server::runtime::published::FeedWatch;
use crate::server::runtime::send::{Conns, Output, MAX_OUTBOUND};
use crate::server::runtime::shared::session::{Delivery, EndReason, LiveSession, SessionId};
use crate::server::runtime::shared::Ctx;
use crate::server::runtime::shared::{ConnId, ConnLink, WorkerHandle, WorkerMsg, WorkerPorts};
use crate::server::runtime::timer::DeadlineTimer;

/// Token of the worker's waker.
const WAKER: Token = Token(0);
/// Token of the worker's RTP socket (NAT-opening junk from clients is drained there).
const RTP: Token = Token(1);
/// Token of the worker's RTCP socket.
const RTCP: Token = Token(2);
/// Token of the worker's frame-deadline timer.
const TIMER: Token = Token(3);
/// How often idle connections are checked.
const TICK: Duration = Duration::from_millis(500);
/// Most messages waiting in a worker's channel.
const CHANNEL_DEPTH: usize = 4096;
/// How long a shutting-down worker keeps flushing replies and BYEs.
const FLUSH_GRACE: Duration = Duration::from_millis(500);

/// What a worker thread runs; create with [`Worker::new`], then [`Worker::run`] on its thread.
pub struct Worker {
    poll: Poll,
    rx: Receiver<WorkerMsg>,
    handle: WorkerHandle,
    timer: DeadlineTimer,
}

impl Worker {
    /// A worker sending UDP from `ports`, and its handle.
    pub fn new(index: usize, ports: WorkerPorts) -> io::Result<(Self, WorkerHandle)> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        for (socket, token) in [(&ports.rtp, RTP), (&ports.rtcp, RTCP)] {
            poll.registry().register(
                &mut SourceFd(&socket.as_raw_fd()),
                token,
                Interest::READABLE,
            )?;
        }
        let timer = DeadlineTimer::new()?;
        if let Some(fd) = timer.raw_fd() {
            poll.registry()
                .register(&mut SourceFd(&fd), TIMER, Interest::READABLE)?;
        }
        let (tx, rx) = crossbeam_channel::bounded(CHANNEL_DEPTH);
        let handle = WorkerHandle {
            index,
            ports: Arc::new(ports),
            tx,
            waker,
        };
        Ok((
            Self {
                poll,
                rx,
                handle: handle.clone(),
                timer,
            },
            handle,
        ))
    }

    /// The event loop; returns after [`WorkerMsg::Shutdown`].
    pub fn run(self, ctx: Arc<Ctx>) {
        raise_priority(self.handle.index);
        let Worker {
            mut poll,
            rx,
            handle,
            mut timer,
        } = self;
        let output = Output::new(Arc::clone(&handle.ports), handle.index, ctx.clock);
        let mut state = Loop {
            playout: Playout::new(ctx.clock.origin()),
            ctx,
            handle,
            conns: HashMap::new(),
            pending: HashSet::new(),
            rtcp_routes: HashMap::new(),
            publisher_routes: HashMap::new(),
            output,
            due: Vec::new(),
            next_token: TIMER.0,
            shutdown_at: None,
        };
        let watch = Arc::new(FeedWatch::new(Arc::clone(&state.handle.waker)));
        state.playout.set_watch(Arc::clone(&watch));
        let mut events = Events::with_capacity(256);
        let mut last_tick = Instant::now();
        loop {
            // Sleep until the next frame deadline (the timer's, to the microsecond, where
            // there is one) or the next housekeeping tick.
            let now = Instant::now();
            let mut timeout = (last_tick + TICK).saturating_duration_since(now);
            if let Some(at) = state.playout.next_deadline() {
                if at <= now {
                    timeout = Duration::ZERO;
                } else if !timer.arm(at, now) {
                    timeout = timeout.min(at - now);
                }
            }
            if let Err(e) = poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    tracing::error!(worker = state.handle.index, error = %e, "poll failed");
                    break;
                }
            }
            for event in events.iter() {
                let token = event.token();
                if token == WAKER {
                    continue;
                }
                if token == TIMER {
                    timer.expired();
                    continue;
                }
                if state.conns.contains_key(&token.0) {
                    state.conn_event(
                        poll.registry(),
                        token.0,
                        event.is_readable(),
                        event.is_writable(),
                    );
                } else if token == RTP || token == RTCP {
                    state.udp_readable(token == RTCP);
                }
            }
            // Drain the channel after socket events: a PLAY handled above queued its order
            // here, so its first frame leaves in this same turn.
            while let Ok(msg) = rx.try_recv() {
                state.message(poll.registry(), msg);
            }
            if watch.take() {
                state.playout.wake_published(Instant::now());
            }
            state.send_due(Instant::now());
            state.flush_all(poll.registry());
            if last_tick.elapsed() >= TICK {
                last_tick = Instant::now();
                state.close_idle(poll.registry());
            }
            if let Some(at) = state.shutdown_at {
                if state.conns.values().all(|c| c.is_flushed()) || at.elapsed() > FLUSH_GRACE {
                    break;
                }
            }
        }
        let ids: Vec<ConnId> = state.conns.keys().copied().collect();
        for id in ids {
            state.close(poll.registry(), id, EndReason::Shutdown);
        }
    }
}

/// Ask the OS to run the calling thread ahead of ordinary threads (nice -10): a worker's
/// wake-ups are frame deadlines, and on a loaded machine this keeps them on time. Without the
/// privilege (CAP_SYS_NICE) the call fails and nothing changes.
fn raise_priority(worker: usize) {
    // SAFETY: gettid and setpriority take plain integers and touch no memory of ours.
    let ok = unsafe {
        let tid = libc::syscall(libc::SYS_gettid);
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, -10) == 0
    };
    tracing::debug!(worker, raised = ok, "connection worker priority");
}

struct Loop {
    ctx: Arc<Ctx>,
    handle: WorkerHandle,
    conns: HashMap<ConnId, ConnState>,
    /// Connections with new output since the last flush.
    pending: HashSet<ConnId>,
    /// UDP sessions by the address their RTCP comes from (the client's RTCP port).
    rtcp_routes: HashMap<SocketAddr, Arc<LiveSession>>,
    /// Publishers sending RTP over UDP to this worker's RTP port, by their source address.
    publisher_routes: HashMap<SocketAddr, Arc<LiveSession>>,
    playout: Playout,
    output: Output,
    /// Scratch list of what is due in one wake-up.
    due: Vec<(Arc<LiveSession>, crate::server::runtime::playout::Action)>,
    next_token: usize,
    shutdown_at: Option<Instant>,
}

impl Loop {
    fn token(&mut self) -> usize {
        // Tokens 0 to 3 are the waker, the UDP pair and the timer; ids are never reused while
        // the worker lives (usize will not wrap).
        self.next_token += 1;
        self.next_token
    }

    fn message(&mut self, registry: &Registry, msg: WorkerMsg) {
        match msg {
            WorkerMsg::Accept(stream, peer, secure) => self.accept(registry, stream, peer, secure),
            WorkerMsg::Resume(id) => self.resume(registry, id),
            WorkerMsg::Interleaved {
                conn,
                session,
                data,
                frame,
            } => match self.conns.get_mut(&conn) {
                Some(c) if c.outbound_len() + data.len() <= MAX_OUTBOUND => {
                    c.queue(data);
                    self.pending.insert(conn);
                }
                _ => {
                    if frame {
                        session.stats.frames_dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            },
            WorkerMsg::Play {
                session,
                from,
                until,
                epoch,
            } => self
                .playout
                .play(session, from, until, epoch, Instant::now()),
            WorkerMsg::Stop(id) => self.playout.stop(id),
            WorkerMsg::Watch(session) => {
                if let Some(Delivery::Udp(u)) = &*session.delivery.read() {
                    if let Some(from) = u.rtcp_dest {
                        self.rtcp_routes.insert(from, Arc::clone(&session));
                    }
                    let publishing = session.source.feed().and_then(|f| f.publisher());
                    if publishing == Some(session.id) {
                        self.publisher_routes
                            .insert(u.rtp_dest, Arc::clone(&session));
                    }
                }
            }
            WorkerMsg::Forget(session) => self.forget(session.id),
            WorkerMsg::End(session) => {
                self.playout.stop(session.id);
                self.forget(session.id);
                let mut conns = Conns {
                    map: &mut self.conns,
                    pending: &mut self.pending,
                };
                // Frames of earlier wake-ups are out already: the BYE comes after the last.
                self.output.bye(&session, &mut conns);
            }
            WorkerMsg::Shutdown => {
                self.shutdown_at = Some(Instant::now());
                for (id, c) in self.conns.iter_mut() {
                    c.close_after_flush = true;
                    self.pending.insert(*id);
                }
            }
        }
    }

    /// Stop routing RTCP to a session.
    fn forget(&mut self, id: SessionId) {
        self.rtcp_routes.retain(|_, s| s.id != id);
        self.publisher_routes.retain(|_, s| s.id != id);
    }

    /// Send every frame that is due.
    fn send_due(&mut self, now: Instant) {
        let mut due = std::mem::take(&mut self.due);
        self.playout.due(now, &mut due);
        let mut conns = Conns {
            map: &mut self.conns,
            pending: &mut self.pending,
        };
        for (session, action) in due.drain(..) {
            self.output.act(&session, action, &mut conns);
        }
        self.output.finish(&mut conns);
        self.due = due;
    }

    fn accept(
        &mut self,
        registry: &Registry,
        stream: std::net::TcpStream,
        peer: SocketAddr,
        secure: bool,
    ) {
        let tls = match (secure, &self.ctx.config.tls) {
            (false, _) => None,
            (true, Some(tls)) => match tls.identity.accept() {
                Ok(tls) => Some(tls),
                Err(e) => {
                    tracing::warn!(%peer, error = %e, "cannot start TLS; closing connection");
                    self.ctx.connection_closed(peer.ip());
                    return;
                }
            },
            (true, None) => {
                self.ctx.connection_closed(peer.ip());
                return;
            }
        };
        let id = self.token();
        if stream.set_nonblocking(true).is_err() {
            self.ctx.connection_closed(peer.ip());
            return;
        }
        let local = stream.local_addr().ok();
        let mut stream = TcpStream::from_std(stream);
        if let Err(e) = registry.register(&mut stream, Token(id), Interest::READABLE) {
            tracing::warn!(%peer, error = %e, "cannot watch connection");
            self.ctx.connection_closed(peer.ip());
            return;
        }
        let link = ConnLink {
            worker: self.handle.clone(),
            conn: id,
        };
        tracing::debug!(%peer, conn = id, worker = self.handle.index, "connection opened");
        self.conns
            .insert(id, ConnState::new(stream, peer, local, link, tls));
    }

    fn conn_event(&mut self, registry: &Registry, id: ConnId, readable: bool, writable: bool) {
        let mut close = None;
        if readable {
            close = self.read(registry, id);
        }
        if close.is_none() && writable {
            if let Some(c) = self.conns.get_mut(&id) {
                if c.flush(registry).is_err() || (c.close_after_flush && c.is_flushed()) {
                    close = Some(EndReason::ConnectionClosed);
                }
            }
        }
        if let Some(reason) = close {
            self.close(registry, id, reason);
        }
    }

    /// Read everything available, handling complete messages after each read (so a fast
    /// sender of `$` frames never piles up more than one read in the parser). Returns `Some`
    /// to close.
    fn read(&mut self, registry: &Registry, id: ConnId) -> Option<EndReason> {
        let mut buf = [0u8; 16 * 1024];
        let mut eof = false;
        loop {
            let conn = self.conns.get_mut(&id)?;
            if conn.refused || conn.parked.is_some() {
                // After an error reply the input is ignored until the connection closes; while
                // a request is parked, later input waits in the socket (read on resuming).
                break;
            }
            match conn.read_input(&mut buf) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    conn.last_activity = Instant::now();
                    let data = buf.get(..n).unwrap_or(&[]);
                    if conn.take_input(data).is_err() {
                        // Over the parser's limits: say so and hang up.
                        conn.refuse_oversized();
                        conn.close_after_flush = true;
                        break;
                    }
                    // The end of a read is the message boundary of the lab dialect, whose
                    // messages end where the peer's write ends.
                    self.drain_messages(registry, id);
                    if let Some(conn) = self.conns.get_mut(&id) {
                        conn.track_partial(Instant::now());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if e.kind() == io::ErrorKind::InvalidData && conn.secure() {
                        // A client that does not speak TLS, or one that refused our
                        // certificate: its business, logged once in a while per address.
                        let peer = conn.peer;
                        if let Some(held_back) = self.ctx.may_log(peer.ip()) {
                            tracing::warn!(%peer, error = %e, suppressed = held_back, "TLS failed; closing connection");
                        }
                    }
                    return Some(EndReason::ConnectionClosed);
                }
            }
        }
        let conn = self.conns.get_mut(&id)?;
        if conn.flush(registry).is_err() {
            return Some(EndReason::ConnectionClosed);
        }
        if eof || (conn.close_after_flush && conn.is_flushed()) {
            return Some(EndReason::ConnectionClosed);
        }
        None
    }

    /// Handle every complete message the connection's parser holds.
    fn drain_messages(&mut self, registry: &Registry, id: ConnId) {
        loop {
            let Some(conn) = self.conns.get_mut(&id) else {
                return;
            };
            if conn.refused || conn.parked.is_some() {
                return;
            }
            match conn.next_inbound() {
                Inbound::None => return,
                Inbound::Request(req) => {
                    let effects = crate::server::runtime::handler::handle(&self.ctx, conn, *req);
                    self.apply(registry, effects);
                }
                Inbound::Interleaved { channel, payload } => {
                    self.interleaved_from_client(id, channel, &payload);
                }
                Inbound::Malformed(reply) => {
                    conn.queue(reply);
                    conn.close_after_flush = true;
                    return;
                }
            }
        }
    }

    /// Handle a connection's parked request now that its media is loaded, then whatever the
    /// connection sent meanwhile.
    fn resume(&mut self, registry: &Registry, id: ConnId) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let Some(req) = conn.parked.take() else {
            return;
        };
        let effects = crate::server::runtime::handler::handle_authenticated(&self.ctx, conn, *req);
        self.apply(registry, effects);
        self.drain_messages(registry, id);
        if let Some(reason) = self.read(registry, id) {
            self.close(registry, id, reason);
        }
    }

    /// Carry out what the handler asked for.
    fn apply(
        &mut self,
        registry: &Registry,
        effects: Vec<crate::server::runtime::handler::ConnEffect>,
    ) {
        use crate::server::runtime::handler::ConnEffect;
        for effect in effects {
            // Routing belongs to the session's home worker, which may be another one (a
            // transport changed from another worker's connection).
            let (session, msg) = match effect {
                ConnEffect::Watch(session) => (Arc::clone(&session), WorkerMsg::Watch(session)),
                ConnEffect::Forget(session) => (Arc::clone(&session), WorkerMsg::Forget(session)),
            };
            if session.home.worker.index == self.handle.index {
                self.message(registry, msg);
            } else {
                let _ = session.home.worker.send(msg);
            }
        }
    }

    /// RTCP (odd channel) from a client over the RTSP connection.
    fn interleaved_from_client(&mut self, id: ConnId, channel: u8, payload: &[u8]) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        let Some(session) = conn.session_on_channel(&self.ctx, channel) else {
            return;
        };
        if channel % 2 == 1 {
            crate::server::runtime::rtcp::receive(&session, payload, &self.ctx.metrics);
        } else if let Some(feed) = session.source.feed() {
            session.touch();
            feed.receive(session.id, payload, self.ctx.clock.origin().elapsed());
        }
    }

    /// Datagrams on the worker's pair: RTCP goes to the session whose client it comes from;
    /// RTP from a publisher's announced port to its path; anything else on the RTP port
    /// (NAT-opening junk: ffmpeg, GStreamer, live555 all send some) is drained.
    fn udp_readable(&mut self, rtcp: bool) {
        let ports = Arc::clone(&self.handle.ports);
        let socket = if rtcp { &ports.rtcp } else { &ports.rtp };
        let mut buf = [0u8; 2048];
        // Bounded: a flood cannot keep the worker here forever.
        for _ in 0..256 {
            match socket.recv_from(&mut buf) {
                Ok((n, from)) => {
                    let Some(data) = buf.get(..n) else {
                        continue;
                    };
                    if rtcp {
                        self.route_rtcp(from, data);
                    } else if let Some(session) = self.publisher_routes.get(&from) {
                        if let Some(feed) = session.source.feed() {
                            session.touch();
                            feed.receive(session.id, data, self.ctx.clock.origin().elapsed());
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
    }

    /// Hand an RTCP packet to its session: the one whose client RTCP address sent it, or else
    /// the one of the sender's host that the packet reports on (a client sending from another
    /// port than it announced). Only a session's RTSP peer may speak for it.
    fn route_rtcp(&self, from: SocketAddr, data: &[u8]) {
        if let Some(session) = self.rtcp_routes.get(&from) {
            crate::server::runtime::rtcp::receive(session, data, &self.ctx.metrics);
            return;
        }
        let about = self.rtcp_routes.values().find(|s| {
            s.peer.ip() == from.ip()
                && matches!(
                    crate::server::runtime::wire::report_about(data, s.ssrc),
                    Some(Some(_))
                )
        });
        if let Some(session) = about {
            crate::server::runtime::rtcp::receive(session, data, &self.ctx.metrics);
        }
    }

    /// Write what other threads queued. Connections whose socket is full keep WRITABLE
    /// interest and continue in [`Loop::conn_event`].
    fn flush_all(&mut self, registry: &Registry) {
        let mut dead = Vec::new();
        for id in self.pending.drain() {
            let Some(c) = self.conns.get_mut(&id) else {
                continue;
            };
            let failed = c.flush(registry).is_err();
            if failed || (c.close_after_flush && c.is_flushed()) {
                dead.push(id);
            }
        }
        for id in dead {
            self.close(registry, id, EndReason::ConnectionClosed);
        }
    }

    fn close_idle(&mut self, registry: &Registry) {
        let timeout = self.ctx.config.session_timeout;
        let ctx = &self.ctx;
        let idle: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                // A request still arriving after the session timeout is a slowloris (or a
                // dead peer): cut it off whatever sessions the connection holds.
                c.partial_overdue(timeout)
                    || (!c.has_live_session(ctx) && c.last_activity.elapsed() > timeout)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in idle {
            tracing::debug!(conn = id, "closing idle connection");
            self.close(registry, id, EndReason::ConnectionClosed);
        }
    }

    fn close(&mut self, registry: &Registry, id: ConnId, reason: EndReason) {
        let Some(mut conn) = self.conns.remove(&id) else {
            return;
        };
        conn.close_notify();
        let _ = conn.flush(registry);
        let _ = registry.deregister(&mut conn.stream);
        self.ctx.connection_closed(conn.peer.ip());
        tracing::debug!(peer = %conn.peer, conn = id, "connection closed");
        for sid in conn.sessions.drain(..) {
            let Some(session) = self.ctx.registry.get(sid) else {
                continue;
            };
            session.pinned.store(false, Ordering::Relaxed);
            // Lab and interleaved sessions cannot reach their client any more; UDP sessions of
            // standard clients may be controlled from a new connection, so they live on until
            // their timeout (RFC 2326 sessions are not tied to a connection). A publisher's
            // session ends with its connection too: until it did, nobody else could publish on
            // its path, and a publisher that lost its connection has stopped.
            let on_this_conn = matches!(
                &*session.delivery.read(),
                Some(crate::server::runtime::shared::session::Delivery::Interleaved { link, .. }) if link.conn == id
            );
            let publishing = session.source.feed().and_then(|f| f.publisher()) == Some(session.id);
            if on_this_conn || publishing || session.dialect == crate::rtsp::Dialect::Lab {
                self.ctx.end_session(&session, reason);
            }
        }
    }
}
