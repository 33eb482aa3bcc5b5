#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Lab dialect against a lab-style server that behaves like the lab's original Python server.

mod client_support;

use client_support::lab_server::LabServer;

#[test]
fn lab_server_answers_like_the_original() {
    use std::io::{Read, Write};
    let server = LabServer::start("movie.Mjpeg", vec![client_support::jpeg(64, 48, 1)]);
    let mut c = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    c.write_all(b"SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 25000")
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = c.read(&mut buf).unwrap();
    let text = std::str::from_utf8(&buf[..n]).unwrap();
    assert!(
        text.starts_with("RTSP/1.0 200 OK\nCSeq: 1\nSession: "),
        "{text}"
    );
    assert!(!text.ends_with('\n'));
}
