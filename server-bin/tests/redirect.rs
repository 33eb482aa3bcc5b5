#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! RTSP redirects between real `rtsp-server` processes (`--redirect PATH=URL`, and
//! `--redirect-to` edges with `--redirect-above`): ffmpeg, GStreamer's rtspsrc and the engine's
//! client sent from server A play from server B; a redirect loop ends with a clear error; the
//! engine never offers its credentials to another host (checked on the bytes a relay in front
//! of B records); an origin over its session threshold spreads new clients over its edges.

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::peers::{ffmpeg_framemd5, ffprobe_sees, gst_decode};
use common::{free_port, have, scratch, setup_interleaved, text, Rtsp, Server};
use rtsp_core::client::{
    Client, ClientConfig, ClientError, Event, MessageDirection, TransportPreference,
};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const WAIT: Duration = Duration::from_secs(30);

/// `rtsp-server ARGS` on a port chosen before it starts, so that other servers' rules (or its
/// own) can name it.
fn server_on(port: u16, args: &[&str]) -> Server {
    let port = port.to_string();
    let mut all = vec!["--port", port.as_str()];
    all.extend_from_slice(args);
    Server::start(&all)
}

/// B serving the sample, and A redirecting `moved.mjpg` to B's `movie.Mjpeg`.
fn a_to_b() -> (Server, Server) {
    let b = Server::start(&[]);
    let rule = format!("moved.mjpg={}", b.url("movie.Mjpeg"));
    let a = Server::start(&["--redirect", &rule]);
    (a, b)
}

/// Count of log lines of `server` containing every needle.
fn log_count(server: &Server, needles: &[&str]) -> usize {
    server
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .count()
}

/// Plays `url` with the engine's client until `frames` frames arrived; returns the protocol log
/// as text (`>` sent, `<` received).
fn engine_plays(config: ClientConfig, frames: usize) -> String {
    let mut config = config;
    config.protocol_log = true;
    config.stats_interval = None;
    let client = Client::connect(config).unwrap();
    client.player_play().unwrap();
    let mut log = String::new();
    let mut got = 0;
    let deadline = Instant::now() + WAIT;
    while got < frames {
        assert!(Instant::now() < deadline, "{got} frames\n{log}");
        match client.next_event(Duration::from_millis(200)) {
            Some(Event::Frame(_)) => got += 1,
            Some(Event::Message(m)) => {
                let arrow = match m.direction {
                    MessageDirection::Sent => '>',
                    MessageDirection::Received => '<',
                };
                log.push_str(&format!("{arrow} {}\n", m.text));
            }
            _ => {}
        }
    }
    log
}

#[test]
fn a_path_rule_answers_302_with_location_and_leaves_options_alone() {
    let (a, b) = a_to_b();
    let mut c = Rtsp::connect(a.addr);
    let options = c.request("OPTIONS", &a.url("moved.mjpg"), &[]);
    assert_eq!(options.status, 200, "{options:?}");
    for method in ["DESCRIBE", "SETUP"] {
        let headers: &[(&str, &str)] = if method == "SETUP" {
            &[("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1")]
        } else {
            &[("Accept", "application/sdp")]
        };
        let r = c.request(method, &a.url("moved.mjpg"), headers);
        assert_eq!(r.status_line, "RTSP/1.0 302 Moved Temporarily", "{r:?}");
        assert_eq!(r.header("Location"), Some(b.url("movie.Mjpeg").as_str()));
        assert!(r.header("Session").is_none(), "{r:?}");
    }
    // Other paths are served here as before.
    let described = c.request(
        "DESCRIBE",
        &a.url("movie.Mjpeg"),
        &[("Accept", "application/sdp")],
    );
    assert_eq!(described.status, 200);
    let (status, metrics) = {
        let m = Server::start(&["--metrics", "127.0.0.1:0", "--redirect", "x=rtsp://h/y"]);
        let mut c = Rtsp::connect(m.addr);
        assert_eq!(c.request("DESCRIBE", &m.url("x"), &[]).status, 302);
        common::http_get(m.metrics_addr(), "/metrics")
    };
    assert_eq!(status, 200);
    assert!(
        metrics.contains("rtsp_redirects_total{reason=\"path\"} 1"),
        "{metrics}"
    );
}

#[test]
fn ffprobe_and_ffmpeg_follow_the_redirect_and_play_from_b() {
    if !have("ffprobe") || !have("ffmpeg") {
        return;
    }
    let (a, b) = a_to_b();
    let url = a.url("moved.mjpg");
    ffprobe_sees(
        &url,
        &["codec_name=mjpeg", "width=640"],
        Duration::from_secs(60),
    );
    let (out, frames) = ffmpeg_framemd5(
        &["-rtsp_transport", "udp", "-i", &url, "-frames:v", "40"],
        Duration::from_secs(30),
    );
    assert_eq!(frames, 40, "{}", text(&out));
    // Both sessions were B's; A only redirected.
    assert!(
        b.wait_log(&["session start", "movie.Mjpeg"], WAIT)
            .is_some(),
        "no session on B"
    );
    assert!(log_count(&b, &["session start"]) >= 2);
    assert!(log_count(&a, &["redirected", "location="]) >= 2);
    assert_eq!(log_count(&a, &["session start"]), 0);
}

#[test]
fn gstreamer_rtspsrc_follows_the_redirect_and_plays_from_b() {
    if !have("gst-launch-1.0") {
        return;
    }
    let (a, b) = a_to_b();
    for protocol in ["tcp", "udp"] {
        let t = gst_decode(&a.url("moved.mjpg"), protocol, &[], 30);
        // fakesink -v prints one "chain" line per decoded frame.
        let decoded = t.lines().filter(|l| l.contains("chain")).count();
        assert!(decoded >= 30, "{decoded} frames decoded\n{t}");
    }
    assert!(log_count(&b, &["session start", "movie.Mjpeg"]) >= 2);
    assert_eq!(log_count(&a, &["session start"]), 0);
}

#[test]
fn the_engine_client_follows_the_redirect_and_its_protocol_log_shows_it() {
    let (a, b) = a_to_b();
    let log = engine_plays(ClientConfig::url(a.url("moved.mjpg")), 10);
    assert!(log.contains("< RTSP/1.0 302 Moved Temporarily"), "{log}");
    assert!(
        log.contains(&format!("Location: {}", b.url("movie.Mjpeg"))),
        "{log}"
    );
    assert!(
        log.contains(&format!("> DESCRIBE {} RTSP/1.0", b.url("movie.Mjpeg"))),
        "{log}"
    );
    assert!(b
        .wait_log(&["session start", "movie.Mjpeg"], WAIT)
        .is_some());
    assert_eq!(log_count(&a, &["session start"]), 0);
}

#[test]
fn a_redirect_loop_ends_with_a_clear_error_after_the_bound() {
    let port = free_port(LOCALHOST);
    let ping = format!("ping.mjpg=rtsp://127.0.0.1:{port}/pong.mjpg");
    let pong = format!("pong.mjpg=rtsp://127.0.0.1:{port}/ping.mjpg");
    let a = server_on(port, &["--redirect", &ping, "--redirect", &pong]);
    let client = Client::connect(ClientConfig::url(a.url("ping.mjpg"))).unwrap();
    let started = Instant::now();
    let err = client.describe().unwrap_err();
    assert!(started.elapsed() < WAIT);
    match &err {
        ClientError::TooManyRedirects { method, limit, .. } => {
            assert_eq!((method.as_str(), *limit), ("DESCRIBE", 5), "{err}");
        }
        other => panic!("expected TooManyRedirects, got {other:?}"),
    }
    assert!(err.to_string().contains("redirect loop"), "{err}");
    // The bound: the first DESCRIBE and five followed, no more.
    assert!(a.wait_log(&["redirected"], WAIT).is_some());
    let deadline = Instant::now() + Duration::from_secs(5);
    while log_count(&a, &["redirected"]) < 6 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(log_count(&a, &["redirected"]), 6);
}

/// A TCP relay on 127.0.0.1 that forwards every connection to `upstream` and keeps what
/// clients sent; its threads end with the connections.
struct RecordingRelay {
    addr: SocketAddr,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl RecordingRelay {
    fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind((LOCALHOST, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&sent);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let (mut from_client, mut to_server) = (client.try_clone().unwrap(), server);
                let (mut from_server, mut to_client) = (to_server.try_clone().unwrap(), client);
                let recorded = Arc::clone(&recorded);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n @ 1..) = from_client.read(&mut buf) {
                        recorded.lock().unwrap().extend_from_slice(&buf[..n]);
                        if to_server.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to_server.shutdown(std::net::Shutdown::Both);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from_server, &mut to_client);
                    let _ = to_client.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        Self { addr, sent }
    }

    fn recorded(&self) -> String {
        String::from_utf8_lossy(&self.sent.lock().unwrap()).into_owned()
    }
}

const USER: &str = "alice";
const PASSWORD: &str = "open sesame";

/// A credentials file with `USER`.
fn users() -> PathBuf {
    let file = scratch("redirect-users").join("users.txt");
    let entry = rtsp_core::auth::UserEntry::new(USER, "rtsp-server", PASSWORD).unwrap();
    rtsp_core::auth::credentials::write_entry(&file, &entry).unwrap();
    file
}

#[test]
fn credentials_go_to_the_original_host_only() {
    let users = users();
    let users = users.to_str().unwrap();
    // B wants the same users: a client that offered A's credentials there would get in.
    let b = Server::start(&["--credentials", users]);
    let relay = RecordingRelay::start(b.addr);
    let a_port = free_port(LOCALHOST);
    let away = format!("away.mjpg=rtsp://{}/movie.Mjpeg", relay.addr);
    let home = format!("home.mjpg=rtsp://127.0.0.1:{a_port}/testsrc");
    let a = server_on(
        a_port,
        &[
            "--credentials",
            users,
            "--redirect",
            &away,
            "--redirect",
            &home,
        ],
    );
    let with_password = |path: &str| {
        ClientConfig::url(format!(
            "rtsp://{USER}:open%20sesame@127.0.0.1:{a_port}/{path}"
        ))
    };

    // Same host and port: the credentials still answer the challenge there.
    let log = engine_plays(with_password("home.mjpg"), 3);
    assert!(log.contains("302 Moved Temporarily"), "{log}");
    assert!(log.contains("Authorization: Digest"), "{log}");

    // Another host: A authenticated the client, B sees none of it and refuses.
    let client = Client::connect(with_password("away.mjpg")).unwrap();
    let err = client.describe().unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Unauthorized {
                had_credentials: false,
                ..
            }
        ),
        "{err:?}"
    );
    drop(client);
    let to_b = relay.recorded();
    assert!(to_b.contains("DESCRIBE rtsp://"), "{to_b}");
    for secret in ["Authorization", USER, "sesame", "open%20sesame"] {
        assert!(!to_b.contains(secret), "{secret:?} reached B:\n{to_b}");
    }
    assert!(a.wait_log(&["redirected", "away.mjpg"], WAIT).is_some());
}

#[test]
fn an_origin_over_its_threshold_spreads_new_clients_over_its_edges() {
    let edges = [Server::start(&[]), Server::start(&[])];
    let edge_urls: Vec<String> = edges.iter().map(|e| format!("rtsp://{}", e.addr)).collect();
    let origin = Server::start(&[
        "--metrics",
        "127.0.0.1:0",
        "--redirect-above",
        "1",
        "--redirect-to",
        &edge_urls[0],
        "--redirect-to",
        &edge_urls[1],
    ]);
    let describe = |c: &mut Rtsp| {
        c.request(
            "DESCRIBE",
            &origin.url("movie.Mjpeg"),
            &[("Accept", "application/sdp")],
        )
    };
    // One session: not over the threshold, served here.
    let mut first = Rtsp::connect(origin.addr);
    setup_interleaved(&mut first, &origin, "movie.Mjpeg");
    assert_eq!(describe(&mut Rtsp::connect(origin.addr)).status, 200);
    // Two: new DESCRIBEs go to the edges, alternately (each to the one sent fewest).
    let mut second = Rtsp::connect(origin.addr);
    let id = setup_interleaved(&mut second, &origin, "movie.Mjpeg").session();
    let mut probe = Rtsp::connect(origin.addr);
    let locations: Vec<String> = (0..2)
        .map(|_| {
            let r = describe(&mut probe);
            assert_eq!(r.status, 302, "{r:?}");
            r.header("Location").unwrap().to_owned()
        })
        .collect();
    let want = |i: usize| format!("{}/movie.Mjpeg", edge_urls[i]);
    assert_eq!(locations, [want(0), want(1)]);
    // Real viewers: the engine's client lands on the edges, two on each in the end.
    for _ in 0..2 {
        // TCP: a UDP start that fell back to TCP under load would set up a second session.
        let mut config = ClientConfig::url(origin.url("movie.Mjpeg"));
        config.transport = TransportPreference::Tcp;
        engine_plays(config, 3);
    }
    for edge in &edges {
        assert!(edge.wait_log(&["session start"], WAIT).is_some());
        assert_eq!(log_count(edge, &["session start"]), 1);
    }
    // A session already here plays on under load.
    let play = second.request("PLAY", &origin.url("movie.Mjpeg"), &[("Session", &id)]);
    assert_eq!(play.status, 200, "{play:?}");
    let (_, metrics) = common::http_get(origin.metrics_addr(), "/metrics");
    assert!(
        metrics.contains("rtsp_redirects_total{reason=\"load\"} 4"),
        "{metrics}"
    );
    assert_eq!(log_count(&origin, &["session start"]), 2);
}
