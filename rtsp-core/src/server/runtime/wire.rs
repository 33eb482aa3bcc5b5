//! Thin adapters from the runtime to `crate::rtp` and `crate::rtsp` writers: RTP
//! packets, `$` framing, RTCP SR / BYE, and the part of a received RTCP packet we keep.

use std::time::SystemTime;

use crate::jpeg::ONVIF_JPEG_PROFILE;
use crate::rtp::ntp::NtpTimestamp;
use crate::rtp::rtcp::{
    write_compound, Compound, Goodbye, ReceiverReport, ReportBlock, RtcpPacket, RtcpWriteError,
    SenderInfo, SenderReport, SourceDescription,
};
use crate::rtp::{RtpExtension, RtpHeader, FIXED_HEADER_LEN, PAYLOAD_TYPE_JPEG};
use crate::server::prepare::RtpPayload;

/// Length of the RTP header we write (no CSRCs; the extension of frames above 2040 pixels
/// comes on top).
pub const RTP_HEADER_LEN: usize = FIXED_HEADER_LEN;

/// Largest UDP payload IPv4 can carry.
pub const MAX_DATAGRAM: usize = 65507;
/// Largest JPEG a lab packet carries: one datagram less the RTP header.
pub const LAB_MAX_JPEG: usize = MAX_DATAGRAM - RTP_HEADER_LEN;

/// CNAME announced in RTCP (RFC 3550 6.5.1 wants one in every compound packet).
const CNAME: &[u8] = b"rtsp-server";

/// What goes after the fixed RTP header: a payload, and maybe header extension data.
pub trait RtpBody {
    /// The payload.
    fn payload(&self) -> &[u8];
    /// The ONVIF JPEG header extension data, if the packet carries it.
    fn extension(&self) -> Option<&[u8]> {
        None
    }
}

impl RtpBody for [u8] {
    fn payload(&self) -> &[u8] {
        self
    }
}

impl RtpBody for Vec<u8> {
    fn payload(&self) -> &[u8] {
        self
    }
}

impl RtpBody for RtpPayload {
    fn payload(&self) -> &[u8] {
        &self.payload
    }
    fn extension(&self) -> Option<&[u8]> {
        self.extension.as_deref()
    }
}

/// Append an RTP packet (PT 26) to `out`, X bit and extension included when `body` has one.
pub fn rtp_packet<B: RtpBody + ?Sized>(
    out: &mut Vec<u8>,
    marker: bool,
    seq: u16,
    ts: u32,
    ssrc: u32,
    body: &B,
) {
    let mut header = RtpHeader::new(PAYLOAD_TYPE_JPEG, seq, ts, ssrc);
    header.marker = marker;
    header.extension = body.extension().map(|data| RtpExtension {
        profile: ONVIF_JPEG_PROFILE,
        data,
    });
    // Cannot fail: PT 26 is valid and the extension is whole words, far below 65535 of them.
    let _ = header.write_to_vec(body.payload(), out);
}

/// Append `packet` as one `$` frame on `channel`.
pub fn interleave(out: &mut Vec<u8>, channel: u8, packet: &[u8]) {
    // RTP packets we build are far below 64 KiB; a larger one is not framed at all rather
    // than framed wrongly.
    let _ = crate::rtsp::write_interleaved(channel, packet, out);
}

/// Append an RTCP SR + SDES CNAME compound packet.
pub fn sender_report(
    out: &mut Vec<u8>,
    ssrc: u32,
    rtp_timestamp: u32,
    packet_count: u32,
    octet_count: u32,
) -> Result<usize, RtcpWriteError> {
    let sr = SenderReport {
        ssrc,
        sender_info: SenderInfo {
            ntp_timestamp: NtpTimestamp::from_system_time(SystemTime::now()),
            rtp_timestamp,
            packet_count,
            octet_count,
        },
        ..SenderReport::default()
    };
    let sdes = SourceDescription::cname(ssrc, CNAME);
    write_compound(&[RtcpPacket::from(sr), RtcpPacket::from(sdes)], out)
}

/// Append an RTCP RR (empty) + SDES + BYE compound packet (a compound must start with a report).
pub fn bye(out: &mut Vec<u8>, ssrc: u32) -> Result<usize, RtcpWriteError> {
    let rr = ReceiverReport {
        ssrc,
        ..ReceiverReport::default()
    };
    let sdes = SourceDescription::cname(ssrc, CNAME);
    let bye = Goodbye::single(ssrc, None);
    write_compound(
        &[
            RtcpPacket::from(rr),
            RtcpPacket::from(sdes),
            RtcpPacket::from(bye),
        ],
        out,
    )
}

/// The report block about `ssrc` in an RTCP packet from a client, if there is one. `Some(None)`
/// means a valid RTCP packet without a block about us (still a sign of life).
pub fn report_about(data: &[u8], ssrc: u32) -> Option<Option<ReportBlock>> {
    let compound = Compound::parse(data).ok()?;
    let mut found = None;
    for packet in compound.iter() {
        let blocks = match packet {
            RtcpPacket::ReceiverReport(rr) => rr.report_blocks,
            RtcpPacket::SenderReport(sr) => sr.report_blocks,
            _ => continue,
        };
        if let Some(b) = blocks.find(ssrc) {
            found = Some(b);
        }
    }
    Some(found)
}
