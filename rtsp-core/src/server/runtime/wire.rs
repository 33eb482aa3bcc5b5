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

/// The bytes that follow the fixed RTP header of one packet: the payload, preceded by the ONVIF
/// JPEG header extension (profile, length, data) on the first packet of a frame above 2040
/// pixels. Built once per frame at load, so every session shares them; such a packet's header
/// is written with [`rtp_header`]'s `extended` set.
pub fn after_fixed_header(packet: &RtpPayload) -> Vec<u8> {
    let Some(data) = packet.extension.as_deref() else {
        return packet.payload.clone();
    };
    let mut header = RtpHeader::new(PAYLOAD_TYPE_JPEG, 0, 0, 0);
    header.extension = Some(RtpExtension {
        profile: ONVIF_JPEG_PROFILE,
        data,
    });
    let mut out = Vec::with_capacity(header.packet_len(packet.payload.len()));
    // Cannot fail: PT 26 is valid and the extension is whole words, far below 65535 of them.
    let _ = header.write_to_vec(&packet.payload, &mut out);
    out.split_off(RTP_HEADER_LEN.min(out.len()))
}

/// Append the 12-byte RTP header (PT 26) of a packet, without what follows it; `extended` sets
/// the X bit for a packet whose shared bytes begin with a header extension
/// ([`after_fixed_header`]).
pub fn rtp_header(out: &mut Vec<u8>, marker: bool, extended: bool, seq: u16, ts: u32, ssrc: u32) {
    let mut header = RtpHeader::new(PAYLOAD_TYPE_JPEG, seq, ts, ssrc);
    header.marker = marker;
    let mut buf = [0u8; RTP_HEADER_LEN];
    // Cannot fail: PT 26 is valid, there is no extension here and the buffer fits the header.
    if header.write_header(&mut buf).is_ok() {
        if extended {
            // RFC 3550 5.1: X is bit 4 of the first octet; the extension itself is shared.
            buf[0] |= 0x10;
        }
        out.extend_from_slice(&buf);
    }
}

/// Length of a `$` frame header (RFC 2326 10.12): `$`, channel, 16-bit length.
pub const INTERLEAVE_HEADER_LEN: usize = 4;

/// Append the `$` header of a frame of `len` bytes on `channel`; false (nothing appended) if
/// `len` does not fit the 16-bit length.
pub fn interleave_header(out: &mut Vec<u8>, channel: u8, len: usize) -> bool {
    let Ok(len) = u16::try_from(len) else {
        return false;
    };
    out.push(b'$');
    out.push(channel);
    out.extend_from_slice(&len.to_be_bytes());
    true
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
