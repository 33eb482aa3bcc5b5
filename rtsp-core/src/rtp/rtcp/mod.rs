//! RTCP (RFC 3550 6): compound packets with SR, RR, SDES, BYE and APP; other packet types are
//! kept raw.
//!
//! One set of types serves both directions. Parsing ([`Compound::parse`]) validates every
//! length once and then hands out packets that borrow the input: report blocks, SSRC lists and
//! SDES chunks are read lazily from the wire bytes, so parsing never allocates. To send, build
//! the same types from your own slices ([`ReportBlocks::from_slice`], [`SdesChunks::single`],
//! ...) and call [`write_compound`] or [`RtcpPacket::write_to`]. Equality is semantic: a
//! parsed packet equals the one it was written from.
//!
//! ```
//! use rtsp_core::rtp::ntp::NtpTimestamp;
//! use rtsp_core::rtp::rtcp::*;
//!
//! let sr = SenderReport {
//!     ssrc: 0x1234,
//!     sender_info: SenderInfo {
//!         ntp_timestamp: NtpTimestamp(0x0123_4567_89ab_cdef),
//!         rtp_timestamp: 90_000,
//!         packet_count: 20,
//!         octet_count: 160_000,
//!     },
//!     report_blocks: ReportBlocks::EMPTY,
//!     profile_extension: &[],
//! };
//! let sdes = SourceDescription::cname(0x1234, b"server@example.net");
//! let mut out = Vec::new();
//! write_compound(&[sr.into(), sdes.into()], &mut out)?;
//!
//! let compound = Compound::parse_strict(&out).unwrap();
//! let packets: Vec<RtcpPacket<'_>> = compound.iter().collect();
//! assert_eq!(packets, [RtcpPacket::from(sr), RtcpPacket::from(sdes)]);
//! # Ok::<(), RtcpWriteError>(())
//! ```

mod bye;
mod compound;
mod report;
mod sdes;

use std::fmt;

pub use bye::{Goodbye, SsrcIter, SsrcList};
pub use compound::{write_compound, Compound, CompoundIssues, CompoundIter};
pub use report::{
    ReceiverReport, ReportBlock, ReportBlockIter, ReportBlocks, SenderInfo, SenderReport,
};
pub use sdes::{
    SdesChunk, SdesChunkIter, SdesChunks, SdesItem, SdesItemIter, SdesItemType, SdesItems,
    SourceDescription,
};

use super::RTP_VERSION;

/// Packet type of a sender report.
pub const PT_SR: u8 = 200;
/// Packet type of a receiver report.
pub const PT_RR: u8 = 201;
/// Packet type of a source description.
pub const PT_SDES: u8 = 202;
/// Packet type of a goodbye.
pub const PT_BYE: u8 = 203;
/// Packet type of an application-defined packet.
pub const PT_APP: u8 = 204;

/// Largest RTCP packet: the length field counts at most 65536 32-bit words.
pub const MAX_PACKET_LEN: usize = 4 * 65_536;

/// Largest value of the 5-bit count field (report blocks, SDES chunks, BYE sources, APP subtype).
pub const MAX_COUNT: usize = 31;

/// Why bytes are not a valid RTCP (compound) packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtcpParseError {
    /// Not even a 4-byte common header left (an empty datagram included).
    #[error("{len} bytes are too short for an RTCP header")]
    TooShort {
        /// Bytes left.
        len: usize,
    },
    /// The version field is not 2.
    #[error("RTCP version {0} is not supported (expected 2)")]
    BadVersion(u8),
    /// The length field points past the end of the input.
    #[error("RTCP packet declares {declared} bytes but only {available} remain")]
    LengthPastEnd {
        /// Bytes the length field declares (header included).
        declared: usize,
        /// Bytes left in the input.
        available: usize,
    },
    /// The padding count is 0, not a multiple of 4, or larger than the packet body.
    #[error("invalid RTCP padding count {count}")]
    BadPadding {
        /// The padding count (last byte of the packet).
        count: u8,
    },
    /// The body is too short for what the header's count field announces (report blocks,
    /// SSRCs, SDES chunks and items, BYE reason, APP name).
    #[error("RTCP packet type {packet_type} body is truncated")]
    Truncated {
        /// The packet type.
        packet_type: u8,
    },
    /// The compound packet breaks RFC 3550 A.2 rules (only from [`Compound::parse_strict`]).
    #[error("not a valid RTCP compound packet: {0:?}")]
    NotCompound(CompoundIssues),
}

/// Why a packet could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtcpWriteError {
    /// More than 31 report blocks, SDES chunks or BYE sources, or an APP subtype or raw count
    /// above 31.
    #[error("{what}: {count} exceeds the 5-bit count field")]
    CountTooLarge {
        /// What was counted.
        what: &'static str,
        /// The count.
        count: usize,
    },
    /// An SDES item value or BYE reason is longer than 255 bytes.
    #[error("{what} of {len} bytes exceeds 255")]
    TextTooLong {
        /// Which text.
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// An SDES item of type 0 (which marks the end of a chunk's items).
    #[error("SDES item type 0 is reserved as the end of a chunk")]
    SdesEndItem,
    /// Opaque data (profile extension, APP data, raw body) not a whole number of 32-bit words.
    #[error("{what} of {len} bytes is not a multiple of 4")]
    NotWordAligned {
        /// Which data.
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// The packet would exceed [`MAX_PACKET_LEN`].
    #[error("RTCP packet of {len} bytes exceeds the 16-bit length field")]
    PacketTooLong {
        /// The length it would have.
        len: usize,
    },
}

/// An application-defined packet (RFC 3550 6.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct App<'a> {
    /// The 5-bit subtype (carried in the count field).
    pub subtype: u8,
    /// The SSRC or CSRC of the originator.
    pub ssrc: u32,
    /// Four ASCII characters naming the application.
    pub name: [u8; 4],
    /// Application data; a multiple of 4 bytes.
    pub data: &'a [u8],
}

/// A packet of a type this crate does not interpret (for instance RTPFB/PSFB feedback or XR),
/// kept as it came, minus the common header and padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPacket<'a> {
    /// The packet type.
    pub packet_type: u8,
    /// The 5-bit count field (its meaning depends on the type).
    pub count: u8,
    /// The body after the 4-byte header; a multiple of 4 bytes.
    pub body: &'a [u8],
}

/// One RTCP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcpPacket<'a> {
    /// Sender report (type 200).
    SenderReport(SenderReport<'a>),
    /// Receiver report (type 201).
    ReceiverReport(ReceiverReport<'a>),
    /// Source description (type 202).
    SourceDescription(SourceDescription<'a>),
    /// Goodbye (type 203).
    Goodbye(Goodbye<'a>),
    /// Application-defined (type 204).
    App(App<'a>),
    /// Any other type, kept raw. Writing a raw packet with a known type is allowed (it is
    /// written verbatim) but it will parse back as the typed variant.
    Unknown(RawPacket<'a>),
}

impl<'a> From<SenderReport<'a>> for RtcpPacket<'a> {
    fn from(p: SenderReport<'a>) -> Self {
        Self::SenderReport(p)
    }
}

impl<'a> From<ReceiverReport<'a>> for RtcpPacket<'a> {
    fn from(p: ReceiverReport<'a>) -> Self {
        Self::ReceiverReport(p)
    }
}

impl<'a> From<SourceDescription<'a>> for RtcpPacket<'a> {
    fn from(p: SourceDescription<'a>) -> Self {
        Self::SourceDescription(p)
    }
}

impl<'a> From<Goodbye<'a>> for RtcpPacket<'a> {
    fn from(p: Goodbye<'a>) -> Self {
        Self::Goodbye(p)
    }
}

impl<'a> From<App<'a>> for RtcpPacket<'a> {
    fn from(p: App<'a>) -> Self {
        Self::App(p)
    }
}

impl<'a> From<RawPacket<'a>> for RtcpPacket<'a> {
    fn from(p: RawPacket<'a>) -> Self {
        Self::Unknown(p)
    }
}

/// A packet split off the front of a compound: the packet, whether it had padding, and the
/// rest of the input.
pub(crate) struct Split<'a> {
    pub(crate) packet: RtcpPacket<'a>,
    pub(crate) padded: bool,
    pub(crate) rest: &'a [u8],
}

impl<'a> RtcpPacket<'a> {
    /// The packet type byte.
    pub fn packet_type(&self) -> u8 {
        match self {
            Self::SenderReport(_) => PT_SR,
            Self::ReceiverReport(_) => PT_RR,
            Self::SourceDescription(_) => PT_SDES,
            Self::Goodbye(_) => PT_BYE,
            Self::App(_) => PT_APP,
            Self::Unknown(raw) => raw.packet_type,
        }
    }

    /// Parses the first packet of `data`, validating it fully.
    pub(crate) fn split_first(data: &'a [u8]) -> Result<Split<'a>, RtcpParseError> {
        let Some((head, _)) = data.split_first_chunk::<4>() else {
            return Err(RtcpParseError::TooShort { len: data.len() });
        };
        let version = head[0] >> 6;
        if version != RTP_VERSION {
            return Err(RtcpParseError::BadVersion(version));
        }
        let padded = head[0] & 0x20 != 0;
        let count = head[0] & 0x1f;
        let packet_type = head[1];
        let declared = 4 * (usize::from(u16::from_be_bytes([head[2], head[3]])) + 1);
        let Some((packet, rest)) = data.split_at_checked(declared) else {
            return Err(RtcpParseError::LengthPastEnd {
                declared,
                available: data.len(),
            });
        };
        let mut body = packet.get(4..).unwrap_or_default();
        if padded {
            let pad = body.last().copied().unwrap_or(0);
            let keep = body
                .len()
                .checked_sub(usize::from(pad))
                .filter(|_| pad != 0 && pad % 4 == 0)
                .ok_or(RtcpParseError::BadPadding { count: pad })?;
            body = body.get(..keep).unwrap_or_default();
        }
        let truncated = RtcpParseError::Truncated { packet_type };
        let packet = match packet_type {
            PT_SR => {
                RtcpPacket::SenderReport(SenderReport::parse_body(count, body).ok_or(truncated)?)
            }
            PT_RR => RtcpPacket::ReceiverReport(
                ReceiverReport::parse_body(count, body).ok_or(truncated)?,
            ),
            PT_SDES => RtcpPacket::SourceDescription(
                SourceDescription::parse_body(count, body).ok_or(truncated)?,
            ),
            PT_BYE => RtcpPacket::Goodbye(Goodbye::parse_body(count, body).ok_or(truncated)?),
            PT_APP => {
                let (ssrc, rest) = body.split_first_chunk::<4>().ok_or(truncated)?;
                let (name, data) = rest.split_first_chunk::<4>().ok_or(truncated)?;
                RtcpPacket::App(App {
                    subtype: count,
                    ssrc: u32::from_be_bytes(*ssrc),
                    name: *name,
                    data,
                })
            }
            _ => RtcpPacket::Unknown(RawPacket {
                packet_type,
                count,
                body,
            }),
        };
        Ok(Split {
            packet,
            padded,
            rest,
        })
    }

    /// The count field and body length this packet will be written with, after validation.
    fn layout(&self) -> Result<(u8, usize), RtcpWriteError> {
        match self {
            Self::SenderReport(p) => p.layout(),
            Self::ReceiverReport(p) => p.layout(),
            Self::SourceDescription(p) => p.layout(),
            Self::Goodbye(p) => p.layout(),
            Self::App(p) => {
                let count = check_count("APP subtype", usize::from(p.subtype))?;
                check_aligned("APP data", p.data)?;
                Ok((count, 8 + p.data.len()))
            }
            Self::Unknown(p) => {
                let count = check_count("raw packet count", usize::from(p.count))?;
                check_aligned("raw packet body", p.body)?;
                Ok((count, p.body.len()))
            }
        }
    }

    /// Length of the packet once written, or why it cannot be written.
    pub fn encoded_len(&self) -> Result<usize, RtcpWriteError> {
        let (_, body_len) = self.layout()?;
        let len = 4 + body_len;
        if len > MAX_PACKET_LEN {
            return Err(RtcpWriteError::PacketTooLong { len });
        }
        Ok(len)
    }

    /// Appends this packet (without padding) to `out` and returns its length. On error `out`
    /// is left unchanged.
    pub fn write_to(&self, out: &mut Vec<u8>) -> Result<usize, RtcpWriteError> {
        let (count, body_len) = self.layout()?;
        let len = 4 + body_len;
        if len > MAX_PACKET_LEN {
            return Err(RtcpWriteError::PacketTooLong { len });
        }
        // len is a multiple of 4 in 4..=MAX_PACKET_LEN, so the word count fits in 16 bits.
        let words = (len / 4 - 1) as u16;
        out.reserve(len);
        let start = out.len();
        out.push((RTP_VERSION << 6) | count);
        out.push(self.packet_type());
        out.extend_from_slice(&words.to_be_bytes());
        match self {
            Self::SenderReport(p) => p.write_body(out),
            Self::ReceiverReport(p) => p.write_body(out),
            Self::SourceDescription(p) => p.write_body(out),
            Self::Goodbye(p) => p.write_body(out),
            Self::App(p) => {
                out.extend_from_slice(&p.ssrc.to_be_bytes());
                out.extend_from_slice(&p.name);
                out.extend_from_slice(p.data);
            }
            Self::Unknown(p) => out.extend_from_slice(p.body),
        }
        debug_assert_eq!(out.len() - start, len);
        Ok(len)
    }
}

impl fmt::Display for RtcpPacket<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SenderReport(p) => {
                write!(f, "SR ssrc={:08x} blocks={}", p.ssrc, p.report_blocks.len())
            }
            Self::ReceiverReport(p) => {
                write!(f, "RR ssrc={:08x} blocks={}", p.ssrc, p.report_blocks.len())
            }
            Self::SourceDescription(p) => write!(f, "SDES chunks={}", p.chunks.len()),
            Self::Goodbye(p) => write!(f, "BYE sources={}", p.ssrcs.len()),
            Self::App(p) => write!(f, "APP subtype={} name={:?}", p.subtype, p.name),
            Self::Unknown(p) => write!(f, "RTCP type {} ({} bytes)", p.packet_type, p.body.len()),
        }
    }
}

/// Validates a 5-bit count.
pub(crate) fn check_count(what: &'static str, count: usize) -> Result<u8, RtcpWriteError> {
    u8::try_from(count)
        .ok()
        .filter(|&c| usize::from(c) <= MAX_COUNT)
        .ok_or(RtcpWriteError::CountTooLarge { what, count })
}

/// Validates that opaque data is a whole number of words.
pub(crate) fn check_aligned(what: &'static str, data: &[u8]) -> Result<(), RtcpWriteError> {
    if data.len().is_multiple_of(4) {
        Ok(())
    } else {
        Err(RtcpWriteError::NotWordAligned {
            what,
            len: data.len(),
        })
    }
}

/// Reads a big-endian u32 at the start of a slice known to be long enough.
#[inline]
pub(crate) fn be32(bytes: &[u8]) -> u32 {
    bytes
        .first_chunk::<4>()
        .map_or(0, |b| u32::from_be_bytes(*b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_errors() {
        assert_eq!(
            Compound::parse(&[]).unwrap_err(),
            RtcpParseError::TooShort { len: 0 }
        );
        assert_eq!(
            Compound::parse(&[0x80, 201, 0]).unwrap_err(),
            RtcpParseError::TooShort { len: 3 }
        );
        assert_eq!(
            Compound::parse(&[0x40, 201, 0, 1, 0, 0, 0, 0]).unwrap_err(),
            RtcpParseError::BadVersion(1)
        );
        assert_eq!(
            Compound::parse(&[0x80, 201, 0, 2, 0, 0, 0, 0]).unwrap_err(),
            RtcpParseError::LengthPastEnd {
                declared: 12,
                available: 8
            }
        );
        // RR with one report block announced but none present.
        assert_eq!(
            Compound::parse(&[0x81, 201, 0, 1, 0, 0, 0, 0]).unwrap_err(),
            RtcpParseError::Truncated { packet_type: 201 }
        );
        // SR too short for the sender info.
        assert_eq!(
            Compound::parse(&[0x80, 200, 0, 1, 0, 0, 0, 0]).unwrap_err(),
            RtcpParseError::Truncated { packet_type: 200 }
        );
        // APP without a name.
        assert_eq!(
            Compound::parse(&[0x80, 204, 0, 1, 0, 0, 0, 0]).unwrap_err(),
            RtcpParseError::Truncated { packet_type: 204 }
        );
    }

    #[test]
    fn padding_rules() {
        // RR + 4 bytes of padding.
        let ok = [0xa0, 201, 0, 2, 0, 0, 0, 7, 0, 0, 0, 4];
        let c = Compound::parse(&ok).unwrap();
        match c.iter().next() {
            Some(RtcpPacket::ReceiverReport(rr)) => {
                assert_eq!(rr.ssrc, 7);
                assert!(rr.profile_extension.is_empty());
            }
            other => panic!("unexpected {other:?}"),
        }
        for (count, bytes) in [
            (0u8, [0xa0, 201, 0, 2, 0, 0, 0, 7, 0, 0, 0, 0]),
            (3, [0xa0, 201, 0, 2, 0, 0, 0, 7, 0, 0, 0, 3]),
            (12, [0xa0, 201, 0, 2, 0, 0, 0, 7, 0, 0, 0, 12]),
        ] {
            assert_eq!(
                Compound::parse(&bytes).unwrap_err(),
                RtcpParseError::BadPadding { count }
            );
        }
        // Padding that eats the SSRC leaves a truncated RR.
        let eats = [0xa0, 201, 0, 2, 0, 0, 0, 7, 0, 0, 0, 8];
        assert_eq!(
            Compound::parse(&eats).unwrap_err(),
            RtcpParseError::Truncated { packet_type: 201 }
        );
    }

    #[test]
    fn app_and_unknown_round_trip() {
        let app = App {
            subtype: 31,
            ssrc: 9,
            name: *b"TEST",
            data: &[1, 2, 3, 4],
        };
        let raw = RawPacket {
            packet_type: 206,
            count: 1,
            body: &[0, 0, 0, 1, 0, 0, 0, 2],
        };
        let mut out = Vec::new();
        write_compound(&[app.into(), raw.into()], &mut out).unwrap();
        assert_eq!(&out[..4], &[0x9f, 204, 0, 3]);
        let c = Compound::parse(&out).unwrap();
        let got: Vec<_> = c.iter().collect();
        assert_eq!(got, [RtcpPacket::App(app), RtcpPacket::Unknown(raw)]);
        assert!(c.issues().first_not_report);

        let bad = App { subtype: 32, ..app };
        assert_eq!(
            RtcpPacket::App(bad).write_to(&mut out),
            Err(RtcpWriteError::CountTooLarge {
                what: "APP subtype",
                count: 32
            })
        );
        let unaligned = RawPacket {
            body: &[1, 2],
            ..raw
        };
        assert_eq!(
            RtcpPacket::Unknown(unaligned).encoded_len(),
            Err(RtcpWriteError::NotWordAligned {
                what: "raw packet body",
                len: 2
            })
        );
    }
}
