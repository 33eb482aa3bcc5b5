#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The client's standard dialect against a third-party server: GStreamer's RTSP server
//! (gst-rtsp-server 1.22 from Debian, through python3-gi), serving
//! `videotestsrc ! jpegenc ! rtpjpegpay`, started by each test. Also the lossy relay in front of
//! it, to check the loss statistic and the UDP-to-TCP fallback.

mod client_support;

use client_support::take_frames;

use std::time::{Duration, Instant};

use client_support::gst::{self, GstServer};
use client_support::relay::LossyProxy;
use rtsp_core::client::{
    ActiveTransport, Client, ClientConfig, Event, Frame, State, TransportPreference,
};

fn decode(frame: &Frame) -> (u32, u32) {
    let img = image::load_from_memory_with_format(&frame.jpeg, image::ImageFormat::Jpeg)
        .unwrap_or_else(|e| panic!("frame {} does not decode: {e}", frame.number));
    (img.width(), img.height())
}

fn play_and_check(server: &GstServer, url: &str, transport: TransportPreference) -> Client {
    let _ = server;
    let mut config = ClientConfig::url(url);
    config.transport = transport;
    let client = Client::connect(config).unwrap();
    let description = client.describe().unwrap();
    assert_eq!(description.content_type, "application/sdp");
    assert!(description.text.contains("m=video"), "{}", description.text);
    client.player_play().unwrap();
    assert_eq!(client.state(), State::Playing);
    let frames = take_frames(&client, 20, Duration::from_secs(10));
    for f in &frames {
        assert_eq!(decode(f), (320, 240));
    }
    // Presentation times advance at 20 fps (90 kHz timestamps).
    let span = frames.last().unwrap().pts - frames.first().unwrap().pts;
    let frames_between = frames.last().unwrap().number - frames.first().unwrap().number;
    let expected = Duration::from_millis(50) * frames_between as u32;
    let diff = span.abs_diff(expected);
    assert!(diff < Duration::from_millis(5), "{span:?} vs {expected:?}");
    client
}

#[test]
fn gstreamer_over_udp() {
    if gst::missing() {
        return;
    }
    let server = GstServer::start(400, false);
    let client = play_and_check(&server, &server.url(), TransportPreference::Udp);
    assert!(matches!(
        client.transport(),
        Some(ActiveTransport::Udp { .. })
    ));
    let stats = client.stats();
    assert_eq!(stats.packets_lost, 0);
    assert_eq!(stats.frames_broken, 0);
    assert!(
        stats.packets_received > stats.frames_complete,
        "RFC 2435 fragments"
    );
    assert!(stats.first_frame_latency().is_some());
    assert!(
        stats.jitter_ms >= 0.0 && stats.jitter_ms < 50.0,
        "{}",
        stats.jitter_ms
    );
    client.pause().unwrap();
    assert_eq!(client.state(), State::Ready);
    client.play().unwrap();
    take_frames(&client, 3, Duration::from_secs(5));
    client.teardown().unwrap();
    assert_eq!(client.state(), State::Init);
}

#[test]
fn gstreamer_over_tcp_interleaved() {
    if gst::missing() {
        return;
    }
    let server = GstServer::start(400, false);
    let client = play_and_check(&server, &server.url(), TransportPreference::Tcp);
    assert!(matches!(
        client.transport(),
        Some(ActiveTransport::Tcp { channel: 0 })
    ));
    assert_eq!(client.stats().packets_lost, 0);
    client.teardown().unwrap();
}

#[test]
fn tcp_only_server_is_followed_after_461() {
    if gst::missing() {
        return;
    }
    let server = GstServer::start(400, true);
    let client = play_and_check(&server, &server.url(), TransportPreference::Auto);
    assert!(matches!(
        client.transport(),
        Some(ActiveTransport::Tcp { .. })
    ));
}

#[test]
fn falls_back_to_tcp_when_no_udp_arrives() {
    if gst::missing() {
        return;
    }
    let server = GstServer::start(1000, false);
    // The relay discards every UDP packet, as a firewall would.
    let relay = LossyProxy::start(([127, 0, 0, 1], server.port).into(), 1000);
    let url = format!("rtsp://127.0.0.1:{}/test", relay.port);
    let mut config = ClientConfig::url(url);
    config.udp_fallback_after = Duration::from_millis(1500);
    let client = Client::connect(config).unwrap();
    client.player_play().unwrap();
    assert!(matches!(
        client.transport(),
        Some(ActiveTransport::Udp { .. })
    ));
    let frames = take_frames(&client, 10, Duration::from_secs(10));
    assert!(matches!(
        client.transport(),
        Some(ActiveTransport::Tcp { .. })
    ));
    assert!(relay.log.seen.load(std::sync::atomic::Ordering::SeqCst) > 0);
    for f in &frames {
        assert_eq!(decode(f), (320, 240));
    }
}

#[test]
fn end_of_stream_from_rtcp_bye() {
    if gst::missing() {
        return;
    }
    let server = GstServer::start(30, false);
    let mut config = ClientConfig::url(server.url());
    config.transport = TransportPreference::Udp;
    let client = Client::connect(config).unwrap();
    client.player_play().unwrap();
    let mut frames = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match client.next_event(left) {
            Some(Event::Frame(_)) => frames += 1,
            Some(Event::EndOfStream) => break,
            Some(_) => {}
            None => panic!("no end of stream after {frames} frames"),
        }
    }
    assert!(frames >= 25, "{frames}");
}

#[test]
fn loss_statistic_matches_the_relay_and_no_broken_frame_is_delivered() {
    if gst::missing() {
        return;
    }
    let server = GstServer::start(2000, false);
    let relay = LossyProxy::start(([127, 0, 0, 1], server.port).into(), 50);
    let mut config = ClientConfig::url(format!("rtsp://127.0.0.1:{}/test", relay.port));
    config.transport = TransportPreference::Udp;
    let client = Client::connect(config).unwrap();
    client.player_play().unwrap();
    let deadline = Instant::now() + Duration::from_secs(4);
    let mut delivered = 0;
    while Instant::now() < deadline {
        if let Some(Event::Frame(f)) = client.next_event(Duration::from_millis(100)) {
            assert_eq!(decode(&f), (320, 240));
            delivered += 1;
        }
    }
    client.pause().unwrap();
    // Packets in flight at the pause still land: wait until they are counted.
    client_support::wait_until(Duration::from_secs(10), || {
        client.stats().packets_lost == relay.visible_drops()
    });
    let stats = client.stats();
    let dropped = relay.visible_drops();
    assert!(dropped >= 10, "the relay dropped only {dropped}");
    assert_eq!(stats.packets_lost, dropped, "{stats:?}");
    assert!(stats.frames_broken > 0);
    // Each lost packet breaks at most one frame, and a broken frame is counted once.
    assert!(stats.frames_broken <= stats.packets_lost, "{stats:?}");
    assert!(delivered > 0);
    eprintln!(
        "RFC 2435 loss over UDP: relay dropped {dropped} of {} packets; client counted {} lost \
         ({:.2}%), {} frames complete, {} broken (dropped, never delivered)",
        stats.packets_expected,
        stats.packets_lost,
        stats.loss_rate * 100.0,
        stats.frames_complete,
        stats.frames_broken
    );
}

/// A CA and a leaf for 127.0.0.1 signed by it, as PEM files: (CA, leaf, leaf key).
fn tls_identity(tag: &str) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let dir = std::env::temp_dir().join(format!("client_gst_tls_{tag}_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "rtsp-core test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("leaf.pem"),
        dir.join("leaf.key"),
    );
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, leaf.pem()).unwrap();
    std::fs::write(&paths.2, leaf_key.serialize_pem()).unwrap();
    paths
}

/// GStreamer's RTSP server over TLS (GstRTSPAuth's certificate): the client plays it with the
/// CA file, over TCP interleaved and UDP, and refuses it with the system's roots.
#[test]
fn gstreamer_over_rtsps() {
    if gst::missing() {
        return;
    }
    let (ca, cert, key) = tls_identity("play");
    let server = GstServer::start_tls(2000, &cert, &key);
    assert!(server.url().starts_with("rtsps://"));
    let err = Client::connect(ClientConfig::url(server.url())).unwrap_err();
    assert!(
        matches!(err, rtsp_core::client::ClientError::UntrustedCertificate(_)),
        "{err:?}"
    );
    for transport in [TransportPreference::Tcp, TransportPreference::Udp] {
        let mut config = ClientConfig::url(server.url()).ca_file(&ca);
        config.transport = transport;
        let client = Client::connect(config).unwrap();
        client.player_play().unwrap();
        let frames = take_frames(&client, 10, Duration::from_secs(20));
        for f in &frames {
            assert_eq!(decode(f), (320, 240));
        }
        client.teardown().unwrap();
    }
}
