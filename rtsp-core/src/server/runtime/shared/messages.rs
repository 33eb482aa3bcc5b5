//! The messages threads send each other, and the handles they send them through.
//!
//! Kept apart from the threads so that no thread module needs another's: the acceptor and the
//! senders reach connection workers through a [`WorkerHandle`], connection workers reach the
//! pacing scheduler with a [`SchedMsg`], the scheduler hands [`Batch`]es to senders.

use std::net::SocketAddr;
use std::sync::Arc;

use crossbeam_channel::{Sender, TrySendError};
use mio::Waker;

use super::session::{LiveSession, SessionId};

/// Identifies a connection inside its worker.
pub type ConnId = usize;

/// Messages to a worker.
#[derive(Debug)]
pub enum WorkerMsg {
    /// A freshly accepted connection.
    Accept(std::net::TcpStream, SocketAddr),
    /// Bytes for an interleaved session: one or more whole `$` frames.
    Interleaved {
        /// Target connection.
        conn: ConnId,
        /// The session (for drop accounting).
        session: Arc<LiveSession>,
        /// Complete `$` frames.
        data: Vec<u8>,
        /// Counts as a media frame (dropped whole if the queue is full); RTCP is not counted.
        frame: bool,
    },
    /// Stop watching a session's UDP sockets.
    Forget(SessionId),
    /// The media a connection's parked request waits for is loaded: handle it.
    Resume(ConnId),
    /// Flush and close everything, then exit.
    Shutdown,
}

/// A way to reach a worker from any thread.
#[derive(Debug, Clone)]
pub struct WorkerHandle {
    /// Index of the worker.
    pub index: usize,
    pub(in crate::server::runtime) tx: Sender<WorkerMsg>,
    pub(in crate::server::runtime) waker: Arc<Waker>,
}

impl WorkerHandle {
    /// Queue a message and wake the worker. Fails when the worker's queue is full or it exited.
    pub fn send(&self, msg: WorkerMsg) -> Result<(), WorkerMsg> {
        match self.tx.try_send(msg) {
            Ok(()) => {
                let _ = self.waker.wake();
                Ok(())
            }
            Err(TrySendError::Full(m) | TrySendError::Disconnected(m)) => Err(m),
        }
    }
}

/// A connection on a worker: where interleaved data for a session goes.
#[derive(Debug, Clone)]
pub struct ConnLink {
    /// The worker.
    pub worker: WorkerHandle,
    /// The connection inside it.
    pub conn: ConnId,
}

/// Control messages.
#[derive(Debug)]
pub enum SchedMsg {
    /// Start (or restart after a seek) pacing `session` from frame `from`.
    Play {
        /// The session.
        session: Arc<LiveSession>,
        /// First frame index.
        from: u64,
        /// First frame index not to send (the end of the PLAY's range); `None`: the end of
        /// the file.
        until: Option<u64>,
        /// The session's epoch when the order was given; older orders are ignored.
        epoch: u64,
    },
    /// Stop pacing a session (PAUSE, TEARDOWN, reaping).
    Stop(SessionId),
    /// Exit.
    Shutdown,
}

/// Picks the sender worker of a session: always the same one, so that its packets leave in order.
pub fn sender_for(id: SessionId, senders: usize) -> usize {
    // Ids are random, so their low bits spread evenly.
    (id.get() % senders.max(1) as u64) as usize
}

/// Work for a sender.
#[derive(Debug)]
pub struct Job {
    /// The session.
    pub session: Arc<LiveSession>,
    /// What to do.
    pub kind: JobKind,
}

/// Kinds of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Send frame `index` with this RTP timestamp.
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
    /// The session is closing: RTCP BYE (standard sessions).
    Bye,
}

/// Jobs handed to a sender in one message: the pacing thread gathers every frame that falls due
/// in one wake-up, so a sender wakes once per tick rather than once per session and frame.
pub type Batch = Vec<Job>;
