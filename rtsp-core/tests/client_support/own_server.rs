//! The project's own server (`rtsp_core::server::runtime`), started in-process, and the sample
//! movie.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rtsp_core::server::runtime::{Config, Server};

pub fn media_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../media")
}

/// The sample movie's frames as RFC 2435 delivers them (headers rebuilt from the standard
/// tables; the scan data unchanged), and as the lab dialect delivers them (the file's bytes).
pub fn movie() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let file = rtsp_core::media::MjpegFile::open(media_dir().join("movie.Mjpeg")).unwrap();
    let raw: Vec<Vec<u8>> = file.frames().map(<[u8]>::to_vec).collect();
    let rtp = raw
        .iter()
        .map(|f| rtsp_core::jpeg::ParsedJpeg::parse(f).unwrap().to_rtp_jpeg())
        .collect();
    (rtp, raw)
}

/// Starts the server in this process on 127.0.0.1:`port` (0 = any) for `media`.
pub fn start(media: &Path, port: u16) -> std::io::Result<Server> {
    let mut config = Config::new(([127, 0, 0, 1], port).into(), media);
    config.senders = 1;
    config.max_sessions = 64;
    config.max_connections = 64;
    config.session_timeout = Duration::from_secs(60);
    config.rtp_port_base = 30_000 + (std::process::id() % 8_000) as u16 * 2;
    Server::start(config)
}
