//! The latency the player shows: how long before a frame's arrival its sender says it sent
//! (or captured) it.
//!
//! The sender's time is the frame's RTP timestamp placed on the wall clock of the sender's
//! latest RTCP sender report ([`rtsp_core::client::Frame::sender_time`]); the arrival is
//! this machine's wall clock when the engine hands the frame over. The two clocks must
//! agree: exact on one machine, as good as NTP across machines.
//!
//! What the figure covers depends on what the sender puts in its reports. rtsp-server
//! stamps a report with the time it sends the frame it reports on, so the figure is the
//! time from the server's sending to the player, plus how far each later frame's sending
//! strays from its timestamp. For a file the server paces by the timestamps and that stray
//! is small; for a published (live) path the server sends frames as the publisher's own
//! pacing brings them, so the figure says nothing of the publisher's capture and upload,
//! and frames that came "early" give none. A sender time in our future gives no figure
//! rather than a negative one, which biases the mean upward by the stray: read it as an
//! order of magnitude, not as a measurement of the publish-to-view path.

use std::time::{Duration, SystemTime};

/// The latency of a frame that arrived at `arrival`, if its sender time is known and not
/// in our future.
pub fn of_frame(sender_time: Option<SystemTime>, arrival: SystemTime) -> Option<Duration> {
    arrival.duration_since(sender_time?).ok()
}

/// The latencies of a run: the last, the mean and the largest.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LatencySummary {
    /// Frames that had a figure.
    pub frames: u64,
    total: Duration,
    /// The largest figure.
    pub max: Duration,
    /// The latest figure.
    pub last: Option<Duration>,
}

impl LatencySummary {
    /// Takes in one frame's figure (`None`: the frame had none).
    pub fn push(&mut self, latency: Option<Duration>) {
        let Some(l) = latency else { return };
        self.frames += 1;
        self.total = self.total.saturating_add(l);
        self.max = self.max.max(l);
        self.last = Some(l);
    }

    /// The mean figure, if any frame had one.
    pub fn mean(&self) -> Option<Duration> {
        let frames = u32::try_from(self.frames).unwrap_or(u32::MAX);
        (frames > 0).then(|| self.total / frames)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_needs_a_sender_time_in_the_past() {
        let now = SystemTime::now();
        let ms = Duration::from_millis;
        assert_eq!(of_frame(None, now), None);
        assert_eq!(of_frame(Some(now - ms(7)), now), Some(ms(7)));
        assert_eq!(of_frame(Some(now + ms(7)), now), None, "sender clock ahead");
    }

    #[test]
    fn summary_keeps_last_mean_and_max() {
        let ms = Duration::from_millis;
        let mut s = LatencySummary::default();
        assert_eq!((s.mean(), s.last), (None, None));
        for l in [Some(ms(2)), None, Some(ms(10)), Some(ms(3))] {
            s.push(l);
        }
        assert_eq!(s.frames, 3);
        assert_eq!(s.mean(), Some(ms(5)));
        assert_eq!(s.max, ms(10));
        assert_eq!(s.last, Some(ms(3)));
    }
}
