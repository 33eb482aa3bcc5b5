//! A fixed-resolution latency histogram: constant memory, O(1) record, exact merge.

use std::time::Duration;

/// Bucket width in microseconds.
const RESOLUTION_US: u64 = 10;
/// Number of linear buckets; values past the last one land in the overflow bucket.
const BUCKETS: usize = 200_000; // 2 s at 10 µs

/// Histogram of durations from 0 to 2 s at 10 µs resolution, plus an overflow bucket.
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    overflow: u64,
    max_us: u64,
    total: u64,
    sum_us: u128,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self {
            counts: vec![0; BUCKETS],
            overflow: 0,
            max_us: 0,
            total: 0,
            sum_us: 0,
        }
    }

    /// Records one duration.
    pub fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.record_us(us);
    }

    /// Records one value in microseconds.
    pub fn record_us(&mut self, us: u64) {
        let idx = usize::try_from(us / RESOLUTION_US).unwrap_or(usize::MAX);
        match self.counts.get_mut(idx) {
            Some(c) => *c += 1,
            None => self.overflow += 1,
        }
        self.max_us = self.max_us.max(us);
        self.total += 1;
        self.sum_us += u128::from(us);
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += *b;
        }
        self.overflow += other.overflow;
        self.max_us = self.max_us.max(other.max_us);
        self.total += other.total;
        self.sum_us += other.sum_us;
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Mean in milliseconds (0 when empty).
    pub fn mean_ms(&self) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        self.sum_us as f64 / self.total as f64 / 1000.0
    }

    /// Largest recorded value in milliseconds.
    pub fn max_ms(&self) -> f64 {
        self.max_us as f64 / 1000.0
    }

    /// The `q` quantile (0..=1) in milliseconds, at bucket resolution (upper bucket edge);
    /// values in the overflow bucket report the maximum.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (i, c) in self.counts.iter().enumerate() {
            seen += *c;
            if seen >= rank {
                let edge_us = (i as u64 + 1) * RESOLUTION_US;
                return edge_us.min(self.max_us.max(1)) as f64 / 1000.0;
            }
        }
        self.max_ms()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn quantiles_follow_recorded_values() {
        let mut h = Histogram::new();
        for ms in 1..=1000u64 {
            h.record(Duration::from_millis(ms));
        }
        assert_eq!(h.count(), 1000);
        assert!((h.quantile_ms(0.5) - 500.0).abs() < 0.02);
        assert!((h.quantile_ms(0.99) - 990.0).abs() < 0.02);
        assert!((h.max_ms() - 1000.0).abs() < 1e-9);
        let mut other = Histogram::new();
        other.record(Duration::from_secs(5));
        h.merge(&other);
        assert_eq!(h.count(), 1001);
        assert!((h.quantile_ms(1.0) - 5000.0).abs() < 1e-9);
    }
}
