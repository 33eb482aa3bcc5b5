//! Arithmetic on 16-bit RTP sequence numbers, which wrap at 65536.

/// Signed distance from `from` to `to` on the 16-bit sequence circle.
///
/// Positive when `to` comes after `from`, negative when before; the answer is only meaningful
/// for packets less than 32768 apart, which is what RFC 3550 implementations assume.
///
/// ```
/// use rtsp_core::rtp::seq_distance;
/// assert_eq!(seq_distance(65535, 0), 1);
/// assert_eq!(seq_distance(0, 65535), -1);
/// ```
#[inline]
pub fn seq_distance(from: u16, to: u16) -> i16 {
    // Reinterpreting the wrapped difference as two's complement is the whole trick.
    to.wrapping_sub(from) as i16
}

/// Whether `candidate` is newer (later in sequence) than `reference`, allowing for wraparound.
#[inline]
pub fn seq_newer(candidate: u16, reference: u16) -> bool {
    seq_distance(reference, candidate) > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_across_wrap() {
        assert_eq!(seq_distance(65530, 5), 11);
        assert_eq!(seq_distance(5, 65530), -11);
        assert_eq!(seq_distance(7, 7), 0);
        assert!(seq_newer(0, 65535));
        assert!(!seq_newer(65535, 0));
        assert!(!seq_newer(3, 3));
    }
}
