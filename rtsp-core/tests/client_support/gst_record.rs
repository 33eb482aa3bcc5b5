//! GStreamer's RTSP server in record mode (`tests/peers/gst_record_server.py`), started by the
//! test itself on 127.0.0.1: it takes one published RTP/JPEG stream on `/live`, decodes it and
//! reports the size of every decoded frame.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// The script, by its path in the repository.
pub const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/peers/gst_record_server.py"
);

pub struct GstRecordServer {
    child: Child,
    pub port: u16,
    frames: Arc<Mutex<Vec<(u32, u32)>>>,
    keepalives: Arc<Mutex<u32>>,
}

impl GstRecordServer {
    /// Starts the server; with `credentials` it requires them (Basic).
    pub fn start(credentials: Option<(&str, &str)>) -> Self {
        let mut args = Vec::new();
        if let Some((user, password)) = credentials {
            args.extend(["--user", user, "--password", password]);
        }
        Self::start_with(&args)
    }

    /// Starts the server with a session timeout of `seconds` (announced in its replies).
    pub fn with_session_timeout(seconds: u32) -> Self {
        Self::start_with(&["--session-timeout", &seconds.to_string()])
    }

    fn start_with(args: &[&str]) -> Self {
        let mut cmd = Command::new(super::gst::python());
        cmd.arg(SCRIPT).args(args);
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start gst_record_server.py");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = lines
            .next()
            .and_then(Result::ok)
            .and_then(|l| l.trim().parse().ok())
            .expect("gst_record_server.py port");
        let frames = Arc::new(Mutex::new(Vec::new()));
        let keepalives = Arc::new(Mutex::new(0));
        let seen = Arc::clone(&frames);
        let kept = Arc::clone(&keepalives);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut words = line.split_whitespace();
                let word = words.next();
                if word == Some("keepalive") {
                    *kept.lock().unwrap() += 1;
                }
                if word == Some("frame") {
                    let w = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                    let h = words.next().and_then(|h| h.parse().ok()).unwrap_or(0);
                    seen.lock().unwrap().push((w, h));
                }
            }
        });
        Self {
            child,
            port,
            frames,
            keepalives,
        }
    }

    pub fn url(&self) -> String {
        format!("rtsp://127.0.0.1:{}/live", self.port)
    }

    /// How many keep-alive requests (OPTIONS, GET_PARAMETER) the server received.
    pub fn keepalives(&self) -> u32 {
        *self.keepalives.lock().unwrap()
    }

    /// The sizes of the frames decoded so far.
    pub fn frames(&self) -> Vec<(u32, u32)> {
        self.frames.lock().unwrap().clone()
    }
}

impl Drop for GstRecordServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
