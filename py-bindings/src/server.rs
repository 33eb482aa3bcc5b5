//! `Server`: the project's RTSP server running inside the Python process, for tests and demos.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::PyType;
use rtsp_core::server::runtime::{Config, Server as Runtime};

use crate::errors::value_error;

/// Serves the MJPEG files of `media_dir` over RTSP (both dialects) from threads of this process.
///
/// `port=0` picks a free port (read it from `.port`). `url(name)` gives the `rtsp://` URL of a
/// file. Use it as a context manager, or call `close()`: it ends every session with an RTCP BYE
/// and joins the server threads. `redirects={"path": "rtsp://other/..."}` answers DESCRIBE and
/// SETUP of those paths with `302` and that `Location` (`rtsp-server --redirect`).
/// `publish=True` accepts publishers on paths that are not files (`rtsp-server --publish`;
/// with `credentials`, only users marked `publish` in the file).
#[pyclass(module = "rtsp_core._native", frozen)]
pub struct Server {
    runtime: Mutex<Option<Runtime>>,
    addr: SocketAddr,
    media_dir: PathBuf,
    fps: f64,
}

/// First server-side UDP port tried for RTP/RTCP pairs. Spread by process id so that parallel
/// test processes rarely probe the same ports (the allocator skips busy ones anyway).
fn rtp_port_base() -> u16 {
    let spread = u16::try_from(std::process::id() % 4000).unwrap_or(0);
    40_000 + spread * 2
}

#[pymethods]
impl Server {
    #[new]
    #[pyo3(signature = (media_dir, port=0, fps=20.0, *, host="127.0.0.1", session_timeout=60.0, looping=false, credentials=None, realm="rtsp-server", auth_basic=false, max_connections_per_address=None, redirects=None, publish=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        media_dir: PathBuf,
        port: u16,
        fps: f64,
        host: &str,
        session_timeout: f64,
        looping: bool,
        credentials: Option<PathBuf>,
        realm: &str,
        auth_basic: bool,
        max_connections_per_address: Option<usize>,
        redirects: Option<std::collections::BTreeMap<String, String>>,
        publish: bool,
    ) -> PyResult<Self> {
        if !(fps.is_finite() && fps > 0.0 && fps <= 1000.0) {
            return Err(value_error(format!("fps = {fps} must be in (0, 1000]")));
        }
        let ip: IpAddr = host
            .parse()
            .map_err(|_| value_error(format!("host {host:?} is not an IP address")))?;
        let session_timeout = Duration::try_from_secs_f64(session_timeout)
            .ok()
            .filter(|t| !t.is_zero())
            .ok_or_else(|| value_error("session_timeout must be a positive number of seconds"))?;
        if !media_dir.is_dir() {
            return Err(pyo3::exceptions::PyNotADirectoryError::new_err(format!(
                "media directory {} does not exist or is not a directory",
                media_dir.display()
            )));
        }
        let auth = credentials
            .map(|path| rtsp_core::auth::ServerAuth::load(&path, realm, auth_basic))
            .transpose()
            .map_err(|e| value_error(e.to_string()))?;
        let rules = redirects
            .unwrap_or_default()
            .into_iter()
            .map(|(path, url)| {
                rtsp_core::server::redirect::PathRule::parse(&format!("{path}={url}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| value_error(e.to_string()))?;
        let config = Config {
            auth,
            redirect: rtsp_core::server::redirect::RedirectConfig {
                rules,
                ..Default::default()
            },
            max_connections_per_address: max_connections_per_address
                .unwrap_or(rtsp_core::server::runtime::DEFAULT_MAX_CONNECTIONS_PER_ADDRESS),
            fps,
            workers: 2,
            senders: 1,
            session_timeout,
            max_sessions: 64,
            max_connections: 64,
            looping,
            publish,
            rtp_port_base: rtp_port_base(),
            ..Config::new(SocketAddr::new(ip, port), media_dir.clone())
        };
        let runtime = py.detach(|| Runtime::start(config))?;
        let addr = runtime.local_addr();
        Ok(Self {
            runtime: Mutex::new(Some(runtime)),
            addr,
            media_dir,
            fps,
        })
    }

    /// The RTSP port the server listens on.
    #[getter]
    fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The address the server listens on.
    #[getter]
    fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    /// The media directory.
    #[getter]
    fn media_dir(&self) -> PathBuf {
        self.media_dir.clone()
    }

    /// Frames per second the server sends.
    #[getter]
    fn fps(&self) -> f64 {
        self.fps
    }

    /// The `rtsp://host:port/name` URL of a file in the media directory.
    fn url(&self, name: &str) -> String {
        let name = name.trim_start_matches('/');
        match self.addr {
            SocketAddr::V4(a) => format!("rtsp://{}:{}/{name}", a.ip(), a.port()),
            SocketAddr::V6(a) => format!("rtsp://[{}]:{}/{name}", a.ip(), a.port()),
        }
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.runtime.lock().is_none()
    }

    /// Starts draining: DESCRIBE and SETUP of new sessions get 503 with Retry-After, while the
    /// sessions already set up play on to their end. One-way; harmless on a closed server.
    fn drain(&self) {
        if let Some(runtime) = self.runtime.lock().as_ref() {
            runtime.drain();
        }
    }

    /// Whether `drain()` was called (False once closed).
    #[getter]
    fn draining(&self) -> bool {
        self.runtime
            .lock()
            .as_ref()
            .is_some_and(Runtime::is_draining)
    }

    /// Stops the server: ends every session with an RTCP BYE and joins its threads. Idempotent.
    fn close(&self, py: Python<'_>) {
        let runtime = self.runtime.lock().take();
        if let Some(runtime) = runtime {
            py.detach(move || runtime.shutdown());
        }
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (_exc_type=None, _exc=None, _tb=None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<Bound<'_, PyType>>,
        _exc: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
    ) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        let state = if self.closed() { "closed" } else { "running" };
        format!(
            "Server({:?}, port={}, fps={}, {state})",
            self.media_dir.display().to_string(),
            self.addr.port(),
            self.fps
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let mut runtime = self.runtime.get_mut().take();
        if runtime.is_some() {
            let _ = Python::try_attach(|py| {
                py.detach(|| {
                    if let Some(r) = runtime.take() {
                        r.shutdown();
                    }
                })
            });
            if let Some(r) = runtime {
                r.shutdown();
            }
        }
    }
}
