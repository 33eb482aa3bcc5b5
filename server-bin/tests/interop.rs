#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Third-party clients against the real server with the sample video: Debian's ffprobe, ffmpeg
//! (UDP and TCP) and GStreamer's rtspsrc (UDP and TCP). Each test skips with a loud message
//! when its tool is missing (CI installs them, so they run there).
//!
//! The exact commands are printed, so a failure can be reproduced by hand.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{have, Server};

/// Run a command with a time limit, returning its output (stdout + stderr).
fn run(program: &str, args: &[String], limit: Duration) -> Output {
    eprintln!("$ {program} {}", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{program} timed out\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn ffprobe_reports_mjpeg_and_the_frame_size() {
    if !have("ffprobe") {
        return;
    }
    let server = Server::start(&[]);
    let url = server.url("movie.Mjpeg");
    let out = run(
        "ffprobe",
        &args(&[
            "-v",
            "error",
            "-rtsp_transport",
            "udp",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "default=noprint_wrappers=1",
            &url,
        ]),
        Duration::from_secs(30),
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("codec_name=mjpeg"), "{t}");
    assert!(t.contains("width=640"), "{t}");
    assert!(t.contains("height=480"), "{t}");
}

fn ffmpeg_decodes(transport: &str) {
    if !have("ffmpeg") {
        return;
    }
    let server = Server::start(&[]);
    let url = server.url("movie.Mjpeg");
    let out = run(
        "ffmpeg",
        &args(&[
            "-nostdin",
            "-v",
            "error",
            "-rtsp_transport",
            transport,
            "-i",
            &url,
            "-frames:v",
            "60",
            "-f",
            "framemd5",
            "-",
        ]),
        Duration::from_secs(30),
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let frames = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .count();
    assert_eq!(frames, 60, "{t}");
    // `-v error` prints decoding errors; there must be none.
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ffmpeg_over_udp_decodes_60_frames() {
    ffmpeg_decodes("udp");
}

#[test]
fn ffmpeg_over_tcp_decodes_60_frames() {
    ffmpeg_decodes("tcp");
}

fn gstreamer_decodes(protocol: &str, path: &str) {
    if !have("gst-launch-1.0") {
        return;
    }
    let server = Server::start(&[]);
    let url = server.url(path);
    let location = format!("location={url}");
    let protocols = format!("protocols={protocol}");
    let out = run(
        "gst-launch-1.0",
        &args(&[
            "rtspsrc",
            &location,
            &protocols,
            "latency=100",
            "!",
            "rtpjpegdepay",
            "!",
            "jpegdec",
            "!",
            "fakesink",
            "num-buffers=40",
            "silent=false",
            "-v",
        ]),
        Duration::from_secs(30),
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    // fakesink -v prints one "chain" line per decoded frame.
    let decoded = t.lines().filter(|l| l.contains("chain")).count();
    assert!(decoded >= 40, "{decoded} frames decoded\n{t}");
    // num-buffers=40 makes the sink post EOS once 40 decoded frames reached it.
    assert!(t.contains("Got EOS"), "{t}");
    assert!(!t.contains("ERROR"), "{t}");
}

#[test]
fn gstreamer_over_udp_decodes() {
    gstreamer_decodes("udp", "movie.Mjpeg");
}

#[test]
fn gstreamer_over_tcp_decodes() {
    gstreamer_decodes("tcp", "movie.Mjpeg");
}

#[test]
fn gstreamer_plays_the_live_test_source() {
    gstreamer_decodes("tcp", "testsrc");
}
