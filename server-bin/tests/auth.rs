#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Access control over real sockets: `rtsp-server --credentials` (Digest SHA-256 / MD5, Basic
//! on request), the `passwd` helper, rate-limited failure logs, the per-address connection
//! limit, and FFmpeg / GStreamer authenticating against it.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{have, Reply, Rtsp, Server};
use rtsp_core::auth::ClientAuth;

const USER: &str = "alice";
const PASSWORD: &str = "s3cret, with \"quotes\"";
/// A second user whose password needs no quoting on command lines (third-party tools).
const PLAIN_USER: &str = "bob";
const PLAIN_PASSWORD: &str = "plain-pw";

/// A fresh directory for this test's files.
fn scratch(name: &str) -> PathBuf {
    common::scratch(&format!("auth-{name}"))
}

/// `rtsp-server passwd FILE USER` with the password on stdin.
fn passwd(file: &Path, user: &str, password: &str, realm: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rtsp-server"));
    cmd.arg("passwd").arg(file).arg(user);
    if let Some(r) = realm {
        cmd.args(["--realm", r]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// A server requiring the credentials of `USER`, plus `args`.
fn auth_server(name: &str, args: &[&str]) -> (Server, PathBuf) {
    let dir = scratch(name);
    let file = dir.join("users");
    assert!(passwd(&file, USER, PASSWORD, None).status.success());
    assert!(passwd(&file, PLAIN_USER, PLAIN_PASSWORD, None)
        .status
        .success());
    let path = file.to_str().unwrap().to_owned();
    let mut all = vec!["--credentials", path.as_str()];
    all.extend_from_slice(args);
    (Server::start(&all), dir)
}

fn challenges(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("WWW-Authenticate"))
        .map(|(_, v)| v.clone())
        .collect()
}

/// Sends `method` with the Authorization `auth` computes.
fn authed(
    rtsp: &mut Rtsp,
    auth: &mut ClientAuth,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let value = auth
        .authorization(method, uri)
        .expect("a challenge was taken");
    let mut all = vec![("Authorization", value.as_str())];
    all.extend_from_slice(headers);
    rtsp.request(method, uri, &all)
}

/// DESCRIBE without credentials, then take the challenges accepted by `pick`.
fn challenged(
    rtsp: &mut Rtsp,
    url: &str,
    password: &str,
    pick: &dyn Fn(&str) -> bool,
) -> ClientAuth {
    let r = rtsp.request("DESCRIBE", url, &[]);
    assert_eq!(r.status, 401, "{r:?}");
    let mut auth = ClientAuth::new(USER, password);
    auth.on_challenge(challenges(&r).iter().filter(|c| pick(c)))
        .unwrap();
    auth
}

/// DESCRIBE, SETUP (TCP interleaved), PLAY with credentials; returns the frames' packets seen.
fn play_interleaved(rtsp: &mut Rtsp, auth: &mut ClientAuth, url: &str) -> usize {
    let r = authed(
        rtsp,
        auth,
        "DESCRIBE",
        url,
        &[("Accept", "application/sdp")],
    );
    assert_eq!(r.status, 200, "{r:?}");
    let track = format!("{url}/track1");
    let r = authed(
        rtsp,
        auth,
        "SETUP",
        &track,
        &[("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1")],
    );
    assert_eq!(r.status, 200, "{r:?}");
    let session = r.session();
    let r = authed(rtsp, auth, "PLAY", url, &[("Session", &session)]);
    assert_eq!(r.status, 200, "{r:?}");
    rtsp.collect_interleaved(Duration::from_millis(800));
    rtsp.interleaved.iter().filter(|(c, _)| *c == 0).count()
}

#[test]
fn passwd_creates_a_private_file_and_refuses_bad_input() {
    let dir = scratch("passwd");
    let file = dir.join("users");
    let out = passwd(&file, USER, PASSWORD, None);
    assert!(out.status.success(), "{out:?}");
    let out = passwd(&file, "bob", "pw", Some("other"));
    assert!(out.status.success(), "{out:?}");
    // Replacing alice keeps one line for her.
    assert!(passwd(&file, USER, "new", None).status.success());
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        !text.contains("new") && !text.contains("pw"),
        "no plaintext: {text}"
    );
    let fields: Vec<&str> = text.lines().next().unwrap().split(':').collect();
    assert_eq!(fields[..2], ["alice", "rtsp-server"]);
    assert_eq!((fields[2].len(), fields[3].len()), (32, 64));
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(!passwd(&file, "a:b", "pw", None).status.success());
    assert!(!passwd(&file, "carol", "", None).status.success());
    // A server refuses to start on a broken file, naming the line.
    std::fs::write(&file, "alice:rtsp-server:nothex\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rtsp-server"))
        .args(["--port", "0", "--credentials"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 1"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn challenges_options_and_both_digest_algorithms() {
    let (server, dir) = auth_server("digest", &[]);
    let url = server.url("movie.Mjpeg");
    let mut rtsp = Rtsp::connect(server.addr);
    let r = rtsp.request("OPTIONS", &url, &[]);
    assert_eq!(r.status, 200, "OPTIONS needs no credentials");
    let r = rtsp.request("DESCRIBE", &url, &[]);
    assert_eq!(r.status, 401);
    let ch = challenges(&r);
    assert_eq!(ch.len(), 2, "{ch:?}");
    assert!(
        ch[0].starts_with("Digest realm=\"rtsp-server\"") && ch[0].contains("algorithm=SHA-256")
    );
    assert!(ch[1].contains("algorithm=MD5") && ch[1].contains("qop=\"auth\""));
    for alg in ["SHA-256", "MD5"] {
        let mut rtsp = Rtsp::connect(server.addr);
        let mut auth = challenged(&mut rtsp, &url, PASSWORD, &|c| c.contains(alg));
        let packets = play_interleaved(&mut rtsp, &mut auth, &url);
        assert!(
            packets > 20,
            "{alg}: {packets} RTP packets\n{:#?}",
            server.log.lock().unwrap()
        );
    }
    assert!(server
        .wait_log(&["session start", "alice"], Duration::from_secs(5))
        .is_some());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn basic_only_when_enabled() {
    let basic = format!(
        "Basic {}",
        base64_encode(format!("{USER}:{PASSWORD}").as_bytes())
    );
    let wrong = format!("Basic {}", base64_encode(format!("{USER}:nope").as_bytes()));
    let (server, dir) = auth_server("basic", &["--auth-basic"]);
    let url = server.url("movie.Mjpeg");
    let mut rtsp = Rtsp::connect(server.addr);
    let r = rtsp.request("DESCRIBE", &url, &[]);
    let ch = challenges(&r);
    assert_eq!(ch.len(), 3);
    assert_eq!(ch[2], "Basic realm=\"rtsp-server\"");
    assert_eq!(
        rtsp.request("DESCRIBE", &url, &[("Authorization", &basic)])
            .status,
        200
    );
    assert_eq!(
        rtsp.request("DESCRIBE", &url, &[("Authorization", &wrong)])
            .status,
        401
    );
    drop(server);
    let (server, dir2) = auth_server("nobasic", &[]);
    let mut rtsp = Rtsp::connect(server.addr);
    let url = server.url("movie.Mjpeg");
    assert_eq!(
        rtsp.request("DESCRIBE", &url, &[("Authorization", &basic)])
            .status,
        401
    );
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(dir2);
}

fn base64_encode(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn wrong_replayed_and_garbage_credentials_are_refused_and_logged_rate_limited() {
    let (server, dir) = auth_server("refused", &["--metrics", "127.0.0.1:0"]);
    let url = server.url("movie.Mjpeg");
    let mut rtsp = Rtsp::connect(server.addr);
    let mut wrong = challenged(&mut rtsp, &url, "guess", &|_| true);
    for _ in 0..20 {
        let r = authed(&mut rtsp, &mut wrong, "DESCRIBE", &url, &[]);
        assert_eq!(r.status, 401);
        assert!(!challenges(&r)[0].contains("stale"));
    }
    // A captured good request replayed as is.
    let mut good = challenged(&mut rtsp, &url, PASSWORD, &|_| true);
    let value = good.authorization("DESCRIBE", &url).unwrap();
    assert_eq!(
        rtsp.request("DESCRIBE", &url, &[("Authorization", &value)])
            .status,
        200
    );
    assert_eq!(
        rtsp.request("DESCRIBE", &url, &[("Authorization", &value)])
            .status,
        401
    );
    // Garbage: 400 (unparseable) or 401 (unknown scheme), and the connection lives on.
    let garbage: [(&str, u16); 4] = [
        ("Digest realm=\"unterminated", 400),
        ("Digest username=\"alice\"", 400),
        ("Negotiate abcdef", 401),
        ("Digest username=\"alice\", realm=\"rtsp-server\", nonce=\"x\", uri=\"u\", response=\"r\", qop=auth, nc=1, cnonce=c", 400),
    ];
    for (g, status) in garbage {
        let r = rtsp.request("DESCRIBE", &url, &[("Authorization", g)]);
        assert_eq!(r.status, status, "{g:?}");
    }
    // The same connection, and a second session, still work.
    let packets = play_interleaved(&mut rtsp, &mut good, &url);
    assert!(packets > 20);
    let mut other = Rtsp::connect(server.addr);
    let mut auth = challenged(&mut other, &url, PASSWORD, &|_| true);
    assert!(play_interleaved(&mut other, &mut auth, &url) > 20);

    // 25 failures with credentials from one address within 10 s: one log line.
    std::thread::sleep(Duration::from_millis(300));
    let failures = || -> Vec<String> {
        server
            .log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains("authentication failed"))
            .cloned()
            .collect()
    };
    let lines = failures();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].contains("127.0.0.1") && lines[0].contains("alice"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("wrong password"), "{}", lines[0]);
    // After the interval the next failure is logged with the count of those held back.
    std::thread::sleep(Duration::from_secs(10));
    let r = authed(&mut rtsp, &mut wrong, "DESCRIBE", &url, &[]);
    assert_eq!(r.status, 401);
    let line = server
        .wait_log(
            &["authentication failed", "suppressed=24"],
            Duration::from_secs(5),
        )
        .unwrap_or_else(|| panic!("{:#?}", failures()));
    assert!(line.contains("wrong password"));
    assert_eq!(failures().len(), 2);
    // Every refused request that carried credentials is counted, logged or not: 21 wrong
    // passwords, 1 replay, 4 garbage values (the challenges' first requests carry none).
    let (_, metrics) = common::http_get(server.metrics_addr(), "/metrics");
    assert!(
        metrics.contains("\nrtsp_auth_failures_total 26\n"),
        "{metrics}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn stale_nonce_gets_stale_true_and_a_retry_succeeds() {
    use rtsp_core::auth::{AuthConfig, Credentials, ServerAuth, UserEntry};
    use rtsp_core::server::runtime::{Config, Server as Embedded};
    let entry = UserEntry::new(USER, "rtsp-server", PASSWORD).unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), common::media_dir());
    config.rtp_port_base = 30000 + common::rand_u16() % 2000 * 2;
    let mut auth_config = AuthConfig::new("rtsp-server");
    auth_config.nonce_lifetime = Duration::from_secs(1);
    config.auth = Some(ServerAuth {
        config: auth_config,
        credentials: Credentials::parse(&entry.to_line()).unwrap(),
    });
    let server = Embedded::start(config).unwrap();
    let url = format!("rtsp://{}/movie.Mjpeg", server.local_addr());
    let mut rtsp = Rtsp::connect(server.local_addr());
    let mut auth = challenged(&mut rtsp, &url, PASSWORD, &|_| true);
    assert_eq!(
        authed(&mut rtsp, &mut auth, "DESCRIBE", &url, &[]).status,
        200
    );
    // Whole seconds count: 2.5 s is past a 1 s lifetime whatever the rounding.
    std::thread::sleep(Duration::from_millis(2500));
    let r = authed(&mut rtsp, &mut auth, "DESCRIBE", &url, &[]);
    assert_eq!(r.status, 401);
    let ch = challenges(&r);
    assert!(ch.iter().all(|c| c.ends_with("stale=true")), "{ch:?}");
    let accepted = auth.on_challenge(&ch).unwrap();
    assert!(accepted.stale);
    assert_eq!(
        authed(&mut rtsp, &mut auth, "DESCRIBE", &url, &[]).status,
        200
    );
    server.shutdown();
}

#[test]
fn lab_clients_get_a_lab_shaped_401() {
    let (server, dir) = auth_server("lab", &[]);
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 25000")
        .unwrap();
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"RTSP/1.0 401 Unauthorized\nCSeq: 1\nSession: 0");
    let _ = std::fs::remove_dir_all(dir);
}

/// The first bytes the server sends on a fresh connection, or "" if it closes silently.
fn first_words(addr: std::net::SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

#[test]
fn per_address_connection_limit() {
    let server = Server::start(&[
        "--max-connections-per-address",
        "3",
        "--metrics",
        "127.0.0.1:0",
    ]);
    let url = server.url("movie.Mjpeg");
    let mut conns: Vec<Rtsp> = (0..3).map(|_| Rtsp::connect(server.addr)).collect();
    let r = conns[0].request(
        "SETUP",
        &format!("{url}/track1"),
        &[("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1")],
    );
    let session = r.session();
    assert_eq!(
        conns[0]
            .request("PLAY", &url, &[("Session", &session)])
            .status,
        200
    );
    // The fourth is refused with 503 and closed; the three keep working.
    let refused = first_words(server.addr);
    assert!(
        refused.starts_with("RTSP/1.0 503 Service Unavailable\r\n"),
        "{refused:?}"
    );
    assert!(server
        .wait_log(
            &["per-address connection limit", "127.0.0.1"],
            Duration::from_secs(5)
        )
        .is_some());
    for c in conns.iter_mut().skip(1) {
        assert_eq!(c.request("OPTIONS", &url, &[]).status, 200);
    }
    let (_, metrics) = common::http_get(server.metrics_addr(), "/metrics");
    assert!(
        metrics.contains("\nrtsp_connections_refused_total{reason=\"per_address\"} 1\n"),
        "{metrics}"
    );
    conns[0].interleaved.clear();
    conns[0].collect_interleaved(Duration::from_millis(500));
    assert!(conns[0].interleaved.len() > 10);
    // Closing one frees its slot (once the server has seen the close).
    drop(conns.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut s = Rtsp::connect(server.addr);
        s.send_raw(format!("OPTIONS {url} RTSP/1.0\r\nCSeq: 1\r\n\r\n").as_bytes());
        let mut buf = [0u8; 64];
        let n = s.stream.read(&mut buf).unwrap_or(0);
        if buf[..n].starts_with(b"RTSP/1.0 200") {
            break;
        }
        assert!(Instant::now() < deadline, "the slot was never freed");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs a tool with a time limit; returns (success, output).
fn run(program: &str, args: &[&str], limit: Duration) -> (bool, String) {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let out = common::run(program, &args, limit);
    (out.status.success(), common::text(&out))
}

#[test]
fn ffprobe_authenticates_with_url_credentials() {
    if !have("ffprobe") {
        return;
    }
    let (server, dir) = auth_server("ffprobe", &[]);
    let probe = |password: &str| {
        let url = format!("rtsp://{PLAIN_USER}:{password}@{}/movie.Mjpeg", server.addr);
        run(
            "ffprobe",
            &[
                "-v",
                "error",
                "-rtsp_transport",
                "tcp",
                "-show_streams",
                &url,
            ],
            Duration::from_secs(30),
        )
    };
    let (ok, text) = probe(PLAIN_PASSWORD);
    assert!(ok && text.contains("codec_name=mjpeg"), "{text}");
    let (ok, text) = probe("wrong");
    assert!(!ok, "{text}");
    assert!(text.contains("401"), "{text}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn gstreamer_authenticates_with_user_id_and_user_pw() {
    if !have("gst-launch-1.0") {
        return;
    }
    let (server, dir) = auth_server("gst", &[]);
    let play = |password: &str| {
        let location = format!("location={}", server.url("movie.Mjpeg"));
        let user = format!("user-id={PLAIN_USER}");
        let pw = format!("user-pw={password}");
        run(
            "gst-launch-1.0",
            &[
                "rtspsrc",
                &location,
                &user,
                &pw,
                "protocols=tcp",
                "!",
                "rtpjpegdepay",
                "!",
                "jpegdec",
                "!",
                "fakesink",
                "num-buffers=20",
            ],
            Duration::from_secs(30),
        )
    };
    let (ok, text) = play(PLAIN_PASSWORD);
    assert!(ok && text.contains("Got EOS"), "{text}");
    let (ok, text) = play("wrong");
    assert!(!ok, "{text}");
    let _ = std::fs::remove_dir_all(dir);
}

/// A client that puts credentials into its URLs (RFC 2326 keeps them in `Authorization`) must not
/// get its password into the server's log, at any level: the request log and the refusal log
/// show the request-URI without its userinfo.
#[test]
fn userinfo_in_a_request_uri_never_reaches_the_log() {
    let (server, dir) = auth_server("userinfo-log", &[]);
    let plain = Server::start(&[]);
    for (server, path, status) in [
        (&server, "movie.Mjpeg", 200),
        (&plain, "missing.Mjpeg", 404),
    ] {
        let url = format!("rtsp://alice:s3cr3t-word@{}/{path}", server.addr);
        let mut rtsp = Rtsp::connect(server.addr);
        assert_eq!(rtsp.request("OPTIONS", &url, &[]).status, 200);
        assert_eq!(
            rtsp.request("DESCRIBE", &url, &[]).status,
            if status == 200 { 401 } else { 404 }
        );
        let expected = format!("uri=rtsp://{}/{path}", server.addr);
        let options = server.wait_log(&["OPTIONS", &expected], Duration::from_secs(5));
        let log = server.log.lock().unwrap().join("\n");
        assert!(options.is_some(), "no stripped OPTIONS line:\n{log}");
        if status == 404 {
            let refused =
                server.wait_log(&["refused", "DESCRIBE", &expected], Duration::from_secs(5));
            assert!(refused.is_some(), "no stripped refusal line:\n{log}");
        }
        let log = server.log.lock().unwrap().join("\n");
        assert!(
            !log.contains("s3cr3t-word"),
            "password in the server log:\n{log}"
        );
        assert!(
            !log.contains("alice:"),
            "userinfo in the server log:\n{log}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}
