//! The server's monotonic clock origin, shared by every thread so that "milliseconds since
//! start" values stored in atomics compare across threads.

use std::time::Instant;

/// A monotonic origin. Copy it freely.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    origin: Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    /// A clock starting now.
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }

    /// The origin.
    pub fn origin(&self) -> Instant {
        self.origin
    }

    /// Milliseconds since the origin.
    pub fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}
