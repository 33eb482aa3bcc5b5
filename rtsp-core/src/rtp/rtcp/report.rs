//! Sender and receiver reports (RFC 3550 6.4).

use std::fmt;
use std::iter::FusedIterator;
use std::time::Duration;

use super::{be32, check_aligned, check_count, RtcpWriteError};
use crate::rtp::ntp::{self, NtpTimestamp};

const BLOCK_LEN: usize = 24;
const SENDER_INFO_LEN: usize = 20;

/// Largest and smallest values of the 24-bit signed cumulative-loss field.
const CUMULATIVE_LOST_MAX: i32 = 0x7f_ffff;
const CUMULATIVE_LOST_MIN: i32 = -0x80_0000;

/// The sender-information section of an SR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SenderInfo {
    /// Wall-clock time when the report was sent.
    pub ntp_timestamp: NtpTimestamp,
    /// The same instant in the units and offset of the RTP timestamps.
    pub rtp_timestamp: u32,
    /// Packets sent since the start of transmission (wraps).
    pub packet_count: u32,
    /// Payload octets sent since the start of transmission (wraps).
    pub octet_count: u32,
}

/// One reception report block (RFC 3550 6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: u32,
    /// Fraction of packets lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost; a 24-bit signed field. Written saturated to
    /// -8388608..=8388607, as RFC 3550 A.3 prescribes.
    pub cumulative_lost: i32,
    /// Cycle count (high 16 bits) and highest sequence number received (low 16 bits).
    pub extended_highest_seq: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR received from the source (0 if none).
    pub last_sr: u32,
    /// Delay since that SR was received, in 1/65536 s (0 if none).
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    fn decode(b: &[u8; BLOCK_LEN]) -> Self {
        // Sign-extend the 24-bit field by placing it in the top bytes and shifting back.
        let cumulative_lost = i32::from_be_bytes([b[5], b[6], b[7], 0]) >> 8;
        Self {
            ssrc: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            fraction_lost: b[4],
            cumulative_lost,
            extended_highest_seq: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
            jitter: u32::from_be_bytes([b[12], b[13], b[14], b[15]]),
            last_sr: u32::from_be_bytes([b[16], b[17], b[18], b[19]]),
            delay_since_last_sr: u32::from_be_bytes([b[20], b[21], b[22], b[23]]),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        let lost = self
            .cumulative_lost
            .clamp(CUMULATIVE_LOST_MIN, CUMULATIVE_LOST_MAX);
        let [_, l0, l1, l2] = lost.to_be_bytes();
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(&[self.fraction_lost, l0, l1, l2]);
        out.extend_from_slice(&self.extended_highest_seq.to_be_bytes());
        out.extend_from_slice(&self.jitter.to_be_bytes());
        out.extend_from_slice(&self.last_sr.to_be_bytes());
        out.extend_from_slice(&self.delay_since_last_sr.to_be_bytes());
    }

    /// The fraction lost as a number between 0 and 1.
    pub fn fraction_lost_f64(&self) -> f64 {
        f64::from(self.fraction_lost) / 256.0
    }

    /// Round-trip time to the reporter, given when this block arrived (RFC 3550 6.4.1).
    /// `None` if the reporter had not received an SR yet.
    pub fn round_trip_time(&self, arrival: NtpTimestamp) -> Option<Duration> {
        ntp::round_trip_time(arrival, self.last_sr, self.delay_since_last_sr)
    }
}

/// The report blocks of an SR or RR: either read lazily from received bytes or borrowed from
/// the caller's slice. Compares equal by content.
#[derive(Clone, Copy)]
pub struct ReportBlocks<'a>(BlocksRepr<'a>);

#[derive(Clone, Copy)]
enum BlocksRepr<'a> {
    /// Validated wire bytes, a multiple of 24 long.
    Wire(&'a [u8]),
    Slice(&'a [ReportBlock]),
    One(ReportBlock),
}

impl<'a> ReportBlocks<'a> {
    /// No report blocks.
    pub const EMPTY: ReportBlocks<'static> = ReportBlocks(BlocksRepr::Slice(&[]));

    /// Blocks borrowed from a slice.
    pub const fn from_slice(blocks: &'a [ReportBlock]) -> Self {
        Self(BlocksRepr::Slice(blocks))
    }

    /// A single block, held inline.
    pub const fn single(block: ReportBlock) -> Self {
        Self(BlocksRepr::One(block))
    }

    /// Number of blocks.
    pub fn len(&self) -> usize {
        match self.0 {
            BlocksRepr::Wire(b) => b.len() / BLOCK_LEN,
            BlocksRepr::Slice(s) => s.len(),
            BlocksRepr::One(_) => 1,
        }
    }

    /// Whether there are no blocks.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The blocks, in order.
    pub fn iter(&self) -> ReportBlockIter<'a> {
        ReportBlockIter(match self.0 {
            BlocksRepr::Wire(b) => IterRepr::Wire(b.chunks_exact(BLOCK_LEN)),
            BlocksRepr::Slice(s) => IterRepr::Slice(s.iter()),
            BlocksRepr::One(b) => IterRepr::One(Some(b)),
        })
    }

    /// The block reporting on `ssrc`, if any.
    pub fn find(&self, ssrc: u32) -> Option<ReportBlock> {
        self.iter().find(|b| b.ssrc == ssrc)
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self.0 {
            // Wire bytes are copied as is: the layout is fixed, nothing to normalize.
            BlocksRepr::Wire(b) => out.extend_from_slice(b),
            _ => self.iter().for_each(|b| b.write(out)),
        }
    }
}

impl Default for ReportBlocks<'_> {
    fn default() -> Self {
        ReportBlocks::EMPTY
    }
}

impl<'a> From<&'a [ReportBlock]> for ReportBlocks<'a> {
    fn from(blocks: &'a [ReportBlock]) -> Self {
        Self::from_slice(blocks)
    }
}

impl<'a, const N: usize> From<&'a [ReportBlock; N]> for ReportBlocks<'a> {
    fn from(blocks: &'a [ReportBlock; N]) -> Self {
        Self::from_slice(blocks)
    }
}

impl PartialEq for ReportBlocks<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for ReportBlocks<'_> {}

impl fmt::Debug for ReportBlocks<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &ReportBlocks<'a> {
    type Item = ReportBlock;
    type IntoIter = ReportBlockIter<'a>;

    fn into_iter(self) -> ReportBlockIter<'a> {
        self.iter()
    }
}

/// Iterator over [`ReportBlocks`].
#[derive(Debug, Clone)]
pub struct ReportBlockIter<'a>(IterRepr<'a>);

#[derive(Debug, Clone)]
enum IterRepr<'a> {
    Wire(std::slice::ChunksExact<'a, u8>),
    Slice(std::slice::Iter<'a, ReportBlock>),
    One(Option<ReportBlock>),
}

impl Iterator for ReportBlockIter<'_> {
    type Item = ReportBlock;

    fn next(&mut self) -> Option<ReportBlock> {
        match &mut self.0 {
            IterRepr::Wire(chunks) => chunks
                .next()
                .and_then(|c| c.first_chunk::<BLOCK_LEN>())
                .map(ReportBlock::decode),
            IterRepr::Slice(it) => it.next().copied(),
            IterRepr::One(one) => one.take(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match &self.0 {
            IterRepr::Wire(c) => c.len(),
            IterRepr::Slice(s) => s.len(),
            IterRepr::One(o) => usize::from(o.is_some()),
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for ReportBlockIter<'_> {}
impl FusedIterator for ReportBlockIter<'_> {}

/// Splits `count` report blocks off the front of `body`.
fn split_blocks(count: u8, body: &[u8]) -> Option<(ReportBlocks<'_>, &[u8])> {
    let (blocks, rest) = body.split_at_checked(usize::from(count) * BLOCK_LEN)?;
    Some((ReportBlocks(BlocksRepr::Wire(blocks)), rest))
}

fn blocks_layout(blocks: &ReportBlocks<'_>, ext: &[u8]) -> Result<(u8, usize), RtcpWriteError> {
    let count = check_count("report blocks", blocks.len())?;
    check_aligned("profile extension", ext)?;
    Ok((count, blocks.len() * BLOCK_LEN + ext.len()))
}

/// A sender report (RFC 3550 6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderReport<'a> {
    /// The sender's SSRC.
    pub ssrc: u32,
    /// What the sender has sent, and when.
    pub sender_info: SenderInfo,
    /// Reception reports on the sources the sender receives.
    pub report_blocks: ReportBlocks<'a>,
    /// Profile-specific extension after the blocks (a multiple of 4 bytes; usually empty).
    pub profile_extension: &'a [u8],
}

impl<'a> SenderReport<'a> {
    pub(super) fn parse_body(count: u8, body: &'a [u8]) -> Option<Self> {
        let (ssrc, rest) = body.split_first_chunk::<4>()?;
        let (info, rest) = rest.split_first_chunk::<SENDER_INFO_LEN>()?;
        let (report_blocks, profile_extension) = split_blocks(count, rest)?;
        Some(Self {
            ssrc: u32::from_be_bytes(*ssrc),
            sender_info: SenderInfo {
                ntp_timestamp: NtpTimestamp::from_parts(be32(&info[0..]), be32(&info[4..])),
                rtp_timestamp: be32(&info[8..]),
                packet_count: be32(&info[12..]),
                octet_count: be32(&info[16..]),
            },
            report_blocks,
            profile_extension,
        })
    }

    pub(super) fn layout(&self) -> Result<(u8, usize), RtcpWriteError> {
        let (count, len) = blocks_layout(&self.report_blocks, self.profile_extension)?;
        Ok((count, 4 + SENDER_INFO_LEN + len))
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) {
        let info = &self.sender_info;
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(&info.ntp_timestamp.0.to_be_bytes());
        out.extend_from_slice(&info.rtp_timestamp.to_be_bytes());
        out.extend_from_slice(&info.packet_count.to_be_bytes());
        out.extend_from_slice(&info.octet_count.to_be_bytes());
        self.report_blocks.write(out);
        out.extend_from_slice(self.profile_extension);
    }
}

/// A receiver report (RFC 3550 6.4.2). With no blocks it is the "empty RR" that heads a
/// compound packet when there is nothing to report (ffmpeg also sends one alone, SSRC 0, to
/// open NAT bindings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReceiverReport<'a> {
    /// The reporter's SSRC.
    pub ssrc: u32,
    /// Reception reports.
    pub report_blocks: ReportBlocks<'a>,
    /// Profile-specific extension after the blocks (a multiple of 4 bytes; usually empty).
    pub profile_extension: &'a [u8],
}

impl<'a> ReceiverReport<'a> {
    pub(super) fn parse_body(count: u8, body: &'a [u8]) -> Option<Self> {
        let (ssrc, rest) = body.split_first_chunk::<4>()?;
        let (report_blocks, profile_extension) = split_blocks(count, rest)?;
        Some(Self {
            ssrc: u32::from_be_bytes(*ssrc),
            report_blocks,
            profile_extension,
        })
    }

    pub(super) fn layout(&self) -> Result<(u8, usize), RtcpWriteError> {
        let (count, len) = blocks_layout(&self.report_blocks, self.profile_extension)?;
        Ok((count, 4 + len))
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        self.report_blocks.write(out);
        out.extend_from_slice(self.profile_extension);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{write_compound, Compound, RtcpPacket};
    use super::*;

    fn block(n: u32) -> ReportBlock {
        ReportBlock {
            ssrc: n,
            fraction_lost: n as u8,
            cumulative_lost: -(n as i32),
            extended_highest_seq: 0x0001_0000 + n,
            jitter: n * 10,
            last_sr: n * 100,
            delay_since_last_sr: n * 1000,
        }
    }

    #[test]
    fn rr_bytes_exactly() {
        let b = ReportBlock {
            ssrc: 0x0102_0304,
            fraction_lost: 0x40,
            cumulative_lost: -2,
            extended_highest_seq: 0x0002_fffe,
            jitter: 0x1234,
            last_sr: 0xb705_2000,
            delay_since_last_sr: 0x0005_4000,
        };
        let rr = ReceiverReport {
            ssrc: 0xaabb_ccdd,
            report_blocks: ReportBlocks::single(b),
            profile_extension: &[],
        };
        let mut out = Vec::new();
        RtcpPacket::from(rr).write_to(&mut out).unwrap();
        let expected: Vec<u8> = [
            &[0x81, 201, 0, 7][..],
            &[0xaa, 0xbb, 0xcc, 0xdd],
            &[1, 2, 3, 4],
            &[0x40, 0xff, 0xff, 0xfe],
            &[0, 2, 0xff, 0xfe],
            &[0, 0, 0x12, 0x34],
            &[0xb7, 0x05, 0x20, 0x00],
            &[0x00, 0x05, 0x40, 0x00],
        ]
        .concat();
        assert_eq!(out, expected);
        let c = Compound::parse(&out).unwrap();
        let Some(RtcpPacket::ReceiverReport(parsed)) = c.iter().next() else {
            panic!("not an RR");
        };
        assert_eq!(parsed.report_blocks.iter().next(), Some(b));
        assert_eq!(parsed, rr);
    }

    #[test]
    fn cumulative_lost_is_saturated_to_24_bits() {
        for (given, expected) in [
            (i32::MAX, 0x7f_ffff),
            (0x80_0000, 0x7f_ffff),
            (i32::MIN, -0x80_0000),
            (-0x80_0000, -0x80_0000),
            (-1, -1),
        ] {
            let rr = ReceiverReport {
                ssrc: 1,
                report_blocks: ReportBlocks::single(ReportBlock {
                    cumulative_lost: given,
                    ..ReportBlock::default()
                }),
                profile_extension: &[],
            };
            let mut out = Vec::new();
            RtcpPacket::from(rr).write_to(&mut out).unwrap();
            let c = Compound::parse(&out).unwrap();
            let Some(RtcpPacket::ReceiverReport(p)) = c.iter().next() else {
                panic!("not an RR");
            };
            assert_eq!(p.report_blocks.find(0).unwrap().cumulative_lost, expected);
        }
    }

    #[test]
    fn sr_with_blocks_and_extension() {
        let blocks = [block(1), block(2), block(3)];
        let sr = SenderReport {
            ssrc: 77,
            sender_info: SenderInfo {
                ntp_timestamp: NtpTimestamp(0xdead_beef_0123_4567),
                rtp_timestamp: 123,
                packet_count: 4,
                octet_count: 5,
            },
            report_blocks: (&blocks).into(),
            profile_extension: &[9, 9, 9, 9],
        };
        let mut out = Vec::new();
        write_compound(&[sr.into()], &mut out).unwrap();
        assert_eq!(out.len(), 4 + 4 + 20 + 3 * 24 + 4);
        assert_eq!(out[0], 0x83);
        let c = Compound::parse_strict(&out).unwrap();
        let parsed: Vec<_> = c.iter().collect();
        assert_eq!(parsed, [RtcpPacket::SenderReport(sr)]);
        let RtcpPacket::SenderReport(p) = parsed[0] else {
            panic!()
        };
        assert_eq!(p.report_blocks.len(), 3);
        assert_eq!(p.report_blocks.iter().len(), 3);
        assert_eq!(p.report_blocks.find(2), Some(block(2)));
        assert_eq!(p.sender_info.ntp_timestamp.middle32(), 0xbeef_0123);
    }

    #[test]
    fn too_many_blocks() {
        let blocks = [ReportBlock::default(); 32];
        let rr = ReceiverReport {
            ssrc: 0,
            report_blocks: ReportBlocks::from_slice(&blocks),
            profile_extension: &[],
        };
        assert_eq!(
            RtcpPacket::from(rr).encoded_len(),
            Err(RtcpWriteError::CountTooLarge {
                what: "report blocks",
                count: 32
            })
        );
        let ok = ReceiverReport {
            report_blocks: ReportBlocks::from_slice(&blocks[..31]),
            ..rr
        };
        assert_eq!(RtcpPacket::from(ok).encoded_len(), Ok(8 + 31 * 24));
    }

    #[test]
    fn round_trip_time_from_block() {
        let b = ReportBlock {
            last_sr: 0xb705_2000,
            delay_since_last_sr: 0x0005_4000,
            ..ReportBlock::default()
        };
        assert_eq!(
            b.round_trip_time(NtpTimestamp(0x0000_b710_8000_0000)),
            Some(Duration::from_millis(6125))
        );
        assert_eq!(
            ReportBlock {
                fraction_lost: 64,
                ..b
            }
            .fraction_lost_f64(),
            0.25
        );
    }
}
