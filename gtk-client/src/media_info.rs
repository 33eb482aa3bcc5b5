//! What the player knows about the stream: frame rate, length, size. Learnt from the DESCRIBE
//! answer (SDP) and from the lab extension's `Frames:` reply line; used to turn presentation
//! times into frame numbers and back.

use std::time::Duration;

use rtsp_core::sdp::Sdp;

use crate::format;

/// The lab's frame rate (one frame every 50 ms), used when nothing else is announced.
pub const DEFAULT_FRAME_RATE: f64 = 20.0;

/// What is known about the stream.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamInfo {
    /// Frames per second, if announced.
    pub frame_rate: Option<f64>,
    /// Length, if announced.
    pub duration: Option<Duration>,
    /// Total frames, if announced (the lab's `Frames:` line).
    pub frames: Option<u64>,
    /// Picture size, if announced.
    pub size: Option<(u32, u32)>,
    /// Whether the source is live (`a=range:npt=now-` or an open range).
    pub live: bool,
    /// The SDP session name.
    pub title: Option<String>,
    /// The video encoding (`JPEG/90000`).
    pub encoding: Option<String>,
}

impl StreamInfo {
    /// Reads an SDP description; anything it does not carry stays unknown. A lab-style
    /// free-form description yields nothing but is not an error.
    pub fn from_description(text: &str) -> Self {
        let Ok(sdp) = Sdp::parse(text) else {
            return Self {
                frames: lab_frames(text),
                ..Self::default()
            };
        };
        let video = sdp.video();
        let range = video.and_then(|v| v.range()).or_else(|| sdp.range());
        Self {
            frame_rate: video.and_then(|v| v.framerate()),
            duration: range.and_then(|r| r.duration()).map(format::seconds),
            frames: None,
            size: video
                .and_then(|v| v.dimensions())
                .map(|d| (d.width, d.height)),
            live: range.is_some_and(|r| r.is_live()),
            title: sdp
                .session_name()
                .map(str::trim)
                .filter(|s| !s.is_empty() && *s != "-")
                .map(str::to_owned),
            encoding: video
                .and_then(|v| v.rtpmap())
                .map(|m| format!("{}/{}", m.encoding, m.clock_rate)),
        }
    }

    /// Merges what another source taught (later knowledge wins where it exists).
    pub fn merge(&mut self, other: StreamInfo) {
        self.frame_rate = other.frame_rate.or(self.frame_rate);
        self.duration = other.duration.or(self.duration);
        self.frames = other.frames.or(self.frames);
        self.size = other.size.or(self.size);
        self.live |= other.live;
        self.title = other.title.or(self.title.take());
        self.encoding = other.encoding.or(self.encoding.take());
    }

    /// The frame rate to compute with.
    pub fn rate(&self) -> f64 {
        match self.frame_rate {
            Some(r) if r.is_finite() && r > 0.0 => r,
            _ => DEFAULT_FRAME_RATE,
        }
    }

    /// Total frames: announced, or derived from the length.
    pub fn total_frames(&self) -> Option<u64> {
        self.frames.or_else(|| {
            self.duration
                .map(|d| (d.as_secs_f64() * self.rate()).round() as u64)
        })
    }

    /// Length: announced, or derived from the frame count.
    pub fn length(&self) -> Option<Duration> {
        self.duration
            .or_else(|| self.frames.map(|n| format::seconds(n as f64 / self.rate())))
    }

    /// The 1-based number of the frame shown at presentation time `pts`.
    pub fn frame_at(&self, pts: Duration) -> u64 {
        // A little slack so that 0.05 s * 20 (0.99999...) is frame 2, not frame 1.
        (pts.as_secs_f64() * self.rate() + 1e-6).floor() as u64 + 1
    }

    /// When frame `frame` (1-based) is shown.
    pub fn time_of(&self, frame: u64) -> Duration {
        format::seconds(frame.saturating_sub(1) as f64 / self.rate())
    }

    /// Whether seeking makes sense (a file of known length).
    pub fn seekable(&self) -> bool {
        !self.live && self.total_frames().is_some()
    }
}

/// The lab extension's `Frames: N` line in a reply, if present.
pub fn lab_frames(reply: &str) -> Option<u64> {
    reply.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("frames")
            .then(|| value.trim().parse().ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDP: &str =
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=movie.Mjpeg\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n\
        a=control:*\r\na=range:npt=0-25\r\nm=video 0 RTP/AVP 26\r\na=rtpmap:26 JPEG/90000\r\n\
        a=control:track1\r\na=framerate:20\r\na=framesize:26 640-480\r\n";

    #[test]
    fn reads_the_servers_sdp() {
        let info = StreamInfo::from_description(SDP);
        assert_eq!(info.frame_rate, Some(20.0));
        assert_eq!(info.duration, Some(Duration::from_secs(25)));
        assert_eq!(info.total_frames(), Some(500));
        assert_eq!(info.size, Some((640, 480)));
        assert_eq!(info.title.as_deref(), Some("movie.Mjpeg"));
        assert_eq!(info.encoding.as_deref(), Some("JPEG/90000"));
        assert!(!info.live && info.seekable());
    }

    #[test]
    fn live_sources_are_not_seekable() {
        let live = SDP.replace("npt=0-25", "npt=now-");
        let info = StreamInfo::from_description(&live);
        assert!(info.live);
        assert_eq!(info.total_frames(), None);
        assert!(!info.seekable());
    }

    #[test]
    fn lab_frames_line() {
        assert_eq!(
            lab_frames("RTSP/1.0 200 OK\nCSeq: 2\nSession: 123456\nFrames: 500"),
            Some(500)
        );
        assert_eq!(lab_frames("RTSP/1.0 200 OK\nCSeq: 2"), None);
        assert_eq!(lab_frames("Frames: many"), None);
        let mut info = StreamInfo::default();
        info.merge(StreamInfo {
            frames: Some(500),
            ..StreamInfo::default()
        });
        assert_eq!(info.length(), Some(Duration::from_secs(25)));
        assert!(info.seekable());
        // A free-form lab description is not SDP: nothing is learnt, nothing fails.
        let free = StreamInfo::from_description("DESCRIPTION\nThe video file : movie.Mjpeg");
        assert_eq!(free, StreamInfo::default());
    }

    #[test]
    fn frames_and_times() {
        let info = StreamInfo::from_description(SDP);
        assert_eq!(info.frame_at(Duration::ZERO), 1);
        assert_eq!(info.frame_at(Duration::from_millis(50)), 2);
        assert_eq!(info.frame_at(Duration::from_millis(24_950)), 500);
        assert_eq!(info.time_of(1), Duration::ZERO);
        assert_eq!(info.time_of(21), Duration::from_secs(1));
        assert_eq!(info.time_of(0), Duration::ZERO);
        // Nonsense rates fall back to the lab's 20 fps.
        let odd = StreamInfo {
            frame_rate: Some(f64::NAN),
            ..StreamInfo::default()
        };
        assert_eq!(odd.rate(), DEFAULT_FRAME_RATE);
    }
}
