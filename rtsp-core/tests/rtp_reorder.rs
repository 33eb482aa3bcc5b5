#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The client-side reorder buffer.

use std::time::Duration;

use rtsp_core::rtp::{PushOutcome, ReorderBuffer, RtpHeader, RtpPacketRef};

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// Pops everything releasable at `now` as (seq, lost_before) pairs.
fn drain<T>(rb: &mut ReorderBuffer<T>, now: Duration) -> Vec<(u16, u16)> {
    std::iter::from_fn(|| rb.pop(now))
        .map(|r| (r.seq, r.lost_before))
        .collect()
}

#[test]
fn in_order_packets_pass_straight_through() {
    let mut rb = ReorderBuffer::new(32, ms(100));
    for seq in 1000u16..1100 {
        assert_eq!(rb.push(seq, seq, ms(u64::from(seq))), PushOutcome::Buffered);
        let r = rb.pop(ms(u64::from(seq))).unwrap();
        assert_eq!((r.seq, r.item, r.lost_before), (seq, seq, 0));
        assert!(rb.pop(ms(u64::from(seq))).is_none());
    }
    assert!(rb.is_empty());
    assert_eq!(rb.next_deadline(), None);
    assert_eq!(rb.lost(), 0);
}

#[test]
fn swapped_packets_come_out_in_order() {
    let mut rb = ReorderBuffer::new(32, ms(100));
    let t = ms(0);
    rb.push(1, 'a', t);
    assert_eq!(drain(&mut rb, t), [(1, 0)]);
    rb.push(3, 'c', t);
    assert_eq!(drain(&mut rb, t), [], "3 waits for 2");
    assert_eq!(rb.next_deadline(), Some(ms(100)));
    rb.push(2, 'b', ms(5));
    assert_eq!(rb.next_deadline(), Some(Duration::ZERO));
    let items: Vec<char> = std::iter::from_fn(|| rb.pop(ms(5)))
        .map(|r| r.item)
        .collect();
    assert_eq!(items, ['b', 'c']);
    assert_eq!(rb.lost(), 0);
}

#[test]
fn duplicates_are_rejected_waiting_or_released() {
    let mut rb = ReorderBuffer::new(32, ms(100));
    let t = ms(0);
    rb.push(10, "first", t);
    rb.push(12, "twelve", t);
    assert_eq!(rb.push(12, "again", t), PushOutcome::Duplicate("again"));
    assert_eq!(drain(&mut rb, t), [(10, 0)]);
    // A copy of an already released packet is late.
    assert_eq!(rb.push(10, "copy", t), PushOutcome::Late("copy"));
    rb.push(11, "eleven", t);
    assert_eq!(drain(&mut rb, t), [(11, 0), (12, 0)]);
    assert_eq!(rb.duplicates(), 1);
    assert_eq!(rb.late(), 1);
}

#[test]
fn gap_is_skipped_after_max_hold() {
    let mut rb = ReorderBuffer::new(32, ms(80));
    rb.push(1, (), ms(0));
    assert_eq!(drain(&mut rb, ms(0)), [(1, 0)]);
    // 2 and 3 are lost; 4 and 5 wait.
    rb.push(4, (), ms(40));
    rb.push(5, (), ms(60));
    assert_eq!(drain(&mut rb, ms(60)), []);
    assert_eq!(drain(&mut rb, ms(119)), []);
    assert_eq!(rb.next_deadline(), Some(ms(120)));
    assert_eq!(drain(&mut rb, ms(120)), [(4, 2), (5, 0)]);
    assert_eq!(rb.lost(), 2);
    // The lost packets turning up now are late.
    assert_eq!(rb.push(2, (), ms(130)), PushOutcome::Late(()));
    assert_eq!(rb.push(3, (), ms(130)), PushOutcome::Late(()));
}

#[test]
fn timeout_counts_the_longest_waiting_packet() {
    let mut rb = ReorderBuffer::new(32, ms(50));
    rb.push(1, (), ms(0));
    drain(&mut rb, ms(0));
    // 7 arrives first, 4 later; the wait is measured from 7's arrival.
    rb.push(7, (), ms(10));
    rb.push(4, (), ms(40));
    assert_eq!(rb.next_deadline(), Some(ms(60)));
    assert_eq!(drain(&mut rb, ms(59)), []);
    // Past the deadline: give up on 2 and 3, then release 4; 5 and 6 are still missing and
    // 7 has waited too long as well, so it follows.
    assert_eq!(drain(&mut rb, ms(60)), [(4, 2), (7, 2)]);
}

#[test]
fn wraparound_at_65535() {
    let mut rb = ReorderBuffer::new(16, ms(100));
    let t = ms(0);
    let order = [65_533u16, 65_535, 65_534, 1, 0, 2, 3];
    let mut out = Vec::new();
    for seq in order {
        assert_eq!(rb.push(seq, seq, t), PushOutcome::Buffered, "seq {seq}");
        out.extend(std::iter::from_fn(|| rb.pop(t)).map(|r| r.item));
    }
    assert_eq!(out, [65_533, 65_534, 65_535, 0, 1, 2, 3]);
    // Across the wrap, a gap is measured correctly too.
    rb.push(6, 6, t);
    rb.flush();
    assert_eq!(drain(&mut rb, t), [(6, 2)]);
    // And a packet from before the wrap is late, not a discontinuity.
    assert_eq!(rb.push(65_530, 0, t), PushOutcome::Late(0));
}

#[test]
fn flush_releases_everything_in_order() {
    let mut rb = ReorderBuffer::new(8, ms(1000));
    let t = ms(0);
    rb.push(100, (), t);
    drain(&mut rb, t);
    for seq in [105u16, 103, 107] {
        rb.push(seq, (), t);
    }
    assert_eq!(rb.len(), 3);
    rb.flush();
    assert_eq!(drain(&mut rb, t), [(103, 2), (105, 1), (107, 1)]);
    assert!(rb.is_empty());
}

#[test]
fn reorders_real_rtp_packets() {
    // Owned packets, as a client receive loop would hold them.
    let mut wire = Vec::new();
    for seq in 500u16..510 {
        let mut v = Vec::new();
        RtpHeader::new(26, seq, 0, 1)
            .write_to_vec(&[seq as u8], &mut v)
            .unwrap();
        wire.push(v);
    }
    // Deliver in a scrambled order.
    let order = [0usize, 2, 1, 3, 6, 4, 5, 9, 7, 8];
    let mut rb = ReorderBuffer::new(64, ms(200));
    let mut payloads = Vec::new();
    for (i, &k) in order.iter().enumerate() {
        let bytes = wire[k].clone();
        let seq = RtpPacketRef::parse(&bytes).unwrap().sequence_number();
        rb.push(seq, bytes, ms(i as u64));
        while let Some(r) = rb.pop(ms(i as u64)) {
            payloads.push(RtpPacketRef::parse(&r.item).unwrap().payload()[0]);
        }
    }
    let expected: Vec<u8> = (500u16..510).map(|s| s as u8).collect();
    assert_eq!(payloads, expected);
}
