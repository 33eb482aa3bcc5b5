//! What the player plays: an `rtsp://` URL, or the lab's four values. Parsed from the command
//! line or from the address entry, and turned into an engine configuration.

use rtsp_core::client::{ClientConfig, LabTarget, TransportPreference};
use rtsp_core::rtsp::url::{self, AbsoluteUrl};

/// Why a target could not be understood. The message is shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not a URL the engine can play.
    #[error("“{0}” is not an rtsp:// or rtsps:// address")]
    NotRtsp(String),
    /// The URL is malformed.
    #[error("“{url}” cannot be read: {reason}")]
    BadUrl {
        /// The text given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A lab port is not a number from 1 to 65535 (the RTP port may be 0: any free port).
    #[error("{what} “{value}” is not a port number")]
    BadPort {
        /// Which port.
        what: &'static str,
        /// The text given.
        value: String,
    },
    /// Neither one URL nor the lab's four values.
    #[error(
        "give an rtsp:// address, or the lab's four values: SERVER_HOST SERVER_PORT RTP_PORT VIDEO_FILE (got {0} values)"
    )]
    WrongCount(usize),
    /// Nothing was entered.
    #[error("enter an address first")]
    Empty,
}

/// A stream to play.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamTarget {
    /// Standard dialect.
    Url {
        /// The URL as given.
        url: String,
        /// The parsed URL.
        parsed: AbsoluteUrl,
    },
    /// Lab dialect.
    Lab(LabTarget),
}

impl StreamTarget {
    /// From the positional command-line arguments: none, one URL, or the lab's four values.
    pub fn from_args(args: &[String]) -> Result<Option<Self>, TargetError> {
        match args {
            [] => Ok(None),
            [url] => Self::url(url).map(Some),
            [host, server_port, rtp_port, file] => {
                Self::lab(host, server_port, rtp_port, file).map(Some)
            }
            other => Err(TargetError::WrongCount(other.len())),
        }
    }

    /// From what the user typed in the address entry (a URL, or the four lab values separated
    /// by spaces, exactly as on the lab's command line).
    pub fn parse_entry(text: &str) -> Result<Self, TargetError> {
        let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        match Self::from_args(&words)? {
            Some(target) => Ok(target),
            None => Err(TargetError::Empty),
        }
    }

    /// A standard-dialect target.
    pub fn url(url: &str) -> Result<Self, TargetError> {
        // Error messages are shown and printed: they quote the URL without its password.
        let shown = || url::without_password(url).into_owned();
        let lower = url.to_ascii_lowercase();
        // rtsps:// plays over TLS, the server's certificate checked against the system's roots.
        if !lower.starts_with("rtsp://") && !lower.starts_with("rtsps://") {
            return Err(TargetError::NotRtsp(shown()));
        }
        let parsed = AbsoluteUrl::parse(url).map_err(|e| TargetError::BadUrl {
            url: shown(),
            reason: e.to_string(),
        })?;
        if parsed.host.is_empty() {
            return Err(TargetError::BadUrl {
                url: shown(),
                reason: "no host".into(),
            });
        }
        Ok(Self::Url {
            url: url.to_owned(),
            parsed,
        })
    }

    /// A lab-dialect target from the four values of `ClientLauncher.py`.
    pub fn lab(
        host: &str,
        server_port: &str,
        rtp_port: &str,
        file: &str,
    ) -> Result<Self, TargetError> {
        let port = |what: &'static str, value: &str, zero_ok: bool| {
            value
                .parse::<u16>()
                .ok()
                .filter(|p| zero_ok || *p != 0)
                .ok_or_else(|| TargetError::BadPort {
                    what,
                    value: value.to_owned(),
                })
        };
        Ok(Self::Lab(LabTarget {
            host: host.to_owned(),
            server_port: port("server port", server_port, false)?,
            rtp_port: port("RTP port", rtp_port, true)?,
            file: file.to_owned(),
        }))
    }

    /// Whether this target speaks the lab dialect.
    pub fn is_lab(&self) -> bool {
        matches!(self, Self::Lab(_))
    }

    /// The stream's name for the header bar: the last path segment or the lab file name.
    pub fn name(&self) -> String {
        let path = match self {
            Self::Url { parsed, .. } => parsed.path.as_str(),
            Self::Lab(lab) => lab.file.as_str(),
        };
        let name = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        if name.is_empty() {
            self.server().0
        } else {
            name.to_owned()
        }
    }

    /// Server host and RTSP port.
    pub fn server(&self) -> (String, u16) {
        match self {
            Self::Url { parsed, .. } => (parsed.host.clone(), parsed.port),
            Self::Lab(lab) => (lab.host.clone(), lab.server_port),
        }
    }

    /// `host:port`, with IPv6 literals in brackets.
    pub fn server_label(&self) -> String {
        let (host, port) = self.server();
        if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        }
    }

    /// The text that gives this target back through [`StreamTarget::parse_entry`] (used for the
    /// recent-address list).
    pub fn to_entry(&self) -> String {
        match self {
            Self::Url { url, .. } => url.clone(),
            Self::Lab(lab) => format!(
                "{} {} {} {}",
                lab.host, lab.server_port, lab.rtp_port, lab.file
            ),
        }
    }

    /// Like [`StreamTarget::to_entry`] but without a password in the URL: what may be written to
    /// disk (the recent-address list) or shown. The user name stays, so the player can ask again.
    pub fn to_saved_entry(&self) -> String {
        url::without_password(&self.to_entry()).into_owned()
    }

    /// The engine configuration for this target, with the protocol log on (the player shows
    /// it in lab mode and with `--show-rtsp`, and reads the lab's `Frames:` total from it).
    pub fn config(&self, transport: TransportPreference) -> ClientConfig {
        let mut config = match self {
            Self::Url { url, .. } => ClientConfig::url(url.clone()),
            Self::Lab(lab) => ClientConfig::lab(
                lab.host.clone(),
                lab.server_port,
                lab.rtp_port,
                lab.file.clone(),
            ),
        };
        config.transport = transport;
        config.user_agent = concat!("rtsp-player/", env!("CARGO_PKG_VERSION")).to_owned();
        config.protocol_log = true;
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn command_line_forms() {
        assert_eq!(StreamTarget::from_args(&[]), Ok(None));
        let url = StreamTarget::from_args(&args(&["rtsp://127.0.0.1:8554/movie.Mjpeg"]))
            .unwrap()
            .unwrap();
        assert!(!url.is_lab());
        assert_eq!(url.name(), "movie.Mjpeg");
        assert_eq!(url.server(), ("127.0.0.1".to_owned(), 8554));
        let lab = StreamTarget::from_args(&args(&["localhost", "1300", "5008", "movie.Mjpeg"]))
            .unwrap()
            .unwrap();
        assert!(lab.is_lab());
        assert_eq!(lab.name(), "movie.Mjpeg");
        assert_eq!(lab.server_label(), "localhost:1300");
        assert_eq!(
            StreamTarget::from_args(&args(&["a", "b"])),
            Err(TargetError::WrongCount(2))
        );
    }

    #[test]
    fn bad_values_are_explained() {
        assert!(matches!(
            StreamTarget::url("http://x/y"),
            Err(TargetError::NotRtsp(_))
        ));
        assert!(matches!(
            StreamTarget::url("rtsp://"),
            Err(TargetError::BadUrl { .. })
        ));
        let e = StreamTarget::url("rtsp://alice:secret@cam.local:99999/x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "“rtsp://alice@cam.local:99999/x” cannot be read: invalid port in URL"
        );
        assert_eq!(
            StreamTarget::lab("h", "0", "5008", "f"),
            Err(TargetError::BadPort {
                what: "server port",
                value: "0".into()
            })
        );
        assert!(StreamTarget::lab("h", "1300", "99999", "f").is_err());
        // RTP port 0 means "any free port".
        assert!(StreamTarget::lab("h", "1300", "0", "f").is_ok());
        assert_eq!(StreamTarget::parse_entry("   "), Err(TargetError::Empty));
    }

    #[test]
    fn entry_text_round_trips() {
        for text in [
            "rtsp://example.org/live/cam1",
            "rtsp://[::1]:8554/movie.Mjpeg",
            "rtsps://cam.example:322/live",
            "server 1300 5008 movie.Mjpeg",
        ] {
            let t = StreamTarget::parse_entry(text).unwrap();
            assert_eq!(t.to_entry(), text);
            assert_eq!(StreamTarget::parse_entry(&t.to_entry()).unwrap(), t);
        }
        let t = StreamTarget::parse_entry("  server   1300 5008  movie.Mjpeg ").unwrap();
        assert_eq!(t.to_entry(), "server 1300 5008 movie.Mjpeg");
    }

    #[test]
    fn saved_entries_never_hold_a_password() {
        let t = StreamTarget::url("rtsp://alice:s%3Acret@cam.local:554/a/b?x=1").unwrap();
        assert_eq!(t.to_saved_entry(), "rtsp://alice@cam.local:554/a/b?x=1");
        let t = StreamTarget::url("rtsp://:pw@cam.local/x").unwrap();
        assert_eq!(t.to_saved_entry(), "rtsp://cam.local/x");
        let t = StreamTarget::url("rtsp://cam.local:8554/x").unwrap();
        assert_eq!(t.to_saved_entry(), "rtsp://cam.local:8554/x");
    }

    #[test]
    fn names_fall_back_to_the_server() {
        let t = StreamTarget::url("rtsp://cam.local:554/").unwrap();
        assert_eq!(t.name(), "cam.local");
        let t = StreamTarget::url("rtsp://cam.local/a/b/stream1/").unwrap();
        assert_eq!(t.name(), "stream1");
        let t = StreamTarget::url("rtsp://[::1]:8554/x").unwrap();
        assert_eq!(t.server_label(), "[::1]:8554");
    }
}
