//! Sans-I/O client session (placeholder until the rtsp module lands).

use std::time::Duration;

use super::error::ClientError;
use super::event::{Description, State};

/// The lab extension's FORWARD/BACKWARD step, in frames.
pub const LAB_SKIP_FRAMES: u64 = 20;

/// A parsed reply.
#[derive(Debug, Clone)]
pub struct Reply;

/// What the receive thread hands the control thread.
#[derive(Debug)]
pub(crate) enum Incoming {
    Reply(Reply),
    Closed(ClientError),
    Failed(ClientError),
}

/// Splits the RTSP connection's bytes into replies and interleaved packets.
#[derive(Debug)]
pub(crate) struct ReplyReader {
    lab: bool,
}

impl ReplyReader {
    pub(crate) fn new(lab: bool) -> Self {
        Self { lab }
    }
    pub(crate) fn push(
        &mut self,
        _bytes: &[u8],
        _out: &mut Vec<Incoming>,
    ) -> Result<(), ClientError> {
        let _ = self.lab;
        Ok(())
    }
    pub(crate) fn take_interleaved(&mut self) -> Vec<(u8, Vec<u8>)> {
        Vec::new()
    }
}

/// What the SDP says about the stream.
#[derive(Debug, Clone, Default)]
pub struct MediaInfo {
    frame_rate: Option<f64>,
}

impl MediaInfo {
    /// Frames per second (20 when not announced).
    pub fn frame_rate(&self) -> f64 {
        self.frame_rate.unwrap_or(20.0)
    }
}

/// PLAY reply details.
#[derive(Debug, Clone, Default)]
pub struct PlayInfo;

/// Transport the client asks for.
#[derive(Debug, Clone, Copy)]
pub enum SetupTransport {
    /// UDP.
    Udp {
        /// RTP port.
        rtp_port: u16,
        /// RTCP port.
        rtcp_port: u16,
    },
    /// TCP.
    Interleaved {
        /// RTP channel.
        rtp: u8,
        /// RTCP channel.
        rtcp: u8,
    },
    /// Lab.
    Lab {
        /// RTP port.
        rtp_port: u16,
    },
}

/// Transport the server chose.
#[derive(Debug, Clone, Copy)]
pub enum ServerTransport {
    /// UDP.
    Udp {
        /// Server RTCP port.
        server_rtcp_port: Option<u16>,
    },
    /// TCP.
    Interleaved {
        /// RTP channel.
        rtp: u8,
        /// RTCP channel.
        rtcp: u8,
    },
}

/// A request.
#[derive(Debug, Clone, Copy)]
pub enum Request {
    /// OPTIONS.
    Options,
    /// DESCRIBE.
    Describe,
    /// SETUP.
    Setup(SetupTransport),
    /// PLAY.
    Play(Option<f64>),
    /// PAUSE.
    Pause,
    /// TEARDOWN.
    Teardown,
    /// GET_PARAMETER.
    GetParameter,
    /// FORWARD.
    LabForward,
    /// BACKWARD.
    LabBackward,
    /// RESTART.
    LabRestart,
}

impl Request {
    /// The method.
    pub fn method_name(&self) -> &'static str {
        "X"
    }
}

/// The outcome of a reply.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// OPTIONS.
    Options,
    /// DESCRIBE.
    Described(Description, MediaInfo),
    /// SETUP.
    SetUp(ServerTransport),
    /// PLAY.
    Playing(PlayInfo),
    /// PAUSE.
    Paused,
    /// TEARDOWN.
    TornDown,
    /// Keepalive.
    Keepalive,
    /// Lab moved.
    LabMoved,
}

/// The session.
#[derive(Debug)]
pub struct Session {
    lab: bool,
}

impl Session {
    /// Standard.
    pub fn standard(_url: &str, _ua: &str) -> Result<Self, ClientError> {
        Err(ClientError::Unsupported("todo".into()))
    }
    /// Lab.
    pub fn lab(_file: &str) -> Self {
        Self { lab: true }
    }
    /// host/port.
    pub fn host_port(&self) -> (String, u16) {
        (String::new(), 0)
    }
    /// lab?
    pub fn is_lab(&self) -> bool {
        self.lab
    }
    /// state.
    pub fn state(&self) -> State {
        State::Init
    }
    /// reset.
    pub fn reset(&mut self) {}
    /// encode.
    pub fn encode(&mut self, _r: &Request) -> Result<Vec<u8>, ClientError> {
        Err(ClientError::Unsupported("todo".into()))
    }
    /// matches.
    pub fn is_reply_to_pending(&self, _r: &Reply) -> bool {
        true
    }
    /// handle.
    pub fn handle_reply(&mut self, _r: &Reply) -> Result<Outcome, ClientError> {
        Err(ClientError::Unsupported("todo".into()))
    }
    /// abandon.
    pub fn abandon_pending(&mut self) {}
    /// ka.
    pub fn keepalive_interval(&self) -> Option<Duration> {
        None
    }
    /// ka req.
    pub fn keepalive_request(&self, _other: bool) -> Request {
        Request::Options
    }
    /// described?
    pub fn has_description(&self) -> bool {
        false
    }
    /// resume.
    pub fn set_resume_position(&mut self, _s: f64) {}
}
