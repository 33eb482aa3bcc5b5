//! A connection worker's pacing table: the play segments of the sessions it sends, in a heap
//! of deadlines. The worker's event loop sleeps until [`Playout::next_deadline`] and then asks
//! [`Playout::due`] what to send; nothing here touches a socket or reads the clock.
//!
//! A PLAY (or a seek while playing) starts a play segment: a [`Pacer`] grid whose slot 0 is due
//! at once and whose later slots fall on one of the worker's shared phases
//! ([`crate::server::pacing::pick_phase`]), so sessions of one phase are served in one wake-up.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::server::pacing::{phase_start, pick_phase, rtp_ticks, Pacer, PHASES_PER_FRAME};
use crate::server::runtime::published::FeedWatch;
use crate::server::runtime::shared::session::{LiveSession, SessionId};

/// Deadlines this close ahead of now fire with the ones that are due: sessions of one phase
/// then leave in one batch, for a send-time error of at most this much (early, never late).
pub const COALESCE: Duration = Duration::from_micros(500);

/// What a due session must send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Frame `index` with this RTP timestamp.
    Frame {
        /// Frame index in the source.
        index: u64,
        /// RTP timestamp (90 kHz) of every packet of the frame.
        rtp_timestamp: u32,
    },
    /// The file ran out: RTCP BYE (standard sessions).
    EndOfStream,
    /// The PLAY's range ended before the file: RTCP BYE (standard sessions).
    EndOfRange,
    /// A published path has no frame newer than the last one sent: nothing this slot.
    Idle,
}

struct Segment {
    session: Arc<LiveSession>,
    epoch: u64,
    pacer: Pacer,
    from: u64,
    until: Option<u64>,
    /// RTP ticks of slot 0 of this segment.
    ticks_origin: u64,
    phase: usize,
    /// The last frame of a published path this segment sent (0: none).
    last_published: u64,
    /// The deadline of the segment's live heap entry (older entries are dead).
    scheduled: Instant,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Due {
    at: Instant,
    session: SessionId,
    epoch: u64,
}

/// The play segments of one worker.
pub struct Playout {
    origin: Instant,
    heap: BinaryHeap<Reverse<Due>>,
    active: HashMap<SessionId, Segment>,
    phases: [usize; PHASES_PER_FRAME],
    /// The worker's doorbell, given to the feeds its readers play.
    watch: Option<Arc<FeedWatch>>,
}

impl Playout {
    /// Let the feeds of published paths played here ring `watch` on each new frame.
    pub fn set_watch(&mut self, watch: Arc<FeedWatch>) {
        self.watch = Some(watch);
    }

    /// A feed rang: every segment of a published path with a frame it has not sent is due now.
    pub fn wake_published(&mut self, now: Instant) {
        for (id, segment) in &mut self.active {
            let Some(feed) = segment.session.source.feed() else {
                continue;
            };
            let latest = feed.latest_index();
            if latest != 0 && latest != segment.last_published && segment.scheduled > now {
                segment.scheduled = now;
                self.heap.push(Reverse(Due {
                    at: now,
                    session: *id,
                    epoch: segment.epoch,
                }));
            }
        }
    }

    /// An empty table whose phase grid starts at `origin`.
    pub fn new(origin: Instant) -> Self {
        Self {
            origin,
            heap: BinaryHeap::new(),
            active: HashMap::new(),
            phases: [0; PHASES_PER_FRAME],
            watch: None,
        }
    }

    /// Start (or restart after a seek) a segment at `now`, unless `epoch` is stale.
    pub fn play(
        &mut self,
        session: Arc<LiveSession>,
        from: u64,
        until: Option<u64>,
        epoch: u64,
        now: Instant,
    ) {
        if session.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        let id = session.id;
        let ticks_origin = session.next_ticks.load(Ordering::Acquire);
        let (start, phase) = match self.active.remove(&id) {
            // A seek while playing keeps the running grid, so the frame after the seek is not
            // sent right on the heels of the one before it.
            Some(old) => (old.pacer.deadline().max(now), old.phase),
            None => {
                let phase = pick_phase(&self.phases);
                if let Some(n) = self.phases.get_mut(phase) {
                    *n += 1;
                }
                (phase_start(self.origin, now, session.fps, phase), phase)
            }
        };
        if let (Some(feed), Some(watch)) = (session.source.feed(), &self.watch) {
            feed.watch(watch);
        }
        let pacer = Pacer::new(start, session.fps);
        let segment = Segment {
            scheduled: pacer.deadline(),
            pacer,
            session,
            epoch,
            from,
            until,
            ticks_origin,
            phase,
            last_published: 0,
        };
        self.heap.push(Reverse(Due {
            at: segment.pacer.deadline(),
            session: id,
            epoch,
        }));
        self.active.insert(id, segment);
    }

    /// Stop a session's segment (PAUSE, its end).
    pub fn stop(&mut self, id: SessionId) {
        if let Some(segment) = self.active.remove(&id) {
            if let Some(n) = self.phases.get_mut(segment.phase) {
                *n = n.saturating_sub(1);
            }
        }
    }

    /// The earliest deadline, if any session plays.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        // Entries of stopped or restarted segments die here rather than waking the worker.
        while let Some(Reverse(due)) = self.heap.peek() {
            match self.active.get(&due.session) {
                Some(s) if s.epoch == due.epoch && s.scheduled == due.at => return Some(due.at),
                _ => {
                    self.heap.pop();
                }
            }
        }
        None
    }

    /// Everything due at `now` (or within [`COALESCE`] of it), appended to `out`.
    pub fn due(&mut self, now: Instant, out: &mut Vec<(Arc<LiveSession>, Action)>) {
        let horizon = now + COALESCE;
        while let Some(Reverse(due)) = self.heap.peek() {
            if due.at > horizon {
                break;
            }
            let Some(Reverse(due)) = self.heap.pop() else {
                break;
            };
            let stale = match self.active.get(&due.session) {
                Some(segment) if segment.epoch == due.epoch && segment.scheduled == due.at => {
                    segment.session.epoch.load(Ordering::Acquire) != segment.epoch
                        || segment.session.closed.load(Ordering::Acquire)
                }
                _ => continue,
            };
            if stale {
                self.stop(due.session);
                continue;
            }
            let Some(segment) = self.active.get_mut(&due.session) else {
                continue;
            };
            let (action, goes_on) = fire(segment, now);
            let next = segment.pacer.deadline();
            segment.scheduled = next;
            out.push((Arc::clone(&segment.session), action));
            if goes_on {
                self.heap.push(Reverse(Due {
                    at: next,
                    session: due.session,
                    epoch: due.epoch,
                }));
            } else {
                self.stop(due.session);
            }
        }
    }
}

/// The action of the slot that is due, and whether the segment goes on.
fn fire(segment: &mut Segment, now: Instant) -> (Action, bool) {
    let session = Arc::clone(&segment.session);
    let session = &session;
    let fire = segment.pacer.fire(now);
    if fire.skipped > 0 {
        session
            .stats
            .frames_skipped
            .fetch_add(fire.skipped, Ordering::Relaxed);
        tracing::debug!(
            session = session.id.get(),
            skipped = fire.skipped,
            "worker stall: skipped to the current frame"
        );
    }
    let ticks = segment.ticks_origin + rtp_ticks(fire.slot, session.fps);
    // The next frame of this session (if paused right after this one) carries the next tick.
    session.next_ticks.store(
        segment.ticks_origin + rtp_ticks(fire.slot + 1, session.fps),
        Ordering::Release,
    );
    let index = match session.source.total_frames() {
        // A published path: its latest frame, once (readers poll; see `published`).
        None if session.source.feed().is_some() => {
            let latest = session.source.live_index(now);
            if latest == 0 || latest == segment.last_published {
                return (Action::Idle, true);
            }
            segment.last_published = latest;
            latest
        }
        None => session.source.live_index(now),
        Some(total) => {
            let raw = segment.from + fire.slot;
            let end = segment.until.map_or(total, |u| u.min(total));
            if raw < end {
                raw
            } else if session.looping && segment.until.is_none() && total > 0 {
                raw % total
            } else {
                // The end of the range (or file): the session pauses there, READY, and says
                // BYE; a PLAY without Range resumes from here.
                session.position.store(end, Ordering::Release);
                session.machine.lock().end_of_stream();
                let action = if end < total {
                    Action::EndOfRange
                } else {
                    Action::EndOfStream
                };
                return (action, false);
            }
        }
    };
    session.position.store(index + 1, Ordering::Release);
    (
        Action::Frame {
            index,
            rtp_timestamp: session.rtp_timestamp(ticks),
        },
        true,
    )
}
