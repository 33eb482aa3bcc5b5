#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! PLAY with a range (RFC 2326 10.5 and 12.29), as openRTSP's `-d` and GStreamer's seeks send
//! it: `npt=a-b`, `npt=-b`, `npt=now-`.
//!
//! 10.5: "The PLAY request positions the normal play time to the beginning of the range
//! specified and delivers stream data until the end of the range is reached." "After playing
//! the desired range, the presentation is automatically paused, as if a PAUSE request had been
//! issued." 12.29: "Ranges are half-open intervals, including the lower point, but excluding the
//! upper point", and "The Range response header indicates what range of time is actually being
//! played".

mod common;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use common::{frame_index, frames_of, rtp, udp_pair, udp_transport, Rtsp, Server};

fn is_bye(packet: &[u8]) -> bool {
    rtsp_core::rtp::rtcp::Compound::parse(packet).is_ok_and(|c| {
        c.iter()
            .any(|p| matches!(p, rtsp_core::rtp::rtcp::RtcpPacket::Goodbye(_)))
    })
}

/// RTP packets received until an RTCP BYE arrives or `limit` passes, and whether it did.
fn until_bye(rtp: &UdpSocket, rtcp: &UdpSocket, limit: Duration) -> (Vec<Vec<u8>>, bool) {
    rtp.set_read_timeout(Some(Duration::from_millis(10)))
        .unwrap();
    rtcp.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + limit;
    let mut packets = Vec::new();
    let mut buf = vec![0u8; 65536];
    let mut bye = false;
    while !bye && Instant::now() < deadline {
        if let Ok(n) = rtp.recv(&mut buf) {
            packets.push(buf[..n].to_vec());
        }
        while let Ok(n) = rtcp.recv(&mut buf) {
            bye |= is_bye(&buf[..n]);
        }
    }
    // The BYE leaves after the last frame on the same path: what was sent before it is queued.
    rtp.set_nonblocking(true).unwrap();
    while let Ok(n) = rtp.recv(&mut buf) {
        packets.push(buf[..n].to_vec());
    }
    rtp.set_nonblocking(false).unwrap();
    (packets, bye)
}

/// The frame indices received, and whether they run without a gap from `first` to `last`.
fn span(frames: &[(usize, u32)]) -> (Option<usize>, Option<usize>, usize) {
    (
        frames.first().map(|f| f.0),
        frames.last().map(|f| f.0),
        frames.len(),
    )
}

/// What `openRTSP -d 3 rtsp://.../movie.Mjpeg` sends: `Range: npt=0.000-3.000`. Three seconds
/// at 20 fps are frames 0 to 59; then an RTCP BYE, and the session is READY at 3.000, where a
/// PLAY without Range resumes.
#[test]
fn openrtsp_duration_plays_only_the_range() {
    let server = Server::start(&[]);
    let index = frame_index();
    let mut c = Rtsp::connect(server.addr);
    assert_eq!(
        c.request("DESCRIBE", &server.url("movie.Mjpeg"), &[])
            .status,
        200
    );
    let (rtp_sock, rtcp_sock) = udp_pair();
    let r = c.request(
        "SETUP",
        &server.url("movie.Mjpeg/track1"),
        &[("Transport", &udp_transport(&rtp_sock))],
    );
    let session = r.session();
    let s = ("Session", session.as_str());
    let r = c.request(
        "PLAY",
        &server.url("movie.Mjpeg/"),
        &[s, ("Range", "npt=0.000-3.000")],
    );
    assert_eq!(r.status, 200);
    let reply_range = r.header("Range").map(str::to_owned);
    let (packets, bye) = until_bye(&rtp_sock, &rtcp_sock, Duration::from_secs(6));
    let frames = frames_of(&packets, &index);
    // A stall of the loaded machine may skip a frame (never send one late or twice).
    let (first, last, count) = span(&frames);
    assert!(
        reply_range.as_deref() == Some("npt=0.000-3.000")
            && first == Some(0)
            && last == Some(59)
            && (59..=60).contains(&count)
            && bye,
        "reply Range {reply_range:?}; received frames {first:?}..={last:?} ({count}) in up to 6 s; BYE {bye}"
    );
    // The RTP timestamps span the range: 59 frame intervals of 4500 ticks.
    let ts = |p: &Vec<u8>| rtp(p).ts;
    assert_eq!(
        ts(packets.last().unwrap()).wrapping_sub(ts(&packets[0])),
        59 * 4500
    );
    // READY at 3.000: a PLAY without Range resumes there, to the end of the file.
    let r = c.request("PLAY", &server.url("movie.Mjpeg/"), &[s]);
    assert_eq!(
        (r.status, r.header("Range")),
        (200, Some("npt=3.000-25.000"))
    );
    let more: Vec<Vec<u8>> = common::recv_for(&rtp_sock, Duration::from_millis(500), 10_000)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    assert_eq!(frames_of(&more, &index).first().map(|f| f.0), Some(60));
    assert_eq!(
        c.request("TEARDOWN", &server.url("movie.Mjpeg/"), &[s])
            .status,
        200
    );
}

/// `$` frames collected until an RTCP BYE arrives on channel 1 (or `limit` passes): the RTP
/// packets of channel 0, and whether the BYE came.
fn interleaved_until_bye(c: &mut Rtsp, limit: Duration) -> (Vec<Vec<u8>>, bool) {
    let deadline = Instant::now() + limit;
    let mut bye = false;
    while !bye && Instant::now() < deadline {
        c.collect_interleaved(Duration::from_millis(100));
        bye = c.interleaved.iter().any(|(ch, p)| *ch == 1 && is_bye(p));
    }
    let packets = c
        .interleaved
        .drain(..)
        .filter(|(ch, _)| *ch == 0)
        .map(|(_, p)| p)
        .collect();
    (packets, bye)
}

/// `npt=a-b` from the middle, then `npt=-b` (from where the session is), then `npt=now-`,
/// over TCP interleaving; ranges that hold no frame are 457.
#[test]
fn middle_ranges_over_tcp() {
    let server = Server::start(&[]);
    let index = frame_index();
    let mut c = Rtsp::connect(server.addr);
    let session = common::setup_interleaved(&mut c, &server, "movie.Mjpeg").session();
    let s = ("Session", session.as_str());
    let url = server.url("movie.Mjpeg/");

    // [10, 11.5): frames 200 to 229.
    let r = c.request("PLAY", &url, &[s, ("Range", "npt=10-11.5")]);
    let reply_range = r.header("Range").map(str::to_owned);
    let (packets, bye) = interleaved_until_bye(&mut c, Duration::from_secs(4));
    let (first, last, count) = span(&frames_of(&packets, &index));
    assert!(
        reply_range.as_deref() == Some("npt=10.000-11.500")
            && (first, last) == (Some(200), Some(229))
            && (29..=30).contains(&count)
            && bye,
        "reply Range {reply_range:?}; frames {first:?}..={last:?} ({count}); BYE {bye}"
    );

    // npt=-12: from the pause point (11.5) to 12: frames 230 to 239.
    let r = c.request("PLAY", &url, &[s, ("Range", "npt=-12")]);
    assert_eq!(
        (r.status, r.header("Range")),
        (200, Some("npt=11.500-12.000"))
    );
    let (packets, bye) = interleaved_until_bye(&mut c, Duration::from_secs(3));
    let (first, last, _) = span(&frames_of(&packets, &index));
    assert_eq!((first, last, bye), (Some(230), Some(239), true));

    // Ranges holding no frame: empty, or ending before the current position.
    for range in ["npt=5-5", "npt=7-6", "npt=-11"] {
        assert_eq!(
            c.request("PLAY", &url, &[s, ("Range", range)]).status,
            457,
            "{range}"
        );
    }
    // 12.29: "If the Range header is given in a time format that is not understood, the
    // recipient should return "501 Not Implemented"".
    for range in ["smpte=0:00:10-", "clock=19961108T142300Z-"] {
        assert_eq!(
            c.request("PLAY", &url, &[s, ("Range", range)]).status,
            501,
            "{range}"
        );
    }

    // npt=now-: from the current position to the end.
    let r = c.request("PLAY", &url, &[s, ("Range", "npt=now-")]);
    assert_eq!(
        (r.status, r.header("Range")),
        (200, Some("npt=12.000-25.000"))
    );
    c.collect_interleaved(Duration::from_millis(300));
    let packets: Vec<Vec<u8>> = c
        .interleaved
        .drain(..)
        .filter(|(ch, _)| *ch == 0)
        .map(|(_, p)| p)
        .collect();
    assert_eq!(frames_of(&packets, &index).first().map(|f| f.0), Some(240));
    // An end past the end of the file plays to the end of the file, and says so.
    let r = c.request("PLAY", &url, &[s, ("Range", "npt=24-30")]);
    assert_eq!(
        (r.status, r.header("Range")),
        (200, Some("npt=24.000-25.000"))
    );
    assert_eq!(c.request("TEARDOWN", &url, &[s]).status, 200);
}
