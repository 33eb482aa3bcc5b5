//! Deadline arithmetic for frame pacing, separate from the scheduler thread so it can be tested
//! with synthetic instants.
//!
//! Slot `n` of a play segment is due at `start + n * interval`, computed from `n` each time
//! rather than by adding intervals (or sleeping an interval) in a loop: rounding and wake-up
//! latency then never accumulate, so the long-run rate is exactly the configured one. (The lab
//! server sleeps 50 ms after each send, so every send's own cost is added to the period and its
//! 20 fps come out near 19.9.)
//!
//! When the scheduler wakes up late by more than one interval (a stalled machine, a debugger),
//! the pacer does not send the missed frames in a burst: it jumps to the slot that is current
//! now, reports how many slots it skipped, and continues on the original grid. At most one frame
//! goes out late.

use std::time::{Duration, Instant};

/// RTP clock rate for video (RFC 2435 / RFC 3551).
pub const RTP_CLOCK_HZ: f64 = 90_000.0;

/// The deadline grid of one play segment.
#[derive(Debug, Clone)]
pub struct Pacer {
    start: Instant,
    fps: f64,
    next_slot: u64,
}

/// What to send when a deadline fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fire {
    /// Slot to send now (0 = the segment's first frame).
    pub slot: u64,
    /// Slots passed over because the scheduler woke up too late for them.
    pub skipped: u64,
}

impl Pacer {
    /// A grid whose slot 0 is due at `start`.
    pub fn new(start: Instant, fps: f64) -> Self {
        Self {
            start,
            fps,
            next_slot: 0,
        }
    }

    /// When the next slot is due.
    pub fn deadline(&self) -> Instant {
        self.start + self.offset(self.next_slot)
    }

    /// The slot that will be sent next.
    pub fn next_slot(&self) -> u64 {
        self.next_slot
    }

    /// Time of slot `n` relative to the segment start.
    pub fn offset(&self, n: u64) -> Duration {
        Duration::from_secs_f64(n as f64 / self.fps)
    }

    /// The deadline fired at `now`: pick the slot to send and advance the grid.
    pub fn fire(&mut self, now: Instant) -> Fire {
        if self.next_slot == 0 && now > self.start + self.offset(1) {
            // The first frame of a play segment is never skipped: a start that comes late (a
            // busy machine) moves the grid to the moment the first frame really leaves.
            self.start = now;
        }
        let elapsed = now.saturating_duration_since(self.start).as_secs_f64();
        // The latest slot whose deadline has passed. Float floor is exact enough: slots are
        // milliseconds apart and f64 carries nanoseconds for centuries.
        let current = (elapsed * self.fps).floor() as u64;
        let (slot, skipped) = if current > self.next_slot {
            (current, current - self.next_slot)
        } else {
            (self.next_slot, 0)
        };
        self.next_slot = slot + 1;
        Fire { slot, skipped }
    }
}

/// RTP timestamp ticks (90 kHz) of slot `n` at `fps`, rounded to the nearest tick so that
/// non-integer tick intervals (for example 30 fps = 3000 exactly, 7 fps = 12857.14...) never drift.
pub fn rtp_ticks(n: u64, fps: f64) -> u64 {
    (n as f64 * RTP_CLOCK_HZ / fps).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_time_firing_walks_the_grid() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0, 20.0);
        for n in 0..1000u64 {
            let due = p.deadline();
            assert_eq!(due, t0 + Duration::from_secs_f64(n as f64 / 20.0));
            // Waking up a little late (scheduler latency) changes nothing on the grid.
            let f = p.fire(due + Duration::from_micros(300));
            assert_eq!(
                f,
                Fire {
                    slot: n,
                    skipped: 0
                }
            );
        }
        // After 1000 frames the deadline is exactly 50 s after the start: no drift.
        assert_eq!(p.deadline(), t0 + Duration::from_secs(50));
    }

    #[test]
    fn a_stall_skips_to_the_current_frame_and_sends_one() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0, 20.0);
        for _ in 0..10 {
            let due = p.deadline();
            p.fire(due);
        }
        // Stall 1.234 s past the deadline of slot 10.
        let late = p.deadline() + Duration::from_millis(1234);
        let f = p.fire(late);
        // Slot 10 was due at 0.5 s; now is 1.734 s, whose slot is 34: skip 10..34.
        assert_eq!(
            f,
            Fire {
                slot: 34,
                skipped: 24
            }
        );
        // The next deadline is back on the original grid, in the future.
        assert_eq!(p.deadline(), t0 + Duration::from_millis(1750));
        assert!(p.deadline() > late);
    }

    #[test]
    fn a_late_start_sends_the_first_frame_and_moves_the_grid() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0, 20.0);
        let late = t0 + Duration::from_millis(180);
        assert_eq!(
            p.fire(late),
            Fire {
                slot: 0,
                skipped: 0
            }
        );
        assert_eq!(p.deadline(), late + Duration::from_millis(50));
    }

    #[test]
    fn less_than_one_interval_late_sends_the_due_frame() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0, 20.0);
        p.fire(t0);
        let f = p.fire(p.deadline() + Duration::from_millis(49));
        assert_eq!(
            f,
            Fire {
                slot: 1,
                skipped: 0
            }
        );
        assert_eq!(p.next_slot(), 2);
    }

    #[test]
    fn rtp_ticks_do_not_drift() {
        assert_eq!(rtp_ticks(1, 20.0), 4500);
        assert_eq!(rtp_ticks(20, 20.0), 90_000);
        assert_eq!(rtp_ticks(7, 7.0), 90_000);
        assert_eq!(rtp_ticks(1, 7.0), 12_857);
        assert_eq!(rtp_ticks(7_000_000, 7.0), 90_000_000_000);
    }
}
