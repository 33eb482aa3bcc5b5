//! Per-session RTP/JPEG reception statistics: loss, broken frames, timing.

use std::time::{Duration, Instant};

use rtsp_core::jpeg::PayloadHeader;
use rtsp_core::rtp::RtpPacketRef;

use crate::fanout::{find_tag, TAG_WINDOW};
use crate::histogram::Histogram;

/// Histograms shared by all sessions of one generator thread.
#[derive(Debug, Clone, Default)]
pub struct SharedHistograms {
    /// Time between the arrivals of consecutive complete frames of a session.
    pub interval: Histogram,
    /// How late each frame arrived against the session's ideal schedule (see [`StreamStats`]).
    pub schedule_error: Histogram,
}

/// What one session received.
#[derive(Debug, Clone, Default)]
pub struct StreamStats {
    /// RTP packets received.
    pub packets: u64,
    /// RTP bytes received (RTP header included).
    pub bytes: u64,
    /// Packets missing from the sequence number series.
    pub lost: u64,
    /// Frames ended by a marker bit.
    pub frames: u64,
    /// Frames whose fragments had a gap or no start.
    pub broken: u64,
    /// Complete frames that arrived within the tolerance of their scheduled time.
    pub on_time: u64,
    /// Complete frames that arrived later than that.
    pub late: u64,
    /// First RTP packet.
    pub first_packet: Option<Instant>,
    /// First and last complete frame.
    pub first_frame: Option<Instant>,
    /// Last complete frame.
    pub last_frame: Option<Instant>,
    /// Complete frames between `first_frame` and `last_frame` inclusive.
    pub complete: u64,
    last_seq: Option<u16>,
    next_offset: Option<u32>,
    frame_ok: bool,
    /// Schedule anchor: (RTP timestamp, arrival) of the earliest-relative frame seen.
    anchor: Option<(u32, Instant)>,
    last_ts: Option<u32>,
    /// With fan-out tags: the last bytes of the frame being received.
    tail: Option<Vec<u8>>,
    /// Tagged frames completed and not yet taken: (frame number, arrival).
    tagged: Vec<(u64, Instant)>,
}

/// RTP clock of RFC 2435 streams.
const CLOCK_HZ: f64 = 90_000.0;

impl StreamStats {
    /// Look for fan-out tags (see [`crate::fanout`]) in the frames received.
    pub fn track_tags(&mut self) {
        self.tail = Some(Vec::with_capacity(2 * TAG_WINDOW));
    }

    /// The tagged frames completed since the last call.
    pub fn take_tagged(&mut self) -> std::vec::Drain<'_, (u64, Instant)> {
        self.tagged.drain(..)
    }

    /// Accounts one RTP packet received at `now`; `late_after` is the on-time tolerance.
    pub fn on_rtp(
        &mut self,
        data: &[u8],
        now: Instant,
        late_after: Duration,
        hist: &mut SharedHistograms,
    ) {
        let Ok(pkt) = RtpPacketRef::parse(data) else {
            return;
        };
        self.packets += 1;
        self.bytes += data.len() as u64;
        self.first_packet.get_or_insert(now);
        let seq = pkt.sequence_number();
        if let Some(last) = self.last_seq {
            let gap = seq.wrapping_sub(last.wrapping_add(1));
            if gap < 0x8000 {
                self.lost += u64::from(gap);
                self.last_seq = Some(seq);
            }
            // else: duplicate or reordered; keep the newest.
        } else {
            self.last_seq = Some(seq);
        }
        let Ok((hdr, data)) = PayloadHeader::parse(pkt.payload()) else {
            self.frame_ok = false;
            return;
        };
        if hdr.fragment_offset == 0 {
            if self.next_offset.is_some() {
                // A new frame began before the previous one's marker.
                self.broken += 1;
            }
            self.frame_ok = true;
        } else if self.next_offset != Some(hdr.fragment_offset) {
            self.frame_ok = false;
        }
        self.next_offset = Some(hdr.fragment_offset.saturating_add(data.len() as u32));
        if let Some(tail) = self.tail.as_mut() {
            if hdr.fragment_offset == 0 {
                tail.clear();
            }
            tail.extend_from_slice(&data[data.len().saturating_sub(TAG_WINDOW)..]);
            let excess = tail.len().saturating_sub(TAG_WINDOW);
            tail.drain(..excess);
        }
        if !pkt.marker() {
            return;
        }
        self.next_offset = None;
        self.frames += 1;
        if !self.frame_ok {
            self.broken += 1;
            return;
        }
        self.frame_ok = false;
        if let Some(id) = self.tail.as_deref().and_then(find_tag) {
            self.tagged.push((id, now));
        }
        self.complete_frame(pkt.timestamp(), now, late_after, hist);
    }

    fn complete_frame(
        &mut self,
        ts: u32,
        now: Instant,
        late_after: Duration,
        hist: &mut SharedHistograms,
    ) {
        if let Some(prev) = self.last_frame {
            hist.interval.record(now.saturating_duration_since(prev));
        }
        self.first_frame.get_or_insert(now);
        self.last_frame = Some(now);
        self.complete += 1;
        // A timestamp that goes backwards (a server restarting its clock) re-anchors.
        let backwards = self
            .last_ts
            .is_some_and(|l| (ts.wrapping_sub(l) as i32) < 0);
        self.last_ts = Some(ts);
        let (ts0, t0) = match self.anchor {
            Some(a) if !backwards => a,
            _ => {
                self.anchor = Some((ts, now));
                self.on_time += 1;
                hist.schedule_error.record(Duration::ZERO);
                return;
            }
        };
        let media = Duration::from_secs_f64(f64::from(ts.wrapping_sub(ts0)) / CLOCK_HZ);
        let due = t0 + media;
        if now < due {
            // Earlier than the anchor predicted: the anchor itself was late. The earliest
            // arrival relative to media time is the best estimate of zero network delay.
            self.anchor = Some((ts, now));
            self.on_time += 1;
            hist.schedule_error.record(Duration::ZERO);
            return;
        }
        let err = now - due;
        hist.schedule_error.record(err);
        if err <= late_after {
            self.on_time += 1;
        } else {
            self.late += 1;
        }
    }

    /// Complete frames per second over the session's frame span, if it had two frames.
    pub fn fps(&self) -> Option<f64> {
        let span = self.last_frame?.checked_duration_since(self.first_frame?)?;
        (self.complete >= 2 && !span.is_zero())
            .then(|| (self.complete - 1) as f64 / span.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rtsp_core::rtp::RtpHeader;

    fn packet(seq: u16, ts: u32, offset: u32, len: usize, marker: bool) -> Vec<u8> {
        let mut payload = vec![0u8, 0, 0, 0, 1, 50, 80, 60];
        payload[1..4].copy_from_slice(&offset.to_be_bytes()[1..]);
        payload.extend(std::iter::repeat_n(0xAB, len));
        let header = RtpHeader {
            marker,
            payload_type: 26,
            sequence_number: seq,
            timestamp: ts,
            ssrc: 7,
            ..RtpHeader::default()
        };
        let mut out = Vec::new();
        header.write_to_vec(&payload, &mut out).unwrap();
        out
    }

    #[test]
    fn counts_frames_loss_and_lateness() {
        let mut s = StreamStats::default();
        let mut h = SharedHistograms::default();
        let t0 = Instant::now();
        let tol = Duration::from_millis(100);
        // Frame 0: two fragments, on time.
        s.on_rtp(&packet(10, 0, 0, 100, false), t0, tol, &mut h);
        s.on_rtp(&packet(11, 0, 100, 50, true), t0, tol, &mut h);
        // Frame 1: first fragment lost -> broken, one packet lost.
        s.on_rtp(
            &packet(13, 4500, 100, 50, true),
            t0 + Duration::from_millis(50),
            tol,
            &mut h,
        );
        // Frame 2: 300 ms late.
        s.on_rtp(
            &packet(14, 9000, 0, 10, true),
            t0 + Duration::from_millis(400),
            tol,
            &mut h,
        );
        // Frame 3: on time again.
        s.on_rtp(
            &packet(15, 13500, 0, 10, true),
            t0 + Duration::from_millis(150),
            tol,
            &mut h,
        );
        assert_eq!((s.packets, s.lost, s.frames, s.broken), (5, 1, 4, 1));
        assert_eq!((s.on_time, s.late, s.complete), (2, 1, 3));
        assert_eq!(h.interval.count(), 2);
    }
}
