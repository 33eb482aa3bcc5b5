//! Relayed paths (`--relay PATH=URL`): the server pulls an upstream RTSP server with the
//! engine's client and its readers (ffprobe, ffmpeg, the engine's client) play the path.
//! Upstreams: GStreamer's rtsp-server standing for a camera, and a second `rtsp-server`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::peers::{ffmpeg_framemd5, ffprobe_sees};
use common::*;
use rtsp_core::client::{Client, ClientConfig, Event, State};
use rtsp_core::jpeg::ParsedJpeg;

/// GStreamer's rtsp-server serving a live 320x240 JPEG picture on `/test`.
struct Camera {
    child: Child,
    port: u16,
}

impl Camera {
    fn start() -> Camera {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/gst_camera.py");
        let mut child = Command::new(python())
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the GStreamer camera");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("the camera's port");
        let port = line.trim().parse().expect("a port number");
        Camera { child, port }
    }

    fn url(&self) -> String {
        format!("rtsp://127.0.0.1:{}/test", self.port)
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The system Python that has the `gi` bindings.
fn python() -> &'static str {
    if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

fn gst_rtsp_server() -> bool {
    let ok = Command::new(python())
        .args([
            "-c",
            "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    missing_is_a_skip(
        ok,
        "gst-rtsp-server (gir1.2-gst-rtsp-server-1.0, python3-gi)",
    )
}

/// The engine's client playing `url` (its DESCRIBE may wait for the relay's upstream).
fn reader(url: &str) -> Client {
    let mut config = ClientConfig::url(url);
    config.reply_timeout = Duration::from_secs(20);
    // An upstream outage is silence for the reader: it keeps its session and waits.
    config.media_timeout = None;
    config.stats_interval = None;
    let client = Client::connect(config).expect("connect to the relay");
    client.player_play().expect("play the relayed path");
    client
}

/// Up to `n` frames from `client` within 60 s.
fn frames(client: &Client, n: usize) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut out = Vec::new();
    while out.len() < n && Instant::now() < deadline {
        if let Some(Event::Frame(f)) = client.next_event(Duration::from_millis(200)) {
            out.push(f.jpeg.to_vec());
        }
    }
    out
}

fn size(jpeg: &[u8]) -> (u16, u16) {
    let parsed = ParsedJpeg::parse(jpeg).expect("a JPEG");
    (parsed.width(), parsed.height())
}

/// A metric's value in `/metrics` (its first line starting with `series`).
fn metric(server: &Server, series: &str) -> Option<f64> {
    let (status, body) = http_get(server.metrics_addr(), "/metrics");
    assert_eq!(status, 200);
    body.lines()
        .find_map(|l| l.strip_prefix(series))
        .and_then(|v| v.trim().parse().ok())
}

/// Poll until `series` is `want` (60 s).
fn wait_metric(server: &Server, series: &str, want: f64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = metric(server, series);
        if got == Some(want) {
            return;
        }
        assert!(Instant::now() < deadline, "{series} is {got:?}, not {want}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

const STATE: &str = "rtsp_relay_upstream_state{path=\"cam\"}";
const RECONNECTS: &str = "rtsp_relay_reconnects_total{path=\"cam\"}";

#[test]
fn gstreamer_camera_relayed_to_ffprobe_ffmpeg_and_the_engine() {
    if !gst_rtsp_server() || !have("ffprobe") || !have("ffmpeg") {
        return;
    }
    let camera = Camera::start();
    let relay_arg = format!("cam={}", camera.url());
    let server = Server::start(&["--relay", &relay_arg]);
    let url = server.url("cam");

    ffprobe_sees(
        &url,
        &["codec_name=mjpeg", "width=320", "height=240"],
        Duration::from_secs(60),
    );

    for transport in ["udp", "tcp"] {
        let (md5, decoded) = ffmpeg_framemd5(
            &["-rtsp_transport", transport, "-i", &url, "-frames:v", "20"],
            Duration::from_secs(60),
        );
        assert_eq!(decoded, 20, "{transport}: {}", text(&md5));
    }

    let client = reader(&url);
    let got = frames(&client, 20);
    assert_eq!(got.len(), 20);
    assert!(got.iter().all(|f| size(f) == (320, 240)));
    drop(client);
}

#[test]
fn on_demand_relay_of_a_second_server_with_credentials_and_linger() {
    let dir = scratch("relay-users");
    let users = dir.join("users.txt");
    let mut passwd = Command::new(env!("CARGO_BIN_EXE_rtsp-server"))
        .arg("passwd")
        .arg(&users)
        .arg("alice")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        writeln!(passwd.stdin.take().unwrap(), "s3cret-pw").unwrap();
    }
    assert!(passwd.wait().unwrap().success());
    let upstream = Server::start(&["--loop", "--credentials", users.to_str().unwrap()]);
    let relay_arg = format!("cam=rtsp://alice:s3cret-pw@{}/movie.Mjpeg", upstream.addr);
    let server = Server::start(&[
        "--relay",
        &relay_arg,
        "--relay-linger",
        "1",
        "--metrics",
        "127.0.0.1:0",
    ]);
    assert!(server
        .wait_log(&["relayed path", "path=cam"], Duration::from_secs(20))
        .is_some());
    wait_metric(&server, STATE, 0.0);
    // Nobody reads: the upstream has not been asked for anything.
    std::thread::sleep(Duration::from_secs(1));
    assert!(upstream
        .wait_log(&["session start"], Duration::ZERO)
        .is_none());

    let client = reader(&server.url("cam"));
    let got = frames(&client, 20);
    assert_eq!(got.len(), 20);
    assert!(got.iter().all(|f| size(f) == (640, 480)));
    assert!(upstream
        .wait_log(&["session start", "alice"], Duration::from_secs(5))
        .is_some());
    wait_metric(&server, STATE, 2.0);

    // The last reader leaves: after the linger the upstream's session ends.
    drop(client);
    assert!(
        upstream
            .wait_log(&["session end", "teardown"], Duration::from_secs(30))
            .is_some(),
        "the relay let its upstream go"
    );
    assert!(server
        .wait_log(&["relay upstream idle"], Duration::from_secs(5))
        .is_some());
    wait_metric(&server, STATE, 0.0);
    let log = server.log.lock().unwrap().join("\n");
    assert!(!log.contains("s3cret-pw"), "the password reached the log");
    assert!(log.contains("upstream=rtsp://127.0.0.1:"));
}

#[test]
fn readers_keep_their_session_while_the_upstream_restarts() {
    let port = free_port("127.0.0.1".parse().unwrap());
    let upstream = Server::start_on_port(port, &["--loop"]);
    let relay_arg = format!("cam:always=rtsp://127.0.0.1:{port}/movie.Mjpeg");
    let server = Server::start(&["--relay", &relay_arg, "--metrics", "127.0.0.1:0"]);
    let client = reader(&server.url("cam"));
    assert_eq!(frames(&client, 10).len(), 10);

    drop(upstream);
    assert!(server
        .wait_log(&["relay upstream backoff"], Duration::from_secs(30))
        .is_some());
    // Drain what arrived before the upstream went away.
    let deadline = Instant::now() + Duration::from_secs(10);
    while client.next_event(Duration::from_millis(500)).is_some() && Instant::now() < deadline {}
    let upstream = Server::start_on_port(port, &["--loop"]);
    let got = frames(&client, 20);
    assert_eq!(got.len(), 20, "frames resumed after the upstream came back");
    assert!(got.iter().all(|f| size(f) == (640, 480)));
    assert_eq!(client.state(), State::Playing);
    assert!(upstream
        .wait_log(&["session start"], Duration::from_secs(5))
        .is_some());
    assert!(metric(&server, RECONNECTS).is_some_and(|n| n >= 1.0));
    wait_metric(&server, STATE, 2.0);
}

#[test]
fn unreachable_upstreams_get_503_and_other_paths_play_on() {
    let refused = free_port("127.0.0.1".parse().unwrap());
    // Accepts connections (the kernel does) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let dead = format!("dead=rtsp://127.0.0.1:{refused}/x");
    let mute = format!("mute=rtsp://127.0.0.1:{silent_port}/x");
    let server = Server::start(&["--relay", &dead, "--relay", &mute, "--publish"]);

    // A relayed path has its publisher already.
    let sdp = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 26\r\n";
    let mut publisher = Rtsp::connect(server.addr);
    publisher.send_raw(
        format!(
            "ANNOUNCE {} RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            server.url("dead"),
            sdp.len()
        )
        .as_bytes(),
    );
    let reply = publisher.read_reply();
    assert_eq!(reply.status, 455, "{}", reply.status_line);
    assert!(String::from_utf8_lossy(&reply.body).contains("relayed"));

    let mut c = Rtsp::connect(server.addr);
    let reply = c.request("DESCRIBE", &server.url("dead"), &[]);
    assert_eq!(reply.status, 503, "{}", reply.status_line);
    assert!(String::from_utf8_lossy(&reply.body).contains("upstream"));

    // While a DESCRIBE of the silent upstream waits, another path is served at once.
    let mut waiting = Rtsp::connect(server.addr);
    waiting
        .stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let uri = server.url("mute");
    let waiter = std::thread::spawn(move || waiting.request("DESCRIBE", &uri, &[]));
    let mut other = Rtsp::connect(server.addr);
    let reply = other.request("DESCRIBE", &server.url("movie.Mjpeg"), &[]);
    assert_eq!(reply.status, 200);
    let reply = waiter.join().unwrap();
    assert_eq!(reply.status, 503, "{}", reply.status_line);
    assert!(String::from_utf8_lossy(&reply.body).contains("upstream"));

    // The server is healthy: a file plays.
    let s = setup_interleaved(&mut other, &server, "movie.Mjpeg");
    assert_eq!(s.status, 200);
    let p = other.request(
        "PLAY",
        &server.url("movie.Mjpeg"),
        &[("Session", &s.session())],
    );
    assert_eq!(p.status, 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    while other.interleaved.len() < 20 && Instant::now() < deadline {
        other.collect_interleaved(Duration::from_millis(200));
    }
    assert!(other.interleaved.len() >= 20);
    drop(silent);
}

/// The edge's `rtsp_relay_upstream_state` of `path`.
fn state_of(path: &str) -> String {
    format!("rtsp_relay_upstream_state{{path=\"{path}\"}}")
}

#[test]
fn an_edge_relays_any_path_of_its_origin_on_demand() {
    // The origin serves three files; the edge has none and relays whatever readers ask for.
    let origin_media = scratch("origin-media");
    std::fs::create_dir_all(origin_media.join("site")).unwrap();
    for name in ["a.mjpeg", "site/b.mjpeg", "c.mjpeg"] {
        std::fs::copy(media_dir().join("movie.Mjpeg"), origin_media.join(name)).unwrap();
    }
    let origin = Server::start_in(&origin_media, &["--loop"]);
    let origin_url = format!("rtsp://{}", origin.addr);
    let edge = Server::start_in(
        &scratch("edge-media"),
        &[
            "--origin",
            &origin_url,
            "--origin-max-paths",
            "2",
            "--relay-linger",
            "1",
            "--metrics",
            "127.0.0.1:0",
        ],
    );

    // A path the origin does not have: 404 (twice: the second from the edge's memory).
    let mut c = Rtsp::connect(edge.addr);
    for _ in 0..2 {
        let reply = c.request("DESCRIBE", &edge.url("nope.mjpeg"), &[]);
        assert_eq!(reply.status, 404, "{}", reply.status_line);
    }
    assert!(
        edge.wait_log(
            &["relay from the origin let go", "path=nope.mjpeg"],
            Duration::from_secs(30)
        )
        .is_some(),
        "the missing path is forgotten after the linger"
    );

    // Two paths on demand, one upstream session each.
    let a = reader(&edge.url("a.mjpeg"));
    let b = reader(&edge.url("site/b.mjpeg"));
    for client in [&a, &b] {
        let got = frames(client, 10);
        assert_eq!(got.len(), 10);
        assert!(got.iter().all(|f| size(f) == (640, 480)));
    }
    wait_metric(&edge, &state_of("a.mjpeg"), 2.0);
    wait_metric(&edge, &state_of("site/b.mjpeg"), 2.0);
    let started = |server: &Server| {
        let log = server.log.lock().unwrap();
        log.iter().filter(|l| l.contains("session start")).count()
    };
    // One each (a UDP attempt falling back to TCP may add one).
    let upstream_sessions = started(&origin);
    assert!((2..=4).contains(&upstream_sessions), "{upstream_sessions}");

    // At --origin-max-paths a third path is refused with 503; the two play on.
    let reply = c.request("DESCRIBE", &edge.url("c.mjpeg"), &[]);
    assert_eq!(reply.status, 503, "{}", reply.status_line);
    assert_eq!(frames(&a, 5).len(), 5);

    // The readers leave: after the linger each upstream session ends and the paths go.
    drop(a);
    drop(b);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let log = origin.log.lock().unwrap().join("\n");
        if log.matches("session end").count() >= upstream_sessions {
            break;
        }
        drop(log);
        assert!(Instant::now() < deadline, "the edge let its upstreams go");
        std::thread::sleep(Duration::from_millis(100));
    }
    for path in ["path=a.mjpeg", "path=site/b.mjpeg"] {
        assert!(
            edge.wait_log(
                &["relay from the origin let go", path],
                Duration::from_secs(30)
            )
            .is_some(),
            "{path} was let go"
        );
    }

    // Forgotten paths leave no series behind.
    assert_eq!(metric(&edge, &state_of("a.mjpeg")), None);
    assert_eq!(metric(&edge, &state_of("nope.mjpeg")), None);

    // Room again: the third path plays now.
    let c = reader(&edge.url("c.mjpeg"));
    assert_eq!(frames(&c, 5).len(), 5);
    assert!(started(&origin) > upstream_sessions);
}
