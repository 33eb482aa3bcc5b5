#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The C server handle (`rtsp_core_server_*`) running the real server, and a C ABI client
//! playing from it.

mod client_support;

use std::ffi::CString;
use std::ptr;
use std::time::Duration;

use client_support::own_server;
use rtsp_core::ffi::*;

/// A server for the sample media on a free port, and that port.
fn start_server() -> (*mut rtsp_core_server, u16) {
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
    (server, port)
}

/// A C ABI client playing the sample from the server on `port`.
fn playing_client(port: u16) -> *mut rtsp_core_client {
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
    client
}

#[test]
fn server_handle_start_port_stop_free() {
    let media = CString::new(own_server::media_dir().to_str().unwrap()).unwrap();
    let (server, port) = start_server();
    assert_ne!(port, 0);
    let mut second = ptr::null_mut();
    assert_eq!(
        rtsp_core_server_start(media.as_ptr(), port, &mut second),
        rtsp_core_status::Io
    );
    assert!(second.is_null());

    let client = playing_client(port);
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

/// A client through the C ABI against a server started with `rtsp_core_server_start_secure`.
fn play_with(
    port: u16,
    url_userinfo: &str,
    user: Option<&str>,
    password: &str,
) -> rtsp_core_status {
    let url = CString::new(format!("rtsp://{url_userinfo}127.0.0.1:{port}/movie.Mjpeg")).unwrap();
    let user = user.map(|u| CString::new(u).unwrap());
    let password = CString::new(password).unwrap();
    let mut config = std::mem::MaybeUninit::uninit();
    rtsp_core_client_config_default(config.as_mut_ptr());
    let mut config = unsafe { config.assume_init() };
    config.url = url.as_ptr();
    config.transport = rtsp_core_transport::Tcp as u32;
    if let Some(u) = &user {
        config.username = u.as_ptr();
        config.password = password.as_ptr();
    }
    let mut client = ptr::null_mut();
    assert_eq!(
        rtsp_core_client_new(&config, ptr::null(), &mut client),
        rtsp_core_status::Ok,
        "OPTIONS needs no credentials"
    );
    let status = rtsp_core_client_player_play(client);
    if status == rtsp_core_status::Ok {
        let mut stats = rtsp_core_stats::default();
        assert!(client_support::wait_until(Duration::from_secs(10), || {
            rtsp_core_client_stats(client, &mut stats);
            stats.frames_complete >= 10
        }));
        // Later requests carry credentials too.
        assert_eq!(rtsp_core_client_pause(client), rtsp_core_status::Ok);
        assert_eq!(rtsp_core_client_teardown(client), rtsp_core_status::Ok);
    }
    rtsp_core_client_free(client);
    status
}

#[test]
fn secure_server_and_client_credentials() {
    use rtsp_core::auth::UserEntry;
    let dir = std::env::temp_dir().join(format!("rtsp-ffi-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("users");
    let entry = UserEntry::new("alice", "rtsp-server", "p@ss:word").unwrap();
    std::fs::write(&file, format!("# test\n{}\n", entry.to_line())).unwrap();
    let media = CString::new(own_server::media_dir().to_str().unwrap()).unwrap();
    let creds = CString::new(file.to_str().unwrap()).unwrap();
    let mut server: *mut rtsp_core_server = ptr::null_mut();
    assert_eq!(
        rtsp_core_server_start_secure(
            media.as_ptr(),
            0,
            creds.as_ptr(),
            ptr::null(),
            8,
            &mut server
        ),
        rtsp_core_status::Ok
    );
    let mut port = 0u16;
    rtsp_core_server_port(server, &mut port);
    assert_eq!(
        play_with(port, "", Some("alice"), "p@ss:word"),
        rtsp_core_status::Ok
    );
    // URL userinfo, percent-encoded.
    assert_eq!(
        play_with(port, "alice:p%40ss%3Aword@", None, ""),
        rtsp_core_status::Ok
    );
    assert_eq!(
        play_with(port, "", Some("alice"), "wrong"),
        rtsp_core_status::Unauthorized
    );
    assert_eq!(
        play_with(port, "alice:wrong@", None, ""),
        rtsp_core_status::Unauthorized
    );
    assert_eq!(
        play_with(port, "", None, ""),
        rtsp_core_status::Unauthorized
    );
    // A realm nobody in the file belongs to is refused.
    let realm = CString::new("elsewhere").unwrap();
    let mut other = ptr::null_mut();
    assert_eq!(
        rtsp_core_server_start_secure(
            media.as_ptr(),
            0,
            creds.as_ptr(),
            realm.as_ptr(),
            0,
            &mut other
        ),
        rtsp_core_status::InvalidArgument
    );
    assert!(other.is_null());
    assert_eq!(rtsp_core_server_stop(server), rtsp_core_status::Ok);
    rtsp_core_server_free(server);
    let _ = std::fs::remove_dir_all(dir);
}

fn open_files_limit() -> libc::rlimit {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes a live, correctly typed struct.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    lim
}

/// A resource limit is process-wide: the program embedding the library decides it, so starting
/// a server through the C ABI (which runs the same `Server::start` as Rust and Python) must leave
/// the soft open-file limit where the embedder put it.
#[test]
fn starting_a_server_leaves_the_open_file_limit_alone() {
    let mut lim = open_files_limit();
    if lim.rlim_cur == lim.rlim_max && lim.rlim_max > 4096 {
        lim.rlim_cur = lim.rlim_max - 1;
        // SAFETY: setrlimit reads a live, correctly typed struct; lowering the soft limit is
        // always allowed.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    }
    let before = open_files_limit();
    let media = CString::new(own_server::media_dir().to_str().unwrap()).unwrap();
    let mut server: *mut rtsp_core_server = ptr::null_mut();
    assert_eq!(
        rtsp_core_server_start(media.as_ptr(), 0, &mut server),
        rtsp_core_status::Ok
    );
    let after = open_files_limit();
    assert_eq!(rtsp_core_server_stop(server), rtsp_core_status::Ok);
    rtsp_core_server_free(server);
    assert_eq!(
        (after.rlim_cur, after.rlim_max),
        (before.rlim_cur, before.rlim_max)
    );
}

#[test]
fn a_draining_server_refuses_new_sessions_and_keeps_playing_the_current_one() {
    use std::io::{Read, Write};
    let (server, port) = start_server();
    let client = playing_client(port);
    let mut stats = rtsp_core_stats::default();
    assert!(client_support::wait_until(Duration::from_secs(10), || {
        rtsp_core_client_stats(client, &mut stats);
        stats.frames_complete >= 5
    }));

    assert_eq!(rtsp_core_server_drain(server), rtsp_core_status::Ok);
    assert_eq!(rtsp_core_server_drain(server), rtsp_core_status::Ok);
    let mut newcomer = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    newcomer
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        newcomer,
        "DESCRIBE rtsp://127.0.0.1:{port}/movie.Mjpeg RTSP/1.0\r\nCSeq: 1\r\n\r\n"
    )
    .unwrap();
    let mut reply = [0u8; 512];
    let n = newcomer.read(&mut reply).unwrap();
    let reply = String::from_utf8_lossy(&reply[..n]);
    assert!(reply.starts_with("RTSP/1.0 503"), "{reply}");
    assert!(reply.contains("Retry-After: "), "{reply}");

    let before = stats.frames_complete;
    assert!(
        client_support::wait_until(Duration::from_secs(10), || {
            rtsp_core_client_stats(client, &mut stats);
            stats.frames_complete >= before + 10
        }),
        "the session set up before draining stopped"
    );
    rtsp_core_client_free(client);
    rtsp_core_server_free(server);
    // A freed handle's server is gone; draining a stopped one is harmless.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}
