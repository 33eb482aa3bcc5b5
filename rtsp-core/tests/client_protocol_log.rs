#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The protocol log over real sockets: with `ClientConfig::protocol_log` the client reports
//! every RTSP message it sends and receives, in order with its other events, and neither the
//! wire (a recording relay sits between client and server) nor the log ever holds the password
//! of the URL's userinfo.

mod client_support;

use std::time::{Duration, Instant};

use client_support::lab_server::LabServer;
use client_support::own_server;
use client_support::recorder::Recorder;
use rtsp_core::auth::{AuthConfig, Credentials, ServerAuth, UserEntry};
use rtsp_core::client::{
    Client, ClientConfig, Event, MessageDirection, ProtocolMessage, State, TransportPreference,
};

/// Every event until `frames` frames arrived (or `timeout` passed).
fn events_until_frames(client: &Client, frames: usize, timeout: Duration) -> Vec<Event> {
    let deadline = Instant::now() + timeout;
    let mut events = Vec::new();
    let mut seen = 0;
    while seen < frames {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "only {seen} of {frames} frames arrived");
        if let Some(event) = client.next_event(left) {
            seen += usize::from(matches!(event, Event::Frame(_)));
            events.push(event);
        }
    }
    events
}

/// Whatever is still queued.
fn drain(client: &Client) -> Vec<Event> {
    std::iter::from_fn(|| client.next_event(Duration::from_millis(200))).collect()
}

fn messages(events: &[Event]) -> Vec<&ProtocolMessage> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

/// The request-line (or status line) of every request in `wire`, split at CRLF CRLF.
fn request_lines(wire: &str) -> Vec<&str> {
    wire.split("\r\n\r\n")
        .filter_map(|m| m.lines().next())
        .filter(|l| l.ends_with(" RTSP/1.0"))
        .collect()
}

#[test]
fn the_log_shows_the_digest_exchange_and_no_password_crosses_the_wire() {
    let mut config = rtsp_core::server::runtime::Config::new(
        ([127, 0, 0, 1], 0).into(),
        own_server::media_dir(),
    );
    config.senders = 1;
    config.rtp_port_base = 36_000 + (std::process::id() % 2_000) as u16 * 2;
    let entry = UserEntry::new("alice", "rtsp-server", "open sesame").unwrap();
    config.auth = Some(ServerAuth {
        config: AuthConfig::new("rtsp-server"),
        credentials: Credentials::parse(&entry.to_line()).unwrap(),
    });
    let server = rtsp_core::server::runtime::Server::start(config).unwrap();
    let relay = Recorder::start(server.local_addr());
    let mut config = ClientConfig::url(relay.url("alice:open%20sesame@", "movie.Mjpeg"));
    // Interleaved media shares the connection: the log must leave it out.
    config.transport = TransportPreference::Tcp;
    config.protocol_log = true;
    let client = Client::connect(config).unwrap();
    client.player_play().unwrap();
    let mut events = events_until_frames(&client, 10, Duration::from_secs(10));
    client.teardown().unwrap();
    events.extend(drain(&client));
    drop(client);

    let log = messages(&events);
    let lines: Vec<(MessageDirection, &str)> =
        log.iter().map(|m| (m.direction, m.first_line())).collect();
    let url = relay.url("", "movie.Mjpeg");
    use MessageDirection::{Received, Sent};
    assert_eq!(
        &lines[..6],
        &[
            (Sent, format!("OPTIONS {url} RTSP/1.0").as_str()),
            (Received, "RTSP/1.0 200 OK"),
            (Sent, format!("DESCRIBE {url} RTSP/1.0").as_str()),
            (Received, "RTSP/1.0 401 Unauthorized"),
            (Sent, format!("DESCRIBE {url} RTSP/1.0").as_str()),
            (Received, "RTSP/1.0 200 OK"),
        ],
        "{lines:#?}"
    );
    assert!(!log[2].text.contains("Authorization"), "{}", log[2].text);
    assert!(log[3].text.contains("\r\nWWW-Authenticate: Digest "));
    let retry = &log[4].text;
    assert!(
        retry.contains("\r\nAuthorization: Digest username=\"alice\", realm=\"rtsp-server\", "),
        "{retry}"
    );
    assert!(retry.contains(", response=<redacted>"), "{retry}");
    assert!(
        log[5].text.contains("\r\n\r\nv=0\r\n"),
        "the SDP body is logged"
    );
    // SETUP, PLAY and TEARDOWN follow, each answered.
    let methods: Vec<&str> = lines[6..]
        .iter()
        .filter(|(d, _)| *d == Sent)
        .map(|(_, l)| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(methods, ["SETUP", "PLAY", "TEARDOWN"], "{lines:#?}");
    for (direction, line) in &lines {
        match direction {
            Sent => assert!(line.ends_with(" RTSP/1.0") && !line.contains('@'), "{line}"),
            Received => assert!(line.starts_with("RTSP/1.0 "), "{line}"),
        }
    }
    for pair in log.windows(2) {
        assert!(pair[0].at <= pair[1].at);
    }
    // The reply to PLAY is logged before the state change it causes.
    let play_reply = events
        .iter()
        .position(|e| matches!(e, Event::Message(m) if m.text.contains("\r\nRTP-Info: ")))
        .unwrap();
    let playing = events
        .iter()
        .position(|e| matches!(e, Event::StateChanged(State::Playing)))
        .unwrap();
    assert!(play_reply < playing);

    let wire = String::from_utf8_lossy(&relay.client_bytes()).into_owned();
    assert!(!wire.contains("sesame"), "{wire}");
    assert_eq!(request_lines(&wire).len(), 6, "{wire}");
    for line in request_lines(&wire) {
        assert!(
            line.contains(" rtsp://127.0.0.1:") && !line.contains('@'),
            "{line}"
        );
    }
    // On the wire the Digest response is real; only the log copy is redacted.
    assert!(wire.contains("\r\nAuthorization: Digest username=\"alice\""));
    assert!(!wire.contains("<redacted>"));
    for m in &log {
        assert!(!m.text.contains("sesame"), "{}", m.text);
    }
    server.shutdown();
}

#[test]
fn lab_messages_are_logged_exactly_as_sent_and_only_when_asked_for() {
    let frames: Vec<Vec<u8>> = (0..10).map(|i| client_support::jpeg(32, 24, i)).collect();
    let server = LabServer::start("movie.Mjpeg", frames.clone());
    let mut config = ClientConfig::lab("127.0.0.1", server.port, 0, "movie.Mjpeg");
    config.protocol_log = true;
    let client = Client::connect(config).unwrap();
    client.setup().unwrap();
    client.teardown().unwrap();
    let events = drain(&client);
    drop(client);
    let log = messages(&events);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(log.len(), 4, "{log:#?}");
    assert_eq!(log[0].direction, MessageDirection::Sent);
    assert_eq!(log[0].text.as_bytes(), &requests[0][..]);
    assert_eq!(log[1].direction, MessageDirection::Received);
    assert!(log[1]
        .text
        .starts_with("RTSP/1.0 200 OK\nCSeq: 1\nSession: "));
    assert_eq!(log[2].text.as_bytes(), &requests[1][..]);
    assert!(log[2]
        .text
        .starts_with("TEARDOWN movie.Mjpeg RTSP/1.0\nCSeq: 2\n"));

    // Off by default.
    let client = Client::connect(ClientConfig::lab(
        "127.0.0.1",
        server.port,
        0,
        "movie.Mjpeg",
    ))
    .unwrap();
    client.setup().unwrap();
    client.teardown().unwrap();
    let events = drain(&client);
    assert!(!events.is_empty());
    assert!(messages(&events).is_empty());
}
