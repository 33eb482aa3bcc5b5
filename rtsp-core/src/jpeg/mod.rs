//! RTP payload format for JPEG video (RFC 2435), sans-I/O.
//!
//! Sending: [`ParsedJpeg::parse`] checks that a JPEG file can be carried (baseline, 8-bit YCbCr
//! 4:2:0 or 4:2:2, standard Huffman tables, sizes in multiples of 8 up to
//! [`MAX_EXTENDED_DIMENSION`]) and names the reason when it cannot; [`reencode_for_rtp`] turns anything else into a file that can.
//! [`Packetizer::fragments`] then yields the RTP payloads: an 8-byte main header on every packet,
//! a Restart Marker header for types 64/65, the quantization tables in band on the first packet
//! (Q = 255), and nothing of the file but its entropy-coded scan data.
//!
//! Receiving: [`Depacketizer`] reassembles payloads into complete JFIF files (rebuilt SOI, DQT,
//! SOF0, standard DHT, DRI, SOS, data, EOI), emitting only undamaged frames.
//!
//! Frames wider or taller than 2040 pixels ([`MAX_DIMENSION`], the most the header's one-byte
//! width/8 and height/8 fields hold) are sent the way cameras and live555 do: width and height
//! 0 in the main header, the real size in the SDP's `a=x-dimensions:W,H` (which live555 and
//! GStreamer's `rtpjpegdepay` read), and in the ONVIF JPEG header extension on the first packet
//! of each frame ([`FrameHeaderExtension`], which ONVIF clients read).
//! [`Packetizer`] yields the extension with [`Fragment::extension`]; [`Depacketizer`] takes the
//! size from the extension ([`Depacketizer::push_with_extension`]) or from the SDP
//! ([`Depacketizer::set_stream_size`]).
//!
//! The same extension carries the frame's SOF, so 4:4:4 and grayscale frames, which RFC 2435's
//! types cannot describe, travel unchanged to receivers that rebuild frames from it (this
//! crate's [`Depacketizer`]): [`ParsedJpeg::parse_extended`] accepts them, and their first packet
//! always carries the extension. Other receivers would decode garbage, so [`ParsedJpeg::parse`],
//! which decides what every receiver can read, still refuses them.
//!
//! Frames whose size is not a multiple of 8 are refused ([`ParseError::NotMultipleOf8`]) rather
//! than sent with a rounded-up size: RFC 2435 carries width/8 and height/8 only, so receivers would
//! show the encoder's padding as extra rows and columns.
//!
//! ```
//! use rtsp_core::jpeg::{reencode_for_rtp, Depacketizer, Packetizer, ParsedJpeg};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let png = {
//! #     let mut png = Vec::new();
//! #     image::RgbImage::new(64, 48).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
//! #     png
//! # };
//! let jpeg = reencode_for_rtp(&png, 85)?;
//! let frame = ParsedJpeg::parse(&jpeg)?;
//! let mut receiver = Depacketizer::new();
//! let mut received = None;
//! for fragment in Packetizer::new().fragments(&frame) {
//!     received = receiver.push(90_000, fragment.is_last(), &fragment.to_vec());
//! }
//! assert_eq!(received.map(|f| f.jpeg), Some(frame.to_rtp_jpeg()));
//! # Ok(())
//! # }
//! ```

mod depacketize;
mod entropy;
mod extension;
pub(crate) use extension::usable_dimension;
mod header;
mod jfif;
mod packetize;
mod parse;
mod reencode;
mod tables;

pub use depacketize::{
    DepacketizedFrame, Depacketizer, DepacketizerStats, DropReason, DEFAULT_MAX_FRAME_SIZE,
};
pub use extension::{
    ExtensionError, FrameHeaderExtension, ONVIF_JPEG_PROFILE, ONVIF_JPEG_PROFILE_ALT,
};
pub use header::{
    HeaderError, PayloadHeader, QuantHeader, RestartHeader, MAIN_HEADER_LEN, QUANT_HEADER_LEN,
    RESTART_HEADER_LEN,
};
pub use packetize::{
    Fragment, Fragments, Packetizer, PayloadSizeTooSmall, DEFAULT_MAX_PAYLOAD, MIN_MAX_PAYLOAD,
    Q_IN_BAND,
};
pub use parse::{ParseError, ParsedJpeg, Subsampling};
pub use reencode::{reencode_for_rtp, rtp_dimensions, ReencodeError};
pub use tables::{quant_tables_for_q, QuantTable};

/// Largest width or height the RFC 2435 main header can express (255 blocks of 8 pixels).
/// Larger frames are sent with the size fields 0 and their real size in the SDP
/// (`a=x-dimensions`) and in the ONVIF header extension (see [`FrameHeaderExtension`]).
pub const MAX_DIMENSION: u16 = 2040;

/// Largest width or height sent at all: the largest multiple of 8 that libjpeg (behind
/// GStreamer's `jpegdec`, FFmpeg's fallback and most players) still decodes (it refuses
/// more than 65500 pixels), so no receiver is sent a frame it could not read.
pub const MAX_EXTENDED_DIMENSION: u16 = 65_496;

/// Largest scan RFC 2435 can carry: fragment offsets are 24 bits.
pub const MAX_SCAN_LEN: usize = 1 << 24;

/// RTSP option tag (RFC 2326 3.8) a client puts in a `Supported` header of DESCRIBE and SETUP
/// to say it rebuilds frames from the SOF of the ONVIF header extension, so it can be sent
/// 4:4:4 and grayscale frames unchanged (see [`ParsedJpeg::parse_extended`]). Servers that do
/// not know it ignore the header.
pub const FRAME_HEADER_OPTION: &str = "org.rtsp-rs.jpeg-frame-header";

/// RTP payload type of JPEG (static, RFC 3551).
pub const PAYLOAD_TYPE: u8 = 26;

/// RTP clock rate of JPEG video (RFC 3551): timestamps advance by 90 000 per second.
pub const CLOCK_RATE: u32 = 90_000;
