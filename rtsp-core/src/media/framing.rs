//! Frame boundaries of the two MJPEG container formats.
//!
//! Both indexers walk the data once and return the byte range of every JPEG image. They never
//! copy frame data and stop at the first inconsistency with a [`MediaError::Corrupt`] that names
//! the frame and the byte offset, so a broken file is diagnosed instead of half-served.

use std::ops::Range;

use super::error::{CorruptReason, MediaError};
use super::file::Limits;

/// Size of the lab format's ASCII length prefix.
pub(crate) const LAB_PREFIX_LEN: usize = 5;

const SOI: [u8; 2] = [0xFF, 0xD8];
const MARKER_SOI: u8 = 0xD8;
const MARKER_EOI: u8 = 0xD9;
const MARKER_SOS: u8 = 0xDA;
const MARKER_TEM: u8 = 0x01;

/// Parses a lab length prefix.
///
/// The lab's reader does `int(file.read(5))`, which also accepts leading spaces, so a
/// right-aligned `"%5d"` prefix is accepted too; anything else (signs, underscores, trailing
/// garbage) is not a length a lab writer produces.
pub(crate) fn parse_lab_prefix(prefix: &[u8]) -> Option<usize> {
    if prefix.len() != LAB_PREFIX_LEN {
        return None;
    }
    let digits_start = prefix.iter().position(|&b| b != b' ')?;
    let digits = prefix.get(digits_start..)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        digits
            .iter()
            .fold(0usize, |acc, &d| acc * 10 + usize::from(d - b'0')),
    )
}

fn corrupt(frame: usize, offset: usize, reason: CorruptReason) -> MediaError {
    MediaError::Corrupt {
        frame,
        offset,
        reason,
    }
}

fn check_frame_count(count: usize, limits: &Limits) -> Result<(), MediaError> {
    if count >= limits.max_frames {
        return Err(MediaError::TooManyFrames {
            limit: limits.max_frames,
        });
    }
    Ok(())
}

/// Indexes a lab `.Mjpeg` file: `ddddd` (frame length in ASCII) then that many bytes of JPEG,
/// repeated until the end of the data.
pub(crate) fn index_lab(data: &[u8], limits: &Limits) -> Result<Vec<Range<usize>>, MediaError> {
    let mut frames = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        let frame = frames.len();
        check_frame_count(frame, limits)?;
        let available = data.len() - pos;
        let prefix = data.get(pos..pos + LAB_PREFIX_LEN).ok_or_else(|| {
            corrupt(
                frame,
                pos,
                CorruptReason::Truncated {
                    needed: LAB_PREFIX_LEN,
                    available,
                },
            )
        })?;
        let len = parse_lab_prefix(prefix)
            .ok_or_else(|| corrupt(frame, pos, CorruptReason::BadLengthPrefix))?;
        if len == 0 {
            return Err(corrupt(frame, pos, CorruptReason::EmptyFrame));
        }
        if len > limits.max_frame_size {
            return Err(MediaError::FrameTooLarge {
                frame,
                offset: pos,
                size: len,
                limit: limits.max_frame_size,
            });
        }
        let start = pos + LAB_PREFIX_LEN;
        let end = start + len;
        if end > data.len() {
            return Err(corrupt(
                frame,
                pos,
                CorruptReason::Truncated {
                    needed: LAB_PREFIX_LEN + len,
                    available,
                },
            ));
        }
        if data.get(start..start + 2) != Some(&SOI[..]) {
            return Err(corrupt(frame, start, CorruptReason::MissingSoi));
        }
        frames.push(start..end);
        pos = end;
    }
    Ok(frames)
}

/// Indexes raw concatenated JPEG (what `ffmpeg -f mjpeg` writes).
///
/// Frame ends are found by walking the marker segments, not by searching for `FF D9`: EOI bytes
/// legitimately occur inside segments (a COM text, an EXIF thumbnail in APP1), and a search
/// would cut such a frame in two.
pub(crate) fn index_raw(data: &[u8], limits: &Limits) -> Result<Vec<Range<usize>>, MediaError> {
    let mut frames = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        let frame = frames.len();
        check_frame_count(frame, limits)?;
        let end = RawWalker::new(data, pos, frame, limits.max_frame_size).frame_end()?;
        frames.push(pos..end);
        pos = end;
    }
    Ok(frames)
}

/// Walks the markers of one JPEG image starting at `start`.
struct RawWalker<'a> {
    data: &'a [u8],
    /// End of the bytes this frame may occupy: the end of the data or the frame-size limit.
    window_end: usize,
    start: usize,
    frame: usize,
    max_frame_size: usize,
}

impl<'a> RawWalker<'a> {
    fn new(data: &'a [u8], start: usize, frame: usize, max_frame_size: usize) -> Self {
        Self {
            data,
            window_end: data.len().min(start.saturating_add(max_frame_size)),
            start,
            frame,
            max_frame_size,
        }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        if at < self.window_end {
            self.data.get(at).copied()
        } else {
            None
        }
    }

    /// The error for running out of the window: the frame is either cut off by the end of
    /// the data or longer than the limit.
    fn ran_out(&self, truncated: MediaError) -> MediaError {
        if self.window_end < self.data.len() {
            MediaError::FrameTooLarge {
                frame: self.frame,
                offset: self.start,
                size: self.window_end - self.start + 1,
                limit: self.max_frame_size,
            }
        } else {
            truncated
        }
    }

    fn unterminated(&self) -> MediaError {
        self.ran_out(corrupt(self.frame, self.start, CorruptReason::MissingEoi))
    }

    /// Returns the offset just past this frame's EOI.
    fn frame_end(&self) -> Result<usize, MediaError> {
        let start = self.start;
        if self.byte(start) != Some(0xFF) || self.byte(start + 1) != Some(MARKER_SOI) {
            return Err(corrupt(self.frame, start, CorruptReason::MissingSoi));
        }
        let mut pos = start + 2;
        let mut seen_scan = false;
        loop {
            let lead = self.byte(pos).ok_or_else(|| self.unterminated())?;
            if lead != 0xFF {
                return Err(corrupt(
                    self.frame,
                    pos,
                    CorruptReason::ExpectedMarker { found: lead },
                ));
            }
            // Any number of 0xFF fill bytes may precede a marker code (T.81 B.1.1.2).
            let mut code_at = pos + 1;
            while self.byte(code_at) == Some(0xFF) {
                code_at += 1;
            }
            let marker = self.byte(code_at).ok_or_else(|| self.unterminated())?;
            let marker_at = code_at - 1;
            match marker {
                MARKER_EOI if seen_scan => return Ok(code_at + 1),
                MARKER_EOI => return Err(corrupt(self.frame, marker_at, CorruptReason::NoScan)),
                MARKER_SOI | 0x00 => {
                    return Err(corrupt(
                        self.frame,
                        marker_at,
                        CorruptReason::UnexpectedMarker { marker },
                    ))
                }
                // Fill bytes before a restart marker hide it from the scan walker; the scan
                // goes on after it.
                0xD0..=0xD7 if seen_scan => pos = self.entropy_end(code_at + 1)?,
                // Standalone markers carry no length field.
                MARKER_TEM | 0xD0..=0xD7 => pos = code_at + 1,
                _ => {
                    pos = self.segment_end(marker, marker_at)?;
                    if marker == MARKER_SOS {
                        seen_scan = true;
                        pos = self.entropy_end(pos)?;
                    }
                }
            }
        }
    }

    /// Returns the end of the length-prefixed segment whose marker is at `marker_at`.
    fn segment_end(&self, marker: u8, marker_at: usize) -> Result<usize, MediaError> {
        let truncated = |needed: usize| {
            corrupt(
                self.frame,
                marker_at,
                CorruptReason::Truncated {
                    needed,
                    available: self.data.len() - marker_at,
                },
            )
        };
        let (Some(hi), Some(lo)) = (self.byte(marker_at + 2), self.byte(marker_at + 3)) else {
            return Err(self.ran_out(truncated(4)));
        };
        let length = u16::from_be_bytes([hi, lo]);
        if length < 2 {
            return Err(corrupt(
                self.frame,
                marker_at,
                CorruptReason::BadSegmentLength { marker, length },
            ));
        }
        let end = marker_at + 2 + usize::from(length);
        if end > self.window_end {
            return Err(self.ran_out(truncated(2 + usize::from(length))));
        }
        Ok(end)
    }

    /// Skips entropy-coded data starting at `pos` and returns the offset of the next marker.
    ///
    /// Inside a scan, `FF 00` is a stuffed data byte and `FF D0`..`FF D7` are restart markers
    /// between intervals; every other `FF xx` ends the scan.
    fn entropy_end(&self, mut pos: usize) -> Result<usize, MediaError> {
        loop {
            let window = self
                .data
                .get(pos..self.window_end)
                .ok_or_else(|| self.unterminated())?;
            let ff = window
                .iter()
                .position(|&b| b == 0xFF)
                .ok_or_else(|| self.unterminated())?;
            let at = pos + ff;
            match self.byte(at + 1) {
                None => return Err(self.unterminated()),
                Some(0x00 | 0xD0..=0xD7) => pos = at + 2,
                Some(_) => return Ok(at),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    /// Smallest frame the walker accepts: SOI, an empty SOS segment, one data byte, EOI.
    fn tiny_jpeg(data: &[u8]) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02];
        v.extend_from_slice(data);
        v.extend_from_slice(&[0xFF, 0xD9]);
        v
    }

    #[test]
    fn lab_prefix_accepts_digits_and_leading_spaces_only() {
        assert_eq!(parse_lab_prefix(b"01234"), Some(1234));
        assert_eq!(parse_lab_prefix(b"  812"), Some(812));
        assert_eq!(parse_lab_prefix(b"99999"), Some(99999));
        assert_eq!(parse_lab_prefix(b"     "), None);
        assert_eq!(parse_lab_prefix(b"12 34"), None);
        assert_eq!(parse_lab_prefix(b"+1234"), None);
        assert_eq!(parse_lab_prefix(b"1234"), None);
        assert_eq!(parse_lab_prefix(b"\xFF\xD8\xFF\xE0\x00"), None);
    }

    #[test]
    fn raw_fill_bytes_before_markers_are_skipped() {
        let mut v = vec![0xFF, 0xD8, 0xFF, 0xFF, 0xFF, 0xDA, 0x00, 0x02, 0x12];
        v.extend_from_slice(&[0xFF, 0xFF, 0xD9]);
        let frames = index_raw(&v, &limits()).unwrap();
        assert_eq!(frames, vec![0..v.len()]);
    }

    #[test]
    fn raw_frame_over_limit_is_too_large_not_truncated() {
        let mut v = tiny_jpeg(&[0x11; 64]);
        v.extend(tiny_jpeg(&[0x22]));
        let small = Limits {
            max_frame_size: 16,
            ..Limits::default()
        };
        match index_raw(&v, &small) {
            Err(MediaError::FrameTooLarge {
                frame: 0,
                offset: 0,
                limit: 16,
                ..
            }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn raw_fill_bytes_before_a_restart_marker_inside_the_scan() {
        let v = [
            0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0xFF, 0xD0, 0x34, 0x56, 0xFF, 0xD9,
        ];
        assert_eq!(index_raw(&v, &limits()).unwrap(), vec![0..v.len()]);
    }

    #[test]
    fn raw_tem_and_stray_rst_are_standalone() {
        let mut v = vec![0xFF, 0xD8, 0xFF, 0x01, 0xFF, 0xD3];
        v.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0x00, 0xFF, 0xD9]);
        assert_eq!(index_raw(&v, &limits()).unwrap(), vec![0..v.len()]);
    }

    #[test]
    fn raw_frame_count_limit() {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.extend(tiny_jpeg(&[1]));
        }
        let two = Limits {
            max_frames: 2,
            ..Limits::default()
        };
        assert!(matches!(
            index_raw(&v, &two),
            Err(MediaError::TooManyFrames { limit: 2 })
        ));
    }
}
