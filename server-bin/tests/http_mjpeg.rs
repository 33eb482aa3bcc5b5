//! MJPEG to browsers (`rtsp-server --http`): multipart streams read by a plain HTTP client over
//! TcpStream, curl, ffmpeg and ffprobe, a published path, authentication, path confinement, and
//! the page in Debian's chromium (headless, driven over the DevTools pipe).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const BOUNDARY_LINE: &str = "--rtspjpegframe";
const FPS: f64 = 20.0;

/// A server with `--http` on an ephemeral port, plus `args`.
fn web_server(args: &[&str]) -> (Server, SocketAddr) {
    let mut all = vec!["--http", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let server = Server::start(&all);
    let addr = server.http_addr();
    (server, addr)
}

/// A response's status and headers (names lower-cased), read off `reader`.
fn read_head(reader: &mut impl std::io::BufRead) -> (u16, HashMap<String, String>) {
    let mut status_line = String::new();
    reader.read_line(&mut status_line).expect("status line");
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("status line {status_line:?}"));
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("header line");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').expect("name: value");
        headers
            .entry(name.trim().to_ascii_lowercase())
            .and_modify(|v: &mut String| {
                v.push('\n');
                v.push_str(value.trim());
            })
            .or_insert_with(|| value.trim().to_owned());
    }
    (status, headers)
}

/// A multipart MJPEG stream being read.
struct Stream {
    reader: BufReader<TcpStream>,
}

impl Stream {
    /// `GET path` on `stream` with `headers`; the status and headers, and the stream when 200.
    fn request(
        mut stream: TcpStream,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, HashMap<String, String>, Stream) {
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: test\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        stream.write_all(req.as_bytes()).unwrap();
        let mut reader = BufReader::with_capacity(64 * 1024, stream);
        let (status, head) = read_head(&mut reader);
        (status, head, Stream { reader })
    }

    fn open(addr: SocketAddr, path: &str) -> Stream {
        let (status, head, stream) = Self::request(TcpStream::connect(addr).unwrap(), path, &[]);
        assert_eq!(status, 200, "{path}: {head:?}");
        assert_eq!(
            head.get("content-type").map(String::as_str),
            Some("multipart/x-mixed-replace; boundary=rtspjpegframe")
        );
        stream
    }

    /// The next part's JPEG, checking the boundary and the part's headers.
    fn part(&mut self) -> Vec<u8> {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("boundary line");
        assert_eq!(line, format!("{BOUNDARY_LINE}\r\n"));
        let (len, kind) = {
            let mut len = None;
            let mut kind = None;
            loop {
                let mut line = String::new();
                self.reader.read_line(&mut line).expect("part header");
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').expect("part header");
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => len = value.trim().parse::<usize>().ok(),
                    "content-type" => kind = Some(value.trim().to_owned()),
                    _ => {}
                }
            }
            (len.expect("Content-Length"), kind)
        };
        assert_eq!(kind.as_deref(), Some("image/jpeg"));
        let mut jpeg = vec![0u8; len];
        self.reader.read_exact(&mut jpeg).expect("part body");
        let mut end = [0u8; 2];
        self.reader.read_exact(&mut end).expect("part end");
        assert_eq!(&end, b"\r\n");
        assert_eq!(jpeg.get(..2), Some(&[0xFF, 0xD8][..]), "starts with SOI");
        assert_eq!(
            jpeg.get(len - 2..),
            Some(&[0xFF, 0xD9][..]),
            "ends with EOI"
        );
        jpeg
    }

    /// Parts read for `dur` after the first one (which is returned first).
    fn parts_for(&mut self, dur: Duration) -> Vec<Vec<u8>> {
        let mut parts = vec![self.part()];
        let deadline = Instant::now() + dur;
        while Instant::now() < deadline {
            parts.push(self.part());
        }
        parts
    }
}

/// The movie's frames by their bytes.
fn movie_frames() -> HashMap<Vec<u8>, usize> {
    let movie = movie();
    (0..movie.frame_count())
        .map(|i| (movie.frame(i).unwrap().to_vec(), i))
        .collect()
}

/// The movie frame each part is, in order (every part must be one, bit-exact).
fn indices(parts: &[Vec<u8>], frames: &HashMap<Vec<u8>, usize>) -> Vec<usize> {
    parts
        .iter()
        .map(|p| {
            *frames
                .get(p)
                .expect("a frame of media/movie.Mjpeg, bit-exact")
        })
        .collect()
}

/// Parts expected in `dur` at [`FPS`], and the generous bounds a loaded machine stays within.
fn rate_bounds(dur: Duration) -> (usize, usize) {
    let expected = dur.as_secs_f64() * FPS;
    ((expected * 0.6) as usize, (expected * 1.3) as usize + 3)
}

/// `/api/paths`, parsed.
fn api_paths(addr: SocketAddr) -> serde_json::Value {
    let (status, body) = http_get(addr, "/api/paths");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("JSON")
}

fn path_entry(api: &serde_json::Value, path: &str) -> serde_json::Value {
    api["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .find(|p| p["path"] == path)
        .unwrap_or_else(|| panic!("{path} not listed: {api}"))
        .clone()
}

#[test]
fn parts_are_the_movie_frames_at_the_configured_rate() {
    let (_server, addr) = web_server(&["--fps", "20", "--loop"]);
    let frames = movie_frames();
    let mut stream = Stream::open(addr, "/stream/movie.Mjpeg");
    let window = Duration::from_secs(4);
    let parts = stream.parts_for(window);
    let got = indices(&parts, &frames);
    assert_eq!(
        got.first(),
        Some(&0),
        "the stream starts at the first frame"
    );
    assert!(
        got.windows(2).all(|w| w[1] > w[0]),
        "frames in order: {got:?}"
    );
    let (low, high) = rate_bounds(window);
    assert!(
        (low..=high).contains(&parts.len()),
        "{} parts in {window:?} at {FPS} fps",
        parts.len()
    );
}

#[test]
fn two_readers_each_get_the_rate_and_the_api_counts_them() {
    let (_server, addr) = web_server(&["--fps", "20", "--loop"]);
    let window = Duration::from_secs(4);
    let readers: Vec<_> = ["/stream/movie.Mjpeg", "/stream/testsrc"]
        .into_iter()
        .map(|path| {
            let mut stream = Stream::open(addr, path);
            std::thread::spawn(move || stream.parts_for(window).len())
        })
        .collect();
    // Both are viewers while they read.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let api = api_paths(addr);
        let movie = path_entry(&api, "movie.Mjpeg");
        let test = path_entry(&api, "testsrc");
        if movie["http_viewers"] == 1 && test["http_viewers"] == 1 {
            assert_eq!(movie["kind"], "file");
            assert_eq!(test["kind"], "test");
            break;
        }
        assert!(Instant::now() < deadline, "viewers never listed: {api}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (low, high) = rate_bounds(window);
    for r in readers {
        let n = r.join().unwrap();
        assert!((low..=high).contains(&n), "{n} parts in {window:?}");
    }
    let api = api_paths(addr);
    let sent = path_entry(&api, "movie.Mjpeg")["frames_sent"]
        .as_u64()
        .unwrap();
    assert!(sent as usize >= low, "{api}");
}

#[test]
fn a_stalled_reader_loses_whole_frames_while_another_keeps_its_rate() {
    let (_server, addr) = web_server(&["--fps", "20", "--loop"]);
    let frames = movie_frames();
    // The stalled reader's receive buffer is small, so the server's side fills up soon.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(8 * 1024).unwrap();
    socket.connect(&addr.into()).unwrap();
    let (status, _, mut stalled) = Stream::request(socket.into(), "/stream/movie.Mjpeg", &[]);
    assert_eq!(status, 200);

    let mut reader = Stream::open(addr, "/stream/movie.Mjpeg");
    let window = Duration::from_secs(6);
    let parts = reader.parts_for(window);
    let (low, high) = rate_bounds(window);
    assert!(
        (low..=high).contains(&parts.len()),
        "the reading viewer got {} parts in {window:?} while the other stalled",
        parts.len()
    );
    let got = indices(&parts, &frames);
    assert!(got.windows(2).all(|w| w[1] > w[0]), "{got:?}");

    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let dropped = path_entry(&api_paths(addr), "movie.Mjpeg")["frames_dropped"]
            .as_u64()
            .unwrap();
        if dropped > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the stalled reader never lost a frame"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // What the stalled reader gets when it reads again: whole parts, whole frames, with the
    // frames it missed left out.
    let late = stalled.parts_for(Duration::from_secs(3));
    let got = indices(&late, &frames);
    assert!(
        got.windows(2)
            .any(|w| (w[1] + frames.len() - w[0]) % frames.len() > 1),
        "no frame was left out: {got:?}"
    );
}

#[test]
fn missing_paths_escapes_and_bad_requests_are_refused() {
    let (_server, addr) = web_server(&[]);
    for (path, want) in [
        ("/stream/no-such.Mjpeg", 404),
        ("/stream/live/nobody", 404),
        ("/stream/../Cargo.toml", 404),
        ("/stream/..%2f..%2fetc/passwd.mjpg", 404),
        ("/stream/%2e%2e/tests/http_mjpeg.rs", 404),
        ("/stream/%zz.mjpg", 400),
        ("/nothing-here", 404),
    ] {
        let (status, body) = http_get(addr, path);
        assert_eq!(status, want, "{path}: {body}");
    }
    let mut raw = TcpStream::connect(addr).unwrap();
    raw.write_all(b"POST /stream/movie.Mjpeg HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    let (status, head) = read_head(&mut BufReader::new(raw));
    assert_eq!(status, 405);
    assert_eq!(head.get("allow").map(String::as_str), Some("GET, HEAD"));
    let mut raw = TcpStream::connect(addr).unwrap();
    raw.write_all(b"\x16\x03\x01\x02\x00 not http\r\n\r\n")
        .unwrap();
    assert_eq!(read_head(&mut BufReader::new(raw)).0, 400);
    // A client that never finishes its request is closed, and serving goes on meanwhile.
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.write_all(b"GET /stream/movie.Mjpeg HTTP/1.1\r\n")
        .unwrap();
    let mut stream = Stream::open(addr, "/stream/movie.Mjpeg");
    stream.part();
    idle.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut rest = Vec::new();
    assert_eq!(
        idle.read_to_end(&mut rest).map(|_| rest.len()).ok(),
        Some(0)
    );
}

#[test]
fn the_page_and_its_json_list_the_paths() {
    let (_server, addr) = web_server(&[]);
    let (status, page) = http_get(addr, "/");
    assert_eq!(status, 200);
    assert!(page.contains("<script src=\"/app.js\">"), "{page}");
    let (status, script) = http_get(addr, "/app.js");
    assert_eq!(status, 200);
    assert!(script.contains("/api/paths"));
    assert_eq!(http_get(addr, "/style.css").0, 200);
    assert_eq!(http_get(addr, "/healthz"), (200, "ok\n".to_owned()));
    let api = api_paths(addr);
    assert_eq!(api["fps"], 20.0);
    let movie = path_entry(&api, "movie.Mjpeg");
    assert_eq!(movie["http_viewers"], 0);
    assert_eq!(movie["kind"], "file");
}

#[test]
fn draining_refuses_new_streams_while_open_ones_play_on() {
    let (server, addr) = web_server(&["--loop"]);
    let mut open = Stream::open(addr, "/stream/movie.Mjpeg");
    open.part();
    // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
    unsafe {
        libc::kill(server.child.id() as libc::pid_t, libc::SIGUSR1);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while http_get(addr, "/healthz").0 != 503 {
        assert!(Instant::now() < deadline, "/healthz never said draining");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, head, _) = Stream::request(
        TcpStream::connect(addr).unwrap(),
        "/stream/movie.Mjpeg",
        &[],
    );
    assert_eq!(status, 503);
    assert_eq!(head.get("retry-after").map(String::as_str), Some("30"));
    let parts = open.parts_for(Duration::from_secs(1));
    assert!(
        parts.len() >= 5,
        "{} parts after draining began",
        parts.len()
    );
}

fn write_credentials(dir: &std::path::Path, user: &str, password: &str) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let entry = rtsp_core::auth::UserEntry::new(user, "rtsp-server", password).unwrap();
    let file = dir.join("users");
    std::fs::write(&file, entry.to_line() + "\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    file.to_str().unwrap().to_owned()
}

#[test]
fn credentials_guard_the_page_and_the_streams() {
    let dir = scratch("http-auth");
    let password = "http secret 7";
    let file = write_credentials(&dir, "alice", password);
    let (server, addr) = web_server(&["--credentials", &file, "--auth-basic"]);

    // Without credentials: 401 with the Digest challenges (and Basic, allowed here).
    for path in ["/", "/api/paths", "/stream/movie.Mjpeg"] {
        let (status, head, _) = Stream::request(TcpStream::connect(addr).unwrap(), path, &[]);
        assert_eq!(status, 401, "{path}");
        let challenges = head.get("www-authenticate").expect("WWW-Authenticate");
        assert!(
            challenges.contains("Digest realm=\"rtsp-server\""),
            "{challenges}"
        );
        assert!(challenges.contains("algorithm=SHA-256"), "{challenges}");
        assert!(challenges.contains("Basic realm="), "{challenges}");
    }
    // The health check stays open for balancers.
    assert_eq!(http_get(addr, "/healthz").0, 200);

    // Digest, as a browser answers the challenge.
    let (_, head, _) = Stream::request(
        TcpStream::connect(addr).unwrap(),
        "/stream/movie.Mjpeg",
        &[],
    );
    let challenges: Vec<&str> = head["www-authenticate"].lines().collect();
    let mut auth = rtsp_core::auth::ClientAuth::new("alice", password);
    auth.on_challenge(challenges.iter().filter(|c| c.starts_with("Digest")))
        .unwrap();
    let value = auth.authorization("GET", "/stream/movie.Mjpeg").unwrap();
    assert!(value.starts_with("Digest "));
    let (status, _, mut stream) = Stream::request(
        TcpStream::connect(addr).unwrap(),
        "/stream/movie.Mjpeg",
        &[("Authorization", &value)],
    );
    assert_eq!(status, 200);
    stream.part();

    // Basic (allowed by --auth-basic).
    let basic = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("alice:{password}"))
    };
    let (status, _, mut stream) = Stream::request(
        TcpStream::connect(addr).unwrap(),
        "/stream/testsrc",
        &[("Authorization", &format!("Basic {basic}"))],
    );
    assert_eq!(status, 200);
    stream.part();

    // A wrong password: 401, logged without any password.
    let wrong = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode("alice:not-it")
    };
    let (status, _, _) = Stream::request(
        TcpStream::connect(addr).unwrap(),
        "/",
        &[("Authorization", &format!("Basic {wrong}"))],
    );
    assert_eq!(status, 401);
    server
        .wait_log(
            &["http authentication failed", "alice"],
            Duration::from_secs(20),
        )
        .expect("the failure is logged");
    let log = server.log.lock().unwrap().join("\n");
    assert!(!log.contains(password) && !log.contains("not-it") && !log.contains(&basic));
}

#[test]
fn curl_fetches_parts() {
    if !have("curl") {
        return;
    }
    let (_server, addr) = web_server(&[]);
    // Into files: an endless body through a pipe nobody reads would block curl.
    let dir = scratch("http-curl");
    let (head_file, body_file) = (dir.join("head"), dir.join("body"));
    let out = run(
        "curl",
        &[
            "-sS".to_owned(),
            "-D".to_owned(),
            head_file.display().to_string(),
            "-o".to_owned(),
            body_file.display().to_string(),
            "--max-time".to_owned(),
            "2".to_owned(),
            format!("http://{addr}/stream/movie.Mjpeg"),
        ],
        Duration::from_secs(30),
    );
    // curl stops the endless stream at --max-time (exit 28), with what it received.
    assert_eq!(out.status.code(), Some(28), "{}", text(&out));
    let head = std::fs::read_to_string(&head_file).unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(head.contains("multipart/x-mixed-replace; boundary=rtspjpegframe"));
    let body = std::fs::read(&body_file).unwrap();
    let first = movie().frame(0).unwrap().to_vec();
    let at = find(&body, b"--rtspjpegframe\r\n").expect("a boundary");
    let jpeg_at = at + find(&body[at..], b"\r\n\r\n").unwrap() + 4;
    assert_eq!(body.get(jpeg_at..jpeg_at + first.len()), Some(&first[..]));
}

#[test]
fn ffmpeg_and_ffprobe_decode_the_stream() {
    if !(have("ffmpeg") && have("ffprobe")) {
        return;
    }
    let (_server, addr) = web_server(&[]);
    let url = format!("http://{addr}/stream/movie.Mjpeg");
    let probe = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "compact",
            &url,
        ]
        .map(str::to_owned),
        Duration::from_secs(60),
    );
    let out = text(&probe);
    assert!(probe.status.success(), "{out}");
    assert!(
        out.contains("codec_name=mjpeg") && out.contains("width=640") && out.contains("height=480"),
        "{out}"
    );
    for format in ["mjpeg", "mpjpeg"] {
        let decoded = run(
            "ffmpeg",
            &[
                "-hide_banner",
                "-nostats",
                "-f",
                format,
                "-i",
                &url,
                "-frames:v",
                "5",
                "-f",
                "framemd5",
                "-",
            ]
            .map(str::to_owned),
            Duration::from_secs(60),
        );
        let out = text(&decoded);
        assert!(decoded.status.success(), "{out}");
        let frames = String::from_utf8_lossy(&decoded.stdout)
            .lines()
            .filter(|l| l.starts_with("0,"))
            .count();
        assert_eq!(frames, 5, "-f {format}: {out}");
    }
}

fn ffmpeg_publisher(server: &Server, path: &str) -> Child {
    Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-re",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg("testsrc=size=640x480:rate=20")
        .args(["-t", "20"])
        .args([
            "-c:v", "mjpeg", "-huffman", "default", "-pix_fmt", "yuvj420p",
        ])
        .args(["-f", "rtsp", "-rtsp_transport", "tcp"])
        .arg(server.url(path))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ffmpeg")
}

#[test]
fn a_published_path_streams_over_http() {
    if !have("ffmpeg") {
        return;
    }
    let (server, addr) = web_server(&["--publish"]);
    let mut publisher = ffmpeg_publisher(&server, "live/cam");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut stream = loop {
        let (status, _, stream) =
            Stream::request(TcpStream::connect(addr).unwrap(), "/stream/live/cam", &[]);
        if status == 200 {
            break stream;
        }
        assert_eq!(status, 404);
        assert!(Instant::now() < deadline, "live/cam was never published");
        std::thread::sleep(Duration::from_millis(100));
    };
    let parts: Vec<Vec<u8>> = (0..20).map(|_| stream.part()).collect();
    assert!(
        parts.windows(2).all(|w| w[0] != w[1]),
        "each part is a new frame"
    );
    for p in &parts {
        let parsed = rtsp_core::jpeg::ParsedJpeg::parse(p).expect("a whole JPEG");
        assert_eq!((parsed.width(), parsed.height()), (640, 480));
    }
    let api = api_paths(addr);
    let cam = path_entry(&api, "live/cam");
    assert_eq!(cam["kind"], "published");
    assert_eq!(cam["live"], true);
    assert_eq!(cam["http_viewers"], 1);
    let _ = publisher.kill();
    let _ = publisher.wait();
}

/// Chromium over `--remote-debugging-pipe`: DevTools messages are NUL-terminated JSON on the
/// child's fd 3 (ours to write) and fd 4 (ours to read).
struct Chromium {
    child: Child,
    to: std::fs::File,
    from: BufReader<std::fs::File>,
    next_id: u64,
    session: Option<String>,
    _profile: std::path::PathBuf,
    /// Dropped when the test is done; until then a watchdog kills a chromium that hangs, so
    /// that a read on the pipe ends (and the test fails) instead of blocking forever.
    watchdog: Option<std::sync::mpsc::Sender<()>>,
}

/// How long one chromium may run before the watchdog kills it.
const CHROMIUM_LIMIT: Duration = Duration::from_secs(180);

impl Chromium {
    fn start() -> Chromium {
        use std::os::fd::FromRawFd as _;
        use std::os::unix::process::CommandExt as _;
        let profile = scratch("chromium-profile");
        let mut fds = [0i32; 2];
        // SAFETY: pipe2(2) writes two descriptors into the array it is given.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let (child_reads, we_write) = (fds[0], fds[1]);
        // SAFETY: as above.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let (we_read, child_writes) = (fds[0], fds[1]);
        let mut cmd = Command::new("chromium");
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-pipe",
            "--window-size=1200,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        // SAFETY: between fork and exec only fcntl(2), dup2(2) and close(2), all
        // async-signal-safe. The ends are first moved above 4, so that neither dup2 overwrites
        // the other end, and dup2 onto 3 and 4 leaves them open across exec.
        unsafe {
            cmd.pre_exec(move || {
                let reads = libc::fcntl(child_reads, libc::F_DUPFD, 10);
                let writes = libc::fcntl(child_writes, libc::F_DUPFD, 10);
                if reads < 0 || writes < 0 || libc::dup2(reads, 3) < 0 || libc::dup2(writes, 4) < 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                for fd in [reads, writes, child_reads, child_writes, we_write, we_read] {
                    if fd > 4 {
                        libc::close(fd);
                    }
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn chromium");
        let (watchdog, done) = std::sync::mpsc::channel::<()>();
        let pid = child.id() as libc::pid_t;
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                done.recv_timeout(CHROMIUM_LIMIT)
            {
                eprintln!("chromium ran for {CHROMIUM_LIMIT:?}: killed");
                // SAFETY: kill(2) has no memory-safety preconditions; the child is not reaped
                // yet (Drop closes the channel, which ends this wait, before it reaps).
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        });
        // SAFETY: the descriptors came from pipe(2) above and are owned here from now on.
        let (to, from) = unsafe {
            libc::close(child_reads);
            libc::close(child_writes);
            (
                std::fs::File::from_raw_fd(we_write),
                std::fs::File::from_raw_fd(we_read),
            )
        };
        Chromium {
            child,
            to,
            from: BufReader::new(from),
            next_id: 1,
            session: None,
            _profile: profile,
            watchdog: Some(watchdog),
        }
    }

    /// Send `method` (to the attached page, once there is one) and wait for its result.
    fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = serde_json::json!({ "id": id, "method": method, "params": params });
        if let Some(s) = &self.session {
            msg["sessionId"] = serde_json::Value::String(s.clone());
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).unwrap();
        loop {
            let mut raw = Vec::new();
            let n = self.from.read_until(0, &mut raw).expect("DevTools pipe");
            assert!(n > 0, "chromium closed its DevTools pipe");
            raw.pop();
            let reply: serde_json::Value = serde_json::from_slice(&raw).unwrap();
            if reply["id"] == id {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }

    fn open(&mut self, url: &str) {
        let target = self.call("Target.createTarget", serde_json::json!({ "url": url }));
        let attached = self.call(
            "Target.attachToTarget",
            serde_json::json!({ "targetId": target["targetId"], "flatten": true }),
        );
        self.session = Some(attached["sessionId"].as_str().unwrap().to_owned());
    }

    fn eval(&mut self, expression: &str) -> serde_json::Value {
        let r = self.call(
            "Runtime.evaluate",
            serde_json::json!({ "expression": expression, "returnByValue": true }),
        );
        r["result"]["value"].clone()
    }

    fn screenshot(&mut self) -> image::RgbaImage {
        use base64::Engine as _;
        let shot = self.call(
            "Page.captureScreenshot",
            serde_json::json!({ "format": "png" }),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        image::load_from_memory(&png).unwrap().to_rgba8()
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // The watchdog stops before the child is reaped (and its pid may be reused).
        drop(self.watchdog.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Pixels that differ between `a` and `b` inside `rect` (x, y, width, height in CSS pixels at
/// scale 1).
fn changed_pixels(a: &image::RgbaImage, b: &image::RgbaImage, rect: (u32, u32, u32, u32)) -> usize {
    let (x0, y0, w, h) = rect;
    let mut n = 0;
    for y in y0..(y0 + h).min(a.height()).min(b.height()) {
        for x in x0..(x0 + w).min(a.width()).min(b.width()) {
            let (p, q) = (a.get_pixel(x, y), b.get_pixel(x, y));
            if p.0.iter().zip(q.0.iter()).any(|(u, v)| u.abs_diff(*v) > 24) {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn chromium_shows_the_previews_moving() {
    if !have("chromium") {
        return;
    }
    let (_server, addr) = web_server(&["--loop"]);
    let mut chromium = Chromium::start();
    chromium.open(&format!("http://{addr}/"));
    // The page lists the paths from /api/paths, and each preview shows its first frame.
    let ready = "Array.from(document.querySelectorAll('img.preview')).filter(i => i.naturalWidth > 0).length";
    let deadline = Instant::now() + Duration::from_secs(60);
    while chromium.eval(ready).as_u64().unwrap_or(0) < 2 {
        assert!(
            Instant::now() < deadline,
            "the previews never showed a frame"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let rect = chromium.eval(
        "JSON.stringify(document.querySelector('section[data-path=\"movie.Mjpeg\"] img.preview').getBoundingClientRect())",
    );
    let rect: serde_json::Value = serde_json::from_str(rect.as_str().unwrap()).unwrap();
    let r = |k: &str| rect[k].as_f64().unwrap() as u32;
    let region = (r("x"), r("y"), r("width"), r("height"));
    assert!(region.2 >= 100 && region.3 >= 100, "{rect}");
    let first = chromium.screenshot();
    std::thread::sleep(Duration::from_millis(1500));
    let second = chromium.screenshot();
    let area = (region.2 * region.3) as usize;
    let changed = changed_pixels(&first, &second, region);
    assert!(
        changed * 100 > area,
        "only {changed} of {area} preview pixels changed in 1.5 s"
    );
    // The statistics updated too: the page shows frames sent.
    let stats = chromium
        .eval("document.querySelector('section[data-path=\"movie.Mjpeg\"] .stats').textContent");
    assert!(
        stats.as_str().unwrap_or_default().contains("HTTP viewer"),
        "{stats}"
    );
}
