//! A published (live) path in the player: ffmpeg publishes to `rtsp-server --publish` and
//! `rtsp-player --no-gui` plays it as live (no length), with its frame rate and the latency
//! row (a figure when the server's RTCP sender reports give one, see the player's
//! `latency` module); the window (under Xvfb) shows it as live, without a seek bar.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{run_player, texts, Server, TempDir, Xvfb};
use rtsp_core::client::{Client, ClientConfig};

const PATH: &str = "live/cam";

fn ffmpeg_missing() -> bool {
    let present = Command::new("ffmpeg")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "ffmpeg is missing (CI must install it: scripts/deps.sh)"
        );
        eprintln!("skipped: ffmpeg is missing");
    }
    !present
}

/// ffmpeg publishing a 20 fps test card for `seconds`, killed on drop.
struct Publisher(Child);

impl Publisher {
    fn start(url: &str, seconds: u32) -> Self {
        let child = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi"])
            .args(["-i", "testsrc=size=320x240:rate=20"])
            .args(["-t", &seconds.to_string()])
            .args([
                "-c:v", "mjpeg", "-huffman", "default", "-pix_fmt", "yuvj420p",
            ])
            .args(["-f", "rtsp", "-rtsp_transport", "tcp", url])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn ffmpeg");
        Self(child)
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until the path is published (DESCRIBE answers), at most `limit`.
fn wait_published(url: &str, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        let described = Client::connect(ClientConfig::url(url)).and_then(|c| c.describe());
        if described.is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// A server with `live/cam` published by ffmpeg (long enough for a player's run on a loaded
/// machine; killed on drop).
fn published() -> (Server, Publisher, String, TempDir) {
    let media = TempDir::new("media");
    let server = Server::start_configured(media.path(), |c| c.publish = true);
    let url = server.url(PATH);
    let publisher = Publisher::start(&url, 60);
    assert!(
        wait_published(&url, Duration::from_secs(30)),
        "ffmpeg never published"
    );
    (server, publisher, url, media)
}

#[test]
fn the_window_shows_a_published_path_as_live() {
    if ffmpeg_missing() {
        return;
    }
    let Some(x) = Xvfb::start() else { return };
    let (_server, _publisher, url, _media) = published();
    let out = run_player(
        Some(&x.display),
        &["--stats", "--exit-after", "6", &url],
        Duration::from_secs(60),
    );
    let (stdout, stderr) = texts(&out);
    eprintln!("{stdout}");
    assert!(out.status.success(), "{:?}\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("state PLAYING"), "{stdout}");
    assert!(!stdout.contains("banner:"), "an error was shown:\n{stdout}");
    // Live: no seek bar; the latency line is there (a figure or a dash, see the module).
    assert!(stdout.contains("live: seek bar off, latency "), "{stdout}");
}

#[test]
fn a_published_path_plays_as_live_with_frame_rate_and_latency() {
    if ffmpeg_missing() {
        return;
    }
    let (_server, _publisher, url, _media) = published();
    let out = run_player(
        None,
        &["--no-gui", "--duration", "6", &url],
        Duration::from_secs(60),
    );
    let (stdout, stderr) = texts(&out);
    eprintln!("{stdout}");
    assert!(out.status.success(), "{:?}\n{stdout}\n{stderr}", out.status);
    // Live: no length in the header line (the size is there once a frame came first).
    assert!(stdout.contains("20.0 fps, live)"), "{stdout}");
    assert!(!stdout.contains("End of stream."), "{stdout}");
    assert!(stdout.contains("Stopped after"), "{stdout}");
    // The frame rate measured, near the publisher's 20 fps (generous: CI is loaded).
    let rate = figure(&stdout, "frame rate").expect("a frame rate");
    assert!((10.0..=30.0).contains(&rate), "{rate}\n{stdout}");
    // The latency row is always there. rtsp-server stamps its reports with the time it sends
    // a frame, and a live path's frames are sent as the publisher's pacing brings them, so a
    // run may have no figure (every frame a hair "early"); a figure, when there is one, is
    // on loopback well under a second even on a loaded machine.
    let row = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("latency "))
        .expect("a latency row");
    match figure(&stdout, "latency") {
        Some(ms) => {
            assert!((0.0..1000.0).contains(&ms), "{ms}\n{stdout}");
            assert!(row.contains("sender report to arrival"), "{row}");
        }
        None => assert!(row.contains("no frame had one"), "{row}"),
    }
}

/// The number after `name` on the summary row `  name   12.3 unit...`.
fn figure(stdout: &str, name: &str) -> Option<f64> {
    stdout
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}
