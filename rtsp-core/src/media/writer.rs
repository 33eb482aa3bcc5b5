//! Writer of the lab `.Mjpeg` format.

use std::io::Write;

use super::error::MediaError;
use super::framing::LAB_PREFIX_LEN;

/// Largest frame the lab format can hold: its length prefix is 5 decimal digits.
pub const LAB_MAX_FRAME_SIZE: usize = 99_999;

/// Writes JPEG images in the lab `.Mjpeg` format: each one preceded by its length as 5 ASCII
/// digits (zero-padded, as the lab's files are).
///
/// ```
/// # use rtsp_core::media::{MjpegWriter, MediaError};
/// # fn demo(jpegs: &[Vec<u8>]) -> Result<(), MediaError> {
/// let mut out = MjpegWriter::new(Vec::new());
/// for jpeg in jpegs {
///     out.write_frame(jpeg)?;
/// }
/// let bytes = out.into_inner();
/// # let _ = bytes; Ok(()) }
/// ```
#[derive(Debug)]
pub struct MjpegWriter<W: Write> {
    inner: W,
    frames: usize,
    bytes: usize,
}

impl<W: Write> MjpegWriter<W> {
    /// A writer that appends to `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            frames: 0,
            bytes: 0,
        }
    }

    /// Appends one JPEG image.
    ///
    /// Fails with [`MediaError::FrameTooLarge`] for frames of 100 000 bytes or more (5 digits
    /// cannot express their length) and [`MediaError::NotJpeg`] for data that does not start
    /// with a JPEG SOI marker; nothing is written in either case.
    pub fn write_frame(&mut self, jpeg: &[u8]) -> Result<(), MediaError> {
        if jpeg.len() > LAB_MAX_FRAME_SIZE {
            return Err(MediaError::FrameTooLarge {
                frame: self.frames,
                offset: self.bytes,
                size: jpeg.len(),
                limit: LAB_MAX_FRAME_SIZE,
            });
        }
        if !jpeg.starts_with(&[0xFF, 0xD8]) {
            return Err(MediaError::NotJpeg { frame: self.frames });
        }
        let prefix = format!("{:05}", jpeg.len());
        self.inner.write_all(prefix.as_bytes())?;
        self.inner.write_all(jpeg)?;
        self.frames += 1;
        self.bytes += LAB_PREFIX_LEN + jpeg.len();
        Ok(())
    }

    /// Number of frames written so far.
    pub fn frames_written(&self) -> usize {
        self.frames
    }

    /// Number of bytes written so far.
    pub fn bytes_written(&self) -> usize {
        self.bytes
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> Result<(), MediaError> {
        self.inner.flush()?;
        Ok(())
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// Returns the underlying writer (without flushing it).
    pub fn into_inner(self) -> W {
        self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_zero_padded_and_limits_hold() {
        let mut w = MjpegWriter::new(Vec::new());
        w.write_frame(&[0xFF, 0xD8, 0xFF, 0xD9]).unwrap();
        assert_eq!(w.get_ref().as_slice(), b"00004\xFF\xD8\xFF\xD9");

        let mut big = vec![0u8; 100_000];
        big[0] = 0xFF;
        big[1] = 0xD8;
        assert!(matches!(
            w.write_frame(&big),
            Err(MediaError::FrameTooLarge {
                frame: 1,
                offset: 9,
                size: 100_000,
                limit: 99_999
            })
        ));
        big.truncate(99_999);
        w.write_frame(&big).unwrap();
        assert!(w.get_ref().ends_with(&big));
        assert_eq!(&w.get_ref()[9..14], b"99999");

        assert!(matches!(
            w.write_frame(b"GIF89a"),
            Err(MediaError::NotJpeg { frame: 2 })
        ));
        assert_eq!(w.frames_written(), 2);
        assert_eq!(w.bytes_written(), 9 + 5 + 99_999);
    }
}
