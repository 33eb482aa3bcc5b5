//! RFC 2435 depacketizer: reassembles RTP/JPEG payloads into complete, decodable JPEG files.

use std::collections::HashMap;

use super::entropy::{append_and_find_candidate, find_scan_end, scan, Progress};
use super::extension::{usable_dimension, ExtensionError, FrameHeaderExtension};
use super::header::{HeaderError, PayloadHeader};
use super::jfif::{finish_with_eoi, HeaderCache, HeaderParams};
use super::parse::Subsampling;
use super::tables::{quant_tables_for_q, QuantTable};
use super::MAX_SCAN_LEN;
use crate::rtp::RtpExtension;

/// Default limit on the size of a reassembled frame: 4 MiB, several times what a 2040x2040
/// frame at high quality needs, and what 3840x2160 frames of cameras and of usual qualities
/// (1 to 3 MiB) need; larger ones need [`Depacketizer::with_max_frame_size`].
pub const DEFAULT_MAX_FRAME_SIZE: usize = 4 << 20;

/// Packets of a timestamp older than the newest one seen by at most this many 90 kHz ticks (1 s)
/// are late leftovers and are discarded. Anything further back is taken as a sender restart.
const LATE_WINDOW: u32 = 90_000;

/// A complete frame rebuilt from RTP/JPEG payloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepacketizedFrame {
    /// A complete JFIF file: SOI, APP0, DQT, SOF0, DHT, DRI (types 64/65), SOS, scan data, EOI.
    pub jpeg: Vec<u8>,
    /// The RTP timestamp shared by the frame's packets.
    pub timestamp: u32,
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// RFC 2435 type (0, 1, 64 or 65).
    pub rtp_type: u8,
    /// The Q value the frame was sent with.
    pub q: u8,
}

/// Why a packet or a frame was thrown away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DropReason {
    /// The payload headers are cut short.
    #[error("bad payload header: {0}")]
    BadHeader(#[from] HeaderError),
    /// A type other than 0, 1, 64 or 65.
    #[error("unsupported RFC 2435 type {0}")]
    UnsupportedType(u8),
    /// Q 0 or 100 to 127, which RFC 2435 reserves.
    #[error("reserved Q value {0}")]
    ReservedQ(u8),
    /// Width or height field 0 (a frame above 2040 pixels) and the size known neither from an
    /// ONVIF header extension nor from the SDP ([`Depacketizer::set_stream_size`]).
    #[error(
        "zero width or height in the payload header and no size from the SDP or a header extension"
    )]
    ZeroDimension,
    /// An ONVIF JPEG header extension that cannot be read.
    #[error("bad JPEG header extension: {0}")]
    BadExtension(#[from] ExtensionError),
    /// In-band tables with 16-bit entries, which baseline JPEG cannot use.
    #[error("16-bit in-band quantization tables")]
    UnsupportedTablePrecision,
    /// An in-band table length that is not a multiple of 64.
    #[error("in-band quantization table length {0} is not a whole number of 64-byte tables")]
    BadQuantTableLength(usize),
    /// No in-band tables and none cached for this Q (always the case for Q=255 with length 0).
    #[error("no quantization tables for Q={0}")]
    MissingQuantTables(u8),
    /// The first packet of the timestamp seen does not start at offset 0.
    #[error("frame start (fragment offset 0) missing")]
    MissingStart,
    /// A fragment offset beyond the data received so far: packets were lost.
    #[error("gap: expected fragment offset {expected}, got {got}")]
    Gap {
        /// Next offset the frame needed.
        expected: u32,
        /// Offset received.
        got: u32,
    },
    /// A fragment overlapping data already received, with different bytes.
    #[error("overlap: expected fragment offset {expected}, got {got}")]
    Overlap {
        /// Next offset the frame needed.
        expected: u32,
        /// Offset received.
        got: u32,
    },
    /// Type, Q, size or restart interval changed in the middle of a frame.
    #[error("payload header changed within a frame")]
    HeaderChanged,
    /// A packet with a new timestamp arrived before the frame's marker packet.
    #[error("frame incomplete when the next timestamp arrived")]
    Incomplete,
    /// The frame would exceed the configured maximum size.
    #[error("frame exceeds the maximum of {0} bytes")]
    FrameTooLarge(usize),
    /// The fragment runs past the 2^24 bytes a 24-bit offset can address.
    #[error("fragment runs past the 24-bit offset space")]
    OffsetOverflow,
    /// The reassembled data contains markers that would not decode (e.g. a premature EOI).
    #[error("reassembled scan data is not valid entropy-coded data")]
    CorruptScan,
}

/// What a frame's first packet says about the frame.
struct FrameParams {
    width: u16,
    height: u16,
    subsampling: Subsampling,
    restart_interval: u16,
    luma: QuantTable,
    chroma: QuantTable,
}

/// Counters of a [`Depacketizer`].
///
/// Every packet is eventually counted once in `packets_used` or `packets_discarded`;
/// until then it is pending: `packets_received == packets_used + packets_discarded +`
/// [`Depacketizer::packets_pending`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DepacketizerStats {
    /// Payloads passed to [`Depacketizer::push`].
    pub packets_received: u64,
    /// Payloads that ended up in an emitted frame.
    pub packets_used: u64,
    /// Payloads thrown away: bad, duplicate, late, or part of a dropped frame.
    pub packets_discarded: u64,
    /// Frames emitted.
    pub frames_complete: u64,
    /// Frames known to exist (some packet of theirs arrived) but not emitted. Each timestamp is
    /// counted at most once.
    pub frames_dropped: u64,
}

/// The frame being reassembled.
#[derive(Debug)]
struct Assembly {
    timestamp: u32,
    rtp_type: u8,
    q: u8,
    /// The size fields of the payload header (0 for frames above 2040 pixels).
    header_size: (u16, u16),
    /// The frame's size.
    width: u16,
    height: u16,
    restart_interval: u16,
    /// Where the scan data starts in the buffer.
    data_start: usize,
    /// Data before this index is known to be valid entropy-coded data that does not end inside
    /// a marker; validation resumes here. Equal to the buffer's length unless the data received
    /// so far ends with a `0xFF` (whose successor decides what it is) or the final fragment
    /// holds a marker (the sender's EOI).
    validated: usize,
    packets: u64,
}

impl Assembly {
    fn matches(&self, h: &PayloadHeader<'_>) -> bool {
        h.rtp_type == self.rtp_type
            && h.q == self.q
            && (h.width, h.height) == self.header_size
            && h.restart.map_or(0, |r| r.interval) == self.restart_interval
    }
}

/// Reassembles RTP/JPEG payloads (RFC 2435) into complete JPEG files.
///
/// Feed it the payloads of one RTP stream (one SSRC) in sequence-number order with
/// [`Depacketizer::push`]. A frame is emitted only when its fragments arrived contiguously from
/// offset 0 up to the packet with the marker bit, all with the same timestamp, type, Q and size;
/// anything else (loss, reordering, overlap, a new timestamp mid-frame, bad headers) drops the frame
/// and counts it, so a damaged frame is never emitted. Exact duplicates of received fragments and
/// stray packets of already finished timestamps are discarded without harm.
///
/// Emitted frames are complete JFIF files that [`ParsedJpeg::parse`](super::ParsedJpeg::parse)
/// accepts: the headers are rebuilt from the payload headers (with in-band, cached or Q-derived
/// quantization tables and the standard Huffman tables), EOI is added unless the sender sent it,
/// and the data is checked to be a single scan (no stray markers) as each fragment arrives.
///
/// Memory is bounded: only one frame is assembled at a time, data is appended in order (offsets
/// must be contiguous, so a forged offset cannot make it allocate), and a frame larger than the
/// configured maximum is dropped. Each payload is copied once, into the frame being built.
///
/// RFC 2435 gives every frame its own timestamp. Packets whose timestamp is that of the last
/// finished frame, or up to one second older, are taken as leftovers and discarded; call
/// [`Depacketizer::reset`] when the stream restarts (seek, new SSRC). The type-specific field
/// (interlaced fields) is not interpreted: each field would be emitted as a frame.
#[derive(Debug)]
pub struct Depacketizer {
    max_frame_size: usize,
    current: Option<Assembly>,
    buf: Vec<u8>,
    spare: Vec<u8>,
    /// Tables received for Q 128 to 254, which RFC 2435 lets senders omit on later frames.
    cached_tables: HashMap<u8, (QuantTable, QuantTable)>,
    /// Timestamp of the newest frame started, finished or dropped.
    newest: Option<u32>,
    /// Size of the last emitted frame, to size the next buffer.
    last_frame_len: usize,
    /// Rebuilt headers of the last frame started.
    headers: HeaderCache,
    /// Tables of the last Q from 1 to 99 seen, so that they are not scaled again every frame.
    scaled_tables: Option<(u8, QuantTable, QuantTable)>,
    /// Size of frames whose header says 0 (`a=x-dimensions` of the SDP).
    stream_size: Option<(u16, u16)>,
    stats: DepacketizerStats,
    last_drop: Option<DropReason>,
}

impl Default for Depacketizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Depacketizer {
    /// A depacketizer with [`DEFAULT_MAX_FRAME_SIZE`].
    pub fn new() -> Self {
        Self::with_max_frame_size(DEFAULT_MAX_FRAME_SIZE)
    }

    /// A depacketizer that drops frames whose rebuilt JPEG would exceed `max_frame_size` bytes.
    pub fn with_max_frame_size(max_frame_size: usize) -> Self {
        Depacketizer {
            max_frame_size,
            current: None,
            buf: Vec::new(),
            spare: Vec::new(),
            cached_tables: HashMap::new(),
            newest: None,
            last_frame_len: 0,
            headers: HeaderCache::default(),
            scaled_tables: None,
            stream_size: None,
            stats: DepacketizerStats::default(),
            last_drop: None,
        }
    }

    /// The counters.
    pub fn stats(&self) -> DepacketizerStats {
        self.stats
    }

    /// Packets held by the frame being assembled.
    pub fn packets_pending(&self) -> u64 {
        self.current.as_ref().map_or(0, |a| a.packets)
    }

    /// Why the most recent frame or packet was thrown away (duplicates and late packets aside).
    pub fn last_drop(&self) -> Option<DropReason> {
        self.last_drop
    }

    /// Gives a frame's buffer back for reuse, so steady-state reassembly does not allocate.
    pub fn recycle(&mut self, mut jpeg: Vec<u8>) {
        let bounded = jpeg.capacity() <= self.max_frame_size.saturating_mul(2);
        if jpeg.capacity() > self.spare.capacity() && bounded {
            jpeg.clear();
            self.spare = jpeg;
        }
    }

    /// Forgets the frame in progress and the stream history (e.g. after a seek or an SSRC
    /// change). The frame in progress counts as dropped; counters and cached tables are kept.
    pub fn reset(&mut self) {
        self.drop_current(DropReason::Incomplete);
        self.newest = None;
    }

    /// The size of the stream's frames as the SDP states it (`a=x-dimensions:W,H`), used for
    /// frames whose payload header says 0 and whose first packet has no ONVIF header extension.
    /// A size no RFC 2435 frame can have (zero, not a multiple of 8, above
    /// [`MAX_EXTENDED_DIMENSION`](super::MAX_EXTENDED_DIMENSION)) is ignored.
    pub fn set_stream_size(&mut self, size: Option<(u32, u32)>) {
        let usable = |d: u32| u16::try_from(d).ok().filter(|_| usable_dimension(d));
        self.stream_size = size.and_then(|(w, h)| Some((usable(w)?, usable(h)?)));
    }

    /// Processes the payload of one RTP packet and returns the frame it completes, if any.
    ///
    /// `marker` is the RTP marker bit, which RFC 2435 sets on the last packet of a frame.
    pub fn push(
        &mut self,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Option<DepacketizedFrame> {
        self.push_with_extension(timestamp, marker, payload, None)
    }

    /// [`Depacketizer::push`] for a packet with its RTP header extension, if it has one: an
    /// ONVIF JPEG header extension ([`FrameHeaderExtension`]) on a frame's first packet gives
    /// the frame's size. Other extensions are ignored.
    pub fn push_with_extension(
        &mut self,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
        extension: Option<RtpExtension<'_>>,
    ) -> Option<DepacketizedFrame> {
        self.stats.packets_received += 1;
        let (header, data) = match PayloadHeader::parse(payload) {
            Ok(parsed) => parsed,
            Err(e) => {
                self.stats.packets_discarded += 1;
                if self
                    .current
                    .as_ref()
                    .is_some_and(|a| a.timestamp == timestamp)
                {
                    self.drop_current(e.into());
                } else {
                    self.last_drop = Some(e.into());
                }
                return None;
            }
        };
        match &self.current {
            Some(current) if current.timestamp == timestamp => {
                return self.continue_frame(marker, &header, data);
            }
            _ if self.is_stale(timestamp) => {
                self.stats.packets_discarded += 1;
                return None;
            }
            Some(_) => self.drop_current(DropReason::Incomplete),
            None => {}
        }
        let extension = extension.filter(|e| FrameHeaderExtension::is_jpeg_profile(e.profile));
        self.start_frame(timestamp, marker, &header, data, extension.map(|e| e.data))
    }

    /// Whether `timestamp` is the newest finished one or slightly older: leftovers (duplicates,
    /// late reordered packets) of frames already emitted or dropped.
    fn is_stale(&self, timestamp: u32) -> bool {
        self.newest
            .is_some_and(|newest| newest.wrapping_sub(timestamp) <= LATE_WINDOW)
    }

    fn start_frame(
        &mut self,
        timestamp: u32,
        marker: bool,
        h: &PayloadHeader<'_>,
        data: &[u8],
        extension: Option<&[u8]>,
    ) -> Option<DepacketizedFrame> {
        self.newest = Some(timestamp);
        let params = match self.frame_params(h, extension) {
            Ok(p) => p,
            Err(reason) => {
                self.stats.packets_discarded += 1;
                self.count_drop(reason);
                return None;
            }
        };
        let FrameParams {
            width,
            height,
            subsampling,
            restart_interval,
            luma,
            chroma,
        } = params;
        let params = HeaderParams {
            width,
            height,
            subsampling,
            restart_interval,
            luma_table: &luma,
            chroma_table: &chroma,
        };
        if self.buf.capacity() == 0 {
            self.buf = std::mem::take(&mut self.spare);
        }
        self.buf.clear();
        let headers = self.headers.get(&params);
        // Frames of a stream have similar sizes: one reservation usually covers the whole frame,
        // so fragments are copied in without the buffer growing (and moving) on the way.
        self.buf.reserve(headers.len() + self.last_frame_len);
        self.buf.extend_from_slice(headers);
        self.current = Some(Assembly {
            timestamp,
            rtp_type: h.rtp_type,
            q: h.q,
            header_size: (h.width, h.height),
            width,
            height,
            restart_interval,
            data_start: self.buf.len(),
            validated: self.buf.len(),
            packets: 0,
        });
        self.continue_frame(marker, h, data)
    }

    /// Validates a frame's first packet and derives what the rebuilt headers need.
    fn frame_params(
        &mut self,
        h: &PayloadHeader<'_>,
        extension: Option<&[u8]>,
    ) -> Result<FrameParams, DropReason> {
        if h.fragment_offset != 0 {
            return Err(DropReason::MissingStart);
        }
        let by_type = Subsampling::from_rtp_type(h.rtp_type)
            .ok_or(DropReason::UnsupportedType(h.rtp_type))?;
        let ext = extension.map(FrameHeaderExtension::parse).transpose()?;
        // The encoder's own frame header, when sent, is the most precise source of the size and
        // the only one of 4:4:4 and grayscale sampling.
        let subsampling = ext.and_then(|e| e.subsampling).unwrap_or(by_type);
        let (width, height) = match ext {
            Some(ext) => (ext.width, ext.height),
            None if h.width != 0 && h.height != 0 => (h.width, h.height),
            None => self.stream_size.ok_or(DropReason::ZeroDimension)?,
        };
        let (luma, chroma) = self.tables(h)?;
        Ok(FrameParams {
            width,
            height,
            subsampling,
            restart_interval: h.restart.map_or(0, |r| r.interval),
            luma,
            chroma,
        })
    }

    fn continue_frame(
        &mut self,
        marker: bool,
        h: &PayloadHeader<'_>,
        data: &[u8],
    ) -> Option<DepacketizedFrame> {
        let Some(current) = &mut self.current else {
            self.stats.packets_discarded += 1;
            return None;
        };
        if !current.matches(h) {
            self.stats.packets_discarded += 1;
            self.drop_current(DropReason::HeaderChanged);
            return None;
        }
        let received = self.buf.len() - current.data_start;
        let offset = h.fragment_offset as usize;
        if offset + data.len() > MAX_SCAN_LEN {
            self.stats.packets_discarded += 1;
            self.drop_current(DropReason::OffsetOverflow);
            return None;
        }
        if offset != received {
            self.stats.packets_discarded += 1;
            let start = current.data_start + offset;
            // An exact copy of data already received (a duplicated packet) is harmless.
            if offset < received && !marker && self.buf.get(start..start + data.len()) == Some(data)
            {
                return None;
            }
            let (expected, got) = (received as u32, h.fragment_offset);
            self.drop_current(if offset > received {
                DropReason::Gap { expected, got }
            } else {
                DropReason::Overlap { expected, got }
            });
            return None;
        }
        if self.buf.len() + data.len() + 2 > self.max_frame_size {
            self.stats.packets_discarded += 1;
            self.drop_current(DropReason::FrameTooLarge(self.max_frame_size));
            return None;
        }
        // Each fragment is validated as it is copied in, so that a corrupt frame is dropped
        // early and completing a frame does not walk it again.
        let old_len = self.buf.len();
        let candidate = append_and_find_candidate(&mut self.buf, data);
        current.packets += 1;
        if current.validated == old_len {
            // Nothing was pending: the new data is valid up to its first possible marker.
            current.validated = candidate.map_or(self.buf.len(), |c| old_len + c);
        }
        if marker {
            return self.finish_frame();
        }
        if current.validated == self.buf.len() {
            return None;
        }
        // A marker or a trailing 0xFF (rare): only the final fragment may hold a marker (the
        // sender's optional EOI).
        match scan(&self.buf, current.validated) {
            Progress::NeedMore { resume } => {
                current.validated = resume;
                None
            }
            Progress::End(_) => {
                self.drop_current(DropReason::CorruptScan);
                None
            }
        }
    }

    fn finish_frame(&mut self) -> Option<DepacketizedFrame> {
        let current = self.current.as_ref()?;
        let data_start = current.data_start;
        finish_with_eoi(&mut self.buf);
        // The scan must hold data and end exactly at the final EOI, or the file would not
        // decode (nor parse again).
        let valid = find_scan_end(&self.buf, current.validated).is_some_and(|end| {
            end.marker == 0xD9 && end.after_marker == self.buf.len() && end.data_end > data_start
        });
        if !valid {
            self.drop_current(DropReason::CorruptScan);
            return None;
        }
        let current = self.current.take()?;
        self.stats.packets_used += current.packets;
        self.stats.frames_complete += 1;
        self.last_frame_len = self.buf.len();
        let jpeg = std::mem::take(&mut self.buf);
        Some(DepacketizedFrame {
            jpeg,
            timestamp: current.timestamp,
            width: current.width,
            height: current.height,
            rtp_type: current.rtp_type,
            q: current.q,
        })
    }

    /// The quantization tables for a frame's first packet.
    fn tables(&mut self, h: &PayloadHeader<'_>) -> Result<(QuantTable, QuantTable), DropReason> {
        match h.q {
            1..=99 => match self.scaled_tables {
                Some((q, luma, chroma)) if q == h.q => Ok((luma, chroma)),
                _ => {
                    let (luma, chroma) =
                        quant_tables_for_q(h.q).ok_or(DropReason::ReservedQ(h.q))?;
                    self.scaled_tables = Some((h.q, luma, chroma));
                    Ok((luma, chroma))
                }
            },
            0..=127 => Err(DropReason::ReservedQ(h.q)),
            q => {
                let quant = h.quant.ok_or(DropReason::MissingQuantTables(q))?;
                if quant.precision != 0 {
                    return Err(DropReason::UnsupportedTablePrecision);
                }
                let len = quant.tables.len();
                if len == 0 {
                    return match self.cached_tables.get(&q) {
                        Some(t) if q != 255 => Ok(*t),
                        _ => Err(DropReason::MissingQuantTables(q)),
                    };
                }
                // Types 0/1 use two tables (Y, then Cb and Cr); a sender listing more (one per
                // component) still puts them in that order. One table serves every component:
                // ffmpeg's MJPEG encoder writes one when luma and chroma share it, and its RTP
                // sender passes that on.
                if len % 64 != 0 || len == 0 {
                    return Err(DropReason::BadQuantTableLength(len));
                }
                let chroma_at = if len == 64 { 0 } else { 64 };
                let mut luma = [0u8; 64];
                let mut chroma = [0u8; 64];
                luma.copy_from_slice(quant.tables.get(..64).unwrap_or(&[0; 64]));
                chroma.copy_from_slice(
                    quant
                        .tables
                        .get(chroma_at..chroma_at + 64)
                        .unwrap_or(&[0; 64]),
                );
                if q != 255 {
                    self.cached_tables.insert(q, (luma, chroma));
                }
                Ok((luma, chroma))
            }
        }
    }

    fn count_drop(&mut self, reason: DropReason) {
        self.stats.frames_dropped += 1;
        self.last_drop = Some(reason);
        tracing::debug!(%reason, "RTP/JPEG frame dropped");
    }

    /// Drops the frame in progress; its packets become discarded.
    fn drop_current(&mut self, reason: DropReason) {
        if let Some(current) = self.current.take() {
            self.stats.packets_discarded += current.packets;
            self.newest = Some(current.timestamp);
            self.count_drop(reason);
        }
    }
}
