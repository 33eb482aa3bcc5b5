#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! 4:4:4 and grayscale frames, which RFC 2435's types cannot describe, carried unchanged to a
//! receiver that rebuilds frames from the SOF of the ONVIF header extension, and still refused
//! by the plain parser that decides what every receiver can read.

mod jpeg_support;

use jpeg_encoder::{ColorType, SamplingFactor};
use jpeg_support::*;
use rtsp_core::jpeg::{
    Depacketizer, FrameHeaderExtension, Packetizer, ParseError, ParsedJpeg, Subsampling,
};

/// The samples: a 4:4:4 colour frame (with restart markers) and a grayscale one, at a size RFC
/// 2435's header can state and one above 2040 pixels.
fn samples() -> Vec<(Vec<u8>, Subsampling)> {
    let mut out = Vec::new();
    for (w, h) in [(320, 240), (2048, 64)] {
        let yuv444 = encode(
            w,
            h,
            Enc {
                sampling: SamplingFactor::F_1_1,
                restart_interval: 3,
                ..Enc::default()
            },
        );
        out.push((yuv444, Subsampling::Yuv444));
        out.push((encode_color(w, h, ColorType::Luma), Subsampling::Gray));
    }
    out
}

#[test]
fn the_plain_parser_still_refuses_them() {
    for (jpeg, sampling) in samples() {
        let err = ParsedJpeg::parse(&jpeg).unwrap_err();
        match sampling {
            Subsampling::Gray => assert_eq!(err, ParseError::Grayscale),
            _ => assert!(
                matches!(err, ParseError::UnsupportedSampling { .. }),
                "{err}"
            ),
        }
    }
}

#[test]
fn they_arrive_bit_exact_through_the_extension() {
    for (ts, (jpeg, sampling)) in samples().into_iter().enumerate() {
        let frame = ParsedJpeg::parse_extended(&jpeg).unwrap();
        assert_eq!(frame.subsampling(), sampling);
        assert!(frame.needs_header_extension());
        let fragments: Vec<_> = Packetizer::with_max_payload(400)
            .unwrap()
            .fragments(&frame)
            .collect();
        assert!(fragments.len() > 2);
        let ext = FrameHeaderExtension::parse(fragments[0].extension().unwrap()).unwrap();
        assert_eq!(ext.subsampling, Some(sampling));
        assert!(fragments[1..].iter().all(|f| f.extension().is_none()));

        let mut receiver = Depacketizer::new();
        let mut received = None;
        for fragment in &fragments {
            if let Some(f) = push_fragment(&mut receiver, ts as u32 * 3000, fragment) {
                received = Some(f);
            }
        }
        let received = received.expect("frame emitted");
        assert_eq!(received.jpeg, frame.to_rtp_jpeg());
        assert_eq!(
            (received.width, received.height),
            (frame.width(), frame.height())
        );
        let rebuilt = ParsedJpeg::parse_extended(&received.jpeg).unwrap();
        assert_eq!(rebuilt.subsampling(), sampling);
        let (original, decoded) = (decode(&jpeg), decode(&received.jpeg));
        assert_eq!((decoded.0, decoded.1), (original.0, original.1));
        assert!(
            decoded.2 == original.2,
            "decoded pixels differ ({sampling:?})"
        );
    }
}

#[test]
fn standard_frames_are_sent_exactly_as_before() {
    let jpeg = encode(320, 240, Enc::default());
    let plain = ParsedJpeg::parse(&jpeg).unwrap();
    let extended = ParsedJpeg::parse_extended(&jpeg).unwrap();
    assert_eq!(plain, extended);
    assert!(!extended.needs_header_extension());
    let packetizer = Packetizer::new();
    assert_eq!(
        packetizer.packetize_to_vec(&plain),
        packetizer.packetize_to_vec(&extended)
    );
    assert!(packetizer
        .fragments(&plain)
        .all(|f| f.extension().is_none()));
}

#[test]
fn what_no_receiver_rebuilds_stays_refused() {
    let jpeg = encode(
        320,
        240,
        Enc {
            sampling: SamplingFactor::F_4_1,
            ..Enc::default()
        },
    );
    assert!(matches!(
        ParsedJpeg::parse_extended(&jpeg),
        Err(ParseError::UnsupportedSampling { .. })
    ));
    let cmyk = encode_color(320, 240, ColorType::Cmyk);
    assert_eq!(
        ParsedJpeg::parse_extended(&cmyk),
        Err(ParseError::UnsupportedComponentCount(4))
    );
}
