//! The threaded client runtime: a control thread that speaks RTSP and a receive thread that reads
//! the RTSP connection and the RTP/RTCP sockets.
//!
//! ```text
//!  API calls ──commands──▶ control thread ──requests──▶ TCP ─▶ server
//!                              ▲ replies                       │
//!                              │                               ▼
//!  embedder ◀── Mailbox ◀── receive thread ◀── TCP ($ frames, replies) / UDP RTP + RTCP
//! ```
//!
//! The protocol logic lives in the sans-I/O [`Session`] (requests and replies) and
//! [`MediaReceiver`] (packets to frames and statistics); this module only moves bytes, keeps
//! time and owns the threads.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, select, unbounded, Receiver, Sender};
use parking_lot::Mutex;

use super::config::{ClientConfig, Target, TransportPreference};
use super::error::ClientError;
use super::event::{Description, Event, State};
use super::mailbox::Mailbox;
use super::media::MediaReceiver;
use super::net;
use super::protocol_log::{MessageDirection, ProtocolMessage};
use super::session::{
    Incoming, MediaInfo, Outcome, ReplyReader, Request, ServerTransport, Session, SetupTransport,
};
use super::stats::Stats;
use super::stream::ControlStream;

/// A position in the media.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Position {
    /// Seconds from the start (normal play time).
    Seconds(f64),
    /// Frames from the start (converted with the announced frame rate; the lab's unit).
    Frames(u64),
}

/// A seek request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Seek {
    /// Go to an absolute position.
    To(Position),
    /// Skip forward by an amount (the lab's FORWARD).
    Forward(Position),
    /// Skip backward by an amount (the lab's BACKWARD).
    Backward(Position),
    /// Back to the start (the lab's RESTART).
    Restart,
}

/// How RTP reaches the client in the current session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActiveTransport {
    /// UDP to the given local RTP port (RTCP on the next one in the standard dialect).
    Udp {
        /// Local RTP port.
        rtp_port: u16,
    },
    /// Interleaved in the RTSP connection.
    Tcp {
        /// RTP channel (RTCP is the next one).
        channel: u8,
    },
}

/// How often the receive thread wakes up when nothing arrives, to run timers.
const TICK: Duration = Duration::from_millis(50);
/// RTCP receiver report period (RFC 3550 suggests 5 s minimum for small sessions).
const RR_INTERVAL: Duration = Duration::from_secs(5);
/// Biggest datagram we read (a UDP datagram cannot be larger).
const MAX_DATAGRAM: usize = 65_536;
/// Most FORWARD/BACKWARD requests one lab seek sends (20 000 frames, 16 minutes at 20 fps).
const MAX_LAB_STEPS: u64 = 1000;
/// Timeout for the best-effort TEARDOWN sent when a client is dropped.
const DROP_TEARDOWN_TIMEOUT: Duration = Duration::from_secs(1);

/// What the embedder asks the control thread to do.
#[derive(Debug, Clone, Copy)]
enum Op {
    Describe,
    Setup,
    Play(Option<Position>),
    Pause,
    Seek(Seek),
    Teardown,
    PlayerPlay,
}

/// What an operation returns on success.
#[derive(Debug)]
enum Answer {
    Done,
    Description(Description),
}

struct Command {
    op: Op,
    reply: Sender<Result<Answer, ClientError>>,
}

/// State shared by the API, the control thread and the receive thread.
struct Shared {
    mailbox: Mailbox,
    state: Mutex<State>,
    media: Mutex<MediaReceiver>,
    /// RTP packets seen since the last PLAY: the UDP fallback watches it.
    packets_since_play: AtomicU64,
    /// Whether the UDP-to-TCP fallback may still happen in this PLAY (the control thread's
    /// timer), so the stall watchdog leaves a silent start to it.
    fallback_armed: AtomicBool,
    transport: Mutex<Option<ActiveTransport>>,
    config: ClientConfig,
    /// When the client was created: the protocol log's time origin.
    started: Instant,
}

impl Shared {
    /// Reports an RTSP message to the protocol log, if the embedder asked for one.
    fn log_message(&self, direction: MessageDirection, bytes: &[u8]) {
        if self.config.protocol_log {
            let message = ProtocolMessage::new(direction, self.started.elapsed(), bytes);
            self.mailbox.push(Event::Message(message));
        }
    }

    fn set_state(&self, state: State) {
        let mut current = self.state.lock();
        if *current != state {
            *current = state;
            drop(current);
            self.mailbox.push(Event::StateChanged(state));
        }
    }

    fn stats(&self) -> Stats {
        self.media.lock().stats(Instant::now())
    }
}

/// An RTSP client: connects on creation, then runs the methods the embedder calls. Frames and
/// other events arrive through [`Client::next_event`] or the handler given to
/// [`Client::with_handler`].
///
/// Every method blocks until the server answered (or the reply timeout passed). Dropping the
/// client sends TEARDOWN if a session exists and stops its threads.
pub struct Client {
    shared: Arc<Shared>,
    commands: Option<Sender<Command>>,
    control: Option<JoinHandle<()>>,
    delivery: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("target", &self.shared.config.target)
            .field("state", &*self.shared.state.lock())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to the server. In the standard dialect this also sends OPTIONS (as VLC does), to
    /// learn the keepalive method.
    pub fn connect(config: ClientConfig) -> Result<Self, ClientError> {
        let started = Instant::now();
        let (session, host, port) = match &config.target {
            Target::Url(url) => {
                let mut session = Session::standard(url, &config.user_agent)?;
                if let Some(c) = &config.credentials {
                    session.set_credentials(&c.user, &c.password);
                }
                let (host, port) = session.host_port();
                (session, host, port)
            }
            Target::Lab(lab) => {
                if lab.file.is_empty() || lab.file.contains(['\n', '\r', ' ']) {
                    return Err(ClientError::BadUrl(format!(
                        "lab file name {:?} must be non-empty and have no spaces or line breaks",
                        lab.file
                    )));
                }
                if lab.server_port == 0 {
                    return Err(ClientError::BadUrl("lab server port 0".into()));
                }
                (Session::lab(&lab.file), lab.host.clone(), lab.server_port)
            }
        };
        let tls = session.is_tls().then_some(&config.certificate_check);
        let stream = ControlStream::connect(&host, port, config.reply_timeout, tls)?;
        let server = stream
            .peer_addr()
            .map_err(|e| ClientError::from_io(&e, &host))?;
        let local = stream
            .local_addr()
            .map_err(|e| ClientError::from_io(&e, &host))?
            .ip();
        let media = if config.is_lab() {
            MediaReceiver::lab(Instant::now(), config.lab_frame_interval)
        } else {
            MediaReceiver::standard(Instant::now())
        };
        let shared = Arc::new(Shared {
            mailbox: Mailbox::default(),
            state: Mutex::new(State::Init),
            media: Mutex::new(media),
            packets_since_play: AtomicU64::new(0),
            fallback_armed: AtomicBool::new(false),
            transport: Mutex::new(None),
            config: config.clone(),
            started,
        });
        let conn = Connection::open(stream, Arc::clone(&shared), session.is_lab())?;
        let mut control = Control {
            shared: Arc::clone(&shared),
            config,
            session,
            host,
            port,
            server,
            local,
            conn: Some(conn),
            media_info: MediaInfo::default(),
            play_sent_at: None,
            next_keepalive: None,
            fallback_done: false,
        };
        if !control.session.is_lab() {
            // A failed OPTIONS is not fatal (gst and live555 go on too), a dead server is.
            match control.transact(Request::Options) {
                Ok(_)
                | Err(
                    ClientError::Status { .. }
                    | ClientError::Forbidden { .. }
                    | ClientError::Unauthorized { .. },
                ) => {}
                Err(e) => return Err(e),
            }
        }
        let (tx, rx) = unbounded::<Command>();
        let handle = thread::Builder::new()
            .name("rtsp-control".into())
            .spawn(move || control.run(rx))
            .map_err(|e| ClientError::Io(format!("cannot start the control thread: {e}")))?;
        Ok(Self {
            shared,
            commands: Some(tx),
            control: Some(handle),
            delivery: None,
        })
    }

    /// Connects and calls `handler` with every event, on a dedicated delivery thread: a slow
    /// handler never stalls reception (it only misses intermediate frames, counted in
    /// [`Stats::frames_dropped`]).
    pub fn with_handler<F>(config: ClientConfig, mut handler: F) -> Result<Self, ClientError>
    where
        F: FnMut(Event) + Send + 'static,
    {
        let mut client = Self::connect(config)?;
        let shared = Arc::clone(&client.shared);
        let handle = thread::Builder::new()
            .name("rtsp-delivery".into())
            .spawn(move || {
                while let Some(event) = shared.mailbox.pop(Duration::from_secs(3600)) {
                    handler(event);
                }
            })
            .map_err(|e| ClientError::Io(format!("cannot start the delivery thread: {e}")))?;
        client.delivery = Some(handle);
        Ok(client)
    }

    /// The next event, waiting up to `timeout`. Returns `None` on timeout or after the client
    /// shut down. Do not mix with [`Client::with_handler`], which consumes the events itself.
    pub fn next_event(&self, timeout: Duration) -> Option<Event> {
        self.shared.mailbox.pop(timeout)
    }

    fn call(&self, op: Op) -> Result<Answer, ClientError> {
        let (tx, rx) = bounded(1);
        let commands = self.commands.as_ref().ok_or(ClientError::Shutdown)?;
        commands
            .send(Command { op, reply: tx })
            .map_err(|_| ClientError::Shutdown)?;
        rx.recv().unwrap_or(Err(ClientError::Shutdown))
    }

    /// DESCRIBE: asks for the session description (also delivered as [`Event::Description`]).
    pub fn describe(&self) -> Result<Description, ClientError> {
        match self.call(Op::Describe)? {
            Answer::Description(d) => Ok(d),
            Answer::Done => Err(ClientError::MalformedReply(
                "DESCRIBE without a body".into(),
            )),
        }
    }

    /// SETUP: creates the session. In the standard dialect a DESCRIBE is sent first if none was.
    pub fn setup(&self) -> Result<(), ClientError> {
        self.call(Op::Setup).map(drop)
    }

    /// PLAY from where the stream is (the start, or where it was paused).
    pub fn play(&self) -> Result<(), ClientError> {
        self.call(Op::Play(None)).map(drop)
    }

    /// PLAY from a position.
    pub fn play_from(&self, position: Position) -> Result<(), ClientError> {
        self.call(Op::Play(Some(position))).map(drop)
    }

    /// PAUSE.
    pub fn pause(&self) -> Result<(), ClientError> {
        self.call(Op::Pause).map(drop)
    }

    /// Moves the play position. Playing streams keep playing from the new position; paused
    /// ones stay paused there (standard dialect) or move (lab dialect).
    pub fn seek(&self, seek: Seek) -> Result<(), ClientError> {
        self.call(Op::Seek(seek)).map(drop)
    }

    /// TEARDOWN: ends the session (the connection stays open for a new SETUP).
    pub fn teardown(&self) -> Result<(), ClientError> {
        self.call(Op::Teardown).map(drop)
    }

    /// The player's Play button (the lab's optional exercise 2): SETUP first if there is no
    /// session yet, then PLAY; does nothing if already playing.
    pub fn player_play(&self) -> Result<(), ClientError> {
        self.call(Op::PlayerPlay).map(drop)
    }

    /// The player's Pause button: PAUSE if playing, nothing otherwise.
    pub fn player_pause(&self) -> Result<(), ClientError> {
        if self.state() == State::Playing {
            self.pause()
        } else {
            Ok(())
        }
    }

    /// The player's Stop button: TEARDOWN if a session exists, nothing otherwise. A later
    /// [`Client::player_play`] starts over from the beginning with a new session.
    pub fn player_stop(&self) -> Result<(), ClientError> {
        if self.state() == State::Init {
            Ok(())
        } else {
            self.teardown()
        }
    }

    /// The current session state.
    pub fn state(&self) -> State {
        *self.shared.state.lock()
    }

    /// The statistics right now.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// How RTP arrives in the current session, if one is set up.
    pub fn transport(&self) -> Option<ActiveTransport> {
        *self.shared.transport.lock()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // Closing the command channel makes the control thread tear down and exit.
        self.commands = None;
        if let Some(h) = self.control.take() {
            let _ = h.join();
        }
        self.shared.mailbox.close();
        if let Some(h) = self.delivery.take() {
            // Dropping the client from inside its own handler must not join itself.
            if h.thread().id() != thread::current().id() {
                let _ = h.join();
            }
        }
    }
}

/// One RTSP connection and its receive thread.
struct Connection {
    writer: Arc<Mutex<ControlStream>>,
    replies: Receiver<Incoming>,
    media_path: Sender<MediaPath>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Waits for the reply to the request `session` just encoded and applies it. The outer `Err` is
/// the connection lost (the session is reset); the inner result is the reply's meaning, or a
/// timeout (the request is abandoned).
pub(super) fn await_reply(
    session: &mut Session,
    replies: &Receiver<Incoming>,
    method: &str,
    timeout: Duration,
) -> Result<Result<Outcome, ClientError>, ClientError> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match replies.recv_timeout(left) {
            Ok(Incoming::Reply(reply)) => {
                if session.is_reply_to_pending(&reply) {
                    return Ok(session.handle_reply(&reply));
                }
            }
            Ok(Incoming::Closed(e)) | Ok(Incoming::Failed(e)) => {
                session.reset();
                return Err(e);
            }
            Err(_) => {
                session.abandon_pending();
                return Ok(Err(ClientError::Timeout {
                    method: method.to_owned(),
                    timeout,
                    lab: session.is_lab(),
                }));
            }
        }
    }
}

/// Where the receive thread finds RTP and RTCP.
enum MediaPath {
    /// UDP sockets; RTCP receiver reports go to `server_rtcp` when known.
    Udp {
        rtp: UdpSocket,
        rtcp: Option<UdpSocket>,
        server_rtcp: Option<SocketAddr>,
    },
    /// Interleaved channels on the RTSP connection.
    Interleaved { rtp: u8, rtcp: u8 },
    /// Nothing (after TEARDOWN).
    None,
}

impl Connection {
    fn open(stream: ControlStream, shared: Arc<Shared>, lab: bool) -> Result<Self, ClientError> {
        let reader = stream
            .try_clone()
            .map_err(|e| ClientError::Io(format!("cannot clone the RTSP socket: {e}")))?;
        let writer = Arc::new(Mutex::new(stream));
        let (reply_tx, replies) = unbounded();
        let (media_path, path_rx) = unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        let keep_messages = shared.config.protocol_log;
        let receiver = Receive {
            shared,
            tcp: reader,
            writer: Arc::clone(&writer),
            reader: ReplyReader::new(lab, keep_messages),
            replies: reply_tx,
            paths: path_rx,
            path: MediaPath::None,
            stop: Arc::clone(&stop),
            lab,
        };
        let thread = thread::Builder::new()
            .name("rtsp-receive".into())
            .spawn(move || receiver.run())
            .map_err(|e| ClientError::Io(format!("cannot start the receive thread: {e}")))?;
        Ok(Self {
            writer,
            replies,
            media_path,
            stop,
            thread: Some(thread),
        })
    }

    fn send(&self, bytes: &[u8]) -> Result<(), ClientError> {
        // One write per request: the lab server reads each request with a single recv().
        self.writer
            .lock()
            .write_all(bytes)
            .map_err(|e| ClientError::from_io(&e, "server"))
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.writer.lock().shutdown();
        if let Some(h) = self.thread.take() {
            let _ = h.join();
        }
    }
}

/// The control thread's state.
struct Control {
    shared: Arc<Shared>,
    config: ClientConfig,
    session: Session,
    host: String,
    port: u16,
    server: SocketAddr,
    /// This end's address on the RTSP connection: the one the server (or the PROXY protocol
    /// header of a balancer in front of it) sees and sends UDP media to.
    local: IpAddr,
    conn: Option<Connection>,
    media_info: MediaInfo,
    play_sent_at: Option<Instant>,
    next_keepalive: Option<Instant>,
    fallback_done: bool,
}

impl Control {
    fn run(mut self, commands: Receiver<Command>) {
        loop {
            let timeout = self.next_timer().saturating_duration_since(Instant::now());
            let incoming = match &self.conn {
                Some(c) => c.replies.clone(),
                None => crossbeam_channel::never(),
            };
            select! {
                recv(commands) -> cmd => match cmd {
                    Ok(cmd) => {
                        let result = self.execute(cmd.op);
                        let _ = cmd.reply.send(result);
                    }
                    Err(_) => break,
                },
                recv(incoming) -> msg => self.unsolicited(msg.ok()),
                default(timeout) => self.on_timer(),
            }
        }
        self.shutdown();
    }

    /// Best-effort TEARDOWN when the client goes away.
    fn shutdown(&mut self) {
        if self.session.state() != State::Init && self.conn.is_some() {
            let saved = self.config.reply_timeout;
            self.config.reply_timeout = saved.min(DROP_TEARDOWN_TIMEOUT);
            let _ = self.transact(Request::Teardown);
        }
        self.conn = None;
    }

    fn next_timer(&self) -> Instant {
        let far = Instant::now() + Duration::from_secs(3600);
        let mut next = self.next_keepalive.unwrap_or(far);
        let fallback = self.fallback_deadline();
        self.shared
            .fallback_armed
            .store(fallback.is_some(), Ordering::SeqCst);
        if let Some(fallback) = fallback {
            next = next.min(fallback);
        }
        next
    }

    fn fallback_deadline(&self) -> Option<Instant> {
        let udp = matches!(
            *self.shared.transport.lock(),
            Some(ActiveTransport::Udp { .. })
        );
        if self.config.transport == TransportPreference::Auto
            && udp
            && !self.fallback_done
            && !self.session.is_lab()
            && self.session.state() == State::Playing
        {
            self.play_sent_at
                .map(|t| t + self.config.udp_fallback_after)
        } else {
            None
        }
    }

    fn on_timer(&mut self) {
        let now = Instant::now();
        if let Some(deadline) = self.fallback_deadline() {
            if now >= deadline {
                if self.shared.packets_since_play.load(Ordering::SeqCst) == 0 {
                    if let Err(e) = self.fall_back_to_tcp() {
                        self.shared.mailbox.push(Event::Error(e));
                    }
                }
                self.fallback_done = true;
            }
        }
        if let Some(at) = self.next_keepalive {
            if now >= at {
                self.keepalive();
            }
        }
    }

    /// Sends the keepalive; if it fails, tries the other method. Never tears down because of it.
    fn keepalive(&mut self) {
        self.next_keepalive = self
            .session
            .keepalive_interval()
            .map(|i| Instant::now() + i);
        let first = self.session.keepalive_request(false);
        if let Err(first_err) = self.transact(first) {
            let second = self.session.keepalive_request(true);
            if let Err(e) = self.transact(second) {
                tracing::warn!("keepalive failed: {first_err}; then {e}");
                self.shared.mailbox.push(Event::Error(e));
            }
        }
    }

    /// A message that arrived with no request pending: a late reply, or the connection closing.
    fn unsolicited(&mut self, msg: Option<Incoming>) {
        match msg {
            Some(Incoming::Reply(_)) => {}
            Some(Incoming::Closed(err)) | Some(Incoming::Failed(err)) => {
                self.conn = None;
                self.next_keepalive = None;
                if self.session.state() != State::Init {
                    self.session.reset();
                    self.shared.set_state(State::Init);
                }
                self.shared.mailbox.push(Event::Error(err));
            }
            None => self.conn = None,
        }
    }

    /// Sends one request and waits for its reply, updating the session.
    fn transact(&mut self, request: Request) -> Result<Outcome, ClientError> {
        loop {
            match self.transact_once(request) {
                // The session took the 401's challenge: the same request again, with credentials.
                Ok(Outcome::RetryWithAuth) => continue,
                // The session counts redirects and gives up after a bound, so this ends.
                Ok(Outcome::Redirected { location }) => {
                    self.follow_redirect(&location)?;
                    if matches!(request, Request::Setup(_)) {
                        // A SETUP URL comes from a description, which the new server gives.
                        self.describe()?;
                    }
                }
                other => return other,
            }
        }
    }

    /// Connects to where the session was redirected (a new connection even on the same host:
    /// the new URL may be served by another process behind the same address).
    fn follow_redirect(&mut self, location: &str) -> Result<(), ClientError> {
        tracing::info!(location, "redirected");
        self.conn = None;
        let (host, port) = self.session.host_port();
        self.host = host;
        self.port = port;
        self.reconnect()
    }

    fn transact_once(&mut self, request: Request) -> Result<Outcome, ClientError> {
        let conn = self.conn.as_ref().ok_or(ClientError::Closed)?;
        let method = request.method_name();
        let bytes = self.session.encode(&request)?;
        // Stale replies (to requests that timed out) must not be taken for this one.
        while conn.replies.try_recv().is_ok() {}
        if let Request::Play(from) = request {
            // Before the bytes leave: a nearby server's first RTP can be received and turned
            // into a frame before `send` returns, and it must already be placed at `from`.
            let now = Instant::now();
            self.play_sent_at = Some(now);
            self.shared.packets_since_play.store(0, Ordering::SeqCst);
            self.shared.media.lock().on_play_sent(now, from);
        }
        // Before the bytes leave, so the request is always logged before its reply.
        self.shared.log_message(MessageDirection::Sent, &bytes);
        conn.send(&bytes)?;
        match await_reply(
            &mut self.session,
            &conn.replies,
            method,
            self.config.reply_timeout,
        ) {
            Ok(outcome) => {
                if let Ok(o) = &outcome {
                    self.after_outcome(o);
                }
                outcome
            }
            Err(lost) => {
                self.conn = None;
                self.shared.set_state(State::Init);
                Err(lost)
            }
        }
    }

    /// Applies what a successful reply means to the runtime (state, keepalive, media).
    fn after_outcome(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Described(_, info) => {
                self.media_info = info.clone();
                self.shared.media.lock().set_stream_size(info.dimensions);
            }
            Outcome::Playing(play) => {
                self.shared.media.lock().on_play(play);
            }
            // The lab extension's `Frames:` line tells where the file ends.
            Outcome::LabMoved => {
                let total = self.session.total_frames();
                self.shared.media.lock().set_total_frames(total);
            }
            Outcome::TornDown => {
                self.next_keepalive = None;
                *self.shared.transport.lock() = None;
                if let Some(c) = &self.conn {
                    let _ = c.media_path.send(MediaPath::None);
                }
            }
            _ => {}
        }
        if self.next_keepalive.is_none() && self.session.state() != State::Init {
            self.next_keepalive = self
                .session
                .keepalive_interval()
                .map(|i| Instant::now() + i);
        }
        self.shared.set_state(self.session.state());
    }

    fn execute(&mut self, op: Op) -> Result<Answer, ClientError> {
        if self.conn.is_none() {
            self.reconnect()?;
        }
        match op {
            Op::Describe => self.describe().map(Answer::Description),
            Op::Setup => self.setup().map(|()| Answer::Done),
            Op::Play(from) => self.play(from).map(|()| Answer::Done),
            Op::Pause => self.transact(Request::Pause).map(|_| Answer::Done),
            Op::Seek(seek) => self.seek(seek).map(|()| Answer::Done),
            Op::Teardown => self.transact(Request::Teardown).map(|_| Answer::Done),
            Op::PlayerPlay => {
                if self.session.state() == State::Init {
                    self.setup()?;
                }
                if self.session.state() != State::Playing {
                    self.play(None)?;
                }
                Ok(Answer::Done)
            }
        }
    }

    fn reconnect(&mut self) -> Result<(), ClientError> {
        let tls = self
            .session
            .is_tls()
            .then_some(&self.config.certificate_check);
        let stream = ControlStream::connect(&self.host, self.port, self.config.reply_timeout, tls)?;
        self.server = stream
            .peer_addr()
            .map_err(|e| ClientError::from_io(&e, &self.host))?;
        self.local = stream
            .local_addr()
            .map_err(|e| ClientError::from_io(&e, &self.host))?
            .ip();
        self.conn = Some(Connection::open(
            stream,
            Arc::clone(&self.shared),
            self.session.is_lab(),
        )?);
        Ok(())
    }

    fn describe(&mut self) -> Result<Description, ClientError> {
        match self.transact(Request::Describe)? {
            Outcome::Described(d, _) => {
                self.shared.mailbox.push(Event::Description(d.clone()));
                Ok(d)
            }
            _ => Err(ClientError::MalformedReply(
                "DESCRIBE reply without a description".into(),
            )),
        }
    }

    fn setup(&mut self) -> Result<(), ClientError> {
        if self.session.state() != State::Init {
            return Err(ClientError::BadState {
                method: "SETUP".into(),
                state: self.session.state(),
            });
        }
        if self.session.is_lab() {
            return self.setup_lab();
        }
        if !self.session.has_description() {
            self.describe()?;
        }
        match self.config.transport {
            TransportPreference::Tcp => self.setup_tcp(),
            TransportPreference::Udp | TransportPreference::Auto => self.setup_udp(),
        }
    }

    /// Where to bind UDP media: on loopback, the connection's own address (behind a balancer
    /// the server's address is the balancer's, not where media arrives); elsewhere any.
    fn local_ip(&self) -> IpAddr {
        if self.local.is_loopback() {
            self.local
        } else if self.server.is_ipv6() {
            IpAddr::from([0u16; 8])
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        }
    }

    fn setup_lab(&mut self) -> Result<(), ClientError> {
        let wanted = match &self.config.target {
            Target::Lab(lab) => lab.rtp_port,
            Target::Url(_) => 0,
        };
        let rtp = UdpSocket::bind(SocketAddr::new(self.local_ip(), wanted))
            .or_else(|_| UdpSocket::bind(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), wanted)))
            .map_err(|e| ClientError::Io(format!("cannot bind RTP port {wanted}: {e}")))?;
        net::tune_udp(&rtp);
        let port = rtp
            .local_addr()
            .map_err(|e| ClientError::Io(e.to_string()))?
            .port();
        // A new lab session numbers its frames from 1 again, from the same SSRC.
        self.shared.media.lock().expect_renumbering();
        self.transact(Request::Setup(SetupTransport::Lab { rtp_port: port }))?;
        self.install_path(MediaPath::Udp {
            rtp,
            rtcp: None,
            server_rtcp: None,
        });
        *self.shared.transport.lock() = Some(ActiveTransport::Udp { rtp_port: port });
        Ok(())
    }

    fn setup_udp(&mut self) -> Result<(), ClientError> {
        // Every UDP session gets its own fallback decision: a new session after a stop may
        // meet a path that no longer carries UDP.
        self.fallback_done = false;
        let (rtp, rtcp) = net::bind_port_pair(self.local_ip())
            .map_err(|e| ClientError::Io(format!("cannot bind an RTP/RTCP port pair: {e}")))?;
        net::tune_udp(&rtp);
        let rtp_port = rtp
            .local_addr()
            .map_err(|e| ClientError::Io(e.to_string()))?
            .port();
        let outcome = self.transact(Request::Setup(SetupTransport::Udp {
            rtp_port,
            rtcp_port: rtp_port + 1,
        }));
        match outcome {
            Ok(Outcome::SetUp(ServerTransport::Udp {
                server_rtcp_port, ..
            })) => {
                let server_rtcp = server_rtcp_port.map(|p| SocketAddr::new(self.server.ip(), p));
                self.install_path(MediaPath::Udp {
                    rtp,
                    rtcp: Some(rtcp),
                    server_rtcp,
                });
                *self.shared.transport.lock() = Some(ActiveTransport::Udp { rtp_port });
                Ok(())
            }
            Ok(Outcome::SetUp(ServerTransport::Interleaved { rtp, rtcp })) => {
                // The server chose TCP itself; follow it.
                self.install_path(MediaPath::Interleaved { rtp, rtcp });
                *self.shared.transport.lock() = Some(ActiveTransport::Tcp { channel: rtp });
                Ok(())
            }
            Ok(_) => Err(ClientError::MalformedReply(
                "SETUP reply without a transport".into(),
            )),
            // 461 Unsupported Transport: this server only does TCP.
            Err(ClientError::Status { code: 461, .. })
                if self.config.transport == TransportPreference::Auto =>
            {
                self.setup_tcp()
            }
            Err(e) => Err(e),
        }
    }

    fn setup_tcp(&mut self) -> Result<(), ClientError> {
        match self.transact(Request::Setup(SetupTransport::Interleaved {
            rtp: 0,
            rtcp: 1,
        }))? {
            Outcome::SetUp(ServerTransport::Interleaved { rtp, rtcp }) => {
                self.install_path(MediaPath::Interleaved { rtp, rtcp });
                *self.shared.transport.lock() = Some(ActiveTransport::Tcp { channel: rtp });
                Ok(())
            }
            _ => Err(ClientError::Unsupported(
                "the server did not accept TCP interleaved transport".into(),
            )),
        }
    }

    fn install_path(&self, path: MediaPath) {
        // TCP delivers in order; only UDP needs the reorder window.
        let udp = matches!(path, MediaPath::Udp { .. });
        self.shared.media.lock().set_reordering(udp);
        if let Some(c) = &self.conn {
            let _ = c.media_path.send(path);
        }
    }

    fn seconds_of(&self, position: Position) -> f64 {
        match position {
            Position::Seconds(s) => s,
            Position::Frames(n) => n as f64 / self.media_info.frame_rate(),
        }
    }

    fn frames_of(&self, position: Position) -> u64 {
        match position {
            Position::Frames(n) => n,
            Position::Seconds(s) => (s * self.media_info.frame_rate()).round().max(0.0) as u64,
        }
    }

    fn play(&mut self, from: Option<Position>) -> Result<(), ClientError> {
        if self.session.is_lab() {
            if let Some(position) = from {
                let frames = self.frames_of(position);
                self.lab_seek(Seek::To(Position::Frames(frames)))?;
            }
            return self.transact(Request::Play(None)).map(drop);
        }
        let start = from.map(|p| self.seconds_of(p).max(0.0));
        if start.is_some() && self.session.state() == State::Playing {
            // Servers differ on PLAY while playing; PAUSE first is understood by all.
            self.transact(Request::Pause)?;
        }
        self.transact(Request::Play(start)).map(drop)
    }

    fn current_seconds(&self) -> f64 {
        self.shared.media.lock().position().as_secs_f64()
    }

    fn seek(&mut self, seek: Seek) -> Result<(), ClientError> {
        if self.session.state() == State::Init {
            return Err(ClientError::BadState {
                method: "seek".into(),
                state: State::Init,
            });
        }
        if self.session.is_lab() {
            return self.lab_seek(seek);
        }
        let target = match seek {
            Seek::To(p) => self.seconds_of(p),
            Seek::Forward(p) => self.current_seconds() + self.seconds_of(p),
            Seek::Backward(p) => self.current_seconds() - self.seconds_of(p),
            Seek::Restart => 0.0,
        }
        .max(0.0);
        if self.session.state() == State::Playing {
            self.transact(Request::Pause)?;
            self.transact(Request::Play(Some(target))).map(drop)
        } else {
            // Remember where the next PLAY starts.
            self.session.set_resume_position(target);
            self.shared
                .media
                .lock()
                .set_position(super::session::seconds(target));
            Ok(())
        }
    }

    /// The lab extension moves in steps of its own (20 frames): FORWARD/BACKWARD as many times as
    /// the amount needs, RESTART for the start or an absolute position.
    fn lab_seek(&mut self, seek: Seek) -> Result<(), ClientError> {
        let step = super::session::LAB_SKIP_FRAMES;
        // One request per 20 frames: bound the count so a huge amount cannot loop for ages.
        let steps = |frames: u64| frames.div_ceil(step).min(MAX_LAB_STEPS);
        let (restart, forward, backward) = match seek {
            Seek::Restart => (true, 0, 0),
            Seek::To(p) => (true, steps(self.frames_of(p)), 0),
            Seek::Forward(p) => (false, steps(self.frames_of(p)).max(1), 0),
            Seek::Backward(p) => (false, 0, steps(self.frames_of(p)).max(1)),
        };
        let plan = [
            (Request::LabRestart, u64::from(restart)),
            (Request::LabForward, forward),
            (Request::LabBackward, backward),
        ];
        for (request, times) in plan {
            for _ in 0..times {
                // Before the bytes leave: renumbered frames can arrive before the reply.
                self.shared.media.lock().expect_renumbering();
                self.transact(request)?;
            }
        }
        Ok(())
    }

    /// No UDP packet arrived after PLAY: tear the UDP session down and play again over TCP from
    /// where it was.
    fn fall_back_to_tcp(&mut self) -> Result<(), ClientError> {
        tracing::info!(
            "no UDP packet within {:?}; switching to TCP",
            self.config.udp_fallback_after
        );
        let position = self.current_seconds();
        let _ = self.transact(Request::Teardown);
        // Some servers close the connection after TEARDOWN; start a fresh one either way.
        self.conn = None;
        self.session.reset();
        self.reconnect()?;
        self.setup_tcp()?;
        self.transact(Request::Play(Some(position))).map(drop)
    }
}

/// The receive thread's state.
struct Receive {
    shared: Arc<Shared>,
    tcp: ControlStream,
    writer: Arc<Mutex<ControlStream>>,
    reader: ReplyReader,
    replies: Sender<Incoming>,
    paths: Receiver<MediaPath>,
    path: MediaPath,
    stop: Arc<AtomicBool>,
    lab: bool,
}

impl Receive {
    fn run(mut self) {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let mut tcp_open = true;
        let mut next_rr = Instant::now() + RR_INTERVAL;
        let stats_every = self.shared.config.stats_interval;
        let mut next_stats = stats_every.map(|i| Instant::now() + i);
        let end_silence = self.shared.config.lab_end_silence;
        while !self.stop.load(Ordering::SeqCst) {
            self.take_path_updates();
            let (rtp, rtcp) = match &self.path {
                MediaPath::Udp { rtp, rtcp, .. } => (Some(rtp), rtcp.as_ref()),
                _ => (None, None),
            };
            let ready = net::poll_readable(
                [
                    tcp_open.then_some(&self.tcp as &dyn AsRawFd),
                    rtp.map(|s| s as &dyn AsRawFd),
                    rtcp.map(|s| s as &dyn AsRawFd),
                ],
                TICK,
            );
            let ready = match ready {
                Ok(r) => r,
                Err(e) => {
                    let _ = self
                        .replies
                        .send(Incoming::Failed(ClientError::Io(e.to_string())));
                    break;
                }
            };
            let now = Instant::now();
            if ready[0] {
                tcp_open = self.read_tcp(&mut buf, now);
                // A TLS read may decrypt more than one buffer holds; the socket will not
                // say so again.
                while tcp_open && self.tcp.has_buffered() {
                    tcp_open = self.read_tcp(&mut buf, now);
                }
            }
            if ready[1] {
                if let MediaPath::Udp { rtp, .. } = &self.path {
                    // Drain everything queued: one poll per datagram would be slow at high rates.
                    while let Ok(n) = rtp_recv(rtp, &mut buf) {
                        let datagram = buf.get(..n).unwrap_or_default();
                        self.on_rtp(now, datagram);
                    }
                }
            }
            if ready[2] {
                if let MediaPath::Udp {
                    rtcp: Some(rtcp), ..
                } = &self.path
                {
                    while let Ok(n) = rtp_recv(rtcp, &mut buf) {
                        let packet = buf.get(..n).unwrap_or_default();
                        self.on_rtcp(now, packet);
                    }
                }
            }
            let now = Instant::now();
            let frames = self.shared.media.lock().poll(now);
            self.deliver(frames);
            if self.lab
                && self.shared.media.lock().silent_for(now) >= Some(end_silence)
                && *self.shared.state.lock() == State::Playing
            {
                self.shared.media.lock().mark_ended();
                self.shared.mailbox.push(Event::EndOfStream);
            }
            if let Some(silent) = self.stalled(now) {
                tracing::warn!("no media for {silent:?} while playing");
                self.shared
                    .mailbox
                    .push(Event::Error(ClientError::Stalled { silent }));
            }
            if now >= next_rr {
                next_rr = now + RR_INTERVAL;
                self.send_receiver_report(now);
            }
            if let (Some(at), Some(every)) = (next_stats, stats_every) {
                if now >= at {
                    next_stats = Some(now + every);
                    if *self.shared.state.lock() == State::Playing {
                        let stats = self.shared.stats();
                        self.shared.mailbox.push(Event::Stats(stats));
                    }
                }
            }
        }
    }

    /// The media-silence watchdog: how long a PLAYING stream has had no packet, once that
    /// reaches the configured limit.
    fn stalled(&self, now: Instant) -> Option<Duration> {
        let limit = self.shared.config.media_timeout?;
        if self.lab || *self.shared.state.lock() != State::Playing {
            return None;
        }
        // While the UDP fallback still waits for a first packet, silence is its call: it
        // switches to TCP (and a new PLAY restarts the watch) rather than report a stall.
        let fallback_pending = self.shared.fallback_armed.load(Ordering::SeqCst)
            && self.shared.packets_since_play.load(Ordering::SeqCst) == 0;
        if fallback_pending {
            return None;
        }
        self.shared.media.lock().check_stall(now, limit)
    }

    /// Installs the media path the control thread set up most recently.
    fn take_path_updates(&mut self) {
        while let Ok(path) = self.paths.try_recv() {
            if let MediaPath::Udp { rtp, rtcp, .. } = &path {
                // Drained in a loop after each poll, so they must never block.
                let _ = rtp.set_nonblocking(true);
                if let Some(s) = rtcp {
                    let _ = s.set_nonblocking(true);
                }
            }
            self.path = path;
        }
    }

    /// Reads the RTSP connection; returns false once it is closed.
    fn read_tcp(&mut self, buf: &mut [u8], now: Instant) -> bool {
        match self.tcp.read(buf) {
            Ok(0) => {
                let _ = self.replies.send(Incoming::Closed(ClientError::Closed));
                false
            }
            Ok(n) => {
                let mut items = Vec::new();
                let result = self
                    .reader
                    .push(buf.get(..n).unwrap_or_default(), &mut items);
                // Logged before the replies reach the control thread, whose reaction (a state
                // change, the next request) must come after them in the log.
                for message in self.reader.take_messages() {
                    self.shared
                        .log_message(MessageDirection::Received, &message);
                }
                for item in items {
                    match item {
                        Incoming::Reply(r) => {
                            let _ = self.replies.send(Incoming::Reply(r));
                        }
                        other => {
                            let _ = self.replies.send(other);
                        }
                    }
                }
                // SETUP's path may have been installed while this thread sat in poll: the
                // first interleaved frames can share a read with the PLAY reply, and without
                // the path they would be discarded.
                self.take_path_updates();
                let interleaved = self.reader.take_interleaved();
                for (channel, packet) in interleaved {
                    self.on_interleaved(now, channel, &packet);
                }
                if let Err(e) = result {
                    let _ = self.replies.send(Incoming::Failed(e));
                    return false;
                }
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => true,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => true,
            Err(e) => {
                let _ = self
                    .replies
                    .send(Incoming::Closed(ClientError::from_io(&e, "server")));
                false
            }
        }
    }

    fn on_interleaved(&self, now: Instant, channel: u8, packet: &[u8]) {
        if let MediaPath::Interleaved { rtp, rtcp } = self.path {
            if channel == rtp {
                self.on_rtp(now, packet);
            } else if channel == rtcp {
                self.on_rtcp(now, packet);
            }
        }
    }

    fn on_rtp(&self, now: Instant, packet: &[u8]) {
        self.shared
            .packets_since_play
            .fetch_add(1, Ordering::SeqCst);
        let frames = self.shared.media.lock().push_rtp(now, packet);
        self.deliver(frames);
    }

    fn on_rtcp(&self, now: Instant, packet: &[u8]) {
        let bye = self.shared.media.lock().push_rtcp(now, packet);
        if bye {
            let frames = self.shared.media.lock().flush(now);
            self.deliver(frames);
            self.shared.mailbox.push(Event::EndOfStream);
        }
    }

    fn deliver(&self, frames: Vec<super::event::Frame>) {
        let mut ended = false;
        for frame in frames {
            let dropped = self.shared.mailbox.push_frame(frame);
            let mut media = self.shared.media.lock();
            if dropped > 0 {
                media.on_frames_dropped(dropped);
            }
            ended |= media.take_end_of_stream();
        }
        if ended {
            self.shared.mailbox.push(Event::EndOfStream);
        }
    }

    fn send_receiver_report(&mut self, now: Instant) {
        let Some(report) = self.shared.media.lock().receiver_report(now) else {
            return;
        };
        match &self.path {
            MediaPath::Udp {
                rtcp: Some(sock),
                server_rtcp: Some(addr),
                ..
            } => {
                let _ = sock.send_to(&report, addr);
            }
            MediaPath::Interleaved { rtcp, .. } => {
                let Ok(len) = u16::try_from(report.len()) else {
                    return;
                };
                let mut frame = Vec::with_capacity(report.len() + 4);
                frame.push(b'$');
                frame.push(*rtcp);
                frame.extend_from_slice(&len.to_be_bytes());
                frame.extend_from_slice(&report);
                // Under the writer lock, so an RR never tears a request apart.
                let _ = self.writer.lock().write_all(&frame);
            }
            _ => {}
        }
    }
}

/// Receives one datagram from a non-blocking socket.
fn rtp_recv(socket: &UdpSocket, buf: &mut [u8]) -> std::io::Result<usize> {
    socket.recv(buf)
}
