#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Depacketizer robustness: loss, reordering, duplication, bad headers, hard limits.

mod jpeg_support;

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use jpeg_encoder::SamplingFactor;
use jpeg_support::*;
use proptest::prelude::*;
use rtsp_core::jpeg::{
    DepacketizedFrame, Depacketizer, DropReason, HeaderError, Packetizer, ParsedJpeg,
};

/// Frames with various sizes, samplings and restart intervals, packetized into 200-byte payloads.
fn corpus() -> &'static [Vec<u8>] {
    static CORPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        vec![
            encode(64, 48, Enc::default()),
            encode(
                48,
                32,
                Enc {
                    sampling: SamplingFactor::F_2_1,
                    restart_interval: 2,
                    seed: 7,
                    ..Enc::default()
                },
            ),
            encode(
                8,
                8,
                Enc {
                    quality: 30,
                    ..Enc::default()
                },
            ),
            encode(
                96,
                64,
                Enc {
                    quality: 95,
                    seed: 3,
                    ..Enc::default()
                },
            ),
        ]
    })
}

fn payloads(jpeg: &[u8], max_payload: usize) -> Vec<Vec<u8>> {
    let frame = ParsedJpeg::parse(jpeg).unwrap();
    Packetizer::with_max_payload(max_payload)
        .unwrap()
        .packetize_to_vec(&frame)
}

/// Pushes a frame's payloads with the marker on the last; returns what was emitted.
fn push_frame(d: &mut Depacketizer, ts: u32, payloads: &[Vec<u8>]) -> Vec<DepacketizedFrame> {
    let n = payloads.len();
    payloads
        .iter()
        .enumerate()
        .filter_map(|(i, p)| d.push(ts, i + 1 == n, p))
        .collect()
}

fn expected(jpeg: &[u8]) -> Vec<u8> {
    ParsedJpeg::parse(jpeg).unwrap().to_rtp_jpeg()
}

fn assert_counters_add_up(d: &Depacketizer) {
    let s = d.stats();
    assert_eq!(
        s.packets_received,
        s.packets_used + s.packets_discarded + d.packets_pending(),
        "{s:?}"
    );
}

#[derive(Debug, Clone)]
struct Packet {
    ts: u32,
    marker: bool,
    payload: Vec<u8>,
    frame: usize,
    index: usize,
}

#[derive(Debug, Clone, Copy)]
enum Damage {
    Drop(prop::sample::Index),
    Duplicate(prop::sample::Index),
    SwapWithNext(prop::sample::Index),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Damage::Drop),
        any::<prop::sample::Index>().prop_map(Damage::Duplicate),
        any::<prop::sample::Index>().prop_map(Damage::SwapWithNext),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever happens to the packets, an emitted frame is byte-identical to what the undamaged
    /// path emits for its timestamp, no timestamp is emitted twice, and the counters add up.
    #[test]
    fn damaged_streams_never_emit_broken_frames(
        frames in proptest::collection::vec(0..4usize, 1..7),
        base_ts in any::<u32>(),
        damages in proptest::collection::vec(damage(), 0..10),
    ) {
        let corpus = corpus();
        let mut packets = Vec::new();
        let mut expected_by_ts = HashMap::new();
        for (f, &which) in frames.iter().enumerate() {
            let ts = base_ts.wrapping_add(3000 * f as u32);
            expected_by_ts.insert(ts, expected(&corpus[which]));
            let ps = payloads(&corpus[which], 200);
            let n = ps.len();
            for (index, payload) in ps.into_iter().enumerate() {
                packets.push(Packet { ts, marker: index + 1 == n, payload, frame: f, index });
            }
        }
        let original = packets.clone();
        let (mut dropped_any, mut moved_any) = (false, false);
        let mut lost: HashSet<(usize, usize)> = HashSet::new();
        for d in &damages {
            if packets.is_empty() {
                break;
            }
            match *d {
                Damage::Drop(i) => {
                    let p = packets.remove(i.index(packets.len()));
                    dropped_any = true;
                    lost.insert((p.frame, p.index));
                }
                Damage::Duplicate(i) => {
                    let i = i.index(packets.len());
                    let p = packets[i].clone();
                    packets.insert(i + 1, p);
                }
                Damage::SwapWithNext(i) => {
                    let i = i.index(packets.len());
                    if i + 1 < packets.len() {
                        packets.swap(i, i + 1);
                        moved_any = true;
                    }
                }
            }
        }
        // A packet removed once but still present as a duplicate is not lost.
        lost.retain(|&(f, i)| !packets.iter().any(|p| p.frame == f && p.index == i));

        let mut d = Depacketizer::new();
        let mut emitted = Vec::new();
        for p in &packets {
            if let Some(frame) = d.push(p.ts, p.marker, &p.payload) {
                emitted.push(frame);
            }
            assert_counters_add_up(&d);
        }

        let mut seen = HashSet::new();
        for frame in &emitted {
            prop_assert!(seen.insert(frame.timestamp), "timestamp emitted twice");
            prop_assert_eq!(&frame.jpeg, &expected_by_ts[&frame.timestamp]);
        }
        let stats = d.stats();
        prop_assert_eq!(stats.frames_complete, emitted.len() as u64);
        prop_assert_eq!(stats.packets_received, packets.len() as u64);
        let delivered: HashSet<usize> = packets.iter().map(|p| p.frame).collect();
        let pending = u64::from(d.packets_pending() > 0);
        prop_assert!(stats.frames_complete + stats.frames_dropped + pending <= delivered.len() as u64);

        if !dropped_any && !moved_any {
            // Undamaged or merely duplicated: every frame arrives.
            prop_assert_eq!(emitted.len(), frames.len());
        }
        if !moved_any {
            // Order kept: exactly the frames that lost no packet arrive, and every other frame
            // that left a trace is counted as dropped (or is still pending at the end).
            let intact: HashSet<u32> = original
                .iter()
                .filter(|p| !lost.iter().any(|&(f, _)| f == p.frame))
                .map(|p| p.ts)
                .collect();
            let got: HashSet<u32> = emitted.iter().map(|f| f.timestamp).collect();
            prop_assert_eq!(got, intact);
            prop_assert_eq!(
                stats.frames_complete + stats.frames_dropped + pending,
                delivered.len() as u64
            );
        }
    }
}

#[test]
fn frames_survive_timestamp_wraparound() {
    let jpeg = &corpus()[0];
    let ps = payloads(jpeg, 300);
    let mut d = Depacketizer::new();
    for ts in [u32::MAX - 3000, u32::MAX, 2999, 5999] {
        let out = push_frame(&mut d, ts, &ps);
        assert_eq!(out.len(), 1, "ts {ts}");
        assert_eq!(out[0].jpeg, expected(jpeg));
    }
    assert_eq!(d.stats().frames_complete, 4);
}

#[test]
fn late_and_duplicate_packets_do_not_resurrect_frames() {
    let jpeg = &corpus()[2];
    let ps = payloads(jpeg, 1400);
    assert_eq!(ps.len(), 1, "single-packet frame");
    let mut d = Depacketizer::new();
    assert_eq!(push_frame(&mut d, 1000, &ps).len(), 1);
    // The same packet again (network duplicate), then a late one of an older frame.
    assert!(d.push(1000, true, &ps[0]).is_none());
    assert!(d.push(500, true, &ps[0]).is_none());
    assert_eq!(push_frame(&mut d, 4000, &ps).len(), 1);
    let s = d.stats();
    assert_eq!(
        (s.frames_complete, s.frames_dropped, s.packets_discarded),
        (2, 0, 2)
    );
    // After a reset (seek, new SSRC) an older timestamp is a new frame.
    d.reset();
    assert_eq!(push_frame(&mut d, 500, &ps).len(), 1);
}

#[test]
fn timestamp_change_mid_frame_drops_only_that_frame() {
    let jpeg = &corpus()[0];
    let ps = payloads(jpeg, 200);
    let mut d = Depacketizer::new();
    // The marker packet is lost.
    for p in &ps[..ps.len() - 1] {
        assert!(d.push(100, false, p).is_none());
    }
    let out = push_frame(&mut d, 3100, &ps);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].timestamp, 3100);
    assert_eq!(d.last_drop(), Some(DropReason::Incomplete));
    assert_eq!(d.stats().frames_dropped, 1);
    assert_eq!(d.stats().packets_discarded, ps.len() as u64 - 1);
    assert_counters_add_up(&d);
}

#[test]
fn gaps_overlaps_and_header_changes_drop_the_frame() {
    let jpeg = &corpus()[3];
    let ps = payloads(jpeg, 200);
    assert!(ps.len() > 4);

    let mut d = Depacketizer::new();
    d.push(1, false, &ps[0]);
    d.push(1, false, &ps[2]);
    assert!(matches!(d.last_drop(), Some(DropReason::Gap { .. })));

    // Overlap: a packet whose data differs from what was received at that offset.
    let mut d = Depacketizer::new();
    d.push(1, false, &ps[0]);
    d.push(1, false, &ps[1]);
    let mut altered = ps[1].clone();
    *altered.last_mut().unwrap() ^= 0x55;
    d.push(1, false, &altered);
    assert!(matches!(d.last_drop(), Some(DropReason::Overlap { .. })));
    assert!(
        push_frame(&mut d, 1, &ps).is_empty(),
        "the rest of a dropped frame is ignored"
    );

    // An exact duplicate is harmless.
    let mut d = Depacketizer::new();
    let mut dup = ps.clone();
    dup.insert(2, ps[1].clone());
    dup.insert(0, ps[0].clone());
    let out = push_frame(&mut d, 1, &dup);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].jpeg, expected(jpeg));
    assert_eq!(d.stats().packets_discarded, 2);

    // Q or size changing mid-frame.
    for byte in [5usize, 6, 7, 4] {
        let mut d = Depacketizer::new();
        d.push(1, false, &ps[0]);
        let mut changed = ps[1].clone();
        changed[byte] = changed[byte].wrapping_add(1);
        d.push(1, false, &changed);
        assert_eq!(
            d.last_drop(),
            Some(DropReason::HeaderChanged),
            "byte {byte}"
        );
    }
}

#[test]
fn missing_first_packet_counts_the_frame_once() {
    let jpeg = &corpus()[0];
    let ps = payloads(jpeg, 200);
    let mut d = Depacketizer::new();
    assert!(push_frame(&mut d, 9, &ps[1..]).is_empty());
    assert_eq!(d.last_drop(), Some(DropReason::MissingStart));
    let s = d.stats();
    assert_eq!(
        (s.frames_dropped, s.packets_discarded),
        (1, ps.len() as u64 - 1)
    );
}

/// Builds a single-packet payload by hand: main header, optional quant header, data.
fn raw_payload(rtp_type: u8, q: u8, quant: Option<(u8, &[u8])>, data: &[u8]) -> Vec<u8> {
    let mut p = vec![0, 0, 0, 0, rtp_type, q, 1, 1];
    if rtp_type >= 64 {
        p.extend_from_slice(&[0, 1, 0xFF, 0xFF]);
    }
    if let Some((precision, tables)) = quant {
        p.extend_from_slice(&[0, precision]);
        p.extend_from_slice(&(tables.len() as u16).to_be_bytes());
        p.extend_from_slice(tables);
    }
    p.extend_from_slice(data);
    p
}

#[test]
fn bad_headers_are_dropped_with_reasons() {
    let tables = [1u8; 128];
    let data = [0x12, 0x34];
    let cases: Vec<(Vec<u8>, DropReason)> = vec![
        (
            raw_payload(2, 50, None, &data),
            DropReason::UnsupportedType(2),
        ),
        (
            raw_payload(66, 50, None, &data),
            DropReason::UnsupportedType(66),
        ),
        (
            raw_payload(130, 50, None, &data),
            DropReason::UnsupportedType(130),
        ),
        (raw_payload(1, 0, None, &data), DropReason::ReservedQ(0)),
        (raw_payload(1, 100, None, &data), DropReason::ReservedQ(100)),
        (raw_payload(1, 127, None, &data), DropReason::ReservedQ(127)),
        (
            raw_payload(1, 255, Some((0, &[])), &data),
            DropReason::MissingQuantTables(255),
        ),
        (
            raw_payload(1, 200, Some((0, &[])), &data),
            DropReason::MissingQuantTables(200),
        ),
        (
            raw_payload(1, 255, Some((1, &tables)), &data),
            DropReason::UnsupportedTablePrecision,
        ),
        (
            raw_payload(1, 255, Some((0, &tables[..100])), &data),
            DropReason::BadQuantTableLength(100),
        ),
        (
            vec![0; 7],
            DropReason::BadHeader(HeaderError::TruncatedMainHeader),
        ),
        (
            vec![0, 0, 0, 0, 65, 50, 1, 1, 0],
            DropReason::BadHeader(HeaderError::TruncatedRestartHeader),
        ),
        (
            vec![0, 0, 0, 0, 1, 255, 1, 1, 0, 0, 0, 128, 1, 2],
            DropReason::BadHeader(HeaderError::TruncatedQuantTables),
        ),
        (
            {
                let mut p = raw_payload(1, 50, None, &data);
                p[6] = 0;
                p
            },
            DropReason::ZeroDimension,
        ),
    ];
    for (payload, reason) in cases {
        let mut d = Depacketizer::new();
        assert!(d.push(1, true, &payload).is_none());
        assert_eq!(d.last_drop(), Some(reason));
        assert_eq!(d.stats().packets_discarded, 1);
        assert_counters_add_up(&d);
    }
    // The same payloads with valid fields go through.
    let mut d = Depacketizer::new();
    assert!(d.push(1, true, &raw_payload(1, 50, None, &data)).is_some());
    assert!(d
        .push(2, true, &raw_payload(65, 255, Some((0, &tables)), &data))
        .is_some());
}

#[test]
fn bad_header_mid_frame_drops_the_frame() {
    let ps = payloads(&corpus()[0], 200);
    let mut d = Depacketizer::new();
    d.push(5, false, &ps[0]);
    d.push(5, false, &ps[1][..5]);
    assert_eq!(
        d.last_drop(),
        Some(DropReason::BadHeader(HeaderError::TruncatedMainHeader))
    );
    assert_eq!(d.stats().frames_dropped, 1);
    assert_counters_add_up(&d);
}

#[test]
fn tables_are_cached_per_q_for_128_to_254_only() {
    let jpeg = &corpus()[1];
    let frame = ParsedJpeg::parse(jpeg).unwrap();
    let with_tables = payloads(jpeg, 300);
    let q_of = |q: u8, strip: bool| -> Vec<Vec<u8>> {
        let mut ps = with_tables.clone();
        for p in &mut ps {
            p[5] = q;
        }
        if strip {
            // Type 64: main (8) + restart (4) headers, then the quant header's length field.
            ps[0][14] = 0;
            ps[0][15] = 0;
            ps[0].drain(16..16 + 128);
        }
        ps
    };
    let mut d = Depacketizer::new();
    assert_eq!(push_frame(&mut d, 0, &q_of(200, true)).len(), 0);
    assert_eq!(d.last_drop(), Some(DropReason::MissingQuantTables(200)));
    let first = push_frame(&mut d, 3000, &q_of(200, false));
    assert_eq!(first[0].jpeg, frame.to_rtp_jpeg());
    let cached = push_frame(&mut d, 6000, &q_of(200, true));
    assert_eq!(cached.len(), 1, "Q=200 without tables uses the cached ones");
    assert_eq!(cached[0].jpeg, frame.to_rtp_jpeg());
    assert_eq!(push_frame(&mut d, 9000, &q_of(201, true)).len(), 0);
    // Q=255 tables are never cached.
    assert_eq!(push_frame(&mut d, 12000, &q_of(255, false)).len(), 1);
    assert_eq!(push_frame(&mut d, 15000, &q_of(255, true)).len(), 0);
    assert_eq!(d.last_drop(), Some(DropReason::MissingQuantTables(255)));
}

#[test]
fn extra_in_band_tables_are_ignored() {
    // Three tables (one per component): types 0/1 use the first two.
    let jpeg = &corpus()[0];
    let mut ps = payloads(jpeg, 400);
    ps[0][10] = 0;
    ps[0][11] = 192;
    let chroma: Vec<u8> = ps[0][12 + 64..12 + 128].to_vec();
    ps[0].splice(12 + 128..12 + 128, chroma);
    let mut d = Depacketizer::new();
    let out = push_frame(&mut d, 0, &ps);
    assert_eq!(out[0].jpeg, expected(jpeg));
}

#[test]
fn eoi_sent_by_the_sender_is_not_doubled() {
    let jpeg = &corpus()[0];
    let mut ps = payloads(jpeg, 250);
    ps.last_mut().unwrap().extend_from_slice(&[0xFF, 0xD9]);
    let mut d = Depacketizer::new();
    let out = push_frame(&mut d, 0, &ps);
    assert_eq!(out[0].jpeg, expected(jpeg));
}

#[test]
fn scan_data_that_would_not_decode_is_dropped() {
    let tables = [1u8; 128];
    let bad_scans: [&[u8]; 5] = [
        &[],                             // nothing to decode
        &[0x12, 0xFF, 0xD9, 0x34],       // EOI in the middle
        &[0x12, 0xFF, 0xC4, 0x34],       // a DHT marker inside the scan
        &[0xFF, 0xD9],                   // only an EOI
        &[0x12, 0xFF, 0xDA, 0x00, 0x01], // a second SOS
    ];
    for scan in bad_scans {
        let mut d = Depacketizer::new();
        assert!(d
            .push(1, true, &raw_payload(1, 255, Some((0, &tables)), scan))
            .is_none());
        assert_eq!(d.last_drop(), Some(DropReason::CorruptScan), "{scan:?}");
        assert_counters_add_up(&d);
    }
    // Stuffing, restart markers and a trailing lone 0xFF are fine.
    let mut d = Depacketizer::new();
    let ok = [0x12, 0xFF, 0x00, 0xFF, 0xD0, 0x34, 0xFF];
    let frame = d
        .push(1, true, &raw_payload(65, 255, Some((0, &tables)), &ok))
        .unwrap();
    assert!(ParsedJpeg::parse(&frame.jpeg).is_ok());
}

#[test]
fn frame_size_limit_is_enforced_without_big_allocations() {
    let jpeg = &corpus()[3];
    let ps = payloads(jpeg, 200);
    let limit = 1500;
    assert!(expected(jpeg).len() > limit);
    let mut d = Depacketizer::with_max_frame_size(limit);
    assert!(push_frame(&mut d, 0, &ps).is_empty());
    assert_eq!(d.last_drop(), Some(DropReason::FrameTooLarge(limit)));
    assert_counters_add_up(&d);

    // A forged offset cannot make the depacketizer allocate: offsets must be contiguous.
    let mut d = Depacketizer::new();
    d.push(1, false, &ps[0]);
    let mut far = ps[1].clone();
    far[1..4].copy_from_slice(&[0xF0, 0x00, 0x00]);
    d.push(1, true, &far);
    assert!(matches!(d.last_drop(), Some(DropReason::Gap { .. })));
    // And data running past the 24-bit offset space is refused outright.
    let mut d = Depacketizer::new();
    let mut huge = vec![0, 0xFF, 0xFF, 0xFF, 1, 50, 1, 1];
    huge.extend_from_slice(&[0; 16]);
    d.push(1, true, &raw_payload(1, 50, None, &[0x12]));
    d.push(2, false, &raw_payload(1, 50, None, &[0x12]));
    d.push(2, true, &huge);
    assert_eq!(d.last_drop(), Some(DropReason::OffsetOverflow));
}

#[test]
fn recycled_buffers_are_reused() {
    let jpeg = &corpus()[0];
    let ps = payloads(jpeg, 1400);
    let mut d = Depacketizer::new();
    let first = push_frame(&mut d, 0, &ps).pop().unwrap();
    let ptr = first.jpeg.as_ptr();
    d.recycle(first.jpeg);
    let second = push_frame(&mut d, 3000, &ps).pop().unwrap();
    assert_eq!(second.jpeg.as_ptr(), ptr);
    assert_eq!(second.jpeg, expected(jpeg));
}

#[test]
fn many_frames_in_a_row_are_all_emitted() {
    let mut d = Depacketizer::new();
    let mut ts = 0u32;
    for round in 0..5 {
        for jpeg in corpus() {
            let out = push_frame(&mut d, ts, &payloads(jpeg, 160 + round * 300));
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].jpeg, expected(jpeg));
            let decoded = decode(&out[0].jpeg);
            assert!(decoded.2 == decode(jpeg).2);
            ts = ts.wrapping_add(4500);
        }
    }
    let s = d.stats();
    assert_eq!(
        (s.frames_complete, s.frames_dropped, s.packets_discarded),
        (20, 0, 0)
    );
}

/// Splits `scan` at `cut` into two type-1, Q=50 payloads with the right fragment offsets.
fn two_fragments(scan: &[u8], cut: usize) -> [Vec<u8>; 2] {
    let (head, tail) = scan.split_at(cut);
    let mut second = raw_payload(1, 50, None, tail);
    second[1..4].copy_from_slice(&(cut as u32).to_be_bytes()[1..]);
    [raw_payload(1, 50, None, head), second]
}

#[test]
fn markers_are_caught_wherever_fragments_and_blocks_split_them() {
    // Entropy-coded filler with stuffing and a restart marker, long enough to span several of the
    // 64-byte blocks the scan is checked in.
    let mut clean = vec![0x55u8; 300];
    clean[10..12].copy_from_slice(&[0xFF, 0x00]);
    clean[40..42].copy_from_slice(&[0xFF, 0xD3]);
    let mut d = Depacketizer::new();
    let mut ts = 0;
    for at in 56..140 {
        // A premature EOI, a DHT marker and fill before EOI at `at`, cut at and around it, so that
        // the 0xFF ends one fragment and its marker code starts the next.
        let mut eoi = clean.clone();
        eoi[at..at + 2].copy_from_slice(&[0xFF, 0xD9]);
        let mut dht = clean.clone();
        dht[at..at + 2].copy_from_slice(&[0xFF, 0xC4]);
        let mut fill = clean.clone();
        fill[at..at + 3].copy_from_slice(&[0xFF, 0xFF, 0xD9]);
        let mut stuffed = clean.clone();
        stuffed[at..at + 2].copy_from_slice(&[0xFF, 0x00]);
        for cut in [at - 1, at, at + 1, at + 2, at + 3, 64, 65, 128] {
            for (scan, good) in [
                (&eoi, false),
                (&dht, false),
                (&fill, false),
                (&stuffed, true),
            ] {
                ts += 3000;
                let frames = push_frame(&mut d, ts, &two_fragments(scan, cut));
                if good {
                    assert_eq!(frames.len(), 1, "at {at} cut {cut}");
                    let parsed = ParsedJpeg::parse(&frames[0].jpeg).unwrap();
                    assert_eq!(parsed.scan_data(), scan.as_slice());
                } else {
                    assert!(frames.is_empty(), "at {at} cut {cut}: {scan:02X?}");
                    assert_eq!(d.last_drop(), Some(DropReason::CorruptScan));
                }
            }
        }
    }
    assert_counters_add_up(&d);
    // A 0xFF ending a fragment is decided by the next fragment's first byte, here stuffing.
    for cut in [1, 63, 64, 65, 299] {
        let mut scan = clean.clone();
        scan[cut - 1] = 0xFF;
        scan[cut] = 0x00;
        ts += 3000;
        let frames = push_frame(&mut d, ts, &two_fragments(&scan, cut));
        assert_eq!(frames.len(), 1, "cut {cut}");
    }
}
