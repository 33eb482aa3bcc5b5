//! The last minute of statistics, for the live graph and the summaries: the engine reports
//! cumulative counters once a second; this turns them into per-interval bitrate and loss and
//! keeps a bounded window. Time is passed in, so it is tested without waiting.

use std::collections::VecDeque;
use std::time::Duration;

use rtsp_core::client::Stats;

/// One point of the graph.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// When it was taken, on the caller's clock.
    pub at: Duration,
    /// Bits per second over the engine's recent window.
    pub bitrate_bps: f64,
    /// Packet loss ratio (0..=1) since the previous sample.
    pub loss: f64,
}

/// Most samples kept whatever the window (one a second is the engine's pace; this also bounds
/// memory if a caller pushes faster).
const MAX_SAMPLES: usize = 600;

/// A sliding window of samples plus the latest snapshot.
#[derive(Debug, Clone)]
pub struct StatsHistory {
    window: Duration,
    samples: VecDeque<Sample>,
    /// Packets expected and lost at the previous snapshot, to turn totals into per-interval loss.
    previous: Option<(u64, u64)>,
    latest: Option<Stats>,
}

impl StatsHistory {
    /// A history that forgets samples older than `window`.
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            samples: VecDeque::new(),
            previous: None,
            latest: None,
        }
    }

    /// The window length.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Adds a snapshot taken at `at`.
    pub fn push(&mut self, at: Duration, stats: &Stats) {
        let (expected, lost) = (stats.packets_expected, stats.packets_lost);
        let loss = match self.previous {
            // Counters only grow within a session; smaller ones mean a new session.
            Some((e0, l0)) if expected >= e0 => {
                let de = expected - e0;
                let dl = lost.saturating_sub(l0);
                if de == 0 {
                    0.0
                } else {
                    (dl as f64 / de as f64).clamp(0.0, 1.0)
                }
            }
            _ => {
                if expected == 0 {
                    0.0
                } else {
                    (lost as f64 / expected as f64).clamp(0.0, 1.0)
                }
            }
        };
        self.previous = Some((expected, lost));
        self.latest = Some(*stats);
        self.samples.push_back(Sample {
            at,
            bitrate_bps: finite_or_zero(stats.bitrate_bps_recent),
            loss,
        });
        self.trim(at);
    }

    /// Drops what is older than the window as of `now` (also called when time passes without
    /// samples, so a paused stream's graph scrolls away).
    pub fn trim(&mut self, now: Duration) {
        let oldest = now.saturating_sub(self.window);
        while self
            .samples
            .front()
            .is_some_and(|s| s.at < oldest || self.samples.len() > MAX_SAMPLES)
        {
            self.samples.pop_front();
        }
    }

    /// Forgets everything (a new stream).
    pub fn clear(&mut self) {
        self.samples.clear();
        self.previous = None;
        self.latest = None;
    }

    /// The samples in the window, oldest first.
    pub fn samples(&self) -> impl Iterator<Item = &Sample> {
        self.samples.iter()
    }

    /// How many samples are kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether no sample is kept.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The latest snapshot.
    pub fn latest(&self) -> Option<&Stats> {
        self.latest.as_ref()
    }

    /// Highest bitrate in the window (bits per second).
    pub fn peak_bitrate_bps(&self) -> f64 {
        self.samples
            .iter()
            .map(|s| s.bitrate_bps)
            .fold(0.0, f64::max)
    }

    /// Highest loss ratio in the window.
    pub fn peak_loss(&self) -> f64 {
        self.samples.iter().map(|s| s.loss).fold(0.0, f64::max)
    }

    /// Mean bitrate over the samples in the window (bits per second).
    #[cfg(test)]
    pub fn mean_bitrate_bps(&self) -> f64 {
        mean(self.samples.iter().map(|s| s.bitrate_bps))
    }
}

fn finite_or_zero(v: f64) -> f64 {
    if v.is_finite() {
        v.max(0.0)
    } else {
        0.0
    }
}

#[cfg(test)]
fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        0.0
    } else {
        sum / f64::from(n)
    }
}

/// A "nice" axis maximum at or above `value`: 1, 2 or 5 times a power of ten, so that the
/// graph's scale reads well and does not jitter with every sample.
pub fn nice_ceiling(value: f64) -> f64 {
    if !value.is_finite() || value <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(value.log10().floor());
    for step in [1.0, 2.0, 5.0, 10.0] {
        let candidate = step * magnitude;
        // A relative tolerance keeps exact powers of ten from rounding up a step.
        if candidate >= value * (1.0 - 1e-9) {
            return candidate;
        }
    }
    10.0 * magnitude
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(expected: u64, lost: u64, bitrate: f64) -> Stats {
        Stats {
            packets_expected: expected,
            packets_lost: lost,
            packets_received: expected - lost,
            bitrate_bps_recent: bitrate,
            ..Stats::default()
        }
    }

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn loss_is_per_interval_not_cumulative() {
        let mut h = StatsHistory::new(s(60));
        h.push(s(1), &stats(100, 0, 1000.0));
        h.push(s(2), &stats(200, 10, 1000.0));
        h.push(s(3), &stats(300, 10, 1000.0));
        let loss: Vec<f64> = h.samples().map(|x| x.loss).collect();
        assert_eq!(loss, vec![0.0, 0.1, 0.0]);
        assert_eq!(h.peak_loss(), 0.1);
    }

    #[test]
    fn counters_that_shrink_start_a_new_session() {
        let mut h = StatsHistory::new(s(60));
        h.push(s(1), &stats(1000, 100, 1.0));
        // New session: totals restart; the loss is taken from the new totals alone.
        h.push(s(2), &stats(50, 5, 1.0));
        assert_eq!(h.samples().last().map(|x| x.loss), Some(0.1));
        // Late packets can lower the lost count: never a negative loss.
        h.push(s(3), &stats(60, 2, 1.0));
        assert_eq!(h.samples().last().map(|x| x.loss), Some(0.0));
    }

    #[test]
    fn window_forgets_old_samples() {
        let mut h = StatsHistory::new(s(60));
        for t in 0..100 {
            h.push(s(t), &stats(t * 10, 0, t as f64));
        }
        assert_eq!(h.len(), 61);
        assert_eq!(h.samples().next().map(|x| x.at), Some(s(39)));
        assert_eq!(h.peak_bitrate_bps(), 99.0);
        h.trim(s(200));
        assert!(h.is_empty());
        assert!(
            h.latest().is_some(),
            "the latest snapshot outlives the graph"
        );
    }

    #[test]
    fn sample_count_is_bounded_even_with_a_fast_caller() {
        let mut h = StatsHistory::new(s(60));
        for i in 0..5_000u64 {
            h.push(Duration::from_millis(i), &stats(i, 0, 1.0));
        }
        assert!(h.len() <= MAX_SAMPLES + 1);
    }

    #[test]
    fn means_and_nonsense_values() {
        let mut h = StatsHistory::new(s(60));
        assert_eq!(h.mean_bitrate_bps(), 0.0);
        h.push(s(1), &stats(10, 0, 100.0));
        h.push(s(2), &stats(20, 0, 300.0));
        h.push(s(3), &stats(30, 0, f64::NAN));
        assert_eq!(h.mean_bitrate_bps(), 400.0 / 3.0);
        h.clear();
        assert!(h.is_empty() && h.latest().is_none());
    }

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(f64::NAN), 1.0);
        assert_eq!(nice_ceiling(0.7), 1.0);
        assert_eq!(nice_ceiling(1.0), 1.0);
        assert_eq!(nice_ceiling(1.2), 2.0);
        assert_eq!(nice_ceiling(3.0), 5.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(163_000.0), 200_000.0);
        assert_eq!(nice_ceiling(0.012), 0.02);
    }
}
