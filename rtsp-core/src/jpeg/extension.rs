//! The JPEG header extension of the ONVIF Streaming Specification: how a frame's real size
//! reaches receivers when RFC 2435's header cannot hold it.
//!
//! RFC 2435 stores width/8 and height/8 in one byte each, so 2040 pixels is its ceiling. ONVIF
//! lifts it with an RTP header extension (RFC 3550 section 5.3.1) on the first packet of a
//! frame, X bit set:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     0xFFD8 (or 0xFFFF)        |   length in 32-bit words      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  JPEG marker segments exactly as in a JPEG file: 0xFF, marker |
//! |  code, 16-bit length (counting itself), body; e.g. SOF0 with  |
//! |  the 16-bit height and width, DRI, DQT, DHT ...               |
//! |                       ...             | 0xFF fill to 32 bits  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The "defined by profile" field 0xFFD8 (the SOI code) says the data is JPEG header segments;
//! 0xFFFF is the older value some cameras send. The segments describe the frame as its encoder
//! wrote it, and take precedence over the RFC 2435 main header, whose width and height are 0 for
//! frames above 2040 pixels. Fill bytes (0xFF) may precede any marker, as in JPEG itself, which
//! is also how the data is padded to whole words.
//!
//! The sender here puts the frame's SOF0 (its real size and sampling) and, with restart markers,
//! its DRI in the extension; the quantization tables travel in band as RFC 2435 says.

use super::jfif::write_sof0;
use super::parse::{ParsedJpeg, Subsampling};
use super::MAX_EXTENDED_DIMENSION;

/// "Defined by profile" value of the ONVIF JPEG header extension: the JPEG SOI code.
pub const ONVIF_JPEG_PROFILE: u16 = 0xFFD8;
/// The value earlier ONVIF devices use for the same extension.
pub const ONVIF_JPEG_PROFILE_ALT: u16 = 0xFFFF;

/// What a receiver needs from the ONVIF JPEG header extension of a frame's first packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeaderExtension {
    /// Width in pixels from the SOF segment.
    pub width: u16,
    /// Height in pixels from the SOF segment.
    pub height: u16,
    /// Restart interval from a DRI segment, if the extension carries one.
    pub restart_interval: Option<u16>,
    /// The sampling the SOF states, `None` when it lists no components (the payload type then
    /// says it). 4:4:4 and grayscale frames are rebuilt from it.
    pub subsampling: Option<Subsampling>,
}

/// An ONVIF JPEG header extension that cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtensionError {
    /// A byte other than 0xFF where a marker must start.
    #[error("header extension: expected a JPEG marker at byte {0}")]
    ExpectedMarker(usize),
    /// A segment runs past the extension data.
    #[error("header extension: segment cut short at byte {0}")]
    Truncated(usize),
    /// A segment with a length below 2, or a SOF or DRI too short for its fields.
    #[error("header extension: malformed segment at byte {0}")]
    Malformed(usize),
    /// The SOF lists components in a sampling no frame of this payload can have (e.g. 4:1:1).
    #[error("header extension: unsupported component sampling")]
    UnsupportedSampling,
    /// No SOF0/SOF1 segment, so no frame size.
    #[error("header extension carries no frame header (SOF)")]
    NoFrameHeader,
    /// The SOF states a size no JPEG decoder reads, or one RFC 2435 frames cannot have.
    #[error("header extension: unusable frame size {width}x{height}")]
    BadSize {
        /// Width from the SOF.
        width: u16,
        /// Height from the SOF.
        height: u16,
    },
}

impl FrameHeaderExtension {
    /// Whether `profile` (the extension's first 16 bits) names the ONVIF JPEG header extension.
    pub fn is_jpeg_profile(profile: u16) -> bool {
        profile == ONVIF_JPEG_PROFILE || profile == ONVIF_JPEG_PROFILE_ALT
    }

    /// Reads the extension data (after the 4-byte profile and length words).
    ///
    /// # Errors
    /// [`ExtensionError`] when the segments are malformed or state no usable size: non-zero,
    /// multiples of 8 (RFC 2435 frames are whole blocks) up to
    /// [`MAX_EXTENDED_DIMENSION`](super::MAX_EXTENDED_DIMENSION).
    pub fn parse(data: &[u8]) -> Result<Self, ExtensionError> {
        let mut pos = 0;
        let mut size = None;
        let mut restart_interval = None;
        let mut subsampling = None;
        loop {
            match data.get(pos) {
                None => break,
                Some(0xFF) => {}
                Some(_) => return Err(ExtensionError::ExpectedMarker(pos)),
            }
            while data.get(pos) == Some(&0xFF) {
                pos += 1;
            }
            // Only fill bytes up to the end: the padding.
            let Some(&marker) = data.get(pos) else { break };
            let start = pos - 1;
            let len_bytes = data
                .get(pos + 1..pos + 3)
                .ok_or(ExtensionError::Truncated(start))?;
            let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
            if len < 2 {
                return Err(ExtensionError::Malformed(start));
            }
            let body = data
                .get(pos + 3..pos + 1 + len)
                .ok_or(ExtensionError::Truncated(start))?;
            match marker {
                0xC0 | 0xC1 => {
                    let f = body.get(..5).ok_or(ExtensionError::Malformed(start))?;
                    let height = u16::from_be_bytes([f[1], f[2]]);
                    let width = u16::from_be_bytes([f[3], f[4]]);
                    if size.is_none() {
                        size = Some((width, height));
                        subsampling = sof_sampling(body)?;
                    }
                }
                0xDD => {
                    let r = body.get(..2).ok_or(ExtensionError::Malformed(start))?;
                    restart_interval = Some(u16::from_be_bytes([r[0], r[1]]));
                }
                _ => {}
            }
            pos += 1 + len;
        }
        let (width, height) = size.ok_or(ExtensionError::NoFrameHeader)?;
        if !usable_dimension(width.into()) || !usable_dimension(height.into()) {
            return Err(ExtensionError::BadSize { width, height });
        }
        Ok(FrameHeaderExtension {
            width,
            height,
            restart_interval,
            subsampling,
        })
    }
}

/// The sampling of a SOF body: `None` when it stops before its components (senders that only
/// state the size), an error for a sampling no receiver here rebuilds.
fn sof_sampling(body: &[u8]) -> Result<Option<Subsampling>, ExtensionError> {
    let Some((&count, specs)) = body.get(5..).and_then(<[u8]>::split_first) else {
        return Ok(None);
    };
    let specs = specs
        .get(..3 * usize::from(count))
        .ok_or(ExtensionError::UnsupportedSampling)?;
    let factors: Vec<(u8, u8)> = specs
        .chunks_exact(3)
        .map(|c| (c[1] >> 4, c[1] & 0x0F))
        .collect();
    Subsampling::from_factors(count, &factors)
        .map(Some)
        .ok_or(ExtensionError::UnsupportedSampling)
}

/// Whether an RFC 2435 frame can have this width or height: whole 8x8 blocks, at least one,
/// at most [`MAX_EXTENDED_DIMENSION`].
pub(crate) fn usable_dimension(d: u32) -> bool {
    d > 0 && d.is_multiple_of(8) && d <= u32::from(MAX_EXTENDED_DIMENSION)
}

/// Longest extension data the packetizer writes: SOF0 (19 bytes) and DRI (6), padded.
const WRITTEN_MAX: usize = 28;

/// The extension data (without the profile and length words) the packetizer sends with a
/// frame's first packet: its SOF0 and, with restart markers, its DRI, padded with 0xFF to whole
/// 32-bit words. Held by value so that fragments stay `Copy` and borrow nothing new.
#[derive(Clone, Copy)]
pub(crate) struct WrittenExtension {
    bytes: [u8; WRITTEN_MAX],
    len: usize,
}

impl WrittenExtension {
    pub(crate) fn for_frame(frame: &ParsedJpeg<'_>) -> Self {
        let mut out = Vec::with_capacity(WRITTEN_MAX);
        write_sof0(&mut out, frame.width(), frame.height(), frame.subsampling());
        if frame.restart_interval() != 0 {
            out.extend_from_slice(&[0xFF, 0xDD, 0x00, 0x04]);
            out.extend_from_slice(&frame.restart_interval().to_be_bytes());
        }
        while out.len() % 4 != 0 {
            out.push(0xFF);
        }
        let mut bytes = [0xFF; WRITTEN_MAX];
        let len = out.len().min(WRITTEN_MAX);
        bytes[..len].copy_from_slice(out.get(..len).unwrap_or_default());
        WrittenExtension { bytes, len }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_size_and_restart_interval_through_fill_bytes() {
        let mut data = vec![0xFF, 0xFF, 0xFF, 0xE0, 0x00, 0x04, 1, 2];
        data.extend_from_slice(&[0xFF, 0xC0, 0x00, 17, 8, 0x08, 0x70, 0x0F, 0x00, 3]);
        data.extend_from_slice(&[1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        data.extend_from_slice(&[0xFF, 0xDD, 0x00, 0x04, 0x00, 0x10, 0xFF, 0xFF]);
        assert_eq!(
            FrameHeaderExtension::parse(&data),
            Ok(FrameHeaderExtension {
                width: 3840,
                height: 2160,
                restart_interval: Some(16),
                subsampling: Some(Subsampling::Yuv420),
            })
        );
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        use ExtensionError::*;
        let parse = FrameHeaderExtension::parse;
        assert_eq!(parse(&[]), Err(NoFrameHeader));
        assert_eq!(parse(&[0xFF, 0xFF, 0xFF, 0xFF]), Err(NoFrameHeader));
        assert_eq!(parse(&[0x00, 0xFF, 0xC0, 0x00]), Err(ExpectedMarker(0)));
        assert_eq!(parse(&[0xFF, 0xC0, 0x00]), Err(Truncated(0)));
        assert_eq!(parse(&[0xFF, 0xC0, 0x00, 0x09, 8, 0]), Err(Truncated(0)));
        assert_eq!(parse(&[0xFF, 0xC0, 0x00, 0x01]), Err(Malformed(0)));
        assert_eq!(parse(&[0xFF, 0xC0, 0x00, 0x05, 8, 0, 8]), Err(Malformed(0)));
        assert_eq!(
            parse(&[0xFF, 0xC0, 0x00, 0x07, 8, 0x04, 0x38, 0x07, 0x82]),
            Err(BadSize {
                width: 1922,
                height: 1080
            })
        );
        assert_eq!(
            parse(&[0xFF, 0xC0, 0x00, 0x07, 8, 0xFF, 0xF8, 0x00, 0x08]),
            Err(BadSize {
                width: 8,
                height: 65528
            })
        );
    }

    #[test]
    fn profiles() {
        assert!(FrameHeaderExtension::is_jpeg_profile(0xFFD8));
        assert!(FrameHeaderExtension::is_jpeg_profile(0xFFFF));
        assert!(!FrameHeaderExtension::is_jpeg_profile(0xABAC));
    }
}
