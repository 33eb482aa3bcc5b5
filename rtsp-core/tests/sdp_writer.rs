#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The server's SDP: exact shape (docs/INTEROP.md section 3 plus range, rate and size attributes)
//! and a round trip through the reader.

use std::net::IpAddr;
use std::time::Duration;

use proptest::prelude::*;
use rtsp_core::sdp::{Dimensions, NptTime, Sdp, SdpError, SessionDescription};

fn movie() -> SessionDescription {
    let mut d = SessionDescription::new(3_735_928_559, "movie.Mjpeg");
    d.duration = Some(Duration::from_millis(25_000));
    d.frame_rate = Some(20.0);
    d.dimensions = Some(Dimensions {
        width: 640,
        height: 480,
    });
    d
}

#[test]
fn exact_text_for_a_file() {
    assert_eq!(
        movie().to_sdp().unwrap(),
        "v=0\r\n\
         o=- 3735928559 1 IN IP4 127.0.0.1\r\n\
         s=movie.Mjpeg\r\n\
         c=IN IP4 0.0.0.0\r\n\
         t=0 0\r\n\
         a=control:*\r\n\
         a=range:npt=0-25.000\r\n\
         m=video 0 RTP/AVP 26\r\n\
         a=rtpmap:26 JPEG/90000\r\n\
         a=control:track1\r\n\
         a=framerate:20\r\n\
         a=framesize:26 640-480\r\n\
         a=x-dimensions:640,480\r\n"
    );
}

#[test]
fn live_source_with_ipv6_and_no_optional_attributes() {
    let mut d = SessionDescription::new(7, "");
    d.origin_address = "2001:db8::1".parse::<IpAddr>().unwrap();
    d.connection_address = "::".parse::<IpAddr>().unwrap();
    d.session_version = 42;
    d.media_control = "rtsp://[2001:db8::1]:8554/live/track1".into();
    assert_eq!(
        d.to_sdp().unwrap(),
        "v=0\r\n\
         o=- 7 42 IN IP6 2001:db8::1\r\n\
         s= \r\n\
         c=IN IP6 ::\r\n\
         t=0 0\r\n\
         a=control:*\r\n\
         a=range:npt=now-\r\n\
         m=video 0 RTP/AVP 26\r\n\
         a=rtpmap:26 JPEG/90000\r\n\
         a=control:rtsp://[2001:db8::1]:8554/live/track1\r\n"
    );
}

#[test]
fn every_line_ends_with_crlf() {
    let text = movie().to_sdp().unwrap();
    assert!(text.ends_with("\r\n"));
    assert_eq!(text.matches('\n').count(), text.matches("\r\n").count());
}

#[test]
fn reader_reads_what_the_writer_wrote() {
    let sdp = Sdp::parse(&movie().to_sdp().unwrap()).unwrap();
    let origin = sdp.origin().unwrap();
    assert_eq!(origin.session_id, "3735928559");
    assert_eq!(origin.session_version, "1");
    assert_eq!(origin.address, "127.0.0.1");
    assert_eq!(sdp.session_name(), Some("movie.Mjpeg"));
    assert_eq!(sdp.connection().unwrap().address, "0.0.0.0");
    assert_eq!(sdp.control(), Some("*"));
    let range = sdp.range().unwrap();
    assert_eq!(range.start, Some(NptTime::Seconds(0.0)));
    assert_eq!(range.duration(), Some(25.0));

    let video = sdp.video().unwrap();
    assert_eq!(video.port(), 0);
    assert_eq!(video.protocol(), "RTP/AVP");
    assert_eq!(video.payload_type(), Some(26));
    let map = video.rtpmap().unwrap();
    assert_eq!((map.encoding.as_str(), map.clock_rate), ("JPEG", 90_000));
    assert_eq!(video.framerate(), Some(20.0));
    assert_eq!(
        video.dimensions(),
        Some(Dimensions {
            width: 640,
            height: 480
        })
    );
    let base = "rtsp://127.0.0.1:8554/movie.Mjpeg/";
    assert_eq!(sdp.aggregate_url(base), base);
    assert_eq!(video.control_url(base), format!("{base}track1"));
}

#[test]
fn invalid_fields_are_refused() {
    let mut d = movie();
    d.dimensions = Some(Dimensions {
        width: 0,
        height: 480,
    });
    assert!(matches!(
        d.to_sdp(),
        Err(SdpError::InvalidField {
            field: "dimensions",
            ..
        })
    ));
    let mut d = movie();
    d.clock_rate = 0;
    assert!(matches!(
        d.to_sdp(),
        Err(SdpError::InvalidField {
            field: "clock_rate",
            ..
        })
    ));
    let mut d = movie();
    d.aggregate_control = String::new();
    assert!(matches!(
        d.to_sdp(),
        Err(SdpError::InvalidField {
            field: "aggregate_control",
            ..
        })
    ));
}

proptest! {
    #[test]
    fn round_trip_of_arbitrary_descriptions(
        id in any::<u64>(),
        name in "[ -~]{0,40}",
        millis in proptest::option::of(0u64..100_000_000),
        fps_milli in proptest::option::of(1u32..240_000),
        dims in proptest::option::of((1u32..10_000, 1u32..10_000)),
        pt in 0u8..=127,
    ) {
        let mut d = SessionDescription::new(id, name.clone());
        d.duration = millis.map(Duration::from_millis);
        d.frame_rate = fps_milli.map(|f| f64::from(f) / 1000.0);
        d.dimensions = dims.map(|(width, height)| Dimensions { width, height });
        d.payload_type = pt;
        let sdp = Sdp::parse(&d.to_sdp().unwrap()).unwrap();
        // The reader trims, so compare trimmed names (an empty name is written as " ").
        prop_assert_eq!(sdp.session_name(), Some(name.trim()));
        prop_assert_eq!(sdp.origin().unwrap().session_id.clone(), id.to_string());
        let video = sdp.video().unwrap();
        prop_assert_eq!(video.payload_type(), Some(pt));
        prop_assert_eq!(video.rtpmap().unwrap().clock_rate, 90_000);
        prop_assert_eq!(video.dimensions(), d.dimensions);
        match (video.framerate(), d.frame_rate) {
            (Some(got), Some(want)) => prop_assert!((got - want).abs() < 0.0005),
            (got, want) => prop_assert_eq!(got, want),
        }
        let range = sdp.range().unwrap();
        match millis {
            Some(ms) => {
                let got = range.duration().unwrap();
                prop_assert!((got - ms as f64 / 1000.0).abs() < 0.0005);
            }
            None => prop_assert!(range.is_live()),
        }
    }
}
