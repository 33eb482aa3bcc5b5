//! The server runtime: sockets, threads and time around the sans-I/O server core.
//!
//! It lives in `rtsp-core` rather than in the `rtsp-server` binary so that every embedding can
//! run a server in-process: the C ABI (`rtsp_core_server_start`), the Python bindings
//! (`rtsp_core.Server`) and tests. The binary only adds the command line, logging set-up and
//! signal handling.
//!
//! See [`run`] for the thread layout, [`worker`] for the connection event loops,
//! [`scheduler`] and [`pacing`] for frame timing, [`sender`] for the RTP output path,
//! [`conn`] for per-connection framing and dialect detection, and [`handler`] for turning
//! requests into replies and session actions.

pub mod acceptor;
pub mod catalog;
pub mod clock;
pub mod conn;
pub mod handler;
pub mod pacing;
pub mod rtcp;
pub mod run;
pub mod scheduler;
pub mod sender;
pub mod session;
pub mod source;
pub mod udp;
pub mod wire;
pub mod worker;

pub use clock::Clock;
pub use run::{Config, Server, DEFAULT_MAX_CONNECTIONS_PER_ADDRESS};
