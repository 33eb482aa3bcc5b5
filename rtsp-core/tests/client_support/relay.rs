//! An impairing relay: a TCP proxy for the RTSP connection that rewrites the client's RTP port in
//! SETUP to a UDP relay of its own, which forwards RTP to the client with seeded-random loss,
//! reordering and duplication (or blocks UDP entirely), logging exactly what it did so a test can
//! compare the client's statistics with the truth. (The test kernel has no netem qdisc.)

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the relay does to the RTP packets it forwards. RTCP is forwarded untouched (unless
/// `block_udp`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Impairment {
    /// Probability that a packet is discarded.
    pub loss: f64,
    /// Probability that a packet is held back until 1 to 3 later packets went out (or 20 ms
    /// passed, as reordering on a real path is a matter of milliseconds).
    pub reorder: f64,
    /// Probability that a packet is sent twice.
    pub duplicate: f64,
    /// Seed of the random sequence: the same seed makes the same decisions.
    pub seed: u64,
    /// Packets forwarded untouched first, so the receiver's base sequence number and its
    /// RFC 3550 probation are not what the impairment hits.
    pub clean_start: u64,
    /// Forward no UDP at all (RTP and RTCP), as a firewall that blocks UDP would.
    pub block_udp: bool,
}

#[derive(Default)]
pub struct RelayLog {
    /// RTP sequence numbers discarded, in order.
    pub dropped: Mutex<Vec<u16>>,
    /// RTP timestamps of the discarded packets (the frames they belonged to).
    pub dropped_timestamps: Mutex<Vec<u32>>,
    /// Sequence numbers of every RTP packet sent on, in sending order (duplicates twice).
    pub sent: Mutex<Vec<u16>>,
    /// RTP packets forwarded (duplicates counted once).
    pub forwarded: AtomicU64,
    /// RTP packets seen.
    pub seen: AtomicU64,
    /// Extra copies sent.
    pub duplicated: AtomicU64,
    /// Packets held back and sent after later ones.
    pub reordered: AtomicU64,
}

/// What the relay did, restricted to the sequence range its receiver saw: from the first packet
/// sent to the highest one (RFC 3550 A.3 counts from the first to the highest received).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Injected {
    /// Sequence numbers in the range (the receiver's "expected").
    pub span: u64,
    /// Distinct sequence numbers in the range never sent: the actual loss.
    pub lost: u64,
    /// Extra copies sent in the range.
    pub duplicated: u64,
    /// Frames (RTP timestamps) that lost a packet in the range.
    pub frames_hit: u64,
}

impl Injected {
    /// `lost / span`.
    pub fn loss_rate(&self) -> f64 {
        if self.span == 0 {
            0.0
        } else {
            self.lost as f64 / self.span as f64
        }
    }
}

impl RelayLog {
    /// The truth about the range the receiver saw (see [`Injected`]).
    pub fn injected(&self) -> Injected {
        let sent = self.sent.lock().unwrap();
        let Some(&first) = sent.first() else {
            return Injected {
                span: 0,
                lost: 0,
                duplicated: 0,
                frames_hit: 0,
            };
        };
        // Offsets from the first packet; a reordered packet from before it (there is none
        // after a clean start) would wrap and is left out.
        let offsets: Vec<u16> = sent
            .iter()
            .map(|s| s.wrapping_sub(first))
            .filter(|&o| o < 0x8000)
            .collect();
        let highest = offsets.iter().copied().max().unwrap_or(0);
        let distinct: BTreeSet<u16> = offsets.iter().copied().collect();
        let in_range = |s: u16| {
            let o = s.wrapping_sub(first);
            o > 0 && o < highest
        };
        let dropped = self.dropped.lock().unwrap();
        let stamps = self.dropped_timestamps.lock().unwrap();
        let frames_hit: BTreeSet<u32> = dropped
            .iter()
            .zip(stamps.iter())
            .filter(|(s, _)| in_range(**s) && !distinct.contains(&s.wrapping_sub(first)))
            .map(|(_, t)| *t)
            .collect();
        let span = u64::from(highest) + 1;
        Injected {
            span,
            lost: span - distinct.len() as u64,
            duplicated: (offsets.len() - distinct.len()) as u64,
            frames_hit: frames_hit.len() as u64,
        }
    }
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
        Self::impairing(
            server,
            Impairment {
                loss: f64::from(per_mille) / 1000.0,
                seed: 0x2545_f491,
                ..Impairment::default()
            },
        )
    }

    /// Proxies to `server`, impairing RTP as `impairment` says.
    pub fn impairing(server: SocketAddr, impairment: Impairment) -> Self {
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
                        std::thread::spawn(move || {
                            proxy(client, upstream, impairment, log3, stop3)
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Self { port, log, stop }
    }

    /// Discarded sequence numbers strictly between the first and the highest forwarded packet:
    /// the losses a receiver can see.
    pub fn visible_drops(&self) -> u64 {
        self.log.injected().lost
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
    impairment: Impairment,
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
                            impairment,
                            Arc::clone(&log),
                            Arc::clone(&stop),
                        );
                        let cdest = SocketAddr::from(([127, 0, 0, 1], client_port + 1));
                        let rtcp_log = Arc::new(RelayLog::default());
                        let rtcp = Impairment {
                            block_udp: impairment.block_udp,
                            ..Impairment::default()
                        };
                        spawn_udp(relay_rtcp, cdest, rtcp, rtcp_log, Arc::clone(&stop));
                        format!("{rport}-{}", rport + 1)
                    } else {
                        let relay_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
                        let rport = relay_rtp.local_addr().unwrap().port();
                        spawn_udp(
                            relay_rtp,
                            dest,
                            impairment,
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
        if !port.is_multiple_of(2) || port == u16::MAX {
            continue;
        }
        if let Ok(b) = UdpSocket::bind(("127.0.0.1", port + 1)) {
            return (a, b);
        }
    }
}

/// A seeded xorshift64* generator: the same seed, the same decisions.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.next_f64() < p
    }
}

/// A packet held back: sent once `after` more packets went out, or at `deadline`.
struct Held {
    packet: Vec<u8>,
    after: u32,
    deadline: Instant,
}

fn rtp_seq_ts(packet: &[u8]) -> Option<(u16, u32)> {
    (packet.len() >= 12).then(|| {
        (
            u16::from_be_bytes([packet[2], packet[3]]),
            u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]),
        )
    })
}

fn spawn_udp(
    sock: UdpSocket,
    dest: SocketAddr,
    impairment: Impairment,
    log: Arc<RelayLog>,
    stop: Arc<AtomicBool>,
) {
    std::thread::spawn(move || {
        let out = UdpSocket::bind("127.0.0.1:0").unwrap();
        let send = |packet: &[u8]| {
            let _ = out.send_to(packet, dest);
            if let Some((seq, _)) = rtp_seq_ts(packet) {
                log.sent.lock().unwrap().push(seq);
            }
        };
        let mut buf = [0u8; 65536];
        let mut rng = Rng::new(impairment.seed);
        let mut held: Vec<Held> = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            let wait = if held.is_empty() { 100 } else { 2 };
            sock.set_read_timeout(Some(Duration::from_millis(wait)))
                .unwrap();
            let received = sock.recv(&mut buf).ok();
            // Held packets whose time is up go first.
            let now = Instant::now();
            held.retain(|h| {
                let due = h.deadline <= now;
                if due {
                    send(&h.packet);
                }
                !due
            });
            let Some(n) = received else { continue };
            let packet = &buf[..n];
            let seen = log.seen.fetch_add(1, Ordering::SeqCst);
            if impairment.block_udp {
                continue;
            }
            let Some((seq, ts)) = rtp_seq_ts(packet) else {
                send(packet);
                continue;
            };
            let impaired = seen >= impairment.clean_start;
            // Every decision draws, so one seed gives one pattern whatever the rates.
            let (lose, reorder, duplicate, hold_for) = (
                rng.chance(impairment.loss),
                rng.chance(impairment.reorder),
                rng.chance(impairment.duplicate),
                1 + (rng.next_f64() * 3.0) as u32,
            );
            if impaired && lose {
                log.dropped.lock().unwrap().push(seq);
                log.dropped_timestamps.lock().unwrap().push(ts);
                continue;
            }
            log.forwarded.fetch_add(1, Ordering::SeqCst);
            let copies = if impaired && duplicate { 2 } else { 1 };
            if impaired && reorder {
                log.reordered.fetch_add(1, Ordering::SeqCst);
                for _ in 0..copies {
                    held.push(Held {
                        packet: packet.to_vec(),
                        after: hold_for,
                        deadline: now + Duration::from_millis(20),
                    });
                }
            } else {
                for _ in 0..copies {
                    send(packet);
                }
                held.retain_mut(|h| {
                    h.after -= 1;
                    if h.after == 0 {
                        send(&h.packet);
                    }
                    h.after > 0
                });
            }
            if copies == 2 {
                log.duplicated.fetch_add(1, Ordering::SeqCst);
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
