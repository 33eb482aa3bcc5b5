//! The window under a private X server: `rtsp-player` plays the sample from the project's server,
//! and its screenshots prove frames were shown (not blank, different a few seconds apart), in
//! normal mode and in lab mode. Skipped, loudly, only when Xvfb is missing (CI installs it).
//!
//! `UPDATE_SCREENSHOTS=1 cargo test -p gtk-client --test gui` also refreshes the README's
//! pictures in `docs/screenshots/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{run_player, texts, Server, TempDir, Xvfb};

const LIMIT: Duration = Duration::from_secs(90);

fn update_screenshots() -> bool {
    std::env::var_os("UPDATE_SCREENSHOTS").is_some_and(|v| v != "0")
}

fn docs_screenshot(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/screenshots")
        .join(name)
}

/// Frames shown, from the player's `shown: N frames, ...` report line.
fn frames_shown(stdout: &str) -> u64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("shown: "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no report line in:\n{stdout}"))
}

/// The picture's pixels, with a check that it is a real window picture and not blank.
fn load_picture(path: &Path) -> image::RgbaImage {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgba8();
    assert!(
        img.width() >= 600 && img.height() >= 400,
        "{}",
        path.display()
    );
    let mut colours = std::collections::HashSet::new();
    for p in img.pixels().step_by(7) {
        colours.insert(p.0);
        if colours.len() > 64 {
            break;
        }
    }
    assert!(
        colours.len() > 64,
        "{} is nearly blank ({} colours)",
        path.display(),
        colours.len()
    );
    img
}

/// Fraction of pixels in the region that differ between the pictures.
fn changed_fraction(
    a: &image::RgbaImage,
    b: &image::RgbaImage,
    region: (u32, u32, u32, u32),
) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let (x0, y0, w, h) = region;
    let mut changed = 0u64;
    for y in y0..y0 + h {
        for x in x0..x0 + w {
            if a.get_pixel(x, y) != b.get_pixel(x, y) {
                changed += 1;
            }
        }
    }
    changed as f64 / (u64::from(w) * u64::from(h)) as f64
}

/// The top-left part of the window, where the video is in both layouts.
fn video_region(img: &image::RgbaImage) -> (u32, u32, u32, u32) {
    (0, 60, img.width() / 2, img.height() / 2)
}

fn check_two_moments(dir: &Path, stdout: &str) -> (PathBuf, PathBuf) {
    let (early, late) = (dir.join("early.png"), dir.join("late.png"));
    assert!(
        stdout.contains(&format!("screenshot: {}", early.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("screenshot: {}", late.display())),
        "{stdout}"
    );
    let a = load_picture(&early);
    let b = load_picture(&late);
    let changed = changed_fraction(&a, &b, video_region(&a));
    assert!(
        changed > 0.01,
        "the video did not change between the screenshots ({:.2} % of pixels)",
        changed * 100.0
    );
    (early, late)
}

#[test]
fn normal_mode_plays_the_sample() {
    let Some(x) = Xvfb::start() else { return };
    let server = Server::start(&common::media_dir());
    let shots = TempDir::new("shots");
    let early = format!("2.5:{}", shots.path().join("early.png").display());
    let late = shots.path().join("late.png").display().to_string();
    // For the README: long enough for the graph to say something.
    let exit_after = if update_screenshots() { "23" } else { "6" };
    let out = run_player(
        Some(&x.display),
        &[
            "--stats",
            "--window-size",
            "1100x680",
            "--exit-after",
            exit_after,
            "--screenshot",
            &early,
            "--screenshot",
            &late,
            &server.url("movie.Mjpeg"),
        ],
        LIMIT,
    );
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{:?}\n{stdout}\n{stderr}", out.status);
    let shown = frames_shown(&stdout);
    assert!(shown >= 20, "only {shown} frames shown:\n{stdout}");
    assert!(
        stdout.contains("/ 500, state PLAYING, lab mode off"),
        "{stdout}"
    );
    assert!(!stdout.contains("banner:"), "an error was shown:\n{stdout}");
    let (_, late) = check_two_moments(shots.path(), &stdout);
    if update_screenshots() {
        std::fs::create_dir_all(docs_screenshot("")).unwrap();
        std::fs::copy(&late, docs_screenshot("player.png")).unwrap();
    }
}

#[test]
fn lab_mode_steps_through_the_protocol() {
    let Some(x) = Xvfb::start() else { return };
    let server = Server::start(&common::media_dir());
    let shots = TempDir::new("shots");
    let early = format!("2.5:{}", shots.path().join("early.png").display());
    let late = shots.path().join("late.png").display().to_string();
    let port = server.port.to_string();
    // The lab's four arguments start lab mode; --autoplay presses SETUP, then PLAY.
    let out = run_player(
        Some(&x.display),
        &[
            "--autoplay",
            "--window-size",
            "1100x680",
            "--exit-after",
            "6",
            "--screenshot",
            &early,
            "--screenshot",
            &late,
            "127.0.0.1",
            &port,
            "0",
            "movie.Mjpeg",
        ],
        LIMIT,
    );
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{:?}\n{stdout}\n{stderr}", out.status);
    let shown = frames_shown(&stdout);
    assert!(shown >= 20, "only {shown} frames shown:\n{stdout}");
    // The total comes from the lab extension's `Frames:` reply line.
    assert!(
        stdout.contains("/ 500, state PLAYING, lab mode on"),
        "{stdout}"
    );
    let (_, late) = check_two_moments(shots.path(), &stdout);
    if update_screenshots() {
        std::fs::create_dir_all(docs_screenshot("")).unwrap();
        std::fs::copy(&late, docs_screenshot("lab-mode.png")).unwrap();
    }
}

#[test]
fn lab_mode_waits_for_setup() {
    let Some(x) = Xvfb::start() else { return };
    let server = Server::start(&common::media_dir());
    let port = server.port.to_string();
    let out = run_player(
        Some(&x.display),
        &[
            "--exit-after",
            "1.5",
            "127.0.0.1",
            &port,
            "0",
            "movie.Mjpeg",
        ],
        LIMIT,
    );
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{:?}\n{stdout}\n{stderr}", out.status);
    assert!(
        stdout.contains("shown: 0 frames, last frame 0, state INIT, lab mode on"),
        "{stdout}"
    );
}

#[test]
fn a_missing_file_is_explained_in_the_banner() {
    let Some(x) = Xvfb::start() else { return };
    let server = Server::start(&common::media_dir());
    let shots = TempDir::new("shots");
    let shot = shots.path().join("missing.png");
    let out = run_player(
        Some(&x.display),
        &[
            "--exit-after",
            "2",
            "--screenshot",
            shot.to_str().unwrap(),
            &server.url("missing.Mjpeg"),
        ],
        LIMIT,
    );
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{:?}\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("banner: Stream not found"), "{stdout}");
    assert!(stdout.contains("shown: 0 frames"), "{stdout}");
    load_picture(&shot);
}

/// The server process killed mid-stream: the window shows the "Connection closed" banner within
/// 2 s and keeps running (the session is gone, not the player).
#[test]
fn a_killed_server_is_shown_in_the_banner_within_2s() {
    let Some(x) = Xvfb::start() else { return };
    let mut server =
        common::server_process::ServerProcess::start(&common::media_dir(), &["--loop"]);
    let shots = TempDir::new("shots");
    let shot = shots.path().join("playing.png");
    let url = server.url("movie.Mjpeg");
    let (cmd, _config) = common::player_command(
        Some(&x.display),
        &[
            "--exit-after",
            "8",
            "--screenshot",
            &format!("3:{}", shot.display()),
            &url,
        ],
    );
    // The screenshot line: the window is up and has been playing for 3 s.
    let ready = |l: &str| l.starts_with("screenshot: ");
    let run = common::play_then_kill(cmd, &mut server, ready, LIMIT);
    let shown = run
        .line_after_kill("banner shown: Connection closed")
        .unwrap_or_else(|| panic!("no banner:\n{}\n{}", run.stdout, run.stderr));
    eprintln!("GUI player: banner {shown:?} after SIGKILL of the server");
    assert!(run.status.success(), "{}\n{}", run.stdout, run.stderr);
    assert!(frames_shown(&run.stdout) > 0, "{}", run.stdout);
    assert!(run.stdout.contains("state INIT"), "{}", run.stdout);
    assert!(
        shown < Duration::from_secs(2),
        "banner {shown:?} after the kill"
    );
    load_picture(&shot);
}

const USER: &str = "alice";
/// Given in URLs percent-encoded (`open%20sesame`).
const PASSWORD: &str = "open sesame";

/// The protocol log rows the player printed (`protocol log: HEADING` and the message's lines).
fn protocol_log(stdout: &str) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = Vec::new();
    for line in stdout.lines() {
        if let Some(heading) = line.strip_prefix("protocol log: ") {
            rows.push((heading.to_owned(), String::new()));
        } else if let (Some(text), Some(row)) = (line.strip_prefix("    "), rows.last_mut()) {
            row.1.push_str(text);
            row.1.push('\n');
        }
    }
    rows
}

/// The player played, the log shows the 401 and the authorized retry, and the password appears
/// nowhere in what it printed.
fn check_signed_in_run(out: &std::process::Output) {
    let (stdout, stderr) = texts(out);
    assert!(out.status.success(), "{:?}\n{stdout}\n{stderr}", out.status);
    assert!(!stdout.contains("banner"), "a banner was shown:\n{stdout}");
    let shown = frames_shown(&stdout);
    assert!(shown >= 20, "only {shown} frames shown:\n{stdout}");
    let rows = protocol_log(&stdout);
    let refused = rows
        .iter()
        .position(|(h, t)| h == "Server → Client" && t.starts_with("RTSP/1.0 401 "))
        .unwrap_or_else(|| panic!("no 401 in the protocol log:\n{stdout}"));
    let (heading, retry) = &rows[refused + 1];
    assert_eq!(heading, "Client → Server", "{stdout}");
    assert!(retry.starts_with("DESCRIBE rtsp://127.0.0.1:"), "{retry}");
    assert!(
        retry.contains("\nAuthorization: Digest username=\"alice\""),
        "{retry}"
    );
    assert!(retry.contains("response=<redacted>"), "{retry}");
    assert!(
        rows[refused + 2].1.starts_with("RTSP/1.0 200 OK"),
        "{stdout}"
    );
    for (_, text) in &rows {
        let request_uri = text.lines().next().unwrap().split(' ').nth(1).unwrap();
        assert!(!request_uri.contains('@'), "userinfo on the wire: {text}");
    }
    for printed in [&stdout, &stderr] {
        assert!(
            !printed.contains("sesame"),
            "the password was printed:\n{printed}"
        );
    }
}

/// Digest credentials given in the URL on the command line, and typed into the address page:
/// the player signs in and plays, its protocol log shows the 401 and the authorized retry, and
/// neither the bytes it sent (a recording relay sits between it and the server) nor the
/// server's debug log nor the recent-address list hold the password.
#[test]
fn credentials_from_the_url_or_the_address_page_sign_in_and_stay_off_the_wire() {
    let Some(x) = Xvfb::start() else { return };
    let secrets = TempDir::new("users");
    let users = secrets.path().join("users.txt");
    common::passwd(&users, USER, PASSWORD);
    let server = common::server_process::ServerProcess::start_logging(
        &common::media_dir(),
        &["--credentials", users.to_str().unwrap()],
        "debug",
    );
    let relay = common::recorder::Recorder::start(([127, 0, 0, 1], server.port).into());
    let url = relay.url(&format!("{USER}:open%20sesame@"), "movie.Mjpeg");

    // On the command line, in lab mode (the log on screen) with SETUP and PLAY pressed.
    let shots = TempDir::new("shots");
    let shot = shots.path().join("signed-in.png");
    let out = run_player(
        Some(&x.display),
        &[
            "--lab",
            "--autoplay",
            "--window-size",
            "1100x680",
            "--exit-after",
            "5",
            "--screenshot",
            shot.to_str().unwrap(),
            &url,
        ],
        LIMIT,
    );
    check_signed_in_run(&out);
    load_picture(&shot);

    // Typed into the address page, as a user would.
    let (cmd, config) = common::player_command(
        Some(&x.display),
        &["--exit-after", "5", "--type-address", &url],
    );
    let out = common::run_to_end(cmd, LIMIT);
    check_signed_in_run(&out);
    let recent = std::fs::read_to_string(config.path().join("rtsp-player/recent")).unwrap();
    assert!(recent.contains("rtsp://alice@127.0.0.1:"), "{recent}");
    assert!(!recent.contains("sesame"), "{recent}");

    let wire = String::from_utf8_lossy(&relay.client_bytes()).into_owned();
    assert!(wire.contains("Authorization: Digest "), "{wire}");
    assert!(
        !wire.contains("sesame"),
        "the password crossed the wire:\n{wire}"
    );
    assert!(
        !wire.contains("alice:"),
        "userinfo crossed the wire:\n{wire}"
    );
    let log = server.log().join("\n");
    assert!(log.contains("rtsp://127.0.0.1:"), "no request log:\n{log}");
    assert!(
        !log.contains("sesame"),
        "the password is in the server log:\n{log}"
    );
}
