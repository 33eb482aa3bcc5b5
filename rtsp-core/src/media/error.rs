//! Errors of the media sources.

use std::fmt;

/// Why a frame of an MJPEG file could not be delimited.
///
/// Carried by [`MediaError::Corrupt`], which also says where it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorruptReason {
    /// Lab format: the 5-byte length prefix is not a decimal number.
    BadLengthPrefix,
    /// Lab format: the length prefix is zero.
    EmptyFrame,
    /// The frame (or its length prefix) runs past the end of the data.
    Truncated {
        /// Bytes the frame needs, counted from the offset of the error.
        needed: usize,
        /// Bytes that are actually left from that offset.
        available: usize,
    },
    /// The frame does not start with a JPEG SOI marker (`FF D8`).
    MissingSoi,
    /// A marker was expected (a `0xFF` byte) but another byte was found.
    ExpectedMarker {
        /// The byte found instead of `0xFF`.
        found: u8,
    },
    /// A marker that cannot appear at this point of a frame (e.g. a second SOI, or `FF 00`
    /// outside entropy-coded data).
    UnexpectedMarker {
        /// The marker code (the byte after `0xFF`).
        marker: u8,
    },
    /// A marker segment declares a length below 2 (the length counts its own two bytes).
    BadSegmentLength {
        /// The marker code of the segment.
        marker: u8,
        /// The declared length.
        length: u16,
    },
    /// The frame ends (EOI) before any scan (SOS): there is no image in it.
    NoScan,
    /// Raw JPEG: the data ends inside the frame, before its EOI marker.
    MissingEoi,
}

impl fmt::Display for CorruptReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::BadLengthPrefix => f.write_str("length prefix is not 5 decimal digits"),
            Self::EmptyFrame => f.write_str("length prefix is zero"),
            Self::Truncated { needed, available } => {
                write!(f, "truncated: needs {needed} bytes, only {available} left")
            }
            Self::MissingSoi => f.write_str("frame does not start with a JPEG SOI marker"),
            Self::ExpectedMarker { found } => {
                write!(f, "expected a JPEG marker, found byte 0x{found:02X}")
            }
            Self::UnexpectedMarker { marker } => write!(f, "unexpected JPEG marker FF{marker:02X}"),
            Self::BadSegmentLength { marker, length } => {
                write!(f, "marker FF{marker:02X} declares segment length {length}")
            }
            Self::NoScan => f.write_str("frame ends before any scan (no SOS)"),
            Self::MissingEoi => f.write_str("data ends inside the frame, before its EOI marker"),
        }
    }
}

/// Errors of MJPEG files, the writer and the test pattern.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// Reading or writing failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The file is bigger than the configured maximum.
    #[error("file is {size} bytes, more than the limit of {limit} bytes")]
    FileTooLarge {
        /// Size of the file (or the number of bytes read before giving up).
        size: u64,
        /// The configured limit.
        limit: u64,
    },
    /// A frame is bigger than the configured maximum (or, for the writer, than the lab
    /// format's 5-digit length prefix can express).
    #[error(
        "frame {frame} at byte offset {offset} is {size} bytes, more than the limit of {limit}"
    )]
    FrameTooLarge {
        /// Zero-based index of the frame.
        frame: usize,
        /// Byte offset of the frame in the file.
        offset: usize,
        /// Size of the frame in bytes; for a raw JPEG frame still being scanned, a lower bound.
        size: usize,
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The file has more frames than the configured maximum.
    #[error("more than {limit} frames")]
    TooManyFrames {
        /// The configured limit.
        limit: usize,
    },
    /// The data is not a well-formed MJPEG file.
    #[error("corrupt frame {frame} at byte offset {offset}: {reason}")]
    Corrupt {
        /// Zero-based index of the frame being read.
        frame: usize,
        /// Byte offset (from the start of the file) of the offending item: the length prefix of
        /// a lab frame, the place where an SOI was expected, the marker of a bad or truncated
        /// segment, or the start (SOI) of a raw frame that has no EOI.
        offset: usize,
        /// What is wrong.
        reason: CorruptReason,
    },
    /// The content matches neither the lab `.Mjpeg` format nor raw concatenated JPEG.
    #[error("unrecognised file format (neither a lab .Mjpeg file nor concatenated JPEG)")]
    UnknownFormat,
    /// The file contains no frame at all.
    #[error("the file contains no frames")]
    Empty,
    /// The writer was given something that is not a JPEG image.
    #[error("frame {frame} is not a JPEG image (does not start with FF D8)")]
    NotJpeg {
        /// Zero-based index of the rejected frame.
        frame: usize,
    },
    /// The test pattern was configured with unusable parameters.
    #[error("invalid test pattern parameters: {0}")]
    InvalidPattern(&'static str),
    /// The JPEG encoder failed.
    #[error("JPEG encoding failed: {0}")]
    Encode(String),
}
