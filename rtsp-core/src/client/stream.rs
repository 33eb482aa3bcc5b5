//! The RTSP connection's byte stream: plain TCP, or TLS over TCP for `rtsps://`.
//!
//! The runtime reads on its receive thread and writes from the control thread (requests) and
//! the receive thread (RTCP reports), each through its own clone of the socket. A TLS
//! connection's state is shared by the clones behind a mutex, held only while bytes go through
//! it: the receive thread reads raw records from the socket without it, then decrypts under it.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rustls::ClientConnection;

use super::config::CertificateCheck;
use super::error::ClientError;
use super::net;

/// One end of the RTSP connection (see the module docs).
pub(crate) struct ControlStream {
    tcp: TcpStream,
    tls: Option<Arc<Mutex<ClientConnection>>>,
    /// Decrypted bytes not read yet (this handle's own: only the reading clone fills it).
    plain: Vec<u8>,
}

impl ControlStream {
    /// Connects to `host:port`; with `tls`, completes the TLS handshake (checking the server's
    /// certificate as `tls` says) within `timeout` before returning.
    pub fn connect(
        host: &str,
        port: u16,
        timeout: Duration,
        tls: Option<&CertificateCheck>,
    ) -> Result<Self, ClientError> {
        let tcp = net::connect(host, port, timeout)?;
        let Some(check) = tls else {
            return Ok(Self {
                tcp,
                tls: None,
                plain: Vec::new(),
            });
        };
        let config =
            crate::tls::client_config(check).map_err(|e| ClientError::Tls(e.to_string()))?;
        let name = crate::tls::server_name(host).map_err(|e| ClientError::Tls(e.to_string()))?;
        let mut conn =
            ClientConnection::new(config, name).map_err(|e| ClientError::Tls(e.to_string()))?;
        let set = |t: Option<Duration>| {
            tcp.set_read_timeout(t)
                .and_then(|()| tcp.set_write_timeout(t))
                .map_err(|e| ClientError::from_io(&e, host))
        };
        set(Some(timeout))?;
        let mut sock = &tcp;
        while conn.is_handshaking() {
            if let Err(e) = conn.complete_io(&mut sock) {
                return Err(handshake_error(&e, host, timeout));
            }
        }
        set(None)?;
        Ok(Self {
            tcp,
            tls: Some(Arc::new(Mutex::new(conn))),
            plain: Vec::new(),
        })
    }

    /// Another handle on the same connection (for the other thread).
    pub fn try_clone(&self) -> io::Result<Self> {
        Ok(Self {
            tcp: self.tcp.try_clone()?,
            tls: self.tls.clone(),
            plain: Vec::new(),
        })
    }

    /// The server's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.peer_addr()
    }

    /// This end's address (where the server's UDP media must be received).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    /// Closes the connection both ways (a TLS one says close_notify first, best effort).
    pub fn shutdown(&self) {
        if let Some(tls) = &self.tls {
            if let Some(mut conn) = tls.try_lock() {
                conn.send_close_notify();
                let mut sock = &self.tcp;
                let _ = conn.write_tls(&mut sock);
            }
        }
        let _ = self.tcp.shutdown(Shutdown::Both);
    }

    /// Whether decrypted bytes wait to be read: the socket may have nothing more to say, so a
    /// poll on it would not wake for them.
    pub fn has_buffered(&self) -> bool {
        !self.plain.is_empty()
    }

    /// Reads what the server sent, like [`Read::read`] on the socket after a poll said it is
    /// readable: `Ok(0)` at the end; for TLS, `WouldBlock` when the bytes read completed no
    /// record yet. A TLS failure is an `InvalidData` error.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(tls) = &self.tls else {
            return self.tcp.read(buf);
        };
        if self.plain.is_empty() {
            // Raw records are read without the lock, so a request being written is not held
            // up by a read waiting on the socket.
            let mut raw = vec![0u8; buf.len().max(4096)];
            let n = self.tcp.read(&mut raw)?;
            if n == 0 {
                return Ok(0);
            }
            let mut conn = tls.lock();
            let mut records = raw.get(..n).unwrap_or_default();
            while !records.is_empty() {
                conn.read_tls(&mut records)?;
                let state = match conn.process_new_packets() {
                    Ok(state) => state,
                    Err(e) => {
                        let mut sock = &self.tcp;
                        let _ = conn.write_tls(&mut sock);
                        return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                    }
                };
                let closed = state.peer_has_closed();
                // Taken out record by record: rustls holds little plaintext before it refuses
                // more records.
                let _ = conn.reader().read_to_end(&mut self.plain);
                if closed && self.plain.is_empty() {
                    return Ok(0);
                }
            }
            // Anything the TLS layer has to say back (a key update) goes out now.
            let mut sock = &self.tcp;
            while conn.wants_write() {
                conn.write_tls(&mut sock)?;
            }
        }
        if self.plain.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.plain.len());
        let (dst, src) = (buf.get_mut(..n), self.plain.get(..n));
        if let (Some(dst), Some(src)) = (dst, src) {
            dst.copy_from_slice(src);
        }
        self.plain.drain(..n);
        Ok(n)
    }

    /// Writes all of `bytes` (encrypted on TLS) and flushes.
    pub fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        let Some(tls) = &self.tls else {
            return self.tcp.write_all(bytes).and_then(|()| self.tcp.flush());
        };
        let mut conn = tls.lock();
        let mut sock = &self.tcp;
        let mut rest = bytes;
        while !rest.is_empty() || conn.wants_write() {
            if !rest.is_empty() {
                let n = conn.writer().write(rest)?;
                rest = rest.get(n..).unwrap_or_default();
            }
            while conn.wants_write() {
                conn.write_tls(&mut sock)?;
            }
        }
        Ok(())
    }
}

impl AsRawFd for ControlStream {
    fn as_raw_fd(&self) -> RawFd {
        self.tcp.as_raw_fd()
    }
}

/// The client error for a failed handshake: a refused certificate is its own kind.
fn handshake_error(e: &io::Error, host: &str, timeout: Duration) -> ClientError {
    if let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return match tls {
            rustls::Error::InvalidCertificate(why) => {
                ClientError::UntrustedCertificate(format!("{host}: {why}"))
            }
            other => ClientError::Tls(format!("{host}: {other}")),
        };
    }
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ClientError::Tls(format!(
            "{host}: no TLS handshake within {} ms (does the server speak TLS on this port?)",
            timeout.as_millis()
        )),
        // Whatever else ends a handshake (a close, a reset after a plain-text error reply)
        // means the same to the caller: no TLS there.
        _ => ClientError::Tls(format!(
            "{host}: the connection failed during the TLS handshake: {e}"
        )),
    }
}
