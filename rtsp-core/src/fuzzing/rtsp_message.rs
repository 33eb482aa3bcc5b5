//! Feeds arbitrary bytes to `MessageParser` in reads whose sizes and read boundaries come from
//! the input, then checks that everything that parsed writes back (in both dialects) into
//! bytes that parse into the same message, and that splitting the stream into reads does not
//! change the result when no read boundary is declared.
//!
//! Input layout: byte 0 picks the limits (bit 0: small limits); then records of
//! `[control][chunk]`, where control bits 0-5 give the chunk length - 1, bit 7 multiplies it
//! by 64, and bit 6 declares a read boundary after the chunk.

use crate::rtsp::{Dialect, Headers, Limits, Message, MessageParser, ParseError, Request};

const SMALL: Limits = Limits {
    max_line_len: 80,
    max_headers: 6,
    max_head_len: 300,
    max_body_len: 100,
    max_buffered: 70_000,
};

const RELAXED: Limits = Limits {
    max_line_len: 1 << 20,
    max_headers: 1 << 10,
    max_head_len: 1 << 22,
    max_body_len: 1 << 22,
    max_buffered: 1 << 24,
};

/// One read of the decoded input: the bytes, and whether a read boundary follows them.
pub type Read<'a> = (&'a [u8], bool);

/// Decodes the input layout into the parser limits and the reads; `None` for empty input.
pub fn decode(data: &[u8]) -> Option<(Limits, Vec<Read<'_>>)> {
    let (&mode, mut rest) = data.split_first()?;
    let limits = if mode & 1 == 0 {
        Limits::default()
    } else {
        SMALL
    };
    let mut reads = Vec::new();
    while let Some((&control, tail)) = rest.split_first() {
        let mut len = usize::from(control & 0x3f) + 1;
        if control & 0x80 != 0 {
            len *= 64;
        }
        let (chunk, tail) = tail.split_at(len.min(tail.len()));
        reads.push((chunk, control & 0x40 != 0));
        rest = tail;
    }
    Some((limits, reads))
}

/// Pushes every chunk, draining after each; returns the items and the error, if any.
pub fn feed(limits: Limits, reads: &[Read<'_>]) -> (Vec<Message>, Option<ParseError>) {
    let mut parser = MessageParser::with_limits(limits);
    let mut items = Vec::new();
    for (chunk, boundary) in reads {
        if let Err(e) = parser.push(chunk) {
            return (items, Some(e));
        }
        if *boundary {
            parser.end_of_read();
        }
        loop {
            match parser.next() {
                Ok(Some(item)) => items.push(item),
                Ok(None) => break,
                Err(e) => {
                    // Errors are final.
                    assert_eq!(parser.next(), Err(e.clone()));
                    assert_eq!(parser.push(b"x"), Err(e.clone()));
                    assert!(parser.error_context().is_some());
                    return (items, Some(e));
                }
            }
        }
    }
    (items, None)
}

fn fields(h: &Headers) -> Vec<(String, String)> {
    h.iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("Content-Length"))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

fn reparse_one(bytes: &[u8]) -> Message {
    let (items, error) = feed(RELAXED, &[(bytes, true)]);
    assert_eq!(error, None, "{:?}", String::from_utf8_lossy(bytes));
    assert_eq!(items.len(), 1, "{:?}", String::from_utf8_lossy(bytes));
    items.into_iter().next().unwrap()
}

/// Written and reparsed, a request keeps everything but its framing (`Content-Length`).
fn assert_same_request(a: &Request, b: &Request) {
    assert_eq!(
        (a.method(), a.uri(), a.version()),
        (b.method(), b.uri(), b.version())
    );
    assert_eq!(fields(a.headers()), fields(b.headers()));
    assert_eq!(a.body(), b.body());
}

fn check_write_back(item: &Message) {
    let mut bytes = Vec::new();
    item.write(Dialect::Standard, &mut bytes);
    match (item, &reparse_one(&bytes)) {
        (Message::Request(a), Message::Request(b)) => assert_same_request(a, b),
        (Message::Response(a), Message::Response(b)) => {
            assert_eq!(
                (a.version(), a.status(), a.reason()),
                (b.version(), b.status(), b.reason())
            );
            assert_eq!(fields(a.headers()), fields(b.headers()));
            assert_eq!(a.body(), b.body());
        }
        (a, b) => assert_eq!(a, b),
    }

    // The lab dialect needs at least one header line or a body to be framed. A request header
    // whose value ends like a request line reads, in bare-LF text, as a second lab request
    // glued to the first (see `MessageParser`): such requests cannot round-trip in that
    // dialect.
    let framable = match item {
        Message::Request(r) => {
            (!fields(r.headers()).is_empty() || !r.body().is_empty())
                && !r.headers().iter().any(|(name, value)| {
                    crate::rtsp::glued_request_line(format!("{name}: {value}").as_bytes()).is_some()
                })
        }
        Message::Response(r) => !fields(r.headers()).is_empty() || !r.body().is_empty(),
        Message::Interleaved(_) => false,
    };
    if framable {
        let mut bytes = Vec::new();
        item.write(Dialect::Lab, &mut bytes);
        match (item, &reparse_one(&bytes)) {
            (Message::Request(a), Message::Request(b)) => {
                assert_same_request(a, b);
                // Without a body it ends at the read boundary, which only the lab dialect
                // does; a body is framed by its Content-Length like any other.
                if a.body().is_empty() {
                    assert_eq!(b.dialect(), Dialect::Lab);
                }
            }
            (Message::Response(a), Message::Response(b)) => {
                // The lab writer moves CSeq and Session first and strips Session parameters.
                assert_eq!((a.version(), a.status()), (b.version(), b.status()));
                assert_eq!(fields(a.headers()).len(), fields(b.headers()).len());
                assert_eq!(a.body(), b.body());
            }
            (a, b) => panic!("{a:?} became {b:?}"),
        }
    }
}

/// The `rtsp_message` fuzz target.
pub fn rtsp_message(data: &[u8]) {
    let Some((limits, reads)) = decode(data) else {
        return;
    };

    let (items, _) = feed(limits, &reads);
    for item in &items {
        check_write_back(item);
    }

    // Without read boundaries, how the stream is split into reads must not matter.
    let unbounded: Vec<Read<'_>> = reads.iter().map(|(c, _)| (*c, false)).collect();
    let whole: Vec<u8> = reads.iter().flat_map(|(c, _)| c.iter().copied()).collect();
    if whole.len() <= limits.max_buffered {
        assert_eq!(feed(limits, &unbounded), feed(limits, &[(&whole, false)]));
    }
}
