//! Server-side UDP: the RTP/RTCP port pairs of the connection workers, and [`UdpBatch`], which
//! sends many sessions' frames from one socket in few system calls.
//!
//! RFC 3550 wants RTP on an even port and RTCP on the next odd one. Pairs are taken from a range
//! starting at `--rtp-port-base`, walking a shared cursor so that a port freed a moment ago (a
//! client may still be sending to it) is not the first one handed out again.

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::server::runtime::source::{Jpeg, Packetized};

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
}

fn out_of_resources(e: &io::Error) -> bool {
    crate::server::runtime::resources::exhausted(e) && e.kind() != io::ErrorKind::AddrInUse
}

/// Send buffer of a worker's UDP socket.
const SEND_BUFFER: usize = 4 << 20;

/// Raise the send buffer past net.core.wmem_max (needs CAP_NET_ADMIN; without it nothing
/// changes, and a full buffer drops whole frames, counted).
#[cfg(target_os = "linux")]
fn force_send_buffer(socket: &Socket) {
    use std::os::fd::AsRawFd;
    let bytes = libc::c_int::try_from(SEND_BUFFER).unwrap_or(libc::c_int::MAX);
    // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from a live c_int.
    let _ = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUFFORCE,
            (&bytes as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
}

#[cfg(not(target_os = "linux"))]
fn force_send_buffer(_: &Socket) {}

fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    // A generous send buffer absorbs the burst of a whole phase group's frames, from every
    // session of the worker. The kernel caps the ordinary request at net.core.wmem_max; a
    // privileged server may exceed it.
    let _ = socket.set_send_buffer_size(SEND_BUFFER);
    if socket.send_buffer_size().is_ok_and(|n| n < SEND_BUFFER) {
        force_send_buffer(&socket);
    }
    socket.bind(&addr.into())?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Most messages handed to the kernel in one `sendmmsg` call (its limit is 1024).
pub const BATCH: usize = 256;

/// Most datagrams in one segmentation-offload send: the kernel caps a train at 64 segments and
/// at one IP datagram's length (64 KiB) in total.
pub const GSO_SEGMENTS: usize = 40;

/// Set once the kernel has refused UDP segmentation offload (old kernel, or a route whose device
/// cannot do it): every later train goes out as separate datagrams.
static GSO_REFUSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The payloads of one frame's datagrams, shared with the media source (never copied).
#[derive(Clone)]
pub enum Body {
    /// RFC 2435 payloads, one per datagram.
    Packets(Arc<Packetized>),
    /// One whole JPEG in one datagram (the lab dialect).
    Whole(Jpeg),
}

impl Body {
    fn count(&self) -> usize {
        match self {
            Self::Packets(p) => p.len(),
            Self::Whole(_) => 1,
        }
    }

    fn part(&self, i: usize) -> &[u8] {
        match self {
            Self::Packets(p) => p.get(i).map_or(&[][..], Vec::as_slice),
            Self::Whole(j) if i == 0 => j.as_ref(),
            Self::Whole(_) => &[],
        }
    }
}

/// Identifies a frame pushed into a [`UdpBatch`], to read its result after [`UdpBatch::send`].
pub type FrameId = usize;

struct Frame {
    dest: SocketAddr,
    body: Body,
    /// Start of its headers in `UdpBatch::headers`; each is `header_len` bytes.
    headers: usize,
    header_len: usize,
    /// Its messages in `UdpBatch::messages`.
    messages: std::ops::Range<usize>,
    sent: bool,
}

/// One `msghdr`: a whole offload train or one datagram.
struct Message {
    frame: usize,
    first: usize,
    count: usize,
    /// Segment size of an offload train.
    segment: Option<u16>,
    sent: bool,
}

/// The frames one wake-up of a worker sends over UDP, from all its sessions.
///
/// Each datagram is gathered from two pieces, the session's own RTP header (written into the
/// batch's header buffer) and the payload shared by every session of the media, so no frame is
/// copied per session. A frame whose datagrams are all full-sized but the last (every RTP-JPEG
/// frame) leaves as one generic-segmentation-offload train (`UDP_SEGMENT`, Linux): the kernel
/// routes and queues one buffer and cuts it into datagrams at the end. Every train or datagram
/// of every session then goes to the kernel in `sendmmsg` calls of up to [`BATCH`] messages.
/// Where offload is refused, datagrams go one message each; off Linux, one `send_to` each.
#[derive(Default)]
pub struct UdpBatch {
    headers: Vec<u8>,
    frames: Vec<Frame>,
    messages: Vec<Message>,
}

impl UdpBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Nothing queued?
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Queue a frame for `dest`: datagram `i` is `headers[i * header_len..][..header_len]`
    /// followed by `body`'s part `i`.
    pub fn push(
        &mut self,
        dest: SocketAddr,
        body: Body,
        headers: &[u8],
        header_len: usize,
    ) -> FrameId {
        let start = self.headers.len();
        self.headers.extend_from_slice(headers);
        let id = self.frames.len();
        let count = body.count();
        let first_msg = self.messages.len();
        let size = |i: usize| header_len + body.part(i).len();
        // A train needs every datagram but its last to be exactly the segment size.
        let mut i = 0;
        while i < count {
            let end = (i + GSO_SEGMENTS).min(count);
            let segment = size(i);
            let uniform = end - i > 1
                && (i..end).all(|k| {
                    let len = size(k);
                    len > 0 && (len == segment || (k + 1 == end && len < segment))
                });
            match u16::try_from(segment) {
                Ok(seg) if uniform && cfg!(target_os = "linux") && !gso_refused() => {
                    self.messages.push(Message {
                        frame: id,
                        first: i,
                        count: end - i,
                        segment: Some(seg),
                        sent: false,
                    });
                }
                _ => {
                    for k in i..end {
                        self.messages.push(Message {
                            frame: id,
                            first: k,
                            count: 1,
                            segment: None,
                            sent: false,
                        });
                    }
                }
            }
            i = end;
        }
        self.frames.push(Frame {
            dest,
            body,
            headers: start,
            header_len,
            messages: first_msg..self.messages.len(),
            sent: false,
        });
        id
    }

    /// Send everything from `socket`. A refused destination (an earlier ICMP port unreachable)
    /// counts as sent: the client may be about to bind. A datagram the socket will not take
    /// now (full buffer) fails its frame only; the others go on.
    pub fn send(&mut self, socket: &UdpSocket) {
        send_all(self, socket);
        for f in &mut self.frames {
            f.sent = self
                .messages
                .get(f.messages.clone())
                .is_some_and(|m| m.iter().all(|m| m.sent));
        }
    }

    /// Whether frame `id` left whole (after [`UdpBatch::send`]).
    pub fn sent(&self, id: FrameId) -> bool {
        self.frames.get(id).is_some_and(|f| f.sent)
    }

    /// Empty the batch, keeping its buffers.
    pub fn clear(&mut self) {
        self.headers.clear();
        self.frames.clear();
        self.messages.clear();
    }

    fn header(&self, frame: &Frame, i: usize) -> &[u8] {
        let at = frame.headers + i * frame.header_len;
        self.headers
            .get(at..at + frame.header_len)
            .unwrap_or_default()
    }
}

fn gso_refused() -> bool {
    GSO_REFUSED.load(Ordering::Relaxed)
}

#[cfg(not(target_os = "linux"))]
fn send_all(batch: &mut UdpBatch, socket: &UdpSocket) {
    for m in 0..batch.messages.len() {
        let ok = send_split(batch, m, socket);
        if let Some(msg) = batch.messages.get_mut(m) {
            msg.sent = ok;
        }
    }
}

#[cfg(target_os = "linux")]
fn send_all(batch: &mut UdpBatch, socket: &UdpSocket) {
    use std::os::fd::AsRawFd;

    let fd = socket.as_raw_fd();
    let addrs: Vec<socket2::SockAddr> = batch
        .frames
        .iter()
        .map(|f| socket2::SockAddr::from(f.dest))
        .collect();
    // Two pieces per datagram; laid out completely before any pointer into it is taken.
    let mut iovs: Vec<libc::iovec> = Vec::new();
    let mut iov_start = Vec::with_capacity(batch.messages.len());
    for msg in &batch.messages {
        iov_start.push(iovs.len());
        let Some(frame) = batch.frames.get(msg.frame) else {
            continue;
        };
        for i in msg.first..msg.first + msg.count {
            for piece in [batch.header(frame, i), frame.body.part(i)] {
                iovs.push(libc::iovec {
                    iov_base: piece.as_ptr() as *mut libc::c_void,
                    iov_len: piece.len(),
                });
            }
        }
    }
    // Room for one cmsg carrying a u16 per message, aligned like cmsghdr.
    let mut controls: Vec<[u64; 4]> = vec![[0; 4]; batch.messages.len()];
    // SAFETY: CMSG_SPACE and CMSG_LEN only compute sizes.
    let (space, cmsg_len) = unsafe {
        let n = std::mem::size_of::<u16>() as u32;
        (libc::CMSG_SPACE(n) as usize, libc::CMSG_LEN(n) as usize)
    };
    // SAFETY: mmsghdr is a plain C struct for which all-zero is a valid value.
    let mut msgs: Vec<libc::mmsghdr> = (0..batch.messages.len())
        .map(|_| unsafe { std::mem::zeroed() })
        .collect();
    for (k, msg) in batch.messages.iter().enumerate() {
        let (Some(hdr), Some(addr), Some(&start), Some(control)) = (
            msgs.get_mut(k),
            addrs.get(msg.frame),
            iov_start.get(k),
            controls.get_mut(k),
        ) else {
            continue;
        };
        let h = &mut hdr.msg_hdr;
        h.msg_name = addr.as_ptr() as *mut libc::c_void;
        h.msg_namelen = addr.len();
        h.msg_iov = iovs.as_mut_ptr().wrapping_add(start);
        h.msg_iovlen = (2 * msg.count) as _;
        if let Some(segment) = msg.segment {
            if space > std::mem::size_of_val(control) {
                continue;
            }
            h.msg_control = control.as_mut_ptr() as *mut libc::c_void;
            h.msg_controllen = space as _;
            // SAFETY: msg_control points at `control`, large enough (checked above) and aligned
            // for cmsghdr (u64); CMSG_FIRSTHDR/CMSG_DATA stay inside it.
            unsafe {
                let cmsg = libc::CMSG_FIRSTHDR(h);
                if !cmsg.is_null() {
                    (*cmsg).cmsg_level = libc::SOL_UDP;
                    (*cmsg).cmsg_type = libc::UDP_SEGMENT;
                    (*cmsg).cmsg_len = cmsg_len as _;
                    std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut u16, segment);
                }
            }
        }
    }
    let total = msgs.len();
    let mut done = 0usize;
    while done < total {
        let Some(rest) = msgs.get_mut(done..) else {
            break;
        };
        let count = rest.len().min(BATCH) as u32;
        // SAFETY: `rest` holds at least `count` initialized mmsghdrs whose name, iovec and
        // control pointers borrow `addrs`, `iovs`, `controls` and the batch's buffers, all alive
        // and unmoved for the duration of the call; the kernel only reads them (and msg_len).
        let rc = unsafe { libc::sendmmsg(fd, rest.as_mut_ptr(), count, 0) };
        if rc > 0 {
            let n = rc as usize;
            for m in batch.messages.iter_mut().skip(done).take(n) {
                m.sent = true;
            }
            done += n;
            continue;
        }
        let e = io::Error::last_os_error();
        let code = if rc == 0 { None } else { e.raw_os_error() };
        match code {
            Some(libc::EINTR) => continue,
            // An earlier ICMP port unreachable, consumed by this call: retry.
            Some(libc::ECONNREFUSED) => continue,
            Some(libc::EIO | libc::EINVAL | libc::ENOPROTOOPT | libc::EOPNOTSUPP)
                if batch
                    .messages
                    .get(done)
                    .is_some_and(|m| m.segment.is_some()) =>
            {
                if !GSO_REFUSED.swap(true, Ordering::Relaxed) {
                    tracing::info!(
                        "UDP segmentation offload refused ({e}); sending datagrams one by one"
                    );
                }
                let ok = send_split(batch, done, socket);
                if let Some(m) = batch.messages.get_mut(done) {
                    m.sent = ok;
                }
                done += 1;
            }
            // The socket's buffer is full (or the message is refused): this message fails,
            // the rest still gets its chance.
            _ => done += 1,
        }
    }
}

/// Message `m` as separate datagrams, one `send_to` each (a train the kernel refused, or a
/// platform without `sendmmsg`).
fn send_split(batch: &UdpBatch, m: usize, socket: &UdpSocket) -> bool {
    let Some(msg) = batch.messages.get(m) else {
        return false;
    };
    let Some(frame) = batch.frames.get(msg.frame) else {
        return false;
    };
    let mut datagram = Vec::new();
    let mut ok = true;
    for i in msg.first..msg.first + msg.count {
        datagram.clear();
        datagram.extend_from_slice(batch.header(frame, i));
        datagram.extend_from_slice(frame.body.part(i));
        ok &= send_one(socket, &datagram, frame.dest).is_ok();
    }
    ok
}

/// Sends one datagram to `dest`. A refused destination (an ICMP port unreachable reported on
/// this socket) counts as sent: the client may be about to bind.
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

    /// A frame of datagrams of `sizes` (headers of 4 bytes included), each filled with its
    /// index plus `tag`: the 4-byte header is the index, the payload repeats it.
    fn frame(sizes: &[usize], tag: u8) -> (Vec<u8>, Body) {
        let mut headers = Vec::new();
        let mut payloads = Vec::new();
        for (i, &n) in sizes.iter().enumerate() {
            let b = (i as u8).wrapping_add(tag);
            headers.extend([b; 4]);
            payloads.push(vec![b; n - 4]);
        }
        (headers, Body::Packets(Arc::new(Packetized::from(payloads))))
    }

    fn receiver() -> UdpSocket {
        let rx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let _ = socket2::SockRef::from(&rx).set_recv_buffer_size(4 << 20);
        rx
    }

    fn expect(rx: &UdpSocket, sizes: &[usize], tag: u8, what: &str) {
        let mut got = vec![0u8; 65536];
        for (i, &n) in sizes.iter().enumerate() {
            let len = rx.recv(&mut got).unwrap();
            let b = (i as u8).wrapping_add(tag);
            assert_eq!(len, n, "datagram {i} of {what}");
            assert!(got[..len].iter().all(|&x| x == b), "datagram {i} of {what}");
        }
    }

    #[test]
    fn trains_arrive_as_the_same_datagrams() {
        let rx = receiver();
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
        let mut batch = UdpBatch::new();
        for sizes in cases {
            let (headers, body) = frame(&sizes, 0);
            let id = batch.push(rx.local_addr().unwrap(), body, &headers, 4);
            batch.send(&tx);
            assert!(batch.sent(id));
            batch.clear();
            expect(&rx, &sizes, 0, &format!("{sizes:?}"));
        }
        // Loopback has taken offload trains since Linux 4.18: the fast path really ran.
        #[cfg(target_os = "linux")]
        assert!(!GSO_REFUSED.load(std::sync::atomic::Ordering::Relaxed));
    }

    #[test]
    fn one_batch_serves_many_destinations_whole_and_in_order() {
        let tx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        // More messages than one sendmmsg call takes, over several receivers.
        let receivers: Vec<UdpSocket> = (0..5).map(|_| receiver()).collect();
        let sizes = [1400, 1400, 1400, 300];
        let frames = BATCH / 2 + 3;
        let mut batch = UdpBatch::new();
        let mut ids = Vec::new();
        for f in 0..frames {
            let rx = &receivers[f % receivers.len()];
            let (headers, body) = frame(&sizes, f as u8);
            ids.push(batch.push(rx.local_addr().unwrap(), body, &headers, 4));
        }
        // A whole JPEG in one datagram goes in the same batch.
        let jpeg = Jpeg::Owned(Arc::new(vec![7u8; 9000]));
        let lab = batch.push(
            receivers[0].local_addr().unwrap(),
            Body::Whole(jpeg),
            &[7; 4],
            4,
        );
        // A destination nobody listens on is not an error (the client may bind later).
        let gone = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let dead = gone.local_addr().unwrap();
        drop(gone);
        let (headers, body) = frame(&sizes, 0);
        let to_dead = batch.push(dead, body, &headers, 4);
        batch.send(&tx);
        assert!(ids.iter().all(|&id| batch.sent(id)));
        assert!(batch.sent(lab) && batch.sent(to_dead));
        for f in 0..frames {
            expect(
                &receivers[f % receivers.len()],
                &sizes,
                f as u8,
                &format!("frame {f}"),
            );
        }
        let mut got = vec![0u8; 65536];
        let n = receivers[0].recv(&mut got).unwrap();
        assert_eq!(n, 9004);
        assert!(got[..n].iter().all(|&b| b == 7));
    }
}
