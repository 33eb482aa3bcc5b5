//! Putting a worker's due frames on the wire: UDP frames of all its sessions gathered into one
//! [`UdpBatch`] per wake-up, TCP-interleaved frames queued on their connections as shared
//! payloads behind per-session headers, RTCP sender reports and BYEs.
//!
//! Frames are shared, never copied per session: a standard session's packets are the media's
//! pre-built RFC 2435 payloads behind the session's own 12-byte RTP header (SSRC, sequence,
//! timestamp); a lab session's one packet is the whole JPEG behind a header.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::rtsp::Dialect;
use crate::server::runtime::clock::Clock;
use crate::server::runtime::conn::{ConnState, InterleavedFrame};
use crate::server::runtime::playout::Action;
use crate::server::runtime::shared::session::{Delivery, LiveSession};
use crate::server::runtime::shared::{ConnId, WorkerMsg, WorkerPorts};
use crate::server::runtime::source::Packetized;
use crate::server::runtime::udp::{self, Body, FrameId, UdpBatch};
use crate::server::runtime::wire;

/// Largest UDP datagram the lab's Python client reads (`recv(20480)`).
pub const LAB_CLIENT_RECV: usize = 20480;
/// How often an RTCP sender report goes out per session (RFC 3550 suggests about 5 s).
pub const SR_INTERVAL: Duration = Duration::from_secs(5);
/// Most bytes queued for one connection; interleaved frames beyond it are dropped whole (the
/// connection stays open: a reader that pauses for a moment must find it there).
pub const MAX_OUTBOUND: usize = 4 << 20;

/// The connections of the worker, as the sending side needs them.
pub struct Conns<'a> {
    /// Connections by id.
    pub map: &'a mut HashMap<ConnId, ConnState>,
    /// Connections with new output since the last flush.
    pub pending: &'a mut HashSet<ConnId>,
}

/// A UDP frame waiting for the batch's verdict.
struct Queued {
    session: Arc<LiveSession>,
    frame: FrameId,
    packets: u64,
    octets: u64,
    rtp_timestamp: u32,
}

/// The sending side of one worker.
pub struct Output {
    ports: Arc<WorkerPorts>,
    worker: usize,
    clock: Clock,
    batch: UdpBatch,
    queued: Vec<Queued>,
    headers: Vec<u8>,
}

impl Output {
    /// The output of worker `worker`, sending UDP from `ports`.
    pub fn new(ports: Arc<WorkerPorts>, worker: usize, clock: Clock) -> Self {
        Self {
            ports,
            worker,
            clock,
            batch: UdpBatch::new(),
            queued: Vec::new(),
            headers: Vec::with_capacity(64 * wire::RTP_HEADER_LEN),
        }
    }

    /// Carry out what pacing says is due for `session`. UDP frames wait for [`Output::finish`].
    pub fn act(&mut self, session: &Arc<LiveSession>, action: Action, conns: &mut Conns<'_>) {
        match action {
            Action::Frame {
                index,
                rtp_timestamp,
            } => {
                if session.closed.load(Ordering::Acquire) {
                    return;
                }
                let sent = match session.dialect {
                    Dialect::Lab => self.lab(session, index, rtp_timestamp),
                    Dialect::Standard => self.standard(session, index, rtp_timestamp, conns),
                };
                if let Some(sent) = sent {
                    self.account(session, sent, rtp_timestamp, conns);
                }
            }
            Action::Idle => {}
            Action::EndOfStream => {
                tracing::info!(session = session.id.get(), "end of stream");
                self.bye(session, conns);
            }
            Action::EndOfRange => {
                tracing::info!(
                    session = session.id.get(),
                    at = session.position.load(Ordering::Relaxed),
                    "end of range"
                );
                self.bye(session, conns);
            }
        }
    }

    /// Send the UDP frames gathered since the last call and account for them.
    pub fn finish(&mut self, conns: &mut Conns<'_>) {
        if self.batch.is_empty() {
            return;
        }
        self.batch.send(&self.ports.rtp);
        let queued = std::mem::take(&mut self.queued);
        for q in &queued {
            let sent = self.batch.sent(q.frame).then_some((q.packets, q.octets));
            self.account(&q.session, sent, q.rtp_timestamp, conns);
        }
        self.queued = queued;
        self.queued.clear();
        self.batch.clear();
    }

    /// RTCP BYE (standard sessions).
    pub fn bye(&mut self, session: &Arc<LiveSession>, conns: &mut Conns<'_>) {
        if session.dialect == Dialect::Lab {
            return;
        }
        let mut packet = Vec::new();
        if wire::bye(&mut packet, session.ssrc).is_ok() {
            self.rtcp(session, &packet, conns);
        }
    }

    /// `Some(Some((packets, octets)))`: sent now; `Some(None)`: dropped; `None`: queued in the
    /// UDP batch.
    fn lab(
        &mut self,
        session: &Arc<LiveSession>,
        index: u64,
        rtp_timestamp: u32,
    ) -> Option<Option<(u64, u64)>> {
        let Some(jpeg) = session.source.jpeg(index) else {
            return Some(None);
        };
        let len = jpeg.as_ref().len();
        if len > wire::LAB_MAX_JPEG {
            // SETUP refuses files with such frames (or --transcode shrinks them); a published
            // frame may still be one (without --transcode, or too large even re-encoded).
            if !session.warned_large.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    session = session.id.get(),
                    frame = index,
                    bytes = len,
                    "frame larger than one UDP datagram; not sent"
                );
            }
            return Some(None);
        }
        if wire::RTP_HEADER_LEN + len > LAB_CLIENT_RECV
            && !session.warned_large.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                session = session.id.get(),
                frame = index,
                bytes = len,
                "frame larger than the lab client's 20480-byte receive buffer; it will see a truncated JPEG"
            );
        }
        let Some(dest) = udp_dest(session) else {
            return Some(None);
        };
        // The lab's sequence number is the 1-based frame number.
        self.headers.clear();
        wire::rtp_header(
            &mut self.headers,
            false,
            false,
            (index + 1) as u16,
            rtp_timestamp,
            session.ssrc,
        );
        let frame = self
            .batch
            .push(dest, Body::Whole(jpeg), &self.headers, wire::RTP_HEADER_LEN);
        self.queued.push(Queued {
            session: Arc::clone(session),
            frame,
            packets: 1,
            octets: len as u64,
            rtp_timestamp,
        });
        None
    }

    fn standard(
        &mut self,
        session: &Arc<LiveSession>,
        index: u64,
        ts: u32,
        conns: &mut Conns<'_>,
    ) -> Option<Option<(u64, u64)>> {
        let Some(payloads) = session.source.payloads(index) else {
            return Some(None);
        };
        let count = payloads.len() as u64;
        let octets: u64 = payloads.iter().map(|p| p.len() as u64).sum();
        let delivery = session.delivery.read();
        match &*delivery {
            Some(Delivery::Udp(u)) => {
                let dest = u.rtp_dest;
                drop(delivery);
                self.headers.clear();
                rtp_headers(&mut self.headers, session, &payloads, ts, None);
                let frame = self.batch.push(
                    dest,
                    Body::Packets(payloads),
                    &self.headers,
                    wire::RTP_HEADER_LEN,
                );
                self.queued.push(Queued {
                    session: Arc::clone(session),
                    frame,
                    packets: count,
                    octets,
                    rtp_timestamp: ts,
                });
                None
            }
            Some(Delivery::Interleaved { link, rtp_channel }) => {
                let (link, channel) = (link.clone(), *rtp_channel);
                drop(delivery);
                let header_len = wire::INTERLEAVE_HEADER_LEN + wire::RTP_HEADER_LEN;
                let wire_len = octets as usize + payloads.len() * header_len;
                if link.worker.index != self.worker {
                    // The connection lives on another worker: hand it a copy (rare).
                    let mut headers = Vec::with_capacity(payloads.len() * header_len);
                    rtp_headers(&mut headers, session, &payloads, ts, Some(channel));
                    let mut data = Vec::with_capacity(wire_len);
                    for (i, p) in payloads.iter().enumerate() {
                        let at = i * header_len;
                        data.extend_from_slice(
                            headers.get(at..at + header_len).unwrap_or_default(),
                        );
                        data.extend_from_slice(p);
                    }
                    let sent = link
                        .worker
                        .send(WorkerMsg::Interleaved {
                            conn: link.conn,
                            session: Arc::clone(session),
                            data,
                            frame: true,
                        })
                        .is_ok();
                    return Some(sent.then_some((count, octets)));
                }
                let Some(conn) = conns.map.get_mut(&link.conn) else {
                    return Some(None);
                };
                // A slow reader: the frame is dropped whole, and the connection stays.
                if conn.outbound_len() + wire_len > MAX_OUTBOUND {
                    return Some(None);
                }
                let mut headers = Vec::with_capacity(payloads.len() * header_len);
                rtp_headers(&mut headers, session, &payloads, ts, Some(channel));
                conn.queue_frame(InterleavedFrame::new(headers, header_len, payloads));
                conns.pending.insert(link.conn);
                Some(Some((count, octets)))
            }
            None => Some(None),
        }
    }

    fn account(
        &mut self,
        session: &Arc<LiveSession>,
        sent: Option<(u64, u64)>,
        rtp_timestamp: u32,
        conns: &mut Conns<'_>,
    ) {
        let stats = &session.stats;
        match sent {
            Some((packets, octets)) => {
                stats.frames_sent.fetch_add(1, Ordering::Relaxed);
                stats.packets_sent.fetch_add(packets, Ordering::Relaxed);
                stats.octets_sent.fetch_add(octets, Ordering::Relaxed);
                self.maybe_sender_report(session, rtp_timestamp, conns);
            }
            None => {
                stats.frames_dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn maybe_sender_report(
        &mut self,
        session: &Arc<LiveSession>,
        rtp_timestamp: u32,
        conns: &mut Conns<'_>,
    ) {
        if session.dialect == Dialect::Lab {
            return;
        }
        let now = self.clock.now_ms();
        let last = session.last_sr_ms.load(Ordering::Relaxed);
        let interval = u64::try_from(SR_INTERVAL.as_millis()).unwrap_or(5000);
        if last != 0 && now.saturating_sub(last) < interval {
            return;
        }
        session.last_sr_ms.store(now.max(1), Ordering::Relaxed);
        let mut packet = Vec::new();
        let packets = session.stats.packets_sent.load(Ordering::Relaxed) as u32;
        let octets = session.stats.octets_sent.load(Ordering::Relaxed) as u32;
        if wire::sender_report(&mut packet, session.ssrc, rtp_timestamp, packets, octets).is_ok() {
            self.rtcp(session, &packet, conns);
        }
    }

    fn rtcp(&mut self, session: &Arc<LiveSession>, packet: &[u8], conns: &mut Conns<'_>) {
        let delivery = session.delivery.read();
        match &*delivery {
            Some(Delivery::Udp(u)) => {
                if let Some(dest) = u.rtcp_dest {
                    let _ = udp::send_one(&self.ports.rtcp, packet, dest);
                }
            }
            Some(Delivery::Interleaved { link, rtp_channel }) => {
                let mut data = Vec::with_capacity(packet.len() + wire::INTERLEAVE_HEADER_LEN);
                wire::interleave(&mut data, rtp_channel.saturating_add(1), packet);
                if link.worker.index == self.worker {
                    if let Some(conn) = conns.map.get_mut(&link.conn) {
                        if conn.outbound_len() + data.len() <= MAX_OUTBOUND {
                            conn.queue(data);
                            conns.pending.insert(link.conn);
                        }
                    }
                } else {
                    let _ = link.worker.send(WorkerMsg::Interleaved {
                        conn: link.conn,
                        session: Arc::clone(session),
                        data,
                        frame: false,
                    });
                }
            }
            None => {}
        }
    }
}

/// The client's RTP address of a UDP session.
fn udp_dest(session: &LiveSession) -> Option<std::net::SocketAddr> {
    match &*session.delivery.read() {
        Some(Delivery::Udp(u)) => Some(u.rtp_dest),
        _ => None,
    }
}

/// Append the session's RTP header for each payload (preceded by a `$` header on `channel`
/// when interleaved), advancing its sequence number. Only the home worker calls this, so the
/// sequence counter needs no lock.
fn rtp_headers(
    out: &mut Vec<u8>,
    session: &LiveSession,
    payloads: &Packetized,
    ts: u32,
    channel: Option<u8>,
) {
    let mut seq = session.rtp_seq.load(Ordering::Relaxed);
    let count = payloads.len();
    for (i, payload) in payloads.iter().enumerate() {
        if let Some(channel) = channel {
            wire::interleave_header(out, channel, wire::RTP_HEADER_LEN + payload.len());
        }
        let extended = i == 0 && payloads.extended();
        wire::rtp_header(out, i + 1 == count, extended, seq as u16, ts, session.ssrc);
        seq = seq.wrapping_add(1);
    }
    session.rtp_seq.store(seq, Ordering::Relaxed);
}
