//! The client side of the RTSP dialogue: request text, reply splitting, SDP and URL helpers.
//!
//! Deliberately tiny and allocation-light: the generator reads interleaved `$` frames at up to
//! hundreds of thousands per second, so it borrows them straight from the read buffer.

use std::net::{SocketAddr, ToSocketAddrs};

/// Upper bound on one reply's head and body: a peer cannot make us buffer more.
const MAX_REPLY: usize = 256 * 1024;

/// One RTSP reply.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Header lines, names as sent.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Reply {
    /// First header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What [`split_next`] found at the front of the buffer.
#[derive(Debug)]
pub enum Item<'a> {
    /// An interleaved frame: channel and payload.
    Interleaved(u8, &'a [u8]),
    /// A complete reply.
    Reply(Reply),
}

/// A reply the generator cannot parse.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The reply head or body exceeds [`MAX_REPLY`].
    #[error("reply larger than {MAX_REPLY} bytes")]
    TooLarge,
    /// The status line or a header is malformed.
    #[error("malformed reply: {0}")]
    Malformed(&'static str),
}

/// Splits the next item off `buf`; returns it with the number of bytes it used, or `None`
/// when more bytes are needed.
///
/// # Errors
/// [`WireError`] when the bytes are not RTSP.
pub fn split_next(buf: &[u8]) -> Result<Option<(Item<'_>, usize)>, WireError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if first == b'$' {
        let Some(hdr) = buf.get(..4) else {
            return Ok(None);
        };
        let len = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
        return Ok(buf
            .get(4..4 + len)
            .map(|p| (Item::Interleaved(hdr[1], p), 4 + len)));
    }
    let Some(head_end) = find(buf, b"\r\n\r\n") else {
        return if buf.len() > MAX_REPLY {
            Err(WireError::TooLarge)
        } else {
            Ok(None)
        };
    };
    let head = std::str::from_utf8(buf.get(..head_end).unwrap_or_default())
        .map_err(|_| WireError::Malformed("head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.split_whitespace();
    if !parts.next().is_some_and(|v| v.starts_with("RTSP/")) {
        return Err(WireError::Malformed("status line"));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or(WireError::Malformed("status code"))?;
    let mut reply = Reply {
        status,
        ..Reply::default()
    };
    for line in lines {
        let (n, v) = line
            .split_once(':')
            .ok_or(WireError::Malformed("header line"))?;
        reply
            .headers
            .push((n.trim().to_owned(), v.trim().to_owned()));
    }
    let body_len: usize = match reply.header("Content-Length") {
        Some(v) => v
            .parse()
            .map_err(|_| WireError::Malformed("Content-Length"))?,
        None => 0,
    };
    if body_len > MAX_REPLY {
        return Err(WireError::TooLarge);
    }
    let start = head_end + 4;
    let Some(body) = buf.get(start..start + body_len) else {
        return Ok(None);
    };
    reply.body = body.to_vec();
    Ok(Some((Item::Reply(reply), start + body_len)))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Writes one request with the generator's standard headers.
pub fn request(method: &str, url: &str, cseq: u32, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut s = format!("{method} {url} RTSP/1.0\r\nCSeq: {cseq}\r\nUser-Agent: rtsp-bench\r\n");
    for (n, v) in extra {
        s.push_str(n);
        s.push_str(": ");
        s.push_str(v);
        s.push_str("\r\n");
    }
    s.push_str("\r\n");
    s.into_bytes()
}

/// The `a=control` of the first media section of `sdp`, if any.
pub fn media_control(sdp: &str) -> Option<String> {
    let media = sdp.split_once("\nm=").map(|(_, m)| m)?;
    media
        .lines()
        .take_while(|l| !l.starts_with("m="))
        .find_map(|l| l.trim().strip_prefix("a=control:"))
        .map(str::to_owned)
}

/// Resolves an SDP control attribute against the base URL (RFC 2326 C.1.1).
pub fn resolve_control(base: &str, control: &str) -> String {
    if control.starts_with("rtsp://") || control.starts_with("rtsps://") {
        control.to_owned()
    } else if control == "*" || control.is_empty() {
        base.to_owned()
    } else if base.ends_with('/') {
        format!("{base}{control}")
    } else {
        format!("{base}/{control}")
    }
}

/// A parsed `rtsp://host:port/path` target on this machine.
#[derive(Debug, Clone)]
pub struct Target {
    /// The URL as given.
    pub url: String,
    /// The address to connect to.
    pub addr: SocketAddr,
}

/// URL errors.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    /// Not `rtsp://host[:port]/...`.
    #[error("not an rtsp:// URL: {0}")]
    Syntax(String),
    /// The host did not resolve.
    #[error("cannot resolve {0}")]
    Resolve(String),
    /// The generator refuses to load anything but loopback.
    #[error("{0} is not a loopback address: rtsp-bench only loads this machine")]
    NotLoopback(SocketAddr),
}

/// Parses `url` and checks that it points at a loopback address.
///
/// # Errors
/// [`UrlError`] for bad syntax, an unresolvable host, or a non-loopback address.
pub fn parse_target(url: &str) -> Result<Target, UrlError> {
    let rest = url
        .strip_prefix("rtsp://")
        .ok_or_else(|| UrlError::Syntax(url.to_owned()))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let hostport = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:554")
    };
    let addr = hostport
        .to_socket_addrs()
        .map_err(|_| UrlError::Resolve(hostport.clone()))?
        .next()
        .ok_or_else(|| UrlError::Resolve(hostport.clone()))?;
    if !addr.ip().is_loopback() {
        return Err(UrlError::NotLoopback(addr));
    }
    Ok(Target {
        url: url.to_owned(),
        addr,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn splits_replies_and_interleaved_frames() {
        let mut bytes = b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nContent-Length: 4\r\n\r\nv=0\n".to_vec();
        bytes.extend_from_slice(&[b'$', 0, 0, 3, 9, 8, 7, b'R']);
        let (item, used) = split_next(&bytes).unwrap().unwrap();
        let Item::Reply(r) = item else {
            panic!("expected a reply")
        };
        assert_eq!(
            (r.status, r.header("cseq"), r.body.as_slice()),
            (200, Some("3"), &b"v=0\n"[..])
        );
        let (item, used2) = split_next(&bytes[used..]).unwrap().unwrap();
        let Item::Interleaved(ch, p) = item else {
            panic!("expected a frame")
        };
        assert_eq!((ch, p), (0, &[9u8, 8, 7][..]));
        assert!(split_next(&bytes[used + used2..]).unwrap().is_none());
        assert!(split_next(b"HTTP/1.1 200 OK\r\n\r\n").is_err());
    }

    #[test]
    fn resolves_media_control() {
        let sdp = "v=0\r\na=control:*\r\nm=video 0 RTP/AVP 26\r\na=control:track1\r\n";
        let c = media_control(sdp).unwrap();
        assert_eq!(
            resolve_control("rtsp://h:1/movie/", &c),
            "rtsp://h:1/movie/track1"
        );
        assert_eq!(
            resolve_control("rtsp://h:1/m", "stream=0"),
            "rtsp://h:1/m/stream=0"
        );
        assert!(parse_target("rtsp://127.0.0.1:8554/movie.Mjpeg").is_ok());
        assert!(matches!(
            parse_target("rtsp://10.1.2.3:554/x"),
            Err(UrlError::NotLoopback(_))
        ));
    }
}
