#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The tolerant SDP reader on what real servers send, control URL resolution, and limits.

use rtsp_core::sdp::{
    resolve_control_url, session_base_url, Dimensions, NptTime, Sdp, SdpError, MAX_SDP_LEN,
    MAX_SDP_LINES,
};

/// The minimum all three measured clients accept (docs/INTEROP.md section 3).
const INTEROP_MINIMUM: &str = "v=0\n\
o=- 12345 1 IN IP4 127.0.0.1\n\
s=movie\n\
c=IN IP4 0.0.0.0\n\
t=0 0\n\
a=control:*\n\
m=video 0 RTP/AVP 26\n\
a=rtpmap:26 JPEG/90000\n\
a=control:track1\n";

/// The shape gst-rtsp-server answers for an rtpjpegpay stream.
const GST_RTSP_SERVER: &str = "v=0\r\n\
o=- 1188340656180883 1 IN IP4 192.168.1.20\r\n\
s=Session streamed with GStreamer\r\n\
i=rtsp-server\r\n\
t=0 0\r\n\
a=tool:GStreamer\r\n\
a=type:broadcast\r\n\
a=control:*\r\n\
a=range:npt=now-\r\n\
m=video 0 RTP/AVP 26\r\n\
c=IN IP4 0.0.0.0\r\n\
b=AS:3000\r\n\
a=rtpmap:26 JPEG/90000\r\n\
a=x-dimensions:1920,1080\r\n\
a=framerate:20.000000\r\n\
a=control:stream=0\r\n\
a=ts-refclk:local\r\n\
a=mediaclk:sender\r\n\
a=ssrc:1460386843 cname:user1234@host-5a3b\r\n";

/// A live555-style description: audio first, session-level range, cliprect for the size.
const LIVE555_STYLE: &str = "v=0\r\n\
o=- 1700000000123456 1 IN IP4 10.0.0.5\r\n\
s=MJPEG video, streamed by the LIVE555 Media Server\r\n\
i=movie.mjpeg\r\n\
t=0 0\r\n\
a=tool:LIVE555 Streaming Media v2023.01.19\r\n\
a=type:broadcast\r\n\
a=control:*\r\n\
a=range:npt=0.000-25.000\r\n\
a=x-qt-text-nam:MJPEG video, streamed by the LIVE555 Media Server\r\n\
m=audio 0 RTP/AVP 96\r\n\
c=IN IP4 0.0.0.0\r\n\
a=rtpmap:96 L16/44100/2\r\n\
a=control:track1\r\n\
m=video 0 RTP/AVP 26\r\n\
c=IN IP4 0.0.0.0\r\n\
b=AS:1500\r\n\
a=cliprect:0,0,480,640\r\n\
a=framerate:25\r\n\
a=control:track2\r\n";

#[test]
fn interop_minimum() {
    let sdp = Sdp::parse(INTEROP_MINIMUM).unwrap();
    assert_eq!(sdp.session_name(), Some("movie"));
    assert_eq!(sdp.media().len(), 1);
    let video = sdp.video().unwrap();
    assert_eq!(video.kind(), "video");
    assert_eq!(video.formats(), ["26"]);
    assert_eq!(video.payload_type(), Some(26));
    assert_eq!(video.rtpmap().unwrap().encoding, "JPEG");
    assert_eq!(video.control(), Some("track1"));
    assert_eq!(video.framerate(), None);
    assert_eq!(video.dimensions(), None);
    assert_eq!(sdp.range(), None);
    // c= at session level applies to the media.
    assert_eq!(sdp.connection_for(video).unwrap().address, "0.0.0.0");

    // Content-Base as the server sends it.
    let base = "rtsp://h:8554/movie/";
    assert_eq!(video.control_url(base), "rtsp://h:8554/movie/track1");
    assert_eq!(sdp.aggregate_url(base), "rtsp://h:8554/movie/");
}

#[test]
fn gst_rtsp_server_description() {
    let sdp = Sdp::parse(GST_RTSP_SERVER).unwrap();
    assert_eq!(sdp.origin().unwrap().address, "192.168.1.20");
    assert_eq!(sdp.attribute("tool"), Some("GStreamer"));
    assert_eq!(sdp.attribute("TYPE"), Some("broadcast"));
    let range = sdp.range().unwrap();
    assert_eq!(range.start, Some(NptTime::Now));
    assert!(range.is_live());

    let video = sdp.video().unwrap();
    assert_eq!(video.connection().unwrap().address, "0.0.0.0");
    assert_eq!(video.bandwidths()[0].kind, "AS");
    assert_eq!(video.bandwidths()[0].value, 3000);
    assert_eq!(video.framerate(), Some(20.0));
    assert_eq!(
        video.dimensions(),
        Some(Dimensions {
            width: 1920,
            height: 1080
        })
    );
    // docs/INTEROP.md section 2: SETUP URL = Content-Base + a=control.
    assert_eq!(
        video.control_url("rtsp://h:8554/movie/"),
        "rtsp://h:8554/movie/stream=0"
    );
    assert_eq!(
        video.attribute("ssrc"),
        Some("1460386843 cname:user1234@host-5a3b")
    );
}

#[test]
fn live555_style_description() {
    let sdp = Sdp::parse(LIVE555_STYLE).unwrap();
    assert_eq!(sdp.media().len(), 2);
    let audio = &sdp.media()[0];
    assert_eq!(audio.kind(), "audio");
    let l16 = audio.rtpmap().unwrap();
    assert_eq!(
        (l16.payload_type, l16.clock_rate, l16.params.as_deref()),
        (96, 44_100, Some("2"))
    );

    let video = sdp.video().unwrap();
    assert_eq!(video.control(), Some("track2"));
    assert_eq!(video.rtpmap(), None, "no rtpmap for static PT 26 is fine");
    assert_eq!(video.payload_type(), Some(26));
    assert_eq!(video.framerate(), Some(25.0));
    assert_eq!(
        video.dimensions(),
        Some(Dimensions {
            width: 640,
            height: 480
        })
    );
    assert_eq!(sdp.range().unwrap().duration(), Some(25.0));
    // Request URL as base, without a trailing slash: FFmpeg/live555 rule.
    assert_eq!(
        video.control_url("rtsp://10.0.0.5/movie.mjpeg"),
        "rtsp://10.0.0.5/movie.mjpeg/track2"
    );
}

#[test]
fn framesize_attribute_must_match_the_payload_type() {
    let text = "m=video 0 RTP/AVP 26\na=framesize:96 100-100\na=framesize:26 352-288\n";
    let video = Sdp::parse(text).unwrap().video().unwrap().clone();
    assert_eq!(
        video.dimensions(),
        Some(Dimensions {
            width: 352,
            height: 288
        })
    );
    let bad = "m=video 0 RTP/AVP 26\na=x-dimensions:0,480\na=cliprect:10,10,5,5\n";
    assert_eq!(Sdp::parse(bad).unwrap().video().unwrap().dimensions(), None);
}

#[test]
fn tolerant_of_formatting() {
    // Mixed line ends, blank lines, spaces around '=', no v=, an unknown line type,
    // a junk line, upper-case attribute names, a flag attribute, malformed optional lines.
    let text = "\r\n\
o=- 1 1 IN IP4 127.0.0.1\n\
s = spaced\r\n\
x=unknown type\n\
this line is junk\n\
c=IN IP4\n\
b=AS:fast\n\
\n\
m=video 0 RTP/AVP 26\r\n\
a=RTPMAP:26 JPEG/90000\n\
a=recvonly\n\
a=Control: track1 \n";
    let sdp = Sdp::parse(text).unwrap();
    assert_eq!(sdp.session_name(), Some("spaced"));
    assert_eq!(sdp.connection(), None);
    assert!(sdp.bandwidths().is_empty());
    let video = sdp.video().unwrap();
    assert_eq!(video.rtpmap().unwrap().clock_rate, 90_000);
    assert_eq!(video.attribute("recvonly"), Some(""));
    assert_eq!(video.attribute("sendonly"), None);
    assert_eq!(video.control(), Some("track1"));
}

#[test]
fn media_without_control_uses_the_base() {
    let sdp = Sdp::parse("v=0\nm=video 5004/2 RTP/AVP 26 96\n").unwrap();
    let video = sdp.video().unwrap();
    assert_eq!((video.port(), video.port_count()), (5004, Some(2)));
    assert_eq!(video.formats(), ["26", "96"]);
    assert_eq!(video.control_url("rtsp://h/m"), "rtsp://h/m");
    assert_eq!(sdp.aggregate_url("rtsp://h/m"), "rtsp://h/m");
}

#[test]
fn control_url_rules() {
    // Relative: one slash between base and control, whether or not the base has one.
    assert_eq!(
        resolve_control_url("rtsp://h:554/movie/", "track1"),
        "rtsp://h:554/movie/track1"
    );
    assert_eq!(
        resolve_control_url("rtsp://h:554/movie", "track1"),
        "rtsp://h:554/movie/track1"
    );
    // Absolute, any case of scheme.
    assert_eq!(
        resolve_control_url("rtsp://h/movie/", "rtsp://other:8554/x/stream=0"),
        "rtsp://other:8554/x/stream=0"
    );
    assert_eq!(
        resolve_control_url("rtsp://h/m/", "RTSP://o/t"),
        "RTSP://o/t"
    );
    // Aggregate.
    assert_eq!(resolve_control_url("rtsp://h/m/", "*"), "rtsp://h/m/");
    assert_eq!(resolve_control_url("rtsp://h/m/", " "), "rtsp://h/m/");
    // Absolute path replaces the base's path.
    assert_eq!(
        resolve_control_url("rtsp://h:554/a/b/", "/c/track1"),
        "rtsp://h:554/c/track1"
    );
    // `track=1` and `stream=0` are relative, not schemes.
    assert_eq!(
        resolve_control_url("rtsp://h/m", "stream=0"),
        "rtsp://h/m/stream=0"
    );
}

#[test]
fn base_url_precedence() {
    let req = "rtsp://h/movie";
    assert_eq!(
        session_base_url(Some("rtsp://h/movie/"), Some("rtsp://h/loc/"), req),
        "rtsp://h/movie/"
    );
    assert_eq!(
        session_base_url(None, Some("rtsp://h/loc/"), req),
        "rtsp://h/loc/"
    );
    assert_eq!(session_base_url(Some("  "), None, req), req);
    assert_eq!(session_base_url(None, None, req), req);
}

#[test]
fn typed_errors() {
    assert_eq!(
        Sdp::parse("<html><body>404</body></html>"),
        Err(SdpError::NotSdp)
    );
    assert_eq!(Sdp::parse(""), Err(SdpError::NotSdp));
    assert_eq!(
        Sdp::parse("v=1\ns=x\n"),
        Err(SdpError::UnsupportedVersion { line: 1 })
    );
    assert_eq!(
        Sdp::parse("v=0\ns=x\nm=video 0 RTP/AVP\n"),
        Err(SdpError::BadMediaLine { line: 3 })
    );
    assert_eq!(
        Sdp::parse("v=0\nm=video port RTP/AVP 26\n"),
        Err(SdpError::BadMediaLine { line: 2 })
    );
    assert_eq!(
        Sdp::parse("v=0\nm=video 70000 RTP/AVP 26\n"),
        Err(SdpError::BadMediaLine { line: 2 })
    );
    assert_eq!(Sdp::parse_bytes(b"v=0\ns=\xFF\n"), Err(SdpError::NotUtf8));
    assert!(Sdp::parse_bytes(INTEROP_MINIMUM.as_bytes()).is_ok());
}

#[test]
fn limits() {
    let big = format!("v=0\na=x:{}\n", "y".repeat(MAX_SDP_LEN));
    assert!(matches!(Sdp::parse(&big), Err(SdpError::TooLarge { .. })));
    assert!(matches!(
        Sdp::parse_bytes(big.as_bytes()),
        Err(SdpError::TooLarge { .. })
    ));
    let many = "a=x\n".repeat(MAX_SDP_LINES + 1);
    assert_eq!(
        Sdp::parse(&many),
        Err(SdpError::TooManyLines {
            limit: MAX_SDP_LINES
        })
    );
    let just_enough = "a=x\r\n".repeat(MAX_SDP_LINES);
    assert_eq!(
        Sdp::parse(&just_enough).unwrap().attributes().len(),
        MAX_SDP_LINES
    );
}
