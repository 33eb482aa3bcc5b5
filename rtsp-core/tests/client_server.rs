#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The client against the project's own server (`rtsp-server`, started in-process) in both
//! dialects, over UDP and TCP: frames must be the sample movie's, bit for bit.

mod client_support;

use client_support::take_frames;

use std::time::{Duration, Instant};

use client_support::own_server;
use rtsp_core::client::{
    ActiveTransport, Client, ClientConfig, Event, Frame, Position, Seek, State, TransportPreference,
};

/// The frame index a standard-dialect frame stands for (20 fps).
fn index(f: &Frame) -> usize {
    (f.pts.as_secs_f64() * 20.0).round() as usize
}

fn standard(transport: TransportPreference) {
    let (rtp_frames, _) = own_server::movie();
    let server = own_server::start(&own_server::media_dir(), 0).unwrap();
    let mut config = ClientConfig::url(format!(
        "rtsp://127.0.0.1:{}/movie.Mjpeg",
        server.local_addr().port()
    ));
    config.transport = transport;
    let client = Client::connect(config).unwrap();
    let d = client.describe().unwrap();
    assert!(d.text.contains("a=rtpmap:26 JPEG/90000"), "{}", d.text);
    client.player_play().unwrap();
    let frames = take_frames(&client, 20, Duration::from_secs(10));
    for f in &frames {
        assert_eq!(&f.jpeg[..], &rtp_frames[index(f)][..], "frame {}", index(f));
    }
    assert_eq!(index(&frames[0]), 0);
    // Seek to 10 s while playing.
    client.seek(Seek::To(Position::Seconds(10.0))).unwrap();
    let after = take_frames(&client, 5, Duration::from_secs(10));
    let last = after.last().unwrap();
    assert!((200..=215).contains(&index(last)), "{}", index(last));
    assert_eq!(&last.jpeg[..], &rtp_frames[index(last)][..]);
    let stats = client.stats();
    assert_eq!((stats.packets_lost, stats.frames_broken), (0, 0));
    client.teardown().unwrap();
    assert_eq!(client.state(), State::Init);
    server.shutdown();
}

#[test]
fn standard_dialect_over_udp() {
    standard(TransportPreference::Udp);
}

#[test]
fn standard_dialect_over_tcp() {
    standard(TransportPreference::Tcp);
}

#[test]
fn standard_dialect_end_of_file_sends_bye() {
    let (rtp_frames, _) = own_server::movie();
    let server = own_server::start(&own_server::media_dir(), 0).unwrap();
    let mut config = ClientConfig::url(format!(
        "rtsp://127.0.0.1:{}/movie.Mjpeg",
        server.local_addr().port()
    ));
    config.transport = TransportPreference::Udp;
    let client = Client::connect(config).unwrap();
    client.setup().unwrap();
    let total = rtp_frames.len();
    client
        .play_from(Position::Frames(total as u64 - 10))
        .unwrap();
    let mut last = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match client.next_event(deadline.saturating_duration_since(Instant::now())) {
            Some(Event::Frame(f)) => last = Some(f),
            Some(Event::EndOfStream) => break,
            Some(_) => {}
            None => panic!("no end of stream"),
        }
    }
    let last = last.unwrap();
    assert_eq!(index(&last), total - 1);
    assert_eq!(&last.jpeg[..], &rtp_frames[total - 1][..]);
    server.shutdown();
}

#[test]
fn lab_dialect_against_rtsp_server() {
    let (_, raw) = own_server::movie();
    let server = own_server::start(&own_server::media_dir(), 0).unwrap();
    let mut config = ClientConfig::lab("127.0.0.1", server.local_addr().port(), 0, "movie.Mjpeg");
    config.reply_timeout = Duration::from_secs(3);
    let client = Client::connect(config).unwrap();
    client.setup().unwrap();
    assert!(matches!(
        client.transport(),
        Some(ActiveTransport::Udp { .. })
    ));
    let d = client.describe().unwrap();
    assert!(!d.text.is_empty());
    client.play().unwrap();
    let frames = take_frames(&client, 10, Duration::from_secs(5));
    for f in &frames {
        // Lab payloads are the file's JPEGs as they are; sequence number = frame number.
        assert_eq!(&f.jpeg[..], &raw[(f.number - 1) as usize][..]);
    }
    client.seek(Seek::Forward(Position::Frames(40))).unwrap();
    let moved = take_frames(&client, 5, Duration::from_secs(5));
    assert!(moved.last().unwrap().number > frames.last().unwrap().number + 30);
    client.seek(Seek::Restart).unwrap();
    let restarted = take_frames(&client, 5, Duration::from_secs(5));
    assert!(restarted.iter().any(|f| f.number <= 3), "{restarted:?}");
    client.pause().unwrap();
    client.teardown().unwrap();
    server.shutdown();
}

#[test]
fn unknown_file_is_404_in_both_dialects() {
    let server = own_server::start(&own_server::media_dir(), 0).unwrap();
    let client = Client::connect(ClientConfig::url(format!(
        "rtsp://127.0.0.1:{}/nope.Mjpeg",
        server.local_addr().port()
    )))
    .unwrap();
    let err = client.describe().unwrap_err();
    assert!(
        matches!(
            err,
            rtsp_core::client::ClientError::Status { code: 404, .. }
        ),
        "{err:?}"
    );
    let mut config = ClientConfig::lab("127.0.0.1", server.local_addr().port(), 0, "nope.Mjpeg");
    config.reply_timeout = Duration::from_secs(2);
    let lab = Client::connect(config).unwrap();
    let err = lab.setup().unwrap_err();
    assert!(
        matches!(
            err,
            rtsp_core::client::ClientError::Status { code: 404, .. }
        ),
        "{err:?}"
    );
    server.shutdown();
}

#[test]
fn loss_through_a_relay_is_counted_and_only_exact_frames_arrive() {
    use client_support::relay::LossyProxy;
    let (rtp_frames, _) = own_server::movie();
    let server = own_server::start(&own_server::media_dir(), 0).unwrap();
    let relay = LossyProxy::start(([127, 0, 0, 1], server.local_addr().port()).into(), 50);
    let mut config = ClientConfig::url(format!("rtsp://127.0.0.1:{}/movie.Mjpeg", relay.port));
    config.transport = TransportPreference::Udp;
    let client = Client::connect(config).unwrap();
    client.player_play().unwrap();
    let deadline = Instant::now() + Duration::from_secs(4);
    let mut delivered = 0u64;
    while Instant::now() < deadline {
        if let Some(Event::Frame(f)) = client.next_event(Duration::from_millis(100)) {
            assert_eq!(
                &f.jpeg[..],
                &rtp_frames[index(&f)][..],
                "frame {}",
                index(&f)
            );
            delivered += 1;
        }
    }
    client.pause().unwrap();
    // Packets in flight at the pause still land: wait until they are counted.
    client_support::wait_until(Duration::from_secs(10), || {
        client.stats().packets_lost == relay.visible_drops()
    });
    let stats = client.stats();
    let dropped = relay.visible_drops();
    assert!(dropped >= 10, "the relay dropped only {dropped}");
    assert_eq!(stats.packets_lost, dropped, "{stats:?}");
    assert!(stats.frames_broken > 0 && stats.frames_broken <= dropped);
    assert!(delivered > 0);
    eprintln!(
        "rtsp-server over UDP through the relay: {dropped} of {} packets dropped, {} counted lost \
         ({:.2}%); {} frames complete and bit-exact, {} broken and not delivered",
        stats.packets_expected,
        stats.packets_lost,
        stats.loss_rate * 100.0,
        stats.frames_complete,
        stats.frames_broken
    );
    server.shutdown();
}
