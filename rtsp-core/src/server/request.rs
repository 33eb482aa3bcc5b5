//! What a request asks for: checked and typed before anything is looked up.
//!
//! [`classify`] applies the checks that need nothing but the request, in the order that gives
//! the most useful status code: version (505), CSeq (400), method (405 / 501), request-URI
//! (400 / 404), Session header (454), Range (457), parameters (451), Transport (461). What is
//! left for the caller is what needs its state: the session table, the media files, the ports.
//! [`applies_to`] then says which session the request concerns.

use super::seek::{NptRange, NptStart};
use super::state::Command;
use super::target::{self, Target};
use super::{Refusal, SessionId};
use crate::rtsp::headers::{HeaderError, NptTime, Range, Session as SessionHeader, Transport};
use crate::rtsp::{Dialect, Method, Request};

/// Methods listed in `Public:` and `Allow:`: every method the server serves.
pub const SERVED_METHODS: [Method; 11] = [
    Method::Options,
    Method::Describe,
    Method::Setup,
    Method::Play,
    Method::Pause,
    Method::Teardown,
    Method::GetParameter,
    Method::SetParameter,
    Method::Forward,
    Method::Backward,
    Method::Restart,
];

/// The `Public:` / `Allow:` header value.
pub fn public_methods() -> String {
    SERVED_METHODS
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the request wants done.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// OPTIONS: list the methods (and refresh the session if one is named).
    Options,
    /// DESCRIBE: the SDP of the target.
    Describe,
    /// SETUP with the client's transport alternatives, in preference order.
    Setup(Transport),
    /// A command on a session (PLAY, PAUSE, TEARDOWN, the lab's skips, keep-alives).
    Control(Command),
}

impl Intent {
    /// Whether the request acts on a session, so that it must name one (RFC 2326 12.37: "Once
    /// a client receives a Session identifier, it MUST return it for any request related to
    /// that session"). OPTIONS, DESCRIBE and SETUP need none; nor do GET_PARAMETER and
    /// SET_PARAMETER, which change no state (Appendix A) and may test server liveness (10.8).
    pub fn needs_session(&self) -> bool {
        matches!(self, Self::Control(command) if *command != Command::KeepAlive)
    }
}

/// A request reduced to what the server acts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// What to do.
    pub intent: Intent,
    /// The presentation the URI names; `None` for `*`.
    pub target: Option<Target>,
    /// The session the request names. Session 0 (what a lab client sends before SETUP) is no
    /// session: the server never hands out 0.
    pub session: Option<SessionId>,
    /// The request's CSeq.
    pub cseq: u32,
}

/// Check and type a request.
pub fn classify(req: &Request) -> Result<Incoming, Refusal> {
    if !req.version().is_supported() {
        return Err(Refusal::VersionNotSupported);
    }
    let cseq = req
        .cseq()
        .ok_or(Refusal::BadRequest("missing or invalid CSeq"))?;
    // Two different CSeqs leave no right number to answer with (RFC 2326 12.17: one per
    // request); repeating the same one is harmless.
    if req
        .headers()
        .get_all("CSeq")
        .any(|v| v.trim().parse::<u32>().ok() != Some(cseq))
    {
        return Err(Refusal::BadRequest("conflicting CSeq headers"));
    }
    // Method problems come before anything else: a method we do not serve says so whatever
    // session or URL it names.
    let intent_kind = match req.method() {
        Method::Announce | Method::Record | Method::Redirect => {
            return Err(Refusal::MethodNotAllowed)
        }
        Method::Extension(_) => return Err(Refusal::NotImplemented),
        m => m.clone(),
    };
    let (target, session) = target_and_session(req)?;
    let intent = match intent_kind {
        Method::Options => Intent::Options,
        Method::Describe => {
            if target.is_none() {
                return Err(Refusal::NotFound);
            }
            Intent::Describe
        }
        Method::Setup => {
            if target.is_none() {
                return Err(Refusal::NotFound);
            }
            match req.headers().typed::<Transport>() {
                Some(Ok(t)) => Intent::Setup(t),
                _ => return Err(Refusal::UnsupportedTransport),
            }
        }
        Method::Play => Intent::Control(Command::Play {
            range: play_range(req)?,
        }),
        Method::Pause => Intent::Control(Command::Pause),
        Method::Teardown => Intent::Control(Command::Teardown),
        Method::Forward => Intent::Control(Command::Forward),
        Method::Backward => Intent::Control(Command::Backward),
        Method::Restart => Intent::Control(Command::Restart),
        Method::GetParameter | Method::SetParameter => {
            // An empty body is a keep-alive; there are no parameters to get or set.
            if !req.body().iter().all(u8::is_ascii_whitespace) {
                return Err(Refusal::ParameterNotUnderstood);
            }
            Intent::Control(Command::KeepAlive)
        }
        Method::Announce | Method::Record | Method::Redirect | Method::Extension(_) => {
            return Err(Refusal::NotImplemented)
        }
    };
    Ok(Incoming {
        intent,
        target,
        session,
        cseq,
    })
}

/// The presentation a request's URI names (`None` for `*`) and the session its Session header
/// names: 404 for a URI outside the media root, 454 for an id we never hand out.
pub(crate) fn target_and_session(
    req: &Request,
) -> Result<(Option<Target>, Option<SessionId>), Refusal> {
    let target = target::resolve(req.uri())?;
    let session = match req.headers().typed::<SessionHeader>() {
        None => None,
        Some(Ok(h)) => match h.id_number() {
            Some(number) => SessionId::new(number),
            // We only hand out decimal ids: anything else names no session of ours.
            None => return Err(Refusal::SessionNotFound),
        },
        Some(Err(_)) => return Err(Refusal::SessionNotFound),
    };
    Ok((target, session))
}

/// Which session a classified request applies to, or 454 Session Not Found.
///
/// A lab connection owns its session (`connection_session`, the one set up on it): every lab
/// request on it applies to that session whatever its Session line says, because lab clients
/// cannot know better (the report's merged SETUP+PLAY client sends `Session: 0` before it read
/// the SETUP reply). Otherwise the Session header decides, and a request that acts on a
/// session without naming one gets 454: RFC 2326 11.3.5, "The RTSP session identifier in the
/// Session header is missing, invalid, or has timed out." Whether a named session exists is
/// for the caller to look up (454 too).
pub fn applies_to(
    incoming: &Incoming,
    dialect: Dialect,
    connection_session: Option<SessionId>,
) -> Result<Option<SessionId>, Refusal> {
    if let (Dialect::Lab, Some(id)) = (dialect, connection_session) {
        return Ok(Some(id));
    }
    match incoming.session {
        Some(id) => Ok(Some(id)),
        None if incoming.intent.needs_session() => Err(Refusal::SessionNotFound),
        None => Ok(None),
    }
}

/// A PLAY's `Range: npt=` header: `npt=a-b`, `npt=a-`, `npt=-b` and `npt=now-` (the last two
/// start where the session is).
fn play_range(req: &Request) -> Result<Option<NptRange>, Refusal> {
    let range = match req.headers().typed::<Range>() {
        None => return Ok(None),
        // RFC 2326 12.29: "If the Range header is given in a time format that is not
        // understood, the recipient should return "501 Not Implemented"" (smpte, clock).
        Some(Err(HeaderError::UnsupportedRangeUnit { .. })) => return Err(Refusal::NotImplemented),
        Some(Err(_)) => return Err(Refusal::InvalidRange),
        Some(Ok(range)) => range,
    };
    let start = match range.start {
        None | Some(NptTime::Now) => NptStart::Now,
        Some(NptTime::At(d)) => NptStart::Seconds(d.as_secs_f64()),
    };
    let end = match range.end {
        None => None,
        Some(NptTime::At(d)) => Some(d.as_secs_f64()),
        // "now" is an instant of a live event, not an end a stored file can stop at.
        Some(NptTime::Now) => return Err(Refusal::InvalidRange),
    };
    Ok(Some(NptRange { start, end }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtsp::{Message, MessageParser};

    fn parse(text: &str) -> Request {
        let mut p = MessageParser::new();
        p.push(text.as_bytes()).unwrap();
        p.end_of_read();
        match p.next().unwrap() {
            Some(Message::Request(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    fn status(text: &str) -> u16 {
        classify(&parse(text)).unwrap_err().status()
    }

    #[test]
    fn conflicting_cseqs_are_refused() {
        assert_eq!(
            status("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nCSeq: 2\r\n\r\n"),
            400
        );
        let same = classify(&parse("OPTIONS * RTSP/1.0\r\nCSeq: 3\r\nCSeq: 3\r\n\r\n"));
        assert_eq!(same.unwrap().cseq, 3);
    }

    #[test]
    fn lab_requests() {
        let r = classify(&parse(
            "SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 25000",
        ))
        .unwrap();
        assert!(matches!(r.intent, Intent::Setup(_)));
        assert_eq!(r.cseq, 1);
        assert_eq!(r.session, None);
        assert_eq!(r.target.unwrap().presentation, "movie.Mjpeg");
        let r = classify(&parse(
            "PLAY movie.Mjpeg RTSP/1.4\nCSeq: 2\nSession: 123456",
        ))
        .unwrap();
        assert_eq!(r.intent, Intent::Control(Command::Play { range: None }));
        assert_eq!(r.session, SessionId::new(123456));
        let r = classify(&parse("FORWARD movie.Mjpeg RTSP/1.4\nCSeq: 3\nSession: 7")).unwrap();
        assert_eq!(r.intent, Intent::Control(Command::Forward));
        // The report's DESCRIBE before SETUP carries Session: 0.
        let r = classify(&parse("DESCRIBE movie.Mjpeg RTSP/1.0\nCSeq: 1\nSession: 0")).unwrap();
        assert_eq!((r.intent, r.session), (Intent::Describe, None));
    }

    #[test]
    fn standard_requests() {
        let r = classify(&parse(
            "PLAY rtsp://h/movie.Mjpeg/ RTSP/1.0\r\nCSeq: 4\r\nSession: 99;timeout=60\r\nRange: npt=12.5-\r\n\r\n",
        ))
        .unwrap();
        assert_eq!(
            r.intent,
            Intent::Control(Command::Play {
                range: Some(NptRange::from(NptStart::Seconds(12.5)))
            })
        );
        assert_eq!(r.session, SessionId::new(99));
        let r = classify(&parse(
            "PLAY rtsp://h/m.mjpg/ RTSP/1.0\r\nCSeq: 5\r\nSession: 1\r\nRange: npt=now-\r\n\r\n",
        ))
        .unwrap();
        assert_eq!(
            r.intent,
            Intent::Control(Command::Play {
                range: Some(NptRange::from(NptStart::Now))
            })
        );
        // openRTSP -d 3, and GStreamer's seek with a stop.
        for (header, start, end) in [
            ("npt=0.000-3.000", NptStart::Seconds(0.0), 3.0),
            ("npt=1-4", NptStart::Seconds(1.0), 4.0),
            ("npt=-2.5", NptStart::Now, 2.5),
        ] {
            let r = classify(&parse(&format!(
                "PLAY rtsp://h/m.mjpg/ RTSP/1.0\r\nCSeq: 5\r\nSession: 1\r\nRange: {header}\r\n\r\n"
            )))
            .unwrap();
            assert_eq!(
                r.intent,
                Intent::Control(Command::Play {
                    range: Some(NptRange {
                        start,
                        end: Some(end)
                    })
                }),
                "{header}"
            );
        }
        let r = classify(&parse("OPTIONS * RTSP/1.0\r\nCSeq: 6\r\n\r\n")).unwrap();
        assert_eq!((r.intent, r.target), (Intent::Options, None));
        let r = classify(&parse(
            "GET_PARAMETER rtsp://h/m.mjpg/ RTSP/1.0\r\nCSeq: 7\r\nSession: 3\r\n\r\n",
        ))
        .unwrap();
        assert_eq!(r.intent, Intent::Control(Command::KeepAlive));
    }

    #[test]
    fn refusals_in_priority_order() {
        assert_eq!(
            status("PLAY rtsp://h/m.mjpg RTSP/2.0\r\nCSeq: 1\r\n\r\n"),
            505
        );
        assert_eq!(status("PLAY rtsp://h/m.mjpg RTSP/1.0\r\n\r\n"), 400);
        // 501 / 405 win over a bad session.
        assert_eq!(
            status("JUMP rtsp://h/m.mjpg RTSP/1.0\r\nCSeq: 1\r\nSession: x\r\n\r\n"),
            501
        );
        assert_eq!(
            status("RECORD rtsp://h/m.mjpg RTSP/1.0\r\nCSeq: 1\r\nSession: x\r\n\r\n"),
            405
        );
        assert_eq!(
            status("DESCRIBE rtsp://h/../x.mjpg RTSP/1.0\r\nCSeq: 1\r\n\r\n"),
            404
        );
        assert_eq!(status("DESCRIBE * RTSP/1.0\r\nCSeq: 1\r\n\r\n"), 404);
        assert_eq!(
            status("DESCRIBE http://h/x RTSP/1.0\r\nCSeq: 1\r\n\r\n"),
            400
        );
        assert_eq!(
            status("PLAY rtsp://h/m.mjpg RTSP/1.0\r\nCSeq: 1\r\nSession: abc\r\n\r\n"),
            454
        );
        // RFC 2326 12.29: a time format not understood is 501; a malformed npt is 457.
        assert_eq!(
            status("PLAY rtsp://h/m.mjpg RTSP/1.0\r\nCSeq: 1\r\nRange: smpte=0:10:00-\r\n\r\n"),
            501
        );
        assert_eq!(
            status("PLAY rtsp://h/m.mjpg RTSP/1.0\r\nCSeq: 1\r\nRange: npt=x-\r\n\r\n"),
            457
        );
        assert_eq!(
            status("SET_PARAMETER rtsp://h/m.mjpg RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 5\r\n\r\na: b\n"),
            451
        );
        assert_eq!(
            status("SETUP rtsp://h/m.mjpg/track1 RTSP/1.0\r\nCSeq: 1\r\n\r\n"),
            461
        );
        assert_eq!(
            status("SETUP rtsp://h/m.mjpg/track1 RTSP/1.0\r\nCSeq: 1\r\nTransport: ;;\r\n\r\n"),
            461
        );
    }

    #[test]
    fn which_session_a_request_applies_to() {
        let lab = |text: &str| classify(&parse(text)).unwrap();
        let play0 = lab("PLAY movie.Mjpeg RTSP/1.0\nCSeq: 2\nSession: 0");
        let setup = lab("SETUP movie.Mjpeg RTSP/1.0\nCSeq: 1\nTransport: RTP/UDP; client_port= 1");
        let other = lab("PLAY movie.Mjpeg RTSP/1.0\nCSeq: 2\nSession: 99");
        // A lab connection's session, whatever the request says.
        for inc in [&play0, &setup, &other] {
            assert_eq!(
                applies_to(inc, Dialect::Lab, SessionId::new(7)),
                Ok(SessionId::new(7))
            );
        }
        // Without one: the Session line, and 454 when a session is needed and missing.
        assert_eq!(
            applies_to(&play0, Dialect::Lab, None),
            Err(Refusal::SessionNotFound)
        );
        assert_eq!(
            applies_to(&other, Dialect::Lab, None),
            Ok(SessionId::new(99))
        );
        assert_eq!(applies_to(&setup, Dialect::Lab, None), Ok(None));
        // The standard dialect never substitutes a session.
        assert_eq!(
            applies_to(&play0, Dialect::Standard, SessionId::new(7)),
            Err(Refusal::SessionNotFound)
        );
        assert_eq!(
            applies_to(&other, Dialect::Standard, SessionId::new(7)),
            Ok(SessionId::new(99))
        );
        for (text, needs) in [
            ("PLAY rtsp://h/m RTSP/1.0\r\nCSeq: 1\r\n\r\n", true),
            ("PAUSE rtsp://h/m RTSP/1.0\r\nCSeq: 1\r\n\r\n", true),
            ("TEARDOWN rtsp://h/m RTSP/1.0\r\nCSeq: 1\r\n\r\n", true),
            (
                "GET_PARAMETER rtsp://h/m RTSP/1.0\r\nCSeq: 1\r\n\r\n",
                false,
            ),
            (
                "SET_PARAMETER rtsp://h/m RTSP/1.0\r\nCSeq: 1\r\n\r\n",
                false,
            ),
            ("DESCRIBE rtsp://h/m RTSP/1.0\r\nCSeq: 1\r\n\r\n", false),
            ("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n", false),
        ] {
            let inc = classify(&parse(text)).unwrap();
            assert_eq!(inc.intent.needs_session(), needs, "{text}");
            assert_eq!(
                applies_to(&inc, Dialect::Standard, None).is_err(),
                needs,
                "{text}"
            );
        }
    }

    #[test]
    fn public_lists_every_served_method() {
        let p = public_methods();
        assert!(p.starts_with("OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER"));
        assert!(p.ends_with("FORWARD, BACKWARD, RESTART"));
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever a peer sends, classification answers with a request or a refusal.
            #[test]
            fn never_panics(method in "[A-Z_]{1,14}", uri in "[ -~]{0,40}", headers in proptest::collection::vec(("(CSeq|Session|Range|Transport|X)", "[ -~]{0,30}"), 0..6)) {
                let mut text = format!("{method} {} RTSP/1.0\r\n", uri.replace(' ', "%20"));
                for (n, v) in headers {
                    text.push_str(&format!("{n}: {v}\r\n"));
                }
                text.push_str("\r\n");
                let mut p = MessageParser::new();
                if p.push(text.as_bytes()).is_ok() {
                    if let Ok(Some(Message::Request(req))) = p.next() {
                        let _ = classify(&req);
                    }
                }
            }
        }
    }
}
