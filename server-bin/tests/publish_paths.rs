//! Named publish paths (`[[path]]` in `--config FILE`): publishable without `--publish`, by the
//! users each one lists (or any user marked `publish`); other paths get 405 without
//! `--publish`. Peers: ffmpeg's `-f rtsp` output and raw RTSP over TCP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const PASSWORD: &str = "pw-0123";

const CONFIG: &str = r#"
[[path]]
name = "live/cam"
publishers = ["alice"]

[[path]]
name = "live/open"
"#;

/// ffmpeg publishing two seconds of 320x240 MJPEG to `url` over TCP; its exit status.
fn ffmpeg_publish(url: &str) -> std::process::Output {
    let mut child = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi"])
        .args(["-i", "testsrc=size=320x240:rate=20", "-t", "2"])
        .args([
            "-c:v", "mjpeg", "-huffman", "default", "-pix_fmt", "yuvj420p",
        ])
        .args(["-f", "rtsp", "-rtsp_transport", "tcp", url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ffmpeg");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ffmpeg did not finish");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// The `frames=N` of the `publisher left` line of `path`.
fn frames_published(server: &Server, path: &str) -> u64 {
    let line = server
        .wait_log(
            &["publisher left", &format!("media={path}")],
            Duration::from_secs(30),
        )
        .expect("publisher left logged");
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("frames="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("frames= in {line}"))
}

#[test]
fn named_paths_admit_the_publishers_they_list() {
    if !have("ffmpeg") {
        return;
    }
    let dir = scratch("publish-paths");
    let users = dir.join("users");
    common::passwd(&users, "alice", PASSWORD, false);
    common::passwd(&users, "bob", PASSWORD, true);
    common::passwd(&users, "carol", PASSWORD, false);
    let config = dir.join("rtsp-server.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let server = Server::start(&[
        "--config",
        config.to_str().unwrap(),
        "--credentials",
        users.to_str().unwrap(),
    ]);
    let url = |user: &str, path: &str| format!("rtsp://{user}:{PASSWORD}@{}/{path}", server.addr);

    // alice is listed for live/cam (the credentials file does not mark her `publish`).
    let ok = ffmpeg_publish(&url("alice", "live/cam"));
    assert!(ok.status.success(), "alice publishes: {}", text(&ok));
    assert!(frames_published(&server, "live/cam") > 0);

    // bob may publish, but live/cam lists only alice.
    let refused = ffmpeg_publish(&url("bob", "live/cam"));
    assert!(!refused.status.success(), "bob is refused live/cam");
    server
        .wait_log(
            &["not among the publishers", "status=403", "user=\"bob\""],
            Duration::from_secs(10),
        )
        .unwrap_or_else(|| panic!("403 for bob logged: {:?}", server.log.lock().unwrap()));

    // live/open lists nobody: users marked `publish` may, others may not.
    let ok = ffmpeg_publish(&url("bob", "live/open"));
    assert!(
        ok.status.success(),
        "bob publishes live/open: {}",
        text(&ok)
    );
    assert!(frames_published(&server, "live/open") > 0);
    let refused = ffmpeg_publish(&url("carol", "live/open"));
    assert!(!refused.status.success(), "carol is refused live/open");
    server
        .wait_log(
            &["may not publish", "status=403", "user=\"carol\""],
            Duration::from_secs(10),
        )
        .expect("403 for carol logged");

    // Without --publish, a path the configuration does not name cannot be published.
    let refused = ffmpeg_publish(&url("bob", "live/other"));
    assert!(!refused.status.success(), "live/other is not publishable");
    server
        .wait_log(
            &["only the paths the configuration names", "status=405"],
            Duration::from_secs(10),
        )
        .expect("405 logged");
    assert!(
        server
            .wait_log(&["publisher set up", "media=live/other"], Duration::ZERO)
            .is_none(),
        "live/other was set up"
    );
}

#[test]
fn unnamed_paths_get_405_with_the_reason_without_credentials() {
    if !have("ffmpeg") {
        return;
    }
    let dir = scratch("publish-paths-open");
    let config = dir.join("rtsp-server.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let server = Server::start(&["--config", config.to_str().unwrap()]);

    let sdp = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=cam\r\nt=0 0\r\nm=video 0 RTP/AVP 26\r\na=control:streamid=0\r\n";
    let announce = |path: &str| {
        let mut c = Rtsp::connect(server.addr);
        let uri = server.url(path);
        let request = format!(
            "ANNOUNCE {uri} RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        );
        c.send_raw(request.as_bytes());
        c.read_reply()
    };
    let other = announce("live/other");
    assert_eq!(other.status, 405, "{}", other.status_line);
    assert!(
        String::from_utf8_lossy(&other.body).contains("only the paths the configuration names"),
        "the reason in the body"
    );
    // live/cam lists its publishers, and nobody authenticates without --credentials.
    let cam = announce("live/cam");
    assert_eq!(cam.status, 403, "{}", cam.status_line);
    assert_eq!(announce("live/open").status, 200);

    let ok = ffmpeg_publish(&server.url("live/open"));
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(frames_published(&server, "live/open") > 0);
}

#[test]
fn bad_named_paths_are_refused_with_their_line() {
    for (text, words) in [
        (
            "port = 0\n[[path]]\nname = \"live/cam\"\npublishers = []\n",
            "an empty publishers list admits nobody",
        ),
        ("port = 0\n[[path]]\nname = \"a/../b\"\n", "not a path like"),
        (
            "port = 0\n[[path]]\nname = \"live/cam\"\nwho = [\"x\"]\n",
            "unknown field `who`",
        ),
    ] {
        let file = scratch("publish-paths-bad").join("rtsp-server.toml");
        std::fs::write(&file, text).unwrap();
        let out = run(
            env!("CARGO_BIN_EXE_rtsp-server"),
            &["--config".to_owned(), file.to_str().unwrap().to_owned()],
            Duration::from_secs(60),
        );
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{text:?} was accepted");
        assert!(stderr.contains(words), "{text:?}: {stderr}");
        assert!(
            ["toml:2:", "toml:3:", "toml:4:"]
                .iter()
                .any(|at| stderr.contains(at)),
            "the line is named: {stderr}"
        );
    }
}
