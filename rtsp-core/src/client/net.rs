//! Small socket helpers for the runtime: port pairs, readiness polling, address resolution.

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::Duration;

use super::error::ClientError;

/// How many random ephemeral ports to try before giving up on an even/odd pair.
const PAIR_ATTEMPTS: usize = 64;

/// Binds an RTP/RTCP socket pair on consecutive ports, RTP on the even one (RFC 3550 11).
pub(crate) fn bind_port_pair(local: std::net::IpAddr) -> io::Result<(UdpSocket, UdpSocket)> {
    let mut last_err = io::Error::new(io::ErrorKind::AddrInUse, "no free even/odd port pair");
    for _ in 0..PAIR_ATTEMPTS {
        let probe = UdpSocket::bind(SocketAddr::new(local, 0))?;
        let port = probe.local_addr()?.port();
        let even = if port % 2 == 0 {
            port
        } else {
            port.wrapping_add(1)
        };
        if even == 0 || even == u16::MAX {
            continue;
        }
        let rtp = if even == port {
            probe
        } else {
            drop(probe);
            match UdpSocket::bind(SocketAddr::new(local, even)) {
                Ok(s) => s,
                Err(e) => {
                    last_err = e;
                    continue;
                }
            }
        };
        match UdpSocket::bind(SocketAddr::new(local, even + 1)) {
            Ok(rtcp) => return Ok((rtp, rtcp)),
            Err(e) => last_err = e,
        }
    }
    Err(last_err)
}

/// Makes a UDP socket with a receive buffer big enough for bursts of large frames.
pub(crate) fn tune_udp(socket: &UdpSocket) {
    let sock = socket2::SockRef::from(socket);
    // Best effort: the kernel caps it at rmem_max and a smaller buffer still works.
    let _ = sock.set_recv_buffer_size(4 * 1024 * 1024);
}

/// Resolves `host:port` and connects with a timeout, trying every address in turn.
pub(crate) fn connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, ClientError> {
    let peer = format!("{host}:{port}");
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| ClientError::BadUrl(format!("cannot resolve {peer}: {e}")))?;
    let mut last = ClientError::BadUrl(format!("{peer} resolves to no address"));
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last = ClientError::from_io(&e, &peer),
        }
    }
    Err(last)
}

/// Which of `fds` are readable, waiting at most `timeout`. Interrupted waits report nothing ready.
pub(crate) fn poll_readable<const N: usize>(
    fds: [Option<&dyn AsRawFd>; N],
    timeout: Duration,
) -> io::Result<[bool; N]> {
    let mut pollfds: Vec<libc::pollfd> = Vec::with_capacity(N);
    let mut index = [usize::MAX; N];
    for (i, fd) in fds.iter().enumerate() {
        if let Some(fd) = fd {
            if let Some(slot) = index.get_mut(i) {
                *slot = pollfds.len();
            }
            pollfds.push(libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
        }
    }
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: `pollfds` is a valid, exclusively borrowed array of `pollfds.len()` entries for the
    // duration of the call.
    let rc = unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, ms) };
    let mut ready = [false; N];
    if rc < 0 {
        let err = io::Error::last_os_error();
        return if err.kind() == io::ErrorKind::Interrupted {
            Ok(ready)
        } else {
            Err(err)
        };
    }
    for (i, r) in ready.iter_mut().enumerate() {
        if let Some(pfd) = index.get(i).and_then(|&j| pollfds.get(j)) {
            *r = pfd.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0;
        }
    }
    Ok(ready)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn port_pair_is_even_then_odd() {
        let (rtp, rtcp) = bind_port_pair(Ipv4Addr::LOCALHOST.into()).unwrap();
        let a = rtp.local_addr().unwrap().port();
        let b = rtcp.local_addr().unwrap().port();
        assert_eq!(a % 2, 0);
        assert_eq!(b, a + 1);
    }

    #[test]
    fn poll_sees_a_datagram() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        let ready =
            poll_readable([Some(&a as &dyn AsRawFd), None, Some(&b)], Duration::ZERO).unwrap();
        assert_eq!(ready, [false, false, false]);
        b.send_to(b"x", a.local_addr().unwrap()).unwrap();
        let ready = poll_readable(
            [Some(&a as &dyn AsRawFd), None, Some(&b)],
            Duration::from_secs(2),
        )
        .unwrap();
        assert_eq!(ready, [true, false, false]);
    }

    #[test]
    fn refused_connection_is_reported_as_such() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let err = connect("127.0.0.1", port, Duration::from_secs(2)).unwrap_err();
        assert!(matches!(err, ClientError::ConnectionRefused(_)), "{err:?}");
    }
}
