//! The media root: resolves presentation names to loaded sources, each loaded once.
//!
//! Confinement has two halves. `crate::server::target` refuses names that are lexically
//! outside the root (`..`, absolute paths, backslashes, control characters). This module then
//! canonicalizes the joined path, which resolves symlinks, and refuses anything whose real
//! location is not under the canonical root, so a symlink pointing out of the root is a 404
//! like a missing file (the reply does not reveal which).
//!
//! A file is loaded (read, indexed, packetized) on first use and shared by every session. The
//! loading is done by a small pool of loader threads, not by the connection worker that got the
//! request: a request for a file that is not loaded is parked ([`Catalog::prefetch`]) and its
//! connection worker goes on serving its other connections until the loader calls it back.
//! Each file has its own lock, so loading one file holds up only the requests for that file. The
//! cache entry remembers the file's modification time and length: a file changed on disk is
//! loaded again on its next request (sessions playing the old content keep their copy), and a
//! file that failed to load is tried again once it changes, or after [`RETRY_FAILED`] in case
//! the failure was passing (a file still being copied in).

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, Sender};

use crate::server::{Refusal, Target};
use parking_lot::Mutex;

use crate::media::MediaError;
use crate::server::runtime::clock::Clock;
use crate::server::runtime::source::{LoadError, Source};

/// How long a failed load is remembered for a file that has not changed.
pub const RETRY_FAILED: Duration = Duration::from_secs(5);

/// Loader threads: loads of different files run side by side, without holding up connections.
const LOADERS: usize = 2;

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

/// Called once the file a parked request waits for is loaded (or failed to).
pub type Waiter = Box<dyn FnOnce() + Send>;

/// Requests waiting for a file, and whether a loader has it.
#[derive(Default)]
struct Pending {
    loading: bool,
    waiters: Vec<Waiter>,
}

/// One file: the lock on `loaded` is held while the file loads.
#[derive(Default)]
struct Slot {
    loaded: Mutex<Option<Loaded>>,
    pending: Mutex<Pending>,
}

/// A file resolved inside the root.
struct Resolved {
    name: String,
    real: PathBuf,
    stamp: Stamp,
    slot: Arc<Slot>,
}

/// Files and the test source, loaded on first use and then shared.
pub struct Catalog {
    root: PathBuf,
    transcode: bool,
    files: Mutex<HashMap<PathBuf, Arc<Slot>>>,
    test: Option<Arc<Source>>,
    loader_tx: Mutex<Option<Sender<Resolved>>>,
    loaders: Mutex<Vec<JoinHandle<()>>>,
}

impl Catalog {
    /// A catalog over `root` (which must be a directory), with its loader threads.
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
        let (tx, rx) = crossbeam_channel::unbounded::<Resolved>();
        let mut loaders = Vec::with_capacity(LOADERS);
        for i in 0..LOADERS {
            let rx = rx.clone();
            loaders.push(
                std::thread::Builder::new()
                    .name(format!("media-loader-{i}"))
                    .spawn(move || loader(&rx, transcode))?,
            );
        }
        Ok(Self {
            root,
            transcode,
            files: Mutex::new(HashMap::new()),
            test,
            loader_tx: Mutex::new(Some(tx)),
            loaders: Mutex::new(loaders),
        })
    }

    /// The canonical media root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether [`Catalog::open`] of `target` can answer now without loading. If not, a loader
    /// loads the file and then calls `waiter`, and `false` is returned: the caller parks the
    /// request until then.
    pub fn prefetch(&self, target: &Target, waiter: Waiter) -> bool {
        let Ok(Some(file)) = self.resolve(target) else {
            // The test source, or a refusal that `open` repeats without loading anything.
            return true;
        };
        let mut pending = file.slot.pending.lock();
        if !pending.loading {
            // A slot locked right now is being loaded by an `open` that did not prefetch.
            if let Some(loaded) = file.slot.loaded.try_lock() {
                if loaded.as_ref().is_some_and(|l| l.still_valid(file.stamp)) {
                    return true;
                }
            }
        }
        pending.waiters.push(waiter);
        if !pending.loading {
            let sent = self
                .loader_tx
                .lock()
                .as_ref()
                .is_some_and(|tx| tx.send(file.clone_handle()).is_ok());
            if !sent {
                // Shutting down: `open` answers inline rather than leaving the request parked.
                pending.waiters.clear();
                return true;
            }
            pending.loading = true;
        }
        false
    }

    /// Whether `target` names a file under the media root (not the test source).
    pub fn has_file(&self, target: &Target) -> bool {
        matches!(self.resolve(target), Ok(Some(_)))
    }

    /// The source a target names, loading it on first use (inline: callers that must not
    /// block [`Catalog::prefetch`] first).
    pub fn open(&self, target: &Target) -> Result<Arc<Source>, Refusal> {
        if target.is_test_source() {
            return self.test.clone().ok_or(Refusal::NotFound);
        }
        match self.resolve(target)? {
            Some(file) => load(&file, self.transcode),
            None => self.test.clone().ok_or(Refusal::NotFound),
        }
    }

    /// Stop the loader threads (after the connection workers, which park requests on them).
    pub fn shutdown(&self) {
        drop(self.loader_tx.lock().take());
        for t in self.loaders.lock().drain(..) {
            let _ = t.join();
        }
    }

    /// The file a target names inside the root (`None`: the test source).
    fn resolve(&self, target: &Target) -> Result<Option<Resolved>, Refusal> {
        if target.is_test_source() {
            return Ok(None);
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
        let slot = Arc::clone(self.files.lock().entry(real.clone()).or_default());
        Ok(Some(Resolved {
            name: target.presentation.clone(),
            real,
            stamp,
            slot,
        }))
    }
}

impl Resolved {
    fn clone_handle(&self) -> Self {
        Self {
            name: self.name.clone(),
            real: self.real.clone(),
            stamp: self.stamp,
            slot: Arc::clone(&self.slot),
        }
    }
}

/// The answer to a file that could not be loaded: 503 when the server ran out of descriptors
/// or memory opening it (a client may retry, and the file is not blamed), else the file is not
/// one we can serve.
fn load_refusal(e: &LoadError) -> Refusal {
    match e {
        LoadError::Media(MediaError::Io(io))
            if crate::server::runtime::resources::exhausted(io) =>
        {
            Refusal::ServiceUnavailable
        }
        _ => Refusal::UnsupportedMedia("not a valid MJPEG file"),
    }
}

/// A loader thread: load each file it is given, then wake the requests parked on it.
fn loader(rx: &Receiver<Resolved>, transcode: bool) {
    while let Ok(file) = rx.recv() {
        let _ = load(&file, transcode);
        let waiters = {
            let mut pending = file.slot.pending.lock();
            pending.loading = false;
            std::mem::take(&mut pending.waiters)
        };
        for wake in waiters {
            wake();
        }
    }
}

/// The file's source: the cached one while the file is unchanged, else loaded now under the
/// file's own lock (so two first requests for one file load it once, and other files are not
/// held up).
fn load(file: &Resolved, transcode: bool) -> Result<Arc<Source>, Refusal> {
    let mut loaded = file.slot.loaded.lock();
    if let Some(l) = loaded.as_ref().filter(|l| l.still_valid(file.stamp)) {
        return l.result.clone();
    }
    let started = Instant::now();
    tracing::info!(file = %file.name, "loading media");
    let result = match Source::load_file(&file.name, &file.real, transcode) {
        Ok(s) => {
            tracing::info!(
                file = %file.name,
                frames = ?s.total_frames(),
                width = s.width(),
                height = s.height(),
                ms = started.elapsed().as_millis() as u64,
                "loaded media"
            );
            Ok(Arc::new(s))
        }
        Err(e) => {
            let refusal = load_refusal(&e);
            tracing::warn!(file = %file.name, error = %e, "cannot serve file");
            if refusal == Refusal::ServiceUnavailable {
                // Not the file's fault: the next request tries again.
                return Err(refusal);
            }
            Err(refusal)
        }
    };
    *loaded = Some(Loaded {
        stamp: file.stamp,
        at: Instant::now(),
        result: result.clone(),
    });
    result
}

#[cfg(test)]
mod refusal_tests {
    use super::*;

    #[test]
    fn running_out_of_descriptors_is_503_and_a_bad_file_is_not() {
        for code in [libc::EMFILE, libc::ENFILE, libc::ENOMEM] {
            let e = LoadError::Media(MediaError::Io(io::Error::from_raw_os_error(code)));
            assert_eq!(load_refusal(&e), Refusal::ServiceUnavailable, "{code}");
        }
        let broken = LoadError::Media(MediaError::Io(io::Error::from_raw_os_error(libc::EIO)));
        assert!(matches!(
            load_refusal(&broken),
            Refusal::UnsupportedMedia(_)
        ));
        assert!(matches!(
            load_refusal(&LoadError::Empty),
            Refusal::UnsupportedMedia(_)
        ));
    }
}
