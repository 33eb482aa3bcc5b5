//! Relayed paths: a path whose frames come from an upstream RTSP server or camera, pulled with
//! the engine's own [`Client`] (UDP with fallback to TCP, keep-alives, Digest credentials from
//! the URL) on one thread per upstream, whatever the number of readers.
//!
//! A relayed path is a published path whose publisher is the relay: each upstream frame goes
//! through [`Feed::put_frame`] and becomes the path's latest frame, which readers on every
//! worker poll exactly as they poll a publisher's (see `published`). The upstream's decisions
//! (connect, let go, back off, how long a reader waits) are the sans-I/O
//! [`RelayMachine`]; this module carries them out and reports what happened back to it.
//!
//! A reader's DESCRIBE or SETUP before the upstream sent a frame is parked on its connection
//! like a request for a file being loaded, and resumed when the first frame arrives, the
//! upstream fails, or the wait is over: then it is served, or answered 503 with the reason.
//! When the upstream fails, readers keep their sessions and receive again once it is back.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;

use crate::client::{Client, ClientConfig, ClientError, Event};
use crate::server::relay::{RelayAction, RelayMachine, RelayPolicy, RelaySpec, UpstreamState};
use crate::server::runtime::metrics::Metrics;
use crate::server::runtime::published::{Feed, Paths};
use crate::server::runtime::shared::Ctx;
use crate::server::runtime::source::Source;

/// How often the relay thread looks at its readers and timers when nothing happens.
const TICK: Duration = Duration::from_millis(100);

/// A request waiting for the upstream, resumed once (see [`Relay::wait`]).
type Waiter = Box<dyn FnOnce() + Send>;

struct Inner {
    machine: RelayMachine,
    waiters: Vec<Waiter>,
}

/// One relayed path, shared by the workers (which ask it) and its thread (which runs it).
pub struct Relay {
    path: String,
    /// The upstream URL, userinfo included: for the client only, never logged.
    url: String,
    /// The URL as logged.
    shown: String,
    source: Arc<Source>,
    inner: Mutex<Inner>,
    wake: Sender<()>,
    woken: Receiver<()>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("path", &self.path)
            .field("upstream", &self.shown)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// The path's source, shared with readers.
    pub fn source(&self) -> &Arc<Source> {
        &self.source
    }

    /// A reader's DESCRIBE or SETUP at `now` (since the server started): whether it must
    /// wait for the upstream, in which case `resume` is kept, to be called once when it may be
    /// tried again.
    pub fn must_wait(&self, now: Duration, resume: Waiter) -> bool {
        let mut inner = self.inner.lock();
        let wait = inner.machine.demand(now);
        if wait {
            inner.waiters.push(resume);
        }
        drop(inner);
        // The thread looks at the new demand now rather than at its next tick.
        let _ = self.wake.try_send(());
        wait
    }

    /// Whether readers can be served; `Err` with the reason for the 503 otherwise.
    pub fn available(&self) -> Result<(), &'static str> {
        let inner = self.inner.lock();
        if inner.machine.serving() {
            return Ok(());
        }
        Err(match inner.machine.state() {
            UpstreamState::Backoff => "the upstream of this relayed path is unavailable; retrying",
            _ => "the upstream of this relayed path sent no video in time",
        })
    }

    fn feed(&self) -> Option<&Arc<Feed>> {
        self.source.feed()
    }
}

/// Every relayed path, by path.
#[derive(Debug, Default)]
pub struct Relays {
    map: HashMap<String, Arc<Relay>>,
}

impl Relays {
    /// A relay for each of `specs` (the last one wins for a path named twice), its source
    /// registered in `paths`; `policy.mode` is the default of specs that name none.
    pub fn new(specs: &[RelaySpec], policy: RelayPolicy, paths: &Paths) -> Self {
        let mut map = HashMap::new();
        for spec in specs {
            let Some(source) = paths.get_or_create(&spec.path) else {
                tracing::warn!(path = %spec.path, "too many paths: relay not set up");
                continue;
            };
            let policy = RelayPolicy {
                mode: spec.mode.unwrap_or(policy.mode),
                ..policy
            };
            let (wake, woken) = crossbeam_channel::bounded(1);
            let relay = Relay {
                path: spec.path.clone(),
                url: spec.url.clone(),
                shown: crate::rtsp::url::without_userinfo(&spec.url).into_owned(),
                source,
                inner: Mutex::new(Inner {
                    machine: RelayMachine::new(policy),
                    waiters: Vec::new(),
                }),
                wake,
                woken,
            };
            map.insert(spec.path.clone(), Arc::new(relay));
        }
        Self { map }
    }

    /// The relay of `path`, if it is relayed.
    pub fn get(&self, path: &str) -> Option<&Arc<Relay>> {
        self.map.get(path)
    }

    /// Every relay.
    pub fn all(&self) -> impl Iterator<Item = &Arc<Relay>> {
        self.map.values()
    }

    /// Wake every relay thread (at shutdown).
    pub fn wake_all(&self) {
        for relay in self.map.values() {
            let _ = relay.wake.try_send(());
        }
    }
}

/// The relay thread's side of the upstream.
enum Upstream {
    /// Not connected.
    None,
    /// A short-lived thread connects and starts playing, so that this thread keeps the
    /// timers (a reader waits a bounded time, whatever the upstream does).
    Connecting(Receiver<Result<Client, ClientError>>),
    /// Playing.
    Playing(Client),
}

/// The relay thread: runs until the server shuts down, then lets the upstream go.
pub fn run(relay: Arc<Relay>, ctx: Arc<Ctx>) {
    let mut upstream = Upstream::None;
    let mut state = Noted {
        state: UpstreamState::Idle,
        reconnects: 0,
    };
    ctx.metrics.relay_state(&relay.path, state.state);
    tracing::info!(path = %relay.path, upstream = %relay.shown, "relayed path");
    while !ctx.shutting_down.load(Ordering::Acquire) {
        let now = ctx.clock.origin().elapsed();
        let readers = ctx
            .registry
            .all()
            .iter()
            .filter(|s| Arc::ptr_eq(&s.source, &relay.source))
            .count();
        let actions = {
            let mut inner = relay.inner.lock();
            inner.machine.readers(readers, now);
            inner.machine.poll(now)
        };
        carry_out(&relay, &ctx, actions, &mut upstream, &mut state);
        let event = match &upstream {
            Upstream::Playing(client) => client.next_event(TICK).map(Ok),
            Upstream::Connecting(result) => match result.recv_timeout(TICK) {
                Ok(r) => Some(Err(r)),
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => None,
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Some(Err(Err(
                    ClientError::Io("the connecting thread stopped".into()),
                ))),
            },
            Upstream::None => {
                let _ = relay.woken.recv_timeout(TICK);
                None
            }
        };
        match event {
            Some(Ok(event)) => on_event(&relay, &ctx, event, &mut upstream, &mut state),
            Some(Err(Ok(client))) => {
                upstream = Upstream::Playing(client);
                relay.inner.lock().machine.connected();
                note_state(&relay, &ctx.metrics, &mut state);
            }
            Some(Err(Err(e))) => fail(&relay, &ctx, &e.to_string(), &mut upstream, &mut state),
            None => {}
        }
    }
    if matches!(upstream, Upstream::Playing(_)) {
        tracing::info!(path = %relay.path, upstream = %relay.shown, "relay upstream closed");
    }
    drop(upstream);
    // Nobody waits past shutdown.
    let waiters = std::mem::take(&mut relay.inner.lock().waiters);
    waiters.into_iter().for_each(|w| w());
}

fn on_event(relay: &Relay, ctx: &Ctx, event: Event, upstream: &mut Upstream, state: &mut Noted) {
    let failure = match event {
        Event::Frame(frame) => {
            if let Some(feed) = relay.feed() {
                if let Err(e) = feed.put_frame(&frame.jpeg) {
                    tracing::debug!(path = %relay.path, error = %e, "relay frame dropped");
                }
            }
            let actions = relay.inner.lock().machine.frame();
            carry_out(relay, ctx, actions, upstream, state);
            return;
        }
        Event::EndOfStream => "the upstream ended the stream".to_owned(),
        Event::Error(e) => e.to_string(),
        _ => return,
    };
    fail(relay, ctx, &failure, upstream, state);
}

fn fail(relay: &Relay, ctx: &Ctx, why: &str, upstream: &mut Upstream, state: &mut Noted) {
    let now = ctx.clock.origin().elapsed();
    let actions = relay.inner.lock().machine.failed(now, rand::random());
    if !actions.is_empty() {
        tracing::warn!(path = %relay.path, upstream = %relay.shown, "relay upstream failed: {why}");
    }
    carry_out(relay, ctx, actions, upstream, state);
}

fn carry_out(
    relay: &Relay,
    ctx: &Ctx,
    actions: Vec<RelayAction>,
    upstream: &mut Upstream,
    state: &mut Noted,
) {
    for action in actions {
        match action {
            RelayAction::Connect => {
                let (tx, rx) = crossbeam_channel::bounded(1);
                let url = relay.url.clone();
                let wait = ctx.config.relay.first_frame_wait;
                let spawned = std::thread::Builder::new()
                    .name("rtsp-relay-connect".into())
                    .spawn(move || {
                        // A result nobody takes any more (shutdown) drops the client.
                        let _ = tx.send(connect(url, wait));
                    });
                *upstream = match spawned {
                    Ok(_) => Upstream::Connecting(rx),
                    Err(e) => {
                        tracing::warn!(path = %relay.path, "cannot start a relay thread: {e}");
                        // Seen as a failed attempt on the next turn.
                        let (_, rx) = crossbeam_channel::bounded(1);
                        Upstream::Connecting(rx)
                    }
                };
            }
            // Dropping the client tears its session down.
            RelayAction::Disconnect => *upstream = Upstream::None,
            RelayAction::WakeWaiters => {
                let waiters = std::mem::take(&mut relay.inner.lock().waiters);
                waiters.into_iter().for_each(|w| w());
            }
        }
    }
    note_state(relay, &ctx.metrics, state);
}

/// What the thread last logged and counted.
#[derive(Debug, Clone, Copy)]
struct Noted {
    state: UpstreamState,
    reconnects: u64,
}

/// Log and count a change of the upstream's state.
fn note_state(relay: &Relay, metrics: &Metrics, last: &mut Noted) {
    let (now, reconnects) = {
        let inner = relay.inner.lock();
        (inner.machine.state(), inner.machine.reconnects())
    };
    if reconnects > last.reconnects {
        metrics.relay_reconnects(&relay.path, reconnects - last.reconnects);
        last.reconnects = reconnects;
    }
    if now == last.state {
        return;
    }
    tracing::info!(
        path = %relay.path,
        upstream = %relay.shown,
        from = last.state.as_str(),
        to = now.as_str(),
        reconnects,
        "relay upstream {now}"
    );
    metrics.relay_state(&relay.path, now);
    last.state = now;
}

/// Connect to the upstream and start playing it; each reply may take `wait`.
fn connect(url: String, wait: Duration) -> Result<Client, ClientError> {
    let mut config = ClientConfig::url(url);
    config.reply_timeout = wait;
    config.stats_interval = None;
    let client = Client::connect(config)?;
    client.player_play()?;
    Ok(client)
}
