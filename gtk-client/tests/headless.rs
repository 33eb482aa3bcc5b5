//! `rtsp-player --no-gui` against the project's server: plays to the end, prints progress and
//! statistics, saves frames, explains failures, and is what the player falls back to without a
//! display.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{run_player, short_movie, texts, Server, TempDir};

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn standard_dialect_plays_to_the_end_and_saves_every_frame() {
    let media = TempDir::new("media");
    let frames = short_movie(media.path(), "short.Mjpeg", 40);
    let server = Server::start(media.path());
    let out_dir = TempDir::new("frames");
    let dir = out_dir.path().to_str().unwrap();
    let out = run_player(
        None,
        &["--no-gui", "--save-frames", dir, &server.url("short.Mjpeg")],
        LIMIT,
    );
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{:?}\n{stdout}\n{stderr}", out.status);
    assert!(
        stdout.contains("Playing short.Mjpeg from 127.0.0.1:"),
        "{stdout}"
    );
    assert!(stdout.contains("(640x480, 20.0 fps, 0:02)"), "{stdout}");
    assert!(stdout.contains("End of stream."), "{stdout}");
    assert!(stdout.contains("Statistics"), "{stdout}");
    assert!(stdout.contains("40 complete"), "{stdout}");
    assert!(stdout.contains("saved             40 frames"), "{stdout}");
    // Every frame on disk is a whole JPEG. The standard dialect rebuilds the JPEG header from
    // the RTP/JPEG fields, so compare the entropy-coded data: it must end like the original.
    let mut saved: Vec<_> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    saved.sort();
    assert_eq!(saved.len(), frames.len());
    for (path, original) in saved.iter().zip(&frames) {
        let jpeg = std::fs::read(path).unwrap();
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "{}", path.display());
        let tail = &original[original.len() - 256..];
        assert!(
            jpeg.ends_with(tail),
            "{} differs from the file",
            path.display()
        );
    }
}

#[test]
fn lab_dialect_shows_the_exchange_and_ends() {
    let media = TempDir::new("media");
    let frames = short_movie(media.path(), "short.Mjpeg", 30);
    let server = Server::start(media.path());
    let out_dir = TempDir::new("frames");
    let port = server.port.to_string();
    let out = run_player(
        None,
        &[
            "--no-gui",
            "--show-rtsp",
            "--save-frames",
            out_dir.path().to_str().unwrap(),
            "127.0.0.1",
            &port,
            "0",
            "short.Mjpeg",
        ],
        LIMIT,
    );
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{:?}\n{stdout}\n{stderr}", out.status);
    // The protocol log shows the lab's own request format and the server's lab replies.
    assert!(
        stdout.contains(
            "   SETUP short.Mjpeg RTSP/1.0\n   CSeq: 1\n   Transport: RTP/UDP; client_port= "
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("   PLAY short.Mjpeg RTSP/1.0\n   CSeq: 2\n   Session: "),
        "{stdout}"
    );
    assert!(
        stdout.contains("   TEARDOWN short.Mjpeg RTSP/1.0\n   CSeq: 3"),
        "{stdout}"
    );
    assert!(stdout.contains("   Frames: 30"), "{stdout}");
    assert!(stdout.contains("End of stream."), "{stdout}");
    assert!(stdout.contains("frame 30 / 30"), "{stdout}");
    // The lab dialect delivers the file's bytes untouched.
    for (i, original) in frames.iter().enumerate() {
        let path = out_dir.path().join(format!("frame-{:06}.jpg", i + 1));
        assert_eq!(
            &std::fs::read(&path).unwrap(),
            original,
            "{}",
            path.display()
        );
    }
}

#[test]
fn duration_stops_early_with_statistics() {
    let server = Server::start(&common::media_dir());
    let out = run_player(
        None,
        &[
            "--no-gui",
            "--duration",
            "2",
            "--transport",
            "tcp",
            &server.url("movie.Mjpeg"),
        ],
        LIMIT,
    );
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{:?}\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("Stopped after 2."), "{stdout}");
    assert!(
        stdout.contains("/ 500"),
        "progress shows the frame counter: {stdout}"
    );
    let complete: u64 = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("frames"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        (25..=50).contains(&complete),
        "{complete} frames in 2 s at 20 fps:\n{stdout}"
    );
}

#[test]
fn failures_are_explained() {
    // Nothing listens on the port of a server that has just stopped.
    let port = {
        let server = Server::start(&common::media_dir());
        server.port
    };
    let out = run_player(
        None,
        &["--no-gui", &format!("rtsp://127.0.0.1:{port}/movie.Mjpeg")],
        LIMIT,
    );
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("Can’t reach the server: Nothing is listening at 127.0.0.1:"),
        "{stderr}"
    );

    let server = Server::start(&common::media_dir());
    let out = run_player(None, &["--no-gui", &server.url("missing.Mjpeg")], LIMIT);
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("Stream not found: 127.0.0.1:"), "{stderr}");
    assert!(stderr.contains("“missing.Mjpeg”"), "{stderr}");

    let out = run_player(None, &["--no-gui", "http://example.invalid/"], LIMIT);
    assert_eq!(out.status.code(), Some(2));
    assert!(texts(&out)
        .1
        .contains("is not an rtsp:// or rtsps:// address"));
}

#[test]
fn without_a_display_the_player_falls_back_to_headless() {
    let server = Server::start(&common::media_dir());
    let out = run_player(
        None,
        &["--duration", "1", &server.url("movie.Mjpeg")],
        LIMIT,
    );
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{:?}\n{stdout}\n{stderr}", out.status);
    assert!(
        stderr.contains("no display found; playing without a window"),
        "{stderr}"
    );
    assert!(stdout.contains("Statistics"), "{stdout}");
}

/// Credentials from the URL sign in; `--show-rtsp` prints the 401 and the authorized retry,
/// and neither the request-URIs nor anything printed hold the password.
#[test]
fn url_credentials_authenticate_and_refusals_are_explained() {
    use rtsp_core::auth::{AuthConfig, Credentials, ServerAuth, UserEntry};
    let media = TempDir::new("media");
    short_movie(media.path(), "short.Mjpeg", 20);
    let entry = UserEntry::new("alice", "rtsp-server", "open sesame").unwrap();
    let server = Server::start_with(
        media.path(),
        Some(ServerAuth {
            config: AuthConfig::new("rtsp-server"),
            credentials: Credentials::parse(&entry.to_line()).unwrap(),
        }),
    );
    let url = |userinfo: &str| {
        server
            .url("short.Mjpeg")
            .replace("rtsp://", &format!("rtsp://{userinfo}"))
    };
    let out = run_player(
        None,
        &["--no-gui", "--show-rtsp", &url("alice:open%20sesame@")],
        LIMIT,
    );
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("20 complete"), "{stdout}");
    let retry = stdout
        .split_once("   RTSP/1.0 401 Unauthorized\n")
        .and_then(|(_, after)| after.split_once("\n>> "))
        .map(|(_, retry)| retry)
        .unwrap_or_else(|| panic!("no 401 and retry in:\n{stdout}"));
    assert!(
        retry.contains("   Authorization: Digest username=\"alice\""),
        "{stdout}"
    );
    assert!(retry.contains("response=<redacted>"), "{stdout}");
    for line in stdout.lines().filter(|l| l.contains(" RTSP/1.0")) {
        assert!(!line.contains('@'), "userinfo on the wire: {line}");
    }
    assert!(
        !stdout.contains("sesame") && !stderr.contains("sesame"),
        "{stdout}\n{stderr}"
    );
    for userinfo in ["alice:wrong@", ""] {
        let out = run_player(None, &["--no-gui", &url(userinfo)], LIMIT);
        let (stdout, stderr) = texts(&out);
        assert!(!out.status.success(), "{stdout}\n{stderr}");
        assert!(
            format!("{stdout}{stderr}").contains("Sign-in required"),
            "{stdout}\n{stderr}"
        );
    }
}

/// The server process killed mid-stream (SIGKILL): the headless player says why and exits
/// non-zero within 2 s.
#[test]
fn a_killed_server_ends_headless_play_within_2s_with_a_clear_message() {
    let mut server =
        common::server_process::ServerProcess::start(&common::media_dir(), &["--loop"]);
    let (cmd, _config) = common::player_command(None, &["--no-gui", &server.url("movie.Mjpeg")]);
    // Progress lines come once a second; a non-zero frame number means frames are flowing.
    let ready =
        |l: &str| l.contains("frame ") && !l.contains("frame 0 ") && !l.ends_with("frame 0");
    let run = common::play_then_kill(cmd, &mut server, ready, Duration::from_secs(20));
    eprintln!(
        "headless player exited {:?} after SIGKILL of the server:\n{}",
        run.exited_after, run.stderr
    );
    assert_eq!(run.status.code(), Some(1), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("Connection closed: 127.0.0.1:"),
        "no clear message:\n{}",
        run.stderr
    );
    assert!(
        run.exited_after < Duration::from_secs(2),
        "exited {:?} after the kill",
        run.exited_after
    );
}

#[test]
fn summary_frame_rate_is_frames_over_the_time_they_span() {
    let media = TempDir::new("media");
    short_movie(media.path(), "five.Mjpeg", 100);
    let server = Server::start(media.path());
    let out = run_player(None, &["--no-gui", &server.url("five.Mjpeg")], LIMIT);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{:?}\n{stdout}\n{stderr}", out.status);
    let rate: f64 = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("frame rate"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no frame rate in\n{stdout}"));
    // The server paces 100 frames on a 50 ms grid: 99 intervals in 4.95 s. Arrival jitter on a
    // loaded machine moves the ends by milliseconds, not by the 0.3 fps allowed here.
    assert!((rate - 20.0).abs() < 0.3, "frame rate {rate}:\n{stdout}");
}
