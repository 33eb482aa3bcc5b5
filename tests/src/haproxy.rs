//! Debian's `haproxy -db` in front of servers under test, with a configuration of the test's
//! making; killed on drop. Its messages (server state changes among them) are echoed and kept.

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{free_port, scratch};

pub struct Haproxy {
    child: Child,
    /// Where HAProxy's frontend listens.
    pub frontend: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    dir: PathBuf,
}

impl Haproxy {
    /// Starts HAProxy with the configuration `config(frontend)` returns for a frontend on a
    /// free port of `ip`, once that frontend accepts connections. The port is picked free and
    /// may be taken before HAProxy binds it: then HAProxy exits at once, and another port is
    /// tried.
    pub fn start(ip: IpAddr, config: impl Fn(SocketAddr) -> String) -> Haproxy {
        for _ in 0..5 {
            if let Some(proxy) = Self::try_start(SocketAddr::new(ip, free_port(ip)), &config) {
                return proxy;
            }
        }
        panic!("haproxy did not start (see its messages above)");
    }

    fn try_start(frontend: SocketAddr, config: &dyn Fn(SocketAddr) -> String) -> Option<Haproxy> {
        let dir = scratch("haproxy");
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, config(frontend)).unwrap();
        let mut child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn haproxy");
        let log = Arc::new(Mutex::new(Vec::new()));
        {
            let log = Arc::clone(&log);
            let stderr = child.stderr.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    eprintln!("haproxy: {line}");
                    log.lock().unwrap().push(line);
                }
            });
        }
        let mut proxy = Haproxy {
            child,
            frontend,
            log,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(frontend).is_err() {
            if let Some(status) = proxy.child.try_wait().unwrap() {
                eprintln!("haproxy exited at start ({status}); trying another port");
                return None;
            }
            assert!(Instant::now() < deadline, "haproxy did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(proxy)
    }

    /// `rtsp://FRONTEND/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("rtsp://{}/{path}", self.frontend)
    }

    /// Polls HAProxy's messages for a line with every one of `needles`.
    pub fn wait_log(&self, needles: &[&str], timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let found = self
                .log
                .lock()
                .unwrap()
                .iter()
                .find(|l| needles.iter().all(|n| l.contains(n)))
                .cloned();
            if found.is_some() || Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
