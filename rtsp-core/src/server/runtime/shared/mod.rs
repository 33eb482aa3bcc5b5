//! What every runtime thread shares: the settings, the context, the live sessions and the
//! messages between threads. The thread modules (acceptor, connection workers, reaper) depend
//! on this module and never on each other.

mod messages;
pub mod session;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{Authenticator, LogLimiter, ServerAuth};
use crate::server::runtime::catalog::Catalog;
use crate::server::runtime::clock::Clock;
use crate::server::runtime::metrics::Metrics;
use crate::server::runtime::source::Source;
use crate::server::{Refusal, Target};

pub use messages::{ConnId, ConnLink, WorkerHandle, WorkerMsg, WorkerPorts};
use session::{EndReason, LiveSession, Registry};

/// Default of [`Config::max_connections_per_address`]: a quarter of the default connection
/// limit, so one host cannot take every slot, and still far above what one real host (even an
/// NVR recording many streams) opens. Load tests from one address raise it explicitly.
pub const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: usize = 256;

/// How often one address's auth failures (or refused connections) may be logged.
pub const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address the RTSP listener binds.
    pub bind: SocketAddr,
    /// Media root.
    pub media: PathBuf,
    /// Frames per second.
    pub fps: f64,
    /// Connection workers: each owns its connections and their sessions, and paces and sends
    /// their media itself.
    pub workers: usize,
    /// No longer used: media is sent by the connection workers (there is no sender pool any
    /// more). Kept so that existing configurations still build.
    pub senders: usize,
    /// Session timeout.
    pub session_timeout: Duration,
    /// Session limit.
    pub max_sessions: usize,
    /// Connection limit.
    pub max_connections: usize,
    /// Loop files.
    pub looping: bool,
    /// Re-encode frames RFC 2435 cannot carry.
    pub transcode: bool,
    /// First UDP port for RTP/RTCP pairs.
    pub rtp_port_base: u16,
    /// Connections one client address may hold at once (beyond: `503`, then close).
    pub max_connections_per_address: usize,
    /// RTSP authentication; `None` serves everyone.
    pub auth: Option<ServerAuth>,
    /// Every connection starts with a PROXY protocol (v1 or v2) header from a balancer, whose
    /// client address then stands for the peer everywhere (RTP destination, limits, logs,
    /// authentication throttling). A connection without a valid header is closed.
    pub proxy_protocol: bool,
    /// The balancers allowed to send PROXY headers; a connection from any other address is
    /// closed (with none listed, every connection is).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Where to serve Prometheus metrics and the health check over HTTP; `None`: nowhere.
    pub metrics: Option<SocketAddr>,
    /// Where to serve the MJPEG streams for browsers (`/stream/<path>`), the page that
    /// watches them (`/`) and its JSON (`/api/paths`) over HTTP; `None`: nowhere.
    pub http: Option<SocketAddr>,
    /// Accept publishers (ANNOUNCE, SETUP `mode=record`, RECORD) on any path that is not a
    /// file; off: ANNOUNCE and RECORD get 405.
    pub publish: bool,
    /// Paths publishable without `publish`, each with who may publish it.
    pub publish_paths: Vec<crate::server::publish::PublishPath>,
    /// Paths relayed from upstream RTSP servers or cameras.
    pub relays: Vec<crate::server::relay::RelaySpec>,
    /// How relays connect, let go and retry (its mode: the default of relays that name none).
    pub relay: crate::server::relay::RelayPolicy,
    /// Relay on demand any path that has no source here from this server; `None`: none.
    pub origin: Option<crate::server::runtime::relayed::Origin>,
    /// Also serve `rtsps://` (RTSP over TLS) on a second listener; `None`: plain RTSP only.
    pub tls: Option<TlsListener>,
    /// Requests answered `302 Moved Temporarily` instead: moved paths, and edges for new
    /// clients once the server holds too many sessions (nothing by default).
    pub redirect: crate::server::redirect::RedirectConfig,
}

/// The `rtsps://` listener: where it binds and the identity it presents.
#[derive(Debug, Clone)]
pub struct TlsListener {
    /// Address the TLS listener binds (port 322 by default, 0 for any free one).
    pub bind: SocketAddr,
    /// Certificate chain and private key.
    pub identity: crate::tls::ServerIdentity,
}

impl Config {
    /// The `rtsp-server` defaults (20 fps, 2 workers, 60 s session timeout, 256
    /// sessions, 1024 connections of which 256 per client address, RTP ports from 6970, no
    /// authentication) for `media` served on `bind`.
    pub fn new(bind: SocketAddr, media: impl Into<PathBuf>) -> Self {
        Self {
            bind,
            media: media.into(),
            fps: 20.0,
            workers: 2,
            senders: 2,
            session_timeout: Duration::from_secs(60),
            max_sessions: 256,
            max_connections: 1024,
            looping: false,
            transcode: false,
            rtp_port_base: 6970,
            max_connections_per_address: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
            auth: None,
            proxy_protocol: false,
            trusted_proxies: Vec::new(),
            metrics: None,
            http: None,
            publish: false,
            publish_paths: Vec::new(),
            relays: Vec::new(),
            relay: crate::server::relay::RelayPolicy::default(),
            origin: None,
            tls: None,
            redirect: crate::server::redirect::RedirectConfig::default(),
        }
    }
}

/// State shared by every thread.
pub struct Ctx {
    /// Settings.
    pub config: Config,
    /// Monotonic origin.
    pub clock: Clock,
    /// Live sessions.
    pub registry: Registry,
    /// Media files and the test source.
    pub catalog: Catalog,
    /// Connection workers.
    pub workers: Vec<WorkerHandle>,
    /// Open connections.
    pub connections: AtomicUsize,
    /// Open connections per client address (entries removed at zero, so bounded by the
    /// connection limit).
    pub per_address: parking_lot::Mutex<HashMap<IpAddr, usize>>,
    /// The authenticator, when authentication is on.
    pub auth: Option<parking_lot::Mutex<Authenticator>>,
    /// Rate limit of auth-failure and refused-connection log lines.
    pub log_limiter: parking_lot::Mutex<LogLimiter>,
    /// Set once shutdown has begun.
    pub shutting_down: AtomicBool,
    /// Set once draining has begun: no new sessions, the current ones play on.
    pub draining: AtomicBool,
    /// What `--metrics` exports.
    pub metrics: Metrics,
    /// SDP `o=` session id: the server's start time in NTP seconds (RFC 4566's suggestion),
    /// fixed for the server's life because a file's description does not change while it runs.
    pub sdp_session_id: u64,
    /// Paths publishers have sent to (with `Config::publish`).
    pub published: crate::server::runtime::published::Paths,
    /// This context, for the threads of relays made from the origin while serving.
    pub me: std::sync::Weak<Ctx>,
    /// Paths relayed from upstream servers (their sources are in `published`).
    pub relays: crate::server::runtime::relayed::Relays,
    /// The redirect decisions (`Config::redirect`) and the clients sent to each edge.
    pub redirector: parking_lot::Mutex<crate::server::redirect::Redirector>,
}

impl Ctx {
    /// Account for a new connection from `ip`; false (and nothing counted) when that address
    /// is at its limit.
    pub fn connection_opened(&self, ip: IpAddr) -> bool {
        let mut map = self.per_address.lock();
        let n = map.entry(ip).or_insert(0);
        if *n >= self.config.max_connections_per_address {
            if *n == 0 {
                map.remove(&ip);
            }
            return false;
        }
        *n += 1;
        self.connections.fetch_add(1, Ordering::AcqRel);
        true
    }

    /// Account for a closed connection from `ip`.
    pub fn connection_closed(&self, ip: IpAddr) {
        let _ = self
            .connections
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
        let mut map = self.per_address.lock();
        if let Some(n) = map.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&ip);
            }
        }
    }

    /// What a reader of `target` (an RTSP session, an HTTP viewer) gets: a relayed path's
    /// stream, the path's published stream while it has a publisher (or once had one: its
    /// readers stay), otherwise the file.
    pub fn reader_source(&self, target: &Target) -> Result<Arc<Source>, Refusal> {
        if let Some(relay) = self.relays.get(&target.presentation) {
            if relay.missing() {
                return Err(Refusal::NotFound);
            }
            return Ok(Arc::clone(relay.source()));
        }
        match self.published.get(&target.presentation) {
            Some(source) if self.is_published(&source) => Ok(source),
            Some(_) => Err(Refusal::NotFound),
            None => self.catalog.open(target),
        }
    }

    /// Whether a reader of `target` is served from the origin: one is configured and the
    /// path has no source here (no file, not the test source, not published or relayed).
    pub fn for_origin(&self, target: &Target) -> bool {
        self.relays.has_origin()
            && !target.is_test_source()
            && self.relays.get(&target.presentation).is_none()
            && self.published.get(&target.presentation).is_none()
            && !self.catalog.has_file(target)
    }

    /// Whether a publisher is sending to `source` now.
    pub fn is_published(&self, source: &Source) -> bool {
        source
            .feed()
            .and_then(|f| f.publisher())
            .is_some_and(|id| self.registry.get(id).is_some())
    }

    /// Whether a warning about `ip` may be logged now; `Some(n)` with the number held back.
    pub fn may_log(&self, ip: IpAddr) -> Option<u64> {
        let now = self.clock.origin().elapsed();
        self.log_limiter.lock().admit(ip, now)
    }

    /// End a session: its worker stops pacing it and says RTCP BYE after its last frame; log
    /// its statistics. Safe to call from several places and threads: only the first call does
    /// anything.
    pub fn end_session(&self, session: &Arc<LiveSession>, reason: EndReason) {
        if self.registry.remove(session.id).is_none() {
            return;
        }
        self.metrics.retire(&session.stats);
        session.next_epoch();
        session.closed.store(true, Ordering::Release);
        // Even if the worker's queue is full the session stops: its worker checks `closed`
        // before each frame. Only the BYE would be lost.
        let _ = session
            .home
            .worker
            .send(WorkerMsg::End(Arc::clone(session)));
        tracing::info!(
            session = session.id.get(),
            peer = %session.peer,
            media = %session.presentation,
            reason = reason.as_str(),
            "session end: {}",
            session.summary()
        );
        if let Some(c) = session.source.feed().and_then(|f| f.release(session.id)) {
            tracing::info!(
                session = session.id.get(),
                media = %session.presentation,
                packets = c.packets_received,
                bytes = c.bytes_received,
                frames = c.frames,
                dropped_not_rtp = c.dropped_not_rtp,
                dropped_payload_type = c.dropped_payload_type,
                dropped_foreign_source = c.dropped_foreign_source,
                dropped_flood = c.dropped_flood,
                frames_damaged = c.frames_damaged,
                frames_oversized = c.frames_oversized,
                "publisher left"
            );
        }
    }
}
