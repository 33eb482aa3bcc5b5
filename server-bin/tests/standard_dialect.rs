#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! RFC 2326 / 3550 / 2435 behaviour: every method, every error code, the RTP/JPEG packets,
//! RTCP, seeking, TCP interleaving.

mod common;

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use common::{
    frame_index, frames_of, recv_for, rtp, rtp_payload, server_ports, udp_pair, udp_transport,
    Rtsp, Server,
};

fn setup_udp(c: &mut Rtsp, server: &Server, path: &str) -> (String, UdpSocket, UdpSocket, String) {
    let (rtp_sock, rtcp_sock) = udp_pair();
    let r = c.request(
        "SETUP",
        &server.url(&format!("{path}/track1")),
        &[("Transport", &udp_transport(&rtp_sock))],
    );
    assert_eq!(r.status, 200, "{r:?}");
    let transport = r.header("Transport").unwrap().to_owned();
    (r.session(), rtp_sock, rtcp_sock, transport)
}

#[test]
fn options_lists_every_method_served() {
    let server = Server::start(&[]);
    let mut c = Rtsp::connect(server.addr);
    let r = c.request("OPTIONS", &server.url("movie.Mjpeg"), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("CSeq"), Some("1"));
    let public = r.header("Public").unwrap();
    for m in [
        "OPTIONS",
        "DESCRIBE",
        "SETUP",
        "PLAY",
        "PAUSE",
        "TEARDOWN",
        "GET_PARAMETER",
        "SET_PARAMETER",
        "FORWARD",
        "BACKWARD",
        "RESTART",
    ] {
        assert!(public.split(", ").any(|p| p == m), "{m} in {public}");
    }
    // `OPTIONS *` (ffmpeg's keep-alive form) is fine too; CSeq is echoed whatever it is.
    c.send_raw(b"OPTIONS * RTSP/1.0\r\nCSeq: 77\r\n\r\n");
    let r = c.read_reply();
    assert_eq!((r.status, r.header("CSeq")), (200, Some("77")));
}

#[test]
fn describe_gives_sdp_and_content_base() {
    let server = Server::start(&[]);
    let mut c = Rtsp::connect(server.addr);
    let r = c.request(
        "DESCRIBE",
        &server.url("movie.Mjpeg"),
        &[("Accept", "application/sdp")],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("application/sdp"));
    assert_eq!(
        r.header("Content-Base"),
        Some(server.url("movie.Mjpeg/").as_str())
    );
    let sdp = String::from_utf8(r.body.clone()).unwrap();
    assert_eq!(
        r.header("Content-Length")
            .unwrap()
            .parse::<usize>()
            .unwrap(),
        r.body.len()
    );
    for line in [
        "v=0",
        "m=video 0 RTP/AVP 26",
        "a=rtpmap:26 JPEG/90000",
        "a=control:track1",
        "a=range:npt=0-25.000",
        "a=framerate:20",
        "a=x-dimensions:640,480",
    ] {
        assert!(sdp.lines().any(|l| l == line), "{line} in\n{sdp}");
    }
    let r = c.request("DESCRIBE", &server.url("testsrc"), &[]);
    assert_eq!(r.status, 200);
    assert!(String::from_utf8(r.body)
        .unwrap()
        .contains("a=range:npt=now-"));
}

#[test]
fn unknown_and_forbidden_paths_are_404() {
    // A media root with a symlink inside it pointing outside, and one pointing inside.
    let dir = std::env::temp_dir().join(format!("rtsp-server-test-{}", std::process::id()));
    let root = dir.join("root");
    std::fs::create_dir_all(&root).unwrap();
    let outside = dir.join("secret.Mjpeg");
    std::fs::copy(common::media_dir().join("movie.Mjpeg"), &outside).unwrap();
    std::fs::copy(
        common::media_dir().join("movie.Mjpeg"),
        root.join("inside.mjpg"),
    )
    .unwrap();
    let _ = std::os::unix::fs::symlink(&outside, root.join("escape.Mjpeg"));
    let _ = std::os::unix::fs::symlink(root.join("inside.mjpg"), root.join("alias.mjpeg"));
    std::fs::write(root.join("notes.txt"), b"not media").unwrap();
    let server = Server::start_in(&root, &[]);
    let mut c = Rtsp::connect(server.addr);
    for (path, want) in [
        ("inside.mjpg", 200),
        ("alias.mjpeg", 200),
        ("escape.Mjpeg", 404),
        ("nothere.Mjpeg", 404),
        ("notes.txt", 404),
        ("../secret.Mjpeg", 404),
        ("%2e%2e/secret.Mjpeg", 404),
        ("sub/../../secret.Mjpeg", 404),
    ] {
        let r = c.request("DESCRIBE", &server.url(path), &[]);
        assert_eq!(r.status, want, "{path}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn udp_session_sends_rfc2435_and_rtcp() {
    let server = Server::start(&[]);
    let index = frame_index();
    let mut c = Rtsp::connect(server.addr);
    let (session, rtp_sock, rtcp_sock, transport) = setup_udp(&mut c, &server, "movie.Mjpeg");
    let client_port = rtp_sock.local_addr().unwrap().port();
    assert!(transport.starts_with("RTP/AVP;unicast;"), "{transport}");
    assert!(transport.contains(&format!("client_port={}-{}", client_port, client_port + 1)));
    let (c_rtp, c_rtcp) = server_ports(&transport);
    assert_eq!((c_rtp % 2, c_rtcp), (0, c_rtp + 1));
    let ssrc = u32::from_str_radix(
        transport
            .split(';')
            .find_map(|p| p.strip_prefix("ssrc="))
            .unwrap(),
        16,
    )
    .unwrap();

    let r = c.request(
        "PLAY",
        &server.url("movie.Mjpeg/"),
        &[("Session", &session), ("Range", "npt=0.000-")],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.session(), session);
    assert_eq!(r.header("Range"), Some("npt=0.000-25.000"));
    let info = r.header("RTP-Info").unwrap().to_owned();
    assert!(
        info.starts_with(&format!("url={}", server.url("movie.Mjpeg/track1"))),
        "{info}"
    );
    let info_seq: u16 = info
        .split(';')
        .find_map(|p| p.strip_prefix("seq="))
        .unwrap()
        .parse()
        .unwrap();
    let info_ts: u32 = info
        .split(';')
        .find_map(|p| p.strip_prefix("rtptime="))
        .unwrap()
        .parse()
        .unwrap();

    // ~1 s of packets, from the server's RTP port.
    let mut packets = Vec::new();
    let mut buf = vec![0u8; 2048];
    let deadline = std::time::Instant::now() + Duration::from_millis(1100);
    while std::time::Instant::now() < deadline {
        if let Ok((n, from)) = rtp_sock.recv_from(&mut buf) {
            assert_eq!(from, SocketAddr::from(([127, 0, 0, 1], c_rtp)));
            assert!(n <= 1500 - 28, "fits a 1500-byte MTU");
            packets.push(buf[..n].to_vec());
        }
    }
    assert!(packets.len() > 40, "{} packets", packets.len());
    let first = rtp(&packets[0]);
    assert_eq!(
        (first.seq, first.ts),
        (info_seq, info_ts),
        "RTP-Info matches the first packet"
    );
    for (i, p) in packets.iter().enumerate() {
        let h = rtp(p);
        assert_eq!(h.pt, 26);
        assert_eq!(h.ssrc, ssrc);
        assert_eq!(
            h.seq,
            first.seq.wrapping_add(i as u16),
            "consecutive sequence numbers"
        );
        let payload = rtp_payload(p);
        assert_eq!(payload[0], 0, "type-specific 0");
        assert!(payload[4] == 0 || payload[4] == 1, "RFC 2435 type 0/1");
        assert_eq!(payload[5], 255, "Q=255, tables in band");
        assert_eq!((payload[6], payload[7]), (80, 60), "640x480 / 8");
        if let Some(next) = packets.get(i + 1) {
            let nh = rtp(next);
            if h.marker {
                assert_eq!(nh.ts.wrapping_sub(h.ts), 4500, "one frame later at 90 kHz");
            } else {
                assert_eq!(nh.ts, h.ts, "same timestamp on every fragment");
            }
        }
    }
    let frames = frames_of(&packets, &index);
    assert!(frames.len() >= 18, "{} frames", frames.len());
    for (n, (i, _)) in frames.iter().enumerate() {
        assert_eq!(*i, n, "frames in order from the start, bit-exact");
    }

    // RTCP SR (with SDES) from C+1 within the first seconds.
    let mut got_sr = false;
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while !got_sr && std::time::Instant::now() < deadline {
        if let Ok((n, from)) = rtcp_sock.recv_from(&mut buf) {
            assert_eq!(from.port(), c_rtcp);
            let compound = rtsp_core::rtp::rtcp::Compound::parse(&buf[..n]).unwrap();
            got_sr = compound.sender_report().is_some_and(|sr| sr.ssrc == ssrc);
        }
    }
    assert!(got_sr, "RTCP SR received");

    // A receiver report from the client is read and kept in the session stats.
    let rr = rtsp_core::rtp::rtcp::ReceiverReport {
        ssrc: 0x1234,
        report_blocks: rtsp_core::rtp::rtcp::ReportBlocks::single(
            rtsp_core::rtp::rtcp::ReportBlock {
                ssrc,
                fraction_lost: 64,
                cumulative_lost: 7,
                jitter: 321,
                ..Default::default()
            },
        ),
        ..Default::default()
    };
    let mut out = Vec::new();
    rtsp_core::rtp::rtcp::write_compound(&[rr.into()], &mut out).unwrap();
    rtcp_sock.send_to(&out, ("127.0.0.1", c_rtcp)).unwrap();
    // Junk on the RTP port (GStreamer's NAT dummies) is ignored.
    rtp_sock
        .send_to(&[0xAB; 200], ("127.0.0.1", c_rtp))
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let r = c.request(
        "TEARDOWN",
        &server.url("movie.Mjpeg/"),
        &[("Session", &session)],
    );
    assert_eq!(r.status, 200);
    let line = server
        .wait_log(&["session end", &session], Duration::from_secs(2))
        .unwrap();
    assert!(line.contains("rtcp_rr=1"), "{line}");
    assert!(line.contains("rr_fraction_lost=0.250"), "{line}");
    assert!(line.contains("rr_cumulative_lost=7"), "{line}");
    assert!(line.contains("rr_jitter=321"), "{line}");
    // TEARDOWN ends with an RTCP BYE.
    let mut bye = false;
    for (_, p) in recv_for(&rtcp_sock, Duration::from_millis(500), 10) {
        let compound = rtsp_core::rtp::rtcp::Compound::parse(&p).unwrap();
        bye |= compound
            .iter()
            .any(|pk| matches!(pk, rtsp_core::rtp::rtcp::RtcpPacket::Goodbye(_)));
    }
    assert!(bye, "RTCP BYE after TEARDOWN");
}

#[test]
fn play_with_range_seeks_and_pause_resumes() {
    let server = Server::start(&[]);
    let index = frame_index();
    let mut c = Rtsp::connect(server.addr);
    let (session, rtp_sock, _rtcp, _) = setup_udp(&mut c, &server, "movie.Mjpeg");
    let s = [("Session", session.as_str())];
    let r = c.request(
        "PLAY",
        &server.url("movie.Mjpeg/"),
        &[s[0], ("Range", "npt=10.0-")],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Range"), Some("npt=10.000-25.000"));
    let packets: Vec<Vec<u8>> = recv_for(&rtp_sock, Duration::from_millis(600), 10_000)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let frames = frames_of(&packets, &index);
    assert_eq!(frames[0].0, 200, "npt=10 at 20 fps is frame 200");

    // Seek while playing: npt=20.02 is nearest to frame 400.
    let r = c.request(
        "PLAY",
        &server.url("movie.Mjpeg/"),
        &[s[0], ("Range", "npt=20.02-")],
    );
    assert_eq!(r.status, 200);
    let packets: Vec<Vec<u8>> = recv_for(&rtp_sock, Duration::from_millis(600), 10_000)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let frames = frames_of(&packets, &index);
    let at = frames
        .iter()
        .position(|(i, _)| *i == 400)
        .expect("frame 400 after the seek");
    assert!(frames[at..].windows(2).all(|w| w[1].0 == w[0].0 + 1));

    let r = c.request("PAUSE", &server.url("movie.Mjpeg/"), &s);
    assert_eq!(r.status, 200);
    let tail: Vec<Vec<u8>> = recv_for(&rtp_sock, Duration::from_millis(300), 10_000)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let last = frames_of(&[packets, tail].concat(), &index)
        .last()
        .unwrap()
        .0;
    assert!(
        recv_for(&rtp_sock, Duration::from_millis(300), 10).is_empty(),
        "paused"
    );

    // PLAY without Range (or npt=now-) resumes right after the last frame sent.
    let r = c.request(
        "PLAY",
        &server.url("movie.Mjpeg/"),
        &[s[0], ("Range", "npt=now-")],
    );
    assert_eq!(r.status, 200);
    let packets: Vec<Vec<u8>> = recv_for(&rtp_sock, Duration::from_millis(400), 10_000)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    assert_eq!(frames_of(&packets, &index)[0].0, last + 1);

    // Past the end: 457; the session keeps playing.
    let r = c.request(
        "PLAY",
        &server.url("movie.Mjpeg/"),
        &[s[0], ("Range", "npt=30-")],
    );
    assert_eq!(r.status, 457);
    let r = c.request("PAUSE", &server.url("movie.Mjpeg/"), &s);
    assert_eq!(r.status, 200);
    // PAUSE in READY is accepted (RFC 2326 A.2).
    let r = c.request("PAUSE", &server.url("movie.Mjpeg/"), &s);
    assert_eq!(r.status, 200);
}

#[test]
fn tcp_interleaved_frames_never_tear() {
    let server = Server::start(&[]);
    let index = frame_index();
    let mut c = Rtsp::connect(server.addr);
    let r = common::setup_interleaved(&mut c, &server, "movie.Mjpeg");
    assert_eq!(r.status, 200);
    let t = r.header("Transport").unwrap();
    assert!(
        t.starts_with("RTP/AVP/TCP;unicast;interleaved=0-1;ssrc="),
        "{t}"
    );
    let session = r.session();
    let s = [("Session", session.as_str())];
    assert_eq!(
        c.request("PLAY", &server.url("movie.Mjpeg/"), &s).status,
        200
    );
    // Requests in the middle of the stream: each reply arrives whole between `$` frames.
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(60));
        let r = c.request("GET_PARAMETER", &server.url("movie.Mjpeg/"), &s);
        assert_eq!(r.status, 200);
        assert_eq!(r.session(), session);
    }
    // RTCP RR from the client over the connection (channel 1), as gst and live555 send.
    let rr = rtsp_core::rtp::rtcp::ReceiverReport {
        ssrc: 9,
        ..Default::default()
    };
    let mut out = Vec::new();
    rtsp_core::rtp::rtcp::write_compound(&[rr.into()], &mut out).unwrap();
    let mut framed = vec![b'$', 1];
    framed.extend_from_slice(&(out.len() as u16).to_be_bytes());
    framed.extend_from_slice(&out);
    c.send_raw(&framed);
    c.collect_interleaved(Duration::from_millis(500));
    let rtp_packets: Vec<Vec<u8>> = c
        .interleaved
        .iter()
        .filter(|(ch, _)| *ch == 0)
        .map(|(_, p)| p.clone())
        .collect();
    assert!(
        c.interleaved.iter().any(|(ch, _)| *ch == 1),
        "RTCP SR on channel 1"
    );
    let frames = frames_of(&rtp_packets, &index);
    assert!(frames.len() >= 20, "{}", frames.len());
    assert!(
        frames.windows(2).all(|w| w[1].0 == w[0].0 + 1),
        "no frame lost or torn"
    );
    let r = c.request("TEARDOWN", &server.url("movie.Mjpeg/"), &s);
    assert_eq!(r.status, 200);
}

#[test]
fn keepalives_and_parameters() {
    let server = Server::start(&[]);
    let mut c = Rtsp::connect(server.addr);
    let (session, _rtp, _rtcp, _) = setup_udp(&mut c, &server, "movie.Mjpeg");
    let s = ("Session", session.as_str());
    let r = c.request("GET_PARAMETER", &server.url("movie.Mjpeg/"), &[s]);
    assert_eq!((r.status, r.session()), (200, session.clone()));
    assert_eq!(
        r.header("Session").unwrap(),
        format!("{session};timeout=60")
    );
    let r = c.request("SET_PARAMETER", &server.url("movie.Mjpeg/"), &[s]);
    assert_eq!(r.status, 200);
    let r = c.request("OPTIONS", "*", &[s]);
    assert_eq!(r.status, 200);
    // Parameters we do not have: 451.
    c.send_raw(
        format!("SET_PARAMETER {} RTSP/1.0\r\nCSeq: 9\r\nSession: {session}\r\nContent-Type: text/parameters\r\nContent-Length: 10\r\n\r\nvolume: 5\n", server.url("movie.Mjpeg/")).as_bytes(),
    );
    assert_eq!(c.read_reply().status, 451);
    // GET_PARAMETER without a session is a plain ping.
    assert_eq!(
        c.request("GET_PARAMETER", &server.url("movie.Mjpeg"), &[])
            .status,
        200
    );
}

#[test]
fn every_error_code() {
    let server = Server::start(&["--max-sessions", "2"]);
    let mut c = Rtsp::connect(server.addr);
    let movie = server.url("movie.Mjpeg/");
    // 454: PLAY / PAUSE / FORWARD before SETUP name no session (RFC 2326 11.3.5: "missing").
    for m in ["PLAY", "PAUSE", "FORWARD"] {
        assert_eq!(c.request(m, &movie, &[]).status, 454, "{m}");
    }
    // 454: a session that does not exist (except for OPTIONS, which always answers 200).
    assert_eq!(
        c.request("PLAY", &movie, &[("Session", "4242")]).status,
        454
    );
    assert_eq!(
        c.request("OPTIONS", "*", &[("Session", "4242")]).status,
        200
    );
    assert_eq!(
        c.request("TEARDOWN", &movie, &[("Session", "abc")]).status,
        454
    );
    // 461: transports we do not serve.
    for t in [
        "RTP/AVP;multicast;client_port=5000-5001",
        "RTP/SAVP;unicast;client_port=5000-5001",
        "RTP/AVP;unicast",
        "RAW/RAW/UDP;unicast;client_port=5000",
    ] {
        let r = c.request(
            "SETUP",
            &server.url("movie.Mjpeg/track1"),
            &[("Transport", t)],
        );
        assert_eq!(r.status, 461, "{t}");
    }
    assert_eq!(
        c.request("SETUP", &server.url("movie.Mjpeg/track1"), &[])
            .status,
        461
    );
    // 404 at SETUP.
    let (rtp_sock, _rtcp) = udp_pair();
    let tr = udp_transport(&rtp_sock);
    let r = c.request(
        "SETUP",
        &server.url("nothere.Mjpeg/track1"),
        &[("Transport", &tr)],
    );
    assert_eq!(r.status, 404);

    let (session, ..) = setup_udp(&mut c, &server, "movie.Mjpeg");
    let s = ("Session", session.as_str());
    // 459: another presentation into the same session.
    let r = c.request(
        "SETUP",
        &server.url("testsrc/track1"),
        &[s, ("Transport", &tr)],
    );
    assert_eq!(r.status, 459);
    // 460: session control on another presentation's URL.
    assert_eq!(c.request("PLAY", &server.url("testsrc/"), &[s]).status, 460);
    assert_eq!(c.request("PLAY", &movie, &[s]).status, 200);
    // 455: SETUP while playing.
    let r = c.request(
        "SETUP",
        &server.url("movie.Mjpeg/track1"),
        &[s, ("Transport", &tr)],
    );
    assert_eq!(r.status, 455);
    // 457: out of range.
    assert_eq!(
        c.request("PLAY", &movie, &[s, ("Range", "npt=99-")]).status,
        457
    );
    // 405 with Allow for methods RFC 2326 has but we do not serve; 501 for unknown ones.
    for m in ["RECORD", "ANNOUNCE", "REDIRECT"] {
        let r = c.request(m, &movie, &[s]);
        assert_eq!(r.status, 405, "{m}");
        assert!(r.header("Allow").unwrap().contains("PLAY"));
    }
    assert_eq!(c.request("FLY", &movie, &[s]).status, 501);
    assert_eq!(
        c.request("play", &movie, &[s]).status,
        501,
        "methods are case-sensitive"
    );
    // 400: missing CSeq.
    c.send_raw(format!("OPTIONS {movie} RTSP/1.0\r\n\r\n").as_bytes());
    assert_eq!(c.read_reply().status, 400);
    // 505: another RTSP version, in the standard shape.
    c.send_raw(format!("OPTIONS {movie} RTSP/2.0\r\nCSeq: 50\r\n\r\n").as_bytes());
    let r = c.read_reply();
    assert_eq!((r.status, r.header("CSeq")), (505, Some("50")));
    assert!(r.status_line.starts_with("RTSP/1.0 505 "));
    // 503: over --max-sessions (2).
    let (_s2, ..) = setup_udp(&mut c, &server, "movie.Mjpeg");
    let r = c.request(
        "SETUP",
        &server.url("movie.Mjpeg/track1"),
        &[("Transport", &tr)],
    );
    assert_eq!(r.status, 503);
    // A session is only usable from the address that created it (127.0.0.2 is loopback too).
    let other = bind_connect("127.0.0.2", server.addr).expect("connect from 127.0.0.2");
    let mut c2 = Rtsp::from_stream(other);
    assert_eq!(c2.request("GET_PARAMETER", &movie, &[s]).status, 454);
    // 400: garbage closes the connection after the reply.
    c.send_raw(b"\x01\x02 nonsense\r\n\r\n");
    let r = c.read_reply();
    assert_eq!(r.status, 400);
}

fn bind_connect(ip: &str, to: SocketAddr) -> Result<TcpStream, String> {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
        .map_err(|e| e.to_string())?;
    let local: SocketAddr = format!("{ip}:0").parse().unwrap();
    sock.bind(&local.into()).map_err(|e| e.to_string())?;
    sock.connect(&to.into()).map_err(|e| e.to_string())?;
    Ok(sock.into())
}

#[test]
fn split_and_pipelined_requests_without_added_latency() {
    let server = Server::start(&[]);
    let mut c = Rtsp::connect(server.addr);
    let url = server.url("movie.Mjpeg");
    // One request split over three writes: answered once its blank line arrives.
    let text = format!("OPTIONS {url} RTSP/1.0\r\nCSeq: 1\r\n\r\n");
    let (a, rest) = text.split_at(10);
    let (b, d) = rest.split_at(20);
    for part in [a, b] {
        c.send_raw(part.as_bytes());
        std::thread::sleep(Duration::from_millis(50));
    }
    let t0 = std::time::Instant::now();
    c.send_raw(d.as_bytes());
    assert_eq!(c.read_reply().status, 200);
    assert!(
        t0.elapsed() < Duration::from_millis(100),
        "answered at once: {:?}",
        t0.elapsed()
    );
    // Two requests in one write: two replies, in order.
    c.send_raw(
        format!(
            "OPTIONS {url} RTSP/1.0\r\nCSeq: 2\r\n\r\nDESCRIBE {url} RTSP/1.0\r\nCSeq: 3\r\n\r\n"
        )
        .as_bytes(),
    );
    let r1 = c.read_reply();
    let r2 = c.read_reply();
    assert_eq!(
        (r1.header("CSeq"), r2.header("CSeq")),
        (Some("2"), Some("3"))
    );
    assert_eq!(r2.header("Content-Type"), Some("application/sdp"));
}

#[test]
fn oversized_requests_are_refused_and_the_connection_closed() {
    use std::io::Read;
    let server = Server::start(&[]);
    // A start line beyond the parser's 8 KiB limit.
    let mut c = Rtsp::connect(server.addr);
    let long = format!(
        "OPTIONS rtsp://h/{} RTSP/1.0\r\nCSeq: 1\r\n\r\n",
        "a".repeat(10_000)
    );
    c.send_raw(long.as_bytes());
    let r = c.read_reply();
    assert_eq!(r.status, 414);
    let mut rest = Vec::new();
    assert!(
        c.stream.read_to_end(&mut rest).is_ok(),
        "closed by the server"
    );
    // Too many header lines.
    let mut c = Rtsp::connect(server.addr);
    let mut req = String::from("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n");
    for i in 0..100 {
        req.push_str(&format!("X-{i}: y\r\n"));
    }
    req.push_str("\r\n");
    c.send_raw(req.as_bytes());
    assert_eq!(c.read_reply().status, 400);
    // A body larger than allowed.
    let mut c = Rtsp::connect(server.addr);
    c.send_raw(b"SET_PARAMETER * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 10000000\r\n\r\n");
    assert_eq!(c.read_reply().status, 413);
    // The server is still fine for everyone else.
    let mut c = Rtsp::connect(server.addr);
    assert_eq!(c.request("OPTIONS", "*", &[]).status, 200);
}

/// Frames above 2040 pixels (RFC 2435 section 3.1.5 cannot state them): `a=x-dimensions` in
/// the SDP, size fields 0 in every packet, and the ONVIF JPEG header extension (X bit, profile
/// 0xFFD8, the frame's SOF) on the first packet of each frame only; the packets rebuild the
/// file's frames bit-exact.
#[test]
fn frames_above_2040_pixels_carry_x_dimensions_and_the_onvif_extension() {
    use rtsp_core::jpeg::{Depacketizer, FrameHeaderExtension, ParsedJpeg, ONVIF_JPEG_PROFILE};
    use rtsp_core::rtp::RtpPacketRef;

    let dir = common::uhd_media("wire");
    let file = rtsp_core::media::MjpegFile::open(dir.join("uhd.mjpeg")).unwrap();
    let expected: Vec<Vec<u8>> = file
        .frames()
        .map(|f| ParsedJpeg::parse(f).unwrap().to_rtp_jpeg())
        .collect();
    let server = Server::start_in(&dir, &[]);
    let mut c = Rtsp::connect(server.addr);
    let d = c.request("DESCRIBE", &server.url("uhd.mjpeg"), &[]);
    assert_eq!(d.status, 200);
    let sdp = String::from_utf8(d.body.clone()).unwrap();
    assert!(sdp.contains("a=x-dimensions:3840,2160\r\n"), "{sdp}");
    let r = common::setup_interleaved(&mut c, &server, "uhd.mjpeg");
    assert_eq!(r.status, 200);
    let session = r.session();
    let s = [("Session", session.as_str())];
    assert_eq!(c.request("PLAY", &server.url("uhd.mjpeg/"), &s).status, 200);
    // Until the RTCP BYE after the last frame (channel 1), with a generous deadline.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let bye = |c: &Rtsp| {
        c.interleaved
            .iter()
            .filter(|(ch, _)| *ch == 1)
            .any(|(_, p)| {
                rtsp_core::rtp::rtcp::Compound::parse(p).is_ok_and(|compound| {
                    compound
                        .iter()
                        .any(|pk| matches!(pk, rtsp_core::rtp::rtcp::RtcpPacket::Goodbye(_)))
                })
            })
    };
    while !bye(&c) && std::time::Instant::now() < deadline {
        c.collect_interleaved(Duration::from_millis(200));
    }
    let mut depacketizer = Depacketizer::new();
    let mut first_of_frame = true;
    let mut frames = Vec::new();
    for (_, packet) in c.interleaved.iter().filter(|(ch, _)| *ch == 0) {
        let p = RtpPacketRef::parse(packet).unwrap();
        assert_eq!(p.payload()[6..8], [0, 0], "size fields");
        match p.extension() {
            Some(ext) => {
                assert!(first_of_frame, "extension on a later packet");
                assert_eq!(ext.profile, ONVIF_JPEG_PROFILE);
                let h = FrameHeaderExtension::parse(ext.data).unwrap();
                assert_eq!((h.width, h.height), (3840, 2160));
            }
            None => assert!(!first_of_frame, "first packet without the extension"),
        }
        first_of_frame = p.marker();
        let pushed =
            depacketizer.push_with_extension(p.timestamp(), p.marker(), p.payload(), p.extension());
        frames.extend(pushed.map(|f| f.jpeg));
    }
    // A slow reader may miss whole frames, never parts: what arrives is exact and in order.
    let indices: Vec<usize> = frames
        .iter()
        .map(|f| {
            expected
                .iter()
                .position(|e| e == f)
                .expect("a frame of the file")
        })
        .collect();
    assert!(indices.len() >= 2, "{indices:?}");
    assert!(indices.windows(2).all(|w| w[0] < w[1]), "{indices:?}");
    let _ = std::fs::remove_dir_all(dir);
}
