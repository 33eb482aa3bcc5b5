//! The publisher handle: `rtsp_core_publisher_*`.

use std::ffi::c_char;
use std::time::Duration;

use super::boundary::{arg_mut, arg_ref, bytes_arg, guard, str_arg, try_status};
use super::client::credentials_from_c;
use super::status::rtsp_core_status;
use crate::client::{
    PublishError, Publisher, PublisherConfig, PublisherCounters, TransportPreference,
};

/// Publisher settings. Fill it with `rtsp_core_publisher_config_default` first, then set `url`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rtsp_core_publisher_config {
    /// `rtsp://[user:password@]host[:port]/path` of the stream to publish. Copied by
    /// `rtsp_core_publisher_new`.
    pub url: *const c_char,
    /// One of `rtsp_core_transport`: `RTSP_CORE_TRANSPORT_UDP`, or TCP interleaved for `_TCP`
    /// and `_AUTO` (a sender cannot tell whether its datagrams arrive).
    pub transport: u32,
    /// Reply timeout in milliseconds (0 = the default, 5000).
    pub reply_timeout_ms: u32,
    /// User name for servers that require authentication, or NULL (then the URL's userinfo is
    /// used, if any).
    pub username: *const c_char,
    /// Password going with `username` (NULL = empty).
    pub password: *const c_char,
    /// 0: frames RFC 2435 cannot carry are refused (`RTSP_CORE_STATUS_UNSUPPORTED`); 1-100:
    /// they are re-encoded at this JPEG quality.
    pub reencode_quality: u8,
}

/// What a publisher has sent, `rtsp_core_publisher_counters` in the header: the engine's own
/// [`PublisherCounters`](crate::client::PublisherCounters).
pub use crate::client::PublisherCounters as rtsp_core_publisher_counters;

/// What a publisher has sent, refused and dropped, and what the server's last RTCP receiver
/// report said, `rtsp_core_publisher_stats` in the header: the engine's own
/// [`PublisherStats`](crate::client::PublisherStats).
pub use crate::client::PublisherStats as rtsp_core_publisher_stats;

/// A publisher (opaque). Create with `rtsp_core_publisher_new`, release with
/// `rtsp_core_publisher_free`.
pub struct rtsp_core_publisher {
    publisher: Publisher,
}

/// Fills `config` with the defaults (no URL, TCP interleaved, 5 s reply timeout, no
/// re-encoding).
#[no_mangle]
pub extern "C" fn rtsp_core_publisher_config_default(
    config: *mut rtsp_core_publisher_config,
) -> rtsp_core_status {
    guard(|| {
        let config = arg_mut!(config);
        *config = rtsp_core_publisher_config {
            url: std::ptr::null(),
            transport: super::rtsp_core_transport::Tcp as u32,
            reply_timeout_ms: 5000,
            username: std::ptr::null(),
            password: std::ptr::null(),
            reencode_quality: 0,
        };
        rtsp_core_status::Ok
    })
}

fn config_from_c(c: &rtsp_core_publisher_config) -> Result<PublisherConfig, rtsp_core_status> {
    // SAFETY: documented as a NUL-terminated string valid during the call.
    let mut config = PublisherConfig::url(unsafe { str_arg(c.url) }?);
    config.transport = match c.transport {
        0 | 2 => TransportPreference::Tcp,
        1 => TransportPreference::Udp,
        _ => return Err(rtsp_core_status::InvalidArgument),
    };
    if c.reply_timeout_ms > 0 {
        config.reply_timeout = Duration::from_millis(c.reply_timeout_ms.into());
    }
    config.credentials = credentials_from_c(c.username, c.password)?;
    config.reencode_quality = (c.reencode_quality > 0).then_some(c.reencode_quality.min(100));
    Ok(config)
}

/// Connects, announces one RTP/JPEG video stream, sets it up for recording and starts it
/// (ANNOUNCE, SETUP `mode=record`, RECORD); stores the publisher in `*out`. On failure `*out`
/// is NULL and the status tells why (`RTSP_CORE_STATUS_CONNECTION_REFUSED`,
/// `RTSP_CORE_STATUS_UNAUTHORIZED`, `RTSP_CORE_STATUS_SERVER_ERROR`, ...).
#[no_mangle]
pub extern "C" fn rtsp_core_publisher_new(
    config: *const rtsp_core_publisher_config,
    out: *mut *mut rtsp_core_publisher,
) -> rtsp_core_status {
    guard(|| {
        let out = arg_mut!(out);
        *out = std::ptr::null_mut();
        let config = try_status!(config_from_c(arg_ref!(config)));
        match Publisher::connect(config) {
            Ok(publisher) => {
                *out = Box::into_raw(Box::new(rtsp_core_publisher { publisher }));
                rtsp_core_status::Ok
            }
            Err(e) => (&e).into(),
        }
    })
}

/// Sends one JPEG frame of `len` bytes. `timestamp_us` is its capture time in microseconds on
/// any clock the caller keeps (only differences matter), or negative for the time of the call.
/// Data that is not a JPEG gives `RTSP_CORE_STATUS_MALFORMED`, a JPEG RFC 2435 cannot carry
/// `RTSP_CORE_STATUS_UNSUPPORTED` (unless re-encoding is on); nothing is sent then and the
/// stream goes on. After `rtsp_core_publisher_close`: `RTSP_CORE_STATUS_SHUTDOWN`.
#[no_mangle]
pub extern "C" fn rtsp_core_publisher_send(
    publisher: *mut rtsp_core_publisher,
    jpeg: *const u8,
    len: usize,
    timestamp_us: i64,
) -> rtsp_core_status {
    guard(|| {
        let handle = arg_ref!(publisher);
        // SAFETY: `len` readable bytes per the contract.
        let data = try_status!(unsafe { bytes_arg(jpeg, len) });
        let timestamp = u64::try_from(timestamp_us).ok().map(Duration::from_micros);
        match handle.publisher.send(data, timestamp) {
            Ok(()) => rtsp_core_status::Ok,
            Err(PublishError::Client(e)) => (&e).into(),
            Err(PublishError::Frame(e)) => (&e).into(),
            // Re-encoding failed: the data is no image the decoder knows.
            Err(_) => rtsp_core_status::Malformed,
        }
    })
}

/// Copies what the publisher has sent so far into `*out`.
#[no_mangle]
pub extern "C" fn rtsp_core_publisher_get_counters(
    publisher: *const rtsp_core_publisher,
    out: *mut PublisherCounters,
) -> rtsp_core_status {
    guard(|| {
        let handle = arg_ref!(publisher);
        *arg_mut!(out) = handle.publisher.counters();
        rtsp_core_status::Ok
    })
}

/// Copies the publisher's statistics into `*out`: frames sent, refused (by reason) and
/// re-encoded, packets dropped, and the server's last receiver report (`receiver_reports` is
/// 0 and the report's measurements -1 while none arrived). Readable after
/// `rtsp_core_publisher_close`.
#[no_mangle]
pub extern "C" fn rtsp_core_publisher_get_stats(
    publisher: *const rtsp_core_publisher,
    out: *mut crate::client::PublisherStats,
) -> rtsp_core_status {
    guard(|| {
        let handle = arg_ref!(publisher);
        *arg_mut!(out) = handle.publisher.stats();
        rtsp_core_status::Ok
    })
}

/// Ends the stream (RTCP BYE, TEARDOWN) and closes the connection. Calling it again does
/// nothing. The handle must still be freed.
#[no_mangle]
pub extern "C" fn rtsp_core_publisher_close(
    publisher: *mut rtsp_core_publisher,
) -> rtsp_core_status {
    guard(|| match arg_ref!(publisher).publisher.close() {
        Ok(()) => rtsp_core_status::Ok,
        Err(e) => (&e).into(),
    })
}

/// Closes the publisher if needed and releases it. NULL is accepted.
#[no_mangle]
pub extern "C" fn rtsp_core_publisher_free(publisher: *mut rtsp_core_publisher) {
    let _ = guard(|| {
        if !publisher.is_null() {
            // SAFETY: created by Box::into_raw in rtsp_core_publisher_new and not freed before,
            // per the contract.
            drop(unsafe { Box::from_raw(publisher) });
        }
        rtsp_core_status::Ok
    });
}
