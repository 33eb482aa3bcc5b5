//! Telling a machine that ran out of something from a fault.

use std::io;

/// Whether `e` means the machine ran out of something (descriptors, buffer memory, free
/// ports) rather than that something is broken: a client may retry later (503 Service
/// Unavailable), there is nothing to repair (500), and nothing about the request is wrong.
pub fn exhausted(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    ) || e.kind() == io::ErrorKind::AddrInUse
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_out_is_told_from_failing() {
        for code in [
            libc::EMFILE,
            libc::ENFILE,
            libc::ENOBUFS,
            libc::ENOMEM,
            libc::EADDRINUSE,
        ] {
            assert!(exhausted(&io::Error::from_raw_os_error(code)), "{code}");
        }
        for code in [
            libc::EACCES,
            libc::EINVAL,
            libc::EADDRNOTAVAIL,
            libc::ENOENT,
        ] {
            assert!(!exhausted(&io::Error::from_raw_os_error(code)), "{code}");
        }
    }
}
