//! The media root: resolves presentation names to loaded sources, each loaded once.
//!
//! Confinement has two halves. `crate::server::target` refuses names that are lexically
//! outside the root (`..`, absolute paths, backslashes, control characters). This module then
//! canonicalizes the joined path, which resolves symlinks, and refuses anything whose real
//! location is not under the canonical root, so a symlink pointing out of the root is a 404
//! like a missing file (the reply does not reveal which).
//!
//! A file is loaded (read, indexed, packetized) on first use and shared by every session. Each
//! file has its own lock, so loading one file holds up only the requests for that file. The
//! cache entry remembers the file's modification time and length: a file changed on disk is
//! loaded again on its next request (sessions playing the old content keep their copy), and a
//! file that failed to load is tried again once it changes, or after [`RETRY_FAILED`] in case
//! the failure was passing (a file still being copied in).

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::server::{Refusal, Target};
use parking_lot::Mutex;

use crate::server::runtime::clock::Clock;
use crate::server::runtime::source::Source;

/// How long a failed load is remembered for a file that has not changed.
pub const RETRY_FAILED: Duration = Duration::from_secs(5);

/// What identifies one version of a file on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

impl Stamp {
    fn of(path: &Path) -> io::Result<Self> {
        let meta = std::fs::metadata(path)?;
        Ok(Self {
            modified: meta.modified().ok(),
            len: meta.len(),
        })
    }
}

/// One file's last load.
struct Loaded {
    stamp: Stamp,
    at: Instant,
    result: Result<Arc<Source>, Refusal>,
}

impl Loaded {
    fn still_valid(&self, stamp: Stamp) -> bool {
        self.stamp == stamp && (self.result.is_ok() || self.at.elapsed() < RETRY_FAILED)
    }
}

/// One file's slot: its lock is held while the file loads.
type Slot = Arc<Mutex<Option<Loaded>>>;

/// Files and the test source, loaded on first use and then shared.
pub struct Catalog {
    root: PathBuf,
    transcode: bool,
    files: Mutex<HashMap<PathBuf, Slot>>,
    test: Option<Arc<Source>>,
}

impl Catalog {
    /// A catalog over `root` (which must be a directory).
    pub fn new(root: &Path, fps: f64, transcode: bool, clock: Clock) -> io::Result<Self> {
        let root = root.canonicalize()?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("media root {} is not a directory", root.display()),
            ));
        }
        let test = match Source::test_pattern(fps, clock.origin()) {
            Ok(s) => Some(Arc::new(s)),
            Err(e) => {
                tracing::warn!(error = %e, "test source unavailable");
                None
            }
        };
        Ok(Self {
            root,
            transcode,
            files: Mutex::new(HashMap::new()),
            test,
        })
    }

    /// The canonical media root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The source a target names, loading it on first use.
    pub fn open(&self, target: &Target) -> Result<Arc<Source>, Refusal> {
        if target.is_test_source() {
            return self.test.clone().ok_or(Refusal::NotFound);
        }
        if !target.has_mjpeg_extension() {
            return Err(Refusal::NotFound);
        }
        let mut path = self.root.clone();
        for seg in target.segments() {
            path.push(seg);
        }
        let real = path.canonicalize().map_err(|_| Refusal::NotFound)?;
        if !real.starts_with(&self.root) {
            tracing::warn!(name = %target.presentation, "refused: resolves outside the media root");
            return Err(Refusal::NotFound);
        }
        if !real.is_file() {
            return Err(Refusal::NotFound);
        }
        let stamp = Stamp::of(&real).map_err(|_| Refusal::NotFound)?;
        // The map's lock only finds the slot; the slot's lock is held while its file loads, so
        // two first requests for one file load it once and other files are not held up.
        let slot = Arc::clone(self.files.lock().entry(real.clone()).or_default());
        let mut slot = slot.lock();
        if let Some(loaded) = slot.as_ref().filter(|l| l.still_valid(stamp)) {
            return loaded.result.clone();
        }
        let result = self.load(&target.presentation, &real);
        *slot = Some(Loaded {
            stamp,
            at: Instant::now(),
            result: result.clone(),
        });
        result
    }

    fn load(&self, name: &str, real: &Path) -> Result<Arc<Source>, Refusal> {
        let started = Instant::now();
        match Source::load_file(name, real, self.transcode) {
            Ok(s) => {
                tracing::info!(
                    file = %name,
                    frames = ?s.total_frames(),
                    width = s.width(),
                    height = s.height(),
                    ms = started.elapsed().as_millis() as u64,
                    "loaded media"
                );
                Ok(Arc::new(s))
            }
            Err(e) => {
                tracing::warn!(file = %name, error = %e, "cannot serve file");
                Err(Refusal::UnsupportedMedia("not a valid MJPEG file"))
            }
        }
    }
}
