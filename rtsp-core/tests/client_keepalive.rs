#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Keepalive behaviour against a scripted standard-dialect server: the period follows the
//! announced session timeout (timeout/2), the method follows `Public` (GET_PARAMETER if listed,
//! else `OPTIONS *`), a failed keepalive is retried with the other method, and the session is
//! never torn down because of it.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rtsp_core::client::{Client, ClientConfig, State, TransportPreference};
use rtsp_core::rtsp::{Message, MessageParser, Method};

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\na=control:*\r\nm=video 0 RTP/AVP 26\r\na=rtpmap:26 JPEG/90000\r\na=control:track1\r\n";

/// Serves one connection: answers everything with 200 except the methods in `refuse` (501),
/// announces `Public: public` and a 2 s session timeout; records (method, uri) of each request.
/// (method, request-URI) of every request, in order.
type Log = Arc<Mutex<Vec<(String, String)>>>;

fn scripted_server(public: &'static str, refuse: &'static [&'static str]) -> (u16, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = Arc::new(Mutex::new(Vec::new()));
    let log2 = Arc::clone(&log);
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut parser = MessageParser::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = match conn.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            parser.push(&buf[..n]).unwrap();
            while let Some(msg) = parser.next().unwrap() {
                let Message::Request(req) = msg else { continue };
                let method = req.method().as_str().to_owned();
                log2.lock()
                    .unwrap()
                    .push((method.clone(), req.uri().to_owned()));
                let cseq = req.cseq().unwrap();
                let reply = if refuse.contains(&method.as_str()) {
                    format!("RTSP/1.0 501 Not Implemented\r\nCSeq: {cseq}\r\n\r\n")
                } else {
                    match req.method() {
                        Method::Options => format!("RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nPublic: {public}\r\n\r\n"),
                        Method::Describe => format!(
                            "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Type: application/sdp\r\nContent-Base: rtsp://127.0.0.1:{port}/m/\r\nContent-Length: {}\r\n\r\n{SDP}",
                            SDP.len()
                        ),
                        Method::Setup => format!(
                            "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: k33p;timeout=2\r\n\r\n"
                        ),
                        _ => format!("RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nSession: k33p\r\n\r\n"),
                    }
                };
                conn.write_all(reply.as_bytes()).unwrap();
            }
        }
    });
    (port, log)
}

fn run(public: &'static str, refuse: &'static [&'static str]) -> Vec<(String, String)> {
    let (port, log) = scripted_server(public, refuse);
    let mut config = ClientConfig::url(format!("rtsp://127.0.0.1:{port}/m"));
    config.transport = TransportPreference::Tcp;
    let client = Client::connect(config).unwrap();
    client.player_play().unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(2600) {
        assert_eq!(client.state(), State::Playing);
        std::thread::sleep(Duration::from_millis(100));
    }
    let requests = log.lock().unwrap().clone();
    drop(client);
    requests
}

fn methods(log: &[(String, String)]) -> Vec<&str> {
    log.iter().map(|(m, _)| m.as_str()).collect()
}

#[test]
fn get_parameter_when_the_server_lists_it() {
    let log = run(
        "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER",
        &[],
    );
    let m = methods(&log);
    assert_eq!(&m[..4], ["OPTIONS", "DESCRIBE", "SETUP", "PLAY"]);
    // Timeout 2 s: a keepalive every second.
    let keepalives: Vec<_> = log[4..].iter().collect();
    assert!(keepalives.len() >= 2, "{m:?}");
    for (method, uri) in keepalives {
        assert_eq!(method, "GET_PARAMETER");
        assert_eq!(uri, &log[3].1, "keepalive goes to the aggregate URL");
    }
    assert!(log[2].1.ends_with("/m/track1"), "{:?}", log[2]);
}

#[test]
fn options_star_otherwise_and_the_other_method_after_a_failure() {
    // No GET_PARAMETER in Public, and OPTIONS refused after the first one... by refusing
    // OPTIONS altogether the initial OPTIONS fails too, which the client tolerates.
    let log = run("DESCRIBE, SETUP, PLAY, TEARDOWN", &["OPTIONS"]);
    let m = methods(&log);
    assert_eq!(&m[..4], ["OPTIONS", "DESCRIBE", "SETUP", "PLAY"]);
    let rest = &log[4..];
    assert!(rest.len() >= 4, "{m:?}");
    // Each round: OPTIONS * (refused), then GET_PARAMETER; never TEARDOWN.
    for pair in rest.chunks(2).filter(|c| c.len() == 2) {
        assert_eq!((pair[0].0.as_str(), pair[0].1.as_str()), ("OPTIONS", "*"));
        assert_eq!(pair[1].0, "GET_PARAMETER");
    }
    assert!(!m[4..].contains(&"TEARDOWN"));
}
