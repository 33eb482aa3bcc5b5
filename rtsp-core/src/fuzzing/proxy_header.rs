//! PROXY protocol headers: any bytes at the start of a connection. A complete header never
//! claims more bytes than it was given, is the same header when cut at its own length, and is
//! incomplete one byte shorter (so the server never consumes a byte of the client's request).

use crate::proxy_protocol::{parse, Parsed};

/// Runs one input through the PROXY protocol parser.
pub fn proxy_header(data: &[u8]) {
    let Ok(whole @ Parsed::Complete { len, .. }) = parse(data) else {
        return;
    };
    assert!(len <= data.len(), "{len} > {}", data.len());
    assert_eq!(parse(&data[..len]), Ok(whole));
    assert_eq!(parse(&data[..len - 1]), Ok(Parsed::Incomplete));
}
