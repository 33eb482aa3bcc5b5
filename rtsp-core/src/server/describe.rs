//! What a DESCRIBE reply carries besides its status: the SDP and the Content-Base.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::rtsp::url::RequestUri;
use crate::sdp::{Dimensions, SessionDescription};

/// The facts about a presentation its description states.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Presentation<'a> {
    /// Name relative to the media root (the SDP `s=`).
    pub name: &'a str,
    /// Frame width; 0 when unknown.
    pub width: u16,
    /// Frame height; 0 when unknown.
    pub height: u16,
    /// Length at the served frame rate; `None` for a live source.
    pub duration: Option<Duration>,
}

/// The SDP answered to DESCRIBE: `origin` is the address the client reached (the `o=` and `c=`
/// lines), `session_id` the `o=` session id.
pub fn sdp(p: &Presentation<'_>, origin: Option<IpAddr>, fps: f64, session_id: u64) -> String {
    let mut desc = SessionDescription::new(session_id, p.name);
    if let Some(ip) = origin {
        desc.origin_address = ip;
    }
    desc.duration = p.duration;
    desc.frame_rate = Some(fps);
    if p.width > 0 && p.height > 0 {
        desc.dimensions = Some(Dimensions {
            width: u32::from(p.width),
            height: u32::from(p.height),
        });
    }
    desc.to_sdp().unwrap_or_default()
}

/// `rtsp://host:port/<presentation>/` (`rtsps://` on a TLS connection, `secure`), with the host
/// the client used when it sent a URL (a client behind NAT or using a name must get back what it
/// can reach), else the address it connected to.
pub fn content_base(
    request_uri: &str,
    local: Option<SocketAddr>,
    presentation: &str,
    secure: bool,
) -> String {
    let authority = match RequestUri::parse(request_uri) {
        Ok(RequestUri::Absolute(url)) if url.host.contains(':') => {
            format!("[{}]:{}", url.host, url.port)
        }
        Ok(RequestUri::Absolute(url)) => format!("{}:{}", url.host, url.port),
        _ => match local {
            Some(a @ SocketAddr::V6(_)) => format!("[{}]:{}", a.ip(), a.port()),
            Some(a) => a.to_string(),
            None => "127.0.0.1".to_owned(),
        },
    };
    let scheme = if secure { "rtsps" } else { "rtsp" };
    format!("{scheme}://{authority}/{presentation}/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_base_keeps_the_clients_host_else_the_local_address() {
        let local: Option<SocketAddr> = "192.0.2.1:8554".parse().ok();
        assert_eq!(
            content_base("rtsp://cam.example:554/m.mjpg", local, "m.mjpg", false),
            "rtsp://cam.example:554/m.mjpg/"
        );
        assert_eq!(
            content_base("rtsp://[::1]:8554/a/b.mjpg", local, "a/b.mjpg", false),
            "rtsp://[::1]:8554/a/b.mjpg/"
        );
        // A lab request names only the file.
        assert_eq!(
            content_base("movie.Mjpeg", local, "movie.Mjpeg", false),
            "rtsp://192.0.2.1:8554/movie.Mjpeg/"
        );
        assert_eq!(
            content_base(
                "movie.Mjpeg",
                "[::1]:9000".parse().ok(),
                "movie.Mjpeg",
                false
            ),
            "rtsp://[::1]:9000/movie.Mjpeg/"
        );
        assert_eq!(
            content_base("movie.Mjpeg", None, "movie.Mjpeg", false),
            "rtsp://127.0.0.1/movie.Mjpeg/"
        );
        // Over TLS the base stays on TLS.
        assert_eq!(
            content_base("rtsps://cam.example:322/m.mjpg", local, "m.mjpg", true),
            "rtsps://cam.example:322/m.mjpg/"
        );
    }

    #[test]
    fn sdp_states_size_rate_and_length() {
        let p = Presentation {
            name: "movie.Mjpeg",
            width: 384,
            height: 288,
            duration: Some(Duration::from_secs(25)),
        };
        let text = sdp(&p, "127.0.0.1".parse().ok(), 20.0, 42);
        assert!(text.starts_with("v=0\r\no=- 42 "), "{text}");
        assert!(text.contains("s=movie.Mjpeg\r\n"), "{text}");
        assert!(text.contains("a=range:npt=0-25"), "{text}");
        assert!(text.contains("m=video 0 RTP/AVP 26"), "{text}");
        assert!(text.contains("384"), "{text}");
        let live = sdp(
            &Presentation {
                duration: None,
                width: 0,
                height: 0,
                ..p
            },
            None,
            20.0,
            1,
        );
        assert!(!live.contains("384"), "{live}");
    }
}
