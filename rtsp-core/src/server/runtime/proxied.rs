//! Connections from a balancer that speaks the PROXY protocol, held by the acceptor until their
//! header is in.
//!
//! The header is read with `peek` and then consumed to its exact length, so the client's first
//! request stays in the socket for the connection worker. Nothing blocks: each connection waits
//! in the acceptor's poll with a deadline, and one that sends no valid header in time (or
//! anything else first) is closed. Only then does the connection count against the limits, under
//! the client's address.

use std::collections::HashMap;
use std::io::{self, Read as _};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

use crate::proxy_protocol::{self, Parsed, Proxied, MAX_V1_LEN, MAX_V2_LEN};

/// How long a balancer may take to send the header (it sends it at once on connecting).
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether `ip` is one of the configured balancers.
pub fn trusted(trusted: &[ipnet::IpNet], ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    trusted.iter().any(|net| net.contains(&ip))
}

/// What became of a connection waiting for its header.
pub enum Outcome {
    /// Still waiting.
    Waiting,
    /// The header is consumed: hand the connection on with the client's address.
    Ready(std::net::TcpStream, SocketAddr),
    /// Closed: no valid header (the reason is logged by the caller).
    Refused(SocketAddr, String),
}

struct Pending {
    stream: TcpStream,
    peer: SocketAddr,
    deadline: Instant,
}

/// Connections waiting for their PROXY header, on tokens from `first_token` up.
pub struct PendingHeaders {
    conns: HashMap<Token, Pending>,
    first_token: usize,
    next_token: usize,
    capacity: usize,
}

impl PendingHeaders {
    /// At most `capacity` connections wait at once (beyond, new ones are closed).
    pub fn new(first_token: usize, capacity: usize) -> Self {
        Self {
            conns: HashMap::new(),
            first_token,
            next_token: first_token,
            capacity,
        }
    }

    /// Whether `token` is one of ours.
    pub fn owns(&self, token: Token) -> bool {
        token.0 >= self.first_token
    }

    /// Start waiting for `stream`'s header; false when full (the stream is dropped, closing it).
    pub fn add(
        &mut self,
        registry: &Registry,
        stream: std::net::TcpStream,
        peer: SocketAddr,
    ) -> bool {
        if self.conns.len() >= self.capacity || stream.set_nonblocking(true).is_err() {
            return false;
        }
        let mut stream = TcpStream::from_std(stream);
        let token = loop {
            let t = Token(self.next_token);
            self.next_token = self.next_token.checked_add(1).unwrap_or(self.first_token);
            if !self.conns.contains_key(&t) {
                break t;
            }
        };
        if registry
            .register(&mut stream, token, Interest::READABLE)
            .is_err()
        {
            return false;
        }
        let deadline = Instant::now() + HEADER_TIMEOUT;
        self.conns.insert(
            token,
            Pending {
                stream,
                peer,
                deadline,
            },
        );
        true
    }

    /// The connection on `token` became readable: look at what it sent.
    pub fn readable(&mut self, registry: &Registry, token: Token) -> Outcome {
        let Some(pending) = self.conns.get_mut(&token) else {
            return Outcome::Waiting;
        };
        let verdict = read_header(pending);
        if matches!(verdict, Verdict::Waiting) {
            return Outcome::Waiting;
        }
        let Some(mut pending) = self.conns.remove(&token) else {
            return Outcome::Waiting;
        };
        let _ = registry.deregister(&mut pending.stream);
        match verdict {
            Verdict::Waiting => Outcome::Waiting,
            Verdict::Client(client) => {
                let client = client.unwrap_or(pending.peer);
                let stream: std::net::TcpStream = pending.stream.into();
                match stream.set_nonblocking(false) {
                    Ok(()) => Outcome::Ready(stream, client),
                    Err(e) => Outcome::Refused(pending.peer, e.to_string()),
                }
            }
            Verdict::Refused(why) => Outcome::Refused(pending.peer, why),
        }
    }

    /// Close the connections whose header is overdue; returns their peers.
    pub fn expire(&mut self, registry: &Registry, now: Instant) -> Vec<SocketAddr> {
        let overdue: Vec<Token> = self
            .conns
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(t, _)| *t)
            .collect();
        overdue
            .into_iter()
            .filter_map(|t| self.conns.remove(&t))
            .map(|mut p| {
                let _ = registry.deregister(&mut p.stream);
                p.peer
            })
            .collect()
    }

    /// How long the acceptor may sleep before the next deadline.
    pub fn timeout(&self, now: Instant) -> Option<Duration> {
        self.conns
            .values()
            .map(|p| p.deadline.saturating_duration_since(now))
            .min()
    }
}

enum Verdict {
    Waiting,
    /// The header is consumed; the client's address, or `None` for the connection's own.
    Client(Option<SocketAddr>),
    Refused(String),
}

fn read_header(pending: &mut Pending) -> Verdict {
    let mut buf = [0u8; MAX_V2_LEN];
    let n = match pending.stream.peek(&mut buf) {
        Ok(0) => return Verdict::Refused("closed before the PROXY header".into()),
        Ok(n) => n,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) =>
        {
            return Verdict::Waiting
        }
        Err(e) => return Verdict::Refused(e.to_string()),
    };
    let seen = buf.get(..n).unwrap_or_default();
    match proxy_protocol::parse(seen) {
        Ok(Parsed::Incomplete) if n < MAX_V2_LEN.max(MAX_V1_LEN) => Verdict::Waiting,
        Ok(Parsed::Incomplete) => Verdict::Refused("PROXY header too long".into()),
        Ok(Parsed::Complete { proxied, len }) => {
            let mut header = vec![0u8; len];
            if let Err(e) = pending.stream.read_exact(&mut header) {
                return Verdict::Refused(e.to_string());
            }
            Verdict::Client(match proxied {
                Proxied::Header { source, .. } => Some(source),
                Proxied::Local => None,
            })
        }
        Err(e) => Verdict::Refused(e.to_string()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn trust_is_by_block_and_sees_through_ipv4_mapped_addresses() {
        let nets: Vec<ipnet::IpNet> = ["10.1.0.0/16", "2001:db8::1/128"]
            .iter()
            .map(|n| n.parse().unwrap())
            .collect();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(trusted(&nets, ip("10.1.200.3")));
        assert!(trusted(&nets, ip("::ffff:10.1.0.1")));
        assert!(trusted(&nets, ip("2001:db8::1")));
        assert!(!trusted(&nets, ip("10.2.0.1")));
        assert!(!trusted(&nets, ip("2001:db8::2")));
        assert!(!trusted(&[], ip("127.0.0.1")));
    }
}
