#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The bundled sample `media/movie.Mjpeg` is what every demo and interop test streams: it must
//! stay within the promised shape and every frame must survive RFC 2435 unchanged.

use std::path::PathBuf;

use rtsp_core::jpeg::{Depacketizer, Packetizer, ParsedJpeg};
use rtsp_core::media::{MjpegFile, MjpegFormat};

fn sample() -> MjpegFile {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../media/movie.Mjpeg");
    MjpegFile::open(&path).expect("media/movie.Mjpeg opens")
}

#[test]
fn sample_has_the_documented_shape() {
    let file = sample();
    assert_eq!(file.format(), MjpegFormat::Lab);
    assert!(file.frame_count() >= 400, "at least 20 s at 20 fps");
    assert!(file.as_bytes().len() < 8 * 1024 * 1024, "under 8 MB");
    let duration = file.duration(20.0).unwrap();
    assert!(duration.as_secs_f64() >= 20.0);
}

#[test]
fn every_sample_frame_crosses_rfc2435_unchanged() {
    let file = sample();
    let packetizer = Packetizer::new();
    let mut depacketizer = Depacketizer::new();
    for (n, frame) in file.frames().enumerate() {
        let parsed = ParsedJpeg::parse(frame)
            .unwrap_or_else(|e| panic!("frame {n} is not RFC 2435 carriable: {e}"));
        assert_eq!((parsed.width(), parsed.height()), (640, 480));
        let expected = parsed.to_rtp_jpeg();
        let ts = (n as u32) * 4500;
        let mut out = None;
        for fragment in packetizer.fragments(&parsed) {
            assert!(fragment.len() <= 1460);
            out = depacketizer.push(ts, fragment.is_last(), &fragment.to_vec());
        }
        let out = out.unwrap_or_else(|| panic!("frame {n} was not reassembled"));
        assert_eq!(out.jpeg, expected, "frame {n} differs after the round trip");
    }
    assert_eq!(
        depacketizer.stats().frames_complete as usize,
        file.frame_count()
    );
    assert_eq!(depacketizer.stats().frames_dropped, 0);
}
