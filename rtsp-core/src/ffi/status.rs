//! Status codes returned by every C function, and their descriptions.

use std::ffi::{c_char, CStr};

use crate::client::ClientError;

/// The result of every C function. `RTSP_CORE_STATUS_OK` (0) is success; everything else is an
/// error whose description `rtsp_core_status_str` returns.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rtsp_core_status {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// An argument had an invalid value (not UTF-8, out of range, contradictory).
    InvalidArgument = 2,
    /// The caller's output buffer is too small; the needed size is reported where the function says.
    BufferTooSmall = 3,
    /// Input bytes could not be parsed (RTP packet, JPEG, RTSP reply).
    Malformed = 4,
    /// The URL or lab target could not be understood.
    BadUrl = 5,
    /// The server refused the TCP connection.
    ConnectionRefused = 6,
    /// A socket or file operation failed.
    Io = 7,
    /// No reply arrived in time (the lab server answers errors with silence), or no media arrived
    /// while playing (`on_error` only: the stream stalled).
    Timeout = 8,
    /// The server answered with an error status (4xx, 5xx).
    ServerError = 9,
    /// The operation is not allowed in the current session state.
    BadState = 10,
    /// The server closed the connection.
    Closed = 11,
    /// The server offers nothing this library can play, or the input is a JPEG RFC 2435 cannot carry.
    Unsupported = 12,
    /// Nothing is available yet (for example no complete frame in a depacketizer).
    NotReady = 13,
    /// The handle was shut down while the call was pending.
    Shutdown = 14,
    /// A bug inside the library was caught at the boundary; the handle should be freed.
    Panic = 15,
    /// The server requires authentication and refused the credentials (or none were given).
    Unauthorized = 16,
}

impl rtsp_core_status {
    /// The description as a NUL-terminated static string.
    pub(crate) fn description(self) -> &'static CStr {
        match self {
            Self::Ok => c"success",
            Self::NullArgument => c"a required pointer argument was NULL",
            Self::InvalidArgument => c"invalid argument",
            Self::BufferTooSmall => c"output buffer too small",
            Self::Malformed => c"malformed input",
            Self::BadUrl => c"bad URL or lab target",
            Self::ConnectionRefused => c"connection refused",
            Self::Io => c"I/O error",
            Self::Timeout => {
                c"no reply in time (a lab server answers errors, such as an unknown file, with silence)"
            }
            Self::ServerError => c"the server answered with an error status",
            Self::BadState => c"operation not allowed in the current state",
            Self::Closed => c"the server closed the connection",
            Self::Unsupported => c"unsupported media or transport",
            Self::NotReady => c"nothing available yet",
            Self::Shutdown => c"the handle has shut down",
            Self::Panic => c"internal error (caught panic)",
            Self::Unauthorized => c"the server requires authentication and refused the credentials",
        }
    }

    /// All codes, in numeric order (used to map integers back to codes without transmuting).
    const ALL: [rtsp_core_status; 17] = [
        Self::Ok,
        Self::NullArgument,
        Self::InvalidArgument,
        Self::BufferTooSmall,
        Self::Malformed,
        Self::BadUrl,
        Self::ConnectionRefused,
        Self::Io,
        Self::Timeout,
        Self::ServerError,
        Self::BadState,
        Self::Closed,
        Self::Unsupported,
        Self::NotReady,
        Self::Shutdown,
        Self::Panic,
        Self::Unauthorized,
    ];

    /// The code with numeric value `n`, if there is one.
    pub(crate) fn from_int(n: i32) -> Option<Self> {
        usize::try_from(n)
            .ok()
            .and_then(|i| Self::ALL.get(i))
            .copied()
    }
}

impl From<&ClientError> for rtsp_core_status {
    fn from(err: &ClientError) -> Self {
        match err {
            ClientError::BadUrl(_) => Self::BadUrl,
            ClientError::ConnectionRefused(_) => Self::ConnectionRefused,
            ClientError::Io(_) => Self::Io,
            ClientError::Timeout { .. } | ClientError::Stalled { .. } => Self::Timeout,
            ClientError::Status { .. } => Self::ServerError,
            ClientError::MalformedReply(_) => Self::Malformed,
            ClientError::BadState { .. } => Self::BadState,
            ClientError::Closed => Self::Closed,
            ClientError::Unsupported(_) => Self::Unsupported,
            ClientError::Shutdown => Self::Shutdown,
            ClientError::Unauthorized { .. } => Self::Unauthorized,
        }
    }
}

/// Returns a static, NUL-terminated English description of `status`. Never returns NULL: unknown
/// values give "unknown status". The string must not be freed.
#[no_mangle]
pub extern "C" fn rtsp_core_status_str(status: i32) -> *const c_char {
    match rtsp_core_status::from_int(status) {
        Some(s) => s.description().as_ptr(),
        None => c"unknown status".as_ptr(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_and_has_a_description() {
        for (i, s) in rtsp_core_status::ALL.iter().enumerate() {
            assert_eq!(*s as i32, i as i32);
            assert_eq!(rtsp_core_status::from_int(i as i32), Some(*s));
            let text = unsafe { CStr::from_ptr(rtsp_core_status_str(i as i32)) };
            assert!(!text.to_bytes().is_empty());
        }
        let unknown = unsafe { CStr::from_ptr(rtsp_core_status_str(-1)) };
        assert_eq!(unknown.to_str().unwrap(), "unknown status");
        assert!(rtsp_core_status::from_int(rtsp_core_status::ALL.len() as i32).is_none());
    }
}
