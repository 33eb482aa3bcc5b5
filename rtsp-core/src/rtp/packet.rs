//! Zero-copy parsing of RTP packets (RFC 3550 5.1).

use std::iter::FusedIterator;
use std::slice::ChunksExact;

use super::header::{CsrcList, RtpHeader};
use super::{FIXED_HEADER_LEN, RTP_VERSION};

/// Why a byte string is not a valid RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtpParseError {
    /// Fewer bytes than the 12-byte fixed header.
    #[error("RTP packet of {len} bytes is shorter than the 12-byte fixed header")]
    TooShort {
        /// Length of the input.
        len: usize,
    },
    /// The version field is not 2.
    #[error("RTP version {0} is not supported (expected 2)")]
    BadVersion(u8),
    /// The CSRC list announced by the CC field runs past the end of the packet.
    #[error("{csrc_count} CSRC identifiers need {needed} bytes but the packet has {len}")]
    CsrcPastEnd {
        /// The CC field.
        csrc_count: u8,
        /// Bytes needed up to the end of the CSRC list.
        needed: usize,
        /// Length of the packet.
        len: usize,
    },
    /// The header extension (its 4-byte header or its data) runs past the end of the packet.
    #[error("the header extension needs {needed} bytes but the packet has {len}")]
    ExtensionPastEnd {
        /// Bytes needed up to the end of the extension.
        needed: usize,
        /// Length of the packet.
        len: usize,
    },
    /// The padding bit is set but the last byte (the padding count) is zero.
    #[error("the padding bit is set but the padding count is 0")]
    ZeroPadding,
    /// The padding count is larger than what follows the header.
    #[error("padding count {padding} exceeds the {available} bytes after the header")]
    PaddingTooLarge {
        /// The padding count (last byte of the packet).
        padding: u8,
        /// Bytes between the end of the header and the end of the packet.
        available: usize,
    },
}

/// An RTP header extension (RFC 3550 5.3.1): a profile-defined 16-bit identifier and data whose
/// length is a multiple of 4 bytes.
///
/// The data is kept opaque; RFC 8285 element parsing is left to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RtpExtension<'a> {
    /// The "defined by profile" field (for instance `0xBEDE` for RFC 8285 one-byte elements).
    pub profile: u16,
    /// Extension data, without the 4-byte extension header. Must be a multiple of 4 bytes long
    /// to be written.
    pub data: &'a [u8],
}

/// A validated, zero-copy view of an RTP packet.
///
/// [`parse`](Self::parse) checks every length (CSRC list, extension, padding) once, so the
/// accessors are infallible and cheap. The payload excludes the padding.
///
/// ```
/// use rtsp_core::rtp::RtpPacketRef;
/// let bytes = [0x80, 0x9a, 0x00, 0x01, 0, 0, 0x11, 0x94, 0xde, 0xad, 0xbe, 0xef, 0xff, 0xd8];
/// let pkt = RtpPacketRef::parse(&bytes)?;
/// assert_eq!(pkt.payload_type(), 26);
/// assert!(pkt.marker());
/// assert_eq!(pkt.sequence_number(), 1);
/// assert_eq!(pkt.timestamp(), 4500);
/// assert_eq!(pkt.ssrc(), 0xdead_beef);
/// assert_eq!(pkt.payload(), &[0xff, 0xd8]);
/// # Ok::<(), rtsp_core::rtp::RtpParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacketRef<'a> {
    /// Copy of the fixed header, so field accessors index a fixed-size array.
    fixed: [u8; FIXED_HEADER_LEN],
    csrc: &'a [u8],
    extension: Option<RtpExtension<'a>>,
    payload: &'a [u8],
    padding: u8,
    raw: &'a [u8],
}

impl<'a> RtpPacketRef<'a> {
    /// Parses and validates a packet. Never panics and never allocates.
    pub fn parse(data: &'a [u8]) -> Result<Self, RtpParseError> {
        let len = data.len();
        let Some((fixed, rest)) = data.split_first_chunk::<FIXED_HEADER_LEN>() else {
            return Err(RtpParseError::TooShort { len });
        };
        let version = fixed[0] >> 6;
        if version != RTP_VERSION {
            return Err(RtpParseError::BadVersion(version));
        }
        let csrc_count = fixed[0] & 0x0f;
        let csrc_len = usize::from(csrc_count) * 4;
        let Some((csrc, rest)) = rest.split_at_checked(csrc_len) else {
            return Err(RtpParseError::CsrcPastEnd {
                csrc_count,
                needed: FIXED_HEADER_LEN + csrc_len,
                len,
            });
        };

        let (extension, rest) = if fixed[0] & 0x10 != 0 {
            let ext_start = FIXED_HEADER_LEN + csrc_len;
            let Some((ext_head, rest)) = rest.split_first_chunk::<4>() else {
                return Err(RtpParseError::ExtensionPastEnd {
                    needed: ext_start + 4,
                    len,
                });
            };
            let profile = u16::from_be_bytes([ext_head[0], ext_head[1]]);
            let words = usize::from(u16::from_be_bytes([ext_head[2], ext_head[3]]));
            let Some((ext_data, rest)) = rest.split_at_checked(words * 4) else {
                return Err(RtpParseError::ExtensionPastEnd {
                    needed: ext_start + 4 + words * 4,
                    len,
                });
            };
            (
                Some(RtpExtension {
                    profile,
                    data: ext_data,
                }),
                rest,
            )
        } else {
            (None, rest)
        };

        let (payload, padding) = if fixed[0] & 0x20 != 0 {
            // The count is the last byte of the packet even when that byte lies inside the
            // header; such a count is then necessarily too large.
            let count = data.last().copied().unwrap_or(0);
            if count == 0 {
                return Err(RtpParseError::ZeroPadding);
            }
            let Some(payload_len) = rest.len().checked_sub(usize::from(count)) else {
                return Err(RtpParseError::PaddingTooLarge {
                    padding: count,
                    available: rest.len(),
                });
            };
            (rest.get(..payload_len).unwrap_or_default(), count)
        } else {
            (rest, 0)
        };

        Ok(Self {
            fixed: *fixed,
            csrc,
            extension,
            payload,
            padding,
            raw: data,
        })
    }

    /// The version field; always 2 for a parsed packet.
    #[inline]
    pub fn version(&self) -> u8 {
        self.fixed[0] >> 6
    }

    /// Whether the padding bit (P) is set.
    #[inline]
    pub fn has_padding(&self) -> bool {
        self.padding != 0
    }

    /// Number of padding bytes at the end of the packet, including the count byte; 0 if P is clear.
    #[inline]
    pub fn padding(&self) -> u8 {
        self.padding
    }

    /// Whether the extension bit (X) is set.
    #[inline]
    pub fn has_extension(&self) -> bool {
        self.extension.is_some()
    }

    /// The header extension, if X is set.
    #[inline]
    pub fn extension(&self) -> Option<RtpExtension<'a>> {
        self.extension
    }

    /// The CC field: how many CSRC identifiers follow the fixed header.
    #[inline]
    pub fn csrc_count(&self) -> u8 {
        self.fixed[0] & 0x0f
    }

    /// The CSRC identifiers, in order.
    #[inline]
    pub fn csrcs(&self) -> CsrcIter<'a> {
        CsrcIter {
            chunks: self.csrc.chunks_exact(4),
        }
    }

    /// The marker bit (M); for RFC 2435 video, set on the last packet of a frame.
    #[inline]
    pub fn marker(&self) -> bool {
        self.fixed[1] & 0x80 != 0
    }

    /// The 7-bit payload type.
    #[inline]
    pub fn payload_type(&self) -> u8 {
        self.fixed[1] & 0x7f
    }

    /// The 16-bit sequence number.
    #[inline]
    pub fn sequence_number(&self) -> u16 {
        u16::from_be_bytes([self.fixed[2], self.fixed[3]])
    }

    /// The 32-bit media timestamp.
    #[inline]
    pub fn timestamp(&self) -> u32 {
        u32::from_be_bytes([self.fixed[4], self.fixed[5], self.fixed[6], self.fixed[7]])
    }

    /// The synchronization source identifier.
    #[inline]
    pub fn ssrc(&self) -> u32 {
        u32::from_be_bytes([self.fixed[8], self.fixed[9], self.fixed[10], self.fixed[11]])
    }

    /// The payload, without header, extension or padding.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Length of the header: fixed part, CSRC list and extension.
    #[inline]
    pub fn header_len(&self) -> usize {
        FIXED_HEADER_LEN + self.csrc.len() + self.extension.map_or(0, |ext| 4 + ext.data.len())
    }

    /// The whole packet as it was parsed.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// The header fields as an [`RtpHeader`] that writes this packet back (padding bytes are
    /// then written as zeros followed by the count).
    pub fn header(&self) -> RtpHeader<'a> {
        let mut csrcs = CsrcList::new();
        for id in self.csrcs() {
            // At most 15 identifiers, since CC is 4 bits.
            let _ = csrcs.push(id);
        }
        RtpHeader {
            marker: self.marker(),
            payload_type: self.payload_type(),
            sequence_number: self.sequence_number(),
            timestamp: self.timestamp(),
            ssrc: self.ssrc(),
            csrcs,
            extension: self.extension,
            padding: self.padding,
        }
    }
}

/// Iterator over the CSRC identifiers of an [`RtpPacketRef`].
#[derive(Debug, Clone)]
pub struct CsrcIter<'a> {
    chunks: ChunksExact<'a, u8>,
}

impl Iterator for CsrcIter<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        let chunk = self.chunks.next()?;
        chunk.first_chunk::<4>().map(|b| u32::from_be_bytes(*b))
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl ExactSizeIterator for CsrcIter<'_> {}
impl FusedIterator for CsrcIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lab's packet: V=2, P=0, X=0, CC=0, M=0, PT=26, seq = frame number.
    #[test]
    fn lab_packet_has_a_12_byte_header() {
        let mut bytes = vec![
            0x80, 26, 0x00, 0x07, 0x65, 0x4a, 0x1b, 0x2c, 0, 0, 0x30, 0x39,
        ];
        bytes.extend_from_slice(&[0xff, 0xd8, 0xff, 0xd9]);
        let pkt = RtpPacketRef::parse(&bytes).unwrap();
        assert_eq!(pkt.version(), 2);
        assert!(!pkt.has_padding());
        assert!(!pkt.has_extension());
        assert_eq!(pkt.csrc_count(), 0);
        assert!(!pkt.marker());
        assert_eq!(pkt.payload_type(), 26);
        assert_eq!(pkt.sequence_number(), 7);
        assert_eq!(pkt.timestamp(), 0x654a_1b2c);
        assert_eq!(pkt.ssrc(), 12345);
        assert_eq!(pkt.header_len(), 12);
        assert_eq!(pkt.payload(), &[0xff, 0xd8, 0xff, 0xd9]);
    }

    /// The lab handout's bit example: V=2, P=0, X=0, CC=3 makes the first byte 0x83.
    #[test]
    fn lab_bit_example_cc3() {
        let mut bytes = vec![0x83, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9];
        for id in [0x0102_0304u32, 5, 6] {
            bytes.extend_from_slice(&id.to_be_bytes());
        }
        bytes.push(0xaa);
        let pkt = RtpPacketRef::parse(&bytes).unwrap();
        assert_eq!(pkt.csrc_count(), 3);
        assert_eq!(pkt.csrcs().collect::<Vec<_>>(), vec![0x0102_0304, 5, 6]);
        assert_eq!(pkt.csrcs().len(), 3);
        assert_eq!(pkt.header_len(), 24);
        assert_eq!(pkt.payload(), &[0xaa]);
    }

    #[test]
    fn extension_and_padding() {
        let mut bytes = vec![0xb0 | 1, 0x80 | 96, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 2];
        bytes.extend_from_slice(&7u32.to_be_bytes()); // CSRC
        bytes.extend_from_slice(&[0xbe, 0xde, 0x00, 0x02]); // extension header, 2 words
        bytes.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        bytes.extend_from_slice(b"payload");
        bytes.extend_from_slice(&[0, 0, 3]);
        let pkt = RtpPacketRef::parse(&bytes).unwrap();
        assert!(pkt.marker());
        assert_eq!(pkt.payload_type(), 96);
        assert_eq!(pkt.sequence_number(), 65535);
        assert_eq!(
            pkt.extension(),
            Some(RtpExtension {
                profile: 0xbede,
                data: &[1, 2, 3, 4, 5, 6, 7, 8]
            })
        );
        assert_eq!(pkt.padding(), 3);
        assert_eq!(pkt.payload(), b"payload");
        assert_eq!(pkt.header_len(), 12 + 4 + 4 + 8);
    }

    #[test]
    fn errors_are_typed() {
        assert_eq!(
            RtpPacketRef::parse(&[0x80; 11]),
            Err(RtpParseError::TooShort { len: 11 })
        );
        let mut v1 = [0u8; 12];
        v1[0] = 0x40;
        assert_eq!(RtpPacketRef::parse(&v1), Err(RtpParseError::BadVersion(1)));

        let mut cc = [0u8; 16];
        cc[0] = 0x82;
        assert_eq!(
            RtpPacketRef::parse(&cc),
            Err(RtpParseError::CsrcPastEnd {
                csrc_count: 2,
                needed: 20,
                len: 16
            })
        );

        let mut ext_head = [0u8; 14];
        ext_head[0] = 0x90;
        assert_eq!(
            RtpPacketRef::parse(&ext_head),
            Err(RtpParseError::ExtensionPastEnd {
                needed: 16,
                len: 14
            })
        );
        let mut ext_data = [0u8; 20];
        ext_data[0] = 0x90;
        ext_data[15] = 2; // two words, only one present
        assert_eq!(
            RtpPacketRef::parse(&ext_data),
            Err(RtpParseError::ExtensionPastEnd {
                needed: 24,
                len: 20
            })
        );

        let mut zero_pad = [0u8; 14];
        zero_pad[0] = 0xa0;
        assert_eq!(
            RtpPacketRef::parse(&zero_pad),
            Err(RtpParseError::ZeroPadding)
        );
        let mut big_pad = [0u8; 14];
        big_pad[0] = 0xa0;
        big_pad[13] = 3;
        assert_eq!(
            RtpPacketRef::parse(&big_pad),
            Err(RtpParseError::PaddingTooLarge {
                padding: 3,
                available: 2
            })
        );
        // Padding bit on a header-only packet: the count byte is the SSRC's last byte.
        let mut hdr_only = [0u8; 12];
        hdr_only[0] = 0xa0;
        hdr_only[11] = 1;
        assert_eq!(
            RtpPacketRef::parse(&hdr_only),
            Err(RtpParseError::PaddingTooLarge {
                padding: 1,
                available: 0
            })
        );
    }

    #[test]
    fn padding_can_consume_the_whole_payload() {
        let mut bytes = [0u8; 16];
        bytes[0] = 0xa0;
        bytes[15] = 4;
        let pkt = RtpPacketRef::parse(&bytes).unwrap();
        assert_eq!(pkt.payload(), b"");
        assert_eq!(pkt.padding(), 4);
    }
}
