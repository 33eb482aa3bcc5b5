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
    ffprobe_stream_within(url, transport, level, Duration::from_secs(60))
}

/// [`ffprobe_stream`] with its own time limit.
pub fn ffprobe_stream_within(url: &str, transport: &str, level: &str, limit: Duration) -> Output {
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
        limit,
    )
}

/// ffprobe over TCP succeeds on `url` and reports every one of `want` (`codec_name=mjpeg`,
/// `width=640`...) for the video stream; returns what it printed.
pub fn ffprobe_sees(url: &str, want: &[&str], limit: Duration) -> String {
    let probe = ffprobe_stream_within(url, "tcp", "error", limit);
    let out = text(&probe);
    assert!(probe.status.success(), "{out}");
    for w in want {
        assert!(out.contains(w), "{w} in {out}");
    }
    out
}

/// `ffmpeg -nostdin -v error <input> -f framemd5 -` killed after `limit`: its output (success
/// checked) and the number of frames it decoded.
pub fn ffmpeg_framemd5(input: &[&str], limit: Duration) -> (Output, usize) {
    let mut list = vec!["-nostdin", "-v", "error"];
    list.extend_from_slice(input);
    list.extend_from_slice(&["-f", "framemd5", "-"]);
    let out = run("ffmpeg", &args(&list), limit);
    assert!(out.status.success(), "{}", text(&out));
    let frames = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .count();
    (out, frames)
}

/// `gst-launch-1.0 -v rtspsrc location=URL protocols=P <properties> ! rtpjpegdepay ! jpegdec !
/// fakesink num-buffers=N silent=false`: asserts that it ended at EOS without errors, returns
/// its output.
pub fn gst_decode(url: &str, protocol: &str, properties: &[&str], buffers: u32) -> String {
    let location = format!("location={url}");
    let protocols = format!("protocols={protocol}");
    let num_buffers = format!("num-buffers={buffers}");
    let mut list = vec!["rtspsrc", &location, &protocols, "latency=100"];
    list.extend_from_slice(properties);
    list.extend_from_slice(&[
        "!",
        "rtpjpegdepay",
        "!",
        "jpegdec",
        "!",
        "fakesink",
        &num_buffers,
        "silent=false",
        "-v",
    ]);
    let out = run("gst-launch-1.0", &args(&list), Duration::from_secs(60));
    let t = text(&out);
    // num-buffers makes the sink post EOS once that many decoded frames reached it.
    let Some((played, shutdown)) = t.split_once("Got EOS") else {
        panic!("no EOS:\n{t}");
    };
    assert!(!played.contains("ERROR"), "{t}");
    // Shutting down after EOS, rtspsrc over TCP sometimes closes its connection from one
    // thread while another still sends PAUSE or TEARDOWN on it ("Could not send message.
    // (Received end-of-file)", the server's log showing the client closing), and
    // gst-launch then exits 1. That race is the client's own and comes after the playback
    // checked here; any other failure still fails.
    let errors: Vec<&str> = shutdown.split("ERROR: ").skip(1).collect();
    let teardown_race = !errors.is_empty()
        && errors
            .iter()
            .all(|e| e.contains("Could not send message. (Received end-of-file)"));
    assert!(out.status.success() || teardown_race, "{t}");
    t
}
