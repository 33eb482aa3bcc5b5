#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Life cycle: session reaping, RTCP keep-alive, idle connections,
//! Ctrl-C / SIGTERM, many sessions at once (bounded, loopback only).

mod common;

use std::io::Read;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

use common::{recv_for, rtp, server_ports, udp_pair, udp_transport, Rtsp, Server};

fn setup_play(c: &mut Rtsp, server: &Server, path: &str) -> (String, UdpSocket, UdpSocket, String) {
    let (rtp_sock, rtcp_sock) = udp_pair();
    let r = c.request(
        "SETUP",
        &server.url(&format!("{path}/track1")),
        &[("Transport", &udp_transport(&rtp_sock))],
    );
    assert_eq!(r.status, 200, "{r:?}");
    let session = r.session();
    let transport = r.header("Transport").unwrap().to_owned();
    let r = c.request(
        "PLAY",
        &server.url(&format!("{path}/")),
        &[("Session", &session)],
    );
    assert_eq!(r.status, 200);
    (session, rtp_sock, rtcp_sock, transport)
}

/// Frames (marker packets) received in `dur`.
fn frame_count(sock: &UdpSocket, dur: Duration) -> usize {
    recv_for(sock, dur, usize::MAX)
        .iter()
        .filter(|(_, p)| rtp(p).marker)
        .count()
}

#[test]
fn vanished_clients_are_reaped() {
    let server = Server::start(&["--session-timeout", "2"]);
    let mut c = Rtsp::connect(server.addr);
    let (session, rtp_sock, _rtcp, transport) = setup_play(&mut c, &server, "movie.Mjpeg");
    let (c_rtp, c_rtcp) = server_ports(&transport);
    assert!(!recv_for(&rtp_sock, Duration::from_millis(300), 2).is_empty());
    // The client vanishes: no TEARDOWN, no RTCP, connection gone.
    drop(c);
    let line = server
        .wait_log(
            &["session end", &session, "reason=\"timeout\""],
            Duration::from_secs(5),
        )
        .expect("session reaped after the timeout");
    assert!(line.contains("frames_sent="));
    // Its resources are freed: no more RTP. (The server ports are its connection worker's,
    // shared by every UDP session of that worker, and stay bound.)
    // Drain what was sent before (the socket buffered it while the test waited).
    recv_for(&rtp_sock, Duration::from_millis(300), usize::MAX);
    let mut buf = [0u8; 2048];
    rtp_sock
        .set_read_timeout(Some(Duration::from_millis(400)))
        .unwrap();
    if let Ok((n, from)) = rtp_sock.recv_from(&mut buf) {
        panic!(
            "packet after reaping from {from}: {:?} {:?}",
            rtp(&buf[..n]),
            server.log.lock().unwrap().join("\n")
        );
    }
    assert_eq!(c_rtcp, c_rtp + 1);
    // And its id is gone.
    let mut c = Rtsp::connect(server.addr);
    let r = c.request(
        "PLAY",
        &server.url("movie.Mjpeg/"),
        &[("Session", &session)],
    );
    assert_eq!(r.status, 454);
}

#[test]
fn rtcp_receiver_reports_keep_a_session_alive() {
    let server = Server::start(&["--session-timeout", "2"]);
    let mut c = Rtsp::connect(server.addr);
    let (session, _rtp, rtcp_sock, transport) = setup_play(&mut c, &server, "movie.Mjpeg");
    let (_, c_rtcp) = server_ports(&transport);
    let rr = rtsp_core::rtp::rtcp::ReceiverReport {
        ssrc: 5,
        ..Default::default()
    };
    let mut out = Vec::new();
    rtsp_core::rtp::rtcp::write_compound(&[rr.into()], &mut out).unwrap();
    // 4 s of RRs only (like gst rtspsrc over UDP), twice the timeout.
    for _ in 0..8 {
        rtcp_sock.send_to(&out, ("127.0.0.1", c_rtcp)).unwrap();
        std::thread::sleep(Duration::from_millis(500));
    }
    let r = c.request(
        "GET_PARAMETER",
        &server.url("movie.Mjpeg/"),
        &[("Session", &session)],
    );
    assert_eq!(r.status, 200, "still alive");
    // Keep-alive requests work the same way.
    for _ in 0..6 {
        std::thread::sleep(Duration::from_millis(500));
        let r = c.request(
            "GET_PARAMETER",
            &server.url("movie.Mjpeg/"),
            &[("Session", &session)],
        );
        assert_eq!(r.status, 200);
    }
}

/// UDP sessions of one connection worker share its server ports; RTCP coming back is told
/// apart by the client's address, so one session's receiver reports keep that session alone
/// alive.
#[test]
fn rtcp_on_shared_server_ports_reaches_its_own_session() {
    let server = Server::start(&["--session-timeout", "2"]);
    let mut c = Rtsp::connect(server.addr);
    let (kept, _rtp_a, rtcp_a, transport_a) = setup_play(&mut c, &server, "movie.Mjpeg");
    let (reaped, _rtp_b, rtcp_b, transport_b) = setup_play(&mut c, &server, "movie.Mjpeg");
    let (_, c_rtcp) = server_ports(&transport_a);
    assert_eq!(server_ports(&transport_b), server_ports(&transport_a));
    let rr = rtsp_core::rtp::rtcp::ReceiverReport {
        ssrc: 5,
        ..Default::default()
    };
    let mut out = Vec::new();
    rtsp_core::rtp::rtcp::write_compound(&[rr.into()], &mut out).unwrap();
    // Only the first session's client reports, until the second one times out.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        rtcp_a.send_to(&out, ("127.0.0.1", c_rtcp)).unwrap();
        if server
            .wait_log(
                &["session end", &reaped, "reason=\"timeout\""],
                Duration::from_millis(400),
            )
            .is_some()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the silent session was never reaped"
        );
    }
    let r = c.request(
        "GET_PARAMETER",
        &server.url("movie.Mjpeg/"),
        &[("Session", &kept)],
    );
    assert_eq!(r.status, 200, "the reporting session is alive");
    let r = c.request(
        "GET_PARAMETER",
        &server.url("movie.Mjpeg/"),
        &[("Session", &reaped)],
    );
    assert_eq!(r.status, 454);
    drop(rtcp_b);
}

#[test]
fn idle_connections_are_closed() {
    let server = Server::start(&["--session-timeout", "1"]);
    let mut s = std::net::TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let n = s.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "closed by the server");
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[test]
fn sigterm_says_bye_and_exits_zero() {
    let server = Server::start(&[]);
    let mut c = Rtsp::connect(server.addr);
    let (_session, rtp_sock, rtcp_sock, _) = setup_play(&mut c, &server, "movie.Mjpeg");
    assert!(!recv_for(&rtp_sock, Duration::from_millis(300), 2).is_empty());
    // Drain any SR so the BYE is what we look for.
    recv_for(&rtcp_sock, Duration::from_millis(50), 100);
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    let mut bye = false;
    for (_, p) in recv_for(&rtcp_sock, Duration::from_millis(500), 10) {
        let compound = rtsp_core::rtp::rtcp::Compound::parse(&p).unwrap();
        bye |= compound
            .iter()
            .any(|pk| matches!(pk, rtsp_core::rtp::rtcp::RtcpPacket::Goodbye(_)));
    }
    assert!(bye, "RTCP BYE on shutdown");
    // The RTSP connection is closed.
    let mut buf = [0u8; 16];
    c.stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut total = 0;
    loop {
        match c.stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => total += n,
            Err(e) => panic!("connection not closed: {e}"),
        }
        assert!(total < 1 << 20);
    }
}

#[test]
fn many_sessions_at_once() {
    // Bounded: 48 clients on loopback for 2 s, against --max-sessions 48.
    const N: usize = 48;
    let server = Server::start(&["--max-sessions", "48"]);
    let mut clients = Vec::new();
    for _ in 0..N {
        let mut c = Rtsp::connect(server.addr);
        let (s, rtp_sock, rtcp, _) = setup_play(&mut c, &server, "movie.Mjpeg");
        clients.push((c, s, rtp_sock, rtcp));
    }
    // One more is refused with 503.
    let mut extra = Rtsp::connect(server.addr);
    let (p, _q) = udp_pair();
    let r = extra.request(
        "SETUP",
        &server.url("movie.Mjpeg/track1"),
        &[("Transport", &udp_transport(&p))],
    );
    assert_eq!(r.status, 503);
    let handles: Vec<_> = clients
        .iter()
        .map(|(_, _, sock, _)| {
            let sock = sock.try_clone().unwrap();
            std::thread::spawn(move || frame_count(&sock, Duration::from_secs(2)))
        })
        .collect();
    let counts: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    eprintln!("frames per session in 2 s: {counts:?}");
    assert!(
        counts.iter().all(|n| *n >= 36),
        "every session gets ~20 fps: {counts:?}"
    );
    for (c, s, _, _) in clients.iter_mut() {
        assert_eq!(
            c.request("TEARDOWN", &server.url("movie.Mjpeg/"), &[("Session", s)])
                .status,
            200
        );
    }
}

/// Many sessions at once, measured (bounded: `LOAD_SESSIONS`, default 200, for 10 s, loopback).
/// Run with `cargo test --release -p server-bin --test lifecycle -- --ignored --nocapture load`.
#[test]
#[ignore = "load measurement; run explicitly"]
fn load_measurement() {
    let n: usize = std::env::var("LOAD_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
        .min(1000);
    let limit = n.to_string();
    let server = Server::start(&[
        "--max-sessions",
        &limit,
        "--max-connections",
        "2000",
        "--max-connections-per-address",
        "2000",
        "--loop",
    ]);
    let pid = server.child.id();
    let cpu = || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        // utime and stime, in clock ticks (100 Hz).
        (fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()) as f64 / 100.0
    };
    let threads = || {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("Threads:").map(|v| v.trim().to_owned()))
            .unwrap()
    };
    let tcp = std::env::var("LOAD_TCP").is_ok();
    let started = Instant::now();
    let mut clients = Vec::new();
    let mut tcp_clients = Vec::new();
    for _ in 0..n {
        let mut c = Rtsp::connect(server.addr);
        if tcp {
            let r = c.request(
                "SETUP",
                &server.url("movie.Mjpeg/track1"),
                &[("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1")],
            );
            let s = r.session();
            assert_eq!(
                c.request("PLAY", &server.url("movie.Mjpeg/"), &[("Session", &s)])
                    .status,
                200
            );
            tcp_clients.push(c);
        } else {
            let (s, rtp_sock, rtcp, _) = setup_play(&mut c, &server, "movie.Mjpeg");
            clients.push((c, s, rtp_sock, rtcp));
        }
    }
    let setup_time = started.elapsed();
    let cpu0 = cpu();
    let t0 = Instant::now();
    let mut handles: Vec<_> = clients
        .iter()
        .map(|(_, _, sock, _)| {
            let sock = sock.try_clone().unwrap();
            std::thread::spawn(move || frame_count(&sock, Duration::from_secs(10)))
        })
        .collect();
    for c in tcp_clients.drain(..) {
        handles.push(std::thread::spawn(move || {
            interleaved_frame_count(c.stream, Duration::from_secs(10))
        }));
    }
    let counts: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let wall = t0.elapsed().as_secs_f64();
    let used = cpu() - cpu0;
    let th = threads();
    for (c, s, _, _) in clients.iter_mut() {
        c.request("TEARDOWN", &server.url("movie.Mjpeg/"), &[("Session", s)]);
    }
    std::thread::sleep(Duration::from_millis(500));
    let log = server.log.lock().unwrap().clone();
    let dropped: u64 = log
        .iter()
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("frames_dropped="))
        })
        .map(|v| v.parse::<u64>().unwrap())
        .sum();
    let skipped: u64 = log
        .iter()
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("frames_skipped="))
        })
        .map(|v| v.parse::<u64>().unwrap())
        .sum();
    let min = counts.iter().min().unwrap();
    let max = counts.iter().max().unwrap();
    let mean = counts.iter().sum::<usize>() as f64 / n as f64;
    let kind = if tcp { "TCP interleaved" } else { "UDP" };
    println!(
        "load: {n} {kind} sessions set up in {setup_time:?}; over {wall:.1} s frames/session min {min} mean {mean:.1} max {max} (ideal 200); \
         server CPU {:.0}% of one core, {th} threads; frames dropped {dropped}, slots skipped {skipped}",
        100.0 * used / wall
    );
}

/// Frames (marker packets on channel 0) read from an interleaved connection for `dur`,
/// counted on the fly; the connection is closed afterwards (its sessions end).
fn interleaved_frame_count(mut stream: std::net::TcpStream, dur: Duration) -> usize {
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let deadline = Instant::now() + dur;
    let mut buf = Vec::new();
    let mut tmp = vec![0u8; 256 * 1024];
    let mut frames = 0;
    while Instant::now() < deadline {
        if let Ok(n) = stream.read(&mut tmp) {
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&tmp[..n]);
        }
        let mut at = 0;
        while buf.len() >= at + 4 && buf[at] == b'$' {
            let len = u16::from_be_bytes([buf[at + 2], buf[at + 3]]) as usize;
            if buf.len() < at + 4 + len {
                break;
            }
            if buf[at + 1] == 0 && len > 2 && buf[at + 5] & 0x80 != 0 {
                frames += 1;
            }
            at += 4 + len;
        }
        buf.drain(..at);
    }
    frames
}

/// A UDP session costs no descriptor of its own (it sends from its connection worker's port
/// pair), so a low open-file limit bounds connections, not sessions: with 64 descriptors the
/// server sets up more UDP sessions than it has descriptors, and they all play.
#[test]
fn udp_sessions_take_no_descriptors_of_their_own() {
    let server = Server::start_with_open_files(&common::media_dir(), &[], 64);
    // Sixteen sessions per connection is the per-connection limit.
    let mut conns: Vec<Rtsp> = (0..5).map(|_| Rtsp::connect(server.addr)).collect();
    for c in conns.iter_mut() {
        assert_eq!(c.request("OPTIONS", "*", &[]).status, 200, "accepted");
    }
    let (playing, rtp0, _rtcp0, _) = setup_play(&mut conns[0], &server, "movie.Mjpeg");
    let mut sessions = Vec::new();
    for (i, c) in conns.iter_mut().enumerate() {
        let n = if i == 0 { 15 } else { 16 };
        for _ in 0..n {
            let (rtp_sock, rtcp_sock) = udp_pair();
            let r = c.request(
                "SETUP",
                &server.url("movie.Mjpeg/track1"),
                &[("Transport", &udp_transport(&rtp_sock))],
            );
            assert_eq!(r.status, 200, "session {}: {r:?}", sessions.len() + 2);
            sessions.push((r.session(), rtp_sock, rtcp_sock));
        }
    }
    assert_eq!(sessions.len() + 1, 80);
    // The last one set up plays too, and so does the first.
    let (last, rtp_last, _) = sessions.last().expect("sessions");
    let r = conns[4].request("PLAY", &server.url("movie.Mjpeg/"), &[("Session", last)]);
    assert_eq!(r.status, 200);
    assert!(frame_count(rtp_last, Duration::from_millis(600)) >= 5);
    assert!(
        frame_count(&rtp0, Duration::from_millis(300)) >= 3,
        "{playing} still plays"
    );
}

/// Bytes a stalled TCP reader lets the server hold before frames must be dropped: the server's
/// outbound queue (4 MiB) and the kernel's send buffer (at most `tcp_wmem`'s maximum).
fn tcp_backlog_bytes() -> u64 {
    (4 << 20) + common::tcp_wmem_max()
}

/// A TCP-interleaved reader that stops reading (GStreamer does, for a moment, after its sink
/// reached EOS) loses whole frames, counted, and keeps its connection: when it reads again it
/// finds intact `$` frames, whose RTP sequence numbers run on without a gap (a dropped frame is
/// never partly sent), then the reply to its TEARDOWN. A UDP session plays on meanwhile.
#[test]
fn a_stalled_tcp_reader_loses_whole_frames_and_keeps_its_connection() {
    let fps = 240.0;
    let server = Server::start(&["--fps", "240", "--loop"]);
    let mut udp_client = Rtsp::connect(server.addr);
    let (_, rtp_sock, _rtcp, _) = setup_play(&mut udp_client, &server, "movie.Mjpeg");

    // A small receive buffer, set before connecting, keeps the kernel from absorbing the stall.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(8 * 1024).unwrap();
    socket.connect(&server.addr.into()).unwrap();
    let mut slow = Rtsp::from_stream(socket.into());
    let r = common::setup_interleaved(&mut slow, &server, "movie.Mjpeg");
    assert_eq!(r.status, 200, "{r:?}");
    let session = r.session();
    let r = slow.request(
        "PLAY",
        &server.url("movie.Mjpeg/"),
        &[("Session", &session)],
    );
    assert_eq!(r.status, 200);

    // Stall long enough for twice what the server can hold to come due.
    let file_len = std::fs::metadata(common::media_dir().join("movie.Mjpeg"))
        .unwrap()
        .len();
    let frame_bytes = file_len as f64 / common::movie().frame_count() as f64;
    let stall = (2.0 * tcp_backlog_bytes() as f64 / (frame_bytes * fps)).clamp(2.0, 40.0);
    // Meanwhile the UDP session plays (at least a fifth of its frames, on a loaded machine).
    let received = frame_count(&rtp_sock, Duration::from_secs_f64(stall));
    let due = (stall * fps) as usize;
    assert!(
        received >= due / 5,
        "UDP session got {received} of {due} frames"
    );

    // Reading again: whole `$` frames, then the TEARDOWN reply on the same connection.
    let r = slow.request(
        "TEARDOWN",
        &server.url("movie.Mjpeg/"),
        &[("Session", &session)],
    );
    assert_eq!(r.status, 200, "{r:?}");
    let seqs: Vec<u16> = slow
        .interleaved
        .iter()
        .filter(|(channel, _)| *channel == 0)
        .map(|(_, p)| rtp(p).seq)
        .collect();
    common::assert_stall_dropped_whole_frames(&server, &session, &seqs);
}
