//! At most one log line per peer address per interval, with a count of the lines held back.
//!
//! A client retrying a wrong password (or a scanner) must not be able to fill the log: the
//! runtime asks [`LogLimiter::admit`] before writing each auth-failure or over-limit line.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

/// Addresses remembered at most; beyond that the table restarts (a flood from more addresses
/// than this gets one line per address per interval at worst, still bounded by the flood).
const MAX_ADDRESSES: usize = 4096;

/// Per-address log rate limiter (sans-I/O: `now` is any monotonic duration).
#[derive(Debug, Clone)]
pub struct LogLimiter {
    interval: Duration,
    seen: HashMap<IpAddr, Entry>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    logged_at: Duration,
    suppressed: u64,
}

impl LogLimiter {
    /// One line per address per `interval`.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            seen: HashMap::new(),
        }
    }

    /// `Some(n)` when a line for `ip` may be written now, `n` being how many were held back
    /// since the last one; `None` when this one is to be held back (and counted).
    pub fn admit(&mut self, ip: IpAddr, now: Duration) -> Option<u64> {
        if let Some(e) = self.seen.get_mut(&ip) {
            if now.saturating_sub(e.logged_at) < self.interval {
                e.suppressed = e.suppressed.saturating_add(1);
                return None;
            }
            let held = e.suppressed;
            *e = Entry {
                logged_at: now,
                suppressed: 0,
            };
            return Some(held);
        }
        if self.seen.len() >= MAX_ADDRESSES {
            let interval = self.interval;
            self.seen
                .retain(|_, e| now.saturating_sub(e.logged_at) < interval);
            if self.seen.len() >= MAX_ADDRESSES {
                self.seen.clear();
            }
        }
        self.seen.insert(
            ip,
            Entry {
                logged_at: now,
                suppressed: 0,
            },
        );
        Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_with_the_count() {
        let mut l = LogLimiter::new(Duration::from_secs(10));
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let s = Duration::from_secs;
        assert_eq!(l.admit(a, s(100)), Some(0));
        assert_eq!(l.admit(a, s(101)), None);
        assert_eq!(l.admit(a, s(109)), None);
        assert_eq!(l.admit(b, s(109)), Some(0));
        assert_eq!(l.admit(a, s(110)), Some(2));
        assert_eq!(l.admit(a, s(111)), None);
    }

    #[test]
    fn bounded() {
        let mut l = LogLimiter::new(Duration::from_secs(10));
        for i in 0..(MAX_ADDRESSES as u32 + 10) {
            assert_eq!(
                l.admit(IpAddr::from(i.to_be_bytes()), Duration::ZERO),
                Some(0)
            );
        }
        assert!(l.seen.len() <= MAX_ADDRESSES);
    }
}
