//! The server handle: `rtsp_core_server_*`, so that C programs and tests can run the project's
//! server ([`crate::server::runtime`]) in-process.

use std::ffi::c_char;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use parking_lot::Mutex;

use super::boundary::{arg_mut, arg_ref, guard, str_arg, try_status};
use super::status::rtsp_core_status;
use crate::server::runtime::{Config, Server};

/// A running RTSP server (opaque). Create with `rtsp_core_server_start`, release with
/// `rtsp_core_server_free`.
pub struct rtsp_core_server {
    port: u16,
    server: Mutex<Option<Server>>,
}

impl rtsp_core_server {
    fn stop(&self) {
        if let Some(server) = self.server.lock().take() {
            server.shutdown();
        }
    }
}

/// Starts a server for the files in `media_dir` (both dialects: lab clients and standard
/// players) on 127.0.0.1:`port`; `port` 0 picks a free port, which `rtsp_core_server_port`
/// then reports. A missing directory gives `RTSP_CORE_STATUS_INVALID_ARGUMENT`, a port in use
/// `RTSP_CORE_STATUS_IO`.
#[no_mangle]
pub extern "C" fn rtsp_core_server_start(
    media_dir: *const c_char,
    port: u16,
    out: *mut *mut rtsp_core_server,
) -> rtsp_core_status {
    rtsp_core_server_start_secure(media_dir, port, std::ptr::null(), std::ptr::null(), 0, out)
}

/// Like `rtsp_core_server_start`, with access control: `credentials_file` (NULL = no
/// authentication) holds `user:realm:md5_ha1:sha256_ha1` lines and turns on Digest
/// authentication for every request but OPTIONS, with `realm` (NULL = "rtsp-server");
/// `max_connections_per_address` (0 = the default, 256) bounds the connections one client
/// address may hold. A credentials file that does not parse or has no user of the realm gives
/// `RTSP_CORE_STATUS_INVALID_ARGUMENT`.
#[no_mangle]
pub extern "C" fn rtsp_core_server_start_secure(
    media_dir: *const c_char,
    port: u16,
    credentials_file: *const c_char,
    realm: *const c_char,
    max_connections_per_address: u32,
    out: *mut *mut rtsp_core_server,
) -> rtsp_core_status {
    guard(|| {
        let out = arg_mut!(out);
        *out = std::ptr::null_mut();
        // SAFETY: NULL or NUL-terminated strings valid during the call.
        let dir = try_status!(unsafe { str_arg(media_dir) });
        let dir = Path::new(dir);
        if !dir.is_dir() {
            return rtsp_core_status::InvalidArgument;
        }
        let mut config = Config::new(SocketAddr::from((Ipv4Addr::LOCALHOST, port)), dir);
        if max_connections_per_address > 0 {
            config.max_connections_per_address =
                usize::try_from(max_connections_per_address).unwrap_or(usize::MAX);
        }
        if !credentials_file.is_null() {
            // SAFETY: as above.
            let file = try_status!(unsafe { str_arg(credentials_file) });
            let realm = if realm.is_null() {
                "rtsp-server"
            } else {
                // SAFETY: as above.
                try_status!(unsafe { str_arg(realm) })
            };
            match crate::auth::ServerAuth::load(Path::new(file), realm, false) {
                Ok(a) => config.auth = Some(a),
                Err(_) => return rtsp_core_status::InvalidArgument,
            }
        }
        start(config, out)
    })
}

fn start(config: Config, out: &mut *mut rtsp_core_server) -> rtsp_core_status {
    match Server::start(config) {
        Ok(server) => {
            *out = Box::into_raw(Box::new(rtsp_core_server {
                port: server.local_addr().port(),
                server: Mutex::new(Some(server)),
            }));
            rtsp_core_status::Ok
        }
        Err(_) => rtsp_core_status::Io,
    }
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

/// Starts draining: from now on DESCRIBE and SETUP that would start a new session are answered
/// 503 with `Retry-After`, while the sessions already set up play on to their end. There is no
/// way back (stop the server when its sessions are gone). A stopped server is left alone.
#[no_mangle]
pub extern "C" fn rtsp_core_server_drain(server: *const rtsp_core_server) -> rtsp_core_status {
    guard(|| {
        if let Some(running) = arg_ref!(server).server.lock().as_ref() {
            running.drain();
        }
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
