//! One benchmark session: the RTSP dialogue over a non-blocking TCP connection, and the RTP
//! it receives over UDP or interleaved TCP.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::{TcpStream, UdpSocket};

use crate::gro;
use mio::{Interest, Registry, Token};

use crate::stream_stats::{SharedHistograms, StreamStats};
use crate::wire::{self, Item, Reply};

/// Lower transport of the RTP stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// RTP/AVP over UDP unicast (RTP and RTCP socket pair).
    Udp,
    /// RTP/AVP/TCP interleaved on the RTSP connection.
    Tcp,
}

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// TCP connect in progress.
    Connecting,
    /// Waiting for the OPTIONS reply.
    Options,
    /// Waiting for the DESCRIBE reply.
    Describe,
    /// Waiting for the SETUP reply.
    Setup,
    /// Waiting for the PLAY reply.
    Play,
    /// Receiving.
    Playing,
    /// Gave up; see `failure`.
    Failed,
}

/// Token kinds: each session owns three consecutive tokens.
pub const TOKENS_PER_SESSION: usize = 3;

/// State of one session.
pub struct Session {
    index: usize,
    url: String,
    transport: Transport,
    tcp: TcpStream,
    rtp: Option<UdpSocket>,
    rtcp: Option<UdpSocket>,
    client_port: u16,
    phase: Phase,
    cseq: u32,
    inbuf: Vec<u8>,
    outbuf: Vec<u8>,
    base: String,
    session_id: String,
    rtp_channel: u8,
    keepalive_every: Duration,
    keepalive_method: &'static str,
    last_request: Instant,
    /// When the session was started (connect issued).
    pub started: Instant,
    /// When PLAY was sent.
    pub play_sent: Option<Instant>,
    /// Why it failed, if it did.
    pub failure: Option<String>,
    /// Reception statistics.
    pub stats: StreamStats,
}

fn udp_pair() -> io::Result<(UdpSocket, UdpSocket, u16)> {
    let any: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut last_err = io::Error::new(io::ErrorKind::AddrInUse, "no free even/odd port pair");
    for _ in 0..32 {
        let rtp = UdpSocket::bind(any)?;
        let port = rtp.local_addr()?.port();
        if port % 2 != 0 || port == u16::MAX {
            continue;
        }
        match UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], port + 1))) {
            Ok(rtcp) => {
                // Bursts of a whole frame arrive at once; a roomy buffer avoids drops while
                // the generator serves other sessions.
                let _ = socket2::SockRef::from(&rtp).set_recv_buffer_size(256 * 1024);
                return Ok((rtp, rtcp, port));
            }
            Err(e) => last_err = e,
        }
    }
    Err(last_err)
}

impl Session {
    /// Starts connecting session `index` to `addr` and registers its sockets.
    ///
    /// # Errors
    /// Socket creation or registration failed (for example the descriptor limit).
    pub fn start(
        index: usize,
        url: &str,
        addr: SocketAddr,
        transport: Transport,
        gro: bool,
        registry: &Registry,
        now: Instant,
    ) -> io::Result<Self> {
        let mut tcp = TcpStream::connect(addr)?;
        let _ = tcp.set_nodelay(true);
        let base_token = index * TOKENS_PER_SESSION;
        registry.register(
            &mut tcp,
            Token(base_token),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        let (mut rtp, mut rtcp, client_port) = match transport {
            Transport::Udp => {
                let (a, b, p) = udp_pair()?;
                if gro {
                    gro::enable(&a);
                }
                (Some(a), Some(b), p)
            }
            Transport::Tcp => (None, None, 0),
        };
        if let Some(s) = rtp.as_mut() {
            registry.register(s, Token(base_token + 1), Interest::READABLE)?;
        }
        if let Some(s) = rtcp.as_mut() {
            registry.register(s, Token(base_token + 2), Interest::READABLE)?;
        }
        Ok(Self {
            index,
            url: url.to_owned(),
            transport,
            tcp,
            rtp,
            rtcp,
            client_port,
            phase: Phase::Connecting,
            cseq: 1,
            inbuf: Vec::with_capacity(4096),
            outbuf: Vec::new(),
            base: url.to_owned(),
            session_id: String::new(),
            rtp_channel: 0,
            keepalive_every: Duration::from_secs(25),
            keepalive_method: "OPTIONS",
            last_request: now,
            started: now,
            play_sent: None,
            failure: None,
            stats: StreamStats::default(),
        })
    }

    /// Current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    fn fail(&mut self, why: impl Into<String>) {
        if self.phase != Phase::Failed {
            self.failure = Some(why.into());
            self.phase = Phase::Failed;
        }
    }

    fn send(&mut self, method: &str, url: &str, extra: &[(&str, &str)], now: Instant) {
        let req = wire::request(method, url, self.cseq, extra);
        self.cseq += 1;
        self.outbuf.extend_from_slice(&req);
        self.last_request = now;
        self.flush();
    }

    fn flush(&mut self) {
        while !self.outbuf.is_empty() {
            match self.tcp.write(&self.outbuf) {
                Ok(0) => return self.fail("connection closed while writing"),
                Ok(n) => {
                    self.outbuf.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                Err(e) => return self.fail(format!("write: {e}")),
            }
        }
    }

    /// Handles readiness of the session's token `kind` (0 TCP, 1 RTP, 2 RTCP).
    pub fn on_event(
        &mut self,
        kind: usize,
        now: Instant,
        late_after: Duration,
        scratch: &mut [u8],
        hist: &mut SharedHistograms,
    ) {
        match kind {
            0 => self.on_tcp(now, late_after, scratch, hist),
            1 => {
                while let Some(sock) = self.rtp.as_ref() {
                    match gro::recv(sock, scratch) {
                        Ok((n, segment)) => {
                            let buf = scratch.get(..n).unwrap_or_default();
                            for d in gro::datagrams(buf, segment) {
                                self.stats.on_rtp(d, now, late_after, hist);
                            }
                        }
                        Err(_) => break,
                    }
                }
            }
            _ => {
                // RTCP sender reports: drained so the socket buffer never fills.
                while let Some(sock) = self.rtcp.as_ref() {
                    if sock.recv(scratch).is_err() {
                        break;
                    }
                }
            }
        }
    }

    fn on_tcp(
        &mut self,
        now: Instant,
        late_after: Duration,
        scratch: &mut [u8],
        hist: &mut SharedHistograms,
    ) {
        if self.phase == Phase::Connecting {
            match self.tcp.take_error() {
                Ok(Some(e)) | Err(e) => return self.fail(format!("connect: {e}")),
                Ok(None) => {}
            }
            match self.tcp.peer_addr() {
                Ok(_) => {
                    self.phase = Phase::Options;
                    let url = self.url.clone();
                    self.send("OPTIONS", &url, &[], now);
                }
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                Err(e) => return self.fail(format!("connect: {e}")),
            }
        }
        self.flush();
        let mut closed = false;
        loop {
            match self.tcp.read(scratch) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => self
                    .inbuf
                    .extend_from_slice(scratch.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.fail(format!("read: {e}"));
                    break;
                }
            }
        }
        let mut pos = 0;
        let mut replies = Vec::new();
        loop {
            match wire::split_next(self.inbuf.get(pos..).unwrap_or_default()) {
                Ok(Some((item, used))) => {
                    match item {
                        Item::Interleaved(ch, payload) => {
                            if ch == self.rtp_channel && self.transport == Transport::Tcp {
                                self.stats.on_rtp(payload, now, late_after, hist);
                            }
                        }
                        Item::Reply(r) => replies.push(r),
                    }
                    pos += used;
                }
                Ok(None) => break,
                Err(e) => {
                    self.fail(format!("{e}"));
                    break;
                }
            }
        }
        self.inbuf.drain(..pos.min(self.inbuf.len()));
        for r in replies {
            self.on_reply(r, now);
        }
        if closed {
            self.fail("server closed the connection");
        }
    }

    fn on_reply(&mut self, r: Reply, now: Instant) {
        if r.status != 200 {
            let what = format!("{:?} answered {}", self.phase, r.status);
            if self.phase != Phase::Playing {
                return self.fail(what);
            }
            return;
        }
        match self.phase {
            Phase::Options => {
                if r.header("Public")
                    .is_some_and(|p| p.contains("GET_PARAMETER"))
                {
                    self.keepalive_method = "GET_PARAMETER";
                }
                self.phase = Phase::Describe;
                let url = self.url.clone();
                self.send("DESCRIBE", &url, &[("Accept", "application/sdp")], now);
            }
            Phase::Describe => {
                if let Some(b) = r
                    .header("Content-Base")
                    .or_else(|| r.header("Content-Location"))
                {
                    self.base = b.to_owned();
                }
                let sdp = String::from_utf8_lossy(&r.body);
                let control = wire::media_control(&sdp).unwrap_or_default();
                let setup_url = wire::resolve_control(&self.base, &control);
                let transport = match self.transport {
                    Transport::Udp => format!(
                        "RTP/AVP;unicast;client_port={}-{}",
                        self.client_port,
                        self.client_port + 1
                    ),
                    Transport::Tcp => "RTP/AVP/TCP;unicast;interleaved=0-1".to_owned(),
                };
                self.phase = Phase::Setup;
                self.send("SETUP", &setup_url, &[("Transport", &transport)], now);
            }
            Phase::Setup => {
                let Some(sess) = r.header("Session") else {
                    return self.fail("SETUP reply without Session");
                };
                let mut parts = sess.split(';');
                self.session_id = parts.next().unwrap_or_default().trim().to_owned();
                for p in parts {
                    if let Some(t) = p.trim().strip_prefix("timeout=") {
                        if let Ok(secs) = t.trim().parse::<u64>() {
                            self.keepalive_every = Duration::from_secs((secs / 2).max(1));
                        }
                    }
                }
                if let Some(t) = r.header("Transport") {
                    if let Some(i) = t
                        .split(';')
                        .find_map(|p| p.trim().strip_prefix("interleaved="))
                    {
                        self.rtp_channel = i
                            .split('-')
                            .next()
                            .and_then(|c| c.parse().ok())
                            .unwrap_or(0);
                    }
                }
                self.phase = Phase::Play;
                let (base, sid) = (self.base.clone(), self.session_id.clone());
                self.play_sent = Some(Instant::now());
                self.send(
                    "PLAY",
                    &base,
                    &[("Session", &sid), ("Range", "npt=0.000-")],
                    now,
                );
            }
            Phase::Play => self.phase = Phase::Playing,
            _ => {}
        }
    }

    /// Sends a keep-alive if one is due.
    pub fn tick(&mut self, now: Instant) {
        if self.phase == Phase::Playing
            && now.saturating_duration_since(self.last_request) >= self.keepalive_every
        {
            let (base, sid) = (self.base.clone(), self.session_id.clone());
            let method = self.keepalive_method;
            self.send(method, &base, &[("Session", &sid)], now);
        }
    }

    /// Best-effort TEARDOWN and deregistration.
    pub fn finish(&mut self, registry: &Registry) {
        if matches!(self.phase, Phase::Playing | Phase::Play) {
            let (base, sid) = (self.base.clone(), self.session_id.clone());
            let req = wire::request("TEARDOWN", &base, self.cseq, &[("Session", &sid)]);
            let _ = self.tcp.write(&req);
        }
        let _ = registry.deregister(&mut self.tcp);
        if let Some(s) = self.rtp.as_mut() {
            let _ = registry.deregister(s);
        }
        if let Some(s) = self.rtcp.as_mut() {
            let _ = registry.deregister(s);
        }
    }

    /// Index of the session in the run.
    pub fn index(&self) -> usize {
        self.index
    }
}
