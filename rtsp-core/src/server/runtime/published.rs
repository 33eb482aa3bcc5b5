//! Published paths: what a publisher sends (ANNOUNCE, SETUP `mode=record`, RECORD, then RTP)
//! becomes a live [`Source`] that readers DESCRIBE, SETUP and PLAY like any other path.
//!
//! The publisher's RTP (interleaved on its RTSP connection, or UDP datagrams to its worker's
//! RTP port, told apart by their source address) goes through the sans-I/O
//! [`Ingest`] on the publisher's worker; each whole frame is packetized once there and becomes
//! the path's latest frame, an `Arc<Packetized>` every reader shares.
//!
//! Readers are paced at [`READER_POLL_FPS`] and, at each slot, send the latest frame if they
//! have not sent it yet (see `playout`). On top of that, a new frame wakes every worker that
//! plays the path (a [`FeedWatch`] each: one wake-up per worker per frame, never a message per
//! reader), and the worker sends it to its readers of the path at once, so a frame leaves
//! within a wake-up of its arrival instead of up to a poll period later. The feed keeps only
//! the set of workers, never its readers, and a publisher never waits for them; the poll slots
//! remain as the fallback.
//!
//! Lab readers (one whole JPEG per UDP datagram) get the same latest frame whole. A frame
//! larger than one datagram is re-encoded smaller once, by the first lab reader that needs it,
//! when the server re-encodes (`Config::transcode`); otherwise such a frame is not sent to lab
//! readers (the sender counts it dropped and warns once per session), never sent truncated.
//!
//! A path outlives its publishers: when one leaves (TEARDOWN, closed connection, session
//! timeout) its readers stay in PLAYING, get nothing until a publisher comes back, then get
//! its frames. DESCRIBE and SETUP of a path nobody publishes get 404.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use parking_lot::Mutex;

use crate::jpeg::{Packetizer, ParsedJpeg};
use crate::server::ingest::{Ingest, IngestConfig, IngestCounters};
use crate::server::prepare;
use crate::server::runtime::shared::session::SessionId;
use crate::server::runtime::source::{Packetized, Source};
use crate::server::runtime::wire::LAB_MAX_JPEG;

/// How often readers of a published path look for a new frame: above any frame rate a
/// publisher is likely to send, so no frame is skipped.
pub const READER_POLL_FPS: f64 = 100.0;

/// Most paths a server keeps (a path stays once published, for its readers): the bound on what
/// publishers can make it hold.
pub const MAX_PATHS: usize = 1024;

/// The latest whole frame of a published path.
#[derive(Debug, Clone)]
pub struct LatestFrame {
    /// 1 for the first frame ever received on the path, then counting up (0: none yet).
    pub index: u64,
    /// The frame, packetized once.
    pub payloads: Arc<Packetized>,
    /// The whole JPEG (what HTTP viewers get).
    pub jpeg: Arc<Vec<u8>>,
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// The frame re-encoded to fit one datagram for lab readers, made once on first demand
    /// (`None` inside: it does not fit even re-encoded).
    lab_fitted: Arc<OnceLock<Option<Arc<Vec<u8>>>>>,
}

#[derive(Debug)]
struct Publisher {
    session: SessionId,
    ingest: Ingest,
}

/// A worker's doorbell for the feeds its readers play: rung when one of them gets a frame.
#[derive(Debug)]
pub struct FeedWatch {
    waker: Arc<mio::Waker>,
    rung: AtomicBool,
}

impl FeedWatch {
    /// A doorbell that wakes the worker's poll with `waker`.
    pub fn new(waker: Arc<mio::Waker>) -> Self {
        Self {
            waker,
            rung: AtomicBool::new(false),
        }
    }

    /// Whether a feed rang since the last call.
    pub fn take(&self) -> bool {
        self.rung.swap(false, Ordering::AcqRel)
    }

    fn ring(&self) {
        // A worker that has not answered the last ring yet needs no second wake-up.
        if !self.rung.swap(true, Ordering::AcqRel) {
            // A failed wake-up only leaves the frame to the next poll slot.
            let _ = self.waker.wake();
        }
    }
}

/// One published path's state: the current publisher, if any, and the latest frame.
#[derive(Debug, Default)]
pub struct Feed {
    publisher: Mutex<Option<Publisher>>,
    latest: Mutex<Option<LatestFrame>>,
    /// Frames too large for a lab datagram may be re-encoded.
    transcode: bool,
    /// The latest frame's index, readable without the lock.
    latest_index: AtomicU64,
    /// The workers that play this path (at most one entry per worker).
    watchers: Mutex<Vec<Weak<FeedWatch>>>,
}

impl Feed {
    /// A feed with no publisher and no frame yet; `transcode`: frames too large for one lab
    /// datagram are re-encoded smaller for lab readers.
    pub fn new(transcode: bool) -> Self {
        Self {
            transcode,
            ..Self::default()
        }
    }

    /// The latest frame as lab readers get it, if it is frame `index`: whole when it fits one
    /// datagram, else re-encoded to fit when the feed may re-encode, else as it is (larger
    /// than [`LAB_MAX_JPEG`]: the sender skips it).
    pub fn lab_jpeg(&self, index: u64) -> Option<Arc<Vec<u8>>> {
        let latest = self.latest().filter(|l| l.index == index)?;
        if latest.jpeg.len() <= LAB_MAX_JPEG || !self.transcode {
            return Some(latest.jpeg);
        }
        let fitted = latest
            .lab_fitted
            .get_or_init(|| prepare::shrink_to(&latest.jpeg, LAB_MAX_JPEG).map(Arc::new));
        Some(fitted.clone().unwrap_or(latest.jpeg))
    }

    /// The latest frame's index (0: none yet).
    pub fn latest_index(&self) -> u64 {
        self.latest_index.load(Ordering::Acquire)
    }

    /// Ring `watch` whenever a frame arrives (from now on, while the worker lives).
    pub fn watch(&self, watch: &Arc<FeedWatch>) {
        let mut watchers = self.watchers.lock();
        watchers.retain(|w| w.strong_count() > 0);
        if !watchers
            .iter()
            .any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(watch)))
        {
            watchers.push(Arc::downgrade(watch));
        }
    }

    /// The latest frame, if any arrived yet.
    pub fn latest(&self) -> Option<LatestFrame> {
        self.latest.lock().clone()
    }

    /// The publishing session, if the path has one.
    pub fn publisher(&self) -> Option<SessionId> {
        self.publisher.lock().as_ref().map(|p| p.session)
    }

    /// Make `session` the path's publisher, unless another one (for which `alive` says yes)
    /// holds it.
    pub fn claim(&self, session: SessionId, alive: impl Fn(SessionId) -> bool) -> bool {
        let mut slot = self.publisher.lock();
        if let Some(p) = slot.as_ref() {
            if p.session != session && alive(p.session) {
                return false;
            }
        }
        *slot = Some(Publisher {
            session,
            ingest: Ingest::new(IngestConfig::default()),
        });
        true
    }

    /// The publisher `session` is gone: free the path, returning what its ingest counted.
    pub fn release(&self, session: SessionId) -> Option<IngestCounters> {
        let mut slot = self.publisher.lock();
        match slot.as_ref() {
            Some(p) if p.session == session => slot.take().map(|p| p.ingest.counters()),
            _ => None,
        }
    }

    /// One RTP packet from the publisher `session`, arrived at `arrival` since the server
    /// started. A packet of anyone else is ignored; a bad packet is counted by the ingest.
    pub fn receive(&self, session: SessionId, packet: &[u8], arrival: Duration) {
        let frame = {
            let mut slot = self.publisher.lock();
            let Some(p) = slot.as_mut().filter(|p| p.session == session) else {
                return;
            };
            match p.ingest.push(packet, arrival) {
                Ok(Some(frame)) => frame,
                Ok(None) | Err(_) => return,
            }
        };
        // Packetized outside the publisher lock; a frame the depacketizer rebuilt always
        // parses, but a failure only loses this frame.
        let _ = self.put_frame(frame.jpeg);
    }

    /// A whole JPEG frame becomes the path's latest, packetized once for every reader (what a
    /// relay's upstream sends arrives here).
    pub fn put_frame(&self, jpeg: Vec<u8>) -> Result<(), crate::jpeg::ParseError> {
        let parsed = ParsedJpeg::parse(&jpeg)?;
        let (width, height) = (parsed.width(), parsed.height());
        let payloads = Arc::new(Packetized::from(prepare::packetize(
            &Packetizer::new(),
            &parsed,
        )));
        let jpeg = Arc::new(jpeg);
        {
            let mut latest = self.latest.lock();
            let index = latest.as_ref().map_or(1, |l| l.index + 1);
            *latest = Some(LatestFrame {
                index,
                payloads,
                jpeg,
                width,
                height,
                lab_fitted: Arc::default(),
            });
            self.latest_index.store(index, Ordering::Release);
        }
        let watchers: Vec<Arc<FeedWatch>> = self
            .watchers
            .lock()
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for watch in watchers {
            watch.ring();
        }
        Ok(())
    }
}

/// Every path that has been published, by presentation name.
#[derive(Debug, Default)]
pub struct Paths {
    map: Mutex<HashMap<String, Arc<Source>>>,
    transcode: bool,
}

impl Paths {
    /// No path yet; `transcode`: see [`Feed::new`].
    pub fn new(transcode: bool) -> Self {
        Self {
            map: Mutex::default(),
            transcode,
        }
    }

    /// The source of `path`, if it was ever published.
    pub fn get(&self, path: &str) -> Option<Arc<Source>> {
        self.map.lock().get(path).cloned()
    }

    /// Every path ever published, with its source, sorted by name.
    pub fn all(&self) -> Vec<(String, Arc<Source>)> {
        let mut all: Vec<_> = self
            .map
            .lock()
            .iter()
            .map(|(name, source)| (name.clone(), Arc::clone(source)))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// Forget `path` if its source is still `source`.
    pub fn remove(&self, path: &str, source: &Arc<Source>) {
        let mut map = self.map.lock();
        if map.get(path).is_some_and(|s| Arc::ptr_eq(s, source)) {
            map.remove(path);
        }
    }

    /// The source of `path`, created on first use; `None` when [`MAX_PATHS`] are taken.
    pub fn get_or_create(&self, path: &str) -> Option<Arc<Source>> {
        let mut map = self.map.lock();
        if let Some(source) = map.get(path) {
            return Some(Arc::clone(source));
        }
        if map.len() >= MAX_PATHS {
            return None;
        }
        let source = Arc::new(Source::published(path, self.transcode));
        map.insert(path.to_owned(), Arc::clone(&source));
        Some(source)
    }
}
