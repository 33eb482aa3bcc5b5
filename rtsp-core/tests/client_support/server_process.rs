//! The real `rtsp-server` binary as a child process, to be killed (SIGKILL) or frozen (SIGSTOP)
//! in the middle of a stream. Shared by the fault tests of the engine, the C ABI and the player
//! (`#[path]`-included there).
//!
//! Test binaries of other packages cannot name `rtsp-server` with `CARGO_BIN_EXE_*`, so it is
//! built here with cargo (a no-op under `cargo test --workspace`, which built it already) into
//! the same target directory (cargo releases its lock while tests run).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// `target/<profile>`: test binaries live in `target/<profile>/deps`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_path_buf()
}

/// The `rtsp-server` executable of this build profile, built on first use.
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let dir = profile_dir();
        let release = dir.file_name().is_some_and(|n| n == "release");
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
        if release {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("run cargo build");
        assert!(status.success(), "cargo build -p server-bin failed");
        dir.join("rtsp-server")
    })
}

/// Log lines kept per server: a bound for long runs.
const MAX_LOG_LINES: usize = 100_000;

/// A running `rtsp-server`; killed (and resumed first, if frozen) on drop.
pub struct ServerProcess {
    child: Child,
    /// The RTSP port on 127.0.0.1.
    pub port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// `rtsp-server --bind 127.0.0.1 --port 0 --media DIR <args>`, once it listens.
    pub fn start(media: &Path, args: &[&str]) -> Self {
        Self::start_logging(media, args, "info")
    }

    /// The same with `RUST_LOG=<filter>`; [`ServerProcess::log`] holds what it printed.
    pub fn start_logging(media: &Path, args: &[&str], filter: &str) -> Self {
        // Apart from the in-process servers of the test binaries running at the same time.
        let base = 50_000 + (std::process::id() % 3_000) as u16 * 2;
        let mut child = Command::new(binary())
            .args(["--bind", "127.0.0.1", "--port", "0", "--media"])
            .arg(media)
            .args(["--rtp-port-base", &base.to_string()])
            .args(args)
            .env("RUST_LOG", filter)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn rtsp-server");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            // Keep draining, so the server never blocks on a full pipe.
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("rtsp-server listening") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(line.clone());
                    }
                }
                let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                if kept.len() < MAX_LOG_LINES {
                    kept.push(line);
                }
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("rtsp-server did not start listening");
        let port = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("addr="))
            .and_then(|a| a.trim_matches('"').parse::<std::net::SocketAddr>().ok())
            .expect("addr= in the listening line")
            .port();
        Self { child, port, log }
    }

    /// The server's log (standard error) so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// `rtsp://127.0.0.1:PORT/<name>`.
    pub fn url(&self, name: &str) -> String {
        format!("rtsp://127.0.0.1:{}/{name}", self.port)
    }

    /// The process id (for SIGSTOP/SIGCONT).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the kernel closes its sockets (FIN/RST on the RTSP connection) and nothing is
    /// said on RTSP or RTCP. Returns the moment the signal was sent.
    pub fn kill(&mut self) -> Instant {
        let at = Instant::now();
        self.child.kill().expect("SIGKILL rtsp-server");
        let _ = self.child.wait();
        at
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // A stopped process still dies of SIGKILL; SIGCONT is not needed first.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
