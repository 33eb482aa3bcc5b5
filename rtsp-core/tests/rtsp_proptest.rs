#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property tests: writer -> parser round trips, chunking independence, and arbitrary bytes.

use std::fmt::Debug;

use proptest::prelude::*;
use rtsp_core::rtsp::headers::{
    Accept, CSeq, ContentBase, ContentLength, ContentType, Header, Public, Range, RtpInfo, Scale,
    Session, Transport,
};
use rtsp_core::rtsp::url::RequestUri;
use rtsp_core::rtsp::{
    Dialect, Headers, Interleaved, LabReply, Limits, Message, MessageParser, Method, Request,
    Response, StatusCode, Version,
};

/// Feeds `bytes` cut at `cuts` (sorted offsets), declaring a boundary after every chunk if
/// asked and always at the very end; collects items until the first error.
fn feed(bytes: &[u8], cuts: &[usize], boundaries: bool, limits: Limits) -> (Vec<Message>, bool) {
    let mut parser = MessageParser::with_limits(limits);
    let mut out = Vec::new();
    let mut offsets: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    offsets.sort_unstable();
    offsets.push(bytes.len());
    let mut start = 0;
    for (i, &end) in offsets.iter().enumerate() {
        if parser.push(&bytes[start..end]).is_err() {
            return (out, true);
        }
        start = end;
        if boundaries || i + 1 == offsets.len() {
            parser.end_of_read();
        }
        loop {
            match parser.next() {
                Ok(Some(m)) => out.push(m),
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    (out, false)
}

/// Whether a header value ends like a request line (`... <method> <uri> RTSP/x.y`): in a
/// bare-LF request it may read as a second lab request glued to the first (see
/// `MessageParser`), so such requests do not round-trip in the lab dialect.
fn glued_request_in(h: &Headers) -> bool {
    h.iter().any(|(_, v)| {
        let words: Vec<&str> = v.split(' ').collect();
        words.len() >= 3 && words.last().is_some_and(|w| w.starts_with("RTSP/"))
    })
}

fn without_content_length(h: &Headers) -> Vec<(String, String)> {
    h.iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("Content-Length"))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        proptest::sample::select(
            [
                "OPTIONS",
                "DESCRIBE",
                "SETUP",
                "PLAY",
                "PAUSE",
                "TEARDOWN",
                "GET_PARAMETER",
                "SET_PARAMETER",
                "ANNOUNCE",
                "RECORD",
                "REDIRECT",
                "FORWARD",
                "BACKWARD",
                "RESTART",
            ]
            .as_slice()
        )
        .prop_map(|m| Method::from_token(m).unwrap()),
        "[A-Za-z][A-Za-z0-9_.!-]{0,12}".prop_map(|m| Method::from_token(&m).unwrap()),
    ]
}

fn uri() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_owned()),
        "rtsp://[a-z0-9.]{1,12}(:[0-9]{1,5})?(/[A-Za-z0-9._=%-]{0,10}){0,3}/?",
        "[A-Za-z0-9._/%-]{1,20}",
    ]
}

fn version() -> impl Strategy<Value = Version> {
    prop_oneof![
        Just(Version::RTSP_1_0),
        Just(Version::LAB_1_4),
        (0u16..1000, 0u16..1000).prop_map(|(a, b)| Version::new(a, b)),
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = "[A-Za-z][A-Za-z0-9_-]{0,15}".prop_filter("the writer owns Content-Length", |n| {
        !n.eq_ignore_ascii_case("content-length")
    });
    let value = prop_oneof!["[ -~]{0,30}", "[^\\x00-\\x1f\\x7f]{0,12}"];
    proptest::collection::vec((name, value), 0..8)
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        proptest::collection::vec(any::<u8>(), 1..300)
    ]
}

fn build_request(m: Method, u: &str, v: Version, hs: &[(String, String)], b: Vec<u8>) -> Request {
    let mut r = Request::new(m, u).unwrap().with_version(v).with_body(b);
    for (n, val) in hs {
        r.headers_mut().append(n, val).unwrap();
    }
    r
}

fn assert_same_request(parsed: &Request, sent: &Request) -> Result<(), TestCaseError> {
    prop_assert_eq!(parsed.method(), sent.method());
    prop_assert_eq!(parsed.uri(), sent.uri());
    prop_assert_eq!(parsed.version(), sent.version());
    prop_assert_eq!(
        without_content_length(parsed.headers()),
        without_content_length(sent.headers())
    );
    prop_assert_eq!(parsed.body(), sent.body());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn standard_requests_round_trip(
        m in method(), u in uri(), v in version(), hs in headers(), b in body(),
        cuts in proptest::collection::vec(any::<usize>(), 0..6), boundaries in any::<bool>(),
    ) {
        let sent = build_request(m, &u, v, &hs, b);
        let bytes = sent.to_bytes(Dialect::Standard);
        let (items, failed) = feed(&bytes, &cuts, boundaries, Limits::default());
        prop_assert!(!failed);
        prop_assert_eq!(items.len(), 1);
        let Message::Request(parsed) = &items[0] else { panic!("{:?}", items[0]) };
        assert_same_request(parsed, &sent)?;
        let lab_signs = v.is_lab() || (u != "*" && !u.starts_with("rtsp://"));
        let expected = if lab_signs { Dialect::Lab } else { Dialect::Standard };
        prop_assert_eq!(parsed.dialect(), expected);
    }

    #[test]
    fn lab_requests_round_trip(
        m in method(), u in uri(), v in version(), hs in headers(), b in body(),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        // Lab peers always send at least CSeq; a bare request line cannot be framed.
        let mut hs = hs;
        if hs.is_empty() && b.is_empty() {
            hs.push(("CSeq".to_owned(), "1".to_owned()));
        }
        let sent = build_request(m, &u, v, &hs, b);
        let bytes = sent.to_bytes(Dialect::Lab);
        if sent.body().is_empty() {
            prop_assert!(!bytes.ends_with(b"\n"));
        }
        // Cut anywhere, but the read boundary only at the end, as one lab write.
        let (items, failed) = feed(&bytes, &cuts, false, Limits::default());
        prop_assert!(!failed);
        if glued_request_in(sent.headers()) {
            return Ok(());
        }
        prop_assert_eq!(items.len(), 1);
        let Message::Request(parsed) = &items[0] else { panic!("{:?}", items[0]) };
        assert_same_request(parsed, &sent)?;
        // Without a body the message ends at the read boundary, which makes it a lab message;
        // a body is framed by its Content-Length, and the URI and version decide.
        let lab_signs = v.is_lab() || (u != "*" && !u.starts_with("rtsp://"));
        let expected = if sent.body().is_empty() || lab_signs { Dialect::Lab } else { Dialect::Standard };
        prop_assert_eq!(parsed.dialect(), expected);
    }

    #[test]
    fn standard_responses_round_trip(
        code in 100u16..1000, reason in "[ -~]{0,24}", v in version(), hs in headers(),
        b in body(), cuts in proptest::collection::vec(any::<usize>(), 0..6),
        boundaries in any::<bool>(),
    ) {
        let mut sent = Response::new(StatusCode::from_u16(code).unwrap())
            .with_version(v)
            .with_reason(&reason)
            .unwrap()
            .with_body(b);
        for (n, val) in &hs {
            sent.headers_mut().append(n, val).unwrap();
        }
        let bytes = sent.to_bytes(Dialect::Standard);
        let (items, failed) = feed(&bytes, &cuts, boundaries, Limits::default());
        prop_assert!(!failed);
        prop_assert_eq!(items.len(), 1);
        let Message::Response(parsed) = &items[0] else { panic!("{:?}", items[0]) };
        prop_assert_eq!(parsed.status(), sent.status());
        prop_assert_eq!(parsed.reason(), sent.reason());
        prop_assert_eq!(parsed.version(), v);
        prop_assert_eq!(without_content_length(parsed.headers()), without_content_length(sent.headers()));
        prop_assert_eq!(parsed.body(), sent.body());
        prop_assert_eq!(parsed.dialect(), if v.is_lab() { Dialect::Lab } else { Dialect::Standard });
    }

    #[test]
    fn lab_replies_round_trip(
        code in 100u16..1000, cseq in any::<u32>(), session in any::<u64>(), frames in proptest::option::of(any::<u64>()),
        hs in headers(), b in body(), cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let mut reply = LabReply::new(StatusCode::from_u16(code).unwrap(), cseq, session);
        if let Some(f) = frames {
            reply = reply.with_frames(f);
        }
        let mut extra = Vec::new();
        for (n, val) in &hs {
            if let Ok(r) = reply.clone().with_header(n, val) {
                reply = r;
                extra.push((n.clone(), val.trim_matches([' ', '\t']).to_owned()));
            }
        }
        reply = reply.with_body(b.clone());
        let bytes = reply.to_bytes();
        prop_assert_eq!(&bytes, &reply.clone().into_response().to_bytes(Dialect::Lab));
        let (items, failed) = feed(&bytes, &cuts, false, Limits::default());
        prop_assert!(!failed);
        prop_assert_eq!(items.len(), 1);
        let Message::Response(parsed) = &items[0] else { panic!("{:?}", items[0]) };
        prop_assert_eq!(parsed.status().as_u16(), code);
        prop_assert_eq!(parsed.cseq(), Some(cseq));
        let parsed_session = parsed.headers().typed::<Session>().unwrap().unwrap();
        prop_assert_eq!(parsed_session.id_number(), Some(session));
        let mut expected = vec![("CSeq".to_owned(), cseq.to_string()), ("Session".to_owned(), session.to_string())];
        if let Some(f) = frames {
            expected.push(("Frames".to_owned(), f.to_string()));
        }
        expected.extend(extra);
        prop_assert_eq!(without_content_length(parsed.headers()), expected);
        prop_assert_eq!(parsed.body(), &b[..]);
        // A body is framed by its Content-Length: only a reply ending at the read boundary
        // (or using RTSP/1.4) is lab-flavoured.
        let expected = if b.is_empty() { Dialect::Lab } else { Dialect::Standard };
        prop_assert_eq!(parsed.dialect(), expected);
    }

    #[test]
    fn mixed_streams_are_chunking_independent(
        items in proptest::collection::vec(
            prop_oneof![
                (method(), uri(), headers(), body()).prop_map(|(m, u, hs, b)| {
                    Message::Request(build_request(m, &u, Version::RTSP_1_0, &hs, b))
                }),
                (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..200))
                    .prop_map(|(c, p)| Message::Interleaved(Interleaved::new(c, p).unwrap())),
            ],
            1..6,
        ),
        cuts in proptest::collection::vec(any::<usize>(), 0..10),
        boundaries in any::<bool>(),
    ) {
        let mut bytes = Vec::new();
        for item in &items {
            item.write(Dialect::Standard, &mut bytes);
        }
        let whole = feed(&bytes, &[], false, Limits::default());
        prop_assert!(!whole.1);
        prop_assert_eq!(whole.0.len(), items.len());
        prop_assert_eq!(feed(&bytes, &cuts, boundaries, Limits::default()), whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        boundaries in any::<bool>(),
    ) {
        let small = Limits { max_line_len: 64, max_headers: 4, max_head_len: 128, max_body_len: 64, max_buffered: 256 };
        for limits in [Limits::default(), small] {
            let (items, _) = feed(&bytes, &cuts, boundaries, limits);
            for item in items {
                write_back_and_reparse(&item)?;
            }
        }
    }

    #[test]
    fn mutated_messages_never_panic(
        items in proptest::collection::vec(any_item(), 1..4),
        mutations in proptest::collection::vec(
            (any::<usize>(), 0u8..3, proptest::sample::select(
                b"\r\n: $09\x00\xff-;\tRTSP/".to_vec()
            )),
            0..5,
        ),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
        boundaries in any::<bool>(),
    ) {
        let mut bytes = Vec::new();
        for (item, dialect) in &items {
            item.write(*dialect, &mut bytes);
        }
        for (pos, op, byte) in mutations {
            let pos = pos % (bytes.len() + 1);
            match op {
                0 if pos < bytes.len() => {
                    bytes.remove(pos);
                }
                1 => bytes.insert(pos, byte),
                _ if pos < bytes.len() => bytes[pos] = byte,
                _ => {}
            }
        }
        let small = Limits { max_line_len: 80, max_headers: 6, max_head_len: 300, max_body_len: 100, max_buffered: 70_000 };
        for limits in [Limits::default(), small] {
            let (parsed, _) = feed(&bytes, &cuts, boundaries, limits);
            for item in parsed {
                write_back_and_reparse(&item)?;
            }
        }
    }

    #[test]
    fn typed_headers_round_trip(value in prop_oneof![header_soup(), range_soup()]) {
        round_trip::<CSeq>(&value)?;
        round_trip::<Session>(&value)?;
        round_trip::<Transport>(&value)?;
        round_trip::<Range>(&value)?;
        round_trip::<RtpInfo>(&value)?;
        round_trip::<Public>(&value)?;
        round_trip::<ContentType>(&value)?;
        round_trip::<ContentLength>(&value)?;
        round_trip::<ContentBase>(&value)?;
        round_trip::<Accept>(&value)?;
        round_trip::<Scale>(&value)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn request_uris_round_trip(
        value in prop_oneof![
            "(rtsp|RTSP|rtsps|rtspu|http)://([a-z]{1,3}(:[a-z]{0,3})?@)?([a-z0-9.-]{0,8}|\\[[0-9a-f:.]{0,8}\\])(:[0-9]{0,6})?(/([A-Za-z0-9._=~-]|%[0-9A-Fa-f]{2}|%.?){0,8}){0,4}(\\?[ -~]{0,6})?(#[a-z]{0,3})?",
            "[!-~]{1,20}",
        ]
    ) {
        if let Ok(uri) = RequestUri::parse(&value) {
            let shown = uri.to_string();
            prop_assert_eq!(RequestUri::parse(&shown), Ok(uri.clone()), "{:?} -> {:?}", value, shown);
            if let RequestUri::Absolute(url) = &uri {
                prop_assert!(url.port != 0 && url.path.starts_with('/'));
                prop_assert!(!url.path.contains('%') || value.contains("%25"));
            }
        }
    }
}

/// A request, response or interleaved frame, and the dialect to write it in.
fn any_item() -> impl Strategy<Value = (Message, Dialect)> {
    let dialect = prop_oneof![Just(Dialect::Standard), Just(Dialect::Lab)];
    let item = prop_oneof![
        (method(), uri(), version(), headers(), body())
            .prop_map(|(m, u, v, hs, b)| Message::Request(build_request(m, &u, v, &hs, b))),
        (100u16..1000, version(), headers(), body()).prop_map(|(c, v, hs, b)| {
            let mut r = Response::new(StatusCode::from_u16(c).unwrap())
                .with_version(v)
                .with_body(b);
            for (n, val) in &hs {
                r.headers_mut().append(n, val).unwrap();
            }
            Message::Response(r)
        }),
        (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..50))
            .prop_map(|(c, p)| Message::Interleaved(Interleaved::new(c, p).unwrap())),
    ];
    (item, dialect)
}

/// Range values: npt times in both notations, other units, near misses.
fn range_soup() -> impl Strategy<Value = String> {
    let unit = proptest::sample::select(vec![
        "npt=", "npt = ", "NPT=", "clock=", "smpte=", "npt", "",
    ]);
    let time = prop_oneof![
        Just(String::new()),
        Just("now".to_owned()),
        "[0-9]{1,4}(\\.[0-9]{0,12})?",
        "[0-9]{1,3}:[0-9]{1,3}:[0-9]{1,3}(\\.[0-9]{0,4})?",
        "[0-9]{18,22}",
    ];
    let param = proptest::sample::select(vec!["", ";time=19970123T143720Z", ";time=", ";x=1"]);
    (
        unit,
        time.clone(),
        proptest::sample::select(vec!["-", "", "--"]),
        time,
        param,
    )
        .prop_map(|(u, a, d, b, p)| format!("{u}{a}{d}{b}{p}"))
}

/// Pieces that make header values likely to parse, and near misses.
fn header_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        proptest::sample::select(vec![
            "RTP/AVP",
            "RTP/AVP/UDP",
            "RTP/AVP/TCP",
            "RTP/UDP",
            ";",
            ",",
            " ",
            "unicast",
            "multicast",
            "client_port=",
            "server_port=",
            "port=",
            "interleaved=",
            "ttl=",
            "ssrc=",
            "mode=",
            "\"PLAY\"",
            "PLAY",
            "destination",
            "=",
            "-",
            "npt=",
            "now",
            ":",
            ".",
            "url=",
            "seq=",
            "rtptime=",
            "timeout=",
            "application/sdp",
            "*/*",
            "/",
            "q=0.5",
            "\"",
            "\\",
            "smpte=",
            "clock=",
            "rtsp://h/m/track1",
            "OPTIONS",
            "X-FOO",
            "append",
            "time=",
            "layers=",
        ])
        .prop_map(str::to_owned),
        "[0-9]{1,6}",
        "[0-9A-Fa-f]{1,9}",
        "[a-z]{1,5}",
        "[ -~]{1,3}",
    ];
    proptest::collection::vec(piece, 0..14).prop_map(|v| v.concat())
}

fn round_trip<H: Header + PartialEq + Debug>(value: &str) -> Result<(), TestCaseError> {
    if let Ok(parsed) = H::parse(value) {
        let shown = parsed.to_string();
        prop_assert_eq!(
            H::parse(&shown),
            Ok(parsed),
            "{} {:?} -> {:?}",
            H::NAME,
            value,
            shown
        );
        // What Display produces is always a valid header value.
        let mut h = Headers::new();
        prop_assert!(h.insert(H::NAME, &shown).is_ok());
    }
    Ok(())
}

/// The fuzz target's invariant: whatever parses writes back (in both dialects) into bytes
/// that parse into the same message.
fn write_back_and_reparse(item: &Message) -> Result<(), TestCaseError> {
    let relaxed = Limits {
        max_line_len: 1 << 20,
        max_headers: 1 << 10,
        max_head_len: 1 << 22,
        max_body_len: 1 << 22,
        max_buffered: 1 << 24,
    };
    let mut bytes = Vec::new();
    item.write(Dialect::Standard, &mut bytes);
    let (again, failed) = feed(&bytes, &[], false, relaxed);
    prop_assert!(
        !failed,
        "{:?} -> {:?}",
        item,
        String::from_utf8_lossy(&bytes)
    );
    prop_assert_eq!(again.len(), 1);
    match (item, &again[0]) {
        (Message::Request(a), Message::Request(b)) => assert_same_request(b, a)?,
        (Message::Response(a), Message::Response(b)) => {
            prop_assert_eq!(
                (a.version(), a.status(), a.reason()),
                (b.version(), b.status(), b.reason())
            );
            prop_assert_eq!(
                without_content_length(a.headers()),
                without_content_length(b.headers())
            );
            prop_assert_eq!(a.body(), b.body());
        }
        (a, b) => prop_assert_eq!(a, b),
    }
    let lab_framable = match item {
        Message::Request(r) => {
            (!without_content_length(r.headers()).is_empty() || !r.body().is_empty())
                && !glued_request_in(r.headers())
        }
        Message::Response(r) => {
            !without_content_length(r.headers()).is_empty() || !r.body().is_empty()
        }
        Message::Interleaved(_) => false,
    };
    if lab_framable {
        let mut bytes = Vec::new();
        item.write(Dialect::Lab, &mut bytes);
        let (again, failed) = feed(&bytes, &[], false, relaxed);
        prop_assert!(
            !failed,
            "{:?} -> {:?}",
            item,
            String::from_utf8_lossy(&bytes)
        );
        prop_assert_eq!(
            again.len(),
            1,
            "{:?} -> {:?}",
            item,
            String::from_utf8_lossy(&bytes)
        );
        match (item, &again[0]) {
            (Message::Request(a), Message::Request(b)) => assert_same_request(b, a)?,
            (Message::Response(a), Message::Response(b)) => {
                prop_assert_eq!(a.status(), b.status());
                prop_assert_eq!(a.body(), b.body());
                prop_assert_eq!(
                    without_content_length(a.headers()).len(),
                    without_content_length(b.headers()).len()
                );
            }
            (a, b) => prop_assert!(false, "{:?} became {:?}", a, b),
        }
    }
    Ok(())
}
