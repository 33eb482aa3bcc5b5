#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The C server handle (`rtsp_core_server_*`) running the real server, and a C ABI client
//! playing from it.

mod client_support;

use std::ffi::CString;
use std::ptr;
use std::time::Duration;

use client_support::own_server;
use rtsp_core::ffi::*;

#[test]
fn server_handle_start_port_stop_free() {
    let media = CString::new(own_server::media_dir().to_str().unwrap()).unwrap();
    let mut server: *mut rtsp_core_server = ptr::null_mut();
    assert_eq!(
        rtsp_core_server_start(media.as_ptr(), 0, &mut server),
        rtsp_core_status::Ok
    );
    let mut port = 0u16;
    assert_eq!(
        rtsp_core_server_port(server, &mut port),
        rtsp_core_status::Ok
    );
    assert_ne!(port, 0);
    let mut second = ptr::null_mut();
    assert_eq!(
        rtsp_core_server_start(media.as_ptr(), port, &mut second),
        rtsp_core_status::Io
    );
    assert!(second.is_null());

    let url = CString::new(format!("rtsp://127.0.0.1:{port}/movie.Mjpeg")).unwrap();
    let mut config = std::mem::MaybeUninit::uninit();
    assert_eq!(
        rtsp_core_client_config_default(config.as_mut_ptr()),
        rtsp_core_status::Ok
    );
    let mut config = unsafe { config.assume_init() };
    config.url = url.as_ptr();
    let mut client = ptr::null_mut();
    assert_eq!(
        rtsp_core_client_new(&config, ptr::null(), &mut client),
        rtsp_core_status::Ok
    );
    assert_eq!(rtsp_core_client_player_play(client), rtsp_core_status::Ok);
    let mut stats = rtsp_core_stats::default();
    assert!(client_support::wait_until(Duration::from_secs(5), || {
        rtsp_core_client_stats(client, &mut stats);
        stats.frames_complete >= 10
    }));
    assert_eq!(
        rtsp_core_client_seek_seconds(client, 5.0),
        rtsp_core_status::Ok
    );
    assert_eq!(rtsp_core_client_teardown(client), rtsp_core_status::Ok);
    rtsp_core_client_free(client);

    assert_eq!(rtsp_core_server_stop(server), rtsp_core_status::Ok);
    assert_eq!(rtsp_core_server_stop(server), rtsp_core_status::Ok);
    rtsp_core_server_free(server);
    // Stopped: nothing listens any more.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}
