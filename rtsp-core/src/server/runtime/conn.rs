//! One RTSP connection: inbound framing, dialect, outbound queue.
//!
//! The outbound queue holds whole units (a reply, a `$`-framed RTCP packet, a whole RTP frame)
//! written in order with vectored writes, so a `$` frame is never torn by a reply: a unit
//! partly written is finished before the next one starts. A frame unit is the media's shared
//! RTP-JPEG payloads plus this session's own `$` and RTP headers, never a copy of the frame.
//!
//! Dialect detection is per connection and costs standard clients nothing: the core parser
//! completes a message at its blank line as soon as the bytes are in, and only a bare-LF message
//! without one is completed at the end of the read. A request completed that way, naming a
//! bare file or using `RTSP/1.4` is lab-flavoured; the first one marks the connection as a lab
//! connection, and replies are then written in the lab shape, errors included.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};
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
use crate::server::runtime::source::Packetized;
use std::sync::Arc;

/// Most pieces handed to one vectored write (Linux takes up to 1024).
const MAX_IOV: usize = 128;

/// An RTP frame for a TCP-interleaved session: packet `i` is `headers[i]` (the `$` header and
/// the session's RTP header) followed by the shared payload `i`.
#[derive(Debug)]
pub struct InterleavedFrame {
    headers: Vec<u8>,
    header_len: usize,
    payloads: Arc<Packetized>,
    len: usize,
}

impl InterleavedFrame {
    /// A frame from per-packet headers of `header_len` bytes each and the shared payloads.
    pub fn new(headers: Vec<u8>, header_len: usize, payloads: Arc<Packetized>) -> Self {
        let len = headers.len() + payloads.iter().map(Vec::len).sum::<usize>();
        Self {
            headers,
            header_len,
            payloads,
            len,
        }
    }
}

/// One unit of the outbound queue.
#[derive(Debug)]
enum Outbound {
    Bytes(Vec<u8>),
    Frame(InterleavedFrame),
}

impl Outbound {
    fn len(&self) -> usize {
        match self {
            Self::Bytes(b) => b.len(),
            Self::Frame(f) => f.len,
        }
    }

    /// Append the pieces after the first `skip` bytes to `out[*n..]`; false once `out` is full.
    fn pieces<'a>(&'a self, mut skip: usize, out: &mut [IoSlice<'a>], n: &mut usize) -> bool {
        let mut put = |piece: &'a [u8], skip: &mut usize| -> bool {
            if *skip >= piece.len() {
                *skip -= piece.len();
                return true;
            }
            let Some(slot) = out.get_mut(*n) else {
                return false;
            };
            *slot = IoSlice::new(piece.get(*skip..).unwrap_or_default());
            *skip = 0;
            *n += 1;
            true
        };
        match self {
            Self::Bytes(b) => put(b, &mut skip),
            Self::Frame(f) => {
                for (i, payload) in f.payloads.iter().enumerate() {
                    let at = i * f.header_len;
                    let header = f.headers.get(at..at + f.header_len).unwrap_or_default();
                    if !put(header, &mut skip) || !put(payload, &mut skip) {
                        return false;
                    }
                }
                true
            }
        }
    }
}

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

/// The outbound queue: whole units, the front one possibly partly written.
#[derive(Debug, Default)]
struct OutQueue {
    units: VecDeque<Outbound>,
    /// Bytes of the front unit already written.
    pos: usize,
    /// Bytes not written yet.
    len: usize,
}

impl OutQueue {
    fn push(&mut self, unit: Outbound) {
        let n = unit.len();
        if n > 0 {
            self.len += n;
            self.units.push_back(unit);
        }
    }

    /// The unwritten bytes as pieces for one vectored write (as many as fit `out`); returns
    /// how many were filled in.
    fn pieces<'a>(&'a self, out: &mut [IoSlice<'a>]) -> usize {
        let mut n = 0;
        let mut skip = self.pos;
        for unit in &self.units {
            if !unit.pieces(skip, out, &mut n) {
                break;
            }
            skip = 0;
        }
        n
    }

    /// Account for `n` bytes written from the front.
    fn advance(&mut self, mut n: usize) {
        self.len = self.len.saturating_sub(n);
        while n > 0 {
            let Some(front) = self.units.front() else {
                break;
            };
            let rest = front.len().saturating_sub(self.pos);
            if n >= rest {
                n -= rest;
                self.units.pop_front();
                self.pos = 0;
            } else {
                self.pos += n;
                n = 0;
            }
        }
    }
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
    out: OutQueue,
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
    /// The path this connection ANNOUNCEd and the stream control its description named (the
    /// publisher's SETUP URL is the path or the path with that control appended).
    pub announced: Option<(String, Option<String>)>,
    /// The TLS layer of an `rtsps://` connection: what the socket carries is its records, and
    /// the parser and the outbound queue see the plaintext inside.
    tls: Option<Box<rustls::ServerConnection>>,
}

impl ConnState {
    /// A new connection.
    pub fn new(
        stream: TcpStream,
        peer: SocketAddr,
        local: Option<SocketAddr>,
        link: ConnLink,
        tls: Option<rustls::ServerConnection>,
    ) -> Self {
        Self {
            tls: tls.map(Box::new),
            stream,
            peer,
            local,
            link,
            parser: MessageParser::new(),
            out: OutQueue::default(),
            writable_interest: false,
            dialect: None,
            sessions: Vec::new(),
            last_activity: Instant::now(),
            close_after_flush: false,
            refused: false,
            partial_since: None,
            user: None,
            parked: None,
            announced: None,
        }
    }

    /// Whether this is an `rtsps://` connection.
    pub fn secure(&self) -> bool {
        self.tls.is_some()
    }

    /// Read what the peer sent (the plaintext of a TLS connection) into `buf`, like
    /// [`Read::read`] on the socket: `Ok(0)` at the end, `WouldBlock` once everything available
    /// is taken. A TLS failure (a bad handshake, garbage instead of records) is an
    /// `InvalidData` error, after the alert that tells the peer was sent.
    pub fn read_input(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(tls) = self.tls.as_deref_mut() else {
            return self.stream.read(buf);
        };
        loop {
            // Plaintext already decrypted comes first: the socket may be drained while
            // rustls still holds some, and no readiness event would announce it.
            match tls.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            match tls.read_tls(&mut self.stream) {
                Ok(0) => return Ok(0),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
            if let Err(e) = tls.process_new_packets() {
                // Best effort: the alert rustls queued, then the caller closes.
                let _ = tls.write_tls(&mut self.stream);
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
        }
    }

    /// Queue a TLS close_notify (sent by the next flush); nothing for plain TCP.
    pub fn close_notify(&mut self) {
        if let Some(tls) = self.tls.as_deref_mut() {
            tls.send_close_notify();
        }
    }

    /// Nothing is left to write, in the queue or in the TLS layer.
    pub fn is_flushed(&self) -> bool {
        self.out.len == 0 && !self.tls.as_deref().is_some_and(|t| t.wants_write())
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
        self.out.push(Outbound::Bytes(data));
    }

    /// Queue an interleaved RTP frame.
    pub fn queue_frame(&mut self, frame: InterleavedFrame) {
        self.out.push(Outbound::Frame(frame));
    }

    /// Bytes waiting to be written.
    pub fn outbound_len(&self) -> usize {
        self.out.len
    }

    /// Write as much as the socket takes; ask for WRITABLE events while anything remains.
    pub fn flush(&mut self, registry: &Registry) -> io::Result<()> {
        if self.tls.is_some() {
            self.flush_tls()?;
        } else {
            self.flush_plain()?;
        }
        let want = !self.is_flushed();
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

    /// Plain TCP: vectored writes straight from the queue's shared pieces.
    fn flush_plain(&mut self) -> io::Result<()> {
        while self.out.len > 0 {
            let mut pieces = [IoSlice::new(&[]); MAX_IOV];
            let n = self.out.pieces(&mut pieces);
            match self
                .stream
                .write_vectored(pieces.get(..n).unwrap_or_default())
            {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(written) => self.out.advance(written),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// TLS: the queue's pieces are encrypted into rustls's buffer as far as its limit lets
    /// them (64 KiB by default), and the records written out; what does not fit stays in the
    /// queue, whole units still, so a slow reader's frames are dropped whole as on plain TCP.
    fn flush_tls(&mut self) -> io::Result<()> {
        let Some(tls) = self.tls.as_deref_mut() else {
            return Ok(());
        };
        loop {
            while self.out.len > 0 {
                let mut pieces = [IoSlice::new(&[]); MAX_IOV];
                let n = self.out.pieces(&mut pieces);
                let taken = tls
                    .writer()
                    .write_vectored(pieces.get(..n).unwrap_or_default())?;
                if taken == 0 {
                    break;
                }
                self.out.advance(taken);
            }
            if !tls.wants_write() {
                return Ok(());
            }
            match tls.write_tls(&mut self.stream) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply, a three-packet frame and another reply, and the bytes they stand for.
    fn queue() -> (OutQueue, Vec<u8>) {
        let payloads: Vec<Vec<u8>> = vec![vec![1; 700], vec![2; 700], vec![3; 123]];
        let mut headers = Vec::new();
        for i in 0..3u8 {
            headers.extend([b'$', 0, 0, i, 9, 9]);
        }
        let mut want = b"RTSP/1.0 200 OK\r\n\r\n".to_vec();
        for (i, p) in payloads.iter().enumerate() {
            want.extend(&headers[i * 6..i * 6 + 6]);
            want.extend(p);
        }
        want.extend(b"RTSP/1.0 200 OK\r\nCSeq: 2\r\n\r\n");
        let mut q = OutQueue::default();
        q.push(Outbound::Bytes(b"RTSP/1.0 200 OK\r\n\r\n".to_vec()));
        q.push(Outbound::Bytes(Vec::new()));
        let frame = InterleavedFrame::new(headers, 6, Arc::new(Packetized::from(payloads)));
        q.push(Outbound::Frame(frame));
        q.push(Outbound::Bytes(
            b"RTSP/1.0 200 OK\r\nCSeq: 2\r\n\r\n".to_vec(),
        ));
        (q, want)
    }

    #[test]
    fn partial_writes_resume_where_they_stopped() {
        // Every write size, with room for only a few pieces per write: the bytes come out
        // exactly once and in order, so a frame is finished before the next unit starts.
        for step in [1usize, 5, 6, 7, 700, 701, 4096] {
            for room in [1usize, 2, 3, MAX_IOV] {
                let (mut q, want) = queue();
                assert_eq!(q.len, want.len());
                let mut got: Vec<u8> = Vec::new();
                while q.len > 0 {
                    let mut pieces = vec![IoSlice::new(&[]); room];
                    let n = q.pieces(&mut pieces);
                    assert!(n > 0);
                    let mut wrote = 0;
                    for p in &pieces[..n] {
                        let take = p.len().min(step - wrote);
                        got.extend(&p[..take]);
                        wrote += take;
                        if wrote == step {
                            break;
                        }
                    }
                    q.advance(wrote);
                }
                assert_eq!(got, want, "step {step}, room {room}");
                assert!(q.units.is_empty());
            }
        }
    }
}
