//! Status codes returned by every C function, and their descriptions.

use std::ffi::{c_char, CStr};

use crate::client::ClientError;

/// The result of every C function. `RTSP_CORE_STATUS_OK` (0) is success; everything else is an
/// error whose description `rtsp_core_status_str` returns.
///
/// Numbering policy. A value, once published, keeps its meaning forever: C programs compiled
/// against an older header compare against the numbers, not the names. So codes are never
/// renumbered, and a code that is withdrawn leaves its number retired, never reused. No code is
/// negative. Values are grouped in ranges:
///
/// - 0: success.
/// - 1-16: the original codes, which predate the grouping and mix kinds. By kind: caller errors
///   NULL_ARGUMENT, INVALID_ARGUMENT, BUFFER_TOO_SMALL, BAD_URL, BAD_STATE, NOT_READY; network
///   and peer errors CONNECTION_REFUSED, IO, TIMEOUT, SERVER_ERROR, CLOSED, UNAUTHORIZED; input
///   and media data MALFORMED, UNSUPPORTED; library state SHUTDOWN, PANIC.
/// - 17-31: never assigned (closes the original block).
/// - 32-63: new caller errors (arguments, buffers, call order).
/// - 64-95: new network and peer errors (sockets, timeouts, what a server answers).
/// - 96-127: new input and media data errors (bytes that cannot be parsed or carried).
/// - 128-159: new library state errors (shutdown, internal faults).
/// - 160 and up: reserved for further groups.
///
/// A new code takes the lowest free value of its group's range.
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
    /// The server answered with an error status (4xx, 5xx), or kept redirecting (3xx) past
    /// the client's bound of 5 in a row.
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
    /// `rtsps://`: the server's TLS certificate is not trusted (unknown CA, expired, another
    /// name); `tls_ca_file` names a CA to trust.
    UntrustedCertificate = 64,
    /// `rtsps://`: TLS failed otherwise (no common version or cipher, an unreadable CA file,
    /// no TLS on the port).
    Tls = 65,
    /// The server refused the request for this user (403 Forbidden): for example a user who
    /// may read but not publish. Other credentials may help; the same ones will not.
    Forbidden = 66,
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
            Self::UntrustedCertificate => c"the server's TLS certificate is not trusted",
            Self::Tls => c"TLS failed",
            Self::Forbidden => c"the server forbids this request to this user",
        }
    }

    /// All codes, in numeric order (used to map integers back to codes without transmuting).
    const ALL: [rtsp_core_status; 20] = [
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
        Self::UntrustedCertificate,
        Self::Tls,
        Self::Forbidden,
    ];

    /// The code with numeric value `n`, if there is one.
    pub(crate) fn from_int(n: i32) -> Option<Self> {
        // A search, not an index: values are grouped in ranges, so they are not contiguous.
        Self::ALL.iter().find(|s| **s as i32 == n).copied()
    }
}

impl From<&ClientError> for rtsp_core_status {
    fn from(err: &ClientError) -> Self {
        match err {
            ClientError::BadUrl(_) => Self::BadUrl,
            ClientError::ConnectionRefused(_) => Self::ConnectionRefused,
            ClientError::Io(_) => Self::Io,
            ClientError::Timeout { .. } | ClientError::Stalled { .. } => Self::Timeout,
            // A redirect loop is what the server answered.
            ClientError::Status { .. } | ClientError::TooManyRedirects { .. } => Self::ServerError,
            ClientError::MalformedReply(_) => Self::Malformed,
            ClientError::BadState { .. } => Self::BadState,
            ClientError::Closed => Self::Closed,
            ClientError::Unsupported(_) => Self::Unsupported,
            ClientError::Shutdown => Self::Shutdown,
            ClientError::Unauthorized { .. } => Self::Unauthorized,
            ClientError::UntrustedCertificate(_) => Self::UntrustedCertificate,
            ClientError::Tls(_) => Self::Tls,
            ClientError::Forbidden { .. } => Self::Forbidden,
        }
    }
}

/// A frame the JPEG parser refused: not a JPEG at all is malformed input; a JPEG that RFC 2435
/// cannot carry (progressive, 4:4:4, truncated...) is unsupported.
impl From<&crate::jpeg::ParseError> for rtsp_core_status {
    fn from(err: &crate::jpeg::ParseError) -> Self {
        match err {
            crate::jpeg::ParseError::NotJpeg => Self::Malformed,
            _ => Self::Unsupported,
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

    /// Which kind of error the code is (see the numbering policy above).
    fn group(code: rtsp_core_status) -> StatusGroup {
        use rtsp_core_status as S;
        match code {
            S::Ok => StatusGroup::Success,
            S::NullArgument
            | S::InvalidArgument
            | S::BufferTooSmall
            | S::BadUrl
            | S::BadState
            | S::NotReady => StatusGroup::Caller,
            S::ConnectionRefused
            | S::Io
            | S::Timeout
            | S::ServerError
            | S::Closed
            | S::Unauthorized
            | S::UntrustedCertificate
            | S::Tls
            | S::Forbidden => StatusGroup::Peer,
            S::Malformed | S::Unsupported => StatusGroup::Data,
            S::Shutdown | S::Panic => StatusGroup::Library,
        }
    }

    /// The kinds of status, each with its range of values for codes added after the original 16.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum StatusGroup {
        /// `RTSP_CORE_STATUS_OK` only.
        Success,
        /// The caller passed something wrong or called at the wrong time.
        Caller,
        /// The network or the peer failed or refused.
        Peer,
        /// Input bytes or media cannot be parsed or carried.
        Data,
        /// The library itself: shut down or an internal fault.
        Library,
    }

    impl StatusGroup {
        /// The values a code of this group added after the original block may take.
        fn range(self) -> std::ops::RangeInclusive<i32> {
            match self {
                Self::Success => 0..=0,
                Self::Caller => 32..=63,
                Self::Peer => 64..=95,
                Self::Data => 96..=127,
                Self::Library => 128..=159,
            }
        }
    }

    /// The original codes: they predate the grouping, so they lie outside their group's range.
    const ORIGINAL: std::ops::RangeInclusive<i32> = 1..=16;

    /// Every published value, as C programs compiled against the header have them. A change
    /// here breaks those programs: append, never edit.
    const PUBLISHED: [(rtsp_core_status, i32); 20] = [
        (rtsp_core_status::Ok, 0),
        (rtsp_core_status::NullArgument, 1),
        (rtsp_core_status::InvalidArgument, 2),
        (rtsp_core_status::BufferTooSmall, 3),
        (rtsp_core_status::Malformed, 4),
        (rtsp_core_status::BadUrl, 5),
        (rtsp_core_status::ConnectionRefused, 6),
        (rtsp_core_status::Io, 7),
        (rtsp_core_status::Timeout, 8),
        (rtsp_core_status::ServerError, 9),
        (rtsp_core_status::BadState, 10),
        (rtsp_core_status::Closed, 11),
        (rtsp_core_status::Unsupported, 12),
        (rtsp_core_status::NotReady, 13),
        (rtsp_core_status::Shutdown, 14),
        (rtsp_core_status::Panic, 15),
        (rtsp_core_status::Unauthorized, 16),
        (rtsp_core_status::UntrustedCertificate, 64),
        (rtsp_core_status::Tls, 65),
        (rtsp_core_status::Forbidden, 66),
    ];

    #[test]
    fn published_values_never_change() {
        assert_eq!(
            PUBLISHED.len(),
            rtsp_core_status::ALL.len(),
            "a code is not pinned"
        );
        for (code, value) in PUBLISHED {
            assert_eq!(code as i32, value, "{code:?} was renumbered");
            assert!(
                rtsp_core_status::ALL.contains(&code),
                "{code:?} missing from ALL"
            );
        }
    }

    #[test]
    fn every_code_lies_in_its_group_range() {
        let mut previous = -1;
        for code in rtsp_core_status::ALL {
            let value = code as i32;
            assert!(value > previous, "ALL is not in numeric order at {code:?}");
            previous = value;
            let kind = group(code);
            assert!(
                ORIGINAL.contains(&value) || kind.range().contains(&value),
                "{code:?} = {value} lies outside {kind:?} {:?}",
                kind.range()
            );
        }
        // The original block is closed: nothing new goes between it and the first group.
        for n in (*ORIGINAL.end() + 1)..*StatusGroup::Caller.range().start() {
            assert!(rtsp_core_status::from_int(n).is_none(), "{n} is assigned");
        }
    }

    #[test]
    fn every_code_round_trips_and_has_a_description() {
        for s in rtsp_core_status::ALL {
            let n = s as i32;
            assert_eq!(rtsp_core_status::from_int(n), Some(s));
            let text = unsafe { CStr::from_ptr(rtsp_core_status_str(n)) };
            assert!(!text.to_bytes().is_empty());
            assert_ne!(text.to_str().unwrap(), "unknown status");
        }
        for unknown in [-1, 17, 31, 32, 1000, i32::MIN, i32::MAX] {
            let text = unsafe { CStr::from_ptr(rtsp_core_status_str(unknown)) };
            assert_eq!(text.to_str().unwrap(), "unknown status", "{unknown}");
        }
    }
}
