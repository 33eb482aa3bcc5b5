//! Wiring: thread start-up and orderly shutdown (the shared context is in
//! [`crate::server::runtime::shared`]).
//!
//! Threads (none per session or per connection, none per stage of a frame):
//! - the acceptor, which hands each new connection to a connection worker, once;
//! - `--workers` connection workers ([`crate::server::runtime::worker`]), mio event loops that
//!   own their connections and sessions and pace and send their media (RTSP, RTP, RTCP);
//! - one reaper that ends sessions without a sign of life for the session timeout;
//! - with `--http`, as many web workers ([`crate::server::runtime::web`]), mio event loops
//!   sharing the HTTP listening socket and serving the viewers each accepted;
//! - two media loaders ([`crate::server::runtime::catalog`]) that load files for parked requests;
//! - one thread per relayed path ([`crate::server::runtime::relay`]), which runs the engine's
//!   client against its upstream.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use crate::auth::{Authenticator, LogLimiter};
use crate::server::runtime::catalog::Catalog;
use crate::server::runtime::clock::Clock;
use crate::server::runtime::shared::session::{EndReason, Registry};
use crate::server::runtime::shared::{Config, Ctx, WorkerMsg, WorkerPorts, LOG_INTERVAL};
use crate::server::runtime::udp::PortAllocator;
use crate::server::runtime::worker::Worker;

/// A running server: its threads, listening socket and shared state; stopped on drop.
pub struct Server {
    ctx: Arc<Ctx>,
    local_addr: SocketAddr,
    stop_acceptor: Arc<mio::Waker>,
    /// The `rtsps://` listener's address and its acceptor's stop waker.
    tls: Option<(SocketAddr, Arc<mio::Waker>)>,
    threads: Vec<JoinHandle<()>>,
    reaper_stop: Sender<()>,
    metrics_addr: Option<SocketAddr>,
    http_addr: Option<SocketAddr>,
    stop_web: Vec<Arc<mio::Waker>>,
}

impl Server {
    /// Bind and start every thread.
    pub fn start(config: Config) -> io::Result<Self> {
        let listener = TcpListener::bind(config.bind)?;
        let local_addr = listener.local_addr()?;
        let tls_listener = config
            .tls
            .as_ref()
            .map(|t| TcpListener::bind(t.bind))
            .transpose()?;
        let metrics_listener = config.metrics.map(TcpListener::bind).transpose()?;
        let metrics_addr = metrics_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()?;
        let http_listener = config.http.map(TcpListener::bind).transpose()?;
        let http_addr = http_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()?;
        let clock = Clock::new();
        let catalog = Catalog::new(&config.media, config.fps, config.transcode, clock)?;

        // Each worker's RTP/RTCP pair is bound once, here: SETUP then opens no socket.
        let ports = PortAllocator::new(local_addr.ip(), config.rtp_port_base);
        let mut workers = Vec::new();
        let mut handles = Vec::new();
        for i in 0..config.workers.max(1) {
            let pair = ports.allocate()?;
            tracing::debug!(worker = i, rtp_port = pair.rtp_port(), "worker UDP ports");
            let pair = WorkerPorts {
                rtp: Arc::new(pair.rtp),
                rtcp: Arc::new(pair.rtcp),
            };
            let (w, h) = Worker::new(i, pair)?;
            workers.push(w);
            handles.push(h);
        }
        let published = crate::server::runtime::published::Paths::new(config.transcode);
        let relays = crate::server::runtime::relayed::Relays::new(
            &config.relays,
            config.relay,
            config.origin.clone(),
            &published,
        );
        let ctx = Arc::new_cyclic(|me| Ctx {
            me: me.clone(),
            registry: Registry::new(config.max_sessions),
            catalog,
            workers: handles,
            connections: AtomicUsize::new(0),
            per_address: parking_lot::Mutex::new(HashMap::new()),
            auth: config
                .auth
                .clone()
                .map(|a| parking_lot::Mutex::new(Authenticator::new(a.config, a.credentials))),
            log_limiter: parking_lot::Mutex::new(LogLimiter::new(LOG_INTERVAL)),
            shutting_down: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            metrics: crate::server::runtime::metrics::Metrics::new(),
            sdp_session_id: crate::rtp::ntp::NtpTimestamp::from_system_time(
                std::time::SystemTime::now(),
            )
            .seconds()
            .into(),
            published,
            relays,
            redirector: parking_lot::Mutex::new(crate::server::redirect::Redirector::new(
                config.redirect.clone(),
            )),
            clock,
            config,
        });

        let mut threads = Vec::new();
        for (i, w) in workers.into_iter().enumerate() {
            let ctx = Arc::clone(&ctx);
            threads.push(spawn(&format!("rtsp-worker-{i}"), move || w.run(ctx))?);
        }
        let (reaper_stop, reaper_rx) = crossbeam_channel::bounded(1);
        {
            let ctx = Arc::clone(&ctx);
            threads.push(spawn("reaper", move || reaper(ctx, reaper_rx))?);
        }
        for relay in ctx.relays.all() {
            let ctx = Arc::clone(&ctx);
            threads.push(spawn("rtsp-relay", move || {
                crate::server::runtime::relay::run(relay, ctx)
            })?);
        }
        if let (Some(listener), Some(addr)) = (metrics_listener, metrics_addr) {
            let ctx = Arc::clone(&ctx);
            threads.push(spawn("metrics", move || {
                crate::server::runtime::http::run(listener, ctx)
            })?);
            tracing::info!(%addr, "metrics listening (/metrics, /healthz)");
        }
        let mut stop_web = Vec::new();
        if let (Some(listener), Some(addr)) = (http_listener, http_addr) {
            let stats = Arc::new(crate::server::runtime::web::WebStats::default());
            for i in 0..ctx.workers.len() {
                let (web, waker) = crate::server::runtime::web::Web::new(
                    listener.try_clone()?,
                    Arc::clone(&stats),
                )?;
                stop_web.push(waker);
                let ctx = Arc::clone(&ctx);
                threads.push(spawn(&format!("web-{i}"), move || web.run(ctx))?);
            }
            tracing::info!(%addr, "http listening (/, /stream/<path>, /api/paths)");
        }
        let (acceptor, stop_acceptor) =
            crate::server::runtime::acceptor::Acceptor::new(listener, false, &ctx)?;
        {
            let ctx = Arc::clone(&ctx);
            threads.push(spawn("acceptor", move || acceptor.run(ctx))?);
        }
        let tls = match tls_listener {
            Some(listener) => {
                let addr = listener.local_addr()?;
                let (acceptor, stop) =
                    crate::server::runtime::acceptor::Acceptor::new(listener, true, &ctx)?;
                let ctx = Arc::clone(&ctx);
                threads.push(spawn("tls-acceptor", move || acceptor.run(ctx))?);
                // Before the plain listener's line: whoever waits for that one finds this.
                tracing::info!(%addr, "rtsps listening");
                Some((addr, stop))
            }
            None => None,
        };
        tracing::info!(
            addr = %local_addr,
            media = %ctx.config.media.display(),
            fps = ctx.config.fps,
            workers = ctx.workers.len(),
            auth = ctx.config.auth.as_ref().map(|a| a.config.realm.as_str()),
            "rtsp-server listening"
        );
        Ok(Self {
            ctx,
            local_addr,
            stop_acceptor,
            tls,
            threads,
            reaper_stop,
            metrics_addr,
            http_addr,
            stop_web,
        })
    }

    /// The address of the metrics and health listener, when there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The address of the `--http` listener (streams and page), when there is one.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// Start draining: from now on DESCRIBE and SETUP of new sessions get 503 with
    /// `Retry-After` (and `/healthz` says 503, so a balancer sends new clients elsewhere),
    /// while the sessions already set up play on to their end. There is no way back: a drained
    /// server is restarted.
    pub fn drain(&self) {
        if !self.ctx.draining.swap(true, Ordering::AcqRel) {
            tracing::info!(
                sessions = self.ctx.registry.len(),
                "draining: refusing new sessions"
            );
        }
    }

    /// Whether [`Server::drain`] was called.
    pub fn is_draining(&self) -> bool {
        self.ctx.draining.load(Ordering::Acquire)
    }

    /// The address the `rtsps://` (TLS) listener is bound to, when there is one.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls.as_ref().map(|(addr, _)| *addr)
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
        if let Some((_, stop)) = &self.tls {
            let _ = stop.wake();
        }
        let _ = self.reaper_stop.send(());
        for session in ctx.registry.all() {
            ctx.end_session(&session, EndReason::Shutdown);
        }
        ctx.relays.wake_all();
        // Each worker says the BYEs queued above before it sees this.
        for w in &ctx.workers {
            let _ = w.send(WorkerMsg::Shutdown);
        }
        if let Some(addr) = self.metrics_addr {
            crate::server::runtime::http::wake(addr);
        }
        for waker in &self.stop_web {
            let _ = waker.wake();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        ctx.catalog.shutdown();
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
