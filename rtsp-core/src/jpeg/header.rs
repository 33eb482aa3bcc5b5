//! The RFC 2435 headers at the start of every RTP/JPEG payload (section 3.1).

/// Length of the main JPEG header carried by every packet.
pub const MAIN_HEADER_LEN: usize = 8;
/// Length of the Restart Marker header (types 64 to 127).
pub const RESTART_HEADER_LEN: usize = 4;
/// Length of the Quantization Table header, without the tables.
pub const QUANT_HEADER_LEN: usize = 4;

/// The decoded headers of one RTP/JPEG payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadHeader<'a> {
    /// Type-specific field; 0 means a progressively scanned (non-interlaced) frame.
    pub type_specific: u8,
    /// Byte offset of this payload's data within the frame's scan data (24 bits).
    pub fragment_offset: u32,
    /// RFC 2435 type (0/1: 4:2:2/4:2:0; +64 with restart markers).
    pub rtp_type: u8,
    /// Quantization: 1 to 99 scale the standard tables, 128 to 255 send tables in band.
    pub q: u8,
    /// Width in pixels (the wire carries width / 8; 0 if the field is 0).
    pub width: u16,
    /// Height in pixels (the wire carries height / 8; 0 if the field is 0).
    pub height: u16,
    /// Restart Marker header, present for types 64 to 127.
    pub restart: Option<RestartHeader>,
    /// Quantization Table header, present on the first fragment when Q >= 128.
    pub quant: Option<QuantHeader<'a>>,
}

/// The Restart Marker header (RFC 2435 section 3.1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartHeader {
    /// Restart interval in MCUs.
    pub interval: u16,
    /// F: the payload starts at a restart boundary.
    pub first: bool,
    /// L: the payload ends at a restart boundary.
    pub last: bool,
    /// Restart count (14 bits); 0x3FFF when whole frames are sent regardless of boundaries.
    pub count: u16,
}

/// The Quantization Table header (RFC 2435 section 3.1.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuantHeader<'a> {
    /// Must be zero.
    pub mbz: u8,
    /// Bit i set: table i has 16-bit entries.
    pub precision: u8,
    /// The tables (zig-zag order); empty when the sender relies on tables cached for this Q.
    pub tables: &'a [u8],
}

/// A payload whose headers cannot be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// Shorter than the 8-byte main header.
    #[error("payload shorter than the RFC 2435 main header")]
    TruncatedMainHeader,
    /// A restart type without the 4-byte Restart Marker header.
    #[error("payload of a restart-marker type lacks the Restart Marker header")]
    TruncatedRestartHeader,
    /// The Quantization Table header or its tables run past the payload.
    #[error("Quantization Table header or tables run past the payload")]
    TruncatedQuantTables,
}

impl<'a> PayloadHeader<'a> {
    /// Decodes the headers at the start of `payload` and returns them with the data that follows.
    ///
    /// # Errors
    /// [`HeaderError`] if a header is cut short.
    #[inline]
    pub fn parse(payload: &'a [u8]) -> Result<(Self, &'a [u8]), HeaderError> {
        let (main, mut rest) =
            split(payload, MAIN_HEADER_LEN).ok_or(HeaderError::TruncatedMainHeader)?;
        let mut header = PayloadHeader {
            type_specific: main[0],
            fragment_offset: u32::from_be_bytes([0, main[1], main[2], main[3]]),
            rtp_type: main[4],
            q: main[5],
            width: u16::from(main[6]) * 8,
            height: u16::from(main[7]) * 8,
            restart: None,
            quant: None,
        };
        if (64..128).contains(&header.rtp_type) {
            let (r, tail) =
                split(rest, RESTART_HEADER_LEN).ok_or(HeaderError::TruncatedRestartHeader)?;
            let flags_count = u16::from_be_bytes([r[2], r[3]]);
            header.restart = Some(RestartHeader {
                interval: u16::from_be_bytes([r[0], r[1]]),
                first: flags_count & 0x8000 != 0,
                last: flags_count & 0x4000 != 0,
                count: flags_count & 0x3FFF,
            });
            rest = tail;
        }
        if header.fragment_offset == 0 && header.q >= 128 {
            let (q, tail) =
                split(rest, QUANT_HEADER_LEN).ok_or(HeaderError::TruncatedQuantTables)?;
            let len = usize::from(u16::from_be_bytes([q[2], q[3]]));
            let (tables, tail) = split(tail, len).ok_or(HeaderError::TruncatedQuantTables)?;
            header.quant = Some(QuantHeader {
                mbz: q[0],
                precision: q[1],
                tables,
            });
            rest = tail;
        }
        Ok((header, rest))
    }
}

fn split(data: &[u8], at: usize) -> Option<(&[u8], &[u8])> {
    (data.len() >= at).then(|| data.split_at(at))
}

/// Writes the main header into `out[..8]`. `width` and `height` are multiples of 8, which
/// [`ParsedJpeg`](super::ParsedJpeg) guarantees; when either exceeds 2040 both size fields are
/// 0, which tells receivers to take the size from elsewhere (SDP `a=x-dimensions`, the ONVIF
/// header extension).
pub(crate) fn write_main(
    out: &mut [u8; MAIN_HEADER_LEN],
    offset: u32,
    rtp_type: u8,
    q: u8,
    width: u16,
    height: u16,
) {
    let off = offset.to_be_bytes();
    let (w, h) = blocks(width, height);
    *out = [0, off[1], off[2], off[3], rtp_type, q, w, h];
}

/// The size fields: width/8 and height/8, or both 0 when either does not fit a byte.
fn blocks(width: u16, height: u16) -> (u8, u8) {
    match (u8::try_from(width / 8), u8::try_from(height / 8)) {
        (Ok(w), Ok(h)) => (w, h),
        _ => (0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_three_headers() {
        let mut p = vec![0, 0, 0, 0, 65, 255, 40, 30];
        p.extend_from_slice(&[0x00, 0x10, 0xFF, 0xFF]);
        p.extend_from_slice(&[0, 0, 0, 128]);
        p.extend_from_slice(&[7; 128]);
        p.extend_from_slice(&[1, 2, 3]);
        let (h, data) = PayloadHeader::parse(&p).unwrap();
        assert_eq!((h.rtp_type, h.q, h.width, h.height), (65, 255, 320, 240));
        assert_eq!(
            h.restart,
            Some(RestartHeader {
                interval: 16,
                first: true,
                last: true,
                count: 0x3FFF
            })
        );
        assert_eq!(h.quant.unwrap().tables.len(), 128);
        assert_eq!(data, &[1, 2, 3]);
    }

    #[test]
    fn later_fragments_have_no_quant_header() {
        let p = [0, 0x01, 0x02, 0x03, 1, 255, 1, 1, 9, 9];
        let (h, data) = PayloadHeader::parse(&p).unwrap();
        assert_eq!(h.fragment_offset, 0x010203);
        assert!(h.quant.is_none() && h.restart.is_none());
        assert_eq!(data, &[9, 9]);
    }

    #[test]
    fn truncation_is_reported() {
        assert_eq!(
            PayloadHeader::parse(&[0; 7]),
            Err(HeaderError::TruncatedMainHeader)
        );
        assert_eq!(
            PayloadHeader::parse(&[0, 0, 0, 8, 64, 50, 1, 1, 0, 0]),
            Err(HeaderError::TruncatedRestartHeader)
        );
        assert_eq!(
            PayloadHeader::parse(&[0, 0, 0, 0, 1, 255, 1, 1, 0, 0, 0, 128, 1]),
            Err(HeaderError::TruncatedQuantTables)
        );
    }

    #[test]
    fn main_header_round_trips() {
        let mut out = [0u8; 8];
        write_main(&mut out, 0x00AB_CDEF, 1, 255, 2040, 8);
        let (h, _) = PayloadHeader::parse(&out).unwrap();
        assert_eq!(h.fragment_offset, 0x00AB_CDEF);
        assert_eq!((h.width, h.height), (2040, 8));
        write_main(&mut out, 0, 1, 255, 3840, 2160);
        assert_eq!(out[6..], [0, 0]);
        write_main(&mut out, 0, 1, 255, 640, 2048);
        assert_eq!(out[6..], [0, 0]);
    }
}
