//! The receiving end of a published stream: RTP packets in (bytes and arrival time), whole JPEG
//! frames out, through the engine's RFC 2435 [`Depacketizer`].
//!
//! A publisher's bytes are untrusted. What cannot be used is dropped and counted by reason,
//! never fatal: datagrams that are not RTP, another payload type or another source than the
//! one the stream started with, packets beyond the configured rate (a flood), and frames the
//! depacketizer refuses (damaged, or larger than the configured maximum). The runtime decides
//! what to do with the counts (log them at the end of the session, end a session that only
//! sends garbage); this module only keeps them.

use std::time::Duration;

use crate::jpeg::{DepacketizedFrame, Depacketizer, DropReason, DEFAULT_MAX_FRAME_SIZE};
use crate::rtp::{RtpPacketRef, PAYLOAD_TYPE_JPEG};

/// Limits of one published stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IngestConfig {
    /// Largest reassembled JPEG; bigger frames are dropped (`frames_oversized`).
    pub max_frame_size: usize,
    /// Sustained packet rate allowed; packets beyond it are dropped (`dropped_flood`).
    pub max_packets_per_second: u32,
    /// Sustained byte rate allowed (RTP packet bytes).
    pub max_bytes_per_second: u64,
    /// How far above the sustained rates a burst may go, in seconds' worth of them (a large
    /// frame arrives as a burst of packets).
    pub burst_seconds: f64,
}

impl Default for IngestConfig {
    /// 4 MiB frames; 20 000 packets and 32 MiB per second, with one second of burst: far above
    /// any MJPEG camera (1080p at 30 fps is a few MiB/s), far below what would starve readers.
    fn default() -> Self {
        Self {
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_packets_per_second: 20_000,
            max_bytes_per_second: 32 << 20,
            burst_seconds: 1.0,
        }
    }
}

/// Why [`Ingest::push`] dropped a packet before the depacketizer saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IngestDrop {
    /// Not an RTP version 2 packet.
    #[error("not an RTP packet")]
    NotRtp,
    /// An RTP payload type other than JPEG's 26.
    #[error("RTP payload type {0} is not JPEG (26)")]
    PayloadType(u8),
    /// A source other than the one the stream started with.
    #[error("RTP source {0:08X} is not the publisher's")]
    ForeignSource(u32),
    /// Beyond the configured packet or byte rate.
    #[error("beyond the configured rate")]
    Flood,
}

/// What an [`Ingest`] has seen; every packet received lands in exactly one of `packets_used`
/// (given to the depacketizer) and the `dropped_*` counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestCounters {
    /// Packets pushed.
    pub packets_received: u64,
    /// Bytes pushed.
    pub bytes_received: u64,
    /// Packets handed to the depacketizer.
    pub packets_used: u64,
    /// Dropped: not RTP.
    pub dropped_not_rtp: u64,
    /// Dropped: wrong payload type.
    pub dropped_payload_type: u64,
    /// Dropped: another source.
    pub dropped_foreign_source: u64,
    /// Dropped: beyond the rate.
    pub dropped_flood: u64,
    /// Whole frames delivered.
    pub frames: u64,
    /// Frames the depacketizer dropped as damaged (a gap, a bad payload header, corrupt data).
    pub frames_damaged: u64,
    /// Frames dropped for exceeding [`IngestConfig::max_frame_size`].
    pub frames_oversized: u64,
}

impl IngestCounters {
    /// Packets dropped for any reason before the depacketizer.
    pub fn packets_dropped(&self) -> u64 {
        self.dropped_not_rtp
            + self.dropped_payload_type
            + self.dropped_foreign_source
            + self.dropped_flood
    }
}

/// A token bucket on the caller's clock.
#[derive(Debug, Clone)]
struct Bucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Option<Duration>,
}

impl Bucket {
    fn new(rate: f64, burst_seconds: f64) -> Self {
        let capacity = (rate * burst_seconds).max(1.0);
        Self {
            rate,
            capacity,
            tokens: capacity,
            last: None,
        }
    }

    fn refill(&mut self, now: Duration) {
        // A clock that goes backwards refills nothing.
        let elapsed = self.last.map_or(Duration::ZERO, |l| now.saturating_sub(l));
        self.last = Some(self.last.map_or(now, |l| l.max(now)));
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.rate).min(self.capacity);
    }

    fn has(&self, amount: f64) -> bool {
        self.tokens >= amount
    }

    fn take(&mut self, amount: f64) {
        self.tokens -= amount;
    }
}

/// One published stream's ingest (see the module documentation).
#[derive(Debug)]
pub struct Ingest {
    depacketizer: Depacketizer,
    source: Option<u32>,
    packets: Bucket,
    bytes: Bucket,
    counters: IngestCounters,
}

impl Ingest {
    /// An ingest with `config`'s limits.
    pub fn new(config: IngestConfig) -> Self {
        let burst = if config.burst_seconds.is_finite() {
            config.burst_seconds.max(0.0)
        } else {
            1.0
        };
        Self {
            depacketizer: Depacketizer::with_max_frame_size(config.max_frame_size),
            source: None,
            packets: Bucket::new(f64::from(config.max_packets_per_second), burst),
            bytes: Bucket::new(config.max_bytes_per_second as f64, burst),
            counters: IngestCounters::default(),
        }
    }

    /// Takes one RTP packet that arrived at `arrival` (any monotonic clock of the caller's).
    /// Returns the frame it completes, `Ok(None)` if none yet, or why it was dropped.
    pub fn push(
        &mut self,
        packet: &[u8],
        arrival: Duration,
    ) -> Result<Option<DepacketizedFrame>, IngestDrop> {
        self.counters.packets_received += 1;
        self.counters.bytes_received += packet.len() as u64;
        let result = self.accept(packet, arrival);
        if let Err(drop) = result {
            let count = match drop {
                IngestDrop::NotRtp => &mut self.counters.dropped_not_rtp,
                IngestDrop::PayloadType(_) => &mut self.counters.dropped_payload_type,
                IngestDrop::ForeignSource(_) => &mut self.counters.dropped_foreign_source,
                IngestDrop::Flood => &mut self.counters.dropped_flood,
            };
            *count += 1;
        }
        result
    }

    fn accept(
        &mut self,
        packet: &[u8],
        arrival: Duration,
    ) -> Result<Option<DepacketizedFrame>, IngestDrop> {
        // The rate is checked first: a flood of garbage costs no parsing.
        self.packets.refill(arrival);
        self.bytes.refill(arrival);
        let size = packet.len() as f64;
        if !self.packets.has(1.0) || !self.bytes.has(size) {
            return Err(IngestDrop::Flood);
        }
        self.packets.take(1.0);
        self.bytes.take(size);
        let rtp = RtpPacketRef::parse(packet).map_err(|_| IngestDrop::NotRtp)?;
        if rtp.payload_type() != PAYLOAD_TYPE_JPEG {
            return Err(IngestDrop::PayloadType(rtp.payload_type()));
        }
        let ssrc = rtp.ssrc();
        match self.source {
            Some(source) if source != ssrc => return Err(IngestDrop::ForeignSource(ssrc)),
            _ => self.source = Some(ssrc),
        }
        self.counters.packets_used += 1;
        let dropped_before = self.depacketizer.stats().frames_dropped;
        let frame = self
            .depacketizer
            .push(rtp.timestamp(), rtp.marker(), rtp.payload());
        let dropped = self
            .depacketizer
            .stats()
            .frames_dropped
            .saturating_sub(dropped_before);
        if dropped > 0 {
            match self.depacketizer.last_drop() {
                Some(DropReason::FrameTooLarge(_)) => self.counters.frames_oversized += dropped,
                _ => self.counters.frames_damaged += dropped,
            }
        }
        if frame.is_some() {
            self.counters.frames += 1;
        }
        Ok(frame)
    }

    /// What has been received and dropped so far.
    pub fn counters(&self) -> IngestCounters {
        self.counters
    }

    /// The publisher's RTP source, once a packet was accepted.
    pub fn source(&self) -> Option<u32> {
        self.source
    }

    /// Packets the depacketizer holds for an unfinished frame.
    pub fn packets_pending(&self) -> u64 {
        self.depacketizer.packets_pending()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jpeg::{Packetizer, ParsedJpeg};
    use crate::media::TestPattern;
    use crate::rtp::RtpHeader;

    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        TestPattern::new(width, height, 20.0)
            .and_then(|p| p.frame(3))
            .expect("test pattern")
    }

    /// The RTP packets of `jpeg` at `timestamp` from `ssrc`, numbered from `seq`.
    fn packets(jpeg: &[u8], timestamp: u32, ssrc: u32, seq: u16, pt: u8) -> Vec<Vec<u8>> {
        let frame = ParsedJpeg::parse(jpeg).expect("test JPEG parses");
        Packetizer::new()
            .fragments(&frame)
            .enumerate()
            .map(|(i, f)| {
                let mut h = RtpHeader::new(pt, seq.wrapping_add(i as u16), timestamp, ssrc);
                h.marker = f.is_last();
                let mut out = Vec::new();
                h.write_to_vec(&f.to_vec(), &mut out).expect("RTP header");
                out
            })
            .collect()
    }

    fn expect_rtp_jpeg(jpeg: &[u8]) -> Vec<u8> {
        ParsedJpeg::parse(jpeg).expect("parses").to_rtp_jpeg()
    }

    #[test]
    fn whole_frames_come_out() {
        let mut ingest = Ingest::new(IngestConfig::default());
        let jpeg = jpeg(320, 240);
        let mut frames = Vec::new();
        for (n, ts) in [1000u32, 4000, 7000].into_iter().enumerate() {
            for p in packets(&jpeg, ts, 7, (n * 100) as u16, 26) {
                if let Some(f) = ingest.push(&p, Duration::from_millis(ts.into())).unwrap() {
                    frames.push(f);
                }
            }
        }
        assert_eq!(frames.len(), 3);
        assert!(frames.iter().all(|f| f.jpeg == expect_rtp_jpeg(&jpeg)));
        assert_eq!((frames[0].width, frames[0].height), (320, 240));
        let c = ingest.counters();
        assert_eq!((c.frames, c.packets_dropped()), (3, 0));
        assert_eq!(c.packets_used, c.packets_received);
        assert_eq!(ingest.source(), Some(7));
    }

    #[test]
    fn garbage_other_payloads_and_other_sources_are_dropped_and_counted() {
        let mut ingest = Ingest::new(IngestConfig::default());
        let jpeg = jpeg(64, 48);
        let now = Duration::from_secs(1);
        assert_eq!(ingest.push(b"hello", now), Err(IngestDrop::NotRtp));
        assert_eq!(ingest.push(&[], now), Err(IngestDrop::NotRtp));
        let h264 = packets(&jpeg, 1, 7, 0, 96);
        assert_eq!(ingest.push(&h264[0], now), Err(IngestDrop::PayloadType(96)));
        let mut out = None;
        for p in packets(&jpeg, 1, 7, 0, 26) {
            out = ingest.push(&p, now).unwrap().or(out);
        }
        assert!(out.is_some());
        let intruder = packets(&jpeg, 2, 8, 50, 26);
        assert_eq!(
            ingest.push(&intruder[0], now),
            Err(IngestDrop::ForeignSource(8))
        );
        let c = ingest.counters();
        assert_eq!(
            (
                c.dropped_not_rtp,
                c.dropped_payload_type,
                c.dropped_foreign_source,
                c.frames
            ),
            (2, 1, 1, 1)
        );
        assert_eq!(c.packets_received, c.packets_used + c.packets_dropped());
    }

    #[test]
    fn oversized_and_damaged_frames_are_dropped_and_counted() {
        let jpeg = jpeg(320, 240);
        let config = IngestConfig {
            max_frame_size: 1000,
            ..IngestConfig::default()
        };
        let mut ingest = Ingest::new(config);
        let now = Duration::from_secs(1);
        for p in packets(&jpeg, 1, 7, 0, 26) {
            assert_eq!(ingest.push(&p, now), Ok(None));
        }
        assert_eq!(ingest.counters().frames_oversized, 1);

        let mut ingest = Ingest::new(IngestConfig::default());
        let all = packets(&jpeg, 1, 7, 0, 26);
        assert!(all.len() > 2, "the frame spans several packets");
        // The second packet is lost: the frame cannot be completed.
        for (i, p) in all.iter().enumerate() {
            if i != 1 {
                assert_eq!(ingest.push(p, now), Ok(None));
            }
        }
        // The next frame comes out whole; the broken one was counted.
        let mut out = None;
        for p in packets(&jpeg, 3001, 7, 100, 26) {
            out = ingest.push(&p, now).unwrap().or(out);
        }
        assert_eq!(out.map(|f| f.jpeg), Some(expect_rtp_jpeg(&jpeg)));
        let c = ingest.counters();
        assert_eq!((c.frames, c.frames_damaged, c.frames_oversized), (1, 1, 0));
    }

    #[test]
    fn a_flood_beyond_the_rate_is_dropped_and_the_rate_recovers() {
        let config = IngestConfig {
            max_packets_per_second: 100,
            burst_seconds: 0.5,
            ..IngestConfig::default()
        };
        let mut ingest = Ingest::new(config);
        // 1000 packets within one instant: the burst (50) passes, the rest is a flood.
        let t0 = Duration::from_secs(10);
        for _ in 0..1000 {
            let _ = ingest.push(b"x", t0);
        }
        let c = ingest.counters();
        assert_eq!((c.dropped_not_rtp, c.dropped_flood), (50, 950));
        // One second later the bucket holds the burst again (capped), not a second's worth.
        for _ in 0..100 {
            let _ = ingest.push(b"x", t0 + Duration::from_secs(1));
        }
        let c = ingest.counters();
        assert_eq!((c.dropped_not_rtp, c.dropped_flood), (100, 1000));
        // A clock that goes backwards grants nothing.
        assert_eq!(ingest.push(b"x", t0), Err(IngestDrop::Flood));
    }

    #[test]
    fn byte_rate_limits_too() {
        let config = IngestConfig {
            max_bytes_per_second: 10_000,
            burst_seconds: 1.0,
            ..IngestConfig::default()
        };
        let mut ingest = Ingest::new(config);
        let big = vec![0u8; 4000];
        let now = Duration::ZERO;
        assert_eq!(ingest.push(&big, now), Err(IngestDrop::NotRtp));
        assert_eq!(ingest.push(&big, now), Err(IngestDrop::NotRtp));
        assert_eq!(ingest.push(&big, now), Err(IngestDrop::Flood));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn never_panics_and_counts_every_packet(
                packets in proptest::collection::vec((proptest::collection::vec(any::<u8>(), 0..300), 0u64..5_000), 0..60)
            ) {
                let mut ingest = Ingest::new(IngestConfig { max_packets_per_second: 50, ..IngestConfig::default() });
                for (bytes, ms) in &packets {
                    if let Ok(Some(frame)) = ingest.push(bytes, Duration::from_millis(*ms)) {
                        prop_assert!(ParsedJpeg::parse(&frame.jpeg).is_ok());
                    }
                }
                let c = ingest.counters();
                prop_assert_eq!(c.packets_received, packets.len() as u64);
                prop_assert_eq!(c.packets_received, c.packets_used + c.packets_dropped());
            }
        }
    }
}
