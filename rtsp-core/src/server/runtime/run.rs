//! Wiring: the shared context, thread start-up and orderly shutdown.
//!
//! Threads (none per session or per connection):
//! - the acceptor, which hands each new connection to the least-loaded connection worker;
//! - `--workers` connection workers ([`crate::server::runtime::worker`]), mio event loops for RTSP and RTCP;
//! - one pacing scheduler ([`crate::server::runtime::scheduler`]) with a heap of per-session deadlines;
//! - `--senders` sender workers ([`crate::server::runtime::sender`]) that put frames on the wire;
//! - one reaper that ends sessions without a sign of life for the session timeout.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use crate::auth::{Authenticator, LogLimiter, ServerAuth};
use crate::server::runtime::catalog::Catalog;
use crate::server::runtime::scheduler::{self, SchedMsg};
use crate::server::runtime::sender::{self, Batch, Job, JobKind};
use crate::server::runtime::session::{EndReason, LiveSession, Registry};
use crate::server::runtime::udp::PortAllocator;
use crate::server::runtime::worker::{Worker, WorkerHandle, WorkerMsg};
use crate::server::runtime::Clock;

/// Queue depth of each sender worker, in batches (one per pacing wake-up, plus control jobs).
const SENDER_QUEUE: usize = 4096;

/// Default of [`Config::max_connections_per_address`]: a quarter of the default connection
/// limit, so one host cannot take every slot, and still far above what one real host (even an
/// NVR recording many streams) opens. Load tests from one address raise it explicitly.
pub const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: usize = 256;

/// How often one address's auth failures (or refused connections) may be logged.
const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address the RTSP listener binds.
    pub bind: SocketAddr,
    /// Media root.
    pub media: PathBuf,
    /// Frames per second.
    pub fps: f64,
    /// Connection workers.
    pub workers: usize,
    /// Sender workers.
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
}

impl Config {
    /// The `rtsp-server` defaults (20 fps, 2 workers, 2 senders, 60 s session timeout, 256
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
    /// UDP port pairs.
    pub ports: PortAllocator,
    /// Control channel of the pacing scheduler.
    pub scheduler: Sender<SchedMsg>,
    /// Sender worker queues.
    pub senders: Vec<Sender<Option<Batch>>>,
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
    /// SDP `o=` session id: the server's start time in NTP seconds (RFC 4566's suggestion),
    /// fixed for the server's life because a file's description does not change while it runs.
    pub sdp_session_id: u64,
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

    /// Whether a warning about `ip` may be logged now; `Some(n)` with the number held back.
    pub fn may_log(&self, ip: IpAddr) -> Option<u64> {
        let now = self.clock.origin().elapsed();
        self.log_limiter.lock().admit(ip, now)
    }

    /// Queue a job on the session's own sender worker.
    pub fn send_job(&self, session: &Arc<LiveSession>, kind: JobKind) {
        let i = scheduler::sender_for(session.id, self.senders.len());
        if let Some(tx) = self.senders.get(i) {
            let _ = tx.try_send(Some(vec![Job {
                session: Arc::clone(session),
                kind,
            }]));
        }
    }

    /// End a session: stop pacing, say RTCP BYE, free its sockets, log its statistics. Safe to
    /// call from several places: only the first call does anything.
    pub fn end_session(&self, session: &Arc<LiveSession>, reason: EndReason) {
        if self.registry.remove(session.id).is_none() {
            return;
        }
        session.next_epoch();
        let _ = self.scheduler.send(SchedMsg::Stop(session.id));
        // BYE goes through the session's sender so it leaves after any frame already queued.
        self.send_job(session, JobKind::Bye);
        session.closed.store(true, Ordering::Release);
        let _ = session.home.worker.send(WorkerMsg::Forget(session.id));
        tracing::info!(
            session = session.id.get(),
            peer = %session.peer,
            media = %session.presentation,
            reason = reason.as_str(),
            "session end: {}",
            session.summary()
        );
    }
}

/// A running server.
pub struct Server {
    ctx: Arc<Ctx>,
    local_addr: SocketAddr,
    stop_acceptor: Arc<mio::Waker>,
    threads: Vec<JoinHandle<()>>,
    scheduler_thread: Option<JoinHandle<()>>,
    sender_threads: Vec<JoinHandle<()>>,
    reaper_stop: Sender<()>,
}

impl Server {
    /// Bind and start every thread.
    pub fn start(config: Config) -> io::Result<Self> {
        let listener = TcpListener::bind(config.bind)?;
        let local_addr = listener.local_addr()?;
        let clock = Clock::new();
        let catalog = Catalog::new(&config.media, config.fps, config.transcode, clock)?;

        let (sched_tx, sched_rx) = crossbeam_channel::unbounded();
        let mut sender_txs = Vec::new();
        let mut sender_rxs = Vec::new();
        for _ in 0..config.senders.max(1) {
            let (tx, rx) = crossbeam_channel::bounded(SENDER_QUEUE);
            sender_txs.push(tx);
            sender_rxs.push(rx);
        }
        let mut workers = Vec::new();
        let mut handles = Vec::new();
        for i in 0..config.workers.max(1) {
            let (w, h) = Worker::new(i)?;
            workers.push(w);
            handles.push(h);
        }
        let ctx = Arc::new(Ctx {
            ports: PortAllocator::new(local_addr.ip(), config.rtp_port_base),
            registry: Registry::new(config.max_sessions),
            catalog,
            scheduler: sched_tx,
            senders: sender_txs.clone(),
            workers: handles,
            connections: AtomicUsize::new(0),
            per_address: parking_lot::Mutex::new(HashMap::new()),
            auth: config
                .auth
                .clone()
                .map(|a| parking_lot::Mutex::new(Authenticator::new(a.config, a.credentials))),
            log_limiter: parking_lot::Mutex::new(LogLimiter::new(LOG_INTERVAL)),
            shutting_down: AtomicBool::new(false),
            sdp_session_id: crate::rtp::ntp::NtpTimestamp::from_system_time(
                std::time::SystemTime::now(),
            )
            .seconds()
            .into(),
            clock,
            config,
        });

        let mut threads = Vec::new();
        for (i, w) in workers.into_iter().enumerate() {
            let ctx = Arc::clone(&ctx);
            threads.push(spawn(&format!("rtsp-worker-{i}"), move || w.run(ctx))?);
        }
        let scheduler_thread = Some(spawn("pacing", move || {
            scheduler::run(sched_rx, sender_txs)
        })?);
        let mut sender_threads = Vec::new();
        for (i, rx) in sender_rxs.into_iter().enumerate() {
            sender_threads.push(spawn(&format!("rtp-sender-{i}"), move || {
                sender::run(rx, clock)
            })?);
        }
        let (reaper_stop, reaper_rx) = crossbeam_channel::bounded(1);
        {
            let ctx = Arc::clone(&ctx);
            threads.push(spawn("reaper", move || reaper(ctx, reaper_rx))?);
        }
        let (acceptor, stop_acceptor) = crate::server::runtime::acceptor::Acceptor::new(listener)?;
        {
            let ctx = Arc::clone(&ctx);
            threads.push(spawn("acceptor", move || acceptor.run(ctx))?);
        }
        tracing::info!(
            addr = %local_addr,
            media = %ctx.config.media.display(),
            fps = ctx.config.fps,
            workers = ctx.workers.len(),
            senders = ctx.senders.len(),
            auth = ctx.config.auth.as_ref().map(|a| a.config.realm.as_str()),
            "rtsp-server listening"
        );
        Ok(Self {
            ctx,
            local_addr,
            stop_acceptor,
            threads,
            scheduler_thread,
            sender_threads,
            reaper_stop,
        })
    }

    /// The address the RTSP listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Shared state (for tests and the shutdown path).
    pub fn ctx(&self) -> &Arc<Ctx> {
        &self.ctx
    }

    /// Stop accepting, end every session with an RTCP BYE, flush and close connections, and
    /// join every thread.
    pub fn shutdown(mut self) {
        let ctx = &self.ctx;
        ctx.shutting_down.store(true, Ordering::Release);
        let _ = self.stop_acceptor.wake();
        let _ = self.reaper_stop.send(());
        for session in ctx.registry.all() {
            ctx.end_session(&session, EndReason::Shutdown);
        }
        let _ = ctx.scheduler.send(SchedMsg::Shutdown);
        if let Some(t) = self.scheduler_thread.take() {
            let _ = t.join();
        }
        // Senders drain their queues (the BYEs) and stop at the marker.
        for tx in &ctx.senders {
            let _ = tx.send(None);
        }
        for t in self.sender_threads.drain(..) {
            let _ = t.join();
        }
        for w in &ctx.workers {
            let _ = w.send(WorkerMsg::Shutdown);
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        tracing::info!("rtsp-server stopped");
    }
}

fn spawn<F: FnOnce() + Send + 'static>(name: &str, f: F) -> io::Result<JoinHandle<()>> {
    thread::Builder::new().name(name.to_owned()).spawn(f)
}

/// End sessions that showed no sign of life for the session timeout.
fn reaper(ctx: Arc<Ctx>, stop: Receiver<()>) {
    let timeout = ctx.config.session_timeout;
    let tick = (timeout / 4).clamp(Duration::from_millis(100), Duration::from_secs(1));
    while let Err(crossbeam_channel::RecvTimeoutError::Timeout) = stop.recv_timeout(tick) {
        for session in ctx.registry.all() {
            if !session.pinned.load(Ordering::Relaxed) && session.idle_for() > timeout {
                ctx.end_session(&session, EndReason::Timeout);
            }
        }
    }
}
