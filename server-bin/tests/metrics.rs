#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `--metrics`: the health check and draining (SIGUSR1), and the Prometheus exposition as
//! Debian's `prometheus` scrapes it (checked through its HTTP API against what the test did)
//! and `promtool check metrics` reads it.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, have, http_get, rtp, setup_interleaved, Rtsp, Server};

fn metrics_server(extra: &[&str]) -> Server {
    let mut args = vec!["--metrics", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    Server::start(&args)
}

/// Poll `check` every 100 ms until it holds or `limit` passes.
fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if check() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// RTP packets on channel 0 of `c` so far.
fn rtp_packets(c: &Rtsp) -> usize {
    c.interleaved.iter().filter(|(ch, _)| *ch == 0).count()
}

#[test]
fn sigusr1_drains_new_sessions_get_503_and_current_ones_play_on() {
    let server = metrics_server(&[]);
    let health = server.metrics_addr();
    assert_eq!(http_get(health, "/healthz"), (200, "ok\n".to_owned()));

    let mut playing = Rtsp::connect(server.addr);
    let setup = setup_interleaved(&mut playing, &server, "movie.Mjpeg");
    assert_eq!(setup.status, 200);
    let session = setup.session();
    let play = playing.request("PLAY", &server.url("movie.Mjpeg"), &[("Session", &session)]);
    assert_eq!(play.status, 200);

    // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
    unsafe {
        libc::kill(server.child.id() as libc::pid_t, libc::SIGUSR1);
    }
    assert!(
        eventually(Duration::from_secs(20), || http_get(health, "/healthz").0
            == 503),
        "/healthz never said 503 after SIGUSR1"
    );
    assert_eq!(http_get(health, "/healthz").1, "draining\n");

    // A new client: DESCRIBE and SETUP are refused with a hint when to retry.
    let mut newcomer = Rtsp::connect(server.addr);
    let describe = newcomer.request("DESCRIBE", &server.url("movie.Mjpeg"), &[]);
    assert_eq!(describe.status, 503);
    assert_eq!(describe.header("Retry-After"), Some("30"));
    let setup = setup_interleaved(&mut newcomer, &server, "movie.Mjpeg");
    assert_eq!(setup.status, 503);
    // OPTIONS (a balancer's RTSP check, a keep-alive) is still answered.
    assert_eq!(
        newcomer
            .request("OPTIONS", &server.url("movie.Mjpeg"), &[])
            .status,
        200
    );

    // The session set up before goes on: frames keep coming, and it can still be controlled.
    let before = rtp_packets(&playing);
    assert!(
        eventually(Duration::from_secs(20), || {
            playing.collect_interleaved(Duration::from_millis(200));
            rtp_packets(&playing) > before + 20
        }),
        "the current session stopped playing while draining"
    );
    let pause = playing.request(
        "PAUSE",
        &server.url("movie.Mjpeg"),
        &[("Session", &session)],
    );
    assert_eq!(pause.status, 200);
    let resume = playing.request("PLAY", &server.url("movie.Mjpeg"), &[("Session", &session)]);
    assert_eq!(resume.status, 200);

    let (_, exposition) = http_get(health, "/metrics");
    assert!(exposition.contains("rtsp_draining 1"), "{exposition}");
    assert!(
        exposition.contains("rtsp_sessions_refused_total{reason=\"draining\"} 2"),
        "{exposition}"
    );
    assert!(server
        .wait_log(&["draining: refusing new sessions"], Duration::from_secs(5))
        .is_some());
}

#[test]
fn the_metrics_listener_answers_only_get_on_its_two_paths() {
    let server = metrics_server(&[]);
    let addr = server.metrics_addr();
    assert_eq!(http_get(addr, "/nothing").0, 404);
    let (status, body) = http_get(addr, "/metrics?debug=1");
    assert_eq!(status, 200);
    assert!(body.ends_with("# EOF\n"), "{body}");
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    use std::io::{Read, Write};
    c.write_all(b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    let mut reply = String::new();
    c.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 405"), "{reply}");
}

/// A running Prometheus with its own configuration and data directory, killed on drop.
struct Prometheus {
    child: Child,
    api: std::net::SocketAddr,
    dir: PathBuf,
}

impl Prometheus {
    /// Its API port is picked free (on an address of this test's own) and may be taken before
    /// Prometheus binds it: then Prometheus exits, and another port is tried.
    fn start(target: std::net::SocketAddr) -> Prometheus {
        for _ in 0..5 {
            if let Some(p) = Self::try_start(target) {
                return p;
            }
        }
        panic!("prometheus did not start (see its messages above)");
    }

    fn try_start(target: std::net::SocketAddr) -> Option<Prometheus> {
        let ip = std::net::IpAddr::from([127, 0, 0, 9]);
        let api = std::net::SocketAddr::new(ip, free_port(ip));
        let dir = common::scratch("prometheus");
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n  - job_name: rtsp\n    static_configs:\n      - targets: ['{target}']\n"
        );
        let path = dir.join("prometheus.yml");
        std::fs::write(&path, config).unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={api}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn prometheus");
        let mut p = Prometheus { child, api, dir };
        let mut exited = false;
        let ready = eventually(Duration::from_secs(60), || {
            exited = p.child.try_wait().unwrap().is_some();
            exited
                || (std::net::TcpStream::connect(api).is_ok() && http_get(api, "/-/ready").0 == 200)
        });
        if exited {
            let mut log = String::new();
            if let Some(mut err) = p.child.stderr.take() {
                use std::io::Read;
                let _ = err.read_to_string(&mut log);
            }
            eprintln!("prometheus exited at start; trying another port:\n{log}");
            return None;
        }
        assert!(ready, "prometheus did not become ready");
        Some(p)
    }

    /// The value of an instant query whose result is one sample, if it has one.
    fn query(&self, promql: &str) -> Option<f64> {
        let encoded: String = promql
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let (status, body) = http_get(self.api, &format!("/api/v1/query?query={encoded}"));
        assert_eq!(status, 200, "{body}");
        // {"status":"success","data":{"resultType":"vector","result":[{"metric":{..},"value":[ts,"N"]}]}}
        let value = body.split("\"value\":[").nth(1)?;
        let number = value.split('"').nth(1)?;
        number.parse().ok()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn prometheus_scrapes_the_sessions_and_frames_the_test_played() {
    if !have("prometheus") {
        return;
    }
    // The sessions must outlive a slow Prometheus start and scrape on a loaded machine.
    let server = metrics_server(&["--session-timeout", "600"]);
    let metrics = server.metrics_addr();
    let prometheus = Prometheus::start(metrics);

    // Two sessions over TCP, each playing one second (20 frames at 20 fps) and ending its
    // range with an RTCP BYE; every frame sent arrives (TCP), so the test counts them.
    let mut clients = Vec::new();
    for _ in 0..2 {
        let mut c = Rtsp::connect(server.addr);
        let setup = setup_interleaved(&mut c, &server, "movie.Mjpeg");
        assert_eq!(setup.status, 200);
        let session = setup.session();
        let play = c.request(
            "PLAY",
            &server.url("movie.Mjpeg"),
            &[("Session", &session), ("Range", "npt=0-1")],
        );
        assert_eq!(play.status, 200);
        clients.push(c);
    }
    let mut frames = 0;
    for c in &mut clients {
        let ended = eventually(Duration::from_secs(30), || {
            c.collect_interleaved(Duration::from_millis(200));
            // RTCP BYE (packet type 203) in the compound packet on channel 1.
            c.interleaved
                .iter()
                .any(|(ch, p)| *ch == 1 && rtcp_has_bye(p))
        });
        assert!(ended, "no RTCP BYE at the end of the range");
        frames += c
            .interleaved
            .iter()
            .filter(|(ch, p)| *ch == 0 && rtp(p).marker)
            .count();
    }
    // At most one second at 20 fps for each session (a loaded machine may skip a slot).
    assert!((1..=40).contains(&frames), "{frames} frames");

    // Every frame sent arrived, unless the server counted it dropped on the way (a frame the
    // connection's queue had no room for is counted sent, then dropped).
    let matches = || {
        let sent = prometheus.query("rtsp_frames_sent_total");
        let dropped = prometheus
            .query("sum(rtsp_frames_dropped_total)")
            .unwrap_or(f64::NAN);
        sent.is_some_and(|s| s >= frames as f64 && s <= frames as f64 + dropped)
    };
    assert!(
        eventually(Duration::from_secs(60), matches),
        "Prometheus saw {:?} frames sent and {:?} dropped, the test received {frames}",
        prometheus.query("rtsp_frames_sent_total"),
        prometheus.query("sum(rtsp_frames_dropped_total)")
    );
    assert_eq!(
        prometheus
            .query("sum(rtsp_sessions_started_total{dialect=\"standard\",transport=\"tcp\"})"),
        Some(2.0)
    );
    assert_eq!(
        prometheus
            .query("rtsp_sessions{path=\"movie.Mjpeg\",dialect=\"standard\",transport=\"tcp\"}"),
        Some(2.0)
    );
    assert_eq!(prometheus.query("up{job=\"rtsp\"}"), Some(1.0));

    if have("promtool") {
        promtool_accepts(&http_get(metrics, "/metrics").1);
    }
}

/// Whether an RTCP compound packet holds a BYE.
fn rtcp_has_bye(mut p: &[u8]) -> bool {
    while p.len() >= 4 {
        if p[1] == 203 {
            return true;
        }
        let len = (usize::from(u16::from_be_bytes([p[2], p[3]])) + 1) * 4;
        p = p.get(len..).unwrap_or_default();
    }
    false
}

/// `promtool check metrics` finds nothing wrong. The exposition is OpenMetrics (what
/// `prometheus-client` writes and Prometheus reads); promtool 2.42 lints it with the older text
/// format's rules, under which a counter's `# HELP` (given for `name`, OpenMetrics style) does
/// not cover its `name_total` sample: that one finding is expected, anything else fails.
fn promtool_accepts(exposition: &str) {
    use std::io::Write;
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn promtool");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let unexpected: Vec<&str> = report
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| !(l.contains("_total no help text")))
        .collect();
    assert!(
        unexpected.is_empty(),
        "promtool check metrics:\n{report}\n{exposition}"
    );
}
