//! GStreamer's RTSP server (gst-rtsp-server through python3-gi, Debian's
//! gir1.2-gst-rtsp-server-1.0), started by the test itself on 127.0.0.1.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const SCRIPT: &str = r#"
import sys, gi
gi.require_version('Gst', '1.0')
gi.require_version('GstRtsp', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import Gst, GstRtsp, GstRtspServer, GLib, Gio
Gst.init(None)
frames, tcp_only = int(sys.argv[1]), sys.argv[2] == 'tcp'
width, height = int(sys.argv[3]), int(sys.argv[4])
server = GstRtspServer.RTSPServer()
server.set_address('127.0.0.1')
server.set_service('0')
if len(sys.argv) > 6:
    # RTSPS: the certificate is set up by RTSPAuth's connect check; no other check is wanted.
    class TlsOnly(GstRtspServer.RTSPAuth):
        def do_check(self, ctx, check):
            if check == GstRtspServer.RTSP_AUTH_CHECK_CONNECT:
                return GstRtspServer.RTSPAuth.do_check(self, ctx, check)
            return True
    pem = open(sys.argv[5]).read() + open(sys.argv[6]).read()
    auth = TlsOnly()
    auth.set_tls_certificate(Gio.TlsCertificate.new_from_pem(pem, -1))
    server.set_auth(auth)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch('( videotestsrc num-buffers=%d ! video/x-raw,format=I420,width=%d,height=%d,framerate=20/1 '
                   '! jpegenc quality=85 ! rtpjpegpay name=pay0 pt=26 )' % (frames, width, height))
if tcp_only:
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP)
server.get_mount_points().add_factory('/test', factory)
server.attach(None)
print(server.get_bound_port(), flush=True)
GLib.MainLoop().run()
"#;

/// The system Python that has the `gi` bindings (a pyenv shim on PATH may not).
pub fn python() -> &'static str {
    if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// True (after saying so loudly) when gst-rtsp-server cannot be started here and the test
/// should skip; a missing peer fails the test in CI (see `peer_missing`).
pub fn missing() -> bool {
    super::peer_missing(
        available(),
        "gst-rtsp-server (gir1.2-gst-rtsp-server-1.0, python3-gi)",
    )
}

/// Whether gst-rtsp-server can be started here.
pub fn available() -> bool {
    Command::new(python())
        .args(["-c", "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

pub struct GstServer {
    child: Child,
    pub port: u16,
    tls: bool,
}

impl GstServer {
    /// Serves `rtsp://127.0.0.1:PORT/test`: `frames` 320x240 JPEG test frames at 20 fps.
    pub fn start(frames: u32, tcp_only: bool) -> Self {
        Self::start_sized(frames, tcp_only, 320, 240)
    }

    /// Same with frames of `width` x `height` (above 2040 pixels, rtpjpegpay sends size
    /// fields 0 and gst-rtsp-server announces `a=x-dimensions`).
    pub fn start_sized(frames: u32, tcp_only: bool, width: u16, height: u16) -> Self {
        Self::spawn(frames, tcp_only, width, height, None)
    }

    /// Serves `rtsps://127.0.0.1:PORT/test` (320x240 frames) over TLS with the certificate
    /// chain `cert` and its key `key` (PEM files).
    pub fn start_tls(frames: u32, cert: &Path, key: &Path) -> Self {
        Self::spawn(frames, false, 320, 240, Some((cert, key)))
    }

    fn spawn(
        frames: u32,
        tcp_only: bool,
        width: u16,
        height: u16,
        tls: Option<(&Path, &Path)>,
    ) -> Self {
        let mut args: Vec<std::ffi::OsString> = vec![
            "-c".into(),
            SCRIPT.into(),
            frames.to_string().into(),
            if tcp_only { "tcp" } else { "any" }.into(),
            width.to_string().into(),
            height.to_string().into(),
        ];
        if let Some((cert, key)) = tls {
            args.push(cert.into());
            args.push(key.into());
        }
        let mut child = Command::new(python())
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start gst-rtsp-server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("gst-rtsp-server port");
        Self {
            child,
            port,
            tls: tls.is_some(),
        }
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls { "rtsps" } else { "rtsp" };
        format!("{scheme}://127.0.0.1:{}/test", self.port)
    }
}

impl Drop for GstServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
