#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Framing tests for `MessageParser` over real byte streams (standard dialect, interleaved
//! frames, limits and errors). Lab-dialect framing is in `rtsp_lab.rs`.

use rtsp_core::rtsp::{
    Dialect, ErrorContext, Limits, Message, MessageParser, Method, ParseError, StatusCode, Version,
};

/// Pushes `chunks` one by one, draining after each; optionally declares a read boundary after
/// every chunk. Stops at the first error, which is returned as the last element.
fn run(chunks: &[&[u8]], boundaries: bool) -> (Vec<Message>, Option<ParseError>) {
    let mut parser = MessageParser::new();
    let mut out = Vec::new();
    for chunk in chunks {
        if let Err(e) = parser.push(chunk) {
            return (out, Some(e));
        }
        if boundaries {
            parser.end_of_read();
        }
        loop {
            match parser.next() {
                Ok(Some(m)) => out.push(m),
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
        }
    }
    (out, None)
}

fn parse_all(bytes: &[u8]) -> Vec<Message> {
    let (messages, error) = run(&[bytes], false);
    assert_eq!(error, None);
    messages
}

fn request(m: &Message) -> &rtsp_core::rtsp::Request {
    match m {
        Message::Request(r) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn response(m: &Message) -> &rtsp_core::rtsp::Response {
    match m {
        Message::Response(r) => r,
        other => panic!("expected a response, got {other:?}"),
    }
}

/// Same result for every split into two chunks, for byte-by-byte feeding, and with a read
/// boundary declared after every chunk (CRLF traffic must not care).
fn assert_split_invariant(stream: &[u8]) -> Vec<Message> {
    split_invariant(stream, &[false, true])
}

fn split_invariant(stream: &[u8], boundary_modes: &[bool]) -> Vec<Message> {
    let whole = run(&[stream], false);
    for &boundaries in boundary_modes {
        for i in 0..=stream.len() {
            let split = run(&[&stream[..i], &stream[i..]], boundaries);
            assert_eq!(split, whole, "split at {i} (boundaries: {boundaries})");
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(
            run(&bytes, boundaries),
            whole,
            "byte by byte (boundaries: {boundaries})"
        );
    }
    assert_eq!(whole.1, None);
    whole.0
}

fn rtp_packet(seq: u16, len: usize) -> Vec<u8> {
    let mut p = vec![
        0x80,
        26,
        (seq >> 8) as u8,
        seq as u8,
        0,
        0,
        0x11,
        0x94,
        1,
        2,
        3,
        4,
    ];
    p.extend((0..len).map(|i| (i * 7 + usize::from(seq)) as u8));
    p
}

fn interleave(channel: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    rtsp_core::rtsp::write_interleaved(channel, payload, &mut out).unwrap();
    out
}

const FFMPEG_SESSION: &[u8] = b"OPTIONS rtsp://127.0.0.1:8554/movie RTSP/1.0\r\n\
CSeq: 1\r\n\
User-Agent: Lavf59.27.100\r\n\
\r\n\
DESCRIBE rtsp://127.0.0.1:8554/movie RTSP/1.0\r\n\
Accept: application/sdp\r\n\
CSeq: 2\r\n\
User-Agent: Lavf59.27.100\r\n\
\r\n\
SETUP rtsp://127.0.0.1:8554/movie/track1 RTSP/1.0\r\n\
Transport: RTP/AVP/UDP;unicast;client_port=5000-5001\r\n\
CSeq: 3\r\n\
User-Agent: Lavf59.27.100\r\n\
\r\n\
PLAY rtsp://127.0.0.1:8554/movie/ RTSP/1.0\r\n\
Range: npt=0.000-\r\n\
CSeq: 4\r\n\
User-Agent: Lavf59.27.100\r\n\
Session: 5F3A9C01\r\n\
\r\n";

#[test]
fn pipelined_standard_requests_at_every_split() {
    let messages = assert_split_invariant(FFMPEG_SESSION);
    let methods: Vec<_> = messages
        .iter()
        .map(|m| request(m).method().clone())
        .collect();
    assert_eq!(
        methods,
        [
            Method::Options,
            Method::Describe,
            Method::Setup,
            Method::Play
        ]
    );
    for (i, m) in messages.iter().enumerate() {
        let r = request(m);
        assert_eq!(r.cseq(), Some(i as u32 + 1));
        assert_eq!(r.dialect(), Dialect::Standard);
        assert_eq!(r.version(), Version::RTSP_1_0);
        assert!(r.body().is_empty());
    }
    assert_eq!(
        request(&messages[3]).headers().get("session"),
        Some("5F3A9C01")
    );
    assert_eq!(
        request(&messages[2]).uri(),
        "rtsp://127.0.0.1:8554/movie/track1"
    );
}

#[test]
fn interleaved_frames_between_replies_at_every_split() {
    // Server to client over TCP: RTP on channel 0 around the GET_PARAMETER reply, RTCP SR on 1.
    let mut stream = Vec::new();
    stream.extend(interleave(0, &rtp_packet(1, 40)));
    stream.extend(interleave(0, &rtp_packet(2, 3)));
    stream.extend_from_slice(b"RTSP/1.0 200 OK\r\nCSeq: 5\r\nSession: 5F3A9C01\r\n\r\n");
    stream.extend(interleave(1, &[0x80, 200, 0, 6, 1, 2, 3, 4]));
    stream.extend(interleave(0, b""));
    stream
        .extend_from_slice(b"RTSP/1.0 200 OK\r\nCSeq: 6\r\nContent-Length: 4\r\n\r\n$\x00\x00\x01");
    stream.extend(interleave(7, &rtp_packet(3, 100)));
    let messages = assert_split_invariant(&stream);
    assert_eq!(messages.len(), 7);
    let Message::Interleaved(first) = &messages[0] else {
        panic!()
    };
    assert_eq!(
        (first.channel(), first.payload()),
        (0, &rtp_packet(1, 40)[..])
    );
    assert_eq!(response(&messages[2]).cseq(), Some(5));
    let Message::Interleaved(rtcp) = &messages[3] else {
        panic!()
    };
    assert_eq!(rtcp.channel(), 1);
    let Message::Interleaved(empty) = &messages[4] else {
        panic!()
    };
    assert!(empty.payload().is_empty());
    // A body that starts with '$' is body, not a frame.
    assert_eq!(response(&messages[5]).body(), b"$\x00\x00\x01");
    let Message::Interleaved(last) = &messages[6] else {
        panic!()
    };
    assert_eq!(last.channel(), 7);
}

#[test]
fn client_rtcp_before_teardown() {
    // gst and live555 send RTCP receiver reports on channel 1 over the RTSP connection.
    let mut stream = interleave(1, &[0x81, 201, 0, 7, 0xde, 0xad, 0xbe, 0xef]);
    stream.extend_from_slice(&[0u8; 24]);
    let len = stream.len() - 4;
    stream[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    stream.extend_from_slice(
        b"TEARDOWN rtsp://127.0.0.1:8554/movie/ RTSP/1.0\r\nCSeq: 6\r\nSession: 5F3A9C01\r\n\r\n",
    );
    let messages = assert_split_invariant(&stream);
    let Message::Interleaved(rr) = &messages[0] else {
        panic!()
    };
    assert_eq!((rr.channel(), rr.payload().len()), (1, 32));
    assert_eq!(request(&messages[1]).method(), &Method::Teardown);
}

#[test]
fn maximal_interleaved_frame() {
    let payload = vec![0xAB; 65535];
    let stream = interleave(3, &payload);
    let messages = parse_all(&stream);
    let Message::Interleaved(frame) = &messages[0] else {
        panic!()
    };
    assert_eq!(frame.payload(), &payload[..]);
    // Fed in 1000-byte reads, it is still one frame.
    let chunks: Vec<&[u8]> = stream.chunks(1000).collect();
    assert_eq!(run(&chunks, true).0, messages);
}

#[test]
fn bodies_by_content_length() {
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=movie\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\na=control:*\r\nm=video 0 RTP/AVP 26\r\na=rtpmap:26 JPEG/90000\r\na=control:track1\r\n";
    let stream = format!(
        "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Base: rtsp://127.0.0.1:8554/movie/\r\nContent-Length: {}\r\n\r\n{sdp}RTSP/1.0 200 OK\r\nCSeq: 3\r\n\r\n",
        sdp.len()
    );
    let messages = assert_split_invariant(stream.as_bytes());
    assert_eq!(messages.len(), 2);
    let describe = response(&messages[0]);
    assert_eq!(describe.body(), sdp.as_bytes());
    assert_eq!(describe.status(), StatusCode::OK);
    assert_eq!(describe.reason(), "OK");
    assert_eq!(describe.dialect(), Dialect::Standard);
    assert_eq!(response(&messages[1]).cseq(), Some(3));
}

#[test]
fn equal_duplicate_content_lengths_are_accepted() {
    let messages = parse_all(b"SET_PARAMETER rtsp://h/m RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc");
    assert_eq!(request(&messages[0]).body(), b"abc");
}

/// RFC 2326 section 4: "Lines are terminated by CRLF, but receivers should be prepared to also
/// interpret CR and LF by themselves as line terminators." A standard message may use any of
/// them: the terminator does not make it a lab message.
#[test]
fn bare_lf_and_blank_line_is_a_standard_message() {
    // Read boundaries would end the bare-LF message early (that is the lab rule), so only
    // splits without boundaries are compared.
    let stream = b"OPTIONS * RTSP/1.0\nCSeq: 1\n\nOPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n";
    let messages = split_invariant(stream, &[false]);
    assert_eq!(messages.len(), 2);
    assert_eq!(request(&messages[0]).dialect(), Dialect::Standard);
    assert_eq!(request(&messages[1]).dialect(), Dialect::Standard);
}

/// Section 4 with CR alone: lines, the blank line and bodies, mixed with CRLF and LF, however
/// the stream is split into reads (a CR ending a read whose LF comes in the next is one CRLF,
/// not a line end followed by an empty line).
#[test]
fn bare_cr_ends_lines_too() {
    let stream = b"OPTIONS * RTSP/1.0\rCSeq: 1\r\r\
SET_PARAMETER rtsp://h/m RTSP/1.0\rCSeq: 2\rContent-Length: 4\r\rabcd\
GET_PARAMETER rtsp://h/m RTSP/1.0\r\nCSeq: 3\nSession: 7\r\r\n\
RTSP/1.0 200 OK\rCSeq: 4\rContent-Length: 2\r\r\nok\
OPTIONS * RTSP/1.0\r\nCSeq: 5\r\n\r\n";
    let messages = assert_split_invariant(stream);
    assert_eq!(messages.len(), 5);
    let cseqs: Vec<Option<u32>> = messages
        .iter()
        .map(|m| match m {
            Message::Request(r) => r.cseq(),
            Message::Response(r) => r.cseq(),
            Message::Interleaved(_) => None,
        })
        .collect();
    assert_eq!(cseqs, [Some(1), Some(2), Some(3), Some(4), Some(5)]);
    assert_eq!(request(&messages[1]).body(), b"abcd");
    assert_eq!(request(&messages[2]).headers().get("Session"), Some("7"));
    assert_eq!(response(&messages[3]).body(), b"ok");
    for m in &messages {
        if let Message::Request(r) = m {
            assert_eq!(r.dialect(), Dialect::Standard);
        }
    }
}

/// A CRLF split by a read boundary: at the boundary the CR ends the line (the peer may well
/// use CR alone), and the LF that arrives next belongs to it.
#[test]
fn crlf_split_at_a_read_boundary_is_one_line_end() {
    let reads: [&[u8]; 4] = [
        b"SET_PARAMETER rtsp://h/m RTSP/1.0\r",
        b"\nCSeq: 1\r\nContent-Length: 3\r\n\r",
        b"\nabc",
        b"OPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n",
    ];
    let (messages, error) = run(&reads, true);
    assert_eq!(error, None);
    assert_eq!(messages.len(), 2);
    assert_eq!(request(&messages[0]).body(), b"abc");
    assert_eq!(request(&messages[1]).cseq(), Some(2));
}

#[test]
fn dialect_signs() {
    let cases: [(&[u8], Dialect); 6] = [
        (b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n", Dialect::Standard),
        (
            b"PLAY rtsp://h/m/ RTSP/1.0\r\nCSeq: 1\r\n\r\n",
            Dialect::Standard,
        ),
        (
            b"PLAY movie.Mjpeg RTSP/1.0\r\nCSeq: 1\r\n\r\n",
            Dialect::Lab,
        ),
        (
            b"FORWARD rtsp://h/m RTSP/1.4\r\nCSeq: 1\r\n\r\n",
            Dialect::Lab,
        ),
        (b"OPTIONS * RTSP/1.0\r\nCSeq: 1\n\r\n", Dialect::Standard),
        (b"OPTIONS * RTSP/1.0\rCSeq: 1\r\r\n", Dialect::Standard),
    ];
    for (bytes, dialect) in cases {
        let messages = parse_all(bytes);
        assert_eq!(
            request(&messages[0]).dialect(),
            dialect,
            "{:?}",
            String::from_utf8_lossy(bytes)
        );
    }
    let messages = parse_all(b"RTSP/1.4 200 OK\r\nCSeq: 1\r\n\r\n");
    assert_eq!(response(&messages[0]).dialect(), Dialect::Lab);
}

#[test]
fn tolerated_variations() {
    let stream = b"\r\n\r\n\nOPTIONS  *\tRTSP/1.0\r\ncseq:3\r\nX-Folded: first\r\n  second\r\n\tthird\r\nEmpty:\r\n\r\nRTSP/1.0 454\r\nCSeq: 4\r\n\r\n";
    let messages = assert_split_invariant(stream);
    let options = request(&messages[0]);
    assert_eq!(options.uri(), "*");
    assert_eq!(options.cseq(), Some(3));
    assert_eq!(
        options.headers().get("x-folded"),
        Some("first second third")
    );
    assert_eq!(options.headers().get("Empty"), Some(""));
    let not_found = response(&messages[1]);
    assert_eq!(
        (not_found.status(), not_found.reason()),
        (StatusCode::SESSION_NOT_FOUND, "")
    );
}

#[test]
fn unknown_methods_and_versions_parse_for_the_server_to_answer() {
    let messages = parse_all(
        b"play rtsp://h/m RTSP/1.0\r\nCSeq: 1\r\n\r\nOPTIONS * RTSP/2.0\r\nCSeq: 2\r\n\r\n",
    );
    assert_eq!(
        request(&messages[0]).method(),
        &Method::Extension("play".into())
    );
    let v2 = request(&messages[1]).version();
    assert_eq!((v2.major(), v2.minor(), v2.is_supported()), (2, 0, false));
}

fn first_error(bytes: &[u8]) -> ParseError {
    let (_, error) = run(&[bytes], false);
    error.unwrap_or_else(|| panic!("no error for {:?}", String::from_utf8_lossy(bytes)))
}

#[test]
fn malformed_heads() {
    let cases: [(&[u8], ParseError); 12] = [
        (b"OPTIONS *\r\n\r\n", ParseError::InvalidRequestLine),
        (
            b"OPTIONS * RTSP/1.0 extra\r\n\r\n",
            ParseError::InvalidRequestLine,
        ),
        (
            b"PL@Y * RTSP/1.0\r\n\r\n",
            ParseError::InvalidMethod("PL@Y".into()),
        ),
        (
            b"OPTIONS * HTTP/1.1\r\n\r\n",
            ParseError::InvalidVersion("HTTP/1.1".into()),
        ),
        (
            b"OPTIONS * RTSP/x.y\r\n\r\n",
            ParseError::InvalidVersion("RTSP/x.y".into()),
        ),
        (b"RTSP/1.0 20 OK\r\n\r\n", ParseError::InvalidStatusLine),
        (b"RTSP/1.0 2000 OK\r\n\r\n", ParseError::InvalidStatusLine),
        (b"RTSP/1.0\r\n\r\n", ParseError::InvalidStatusLine),
        (
            b"OPTIONS * RTSP/1.0\r\nno colon here\r\n\r\n",
            ParseError::InvalidHeaderLine,
        ),
        (
            b"OPTIONS * RTSP/1.0\r\nCSeq : 1\r\n\r\n",
            ParseError::InvalidHeaderLine,
        ),
        (
            b"OPTIONS * RTSP/1.0\r\nX: \xff\xfe\r\n\r\n",
            ParseError::InvalidUtf8,
        ),
        (
            b"OPTIONS * RTSP/1.0\r\nX: a\x00b\r\n\r\n",
            ParseError::ControlCharacter,
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(
            first_error(bytes),
            expected,
            "{:?}",
            String::from_utf8_lossy(bytes)
        );
    }
    assert_eq!(
        first_error(b"OPTIONS * RTSP/1.0\r\n folded first\r\n\r\n"),
        ParseError::InvalidHeaderLine
    );
    // A CR alone ends a line (RFC 2326 section 4): `b` is a line of its own, and no header.
    assert_eq!(
        first_error(b"OPTIONS * RTSP/1.0\r\nX: a\rb\r\n\r\n"),
        ParseError::InvalidHeaderLine
    );
}

#[test]
fn statuses_for_errors() {
    assert_eq!(
        ParseError::InvalidVersion("HTTP/1.1".into()).status(),
        StatusCode::RTSP_VERSION_NOT_SUPPORTED
    );
    assert_eq!(
        ParseError::BodyTooLarge { limit: 1 }.status(),
        StatusCode::REQUEST_ENTITY_TOO_LARGE
    );
    assert_eq!(
        ParseError::BufferFull { limit: 1 }.status(),
        StatusCode::REQUEST_ENTITY_TOO_LARGE
    );
    assert_eq!(
        ParseError::StartLineTooLong { limit: 1 }.status(),
        StatusCode::REQUEST_URI_TOO_LARGE
    );
    assert_eq!(
        ParseError::InvalidHeaderLine.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        ParseError::TooManyHeaders { limit: 1 }.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        ParseError::ConflictingContentLength.status(),
        StatusCode::BAD_REQUEST
    );
}

#[test]
fn absurd_content_lengths() {
    let limit = Limits::default().max_body_len;
    let head = |cl: &str| {
        format!("ANNOUNCE rtsp://h/m RTSP/1.0\r\nCSeq: 1\r\nContent-Length: {cl}\r\n\r\n")
    };
    for (cl, expected) in [
        ("9223372036854775808", ParseError::BodyTooLarge { limit }),
        ("18446744073709551615", ParseError::BodyTooLarge { limit }),
        ("65537", ParseError::BodyTooLarge { limit }),
        (
            "18446744073709551616",
            ParseError::InvalidContentLength("18446744073709551616".into()),
        ),
        ("-1", ParseError::InvalidContentLength("-1".into())),
        ("abc", ParseError::InvalidContentLength("abc".into())),
        ("1e3", ParseError::InvalidContentLength("1e3".into())),
        ("+5", ParseError::InvalidContentLength("+5".into())),
        ("", ParseError::InvalidContentLength("".into())),
        ("5, 5", ParseError::InvalidContentLength("5, 5".into())),
    ] {
        assert_eq!(
            first_error(head(cl).as_bytes()),
            expected,
            "Content-Length: {cl}"
        );
    }
    let conflicting =
        b"ANNOUNCE rtsp://h/m RTSP/1.0\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd";
    assert_eq!(
        first_error(conflicting),
        ParseError::ConflictingContentLength
    );
    // The limit itself is fine, and the error comes before any body byte arrives.
    let at_limit = format!("{}{}", head(&limit.to_string()), "x".repeat(limit));
    assert_eq!(
        request(&parse_all(at_limit.as_bytes())[0]).body().len(),
        limit
    );
}

#[test]
fn line_length_limits() {
    let limit = Limits::default().max_line_len;
    let long_uri = format!("DESCRIBE rtsp://h/{} RTSP/1.0", "a".repeat(limit));
    let stream = format!("{long_uri}\r\nCSeq: 1\r\n\r\n");
    let error = first_error(stream.as_bytes());
    assert_eq!(error, ParseError::StartLineTooLong { limit });
    assert_eq!(error.status(), StatusCode::REQUEST_URI_TOO_LARGE);

    // Without any line end the error still comes as soon as the limit is passed.
    let mut parser = MessageParser::new();
    parser.push(&vec![b'A'; limit + 1]).unwrap();
    assert_eq!(parser.next(), Ok(None));
    parser.push(b"A").unwrap();
    assert_eq!(parser.next(), Err(ParseError::StartLineTooLong { limit }));

    let exact = format!("OPTIONS * RTSP/1.0\r\nX: {}\r\n\r\n", "v".repeat(limit - 3));
    assert_eq!(parse_all(exact.as_bytes()).len(), 1);
    let over = format!("OPTIONS * RTSP/1.0\r\nX: {}\r\n\r\n", "v".repeat(limit - 2));
    assert_eq!(
        first_error(over.as_bytes()),
        ParseError::HeaderLineTooLong { limit }
    );
    let mut parser = MessageParser::new();
    parser.push(b"OPTIONS * RTSP/1.0\r\nX: ").unwrap();
    parser.push(&vec![b'v'; limit]).unwrap();
    assert_eq!(parser.next(), Err(ParseError::HeaderLineTooLong { limit }));
}

#[test]
fn header_count_and_head_size_limits() {
    let limits = Limits::default();
    let with_headers = |n: usize| {
        let mut s = String::from("OPTIONS * RTSP/1.0\r\n");
        for i in 0..n {
            s.push_str(&format!("X-{i}: {i}\r\n"));
        }
        s.push_str("\r\n");
        s
    };
    assert_eq!(
        request(&parse_all(with_headers(64).as_bytes())[0])
            .headers()
            .len(),
        64
    );
    assert_eq!(
        first_error(with_headers(65).as_bytes()),
        ParseError::TooManyHeaders {
            limit: limits.max_headers
        }
    );

    let small = Limits {
        max_head_len: 40,
        ..Limits::default()
    };
    let mut parser = MessageParser::with_limits(small);
    parser
        .push(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Long: 0123456789\r\n\r\n")
        .unwrap();
    assert_eq!(parser.next(), Err(ParseError::HeadTooLarge { limit: 40 }));
}

#[test]
fn buffer_limit() {
    let limits = Limits {
        max_buffered: 100,
        ..Limits::default()
    };
    let mut parser = MessageParser::with_limits(limits);
    parser.push(&[b'$', 0, 0, 200]).unwrap();
    parser.push(&[0; 90]).unwrap();
    assert_eq!(parser.next(), Ok(None));
    assert_eq!(
        parser.push(&[0; 7]),
        Err(ParseError::BufferFull { limit: 100 })
    );
    assert!(parser.is_failed());
}

#[test]
fn errors_are_final_and_carry_context() {
    let mut parser = MessageParser::new();
    parser
        .push(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\nSETUP movie.Mjpeg RTSP/1.0\r\nCSeq: 9\r\nContent-Length: x\r\n\r\n")
        .unwrap();
    assert!(matches!(parser.next(), Ok(Some(Message::Request(_)))));
    let error = parser.next().unwrap_err();
    assert_eq!(error, ParseError::InvalidContentLength("x".into()));
    assert_eq!(
        parser.error_context(),
        Some(ErrorContext {
            cseq: Some(9),
            dialect: Dialect::Lab
        })
    );
    assert_eq!(parser.next(), Err(error.clone()));
    assert_eq!(parser.push(b"OPTIONS * RTSP/1.0\r\n\r\n"), Err(error));
    assert_eq!(parser.buffered_len(), 0);

    let mut parser = MessageParser::new();
    parser.push(b"OPTIONS * HTTP/1.0\r\n\r\n").unwrap();
    assert!(parser.next().is_err());
    assert_eq!(
        parser.error_context(),
        Some(ErrorContext {
            cseq: None,
            dialect: Dialect::Standard
        })
    );
}

#[test]
fn idle_and_buffered_state() {
    let mut parser = MessageParser::new();
    assert!(parser.is_idle());
    parser.push(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n").unwrap();
    assert_eq!(parser.next(), Ok(None));
    assert!(!parser.is_idle());
    parser.push(b"\r\n$\x00").unwrap();
    assert!(matches!(parser.next(), Ok(Some(Message::Request(_)))));
    assert_eq!(parser.next(), Ok(None));
    assert_eq!(parser.buffered_len(), 2);
    assert!(!parser.is_idle());
    parser.push(b"\x00\x00").unwrap();
    assert!(matches!(parser.next(), Ok(Some(Message::Interleaved(_)))));
    assert!(parser.is_idle());
}

#[test]
fn large_pipelined_stream_is_linear_enough() {
    // 2000 pipelined requests in 1-byte pushes: quadratic rescanning would be noticeable.
    let one = b"GET_PARAMETER rtsp://127.0.0.1:8554/movie/ RTSP/1.0\r\nCSeq: 1\r\nSession: 5F3A9C01\r\n\r\n";
    let stream: Vec<u8> = one.iter().copied().cycle().take(one.len() * 2000).collect();
    let chunks: Vec<&[u8]> = stream.chunks(1).collect();
    let (messages, error) = run(&chunks, false);
    assert_eq!((messages.len(), error), (2000, None));
}
