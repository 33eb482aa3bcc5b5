//! Server-side UDP ports for RTP/RTCP pairs.
//!
//! RFC 3550 wants RTP on an even port and RTCP on the next odd one. Pairs are taken from a range
//! starting at `--rtp-port-base`, walking a shared cursor so that a port freed a moment ago (a
//! client may still be sending to it) is not the first one handed out again.

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};

use socket2::{Domain, Protocol, Socket, Type};

/// How many consecutive pairs are tried before giving up.
const PAIRS_TRIED: u32 = 2048;

/// Hands out even/odd UDP port pairs.
#[derive(Debug)]
pub struct PortAllocator {
    ip: IpAddr,
    base: u16,
    cursor: AtomicU32,
}

/// A bound RTP/RTCP socket pair.
#[derive(Debug)]
pub struct PortPair {
    /// Even port: RTP.
    pub rtp: UdpSocket,
    /// Odd port: RTCP.
    pub rtcp: UdpSocket,
}

impl PortPair {
    /// The RTP port (the RTCP port is one more).
    pub fn rtp_port(&self) -> u16 {
        self.rtp.local_addr().map(|a| a.port()).unwrap_or(0)
    }
}

impl PortAllocator {
    /// Pairs on `ip` starting at `base` (rounded up to even).
    pub fn new(ip: IpAddr, base: u16) -> Self {
        Self {
            ip,
            base: base.saturating_add(base % 2),
            cursor: AtomicU32::new(0),
        }
    }

    /// Bind the next free pair, both sockets nonblocking.
    pub fn allocate(&self) -> io::Result<PortPair> {
        let span = u32::from((u16::MAX - self.base) / 2).max(1);
        for _ in 0..PAIRS_TRIED.min(span) {
            let i = self.cursor.fetch_add(1, Ordering::Relaxed) % span;
            let Ok(port) = u16::try_from(u32::from(self.base) + 2 * i) else {
                continue;
            };
            let Some(next) = port.checked_add(1) else {
                continue;
            };
            let Ok(rtp) = bind(SocketAddr::new(self.ip, port)) else {
                continue;
            };
            let Ok(rtcp) = bind(SocketAddr::new(self.ip, next)) else {
                continue;
            };
            return Ok(PortPair { rtp, rtcp });
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            "no free RTP/RTCP port pair",
        ))
    }

    /// One nonblocking socket on any port (the lab dialect needs no pair).
    pub fn single(&self) -> io::Result<UdpSocket> {
        bind(SocketAddr::new(self.ip, 0))
    }
}

fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    // A generous send buffer absorbs a whole frame's burst of packets.
    let _ = socket.set_send_buffer_size(1 << 20);
    socket.bind(&addr.into())?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Most datagrams handed to the kernel in one `sendmmsg` call.
pub const BATCH: usize = 32;

/// Sends each of `packets` as one datagram to `dest`, batching them into as few system calls as
/// the platform allows (`sendmmsg` on Linux, one `send_to` each elsewhere).
///
/// A refused destination (an ICMP port unreachable reported on this socket) counts as sent: the
/// client may be about to bind. Returns the first other error.
pub fn send_batch(socket: &UdpSocket, packets: &[&[u8]], dest: SocketAddr) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        send_batch_mmsg(socket, packets, dest)
    }
    #[cfg(not(target_os = "linux"))]
    {
        for p in packets {
            send_one(socket, p, dest)?;
        }
        Ok(())
    }
}

/// Sends one datagram with the same error policy as [`send_batch`].
pub fn send_one(socket: &UdpSocket, packet: &[u8], dest: SocketAddr) -> io::Result<()> {
    loop {
        match socket.send_to(packet, dest) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

#[cfg(target_os = "linux")]
fn send_batch_mmsg(socket: &UdpSocket, packets: &[&[u8]], dest: SocketAddr) -> io::Result<()> {
    use std::os::fd::AsRawFd;

    let addr = socket2::SockAddr::from(dest);
    let fd = socket.as_raw_fd();
    for chunk in packets.chunks(BATCH) {
        // SAFETY: iovec and mmsghdr are plain C structs for which all-zero is a valid value.
        let mut iovs: [libc::iovec; BATCH] = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let mut msgs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
        for (iov, p) in iovs.iter_mut().zip(chunk) {
            iov.iov_base = p.as_ptr() as *mut libc::c_void;
            iov.iov_len = p.len();
        }
        for (msg, iov) in msgs.iter_mut().zip(iovs.iter_mut()).take(chunk.len()) {
            msg.msg_hdr.msg_name = addr.as_ptr() as *mut libc::c_void;
            msg.msg_hdr.msg_namelen = addr.len();
            msg.msg_hdr.msg_iov = iov;
            msg.msg_hdr.msg_iovlen = 1;
        }
        let mut done = 0usize;
        while done < chunk.len() {
            let Some(rest) = msgs.get_mut(done..chunk.len()) else {
                break;
            };
            let count = u32::try_from(rest.len()).unwrap_or(0);
            // SAFETY: `rest` points at `count` initialized mmsghdrs whose name and iovec pointers
            // borrow `addr`, `iovs` and `packets`, all alive for the duration of the call; the
            // kernel only reads them (and writes msg_len).
            let rc = unsafe { libc::sendmmsg(fd, rest.as_mut_ptr(), count, 0) };
            if rc < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::Interrupted => continue,
                    // The pending error was consumed by this call; the datagram was not sent,
                    // retry it like `send_one` does.
                    io::ErrorKind::ConnectionRefused => continue,
                    _ => return Err(e),
                }
            }
            done += usize::try_from(rc).unwrap_or(0).max(1);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn pairs_are_even_odd_and_distinct() {
        let alloc = PortAllocator::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 41001);
        let a = alloc.allocate().unwrap();
        let b = alloc.allocate().unwrap();
        for p in [&a, &b] {
            let rtp = p.rtp_port();
            assert_eq!(rtp % 2, 0);
            assert_eq!(p.rtcp.local_addr().unwrap().port(), rtp + 1);
        }
        assert_ne!(a.rtp_port(), b.rtp_port());
        // A taken port is skipped.
        let taken = a.rtp_port();
        let alloc2 = PortAllocator::new(IpAddr::V4(Ipv4Addr::LOCALHOST), taken);
        assert_ne!(alloc2.allocate().unwrap().rtp_port(), taken);
    }

    #[test]
    fn batches_arrive_whole_and_in_order() {
        let rx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let tx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        // More than one batch, with distinct sizes and contents.
        let packets: Vec<Vec<u8>> = (0..BATCH + 9).map(|i| vec![i as u8; 100 + i]).collect();
        let refs: Vec<&[u8]> = packets.iter().map(Vec::as_slice).collect();
        send_batch(&tx, &refs, rx.local_addr().unwrap()).unwrap();
        let mut buf = [0u8; 2048];
        for p in &packets {
            let (n, from) = rx.recv_from(&mut buf).unwrap();
            assert_eq!(from, tx.local_addr().unwrap());
            assert_eq!(&buf[..n], p.as_slice());
        }
        // A destination nobody listens on is not an error (the client may bind later).
        let gone = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let dead = gone.local_addr().unwrap();
        drop(gone);
        for _ in 0..3 {
            send_batch(&tx, &refs[..2], dead).unwrap();
        }
    }
}
