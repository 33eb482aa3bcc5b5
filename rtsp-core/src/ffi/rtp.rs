//! RTP packets on caller-owned buffers: `rtsp_core_rtp_encode` / `rtsp_core_rtp_decode`.

use super::boundary::{arg_mut, arg_ref, buf_arg, bytes_arg, guard, try_status, write_opt};
use super::status::rtsp_core_status;
use crate::rtp::lab::{LabRtpHeader, LabRtpPacketRef};
use crate::rtp::{RtpPacketRef, FIXED_HEADER_LEN};

/// The fields of an RTP header, as the lab's `RtpPacket.encode(version, padding, extension, cc,
/// seqnum, marker, pt, ssrc, payload)` takes them (plus the timestamp, which the lab takes from
/// the clock).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct rtsp_core_rtp_header {
    /// Version (2 bits; RTP is 2).
    pub version: u8,
    /// Padding flag (0 or 1).
    pub padding: u8,
    /// Extension flag (0 or 1).
    pub extension: u8,
    /// CSRC count (4 bits). Encoding writes no CSRC list, exactly like the lab.
    pub cc: u8,
    /// Marker bit (0 or 1).
    pub marker: u8,
    /// Payload type (7 bits; JPEG is 26).
    pub payload_type: u8,
    /// Sequence number (the lab's frame number).
    pub sequence: u16,
    /// Timestamp.
    pub timestamp: u32,
    /// Synchronization source.
    pub ssrc: u32,
}

/// Encodes a 12-byte RTP header followed by `payload` into `out` (capacity `out_cap`), the way
/// the lab's `RtpPacket.encode` does. `*out_len` (if not NULL) receives the packet length, also
/// when the buffer is too small (`RTSP_CORE_STATUS_BUFFER_TOO_SMALL`), so a first call with a NULL
/// buffer and zero capacity asks for the size. A field wider than its bits gives
/// `RTSP_CORE_STATUS_INVALID_ARGUMENT` (the lab would silently mask it).
#[no_mangle]
pub extern "C" fn rtsp_core_rtp_encode(
    header: *const rtsp_core_rtp_header,
    payload: *const u8,
    payload_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> rtsp_core_status {
    guard(|| {
        let h = arg_ref!(header);
        // SAFETY: the caller passes `payload_len` readable bytes (or NULL with 0).
        let payload = try_status!(unsafe { bytes_arg(payload, payload_len) });
        if h.version > 3
            || h.padding > 1
            || h.extension > 1
            || h.cc > 15
            || h.marker > 1
            || h.payload_type > 127
        {
            return rtsp_core_status::InvalidArgument;
        }
        let needed = FIXED_HEADER_LEN + payload.len();
        // SAFETY: NULL or valid for a write.
        unsafe { write_opt(out_len, needed) };
        if out_cap < needed {
            return rtsp_core_status::BufferTooSmall;
        }
        // SAFETY: the caller owns `out_cap` writable bytes at `out` (or NULL with 0, excluded above
        // since needed >= 12).
        let buf = try_status!(unsafe { buf_arg(out, out_cap) });
        let lab = LabRtpHeader {
            version: h.version,
            padding: h.padding,
            extension: h.extension,
            cc: h.cc,
            seqnum: u32::from(h.sequence),
            marker: h.marker,
            pt: h.payload_type,
            ssrc: h.ssrc,
            timestamp: h.timestamp,
        };
        match lab.encode(payload, buf) {
            Ok(_) => rtsp_core_status::Ok,
            Err(_) => rtsp_core_status::BufferTooSmall,
        }
    })
}

/// Decodes the RTP packet in `packet` (`len` bytes) without copying: fills `*header` and gives
/// the payload as an offset and length into the caller's own buffer. A standard packet (CSRC
/// list, extension, padding) is parsed per RFC 3550; anything else of at least 12 bytes is read
/// the lab's way (12-byte header, the rest is payload). Shorter input gives
/// `RTSP_CORE_STATUS_MALFORMED`. `payload_offset` and `payload_len` may be NULL.
#[no_mangle]
pub extern "C" fn rtsp_core_rtp_decode(
    packet: *const u8,
    len: usize,
    header: *mut rtsp_core_rtp_header,
    payload_offset: *mut usize,
    payload_len: *mut usize,
) -> rtsp_core_status {
    guard(|| {
        // SAFETY: the caller passes `len` readable bytes.
        let data = try_status!(unsafe { bytes_arg(packet, len) });
        let out = arg_mut!(header);
        let (h, offset, plen) = if let Ok(p) = RtpPacketRef::parse(data) {
            let payload = p.payload();
            let offset = (payload.as_ptr() as usize).saturating_sub(data.as_ptr() as usize);
            let bytes = data;
            let b0 = bytes.first().copied().unwrap_or(0);
            (
                rtsp_core_rtp_header {
                    version: p.version(),
                    padding: u8::from(p.has_padding()),
                    extension: u8::from(p.has_extension()),
                    cc: b0 & 0x0f,
                    marker: u8::from(p.marker()),
                    payload_type: p.payload_type(),
                    sequence: p.sequence_number(),
                    timestamp: p.timestamp(),
                    ssrc: p.ssrc(),
                },
                offset,
                payload.len(),
            )
        } else if let Ok(p) = LabRtpPacketRef::parse(data) {
            (
                rtsp_core_rtp_header {
                    version: p.version(),
                    padding: u8::from(p.padding()),
                    extension: u8::from(p.extension()),
                    cc: p.cc(),
                    marker: u8::from(p.marker()),
                    payload_type: p.payload_type(),
                    sequence: p.seq_num(),
                    timestamp: p.timestamp(),
                    ssrc: p.ssrc(),
                },
                FIXED_HEADER_LEN,
                p.payload().len(),
            )
        } else {
            return rtsp_core_status::Malformed;
        };
        *out = h;
        // SAFETY: NULL or valid for writes.
        unsafe {
            write_opt(payload_offset, offset);
            write_opt(payload_len, plen);
        }
        rtsp_core_status::Ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_packet_round_trip_on_caller_buffers() {
        let h = rtsp_core_rtp_header {
            version: 2,
            payload_type: 26,
            sequence: 7,
            timestamp: 1_700_000_000,
            ssrc: 0xdead_beef,
            ..Default::default()
        };
        let payload = [0xff, 0xd8, 1, 2, 0xff, 0xd9];
        let mut needed = 0;
        assert_eq!(
            rtsp_core_rtp_encode(
                &h,
                payload.as_ptr(),
                payload.len(),
                std::ptr::null_mut(),
                0,
                &mut needed
            ),
            rtsp_core_status::BufferTooSmall
        );
        assert_eq!(needed, 18);
        let mut buf = [0u8; 64];
        let mut n = 0;
        assert_eq!(
            rtsp_core_rtp_encode(
                &h,
                payload.as_ptr(),
                payload.len(),
                buf.as_mut_ptr(),
                buf.len(),
                &mut n
            ),
            rtsp_core_status::Ok
        );
        assert_eq!(&buf[..4], &[0x80, 26, 0, 7]);
        let mut back = rtsp_core_rtp_header::default();
        let (mut off, mut len) = (0, 0);
        assert_eq!(
            rtsp_core_rtp_decode(buf.as_ptr(), n, &mut back, &mut off, &mut len),
            rtsp_core_status::Ok
        );
        assert_eq!(back, h);
        assert_eq!(&buf[off..off + len], &payload);
    }

    #[test]
    fn lab_header_with_cc_but_no_csrc_list_still_decodes() {
        let h = rtsp_core_rtp_header {
            version: 2,
            cc: 3,
            payload_type: 26,
            sequence: 1,
            ..Default::default()
        };
        let mut buf = [0u8; 16];
        let mut n = 0;
        assert_eq!(
            rtsp_core_rtp_encode(&h, [9u8; 4].as_ptr(), 4, buf.as_mut_ptr(), 16, &mut n),
            rtsp_core_status::Ok
        );
        let mut back = rtsp_core_rtp_header::default();
        let (mut off, mut len) = (0, 0);
        assert_eq!(
            rtsp_core_rtp_decode(buf.as_ptr(), n, &mut back, &mut off, &mut len),
            rtsp_core_status::Ok
        );
        assert_eq!((back.cc, off, len), (3, 12, 4));
    }

    #[test]
    fn bad_arguments() {
        let h = rtsp_core_rtp_header {
            version: 4,
            ..Default::default()
        };
        let mut buf = [0u8; 16];
        assert_eq!(
            rtsp_core_rtp_encode(
                &h,
                std::ptr::null(),
                0,
                buf.as_mut_ptr(),
                16,
                std::ptr::null_mut()
            ),
            rtsp_core_status::InvalidArgument
        );
        assert_eq!(
            rtsp_core_rtp_encode(
                std::ptr::null(),
                std::ptr::null(),
                0,
                buf.as_mut_ptr(),
                16,
                std::ptr::null_mut()
            ),
            rtsp_core_status::NullArgument
        );
        assert_eq!(
            rtsp_core_rtp_encode(
                &h,
                std::ptr::null(),
                5,
                buf.as_mut_ptr(),
                16,
                std::ptr::null_mut()
            ),
            rtsp_core_status::NullArgument
        );
        let mut out = rtsp_core_rtp_header::default();
        assert_eq!(
            rtsp_core_rtp_decode(
                buf.as_ptr(),
                11,
                &mut out,
                std::ptr::null_mut(),
                std::ptr::null_mut()
            ),
            rtsp_core_status::Malformed
        );
        assert_eq!(
            rtsp_core_rtp_decode(
                buf.as_ptr(),
                12,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut()
            ),
            rtsp_core_status::NullArgument
        );
    }
}
