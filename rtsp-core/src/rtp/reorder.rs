//! A bounded reorder buffer for received RTP packets.

use std::collections::VecDeque;
use std::time::Duration;

/// Largest window accepted; larger requests are clamped. Twice the window must stay well below
/// half the sequence space so that "ahead" and "behind" remain unambiguous.
pub const MAX_REORDER_WINDOW: usize = 8192;

/// How far behind the window a packet may be and still count as merely late rather than as a
/// sequence discontinuity (the A.1 `MAX_DROPOUT` idea; wider if the window is wider).
const MIN_LATE_LIMIT: usize = 3000;

/// What [`ReorderBuffer::push`] did with a packet. Rejected packets are handed back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome<T> {
    /// Stored; it will come out of [`pop`](ReorderBuffer::pop) in order.
    Buffered,
    /// A packet with this sequence number is already waiting.
    Duplicate(T),
    /// Its turn has passed (it was released, skipped, or is a duplicate of a released one).
    Late(T),
}

/// A packet released in sequence order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released<T> {
    /// Its sequence number.
    pub seq: u16,
    /// The packet.
    pub item: T,
    /// Sequence numbers skipped between the previously released packet and this one
    /// (0 when contiguous; after a discontinuity, the wrapping distance).
    pub lost_before: u16,
}

#[derive(Debug)]
struct Entry<T> {
    seq: u16,
    item: T,
    arrival: Duration,
}

/// Puts packets back in sequence order (with 16-bit wraparound) within a bounded window.
///
/// Push each received packet with its arrival time, then [`pop`](Self::pop) until `None`.
/// A missing packet holds back the ones after it until either a packet arrives that does
/// not fit in the window (the window slides and releases what falls out of it) or a waiting
/// packet has been held for `max_hold`; [`next_deadline`](Self::next_deadline) says when to
/// call `pop` again if nothing arrives. The first packet pushed fixes the starting point, so a
/// packet older than it is late.
///
/// Storage is allocated once at construction; push and pop never allocate. At most `window`
/// packets are held: if the caller keeps pushing without popping, the oldest released-but-
/// not-popped packets are dropped (see [`overflow_drops`](Self::overflow_drops)).
///
/// ```
/// use std::time::Duration;
/// use rtsp_core::rtp::{PushOutcome, ReorderBuffer};
/// let mut rb = ReorderBuffer::new(16, Duration::from_millis(50));
/// let t = Duration::ZERO;
/// assert_eq!(rb.push(1, "a", t), PushOutcome::Buffered);
/// assert_eq!(rb.push(3, "c", t), PushOutcome::Buffered);
/// assert_eq!(rb.push(2, "b", t), PushOutcome::Buffered);
/// let out: Vec<_> = std::iter::from_fn(|| rb.pop(t)).map(|r| r.item).collect();
/// assert_eq!(out, ["a", "b", "c"]);
/// ```
#[derive(Debug)]
pub struct ReorderBuffer<T> {
    ring: Vec<Option<Entry<T>>>,
    ready: VecDeque<(u16, T)>,
    /// Sequence number that ring slot `head_idx` stands for.
    head: u16,
    head_idx: usize,
    started: bool,
    stored: usize,
    max_hold: Duration,
    last_released: Option<u16>,
    late: u64,
    duplicates: u64,
    lost: u64,
    overflow_drops: u64,
}

impl<T> ReorderBuffer<T> {
    /// A buffer holding up to `window` packets (clamped to 1..=[`MAX_REORDER_WINDOW`]) that
    /// waits at most `max_hold` for a missing packet.
    pub fn new(window: usize, max_hold: Duration) -> Self {
        let window = window.clamp(1, MAX_REORDER_WINDOW);
        Self {
            ring: (0..window).map(|_| None).collect(),
            ready: VecDeque::with_capacity(window),
            head: 0,
            head_idx: 0,
            started: false,
            stored: 0,
            max_hold,
            last_released: None,
            late: 0,
            duplicates: 0,
            lost: 0,
            overflow_drops: 0,
        }
    }

    /// The window size.
    pub fn window(&self) -> usize {
        self.ring.len()
    }

    /// Packets held (waiting or ready to pop).
    pub fn len(&self) -> usize {
        self.stored + self.ready.len()
    }

    /// Whether no packet is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Packets rejected as late.
    pub fn late(&self) -> u64 {
        self.late
    }

    /// Packets rejected as duplicates of a waiting packet.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Sequence numbers skipped over by released packets (sum of `lost_before`).
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Packets dropped because the caller pushed more than the window without popping.
    pub fn overflow_drops(&self) -> u64 {
        self.overflow_drops
    }

    /// Empties the buffer and forgets the sequence position; counters are kept.
    pub fn reset(&mut self) {
        self.ring.iter_mut().for_each(|slot| *slot = None);
        self.ready.clear();
        self.started = false;
        self.stored = 0;
        self.last_released = None;
    }

    /// Offers a packet. `now` is its arrival time on the caller's clock.
    pub fn push(&mut self, seq: u16, item: T, now: Duration) -> PushOutcome<T> {
        let window = self.ring.len();
        if !self.started {
            self.started = true;
            self.head = seq;
        }
        let ahead = usize::from(seq.wrapping_sub(self.head));
        if ahead >= 0x8000 {
            let behind = 0x1_0000 - ahead;
            if behind <= window.max(MIN_LATE_LIMIT) {
                self.late += 1;
                return PushOutcome::Late(item);
            }
            // Far behind: the sender jumped. Release everything and restart at this packet.
            self.advance(ahead);
        } else if ahead >= 2 * window {
            // Far ahead: a discontinuity, not reordering; nothing between is worth waiting for.
            self.advance(ahead);
        } else if ahead >= window {
            // Slide just enough for this packet to become the last slot of the window.
            self.advance(ahead + 1 - window);
        }

        let offset = usize::from(seq.wrapping_sub(self.head));
        let idx = (self.head_idx + offset) % window;
        if self.ring.get(idx).is_some_and(Option::is_some) {
            self.duplicates += 1;
            return PushOutcome::Duplicate(item);
        }
        // Keep the total held within the window so `ready` never reallocates.
        while self.ready.len() + self.stored >= window {
            if self.ready.pop_front().is_none() {
                break;
            }
            self.overflow_drops += 1;
        }
        match self.ring.get_mut(idx) {
            Some(slot) => {
                *slot = Some(Entry {
                    seq,
                    item,
                    arrival: now,
                });
                self.stored += 1;
                PushOutcome::Buffered
            }
            // Unreachable: idx < window.
            None => PushOutcome::Late(item),
        }
    }

    /// Moves the window start forward by `dist` sequence numbers, queueing any stored packet
    /// that falls out of it.
    fn advance(&mut self, dist: usize) {
        let window = self.ring.len();
        let steps = if self.stored == 0 {
            0
        } else {
            dist.min(window)
        };
        for _ in 0..steps {
            if let Some(entry) = self.ring.get_mut(self.head_idx).and_then(Option::take) {
                self.stored -= 1;
                self.ready.push_back((entry.seq, entry.item));
            }
            self.head_idx = (self.head_idx + 1) % window;
        }
        self.head_idx = (self.head_idx + (dist - steps)) % window;
        // dist < 65536; truncation is the intended modular arithmetic.
        self.head = self.head.wrapping_add(dist as u16);
    }

    fn release(&mut self, seq: u16, item: T) -> Released<T> {
        let lost_before = self
            .last_released
            .map_or(0, |prev| seq.wrapping_sub(prev).wrapping_sub(1));
        self.lost += u64::from(lost_before);
        self.last_released = Some(seq);
        Released {
            seq,
            item,
            lost_before,
        }
    }

    /// Takes the packet in the head slot, if any.
    fn take_head(&mut self) -> Option<Released<T>> {
        let entry = self.ring.get_mut(self.head_idx).and_then(Option::take)?;
        self.stored -= 1;
        self.head_idx = (self.head_idx + 1) % self.ring.len();
        self.head = self.head.wrapping_add(1);
        Some(self.release(entry.seq, entry.item))
    }

    fn oldest_arrival(&self) -> Option<Duration> {
        self.ring.iter().flatten().map(|e| e.arrival).min()
    }

    /// The next packet in order, if it may be released at `now`: the next in sequence if it
    /// is here, otherwise the first after a gap once some waiting packet has been held for
    /// `max_hold`.
    pub fn pop(&mut self, now: Duration) -> Option<Released<T>> {
        if let Some((seq, item)) = self.ready.pop_front() {
            return Some(self.release(seq, item));
        }
        if self.stored == 0 {
            return None;
        }
        if let Some(r) = self.take_head() {
            return Some(r);
        }
        let oldest = self.oldest_arrival()?;
        if now.saturating_sub(oldest) < self.max_hold {
            return None;
        }
        // Give up on the gap: skip to the first waiting packet.
        let window = self.ring.len();
        let gap = (1..window).find(|k| {
            self.ring
                .get((self.head_idx + k) % window)
                .is_some_and(Option::is_some)
        })?;
        self.advance(gap);
        self.take_head()
    }

    /// When [`pop`](Self::pop) will next release something if no packet arrives: `None` if
    /// nothing is held, [`Duration::ZERO`] if something can be popped right away, otherwise
    /// the arrival of the longest-waiting packet plus `max_hold`.
    pub fn next_deadline(&self) -> Option<Duration> {
        if !self.ready.is_empty() || self.ring.get(self.head_idx).is_some_and(Option::is_some) {
            return Some(Duration::ZERO);
        }
        let oldest = self.oldest_arrival()?;
        Some(oldest.saturating_add(self.max_hold))
    }

    /// Makes every held packet ready, gaps notwithstanding (for instance at end of stream);
    /// [`pop`](Self::pop) then returns them all in order.
    pub fn flush(&mut self) {
        let window = self.ring.len();
        if let Some(last) = (0..window).rev().find(|k| {
            self.ring
                .get((self.head_idx + k) % window)
                .is_some_and(Option::is_some)
        }) {
            self.advance(last + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain<T>(rb: &mut ReorderBuffer<T>, now: Duration) -> Vec<(u16, u16)> {
        std::iter::from_fn(|| rb.pop(now))
            .map(|r| (r.seq, r.lost_before))
            .collect()
    }

    #[test]
    fn window_slides_when_a_packet_does_not_fit() {
        let mut rb = ReorderBuffer::new(4, Duration::from_secs(10));
        let t = Duration::ZERO;
        rb.push(10, (), t);
        assert_eq!(drain(&mut rb, t), [(10, 0)]);
        // 11 missing; 12, 13, 14 wait.
        for s in 12..=14 {
            assert_eq!(rb.push(s, (), t), PushOutcome::Buffered);
        }
        assert_eq!(drain(&mut rb, t), []);
        // 15 does not fit in [11, 15): the window slides to [12, 16), giving up on 11.
        assert_eq!(rb.push(15, (), t), PushOutcome::Buffered);
        assert_eq!(drain(&mut rb, t), [(12, 1), (13, 0), (14, 0), (15, 0)]);
        assert_eq!(rb.push(11, (), t), PushOutcome::Late(()));
        assert_eq!(rb.lost(), 1);
    }

    #[test]
    fn far_jump_is_a_discontinuity() {
        let mut rb = ReorderBuffer::new(8, Duration::from_secs(10));
        let t = Duration::ZERO;
        rb.push(100, 'a', t);
        rb.push(102, 'c', t);
        assert_eq!(drain(&mut rb, t), [(100, 0)]);
        // Far ahead: 102 is released at once and 5000 starts a new window.
        rb.push(5000, 'x', t);
        assert_eq!(drain(&mut rb, t), [(102, 1), (5000, 4897)]);
        // Far behind (beyond the late limit): also a discontinuity.
        rb.push(1000, 'y', t);
        assert_eq!(drain(&mut rb, t), [(1000, 61535)]);
        assert!(rb.is_empty());
    }

    #[test]
    fn overflow_without_popping_drops_oldest() {
        let mut rb = ReorderBuffer::new(2, Duration::from_secs(10));
        let t = Duration::ZERO;
        rb.push(1, 1, t);
        rb.push(2, 2, t);
        rb.push(3, 3, t);
        rb.push(4, 4, t);
        assert!(rb.len() <= 2);
        assert_eq!(rb.overflow_drops(), 2);
        assert_eq!(drain(&mut rb, t), [(3, 0), (4, 0)]);
    }

    #[test]
    fn window_of_one_passes_everything_through() {
        let mut rb = ReorderBuffer::new(0, Duration::ZERO);
        assert_eq!(rb.window(), 1);
        let t = Duration::ZERO;
        for s in [5u16, 7, 6, 8] {
            rb.push(s, (), t);
            let _ = drain(&mut rb, t);
        }
        assert_eq!(rb.late(), 1);
    }
}
