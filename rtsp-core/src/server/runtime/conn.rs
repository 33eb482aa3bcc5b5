//! One RTSP connection: inbound framing, dialect, outbound queue.
//!
//! Dialect detection is per connection and costs standard clients nothing: the core parser
//! completes a message at its blank line as soon as the bytes are in, and only a bare-LF message
//! without one is completed at the end of the read. A request completed that way, naming a
//! bare file or using `RTSP/1.4` is lab-flavoured; the first one marks the connection as a lab
//! connection, and replies are then written in the lab shape, errors included.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::Instant;

use crate::rtsp::{
    Dialect, LabReply, Message, MessageParser, ParseError, Request, Response, StatusCode,
};
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

use crate::server::runtime::shared::session::{Delivery, LiveSession, SessionId};
use crate::server::runtime::shared::ConnLink;
use crate::server::runtime::shared::Ctx;
use std::sync::Arc;

/// What the connection's input yields next.
#[derive(Debug)]
pub enum Inbound {
    /// Nothing complete.
    None,
    /// A request.
    Request(Box<Request>),
    /// A `$` frame from the client (RTCP receiver reports on odd channels).
    Interleaved {
        /// Channel.
        channel: u8,
        /// Packet.
        payload: Vec<u8>,
    },
    /// The stream cannot be framed any more: send this reply and close.
    Malformed(Vec<u8>),
}

/// Connection state owned by its worker.
pub struct ConnState {
    /// The socket.
    pub stream: TcpStream,
    /// The client.
    pub peer: SocketAddr,
    /// Our address on this connection (for Content-Base and server ports).
    pub local: Option<SocketAddr>,
    /// How to reach this connection from other threads.
    pub link: ConnLink,
    parser: MessageParser,
    out: VecDeque<Vec<u8>>,
    /// Bytes of the front buffer already written.
    out_pos: usize,
    out_len: usize,
    writable_interest: bool,
    /// Lab or standard, once known.
    pub dialect: Option<Dialect>,
    /// Sessions set up on this connection.
    pub sessions: Vec<SessionId>,
    /// Last time the peer sent anything.
    pub last_activity: Instant,
    /// Close once the outbound queue is empty.
    pub close_after_flush: bool,
    /// An error reply was queued; ignore further input.
    pub refused: bool,
    /// Since when a request has been partially received (`None` when none is pending). A peer
    /// that trickles a request byte by byte keeps `last_activity` fresh, so this is what bounds
    /// how long it can hold a connection slot.
    pub partial_since: Option<Instant>,
    /// The user the last authenticated request came from.
    pub user: Option<String>,
    /// A request waiting for its media to load; nothing more is read from the connection
    /// until it is answered, so replies keep the order of requests.
    pub parked: Option<Box<crate::rtsp::Request>>,
}

impl ConnState {
    /// A new connection.
    pub fn new(
        stream: TcpStream,
        peer: SocketAddr,
        local: Option<SocketAddr>,
        link: ConnLink,
    ) -> Self {
        Self {
            stream,
            peer,
            local,
            link,
            parser: MessageParser::new(),
            out: VecDeque::new(),
            out_pos: 0,
            out_len: 0,
            writable_interest: false,
            dialect: None,
            sessions: Vec::new(),
            last_activity: Instant::now(),
            close_after_flush: false,
            refused: false,
            partial_since: None,
            user: None,
            parked: None,
        }
    }

    /// Feed bytes read from the socket. Errors (buffer limits) are reported by
    /// [`ConnState::next_inbound`]; the result only says whether to keep reading.
    pub fn take_input(&mut self, data: &[u8]) -> Result<(), ParseError> {
        self.parser.push(data)
    }

    /// Note whether a partial request is pending after the input was drained.
    pub fn track_partial(&mut self, now: Instant) {
        if self.parser.is_idle() {
            self.partial_since = None;
        } else if self.partial_since.is_none() {
            self.partial_since = Some(now);
        }
    }

    /// Has a request been arriving for longer than `limit`?
    pub fn partial_overdue(&self, limit: std::time::Duration) -> bool {
        self.partial_since.is_some_and(|t| t.elapsed() > limit)
    }

    /// The parser overflowed: queue the error reply.
    pub fn refuse_oversized(&mut self) {
        if let Inbound::Malformed(reply) = self.next_inbound() {
            self.queue(reply);
        }
        self.refused = true;
    }

    /// The next complete inbound item. Call after a read has drained the socket.
    pub fn next_inbound(&mut self) -> Inbound {
        self.parser.end_of_read();
        match self.parser.next() {
            Ok(None) => Inbound::None,
            Ok(Some(Message::Request(req))) => {
                let dialect = req.dialect();
                if self.dialect.is_none() || dialect == Dialect::Lab {
                    self.dialect = Some(dialect);
                }
                Inbound::Request(Box::new(req))
            }
            Ok(Some(Message::Interleaved(frame))) => Inbound::Interleaved {
                channel: frame.channel(),
                payload: frame.into_payload(),
            },
            // A client has no business sending responses to a server; RFC 2326 lets the
            // server ignore them (we never send requests).
            Ok(Some(Message::Response(_))) => Inbound::None,
            Err(e) => {
                self.refused = true;
                let ctx = self.parser.error_context().unwrap_or_default();
                let dialect = self.dialect.unwrap_or(ctx.dialect);
                tracing::info!(peer = %self.peer, error = %e, "malformed request");
                let status = e.status();
                let bytes = match dialect {
                    Dialect::Lab => LabReply::new(status, ctx.cseq.unwrap_or(0), 0).to_bytes(),
                    Dialect::Standard => {
                        let mut r = Response::new(status);
                        if let Some(cseq) = ctx.cseq {
                            if let Ok(with) = r.clone().with_header("CSeq", cseq) {
                                r = with;
                            }
                        }
                        if let Ok(with) = r.clone().with_header("Connection", "close") {
                            r = with;
                        }
                        r.to_bytes(Dialect::Standard)
                    }
                };
                Inbound::Malformed(bytes)
            }
        }
    }

    /// Queue bytes (a whole reply or whole `$` frames).
    pub fn queue(&mut self, data: Vec<u8>) {
        if data.is_empty() {
            return;
        }
        self.out_len += data.len();
        self.out.push_back(data);
    }

    /// Bytes waiting to be written.
    pub fn outbound_len(&self) -> usize {
        self.out_len
    }

    /// Write as much as the socket takes; ask for WRITABLE events while anything remains.
    pub fn flush(&mut self, registry: &Registry) -> io::Result<()> {
        while let Some(front) = self.out.front() {
            let rest = front.get(self.out_pos..).unwrap_or(&[]);
            if rest.is_empty() {
                self.out.pop_front();
                self.out_pos = 0;
                continue;
            }
            match self.stream.write(rest) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.out_pos += n;
                    self.out_len = self.out_len.saturating_sub(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        let want = !self.out.is_empty();
        if want != self.writable_interest {
            let interest = if want {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            registry.reregister(&mut self.stream, Token(self.link.conn), interest)?;
            self.writable_interest = want;
        }
        Ok(())
    }

    /// The lab session set up on this connection, if it still exists: a lab connection owns
    /// at most one, and lab requests on it apply to it.
    pub fn lab_session(&self, ctx: &Ctx) -> Option<SessionId> {
        self.sessions.iter().copied().find(|id| {
            ctx.registry
                .get(*id)
                .is_some_and(|s| s.dialect == Dialect::Lab)
        })
    }

    /// Does any session set up on this connection still exist?
    pub fn has_live_session(&self, ctx: &Ctx) -> bool {
        self.sessions
            .iter()
            .any(|id| ctx.registry.get(*id).is_some())
    }

    /// The session whose interleaved channels on this connection include `channel`.
    pub fn session_on_channel(&self, ctx: &Ctx, channel: u8) -> Option<Arc<LiveSession>> {
        self.sessions.iter().find_map(|id| {
            let s = ctx.registry.get(*id)?;
            let hit = match &*s.delivery.read() {
                Some(Delivery::Interleaved { link, rtp_channel }) => {
                    link.conn == self.link.conn
                        && (channel == *rtp_channel || Some(channel) == rtp_channel.checked_add(1))
                }
                _ => false,
            };
            hit.then(|| Arc::clone(&s))
        })
    }
}

/// A status code as the core writer's type.
pub fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
