//! NTP timestamps (RFC 3550 4) and the 1/65536-second units of RTCP LSR/DLSR (6.4.1).
//!
//! The caller supplies wall-clock time (a [`SystemTime`] or a [`Duration`] since the Unix
//! epoch); nothing here reads a clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01).
pub const NTP_UNIX_OFFSET_SECS: u64 = 2_208_988_800;

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// A 64-bit NTP timestamp: 32 bits of seconds since 1900 (modulo 2^32) and 32 bits of fraction.
///
/// ```
/// use std::time::Duration;
/// use rtsp_core::rtp::ntp::NtpTimestamp;
/// let t = NtpTimestamp::from_unix(Duration::from_millis(1_500));
/// assert_eq!(t.seconds(), 2_208_988_801);
/// assert_eq!(t.fraction(), 0x8000_0000);
/// assert_eq!(t.middle32(), ((2_208_988_801u64 << 16) as u32) | 0x8000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NtpTimestamp(pub u64);

impl NtpTimestamp {
    /// The timestamp for a time given as a duration since the Unix epoch.
    ///
    /// Seconds wrap modulo 2^32 as the format requires (NTP era 1 starts in 2036).
    pub fn from_unix(since_unix_epoch: Duration) -> Self {
        let secs = since_unix_epoch
            .as_secs()
            .wrapping_add(NTP_UNIX_OFFSET_SECS) as u32;
        // nanos < 10^9, so the shifted value fits in u64 and the quotient in u32.
        let frac = ((u64::from(since_unix_epoch.subsec_nanos()) << 32) / 1_000_000_000) as u32;
        Self::from_parts(secs, frac)
    }

    /// The timestamp for a wall-clock time; times before 1970 map to the Unix epoch.
    pub fn from_system_time(time: SystemTime) -> Self {
        Self::from_unix(time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO))
    }

    /// Builds a timestamp from its seconds and fraction words.
    pub const fn from_parts(seconds: u32, fraction: u32) -> Self {
        Self(((seconds as u64) << 32) | fraction as u64)
    }

    /// Whole seconds since 1900, modulo 2^32.
    pub const fn seconds(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// Fraction of a second in units of 2^-32 s.
    pub const fn fraction(self) -> u32 {
        self.0 as u32
    }

    /// The middle 32 bits, as carried in the LSR field of a report block.
    pub const fn middle32(self) -> u32 {
        (self.0 >> 16) as u32
    }

    /// Converts back to a duration since the Unix epoch.
    ///
    /// Follows the RFC 4330 era rule: timestamps with the top bit set are in 1968-2036,
    /// others in 2036-2104. Returns `None` for times before 1970.
    pub fn to_unix(self) -> Option<Duration> {
        let secs = u64::from(self.seconds());
        let ntp_secs = if secs & 0x8000_0000 != 0 {
            secs
        } else {
            secs + (1u64 << 32)
        };
        let unix_secs = ntp_secs.checked_sub(NTP_UNIX_OFFSET_SECS)?;
        let nanos = ((u128::from(self.fraction()) * NANOS_PER_SEC) >> 32) as u32;
        Some(Duration::new(unix_secs, nanos))
    }
}

/// Converts a duration to the 1/65536-second units of DLSR (and of round-trip times),
/// truncating and saturating at `u32::MAX` (about 18 hours).
pub fn duration_to_short(d: Duration) -> u32 {
    let units = d.as_nanos() * 65_536 / NANOS_PER_SEC;
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// Converts 1/65536-second units (DLSR, LSR differences) to a duration.
pub fn short_to_duration(units: u32) -> Duration {
    let nanos = u128::from(units) * NANOS_PER_SEC / 65_536;
    // At most 65536 s worth of nanoseconds: fits in u64.
    Duration::from_nanos(nanos as u64)
}

/// Round-trip time from a report block's LSR and DLSR and the arrival time of that block
/// (RFC 3550 6.4.1: `A - LSR - DLSR` in 1/65536 s).
///
/// Returns `None` when LSR is 0 (no SR received yet by the reporter) or when the result
/// would be negative (clock trouble or a stale report).
pub fn round_trip_time(arrival: NtpTimestamp, lsr: u32, dlsr: u32) -> Option<Duration> {
    if lsr == 0 {
        return None;
    }
    let rtt = arrival.middle32().wrapping_sub(lsr).wrapping_sub(dlsr);
    if rtt > 0x8000_0000 {
        return None;
    }
    Some(short_to_duration(rtt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_epoch_and_back() {
        let t = NtpTimestamp::from_unix(Duration::ZERO);
        assert_eq!(t.seconds(), 2_208_988_800);
        assert_eq!(t.fraction(), 0);
        assert_eq!(t.to_unix(), Some(Duration::ZERO));

        let d = Duration::new(1_700_000_000, 250_000_000);
        let t = NtpTimestamp::from_unix(d);
        assert_eq!(t.fraction(), 0x4000_0000);
        assert_eq!(t.to_unix(), Some(d));
        assert_eq!(NtpTimestamp::from_system_time(UNIX_EPOCH + d), t);
    }

    #[test]
    fn era_one_after_2036() {
        // 2040-01-01T00:00:00Z
        let d = Duration::from_secs(2_208_988_800);
        let t = NtpTimestamp::from_unix(d);
        assert_eq!(t.seconds(), (2u64 * 2_208_988_800 - (1u64 << 32)) as u32);
        assert_eq!(t.to_unix(), Some(d));
    }

    #[test]
    fn short_units() {
        assert_eq!(duration_to_short(Duration::from_secs(1)), 65_536);
        assert_eq!(duration_to_short(Duration::from_millis(500)), 32_768);
        assert_eq!(duration_to_short(Duration::from_secs(1 << 20)), u32::MAX);
        assert_eq!(short_to_duration(65_536 * 3), Duration::from_secs(3));
        assert_eq!(short_to_duration(16_384), Duration::from_millis(250));
    }

    /// The example of RFC 3550 6.4.1: A=0xb710:8000, LSR=0xb705:2000, DLSR=0x0005:4000
    /// gives a delay of 0x0006:2000 = 6.125 s.
    #[test]
    fn rfc_round_trip_example() {
        let arrival = NtpTimestamp(0x0000_b710_8000_0000);
        assert_eq!(arrival.middle32(), 0xb710_8000);
        assert_eq!(
            round_trip_time(arrival, 0xb705_2000, 0x0005_4000),
            Some(Duration::from_millis(6_125))
        );
        assert_eq!(round_trip_time(arrival, 0, 0), None);
        assert_eq!(round_trip_time(arrival, 0xb710_9000, 0), None);
    }
}
