//! The server handle: `rtsp_core_server_*`, so that C programs and tests can run a server
//! in-process.
//!
//! The server runtime (sockets, worker threads, pacing) lives in the `server-bin` crate, which
//! depends on this one; it plugs itself in with [`register_server_runtime`]. A library built
//! without it answers `rtsp_core_server_start` with `RTSP_CORE_STATUS_UNSUPPORTED`.

use std::ffi::c_char;
use std::path::Path;

use parking_lot::{Mutex, RwLock};

use super::boundary::{arg_mut, arg_ref, guard, str_arg, try_status};
use super::status::rtsp_core_status;

/// A server started by a [`ServerStartFn`]: the port it listens on and how to stop it.
pub struct RunningServer {
    /// The TCP port the RTSP listener is bound to (the one picked when 0 was asked).
    pub port: u16,
    /// Stops the server and waits for its threads.
    pub stop: Box<dyn FnOnce() + Send>,
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// Starts a server on 127.0.0.1:`port` (0 = pick one) serving the files of `media_dir`.
/// Only std types cross this boundary, so a runtime built against another copy of this crate
/// (a dev-dependency cycle in tests) can register too.
pub type ServerStartFn = fn(media_dir: &Path, port: u16) -> std::io::Result<RunningServer>;

static RUNTIME: RwLock<Option<ServerStartFn>> = RwLock::new(None);

/// Installs the server runtime behind `rtsp_core_server_start` (the last registration wins).
pub fn register_server_runtime(start: ServerStartFn) {
    *RUNTIME.write() = Some(start);
}

/// A running RTSP server (opaque). Create with `rtsp_core_server_start`, release with
/// `rtsp_core_server_free`.
pub struct rtsp_core_server {
    port: u16,
    stop: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl rtsp_core_server {
    fn stop(&self) {
        if let Some(stop) = self.stop.lock().take() {
            stop();
        }
    }
}

/// Starts a server for the files in `media_dir` (both dialects: lab clients and standard
/// players) on 127.0.0.1:`port`; `port` 0 picks a free port, which `rtsp_core_server_port`
/// then reports. A missing directory gives `RTSP_CORE_STATUS_INVALID_ARGUMENT`, a port in use
/// `RTSP_CORE_STATUS_IO`, and a library built without the server runtime
/// `RTSP_CORE_STATUS_UNSUPPORTED`.
#[no_mangle]
pub extern "C" fn rtsp_core_server_start(
    media_dir: *const c_char,
    port: u16,
    out: *mut *mut rtsp_core_server,
) -> rtsp_core_status {
    guard(|| {
        let out = arg_mut!(out);
        *out = std::ptr::null_mut();
        // SAFETY: NULL or a NUL-terminated string valid during the call.
        let dir = try_status!(unsafe { str_arg(media_dir) });
        let dir = Path::new(dir);
        if !dir.is_dir() {
            return rtsp_core_status::InvalidArgument;
        }
        let Some(start) = *RUNTIME.read() else {
            return rtsp_core_status::Unsupported;
        };
        match start(dir, port) {
            Ok(running) => {
                *out = Box::into_raw(Box::new(rtsp_core_server {
                    port: running.port,
                    stop: Mutex::new(Some(running.stop)),
                }));
                rtsp_core_status::Ok
            }
            Err(_) => rtsp_core_status::Io,
        }
    })
}

/// Writes the TCP port the server listens on to `*port`.
#[no_mangle]
pub extern "C" fn rtsp_core_server_port(
    server: *const rtsp_core_server,
    port: *mut u16,
) -> rtsp_core_status {
    guard(|| {
        let server = arg_ref!(server);
        *arg_mut!(port) = server.port;
        rtsp_core_status::Ok
    })
}

/// Stops the server (closing its sessions) and waits for its threads. Stopping twice is
/// harmless. The handle stays valid until `rtsp_core_server_free`.
#[no_mangle]
pub extern "C" fn rtsp_core_server_stop(server: *mut rtsp_core_server) -> rtsp_core_status {
    guard(|| {
        arg_ref!(server).stop();
        rtsp_core_status::Ok
    })
}

/// Stops the server if it runs and frees the handle. NULL is ignored.
#[no_mangle]
pub extern "C" fn rtsp_core_server_free(server: *mut rtsp_core_server) {
    let _ = guard(|| {
        if !server.is_null() {
            // SAFETY: from Box::into_raw in rtsp_core_server_start, freed once.
            let server = unsafe { Box::from_raw(server) };
            server.stop();
        }
        rtsp_core_status::Ok
    });
}
