//! A recording relay: a TCP proxy for RTSP connections that forwards bytes unchanged both ways
//! and keeps a copy of everything the client sent, so a test can check what crossed the wire.
//! Shared by the engine's tests and the player's (`#[path]`-included there).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// The running relay; stops accepting and closes its connections on drop.
pub struct Recorder {
    /// The port clients connect to (on 127.0.0.1) instead of the server's.
    pub port: u16,
    sent: Arc<Mutex<Vec<u8>>>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    stop: Arc<AtomicBool>,
}

impl Recorder {
    /// Relays every connection made to [`Recorder::port`] to `server`.
    pub fn start(server: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the recorder");
        let port = listener.local_addr().expect("recorder address").port();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let open = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (sent2, open2, stop2) = (Arc::clone(&sent), Arc::clone(&open), Arc::clone(&stop));
        thread::spawn(move || {
            for client in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(upstream) = TcpStream::connect(server) else {
                    continue;
                };
                let streams = (
                    client.try_clone(),
                    upstream.try_clone(),
                    client.try_clone(),
                    upstream.try_clone(),
                );
                let (Ok(from_client), Ok(to_server), Ok(to_client), Ok(from_server)) = streams
                else {
                    continue;
                };
                open2.lock().unwrap().extend([client, upstream]);
                let record = Arc::clone(&sent2);
                thread::spawn(move || pump(from_client, to_server, Some(&record)));
                thread::spawn(move || pump(from_server, to_client, None));
            }
        });
        Self {
            port,
            sent,
            open,
            stop,
        }
    }

    /// `rtsp://<userinfo>127.0.0.1:PORT/<name>` (`userinfo` ends with `@` when given).
    pub fn url(&self, userinfo: &str, name: &str) -> String {
        format!("rtsp://{userinfo}127.0.0.1:{}/{name}", self.port)
    }

    /// Every byte clients sent so far, all connections in arrival order.
    pub fn client_bytes(&self) -> Vec<u8> {
        self.sent.lock().unwrap().clone()
    }
}

/// Copies until either side closes, keeping a copy in `record`.
fn pump(mut from: TcpStream, mut to: TcpStream, record: Option<&Mutex<Vec<u8>>>) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(r) = record {
            r.lock().unwrap().extend_from_slice(&buf[..n]);
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the acceptor so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        for s in self.open.lock().unwrap().iter() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}
