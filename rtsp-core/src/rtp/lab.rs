//! The lab's RTP dialect: `RtpPacket.encode(version, padding, extension, cc, seqnum, marker, pt,
//! ssrc, payload)` and the lab client's `decode`.
//!
//! The lab's encoder writes each field masked to its bit width into a 12-byte header and never
//! writes a CSRC list, extension or padding, even when CC, X or P are nonzero. Its decoder takes
//! the first 12 bytes as the header and everything after as the payload. So a lab packet with
//! CC=3 is 12 bytes of header plus payload, which a strict RFC 3550 parser reads as a packet
//! whose CSRC list swallows the first 12 payload bytes. [`LabRtpHeader`] reproduces that
//! behaviour byte for byte (it is what lab clients expect); [`LabRtpHeader::to_strict`] is the
//! strict variant that refuses values a standard receiver would misread.
//!
//! The lab takes the timestamp from Python's `int(time())` inside `encode`; here the caller
//! passes it, since this crate reads no clocks.

use super::header::{RtpHeader, RtpWriteError, SliceWriter};
use super::packet::RtpParseError;
use super::{FIXED_HEADER_LEN, PAYLOAD_TYPE_JPEG, RTP_VERSION};

/// A lab header field that a strict RFC 3550 header cannot represent as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LabFieldError {
    /// The value does not fit in the field's width (the lab would silently mask it).
    #[error("lab RTP field {field} = {value} does not fit (maximum {max})")]
    OutOfRange {
        /// Name of the lab argument.
        field: &'static str,
        /// The value given.
        value: u32,
        /// Largest value the field holds.
        max: u32,
    },
    /// The version is not 2.
    #[error("lab RTP version {0} is not 2")]
    BadVersion(u8),
    /// P, X or CC is nonzero, but the lab writes no padding, extension or CSRC list to back it.
    #[error("lab RTP field {field} = {value} announces data the lab encoder never writes")]
    Unbacked {
        /// Name of the lab argument.
        field: &'static str,
        /// The value given.
        value: u8,
    },
}

/// Arguments of the lab's `RtpPacket.encode`, plus the timestamp it reads from the clock.
///
/// ```
/// use rtsp_core::rtp::lab::LabRtpHeader;
/// let header = LabRtpHeader::lab_defaults(7, 12345, 1_700_000_000);
/// let mut packet = Vec::new();
/// header.encode_to_vec(b"\xff\xd8", &mut packet);
/// assert_eq!(&packet[..4], &[0x80, 26, 0, 7]);
/// assert_eq!(packet.len(), 14);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LabRtpHeader {
    /// Version (the lab passes 2); masked to 2 bits.
    pub version: u8,
    /// Padding flag; masked to 1 bit.
    pub padding: u8,
    /// Extension flag; masked to 1 bit.
    pub extension: u8,
    /// CSRC count; masked to 4 bits. No CSRC list is written.
    pub cc: u8,
    /// Sequence number (the lab passes the frame number); masked to 16 bits, so it wraps.
    pub seqnum: u32,
    /// Marker flag; masked to 1 bit.
    pub marker: u8,
    /// Payload type (the lab passes 26); masked to 7 bits.
    pub pt: u8,
    /// Synchronization source.
    pub ssrc: u32,
    /// Timestamp (the lab uses whole seconds since the Unix epoch).
    pub timestamp: u32,
}

impl LabRtpHeader {
    /// The values the lab's server passes: V=2, P=X=CC=M=0, PT=26.
    pub const fn lab_defaults(seqnum: u32, ssrc: u32, timestamp: u32) -> Self {
        Self {
            version: RTP_VERSION,
            padding: 0,
            extension: 0,
            cc: 0,
            seqnum,
            marker: 0,
            pt: PAYLOAD_TYPE_JPEG,
            ssrc,
            timestamp,
        }
    }

    /// The 12 header bytes, each field masked to its width.
    pub fn to_bytes(&self) -> [u8; FIXED_HEADER_LEN] {
        let b0 = ((self.version & 0x03) << 6)
            | ((self.padding & 0x01) << 5)
            | ((self.extension & 0x01) << 4)
            | (self.cc & 0x0f);
        let b1 = ((self.marker & 0x01) << 7) | (self.pt & 0x7f);
        let seq = (self.seqnum & 0xffff) as u16;
        let [s0, s1] = seq.to_be_bytes();
        let [t0, t1, t2, t3] = self.timestamp.to_be_bytes();
        let [c0, c1, c2, c3] = self.ssrc.to_be_bytes();
        [b0, b1, s0, s1, t0, t1, t2, t3, c0, c1, c2, c3]
    }

    /// Writes header and payload into `buf` and returns the packet length (12 + payload).
    pub fn encode(&self, payload: &[u8], buf: &mut [u8]) -> Result<usize, RtpWriteError> {
        let needed = FIXED_HEADER_LEN + payload.len();
        if buf.len() < needed {
            return Err(RtpWriteError::BufferTooSmall {
                needed,
                available: buf.len(),
            });
        }
        let mut w = SliceWriter { buf, pos: 0 };
        w.put(&self.to_bytes())?;
        w.put(payload)?;
        Ok(w.pos)
    }

    /// Appends header and payload to `out`; returns the number of bytes appended.
    pub fn encode_to_vec(&self, payload: &[u8], out: &mut Vec<u8>) -> usize {
        out.reserve(FIXED_HEADER_LEN + payload.len());
        out.extend_from_slice(&self.to_bytes());
        out.extend_from_slice(payload);
        FIXED_HEADER_LEN + payload.len()
    }

    /// The strict variant: an [`RtpHeader`] with the same meaning, or an error if a field is
    /// out of range, the version is not 2, or P, X or CC is nonzero (the lab would write a
    /// packet that a standard receiver misparses).
    pub fn to_strict(&self) -> Result<RtpHeader<'static>, LabFieldError> {
        fn check(field: &'static str, value: u32, max: u32) -> Result<(), LabFieldError> {
            if value > max {
                Err(LabFieldError::OutOfRange { field, value, max })
            } else {
                Ok(())
            }
        }
        if self.version != RTP_VERSION {
            return Err(LabFieldError::BadVersion(self.version));
        }
        check("padding", self.padding.into(), 1)?;
        check("extension", self.extension.into(), 1)?;
        check("cc", self.cc.into(), 15)?;
        check("seqnum", self.seqnum, 0xffff)?;
        check("marker", self.marker.into(), 1)?;
        check("pt", self.pt.into(), 0x7f)?;
        for (field, value) in [
            ("padding", self.padding),
            ("extension", self.extension),
            ("cc", self.cc),
        ] {
            if value != 0 {
                return Err(LabFieldError::Unbacked { field, value });
            }
        }
        Ok(RtpHeader {
            marker: self.marker != 0,
            ..RtpHeader::new(
                self.pt,
                (self.seqnum & 0xffff) as u16,
                self.timestamp,
                self.ssrc,
            )
        })
    }
}

/// A received packet read the way the lab client's `RtpPacket.decode` reads it: the first 12
/// bytes are the header, everything after them is the payload, whatever CC, X and P say.
///
/// Accessors mirror the lab's `version()`, `seqNum()`, `timestamp()`, `payloadType()` and
/// `getPayload()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabRtpPacketRef<'a> {
    header: [u8; FIXED_HEADER_LEN],
    payload: &'a [u8],
}

impl<'a> LabRtpPacketRef<'a> {
    /// Splits `data` into header and payload; fails only if it is shorter than 12 bytes.
    pub fn parse(data: &'a [u8]) -> Result<Self, RtpParseError> {
        let (header, payload) = data
            .split_first_chunk::<FIXED_HEADER_LEN>()
            .ok_or(RtpParseError::TooShort { len: data.len() })?;
        Ok(Self {
            header: *header,
            payload,
        })
    }

    /// The 12 header bytes.
    pub fn header_bytes(&self) -> &[u8; FIXED_HEADER_LEN] {
        &self.header
    }

    /// The version field (not checked).
    pub fn version(&self) -> u8 {
        self.header[0] >> 6
    }

    /// The P bit.
    pub fn padding(&self) -> bool {
        self.header[0] & 0x20 != 0
    }

    /// The X bit.
    pub fn extension(&self) -> bool {
        self.header[0] & 0x10 != 0
    }

    /// The CC field (no CSRC list is read).
    pub fn cc(&self) -> u8 {
        self.header[0] & 0x0f
    }

    /// The M bit.
    pub fn marker(&self) -> bool {
        self.header[1] & 0x80 != 0
    }

    /// The lab's `payloadType()`.
    pub fn payload_type(&self) -> u8 {
        self.header[1] & 0x7f
    }

    /// The lab's `seqNum()`.
    pub fn seq_num(&self) -> u16 {
        u16::from_be_bytes([self.header[2], self.header[3]])
    }

    /// The lab's `timestamp()`.
    pub fn timestamp(&self) -> u32 {
        u32::from_be_bytes([
            self.header[4],
            self.header[5],
            self.header[6],
            self.header[7],
        ])
    }

    /// The SSRC field.
    pub fn ssrc(&self) -> u32 {
        u32::from_be_bytes([
            self.header[8],
            self.header[9],
            self.header[10],
            self.header[11],
        ])
    }

    /// The lab's `getPayload()`: everything after byte 12.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::RtpPacketRef;

    /// The handout's bit example: V=2, P=0, X=0, CC=3 gives 0b10_0_0_0011 = 0x83.
    #[test]
    fn bit_example_first_byte() {
        let h = LabRtpHeader {
            version: 2,
            cc: 3,
            ..LabRtpHeader::default()
        };
        assert_eq!(h.to_bytes()[0], 0x83);
    }

    /// The lab quirk: CC=3 still produces a 12-byte header with no CSRC list.
    #[test]
    fn cc_without_csrc_list_keeps_12_byte_header() {
        let h = LabRtpHeader {
            cc: 3,
            ..LabRtpHeader::lab_defaults(5, 1, 2)
        };
        let mut buf = [0u8; 32];
        let n = h.encode(b"0123456789abcdef", &mut buf).unwrap();
        assert_eq!(n, 12 + 16);
        let lab = LabRtpPacketRef::parse(&buf[..n]).unwrap();
        assert_eq!(lab.cc(), 3);
        assert_eq!(lab.payload(), b"0123456789abcdef");
        // A strict parser reads the first 12 payload bytes as CSRCs.
        let strict = RtpPacketRef::parse(&buf[..n]).unwrap();
        assert_eq!(strict.payload(), b"cdef");
        assert_eq!(
            h.to_strict(),
            Err(LabFieldError::Unbacked {
                field: "cc",
                value: 3
            })
        );
    }

    #[test]
    fn lab_server_packet() {
        let h = LabRtpHeader::lab_defaults(1, 0xabcd, 1_600_000_000);
        let bytes = h.to_bytes();
        let ts = 1_600_000_000u32.to_be_bytes();
        assert_eq!(
            bytes,
            [0x80, 26, 0, 1, ts[0], ts[1], ts[2], ts[3], 0, 0, 0xab, 0xcd]
        );
        let strict = h.to_strict().unwrap();
        let mut a = [0u8; 20];
        let mut b = [0u8; 20];
        let n = strict.write(b"xyz", &mut a).unwrap();
        let m = h.encode(b"xyz", &mut b).unwrap();
        assert_eq!(a[..n], b[..m]);
    }

    /// Fields are masked to their widths, as the lab's Python does.
    #[test]
    fn fields_are_masked() {
        let h = LabRtpHeader {
            version: 6,       // -> 2
            padding: 2,       // -> 0
            extension: 3,     // -> 1
            cc: 0x1f,         // -> 15
            seqnum: 0x1_0005, // -> 5
            marker: 3,        // -> 1
            pt: 0xff,         // -> 127
            ssrc: 1,
            timestamp: 2,
        };
        let b = h.to_bytes();
        assert_eq!(b[0], 0b1001_1111); // V=2, P=0, X=1, CC=15
        assert_eq!(b[1], 0xff);
        assert_eq!(&b[2..4], &[0, 5]);
        assert_eq!(h.to_strict(), Err(LabFieldError::BadVersion(6)));
        let h2 = LabRtpHeader { version: 2, ..h };
        assert_eq!(
            h2.to_strict(),
            Err(LabFieldError::OutOfRange {
                field: "padding",
                value: 2,
                max: 1
            })
        );
        let wrapped = LabRtpHeader::lab_defaults(65536 + 9, 0, 0);
        assert_eq!(
            wrapped.to_strict(),
            Err(LabFieldError::OutOfRange {
                field: "seqnum",
                value: 65545,
                max: 65535
            })
        );
    }

    #[test]
    fn lab_decode_accessors() {
        let data = [
            0x80 | 0x40,
            0x80 | 26,
            0x12,
            0x34,
            0,
            0,
            0,
            9,
            0,
            0,
            0,
            8,
            1,
        ];
        let p = LabRtpPacketRef::parse(&data).unwrap();
        assert_eq!(p.version(), 3);
        assert!(p.marker());
        assert_eq!(p.payload_type(), 26);
        assert_eq!(p.seq_num(), 0x1234);
        assert_eq!(p.timestamp(), 9);
        assert_eq!(p.ssrc(), 8);
        assert_eq!(p.payload(), &[1]);
        assert_eq!(
            LabRtpPacketRef::parse(&data[..11]),
            Err(RtpParseError::TooShort { len: 11 })
        );
    }
}
