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

impl HeaderParams<'_> {
    const DQT_LEN: usize = 4 + 2 * 65;
    const SOF_LEN: usize = 2 + 17;
    const DRI_LEN: usize = 6;
    const SOS_LEN: usize = 2 + 12;

    fn dht_len() -> usize {
        4 + HUFFMAN
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
        2 + APP0_JFIF.len() + Self::DQT_LEN + Self::SOF_LEN + Self::dht_len() + dri + Self::SOS_LEN
    }

    /// Appends SOI, APP0 (JFIF), DQT, SOF0, DHT, DRI (if restart markers are used) and SOS.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[0xFF, 0xD8]);
        out.extend_from_slice(&APP0_JFIF);

        out.extend_from_slice(&[0xFF, 0xDB]);
        push_u16(out, Self::DQT_LEN - 2);
        out.push(0x00);
        out.extend_from_slice(self.luma_table);
        out.push(0x01);
        out.extend_from_slice(self.chroma_table);

        let (h, v) = self.subsampling.luma_factors();
        out.extend_from_slice(&[0xFF, 0xC0]);
        push_u16(out, Self::SOF_LEN - 2);
        out.push(8);
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(&self.width.to_be_bytes());
        out.extend_from_slice(&[3, 1, (h << 4) | v, 0, 2, 0x11, 1, 3, 0x11, 1]);

        out.extend_from_slice(&[0xFF, 0xC4]);
        push_u16(out, Self::dht_len() - 2);
        for (class_dest, spec) in HUFFMAN {
            out.push(class_dest);
            out.extend_from_slice(spec.counts);
            out.extend_from_slice(spec.values);
        }

        if self.restart_interval != 0 {
            out.extend_from_slice(&[0xFF, 0xDD, 0x00, 0x04]);
            out.extend_from_slice(&self.restart_interval.to_be_bytes());
        }

        out.extend_from_slice(&[
            0xFF, 0xDA, 0x00, 0x0C, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0,
        ]);
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
        for restart_interval in [0, 7] {
            let params = HeaderParams {
                width: 320,
                height: 240,
                subsampling: Subsampling::Yuv420,
                restart_interval,
                luma_table: &[1; 64],
                chroma_table: &[2; 64],
            };
            let mut out = Vec::new();
            params.write(&mut out);
            assert_eq!(out.len(), params.len());
        }
    }
}
