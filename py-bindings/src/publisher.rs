//! `Publisher`: pushes JPEG frames to an RTSP server that records (the engine's
//! `rtsp_core::client::Publisher`).

use std::sync::Arc;

use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};
use rtsp_core::client::{
    ClientCredentials, PublishError, Publisher as Engine, PublisherConfig,
    PublisherStats as EnginePublisherStats, TransportPreference,
};

use crate::client::{interruptible, seconds};
use crate::errors::{client_error, value_error, ClientClosedError, FrameError};
use crate::stats::PublisherStats;

/// Publishes one live RTP/JPEG stream to `url` (ANNOUNCE, SETUP `mode=record`, RECORD).
///
/// `send(jpeg, timestamp=None)` pushes one JPEG frame (bytes); `timestamp` is its capture time
/// in seconds on any clock (only differences matter), `None` for now. A frame RFC 2435 cannot
/// carry raises `FrameError`, unless `reencode_quality` (1-100) asks to re-encode it. Use it as
/// a context manager, or call `close()` (TEARDOWN).
#[pyclass(module = "rtsp_core._native", frozen)]
pub struct Publisher {
    engine: Mutex<Option<Arc<Engine>>>,
    /// The statistics at `close()`, for `stats()` afterwards.
    closed_stats: Mutex<EnginePublisherStats>,
}

impl Publisher {
    fn engine(&self) -> PyResult<Arc<Engine>> {
        self.engine
            .lock()
            .clone()
            .ok_or_else(|| ClientClosedError::new_err("the publisher is closed"))
    }
}

#[pymethods]
impl Publisher {
    #[new]
    #[pyo3(signature = (url, *, transport="tcp", reply_timeout=5.0, username=None, password=None, reencode_quality=None))]
    fn new(
        py: Python<'_>,
        url: String,
        transport: &str,
        reply_timeout: f64,
        username: Option<String>,
        password: Option<String>,
        reencode_quality: Option<u8>,
    ) -> PyResult<Self> {
        let mut config = PublisherConfig::url(url);
        config.transport = match transport {
            "tcp" => TransportPreference::Tcp,
            "udp" => TransportPreference::Udp,
            other => {
                return Err(value_error(format!(
                    "transport must be 'tcp' or 'udp', not {other:?}"
                )))
            }
        };
        config.reply_timeout = seconds("reply_timeout", reply_timeout)?;
        config.credentials = match (username, password) {
            (Some(user), password) => Some(ClientCredentials {
                user,
                password: password.unwrap_or_default(),
            }),
            (None, Some(_)) => return Err(value_error("password given without username")),
            (None, None) => None,
        };
        if let Some(q) = reencode_quality {
            if !(1..=100).contains(&q) {
                return Err(value_error("reencode_quality must be 1 to 100"));
            }
        }
        config.reencode_quality = reencode_quality;
        let engine = interruptible(py, move || Engine::connect(config))?.map_err(client_error)?;
        Ok(Self {
            engine: Mutex::new(Some(Arc::new(engine))),
            closed_stats: Mutex::new(EnginePublisherStats::default()),
        })
    }

    /// Sends one JPEG frame, with the GIL released.
    #[pyo3(signature = (jpeg, timestamp=None))]
    fn send(&self, py: Python<'_>, jpeg: &[u8], timestamp: Option<f64>) -> PyResult<()> {
        let timestamp = timestamp.map(|t| seconds("timestamp", t)).transpose()?;
        let engine = self.engine()?;
        py.detach(|| engine.send(jpeg, timestamp))
            .map_err(|e| match e {
                PublishError::Client(e) => client_error(e),
                other => FrameError::new_err(other.to_string()),
            })
    }

    /// What has been sent: `frames_sent`, `frames_reencoded`, `packets_sent`, `bytes_sent`.
    fn counters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = self.engine()?.counters();
        let d = PyDict::new(py);
        d.set_item("frames_sent", c.frames_sent)?;
        d.set_item("frames_reencoded", c.frames_reencoded)?;
        d.set_item("packets_sent", c.packets_sent)?;
        d.set_item("bytes_sent", c.bytes_sent)?;
        Ok(d)
    }

    /// What has been sent, refused and dropped, and the server's last receiver report, as a
    /// `PublisherStats`. Readable after `close()`.
    fn stats(&self) -> PublisherStats {
        let engine = self.engine.lock().clone();
        PublisherStats(engine.map_or_else(|| *self.closed_stats.lock(), |e| e.stats()))
    }

    /// Ends the stream (RTCP BYE, TEARDOWN) and closes the connection. Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let engine = self.engine.lock().take();
        match engine {
            Some(engine) => {
                let (result, stats) = py.detach(move || (engine.close(), engine.stats()));
                *self.closed_stats.lock() = stats;
                result.map_err(client_error)
            }
            None => Ok(()),
        }
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.engine.lock().is_none()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (_exc_type=None, _exc=None, _tb=None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<Bound<'_, PyType>>,
        _exc: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        let mut engine = self.engine.get_mut().take();
        if engine.is_some() {
            // Dropping closes the stream and joins its threads: never with the GIL held.
            let _ = Python::try_attach(|py| py.detach(|| drop(engine.take())));
            drop(engine);
        }
    }
}
