//! `rtsp-server`: serves MJPEG files and a live test pattern over RTSP/RTP to the networking
//! lab's Python client and to standard players (VLC, FFmpeg, GStreamer, live555) at once.
//!
//! The protocol logic lives in `rtsp-core` (sans-I/O); this crate owns sockets, threads and time.
//! See [`server`] for the thread layout, [`worker`] for the connection event loops,
//! [`scheduler`] and [`pacing`] for frame timing, [`sender`] for the RTP output path,
//! [`conn`] for per-connection framing and dialect detection, and [`handler`] for turning
//! requests into replies and session actions.

pub mod acceptor;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod conn;
pub mod handler;
pub mod logging;
pub mod pacing;
pub mod rtcp;
pub mod scheduler;
pub mod sender;
pub mod server;
pub mod session;
pub mod source;
pub mod udp;
pub mod wire;
pub mod worker;

pub use clock::Clock;
pub use server::{Config, Server};
