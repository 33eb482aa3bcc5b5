//! Sender-side counters for RTCP sender reports (RFC 3550 6.4.1).

use std::time::Duration;

use super::ntp::NtpTimestamp;
use super::rtcp::SenderInfo;

/// Packet and octet counts of one sending source, and the timing needed to put an RTP
/// timestamp next to the NTP timestamp in a sender report.
///
/// ```
/// use std::time::Duration;
/// use rtsp_core::rtp::ntp::NtpTimestamp;
/// use rtsp_core::rtp::SenderStats;
/// let mut tx = SenderStats::new(90_000);
/// tx.on_packet_sent(1000, 1400, Duration::from_secs(10));
/// tx.on_packet_sent(1000, 600, Duration::from_secs(10));
/// let info = tx
///     .sender_info(Duration::from_millis(10_500), NtpTimestamp(1 << 32))
///     .unwrap();
/// assert_eq!((info.packet_count, info.octet_count), (2, 2000));
/// assert_eq!(info.rtp_timestamp, 1000 + 45_000); // half a second later at 90 kHz
/// ```
#[derive(Debug, Clone)]
pub struct SenderStats {
    clock_rate: u32,
    packets: u32,
    octets: u32,
    last: Option<(u32, Duration)>,
}

impl SenderStats {
    /// Counters for a source whose RTP clock runs at `clock_rate` Hz.
    pub fn new(clock_rate: u32) -> Self {
        Self {
            clock_rate,
            packets: 0,
            octets: 0,
            last: None,
        }
    }

    /// Records a sent packet: its RTP timestamp, its payload length (header and padding
    /// excluded, as the octet count requires) and when it was sent on the caller's clock.
    /// Counts wrap modulo 2^32 as the RFC specifies.
    pub fn on_packet_sent(&mut self, rtp_timestamp: u32, payload_len: usize, now: Duration) {
        self.packets = self.packets.wrapping_add(1);
        // Truncation to 32 bits is the RFC's wrapping.
        self.octets = self.octets.wrapping_add(payload_len as u32);
        self.last = Some((rtp_timestamp, now));
    }

    /// Packets sent, modulo 2^32.
    pub fn packet_count(&self) -> u32 {
        self.packets
    }

    /// Payload octets sent, modulo 2^32.
    pub fn octet_count(&self) -> u32 {
        self.octets
    }

    /// The RTP timestamp corresponding to `now`, extrapolated from the last packet sent.
    pub fn rtp_timestamp_at(&self, now: Duration) -> Option<u32> {
        let (ts, at) = self.last?;
        let elapsed = now.saturating_sub(at);
        let ticks = elapsed.as_nanos() * u128::from(self.clock_rate) / 1_000_000_000;
        // Modulo 2^32, like the timestamps themselves.
        Some(ts.wrapping_add(ticks as u32))
    }

    /// The sender-info section for an SR sent at `now` (caller's clock) whose wall-clock time
    /// is `ntp`. `None` if nothing has been sent: such a participant sends an RR instead.
    pub fn sender_info(&self, now: Duration, ntp: NtpTimestamp) -> Option<SenderInfo> {
        Some(SenderInfo {
            ntp_timestamp: ntp,
            rtp_timestamp: self.rtp_timestamp_at(now)?,
            packet_count: self.packets,
            octet_count: self.octets,
        })
    }

    /// Whether anything has been sent.
    pub fn has_sent(&self) -> bool {
        self.last.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_sent_means_no_sender_info() {
        let tx = SenderStats::new(90_000);
        assert!(!tx.has_sent());
        assert_eq!(tx.sender_info(Duration::ZERO, NtpTimestamp(0)), None);
    }

    #[test]
    fn counts_wrap_and_timestamp_extrapolates_across_wrap() {
        let mut tx = SenderStats::new(90_000);
        tx.on_packet_sent(u32::MAX - 10, usize::MAX, Duration::from_secs(1));
        tx.on_packet_sent(u32::MAX - 10, 5, Duration::from_secs(1));
        assert_eq!(tx.packet_count(), 2);
        assert_eq!(tx.octet_count(), 4);
        assert_eq!(tx.rtp_timestamp_at(Duration::from_millis(1001)), Some(79));
        // A "now" before the last send does not go backwards.
        assert_eq!(tx.rtp_timestamp_at(Duration::ZERO), Some(u32::MAX - 10));
    }
}
