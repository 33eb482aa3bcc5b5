//! The acceptor: takes new TCP connections and deals them out to the connection workers.

use std::io::{self, Write as _};
use std::net::TcpListener;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token, Waker};

use crate::server::runtime::metrics::RefusedConnection;
use crate::server::runtime::proxied::{self, Outcome, PendingHeaders};
use crate::server::runtime::shared::Ctx;
use crate::server::runtime::shared::WorkerMsg;

const LISTENER: Token = Token(0);
const STOP: Token = Token(1);
/// First token of the connections waiting for a PROXY protocol header.
const FIRST_PENDING: usize = 2;

/// The acceptor thread's state.
pub struct Acceptor {
    poll: Poll,
    listener: mio::net::TcpListener,
    /// With the PROXY protocol on, connections waiting for their header.
    pending: Option<PendingHeaders>,
    /// The `rtsps://` listener: its connections speak TLS.
    secure: bool,
}

impl Acceptor {
    /// An acceptor for `listener` (`secure`: the TLS one) and the waker that stops it.
    pub fn new(listener: TcpListener, secure: bool, ctx: &Ctx) -> io::Result<(Self, Arc<Waker>)> {
        listener.set_nonblocking(true)?;
        let poll = Poll::new()?;
        let mut listener = mio::net::TcpListener::from_std(listener);
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), STOP)?);
        let pending = ctx
            .config
            .proxy_protocol
            .then(|| PendingHeaders::new(FIRST_PENDING, ctx.config.max_connections));
        Ok((
            Self {
                poll,
                listener,
                pending,
                secure,
            },
            waker,
        ))
    }

    /// Accept until woken by the stop waker.
    pub fn run(mut self, ctx: Arc<Ctx>) {
        let mut events = Events::with_capacity(16);
        let mut next = 0usize;
        loop {
            let timeout = self
                .pending
                .as_ref()
                .and_then(|p| p.timeout(Instant::now()));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                tracing::error!(error = %e, "acceptor poll failed");
                return;
            }
            if events.iter().any(|e| e.token() == STOP) || ctx.shutting_down.load(Ordering::Acquire)
            {
                return;
            }
            self.headers_in(&ctx, &events, &mut next);
            loop {
                match self.listener.accept() {
                    Ok((stream, peer)) => {
                        // mio streams convert back to std ones for the hand-over.
                        let stream = std_stream(stream);
                        match self.pending.as_mut() {
                            Some(pending) => {
                                if !proxied::trusted(&ctx.config.trusted_proxies, peer.ip()) {
                                    refuse_untrusted(&ctx, peer, "not a trusted proxy");
                                } else if !pending.add(self.poll.registry(), stream, peer) {
                                    tracing::warn!(%peer, "too many connections waiting for a PROXY header; closing new connection");
                                }
                            }
                            None => admit(&ctx, stream, peer, self.secure, &mut next),
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        // EMFILE and friends: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        std::thread::sleep(Duration::from_millis(50));
                        break;
                    }
                }
            }
        }
    }

    /// Admit the connections whose PROXY header came in, under their client's address, and
    /// close those whose header is bad or overdue.
    fn headers_in(&mut self, ctx: &Ctx, events: &Events, next: &mut usize) {
        let Some(pending) = self.pending.as_mut() else {
            return;
        };
        let registry = self.poll.registry();
        for token in events.iter().map(|e| e.token()) {
            if !pending.owns(token) {
                continue;
            }
            match pending.readable(registry, token) {
                Outcome::Waiting => {}
                Outcome::Ready(stream, client) => admit(ctx, stream, client, self.secure, next),
                Outcome::Refused(peer, why) => refuse_untrusted(ctx, peer, &why),
            }
        }
        for peer in pending.expire(registry, Instant::now()) {
            refuse_untrusted(ctx, peer, "no PROXY header in time");
        }
    }
}

/// Count the connection from `peer` (the client, behind a balancer) against the limits and
/// hand it to a connection worker.
fn admit(
    ctx: &Ctx,
    stream: std::net::TcpStream,
    peer: std::net::SocketAddr,
    secure: bool,
    next: &mut usize,
) {
    if ctx.connections.load(Ordering::Acquire) >= ctx.config.max_connections {
        tracing::warn!(%peer, "connection limit reached; closing new connection");
        ctx.metrics
            .connection_refused(RefusedConnection::max_connections);
        return;
    }
    if !ctx.connection_opened(peer.ip()) {
        refuse_over_address_limit(ctx, stream, peer);
        return;
    }
    tune(&stream);
    let n = ctx.workers.len().max(1);
    let Some(worker) = ctx.workers.get(*next % n) else {
        ctx.connection_closed(peer.ip());
        return;
    };
    *next = next.wrapping_add(1);
    if worker
        .send(WorkerMsg::Accept(stream, peer, secure))
        .is_err()
    {
        ctx.connection_closed(peer.ip());
        tracing::warn!(%peer, "connection worker busy; closing new connection");
    }
}

/// A connection refused by the PROXY protocol rules is closed without a word: whoever sent it
/// is not a client, and a reply would only tell a scanner what listens here.
fn refuse_untrusted(ctx: &Ctx, peer: std::net::SocketAddr, why: &str) {
    ctx.metrics
        .connection_refused(RefusedConnection::proxy_protocol);
    if let Some(held_back) = ctx.may_log(peer.ip()) {
        tracing::warn!(%peer, suppressed = held_back, "PROXY protocol: refusing connection: {why}");
    }
}

/// Say 503 (no request has been read, so no CSeq to echo) and hang up. The socket is fresh,
/// so the short reply fits its send buffer and the write does not block.
fn refuse_over_address_limit(ctx: &Ctx, stream: std::net::TcpStream, peer: std::net::SocketAddr) {
    ctx.metrics
        .connection_refused(RefusedConnection::per_address);
    if let Some(held_back) = ctx.may_log(peer.ip()) {
        tracing::warn!(
            %peer,
            limit = ctx.config.max_connections_per_address,
            suppressed = held_back,
            "per-address connection limit reached; refusing connection"
        );
    }
    let reply = format!(
        "RTSP/1.0 503 Service Unavailable\r\nServer: {}\r\nConnection: close\r\n\r\n",
        crate::server::reply::SERVER
    );
    let _ = (&stream).write_all(reply.as_bytes());
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

fn std_stream(stream: mio::net::TcpStream) -> std::net::TcpStream {
    stream.into()
}

fn tune(stream: &std::net::TcpStream) {
    // Replies are small and latency matters; interleaved frames are written whole anyway.
    let _ = stream.set_nodelay(true);
    // Detect peers that vanished without a FIN (a lab client's session lives as long as its
    // connection, so a dead peer must eventually close it).
    let sock = socket2::SockRef::from(stream);
    let ka = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(30))
        .with_interval(Duration::from_secs(10));
    let _ = sock.set_tcp_keepalive(&ka);
}
