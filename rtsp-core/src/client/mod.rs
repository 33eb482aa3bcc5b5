//! The RTSP client: a sans-I/O session state machine plus a threaded runtime.
//!
//! - [`ClientSession`] turns method calls into request bytes and replies into [`Outcome`]s; it never
//!   touches a socket (retina style), so it is testable from recorded exchanges.
//! - [`MediaReceiver`] turns RTP/RTCP packets into complete JPEG [`Frame`]s and [`Stats`].
//! - [`Client`] is the runtime: a control thread speaking RTSP, a receive thread reading the
//!   connection and the RTP/RTCP sockets, and a mailbox where newer frames push out the oldest of the few the
//!   embedder has not taken yet.
//!
//! - [`Publisher`] goes the other way: it pushes JPEG frames to a server that records
//!   (ANNOUNCE, SETUP `mode=record`, RECORD), over the same session code and authentication.
//! - With [`ClientConfig::protocol_log`], every RTSP message sent and received is reported as
//!   [`Event::Message`] (a [`ProtocolMessage`], credentials redacted), in order with the other
//!   events.
//!
//! Both dialects are spoken: the standard one (RFC 2326/3550/2435, as VLC and FFmpeg speak it)
//! for `rtsp://` URLs, and the lab's (bare file names, `\n` line ends, whole-JPEG RTP payloads)
//! for the four values of the lab's `ClientLauncher.py`.
//!
//! ```no_run
//! # #[cfg(feature = "runtime")]
//! # fn main() -> Result<(), rtsp_core::client::ClientError> {
//! use rtsp_core::client::{Client, ClientConfig, Event};
//! use std::time::Duration;
//!
//! let client = Client::connect(ClientConfig::url("rtsp://127.0.0.1:8554/movie.Mjpeg"))?;
//! client.player_play()?; // SETUP is implicit
//! while let Some(event) = client.next_event(Duration::from_secs(5)) {
//!     match event {
//!         Event::Frame(frame) => println!("frame {} ({} bytes)", frame.number, frame.jpeg.len()),
//!         Event::EndOfStream => break,
//!         _ => {}
//!     }
//! }
//! println!("{:?}", client.stats());
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "runtime"))]
//! # fn main() {}
//! ```

mod config;
// The crate-private helpers in `error`, `protocol_log` and `session` (socket error mapping,
// redaction, the reply reader) serve the runtime only; without it they are unused, not wrong.
#[cfg_attr(not(feature = "runtime"), allow(dead_code))]
mod error;
mod event;
#[cfg(feature = "runtime")]
mod mailbox;
mod media;
#[cfg(feature = "runtime")]
mod net;
#[cfg_attr(not(feature = "runtime"), allow(dead_code))]
mod protocol_log;
#[cfg(feature = "runtime")]
mod publisher;
mod rate;
#[cfg(feature = "runtime")]
mod runtime;
#[cfg_attr(not(feature = "runtime"), allow(dead_code))]
mod session;
mod stats;
#[cfg(feature = "runtime")]
mod stream;

pub use config::{
    CertificateCheck, ClientConfig, ClientCredentials, LabTarget, Target, TransportPreference,
};
pub use error::ClientError;
pub use event::{Description, Event, Frame, State};
pub use media::MediaReceiver;
pub use protocol_log::{MessageDirection, ProtocolMessage, REDACTED};
#[cfg(feature = "runtime")]
pub use publisher::{PublishError, Publisher, PublisherConfig};
#[cfg(feature = "runtime")]
pub use runtime::{ActiveTransport, Client, Position, Seek};
pub use session::{
    MediaInfo, Outcome, PlayInfo, Request, ServerTransport, Session as ClientSession,
    SetupTransport, LAB_SKIP_FRAMES, MAX_REDIRECTS,
};
pub use stats::{
    PacketCounters, PublisherCounters, PublisherStats, Stats, StatsCollector, StatsKind,
    StatsValue, RATE_WINDOW,
};
