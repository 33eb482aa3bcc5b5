//! The server behind Debian's `haproxy` in TCP mode with the PROXY protocol (`send-proxy` and
//! `send-proxy-v2`), on loopback addresses that tell the parties apart: HAProxy listens on
//! 127.0.0.4 and connects to the server from 127.0.0.2 (the only trusted proxy); clients
//! connect from 127.0.0.1 (ffmpeg) or from 127.0.0.5 / 127.0.0.6 (raw RTSP). The server must
//! see, log and limit the client, send UDP RTP straight to it, and close connections that do
//! not start with a header or that come from anyone but the proxy.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::time::Duration;

use rtsp_tests::haproxy::Haproxy;
use rtsp_tests::peers::ffmpeg_framemd5;
use rtsp_tests::{
    connect_from, have, recv_for, rtp, text, udp_pair_on, udp_transport, Rtsp, Server,
};

const PROXY_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const FRONTEND_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 4));
const CLIENT_A: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 5));
const CLIENT_B: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 6));

/// HAProxy relaying one frontend to the server; `send_proxy` is the server-line keyword:
/// `send-proxy` (v1) or `send-proxy-v2`.
fn haproxy(server: &Server, send_proxy: &str) -> Haproxy {
    Haproxy::start(FRONTEND_IP, |frontend| {
        format!(
            "global\n  maxconn 64\n\n\
             defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n\n\
             frontend rtsp\n  bind {frontend}\n  default_backend servers\n\n\
             backend servers\n  server origin {} {send_proxy} source {PROXY_IP}\n",
            server.addr
        )
    })
}

fn proxied_server(extra: &[&str]) -> Server {
    let mut args = vec!["--proxy-protocol", "--trusted-proxy", "127.0.0.2/32"];
    args.extend_from_slice(extra);
    Server::start(&args)
}

/// ffmpeg through HAProxy decodes `frames` frames; the server logged the session under the
/// client's own address (127.0.0.1), never the proxy's.
fn ffmpeg_plays_through(send_proxy: &str, transport: &str) {
    if !have("haproxy") || !have("ffmpeg") {
        return;
    }
    let server = proxied_server(&[]);
    let proxy = haproxy(&server, send_proxy);
    let url = proxy.url("movie.Mjpeg");
    let (out, frames) = ffmpeg_framemd5(
        &["-rtsp_transport", transport, "-i", &url, "-frames:v", "30"],
        Duration::from_secs(60),
    );
    assert_eq!(frames, 30, "{}", text(&out));
    let start = server
        .wait_log(&["session start"], Duration::from_secs(10))
        .expect("session start logged");
    assert!(start.contains("peer=127.0.0.1:"), "{start}");
    let log = server.log.lock().unwrap().join("\n");
    assert!(
        !log.contains("peer=127.0.0.2:"),
        "the proxy's address leaked:\n{log}"
    );
}

#[test]
fn ffmpeg_plays_through_haproxy_send_proxy_v1_over_tcp() {
    ffmpeg_plays_through("send-proxy", "tcp");
}

#[test]
fn ffmpeg_plays_through_haproxy_send_proxy_v2_over_udp_with_rtp_straight_to_the_client() {
    // Only RTSP goes through HAProxy (TCP mode); RTP goes to the session's peer address, which
    // the log shows is the client's from the PROXY header. (On loopback a datagram to the
    // proxy's 127.0.0.2 would reach ffmpeg's wildcard-bound port too, so the log is the check.)
    ffmpeg_plays_through("send-proxy-v2", "udp");
}

#[test]
fn ffmpeg_plays_through_haproxy_send_proxy_v2_over_tcp() {
    ffmpeg_plays_through("send-proxy-v2", "tcp");
}

#[test]
fn udp_rtp_goes_straight_to_the_client_address_of_the_header() {
    if !have("haproxy") {
        return;
    }
    let server = proxied_server(&[]);
    let proxy = haproxy(&server, "send-proxy-v2");
    // Sockets bound to client A's address alone: datagrams sent to the proxy's address (or any
    // other) never reach them.
    let (rtp_socket, _rtcp_socket) = udp_pair_on(CLIENT_A);
    let mut c = Rtsp::from_stream(connect_from(CLIENT_A, proxy.frontend));
    let setup = c.request(
        "SETUP",
        &proxy.url("movie.Mjpeg/track1"),
        &[("Transport", &udp_transport(&rtp_socket))],
    );
    assert_eq!(setup.status, 200, "{setup:?}");
    let session = setup.session();
    let play = c.request("PLAY", &proxy.url("movie.Mjpeg"), &[("Session", &session)]);
    assert_eq!(play.status, 200);
    let packets = recv_for(&rtp_socket, Duration::from_secs(20), 20);
    assert_eq!(
        packets.len(),
        20,
        "RTP did not arrive at the client's own address"
    );
    assert!(packets.iter().all(|(_, p)| rtp(p).pt == 26));
}

/// OPTIONS on a connection from `client` through the proxy; the reply's status.
fn options_via(proxy: &Haproxy, client: IpAddr) -> (Rtsp, u16) {
    let mut c = Rtsp::from_stream(connect_from(client, proxy.frontend));
    let reply = c.request("OPTIONS", &proxy.url("movie.Mjpeg"), &[]);
    (c, reply.status)
}

#[test]
fn per_address_limits_count_the_client_not_the_proxy() {
    if !have("haproxy") {
        return;
    }
    let server = proxied_server(&["--max-connections-per-address", "1"]);
    let proxy = haproxy(&server, "send-proxy-v2");
    let (_a1, first) = options_via(&proxy, CLIENT_A);
    assert_eq!(first, 200);
    let (_a2, second) = options_via(&proxy, CLIENT_A);
    assert_eq!(
        second, 503,
        "client A's second connection is over its limit"
    );
    // Every connection reaches the server from the proxy's address: only the PROXY header
    // tells client B from client A.
    let (_b, other) = options_via(&proxy, CLIENT_B);
    assert_eq!(other, 200, "client B has a limit of its own");
    let line = server
        .wait_log(&["per-address connection limit"], Duration::from_secs(10))
        .expect("refusal logged");
    assert!(line.contains("peer=127.0.0.5:"), "{line}");
}

/// The connection is closed without a reply.
fn assert_closed_silently(mut stream: TcpStream, what: &str) {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut buf = [0u8; 256];
    match stream.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Ok(n) => panic!(
            "{what}: got a reply: {:?}",
            String::from_utf8_lossy(&buf[..n])
        ),
        Err(e) => panic!("{what}: not closed: {e}"),
    }
}

#[test]
fn connections_without_a_header_or_from_untrusted_peers_are_refused() {
    let server = proxied_server(&[]);
    let options = format!(
        "OPTIONS {} RTSP/1.0\r\nCSeq: 1\r\n\r\n",
        server.url("movie.Mjpeg")
    );

    // The trusted proxy's address, but plain RTSP.
    let mut plain = connect_from(PROXY_IP, server.addr);
    // The server may close before the write lands; the write's outcome does not matter.
    let _ = plain.write_all(options.as_bytes());
    assert_closed_silently(plain, "no header");
    server
        .wait_log(
            &["refusing connection", "peer=127.0.0.2:"],
            Duration::from_secs(10),
        )
        .expect("refusal logged");

    // A well-formed header from a peer that is not a trusted proxy: it could name anyone.
    let mut spoofed = connect_from(CLIENT_A, server.addr);
    let header = format!(
        "PROXY TCP4 192.0.2.1 127.0.0.1 40000 {}\r\n",
        server.addr.port()
    );
    let _ = spoofed.write_all(format!("{header}{options}").as_bytes());
    assert_closed_silently(spoofed, "untrusted peer");
    server
        .wait_log(
            &["not a trusted proxy", "peer=127.0.0.5:"],
            Duration::from_secs(10),
        )
        .expect("refusal logged");

    // The same bytes from the trusted proxy are served, in one write with the header.
    let mut proxied = connect_from(PROXY_IP, server.addr);
    proxied
        .write_all(format!("{header}{options}").as_bytes())
        .unwrap();
    let mut c = Rtsp::from_stream(proxied);
    assert_eq!(c.read_reply().status, 200);
    // And a header that trickles in byte by byte.
    let trickled = connect_from(PROXY_IP, server.addr);
    let mut c = Rtsp::from_stream(trickled);
    for b in header.as_bytes() {
        c.send_raw(&[*b]);
        std::thread::sleep(Duration::from_millis(2));
    }
    c.send_raw(options.as_bytes());
    assert_eq!(c.read_reply().status, 200);
}
