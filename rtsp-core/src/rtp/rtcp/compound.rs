//! Compound RTCP packets (RFC 3550 6.1 and A.2).

use std::iter::FusedIterator;

use super::{RtcpPacket, RtcpParseError, RtcpWriteError, PT_RR, PT_SR};

/// Departures from the compound-packet rules that [`Compound::parse`] tolerates.
///
/// Real peers break them: ffmpeg sends a lone 8-byte RR (SSRC 0, no SDES) to open NAT
/// bindings, and some stacks send feedback packets on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CompoundIssues {
    /// The first packet is neither SR nor RR (RFC 3550 A.2).
    pub first_not_report: bool,
    /// A packet other than the last has the padding bit set (RFC 3550 A.2).
    pub padding_not_last: bool,
    /// No SDES packet carries a CNAME (RFC 3550 6.1); informational only, even in strict mode.
    pub missing_cname: bool,
}

impl CompoundIssues {
    /// Whether the packet follows every rule checked.
    pub fn is_empty(&self) -> bool {
        !(self.first_not_report || self.padding_not_last || self.missing_cname)
    }

    /// Whether the packet breaks the validity checks of RFC 3550 A.2.
    pub fn breaks_validity_check(&self) -> bool {
        self.first_not_report || self.padding_not_last
    }
}

/// A validated compound RTCP packet (one or more RTCP packets back to back).
///
/// Parsing walks and validates every packet once; [`iter`](Self::iter) then re-reads them
/// without allocating and cannot fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compound<'a> {
    data: &'a [u8],
    count: usize,
    issues: CompoundIssues,
}

impl<'a> Compound<'a> {
    /// Parses a compound packet, tolerating the departures listed in [`CompoundIssues`]
    /// (see [`issues`](Self::issues)). Fails on anything structurally broken: bad version,
    /// lengths past the end, bad padding, truncated bodies, or an empty input.
    pub fn parse(data: &'a [u8]) -> Result<Self, RtcpParseError> {
        let mut rest = data;
        let mut count = 0;
        let mut issues = CompoundIssues {
            missing_cname: true,
            ..CompoundIssues::default()
        };
        let mut earlier_padding = false;
        loop {
            let split = RtcpPacket::split_first(rest)?;
            if count == 0 && !matches!(split.packet.packet_type(), PT_SR | PT_RR) {
                issues.first_not_report = true;
            }
            if earlier_padding {
                issues.padding_not_last = true;
            }
            earlier_padding = split.padded;
            if let RtcpPacket::SourceDescription(sdes) = &split.packet {
                if sdes.has_cname() {
                    issues.missing_cname = false;
                }
            }
            count += 1;
            rest = split.rest;
            if rest.is_empty() {
                break;
            }
        }
        Ok(Self {
            data,
            count,
            issues,
        })
    }

    /// Parses a compound packet and also enforces the RFC 3550 A.2 validity checks (first
    /// packet SR or RR, padding only on the last packet). A missing CNAME is still tolerated.
    pub fn parse_strict(data: &'a [u8]) -> Result<Self, RtcpParseError> {
        let compound = Self::parse(data)?;
        if compound.issues.breaks_validity_check() {
            return Err(RtcpParseError::NotCompound(compound.issues));
        }
        Ok(compound)
    }

    /// Rule departures found while parsing.
    pub fn issues(&self) -> CompoundIssues {
        self.issues
    }

    /// Number of packets (at least 1).
    pub fn len(&self) -> usize {
        self.count
    }

    /// Always false: a parsed compound holds at least one packet.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The bytes that were parsed.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.data
    }

    /// The packets, in order.
    pub fn iter(&self) -> CompoundIter<'a> {
        CompoundIter {
            rest: self.data,
            left: self.count,
        }
    }

    /// The first sender report, if any.
    pub fn sender_report(&self) -> Option<super::SenderReport<'a>> {
        self.iter().find_map(|p| match p {
            RtcpPacket::SenderReport(sr) => Some(sr),
            _ => None,
        })
    }
}

impl<'a> IntoIterator for &Compound<'a> {
    type Item = RtcpPacket<'a>;
    type IntoIter = CompoundIter<'a>;

    fn into_iter(self) -> CompoundIter<'a> {
        self.iter()
    }
}

/// Iterator over the packets of a [`Compound`].
#[derive(Debug, Clone)]
pub struct CompoundIter<'a> {
    rest: &'a [u8],
    left: usize,
}

impl<'a> Iterator for CompoundIter<'a> {
    type Item = RtcpPacket<'a>;

    fn next(&mut self) -> Option<RtcpPacket<'a>> {
        if self.left == 0 {
            return None;
        }
        // Already validated by `Compound::parse`, so this does not fail; if it somehow did,
        // iteration just ends.
        match RtcpPacket::split_first(self.rest) {
            Ok(split) => {
                self.rest = split.rest;
                self.left -= 1;
                Some(split.packet)
            }
            Err(_) => {
                self.left = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for CompoundIter<'_> {}
impl FusedIterator for CompoundIter<'_> {}

/// Appends `packets` to `out` as one compound packet and returns the bytes written.
///
/// The RFC 3550 compound rules (SR/RR first, SDES with CNAME) are the caller's choice and are
/// not enforced. On error `out` is left as it was.
pub fn write_compound(
    packets: &[RtcpPacket<'_>],
    out: &mut Vec<u8>,
) -> Result<usize, RtcpWriteError> {
    let start = out.len();
    let mut total = 0;
    for p in packets {
        total += p.encoded_len()?;
    }
    out.reserve(total);
    for p in packets {
        if let Err(e) = p.write_to(out) {
            out.truncate(start);
            return Err(e);
        }
    }
    Ok(out.len() - start)
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;

    /// ffmpeg's NAT-punching RR: 8 bytes, RC=0, SSRC 0, alone.
    #[test]
    fn ffmpeg_lone_empty_rr_is_tolerated() {
        let bytes = [0x80, 0xc9, 0x00, 0x01, 0, 0, 0, 0];
        let c = Compound::parse(&bytes).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(
            c.iter().next(),
            Some(RtcpPacket::ReceiverReport(ReceiverReport::default()))
        );
        assert_eq!(
            c.issues(),
            CompoundIssues {
                missing_cname: true,
                ..CompoundIssues::default()
            }
        );
        assert!(Compound::parse_strict(&bytes).is_ok());
    }

    #[test]
    fn rr_sdes_compound_is_clean() {
        let block = ReportBlock {
            ssrc: 5,
            extended_highest_seq: 100,
            ..ReportBlock::default()
        };
        let rr = ReceiverReport {
            ssrc: 9,
            report_blocks: ReportBlocks::single(block),
            profile_extension: &[],
        };
        let sdes = SourceDescription::cname(9, b"client@host");
        let mut out = vec![0xee];
        let n = write_compound(&[rr.into(), sdes.into()], &mut out).unwrap();
        assert_eq!(n, out.len() - 1);
        let c = Compound::parse_strict(&out[1..]).unwrap();
        assert!(c.issues().is_empty());
        assert_eq!(c.iter().len(), 2);
        let got: Vec<_> = (&c).into_iter().collect();
        assert_eq!(got, [RtcpPacket::from(rr), RtcpPacket::from(sdes)]);
    }

    #[test]
    fn strict_rejects_what_tolerant_accepts() {
        let mut out = Vec::new();
        write_compound(&[Goodbye::single(3, None).into()], &mut out).unwrap();
        let c = Compound::parse(&out).unwrap();
        assert!(c.issues().first_not_report);
        assert_eq!(
            Compound::parse_strict(&out),
            Err(RtcpParseError::NotCompound(c.issues()))
        );

        // Padded RR followed by an SDES: padding not on the last packet.
        let mut padded = vec![0xa0, 201, 0, 2, 0, 0, 0, 7, 0, 0, 0, 4];
        RtcpPacket::from(SourceDescription::cname(7, b"x"))
            .write_to(&mut padded)
            .unwrap();
        let c = Compound::parse(&padded).unwrap();
        assert_eq!(
            c.issues(),
            CompoundIssues {
                padding_not_last: true,
                ..CompoundIssues::default()
            }
        );
        assert!(Compound::parse_strict(&padded).is_err());
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn trailing_garbage_fails() {
        let mut out = vec![0x80, 201, 0, 1, 0, 0, 0, 0];
        out.extend_from_slice(&[0x80, 202]);
        assert_eq!(
            Compound::parse(&out),
            Err(RtcpParseError::TooShort { len: 2 })
        );
    }

    #[test]
    fn failed_write_leaves_output_untouched() {
        let ok = RtcpPacket::from(Goodbye::single(1, None));
        let long = [0u8; 300];
        let bad = RtcpPacket::from(Goodbye::single(1, Some(&long)));
        let mut out = vec![1, 2, 3];
        assert!(write_compound(&[ok, bad], &mut out).is_err());
        assert_eq!(out, [1, 2, 3]);
    }

    #[test]
    fn sender_report_lookup() {
        let sr = SenderReport {
            ssrc: 4,
            ..SenderReport::default()
        };
        let mut out = Vec::new();
        write_compound(
            &[sr.into(), SourceDescription::cname(4, b"a").into()],
            &mut out,
        )
        .unwrap();
        assert_eq!(Compound::parse(&out).unwrap().sender_report(), Some(sr));
    }
}
