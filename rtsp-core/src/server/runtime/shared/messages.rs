//! The messages threads send connection workers, and the handles they send them through.
//!
//! Kept apart from the threads so that no thread module needs another's: the acceptor, the
//! reaper and other connection workers reach a connection worker through a [`WorkerHandle`].
//! None of these messages is sent per frame: a worker paces and sends its sessions' media
//! itself, so messages carry only control (new connections, PLAY, PAUSE, the end of a session).

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;

use crossbeam_channel::{Sender, TrySendError};
use mio::Waker;

use super::session::{LiveSession, SessionId};

/// Identifies a connection inside its worker.
pub type ConnId = usize;

/// Messages to a worker.
#[derive(Debug)]
pub enum WorkerMsg {
    /// A freshly accepted connection; `true`: from the `rtsps://` listener (TLS).
    Accept(std::net::TcpStream, SocketAddr, bool),
    /// Bytes for an interleaved session whose connection lives on another worker (a transport
    /// changed from a connection of another worker; rare): one or more whole `$` frames.
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
    /// Stop pacing a session (PAUSE).
    Stop(SessionId),
    /// Route the session's incoming RTCP (its transport was set up or changed).
    Watch(Arc<LiveSession>),
    /// Stop routing a session's incoming RTCP (its transport is about to change).
    Forget(Arc<LiveSession>),
    /// The session ended: stop pacing it, say RTCP BYE after its last frame, forget it.
    End(Arc<LiveSession>),
    /// The media a connection's parked request waits for is loaded: handle it.
    Resume(ConnId),
    /// Flush and close everything, then exit.
    Shutdown,
}

/// A worker's RTP/RTCP socket pair: every UDP session of the worker sends from it, so a
/// session costs no descriptor of its own.
#[derive(Debug)]
pub struct WorkerPorts {
    /// Even port: RTP (and the lab dialect's whole-JPEG datagrams).
    pub rtp: Arc<UdpSocket>,
    /// Odd port: RTCP.
    pub rtcp: Arc<UdpSocket>,
}

impl WorkerPorts {
    /// The RTP port (the RTCP port is one more).
    pub fn rtp_port(&self) -> u16 {
        self.rtp.local_addr().map(|a| a.port()).unwrap_or(0)
    }
}

/// A way to reach a worker from any thread.
#[derive(Debug, Clone)]
pub struct WorkerHandle {
    /// Index of the worker.
    pub index: usize,
    /// The worker's UDP ports.
    pub ports: Arc<WorkerPorts>,
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
