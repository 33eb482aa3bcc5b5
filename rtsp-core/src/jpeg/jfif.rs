//! Rebuilding the JPEG headers an RFC 2435 receiver puts in front of the scan data.

use super::parse::Subsampling;
use super::tables::{HuffmanSpec, QuantTable, CHROMA_AC, CHROMA_DC, LUMA_AC, LUMA_DC};

/// JFIF 1.01 APP0, no density, no thumbnail: tells decoders the three components are YCbCr.
const APP0_JFIF: [u8; 18] = [
    0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
    0x00, 0x00,
];

/// The four standard tables with their DHT class/destination byte.
const HUFFMAN: [(u8, HuffmanSpec); 4] = [
    (0x00, LUMA_DC),
    (0x10, LUMA_AC),
    (0x01, CHROMA_DC),
    (0x11, CHROMA_AC),
];

/// Everything the headers of a rebuilt frame depend on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeaderParams<'t> {
    pub width: u16,
    pub height: u16,
    pub subsampling: Subsampling,
    /// 0 means no DRI segment.
    pub restart_interval: u16,
    pub luma_table: &'t QuantTable,
    pub chroma_table: &'t QuantTable,
}

/// Components of a frame of this sampling.
fn components(subsampling: Subsampling) -> usize {
    if subsampling == Subsampling::Gray {
        1
    } else {
        3
    }
}

/// The Huffman tables a frame uses: a grayscale frame only the luminance ones.
fn huffman(subsampling: Subsampling) -> &'static [(u8, HuffmanSpec)] {
    HUFFMAN
        .get(..components(subsampling).min(2) * 2)
        .unwrap_or(&HUFFMAN)
}

/// SOF0 segment length, marker included.
fn sof_len(subsampling: Subsampling) -> usize {
    2 + 2 + 6 + 3 * components(subsampling)
}

impl HeaderParams<'_> {
    const DRI_LEN: usize = 6;

    fn tables(&self) -> usize {
        components(self.subsampling).min(2)
    }

    fn dqt_len(&self) -> usize {
        4 + self.tables() * 65
    }

    /// SOS segment length, marker included.
    fn sos_len(&self) -> usize {
        2 + 2 + 1 + 2 * components(self.subsampling) + 3
    }

    fn dht_len(&self) -> usize {
        4 + huffman(self.subsampling)
            .iter()
            .map(|(_, spec)| 17 + spec.values.len())
            .sum::<usize>()
    }

    /// Number of bytes [`HeaderParams::write`] appends.
    pub fn len(&self) -> usize {
        let dri = if self.restart_interval != 0 {
            Self::DRI_LEN
        } else {
            0
        };
        2 + APP0_JFIF.len()
            + self.dqt_len()
            + sof_len(self.subsampling)
            + self.dht_len()
            + dri
            + self.sos_len()
    }

    /// Appends SOI, APP0 (JFIF), DQT, SOF0, DHT, DRI (if restart markers are used) and SOS.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[0xFF, 0xD8]);
        out.extend_from_slice(&APP0_JFIF);

        out.extend_from_slice(&[0xFF, 0xDB]);
        push_u16(out, self.dqt_len() - 2);
        out.push(0x00);
        out.extend_from_slice(self.luma_table);
        if self.tables() == 2 {
            out.push(0x01);
            out.extend_from_slice(self.chroma_table);
        }

        write_sof0(out, self.width, self.height, self.subsampling);

        out.extend_from_slice(&[0xFF, 0xC4]);
        push_u16(out, self.dht_len() - 2);
        for &(class_dest, spec) in huffman(self.subsampling) {
            out.push(class_dest);
            out.extend_from_slice(spec.counts);
            out.extend_from_slice(spec.values);
        }

        if self.restart_interval != 0 {
            out.extend_from_slice(&[0xFF, 0xDD, 0x00, 0x04]);
            out.extend_from_slice(&self.restart_interval.to_be_bytes());
        }

        if self.subsampling == Subsampling::Gray {
            out.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 1, 1, 0x00, 0, 63, 0]);
        } else {
            out.extend_from_slice(&[
                0xFF, 0xDA, 0x00, 0x0C, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0,
            ]);
        }
    }
}

/// Appends the SOF0 segment of an RFC 2435 frame: 8-bit, three components (Y, Cb, Cr with
/// identifiers 1 to 3), Y sampled per `subsampling` with table 0, Cb and Cr 1x1 with table 1;
/// for a grayscale frame Y alone.
pub(crate) fn write_sof0(out: &mut Vec<u8>, width: u16, height: u16, subsampling: Subsampling) {
    let (h, v) = subsampling.luma_factors();
    out.extend_from_slice(&[0xFF, 0xC0]);
    push_u16(out, sof_len(subsampling) - 2);
    out.push(8);
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    if subsampling == Subsampling::Gray {
        out.extend_from_slice(&[1, 1, 0x11, 0]);
    } else {
        out.extend_from_slice(&[3, 1, (h << 4) | v, 0, 2, 0x11, 1, 3, 0x11, 1]);
    }
}

/// The headers of the last frame rebuilt, reused while its parameters stay the same: the frames of
/// a stream nearly always share size, sampling and tables, and copying ~620 bytes at once is
/// cheaper than writing the segments piece by piece.
#[derive(Debug, Default)]
pub(crate) struct HeaderCache {
    key: Option<HeaderKey>,
    bytes: Vec<u8>,
}

/// Everything the header bytes depend on, by value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct HeaderKey {
    width: u16,
    height: u16,
    subsampling: Subsampling,
    restart_interval: u16,
    luma_table: QuantTable,
    chroma_table: QuantTable,
}

impl HeaderCache {
    /// The bytes [`HeaderParams::write`] appends for `params`.
    pub fn get(&mut self, params: &HeaderParams<'_>) -> &[u8] {
        let key = HeaderKey {
            width: params.width,
            height: params.height,
            subsampling: params.subsampling,
            restart_interval: params.restart_interval,
            luma_table: *params.luma_table,
            chroma_table: *params.chroma_table,
        };
        if self.key != Some(key) {
            self.bytes.clear();
            params.write(&mut self.bytes);
            self.key = Some(key);
        }
        &self.bytes
    }
}

fn push_u16(out: &mut Vec<u8>, value: usize) {
    // Segment lengths here are compile-time sizes far below 65536.
    out.extend_from_slice(&(value as u16).to_be_bytes());
}

/// Appends EOI unless the data already ends with one (RFC 2435 senders may or may not send it).
pub(crate) fn finish_with_eoi(out: &mut Vec<u8>) {
    if !out.ends_with(&[0xFF, 0xD9]) {
        out.extend_from_slice(&[0xFF, 0xD9]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn len_matches_written_bytes() {
        let samplings = [
            Subsampling::Yuv420,
            Subsampling::Yuv422,
            Subsampling::Yuv444,
            Subsampling::Gray,
        ];
        for (restart_interval, subsampling) in
            [0, 7].into_iter().flat_map(|r| samplings.map(|s| (r, s)))
        {
            let params = HeaderParams {
                width: 320,
                height: 240,
                subsampling,
                restart_interval,
                luma_table: &[1; 64],
                chroma_table: &[2; 64],
            };
            let mut out = Vec::new();
            params.write(&mut out);
            assert_eq!(out.len(), params.len());
        }
    }

    #[test]
    fn cache_rebuilds_whenever_a_parameter_changes() {
        let base = HeaderParams {
            width: 320,
            height: 240,
            subsampling: Subsampling::Yuv420,
            restart_interval: 0,
            luma_table: &[1; 64],
            chroma_table: &[2; 64],
        };
        let mut other_luma = [1; 64];
        other_luma[63] = 9;
        let variants = [
            base,
            HeaderParams { width: 328, ..base },
            HeaderParams {
                height: 248,
                ..base
            },
            HeaderParams {
                subsampling: Subsampling::Yuv422,
                ..base
            },
            HeaderParams {
                restart_interval: 4,
                ..base
            },
            HeaderParams {
                luma_table: &other_luma,
                ..base
            },
            HeaderParams {
                chroma_table: &[3; 64],
                ..base
            },
            base,
        ];
        let mut cache = HeaderCache::default();
        for params in variants {
            let mut expected = Vec::new();
            params.write(&mut expected);
            assert_eq!(cache.get(&params), expected.as_slice());
            assert_eq!(cache.get(&params), expected.as_slice());
        }
    }
}
