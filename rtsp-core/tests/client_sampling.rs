#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! 4:4:4 and grayscale MJPEG files, which RFC 2435's types cannot describe, from the project's
//! server (in process, real sockets): the project's client, which announces that it rebuilds
//! frames from the ONVIF header extension's SOF, plays them bit-exact and unchanged; FFmpeg,
//! which does not, gets a clear 415 instead of frames it would decode as garbage.

mod client_support;
mod jpeg_support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use client_support::own_server;
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
use jpeg_support::{decode, test_picture};
use rtsp_core::client::{Client, ClientConfig, Event, TransportPreference};
use rtsp_core::jpeg::{ParsedJpeg, Subsampling};

/// Frames per sample file.
const FRAMES: u32 = 6;

fn frame(sampling: Subsampling, seed: u32) -> Vec<u8> {
    let (w, h) = (320, 240);
    let rgb = test_picture(w, h, seed);
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out, 85);
    match sampling {
        Subsampling::Gray => {
            let luma: Vec<u8> = rgb.chunks(3).map(|p| p[0]).collect();
            enc.encode(&luma, w, h, ColorType::Luma).unwrap();
        }
        _ => {
            enc.set_sampling_factor(SamplingFactor::F_1_1);
            enc.encode(&rgb, w, h, ColorType::Rgb).unwrap();
        }
    }
    out
}

/// A media directory with `name` (`FRAMES` frames of `sampling`), the source frames, and each
/// frame as the client rebuilds it mapped to its index.
fn media(name: &str, sampling: Subsampling) -> (PathBuf, Vec<Vec<u8>>, HashMap<Vec<u8>, usize>) {
    let dir = std::env::temp_dir().join(format!("client_sampling_{name}_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let frames: Vec<Vec<u8>> = (1..=FRAMES).map(|seed| frame(sampling, seed)).collect();
    std::fs::write(dir.join(name), frames.concat()).unwrap();
    let rebuilt = frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            assert!(ParsedJpeg::parse(f).is_err(), "RFC 2435 cannot carry it");
            let parsed = ParsedJpeg::parse_extended(f).unwrap();
            assert_eq!(parsed.subsampling(), sampling);
            (parsed.to_rtp_jpeg(), i)
        })
        .collect();
    (dir, frames, rebuilt)
}

fn plays_bit_exact(name: &str, sampling: Subsampling) {
    let (dir, source, rebuilt) = media(name, sampling);
    let server = own_server::start(&dir, 0).unwrap();
    let url = format!("rtsp://127.0.0.1:{}/{name}", server.local_addr().port());

    let mut config = ClientConfig::url(&url);
    config.transport = TransportPreference::Tcp;
    let client = Client::connect(config).unwrap();
    client.player_play().unwrap();
    let mut received = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no end of stream; {} frames",
            received.len()
        );
        match client.next_event(left) {
            Some(Event::Frame(f)) => received.push(f),
            Some(Event::EndOfStream) => break,
            Some(_) | None => {}
        }
    }
    let indices: Vec<usize> = received
        .iter()
        .map(|f| {
            *rebuilt
                .get(&f.jpeg[..])
                .expect("every frame is a source frame, bit-exact")
        })
        .collect();
    assert!(!indices.is_empty());
    assert!(indices.windows(2).all(|w| w[0] < w[1]), "{indices:?}");
    assert_eq!(client.stats().frames_broken, 0);
    for (f, &i) in received.iter().zip(&indices) {
        assert!(
            decode(&f.jpeg) == decode(&source[i]),
            "pixels of frame {i} differ"
        );
    }
    client.teardown().unwrap();

    // A receiver that does not announce it would decode garbage: it is refused, clearly.
    if !client_support::peer_missing(ffprobe_present(), "ffprobe (ffmpeg)") {
        let out = Command::new("ffprobe")
            .args(["-v", "error", "-rtsp_transport", "tcp", "-i", &url])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains("415"), "{stderr}");
    }
    server.shutdown();
    let _ = std::fs::remove_dir_all(dir);
}

fn ffprobe_present() -> bool {
    Command::new("ffprobe")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn client_plays_4_4_4_unchanged_and_ffprobe_gets_415() {
    plays_bit_exact("yuv444.mjpeg", Subsampling::Yuv444);
}

#[test]
fn client_plays_grayscale_unchanged_and_ffprobe_gets_415() {
    plays_bit_exact("gray.mjpeg", Subsampling::Gray);
}

/// With `--transcode`, receivers that do not read the frame header get a re-encoded 4:2:0
/// copy they decode at the right size; the project's client still gets the frames unchanged.
#[test]
fn with_transcode_ffprobe_reads_a_reencoded_copy() {
    if client_support::peer_missing(ffprobe_present(), "ffprobe (ffmpeg)") {
        return;
    }
    for (name, sampling) in [
        ("yuv444.mjpeg", Subsampling::Yuv444),
        ("gray.mjpeg", Subsampling::Gray),
    ] {
        let (dir, _, rebuilt) = media(&format!("t{name}"), sampling);
        std::fs::rename(dir.join(format!("t{name}")), dir.join(name)).unwrap();
        let mut config = rtsp_core::server::runtime::Config::new(([127, 0, 0, 1], 0).into(), &dir);
        config.transcode = true;
        config.rtp_port_base = 40_000 + (std::process::id() % 8_000) as u16 * 2;
        let server = rtsp_core::server::runtime::Server::start(config).unwrap();
        let url = format!("rtsp://127.0.0.1:{}/{name}", server.local_addr().port());
        let out = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-rtsp_transport",
                "tcp",
                "-show_entries",
                "stream=codec_name,width,height",
                "-of",
                "csv=p=0",
                "-i",
                &url,
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(stdout.trim(), "mjpeg,320,240");

        let mut config = ClientConfig::url(&url);
        config.transport = TransportPreference::Tcp;
        let client = Client::connect(config).unwrap();
        client.player_play().unwrap();
        let frames = client_support::take_frames(&client, 1, Duration::from_secs(60));
        assert!(
            rebuilt.contains_key(&frames[0].jpeg[..]),
            "{name}: the client gets the frames unchanged"
        );
        let _ = client.teardown();
        server.shutdown();
        let _ = std::fs::remove_dir_all(dir);
    }
}
