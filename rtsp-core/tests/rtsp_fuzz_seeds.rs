#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The fuzz seeds decode to the traffic they are meant to model (so that the fuzzer starts
//! from inputs that reach deep into the parser), using the `rtsp_message` target's layout:
//! byte 0 = mode, then `[control][chunk]` records (length - 1 in bits 0-5, x64 in bit 7, read
//! boundary in bit 6).

use std::path::PathBuf;

use rtsp_core::rtsp::headers::{
    Accept, CSeq, ContentType, Header, Public, Range, RtpInfo, Session, Transport,
};
use rtsp_core::rtsp::url::RequestUri;
use rtsp_core::rtsp::{Limits, Message, MessageParser};

fn seed(target: &str, name: &str) -> Vec<u8> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "fuzz", "seeds", target, name]
        .iter()
        .collect();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn run_message_seed(name: &str) -> Vec<Message> {
    let data = seed("rtsp_message", name);
    let (&mode, mut rest) = data.split_first().unwrap();
    let limits = if mode & 1 == 0 {
        Limits::default()
    } else {
        Limits {
            max_line_len: 80,
            max_headers: 6,
            max_head_len: 300,
            max_body_len: 100,
            max_buffered: 70_000,
        }
    };
    let mut parser = MessageParser::with_limits(limits);
    let mut items = Vec::new();
    while let Some((&control, tail)) = rest.split_first() {
        let mut len = usize::from(control & 0x3f) + 1;
        if control & 0x80 != 0 {
            len *= 64;
        }
        let (chunk, tail) = tail.split_at(len.min(tail.len()));
        rest = tail;
        parser.push(chunk).unwrap();
        if control & 0x40 != 0 {
            parser.end_of_read();
        }
        while let Some(item) = parser.next().unwrap_or_else(|e| panic!("{name}: {e}")) {
            items.push(item);
        }
    }
    assert!(parser.is_idle(), "{name}: incomplete message left");
    items
}

#[test]
fn message_seeds_parse_completely() {
    for (name, count) in [
        ("lab_client", 6),
        ("lab_server", 3),
        ("ffmpeg_pipelined", 5),
        ("tcp_interleaved", 4),
        ("gst_setup_reply", 1),
        ("folded_and_lf", 2),
    ] {
        assert_eq!(run_message_seed(name).len(), count, "{name}");
    }
    // The SDP body does not fit the small limits: that seed exercises the limit path.
    let data = seed("rtsp_message", "describe_reply_small_limits");
    assert_eq!(data[0] & 1, 1);
}

fn header_seed(name: &str) -> (u8, String) {
    let data = seed("rtsp_headers", name);
    (data[0], String::from_utf8(data[1..].to_vec()).unwrap())
}

fn parses<H: Header>(value: &str) -> bool {
    H::parse(value).is_ok()
}

#[test]
fn header_seeds_parse() {
    for (name, which, ok) in [
        ("cseq", 0, parses::<CSeq> as fn(&str) -> bool),
        ("session", 1, parses::<Session>),
        ("transport_lab", 2, parses::<Transport>),
        ("transport_alternatives", 2, parses::<Transport>),
        ("range_hhmmss", 3, parses::<Range>),
        ("rtp_info", 4, parses::<RtpInfo>),
        ("public", 5, parses::<Public>),
        ("content_type", 6, parses::<ContentType>),
        ("accept", 9, parses::<Accept>),
    ] {
        let (selector, value) = header_seed(name);
        assert_eq!(selector % 12, which, "{name}");
        assert!(ok(&value), "{name}: {value:?}");
    }
    let (selector, value) = header_seed("url");
    assert_eq!(selector % 12, 11);
    assert!(matches!(
        RequestUri::parse(&value),
        Ok(RequestUri::Absolute(_))
    ));
}
