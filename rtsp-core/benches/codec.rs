#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Micro-benchmarks of the hot paths: RTP header encode/decode, RFC 2435 packetize and
//! depacketize of the sample's frames (against a plain memcpy of the same bytes), RTSP request
//! parsing and SDP writing.
//!
//! `cargo bench -p rtsp-core --bench codec`; the final lines print packetize, depacketize and
//! combined (bytes / (t_packetize + t_depacketize)) throughput, in MB/s and as a percentage of a
//! memcpy of the same bytes.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use rtsp_core::jpeg::{Depacketizer, Packetizer, ParsedJpeg};
use rtsp_core::rtp::{RtpHeader, RtpPacketRef};
use rtsp_core::rtsp::MessageParser;
use rtsp_core::sdp::SessionDescription;

/// Frames of the sample file (lab `.Mjpeg`: 5 ASCII digits of length, then the JPEG).
fn sample_frames() -> Vec<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../media/movie.Mjpeg");
    let data = std::fs::read(&path).expect("media/movie.Mjpeg");
    let mut frames = Vec::new();
    let mut rest = data.as_slice();
    while rest.len() >= 5 {
        let len: usize = std::str::from_utf8(&rest[..5])
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        frames.push(rest[5..5 + len].to_vec());
        rest = &rest[5 + len..];
    }
    frames
}

/// Packetizes every frame for a vectored send: parse, then per fragment an RTP header plus the
/// RFC 2435 headers and the borrowed scan data as I/O slices (what `sendmsg`/`sendmmsg` take; the
/// kernel copies the bytes into the datagram). Returns the number of packets.
fn packetize_iov(frames: &[Vec<u8>], p: &Packetizer, hdrs: &mut Vec<[u8; 12]>) -> usize {
    let mut n = 0;
    let mut seq = 0u16;
    let mut bytes = 0;
    hdrs.clear();
    for (i, f) in frames.iter().enumerate() {
        let jpeg = ParsedJpeg::parse(f).unwrap();
        for frag in p.fragments(&jpeg) {
            let mut h = RtpHeader::new(26, seq, (i as u32) * 4500, 0x1234_5678);
            h.marker = frag.is_last();
            // Written in place, as into the header slot of an iovec array.
            hdrs.push([0u8; 12]);
            h.write_header(hdrs.last_mut().unwrap()).unwrap();
            let iov = frag.parts();
            bytes += black_box(&iov).iter().map(|part| part.len()).sum::<usize>();
            seq = seq.wrapping_add(1);
            n += 1;
        }
    }
    black_box(bytes);
    n
}

/// Packetizes every frame into RTP packets written into `out` (reused buffers): parse, RTP header,
/// RFC 2435 headers and a copy of the scan data per packet, as a sender that keeps datagrams.
fn packetize_all(frames: &[Vec<u8>], p: &Packetizer, out: &mut Vec<Vec<u8>>) -> usize {
    let mut n = 0;
    let mut seq = 0u16;
    for (i, f) in frames.iter().enumerate() {
        let jpeg = ParsedJpeg::parse(f).unwrap();
        for frag in p.fragments(&jpeg) {
            if out.len() <= n {
                out.push(Vec::with_capacity(1500));
            }
            let pkt = &mut out[n];
            pkt.clear();
            let mut h = RtpHeader::new(26, seq, (i as u32) * 4500, 0x1234_5678);
            h.marker = frag.is_last();
            let mut hdr = [0u8; 12];
            let len = h.write_header(&mut hdr).unwrap();
            pkt.extend_from_slice(&hdr[..len]);
            frag.write_to(pkt);
            seq = seq.wrapping_add(1);
            n += 1;
        }
    }
    n
}

fn depacketize_all(packets: &[Vec<u8>], d: &mut Depacketizer) -> usize {
    let mut frames = 0;
    for pkt in packets {
        let p = RtpPacketRef::parse(pkt).unwrap();
        if let Some(f) = d.push(p.timestamp(), p.marker(), p.payload()) {
            frames += 1;
            d.recycle(f.jpeg);
        }
    }
    frames
}

fn rtp(c: &mut Criterion) {
    let payload = vec![0x5Au8; 1400];
    let mut buf = vec![0u8; 1500];
    let mut g = c.benchmark_group("rtp");
    g.throughput(Throughput::Bytes(1412));
    g.bench_function("encode_1400", |b| {
        let mut seq = 0u16;
        b.iter(|| {
            seq = seq.wrapping_add(1);
            let mut h = RtpHeader::new(26, seq, 4500, 42);
            h.marker = true;
            black_box(h.write(black_box(&payload), &mut buf).unwrap())
        })
    });
    let mut pkt = Vec::new();
    RtpHeader::new(26, 1, 4500, 42)
        .write_to_vec(&payload, &mut pkt)
        .unwrap();
    g.bench_function("decode_1400", |b| {
        b.iter(|| {
            let p = RtpPacketRef::parse(black_box(&pkt)).unwrap();
            black_box((p.sequence_number(), p.timestamp(), p.payload().len()))
        })
    });
    g.finish();
}

/// Copies every frame into one buffer: the memcpy baseline for the same bytes.
fn memcpy_all(frames: &[Vec<u8>], dst: &mut [u8]) {
    let mut at = 0;
    for f in frames {
        dst[at..at + f.len()].copy_from_slice(black_box(f));
        at += f.len();
    }
    black_box(dst);
}

fn jpeg(c: &mut Criterion) {
    let frames = sample_frames();
    let total: usize = frames.iter().map(Vec::len).sum();
    let p = Packetizer::new();
    let mut packets = Vec::new();
    let n = packetize_all(&frames, &p, &mut packets);
    packets.truncate(n);
    let mut g = c.benchmark_group("rfc2435");
    g.throughput(Throughput::Bytes(total as u64));
    g.sample_size(20);
    g.bench_function("parse_sample", |b| {
        b.iter(|| {
            for f in &frames {
                black_box(ParsedJpeg::parse(black_box(f)).unwrap());
            }
        })
    });
    g.bench_function("packetize_sample", |b| {
        let mut hdrs = Vec::new();
        b.iter(|| black_box(packetize_iov(black_box(&frames), &p, &mut hdrs)))
    });
    g.bench_function("packetize_copy_sample", |b| {
        let mut out = Vec::new();
        b.iter(|| black_box(packetize_all(black_box(&frames), &p, &mut out)))
    });
    g.bench_function("depacketize_sample", |b| {
        let mut d = Depacketizer::new();
        b.iter(|| black_box(depacketize_all(black_box(&packets), &mut d)))
    });
    g.bench_function("memcpy_sample", |b| {
        let mut dst = vec![0u8; total];
        b.iter(|| memcpy_all(&frames, &mut dst))
    });
    g.finish();
}

fn rtsp(c: &mut Criterion) {
    let req = b"SETUP rtsp://127.0.0.1:8554/movie.Mjpeg/track1 RTSP/1.0\r\nCSeq: 3\r\n\
User-Agent: Lavf59.27.100\r\nTransport: RTP/AVP/UDP;unicast;client_port=5000-5001\r\n\r\n";
    let mut g = c.benchmark_group("rtsp");
    g.throughput(Throughput::Bytes(req.len() as u64));
    g.bench_function("parse_setup_request", |b| {
        b.iter(|| {
            let mut parser = MessageParser::new();
            parser.push(black_box(req)).unwrap();
            black_box(parser.next().unwrap().unwrap())
        })
    });
    g.finish();
    c.bench_function("sdp/write", |b| {
        b.iter(|| {
            black_box(
                SessionDescription::new(black_box(42), "movie.Mjpeg")
                    .to_sdp()
                    .unwrap(),
            )
        })
    });
}

/// Times `f` over at least `min` wall time and returns seconds per call.
fn time_per_call(min: Duration, mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    let mut calls = 0u32;
    while start.elapsed() < min {
        f();
        calls += 1;
    }
    start.elapsed().as_secs_f64() / f64::from(calls.max(1))
}

/// Prints packetize, depacketize and combined throughput against memcpy of the same bytes.
///
/// The machine may be shared, so every stage is timed in several interleaved rounds and the best
/// round counts: interference only ever slows a round down, and interleaving exposes all stages to
/// the same conditions, which keeps the ratios steadier than the absolute speeds.
///
/// Combined throughput = bytes / (t_packetize + t_depacketize): the rate at which one core could
/// carry the sample's JPEG bytes through the sender's and the receiver's RFC 2435 work, one after
/// the other. As a ratio to memcpy it is 1 / (1 / r_packetize + 1 / r_depacketize), half the
/// harmonic mean of the two single ratios: two stages each as fast as memcpy score 50 %.
fn ratio_report() {
    const ROUNDS: usize = 3;
    let frames = sample_frames();
    let total: usize = frames.iter().map(Vec::len).sum();
    let p = Packetizer::new();
    let mut out = Vec::new();
    let n = packetize_all(&frames, &p, &mut out);
    let packets = out[..n].to_vec();
    let mut hdrs = Vec::new();
    let mut d = Depacketizer::new();
    let mut dst = vec![0u8; total];
    let min = Duration::from_millis(700);
    let mut best = [f64::INFINITY; 5];
    for _ in 0..ROUNDS {
        let times = [
            time_per_call(min, || memcpy_all(&frames, &mut dst)),
            time_per_call(min, || {
                black_box(packetize_iov(&frames, &p, &mut hdrs));
            }),
            time_per_call(min, || {
                black_box(packetize_all(&frames, &p, &mut out));
            }),
            time_per_call(min, || {
                black_box(depacketize_all(&packets, &mut d));
            }),
            time_per_call(min, || {
                for f in &frames {
                    black_box(ParsedJpeg::parse(black_box(f)).unwrap());
                }
            }),
        ];
        for (b, t) in best.iter_mut().zip(times) {
            *b = b.min(t);
        }
    }
    let [copy, pack, pack_copy, depack, parse] = best;
    let line = |name: &str, t: f64| {
        println!(
            "  {name:<44} {:>7.0} MB/s {:>6.1} % of memcpy",
            total as f64 / t / 1e6,
            copy / t * 100.0
        );
    };
    println!(
        "\nRFC 2435 over the sample's {} frames ({total} bytes of JPEG), best of {ROUNDS} rounds:",
        frames.len()
    );
    line("memcpy of the same bytes", copy);
    line("parse only (ParsedJpeg::parse)", parse);
    line("packetize (parse + fragments as I/O slices)", pack);
    line("packetize, copied into RTP packet buffers", pack_copy);
    line("depacketize (RTP packets to JFIF frames)", depack);
    line("combined: packetize + depacketize", pack + depack);
    line("combined, with the copying packetize", pack_copy + depack);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    rtp(&mut c);
    jpeg(&mut c);
    rtsp(&mut c);
    c.final_summary();
    // `--profile-time` runs one benchmark under a profiler: nothing else should run then.
    if !std::env::args().any(|a| a == "--profile-time") {
        ratio_report();
    }
}
