//! Writing RTP packets without allocating.

use std::fmt;
use std::ops::Deref;

use super::packet::RtpExtension;
use super::{FIXED_HEADER_LEN, MAX_CSRC, RTP_VERSION};

/// Why an [`RtpHeader`] could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtpWriteError {
    /// The output buffer cannot hold the packet.
    #[error("the packet needs {needed} bytes but the buffer holds {available}")]
    BufferTooSmall {
        /// Bytes the packet needs.
        needed: usize,
        /// Bytes available in the buffer.
        available: usize,
    },
    /// The payload type does not fit in 7 bits.
    #[error("payload type {0} does not fit in 7 bits")]
    InvalidPayloadType(u8),
    /// Extension data must be a whole number of 32-bit words.
    #[error("header extension data of {len} bytes is not a multiple of 4")]
    ExtensionNotWordAligned {
        /// Length of the extension data.
        len: usize,
    },
    /// Extension data longer than 65535 words.
    #[error("header extension data of {len} bytes exceeds 65535 words")]
    ExtensionTooLong {
        /// Length of the extension data.
        len: usize,
    },
}

/// A CSRC list was given more than 15 identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an RTP header carries at most 15 CSRC identifiers")]
pub struct TooManyCsrcs;

/// Up to 15 contributing-source identifiers, stored inline so headers never allocate.
#[derive(Clone, Copy, Default)]
pub struct CsrcList {
    ids: [u32; MAX_CSRC],
    len: u8,
}

impl CsrcList {
    /// An empty list.
    pub const fn new() -> Self {
        Self {
            ids: [0; MAX_CSRC],
            len: 0,
        }
    }

    /// A list holding `ids`, or [`TooManyCsrcs`] if there are more than 15.
    pub fn from_slice(ids: &[u32]) -> Result<Self, TooManyCsrcs> {
        let mut list = Self::new();
        for &id in ids {
            list.push(id)?;
        }
        Ok(list)
    }

    /// Appends an identifier, or fails if the list already holds 15.
    pub fn push(&mut self, id: u32) -> Result<(), TooManyCsrcs> {
        let slot = self
            .ids
            .get_mut(usize::from(self.len))
            .ok_or(TooManyCsrcs)?;
        *slot = id;
        self.len += 1;
        Ok(())
    }

    /// The identifiers as a slice.
    pub fn as_slice(&self) -> &[u32] {
        self.ids.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl Deref for CsrcList {
    type Target = [u32];

    fn deref(&self) -> &[u32] {
        self.as_slice()
    }
}

impl PartialEq for CsrcList {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for CsrcList {}

impl std::hash::Hash for CsrcList {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl fmt::Debug for CsrcList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl TryFrom<&[u32]> for CsrcList {
    type Error = TooManyCsrcs;

    fn try_from(ids: &[u32]) -> Result<Self, TooManyCsrcs> {
        Self::from_slice(ids)
    }
}

/// The fields of an RTP packet to send (RFC 3550 5.1). Version is always 2.
///
/// The header borrows its extension data (if any), so `RtpHeader<'static>` is the usual type
/// for a per-stream template whose fields are updated packet by packet.
///
/// ```
/// use rtsp_core::rtp::{RtpHeader, RtpPacketRef};
/// let header = RtpHeader { marker: true, ..RtpHeader::new(26, 1, 4500, 0x1234_5678) };
/// let mut buf = [0u8; 1500];
/// let n = header.write(b"jpeg", &mut buf)?;
/// let pkt = RtpPacketRef::parse(&buf[..n]).unwrap();
/// assert_eq!(pkt.header(), header);
/// assert_eq!(pkt.payload(), b"jpeg");
/// # Ok::<(), rtsp_core::rtp::RtpWriteError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RtpHeader<'a> {
    /// The marker bit (M).
    pub marker: bool,
    /// Payload type, 0..=127.
    pub payload_type: u8,
    /// Sequence number.
    pub sequence_number: u16,
    /// Media timestamp.
    pub timestamp: u32,
    /// Synchronization source.
    pub ssrc: u32,
    /// Contributing sources; their count becomes the CC field.
    pub csrcs: CsrcList,
    /// Header extension; `Some` sets the X bit.
    pub extension: Option<RtpExtension<'a>>,
    /// Padding bytes to append after the payload, counting the final count byte; nonzero sets
    /// the P bit. Padding is written as zeros followed by the count.
    pub padding: u8,
}

impl<'a> RtpHeader<'a> {
    /// A header with no marker, CSRCs, extension or padding.
    pub const fn new(payload_type: u8, sequence_number: u16, timestamp: u32, ssrc: u32) -> Self {
        Self {
            marker: false,
            payload_type,
            sequence_number,
            timestamp,
            ssrc,
            csrcs: CsrcList::new(),
            extension: None,
            padding: 0,
        }
    }

    /// Length of the header alone: fixed part, CSRC list and extension.
    pub fn header_len(&self) -> usize {
        FIXED_HEADER_LEN + 4 * self.csrcs.len() + self.extension.map_or(0, |ext| 4 + ext.data.len())
    }

    /// Length of a whole packet carrying `payload_len` bytes of payload, padding included.
    pub fn packet_len(&self, payload_len: usize) -> usize {
        self.header_len() + payload_len + usize::from(self.padding)
    }

    fn validate(&self) -> Result<(), RtpWriteError> {
        if self.payload_type > 0x7f {
            return Err(RtpWriteError::InvalidPayloadType(self.payload_type));
        }
        if let Some(ext) = self.extension {
            let len = ext.data.len();
            if len % 4 != 0 {
                return Err(RtpWriteError::ExtensionNotWordAligned { len });
            }
            if len / 4 > usize::from(u16::MAX) {
                return Err(RtpWriteError::ExtensionTooLong { len });
            }
        }
        Ok(())
    }

    /// Writes the header (fixed part, CSRCs, extension) at the start of `buf` and returns its
    /// length.
    ///
    /// The P bit reflects [`padding`](Self::padding): when it is nonzero the caller must append
    /// the payload and then that many padding bytes ending with the count. Prefer
    /// [`write`](Self::write) or [`write_vectored`](Self::write_vectored), which do it all.
    pub fn write_header(&self, buf: &mut [u8]) -> Result<usize, RtpWriteError> {
        self.validate()?;
        let needed = self.header_len();
        if buf.len() < needed {
            return Err(RtpWriteError::BufferTooSmall {
                needed,
                available: buf.len(),
            });
        }
        let mut w = SliceWriter { buf, pos: 0 };
        self.put_header(&mut w)?;
        Ok(w.pos)
    }

    /// Writes a whole packet (header, `payload`, padding) at the start of `buf` and returns
    /// its length. Never allocates.
    pub fn write(&self, payload: &[u8], buf: &mut [u8]) -> Result<usize, RtpWriteError> {
        self.write_vectored(&[payload], buf)
    }

    /// Like [`write`](Self::write) with a payload gathered from several slices (for instance
    /// an RFC 2435 header, a quantization table header and a piece of scan data).
    pub fn write_vectored(
        &self,
        payload: &[&[u8]],
        buf: &mut [u8],
    ) -> Result<usize, RtpWriteError> {
        self.validate()?;
        let payload_len: usize = payload.iter().map(|p| p.len()).sum();
        let needed = self.packet_len(payload_len);
        if buf.len() < needed {
            return Err(RtpWriteError::BufferTooSmall {
                needed,
                available: buf.len(),
            });
        }
        let mut w = SliceWriter { buf, pos: 0 };
        self.put_header(&mut w)?;
        for part in payload {
            w.put(part)?;
        }
        if self.padding > 0 {
            for _ in 1..self.padding {
                w.put(&[0])?;
            }
            w.put(&[self.padding])?;
        }
        Ok(w.pos)
    }

    /// Appends a whole packet to `out` and returns the number of bytes appended.
    pub fn write_to_vec(&self, payload: &[u8], out: &mut Vec<u8>) -> Result<usize, RtpWriteError> {
        self.validate()?;
        let start = out.len();
        out.resize(start + self.packet_len(payload.len()), 0);
        let tail = out.get_mut(start..).unwrap_or_default();
        match self.write(payload, tail) {
            Ok(n) => Ok(n),
            Err(e) => {
                out.truncate(start);
                Err(e)
            }
        }
    }

    fn put_header(&self, w: &mut SliceWriter<'_>) -> Result<(), RtpWriteError> {
        let b0 = (RTP_VERSION << 6)
            | (u8::from(self.padding > 0) << 5)
            | (u8::from(self.extension.is_some()) << 4)
            // At most 15 by construction of CsrcList.
            | (self.csrcs.len() as u8 & 0x0f);
        let b1 = (u8::from(self.marker) << 7) | (self.payload_type & 0x7f);
        w.put(&[b0, b1])?;
        w.put(&self.sequence_number.to_be_bytes())?;
        w.put(&self.timestamp.to_be_bytes())?;
        w.put(&self.ssrc.to_be_bytes())?;
        for id in self.csrcs.iter() {
            w.put(&id.to_be_bytes())?;
        }
        if let Some(ext) = self.extension {
            w.put(&ext.profile.to_be_bytes())?;
            // Validated above to fit in 16 bits.
            let words = (ext.data.len() / 4) as u16;
            w.put(&words.to_be_bytes())?;
            w.put(ext.data)?;
        }
        Ok(())
    }
}

/// Sequential writes into a slice; every write is bounds-checked so a length miscalculation
/// surfaces as an error instead of a panic.
pub(crate) struct SliceWriter<'b> {
    pub(crate) buf: &'b mut [u8],
    pub(crate) pos: usize,
}

impl SliceWriter<'_> {
    #[inline]
    pub(crate) fn put(&mut self, bytes: &[u8]) -> Result<(), RtpWriteError> {
        let end = self.pos + bytes.len();
        let available = self.buf.len();
        let dst = self
            .buf
            .get_mut(self.pos..end)
            .ok_or(RtpWriteError::BufferTooSmall {
                needed: end,
                available,
            })?;
        dst.copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::RtpPacketRef;

    /// The lab handout's bit example, written strictly (with a real CSRC list).
    #[test]
    fn first_byte_of_lab_bit_example() {
        let header = RtpHeader {
            csrcs: CsrcList::from_slice(&[1, 2, 3]).unwrap(),
            ..RtpHeader::new(26, 0, 0, 0)
        };
        let mut buf = [0u8; 64];
        let n = header.write_header(&mut buf).unwrap();
        assert_eq!(buf[0], 0x83);
        assert_eq!(buf[0], 0b1000_0011);
        assert_eq!(n, 24);
    }

    #[test]
    fn lab_packet_bytes() {
        let header = RtpHeader::new(26, 1, 0x0102_0304, 0x0a0b_0c0d);
        let mut buf = [0u8; 16];
        let n = header.write(&[0xff, 0xd8], &mut buf).unwrap();
        assert_eq!(n, 14);
        assert_eq!(
            &buf[..n],
            &[0x80, 26, 0, 1, 1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d, 0xff, 0xd8]
        );
    }

    #[test]
    fn buffer_too_small_is_reported_and_nothing_panics() {
        let header = RtpHeader {
            padding: 4,
            ..RtpHeader::new(96, 9, 9, 9)
        };
        let mut buf = [0u8; 19];
        assert_eq!(
            header.write(b"abcd", &mut buf),
            Err(RtpWriteError::BufferTooSmall {
                needed: 20,
                available: 19
            })
        );
        assert_eq!(
            header.write_header(&mut buf[..11]),
            Err(RtpWriteError::BufferTooSmall {
                needed: 12,
                available: 11
            })
        );
    }

    #[test]
    fn invalid_fields_are_refused() {
        let mut buf = [0u8; 64];
        assert_eq!(
            RtpHeader::new(128, 0, 0, 0).write(b"", &mut buf),
            Err(RtpWriteError::InvalidPayloadType(128))
        );
        let ext = RtpHeader {
            extension: Some(RtpExtension {
                profile: 1,
                data: &[1, 2, 3],
            }),
            ..RtpHeader::new(0, 0, 0, 0)
        };
        assert_eq!(
            ext.write(b"", &mut buf),
            Err(RtpWriteError::ExtensionNotWordAligned { len: 3 })
        );
        let mut out = vec![7u8];
        assert!(ext.write_to_vec(b"", &mut out).is_err());
        assert_eq!(
            out,
            vec![7u8],
            "a failed append leaves the vector untouched"
        );
    }

    #[test]
    fn vectored_write_with_everything() {
        let header = RtpHeader {
            marker: true,
            csrcs: CsrcList::from_slice(&[0xaabb_ccdd]).unwrap(),
            extension: Some(RtpExtension {
                profile: 0xbede,
                data: &[1, 2, 3, 4],
            }),
            padding: 3,
            ..RtpHeader::new(26, 65535, 90_000, 42)
        };
        let mut buf = [0xeeu8; 64];
        let n = header
            .write_vectored(&[b"ab", b"", b"cde"], &mut buf)
            .unwrap();
        assert_eq!(n, header.packet_len(5));
        assert_eq!(buf[0], 0x80 | 0x20 | 0x10 | 1);
        assert_eq!(&buf[n - 3..n], &[0, 0, 3]);
        let pkt = RtpPacketRef::parse(&buf[..n]).unwrap();
        assert_eq!(pkt.header(), header);
        assert_eq!(pkt.payload(), b"abcde");

        let mut v = Vec::new();
        assert_eq!(header.write_to_vec(b"abcde", &mut v), Ok(n));
        assert_eq!(v, &buf[..n]);
    }

    #[test]
    fn csrc_list_capacity() {
        let mut list = CsrcList::from_slice(&[0; 15]).unwrap();
        assert_eq!(list.push(1), Err(TooManyCsrcs));
        assert_eq!(CsrcList::from_slice(&[0; 16]), Err(TooManyCsrcs));
        assert_eq!(list.len(), 15);
    }
}
