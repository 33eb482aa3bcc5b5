#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! RFC 2326 read to the letter where clients rely on it, in both dialects: each test quotes the
//! requirement it checks.
//!
//! Section 4 (line terminators) and section 12.37 with 11.3.5 (the Session header: which
//! requests need one, and what a request without one gets).

mod common;

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use common::{recv_for, Rtsp, Server};

/// A request with every line ended by `eol`, a blank line, and the body (with its
/// Content-Length) if there is one.
fn request(method: &str, uri: &str, eol: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut text = format!("{method} {uri} RTSP/1.0{eol}");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}{eol}"));
    }
    if !body.is_empty() {
        text.push_str(&format!("Content-Length: {}{eol}", body.len()));
    }
    text.push_str(eol);
    text.push_str(body);
    text
}

const TERMINATORS: [(&str, &str); 3] = [("CRLF", "\r\n"), ("LF", "\n"), ("CR", "\r")];

/// RFC 2326 section 4: "Lines are terminated by CRLF, but receivers should be prepared to also
/// interpret CR and LF by themselves as line terminators."
///
/// A standard client writing any of the three gets standard replies (CRLF, blank line): the
/// terminator says nothing about the dialect. Bodies (SET_PARAMETER, ANNOUNCE) are framed by
/// their Content-Length whatever ends the lines before them, so pipelined requests behind
/// them are answered in order (section 9.1).
#[test]
fn section_4_line_terminators_standard_dialect() {
    let server = Server::start(&[]);
    let presentation = server.url("movie.Mjpeg");
    let aggregate = server.url("movie.Mjpeg/");
    let track = server.url("movie.Mjpeg/track1");
    let mut cases: Vec<(String, String)> = TERMINATORS
        .iter()
        .map(|(name, eol)| ((*name).to_owned(), (*eol).to_owned()))
        .collect();
    cases.push(("mixed".to_owned(), String::new()));
    for (name, eol) in cases {
        // "mixed": every line of one request ends differently.
        let req = |method: &str, uri: &str, headers: &[(&str, &str)], body: &str| {
            if eol.is_empty() {
                let crlf = request(method, uri, "\r\n", headers, body);
                let (head, body) = crlf.split_once("\r\n\r\n").unwrap();
                let ends = ["\r\n", "\n", "\r"];
                let mut text = String::new();
                for (i, line) in head.split("\r\n").enumerate() {
                    text.push_str(line);
                    text.push_str(ends[i % 3]);
                }
                // CRLF for the blank line: after a bare CR it cannot read as one CRLF.
                text.push_str("\r\n");
                text.push_str(body);
                text
            } else {
                request(method, uri, &eol, headers, body)
            }
        };
        let mut c = Rtsp::connect(server.addr);
        c.send_raw(req("OPTIONS", "*", &[("CSeq", "1")], "").as_bytes());
        let r = c.read_reply();
        assert_eq!((r.status, r.header("CSeq")), (200, Some("1")), "{name}");
        assert!(
            r.header("Public").is_some_and(|p| p.contains("PLAY")),
            "{name}: {r:?}"
        );

        c.send_raw(req("DESCRIBE", &presentation, &[("CSeq", "2")], "").as_bytes());
        let r = c.read_reply();
        assert_eq!(r.status, 200, "{name}");
        assert_eq!(r.header("Content-Type"), Some("application/sdp"), "{name}");
        assert!(r.body.starts_with(b"v=0"), "{name}");

        let transport = "RTP/AVP/TCP;unicast;interleaved=0-1";
        c.send_raw(
            req(
                "SETUP",
                &track,
                &[("CSeq", "3"), ("Transport", transport)],
                "",
            )
            .as_bytes(),
        );
        let r = c.read_reply();
        assert_eq!(r.status, 200, "{name}: {r:?}");
        let session = r.session();
        let s = ("Session", session.as_str());

        // A body, then a pipelined request in the same write: 451 for the parameter we do
        // not have, then the keep-alive's 200.
        let mut pipelined = req(
            "SET_PARAMETER",
            &aggregate,
            &[("CSeq", "4"), s],
            "volume: 5",
        );
        pipelined.push_str(&req("GET_PARAMETER", &aggregate, &[("CSeq", "5"), s], ""));
        c.send_raw(pipelined.as_bytes());
        let r = c.read_reply();
        assert_eq!((r.status, r.header("CSeq")), (451, Some("4")), "{name}");
        let r = c.read_reply();
        assert_eq!((r.status, r.header("CSeq")), (200, Some("5")), "{name}");

        // A method we do not serve, with a body, then another request.
        let body = if eol.is_empty() { "v=0\n" } else { "v=0\r\n" };
        let mut pipelined = req(
            "ANNOUNCE",
            &aggregate,
            &[("CSeq", "6"), s, ("Content-Type", "application/sdp")],
            body,
        );
        pipelined.push_str(&req("OPTIONS", "*", &[("CSeq", "7")], ""));
        c.send_raw(pipelined.as_bytes());
        let r = c.read_reply();
        assert_eq!((r.status, r.header("CSeq")), (405, Some("6")), "{name}");
        let r = c.read_reply();
        assert_eq!((r.status, r.header("CSeq")), (200, Some("7")), "{name}");

        c.send_raw(req("PLAY", &aggregate, &[("CSeq", "8"), s], "").as_bytes());
        let r = c.read_reply();
        assert_eq!(r.status, 200, "{name}");
        c.collect_interleaved(Duration::from_millis(400));
        assert!(
            c.interleaved.iter().filter(|(ch, _)| *ch == 0).count() >= 3,
            "{name}: RTP follows the PLAY"
        );
        c.send_raw(req("TEARDOWN", &aggregate, &[("CSeq", "9"), s], "").as_bytes());
        let r = c.read_reply();
        assert_eq!((r.status, r.header("CSeq")), (200, Some("9")), "{name}");
    }
}

/// A lab connection: the lab client's request shape, replies read like `recv(1024)`.
struct Lab {
    tcp: TcpStream,
    rtp: UdpSocket,
}

impl Lab {
    fn connect(server: &Server) -> Lab {
        let tcp = TcpStream::connect(server.addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        rtp.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Lab { tcp, rtp }
    }

    fn port(&self) -> u16 {
        self.rtp.local_addr().unwrap().port()
    }

    /// One request in one write, one reply in one read.
    fn exchange(&mut self, request: &str) -> String {
        self.tcp.write_all(request.as_bytes()).unwrap();
        let mut buf = [0u8; 1024];
        let n = self.tcp.read(&mut buf).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

/// The status line and CSeq of a lab reply, and its session number.
fn lab_reply(reply: &str) -> (&str, &str, u64) {
    let mut lines = reply.split('\n');
    let status = lines.next().unwrap_or_default();
    let cseq = lines.next().unwrap_or_default();
    let session = lines
        .next()
        .and_then(|l| l.strip_prefix("Session: "))
        .and_then(|s| s.parse().ok())
        .unwrap_or(u64::MAX);
    (status, cseq, session)
}

/// Section 4 in the lab dialect: a lab request (bare file name) is understood whatever ends
/// its lines, with a blank line after the head and a body behind it; and, as lab clients write
/// it, with bare LF and no blank line. Replies keep the lab shape.
#[test]
fn section_4_line_terminators_lab_dialect() {
    let server = Server::start(&[]);
    let file = "movie.Mjpeg";
    let mut cases: Vec<(&str, Option<&str>)> = TERMINATORS
        .iter()
        .map(|(name, eol)| (*name, Some(*eol)))
        .collect();
    // The lab client's own form: bare LF, no blank line, no trailing newline.
    cases.push(("lab client", None));
    for (name, eol) in cases {
        let mut lab = Lab::connect(&server);
        let req = |method: &str, cseq: u32, header: (&str, String), body: &str| match eol {
            Some(eol) => request(
                method,
                file,
                eol,
                &[("CSeq", &cseq.to_string()), (header.0, &header.1)],
                body,
            ),
            None => format!(
                "{method} {file} RTSP/1.0\nCSeq: {cseq}\n{}: {}",
                header.0, header.1
            ),
        };
        let transport = ("Transport", format!("RTP/UDP; client_port= {}", lab.port()));
        let r = lab.exchange(&req("SETUP", 1, transport, ""));
        let (status, cseq, session) = lab_reply(&r);
        assert_eq!(
            (status, cseq),
            ("RTSP/1.0 200 OK", "CSeq: 1"),
            "{name}: {r:?}"
        );
        assert!(
            !r.contains('\r'),
            "{name}: lab replies keep the lab shape: {r:?}"
        );
        let s = ("Session", session.to_string());

        let r = lab.exchange(&req("PLAY", 2, s.clone(), ""));
        assert_eq!(
            lab_reply(&r),
            ("RTSP/1.0 200 OK", "CSeq: 2", session),
            "{name}"
        );
        assert!(
            recv_for(&lab.rtp, Duration::from_millis(600), 3).len() == 3,
            "{name}: RTP follows the PLAY"
        );
        if eol.is_some() {
            let r = lab.exchange(&req("SET_PARAMETER", 3, s.clone(), "volume: 5"));
            assert_eq!(
                lab_reply(&r),
                ("RTSP/1.0 451 Parameter Not Understood", "CSeq: 3", session),
                "{name}"
            );
        }
        let r = lab.exchange(&req("TEARDOWN", 4, s, ""));
        assert_eq!(
            lab_reply(&r),
            ("RTSP/1.0 200 OK", "CSeq: 4", session),
            "{name}"
        );
    }
}

/// RFC 2326 12.37: "Once a client receives a Session identifier, it MUST return it for any
/// request related to that session." 11.3.5, 454 Session Not Found: "The RTSP session
/// identifier in the Session header is missing, invalid, or has timed out."
///
/// So PLAY, PAUSE and TEARDOWN (which act on a session) get 454 without a Session header as
/// with an unknown one (`0` included: we never hand it out). Table 3 exempts SETUP and OPTIONS;
/// Appendix A: "The requests OPTIONS, ANNOUNCE, DESCRIBE, GET_PARAMETER, SET_PARAMETER do not
/// have any effect on client or server state", and 10.8 lets a GET_PARAMETER without a body
/// "test client or server liveness": those are answered without a session, and 454 when
/// they name one that does not exist.
#[test]
fn section_12_37_requests_without_a_session_standard_dialect() {
    let server = Server::start(&[]);
    let mut c = Rtsp::connect(server.addr);
    let aggregate = server.url("movie.Mjpeg/");
    let mut got = Vec::new();
    for m in ["PLAY", "PAUSE", "TEARDOWN"] {
        got.push((m, "none", c.request(m, &aggregate, &[]).status));
        for id in ["0", "12345678"] {
            got.push((m, id, c.request(m, &aggregate, &[("Session", id)]).status));
        }
    }
    for m in ["GET_PARAMETER", "SET_PARAMETER", "DESCRIBE"] {
        got.push((m, "none", c.request(m, &aggregate, &[]).status));
        got.push((
            m,
            "12345678",
            c.request(m, &aggregate, &[("Session", "12345678")]).status,
        ));
    }
    let want: Vec<(&str, &str, u16)> = vec![
        ("PLAY", "none", 454),
        ("PLAY", "0", 454),
        ("PLAY", "12345678", 454),
        ("PAUSE", "none", 454),
        ("PAUSE", "0", 454),
        ("PAUSE", "12345678", 454),
        ("TEARDOWN", "none", 454),
        ("TEARDOWN", "0", 454),
        ("TEARDOWN", "12345678", 454),
        ("GET_PARAMETER", "none", 200),
        ("GET_PARAMETER", "12345678", 454),
        ("SET_PARAMETER", "none", 200),
        ("SET_PARAMETER", "12345678", 454),
        ("DESCRIBE", "none", 200),
        ("DESCRIBE", "12345678", 454),
    ];
    assert_eq!(got, want);
    // OPTIONS "does not influence server state" (10.1): answered with any Session.
    assert_eq!(c.request("OPTIONS", "*", &[]).status, 200);
    assert_eq!(
        c.request("OPTIONS", "*", &[("Session", "12345678")]).status,
        200
    );
}

/// 12.37: "multiple 'user' sessions for the same URL from the same client MUST use different
/// session identifiers"; "a session identifier identifies a RTSP session across transport
/// sessions or connections". 10.4: a SETUP naming a session is bundled into it. 10.7: after
/// TEARDOWN "any RTSP session identifier associated with the session is no longer valid".
#[test]
fn section_12_37_session_identity_standard_dialect() {
    let server = Server::start(&[]);
    let mut c = Rtsp::connect(server.addr);
    let aggregate = server.url("movie.Mjpeg/");
    let track = server.url("movie.Mjpeg/track1");
    let (rtp_a, _rtcp_a) = common::udp_pair();
    let (rtp_b, _rtcp_b) = common::udp_pair();
    let a = c.request(
        "SETUP",
        &track,
        &[("Transport", &common::udp_transport(&rtp_a))],
    );
    let b = c.request(
        "SETUP",
        &track,
        &[("Transport", &common::udp_transport(&rtp_b))],
    );
    assert_eq!((a.status, b.status), (200, 200));
    let (a, b) = (a.session(), b.session());
    assert_ne!(a, b, "two sessions for one URL from one client");
    let r = c.request(
        "SETUP",
        &track,
        &[
            ("Session", &a),
            ("Transport", &common::udp_transport(&rtp_a)),
        ],
    );
    assert_eq!(
        (r.status, r.session()),
        (200, a.clone()),
        "bundled into the session named"
    );
    let r = c.request(
        "SETUP",
        &track,
        &[
            ("Session", "12345678"),
            ("Transport", &common::udp_transport(&rtp_a)),
        ],
    );
    assert_eq!(r.status, 454);
    // Another connection controls the session.
    let mut other = Rtsp::connect(server.addr);
    assert_eq!(
        other.request("PLAY", &aggregate, &[("Session", &a)]).status,
        200
    );
    assert!(!recv_for(&rtp_a, Duration::from_millis(500), 3).is_empty());
    assert_eq!(
        other
            .request("TEARDOWN", &aggregate, &[("Session", &a)])
            .status,
        200
    );
    for m in ["PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER"] {
        assert_eq!(
            c.request(m, &aggregate, &[("Session", &a)]).status,
            454,
            "{m} after TEARDOWN"
        );
    }
    assert_eq!(
        c.request("TEARDOWN", &aggregate, &[("Session", &b)]).status,
        200
    );
}

/// 11.3.5 in the lab dialect: a lab client sends `Session: 0` until SETUP gave it a number. On
/// a connection that holds no session, a request acting on a session has none: 454, in the lab
/// shape, echoing the number the client sent.
#[test]
fn section_12_37_requests_without_a_session_lab_dialect() {
    let server = Server::start(&[]);
    let mut lab = Lab::connect(&server);
    let mut got = Vec::new();
    let mut want = Vec::new();
    let requests = [
        ("PLAY", "RTSP/1.0"),
        ("PAUSE", "RTSP/1.0"),
        ("TEARDOWN", "RTSP/1.0"),
        ("FORWARD", "RTSP/1.4"),
        ("RESTART", "RTSP/1.4"),
    ];
    for (i, (method, version)) in requests.into_iter().enumerate() {
        for session in ["0", "123456"] {
            let r = lab.exchange(&format!(
                "{method} movie.Mjpeg {version}\nCSeq: {}\nSession: {session}",
                i + 1
            ));
            let (status, _, echoed) = lab_reply(&r);
            got.push((method, status.to_owned(), echoed.to_string()));
            want.push((
                method,
                format!("{version} 454 Session Not Found"),
                session.to_owned(),
            ));
        }
    }
    assert_eq!(got, want);
}
