//! `VideoStream`: the lab's class on the engine's indexed MJPEG file, with the report's seeking.

use std::path::PathBuf;

use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rtsp_core::media::{FrameCursor, MjpegFile};

use crate::errors::{media_error, value_error};

/// How far FORWARD and BACKWARD move by default: the lab report's 20 frames (one second).
const SKIP_FRAMES: usize = 20;

/// Reads an MJPEG file frame by frame, with the lab's `VideoStream` interface.
///
/// `VideoStream(filename)` opens a lab `.Mjpeg` file (5 ASCII digits of length, then the JPEG,
/// repeated) or raw concatenated JPEG, and indexes it once, so seeking is O(1).
/// `nextFrame()` returns the next frame's bytes (`b''` at the end) and `frameNbr()` the number of
/// frames returned so far, exactly as the lab's class. The lab report's extension adds
/// `totalFrames()`, `forward()`, `backward()`, `restart()` and `toFrame()`.
///
/// A file that cannot be opened raises the matching `OSError` (`FileNotFoundError`, ...), as
/// the lab's class raises `IOError` (which the lab's server answers with 404); a file that is not
/// MJPEG raises `rtsp_core.MediaError` (an `OSError` and a `ValueError`).
#[pyclass(module = "rtsp_core._native", subclass, frozen)]
pub struct VideoStream {
    filename: Py<PyAny>,
    cursor: Mutex<FrameCursor>,
}

#[pymethods]
impl VideoStream {
    #[new]
    fn new(py: Python<'_>, filename: Bound<'_, PyAny>) -> PyResult<Self> {
        let path: PathBuf = filename.extract()?;
        let file = py.detach(|| MjpegFile::open(&path)).map_err(media_error)?;
        Ok(Self {
            filename: filename.unbind(),
            cursor: Mutex::new(file.cursor()),
        })
    }

    /// The file name the stream was opened with (the lab keeps it as `self.filename`).
    #[getter]
    fn filename(&self, py: Python<'_>) -> Py<PyAny> {
        self.filename.clone_ref(py)
    }

    /// Get next frame: its JPEG bytes, or `b''` after the last frame.
    #[pyo3(name = "nextFrame")]
    fn next_frame<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let frame = self.cursor.lock().next_frame();
        match frame {
            Some(f) => PyBytes::new(py, f.as_bytes()),
            None => PyBytes::new(py, b""),
        }
    }

    /// Get frame number: how many frames `nextFrame()` has returned (1 after the first).
    #[pyo3(name = "frameNbr")]
    fn frame_nbr(&self) -> usize {
        self.cursor.lock().frame_nbr()
    }

    /// Total number of frames in the file (the report's `Frames:` header value).
    #[pyo3(name = "totalFrames")]
    fn total_frames(&self) -> usize {
        self.cursor.lock().frame_count()
    }

    /// Skip `frames` frames ahead (default 20), stopping at the end.
    #[pyo3(signature = (frames = SKIP_FRAMES))]
    fn forward(&self, frames: usize) {
        self.cursor.lock().forward(frames);
    }

    /// Go `frames` frames back (default 20), stopping at the start.
    #[pyo3(signature = (frames = SKIP_FRAMES))]
    fn backward(&self, frames: usize) {
        self.cursor.lock().backward(frames);
    }

    /// Back to the start: the next frame is the first one and `frameNbr()` is 0.
    fn restart(&self) {
        self.cursor.lock().restart();
    }

    /// Move so that `frameNbr()` is `frameNum` and `nextFrame()` returns frame `frameNum + 1`
    /// (1-based), like the report's `toFrame`. Raises `ValueError` past the end.
    #[pyo3(name = "toFrame", text_signature = "($self, frameNum)")]
    fn to_frame(&self, frame_num: usize) -> PyResult<()> {
        let mut cursor = self.cursor.lock();
        if frame_num > cursor.frame_count() {
            return Err(value_error(format!(
                "frame {frame_num} is past the end ({} frames)",
                cursor.frame_count()
            )));
        }
        cursor.seek(frame_num);
        Ok(())
    }

    fn __len__(&self) -> usize {
        self.total_frames()
    }

    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        let frame = self.cursor.lock().next_frame();
        frame.map(|f| PyBytes::new(py, f.as_bytes()))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let cursor = self.cursor.lock();
        Ok(format!(
            "VideoStream({}, frame {} of {})",
            self.filename.bind(py).repr()?,
            cursor.frame_nbr(),
            cursor.frame_count()
        ))
    }
}
