//! Sans-I/O receive pipeline (placeholder until rtp/jpeg land).

use std::time::{Duration, Instant};

use super::event::Frame;
use super::session::PlayInfo;
use super::stats::{PacketCounters, Stats, StatsCollector};

/// Packets in, frames and statistics out.
#[derive(Debug)]
pub struct MediaReceiver {
    collector: StatsCollector,
    lab: Option<Duration>,
}

impl MediaReceiver {
    /// Standard.
    pub fn standard() -> Self {
        Self {
            collector: StatsCollector::new(Instant::now()),
            lab: None,
        }
    }
    /// Lab.
    pub fn lab(interval: Duration) -> Self {
        Self {
            collector: StatsCollector::new(Instant::now()),
            lab: Some(interval),
        }
    }
    /// Stats.
    pub fn stats(&mut self, now: Instant) -> Stats {
        self.collector.snapshot(now, PacketCounters::default())
    }
    /// play sent.
    pub fn on_play_sent(&mut self, now: Instant) {
        self.collector.on_play_sent(now)
    }
    /// play reply.
    pub fn on_play(&mut self, _p: &PlayInfo) {}
    /// position.
    pub fn position(&self) -> Duration {
        Duration::ZERO
    }
    /// set position.
    pub fn set_position(&mut self, _d: Duration) {}
    /// poll.
    pub fn poll(&mut self, _now: Instant) -> Vec<Frame> {
        Vec::new()
    }
    /// silence.
    pub fn silent_for(&self, _now: Instant) -> Option<Duration> {
        let _ = self.lab;
        None
    }
    /// ended.
    pub fn mark_ended(&mut self) {}
    /// rtp.
    pub fn push_rtp(&mut self, _now: Instant, _p: &[u8]) -> Vec<Frame> {
        Vec::new()
    }
    /// rtcp.
    pub fn push_rtcp(&mut self, _now: Instant, _p: &[u8]) -> bool {
        false
    }
    /// flush.
    pub fn flush(&mut self) -> Vec<Frame> {
        Vec::new()
    }
    /// dropped.
    pub fn on_frames_dropped(&mut self, n: u64) {
        self.collector.on_frames_dropped(n)
    }
    /// eos.
    pub fn take_end_of_stream(&mut self) -> bool {
        false
    }
    /// rr.
    pub fn receiver_report(&mut self, _now: Instant) -> Option<Vec<u8>> {
        None
    }
}
