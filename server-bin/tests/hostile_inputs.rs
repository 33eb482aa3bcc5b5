#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Bad-input suite: a table of hostile or malformed inputs, each sent on its own connection to
//! a running `rtsp-server` while a well-behaved standard UDP session plays. Every row states its
//! exact outcome; at the end the server must still be up, its RSS must not have grown by more
//! than a few MiB, and the good session must have received every packet (no sequence gap) at
//! 20 fps with no inter-frame gap over 250 ms.
//!
//! Adding an input is one line in [`cases`].

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{media_dir, recv_for, rtp, udp_pair, udp_transport, Rtsp, Server};

/// How the input is delivered.
enum Act {
    /// One write.
    Raw(Vec<u8>),
    /// Several writes with a pause between them (lab requests: one request per segment).
    Writes(Vec<Vec<u8>>),
    /// One byte per write, `ms` between bytes (slowloris).
    Slow(Vec<u8>, u64),
    /// A scripted exchange that returns the statuses it saw (and panics on a broken invariant).
    Script(fn(SocketAddr) -> Vec<u16>),
}

/// The exact outcome.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Exactly these reply statuses, and the connection stays open.
    Replies(&'static [u16]),
    /// Exactly this status, then the server closes the connection.
    Close(u16),
    /// The server refuses a flood: this status then close, or (when the kernel resets the
    /// connection because the flood was still unread) a reset before the reply could be read.
    CloseFlood(u16),
    /// No reply at all and the connection stays open (waiting for more bytes).
    Silent,
}

struct Case {
    name: &'static str,
    act: Act,
    expect: Expect,
}

fn case(name: &'static str, act: Act, expect: Expect) -> Case {
    Case { name, act, expect }
}

fn raw(s: &str) -> Act {
    Act::Raw(s.as_bytes().to_vec())
}

fn bytes(b: Vec<u8>) -> Act {
    Act::Raw(b)
}

fn lab(reqs: &[&str]) -> Act {
    Act::Writes(reqs.iter().map(|r| r.as_bytes().to_vec()).collect())
}

/// A standard request for the sample: `METHOD rtsp://h/movie.Mjpeg RTSP/1.0` + `extra` headers.
fn std_req(method: &str, path: &str, extra: &str) -> String {
    format!("{method} rtsp://127.0.0.1/{path} RTSP/1.0\r\nCSeq: 1\r\n{extra}\r\n")
}

const LAB_SETUP: &str =
    "SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 25000";

fn cases() -> Vec<Case> {
    use Expect::*;
    let mut garbage = vec![0xffu8; 1];
    let mut x: u32 = 0x1234_5678;
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        garbage.push(x as u8);
    }
    let huge_line = format!(
        "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let huge_uri = format!(
        "DESCRIBE rtsp://127.0.0.1/{} RTSP/1.0\r\nCSeq: 1\r\n\r\n",
        "a".repeat(20_000)
    );
    let many_headers = format!(
        "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n{}\r\n",
        "X-H: v\r\n".repeat(10_000)
    );
    let headers_65 = format!(
        "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n{}\r\n",
        "X-H: v\r\n".repeat(64)
    );
    let lab_300_ok = {
        let base = format!("{LAB_SETUP}\nX-Pad: ");
        format!("{base}{}", "p".repeat(300 - base.len()))
    };
    let lab_300_missing = {
        let head = "SETUP ";
        let tail = " RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 25000";
        format!(
            "{head}{}.Mjpeg{tail}",
            "m".repeat(300 - head.len() - tail.len() - 6)
        )
    };
    let mut dollar_then_options = vec![b'$', 1, 0, 8];
    dollar_then_options.extend_from_slice(&[0x80, 201, 0, 1, 0, 0, 0, 1]);
    dollar_then_options.extend_from_slice(b"OPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n");
    let mut dollar_ch255 = vec![b'$', 255, 0, 4, 1, 2, 3, 4];
    dollar_ch255.extend_from_slice(b"OPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n");
    let mut dollar_max = vec![b'$', 0, 0xff, 0xff];
    dollar_max.extend_from_slice(&vec![0u8; 0xffff]);
    dollar_max.extend_from_slice(b"OPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n");
    let nul_header = b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-A: a\0b\r\n\r\n".to_vec();
    let nul_line = b"OPTIONS *\0 RTSP/1.0\r\nCSeq: 1\r\n\r\n".to_vec();
    let latin1 = b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-A: \xe9\xff\r\n\r\n".to_vec();

    vec![
        // Framing and size limits.
        case("binary garbage 4 KiB", bytes(garbage), Close(400)),
        // Without a line end the parser waits (bounded by the 8 KiB line limit, next rows).
        case("zero bytes 1 KiB", bytes(vec![0; 1024]), Silent),
        case("zero bytes 9 KiB", bytes(vec![0; 9 * 1024]), CloseFlood(414)),
        case("1 MB header line", raw(&huge_line), CloseFlood(400)),
        case("20 kB request URI", raw(&huge_uri), CloseFlood(414)),
        case("10,000 headers", raw(&many_headers), CloseFlood(400)),
        case("65 headers", raw(&headers_65), Close(400)),
        case("Content-Length 2^63", raw(&std_req("SET_PARAMETER", "movie.Mjpeg", "Content-Length: 9223372036854775808\r\n")), Close(413)),
        case("Content-Length 2^64", raw(&std_req("SET_PARAMETER", "movie.Mjpeg", "Content-Length: 18446744073709551616\r\n")), Close(400)),
        case("Content-Length -1", raw(&std_req("SET_PARAMETER", "movie.Mjpeg", "Content-Length: -1\r\n")), Close(400)),
        case("Content-Length conflicting", raw(&std_req("SET_PARAMETER", "movie.Mjpeg", "Content-Length: 1\r\nContent-Length: 2\r\n")), Close(400)),
        case("body that never arrives", raw(&std_req("SET_PARAMETER", "movie.Mjpeg", "Content-Length: 100\r\n")), Silent),
        case("slowloris, complete", Act::Slow(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n".to_vec(), 15), Replies(&[200])),
        case("slowloris, never ends", Act::Slow(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-".to_vec(), 15), Silent),
        case("pipelined x3", raw(&"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n".repeat(3)), Replies(&[200, 200, 200])),
        case("pipelined DESCRIBE+OPTIONS+bogus", raw(&format!("{}{}{}", std_req("DESCRIBE", "movie.Mjpeg", ""), "OPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n", std_req("DESCRIBE", "nope.Mjpeg", ""))), Replies(&[200, 200, 404])),
        case("NUL in header", bytes(nul_header), Close(400)),
        case("NUL in request line", bytes(nul_line), Close(400)),
        case("non-UTF-8 header value", bytes(latin1), Close(400)),
        case("header without colon", raw("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nnocolon\r\n\r\n"), Close(400)),
        case("request line with 2 tokens", raw("OPTIONS *\r\nCSeq: 1\r\n\r\n"), Close(400)),
        case("request line with 4 tokens", raw("OPTIONS * RTSP/1.0 extra\r\nCSeq: 1\r\n\r\n"), Close(400)),
        case("empty lines only", raw("\r\n\r\n\r\n\r\n"), Silent),
        // Methods, versions, other protocols.
        case("unknown method", raw(&std_req("FROB", "movie.Mjpeg", "")), Replies(&[501])),
        case("RECORD (not allowed)", raw(&std_req("RECORD", "movie.Mjpeg", "")), Replies(&[405])),
        case("ANNOUNCE (not allowed)", raw(&std_req("ANNOUNCE", "movie.Mjpeg", "")), Replies(&[405])),
        case("lowercase method", raw(&std_req("options", "movie.Mjpeg", "")), Replies(&[501])),
        case("RTSP/2.0", raw("OPTIONS * RTSP/2.0\r\nCSeq: 1\r\n\r\n"), Replies(&[505])),
        case("RTSP/1.1", raw("OPTIONS * RTSP/1.1\r\nCSeq: 1\r\n\r\n"), Replies(&[505])),
        case("HTTP GET", raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Close(505)),
        case("TLS ClientHello", bytes(vec![0x16, 3, 1, 0, 0x50, 1, 0, 0, 0x4c, 3, 3]), Silent),
        // CSeq.
        case("absent CSeq", raw("OPTIONS * RTSP/1.0\r\n\r\n"), Replies(&[400])),
        case("non-numeric CSeq", raw("OPTIONS * RTSP/1.0\r\nCSeq: abc\r\n\r\n"), Replies(&[400])),
        case("CSeq 2^70", raw("OPTIONS * RTSP/1.0\r\nCSeq: 1180591620717411303424\r\n\r\n"), Replies(&[400])),
        case("negative CSeq", raw("OPTIONS * RTSP/1.0\r\nCSeq: -5\r\n\r\n"), Replies(&[400])),
        case("two different CSeqs", raw("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nCSeq: 2\r\n\r\n"), Replies(&[400])),
        // Sessions and state.
        case("PLAY before SETUP", raw(&std_req("PLAY", "movie.Mjpeg", "")), Replies(&[454])),
        case("PLAY with unknown Session", raw(&std_req("PLAY", "movie.Mjpeg", "Session: 12345678\r\n")), Replies(&[454])),
        case("PAUSE with unknown Session", raw(&std_req("PAUSE", "movie.Mjpeg", "Session: 0\r\n")), Replies(&[454])),
        case("TEARDOWN with unknown Session", raw(&std_req("TEARDOWN", "movie.Mjpeg", "Session: deadbeef\r\n")), Replies(&[454])),
        case("wrong Session after SETUP", Act::Script(wrong_session), Replies(&[200, 454, 200])),
        case("double SETUP", Act::Script(double_setup), Replies(&[200, 200, 200])),
        case("20 SETUPs on one connection", Act::Script(setup_flood), Replies(&SETUP_FLOOD)),
        case("TEARDOWN twice", Act::Script(teardown_twice), Replies(&[200, 200, 454])),
        case("PAUSE in READY", Act::Script(pause_in_ready), Replies(&[200, 200])),
        case("session stolen by another connection", Act::Script(stolen_session), Replies(&[200, 200])),
        // Paths.
        case("../../etc/passwd", raw(&std_req("DESCRIBE", "../../etc/passwd", "")), Replies(&[404])),
        case("%2e%2e%2f", raw(&std_req("DESCRIBE", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "")), Replies(&[404])),
        case("%2e%2e%2f SETUP", raw(&std_req("SETUP", "%2e%2e%2fmovie.Mjpeg", "Transport: RTP/AVP;unicast;client_port=5000-5001\r\n")), Replies(&[404])),
        case("absolute path", raw(&std_req("DESCRIBE", "/etc/passwd", "")), Replies(&[404])),
        case("encoded absolute path", raw(&std_req("DESCRIBE", "%2fetc%2fpasswd", "")), Replies(&[404])),
        case("backslash traversal", raw(&std_req("DESCRIBE", "..\\..\\etc\\passwd", "")), Replies(&[404])),
        case("NUL encoded in path", raw(&std_req("DESCRIBE", "movie.Mjpeg%00.txt", "")), Replies(&[400])),
        case("symlink file out of root", raw(&std_req("DESCRIBE", "escape.Mjpeg", "")), Replies(&[404])),
        case("symlink dir out of root", raw(&std_req("DESCRIBE", "outdir/secret.Mjpeg", "")), Replies(&[404])),
        case("symlink to /etc/passwd", raw(&std_req("DESCRIBE", "passwd.Mjpeg", "")), Replies(&[404])),
        case("directory as file", raw(&std_req("DESCRIBE", "", "")), Replies(&[404])),
        case("file:// URI", raw("DESCRIBE file:///etc/passwd RTSP/1.0\r\nCSeq: 1\r\n\r\n"), Replies(&[400])),
        // Transport.
        case("destination=10.1.2.3", Act::Script(foreign_destination), Replies(&[200, 200])),
        case("client_port 0", raw(&std_req("SETUP", "movie.Mjpeg", "Transport: RTP/AVP;unicast;client_port=0-1\r\n")), Replies(&[461])),
        case("client_port 65536", raw(&std_req("SETUP", "movie.Mjpeg", "Transport: RTP/AVP;unicast;client_port=65536-65537\r\n")), Replies(&[461])),
        case("client_port 65535-65536", raw(&std_req("SETUP", "movie.Mjpeg", "Transport: RTP/AVP;unicast;client_port=65535-65536\r\n")), Replies(&[461])),
        case("client_port garbage", raw(&std_req("SETUP", "movie.Mjpeg", "Transport: RTP/AVP;unicast;client_port=x-y\r\n")), Replies(&[461])),
        case("no Transport", raw(&std_req("SETUP", "movie.Mjpeg", "")), Replies(&[461])),
        case("multicast only", raw(&std_req("SETUP", "movie.Mjpeg", "Transport: RTP/AVP;multicast;client_port=5000-5001\r\n")), Replies(&[461])),
        case("interleaved=255-256", raw(&std_req("SETUP", "movie.Mjpeg", "Transport: RTP/AVP/TCP;interleaved=255-256\r\n")), Replies(&[461])),
        case("interleaved=255", raw(&std_req("SETUP", "movie.Mjpeg", "Transport: RTP/AVP/TCP;interleaved=255\r\n")), Replies(&[461])),
        case("interleaved=300-301", raw(&std_req("SETUP", "movie.Mjpeg", "Transport: RTP/AVP/TCP;interleaved=300-301\r\n")), Replies(&[461])),
        case("interleaved=-1", raw(&std_req("SETUP", "movie.Mjpeg", "Transport: RTP/AVP/TCP;interleaved=-1\r\n")), Replies(&[461])),
        // `$` frames.
        case("$ frame length past buffer", bytes(vec![b'$', 0, 0xff, 0xff, 1, 2, 3]), Silent),
        case("$ RTCP frame then OPTIONS", bytes(dollar_then_options), Replies(&[200])),
        case("$ channel 255 then OPTIONS", bytes(dollar_ch255), Replies(&[200])),
        case("$ 65535-byte frame then OPTIONS", bytes(dollar_max), Replies(&[200])),
        case("$ frame with zero length then OPTIONS", bytes(b"$\x00\x00\x00OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n".to_vec()), Replies(&[200])),
        // Lab dialect.
        case("lab SETUP (seed shape)", lab(&[LAB_SETUP]), Replies(&[200])),
        case("lab request of 300 bytes", lab(&[&lab_300_ok]), Replies(&[200])),
        case("lab 300-byte unknown file", lab(&[&lab_300_missing]), Replies(&[404])),
        case("lab SETUP+PLAY+PAUSE+TEARDOWN", Act::Script(lab_full), Replies(&[200, 200, 200, 200])),
        case("lab Sesssion typo", Act::Script(lab_sesssion), Replies(&[200, 200])),
        case("lab PLAY before SETUP", lab(&["PLAY movie.Mjpeg RTSP/1.0\nCSeq: 1\nSession: 0"]), Replies(&[454])),
        case("lab TEARDOWN before SETUP", lab(&["TEARDOWN movie.Mjpeg RTSP/1.0\nCSeq: 1\nSession: 0"]), Replies(&[454])),
        case("lab DESCRIBE", lab(&["DESCRIBE movie.Mjpeg RTSP/1.0\nCSeq: 1\nSession: 0"]), Replies(&[200])),
        case("lab RTSP/1.4 FORWARD before SETUP", lab(&["FORWARD movie.Mjpeg RTSP/1.4\nCSeq: 1\nSession: 0"]), Replies(&[454])),
        case("lab RESTART before SETUP", lab(&["RESTART movie.Mjpeg RTSP/1.4\nCSeq: 1\nSession: 0"]), Replies(&[454])),
        case("lab missing file", lab(&["SETUP nope.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 25000"]), Replies(&[404])),
        case("lab ../ path", lab(&["SETUP ../media/movie.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 25000"]), Replies(&[404])),
        case("lab absolute path", lab(&["SETUP /etc/passwd RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 25000"]), Replies(&[404])),
        case("lab client_port= empty", lab(&["SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= "]), Replies(&[461])),
        case("lab client_port= 0", lab(&["SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 0"]), Replies(&[461])),
        case("lab client_port= 70000", lab(&["SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 70000"]), Replies(&[461])),
        case("lab no Transport", lab(&["SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1"]), Replies(&[461])),
        case("lab no CSeq", lab(&["SETUP movie.Mjpeg RTSP/1.0\nTransport: RTP/UDP; client_port= 25000"]), Replies(&[400])),
        case("lab trailing newline", lab(&["SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 25000\n"]), Replies(&[200])),
        case("lab unknown method", lab(&["FROB movie.Mjpeg RTSP/1.0\nCSeq: 1\nSession: 0"]), Replies(&[501])),
        case("lab RTSP/1.9", lab(&["SETUP movie.Mjpeg RTSP/1.9\nCSeq: 1\nTransport: RTP/UDP; client_port= 25000"]), Replies(&[505])),
        case("lab NUL in file name", bytes(b"SETUP movie\0.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 25000".to_vec()), Close(400)),
    ]
}

// ---- scripted exchanges ----

fn url(addr: SocketAddr) -> String {
    format!("rtsp://{addr}/movie.Mjpeg")
}

fn setup_udp(c: &mut Rtsp, addr: SocketAddr, rtp: &UdpSocket) -> (u16, String) {
    let r = c.request("SETUP", &url(addr), &[("Transport", &udp_transport(rtp))]);
    let s = if r.status == 200 {
        r.session()
    } else {
        String::new()
    };
    (r.status, s)
}

fn wrong_session(addr: SocketAddr) -> Vec<u16> {
    let (rtp, _rtcp) = udp_pair();
    let mut c = Rtsp::connect(addr);
    let (a, s) = setup_udp(&mut c, addr, &rtp);
    let b = c
        .request("PLAY", &url(addr), &[("Session", &format!("{s}x"))])
        .status;
    let t = c.request("TEARDOWN", &url(addr), &[("Session", &s)]).status;
    vec![a, b, t]
}

fn double_setup(addr: SocketAddr) -> Vec<u16> {
    let (rtp, _rtcp) = udp_pair();
    let mut c = Rtsp::connect(addr);
    let (a, s) = setup_udp(&mut c, addr, &rtp);
    let r = c.request(
        "SETUP",
        &url(addr),
        &[("Transport", &udp_transport(&rtp)), ("Session", &s)],
    );
    assert_eq!(r.session(), s, "SETUP into a session keeps its id");
    let t = c.request("TEARDOWN", &url(addr), &[("Session", &s)]).status;
    vec![a, r.status, t]
}

/// 16 sessions per connection, then 503.
const SETUP_FLOOD: [u16; 20] = [
    200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 503, 503, 503,
    503,
];

/// New sessions on one connection are capped; reports the statuses of 20 session-less SETUPs.
fn setup_flood(addr: SocketAddr) -> Vec<u16> {
    let (rtp, _rtcp) = udp_pair();
    let mut c = Rtsp::connect(addr);
    let mut out = Vec::new();
    let mut sessions = Vec::new();
    for _ in 0..20 {
        let (st, s) = setup_udp(&mut c, addr, &rtp);
        out.push(st);
        sessions.push(s);
    }
    for s in sessions.iter().filter(|s| !s.is_empty()) {
        let _ = c.request("TEARDOWN", &url(addr), &[("Session", s)]);
    }
    out
}

fn teardown_twice(addr: SocketAddr) -> Vec<u16> {
    let (rtp, _rtcp) = udp_pair();
    let mut c = Rtsp::connect(addr);
    let (a, s) = setup_udp(&mut c, addr, &rtp);
    let b = c.request("TEARDOWN", &url(addr), &[("Session", &s)]).status;
    let d = c.request("TEARDOWN", &url(addr), &[("Session", &s)]).status;
    vec![a, b, d]
}

fn pause_in_ready(addr: SocketAddr) -> Vec<u16> {
    let (rtp, _rtcp) = udp_pair();
    let mut c = Rtsp::connect(addr);
    let (a, s) = setup_udp(&mut c, addr, &rtp);
    let b = c.request("PAUSE", &url(addr), &[("Session", &s)]).status;
    vec![a, b]
}

fn stolen_session(addr: SocketAddr) -> Vec<u16> {
    let (rtp, _rtcp) = udp_pair();
    let mut c = Rtsp::connect(addr);
    let (a, s) = setup_udp(&mut c, addr, &rtp);
    // Another connection from the same host: RFC 2326 sessions are not tied to a connection and
    // the server only refuses a session to a different peer address, so this is accepted; media
    // still only goes to 127.0.0.1.
    let mut thief = Rtsp::connect(addr);
    let (evil, _evil_rtcp) = udp_pair();
    let b = thief
        .request(
            "SETUP",
            &url(addr),
            &[("Transport", &udp_transport(&evil)), ("Session", &s)],
        )
        .status;
    let _ = c.request("TEARDOWN", &url(addr), &[("Session", &s)]);
    vec![a, b]
}

fn foreign_destination(addr: SocketAddr) -> Vec<u16> {
    let (rtp, _rtcp) = udp_pair();
    let p = rtp.local_addr().unwrap().port();
    let mut c = Rtsp::connect(addr);
    let t = format!(
        "RTP/AVP;unicast;destination=10.1.2.3;client_port={}-{}",
        p,
        p + 1
    );
    let r = c.request("SETUP", &url(addr), &[("Transport", &t)]);
    let transport = r.header("Transport").unwrap_or("").to_owned();
    // Refuse to PLAY (and so to send anything) unless the reply dropped the foreign address.
    assert!(
        !transport.contains("10.1.2.3"),
        "destination echoed: {transport}"
    );
    assert!(
        !transport.contains("destination"),
        "destination kept: {transport}"
    );
    if r.status != 200 {
        return vec![r.status];
    }
    let s = r.session();
    let play = c.request("PLAY", &url(addr), &[("Session", &s)]).status;
    let got = recv_for(&rtp, Duration::from_millis(600), 5);
    assert!(!got.is_empty(), "RTP must arrive at the requester");
    let _ = c.request("TEARDOWN", &url(addr), &[("Session", &s)]);
    vec![r.status, play]
}

/// A lab exchange on one connection; returns statuses and the last session id.
fn lab_exchange(addr: SocketAddr, reqs: &[String]) -> (Vec<u16>, String) {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut statuses = Vec::new();
    let mut session = String::from("0");
    for r in reqs {
        let r = r.replace("{S}", &session);
        tcp.write_all(r.as_bytes()).unwrap();
        let mut buf = [0u8; 1024];
        let n = tcp.read(&mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        statuses.extend(parse_statuses(&text));
        if let Some(s) = text.lines().find_map(|l| l.strip_prefix("Session: ")) {
            session = s.to_owned();
        }
    }
    (statuses, session)
}

fn lab_full(addr: SocketAddr) -> Vec<u16> {
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let p = rtp.local_addr().unwrap().port();
    let reqs: Vec<String> = vec![
        format!("SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= {p}"),
        "PLAY movie.Mjpeg RTSP/1.0\nCSeq: 2\nSession: {S}".into(),
        "PAUSE movie.Mjpeg RTSP/1.0\nCSeq: 3\nSession: {S}".into(),
        "TEARDOWN movie.Mjpeg RTSP/1.0\nCSeq: 4\nSession: {S}".into(),
    ];
    lab_exchange(addr, &reqs).0
}

fn lab_sesssion(addr: SocketAddr) -> Vec<u16> {
    let reqs: Vec<String> = vec![
        LAB_SETUP.into(),
        "TEARDOWN movie.Mjpeg RTSP/1.0\nCSeq: 2\nSesssion: {S}".into(),
    ];
    lab_exchange(addr, &reqs).0
}

// ---- observing one case ----

#[derive(Debug)]
struct Seen {
    statuses: Vec<u16>,
    closed: bool,
    reset: bool,
}

fn parse_statuses(text: &str) -> Vec<u16> {
    text.split('\n')
        .filter_map(|l| {
            let mut w = l.trim_end_matches('\r').split(' ');
            let v = w.next()?;
            if !(v.starts_with("RTSP/") && v.len() == 8) {
                return None;
            }
            let code = w.next()?;
            if code.len() != 3 {
                return None;
            }
            code.parse().ok()
        })
        .collect()
}

/// How long a connection must stay quiet before we decide the server is done with it.
const QUIET: Duration = Duration::from_millis(800);

fn observe(addr: SocketAddr, act: &Act) -> Seen {
    if let Act::Script(f) = act {
        return Seen {
            statuses: f(addr),
            closed: false,
            reset: false,
        };
    }
    let mut tcp = TcpStream::connect(addr).unwrap();
    let mut write_failed = false;
    match act {
        Act::Raw(b) => write_failed = tcp.write_all(b).is_err(),
        Act::Writes(parts) => {
            for p in parts {
                write_failed |= tcp.write_all(p).is_err();
                std::thread::sleep(Duration::from_millis(150));
            }
        }
        Act::Slow(b, ms) => {
            tcp.set_nodelay(true).unwrap();
            for byte in b {
                write_failed |= tcp.write_all(&[*byte]).is_err();
                std::thread::sleep(Duration::from_millis(*ms));
            }
        }
        Act::Script(_) => unreachable!(),
    }
    tcp.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut got = Vec::new();
    let mut closed = false;
    let mut reset = write_failed;
    let mut last = Instant::now();
    let start = Instant::now();
    let mut buf = vec![0u8; 65536];
    while last.elapsed() < QUIET && start.elapsed() < Duration::from_secs(8) {
        match tcp.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                last = Instant::now();
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => {
                closed = true;
                reset = true;
                break;
            }
        }
    }
    Seen {
        statuses: parse_statuses(&String::from_utf8_lossy(&got)),
        closed,
        reset,
    }
}

fn matches(expect: Expect, seen: &Seen) -> bool {
    match expect {
        Expect::Replies(codes) => seen.statuses == codes && !seen.closed,
        Expect::Close(code) => seen.closed && seen.statuses == [code],
        Expect::CloseFlood(code) => {
            seen.closed && (seen.statuses == [code] || (seen.reset && seen.statuses.is_empty()))
        }
        Expect::Silent => seen.statuses.is_empty() && !seen.closed,
    }
}

// ---- the well-behaved session ----

struct Good {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<Vec<(Instant, u16, bool)>>,
}

fn start_good(addr: SocketAddr) -> Good {
    let stop = Arc::new(AtomicBool::new(false));
    let (rtp_sock, rtcp) = udp_pair();
    let mut c = Rtsp::connect(addr);
    let u = url(addr);
    let r = c.request("SETUP", &u, &[("Transport", &udp_transport(&rtp_sock))]);
    assert_eq!(r.status, 200);
    let s = r.session();
    assert_eq!(c.request("PLAY", &u, &[("Session", &s)]).status, 200);
    let flag = Arc::clone(&stop);
    let handle = std::thread::spawn(move || {
        let _keep = (c, rtcp);
        let mut out = Vec::new();
        let mut buf = vec![0u8; 65536];
        while !flag.load(Ordering::Relaxed) {
            if let Ok(n) = rtp_sock.recv(&mut buf) {
                let h = rtp(&buf[..n]);
                out.push((Instant::now(), h.seq, h.marker));
            }
        }
        out
    });
    Good { stop, handle }
}

fn vm(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A media root holding the sample, plus symlinks that point out of it at a readable,
/// valid movie (so following them would visibly succeed) and at `/etc/passwd`.
fn hostile_media_root() -> PathBuf {
    let base = std::env::temp_dir().join(format!("rtsp-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let root = base.join("root");
    let outside = base.join("outside");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let movie = media_dir().join("movie.Mjpeg");
    std::fs::copy(&movie, root.join("movie.Mjpeg")).unwrap();
    std::fs::copy(&movie, outside.join("secret.Mjpeg")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.Mjpeg"), root.join("escape.Mjpeg")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("outdir")).unwrap();
    std::os::unix::fs::symlink(Path::new("/etc/passwd"), root.join("passwd.Mjpeg")).unwrap();
    root
}

#[test]
fn hostile_inputs_leave_the_server_and_a_playing_session_intact() {
    let root = hostile_media_root();
    let server = Server::start_in(&root, &["--loop"]);
    let addr = server.addr;
    let pid = server.child.id();
    let good = start_good(addr);
    std::thread::sleep(Duration::from_millis(500));
    let rss_before = vm(pid, "VmRSS:");

    let cases = cases();
    assert!(cases.len() >= 60, "only {} inputs", cases.len());
    let mut failures = Vec::new();
    let mut report = Vec::new();
    const BATCH: usize = 16;
    for batch in cases.chunks(BATCH) {
        let seen: Vec<Seen> = std::thread::scope(|s| {
            let hs: Vec<_> = batch
                .iter()
                .map(|c| s.spawn(move || observe(addr, &c.act)))
                .collect();
            hs.into_iter()
                .map(|h| {
                    h.join().unwrap_or(Seen {
                        statuses: vec![],
                        closed: false,
                        reset: false,
                    })
                })
                .collect()
        });
        for (c, s) in batch.iter().zip(seen) {
            let ok = matches(c.expect, &s);
            report.push(format!(
                "{:<40} expect {:<22} got {:?}{}{}",
                c.name,
                format!("{:?}", c.expect),
                s.statuses,
                if s.closed { " closed" } else { "" },
                if s.reset { " (reset)" } else { "" }
            ));
            if !ok {
                failures.push(format!("{}: expected {:?}, saw {:?}", c.name, c.expect, s));
            }
        }
        // The server still answers between batches.
        let mut probe = Rtsp::connect(addr);
        assert_eq!(probe.request("OPTIONS", "*", &[]).status, 200);
        assert!(server_alive(&server), "server died");
    }
    let rss_after = vm(pid, "VmRSS:");
    good.stop.store(true, Ordering::Relaxed);
    let packets = good.handle.join().unwrap();
    eprintln!("{}", report.join("\n"));
    eprintln!(
        "inputs: {}, RSS before {} KiB, after {} KiB",
        cases.len(),
        rss_before,
        rss_after
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        rss_after < rss_before + 16 * 1024,
        "RSS grew from {rss_before} KiB to {rss_after} KiB"
    );
    check_good(&packets);
    let _ = std::fs::remove_dir_all(root.parent().unwrap());
}

fn server_alive(server: &Server) -> bool {
    std::fs::metadata(format!("/proc/{}", server.child.id())).is_ok()
        && !std::fs::read_to_string(format!("/proc/{}/status", server.child.id()))
            .unwrap_or_default()
            .contains("State:\tZ")
}

fn check_good(packets: &[(Instant, u16, bool)]) {
    assert!(
        packets.len() > 100,
        "good session got {} packets",
        packets.len()
    );
    for w in packets.windows(2) {
        assert_eq!(
            w[1].1,
            w[0].1.wrapping_add(1),
            "sequence gap in the good session"
        );
    }
    let frames: Vec<Instant> = packets.iter().filter(|p| p.2).map(|p| p.0).collect();
    let mut worst = Duration::ZERO;
    for w in frames.windows(2) {
        worst = worst.max(w[1] - w[0]);
    }
    let span = (*frames.last().unwrap() - frames[0]).as_secs_f64();
    let fps = (frames.len() - 1) as f64 / span;
    eprintln!(
        "good session: {} frames over {span:.1} s = {fps:.2} fps, worst gap {worst:?}",
        frames.len()
    );
    assert!(
        worst <= Duration::from_millis(250),
        "inter-frame gap {worst:?}"
    );
    assert!((19.0..=21.0).contains(&fps), "rate {fps:.2} fps");
}

/// Slowloris that never finishes: a request trickled one byte at a time keeps the connection
/// "active", but a partial request older than the session timeout must be cut off, so a few
/// such peers cannot hold every connection slot.
#[test]
fn trickled_requests_are_cut_off_and_slots_freed() {
    let server = Server::start(&["--session-timeout", "2", "--max-connections", "6"]);
    let addr = server.addr;
    let started = Instant::now();
    let closed_after: Vec<Option<Duration>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..6)
            .map(|_| {
                s.spawn(move || {
                    let mut tcp = TcpStream::connect(addr).unwrap();
                    tcp.set_nodelay(true).unwrap();
                    tcp.set_read_timeout(Some(Duration::from_millis(250)))
                        .unwrap();
                    let t = Instant::now();
                    let _ = tcp.write_all(b"OPTIONS * RTSP/1.0\r\nX-Slow: ");
                    let mut buf = [0u8; 256];
                    while t.elapsed() < Duration::from_secs(8) {
                        if tcp.write_all(b"a").is_err() {
                            return Some(t.elapsed());
                        }
                        match tcp.read(&mut buf) {
                            Ok(0) => return Some(t.elapsed()),
                            Ok(_) => {}
                            Err(e)
                                if matches!(
                                    e.kind(),
                                    ErrorKind::WouldBlock | ErrorKind::TimedOut
                                ) => {}
                            Err(_) => return Some(t.elapsed()),
                        }
                    }
                    None
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    eprintln!(
        "trickled connections closed after {closed_after:?} ({:?} total)",
        started.elapsed()
    );
    for c in &closed_after {
        let c = c.expect("a trickling connection was never cut off");
        assert!(c <= Duration::from_millis(4000), "cut off only after {c:?}");
    }
    let mut probe = Rtsp::connect(addr);
    assert_eq!(probe.request("OPTIONS", "*", &[]).status, 200);
}
