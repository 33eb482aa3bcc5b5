//! End-to-end tests across the workspace's crates with real peers over loopback: one test
//! binary, a module per suite (each binary links the whole engine).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cluster;
mod proxy_protocol;
mod transcripts;
