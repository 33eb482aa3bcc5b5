//! Receiver statistics for one RTP source: RFC 3550 A.1 (sequence validity), A.3 (loss) and
//! A.8 (interarrival jitter), plus duplicate and reorder counts.

use std::time::Duration;

use super::ntp::{self, NtpTimestamp};
use super::packet::RtpPacketRef;
use super::rtcp::{ReportBlock, SenderReport};

/// A.1: a jump of fewer than this many sequence numbers is taken as loss, not a restart.
pub const MAX_DROPOUT: u16 = 3000;
/// A.1: a packet up to this many sequence numbers behind the highest is taken as reordered.
pub const MAX_MISORDER: u16 = 100;
/// A.1: in-sequence packets needed before a new source is declared valid.
pub const MIN_SEQUENTIAL: u8 = 2;
/// After [`ReceiverStats::expect_renumbering`], how many packets may still continue the old
/// numbering (sent before the sender renumbered) before the renumbering is given up.
pub const RENUMBER_GRACE: u32 = 50;

const RTP_SEQ_MOD: u32 = 1 << 16;

/// What [`ReceiverStats`] made of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketStatus {
    /// Counted; it advanced the highest sequence number (possibly past a gap).
    InOrder,
    /// Counted; it arrived after a packet with a higher sequence number.
    Reordered,
    /// Already received; not counted again.
    Duplicate,
    /// The source is still on probation (A.1 `MIN_SEQUENTIAL`); counted once the source is
    /// validated by the packets that follow it in sequence.
    Probation,
    /// A jump of at least [`MAX_DROPOUT`]; not counted unless the next packet follows it in
    /// sequence: then the sender is taken to have restarted from this packet.
    BadSequence,
    /// A new run of sequence numbers starts (counted, as is the
    /// [`BadSequence`](Self::BadSequence) packet it confirms): a sender restart, or the first
    /// packet that does not continue the numbering after
    /// [`expect_renumbering`](ReceiverStats::expect_renumbering). Loss is counted per run.
    Restarted,
    /// The packet's SSRC is not the tracked source; ignored.
    ForeignSource,
}

impl PacketStatus {
    /// Whether the packet is valid data from the source (A.1 `update_seq` returned 1) and not
    /// a duplicate: the caller should process it.
    pub fn is_valid(self) -> bool {
        matches!(self, Self::InOrder | Self::Reordered | Self::Restarted)
    }
}

#[derive(Debug, Clone, Copy)]
struct LastSr {
    ssrc: u32,
    middle32: u32,
    arrival: Duration,
}

/// Reception statistics for one RTP source, as RFC 3550 Appendix A computes them.
///
/// The first packet's SSRC becomes the tracked source; packets from other SSRCs are ignored
/// (keep one `ReceiverStats` per source, or [`reset`](Self::reset) on an SSRC change). Arrival
/// times are [`Duration`]s since any fixed epoch the caller chooses, converted to the RTP
/// clock with the rate given at construction.
///
/// Deviations from the letter of A.1, all deliberate:
/// - duplicates (detected over the last 128 sequence numbers) are not counted as received, so
///   they cannot hide losses;
/// - the probation check compares sequence numbers modulo 2^16, so a source starting at 65535
///   is accepted;
/// - the packets that passed probation, and the packet whose successor confirmed a restart,
///   are counted (A.1 counts neither): a receiver uses them, and a count that misses them
///   reads "99 packets" for 100 whole-frame packets;
/// - a restart starts a new run of sequence numbers instead of forgetting the old one: counts
///   and losses are totals over the runs.
///
/// ```
/// use std::time::Duration;
/// use rtsp_core::rtp::{PacketStatus, ReceiverStats};
/// let mut stats = ReceiverStats::new(90_000);
/// let ms = Duration::from_millis;
/// assert_eq!(stats.on_rtp(7, 100, 0, 1000, ms(0)), PacketStatus::Probation);
/// assert_eq!(stats.on_rtp(7, 101, 4500, 1000, ms(50)), PacketStatus::InOrder);
/// assert_eq!(stats.on_rtp(7, 104, 18000, 1000, ms(200)), PacketStatus::InOrder);
/// assert_eq!((stats.packets_received(), stats.cumulative_lost()), (3, 2));
/// let block = stats.report_block(ms(250)).unwrap();
/// assert_eq!(block.fraction_lost, 102); // 2 of 5 expected packets lost, in 1/256
/// assert_eq!(block.extended_highest_seq, 104);
/// ```
#[derive(Debug, Clone)]
pub struct ReceiverStats {
    clock_rate: u32,
    source: Option<u32>,
    // A.1 state.
    max_seq: u16,
    cycles: u64,
    base_seq: u32,
    bad_seq: u32,
    probation: u8,
    /// Packets received in the current run of sequence numbers.
    received: u64,
    /// Packets and payload bytes not counted yet: the probation run of a new source, or the
    /// packet after a big jump; counted if the next packet follows them in sequence.
    pending_packets: u64,
    pending_bytes: u64,
    /// Received and expected packets of the runs before the current one.
    earlier_received: u64,
    earlier_expected: u64,
    /// A.3 interval state: the totals at the last report.
    expected_prior: u64,
    received_prior: u64,
    /// Announced renumberings not seen yet, and how many more packets may continue the old
    /// numbering before they are given up.
    renumberings: u32,
    renumber_grace: u32,
    /// Bit i set: sequence number `max_seq - i` has been received.
    window: u128,
    // A.8 state.
    transit: Option<u32>,
    jitter: f64,
    // Extras.
    duplicates: u64,
    reordered: u64,
    bytes: u64,
    last_fraction: u8,
    last_sr: Option<LastSr>,
}

impl ReceiverStats {
    /// Statistics for a source whose RTP clock runs at `clock_rate` Hz (90000 for video).
    /// A rate of 0 is treated as 1 so that jitter stays defined.
    pub fn new(clock_rate: u32) -> Self {
        Self {
            clock_rate: clock_rate.max(1),
            source: None,
            max_seq: 0,
            cycles: 0,
            base_seq: 0,
            bad_seq: RTP_SEQ_MOD + 1,
            probation: 0,
            received: 0,
            pending_packets: 0,
            pending_bytes: 0,
            earlier_received: 0,
            earlier_expected: 0,
            expected_prior: 0,
            received_prior: 0,
            renumberings: 0,
            renumber_grace: 0,
            window: 0,
            transit: None,
            jitter: 0.0,
            duplicates: 0,
            reordered: 0,
            bytes: 0,
            last_fraction: 0,
            last_sr: None,
        }
    }

    /// Forgets everything, including the tracked source; the clock rate is kept.
    pub fn reset(&mut self) {
        *self = Self::new(self.clock_rate);
    }

    /// Keeps the counts of the current run in the totals before another one starts.
    fn close_run(&mut self) {
        self.earlier_received += self.received;
        self.earlier_expected += self.run_expected();
    }

    /// A.1 `init_seq`, for a run of `packets` in-sequence packets ending at `last`, the held
    /// ones among them.
    fn start_run(&mut self, last: u16, packets: u64) {
        // At most 2^16 packets fit in one cycle of sequence numbers.
        let packets = packets.clamp(1, u64::from(RTP_SEQ_MOD));
        let first = u32::from(last).wrapping_sub((packets - 1) as u32) & (RTP_SEQ_MOD - 1);
        self.base_seq = first;
        self.max_seq = last;
        self.cycles = if u32::from(last) < first {
            u64::from(RTP_SEQ_MOD)
        } else {
            0
        };
        self.bad_seq = RTP_SEQ_MOD + 1;
        self.received = packets;
        self.window = if packets >= 128 {
            u128::MAX
        } else {
            (1u128 << packets) - 1
        };
        self.bytes += self.pending_bytes;
        self.pending_packets = 0;
        self.pending_bytes = 0;
    }

    /// Holds a packet's count until the next packet tells whether it belongs to a run.
    fn hold(&mut self, restart_run: bool, payload_len: usize) {
        if restart_run {
            self.pending_packets = 0;
            self.pending_bytes = 0;
        }
        self.pending_packets += 1;
        self.pending_bytes += payload_len as u64;
    }

    /// A.1 `update_seq`, extended with duplicate detection, counting of the packets that
    /// passed probation or started a restart, and announced renumbering.
    fn update_seq(&mut self, seq: u16, payload_len: usize) -> PacketStatus {
        let udelta = seq.wrapping_sub(self.max_seq);
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.start_run(seq, self.pending_packets + 1);
                    return PacketStatus::InOrder;
                }
                self.hold(false, payload_len);
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
                self.hold(true, payload_len);
            }
            return PacketStatus::Probation;
        }
        if self.renumberings > 0 {
            if udelta != 1 {
                // The sender renumbered, as announced: a new run, not a loss or a duplicate.
                self.renumberings -= 1;
                self.pending_packets = 0;
                self.pending_bytes = 0;
                self.close_run();
                self.start_run(seq, 1);
                return PacketStatus::Restarted;
            }
            // Sent before the renumbering.
            self.renumber_grace = self.renumber_grace.saturating_sub(1);
            if self.renumber_grace == 0 {
                self.renumberings = 0;
            }
        }
        if udelta < MAX_DROPOUT {
            if udelta == 0 {
                // The highest packet again: A.1 would count it, we do not.
                self.duplicates += 1;
                return PacketStatus::Duplicate;
            }
            if seq < self.max_seq {
                self.cycles += u64::from(RTP_SEQ_MOD);
            }
            self.max_seq = seq;
            self.window = if udelta >= 128 {
                1
            } else {
                (self.window << udelta) | 1
            };
            self.received += 1;
            PacketStatus::InOrder
        } else if u32::from(udelta) <= RTP_SEQ_MOD - u32::from(MAX_MISORDER) {
            if u32::from(seq) == self.bad_seq {
                // Two sequential packets after a big jump: the sender restarted at the first.
                self.close_run();
                self.start_run(seq, 2);
                PacketStatus::Restarted
            } else {
                self.bad_seq = (u32::from(seq) + 1) & (RTP_SEQ_MOD - 1);
                self.hold(true, payload_len);
                PacketStatus::BadSequence
            }
        } else {
            // Behind the highest by 1..MAX_MISORDER: duplicate or reordered.
            let behind = self.max_seq.wrapping_sub(seq);
            let bit = 1u128 << behind;
            if self.window & bit != 0 {
                self.duplicates += 1;
                return PacketStatus::Duplicate;
            }
            self.window |= bit;
            self.reordered += 1;
            self.received += 1;
            PacketStatus::Reordered
        }
    }

    /// Announces that the sender is about to renumber its packets on purpose (the lab's
    /// sequence number is the frame number: FORWARD, BACKWARD, RESTART and a new session
    /// renumber). The
    /// first packet that does not continue the numbering starts a new run instead of counting
    /// as loss, duplicate or reordering; up to [`RENUMBER_GRACE`] packets sent before the
    /// renumbering may continue the old numbering first. Call it before the request leaves:
    /// renumbered packets can arrive before its reply. Before the source's first packet there
    /// is nothing to renumber, and nothing happens.
    pub fn expect_renumbering(&mut self) {
        if self.source.is_none() {
            return;
        }
        self.renumberings = self.renumberings.saturating_add(1);
        self.renumber_grace = RENUMBER_GRACE;
    }

    /// The arrival time in RTP timestamp units, modulo 2^32.
    fn arrival_rtp(&self, arrival: Duration) -> u32 {
        (arrival.as_nanos() * u128::from(self.clock_rate) / 1_000_000_000) as u32
    }

    /// A.8: `J += (|D| - J) / 16`.
    fn update_jitter(&mut self, timestamp: u32, arrival: Duration) {
        let transit = self.arrival_rtp(arrival).wrapping_sub(timestamp);
        if let Some(prev) = self.transit {
            // Wrapping difference read as signed: |D| is small even across a wrap.
            let d = (transit.wrapping_sub(prev) as i32).unsigned_abs();
            self.jitter += (f64::from(d) - self.jitter) / 16.0;
        }
        self.transit = Some(transit);
    }

    /// Records a received RTP packet. `arrival` is when it arrived, on the caller's clock.
    pub fn on_rtp(
        &mut self,
        ssrc: u32,
        seq: u16,
        timestamp: u32,
        payload_len: usize,
        arrival: Duration,
    ) -> PacketStatus {
        match self.source {
            None => {
                // A.1: a new source starts on probation.
                self.source = Some(ssrc);
                self.max_seq = seq.wrapping_sub(1);
                self.probation = MIN_SEQUENTIAL;
            }
            Some(s) if s != ssrc => return PacketStatus::ForeignSource,
            Some(_) => {}
        }
        let status = self.update_seq(seq, payload_len);
        match status {
            PacketStatus::Duplicate | PacketStatus::BadSequence | PacketStatus::ForeignSource => {}
            PacketStatus::Restarted => {
                // Timestamps of a restarted sender are unrelated to the old ones.
                self.transit = None;
                self.update_jitter(timestamp, arrival);
            }
            PacketStatus::InOrder | PacketStatus::Reordered | PacketStatus::Probation => {
                self.update_jitter(timestamp, arrival);
            }
        }
        if status.is_valid() {
            self.bytes += payload_len as u64;
        }
        status
    }

    /// [`on_rtp`](Self::on_rtp) with the fields of a parsed packet.
    pub fn on_packet(&mut self, packet: &RtpPacketRef<'_>, arrival: Duration) -> PacketStatus {
        self.on_rtp(
            packet.ssrc(),
            packet.sequence_number(),
            packet.timestamp(),
            packet.payload().len(),
            arrival,
        )
    }

    /// Records an SR from the source, for the LSR and DLSR of the next report block. SRs from
    /// another SSRC than the tracked source are ignored.
    pub fn on_sender_report(&mut self, ssrc: u32, ntp_timestamp: NtpTimestamp, arrival: Duration) {
        if self.source.is_some_and(|s| s != ssrc) {
            return;
        }
        self.last_sr = Some(LastSr {
            ssrc,
            middle32: ntp_timestamp.middle32(),
            arrival,
        });
    }

    /// [`on_sender_report`](Self::on_sender_report) with a parsed SR.
    pub fn on_sender_report_packet(&mut self, sr: &SenderReport<'_>, arrival: Duration) {
        self.on_sender_report(sr.ssrc, sr.sender_info.ntp_timestamp, arrival);
    }

    /// A.3: the report block for the source, updating the "since last report" state that the
    /// fraction lost is computed from. `now` is on the same clock as the arrival times.
    ///
    /// `None` until the source has been validated (no report is due for it).
    pub fn report_block(&mut self, now: Duration) -> Option<ReportBlock> {
        let ssrc = self.source?;
        if self.probation > 0 {
            return None;
        }
        let expected = self.expected_packets();
        let expected_interval = expected.saturating_sub(self.expected_prior);
        self.expected_prior = expected;
        let received = self.packets_received();
        let received_interval = received.saturating_sub(self.received_prior);
        self.received_prior = received;
        let lost_interval = i128::from(expected_interval) - i128::from(received_interval);
        self.last_fraction = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            // lost_interval <= expected_interval, so this is at most 256; 256 (everything lost)
            // cannot happen because expected only grows when a packet arrives.
            u8::try_from((lost_interval << 8) / i128::from(expected_interval)).unwrap_or(u8::MAX)
        };
        let (last_sr, delay_since_last_sr) = match self.last_sr {
            Some(sr) if sr.ssrc == ssrc => (
                sr.middle32,
                ntp::duration_to_short(now.saturating_sub(sr.arrival)),
            ),
            _ => (0, 0),
        };
        Some(ReportBlock {
            ssrc,
            fraction_lost: self.last_fraction,
            cumulative_lost: self.cumulative_lost().clamp(-0x80_0000, 0x7f_ffff) as i32,
            extended_highest_seq: self.extended_highest_seq() as u32,
            jitter: self.jitter as u32,
            last_sr,
            delay_since_last_sr,
        })
    }

    /// The tracked source's SSRC, once an RTP packet has been seen.
    pub fn source_ssrc(&self) -> Option<u32> {
        self.source
    }

    /// Whether the source has passed probation.
    pub fn is_valid_source(&self) -> bool {
        self.source.is_some() && self.probation == 0
    }

    /// The clock rate given at construction.
    pub fn clock_rate(&self) -> u32 {
        self.clock_rate
    }

    /// Highest sequence number received, extended with the count of wraparounds (64 bits; the
    /// report block carries the low 32).
    pub fn extended_highest_seq(&self) -> u64 {
        self.cycles + u64::from(self.max_seq)
    }

    /// Packets expected in the current run: extended highest minus base plus one.
    fn run_expected(&self) -> u64 {
        if self.probation > 0 || self.source.is_none() {
            return 0;
        }
        (self.extended_highest_seq() + 1).saturating_sub(u64::from(self.base_seq))
    }

    /// Packets expected from the sequence numbers: per run, extended highest minus base plus
    /// one, summed over the runs.
    pub fn expected_packets(&self) -> u64 {
        self.earlier_expected + self.run_expected()
    }

    /// Valid packets received from the source, duplicates excluded, summed over the runs.
    pub fn packets_received(&self) -> u64 {
        self.earlier_received + self.received
    }

    /// Payload bytes of the valid packets received (for a data rate).
    pub fn bytes_received(&self) -> u64 {
        self.bytes
    }

    /// Packets expected but not received (negative only in pathological cases, since
    /// duplicates are not counted).
    pub fn cumulative_lost(&self) -> i64 {
        let expected = i128::from(self.expected_packets());
        (expected - i128::from(self.packets_received())).clamp(i64::MIN.into(), i64::MAX.into())
            as i64
    }

    /// Cumulative loss as a fraction of expected packets, between 0 and 1.
    pub fn loss_fraction(&self) -> f64 {
        let expected = self.expected_packets();
        if expected == 0 {
            return 0.0;
        }
        (self.cumulative_lost() as f64 / expected as f64).clamp(0.0, 1.0)
    }

    /// The fraction lost (in 1/256) computed by the last [`report_block`](Self::report_block).
    pub fn last_fraction_lost(&self) -> u8 {
        self.last_fraction
    }

    /// Duplicate packets seen (not counted as received).
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Packets that arrived after a packet with a higher sequence number.
    pub fn reordered(&self) -> u64 {
        self.reordered
    }

    /// Interarrival jitter in timestamp units (A.8 estimate, unrounded).
    pub fn jitter(&self) -> f64 {
        self.jitter
    }

    /// Interarrival jitter in milliseconds.
    pub fn jitter_ms(&self) -> f64 {
        self.jitter * 1000.0 / f64::from(self.clock_rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn valid_from(seq: u16) -> ReceiverStats {
        let mut s = ReceiverStats::new(90_000);
        assert_eq!(s.on_rtp(1, seq, 0, 0, MS(0)), PacketStatus::Probation);
        assert_eq!(
            s.on_rtp(1, seq.wrapping_add(1), 0, 0, MS(0)),
            PacketStatus::InOrder
        );
        s
    }

    #[test]
    fn probation_then_valid() {
        let mut s = ReceiverStats::new(90_000);
        assert_eq!(s.report_block(MS(0)), None);
        assert_eq!(s.on_rtp(1, 10, 0, 0, MS(0)), PacketStatus::Probation);
        assert_eq!(s.report_block(MS(0)), None);
        // Out-of-sequence during probation restarts it.
        assert_eq!(s.on_rtp(1, 20, 0, 0, MS(0)), PacketStatus::Probation);
        assert_eq!(s.on_rtp(1, 21, 0, 0, MS(0)), PacketStatus::InOrder);
        assert!(s.is_valid_source());
        // 20 and 21 passed probation together and both count; 10 did not.
        assert_eq!(s.packets_received(), 2);
        assert_eq!(s.expected_packets(), 2);
        assert_eq!(s.on_rtp(2, 22, 0, 0, MS(0)), PacketStatus::ForeignSource);
    }

    #[test]
    fn probation_across_wrap() {
        let s = valid_from(65535);
        assert_eq!(s.extended_highest_seq(), 65_536);
        assert_eq!(s.expected_packets(), 2);
        assert_eq!(s.cumulative_lost(), 0);
    }

    #[test]
    fn duplicate_of_highest_and_of_older() {
        let mut s = valid_from(100);
        assert_eq!(s.on_rtp(1, 102, 0, 0, MS(0)), PacketStatus::InOrder);
        assert_eq!(s.on_rtp(1, 102, 0, 0, MS(0)), PacketStatus::Duplicate);
        assert_eq!(s.on_rtp(1, 101, 0, 0, MS(0)), PacketStatus::Duplicate);
        assert_eq!(s.duplicates(), 2);
        assert_eq!(s.packets_received(), 3);
        assert_eq!(s.cumulative_lost(), 0);
    }

    #[test]
    fn bad_sequence_then_restart() {
        let mut s = valid_from(100);
        assert_eq!(s.on_rtp(1, 30_000, 0, 0, MS(0)), PacketStatus::BadSequence);
        assert_eq!(s.on_rtp(1, 102, 0, 0, MS(0)), PacketStatus::InOrder);
        assert_eq!(s.on_rtp(1, 40_000, 0, 0, MS(0)), PacketStatus::BadSequence);
        assert_eq!(s.on_rtp(1, 40_001, 0, 0, MS(0)), PacketStatus::Restarted);
        // 100..=102, then the new run 40000..=40001: the packet the restart began with counts.
        assert_eq!(s.packets_received(), 5);
        assert_eq!(s.extended_highest_seq(), 40_001);
        assert_eq!(s.expected_packets(), 5);
        assert_eq!(s.cumulative_lost(), 0);
    }

    #[test]
    fn probation_packets_count_with_their_bytes() {
        let mut s = ReceiverStats::new(1);
        assert_eq!(s.on_rtp(1, 1, 0, 700, MS(0)), PacketStatus::Probation);
        assert_eq!(s.on_rtp(1, 2, 0, 300, MS(50)), PacketStatus::InOrder);
        assert_eq!((s.packets_received(), s.expected_packets()), (2, 2));
        assert_eq!(s.bytes_received(), 1000);
    }

    /// Sequence numbers as the lab server sends them: the frame number.
    fn lab_run(s: &mut ReceiverStats, frames: std::ops::RangeInclusive<u16>) -> Vec<PacketStatus> {
        frames.map(|n| s.on_rtp(1, n, 0, 10, MS(0))).collect()
    }

    #[test]
    fn announced_renumbering_starts_a_new_run() {
        let mut s = ReceiverStats::new(1);
        lab_run(&mut s, 1..=10);
        // FORWARD: one frame sent before the server moved, then 20 frames further on.
        s.expect_renumbering();
        assert_eq!(lab_run(&mut s, 11..=11), [PacketStatus::InOrder]);
        assert_eq!(lab_run(&mut s, 32..=33)[0], PacketStatus::Restarted);
        // BACKWARD: numbers seen already are not duplicates this time.
        s.expect_renumbering();
        assert_eq!(lab_run(&mut s, 14..=20)[0], PacketStatus::Restarted);
        // RESTART: back to 1 (a big jump back, not a bad sequence).
        s.expect_renumbering();
        assert_eq!(lab_run(&mut s, 1..=5)[0], PacketStatus::Restarted);
        let packets = 10 + 1 + 2 + 7 + 5;
        assert_eq!(
            (s.packets_received(), s.expected_packets()),
            (packets, packets)
        );
        assert_eq!(
            (s.duplicates(), s.reordered(), s.cumulative_lost()),
            (0, 0, 0)
        );
        assert_eq!(s.bytes_received(), 10 * packets);
        // Without an announcement, the same jump back is duplicates, as it should be.
        assert_eq!(lab_run(&mut s, 1..=1), [PacketStatus::Duplicate]);
    }

    #[test]
    fn two_announcements_cover_two_renumberings() {
        let mut s = ReceiverStats::new(1);
        lab_run(&mut s, 1..=10);
        s.expect_renumbering();
        s.expect_renumbering();
        assert_eq!(lab_run(&mut s, 31..=35)[0], PacketStatus::Restarted);
        assert_eq!(lab_run(&mut s, 56..=60)[0], PacketStatus::Restarted);
        assert_eq!(s.cumulative_lost(), 0);
    }

    #[test]
    fn an_announcement_that_nothing_follows_lapses() {
        let mut s = ReceiverStats::new(1);
        lab_run(&mut s, 1..=10);
        s.expect_renumbering();
        let last = 10 + RENUMBER_GRACE as u16;
        lab_run(&mut s, 11..=last);
        // A real gap after the grace is loss again.
        assert_eq!(s.on_rtp(1, last + 3, 0, 0, MS(0)), PacketStatus::InOrder);
        assert_eq!(s.cumulative_lost(), 2);
    }
}
