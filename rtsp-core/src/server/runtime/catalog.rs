//! The media root: resolves presentation names to loaded sources, each loaded once.
//!
//! Confinement has two halves. `crate::server::target` refuses names that are lexically
//! outside the root (`..`, absolute paths, backslashes, control characters). This module then
//! canonicalizes the joined path, which resolves symlinks, and refuses anything whose real
//! location is not under the canonical root, so a symlink pointing out of the root is a 404
//! like a missing file (the reply does not reveal which).

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::server::{Refusal, Target};
use parking_lot::Mutex;

use crate::server::runtime::clock::Clock;
use crate::server::runtime::source::Source;

/// Files and the test source, loaded on first use and then shared.
pub struct Catalog {
    root: PathBuf,
    transcode: bool,
    files: Mutex<HashMap<PathBuf, Result<Arc<Source>, Refusal>>>,
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
        // Loading under the lock keeps two first requests for one file from loading it twice;
        // it takes milliseconds for lab-sized files and happens once per file.
        let mut files = self.files.lock();
        if let Some(entry) = files.get(&real) {
            return entry.clone();
        }
        let started = std::time::Instant::now();
        let entry = match Source::load_file(&target.presentation, &real, self.transcode) {
            Ok(s) => {
                tracing::info!(
                    file = %target.presentation,
                    frames = ?s.total_frames(),
                    width = s.width(),
                    height = s.height(),
                    ms = started.elapsed().as_millis() as u64,
                    "loaded media"
                );
                Ok(Arc::new(s))
            }
            Err(e) => {
                tracing::warn!(file = %target.presentation, error = %e, "cannot serve file");
                Err(Refusal::UnsupportedMedia("not a valid MJPEG file"))
            }
        };
        files.insert(real, entry.clone());
        entry
    }
}
