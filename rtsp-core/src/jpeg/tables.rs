//! Fixed JPEG tables RFC 2435 depends on: the example quantization tables of JPEG Annex K.1/K.2,
//! their Q scaling (RFC 2435 Appendix A), and the typical Huffman tables of Annex K.3.
//!
//! RFC 2435 never transmits Huffman tables: every receiver rebuilds the headers with the Annex K.3
//! tables, which is why a sender may only forward frames coded with exactly these tables.

/// A quantization table in zig-zag order, as it appears in a DQT segment and on the wire.
pub type QuantTable = [u8; 64];

/// Position in natural (row-major) order of the `k`-th coefficient in zig-zag order.
const ZIGZAG_TO_NATURAL: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// JPEG Annex K.1 luminance quantization table, natural order.
const ANNEX_K1_LUMA: [u8; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, //
    12, 12, 14, 19, 26, 58, 60, 55, //
    14, 13, 16, 24, 40, 57, 69, 56, //
    14, 17, 22, 29, 51, 87, 80, 62, //
    18, 22, 37, 56, 68, 109, 103, 77, //
    24, 35, 55, 64, 81, 104, 113, 92, //
    49, 64, 78, 87, 103, 121, 120, 101, //
    72, 92, 95, 98, 112, 100, 103, 99, //
];

/// JPEG Annex K.2 chrominance quantization table, natural order.
const ANNEX_K2_CHROMA: [u8; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, //
    18, 21, 26, 66, 99, 99, 99, 99, //
    24, 26, 56, 99, 99, 99, 99, 99, //
    47, 66, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
];

/// The luminance and chrominance tables (zig-zag order) a receiver derives from a Q value of 1 to
/// 99, as specified by RFC 2435 Appendix A (the IJG quality scaling of the Annex K tables).
///
/// Returns `None` for the values RFC 2435 reserves (0 and 100 to 127) and for 128 to 255, which
/// mean "tables in band" rather than "derive them".
pub fn quant_tables_for_q(q: u8) -> Option<(QuantTable, QuantTable)> {
    if !(1..=99).contains(&q) {
        return None;
    }
    let q = u32::from(q);
    let scale = if q < 50 { 5000 / q } else { 200 - q * 2 };
    let mut luma = [0u8; 64];
    let mut chroma = [0u8; 64];
    for (k, &natural) in ZIGZAG_TO_NATURAL.iter().enumerate() {
        let n = usize::from(natural);
        luma[k] = scale_entry(ANNEX_K1_LUMA[n], scale);
        chroma[k] = scale_entry(ANNEX_K2_CHROMA[n], scale);
    }
    Some((luma, chroma))
}

fn scale_entry(base: u8, scale: u32) -> u8 {
    let v = (u32::from(base) * scale + 50) / 100;
    // The clamp makes the narrowing cast lossless.
    v.clamp(1, 255) as u8
}

/// One Huffman table as a DHT segment carries it: the number of codes of each length 1..=16 and
/// the symbol values in code order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HuffmanSpec {
    /// `BITS`: how many codes have length 1, 2, ..., 16.
    pub counts: &'static [u8; 16],
    /// `HUFFVAL`: the symbols, in order of increasing code length.
    pub values: &'static [u8],
}

/// Annex K.3.1, table K.3: luminance DC differences.
pub const LUMA_DC: HuffmanSpec = HuffmanSpec {
    counts: &[0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
    values: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
};

/// Annex K.3.1, table K.4: chrominance DC differences.
pub const CHROMA_DC: HuffmanSpec = HuffmanSpec {
    counts: &[0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
    values: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
};

/// Annex K.3.2, table K.5: luminance AC coefficients.
pub const LUMA_AC: HuffmanSpec = HuffmanSpec {
    counts: &[0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
    values: &[
        0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61,
        0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52,
        0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25,
        0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45,
        0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64,
        0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83,
        0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
        0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6,
        0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3,
        0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8,
        0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
    ],
};

/// Annex K.3.2, table K.6: chrominance AC coefficients.
pub const CHROMA_AC: HuffmanSpec = HuffmanSpec {
    counts: &[0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
    values: &[
        0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61,
        0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33,
        0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18,
        0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44,
        0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63,
        0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
        0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
        0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4,
        0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca,
        0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
        0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huffman_tables_are_consistent() {
        for spec in [LUMA_DC, CHROMA_DC, LUMA_AC, CHROMA_AC] {
            let total: usize = spec.counts.iter().map(|&c| usize::from(c)).sum();
            assert_eq!(total, spec.values.len());
        }
        assert_eq!(LUMA_AC.values.len(), 162);
        assert_eq!(CHROMA_AC.values.len(), 162);
        // Every (run, size) symbol occurs exactly once in an AC table.
        for spec in [LUMA_AC, CHROMA_AC] {
            let mut seen = [false; 256];
            for &v in spec.values {
                assert!(!seen[usize::from(v)], "duplicate symbol {v:#x}");
                seen[usize::from(v)] = true;
            }
        }
    }

    #[test]
    fn zigzag_is_a_permutation() {
        let mut seen = [false; 64];
        for &n in &ZIGZAG_TO_NATURAL {
            seen[usize::from(n)] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn q50_is_annex_k_in_zigzag_order() {
        let (luma, chroma) = quant_tables_for_q(50).unwrap();
        // RFC 2435 Appendix A lists the tables already in zig-zag order; its first row reads so.
        assert_eq!(&luma[..10], &[16, 11, 12, 14, 12, 10, 16, 14, 13, 14]);
        assert_eq!(&chroma[..6], &[17, 18, 18, 24, 21, 24]);
        assert_eq!(luma[63], 99);
    }

    #[test]
    fn q_scaling_matches_ijg() {
        let (luma, _) = quant_tables_for_q(1).unwrap();
        assert_eq!(luma[0], 255); // 16 * 5000 / 100 = 800, clamped
        let (luma, chroma) = quant_tables_for_q(99).unwrap();
        assert_eq!(luma[0], 1); // (16 * 2 + 50) / 100 = 0, clamped to 1
        assert_eq!(chroma[63], 2); // (99 * 2 + 50) / 100 = 2
        let (luma, _) = quant_tables_for_q(75).unwrap();
        assert_eq!(luma[0], 8); // (16 * 50 + 50) / 100
    }

    #[test]
    fn reserved_q_values_have_no_tables() {
        for q in [0u8, 100, 127, 128, 255] {
            assert!(quant_tables_for_q(q).is_none(), "q = {q}");
        }
    }
}
