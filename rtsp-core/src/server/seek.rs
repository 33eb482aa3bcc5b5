//! Mapping positions (npt seconds, lab skip commands) to frame indices.
//!
//! Frames are addressed by a 0-based index; frame `i` is presented at `i / fps` seconds. A seek
//! lands on the nearest frame, because an MJPEG stream has no inter-frame dependencies: every
//! frame is a key frame, so there is nothing to gain from rounding down.

use super::state::Playhead;
use super::Refusal;

/// How far the lab's FORWARD / BACKWARD commands move (one second at the lab's 20 fps).
pub const LAB_SKIP_FRAMES: u64 = 20;

/// The start of an RTSP `Range: npt=` value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NptStart {
    /// `npt=now-` or `npt=-<end>`: wherever the stream is.
    Now,
    /// `npt=<seconds>-`.
    Seconds(f64),
}

/// A PLAY's `Range: npt=`: where to start and, for `npt=a-b` and `npt=-b`, where to stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NptRange {
    /// Where playback starts.
    pub start: NptStart,
    /// Where it stops, in seconds; excluded (RFC 2326 12.29: "Ranges are half-open
    /// intervals"). `None` plays to the end.
    pub end: Option<f64>,
}

impl NptRange {
    /// `npt=<start>-`.
    pub fn from(start: NptStart) -> Self {
        Self { start, end: None }
    }
}

/// The frames a PLAY sends: `from` up to, not including, `until` (`None`: the end of the file,
/// or forever for a live source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First frame.
    pub from: u64,
    /// First frame not sent.
    pub until: Option<u64>,
}

/// The frames a PLAY with `range` (or none) sends from `head`. 457 Invalid Range when the
/// start is outside the file or the range holds no frame.
pub fn play_span(range: Option<NptRange>, head: Playhead) -> Result<Span, Refusal> {
    let Some(range) = range else {
        return Ok(Span {
            from: resume_position(head),
            until: None,
        });
    };
    let from = frame_for_npt(range.start, head)?;
    let until = match range.end {
        Some(end) => end_frame(end, from, head)?,
        None => None,
    };
    Ok(Span { from, until })
}

/// The first frame a range ending at `end` seconds leaves out: frame `i` is presented at
/// `i / fps` and belongs to the range when that is before `end` ("Only the start time of a
/// media unit such as a video or audio frame is relevant", RFC 2326 12.29). An end past the
/// file is the end of the file. 457 when no frame from `from` on is before `end`. Live sources
/// have no end.
pub fn end_frame(end: f64, from: u64, head: Playhead) -> Result<Option<u64>, Refusal> {
    let Some(total) = head.total_frames else {
        return Ok(None);
    };
    if !end.is_finite() || end < 0.0 || !head.fps.is_finite() || head.fps <= 0.0 {
        return Err(Refusal::InvalidRange);
    }
    let slots = end * head.fps;
    // An end on a frame's own time (3.000 at 20 fps) excludes that frame, even when the
    // product comes out a hair above the integer.
    let nearest = slots.round();
    let first_out = if (slots - nearest).abs() < 1e-6 {
        nearest
    } else {
        slots.ceil()
    };
    // Finite and non-negative; clamped to the file before the cast could matter.
    let first_out = (first_out.min(total as f64) as u64).min(total);
    if first_out <= from {
        return Err(Refusal::InvalidRange);
    }
    Ok(Some(first_out))
}

/// Where a PLAY without a range (or `npt=now-`) continues: at the paused position, or from the
/// start once the stream has run out.
pub fn resume_position(head: Playhead) -> u64 {
    match head.total_frames {
        Some(total) if head.next_frame >= total => 0,
        _ => head.next_frame,
    }
}

/// The frame nearest to `start`, or 457 Invalid Range past the end or for a nonsense value.
/// Live sources cannot seek: they keep their position.
pub fn frame_for_npt(start: NptStart, head: Playhead) -> Result<u64, Refusal> {
    let Some(total) = head.total_frames else {
        return Ok(head.next_frame);
    };
    let seconds = match start {
        NptStart::Now => return Ok(resume_position(head)),
        NptStart::Seconds(s) => s,
    };
    if !seconds.is_finite() || seconds < 0.0 || !head.fps.is_finite() || head.fps <= 0.0 {
        return Err(Refusal::InvalidRange);
    }
    let duration = total as f64 / head.fps;
    // A small tolerance: clients echo `a=range:npt=0-D` rounded to milliseconds.
    if seconds > duration + 0.0005 {
        return Err(Refusal::InvalidRange);
    }
    let nearest = (seconds * head.fps).round();
    // `nearest` is finite, non-negative and at most total + 1 here, so the cast is exact.
    let frame = nearest as u64;
    Ok(frame.min(total.saturating_sub(1)))
}

/// The npt time (seconds) at which frame `frame` is presented.
pub fn npt_of_frame(frame: u64, fps: f64) -> f64 {
    if fps > 0.0 {
        frame as f64 / fps
    } else {
        0.0
    }
}

/// FORWARD: [`LAB_SKIP_FRAMES`] ahead, clamped to the last frame.
pub fn forward(head: Playhead) -> u64 {
    match head.total_frames {
        Some(total) => head
            .next_frame
            .saturating_add(LAB_SKIP_FRAMES)
            .min(total.saturating_sub(1)),
        None => head.next_frame,
    }
}

/// BACKWARD: [`LAB_SKIP_FRAMES`] back, clamped to the first frame.
pub fn backward(head: Playhead) -> u64 {
    match head.total_frames {
        Some(total) => head.next_frame.min(total).saturating_sub(LAB_SKIP_FRAMES),
        None => head.next_frame,
    }
}

/// RESTART: back to the first frame.
pub fn restart(head: Playhead) -> u64 {
    match head.total_frames {
        Some(_) => 0,
        None => head.next_frame,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(next: u64) -> Playhead {
        Playhead {
            next_frame: next,
            total_frames: Some(500),
            fps: 20.0,
        }
    }

    #[test]
    fn npt_maps_to_the_nearest_frame() {
        let f = |s| frame_for_npt(NptStart::Seconds(s), head(7)).unwrap();
        assert_eq!(f(0.0), 0);
        assert_eq!(f(0.024), 0);
        assert_eq!(f(0.026), 1);
        assert_eq!(f(1.0), 20);
        assert_eq!(f(12.34), 247);
        assert_eq!(f(24.95), 499);
        // The announced duration itself is accepted and lands on the last frame.
        assert_eq!(f(25.0), 499);
        assert_eq!(frame_for_npt(NptStart::Now, head(7)).unwrap(), 7);
    }

    #[test]
    fn npt_out_of_bounds_is_invalid_range() {
        for s in [25.01, 1e300, -1.0, f64::NAN, f64::INFINITY] {
            let err = frame_for_npt(NptStart::Seconds(s), head(0)).unwrap_err();
            assert_eq!(err.status(), 457, "{s}");
        }
    }

    #[test]
    fn skips_clamp_to_the_file() {
        assert_eq!(forward(head(0)), 20);
        assert_eq!(forward(head(485)), 499);
        assert_eq!(forward(head(499)), 499);
        assert_eq!(backward(head(30)), 10);
        assert_eq!(backward(head(5)), 0);
        // Past the end (finished stream): back from the end, not from the stale position.
        assert_eq!(backward(head(900)), 480);
        assert_eq!(restart(head(300)), 0);
    }

    #[test]
    fn resume_after_the_end_restarts() {
        assert_eq!(resume_position(head(499)), 499);
        assert_eq!(resume_position(head(500)), 0);
    }

    #[test]
    fn range_ends_are_half_open() {
        let span = |start, end| {
            play_span(
                Some(NptRange {
                    start,
                    end: Some(end),
                }),
                head(7),
            )
        };
        // openRTSP -d 3: frames 0 to 59.
        assert_eq!(
            span(NptStart::Seconds(0.0), 3.0),
            Ok(Span {
                from: 0,
                until: Some(60)
            })
        );
        // A frame presented before the end is in, however little before.
        assert_eq!(span(NptStart::Seconds(0.0), 3.001).unwrap().until, Some(61));
        assert_eq!(
            span(NptStart::Seconds(10.0), 11.5).unwrap().until,
            Some(230)
        );
        // npt=-b: from the current position.
        assert_eq!(
            span(NptStart::Now, 1.0),
            Ok(Span {
                from: 7,
                until: Some(20)
            })
        );
        // Past the end of the file: to the end of the file.
        assert_eq!(
            span(NptStart::Seconds(24.0), 30.0).unwrap().until,
            Some(500)
        );
        // Ranges that hold no frame.
        for (start, end) in [(5.0, 5.0), (7.0, 6.0), (0.03, 0.05)] {
            assert_eq!(
                span(NptStart::Seconds(start), end),
                Err(Refusal::InvalidRange),
                "{start}-{end}"
            );
        }
        assert_eq!(span(NptStart::Now, 0.3), Err(Refusal::InvalidRange));
        for end in [f64::NAN, -1.0, f64::INFINITY] {
            assert_eq!(
                span(NptStart::Seconds(0.0), end),
                Err(Refusal::InvalidRange)
            );
        }
        // No range: resume; open range: no end.
        assert_eq!(
            play_span(None, head(7)),
            Ok(Span {
                from: 7,
                until: None
            })
        );
        let live = Playhead {
            total_frames: None,
            ..head(7)
        };
        assert_eq!(end_frame(1.0, 7, live), Ok(None));
    }

    #[test]
    fn npt_of_frame_is_the_inverse() {
        assert_eq!(npt_of_frame(40, 20.0), 2.0);
        assert_eq!(npt_of_frame(40, 0.0), 0.0);
        for frame in [0, 1, 19, 20, 333, 499] {
            let t = npt_of_frame(frame, 20.0);
            assert_eq!(frame_for_npt(NptStart::Seconds(t), head(0)).unwrap(), frame);
        }
    }
}
