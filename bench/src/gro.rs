//! Receive-side UDP coalescing (Linux `UDP_GRO`).
//!
//! A server that sends a frame's packets as one segmentation-offload train can have them
//! delivered to a GRO-enabled socket as one buffer plus the segment size, which saves the
//! generator (sharing the machine with the server under test) most of its per-packet receive
//! cost. Servers that send datagrams one by one are received exactly as before: the kernel only
//! coalesces what arrived as a train. The datagrams are split back here, so the statistics see
//! the same packets either way.

use std::io;

use mio::net::UdpSocket;

/// Asks the kernel to deliver segmentation-offload trains whole. Returns whether it agreed.
pub fn enable(socket: &UdpSocket) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let on: libc::c_int = 1;
        // SAFETY: a plain setsockopt with a pointer to a live c_int and its size.
        let rc = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_UDP,
                libc::UDP_GRO,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        rc == 0
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = socket;
        false
    }
}

/// Receives one buffer: `(length, segment size)`; a segment size is present when the buffer holds
/// several datagrams of that size back to back (the last may be shorter).
pub fn recv(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<(usize, Option<usize>)> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let mut control = [0u64; 8];
        // SAFETY: msghdr is a plain C struct for which all-zero is valid.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: every pointer in `msg` refers to live buffers of the stated sizes.
        let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut segment = None;
        // SAFETY: the kernel filled `control` up to msg_controllen with well-formed cmsgs; the
        // CMSG_* macros walk them within that length.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            while !cmsg.is_null() {
                if (*cmsg).cmsg_level == libc::SOL_UDP && (*cmsg).cmsg_type == libc::UDP_GRO {
                    let size =
                        std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const libc::c_int);
                    segment = usize::try_from(size).ok().filter(|&s| s > 0);
                }
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
        }
        Ok((usize::try_from(n).unwrap_or(0), segment))
    }
    #[cfg(not(target_os = "linux"))]
    {
        socket.recv(buf).map(|n| (n, None))
    }
}

/// The datagrams of a received buffer.
pub fn datagrams(buf: &[u8], segment: Option<usize>) -> impl Iterator<Item = &[u8]> {
    let size = segment.unwrap_or(buf.len()).max(1);
    buf.chunks(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_the_segment_size() {
        let buf: Vec<u8> = (0..10).collect();
        let parts: Vec<&[u8]> = datagrams(&buf, Some(4)).collect();
        assert_eq!(parts, vec![&[0, 1, 2, 3][..], &[4, 5, 6, 7], &[8, 9]]);
        assert_eq!(datagrams(&buf, None).count(), 1);
        assert_eq!(datagrams(&[], None).count(), 0);
    }
}
