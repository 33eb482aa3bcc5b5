//! Plain-language explanations of what went wrong, with the action that helps. The banner shows
//! them; headless mode prints them.

use rtsp_core::client::ClientError;

/// What the banner's button does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    /// Connect again from scratch ("Try Again").
    Reconnect,
    /// Start a new session and play from the start ("Play Again").
    PlayAgain,
    /// Nothing to retry; the banner only informs.
    Dismiss,
}

impl Remedy {
    /// The button label.
    pub fn label(self) -> &'static str {
        match self {
            Remedy::Reconnect => "Try Again",
            Remedy::PlayAgain => "Play Again",
            Remedy::Dismiss => "Dismiss",
        }
    }
}

/// How serious the message is (changes the banner's colour).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Something failed.
    Error,
    /// Something happened that is not a failure (the end of the stream).
    Info,
}

/// A message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// One short line.
    pub title: String,
    /// What it means and what to do.
    pub detail: String,
    /// The helpful action.
    pub remedy: Remedy,
    /// Error or information.
    pub severity: Severity,
}

impl Explanation {
    fn error(title: &str, detail: String, remedy: Remedy) -> Self {
        Self {
            title: title.to_owned(),
            detail,
            remedy,
            severity: Severity::Error,
        }
    }

    /// The stream played to its end.
    pub fn end_of_stream() -> Self {
        Self {
            title: "The stream has ended".to_owned(),
            detail: "Every frame has been played.".to_owned(),
            remedy: Remedy::PlayAgain,
            severity: Severity::Info,
        }
    }

    /// The title and the detail on one line (headless mode, logs).
    pub fn one_line(&self) -> String {
        format!("{}: {}", self.title, self.detail)
    }
}

/// Explains `err` for the stream `name` on `server` (`host:port`). `None` for errors that need no
/// message (the client shutting down on purpose).
pub fn explain(err: &ClientError, name: &str, server: &str) -> Option<Explanation> {
    use Remedy::{PlayAgain, Reconnect};
    let e = Explanation::error;
    Some(match err {
        ClientError::ConnectionRefused(_) => e(
            "Can’t reach the server",
            format!(
                "Nothing is listening at {server}. Check that the server is running and that the \
                 address and port are right."
            ),
            Reconnect,
        ),
        ClientError::Io(msg) => e(
            "Network problem",
            format!("The connection to {server} failed ({msg})."),
            Reconnect,
        ),
        ClientError::Timeout {
            method,
            timeout,
            lab,
        } => {
            let mut detail = format!(
                "{server} did not answer {method} within {} s.",
                timeout.as_secs().max(1)
            );
            if *lab {
                detail.push_str(" A lab server answers errors with silence: check the file name “");
                detail.push_str(name);
                detail.push_str("”.");
            }
            e("The server doesn’t answer", detail, Reconnect)
        }
        ClientError::Status {
            method,
            code,
            reason,
        } => match code {
            404 => e(
                "Stream not found",
                format!("{server} has no file or stream called “{name}”."),
                Reconnect,
            ),
            454 => e(
                "Session timed out",
                "The server no longer knows this session (sessions expire after a minute \
                 without activity). Playing again starts a new one."
                    .to_owned(),
                PlayAgain,
            ),
            455 => e(
                "Not possible right now",
                format!("The server refused {method} in the current state."),
                PlayAgain,
            ),
            415 => e(
                "Unsupported video",
                format!("The server cannot stream “{name}” as RTP/JPEG ({code} {reason})."),
                Reconnect,
            ),
            453 | 503 => e(
                "The server is busy",
                format!("{server} has no room for another session right now ({code} {reason})."),
                Reconnect,
            ),
            _ => e(
                "The server refused the request",
                format!("{method} was answered with {code} {reason}."),
                Reconnect,
            ),
        },
        ClientError::Forbidden { method, reason } => e(
            "Not allowed",
            format!(
                "{server} does not allow this user to {}: {reason}.",
                method.to_lowercase()
            ),
            Remedy::Dismiss,
        ),
        ClientError::Closed => e(
            "Connection closed",
            format!("{server} closed the connection. It may have stopped or restarted."),
            Reconnect,
        ),
        ClientError::Stalled { silent } => e(
            "Stream stalled",
            format!(
                "Nothing has arrived from {server} for {} s, though the connection is still open. \
                 The server or the network may have stopped.",
                silent.as_secs()
            ),
            Reconnect,
        ),
        ClientError::MalformedReply(msg) => e(
            "Unexpected answer",
            format!("The server’s reply could not be understood: {msg}."),
            Reconnect,
        ),
        ClientError::Unsupported(msg) => {
            e("Can’t play this stream", format!("{msg}."), Remedy::Dismiss)
        }
        ClientError::BadState { method, state } => e(
            "Not possible right now",
            format!("{method} cannot be sent in state {state}."),
            Remedy::Dismiss,
        ),
        ClientError::BadUrl(msg) => e("Invalid address", format!("{msg}."), Remedy::Dismiss),
        ClientError::Shutdown => return None,
        ClientError::Unauthorized {
            realm,
            had_credentials,
            ..
        } => e(
            "Sign-in required",
            if *had_credentials {
                format!("The server (realm “{realm}”) refused the user name or password.")
            } else {
                format!("The server (realm “{realm}”) requires a user name and password: put them in the address as rtsp://user:password@host/….")
            },
            Remedy::Dismiss,
        ),
        other => e("Something went wrong", other.to_string(), Reconnect),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtsp_core::client::State;
    use std::time::Duration;

    fn x(err: ClientError) -> Explanation {
        explain(&err, "movie.Mjpeg", "localhost:8554").unwrap()
    }

    #[test]
    fn the_four_situations_of_the_issue() {
        let unreachable = x(ClientError::ConnectionRefused("localhost:8554".into()));
        assert_eq!(unreachable.title, "Can’t reach the server");
        assert!(unreachable.detail.contains("localhost:8554"));
        assert_eq!(unreachable.remedy, Remedy::Reconnect);

        let missing = x(ClientError::Status {
            method: "DESCRIBE".into(),
            code: 404,
            reason: "Not Found".into(),
        });
        assert_eq!(missing.title, "Stream not found");
        assert!(missing.detail.contains("movie.Mjpeg"));

        let expired = x(ClientError::Status {
            method: "PLAY".into(),
            code: 454,
            reason: "Session Not Found".into(),
        });
        assert_eq!(expired.title, "Session timed out");
        assert_eq!(expired.remedy, Remedy::PlayAgain);

        let ended = Explanation::end_of_stream();
        assert_eq!(ended.severity, Severity::Info);
        assert_eq!(ended.remedy.label(), "Play Again");
    }

    #[test]
    fn lab_silence_hints_at_the_file_name() {
        let lab = x(ClientError::Timeout {
            method: "SETUP".into(),
            timeout: Duration::from_secs(5),
            lab: true,
        });
        assert!(lab.detail.contains("within 5 s"));
        assert!(lab.detail.contains("check the file name “movie.Mjpeg”"));
        let std = x(ClientError::Timeout {
            method: "SETUP".into(),
            timeout: Duration::from_millis(300),
            lab: false,
        });
        assert!(!std.detail.contains("file name"));
        assert!(std.detail.contains("within 1 s"));
    }

    #[test]
    fn other_errors() {
        assert_eq!(
            x(ClientError::BadState {
                method: "PLAY".into(),
                state: State::Init
            })
            .remedy,
            Remedy::Dismiss
        );
        assert_eq!(x(ClientError::Closed).title, "Connection closed");
        let stalled = x(ClientError::Stalled {
            silent: Duration::from_secs(5),
        });
        assert_eq!(stalled.title, "Stream stalled");
        assert!(stalled.detail.contains("for 5 s"), "{}", stalled.detail);
        assert!(x(ClientError::Status {
            method: "SETUP".into(),
            code: 461,
            reason: "Unsupported Transport".into()
        })
        .detail
        .contains("461 Unsupported Transport"));
        let forbidden = x(ClientError::Forbidden {
            method: "DESCRIBE".into(),
            reason: "this path is private".into(),
        });
        assert_eq!(forbidden.title, "Not allowed");
        assert!(forbidden.detail.contains("this path is private"));
        assert_eq!(forbidden.remedy, Remedy::Dismiss);
        assert!(explain(&ClientError::Shutdown, "a", "b").is_none());
        assert_eq!(
            x(ClientError::Closed).one_line(),
            "Connection closed: localhost:8554 closed the connection. It may have stopped or restarted."
        );
    }
}
