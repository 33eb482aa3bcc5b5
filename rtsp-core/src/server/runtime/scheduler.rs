//! The pacing scheduler: one thread, one binary heap of deadlines for every playing session.
//!
//! A PLAY (or a seek while playing) starts a play segment: a [`Pacer`] grid anchored at the
//! moment of the PLAY. The thread sleeps until the earliest deadline (or a control message),
//! emits a send job for each due session to that session's sender worker, and pushes the next
//! deadline. It never touches a socket and never encodes anything, so a slow client or a slow
//! frame cannot delay another session's deadline.
//!
//! Per-session backpressure: at most [`MAX_IN_FLIGHT`] frames of a session may wait for its
//! sender. When that many are queued the frame is dropped whole and counted, rather than
//! queuing without bound or blocking the scheduler.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};

use crate::server::pacing::{rtp_ticks, Pacer};
use crate::server::runtime::shared::session::{LiveSession, SessionId};
use crate::server::runtime::shared::{sender_for, Batch, Job, JobKind, SchedMsg};

/// Most frames of one session queued for its sender.
pub const MAX_IN_FLIGHT: usize = 3;

/// Deadlines this close ahead of the one that woke the thread fire with it. Sessions start at
/// arbitrary moments, so with thousands of them deadlines are microseconds apart; serving the
/// ones due within this window in the same wake-up (one batch per sender) turns tens of thousands
/// of thread wake-ups per second into at most a couple of thousand, for a send-time error of at
/// most this much (early, never late).
pub const COALESCE: Duration = Duration::from_micros(500);

struct Playback {
    session: Arc<LiveSession>,
    epoch: u64,
    pacer: Pacer,
    from: u64,
    until: Option<u64>,
    /// RTP ticks of slot 0 of this segment.
    ticks_origin: u64,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Due {
    at: Instant,
    session: SessionId,
    epoch: u64,
}

/// Ask the OS to run the calling thread ahead of ordinary threads (nice -10). Pacing is the
/// one latency-critical thread and does almost no work; on a loaded machine this keeps its
/// wake-ups on time. Without the privilege (CAP_SYS_NICE) the call fails and nothing changes.
fn raise_priority() {
    // SAFETY: gettid and setpriority take plain integers and touch no memory of ours.
    let ok = unsafe {
        let tid = libc::syscall(libc::SYS_gettid);
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, -10) == 0
    };
    tracing::debug!(raised = ok, "pacing thread priority");
}

/// Run the scheduler until [`SchedMsg::Shutdown`] or until every control sender is gone.
pub fn run(rx: Receiver<SchedMsg>, senders: Vec<Sender<Option<Batch>>>) {
    raise_priority();
    let mut batches: Vec<Batch> = senders.iter().map(|_| Vec::new()).collect();
    let mut heap: BinaryHeap<Reverse<Due>> = BinaryHeap::new();
    let mut active: HashMap<SessionId, Playback> = HashMap::new();
    loop {
        let msg = match heap.peek() {
            Some(Reverse(next)) => {
                let now = Instant::now();
                if next.at <= now {
                    None
                } else {
                    match rx.recv_timeout(next.at - now) {
                        Ok(m) => Some(m),
                        Err(RecvTimeoutError::Timeout) => None,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            }
            None => match rx.recv() {
                Ok(m) => Some(m),
                Err(_) => return,
            },
        };
        if let Some(msg) = msg {
            match msg {
                SchedMsg::Play {
                    session,
                    from,
                    until,
                    epoch,
                } => {
                    if session.epoch.load(Ordering::Acquire) != epoch {
                        continue;
                    }
                    let now = Instant::now();
                    let ticks_origin = session.next_ticks.load(Ordering::Acquire);
                    let id = session.id;
                    // A seek while playing keeps the running grid's phase, so the frame after
                    // the seek is not sent right on the heels of the one before it.
                    let start = match active.get(&id) {
                        Some(old) => old.pacer.deadline().max(now),
                        None => now,
                    };
                    let pb = Playback {
                        pacer: Pacer::new(start, session.fps),
                        session,
                        epoch,
                        from,
                        until,
                        ticks_origin,
                    };
                    heap.push(Reverse(Due {
                        at: pb.pacer.deadline(),
                        session: id,
                        epoch,
                    }));
                    active.insert(id, pb);
                }
                SchedMsg::Stop(id) => {
                    active.remove(&id);
                }
                SchedMsg::Shutdown => return,
            }
            continue;
        }
        // Fire everything that is due, or nearly.
        let now = Instant::now();
        let horizon = now + COALESCE;
        while let Some(Reverse(due)) = heap.peek() {
            if due.at > horizon {
                break;
            }
            let Some(Reverse(due)) = heap.pop() else {
                break;
            };
            let Some(pb) = active.get_mut(&due.session) else {
                continue;
            };
            if pb.epoch != due.epoch {
                continue;
            }
            if pb.session.epoch.load(Ordering::Acquire) != pb.epoch
                || pb.session.closed.load(Ordering::Acquire)
            {
                active.remove(&due.session);
                continue;
            }
            match fire(pb, now, &mut batches) {
                Next::Continue => heap.push(Reverse(Due {
                    at: pb.pacer.deadline(),
                    session: due.session,
                    epoch: due.epoch,
                })),
                Next::Finished => {
                    active.remove(&due.session);
                }
            }
        }
        flush(&mut batches, &senders);
    }
}

/// Hand each sender the jobs gathered for it in this wake-up. A sender whose queue is full loses
/// the batch, counted per session as dropped frames: the scheduler never blocks.
fn flush(batches: &mut [Batch], senders: &[Sender<Option<Batch>>]) {
    for (batch, tx) in batches.iter_mut().zip(senders) {
        if batch.is_empty() {
            continue;
        }
        let jobs = std::mem::replace(batch, Vec::with_capacity(batch.len()));
        match tx.try_send(Some(jobs)) {
            Ok(()) => {}
            Err(TrySendError::Full(Some(jobs)) | TrySendError::Disconnected(Some(jobs))) => {
                for job in jobs {
                    if matches!(job.kind, JobKind::Frame { .. }) {
                        job.session.in_flight.fetch_sub(1, Ordering::AcqRel);
                        job.session
                            .stats
                            .frames_dropped
                            .fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Err(_) => {}
        }
    }
}

enum Next {
    Continue,
    Finished,
}

/// Emit the frame of the slot that is due and say whether the segment goes on.
fn fire(pb: &mut Playback, now: Instant, batches: &mut [Batch]) -> Next {
    let session = &pb.session;
    let fire = pb.pacer.fire(now);
    if fire.skipped > 0 {
        session
            .stats
            .frames_skipped
            .fetch_add(fire.skipped, Ordering::Relaxed);
        tracing::debug!(
            session = session.id.get(),
            skipped = fire.skipped,
            "scheduler stall: skipped to the current frame"
        );
    }
    let ticks = pb.ticks_origin + rtp_ticks(fire.slot, session.fps);
    // The next frame of this session (if paused right after this one) carries the next tick.
    session.next_ticks.store(
        pb.ticks_origin + rtp_ticks(fire.slot + 1, session.fps),
        Ordering::Release,
    );
    let index = match session.source.total_frames() {
        None => session.source.live_index(now),
        Some(total) => {
            let raw = pb.from + fire.slot;
            let end = pb.until.map_or(total, |u| u.min(total));
            if raw < end {
                raw
            } else if session.looping && pb.until.is_none() && total > 0 {
                raw % total
            } else {
                // The end of the range (or file): the session pauses there, READY, and says
                // BYE; a PLAY without Range resumes from here.
                session.position.store(end, Ordering::Release);
                session.machine.lock().end_of_stream();
                let kind = if end < total {
                    JobKind::EndOfRange
                } else {
                    JobKind::EndOfStream
                };
                queue(session, batches, kind, true);
                return Next::Finished;
            }
        }
    };
    session.position.store(index + 1, Ordering::Release);
    let in_flight = session.in_flight.load(Ordering::Acquire);
    if in_flight >= MAX_IN_FLIGHT {
        session.stats.frames_dropped.fetch_add(1, Ordering::Relaxed);
        return Next::Continue;
    }
    queue(
        session,
        batches,
        JobKind::Frame {
            index,
            rtp_timestamp: session.rtp_timestamp(ticks),
        },
        false,
    );
    Next::Continue
}

fn queue(session: &Arc<LiveSession>, batches: &mut [Batch], kind: JobKind, control: bool) {
    let len = batches.len();
    let Some(batch) = batches.get_mut(sender_for(session.id, len)) else {
        return;
    };
    if !control {
        session.in_flight.fetch_add(1, Ordering::AcqRel);
    }
    batch.push(Job {
        session: Arc::clone(session),
        kind,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_stick_to_one_sender() {
        for n in [1u64, 7, 1_234_567_890_123_456, u64::MAX] {
            let id = SessionId::new(n).unwrap();
            let s = sender_for(id, 3);
            assert!(s < 3);
            assert_eq!(s, sender_for(id, 3));
        }
        assert_eq!(sender_for(SessionId::new(5).unwrap(), 0), 0);
    }
}
