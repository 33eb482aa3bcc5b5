//! A playback position over an [`MjpegFile`], with the lab `VideoStream` semantics.

use super::file::{Frame, MjpegFile};

/// Reads frames in order, like the lab's `VideoStream`, plus the seeking extensions of the
/// lab reports (FORWARD, BACKWARD, RESTART).
///
/// The position is the number of frames consumed: [`frame_nbr`](Self::frame_nbr) is 0 before
/// the first [`next_frame`](Self::next_frame), 1 after it, and so on, which is what the lab
/// server sends as the RTP sequence number. Moving the position never fails: it is clamped
/// to `0..=frame_count`.
///
/// ```
/// # use rtsp_core::media::MjpegFile;
/// # fn demo(file: &MjpegFile) {
/// let mut stream = file.cursor();
/// while let Some(frame) = stream.next_frame() {
///     let seq = stream.frame_nbr(); // 1 for the first frame
///     # let _ = (frame, seq);
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct FrameCursor {
    file: MjpegFile,
    position: usize,
}

impl FrameCursor {
    /// A cursor at the start of `file`.
    pub fn new(file: MjpegFile) -> Self {
        Self { file, position: 0 }
    }

    /// The file this cursor reads.
    pub fn file(&self) -> &MjpegFile {
        &self.file
    }

    /// Returns the next frame and advances, or `None` at the end (the position stays there).
    pub fn next_frame(&mut self) -> Option<Frame> {
        let frame = self.file.frame_handle(self.position)?;
        self.position += 1;
        Some(frame)
    }

    /// Number of frames returned so far: the 1-based number of the last frame returned.
    pub fn frame_nbr(&self) -> usize {
        self.position
    }

    /// Total number of frames in the file (the lab extension's `Frames:` header).
    pub fn frame_count(&self) -> usize {
        self.file.frame_count()
    }

    /// Frames left before the end.
    pub fn remaining(&self) -> usize {
        self.frame_count() - self.position
    }

    /// Whether [`next_frame`](Self::next_frame) would return `None`.
    pub fn is_at_end(&self) -> bool {
        self.remaining() == 0
    }

    /// Skips `n` frames ahead, stopping at the end.
    pub fn forward(&mut self, n: usize) {
        self.seek(self.position.saturating_add(n));
    }

    /// Goes `n` frames back, stopping at the start.
    pub fn backward(&mut self, n: usize) {
        self.position = self.position.saturating_sub(n);
    }

    /// Goes back to the start: the next frame is the first one.
    pub fn restart(&mut self) {
        self.position = 0;
    }

    /// Sets the position so that [`frame_nbr`](Self::frame_nbr) is `frame` (clamped to the
    /// frame count): the next frame returned is the one with zero-based index `frame`.
    pub fn seek(&mut self, frame: usize) {
        self.position = frame.min(self.frame_count());
    }
}

impl Iterator for FrameCursor {
    type Item = Frame;

    fn next(&mut self) -> Option<Frame> {
        self.next_frame()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining(), Some(self.remaining()))
    }
}

impl ExactSizeIterator for FrameCursor {}
