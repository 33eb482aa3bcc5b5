//! Test peers for the client tests: a lab-style server that behaves like the lab's original Python
//! `Server.py`/`ServerWorker.py`, a lossy UDP relay, GStreamer's RTSP server, and JPEG frames.
#![allow(dead_code)]

pub mod gst;
pub mod gst_record;
pub mod lab_server;
pub mod own_server;
pub mod recorder;
pub mod relay;
pub mod server_process;
pub mod uhd;

use std::time::{Duration, Instant};

/// A baseline 4:2:0 JPEG of `w`x`h` with a pattern that depends on `seed`.
pub fn jpeg(w: u16, h: u16, seed: u32) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
    for y in 0..u32::from(h) {
        for x in 0..u32::from(w) {
            rgb.push(((x + seed * 7) % 256) as u8);
            rgb.push(((y + seed * 3) % 256) as u8);
            rgb.push(((x ^ y ^ seed) % 256) as u8);
        }
    }
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 80);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    enc.encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .expect("encode test JPEG");
    out
}

/// Whether CI is running these tests (`CI` set, as CI services and `scripts/test.sh` do).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Whether `tool` is installed: it runs and succeeds with `version_flag`.
pub fn installed(tool: &str, version_flag: &str) -> bool {
    std::process::Command::new(tool)
        .arg(version_flag)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether a test must stop because `peer` (a third-party program it talks to) is missing. In CI a
/// missing peer fails the test, so that an incomplete install cannot pass as green; elsewhere the
/// test is skipped with a message that cannot be missed.
pub fn peer_missing(present: bool, peer: &str) -> bool {
    if present {
        return false;
    }
    assert!(
        !in_ci(),
        "{peer} is not installed, and CI=true: the test cannot run without it"
    );
    eprintln!(
        "\n!!!!!!!! SKIPPED: {peer} is not installed; install it to run this test !!!!!!!!\n"
    );
    true
}

/// Polls `cond` until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// Collects `n` frames (skipping other events), failing after `timeout`.
pub fn take_frames(
    client: &rtsp_core::client::Client,
    n: usize,
    timeout: Duration,
) -> Vec<rtsp_core::client::Frame> {
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    while out.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "only {} of {n} frames arrived", out.len());
        if let Some(rtsp_core::client::Event::Frame(f)) = client.next_event(left) {
            out.push(f);
        }
    }
    out
}
