//! `rtsp-server`'s command line and logging set-up. The server itself (sockets, worker pools,
//! pacing) is `rtsp_core::server::runtime`, so that C, Python and tests can run it in-process.

pub mod cli;
pub mod config;
pub mod logging;
