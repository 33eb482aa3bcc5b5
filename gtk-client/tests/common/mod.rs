//! What the end-to-end tests share: the project's server on a media directory, a private X
//! server, and running `rtsp-player`.

#![allow(dead_code)] // Each test file uses a part.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[path = "../../../rtsp-core/tests/client_support/server_process.rs"]
pub mod server_process;

#[path = "../../../rtsp-core/tests/client_support/recorder.rs"]
pub mod recorder;

/// The repository's sample video directory.
pub fn media_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../media")
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir =
            std::env::temp_dir().join(format!("rtsp-player-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The first `n` frames of the sample as a lab `.Mjpeg` file (5-digit length + JPEG).
pub fn short_movie(dir: &Path, name: &str, n: usize) -> Vec<Vec<u8>> {
    let data = std::fs::read(media_dir().join("movie.Mjpeg")).unwrap();
    let mut frames = Vec::new();
    let mut out = Vec::new();
    let mut at = 0;
    while frames.len() < n {
        let len: usize = std::str::from_utf8(&data[at..at + 5])
            .unwrap()
            .parse()
            .unwrap();
        let frame = data[at + 5..at + 5 + len].to_vec();
        out.extend_from_slice(&data[at..at + 5 + len]);
        frames.push(frame);
        at += 5 + len;
    }
    std::fs::write(dir.join(name), out).unwrap();
    frames
}

/// The project's server, in this process, on 127.0.0.1 with a free port.
pub struct Server {
    server: Option<rtsp_core::server::runtime::Server>,
    pub port: u16,
}

impl Server {
    pub fn start(media: &Path) -> Self {
        Self::start_with(media, None)
    }

    /// Same, requiring the credentials of `auth`.
    pub fn start_with(media: &Path, auth: Option<rtsp_core::auth::ServerAuth>) -> Self {
        Self::start_configured(media, |config| config.auth = auth)
    }

    /// Same, with `configure` applied to the configuration last.
    pub fn start_configured(
        media: &Path,
        configure: impl FnOnce(&mut rtsp_core::server::runtime::Config),
    ) -> Self {
        let mut config = rtsp_core::server::runtime::Config::new(([127, 0, 0, 1], 0).into(), media);
        config.max_sessions = 64;
        config.max_connections = 64;
        // Apart from other test binaries' servers running at the same time.
        config.rtp_port_base = 40_000 + (std::process::id() % 4_000) as u16 * 2;
        config.max_connections_per_address = 64;
        configure(&mut config);
        let server = rtsp_core::server::runtime::Server::start(config).expect("start rtsp-server");
        let port = server.local_addr().port();
        Self {
            server: Some(server),
            port,
        }
    }

    pub fn url(&self, name: &str) -> String {
        format!("rtsp://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown();
        }
    }
}

/// Makes a credentials file the README's way: `echo PASSWORD | rtsp-server passwd FILE USER`.
pub fn passwd(file: &Path, user: &str, password: &str) {
    let status = Command::new("sh")
        .args([
            "-c",
            r#"echo "$PASSWORD" | "$SERVER" passwd "$FILE" "$NAME""#,
        ])
        .env("PASSWORD", password)
        .env("SERVER", server_process::binary())
        .env("FILE", file)
        .env("NAME", user)
        .status()
        .expect("run sh");
    assert!(status.success(), "rtsp-server passwd failed");
}

/// A private X server (Xvfb) on a free display number, stopped on drop.
pub struct Xvfb {
    child: Child,
    pub display: String,
}

impl Xvfb {
    /// Starts Xvfb, or returns `None` (after saying so loudly) when it is not installed; in CI
    /// (`CI` set) a missing Xvfb fails the test instead.
    pub fn start() -> Option<Self> {
        let found = Command::new("Xvfb")
            .arg("-help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        if !found {
            let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
            assert!(
                !ci,
                "Xvfb is not installed, and CI=true: the GUI tests cannot run"
            );
            eprintln!(
                "\n*** SKIPPED: Xvfb is not installed, so the GUI tests cannot run. \
                 Install it (apt-get install xvfb xauth); CI does. ***\n"
            );
            return None;
        }
        // Pick a display nobody uses; `-nolisten tcp` keeps it to this machine. Tests of one
        // binary start their servers one at a time, each from its own number, and a server
        // only counts as ours if it is still running once its socket exists (another process
        // may have taken the number a moment earlier).
        static NEXT: AtomicU32 = AtomicU32::new(0);
        static STARTING: Mutex<()> = Mutex::new(());
        let _one_at_a_time = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        let first = 100 + (std::process::id() % 300) + NEXT.fetch_add(7, Ordering::SeqCst);
        for n in first..first + 200 {
            let lock = PathBuf::from(format!("/tmp/.X{n}-lock"));
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
            if lock.exists() || socket.exists() {
                continue;
            }
            let mut child = Command::new("Xvfb")
                .arg(format!(":{n}"))
                .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start Xvfb");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // Lost a race for this number: try the next one.
                }
                if socket.exists() {
                    std::thread::sleep(Duration::from_millis(200));
                    if let Ok(None) = child.try_wait() {
                        return Some(Self {
                            child,
                            display: format!(":{n}"),
                        });
                    }
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("no free X display number");
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `rtsp-player` command the tests run: `display` None means no display at all; a private
/// settings directory (returned, removed on drop) and piped output.
pub fn player_command(display: Option<&str>, args: &[&str]) -> (Command, TempDir) {
    let config = TempDir::new("config");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rtsp-player"));
    cmd.args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("XDG_CONFIG_HOME", config.path())
        // Software GL under Xvfb is slow; GTK's cairo renderer draws the same pixels.
        .env("GSK_RENDERER", "cairo")
        .env("GDK_BACKEND", "x11")
        .env("NO_AT_BRIDGE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(d) = display {
        cmd.env("DISPLAY", d);
    }
    (cmd, config)
}

/// Runs `rtsp-player` with `args`; `display` None means no display at all. Kills it after
/// `limit`. The configuration directory is private, so the user's recent list is untouched.
pub fn run_player(display: Option<&str>, args: &[&str], limit: Duration) -> Output {
    let (cmd, _config) = player_command(display, args);
    run_to_end(cmd, limit)
}

/// Runs a [`player_command`] to its end; kills it after `limit`.
pub fn run_to_end(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd.spawn().expect("start rtsp-player");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        stdout.read_to_end(&mut s).unwrap();
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        stderr.read_to_end(&mut s).unwrap();
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let status = child.wait().unwrap();
            let out = String::from_utf8_lossy(&out_thread.join().unwrap()).into_owned();
            let err = String::from_utf8_lossy(&err_thread.join().unwrap()).into_owned();
            panic!("rtsp-player did not finish within {limit:?} ({status})\nstdout:\n{out}\nstderr:\n{err}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out_thread.join().unwrap(),
        stderr: err_thread.join().unwrap(),
    }
}

/// Standard output and error as text, for assertions and failure messages.
pub fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// How a player run that lost its server ended.
pub struct KillRun {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// When the server was killed, to compare with `lines`.
    pub killed: Instant,
    /// Each standard output line with the time it arrived.
    pub lines: Vec<(Instant, String)>,
    /// From the kill to the player's exit.
    pub exited_after: Duration,
}

impl KillRun {
    /// How long after the kill the first line containing `needle` came.
    pub fn line_after_kill(&self, needle: &str) -> Option<Duration> {
        self.lines
            .iter()
            .find(|(_, l)| l.contains(needle))
            .map(|(at, _)| at.saturating_duration_since(self.killed))
    }
}

/// Runs the player, SIGKILLs `server` as soon as a standard output line satisfies `ready`, and
/// waits (at most `limit`) for the player to exit.
pub fn play_then_kill(
    mut cmd: Command,
    server: &mut server_process::ServerProcess,
    ready: impl Fn(&str) -> bool + Send + 'static,
    limit: Duration,
) -> KillRun {
    let mut child = cmd.spawn().expect("start rtsp-player");
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let out_thread = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if ready(&line) {
                let _ = tx.send(());
            }
            lines.push((Instant::now(), line));
        }
        lines
    });
    if rx.recv_timeout(limit).is_err() {
        let _ = child.kill();
        let _ = child.wait();
        let lines = out_thread.join().unwrap();
        panic!(
            "the player never got ready:\n{lines:?}\n{}",
            err_thread.join().unwrap()
        );
    }
    let killed = server.kill();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if killed.elapsed() > limit {
            let _ = child.kill();
            panic!("the player still runs {limit:?} after the server died");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let exited_after = killed.elapsed();
    let lines = out_thread.join().unwrap();
    let stdout = lines.iter().map(|(_, l)| format!("{l}\n")).collect();
    KillRun {
        status,
        stdout,
        stderr: err_thread.join().unwrap(),
        killed,
        lines,
        exited_after,
    }
}
