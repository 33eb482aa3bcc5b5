#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The publisher's statistics against a third-party recording server, GStreamer's rtsp-server
//! in record mode (`tests/peers/gst_record_server.py`): frames sent and refused (by reason)
//! are counted, and the receiver reports GStreamer sends back (RTCP, over the interleaved
//! channel or the UDP RTCP port) show up with what they say.

mod client_support;

use std::time::Duration;

use client_support::gst;
use client_support::gst_record::GstRecordServer;
use client_support::{jpeg, wait_until};
use rtsp_core::client::{
    PublishError, Publisher, PublisherConfig, PublisherStats, TransportPreference,
};

/// GStreamer reports every 5 s or so (RFC 3550's minimum, randomized); the first may come
/// later on a loaded machine.
const REPORT_DEADLINE: Duration = Duration::from_secs(30);

fn publish_until_reported(transport: TransportPreference) -> PublisherStats {
    let server = GstRecordServer::start(None);
    let mut config = PublisherConfig::url(server.url());
    config.transport = transport;
    let publisher = Publisher::connect(config).unwrap();
    let before = publisher.stats();
    assert_eq!(before.receiver_reports, 0);
    assert_eq!(before.report_fraction_lost, -1.0, "{before:?}");

    // Refusals: counted by reason, nothing sent.
    assert!(matches!(
        publisher.send(b"not a jpeg", None),
        Err(PublishError::Frame(_))
    ));
    let frame = jpeg(320, 240, 1);
    assert!(matches!(
        publisher.send(&frame[..frame.len() / 2], None),
        Err(PublishError::Frame(_))
    ));
    let refused = publisher.stats();
    assert_eq!(
        (
            refused.frames_refused_not_jpeg,
            refused.frames_refused_unsupported,
            refused.frames_sent,
            refused.packets_sent
        ),
        (1, 1, 0, 0),
        "{refused:?}"
    );

    // 20 fps until GStreamer's first receiver report about the stream arrived.
    let mut sent = 0u64;
    let reported = wait_until(REPORT_DEADLINE, || {
        publisher
            .send(
                &jpeg(320, 240, sent as u32),
                Some(Duration::from_millis(50) * sent as u32),
            )
            .unwrap();
        sent += 1;
        std::thread::sleep(Duration::from_millis(50));
        publisher.stats().receiver_reports > 0
    });
    let stats = publisher.stats();
    assert!(reported, "no receiver report from GStreamer: {stats:?}");
    assert_eq!(stats.frames_sent, sent, "{stats:?}");
    assert!(stats.packets_sent >= sent, "{stats:?}");
    assert!(stats.bytes_sent > stats.packets_sent, "{stats:?}");
    assert_eq!(
        stats.counters().frames_sent,
        publisher.counters().frames_sent
    );
    publisher.close().unwrap();
    // Still readable after close.
    assert_eq!(publisher.stats().frames_sent, sent);
    stats
}

/// On loopback nothing is lost; the jitter is what GStreamer measured of our sending.
fn check_report(stats: &PublisherStats) {
    assert!(
        (0.0..=1.0).contains(&stats.report_fraction_lost),
        "{stats:?}"
    );
    assert!(stats.report_jitter_ms >= 0.0, "{stats:?}");
    assert!(stats.report_packets_lost <= stats.packets_sent, "{stats:?}");
}

#[test]
fn counts_and_reads_gstreamers_reports_over_tcp() {
    if gst::missing() {
        return;
    }
    check_report(&publish_until_reported(TransportPreference::Tcp));
}

#[test]
fn counts_and_reads_gstreamers_reports_over_udp() {
    if gst::missing() {
        return;
    }
    check_report(&publish_until_reported(TransportPreference::Udp));
}
