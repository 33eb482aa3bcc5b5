//! Connection workers: a fixed number of threads, each running a mio event loop over many RTSP
//! connections and the UDP sockets of the sessions set up on them.
//!
//! Why an event loop per worker rather than a thread per connection: a client that opens a
//! connection and goes quiet (every standard client between requests, every vanished client
//! until its timeout) costs a table entry, not a thread stack.
//!
//! Each worker owns, for each connection, one outbound byte queue. RTSP replies and, for TCP
//! interleaved sessions, whole `$`-framed RTP frames (handed over by sender workers through the
//! worker's channel, with a mio `Waker`) are appended to it as complete units and written in
//! order, so a `$` frame can never be torn by a reply and replies slot in between frames. The
//! queue is bounded: a frame that does not fit is dropped whole and counted.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
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
use crate::server::runtime::shared::session::{EndReason, LiveSession};
use crate::server::runtime::shared::Ctx;
use crate::server::runtime::shared::{ConnId, ConnLink, WorkerHandle, WorkerMsg};

/// Token of the worker's waker.
const WAKER: Token = Token(0);
/// How often idle connections are checked.
const TICK: Duration = Duration::from_millis(500);
/// Most bytes queued for one connection; interleaved frames beyond it are dropped.
pub const MAX_OUTBOUND: usize = 4 << 20;
/// Most messages waiting in a worker's channel.
const CHANNEL_DEPTH: usize = 4096;
/// How long a shutting-down worker keeps flushing replies and BYEs.
const FLUSH_GRACE: Duration = Duration::from_millis(500);

/// What a worker thread runs; create with [`Worker::new`], then [`Worker::run`] on its thread.
pub struct Worker {
    poll: Poll,
    rx: Receiver<WorkerMsg>,
    handle: WorkerHandle,
}

impl Worker {
    /// A worker and its handle.
    pub fn new(index: usize) -> io::Result<(Self, WorkerHandle)> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let (tx, rx) = crossbeam_channel::bounded(CHANNEL_DEPTH);
        let handle = WorkerHandle { index, tx, waker };
        Ok((
            Self {
                poll,
                rx,
                handle: handle.clone(),
            },
            handle,
        ))
    }

    /// The event loop; returns after [`WorkerMsg::Shutdown`].
    pub fn run(self, ctx: Arc<Ctx>) {
        let Worker {
            mut poll,
            rx,
            handle,
        } = self;
        let mut state = Loop {
            ctx,
            handle,
            conns: HashMap::new(),
            pending: HashSet::new(),
            udp: HashMap::new(),
            next_token: 1,
            shutdown_at: None,
        };
        let mut events = Events::with_capacity(256);
        let mut last_tick = Instant::now();
        loop {
            if let Err(e) = poll.poll(&mut events, Some(TICK)) {
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
                if state.conns.contains_key(&token.0) {
                    state.conn_event(
                        poll.registry(),
                        token.0,
                        event.is_readable(),
                        event.is_writable(),
                    );
                } else if state.udp.contains_key(&token) {
                    state.udp_readable(token);
                }
            }
            // Drain the channel after socket events, so that a reply and the frames queued
            // meanwhile go out in one write.
            while let Ok(msg) = rx.try_recv() {
                state.message(poll.registry(), msg);
            }
            state.flush_all(poll.registry());
            if last_tick.elapsed() >= TICK {
                last_tick = Instant::now();
                state.close_idle(poll.registry());
            }
            if let Some(at) = state.shutdown_at {
                if state.conns.values().all(|c| c.outbound_len() == 0) || at.elapsed() > FLUSH_GRACE
                {
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

/// A session UDP socket watched for incoming packets.
struct WatchedUdp {
    /// The session's own socket (shared with its delivery, not a duplicate descriptor).
    socket: Arc<std::net::UdpSocket>,
    session: Arc<LiveSession>,
    rtcp: bool,
}

struct Loop {
    ctx: Arc<Ctx>,
    handle: WorkerHandle,
    conns: HashMap<ConnId, ConnState>,
    /// Connections that were handed data from other threads since the last flush.
    pending: HashSet<ConnId>,
    udp: HashMap<Token, WatchedUdp>,
    next_token: usize,
    shutdown_at: Option<Instant>,
}

impl Loop {
    fn token(&mut self) -> usize {
        // Token 0 is the waker; ids are never reused while the worker lives (usize will not wrap).
        self.next_token += 1;
        self.next_token
    }

    fn message(&mut self, registry: &Registry, msg: WorkerMsg) {
        match msg {
            WorkerMsg::Accept(stream, peer) => self.accept(registry, stream, peer),
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
            WorkerMsg::Forget(id) => {
                let tokens: Vec<Token> = self
                    .udp
                    .iter()
                    .filter(|(_, w)| w.session.id == id)
                    .map(|(t, _)| *t)
                    .collect();
                for t in tokens {
                    if let Some(w) = self.udp.remove(&t) {
                        let _ = registry.deregister(&mut SourceFd(&w.socket.as_raw_fd()));
                    }
                }
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

    fn accept(&mut self, registry: &Registry, stream: std::net::TcpStream, peer: SocketAddr) {
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
            .insert(id, ConnState::new(stream, peer, local, link));
    }

    fn conn_event(&mut self, registry: &Registry, id: ConnId, readable: bool, writable: bool) {
        let mut close = None;
        if readable {
            close = self.read(registry, id);
        }
        if close.is_none() && writable {
            if let Some(c) = self.conns.get_mut(&id) {
                if c.flush(registry).is_err() || (c.close_after_flush && c.outbound_len() == 0) {
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
            match conn.stream.read(&mut buf) {
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
                Err(_) => return Some(EndReason::ConnectionClosed),
            }
        }
        let conn = self.conns.get_mut(&id)?;
        if conn.flush(registry).is_err() {
            return Some(EndReason::ConnectionClosed);
        }
        if eof || (conn.close_after_flush && conn.outbound_len() == 0) {
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
            match effect {
                ConnEffect::Watch {
                    session,
                    socket,
                    rtcp,
                } => {
                    let token = Token(self.token());
                    let fd = socket.as_raw_fd();
                    if registry
                        .register(&mut SourceFd(&fd), token, Interest::READABLE)
                        .is_ok()
                    {
                        self.udp.insert(
                            token,
                            WatchedUdp {
                                socket,
                                session,
                                rtcp,
                            },
                        );
                    }
                }
                ConnEffect::Forget(sid) => self.message(registry, WorkerMsg::Forget(sid)),
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
        }
    }

    fn udp_readable(&mut self, token: Token) {
        let Some(w) = self.udp.get_mut(&token) else {
            return;
        };
        let mut buf = [0u8; 2048];
        // Bounded: a flood cannot keep the worker here forever.
        for _ in 0..64 {
            match w.socket.recv_from(&mut buf) {
                Ok((n, from)) => {
                    // Only the RTSP peer may speak for its session; NAT-opening junk on the RTP
                    // port (ffmpeg, GStreamer, live555 all send some) is ignored.
                    if w.rtcp && from.ip() == w.session.peer.ip() {
                        if let Some(data) = buf.get(..n) {
                            crate::server::runtime::rtcp::receive(
                                &w.session,
                                data,
                                &self.ctx.metrics,
                            );
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
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
            if failed || (c.close_after_flush && c.outbound_len() == 0) {
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
            // their timeout (RFC 2326 sessions are not tied to a connection).
            let on_this_conn = matches!(
                &*session.delivery.read(),
                Some(crate::server::runtime::shared::session::Delivery::Interleaved { link, .. }) if link.conn == id
            );
            if on_this_conn || session.dialect == crate::rtsp::Dialect::Lab {
                self.ctx.end_session(&session, reason);
                self.message(registry, WorkerMsg::Forget(sid));
            }
        }
    }
}
