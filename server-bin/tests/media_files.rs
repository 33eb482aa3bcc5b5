#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Files RFC 2435 cannot carry, re-encoding, end of file, looping, oversized lab frames, and
//! the command line itself.

mod common;

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{recv_for, rtp, rtp_payload, udp_pair, udp_transport, Rtsp, Server};
use rtsp_core::media::{MjpegWriter, TestPattern};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rtsp-server-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A lab-format file of `n` frames produced by `frame(i)`.
fn write_mjpeg(path: &std::path::Path, n: u64, frame: impl Fn(u64) -> Vec<u8>) {
    let mut w = MjpegWriter::new(Vec::new());
    for i in 0..n {
        w.write_frame(&frame(i)).unwrap();
    }
    std::fs::write(path, w.into_inner()).unwrap();
}

/// 4:4:4 JPEGs: valid baseline files that RFC 2435 cannot express.
fn yuv444_frame(pattern: &TestPattern, i: u64) -> Vec<u8> {
    let rgb = pattern.render_rgb(i);
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 85);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_1_1);
    enc.encode(
        &rgb,
        pattern.width(),
        pattern.height(),
        jpeg_encoder::ColorType::Rgb,
    )
    .unwrap();
    out
}

fn lab_setup(server: &Server, file: &str) -> (TcpStream, UdpSocket, String) {
    let mut tcp = TcpStream::connect(server.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let rtp_sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    rtp_sock
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let port = rtp_sock.local_addr().unwrap().port();
    tcp.write_all(
        format!("SETUP {file} RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= {port}")
            .as_bytes(),
    )
    .unwrap();
    let mut buf = [0u8; 1024];
    let n = tcp.read(&mut buf).unwrap();
    (tcp, rtp_sock, String::from_utf8(buf[..n].to_vec()).unwrap())
}

fn lab_play(tcp: &mut TcpStream, file: &str, reply: &str) {
    let session = reply.split('\n').nth(2).unwrap().split(' ').nth(1).unwrap();
    tcp.write_all(format!("PLAY {file} RTSP/1.0\nCSeq: 2\nSession: {session}").as_bytes())
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = tcp.read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"RTSP/1.0 200 OK\n"));
}

#[test]
fn files_rfc2435_cannot_carry_are_refused_to_rtp_clients_only() {
    let dir = temp_dir("444");
    let pattern = TestPattern::new(320, 240, 20.0).unwrap();
    write_mjpeg(&dir.join("full.Mjpeg"), 10, |i| yuv444_frame(&pattern, i));
    let server = Server::start_in(&dir, &[]);
    let mut c = Rtsp::connect(server.addr);
    let r = c.request("DESCRIBE", &server.url("full.Mjpeg"), &[]);
    assert_eq!(r.status, 415, "{r:?}");
    let (rtp_sock, _rtcp) = udp_pair();
    let r = c.request(
        "SETUP",
        &server.url("full.Mjpeg/track1"),
        &[("Transport", &udp_transport(&rtp_sock))],
    );
    assert_eq!(r.status, 415);
    assert!(
        server
            .wait_log(&["cannot carry", "4:4:4"], Duration::from_secs(2))
            .is_some(),
        "the log names the reason"
    );
    // The lab dialect sends whole JPEGs, which any decoder shows: it still plays.
    let (mut tcp, rtp_sock, reply) = lab_setup(&server, "full.Mjpeg");
    assert!(
        reply.starts_with("RTSP/1.0 200 OK\nCSeq: 1\nSession: "),
        "{reply}"
    );
    lab_play(&mut tcp, "full.Mjpeg", &reply);
    let got = recv_for(&rtp_sock, Duration::from_millis(500), 2);
    assert_eq!(rtp_payload(&got[0].1), yuv444_frame(&pattern, 0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn transcode_option_reencodes_for_rtp() {
    let dir = temp_dir("transcode");
    let pattern = TestPattern::new(320, 240, 20.0).unwrap();
    write_mjpeg(&dir.join("full.Mjpeg"), 10, |i| yuv444_frame(&pattern, i));
    let server = Server::start_in(&dir, &["--transcode"]);
    let mut c = Rtsp::connect(server.addr);
    assert_eq!(
        c.request("DESCRIBE", &server.url("full.Mjpeg"), &[]).status,
        200
    );
    let (rtp_sock, _rtcp) = udp_pair();
    let r = c.request(
        "SETUP",
        &server.url("full.Mjpeg/track1"),
        &[("Transport", &udp_transport(&rtp_sock))],
    );
    assert_eq!(r.status, 200);
    let s = r.session();
    assert_eq!(
        c.request("PLAY", &server.url("full.Mjpeg/"), &[("Session", &s)])
            .status,
        200
    );
    let mut d = rtsp_core::jpeg::Depacketizer::new();
    let frames: Vec<_> = recv_for(&rtp_sock, Duration::from_millis(400), 1000)
        .iter()
        .filter_map(|(_, p)| {
            let h = rtp(p);
            d.push(h.ts, h.marker, &rtp_payload(p))
        })
        .collect();
    assert!(!frames.is_empty());
    assert_eq!((frames[0].width, frames[0].height), (320, 240));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn end_of_file_sends_bye_and_loop_keeps_going() {
    let dir = temp_dir("eof");
    let pattern = TestPattern::new(64, 48, 20.0).unwrap();
    write_mjpeg(&dir.join("short.mjpeg"), 10, |i| pattern.frame(i).unwrap());
    for looping in [false, true] {
        let args: &[&str] = if looping {
            &["--fps", "50", "--loop"]
        } else {
            &["--fps", "50"]
        };
        let server = Server::start_in(&dir, args);
        let mut c = Rtsp::connect(server.addr);
        let (rtp_sock, rtcp_sock) = udp_pair();
        let r = c.request(
            "SETUP",
            &server.url("short.mjpeg/track1"),
            &[("Transport", &udp_transport(&rtp_sock))],
        );
        let s = r.session();
        assert_eq!(
            c.request("PLAY", &server.url("short.mjpeg/"), &[("Session", &s)])
                .status,
            200
        );
        let packets = recv_for(&rtp_sock, Duration::from_millis(800), usize::MAX);
        let frames = packets.iter().filter(|(_, p)| rtp(p).marker).count();
        let bye = recv_for(&rtcp_sock, Duration::from_millis(300), 100)
            .iter()
            .any(|(_, p)| {
                rtsp_core::rtp::rtcp::Compound::parse(p)
                    .unwrap()
                    .iter()
                    .any(|pk| matches!(pk, rtsp_core::rtp::rtcp::RtcpPacket::Goodbye(_)))
            });
        if looping {
            assert!(frames >= 30, "looping keeps sending: {frames}");
            assert!(!bye);
        } else {
            // The whole file once: ten frames 20 ms apart in RTP time (a scheduler stall on a
            // loaded machine may skip one, never send it late or twice).
            let first = rtp(&packets[0].1).ts;
            let last = rtp(&packets[packets.len() - 1].1).ts;
            assert_eq!(last.wrapping_sub(first), 9 * 1800, "spans the file");
            assert!(frames >= 8, "{frames}");
            assert!(bye, "RTCP BYE at the end of the file");
            assert!(server
                .wait_log(&["end of stream"], Duration::from_secs(1))
                .is_some());
            // The session is READY again: PLAY starts over.
            let r = c.request("PLAY", &server.url("short.mjpeg/"), &[("Session", &s)]);
            assert_eq!(
                (r.status, r.header("Range")),
                (200, Some("npt=0.000-0.200"))
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn oversized_lab_frames_are_warned_about_once_per_session() {
    let dir = temp_dir("big");
    let pattern = TestPattern::new(1280, 960, 20.0).unwrap().with_quality(100);
    let first = pattern.frame(0).unwrap();
    assert!(
        first.len() > 20480,
        "test frame must exceed the lab client's buffer: {}",
        first.len()
    );
    write_mjpeg(&dir.join("big.Mjpeg"), 6, |i| pattern.frame(i).unwrap());
    let server = Server::start_in(&dir, &[]);
    let (mut tcp, rtp_sock, reply) = lab_setup(&server, "big.Mjpeg");
    lab_play(&mut tcp, "big.Mjpeg", &reply);
    let got = recv_for(&rtp_sock, Duration::from_millis(600), 100);
    assert_eq!(got.len(), 6, "sent anyway, whole");
    assert_eq!(rtp_payload(&got[0].1), first);
    assert!(
        server
            .wait_log(&["WARN", "20480"], Duration::from_secs(10))
            .is_some(),
        "no warning about the oversized frame"
    );
    let warnings = server
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("WARN") && l.contains("20480"))
        .count();
    assert_eq!(warnings, 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_explains_every_option() {
    let out = Command::new(env!("CARGO_BIN_EXE_rtsp-server"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for opt in [
        "--bind",
        "--port",
        "--media",
        "--fps",
        "--workers",
        "--session-timeout",
        "--max-sessions",
        "--loop",
        "--log-format",
        "SERVER_PORT",
        "RUST_LOG",
        "testsrc",
    ] {
        assert!(help.contains(opt), "{opt} in --help:\n{help}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_rtsp-server"))
        .args(["--fps", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "bad options are refused");
}

#[test]
fn lab_form_and_json_logs() {
    // `rtsp-server SERVER_PORT` serves the current directory.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let child = Command::new(env!("CARGO_BIN_EXE_rtsp-server"))
        .arg(port.to_string())
        .args(["--log-format", "json"])
        .current_dir(common::media_dir())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stream = None;
    for _ in 0..100 {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            stream = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut c = Rtsp::from_stream(stream.expect("server on the positional port"));
    let r = c.request(
        "DESCRIBE",
        &format!("rtsp://127.0.0.1:{port}/movie.Mjpeg"),
        &[],
    );
    assert_eq!(r.status, 200);
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "Ctrl-C exits 0");
    let log = String::from_utf8(out.stderr).unwrap();
    let first = log.lines().next().unwrap();
    assert!(first.starts_with('{') && first.ends_with('}'), "{first}");
    assert!(
        first.contains("\"message\":\"rtsp-server listening\""),
        "{first}"
    );
}

/// `jpeg` grown to exactly `size` bytes by a comment segment after SOI: still a valid JPEG
/// (decoders and RFC 2435 skip COM), as large as wanted.
fn padded(jpeg: &[u8], size: usize) -> Vec<u8> {
    let filler = size - jpeg.len();
    assert!(
        (4..=65537).contains(&filler),
        "one COM segment holds 4..=65537 bytes"
    );
    let len = u16::try_from(filler - 2).unwrap();
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&len.to_be_bytes());
    out.resize(out.len() + filler - 4, b'x');
    out.extend_from_slice(&jpeg[2..]);
    assert_eq!(out.len(), size);
    out
}

/// Largest JPEG one lab datagram carries: the IPv4 UDP payload limit less the RTP header.
const LAB_JPEG_MAX: usize = 65507 - 12;

/// Three frames, the third of 70 000 bytes: more than one UDP datagram can hold.
fn write_big_frame_file(dir: &std::path::Path, pattern: &TestPattern) {
    write_mjpeg(&dir.join("big.Mjpeg"), 3, |i| {
        let frame = pattern.frame(i).unwrap();
        if i == 2 {
            padded(&frame, 70_000)
        } else {
            frame
        }
    });
}

#[test]
fn lab_frames_too_big_for_a_datagram_are_refused_at_setup() {
    let dir = temp_dir("datagram");
    let pattern = TestPattern::new(320, 240, 20.0).unwrap();
    write_big_frame_file(&dir, &pattern);
    let server = Server::start_in(&dir, &[]);
    let (_tcp, _rtp, reply) = lab_setup(&server, "big.Mjpeg");
    assert_eq!(
        reply, "RTSP/1.0 415 Unsupported Media Type\nCSeq: 1\nSession: 0",
        "the lab client is told at SETUP"
    );
    let line = server
        .wait_log(&["WARN", "big.Mjpeg", "70000"], Duration::from_secs(2))
        .expect("the refused frame is logged");
    assert!(
        line.contains("frame=2") || line.contains("frame 2"),
        "{line}"
    );
    // RFC 2435 fragments frames: standard clients still get the file.
    let mut c = Rtsp::connect(server.addr);
    assert_eq!(
        c.request("DESCRIBE", &server.url("big.Mjpeg"), &[]).status,
        200
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn transcode_shrinks_lab_frames_too_big_for_a_datagram() {
    let dir = temp_dir("datagram-transcode");
    let pattern = TestPattern::new(320, 240, 20.0).unwrap();
    write_big_frame_file(&dir, &pattern);
    let server = Server::start_in(&dir, &["--transcode"]);
    let (mut tcp, rtp_sock, reply) = lab_setup(&server, "big.Mjpeg");
    assert!(reply.starts_with("RTSP/1.0 200 OK\n"), "{reply}");
    lab_play(&mut tcp, "big.Mjpeg", &reply);
    let got = recv_for(&rtp_sock, Duration::from_millis(800), 3);
    assert_eq!(got.len(), 3, "every frame arrives");
    assert_eq!(
        rtp_payload(&got[0].1),
        pattern.frame(0).unwrap(),
        "small frames as they are"
    );
    let big = rtp_payload(&got[2].1);
    assert!(big.len() <= LAB_JPEG_MAX, "{} bytes", big.len());
    let parsed = rtsp_core::jpeg::ParsedJpeg::parse(&big).expect("a JPEG");
    assert_eq!((parsed.width(), parsed.height()), (320, 240));
    let _ = std::fs::remove_dir_all(&dir);
}

fn sdp_range(r: &common::Reply) -> String {
    String::from_utf8_lossy(&r.body)
        .lines()
        .find(|l| l.starts_with("a=range:"))
        .unwrap_or_default()
        .to_owned()
}

/// A file that failed to load (here: not MJPEG at all) is not refused forever: once it is
/// fixed on disk, the next request loads it again and plays it.
#[test]
fn a_file_fixed_after_a_failed_load_is_served() {
    let dir = temp_dir("fixed");
    let path = dir.join("fixed.Mjpeg");
    std::fs::write(&path, b"00010not a jpeg at all").unwrap();
    let server = Server::start_in(&dir, &[]);
    let mut c = Rtsp::connect(server.addr);
    let r = c.request("DESCRIBE", &server.url("fixed.Mjpeg"), &[]);
    assert_eq!(r.status, 415, "{r:?}");
    let pattern = TestPattern::new(64, 48, 20.0).unwrap();
    write_mjpeg(&path, 10, |i| pattern.frame(i).unwrap());
    let r = c.request("DESCRIBE", &server.url("fixed.Mjpeg"), &[]);
    assert_eq!(r.status, 200, "{r:?}");
    let (rtp_sock, _rtcp) = udp_pair();
    let r = c.request(
        "SETUP",
        &server.url("fixed.Mjpeg/track1"),
        &[("Transport", &udp_transport(&rtp_sock))],
    );
    assert_eq!(r.status, 200, "{r:?}");
    let session = r.session();
    let r = c.request(
        "PLAY",
        &server.url("fixed.Mjpeg/"),
        &[("Session", &session)],
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert!(!recv_for(&rtp_sock, Duration::from_secs(2), 1).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A file replaced on disk is read again: the next DESCRIBE describes the new content.
#[test]
fn a_changed_file_is_read_again() {
    let dir = temp_dir("changed");
    let path = dir.join("clip.Mjpeg");
    let pattern = TestPattern::new(64, 48, 20.0).unwrap();
    write_mjpeg(&path, 10, |i| pattern.frame(i).unwrap());
    let server = Server::start_in(&dir, &[]);
    let mut c = Rtsp::connect(server.addr);
    let r = c.request("DESCRIBE", &server.url("clip.Mjpeg"), &[]);
    assert_eq!(
        (r.status, sdp_range(&r).as_str()),
        (200, "a=range:npt=0-0.500")
    );
    write_mjpeg(&path, 40, |i| pattern.frame(i).unwrap());
    let r = c.request("DESCRIBE", &server.url("clip.Mjpeg"), &[]);
    assert_eq!(
        (r.status, sdp_range(&r).as_str()),
        (200, "a=range:npt=0-2.000")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Loading a file is done by a loader thread, not by the connection worker: while a file that
/// takes long to load (every frame re-encoded) is being loaded for one client, another client
/// on the same (only) worker is still answered.
#[test]
fn a_slow_load_does_not_hold_up_other_connections() {
    let dir = temp_dir("slowload");
    let pattern = TestPattern::new(320, 240, 20.0).unwrap();
    let frame = yuv444_frame(&pattern, 0);
    write_mjpeg(&dir.join("slow.Mjpeg"), 150, |_| frame.clone());
    let server = Server::start_in(&dir, &["--workers", "1", "--transcode"]);
    let mut slow = Rtsp::connect(server.addr);
    let mut other = Rtsp::connect(server.addr);
    // Both connections are set up (the worker has seen them) before the slow request.
    assert_eq!(other.request("OPTIONS", "*", &[]).status, 200);
    slow.send_raw(
        format!(
            "DESCRIBE {} RTSP/1.0\r\nCSeq: 1\r\n\r\n",
            server.url("slow.Mjpeg")
        )
        .as_bytes(),
    );
    assert!(
        server
            .wait_log(&["loading media", "slow.Mjpeg"], Duration::from_secs(5))
            .is_some(),
        "the load has begun"
    );
    let r = other.request("OPTIONS", "*", &[]);
    assert_eq!(r.status, 200);
    slow.stream.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 1];
    let pending = matches!(
        slow.stream.peek(&mut byte),
        Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock
    );
    slow.stream.set_nonblocking(false).unwrap();
    assert!(
        pending,
        "the other connection was answered only after the slow file had loaded"
    );
    let r = slow.read_reply();
    assert_eq!(r.status, 200, "{r:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
