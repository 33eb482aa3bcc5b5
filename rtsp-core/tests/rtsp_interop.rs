#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! What FFmpeg, GStreamer and live555 send and need (docs/INTEROP.md section 2), through the
//! parser, the typed headers and the URL helpers.

use std::time::Duration;

use rtsp_core::rtsp::headers::{
    Accept, Cast, ChannelRange, ContentBase, ContentType, NptTime, PortRange, Public, Range,
    RtpInfo, RtpInfoEntry, Session, Transport, TransportProtocol,
};
use rtsp_core::rtsp::url::{join, split_control, RequestUri};
use rtsp_core::rtsp::{
    Dialect, Message, MessageParser, Method, Request, Response, StatusCode, Version,
};

fn requests(bytes: &[u8]) -> Vec<Request> {
    let mut parser = MessageParser::new();
    parser.push(bytes).unwrap();
    parser.end_of_read();
    let mut out = Vec::new();
    while let Some(m) = parser.next().unwrap() {
        match m {
            Message::Request(r) => out.push(r),
            other => panic!("{other:?}"),
        }
    }
    assert!(parser.is_idle());
    out
}

fn response(bytes: &[u8]) -> Response {
    let mut parser = MessageParser::new();
    parser.push(bytes).unwrap();
    match parser.next().unwrap() {
        Some(Message::Response(r)) => r,
        other => panic!("{other:?}"),
    }
}

const GST_UDP: &[u8] = b"OPTIONS rtsp://127.0.0.1:8554/movie RTSP/1.0\r\n\
CSeq: 1\r\n\
User-Agent: GStreamer/1.22.0\r\n\
Date: Thu, 21 Nov 2024 09:54:00 GMT\r\n\
\r\n\
DESCRIBE rtsp://127.0.0.1:8554/movie RTSP/1.0\r\n\
CSeq: 2\r\n\
User-Agent: GStreamer/1.22.0\r\n\
Accept: application/sdp\r\n\
Date: Thu, 21 Nov 2024 09:54:00 GMT\r\n\
\r\n\
SETUP rtsp://127.0.0.1:8554/movie/stream=0 RTSP/1.0\r\n\
CSeq: 3\r\n\
User-Agent: GStreamer/1.22.0\r\n\
Transport: RTP/AVP;unicast;client_port=41234-41235\r\n\
Date: Thu, 21 Nov 2024 09:54:00 GMT\r\n\
\r\n\
PLAY rtsp://127.0.0.1:8554/movie/ RTSP/1.0\r\n\
CSeq: 4\r\n\
User-Agent: GStreamer/1.22.0\r\n\
Range: npt=now-\r\n\
Session: 8fQ3vX0kLmN2pR7s\r\n\
Date: Thu, 21 Nov 2024 09:54:00 GMT\r\n\
\r\n\
PAUSE rtsp://127.0.0.1:8554/movie/ RTSP/1.0\r\n\
CSeq: 5\r\n\
User-Agent: GStreamer/1.22.0\r\n\
Session: 8fQ3vX0kLmN2pR7s\r\n\
Date: Thu, 21 Nov 2024 09:54:00 GMT\r\n\
\r\n\
TEARDOWN rtsp://127.0.0.1:8554/movie/ RTSP/1.0\r\n\
CSeq: 6\r\n\
User-Agent: GStreamer/1.22.0\r\n\
Session: 8fQ3vX0kLmN2pR7s\r\n\
Date: Thu, 21 Nov 2024 09:54:00 GMT\r\n\
\r\n";

#[test]
fn gstreamer_udp_session() {
    let reqs = requests(GST_UDP);
    let methods: Vec<_> = reqs.iter().map(|r| r.method().clone()).collect();
    assert_eq!(
        methods,
        [
            Method::Options,
            Method::Describe,
            Method::Setup,
            Method::Play,
            Method::Pause,
            Method::Teardown
        ]
    );
    assert!(reqs.iter().all(|r| r.dialect() == Dialect::Standard));
    let accept = reqs[1].headers().typed::<Accept>().unwrap().unwrap();
    assert!(accept.accepts("application/sdp"));
    let transport = reqs[2].headers().typed::<Transport>().unwrap().unwrap();
    let spec = transport.first().unwrap();
    assert_eq!(spec.protocol, TransportProtocol::RtpAvp);
    assert_eq!(spec.cast, Some(Cast::Unicast));
    assert_eq!(
        spec.client_port,
        Some(PortRange::pair(41234, 41235).unwrap())
    );
    let setup_url = reqs[2].target().unwrap();
    let control = split_control(setup_url.path().unwrap());
    assert_eq!(
        (control.presentation, control.track),
        ("movie", Some("stream=0"))
    );
    let range = reqs[3].headers().typed::<Range>().unwrap().unwrap();
    assert_eq!((range.start, range.end), (Some(NptTime::Now), None));
    let session = reqs[3].headers().typed::<Session>().unwrap().unwrap();
    assert_eq!(session.id(), "8fQ3vX0kLmN2pR7s");
    // Aggregate URL with trailing slash; `/movie` and `/movie/` are the same presentation.
    for r in &reqs[3..] {
        let target = r.target().unwrap();
        assert_eq!(split_control(target.path().unwrap()).presentation, "movie");
        assert_eq!(split_control(target.path().unwrap()).track, None);
    }
    assert_eq!(
        split_control(reqs[0].target().unwrap().path().unwrap()).presentation,
        "movie"
    );
}

#[test]
fn ffmpeg_transports_and_keepalive() {
    let reqs = requests(
        b"SETUP rtsp://127.0.0.1:8554/movie/track1 RTSP/1.0\r\n\
Transport: RTP/AVP/UDP;unicast;client_port=5000-5001\r\n\
CSeq: 3\r\n\
User-Agent: Lavf59.27.100\r\n\
\r\n\
SETUP rtsp://127.0.0.1:8554/movie/track1 RTSP/1.0\r\n\
Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\
CSeq: 3\r\n\
User-Agent: Lavf59.27.100\r\n\
\r\n\
PLAY rtsp://127.0.0.1:8554/movie/ RTSP/1.0\r\n\
Range: npt=0.000-\r\n\
CSeq: 4\r\n\
User-Agent: Lavf59.27.100\r\n\
Session: 12345678\r\n\
\r\n\
GET_PARAMETER rtsp://127.0.0.1:8554/movie/ RTSP/1.0\r\n\
CSeq: 5\r\n\
User-Agent: Lavf59.27.100\r\n\
Session: 12345678\r\n\
\r\n\
OPTIONS * RTSP/1.0\r\n\
CSeq: 6\r\n\
User-Agent: Lavf59.27.100\r\n\
Session: 12345678\r\n\
\r\n",
    );
    let udp = reqs[0].headers().typed::<Transport>().unwrap().unwrap();
    assert_eq!(udp.0[0].protocol, TransportProtocol::RtpAvpUdp);
    assert!(udp.0[0].protocol.is_rtp_over_udp());
    assert_eq!(udp.0[0].client_port.unwrap().rtcp(), Some(5001));
    let tcp = reqs[1].headers().typed::<Transport>().unwrap().unwrap();
    assert!(tcp.0[0].is_tcp());
    assert_eq!(
        tcp.0[0].interleaved,
        Some(ChannelRange::pair(0, 1).unwrap())
    );
    let range = reqs[2].headers().typed::<Range>().unwrap().unwrap();
    assert_eq!(range.start, Some(NptTime::At(Duration::ZERO)));
    assert_eq!(reqs[3].method(), &Method::GetParameter);
    assert!(reqs[3].body().is_empty());
    assert_eq!(reqs[4].uri(), "*");
    assert_eq!(reqs[4].target().unwrap(), RequestUri::Asterisk);
    assert_eq!(reqs[4].headers().get("session"), Some("12345678"));
}

#[test]
fn live555_starts_at_cseq_2_and_sends_end_time() {
    let reqs = requests(
        b"OPTIONS rtsp://127.0.0.1:8554/movie RTSP/1.0\r\nCSeq: 2\r\nUser-Agent: openRTSP (LIVE555 Streaming Media v2023.01.19)\r\n\r\n\
PLAY rtsp://127.0.0.1:8554/movie/ RTSP/1.0\r\nCSeq: 5\r\nUser-Agent: openRTSP (LIVE555 Streaming Media v2023.01.19)\r\nSession: 12345678\r\nRange: npt=0.000-1.000\r\n\r\n",
    );
    assert_eq!(reqs[0].cseq(), Some(2));
    let range = reqs[1].headers().typed::<Range>().unwrap().unwrap();
    assert_eq!(range.end, Some(NptTime::At(Duration::from_secs(1))));
}

#[test]
fn server_replies_clients_need() {
    // What our server sends back, built with the typed API and read by our client.
    let options = Response::new(StatusCode::OK)
        .with_header("CSeq", 1)
        .unwrap()
        .with_typed(&Public(vec![
            Method::Options,
            Method::Describe,
            Method::Setup,
            Method::Play,
            Method::Pause,
            Method::Teardown,
            Method::GetParameter,
        ]))
        .unwrap();
    let parsed = response(&options.to_bytes(Dialect::Standard));
    assert!(parsed
        .headers()
        .typed::<Public>()
        .unwrap()
        .unwrap()
        .contains(&Method::GetParameter));

    let sdp = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=movie\r\nt=0 0\r\nm=video 0 RTP/AVP 26\r\na=control:track1\r\n";
    let describe = Response::new(StatusCode::OK)
        .with_header("CSeq", 2)
        .unwrap()
        .with_typed(&ContentType::sdp())
        .unwrap()
        .with_typed(&ContentBase::new("rtsp://127.0.0.1:8554/movie/").unwrap())
        .unwrap()
        .with_body(&sdp[..]);
    let bytes = describe.to_bytes(Dialect::Standard);
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains(&format!("\r\nContent-Length: {}\r\n\r\n", sdp.len())));
    let parsed = response(&bytes);
    assert_eq!(parsed.body(), sdp);
    let base = parsed.headers().typed::<ContentBase>().unwrap().unwrap();
    assert_eq!(
        join(base.as_str(), "track1"),
        "rtsp://127.0.0.1:8554/movie/track1"
    );

    let setup = response(
        b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;client_port=41234-41235;server_port=6970-6971;ssrc=3A5F0B12;mode=\"PLAY\"\r\nSession: 8fQ3vX0kLmN2pR7s;timeout=60\r\n\r\n",
    );
    let spec = setup
        .headers()
        .typed::<Transport>()
        .unwrap()
        .unwrap()
        .0
        .remove(0);
    assert_eq!(spec.server_port, Some(PortRange::pair(6970, 6971).unwrap()));
    assert_eq!(spec.ssrc, Some(0x3A5F_0B12));
    let session = setup.headers().typed::<Session>().unwrap().unwrap();
    assert_eq!(session.timeout(), Some(60));

    let play = Response::new(StatusCode::OK)
        .with_header("CSeq", 4)
        .unwrap()
        .with_typed(&Range::starting_at(NptTime::At(Duration::ZERO)))
        .unwrap()
        .with_typed(&RtpInfo(vec![RtpInfoEntry {
            url: "rtsp://127.0.0.1:8554/movie/track1".into(),
            seq: Some(17_000),
            rtptime: Some(123_456_789),
        }]))
        .unwrap()
        .with_typed(&session)
        .unwrap();
    assert_eq!(
        play.to_bytes(Dialect::Standard),
        b"RTSP/1.0 200 OK\r\nCSeq: 4\r\nRange: npt=0.000-\r\nRTP-Info: url=rtsp://127.0.0.1:8554/movie/track1;seq=17000;rtptime=123456789\r\nSession: 8fQ3vX0kLmN2pR7s;timeout=60\r\n\r\n"
    );
}

#[test]
fn error_replies_for_bad_requests() {
    let req = requests(b"OPTIONS * RTSP/2.0\r\nCSeq: 7\r\n\r\n").remove(0);
    assert!(!req.version().is_supported());
    let reply = Response::reply_to(&req, StatusCode::RTSP_VERSION_NOT_SUPPORTED);
    assert_eq!(reply.version(), Version::RTSP_1_0);
    assert_eq!(
        reply.to_bytes(req.dialect()),
        b"RTSP/1.0 505 RTSP Version not supported\r\nCSeq: 7\r\n\r\n"
    );
    for status in [
        StatusCode::SESSION_NOT_FOUND,
        StatusCode::METHOD_NOT_VALID_IN_THIS_STATE,
        StatusCode::UNSUPPORTED_TRANSPORT,
        StatusCode::NOT_IMPLEMENTED,
    ] {
        let bytes = Response::reply_to(&req, status).to_bytes(Dialect::Standard);
        let parsed = response(&bytes);
        assert_eq!(
            (parsed.status(), parsed.reason()),
            (status, status.reason())
        );
    }
}
