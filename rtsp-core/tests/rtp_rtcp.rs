#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! RTCP compound packets as real peers build them, assembled byte by byte here (not with our
//! writer), and the server/client report flows.

use std::time::Duration;

use rtsp_core::rtp::ntp::NtpTimestamp;
use rtsp_core::rtp::rtcp::*;
use rtsp_core::rtp::{ReceiverStats, SenderStats};

/// An RR with one report block followed by an SDES CNAME, laid out the way ffmpeg's
/// `rtp_check_and_send_back_rr` writes it: SDES length `(7 + len + 3) / 4`, SSRC, CNAME item,
/// one END octet, then zeros up to the word boundary.
fn ffmpeg_receiver_report(ssrc: u32, source: u32, hostname: &[u8]) -> Vec<u8> {
    let mut p = vec![0x81, 201, 0, 7];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&source.to_be_bytes());
    p.extend_from_slice(&[0x19, 0x00, 0x00, 0x03]); // fraction 25/256, 3 lost
    p.extend_from_slice(&0x0001_0010u32.to_be_bytes()); // cycles 1, highest 16
    p.extend_from_slice(&77u32.to_be_bytes()); // jitter
    p.extend_from_slice(&0xabcd_0000u32.to_be_bytes()); // LSR
    p.extend_from_slice(&0x0000_8000u32.to_be_bytes()); // DLSR 0.5 s
    let len = hostname.len();
    p.extend_from_slice(&[0x81, 202]);
    p.extend_from_slice(&((7 + len).div_ceil(4) as u16).to_be_bytes());
    p.extend_from_slice(&(ssrc + 1).to_be_bytes());
    p.push(1);
    p.push(len as u8);
    p.extend_from_slice(hostname);
    p.push(0);
    let mut pad = (7 + len) % 4;
    while !pad.is_multiple_of(4) {
        p.push(0);
        pad += 1;
    }
    p
}

#[test]
fn ffmpeg_rr_with_sdes_for_every_hostname_length() {
    let names: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    for len in 0..=names.len() {
        let host = &names[..len];
        let bytes = ffmpeg_receiver_report(0x1111_2222, 0x3333_4444, host);
        assert_eq!(bytes.len() % 4, 0);
        let c = Compound::parse_strict(&bytes).unwrap_or_else(|e| panic!("len {len}: {e}"));
        assert!(c.issues().is_empty(), "len {len}: {:?}", c.issues());
        let packets: Vec<_> = c.iter().collect();
        assert_eq!(packets.len(), 2);
        let RtcpPacket::ReceiverReport(rr) = packets[0] else {
            panic!("first is not RR")
        };
        assert_eq!(rr.ssrc, 0x1111_2222);
        let block = rr.report_blocks.find(0x3333_4444).unwrap();
        assert_eq!(
            block,
            ReportBlock {
                ssrc: 0x3333_4444,
                fraction_lost: 25,
                cumulative_lost: 3,
                extended_highest_seq: 0x0001_0010,
                jitter: 77,
                last_sr: 0xabcd_0000,
                delay_since_last_sr: 0x8000,
            }
        );
        let RtcpPacket::SourceDescription(sdes) = packets[1] else {
            panic!("second is not SDES")
        };
        if len > 0 {
            assert_eq!(sdes.cname_of(0x1111_2223), Some(host));
        }

        // Our writer produces the same bytes.
        let mut ours = Vec::new();
        write_compound(&packets, &mut ours).unwrap();
        assert_eq!(ours, bytes, "len {len}");
    }
}

/// A GStreamer-style compound: RR without blocks (before any data arrived), then SDES with
/// CNAME and TOOL, hand-assembled.
#[test]
fn gstreamer_style_empty_rr_with_cname_and_tool() {
    let mut b = vec![0x80, 201, 0, 1, 0x7e, 0x57, 0x00, 0x01];
    // SDES: SSRC, CNAME "user@host" (9), TOOL "GStreamer" (9): 4 + 11 + 11 + END = 27 -> 28.
    b.extend_from_slice(&[0x81, 202, 0, 7, 0x7e, 0x57, 0x00, 0x01]);
    b.extend_from_slice(&[1, 9]);
    b.extend_from_slice(b"user@host");
    b.extend_from_slice(&[6, 9]);
    b.extend_from_slice(b"GStreamer");
    b.extend_from_slice(&[0, 0]); // END, then one octet of padding
    assert_eq!(b.len(), 8 + 4 + 28);
    let c = Compound::parse_strict(&b).unwrap();
    let packets: Vec<_> = c.iter().collect();
    assert_eq!(
        packets[0],
        RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: 0x7e57_0001,
            ..Default::default()
        })
    );
    let RtcpPacket::SourceDescription(sdes) = packets[1] else {
        panic!()
    };
    let chunk = sdes.chunks.iter().next().unwrap();
    let items: Vec<_> = chunk
        .items
        .iter()
        .map(|i| (i.kind, i.text().unwrap()))
        .collect();
    assert_eq!(
        items,
        [
            (SdesItemType::CNAME, "user@host"),
            (SdesItemType::TOOL, "GStreamer")
        ]
    );
}

/// The server's periodic report and its end-of-stream goodbye.
#[test]
fn server_sr_sdes_bye_and_client_reading_it() {
    let server_ssrc = 0x0bad_cafe;
    let mut tx = SenderStats::new(90_000);
    for frame in 0..100u32 {
        for frag in 0..5u64 {
            let t = Duration::from_millis(u64::from(frame) * 50 + frag);
            tx.on_packet_sent(1000 + frame * 4500, 1400, t);
        }
    }
    let now = Duration::from_millis(99 * 50 + 20);
    let wall = NtpTimestamp::from_unix(Duration::from_secs(1_700_000_000));
    let info = tx.sender_info(now, wall).unwrap();
    let mut out = Vec::new();
    write_compound(
        &[
            SenderReport {
                ssrc: server_ssrc,
                sender_info: info,
                ..Default::default()
            }
            .into(),
            SourceDescription::cname(server_ssrc, b"rtsp@server").into(),
            Goodbye::single(server_ssrc, Some(b"end of stream")).into(),
        ],
        &mut out,
    )
    .unwrap();

    // Client side.
    let c = Compound::parse_strict(&out).unwrap();
    assert!(c.issues().is_empty());
    let sr = c.sender_report().unwrap();
    assert_eq!(sr.sender_info.packet_count, 500);
    assert_eq!(sr.sender_info.octet_count, 700_000);
    // 20 ms after the fifth fragment's send time, which was 4 ms after the frame's first.
    assert_eq!(sr.sender_info.rtp_timestamp, 1000 + 99 * 4500 + 16 * 90);
    let mut rx = ReceiverStats::new(90_000);
    for seq in 0..10u16 {
        rx.on_rtp(
            server_ssrc,
            seq,
            u32::from(seq) * 4500,
            1400,
            Duration::from_millis(u64::from(seq) * 50),
        );
    }
    rx.on_sender_report_packet(&sr, Duration::from_millis(500));
    let block = rx.report_block(Duration::from_millis(750)).unwrap();
    assert_eq!(block.last_sr, wall.middle32());
    assert_eq!(block.delay_since_last_sr, 65_536 / 4);
    let bye = c.iter().find_map(|p| match p {
        RtcpPacket::Goodbye(b) => Some(b),
        _ => None,
    });
    assert_eq!(bye.unwrap().reason_text(), Some("end of stream"));

    // The client's answer: RR + SDES, parsed back by the server.
    let mut rr = Vec::new();
    write_compound(
        &[
            ReceiverReport {
                ssrc: 0x1234,
                report_blocks: ReportBlocks::single(block),
                profile_extension: &[],
            }
            .into(),
            SourceDescription::cname(0x1234, b"client@host").into(),
        ],
        &mut rr,
    )
    .unwrap();
    let back = Compound::parse_strict(&rr).unwrap();
    let Some(RtcpPacket::ReceiverReport(got)) = back.iter().next() else {
        panic!()
    };
    let got_block = got.report_blocks.find(server_ssrc).unwrap();
    // Round trip as the server computes it: arrival 0.3 s after the SR was sent, of which the
    // client held the SR for 0.25 s.
    let arrival = NtpTimestamp::from_unix(Duration::from_millis(1_700_000_000_300));
    let rtt = got_block.round_trip_time(arrival).unwrap();
    assert!((rtt.as_secs_f64() - 0.05).abs() < 0.001, "{rtt:?}");
}

#[test]
fn structurally_broken_compounds_are_errors() {
    let good = ffmpeg_receiver_report(1, 2, b"host");
    // Every truncation of a valid compound either fails cleanly or is a shorter valid one.
    for cut in 0..good.len() {
        if let Ok(c) = Compound::parse(&good[..cut]) {
            assert_eq!(cut, 32, "only the RR alone is valid (cut {cut}, {c:?})");
        }
    }
    // Length field pointing past the end.
    let mut long = good.clone();
    long[3] = 12;
    assert_eq!(
        Compound::parse(&long),
        Err(RtcpParseError::LengthPastEnd {
            declared: 52,
            available: 48
        })
    );
    // Length field one word too long: the RR swallows the SDES header and what follows is
    // not RTCP.
    long[3] = 8;
    assert_eq!(Compound::parse(&long), Err(RtcpParseError::BadVersion(0)));
    // RR with RC=2 but room for one block: the second block would run into the SDES.
    let mut rc = good.clone();
    rc[0] = 0x82;
    assert_eq!(
        Compound::parse(&rc),
        Err(RtcpParseError::Truncated { packet_type: 201 })
    );
}

/// The fuzz seeds are valid inputs, so fuzzing starts past the parsers' early exits.
#[test]
fn fuzz_seeds_parse() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let read = |dir: &str| {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(files.len() >= 3, "{dir}: {files:?}");
        files.into_iter().map(|p| (std::fs::read(&p).unwrap(), p))
    };
    for (bytes, path) in read("rtcp") {
        let c = Compound::parse(&bytes).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        assert!(!c.is_empty());
    }
    for (bytes, path) in read("rtp_packet") {
        rtsp_core::rtp::RtpPacketRef::parse(&bytes).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    }
}
