//! Rates as amounts over the time they span: n arrivals make n - 1 intervals, so a rate is
//! the amount after the first arrival over the time from the first to the last. Counting what
//! fell into each wall-clock second instead reads 19 or 21 for a steady 20 fps, depending on
//! where the second's edge falls. Time is passed in.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How far back the recent rates look.
pub const RATE_WINDOW: Duration = Duration::from_secs(2);

/// Most arrivals the recent window holds; at higher rates it covers less than [`RATE_WINDOW`]
/// (its rate is still amount over span), and memory stays bounded.
const WINDOW_CAPACITY: usize = 4096;

/// First and last arrival of a run, and the amount that arrived after the first.
#[derive(Debug, Clone, Copy)]
struct Run {
    first: Instant,
    last: Instant,
    after_first: u64,
}

/// A rate over the recent window and over every run (a run is one PLAY's arrivals: the
/// pauses between runs are no part of the rate).
#[derive(Debug, Clone, Default)]
pub(super) struct RateMeter {
    /// Recent arrivals with their amounts, oldest first.
    window: VecDeque<(Instant, u64)>,
    /// Sum of the amounts in `window`.
    window_sum: u64,
    /// Amount after the first arrival, and span, of the runs before the current one.
    earlier_amount: u64,
    earlier_span: Duration,
    run: Option<Run>,
}

impl RateMeter {
    /// Records `amount` arriving at `at`.
    pub(super) fn record(&mut self, at: Instant, amount: u64) {
        match &mut self.run {
            None => {
                self.run = Some(Run {
                    first: at,
                    last: at,
                    after_first: 0,
                })
            }
            Some(run) => {
                run.last = run.last.max(at);
                run.after_first = run.after_first.saturating_add(amount);
            }
        }
        self.window.push_back((at, amount));
        self.window_sum = self.window_sum.saturating_add(amount);
        if self.window.len() > WINDOW_CAPACITY {
            self.pop_oldest();
        }
        self.expire(at);
    }

    /// Ends the current run (a new PLAY follows): the silence until the next arrival counts
    /// nowhere, and the recent window starts empty.
    pub(super) fn new_run(&mut self) {
        if let Some(run) = self.run.take() {
            self.earlier_amount = self.earlier_amount.saturating_add(run.after_first);
            self.earlier_span += run.last.saturating_duration_since(run.first);
        }
        self.window.clear();
        self.window_sum = 0;
    }

    fn pop_oldest(&mut self) {
        if let Some((_, amount)) = self.window.pop_front() {
            self.window_sum = self.window_sum.saturating_sub(amount);
        }
    }

    fn expire(&mut self, now: Instant) {
        while self
            .window
            .front()
            .is_some_and(|&(at, _)| now.saturating_duration_since(at) > RATE_WINDOW)
        {
            self.pop_oldest();
        }
    }

    /// Per second over the last [`RATE_WINDOW`] as of `now`. A silence since the last arrival
    /// no longer than the longest gap inside the window is the stream's rhythm; beyond that it
    /// is a stall and stretches the span, so the rate falls instead of holding its last value.
    pub(super) fn recent(&mut self, now: Instant) -> f64 {
        self.expire(now);
        let (Some(&(first, first_amount)), Some(&(last, _))) =
            (self.window.front(), self.window.back())
        else {
            return 0.0;
        };
        let longest_gap = self
            .window
            .iter()
            .zip(self.window.iter().skip(1))
            .map(|(a, b)| b.0.saturating_duration_since(a.0))
            .max()
            .unwrap_or_default();
        let stall = now
            .saturating_duration_since(last)
            .saturating_sub(longest_gap);
        let span = last.saturating_duration_since(first) + stall;
        per_second(self.window_sum.saturating_sub(first_amount), span)
    }

    /// Per second over every run so far.
    pub(super) fn overall(&self) -> f64 {
        let (mut amount, mut span) = (self.earlier_amount, self.earlier_span);
        if let Some(run) = self.run {
            amount = amount.saturating_add(run.after_first);
            span += run.last.saturating_duration_since(run.first);
        }
        per_second(amount, span)
    }
}

fn per_second(amount: u64, span: Duration) -> f64 {
    let seconds = span.as_secs_f64();
    if seconds > 0.0 {
        amount as f64 / seconds
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// `count` arrivals of `amount`, `every` apart from `start`.
    fn steady(m: &mut RateMeter, start: Instant, every: Duration, count: u32, amount: u64) {
        for i in 0..count {
            m.record(start + every * i, amount);
        }
    }

    #[test]
    fn a_steady_stream_reads_its_rate_at_any_moment() {
        let t0 = Instant::now();
        let mut m = RateMeter::default();
        steady(&mut m, t0 + ms(37), ms(50), 100, 1);
        let last = t0 + ms(37 + 99 * 50);
        for after in [0, 10, 25, 49] {
            let r = m.recent(last + ms(after));
            assert!((r - 20.0).abs() < 1e-9, "{after} ms after the last: {r}");
        }
        assert!((m.overall() - 20.0).abs() < 1e-9);
    }

    #[test]
    fn a_stall_lowers_the_recent_rate_and_an_empty_window_reads_zero() {
        let t0 = Instant::now();
        let mut m = RateMeter::default();
        steady(&mut m, t0, ms(50), 41, 1); // 0..=2000 ms
        let last = t0 + ms(2000);
        // The window holds 500..=2000 ms: 30 intervals over 1.5 s, then 450 ms of silence
        // beyond the usual 50 ms gap.
        let r = m.recent(last + ms(500));
        assert!((r - 30.0 / 1.95).abs() < 1e-9, "{r}");
        assert_eq!(m.recent(last + RATE_WINDOW + ms(1)), 0.0);
        assert!(
            (m.overall() - 20.0).abs() < 1e-9,
            "the overall rate is kept"
        );
    }

    #[test]
    fn pauses_between_runs_are_no_part_of_the_overall_rate() {
        let t0 = Instant::now();
        let mut m = RateMeter::default();
        steady(&mut m, t0, ms(100), 11, 1_000); // 10 per second for 1 s
        m.new_run();
        assert_eq!(m.recent(t0 + ms(1_001)), 0.0, "a new run starts empty");
        steady(&mut m, t0 + ms(60_000), ms(100), 21, 1_000); // and for 2 s, a minute later
        assert!((m.overall() - 10_000.0).abs() < 1e-6, "{}", m.overall());
    }

    #[test]
    fn the_window_is_bounded() {
        let t0 = Instant::now();
        let mut m = RateMeter::default();
        steady(&mut m, t0, Duration::from_micros(100), 10_000, 1);
        assert!(m.window.len() <= WINDOW_CAPACITY);
        let r = m.recent(t0 + Duration::from_micros(100) * 9_999);
        assert!((r - 10_000.0).abs() < 1e-6, "{r}");
    }
}
