#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every JPEG RFC 2435 cannot carry is refused with an error naming the reason.

mod jpeg_support;

use jpeg_encoder::{ColorType, SamplingFactor};
use jpeg_support::*;
use proptest::prelude::*;
use rtsp_core::jpeg::{Depacketizer, Packetizer, ParseError, ParsedJpeg, MAX_SCAN_LEN};

fn base() -> Vec<u8> {
    encode(64, 48, Enc::default())
}

fn parse_err(jpeg: &[u8]) -> ParseError {
    ParsedJpeg::parse(jpeg).expect_err("must be refused")
}

/// `jpeg` with the byte at `segment start + offset` of the first `marker` segment replaced.
fn patch(jpeg: &[u8], marker: u8, offset: usize, value: u8) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    out[find_segment(jpeg, marker) + offset] = value;
    out
}

#[test]
fn progressive_is_refused() {
    let jpeg = encode(
        64,
        48,
        Enc {
            progressive: true,
            ..Enc::default()
        },
    );
    let err = parse_err(&jpeg);
    assert_eq!(err, ParseError::Progressive);
    assert!(err.to_string().contains("progressive"));
}

#[test]
fn optimized_huffman_tables_are_refused() {
    let jpeg = encode(
        64,
        48,
        Enc {
            optimized_huffman: true,
            ..Enc::default()
        },
    );
    assert!(matches!(
        parse_err(&jpeg),
        ParseError::NonStandardHuffmanTables { .. }
    ));
}

#[test]
fn a_single_changed_huffman_table_is_refused_and_named() {
    let jpeg = base();
    // jpeg-encoder writes one DHT segment per table: luma DC, luma AC, chroma DC, chroma AC.
    let dhts: Vec<_> = segments(&jpeg)
        .into_iter()
        .filter(|s| s.0 == 0xC4)
        .collect();
    assert_eq!(dhts.len(), 4);
    let cases = [
        (0, "luminance", "DC"),
        (1, "luminance", "AC"),
        (2, "chrominance", "DC"),
        (3, "chrominance", "AC"),
    ];
    for (index, component, class) in cases {
        let mut bad = jpeg.clone();
        // Swap the first two symbol values: same code lengths, different code assignment.
        let values = dhts[index].1 + 5 + 16;
        bad.swap(values, values + 1);
        assert_eq!(
            parse_err(&bad),
            ParseError::NonStandardHuffmanTables { component, class }
        );
    }
}

#[test]
fn unsupported_sampling_is_refused_and_named() {
    let cases = [
        (SamplingFactor::F_1_1, (1, 1), "4:4:4"),
        (SamplingFactor::F_4_1, (4, 1), "4:1:1"),
        (SamplingFactor::F_1_2, (1, 2), "4:4:0"),
    ];
    for (sampling, y, name) in cases {
        let jpeg = encode(
            64,
            48,
            Enc {
                sampling,
                ..Enc::default()
            },
        );
        let err = parse_err(&jpeg);
        assert_eq!(
            err,
            ParseError::UnsupportedSampling {
                y,
                cb: (1, 1),
                cr: (1, 1)
            }
        );
        assert!(err.to_string().contains(name), "{err}");
    }
}

#[test]
fn image_crate_encoder_output_is_444_and_refused() {
    let img = image::RgbImage::from_raw(64, 48, test_picture(64, 48, 2)).unwrap();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
        .encode_image(&img)
        .unwrap();
    assert!(matches!(
        parse_err(&jpeg),
        ParseError::UnsupportedSampling { y: (1, 1), .. }
    ));
}

#[test]
fn grayscale_and_cmyk_are_refused() {
    assert_eq!(
        parse_err(&encode_color(64, 48, ColorType::Luma)),
        ParseError::Grayscale
    );
    assert_eq!(
        parse_err(&encode_color(64, 48, ColorType::Cmyk)),
        ParseError::UnsupportedComponentCount(4)
    );
}

#[test]
fn twelve_bit_is_refused() {
    // SOF0 body: precision is the byte after the 2-byte length.
    let jpeg = patch(&base(), 0xC0, 4, 12);
    assert_eq!(parse_err(&jpeg), ParseError::UnsupportedPrecision(12));
}

#[test]
fn other_coding_processes_are_refused() {
    let cases = [
        (0xC2, ParseError::Progressive),
        (0xC3, ParseError::Lossless),
        (0xC5, ParseError::Hierarchical),
        (0xC7, ParseError::Hierarchical),
        (0xC9, ParseError::Arithmetic),
        (0xCA, ParseError::Arithmetic),
        (0xCB, ParseError::Arithmetic),
        (0xCD, ParseError::Arithmetic),
        (0xCF, ParseError::Arithmetic),
    ];
    for (sof, expected) in cases {
        assert_eq!(
            parse_err(&patch(&base(), 0xC0, 1, sof)),
            expected,
            "SOF {sof:#x}"
        );
    }
    // A DAC segment (arithmetic conditioning) anywhere before the scan.
    let dac = with_segment_after_soi(&base(), &[0xFF, 0xCC, 0x00, 0x04, 0x00, 0x10]);
    assert_eq!(parse_err(&dac), ParseError::Arithmetic);
}

#[test]
fn extended_sequential_8_bit_with_standard_tables_is_carried() {
    // SOF1 with 8-bit samples codes the scan exactly like baseline.
    let jpeg = patch(&base(), 0xC0, 1, 0xC1);
    let rebuilt = round_trip(&jpeg, 1400);
    assert!(decode(&rebuilt).2 == decode(&base()).2);
}

#[test]
fn sixteen_bit_quant_table_is_refused() {
    let jpeg = base();
    let (_, start, end) = segments(&jpeg).into_iter().find(|s| s.0 == 0xDB).unwrap();
    let table0 = jpeg[start + 5..start + 69].to_vec();
    let mut dqt16 = vec![0xFF, 0xDB, 0x00, 131, 0x10];
    for v in table0 {
        dqt16.extend_from_slice(&[0, v]);
    }
    let mut bad = jpeg[..start].to_vec();
    bad.extend_from_slice(&dqt16);
    bad.extend_from_slice(&jpeg[end..]);
    assert_eq!(
        parse_err(&bad),
        ParseError::SixteenBitQuantTable { table: 0 }
    );
}

#[test]
fn unused_sixteen_bit_table_is_harmless() {
    let mut dqt = vec![0xFF, 0xDB, 0x00, 131, 0x13];
    dqt.extend_from_slice(&[0u8; 128]);
    let jpeg = with_segment_after_soi(&base(), &dqt);
    assert!(ParsedJpeg::parse(&jpeg).is_ok());
}

#[test]
fn dimensions_beyond_decoders_are_refused() {
    // Above 2040 pixels is carried (with the size extensions); above what decoders read is not.
    for (w, h) in [(2048, 8), (8, 2048)] {
        let frame = encode(w, h, Enc::default());
        assert!(ParsedJpeg::parse(&frame).unwrap().needs_size_extension());
    }
    let mut jpeg = encode(16, 8, Enc::default());
    // SOF0: marker (2), length (2), precision (1), height (2), width (2).
    let width_at = find_segment(&jpeg, 0xC0) + 7;
    for (width, refused) in [(65_496u16, false), (65_504, true)] {
        jpeg[width_at..width_at + 2].copy_from_slice(&width.to_be_bytes());
        let result = ParsedJpeg::parse(&jpeg).map(|p| p.width());
        if refused {
            let err = result.unwrap_err();
            assert_eq!(err, ParseError::TooLarge { width, height: 8 });
            assert!(err.to_string().contains("65500"), "{err}");
        } else {
            assert_eq!(result, Ok(width));
        }
    }
    let err = parse_err(&encode(641, 479, Enc::default()));
    assert_eq!(
        err,
        ParseError::NotMultipleOf8 {
            width: 641,
            height: 479
        }
    );
    assert!(err.to_string().contains("multiple of 8"));
    assert_eq!(
        parse_err(&encode(20, 16, Enc::default())),
        ParseError::NotMultipleOf8 {
            width: 20,
            height: 16
        }
    );
    // Height 0 (a DNL-defined height) and width 0.
    let no_height = patch(&patch(&base(), 0xC0, 5, 0), 0xC0, 6, 0);
    assert_eq!(
        parse_err(&no_height),
        ParseError::ZeroDimension {
            width: 64,
            height: 0
        }
    );
    let no_width = patch(&patch(&base(), 0xC0, 7, 0), 0xC0, 8, 0);
    assert_eq!(
        parse_err(&no_width),
        ParseError::ZeroDimension {
            width: 0,
            height: 48
        }
    );
}

#[test]
fn missing_pieces_are_refused() {
    let jpeg = base();
    assert_eq!(
        parse_err(&without_segments(&jpeg, 0xDB)),
        ParseError::MissingQuantTable { table: 0 }
    );
    assert_eq!(
        parse_err(&without_segments(&jpeg, 0xC0)),
        ParseError::MissingFrameHeader
    );
    let mut no_scan = jpeg[..find_segment(&jpeg, 0xDA)].to_vec();
    no_scan.extend_from_slice(&[0xFF, 0xD9]);
    assert_eq!(parse_err(&no_scan), ParseError::MissingScan);
    assert_eq!(
        parse_err(&[0xFF, 0xD8, 0xFF, 0xD9]),
        ParseError::MissingFrameHeader
    );
    assert_eq!(parse_err(&jpeg[..jpeg.len() - 2]), ParseError::MissingEoi);
    assert_eq!(parse_err(&jpeg[..jpeg.len() - 40]), ParseError::MissingEoi);
    let sos_end = segments(&jpeg).last().unwrap().2;
    let mut empty = jpeg[..sos_end].to_vec();
    empty.extend_from_slice(&[0xFF, 0xD9]);
    assert_eq!(parse_err(&empty), ParseError::EmptyScan);
}

#[test]
fn truncated_headers_and_non_jpeg_are_refused() {
    let jpeg = base();
    let dqt = find_segment(&jpeg, 0xDB);
    assert!(matches!(
        parse_err(&jpeg[..dqt + 30]),
        ParseError::Truncated(_)
    ));
    assert!(matches!(
        parse_err(&jpeg[..dqt + 3]),
        ParseError::Truncated(_)
    ));
    assert!(matches!(parse_err(&jpeg[..2]), ParseError::Truncated(_)));
    assert_eq!(parse_err(b"GIF89a"), ParseError::NotJpeg);
    assert_eq!(parse_err(&[]), ParseError::NotJpeg);
    assert_eq!(parse_err(&[0xFF]), ParseError::NotJpeg);
}

#[test]
fn more_than_one_scan_is_refused() {
    // Another marker after the scan data instead of EOI.
    let jpeg = base();
    let mut bad = jpeg[..jpeg.len() - 2].to_vec();
    bad.extend_from_slice(&[0xFF, 0xFE, 0x00, 0x04, b'h', b'i', 0xFF, 0xD9]);
    assert_eq!(
        parse_err(&bad),
        ParseError::UnexpectedMarkerAfterScan { marker: 0xFE }
    );
    // One scan per component (jpeg-encoder's optimized mode), checked with its DHTs removed so
    // that the scan layout rather than the tables is the reason.
    let sequential = without_segments(
        &encode(
            64,
            48,
            Enc {
                optimized_huffman: true,
                ..Enc::default()
            },
        ),
        0xC4,
    );
    assert_eq!(
        parse_err(&sequential),
        ParseError::NonInterleavedScan { components: 1 }
    );
}

#[test]
fn adobe_rgb_is_refused() {
    let adobe = [
        0xFF, 0xEE, 0x00, 0x0E, b'A', b'd', b'o', b'b', b'e', 0, 100, 0, 0, 0, 0, 0,
    ];
    let jpeg = with_segment_after_soi(&base(), &adobe);
    assert_eq!(parse_err(&jpeg), ParseError::NotYCbCr);
    // Transform 1 (YCbCr) is fine.
    let mut ycc = adobe;
    ycc[15] = 1;
    assert!(ParsedJpeg::parse(&with_segment_after_soi(&base(), &ycc)).is_ok());
}

#[test]
fn quant_tables_are_remapped_and_differing_chroma_tables_refused() {
    let jpeg = base();
    let sof = find_segment(&jpeg, 0xC0);
    // SOF0 components start at +10: (id, sampling, Tq) x 3.
    let mut cr_on_luma = jpeg.clone();
    cr_on_luma[sof + 10 + 6 + 2] = 0;
    assert_eq!(parse_err(&cr_on_luma), ParseError::ChromaQuantTablesDiffer);

    // Y on table 1 and chroma on table 0, with the DQT destinations swapped to match: the same
    // picture, and the packetizer must still send Y's table first.
    let mut swapped = jpeg.clone();
    swapped[sof + 10 + 2] = 1;
    swapped[sof + 10 + 3 + 2] = 0;
    swapped[sof + 10 + 6 + 2] = 0;
    for (m, start, _) in segments(&jpeg) {
        if m == 0xDB {
            swapped[start + 4] ^= 1;
        }
    }
    let frame = ParsedJpeg::parse(&swapped).unwrap();
    let original = ParsedJpeg::parse(&jpeg).unwrap();
    assert_eq!(frame.luma_quant_table(), original.luma_quant_table());
    assert_eq!(frame.chroma_quant_table(), original.chroma_quant_table());
    assert!(decode(&round_trip(&swapped, 500)).2 == decode(&jpeg).2);
}

#[test]
fn scan_beyond_24_bit_offsets_is_refused() {
    let jpeg = base();
    let sos_end = segments(&jpeg).last().unwrap().2;
    let mut huge = jpeg[..sos_end].to_vec();
    huge.resize(sos_end + MAX_SCAN_LEN + 1, 0x00);
    huge.extend_from_slice(&[0xFF, 0xD9]);
    assert_eq!(
        parse_err(&huge),
        ParseError::ScanTooLarge {
            len: MAX_SCAN_LEN + 1
        }
    );
    // Exactly 2^24 bytes still fits, and the last fragment offset fits 24 bits.
    huge.truncate(sos_end + MAX_SCAN_LEN);
    huge.extend_from_slice(&[0xFF, 0xD9]);
    let frame = ParsedJpeg::parse(&huge).unwrap();
    let last = Packetizer::new().fragments(&frame).last().unwrap();
    assert!(last.fragment_offset() < 1 << 24);
    assert_eq!(
        last.fragment_offset() as usize + last.data().len(),
        MAX_SCAN_LEN
    );
}

#[test]
fn malformed_segments_are_refused() {
    let dri = with_segment_after_soi(&base(), &[0xFF, 0xDD, 0x00, 0x05, 0, 1, 2]);
    assert!(matches!(
        parse_err(&dri),
        ParseError::Malformed { segment: "DRI", .. }
    ));
    let short = with_segment_after_soi(&base(), &[0xFF, 0xFE, 0x00, 0x01]);
    assert!(matches!(parse_err(&short), ParseError::Malformed { .. }));
    let garbage = with_segment_after_soi(&base(), &[0x12, 0x34]);
    assert!(matches!(parse_err(&garbage), ParseError::Malformed { .. }));
    let two_sof = with_segment_after_soi(
        &base(),
        &base()[find_segment(&base(), 0xC0)
            ..segments(&base()).iter().find(|s| s.0 == 0xC0).unwrap().2],
    );
    assert!(matches!(
        parse_err(&two_sof),
        ParseError::Malformed {
            segment: "SOF0",
            ..
        }
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Corrupted JPEGs never panic; whatever still parses survives packetization unchanged.
    #[test]
    fn mutated_jpegs_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        do_cut in any::<bool>(),
    ) {
        let mut jpeg = encode(32, 16, Enc { restart_interval: 2, ..Enc::default() });
        for (index, value) in edits {
            let i = index.index(jpeg.len());
            jpeg[i] = value;
        }
        if do_cut {
            jpeg.truncate(cut.index(jpeg.len() + 1));
        }
        if let Ok(frame) = ParsedJpeg::parse(&jpeg) {
            let mut d = Depacketizer::new();
            let mut out = None;
            for f in Packetizer::with_max_payload(200).unwrap().fragments(&frame) {
                out = push_fragment(&mut d, 1, &f);
            }
            let out = out.expect("a parsed frame always survives an undamaged path");
            prop_assert_eq!(&out.jpeg, &frame.to_rtp_jpeg());
            let reparsed = ParsedJpeg::parse(&out.jpeg).unwrap();
            prop_assert_eq!(reparsed.scan_data(), frame.scan_data());
            prop_assert_eq!(reparsed.rtp_type(), frame.rtp_type());
        }
    }

    /// Arbitrary bytes behind an SOI never panic.
    #[test]
    fn random_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut data = vec![0xFF, 0xD8];
        data.extend_from_slice(&tail);
        let _ = ParsedJpeg::parse(&data);
        let _ = ParsedJpeg::parse(&tail);
    }
}
