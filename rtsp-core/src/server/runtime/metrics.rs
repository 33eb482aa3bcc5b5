//! The server's Prometheus metrics (the `prometheus-client` crate's types and text encoding).
//!
//! Most figures already exist per session ([`SessionStats`], logged at each session's end), so
//! they are not counted twice on the hot path: a scrape ([`Metrics::encode`]) adds the live
//! sessions' counters to what ended sessions left ([`Metrics::retire`]) and moves each counter
//! up to that total. Counters only ever move up, so a session ending between the two steps of a
//! scrape delays its frames to the next scrape instead of making a counter go down. Only events
//! no session holds are counted where they happen: sessions started, receiver reports (into
//! histograms), authentication failures, refused connections and sessions.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::rtsp::Dialect;
use crate::server::runtime::shared::session::{Delivery, LiveSession, SessionStats};

/// The content type of [`Metrics::encode`]'s output (OpenMetrics text, which Prometheus reads).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Wire format label.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum DialectLabel {
    /// The lab's dialect.
    lab,
    /// RFC 2326.
    standard,
}

impl From<Dialect> for DialectLabel {
    fn from(d: Dialect) -> Self {
        match d {
            Dialect::Lab => Self::lab,
            Dialect::Standard => Self::standard,
        }
    }
}

/// How RTP travels.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum TransportLabel {
    /// UDP datagrams to the client.
    udp,
    /// `$` frames on the RTSP connection.
    tcp,
    /// Not set up yet.
    none,
}

impl TransportLabel {
    /// The transport of `delivery`.
    pub fn of(delivery: Option<&Delivery>) -> Self {
        match delivery {
            Some(Delivery::Udp(_)) => Self::udp,
            Some(Delivery::Interleaved { .. }) => Self::tcp,
            None => Self::none,
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SessionLabels {
    path: String,
    dialect: DialectLabel,
    transport: TransportLabel,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StartLabels {
    dialect: DialectLabel,
    transport: TransportLabel,
}

/// Why frames were not sent.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum DropReason {
    /// The session's send queue was full or its socket refused the frame.
    queue_full_or_send_failed,
    /// The pacing fell behind and skipped the slot (one frame after a stall, never a burst).
    pacing_stall,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DropLabels {
    reason: DropReason,
}

/// Why a connection was closed at once.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum RefusedConnection {
    /// `max_connections` open already.
    max_connections,
    /// The client address holds `max_connections_per_address`.
    per_address,
    /// Not from a trusted proxy, or no valid PROXY header.
    proxy_protocol,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusedLabels {
    reason: RefusedConnection,
}

/// Why a new session was refused.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum RefusedSession {
    /// The server is draining.
    draining,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusedSessionLabels {
    reason: RefusedSession,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PathLabels {
    path: String,
}

/// Why a client was sent elsewhere (`302`).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum Redirected {
    /// A `--redirect` rule for the path.
    path,
    /// Over `--redirect-above` sessions: sent to an edge.
    load,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RedirectedLabels {
    reason: Redirected,
}

/// What ended sessions sent, carried into the totals.
#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    frames: u64,
    packets: u64,
    bytes: u64,
    dropped: u64,
    skipped: u64,
}

impl Totals {
    fn add(&mut self, s: &SessionStats) {
        let ld = |a: &AtomicU64| a.load(Ordering::Relaxed);
        self.frames += ld(&s.frames_sent);
        self.packets += ld(&s.packets_sent);
        self.bytes += ld(&s.octets_sent);
        self.dropped += ld(&s.frames_dropped);
        self.skipped += ld(&s.frames_skipped);
    }
}

/// Every series the server exports.
pub struct Metrics {
    registry: Registry,
    sessions: Family<SessionLabels, Gauge>,
    sessions_started: Family<StartLabels, Counter>,
    sessions_refused: Family<RefusedSessionLabels, Counter>,
    redirects: Family<RedirectedLabels, Counter>,
    frames_sent: Counter,
    packets_sent: Counter,
    bytes_sent: Counter,
    frames_dropped: Family<DropLabels, Counter>,
    rr_fraction_lost: Histogram,
    rr_jitter_seconds: Histogram,
    auth_failures: Counter,
    connections_refused: Family<RefusedLabels, Counter>,
    draining: Gauge,
    relay_state: Family<PathLabels, Gauge>,
    relay_reconnects: Family<PathLabels, Counter>,
    retired: Mutex<Totals>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every series registered, all at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("rtsp");
        let m = Self {
            sessions: Family::default(),
            sessions_started: Family::default(),
            sessions_refused: Family::default(),
            redirects: Family::default(),
            frames_sent: Counter::default(),
            packets_sent: Counter::default(),
            bytes_sent: Counter::default(),
            frames_dropped: Family::default(),
            // RFC 3550's 8-bit fraction: 1/256 is the smallest loss a report can show.
            rr_fraction_lost: Histogram::new([0.0, 0.004, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]),
            // 0.1 ms .. about 1.6 s.
            rr_jitter_seconds: Histogram::new(
                prometheus_client::metrics::histogram::exponential_buckets(0.0001, 2.0, 15),
            ),
            auth_failures: Counter::default(),
            connections_refused: Family::default(),
            draining: Gauge::default(),
            relay_state: Family::default(),
            relay_reconnects: Family::default(),
            retired: Mutex::new(Totals::default()),
            registry: Registry::default(),
        };
        registry.register(
            "sessions",
            "Live sessions by presentation path, dialect and RTP transport",
            m.sessions.clone(),
        );
        registry.register(
            "sessions_started",
            "Sessions set up",
            m.sessions_started.clone(),
        );
        registry.register(
            "sessions_refused",
            "New sessions refused (DESCRIBE or SETUP answered 503)",
            m.sessions_refused.clone(),
        );
        registry.register(
            "redirects",
            "DESCRIBE and SETUP requests answered 302, by reason",
            m.redirects.clone(),
        );
        registry.register("frames_sent", "Video frames sent", m.frames_sent.clone());
        registry.register(
            "rtp_packets_sent",
            "RTP packets sent",
            m.packets_sent.clone(),
        );
        registry.register(
            "rtp_payload_bytes_sent",
            "RTP payload bytes sent",
            m.bytes_sent.clone(),
        );
        registry.register(
            "frames_dropped",
            "Video frames not sent, by reason",
            m.frames_dropped.clone(),
        );
        registry.register(
            "rtcp_rr_fraction_lost",
            "Fraction of RTP packets lost, as clients' RTCP receiver reports say",
            m.rr_fraction_lost.clone(),
        );
        registry.register_with_unit(
            "rtcp_rr_jitter",
            "Interarrival jitter, as clients' RTCP receiver reports say",
            prometheus_client::registry::Unit::Seconds,
            m.rr_jitter_seconds.clone(),
        );
        registry.register(
            "auth_failures",
            "Requests refused for wrong or unusable credentials (a first request without any is not counted)",
            m.auth_failures.clone(),
        );
        registry.register(
            "connections_refused",
            "Connections closed at once, by the limit that refused them",
            m.connections_refused.clone(),
        );
        registry.register(
            "draining",
            "1 while the server is draining (no new sessions), else 0",
            m.draining.clone(),
        );
        registry.register(
            "relay_upstream_state",
            "A relayed path's upstream: 0 idle, 1 connecting, 2 streaming, 3 waiting to reconnect",
            m.relay_state.clone(),
        );
        registry.register(
            "relay_reconnects",
            "Attempts to reach a relayed path's upstream again after a failure",
            m.relay_reconnects.clone(),
        );
        Self { registry, ..m }
    }

    /// A relayed path's upstream is now in `state`.
    pub fn relay_state(&self, path: &str, state: crate::server::relay::UpstreamState) {
        self.relay_state
            .get_or_create(&PathLabels {
                path: path.to_owned(),
            })
            .set(state.code());
    }

    /// A relayed path is gone (a path relayed from the origin, let go): its series go too, so
    /// that paths readers merely asked for do not pile up.
    pub fn relay_forget(&self, path: &str) {
        let labels = PathLabels {
            path: path.to_owned(),
        };
        self.relay_state.remove(&labels);
        self.relay_reconnects.remove(&labels);
    }

    /// A relayed path's upstream was tried again `n` more times after failures.
    pub fn relay_reconnects(&self, path: &str, n: u64) {
        self.relay_reconnects
            .get_or_create(&PathLabels {
                path: path.to_owned(),
            })
            .inc_by(n);
    }

    /// A session was set up.
    pub fn session_started(&self, dialect: Dialect, transport: TransportLabel) {
        self.sessions_started
            .get_or_create(&StartLabels {
                dialect: dialect.into(),
                transport,
            })
            .inc();
    }

    /// A new session was refused.
    pub fn session_refused(&self, reason: RefusedSession) {
        self.sessions_refused
            .get_or_create(&RefusedSessionLabels { reason })
            .inc();
    }

    /// A client was redirected.
    pub fn redirected(&self, reason: Redirected) {
        self.redirects
            .get_or_create(&RedirectedLabels { reason })
            .inc();
    }

    /// A session ended: keep what it sent in the totals.
    pub fn retire(&self, stats: &SessionStats) {
        self.retired.lock().add(stats);
    }

    /// A client's RTCP receiver report: RFC 3550's 8-bit loss fraction and its jitter in RTP
    /// timestamp units of `clock_rate` Hz.
    pub fn receiver_report(&self, fraction_lost: u8, jitter: u32, clock_rate: u32) {
        self.rr_fraction_lost
            .observe(f64::from(fraction_lost) / 256.0);
        if clock_rate > 0 {
            self.rr_jitter_seconds
                .observe(f64::from(jitter) / f64::from(clock_rate));
        }
    }

    /// A request failed authentication.
    pub fn auth_failed(&self) {
        self.auth_failures.inc();
    }

    /// A connection was refused.
    pub fn connection_refused(&self, reason: RefusedConnection) {
        self.connections_refused
            .get_or_create(&RefusedLabels { reason })
            .inc();
    }

    /// The exposition, with the session figures taken from `live` now.
    pub fn encode(&self, live: &[Arc<LiveSession>], draining: bool) -> String {
        self.sessions.clear();
        let mut totals = *self.retired.lock();
        for s in live {
            totals.add(&s.stats);
            let labels = SessionLabels {
                path: s.presentation.clone(),
                dialect: s.dialect.into(),
                transport: TransportLabel::of(s.delivery.read().as_ref()),
            };
            self.sessions.get_or_create(&labels).inc();
        }
        raise(&self.frames_sent, totals.frames);
        raise(&self.packets_sent, totals.packets);
        raise(&self.bytes_sent, totals.bytes);
        let dropped = |reason| {
            self.frames_dropped
                .get_or_create(&DropLabels { reason })
                .clone()
        };
        raise(
            &dropped(DropReason::queue_full_or_send_failed),
            totals.dropped,
        );
        raise(&dropped(DropReason::pacing_stall), totals.skipped);
        self.draining.set(i64::from(draining));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Move a counter up to `total` (never down).
fn raise(counter: &Counter, total: u64) {
    let now = counter.get();
    if total > now {
        counter.inc_by(total - now);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn ended_sessions_stay_in_the_totals_and_counters_never_go_down() {
        let m = Metrics::new();
        let text = m.encode(&[], false);
        assert_eq!(sample(&text, "rtsp_frames_sent_total"), Some(0.0));
        assert_eq!(sample(&text, "rtsp_draining"), Some(0.0));
        assert!(text.ends_with("# EOF\n"));

        let stats = SessionStats::default();
        stats.frames_sent.store(7, Ordering::Relaxed);
        stats.packets_sent.store(30, Ordering::Relaxed);
        stats.frames_skipped.store(2, Ordering::Relaxed);
        m.retire(&stats);
        m.session_started(Dialect::Standard, TransportLabel::udp);
        m.connection_refused(RefusedConnection::per_address);
        m.receiver_report(64, 900, 90_000);
        let text = m.encode(&[], true);
        assert_eq!(sample(&text, "rtsp_frames_sent_total"), Some(7.0));
        assert_eq!(sample(&text, "rtsp_rtp_packets_sent_total"), Some(30.0));
        assert_eq!(
            sample(&text, "rtsp_frames_dropped_total{reason=\"pacing_stall\"}"),
            Some(2.0)
        );
        assert_eq!(
            sample(
                &text,
                "rtsp_sessions_started_total{dialect=\"standard\",transport=\"udp\"}"
            ),
            Some(1.0)
        );
        assert_eq!(
            sample(
                &text,
                "rtsp_connections_refused_total{reason=\"per_address\"}"
            ),
            Some(1.0)
        );
        assert_eq!(sample(&text, "rtsp_rtcp_rr_fraction_lost_sum"), Some(0.25));
        assert_eq!(sample(&text, "rtsp_rtcp_rr_jitter_seconds_sum"), Some(0.01));
        assert_eq!(sample(&text, "rtsp_draining"), Some(1.0));

        // A total computed lower than what was already exported (a session between leaving
        // the registry and being retired) leaves the counter where it was.
        raise(&m.frames_sent, 3);
        assert_eq!(m.frames_sent.get(), 7);
    }
}
