//! The engine's RTSP client for Python: `ClientCore` (wrapped by the pure-Python
//! `rtsp_core.Client`) and `Frame`.
//!
//! Every call that can wait (connecting, each RTSP request, waiting for an event) runs with the
//! GIL released and in slices, checking for signals between slices, so other Python threads
//! (a Tk main loop) keep running and Ctrl-C interrupts the wait.

use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;
use parking_lot::Mutex;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};
use rtsp_core::client::{
    ActiveTransport, CertificateCheck, Client, ClientConfig, ClientError, Event, MessageDirection,
    Position, Seek, TransportPreference,
};

use crate::errors::{client_error, value_error, ClientClosedError};
use crate::stats::Stats;

/// How long one GIL-free wait lasts before signals are checked again.
const SLICE: Duration = Duration::from_millis(100);

/// One decoded-ready JPEG frame.
///
/// `data` is the complete JPEG (SOI to EOI), `number` the frame number (the lab's RTP sequence
/// number in the lab dialect, a count from 1 in the standard one), `timestamp` the RTP timestamp
/// and `pts` the presentation time in seconds. `data, number, timestamp = frame` unpacks it.
#[pyclass(module = "rtsp_core._native", frozen, get_all, skip_from_py_object)]
pub struct Frame {
    /// The JPEG bytes.
    data: Py<PyBytes>,
    /// Frame number.
    number: u64,
    /// RTP timestamp.
    timestamp: u32,
    /// Presentation time in seconds from the start of the media.
    pts: f64,
}

#[pymethods]
impl Frame {
    fn __bytes__(&self, py: Python<'_>) -> Py<PyBytes> {
        self.data.clone_ref(py)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let items = (self.data.clone_ref(py), self.number, self.timestamp).into_pyobject(py)?;
        items.try_iter().map(Bound::into_any)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Frame(number={}, timestamp={}, pts={:.3}, {} bytes)",
            self.number,
            self.timestamp,
            self.pts,
            self.data.bind(py).as_bytes().len()
        )
    }
}

/// The engine's client runtime. Use `rtsp_core.Client`, which wraps it.
#[pyclass(module = "rtsp_core._native", frozen)]
pub struct ClientCore {
    client: Mutex<Option<Arc<Client>>>,
    lab: bool,
}

pub(crate) fn seconds(name: &str, value: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| value_error(format!("{name} = {value} is not a valid number of seconds")))
}

/// Runs `f` on a helper thread and waits for it without the GIL, in slices, so that Ctrl-C
/// raises `KeyboardInterrupt` here. An interrupted operation finishes in the background.
pub(crate) fn interruptible<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = crossbeam_channel::bounded(1);
    std::thread::Builder::new()
        .name("rtsp-py-call".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a thread: {e}")))?;
    loop {
        match py.detach(|| rx.recv_timeout(SLICE)) {
            Ok(value) => return Ok(value),
            Err(RecvTimeoutError::Timeout) => py.check_signals()?,
            Err(RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err(
                    "the engine call ended without a result",
                ))
            }
        }
    }
}

fn event_tuple<'py>(py: Python<'py>, event: Event) -> PyResult<Bound<'py, PyTuple>> {
    let (kind, value): (&str, Bound<'py, PyAny>) = match event {
        Event::Frame(f) => {
            let frame = Frame {
                data: PyBytes::new(py, &f.jpeg).unbind(),
                number: f.number,
                timestamp: f.rtp_timestamp,
                pts: f.pts.as_secs_f64(),
            };
            ("frame", Bound::new(py, frame)?.into_any())
        }
        Event::StateChanged(state) => ("state", state.as_str().into_pyobject(py)?.into_any()),
        Event::Stats(stats) => ("stats", Bound::new(py, Stats(stats))?.into_any()),
        Event::Description(d) => (
            "description",
            (d.content_type, d.text).into_pyobject(py)?.into_any(),
        ),
        Event::Error(e) => (
            "error",
            client_error(e).into_value(py).into_bound(py).into_any(),
        ),
        Event::EndOfStream => ("end", py.None().into_bound(py)),
        Event::Message(m) => {
            let direction = match m.direction {
                MessageDirection::Sent => "sent",
                MessageDirection::Received => "received",
            };
            (
                "message",
                (direction, m.at.as_secs_f64(), m.text)
                    .into_pyobject(py)?
                    .into_any(),
            )
        }
    };
    PyTuple::new(py, [kind.into_pyobject(py)?.into_any(), value])
}

impl ClientCore {
    /// Waits for an event in GIL-free slices, checking signals and `close()` in between.
    fn wait_event(
        &self,
        py: Python<'_>,
        client: &Client,
        timeout: Option<Duration>,
    ) -> PyResult<Option<Event>> {
        let mut left = timeout;
        loop {
            let slice = left.map_or(SLICE, |l| l.min(SLICE));
            if let Some(event) = py.detach(|| client.next_event(slice)) {
                return Ok(Some(event));
            }
            if self.client.lock().is_none() {
                return Ok(None);
            }
            if let Some(l) = left.as_mut() {
                *l = l.saturating_sub(slice);
                if l.is_zero() {
                    return Ok(None);
                }
            }
            py.check_signals()?;
        }
    }

    fn engine(&self) -> PyResult<Arc<Client>> {
        self.client
            .lock()
            .clone()
            .ok_or_else(|| ClientClosedError::new_err("the client is closed"))
    }

    /// Runs one engine operation with the GIL released and Ctrl-C enabled.
    fn op<T, F>(&self, py: Python<'_>, f: F) -> PyResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Client) -> Result<T, ClientError> + Send + 'static,
    {
        let client = self.engine()?;
        interruptible(py, move || f(&client))?.map_err(client_error)
    }
}

#[pymethods]
impl ClientCore {
    /// Connects: `url` for the standard dialect, or `lab=(host, server_port, rtp_port, file)`
    /// for the lab's. With `protocol_log`, every RTSP message is an event too.
    #[new]
    #[pyo3(signature = (url=None, *, lab=None, transport="auto", reply_timeout=5.0, stats_interval=Some(1.0), udp_fallback_after=3.0, media_timeout=Some(5.0), lab_frame_interval=0.05, lab_end_silence=2.0, username=None, password=None, protocol_log=false, tls_ca_file=None, tls_insecure_accept_any=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        url: Option<String>,
        lab: Option<(String, u16, u16, String)>,
        transport: &str,
        reply_timeout: f64,
        stats_interval: Option<f64>,
        udp_fallback_after: f64,
        media_timeout: Option<f64>,
        lab_frame_interval: f64,
        lab_end_silence: f64,
        username: Option<String>,
        password: Option<String>,
        protocol_log: bool,
        tls_ca_file: Option<std::path::PathBuf>,
        tls_insecure_accept_any: bool,
    ) -> PyResult<Self> {
        let mut config = match (url, lab) {
            (Some(url), None) => ClientConfig::url(url),
            (None, Some((host, server_port, rtp_port, file))) => {
                ClientConfig::lab(host, server_port, rtp_port, file)
            }
            _ => {
                return Err(value_error(
                    "give either a URL or lab=(host, port, rtp_port, file)",
                ))
            }
        };
        config.transport = match transport {
            "auto" => TransportPreference::Auto,
            "udp" => TransportPreference::Udp,
            "tcp" => TransportPreference::Tcp,
            other => {
                return Err(value_error(format!(
                    "transport must be 'udp', 'tcp' or 'auto', not {other:?}"
                )))
            }
        };
        if config.is_lab() && config.transport == TransportPreference::Tcp {
            return Err(value_error(
                "the lab dialect only carries RTP over UDP (transport='tcp' is for rtsp:// URLs)",
            ));
        }
        config.reply_timeout = seconds("reply_timeout", reply_timeout)?;
        config.stats_interval = stats_interval
            .map(|s| seconds("stats_interval", s))
            .transpose()?;
        config.udp_fallback_after = seconds("udp_fallback_after", udp_fallback_after)?;
        config.media_timeout = media_timeout
            .map(|s| seconds("media_timeout", s))
            .transpose()?;
        config.lab_frame_interval = seconds("lab_frame_interval", lab_frame_interval)?;
        config.lab_end_silence = seconds("lab_end_silence", lab_end_silence)?;
        match (username, password) {
            (Some(user), password) => {
                config = config.credentials(user, password.unwrap_or_default());
            }
            (None, Some(_)) => return Err(value_error("password given without username")),
            (None, None) => {}
        }
        config.protocol_log = protocol_log;
        config.certificate_check = match (tls_ca_file, tls_insecure_accept_any) {
            (None, false) => CertificateCheck::SystemRoots,
            (Some(path), false) => CertificateCheck::CaFile(path),
            (None, true) => CertificateCheck::InsecureAcceptAny,
            (Some(_), true) => {
                return Err(value_error(
                    "tls_ca_file and tls_insecure_accept_any contradict each other",
                ))
            }
        };
        let lab = config.is_lab();
        let client = interruptible(py, move || Client::connect(config))?.map_err(client_error)?;
        Ok(Self {
            client: Mutex::new(Some(Arc::new(client))),
            lab,
        })
    }

    /// Whether this client speaks the lab dialect.
    #[getter]
    fn is_lab(&self) -> bool {
        self.lab
    }

    /// DESCRIBE; returns `(content_type, text)`.
    fn describe(&self, py: Python<'_>) -> PyResult<(String, String)> {
        self.op(py, |c| c.describe().map(|d| (d.content_type, d.text)))
    }

    /// SETUP.
    fn setup(&self, py: Python<'_>) -> PyResult<()> {
        self.op(py, Client::setup)
    }

    /// PLAY, from where the stream is or from `start` seconds / `start_frame` frames.
    #[pyo3(signature = (start=None, start_frame=None))]
    fn play(&self, py: Python<'_>, start: Option<f64>, start_frame: Option<u64>) -> PyResult<()> {
        let position = match (start, start_frame) {
            (None, None) => None,
            (Some(s), None) if s.is_finite() && s >= 0.0 => Some(Position::Seconds(s)),
            (None, Some(f)) => Some(Position::Frames(f)),
            (Some(s), None) => return Err(value_error(format!("bad start position {s}"))),
            (Some(_), Some(_)) => return Err(value_error("give start or start_frame, not both")),
        };
        match position {
            None => self.op(py, Client::play),
            Some(p) => self.op(py, move |c| c.play_from(p)),
        }
    }

    /// PAUSE.
    fn pause(&self, py: Python<'_>) -> PyResult<()> {
        self.op(py, Client::pause)
    }

    /// Seek: `kind` is "to", "forward", "backward" or "restart"; the amount is `seconds` or
    /// `frames`.
    #[pyo3(signature = (kind, seconds=None, frames=None))]
    fn seek(
        &self,
        py: Python<'_>,
        kind: &str,
        seconds: Option<f64>,
        frames: Option<u64>,
    ) -> PyResult<()> {
        let amount = match (seconds, frames) {
            (Some(s), None) if s.is_finite() && s >= 0.0 => Some(Position::Seconds(s)),
            (Some(s), None) => return Err(value_error(format!("bad seek amount {s}"))),
            (None, Some(f)) => Some(Position::Frames(f)),
            (None, None) => None,
            (Some(_), Some(_)) => return Err(value_error("give seconds or frames, not both")),
        };
        let seek = match (kind, amount) {
            ("restart", _) => Seek::Restart,
            ("to", Some(p)) => Seek::To(p),
            ("forward", Some(p)) => Seek::Forward(p),
            ("backward", Some(p)) => Seek::Backward(p),
            ("to" | "forward" | "backward", None) => {
                return Err(value_error("seek needs seconds or frames"))
            }
            (other, _) => return Err(value_error(format!("unknown seek kind {other:?}"))),
        };
        self.op(py, move |c| c.seek(seek))
    }

    /// TEARDOWN.
    fn teardown(&self, py: Python<'_>) -> PyResult<()> {
        self.op(py, Client::teardown)
    }

    /// SETUP if there is no session, then PLAY; nothing if already playing.
    fn player_play(&self, py: Python<'_>) -> PyResult<()> {
        self.op(py, Client::player_play)
    }

    /// PAUSE if playing.
    fn player_pause(&self, py: Python<'_>) -> PyResult<()> {
        self.op(py, Client::player_pause)
    }

    /// TEARDOWN if a session exists.
    fn player_stop(&self, py: Python<'_>) -> PyResult<()> {
        self.op(py, Client::player_stop)
    }

    /// "INIT", "READY" or "PLAYING" ("INIT" once closed).
    #[getter]
    fn state(&self) -> &'static str {
        match self.client.lock().as_ref() {
            Some(c) => c.state().as_str(),
            None => "INIT",
        }
    }

    /// `("udp", rtp_port)` or `("tcp", channel)` while a session exists, else None.
    #[getter]
    fn transport(&self) -> Option<(&'static str, u16)> {
        let transport = self.client.lock().as_ref()?.transport()?;
        Some(match transport {
            ActiveTransport::Udp { rtp_port } => ("udp", rtp_port),
            ActiveTransport::Tcp { channel } => ("tcp", u16::from(channel)),
        })
    }

    /// The statistics right now.
    fn stats(&self) -> PyResult<Stats> {
        Ok(Stats(self.engine()?.stats()))
    }

    /// The next event as `(kind, value)`, waiting up to `timeout` seconds (None: forever).
    /// Returns None on timeout or once the client is closed.
    #[pyo3(signature = (timeout=None))]
    fn next_event<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<f64>,
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let Ok(client) = self.engine() else {
            return Ok(None);
        };
        let timeout = timeout.map(|t| seconds("timeout", t)).transpose()?;
        let result = self.wait_event(py, &client, timeout);
        // If close() ran meanwhile this may be the last reference: dropping it joins the
        // engine threads, which must not happen with the GIL held.
        py.detach(move || drop(client));
        match result? {
            Some(event) => event_tuple(py, event).map(Some),
            None => Ok(None),
        }
    }

    /// Sends TEARDOWN if a session exists and stops the engine's threads. Idempotent.
    fn close(&self, py: Python<'_>) {
        let client = self.client.lock().take();
        // Dropping joins the engine threads (after a best-effort TEARDOWN): never with the GIL.
        py.detach(move || drop(client));
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.client.lock().is_none()
    }
}

impl Drop for ClientCore {
    fn drop(&mut self) {
        let mut client = self.client.get_mut().take();
        if client.is_some() {
            // Dropping joins the engine threads (after a best-effort TEARDOWN): do it without
            // the GIL when Python is around, so other Python threads are not stalled.
            let _ = Python::try_attach(|py| py.detach(|| drop(client.take())));
            drop(client);
        }
    }
}
