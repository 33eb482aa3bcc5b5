//! HTTP request heads to the web and metrics listeners: any bytes a browser-facing socket may
//! get. A complete head never claims more bytes than it was given and parses the same when cut
//! at its length; a stream path that routes never leaves the media root (no `..`, no absolute
//! path, no backslash or control character, nothing empty).

use crate::server::http::{parse, route, Parsed, Route};

/// Runs one input through the HTTP request parser and the router.
pub fn http_request(data: &[u8]) {
    let Ok(Parsed::Complete { request, len }) = parse(data) else {
        return;
    };
    assert!(len <= data.len(), "{len} > {}", data.len());
    assert_eq!(
        parse(&data[..len]),
        Ok(Parsed::Complete {
            request: request.clone(),
            len
        })
    );
    if let Ok(Route::Stream(target)) = route(&request.target) {
        let path = &target.presentation;
        assert!(!path.is_empty() && !path.starts_with('/'), "{path:?}");
        for segment in path.split('/') {
            assert!(
                !segment.is_empty() && segment != "." && segment != "..",
                "{path:?}"
            );
            assert!(
                !segment.chars().any(|c| c.is_control() || c == '\\'),
                "{path:?}"
            );
        }
    }
}
