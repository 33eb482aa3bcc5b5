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
//! run (Server: starts and stops the threads; the reaper)
//!  ├─> acceptor ─> proxied ──────────────────┐  (PROXY protocol headers, in the acceptor's poll)
//!  ├─> relay (one thread per relayed path) ──┤
//!  ├─> worker ─> conn, handler, rtcp,        │  (a thread module uses only `shared` and
//!  │             playout, send, timer        │   the modules below, never another
//!  ├─> http ─────────────────────────────────┤   thread module; http: /metrics, /healthz;
//!  └─> web ──────────────────────────────────┤   web: --http's streams and page)
//!                                            v
//!                    shared (Config, Ctx, live sessions, messages to workers)
//!                                            v
//!     catalog (and its loader threads), published, relayed, source, udp, wire, clock,
//!     resources, metrics
//! ```
//!
//! A frame crosses no thread: the worker whose connection set a session up (its home) paces
//! it ([`playout`]; the loop sleeps until the next deadline, woken by a [`timer`]) and sends
//! it ([`send`]): UDP from the worker's one RTP/RTCP port pair, many sessions per `sendmmsg`;
//! TCP interleaved as vectored writes of the shared payloads behind per-session headers.
//!
//! Pure logic is on the sans-I/O side: pacing arithmetic and phases in
//! [`crate::server::pacing`], request rules and replies in [`crate::server`].

mod acceptor;
mod catalog;
mod clock;
mod conn;
mod handler;
mod http;
mod metrics;
mod playout;
mod proxied;
mod published;
mod relay;
mod relayed;
mod resources;
mod rtcp;
mod run;
mod send;
mod shared;
mod source;
mod timer;
mod udp;
mod web;
mod wire;
mod worker;

pub use relayed::{Origin, DEFAULT_ORIGIN_MAX_PATHS};
pub use run::Server;
pub use shared::{Config, TlsListener, DEFAULT_MAX_CONNECTIONS_PER_ADDRESS};
