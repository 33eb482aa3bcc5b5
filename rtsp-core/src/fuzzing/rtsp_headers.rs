//! Typed header parsers: byte 0 picks the parser, the rest is the header value. Whatever
//! parses must display as a valid header value that parses back to an equal value.

use std::fmt::Debug;

use crate::rtsp::headers::{
    Accept, CSeq, ContentBase, ContentLength, ContentType, Header, Public, Range, RtpInfo, Scale,
    Session, Transport,
};
use crate::rtsp::url::{split_control, RequestUri};
use crate::rtsp::Headers;

fn check<H: Header + PartialEq + Debug>(value: &str) {
    let Ok(parsed) = H::parse(value) else {
        return;
    };
    let shown = parsed.to_string();
    match H::parse(&shown) {
        Ok(again) => assert_eq!(again, parsed, "{} {value:?} -> {shown:?}", H::NAME),
        Err(e) => panic!("{} {value:?} -> {shown:?} does not parse: {e}", H::NAME),
    }
    let mut headers = Headers::new();
    headers.insert(H::NAME, &shown).unwrap();
    assert_eq!(headers.typed::<H>(), Some(Ok(parsed)));
}

fn check_uri(value: &str) {
    let Ok(uri) = RequestUri::parse(value) else {
        return;
    };
    let shown = uri.to_string();
    assert_eq!(
        RequestUri::parse(&shown),
        Ok(uri.clone()),
        "{value:?} -> {shown:?}"
    );
    if let Some(path) = uri.path() {
        let control = split_control(path);
        assert!(path.contains(control.presentation));
        if let Some(track) = control.track {
            assert!(path.contains(track));
        }
    }
}

/// The `rtsp_headers` fuzz target.
pub fn rtsp_headers(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(value) = std::str::from_utf8(rest) else {
        return;
    };
    match which % 12 {
        0 => check::<CSeq>(value),
        1 => check::<Session>(value),
        2 => check::<Transport>(value),
        3 => check::<Range>(value),
        4 => check::<RtpInfo>(value),
        5 => check::<Public>(value),
        6 => check::<ContentType>(value),
        7 => check::<ContentLength>(value),
        8 => check::<ContentBase>(value),
        9 => check::<Accept>(value),
        10 => check::<Scale>(value),
        _ => check_uri(value),
    }
}
