#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! RTSP over TLS (`rtsps://`): the real server with `--tls-cert/--tls-key` and a certificate
//! each test makes (a CA and a leaf for `localhost` and 127.0.0.1, by rcgen), played by Debian's
//! ffmpeg and GStreamer and by the project's client; plain RTSP on the normal port alongside;
//! a peer that does not speak TLS; bad certificate files at start.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{have, movie, run, text, Server};
use rtsp_core::client::{
    CertificateCheck, Client, ClientConfig, ClientError, Event, TransportPreference,
};

/// The files of a test identity: `ca.pem` (the CA to trust), `server.pem` (the leaf, signed by
/// the CA) and `server.key`.
struct Identity {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// A new CA and a leaf for `localhost` and 127.0.0.1, written under a scratch directory.
fn identity(tag: &str) -> Identity {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let dir = common::scratch(&format!("rtsps_{tag}"));
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "rtsp-rs test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let mut leaf_params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key).unwrap();
    let id = Identity {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    };
    std::fs::write(&id.ca, ca.pem()).unwrap();
    std::fs::write(&id.cert, leaf.pem()).unwrap();
    std::fs::write(&id.key, leaf_key.serialize_pem()).unwrap();
    id
}

/// The server with its `rtsps://` listener on a free port, and that listener's address.
fn tls_server(id: &Identity, extra: &[&str]) -> (Server, SocketAddr) {
    let mut list = vec![
        "--tls-cert",
        id.cert.to_str().unwrap(),
        "--tls-key",
        id.key.to_str().unwrap(),
        "--tls-port",
        "0",
    ];
    list.extend_from_slice(extra);
    let server = Server::start(&list);
    let line = server
        .wait_log(&["rtsps listening"], Duration::from_secs(20))
        .expect("the rtsps listener's log line");
    let addr = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("addr="))
        .expect("addr in the rtsps line")
        .parse()
        .expect("socket address");
    (server, addr)
}

fn rtsps_url(addr: SocketAddr, path: &str) -> String {
    format!("rtsps://{addr}/{path}")
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Plays `config` until `want` frames arrived (or 30 s passed); returns how many did.
fn engine_frames(config: ClientConfig, want: usize) -> Result<usize, ClientError> {
    let client = Client::connect(config)?;
    client.setup()?;
    client.play()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut frames = 0;
    while frames < want && Instant::now() < deadline {
        match client.next_event(Duration::from_millis(500)) {
            Some(Event::Frame(f)) => {
                assert!(f.jpeg.starts_with(&[0xFF, 0xD8]), "a JPEG");
                frames += 1;
            }
            Some(Event::Error(e)) => return Err(e),
            _ => {}
        }
    }
    let _ = client.teardown();
    Ok(frames)
}

fn with_ca(url: &str, ca: &Path, transport: TransportPreference) -> ClientConfig {
    let mut config = ClientConfig::url(url).ca_file(ca);
    config.transport = transport;
    config
}

#[test]
fn engine_client_plays_with_the_ca_file_over_tcp_and_udp() {
    let id = identity("engine");
    let (_server, addr) = tls_server(&id, &[]);
    for transport in [TransportPreference::Tcp, TransportPreference::Udp] {
        let url = rtsps_url(addr, "movie.Mjpeg");
        let frames = engine_frames(with_ca(&url, &id.ca, transport), 30).unwrap();
        assert_eq!(frames, 30, "{transport:?}");
    }
    // The name in the URL is checked too: `localhost` is in the certificate.
    let url = format!("rtsps://localhost:{}/movie.Mjpeg", addr.port());
    let frames = engine_frames(with_ca(&url, &id.ca, TransportPreference::Tcp), 10).unwrap();
    assert_eq!(frames, 10);
}

#[test]
fn engine_client_refuses_an_unknown_certificate_unless_told_otherwise() {
    let id = identity("refuse");
    let (server, addr) = tls_server(&id, &[]);
    let url = rtsps_url(addr, "movie.Mjpeg");

    // The system's roots do not know the test's CA.
    let err = Client::connect(ClientConfig::url(&url)).unwrap_err();
    assert!(
        matches!(err, ClientError::UntrustedCertificate(_)),
        "{err:?}"
    );
    assert!(err.to_string().contains("not trusted"), "{err}");
    // Another CA is no better.
    let other = identity("refuse_other");
    let err = Client::connect(ClientConfig::url(&url).ca_file(&other.ca)).unwrap_err();
    assert!(
        matches!(err, ClientError::UntrustedCertificate(_)),
        "{err:?}"
    );
    // The server logs the refused handshake and goes on.
    assert!(
        server
            .wait_log(&["TLS failed"], Duration::from_secs(10))
            .is_some(),
        "the handshake failure is logged"
    );

    // Explicitly insecure: plays.
    let mut config = ClientConfig::url(&url);
    config.transport = TransportPreference::Tcp;
    config.certificate_check = CertificateCheck::InsecureAcceptAny;
    assert_eq!(engine_frames(config, 10).unwrap(), 10);

    // A server that does not speak TLS on the port: a clear TLS error, not a hang.
    let plain = format!("rtsps://{}/movie.Mjpeg", server.addr);
    let err = Client::connect(ClientConfig::url(&plain).ca_file(&id.ca)).unwrap_err();
    assert!(matches!(err, ClientError::Tls(_)), "{err:?}");
}

#[test]
fn plain_rtsp_keeps_working_alongside() {
    let id = identity("plain");
    let (server, addr) = tls_server(&id, &[]);
    let secure = std::thread::spawn({
        let url = rtsps_url(addr, "movie.Mjpeg");
        let ca = id.ca.clone();
        move || engine_frames(with_ca(&url, &ca, TransportPreference::Tcp), 40)
    });
    let plain = engine_frames(
        {
            let mut c = ClientConfig::url(server.url("movie.Mjpeg"));
            c.transport = TransportPreference::Tcp;
            c
        },
        40,
    )
    .unwrap();
    assert_eq!(plain, 40);
    assert_eq!(secure.join().unwrap().unwrap(), 40);
}

#[test]
fn garbage_instead_of_a_handshake_does_not_disturb_a_session() {
    let id = identity("garbage");
    let (server, addr) = tls_server(&id, &[]);
    let client = Client::connect(with_ca(
        &rtsps_url(addr, "movie.Mjpeg"),
        &id.ca,
        TransportPreference::Tcp,
    ))
    .unwrap();
    client.setup().unwrap();
    client.play().unwrap();
    let count = |client: &Client, n: usize| {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut frames = 0;
        while frames < n && Instant::now() < deadline {
            match client.next_event(Duration::from_millis(500)) {
                Some(Event::Frame(_)) => frames += 1,
                Some(Event::Error(e)) => panic!("{e}"),
                _ => {}
            }
        }
        frames
    };
    assert_eq!(count(&client, 5), 5);

    // Plain RTSP on the TLS port, then random bytes: each connection is closed after an
    // alert, without a reply in clear.
    for junk in [
        b"OPTIONS rtsps://127.0.0.1/ RTSP/1.0\r\nCSeq: 1\r\n\r\n".to_vec(),
        (0..2048u32).map(|i| (i * 7 + 3) as u8).collect(),
    ] {
        let mut raw = TcpStream::connect(addr).unwrap();
        raw.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        raw.write_all(&junk).unwrap();
        let mut got = Vec::new();
        // Ends with EOF (or a reset) once the server closed: never a hang.
        let _ = raw.read_to_end(&mut got);
        assert!(!got.windows(4).any(|w| w == b"RTSP"), "{got:?}");
    }
    assert!(server
        .wait_log(&["TLS failed"], Duration::from_secs(10))
        .is_some());
    // The session played on.
    assert_eq!(count(&client, 20), 20);
    client.teardown().unwrap();
}

#[test]
fn ffmpeg_reads_frames_over_rtsps() {
    if !have("ffmpeg") {
        return;
    }
    let id = identity("ffmpeg");
    let (_server, addr) = tls_server(&id, &[]);
    // ffmpeg 5.1 carries rtsps:// media interleaved on the TLS connection (it offers no UDP
    // there); its RTSP input takes no TLS options (`-tls_verify` is "not found") and does not
    // check the certificate.
    let url = rtsps_url(addr, "movie.Mjpeg");
    let out = run(
        "ffmpeg",
        &args(&[
            "-nostdin",
            "-v",
            "error",
            "-rtsp_transport",
            "tcp",
            "-i",
            &url,
            "-frames:v",
            "40",
            "-f",
            "framemd5",
            "-",
        ]),
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}", text(&out));
    let frames = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .count();
    assert_eq!(frames, 40, "{}", text(&out));
}

#[test]
fn gstreamer_plays_over_rtsps() {
    if !have("gst-launch-1.0") {
        return;
    }
    let id = identity("gst");
    let (_server, addr) = tls_server(&id, &[]);
    // GStreamer has no option for a CA file on the command line: 0 skips the checks.
    let t = common::peers::gst_decode(
        &rtsps_url(addr, "movie.Mjpeg"),
        "tcp",
        &["tls-validation-flags=0"],
        40,
    );
    let decoded = t.lines().filter(|l| l.contains("chain")).count();
    assert!(decoded >= 40, "{decoded} frames decoded\n{t}");
}

#[test]
fn bad_certificate_files_stop_the_server_with_a_clear_error() {
    let id = identity("badfiles");
    let other = identity("badfiles_other");
    let missing = common::scratch("rtsps_badfiles").join("missing.pem");
    let cases: [(&Path, &Path, &str); 3] = [
        (&missing, &id.key, "missing.pem"),
        (&id.cert, &id.cert, "private key file"),
        (&id.cert, &other.key, "certificate and key"),
    ];
    for (cert, key, want) in cases {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rtsp-server"))
            .args(["--bind", "127.0.0.1", "--port", "0", "--tls-port", "0"])
            .arg("--tls-cert")
            .arg(cert)
            .arg("--tls-key")
            .arg(key)
            .output()
            .unwrap();
        let t = text(&out);
        assert_eq!(out.status.code(), Some(1), "{t}");
        assert!(t.contains(want), "{want}: {t}");
        assert!(!t.contains("PRIVATE KEY"), "{t}");
    }
}

/// Bytes a stalled TLS reader lets the server hold before frames must be dropped: the outbound
/// queue (4 MiB), rustls's buffer (64 KiB) and the kernel's send buffer (`tcp_wmem`'s maximum).
fn tls_backlog_bytes() -> u64 {
    (4 << 20) + (64 << 10) + common::tcp_wmem_max()
}

/// A blocking TLS connection to the server, trusting `ca`.
fn tls_connect(
    addr: SocketAddr,
    ca: &Path,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    #[allow(deprecated)]
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    // A small receive buffer, set before connecting, keeps the kernel from absorbing a stall.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(8 * 1024).unwrap();
    socket.connect(&addr.into()).unwrap();
    let tcp: TcpStream = socket.into();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    rustls::StreamOwned::new(conn, tcp)
}

/// What a TLS RTSP connection carries after a stall: `$` frames, then a reply.
#[derive(Default)]
struct Inbound {
    buf: Vec<u8>,
    rtp_seqs: Vec<u16>,
}

impl Inbound {
    /// Reads until a whole reply arrived (taking the `$` frames before it); returns its status
    /// line and headers.
    fn reply(&mut self, stream: &mut impl Read) -> String {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            while self.buf.first() == Some(&b'$') && self.buf.len() >= 4 {
                let len = usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]]));
                if self.buf.len() < 4 + len {
                    break;
                }
                let channel = self.buf[1];
                let packet: Vec<u8> = self.buf.drain(..4 + len).skip(4).collect();
                if channel == 0 {
                    self.rtp_seqs
                        .push(u16::from_be_bytes([packet[2], packet[3]]));
                }
            }
            if self.buf.first().is_some_and(|b| *b != b'$') {
                if let Some(end) = common::find(&self.buf, b"\r\n\r\n") {
                    let head: Vec<u8> = self.buf.drain(..end + 4).collect();
                    return String::from_utf8_lossy(&head).into_owned();
                }
            }
            let n = stream.read(&mut chunk).expect("reading the TLS connection");
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Over TLS too, a reader that stops reading loses whole frames, counted, and keeps its
/// connection: reading again, it finds intact `$` frames whose RTP sequence numbers run on
/// without a gap, then the reply to its TEARDOWN. Another session plays on meanwhile.
#[test]
fn a_stalled_tls_reader_loses_whole_frames_and_keeps_its_connection() {
    let id = identity("stall");
    let fps = 240.0;
    let (server, addr) = tls_server(&id, &["--fps", "240", "--loop"]);
    let url = rtsps_url(addr, "movie.Mjpeg");
    let mut slow = tls_connect(addr, &id.ca);
    let mut inbound = Inbound::default();
    let setup = format!(
        "SETUP {url}/track1 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n"
    );
    slow.write_all(setup.as_bytes()).unwrap();
    let reply = inbound.reply(&mut slow);
    assert!(reply.starts_with("RTSP/1.0 200"), "{reply}");
    let session = reply
        .lines()
        .find_map(|l| l.strip_prefix("Session: "))
        .and_then(|v| v.split(';').next())
        .expect("Session header")
        .trim()
        .to_owned();
    let play = format!("PLAY {url}/ RTSP/1.0\r\nCSeq: 2\r\nSession: {session}\r\n\r\n");
    slow.write_all(play.as_bytes()).unwrap();
    let reply = inbound.reply(&mut slow);
    assert!(reply.starts_with("RTSP/1.0 200"), "{reply}");

    // Stall long enough for twice what the server can hold to come due, while another TLS
    // session plays (at least a fifth of its frames, on a loaded machine).
    let file_len = std::fs::metadata(common::media_dir().join("movie.Mjpeg"))
        .unwrap()
        .len();
    let frame_bytes = file_len as f64 / common::movie().frame_count() as f64;
    let stall = (2.0 * tls_backlog_bytes() as f64 / (frame_bytes * fps)).clamp(2.0, 40.0);
    let due = (stall * fps) as usize;
    let other = Client::connect(with_ca(&url, &id.ca, TransportPreference::Tcp)).unwrap();
    other.setup().unwrap();
    other.play().unwrap();
    let until = Instant::now() + Duration::from_secs_f64(stall);
    let mut received = 0;
    while Instant::now() < until {
        if let Some(Event::Frame(_)) = other.next_event(Duration::from_millis(100)) {
            received += 1;
        }
    }
    assert!(
        received >= due / 5,
        "the other session got {received} of {due} frames"
    );

    // Reading again: whole frames, then the TEARDOWN reply on the same connection.
    let teardown = format!("TEARDOWN {url}/ RTSP/1.0\r\nCSeq: 3\r\nSession: {session}\r\n\r\n");
    slow.write_all(teardown.as_bytes()).unwrap();
    let reply = inbound.reply(&mut slow);
    assert!(reply.starts_with("RTSP/1.0 200"), "{reply}");
    assert!(reply.contains("CSeq: 3"), "{reply}");
    common::assert_stall_dropped_whole_frames(&server, &session, &inbound.rtp_seqs);
    let _ = other.teardown();
}

/// The engine's publisher over `rtsps://` (TCP interleaved inside TLS, and UDP beside it)
/// into `--publish`: a reader on the plain port receives what it sends. A certificate it
/// does not trust stops it before anything is sent.
#[test]
fn the_engine_publisher_publishes_over_rtsps() {
    use rtsp_core::client::{Publisher, PublisherConfig};
    let id = identity("publish");
    let (server, addr) = tls_server(&id, &["--publish"]);
    let url = rtsps_url(addr, "live/cam");

    let untrusted = Publisher::connect(PublisherConfig::url(url.clone()));
    assert!(
        matches!(untrusted, Err(ClientError::UntrustedCertificate(_))),
        "{untrusted:?}"
    );

    let movie = movie();
    for transport in [TransportPreference::Tcp, TransportPreference::Udp] {
        let mut config = PublisherConfig::url(url.clone());
        config.transport = transport;
        config.certificate_check = CertificateCheck::CaFile(id.ca.clone());
        let publisher = Publisher::connect(config).expect("publishes over rtsps");
        let frames: Vec<Vec<u8>> = (0..40).map(|i| movie.frame(i).unwrap().to_vec()).collect();
        // 20 fps for at most 30 s, until the reader below has its frames.
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = std::sync::Arc::clone(&done);
        let sender = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < deadline {
                publisher.send(&frames[i % frames.len()], None).unwrap();
                i += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            let stats = publisher.stats();
            publisher.close().unwrap();
            stats
        });
        let mut reader = ClientConfig::url(server.url("live/cam"));
        reader.transport = TransportPreference::Tcp;
        // The path exists once the publisher recorded; the reader may come first.
        let mut got = Err(ClientError::Closed);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            got = engine_frames(reader.clone(), 10);
            if got.is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        let stats = sender.join().unwrap();
        assert_eq!(
            got.expect("a reader of the published path"),
            10,
            "{transport:?}"
        );
        assert!(stats.frames_sent >= 10, "{transport:?} {stats:?}");
    }
}
