//! Recorded RTSP transcripts: what a real client said to the server and what the server
//! answered, kept as text under `tests/data/transcripts/` and replayed against the server in
//! plain `cargo test`, so that a change of behaviour shows as a diff of a reply.
//!
//! A transcript is a sequence of blocks, a request (`>>> C`) followed by its reply (`<<< S`),
//! each the message's text with CRLF line ends written as plain lines. Fields that change from
//! run to run (session ids, ports, dates, SSRCs, sequence numbers, RTP timestamps, SDP origin
//! ids, lengths, the server's version) are replaced by `${NAME}` markers when recording, and the live replies are
//! normalised the same way before they are compared.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rtsp_core::server::runtime::{Config, Server};

/// One request and the reply it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub request: String,
    pub reply: String,
}

const REQUEST: &str = ">>> C";
const REPLY: &str = "<<< S";

/// The transcript's text form.
pub fn render(exchanges: &[Exchange]) -> String {
    let mut out = String::new();
    for e in exchanges {
        for (tag, msg) in [(REQUEST, &e.request), (REPLY, &e.reply)] {
            out.push_str(tag);
            out.push('\n');
            out.push_str(&msg.replace("\r\n", "\n"));
            if !msg.ends_with("\r\n") {
                out.push('\n');
            }
        }
    }
    out
}

/// Parses what [`render`] wrote.
pub fn parse(text: &str) -> Vec<Exchange> {
    let mut blocks: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line == REQUEST || line == REPLY {
            blocks.push((line.to_owned(), String::new()));
        } else if let Some((_, body)) = blocks.last_mut() {
            body.push_str(line);
            body.push_str("\r\n");
        }
    }
    blocks
        .chunks(2)
        .map(|pair| {
            assert!(
                pair.len() == 2 && pair[0].0 == REQUEST && pair[1].0 == REPLY,
                "a request block followed by a reply block"
            );
            Exchange {
                request: pair[0].1.clone(),
                reply: pair[1].1.clone(),
            }
        })
        .collect()
}

/// Takes the next whole RTSP message (head and body) off the front of `buf`, dropping the
/// interleaved `$` frames before it. `None` until a whole message is there.
pub fn take_message(buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if buf.first() == Some(&b'$') {
            if buf.len() < 4 {
                return None;
            }
            let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
            if buf.len() < 4 + len {
                return None;
            }
            buf.drain(..4 + len);
            continue;
        }
        let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.trim()
                    .eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        if buf.len() < end + len {
            return None;
        }
        let body = String::from_utf8_lossy(&buf[end..end + len]).into_owned();
        buf.drain(..end + len);
        return Some(head + &body);
    }
}

/// Every whole message in `bytes`.
pub fn messages(mut bytes: Vec<u8>) -> Vec<String> {
    std::iter::from_fn(|| take_message(&mut bytes)).collect()
}

/// Replaces the volatile fields of `msg` by markers. `port` is the server's RTSP port as the
/// client addressed it.
pub fn normalise(msg: &str, port: u16) -> String {
    let msg = msg.replace(&format!(":{port}/"), ":${PORT}/");
    let msg = msg.replace(&format!(":{port}\r\n"), ":${PORT}\r\n");
    let (head, body) = msg.split_once("\r\n\r\n").unwrap_or((&msg, ""));
    let mut lines = head.split("\r\n");
    // The request or status line, then the headers.
    let mut out = format!("{}\r\n", lines.next().unwrap_or(""));
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            out.push_str(line);
            out.push_str("\r\n");
            continue;
        };
        let value = value.trim();
        let value = match name.to_ascii_lowercase().as_str() {
            "date" | "expires" | "last-modified" => "${DATE}".to_owned(),
            "content-length" => "${LEN}".to_owned(),
            // The version changes with every release, not with behaviour.
            "server" => match value.split_once('/') {
                Some((product, _)) => format!("{product}/${{VERSION}}"),
                None => value.to_owned(),
            },
            "session" => match value.split_once(';') {
                Some((_, rest)) => format!("${{SESSION}};{rest}"),
                None => "${SESSION}".to_owned(),
            },
            "transport" => params(value, &["server_port", "ssrc"]),
            "rtp-info" => params(value, &["seq", "rtptime"]),
            _ => value.to_owned(),
        };
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    for line in body.split_inclusive("\r\n") {
        if line.starts_with("o=") {
            out.push_str("o=${ORIGIN}\r\n");
        } else {
            out.push_str(line);
        }
    }
    out
}

/// `a=1;b=2` with the values of `names` replaced by `${NAME}`.
fn params(value: &str, names: &[&str]) -> String {
    value
        .split(',')
        .map(|part| {
            part.split(';')
                .map(|p| match p.split_once('=') {
                    Some((n, _)) if names.contains(&n.trim()) => {
                        format!("{n}=${{{}}}", n.trim().to_ascii_uppercase())
                    }
                    _ => p.to_owned(),
                })
                .collect::<Vec<_>>()
                .join(";")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The server the transcripts are recorded and replayed against: the project's server run in
/// this process on 127.0.0.1 (any port) with the repository's sample media.
pub fn server() -> Server {
    let mut config = Config::new(([127, 0, 0, 1], 0).into(), super::media_dir());
    config.session_timeout = Duration::from_secs(60);
    Server::start(config).expect("start the in-process server")
}

/// What one connection carried: client to server, server to client.
type Captured = (Arc<Mutex<Vec<u8>>>, Arc<Mutex<Vec<u8>>>);

/// A TCP relay on 127.0.0.1 in front of `to` that keeps what each connection carried both
/// ways, for recording.
pub struct Tap {
    pub port: u16,
    conns: Arc<Mutex<Vec<Captured>>>,
}

impl Tap {
    pub fn start(to: SocketAddr) -> Tap {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the tap");
        let port = listener.local_addr().expect("tap address").port();
        let conns = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&conns);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(to) else {
                    continue;
                };
                let (up, down) = (
                    Arc::new(Mutex::new(Vec::new())),
                    Arc::new(Mutex::new(Vec::new())),
                );
                kept.lock()
                    .unwrap()
                    .push((Arc::clone(&up), Arc::clone(&down)));
                copy(client.try_clone().unwrap(), server.try_clone().unwrap(), up);
                copy(server, client, down);
            }
        });
        Tap { port, conns }
    }

    /// The exchanges of every connection so far, in the order the connections were made,
    /// normalised.
    pub fn exchanges(&self) -> Vec<Exchange> {
        let mut out = Vec::new();
        for (up, down) in self.conns.lock().unwrap().iter() {
            let requests = messages(up.lock().unwrap().clone());
            let replies = messages(down.lock().unwrap().clone());
            out.extend(requests.iter().zip(&replies).map(|(q, r)| Exchange {
                request: normalise(q, self.port),
                reply: normalise(r, self.port),
            }));
        }
        out
    }
}

fn copy(mut from: TcpStream, mut to: TcpStream, keep: Arc<Mutex<Vec<u8>>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    keep.lock().unwrap().extend_from_slice(&buf[..n]);
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Write);
    });
}

/// Sends each recorded request (markers filled in with the live port and session) to a fresh
/// server over one connection and returns the exchanges with the live replies, normalised.
pub fn replay(recorded: &[Exchange]) -> Vec<Exchange> {
    let server = server();
    let port = server.local_addr().port();
    let mut stream = TcpStream::connect(server.local_addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut session = String::new();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for e in recorded {
        let request = e
            .request
            .replace("${PORT}", &port.to_string())
            .replace("${SESSION}", &session)
            .replace("${DATE}", "Thu, 01 Jan 2026 00:00:00 GMT");
        let body = request.split_once("\r\n\r\n").map_or(0, |(_, b)| b.len());
        let request = request.replace("${LEN}", &body.to_string());
        stream
            .write_all(request.as_bytes())
            .expect("send a request");
        let reply = loop {
            if let Some(m) = take_message(&mut buf) {
                break m;
            }
            let mut chunk = [0u8; 65536];
            let n = stream.read(&mut chunk).expect("read a reply");
            assert!(n > 0, "the server closed the connection");
            buf.extend_from_slice(&chunk[..n]);
        };
        if let Some(id) = reply.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("session")
                .then(|| v.split(';').next().unwrap_or("").trim().to_owned())
        }) {
            session = id;
        }
        out.push(Exchange {
            request: e.request.clone(),
            reply: normalise(&reply, port),
        });
    }
    drop(stream);
    server.shutdown();
    out
}
