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
//!
//! With an origin (`Config::origin`), a reader's request for a path the server has no other
//! source for creates a relay of the origin's path of the same name ([`Relays::of_origin`]):
//! always on demand, and removed by its thread once idle, so an edge holds only what its
//! readers watch. A path the origin does not have (404) is remembered as missing for the
//! linger, during which its readers get 404 without asking the origin again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use parking_lot::{Mutex, RwLock};

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
    /// The origin answered 404 for this path: readers get 404 until the entry goes.
    pub missing: bool,
    /// Its thread ended: the entry is gone, new requests create another one.
    pub closed: bool,
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
    /// Created on demand from the origin (removed when idle) rather than configured.
    pub from_origin: bool,
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
        if inner.missing || inner.closed {
            return false;
        }
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
        if inner.machine.serving() || inner.missing {
            return Ok(());
        }
        if inner.closed {
            return Err("the relay of this path was just let go; try again");
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

    /// Whether the origin answered that it has no such path.
    pub fn missing(&self) -> bool {
        self.inner.lock().missing
    }

    fn new(path: &str, url: &str, source: Arc<Source>, policy: RelayPolicy, origin: bool) -> Self {
        let (wake, woken) = crossbeam_channel::bounded(1);
        Self {
            path: path.to_owned(),
            url: url.to_owned(),
            shown: crate::rtsp::url::without_userinfo(url).into_owned(),
            source,
            inner: Mutex::new(Inner {
                machine: RelayMachine::new(policy),
                waiters: Vec::new(),
                missing: false,
                closed: false,
            }),
            wake,
            woken,
            from_origin: origin,
        }
    }
}

/// Where paths without a source of their own are relayed from.
#[derive(Clone, PartialEq, Eq)]
pub struct Origin {
    /// `rtsp://[user:password@]host[:port]`: a path's upstream is this, `/`, the path.
    pub url: String,
    /// At most this many paths relayed from it at once; readers of more get 503.
    pub max_paths: usize,
}

/// Default of [`Origin::max_paths`].
pub const DEFAULT_ORIGIN_MAX_PATHS: usize = 256;

impl std::fmt::Debug for Origin {
    // The URL may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Origin")
            .field("url", &crate::rtsp::url::without_userinfo(&self.url))
            .field("max_paths", &self.max_paths)
            .finish()
    }
}

/// Why no relay of the origin could be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginRefusal {
    /// No origin is configured.
    NoOrigin,
    /// [`Origin::max_paths`] paths are relayed already.
    Full,
}

/// Every relayed path, by path: the configured ones, and those relayed from the origin
/// while they have readers.
#[derive(Debug, Default)]
pub struct Relays {
    map: RwLock<HashMap<String, Arc<Relay>>>,
    origin: Option<Origin>,
    policy: RelayPolicy,
}

impl Relays {
    /// A relay for each of `specs` (the last one wins for a path named twice), its source
    /// registered in `paths`; `policy.mode` is the default of specs that name none. With
    /// `origin`, more are made on demand ([`Relays::of_origin`]).
    pub fn new(
        specs: &[RelaySpec],
        policy: RelayPolicy,
        origin: Option<Origin>,
        paths: &Paths,
    ) -> Self {
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
            let relay = Relay::new(&spec.path, &spec.url, source, policy, false);
            map.insert(spec.path.clone(), Arc::new(relay));
        }
        Self {
            map: RwLock::new(map),
            origin,
            policy,
        }
    }

    /// The relay of `path`, if it is relayed.
    pub fn get(&self, path: &str) -> Option<Arc<Relay>> {
        self.map.read().get(path).cloned()
    }

    /// Every relay.
    pub fn all(&self) -> Vec<Arc<Relay>> {
        self.map.read().values().cloned().collect()
    }

    /// Whether paths are relayed from an origin.
    pub fn has_origin(&self) -> bool {
        self.origin.is_some()
    }

    /// Whether no more paths can be relayed from the origin now.
    pub fn origin_full(&self) -> bool {
        let Some(origin) = &self.origin else {
            return false;
        };
        let map = self.map.read();
        map.values().filter(|r| r.from_origin).count() >= origin.max_paths
    }

    /// The relay of `path` from the origin, created (its source registered in `paths`) if
    /// there is none yet; `Ok((relay, true))` when created: the caller starts its thread.
    pub fn of_origin(
        &self,
        path: &str,
        paths: &Paths,
    ) -> Result<(Arc<Relay>, bool), OriginRefusal> {
        let origin = self.origin.as_ref().ok_or(OriginRefusal::NoOrigin)?;
        let mut map = self.map.write();
        if let Some(relay) = map.get(path) {
            return Ok((Arc::clone(relay), false));
        }
        if map.values().filter(|r| r.from_origin).count() >= origin.max_paths {
            return Err(OriginRefusal::Full);
        }
        let source = paths.get_or_create(path).ok_or(OriginRefusal::Full)?;
        let url = format!("{}/{path}", origin.url.trim_end_matches('/'));
        let policy = RelayPolicy {
            mode: crate::server::relay::RelayMode::OnDemand,
            ..self.policy
        };
        let relay = Arc::new(Relay::new(path, &url, source, policy, true));
        map.insert(path.to_owned(), Arc::clone(&relay));
        Ok((relay, true))
    }

    /// Remove `relay` (made from the origin) if it is idle: no reader, nobody waiting, no
    /// upstream wanted; then its path's source goes too. Returns whether it was removed.
    pub fn remove_if_idle(&self, relay: &Arc<Relay>, readers: usize, paths: &Paths) -> bool {
        let mut map = self.map.write();
        let mut inner = relay.inner.lock();
        let idle = inner.missing
            || (inner.machine.state() == UpstreamState::Idle && !inner.machine.wanted());
        if readers > 0 || !inner.waiters.is_empty() || !idle {
            return false;
        }
        inner.closed = true;
        drop(inner);
        if map.get(&relay.path).is_some_and(|r| Arc::ptr_eq(r, relay)) {
            map.remove(&relay.path);
            paths.remove(&relay.path, relay.source());
        }
        true
    }

    /// Wake every relay thread (at shutdown).
    pub fn wake_all(&self) {
        for relay in self.map.read().values() {
            let _ = relay.wake.try_send(());
        }
    }
}
