//! Relaying a path from an upstream RTSP server or camera, sans-I/O: when to connect to the
//! upstream, when to let it go, how long to wait after a failure, and when a reader that asked
//! for the path has waited long enough.
//!
//! [`RelayMachine`] takes events (a reader asked, the number of readers, the upstream connected,
//! sent a frame, failed) and the time, and returns [`RelayAction`]s; the runtime's relay thread
//! carries them out with the engine's client. Time is a [`Duration`] since any fixed origin the
//! caller picks, and the jitter of the backoff is a number the caller draws, so every decision
//! here is reproducible in tests.
//!
//! - On demand ([`RelayMode::OnDemand`]), the upstream is wanted from the first reader's
//!   DESCRIBE or SETUP until [`RelayPolicy::linger`] after the last reader left (or after the
//!   last request, when no session was ever set up).
//! - Always ([`RelayMode::Always`]), it is wanted from the start.
//! - After a failure the next attempt waits an exponential backoff: `backoff_min` doubled per
//!   failure since the last frame, capped at `backoff_max`, of which a random half is taken off
//!   (so many relays of one camera do not reconnect in step).
//! - A reader's request waits for the upstream's first frame at most
//!   [`RelayPolicy::first_frame_wait`], and no longer than it takes the upstream to fail.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// When a relayed path's upstream is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RelayMode {
    /// From the first reader until some time after the last one left.
    #[default]
    OnDemand,
    /// For the server's whole life.
    Always,
}

impl RelayMode {
    /// The name used on the command line: `on-demand` or `always`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnDemand => "on-demand",
            Self::Always => "always",
        }
    }
}

impl fmt::Display for RelayMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RelayMode {
    type Err = RelaySpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "on-demand" => Ok(Self::OnDemand),
            "always" => Ok(Self::Always),
            _ => Err(RelaySpecError::Mode(s.to_owned())),
        }
    }
}

/// One relayed path: `PATH[:MODE]=URL` on the command line.
#[derive(Clone, PartialEq, Eq)]
pub struct RelaySpec {
    /// The path readers ask for (`cam1` serves `rtsp://HOST:PORT/cam1`).
    pub path: String,
    /// The upstream's `rtsp://[user:password@]host[:port]/path`.
    pub url: String,
    /// This path's mode; `None`: the server's default.
    pub mode: Option<RelayMode>,
}

impl fmt::Debug for RelaySpec {
    // The URL may hold a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelaySpec")
            .field("path", &self.path)
            .field("url", &crate::rtsp::url::without_userinfo(&self.url))
            .field("mode", &self.mode)
            .finish()
    }
}

/// Why a `PATH[:MODE]=URL` is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelaySpecError {
    /// No `=` between path and URL.
    #[error("expected PATH=URL or PATH:MODE=URL")]
    Shape,
    /// The path is empty, names a file or the test source, or leaves the media root.
    #[error("{0:?} cannot be a relayed path (it must be a path that is not a file or testsrc)")]
    Path(String),
    /// The mode after the path's colon is unknown.
    #[error("unknown relay mode {0:?} (on-demand or always)")]
    Mode(String),
    /// The URL is not `rtsp://`.
    #[error("the upstream must be an rtsp:// URL")]
    Url,
}

impl FromStr for RelaySpec {
    type Err = RelaySpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (left, url) = s.split_once('=').ok_or(RelaySpecError::Shape)?;
        let (path, mode) = match left.rsplit_once(':') {
            Some((path, mode)) => (path, Some(mode.parse()?)),
            None => (left, None),
        };
        let path = path.trim_start_matches('/');
        if path.is_empty() {
            return Err(RelaySpecError::Path(String::new()));
        }
        let target = super::target::resolve(&format!("rtsp://relay/{path}"))
            .ok()
            .flatten()
            .filter(|t| !t.is_test_source() && !t.has_mjpeg_extension() && t.presentation == path)
            .ok_or_else(|| RelaySpecError::Path(path.to_owned()))?;
        if !url.to_ascii_lowercase().starts_with("rtsp://") {
            return Err(RelaySpecError::Url);
        }
        Ok(Self {
            path: target.presentation,
            url: url.to_owned(),
            mode,
        })
    }
}

/// The timing of relays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayPolicy {
    /// On demand or always.
    pub mode: RelayMode,
    /// On demand: how long the upstream stays connected after the last reader left.
    pub linger: Duration,
    /// The wait after the first failure.
    pub backoff_min: Duration,
    /// The longest wait between attempts.
    pub backoff_max: Duration,
    /// How long a reader's DESCRIBE or SETUP waits for the upstream's first frame.
    pub first_frame_wait: Duration,
}

/// Default of [`RelayPolicy::linger`].
pub const DEFAULT_LINGER: Duration = Duration::from_secs(10);

impl Default for RelayPolicy {
    fn default() -> Self {
        Self {
            mode: RelayMode::OnDemand,
            linger: DEFAULT_LINGER,
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            first_frame_wait: Duration::from_secs(5),
        }
    }
}

impl RelayPolicy {
    /// The wait after `failures` failures in a row (at least 1), with `jitter` in `[0, 1)`
    /// taking up to half of it off.
    pub fn backoff(&self, failures: u32, jitter: f64) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        let full = self
            .backoff_min
            .saturating_mul(1 << doublings)
            .min(self.backoff_max);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        full.mul_f64(1.0 - jitter / 2.0)
    }
}

/// Where the upstream connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpstreamState {
    /// Not wanted, not connected.
    Idle,
    /// Connecting, setting up and starting to play.
    Connecting,
    /// Playing (frames flow, or are about to).
    Streaming,
    /// Waiting before the next attempt after a failure.
    Backoff,
}

impl UpstreamState {
    /// Lower-case name, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Connecting => "connecting",
            Self::Streaming => "streaming",
            Self::Backoff => "backoff",
        }
    }

    /// The value of the state gauge: 0 idle, 1 connecting, 2 streaming, 3 backoff.
    pub fn code(self) -> i64 {
        match self {
            Self::Idle => 0,
            Self::Connecting => 1,
            Self::Streaming => 2,
            Self::Backoff => 3,
        }
    }
}

impl fmt::Display for UpstreamState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the runtime must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayAction {
    /// Connect to the upstream and play it, then report [`RelayMachine::connected`] or
    /// [`RelayMachine::failed`].
    Connect,
    /// Close the upstream connection (if one is open).
    Disconnect,
    /// Resume the requests waiting for the upstream: they are served now, or refused.
    WakeWaiters,
}

/// One relayed path's upstream decisions (see the module documentation).
#[derive(Debug, Clone)]
pub struct RelayMachine {
    policy: RelayPolicy,
    state: UpstreamState,
    /// Failures since the upstream last sent a frame.
    failures: u32,
    /// Attempts after a failure, over the machine's life.
    reconnects: u64,
    retry_at: Duration,
    readers: usize,
    /// On demand, without readers: wanted until then.
    wanted_until: Option<Duration>,
    /// A request waits for a first frame until then.
    waiting_until: Option<Duration>,
    /// The current connection delivered a frame.
    fresh: bool,
    /// A request of the current attempt waited its full time: later ones do not wait.
    late: bool,
}

impl RelayMachine {
    /// An idle machine (in [`RelayMode::Always`] the first [`RelayMachine::poll`] connects).
    pub fn new(policy: RelayPolicy) -> Self {
        Self {
            policy,
            state: UpstreamState::Idle,
            failures: 0,
            reconnects: 0,
            retry_at: Duration::ZERO,
            readers: 0,
            wanted_until: None,
            waiting_until: None,
            fresh: false,
            late: false,
        }
    }

    /// Where the upstream is.
    pub fn state(&self) -> UpstreamState {
        self.state
    }

    /// How many attempts followed a failure so far.
    pub fn reconnects(&self) -> u64 {
        self.reconnects
    }

    /// Failures since the last frame.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Whether readers can be served: the upstream is playing and sent a frame.
    pub fn serving(&self) -> bool {
        self.state == UpstreamState::Streaming && self.fresh
    }

    /// Whether the upstream is wanted now (as of the last [`RelayMachine::poll`]).
    pub fn wanted(&self) -> bool {
        self.policy.mode == RelayMode::Always || self.readers > 0 || self.wanted_until.is_some()
    }

    /// Whether a reader's request is waiting for the first frame.
    pub fn waiting(&self) -> bool {
        self.waiting_until.is_some()
    }

    /// A reader's DESCRIBE or SETUP at `now`: the upstream is wanted, and unless it serves
    /// already (or is known to be down) the request waits for its first frame. Returns whether
    /// the request must wait; call [`RelayMachine::poll`] next.
    pub fn demand(&mut self, now: Duration) -> bool {
        let until = now.saturating_add(self.policy.linger);
        self.wanted_until = Some(self.wanted_until.map_or(until, |t| t.max(until)));
        let must_wait = !self.late
            && match self.state {
                UpstreamState::Idle | UpstreamState::Connecting => true,
                UpstreamState::Streaming => !self.fresh,
                UpstreamState::Backoff => false,
            };
        if must_wait && self.waiting_until.is_none() {
            self.waiting_until = Some(now.saturating_add(self.policy.first_frame_wait));
        }
        must_wait
    }

    /// The path has `readers` reader sessions at `now`.
    pub fn readers(&mut self, readers: usize, now: Duration) {
        if readers == 0 && self.readers > 0 {
            let until = now.saturating_add(self.policy.linger);
            self.wanted_until = Some(self.wanted_until.map_or(until, |t| t.max(until)));
        }
        self.readers = readers;
    }

    /// The upstream answered PLAY.
    pub fn connected(&mut self) {
        if self.state == UpstreamState::Connecting {
            self.state = UpstreamState::Streaming;
            self.fresh = false;
        }
    }

    /// The upstream sent a frame.
    pub fn frame(&mut self) -> Vec<RelayAction> {
        if self.state != UpstreamState::Streaming {
            return Vec::new();
        }
        self.fresh = true;
        self.failures = 0;
        self.wake()
    }

    /// Connecting failed, or the upstream stopped (closed, silent, ended) at `now`; `jitter`
    /// is a random number in `[0, 1)`.
    pub fn failed(&mut self, now: Duration, jitter: f64) -> Vec<RelayAction> {
        if !matches!(
            self.state,
            UpstreamState::Connecting | UpstreamState::Streaming
        ) {
            return Vec::new();
        }
        self.failures = self.failures.saturating_add(1);
        self.state = UpstreamState::Backoff;
        self.fresh = false;
        self.late = false;
        self.retry_at = now.saturating_add(self.policy.backoff(self.failures, jitter));
        let mut actions = vec![RelayAction::Disconnect];
        actions.extend(self.wake());
        actions
    }

    /// Timers at `now`: connect when wanted (and the backoff is over), let go when no longer
    /// wanted, give up on the first frame.
    pub fn poll(&mut self, now: Duration) -> Vec<RelayAction> {
        if self.wanted_until.is_some_and(|t| now >= t) {
            self.wanted_until = None;
        }
        let wanted = self.wanted();
        let mut actions = Vec::new();
        match self.state {
            UpstreamState::Idle if wanted => {
                self.state = UpstreamState::Connecting;
                self.late = false;
                actions.push(RelayAction::Connect);
            }
            UpstreamState::Backoff if wanted && now >= self.retry_at => {
                self.state = UpstreamState::Connecting;
                self.late = false;
                self.reconnects += 1;
                actions.push(RelayAction::Connect);
            }
            UpstreamState::Streaming | UpstreamState::Backoff if !wanted => {
                self.state = UpstreamState::Idle;
                self.fresh = false;
                self.failures = 0;
                actions.push(RelayAction::Disconnect);
            }
            _ => {}
        }
        if self.waiting_until.is_some_and(|t| now >= t) {
            self.late = true;
            actions.extend(self.wake());
        }
        actions
    }

    /// When [`RelayMachine::poll`] next has something to do, if it has a timer running.
    pub fn next_deadline(&self) -> Option<Duration> {
        let retry = (self.state == UpstreamState::Backoff).then_some(self.retry_at);
        [retry, self.wanted_until, self.waiting_until]
            .into_iter()
            .flatten()
            .min()
    }

    fn wake(&mut self) -> Vec<RelayAction> {
        match self.waiting_until.take() {
            Some(_) => vec![RelayAction::WakeWaiters],
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RelayAction::{Connect, Disconnect, WakeWaiters};
    use super::UpstreamState::{Backoff, Connecting, Idle, Streaming};
    use super::*;
    use proptest::prelude::*;

    fn s(secs: f64) -> Duration {
        Duration::from_secs_f64(secs)
    }

    fn policy(mode: RelayMode) -> RelayPolicy {
        RelayPolicy {
            mode,
            linger: s(10.0),
            backoff_min: s(0.5),
            backoff_max: s(30.0),
            first_frame_wait: s(5.0),
        }
    }

    #[test]
    fn specs_parse_with_and_without_a_mode() {
        let spec: RelaySpec = "cam1=rtsp://user:pw@127.0.0.1:8554/test".parse().unwrap();
        assert_eq!(
            (spec.path.as_str(), spec.url.as_str(), spec.mode),
            ("cam1", "rtsp://user:pw@127.0.0.1:8554/test", None)
        );
        assert!(!format!("{spec:?}").contains("pw"));
        let spec: RelaySpec = "/site/cam2:always=rtsp://h/x?a=b".parse().unwrap();
        assert_eq!(
            (spec.path.as_str(), spec.url.as_str(), spec.mode),
            ("site/cam2", "rtsp://h/x?a=b", Some(RelayMode::Always))
        );
        let spec: RelaySpec = "c:on-demand=RTSP://h/x".parse().unwrap();
        assert_eq!(spec.mode, Some(RelayMode::OnDemand));
        for (bad, why) in [
            ("cam1", RelaySpecError::Shape),
            ("=rtsp://h/x", RelaySpecError::Path(String::new())),
            ("testsrc=rtsp://h/x", RelaySpecError::Path("testsrc".into())),
            ("a.mjpeg=rtsp://h/x", RelaySpecError::Path("a.mjpeg".into())),
            ("../etc=rtsp://h/x", RelaySpecError::Path("../etc".into())),
            (
                "cam:sometimes=rtsp://h/x",
                RelaySpecError::Mode("sometimes".into()),
            ),
            ("cam=http://h/x", RelaySpecError::Url),
        ] {
            assert_eq!(bad.parse::<RelaySpec>(), Err(why), "{bad}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_its_bound_and_jitter_takes_at_most_half() {
        let p = policy(RelayMode::Always);
        assert_eq!(p.backoff(1, 0.0), s(0.5));
        assert_eq!(p.backoff(2, 0.0), s(1.0));
        assert_eq!(p.backoff(3, 0.0), s(2.0));
        assert_eq!(p.backoff(7, 0.0), s(30.0));
        assert_eq!(p.backoff(u32::MAX, 0.0), s(30.0));
        assert_eq!(p.backoff(1, 1.0), s(0.25));
        assert_eq!(p.backoff(1, f64::NAN), s(0.5));
    }

    #[test]
    fn on_demand_connects_on_the_first_request_and_lets_go_after_the_linger() {
        let mut m = RelayMachine::new(policy(RelayMode::OnDemand));
        assert!(m.poll(s(100.0)).is_empty(), "nobody asked: stays idle");
        assert_eq!(m.state(), Idle);
        assert!(m.demand(s(101.0)));
        assert_eq!(m.poll(s(101.0)), vec![Connect]);
        assert_eq!(m.state(), Connecting);
        m.connected();
        assert!(!m.serving());
        assert_eq!(m.frame(), vec![WakeWaiters]);
        assert!(m.serving());
        assert!(!m.demand(s(101.5)), "serving: a new request does not wait");
        m.readers(1, s(102.0));
        assert!(m.poll(s(200.0)).is_empty(), "a reader holds it");
        m.readers(0, s(200.0));
        assert!(m.poll(s(209.9)).is_empty(), "lingering");
        assert_eq!(m.next_deadline(), Some(s(210.0)));
        assert_eq!(m.poll(s(210.0)), vec![Disconnect]);
        assert_eq!(m.state(), Idle);
        assert!(m.poll(s(300.0)).is_empty());
    }

    #[test]
    fn a_describe_without_a_session_holds_the_upstream_for_the_linger() {
        let mut m = RelayMachine::new(policy(RelayMode::OnDemand));
        m.demand(s(0.0));
        m.poll(s(0.0));
        m.connected();
        m.frame();
        assert!(m.poll(s(9.0)).is_empty());
        assert_eq!(m.poll(s(10.0)), vec![Disconnect]);
    }

    #[test]
    fn always_connects_at_once_and_never_lets_go() {
        let mut m = RelayMachine::new(policy(RelayMode::Always));
        assert_eq!(m.poll(s(0.0)), vec![Connect]);
        m.connected();
        m.frame();
        assert!(m.poll(s(1e6)).is_empty());
        assert_eq!(m.state(), Streaming);
    }

    #[test]
    fn failures_back_off_and_a_frame_resets_the_count() {
        let mut m = RelayMachine::new(policy(RelayMode::Always));
        m.poll(s(0.0));
        assert_eq!(m.failed(s(0.0), 0.0), vec![Disconnect]);
        assert_eq!(m.state(), Backoff);
        assert!(m.poll(s(0.4)).is_empty());
        assert_eq!(m.poll(s(0.5)), vec![Connect]);
        m.failed(s(0.5), 0.0);
        assert_eq!(m.next_deadline(), Some(s(1.5)));
        assert_eq!(m.poll(s(1.5)), vec![Connect]);
        m.failed(s(1.5), 0.0);
        assert_eq!(m.next_deadline(), Some(s(3.5)));
        assert_eq!(m.poll(s(3.5)), vec![Connect]);
        assert_eq!(m.reconnects(), 3);
        m.connected();
        m.frame();
        assert_eq!(m.failures(), 0);
        m.failed(s(10.0), 0.0);
        assert_eq!(
            m.next_deadline(),
            Some(s(10.5)),
            "back to the shortest wait"
        );
    }

    #[test]
    fn a_waiting_request_is_woken_by_the_first_frame_a_failure_or_the_deadline() {
        // A failure: the refused upstream answers the reader at once.
        let mut m = RelayMachine::new(policy(RelayMode::OnDemand));
        assert!(m.demand(s(0.0)));
        m.poll(s(0.0));
        assert_eq!(m.failed(s(0.1), 0.0), vec![Disconnect, WakeWaiters]);
        assert!(!m.serving());
        assert!(!m.demand(s(0.2)), "known down: no wait");
        // The deadline: connected, but no frame comes.
        let mut m = RelayMachine::new(policy(RelayMode::OnDemand));
        m.demand(s(0.0));
        m.poll(s(0.0));
        m.connected();
        assert!(m.poll(s(4.9)).is_empty());
        assert_eq!(m.poll(s(5.0)), vec![WakeWaiters]);
        assert!(!m.waiting());
        assert!(
            !m.demand(s(5.1)),
            "the attempt is late: the woken request is answered"
        );
        assert_eq!(m.frame(), Vec::<RelayAction>::new());
    }

    #[test]
    fn lingering_backoff_goes_idle_when_nobody_wants_the_path() {
        let mut m = RelayMachine::new(policy(RelayMode::OnDemand));
        m.demand(s(0.0));
        m.poll(s(0.0));
        m.failed(s(0.0), 0.0);
        assert_eq!(m.poll(s(10.0)), vec![Disconnect]);
        assert_eq!(m.state(), Idle);
    }

    #[derive(Debug, Clone)]
    enum Event {
        Demand,
        Readers(usize),
        Connected,
        Frame,
        Failed(f64),
        Wait(u64),
    }

    fn event() -> impl Strategy<Value = Event> {
        prop_oneof![
            Just(Event::Demand),
            (0usize..3).prop_map(Event::Readers),
            Just(Event::Connected),
            Just(Event::Frame),
            (0.0f64..1.0).prop_map(Event::Failed),
            (0u64..40_000).prop_map(Event::Wait),
        ]
    }

    proptest! {
        #[test]
        fn invariants_hold_for_any_sequence(
            always in any::<bool>(),
            events in proptest::collection::vec(event(), 0..200),
        ) {
            let mode = if always { RelayMode::Always } else { RelayMode::OnDemand };
            let p = policy(mode);
            let mut m = RelayMachine::new(p);
            let mut now = Duration::ZERO;
            let mut readers = 0;
            let mut connected = false;
            for e in events {
                let before = m.state();
                let actions = match e {
                    Event::Demand => { m.demand(now); Vec::new() }
                    Event::Readers(n) => { readers = n; m.readers(n, now); Vec::new() }
                    Event::Connected => { m.connected(); Vec::new() }
                    Event::Frame => m.frame(),
                    Event::Failed(j) => m.failed(now, j),
                    Event::Wait(ms) => { now += Duration::from_millis(ms); Vec::new() }
                };
                let mut all = actions;
                all.extend(m.poll(now));
                for a in &all {
                    match a {
                        Connect => { prop_assert!(!connected, "connect twice"); connected = true; }
                        Disconnect => connected = false,
                        WakeWaiters => {}
                    }
                }
                // The connection is open exactly while connecting or streaming.
                prop_assert_eq!(connected, matches!(m.state(), Connecting | Streaming), "{:?} -> {:?}", before, m.state());
                // Serving needs a playing upstream.
                prop_assert!(!m.serving() || m.state() == Streaming);
                // Wanted paths never sit idle; always-on paths are never idle after a poll.
                if always || readers > 0 {
                    prop_assert_ne!(m.state(), Idle);
                }
                // A waiting request always has a deadline no later than the first-frame wait.
                if m.waiting() {
                    let d = m.next_deadline();
                    prop_assert!(d.is_some_and(|d| d <= now + p.first_frame_wait));
                }
                // Backoff never waits beyond its bound.
                if m.state() == Backoff {
                    prop_assert!(m.next_deadline().is_some_and(|d| d <= now + p.backoff_max));
                }
            }
        }

        #[test]
        fn backoff_is_bounded_and_grows(failures in 1u32..100, jitter in 0.0f64..1.0) {
            let p = policy(RelayMode::Always);
            let d = p.backoff(failures, jitter);
            prop_assert!(d <= p.backoff_max);
            prop_assert!(d >= p.backoff_min / 2);
            prop_assert!(p.backoff(failures + 1, 0.0) >= p.backoff(failures, 0.0));
        }
    }
}
