//! The protocol log's wiretap: a transparent TCP relay between the engine and the server that
//! records every RTSP request and reply as it crosses.
//!
//! The engine keeps its wire traffic to itself, so the player puts this relay in the path: the
//! engine connects to a local port, the relay connects to the real server and copies bytes both
//! ways, splitting them into messages for the log. It is transparent:
//! - it listens on the local address that routes to the server, so the engine binds its RTP
//!   socket where the server will send (the server sends RTP to its RTSP peer's address, which is
//!   this machine either way), and it only accepts connections from this machine;
//! - standard-dialect requests get the server's own `rtsp://host:port` back in place of the
//!   relay's, so the server sees (and the log shows) exactly what a direct client sends;
//! - lab messages are forwarded one read per write, because the lab server reads each request
//!   with a single `recv()` and ends lab replies where a read ends.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rtsp_core::client::ClientError;

use crate::target::StreamTarget;

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A request from the player.
    ToServer,
    /// A reply (or request) from the server.
    FromServer,
}

/// One RTSP message as it crossed the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireMessage {
    /// Which way it went.
    pub direction: Direction,
    /// When, from the start of the wiretap.
    pub at: Duration,
    /// The text, lossily decoded, with `\r\n` shown as `\n` and long bodies cut.
    pub text: String,
}

impl WireMessage {
    /// The first line (request line or status line).
    pub fn first_line(&self) -> &str {
        self.text.lines().next().unwrap_or("")
    }
}

/// Where messages go (called on the relay's threads).
pub type Sink = Arc<dyn Fn(WireMessage) + Send + Sync>;

/// Longest text kept per logged message.
const MAX_LOGGED: usize = 8 * 1024;
/// Longest header block the splitter waits for before giving up on finding its end.
const MAX_HEADER: usize = 64 * 1024;
/// Longest body the splitter waits for.
const MAX_BODY: usize = 1024 * 1024;
/// How long connecting to the server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the acceptor looks at the stop flag.
const ACCEPT_POLL: Duration = Duration::from_millis(20);

/// A piece of the byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// An RTSP message (header block and body).
    Message(Vec<u8>),
    /// An interleaved `$` frame (RTP/RTCP on the RTSP connection).
    Interleaved(Vec<u8>),
}

/// Splits a standard-dialect byte stream into messages and interleaved frames, with bounded
/// buffering whatever the peer sends.
#[derive(Debug, Default)]
pub struct Splitter {
    buf: Vec<u8>,
}

impl Splitter {
    /// Feeds bytes; complete pieces are appended to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Piece>) {
        self.buf.extend_from_slice(bytes);
        while let Some(piece) = self.next_piece() {
            out.push(piece);
        }
    }

    /// Whatever is buffered, as one message (the connection ended).
    pub fn flush(&mut self) -> Option<Piece> {
        (!self.buf.is_empty()).then(|| Piece::Message(std::mem::take(&mut self.buf)))
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.buf.len());
        let rest = self.buf.split_off(n);
        std::mem::replace(&mut self.buf, rest)
    }

    fn next_piece(&mut self) -> Option<Piece> {
        let first = *self.buf.first()?;
        if first == b'$' {
            let len = self.buf.get(2..4)?;
            let len = usize::from(u16::from_be_bytes([*len.first()?, *len.get(1)?]));
            if self.buf.len() < 4 + len {
                return None;
            }
            return Some(Piece::Interleaved(self.take(4 + len)));
        }
        let Some(end) = header_end(&self.buf) else {
            if self.buf.len() > MAX_HEADER {
                let all = self.buf.len();
                return Some(Piece::Message(self.take(all)));
            }
            return None;
        };
        let body = content_length(self.buf.get(..end).unwrap_or_default()).min(MAX_BODY);
        if self.buf.len() < end + body {
            return None;
        }
        Some(Piece::Message(self.take(end + body)))
    }
}

/// Index just past the blank line that ends a header block (`\r\n\r\n` or a bare `\n\n`).
fn header_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The `Content-Length` of a header block (0 if absent or unreadable).
fn content_length(header: &[u8]) -> usize {
    String::from_utf8_lossy(header)
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())
                .flatten()
        })
        .unwrap_or(0)
}

/// Replaces every `from` with `to` in the header block of `message` (the body is left alone,
/// so its `Content-Length` stays right).
pub fn rewrite_header(message: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let end = header_end(message).unwrap_or(message.len());
    let (header, body) = message.split_at(end.min(message.len()));
    let mut out = Vec::with_capacity(message.len() + to.len());
    let mut i = 0;
    while i < header.len() {
        if !from.is_empty() && header.get(i..i + from.len()) == Some(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.extend(header.get(i));
            i += 1;
        }
    }
    out.extend_from_slice(body);
    out
}

/// The text shown in the log for raw message bytes.
pub fn display_text(bytes: &[u8]) -> String {
    let cut = bytes.len() > MAX_LOGGED;
    let shown = bytes.get(..MAX_LOGGED.min(bytes.len())).unwrap_or_default();
    let mut text = String::from_utf8_lossy(shown).replace("\r\n", "\n");
    while text.ends_with('\n') {
        text.pop();
    }
    if cut {
        text.push_str(&format!("\n… ({} more bytes)", bytes.len() - MAX_LOGGED));
    }
    text
}

/// The running relay. Dropping it stops accepting and closes the relayed connections.
pub struct Wiretap {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    acceptor: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Wiretap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wiretap")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// What every relayed connection needs.
#[derive(Clone)]
struct Route {
    server: Vec<SocketAddr>,
    server_label: String,
    lab: bool,
    /// Relay authority to replace, and the server's authority to put in its place.
    rewrite: Option<(Vec<u8>, Vec<u8>)>,
    sink: Sink,
    started: Instant,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Wiretap {
    /// Connects to the server of `target` (so an unreachable server fails here, with the same
    /// error the engine would give) and starts relaying. Returns the relay and the target to give
    /// the engine instead of `target`.
    pub fn start(target: &StreamTarget, sink: Sink) -> Result<(Self, StreamTarget), ClientError> {
        let (host, port) = target.server();
        let label = target.server_label();
        let server: Vec<SocketAddr> = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| ClientError::Io(format!("cannot resolve {host}: {e}")))?
            .collect();
        let first = connect_any(&server, &label)?;
        let local = first
            .local_addr()
            .map_err(|e| ClientError::Io(e.to_string()))?
            .ip();
        let listener = TcpListener::bind(SocketAddr::new(local, 0))
            .map_err(|e| ClientError::Io(format!("cannot open the protocol log relay: {e}")))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| ClientError::Io(e.to_string()))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ClientError::Io(e.to_string()))?;
        let (relayed, rewrite) = target.through_relay(&local.to_string(), addr.port());
        let stop = Arc::new(AtomicBool::new(false));
        let open = Arc::new(Mutex::new(Vec::new()));
        let route = Route {
            server,
            server_label: label,
            lab: target.is_lab(),
            rewrite: rewrite.map(|(from, to)| (from.into_bytes(), to.into_bytes())),
            sink,
            started: Instant::now(),
            open: Arc::clone(&open),
        };
        let stop_flag = Arc::clone(&stop);
        let acceptor = thread::Builder::new()
            .name("wiretap-accept".into())
            .spawn(move || accept_loop(listener, local, Some(first), route, &stop_flag))
            .map_err(|e| ClientError::Io(format!("cannot start the relay: {e}")))?;
        Ok((
            Self {
                addr,
                stop,
                open,
                acceptor: Some(acceptor),
            },
            relayed,
        ))
    }

    /// Where the relay listens.
    #[cfg(test)]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Wiretap {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Ok(open) = self.open.lock() {
            for s in open.iter() {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
        if let Some(h) = self.acceptor.take() {
            let _ = h.join();
        }
    }
}

fn connect_any(addrs: &[SocketAddr], label: &str) -> Result<TcpStream, ClientError> {
    let mut last = ClientError::Io(format!("{label}: no address"));
    for addr in addrs {
        match TcpStream::connect_timeout(addr, CONNECT_TIMEOUT) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                last = ClientError::ConnectionRefused(label.to_owned());
            }
            Err(e) => last = ClientError::Io(format!("{label}: {e}")),
        }
    }
    Err(last)
}

fn accept_loop(
    listener: TcpListener,
    local: IpAddr,
    mut first: Option<TcpStream>,
    route: Route,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, peer)) => {
                // Only this machine may use the relay (it may listen on a LAN address).
                if peer.ip() != local && !peer.ip().is_loopback() {
                    continue;
                }
                let _ = client.set_nonblocking(false);
                let _ = client.set_nodelay(true);
                let server = match first.take() {
                    Some(s) => s,
                    None => match connect_any(&route.server, &route.server_label) {
                        Ok(s) => s,
                        // Closing the engine's connection makes it report the failure.
                        Err(_) => continue,
                    },
                };
                relay(client, server, route.clone());
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => thread::sleep(ACCEPT_POLL),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => thread::sleep(ACCEPT_POLL),
        }
    }
}

/// Starts the two copying threads of one relayed connection.
fn relay(client: TcpStream, server: TcpStream, route: Route) {
    let clones = (
        client.try_clone(),
        server.try_clone(),
        client.try_clone(),
        server.try_clone(),
    );
    let (Ok(client_r), Ok(server_w), Ok(client_w), Ok(server_r)) = clones else {
        let _ = client.shutdown(Shutdown::Both);
        let _ = server.shutdown(Shutdown::Both);
        return;
    };
    if let Ok(mut open) = route.open.lock() {
        // Forget sockets of finished connections so the list stays small.
        open.retain(|s| s.peer_addr().is_ok());
        open.push(client);
        open.push(server);
    }
    let up = route.clone();
    let _ = thread::Builder::new()
        .name("wiretap-up".into())
        .spawn(move || pump(client_r, server_w, Direction::ToServer, &up));
    let _ = thread::Builder::new()
        .name("wiretap-down".into())
        .spawn(move || pump(server_r, client_w, Direction::FromServer, &route));
}

/// Copies one direction until either side closes, logging messages on the way.
fn pump(mut from: TcpStream, mut to: TcpStream, direction: Direction, route: &Route) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut splitter = Splitter::default();
    let mut pieces = Vec::new();
    let log = |bytes: &[u8]| {
        (route.sink)(WireMessage {
            direction,
            at: route.started.elapsed(),
            text: display_text(bytes),
        });
    };
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let chunk = buf.get(..n).unwrap_or_default();
        if route.lab {
            // One read is one lab message, and must stay one write.
            log(chunk);
            if to.write_all(chunk).is_err() {
                break;
            }
            continue;
        }
        let rewrite = match (&route.rewrite, direction) {
            (Some(r), Direction::ToServer) => Some(r),
            _ => None,
        };
        if rewrite.is_none() {
            // Forward at once (media may be interleaved here); the splitter only feeds the log.
            if to.write_all(chunk).is_err() {
                break;
            }
        }
        splitter.push(chunk, &mut pieces);
        let mut failed = false;
        for piece in pieces.drain(..) {
            match piece {
                Piece::Message(bytes) => match rewrite {
                    Some((from_authority, to_authority)) => {
                        let bytes = rewrite_header(&bytes, from_authority, to_authority);
                        log(&bytes);
                        failed |= to.write_all(&bytes).is_err();
                    }
                    None => log(&bytes),
                },
                Piece::Interleaved(bytes) => {
                    if rewrite.is_some() {
                        failed |= to.write_all(&bytes).is_err();
                    }
                }
            }
        }
        if failed {
            break;
        }
    }
    if let Some(Piece::Message(rest)) = splitter.flush() {
        if route.rewrite.is_some() && direction == Direction::ToServer {
            let _ = to.write_all(&rest);
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn split(chunks: &[&[u8]]) -> Vec<Piece> {
        let mut s = Splitter::default();
        let mut out = Vec::new();
        for c in chunks {
            s.push(c, &mut out);
        }
        out
    }

    #[test]
    fn splits_messages_bodies_and_interleaved_frames() {
        let reply = b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 5\r\n\r\nv=0\r\n";
        let frame = [b'$', 0, 0, 3, 1, 2, 3];
        let mut all = reply.to_vec();
        all.extend_from_slice(&frame);
        all.extend_from_slice(b"RTSP/1.0 200 OK\r\nCSeq: 3\r\n\r\n");
        // Byte by byte: pieces come out whole however the stream is cut.
        let chunks: Vec<&[u8]> = all.chunks(1).collect();
        let pieces = split(&chunks);
        assert_eq!(
            pieces,
            vec![
                Piece::Message(reply.to_vec()),
                Piece::Interleaved(frame.to_vec()),
                Piece::Message(b"RTSP/1.0 200 OK\r\nCSeq: 3\r\n\r\n".to_vec()),
            ]
        );
    }

    #[test]
    fn buffering_is_bounded() {
        let junk = vec![b'a'; MAX_HEADER + 10];
        let pieces = split(&[&junk]);
        assert_eq!(pieces.len(), 1);
        // An absurd Content-Length is capped instead of waited for forever.
        let mut s = Splitter::default();
        let mut out = Vec::new();
        s.push(
            b"RTSP/1.0 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
            &mut out,
        );
        s.push(&vec![b'x'; MAX_BODY], &mut out);
        assert_eq!(out.len(), 1);
        assert!(s.flush().is_none());
    }

    #[test]
    fn rewrite_touches_only_the_header() {
        let msg = b"SETUP rtsp://127.0.0.1:4000/m/track1 RTSP/1.0\r\nCSeq: 3\r\n\r\nrtsp://127.0.0.1:4000";
        let out = rewrite_header(msg, b"rtsp://127.0.0.1:4000", b"rtsp://server:8554");
        assert_eq!(
            out,
            b"SETUP rtsp://server:8554/m/track1 RTSP/1.0\r\nCSeq: 3\r\n\r\nrtsp://127.0.0.1:4000"
        );
    }

    #[test]
    fn display_text_is_tidy() {
        assert_eq!(
            display_text(b"PLAY movie.Mjpeg RTSP/1.0\r\nCSeq: 2\r\n\r\n"),
            "PLAY movie.Mjpeg RTSP/1.0\nCSeq: 2"
        );
        let long = vec![b'a'; MAX_LOGGED + 3];
        assert!(display_text(&long).ends_with("… (3 more bytes)"));
        let msg = WireMessage {
            direction: Direction::ToServer,
            at: Duration::ZERO,
            text: "SETUP x RTSP/1.0\nCSeq: 1".into(),
        };
        assert_eq!(msg.first_line(), "SETUP x RTSP/1.0");
    }

    /// A fake lab server on a real socket: the relay forwards each request in one piece, logs
    /// both directions, and reports an unreachable server the way the engine does.
    #[test]
    fn relays_and_logs_a_lab_exchange() {
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let server_thread = thread::spawn(move || {
            let (mut conn, _) = server.accept().unwrap();
            let mut buf = [0u8; 256];
            let n = conn.read(&mut buf).unwrap();
            assert_eq!(
                &buf[..n],
                b"SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 25000"
            );
            conn.write_all(b"RTSP/1.0 200 OK\nCSeq: 1\nSession: 123456")
                .unwrap();
        });
        let target =
            StreamTarget::lab("127.0.0.1", &port.to_string(), "25000", "movie.Mjpeg").unwrap();
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let sink: Sink = Arc::new(move |m| {
            let _ = tx.lock().unwrap().send(m);
        });
        let (tap, relayed) = Wiretap::start(&target, sink).unwrap();
        assert_eq!(relayed.server().1, tap.local_addr().port());
        let mut engine = TcpStream::connect(tap.local_addr()).unwrap();
        engine
            .write_all(
                b"SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 25000",
            )
            .unwrap();
        let mut reply = [0u8; 256];
        let n = engine.read(&mut reply).unwrap();
        assert_eq!(&reply[..n], b"RTSP/1.0 200 OK\nCSeq: 1\nSession: 123456");
        server_thread.join().unwrap();
        let first = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        let second = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(first.direction, Direction::ToServer);
        assert_eq!(first.first_line(), "SETUP movie.Mjpeg RTSP/1.0");
        assert_eq!(second.direction, Direction::FromServer);
        assert_eq!(second.text, "RTSP/1.0 200 OK\nCSeq: 1\nSession: 123456");
        drop(tap);

        // Nothing listens on the port any more.
        let dead = StreamTarget::url(&format!("rtsp://127.0.0.1:{port}/x")).unwrap();
        let err = Wiretap::start(&dead, Arc::new(|_| {})).unwrap_err();
        assert_eq!(
            err,
            ClientError::ConnectionRefused(format!("127.0.0.1:{port}"))
        );
    }

    /// The standard dialect: the relay's authority is replaced by the server's in requests.
    #[test]
    fn standard_requests_carry_the_servers_address() {
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let expected =
            format!("OPTIONS rtsp://127.0.0.1:{port}/movie.Mjpeg RTSP/1.0\r\nCSeq: 1\r\n\r\n");
        let server_thread = thread::spawn(move || {
            let (mut conn, _) = server.accept().unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 512];
            while !got.ends_with(b"\r\n\r\n") {
                let n = conn.read(&mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            conn.write_all(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n")
                .unwrap();
            String::from_utf8(got).unwrap()
        });
        let target = StreamTarget::url(&format!("rtsp://127.0.0.1:{port}/movie.Mjpeg")).unwrap();
        let (tap, relayed) = Wiretap::start(&target, Arc::new(|_| {})).unwrap();
        let mut engine = TcpStream::connect(tap.local_addr()).unwrap();
        let request = format!("OPTIONS {} RTSP/1.0\r\nCSeq: 1\r\n\r\n", relayed.to_entry());
        assert_ne!(request, expected, "the engine talks to the relay");
        // Sent in two pieces, cut inside the URL.
        let (a, b) = request.as_bytes().split_at(12);
        engine.write_all(a).unwrap();
        thread::sleep(Duration::from_millis(20));
        engine.write_all(b).unwrap();
        assert_eq!(server_thread.join().unwrap(), expected);
        let mut reply = [0u8; 64];
        let n = engine.read(&mut reply).unwrap();
        assert_eq!(&reply[..n], b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n");
    }
}
