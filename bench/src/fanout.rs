//! Live fan-out: one publisher in this process sends tagged JPEG frames at a fixed rate, the
//! sessions read them back through the server, and each frame's publish-to-reader latency is
//! its reader arrival minus its send time on this process's clock.
//!
//! Frames are recognised across the server by a tag in their entropy-coded data: ASCII
//! [`TAG_MAGIC`] and ten decimal digits of the frame number, inserted just before the EOI
//! marker. RFC 2435 carries the scan data byte for byte (only the headers are replaced by the
//! payload header), so the tag reaches every reader of any conforming server, whatever it does
//! with RTP timestamps, sequence numbers or SSRCs; the tag holds no 0xFF, so it never reads as
//! a marker, and decoders skip bytes after the last MCU. RTP timestamps cannot identify a frame:
//! a server may restamp each reader's stream (`rtsp-server` stamps a reader's packets with its
//! own send slot on a random base).

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rtsp_core::client::{Publisher, PublisherConfig, TransportPreference};
use rtsp_core::jpeg::{Packetizer, ParsedJpeg};
use rtsp_core::rtp::{RtpHeader, PAYLOAD_TYPE_JPEG};

/// What precedes the frame number in a tagged frame.
pub const TAG_MAGIC: &[u8] = b"FANOUT";
/// Decimal digits of the frame number.
const TAG_DIGITS: usize = 10;
/// Bytes of a frame's end a reader keeps to find the tag (tag, EOI, slack).
pub const TAG_WINDOW: usize = 32;

/// Where the publisher sends.
#[derive(Debug, Clone)]
pub enum PublishTo {
    /// RTSP ANNOUNCE/RECORD to this URL with the engine's publisher, RTP over UDP.
    Rtsp(String),
    /// Plain RTP/JPEG datagrams to this address (a server whose pipeline reads a UDP port).
    Rtp(SocketAddr),
}

/// `jpeg` with frame number `id` tagged before its final EOI; `None` if it does not end in EOI.
pub fn tag_frame(jpeg: &[u8], id: u64) -> Option<Vec<u8>> {
    let body = jpeg.strip_suffix(&[0xFF, 0xD9])?;
    let mut out = Vec::with_capacity(jpeg.len() + TAG_MAGIC.len() + TAG_DIGITS);
    out.extend_from_slice(body);
    out.extend_from_slice(TAG_MAGIC);
    out.extend_from_slice(format!("{:0width$}", id % 10u64.pow(10), width = TAG_DIGITS).as_bytes());
    out.extend_from_slice(&[0xFF, 0xD9]);
    Some(out)
}

/// The frame number tagged in the last bytes of a frame's payload, if any.
pub fn find_tag(tail: &[u8]) -> Option<u64> {
    let at = tail
        .windows(TAG_MAGIC.len())
        .rposition(|w| w == TAG_MAGIC)?;
    let digits = tail.get(at + TAG_MAGIC.len()..at + TAG_MAGIC.len() + TAG_DIGITS)?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The JPEG frames of a lab `.Mjpeg` file (5 ASCII digits of length, then the frame).
///
/// # Errors
/// The file cannot be read or holds no frame.
pub fn read_lab_mjpeg(path: &str) -> io::Result<Vec<Vec<u8>>> {
    let data = std::fs::read(path)?;
    let mut frames = Vec::new();
    let mut at = 0usize;
    while let Some(len) = data
        .get(at..at + 5)
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(|d| d.trim().parse::<usize>().ok())
    {
        let Some(frame) = data.get(at + 5..at + 5 + len) else {
            break;
        };
        frames.push(frame.to_vec());
        at += 5 + len;
    }
    if frames.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{path}: no frames"),
        ));
    }
    Ok(frames)
}

/// When each frame was sent, as nanoseconds since the run's start (0: not sent).
#[derive(Debug)]
pub struct PublishLog {
    t0: Instant,
    sent: Vec<AtomicU64>,
}

impl PublishLog {
    /// Room for `frames` frames, times counted from `t0`.
    pub fn new(t0: Instant, frames: usize) -> Self {
        Self {
            t0,
            sent: (0..frames).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn mark(&self, id: u64, at: Instant) {
        if let Some(slot) = usize::try_from(id).ok().and_then(|i| self.sent.get(i)) {
            let ns = at.saturating_duration_since(self.t0).as_nanos();
            slot.store(
                u64::try_from(ns).unwrap_or(u64::MAX).max(1),
                Ordering::Release,
            );
        }
    }

    /// When frame `id` was sent, if it was.
    pub fn sent_at(&self, id: u64) -> Option<Instant> {
        let slot = self.sent.get(usize::try_from(id).ok()?)?;
        match slot.load(Ordering::Acquire) {
            0 => None,
            ns => Some(self.t0 + Duration::from_nanos(ns)),
        }
    }

    /// Frames sent within `[from, to]`.
    pub fn sent_between(&self, from: Instant, to: Instant) -> u64 {
        (0..self.sent.len() as u64)
            .filter_map(|id| self.sent_at(id))
            .filter(|t| *t >= from && *t <= to)
            .count() as u64
    }
}

/// Raw RTP/JPEG to one address: what a pipeline reading a UDP port receives.
struct RtpSender {
    socket: UdpSocket,
    to: SocketAddr,
    packetizer: Packetizer,
    seq: u16,
    ssrc: u32,
}

impl RtpSender {
    fn send(&mut self, jpeg: &[u8], rtp_timestamp: u32) -> io::Result<()> {
        let frame = ParsedJpeg::parse(jpeg)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        for fragment in self.packetizer.fragments(&frame) {
            let mut header = RtpHeader::new(PAYLOAD_TYPE_JPEG, self.seq, rtp_timestamp, self.ssrc);
            header.marker = fragment.is_last();
            let mut packet = vec![0; header.packet_len(fragment.len())];
            header
                .write_vectored(&fragment.parts(), &mut packet)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            self.seq = self.seq.wrapping_add(1);
            self.socket.send_to(&packet, self.to)?;
        }
        Ok(())
    }
}

/// Starts the publisher thread: frames of `frames` in a loop, tagged 0, 1, 2..., at `fps` from
/// `start` until `end` or `stop`, their send times written to `log`.
///
/// # Errors
/// The thread cannot be started. A failure to connect or send ends the thread and is returned
/// by its handle.
pub fn spawn_publisher(
    to: PublishTo,
    frames: Arc<Vec<Vec<u8>>>,
    fps: f64,
    start: Instant,
    end: Instant,
    log: Arc<PublishLog>,
    stop: Arc<AtomicBool>,
) -> io::Result<JoinHandle<Result<u64, String>>> {
    std::thread::Builder::new()
        .name("fanout-publisher".into())
        .spawn(move || {
            enum Out {
                Rtsp(Publisher),
                Rtp(RtpSender),
            }
            let mut out = match to {
                PublishTo::Rtsp(url) => {
                    let mut cfg = PublisherConfig::url(url);
                    cfg.transport = TransportPreference::Udp;
                    Out::Rtsp(Publisher::connect(cfg).map_err(|e| format!("publish: {e}"))?)
                }
                PublishTo::Rtp(to) => Out::Rtp(RtpSender {
                    socket: UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
                        .map_err(|e| format!("publish: {e}"))?,
                    to,
                    packetizer: Packetizer::new(),
                    seq: 0,
                    ssrc: 0x4641_4e4f,
                }),
            };
            let period = Duration::from_secs_f64(1.0 / fps);
            let mut id = 0u64;
            loop {
                let due = start + period.mul_f64(id as f64);
                if due >= end || stop.load(Ordering::Relaxed) {
                    break;
                }
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                let Some(jpeg) = frames
                    .get((id as usize) % frames.len().max(1))
                    .and_then(|f| tag_frame(f, id))
                else {
                    return Err("publish: a frame does not end in EOI".into());
                };
                let media_time = period.mul_f64(id as f64);
                let sent = Instant::now();
                log.mark(id, sent);
                match &mut out {
                    Out::Rtsp(p) => p
                        .send(&jpeg, Some(media_time))
                        .map_err(|e| format!("publish: {e}"))?,
                    Out::Rtp(s) => {
                        let ts = (media_time.as_secs_f64() * 90_000.0) as u64 as u32;
                        s.send(&jpeg, ts).map_err(|e| format!("publish: {e}"))?;
                    }
                }
                id += 1;
            }
            if let Out::Rtsp(p) = out {
                let _ = p.close();
            }
            Ok(id)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_survives_in_the_frame_tail() {
        let jpeg = [0xFF, 0xD8, 1, 2, 3, 0xFF, 0xD9];
        let tagged = tag_frame(&jpeg, 1234).unwrap();
        assert!(tagged.ends_with(&[0xFF, 0xD9]));
        let tail = &tagged[tagged.len().saturating_sub(TAG_WINDOW)..];
        assert_eq!(find_tag(tail), Some(1234));
        // Without the EOI (a payload that strips it) as well.
        assert_eq!(find_tag(&tail[..tail.len() - 2]), Some(1234));
        assert_eq!(find_tag(&[1, 2, 3]), None);
        assert_eq!(tag_frame(&[0xFF, 0xD8, 1], 1), None);
    }
}
