//! The support library of the workspace's end-to-end tests (and of server-bin's own
//! integration tests): run the real `rtsp-server` binary on 127.0.0.1 with an ephemeral port,
//! talk to it over real sockets, read its log, and launch the third-party peers.
// Test support: a failed set-up or a malformed reply is the test's failure, reported by a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod haproxy;
pub mod peers;
pub mod transcript;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The `rtsp-server` executable of this build profile, built on first use.
///
/// Only server-bin's own tests could name it with `CARGO_BIN_EXE_*`, so elsewhere it is built
/// here with cargo (a no-op when `cargo test` built it already with the same features) into
/// the same target directory (cargo releases its lock while tests run). Test binaries live in
/// `target/<profile>/deps`.
pub fn server_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable");
        let dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>")
            .to_path_buf();
        let binary = dir.join("rtsp-server");
        // `cargo test` of server-bin (named in the tests' environment at run time) built the
        // binary with that run's features: a build here, with other features, would replace it.
        if std::env::var("CARGO_PKG_NAME").is_ok_and(|p| p == "server-bin") && binary.exists() {
            return binary;
        }
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args([
                "build",
                "--quiet",
                "-p",
                "server-bin",
                "--bin",
                "rtsp-server",
            ])
            .current_dir(workspace_root());
        if dir.file_name().is_some_and(|n| n == "release") {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("run cargo build");
        assert!(status.success(), "cargo build -p server-bin failed");
        binary
    })
}

/// The repository's sample media directory (holds `movie.Mjpeg`).
pub fn media_dir() -> PathBuf {
    workspace_root().join("media")
}

/// The sample file's frames (for comparing what was sent).
pub fn movie() -> rtsp_core::media::MjpegFile {
    rtsp_core::media::MjpegFile::open(media_dir().join("movie.Mjpeg")).expect("media/movie.Mjpeg")
}

/// A media directory holding `uhd.mjpeg`: 8 frames of 3840x2160 made by the test pattern at
/// run time (a 4K file is too large to check in). Such frames travel with size fields 0 in the
/// RFC 2435 header, `a=x-dimensions` in the SDP and the ONVIF header extension.
pub fn uhd_media(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("server_bin_uhd_{tag}_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = rtsp_core::media::TestPattern::new(3840, 2160, 20.0)
        .unwrap()
        .generate(8)
        .unwrap();
    std::fs::write(dir.join("uhd.mjpeg"), file.as_bytes()).unwrap();
    dir
}

/// A running server process, killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Start `rtsp-server --bind 127.0.0.1 --port 0 <args>` and wait until it listens.
    pub fn start(args: &[&str]) -> Server {
        Self::start_in(&media_dir(), args)
    }

    /// Same, with another media directory.
    pub fn start_in(media: &Path, args: &[&str]) -> Server {
        Self::start_with(media, 0, args, |_| {})
    }

    /// Same on a given RTSP port (a server restarted where its clients expect it).
    pub fn start_on_port(port: u16, args: &[&str]) -> Server {
        Self::start_with(&media_dir(), port, args, |_| {})
    }

    /// Same, with the open-file limit (soft and hard) of the server process set to `limit`
    /// before it starts (the server raises its soft limit to the hard one, so both are set).
    pub fn start_with_open_files(media: &Path, args: &[&str], limit: u64) -> Server {
        Self::start_with(media, 0, args, |cmd| {
            use std::os::unix::process::CommandExt;
            // SAFETY: the closure runs in the forked child before exec and only calls
            // setrlimit(2), which is async-signal-safe.
            unsafe {
                cmd.pre_exec(move || {
                    let lim = libc::rlimit {
                        rlim_cur: limit as libc::rlim_t,
                        rlim_max: limit as libc::rlim_t,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        })
    }

    fn start_with(
        media: &Path,
        port: u16,
        args: &[&str],
        configure: impl FnOnce(&mut Command),
    ) -> Server {
        // Spread the RTP port ranges of servers running in parallel.
        let base = 20000 + (std::process::id() % 200) as u16 * 100 + (rand_u16() % 50) * 2;
        let mut cmd = Command::new(server_binary());
        // `port` (0: any free one) unless the arguments choose one.
        let port_arg = port.to_string();
        let port: &[&str] = if args.contains(&"--port") {
            &[]
        } else {
            &["--port", &port_arg]
        };
        cmd.args(["--bind", "127.0.0.1"])
            .args(port)
            .arg("--media")
            .arg(media)
            .args(["--rtp-port-base", &base.to_string()])
            .args(args)
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        configure(&mut cmd);
        Self::spawn(cmd)
    }

    /// `rtsp-server <args>` with nothing added (a `--config` file names the address), waiting
    /// until it listens.
    pub fn start_bare(args: &[&str]) -> Server {
        let mut cmd = Command::new(server_binary());
        cmd.args(args)
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        Self::spawn(cmd)
    }

    fn spawn(mut cmd: Command) -> Server {
        let mut child = cmd.spawn().expect("spawn rtsp-server");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let mut tx = Some(tx);
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if line.contains("rtsp-server listening") {
                        if let Some(tx) = tx.take() {
                            let _ = tx.send(line.clone());
                        }
                    }
                    log.lock().unwrap().push(line);
                }
            });
        }
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("server did not start");
        let addr = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("addr="))
            .expect("addr in listening line")
            .parse()
            .expect("socket address");
        Server { child, addr, log }
    }

    /// `rtsp://127.0.0.1:PORT/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("rtsp://{}/{}", self.addr, path)
    }

    /// Wait until a log line contains every one of `needles`; returns the line.
    pub fn wait_log(&self, needles: &[&str], timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = self
                .log
                .lock()
                .unwrap()
                .iter()
                .find(|l| needles.iter().all(|n| l.contains(n)))
            {
                return Some(l.clone());
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Send SIGTERM and wait for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "server did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn rand_u16() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(Instant::now().elapsed().as_nanos() as u64);
    h.finish() as u16
}

/// A parsed standard RTSP reply.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub status_line: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The session id from `Session: id;timeout=N`.
    pub fn session(&self) -> String {
        self.header("Session")
            .expect("Session header")
            .split(';')
            .next()
            .unwrap()
            .trim()
            .to_owned()
    }
}

/// A standard-dialect RTSP connection that also collects `$` frames.
pub struct Rtsp {
    pub stream: TcpStream,
    buf: Vec<u8>,
    pub interleaved: Vec<(u8, Vec<u8>)>,
    cseq: u32,
}

impl Rtsp {
    pub fn connect(addr: SocketAddr) -> Rtsp {
        Self::from_stream(TcpStream::connect(addr).expect("connect"))
    }

    pub fn from_stream(stream: TcpStream) -> Rtsp {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Rtsp {
            stream,
            buf: Vec::new(),
            interleaved: Vec::new(),
            cseq: 1,
        }
    }

    /// Send `METHOD uri RTSP/1.0` with CSeq and `headers` (CRLF, blank line), read the reply.
    pub fn request(&mut self, method: &str, uri: &str, headers: &[(&str, &str)]) -> Reply {
        let mut text = format!("{method} {uri} RTSP/1.0\r\nCSeq: {}\r\n", self.cseq);
        self.cseq += 1;
        for (n, v) in headers {
            text.push_str(&format!("{n}: {v}\r\n"));
        }
        text.push_str("\r\n");
        self.send_raw(text.as_bytes());
        self.read_reply()
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    fn fill(&mut self) -> bool {
        let mut tmp = [0u8; 65536];
        match self.stream.read(&mut tmp) {
            Ok(0) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&tmp[..n]);
                true
            }
            Err(e) => panic!("read: {e}"),
        }
    }

    /// Skip (and keep) `$` frames, then parse one reply.
    pub fn read_reply(&mut self) -> Reply {
        loop {
            while self.buf.first() == Some(&b'$') {
                if self.buf.len() < 4 {
                    break;
                }
                let len = u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize;
                if self.buf.len() < 4 + len {
                    break;
                }
                let channel = self.buf[1];
                let payload = self.buf[4..4 + len].to_vec();
                self.buf.drain(..4 + len);
                self.interleaved.push((channel, payload));
            }
            if self.buf.first().is_some_and(|b| *b != b'$') {
                if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                    let head = String::from_utf8(self.buf[..end].to_vec()).unwrap();
                    let mut lines = head.split("\r\n");
                    let status_line = lines.next().unwrap().to_owned();
                    let headers: Vec<(String, String)> = lines
                        .map(|l| {
                            let (n, v) = l.split_once(':').expect("header line");
                            (n.trim().to_owned(), v.trim().to_owned())
                        })
                        .collect();
                    let len: usize = headers
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case("Content-Length"))
                        .map(|(_, v)| v.parse().unwrap())
                        .unwrap_or(0);
                    if self.buf.len() >= end + 4 + len {
                        let body = self.buf[end + 4..end + 4 + len].to_vec();
                        self.buf.drain(..end + 4 + len);
                        let status = status_line
                            .split_whitespace()
                            .nth(1)
                            .unwrap()
                            .parse()
                            .unwrap();
                        return Reply {
                            status,
                            status_line,
                            headers,
                            body,
                        };
                    }
                }
            }
            assert!(self.fill(), "connection closed while waiting for a reply");
        }
    }

    /// Read `$` frames for `dur`.
    pub fn collect_interleaved(&mut self, dur: Duration) {
        let deadline = Instant::now() + dur;
        self.stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        while Instant::now() < deadline {
            let mut tmp = [0u8; 65536];
            match self.stream.read(&mut tmp) {
                Ok(0) => break,
                Ok(n) => self.buf.extend_from_slice(&tmp[..n]),
                Err(_) => {}
            }
            while self.buf.first() == Some(&b'$') && self.buf.len() >= 4 {
                let len = u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize;
                if self.buf.len() < 4 + len {
                    break;
                }
                let channel = self.buf[1];
                let payload = self.buf[4..4 + len].to_vec();
                self.buf.drain(..4 + len);
                self.interleaved.push((channel, payload));
            }
        }
        self.stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
    }
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Two UDP sockets on consecutive ports (RTP even, RTCP odd) on 127.0.0.1.
pub fn udp_pair() -> (UdpSocket, UdpSocket) {
    udp_pair_on(std::net::Ipv4Addr::LOCALHOST.into())
}

/// An RTP/RTCP pair (even, odd) bound to `ip` alone, so it receives only datagrams sent to `ip`.
pub fn udp_pair_on(ip: std::net::IpAddr) -> (UdpSocket, UdpSocket) {
    for _ in 0..200 {
        let a = UdpSocket::bind((ip, 0)).unwrap();
        let port = a.local_addr().unwrap().port();
        if !port.is_multiple_of(2) || port == u16::MAX {
            continue;
        }
        if let Ok(b) = UdpSocket::bind((ip, port + 1)) {
            a.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            b.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            return (a, b);
        }
    }
    panic!("no UDP port pair");
}

/// Receive datagrams on `sock` for `dur` (or until `max` packets).
pub fn recv_for(sock: &UdpSocket, dur: Duration, max: usize) -> Vec<(Instant, Vec<u8>)> {
    let deadline = Instant::now() + dur;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65536];
    while Instant::now() < deadline && out.len() < max {
        if let Ok(n) = sock.recv(&mut buf) {
            out.push((Instant::now(), buf[..n].to_vec()));
        }
    }
    out
}

/// A minimal RTP header view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rtp {
    pub marker: bool,
    pub pt: u8,
    pub seq: u16,
    pub ts: u32,
    pub ssrc: u32,
}

pub fn rtp(p: &[u8]) -> Rtp {
    let pkt = rtsp_core::rtp::RtpPacketRef::parse(p).expect("valid RTP packet");
    Rtp {
        marker: pkt.marker(),
        pt: pkt.payload_type(),
        seq: pkt.sequence_number(),
        ts: pkt.timestamp(),
        ssrc: pkt.ssrc(),
    }
}

pub fn rtp_payload(p: &[u8]) -> Vec<u8> {
    rtsp_core::rtp::RtpPacketRef::parse(p)
        .expect("valid RTP packet")
        .payload()
        .to_vec()
}

/// SETUP of `path`'s track over TCP interleaving, channels 0 and 1.
pub fn setup_interleaved(c: &mut Rtsp, server: &Server, path: &str) -> Reply {
    c.request(
        "SETUP",
        &server.url(&format!("{path}/track1")),
        &[("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1")],
    )
}

/// A `client_port=a-b` transport for a UDP pair.
pub fn udp_transport(rtp: &UdpSocket) -> String {
    let p = rtp.local_addr().unwrap().port();
    format!("RTP/AVP;unicast;client_port={}-{}", p, p + 1)
}

/// `server_port=c-d` from a Transport reply.
pub fn server_ports(transport: &str) -> (u16, u16) {
    let v = transport
        .split(';')
        .find_map(|p| p.strip_prefix("server_port="))
        .expect("server_port");
    let (a, b) = v.split_once('-').unwrap();
    (a.parse().unwrap(), b.parse().unwrap())
}

/// Is `tool` on PATH? Prints a loud skip message if not; with `CI` set a missing tool fails
/// the test instead (CI installs every tool, so a skip there would hide a broken set-up).
pub fn have(tool: &str) -> bool {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    missing_is_a_skip(ok, tool)
}

/// `available`, or a loud skip (a failure under `CI=true`) naming `what`.
pub fn missing_is_a_skip(available: bool, what: &str) -> bool {
    if !available {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
        assert!(
            !ci,
            "`{what}` is not installed, and CI=true requires every interop tool"
        );
        eprintln!("\n!!!!!!!! SKIPPED: `{what}` is not installed; install it to run this interop test !!!!!!!!\n");
    }
    available
}

/// Map from the RFC 2435 rendering of each movie frame to its index.
pub fn frame_index() -> std::collections::HashMap<Vec<u8>, usize> {
    let movie = movie();
    (0..movie.frame_count())
        .map(|i| {
            let jpeg = rtsp_core::jpeg::ParsedJpeg::parse(movie.frame(i).unwrap()).unwrap();
            (jpeg.to_rtp_jpeg(), i)
        })
        .collect()
}

/// Depacketize RTP packets into (frame index in the movie, rtp timestamp).
pub fn frames_of(
    packets: &[Vec<u8>],
    index: &std::collections::HashMap<Vec<u8>, usize>,
) -> Vec<(usize, u32)> {
    let mut d = rtsp_core::jpeg::Depacketizer::new();
    let mut out = Vec::new();
    for p in packets {
        let h = rtp(p);
        if let Some(f) = d.push(h.ts, h.marker, &rtp_payload(p)) {
            let i = *index.get(&f.jpeg).expect("a frame of the movie, bit-exact");
            out.push((i, f.timestamp));
        }
    }
    out
}

/// Run a command with a time limit, returning its output (stdout + stderr).
pub fn run(program: &str, args: &[String], limit: Duration) -> std::process::Output {
    eprintln!("$ {program} {}", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{program} timed out\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The largest send buffer the kernel gives a TCP socket (`tcp_wmem`'s maximum): what a
/// stalled reader's connection absorbs besides the server's own queue.
pub fn tcp_wmem_max() -> u64 {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().nth(2).and_then(|v| v.parse().ok()))
        .unwrap_or(4 << 20)
}

/// After a reader's stall: the RTP sequence numbers it then read run on without a gap (a frame
/// is dropped whole or sent whole, never torn), and the session's end line counts drops.
pub fn assert_stall_dropped_whole_frames(server: &Server, session: &str, seqs: &[u16]) {
    assert!(seqs.len() > 100, "{} packets", seqs.len());
    for w in seqs.windows(2) {
        assert_eq!(
            w[1],
            w[0].wrapping_add(1),
            "sequence gap: a torn or partial frame"
        );
    }
    let line = server
        .wait_log(&["session end", session], Duration::from_secs(10))
        .expect("session end logged");
    let dropped = frames_dropped(&line);
    assert!(dropped > 0, "the stall dropped frames: {line}");
}

/// The `frames_dropped=N` of a session's end line.
pub fn frames_dropped(line: &str) -> u64 {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("frames_dropped="))
        .and_then(|v| v.trim_matches(|c: char| !c.is_ascii_digit()).parse().ok())
        .expect("frames_dropped in the log line")
}

pub fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A TCP port free on `ip` right now, for a third-party program that cannot listen on port 0
/// and report the port it got. The port is released before returning, so another process may
/// take it in between; ports on a 127.0.0.x address of the test's own make that unlikely.
pub fn free_port(ip: std::net::IpAddr) -> u16 {
    std::net::TcpListener::bind((ip, 0))
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

/// A TCP connection from `source` (a 127.0.0.x address standing for one client) to `to`.
pub fn connect_from(source: std::net::IpAddr, to: SocketAddr) -> TcpStream {
    let domain = socket2::Domain::for_address(to);
    let socket = socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))
        .expect("socket");
    socket
        .bind(&SocketAddr::new(source, 0).into())
        .expect("bind the client address");
    socket.connect(&to.into()).expect("connect");
    socket.into()
}

impl Server {
    /// The `--metrics` listener's address, from its start-up log line.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.wait_log(&["metrics listening"], Duration::from_secs(20))
            .expect("metrics listener started")
            .split_whitespace()
            .find_map(|w| w.strip_prefix("addr="))
            .expect("addr in the metrics line")
            .parse()
            .expect("socket address")
    }
}

impl Server {
    /// The `--http` listener's address, from its start-up log line.
    pub fn http_addr(&self) -> SocketAddr {
        self.wait_log(&["http listening"], Duration::from_secs(20))
            .expect("http listener started")
            .split_whitespace()
            .find_map(|w| w.strip_prefix("addr="))
            .expect("addr in the http line")
            .parse()
            .expect("socket address")
    }
}

/// `GET path` over HTTP/1.1 with `Connection: close`: the status and the body.
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .expect("read the response");
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("response head");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    (status, body.to_owned())
}

/// A fresh directory under the system's temporary directory for one test's files (named after
/// `name`, the process and a random number, so parallel tests never share one).
pub fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("rtsp-{name}-{}-{}", std::process::id(), rand_u16()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `rtsp-server passwd FILE USER [--publish]`, the password given on stdin as a user types it.
pub fn passwd(file: &Path, user: &str, password: &str, publish: bool) {
    use std::io::Write as _;
    let mut cmd = std::process::Command::new(server_binary());
    cmd.arg("passwd").arg(file).arg(user);
    if publish {
        cmd.arg("--publish");
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "rtsp-server passwd: {}", text(&out));
}
