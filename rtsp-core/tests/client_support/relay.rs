//! A lossy relay: a TCP proxy for the RTSP connection that rewrites the client's RTP port in SETUP
//! to a UDP relay of its own, which forwards RTP to the client but discards a known fraction of the
//! packets, recording the sequence numbers it discarded.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
pub struct RelayLog {
    /// RTP sequence numbers discarded, in order.
    pub dropped: Mutex<Vec<u16>>,
    /// RTP packets forwarded.
    pub forwarded: AtomicU64,
    /// RTP packets seen.
    pub seen: AtomicU64,
    /// Sequence numbers of the first and the last packet forwarded.
    pub forwarded_range: Mutex<Option<(u16, u16)>>,
}

pub struct LossyProxy {
    /// The TCP port clients connect to instead of the server's.
    pub port: u16,
    pub log: Arc<RelayLog>,
    stop: Arc<AtomicBool>,
}

impl Drop for LossyProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl LossyProxy {
    /// Proxies to `server`, discarding about `per_mille`/1000 of the RTP packets (a fixed
    /// pseudo-random pattern, so runs are repeatable).
    pub fn start(server: SocketAddr, per_mille: u32) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(RelayLog::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (log2, stop2) = (Arc::clone(&log), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let upstream = TcpStream::connect(server).unwrap();
                        let (log3, stop3) = (Arc::clone(&log2), Arc::clone(&stop2));
                        std::thread::spawn(move || proxy(client, upstream, per_mille, log3, stop3));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Self { port, log, stop }
    }

    /// Discarded sequence numbers strictly between the first and the last forwarded packet: the
    /// losses a receiver can see (RFC 3550 A.3 counts from the first to the highest received).
    pub fn visible_drops(&self) -> u64 {
        let Some((first_seen, highest_seen)) = *self.log.forwarded_range.lock().unwrap() else {
            return 0;
        };
        let span = highest_seen.wrapping_sub(first_seen);
        self.log
            .dropped
            .lock()
            .unwrap()
            .iter()
            .filter(|&&s| {
                let off = s.wrapping_sub(first_seen);
                off > 0 && off < span
            })
            .count() as u64
    }
}

/// Finds the client port in a SETUP's Transport header: `client_port=A-B` or the lab's
/// `client_port= N`. Returns (start, end, first port).
fn find_client_port(text: &str) -> Option<(usize, usize, u16)> {
    let key = "client_port=";
    let at = text.find(key)? + key.len();
    let rest = &text[at..];
    let skip = rest.len() - rest.trim_start_matches(' ').len();
    let digits: String = rest[skip..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let port = digits.parse().ok()?;
    let mut end = at + skip + digits.len();
    // `-B` part of a pair.
    let tail = &text[end..];
    if let Some(stripped) = tail.strip_prefix('-') {
        let n = stripped.chars().take_while(|c| c.is_ascii_digit()).count();
        end += 1 + n;
    }
    Some((at + skip, end, port))
}

fn proxy(
    mut client: TcpStream,
    upstream: TcpStream,
    per_mille: u32,
    log: Arc<RelayLog>,
    stop: Arc<AtomicBool>,
) {
    let mut up_w = upstream.try_clone().unwrap();
    let mut up_r = upstream;
    let mut client_w = client.try_clone().unwrap();
    // Rewrites in the replies: relay ports back to the client's.
    let rewrites: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let rw2 = Arc::clone(&rewrites);
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        loop {
            match up_r.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = client_w.shutdown(std::net::Shutdown::Both);
                    return;
                }
                Ok(n) => {
                    let mut data = buf[..n].to_vec();
                    if let Ok(text) = std::str::from_utf8(&data) {
                        let mut t = text.to_owned();
                        for (from, to) in rw2.lock().unwrap().iter() {
                            t = t.replace(from.as_str(), to.as_str());
                        }
                        data = t.into_bytes();
                    }
                    if client_w.write_all(&data).is_err() {
                        return;
                    }
                }
            }
        }
    });
    let mut buf = [0u8; 65536];
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => {
                let _ = up_w.shutdown(std::net::Shutdown::Both);
                return;
            }
            Ok(n) => n,
        };
        let mut data = buf[..n].to_vec();
        if let Ok(text) = std::str::from_utf8(&data) {
            if text.starts_with("SETUP") {
                if let Some((start, end, client_port)) = find_client_port(text) {
                    let pair = text[start..end].contains('-');
                    let dest = SocketAddr::from(([127, 0, 0, 1], client_port));
                    let replacement = if pair {
                        // An even/odd pair, as servers expect; RTCP is relayed without loss.
                        let (relay_rtp, relay_rtcp) = udp_pair();
                        let rport = relay_rtp.local_addr().unwrap().port();
                        spawn_udp(
                            relay_rtp,
                            dest,
                            per_mille,
                            Arc::clone(&log),
                            Arc::clone(&stop),
                        );
                        let cdest = SocketAddr::from(([127, 0, 0, 1], client_port + 1));
                        let rtcp_log = Arc::new(RelayLog::default());
                        spawn_udp(relay_rtcp, cdest, 0, rtcp_log, Arc::clone(&stop));
                        format!("{rport}-{}", rport + 1)
                    } else {
                        let relay_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
                        let rport = relay_rtp.local_addr().unwrap().port();
                        spawn_udp(
                            relay_rtp,
                            dest,
                            per_mille,
                            Arc::clone(&log),
                            Arc::clone(&stop),
                        );
                        rport.to_string()
                    };
                    rewrites
                        .lock()
                        .unwrap()
                        .push((replacement.clone(), text[start..end].to_owned()));
                    data =
                        format!("{}{}{}", &text[..start], replacement, &text[end..]).into_bytes();
                }
            }
        }
        if up_w.write_all(&data).is_err() {
            return;
        }
    }
}

/// Two UDP sockets on consecutive ports, the first even.
fn udp_pair() -> (UdpSocket, UdpSocket) {
    loop {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = a.local_addr().unwrap().port();
        if port % 2 != 0 || port == u16::MAX {
            continue;
        }
        if let Ok(b) = UdpSocket::bind(("127.0.0.1", port + 1)) {
            return (a, b);
        }
    }
}

fn spawn_udp(
    sock: UdpSocket,
    dest: SocketAddr,
    per_mille: u32,
    log: Arc<RelayLog>,
    stop: Arc<AtomicBool>,
) {
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    std::thread::spawn(move || {
        let out = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut buf = [0u8; 65536];
        let mut rng: u32 = 0x2545_f491;
        while !stop.load(Ordering::SeqCst) {
            let Ok(n) = sock.recv(&mut buf) else { continue };
            log.seen.fetch_add(1, Ordering::SeqCst);
            // xorshift32: a fixed sequence, so the fraction is repeatable.
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            if n >= 12 && rng % 1000 < per_mille {
                let seq = u16::from_be_bytes([buf[2], buf[3]]);
                log.dropped.lock().unwrap().push(seq);
                continue;
            }
            let _ = out.send_to(&buf[..n], dest);
            log.forwarded.fetch_add(1, Ordering::SeqCst);
            if n >= 12 {
                let seq = u16::from_be_bytes([buf[2], buf[3]]);
                let mut range = log.forwarded_range.lock().unwrap();
                *range = Some(range.map_or((seq, seq), |(first, _)| (first, seq)));
            }
        }
    });
}

#[test]
fn finds_both_transport_shapes() {
    let t = "SETUP x RTSP/1.0\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n";
    let (s, e, p) = find_client_port(t).unwrap();
    assert_eq!((&t[s..e], p), ("5000-5001", 5000));
    let t = "SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 25000";
    let (s, e, p) = find_client_port(t).unwrap();
    assert_eq!((&t[s..e], p), ("25000", 25000));
}
