//! A server's 3xx reply to an authenticated DESCRIBE, its `Location` (and any header lines
//! after it) from the input: the client never panics; when it follows, it targets an
//! `rtsp://` URL without userinfo whose host and port are the ones it will connect to; and
//! its credentials go on only if that host and port are the original ones.
//!
//! Input layout: byte 0 picks the status (301, 302, 303, 305, 307); the rest is the
//! `Location` value.

use crate::client::{ClientSession, Outcome, Request};
use crate::rtsp::url::{self, AbsoluteUrl};
use crate::rtsp::{Message, MessageParser, Response};

const ORIGIN: &str = "rtsp://alice:secret@origin.example:8554/movie";

fn reply(text: &[u8]) -> Option<Response> {
    let mut parser = MessageParser::new();
    parser.push(text).ok()?;
    match parser.next() {
        Ok(Some(Message::Response(r))) => Some(r),
        _ => None,
    }
}

/// Runs one input through the client's redirect handling.
pub fn client_redirect(data: &[u8]) {
    let Some((&pick, location)) = data.split_first() else {
        return;
    };
    let status = [301, 302, 303, 305, 307][usize::from(pick) % 5];
    let mut session = ClientSession::standard(ORIGIN, "fuzz").unwrap();
    session.encode(&Request::Describe).unwrap();
    let challenge = reply(
        b"RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n\r\n",
    )
    .unwrap();
    assert_eq!(session.handle_reply(&challenge), Ok(Outcome::RetryWithAuth));
    let sent = session.encode(&Request::Describe).unwrap();
    assert!(sent.windows(14).any(|w| w == b"Authorization:"));
    let mut text = format!("RTSP/1.0 {status} Moved\r\nCSeq: 2\r\nLocation: ").into_bytes();
    text.extend_from_slice(location);
    text.extend_from_slice(b"\r\n\r\n");
    let Some(moved) = reply(&text) else {
        return;
    };
    let Ok(Outcome::Redirected { location }) = session.handle_reply(&moved) else {
        return;
    };
    assert_ne!(status, 305, "305 Use Proxy is not followed");
    assert!(location.starts_with("rtsp://"), "{location}");
    assert_eq!(url::userinfo(&location), None, "{location}");
    let parsed = AbsoluteUrl::parse(&location).unwrap();
    assert_eq!(session.host_port(), (parsed.host.clone(), parsed.port));
    assert_eq!(session.url(), location);
    let next = session.encode(&Request::Describe).unwrap();
    let authorized = next.windows(14).any(|w| w == b"Authorization:");
    let home = parsed.host.eq_ignore_ascii_case("origin.example") && parsed.port == 8554;
    assert_eq!(authorized, home, "{location}");
    let shown = String::from_utf8_lossy(&next);
    assert!(
        !shown.contains("secret") && !shown.contains("alice:"),
        "{shown}"
    );
}
