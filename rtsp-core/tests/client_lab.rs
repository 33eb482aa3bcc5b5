#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The client's lab dialect against a lab-style server that behaves like the lab's original
//! Python `Server.py` (see `client_support::lab_server`).

mod client_support;

use client_support::take_frames;

use std::time::Duration;

use client_support::lab_server::LabServer;
use client_support::relay::LossyProxy;
use rtsp_core::client::{Client, ClientConfig, ClientError, Event, Position, Seek, State};

fn frames(n: u32) -> Vec<Vec<u8>> {
    (0..n).map(|i| client_support::jpeg(64, 48, i)).collect()
}

fn config(port: u16, file: &str) -> ClientConfig {
    let mut c = ClientConfig::lab("127.0.0.1", port, 0, file);
    c.reply_timeout = Duration::from_secs(2);
    c.lab_end_silence = Duration::from_millis(600);
    c
}

#[test]
fn lab_server_answers_like_the_original() {
    use std::io::{Read, Write};
    let server = LabServer::start("movie.Mjpeg", frames(1));
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

#[test]
fn lab_session_sends_exactly_what_the_lab_client_sends() {
    let source = frames(40);
    let server = LabServer::start("movie.Mjpeg", source.clone());
    let client = Client::connect(config(server.port, "movie.Mjpeg")).unwrap();
    assert_eq!(client.state(), State::Init);
    client.setup().unwrap();
    assert_eq!(client.state(), State::Ready);
    let rtp_port = match client.transport().unwrap() {
        rtsp_core::client::ActiveTransport::Udp { rtp_port } => rtp_port,
        other => panic!("lab transport is UDP, got {other:?}"),
    };
    client.play().unwrap();
    assert_eq!(client.state(), State::Playing);
    let got = take_frames(&client, 8, Duration::from_secs(5));
    for f in &got {
        // Whole-JPEG payloads, sequence number = frame number (first frame = 1).
        assert_eq!(&f.jpeg[..], &source[(f.number - 1) as usize][..]);
        assert_eq!(f.pts, Duration::from_millis(50) * (f.number as u32 - 1));
    }
    client.pause().unwrap();
    assert_eq!(client.state(), State::Ready);
    client.teardown().unwrap();
    assert_eq!(client.state(), State::Init);

    let requests = server.requests();
    let methods: Vec<String> = requests
        .iter()
        .map(|r| {
            String::from_utf8_lossy(r)
                .split(' ')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(methods, ["SETUP", "PLAY", "PAUSE", "TEARDOWN"]);
    let mut session = String::new();
    for (i, raw) in requests.iter().enumerate() {
        assert!(raw.len() <= 256, "request {i} is {} bytes", raw.len());
        let text = std::str::from_utf8(raw).unwrap();
        assert!(!text.contains('\r'), "{text:?}");
        assert!(!text.ends_with('\n'), "{text:?}");
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines[0], format!("{} movie.Mjpeg RTSP/1.0", methods[i]));
        assert_eq!(lines[1], format!("CSeq: {}", i + 1));
        if i == 0 {
            assert_eq!(
                lines[2],
                format!("Transport: RTP/UDP; client_port= {rtp_port}")
            );
            assert_eq!(lines.len(), 3);
        } else {
            assert!(lines[2].starts_with("Session: "), "{text:?}");
            if session.is_empty() {
                session = lines[2].to_owned();
            }
            assert_eq!(lines[2], session);
            assert_eq!(lines.len(), 3);
        }
    }
}

#[test]
fn unknown_file_is_a_clear_timeout() {
    let server = LabServer::start("movie.Mjpeg", frames(5));
    let mut cfg = config(server.port, "missing.Mjpeg");
    cfg.reply_timeout = Duration::from_millis(700);
    let client = Client::connect(cfg).unwrap();
    // The lab server answers SETUP with 200 even for an unknown file...
    client.setup().unwrap();
    // ...and then says nothing at all to PLAY.
    let err = client.play().unwrap_err();
    assert!(
        matches!(err, ClientError::Timeout { lab: true, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("PLAY") && text.contains("silence"), "{text}");
    assert_eq!(client.state(), State::Ready);
}

#[test]
fn player_play_sets_up_implicitly_and_the_end_is_detected() {
    let source = frames(12);
    let server = LabServer::start("movie.Mjpeg", source.clone());
    let client = Client::connect(config(server.port, "movie.Mjpeg")).unwrap();
    client.player_play().unwrap();
    assert_eq!(client.state(), State::Playing);
    let mut numbers = Vec::new();
    let mut states = Vec::new();
    let mut ended = false;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while let Some(e) =
        client.next_event(deadline.saturating_duration_since(std::time::Instant::now()))
    {
        match e {
            Event::Frame(f) => numbers.push(f.number),
            Event::StateChanged(s) => states.push(s),
            Event::EndOfStream => {
                ended = true;
                break;
            }
            _ => {}
        }
    }
    assert!(ended, "no end of stream after {numbers:?}");
    assert_eq!(states, [State::Ready, State::Playing]);
    assert_eq!(numbers, (1..=12).collect::<Vec<u64>>());
    let stats = client.stats();
    assert_eq!(stats.frames_complete, 12);
    assert_eq!(stats.packets_received, 12);
    assert_eq!(stats.packets_expected, 12);
    assert_eq!(stats.packets_lost, 0);
    assert!(stats.bitrate_bps_overall > 0.0);
    let latency = stats.first_frame_latency().unwrap();
    assert!(
        latency >= Duration::from_millis(40) && latency < Duration::from_secs(2),
        "{latency:?}"
    );
    // Stop, then Play again: a new session from the first frame.
    client.player_stop().unwrap();
    assert_eq!(client.state(), State::Init);
    client.player_play().unwrap();
    let again = take_frames(&client, 1, Duration::from_secs(3));
    assert_eq!(again[0].number, 1);
}

#[test]
fn forward_backward_restart_move_by_twenty_frames() {
    let source = frames(200);
    let server = LabServer::start("movie.Mjpeg", source);
    let client = Client::connect(config(server.port, "movie.Mjpeg")).unwrap();
    client.player_play().unwrap();
    let first = take_frames(&client, 3, Duration::from_secs(3));
    client.seek(Seek::Forward(Position::Frames(40))).unwrap();
    let after = take_frames(&client, 3, Duration::from_secs(3));
    let last_before = first.last().unwrap().number;
    assert!(
        after.last().unwrap().number >= last_before + 40,
        "{first:?} then {after:?}"
    );
    client.seek(Seek::Restart).unwrap();
    // Frames already in flight may still arrive; within a few the numbers start over.
    let restarted = take_frames(&client, 6, Duration::from_secs(3));
    assert!(restarted.iter().any(|f| f.number <= 3), "{restarted:?}");
    let requests: Vec<String> = server
        .requests()
        .iter()
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .collect();
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.starts_with("FORWARD movie.Mjpeg RTSP/1.4\n"))
            .count(),
        2
    );
    assert!(requests
        .iter()
        .any(|r| r.starts_with("RESTART movie.Mjpeg RTSP/1.4\n")));
}

#[test]
fn lab_requests_in_the_wrong_state_are_refused_locally() {
    let server = LabServer::start("movie.Mjpeg", frames(3));
    let client = Client::connect(config(server.port, "movie.Mjpeg")).unwrap();
    for err in [
        client.play().unwrap_err(),
        client.pause().unwrap_err(),
        client.teardown().unwrap_err(),
    ] {
        assert!(
            matches!(
                err,
                ClientError::BadState {
                    state: State::Init,
                    ..
                }
            ),
            "{err:?}"
        );
    }
    assert!(server.requests().is_empty());
}

#[test]
fn lab_loss_is_counted_exactly_and_only_whole_frames_arrive() {
    let source = frames(120);
    let server = LabServer::start("movie.Mjpeg", source.clone());
    let relay = LossyProxy::start(([127, 0, 0, 1], server.port).into(), 100);
    let client = Client::connect(config(relay.port, "movie.Mjpeg")).unwrap();
    client.player_play().unwrap();
    let mut delivered = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while let Some(e) =
        client.next_event(deadline.saturating_duration_since(std::time::Instant::now()))
    {
        match e {
            Event::Frame(f) => {
                assert_eq!(&f.jpeg[..], &source[(f.number - 1) as usize][..]);
                delivered += 1;
            }
            Event::EndOfStream => break,
            _ => {}
        }
    }
    let stats = client.stats();
    let dropped = relay.visible_drops();
    assert!(dropped >= 5, "the relay dropped only {dropped}");
    assert_eq!(stats.packets_lost, dropped);
    assert_eq!(stats.frames_complete, delivered);
    let expected_rate = dropped as f64 / stats.packets_expected as f64;
    assert!((stats.loss_rate - expected_rate).abs() < 1e-9);
    eprintln!(
        "lab loss: relay dropped {dropped} of {} visible packets, client counted {} ({:.2}%)",
        stats.packets_expected,
        stats.packets_lost,
        stats.loss_rate * 100.0
    );
}

#[test]
fn a_slow_consumer_never_stalls_reception() {
    let source = frames(40);
    let server = LabServer::start("movie.Mjpeg", source);
    let delivered = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let d2 = std::sync::Arc::clone(&delivered);
    let client = Client::with_handler(config(server.port, "movie.Mjpeg"), move |e| {
        if let Event::Frame(_) = e {
            d2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            // Four frame periods per frame: most frames must be skipped, only a few held back.
            std::thread::sleep(Duration::from_millis(200));
        }
    })
    .unwrap();
    client.player_play().unwrap();
    assert!(client_support::wait_until(Duration::from_secs(6), || {
        client.stats().packets_received >= 38
    }));
    std::thread::sleep(Duration::from_millis(300));
    let stats = client.stats();
    let seen = delivered.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(stats.packets_lost, 0);
    assert_eq!(stats.frames_complete, 40);
    assert!(stats.frames_dropped >= 20, "{stats:?}");
    // Every complete frame was either handed over or counted as dropped; up to the mailbox's
    // slack of 4 frames may still be pending.
    assert!(
        seen + stats.frames_dropped >= 36 && seen + stats.frames_dropped <= 40,
        "{seen} + {}",
        stats.frames_dropped
    );
}

/// Plays until the end of the stream, returning the frame numbers in arrival order.
fn play_to_end(client: &Client, limit: Duration) -> Vec<u64> {
    let mut numbers = Vec::new();
    let deadline = std::time::Instant::now() + limit;
    while let Some(e) =
        client.next_event(deadline.saturating_duration_since(std::time::Instant::now()))
    {
        match e {
            Event::Frame(f) => numbers.push(f.number),
            Event::EndOfStream => return numbers,
            _ => {}
        }
    }
    panic!("no end of stream after {numbers:?}");
}

#[test]
fn lab_one_packet_is_one_frame() {
    let server = LabServer::start("movie.Mjpeg", frames(12));
    let client = Client::connect(config(server.port, "movie.Mjpeg")).unwrap();
    client.player_play().unwrap();
    let numbers = play_to_end(&client, Duration::from_secs(10));
    let stats = client.stats();
    let counts = (
        numbers.len() as u64,
        stats.frames_complete,
        stats.packets_received,
        stats.packets_expected,
        stats.packets_lost,
    );
    assert_eq!(
        counts,
        (12, 12, 12, 12, 0),
        "(frames seen, frames complete, packets received, expected, lost)"
    );
}

#[test]
fn lab_seeks_renumber_frames_without_duplicates_or_loss() {
    let server = LabServer::start("movie.Mjpeg", frames(100));
    let client = Client::connect(config(server.port, "movie.Mjpeg")).unwrap();
    client.player_play().unwrap();
    take_frames(&client, 10, Duration::from_secs(5));
    client.seek(Seek::Forward(Position::Frames(20))).unwrap();
    take_frames(&client, 10, Duration::from_secs(5));
    client.seek(Seek::Backward(Position::Frames(20))).unwrap();
    take_frames(&client, 10, Duration::from_secs(5));
    client.seek(Seek::Restart).unwrap();
    let rest = play_to_end(&client, Duration::from_secs(15));
    assert_eq!(rest.last(), Some(&100), "{rest:?}");
    let stats = client.stats();
    let counts = (
        stats.packets_duplicated,
        stats.packets_lost,
        stats.packets_reordered,
        stats.packets_received,
        stats.packets_expected,
    );
    let n = stats.frames_complete;
    assert_eq!(
        counts,
        (0, 0, 0, n, n),
        "(duplicated, lost, reordered, received, expected) with {n} frames complete"
    );
    // Every packet that arrived was a frame that was delivered.
    assert_eq!(n, server.rtp_sent(), "{stats:?}");
}
