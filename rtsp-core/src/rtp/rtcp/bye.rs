//! Goodbye packets (RFC 3550 6.6).

use std::fmt;
use std::iter::FusedIterator;

use super::{be32, check_count, RtcpWriteError};

/// A list of SSRC identifiers: read lazily from received bytes or borrowed from the caller.
#[derive(Clone, Copy)]
pub struct SsrcList<'a>(SsrcRepr<'a>);

#[derive(Clone, Copy)]
enum SsrcRepr<'a> {
    /// Validated wire bytes, a multiple of 4 long.
    Wire(&'a [u8]),
    Slice(&'a [u32]),
    One(u32),
}

impl<'a> SsrcList<'a> {
    /// No identifiers.
    pub const EMPTY: SsrcList<'static> = SsrcList(SsrcRepr::Slice(&[]));

    /// Identifiers borrowed from a slice.
    pub const fn from_slice(ssrcs: &'a [u32]) -> Self {
        Self(SsrcRepr::Slice(ssrcs))
    }

    /// A single identifier.
    pub const fn single(ssrc: u32) -> Self {
        Self(SsrcRepr::One(ssrc))
    }

    /// Number of identifiers.
    pub fn len(&self) -> usize {
        match self.0 {
            SsrcRepr::Wire(b) => b.len() / 4,
            SsrcRepr::Slice(s) => s.len(),
            SsrcRepr::One(_) => 1,
        }
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `ssrc` is in the list.
    pub fn contains(&self, ssrc: u32) -> bool {
        self.iter().any(|s| s == ssrc)
    }

    /// The identifiers, in order.
    pub fn iter(&self) -> SsrcIter<'a> {
        SsrcIter(match self.0 {
            SsrcRepr::Wire(b) => SsrcIterRepr::Wire(b.chunks_exact(4)),
            SsrcRepr::Slice(s) => SsrcIterRepr::Slice(s.iter()),
            SsrcRepr::One(s) => SsrcIterRepr::One(Some(s)),
        })
    }
}

impl Default for SsrcList<'_> {
    fn default() -> Self {
        SsrcList::EMPTY
    }
}

impl<'a> From<&'a [u32]> for SsrcList<'a> {
    fn from(ssrcs: &'a [u32]) -> Self {
        Self::from_slice(ssrcs)
    }
}

impl<'a, const N: usize> From<&'a [u32; N]> for SsrcList<'a> {
    fn from(ssrcs: &'a [u32; N]) -> Self {
        Self::from_slice(ssrcs)
    }
}

impl PartialEq for SsrcList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for SsrcList<'_> {}

impl fmt::Debug for SsrcList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over an [`SsrcList`].
#[derive(Debug, Clone)]
pub struct SsrcIter<'a>(SsrcIterRepr<'a>);

#[derive(Debug, Clone)]
enum SsrcIterRepr<'a> {
    Wire(std::slice::ChunksExact<'a, u8>),
    Slice(std::slice::Iter<'a, u32>),
    One(Option<u32>),
}

impl Iterator for SsrcIter<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        match &mut self.0 {
            SsrcIterRepr::Wire(c) => c.next().map(be32),
            SsrcIterRepr::Slice(s) => s.next().copied(),
            SsrcIterRepr::One(o) => o.take(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match &self.0 {
            SsrcIterRepr::Wire(c) => c.len(),
            SsrcIterRepr::Slice(s) => s.len(),
            SsrcIterRepr::One(o) => usize::from(o.is_some()),
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for SsrcIter<'_> {}
impl FusedIterator for SsrcIter<'_> {}

/// A goodbye packet: the sources are leaving, optionally with a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Goodbye<'a> {
    /// The sources leaving.
    pub ssrcs: SsrcList<'a>,
    /// Why, as text of at most 255 bytes (normally UTF-8).
    pub reason: Option<&'a [u8]>,
}

impl<'a> Goodbye<'a> {
    /// One source leaving, with an optional reason.
    pub const fn single(ssrc: u32, reason: Option<&'a [u8]>) -> Self {
        Self {
            ssrcs: SsrcList::single(ssrc),
            reason,
        }
    }

    /// The reason as text, if present and valid UTF-8.
    pub fn reason_text(&self) -> Option<&'a str> {
        self.reason.and_then(|r| std::str::from_utf8(r).ok())
    }

    pub(super) fn parse_body(count: u8, body: &'a [u8]) -> Option<Self> {
        let (ssrcs, rest) = body.split_at_checked(usize::from(count) * 4)?;
        // Anything after the sources is a length-prefixed reason followed by padding.
        let reason = match rest.split_first() {
            None => None,
            Some((&len, text)) => Some(text.get(..usize::from(len))?),
        };
        Some(Self {
            ssrcs: SsrcList(SsrcRepr::Wire(ssrcs)),
            reason,
        })
    }

    pub(super) fn layout(&self) -> Result<(u8, usize), RtcpWriteError> {
        let count = check_count("BYE sources", self.ssrcs.len())?;
        let reason_len = match self.reason {
            None => 0,
            Some(r) if r.len() > 255 => {
                return Err(RtcpWriteError::TextTooLong {
                    what: "BYE reason",
                    len: r.len(),
                })
            }
            Some(r) => (1 + r.len()).next_multiple_of(4),
        };
        Ok((count, 4 * self.ssrcs.len() + reason_len))
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) {
        match self.ssrcs.0 {
            SsrcRepr::Wire(b) => out.extend_from_slice(b),
            _ => self
                .ssrcs
                .iter()
                .for_each(|s| out.extend_from_slice(&s.to_be_bytes())),
        }
        if let Some(reason) = self.reason {
            let start = out.len();
            // Length validated by `layout`.
            out.push(reason.len() as u8);
            out.extend_from_slice(reason);
            let end = start + (1 + reason.len()).next_multiple_of(4);
            out.resize(end, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Compound, RtcpPacket, RtcpParseError};
    use super::*;

    #[test]
    fn bye_with_reason_bytes() {
        let bye = Goodbye::single(0x0a0b_0c0d, Some(b"end of stream"));
        let mut out = Vec::new();
        RtcpPacket::from(bye).write_to(&mut out).unwrap();
        let mut expected = vec![0x81, 203, 0, 5, 0x0a, 0x0b, 0x0c, 0x0d, 13];
        expected.extend_from_slice(b"end of stream");
        expected.extend_from_slice(&[0, 0]);
        assert_eq!(out, expected);
        let c = Compound::parse(&out).unwrap();
        let Some(RtcpPacket::Goodbye(p)) = c.iter().next() else {
            panic!("not BYE");
        };
        assert_eq!(p, bye);
        assert_eq!(p.reason_text(), Some("end of stream"));
        assert!(p.ssrcs.contains(0x0a0b_0c0d));
    }

    #[test]
    fn bye_without_reason_and_several_sources() {
        let ids = [1, 2, 3];
        let bye = Goodbye {
            ssrcs: (&ids).into(),
            reason: None,
        };
        let mut out = Vec::new();
        RtcpPacket::from(bye).write_to(&mut out).unwrap();
        assert_eq!(out.len(), 16);
        let c = Compound::parse(&out).unwrap();
        assert_eq!(c.iter().next(), Some(RtcpPacket::Goodbye(bye)));

        // An empty reason is distinct from no reason and survives the round trip.
        let empty = Goodbye::single(1, Some(b""));
        out.clear();
        RtcpPacket::from(empty).write_to(&mut out).unwrap();
        assert_eq!(out, [0x81, 203, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0]);
        let c = Compound::parse(&out).unwrap();
        assert_eq!(c.iter().next(), Some(RtcpPacket::Goodbye(empty)));
    }

    #[test]
    fn truncated_bye() {
        // Reason length 9 but only 3 bytes follow.
        let bad = [0x81, 203, 0, 2, 0, 0, 0, 1, 9, b'a', b'b', b'c'];
        assert_eq!(
            Compound::parse(&bad).unwrap_err(),
            RtcpParseError::Truncated { packet_type: 203 }
        );
        let missing = [0x82, 203, 0, 1, 0, 0, 0, 1];
        assert_eq!(
            Compound::parse(&missing).unwrap_err(),
            RtcpParseError::Truncated { packet_type: 203 }
        );
    }
}
