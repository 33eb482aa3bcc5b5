//! Process limits a server with thousands of sessions needs (also used by the load generator,
//! which holds as many sockets as the server).
//!
//! A resource limit is process-wide state, which belongs to the program, not to a library it
//! links: nothing in this crate calls [`raise_open_files`], not `Server::start`, not the C ABI,
//! not the Python bindings. The `rtsp-server` and `rtsp-bench` binaries call it at start; an
//! embedder that runs many sessions in-process decides for itself (and may call it too).

/// Raises the soft open-file limit to the hard limit. Each UDP session holds three descriptors
/// (its RTSP connection and an RTP/RTCP socket pair), so the common soft default of 1024 would
/// cap the server at about 340 sessions long before CPU or memory do. Returns the new soft limit.
pub fn raise_open_files() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit read and write a live, correctly typed struct.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return None;
            }
            if lim.rlim_cur < lim.rlim_max {
                let want = libc::rlimit {
                    rlim_cur: lim.rlim_max,
                    rlim_max: lim.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                    lim = want;
                }
            }
        }
        // rlim_t is u64 on Linux but not everywhere.
        #[allow(clippy::unnecessary_cast)]
        Some(lim.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn the_soft_limit_ends_at_the_hard_limit() {
        let soft = super::raise_open_files().unwrap();
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: as above.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
        assert_eq!(lim.rlim_cur, lim.rlim_max);
        #[allow(clippy::unnecessary_cast)]
        let cur = lim.rlim_cur as u64;
        assert_eq!(soft, cur);
    }
}
