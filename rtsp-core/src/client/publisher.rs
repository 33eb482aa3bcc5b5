//! The publisher: pushes JPEG frames to an RTSP server that records (RFC 2326 ANNOUNCE, SETUP
//! with `mode=record`, RECORD), as ffmpeg's `-f rtsp` output and GStreamer's `rtspclientsink` do.
//!
//! The requests, replies and authentication are the client's sans-I/O [`Session`] (in publishing
//! mode) and its reply reader; this module moves the bytes: a thread reads the RTSP connection
//! (replies, and the server's RTCP on interleaved channels), another keeps
//! the session alive, and [`Publisher::send`] packetizes a frame (RFC 2435) and writes its RTP
//! packets, with an RTCP sender report every few seconds. The server's receiver reports (on
//! the interleaved RTCP channel, or the UDP RTCP port, read by one more thread) feed
//! [`PublisherStats`].

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{bounded, unbounded, Receiver, RecvTimeoutError, Sender};
use parking_lot::Mutex;

use super::config::{CertificateCheck, ClientCredentials, TransportPreference};
use super::error::ClientError;
use super::event::State;
use super::net;
use super::runtime::await_reply;
use super::session::{
    Incoming, Outcome, ReplyReader, Request, ServerTransport, Session, SetupTransport,
};
use super::stats::{PublisherCounters, PublisherStats};
use super::stream::ControlStream;
use crate::jpeg::{reencode_for_rtp, Packetizer, ParseError, ParsedJpeg, ReencodeError};
use crate::rtp::ntp::NtpTimestamp;
use crate::rtp::rtcp::{
    write_compound, Compound, Goodbye, ReceiverReport, RtcpPacket, SenderReport, SourceDescription,
};
use crate::rtp::{RtpHeader, SenderStats, PAYLOAD_TYPE_JPEG};

/// RTCP sender report period (RFC 3550's 5 s minimum for small sessions).
const SR_INTERVAL: Duration = Duration::from_secs(5);
/// How long [`Publisher::close`] waits for the TEARDOWN reply.
const TEARDOWN_TIMEOUT: Duration = Duration::from_secs(2);
/// The CNAME in the publisher's RTCP (RFC 3550 6.5.1 wants one in every compound packet).
const CNAME: &[u8] = b"rtsp-core-publisher";

/// Publisher settings. Build one with [`PublisherConfig::url`] and adjust the public fields.
#[derive(Debug, Clone)]
pub struct PublisherConfig {
    /// `rtsp://[user:password@]host[:port]/path`, or `rtsps://` for TLS (the RTSP connection,
    /// and the media with it over TCP interleaved); userinfo is used as credentials, never sent.
    pub url: String,
    /// How RTP travels: [`TransportPreference::Udp`], or TCP interleaved for `Tcp` and `Auto`
    /// (a sender cannot tell whether its datagrams arrive, so it takes the safe path).
    pub transport: TransportPreference,
    /// How long to wait for each RTSP reply.
    pub reply_timeout: Duration,
    /// `User-Agent` header.
    pub user_agent: String,
    /// Credentials for a server that requires authentication (overrides URL userinfo).
    pub credentials: Option<ClientCredentials>,
    /// `Some(quality)`: frames RFC 2435 cannot carry (progressive, 4:4:4, PNG...) are
    /// re-encoded at this JPEG quality (1-100) instead of refused.
    pub reencode_quality: Option<u8>,
    /// `rtsps://` only: how the server's certificate is checked, as for the client.
    pub certificate_check: CertificateCheck,
}

impl PublisherConfig {
    /// Defaults for `url`: TCP interleaved, 5 s reply timeout, no re-encoding.
    pub fn url(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            transport: TransportPreference::Tcp,
            reply_timeout: Duration::from_secs(5),
            user_agent: concat!("rtsp-core/", env!("CARGO_PKG_VERSION")).to_owned(),
            credentials: None,
            reencode_quality: None,
            certificate_check: CertificateCheck::default(),
        }
    }
}

/// Why a publisher operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The RTSP exchange or the connection failed (refused, 401, timeout, closed...).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The frame is not a JPEG RFC 2435 can carry, and re-encoding is off.
    #[error("frame refused: {0}")]
    Frame(#[from] ParseError),
    /// Re-encoding was asked for and the frame could not be decoded or encoded.
    #[error("frame refused: {0}")]
    Reencode(#[from] ReencodeError),
}

/// Where RTP and RTCP go.
enum MediaPath {
    Udp {
        rtp: UdpSocket,
        rtcp: UdpSocket,
        server_rtp: SocketAddr,
        server_rtcp: Option<SocketAddr>,
    },
    Interleaved {
        rtp: u8,
        rtcp: u8,
    },
}

/// The sending side: packetizer, RTP numbering, sender statistics.
struct Media {
    path: MediaPath,
    packetizer: Packetizer,
    ssrc: u32,
    seq: u16,
    timestamp_base: u32,
    /// The first frame's timestamp as the caller gave it (or as measured).
    first: Option<Duration>,
    started: Instant,
    stats: SenderStats,
    last_sr: Option<Instant>,
    tally: Arc<Mutex<PublisherStats>>,
    reencode_quality: Option<u8>,
    /// Scratch space for one frame's packets.
    out: Vec<u8>,
}

/// The RTSP side: the session and where its replies arrive.
struct Control {
    session: Session,
    replies: Receiver<Incoming>,
    reply_timeout: Duration,
}

struct Inner {
    writer: Mutex<ControlStream>,
    control: Mutex<Control>,
    media: Mutex<Option<Media>>,
    /// Shared with [`Media`] and the threads that read the server's RTCP.
    tally: Arc<Mutex<PublisherStats>>,
    /// Set by [`Publisher::close`]: the UDP RTCP reader stops.
    closing: Arc<AtomicBool>,
}

/// A live publisher (see the module documentation). Dropping it closes it.
///
/// ```no_run
/// # fn main() -> Result<(), rtsp_core::client::PublishError> {
/// use rtsp_core::client::{Publisher, PublisherConfig};
/// let publisher = Publisher::connect(PublisherConfig::url("rtsp://127.0.0.1:8554/live/cam"))?;
/// let jpeg = std::fs::read("frame.jpg").map_err(|e| rtsp_core::client::ClientError::Io(e.to_string()))?;
/// publisher.send(&jpeg, None)?;
/// publisher.close()?;
/// # Ok(())
/// # }
/// ```
pub struct Publisher {
    inner: Arc<Inner>,
    /// Dropped to stop the keep-alive thread.
    stop: Mutex<Option<Sender<()>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher").finish_non_exhaustive()
    }
}

impl Publisher {
    /// Connects, announces one RTP/JPEG stream, sets it up and starts recording. Returns when
    /// the server accepted RECORD.
    pub fn connect(config: PublisherConfig) -> Result<Self, ClientError> {
        let mut session = Session::publisher(&config.url, &config.user_agent)?;
        if let Some(c) = &config.credentials {
            session.set_credentials(&c.user, &c.password);
        }
        let (host, port) = session.host_port();
        let tls = session.is_tls().then_some(&config.certificate_check);
        let stream = ControlStream::connect(&host, port, config.reply_timeout, tls)?;
        let server = stream
            .peer_addr()
            .map_err(|e| ClientError::from_io(&e, &host))?;
        let local = stream
            .local_addr()
            .map_err(|e| ClientError::from_io(&e, &host))?;
        let reader = stream
            .try_clone()
            .map_err(|e| ClientError::Io(format!("cannot clone the RTSP socket: {e}")))?;
        let (reply_tx, replies) = unbounded();
        // RFC 3550: a random SSRC. Known before the first reply, so reports can be matched.
        let ssrc: u32 = rand::random();
        let tally = Arc::new(Mutex::new(PublisherStats::default()));
        let reports = Reports {
            ssrc,
            tally: Arc::clone(&tally),
        };
        let read_thread = thread::Builder::new()
            .name("rtsp-publish-read".into())
            .spawn(move || read_connection(reader, reply_tx, &reports))
            .map_err(|e| ClientError::Io(format!("cannot start the read thread: {e}")))?;
        let inner = Arc::new(Inner {
            writer: Mutex::new(stream),
            control: Mutex::new(Control {
                session,
                replies,
                reply_timeout: config.reply_timeout,
            }),
            media: Mutex::new(None),
            tally,
            closing: Arc::new(AtomicBool::new(false)),
        });
        let publisher = Self {
            inner: Arc::clone(&inner),
            stop: Mutex::new(None),
            threads: Mutex::new(vec![read_thread]),
        };
        // From here on, dropping `publisher` on an error shuts the connection and the thread.
        let path = {
            let mut control = inner.control.lock();
            control.transact(&inner.writer, Request::Announce)?;
            let path = match config.transport {
                TransportPreference::Udp => setup_udp(&mut control, &inner.writer, local, server)?,
                TransportPreference::Tcp | TransportPreference::Auto => {
                    setup_interleaved(&mut control, &inner.writer)?
                }
            };
            control.transact(&inner.writer, Request::Record)?;
            path
        };
        if let MediaPath::Udp { rtcp, .. } = &path {
            let socket = rtcp
                .try_clone()
                .map_err(|e| ClientError::Io(format!("cannot clone the RTCP socket: {e}")))?;
            let reports = Reports {
                ssrc,
                tally: Arc::clone(&inner.tally),
            };
            let closing = Arc::clone(&inner.closing);
            let thread = thread::Builder::new()
                .name("rtsp-publish-rtcp".into())
                .spawn(move || read_udp_rtcp(&socket, &reports, &closing))
                .map_err(|e| ClientError::Io(format!("cannot start the RTCP thread: {e}")))?;
            publisher.threads.lock().push(thread);
        }
        *inner.media.lock() = Some(Media::new(
            path,
            ssrc,
            Arc::clone(&inner.tally),
            config.reencode_quality,
        ));
        let keepalive = inner.control.lock().session.keepalive_interval();
        if let Some(interval) = keepalive {
            let (stop_tx, stop_rx) = bounded::<()>(0);
            let keeper = Arc::clone(&inner);
            let thread = thread::Builder::new()
                .name("rtsp-publish-keepalive".into())
                .spawn(move || keep_alive(&keeper, &stop_rx, interval))
                .map_err(|e| ClientError::Io(format!("cannot start the keep-alive thread: {e}")))?;
            *publisher.stop.lock() = Some(stop_tx);
            publisher.threads.lock().push(thread);
        }
        Ok(publisher)
    }

    /// Sends one JPEG frame. `timestamp` is the frame's capture time on any clock the caller
    /// keeps (only differences matter); `None` uses the time of the call.
    ///
    /// A frame RFC 2435 cannot carry is refused with [`PublishError::Frame`] (nothing is sent;
    /// the stream goes on), unless the configuration asks to re-encode it.
    pub fn send(&self, jpeg: &[u8], timestamp: Option<Duration>) -> Result<(), PublishError> {
        let mut guard = self.inner.media.lock();
        let media = guard.as_mut().ok_or(ClientError::Shutdown)?;
        let reencoded;
        let parsed = match (ParsedJpeg::parse(jpeg), media.reencode_quality) {
            (Ok(frame), _) => Ok((frame, false)),
            (Err(_), Some(quality)) => match reencode_for_rtp(jpeg, quality) {
                Ok(bytes) => {
                    reencoded = bytes;
                    ParsedJpeg::parse(&reencoded)
                        .map(|frame| (frame, true))
                        .map_err(PublishError::from)
                }
                Err(e) => Err(e.into()),
            },
            (Err(e), None) => Err(e.into()),
        };
        let (frame, was_reencoded) = match parsed {
            Ok(parsed) => parsed,
            Err(e) => {
                let mut tally = media.tally.lock();
                match &e {
                    PublishError::Frame(ParseError::NotJpeg) => tally.frames_refused_not_jpeg += 1,
                    PublishError::Frame(_) => tally.frames_refused_unsupported += 1,
                    _ => tally.frames_refused_reencode_failed += 1,
                }
                return Err(e);
            }
        };
        let now = media.started.elapsed();
        let rtp_timestamp = media.rtp_timestamp(timestamp.unwrap_or(now));
        media.packetize(&frame, rtp_timestamp, now);
        let sr_due = media.last_sr.is_none_or(|at| at.elapsed() >= SR_INTERVAL);
        if sr_due {
            media.last_sr = Some(Instant::now());
            media.push_sender_report(now);
        }
        media.flush(&self.inner.writer)?;
        let mut tally = media.tally.lock();
        tally.frames_sent += 1;
        tally.frames_reencoded += u64::from(was_reencoded);
        Ok(())
    }

    /// What has been sent so far (a subset of [`Publisher::stats`]).
    pub fn counters(&self) -> PublisherCounters {
        self.stats().counters()
    }

    /// What has been sent, refused and dropped so far, and what the server's last receiver
    /// report said. Still readable after [`Publisher::close`].
    pub fn stats(&self) -> PublisherStats {
        *self.inner.tally.lock()
    }

    /// Ends the stream: RTCP BYE, TEARDOWN, connection closed. Later calls do nothing; later
    /// [`Publisher::send`]s fail with [`ClientError::Shutdown`].
    pub fn close(&self) -> Result<(), ClientError> {
        // Stops the keep-alive thread before the TEARDOWN, so the two never interleave.
        self.stop.lock().take();
        self.inner.closing.store(true, Ordering::Relaxed);
        let media = self.inner.media.lock().take();
        let mut result = Ok(());
        if let Some(mut media) = media {
            media.push_bye();
            // Best effort: the TEARDOWN below is what ends the session.
            let _ = media.flush(&self.inner.writer);
            let mut control = self.inner.control.lock();
            if control.session.state() != State::Init {
                control.reply_timeout = control.reply_timeout.min(TEARDOWN_TIMEOUT);
                result = control
                    .transact(&self.inner.writer, Request::Teardown)
                    .map(drop);
            }
        }
        self.inner.writer.lock().shutdown();
        for thread in self.threads.lock().drain(..) {
            if thread.thread().id() != thread::current().id() {
                let _ = thread.join();
            }
        }
        result
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

impl Control {
    /// Sends `request` and waits for its reply, answering one 401 challenge.
    fn transact(
        &mut self,
        writer: &Mutex<ControlStream>,
        request: Request,
    ) -> Result<Outcome, ClientError> {
        loop {
            let bytes = self.session.encode(&request)?;
            // Stale replies (to requests that timed out) must not be taken for this one.
            while self.replies.try_recv().is_ok() {}
            {
                writer
                    .lock()
                    .write_all(&bytes)
                    .map_err(|e| ClientError::from_io(&e, "server"))?;
            }
            match await_reply(
                &mut self.session,
                &self.replies,
                request.method_name(),
                self.reply_timeout,
            )? {
                Ok(Outcome::RetryWithAuth) => continue,
                other => return other,
            }
        }
    }
}

fn setup_udp(
    control: &mut Control,
    writer: &Mutex<ControlStream>,
    local: SocketAddr,
    server: SocketAddr,
) -> Result<MediaPath, ClientError> {
    let (rtp, rtcp) = net::bind_port_pair(local.ip())
        .map_err(|e| ClientError::Io(format!("cannot bind an RTP/RTCP port pair: {e}")))?;
    let rtp_port = rtp
        .local_addr()
        .map_err(|e| ClientError::Io(e.to_string()))?
        .port();
    let outcome = control.transact(
        writer,
        Request::Setup(SetupTransport::Udp {
            rtp_port,
            rtcp_port: rtp_port + 1,
        }),
    )?;
    match outcome {
        Outcome::SetUp(ServerTransport::Udp {
            server_rtp_port: Some(server_rtp),
            server_rtcp_port,
        }) => Ok(MediaPath::Udp {
            rtp,
            rtcp,
            server_rtp: SocketAddr::new(server.ip(), server_rtp),
            server_rtcp: server_rtcp_port.map(|p| SocketAddr::new(server.ip(), p)),
        }),
        Outcome::SetUp(ServerTransport::Interleaved { rtp, rtcp }) => {
            Ok(MediaPath::Interleaved { rtp, rtcp })
        }
        _ => Err(ClientError::MalformedReply(
            "the SETUP reply names no server_port to send RTP to".into(),
        )),
    }
}

fn setup_interleaved(
    control: &mut Control,
    writer: &Mutex<ControlStream>,
) -> Result<MediaPath, ClientError> {
    match control.transact(
        writer,
        Request::Setup(SetupTransport::Interleaved { rtp: 0, rtcp: 1 }),
    )? {
        Outcome::SetUp(ServerTransport::Interleaved { rtp, rtcp }) => {
            Ok(MediaPath::Interleaved { rtp, rtcp })
        }
        _ => Err(ClientError::Unsupported(
            "the server did not accept TCP interleaved transport".into(),
        )),
    }
}

impl Media {
    fn new(
        path: MediaPath,
        ssrc: u32,
        tally: Arc<Mutex<PublisherStats>>,
        reencode_quality: Option<u8>,
    ) -> Self {
        Self {
            path,
            packetizer: Packetizer::new(),
            // RFC 3550: random initial sequence number and timestamp.
            ssrc,
            seq: rand::random(),
            timestamp_base: rand::random(),
            first: None,
            started: Instant::now(),
            stats: SenderStats::new(crate::jpeg::CLOCK_RATE),
            last_sr: None,
            tally,
            reencode_quality,
            out: Vec::new(),
        }
    }

    /// The RTP timestamp of a frame captured at `at` (90 kHz from the first frame's).
    fn rtp_timestamp(&mut self, at: Duration) -> u32 {
        let first = *self.first.get_or_insert(at);
        let ticks = at.saturating_sub(first).as_nanos() * u128::from(crate::jpeg::CLOCK_RATE)
            / 1_000_000_000;
        // Modulo 2^32, like the timestamps themselves.
        self.timestamp_base.wrapping_add(ticks as u32)
    }

    /// Appends the frame's RTP packets to `out` (`$`-framed on TCP, length-prefixed for UDP).
    fn packetize(&mut self, frame: &ParsedJpeg<'_>, rtp_timestamp: u32, now: Duration) {
        for fragment in self.packetizer.fragments(frame) {
            let mut header = RtpHeader::new(PAYLOAD_TYPE_JPEG, self.seq, rtp_timestamp, self.ssrc);
            header.marker = fragment.is_last();
            let mut packet = vec![0; header.packet_len(fragment.len())];
            if header
                .write_vectored(&fragment.parts(), &mut packet)
                .is_err()
            {
                continue;
            }
            self.seq = self.seq.wrapping_add(1);
            self.stats
                .on_packet_sent(rtp_timestamp, fragment.len(), now);
            {
                let mut tally = self.tally.lock();
                tally.packets_sent += 1;
                tally.bytes_sent += fragment.len() as u64;
            }
            self.push(false, &packet);
        }
    }

    /// Appends one packet for the RTP (`rtcp` false) or RTCP channel.
    fn push(&mut self, rtcp: bool, packet: &[u8]) {
        let channel = match self.path {
            MediaPath::Interleaved { rtp, rtcp: c } => {
                if rtcp {
                    c
                } else {
                    rtp
                }
            }
            // UDP: a marker byte and a length stand in for the `$` framing.
            MediaPath::Udp { .. } => u8::from(rtcp),
        };
        // Packets are far below 64 KiB (the packetizer's payload size); a larger one would
        // not be framed at all rather than framed wrongly.
        let _ = crate::rtsp::write_interleaved(channel, packet, &mut self.out);
    }

    fn push_sender_report(&mut self, now: Duration) {
        let ntp = NtpTimestamp::from_system_time(SystemTime::now());
        let Some(sender_info) = self.stats.sender_info(now, ntp) else {
            return;
        };
        let sr = SenderReport {
            ssrc: self.ssrc,
            sender_info,
            ..SenderReport::default()
        };
        let sdes = SourceDescription::cname(self.ssrc, CNAME);
        let mut packet = Vec::new();
        if write_compound(&[RtcpPacket::from(sr), RtcpPacket::from(sdes)], &mut packet).is_ok() {
            self.push(true, &packet);
        }
    }

    fn push_bye(&mut self) {
        let rr = ReceiverReport {
            ssrc: self.ssrc,
            ..ReceiverReport::default()
        };
        let sdes = SourceDescription::cname(self.ssrc, CNAME);
        let bye = Goodbye::single(self.ssrc, None);
        let mut packet = Vec::new();
        let packets = [
            RtcpPacket::from(rr),
            RtcpPacket::from(sdes),
            RtcpPacket::from(bye),
        ];
        if write_compound(&packets, &mut packet).is_ok() {
            self.push(true, &packet);
        }
    }

    /// Writes what [`Media::push`] gathered: one write on the RTSP connection, or one datagram
    /// per packet.
    fn flush(&mut self, writer: &Mutex<ControlStream>) -> Result<(), ClientError> {
        let out = std::mem::take(&mut self.out);
        let result = match &self.path {
            MediaPath::Interleaved { .. } => writer
                .lock()
                .write_all(&out)
                .map_err(|e| ClientError::from_io(&e, "server")),
            MediaPath::Udp {
                rtp,
                rtcp,
                server_rtp,
                server_rtcp,
            } => {
                let mut rest = out.as_slice();
                let mut result = Ok(());
                // Each item: `$`, 0 (RTP) or 1 (RTCP), a 16-bit length, the packet.
                while let [b'$', channel, hi, lo, tail @ ..] = rest {
                    let len = usize::from(u16::from_be_bytes([*hi, *lo]));
                    let (packet, next) = tail.split_at(len.min(tail.len()));
                    rest = next;
                    let sent = match (channel, server_rtcp) {
                        (0, _) => rtp.send_to(packet, server_rtp),
                        (_, Some(to)) => rtcp.send_to(packet, to),
                        (_, None) => continue,
                    };
                    if let Err(e) = sent {
                        // A full socket buffer drops the packet, as the network would.
                        if e.kind() == std::io::ErrorKind::WouldBlock {
                            self.tally.lock().packets_dropped += u64::from(*channel == 0);
                        } else {
                            result = Err(ClientError::Io(format!("sending RTP: {e}")));
                            break;
                        }
                    }
                }
                result
            }
        };
        self.out = out;
        self.out.clear();
        result
    }
}

/// Where the server's receiver reports about the stream go.
struct Reports {
    ssrc: u32,
    tally: Arc<Mutex<PublisherStats>>,
}

impl Reports {
    /// Takes in one RTCP packet from the server: the report block about `ssrc`, if any.
    /// Anything that does not parse is ignored (RTCP is advisory).
    fn on_rtcp(&self, data: &[u8]) {
        let Ok(compound) = Compound::parse(data) else {
            return;
        };
        for packet in compound.iter() {
            let blocks = match packet {
                RtcpPacket::ReceiverReport(rr) => rr.report_blocks,
                RtcpPacket::SenderReport(sr) => sr.report_blocks,
                _ => continue,
            };
            if let Some(block) = blocks.find(self.ssrc) {
                self.tally.lock().on_report(&block, crate::jpeg::CLOCK_RATE);
            }
        }
    }
}

/// The UDP RTCP thread: the server's reports, until the publisher closes. The timeout is
/// how long closing waits for it.
fn read_udp_rtcp(socket: &UdpSocket, reports: &Reports, closing: &AtomicBool) {
    if socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .is_err()
    {
        return;
    }
    let mut buf = vec![0; 2048];
    while !closing.load(Ordering::Relaxed) {
        match socket.recv(&mut buf) {
            Ok(n) => reports.on_rtcp(buf.get(..n).unwrap_or_default()),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                        // ICMP port unreachable from an earlier send.
                        | std::io::ErrorKind::ConnectionRefused
                ) => {}
            Err(_) => return,
        }
    }
}

/// The read thread: replies to the control side, the server's RTCP (interleaved, odd
/// channels by convention: the RTCP channel of the SETUP) to `reports`.
fn read_connection(mut tcp: ControlStream, replies: Sender<Incoming>, reports: &Reports) {
    let mut reader = ReplyReader::new(false, false);
    let mut buf = vec![0; 16 * 1024];
    loop {
        let n = match tcp.read(&mut buf) {
            Ok(0) => {
                let _ = replies.send(Incoming::Closed(ClientError::Closed));
                return;
            }
            Ok(n) => n,
            // TLS: the bytes read completed no record yet.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::Interrupted | std::io::ErrorKind::WouldBlock
                ) =>
            {
                continue
            }
            Err(e) => {
                let _ = replies.send(Incoming::Closed(ClientError::from_io(&e, "server")));
                return;
            }
        };
        let mut items = Vec::new();
        let result = reader.push(buf.get(..n).unwrap_or_default(), &mut items);
        for item in items {
            let _ = replies.send(item);
        }
        for (channel, packet) in reader.take_interleaved() {
            // RTP flows the other way: anything the server sends is RTCP (channel 1 of the
            // SETUP this publisher asks for; odd channels in general).
            if channel % 2 == 1 {
                reports.on_rtcp(&packet);
            }
        }
        if let Err(e) = result {
            let _ = replies.send(Incoming::Failed(e));
            return;
        }
    }
}

/// The keep-alive thread: a GET_PARAMETER (or OPTIONS) every half session timeout.
fn keep_alive(inner: &Inner, stop: &Receiver<()>, interval: Duration) {
    while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(interval) {
        let mut control = inner.control.lock();
        if control.session.state() == State::Init {
            return;
        }
        let first = control.session.keepalive_request(false);
        if let Err(first_err) = control.transact(&inner.writer, first) {
            let second = control.session.keepalive_request(true);
            if let Err(e) = control.transact(&inner.writer, second) {
                tracing::warn!("publisher keep-alive failed: {first_err}; then {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::rtcp::ReportBlock;

    fn rr(blocks: &[ReportBlock]) -> Vec<u8> {
        let rr = ReceiverReport {
            ssrc: 7,
            report_blocks: blocks.into(),
            ..ReceiverReport::default()
        };
        let mut out = Vec::new();
        write_compound(&[RtcpPacket::from(rr)], &mut out).unwrap();
        out
    }

    #[test]
    fn only_reports_about_this_stream_count() {
        let reports = Reports {
            ssrc: 0x1234,
            tally: Arc::new(Mutex::new(PublisherStats::default())),
        };
        let ours = ReportBlock {
            ssrc: 0x1234,
            fraction_lost: 64,
            cumulative_lost: 3,
            jitter: 900,
            ..ReportBlock::default()
        };
        let other = ReportBlock {
            ssrc: 99,
            fraction_lost: 255,
            ..ReportBlock::default()
        };
        reports.on_rtcp(&rr(&[other]));
        reports.on_rtcp(b"\x80garbage");
        reports.on_rtcp(&rr(&[]));
        assert_eq!(*reports.tally.lock(), PublisherStats::default());
        reports.on_rtcp(&rr(&[other, ours]));
        let stats = *reports.tally.lock();
        assert_eq!(stats.receiver_reports, 1);
        assert_eq!(stats.report_fraction_lost, 0.25);
        assert_eq!(stats.report_packets_lost, 3);
        assert_eq!(stats.report_jitter_ms, 10.0);
        // A negative cumulative loss (duplicates) reads as none lost.
        reports.on_rtcp(&rr(&[ReportBlock {
            cumulative_lost: -2,
            ..ours
        }]));
        assert_eq!(reports.tally.lock().report_packets_lost, 0);
    }
}
