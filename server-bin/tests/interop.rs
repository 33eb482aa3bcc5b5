#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Third-party clients against the real server with the sample video: Debian's ffprobe, ffmpeg
//! (UDP and TCP) and GStreamer's rtspsrc (UDP and TCP). Each test skips with a loud message
//! when its tool is missing (CI installs them, so they run there).
//!
//! The exact commands are printed, so a failure can be reproduced by hand.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::peers::{args, ffmpeg_framemd5, ffprobe_stream, gst_decode};
use common::{have, run, text, uhd_media, Server};

#[test]
fn ffprobe_reports_mjpeg_and_the_frame_size() {
    if !have("ffprobe") {
        return;
    }
    let server = Server::start(&[]);
    let out = ffprobe_stream(&server.url("movie.Mjpeg"), "udp", "error");
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
    let (out, frames) = ffmpeg_framemd5(
        &["-rtsp_transport", transport, "-i", &url, "-frames:v", "60"],
        Duration::from_secs(30),
    );
    assert_eq!(frames, 60, "{}", text(&out));
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
    let t = gst_decode(&server.url(path), protocol, &[], 40);
    // fakesink -v prints one "chain" line per decoded frame.
    let decoded = t.lines().filter(|l| l.contains("chain")).count();
    assert!(decoded >= 40, "{decoded} frames decoded\n{t}");
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

/// GStreamer's rtspsrc turns a seek with a stop position into `PLAY` with `Range: npt=1-4`
/// (ffmpeg never sends an end: its `-t` stops on the client side). The server sends frames
/// [1 s, 4 s) and an RTCP BYE, on which rtspsrc ends the stream (EOS).
const GST_SEEK: &str = r#"
import sys, gi
gi.require_version('Gst', '1.0')
from gi.repository import Gst, GLib
Gst.init(None)
p = Gst.parse_launch('rtspsrc location=%s protocols=tcp latency=100 ! rtpjpegdepay ! jpegdec '
                     '! fakesink name=sink signal-handoffs=true' % sys.argv[1])
state = {'frames': 0, 'after_seek': 0, 'seeked': False}
def seek():
    ok = p.seek(1.0, Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.ACCURATE,
                Gst.SeekType.SET, 1 * Gst.SECOND, Gst.SeekType.SET, 4 * Gst.SECOND)
    print('seek', ok, flush=True)
    state['seeked'] = True
    return False
def handoff(sink, buf, pad):
    state['frames'] += 1
    if state['seeked']:
        state['after_seek'] += 1
    if state['frames'] == 10:
        GLib.idle_add(seek)
p.get_by_name('sink').connect('handoff', handoff)
loop = GLib.MainLoop()
bus = p.get_bus()
bus.add_signal_watch()
def on_message(bus, msg):
    if msg.type == Gst.MessageType.EOS:
        print('EOS after_seek=%d' % state['after_seek'], flush=True)
        loop.quit()
    elif msg.type == Gst.MessageType.ERROR:
        print('ERROR', msg.parse_error(), flush=True)
        loop.quit()
bus.connect('message', on_message)
p.set_state(Gst.State.PLAYING)
GLib.timeout_add_seconds(12, lambda: (print('TIMEOUT after_seek=%d' % state['after_seek'], flush=True), loop.quit()))
loop.run()
p.set_state(Gst.State.NULL)
"#;

/// The system Python that has the `gi` bindings (a pyenv shim on PATH may not).
fn python_with_gi() -> Option<&'static str> {
    ["/usr/bin/python3", "python3"].into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import gi; gi.require_version('Gst', '1.0')"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

#[test]
fn gstreamer_seek_with_a_stop_gets_only_that_range() {
    let python = python_with_gi();
    if !common::missing_is_a_skip(python.is_some(), "python3-gi (GStreamer bindings)") {
        return;
    }
    let server = Server::start(&[]);
    let url = server.url("movie.Mjpeg");
    let out = run(
        python.unwrap_or("python3"),
        &args(&["-c", GST_SEEK, &url]),
        Duration::from_secs(30),
    );
    let t = text(&out);
    let after: usize = t
        .lines()
        .find_map(|l| l.strip_prefix("EOS after_seek="))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no EOS after the range:\n{t}"));
    // Three seconds at 20 fps; frames already in flight when the seek flushed are not counted.
    assert!(
        (55..=61).contains(&after),
        "{after} frames after the seek\n{t}"
    );
}

/// ffmpeg's PLAY carries an open range (`npt=23.000-`): it gets everything to the end of the
/// file, and stops by itself at the RTCP BYE that follows the last frame.
#[test]
fn ffmpeg_open_range_plays_to_the_end_and_stops_at_bye() {
    if !have("ffmpeg") {
        return;
    }
    let server = Server::start(&[]);
    let url = server.url("movie.Mjpeg");
    let started = Instant::now();
    let (out, frames) = ffmpeg_framemd5(
        &["-rtsp_transport", "tcp", "-ss", "23", "-i", &url],
        Duration::from_secs(30),
    );
    let t = text(&out);
    // 23.000 to 25.000 is 40 frames; ffmpeg's own seek may drop a few before its start.
    assert!((35..=41).contains(&frames), "{frames} frames\n{t}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "ended at the BYE"
    );
}

/// GStreamer's depayloader takes the size from `a=x-dimensions` (rtspsrc passes it in the caps)
/// and jpegdec decodes full 4K frames.
#[test]
fn gstreamer_decodes_3840x2160() {
    if !have("gst-launch-1.0") {
        return;
    }
    let dir = uhd_media("gst");
    let server = Server::start_in(&dir, &[]);
    // TCP: hundreds of packets per frame are more than a loaded machine's UDP buffers may hold.
    let t = gst_decode(&server.url("uhd.mjpeg"), "tcp", &[], 3);
    let decoded = t
        .lines()
        .find(|l| l.contains("GstJpegDec") && l.contains("src: caps = video/x-raw"))
        .unwrap_or_else(|| panic!("no decoded caps\n{t}"));
    assert!(
        decoded.contains("width=(int)3840") && decoded.contains("height=(int)2160"),
        "{decoded}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// FFmpeg (Debian 12's 5.1) reads neither `a=x-dimensions` nor the ONVIF extension: it sees the
/// RFC 2435 size 0x0 and cannot decode (documented in server-bin/README.md). Should a newer
/// FFmpeg learn either, this fails and the documentation must be updated.
#[test]
fn ffmpeg_sees_frames_above_2040_pixels_as_0x0() {
    if !have("ffprobe") {
        return;
    }
    let dir = uhd_media("ffprobe");
    let server = Server::start_in(&dir, &[]);
    let out = ffprobe_stream(&server.url("uhd.mjpeg"), "tcp", "warning");
    let t = text(&out);
    assert!(t.contains("codec_name=mjpeg"), "{t}");
    assert!(t.contains("width=0") && t.contains("height=0"), "{t}");
    assert!(t.contains("Picture size 0x0 is invalid"), "{t}");
    let _ = std::fs::remove_dir_all(dir);
}
