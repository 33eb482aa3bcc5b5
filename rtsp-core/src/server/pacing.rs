//! Deadline arithmetic for frame pacing, separate from the connection workers that pace so it
//! can be tested with synthetic instants.
//!
//! Slot `n` of a play segment is due at `start + n * interval`, computed from `n` each time
//! rather than by adding intervals (or sleeping an interval) in a loop: rounding and wake-up
//! latency then never accumulate, so the long-run rate is exactly the configured one. (The lab
//! server sleeps 50 ms after each send, so every send's own cost is added to the period and its
//! 20 fps come out near 19.9.)
//!
//! When a worker wakes up late by more than one interval (a stalled machine, a debugger),
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
    /// Slots passed over because the worker woke up too late for them.
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

/// Phases a frame interval is divided into. A connection worker serves its sessions in groups
/// that share a phase of the frame grid, so one wake-up (and one batch of system calls) serves a
/// whole group instead of one session each.
pub const PHASES_PER_FRAME: usize = 10;

/// Sessions a phase takes before new sessions go to the next one: big enough that a wake-up
/// does real work, small enough that one batch leaves within a fraction of a millisecond.
pub const PHASE_GROUP: usize = 64;

/// The phase a new session joins, given how many sessions each phase holds: the first phase
/// that is not a full group yet (so groups fill up and wake-ups stay few), or, once every phase
/// holds a full group, the least loaded one (so load stays even).
pub fn pick_phase(loads: &[usize; PHASES_PER_FRAME]) -> usize {
    if let Some(open) = loads.iter().position(|&n| n < PHASE_GROUP) {
        return open;
    }
    loads
        .iter()
        .enumerate()
        .min_by_key(|(_, &n)| n)
        .map_or(0, |(i, _)| i)
}

/// Where a play segment starting at `now` anchors its grid so that its frames fall on `phase`
/// of the worker's grid (which starts at `origin`): the latest instant of that phase not after
/// `now`. Slot 0 is therefore due at once (PLAY to first packet stays immediate) and slot 1 at
/// most one interval later; from then on the session shares its wake-ups with its phase group.
pub fn phase_start(origin: Instant, now: Instant, fps: f64, phase: usize) -> Instant {
    if !fps.is_finite() || fps <= 0.0 {
        return now;
    }
    let interval = 1.0 / fps;
    let offset = interval * (phase % PHASES_PER_FRAME) as f64 / PHASES_PER_FRAME as f64;
    let since = now.saturating_duration_since(origin).as_secs_f64() - offset;
    if since < 0.0 {
        return now;
    }
    let k = (since / interval).floor();
    let start = origin + Duration::from_secs_f64(k * interval + offset);
    start.min(now)
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
            // Waking up a little late (wake-up latency) changes nothing on the grid.
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

    #[test]
    fn phases_fill_in_groups_then_spread() {
        let mut loads = [0usize; PHASES_PER_FRAME];
        // The first group fills phase 0, the next phase 1, and so on.
        for n in 0..PHASE_GROUP * PHASES_PER_FRAME {
            let p = pick_phase(&loads);
            assert_eq!(p, n / PHASE_GROUP);
            loads[p] += 1;
        }
        // Every phase holds a full group: new sessions go to the least loaded phase.
        loads[3] -= 1;
        assert_eq!(pick_phase(&loads), 3);
        loads[3] += 1;
        loads[7] += 5;
        let p = pick_phase(&loads);
        assert_ne!(p, 7);
        assert_eq!(loads[p], PHASE_GROUP);
    }

    #[test]
    fn a_phase_start_is_due_now_and_on_its_phase() {
        let origin = Instant::now();
        let fps = 20.0;
        for phase in 0..PHASES_PER_FRAME {
            for ms in [0u64, 1, 4, 5, 6, 49, 50, 51, 123, 9_999, 86_400_000] {
                let now = origin + Duration::from_millis(ms);
                let start = phase_start(origin, now, fps, phase);
                assert!(start <= now);
                // Slot 1 of the segment comes at most one interval after the PLAY.
                let next = Pacer::new(start, fps).offset(1);
                assert!(start + next <= now + Duration::from_millis(50));
                // Slot 0 fires at once and is never a skip.
                let mut p = Pacer::new(start, fps);
                assert_eq!(
                    p.fire(now),
                    Fire {
                        slot: 0,
                        skipped: 0
                    }
                );
                if now.duration_since(origin) >= Duration::from_millis(50) {
                    // On the phase: a whole number of intervals plus the phase's offset.
                    let off = start.duration_since(origin).as_secs_f64() * fps;
                    let frac = off - off.floor();
                    let want = phase as f64 / PHASES_PER_FRAME as f64;
                    assert!(
                        (frac - want).abs() < 1e-6 || (frac - want).abs() > 1.0 - 1e-6,
                        "phase {phase} at {ms} ms: {frac}"
                    );
                }
            }
        }
        // Sessions of one phase started at different moments share every later deadline.
        let a = phase_start(origin, origin + Duration::from_millis(1_003), fps, 4);
        let b = phase_start(origin, origin + Duration::from_millis(1_777), fps, 4);
        let (pa, pb) = (Pacer::new(a, fps), Pacer::new(b, fps));
        let da = a + pa.offset(41);
        let db = b + pb.offset(25);
        let gap = if da > db { da - db } else { db - da };
        assert!(gap < Duration::from_micros(1), "{gap:?}");
        // A rate of zero (no grid) starts at once.
        assert_eq!(phase_start(origin, origin, 0.0, 1), origin);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn a_phase_start_never_delays_the_first_frame_nor_shortens_later_intervals(
                since_us in 0u64..1_000_000_000_000,
                fps in 0.5f64..240.0,
                phase in 0usize..PHASES_PER_FRAME,
                slots in 1u64..10_000,
            ) {
                let origin = Instant::now();
                let now = origin + Duration::from_micros(since_us);
                let start = phase_start(origin, now, fps, phase);
                let interval = Duration::from_secs_f64(1.0 / fps);
                // Slot 0 is due at once, never a skip; slot 1 comes at most one interval on.
                prop_assert!(start <= now);
                prop_assert!(now - start <= interval + Duration::from_micros(1));
                let mut p = Pacer::new(start, fps);
                prop_assert_eq!(p.fire(now), Fire { slot: 0, skipped: 0 });
                // Every later interval is exactly the frame interval (to float rounding).
                let a = p.offset(slots);
                let b = p.offset(slots + 1);
                let d = (b - a).as_secs_f64() - 1.0 / fps;
                prop_assert!(d.abs() < 1e-6, "{}", d);
            }

            #[test]
            fn a_picked_phase_is_open_if_any_is_else_least_loaded(
                loads in proptest::array::uniform10(0usize..200),
            ) {
                let p = pick_phase(&loads);
                prop_assert!(p < PHASES_PER_FRAME);
                if loads.iter().any(|&n| n < PHASE_GROUP) {
                    prop_assert!(loads[p] < PHASE_GROUP);
                    prop_assert!(loads[..p].iter().all(|&n| n >= PHASE_GROUP));
                } else {
                    prop_assert_eq!(loads[p], *loads.iter().min().unwrap());
                }
            }
        }
    }
}
