//! Sender workers: turn due frames into RTP packets on the wire.
//!
//! Every session is pinned to one sender (see [`crate::server::runtime::shared::sender_for`]), so its packets
//! leave in sequence order without locking. Frames are shared, never copied per session: a
//! standard session's packets are the file's pre-built RFC 2435 payloads with a 12-byte RTP
//! header written in front into a per-worker scratch buffer; a lab session's one packet is the
//! whole JPEG behind a header.
//!
//! Sockets are nonblocking: a send that would block drops the rest of the frame and counts it,
//! so one slow client never stalls the other sessions of the same sender.

use std::io;
use std::net::UdpSocket;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::Receiver;

use crate::rtsp::Dialect;
use crate::server::runtime::shared::session::{Delivery, LiveSession};
use crate::server::runtime::shared::WorkerMsg;
use crate::server::runtime::shared::{Batch, Job, JobKind};
use crate::server::runtime::udp;
use crate::server::runtime::wire;

/// Largest UDP datagram the lab's Python client reads (`recv(20480)`).
pub const LAB_CLIENT_RECV: usize = 20480;
/// How often an RTCP sender report goes out per session (RFC 3550 suggests about 5 s).
pub const SR_INTERVAL: Duration = Duration::from_secs(5);

/// Run a sender until its channel closes or it is told to stop (`None`).
pub fn run(rx: Receiver<Option<Batch>>, clock: crate::server::runtime::clock::Clock) {
    let mut scratch = Vec::with_capacity(64 * 1024);
    let mut ends = Vec::with_capacity(64);
    while let Ok(Some(batch)) = rx.recv() {
        for job in batch {
            run_job(&job, &clock, &mut scratch, &mut ends);
        }
    }
}

fn run_job(
    job: &Job,
    clock: &crate::server::runtime::clock::Clock,
    scratch: &mut Vec<u8>,
    ends: &mut Vec<usize>,
) {
    let session = &job.session;
    match job.kind {
        JobKind::Frame {
            index,
            rtp_timestamp,
        } => {
            session.in_flight.fetch_sub(1, Ordering::AcqRel);
            if session.closed.load(Ordering::Acquire) {
                return;
            }
            let sent = match session.dialect {
                Dialect::Lab => send_lab(session, index, rtp_timestamp, scratch),
                Dialect::Standard => send_standard(session, index, rtp_timestamp, scratch, ends),
            };
            if sent {
                session.stats.frames_sent.fetch_add(1, Ordering::Relaxed);
                maybe_sender_report(session, rtp_timestamp, clock, scratch);
            } else {
                session.stats.frames_dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        JobKind::EndOfStream => {
            tracing::info!(session = session.id.get(), "end of stream");
            send_bye(session, scratch);
        }
        JobKind::EndOfRange => {
            tracing::info!(
                session = session.id.get(),
                at = session.position.load(Ordering::Relaxed),
                "end of range"
            );
            send_bye(session, scratch);
        }
        JobKind::Bye => send_bye(session, scratch),
    }
}

fn send_lab(session: &LiveSession, index: u64, rtp_timestamp: u32, scratch: &mut Vec<u8>) -> bool {
    let Some(frame) = session.source.jpeg(index) else {
        return false;
    };
    let jpeg = frame.as_ref();
    if jpeg.len() > wire::LAB_MAX_JPEG {
        // SETUP refuses files with such frames (or --transcode shrinks them): not reached.
        if !session.warned_large.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                session = session.id.get(),
                frame = index,
                bytes = jpeg.len(),
                "frame larger than one UDP datagram; not sent"
            );
        }
        return false;
    }
    if wire::RTP_HEADER_LEN + jpeg.len() > LAB_CLIENT_RECV
        && !session.warned_large.swap(true, Ordering::Relaxed)
    {
        tracing::warn!(
            session = session.id.get(),
            frame = index,
            bytes = jpeg.len(),
            "frame larger than the lab client's 20480-byte receive buffer; it will see a truncated JPEG"
        );
    }
    // The lab's sequence number is the 1-based frame number.
    let seq = (index + 1) as u16;
    scratch.clear();
    wire::rtp_packet(scratch, false, seq, rtp_timestamp, session.ssrc, jpeg);
    let delivery = session.delivery.read();
    let Some(Delivery::Udp(udp)) = &*delivery else {
        return false;
    };
    match send_to(&udp.rtp, scratch, udp.rtp_dest) {
        Ok(()) => {
            session.stats.packets_sent.fetch_add(1, Ordering::Relaxed);
            session
                .stats
                .octets_sent
                .fetch_add(jpeg.len() as u64, Ordering::Relaxed);
            true
        }
        Err(_) => false,
    }
}

fn send_standard(
    session: &Arc<LiveSession>,
    index: u64,
    ts: u32,
    scratch: &mut Vec<u8>,
    ends: &mut Vec<usize>,
) -> bool {
    let Some(payloads) = session.source.payloads(index) else {
        return false;
    };
    let count = payloads.len();
    let mut seq = session.rtp_seq.load(Ordering::Relaxed);
    let mut octets = 0u64;
    // The frame's packets are built back to back in `scratch` (no allocation once it has grown
    // to the largest frame), then handed over together.
    scratch.clear();
    ends.clear();
    for (i, payload) in payloads.iter().enumerate() {
        wire::rtp_packet(
            scratch,
            i + 1 == count,
            seq as u16,
            ts,
            session.ssrc,
            payload,
        );
        ends.push(scratch.len());
        seq = seq.wrapping_add(1);
        octets += payload.len() as u64;
    }
    let delivery = session.delivery.read();
    let ok = match &*delivery {
        // One segmentation-offload train, or sendmmsg batches: few system calls.
        Some(Delivery::Udp(udp)) => {
            udp::send_packets(&udp.rtp, scratch, ends, udp.rtp_dest).is_ok()
        }
        Some(Delivery::Interleaved { link, rtp_channel }) => {
            // The whole frame as one unit, so the connection worker queues all of it or none.
            let mut data = Vec::with_capacity(scratch.len() + 4 * count);
            let mut start = 0;
            for &end in ends.iter() {
                wire::interleave(
                    &mut data,
                    *rtp_channel,
                    scratch.get(start..end).unwrap_or_default(),
                );
                start = end;
            }
            link.worker
                .send(WorkerMsg::Interleaved {
                    conn: link.conn,
                    session: Arc::clone(session),
                    data,
                    frame: true,
                })
                .is_ok()
        }
        None => false,
    };
    if ok {
        session.rtp_seq.store(seq, Ordering::Relaxed);
        session
            .stats
            .packets_sent
            .fetch_add(count as u64, Ordering::Relaxed);
        session
            .stats
            .octets_sent
            .fetch_add(octets, Ordering::Relaxed);
    }
    ok
}

fn maybe_sender_report(
    session: &Arc<LiveSession>,
    rtp_timestamp: u32,
    clock: &crate::server::runtime::clock::Clock,
    scratch: &mut Vec<u8>,
) {
    if session.dialect == Dialect::Lab {
        return;
    }
    let now = clock.now_ms();
    let last = session.last_sr_ms.load(Ordering::Relaxed);
    let interval = u64::try_from(SR_INTERVAL.as_millis()).unwrap_or(5000);
    if last != 0 && now.saturating_sub(last) < interval {
        return;
    }
    session.last_sr_ms.store(now.max(1), Ordering::Relaxed);
    scratch.clear();
    let packets = session.stats.packets_sent.load(Ordering::Relaxed) as u32;
    let octets = session.stats.octets_sent.load(Ordering::Relaxed) as u32;
    if wire::sender_report(scratch, session.ssrc, rtp_timestamp, packets, octets).is_ok() {
        send_rtcp(session, scratch);
    }
}

fn send_bye(session: &Arc<LiveSession>, scratch: &mut Vec<u8>) {
    if session.dialect == Dialect::Lab {
        return;
    }
    scratch.clear();
    if wire::bye(scratch, session.ssrc).is_ok() {
        send_rtcp(session, scratch);
    }
}

fn send_rtcp(session: &Arc<LiveSession>, packet: &[u8]) {
    let delivery = session.delivery.read();
    match &*delivery {
        Some(Delivery::Udp(udp)) => {
            if let (Some(sock), Some(dest)) = (&udp.rtcp, udp.rtcp_dest) {
                let _ = send_to(sock, packet, dest);
            }
        }
        Some(Delivery::Interleaved { link, rtp_channel }) => {
            let mut data = Vec::with_capacity(packet.len() + 4);
            wire::interleave(&mut data, rtp_channel.saturating_add(1), packet);
            let _ = link.worker.send(WorkerMsg::Interleaved {
                conn: link.conn,
                session: Arc::clone(session),
                data,
                frame: false,
            });
        }
        None => {}
    }
}

fn send_to(socket: &UdpSocket, packet: &[u8], dest: std::net::SocketAddr) -> io::Result<()> {
    loop {
        match socket.send_to(packet, dest) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // ECONNREFUSED from an earlier ICMP port unreachable: the client is not listening
            // (yet); keep going, it may be about to bind.
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}
