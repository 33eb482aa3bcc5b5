//! The third-party players the interop tests run (Debian's ffprobe, ffmpeg and GStreamer's
//! gst-launch-1.0), with the exact command lines printed by `run`.

use std::process::Output;
use std::time::Duration;

use super::{run, text};

/// Owned arguments for `run`.
pub fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// `ffprobe -v LEVEL -rtsp_transport TRANSPORT` showing the video stream's codec and size.
pub fn ffprobe_stream(url: &str, transport: &str, level: &str) -> Output {
    run(
        "ffprobe",
        &args(&[
            "-v",
            level,
            "-rtsp_transport",
            transport,
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "default=noprint_wrappers=1",
            url,
        ]),
        Duration::from_secs(60),
    )
}

/// `ffmpeg -nostdin -v error <input> -f framemd5 -`: its output (success checked) and the
/// number of frames it decoded.
pub fn ffmpeg_framemd5(input: &[&str]) -> (Output, usize) {
    let mut list = vec!["-nostdin", "-v", "error"];
    list.extend_from_slice(input);
    list.extend_from_slice(&["-f", "framemd5", "-"]);
    let out = run("ffmpeg", &args(&list), Duration::from_secs(30));
    assert!(out.status.success(), "{}", text(&out));
    let frames = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .count();
    (out, frames)
}

/// `gst-launch-1.0 -v rtspsrc location=URL protocols=P ! rtpjpegdepay ! jpegdec ! fakesink
/// num-buffers=N silent=false`: asserts that it ended at EOS without errors, returns its output.
pub fn gst_decode(url: &str, protocol: &str, buffers: u32) -> String {
    let location = format!("location={url}");
    let protocols = format!("protocols={protocol}");
    let num_buffers = format!("num-buffers={buffers}");
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
            &num_buffers,
            "silent=false",
            "-v",
        ]),
        Duration::from_secs(60),
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    // num-buffers makes the sink post EOS once that many decoded frames reached it.
    assert!(t.contains("Got EOS"), "{t}");
    assert!(!t.contains("ERROR"), "{t}");
    t
}
