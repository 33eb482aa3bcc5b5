#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The rates a user reads against what actually arrived: the real `rtsp-server` streams the
//! 20 fps sample, the test times every frame it receives, and the client's frame rate and
//! bitrate must match frames (and bytes) over the time they span.

mod client_support;

use std::time::{Duration, Instant};

use client_support::own_server::media_dir;
use client_support::server_process::ServerProcess;
use rtsp_core::client::{Client, ClientConfig, Event, TransportPreference};

/// Frames the test waits for: 5 s of the 20 fps sample.
const FRAMES: usize = 100;

#[test]
fn rates_are_what_arrived_over_the_time_it_spans() {
    let server = ServerProcess::start(&media_dir(), &[]);
    let mut config = ClientConfig::url(server.url("movie.Mjpeg"));
    config.transport = TransportPreference::Udp;
    config.stats_interval = Some(Duration::from_millis(250));
    let client = Client::connect(config).unwrap();
    client.player_play().unwrap();
    let mut arrivals: Vec<Instant> = Vec::new();
    let mut recent = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while arrivals.len() < FRAMES {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "only {} frames arrived", arrivals.len());
        match client.next_event(left) {
            Some(Event::Frame(_)) => arrivals.push(Instant::now()),
            // Readings once the window has filled (2.5 s of frames).
            Some(Event::Stats(s)) if arrivals.len() > 50 => recent.push(s.frame_rate_fps_recent),
            _ => {}
        }
    }
    let stats = client.stats();
    client.player_stop().unwrap();
    let (first, last) = (arrivals[0], arrivals[FRAMES - 1]);
    let span = last.duration_since(first).as_secs_f64();
    let measured = (FRAMES - 1) as f64 / span;
    eprintln!("measured {measured:.3} fps over {span:.3} s; client: recent {recent:?}");
    assert!(
        (measured - 20.0).abs() < 1.0,
        "the server paces at 20 fps: {measured}"
    );
    assert!(recent.len() >= 4, "{recent:?}");
    recent.sort_by(f64::total_cmp);
    let median = recent[recent.len() / 2];
    assert!(
        (median - measured).abs() < 0.01 * measured,
        "median recent frame rate {median} vs measured {measured}: {recent:?}"
    );
    assert!(
        recent
            .iter()
            .all(|r| (r - measured).abs() < 0.05 * measured),
        "every recent reading within 5 % of {measured}: {recent:?}"
    );
    assert!(
        (stats.frame_rate_fps_overall - measured).abs() < 0.01 * measured,
        "overall frame rate {} vs measured {measured}",
        stats.frame_rate_fps_overall
    );
    // Bytes per frame at the measured frame rate (the frames received by now may be one more
    // than the test took).
    let bits_per_second =
        stats.bytes_received as f64 * 8.0 / stats.frames_complete as f64 * measured;
    assert!(
        (stats.bitrate_bps_overall - bits_per_second).abs() < 0.02 * bits_per_second,
        "overall bitrate {} vs {bits_per_second} bit/s measured",
        stats.bitrate_bps_overall
    );
}
