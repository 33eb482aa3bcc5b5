//! MJPEG media sources.
//!
//! - [`MjpegFile`]: a lab `.Mjpeg` file (5 ASCII digits of length, then the JPEG, repeated) or
//!   raw concatenated JPEG (`ffmpeg -f mjpeg`), read once into a shared buffer and indexed at
//!   open for O(1) access to any frame. Corrupt files are reported with the frame and byte
//!   offset ([`MediaError::Corrupt`]).
//! - [`FrameCursor`]: the lab `VideoStream` semantics (`next_frame`, `frame_nbr`) plus
//!   forward, backward, restart and seek.
//! - [`Frame`]: a frame handle that shares the file's buffer across threads without copying.
//! - [`MjpegWriter`]: writes the lab format.
//! - [`TestPattern`]: deterministic synthetic frames with burnt-in frame numbers.
//!
//! ```
//! use rtsp_core::media::{MjpegFile, MjpegWriter, TestPattern};
//!
//! let pattern = TestPattern::new(64, 48, 20.0)?;
//! let mut writer = MjpegWriter::new(Vec::new());
//! for n in 0..3 {
//!     writer.write_frame(&pattern.frame(n)?)?;
//! }
//! let file = MjpegFile::from_bytes(writer.into_inner())?;
//! let mut stream = file.cursor();
//! assert!(stream.next_frame().is_some());
//! assert_eq!(stream.frame_nbr(), 1);
//! assert_eq!(file.frame_at_time(0.1, 20.0), Some(2));
//! # Ok::<(), rtsp_core::media::MediaError>(())
//! ```

mod cursor;
mod error;
mod file;
mod font;
mod framing;
mod pattern;
mod writer;

pub use cursor::FrameCursor;
pub use error::{CorruptReason, MediaError};
pub use file::{Frame, Limits, MjpegFile, MjpegFormat, OpenOptions};
pub use pattern::TestPattern;
pub use writer::{MjpegWriter, LAB_MAX_FRAME_SIZE};
