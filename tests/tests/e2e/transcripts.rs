//! Recorded RTSP transcripts (`tests/data/transcripts/*.rtsp`) replayed against the server in
//! this process over loopback: no peer needed, and a change of a reply shows as a diff. The
//! recorder is the ignored test `record_transcripts` (see `tests/README.md`).

use std::path::PathBuf;
use std::time::Duration;

use rtsp_tests::peers::{args, ffmpeg_framemd5};
use rtsp_tests::transcript::{parse, render, replay, server, Tap};
use rtsp_tests::{have, run, text, workspace_root};

fn dir() -> PathBuf {
    workspace_root().join("tests/data/transcripts")
}

/// A recorded client: its transcript's name and how to run it against a URL.
type Client = (&'static str, Box<dyn Fn(&str)>);

/// The clients recorded, each run against `url` over RTSP-interleaved TCP.
fn clients() -> Vec<Client> {
    vec![
        (
            "ffmpeg_tcp",
            Box::new(|url: &str| {
                let (out, frames) = ffmpeg_framemd5(
                    &["-rtsp_transport", "tcp", "-i", url, "-frames:v", "5"],
                    Duration::from_secs(60),
                );
                assert_eq!(frames, 5, "{}", text(&out));
            }),
        ),
        (
            "gstreamer_tcp",
            Box::new(|url: &str| {
                let location = format!("location={url}");
                let out = run(
                    "gst-launch-1.0",
                    &args(&[
                        "rtspsrc",
                        &location,
                        "protocols=tcp",
                        "!",
                        "rtpjpegdepay",
                        "!",
                        "fakesink",
                        "num-buffers=5",
                    ]),
                    Duration::from_secs(60),
                );
                assert!(out.status.success(), "{}", text(&out));
            }),
        ),
    ]
}

/// Re-records every transcript: `cargo test -p rtsp-tests --test e2e -- --ignored
/// record_transcripts` (needs ffmpeg and GStreamer).
#[test]
#[ignore = "re-records tests/data/transcripts with the real clients"]
fn record_transcripts() {
    assert!(have("ffmpeg") && have("gst-launch-1.0"));
    std::fs::create_dir_all(dir()).unwrap();
    for (name, client) in clients() {
        let server = server();
        let tap = Tap::start(server.local_addr());
        client(&format!("rtsp://127.0.0.1:{}/movie.Mjpeg", tap.port));
        // The client has exited: its connection is closed and every reply was relayed.
        let exchanges = tap.exchanges();
        assert!(exchanges.len() >= 4, "{name}: {exchanges:?}");
        std::fs::write(dir().join(format!("{name}.rtsp")), render(&exchanges)).unwrap();
        server.shutdown();
    }
}

fn replays(name: &str) {
    let path = dir().join(format!("{name}.rtsp"));
    let recorded = std::fs::read_to_string(&path).expect("a recorded transcript");
    let exchanges = parse(&recorded);
    assert!(exchanges.len() >= 4, "{}: too short", path.display());
    let live = replay(&exchanges);
    for (i, (was, now)) in exchanges.iter().zip(&live).enumerate() {
        assert_eq!(
            now.reply,
            was.reply,
            "{} exchange {}, the reply to:\n{}",
            path.display(),
            i + 1,
            was.request
        );
    }
    assert_eq!(render(&live), recorded, "{}", path.display());
}

#[test]
fn ffmpeg_tcp_transcript_replays() {
    replays("ffmpeg_tcp");
}

#[test]
fn gstreamer_tcp_transcript_replays() {
    replays("gstreamer_tcp");
}
