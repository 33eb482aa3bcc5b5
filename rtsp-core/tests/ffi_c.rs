#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Builds the C examples (`examples/c`) against the cdylib and runs the C test program under
//! AddressSanitizer with leak detection, against a lab-style server and GStreamer's RTSP server
//! started here, plus the player example, and a real `rtsp-server` process killed mid-stream
//! (the C callback client must report it within 2 s). Without a C compiler, make or GStreamer's
//! server it is skipped with a message, or fails in CI.

mod client_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use client_support::gst::{self, GstServer};
use client_support::gst_record::GstRecordServer;
use client_support::lab_server::LabServer;
use client_support::server_process::ServerProcess;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The directory holding the cdylibs of this test build (target/<profile>).
fn lib_dir() -> PathBuf {
    // The test binary lives in target/<profile>/deps.
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

#[test]
fn c_test_program_and_player_under_address_sanitizer() {
    if client_support::peer_missing(
        client_support::installed("cc", "--version")
            && client_support::installed("make", "--version"),
        "a C compiler or make",
    ) || gst::missing()
    {
        return;
    }
    let examples = root().join("examples/c");
    let lib = lib_dir();
    let profile = lib.file_name().unwrap().to_str().unwrap().to_owned();
    let release: &[&str] = if profile == "release" {
        &["--release"]
    } else {
        &[]
    };
    // `cargo test` builds the rlib this test links, not the cdylib: build it (cargo releases
    // its lock while tests run).
    let status = Command::new(env!("CARGO"))
        .args(["build", "-p", "rtsp-core"])
        .args(release)
        .current_dir(root())
        .status()
        .unwrap();
    assert!(status.success());
    let build = tempdir();
    let status = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(&examples)
        .arg(format!("BUILD={}", build.display()))
        .arg(format!("PROFILE={profile}"))
        .arg(format!("LIBDIR={}", lib.display()))
        .arg("LIBNAME=rtsp_core")
        .arg("NO_CARGO=1")
        .arg(build.join("test_ffi_asan"))
        .arg(build.join("player"))
        .arg(build.join("publisher"))
        .status()
        .unwrap();
    assert!(status.success(), "make failed");

    let frames: Vec<Vec<u8>> = (0..200).map(|i| client_support::jpeg(64, 48, i)).collect();
    std::fs::write(build.join("frame.jpg"), &frames[0]).unwrap();
    let lab = LabServer::start("movie.Mjpeg", frames);
    let gst = Some(GstServer::start(2000, false));
    let doomed = ServerProcess::start(&root().join("media"), &["--loop"]);
    let recorder = GstRecordServer::start(None);
    let users = build.join("users");
    add_user(&users, "reader", "pw-0123");
    let users_arg = users.to_str().unwrap();
    let guarded = ServerProcess::start(
        &root().join("media"),
        &["--publish", "--credentials", users_arg],
    );

    let mut cmd = Command::new(build.join("test_ffi_asan"));
    cmd.env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
        .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        .arg("--player")
        .arg(build.join("player"))
        .arg("--jpeg")
        .arg(build.join("frame.jpg"))
        .arg("--media")
        .arg(root().join("media"))
        .args([
            "--lab-port",
            &lab.port.to_string(),
            "--lab-file",
            "movie.Mjpeg",
        ]);
    cmd.args(["--kill-url", &doomed.url("movie.Mjpeg")])
        .args(["--kill-pid", &doomed.pid().to_string()]);
    if let Some(g) = &gst {
        cmd.args(["--url", &g.url()]);
    }
    cmd.args(["--publish-url", &recorder.url()]);
    let forbidden = guarded
        .url("live/cam")
        .replacen("rtsp://", "rtsp://reader:pw-0123@", 1);
    cmd.args(["--forbidden-url", &forbidden]);
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}\n{stderr}");
    assert!(out.status.success(), "test_ffi failed");
    assert!(stdout.contains(", 0 failed"));
    assert!(
        stdout.contains("server killed mid-stream: on_error"),
        "the kill test did not run"
    );
    assert!(!stderr.contains("LeakSanitizer"), "leaks reported");
    // What the C program published (10 frames over TCP, 10 over UDP, each stream closed a
    // second after its last frame), all decoded by GStreamer at the size of the file sent.
    assert!(stdout.contains("published 10 frames over TCP and 10 over UDP"));
    assert!(
        stdout.contains("publishing as a reader: RTSP_CORE_STATUS_FORBIDDEN"),
        "the 403 test did not run"
    );
    let all = client_support::wait_until(std::time::Duration::from_secs(20), || {
        recorder.frames().len() >= 20
    });
    let decoded = recorder.frames();
    assert!(
        all,
        "GStreamer decoded {} of 20 published frames",
        decoded.len()
    );
    assert_eq!(decoded.len(), 20);
    assert!(decoded.iter().all(|&f| f == (64, 48)), "{decoded:?}");
    // The publisher example closes right after its last frame, which GStreamer may still hold
    // in its jitter buffer then: all but that one must be decoded.
    let example = Command::new(build.join("publisher"))
        .arg(recorder.url())
        .arg(build.join("frame.jpg"))
        .args(["10", "20"])
        .output()
        .unwrap();
    assert!(
        example.status.success(),
        "publisher example: {}",
        String::from_utf8_lossy(&example.stderr)
    );
    assert!(String::from_utf8_lossy(&example.stdout).contains("sent 10 frames"));
    let most = client_support::wait_until(std::time::Duration::from_secs(20), || {
        recorder.frames().len() >= 29
    });
    let decoded = recorder.frames();
    assert!(
        most,
        "GStreamer decoded {} of the example's 10 frames",
        decoded.len() - 20
    );
    assert!(
        decoded.len() <= 30 && decoded.iter().all(|&f| f == (64, 48)),
        "{decoded:?}"
    );
    // Each time the C program prints the statistics, it prints every field it knows:
    // exactly the engine's.
    let printed: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("stats.")?.split('=').next())
        .collect();
    let fields: Vec<&str> = rtsp_core::client::Stats::FIELDS
        .iter()
        .map(|(name, _)| *name)
        .collect();
    assert!(!printed.is_empty(), "no statistics printed");
    for block in printed.chunks(fields.len()) {
        assert_eq!(block, fields, "the C program's fields");
    }
    let _ = std::fs::remove_dir_all(&build);
}

/// `rtsp-server passwd FILE USER` (read permission only) with `password` on stdin.
fn add_user(file: &Path, user: &str, password: &str) {
    use std::io::Write as _;
    let mut child = Command::new(client_support::server_process::binary())
        .arg("passwd")
        .arg(file)
        .arg(user)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    assert!(child.wait().unwrap().success(), "rtsp-server passwd failed");
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rtsp-core-ffi-c-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
