//! Lab-dialect readers (one whole JPEG per UDP datagram) of a published path: ffmpeg
//! publishes, a lab client reads whole, decodable frames; frames larger than one datagram are
//! re-encoded with `--transcode`, otherwise skipped and counted, never sent truncated.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const PATH: &str = "live/cam";
/// Largest JPEG one lab datagram carries (a UDP datagram less the 12-byte RTP header).
const LAB_MAX_JPEG: usize = 65507 - 12;

/// ffmpeg publishing `size` testsrc frames at `rate` fps to `PATH` over TCP for `seconds`,
/// at `quality` (`-q:v`, 1 is the largest).
fn publisher(server: &Server, size: &str, rate: u32, quality: u32, seconds: u32) -> Child {
    Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi"])
        .arg("-i")
        .arg(format!("testsrc=size={size}:rate={rate}"))
        .args(["-t", &seconds.to_string()])
        .args([
            "-c:v", "mjpeg", "-huffman", "default", "-pix_fmt", "yuvj420p", "-qmin", "1",
        ])
        .args(["-q:v", &quality.to_string()])
        .args(["-f", "rtsp", "-rtsp_transport", "tcp"])
        .arg(server.url(PATH))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ffmpeg")
}

/// A lab client (requests as the lab's `Client.py` writes them) playing `PATH`.
struct LabReader {
    tcp: TcpStream,
    rtp: UdpSocket,
    cseq: u32,
    session: String,
}

impl LabReader {
    /// SETUP (retried while the path is not published yet: 404) and PLAY.
    fn play(server: &Server) -> LabReader {
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        rtp.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let port = rtp.local_addr().unwrap().port();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let tcp = TcpStream::connect(server.addr).unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut lab = LabReader {
                tcp,
                rtp: rtp.try_clone().unwrap(),
                cseq: 0,
                session: String::new(),
            };
            let reply = lab.send(&format!(
                "SETUP {PATH} RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= {port}"
            ));
            if reply.starts_with("RTSP/1.0 200") {
                lab.session = reply
                    .lines()
                    .find_map(|l| l.strip_prefix("Session: "))
                    .expect("a session line")
                    .to_owned();
                let reply = lab.request("PLAY");
                assert!(reply.starts_with("RTSP/1.0 200"), "{reply:?}");
                return lab;
            }
            assert!(reply.starts_with("RTSP/1.0 404"), "{reply:?}");
            assert!(Instant::now() < deadline, "{PATH} was never published");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn send(&mut self, request: &str) -> String {
        self.cseq += 1;
        self.tcp.write_all(request.as_bytes()).unwrap();
        let mut buf = [0u8; 1024];
        let n = self.tcp.read(&mut buf).unwrap();
        assert!(n > 0, "connection closed");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    fn request(&mut self, method: &str) -> String {
        let request = format!(
            "{method} {PATH} RTSP/1.0\nCSeq: {}\nSession: {}",
            self.cseq + 1,
            self.session
        );
        self.send(&request)
    }

    /// Datagrams until `n` arrived or `limit` passed.
    fn receive(&self, n: usize, limit: Duration) -> Vec<Vec<u8>> {
        recv_for(&self.rtp, limit, n)
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }
}

/// Each datagram is RTP/JPEG with one whole JPEG of `width`x`height` that decodes, and the
/// lab's sequence numbers (frame numbers) go up.
fn assert_whole_frames(datagrams: &[Vec<u8>], width: u32, height: u32) {
    let mut last_seq = None;
    for p in datagrams {
        let h = rtp(p);
        assert_eq!(h.pt, 26);
        if let Some(prev) = last_seq {
            let step = h.seq.wrapping_sub(prev);
            assert!(
                step > 0 && step < 1000,
                "frame numbers go up: {prev} {}",
                h.seq
            );
        }
        last_seq = Some(h.seq);
        let jpeg = rtp_payload(p);
        assert!(jpeg.len() <= LAB_MAX_JPEG);
        let image = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
            .expect("a decodable JPEG");
        assert_eq!((image.width(), image.height()), (width, height));
    }
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn lab_reader_gets_published_frames_whole() {
    if !have("ffmpeg") {
        return;
    }
    let server = Server::start(&["--publish"]);
    let ffmpeg = publisher(&server, "320x240", 20, 5, 40);
    let lab = LabReader::play(&server);
    let got = lab.receive(20, Duration::from_secs(30));
    stop(ffmpeg);
    assert_eq!(got.len(), 20, "the lab reader got {} frames", got.len());
    assert_whole_frames(&got, 320, 240);
}

#[test]
fn oversized_published_frames_are_reencoded_with_transcode() {
    if !have("ffmpeg") {
        return;
    }
    let server = Server::start(&["--publish", "--transcode"]);
    let ffmpeg = publisher(&server, "1920x1080", 5, 1, 40);
    let lab = LabReader::play(&server);
    let got = lab.receive(5, Duration::from_secs(30));
    stop(ffmpeg);
    assert_eq!(got.len(), 5, "the lab reader got {} frames", got.len());
    assert_whole_frames(&got, 1920, 1080);
}

#[test]
fn oversized_published_frames_are_skipped_and_counted_without_transcode() {
    if !have("ffmpeg") {
        return;
    }
    let server = Server::start(&["--publish"]);
    let ffmpeg = publisher(&server, "1920x1080", 5, 1, 40);
    let mut lab = LabReader::play(&server);
    server
        .wait_log(
            &["frame larger than one UDP datagram; not sent"],
            Duration::from_secs(30),
        )
        .expect("the skipped frame is logged");
    // Let a few more frames be skipped: they are counted, not logged again.
    std::thread::sleep(Duration::from_secs(2));
    let got = lab.receive(usize::MAX, Duration::from_millis(500));
    assert!(
        got.is_empty(),
        "nothing truncated was sent: {} datagrams",
        got.len()
    );
    let reply = lab.request("TEARDOWN");
    assert!(reply.starts_with("RTSP/1.0 200"), "{reply:?}");
    let session = format!("session={}", lab.session);
    let end = server
        .wait_log(&["session end", &session], Duration::from_secs(10))
        .expect("session end logged");
    stop(ffmpeg);
    assert!(end.contains("frames_sent=0"), "{end}");
    assert!(
        frames_dropped(&end) >= 2,
        "skipped frames are counted: {end}"
    );
    let warnings = server
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("not sent"))
        .count();
    assert_eq!(warnings, 1, "logged once, not per frame");
}
