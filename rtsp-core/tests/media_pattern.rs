#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The synthetic test pattern and the repository's sample file: real JPEGs that RFC 2435 can
//! carry (baseline, 8-bit, 4:2:0, standard Huffman tables), deterministic, visibly moving.

use image::{GenericImageView, ImageFormat};
use rtsp_core::media::{MjpegFile, MjpegFormat, TestPattern, LAB_MAX_FRAME_SIZE};

/// JPEG Annex K.3 tables as (class/id byte, BITS, HUFFVAL).
const ANNEX_K: [(u8, [u8; 16], &[u8]); 4] = [
    (
        0x00,
        [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
        &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    ),
    (
        0x01,
        [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
        &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    ),
    (
        0x10,
        [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D],
        &[
            0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51,
            0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xA1, 0x08, 0x23, 0x42, 0xB1, 0xC1,
            0x15, 0x52, 0xD1, 0xF0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0A, 0x16, 0x17, 0x18,
            0x19, 0x1A, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39,
            0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57,
            0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x73, 0x74, 0x75,
            0x76, 0x77, 0x78, 0x79, 0x7A, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x92,
            0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,
            0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3,
            0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8,
            0xD9, 0xDA, 0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF1, 0xF2,
            0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA,
        ],
    ),
    (
        0x11,
        [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
        &[
            0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07,
            0x61, 0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xA1, 0xB1, 0xC1, 0x09,
            0x23, 0x33, 0x52, 0xF0, 0x15, 0x62, 0x72, 0xD1, 0x0A, 0x16, 0x24, 0x34, 0xE1, 0x25,
            0xF1, 0x17, 0x18, 0x19, 0x1A, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x35, 0x36, 0x37, 0x38,
            0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x53, 0x54, 0x55, 0x56,
            0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x73, 0x74,
            0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
            0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5,
            0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA,
            0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6,
            0xD7, 0xD8, 0xD9, 0xDA, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF2,
            0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA,
        ],
    ),
];

/// Marker segments before the scan, as (marker, payload).
fn header_segments(jpeg: &[u8]) -> Vec<(u8, &[u8])> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let mut out = Vec::new();
    let mut p = 2;
    loop {
        assert_eq!(jpeg[p], 0xFF, "marker expected at {p}");
        let marker = jpeg[p + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[p + 2], jpeg[p + 3]]));
        out.push((marker, &jpeg[p + 4..p + 2 + len]));
        if marker == 0xDA {
            return out;
        }
        p += 2 + len;
    }
}

/// Checks everything RFC 2435 needs of a frame; returns (width, height).
fn assert_rfc2435_compatible(jpeg: &[u8]) -> (u16, u16) {
    let segments = header_segments(jpeg);
    let markers: Vec<u8> = segments.iter().map(|s| s.0).collect();
    assert!(!markers.contains(&0xC2), "progressive");
    assert!(!markers.contains(&0xDD), "restart interval");
    let sof: Vec<&[u8]> = segments
        .iter()
        .filter(|s| s.0 == 0xC0)
        .map(|s| s.1)
        .collect();
    assert_eq!(sof.len(), 1, "exactly one baseline SOF0");
    let sof = sof[0];
    assert_eq!(sof[0], 8, "8-bit precision");
    let height = u16::from_be_bytes([sof[1], sof[2]]);
    let width = u16::from_be_bytes([sof[3], sof[4]]);
    assert_eq!(sof[5], 3, "three components");
    // Per component: id, sampling (H<<4 | V), quantization table.
    let comps: Vec<(u8, u8)> = sof[6..15].chunks(3).map(|c| (c[1], c[2])).collect();
    assert_eq!(comps, vec![(0x22, 0), (0x11, 1), (0x11, 1)], "4:2:0 Y/CbCr");

    let mut tables = Vec::new();
    for (_, dht) in segments.iter().filter(|s| s.0 == 0xC4) {
        let mut i = 0;
        while i < dht.len() {
            let class_id = dht[i];
            let bits: [u8; 16] = dht[i + 1..i + 17].try_into().unwrap();
            let n: usize = bits.iter().map(|&b| usize::from(b)).sum();
            tables.push((class_id, bits, dht[i + 17..i + 17 + n].to_vec()));
            i += 17 + n;
        }
    }
    tables.sort();
    let expected: Vec<(u8, [u8; 16], Vec<u8>)> = ANNEX_K
        .iter()
        .map(|(c, b, v)| (*c, *b, v.to_vec()))
        .collect();
    assert_eq!(tables, expected, "Huffman tables are not the Annex K ones");
    (width, height)
}

#[test]
fn frames_are_baseline_420_with_standard_tables_and_decode() {
    for (w, h) in [(640, 480), (320, 240), (176, 144)] {
        let pattern = TestPattern::new(w, h, 20.0).unwrap();
        for n in [0, 1, 37, 499] {
            let jpeg = pattern.frame(n).unwrap();
            assert_eq!(assert_rfc2435_compatible(&jpeg), (w, h));
            assert!(jpeg.ends_with(&[0xFF, 0xD9]));
            let img = image::load_from_memory_with_format(&jpeg, ImageFormat::Jpeg).unwrap();
            assert_eq!(img.dimensions(), (u32::from(w), u32::from(h)));
        }
    }
}

#[test]
fn deterministic_and_different_per_frame() {
    let a = TestPattern::new(640, 480, 20.0).unwrap();
    let b = TestPattern::new(640, 480, 20.0).unwrap();
    for n in [0u64, 1, 250] {
        assert_eq!(a.frame(n).unwrap(), b.frame(n).unwrap(), "frame {n}");
        assert_ne!(a.frame(n).unwrap(), a.frame(n + 1).unwrap(), "frame {n}");
    }
    // The decoded pictures differ too, not only the bytes.
    let decode = |n| {
        image::load_from_memory_with_format(&a.frame(n).unwrap(), ImageFormat::Jpeg)
            .unwrap()
            .to_rgb8()
    };
    assert_ne!(decode(10), decode(11));
}

#[test]
fn motion_is_visible_in_the_bars_and_the_text_changes() {
    let p = TestPattern::new(640, 480, 20.0).unwrap();
    let top = |n: u64| p.render_rgb(n)[..640 * 288 * 3].to_vec();
    let bottom = |n: u64| p.render_rgb(n)[640 * 320 * 3..].to_vec();
    // The box moves over the colour bars.
    assert_ne!(top(0), top(5));
    assert_ne!(top(5), top(10));
    // The frame number and time code change every frame.
    for n in [0, 1, 19, 20] {
        assert_ne!(bottom(n), bottom(n + 1));
    }
    assert_eq!(p.time_code(123), "00:00:06.03");
}

#[test]
fn frames_fit_the_lab_format_and_the_sample_budget() {
    let p = TestPattern::new(640, 480, 20.0).unwrap();
    for n in (0..500).step_by(50) {
        let len = p.frame(n).unwrap().len();
        assert!(len <= LAB_MAX_FRAME_SIZE);
        // 500 frames must stay under 8 MB.
        assert!(len < 16_000, "frame {n} is {len} bytes");
    }
}

#[test]
fn generated_file_serves_like_a_file() {
    let p = TestPattern::new(64, 48, 20.0).unwrap();
    let file = p.generate(12).unwrap();
    assert_eq!(file.format(), MjpegFormat::Raw);
    assert_eq!(file.frame_count(), 12);
    assert_eq!(file.frame(7).unwrap(), &p.frame(7).unwrap()[..]);
}

fn sample_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../media/movie.Mjpeg")
}

#[test]
fn repository_sample_is_a_valid_lab_file() {
    let path = sample_path();
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size < 8 * 1024 * 1024, "sample is {size} bytes");
    let file = MjpegFile::open(&path).unwrap();
    assert_eq!(file.format(), MjpegFormat::Lab);
    assert!(file.frame_count() >= 400, "{} frames", file.frame_count());
    assert!(file.duration(20.0).unwrap().as_secs() >= 20);

    let pattern = TestPattern::new(640, 480, 20.0).unwrap();
    for (n, jpeg) in file.frames().enumerate() {
        assert_eq!(assert_rfc2435_compatible(jpeg), (640, 480), "frame {n}");
        let img = image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg)
            .unwrap_or_else(|e| panic!("frame {n}: {e}"))
            .to_rgb8();
        assert_eq!(img.dimensions(), (640, 480));
        if n % 100 == 0 {
            // It is the test pattern, in order: compare with a fresh rendering.
            let expected = pattern.render_rgb(n as u64);
            // Compression noise is small; a wrong frame differs strongly over thousands of
            // values (the box and the digits), so count those.
            let diffs: Vec<u8> = img
                .as_raw()
                .iter()
                .zip(&expected)
                .map(|(a, b)| a.abs_diff(*b))
                .collect();
            let strong = diffs.iter().filter(|&&d| d > 64).count();
            assert!(
                strong < 500,
                "frame {n}: {strong} values differ from the pattern"
            );
            let mean = diffs.iter().map(|&d| f64::from(d)).sum::<f64>() / diffs.len() as f64;
            assert!(mean < 2.0, "frame {n} differs from the pattern by {mean}");
        }
    }
}
