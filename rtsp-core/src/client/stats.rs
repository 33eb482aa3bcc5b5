//! Receiver statistics as the embedder sees them (the lab's optional exercise 1, done properly).
//!
//! Packet-level numbers (loss, duplicates, reordering, jitter) come from the RTP receiver
//! statistics of RFC 3550 A.1/A.3/A.8; this module adds what only the client knows: frames,
//! byte and frame rates over a sliding second, and the PLAY-to-first-frame latency. Time is passed
//! in, so the arithmetic is testable without sleeping.

use std::time::{Duration, Instant};

/// A snapshot of the receive statistics. Plain data, cheap to copy.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stats {
    /// RTP packets received, duplicates excluded (unlike the letter of RFC 3550 A.3, so that
    /// duplicates cannot hide losses; they are counted in `packets_duplicated`).
    pub packets_received: u64,
    /// RTP packets expected from the sequence numbers seen (RFC 3550 A.3).
    pub packets_expected: u64,
    /// Packets lost: expected minus received, never negative.
    pub packets_lost: u64,
    /// Packets that arrived more than once.
    pub packets_duplicated: u64,
    /// Packets that arrived after a packet with a higher sequence number.
    pub packets_reordered: u64,
    /// `packets_lost / packets_expected`, 0 when nothing was expected.
    pub loss_rate: f64,
    /// RTP bytes received (headers included).
    pub bytes_received: u64,
    /// Frames reassembled and delivered (or dropped by a slow consumer).
    pub frames_complete: u64,
    /// Frames discarded because a packet was missing or inconsistent.
    pub frames_broken: u64,
    /// Complete frames the consumer never saw because a newer one replaced them.
    pub frames_dropped: u64,
    /// Interarrival jitter (RFC 3550 A.8) in milliseconds.
    pub jitter_ms: f64,
    /// Bytes per second over the last second.
    pub bitrate_last_second: f64,
    /// Bytes per second from the first packet to the last.
    pub bitrate_overall: f64,
    /// Complete frames per second over the last second.
    pub frame_rate: f64,
    /// Time from sending PLAY to the first complete frame, if one arrived.
    pub first_frame_latency: Option<Duration>,
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

/// Number of buckets in the sliding one-second window.
const BUCKETS: usize = 10;
/// Width of one bucket.
const BUCKET_WIDTH: Duration = Duration::from_millis(100);

/// A sum over the last second, kept in ten 100 ms buckets so that memory stays constant at any
/// packet rate.
#[derive(Debug, Clone)]
struct SlidingSum {
    buckets: [u64; BUCKETS],
    /// Index (in bucket widths since `origin`) of the newest bucket.
    head: u64,
    origin: Instant,
}

impl SlidingSum {
    fn new(origin: Instant) -> Self {
        Self {
            buckets: [0; BUCKETS],
            head: 0,
            origin,
        }
    }

    fn slot(&self, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(self.origin);
        (elapsed.as_millis() / BUCKET_WIDTH.as_millis()) as u64
    }

    /// Moves the window to `now`, zeroing the buckets that fell out of it.
    fn advance(&mut self, now: Instant) {
        let slot = self.slot(now);
        if slot <= self.head {
            return;
        }
        let steps = (slot - self.head).min(BUCKETS as u64);
        for i in 1..=steps {
            let idx = ((self.head + i) % BUCKETS as u64) as usize;
            if let Some(b) = self.buckets.get_mut(idx) {
                *b = 0;
            }
        }
        self.head = slot;
    }

    fn add(&mut self, now: Instant, amount: u64) {
        self.advance(now);
        let idx = (self.head % BUCKETS as u64) as usize;
        if let Some(b) = self.buckets.get_mut(idx) {
            *b = b.saturating_add(amount);
        }
    }

    /// Sum over the last second as of `now`.
    fn per_second(&mut self, now: Instant) -> f64 {
        self.advance(now);
        self.buckets.iter().sum::<u64>() as f64
    }
}

/// Accumulates what the client runtime observes and produces [`Stats`] snapshots.
#[derive(Debug, Clone)]
pub struct StatsCollector {
    bytes: u64,
    bytes_window: SlidingSum,
    frames_window: SlidingSum,
    first_packet: Option<Instant>,
    last_packet: Option<Instant>,
    frames_complete: u64,
    frames_broken: u64,
    frames_dropped: u64,
    play_sent: Option<Instant>,
    first_frame_latency: Option<Duration>,
}

impl StatsCollector {
    /// A collector whose clock starts at `now`.
    pub fn new(now: Instant) -> Self {
        Self {
            bytes: 0,
            bytes_window: SlidingSum::new(now),
            frames_window: SlidingSum::new(now),
            first_packet: None,
            last_packet: None,
            frames_complete: 0,
            frames_broken: 0,
            frames_dropped: 0,
            play_sent: None,
            first_frame_latency: None,
        }
    }

    /// Records that PLAY was sent at `now`; the next complete frame measures the latency.
    /// Only the first PLAY of the session counts, so a resume after PAUSE does not reset it.
    pub fn on_play_sent(&mut self, now: Instant) {
        if self.play_sent.is_none() {
            self.play_sent = Some(now);
        }
    }

    /// Records one received RTP packet of `len` bytes.
    pub fn on_packet(&mut self, now: Instant, len: usize) {
        self.bytes = self.bytes.saturating_add(len as u64);
        self.bytes_window.add(now, len as u64);
        if self.first_packet.is_none() {
            self.first_packet = Some(now);
        }
        self.last_packet = Some(now);
    }

    /// Records one complete frame.
    pub fn on_frame_complete(&mut self, now: Instant) {
        self.frames_complete += 1;
        self.frames_window.add(now, 1);
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
        let bitrate_overall = match (self.first_packet, self.last_packet) {
            (Some(first), Some(last)) => {
                let span = last.saturating_duration_since(first).as_secs_f64();
                if span > 0.0 {
                    self.bytes as f64 / span
                } else {
                    0.0
                }
            }
            _ => 0.0,
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
            bitrate_last_second: self.bytes_window.per_second(now),
            bitrate_overall,
            frame_rate: self.frames_window.per_second(now),
            first_frame_latency: self.first_frame_latency,
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
    fn sliding_window_forgets_after_one_second() {
        let t0 = Instant::now();
        let mut c = StatsCollector::new(t0);
        for i in 0..20 {
            c.on_packet(t0 + ms(50 * i), 1000);
            c.on_frame_complete(t0 + ms(50 * i));
        }
        let s = c.snapshot(t0 + ms(999), PacketCounters::default());
        assert_eq!(s.bytes_received, 20_000);
        assert_eq!(s.bitrate_last_second, 20_000.0);
        assert_eq!(s.frame_rate, 20.0);
        // 1.5 s later only nothing remains in the window, but the overall rate is kept.
        let s = c.snapshot(t0 + ms(2_500), PacketCounters::default());
        assert_eq!(s.bitrate_last_second, 0.0);
        assert_eq!(s.frame_rate, 0.0);
        assert!((s.bitrate_overall - 20_000.0 / 0.95).abs() < 1.0);
    }

    #[test]
    fn window_is_partial_when_half_old() {
        let t0 = Instant::now();
        let mut c = StatsCollector::new(t0);
        c.on_packet(t0, 100);
        c.on_packet(t0 + ms(600), 100);
        let s = c.snapshot(t0 + ms(1_050), PacketCounters::default());
        assert_eq!(s.bitrate_last_second, 100.0);
    }

    #[test]
    fn loss_rate_and_latency() {
        let t0 = Instant::now();
        let mut c = StatsCollector::new(t0);
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
        assert_eq!(s.first_frame_latency, Some(ms(120)));
        assert_eq!(
            (s.frames_complete, s.frames_broken, s.frames_dropped),
            (2, 2, 3)
        );
        assert_eq!(s.jitter_ms, 1.5);
    }

    #[test]
    fn more_received_than_expected_is_not_negative_loss() {
        let t0 = Instant::now();
        let mut c = StatsCollector::new(t0);
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
}
