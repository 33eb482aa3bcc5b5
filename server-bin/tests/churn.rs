#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Churn soak and faults against a spawned `rtsp-server` with a short session timeout.
//!
//! Many clients connect, SETUP, PLAY a few frames, then TEARDOWN, close abruptly, or vanish
//! (keep the socket, go silent). Afterwards the server's thread count, open descriptors and RSS
//! must be back near where they started, and sessions of vanished clients must have been reaped
//! at the announced timeout.
//!
//! The CI form runs 30 s. The long form runs 10 minutes:
//! `cargo test -p server-bin --test churn -- --ignored churn_soak_long --nocapture`
//! (or set `RTSP_CHURN_SECS=<seconds>` for the short form).

mod common;

use std::collections::VecDeque;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{udp_pair, udp_transport, Rtsp, Server};

/// The server's session timeout in these tests (seconds).
const TIMEOUT: u64 = 2;

#[derive(Debug, Clone, Copy)]
struct Usage {
    threads: u64,
    fds: usize,
    rss_kib: u64,
}

fn usage(pid: u32) -> Usage {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |key: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    Usage {
        threads: field("Threads:"),
        fds: std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .count(),
        rss_kib: field("VmRSS:"),
    }
}

fn url(addr: SocketAddr) -> String {
    format!("rtsp://{addr}/movie.Mjpeg")
}

/// SETUP + PLAY over UDP; returns the connection, the RTP/RTCP sockets and the session id,
/// after checking the announced timeout.
fn play(addr: SocketAddr) -> (Rtsp, UdpSocket, UdpSocket, String) {
    let (rtp, rtcp) = udp_pair();
    let mut c = Rtsp::connect(addr);
    let r = c.request("SETUP", &url(addr), &[("Transport", &udp_transport(&rtp))]);
    assert_eq!(r.status, 200, "SETUP");
    let announced = r.header("Session").unwrap().to_owned();
    assert!(
        announced.ends_with(&format!(";timeout={TIMEOUT}")),
        "announced timeout: {announced}"
    );
    let s = r.session();
    assert_eq!(
        c.request("PLAY", &url(addr), &[("Session", &s)]).status,
        200
    );
    (c, rtp, rtcp, s)
}

/// Receive until `frames` marker packets arrived (or 2 s).
fn frames(rtp: &UdpSocket, frames: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut buf = vec![0u8; 65536];
    let mut got = 0;
    while got < frames && Instant::now() < deadline {
        if let Ok(n) = rtp.recv(&mut buf) {
            if common::rtp(&buf[..n]).marker {
                got += 1;
            }
        }
    }
    got
}

/// Time from `since` until the last of a stream of datagrams (the stream must stop within
/// `limit`).
fn stream_stops(rtp: &UdpSocket, since: Instant, limit: Duration) -> Duration {
    rtp.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut last = Instant::now();
    let mut buf = vec![0u8; 65536];
    while since.elapsed() < limit {
        if rtp.recv(&mut buf).is_ok() {
            last = Instant::now();
        } else if last.elapsed() > Duration::from_millis(700) {
            break;
        }
    }
    assert!(
        since.elapsed() < limit,
        "stream did not stop within {limit:?}"
    );
    last - since
}

/// A client that went silent at the instant, and the sockets it keeps open.
type Vanished = (Instant, Rtsp, UdpSocket, UdpSocket);

fn churn(secs: u64) {
    let server = Server::start(&["--loop", "--session-timeout", &TIMEOUT.to_string()]);
    let addr = server.addr;
    let pid = server.child.id();

    // Warm up so lazily created state (frame cache, port pairs, thread stacks) is in the baseline.
    {
        let (mut c, rtp, _rtcp, s) = play(addr);
        assert!(frames(&rtp, 3) >= 3);
        assert_eq!(
            c.request("TEARDOWN", &url(addr), &[("Session", &s)]).status,
            200
        );
    }
    std::thread::sleep(Duration::from_millis(500));
    let before = usage(pid);

    // One vanished client measured precisely: its RTP must stop at the announced timeout.
    let (probe_conn, probe_rtp, _probe_rtcp, _) = play(addr);
    assert!(frames(&probe_rtp, 2) >= 2);
    let silent_since = Instant::now();
    let probe = std::thread::spawn(move || {
        let _keep = probe_conn;
        stream_stops(&probe_rtp, silent_since, Duration::from_secs(TIMEOUT + 5))
    });

    let deadline = Instant::now() + Duration::from_secs(secs);
    let counts: Arc<[AtomicUsize; 4]> = Arc::new(Default::default());
    let vanished: Arc<Mutex<VecDeque<Vanished>>> = Arc::default();
    let failed = Arc::new(AtomicBool::new(false));
    std::thread::scope(|scope| {
        for worker in 0..6usize {
            let counts = Arc::clone(&counts);
            let vanished = Arc::clone(&vanished);
            let failed = Arc::clone(&failed);
            scope.spawn(move || {
                let mut i = worker;
                while Instant::now() < deadline && !failed.load(Ordering::Relaxed) {
                    let (mut c, rtp, rtcp, s) = play(addr);
                    if frames(&rtp, 3) < 3 {
                        failed.store(true, Ordering::Relaxed);
                        panic!("a churn client got no frames");
                    }
                    match i % 3 {
                        0 => {
                            let r = c.request("TEARDOWN", &url(addr), &[("Session", &s)]);
                            assert_eq!(r.status, 200);
                            counts[0].fetch_add(1, Ordering::Relaxed);
                        }
                        1 => {
                            drop((c, rtp, rtcp));
                            counts[1].fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            let mut v = vanished.lock().unwrap();
                            v.push_back((Instant::now(), c, rtp, rtcp));
                            // Hold silent sockets well past the reaping point, then let go,
                            // so the test itself stays within its descriptor limit.
                            let limit = Duration::from_secs(2 * TIMEOUT + 2);
                            while v.front().is_some_and(|f| f.0.elapsed() > limit) {
                                v.pop_front();
                            }
                            counts[2].fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    counts[3].fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            });
        }
    });
    assert!(!failed.load(Ordering::Relaxed));
    let during = usage(pid);
    let reaped_after = probe.join().unwrap();

    // Let every session time out and every idle connection close, then compare.
    vanished.lock().unwrap().clear();
    std::thread::sleep(Duration::from_secs(2 * TIMEOUT + 2));
    let after = usage(pid);
    // The server still serves.
    {
        let (mut c, rtp, _rtcp, s) = play(addr);
        assert!(frames(&rtp, 3) >= 3);
        assert_eq!(
            c.request("TEARDOWN", &url(addr), &[("Session", &s)]).status,
            200
        );
    }
    eprintln!(
        "churn {secs} s: {} clients ({} teardown, {} abrupt close, {} vanished)",
        counts[3].load(Ordering::Relaxed),
        counts[0].load(Ordering::Relaxed),
        counts[1].load(Ordering::Relaxed),
        counts[2].load(Ordering::Relaxed)
    );
    eprintln!("  before: {before:?}\n  during: {during:?}\n  after:  {after:?}");
    eprintln!("  vanished client's RTP stopped {reaped_after:?} after it went silent (timeout {TIMEOUT} s)");
    assert!(counts[3].load(Ordering::Relaxed) >= 30, "too few clients");
    assert!(
        reaped_after >= Duration::from_secs(TIMEOUT) - Duration::from_millis(100)
            && reaped_after <= Duration::from_millis(TIMEOUT * 1000 + 1500),
        "vanished session reaped after {reaped_after:?}, announced {TIMEOUT} s"
    );
    assert_eq!(after.threads, before.threads, "thread count");
    assert!(
        after.fds <= before.fds + 2,
        "fds {} -> {}",
        before.fds,
        after.fds
    );
    assert!(
        after.rss_kib <= before.rss_kib + 16 * 1024,
        "RSS {} KiB -> {} KiB",
        before.rss_kib,
        after.rss_kib
    );
}

/// CI form: 30 s (override with `RTSP_CHURN_SECS`).
#[test]
fn churn_soak_returns_to_baseline() {
    let secs = std::env::var("RTSP_CHURN_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    churn(secs);
}

/// Long form: 10 minutes.
/// `cargo test -p server-bin --test churn -- --ignored churn_soak_long --nocapture`
#[test]
#[ignore = "10-minute soak; run explicitly"]
fn churn_soak_long() {
    churn(600);
}

/// A client killed mid-stream (TCP reset, UDP port gone): its session is reaped at the timeout
/// and a concurrent session keeps playing without a gap.
#[test]
fn client_killed_mid_stream_is_reaped_and_others_play_on() {
    let server = Server::start(&["--loop", "--session-timeout", &TIMEOUT.to_string()]);
    let addr = server.addr;
    let (mut good_conn, good_rtp, _good_rtcp, good_session) = play(addr);
    let (victim, victim_rtp, victim_rtcp, victim_session) = play(addr);
    assert!(frames(&victim_rtp, 2) >= 2);
    // "Kill" the client: reset its TCP connection (SO_LINGER 0) and close its UDP ports, so
    // the server's sends now draw ICMP port-unreachable.
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    use std::os::fd::AsRawFd;
    // SAFETY: setsockopt on a socket we own with a correctly sized, initialised struct.
    let rc = unsafe {
        libc::setsockopt(
            victim.stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
    let killed = Instant::now();
    drop((victim, victim_rtp, victim_rtcp));

    // The good session, meanwhile: every packet, no gap.
    good_rtp
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = vec![0u8; 65536];
    let mut last_seq = None;
    let mut last_frame = Instant::now();
    let mut worst = Duration::ZERO;
    let until = Instant::now() + Duration::from_secs(TIMEOUT + 2);
    let mut frames_seen = 0;
    let mut keepalive = Instant::now();
    while Instant::now() < until {
        if keepalive.elapsed() > Duration::from_millis(500) {
            let r = good_conn.request("GET_PARAMETER", &url(addr), &[("Session", &good_session)]);
            assert_eq!(r.status, 200, "keepalive");
            keepalive = Instant::now();
        }
        let n = good_rtp.recv(&mut buf).expect("good session stalled");
        let h = common::rtp(&buf[..n]);
        if let Some(prev) = last_seq {
            assert_eq!(h.seq, u16::wrapping_add(prev, 1), "sequence gap");
        }
        last_seq = Some(h.seq);
        if h.marker {
            worst = worst.max(last_frame.elapsed());
            last_frame = Instant::now();
            frames_seen += 1;
        }
    }
    assert!(worst <= Duration::from_millis(250), "frame gap {worst:?}");
    assert!(
        frames_seen >= (TIMEOUT as usize + 2) * 18,
        "{frames_seen} frames"
    );
    let line = server
        .wait_log(
            &["session end", "reason=\"timeout\""],
            Duration::from_secs(1),
        )
        .unwrap_or_else(|| {
            let log = server.log.lock().unwrap();
            let ends: Vec<_> = log.iter().filter(|l| l.contains("session")).collect();
            panic!(
                "victim not reaped {:?} after the kill: {ends:#?}",
                killed.elapsed()
            )
        });
    assert!(line.contains(&victim_session), "{line}");
    assert!(
        server
            .wait_log(&[&good_session, "session end"], Duration::ZERO)
            .is_none(),
        "the good session ended"
    );
    eprintln!("reaped: {line} ({:?} after the kill)", killed.elapsed());
}

/// The server killed mid-stream: the Rust client reports the loss within 2 s and does not hang.
#[test]
fn server_killed_mid_stream_client_reports_loss_within_2s() {
    use rtsp_core::client::{Client, ClientConfig, Event, State, TransportPreference};
    let mut server = Server::start(&["--loop"]);
    let mut config = ClientConfig::url(url(server.addr));
    config.transport = TransportPreference::Udp;
    config.stats_interval = None;
    let client = Client::connect(config).unwrap();
    client.player_play().unwrap();
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < Duration::from_secs(5), "no frame");
        if let Some(Event::Frame(_)) = client.next_event(Duration::from_millis(200)) {
            break;
        }
    }
    server.child.kill().unwrap();
    let killed = Instant::now();
    let mut reported = None;
    while killed.elapsed() < Duration::from_secs(3) {
        match client.next_event(Duration::from_millis(50)) {
            Some(Event::Error(e)) => {
                reported = Some(format!("error: {e}"));
                break;
            }
            Some(Event::EndOfStream) => {
                reported = Some("end of stream".into());
                break;
            }
            _ => {}
        }
    }
    let after = killed.elapsed();
    let reported = reported.expect("the client never reported the lost server");
    eprintln!("client reported {reported} {after:?} after the kill");
    assert!(after <= Duration::from_secs(2), "reported after {after:?}");
    assert_eq!(client.state(), State::Init);
    // No hang: a control request fails promptly instead of blocking.
    let t = Instant::now();
    assert!(client.pause().is_err());
    assert!(t.elapsed() < Duration::from_secs(6));
    drop(client);
}
