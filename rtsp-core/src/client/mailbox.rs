//! The hand-off between the runtime threads and the embedder: an ordered queue of events in which
//! newer frames push out the oldest frame the consumer has not taken yet.
//!
//! This is what keeps a slow consumer from stalling reception: the receive thread never blocks on
//! the consumer. A few frames may wait ([`FRAME_SLACK`]) so that scheduling jitter (two frames
//! arriving in one read, a consumer thread woken late on a busy machine) loses nothing; past that
//! the oldest pending frame is dropped and counted, so a consumer that really falls behind sees
//! the newest pictures. Control events (state, errors, end of stream) are never dropped, and
//! pending frames are moved into the ordered queue before a control event so that the consumer
//! sees everything in the order it happened.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::event::{Event, Frame};

/// Upper bound on queued control events; past it the oldest statistics snapshot or protocol log
/// message is discarded.
const MAX_QUEUED: usize = 1024;

/// Events a consumer that stopped reading can lose without harm to the session's logic.
fn expendable(event: &Event) -> bool {
    matches!(event, Event::Stats(_) | Event::Message(_))
}

/// Frames that may wait for the consumer before the oldest is dropped: 200 ms at 20 fps, the most
/// a late consumer is shown behind the stream.
pub(crate) const FRAME_SLACK: usize = 4;

#[derive(Debug, Default)]
struct Inner {
    queue: VecDeque<Event>,
    frames: VecDeque<Frame>,
    dropped: u64,
    closed: bool,
}

/// A multi-producer, single-consumer event mailbox (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct Mailbox {
    inner: Mutex<Inner>,
    ready: Condvar,
}

impl Mailbox {
    /// Offers a frame. Returns the number of frames this pushed out (0 or 1), so the caller can
    /// count drops in its statistics.
    pub(crate) fn push_frame(&self, frame: Frame) -> u64 {
        let mut inner = self.inner.lock();
        if inner.closed {
            return 0;
        }
        let replaced = if inner.frames.len() >= FRAME_SLACK {
            u64::from(inner.frames.pop_front().is_some())
        } else {
            0
        };
        inner.frames.push_back(frame);
        inner.dropped += replaced;
        drop(inner);
        self.ready.notify_one();
        replaced
    }

    /// Queues a control event behind any pending frame.
    pub(crate) fn push(&self, event: Event) {
        let mut inner = self.inner.lock();
        if inner.closed {
            return;
        }
        while let Some(frame) = inner.frames.pop_front() {
            inner.queue.push_back(Event::Frame(frame));
        }
        if inner.queue.len() >= MAX_QUEUED {
            // Statistics are superseded by the next snapshot anyway, and a log nobody reads
            // must not grow without bound.
            if let Some(pos) = inner.queue.iter().position(expendable) {
                inner.queue.remove(pos);
            } else if expendable(&event) {
                return;
            }
        }
        inner.queue.push_back(event);
        drop(inner);
        self.ready.notify_one();
    }

    /// Wakes the consumer for good: after this, [`Mailbox::pop`] drains what is queued and then
    /// returns `None` immediately.
    pub(crate) fn close(&self) {
        self.inner.lock().closed = true;
        self.ready.notify_all();
    }

    /// Takes the next event, waiting up to `timeout` for one.
    pub(crate) fn pop(&self, timeout: Duration) -> Option<Event> {
        let deadline = Instant::now().checked_add(timeout);
        let mut inner = self.inner.lock();
        loop {
            if let Some(event) = inner.queue.pop_front() {
                return Some(event);
            }
            if let Some(frame) = inner.frames.pop_front() {
                return Some(Event::Frame(frame));
            }
            if inner.closed {
                return None;
            }
            match deadline {
                Some(deadline) => {
                    if self.ready.wait_until(&mut inner, deadline).timed_out() {
                        // One last look: an event may have arrived together with the timeout.
                        return inner
                            .queue
                            .pop_front()
                            .or_else(|| inner.frames.pop_front().map(Event::Frame));
                    }
                }
                None => self.ready.wait(&mut inner),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::event::State;
    use std::sync::Arc;

    fn frame(n: u64) -> Frame {
        Frame {
            jpeg: Arc::from(vec![0xFF, 0xD8, n as u8, 0xFF, 0xD9]),
            number: n,
            rtp_timestamp: 0,
            pts: Duration::ZERO,
            sender_time: None,
        }
    }

    fn number(e: Option<Event>) -> u64 {
        match e {
            Some(Event::Frame(f)) => f.number,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    #[test]
    fn newest_frames_win_and_drops_are_counted() {
        let m = Mailbox::default();
        let total = FRAME_SLACK as u64 + 2;
        for n in 1..=total {
            let expected_drop = u64::from(n > FRAME_SLACK as u64);
            assert_eq!(m.push_frame(frame(n)), expected_drop, "frame {n}");
        }
        // The oldest two were pushed out; the newest FRAME_SLACK remain, in order.
        for n in 3..=total {
            assert_eq!(number(m.pop(Duration::ZERO)), n);
        }
        assert!(m.pop(Duration::from_millis(10)).is_none());
        assert_eq!(m.inner.lock().dropped, 2);
    }

    #[test]
    fn frames_arriving_together_are_all_delivered() {
        let m = Mailbox::default();
        m.push_frame(frame(0));
        m.push_frame(frame(1));
        assert_eq!(number(m.pop(Duration::ZERO)), 0);
        assert_eq!(number(m.pop(Duration::ZERO)), 1);
        assert_eq!(m.inner.lock().dropped, 0);
    }

    #[test]
    fn control_events_keep_their_order_relative_to_frames() {
        let m = Mailbox::default();
        m.push(Event::StateChanged(State::Playing));
        m.push_frame(frame(1));
        m.push(Event::EndOfStream);
        assert!(matches!(
            m.pop(Duration::ZERO),
            Some(Event::StateChanged(State::Playing))
        ));
        assert_eq!(number(m.pop(Duration::ZERO)), 1);
        assert!(matches!(m.pop(Duration::ZERO), Some(Event::EndOfStream)));
    }

    #[test]
    fn close_wakes_a_waiting_consumer() {
        let m = Arc::new(Mailbox::default());
        let m2 = Arc::clone(&m);
        let t = std::thread::spawn(move || m2.pop(Duration::from_secs(30)));
        std::thread::sleep(Duration::from_millis(50));
        m.close();
        assert!(t.join().unwrap().is_none());
        assert!(m.inner.lock().closed);
    }

    #[test]
    fn queue_is_bounded_by_discarding_stats_and_log_messages() {
        let m = Mailbox::default();
        for i in 0..(MAX_QUEUED + 10) {
            if i % 2 == 0 {
                m.push(Event::Stats(Default::default()));
            } else {
                m.push(Event::Message(crate::client::ProtocolMessage::new(
                    crate::client::MessageDirection::Sent,
                    Duration::ZERO,
                    b"OPTIONS * RTSP/1.0",
                )));
            }
        }
        m.push(Event::EndOfStream);
        let inner = m.inner.lock();
        assert!(inner.queue.len() <= MAX_QUEUED);
        assert!(matches!(inner.queue.back(), Some(Event::EndOfStream)));
    }
}
