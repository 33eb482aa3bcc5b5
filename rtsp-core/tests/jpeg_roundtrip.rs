#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! JPEG -> RFC 2435 packets -> JPEG must decode to exactly the pixels of the original file.

mod jpeg_support;

use jpeg_encoder::SamplingFactor;
use jpeg_support::*;
use rtsp_core::jpeg::{
    quant_tables_for_q, reencode_for_rtp, rtp_dimensions, Depacketizer, Packetizer, ParsedJpeg,
    PayloadHeader, Subsampling, DEFAULT_MAX_PAYLOAD, MIN_MAX_PAYLOAD,
};

fn assert_pixels_survive(jpeg: &[u8], max_payload: usize) {
    let rebuilt = round_trip(jpeg, max_payload);
    let original = decode(jpeg);
    let received = decode(&rebuilt);
    assert_eq!((received.0, received.1), (original.0, original.1));
    assert!(received.2 == original.2, "decoded pixels differ");
}

#[test]
fn sizes_samplings_and_restart_intervals_decode_identically() {
    let sizes: [(u16, u16); 8] = [
        (8, 8),
        (16, 8),
        (8, 16),
        (24, 40),
        (320, 240),
        (640, 480),
        (1024, 8),
        (8, 2040),
    ];
    for (w, h) in sizes {
        for sampling in [SamplingFactor::F_2_2, SamplingFactor::F_2_1] {
            for restart_interval in [0, 1, 7] {
                let jpeg = encode(
                    w,
                    h,
                    Enc {
                        sampling,
                        restart_interval,
                        seed: u32::from(w) ^ u32::from(h),
                        ..Enc::default()
                    },
                );
                let frame = ParsedJpeg::parse(&jpeg).unwrap();
                let subsampling = if sampling == SamplingFactor::F_2_2 {
                    Subsampling::Yuv420
                } else {
                    Subsampling::Yuv422
                };
                assert_eq!((frame.width(), frame.height()), (w, h));
                assert_eq!(frame.subsampling(), subsampling);
                assert_eq!(frame.restart_interval(), restart_interval);
                assert_eq!(
                    frame.rtp_type(),
                    subsampling.rtp_type(restart_interval != 0)
                );
                assert_pixels_survive(&jpeg, DEFAULT_MAX_PAYLOAD);
            }
        }
    }
}

#[test]
fn largest_frame_2040x2040_decodes_identically() {
    for (sampling, restart_interval) in [(SamplingFactor::F_2_2, 0), (SamplingFactor::F_2_1, 16)] {
        let jpeg = encode(
            2040,
            2040,
            Enc {
                sampling,
                restart_interval,
                quality: 90,
                ..Enc::default()
            },
        );
        assert_pixels_survive(&jpeg, DEFAULT_MAX_PAYLOAD);
    }
}

#[test]
fn every_payload_size_and_quality_decodes_identically() {
    for quality in [1, 25, 50, 75, 100] {
        let jpeg = encode(
            96,
            64,
            Enc {
                quality,
                restart_interval: if quality > 50 { 3 } else { 0 },
                ..Enc::default()
            },
        );
        for max_payload in [
            MIN_MAX_PAYLOAD,
            MIN_MAX_PAYLOAD + 1,
            200,
            1000,
            DEFAULT_MAX_PAYLOAD,
            65_000,
        ] {
            assert_pixels_survive(&jpeg, max_payload);
        }
    }
}

#[test]
fn payload_layout_follows_rfc_2435() {
    let jpeg = encode(
        320,
        240,
        Enc {
            restart_interval: 20,
            ..Enc::default()
        },
    );
    let frame = ParsedJpeg::parse(&jpeg).unwrap();
    let payloads = Packetizer::new().packetize_to_vec(&frame);
    assert!(payloads.len() > 2);
    let mut scan = Vec::new();
    for (i, payload) in payloads.iter().enumerate() {
        assert!(payload.len() <= DEFAULT_MAX_PAYLOAD);
        let (h, data) = PayloadHeader::parse(payload).unwrap();
        assert_eq!(h.type_specific, 0);
        assert_eq!(h.fragment_offset as usize, scan.len());
        assert_eq!((h.rtp_type, h.q, h.width, h.height), (65, 255, 320, 240));
        let restart = h.restart.unwrap();
        assert_eq!(
            (restart.interval, restart.first, restart.last, restart.count),
            (20, true, true, 0x3FFF)
        );
        if i == 0 {
            let quant = h.quant.unwrap();
            assert_eq!(
                (quant.mbz, quant.precision, quant.tables.len()),
                (0, 0, 128)
            );
            assert_eq!(&quant.tables[..64], frame.luma_quant_table());
            assert_eq!(&quant.tables[64..], frame.chroma_quant_table());
            // Main header, restart header, quantization header, tables.
            assert_eq!(payload.len() - data.len(), 8 + 4 + 4 + 128);
        } else {
            assert!(h.quant.is_none());
            assert_eq!(payload.len() - data.len(), 8 + 4);
        }
        if i + 1 < payloads.len() {
            assert_eq!(
                payload.len(),
                DEFAULT_MAX_PAYLOAD,
                "only the last payload is short"
            );
        }
        scan.extend_from_slice(data);
    }
    // Only entropy-coded data travels: no SOI, no tables, no EOI.
    assert_eq!(scan, frame.scan_data());
    let sos = find_segment(&jpeg, 0xDA);
    let sos_end = segments(&jpeg).last().unwrap().2;
    assert!(sos > 0);
    assert_eq!(&jpeg[sos_end..jpeg.len() - 2], &scan[..]);
}

#[test]
fn quant_tables_are_those_of_the_dqt_segment_in_zigzag_order() {
    let jpeg = encode(64, 64, Enc::default());
    let frame = ParsedJpeg::parse(&jpeg).unwrap();
    let dqt = find_segment(&jpeg, 0xDB);
    // jpeg-encoder writes one DQT segment per table: marker, length, Pq/Tq, 64 entries.
    assert_eq!(&jpeg[dqt + 5..dqt + 69], frame.luma_quant_table());
    assert_eq!(
        &jpeg[dqt + 69 + 5..dqt + 69 + 69],
        frame.chroma_quant_table()
    );
}

#[test]
fn appendix_a_tables_match_ijg_scaling_and_decode_identically() {
    for quality in [5u8, 30, 50, 75, 95] {
        let jpeg = encode(
            48,
            32,
            Enc {
                quality,
                ..Enc::default()
            },
        );
        let frame = ParsedJpeg::parse(&jpeg).unwrap();
        let (luma, chroma) = quant_tables_for_q(quality).unwrap();
        assert_eq!(&luma, frame.luma_quant_table(), "q {quality}");
        assert_eq!(&chroma, frame.chroma_quant_table(), "q {quality}");

        // Send it with Q = quality and no in-band tables: the receiver derives identical tables.
        let mut payloads = Packetizer::with_max_payload(300)
            .unwrap()
            .packetize_to_vec(&frame);
        for p in &mut payloads {
            p[5] = quality;
        }
        payloads[0].drain(8..8 + 4 + 128);
        let mut d = Depacketizer::new();
        let n = payloads.len();
        let out = payloads
            .iter()
            .enumerate()
            .find_map(|(i, p)| d.push(7, i + 1 == n, p))
            .expect("frame");
        assert_eq!(out.q, quality);
        assert_eq!(out.jpeg, frame.to_rtp_jpeg());
        assert!(decode(&out.jpeg).2 == decode(&jpeg).2);
    }
}

#[test]
fn metadata_is_stripped_and_pixels_survive() {
    let jpeg = encode(80, 48, Enc::default());
    let mut com = vec![0xFF, 0xFE, 0x00, 0x0D];
    com.extend_from_slice(b"hello world");
    let with_com = with_segment_after_soi(&jpeg, &com);
    let mut app1 = vec![0xFF, 0xE1, 0x00, 0x0A];
    app1.extend_from_slice(b"Exif\0\0MM");
    let with_meta = with_segment_after_soi(&with_com, &app1);
    let frame = ParsedJpeg::parse(&with_meta).unwrap();
    let rebuilt = frame.to_rtp_jpeg();
    assert!(!rebuilt.windows(5).any(|w| w == b"hello" || w == b"Exif\0"));
    assert_pixels_survive(&with_meta, DEFAULT_MAX_PAYLOAD);
    assert!(decode(&rebuilt).2 == decode(&jpeg).2);
}

#[test]
fn jpeg_without_huffman_tables_uses_the_standard_ones() {
    // Motion-JPEG cameras omit DHT; decoders and RFC 2435 receivers use the Annex K tables.
    let jpeg = encode(64, 48, Enc::default());
    let stripped = without_segments(&jpeg, 0xC4);
    assert!(stripped.len() < jpeg.len());
    let frame = ParsedJpeg::parse(&stripped).unwrap();
    let rebuilt = round_trip(&stripped, DEFAULT_MAX_PAYLOAD);
    assert_eq!(rebuilt, ParsedJpeg::parse(&jpeg).unwrap().to_rtp_jpeg());
    assert!(decode(&rebuilt).2 == decode(&jpeg).2);
    assert_eq!(frame.width(), 64);
}

#[test]
fn trailing_bytes_after_eoi_are_ignored() {
    let mut jpeg = encode(32, 32, Enc::default());
    let frame_len = jpeg.len();
    jpeg.extend_from_slice(&[0, 0, 0xFF, 0xD8, 1, 2, 3]);
    let frame = ParsedJpeg::parse(&jpeg).unwrap();
    assert_eq!(
        frame.to_rtp_jpeg(),
        ParsedJpeg::parse(&jpeg[..frame_len]).unwrap().to_rtp_jpeg()
    );
}

#[test]
fn rebuilt_jpeg_parses_to_the_same_frame() {
    let jpeg = encode(
        136,
        96,
        Enc {
            sampling: SamplingFactor::F_2_1,
            restart_interval: 5,
            ..Enc::default()
        },
    );
    let frame = ParsedJpeg::parse(&jpeg).unwrap();
    let rebuilt = frame.to_rtp_jpeg();
    let again = ParsedJpeg::parse(&rebuilt).unwrap();
    assert_eq!(again, frame);
    assert_eq!(again.to_rtp_jpeg(), rebuilt);
}

mod reencode {
    use super::*;

    fn check_reencoded(input: &[u8], expect: (u16, u16)) -> Vec<u8> {
        let out = reencode_for_rtp(input, 95).unwrap();
        let frame = ParsedJpeg::parse(&out).expect("re-encoded output is RFC 2435-ready");
        assert_eq!((frame.width(), frame.height()), expect);
        assert_eq!(frame.subsampling(), Subsampling::Yuv420);
        assert_pixels_survive(&out, DEFAULT_MAX_PAYLOAD);
        out
    }

    /// Mean absolute difference of the luma of two same-size RGB buffers (luma, because chroma
    /// subsampling legitimately removes the test picture's per-pixel colour noise).
    fn mean_luma_diff(a: &[u8], b: &[u8]) -> f64 {
        assert_eq!(a.len(), b.len());
        let luma =
            |p: &[u8]| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]);
        let sum: f64 = a
            .chunks(3)
            .zip(b.chunks(3))
            .map(|(x, y)| (luma(x) - luma(y)).abs())
            .sum();
        sum / (a.len() / 3) as f64
    }

    #[test]
    fn progressive_optimized_444_and_gray_become_sendable() {
        let progressive = encode(
            120,
            80,
            Enc {
                progressive: true,
                ..Enc::default()
            },
        );
        let optimized = encode(
            120,
            80,
            Enc {
                optimized_huffman: true,
                ..Enc::default()
            },
        );
        let full_chroma = encode(
            120,
            80,
            Enc {
                sampling: SamplingFactor::F_1_1,
                quality: 95,
                ..Enc::default()
            },
        );
        let gray = encode_color(120, 80, jpeg_encoder::ColorType::Luma);
        for (name, input) in [
            ("progressive", progressive),
            ("optimized", optimized),
            ("4:4:4", full_chroma),
            ("gray", gray),
        ] {
            assert!(ParsedJpeg::parse(&input).is_err());
            let out = check_reencoded(&input, (120, 80));
            // Same size, so no resampling: only a second lossy pass separates the pictures.
            let diff = mean_luma_diff(&decode(&input).2, &decode(&out).2);
            assert!(diff < 3.0, "{name}: mean luma diff {diff}");
        }
    }

    #[test]
    fn png_input_is_encoded() {
        let pixels = test_picture(64, 40, 9);
        let img = image::RgbImage::from_raw(64, 40, pixels).unwrap();
        let mut png = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        check_reencoded(&png, (64, 40));
    }

    #[test]
    fn odd_and_oversized_dimensions_are_fixed() {
        let odd = encode_any_size(641, 479);
        check_reencoded(&odd, (640, 480));
        let wide = encode_any_size(4100, 60);
        check_reencoded(&wide, rtp_dimensions(4100, 60));
        assert_eq!(rtp_dimensions(4100, 60), (2040, 32));
    }

    fn encode_any_size(w: u16, h: u16) -> Vec<u8> {
        encode(w, h, Enc::default())
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(reencode_for_rtp(b"definitely not an image", 80).is_err());
        assert!(reencode_for_rtp(&[], 80).is_err());
        // A truncated JPEG may decode partially or fail; either way it must not panic.
        let jpeg = encode(64, 64, Enc::default());
        let _ = reencode_for_rtp(&jpeg[..jpeg.len() / 3], 80);
    }

    #[test]
    fn exif_orientation_is_applied() {
        // EXIF (big-endian TIFF) with one IFD entry: Orientation (0x0112) = 6, "rotate 90 CW".
        let exif = [
            b'M', b'M', 0, 0x2A, 0, 0, 0, 8, // TIFF header, IFD at 8
            0, 1, // one entry
            0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, // Orientation, SHORT, 1, value 6
            0, 0, 0, 0, // no next IFD
        ];
        let pixels = test_picture(64, 32, 5);
        let mut jpeg = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut jpeg, 90);
        enc.add_exif_metadata(&exif).unwrap();
        enc.encode(&pixels, 64, 32, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        check_reencoded(&jpeg, (32, 64));
    }
}
