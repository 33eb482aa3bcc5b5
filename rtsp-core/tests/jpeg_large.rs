#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Frames wider or taller than the 2040 pixels RFC 2435's header can state: size fields 0, the
//! size in the ONVIF header extension of the first packet, or from the SDP's `a=x-dimensions`.

mod jpeg_support;

use jpeg_encoder::SamplingFactor;
use jpeg_support::*;
use proptest::prelude::*;
use rtsp_core::jpeg::{
    Depacketizer, DropReason, ExtensionError, FrameHeaderExtension, Packetizer, ParsedJpeg,
    PayloadHeader, DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_PAYLOAD, ONVIF_JPEG_PROFILE,
    ONVIF_JPEG_PROFILE_ALT,
};
use rtsp_core::rtp::RtpExtension;

/// Pushes the payloads of `frame` (extension on the first one when `with_extension`, with
/// `profile`) and returns what comes out.
fn send(
    d: &mut Depacketizer,
    frame: &ParsedJpeg<'_>,
    ts: u32,
    with_extension: bool,
    profile: u16,
) -> Option<Vec<u8>> {
    let mut out = None;
    for fragment in Packetizer::new().fragments(frame) {
        let extension = fragment
            .extension()
            .filter(|_| with_extension)
            .map(|data| RtpExtension { profile, data });
        let payload = fragment.to_vec();
        if let Some(f) = d.push_with_extension(ts, fragment.is_last(), &payload, extension) {
            assert_eq!((f.width, f.height), (frame.width(), frame.height()));
            out = Some(f.jpeg);
        }
    }
    out
}

#[test]
fn uhd_frames_decode_identically_through_the_extension() {
    for (sampling, restart_interval) in [(SamplingFactor::F_2_2, 0), (SamplingFactor::F_2_1, 32)] {
        let jpeg = encode(
            3840,
            2160,
            Enc {
                sampling,
                restart_interval,
                quality: 60,
                ..Enc::default()
            },
        );
        // This noisy picture at high quality would exceed the depacketizer's default limit
        // (4 MiB); camera frames of this size are 0.5 to 3 MiB.
        assert!(jpeg.len() < DEFAULT_MAX_FRAME_SIZE, "{} bytes", jpeg.len());
        let rebuilt = round_trip(&jpeg, DEFAULT_MAX_PAYLOAD);
        let (original, received) = (decode(&jpeg), decode(&rebuilt));
        assert_eq!((received.0, received.1), (3840, 2160));
        assert!(received.2 == original.2, "decoded pixels differ");
    }
}

#[test]
fn first_packet_carries_the_frame_header_and_size_fields_zero() {
    let jpeg = encode(
        2048,
        16,
        Enc {
            restart_interval: 4,
            ..Enc::default()
        },
    );
    let frame = ParsedJpeg::parse(&jpeg).unwrap();
    let fragments: Vec<_> = Packetizer::with_max_payload(300)
        .unwrap()
        .fragments(&frame)
        .collect();
    assert!(fragments.len() > 2);
    let ext = fragments[0].extension().unwrap();
    assert_eq!(ext.len() % 4, 0);
    // SOF0 with the real size, then DRI, then fill.
    assert_eq!(ext[..2], [0xFF, 0xC0]);
    assert_eq!(
        FrameHeaderExtension::parse(ext),
        Ok(FrameHeaderExtension {
            width: 2048,
            height: 16,
            restart_interval: Some(4),
            subsampling: Some(frame.subsampling()),
        })
    );
    // The extension's SOF0 is the one of the rebuilt file.
    let rebuilt = frame.to_rtp_jpeg();
    let sof = find_segment(&rebuilt, 0xC0);
    assert_eq!(ext[..19], rebuilt[sof..sof + 19]);
    for (i, fragment) in fragments.iter().enumerate() {
        assert_eq!(fragment.extension().is_some(), i == 0);
        let payload = fragment.to_vec();
        let (header, _) = PayloadHeader::parse(&payload).unwrap();
        assert_eq!((header.width, header.height), (0, 0));
    }
}

#[test]
fn standard_sizes_carry_no_extension() {
    for (w, h) in [(2040, 2040), (320, 240), (8, 2040)] {
        let jpeg = encode(w, h, Enc::default());
        let frame = ParsedJpeg::parse(&jpeg).unwrap();
        assert!(!frame.needs_size_extension());
        for fragment in Packetizer::new().fragments(&frame) {
            assert!(fragment.extension().is_none());
            let payload = fragment.to_vec();
            let (header, _) = PayloadHeader::parse(&payload).unwrap();
            assert_eq!((header.width, header.height), (w, h));
        }
    }
}

#[test]
fn size_from_the_sdp_alone_rebuilds_the_same_frame() {
    let jpeg = encode(4096, 24, Enc::default());
    let frame = ParsedJpeg::parse(&jpeg).unwrap();
    let mut d = Depacketizer::new();
    assert_eq!(send(&mut d, &frame, 1000, false, 0), None);
    assert_eq!(d.last_drop(), Some(DropReason::ZeroDimension));
    d.set_stream_size(Some((4096, 24)));
    assert_eq!(
        send(&mut d, &frame, 4000, false, 0),
        Some(frame.to_rtp_jpeg())
    );
    // Sizes no frame can have are not taken from the SDP.
    for bad in [(4095, 24), (0, 24), (65_504, 24), (70_000, 24)] {
        d.set_stream_size(Some(bad));
        assert_eq!(send(&mut d, &frame, 7000, false, 0), None, "{bad:?}");
        assert_eq!(d.last_drop(), Some(DropReason::ZeroDimension));
    }
}

#[test]
fn extension_wins_over_the_sdp_and_old_profile_is_read() {
    let jpeg = encode(2056, 8, Enc::default());
    let frame = ParsedJpeg::parse(&jpeg).unwrap();
    let mut d = Depacketizer::new();
    d.set_stream_size(Some((3840, 2160)));
    for (ts, profile) in [(1000, ONVIF_JPEG_PROFILE), (4000, ONVIF_JPEG_PROFILE_ALT)] {
        assert_eq!(
            send(&mut d, &frame, ts, true, profile),
            Some(frame.to_rtp_jpeg())
        );
    }
    // Another profile's extension (e.g. ONVIF replay's 0xABAC) says nothing about the size.
    let mut d = Depacketizer::new();
    assert_eq!(send(&mut d, &frame, 1000, true, 0xABAC), None);
    assert_eq!(d.last_drop(), Some(DropReason::ZeroDimension));
}

#[test]
fn a_broken_extension_drops_the_frame_with_its_reason() {
    let jpeg = encode(2048, 8, Enc::default());
    let frame = ParsedJpeg::parse(&jpeg).unwrap();
    let payloads: Vec<Vec<u8>> = Packetizer::new().packetize_to_vec(&frame);
    let cases: [(&[u8], ExtensionError); 3] = [
        (&[0xFF, 0xFF, 0xFF, 0xFF], ExtensionError::NoFrameHeader),
        (&[0x12, 0x34, 0x56, 0x78], ExtensionError::ExpectedMarker(0)),
        (
            &[
                0xFF, 0xC0, 0x00, 0x07, 8, 0x00, 0x0A, 0x08, 0x00, 0xFF, 0xFF, 0xFF,
            ],
            ExtensionError::BadSize {
                width: 2048,
                height: 10,
            },
        ),
    ];
    for (data, error) in cases {
        let mut d = Depacketizer::new();
        d.set_stream_size(Some((2048, 8)));
        let extension = Some(RtpExtension {
            profile: ONVIF_JPEG_PROFILE,
            data,
        });
        let last = payloads.len() == 1;
        assert!(d
            .push_with_extension(1, last, &payloads[0], extension)
            .is_none());
        assert_eq!(d.last_drop(), Some(DropReason::BadExtension(error)));
        let stats = d.stats();
        assert_eq!((stats.frames_dropped, stats.packets_discarded), (1, 1));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any size in multiples of 8 (one side above 2040 when `tall`/`wide` say so) survives
    /// packetization at any payload size, by extension or by SDP size.
    #[test]
    fn large_sizes_round_trip(
        long in 2041u16..=4400,
        short in 1u16..=3,
        tall in any::<bool>(),
        restart_interval in prop_oneof![Just(0u16), 1u16..40],
        max_payload in 300usize..3000,
        by_extension in any::<bool>(),
    ) {
        let long = long.div_ceil(8) * 8;
        let short = short * 8;
        let (w, h) = if tall { (short, long) } else { (long, short) };
        let jpeg = encode(w, h, Enc { restart_interval, ..Enc::default() });
        let frame = ParsedJpeg::parse(&jpeg).unwrap();
        prop_assert!(frame.needs_size_extension());
        if by_extension {
            prop_assert_eq!(decode(&round_trip(&jpeg, max_payload)), decode(&jpeg));
        } else {
            let mut d = Depacketizer::new();
            d.set_stream_size(Some((u32::from(w), u32::from(h))));
            let mut out = None;
            for fragment in Packetizer::with_max_payload(max_payload).unwrap().fragments(&frame) {
                out = out.or(d.push(77, fragment.is_last(), &fragment.to_vec()));
            }
            prop_assert_eq!(out.map(|f| f.jpeg), Some(frame.to_rtp_jpeg()));
        }
    }
}
