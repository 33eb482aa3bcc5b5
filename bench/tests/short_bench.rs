#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The short form of the benchmark, as a regression guard: 100 UDP sessions for 10 s against
//! an in-process `rtsp-server` runtime must get at least 99.9 % of frames on time.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use rtsp_bench::fanout::PublishTo;
use rtsp_bench::{run, BenchConfig, FanoutConfig, Transport};
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

/// The fan-out mode against a published path: every reader gets the publisher's frames, each
/// one recognised by its tag (frames on time counts tagged frames only, so a tag lost in the
/// server would fail it), and every frame's publish-to-reader latency is measured.
fn fanout_run(transport: Transport) {
    let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut config = Config::new(bind, media_dir());
    config.publish = true;
    // Apart from the other tests' RTP ports, and UDP from TCP.
    config.rtp_port_base = match transport {
        Transport::Udp => 31_100,
        Transport::Tcp => 31_200,
    };
    let server = Server::start(config).expect("server starts");
    let url = format!("rtsp://{}/live/bench", server.local_addr());
    let frames =
        rtsp_bench::fanout::read_lab_mjpeg(media_dir().join("movie.Mjpeg").to_str().unwrap())
            .unwrap();
    let mut cfg = BenchConfig::new(url);
    cfg.sessions = 10;
    cfg.transport = transport;
    cfg.duration = Duration::from_secs(5);
    cfg.ramp_per_sec = 100.0;
    cfg.fanout = Some(FanoutConfig {
        frames: std::sync::Arc::new(frames),
        publish_to: PublishTo::Rtsp(cfg.url.clone()),
        lead: Duration::from_secs(1),
    });
    let report = run(&cfg).expect("bench runs");
    server.shutdown();
    eprintln!("{report}");
    assert_eq!(report.playing, 10, "{report}");
    assert!(report.expected_frames > 0, "{report}");
    assert!(
        report.delivery_ratio() >= 0.999,
        "tagged frames on time below 99.9%: {report}"
    );
    assert!(report.published_frames.unwrap_or(0) >= 80, "{report}");
    let [p50, p99, _, max] = report.publish_latency_ms.expect("latency measured");
    assert!(p50 > 0.0 && p50 <= p99 && p99 <= max, "{report}");
}

#[test]
fn fanout_of_a_published_path_udp() {
    fanout_run(Transport::Udp);
}

#[test]
fn fanout_of_a_published_path_tcp() {
    fanout_run(Transport::Tcp);
}
