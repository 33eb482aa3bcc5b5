//! A worker's frame-deadline timer with sub-millisecond precision.
//!
//! The event loop's poll timeout has millisecond granularity (epoll rounds up), which would
//! make every frame up to a millisecond late. On Linux a `timerfd` registered in the same poll
//! wakes the loop at the deadline to the microsecond; elsewhere the poll timeout alone paces.

use std::io;
use std::time::{Duration, Instant};

#[cfg(target_os = "linux")]
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A one-shot monotonic timer whose expiry makes its descriptor readable.
pub struct DeadlineTimer {
    #[cfg(target_os = "linux")]
    fd: OwnedFd,
    armed: Option<Instant>,
}

impl DeadlineTimer {
    /// A disarmed timer.
    pub fn new() -> io::Result<Self> {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: timerfd_create takes plain integers; a non-negative result is a new
            // descriptor that we own from here on.
            let fd = unsafe {
                libc::timerfd_create(
                    libc::CLOCK_MONOTONIC,
                    libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
                )
            };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `fd` is a fresh descriptor owned by nobody else.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            Ok(Self { fd, armed: None })
        }
        #[cfg(not(target_os = "linux"))]
        Ok(Self { armed: None })
    }

    /// The descriptor to register for readability, where there is one.
    #[cfg(target_os = "linux")]
    pub fn raw_fd(&self) -> Option<std::os::fd::RawFd> {
        Some(self.fd.as_raw_fd())
    }

    /// The descriptor to register for readability, where there is one.
    #[cfg(not(target_os = "linux"))]
    pub fn raw_fd(&self) -> Option<i32> {
        None
    }

    /// Make sure the timer fires at `at` (at once if it has passed); returns whether the timer
    /// will wake the loop (false: the poll timeout must).
    pub fn arm(&mut self, at: Instant, now: Instant) -> bool {
        if self.armed == Some(at) {
            return true;
        }
        // A zero it_value would disarm the timer: a deadline that passed fires a nanosecond on.
        let delay = at
            .saturating_duration_since(now)
            .max(Duration::from_nanos(1));
        if self.set(delay) {
            self.armed = Some(at);
            true
        } else {
            false
        }
    }

    /// Consume an expiry (after the descriptor was reported readable).
    pub fn expired(&mut self) {
        self.armed = None;
        #[cfg(target_os = "linux")]
        {
            let mut count = [0u8; 8];
            // SAFETY: reads at most 8 bytes into `count`; nonblocking, so it cannot hang.
            let _ =
                unsafe { libc::read(self.fd.as_raw_fd(), count.as_mut_ptr().cast(), count.len()) };
        }
    }

    #[cfg(target_os = "linux")]
    fn set(&self, delay: Duration) -> bool {
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: libc::time_t::try_from(delay.as_secs()).unwrap_or(libc::time_t::MAX),
                tv_nsec: libc::c_long::from(delay.subsec_nanos() as i32),
            },
        };
        // SAFETY: `spec` is a valid itimerspec; the old value is not asked for (null).
        let rc =
            unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        rc == 0
    }

    #[cfg(not(target_os = "linux"))]
    fn set(&self, _: Duration) -> bool {
        false
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn an_armed_timer_becomes_readable_and_rearms() {
        let mut t = DeadlineTimer::new().unwrap();
        let fd = t.raw_fd().unwrap();
        let readable = |ms: i32| {
            let mut p = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut p, 1, ms) == 1 }
        };
        assert!(!readable(0));
        let now = Instant::now();
        assert!(t.arm(now + Duration::from_millis(5), now));
        // Generous: a loaded machine may run the test thread late, never early.
        assert!(readable(10_000));
        t.expired();
        assert!(!readable(0));
        // A deadline in the past fires at once.
        let now = Instant::now();
        assert!(t.arm(now - Duration::from_millis(5), now));
        assert!(readable(10_000));
        t.expired();
    }
}
