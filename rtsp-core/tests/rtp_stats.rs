#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Receiver and sender statistics against RFC 3550 Appendix A, with expected values computed
//! independently in the tests.

use std::time::Duration;

use rtsp_core::rtp::ntp::NtpTimestamp;
use rtsp_core::rtp::rtcp::{Compound, RtcpPacket, SenderReport};
use rtsp_core::rtp::{PacketStatus, ReceiverStats, RtpHeader, RtpPacketRef, SenderStats};

const SSRC: u32 = 0x5eed_0001;
const RATE: u32 = 90_000;

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// Feeds `seqs` at 20 ms intervals with 90 kHz timestamps matching the send times.
fn feed(stats: &mut ReceiverStats, seqs: impl IntoIterator<Item = u16>) -> Vec<PacketStatus> {
    seqs.into_iter()
        .enumerate()
        .map(|(i, seq)| {
            let i = i as u64;
            stats.on_rtp(SSRC, seq, (i * 1800) as u32, 100, ms(i * 20))
        })
        .collect()
}

#[test]
fn sequence_wraparound_at_65535() {
    let mut s = ReceiverStats::new(RATE);
    let seqs: Vec<u16> = (65_530u32..65_536 + 11)
        .map(|v| (v % 65_536) as u16)
        .collect();
    let statuses = feed(&mut s, seqs);
    assert_eq!(statuses[0], PacketStatus::Probation);
    assert!(statuses[1..].iter().all(|&st| st == PacketStatus::InOrder));
    // Base is 65530 (the probation packet counts once validated), highest is 10 in cycle 1.
    assert_eq!(s.extended_highest_seq(), 65_536 + 10);
    assert_eq!(s.expected_packets(), 65_536 + 10 - 65_530 + 1);
    assert_eq!(s.packets_received(), 17);
    assert_eq!(s.cumulative_lost(), 0);
    let block = s.report_block(ms(1000)).unwrap();
    assert_eq!(block.extended_highest_seq, 0x0001_000a);
    assert_eq!(block.cumulative_lost, 0);
    assert_eq!(block.fraction_lost, 0);
    assert_eq!(block.ssrc, SSRC);
}

#[test]
fn many_wraps_count_cycles() {
    let mut s = ReceiverStats::new(RATE);
    let mut seq: u16 = 40_000;
    let mut statuses = Vec::new();
    for i in 0..200_000u64 {
        statuses.push(s.on_rtp(SSRC, seq, 0, 0, ms(i)));
        seq = seq.wrapping_add(1);
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|&&st| st == PacketStatus::InOrder)
            .count(),
        199_999
    );
    let highest = 40_000u64 + 199_999;
    assert_eq!(s.extended_highest_seq(), highest);
    assert_eq!(s.expected_packets(), highest - 40_000 + 1);
    assert_eq!(s.cumulative_lost(), 0);
}

#[test]
fn dropout_boundaries_and_resync_per_a1() {
    let mut s = ReceiverStats::new(RATE);
    feed(&mut s, [1000, 1001]);
    // A jump of MAX_DROPOUT - 1 is loss, not a restart.
    assert_eq!(
        s.on_rtp(SSRC, 1001 + 2999, 0, 0, ms(0)),
        PacketStatus::InOrder
    );
    assert_eq!(s.cumulative_lost(), 2998);
    // A jump of exactly MAX_DROPOUT is suspicious and not counted...
    let base = 1001u16 + 2999;
    assert_eq!(
        s.on_rtp(SSRC, base + 3000, 0, 0, ms(0)),
        PacketStatus::BadSequence
    );
    assert_eq!(s.packets_received(), 3);
    // ... and the old sequence simply continues.
    assert_eq!(s.on_rtp(SSRC, base + 1, 0, 0, ms(0)), PacketStatus::InOrder);
    // 99 behind the highest is reordering, 100 behind is a bad sequence.
    let highest = base + 200;
    assert_eq!(s.on_rtp(SSRC, highest, 0, 0, ms(0)), PacketStatus::InOrder);
    assert_eq!(
        s.on_rtp(SSRC, highest - 99, 0, 0, ms(0)),
        PacketStatus::Reordered
    );
    assert_eq!(
        s.on_rtp(SSRC, highest - 100, 0, 0, ms(0)),
        PacketStatus::BadSequence
    );

    // The sender restarts at 20000: first packet is doubted, the next one confirms.
    let before = s.packets_received();
    let (expected_before, lost_before) = (s.expected_packets(), s.cumulative_lost());
    s.report_block(ms(0)).unwrap();
    assert_eq!(
        s.on_rtp(SSRC, 20_000, 0, 0, ms(0)),
        PacketStatus::BadSequence
    );
    assert_eq!(s.packets_received(), before);
    assert_eq!(s.on_rtp(SSRC, 20_001, 0, 0, ms(0)), PacketStatus::Restarted);
    // A new run from 20000, both packets counted; the old run stays in the totals.
    assert_eq!(s.packets_received(), before + 2);
    assert_eq!(s.expected_packets(), expected_before + 2);
    assert_eq!(s.cumulative_lost(), lost_before);
    assert_eq!(s.on_rtp(SSRC, 20_003, 0, 0, ms(0)), PacketStatus::InOrder);
    assert_eq!(s.cumulative_lost(), lost_before + 1);
    let block = s.report_block(ms(0)).unwrap();
    assert_eq!(block.extended_highest_seq, 20_003);
    // Since the last report: 20000..=20003 expected, 20002 lost.
    assert_eq!(u32::from(block.fraction_lost), (1u32 << 8) / 4);
}

/// Loss pattern: packets 0..=999 with every 10th missing in the first half and every 4th in
/// the second half. Expected values follow the A.3 formulas, computed here by hand.
#[test]
fn known_loss_pattern_gives_exact_counts_and_fractions() {
    let mut s = ReceiverStats::new(RATE);
    let sent = |range: std::ops::Range<u16>, every: u16| {
        range
            .filter(move |seq| *seq < 2 || seq % every != 0)
            .collect::<Vec<_>>()
    };
    let first: Vec<u16> = sent(0..500, 10);
    feed(&mut s, first.iter().copied());
    // Base sequence 0 (the probation packet counts once validated), highest 499.
    let expected1 = 500; // 0..=499
    let received1 = first.len() as i64;
    assert_eq!(s.expected_packets(), expected1);
    assert_eq!(s.packets_received() as i64, received1);
    let lost1 = expected1 as i64 - received1;
    assert_eq!(lost1, 49); // 10, 20, ..., 490
    assert_eq!(s.cumulative_lost(), lost1);
    let b1 = s.report_block(ms(10_000)).unwrap();
    assert_eq!(i64::from(b1.cumulative_lost), lost1);
    assert_eq!(i64::from(b1.fraction_lost), (lost1 << 8) / expected1 as i64);
    assert_eq!(b1.fraction_lost, 25);

    let second: Vec<u16> = sent(500..1000, 4);
    let t0 = first.len() as u64;
    for (i, &seq) in second.iter().enumerate() {
        s.on_rtp(SSRC, seq, 0, 100, ms((t0 + i as u64) * 20));
    }
    let expected_total = 1000; // 0..=999
    let received_total = received1 + second.len() as i64;
    assert_eq!(s.cumulative_lost(), expected_total - received_total);
    assert_eq!(s.cumulative_lost(), 49 + 125);
    let b2 = s.report_block(ms(30_000)).unwrap();
    let expected_interval = expected_total - expected1 as i64;
    let lost_interval = expected_interval - second.len() as i64;
    assert_eq!(lost_interval, 125);
    assert_eq!(
        i64::from(b2.fraction_lost),
        (lost_interval << 8) / expected_interval
    );
    assert_eq!(b2.fraction_lost, 64);
    assert_eq!(b2.extended_highest_seq, 999);
    assert!((s.loss_fraction() - 174.0 / 1000.0).abs() < 1e-12);

    // A report with nothing new in between has fraction 0.
    let b3 = s.report_block(ms(31_000)).unwrap();
    assert_eq!(b3.fraction_lost, 0);
    assert_eq!(b3.cumulative_lost, 174);
}

#[test]
fn duplicates_are_not_counted_as_received_twice() {
    let mut s = ReceiverStats::new(RATE);
    let mut seqs = Vec::new();
    for seq in 100u16..200 {
        seqs.push(seq);
        seqs.push(seq);
    }
    // Also a duplicate of a packet well behind the highest.
    seqs.push(150);
    let statuses = feed(&mut s, seqs);
    assert_eq!(statuses[0], PacketStatus::Probation);
    // The second copy of 100 arrives while on probation and is not treated as a duplicate;
    // it takes the first one's place in the probation run.
    assert_eq!(statuses[1], PacketStatus::Probation);
    assert_eq!(statuses[2], PacketStatus::InOrder);
    assert_eq!(s.packets_received(), 100);
    // 99 second copies of 101..=199, plus the late copy of 150.
    assert_eq!(s.duplicates(), 100);
    assert_eq!(s.cumulative_lost(), 0);
    let b = s.report_block(ms(5_000)).unwrap();
    assert_eq!(b.cumulative_lost, 0);
    assert_eq!(b.fraction_lost, 0);
}

#[test]
fn reordered_packets_are_counted_and_not_lost() {
    let mut s = ReceiverStats::new(RATE);
    // Pairs swapped after the first two: 0 1 3 2 5 4 7 6 ...
    let mut seqs = vec![0u16, 1];
    for pair in (2u16..100).step_by(2) {
        seqs.push(pair + 1);
        seqs.push(pair);
    }
    let statuses = feed(&mut s, seqs);
    let reordered = statuses
        .iter()
        .filter(|&&st| st == PacketStatus::Reordered)
        .count();
    assert_eq!(reordered, 49);
    assert_eq!(s.reordered(), 49);
    assert_eq!(s.cumulative_lost(), 0);
    // Before the late packet arrives it counts as lost; afterwards it does not.
    assert_eq!(s.on_rtp(SSRC, 101, 0, 0, ms(0)), PacketStatus::InOrder);
    assert_eq!(s.cumulative_lost(), 1);
    assert_eq!(s.on_rtp(SSRC, 100, 0, 0, ms(0)), PacketStatus::Reordered);
    assert_eq!(s.cumulative_lost(), 0);
}

/// Packets sent every 20 ms with timestamps exactly on the 90 kHz clock; the network delay
/// alternates between 10 ms and 15 ms, so every transit difference is 5 ms = 450 ticks and
/// the A.8 estimate converges to 450.
#[test]
fn jitter_converges_to_the_known_value() {
    let mut s = ReceiverStats::new(RATE);
    let mut reference = 0.0f64;
    let mut prev_transit: Option<i64> = None;
    let base_ts: u32 = 0xffff_0000; // make the timestamps wrap along the way
    for i in 0..400u64 {
        let ts = base_ts.wrapping_add((i * 1800) as u32);
        let delay = if i % 2 == 0 { 10 } else { 15 };
        let arrival = ms(1_000 + i * 20 + delay);
        s.on_rtp(SSRC, i as u16, ts, 1000, arrival);

        // Independent computation in plain integers: arrival in ticks minus send time in
        // ticks (send time i * 20 ms = i * 1800 ticks; the constant offsets cancel in D).
        let arrival_ticks = (1_000 + i * 20 + delay) as i64 * 90;
        let transit = arrival_ticks - (i * 1800) as i64;
        if let Some(p) = prev_transit {
            let d = (transit - p).abs() as f64;
            reference += (d - reference) / 16.0;
        }
        prev_transit = Some(transit);
        assert!((s.jitter() - reference).abs() < 1e-9, "packet {i}");
    }
    assert!((s.jitter() - 450.0).abs() < 1e-6);
    assert!((s.jitter_ms() - 5.0).abs() < 1e-7);
    assert_eq!(s.report_block(ms(10_000)).unwrap().jitter, 449);
}

#[test]
fn jitter_is_zero_for_perfect_pacing() {
    let mut s = ReceiverStats::new(RATE);
    feed(&mut s, 0..100u16);
    assert_eq!(s.jitter(), 0.0);
    assert_eq!(s.bytes_received(), 100 * 100);
}

#[test]
fn lsr_and_dlsr_come_from_the_last_sender_report() {
    let mut s = ReceiverStats::new(RATE);
    feed(&mut s, [5, 6, 7]);
    let block = s.report_block(ms(100)).unwrap();
    assert_eq!((block.last_sr, block.delay_since_last_sr), (0, 0));

    // Parse a real SR, as a client would.
    let ntp = NtpTimestamp::from_parts(0x1234_5678, 0x9abc_def0);
    let sr = SenderReport {
        ssrc: SSRC,
        sender_info: rtsp_core::rtp::rtcp::SenderInfo {
            ntp_timestamp: ntp,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut bytes = Vec::new();
    RtcpPacket::from(sr).write_to(&mut bytes).unwrap();
    let compound = Compound::parse(&bytes).unwrap();
    let parsed = compound.sender_report().unwrap();
    s.on_sender_report_packet(&parsed, ms(2_000));
    // An SR from someone else is ignored.
    s.on_sender_report(0xbad, NtpTimestamp(0), ms(2_100));

    let block = s.report_block(ms(3_500)).unwrap();
    assert_eq!(block.last_sr, 0x5678_9abc);
    assert_eq!(block.delay_since_last_sr, 3 * 65_536 / 2);
}

#[test]
fn parsed_packets_feed_the_statistics() {
    let mut s = ReceiverStats::new(RATE);
    let mut buf = [0u8; 64];
    for seq in [1u16, 2, 4] {
        let n = RtpHeader::new(26, seq, u32::from(seq) * 4500, SSRC)
            .write(b"frame", &mut buf)
            .unwrap();
        let pkt = RtpPacketRef::parse(&buf[..n]).unwrap();
        s.on_packet(&pkt, ms(u64::from(seq) * 50));
    }
    assert_eq!(s.packets_received(), 3);
    assert_eq!(s.cumulative_lost(), 1);
    assert_eq!(s.bytes_received(), 15);
}

#[test]
fn sender_counters_make_sender_info() {
    let mut tx = SenderStats::new(RATE);
    let mut buf = [0u8; 1500];
    let payload = [0u8; 1000];
    for i in 0..50u32 {
        let header = RtpHeader::new(26, i as u16, i * 4500, SSRC);
        header.write(&payload, &mut buf).unwrap();
        tx.on_packet_sent(header.timestamp, payload.len(), ms(u64::from(i) * 50));
    }
    let ntp = NtpTimestamp::from_unix(Duration::from_secs(1_700_000_000));
    let info = tx.sender_info(ms(49 * 50 + 100), ntp).unwrap();
    assert_eq!(info.packet_count, 50);
    assert_eq!(info.octet_count, 50_000);
    assert_eq!(info.rtp_timestamp, 49 * 4500 + 9000);
    assert_eq!(info.ntp_timestamp, ntp);
}
