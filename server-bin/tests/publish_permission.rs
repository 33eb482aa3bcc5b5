//! Who may publish (`--publish` with `--credentials`): users marked `publish` in the
//! credentials file (`rtsp-server passwd --publish`) may, the others only read and get 403
//! Forbidden for ANNOUNCE, SETUP `mode=record` and RECORD. Peers: ffmpeg's `-f rtsp` output,
//! ffprobe, the engine's `Publisher`, and raw RTSP over TCP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::peers::ffprobe_sees;
use common::*;
use rtsp_core::auth::ClientAuth;
use rtsp_core::client::{ClientCredentials, ClientError, Publisher, PublisherConfig};

const PATH: &str = "live/cam";
const READER: &str = "reader";
const PUBLISHER: &str = "camera";
const PASSWORD: &str = "pw-0123";

/// A publishing server whose credentials file has a reader and a publisher.
fn server(name: &str) -> (Server, PathBuf) {
    let dir = scratch(&format!("perm-{name}"));
    let file = dir.join("users");
    common::passwd(&file, READER, PASSWORD, false);
    common::passwd(&file, PUBLISHER, PASSWORD, true);
    let text = std::fs::read_to_string(&file).unwrap();
    let line = |user: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{user}:")))
            .unwrap()
            .to_owned()
    };
    assert!(line(PUBLISHER).ends_with(":publish"), "{text}");
    assert!(!line(READER).contains("publish"), "{text}");
    let server = Server::start(&["--publish", "--credentials", file.to_str().unwrap()]);
    (server, dir)
}

/// `rtsp://USER:PASSWORD@127.0.0.1:PORT/PATH`.
fn url_as(server: &Server, user: &str) -> String {
    format!("rtsp://{user}:{PASSWORD}@{}/{PATH}", server.addr)
}

fn ffmpeg_publish(url: &str, seconds: u32) -> std::process::Child {
    Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi"])
        .args([
            "-i",
            "testsrc=size=320x240:rate=20",
            "-t",
            &seconds.to_string(),
        ])
        .args([
            "-c:v", "mjpeg", "-huffman", "default", "-pix_fmt", "yuvj420p",
        ])
        .args(["-f", "rtsp", "-rtsp_transport", "tcp", url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ffmpeg")
}

fn wait_exit(mut child: std::process::Child, limit: Duration) -> std::process::Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ffmpeg did not finish");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn ffmpeg_publishes_as_a_publisher_and_is_refused_as_a_reader() {
    if !(have("ffmpeg") && have("ffprobe")) {
        return;
    }
    let (server, _dir) = server("ffmpeg");

    let refused = wait_exit(
        ffmpeg_publish(&url_as(&server, READER), 5),
        Duration::from_secs(60),
    );
    assert!(
        !refused.status.success(),
        "a reader's publish must fail: {}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let logged = server.wait_log(
        &["may not publish", "status=403", READER],
        Duration::from_secs(10),
    );
    assert!(logged.is_some(), "no 403 in the log");
    assert!(
        server.wait_log(&["recording"], Duration::ZERO).is_none(),
        "a reader recorded"
    );

    let publisher = ffmpeg_publish(&url_as(&server, PUBLISHER), 12);
    assert!(
        server
            .wait_log(&["recording"], Duration::from_secs(30))
            .is_some(),
        "the publisher never recorded"
    );
    // A reader (not allowed to publish) may read what the publisher sends.
    ffprobe_sees(
        &url_as(&server, READER),
        &["codec_name=mjpeg", "width=320"],
        Duration::from_secs(30),
    );
    let published = wait_exit(publisher, Duration::from_secs(60));
    assert!(
        published.status.success(),
        "{}",
        String::from_utf8_lossy(&published.stderr)
    );
}

fn engine_publisher(server: &Server, user: &str) -> Result<Publisher, ClientError> {
    let mut config = PublisherConfig::url(server.url(PATH));
    config.credentials = Some(ClientCredentials {
        user: user.to_owned(),
        password: PASSWORD.to_owned(),
    });
    Publisher::connect(config)
}

#[test]
fn the_engine_publisher_gets_403_as_a_reader_and_publishes_as_a_publisher() {
    let (server, _dir) = server("engine");
    match engine_publisher(&server, READER) {
        Err(ClientError::Forbidden { method, reason }) => {
            assert_eq!(method, "ANNOUNCE");
            // The server's explanation, not just "Forbidden".
            assert!(reason.contains("may not publish, only read"), "{reason}");
        }
        Err(other) => panic!("not Forbidden: {other}"),
        Ok(_) => panic!("a reader was let publish"),
    }
    let p = engine_publisher(&server, PUBLISHER).expect("a publisher publishes");
    let frame = movie().frame(0).unwrap().to_vec();
    p.send(&frame, None).expect("frame sent");
    assert!(server
        .wait_log(&["recording"], Duration::from_secs(30))
        .is_some());
    p.close().unwrap();
}

fn challenges(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("WWW-Authenticate"))
        .map(|(_, v)| v.clone())
        .collect()
}

/// A connection with `user`'s Digest answer to the server's challenge.
fn login(server: &Server, user: &str) -> (Rtsp, ClientAuth) {
    let mut c = Rtsp::connect(server.addr);
    let r = c.request("DESCRIBE", &server.url(PATH), &[]);
    assert_eq!(r.status, 401, "{}", r.status_line);
    let mut auth = ClientAuth::new(user, PASSWORD);
    auth.on_challenge(challenges(&r).iter()).unwrap();
    (c, auth)
}

/// `method` on `uri` with credentials, an optional body (SDP).
fn send(
    c: &mut Rtsp,
    auth: &mut ClientAuth,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    sdp: Option<&str>,
) -> Reply {
    let value = auth.authorization(method, uri).unwrap();
    let mut head = format!("{method} {uri} RTSP/1.0\r\nCSeq: 9\r\nAuthorization: {value}\r\n");
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if let Some(sdp) = sdp {
        head.push_str(&format!(
            "Content-Type: application/sdp\r\nContent-Length: {}\r\n",
            sdp.len()
        ));
    }
    head.push_str("\r\n");
    head.push_str(sdp.unwrap_or(""));
    c.send_raw(head.as_bytes());
    c.read_reply()
}

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 0 RTP/AVP 26\r\na=control:streamid=0\r\n";
const RECORD_TCP: &str = "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record";

#[test]
fn raw_exchange_403_for_a_reader_and_setup_echoes_mode_record() {
    let (server, _dir) = server("raw");
    let url = server.url(PATH);
    let stream = format!("{url}/streamid=0");

    let (mut c, mut auth) = login(&server, READER);
    let r = send(&mut c, &mut auth, "ANNOUNCE", &url, &[], Some(SDP));
    assert_eq!(r.status, 403, "{}", r.status_line);
    assert!(
        String::from_utf8_lossy(&r.body).contains("not publish"),
        "{:?}",
        String::from_utf8_lossy(&r.body)
    );
    let r = send(
        &mut c,
        &mut auth,
        "SETUP",
        &stream,
        &[("Transport", RECORD_TCP)],
        None,
    );
    assert_eq!(r.status, 403, "{}", r.status_line);
    let r = send(
        &mut c,
        &mut auth,
        "RECORD",
        &url,
        &[("Session", "12345678")],
        None,
    );
    assert_eq!(r.status, 403, "{}", r.status_line);

    let (mut c, mut auth) = login(&server, PUBLISHER);
    let r = send(&mut c, &mut auth, "ANNOUNCE", &url, &[], Some(SDP));
    assert_eq!(r.status, 200, "{}", r.status_line);
    let r = send(
        &mut c,
        &mut auth,
        "SETUP",
        &stream,
        &[("Transport", RECORD_TCP)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.status_line);
    let transport = r.header("Transport").expect("a Transport header");
    assert!(
        transport.contains("interleaved=0-1") && transport.ends_with("mode=\"record\""),
        "{transport}"
    );
    assert!(!transport.contains("PLAY"), "{transport}");
    let session = r.session();
    let r = send(
        &mut c,
        &mut auth,
        "RECORD",
        &url,
        &[("Session", &session)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.status_line);
}
