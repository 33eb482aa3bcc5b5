//! The bounded hand-over from the engine's threads to the main loop.
//!
//! A window that falls behind (a slow compositor, a modal dialog, a debugger) must not make the
//! player's memory grow with the stream. So nothing here queues without a bound:
//!
//! - frames: one slot, the newest replaces one not shown yet;
//! - statistics: one slot, the latest replaces older ones;
//! - protocol log rows and background errors: at most [`DROPPABLE_BOUND`] wait; beyond that the
//!   oldest of them is dropped and counted, and the window learns how many went
//!   ([`UiEvent::Dropped`]), so none is lost silently;
//! - everything else (connection, state changes, replies to commands, end of stream, shutdown)
//!   is always kept, in order: the engine sends those only in answer to the window's own
//!   commands or once per session, so their number is bounded by what the window asked for.
//!
//! The wake-up is a one-place channel: a pending wake-up is enough, whatever arrived since.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use rtsp_core::client::Stats;

use crate::engine::UiEvent;

/// How many protocol log rows and background errors may wait for the window.
pub const DROPPABLE_BOUND: usize = 1000;

/// What waits for the main loop.
#[derive(Debug)]
struct Waiting<F> {
    events: VecDeque<UiEvent>,
    droppable: usize,
    dropped: u64,
    stats: Option<Stats>,
    frame: Option<F>,
}

impl<F> Default for Waiting<F> {
    fn default() -> Self {
        Self {
            events: VecDeque::new(),
            droppable: 0,
            dropped: 0,
            stats: None,
            frame: None,
        }
    }
}

/// Protocol log rows and background errors are reports; losing the oldest of many is better
/// than growing without end. Everything else changes what the window must do.
fn is_droppable(event: &UiEvent) -> bool {
    matches!(event, UiEvent::Message(_) | UiEvent::Background(_))
}

/// The engine's side: puts events and frames in, wakes the main loop.
#[derive(Debug)]
pub struct Sender<F> {
    waiting: Arc<Mutex<Waiting<F>>>,
    wake: async_channel::Sender<()>,
}

impl<F> Clone for Receiver<F> {
    fn clone(&self) -> Self {
        Self {
            waiting: Arc::clone(&self.waiting),
            wake: self.wake.clone(),
        }
    }
}

impl<F> Clone for Sender<F> {
    fn clone(&self) -> Self {
        Self {
            waiting: Arc::clone(&self.waiting),
            wake: self.wake.clone(),
        }
    }
}

/// The main loop's side.
#[derive(Debug)]
pub struct Receiver<F> {
    waiting: Arc<Mutex<Waiting<F>>>,
    wake: async_channel::Receiver<()>,
}

/// A new mailbox.
pub fn mailbox<F>() -> (Sender<F>, Receiver<F>) {
    let waiting = Arc::new(Mutex::new(Waiting::default()));
    let (wake_tx, wake_rx) = async_channel::bounded(1);
    (
        Sender {
            waiting: Arc::clone(&waiting),
            wake: wake_tx,
        },
        Receiver {
            waiting,
            wake: wake_rx,
        },
    )
}

impl<F> Sender<F> {
    /// Leaves `event` for the main loop (statistics replace older statistics; reports beyond
    /// the bound push out the oldest report).
    pub fn send(&self, event: UiEvent) {
        self.with(|w| match event {
            UiEvent::Stats(stats) => w.stats = Some(stats),
            event => {
                if is_droppable(&event) {
                    if w.droppable >= DROPPABLE_BOUND {
                        if let Some(i) = w.events.iter().position(is_droppable) {
                            w.events.remove(i);
                            w.droppable -= 1;
                            w.dropped += 1;
                        }
                    }
                    w.droppable += 1;
                }
                w.events.push_back(event);
            }
        });
    }

    /// Leaves `frame` for the main loop, replacing one it has not taken yet.
    pub fn send_frame(&self, frame: F) {
        self.with(|w| w.frame = Some(frame));
    }

    fn with(&self, f: impl FnOnce(&mut Waiting<F>)) {
        // A panic elsewhere while holding the lock leaves plain data behind: keep going.
        f(&mut self.waiting.lock().unwrap_or_else(PoisonError::into_inner));
        // Full means a wake-up is pending already; closed means the window is gone.
        let _ = self.wake.try_send(());
    }
}

impl<F> Receiver<F> {
    /// Waits until something arrived, then takes the events in order: a [`UiEvent::Dropped`]
    /// first if reports were dropped, then the latest statistics, and [`UiEvent::FrameReady`]
    /// last if a frame waits. `None` once every sender is gone and nothing is left.
    pub async fn next(&self) -> Option<Vec<UiEvent>> {
        loop {
            let woken = self.wake.recv().await.is_ok();
            let events = self.take_events();
            if !events.is_empty() {
                return Some(events);
            }
            if !woken {
                return None;
            }
        }
    }

    /// The events waiting now (see [`Receiver::next`]); does not wait.
    pub fn take_events(&self) -> Vec<UiEvent> {
        let mut w = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        let mut events = Vec::with_capacity(w.events.len() + 2);
        if w.dropped > 0 {
            events.push(UiEvent::Dropped(w.dropped));
        }
        events.extend(w.events.drain(..));
        events.extend(w.stats.take().map(UiEvent::Stats));
        if w.frame.is_some() {
            events.push(UiEvent::FrameReady);
        }
        w.droppable = 0;
        w.dropped = 0;
        events
    }

    /// The newest frame, if one arrived since the last call.
    pub fn take_frame(&self) -> Option<F> {
        self.waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .frame
            .take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtsp_core::client::{ClientError, MessageDirection, ProtocolMessage, State};

    fn message(n: usize) -> UiEvent {
        UiEvent::Message(ProtocolMessage {
            direction: MessageDirection::Sent,
            at: std::time::Duration::ZERO,
            text: format!("OPTIONS * RTSP/1.0\r\nCSeq: {n}\r\n\r\n"),
        })
    }

    fn cseq(event: &UiEvent) -> Option<usize> {
        match event {
            UiEvent::Message(m) => m.text.split("CSeq: ").nth(1)?.lines().next()?.parse().ok(),
            _ => None,
        }
    }

    fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
        gtk4::glib::MainContext::new().block_on(f)
    }

    #[test]
    fn a_window_that_falls_behind_holds_a_bounded_number_of_events() {
        let (tx, rx) = mailbox::<u64>();
        let extra = 500;
        tx.send(UiEvent::Connected);
        for n in 0..DROPPABLE_BOUND + extra {
            tx.send(message(n));
            tx.send(UiEvent::Stats(Stats {
                frames_complete: n as u64,
                ..Stats::default()
            }));
            tx.send_frame(n as u64);
            if n % 100 == 0 {
                tx.send(UiEvent::State(State::Playing));
                tx.send(UiEvent::Background(ClientError::Io("keepalive".into())));
            }
        }
        tx.send(UiEvent::EndOfStream);

        let events = rx.take_events();
        let lifecycle = 2 + (DROPPABLE_BOUND + extra).div_ceil(100);
        // Dropped, the reports, the rest, the latest statistics, FrameReady.
        assert_eq!(events.len(), 1 + DROPPABLE_BOUND + lifecycle + 2);
        let dropped = (extra + (DROPPABLE_BOUND + extra).div_ceil(100)) as u64;
        assert!(matches!(events[0], UiEvent::Dropped(n) if n == dropped));
        assert!(matches!(events[1], UiEvent::Connected));
        // The newest reports survive, in order.
        let kept: Vec<usize> = events.iter().filter_map(cseq).collect();
        assert_eq!(kept.first(), Some(&(DROPPABLE_BOUND + extra - kept.len())));
        assert!(kept.windows(2).all(|w| w[0] + 1 == w[1]));
        // Every state change is kept.
        let states = events
            .iter()
            .filter(|e| matches!(e, UiEvent::State(_)))
            .count();
        assert_eq!(states, (DROPPABLE_BOUND + extra).div_ceil(100));
        assert!(matches!(events[events.len() - 3], UiEvent::EndOfStream));
        // Statistics: only the latest; frames: only the newest.
        assert!(matches!(events[events.len() - 1], UiEvent::FrameReady));
        assert!(matches!(&events[events.len() - 2],
            UiEvent::Stats(s) if s.frames_complete == (DROPPABLE_BOUND + extra - 1) as u64));
        assert_eq!(rx.take_frame(), Some((DROPPABLE_BOUND + extra - 1) as u64));
        assert_eq!(rx.take_frame(), None);
        assert!(rx.take_events().is_empty());
    }

    #[test]
    fn one_wake_up_carries_everything_that_arrived() {
        let (tx, rx) = mailbox::<u64>();
        tx.send(UiEvent::Connected);
        tx.send(UiEvent::State(State::Ready));
        tx.send_frame(7);
        let events = block_on(rx.next()).unwrap_or_default();
        assert_eq!(events.len(), 3);
        assert_eq!(rx.take_frame(), Some(7));
        // A frame alone wakes the window too.
        tx.send_frame(8);
        assert_eq!(block_on(rx.next()).map(|e| e.len()), Some(1));
        assert_eq!(rx.take_frame(), Some(8));
        tx.send(UiEvent::Finished);
        drop(tx);
        assert_eq!(block_on(rx.next()).map(|e| e.len()), Some(1));
        assert!(block_on(rx.next()).is_none());
    }
}
