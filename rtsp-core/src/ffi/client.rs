//! The client handle: `rtsp_core_client_*`.

use std::ffi::{c_char, c_void, CString};
use std::time::Duration;

use super::boundary::{arg_mut, arg_ref, guard, str_arg, try_status, write_opt};
use super::status::rtsp_core_status;
use crate::client::{
    ActiveTransport, CertificateCheck, Client, ClientConfig, ClientCredentials, Event,
    MessageDirection, Position, ProtocolMessage, Seek, State, Stats, TransportPreference,
};

/// Session state, as the lab's state diagram names it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rtsp_core_state {
    /// No session.
    Init = 0,
    /// Session set up, not playing.
    Ready = 1,
    /// Media flowing.
    Playing = 2,
}

impl From<State> for rtsp_core_state {
    fn from(s: State) -> Self {
        match s {
            State::Init => Self::Init,
            State::Ready => Self::Ready,
            State::Playing => Self::Playing,
        }
    }
}

/// Lower transport for RTP (standard dialect).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rtsp_core_transport {
    /// UDP first, TCP interleaved if no UDP packet arrives in time.
    Auto = 0,
    /// UDP only.
    Udp = 1,
    /// TCP interleaved only.
    Tcp = 2,
}

/// Client settings. Fill it with `rtsp_core_client_config_default` first, then set either `url`
/// (standard dialect) or the four `lab_*` values (lab dialect).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rtsp_core_client_config {
    /// `rtsp://host[:port]/path`, or NULL for the lab dialect. Copied by `rtsp_core_client_new`.
    pub url: *const c_char,
    /// Lab dialect: server host (used when `url` is NULL).
    pub lab_host: *const c_char,
    /// Lab dialect: server RTSP port.
    pub lab_server_port: u16,
    /// Lab dialect: local RTP port (0 = pick one).
    pub lab_rtp_port: u16,
    /// Lab dialect: the file name sent in every request.
    pub lab_file: *const c_char,
    /// One of `rtsp_core_transport` (an integer, so that a bad value is an error, not undefined
    /// behaviour).
    pub transport: u32,
    /// Reply timeout in milliseconds (0 = the default, 5000).
    pub reply_timeout_ms: u32,
    /// With `RTSP_CORE_TRANSPORT_AUTO`: milliseconds without UDP packets before switching to TCP
    /// (0 = the default, 3000).
    pub udp_fallback_ms: u32,
    /// Period of the `on_stats` callback in milliseconds (0 = never).
    pub stats_interval_ms: u32,
    /// User name for servers that require authentication, or NULL (then the URL's
    /// `rtsp://user:password@host/...` userinfo is used, if any). Standard dialect only.
    pub username: *const c_char,
    /// Password going with `username` (NULL = empty).
    pub password: *const c_char,
    /// Milliseconds without any RTP or RTCP while playing before `on_error` reports
    /// `RTSP_CORE_STATUS_TIMEOUT` (the server froze or vanished without closing the connection;
    /// the session is kept). 0 disables the watchdog; the default is 5000.
    pub media_timeout_ms: u32,
    /// `rtsps://`: a PEM file of CA certificates to check the server's certificate against
    /// instead of the system's trusted roots (NULL = the system's roots).
    pub tls_ca_file: *const c_char,
    /// `rtsps://`: true accepts any server certificate, unchecked: anyone between client and
    /// server can then read and change the stream. For tests and self-made certificates only.
    pub tls_insecure_accept_any: bool,
}

/// One complete JPEG frame, borrowed for the duration of the `on_frame` callback only: copy
/// `data` if you need it afterwards.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rtsp_core_frame {
    /// The JPEG file bytes (SOI .. EOI).
    pub data: *const u8,
    /// Number of bytes at `data`.
    pub len: usize,
    /// Frame number (the lab's RTP sequence number, or a running count from 1).
    pub number: u64,
    /// The RTP timestamp of the frame.
    pub rtp_timestamp: u32,
    /// Presentation time in microseconds from the start of the media.
    pub pts_us: u64,
}

/// Which way an RTSP message went (see `rtsp_core_message`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rtsp_core_message_direction {
    /// From the client to the server.
    Sent = 0,
    /// From the server: a reply, or a request of its own.
    Received = 1,
}

/// One RTSP message as it crossed the wire, borrowed for the duration of the `on_message`
/// callback only. Credentials are redacted: a request-URI never holds a URL's
/// `user:password@`, and an `Authorization` value shows `<redacted>` for the Digest `response`
/// (every other scheme keeps only its name).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rtsp_core_message {
    /// Which way it went.
    pub direction: rtsp_core_message_direction,
    /// Microseconds from the creation of the client.
    pub at_us: u64,
    /// The message text, NUL-terminated: UTF-8 (invalid bytes replaced), line ends as on the
    /// wire, cut after 8 KiB (a note at the end tells how many bytes were left out).
    pub text: *const c_char,
    /// Bytes at `text`, without the NUL.
    pub len: usize,
}

/// The receive statistics, `rtsp_core_stats` in the header: the engine's own
/// [`Stats`](crate::client::Stats), which cbindgen exports as it is (see `cbindgen.toml`), so C
/// reads exactly the fields Rust and Python read.
pub use crate::client::Stats as rtsp_core_stats;

/// Event callbacks. Every member may be NULL. They are called on a library thread (never the
/// caller's), one at a time, in the order events happened; a slow callback never stalls
/// reception, it only misses intermediate frames (counted in `frames_dropped`). Pointers passed
/// to a callback are valid only until it returns. A callback must not call
/// `rtsp_core_client_free` on the client that called it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rtsp_core_client_callbacks {
    /// Passed as the first argument of every callback.
    pub userdata: *mut c_void,
    /// The session state changed.
    pub on_state: Option<unsafe extern "C" fn(userdata: *mut c_void, state: rtsp_core_state)>,
    /// A complete frame arrived (`frame` and its data are borrowed for the call only).
    pub on_frame:
        Option<unsafe extern "C" fn(userdata: *mut c_void, frame: *const rtsp_core_frame)>,
    /// Periodic statistics (borrowed for the call only).
    pub on_stats: Option<unsafe extern "C" fn(userdata: *mut c_void, stats: *const Stats)>,
    /// The DESCRIBE answer: content type and text, NUL-terminated, borrowed for the call only.
    pub on_description: Option<
        unsafe extern "C" fn(
            userdata: *mut c_void,
            content_type: *const c_char,
            text: *const c_char,
        ),
    >,
    /// A background error (keepalive, receive path, fallback); `message` is borrowed.
    pub on_error: Option<
        unsafe extern "C" fn(
            userdata: *mut c_void,
            status: rtsp_core_status,
            message: *const c_char,
        ),
    >,
    /// The stream ended (RTCP BYE, or the lab server went quiet after its last frame).
    pub on_end_of_stream: Option<unsafe extern "C" fn(userdata: *mut c_void)>,
    /// Every RTSP message sent and received (the protocol log), in order with the other
    /// callbacks; a request comes before its reply. Setting it turns the log on; NULL costs
    /// nothing. `message` is borrowed for the call only.
    pub on_message:
        Option<unsafe extern "C" fn(userdata: *mut c_void, message: *const rtsp_core_message)>,
}

/// The callbacks, movable to the delivery thread.
struct Callbacks(rtsp_core_client_callbacks);

// SAFETY: the header documents that the callbacks run on a library thread, so the embedder
// promises that `userdata` may be used from it.
unsafe impl Send for Callbacks {}

/// A C string from text that may contain NUL bytes (they are replaced, not truncated at).
fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', " ")).unwrap_or_default()
}

/// The C view of `message`, whose text `text` holds.
fn c_message(message: &ProtocolMessage, text: &CString) -> rtsp_core_message {
    rtsp_core_message {
        direction: match message.direction {
            MessageDirection::Sent => rtsp_core_message_direction::Sent,
            MessageDirection::Received => rtsp_core_message_direction::Received,
        },
        at_us: u64::try_from(message.at.as_micros()).unwrap_or(u64::MAX),
        text: text.as_ptr(),
        len: text.as_bytes().len(),
    }
}

impl Callbacks {
    fn dispatch(&self, event: &Event) {
        let cb = &self.0;
        let ud = cb.userdata;
        // SAFETY (all calls below): the function pointers and userdata come from the embedder, who
        // promises they are valid for the client's lifetime; every pointer we pass lives until the
        // call returns.
        match event {
            Event::StateChanged(state) => {
                if let Some(f) = cb.on_state {
                    unsafe { f(ud, (*state).into()) };
                }
            }
            Event::Frame(frame) => {
                if let Some(f) = cb.on_frame {
                    let c = rtsp_core_frame {
                        data: frame.jpeg.as_ptr(),
                        len: frame.jpeg.len(),
                        number: frame.number,
                        rtp_timestamp: frame.rtp_timestamp,
                        pts_us: u64::try_from(frame.pts.as_micros()).unwrap_or(u64::MAX),
                    };
                    unsafe { f(ud, &c) };
                }
            }
            Event::Stats(stats) => {
                if let Some(f) = cb.on_stats {
                    unsafe { f(ud, stats) };
                }
            }
            Event::Description(d) => {
                if let Some(f) = cb.on_description {
                    let ct = c_string(&d.content_type);
                    let text = c_string(&d.text);
                    unsafe { f(ud, ct.as_ptr(), text.as_ptr()) };
                }
            }
            Event::Error(e) => {
                if let Some(f) = cb.on_error {
                    let msg = c_string(&e.to_string());
                    unsafe { f(ud, e.into(), msg.as_ptr()) };
                }
            }
            Event::EndOfStream => {
                if let Some(f) = cb.on_end_of_stream {
                    unsafe { f(ud) };
                }
            }
            Event::Message(m) => {
                if let Some(f) = cb.on_message {
                    let text = c_string(&m.text);
                    let c = c_message(m, &text);
                    unsafe { f(ud, &c) };
                }
            }
        }
    }
}

/// An RTSP client (opaque). Create with `rtsp_core_client_new`, release with
/// `rtsp_core_client_free`.
pub struct rtsp_core_client {
    client: Client,
}

/// Fills `config` with the defaults (no target, automatic transport, 5 s reply timeout, 3 s UDP
/// fallback, stats every second).
#[no_mangle]
pub extern "C" fn rtsp_core_client_config_default(
    config: *mut rtsp_core_client_config,
) -> rtsp_core_status {
    guard(|| {
        let config = arg_mut!(config);
        *config = rtsp_core_client_config {
            url: std::ptr::null(),
            lab_host: std::ptr::null(),
            lab_server_port: 0,
            lab_rtp_port: 0,
            lab_file: std::ptr::null(),
            transport: rtsp_core_transport::Auto as u32,
            reply_timeout_ms: 5000,
            udp_fallback_ms: 3000,
            stats_interval_ms: 1000,
            username: std::ptr::null(),
            password: std::ptr::null(),
            media_timeout_ms: 5000,
            tls_ca_file: std::ptr::null(),
            tls_insecure_accept_any: false,
        };
        rtsp_core_status::Ok
    })
}

/// Builds the Rust configuration from the C one.
fn config_from_c(c: &rtsp_core_client_config) -> Result<ClientConfig, rtsp_core_status> {
    let mut config = if c.url.is_null() {
        // SAFETY: documented as NULL or NUL-terminated strings valid during the call.
        let host = unsafe { str_arg(c.lab_host) }?;
        let file = unsafe { str_arg(c.lab_file) }?;
        if host.is_empty() || file.is_empty() || c.lab_server_port == 0 {
            return Err(rtsp_core_status::BadUrl);
        }
        ClientConfig::lab(host, c.lab_server_port, c.lab_rtp_port, file)
    } else {
        // SAFETY: as above.
        ClientConfig::url(unsafe { str_arg(c.url) }?)
    };
    config.transport = match c.transport {
        0 => TransportPreference::Auto,
        1 => TransportPreference::Udp,
        2 => TransportPreference::Tcp,
        _ => return Err(rtsp_core_status::InvalidArgument),
    };
    if c.reply_timeout_ms > 0 {
        config.reply_timeout = Duration::from_millis(c.reply_timeout_ms.into());
    }
    config.media_timeout =
        (c.media_timeout_ms > 0).then(|| Duration::from_millis(c.media_timeout_ms.into()));
    if c.udp_fallback_ms > 0 {
        config.udp_fallback_after = Duration::from_millis(c.udp_fallback_ms.into());
    }
    config.stats_interval =
        (c.stats_interval_ms > 0).then(|| Duration::from_millis(c.stats_interval_ms.into()));
    config.credentials = credentials_from_c(c.username, c.password)?;
    config.certificate_check = if c.tls_insecure_accept_any {
        CertificateCheck::InsecureAcceptAny
    } else if c.tls_ca_file.is_null() {
        CertificateCheck::SystemRoots
    } else {
        // SAFETY: as above.
        CertificateCheck::CaFile(unsafe { str_arg(c.tls_ca_file) }?.into())
    };
    Ok(config)
}

/// The credentials in a C configuration: none when `username` is NULL; a NULL `password` is
/// empty. Both must be NULL or NUL-terminated strings valid during the call.
pub(super) fn credentials_from_c(
    username: *const c_char,
    password: *const c_char,
) -> Result<Option<ClientCredentials>, rtsp_core_status> {
    if username.is_null() {
        return Ok(None);
    }
    // SAFETY: as documented above.
    let user = unsafe { str_arg(username) }?;
    let password = if password.is_null() {
        ""
    } else {
        // SAFETY: as above.
        unsafe { str_arg(password) }?
    };
    Ok(Some(ClientCredentials {
        user: user.to_owned(),
        password: password.to_owned(),
    }))
}

/// Connects to the server described by `config` and stores a new client in `*out`.
///
/// `callbacks` may be NULL (no events are delivered then; use the polling functions). The
/// strings in `config` are copied. On failure `*out` is set to NULL and the status tells why
/// (`RTSP_CORE_STATUS_BAD_URL`, `RTSP_CORE_STATUS_CONNECTION_REFUSED`, ...).
#[no_mangle]
pub extern "C" fn rtsp_core_client_new(
    config: *const rtsp_core_client_config,
    callbacks: *const rtsp_core_client_callbacks,
    out: *mut *mut rtsp_core_client,
) -> rtsp_core_status {
    guard(|| {
        let out = arg_mut!(out);
        *out = std::ptr::null_mut();
        let mut config = try_status!(config_from_c(arg_ref!(config)));
        // SAFETY: NULL or valid for the call; the struct is copied.
        let callbacks = unsafe { callbacks.as_ref() }.copied();
        config.protocol_log = callbacks.is_some_and(|cb| cb.on_message.is_some());
        let result = match callbacks {
            Some(cb) => {
                let cb = Callbacks(cb);
                Client::with_handler(config, move |event| {
                    // A panic here would kill the delivery thread; contain it instead.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        cb.dispatch(&event)
                    }));
                })
            }
            None => Client::connect(config),
        };
        match result {
            Ok(client) => {
                *out = Box::into_raw(Box::new(rtsp_core_client { client }));
                rtsp_core_status::Ok
            }
            Err(e) => (&e).into(),
        }
    })
}

/// Runs `f` on the client behind `client`, mapping its error to a status.
fn with_client(
    client: *mut rtsp_core_client,
    f: impl FnOnce(&Client) -> Result<(), crate::client::ClientError>,
) -> rtsp_core_status {
    guard(|| {
        let handle = arg_ref!(client);
        match f(&handle.client) {
            Ok(()) => rtsp_core_status::Ok,
            Err(e) => (&e).into(),
        }
    })
}

/// DESCRIBE. The description is also delivered to `on_description`. If `buf` is not NULL, the
/// text is copied there NUL-terminated (truncated to `cap - 1` bytes); if `len` is not NULL it
/// receives the full text length (without the NUL). Returns `RTSP_CORE_STATUS_BUFFER_TOO_SMALL`
/// when the text was truncated.
#[no_mangle]
pub extern "C" fn rtsp_core_client_describe(
    client: *mut rtsp_core_client,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> rtsp_core_status {
    guard(|| {
        let handle = arg_ref!(client);
        let d = match handle.client.describe() {
            Ok(d) => d,
            Err(e) => return (&e).into(),
        };
        let text = d.text.as_bytes();
        // SAFETY: `len` is NULL or valid for a write.
        unsafe { write_opt(len, text.len()) };
        if buf.is_null() || cap == 0 {
            return rtsp_core_status::Ok;
        }
        let n = text.len().min(cap - 1);
        // SAFETY: `buf` is valid for `cap` bytes per the contract, and n + 1 <= cap.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n);
            buf.add(n).write(0);
        }
        if n < text.len() {
            rtsp_core_status::BufferTooSmall
        } else {
            rtsp_core_status::Ok
        }
    })
}

/// SETUP (sends DESCRIBE first in the standard dialect if it was not sent yet).
#[no_mangle]
pub extern "C" fn rtsp_core_client_setup(client: *mut rtsp_core_client) -> rtsp_core_status {
    with_client(client, Client::setup)
}

/// PLAY from the current position.
#[no_mangle]
pub extern "C" fn rtsp_core_client_play(client: *mut rtsp_core_client) -> rtsp_core_status {
    with_client(client, Client::play)
}

/// PLAY from `seconds` into the media.
#[no_mangle]
pub extern "C" fn rtsp_core_client_play_from(
    client: *mut rtsp_core_client,
    seconds: f64,
) -> rtsp_core_status {
    if !seconds.is_finite() || seconds < 0.0 {
        return rtsp_core_status::InvalidArgument;
    }
    with_client(client, |c| c.play_from(Position::Seconds(seconds)))
}

/// PAUSE.
#[no_mangle]
pub extern "C" fn rtsp_core_client_pause(client: *mut rtsp_core_client) -> rtsp_core_status {
    with_client(client, Client::pause)
}

/// Seeks to `seconds` from the start.
#[no_mangle]
pub extern "C" fn rtsp_core_client_seek_seconds(
    client: *mut rtsp_core_client,
    seconds: f64,
) -> rtsp_core_status {
    if !seconds.is_finite() || seconds < 0.0 {
        return rtsp_core_status::InvalidArgument;
    }
    with_client(client, |c| c.seek(Seek::To(Position::Seconds(seconds))))
}

/// Seeks to frame `frame` (0 = the first).
#[no_mangle]
pub extern "C" fn rtsp_core_client_seek_frames(
    client: *mut rtsp_core_client,
    frame: u64,
) -> rtsp_core_status {
    with_client(client, |c| c.seek(Seek::To(Position::Frames(frame))))
}

/// Skips forward by `frames` (the lab's FORWARD moves 20 at a time).
#[no_mangle]
pub extern "C" fn rtsp_core_client_forward(
    client: *mut rtsp_core_client,
    frames: u64,
) -> rtsp_core_status {
    with_client(client, |c| c.seek(Seek::Forward(Position::Frames(frames))))
}

/// Skips backward by `frames`.
#[no_mangle]
pub extern "C" fn rtsp_core_client_backward(
    client: *mut rtsp_core_client,
    frames: u64,
) -> rtsp_core_status {
    with_client(client, |c| c.seek(Seek::Backward(Position::Frames(frames))))
}

/// Back to the start (the lab's RESTART).
#[no_mangle]
pub extern "C" fn rtsp_core_client_restart(client: *mut rtsp_core_client) -> rtsp_core_status {
    with_client(client, |c| c.seek(Seek::Restart))
}

/// TEARDOWN.
#[no_mangle]
pub extern "C" fn rtsp_core_client_teardown(client: *mut rtsp_core_client) -> rtsp_core_status {
    with_client(client, Client::teardown)
}

/// The player's Play button: SETUP if needed, then PLAY (the lab's optional exercise 2).
#[no_mangle]
pub extern "C" fn rtsp_core_client_player_play(client: *mut rtsp_core_client) -> rtsp_core_status {
    with_client(client, Client::player_play)
}

/// The player's Pause button: PAUSE if playing, nothing otherwise.
#[no_mangle]
pub extern "C" fn rtsp_core_client_player_pause(client: *mut rtsp_core_client) -> rtsp_core_status {
    with_client(client, Client::player_pause)
}

/// The player's Stop button: TEARDOWN if a session exists, nothing otherwise.
#[no_mangle]
pub extern "C" fn rtsp_core_client_player_stop(client: *mut rtsp_core_client) -> rtsp_core_status {
    with_client(client, Client::player_stop)
}

/// Writes the current session state to `*out`.
#[no_mangle]
pub extern "C" fn rtsp_core_client_state(
    client: *const rtsp_core_client,
    out: *mut rtsp_core_state,
) -> rtsp_core_status {
    guard(|| {
        let handle = arg_ref!(client);
        let out = arg_mut!(out);
        *out = handle.client.state().into();
        rtsp_core_status::Ok
    })
}

/// Writes the transport of the current session to `*out` (`UDP` or `TCP`); returns
/// `RTSP_CORE_STATUS_NOT_READY` when no session is set up.
#[no_mangle]
pub extern "C" fn rtsp_core_client_transport(
    client: *const rtsp_core_client,
    out: *mut rtsp_core_transport,
) -> rtsp_core_status {
    guard(|| {
        let handle = arg_ref!(client);
        let out = arg_mut!(out);
        match handle.client.transport() {
            Some(ActiveTransport::Udp { .. }) => *out = rtsp_core_transport::Udp,
            Some(ActiveTransport::Tcp { .. }) => *out = rtsp_core_transport::Tcp,
            None => return rtsp_core_status::NotReady,
        }
        rtsp_core_status::Ok
    })
}

/// Copies the statistics as of now into `*out`.
#[no_mangle]
pub extern "C" fn rtsp_core_client_stats(
    client: *const rtsp_core_client,
    out: *mut Stats,
) -> rtsp_core_status {
    guard(|| {
        let handle = arg_ref!(client);
        let out = arg_mut!(out);
        *out = handle.client.stats();
        rtsp_core_status::Ok
    })
}

/// Sends TEARDOWN if a session exists, stops the client's threads and frees it. After this no
/// callback runs. NULL is accepted and ignored. Must not be called from one of this client's
/// callbacks.
#[no_mangle]
pub extern "C" fn rtsp_core_client_free(client: *mut rtsp_core_client) {
    let _ = guard(|| {
        if !client.is_null() {
            // SAFETY: created by Box::into_raw in rtsp_core_client_new and not freed before, per
            // the contract.
            drop(unsafe { Box::from_raw(client) });
        }
        rtsp_core_status::Ok
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn media_timeout_reaches_the_engine_configuration() {
        let mut c = std::mem::MaybeUninit::<rtsp_core_client_config>::uninit();
        assert_eq!(
            rtsp_core_client_config_default(c.as_mut_ptr()),
            rtsp_core_status::Ok
        );
        // SAFETY: initialized by rtsp_core_client_config_default just above.
        let mut c = unsafe { c.assume_init() };
        let url = std::ffi::CString::new("rtsp://127.0.0.1:8554/movie.Mjpeg").unwrap();
        c.url = url.as_ptr();
        assert_eq!(c.media_timeout_ms, 5000);
        let config = config_from_c(&c).unwrap();
        assert_eq!(config.media_timeout, Some(Duration::from_secs(5)));
        c.media_timeout_ms = 1500;
        let config = config_from_c(&c).unwrap();
        assert_eq!(config.media_timeout, Some(Duration::from_millis(1500)));
        c.media_timeout_ms = 0;
        assert_eq!(config_from_c(&c).unwrap().media_timeout, None);
    }
}
