#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Pacing accuracy. A test binary of its own, so that no other test of this crate loads the
//! machine while it measures.

mod common;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use common::{recv_for, rtp, udp_pair, udp_transport, Rtsp, Server};

fn setup_play(server: &Server) -> (Rtsp, UdpSocket) {
    let mut c = Rtsp::connect(server.addr);
    let (rtp_sock, _rtcp) = udp_pair();
    let r = c.request(
        "SETUP",
        &server.url("movie.Mjpeg/track1"),
        &[("Transport", &udp_transport(&rtp_sock))],
    );
    let session = r.session();
    let r = c.request(
        "PLAY",
        &server.url("movie.Mjpeg/"),
        &[("Session", &session)],
    );
    assert_eq!(r.status, 200);
    (c, rtp_sock)
}

/// Receive frames (marker packets) for `dur`; returns their arrival times and timestamps.
fn frame_times(sock: &UdpSocket, dur: Duration) -> Vec<(Instant, u32)> {
    recv_for(sock, dur, usize::MAX)
        .into_iter()
        .filter_map(|(t, p)| {
            let h = rtp(&p);
            h.marker.then_some((t, h.ts))
        })
        .collect()
}

/// Mean rate and the p99 absolute deviation of inter-frame gaps from the nominal interval.
fn rate_stats(frames: &[(Instant, u32)], fps: f64) -> (f64, Duration) {
    let first = frames.first().unwrap().0;
    let last = frames.last().unwrap().0;
    let rate = (frames.len() - 1) as f64 / (last - first).as_secs_f64();
    let nominal = 1.0 / fps;
    let mut dev: Vec<f64> = frames
        .windows(2)
        .map(|w| ((w[1].0 - w[0].0).as_secs_f64() - nominal).abs())
        .collect();
    dev.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p99 = dev[((dev.len() as f64 * 0.99) as usize).min(dev.len() - 1)];
    (rate, Duration::from_secs_f64(p99))
}

#[test]
fn pacing_holds_the_configured_rate_within_one_percent() {
    let fps = 25.0;
    let server = Server::start(&["--fps", "25", "--loop"]);
    let (_c, rtp_sock) = setup_play(&server);
    let frames = frame_times(&rtp_sock, Duration::from_secs(10));
    let (rate, p99) = rate_stats(&frames, fps);
    eprintln!(
        "pacing over 10 s: {} frames, mean {rate:.4} fps, p99 |gap - 40 ms| = {p99:?}",
        frames.len()
    );
    assert!((rate - fps).abs() / fps < 0.01, "mean rate {rate} fps");
    // RTP timestamps advance one frame (90000 / 25) per frame; a scheduler stall on a loaded
    // machine may skip slots, which shows as a whole multiple.
    let deltas: Vec<u32> = frames
        .windows(2)
        .map(|w| w[1].1.wrapping_sub(w[0].1))
        .collect();
    assert!(deltas.iter().all(|d| *d > 0 && d % 3600 == 0), "{deltas:?}");
    let exact = deltas.iter().filter(|d| **d == 3600).count();
    assert!(exact * 100 >= deltas.len() * 98, "{deltas:?}");
}

/// The measurement reported in the pull request: 30 s at 20 fps. Run with `--ignored`.
#[test]
#[ignore = "30 s measurement; run explicitly"]
fn pacing_measurement_30s() {
    let server = Server::start(&["--loop"]);
    let (_c, rtp_sock) = setup_play(&server);
    let frames = frame_times(&rtp_sock, Duration::from_secs(30));
    let (rate, p99) = rate_stats(&frames, 20.0);
    let slots = frames.last().unwrap().1.wrapping_sub(frames[0].1) / 4500 + 1;
    println!(
        "pacing over 30 s: {} frames ({slots} slots by RTP time), mean {rate:.4} fps, p99 |gap - 50 ms| = {p99:?}",
        frames.len()
    );
}
