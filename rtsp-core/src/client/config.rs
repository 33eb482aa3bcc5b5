//! How to reach the server and how to behave: [`ClientConfig`].

use std::time::Duration;

/// What to connect to.
#[derive(Clone, PartialEq, Eq)]
pub enum Target {
    /// Standard dialect: `rtsp://host[:port]/path`.
    Url(String),
    /// Lab dialect: the four values `ClientLauncher.py` takes.
    Lab(LabTarget),
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // A configuration or client printed into a log must not take the URL's password.
            Target::Url(url) => f
                .debug_tuple("Url")
                .field(&crate::rtsp::url::without_password(url))
                .finish(),
            Target::Lab(lab) => f.debug_tuple("Lab").field(lab).finish(),
        }
    }
}

/// The lab client's command line: `ClientLauncher.py server_host server_port RTP_port video_file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabTarget {
    /// Server host name or address.
    pub host: String,
    /// Server RTSP port.
    pub server_port: u16,
    /// Local UDP port to receive RTP on; 0 lets the system pick one (it is then sent in SETUP).
    pub rtp_port: u16,
    /// The file name, sent bare in every request line (`SETUP movie.Mjpeg RTSP/1.0`).
    pub file: String,
}

/// Which lower transport carries RTP in the standard dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransportPreference {
    /// UDP first; fall back to TCP interleaved when no UDP packet arrives in time.
    #[default]
    Auto,
    /// UDP only.
    Udp,
    /// TCP interleaved only (`RTP/AVP/TCP;unicast;interleaved=0-1`).
    Tcp,
}

/// A user name and password for RTSP authentication (the password is kept out of `Debug`).
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// How the client checks the server's certificate on `rtsps://` (plain `rtsp://` has none).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CertificateCheck {
    /// Against the system's trusted roots (Debian's `/etc/ssl/certs`) and the URL's host name.
    #[default]
    SystemRoots,
    /// Against the CA certificates in this PEM file only (a private CA, or the server's own
    /// self-signed certificate) and the URL's host name.
    CaFile(std::path::PathBuf),
    /// Not at all: any certificate is taken, so whoever sits between client and server can read
    /// and change everything, credentials included. Only for tests and self-made certificates
    /// on a network you trust.
    InsecureAcceptAny,
}

/// Client settings. Build one with [`ClientConfig::url`] or [`ClientConfig::lab`] and adjust the
/// public fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// What to connect to (this also picks the dialect).
    pub target: Target,
    /// Lower transport for the standard dialect (the lab dialect is always UDP).
    pub transport: TransportPreference,
    /// How long to wait for each RTSP reply.
    pub reply_timeout: Duration,
    /// With [`TransportPreference::Auto`]: how long PLAY may go without any UDP packet before the
    /// client switches to TCP interleaved.
    pub udp_fallback_after: Duration,
    /// Standard dialect: how long PLAYING may go without any RTP or RTCP packet before the client
    /// reports [`super::ClientError::Stalled`] (once per silence; the session is kept, so media
    /// that resumes plays on). This catches a server or path that died without closing TCP (no
    /// FIN), which the RTSP connection alone never notices. `None` disables it. Paused sessions,
    /// ended streams and the lab dialect (whose server ends a file with silence) are never flagged;
    /// with [`TransportPreference::Auto`] the UDP fallback decides first.
    pub media_timeout: Option<Duration>,
    /// How often to emit [`super::Event::Stats`]; `None` disables the periodic event
    /// ([`super::Client::stats`] works either way).
    pub stats_interval: Option<Duration>,
    /// Lab dialect: the server's frame period, used for presentation times (the lab sends 20 fps).
    pub lab_frame_interval: Duration,
    /// Lab dialect: silence after frames have flowed that counts as end of stream (the lab server
    /// just stops sending at the end of the file).
    pub lab_end_silence: Duration,
    /// Value of the `User-Agent` header (standard dialect).
    pub user_agent: String,
    /// Credentials answering the server's 401 (standard dialect). The URL's
    /// `rtsp://user:password@host/...` userinfo is used when this is `None`; it is never sent.
    pub credentials: Option<ClientCredentials>,
    /// Report every RTSP message sent and received as [`super::Event::Message`] (off by
    /// default: nothing is copied or formatted then).
    pub protocol_log: bool,
    /// `rtsps://` only: how the server's certificate is checked (a refused one is
    /// [`super::ClientError::UntrustedCertificate`]).
    pub certificate_check: CertificateCheck,
}

impl ClientConfig {
    fn with_target(target: Target) -> Self {
        Self {
            target,
            transport: TransportPreference::Auto,
            reply_timeout: Duration::from_secs(5),
            udp_fallback_after: Duration::from_secs(3),
            // RTCP SRs come every 5 s at the latest; media at any usable frame rate much more
            // often, so 5 s of nothing at all is a dead sender, not a slow one.
            media_timeout: Some(Duration::from_secs(5)),
            stats_interval: Some(Duration::from_secs(1)),
            lab_frame_interval: Duration::from_millis(50),
            lab_end_silence: Duration::from_secs(2),
            user_agent: concat!("rtsp-core/", env!("CARGO_PKG_VERSION")).to_owned(),
            credentials: None,
            protocol_log: false,
            certificate_check: CertificateCheck::SystemRoots,
        }
    }

    /// The same configuration with credentials for servers that require authentication.
    pub fn credentials(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some(ClientCredentials {
            user: user.into(),
            password: password.into(),
        });
        self
    }

    /// The same configuration checking the server's certificate against the CA certificates
    /// of a PEM file (`rtsps://`).
    pub fn ca_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.certificate_check = CertificateCheck::CaFile(path.into());
        self
    }

    /// Standard dialect, to an `rtsp://host[:port]/path` (or `rtsps://`, TLS) URL.
    pub fn url(url: impl Into<String>) -> Self {
        Self::with_target(Target::Url(url.into()))
    }

    /// Lab dialect, with the four values of the lab's `ClientLauncher.py`.
    pub fn lab(
        host: impl Into<String>,
        server_port: u16,
        rtp_port: u16,
        file: impl Into<String>,
    ) -> Self {
        Self::with_target(Target::Lab(LabTarget {
            host: host.into(),
            server_port,
            rtp_port,
            file: file.into(),
        }))
    }

    /// Whether this configuration speaks the lab dialect.
    pub fn is_lab(&self) -> bool {
        matches!(self.target, Target::Lab(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_a_password() {
        let config = ClientConfig::url("rtsp://alice:open%20sesame@cam.local/x")
            .credentials("bob", "hunter2");
        let shown = format!("{config:?}");
        assert!(shown.contains("rtsp://alice@cam.local/x"), "{shown}");
        assert!(shown.contains("bob"), "{shown}");
        for secret in ["sesame", "hunter2"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
