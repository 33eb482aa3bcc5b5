//! Feeds a published stream's ingest packets cut from the input, with arrival times; every frame
//! it emits must be a JPEG the parser accepts within the size limit, and every packet must be
//! counted once, as used or as dropped for one reason.
//!
//! Input layout, repeated (the depacketizer target's, so its seeds are streams here too): a
//! control byte, a length byte, then `length + 256 * (control >> 5)` bytes (fewer at the end of
//! the input). Control bit 3 clear: the bytes are an RFC 2435 payload, wrapped in an RTP header
//! (payload type 26, one source) whose marker is bit 0 and whose timestamp bits 1-2 move (same,
//! +3000, -3000, far jump); bit 3 set: the bytes are sent as they are (any datagram). Bit 4
//! lets two seconds pass before the packet, else one millisecond, so the rate limit both bites
//! and recovers.
use std::time::Duration;

use crate::jpeg::ParsedJpeg;
use crate::rtp::{RtpHeader, PAYLOAD_TYPE_JPEG};
use crate::server::ingest::{Ingest, IngestConfig};

const MAX_FRAME: usize = 256 * 1024;

/// The `server_ingest` fuzz target.
pub fn server_ingest(data: &[u8]) {
    let mut ingest = Ingest::new(IngestConfig {
        max_frame_size: MAX_FRAME,
        max_packets_per_second: 200,
        max_bytes_per_second: 1 << 20,
        burst_seconds: 0.5,
    });
    let mut timestamp: u32 = 0x8000_0000;
    let mut seq: u16 = 0;
    let mut now = Duration::ZERO;
    let mut rest = data;
    let mut packet = Vec::new();
    let mut pushed = 0u64;
    while let [control, len, tail @ ..] = rest {
        let control = *control;
        let len = (usize::from(*len) + 256 * usize::from(control >> 5)).min(tail.len());
        let (bytes, tail) = tail.split_at(len);
        rest = tail;
        timestamp = match (control >> 1) & 3 {
            0 => timestamp,
            1 => timestamp.wrapping_add(3000),
            2 => timestamp.wrapping_sub(3000),
            _ => timestamp.wrapping_add(0x4000_0000),
        };
        now += if control & 16 != 0 {
            Duration::from_secs(2)
        } else {
            Duration::from_millis(1)
        };
        packet.clear();
        if control & 8 != 0 {
            packet.extend_from_slice(bytes);
        } else {
            let mut header = RtpHeader::new(PAYLOAD_TYPE_JPEG, seq, timestamp, 0x5EED);
            header.marker = control & 1 != 0;
            seq = seq.wrapping_add(1);
            header.write_to_vec(bytes, &mut packet).expect("RTP header");
        }
        pushed += 1;
        if let Ok(Some(frame)) = ingest.push(&packet, now) {
            assert!(frame.jpeg.len() <= MAX_FRAME);
            let parsed = ParsedJpeg::parse(&frame.jpeg).expect("emitted frames parse");
            assert_eq!(
                (parsed.width(), parsed.height()),
                (frame.width, frame.height)
            );
        }
        let c = ingest.counters();
        assert_eq!(c.packets_received, pushed);
        assert_eq!(c.packets_received, c.packets_used + c.packets_dropped());
    }
}
