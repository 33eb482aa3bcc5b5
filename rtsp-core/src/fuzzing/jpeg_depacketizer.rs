//! Feeds the depacketizer pseudo-packets cut from the input; every frame it emits must be a JPEG
//! the parser accepts, matching the reported size and type, and the counters must add up.
//!
//! Input layout, repeated: a control byte, a length byte, then `length + 256 * (control >> 5)`
//! payload bytes (fewer at the end of the input). Control bit 0 is the RTP marker; bits 1-2 move
//! the timestamp (same, +3000, -3000, far jump); bit 3 resets the depacketizer; bit 4 repeats the
//! previous payload instead of reading a new one.
use crate::jpeg::{Depacketizer, ParsedJpeg, Subsampling};

/// The `jpeg_depacketizer` fuzz target.
pub fn jpeg_depacketizer(data: &[u8]) {
    let mut depacketizer = Depacketizer::with_max_frame_size(256 * 1024);
    let mut timestamp: u32 = 0x8000_0000;
    let mut rest = data;
    let mut previous: &[u8] = &[];
    while let Some((&control, tail)) = rest.split_first() {
        let marker = control & 1 != 0;
        timestamp = match (control >> 1) & 3 {
            0 => timestamp,
            1 => timestamp.wrapping_add(3000),
            2 => timestamp.wrapping_sub(3000),
            _ => timestamp.wrapping_add(0x4000_0000),
        };
        if control & 8 != 0 {
            depacketizer.reset();
        }
        let payload = if control & 16 != 0 {
            rest = tail;
            previous
        } else {
            let Some((&len, tail)) = tail.split_first() else {
                break;
            };
            let len = (usize::from(len) + 256 * usize::from(control >> 5)).min(tail.len());
            let (payload, tail) = tail.split_at(len);
            rest = tail;
            payload
        };
        previous = payload;
        if let Some(frame) = depacketizer.push(timestamp, marker, payload) {
            assert_eq!(frame.timestamp, timestamp);
            let parsed = ParsedJpeg::parse(&frame.jpeg).expect("emitted frames parse");
            assert_eq!(
                (parsed.width(), parsed.height()),
                (frame.width, frame.height)
            );
            assert_eq!(
                Some(parsed.subsampling()),
                Subsampling::from_rtp_type(frame.rtp_type)
            );
            assert!(frame.jpeg.len() <= 256 * 1024);
        }
        let stats = depacketizer.stats();
        assert_eq!(
            stats.packets_received,
            stats.packets_used + stats.packets_discarded + depacketizer.packets_pending()
        );
    }
}
