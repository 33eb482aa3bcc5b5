//! The ONVIF JPEG header extension and the size of frames above 2040 pixels: the extension data
//! is parsed on its own and as the extension of the first packet of a frame whose RFC 2435
//! header says size 0, with or without a stream size as the SDP's `a=x-dimensions` gives it.
//! A frame must come out exactly when the extension (else the stream size) gives a usable size,
//! with that size and the sampling the extension's SOF states, and parse again.
//!
//! Input layout: a control byte, then 4 bytes of stream size (16-bit width and height, big
//! endian), then the extension data. Control bit 0 selects the profile 0xFFFF instead of 0xFFD8;
//! bit 1 sets the stream size; bit 2 sends no extension at all; bit 3 uses a third-party
//! profile, which must be ignored.
use std::sync::OnceLock;

use crate::jpeg::{
    usable_dimension, Depacketizer, DropReason, FrameHeaderExtension, Packetizer, ParsedJpeg,
    ONVIF_JPEG_PROFILE, ONVIF_JPEG_PROFILE_ALT,
};
use crate::media::TestPattern;
use crate::rtp::RtpExtension;

/// The payloads of a small frame, made once.
fn payloads() -> &'static [Vec<u8>] {
    static PAYLOADS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    PAYLOADS.get_or_init(|| {
        let jpeg = TestPattern::new(32, 16, 1.0).unwrap().frame(0).unwrap();
        let frame = ParsedJpeg::parse(&jpeg).unwrap();
        Packetizer::with_max_payload(200)
            .unwrap()
            .packetize_to_vec(&frame)
    })
}

/// The `jpeg_extension` fuzz target.
pub fn jpeg_extension(data: &[u8]) {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let Some((size, ext)) = rest.split_at_checked(4) else {
        return;
    };
    let parsed = FrameHeaderExtension::parse(ext);
    if let Ok(h) = parsed {
        assert!(usable_dimension(h.width.into()) && usable_dimension(h.height.into()));
    }
    let profile = match (control & 1 != 0, control & 8 != 0) {
        (_, true) => 0xABAC,
        (true, false) => ONVIF_JPEG_PROFILE_ALT,
        (false, false) => ONVIF_JPEG_PROFILE,
    };
    let sent = (control & 4 == 0).then_some(RtpExtension { profile, data: ext });
    let stream_size = (control & 2 != 0).then(|| {
        (
            u32::from(u16::from_be_bytes([size[0], size[1]])),
            u32::from(u16::from_be_bytes([size[2], size[3]])),
        )
    });
    let mut depacketizer = Depacketizer::new();
    depacketizer.set_stream_size(stream_size);
    let packets = payloads();
    let mut emitted = None;
    for (i, payload) in packets.iter().enumerate() {
        let mut payload = payload.clone();
        // Size fields 0, as for a frame above 2040 pixels.
        payload[6] = 0;
        payload[7] = 0;
        let extension = if i == 0 { sent } else { None };
        let last = i + 1 == packets.len();
        emitted = depacketizer.push_with_extension(90_000, last, &payload, extension);
    }
    let expected = match (sent.filter(|_| profile != 0xABAC), stream_size) {
        (Some(_), _) => parsed.ok().map(|h| (h.width, h.height)),
        (None, Some((w, h))) if usable_dimension(w) && usable_dimension(h) => {
            Some((w as u16, h as u16))
        }
        (None, _) => None,
    };
    match (emitted, expected) {
        (Some(frame), Some(size)) => {
            assert_eq!((frame.width, frame.height), size);
            // 4:4:4 and grayscale frames (from the extension's SOF) parse as extended only.
            let again = ParsedJpeg::parse_extended(&frame.jpeg).expect("emitted frames parse");
            assert_eq!((again.width(), again.height()), size);
            let sampling = parsed
                .ok()
                .and_then(|h| h.subsampling)
                .filter(|_| sent.is_some());
            if let Some(sampling) = sampling.filter(|_| profile != 0xABAC) {
                assert_eq!(again.subsampling(), sampling);
            }
        }
        (None, None) => {
            let reason = depacketizer.last_drop();
            assert!(
                matches!(
                    reason,
                    Some(DropReason::BadExtension(_) | DropReason::ZeroDimension)
                ),
                "{reason:?}"
            );
        }
        (emitted, expected) => panic!(
            "frame {:?}, expected size {expected:?}",
            emitted.map(|f| (f.width, f.height))
        ),
    }
}
