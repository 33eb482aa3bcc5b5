//! The relay thread of a relayed path (see [`super::relayed`]): it runs the engine's own
//! [`Client`] against the path's upstream (UDP with fallback to TCP, keep-alives, Digest
//! credentials from the URL), one thread per upstream whatever the number of readers, carries
//! out what the sans-I/O [`RelayMachine`](crate::server::relay::RelayMachine) decides and
//! reports back what happened. When the upstream fails, readers keep their sessions and
//! receive again once it is back.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::Receiver;

use crate::client::{Client, ClientConfig, ClientError, Event};
use crate::server::relay::{RelayAction, UpstreamState};
use crate::server::runtime::metrics::Metrics;
use crate::server::runtime::relayed::Relay;
use crate::server::runtime::shared::Ctx;

/// How often the relay thread looks at its readers and timers when nothing happens.
const TICK: Duration = Duration::from_millis(100);

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

/// Start the thread of a relay made from the origin; it ends by itself (see [`run`]).
pub fn start(relay: Arc<Relay>, ctx: &Ctx) {
    // Gone only at shutdown, when nothing is relayed any more.
    let Some(ctx) = ctx.me.upgrade() else {
        return;
    };
    let path = relay.path.clone();
    let spawned = std::thread::Builder::new()
        .name("rtsp-relay".into())
        .spawn(move || run(relay, ctx));
    if let Err(e) = spawned {
        tracing::warn!(%path, "cannot start a relay thread: {e}");
    }
}

/// The relay thread: runs until the server shuts down (or, for a path relayed from the
/// origin, until it is idle again or the origin has no such path), then lets the upstream go.
pub fn run(relay: Arc<Relay>, ctx: Arc<Ctx>) {
    let mut missing_since = None;
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
            .filter(|s| Arc::ptr_eq(&s.source, relay.source()))
            .count();
        if relay.from_origin && may_end(&relay, &ctx, readers, now, missing_since) {
            // Before the log line, which tells that the path is gone.
            ctx.metrics.relay_forget(&relay.path);
            tracing::info!(path = %relay.path, upstream = %relay.shown, "relay from the origin let go");
            break;
        }
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
            Some(Err(Err(ClientError::Status { code: 404, .. }))) if relay.from_origin => {
                tracing::info!(path = %relay.path, upstream = %relay.shown, "the origin has no such path");
                upstream = Upstream::None;
                missing_since = Some(now);
                let waiters = {
                    let mut inner = relay.inner.lock();
                    inner.missing = true;
                    std::mem::take(&mut inner.waiters)
                };
                waiters.into_iter().for_each(|w| w());
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

/// Whether a relay from the origin is done: idle with nobody reading or waiting, or missing
/// upstream for the linger (so repeated requests for a wrong path do not each ask the origin).
fn may_end(
    relay: &Arc<Relay>,
    ctx: &Ctx,
    readers: usize,
    now: Duration,
    missing_since: Option<Duration>,
) -> bool {
    if missing_since.is_some_and(|t| now < t.saturating_add(ctx.config.relay.linger)) {
        return false;
    }
    ctx.relays.remove_if_idle(relay, readers, &ctx.published)
}

fn on_event(relay: &Relay, ctx: &Ctx, event: Event, upstream: &mut Upstream, state: &mut Noted) {
    let failure = match event {
        Event::Frame(frame) => {
            if let Some(feed) = relay.feed() {
                if let Err(e) = feed.put_frame(frame.jpeg.to_vec()) {
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
