//! The web listener of `--http`: MJPEG streams for browsers (`GET /stream/<path>`, as
//! `multipart/x-mixed-replace`), the page that watches them (`GET /`) and its JSON
//! (`GET /api/paths`).
//!
//! Web workers (as many as RTSP connection workers) each run a mio event loop over the HTTP
//! connections they accepted from the one listening socket, non-blocking, in the style of the
//! RTSP connection workers: no thread per viewer, a viewer is a socket and a position. The
//! frames are the ones RTSP sessions send, not copies: a file's frames as loaded once by the
//! catalog, the live test source's shared renders, a published path's latest frame. A file is
//! paced on the same deadline grid as an RTSP session (frame `n` at `start + n / fps`), live
//! and published paths are polled like their RTSP readers are (see `published`).
//!
//! Each viewer holds at most one frame on its way out. A frame that falls due while the last
//! one is still being written is dropped and counted, so a slow reader loses whole frames and
//! its backlog never grows; the other viewers, served by the same loop, are not held up. Its
//! send buffer is kept small, so "slow" shows within a second rather than after megabytes.
//!
//! Requests are parsed by the sans-I/O [`crate::server::http`] (httparse), which applies the
//! RTSP path confinement to stream paths; with credentials every request but `/healthz`
//! authenticates like an RTSP request (Digest, or Basic when allowed), answered 401 with
//! `WWW-Authenticate` otherwise.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, IoSlice, Read as _};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token, Waker};

use crate::server::http::{self, Asset, HttpError, Method, Parsed, Route};
use crate::server::runtime::metrics::CONTENT_TYPE as METRICS_CONTENT_TYPE;
use crate::server::runtime::published::READER_POLL_FPS;
use crate::server::runtime::shared::Ctx;
use crate::server::runtime::source::{Jpeg, Source};
use crate::server::target::{Target, MJPEG_EXTENSIONS, TEST_SOURCE};
use crate::server::Refusal;

const LISTENER: Token = Token(0);
/// Woken to stop, and when a media file a viewer waits for is loaded.
const WAKE: Token = Token(1);
const FIRST_CLIENT: usize = 2;

/// Most HTTP connections at once; more are closed as they arrive.
const MAX_CLIENTS: usize = 1024;
/// Time a client gets to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// Time a finished reply gets to drain before its connection is closed.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// A viewer's socket send buffer: about a second of 640x480 video, so a stalled reader starts
/// losing frames soon instead of after megabytes of backlog.
const SEND_BUFFER: usize = 128 * 1024;
/// How deep under the media root the page looks for files.
const LIST_DEPTH: usize = 4;
/// Most files the page lists.
const LIST_MAX: usize = 500;

const INDEX_HTML: &str = include_str!("web/index.html");
const APP_JS: &str = include_str!("web/app.js");
const STYLE_CSS: &str = include_str!("web/style.css");

/// The statistics of every path's HTTP viewers, shared by the web workers (a viewer is counted
/// by the worker serving it; `/api/paths` may be answered by any of them).
#[derive(Debug, Default)]
pub struct WebStats {
    paths: parking_lot::Mutex<BTreeMap<String, Totals>>,
}

impl WebStats {
    fn update(&self, path: &str, f: impl FnOnce(&mut Totals)) {
        let mut paths = self.paths.lock();
        match paths.get_mut(path) {
            Some(totals) => f(totals),
            None => f(paths.entry(path.to_owned()).or_default()),
        }
    }

    fn get(&self, path: &str) -> Totals {
        self.paths.lock().get(path).copied().unwrap_or_default()
    }
}

/// A path's HTTP viewers now, and their frames, bytes and drops since the server started.
#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    viewers: u64,
    viewers_ever: u64,
    frames: u64,
    dropped: u64,
    bytes: u64,
}

/// A reply on its way out: head, body and tail (a part's CRLF), and how much is written.
struct Outgoing {
    head: Vec<u8>,
    body: Body,
    tail: &'static [u8],
    written: usize,
}

enum Body {
    Empty,
    Text(Vec<u8>),
    Static(&'static str),
    Jpeg(Jpeg),
}

impl Body {
    fn bytes(&self) -> &[u8] {
        match self {
            Self::Empty => &[],
            Self::Text(v) => v,
            Self::Static(s) => s.as_bytes(),
            Self::Jpeg(j) => j.as_ref(),
        }
    }
}

impl Outgoing {
    fn len(&self) -> usize {
        self.head.len() + self.body.bytes().len() + self.tail.len()
    }

    /// Write what the socket takes; true once everything is written.
    fn write_to(&mut self, w: &mut impl io::Write) -> io::Result<bool> {
        while self.written < self.len() {
            let pieces = [self.head.as_slice(), self.body.bytes(), self.tail];
            let mut skip = self.written;
            let mut slices = Vec::with_capacity(3);
            for p in pieces {
                if skip >= p.len() {
                    skip -= p.len();
                    continue;
                }
                slices.push(IoSlice::new(p.get(skip..).unwrap_or_default()));
                skip = 0;
            }
            match w.write_vectored(&slices) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

/// How a viewer's frames fall due.
enum Pacing {
    /// A file: frame `n` at `start + n / fps`, `next` the next index to send.
    File {
        start: Instant,
        next: u64,
        total: u64,
        fps: f64,
    },
    /// The test source or a published path: polled for a frame newer than `last`.
    Polled { last: Option<u64>, due: Instant },
}

struct Viewer {
    path: String,
    source: Arc<Source>,
    pacing: Pacing,
    frames: u64,
    dropped: u64,
    /// The last frame is written: close once it is out.
    ended: bool,
}

enum State {
    /// Reading the request head.
    Head,
    /// Waiting for the catalog to load `target`'s file.
    Loading(Target),
    /// Writing a reply, then closing.
    Reply,
    /// Streaming.
    Viewing(Viewer),
}

struct Client {
    stream: mio::net::TcpStream,
    peer: SocketAddr,
    since: Instant,
    input: Vec<u8>,
    out: Option<Outgoing>,
    state: State,
    closed: bool,
}

/// The web listener's thread state.
pub struct Web {
    poll: Poll,
    listener: mio::net::TcpListener,
    waker: Arc<Waker>,
    clients: HashMap<usize, Client>,
    next_token: usize,
    stats: Arc<WebStats>,
}

impl Web {
    /// A web worker accepting on `listener` (every worker polls the same listening socket;
    /// whichever accepts a connection serves it), and the waker that stops it (after
    /// `shutting_down` is set).
    pub fn new(listener: TcpListener, stats: Arc<WebStats>) -> io::Result<(Self, Arc<Waker>)> {
        listener.set_nonblocking(true)?;
        let poll = Poll::new()?;
        let mut listener = mio::net::TcpListener::from_std(listener);
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
        Ok((
            Self {
                poll,
                listener,
                waker: Arc::clone(&waker),
                clients: HashMap::new(),
                next_token: FIRST_CLIENT,
                stats,
            },
            waker,
        ))
    }

    /// Serve until the server shuts down.
    pub fn run(mut self, ctx: Arc<Ctx>) {
        let mut events = Events::with_capacity(256);
        loop {
            let timeout = self.next_deadline().map_or(Duration::from_secs(1), |d| {
                d.saturating_duration_since(Instant::now())
            });
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                tracing::error!(error = %e, "web listener poll failed");
                return;
            }
            if ctx.shutting_down.load(Ordering::Acquire) {
                return;
            }
            let mut woken = false;
            for event in &events {
                match event.token() {
                    LISTENER => self.accept(),
                    WAKE => woken = true,
                    Token(t) => {
                        if event.is_readable() || event.is_read_closed() || event.is_error() {
                            self.read(&ctx, t);
                        }
                        if event.is_writable() {
                            self.flush(t);
                        }
                    }
                }
            }
            if woken {
                self.resume_loading(&ctx);
            }
            self.tick(&ctx, Instant::now());
            self.reap(Instant::now());
        }
    }

    fn accept(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((mut stream, peer)) => {
                    if self.clients.len() >= MAX_CLIENTS {
                        tracing::warn!(%peer, "web listener full: connection closed");
                        continue;
                    }
                    let token = self.next_token;
                    self.next_token = self.next_token.wrapping_add(1).max(FIRST_CLIENT);
                    let _ = stream.set_nodelay(true);
                    if let Err(e) = self.poll.registry().register(
                        &mut stream,
                        Token(token),
                        Interest::READABLE | Interest::WRITABLE,
                    ) {
                        tracing::warn!(error = %e, "web connection not registered");
                        continue;
                    }
                    self.clients.insert(
                        token,
                        Client {
                            stream,
                            peer,
                            since: Instant::now(),
                            input: Vec::new(),
                            out: None,
                            state: State::Head,
                            closed: false,
                        },
                    );
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // Out of descriptors, most likely: the next accept will tell.
                    tracing::warn!(error = %e, "web accept failed");
                    return;
                }
            }
        }
    }

    fn read(&mut self, ctx: &Ctx, token: usize) {
        let Some(client) = self.clients.get_mut(&token) else {
            return;
        };
        let mut buf = [0u8; 4096];
        let mut eof = false;
        loop {
            match client.stream.read(&mut buf) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    // Once the head is in, later bytes (a browser sends none) are ignored; a
                    // head past the limit is refused below without reading more of it.
                    if matches!(client.state, State::Head) && client.input.len() <= http::MAX_HEAD {
                        client
                            .input
                            .extend_from_slice(buf.get(..n).unwrap_or_default());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    client.closed = true;
                    return;
                }
            }
        }
        if !matches!(client.state, State::Head) {
            // A client that half-closes after its request still gets the whole reply.
            if eof && !(matches!(client.state, State::Reply) && client.out.is_some()) {
                client.closed = true;
            }
            return;
        }
        match http::parse(&client.input) {
            Ok(Parsed::Partial) => client.closed |= eof,
            Ok(Parsed::Complete { request, .. }) => {
                client.input = Vec::new();
                self.serve(ctx, token, &request);
            }
            Err(e) => {
                let (status, reason) = e.status();
                let why = match e {
                    HttpError::Malformed => "malformed request\n",
                    HttpError::TooLarge => "request head too large\n",
                };
                self.reply_text(token, status, reason, "", why.to_owned(), false);
            }
        }
    }

    fn serve(&mut self, ctx: &Ctx, token: usize, request: &http::Request) {
        let head_only = request.method == Method::Head;
        if request.method == Method::Other {
            let text = "GET or HEAD only\n".to_owned();
            self.reply_text(
                token,
                405,
                "Method Not Allowed",
                "Allow: GET, HEAD\r\n",
                text,
                false,
            );
            return;
        }
        let route = match http::route(&request.target) {
            Ok(route) => route,
            Err(refusal) => return self.refuse(token, &refusal, head_only),
        };
        if route != Route::Health {
            if let Some(extra) = self.authenticate(ctx, token, request) {
                self.reply_text(
                    token,
                    401,
                    "Unauthorized",
                    &extra,
                    "authentication required\n".to_owned(),
                    head_only,
                );
                return;
            }
        }
        match route {
            Route::Asset(asset) => {
                let (content_type, body) = match asset {
                    Asset::Index => ("text/html; charset=utf-8", INDEX_HTML),
                    Asset::Script => ("text/javascript; charset=utf-8", APP_JS),
                    Asset::Style => ("text/css; charset=utf-8", STYLE_CSS),
                };
                self.reply(
                    token,
                    http::reply_head(200, "OK", content_type, Some(body.len()), ""),
                    if head_only {
                        Body::Empty
                    } else {
                        Body::Static(body)
                    },
                );
            }
            Route::Paths => {
                let body = self.paths_json(ctx).into_bytes();
                self.reply(
                    token,
                    http::reply_head(200, "OK", "application/json", Some(body.len()), ""),
                    if head_only {
                        Body::Empty
                    } else {
                        Body::Text(body)
                    },
                );
            }
            Route::Metrics => {
                let draining = ctx.draining.load(Ordering::Acquire);
                let body = ctx
                    .metrics
                    .encode(&ctx.registry.all(), draining)
                    .into_bytes();
                self.reply(
                    token,
                    http::reply_head(200, "OK", METRICS_CONTENT_TYPE, Some(body.len()), ""),
                    if head_only {
                        Body::Empty
                    } else {
                        Body::Text(body)
                    },
                );
            }
            Route::Health if ctx.draining.load(Ordering::Acquire) => self.reply_text(
                token,
                503,
                "Service Unavailable",
                "",
                "draining\n".to_owned(),
                head_only,
            ),
            Route::Health => self.reply_text(token, 200, "OK", "", "ok\n".to_owned(), head_only),
            Route::Stream(_) if ctx.draining.load(Ordering::Acquire) => self.reply_text(
                token,
                503,
                "Service Unavailable",
                "Retry-After: 30\r\n",
                "draining\n".to_owned(),
                head_only,
            ),
            Route::Stream(target) if head_only => match ctx.reader_source(&target) {
                Ok(_) => self.reply(
                    token,
                    http::reply_head(200, "OK", http::STREAM_CONTENT_TYPE, None, ""),
                    Body::Empty,
                ),
                Err(refusal) => self.refuse(token, &refusal, true),
            },
            Route::Stream(target) => self.open_stream(ctx, token, target),
        }
    }

    /// With credentials configured, the `WWW-Authenticate` lines refusing `request`, or `None`
    /// to serve it.
    fn authenticate(&self, ctx: &Ctx, token: usize, request: &http::Request) -> Option<String> {
        let auth = ctx.auth.as_ref()?;
        let peer = self.clients.get(&token).map(|c| c.peer)?;
        let values: Vec<&str> = request.authorization.iter().map(String::as_str).collect();
        let now = ctx.clock.origin().elapsed();
        let verdict = auth
            .lock()
            .check(request.method.as_str(), &request.target, &values, now);
        match verdict {
            Ok(user) => {
                tracing::debug!(%peer, user, "http request authenticated");
                None
            }
            Err(failure) => {
                if !values.is_empty() {
                    ctx.metrics.auth_failed();
                    if let Some(held_back) = ctx.may_log(peer.ip()) {
                        tracing::warn!(
                            %peer,
                            user = failure.user.as_deref().unwrap_or("-"),
                            reason = failure.reason,
                            suppressed = held_back,
                            "http authentication failed"
                        );
                    }
                }
                Some(
                    failure
                        .challenge
                        .www_authenticate
                        .iter()
                        .map(|v| format!("WWW-Authenticate: {v}\r\n"))
                        .collect(),
                )
            }
        }
    }

    fn open_stream(&mut self, ctx: &Ctx, token: usize, target: Target) {
        // A file not loaded yet is loaded by the catalog's loaders, not by this thread: the
        // viewer waits, and the loader wakes the loop.
        if ctx.published.get(&target.presentation).is_none() {
            let waker = Arc::clone(&self.waker);
            let ready = ctx.catalog.prefetch(
                &target,
                Box::new(move || {
                    let _ = waker.wake();
                }),
            );
            if !ready {
                if let Some(c) = self.clients.get_mut(&token) {
                    c.state = State::Loading(target);
                }
                return;
            }
        }
        let source = match ctx.reader_source(&target) {
            Ok(source) => source,
            Err(refusal) => return self.refuse(token, &refusal, false),
        };
        let now = Instant::now();
        let pacing = match source.total_frames() {
            Some(total) => Pacing::File {
                start: now,
                next: 0,
                total,
                fps: ctx.config.fps.max(0.1),
            },
            None => Pacing::Polled {
                last: None,
                due: now,
            },
        };
        let Some(client) = self.clients.get_mut(&token) else {
            return;
        };
        let _ = socket2::SockRef::from(&client.stream).set_send_buffer_size(SEND_BUFFER);
        tracing::info!(peer = %client.peer, path = %target.presentation, "http viewer started");
        self.stats.update(&target.presentation, |t| {
            t.viewers += 1;
            t.viewers_ever += 1;
        });
        client.out = Some(Outgoing {
            head: http::reply_head(200, "OK", http::STREAM_CONTENT_TYPE, None, "").into_bytes(),
            body: Body::Empty,
            tail: &[],
            written: 0,
        });
        client.state = State::Viewing(Viewer {
            path: target.presentation,
            source,
            pacing,
            frames: 0,
            dropped: 0,
            ended: false,
        });
        self.flush(token);
        self.tick(ctx, now);
    }

    fn resume_loading(&mut self, ctx: &Ctx) {
        let waiting: Vec<(usize, Target)> = self
            .clients
            .iter()
            .filter_map(|(t, c)| match &c.state {
                State::Loading(target) => Some((*t, target.clone())),
                _ => None,
            })
            .collect();
        for (token, target) in waiting {
            self.open_stream(ctx, token, target);
        }
    }

    /// Send every frame that fell due by `now`.
    fn tick(&mut self, ctx: &Ctx, now: Instant) {
        let looping = ctx.config.looping;
        let mut due = Vec::new();
        for (token, client) in &mut self.clients {
            let State::Viewing(viewer) = &mut client.state else {
                continue;
            };
            if viewer.ended {
                continue;
            }
            let Some((index, skipped)) = viewer.due(now, looping) else {
                continue;
            };
            let Some(frame) = index.and_then(|i| viewer.source.whole_jpeg(i)) else {
                // A file that has ended: close after the last part.
                viewer.ended = index.is_none();
                if viewer.ended && client.out.is_none() {
                    client.closed = true;
                }
                continue;
            };
            if client.out.is_some() {
                // The last frame is still on its way: this one is lost, whole.
                viewer.dropped += skipped + 1;
                self.stats
                    .update(&viewer.path, |t| t.dropped += skipped + 1);
                continue;
            }
            let len = frame.as_ref().len();
            viewer.dropped += skipped;
            viewer.frames += 1;
            self.stats.update(&viewer.path, |t| {
                t.dropped += skipped;
                t.frames += 1;
                t.bytes += len as u64;
            });
            client.out = Some(Outgoing {
                head: http::part_head(len).into_bytes(),
                body: Body::Jpeg(frame),
                tail: http::PART_END,
                written: 0,
            });
            due.push(*token);
        }
        for token in due {
            self.flush(token);
        }
    }

    fn flush(&mut self, token: usize) {
        let Some(client) = self.clients.get_mut(&token) else {
            return;
        };
        let Some(out) = client.out.as_mut() else {
            return;
        };
        match out.write_to(&mut client.stream) {
            Ok(true) => {
                client.out = None;
                let ended = match &client.state {
                    State::Viewing(v) => v.ended,
                    State::Reply => true,
                    State::Head | State::Loading(_) => false,
                };
                if ended {
                    let _ = client.stream.shutdown(std::net::Shutdown::Write);
                    client.closed = true;
                }
            }
            Ok(false) => {}
            Err(_) => client.closed = true,
        }
    }

    /// Close what is done: ended, failed or timed-out connections.
    fn reap(&mut self, now: Instant) {
        let mut gone = Vec::new();
        for (token, client) in &mut self.clients {
            let expired = match client.state {
                State::Head => now.duration_since(client.since) > HEAD_TIMEOUT,
                State::Reply => now.duration_since(client.since) > REPLY_TIMEOUT,
                State::Loading(_) | State::Viewing(_) => false,
            };
            if client.closed || expired {
                gone.push(*token);
            }
        }
        for token in gone {
            if let Some(mut client) = self.clients.remove(&token) {
                let _ = self.poll.registry().deregister(&mut client.stream);
                if let State::Viewing(v) = &client.state {
                    self.stats
                        .update(&v.path, |t| t.viewers = t.viewers.saturating_sub(1));
                    tracing::info!(
                        peer = %client.peer,
                        path = %v.path,
                        frames = v.frames,
                        dropped = v.dropped,
                        "http viewer ended"
                    );
                }
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        for client in self.clients.values() {
            let at = match &client.state {
                State::Viewing(v) if !v.ended => v.next_due(),
                State::Head => Some(client.since + HEAD_TIMEOUT),
                State::Reply => Some(client.since + REPLY_TIMEOUT),
                _ => None,
            };
            next = match (next, at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        next
    }

    fn refuse(&mut self, token: usize, refusal: &Refusal, head_only: bool) {
        let status = refusal.status();
        let (reason, text) = match refusal {
            Refusal::NotFound => ("Not Found", "not found\n".to_owned()),
            Refusal::BadRequest(why) => ("Bad Request", format!("{why}\n")),
            Refusal::ServiceUnavailable => ("Service Unavailable", "try again later\n".to_owned()),
            Refusal::UnsupportedMedia(why) => ("Unsupported Media Type", format!("{why}\n")),
            _ => ("Error", "cannot serve this\n".to_owned()),
        };
        self.reply_text(token, status, reason, "", text, head_only);
    }

    fn reply_text(
        &mut self,
        token: usize,
        status: u16,
        reason: &str,
        extra: &str,
        text: String,
        head_only: bool,
    ) {
        let head = http::reply_head(
            status,
            reason,
            "text/plain; charset=utf-8",
            Some(text.len()),
            extra,
        );
        let body = if head_only {
            Body::Empty
        } else {
            Body::Text(text.into_bytes())
        };
        self.reply(token, head, body);
    }

    fn reply(&mut self, token: usize, head: String, body: Body) {
        let Some(client) = self.clients.get_mut(&token) else {
            return;
        };
        client.state = State::Reply;
        client.since = Instant::now();
        client.out = Some(Outgoing {
            head: head.into_bytes(),
            body,
            tail: &[],
            written: 0,
        });
        self.flush(token);
    }

    /// `/api/paths`: every path a viewer may open, with its viewers and statistics.
    fn paths_json(&self, ctx: &Ctx) -> String {
        let mut sessions: HashMap<String, u64> = HashMap::new();
        for s in ctx.registry.all() {
            *sessions.entry(s.presentation.clone()).or_default() += 1;
        }
        let entry = |name: &str, kind: &str, source: Option<&Source>, live: bool| {
            let totals = self.stats.get(name);
            serde_json::json!({
                "path": name,
                "kind": kind,
                "live": live,
                "width": source.map(Source::width),
                "height": source.map(Source::height),
                "frames_total": source.and_then(Source::total_frames),
                "http_viewers": totals.viewers,
                "rtsp_sessions": sessions.get(name).copied().unwrap_or(0),
                "http_viewers_ever": totals.viewers_ever,
                "frames_sent": totals.frames,
                "frames_dropped": totals.dropped,
                "bytes_sent": totals.bytes,
            })
        };
        let mut paths = Vec::new();
        for name in media_files(ctx.catalog.root()) {
            paths.push(entry(&name, "file", None, false));
        }
        let test = ctx.catalog.open(&Target {
            presentation: TEST_SOURCE.to_owned(),
            track: false,
        });
        paths.push(entry(TEST_SOURCE, "test", test.ok().as_deref(), true));
        for (name, source) in ctx.published.all() {
            let live = ctx.is_published(&source);
            paths.push(entry(&name, "published", Some(&source), live));
        }
        serde_json::json!({ "fps": ctx.config.fps, "paths": paths }).to_string()
    }
}

impl Viewer {
    /// The frame to send at `now`, if one fell due, and how many due frames before it were
    /// skipped (a loop that woke late). `Some((None, _))`: a file that has ended.
    fn due(&mut self, now: Instant, looping: bool) -> Option<(Option<u64>, u64)> {
        match &mut self.pacing {
            Pacing::File {
                start,
                next,
                total,
                fps,
            } => {
                let elapsed = now.saturating_duration_since(*start).as_secs_f64();
                let slot = (elapsed * *fps).floor() as u64;
                if slot < *next {
                    return None;
                }
                let skipped = slot - *next;
                *next = slot + 1;
                match slot {
                    s if s < *total => Some((Some(s), skipped)),
                    s if looping && *total > 0 => Some((Some(s % *total), skipped)),
                    _ => Some((None, 0)),
                }
            }
            Pacing::Polled { last, due } => {
                if now < *due {
                    return None;
                }
                let period = Duration::from_secs_f64(1.0 / READER_POLL_FPS);
                *due = now + period;
                let index = match self.source.feed() {
                    Some(feed) => feed.latest().map(|l| l.index)?,
                    None => self.source.live_index(now),
                };
                if *last == Some(index) {
                    return None;
                }
                let skipped = last.map_or(0, |l| index.saturating_sub(l + 1));
                *last = Some(index);
                Some((Some(index), skipped))
            }
        }
    }

    fn next_due(&self) -> Option<Instant> {
        match &self.pacing {
            Pacing::File {
                start, next, fps, ..
            } => Some(*start + Duration::from_secs_f64(*next as f64 / fps)),
            Pacing::Polled { due, .. } => Some(*due),
        }
    }
}

/// The MJPEG files under `root` (to [`LIST_DEPTH`], at most [`LIST_MAX`]), as presentation
/// names, sorted. Hidden entries and symlinks are left out; what is listed is still opened
/// through the catalog's confinement.
fn media_files(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut dirs = vec![(root.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if hidden || kind.is_symlink() {
                continue;
            }
            if kind.is_dir() && depth + 1 < LIST_DEPTH {
                dirs.push((path, depth + 1));
                continue;
            }
            let mjpeg = path.extension().is_some_and(|ext| {
                MJPEG_EXTENSIONS
                    .iter()
                    .any(|known| ext.eq_ignore_ascii_case(known))
            });
            let name = path
                .strip_prefix(root)
                .ok()
                .and_then(Path::to_str)
                .map(str::to_owned);
            if let (true, true, Some(name)) = (kind.is_file(), mjpeg, name) {
                found.push(name);
                if found.len() >= LIST_MAX {
                    found.sort();
                    return found;
                }
            }
        }
    }
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes at most 5 bytes per call, refusing every other call as a full socket does.
    struct Trickle {
        got: Vec<u8>,
        calls: usize,
    }

    impl io::Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.calls += 1;
            if self.calls.is_multiple_of(2) {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = buf.len().min(5);
            self.got.extend_from_slice(buf.get(..n).unwrap_or_default());
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_part_written_in_pieces_arrives_whole_and_in_order() {
        let mut out = Outgoing {
            head: http::part_head(11).into_bytes(),
            body: Body::Text(b"jpeg-bytes!".to_vec()),
            tail: http::PART_END,
            written: 0,
        };
        let mut w = Trickle {
            got: Vec::new(),
            calls: 0,
        };
        let mut rounds = 0;
        while !out.write_to(&mut w).unwrap() {
            rounds += 1;
            assert!(rounds < 100);
        }
        let mut want = http::part_head(11).into_bytes();
        want.extend_from_slice(b"jpeg-bytes!\r\n");
        assert_eq!(w.got, want);
        assert!(rounds > 1, "written in several rounds");
    }

    fn file_viewer(start: Instant, total: u64) -> Viewer {
        let source = Source::test_pattern(20.0, start).unwrap();
        Viewer {
            path: "movie.Mjpeg".to_owned(),
            source: Arc::new(source),
            pacing: Pacing::File {
                start,
                next: 0,
                total,
                fps: 20.0,
            },
            frames: 0,
            dropped: 0,
            ended: false,
        }
    }

    #[test]
    fn a_file_is_paced_on_its_grid_and_a_late_wake_skips_to_the_current_slot() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut v = file_viewer(t0, 10);
        assert_eq!(v.due(t0, false), Some((Some(0), 0)));
        assert_eq!(v.due(t0 + ms(10), false), None);
        assert_eq!(v.next_due(), Some(t0 + ms(50)));
        assert_eq!(v.due(t0 + ms(50), false), Some((Some(1), 0)));
        // Woken at slot 4 instead of 2: frames 2 and 3 are skipped, 4 is sent.
        assert_eq!(v.due(t0 + ms(210), false), Some((Some(4), 2)));
        assert_eq!(v.due(t0 + ms(500), false), Some((None, 0)), "ended");
        let mut looping = file_viewer(t0, 10);
        assert_eq!(looping.due(t0 + ms(520), true), Some((Some(0), 10)));
        assert_eq!(looping.due(t0 + ms(560), true), Some((Some(1), 0)));
    }
}
