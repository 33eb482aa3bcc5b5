//! `rtsp-core`: the protocol engine of the project.
//!
//! Everything in this crate except the client runtime and the C ABI is sans-I/O: parsers,
//! packetizers and state machines take bytes (and, where time matters, a caller-supplied
//! instant) and return values or events. Sockets, threads and clocks live at the edges, which is
//! what makes the core fuzzable and testable from recorded exchanges.
//!
//! Modules:
//! - [`auth`]: RTSP authentication (Basic, Digest MD5 / SHA-256), both sides.
//! - [`rtsp`]: RTSP messages (both the RFC 2326 dialect and the lab dialect), incremental
//!   parser, writer, typed headers.
//! - [`rtp`]: RTP packets (RFC 3550 5.1), RTCP compound packets, receiver statistics.
//! - [`jpeg`]: RFC 2435 packetizer and depacketizer.
//! - [`media`]: MJPEG sources (lab `.Mjpeg`, raw concatenated JPEG, synthetic test pattern).
//! - [`sdp`]: session descriptions.
//! - [`server`]: sans-I/O server session state machine.
//! - [`client`]: client state machine and the threaded client runtime.
//! - [`ffi`]: the C ABI (`include/rtsp_core.h`).

#![deny(missing_docs)]

pub mod auth;
pub mod client;
pub mod ffi;
#[doc(hidden)]
pub mod fuzzing;
pub mod jpeg;
pub mod media;
pub mod rtp;
pub mod rtsp;
pub mod sdp;
pub mod server;
