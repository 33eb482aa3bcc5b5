//! The server runtime: sockets, threads and time around the sans-I/O server core.
//!
//! It lives in `rtsp-core` rather than in the `rtsp-server` binary so that every embedding can
//! run a server in-process: the C ABI (`rtsp_core_server_start`), the Python bindings
//! (`rtsp_core.Server`) and tests. The binary only adds the command line, logging set-up,
//! signal handling and the process's open-file limit.
//!
//! The public surface is [`Server`] and its [`Config`]. Inside, dependencies point one way:
//!
//! ```text
//! run (Server: starts and stops the threads)
//!  ├─> acceptor ─> proxied ────┐   (PROXY protocol headers, in the acceptor's own poll)
//!  ├─> worker ─> conn, handler, rtcp
//!  ├─> scheduler ──────────────┤   (each thread module uses only `shared` and the data
//!  ├─> sender ─────────────────┤    modules below, never another thread module)
//!  └─> http ───────────────────┤   (`--metrics`: /metrics and /healthz)
//!                              v
//!                    shared (Config, Ctx, live sessions, messages between threads)
//!                              v
//!     catalog (and its loader threads), source, udp, wire, clock, metrics (data and helpers)
//! ```
//!
//! Pure logic is on the sans-I/O side: pacing arithmetic in [`crate::server::pacing`], request
//! rules and replies in [`crate::server`].

mod acceptor;
mod catalog;
mod clock;
mod conn;
mod handler;
mod http;
mod metrics;
mod proxied;
mod rtcp;
mod run;
mod scheduler;
mod sender;
mod shared;
mod source;
mod udp;
mod wire;
mod worker;

pub use run::Server;
pub use shared::{Config, DEFAULT_MAX_CONNECTIONS_PER_ADDRESS};
