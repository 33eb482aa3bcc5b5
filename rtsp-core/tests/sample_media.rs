#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The shipped sample, `media/movie.Mjpeg`, decodes without a single warning in the two JPEG
//! decoders its viewers use: FFmpeg's (ffplay, ffmpeg, VLC's libavcodec path) and libjpeg
//! (Pillow in the lab client, GStreamer's jpegdec, djpeg).

mod client_support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use rtsp_core::media::MjpegFile;

fn sample() -> MjpegFile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../media/movie.Mjpeg");
    MjpegFile::open(path).expect("media/movie.Mjpeg")
}

/// Runs `cmd` with `input` on stdin and returns what it printed on stderr.
fn stderr_of(cmd: &mut Command, input: &[u8]) -> String {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_frame_decodes_without_warnings_in_ffmpeg() {
    if client_support::peer_missing(client_support::installed("ffmpeg", "-version"), "ffmpeg") {
        return;
    }
    let file = sample();
    assert_eq!(file.frame_count(), 500);
    let stream: Vec<u8> = file.frames().flatten().copied().collect();
    let warnings = stderr_of(
        Command::new("ffmpeg").args([
            "-nostdin", "-v", "warning", "-f", "mjpeg", "-i", "-", "-f", "null", "-",
        ]),
        &stream,
    );
    assert!(warnings.is_empty(), "ffmpeg warned:\n{warnings}");
}

#[test]
fn every_frame_decodes_without_warnings_in_libjpeg() {
    if client_support::peer_missing(
        client_support::installed("djpeg", "-version"),
        "djpeg (libjpeg-turbo-progs)",
    ) {
        return;
    }
    for (n, jpeg) in sample().frames().enumerate() {
        let warnings = stderr_of(Command::new("djpeg").args(["-outfile", "/dev/null"]), jpeg);
        assert!(
            warnings.is_empty(),
            "libjpeg warned on frame {n}:\n{warnings}"
        );
    }
}
