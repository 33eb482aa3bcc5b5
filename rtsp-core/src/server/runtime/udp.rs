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

    /// Bind the next free pair, both sockets nonblocking. A port in use moves on to the next
    /// pair; running out of descriptors or memory ends the search at once (see
    /// [`is_exhaustion`]).
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
            let rtp = match bind(SocketAddr::new(self.ip, port)) {
                Ok(socket) => socket,
                Err(e) if out_of_resources(&e) => return Err(e),
                Err(_) => continue,
            };
            let rtcp = match bind(SocketAddr::new(self.ip, next)) {
                Ok(socket) => socket,
                Err(e) if out_of_resources(&e) => return Err(e),
                Err(_) => continue,
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

/// Whether a failure to open UDP sockets means the machine ran out of something (descriptors,
/// buffer memory, free ports) rather than that something is broken: a client may retry later
/// (503 Service Unavailable), nothing to repair (500).
pub fn is_exhaustion(e: &io::Error) -> bool {
    out_of_resources(e) || e.kind() == io::ErrorKind::AddrInUse
}

fn out_of_resources(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
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

/// Most datagrams in one segmentation-offload send: the kernel caps a train at 64 segments and
/// at one IP datagram's length (64 KiB) in total.
pub const GSO_SEGMENTS: usize = 40;

/// Set once the kernel has refused UDP segmentation offload (old kernel, or a route whose device
/// cannot do it): every later train goes out as separate datagrams.
#[cfg(target_os = "linux")]
static GSO_REFUSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Sends the datagrams laid out back to back in `buf` (datagram `i` ends at `ends[i]`) to `dest`
/// in as few system calls and as little kernel work as the platform allows.
///
/// On Linux, runs of equal-sized datagrams (an RTP-JPEG frame's fragments are all full-sized but
/// the last) leave as one generic-segmentation-offload train (`UDP_SEGMENT`): the kernel builds,
/// routes and queues one buffer and cuts it into datagrams at the end, which costs a fraction of
/// sending them one by one. Where that is refused, or sizes differ, `sendmmsg` batches are used.
/// The receiver sees ordinary datagrams either way.
pub fn send_packets(
    socket: &UdpSocket,
    buf: &[u8],
    ends: &[usize],
    dest: SocketAddr,
) -> io::Result<()> {
    let mut start = 0usize;
    let mut i = 0usize;
    while i < ends.len() {
        let group_end = (i + GSO_SEGMENTS).min(ends.len());
        let group = ends.get(i..group_end).unwrap_or_default();
        let first_len = group.first().map_or(0, |&e| e.saturating_sub(start));
        // A train needs every datagram but its last to be exactly the segment size.
        let mut prev = start;
        let mut uniform = first_len > 0;
        for (k, &end) in group.iter().enumerate() {
            let len = end.saturating_sub(prev);
            if (k + 1 < group.len() && len != first_len) || len > first_len || len == 0 {
                uniform = false;
                break;
            }
            prev = end;
        }
        let group_bytes_end = group.last().copied().unwrap_or(start);
        let bytes = buf.get(start..group_bytes_end).unwrap_or_default();
        if group.len() > 1 && uniform && send_gso(socket, bytes, first_len, dest)? {
            // Sent as one train.
        } else {
            let mut packets: [&[u8]; GSO_SEGMENTS] = [&[]; GSO_SEGMENTS];
            let mut s = start;
            for (slot, &end) in packets.iter_mut().zip(group) {
                *slot = buf.get(s..end).unwrap_or_default();
                s = end;
            }
            send_batch(socket, packets.get(..group.len()).unwrap_or_default(), dest)?;
        }
        start = group_bytes_end;
        i = group_end;
    }
    Ok(())
}

/// One segmentation-offload send. `Ok(false)`: offload is not available, send another way.
#[cfg(target_os = "linux")]
fn send_gso(
    socket: &UdpSocket,
    train: &[u8],
    segment: usize,
    dest: SocketAddr,
) -> io::Result<bool> {
    use std::os::fd::AsRawFd;
    use std::sync::atomic::Ordering;

    if GSO_REFUSED.load(Ordering::Relaxed) {
        return Ok(false);
    }
    let Ok(segment) = u16::try_from(segment) else {
        return Ok(false);
    };
    let addr = socket2::SockAddr::from(dest);
    let mut iov = libc::iovec {
        iov_base: train.as_ptr() as *mut libc::c_void,
        iov_len: train.len(),
    };
    // Room for one cmsg carrying a u16, aligned like cmsghdr.
    let mut control = [0u64; 4];
    // SAFETY: msghdr is a plain C struct for which all-zero is valid.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = addr.as_ptr() as *mut libc::c_void;
    msg.msg_namelen = addr.len();
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<u16>() as u32) } as usize;
    if space > std::mem::size_of_val(&control) {
        return Ok(false);
    }
    msg.msg_controllen = space as _;
    // SAFETY: msg_control points at `control`, which is large enough (checked above) and aligned
    // for cmsghdr (u64); CMSG_FIRSTHDR/CMSG_DATA stay inside it.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if cmsg.is_null() {
            return Ok(false);
        }
        (*cmsg).cmsg_level = libc::SOL_UDP;
        (*cmsg).cmsg_type = libc::UDP_SEGMENT;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<u16>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut u16, segment);
    }
    let fd = socket.as_raw_fd();
    loop {
        // SAFETY: `msg` and everything it points to (addr, iov -> train, control) outlive the
        // call; the kernel only reads them.
        let rc = unsafe { libc::sendmsg(fd, &msg, 0) };
        if rc >= 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            // An earlier ICMP port unreachable: the client is not listening (yet).
            Some(libc::ECONNREFUSED) => continue,
            Some(libc::EIO)
            | Some(libc::EINVAL)
            | Some(libc::ENOPROTOOPT)
            | Some(libc::EOPNOTSUPP) => {
                if !GSO_REFUSED.swap(true, Ordering::Relaxed) {
                    tracing::info!(
                        "UDP segmentation offload refused ({e}); sending datagrams one by one"
                    );
                }
                return Ok(false);
            }
            _ => return Err(e),
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn send_gso(_: &UdpSocket, _: &[u8], _: usize, _: SocketAddr) -> io::Result<bool> {
    Ok(false)
}

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
// Linux sends every batch with sendmmsg; elsewhere this is the path.
#[cfg_attr(target_os = "linux", allow(dead_code))]
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
    fn running_out_is_told_from_failing() {
        for code in [
            libc::EMFILE,
            libc::ENFILE,
            libc::ENOBUFS,
            libc::ENOMEM,
            libc::EADDRINUSE,
        ] {
            assert!(is_exhaustion(&io::Error::from_raw_os_error(code)), "{code}");
        }
        for code in [libc::EACCES, libc::EINVAL, libc::EADDRNOTAVAIL] {
            assert!(
                !is_exhaustion(&io::Error::from_raw_os_error(code)),
                "{code}"
            );
        }
    }

    /// Lays `sizes` out back to back, each datagram filled with its index.
    fn train(sizes: &[usize]) -> (Vec<u8>, Vec<usize>) {
        let mut buf = Vec::new();
        let mut ends = Vec::new();
        for (i, &n) in sizes.iter().enumerate() {
            buf.extend(std::iter::repeat_n(i as u8, n));
            ends.push(buf.len());
        }
        (buf, ends)
    }

    #[test]
    fn trains_arrive_as_the_same_datagrams() {
        let rx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let _ = socket2::SockRef::from(&rx).set_recv_buffer_size(4 << 20);
        let tx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let mut cases: Vec<Vec<usize>> = vec![
            // An RTP-JPEG frame: full fragments, a short last one (one offload train).
            vec![1472, 1472, 1472, 1472, 611],
            // Equal sizes throughout.
            vec![1000; 7],
            // More datagrams than one train may hold.
            vec![1472; GSO_SEGMENTS + 5],
            // Sizes that differ in the middle cannot be one train.
            vec![1472, 900, 1472, 20],
            // A single datagram, and a last one of full size.
            vec![1200],
            vec![500, 500],
        ];
        cases.push(vec![1472; 3]);
        for sizes in cases {
            let (buf, ends) = train(&sizes);
            send_packets(&tx, &buf, &ends, rx.local_addr().unwrap()).unwrap();
            let mut got = vec![0u8; 65536];
            for (i, &n) in sizes.iter().enumerate() {
                let len = rx.recv(&mut got).unwrap();
                assert_eq!(len, n, "datagram {i} of {sizes:?}");
                assert!(
                    got[..len].iter().all(|&b| b == i as u8),
                    "datagram {i} of {sizes:?}"
                );
            }
        }
        // Loopback has taken offload trains since Linux 4.18: the fast path really ran.
        #[cfg(target_os = "linux")]
        assert!(!GSO_REFUSED.load(std::sync::atomic::Ordering::Relaxed));
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
