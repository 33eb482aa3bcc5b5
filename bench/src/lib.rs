//! `rtsp-bench`: opens many standard RTSP sessions against one URL and measures what arrives.
//!
//! Each session does OPTIONS, DESCRIBE, SETUP (UDP or TCP interleaved) and PLAY, keeps itself
//! alive, and counts RTP packets, frames, loss, broken frames, inter-frame intervals, lateness
//! against the 90 kHz schedule and PLAY-to-first-packet latency. Sessions are multiplexed on a
//! few `mio` (epoll) threads, so the generator itself stays cheap; its own CPU use is reported so
//! that a saturated generator is visible.

pub mod fanout;
pub mod gro;
pub mod histogram;
pub mod report;
pub mod runner;
pub mod session;
pub mod stream_stats;
pub mod sysstat;
pub mod wire;

pub use report::Report;
pub use runner::{run, BenchConfig, BenchError, FanoutConfig};
pub use session::Transport;
