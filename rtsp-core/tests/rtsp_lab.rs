#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The lab dialect over the exact bytes of the lab handout and the lab report (the sample
//! interaction, the DESCRIBE extension and the RTSP/1.4 extension), both directions.

use rtsp_core::rtsp::headers::{CSeq, PortRange, Session, Transport, TransportProtocol};
use rtsp_core::rtsp::url::RequestUri;
use rtsp_core::rtsp::{
    Dialect, LabReply, Message, MessageParser, Method, ParseError, Request, Response, StatusCode,
    Version,
};

/// Feeds each read followed by a read boundary, draining after each.
fn reads(reads: &[&[u8]]) -> Vec<Message> {
    let mut parser = MessageParser::new();
    let mut out = Vec::new();
    for read in reads {
        parser.push(read).unwrap();
        parser.end_of_read();
        while let Some(m) = parser.next().unwrap() {
            out.push(m);
        }
    }
    assert!(parser.is_idle(), "left over: {parser:?}");
    out
}

fn one_request(bytes: &[u8]) -> Request {
    match reads(&[bytes]).as_slice() {
        [Message::Request(r)] => r.clone(),
        other => panic!("{other:?}"),
    }
}

fn one_response(bytes: &[u8]) -> Response {
    match reads(&[bytes]).as_slice() {
        [Message::Response(r)] => r.clone(),
        other => panic!("{other:?}"),
    }
}

/// The sample interaction of the lab handout, as the lab client and server write it.
const CLIENT: [&[u8]; 5] = [
    b"SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 25000",
    b"PLAY movie.Mjpeg RTSP/1.0\nCSeq: 2\nSession: 123456",
    b"PAUSE movie.Mjpeg RTSP/1.0\nCSeq: 3\nSession: 123456",
    b"PLAY movie.Mjpeg RTSP/1.0\nCSeq: 4\nSession: 123456",
    b"TEARDOWN movie.Mjpeg RTSP/1.0\nCSeq: 5\nSession: 123456",
];

fn server_reply(cseq: u32) -> Vec<u8> {
    format!("RTSP/1.0 200 OK\nCSeq: {cseq}\nSession: 123456").into_bytes()
}

#[test]
fn handout_requests_parse_one_per_read() {
    let messages = reads(&CLIENT);
    let expected = [
        Method::Setup,
        Method::Play,
        Method::Pause,
        Method::Play,
        Method::Teardown,
    ];
    assert_eq!(messages.len(), 5);
    for (i, (m, method)) in messages.iter().zip(expected).enumerate() {
        let Message::Request(r) = m else { panic!() };
        assert_eq!(r.method(), &method);
        assert_eq!(r.uri(), "movie.Mjpeg");
        assert_eq!(r.target().unwrap(), RequestUri::Bare("movie.Mjpeg".into()));
        assert_eq!(r.version(), Version::RTSP_1_0);
        assert_eq!(r.cseq(), Some(i as u32 + 1));
        assert_eq!(r.dialect(), Dialect::Lab);
        if i > 0 {
            assert_eq!(
                r.headers().typed::<Session>().unwrap().unwrap().id_number(),
                Some(123456)
            );
        }
    }
    let Message::Request(setup) = &messages[0] else {
        panic!()
    };
    let transport = setup.headers().typed::<Transport>().unwrap().unwrap();
    let spec = transport.first().unwrap();
    assert_eq!(spec.protocol, TransportProtocol::LabRtpUdp);
    assert_eq!(spec.client_port, Some(PortRange::single(25000).unwrap()));
}

#[test]
fn handout_requests_written_byte_exact() {
    let setup = Request::new(Method::Setup, "movie.Mjpeg")
        .unwrap()
        .with_typed(&CSeq(1))
        .unwrap()
        .with_typed(&Transport::single(
            rtsp_core::rtsp::headers::TransportSpec::lab_udp(25000).unwrap(),
        ))
        .unwrap();
    assert_eq!(setup.to_bytes(Dialect::Lab), CLIENT[0]);
    let methods = [Method::Play, Method::Pause, Method::Play, Method::Teardown];
    for (i, method) in methods.into_iter().enumerate() {
        let req = Request::new(method, "movie.Mjpeg")
            .unwrap()
            .with_typed(&CSeq(i as u32 + 2))
            .unwrap()
            .with_typed(&Session::from_number(123456))
            .unwrap();
        assert_eq!(req.to_bytes(Dialect::Lab), CLIENT[i + 1]);
    }
    // Parsed lab requests write back to the same bytes.
    for (bytes, m) in CLIENT.iter().zip(reads(&CLIENT)) {
        let Message::Request(r) = m else { panic!() };
        assert_eq!(r.to_bytes(Dialect::Lab), *bytes);
    }
}

#[test]
fn written_lab_request_survives_the_lab_servers_parsing() {
    // ServerWorker.py: request = data.split('\n'); line1 = request[0].split(' ');
    // seq = request[1].split(' '); rtpPort = request[2].split(' ')[3]
    let setup = one_request(CLIENT[0]);
    let text = String::from_utf8(setup.to_bytes(Dialect::Lab)).unwrap();
    let lines: Vec<&str> = text.split('\n').collect();
    let line1: Vec<&str> = lines[0].split(' ').collect();
    assert_eq!((line1[0], line1[1]), ("SETUP", "movie.Mjpeg"));
    assert_eq!(lines[1].split(' ').nth(1), Some("1"));
    assert_eq!(
        lines[2].split(' ').nth(3).unwrap().parse::<u16>(),
        Ok(25000)
    );
}

#[test]
fn handout_replies_parse_one_per_read() {
    let replies: Vec<Vec<u8>> = (1..=5).map(server_reply).collect();
    let read_slices: Vec<&[u8]> = replies.iter().map(Vec::as_slice).collect();
    let messages = reads(&read_slices);
    assert_eq!(messages.len(), 5);
    for (i, m) in messages.iter().enumerate() {
        let Message::Response(r) = m else { panic!() };
        assert_eq!((r.status(), r.reason()), (StatusCode::OK, "OK"));
        assert_eq!(r.cseq(), Some(i as u32 + 1));
        assert_eq!(r.headers().get("Session"), Some("123456"));
        assert_eq!(r.dialect(), Dialect::Lab);
        assert!(r.body().is_empty());
    }
}

#[test]
fn lab_replies_written_byte_exact() {
    for cseq in 1..=5 {
        assert_eq!(
            LabReply::new(StatusCode::OK, cseq, 123456).to_bytes(),
            server_reply(cseq)
        );
    }
    // What the lab client does with it (Client.py parseRtspReply).
    let reply = LabReply::new(StatusCode::OK, 3, 510307)
        .with_frames(500)
        .to_bytes();
    let text = String::from_utf8(reply).unwrap();
    let lines: Vec<&str> = text.split('\n').collect();
    assert_eq!(lines[0].split(' ').nth(1).unwrap().parse::<u16>(), Ok(200));
    assert_eq!(lines[1].split(' ').nth(1).unwrap().parse::<u32>(), Ok(3));
    assert_eq!(
        lines[2].split(' ').nth(1).unwrap().parse::<u64>(),
        Ok(510307)
    );
    assert_eq!(lines[3], "Frames: 500");
    assert!(!text.ends_with('\n'));
    // A general response in the lab dialect takes the same shape.
    let general = Response::new(StatusCode::OK)
        .with_header("Frames", 500)
        .unwrap()
        .with_typed(&Session::from_number(510307).with_timeout(60))
        .unwrap()
        .with_typed(&CSeq(3))
        .unwrap();
    assert_eq!(general.to_bytes(Dialect::Lab), text.as_bytes());
}

#[test]
fn error_replies_keep_the_shape() {
    let reply = LabReply::new(StatusCode::NOT_FOUND, 1, 0).to_bytes();
    assert_eq!(reply, b"RTSP/1.0 404 Not Found\nCSeq: 1\nSession: 0");
    let parsed = one_response(&reply);
    assert_eq!(
        (parsed.status(), parsed.cseq()),
        (StatusCode::NOT_FOUND, Some(1))
    );
}

/// The report's DESCRIBE extension: the client sends DESCRIBE with Session; some lab
/// clients misspell the header.
#[test]
fn describe_request_with_misspelled_session() {
    for header in ["Session", "Sesssion"] {
        let bytes = format!("DESCRIBE movie.Mjpeg RTSP/1.0\nCSeq: 4\n{header}: 510307");
        let req = one_request(bytes.as_bytes());
        assert_eq!(req.method(), &Method::Describe);
        assert_eq!(req.headers().get("Session"), Some("510307"));
        assert_eq!(
            req.headers().typed::<Session>().unwrap().unwrap().id(),
            "510307"
        );
        // Written back as received.
        assert_eq!(req.to_bytes(Dialect::Lab), bytes.as_bytes());
    }
}

/// The report server's DESCRIBE reply: `"...Session: N" + "\n" + description`, where the
/// description starts with a newline; no Content-Length, ends with a newline. Parsed as it is;
/// ours announces the body's length (see `LabReply`).
const DESCRIBE_REPLY: &[u8] = b"RTSP/1.0 200 OK\nCSeq: 4\nSession: 510307\n\nDESCRIPTION\n\
The video file : movie.Mjpeg\nVideo size = 4.07 MB\nTransport protocol :RTSP\nVersion : 1.0\n\
RTP port :25000\nStreamID =510307\nType of the video : \"video/Mjpeg\"\n";

const DESCRIPTION: &[u8] = b"DESCRIPTION\nThe video file : movie.Mjpeg\nVideo size = 4.07 MB\n\
Transport protocol :RTSP\nVersion : 1.0\nRTP port :25000\nStreamID =510307\n\
Type of the video : \"video/Mjpeg\"\n";

#[test]
fn describe_reply_body_without_content_length() {
    let reply = one_response(DESCRIBE_REPLY);
    assert_eq!(reply.cseq(), Some(4));
    assert_eq!(reply.headers().get("Session"), Some("510307"));
    assert_eq!(reply.headers().len(), 2);
    assert_eq!(reply.body(), DESCRIPTION);
    assert_eq!(reply.dialect(), Dialect::Lab);
    // Ours: the same lines, with the body's length before the blank line.
    let ours = LabReply::new(StatusCode::OK, 4, 510307).with_body(DESCRIPTION);
    let mut expected =
        b"RTSP/1.0 200 OK\nCSeq: 4\nSession: 510307\nContent-Length: 168\n\n".to_vec();
    expected.extend_from_slice(DESCRIPTION);
    assert_eq!(ours.to_bytes(), expected);
    let parsed = one_response(&expected);
    assert_eq!((parsed.headers().len(), parsed.body()), (3, DESCRIPTION));
}

/// The report's merged SETUP+PLAY client writes SETUP and PLAY back to back; read together,
/// the PLAY's request line is glued to the SETUP's last header. Both requests come out whole.
#[test]
fn lab_requests_glued_in_one_read() {
    let glued = [
        CLIENT[0],
        CLIENT[1],
        b"FORWARD movie.Mjpeg RTSP/1.4\nCSeq: 3\nSession: 1",
    ]
    .concat();
    let messages = reads(&[&glued]);
    type Fields = Vec<(String, String)>;
    let summary: Vec<(Method, Option<u32>, Fields)> = messages
        .iter()
        .map(|m| match m {
            Message::Request(r) => (
                r.method().clone(),
                r.cseq(),
                r.headers()
                    .iter()
                    .map(|(n, v)| (n.to_owned(), v.to_owned()))
                    .collect(),
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    let h = |n: &str, v: &str| (n.to_owned(), v.to_owned());
    assert_eq!(
        summary,
        [
            (
                Method::Setup,
                Some(1),
                vec![
                    h("CSeq", "1"),
                    h("Transport", "RTP/UDP; client_port= 25000")
                ]
            ),
            (
                Method::Play,
                Some(2),
                vec![h("CSeq", "2"), h("Session", "123456")]
            ),
            (
                Method::Forward,
                Some(3),
                vec![h("CSeq", "3"), h("Session", "1")]
            ),
        ]
    );
    for m in &messages {
        let Message::Request(r) = m else { panic!() };
        assert_eq!(r.dialect(), Dialect::Lab);
    }
    // Not a glued request: a value that merely ends like one after a space, an unknown
    // method, a message using CR, a response.
    for text in [
        &b"PLAY movie.Mjpeg RTSP/1.0\nCSeq: 2\nX-Note: see PLAY m RTSP/1.0"[..],
        b"PLAY movie.Mjpeg RTSP/1.0\nCSeq: 2\nX-Note: 25000JUMP m RTSP/1.0",
        b"PLAY movie.Mjpeg RTSP/1.0\r\nX-Note: 25000PLAY m RTSP/1.0\r\n\r\n",
        b"RTSP/1.0 200 OK\nCSeq: 2\nX-Note: 25000PLAY m RTSP/1.0",
    ] {
        assert_eq!(
            reads(&[text]).len(),
            1,
            "{:?}",
            String::from_utf8_lossy(text)
        );
    }
}

#[test]
fn describe_reply_body_without_blank_line() {
    // Variant: the description follows the Session line directly; the first line that is
    // not a `Name: value` header starts the body.
    let mut bytes = b"RTSP/1.0 200 OK\nCSeq: 4\nSession: 510307\n".to_vec();
    bytes.extend_from_slice(DESCRIPTION);
    let reply = one_response(&bytes);
    assert_eq!(reply.headers().len(), 2);
    assert_eq!(reply.body(), DESCRIPTION);
    // "Version : 1.0" is not a header (space before the colon), nor is "The video file : x".
    let bytes = b"RTSP/1.0 200 OK\nCSeq: 4\nSession: 1\nVersion : 1.0\nX: y";
    let reply = one_response(bytes);
    assert_eq!(reply.body(), b"Version : 1.0\nX: y");
    // Without a trailing newline too.
    let reply = one_response(b"RTSP/1.0 200 OK\nCSeq: 4\nSession: 1\nDESCRIPTION");
    assert_eq!(reply.body(), b"DESCRIPTION");
}

#[test]
fn lab_body_is_limited() {
    let limits = rtsp_core::rtsp::Limits {
        max_body_len: 16,
        ..Default::default()
    };
    let mut parser = MessageParser::with_limits(limits);
    parser
        .push(b"RTSP/1.0 200 OK\nCSeq: 4\nSession: 1\n\n0123456789")
        .unwrap();
    assert_eq!(parser.next(), Ok(None));
    parser.push(b"0123456789").unwrap();
    assert_eq!(parser.next(), Err(ParseError::BodyTooLarge { limit: 16 }));
}

/// The report's RTSP/1.4 extension: FORWARD, BACKWARD, RESTART and a Frames line.
#[test]
fn rtsp_1_4_extension() {
    let requests: [&[u8]; 3] = [
        b"FORWARD movie.Mjpeg RTSP/1.4\nCSeq: 5\nSession: 123456",
        b"BACKWARD movie.Mjpeg RTSP/1.4\nCSeq: 6\nSession: 123456",
        b"RESTART movie.Mjpeg RTSP/1.4\nCSeq: 7\nSession: 123456",
    ];
    let methods: Vec<Method> = reads(&requests)
        .into_iter()
        .map(|m| match m {
            Message::Request(r) => {
                assert_eq!(r.version(), Version::LAB_1_4);
                assert!(r.method().is_lab_extension());
                r.method().clone()
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        methods,
        [Method::Forward, Method::Backward, Method::Restart]
    );

    let reply = LabReply::new(StatusCode::OK, 1, 123456)
        .with_version(Version::LAB_1_4)
        .with_frames(500)
        .to_bytes();
    assert_eq!(
        reply,
        b"RTSP/1.4 200 OK\nCSeq: 1\nSession: 123456\nFrames: 500"
    );
    let parsed = one_response(&reply);
    assert_eq!(parsed.version(), Version::LAB_1_4);
    assert_eq!(parsed.headers().get("frames"), Some("500"));
}

#[test]
fn no_boundary_no_message() {
    let mut parser = MessageParser::new();
    parser.push(CLIENT[1]).unwrap();
    assert_eq!(parser.next(), Ok(None));
    assert!(!parser.is_idle());
    parser.end_of_read();
    assert!(matches!(parser.next(), Ok(Some(Message::Request(_)))));
    assert_eq!(parser.next(), Ok(None));
}

#[test]
fn split_inside_a_message_without_boundary_is_invisible() {
    // The socket layer only calls end_of_read after each read; splits inside a lab message
    // with no boundary in between must not matter.
    for msg in CLIENT {
        let whole = reads(&[msg]);
        for i in 0..=msg.len() {
            let mut parser = MessageParser::new();
            parser.push(&msg[..i]).unwrap();
            assert_eq!(parser.next(), Ok(None));
            parser.push(&msg[i..]).unwrap();
            parser.end_of_read();
            assert_eq!(
                parser.next().unwrap().as_ref(),
                whole.first(),
                "split at {i}"
            );
            assert_eq!(parser.next(), Ok(None));
        }
    }
}

#[test]
fn boundary_inside_a_message_is_conservative() {
    // A read that ends mid-way through a line that cannot be a complete header keeps the
    // message open; the next read completes it.
    let cuts: [(&[u8], &[u8]); 4] = [
        (b"PLAY movie.Mjpeg RTSP/1.0\nCSeq: 2\nSess", b"ion: 123456"),
        (b"PLAY movie.Mjpeg RTSP/1.0\nCSeq: 2\nSession", b": 123456"),
        (b"PLAY movie.Mjpeg RTSP/1.0", b"\nCSeq: 2\nSession: 123456"),
        (b"PLAY movie.Mjpeg RTSP/1.0\n", b"CSeq: 2\nSession: 123456"),
    ];
    for (first, second) in cuts {
        let messages = reads(&[first, second]);
        assert_eq!(messages.len(), 1, "{:?}", String::from_utf8_lossy(first));
        let Message::Request(r) = &messages[0] else {
            panic!()
        };
        assert_eq!(r.headers().get("Session"), Some("123456"));
    }
}

#[test]
fn boundary_does_not_end_crlf_or_headerless_messages() {
    for pending in [
        &b"OPTIONS * RTSP/1.0\r\nCSeq: 1"[..],
        b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n",
        b"OPTIONS * RTSP/1.0\nCSeq: 1\r",
        b"OPTIONS * RTSP/1.0",
        b"OPTIONS * RTSP/1.0\n",
        b"PLAY movie.Mjpeg RTSP/1.0\nCSeq: 2\nSession",
        b"PLAY movie.Mjpeg RTSP/1.0\nCSeq: 2\n  folded",
        b"ANNOUNCE movie.Mjpeg RTSP/1.0\nCSeq: 2\nContent-Length: 3",
        b"ANNOUNCE movie.Mjpeg RTSP/1.0\nContent-Length: 3\nCSeq: 2",
    ] {
        let mut parser = MessageParser::new();
        parser.push(pending).unwrap();
        parser.end_of_read();
        assert_eq!(
            parser.next(),
            Ok(None),
            "{:?}",
            String::from_utf8_lossy(pending)
        );
    }
}

#[test]
fn lab_request_with_trailing_newline_or_body() {
    let r = one_request(b"PLAY movie.Mjpeg RTSP/1.0\nCSeq: 2\nSession: 123456\n");
    assert_eq!(r.headers().len(), 2);
    let with_body = Request::new(Method::SetParameter, "movie.Mjpeg")
        .unwrap()
        .with_typed(&CSeq(8))
        .unwrap()
        .with_body(&b"a: b"[..]);
    let bytes = with_body.to_bytes(Dialect::Lab);
    assert_eq!(
        bytes,
        b"SET_PARAMETER movie.Mjpeg RTSP/1.0\nCSeq: 8\nContent-Length: 4\n\na: b"
    );
    let parsed = one_request(&bytes);
    assert_eq!(parsed.body(), b"a: b");
}

#[test]
fn push_after_boundary_cancels_it() {
    // Documented contract: the boundary applies to the bytes buffered when end_of_read was
    // called; pushing more before draining merges the reads.
    let mut parser = MessageParser::new();
    parser
        .push(b"PLAY movie.Mjpeg RTSP/1.0\nCSeq: 2\nSession: 1")
        .unwrap();
    parser.end_of_read();
    parser.push(b"23456").unwrap();
    assert_eq!(parser.next(), Ok(None));
    parser.end_of_read();
    let Some(Message::Request(r)) = parser.next().unwrap() else {
        panic!()
    };
    assert_eq!(r.headers().get("Session"), Some("123456"));
}

#[test]
fn lab_and_standard_messages_on_one_connection() {
    let messages = reads(&[
        CLIENT[0],
        b"OPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n",
        CLIENT[1],
        b"$\x01\x00\x02ab",
    ]);
    let dialects: Vec<Option<Dialect>> = messages
        .iter()
        .map(|m| match m {
            Message::Request(r) => Some(r.dialect()),
            _ => None,
        })
        .collect();
    assert_eq!(
        dialects,
        [
            Some(Dialect::Lab),
            Some(Dialect::Standard),
            Some(Dialect::Lab),
            None
        ]
    );
}
