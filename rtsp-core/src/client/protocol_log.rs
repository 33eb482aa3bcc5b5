//! The protocol log: every RTSP message the client sends and receives, as it crossed the wire,
//! for embedders that show the exchange (a player's lab mode, a `--show-rtsp` switch).
//!
//! It is opt-in ([`super::ClientConfig::protocol_log`]): without it nothing is copied. The
//! log copy never carries a password. Request-URIs never hold userinfo (the session strips it
//! before anything is sent), and the value of an `Authorization` header is redacted: Digest
//! keeps its parameters except `response` (a hash of the password anyone can try guesses
//! against), every other scheme keeps only its name (Basic is the password in base64).

use std::time::Duration;

/// What replaces a redacted credential in the log.
pub const REDACTED: &str = "<redacted>";

/// Longest message text kept; the rest is cut and counted.
const MAX_TEXT: usize = 8 * 1024;

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageDirection {
    /// From the client to the server (requests).
    Sent,
    /// From the server (replies, and requests a server sends on its own).
    Received,
}

/// One RTSP message as it crossed the wire (interleaved RTP/RTCP is not logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolMessage {
    /// Which way it went.
    pub direction: MessageDirection,
    /// When, from the moment the client was created.
    pub at: Duration,
    /// The message, decoded as UTF-8 (invalid bytes replaced), line ends as on the wire (CRLF
    /// in the standard dialect, `\n` in the lab's). Credentials are redacted (see the module
    /// documentation); a text longer than 8 KiB is cut, ending in `… (N more bytes)`.
    pub text: String,
}

impl ProtocolMessage {
    /// The log copy of `bytes`.
    pub(crate) fn new(direction: MessageDirection, at: Duration, bytes: &[u8]) -> Self {
        Self {
            direction,
            at,
            text: log_text(bytes),
        }
    }

    /// The request line or status line.
    pub fn first_line(&self) -> &str {
        self.text.lines().next().unwrap_or_default()
    }
}

/// Index just past the blank line ending the header block, if there is one.
fn header_end(bytes: &[u8]) -> Option<usize> {
    let crlf = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4);
    let lf = bytes.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn log_text(bytes: &[u8]) -> String {
    // Stray line ends between messages belong to neither.
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .unwrap_or(bytes.len());
    let bytes = bytes.get(start..).unwrap_or_default();
    let (head, body) = bytes.split_at(header_end(bytes).unwrap_or(bytes.len()));
    // Redact before cutting, so a cut can never leave part of a credential behind.
    let mut text = redact_head(&String::from_utf8_lossy(head));
    let mut cut = body.len();
    if text.len() > MAX_TEXT {
        let keep = (0..=MAX_TEXT)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        cut += text.len() - keep;
        text.truncate(keep);
    } else {
        let shown = body.len().min(MAX_TEXT - text.len());
        text.push_str(&String::from_utf8_lossy(
            body.get(..shown).unwrap_or_default(),
        ));
        cut -= shown;
    }
    if cut > 0 {
        text.push_str(&format!("… ({cut} more bytes)"));
    }
    text
}

/// The header block with every `Authorization` value redacted.
fn redact_head(head: &str) -> String {
    let mut out = String::with_capacity(head.len());
    for line in head.split_inclusive('\n') {
        let content = line.trim_end_matches(['\r', '\n']);
        let ending = line.get(content.len()..).unwrap_or_default();
        match content.split_once(':') {
            Some((name, value))
                if name.trim().eq_ignore_ascii_case("Authorization")
                    || name.trim().eq_ignore_ascii_case("Proxy-Authorization") =>
            {
                out.push_str(name);
                out.push_str(": ");
                out.push_str(&redact_credentials(value.trim()));
            }
            _ => out.push_str(content),
        }
        out.push_str(ending);
    }
    out
}

/// An `Authorization` value as the log shows it.
fn redact_credentials(value: &str) -> String {
    let scheme = value.split_whitespace().next().unwrap_or_default();
    if scheme.eq_ignore_ascii_case("Digest") {
        if let Some(shown) = redact_digest_response(value) {
            return shown;
        }
    }
    format!("{scheme} {REDACTED}")
}

/// `Digest name=value, ...` with the `response` value replaced; `None` unless the value is
/// well formed and has a response.
fn redact_digest_response(value: &str) -> Option<String> {
    let (scheme, mut rest) = value.split_once(char::is_whitespace)?;
    let mut out = format!("{scheme} ");
    let mut redacted = false;
    loop {
        let separators = rest.len()
            - rest
                .trim_start_matches(|c: char| c == ',' || c.is_whitespace())
                .len();
        out.push_str(rest.get(..separators)?);
        rest = rest.get(separators..)?;
        if rest.is_empty() {
            break;
        }
        let eq = rest.find('=')?;
        let name = rest.get(..eq)?;
        if name.contains([',', '"']) {
            return None;
        }
        out.push_str(rest.get(..=eq)?);
        rest = rest.get(eq + 1..)?;
        let len = param_value_len(rest)?;
        if name.trim().eq_ignore_ascii_case("response") {
            out.push_str(REDACTED);
            redacted = true;
        } else {
            out.push_str(rest.get(..len)?);
        }
        rest = rest.get(len..)?;
    }
    redacted.then_some(out)
}

/// Bytes taken by the parameter value at the start of `s`: a token up to the next comma, or a
/// quoted string (with `\` escapes) and what follows it up to the next comma.
fn param_value_len(s: &str) -> Option<usize> {
    let lead = s.len() - s.trim_start().len();
    let bytes = s.as_bytes();
    let mut end = lead;
    if bytes.get(lead) == Some(&b'"') {
        let mut i = lead + 1;
        loop {
            match bytes.get(i)? {
                b'\\' => i += 2,
                b'"' => break,
                _ => i += 1,
            }
        }
        end = i + 1;
    }
    let after = s.get(end..)?;
    Some(end + after.find(',').unwrap_or(after.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> String {
        ProtocolMessage::new(MessageDirection::Sent, Duration::ZERO, bytes).text
    }

    #[test]
    fn digest_keeps_its_parameters_but_not_the_response() {
        let sent = b"DESCRIBE rtsp://h/x RTSP/1.0\r\nCSeq: 3\r\nAuthorization: Digest username=\"alice\", realm=\"r, with comma\", nonce=\"n\", uri=\"rtsp://h/x\", algorithm=SHA-256, response=\"0123abcd\", qop=auth, nc=00000001, cnonce=\"c\"\r\nUser-Agent: ua\r\n\r\n";
        assert_eq!(
            text(sent),
            "DESCRIBE rtsp://h/x RTSP/1.0\r\nCSeq: 3\r\nAuthorization: Digest username=\"alice\", realm=\"r, with comma\", nonce=\"n\", uri=\"rtsp://h/x\", algorithm=SHA-256, response=<redacted>, qop=auth, nc=00000001, cnonce=\"c\"\r\nUser-Agent: ua\r\n\r\n"
        );
        // Unquoted, last, odd spacing and case.
        assert_eq!(
            redact_credentials("digest username=\"a\\\"b\",RESPONSE = 99ff"),
            "digest username=\"a\\\"b\",RESPONSE =<redacted>"
        );
    }

    #[test]
    fn anything_else_keeps_only_the_scheme() {
        for (value, shown) in [
            ("Basic YWxpY2U6b3BlbiBzZXNhbWU=", "Basic <redacted>"),
            ("Digest username=\"alice\"", "Digest <redacted>"),
            (
                "Digest username=\"unterminated, response=1",
                "Digest <redacted>",
            ),
            ("Bearer abc", "Bearer <redacted>"),
            ("", " <redacted>"),
        ] {
            assert_eq!(redact_credentials(value), shown, "{value}");
        }
        let shown = text(b"PLAY x RTSP/1.0\nproxy-authorization:Basic c2VjcmV0\nCSeq: 1");
        assert_eq!(
            shown,
            "PLAY x RTSP/1.0\nproxy-authorization: Basic <redacted>\nCSeq: 1"
        );
    }

    #[test]
    fn bodies_are_cut_and_counted_and_headers_alone_are_bounded() {
        let mut reply = b"\r\nRTSP/1.0 200 OK\r\nContent-Length: 9000\r\n\r\n".to_vec();
        let head_len = reply.len() - 2;
        reply.extend(vec![b'v'; 9000]);
        let shown = text(&reply);
        assert!(shown.starts_with("RTSP/1.0 200 OK\r\n"), "{shown:.40}");
        let cut = head_len + 9000 - MAX_TEXT;
        assert!(shown.ends_with(&format!("v… ({cut} more bytes)")), "{cut}");
        // Invalid UTF-8 is replaced, not refused.
        assert_eq!(text(b"RTSP/1.0 200 \xffK"), "RTSP/1.0 200 \u{fffd}K");
        let huge = vec![b'h'; MAX_TEXT + 10];
        assert!(text(&huge).ends_with("h… (10 more bytes)"));
        let message = ProtocolMessage::new(
            MessageDirection::Received,
            Duration::from_millis(5),
            b"RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\n\r\n",
        );
        assert_eq!(message.first_line(), "RTSP/1.0 401 Unauthorized");
    }
}
