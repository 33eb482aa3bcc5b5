#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The project's client plays a 3840x2160 MJPEG file from the project's server (in process, real
//! sockets) bit-exact: frames above 2040 pixels travel with size fields 0 in the RFC 2435
//! header, `a=x-dimensions` in the SDP and the ONVIF header extension on each first packet.
//! The sample is made at run time with the test pattern (a 4K file is too large to check in).
//! Also against GStreamer's RTSP server, whose rtpjpegpay sends no extension: the client then
//! takes the size from the SDP's `a=x-dimensions`.

mod client_support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use client_support::own_server;
use rtsp_core::client::{Client, ClientConfig, Event, TransportPreference};
use rtsp_core::jpeg::ParsedJpeg;

/// Frames in the generated sample.
const FRAMES: usize = 8;

fn uhd_media(tag: &str) -> (PathBuf, Vec<Vec<u8>>, HashMap<Vec<u8>, usize>) {
    client_support::uhd::uhd_media(tag, FRAMES)
}

fn decode(jpeg: &[u8]) -> image::RgbImage {
    image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg)
        .unwrap()
        .to_rgb8()
}

/// Connects to `url` over TCP, checks that the description announces 3840x2160 and plays.
fn play_uhd(url: &str) -> Client {
    let mut config = ClientConfig::url(url);
    // Interleaved: a 4K frame is hundreds of packets, which a loaded machine's UDP buffers
    // may not hold; the size handling is the same on both transports.
    config.transport = TransportPreference::Tcp;
    let client = Client::connect(config).unwrap();
    let description = client.describe().unwrap();
    assert!(
        description.text.contains("a=x-dimensions:3840,2160"),
        "{}",
        description.text
    );
    client.player_play().unwrap();
    client
}

#[test]
fn client_receives_3840x2160_bit_exact_over_tcp() {
    let (dir, source, rebuilt) = uhd_media("tcp");
    let server = own_server::start(&dir, 0).unwrap();
    let client = play_uhd(&format!(
        "rtsp://127.0.0.1:{}/uhd.mjpeg",
        server.local_addr().port()
    ));
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
    // The server may skip a frame for a slow reader, but whatever arrives is exact and in order.
    let indices: Vec<usize> = received
        .iter()
        .map(|f| {
            *rebuilt
                .get(&f.jpeg[..])
                .expect("every frame is a source frame, bit-exact")
        })
        .collect();
    eprintln!("source frames received: {indices:?}");
    assert!(indices.len() >= FRAMES / 2, "{indices:?}");
    assert!(indices.windows(2).all(|w| w[0] < w[1]), "{indices:?}");
    assert_eq!(client.stats().frames_broken, 0);
    // Decoded, the received frame is the source frame pixel for pixel.
    let first = &received[0];
    let shown = decode(&first.jpeg);
    assert_eq!(shown.dimensions(), (3840, 2160));
    assert!(shown == decode(&source[indices[0]]), "pixels differ");
    client.teardown().unwrap();
    server.shutdown();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn client_takes_the_size_from_x_dimensions_of_gstreamers_server() {
    if client_support::gst::missing() {
        return;
    }
    let server = client_support::gst::GstServer::start_sized(40, true, 3840, 2160);
    let client = play_uhd(&server.url());
    let frames = client_support::take_frames(&client, 3, Duration::from_secs(60));
    for f in &frames {
        let rebuilt = ParsedJpeg::parse(&f.jpeg).unwrap();
        assert_eq!((rebuilt.width(), rebuilt.height()), (3840, 2160));
        assert_eq!(decode(&f.jpeg).dimensions(), (3840, 2160));
    }
    assert_eq!(client.stats().frames_broken, 0);
    let _ = client.teardown();
}
