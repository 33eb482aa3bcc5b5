//! The sans-I/O receive pipeline: RTP and RTCP packets in, complete JPEG frames, statistics and
//! RTCP receiver reports out.
//!
//! Standard dialect: RTP/JPEG (RFC 2435) through a reorder window (UDP only), the RFC 2435
//! depacketizer (which drops any frame with a missing or inconsistent packet), RFC 3550 receiver
//! statistics, RR + SDES CNAME reports, and RTCP BYE as end of stream.
//! Lab dialect: one whole JPEG per RTP packet, sequence number = frame number, timestamps in
//! seconds.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::event::Frame;
use super::session::PlayInfo;
use super::stats::{PacketCounters, Stats, StatsCollector};
use crate::jpeg::Depacketizer;
use crate::rtp::rtcp::{
    write_compound, Compound, ReceiverReport, ReportBlocks, RtcpPacket, SourceDescription,
};
use crate::rtp::{PacketStatus, PushOutcome, ReceiverStats, ReorderBuffer, RtpPacketRef};
use crate::sdp::Dimensions;

/// Packets held back at most while waiting for a missing one (UDP).
const REORDER_WINDOW: usize = 64;
/// How long a gap may hold packets back before it is given up as loss.
const REORDER_HOLD: Duration = Duration::from_millis(100);
/// JPEG over RTP uses a 90 kHz clock (RFC 2435).
const JPEG_CLOCK: u32 = 90_000;

/// Which wire format the packets are in.
#[derive(Debug)]
enum Kind {
    /// RFC 2435 fragments.
    Standard {
        depacketizer: Box<Depacketizer>,
        reorder: Option<ReorderBuffer<Vec<u8>>>,
        /// RTP timestamp of the first frame after the last PLAY, and where that PLAY started.
        base: Option<(u32, Duration)>,
    },
    /// Whole JPEGs, the lab's way.
    Lab { frame_interval: Duration },
}

/// Turns packets into frames and statistics (see the module documentation).
#[derive(Debug)]
pub struct MediaReceiver {
    kind: Kind,
    stats: ReceiverStats,
    collector: StatsCollector,
    /// The clock origin for the `Duration`s the RTP layer wants.
    epoch: Instant,
    frames_delivered: u64,
    play_start: Duration,
    position: Duration,
    last_packet: Option<Instant>,
    /// Last sign of life of the sender (RTP, RTCP) or the last PLAY sent: the stall watchdog's
    /// reference.
    last_activity: Option<Instant>,
    /// Whether the current silence was reported already.
    stall_reported: bool,
    ended: bool,
    pending_end: bool,
    our_ssrc: u32,
    total_frames: Option<u64>,
    /// The latest sender report's (RTP timestamp, NTP time since the Unix epoch): where the
    /// sender's media clock sits on its wall clock.
    sender_clock: Option<(u32, Duration)>,
}

impl MediaReceiver {
    /// A receiver for the standard dialect (RFC 2435). `reorder` enables the reorder window
    /// (UDP; TCP delivers in order). `now` is the receiver's epoch: the instants later passed
    /// in are measured from it.
    pub fn standard(now: Instant) -> Self {
        Self::with_kind(
            now,
            Kind::Standard {
                depacketizer: Box::new(Depacketizer::new()),
                reorder: Some(ReorderBuffer::new(REORDER_WINDOW, REORDER_HOLD)),
                base: None,
            },
            JPEG_CLOCK,
        )
    }

    /// A receiver for the lab dialect, whose server sends a frame every `frame_interval`; `now`
    /// as for [`MediaReceiver::standard`].
    pub fn lab(now: Instant, frame_interval: Duration) -> Self {
        // The lab's timestamps count seconds.
        Self::with_kind(now, Kind::Lab { frame_interval }, 1)
    }

    fn with_kind(now: Instant, kind: Kind, clock_rate: u32) -> Self {
        Self {
            kind,
            stats: ReceiverStats::new(clock_rate),
            collector: StatsCollector::new(),
            epoch: now,
            frames_delivered: 0,
            play_start: Duration::ZERO,
            position: Duration::ZERO,
            last_packet: None,
            last_activity: None,
            stall_reported: false,
            ended: false,
            pending_end: false,
            our_ssrc: rand::random(),
            total_frames: None,
            sender_clock: None,
        }
    }

    /// Turns the reorder window on (UDP) or off (TCP interleaved, which arrives in order).
    pub fn set_reordering(&mut self, on: bool) {
        if let Kind::Standard { reorder, .. } = &mut self.kind {
            *reorder = on.then(|| ReorderBuffer::new(REORDER_WINDOW, REORDER_HOLD));
        }
    }

    /// The frame size the description states (`a=x-dimensions`), for frames above 2040 pixels
    /// that arrive without the ONVIF header extension.
    pub fn set_stream_size(&mut self, size: Option<Dimensions>) {
        if let Kind::Standard { depacketizer, .. } = &mut self.kind {
            depacketizer.set_stream_size(size.map(|d| (d.width, d.height)));
        }
    }

    /// The lab extension's total frame count, to detect the last frame.
    pub fn set_total_frames(&mut self, total: Option<u64>) {
        self.total_frames = total;
    }

    fn since_epoch(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.epoch)
    }

    /// The statistics as of `now`.
    pub fn stats(&mut self, now: Instant) -> Stats {
        let broken = match &self.kind {
            Kind::Standard { depacketizer, .. } => depacketizer.stats().frames_dropped,
            Kind::Lab { .. } => 0,
        };
        let jitter_ms = match self.kind {
            // The lab's timestamps have a one-second resolution: A.8 jitter says nothing there.
            Kind::Lab { .. } => 0.0,
            Kind::Standard { .. } => self.stats.jitter_ms(),
        };
        let counters = PacketCounters {
            received: self.stats.packets_received(),
            expected: self.stats.expected_packets(),
            duplicated: self.stats.duplicates(),
            reordered: self.stats.reordered(),
            jitter_ms,
        };
        let mut s = self.collector.snapshot(now, counters);
        s.frames_broken = broken;
        s
    }

    /// Records when PLAY was sent (for the first-frame latency) and, for a PLAY from a
    /// position, where presentation times restart: RTP may outrun the PLAY reply, and frames
    /// that arrive first must already be placed at the requested position.
    pub fn on_play_sent(&mut self, now: Instant, from_seconds: Option<f64>) {
        self.collector.on_play_sent(now);
        self.alive(now);
        if let Some(from) = from_seconds {
            self.play_start = super::session::seconds(from);
            self.position = self.play_start;
            if let Kind::Standard { base, .. } = &mut self.kind {
                *base = None;
            }
        }
    }

    /// Applies a PLAY reply: presentation times restart from its start position.
    pub fn on_play(&mut self, play: &PlayInfo) {
        self.play_start = super::session::seconds(play.start);
        self.position = self.play_start;
        self.ended = false;
        self.last_packet = None;
        if let Kind::Standard { base, .. } = &mut self.kind {
            *base = play.rtptime.map(|t| (t, self.play_start));
        }
    }

    /// The presentation time of the last frame delivered (or where the last PLAY started).
    pub fn position(&self) -> Duration {
        self.position
    }

    /// Moves the position without a frame (a seek while paused).
    pub fn set_position(&mut self, position: Duration) {
        self.position = position;
    }

    /// How long no packet has arrived, if one ever did and the stream has not ended.
    pub fn silent_for(&self, now: Instant) -> Option<Duration> {
        if self.ended || self.frames_delivered == 0 {
            return None;
        }
        self.last_packet.map(|t| now.saturating_duration_since(t))
    }

    fn alive(&mut self, now: Instant) {
        self.last_activity = Some(now);
        self.stall_reported = false;
    }

    /// The stall watchdog, for a PLAYING session (the caller knows the state): returns how long
    /// the sender has been silent once that reaches `limit`, then nothing until a packet (or a
    /// new PLAY) ends the silence. Never fires for the lab dialect, whose server ends a file
    /// with silence, nor after the end of the stream.
    pub fn check_stall(&mut self, now: Instant, limit: Duration) -> Option<Duration> {
        if self.ended || self.stall_reported || matches!(self.kind, Kind::Lab { .. }) {
            return None;
        }
        let silent = now.saturating_duration_since(self.last_activity?);
        if silent < limit {
            return None;
        }
        self.stall_reported = true;
        Some(silent)
    }

    /// Records that the end of the stream was reported.
    pub fn mark_ended(&mut self) {
        self.ended = true;
    }

    /// Returns true once after the last frame of a lab file with a known length.
    pub fn take_end_of_stream(&mut self) -> bool {
        if self.pending_end {
            self.pending_end = false;
            self.ended = true;
            true
        } else {
            false
        }
    }

    /// Announces a lab FORWARD, BACKWARD, RESTART or new SETUP, which renumber the frames (the
    /// sequence number is the frame number): the jump is a new run of numbers, not loss or
    /// duplicates. Call it before the request leaves.
    pub fn expect_renumbering(&mut self) {
        self.stats.expect_renumbering();
    }

    /// Records frames the consumer never took.
    pub fn on_frames_dropped(&mut self, n: u64) {
        self.collector.on_frames_dropped(n);
    }

    /// Processes one RTP packet; returns the frames it completed.
    pub fn push_rtp(&mut self, now: Instant, packet: &[u8]) -> Vec<Frame> {
        let arrival = self.since_epoch(now);
        let Ok(rtp) = RtpPacketRef::parse(packet) else {
            // Not RTP (gst's "dummy" NAT packets would be, for instance): ignore.
            return Vec::new();
        };
        self.collector.on_packet(now, packet.len());
        self.last_packet = Some(now);
        self.alive(now);
        let mut status = self.stats.on_packet(&rtp, arrival);
        if status == PacketStatus::ForeignSource {
            // A new sender (new session after a transport fallback): start the books over.
            self.stats.reset();
            self.sender_clock = None;
            status = self.stats.on_packet(&rtp, arrival);
        }
        let mut frames = Vec::new();
        if let Kind::Lab { frame_interval } = self.kind {
            if status == PacketStatus::Duplicate {
                return frames;
            }
            let number = u64::from(rtp.sequence_number());
            let index = u32::try_from(number.saturating_sub(1)).unwrap_or(u32::MAX);
            self.frames_delivered += 1;
            frames.push(Frame {
                jpeg: Arc::from(rtp.payload()),
                number,
                rtp_timestamp: rtp.timestamp(),
                pts: frame_interval.saturating_mul(index),
                // The lab's server sends no RTCP.
                sender_time: None,
            });
            if self.total_frames.is_some_and(|t| number >= t) {
                self.pending_end = true;
            }
        } else {
            let buffered = match &mut self.kind {
                Kind::Standard {
                    reorder: Some(buffer),
                    ..
                } => Some(matches!(
                    buffer.push(rtp.sequence_number(), packet.to_vec(), arrival),
                    PushOutcome::Buffered
                )),
                _ => None,
            };
            match buffered {
                Some(true) => self.drain(arrival, &mut frames),
                // Duplicates and packets whose turn has passed are not used twice.
                Some(false) => {}
                None => self.depacketize(packet, &mut frames),
            }
        }
        for f in &frames {
            self.collector.on_frame_complete(now);
            self.position = f.pts;
        }
        frames
    }

    /// Releases what the reorder window lets go at `arrival`.
    fn drain(&mut self, arrival: Duration, frames: &mut Vec<Frame>) {
        loop {
            let released = match &mut self.kind {
                Kind::Standard {
                    reorder: Some(buffer),
                    ..
                } => buffer.pop(arrival),
                _ => None,
            };
            let Some(r) = released else { return };
            // A gap (`r.lost_before > 0`) needs no action here: the depacketizer sees the
            // fragment offsets jump and drops the frame, counting it once.
            self.depacketize(&r.item, frames);
        }
    }

    fn depacketize(&mut self, packet: &[u8], frames: &mut Vec<Frame>) {
        let Ok(rtp) = RtpPacketRef::parse(packet) else {
            return;
        };
        let Kind::Standard {
            depacketizer, base, ..
        } = &mut self.kind
        else {
            return;
        };
        let Some(frame) = depacketizer.push_with_extension(
            rtp.timestamp(),
            rtp.marker(),
            rtp.payload(),
            rtp.extension(),
        ) else {
            return;
        };
        let (base_ts, base_pos) = *base.get_or_insert((frame.timestamp, self.play_start));
        let ticks = frame.timestamp.wrapping_sub(base_ts);
        // Timestamps before the base (wrapped "negative") are shown at the base.
        let ticks = if ticks > u32::MAX / 2 { 0 } else { ticks };
        let pts = base_pos.saturating_add(Duration::from_secs_f64(
            f64::from(ticks) / f64::from(JPEG_CLOCK),
        ));
        self.frames_delivered += 1;
        let sender_time = self.sender_time(frame.timestamp);
        frames.push(Frame {
            jpeg: Arc::from(frame.jpeg),
            number: self.frames_delivered,
            rtp_timestamp: frame.timestamp,
            pts,
            sender_time,
        });
    }

    /// The sender's wall-clock time of a frame stamped `rtp_timestamp` (90 kHz), from the
    /// latest sender report: before or after the report's own timestamp, modulo 2^32.
    fn sender_time(&self, rtp_timestamp: u32) -> Option<SystemTime> {
        let (sr_rtp, sr_unix) = self.sender_clock?;
        // Signed distance on the wrapping 32-bit clock: a frame may be older than the report.
        let ticks = rtp_timestamp.wrapping_sub(sr_rtp) as i32;
        let offset =
            Duration::from_secs_f64(f64::from(ticks.unsigned_abs()) / f64::from(JPEG_CLOCK));
        let unix = if ticks >= 0 {
            sr_unix.checked_add(offset)
        } else {
            sr_unix.checked_sub(offset)
        }?;
        SystemTime::UNIX_EPOCH.checked_add(unix)
    }

    /// Releases frames held by the reorder window whose gap timed out.
    pub fn poll(&mut self, now: Instant) -> Vec<Frame> {
        let arrival = self.since_epoch(now);
        let mut frames = Vec::new();
        self.drain(arrival, &mut frames);
        for f in &frames {
            self.collector.on_frame_complete(now);
            self.position = f.pts;
        }
        frames
    }

    /// Releases everything held (end of stream) at `now`.
    pub fn flush(&mut self, now: Instant) -> Vec<Frame> {
        if let Kind::Standard {
            reorder: Some(buffer),
            ..
        } = &mut self.kind
        {
            buffer.flush();
        }
        self.poll(now)
    }

    /// Processes one RTCP compound packet; returns true if it said BYE.
    pub fn push_rtcp(&mut self, now: Instant, packet: &[u8]) -> bool {
        let arrival = self.since_epoch(now);
        let Ok(compound) = Compound::parse(packet) else {
            return false;
        };
        self.alive(now);
        let mut bye = false;
        for p in compound.iter() {
            match p {
                RtcpPacket::SenderReport(sr) => {
                    self.stats.on_sender_report_packet(&sr, arrival);
                    let info = sr.sender_info;
                    if let Some(unix) = info.ntp_timestamp.to_unix() {
                        self.sender_clock = Some((info.rtp_timestamp, unix));
                    }
                }
                RtcpPacket::Goodbye(_) => bye = true,
                _ => {}
            }
        }
        if bye && !self.ended {
            self.ended = true;
            true
        } else {
            false
        }
    }

    /// An RTCP RR (with SDES CNAME) about the source, if one has been heard.
    pub fn receiver_report(&mut self, now: Instant) -> Option<Vec<u8>> {
        if matches!(self.kind, Kind::Lab { .. }) {
            return None;
        }
        let block = self.stats.report_block(self.since_epoch(now))?;
        let rr = ReceiverReport {
            ssrc: self.our_ssrc,
            report_blocks: ReportBlocks::single(block),
            profile_extension: &[],
        };
        let sdes = SourceDescription::cname(self.our_ssrc, b"rtsp-core");
        let mut out = Vec::new();
        write_compound(&[rr.into(), sdes.into()], &mut out).ok()?;
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jpeg::{Packetizer, ParsedJpeg};
    use crate::rtp::rtcp::Goodbye;
    use crate::rtp::RtpHeader;

    /// A baseline 4:2:0 JPEG that RFC 2435 can carry.
    fn jpeg(w: u16, h: u16, seed: u8) -> Vec<u8> {
        let rgb: Vec<u8> = (0..usize::from(w) * usize::from(h) * 3)
            .map(|i| (i as u8).wrapping_mul(seed))
            .collect();
        let mut out = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut out, 75);
        enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
        enc.encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        out
    }

    /// RTP packets of `frames` at 20 fps (4500 ticks apart), sequence numbers from `seq0`.
    fn packets(frames: &[Vec<u8>], seq0: u16) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let p = Packetizer::with_max_payload(300).unwrap();
        let mut out = Vec::new();
        let mut expected = Vec::new();
        let mut seq = seq0;
        for (i, f) in frames.iter().enumerate() {
            let parsed = ParsedJpeg::parse(f).unwrap();
            expected.push(parsed.to_rtp_jpeg());
            for frag in p.fragments(&parsed) {
                let mut h = RtpHeader::new(26, seq, 1000 + 4500 * i as u32, 0x5555);
                h.marker = frag.is_last();
                let mut pkt = Vec::new();
                h.write_to_vec(&frag.to_vec(), &mut pkt).unwrap();
                out.push(pkt);
                seq = seq.wrapping_add(1);
            }
        }
        (out, expected)
    }

    #[test]
    fn reordered_packets_make_exact_frames_with_presentation_times() {
        let frames: Vec<Vec<u8>> = (1..=4).map(|s| jpeg(64, 48, s)).collect();
        let (mut pkts, expected) = packets(&frames, 65_530);
        assert!(pkts.len() > 8);
        // Swap neighbours across the sequence-number wrap.
        pkts.swap(3, 4);
        pkts.swap(7, 8);
        let t0 = Instant::now();
        let mut rx = MediaReceiver::standard(t0);
        rx.on_play(&PlayInfo {
            start: 2.0,
            seq: None,
            rtptime: None,
        });
        let mut got = Vec::new();
        for (i, p) in pkts.iter().enumerate() {
            got.extend(rx.push_rtp(t0 + Duration::from_millis(i as u64), p));
        }
        got.extend(rx.flush(t0 + Duration::from_secs(1)));
        assert_eq!(got.len(), 4);
        for (i, f) in got.iter().enumerate() {
            assert_eq!(&f.jpeg[..], &expected[i][..]);
            assert_eq!(f.number, i as u64 + 1);
            assert_eq!(
                f.pts,
                Duration::from_secs(2) + Duration::from_millis(50) * i as u32
            );
        }
        let s = rx.stats(t0 + Duration::from_millis(100));
        assert_eq!(
            (s.packets_lost, s.frames_broken, s.frames_complete),
            (0, 0, 4)
        );
        assert_eq!(s.packets_reordered, 2);
        assert_eq!(rx.position(), Duration::from_millis(2150));
    }

    #[test]
    fn frames_get_the_senders_wall_clock_time_from_its_report() {
        use crate::rtp::ntp::NtpTimestamp;
        use crate::rtp::rtcp::{SenderInfo, SenderReport};
        let frames: Vec<Vec<u8>> = (1..=3).map(|s| jpeg(64, 48, s)).collect();
        let (pkts, _) = packets(&frames, 10);
        let per_frame = pkts.len() / 3;
        let t0 = Instant::now();
        let mut rx = MediaReceiver::standard(t0);
        rx.set_reordering(false);
        let mut got = Vec::new();
        for p in &pkts[..per_frame] {
            got.extend(rx.push_rtp(t0, p));
        }
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].sender_time, None, "no report yet");
        // The report puts the second frame's timestamp (1000 + 4500) at 1,000,000 s past 1970.
        let at = Duration::from_secs(1_000_000);
        let sr = SenderReport {
            ssrc: 0x5555,
            sender_info: SenderInfo {
                ntp_timestamp: NtpTimestamp::from_unix(at),
                rtp_timestamp: 5500,
                packet_count: 0,
                octet_count: 0,
            },
            ..SenderReport::default()
        };
        let mut packet = Vec::new();
        write_compound(&[sr.into()], &mut packet).unwrap();
        assert!(!rx.push_rtcp(t0, &packet));
        let mut got = Vec::new();
        for p in &pkts[per_frame..] {
            got.extend(rx.push_rtp(t0, p));
        }
        let times: Vec<_> = got.iter().map(|f| f.sender_time).collect();
        let epoch = SystemTime::UNIX_EPOCH;
        let near = |t: Option<SystemTime>, d: Duration| {
            let t = t.unwrap().duration_since(epoch).unwrap();
            t.abs_diff(d) < Duration::from_micros(10)
        };
        assert_eq!(times.len(), 2);
        assert!(near(times[0], at), "{times:?}");
        assert!(near(times[1], at + Duration::from_millis(50)), "{times:?}");
        // A frame older than the report lies before it.
        assert!(near(rx.sender_time(1000), at - Duration::from_millis(50)));
    }

    #[test]
    fn a_lost_packet_breaks_one_frame_and_is_counted() {
        let frames: Vec<Vec<u8>> = (1..=3).map(|s| jpeg(64, 48, s)).collect();
        let (mut pkts, expected) = packets(&frames, 100);
        let per_frame = pkts.len() / 3;
        pkts.remove(per_frame + 1); // inside the second frame
                                    // A duplicate after the source has passed probation (RFC 3550 A.1).
        let dup = pkts[3].clone();
        pkts.insert(4, dup);
        let t0 = Instant::now();
        let mut rx = MediaReceiver::standard(t0);
        let mut got = Vec::new();
        for p in &pkts {
            got.extend(rx.push_rtp(t0, p));
        }
        // The gap holds packets back until the hold time passes.
        got.extend(rx.poll(t0 + Duration::from_secs(1)));
        let jpegs: Vec<&[u8]> = got.iter().map(|f| &f.jpeg[..]).collect();
        assert_eq!(jpegs, [&expected[0][..], &expected[2][..]]);
        let s = rx.stats(t0 + Duration::from_secs(1));
        assert_eq!(s.packets_lost, 1);
        assert_eq!(s.packets_duplicated, 1);
        assert_eq!(s.frames_broken, 1);
        assert_eq!(s.frames_complete, 2);
    }

    #[test]
    fn stall_watchdog_fires_once_per_silence_and_never_after_the_end() {
        let frames = vec![jpeg(32, 32, 3)];
        let (pkts, _) = packets(&frames, 1);
        let limit = Duration::from_secs(5);
        let t0 = Instant::now();
        let mut rx = MediaReceiver::standard(t0);
        assert_eq!(rx.check_stall(t0 + limit * 9, limit), None, "never played");
        rx.on_play_sent(t0, None);
        assert_eq!(rx.check_stall(t0 + limit / 2, limit), None);
        // Silent from PLAY on: a server that accepts PLAY and sends nothing stalls too.
        assert_eq!(rx.check_stall(t0 + limit, limit), Some(limit));
        assert_eq!(rx.check_stall(t0 + limit * 2, limit), None, "reported once");
        let t1 = t0 + limit * 3;
        rx.push_rtp(t1, &pkts[0]);
        assert_eq!(
            rx.check_stall(t1 + limit - Duration::from_millis(1), limit),
            None
        );
        assert_eq!(rx.check_stall(t1 + limit * 2, limit), Some(limit * 2));
        // RTCP alone is a sign of life as well.
        let t2 = t1 + limit * 3;
        let mut sr = Vec::new();
        write_compound(&[Goodbye::single(0x5555, None).into()], &mut sr).unwrap();
        assert!(rx.push_rtcp(t2, &sr));
        assert_eq!(rx.check_stall(t2 + limit * 2, limit), None, "BYE ended it");
        let mut lab = MediaReceiver::lab(t0, Duration::from_millis(50));
        lab.on_play_sent(t0, None);
        assert_eq!(
            lab.check_stall(t0 + limit * 2, limit),
            None,
            "lab: silence is the end"
        );
    }

    #[test]
    fn receiver_report_and_bye() {
        let frames = vec![jpeg(32, 32, 9)];
        let (pkts, _) = packets(&frames, 1);
        let t0 = Instant::now();
        let mut rx = MediaReceiver::standard(t0);
        assert!(rx.receiver_report(t0).is_none(), "no source heard yet");
        for p in &pkts {
            rx.push_rtp(t0, p);
        }
        let rr = rx.receiver_report(t0 + Duration::from_secs(1)).unwrap();
        let compound = Compound::parse(&rr).unwrap();
        let kinds: Vec<u8> = compound.iter().map(|p| p.packet_type()).collect();
        assert_eq!(kinds, [201, 202]);
        let Some(RtcpPacket::ReceiverReport(r)) = compound.iter().next() else {
            panic!("RR first")
        };
        let block = r.report_blocks.iter().next().unwrap();
        assert_eq!(block.ssrc, 0x5555);
        let mut bye = Vec::new();
        write_compound(&[Goodbye::single(0x5555, None).into()], &mut bye).unwrap();
        assert!(rx.push_rtcp(t0, &bye));
        assert!(!rx.push_rtcp(t0, &bye), "BYE ends the stream once");
        assert!(!rx.push_rtcp(t0, b"garbage"));
    }

    #[test]
    fn lab_packets_are_whole_frames_numbered_by_sequence() {
        let t0 = Instant::now();
        let mut rx = MediaReceiver::lab(t0, Duration::from_millis(50));
        rx.set_total_frames(Some(3));
        let mut numbers = Vec::new();
        for seq in 1..=3u16 {
            let mut pkt = vec![0x80, 26];
            pkt.extend_from_slice(&seq.to_be_bytes());
            pkt.extend_from_slice(&1_700_000_000u32.to_be_bytes());
            pkt.extend_from_slice(&7u32.to_be_bytes());
            pkt.extend_from_slice(&[0xFF, 0xD8, seq as u8, 0xFF, 0xD9]);
            for f in rx.push_rtp(t0, &pkt) {
                assert_eq!(&f.jpeg[..], &[0xFF, 0xD8, seq as u8, 0xFF, 0xD9]);
                assert_eq!(f.pts, Duration::from_millis(50) * (u32::from(seq) - 1));
                numbers.push(f.number);
            }
        }
        assert_eq!(numbers, [1, 2, 3]);
        assert!(rx.take_end_of_stream());
        assert!(!rx.take_end_of_stream());
        assert_eq!(rx.stats(t0).jitter_ms, 0.0);
        assert!(
            rx.receiver_report(t0).is_none(),
            "the lab server has no RTCP"
        );
    }
}
