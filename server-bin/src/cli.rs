//! Command line: the documented options plus the lab's `rtsp-server SERVER_PORT` form.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use rtsp_core::server::relay::{RelayMode, RelaySpec};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// RTSP/RTP MJPEG server for the lab's Python client and for standard players (VLC, FFmpeg,
/// GStreamer). Serves every .Mjpeg / .mjpeg / .mjpg file under the media directory as
/// rtsp://HOST:PORT/NAME, and a live synthetic test pattern as rtsp://HOST:PORT/testsrc.
///
/// The lab's form `rtsp-server SERVER_PORT` also works (media from the current directory).
/// Logging honours RUST_LOG (for example RUST_LOG=debug).
#[derive(Debug, Clone, Parser)]
#[command(name = "rtsp-server", version, about, long_about)]
pub struct Cli {
    /// Lab form: the RTSP port as the only positional argument (same as --port).
    #[arg(value_name = "SERVER_PORT", conflicts_with = "port")]
    pub server_port: Option<u16>,

    /// Address to listen on. RTP is sent from the same address.
    #[arg(long, default_value = "0.0.0.0", value_name = "ADDR")]
    pub bind: IpAddr,

    /// RTSP port to listen on.
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,

    /// Directory whose MJPEG files are served; nothing outside it is reachable.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub media: PathBuf,

    /// Frames per second sent to every client (the lab's 50 ms interval is 20 fps).
    #[arg(long, default_value_t = 20.0, value_name = "FPS", value_parser = parse_fps)]
    pub fps: f64,

    /// Threads serving RTSP connections (each runs an event loop for many connections).
    #[arg(long, default_value_t = 2, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub workers: u16,

    /// Ignored: connection workers send their sessions' RTP themselves. Accepted so that
    /// existing command lines keep working.
    #[arg(long, hide = true, default_value_t = 2, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub senders: u16,

    /// Seconds without RTSP requests, RTCP reports or an open lab connection after which a
    /// session is torn down; announced to clients as `Session: id;timeout=N`.
    #[arg(long, default_value_t = 60, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub session_timeout: u64,

    /// Most sessions alive at once; SETUP beyond it is answered 503 Service Unavailable.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_sessions: usize,

    /// Most RTSP connections open at once; further connections are closed right away.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub max_connections: usize,

    /// Most RTSP connections one client address may hold; beyond it a connection gets
    /// 503 Service Unavailable and is closed.
    #[arg(long, default_value_t = 256, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections_per_address: u64,

    /// Require RTSP authentication (Digest SHA-256 and MD5) for every request but OPTIONS,
    /// with the users of FILE (`user:realm:md5_ha1:sha256_ha1[:publish]` lines; create them with
    /// `rtsp-server passwd FILE USER [--publish]`). Users may read; only those marked `publish`
    /// may publish (see `--publish`).
    #[arg(long, value_name = "FILE")]
    pub credentials: Option<PathBuf>,

    /// Authentication realm (users of other realms in the credentials file cannot log in).
    #[arg(long, default_value = DEFAULT_REALM, value_name = "REALM")]
    pub realm: String,

    /// Also offer and accept Basic authentication. Off by default: Basic sends the password in
    /// clear text on every request, so use it only on trusted networks for clients without Digest.
    #[arg(long)]
    pub auth_basic: bool,

    /// Restart files from the first frame at the end instead of ending the stream (RTCP BYE).
    #[arg(long = "loop")]
    pub loop_media: bool,

    /// Re-encode JPEG frames that RTP/JPEG (RFC 2435) cannot carry as-is (4:4:4, grayscale,
    /// custom Huffman tables, progressive) instead of refusing those files.
    #[arg(long)]
    pub transcode: bool,

    /// First UDP port tried for server RTP/RTCP pairs (RTP even, RTCP odd).
    #[arg(long, default_value_t = 6970, value_name = "PORT")]
    pub rtp_port_base: u16,

    /// Expect a PROXY protocol header (v1 or v2, as HAProxy's `send-proxy` / `send-proxy-v2`
    /// write) at the start of every RTSP connection, and treat the client address it names as
    /// the peer for everything: RTP destination, per-address limits, logs, authentication
    /// throttling. A connection without a valid header is closed.
    #[arg(long)]
    pub proxy_protocol: bool,

    /// A balancer allowed to send PROXY headers, as an address or CIDR (repeatable); a
    /// connection from any other address is closed.
    #[arg(long, value_name = "CIDR", value_parser = parse_cidr)]
    pub trusted_proxy: Vec<ipnet::IpNet>,

    /// Serve Prometheus metrics (`/metrics`) and a health check (`/healthz`: 200 while
    /// serving, 503 while draining) over HTTP on ADDR (for example 127.0.0.1:9554).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,

    /// Serve MJPEG to browsers over HTTP on ADDR (for example 127.0.0.1:8080): every path as
    /// `multipart/x-mixed-replace` at `/stream/<path>` (`/stream/movie.Mjpeg`,
    /// `/stream/live/cam`), and at `/` a page listing the paths with a live preview and
    /// statistics each. Same paths and `--credentials` as RTSP (Digest, or Basic with
    /// `--auth-basic`).
    #[arg(long, value_name = "ADDR")]
    pub http: Option<std::net::SocketAddr>,

    /// Accept publishers: a client may ANNOUNCE, SETUP (`mode=record`) and RECORD an RTP/JPEG
    /// stream (interleaved on its RTSP connection or over UDP) on any path that is not a file, for example
    /// `rtsp://HOST:PORT/live/cam`, which readers then play; one publisher per path. With
    /// `--credentials`, publishing needs an authenticated user marked `publish` in the file
    /// (others get 403 Forbidden). Off: ANNOUNCE and RECORD get 405.
    #[arg(long)]
    pub publish: bool,

    /// Paths publishable without `--publish`, with who may publish each (the config file's
    /// `[[path]]` tables; no flag).
    #[arg(skip)]
    pub publish_paths: Vec<rtsp_core::server::publish::PublishPath>,

    /// Relay PATH from an upstream RTSP server or camera (repeatable): readers of
    /// rtsp://HOST:PORT/PATH get the upstream's RTP/JPEG video, pulled once whatever their
    /// number (UDP with fallback to TCP; Digest credentials from the URL's user:password,
    /// never logged). `PATH:always=URL` or `PATH:on-demand=URL` overrides --relay-mode for
    /// that path. Example: `--relay cam1=rtsp://user:pw@192.0.2.10:554/stream`.
    #[arg(long, value_name = "PATH[:MODE]=URL", value_parser = parse_relay)]
    pub relay: Vec<RelaySpec>,

    /// Relay on demand any path that has no source here (no file, not the test source, not
    /// published, not a --relay) from the same path of this server, `rtsp://[user:pw@]host[:port]`
    /// (credentials never logged): an edge in front of an origin. A path is pulled once
    /// whatever its readers, let go --relay-linger after its last reader left; a path the
    /// origin does not have is 404.
    #[arg(long, value_name = "URL", value_parser = parse_origin)]
    pub origin: Option<String>,

    /// At most this many paths relayed from --origin at once; readers of more get 503.
    #[arg(long, default_value_t = rtsp_core::server::runtime::DEFAULT_ORIGIN_MAX_PATHS, value_name = "N")]
    pub origin_max_paths: usize,

    /// When relayed paths connect to their upstream: `on-demand` (at the first reader's
    /// DESCRIBE or SETUP, until --relay-linger after the last reader left) or `always` (from
    /// the start).
    #[arg(long, default_value = "on-demand", value_name = "MODE", value_parser = parse_relay_mode)]
    pub relay_mode: RelayMode,

    /// On demand: seconds a relayed path's upstream stays connected after its last reader left.
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS", value_parser = parse_linger)]
    pub relay_linger: f64,

    /// Also serve rtsps:// (RTSP over TLS) with the certificate chain in this PEM file (leaf
    /// first). Control and TCP-interleaved media travel inside TLS; UDP media as negotiated.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// Port of the rtsps:// listener, on the --bind address.
    #[arg(long, default_value_t = rtsp_core::tls::DEFAULT_TLS_PORT, value_name = "PORT")]
    pub tls_port: u16,

    /// Answer DESCRIBE and SETUP for the presentation PATH with `302 Moved Temporarily` and
    /// `Location: URL` (repeatable; PATH as in this server's URLs, URL an absolute rtsp://
    /// URL). OPTIONS and requests of sessions already here are served as usual.
    #[arg(long = "redirect", value_name = "PATH=URL", value_parser = parse_redirect)]
    pub redirect: Vec<rtsp_core::server::redirect::PathRule>,

    /// An edge new clients are sent to once the server holds more than --redirect-above
    /// sessions (repeatable): a base URL such as rtsp://edge1:8554, the path is appended. Each
    /// new DESCRIBE goes to the edge this server has sent the fewest clients to.
    #[arg(long, value_name = "URL", value_parser = parse_edge)]
    pub redirect_to: Vec<String>,

    /// With more sessions than N, answer new DESCRIBEs with 302 to one of the --redirect-to
    /// edges.
    #[arg(long, value_name = "N")]
    pub redirect_above: Option<usize>,

    /// Read options from this TOML file (see examples/rtsp-server.toml); a flag given on the
    /// command line overrides the file's key. Relative paths in the file are taken from the
    /// file's directory. A bad file stops the server with `FILE:LINE: message` (exit code 2).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log line format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, value_name = "FORMAT")]
    pub log_format: LogFormat,
}

/// Default `--realm`.
pub const DEFAULT_REALM: &str = "rtsp-server";

/// `rtsp-server passwd FILE USER [--realm REALM]`: add or replace USER in the credentials file
/// FILE (created with mode 0600), with the password read from the first line of standard input.
#[derive(Debug, Clone, Parser)]
#[command(name = "rtsp-server passwd")]
pub struct PasswdCli {
    /// The credentials file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The user name.
    #[arg(value_name = "USER")]
    pub user: String,
    /// The realm (must match the server's --realm).
    #[arg(long, default_value = DEFAULT_REALM, value_name = "REALM")]
    pub realm: String,
    /// Let USER publish (ANNOUNCE and RECORD with `--publish`) as well as read. Without it the
    /// line written makes USER a reader, also when it replaces a publisher's line.
    #[arg(long)]
    pub publish: bool,
}

impl Cli {
    /// The RTSP port: `--port`, else the lab's positional port, else 8554.
    pub fn rtsp_port(&self) -> u16 {
        self.port.or(self.server_port).unwrap_or(8554)
    }

    /// Checks the options that need each other. Run after a `--config` file is merged in
    /// (clap's own `requires` would see the command line alone and refuse `--realm` whose
    /// credentials come from the file).
    pub fn check(&self) -> Result<(), String> {
        let pairs = [
            (
                self.proxy_protocol != self.trusted_proxy.is_empty(),
                "--proxy-protocol and --trusted-proxy (trusted-proxies in a file) go together",
            ),
            (
                self.tls_cert.is_some() == self.tls_key.is_some(),
                "--tls-cert and --tls-key go together",
            ),
            (
                self.tls_cert.is_some() || self.tls_port == rtsp_core::tls::DEFAULT_TLS_PORT,
                "--tls-port needs --tls-cert and --tls-key",
            ),
            (
                self.redirect_to.is_empty() == self.redirect_above.is_none(),
                "--redirect-to and --redirect-above go together",
            ),
            (
                self.credentials.is_some() || (self.realm == DEFAULT_REALM && !self.auth_basic),
                "--realm and --auth-basic need --credentials",
            ),
        ];
        match pairs.into_iter().find(|(ok, _)| !ok) {
            Some((_, why)) => Err(why.to_owned()),
            None => Ok(()),
        }
    }

    /// The redirect settings of `--redirect`, `--redirect-to` and `--redirect-above`.
    pub fn redirect_config(&self) -> rtsp_core::server::redirect::RedirectConfig {
        rtsp_core::server::redirect::RedirectConfig {
            rules: self.redirect.clone(),
            edges: self.redirect_to.clone(),
            above: self.redirect_above,
        }
    }
}

pub(crate) fn parse_redirect(s: &str) -> Result<rtsp_core::server::redirect::PathRule, String> {
    rtsp_core::server::redirect::PathRule::parse(s).map_err(|e| e.to_string())
}

pub(crate) fn parse_edge(s: &str) -> Result<String, String> {
    let mut checked = rtsp_core::server::redirect::RedirectConfig::default();
    checked.add_edge(s).map_err(|e| e.to_string())?;
    Ok(s.to_owned())
}

/// A CIDR block, or one address as a block of its own.
pub(crate) fn parse_cidr(s: &str) -> Result<ipnet::IpNet, String> {
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{s}` is neither an address nor a CIDR block (like 10.0.0.0/8)"))
}

fn parse_relay(s: &str) -> Result<RelaySpec, String> {
    s.parse().map_err(|e| format!("{e}"))
}

/// `rtsp://[user:pw@]host[:port]` with no path: paths are appended to it.
pub(crate) fn parse_origin(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("rtsp://")
        .ok_or("the origin must be an rtsp:// URL")?
        .trim_end_matches('/');
    let host = rest.rsplit('@').next().unwrap_or(rest);
    if host.is_empty() || host.contains(['/', '?', '#', ' ']) {
        return Err("the origin must be rtsp://[user:password@]host[:port], without a path".into());
    }
    Ok(format!("rtsp://{rest}"))
}

pub(crate) fn parse_relay_mode(s: &str) -> Result<RelayMode, String> {
    s.parse().map_err(|e| format!("{e}"))
}

pub(crate) fn parse_linger(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if v.is_finite() && (0.0..=86400.0).contains(&v) {
        Ok(v)
    } else {
        Err("the linger must be between 0 and 86400 seconds".to_owned())
    }
}

pub(crate) fn parse_fps(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if v.is_finite() && (0.1..=240.0).contains(&v) {
        Ok(v)
    } else {
        Err("fps must be between 0.1 and 240".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_positional_port() {
        let cli = Cli::try_parse_from(["rtsp-server", "1300"]).unwrap();
        assert_eq!(cli.rtsp_port(), 1300);
        assert_eq!(cli.media, PathBuf::from("."));
        assert_eq!(cli.fps, 20.0);
    }

    #[test]
    fn options() {
        let cli = Cli::try_parse_from([
            "rtsp-server",
            "--bind",
            "127.0.0.1",
            "--port",
            "9000",
            "--media",
            "m",
            "--fps",
            "25",
            "--workers",
            "3",
            "--session-timeout",
            "5",
            "--max-sessions",
            "4",
            "--loop",
            "--log-format",
            "json",
        ])
        .unwrap();
        assert_eq!(cli.rtsp_port(), 9000);
        assert_eq!(cli.fps, 25.0);
        assert_eq!(cli.workers, 3);
        assert!(cli.loop_media);
        assert_eq!(cli.log_format, LogFormat::Json);
        assert_eq!(
            Cli::try_parse_from(["rtsp-server"]).unwrap().rtsp_port(),
            8554
        );
    }

    #[test]
    fn balancer_options() {
        let cli = Cli::try_parse_from([
            "rtsp-server",
            "--proxy-protocol",
            "--trusted-proxy",
            "10.0.0.0/8",
            "--trusted-proxy",
            "192.0.2.7",
            "--trusted-proxy",
            "2001:db8::/32",
            "--metrics",
            "127.0.0.1:9554",
        ])
        .unwrap();
        assert!(cli.proxy_protocol);
        let nets: Vec<String> = cli.trusted_proxy.iter().map(ToString::to_string).collect();
        assert_eq!(nets, ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"]);
        assert_eq!(cli.metrics, "127.0.0.1:9554".parse().ok());
        let plain = Cli::try_parse_from(["rtsp-server"]).unwrap();
        assert!(!plain.proxy_protocol && plain.trusted_proxy.is_empty() && plain.metrics.is_none());
        assert!(plain.http.is_none());
    }

    #[test]
    fn relay_options() {
        let cli = Cli::try_parse_from([
            "rtsp-server",
            "--relay",
            "cam1=rtsp://user:pw@127.0.0.1:8554/test",
            "--relay",
            "site/cam2:always=rtsp://127.0.0.1/x",
            "--relay-linger",
            "0.5",
        ])
        .unwrap();
        let relays: Vec<_> = cli
            .relay
            .iter()
            .map(|r| (r.path.as_str(), r.mode))
            .collect();
        assert_eq!(
            relays,
            [("cam1", None), ("site/cam2", Some(RelayMode::Always))]
        );
        assert_eq!(cli.relay_mode, RelayMode::OnDemand);
        assert_eq!(cli.relay_linger, 0.5);
        let edge =
            Cli::try_parse_from(["rtsp-server", "--origin", "rtsp://u:p@127.0.0.1:8554/"]).unwrap();
        assert_eq!(
            (edge.origin.as_deref(), edge.origin_max_paths),
            (Some("rtsp://u:p@127.0.0.1:8554"), 256)
        );
        let plain = Cli::try_parse_from(["rtsp-server", "--relay-mode", "always"]).unwrap();
        assert_eq!(
            (plain.relay_mode, plain.relay_linger, plain.relay.len()),
            (RelayMode::Always, 10.0, 0)
        );
    }

    #[test]
    fn redirect_options() {
        let cli = Cli::try_parse_from([
            "rtsp-server",
            "--redirect",
            "movie.Mjpeg=rtsp://b:8554/movie.Mjpeg",
            "--redirect",
            "/old/a.mjpg=rtsp://c/a.mjpg",
            "--redirect-to",
            "rtsp://e1:8554",
            "--redirect-to",
            "rtsp://e2:8554",
            "--redirect-above",
            "100",
        ])
        .unwrap();
        let config = cli.redirect_config();
        let paths: Vec<&str> = config.rules.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["movie.Mjpeg", "old/a.mjpg"]);
        assert_eq!(config.edges, ["rtsp://e1:8554", "rtsp://e2:8554"]);
        assert_eq!(config.above, Some(100));
        assert!(!Cli::try_parse_from(["rtsp-server"])
            .unwrap()
            .redirect_config()
            .is_active());
    }

    #[test]
    fn rejects_nonsense() {
        for args in [
            &["rtsp-server", "--fps", "0"][..],
            &["rtsp-server", "--fps", "nan"],
            &["rtsp-server", "--workers", "0"],
            &["rtsp-server", "1300", "--port", "9000"],
            &["rtsp-server", "--log-format", "xml"],
            // The PROXY protocol needs a balancer to trust, and trust needs the protocol.
            &["rtsp-server", "--proxy-protocol"],
            &["rtsp-server", "--trusted-proxy", "10.0.0.1"],
            &[
                "rtsp-server",
                "--proxy-protocol",
                "--trusted-proxy",
                "10.0.0.0/33",
            ],
            &[
                "rtsp-server",
                "--proxy-protocol",
                "--trusted-proxy",
                "balancer",
            ],
            &["rtsp-server", "--metrics", "9554"],
            &["rtsp-server", "--relay", "cam1"],
            &["rtsp-server", "--relay", "cam1=http://h/x"],
            &["rtsp-server", "--relay", "cam1:never=rtsp://h/x"],
            &["rtsp-server", "--relay-mode", "sometimes"],
            &["rtsp-server", "--origin", "http://h:554"],
            &["rtsp-server", "--origin", "rtsp://h:554/live"],
            &["rtsp-server", "--origin", "rtsp://"],
            &["rtsp-server", "--relay-linger", "-1"],
            &["rtsp-server", "--redirect", "movie.Mjpeg"],
            &["rtsp-server", "--redirect", "m=http://h/m"],
            &["rtsp-server", "--redirect-to", "rtsp://e1"],
            &["rtsp-server", "--redirect-above", "3"],
            &["rtsp-server", "--realm", "lab"],
            &["rtsp-server", "--auth-basic"],
            &["rtsp-server", "--tls-port", "8322"],
            &["rtsp-server", "--tls-key", "k.pem"],
            &[
                "rtsp-server",
                "--redirect-to",
                "e1",
                "--redirect-above",
                "3",
            ],
        ] {
            let checked = Cli::try_parse_from(args)
                .map_err(|e| e.to_string())
                .and_then(|cli| cli.check());
            assert!(checked.is_err(), "{args:?}");
        }
    }
}
