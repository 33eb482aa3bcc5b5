//! Source description packets (RFC 3550 6.5).

use std::fmt;
use std::iter::FusedIterator;

use super::{check_count, RtcpWriteError};

/// The type of an SDES item. A plain byte so that every value round-trips; the RFC 3550 types
/// are associated constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SdesItemType(pub u8);

impl SdesItemType {
    /// Canonical end-point identifier (`user@host`), mandatory in every compound packet.
    pub const CNAME: Self = Self(1);
    /// User name.
    pub const NAME: Self = Self(2);
    /// Electronic mail address.
    pub const EMAIL: Self = Self(3);
    /// Phone number.
    pub const PHONE: Self = Self(4);
    /// Geographic location.
    pub const LOC: Self = Self(5);
    /// Application or tool name.
    pub const TOOL: Self = Self(6);
    /// Notice or status.
    pub const NOTE: Self = Self(7);
    /// Private extension; the value starts with a prefix length and prefix.
    pub const PRIV: Self = Self(8);
}

/// One SDES item: a type and up to 255 bytes of value (text, normally UTF-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SdesItem<'a> {
    /// Item type; must not be 0 (which ends a chunk's item list).
    pub kind: SdesItemType,
    /// Item value, at most 255 bytes.
    pub value: &'a [u8],
}

impl<'a> SdesItem<'a> {
    /// An item of the given type.
    pub const fn new(kind: SdesItemType, value: &'a [u8]) -> Self {
        Self { kind, value }
    }

    /// A CNAME item.
    pub const fn cname(value: &'a [u8]) -> Self {
        Self::new(SdesItemType::CNAME, value)
    }

    /// The value as text, if it is valid UTF-8.
    pub fn text(&self) -> Option<&'a str> {
        std::str::from_utf8(self.value).ok()
    }
}

/// The items of one chunk: read lazily from received bytes or borrowed from the caller.
#[derive(Clone, Copy)]
pub struct SdesItems<'a>(ItemsRepr<'a>);

#[derive(Clone, Copy)]
enum ItemsRepr<'a> {
    /// Validated item bytes, without the terminating null octet.
    Wire(&'a [u8]),
    Slice(&'a [SdesItem<'a>]),
    One(SdesItem<'a>),
}

impl<'a> SdesItems<'a> {
    /// No items.
    pub const EMPTY: SdesItems<'static> = SdesItems(ItemsRepr::Slice(&[]));

    /// Items borrowed from a slice.
    pub const fn from_slice(items: &'a [SdesItem<'a>]) -> Self {
        Self(ItemsRepr::Slice(items))
    }

    /// A single item, held inline.
    pub const fn single(item: SdesItem<'a>) -> Self {
        Self(ItemsRepr::One(item))
    }

    /// The items, in order.
    pub fn iter(&self) -> SdesItemIter<'a> {
        SdesItemIter(match self.0 {
            ItemsRepr::Wire(b) => ItemIterRepr::Wire(b),
            ItemsRepr::Slice(s) => ItemIterRepr::Slice(s.iter()),
            ItemsRepr::One(i) => ItemIterRepr::One(Some(i)),
        })
    }

    /// The first item of the given type.
    pub fn get(&self, kind: SdesItemType) -> Option<&'a [u8]> {
        self.iter().find(|i| i.kind == kind).map(|i| i.value)
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Bytes of the items once written, without the terminator.
    fn validate(&self) -> Result<usize, RtcpWriteError> {
        let mut len = 0;
        for item in self.iter() {
            if item.kind.0 == 0 {
                return Err(RtcpWriteError::SdesEndItem);
            }
            if item.value.len() > 255 {
                return Err(RtcpWriteError::TextTooLong {
                    what: "SDES item",
                    len: item.value.len(),
                });
            }
            len += 2 + item.value.len();
        }
        Ok(len)
    }
}

impl Default for SdesItems<'_> {
    fn default() -> Self {
        SdesItems::EMPTY
    }
}

impl<'a> From<&'a [SdesItem<'a>]> for SdesItems<'a> {
    fn from(items: &'a [SdesItem<'a>]) -> Self {
        Self::from_slice(items)
    }
}

impl<'a, const N: usize> From<&'a [SdesItem<'a>; N]> for SdesItems<'a> {
    fn from(items: &'a [SdesItem<'a>; N]) -> Self {
        Self::from_slice(items)
    }
}

impl PartialEq for SdesItems<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for SdesItems<'_> {}

impl fmt::Debug for SdesItems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over [`SdesItems`].
#[derive(Debug, Clone)]
pub struct SdesItemIter<'a>(ItemIterRepr<'a>);

#[derive(Debug, Clone)]
enum ItemIterRepr<'a> {
    Wire(&'a [u8]),
    Slice(std::slice::Iter<'a, SdesItem<'a>>),
    One(Option<SdesItem<'a>>),
}

impl<'a> Iterator for SdesItemIter<'a> {
    type Item = SdesItem<'a>;

    fn next(&mut self) -> Option<SdesItem<'a>> {
        match &mut self.0 {
            ItemIterRepr::Wire(bytes) => {
                let (item, rest) = split_item(bytes)?;
                *bytes = rest;
                item
            }
            ItemIterRepr::Slice(it) => it.next().copied(),
            ItemIterRepr::One(one) => one.take(),
        }
    }
}

impl FusedIterator for SdesItemIter<'_> {}

/// Splits the next item off `bytes`: `Some((Some(item), rest))` for an item, `Some((None, ..))`
/// at the terminating null octet, `None` if the item runs past the end.
fn split_item(bytes: &[u8]) -> Option<(Option<SdesItem<'_>>, &[u8])> {
    let (&kind, rest) = bytes.split_first()?;
    if kind == 0 {
        return Some((None, rest));
    }
    let (&len, rest) = rest.split_first()?;
    let (value, rest) = rest.split_at_checked(usize::from(len))?;
    Some((
        Some(SdesItem {
            kind: SdesItemType(kind),
            value,
        }),
        rest,
    ))
}

/// One SDES chunk: a source and its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SdesChunk<'a> {
    /// The SSRC or CSRC described.
    pub ssrc: u32,
    /// Its items.
    pub items: SdesItems<'a>,
}

impl<'a> SdesChunk<'a> {
    /// Splits a chunk off the front of `bytes` (which starts 32-bit aligned).
    ///
    /// A final chunk whose items end exactly at the end of the packet, without the terminating
    /// null octet, is tolerated.
    fn split(bytes: &'a [u8]) -> Option<(Self, &'a [u8])> {
        let (ssrc, items_start) = bytes.split_first_chunk::<4>()?;
        let mut rest = items_start;
        loop {
            if rest.is_empty() {
                let chunk = Self::wire(u32::from_be_bytes(*ssrc), items_start);
                return Some((chunk, rest));
            }
            let (item, after) = split_item(rest)?;
            if item.is_none() {
                let items_len = items_start.len() - rest.len();
                // SSRC + items + at least one null octet, padded to a 32-bit boundary; the
                // padding octets are not checked.
                let chunk_len = (4 + items_len + 1).next_multiple_of(4);
                let items = items_start.get(..items_len)?;
                let after_chunk = bytes.get(chunk_len..)?;
                return Some((Self::wire(u32::from_be_bytes(*ssrc), items), after_chunk));
            }
            rest = after;
        }
    }

    fn wire(ssrc: u32, items: &'a [u8]) -> Self {
        Self {
            ssrc,
            items: SdesItems(ItemsRepr::Wire(items)),
        }
    }
}

/// The chunks of an SDES packet: read lazily from received bytes or borrowed from the caller.
#[derive(Clone, Copy)]
pub struct SdesChunks<'a>(ChunksRepr<'a>);

#[derive(Clone, Copy)]
enum ChunksRepr<'a> {
    /// Validated wire bytes holding exactly `count` chunks.
    Wire {
        bytes: &'a [u8],
        count: u8,
    },
    Slice(&'a [SdesChunk<'a>]),
    One(SdesChunk<'a>),
}

impl<'a> SdesChunks<'a> {
    /// No chunks.
    pub const EMPTY: SdesChunks<'static> = SdesChunks(ChunksRepr::Slice(&[]));

    /// Chunks borrowed from a slice.
    pub const fn from_slice(chunks: &'a [SdesChunk<'a>]) -> Self {
        Self(ChunksRepr::Slice(chunks))
    }

    /// A single chunk, held inline.
    pub const fn single(chunk: SdesChunk<'a>) -> Self {
        Self(ChunksRepr::One(chunk))
    }

    /// Number of chunks.
    pub fn len(&self) -> usize {
        match self.0 {
            ChunksRepr::Wire { count, .. } => usize::from(count),
            ChunksRepr::Slice(s) => s.len(),
            ChunksRepr::One(_) => 1,
        }
    }

    /// Whether there are no chunks.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The chunks, in order.
    pub fn iter(&self) -> SdesChunkIter<'a> {
        SdesChunkIter(match self.0 {
            ChunksRepr::Wire { bytes, count } => ChunkIterRepr::Wire { bytes, left: count },
            ChunksRepr::Slice(s) => ChunkIterRepr::Slice(s.iter()),
            ChunksRepr::One(c) => ChunkIterRepr::One(Some(c)),
        })
    }
}

impl Default for SdesChunks<'_> {
    fn default() -> Self {
        SdesChunks::EMPTY
    }
}

impl<'a> From<&'a [SdesChunk<'a>]> for SdesChunks<'a> {
    fn from(chunks: &'a [SdesChunk<'a>]) -> Self {
        Self::from_slice(chunks)
    }
}

impl<'a, const N: usize> From<&'a [SdesChunk<'a>; N]> for SdesChunks<'a> {
    fn from(chunks: &'a [SdesChunk<'a>; N]) -> Self {
        Self::from_slice(chunks)
    }
}

impl PartialEq for SdesChunks<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for SdesChunks<'_> {}

impl fmt::Debug for SdesChunks<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over [`SdesChunks`].
#[derive(Debug, Clone)]
pub struct SdesChunkIter<'a>(ChunkIterRepr<'a>);

#[derive(Debug, Clone)]
enum ChunkIterRepr<'a> {
    Wire { bytes: &'a [u8], left: u8 },
    Slice(std::slice::Iter<'a, SdesChunk<'a>>),
    One(Option<SdesChunk<'a>>),
}

impl<'a> Iterator for SdesChunkIter<'a> {
    type Item = SdesChunk<'a>;

    fn next(&mut self) -> Option<SdesChunk<'a>> {
        match &mut self.0 {
            ChunkIterRepr::Wire { bytes, left } => {
                *left = left.checked_sub(1)?;
                let (chunk, rest) = SdesChunk::split(bytes)?;
                *bytes = rest;
                Some(chunk)
            }
            ChunkIterRepr::Slice(it) => it.next().copied(),
            ChunkIterRepr::One(one) => one.take(),
        }
    }
}

impl FusedIterator for SdesChunkIter<'_> {}

/// A source description packet (RFC 3550 6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SourceDescription<'a> {
    /// One chunk per described source.
    pub chunks: SdesChunks<'a>,
}

impl<'a> SourceDescription<'a> {
    /// The common case: one source with just its CNAME.
    pub const fn cname(ssrc: u32, cname: &'a [u8]) -> Self {
        Self {
            chunks: SdesChunks::single(SdesChunk {
                ssrc,
                items: SdesItems::single(SdesItem::cname(cname)),
            }),
        }
    }

    /// The CNAME given for `ssrc`, if any.
    pub fn cname_of(&self, ssrc: u32) -> Option<&'a [u8]> {
        self.chunks
            .iter()
            .filter(|c| c.ssrc == ssrc)
            .find_map(|c| c.items.get(SdesItemType::CNAME))
    }

    /// Whether any chunk carries a CNAME item.
    pub fn has_cname(&self) -> bool {
        self.chunks
            .iter()
            .any(|c| c.items.get(SdesItemType::CNAME).is_some())
    }

    pub(super) fn parse_body(count: u8, body: &'a [u8]) -> Option<Self> {
        // Walk every chunk now so that iteration later cannot fail; trailing bytes after the
        // announced chunks (padding some senders add) are ignored.
        let mut rest = body;
        let mut used = 0;
        for _ in 0..count {
            // `split` walks the chunk's items, so a chunk that splits has valid items.
            let (_, after) = SdesChunk::split(rest)?;
            rest = after;
            used = body.len() - rest.len();
        }
        Some(Self {
            chunks: SdesChunks(ChunksRepr::Wire {
                bytes: body.get(..used)?,
                count,
            }),
        })
    }

    pub(super) fn layout(&self) -> Result<(u8, usize), RtcpWriteError> {
        let count = check_count("SDES chunks", self.chunks.len())?;
        let mut len = 0;
        for chunk in self.chunks.iter() {
            len += (4 + chunk.items.validate()? + 1).next_multiple_of(4);
        }
        Ok((count, len))
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) {
        for chunk in self.chunks.iter() {
            let start = out.len();
            out.extend_from_slice(&chunk.ssrc.to_be_bytes());
            for item in chunk.items.iter() {
                // Lengths were validated by `layout`.
                out.push(item.kind.0);
                out.push(item.value.len() as u8);
                out.extend_from_slice(item.value);
            }
            let end = (out.len() - start + 1).next_multiple_of(4) + start;
            out.resize(end, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{write_compound, Compound, RtcpPacket, RtcpParseError};
    use super::*;

    #[test]
    fn cname_bytes_exactly() {
        let sdes = SourceDescription::cname(0x0102_0304, b"ab");
        let mut out = Vec::new();
        RtcpPacket::from(sdes).write_to(&mut out).unwrap();
        // 4 SSRC + 1 type + 1 len + 2 value = 8, plus a null octet -> padded to 12.
        assert_eq!(
            out,
            [0x81, 202, 0, 3, 1, 2, 3, 4, 1, 2, b'a', b'b', 0, 0, 0, 0]
        );
        let c = Compound::parse(&out).unwrap();
        let Some(RtcpPacket::SourceDescription(p)) = c.iter().next() else {
            panic!("not SDES");
        };
        assert_eq!(p, sdes);
        assert_eq!(p.cname_of(0x0102_0304), Some(&b"ab"[..]));
        assert_eq!(p.cname_of(5), None);
    }

    #[test]
    fn several_chunks_and_items() {
        let items_a = [
            SdesItem::cname(b"alice@example.net"),
            SdesItem::new(SdesItemType::TOOL, b"rtsp-rs"),
            SdesItem::new(SdesItemType::PRIV, b"\x03abcxyz"),
        ];
        let items_b = [SdesItem::new(SdesItemType::NOTE, b"")];
        let chunks = [
            SdesChunk {
                ssrc: 1,
                items: (&items_a).into(),
            },
            SdesChunk {
                ssrc: 2,
                items: (&items_b).into(),
            },
            SdesChunk {
                ssrc: 3,
                items: SdesItems::EMPTY,
            },
        ];
        let sdes = SourceDescription {
            chunks: (&chunks).into(),
        };
        let mut out = Vec::new();
        write_compound(&[sdes.into()], &mut out).unwrap();
        assert_eq!(out.len() % 4, 0);
        let c = Compound::parse(&out).unwrap();
        let parsed: Vec<_> = c.iter().collect();
        assert_eq!(parsed, [RtcpPacket::SourceDescription(sdes)]);
        let RtcpPacket::SourceDescription(p) = parsed[0] else {
            panic!()
        };
        let got: Vec<_> = p.chunks.iter().collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].items.get(SdesItemType::TOOL), Some(&b"rtsp-rs"[..]));
        assert_eq!(
            got[0].items.iter().next().and_then(|i| i.text()),
            Some("alice@example.net")
        );
        assert!(got[2].items.is_empty());
        assert!(p.has_cname());
    }

    #[test]
    fn tolerates_missing_terminator_and_trailing_bytes() {
        // One chunk whose single item ends exactly at the end of the packet.
        let no_null = [0x81, 202, 0, 2, 0, 0, 0, 9, 1, 2, b'h', b'i'];
        let c = Compound::parse(&no_null).unwrap();
        let Some(RtcpPacket::SourceDescription(p)) = c.iter().next() else {
            panic!("not SDES");
        };
        assert_eq!(p.cname_of(9), Some(&b"hi"[..]));

        // SC=0 with junk after it.
        let extra = [0x80, 202, 0, 1, 1, 2, 3, 4];
        let c = Compound::parse(&extra).unwrap();
        let Some(RtcpPacket::SourceDescription(p)) = c.iter().next() else {
            panic!("not SDES");
        };
        assert!(p.chunks.is_empty());
    }

    #[test]
    fn truncated_items_are_rejected() {
        // Item length 5 but only 2 bytes follow.
        let bad = [0x81, 202, 0, 2, 0, 0, 0, 9, 1, 5, b'h', b'i'];
        assert_eq!(
            Compound::parse(&bad).unwrap_err(),
            RtcpParseError::Truncated { packet_type: 202 }
        );
        // Two chunks announced, one present.
        let missing = [0x82, 202, 0, 2, 0, 0, 0, 9, 0, 0, 0, 0];
        assert_eq!(
            Compound::parse(&missing).unwrap_err(),
            RtcpParseError::Truncated { packet_type: 202 }
        );
    }

    #[test]
    fn write_validation() {
        let long = [0u8; 256];
        let bad_len = SourceDescription::cname(1, &long);
        assert_eq!(
            RtcpPacket::from(bad_len).encoded_len(),
            Err(RtcpWriteError::TextTooLong {
                what: "SDES item",
                len: 256
            })
        );
        let end_item = [SdesItem::new(SdesItemType(0), b"x")];
        let chunk = [SdesChunk {
            ssrc: 1,
            items: (&end_item).into(),
        }];
        let bad_kind = SourceDescription {
            chunks: (&chunk).into(),
        };
        assert_eq!(
            RtcpPacket::from(bad_kind).encoded_len(),
            Err(RtcpWriteError::SdesEndItem)
        );
        // 255 bytes is the maximum and works.
        let max = SourceDescription::cname(1, &long[..255]);
        let mut out = Vec::new();
        RtcpPacket::from(max).write_to(&mut out).unwrap();
        assert_eq!(out.len(), 4 + (4 + 2 + 255 + 1usize).next_multiple_of(4));
    }
}
