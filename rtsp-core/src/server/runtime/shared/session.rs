//! Live sessions: what every thread needs to know about one client stream, and the registry
//! that owns them.
//!
//! A session is shared (`Arc`) by its home connection worker (the one whose connection set it
//! up: it paces and sends the session's media), any worker whose connection controls it, and
//! the reaper. Fields that more than one thread writes are atomics or behind short locks; the
//! pacing grid lives in the home worker, and the RTP sequence counter, in the session, is only
//! ever advanced by the home worker.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::rtsp::Dialect;
use crate::server::SessionMachine;
use parking_lot::{Mutex, RwLock};

use super::ConnLink;
use crate::server::runtime::source::Source;

pub use crate::server::SessionId;

/// [`LiveSession::play_until`] of a PLAY without an end.
pub const NO_END: u64 = u64::MAX;

/// Where a session's RTP and RTCP go.
#[derive(Debug)]
pub enum Delivery {
    /// RTP (and RTCP) over UDP to the RTSP peer's address.
    Udp(UdpDelivery),
    /// `$`-framed on the RTSP connection (RFC 2326 section 10.12).
    Interleaved {
        /// The connection carrying the frames.
        link: ConnLink,
        /// Channel for RTP; RTCP uses `rtp_channel + 1`.
        rtp_channel: u8,
    },
}

/// UDP destinations of a session (it sends from its home worker's socket pair).
#[derive(Debug)]
pub struct UdpDelivery {
    /// The client's RTP address: always the RTSP peer's IP.
    pub rtp_dest: SocketAddr,
    /// The client's RTCP address; the lab dialect has none.
    pub rtcp_dest: Option<SocketAddr>,
}

/// Counters kept per session and logged when it ends.
#[derive(Debug, Default)]
pub struct SessionStats {
    /// Frames handed to the network.
    pub frames_sent: AtomicU64,
    /// RTP packets sent.
    pub packets_sent: AtomicU64,
    /// RTP payload bytes sent (the RTCP SR octet count).
    pub octets_sent: AtomicU64,
    /// Frames dropped because the connection's queue was full or a socket refused them.
    pub frames_dropped: AtomicU64,
    /// Frame slots skipped after a stalled worker woke up late.
    pub frames_skipped: AtomicU64,
    /// RTCP receiver reports received.
    pub rr_received: AtomicU64,
    /// Last reported fraction lost (RFC 3550 8-bit fixed point).
    pub rr_fraction_lost: AtomicU32,
    /// Last reported cumulative packets lost.
    pub rr_cumulative_lost: AtomicU32,
    /// Last reported interarrival jitter, in RTP timestamp units.
    pub rr_jitter: AtomicU32,
}

/// One session as the runtime runs it: its sockets, pacing position and counters around the
/// sans-I/O [`SessionMachine`]. (Not the client's [`crate::client::ClientSession`], nor the
/// `Session` header, [`crate::rtsp::headers::Session`].)
#[derive(Debug)]
pub struct LiveSession {
    /// Identifier.
    pub id: SessionId,
    /// The RTSP peer that created it; only this IP may control it or receive its media.
    pub peer: SocketAddr,
    /// Wire format.
    pub dialect: Dialect,
    /// The presentation name it was set up for (relative to the media root).
    pub presentation: String,
    /// The URL of the SETUP request (RTP-Info's `url=`).
    pub control_url: String,
    /// The media.
    pub source: Arc<Source>,
    /// Frame rate of this session.
    pub fps: f64,
    /// Restart at the end instead of ending.
    pub looping: bool,
    /// RFC 2326 state machine.
    pub machine: Mutex<SessionMachine>,
    /// Transport; replaced by a SETUP in READY.
    pub delivery: RwLock<Option<Delivery>>,
    /// The connection worker that paces and sends the session's media and receives its RTCP
    /// (the connection that set it up).
    pub home: ConnLink,
    /// Bumped on every PLAY / PAUSE / seek / teardown; pacing entries of an older epoch die.
    pub epoch: AtomicU64,
    /// Next frame index to send (written by the home worker while playing).
    pub position: AtomicU64,
    /// First frame the current PLAY's range leaves out ([`NO_END`]: none); lab seeks while
    /// playing keep it.
    pub play_until: AtomicU64,
    /// Our SSRC.
    pub ssrc: u32,
    /// Random RTP timestamp origin.
    pub rtp_ts_base: u32,
    /// Next RTP sequence number (advanced only by the home worker).
    pub rtp_seq: AtomicU32,
    /// RTP clock ticks (90 kHz, relative to `rtp_ts_base`) the next frame will carry.
    pub next_ticks: AtomicU64,
    /// Milliseconds since server start of the last sign of life.
    last_seen_ms: AtomicU64,
    /// While true the reaper leaves the session alone (a lab client's RTSP connection is open:
    /// the lab protocol has no keep-alive).
    pub pinned: AtomicBool,
    /// Set once the session is gone; late jobs for it are discarded.
    pub closed: AtomicBool,
    /// A too-large-for-the-lab-client frame was already reported.
    pub warned_large: AtomicBool,
    /// When the last RTCP SR went out (ms since server start).
    pub last_sr_ms: AtomicU64,
    /// Counters.
    pub stats: SessionStats,
    /// When the session was created.
    pub created: Instant,
    clock: crate::server::runtime::clock::Clock,
}

/// What [`LiveSession::new`] needs.
#[derive(Debug)]
pub struct SessionInit {
    /// Identifier.
    pub id: SessionId,
    /// RTSP peer.
    pub peer: SocketAddr,
    /// Wire format.
    pub dialect: Dialect,
    /// Presentation name.
    pub presentation: String,
    /// SETUP URL.
    pub control_url: String,
    /// SSRC (chosen before the session exists, for the Transport reply).
    pub ssrc: u32,
    /// Media.
    pub source: Arc<Source>,
    /// Frame rate.
    pub fps: f64,
    /// Loop at the end.
    pub looping: bool,
    /// Connection worker owning the session's sockets.
    pub home: ConnLink,
}

impl LiveSession {
    /// A session in INIT with random sequence and timestamp origins (RFC 3550 5.1).
    pub fn new(init: SessionInit, clock: crate::server::runtime::clock::Clock) -> Self {
        let now = clock.now_ms();
        Self {
            id: init.id,
            peer: init.peer,
            dialect: init.dialect,
            presentation: init.presentation,
            control_url: init.control_url,
            source: init.source,
            fps: init.fps,
            looping: init.looping,
            machine: Mutex::new(SessionMachine::for_dialect(init.dialect)),
            delivery: RwLock::new(None),
            home: init.home,
            epoch: AtomicU64::new(0),
            position: AtomicU64::new(0),
            play_until: AtomicU64::new(NO_END),
            ssrc: init.ssrc,
            rtp_ts_base: rand::random(),
            // The lab's sequence number is the frame number; standard sessions start at random.
            rtp_seq: AtomicU32::new(u32::from(rand::random::<u16>())),
            next_ticks: AtomicU64::new(0),
            last_seen_ms: AtomicU64::new(now),
            pinned: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            warned_large: AtomicBool::new(false),
            last_sr_ms: AtomicU64::new(0),
            stats: SessionStats::default(),
            created: Instant::now(),
            clock,
        }
    }

    /// Record a sign of life (an RTSP request, an RTCP packet).
    pub fn touch(&self) {
        self.last_seen_ms
            .store(self.clock.now_ms(), Ordering::Relaxed);
    }

    /// Time since the last sign of life.
    pub fn idle_for(&self) -> Duration {
        let last = self.last_seen_ms.load(Ordering::Relaxed);
        Duration::from_millis(self.clock.now_ms().saturating_sub(last))
    }

    /// The end of the current PLAY's range, if it has one.
    pub fn until(&self) -> Option<u64> {
        Some(self.play_until.load(Ordering::Acquire)).filter(|u| *u != NO_END)
    }

    /// Start a new epoch (invalidating the pacing entry the home worker holds for the session).
    pub fn next_epoch(&self) -> u64 {
        self.epoch.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// The RTP timestamp for `ticks` clock ticks after the origin.
    pub fn rtp_timestamp(&self, ticks: u64) -> u32 {
        // RTP timestamps wrap modulo 2^32 by definition (RFC 3550 5.1).
        self.rtp_ts_base.wrapping_add(ticks as u32)
    }

    /// One-line summary for the end-of-session log.
    pub fn summary(&self) -> String {
        let s = &self.stats;
        let ld = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let ld32 = |a: &AtomicU32| a.load(Ordering::Relaxed);
        format!(
            "frames_sent={} packets_sent={} bytes_sent={} frames_dropped={} frames_skipped={} rtcp_rr={} rr_fraction_lost={:.3} rr_cumulative_lost={} rr_jitter={} duration_s={:.1}",
            ld(&s.frames_sent),
            ld(&s.packets_sent),
            ld(&s.octets_sent),
            ld(&s.frames_dropped),
            ld(&s.frames_skipped),
            ld(&s.rr_received),
            f64::from(ld32(&s.rr_fraction_lost)) / 256.0,
            // The counter is a 24-bit two's complement field stored sign-extended.
            ld32(&s.rr_cumulative_lost) as i32,
            ld32(&s.rr_jitter),
            self.created.elapsed().as_secs_f64()
        )
    }
}

/// Why a session ended (for the log line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// TEARDOWN.
    Teardown,
    /// No sign of life for the session timeout.
    Timeout,
    /// Its RTSP connection closed (interleaved and lab sessions cannot outlive it).
    ConnectionClosed,
    /// Server shutdown.
    Shutdown,
}

impl EndReason {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Teardown => "teardown",
            Self::Timeout => "timeout",
            Self::ConnectionClosed => "connection closed",
            Self::Shutdown => "shutdown",
        }
    }
}

/// All live sessions, bounded by `--max-sessions`.
#[derive(Debug)]
pub struct Registry {
    sessions: Mutex<HashMap<SessionId, Arc<LiveSession>>>,
    max: usize,
}

/// The registry is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

impl Registry {
    /// An empty registry admitting at most `max` sessions.
    pub fn new(max: usize) -> Self {
        Self {
            sessions: Mutex::new(HashMap::new()),
            max,
        }
    }

    /// A fresh random identifier that is not in use. Sixteen decimal digits: unguessable enough
    /// that another peer cannot hijack a session, and still an integer for the lab client.
    pub fn fresh_id(&self) -> SessionId {
        use rand::Rng;
        let sessions = self.sessions.lock();
        let mut rng = rand::thread_rng();
        loop {
            let Some(id) =
                SessionId::new(rng.gen_range(1_000_000_000_000_000..10_000_000_000_000_000))
            else {
                continue;
            };
            if !sessions.contains_key(&id) {
                return id;
            }
        }
    }

    /// Is there room for one more session?
    pub fn has_room(&self) -> bool {
        self.sessions.lock().len() < self.max
    }

    /// Add a session, unless the registry is full.
    pub fn insert(&self, session: Arc<LiveSession>) -> Result<(), Full> {
        let mut sessions = self.sessions.lock();
        if sessions.len() >= self.max {
            return Err(Full);
        }
        sessions.insert(session.id, session);
        Ok(())
    }

    /// Look a session up.
    pub fn get(&self, id: SessionId) -> Option<Arc<LiveSession>> {
        self.sessions.lock().get(&id).cloned()
    }

    /// Remove a session; `None` if it was already gone (so exactly one caller ends it).
    pub fn remove(&self, id: SessionId) -> Option<Arc<LiveSession>> {
        self.sessions.lock().remove(&id)
    }

    /// Number of live sessions.
    pub fn len(&self) -> usize {
        self.sessions.lock().len()
    }

    /// No live session?
    pub fn is_empty(&self) -> bool {
        self.sessions.lock().is_empty()
    }

    /// Snapshot of all sessions.
    pub fn all(&self) -> Vec<Arc<LiveSession>> {
        self.sessions.lock().values().cloned().collect()
    }
}
