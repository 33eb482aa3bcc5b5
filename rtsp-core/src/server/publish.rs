//! The server side of publishing (RFC 2326 ANNOUNCE, SETUP with `mode=record`, RECORD),
//! sans-I/O: which requests publish and whether their description can be received.
//! [`super::ingest`] then turns the publisher's RTP into frames.
//!
//! Publishing is off unless [`PublishConfig::publish`] is set: then ANNOUNCE and RECORD get
//! 405 as they always did, and a SETUP is classified as a reader's whatever its mode.
//!
//! A publisher's life: ANNOUNCE on a path (the runtime keeps the [`Announcement`] for it; it
//! creates no session), SETUP with `mode=record` on the announced stream (creates the session:
//! INIT to READY), RECORD (READY to PLAYING, which for a publisher means the server receives),
//! PAUSE back to READY, TEARDOWN. Keep-alives are accepted in every state. The session's states
//! are a reader's ([`super::SessionMachine`], RECORD taking PLAY's row), so one table serves
//! both.

use super::request::{self, target_and_session, Incoming, Intent};
use super::{Refusal, SessionId, Target};
use crate::rtsp::headers::{ContentType, Transport};
use crate::rtsp::{Method, Request};
use crate::sdp::Sdp;

/// The publishing part of the server's configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublishConfig {
    /// Whether publishers are accepted at all (off by default: ANNOUNCE and RECORD get 405).
    pub publish: bool,
}

/// A path the configuration names as publishable, and who may publish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishPath {
    /// The path (`live/cam` for `rtsp://HOST:PORT/live/cam`).
    pub name: String,
    /// The users who may publish it; `None`: anyone who may publish at all.
    pub publishers: Option<Vec<String>>,
}

/// Who asks to publish, as authentication left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publisher<'a> {
    /// The server authenticates no one.
    Anyone,
    /// An authenticated user, and whether the credentials file marks it `publish`.
    User {
        /// The user name.
        name: &'a str,
        /// Marked `publish` in the credentials file.
        marked: bool,
    },
}

/// Why a publisher is refused a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishDenial {
    /// The path may not be published at all (405), for this reason.
    NotPublishable(&'static str),
    /// This publisher may not publish the path (403), for this reason.
    Forbidden(&'static str),
}

/// Which paths may be published, and by whom: any path that is not a file with
/// `--publish`, and the paths the configuration names.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublishRules<'a> {
    /// Any path may be published (`--publish`).
    pub any_path: bool,
    /// The named paths.
    pub paths: &'a [PublishPath],
}

impl PublishRules<'_> {
    /// Whether anything may be published.
    pub fn enabled(&self) -> bool {
        self.any_path || !self.paths.is_empty()
    }

    /// May `who` publish `path`? A named path with a list of publishers admits the users it
    /// lists (and nobody without authentication: the list names users); otherwise any user
    /// marked `publish`, or anyone when the server authenticates no one.
    pub fn decide(&self, path: &str, who: Publisher<'_>) -> Result<(), PublishDenial> {
        let named = self.paths.iter().find(|p| p.name == path);
        if named.is_none() && !self.any_path {
            return Err(PublishDenial::NotPublishable(
                "only the paths the configuration names may be published",
            ));
        }
        match (named.and_then(|p| p.publishers.as_ref()), who) {
            (Some(list), Publisher::User { name, .. }) if list.iter().any(|u| u == name) => Ok(()),
            (Some(_), Publisher::User { .. }) => Err(PublishDenial::Forbidden(
                "this user is not among the publishers the configuration names for this path",
            )),
            (Some(_), Publisher::Anyone) => Err(PublishDenial::Forbidden(
                "this path names its publishers, and the server authenticates no one (no --credentials)",
            )),
            (None, Publisher::Anyone | Publisher::User { marked: true, .. }) => Ok(()),
            (None, Publisher::User { marked: false, .. }) => Err(PublishDenial::Forbidden(
                "this user may not publish, only read (the credentials file does not mark it `publish`)",
            )),
        }
    }
}

/// The stream an ANNOUNCE describes, checked to be one RFC 2435 video stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Announcement {
    /// The RTP payload type the publisher will send (26, or the dynamic type its rtpmap names).
    pub payload_type: u8,
    /// The stream's `a=control`, against which the publisher's SETUP URL is resolved.
    pub control: Option<String>,
    /// `a=framerate`, if announced.
    pub frame_rate: Option<f64>,
}

/// What a publishing request wants done.
#[derive(Debug, Clone, PartialEq)]
pub enum PublishIntent {
    /// ANNOUNCE with a description this server can receive.
    Announce(Announcement),
    /// SETUP with `mode=record`, with the client's transport alternatives.
    Setup(Transport),
    /// RECORD: start receiving.
    Record,
}

/// A publishing request reduced to what the server acts on.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishRequest {
    /// What to do.
    pub intent: PublishIntent,
    /// The path the URI names (`None` for `*`).
    pub target: Option<Target>,
    /// The session the request names.
    pub session: Option<SessionId>,
    /// The request's CSeq.
    pub cseq: u32,
}

/// A request classified for a server that may accept publishers.
#[derive(Debug, Clone, PartialEq)]
pub enum Classified {
    /// Anything a reader sends (and every other request): as [`request::classify`] says.
    Read(Incoming),
    /// ANNOUNCE, SETUP `mode=record` or RECORD, with publishing enabled.
    Publish(PublishRequest),
}

/// Checks and types a request: [`request::classify`], plus the publishing methods when `config`
/// enables them. With publishing off the result is exactly `request::classify`'s.
pub fn classify(req: &Request, config: &PublishConfig) -> Result<Classified, Refusal> {
    let publishing_method = matches!(req.method(), Method::Announce | Method::Record);
    match request::classify(req) {
        // The general checks (version, CSeq) passed; only the method was refused.
        Err(Refusal::MethodNotAllowed) if publishing_method && config.publish => {}
        Ok(Incoming {
            intent: Intent::Setup(transport),
            target,
            session,
            cseq,
        }) if config.publish && is_record(&transport) => {
            return Ok(Classified::Publish(PublishRequest {
                intent: PublishIntent::Setup(transport),
                target,
                session,
                cseq,
            }))
        }
        other => return other.map(Classified::Read),
    }
    let cseq = req
        .cseq()
        .ok_or(Refusal::BadRequest("missing or invalid CSeq"))?;
    let (target, session) = target_and_session(req)?;
    if target.is_none() {
        return Err(Refusal::NotFound);
    }
    let intent = if *req.method() == Method::Announce {
        PublishIntent::Announce(announcement(req)?)
    } else {
        PublishIntent::Record
    };
    Ok(Classified::Publish(PublishRequest {
        intent,
        target,
        session,
        cseq,
    }))
}

/// Whether the client's first transport asks to record (`mode=record`, any case, RFC 2326
/// 12.39).
fn is_record(transport: &Transport) -> bool {
    transport
        .first()
        .and_then(|t| t.mode.as_deref())
        .is_some_and(|m| m.eq_ignore_ascii_case("record"))
}

/// The ANNOUNCE body checked: an SDP (415 otherwise) that parses (400) and holds exactly one
/// media, a JPEG/90000 video stream (415 with the reason otherwise).
pub fn announcement(req: &Request) -> Result<Announcement, Refusal> {
    let sdp_type = req
        .headers()
        .typed::<ContentType>()
        .and_then(Result::ok)
        .is_some_and(|c| c.to_string().eq_ignore_ascii_case("application/sdp"));
    if !sdp_type {
        return Err(Refusal::UnsupportedMedia(
            "ANNOUNCE needs an application/sdp description",
        ));
    }
    if req.body().iter().all(u8::is_ascii_whitespace) {
        return Err(Refusal::BadRequest("ANNOUNCE without a description"));
    }
    let sdp =
        Sdp::parse_bytes(req.body()).map_err(|_| Refusal::BadRequest("malformed description"))?;
    let [media] = sdp.media() else {
        return Err(Refusal::UnsupportedMedia(
            "exactly one stream, a JPEG video stream, can be published",
        ));
    };
    if !media.kind().eq_ignore_ascii_case("video") {
        return Err(Refusal::UnsupportedMedia(
            "the published stream must be video",
        ));
    }
    let payload_type = media
        .payload_type()
        .ok_or(Refusal::BadRequest("the m= line names no payload type"))?;
    let jpeg = match media.rtpmap() {
        Some(map) => map.encoding.eq_ignore_ascii_case("JPEG") && map.clock_rate == 90_000,
        // Without rtpmap only the static type says what the stream is.
        None => payload_type == crate::jpeg::PAYLOAD_TYPE,
    };
    if !jpeg {
        return Err(Refusal::UnsupportedMedia(
            "the published stream must be JPEG/90000 (RFC 2435)",
        ));
    }
    Ok(Announcement {
        payload_type,
        control: media.control().map(str::to_owned),
        frame_rate: media.framerate(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtsp::{Message, MessageParser};

    const ON: PublishConfig = PublishConfig { publish: true };
    const OFF: PublishConfig = PublishConfig { publish: false };

    fn parse(bytes: &[u8]) -> Request {
        let mut p = MessageParser::new();
        p.push(bytes).unwrap();
        p.end_of_read();
        match p.next().unwrap() {
            Some(Message::Request(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    fn announce(content_type: &str, sdp: &str) -> Request {
        parse(
            format!(
                "ANNOUNCE rtsp://h/live/cam RTSP/1.0\r\nCSeq: 2\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{sdp}",
                sdp.len()
            )
            .as_bytes(),
        )
    }

    fn status(req: &Request) -> u16 {
        classify(req, &ON).unwrap_err().status()
    }

    const FFMPEG_SDP: &str = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\na=tool:libavformat 59.27.100\r\nm=video 0 RTP/AVP 26\r\nb=AS:200\r\na=control:streamid=0\r\n";

    #[test]
    fn publishing_is_off_by_default_and_then_nothing_changes() {
        assert_eq!(PublishConfig::default(), OFF);
        for text in [
            "RECORD rtsp://h/live/cam RTSP/1.0\r\nCSeq: 4\r\nSession: 5\r\n\r\n",
            "SETUP rtsp://h/live/cam/streamid=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\n\r\n",
            "PLAY rtsp://h/movie.Mjpeg RTSP/1.0\r\nCSeq: 4\r\nSession: 5\r\n\r\n",
        ] {
            let req = parse(text.as_bytes());
            let ours = classify(&req, &OFF).map(|c| match c {
                Classified::Read(incoming) => incoming,
                Classified::Publish(p) => panic!("published with publishing off: {p:?}"),
            });
            assert_eq!(ours, request::classify(&req), "{text}");
        }
        let req = announce("application/sdp", FFMPEG_SDP);
        assert_eq!(classify(&req, &OFF).unwrap_err().status(), 405);
    }

    #[test]
    fn announce_takes_one_jpeg_video_stream() {
        // What ffmpeg's `-f rtsp` output announces (no rtpmap: the static type 26).
        let Classified::Publish(p) =
            classify(&announce("application/sdp", FFMPEG_SDP), &ON).unwrap()
        else {
            panic!("not a publishing request")
        };
        assert_eq!(p.cseq, 2);
        assert_eq!(p.target.unwrap().presentation, "live/cam");
        let PublishIntent::Announce(a) = p.intent else {
            panic!("{:?}", p.intent)
        };
        assert_eq!(
            (a.payload_type, a.control.as_deref()),
            (26, Some("streamid=0"))
        );

        // What the engine's own publisher announces.
        let mut session =
            crate::client::ClientSession::publisher("rtsp://h/live/cam", "t").unwrap();
        let bytes = session.encode(&crate::client::Request::Announce).unwrap();
        let Classified::Publish(p) = classify(&parse(&bytes), &ON).unwrap() else {
            panic!("not a publishing request")
        };
        assert!(matches!(
            p.intent,
            PublishIntent::Announce(Announcement {
                payload_type: 26,
                ..
            })
        ));

        // A dynamic type mapped to JPEG/90000 (GStreamer's rtspclientsink may do that).
        let dynamic =
            FFMPEG_SDP.replace("RTP/AVP 26\r\n", "RTP/AVP 96\r\na=rtpmap:96 JPEG/90000\r\n");
        assert!(classify(&announce("application/sdp", &dynamic), &ON).is_ok());
    }

    #[test]
    fn announce_refusals_say_why() {
        let refusal = |req: &Request| classify(req, &ON).unwrap_err();
        assert_eq!(
            refusal(&announce("text/plain", FFMPEG_SDP)),
            Refusal::UnsupportedMedia("ANNOUNCE needs an application/sdp description")
        );
        assert_eq!(status(&announce("application/sdp", "")), 400);
        assert_eq!(
            status(&announce("application/sdp", "no description here")),
            400
        );
        assert_eq!(
            status(&announce("application/sdp", "v=0\r\nm=video zero\r\n")),
            400
        );
        let h264 = FFMPEG_SDP.replace("RTP/AVP 26\r\n", "RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n");
        assert_eq!(
            refusal(&announce("application/sdp", &h264)),
            Refusal::UnsupportedMedia("the published stream must be JPEG/90000 (RFC 2435)")
        );
        let audio = FFMPEG_SDP.replace("m=video 0 RTP/AVP 26", "m=audio 0 RTP/AVP 0");
        assert_eq!(status(&announce("application/sdp", &audio)), 415);
        let two = format!("{FFMPEG_SDP}m=audio 0 RTP/AVP 0\r\na=control:streamid=1\r\n");
        assert_eq!(
            refusal(&announce("application/sdp", &two)),
            Refusal::UnsupportedMedia("exactly one stream, a JPEG video stream, can be published")
        );
        let star =
            parse(b"ANNOUNCE * RTSP/1.0\r\nCSeq: 2\r\nContent-Type: application/sdp\r\n\r\n");
        assert_eq!(status(&star), 404);
        let escape = announce("application/sdp", FFMPEG_SDP);
        let escape = parse(
            &String::from_utf8_lossy(&escape.to_bytes(crate::rtsp::Dialect::Standard))
                .replace("rtsp://h/live/cam", "rtsp://h/../etc")
                .into_bytes(),
        );
        assert_eq!(status(&escape), 404);
        let no_cseq =
            parse(b"ANNOUNCE rtsp://h/live RTSP/1.0\r\nContent-Type: application/sdp\r\n\r\n");
        assert_eq!(status(&no_cseq), 400);
    }

    #[test]
    fn setup_for_record_and_record() {
        let setup = parse(b"SETUP rtsp://h/live/cam/streamid=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\n\r\n");
        let Classified::Publish(p) = classify(&setup, &ON).unwrap() else {
            panic!("a SETUP to record is a publishing request")
        };
        assert!(matches!(p.intent, PublishIntent::Setup(_)));
        let quoted = parse(b"SETUP rtsp://h/live/cam RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;client_port=5000-5001;mode=\"RECORD\"\r\n\r\n");
        assert!(matches!(classify(&quoted, &ON), Ok(Classified::Publish(_))));
        let play = parse(b"SETUP rtsp://h/movie.Mjpeg RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;client_port=5000-5001;mode=play\r\n\r\n");
        assert!(matches!(classify(&play, &ON), Ok(Classified::Read(_))));
        let record = parse(b"RECORD rtsp://h/live/cam RTSP/1.0\r\nCSeq: 4\r\nSession: 12345\r\nRange: npt=0.000-\r\n\r\n");
        let Classified::Publish(p) = classify(&record, &ON).unwrap() else {
            panic!("RECORD is a publishing request")
        };
        assert_eq!(
            (p.intent, p.session.map(|s| s.get())),
            (PublishIntent::Record, Some(12345))
        );
        let bad_session =
            parse(b"RECORD rtsp://h/live/cam RTSP/1.0\r\nCSeq: 4\r\nSession: xyz\r\n\r\n");
        assert_eq!(status(&bad_session), 454);
    }
}

#[cfg(test)]
mod rules_tests {
    use super::*;

    fn paths() -> Vec<PublishPath> {
        vec![
            PublishPath {
                name: "live/cam".into(),
                publishers: Some(vec!["alice".into(), "bob".into()]),
            },
            PublishPath {
                name: "live/open".into(),
                publishers: None,
            },
        ]
    }

    const ALICE: Publisher<'static> = Publisher::User {
        name: "alice",
        marked: false,
    };
    const CAROL: Publisher<'static> = Publisher::User {
        name: "carol",
        marked: true,
    };
    const DAVE: Publisher<'static> = Publisher::User {
        name: "dave",
        marked: false,
    };

    #[test]
    fn named_paths_admit_their_publishers() {
        let paths = paths();
        let rules = PublishRules {
            any_path: false,
            paths: &paths,
        };
        assert!(rules.enabled());
        assert_eq!(rules.decide("live/cam", ALICE), Ok(()));
        assert!(matches!(
            rules.decide("live/cam", CAROL),
            Err(PublishDenial::Forbidden(_))
        ));
        assert!(matches!(
            rules.decide("live/cam", Publisher::Anyone),
            Err(PublishDenial::Forbidden(_))
        ));
        assert_eq!(rules.decide("live/open", CAROL), Ok(()));
        assert_eq!(rules.decide("live/open", Publisher::Anyone), Ok(()));
        assert!(matches!(
            rules.decide("live/open", DAVE),
            Err(PublishDenial::Forbidden(_))
        ));
        assert!(matches!(
            rules.decide("live/other", CAROL),
            Err(PublishDenial::NotPublishable(_))
        ));
    }

    #[test]
    fn any_path_with_publish() {
        let paths = paths();
        let rules = PublishRules {
            any_path: true,
            paths: &paths,
        };
        assert_eq!(rules.decide("live/other", CAROL), Ok(()));
        assert_eq!(rules.decide("live/other", Publisher::Anyone), Ok(()));
        assert!(matches!(
            rules.decide("live/cam", CAROL),
            Err(PublishDenial::Forbidden(_))
        ));
        assert!(!PublishRules::default().enabled());
    }
}
