//! RFC 2435 packetizer: splits a [`ParsedJpeg`] into RTP payloads.

use super::extension::WrittenExtension;
use super::header::{write_main, MAIN_HEADER_LEN, QUANT_HEADER_LEN, RESTART_HEADER_LEN};
use super::parse::ParsedJpeg;
use super::tables::QuantTable;

/// Q value the packetizer sends: 255 means "quantization tables in band, possibly different in
/// every frame", which is correct for any encoder. (Q below 128 would make receivers scale the
/// standard tables instead of using the encoder's, and decode wrong pixels.)
pub const Q_IN_BAND: u8 = 255;

/// Largest fixed header: main + restart + quantization headers (the tables are borrowed).
const FIXED_HEADER_MAX: usize = MAIN_HEADER_LEN + RESTART_HEADER_LEN + QUANT_HEADER_LEN;

/// Largest header a payload can start with: the fixed headers plus two 64-byte tables.
const MAX_HEADER_LEN: usize = FIXED_HEADER_MAX + 128;

/// Default maximum payload size: 1460 bytes.
///
/// A 1500-byte Ethernet MTU minus 20 bytes of IPv4 header, 8 of UDP and 12 of RTP header leaves
/// 1460 bytes, so each packet leaves the host unfragmented on the common path. Use
/// [`Packetizer::with_max_payload`] for smaller paths: 1440 for IPv6, less for tunnels/VPNs
/// (GStreamer's `rtpjpegpay` uses an MTU of 1400, i.e. 1388-byte payloads).
pub const DEFAULT_MAX_PAYLOAD: usize = 1500 - 20 - 8 - 12;

/// Smallest accepted maximum payload size: the first packet's headers plus one data byte.
pub const MIN_MAX_PAYLOAD: usize = MAX_HEADER_LEN + 1;

/// The requested maximum payload size cannot hold the RFC 2435 headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("maximum payload size {requested} is below the minimum of {MIN_MAX_PAYLOAD} bytes")]
pub struct PayloadSizeTooSmall {
    /// The rejected size.
    pub requested: usize,
}

/// Splits JPEG frames into RFC 2435 payloads of at most [`Packetizer::max_payload`] bytes.
///
/// Every payload starts with the 8-byte main header (type-specific 0, fragment offset, type, Q=255,
/// width/8, height/8, both 0 above 2040 pixels, when the first fragment also has an
/// [`extension`](Fragment::extension)); types 64/65 add the Restart Marker header (interval, F=1, L=1, count
/// 0x3FFF: whole frames, not restart-aligned chunks); the first payload of a frame adds the
/// Quantization Table header with both 8-bit tables. Only entropy-coded data follows.
///
/// ```
/// # fn send(_payload: &[u8], _marker: bool) {}
/// # let jpeg: &[u8] = &[];
/// use rtsp_core::jpeg::{Packetizer, ParsedJpeg};
/// # if let Ok(frame) = ParsedJpeg::parse(jpeg) {
/// let mut payload = Vec::with_capacity(1500);
/// for fragment in Packetizer::new().fragments(&frame) {
///     payload.clear();
///     fragment.write_to(&mut payload);
///     // All fragments share the frame's RTP timestamp; the last one sets the marker bit.
///     send(&payload, fragment.is_last());
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packetizer {
    max_payload: usize,
}

impl Default for Packetizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Packetizer {
    /// A packetizer with [`DEFAULT_MAX_PAYLOAD`].
    pub fn new() -> Self {
        Packetizer {
            max_payload: DEFAULT_MAX_PAYLOAD,
        }
    }

    /// A packetizer whose payloads (RFC 2435 headers included, RTP header excluded) are at most
    /// `max_payload` bytes.
    ///
    /// # Errors
    /// [`PayloadSizeTooSmall`] below [`MIN_MAX_PAYLOAD`].
    pub fn with_max_payload(max_payload: usize) -> Result<Self, PayloadSizeTooSmall> {
        if max_payload < MIN_MAX_PAYLOAD {
            return Err(PayloadSizeTooSmall {
                requested: max_payload,
            });
        }
        Ok(Packetizer { max_payload })
    }

    /// The maximum payload size.
    pub fn max_payload(&self) -> usize {
        self.max_payload
    }

    /// The payloads of one frame, in order, without copying the scan data.
    ///
    /// A frame always yields at least one fragment (parsed frames have non-empty scans), and
    /// exactly one of them, the last, reports [`Fragment::is_last`].
    pub fn fragments<'a>(&self, frame: &ParsedJpeg<'a>) -> Fragments<'a> {
        Fragments {
            frame: *frame,
            max_payload: self.max_payload,
            offset: 0,
            finished: false,
        }
    }

    /// Convenience: every payload of the frame as its own `Vec` (allocates per packet; use
    /// [`Packetizer::fragments`] on hot paths).
    pub fn packetize_to_vec(&self, frame: &ParsedJpeg<'_>) -> Vec<Vec<u8>> {
        self.fragments(frame).map(|f| f.to_vec()).collect()
    }
}

/// Iterator over the payloads of one frame, created by [`Packetizer::fragments`].
#[derive(Debug, Clone)]
pub struct Fragments<'a> {
    frame: ParsedJpeg<'a>,
    max_payload: usize,
    offset: usize,
    finished: bool,
}

impl Fragments<'_> {
    fn header_len(&self, first: bool) -> usize {
        let restart = if self.frame.restart_interval() != 0 {
            RESTART_HEADER_LEN
        } else {
            0
        };
        let quant = if first { QUANT_HEADER_LEN + 128 } else { 0 };
        MAIN_HEADER_LEN + restart + quant
    }

    fn remaining_count(&self) -> usize {
        if self.finished {
            return 0;
        }
        let mut left = self.frame.scan_data().len().saturating_sub(self.offset);
        let mut count = 1;
        let first_room = self.max_payload - self.header_len(self.offset == 0);
        left = left.saturating_sub(first_room);
        let room = self.max_payload - self.header_len(false);
        count += left.div_ceil(room);
        count
    }
}

impl<'a> Iterator for Fragments<'a> {
    type Item = Fragment<'a>;

    // Inlined so that the fragment is built where it is used: returned through memory, its
    // byte-wise written headers would be reloaded wholesale, stalling on store forwarding.
    #[inline]
    fn next(&mut self) -> Option<Fragment<'a>> {
        if self.finished {
            return None;
        }
        let frame = &self.frame;
        let scan = frame.scan_data();
        let first = self.offset == 0;
        // ParsedJpeg limits scans to 2^24 bytes, so every offset fits the 24-bit field.
        let offset = u32::try_from(self.offset).unwrap_or(u32::MAX);
        let mut fixed = [0u8; FIXED_HEADER_MAX];
        let mut main = [0u8; MAIN_HEADER_LEN];
        write_main(
            &mut main,
            offset,
            frame.rtp_type(),
            Q_IN_BAND,
            frame.width(),
            frame.height(),
        );
        fixed[..MAIN_HEADER_LEN].copy_from_slice(&main);
        let mut fixed_len = MAIN_HEADER_LEN;
        if frame.restart_interval() != 0 {
            let [hi, lo] = frame.restart_interval().to_be_bytes();
            // F=1, L=1, count=0x3FFF: the fragment is not aligned to restart intervals.
            fixed[fixed_len..fixed_len + 4].copy_from_slice(&[hi, lo, 0xFF, 0xFF]);
            fixed_len += RESTART_HEADER_LEN;
        }
        let tables = if first {
            // MBZ, precision 0 (8-bit tables), length 128.
            fixed[fixed_len..fixed_len + 4].copy_from_slice(&[0, 0, 0, 128]);
            fixed_len += QUANT_HEADER_LEN;
            Some((frame.luma_quant_table(), frame.chroma_quant_table()))
        } else {
            None
        };
        let header_len = fixed_len + if first { 128 } else { 0 };
        let room = self.max_payload.saturating_sub(header_len).max(1);
        let end = scan.len().min(self.offset.saturating_add(room));
        let data = scan.get(self.offset..end).unwrap_or_default();
        let is_last = end >= scan.len();
        self.offset = end;
        self.finished = is_last;
        let extension =
            (first && frame.needs_header_extension()).then(|| WrittenExtension::for_frame(frame));
        Some(Fragment {
            fixed,
            fixed_len,
            tables,
            data,
            fragment_offset: offset,
            is_last,
            extension,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining_count();
        (n, Some(n))
    }
}

impl ExactSizeIterator for Fragments<'_> {}
impl std::iter::FusedIterator for Fragments<'_> {}

/// One RTP/JPEG payload: RFC 2435 headers plus a slice of the frame's scan data.
///
/// Send it with the frame's RTP timestamp, and set the RTP **marker bit** exactly when
/// [`Fragment::is_last`] is true.
#[derive(Clone, Copy)]
pub struct Fragment<'a> {
    /// Main header, Restart Marker header and Quantization Table header (without the tables).
    fixed: [u8; FIXED_HEADER_MAX],
    fixed_len: usize,
    /// Luminance and chrominance tables, first fragment only (borrowed, never copied).
    tables: Option<(&'a QuantTable, &'a QuantTable)>,
    data: &'a [u8],
    fragment_offset: u32,
    is_last: bool,
    /// The ONVIF header extension, first fragment of frames above 2040 pixels only.
    extension: Option<WrittenExtension>,
}

impl<'a> Fragment<'a> {
    /// The data of the ONVIF JPEG header extension (profile
    /// [`ONVIF_JPEG_PROFILE`](super::ONVIF_JPEG_PROFILE)) this payload's RTP packet must carry,
    /// X bit set: `Some` on the first fragment of a frame wider or taller than 2040 pixels
    /// (see [`FrameHeaderExtension`](super::FrameHeaderExtension)), `None` otherwise. A whole
    /// number of 32-bit words.
    #[inline]
    pub fn extension(&self) -> Option<&[u8]> {
        self.extension.as_ref().map(WrittenExtension::as_slice)
    }

    /// The payload in pieces, for vectored writes: the fixed headers, the two quantization tables
    /// (empty except in the first fragment) and the scan data. Concatenated, they are the payload.
    #[inline]
    pub fn parts(&self) -> [&[u8]; 4] {
        let (luma, chroma): (&[u8], &[u8]) = match self.tables {
            Some((l, c)) => (l, c),
            None => (&[], &[]),
        };
        let fixed = self.fixed.get(..self.fixed_len).unwrap_or_default();
        [fixed, luma, chroma, self.data]
    }

    /// The scan data carried by this payload (borrowed from the JPEG, never copied).
    #[inline]
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Whether this is the frame's last payload: the RTP packet carrying it must have the marker
    /// bit set, and no other packet of the frame may.
    #[inline]
    pub fn is_last(&self) -> bool {
        self.is_last
    }

    /// Offset of [`Fragment::data`] within the frame's scan data.
    #[inline]
    pub fn fragment_offset(&self) -> u32 {
        self.fragment_offset
    }

    /// Length of the RFC 2435 headers (tables included) in front of the data.
    #[inline]
    pub fn header_len(&self) -> usize {
        self.fixed_len + if self.tables.is_some() { 128 } else { 0 }
    }

    /// Payload length: headers plus data.
    #[inline]
    pub fn len(&self) -> usize {
        self.header_len() + self.data.len()
    }

    /// Always false: a payload has at least its main header.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the payload to `out`, e.g. after an RTP header already in it.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.reserve(self.len());
        for part in self.parts() {
            out.extend_from_slice(part);
        }
    }

    /// The payload as a new `Vec`.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        self.write_to(&mut out);
        out
    }
}

impl std::fmt::Debug for Fragment<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fragment")
            .field("fragment_offset", &self.fragment_offset)
            .field("header_len", &self.header_len())
            .field("data_len", &self.data.len())
            .field("is_last", &self.is_last)
            .field("extension", &self.extension())
            .finish()
    }
}
