#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The short form of the benchmark, as a regression guard: 100 UDP sessions for 10 s against
//! an in-process `rtsp-server` runtime must get at least 99.9 % of frames on time.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use rtsp_bench::{run, BenchConfig, Transport};
use rtsp_core::server::runtime::{Config, Server};

fn media_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("media")
}

fn start_server() -> Server {
    let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut config = Config::new(bind, media_dir());
    config.looping = true;
    config.max_sessions = 1024;
    // Keep clear of other tests' default RTP port range.
    config.rtp_port_base = 31_000;
    Server::start(config).expect("server starts")
}

fn short_run(transport: Transport, sessions: usize, secs: u64) {
    let server = start_server();
    let url = format!("rtsp://{}/movie.Mjpeg", server.local_addr());
    let mut cfg = BenchConfig::new(url);
    cfg.sessions = sessions;
    cfg.transport = transport;
    cfg.duration = Duration::from_secs(secs);
    cfg.ramp_per_sec = 100.0;
    let report = run(&cfg).expect("bench runs");
    server.shutdown();
    eprintln!("{report}");
    assert_eq!(
        report.playing, sessions,
        "every session must be playing: {report}"
    );
    assert!(
        report.delivery_ratio() >= 0.999,
        "delivery below 99.9%: {report}"
    );
    assert_eq!(report.broken_frames, 0, "{report}");
    // Nominal 20 fps: the median session must be within 1 % of it.
    assert!((report.fps.p50 - 20.0).abs() < 0.2, "{report}");
}

#[test]
fn hundred_udp_sessions_for_ten_seconds_hold() {
    short_run(Transport::Udp, 100, 10);
}

#[test]
fn tcp_interleaved_sessions_hold() {
    short_run(Transport::Tcp, 20, 5);
}
