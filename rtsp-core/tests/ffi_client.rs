#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The C ABI of the client, called from Rust exactly as C calls it: config and callbacks
//! structs, `void *userdata`, borrowed frames, status codes, NULL checks.

mod client_support;

use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use client_support::lab_server::LabServer;
use rtsp_core::ffi::*;

#[derive(Default)]
struct Seen {
    frames: AtomicU64,
    first_frame: Mutex<Option<Vec<u8>>>,
    states: Mutex<Vec<rtsp_core_state>>,
    errors: Mutex<Vec<(rtsp_core_status, String)>>,
    stats_calls: AtomicU64,
    ends: AtomicU64,
    messages: Mutex<Vec<(rtsp_core_message_direction, u64, String)>>,
}

unsafe extern "C" fn on_state(ud: *mut c_void, state: rtsp_core_state) {
    let seen = unsafe { &*(ud as *const Seen) };
    seen.states.lock().unwrap().push(state);
}

unsafe extern "C" fn on_frame(ud: *mut c_void, frame: *const rtsp_core_frame) {
    let seen = unsafe { &*(ud as *const Seen) };
    let f = unsafe { &*frame };
    // The data is borrowed for the call: copy what is kept.
    let bytes = unsafe { std::slice::from_raw_parts(f.data, f.len) }.to_vec();
    assert_eq!(&bytes[..2], &[0xFF, 0xD8]);
    seen.first_frame.lock().unwrap().get_or_insert(bytes);
    seen.frames.fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn on_stats(ud: *mut c_void, stats: *const rtsp_core_stats) {
    let seen = unsafe { &*(ud as *const Seen) };
    assert!(unsafe { (*stats).packets_received } > 0);
    seen.stats_calls.fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn on_error(ud: *mut c_void, status: rtsp_core_status, msg: *const c_char) {
    let seen = unsafe { &*(ud as *const Seen) };
    let msg = unsafe { CStr::from_ptr(msg) }
        .to_string_lossy()
        .into_owned();
    seen.errors.lock().unwrap().push((status, msg));
}

unsafe extern "C" fn on_end(ud: *mut c_void) {
    let seen = unsafe { &*(ud as *const Seen) };
    seen.ends.fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn on_message(ud: *mut c_void, message: *const rtsp_core_message) {
    let seen = unsafe { &*(ud as *const Seen) };
    let m = unsafe { &*message };
    let text = unsafe { CStr::from_ptr(m.text) }
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(text.len(), m.len);
    seen.messages
        .lock()
        .unwrap()
        .push((m.direction, m.at_us, text));
}

fn callbacks(seen: &Seen) -> rtsp_core_client_callbacks {
    rtsp_core_client_callbacks {
        userdata: seen as *const Seen as *mut c_void,
        on_state: Some(on_state),
        on_frame: Some(on_frame),
        on_stats: Some(on_stats),
        on_description: None,
        on_error: Some(on_error),
        on_end_of_stream: Some(on_end),
        on_message: Some(on_message),
    }
}

fn default_config() -> rtsp_core_client_config {
    let mut c = std::mem::MaybeUninit::<rtsp_core_client_config>::uninit();
    assert_eq!(
        rtsp_core_client_config_default(c.as_mut_ptr()),
        rtsp_core_status::Ok
    );
    unsafe { c.assume_init() }
}

#[test]
fn lab_session_through_the_c_abi() {
    let source: Vec<Vec<u8>> = (0..30).map(|i| client_support::jpeg(64, 48, i)).collect();
    let server = LabServer::start("movie.Mjpeg", source.clone());
    let seen = Seen::default();
    let host = CString::new("127.0.0.1").unwrap();
    let file = CString::new("movie.Mjpeg").unwrap();
    let mut config = default_config();
    config.lab_host = host.as_ptr();
    config.lab_server_port = server.port;
    config.lab_file = file.as_ptr();
    config.stats_interval_ms = 200;
    let cb = callbacks(&seen);
    let mut client: *mut rtsp_core_client = ptr::null_mut();
    assert_eq!(
        rtsp_core_client_new(&config, &cb, &mut client),
        rtsp_core_status::Ok
    );
    assert!(!client.is_null());
    // The config strings were copied.
    drop((host, file));

    let mut state = rtsp_core_state::Playing;
    assert_eq!(
        rtsp_core_client_state(client, &mut state),
        rtsp_core_status::Ok
    );
    assert_eq!(state, rtsp_core_state::Init);
    let mut transport = rtsp_core_transport::Tcp;
    assert_eq!(
        rtsp_core_client_transport(client, &mut transport),
        rtsp_core_status::NotReady
    );
    assert_eq!(rtsp_core_client_play(client), rtsp_core_status::BadState);
    assert_eq!(rtsp_core_client_player_play(client), rtsp_core_status::Ok);
    assert_eq!(
        rtsp_core_client_transport(client, &mut transport),
        rtsp_core_status::Ok
    );
    assert_eq!(transport, rtsp_core_transport::Udp);
    assert!(client_support::wait_until(Duration::from_secs(5), || seen
        .frames
        .load(Ordering::SeqCst)
        >= 10));
    assert_eq!(rtsp_core_client_forward(client, 20), rtsp_core_status::Ok);
    assert_eq!(rtsp_core_client_backward(client, 20), rtsp_core_status::Ok);
    assert_eq!(rtsp_core_client_restart(client), rtsp_core_status::Ok);
    assert_eq!(rtsp_core_client_player_pause(client), rtsp_core_status::Ok);
    assert_eq!(
        rtsp_core_client_state(client, &mut state),
        rtsp_core_status::Ok
    );
    assert_eq!(state, rtsp_core_state::Ready);
    let mut stats = rtsp_core_stats::default();
    assert_eq!(
        rtsp_core_client_stats(client, &mut stats),
        rtsp_core_status::Ok
    );
    assert!(stats.frames_complete >= 10);
    assert!(stats.first_frame_latency_ms > 0.0);
    assert_eq!(rtsp_core_client_player_stop(client), rtsp_core_status::Ok);
    rtsp_core_client_free(client);

    // After free, no callback runs any more.
    let frames = seen.frames.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(seen.frames.load(Ordering::SeqCst), frames);
    assert_eq!(
        seen.first_frame.lock().unwrap().as_deref(),
        Some(&source[0][..])
    );
    let states = seen.states.lock().unwrap().clone();
    assert_eq!(
        states,
        [
            rtsp_core_state::Ready,
            rtsp_core_state::Playing,
            rtsp_core_state::Ready,
            rtsp_core_state::Init
        ]
    );
    assert!(seen.stats_calls.load(Ordering::SeqCst) > 0);
    // on_message: every request exactly as the server received it, each followed by its reply.
    let messages = seen.messages.lock().unwrap().clone();
    let requests = server.requests();
    let sent: Vec<&str> = messages
        .iter()
        .filter(|(d, _, _)| *d == rtsp_core_message_direction::Sent)
        .map(|(_, _, t)| t.as_str())
        .collect();
    assert_eq!(sent.len(), requests.len());
    for (text, request) in sent.iter().zip(&requests) {
        assert_eq!(text.as_bytes(), &request[..]);
    }
    assert!(sent[0].starts_with("SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1\n"));
    for pair in messages.chunks(2) {
        assert_eq!(pair[0].0, rtsp_core_message_direction::Sent);
        assert_eq!(pair[1].0, rtsp_core_message_direction::Received);
        assert!(pair[1].2.starts_with("RTSP/1.0 200 OK\n"), "{}", pair[1].2);
        assert!(pair[0].1 <= pair[1].1);
    }
    assert!(
        seen.errors.lock().unwrap().is_empty(),
        "{:?}",
        seen.errors.lock().unwrap()
    );
}

#[test]
fn lab_timeout_maps_to_its_status() {
    let server = LabServer::start("movie.Mjpeg", vec![client_support::jpeg(16, 16, 0)]);
    let host = CString::new("127.0.0.1").unwrap();
    let file = CString::new("nothere.Mjpeg").unwrap();
    let mut config = default_config();
    config.lab_host = host.as_ptr();
    config.lab_server_port = server.port;
    config.lab_file = file.as_ptr();
    config.reply_timeout_ms = 500;
    let mut client = ptr::null_mut();
    assert_eq!(
        rtsp_core_client_new(&config, ptr::null(), &mut client),
        rtsp_core_status::Ok
    );
    assert_eq!(rtsp_core_client_setup(client), rtsp_core_status::Ok);
    assert_eq!(rtsp_core_client_play(client), rtsp_core_status::Timeout);
    // DESCRIBE is not something the original lab server answers either.
    let mut len = 0usize;
    assert_eq!(
        rtsp_core_client_describe(client, ptr::null_mut(), 0, &mut len),
        rtsp_core_status::Timeout
    );
    rtsp_core_client_free(client);
}

#[test]
fn connect_errors_and_null_arguments() {
    let mut client: *mut rtsp_core_client = std::ptr::dangling_mut();
    let mut config = default_config();
    assert_eq!(
        rtsp_core_client_new(ptr::null(), ptr::null(), &mut client),
        rtsp_core_status::NullArgument
    );
    assert_eq!(
        rtsp_core_client_new(&config, ptr::null(), ptr::null_mut()),
        rtsp_core_status::NullArgument
    );
    for bad in [
        "",
        "http://127.0.0.1/x",
        "rtsp://",
        "rtsp://127.0.0.1:70000/x",
    ] {
        let url = CString::new(bad).unwrap();
        config.url = url.as_ptr();
        assert_eq!(
            rtsp_core_client_new(&config, ptr::null(), &mut client),
            rtsp_core_status::BadUrl,
            "{bad}"
        );
        assert!(client.is_null());
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = CString::new(format!("rtsp://127.0.0.1:{port}/x")).unwrap();
    config.url = url.as_ptr();
    assert_eq!(
        rtsp_core_client_new(&config, ptr::null(), &mut client),
        rtsp_core_status::ConnectionRefused
    );
    let bad_utf8 = b"rtsp://\xff/\0";
    config.url = bad_utf8.as_ptr().cast();
    assert_eq!(
        rtsp_core_client_new(&config, ptr::null(), &mut client),
        rtsp_core_status::InvalidArgument
    );
    let null = ptr::null_mut();
    assert_eq!(rtsp_core_client_setup(null), rtsp_core_status::NullArgument);
    assert_eq!(
        rtsp_core_client_play_from(null, -1.0),
        rtsp_core_status::InvalidArgument
    );
    assert_eq!(
        rtsp_core_client_play_from(null, 1.0),
        rtsp_core_status::NullArgument
    );
    assert_eq!(
        rtsp_core_client_seek_seconds(null, f64::NAN),
        rtsp_core_status::InvalidArgument
    );
    assert_eq!(
        rtsp_core_client_stats(null, ptr::null_mut()),
        rtsp_core_status::NullArgument
    );
    rtsp_core_client_free(null);
    let text = unsafe { CStr::from_ptr(rtsp_core_version()) }
        .to_str()
        .unwrap();
    assert_eq!(text, env!("CARGO_PKG_VERSION"));
}
