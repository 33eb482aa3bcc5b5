//! `rtsp-core`: the protocol engine of the project.
//!
//! The protocol core is sans-I/O: parsers, packetizers and state machines take bytes (and, where
//! time matters, a caller-supplied instant) and return values or events. Sockets, threads and
//! clocks live at the edges, which is what makes the core fuzzable and testable from recorded
//! exchanges. The edges are the server runtime ([`server::runtime`]), the client runtime
//! ([`client::Client`]), the C ABI ([`ffi`]) and the process-limit helper ([`limits`]); they and
//! their I/O dependencies (mio, socket2, libc, crossbeam-channel, parking_lot) are the `runtime`
//! cargo feature, on by default. `default-features = false` builds the protocol core alone.
//!
//! Modules:
//! - [`auth`]: RTSP authentication (Basic, Digest MD5 / SHA-256), both sides.
//! - [`rtsp`]: RTSP messages (both the RFC 2326 dialect and the lab dialect), incremental
//!   parser, writer, typed headers.
//! - [`rtp`]: RTP packets (RFC 3550 5.1), RTCP compound packets, receiver statistics.
//! - [`jpeg`]: RFC 2435 packetizer and depacketizer.
//! - [`media`]: MJPEG sources (lab `.Mjpeg`, raw concatenated JPEG, synthetic test pattern).
//! - [`sdp`]: session descriptions.
//! - [`server`]: sans-I/O server session state machine, and in [`server::runtime`] the threaded
//!   server (an acceptor and connection workers that pace and send media) that the `rtsp-server`
//!   binary, the C ABI and the Python bindings all run.
//! - [`client`]: client state machine and the threaded client runtime.
//! - [`ffi`]: the C ABI (`include/rtsp_core.h`).
//! - [`limits`]: raising the open-file limit, for binaries to call (the library never does).

#![deny(missing_docs)]

pub mod auth;
pub mod client;
#[cfg(feature = "runtime")]
pub mod ffi;
#[doc(hidden)]
pub mod fuzzing;
pub mod jpeg;
#[cfg(feature = "runtime")]
pub mod limits;
pub mod media;
pub mod proxy_protocol;
pub mod rtp;
pub mod rtsp;
pub mod sdp;
pub mod server;
#[cfg(feature = "runtime")]
pub mod tls;
