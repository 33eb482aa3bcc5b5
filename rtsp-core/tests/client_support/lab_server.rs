//! A lab-style RTSP server written after the lab's `ServerWorker.py` (see the lab handout and the
//! student report): it reads each request with one `recv(256)`, splits it on `\n`, takes the CSeq
//! from line 2 and the RTP port from `line3.split(' ')[3]`, answers `RTSP/1.0 200 OK\nCSeq: N\nSession: S`
//! with no trailing newline, sends nothing for errors (an unknown file gets 200 to SETUP and then
//! silence to PLAY), and streams one whole JPEG per RTP packet every 50 ms with the sequence
//! number set to the frame number and a timestamp in seconds. It also records every request so
//! tests can check the exact bytes the client sent.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The lab server's frame period.
pub const FRAME_PERIOD: Duration = Duration::from_millis(50);
/// FORWARD/BACKWARD step of the report's extension.
pub const SKIP: usize = 20;

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Vec<u8>>>,
    rtp_sent: AtomicU64,
    stop: AtomicBool,
}

/// A running lab-style server on 127.0.0.1.
pub struct LabServer {
    pub port: u16,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl LabServer {
    /// Serves `file_name` with `frames`; any other name is "not found" (answered as the lab does).
    pub fn start(file_name: &str, frames: Vec<Vec<u8>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        let s2 = Arc::clone(&shared);
        let name = file_name.to_owned();
        let frames = Arc::new(frames);
        let thread = std::thread::spawn(move || {
            let mut workers = Vec::new();
            while !s2.stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, peer)) => {
                        let s3 = Arc::clone(&s2);
                        let name = name.clone();
                        let frames = Arc::clone(&frames);
                        workers.push(std::thread::spawn(move || {
                            worker(conn, peer, &name, &frames, &s3)
                        }));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
            for w in workers {
                let _ = w.join();
            }
        });
        Self {
            port,
            shared,
            thread: Some(thread),
        }
    }

    /// Every request received so far, as raw bytes.
    pub fn requests(&self) -> Vec<Vec<u8>> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// RTP packets sent so far.
    pub fn rtp_sent(&self) -> u64 {
        self.shared.rtp_sent.load(Ordering::SeqCst)
    }
}

impl Drop for LabServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[derive(PartialEq, Clone, Copy)]
enum St {
    Init,
    Ready,
    Playing,
}

struct Sender {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

fn reply(conn: &mut TcpStream, seq: &str, session: u32) {
    let text = format!("RTSP/1.0 200 OK\nCSeq: {seq}\nSession: {session}");
    let _ = conn.write_all(text.as_bytes());
}

fn worker(
    mut conn: TcpStream,
    peer: SocketAddr,
    name: &str,
    frames: &Arc<Vec<Vec<u8>>>,
    shared: &Arc<Shared>,
) {
    conn.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut state = St::Init;
    let mut session = 0u32;
    let mut rtp_port: u16 = 0;
    let mut video: Option<Arc<Mutex<usize>>> = None; // next frame index
    let mut sender: Option<Sender> = None;
    let stop_sender = |s: &mut Option<Sender>| {
        if let Some(s) = s.take() {
            s.stop.store(true, Ordering::SeqCst);
            let _ = s.thread.join();
        }
    };
    let mut buf = [0u8; 256];
    while !shared.stop.load(Ordering::SeqCst) {
        let n = match conn.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(_) => break,
        };
        let data = buf[..n].to_vec();
        shared.requests.lock().unwrap().push(data.clone());
        let text = String::from_utf8_lossy(&data).into_owned();
        let lines: Vec<&str> = text.split('\n').collect();
        let line1: Vec<&str> = lines[0].split(' ').collect();
        let (method, filename) = (line1[0], line1.get(1).copied().unwrap_or(""));
        let seq = lines
            .get(1)
            .and_then(|l| l.split(' ').nth(1))
            .unwrap_or("0")
            .to_owned();
        match method {
            "SETUP" if state == St::Init => {
                if filename == name {
                    video = Some(Arc::new(Mutex::new(0)));
                    state = St::Ready;
                }
                // The lab server prints "404 NOT FOUND" and still answers 200 below.
                session = 100_000 + (rand_u32() % 900_000);
                reply(&mut conn, &seq, session);
                rtp_port = lines
                    .get(2)
                    .and_then(|l| l.split(' ').nth(3))
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
            }
            "PLAY" if state == St::Ready => {
                state = St::Playing;
                reply(&mut conn, &seq, session);
                let stop = Arc::new(AtomicBool::new(false));
                let (stop2, frames2, shared2) =
                    (Arc::clone(&stop), Arc::clone(frames), Arc::clone(shared));
                let pos = Arc::clone(video.as_ref().unwrap());
                let dest = SocketAddr::new(peer.ip(), rtp_port);
                let thread =
                    std::thread::spawn(move || send_rtp(dest, &frames2, &pos, &stop2, &shared2));
                sender = Some(Sender { stop, thread });
            }
            "PAUSE" if state == St::Playing => {
                state = St::Ready;
                stop_sender(&mut sender);
                reply(&mut conn, &seq, session);
            }
            "TEARDOWN" => {
                stop_sender(&mut sender);
                reply(&mut conn, &seq, session);
                state = St::Init;
                video = None;
            }
            // The report's extension (RTSP/1.4): move 20 frames, or back to the start.
            "FORWARD" | "BACKWARD" | "RESTART" if state != St::Init => {
                if let Some(v) = &video {
                    let mut p = v.lock().unwrap();
                    *p = match method {
                        "FORWARD" => (*p + SKIP).min(frames.len()),
                        "BACKWARD" => p.saturating_sub(SKIP),
                        _ => 0,
                    };
                }
                let text = format!(
                    "RTSP/1.0 200 OK\nCSeq: {seq}\nSession: {session}\nFrames: {}",
                    frames.len()
                );
                let _ = conn.write_all(text.as_bytes());
            }
            // Anything else (including PLAY in INIT after an unknown file): silence.
            _ => {}
        }
    }
    stop_sender(&mut sender);
}

fn rand_u32() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}

fn send_rtp(
    dest: SocketAddr,
    frames: &[Vec<u8>],
    pos: &Mutex<usize>,
    stop: &AtomicBool,
    shared: &Shared,
) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    loop {
        std::thread::sleep(FRAME_PERIOD);
        if stop.load(Ordering::SeqCst) || shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let (frame, number) = {
            let mut p = pos.lock().unwrap();
            match frames.get(*p) {
                Some(f) => {
                    *p += 1;
                    (f.clone(), *p)
                }
                // End of file: nextFrame() returns nothing and the loop goes on silently.
                None => continue,
            }
        };
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as u32;
        let mut pkt = Vec::with_capacity(12 + frame.len());
        pkt.push(2 << 6); // V=2, P=X=CC=0
        pkt.push(26); // M=0, PT=26
        pkt.extend_from_slice(&(number as u16).to_be_bytes());
        pkt.extend_from_slice(&ts.to_be_bytes());
        pkt.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        pkt.extend_from_slice(&frame);
        if sock.send_to(&pkt, dest).is_ok() {
            shared.rtp_sent.fetch_add(1, Ordering::SeqCst);
        }
    }
}
