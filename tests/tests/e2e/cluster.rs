//! The cluster of `examples/cluster` on loopback with real processes: one origin `rtsp-server`,
//! two edges relaying whatever path of the origin viewers ask for (`--origin`, on demand, with the PROXY
//! protocol from the balancer), and Debian's `haproxy` in TCP mode in front of the edges
//! (round robin, `send-proxy-v2` from 127.0.0.2, health checks on each edge's `/healthz`).
//! Viewers (ffmpeg, ffprobe, the engine's client) connect to HAProxy on 127.0.0.4 only. The
//! last test runs `examples/cluster/run.sh` itself, on its own fixed 127.0.0.10-30 addresses.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rtsp_core::client::{Client, ClientConfig, Event, State};
use rtsp_tests::haproxy::Haproxy;
use rtsp_tests::peers::{ffmpeg_framemd5, ffprobe_sees};
use rtsp_tests::{have, http_get, run, scratch, text, Server};

const PROXY_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const FRONTEND_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 4));
/// The path viewers play on the edges: the origin's file of that name.
const PATH: &str = "movie.Mjpeg";
const ORIGIN_PATH: &str = PATH;

/// The origin and its edges, each with `--metrics`.
struct Cluster {
    origin: Server,
    edges: Vec<Server>,
}

impl Cluster {
    fn start() -> Cluster {
        let origin = Server::start(&["--loop", "--metrics", "127.0.0.1:0"]);
        let origin_url = format!("rtsp://{}", origin.addr);
        let edges = (0..2)
            .map(|i| {
                // No files of their own: everything the edges serve comes from the origin.
                Server::start_in(
                    &scratch(&format!("edge-media-{i}")),
                    &[
                        "--proxy-protocol",
                        "--trusted-proxy",
                        "127.0.0.2/32",
                        "--origin",
                        &origin_url,
                        // Viewers come and go during a test: keep the upstream meanwhile.
                        "--relay-linger",
                        "120",
                        "--metrics",
                        "127.0.0.1:0",
                    ],
                )
            })
            .collect();
        Cluster { origin, edges }
    }
}

/// HAProxy in front of the edges: round robin, the PROXY protocol v2 from 127.0.0.2, health
/// checks on each edge's `/healthz`.
fn haproxy(edges: &[Server]) -> Haproxy {
    Haproxy::start(FRONTEND_IP, |frontend| {
        let mut config = format!(
            "global\n  maxconn 256\n\n\
             defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 120s\n  timeout server 120s\n\
             \x20 timeout check 2s\n  retries 2\n  option redispatch\n\n\
             frontend rtsp\n  bind {frontend}\n  default_backend edges\n\n\
             backend edges\n  balance roundrobin\n  option httpchk GET /healthz\n\
             \x20 http-check expect status 200\n"
        );
        for (i, edge) in edges.iter().enumerate() {
            config.push_str(&format!(
                "  server edge{} {} send-proxy-v2 source {PROXY_IP} check port {} inter 500ms fall 2 rise 2\n",
                i + 1,
                edge.addr,
                edge.metrics_addr().port()
            ));
        }
        config
    })
}

/// The sum of the series of `name` whose labels include `label` in a server's `/metrics`.
fn metric_sum(server: &Server, name: &str, label: &str) -> f64 {
    let (status, body) = http_get(server.metrics_addr(), "/metrics");
    assert_eq!(status, 200);
    body.lines()
        .filter_map(|l| l.strip_prefix(name))
        .filter(|rest| rest.starts_with('{') && rest.contains(label))
        .filter_map(|rest| rest.rsplit_once(' '))
        .filter_map(|(_, v)| v.trim().parse::<f64>().ok())
        .sum()
}

/// Live sessions of `path` on `server`, whatever their dialect and transport.
fn sessions(server: &Server, path: &str) -> f64 {
    metric_sum(server, "rtsp_sessions", &format!("path=\"{path}\""))
}

/// Sessions ever set up on `server`.
fn sessions_started(server: &Server) -> f64 {
    metric_sum(server, "rtsp_sessions_started_total", "dialect=")
}

/// Poll until `f` is `want` (90 s), with the last value in the failure.
fn wait_for(what: &str, want: f64, f: impl Fn() -> f64) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let got = f();
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "{what} is {got}, not {want}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The engine's client playing the cluster's path through HAProxy (its DESCRIBE may wait for
/// the edge's upstream).
fn viewer(proxy: &Haproxy) -> Client {
    let mut config = ClientConfig::url(proxy.url(PATH));
    config.reply_timeout = Duration::from_secs(30);
    config.media_timeout = None;
    config.stats_interval = None;
    let client = Client::connect(config).expect("connect through haproxy");
    client.player_play().expect("play through haproxy");
    client
}

/// Up to `n` frames from `client` within 60 s.
fn frames(client: &Client, n: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut got = 0;
    while got < n && Instant::now() < deadline {
        if let Some(Event::Frame(_)) = client.next_event(Duration::from_millis(200)) {
            got += 1;
        }
    }
    got
}

/// ffmpeg decodes 20 frames of the cluster's path through HAProxy over `transport`.
fn ffmpeg_decodes(proxy: &Haproxy, transport: &str) {
    let url = proxy.url(PATH);
    let (out, decoded) = ffmpeg_framemd5(
        &["-rtsp_transport", transport, "-i", &url, "-frames:v", "20"],
        Duration::from_secs(90),
    );
    assert_eq!(decoded, 20, "{transport}: {}", text(&out));
}

fn ffprobe_sees_mjpeg(proxy: &Haproxy) {
    ffprobe_sees(
        &proxy.url(PATH),
        &["codec_name=mjpeg", "width=640", "height=480"],
        Duration::from_secs(90),
    );
}

fn peers() -> bool {
    have("haproxy") && have("ffmpeg") && have("ffprobe")
}

#[test]
fn viewers_through_haproxy_from_both_edges_one_upstream_per_edge() {
    if !peers() {
        return;
    }
    let cluster = Cluster::start();
    let proxy = haproxy(&cluster.edges);

    // Four engine viewers, held open: round robin gives each edge two. Reported, not asserted:
    // the first frame on a cold edge (its upstream connects) and on a warm one.
    let viewers: Vec<Client> = (0..4)
        .map(|i| {
            let asked = Instant::now();
            let v = viewer(&proxy);
            assert_eq!(frames(&v, 1), 1);
            eprintln!(
                "cluster: viewer {i}: first frame after {:?}",
                asked.elapsed()
            );
            v
        })
        .collect();
    for v in &viewers {
        assert_eq!(frames(v, 20), 20);
    }
    wait_for("sessions on the edges", 4.0, || {
        cluster.edges.iter().map(|e| sessions(e, PATH)).sum()
    });
    let on: Vec<f64> = cluster.edges.iter().map(|e| sessions(e, PATH)).collect();
    assert!(
        on.iter().all(|&n| n >= 1.0),
        "both edges serve viewers: {on:?}"
    );
    // UDP media goes straight from the edge to the viewer, not through the balancer.
    let udp: f64 = cluster
        .edges
        .iter()
        .map(|e| metric_sum(e, "rtsp_sessions", "transport=\"udp\""))
        .sum();
    // A viewer that sees no packet within its fallback window plays over TCP instead (a loaded
    // machine can cause that, and adds a session); one on UDP shows RTP reaching the viewer's
    // own address past the balancer.
    assert!(udp >= 1.0, "the engine's viewers receive over UDP: {udp}");
    // The origin serves one upstream session per edge, not one per viewer.
    wait_for("origin sessions", 2.0, || {
        sessions(&cluster.origin, ORIGIN_PATH)
    });

    // Other players through the balancer, while the engine's viewers play on.
    ffprobe_sees_mjpeg(&proxy);
    ffmpeg_decodes(&proxy, "udp");
    ffmpeg_decodes(&proxy, "tcp");
    for v in &viewers {
        assert_eq!(frames(v, 10), 10);
        assert_eq!(v.state(), State::Playing);
    }
    let started: Vec<f64> = cluster.edges.iter().map(sessions_started).collect();
    assert!(started.iter().all(|&n| n >= 1.0), "{started:?}");
    assert!(started.iter().sum::<f64>() >= 7.0, "{started:?}");
    assert_eq!(sessions(&cluster.origin, ORIGIN_PATH), 2.0);
    assert_eq!(sessions_started(&cluster.origin), 2.0);
    // Every edge session came through the balancer and was logged as the viewer's own address.
    for edge in &cluster.edges {
        let log = edge.log.lock().unwrap().join("\n");
        assert!(
            !log.contains("peer=127.0.0.2:"),
            "the balancer's address leaked"
        );
    }
}

#[test]
fn a_killed_edge_new_viewers_and_its_own_go_to_the_other_whose_viewers_play_on() {
    if !peers() {
        return;
    }
    let mut cluster = Cluster::start();
    let proxy = haproxy(&cluster.edges);

    // Viewers until both edges have one (round robin: two, unless a connection of the
    // start-up probe or a retry took a turn).
    let mut placed: Vec<(Client, usize)> = Vec::new();
    while !(0..2).all(|e| placed.iter().any(|(_, on)| *on == e)) {
        assert!(placed.len() < 6, "six viewers and one edge has none");
        placed.push(place(&cluster, &proxy));
    }
    let killed = placed[0].1;
    let survivor = 1 - killed;
    let (cut, kept): (Vec<_>, Vec<_>) = placed.into_iter().partition(|(_, on)| *on == killed);

    let mut dead = cluster.edges.remove(killed);
    dead.child.kill().unwrap();
    dead.child.wait().unwrap();
    let killed_at = Instant::now();
    let name = format!("edges/edge{} is DOWN", killed + 1);
    assert!(
        proxy.wait_log(&[&name], Duration::from_secs(60)).is_some(),
        "haproxy saw {name}"
    );
    // Reported, not asserted: how long the health checks took to take the edge out.
    eprintln!(
        "cluster: haproxy marked the killed edge down after {:?}",
        killed_at.elapsed()
    );
    let edge = &cluster.edges[0];

    // The viewers on the surviving edge play on; those on the killed edge are cut off.
    for (v, _) in &kept {
        assert_eq!(frames(v, 40), 40, "the surviving edge's viewer plays on");
        assert_eq!(v.state(), State::Playing);
    }
    for (v, _) in &cut {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut error = None;
        while (error.is_none() || v.state() == State::Playing) && Instant::now() < deadline {
            if let Some(Event::Error(e)) = v.next_event(Duration::from_millis(200)) {
                error = Some(e);
            }
        }
        assert_ne!(
            v.state(),
            State::Playing,
            "the killed edge's viewer noticed"
        );
        eprintln!("cluster: the killed edge's viewer got: {error:?}");
        assert!(
            error.is_some(),
            "the killed edge's viewer got an error event"
        );
    }

    // New viewers, and the cut-off ones playing again, all go to the surviving edge.
    let before = sessions_started(edge);
    for (v, _) in &cut {
        v.player_play().expect("the cut-off viewer plays again");
        assert_eq!(frames(v, 20), 20);
    }
    let newcomers: Vec<Client> = (0..3).map(|_| viewer(&proxy)).collect();
    for v in &newcomers {
        assert_eq!(frames(v, 20), 20);
    }
    ffmpeg_decodes(&proxy, "tcp");
    assert!(sessions_started(edge) - before >= (cut.len() + 4) as f64);
    let playing = (kept.len() + cut.len() + newcomers.len()) as f64;
    wait_for("surviving edge sessions", playing, || sessions(edge, PATH));
    // Its one upstream session still serves them all.
    let survivor_log = edge.log.lock().unwrap().join("\n");
    assert_eq!(
        survivor_log.matches("relay upstream connecting").count(),
        1,
        "edge{} connected its upstream once",
        survivor + 1
    );
    for (v, _) in &kept {
        assert_eq!(frames(v, 10), 10);
    }
}

/// A new engine viewer through HAProxy, and the index of the edge that serves it (the one whose
/// session count rose).
fn place(cluster: &Cluster, proxy: &Haproxy) -> (Client, usize) {
    let before: Vec<f64> = cluster.edges.iter().map(|e| sessions(e, PATH)).collect();
    let v = viewer(proxy);
    assert_eq!(frames(&v, 10), 10);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now: Vec<f64> = cluster.edges.iter().map(|e| sessions(e, PATH)).collect();
        let rose: Vec<usize> = (0..now.len()).filter(|&i| now[i] > before[i]).collect();
        if let [on] = rose[..] {
            assert_eq!(now[on], before[on] + 1.0, "{before:?} -> {now:?}");
            return (v, on);
        }
        assert!(
            Instant::now() < deadline,
            "the new viewer's edge: {before:?} -> {now:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `examples/cluster/run.sh` as shipped (its fixed 127.0.0.x addresses) comes up, serves a
/// viewer through HAProxy from an edge, Prometheus scrapes all three servers, and Ctrl-C (SIGINT
/// to its process group, as a terminal sends it) stops every process.
#[test]
fn the_example_cluster_runs_and_stops_on_ctrl_c() {
    if !peers() || !have("prometheus") {
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/cluster/run.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(script)
        .env("RTSP_SERVER", rtsp_tests::server_binary())
        .env("MEDIA", rtsp_tests::media_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    // A shell started in the background (a CI runner, `nohup ... &`) passes SIGINT on ignored,
    // and a signal ignored at a shell's start cannot be trapped: run.sh gets what a terminal
    // gives it, SIGINT and SIGQUIT at their defaults.
    // SAFETY: the closure runs in the forked child before exec and only calls signal(2), which
    // is async-signal-safe.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGQUIT, libc::SIG_DFL);
            Ok(())
        });
    }
    let child = cmd.spawn().expect("start run.sh");
    let mut example = Example { child };

    let viewers = "rtsp://127.0.0.20:8554/movie.Mjpeg";
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let out = run(
            "ffprobe",
            &[
                "-v",
                "error",
                "-rtsp_transport",
                "tcp",
                "-show_entries",
                "stream=codec_name",
                viewers,
            ]
            .map(String::from),
            Duration::from_secs(60),
        );
        if out.status.success() && text(&out).contains("codec_name=mjpeg") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "ffprobe never played: {}",
            text(&out)
        );
        assert!(example.child.try_wait().unwrap().is_none(), "run.sh exited");
        std::thread::sleep(Duration::from_secs(1));
    }

    // Prometheus scrapes the origin and both edges: `up` is 1 for three targets.
    let prometheus: SocketAddr = "127.0.0.30:9090".parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let body = TcpStream::connect(prometheus)
            .ok()
            .map(|_| http_get(prometheus, "/api/v1/query?query=count(up%3D%3D1)").1);
        if body.as_deref().is_some_and(|b| b.contains(",\"3\"]")) {
            break;
        }
        assert!(Instant::now() < deadline, "targets up: {body:?}");
        std::thread::sleep(Duration::from_secs(1));
    }

    // Ctrl-C.
    let pgid = example.child.id() as libc::pid_t;
    // SAFETY: kill(2) on our own child's process group has no memory-safety preconditions.
    unsafe {
        libc::kill(-pgid, libc::SIGINT);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while example.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "run.sh did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(100));
    }
    for addr in [
        "127.0.0.10:8554",
        "127.0.0.11:8554",
        "127.0.0.12:8554",
        "127.0.0.20:8554",
        "127.0.0.10:9554",
        "127.0.0.30:9090",
    ] {
        let addr: SocketAddr = addr.parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(addr).is_ok() {
            assert!(
                Instant::now() < deadline,
                "{addr} still listens after Ctrl-C"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// `run.sh` in its own process group; on a failed test the whole group is terminated.
struct Example {
    child: Child,
}

impl Drop for Example {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            // SAFETY: kill(2) on our own child's process group.
            unsafe {
                libc::kill(-(self.child.id() as libc::pid_t), libc::SIGTERM);
            }
            let _ = self.child.wait();
        }
    }
}

#[test]
fn a_draining_edge_takes_no_new_viewers_and_its_viewers_play_on() {
    if !peers() {
        return;
    }
    let cluster = Cluster::start();
    let proxy = haproxy(&cluster.edges);
    let mut placed: Vec<(Client, usize)> = Vec::new();
    while !(0..2).all(|e| placed.iter().any(|(_, on)| *on == e)) {
        assert!(placed.len() < 6, "six viewers and one edge has none");
        placed.push(place(&cluster, &proxy));
    }
    let drained = placed[0].1;
    let other = &cluster.edges[1 - drained];
    // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
    unsafe {
        libc::kill(
            cluster.edges[drained].child.id() as libc::pid_t,
            libc::SIGUSR1,
        );
    }
    let name = format!("edges/edge{} is DOWN", drained + 1);
    let down = proxy
        .wait_log(&[&name], Duration::from_secs(60))
        .expect("haproxy took the draining edge out");
    assert!(down.contains("503"), "{down}");

    let drained_before = sessions_started(&cluster.edges[drained]);
    let other_before = sessions_started(other);
    let newcomers: Vec<Client> = (0..3).map(|_| viewer(&proxy)).collect();
    for v in &newcomers {
        assert_eq!(frames(v, 10), 10);
    }
    assert_eq!(sessions_started(&cluster.edges[drained]), drained_before);
    assert!(sessions_started(other) - other_before >= 3.0);
    // Every viewer set up before draining plays on, wherever it is.
    for (v, _) in &placed {
        assert_eq!(frames(v, 20), 20);
        assert_eq!(v.state(), State::Playing);
    }
}
