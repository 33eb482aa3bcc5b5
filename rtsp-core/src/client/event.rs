//! What the client runtime tells its embedder: state changes, frames, statistics, errors.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::error::ClientError;
use super::protocol_log::ProtocolMessage;
use super::stats::Stats;

/// The RTSP session state, as the lab's state diagram names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// No session (before SETUP, after TEARDOWN).
    Init,
    /// A session exists and the server is not sending.
    Ready,
    /// The server is sending media.
    Playing,
}

impl State {
    /// The lab's name for the state (`INIT`, `READY`, `PLAYING`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Init => "INIT",
            State::Ready => "READY",
            State::Playing => "PLAYING",
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One complete JPEG picture, reassembled and ready to decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The complete JPEG file (SOI .. EOI). Shared so that handing a frame on never copies it.
    pub jpeg: Arc<[u8]>,
    /// Frame number: the lab's RTP sequence number in the lab dialect, a running count from 1 in the
    /// standard dialect.
    pub number: u64,
    /// The RTP timestamp the frame carried (90 kHz in the standard dialect, seconds in the lab's).
    pub rtp_timestamp: u32,
    /// Presentation time: the frame's position in the media, from the PLAY start position.
    pub pts: Duration,
    /// When the sender says the frame left it (or was captured), on its wall clock: the
    /// RTP timestamp placed on the NTP time line of the sender's latest RTCP sender report.
    /// `None` before the first report (and always in the lab dialect). On one machine, or
    /// with synchronized clocks, the arrival time minus this is the frame's latency.
    pub sender_time: Option<SystemTime>,
}

/// The session description, as the server sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// MIME type of the body (`application/sdp` for standard servers, empty when the server gave none).
    pub content_type: String,
    /// The description text (SDP, or the lab extension's free-form description).
    pub text: String,
}

/// Everything the runtime reports, in the order it happened.
#[derive(Debug, Clone)]
pub enum Event {
    /// The session state changed.
    StateChanged(State),
    /// A complete frame arrived. A slow consumer sees only the newest one; the others are counted in
    /// [`Stats::frames_dropped`].
    Frame(Frame),
    /// A periodic statistics snapshot.
    Stats(Stats),
    /// The answer to DESCRIBE.
    Description(Description),
    /// Something failed in the background (keepalive, receive path, transport fallback).
    Error(ClientError),
    /// The server ended the stream (RTCP BYE, the lab's last frame, or silence after the lab's last frame).
    EndOfStream,
    /// An RTSP message crossed the wire (only with [`super::ClientConfig::protocol_log`]). A
    /// request is reported before its bytes are written, so it always precedes its reply.
    Message(ProtocolMessage),
}
