//! Media sources as the sender sees them: frames by index, as whole JPEGs (lab dialect) and as
//! ready-made RFC 2435 payloads (standard dialect).
//!
//! A file is read once ([`MjpegFile`] indexes it and hands out frame handles that share its one
//! buffer) and packetized once at load, so every session of every client sends the same bytes
//! and each session holds nothing but its position. The live test source renders a frame per
//! slot of a wall-clock grid shared by all its sessions, and keeps the last few frames so
//! sessions asking for the same slot share one encode.

use std::collections::{HashMap, VecDeque};
use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::jpeg::{Packetizer, ParsedJpeg};
use crate::media::{Frame, MediaError, MjpegFile, TestPattern};
use crate::server::describe::Presentation;
use crate::server::prepare::{self, RtpPayload};
use crate::server::runtime::published::Feed;
use crate::server::runtime::wire::{self, LAB_MAX_JPEG};
use parking_lot::Mutex;

/// Size of the live test pattern.
pub const TEST_WIDTH: u16 = 320;
/// Size of the live test pattern.
pub const TEST_HEIGHT: u16 = 240;
/// Live frames kept for sharing between sessions.
const LIVE_CACHE: usize = 8;

/// One frame's packets as sent after each session's own fixed RTP header, in packet order: the
/// RFC 2435 payloads, the first preceded by its header extension when the frame needs one
/// ([`wire::after_fixed_header`]).
#[derive(Debug, Default)]
pub struct Packetized {
    payloads: Vec<Vec<u8>>,
    extended: bool,
}

impl Packetized {
    /// Whether the first packet carries the ONVIF JPEG header extension (its RTP header then
    /// needs the X bit).
    pub fn extended(&self) -> bool {
        self.extended
    }
}

impl From<Vec<Vec<u8>>> for Packetized {
    fn from(payloads: Vec<Vec<u8>>) -> Self {
        Self {
            payloads,
            extended: false,
        }
    }
}

impl From<Vec<RtpPayload>> for Packetized {
    fn from(packets: Vec<RtpPayload>) -> Self {
        Self {
            extended: packets.first().is_some_and(|p| p.extension.is_some()),
            payloads: packets.iter().map(wire::after_fixed_header).collect(),
        }
    }
}

impl Deref for Packetized {
    type Target = [Vec<u8>];
    fn deref(&self) -> &[Vec<u8>] {
        &self.payloads
    }
}

/// A whole JPEG, shared.
#[derive(Clone)]
pub enum Jpeg {
    /// A frame of a file (shares the file's buffer).
    File(Frame),
    /// A generated frame.
    Owned(Arc<Vec<u8>>),
}

impl AsRef<[u8]> for Jpeg {
    fn as_ref(&self) -> &[u8] {
        match self {
            Self::File(f) => f.as_bytes(),
            Self::Owned(v) => v,
        }
    }
}

struct LiveFrame {
    jpeg: Arc<Vec<u8>>,
    payloads: Arc<Packetized>,
}

enum Kind {
    File {
        file: MjpegFile,
        /// `Err` when RFC 2435 cannot carry the file (lab clients can still play it).
        packets: Result<Vec<Arc<Packetized>>, String>,
        /// For lab clients (one whole JPEG per datagram): the frames re-encoded to fit a
        /// datagram, by index; `Err` when some frame does not fit and may not be re-encoded.
        lab: Result<HashMap<usize, Arc<Vec<u8>>>, String>,
        /// The file as sent to clients that read the ONVIF header extension's SOF, when it has
        /// 4:4:4 or grayscale frames the others cannot get unchanged.
        frame_header: Option<Arc<Source>>,
    },
    Live {
        pattern: TestPattern,
        origin: Instant,
        fps: f64,
        cache: Mutex<VecDeque<(u64, Arc<LiveFrame>)>>,
    },
    /// What a publisher sends (see [`crate::server::runtime::published`]).
    Published(Arc<Feed>),
}

/// A servable source.
pub struct Source {
    name: String,
    width: u16,
    height: u16,
    kind: Kind,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("name", &self.name)
            .field("frames", &self.total_frames())
            .finish()
    }
}

/// Why a file cannot be served at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Reading or indexing failed.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// The file has no frames.
    #[error("the file has no frames")]
    Empty,
}

impl Source {
    /// Read, index and packetize a file. Frames RFC 2435 cannot carry are re-encoded when
    /// `transcode` is set; otherwise the file is kept for lab clients only.
    pub fn load_file(name: &str, path: &Path, transcode: bool) -> Result<Self, LoadError> {
        let file = MjpegFile::open(path)?;
        if file.frame_count() == 0 {
            return Err(LoadError::Empty);
        }
        let prepared = prepare::rtp_frames(file.frames(), transcode);
        let (width, height, transcoded) = (prepared.width, prepared.height, prepared.transcoded);
        let packets = prepared.payloads.map(|frames| {
            frames
                .into_iter()
                .map(|payloads| Arc::new(Packetized::from(payloads)))
                .collect::<Vec<_>>()
        });
        if transcoded > 0 {
            tracing::info!(
                file = name,
                frames = transcoded,
                "re-encoded frames for RTP/JPEG"
            );
        }
        if let Err(why) = &packets {
            tracing::warn!(
                file = name,
                "RTP/JPEG (RFC 2435) cannot carry this file, lab clients only: {why}"
            );
        }
        let lab = fit_for_lab(name, &file, transcode);
        let frame_header = (packets.is_err() || transcoded > 0)
            .then(|| Self::for_frame_header(name, &file))
            .flatten()
            .map(Arc::new);
        Ok(Self {
            name: name.to_owned(),
            width,
            height,
            kind: Kind::File {
                file,
                packets,
                lab,
                frame_header,
            },
        })
    }

    /// `file` with its 4:4:4 and grayscale frames unchanged, for clients announcing
    /// [`FRAME_HEADER_OPTION`](crate::jpeg::FRAME_HEADER_OPTION); `None` when some frame cannot be sent even so.
    fn for_frame_header(name: &str, file: &MjpegFile) -> Option<Self> {
        let frames = prepare::frame_header_frames(file.frames()).ok()?;
        let (width, height) = file
            .frames()
            .next()
            .and_then(|f| ParsedJpeg::parse_extended(f).ok())
            .map(|p| (p.width(), p.height()))?;
        tracing::info!(
            file = name,
            "4:4:4 or grayscale frames sent unchanged to clients reading the JPEG frame header extension"
        );
        Some(Self {
            name: name.to_owned(),
            width,
            height,
            kind: Kind::File {
                file: file.clone(),
                packets: Ok(frames
                    .into_iter()
                    .map(|payloads| Arc::new(Packetized::from(payloads)))
                    .collect()),
                lab: Err("the file's lab delivery is the other source's".to_owned()),
                frame_header: None,
            },
        })
    }

    /// The source as sent to a client that announced [`FRAME_HEADER_OPTION`](crate::jpeg::FRAME_HEADER_OPTION): 4:4:4 and
    /// grayscale frames unchanged when the file has such frames, else this source.
    pub fn for_frame_header_reader(self: &Arc<Self>) -> Arc<Self> {
        match &self.kind {
            Kind::File {
                frame_header: Some(variant),
                ..
            } => Arc::clone(variant),
            _ => Arc::clone(self),
        }
    }

    /// The live synthetic source, its frame grid anchored at `origin`.
    pub fn test_pattern(fps: f64, origin: Instant) -> Result<Self, MediaError> {
        let pattern = TestPattern::new(TEST_WIDTH, TEST_HEIGHT, fps)?;
        Ok(Self {
            name: crate::server::target::TEST_SOURCE.to_owned(),
            width: TEST_WIDTH,
            height: TEST_HEIGHT,
            kind: Kind::Live {
                pattern,
                origin,
                fps,
                cache: Mutex::new(VecDeque::new()),
            },
        })
    }

    /// A published path, with no publisher and no frame yet; `transcode`: see [`Feed::new`].
    pub fn published(name: &str, transcode: bool) -> Self {
        Self {
            name: name.to_owned(),
            width: 0,
            height: 0,
            kind: Kind::Published(Arc::new(Feed::new(transcode))),
        }
    }

    /// The publishing state, for a published path.
    pub fn feed(&self) -> Option<&Arc<Feed>> {
        match &self.kind {
            Kind::Published(feed) => Some(feed),
            _ => None,
        }
    }

    /// Name (relative path or `testsrc`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Frame width of the first frame (0 if RFC 2435 cannot carry the file).
    pub fn width(&self) -> u16 {
        match &self.kind {
            Kind::Published(feed) => feed.latest().map_or(0, |l| l.width),
            _ => self.width,
        }
    }

    /// Frame height of the first frame.
    pub fn height(&self) -> u16 {
        match &self.kind {
            Kind::Published(feed) => feed.latest().map_or(0, |l| l.height),
            _ => self.height,
        }
    }

    /// Number of frames; `None` for the live source.
    pub fn total_frames(&self) -> Option<u64> {
        match &self.kind {
            Kind::File { file, .. } => Some(file.frame_count() as u64),
            Kind::Live { .. } | Kind::Published(_) => None,
        }
    }

    /// Why standard (RFC 2435) clients cannot get this source, if they cannot.
    pub fn rtp_error(&self) -> Option<&str> {
        match &self.kind {
            Kind::File {
                packets: Err(why), ..
            } => Some(why),
            _ => None,
        }
    }

    /// Why lab clients (whole JPEGs in one datagram each) cannot get this source, if they
    /// cannot.
    pub fn lab_error(&self) -> Option<&str> {
        match &self.kind {
            Kind::File { lab: Err(why), .. } => Some(why),
            _ => None,
        }
    }

    /// The live frame due at `now` (0 for files).
    pub fn live_index(&self, now: Instant) -> u64 {
        match &self.kind {
            Kind::Live { origin, fps, .. } => {
                (now.saturating_duration_since(*origin).as_secs_f64() * fps).floor() as u64
            }
            Kind::Published(feed) => feed.latest().map_or(0, |l| l.index),
            Kind::File { .. } => 0,
        }
    }

    /// Frame `index` as a whole JPEG, re-encoded if it had to be to fit a lab datagram. For a
    /// published path, the latest frame if it is `index` (see [`Feed::lab_jpeg`]).
    pub fn jpeg(&self, index: u64) -> Option<Jpeg> {
        match &self.kind {
            Kind::File { file, lab, .. } => {
                let index = usize::try_from(index).ok()?;
                match lab.as_ref().ok().and_then(|fitted| fitted.get(&index)) {
                    Some(smaller) => Some(Jpeg::Owned(Arc::clone(smaller))),
                    None => file.frame_handle(index).map(Jpeg::File),
                }
            }
            Kind::Live { .. } => self.live(index).map(|f| Jpeg::Owned(Arc::clone(&f.jpeg))),
            Kind::Published(feed) => feed.lab_jpeg(index).map(Jpeg::Owned),
        }
    }

    /// Frame `index` as the whole JPEG it was recorded as (never one re-encoded to fit a lab
    /// datagram): what HTTP viewers get. For a published path, the latest frame if it is
    /// `index`.
    pub fn whole_jpeg(&self, index: u64) -> Option<Jpeg> {
        match &self.kind {
            Kind::File { file, .. } => file
                .frame_handle(usize::try_from(index).ok()?)
                .map(Jpeg::File),
            Kind::Live { .. } => self.jpeg(index),
            Kind::Published(feed) => feed
                .latest()
                .filter(|l| l.index == index)
                .map(|l| Jpeg::Owned(l.jpeg)),
        }
    }

    /// Frame `index` as RFC 2435 payloads.
    pub fn payloads(&self, index: u64) -> Option<Arc<Packetized>> {
        match &self.kind {
            Kind::File {
                packets: Ok(list), ..
            } => list.get(usize::try_from(index).ok()?).cloned(),
            Kind::File { .. } => None,
            Kind::Live { .. } => self.live(index).map(|f| Arc::clone(&f.payloads)),
            Kind::Published(feed) => feed
                .latest()
                .filter(|l| l.index == index)
                .map(|l| l.payloads),
        }
    }

    fn live(&self, index: u64) -> Option<Arc<LiveFrame>> {
        let Kind::Live { pattern, cache, .. } = &self.kind else {
            return None;
        };
        if let Some((_, f)) = cache.lock().iter().find(|(n, _)| *n == index) {
            return Some(Arc::clone(f));
        }
        // Render outside the lock: encoding takes milliseconds.
        let jpeg = pattern.frame(index).ok()?;
        let payloads = {
            let parsed = ParsedJpeg::parse(&jpeg).ok()?;
            prepare::packetize(&Packetizer::new(), &parsed)
        };
        let frame = Arc::new(LiveFrame {
            jpeg: Arc::new(jpeg),
            payloads: Arc::new(Packetized::from(payloads)),
        });
        let mut cache = cache.lock();
        cache.push_back((index, Arc::clone(&frame)));
        while cache.len() > LIVE_CACHE {
            cache.pop_front();
        }
        Some(frame)
    }

    /// What DESCRIBE states about it at `fps`.
    pub fn presentation(&self, fps: f64) -> Presentation<'_> {
        Presentation {
            name: &self.name,
            width: self.width(),
            height: self.height(),
            duration: self.duration(fps),
        }
    }

    /// Duration at `fps`, `None` for live.
    pub fn duration(&self, fps: f64) -> Option<Duration> {
        let total = self.total_frames()?;
        (fps > 0.0).then(|| Duration::from_secs_f64(total as f64 / fps))
    }
}

/// The lab delivery of `file` (see [`prepare::fit_for_lab`]), logged.
fn fit_for_lab(
    name: &str,
    file: &MjpegFile,
    transcode: bool,
) -> Result<HashMap<usize, Arc<Vec<u8>>>, String> {
    let frames: Vec<&[u8]> = file.frames().collect();
    match prepare::fit_for_lab(&frames, LAB_MAX_JPEG, transcode) {
        Ok(fitted) => {
            if !fitted.is_empty() {
                tracing::info!(
                    file = name,
                    frames = fitted.len(),
                    "re-encoded frames to fit one UDP datagram for lab clients"
                );
            }
            Ok(fitted.into_iter().map(|(i, f)| (i, Arc::new(f))).collect())
        }
        Err(unfit) => {
            tracing::warn!(
                file = name,
                frames = unfit.oversized,
                "lab clients will be refused: {}",
                unfit.why
            );
            Err(unfit.why)
        }
    }
}
