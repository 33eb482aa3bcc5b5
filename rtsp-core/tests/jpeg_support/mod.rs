//! Shared helpers of the `jpeg_*` integration tests: deterministic test images, JPEG encoding
//! with jpeg-encoder, decoding with the image crate, and marker-segment surgery.
#![allow(dead_code)]

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
use rtsp_core::jpeg::{
    DepacketizedFrame, Depacketizer, Fragment, Packetizer, ParsedJpeg, ONVIF_JPEG_PROFILE,
};
use rtsp_core::rtp::RtpExtension;

/// A deterministic RGB test picture: gradients, a hard edge and pseudo-random texture, so that
/// every DCT coefficient range and every Huffman code length gets exercised.
pub fn test_picture(width: u16, height: u16, seed: u32) -> Vec<u8> {
    let (w, h) = (usize::from(width), usize::from(height));
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut out = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let noise = (state & 0x3F) as usize;
            let edge = if (x / 7 + y / 5) % 2 == 0 { 60 } else { 0 };
            out.push(((x * 255 / w.max(1)) + noise / 2 + edge).min(255) as u8);
            out.push(((y * 255 / h.max(1)) + noise).min(255) as u8);
            out.push((((x + y) * 3 + seed as usize) % 256) as u8);
        }
    }
    out
}

/// Options of [`encode`].
#[derive(Clone, Copy, Debug)]
pub struct Enc {
    pub sampling: SamplingFactor,
    pub restart_interval: u16,
    pub quality: u8,
    pub progressive: bool,
    pub optimized_huffman: bool,
    pub seed: u32,
}

impl Default for Enc {
    fn default() -> Self {
        Enc {
            sampling: SamplingFactor::F_2_2,
            restart_interval: 0,
            quality: 80,
            progressive: false,
            optimized_huffman: false,
            seed: 1,
        }
    }
}

/// Encodes [`test_picture`] with jpeg-encoder.
pub fn encode(width: u16, height: u16, opts: Enc) -> Vec<u8> {
    let pixels = test_picture(width, height, opts.seed);
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out, opts.quality);
    enc.set_sampling_factor(opts.sampling);
    enc.set_restart_interval(opts.restart_interval);
    enc.set_progressive(opts.progressive);
    enc.set_optimized_huffman_tables(opts.optimized_huffman);
    enc.encode(&pixels, width, height, ColorType::Rgb).unwrap();
    out
}

/// Encodes a grayscale or CMYK picture (for refusal tests).
pub fn encode_color(width: u16, height: u16, color: ColorType) -> Vec<u8> {
    let rgb = test_picture(width, height, 3);
    let pixels: Vec<u8> = match color {
        ColorType::Luma => rgb.chunks(3).map(|p| p[0]).collect(),
        ColorType::Cmyk => rgb.chunks(3).flat_map(|p| [p[0], p[1], p[2], 40]).collect(),
        _ => rgb,
    };
    let mut out = Vec::new();
    Encoder::new(&mut out, 80)
        .encode(&pixels, width, height, color)
        .unwrap();
    out
}

/// Decodes a JPEG with the image crate to (width, height, RGB pixels).
pub fn decode(jpeg: &[u8]) -> (u32, u32, Vec<u8>) {
    let img = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg)
        .expect("decodable JPEG")
        .to_rgb8();
    (img.width(), img.height(), img.into_raw())
}

/// Pushes one fragment as its RTP packet carries it: the payload, and the ONVIF header
/// extension of a first fragment above 2040 pixels.
pub fn push_fragment(
    depacketizer: &mut Depacketizer,
    timestamp: u32,
    fragment: &Fragment<'_>,
) -> Option<DepacketizedFrame> {
    let extension = fragment.extension().map(|data| RtpExtension {
        profile: ONVIF_JPEG_PROFILE,
        data,
    });
    depacketizer.push_with_extension(timestamp, fragment.is_last(), &fragment.to_vec(), extension)
}

/// JPEG -> RFC 2435 payloads -> JPEG, asserting the packet-level contract on the way.
pub fn round_trip(jpeg: &[u8], max_payload: usize) -> Vec<u8> {
    let frame = ParsedJpeg::parse(jpeg).expect("parsable JPEG");
    let packetizer = Packetizer::with_max_payload(max_payload).unwrap();
    let fragments: Vec<_> = packetizer.fragments(&frame).collect();
    assert_eq!(fragments.len(), packetizer.fragments(&frame).len());
    let mut depacketizer = Depacketizer::new();
    let mut emitted = Vec::new();
    let mut expected_offset = 0usize;
    for (i, fragment) in fragments.iter().enumerate() {
        let payload = fragment.to_vec();
        assert!(payload.len() <= max_payload);
        assert_eq!(payload.len(), fragment.len());
        assert_eq!(fragment.parts().concat(), payload);
        assert_eq!(&payload[fragment.header_len()..], fragment.data());
        assert_eq!(fragment.is_last(), i + 1 == fragments.len());
        assert_eq!(fragment.fragment_offset() as usize, expected_offset);
        expected_offset += fragment.data().len();
        // Frames above 2040 pixels: size fields 0, the size in the first packet's extension.
        assert_eq!(
            fragment.extension().is_some(),
            i == 0 && frame.needs_size_extension()
        );
        if frame.needs_size_extension() {
            assert_eq!(payload[6..8], [0, 0]);
        }
        if let Some(f) = push_fragment(&mut depacketizer, 0x1234_5678, fragment) {
            assert!(fragment.is_last(), "frame emitted before the marker packet");
            emitted.push(f);
        }
    }
    assert_eq!(expected_offset, frame.scan_data().len());
    assert_eq!(emitted.len(), 1, "exactly one frame");
    let out = emitted.pop().unwrap();
    assert_eq!(out.width, frame.width());
    assert_eq!(out.height, frame.height());
    assert_eq!(out.rtp_type, frame.rtp_type());
    assert_eq!(out.timestamp, 0x1234_5678);
    assert_eq!(out.jpeg, frame.to_rtp_jpeg());
    let stats = depacketizer.stats();
    assert_eq!(stats.frames_complete, 1);
    assert_eq!(stats.frames_dropped, 0);
    assert_eq!(stats.packets_used, fragments.len() as u64);
    out.jpeg
}

/// The marker segments of a JPEG up to and including SOS: (marker code, start, end) where
/// `start..end` spans the whole segment including its 0xFF and marker bytes.
pub fn segments(jpeg: &[u8]) -> Vec<(u8, usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 2;
    while pos + 4 <= jpeg.len() && jpeg[pos] == 0xFF {
        let marker = jpeg[pos + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
        out.push((marker, pos, pos + 2 + len));
        pos += 2 + len;
        if marker == 0xDA {
            break;
        }
    }
    out
}

/// `jpeg` without every segment with the given marker code.
pub fn without_segments(jpeg: &[u8], marker: u8) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    for &(m, start, end) in segments(jpeg).iter().rev() {
        if m == marker {
            out.drain(start..end);
        }
    }
    out
}

/// `jpeg` with `segment` (complete, with its marker) inserted right after SOI.
pub fn with_segment_after_soi(jpeg: &[u8], segment: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(segment);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Index of the first byte of the first segment with the given marker code.
pub fn find_segment(jpeg: &[u8], marker: u8) -> usize {
    segments(jpeg)
        .iter()
        .find(|s| s.0 == marker)
        .map(|s| s.1)
        .expect("segment present")
}
