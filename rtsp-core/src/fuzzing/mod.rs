//! The bodies of the cargo-fuzz targets (`rtsp-core/fuzz`), shared with the stable test that
//! replays the checked-in seeds and corpus (`tests/fuzz_corpus.rs`), so that both check exactly
//! the same invariants. Each target takes arbitrary bytes and panics only when an invariant of the
//! code under test is broken; the panics here are the point, hence the lint exemptions.
//!
//! Not a stable API: it exists for the fuzz crate and the tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth_header;
mod client_redirect;
mod http_request;
mod jpeg_depacketizer;
mod jpeg_extension;
mod jpeg_parse;
mod mjpeg_reader;
mod proxy_header;
mod rtcp;
mod rtp_packet;
mod rtsp_headers;
pub mod rtsp_message;
mod sdp;
mod server_ingest;

pub use auth_header::auth_header;
pub use client_redirect::client_redirect;
pub use http_request::http_request;
pub use jpeg_depacketizer::jpeg_depacketizer;
pub use jpeg_extension::jpeg_extension;
pub use jpeg_parse::jpeg_parse;
pub use mjpeg_reader::mjpeg_reader;
pub use proxy_header::proxy_header;
pub use rtcp::rtcp;
pub use rtp_packet::rtp_packet;
pub use rtsp_headers::rtsp_headers;
pub use rtsp_message::rtsp_message;
pub use sdp::sdp;
pub use server_ingest::server_ingest;

/// One fuzz target: its cargo-fuzz name (also the name of its `seeds/` and `corpus/` folders)
/// and its body.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The `[[bin]]` name in `rtsp-core/fuzz/Cargo.toml`.
    pub name: &'static str,
    /// Runs one input; panics when an invariant is broken.
    pub run: fn(&[u8]),
}

/// Every fuzz target; the corpus replay test iterates over this list, so a new target is one
/// line here plus its `fuzz_targets/<name>.rs` one-liner and its seeds.
pub fn targets() -> &'static [Target] {
    &[
        Target {
            name: "rtsp_message",
            run: rtsp_message,
        },
        Target {
            name: "rtsp_headers",
            run: rtsp_headers,
        },
        Target {
            name: "client_redirect",
            run: client_redirect,
        },
        Target {
            name: "sdp",
            run: sdp,
        },
        Target {
            name: "rtp_packet",
            run: rtp_packet,
        },
        Target {
            name: "rtcp",
            run: rtcp,
        },
        Target {
            name: "jpeg_depacketizer",
            run: jpeg_depacketizer,
        },
        Target {
            name: "jpeg_extension",
            run: jpeg_extension,
        },
        Target {
            name: "jpeg_parse",
            run: jpeg_parse,
        },
        Target {
            name: "mjpeg_reader",
            run: mjpeg_reader,
        },
        Target {
            name: "auth_header",
            run: auth_header,
        },
        Target {
            name: "proxy_header",
            run: proxy_header,
        },
        Target {
            name: "server_ingest",
            run: server_ingest,
        },
        Target {
            name: "http_request",
            run: http_request,
        },
    ]
}
