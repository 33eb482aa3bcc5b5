#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Whatever a peer sends, the client's sans-I/O parts never panic: arbitrary RTP, RTCP and
//! reply bytes, in any state.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use rtsp_core::client::{ClientSession, MediaReceiver, Request, SetupTransport};
use rtsp_core::rtsp::{Message, MessageParser};

fn requests() -> Vec<Request> {
    vec![
        Request::Options,
        Request::Describe,
        Request::Setup(SetupTransport::Udp {
            rtp_port: 5000,
            rtcp_port: 5001,
        }),
        Request::Setup(SetupTransport::Interleaved { rtp: 0, rtcp: 1 }),
        Request::Setup(SetupTransport::Lab { rtp_port: 5000 }),
        Request::Play(Some(3.5)),
        Request::Play(None),
        Request::Pause,
        Request::GetParameter,
        Request::KeepaliveOptions,
        Request::LabForward,
        Request::Teardown,
    ]
}

/// A reply with an arbitrary status, headers and body, as a server could send it.
fn reply_bytes() -> impl Strategy<Value = Vec<u8>> {
    let header = prop_oneof![
        Just("Session: abc;timeout=0".to_owned()),
        Just("Session: 123456".to_owned()),
        Just("Transport: RTP/AVP/TCP;interleaved=250-255".to_owned()),
        Just("Transport: RTP/AVP;unicast;server_port=65535".to_owned()),
        Just("Range: npt=99999999999999-".to_owned()),
        Just("RTP-Info: url=x;seq=1;rtptime=4294967295".to_owned()),
        Just("Public: GET_PARAMETER".to_owned()),
        Just("Frames: 18446744073709551615".to_owned()),
        Just("Content-Base: rtsp://h/".to_owned()),
        "[A-Za-z-]{1,12}: [ -~]{0,40}",
    ];
    let body = prop_oneof![
        Just(String::new()),
        Just("v=0\r\nm=video 0 RTP/AVP 26\r\na=range:npt=0-1e308\r\na=framerate:-1\r\n".to_owned()),
        Just(
            "v=0\r\nm=video 0 RTP/AVP 26\r\na=range:npt=0-NaN\r\na=control:rtsp://x/y\r\n"
                .to_owned()
        ),
        "[ -~\r\n]{0,200}",
    ];
    (100u16..700, prop::collection::vec(header, 0..6), body).prop_map(|(code, headers, body)| {
        let mut s = format!("RTSP/1.0 {code} X\r\nCSeq: 1\r\n");
        for h in headers {
            s.push_str(&h);
            s.push_str("\r\n");
        }
        s.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        s.into_bytes()
    })
}

proptest! {
    #[test]
    fn media_receiver_takes_any_bytes(packets in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..40)) {
        let t0 = Instant::now();
        for mut rx in [MediaReceiver::standard(t0), MediaReceiver::lab(t0, Duration::from_millis(50))] {
            for (i, p) in packets.iter().enumerate() {
                let now = t0 + Duration::from_millis(i as u64);
                let _ = rx.push_rtp(now, p);
                let _ = rx.push_rtcp(now, p);
                let _ = rx.poll(now);
            }
            let _ = rx.flush(t0 + Duration::from_secs(5));
            let _ = rx.receiver_report(t0 + Duration::from_secs(5));
            let s = rx.stats(t0 + Duration::from_secs(5));
            prop_assert!(s.loss_rate >= 0.0 && s.loss_rate <= 1.0);
        }
    }

    #[test]
    fn sessions_take_any_reply(bytes in reply_bytes(), which in 0usize..12, lab in any::<bool>()) {
        let mut parser = MessageParser::new();
        parser.push(&bytes).unwrap();
        parser.end_of_read();
        let Ok(Some(Message::Response(reply))) = parser.next() else { return Ok(()) };
        let mut session = if lab {
            ClientSession::lab("movie.Mjpeg")
        } else {
            ClientSession::standard("rtsp://127.0.0.1/m", "ua").unwrap()
        };
        // Walk the session through every request; each gets the arbitrary reply.
        for request in requests().into_iter().skip(which) {
            if session.encode(&request).is_ok() {
                let _ = session.is_reply_to_pending(&reply);
                let _ = session.handle_reply(&reply);
            }
            let _ = session.keepalive_interval();
        }
    }
}
