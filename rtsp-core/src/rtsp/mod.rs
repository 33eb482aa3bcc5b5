//! RTSP messages in both dialects: the RFC 2326 one and the networking lab's.
//!
//! - [`MessageParser`] turns the bytes of one direction of a connection into [`Message`]s:
//!   requests, responses and `$` interleaved frames, pipelined or split at any byte, with hard
//!   [`Limits`]. Each parsed message records its [`Dialect`] so the server can answer in kind.
//! - [`Request::write`], [`Response::write`] and [`LabReply`] serialize; what they write
//!   parses back to the same message.
//! - [`headers`] holds typed headers (CSeq, Session, Transport, Range, RTP-Info, ...), [`url`]
//!   request-URIs.
//!
//! Nothing here does I/O: the socket layer pushes what it reads, calls
//! [`MessageParser::end_of_read`] after each read (the lab dialect needs it, see
//! [`MessageParser`]), and writes what the writers produce.
//!
//! ```
//! use rtsp_core::rtsp::{Dialect, Message, MessageParser, Response, StatusCode};
//! let mut parser = MessageParser::new();
//! parser.push(b"OPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n")?;
//! let Some(Message::Request(req)) = parser.next()? else { panic!("incomplete") };
//! let reply = Response::reply_to(&req, StatusCode::OK)
//!     .with_header("Public", "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN")?;
//! assert_eq!(
//!     reply.to_bytes(req.dialect()),
//!     b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod header_map;
pub mod headers;
mod message;
mod method;
mod parser;
mod status;
mod syntax;
pub mod url;
mod version;
mod write;

pub use error::BuildError;
pub use header_map::Headers;
pub use message::{write_interleaved, Dialect, Interleaved, LabReply, Message, Request, Response};
pub use method::Method;
pub(crate) use parser::glued_request_line;
pub use parser::{ErrorContext, Limits, MessageParser, ParseError};
pub use status::StatusCode;
pub use version::Version;
