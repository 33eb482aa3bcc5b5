//! Engine errors as Python exceptions.
//!
//! The exception classes are defined in Python (`rtsp_core/_errors.py`) because several of them
//! have two bases (`RtspTimeoutError` is also a `TimeoutError`, `MediaError` is an `OSError`
//! and a `ValueError`), which Python expresses directly and pyo3's `create_exception!` cannot.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rtsp_core::client::ClientError;
use rtsp_core::media::MediaError as EngineMediaError;

pyo3::import_exception!(rtsp_core._errors, RtspError);
pyo3::import_exception!(rtsp_core._errors, InvalidTarget);
pyo3::import_exception!(rtsp_core._errors, RtspConnectionError);
pyo3::import_exception!(rtsp_core._errors, RtspConnectionRefusedError);
pyo3::import_exception!(rtsp_core._errors, RtspTimeoutError);
pyo3::import_exception!(rtsp_core._errors, StatusError);
pyo3::import_exception!(rtsp_core._errors, StateError);
pyo3::import_exception!(rtsp_core._errors, ProtocolError);
pyo3::import_exception!(rtsp_core._errors, ClientClosedError);
pyo3::import_exception!(rtsp_core._errors, MediaError);
pyo3::import_exception!(rtsp_core._errors, AuthenticationError);
pyo3::import_exception!(rtsp_core._errors, FrameError);
pyo3::import_exception!(rtsp_core._errors, ForbiddenError);
pyo3::import_exception!(rtsp_core._errors, CertificateError);
pyo3::import_exception!(rtsp_core._errors, TlsError);

/// The Python exception for a client error.
pub fn client_error(err: ClientError) -> PyErr {
    let message = err.to_string();
    match err {
        ClientError::BadUrl(_) => InvalidTarget::new_err(message),
        ClientError::ConnectionRefused(_) => RtspConnectionRefusedError::new_err(message),
        ClientError::Io(_) | ClientError::Closed => RtspConnectionError::new_err(message),
        ClientError::Timeout { .. } | ClientError::Stalled { .. } => {
            RtspTimeoutError::new_err(message)
        }
        ClientError::Status {
            method,
            code,
            reason,
        } => StatusError::new_err((message, method, code, reason)),
        ClientError::Forbidden { method, reason } => {
            ForbiddenError::new_err((message, method, 403, reason))
        }
        ClientError::MalformedReply(_) | ClientError::Unsupported(_) => {
            ProtocolError::new_err(message)
        }
        ClientError::BadState { .. } => StateError::new_err(message),
        ClientError::Shutdown => ClientClosedError::new_err(message),
        ClientError::Unauthorized { realm, .. } => AuthenticationError::new_err((message, realm)),
        ClientError::UntrustedCertificate(_) => CertificateError::new_err(message),
        ClientError::Tls(_) => TlsError::new_err(message),
        // The engine's error is non-exhaustive: anything new is still an RTSP error.
        _ => RtspError::new_err(message),
    }
}

/// The Python exception for a media error: the `OSError` subclass matching an I/O failure
/// (so `FileNotFoundError` for a missing file, which the lab's server answers with 404), and
/// `MediaError` for a file that is not a usable MJPEG file.
pub fn media_error(err: EngineMediaError) -> PyErr {
    match err {
        EngineMediaError::Io(io) => PyErr::from(io),
        other => MediaError::new_err(other.to_string()),
    }
}

/// A `ValueError` with `message`.
pub fn value_error(message: impl Into<String>) -> PyErr {
    PyValueError::new_err(message.into())
}
