//! Publishing into the server (`--publish`): ffmpeg, GStreamer's rtspclientsink and the
//! engine's `Publisher` send, readers (ffprobe, raw RTSP over TCP) play the published path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::peers::ffprobe_sees;
use common::*;
use rtsp_core::client::{Publisher, PublisherConfig};
use rtsp_core::jpeg::{Depacketizer, ParsedJpeg};

const PATH: &str = "live/cam";

/// A reader playing `path` over TCP interleaving, once DESCRIBE says it is published.
fn reader(server: &Server, path: &str) -> (Rtsp, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut c = Rtsp::connect(server.addr);
        let d = c.request(
            "DESCRIBE",
            &server.url(path),
            &[("Accept", "application/sdp")],
        );
        if d.status == 200 {
            let s = setup_interleaved(&mut c, server, path);
            assert_eq!(s.status, 200, "{}", s.status_line);
            let session = s.session();
            let p = c.request("PLAY", &server.url(path), &[("Session", &session)]);
            assert_eq!(p.status, 200, "{}", p.status_line);
            return (c, session);
        }
        assert_eq!(d.status, 404, "{}", d.status_line);
        assert!(Instant::now() < deadline, "{path} was never published");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whole frames in the RTP (channel 0) the reader collected so far.
fn frames(c: &Rtsp) -> Vec<Vec<u8>> {
    let mut d = Depacketizer::new();
    c.interleaved
        .iter()
        .filter(|(ch, _)| *ch == 0)
        .filter_map(|(_, p)| {
            let h = rtp(p);
            d.push(h.ts, h.marker, &rtp_payload(p)).map(|f| f.jpeg)
        })
        .collect()
}

/// Collect until the reader has `n` frames more than `before` (or 30 s passed).
fn collect_frames(c: &mut Rtsp, before: usize, n: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(30);
    while frames(c).len() < before + n && Instant::now() < deadline {
        c.collect_interleaved(Duration::from_millis(200));
    }
    frames(c).len() - before
}

fn ffmpeg_publisher(server: &Server, transport: &str, seconds: u32) -> Child {
    Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-re",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg("testsrc=size=640x480:rate=20")
        .args(["-t", &seconds.to_string()])
        .args([
            "-c:v", "mjpeg", "-huffman", "default", "-pix_fmt", "yuvj420p",
        ])
        .args(["-f", "rtsp", "-rtsp_transport", transport])
        .arg(server.url(PATH))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ffmpeg")
}

fn wait_exit(mut child: Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("publisher did not finish");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn ffmpeg_publishes(transport: &str) {
    if !(have("ffmpeg") && have("ffprobe")) {
        return;
    }
    let server = Server::start(&["--publish"]);
    let publisher = ffmpeg_publisher(&server, transport, 12);
    let (mut c, _) = reader(&server, PATH);
    let got = collect_frames(&mut c, 0, 20);
    assert!(got >= 20, "reader got {got} frames");
    for f in frames(&c) {
        let parsed = ParsedJpeg::parse(&f).expect("a whole JPEG");
        assert_eq!((parsed.width(), parsed.height()), (640, 480));
    }
    ffprobe_sees(
        &server.url(PATH),
        &["codec_name=mjpeg", "width=640", "height=480"],
        Duration::from_secs(30),
    );
    let status = wait_exit(publisher, Duration::from_secs(60));
    assert!(status.success(), "ffmpeg failed: {status}");
}

#[test]
fn ffmpeg_publishes_over_tcp_and_readers_play_it() {
    ffmpeg_publishes("tcp");
}

#[test]
fn ffmpeg_publishes_over_udp_and_readers_play_it() {
    ffmpeg_publishes("udp");
}

#[test]
fn gstreamer_rtspclientsink_publishes_and_a_reader_plays_it() {
    if !(have("gst-launch-1.0")
        && missing_is_a_skip(
            gst_element("rtspclientsink"),
            "gstreamer1.0-rtsp (rtspclientsink)",
        ))
    {
        return;
    }
    let server = Server::start(&["--publish"]);
    let publisher = Command::new("gst-launch-1.0")
        .args(["-q", "videotestsrc", "num-buffers=240", "!"])
        .args([
            "video/x-raw,format=I420,width=320,height=240,framerate=20/1",
            "!",
        ])
        .args(["jpegenc", "!", "rtspclientsink"])
        .arg(format!("location={}", server.url(PATH)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn gst-launch-1.0");
    let (mut c, _) = reader(&server, PATH);
    let got = collect_frames(&mut c, 0, 20);
    assert!(got >= 20, "reader got {got} frames");
    for f in frames(&c) {
        let parsed = ParsedJpeg::parse(&f).expect("a whole JPEG");
        assert_eq!((parsed.width(), parsed.height()), (320, 240));
    }
    // rtspclientsink does not always exit at the end of its buffers: stop it here.
    let mut publisher = publisher;
    let _ = publisher.kill();
    let _ = publisher.wait();
}

/// Whether GStreamer has `element`.
fn gst_element(element: &str) -> bool {
    Command::new("gst-inspect-1.0")
        .arg(element)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Frames of the test movie, their RFC 2435 renderings by index.
fn movie_frames(n: usize) -> Vec<Vec<u8>> {
    let movie = movie();
    (0..n)
        .map(|i| movie.frame(i % movie.frame_count()).unwrap().to_vec())
        .collect()
}

fn publish(server: &Server) -> Publisher {
    Publisher::connect(PublisherConfig::url(server.url(PATH))).expect("publisher accepted")
}

/// Send `frames` at about 20 per second.
fn send_all(p: &Publisher, frames: &[Vec<u8>]) {
    for f in frames {
        p.send(f, None).expect("frame sent");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn engine_publisher_frames_reach_a_reader_bit_exact() {
    let server = Server::start(&["--publish"]);
    let p = publish(&server);
    let (mut c, _) = reader(&server, PATH);
    let sent = movie_frames(30);
    send_all(&p, &sent);
    collect_frames(&mut c, 0, sent.len());
    let expected: Vec<Vec<u8>> = sent
        .iter()
        .map(|f| ParsedJpeg::parse(f).unwrap().to_rtp_jpeg())
        .collect();
    let got = frames(&c);
    // Readers get the latest frame: a frame can only be missed if a worker stalls for a frame
    // period, so most, in order, bit-exact.
    assert!(
        got.len() >= sent.len() / 2,
        "got {} of {}",
        got.len(),
        sent.len()
    );
    let mut at = 0;
    for f in &got {
        let i = expected[at..]
            .iter()
            .position(|e| e == f)
            .expect("a sent frame, bit-exact, in order");
        at += i + 1;
    }
    p.close().unwrap();
}

/// `ANNOUNCE` of one JPEG stream on `path`, its reply.
fn announce(c: &mut Rtsp, server: &Server, path: &str) -> Reply {
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 0 RTP/AVP 26\r\na=control:streamid=0\r\n";
    let head = format!(
        "ANNOUNCE {} RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n",
        server.url(path),
        sdp.len()
    );
    c.send_raw(head.as_bytes());
    c.send_raw(sdp.as_bytes());
    c.read_reply()
}

#[test]
fn a_second_publisher_gets_455_and_without_publish_announce_gets_405() {
    let server = Server::start(&["--publish"]);
    let first = publish(&server);
    let mut c = Rtsp::connect(server.addr);
    let r = announce(&mut c, &server, PATH);
    assert_eq!(r.status, 455, "{}", r.status_line);
    assert!(String::from_utf8_lossy(&r.body).contains("already has a publisher"));
    assert!(Publisher::connect(PublisherConfig::url(server.url(PATH))).is_err());
    // Another path is free.
    let mut other = Rtsp::connect(server.addr);
    assert_eq!(announce(&mut other, &server, "live/other").status, 200);
    first.close().unwrap();

    let plain = Server::start(&[]);
    let mut c = Rtsp::connect(plain.addr);
    assert_eq!(announce(&mut c, &plain, PATH).status, 405);
}

#[test]
fn readers_stay_when_the_publisher_leaves_and_play_the_next_one() {
    let server = Server::start(&["--publish"]);
    let first = publish(&server);
    let (mut c, session) = reader(&server, PATH);
    send_all(&first, &movie_frames(10));
    let got = collect_frames(&mut c, 0, 5);
    assert!(got >= 5, "got {got}");
    first.close().unwrap();
    server
        .wait_log(&["publisher left"], Duration::from_secs(20))
        .expect("publisher left");
    // No publisher: DESCRIBE is 404, but the reader's session lives on.
    let mut probe = Rtsp::connect(server.addr);
    assert_eq!(
        probe.request("DESCRIBE", &server.url(PATH), &[]).status,
        404
    );
    let r = c.request("GET_PARAMETER", &server.url(PATH), &[("Session", &session)]);
    assert_eq!(r.status, 200, "{}", r.status_line);
    let before = frames(&c).len();
    let second = publish(&server);
    send_all(&second, &movie_frames(10));
    let again = collect_frames(&mut c, before, 5);
    assert!(again >= 5, "got {again} after the publisher came back");
    second.close().unwrap();
}

#[test]
fn garbage_from_a_publisher_is_counted_while_another_path_plays() {
    let server = Server::start(&["--publish"]);
    let (mut viewer, _) = reader(&server, "testsrc");
    let mut p = Rtsp::connect(server.addr);
    assert_eq!(announce(&mut p, &server, PATH).status, 200);
    let s = p.request(
        "SETUP",
        &format!("{}/streamid=0", server.url(PATH)),
        &[(
            "Transport",
            "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record",
        )],
    );
    assert_eq!(s.status, 200, "{}", s.status_line);
    let session = s.session();
    assert_eq!(
        p.request("RECORD", &server.url(PATH), &[("Session", &session)])
            .status,
        200
    );
    for i in 0..200u32 {
        let junk = [
            b'$',
            0,
            0,
            8,
            0xde,
            0xad,
            0xbe,
            0xef,
            (i >> 8) as u8,
            i as u8,
            1,
            2,
        ];
        p.send_raw(&junk);
    }
    let got = collect_frames(&mut viewer, 0, 10);
    assert!(got >= 10, "the other path's reader got {got}");
    assert_eq!(
        p.request("TEARDOWN", &server.url(PATH), &[("Session", &session)])
            .status,
        200
    );
    let line = server
        .wait_log(
            &["publisher left", "dropped_not_rtp=200"],
            Duration::from_secs(20),
        )
        .expect("the garbage is counted");
    assert!(line.contains("frames=0"), "{line}");
}
