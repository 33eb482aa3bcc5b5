//! Baseline JPEG parser: checks that a JPEG/JFIF file can be carried by RFC 2435 and extracts what
//! the payload format transmits (size, sampling, restart interval, quantization tables, scan data).

use super::entropy::find_scan_end;
use super::tables::{HuffmanSpec, QuantTable, CHROMA_AC, CHROMA_DC, LUMA_AC, LUMA_DC};
use super::{MAX_DIMENSION, MAX_EXTENDED_DIMENSION, MAX_SCAN_LEN};

/// Chroma subsampling of a frame RFC 2435 can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subsampling {
    /// Y sampled 2x1, Cb and Cr 1x1 (RFC 2435 type 0, or 64 with restart markers).
    Yuv422,
    /// Y sampled 2x2, Cb and Cr 1x1 (RFC 2435 type 1, or 65 with restart markers).
    Yuv420,
    /// Y, Cb and Cr all 1x1. RFC 2435's types cannot describe it: it travels only to receivers
    /// that rebuild the frame from the SOF of the ONVIF header extension (see
    /// [`ParsedJpeg::parse_extended`]).
    Yuv444,
    /// One component (grayscale), which RFC 2435's types cannot describe either.
    Gray,
}

impl Subsampling {
    /// The RFC 2435 type for this sampling, with or without restart markers.
    pub fn rtp_type(self, with_restart_markers: bool) -> u8 {
        // 4:4:4 and grayscale frames are described by the header extension's SOF, which takes
        // precedence over the type; 0 only keeps the restart-marker bit meaningful.
        let base = match self {
            Subsampling::Yuv422 | Subsampling::Yuv444 | Subsampling::Gray => 0,
            Subsampling::Yuv420 => 1,
        };
        if with_restart_markers {
            base + 64
        } else {
            base
        }
    }

    /// The sampling of an RFC 2435 type (0, 1, 64 or 65), `None` for any other type.
    pub fn from_rtp_type(rtp_type: u8) -> Option<Self> {
        match rtp_type {
            0 | 64 => Some(Subsampling::Yuv422),
            1 | 65 => Some(Subsampling::Yuv420),
            _ => None,
        }
    }

    /// Horizontal and vertical sampling factors of the Y component.
    pub(crate) fn luma_factors(self) -> (u8, u8) {
        match self {
            Subsampling::Yuv422 => (2, 1),
            Subsampling::Yuv420 => (2, 2),
            Subsampling::Yuv444 | Subsampling::Gray => (1, 1),
        }
    }

    /// Whether RFC 2435's types 0/1 describe this sampling; if not, only receivers reading the
    /// SOF of the ONVIF header extension can rebuild the frame.
    pub fn in_rfc2435(self) -> bool {
        matches!(self, Subsampling::Yuv422 | Subsampling::Yuv420)
    }

    /// The sampling of a SOF's component count and factors, `None` for any other.
    pub(crate) fn from_factors(count: u8, factors: &[(u8, u8)]) -> Option<Self> {
        match (count, factors) {
            (1, _) => Some(Subsampling::Gray),
            (3, [(2, 1), (1, 1), (1, 1)]) => Some(Subsampling::Yuv422),
            (3, [(2, 2), (1, 1), (1, 1)]) => Some(Subsampling::Yuv420),
            (3, [(1, 1), (1, 1), (1, 1)]) => Some(Subsampling::Yuv444),
            _ => None,
        }
    }
}

/// Why a JPEG cannot be sent as RFC 2435 payload (or is not a well-formed JPEG at all).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The data does not start with an SOI marker.
    #[error("not a JPEG: the data does not start with an SOI marker")]
    NotJpeg,
    /// The data ends inside a marker segment.
    #[error("truncated JPEG: the data ends inside {0}")]
    Truncated(&'static str),
    /// A marker segment violates the JPEG syntax.
    #[error("malformed {segment} segment: {reason}")]
    Malformed {
        /// The segment, e.g. `"SOF0"`.
        segment: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Progressive DCT (SOF2).
    #[error("progressive JPEG cannot be sent over RTP/JPEG (RFC 2435); re-encode it as baseline")]
    Progressive,
    /// Arithmetic coding (SOF9 to SOF15, DAC).
    #[error(
        "arithmetic-coded JPEG cannot be sent over RTP/JPEG (RFC 2435); re-encode it as baseline"
    )]
    Arithmetic,
    /// Lossless JPEG (SOF3).
    #[error("lossless JPEG cannot be sent over RTP/JPEG (RFC 2435); re-encode it as baseline")]
    Lossless,
    /// Hierarchical (differential) JPEG (SOF5 to SOF7, DHP, EXP).
    #[error("hierarchical JPEG cannot be sent over RTP/JPEG (RFC 2435); re-encode it as baseline")]
    Hierarchical,
    /// Sample precision other than 8 bits (e.g. 12-bit JPEG).
    #[error("{0}-bit samples cannot be sent over RTP/JPEG (RFC 2435 carries 8-bit baseline only)")]
    UnsupportedPrecision(u8),
    /// A quantization table used by the frame has 16-bit entries.
    #[error("quantization table {table} has 16-bit entries; RFC 2435 baseline needs 8-bit tables")]
    SixteenBitQuantTable {
        /// The DQT destination (0 to 3).
        table: u8,
    },
    /// One component: a grayscale image.
    #[error(
        "grayscale JPEG cannot be sent over RTP/JPEG (RFC 2435 carries YCbCr only); re-encode it"
    )]
    Grayscale,
    /// Neither one nor three components (e.g. CMYK).
    #[error("JPEG with {0} components cannot be sent over RTP/JPEG (RFC 2435 carries 3-component YCbCr only)")]
    UnsupportedComponentCount(u8),
    /// The three components are not YCbCr (an Adobe RGB JPEG).
    #[error("RGB JPEG cannot be sent over RTP/JPEG (RFC 2435 carries YCbCr only); re-encode it")]
    NotYCbCr,
    /// Sampling factors other than 4:2:0 or 4:2:2.
    #[error(
        "chroma sampling {} cannot be sent over RTP/JPEG (RFC 2435 carries 4:2:0 and 4:2:2 only); re-encode it",
        sampling_name(*y, *cb, *cr)
    )]
    UnsupportedSampling {
        /// Horizontal and vertical factors of Y.
        y: (u8, u8),
        /// Horizontal and vertical factors of Cb.
        cb: (u8, u8),
        /// Horizontal and vertical factors of Cr.
        cr: (u8, u8),
    },
    /// A width or height of zero (height 0 means "defined later by DNL", which RFC 2435 cannot express).
    #[error("JPEG size {width}x{height} has a zero dimension")]
    ZeroDimension {
        /// Width in pixels.
        width: u16,
        /// Height in pixels.
        height: u16,
    },
    /// Wider or taller than [`MAX_EXTENDED_DIMENSION`](super::MAX_EXTENDED_DIMENSION): beyond
    /// what JPEG decoders read, so no receiver could show it.
    #[error("JPEG size {width}x{height} exceeds 65496x65496, beyond what JPEG decoders read (libjpeg stops at 65500); scale it down")]
    TooLarge {
        /// Width in pixels.
        width: u16,
        /// Height in pixels.
        height: u16,
    },
    /// RFC 2435 transmits the size in units of 8 pixels, so other sizes would arrive padded.
    #[error(
        "JPEG size {width}x{height} is not a multiple of 8, which RFC 2435 requires; re-encode it"
    )]
    NotMultipleOf8 {
        /// Width in pixels.
        width: u16,
        /// Height in pixels.
        height: u16,
    },
    /// Huffman tables other than the JPEG Annex K.3 ones (e.g. optimized tables).
    #[error("the {component} {class} Huffman table is not the standard JPEG Annex K.3 table, which RFC 2435 receivers assume; re-encode without optimized Huffman tables")]
    NonStandardHuffmanTables {
        /// `"luminance"` or `"chrominance"`.
        component: &'static str,
        /// `"DC"` or `"AC"`.
        class: &'static str,
    },
    /// The frame references a quantization table that was never defined.
    #[error("quantization table {table} is used but not defined")]
    MissingQuantTable {
        /// The DQT destination (0 to 3).
        table: u8,
    },
    /// Cb and Cr use different quantization tables; RFC 2435 has a single chrominance table.
    #[error("Cb and Cr use different quantization tables; RFC 2435 has one chrominance table")]
    ChromaQuantTablesDiffer,
    /// A scan or EOI comes before the frame header.
    #[error("no baseline frame header (SOF0) before the scan")]
    MissingFrameHeader,
    /// EOI comes before any scan.
    #[error("no scan (SOS) in the JPEG")]
    MissingScan,
    /// The scan is not followed by an EOI marker (typically a truncated file).
    #[error("no EOI marker after the scan data (truncated JPEG?)")]
    MissingEoi,
    /// The scan holds no entropy-coded data.
    #[error("the scan holds no data")]
    EmptyScan,
    /// The first scan does not interleave all three components, so the image needs several scans.
    #[error(
        "the scan codes {components} of 3 components; RFC 2435 needs a single interleaved scan"
    )]
    NonInterleavedScan {
        /// Components in the first scan.
        components: u8,
    },
    /// A marker other than EOI follows the scan (a second scan, DNL, ...).
    #[error("marker 0xFF{marker:02X} follows the scan; RFC 2435 carries exactly one scan")]
    UnexpectedMarkerAfterScan {
        /// The marker code.
        marker: u8,
    },
    /// The scan data is longer than the 24-bit fragment offset can address.
    #[error("scan data of {len} bytes exceeds the RFC 2435 limit of 16 MiB")]
    ScanTooLarge {
        /// Length of the scan data in bytes.
        len: usize,
    },
}

fn sampling_name(y: (u8, u8), cb: (u8, u8), cr: (u8, u8)) -> String {
    let name = match (y, cb, cr) {
        ((1, 1), (1, 1), (1, 1)) => "4:4:4",
        ((4, 1), (1, 1), (1, 1)) => "4:1:1",
        ((1, 2), (1, 1), (1, 1)) => "4:4:0",
        ((2, 4), (1, 1), (1, 1)) => "4:2:1",
        ((4, 2), (1, 1), (1, 1)) => "4:1:0",
        _ => "",
    };
    let factors = format!(
        "Y {}x{}, Cb {}x{}, Cr {}x{}",
        y.0, y.1, cb.0, cb.1, cr.0, cr.1
    );
    if name.is_empty() {
        factors
    } else {
        format!("{name} ({factors})")
    }
}

/// A JPEG that RFC 2435 can carry, borrowed from the file it was parsed from.
///
/// Only [`ParsedJpeg::parse`] creates it, so every value satisfies the RFC 2435 limits: a baseline
/// 8-bit YCbCr 4:2:0 or 4:2:2 frame, in multiples of 8 pixels up to
/// [`MAX_EXTENDED_DIMENSION`](super::MAX_EXTENDED_DIMENSION) (above 2040, see
/// [`ParsedJpeg::needs_size_extension`]), coded with the standard Huffman tables, in one
/// interleaved scan of at most 2^24 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedJpeg<'a> {
    width: u16,
    height: u16,
    subsampling: Subsampling,
    restart_interval: u16,
    luma_table: &'a QuantTable,
    chroma_table: &'a QuantTable,
    scan: &'a [u8],
}

impl<'a> ParsedJpeg<'a> {
    /// Parses a complete JPEG/JFIF file (SOI to EOI) and checks that RFC 2435 can carry it.
    ///
    /// APPn, COM and other metadata are skipped (RFC 2435 transmits none of them). Data after EOI
    /// is ignored. A file without any DHT segment (as Motion-JPEG cameras produce) is accepted: it
    /// is decoded with the standard tables, exactly what RFC 2435 receivers assume.
    ///
    /// # Errors
    /// A [`ParseError`] naming the first reason the file cannot be sent.
    pub fn parse(data: &'a [u8]) -> Result<Self, ParseError> {
        Parser::new(data, false).run()
    }

    /// [`ParsedJpeg::parse`], also accepting 4:4:4 and grayscale frames: they can be sent
    /// unchanged, with the ONVIF header extension ([`ParsedJpeg::needs_header_extension`]), to
    /// receivers that rebuild frames from its SOF (this crate's [`Depacketizer`](super::Depacketizer)).
    /// Any other receiver would decode garbage, so a sender must know its receiver reads it.
    ///
    /// # Errors
    /// A [`ParseError`] naming the first reason the file cannot be sent even so.
    pub fn parse_extended(data: &'a [u8]) -> Result<Self, ParseError> {
        Parser::new(data, true).run()
    }

    /// Width in pixels (a multiple of 8).
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Height in pixels (a multiple of 8).
    pub fn height(&self) -> u16 {
        self.height
    }

    /// Whether the frame is wider or taller than the RFC 2435 header can say (2040 pixels):
    /// it then travels with size fields 0, `a=x-dimensions` in the SDP and the ONVIF header
    /// extension.
    pub fn needs_size_extension(&self) -> bool {
        self.width > MAX_DIMENSION || self.height > MAX_DIMENSION
    }

    /// Whether the frame's first packet carries the ONVIF header extension: frames above 2040
    /// pixels, and 4:4:4 or grayscale frames (from [`ParsedJpeg::parse_extended`]), whose
    /// sampling only the extension's SOF states.
    pub fn needs_header_extension(&self) -> bool {
        self.needs_size_extension() || !self.subsampling.in_rfc2435()
    }

    /// Chroma subsampling.
    pub fn subsampling(&self) -> Subsampling {
        self.subsampling
    }

    /// Restart interval in MCUs from the DRI segment; 0 when the scan has no restart markers.
    pub fn restart_interval(&self) -> u16 {
        self.restart_interval
    }

    /// The RFC 2435 type: 0 (4:2:2) or 1 (4:2:0), plus 64 when restart markers are used.
    pub fn rtp_type(&self) -> u8 {
        self.subsampling.rtp_type(self.restart_interval != 0)
    }

    /// The quantization table of the Y component, in zig-zag order as in the DQT segment.
    pub fn luma_quant_table(&self) -> &'a QuantTable {
        self.luma_table
    }

    /// The quantization table shared by Cb and Cr, in zig-zag order as in the DQT segment.
    pub fn chroma_quant_table(&self) -> &'a QuantTable {
        self.chroma_table
    }

    /// The entropy-coded data of the scan (restart markers and byte stuffing included, EOI
    /// excluded): exactly what RFC 2435 transmits.
    pub fn scan_data(&self) -> &'a [u8] {
        self.scan
    }

    /// The JPEG an RFC 2435 receiver reconstructs from this frame: fresh headers (JFIF APP0, DQT,
    /// SOF0, standard DHT, DRI if needed, SOS), the scan data and EOI. It decodes to the same
    /// pixels as the original file.
    pub fn to_rtp_jpeg(&self) -> Vec<u8> {
        let params = super::jfif::HeaderParams {
            width: self.width,
            height: self.height,
            subsampling: self.subsampling,
            restart_interval: self.restart_interval,
            luma_table: self.luma_table,
            chroma_table: self.chroma_table,
        };
        let mut out = Vec::with_capacity(params.len() + self.scan.len() + 2);
        params.write(&mut out);
        out.extend_from_slice(self.scan);
        super::jfif::finish_with_eoi(&mut out);
        out
    }
}

/// A quantization table slot: 16-bit tables are remembered only to report them if used.
#[derive(Clone, Copy)]
enum QuantSlot<'a> {
    Empty,
    Eight(&'a QuantTable),
    Sixteen,
}

#[derive(Clone, Copy)]
struct HuffmanSlot<'a> {
    counts: &'a [u8; 16],
    values: &'a [u8],
}

#[derive(Clone, Copy)]
struct Component {
    id: u8,
    h: u8,
    v: u8,
    quant: u8,
}

struct Frame {
    width: u16,
    height: u16,
    subsampling: Subsampling,
    components: [Component; 3],
    /// Components in use (1 or 3) at the front of `components`.
    count: usize,
}

struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    quant: [QuantSlot<'a>; 4],
    /// Indexed by class (0 = DC, 1 = AC), then destination.
    huffman: [[Option<HuffmanSlot<'a>>; 4]; 2],
    frame: Option<Frame>,
    restart_interval: u16,
    jfif: bool,
    adobe_transform: Option<u8>,
    /// Accept 4:4:4 and grayscale (see [`ParsedJpeg::parse_extended`]).
    extended: bool,
}

impl<'a> Parser<'a> {
    fn new(data: &'a [u8], extended: bool) -> Self {
        Parser {
            extended,
            data,
            pos: 0,
            quant: [QuantSlot::Empty; 4],
            huffman: [[None; 4]; 2],
            frame: None,
            restart_interval: 0,
            jfif: false,
            adobe_transform: None,
        }
    }

    fn run(mut self) -> Result<ParsedJpeg<'a>, ParseError> {
        if self.data.get(..2) != Some(&[0xFF, 0xD8][..]) {
            return Err(ParseError::NotJpeg);
        }
        self.pos = 2;
        loop {
            let marker = self.next_marker()?;
            match marker {
                0xD9 => {
                    return Err(if self.frame.is_none() {
                        ParseError::MissingFrameHeader
                    } else {
                        ParseError::MissingScan
                    })
                }
                0xD8 => {
                    return Err(ParseError::Malformed {
                        segment: "SOI",
                        reason: "second SOI before the scan",
                    })
                }
                // Standalone markers without a length; restart markers are meaningless here.
                0x01 | 0xD0..=0xD7 => {}
                0xDA => {
                    let seg = self.segment("SOS")?;
                    return self.scan(seg);
                }
                _ => {
                    let seg = self.segment(segment_name(marker))?;
                    self.segment_body(marker, seg)?;
                }
            }
        }
    }

    /// Reads the next marker code, skipping fill bytes.
    fn next_marker(&mut self) -> Result<u8, ParseError> {
        match self.data.get(self.pos) {
            Some(0xFF) => {}
            Some(_) => {
                return Err(ParseError::Malformed {
                    segment: "marker",
                    reason: "expected a marker between segments",
                })
            }
            None => return Err(ParseError::Truncated("the marker sequence (no EOI)")),
        }
        while self.data.get(self.pos) == Some(&0xFF) {
            self.pos += 1;
        }
        let marker = *self
            .data
            .get(self.pos)
            .ok_or(ParseError::Truncated("a marker"))?;
        self.pos += 1;
        Ok(marker)
    }

    /// Reads a length-prefixed segment body and moves past it.
    fn segment(&mut self, name: &'static str) -> Result<&'a [u8], ParseError> {
        let len_bytes = self
            .data
            .get(self.pos..self.pos + 2)
            .ok_or(ParseError::Truncated(name))?;
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        if len < 2 {
            return Err(ParseError::Malformed {
                segment: name,
                reason: "segment length below 2",
            });
        }
        let body = self
            .data
            .get(self.pos + 2..self.pos + len)
            .ok_or(ParseError::Truncated(name))?;
        self.pos += len;
        Ok(body)
    }

    fn segment_body(&mut self, marker: u8, seg: &'a [u8]) -> Result<(), ParseError> {
        match marker {
            0xC0 | 0xC1 => self.frame_header(marker, seg),
            0xC2 => Err(ParseError::Progressive),
            0xC3 => Err(ParseError::Lossless),
            0xC5..=0xC7 | 0xDE | 0xDF => Err(ParseError::Hierarchical),
            // SOF9..SOF15 and DAC (0xCC).
            0xC9..=0xCF => Err(ParseError::Arithmetic),
            0xC4 => self.huffman_tables(seg),
            0xDB => self.quant_tables(seg),
            0xDD => {
                let bytes: [u8; 2] = seg.try_into().map_err(|_| ParseError::Malformed {
                    segment: "DRI",
                    reason: "length must be 4",
                })?;
                self.restart_interval = u16::from_be_bytes(bytes);
                Ok(())
            }
            0xE0 => {
                if seg.starts_with(b"JFIF\0") {
                    self.jfif = true;
                }
                Ok(())
            }
            0xEE => {
                if seg.starts_with(b"Adobe") {
                    self.adobe_transform = seg.get(11).copied();
                }
                Ok(())
            }
            // APPn, COM, JPGn and reserved markers carry nothing RFC 2435 transmits.
            _ => Ok(()),
        }
    }

    fn frame_header(&mut self, marker: u8, seg: &'a [u8]) -> Result<(), ParseError> {
        let name = segment_name(marker);
        if self.frame.is_some() {
            return Err(ParseError::Malformed {
                segment: name,
                reason: "more than one frame header",
            });
        }
        let head = seg.get(..6).ok_or(ParseError::Malformed {
            segment: name,
            reason: "shorter than its fixed fields",
        })?;
        let precision = head[0];
        let height = u16::from_be_bytes([head[1], head[2]]);
        let width = u16::from_be_bytes([head[3], head[4]]);
        let count = head[5];
        if precision != 8 {
            return Err(ParseError::UnsupportedPrecision(precision));
        }
        match count {
            3 => {}
            1 if self.extended => {}
            1 => return Err(ParseError::Grayscale),
            n => return Err(ParseError::UnsupportedComponentCount(n)),
        }
        let count = usize::from(count);
        let specs = seg
            .get(6..)
            .filter(|s| s.len() == 3 * count)
            .ok_or(ParseError::Malformed {
                segment: name,
                reason: "length does not match its component count",
            })?;
        let mut components = [Component {
            id: 0,
            h: 0,
            v: 0,
            quant: 0,
        }; 3];
        for (c, spec) in components.iter_mut().zip(specs.chunks_exact(3)) {
            *c = Component {
                id: spec[0],
                h: spec[1] >> 4,
                v: spec[1] & 0x0F,
                quant: spec[2],
            };
            if c.quant > 3 {
                return Err(ParseError::Malformed {
                    segment: name,
                    reason: "quantization table selector above 3",
                });
            }
        }
        let [y, cb, cr] = components;
        if count == 3 && (y.id == cb.id || y.id == cr.id || cb.id == cr.id) {
            return Err(ParseError::Malformed {
                segment: name,
                reason: "duplicate component identifiers",
            });
        }
        let factors = [(y.h, y.v), (cb.h, cb.v), (cr.h, cr.v)];
        let subsampling = match Subsampling::from_factors(count as u8, &factors) {
            Some(s) if s.in_rfc2435() || self.extended => s,
            _ => {
                let [y, cb, cr] = factors;
                return Err(ParseError::UnsupportedSampling { y, cb, cr });
            }
        };
        if width == 0 || height == 0 {
            return Err(ParseError::ZeroDimension { width, height });
        }
        if width > MAX_EXTENDED_DIMENSION || height > MAX_EXTENDED_DIMENSION {
            return Err(ParseError::TooLarge { width, height });
        }
        if width % 8 != 0 || height % 8 != 0 {
            return Err(ParseError::NotMultipleOf8 { width, height });
        }
        self.frame = Some(Frame {
            width,
            height,
            subsampling,
            components,
            count,
        });
        Ok(())
    }

    fn quant_tables(&mut self, seg: &'a [u8]) -> Result<(), ParseError> {
        let malformed = |reason| ParseError::Malformed {
            segment: "DQT",
            reason,
        };
        let mut rest = seg;
        while let Some((&pq_tq, tail)) = rest.split_first() {
            let (precision, dest) = (pq_tq >> 4, usize::from(pq_tq & 0x0F));
            let entry_size = match precision {
                0 => 1,
                1 => 2,
                _ => return Err(malformed("precision must be 0 or 1")),
            };
            let table = tail
                .get(..64 * entry_size)
                .ok_or(malformed("table cut short"))?;
            let slot = self
                .quant
                .get_mut(dest)
                .ok_or(malformed("destination above 3"))?;
            *slot = match <&QuantTable>::try_from(table) {
                Ok(t) if precision == 0 => QuantSlot::Eight(t),
                _ => QuantSlot::Sixteen,
            };
            rest = tail.get(64 * entry_size..).unwrap_or_default();
        }
        Ok(())
    }

    fn huffman_tables(&mut self, seg: &'a [u8]) -> Result<(), ParseError> {
        let malformed = |reason| ParseError::Malformed {
            segment: "DHT",
            reason,
        };
        let mut rest = seg;
        while let Some((&tc_th, tail)) = rest.split_first() {
            let (class, dest) = (usize::from(tc_th >> 4), usize::from(tc_th & 0x0F));
            let counts: &[u8; 16] = tail
                .get(..16)
                .and_then(|c| c.try_into().ok())
                .ok_or(malformed("table cut short"))?;
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            if total > 256 {
                return Err(malformed("more than 256 codes"));
            }
            let values = tail
                .get(16..16 + total)
                .ok_or(malformed("table cut short"))?;
            let slot = self
                .huffman
                .get_mut(class)
                .ok_or(malformed("class must be 0 (DC) or 1 (AC)"))?
                .get_mut(dest)
                .ok_or(malformed("destination above 3"))?;
            *slot = Some(HuffmanSlot { counts, values });
            rest = tail.get(16 + total..).unwrap_or_default();
        }
        Ok(())
    }

    fn scan(self, seg: &'a [u8]) -> Result<ParsedJpeg<'a>, ParseError> {
        let malformed = |reason| ParseError::Malformed {
            segment: "SOS",
            reason,
        };
        let frame = self.frame.as_ref().ok_or(ParseError::MissingFrameHeader)?;
        let (&count, specs) = seg.split_first().ok_or(malformed("empty segment"))?;
        let n = usize::from(count);
        let selectors = specs
            .get(..2 * n)
            .ok_or(malformed("length does not match its component count"))?;
        // Huffman tables first: an optimized-table file often also uses one scan per component,
        // and the tables are the reason worth reporting.
        for sel in selectors.chunks_exact(2) {
            let role = frame
                .components
                .iter()
                .position(|c| c.id == sel[0])
                .ok_or(malformed("scan names a component the frame does not have"))?;
            let (component, dc, ac) = if role == 0 {
                ("luminance", LUMA_DC, LUMA_AC)
            } else {
                ("chrominance", CHROMA_DC, CHROMA_AC)
            };
            self.check_huffman(0, sel[1] >> 4, dc, component, "DC")?;
            self.check_huffman(1, sel[1] & 0x0F, ac, component, "AC")?;
        }
        if n != frame.count {
            return Err(ParseError::NonInterleavedScan { components: count });
        }
        if selectors
            .chunks_exact(2)
            .zip(&frame.components[..frame.count])
            .any(|(sel, c)| sel[0] != c.id)
        {
            return Err(malformed("components not in frame order"));
        }
        if specs.get(2 * n..) != Some(&[0, 63, 0][..]) {
            return Err(malformed("not a sequential scan (Ss=0, Se=63, Ah=Al=0)"));
        }
        let [y, cb, cr] = frame.components;
        let luma_table = self.quant_table(y.quant)?;
        // A grayscale frame sends its one table twice: the payload keeps its usual layout.
        let chroma_table = if frame.count == 1 {
            luma_table
        } else {
            self.quant_table(cb.quant)?
        };
        if frame.count == 3 && self.quant_table(cr.quant)? != chroma_table {
            return Err(ParseError::ChromaQuantTablesDiffer);
        }
        // Decoders treat 3 components as RGB when an Adobe marker says so, or (without JFIF or
        // Adobe markers) when the component identifiers spell R, G, B; the rebuilt file would not.
        let rgb_ids = frame.count == 3 && [y.id, cb.id, cr.id] == *b"RGB";
        if self.adobe_transform == Some(0)
            || (!self.jfif && self.adobe_transform.is_none() && rgb_ids)
        {
            return Err(ParseError::NotYCbCr);
        }

        let end = find_scan_end(self.data, self.pos).ok_or(ParseError::MissingEoi)?;
        if end.marker != 0xD9 {
            return Err(ParseError::UnexpectedMarkerAfterScan { marker: end.marker });
        }
        let scan = self
            .data
            .get(self.pos..end.data_end)
            .ok_or(ParseError::MissingEoi)?;
        if scan.is_empty() {
            return Err(ParseError::EmptyScan);
        }
        if scan.len() > MAX_SCAN_LEN {
            return Err(ParseError::ScanTooLarge { len: scan.len() });
        }
        Ok(ParsedJpeg {
            width: frame.width,
            height: frame.height,
            subsampling: frame.subsampling,
            restart_interval: self.restart_interval,
            luma_table,
            chroma_table,
            scan,
        })
    }

    fn quant_table(&self, dest: u8) -> Result<&'a QuantTable, ParseError> {
        match self.quant.get(usize::from(dest)) {
            Some(QuantSlot::Eight(t)) => Ok(t),
            Some(QuantSlot::Sixteen) => Err(ParseError::SixteenBitQuantTable { table: dest }),
            _ => Err(ParseError::MissingQuantTable { table: dest }),
        }
    }

    /// A table that was never defined is the standard one: Motion-JPEG frames omit DHT, and
    /// RFC 2435 receivers assume the standard tables anyway.
    fn check_huffman(
        &self,
        class: usize,
        dest: u8,
        standard: HuffmanSpec,
        component: &'static str,
        class_name: &'static str,
    ) -> Result<(), ParseError> {
        let slot = self
            .huffman
            .get(class)
            .and_then(|c| c.get(usize::from(dest)))
            .ok_or(ParseError::Malformed {
                segment: "SOS",
                reason: "Huffman table selector above 3",
            })?;
        match slot {
            Some(t) if t.counts != standard.counts || t.values != standard.values => {
                Err(ParseError::NonStandardHuffmanTables {
                    component,
                    class: class_name,
                })
            }
            _ => Ok(()),
        }
    }
}

fn segment_name(marker: u8) -> &'static str {
    match marker {
        0xC0 => "SOF0",
        0xC1 => "SOF1",
        0xC4 => "DHT",
        0xDB => "DQT",
        0xDD => "DRI",
        0xDA => "SOS",
        0xFE => "COM",
        0xE0..=0xEF => "APPn",
        _ => "marker",
    }
}
