#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A 3840x2160 MJPEG file from the project's server (in process, real sockets) over UDP, not
//! only interleaved: a frame is hundreds of datagrams, so this checks that the size handling
//! (`a=x-dimensions`, the ONVIF header extension) and the receive buffers hold up on the UDP
//! path. The project's client gets every frame it emits bit-exact; GStreamer's
//! `rtspsrc protocols=udp ! rtpjpegdepay ! jpegdec` decodes 3840x2160.
//!
//! Loss on a loaded machine is possible (the client asks for a 4 MiB receive buffer, the
//! kernel may grant less): the client drops damaged frames, so the tests assert that what
//! arrives is exact and that enough arrives, never that nothing was lost.

mod client_support;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use client_support::own_server;
use client_support::uhd::uhd_media;
use rtsp_core::client::{Client, ClientConfig, Event, TransportPreference};

/// Frames in the generated sample.
const FRAMES: usize = 8;

#[test]
fn client_receives_3840x2160_bit_exact_over_udp() {
    let (dir, source, rebuilt) = uhd_media("udp", FRAMES);
    let server = own_server::start(&dir, 0).unwrap();
    let url = format!("rtsp://127.0.0.1:{}/uhd.mjpeg", server.local_addr().port());
    let mut config = ClientConfig::url(&url);
    config.transport = TransportPreference::Udp;
    let client = Client::connect(config).unwrap();
    let description = client.describe().unwrap();
    assert!(description.text.contains("a=x-dimensions:3840,2160"));
    client.player_play().unwrap();
    let mut received = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
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
    eprintln!("source frames received over UDP: {indices:?}");
    assert!(indices.len() >= 2, "{indices:?}");
    assert!(indices.windows(2).all(|w| w[0] < w[1]), "{indices:?}");
    let shown = image::load_from_memory_with_format(&received[0].jpeg, image::ImageFormat::Jpeg)
        .unwrap()
        .to_rgb8();
    assert_eq!(shown.dimensions(), (3840, 2160));
    let original =
        image::load_from_memory_with_format(&source[indices[0]], image::ImageFormat::Jpeg)
            .unwrap()
            .to_rgb8();
    assert!(shown == original, "pixels differ");
    let _ = client.teardown();
    server.shutdown();
    let _ = std::fs::remove_dir_all(dir);
}

fn gst_launch_present() -> bool {
    Command::new("gst-launch-1.0")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn gstreamer_decodes_3840x2160_over_udp() {
    if client_support::peer_missing(gst_launch_present(), "gst-launch-1.0 (gstreamer1.0-tools)") {
        return;
    }
    let (dir, _, _) = uhd_media("gst_udp", FRAMES);
    let mut config = rtsp_core::server::runtime::Config::new(([127, 0, 0, 1], 0).into(), &dir);
    // Looping: GStreamer needs only one undamaged frame, whenever it gets one.
    config.looping = true;
    config.rtp_port_base = 44_000 + (std::process::id() % 8_000) as u16 * 2;
    let server = rtsp_core::server::runtime::Server::start(config).unwrap();
    let url = format!("rtsp://127.0.0.1:{}/uhd.mjpeg", server.local_addr().port());
    let mut child = Command::new("gst-launch-1.0")
        .args([
            "-v",
            "rtspsrc",
            &format!("location={url}"),
            "protocols=udp",
            "udp-buffer-size=4194304",
            "!",
            "rtpjpegdepay",
            "!",
            "jpegdec",
            "!",
            "identity",
            "eos-after=2",
            "!",
            "fakesink",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    server.shutdown();
    let _ = std::fs::remove_dir_all(dir);
    assert!(
        status.is_some_and(|s| s.success()),
        "gst-launch did not finish: {out}{err}"
    );
    let decoded = out.lines().any(|l| {
        l.contains("jpegdec")
            && l.contains("video/x-raw")
            && l.contains("width=(int)3840, height=(int)2160")
    });
    assert!(decoded, "{out}");
}
