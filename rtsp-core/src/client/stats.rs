//! Receiver statistics as the embedder sees them (the lab's optional exercise 1, done properly).
//!
//! Packet-level numbers (loss, duplicates, reordering, jitter) come from the RTP receiver
//! statistics of RFC 3550 A.1/A.3/A.8; this module adds what only the client knows: frames,
//! frame and bit rates (amounts over the time they span, see [`RATE_WINDOW`]), and the
//! PLAY-to-first-frame latency. Time is passed in, so the arithmetic is testable without
//! sleeping.
//!
//! [`Stats`] is the one definition for every language: it is `#[repr(C)]` and cbindgen
//! exports it as the C ABI's `rtsp_core_stats`, and the Python module builds `rtsp_core.Stats`
//! from [`Stats::FIELDS`] and [`Stats::values`], whose field list the compiler checks against
//! the struct.

use std::time::{Duration, Instant};

use super::rate::RateMeter;
pub use super::rate::RATE_WINDOW;

/// A snapshot of the receive statistics. Plain data, cheap to copy; every field is a 64-bit
/// number, and its name says its unit.
///
/// The same struct is `rtsp_core_stats` in C and `rtsp_core.Stats` in Python.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// RTP packets received, duplicates excluded (they are counted in `packets_duplicated`, so
    /// they cannot hide losses). In the lab dialect one packet is one frame.
    pub packets_received: u64,
    /// RTP packets expected from the sequence numbers seen (RFC 3550 A.3), summed over the
    /// runs of numbering: a sender restart, or the lab's FORWARD, BACKWARD and RESTART
    /// (which renumber the frames on purpose), starts a new run.
    pub packets_expected: u64,
    /// Packets lost: `packets_expected - packets_received`, never negative.
    pub packets_lost: u64,
    /// Packets that arrived more than once.
    pub packets_duplicated: u64,
    /// Packets that arrived after a packet with a higher sequence number.
    pub packets_reordered: u64,
    /// `packets_lost / packets_expected`, a fraction from 0 to 1; 0 when nothing was expected.
    pub loss_rate: f64,
    /// RTP bytes received, headers included.
    pub bytes_received: u64,
    /// Frames reassembled and delivered (or dropped by a slow consumer).
    pub frames_complete: u64,
    /// Frames discarded because a packet was missing or inconsistent.
    pub frames_broken: u64,
    /// Complete frames the consumer never saw because a newer one replaced them.
    pub frames_dropped: u64,
    /// Interarrival jitter (RFC 3550 A.8) in milliseconds; 0 in the lab dialect, whose
    /// timestamps count whole seconds.
    pub jitter_ms: f64,
    /// Bits per second over the last 2 seconds: the bits that arrived after the first frame in
    /// that window, over the time from it to the last frame (stretched by a stall).
    pub bitrate_bps_recent: f64,
    /// Bits per second while playing: the same over every PLAY's frames, pauses excluded.
    pub bitrate_bps_overall: f64,
    /// Complete frames per second over the last 2 seconds: the frames after the first in that
    /// window, over the time from it to the last (stretched by a stall).
    pub frame_rate_fps_recent: f64,
    /// Complete frames per second while playing: the same over every PLAY, pauses excluded.
    pub frame_rate_fps_overall: f64,
    /// Milliseconds from sending PLAY to the first complete frame; -1 until one arrived.
    pub first_frame_latency_ms: f64,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            packets_received: 0,
            packets_expected: 0,
            packets_lost: 0,
            packets_duplicated: 0,
            packets_reordered: 0,
            loss_rate: 0.0,
            bytes_received: 0,
            frames_complete: 0,
            frames_broken: 0,
            frames_dropped: 0,
            jitter_ms: 0.0,
            bitrate_bps_recent: 0.0,
            bitrate_bps_overall: 0.0,
            frame_rate_fps_recent: 0.0,
            frame_rate_fps_overall: 0.0,
            first_frame_latency_ms: -1.0,
        }
    }
}

/// How a field of [`Stats`] reads in a dynamically typed language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatsKind {
    /// A count (`u64`).
    Count,
    /// A measurement (`f64`).
    Number,
    /// A measurement (`f64`) that is negative while there is none (Python's `None`).
    Optional,
}

/// The value of one field of [`Stats`], as [`Stats::values`] gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StatsValue {
    /// A count.
    Count(u64),
    /// A measurement.
    Number(f64),
    /// An [`Optional`](StatsKind::Optional) measurement that is not there yet.
    Missing,
}

/// A field's Rust type, read as its [`StatsKind`] says.
trait FieldValue {
    fn value(self, kind: StatsKind) -> StatsValue;
}

impl FieldValue for u64 {
    fn value(self, _: StatsKind) -> StatsValue {
        StatsValue::Count(self)
    }
}

impl FieldValue for f64 {
    fn value(self, kind: StatsKind) -> StatsValue {
        // NaN is no measurement either.
        if kind == StatsKind::Optional && (self < 0.0 || self.is_nan()) {
            StatsValue::Missing
        } else {
            StatsValue::Number(self)
        }
    }
}

/// The field list other languages are built from, once per field.
macro_rules! stats_fields {
    ($ty:ident { $($name:ident: $kind:ident),* $(,)? }) => {
        impl $ty {
            /// Every field's name and kind, in declaration order.
            pub const FIELDS: &'static [(&'static str, StatsKind)] =
                &[$((stringify!($name), StatsKind::$kind)),*];

            /// Every field's name and value, in the order of [`FIELDS`](Self::FIELDS).
            pub fn values(&self) -> Vec<(&'static str, StatsValue)> {
                // No `..`: a field of the struct missing from the list does not compile.
                let Self { $($name),* } = *self;
                vec![$((stringify!($name), $name.value(StatsKind::$kind))),*]
            }

            /// The value of the field called `name`, if there is one.
            pub fn value(&self, name: &str) -> Option<StatsValue> {
                self.values()
                    .into_iter()
                    .find_map(|(n, v)| (n == name).then_some(v))
            }
        }
    };
}

stats_fields! { Stats {
    packets_received: Count,
    packets_expected: Count,
    packets_lost: Count,
    packets_duplicated: Count,
    packets_reordered: Count,
    loss_rate: Number,
    bytes_received: Count,
    frames_complete: Count,
    frames_broken: Count,
    frames_dropped: Count,
    jitter_ms: Number,
    bitrate_bps_recent: Number,
    bitrate_bps_overall: Number,
    frame_rate_fps_recent: Number,
    frame_rate_fps_overall: Number,
    first_frame_latency_ms: Optional,
} }

impl Stats {
    /// [`first_frame_latency_ms`](Self::first_frame_latency_ms) as a duration, if a frame
    /// arrived.
    pub fn first_frame_latency(&self) -> Option<Duration> {
        match self.first_frame_latency_ms.value(StatsKind::Optional) {
            StatsValue::Number(ms) => Duration::try_from_secs_f64(ms / 1000.0).ok(),
            _ => None,
        }
    }
}

/// Packet counters produced by the RTP layer, merged into [`Stats`] by [`StatsCollector::snapshot`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PacketCounters {
    /// Distinct packets received (duplicates excluded).
    pub received: u64,
    /// Packets expected from the extended sequence numbers.
    pub expected: u64,
    /// Packets received twice or more.
    pub duplicated: u64,
    /// Packets that arrived out of order.
    pub reordered: u64,
    /// Interarrival jitter in milliseconds.
    pub jitter_ms: f64,
}

/// Without a complete frame for this long, the bytes received meanwhile enter the bitrate on
/// their own (every frame broken would otherwise read 0 bit/s while data flows).
const BYTES_WITHOUT_FRAME: Duration = Duration::from_secs(1);

/// Accumulates what the client runtime observes and produces [`Stats`] snapshots.
///
/// Bytes enter the bitrate when the frame they belong to completes, so both rates span the
/// same frames: a frame's packets arrive in a burst, and a window edge falling inside a burst
/// would otherwise count part of a frame too many.
#[derive(Debug, Clone, Default)]
pub struct StatsCollector {
    bytes: u64,
    /// Bytes received since the last complete frame, and when the first of them arrived.
    unframed: (u64, Option<Instant>),
    byte_rate: RateMeter,
    frame_rate: RateMeter,
    frames_complete: u64,
    frames_broken: u64,
    frames_dropped: u64,
    play_sent: Option<Instant>,
    first_frame_latency: Option<Duration>,
}

impl StatsCollector {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that PLAY was sent at `now`. The first PLAY of the session starts the
    /// first-frame latency (a resume after PAUSE does not reset it); every PLAY starts a new
    /// run of the rates, so the pause before it counts in none.
    pub fn on_play_sent(&mut self, now: Instant) {
        if self.play_sent.is_none() {
            self.play_sent = Some(now);
        }
        self.byte_rate.new_run();
        self.frame_rate.new_run();
        self.unframed = (0, None);
    }

    /// Records one received RTP packet of `len` bytes.
    pub fn on_packet(&mut self, now: Instant, len: usize) {
        let len = len as u64;
        self.bytes = self.bytes.saturating_add(len);
        let (pending, since) = &mut self.unframed;
        *pending = pending.saturating_add(len);
        let since = *since.get_or_insert(now);
        if now.saturating_duration_since(since) >= BYTES_WITHOUT_FRAME {
            self.flush_bytes(now);
        }
    }

    fn flush_bytes(&mut self, at: Instant) {
        let (pending, _) = std::mem::take(&mut self.unframed);
        self.byte_rate.record(at, pending);
    }

    /// Records one complete frame.
    pub fn on_frame_complete(&mut self, now: Instant) {
        self.frames_complete += 1;
        self.frame_rate.record(now, 1);
        self.flush_bytes(now);
        if self.first_frame_latency.is_none() {
            if let Some(sent) = self.play_sent {
                self.first_frame_latency = Some(now.saturating_duration_since(sent));
            }
        }
    }

    /// Records `count` frames discarded as incomplete.
    pub fn on_frames_broken(&mut self, count: u64) {
        self.frames_broken = self.frames_broken.saturating_add(count);
    }

    /// Records `count` frames replaced before the consumer took them.
    pub fn on_frames_dropped(&mut self, count: u64) {
        self.frames_dropped = self.frames_dropped.saturating_add(count);
    }

    /// The statistics as of `now`, merged with the RTP layer's packet counters.
    pub fn snapshot(&mut self, now: Instant, packets: PacketCounters) -> Stats {
        let lost = packets.expected.saturating_sub(packets.received);
        let loss_rate = if packets.expected == 0 {
            0.0
        } else {
            lost as f64 / packets.expected as f64
        };
        Stats {
            packets_received: packets.received,
            packets_expected: packets.expected,
            packets_lost: lost,
            packets_duplicated: packets.duplicated,
            packets_reordered: packets.reordered,
            loss_rate,
            bytes_received: self.bytes,
            frames_complete: self.frames_complete,
            frames_broken: self.frames_broken,
            frames_dropped: self.frames_dropped,
            jitter_ms: packets.jitter_ms,
            bitrate_bps_recent: self.byte_rate.recent(now) * 8.0,
            bitrate_bps_overall: self.byte_rate.overall() * 8.0,
            frame_rate_fps_recent: self.frame_rate.recent(now),
            frame_rate_fps_overall: self.frame_rate.overall(),
            first_frame_latency_ms: self
                .first_frame_latency
                .map_or(-1.0, |d| d.as_secs_f64() * 1000.0),
        }
    }
}

/// What a publisher has sent (`Publisher::counters`); `rtsp_core_publisher_counters` in C.
/// [`PublisherStats`] says more; this subset stays for C programs built against it.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublisherCounters {
    /// Frames sent.
    pub frames_sent: u64,
    /// Frames that were re-encoded before sending.
    pub frames_reencoded: u64,
    /// RTP packets sent.
    pub packets_sent: u64,
    /// RTP payload bytes sent.
    pub bytes_sent: u64,
}

/// A publisher's statistics (`Publisher::stats`): what it sent, what it refused and why,
/// and what the server reported back in RTCP receiver reports. Plain data, every field a
/// 64-bit number whose name says its unit, like [`Stats`].
///
/// The same struct is `rtsp_core_publisher_stats` in C and `rtsp_core.PublisherStats` in
/// Python.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublisherStats {
    /// Frames sent (each as one or more RTP packets).
    pub frames_sent: u64,
    /// RTP packets sent.
    pub packets_sent: u64,
    /// RTP payload bytes sent (RFC 2435 headers and JPEG data, without RTP headers).
    pub bytes_sent: u64,
    /// Frames sent after re-encoding (they were not JPEGs RFC 2435 can carry, and the
    /// configuration asked to re-encode).
    pub frames_reencoded: u64,
    /// Frames refused because they were not JPEG data at all.
    pub frames_refused_not_jpeg: u64,
    /// Frames refused because they were JPEGs RFC 2435 cannot carry (progressive, 4:4:4,
    /// truncated...) and re-encoding was off.
    pub frames_refused_unsupported: u64,
    /// Frames refused because re-encoding was asked for and failed (not an image the
    /// decoder knows).
    pub frames_refused_reencode_failed: u64,
    /// UDP only: RTP packets the local socket buffer had no room for, dropped as the network
    /// would drop them.
    pub packets_dropped: u64,
    /// RTCP receiver reports about this stream received from the server (servers need not
    /// send any; rtsp-server does not, GStreamer's does).
    pub receiver_reports: u64,
    /// The last report's fraction of packets lost since the one before, 0 to 1; -1 until a
    /// report arrived.
    pub report_fraction_lost: f64,
    /// The last report's cumulative count of packets lost (0 when the server counted
    /// duplicates beyond the losses); 0 until a report arrived.
    pub report_packets_lost: u64,
    /// The last report's interarrival jitter (RFC 3550 A.8) in milliseconds; -1 until a
    /// report arrived.
    pub report_jitter_ms: f64,
}

impl Default for PublisherStats {
    fn default() -> Self {
        Self {
            frames_sent: 0,
            packets_sent: 0,
            bytes_sent: 0,
            frames_reencoded: 0,
            frames_refused_not_jpeg: 0,
            frames_refused_unsupported: 0,
            frames_refused_reencode_failed: 0,
            packets_dropped: 0,
            receiver_reports: 0,
            report_fraction_lost: -1.0,
            report_packets_lost: 0,
            report_jitter_ms: -1.0,
        }
    }
}

stats_fields! { PublisherStats {
    frames_sent: Count,
    packets_sent: Count,
    bytes_sent: Count,
    frames_reencoded: Count,
    frames_refused_not_jpeg: Count,
    frames_refused_unsupported: Count,
    frames_refused_reencode_failed: Count,
    packets_dropped: Count,
    receiver_reports: Count,
    report_fraction_lost: Optional,
    report_packets_lost: Count,
    report_jitter_ms: Optional,
} }

impl PublisherStats {
    /// Takes in a receiver report block about the publisher's stream.
    pub(crate) fn on_report(&mut self, block: &crate::rtp::rtcp::ReportBlock, clock_rate: u32) {
        self.receiver_reports += 1;
        self.report_fraction_lost = block.fraction_lost_f64();
        self.report_packets_lost = u64::try_from(block.cumulative_lost).unwrap_or(0);
        self.report_jitter_ms = f64::from(block.jitter) * 1000.0 / f64::from(clock_rate.max(1));
    }

    /// The older [`PublisherCounters`] view, for the C getter programs were built against.
    pub fn counters(&self) -> PublisherCounters {
        PublisherCounters {
            frames_sent: self.frames_sent,
            frames_reencoded: self.frames_reencoded,
            packets_sent: self.packets_sent,
            bytes_sent: self.bytes_sent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn frame_rate_is_frames_over_their_span() {
        // 20 fps whose arrivals are not aligned with any clock grid: every snapshot of a steady
        // stream must read 20, not 19 or 21 depending on where the last second's edge falls.
        let t0 = Instant::now();
        let mut c = StatsCollector::new();
        let start = t0 + ms(37);
        let mut readings = Vec::new();
        for i in 0..200u64 {
            let at = start + ms(50 * i);
            c.on_packet(at, 1000);
            c.on_frame_complete(at);
            if i >= 60 && i % 7 == 0 {
                let s = c.snapshot(at + ms(13 * (i % 3)), PacketCounters::default());
                readings.push(s.frame_rate_fps_recent);
            }
        }
        assert!(
            readings.iter().all(|r| (r - 20.0).abs() < 0.01),
            "readings of a steady 20 fps stream: {readings:?}"
        );
        let s = c.snapshot(start + ms(50 * 199), PacketCounters::default());
        assert!((s.frame_rate_fps_overall - 20.0).abs() < 1e-9);
    }

    #[test]
    fn bitrates_are_bits_per_second_over_whole_frames() {
        // Five packets of 1000 bytes per frame arriving in a burst, a frame every 50 ms:
        // 5000 bytes * 8 * 20 = 800 kbit/s, wherever the window's edge cuts.
        let t0 = Instant::now();
        let mut c = StatsCollector::new();
        c.on_play_sent(t0);
        for frame in 0..100u32 {
            for packet in 0..5u32 {
                let at = t0 + ms(13) + ms(50) * frame + Duration::from_micros(30) * packet;
                c.on_packet(at, 1000);
                if packet == 4 {
                    c.on_frame_complete(at);
                }
            }
            if frame > 50 {
                let now = t0 + ms(13) + ms(50) * frame + ms(u64::from(frame % 5) * 9);
                let s = c.snapshot(now, PacketCounters::default());
                assert!(
                    (s.bitrate_bps_recent - 800_000.0).abs() < 1.0,
                    "frame {frame}: {}",
                    s.bitrate_bps_recent
                );
            }
        }
        let s = c.snapshot(t0 + ms(8_000), PacketCounters::default());
        assert!((s.bitrate_bps_overall - 800_000.0).abs() < 1.0);
        assert_eq!(s.bytes_received, 500_000);
        assert_eq!(s.bitrate_bps_recent, 0.0, "nothing arrived for 3 s");
    }

    #[test]
    fn bytes_count_even_when_no_frame_completes() {
        let t0 = Instant::now();
        let mut c = StatsCollector::new();
        for i in 0..60u64 {
            c.on_packet(t0 + ms(50 * i), 1000);
        }
        let s = c.snapshot(t0 + ms(50 * 59), PacketCounters::default());
        assert!(s.bitrate_bps_recent > 0.0, "{s:?}");
        assert_eq!(s.frame_rate_fps_recent, 0.0);
    }

    #[test]
    fn loss_rate_and_latency() {
        let t0 = Instant::now();
        let mut c = StatsCollector::new();
        assert_eq!(
            c.snapshot(t0, PacketCounters::default())
                .first_frame_latency(),
            None
        );
        c.on_play_sent(t0);
        c.on_play_sent(t0 + ms(500));
        c.on_frame_complete(t0 + ms(120));
        c.on_frame_complete(t0 + ms(170));
        c.on_frames_broken(2);
        c.on_frames_dropped(3);
        let s = c.snapshot(
            t0 + ms(200),
            PacketCounters {
                received: 90,
                expected: 100,
                duplicated: 1,
                reordered: 2,
                jitter_ms: 1.5,
            },
        );
        assert_eq!(s.packets_lost, 10);
        assert!((s.loss_rate - 0.1).abs() < 1e-12);
        assert_eq!(s.first_frame_latency(), Some(ms(120)));
        assert!((s.first_frame_latency_ms - 120.0).abs() < 1e-9);
        assert_eq!(
            (s.frames_complete, s.frames_broken, s.frames_dropped),
            (2, 2, 3)
        );
        assert_eq!(s.jitter_ms, 1.5);
    }

    #[test]
    fn more_received_than_expected_is_not_negative_loss() {
        let t0 = Instant::now();
        let mut c = StatsCollector::new();
        let s = c.snapshot(
            t0,
            PacketCounters {
                received: 12,
                expected: 10,
                ..PacketCounters::default()
            },
        );
        assert_eq!(s.packets_lost, 0);
        assert_eq!(s.loss_rate, 0.0);
    }

    #[test]
    fn the_field_list_is_the_struct() {
        // Every field is 8 bytes: the list has as many entries as the struct has fields.
        assert_eq!(
            Stats::FIELDS.len() * 8,
            std::mem::size_of::<Stats>(),
            "{:?}",
            Stats::FIELDS
        );
        let stats = Stats {
            packets_received: 7,
            first_frame_latency_ms: 12.5,
            ..Stats::default()
        };
        let values = stats.values();
        for ((name, kind), (value_name, value)) in Stats::FIELDS.iter().zip(&values) {
            assert_eq!(name, value_name);
            let matches = match value {
                StatsValue::Count(_) => *kind == StatsKind::Count,
                StatsValue::Number(_) => *kind != StatsKind::Count,
                StatsValue::Missing => *kind == StatsKind::Optional,
            };
            assert!(matches, "{name}: {kind:?} but {value:?}");
        }
        assert_eq!(stats.value("packets_received"), Some(StatsValue::Count(7)));
        assert_eq!(
            stats.value("first_frame_latency_ms"),
            Some(StatsValue::Number(12.5))
        );
        assert_eq!(
            Stats::default().value("first_frame_latency_ms"),
            Some(StatsValue::Missing)
        );
        assert_eq!(stats.value("bitrate_overall"), None);
    }
}
