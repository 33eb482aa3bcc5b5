//! An MJPEG file held in memory with an index of its frames.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::ops::{Deref, Range};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::cursor::FrameCursor;
use super::error::MediaError;
use super::framing::{self, LAB_PREFIX_LEN};

/// The container formats an [`MjpegFile`] can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MjpegFormat {
    /// The lab's `.Mjpeg`: each JPEG is preceded by its length as 5 ASCII digits.
    Lab,
    /// Raw concatenated JPEG images (`.mjpeg`/`.mjpg`, as `ffmpeg -f mjpeg` writes them).
    Raw,
}

impl MjpegFormat {
    /// The format a file name's extension suggests, if any.
    ///
    /// `.Mjpeg` (exactly that case, as the lab names it) is the lab format; `.mjpeg`, `.mjpg`
    /// (any other case), `.jpg` and `.jpeg` are raw JPEG.
    pub fn from_extension(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?;
        if ext == "Mjpeg" {
            return Some(Self::Lab);
        }
        match ext.to_ascii_lowercase().as_str() {
            "mjpeg" | "mjpg" | "jpg" | "jpeg" => Some(Self::Raw),
            _ => None,
        }
    }

    /// The format the first bytes of `data` show, if they are decisive.
    ///
    /// Raw JPEG starts with `FF D8`; a lab file starts with 5 ASCII digits (possibly
    /// space-padded). The two signatures cannot both match.
    pub fn sniff(data: &[u8]) -> Option<Self> {
        if data.starts_with(&[0xFF, 0xD8]) {
            return Some(Self::Raw);
        }
        let prefix = data.get(..LAB_PREFIX_LEN)?;
        framing::parse_lab_prefix(prefix).map(|_| Self::Lab)
    }
}

impl fmt::Display for MjpegFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Lab => "lab .Mjpeg",
            Self::Raw => "raw concatenated JPEG",
        })
    }
}

/// Resource limits applied when a file is opened.
///
/// Files come from disk or from users, so every dimension that costs memory is bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest file accepted, in bytes (default 1 GiB). The whole file is held in memory.
    pub max_file_size: u64,
    /// Largest frame accepted, in bytes (default 16 MiB, the most an RFC 2435 fragment offset
    /// can address).
    pub max_frame_size: usize,
    /// Most frames accepted (default 4 Mi frames, about 58 hours at 20 fps).
    pub max_frames: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_size: 1 << 30,
            max_frame_size: 1 << 24,
            max_frames: 1 << 22,
        }
    }
}

/// How to open an [`MjpegFile`]: forced format and limits.
///
/// ```no_run
/// # use rtsp_core::media::{MjpegFormat, OpenOptions};
/// let file = OpenOptions::new()
///     .format(MjpegFormat::Raw)
///     .max_file_size(64 << 20)
///     .open("clip.bin")?;
/// # Ok::<(), rtsp_core::media::MediaError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    format: Option<MjpegFormat>,
    limits: Limits,
}

impl OpenOptions {
    /// Default options: format detected, default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Forces the container format instead of detecting it.
    pub fn format(mut self, format: MjpegFormat) -> Self {
        self.format = Some(format);
        self
    }

    /// Replaces all limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets [`Limits::max_file_size`].
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.limits.max_file_size = bytes;
        self
    }

    /// Sets [`Limits::max_frame_size`].
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.limits.max_frame_size = bytes;
        self
    }

    /// Sets [`Limits::max_frames`].
    pub fn max_frames(mut self, frames: usize) -> Self {
        self.limits.max_frames = frames;
        self
    }

    /// Reads the file at `path` into memory and indexes its frames.
    ///
    /// Unless a format was forced, the content decides when its first bytes are decisive
    /// (see [`MjpegFormat::sniff`]), and the extension otherwise. Content comes first because
    /// the lab's `.Mjpeg` and ffmpeg's `.mjpeg` differ only in letter case, which
    /// case-insensitive file systems and people lose.
    pub fn open(&self, path: impl AsRef<Path>) -> Result<MjpegFile, MediaError> {
        let path = path.as_ref();
        let limit = self.limits.max_file_size;
        let file = File::open(path)?;
        let declared = file.metadata()?.len();
        if declared > limit {
            return Err(MediaError::FileTooLarge {
                size: declared,
                limit,
            });
        }
        // The file may grow between stat and read, so the read itself is bounded as well.
        let capacity = usize::try_from(declared).unwrap_or(0);
        let mut data = Vec::with_capacity(capacity);
        file.take(limit.saturating_add(1)).read_to_end(&mut data)?;
        let read = u64::try_from(data.len()).unwrap_or(u64::MAX);
        if read > limit {
            return Err(MediaError::FileTooLarge { size: read, limit });
        }
        let hint = self.format.or_else(|| MjpegFormat::from_extension(path));
        self.index(data, hint, self.format.is_some())
    }

    /// Indexes an in-memory file. Without a forced format the content decides, and data
    /// that looks like neither format is [`MediaError::UnknownFormat`].
    pub fn open_bytes(&self, data: impl Into<Vec<u8>>) -> Result<MjpegFile, MediaError> {
        self.index(data.into(), self.format, self.format.is_some())
    }

    fn index(
        &self,
        data: Vec<u8>,
        hint: Option<MjpegFormat>,
        forced: bool,
    ) -> Result<MjpegFile, MediaError> {
        if data.is_empty() {
            return Err(MediaError::Empty);
        }
        let size = u64::try_from(data.len()).unwrap_or(u64::MAX);
        if size > self.limits.max_file_size {
            return Err(MediaError::FileTooLarge {
                size,
                limit: self.limits.max_file_size,
            });
        }
        let sniffed = MjpegFormat::sniff(&data);
        let format = match (forced, hint, sniffed) {
            (true, Some(format), _) => format,
            (_, _, Some(format)) => format,
            (_, Some(format), None) => format,
            (_, None, None) => return Err(MediaError::UnknownFormat),
        };
        let index = match format {
            MjpegFormat::Lab => framing::index_lab(&data, &self.limits)?,
            MjpegFormat::Raw => framing::index_raw(&data, &self.limits)?,
        };
        if index.is_empty() {
            return Err(MediaError::Empty);
        }
        Ok(MjpegFile {
            inner: Arc::new(Inner {
                data: Arc::new(data),
                index,
                format,
            }),
        })
    }
}

struct Inner {
    data: Arc<Vec<u8>>,
    /// Byte range of every frame inside `data`; validated at open, so always in bounds.
    index: Vec<Range<usize>>,
    format: MjpegFormat,
}

/// An MJPEG file read once into an immutable shared buffer, with a frame index built at open.
///
/// Cloning is cheap (a reference count), and frame access is O(1). Sessions that stream the
/// same file share one copy of it.
#[derive(Clone)]
pub struct MjpegFile {
    inner: Arc<Inner>,
}

impl fmt::Debug for MjpegFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the bytes: files can be a gigabyte.
        f.debug_struct("MjpegFile")
            .field("format", &self.inner.format)
            .field("frames", &self.inner.index.len())
            .field("bytes", &self.inner.data.len())
            .finish()
    }
}

impl MjpegFile {
    /// Opens `path` with default [`OpenOptions`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, MediaError> {
        OpenOptions::new().open(path)
    }

    /// Indexes in-memory bytes with default [`OpenOptions`].
    pub fn from_bytes(data: impl Into<Vec<u8>>) -> Result<Self, MediaError> {
        OpenOptions::new().open_bytes(data)
    }

    /// The container format of the file.
    pub fn format(&self) -> MjpegFormat {
        self.inner.format
    }

    /// Number of frames.
    pub fn frame_count(&self) -> usize {
        self.inner.index.len()
    }

    /// The JPEG bytes of frame `n` (zero-based), or `None` past the end.
    pub fn frame(&self, n: usize) -> Option<&[u8]> {
        let range = self.inner.index.get(n)?;
        self.inner.data.get(range.clone())
    }

    /// A handle on frame `n` that owns a reference to the file's buffer: it can be sent to
    /// another thread and outlive this `MjpegFile` without copying the JPEG.
    pub fn frame_handle(&self, n: usize) -> Option<Frame> {
        let range = self.inner.index.get(n)?.clone();
        Some(Frame {
            buf: Arc::clone(&self.inner.data),
            range,
            index: n,
        })
    }

    /// Byte range of frame `n`'s JPEG inside the file (without the lab length prefix).
    pub fn frame_range(&self, n: usize) -> Option<Range<usize>> {
        self.inner.index.get(n).cloned()
    }

    /// All frames in order.
    pub fn frames(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        let data: &[u8] = &self.inner.data;
        self.inner
            .index
            .iter()
            .map(move |range| data.get(range.clone()).unwrap_or_default())
    }

    /// The whole file as read from disk.
    pub fn as_bytes(&self) -> &[u8] {
        &self.inner.data
    }

    /// Playing time of the file at `fps` frames per second, or `None` if `fps` is not a
    /// positive finite number.
    pub fn duration(&self, fps: f64) -> Option<Duration> {
        if !(fps.is_finite() && fps > 0.0) {
            return None;
        }
        // Exact for integer rates up to 2^53 frames, far beyond `Limits::max_frames`.
        let frames = self.frame_count() as f64;
        Duration::try_from_secs_f64(frames / fps).ok()
    }

    /// The frame shown at `seconds` into the file at `fps`: frame `n` is shown at `n / fps`,
    /// so this is the nearest such frame, clamped to the file. `None` if `fps` is not a
    /// positive finite number or `seconds` is NaN.
    pub fn frame_at_time(&self, seconds: f64, fps: f64) -> Option<usize> {
        if !(fps.is_finite() && fps > 0.0) || seconds.is_nan() {
            return None;
        }
        let last = self.frame_count().saturating_sub(1);
        let nearest = (seconds * fps).round();
        if nearest <= 0.0 {
            return Some(0);
        }
        // Float-to-int `as` saturates, and the comparison keeps it within the file.
        let n = nearest as usize;
        Some(n.min(last))
    }

    /// A cursor over the frames with the lab `VideoStream` semantics.
    pub fn cursor(&self) -> FrameCursor {
        FrameCursor::new(self.clone())
    }
}

/// One frame of an [`MjpegFile`], shareable across threads without copying.
///
/// Dereferences to the JPEG bytes.
#[derive(Clone)]
pub struct Frame {
    buf: Arc<Vec<u8>>,
    range: Range<usize>,
    index: usize,
}

impl Frame {
    /// The JPEG bytes.
    pub fn as_bytes(&self) -> &[u8] {
        // The range was validated against this buffer when the file was indexed.
        self.buf.get(self.range.clone()).unwrap_or_default()
    }

    /// Zero-based index of the frame in its file.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Byte range of the JPEG inside its file.
    pub fn range(&self) -> Range<usize> {
        self.range.clone()
    }
}

impl Deref for Frame {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Frame {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("index", &self.index)
            .field("range", &self.range)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab_file(frames: &[&[u8]]) -> Vec<u8> {
        let mut v = Vec::new();
        for f in frames {
            v.extend_from_slice(format!("{:05}", f.len()).as_bytes());
            v.extend_from_slice(f);
        }
        v
    }

    const J1: &[u8] = &[0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0x01, 0xFF, 0xD9];
    const J2: &[u8] = &[0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0x02, 0x03, 0xFF, 0xD9];

    #[test]
    fn extension_hints() {
        assert_eq!(
            MjpegFormat::from_extension(Path::new("movie.Mjpeg")),
            Some(MjpegFormat::Lab)
        );
        assert_eq!(
            MjpegFormat::from_extension(Path::new("a/b.mjpeg")),
            Some(MjpegFormat::Raw)
        );
        assert_eq!(
            MjpegFormat::from_extension(Path::new("x.MJPG")),
            Some(MjpegFormat::Raw)
        );
        assert_eq!(MjpegFormat::from_extension(Path::new("x.mp4")), None);
        assert_eq!(MjpegFormat::from_extension(Path::new("noext")), None);
    }

    #[test]
    fn sniffing() {
        assert_eq!(MjpegFormat::sniff(J1), Some(MjpegFormat::Raw));
        assert_eq!(MjpegFormat::sniff(&lab_file(&[J1])), Some(MjpegFormat::Lab));
        assert_eq!(MjpegFormat::sniff(b"12"), None);
        assert_eq!(MjpegFormat::sniff(b"GIF89a"), None);
    }

    #[test]
    fn content_beats_a_case_mangled_extension() {
        let dir = std::env::temp_dir().join(format!("rtsp-core-media-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("movie.mjpeg");
        std::fs::write(&path, lab_file(&[J1, J2])).unwrap();
        let file = MjpegFile::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(file.format(), MjpegFormat::Lab);
        assert_eq!(file.frame(1), Some(J2));
    }

    #[test]
    fn forced_format_is_not_overridden() {
        let err = OpenOptions::new()
            .format(MjpegFormat::Raw)
            .open_bytes(lab_file(&[J1]))
            .unwrap_err();
        assert!(matches!(
            err,
            MediaError::Corrupt {
                frame: 0,
                offset: 0,
                ..
            }
        ));
    }

    #[test]
    fn file_size_limit_applies_to_bytes() {
        let err = OpenOptions::new()
            .max_file_size(8)
            .open_bytes(J1.to_vec())
            .unwrap_err();
        assert!(matches!(
            err,
            MediaError::FileTooLarge { size: 9, limit: 8 }
        ));
    }

    #[test]
    fn empty_and_unknown() {
        assert!(matches!(
            MjpegFile::from_bytes(Vec::new()),
            Err(MediaError::Empty)
        ));
        assert!(matches!(
            MjpegFile::from_bytes(b"hello world".to_vec()),
            Err(MediaError::UnknownFormat)
        ));
    }

    #[test]
    fn frame_handle_outlives_file_and_crosses_threads() {
        let file = MjpegFile::from_bytes(lab_file(&[J1, J2])).unwrap();
        let handle = file.frame_handle(1).unwrap();
        drop(file);
        let bytes = std::thread::spawn(move || handle.as_bytes().to_vec())
            .join()
            .unwrap();
        assert_eq!(bytes, J2);
    }

    #[test]
    fn time_helpers_reject_bad_rates() {
        let file = MjpegFile::from_bytes(lab_file(&[J1, J2])).unwrap();
        assert_eq!(file.duration(0.0), None);
        assert_eq!(file.duration(f64::NAN), None);
        assert_eq!(file.duration(-20.0), None);
        assert_eq!(file.frame_at_time(1.0, f64::INFINITY), None);
        assert_eq!(file.frame_at_time(f64::NAN, 20.0), None);
        assert_eq!(file.frame_at_time(f64::INFINITY, 20.0), Some(1));
        assert_eq!(file.frame_at_time(f64::NEG_INFINITY, 20.0), Some(0));
    }
}
