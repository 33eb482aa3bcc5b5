#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Raw concatenated JPEG: frame boundaries come from walking the marker segments, so EOI
//! look-alikes inside segments, byte stuffing and restart markers do not split frames.

use image::{GenericImageView, ImageFormat};
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
use rtsp_core::media::{
    CorruptReason, MediaError, MjpegFile, MjpegFormat, OpenOptions, TestPattern,
};

/// A noisy 64x64 image encoded with a restart interval: its scan is full of `FF 00` stuffing
/// and `FF D0`..`FF D7` restart markers.
fn noisy_jpeg_with_restarts() -> Vec<u8> {
    let mut state = 0x1234_5678u32;
    let pixels: Vec<u8> = (0..64 * 64 * 3)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        })
        .collect();
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out, 95);
    enc.set_sampling_factor(SamplingFactor::F_2_2);
    enc.set_restart_interval(1);
    enc.encode(&pixels, 64, 64, ColorType::Rgb).unwrap();
    out
}

fn pattern_jpeg(n: u64) -> Vec<u8> {
    TestPattern::new(48, 32, 20.0).unwrap().frame(n).unwrap()
}

/// Inserts a marker segment right after SOI.
fn with_segment(jpeg: &[u8], marker: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len() + 2).unwrap();
    let mut out = vec![0xFF, 0xD8, 0xFF, marker];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Offset of the first byte after the SOS segment.
fn scan_start(jpeg: &[u8]) -> usize {
    let sos = find(jpeg, &[0xFF, 0xDA]).unwrap();
    sos + 2 + usize::from(u16::from_be_bytes([jpeg[sos + 2], jpeg[sos + 3]]))
}

fn corrupt(result: Result<MjpegFile, MediaError>) -> (usize, usize, CorruptReason) {
    match result {
        Err(MediaError::Corrupt {
            frame,
            offset,
            reason,
        }) => (frame, offset, reason),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

fn concat(frames: &[&[u8]]) -> Vec<u8> {
    frames.concat()
}

#[test]
fn tricky_frames_are_delimited_by_their_markers() {
    let restarts = noisy_jpeg_with_restarts();
    let scan = &restarts[scan_start(&restarts)..];
    assert!(
        find(scan, &[0xFF, 0x00]).is_some(),
        "no stuffing in the scan"
    );
    for rst in 0xD0..=0xD7u8 {
        assert!(
            find(scan, &[0xFF, rst]).is_some(),
            "no RST{} in the scan",
            rst - 0xD0
        );
    }

    // A comment with EOI (and SOI) inside: a search for FF D9 would end the frame there.
    let commented = with_segment(
        &pattern_jpeg(1),
        0xFE,
        b"fake end \xFF\xD9 and \xFF\xD8 here",
    );
    let fake_eoi = find(&commented, &[0xFF, 0xD9]).unwrap();
    assert!(fake_eoi < commented.len() - 2);

    // An APP1 segment carrying a whole JPEG, like an EXIF thumbnail.
    let thumb = pattern_jpeg(2);
    let with_thumbnail = with_segment(
        &pattern_jpeg(3),
        0xE1,
        &[b"Exif\0\0".as_slice(), &thumb].concat(),
    );

    let parts: [&[u8]; 4] = [&restarts, &commented, &with_thumbnail, &pattern_jpeg(4)];
    let data = concat(&parts);
    let file = MjpegFile::from_bytes(data).unwrap();
    assert_eq!(file.format(), MjpegFormat::Raw);
    assert_eq!(file.frame_count(), 4);
    let mut offset = 0;
    for (n, part) in parts.iter().enumerate() {
        assert_eq!(file.frame(n).unwrap(), *part, "frame {n}");
        assert_eq!(file.frame_range(n).unwrap(), offset..offset + part.len());
        offset += part.len();
        let img = image::load_from_memory_with_format(part, ImageFormat::Jpeg).unwrap();
        let expected = if n == 0 { (64, 64) } else { (48, 32) };
        assert_eq!(img.dimensions(), expected);
    }
}

#[test]
fn extension_and_content_detection() {
    let data = concat(&[&pattern_jpeg(0), &pattern_jpeg(1)]);
    let dir = std::env::temp_dir().join(format!("media_raw_ext_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["a.mjpeg", "b.mjpg", "c.bin", "d.Mjpeg"] {
        let path = dir.join(name);
        std::fs::write(&path, &data).unwrap();
        let file = MjpegFile::open(&path).unwrap();
        assert_eq!(file.format(), MjpegFormat::Raw, "{name}");
        assert_eq!(file.frame_count(), 2);
    }
    // Undecidable content: the extension picks the format that reports the error.
    let path = dir.join("e.Mjpeg");
    std::fs::write(&path, b"\xFF\x00garbage").unwrap();
    let lab = corrupt(MjpegFile::open(&path));
    let path = dir.join("e.mjpeg");
    std::fs::write(&path, b"\xFF\x00garbage").unwrap();
    let raw = corrupt(MjpegFile::open(&path));
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(lab, (0, 0, CorruptReason::BadLengthPrefix));
    assert_eq!(raw, (0, 0, CorruptReason::MissingSoi));
}

#[test]
fn garbage_between_frames() {
    let a = pattern_jpeg(0);
    let data = concat(&[&a, b"\r\n", &pattern_jpeg(1)]);
    assert_eq!(
        corrupt(MjpegFile::from_bytes(data)),
        (1, a.len(), CorruptReason::MissingSoi)
    );
}

#[test]
fn truncated_inside_the_scan() {
    let a = pattern_jpeg(0);
    let b = pattern_jpeg(1);
    let mut data = concat(&[&a, &b]);
    data.truncate(data.len() - 20);
    assert_eq!(
        corrupt(MjpegFile::from_bytes(data)),
        (1, a.len(), CorruptReason::MissingEoi)
    );
}

#[test]
fn truncated_inside_a_header_segment() {
    let a = pattern_jpeg(0);
    let b = pattern_jpeg(1);
    let dqt = find(&b, &[0xFF, 0xDB]).unwrap();
    let dqt_len = usize::from(u16::from_be_bytes([b[dqt + 2], b[dqt + 3]]));
    let mut data = concat(&[&a, &b]);
    data.truncate(a.len() + dqt + 10);
    assert_eq!(
        corrupt(MjpegFile::from_bytes(data)),
        (
            1,
            a.len() + dqt,
            CorruptReason::Truncated {
                needed: 2 + dqt_len,
                available: 10
            }
        )
    );
}

#[test]
fn bad_segment_length() {
    let mut b = pattern_jpeg(0);
    let dqt = find(&b, &[0xFF, 0xDB]).unwrap();
    b[dqt + 2] = 0;
    b[dqt + 3] = 1;
    assert_eq!(
        corrupt(MjpegFile::from_bytes(b)),
        (
            0,
            dqt,
            CorruptReason::BadSegmentLength {
                marker: 0xDB,
                length: 1
            }
        )
    );
}

#[test]
fn stray_bytes_and_markers_between_segments() {
    let a = pattern_jpeg(0);
    let dqt = find(&a, &[0xFF, 0xDB]).unwrap();

    let mut junk = a.clone();
    junk.insert(dqt, 0x42);
    assert_eq!(
        corrupt(MjpegFile::from_bytes(junk)),
        (0, dqt, CorruptReason::ExpectedMarker { found: 0x42 })
    );

    let mut stuffed = a.clone();
    stuffed.splice(dqt..dqt, [0xFF, 0x00]);
    assert_eq!(
        corrupt(MjpegFile::from_bytes(stuffed)),
        (0, dqt, CorruptReason::UnexpectedMarker { marker: 0x00 })
    );

    let mut nested = a;
    nested.splice(dqt..dqt, [0xFF, 0xD8]);
    assert_eq!(
        corrupt(MjpegFile::from_bytes(nested)),
        (0, dqt, CorruptReason::UnexpectedMarker { marker: 0xD8 })
    );
}

#[test]
fn image_without_scan() {
    let a = pattern_jpeg(0);
    let data = concat(&[&a, &[0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x03, b'x', 0xFF, 0xD9]]);
    assert_eq!(
        corrupt(MjpegFile::from_bytes(data)),
        (1, a.len() + 7, CorruptReason::NoScan)
    );
}

#[test]
fn big_raw_frame_hits_the_frame_limit() {
    let a = noisy_jpeg_with_restarts();
    let data = concat(&[&pattern_jpeg(0), &a, &pattern_jpeg(1)]);
    let first = pattern_jpeg(0).len();
    match OpenOptions::new()
        .max_frame_size(a.len() - 1)
        .open_bytes(data.clone())
    {
        Err(MediaError::FrameTooLarge {
            frame,
            offset,
            limit,
            ..
        }) => {
            assert_eq!((frame, offset, limit), (1, first, a.len() - 1));
        }
        other => panic!("{other:?}"),
    }
    let file = OpenOptions::new()
        .max_frame_size(a.len())
        .open_bytes(data)
        .unwrap();
    assert_eq!(file.frame(1).unwrap(), &a[..]);
}
