#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The lab dialect, byte for byte: a test client that sends exactly what the lab's
//! `Client.py` (and the report's RTSP/1.4 extensions) send, and checks the byte shape of every
//! reply and every RTP packet.

mod common;

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use common::{recv_for, rtp, rtp_payload, Server};

/// A lab client: one TCP connection, requests written in one `send`, replies read with
/// `recv(1024)` like `Client.recvRtspReply`.
struct Lab {
    tcp: TcpStream,
    rtp: UdpSocket,
    file: String,
    seq: u32,
    session: u64,
}

impl Lab {
    fn connect(server: &Server, file: &str) -> Lab {
        let tcp = TcpStream::connect(server.addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        rtp.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        Lab {
            tcp,
            rtp,
            file: file.to_owned(),
            seq: 0,
            session: 0,
        }
    }

    fn rtp_port(&self) -> u16 {
        self.rtp.local_addr().unwrap().port()
    }

    /// Send raw request bytes in one write; return the reply of one `recv(1024)`.
    fn raw(&mut self, request: &str) -> String {
        self.tcp.write_all(request.as_bytes()).unwrap();
        let mut buf = [0u8; 1024];
        let n = self.tcp.read(&mut buf).unwrap();
        assert!(n > 0, "connection closed");
        assert!(n < 1024, "lab replies must fit the lab client's recv(1024)");
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    /// The exact request `Client.sendRtspRequest` builds.
    fn request(&mut self, method: &str, version: &str) -> String {
        self.seq += 1;
        let req = if method == "SETUP" {
            format!(
                "SETUP {} {version}\nCSeq: {}\nTransport: RTP/UDP; client_port= {}",
                self.file,
                self.seq,
                self.rtp_port()
            )
        } else {
            format!(
                "{method} {} {version}\nCSeq: {}\nSession: {}",
                self.file, self.seq, self.session
            )
        };
        self.raw(&req)
    }
}

/// Parse a lab reply the way `Client.parseRtspReply` does, and check its exact shape.
fn check_shape(reply: &str, version: &str, status: &str, cseq: u32, frames: Option<u64>) -> u64 {
    assert!(!reply.contains('\r'), "lab replies use bare LF: {reply:?}");
    assert!(!reply.ends_with('\n'), "no trailing newline: {reply:?}");
    let lines: Vec<&str> = reply.split('\n').collect();
    assert_eq!(lines[0], format!("{version} {status}"), "{reply:?}");
    assert_eq!(lines[1], format!("CSeq: {cseq}"), "{reply:?}");
    // `int(lines[2].split(' ')[1])`: exactly "Session: <decimal>".
    let session_parts: Vec<&str> = lines[2].split(' ').collect();
    assert_eq!(session_parts.len(), 2, "{reply:?}");
    assert_eq!(session_parts[0], "Session:");
    let session: u64 = session_parts[1].parse().expect("decimal session");
    match frames {
        Some(n) => {
            assert_eq!(
                lines.get(3).copied(),
                Some(format!("Frames: {n}").as_str()),
                "{reply:?}"
            );
            assert_eq!(lines.len(), 4, "{reply:?}");
        }
        None => assert_eq!(lines.len(), 3, "{reply:?}"),
    }
    session
}

#[test]
fn handout_session_byte_for_byte() {
    let server = Server::start(&[]);
    let movie = common::movie();
    let total = movie.frame_count() as u64;
    let mut lab = Lab::connect(&server, "movie.Mjpeg");

    let reply = lab.request("SETUP", "RTSP/1.0");
    lab.session = check_shape(&reply, "RTSP/1.0", "200 OK", 1, Some(total));
    assert!(lab.session > 0);

    let reply = lab.request("PLAY", "RTSP/1.0");
    assert_eq!(
        check_shape(&reply, "RTSP/1.0", "200 OK", 2, Some(total)),
        lab.session
    );
    let packets = recv_for(&lab.rtp, Duration::from_millis(1000), 15);
    assert_eq!(packets.len(), 15, "RTP packets arrive at 20 fps");
    let mut last_ts = None;
    for (i, (_, p)) in packets.iter().enumerate() {
        let h = rtp(p);
        assert_eq!(p[0] >> 6, 2, "RTP version 2");
        assert_eq!(h.pt, 26);
        assert!(!h.marker, "the lab sets marker 0");
        // Sequence number = frame number, starting at 1.
        assert_eq!(h.seq as usize, i + 1);
        // One whole JPEG per datagram: exactly the file's frame.
        assert_eq!(rtp_payload(p), movie.frame(i).unwrap(), "frame {i}");
        if let Some(prev) = last_ts {
            assert_eq!(h.ts.wrapping_sub(prev), 4500, "90 kHz at 20 fps");
        }
        last_ts = Some(h.ts);
    }

    let reply = lab.request("PAUSE", "RTSP/1.0");
    check_shape(&reply, "RTSP/1.0", "200 OK", 3, Some(total));
    // Drain what was in flight, then nothing more arrives.
    let in_flight = recv_for(&lab.rtp, Duration::from_millis(300), usize::MAX);
    let paused_after = in_flight
        .last()
        .map(|(_, p)| rtp(p).seq)
        .unwrap_or(packets.last().map(|(_, p)| rtp(p).seq).unwrap());
    assert!(
        recv_for(&lab.rtp, Duration::from_millis(400), 100).is_empty(),
        "PAUSE stops RTP"
    );

    let reply = lab.request("PLAY", "RTSP/1.0");
    check_shape(&reply, "RTSP/1.0", "200 OK", 4, Some(total));
    let resumed = recv_for(&lab.rtp, Duration::from_millis(1000), 3);
    assert_eq!(
        rtp(&resumed[0].1).seq,
        paused_after + 1,
        "resumes where it paused"
    );

    let reply = lab.request("TEARDOWN", "RTSP/1.0");
    check_shape(&reply, "RTSP/1.0", "200 OK", 5, Some(total));
    recv_for(&lab.rtp, Duration::from_millis(200), usize::MAX);
    assert!(
        recv_for(&lab.rtp, Duration::from_millis(300), 100).is_empty(),
        "TEARDOWN stops RTP"
    );
    assert!(server
        .wait_log(
            &["session end", "reason=\"teardown\""],
            Duration::from_secs(2)
        )
        .is_some());
}

#[test]
fn report_extensions_rtsp_1_4() {
    let server = Server::start(&[]);
    let total = common::movie().frame_count() as u64;
    let mut lab = Lab::connect(&server, "movie.Mjpeg");
    let v = "RTSP/1.4";
    let reply = lab.request("SETUP", v);
    lab.session = check_shape(&reply, v, "200 OK", 1, Some(total));

    // FORWARD in READY moves the start: the first packet after PLAY is frame 21.
    check_shape(&lab.request("FORWARD", v), v, "200 OK", 2, Some(total));
    check_shape(&lab.request("PLAY", v), v, "200 OK", 3, Some(total));
    let first = recv_for(&lab.rtp, Duration::from_millis(1000), 1);
    assert_eq!(rtp(&first[0].1).seq, 21);

    // RESTART while playing: back to frame 1.
    check_shape(&lab.request("RESTART", v), v, "200 OK", 4, Some(total));
    let after = recv_for(&lab.rtp, Duration::from_millis(1500), 30);
    let seqs: Vec<u16> = after.iter().map(|(_, p)| rtp(p).seq).collect();
    let at = seqs
        .iter()
        .position(|s| *s == 1)
        .expect("restarted at frame 1");
    assert!(seqs[at..].windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");

    // BACKWARD goes back 20 frames: the sequence (= frame number) drops by 19 after a send.
    check_shape(&lab.request("BACKWARD", v), v, "200 OK", 5, Some(total));
    let after = recv_for(&lab.rtp, Duration::from_millis(600), 8);
    let mut joined = vec![*seqs.last().unwrap()];
    joined.extend(after.iter().map(|(_, p)| rtp(p).seq));
    assert!(
        joined.windows(2).any(|w| w[0] == w[1] + 19),
        "went back 20 frames: {joined:?}"
    );
    // Twice more clamps at the first frame.
    check_shape(&lab.request("BACKWARD", v), v, "200 OK", 6, Some(total));
    check_shape(&lab.request("BACKWARD", v), v, "200 OK", 7, Some(total));
    let after = recv_for(&lab.rtp, Duration::from_millis(600), 8);
    assert!(
        after.iter().any(|(_, p)| rtp(p).seq == 1),
        "clamped to the first frame"
    );

    // FORWARD near the end clamps to the last frame.
    for i in 0..30 {
        check_shape(&lab.request("FORWARD", v), v, "200 OK", 8 + i, Some(total));
    }
    let tail = recv_for(&lab.rtp, Duration::from_millis(400), 1000);
    assert!(tail.iter().all(|(_, p)| u64::from(rtp(p).seq) <= total));
    assert_eq!(
        tail.last().map(|(_, p)| u64::from(rtp(p).seq)),
        Some(total),
        "ends on the last frame"
    );
    // The stream ran out; PLAY starts over.
    check_shape(&lab.request("PLAY", v), v, "200 OK", 38, Some(total));
    let again = recv_for(&lab.rtp, Duration::from_millis(500), 1);
    assert_eq!(rtp(&again[0].1).seq, 1);

    check_shape(&lab.request("TEARDOWN", v), v, "200 OK", 39, Some(total));
}

#[test]
fn describe_answers_with_the_sdp_body() {
    let server = Server::start(&[]);
    let mut lab = Lab::connect(&server, "movie.Mjpeg");
    lab.session = check_shape(
        &lab.request("SETUP", "RTSP/1.0"),
        "RTSP/1.0",
        "200 OK",
        1,
        Some(500),
    );
    let reply = lab.request("DESCRIBE", "RTSP/1.0");
    let (head, body) = reply.split_once("\n\n").expect("body after a blank line");
    // The fixed lines first (the lab client reads them by position), then the body's entity
    // headers, as for any other body.
    let lines: Vec<&str> = head.split('\n').collect();
    check_shape(
        &lines[..4.min(lines.len())].join("\n"),
        "RTSP/1.0",
        "200 OK",
        2,
        Some(500),
    );
    assert_eq!(
        &lines[4..],
        [
            "Content-Type: application/sdp".to_owned(),
            format!("Content-Length: {}", body.len())
        ],
        "{reply:?}"
    );
    assert!(body.starts_with("v=0"));
    assert!(body.contains("m=video 0 RTP/AVP 26"));
    assert!(body.contains("a=rtpmap:26 JPEG/90000"));
    assert!(body.contains("a=range:npt=0-25.000"));
}

#[test]
fn errors_keep_the_lab_shape() {
    let server = Server::start(&[]);
    // Unknown file: 404 (the lab server would have crashed its worker).
    let mut lab = Lab::connect(&server, "nothere.Mjpeg");
    check_shape(
        &lab.request("SETUP", "RTSP/1.0"),
        "RTSP/1.0",
        "404 Not Found",
        1,
        None,
    );
    // Paths outside the media root: 404, not the file.
    for name in [
        "../Cargo.toml",
        "/etc/passwd",
        "../../etc/passwd.Mjpeg",
        "sub/../../x.Mjpeg",
    ] {
        let mut lab = Lab::connect(&server, name);
        check_shape(
            &lab.request("SETUP", "RTSP/1.0"),
            "RTSP/1.0",
            "404 Not Found",
            1,
            None,
        );
    }
    // PLAY before SETUP names no session: 454 (RFC 2326 11.3.5, "missing"), as does an
    // invented session.
    let mut lab = Lab::connect(&server, "movie.Mjpeg");
    lab.seq = 0;
    let r = lab.raw("PLAY movie.Mjpeg RTSP/1.0\nCSeq: 1");
    check_shape(&r, "RTSP/1.0", "454 Session Not Found", 1, None);
    lab.session = 123456;
    let r = lab.request("PLAY", "RTSP/1.0");
    let echoed = check_shape(&r, "RTSP/1.0", "454 Session Not Found", 1, None);
    assert_eq!(echoed, 123456);
    // An unsupported version: 505.
    let r = lab.raw("SETUP movie.Mjpeg RTSP/2.0\nCSeq: 3\nTransport: RTP/UDP; client_port= 25000");
    assert!(r.starts_with("RTSP/1.0 505 "), "{r:?}");
    check_shape(&r, "RTSP/1.0", "505 RTSP Version not supported", 3, None);
    // An unknown method: 501.
    let r = lab.raw("JUMP movie.Mjpeg RTSP/1.0\nCSeq: 4\nSession: 1");
    check_shape(&r, "RTSP/1.0", "501 Not Implemented", 4, None);
}

#[test]
fn closing_the_lab_connection_ends_the_session() {
    let server = Server::start(&[]);
    let mut lab = Lab::connect(&server, "movie.Mjpeg");
    lab.session = check_shape(
        &lab.request("SETUP", "RTSP/1.0"),
        "RTSP/1.0",
        "200 OK",
        1,
        Some(500),
    );
    lab.request("PLAY", "RTSP/1.0");
    assert!(!recv_for(&lab.rtp, Duration::from_millis(500), 3).is_empty());
    let id = lab.session.to_string();
    drop(lab.tcp);
    assert!(server
        .wait_log(
            &["session end", &id, "connection closed"],
            Duration::from_secs(3)
        )
        .is_some());
    recv_for(&lab.rtp, Duration::from_millis(300), usize::MAX);
    assert!(recv_for(&lab.rtp, Duration::from_millis(300), 100).is_empty());
}

/// Reads lab replies until `n` have arrived (they may come in one read or several), and
/// splits them: lab replies have no terminator, each starts with its status line.
fn read_replies(tcp: &mut TcpStream, n: usize) -> Vec<String> {
    let mut text = String::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while text.matches("Frames: ").count() < n && std::time::Instant::now() < deadline {
        let mut buf = [0u8; 1024];
        match tcp.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => text.push_str(&String::from_utf8_lossy(&buf[..k])),
            Err(_) => break,
        }
    }
    text.split("RTSP/1.0 ")
        .filter(|r| !r.is_empty())
        .map(|r| format!("RTSP/1.0 {r}"))
        .collect()
}

/// The report's merged SETUP+PLAY client (its Extension 2) writes SETUP and PLAY back to back,
/// so its PLAY carries `Session: 0`: it has not read the SETUP reply yet. A lab connection owns
/// its session, and the PLAY applies to it. The two requests may even reach the server in one
/// read, the PLAY glued to the SETUP's last line (lab requests end without a newline).
#[test]
fn merged_setup_and_play_with_session_0() {
    let server = Server::start(&[]);
    let total = common::movie().frame_count() as u64;
    for glued in [true, false] {
        let mut lab = Lab::connect(&server, "movie.Mjpeg");
        lab.tcp.set_nodelay(true).unwrap();
        let setup = format!(
            "SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= {}",
            lab.rtp_port()
        );
        let play = "PLAY movie.Mjpeg RTSP/1.0\nCSeq: 2\nSession: 0";
        if glued {
            lab.tcp
                .write_all(format!("{setup}{play}").as_bytes())
                .unwrap();
        } else {
            lab.tcp.write_all(setup.as_bytes()).unwrap();
            lab.tcp.write_all(play.as_bytes()).unwrap();
        }
        let replies = read_replies(&mut lab.tcp, 2);
        assert_eq!(replies.len(), 2, "glued={glued}: {replies:?}");
        let session = check_shape(&replies[0], "RTSP/1.0", "200 OK", 1, Some(total));
        assert_eq!(
            check_shape(&replies[1], "RTSP/1.0", "200 OK", 2, Some(total)),
            session,
            "the PLAY applies to the connection's session"
        );
        let packets = recv_for(&lab.rtp, Duration::from_millis(1000), 10);
        assert_eq!(
            packets.len(),
            10,
            "glued={glued}: RTP after the merged PLAY"
        );
        assert_eq!(rtp(&packets[0].1).seq, 1);
        // TEARDOWN with Session: 0 ends it too.
        let r = lab.raw("TEARDOWN movie.Mjpeg RTSP/1.0\nCSeq: 3\nSession: 0");
        assert_eq!(
            check_shape(&r, "RTSP/1.0", "200 OK", 3, Some(total)),
            session
        );
        assert!(server
            .wait_log(
                &["session end", &session.to_string(), "teardown"],
                Duration::from_secs(2)
            )
            .is_some());
    }
}

/// The lab server keeps one session per connection: a second SETUP on the same connection
/// answers with the same session. In READY it takes the new client port; while PLAYING it is
/// acknowledged and changes nothing (the stream goes on where it was).
#[test]
fn second_lab_setup_keeps_the_connection_session() {
    let server = Server::start(&[]);
    let total = common::movie().frame_count() as u64;
    let mut lab = Lab::connect(&server, "movie.Mjpeg");
    let first = check_shape(
        &lab.request("SETUP", "RTSP/1.0"),
        "RTSP/1.0",
        "200 OK",
        1,
        Some(total),
    );
    // A second SETUP in READY, to a new port: same session, RTP goes to the new port.
    let new_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    new_rtp
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let r = lab.raw(&format!(
        "SETUP movie.Mjpeg RTSP/1.0\nCSeq: 2\nTransport: RTP/UDP; client_port= {}",
        new_rtp.local_addr().unwrap().port()
    ));
    assert_eq!(check_shape(&r, "RTSP/1.0", "200 OK", 2, Some(total)), first);
    lab.seq = 2;
    lab.session = first;
    check_shape(
        &lab.request("PLAY", "RTSP/1.0"),
        "RTSP/1.0",
        "200 OK",
        3,
        Some(total),
    );
    let packets = recv_for(&new_rtp, Duration::from_millis(1000), 5);
    assert_eq!(packets.len(), 5, "RTP to the port of the second SETUP");
    // While PLAYING: 200, same session, and the stream goes on without a restart.
    let r = lab.raw(&format!(
        "SETUP movie.Mjpeg RTSP/1.0\nCSeq: 4\nTransport: RTP/UDP; client_port= {}",
        new_rtp.local_addr().unwrap().port()
    ));
    assert_eq!(check_shape(&r, "RTSP/1.0", "200 OK", 4, Some(total)), first);
    let more = recv_for(&new_rtp, Duration::from_millis(1000), 5);
    let seqs: Vec<u16> = packets
        .iter()
        .chain(&more)
        .map(|(_, p)| rtp(p).seq)
        .collect();
    assert!(seqs.windows(2).all(|w| w[1] > w[0]), "{seqs:?}");
    assert!(
        server
            .log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains("session start"))
            .count()
            == 1
    );
}
