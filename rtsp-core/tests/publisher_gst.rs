#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The publisher against a third-party recording server: GStreamer's rtsp-server in record mode
//! (`tests/peers/gst_record_server.py`), which depayloads and decodes what it receives. N frames
//! pushed must come out as N decoded frames of the right size, over TCP and UDP, with and
//! without credentials; frames RFC 2435 cannot carry are refused with the JPEG parser's error, or
//! re-encoded when the configuration asks.

mod client_support;

use std::time::Duration;

use client_support::gst;
use client_support::gst_record::GstRecordServer;
use client_support::{jpeg, wait_until};
use rtsp_core::client::{
    ClientError, PublishError, Publisher, PublisherConfig, TransportPreference,
};
use rtsp_core::jpeg::ParseError;

const FRAMES: usize = 20;
/// Generous: GStreamer's receive path holds frames for its jitter buffer, and CI is loaded.
const DECODE_DEADLINE: Duration = Duration::from_secs(20);

/// Pushes `FRAMES` frames of 320x240 at 20 fps with their timestamps and checks that GStreamer
/// decoded every one at that size.
fn publish_and_check(server: &GstRecordServer, config: PublisherConfig) {
    let publisher = Publisher::connect(config).unwrap();
    for i in 0..FRAMES {
        let frame = jpeg(320, 240, i as u32);
        publisher
            .send(&frame, Some(Duration::from_millis(50) * i as u32))
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }
    let counters = publisher.counters();
    assert_eq!(counters.frames_sent, FRAMES as u64);
    assert!(counters.packets_sent >= FRAMES as u64, "{counters:?}");
    let all = wait_until(DECODE_DEADLINE, || server.frames().len() >= FRAMES);
    let frames = server.frames();
    assert!(all, "GStreamer decoded {} of {FRAMES} frames", frames.len());
    assert_eq!(frames.len(), FRAMES, "more frames decoded than sent");
    assert!(frames.iter().all(|&f| f == (320, 240)), "{frames:?}");
    publisher.close().unwrap();
    // Closed: nothing more goes out.
    assert!(matches!(
        publisher.send(&jpeg(320, 240, 0), None),
        Err(PublishError::Client(ClientError::Shutdown))
    ));
}

fn config(url: String, transport: TransportPreference) -> PublisherConfig {
    let mut config = PublisherConfig::url(url);
    config.transport = transport;
    config
}

#[test]
fn publishes_to_gstreamer_over_tcp() {
    if gst::missing() {
        return;
    }
    let server = GstRecordServer::start(None);
    publish_and_check(&server, config(server.url(), TransportPreference::Tcp));
}

#[test]
fn publishes_to_gstreamer_over_udp() {
    if gst::missing() {
        return;
    }
    let server = GstRecordServer::start(None);
    publish_and_check(&server, config(server.url(), TransportPreference::Udp));
}

#[test]
fn publishes_with_credentials_from_the_url() {
    if gst::missing() {
        return;
    }
    let server = GstRecordServer::start(Some(("cam", "s3cret word")));
    let url = format!("rtsp://cam:s3cret%20word@127.0.0.1:{}/live", server.port);
    publish_and_check(&server, config(url, TransportPreference::Tcp));
}

#[test]
fn wrong_credentials_are_refused() {
    if gst::missing() {
        return;
    }
    let server = GstRecordServer::start(Some(("cam", "right")));
    let mut config = PublisherConfig::url(server.url());
    config.credentials = Some(rtsp_core::client::ClientCredentials {
        user: "cam".into(),
        password: "wrong".into(),
    });
    let err = Publisher::connect(config).unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Unauthorized {
                had_credentials: true,
                ..
            }
        ),
        "{err:?}"
    );
}

/// Sends `frame` every 50 ms until GStreamer decoded one (its parser releases a frame when the
/// next one begins, so a lone frame may never come out), at most for the decode deadline.
fn send_until_decoded(server: &GstRecordServer, publisher: &Publisher, frame: &[u8]) {
    let decoded = wait_until(DECODE_DEADLINE, || {
        publisher.send(frame, None).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        !server.frames().is_empty()
    });
    assert!(decoded, "GStreamer decoded none of the frames sent");
}

#[test]
fn keep_alive_runs_at_half_the_session_timeout() {
    if gst::missing() {
        return;
    }
    // The server announces `timeout=2`: the publisher keeps its session alive every second,
    // frames or not.
    let server = GstRecordServer::with_session_timeout(2);
    let publisher = Publisher::connect(config(server.url(), TransportPreference::Udp)).unwrap();
    let before = server.keepalives();
    // Five periods without a frame; at least two keep-alives must have come (generous: the
    // machine may be loaded).
    assert!(wait_until(Duration::from_secs(5), || server.keepalives() >= before + 2));
    send_until_decoded(&server, &publisher, &jpeg(160, 120, 2));
    publisher.close().unwrap();
}

/// A 4:4:4 JPEG: a real JPEG that RFC 2435 cannot describe.
fn jpeg_444(w: u16, h: u16) -> Vec<u8> {
    let rgb = vec![128u8; usize::from(w) * usize::from(h) * 3];
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 90);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_1_1);
    enc.encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

#[test]
fn frames_rfc_2435_cannot_carry_are_refused_and_the_stream_goes_on() {
    if gst::missing() {
        return;
    }
    let server = GstRecordServer::start(None);
    let publisher = Publisher::connect(config(server.url(), TransportPreference::Tcp)).unwrap();
    let not_jpeg = publisher.send(b"GIF89a, not a JPEG at all", None);
    assert!(
        matches!(not_jpeg, Err(PublishError::Frame(ParseError::NotJpeg))),
        "{not_jpeg:?}"
    );
    let sampling = publisher.send(&jpeg_444(64, 48), None);
    assert!(
        matches!(
            sampling,
            Err(PublishError::Frame(ParseError::UnsupportedSampling { .. }))
        ),
        "{sampling:?}"
    );
    assert_eq!(publisher.counters().frames_sent, 0);
    // The session is unharmed: a good frame still arrives.
    send_until_decoded(&server, &publisher, &jpeg(160, 120, 1));
    assert!(
        server.frames().iter().all(|&f| f == (160, 120)),
        "{:?}",
        server.frames()
    );
    publisher.close().unwrap();
}

#[test]
fn frames_rfc_2435_cannot_carry_are_reencoded_when_asked() {
    if gst::missing() {
        return;
    }
    let server = GstRecordServer::start(None);
    let mut config = config(server.url(), TransportPreference::Tcp);
    config.reencode_quality = Some(80);
    let publisher = Publisher::connect(config).unwrap();
    send_until_decoded(&server, &publisher, &jpeg_444(64, 48));
    // Not an image at all: re-encoding cannot help, the error says why.
    let garbage = publisher.send(b"not an image", None);
    assert!(
        matches!(garbage, Err(PublishError::Reencode(_))),
        "{garbage:?}"
    );
    let counters = publisher.counters();
    assert!(counters.frames_sent > 0);
    assert_eq!(counters.frames_reencoded, counters.frames_sent);
    assert!(
        server.frames().iter().all(|&f| f == (64, 48)),
        "{:?}",
        server.frames()
    );
    publisher.close().unwrap();
}
