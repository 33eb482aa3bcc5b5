//! Relayed paths: a path whose frames come from an upstream RTSP server or camera. This module
//! holds what the workers and a path's relay thread ([`super::relay`]) share: the path's source,
//! the sans-I/O [`RelayMachine`] and the requests waiting for the upstream.
//!
//! A relayed path is a published path whose publisher is the relay: each upstream frame goes
//! through [`Feed::put_frame`] and becomes the path's latest frame, which readers on every
//! worker poll exactly as they poll a publisher's (see `published`).
//!
//! A reader's DESCRIBE or SETUP before the upstream sent a frame is parked on its connection
//! like a request for a file being loaded ([`Relay::must_wait`]), and resumed when the first
//! frame arrives, the upstream fails, or the wait is over: then it is served, or answered 503
//! with the reason ([`Relay::available`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;

use crate::server::relay::{RelayMachine, RelayPolicy, RelaySpec, UpstreamState};
use crate::server::runtime::published::{Feed, Paths};
use crate::server::runtime::source::Source;

/// A request waiting for the upstream, resumed once (see [`Relay::must_wait`]).
pub type Waiter = Box<dyn FnOnce() + Send>;

/// The decisions and who waits for them.
pub struct Inner {
    /// The upstream's state machine.
    pub machine: RelayMachine,
    /// Requests to resume at the next [`crate::server::relay::RelayAction::WakeWaiters`].
    pub waiters: Vec<Waiter>,
}

/// One relayed path, shared by the workers (which ask it) and its thread (which runs it).
pub struct Relay {
    /// The relayed path.
    pub path: String,
    /// The upstream URL, userinfo included: for the client only, never logged.
    pub url: String,
    /// The URL as logged.
    pub shown: String,
    source: Arc<Source>,
    /// The machine and the waiting requests.
    pub inner: Mutex<Inner>,
    /// Wakes the relay thread early.
    pub wake: Sender<()>,
    /// Where the relay thread waits while idle.
    pub woken: Receiver<()>,
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

    /// The feed readers poll.
    pub fn feed(&self) -> Option<&Arc<Feed>> {
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
