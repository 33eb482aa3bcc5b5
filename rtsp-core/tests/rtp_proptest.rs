#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property tests: RTP and RTCP write -> parse round trips, and parsers that never panic on
//! arbitrary or mutated bytes.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use rtsp_core::rtp::lab::{LabRtpHeader, LabRtpPacketRef};
use rtsp_core::rtp::ntp::NtpTimestamp;
use rtsp_core::rtp::rtcp::*;
use rtsp_core::rtp::{CsrcList, ReorderBuffer, RtpExtension, RtpHeader, RtpPacketRef};

// ---------------------------------------------------------------- RTP

fn words(max_words: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<[u8; 4]>(), 0..=max_words).prop_map(|w| w.concat())
}

#[derive(Debug, Clone)]
struct RtpSpec {
    marker: bool,
    payload_type: u8,
    seq: u16,
    timestamp: u32,
    ssrc: u32,
    csrcs: Vec<u32>,
    extension: Option<(u16, Vec<u8>)>,
    padding: u8,
    payload: Vec<u8>,
}

fn rtp_spec() -> impl Strategy<Value = RtpSpec> {
    (
        any::<bool>(),
        0u8..128,
        any::<u16>(),
        any::<u32>(),
        any::<u32>(),
        vec(any::<u32>(), 0..=15),
        option::of((any::<u16>(), words(8))),
        any::<u8>(),
        vec(any::<u8>(), 0..400),
    )
        .prop_map(
            |(marker, payload_type, seq, timestamp, ssrc, csrcs, extension, padding, payload)| {
                RtpSpec {
                    marker,
                    payload_type,
                    seq,
                    timestamp,
                    ssrc,
                    csrcs,
                    extension,
                    padding,
                    payload,
                }
            },
        )
}

impl RtpSpec {
    fn header(&self) -> RtpHeader<'_> {
        RtpHeader {
            marker: self.marker,
            payload_type: self.payload_type,
            sequence_number: self.seq,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
            csrcs: CsrcList::from_slice(&self.csrcs).unwrap(),
            extension: self.extension.as_ref().map(|(profile, data)| RtpExtension {
                profile: *profile,
                data,
            }),
            padding: self.padding,
        }
    }
}

/// Reads every field of a parsed packet, and checks that writing it back reproduces the bytes
/// (padding contents aside, which are written as zeros).
fn check_rtp_rebuild(data: &[u8]) {
    let Ok(pkt) = RtpPacketRef::parse(data) else {
        return;
    };
    let header = pkt.header();
    assert_eq!(pkt.csrcs().count(), usize::from(pkt.csrc_count()));
    assert_eq!(
        pkt.header_len() + pkt.payload().len() + usize::from(pkt.padding()),
        data.len()
    );
    let mut buf = vec![0u8; data.len()];
    let n = header.write(pkt.payload(), &mut buf).unwrap();
    assert_eq!(n, data.len());
    let unpadded = data.len() - usize::from(pkt.padding());
    assert_eq!(buf[..unpadded], data[..unpadded]);
    if pkt.has_padding() {
        assert_eq!(buf.last(), data.last());
    }
    let again = RtpPacketRef::parse(&buf).unwrap();
    assert_eq!(again.header(), header);
    assert_eq!(again.payload(), pkt.payload());
}

proptest! {
    #[test]
    fn rtp_write_parse_round_trip(spec in rtp_spec()) {
        let header = spec.header();
        let mut buf = vec![0u8; header.packet_len(spec.payload.len())];
        let n = header.write(&spec.payload, &mut buf).unwrap();
        prop_assert_eq!(n, buf.len());

        let pkt = RtpPacketRef::parse(&buf).unwrap();
        prop_assert_eq!(pkt.header(), header);
        prop_assert_eq!(pkt.payload(), &spec.payload[..]);
        prop_assert_eq!(pkt.version(), 2);
        prop_assert_eq!(pkt.marker(), spec.marker);
        prop_assert_eq!(pkt.payload_type(), spec.payload_type);
        prop_assert_eq!(pkt.sequence_number(), spec.seq);
        prop_assert_eq!(pkt.timestamp(), spec.timestamp);
        prop_assert_eq!(pkt.ssrc(), spec.ssrc);
        prop_assert_eq!(pkt.csrcs().collect::<Vec<_>>(), spec.csrcs.clone());
        prop_assert_eq!(pkt.padding(), spec.padding);

        // The Vec writer appends the same bytes.
        let mut v = vec![0xaa];
        header.write_to_vec(&spec.payload, &mut v).unwrap();
        prop_assert_eq!(&v[1..], &buf[..]);

        // One byte short is a clean error.
        let short = header.write(&spec.payload, &mut buf[..n - 1]);
        prop_assert!(short.is_err());
    }

    #[test]
    fn lab_encode_decode_round_trip(
        seq in any::<u32>(),
        ssrc in any::<u32>(),
        ts in any::<u32>(),
        marker in 0u8..2,
        cc in 0u8..16,
        payload in vec(any::<u8>(), 0..200),
    ) {
        let header = LabRtpHeader { marker, cc, ..LabRtpHeader::lab_defaults(seq, ssrc, ts) };
        let mut out = Vec::new();
        let n = header.encode_to_vec(&payload, &mut out);
        prop_assert_eq!(n, 12 + payload.len());
        let lab = LabRtpPacketRef::parse(&out).unwrap();
        prop_assert_eq!(lab.version(), 2);
        prop_assert_eq!(lab.seq_num(), seq as u16);
        prop_assert_eq!(lab.timestamp(), ts);
        prop_assert_eq!(lab.ssrc(), ssrc);
        prop_assert_eq!(lab.payload_type(), 26);
        prop_assert_eq!(lab.marker(), marker == 1);
        prop_assert_eq!(lab.cc(), cc);
        prop_assert_eq!(lab.payload(), &payload[..]);
        if cc == 0 && seq <= 0xffff {
            let strict = header.to_strict().unwrap();
            let pkt = RtpPacketRef::parse(&out).unwrap();
            prop_assert_eq!(pkt.header(), strict);
            prop_assert_eq!(pkt.payload(), &payload[..]);
        } else {
            prop_assert!(header.to_strict().is_err());
        }
    }

    #[test]
    fn random_bytes_never_panic_the_rtp_parsers(data in vec(any::<u8>(), 0..300)) {
        check_rtp_rebuild(&data);
        if let Ok(lab) = LabRtpPacketRef::parse(&data) {
            prop_assert_eq!(lab.payload().len() + 12, data.len());
        }
    }

    #[test]
    fn mutated_rtp_packets_never_panic(
        spec in rtp_spec(),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let header = spec.header();
        let mut buf = vec![0u8; header.packet_len(spec.payload.len())];
        header.write(&spec.payload, &mut buf).unwrap();
        for (at, byte) in flips {
            let i = at.index(buf.len());
            buf[i] = byte;
        }
        check_rtp_rebuild(&buf);
        check_rtp_rebuild(&buf[..cut.index(buf.len() + 1)]);
    }
}

// ---------------------------------------------------------------- RTCP

/// An SDES chunk: SSRC and (type, value) items.
type ChunkSpec = (u32, Vec<(u8, Vec<u8>)>);

#[derive(Debug, Clone)]
enum Spec {
    Sr {
        ssrc: u32,
        info: SenderInfo,
        blocks: Vec<ReportBlock>,
        ext: Vec<u8>,
    },
    Rr {
        ssrc: u32,
        blocks: Vec<ReportBlock>,
        ext: Vec<u8>,
    },
    Sdes {
        chunks: Vec<ChunkSpec>,
    },
    Bye {
        ssrcs: Vec<u32>,
        reason: Option<Vec<u8>>,
    },
    App {
        subtype: u8,
        ssrc: u32,
        name: [u8; 4],
        data: Vec<u8>,
    },
    Raw {
        packet_type: u8,
        count: u8,
        body: Vec<u8>,
    },
}

fn report_block() -> impl Strategy<Value = ReportBlock> {
    (
        any::<u32>(),
        any::<u8>(),
        -0x80_0000i32..=0x7f_ffff,
        any::<[u32; 4]>(),
    )
        .prop_map(
            |(ssrc, fraction_lost, cumulative_lost, [ehs, jitter, lsr, dlsr])| ReportBlock {
                ssrc,
                fraction_lost,
                cumulative_lost,
                extended_highest_seq: ehs,
                jitter,
                last_sr: lsr,
                delay_since_last_sr: dlsr,
            },
        )
}

fn sender_info() -> impl Strategy<Value = SenderInfo> {
    any::<(u64, u32, u32, u32)>().prop_map(|(ntp, rtp, packets, octets)| SenderInfo {
        ntp_timestamp: NtpTimestamp(ntp),
        rtp_timestamp: rtp,
        packet_count: packets,
        octet_count: octets,
    })
}

fn text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => vec(any::<u8>(), 0..24),
        1 => vec(any::<u8>(), 0..=255),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    prop_oneof![
        (
            any::<u32>(),
            sender_info(),
            vec(report_block(), 0..=31),
            words(3)
        )
            .prop_map(|(ssrc, info, blocks, ext)| Spec::Sr {
                ssrc,
                info,
                blocks,
                ext
            }),
        (any::<u32>(), vec(report_block(), 0..=31), words(3))
            .prop_map(|(ssrc, blocks, ext)| Spec::Rr { ssrc, blocks, ext }),
        vec((any::<u32>(), vec((1u8..=255, text()), 0..5)), 0..6)
            .prop_map(|chunks| Spec::Sdes { chunks }),
        (vec(any::<u32>(), 0..=31), option::of(text()))
            .prop_map(|(ssrcs, reason)| Spec::Bye { ssrcs, reason }),
        (0u8..32, any::<u32>(), any::<[u8; 4]>(), words(6)).prop_map(
            |(subtype, ssrc, name, data)| Spec::App {
                subtype,
                ssrc,
                name,
                data
            }
        ),
        (prop_oneof![0u8..200, 205u8..=255], 0u8..32, words(6)).prop_map(
            |(packet_type, count, body)| Spec::Raw {
                packet_type,
                count,
                body
            }
        ),
    ]
}

/// Builds borrowed packets from the owned specs and hands them to `f`.
fn with_packets<R>(specs: &[Spec], f: impl FnOnce(&[RtcpPacket<'_>]) -> R) -> R {
    let items: Vec<Vec<Vec<SdesItem<'_>>>> = specs
        .iter()
        .map(|s| match s {
            Spec::Sdes { chunks } => chunks
                .iter()
                .map(|(_, items)| {
                    items
                        .iter()
                        .map(|(kind, value)| SdesItem::new(SdesItemType(*kind), value))
                        .collect()
                })
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    let chunks: Vec<Vec<SdesChunk<'_>>> = specs
        .iter()
        .zip(&items)
        .map(|(s, items)| match s {
            Spec::Sdes { chunks } => chunks
                .iter()
                .zip(items)
                .map(|((ssrc, _), items)| SdesChunk {
                    ssrc: *ssrc,
                    items: SdesItems::from_slice(items),
                })
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    let packets: Vec<RtcpPacket<'_>> = specs
        .iter()
        .zip(&chunks)
        .map(|(s, chunks)| match s {
            Spec::Sr {
                ssrc,
                info,
                blocks,
                ext,
            } => SenderReport {
                ssrc: *ssrc,
                sender_info: *info,
                report_blocks: ReportBlocks::from_slice(blocks),
                profile_extension: ext,
            }
            .into(),
            Spec::Rr { ssrc, blocks, ext } => ReceiverReport {
                ssrc: *ssrc,
                report_blocks: ReportBlocks::from_slice(blocks),
                profile_extension: ext,
            }
            .into(),
            Spec::Sdes { .. } => SourceDescription {
                chunks: SdesChunks::from_slice(chunks),
            }
            .into(),
            Spec::Bye { ssrcs, reason } => Goodbye {
                ssrcs: SsrcList::from_slice(ssrcs),
                reason: reason.as_deref(),
            }
            .into(),
            Spec::App {
                subtype,
                ssrc,
                name,
                data,
            } => App {
                subtype: *subtype,
                ssrc: *ssrc,
                name: *name,
                data,
            }
            .into(),
            Spec::Raw {
                packet_type,
                count,
                body,
            } => RawPacket {
                packet_type: *packet_type,
                count: *count,
                body,
            }
            .into(),
        })
        .collect();
    f(&packets)
}

/// Walks everything in a packet (all lazily decoded lists) and returns a checksum so the
/// work cannot be optimized away.
fn touch(p: &RtcpPacket<'_>) -> u64 {
    let blocks = |b: &ReportBlocks<'_>| {
        assert_eq!(b.iter().count(), b.len());
        b.iter()
            .map(|r| {
                u64::from(r.ssrc) + u64::from(r.jitter) + r.cumulative_lost.unsigned_abs() as u64
            })
            .sum::<u64>()
    };
    match p {
        RtcpPacket::SenderReport(sr) => {
            blocks(&sr.report_blocks)
                + sr.sender_info.ntp_timestamp.0 % 7
                + sr.profile_extension.len() as u64
        }
        RtcpPacket::ReceiverReport(rr) => {
            blocks(&rr.report_blocks) + rr.profile_extension.len() as u64
        }
        RtcpPacket::SourceDescription(sdes) => {
            assert_eq!(sdes.chunks.iter().count(), sdes.chunks.len());
            sdes.chunks
                .iter()
                .map(|c| {
                    c.items
                        .iter()
                        .map(|i| {
                            assert_ne!(i.kind.0, 0);
                            i.value.len() as u64 + u64::from(i.kind.0)
                        })
                        .sum::<u64>()
                        + u64::from(c.ssrc)
                })
                .sum()
        }
        RtcpPacket::Goodbye(bye) => {
            assert_eq!(bye.ssrcs.iter().count(), bye.ssrcs.len());
            bye.ssrcs.iter().map(u64::from).sum::<u64>() + bye.reason.map_or(0, |r| r.len() as u64)
        }
        RtcpPacket::App(app) => app.data.len() as u64 + u64::from(app.subtype),
        RtcpPacket::Unknown(raw) => raw.body.len() as u64 + u64::from(raw.packet_type),
    }
}

/// The fuzz-target check: whatever parses can be written back and parses to the same packets.
fn check_rtcp_rebuild(data: &[u8]) {
    let Ok(compound) = Compound::parse(data) else {
        return;
    };
    let packets: Vec<_> = compound.iter().collect();
    assert_eq!(packets.len(), compound.len());
    let _ = packets.iter().map(touch).fold(0u64, u64::wrapping_add);
    let mut out = Vec::new();
    match write_compound(&packets, &mut out) {
        Ok(n) => assert_eq!(n, out.len()),
        // Only possible when a tolerated missing SDES terminator pushes a maximal packet over.
        Err(e) => {
            assert!(matches!(e, RtcpWriteError::PacketTooLong { .. }), "{e}");
            return;
        }
    }
    assert!(out.len() <= data.len() + 4 * packets.len());
    let again = Compound::parse(&out).unwrap();
    let reparsed: Vec<_> = again.iter().collect();
    assert_eq!(reparsed, packets);
}

proptest! {
    #[test]
    fn rtcp_compound_write_parse_round_trip(specs in vec(spec(), 1..6)) {
        with_packets(&specs, |packets| {
            let mut out = Vec::new();
            let n = write_compound(packets, &mut out).unwrap();
            assert_eq!(n, out.len());
            let expected_len: usize = packets.iter().map(|p| p.encoded_len().unwrap()).sum();
            assert_eq!(n, expected_len);
            let compound = Compound::parse(&out).unwrap();
            let parsed: Vec<_> = compound.iter().collect();
            assert_eq!(&parsed[..], packets);
            let first_is_report = matches!(specs[0], Spec::Sr { .. } | Spec::Rr { .. });
            assert_eq!(compound.issues().first_not_report, !first_is_report);
            assert!(!compound.issues().padding_not_last);
            assert_eq!(Compound::parse_strict(&out).is_ok(), first_is_report);
            // Writing the parsed packets gives the same bytes again.
            let mut again = Vec::new();
            write_compound(&parsed, &mut again).unwrap();
            assert_eq!(again, out);
        });
    }

    #[test]
    fn random_bytes_never_panic_the_rtcp_parser(data in vec(any::<u8>(), 0..400)) {
        check_rtcp_rebuild(&data);
    }

    /// Random bytes rarely get past the version check; start from valid compounds instead.
    #[test]
    fn mutated_rtcp_compounds_never_panic(
        specs in vec(spec(), 1..4),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut out = Vec::new();
        with_packets(&specs, |packets| write_compound(packets, &mut out).unwrap());
        for (at, byte) in flips {
            let i = at.index(out.len());
            out[i] = byte;
        }
        check_rtcp_rebuild(&out);
        check_rtcp_rebuild(&out[..cut.index(out.len() + 1)]);
    }

    /// Whatever order packets arrive in, the reorder buffer releases each at most once, in
    /// increasing sequence order, and a flush releases every buffered one.
    #[test]
    fn reorder_buffer_releases_in_order(
        start in any::<u16>(),
        offsets in vec(0u16..40, 1..120),
        window in 1usize..48,
    ) {
        let mut rb = ReorderBuffer::new(window, std::time::Duration::from_millis(30));
        let mut released: Vec<u16> = Vec::new();
        let mut accepted = 0usize;
        for (i, off) in offsets.iter().enumerate() {
            let seq = start.wrapping_add(*off);
            let now = std::time::Duration::from_millis(i as u64);
            if rb.push(seq, seq, now) == rtsp_core::rtp::PushOutcome::Buffered {
                accepted += 1;
            }
            while let Some(r) = rb.pop(now) {
                prop_assert_eq!(r.item, r.seq);
                released.push(r.seq);
            }
            prop_assert!(rb.len() <= window);
        }
        rb.flush();
        while let Some(r) = rb.pop(std::time::Duration::ZERO) {
            released.push(r.seq);
        }
        prop_assert_eq!(released.len() as u64 + rb.overflow_drops(), accepted as u64);
        for pair in released.windows(2) {
            let d = pair[1].wrapping_sub(pair[0]);
            prop_assert!(d != 0 && d < 0x8000, "{:?}", pair);
        }
    }
}
