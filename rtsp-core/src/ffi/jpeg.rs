//! RFC 2435 packetizer and depacketizer handles.

use super::boundary::{arg_mut, arg_ref, buf_arg, bytes_arg, guard, try_status, write_opt};
use super::status::rtsp_core_status;
use crate::jpeg::{Depacketizer, Packetizer, ParsedJpeg};

/// Splits JPEG frames into RFC 2435 payloads (opaque). Create with
/// `rtsp_core_jpeg_packetizer_new`, release with `rtsp_core_jpeg_packetizer_free`.
pub struct rtsp_core_jpeg_packetizer {
    packetizer: Packetizer,
    /// The payloads of the frame being sent, and how many were taken.
    payloads: Vec<Vec<u8>>,
    next: usize,
}

/// Reassembles RFC 2435 payloads into JPEG files (opaque). Create with
/// `rtsp_core_jpeg_depacketizer_new`, release with `rtsp_core_jpeg_depacketizer_free`.
pub struct rtsp_core_jpeg_depacketizer {
    depacketizer: Depacketizer,
    /// The last completed frame, lent to the caller until the next push.
    frame: Vec<u8>,
}

/// Creates a packetizer whose payloads are at most `max_payload` bytes (0 = the default, 1400,
/// which keeps RTP packets under a 1500-byte MTU).
#[no_mangle]
pub extern "C" fn rtsp_core_jpeg_packetizer_new(
    max_payload: usize,
    out: *mut *mut rtsp_core_jpeg_packetizer,
) -> rtsp_core_status {
    guard(|| {
        let out = arg_mut!(out);
        *out = std::ptr::null_mut();
        let packetizer = if max_payload == 0 {
            Packetizer::new()
        } else {
            match Packetizer::with_max_payload(max_payload) {
                Ok(p) => p,
                Err(_) => return rtsp_core_status::InvalidArgument,
            }
        };
        *out = Box::into_raw(Box::new(rtsp_core_jpeg_packetizer {
            packetizer,
            payloads: Vec::new(),
            next: 0,
        }));
        rtsp_core_status::Ok
    })
}

/// Starts sending a JPEG file: checks that RFC 2435 can carry it (baseline, 8-bit YCbCr 4:2:0 or
/// 4:2:2, standard Huffman tables, at most 2040x2040 in multiples of 8: larger frames need an RTP
/// header extension, which these payloads cannot carry) and prepares its payloads;
/// `*count` (if not NULL) receives their number. Payloads not yet taken from a previous frame are
/// discarded. A file that is not a JPEG gives `RTSP_CORE_STATUS_MALFORMED`; a JPEG RFC 2435
/// cannot carry gives `RTSP_CORE_STATUS_UNSUPPORTED`.
#[no_mangle]
pub extern "C" fn rtsp_core_jpeg_packetizer_push_frame(
    packetizer: *mut rtsp_core_jpeg_packetizer,
    jpeg: *const u8,
    len: usize,
    count: *mut usize,
) -> rtsp_core_status {
    guard(|| {
        let p = arg_mut!(packetizer);
        // SAFETY: `len` readable bytes per the contract.
        let data = try_status!(unsafe { bytes_arg(jpeg, len) });
        p.payloads.clear();
        p.next = 0;
        let frame = match ParsedJpeg::parse(data) {
            Ok(f) => f,
            Err(e) => return (&e).into(),
        };
        if frame.needs_size_extension() {
            return rtsp_core_status::Unsupported;
        }
        p.payloads = p.packetizer.packetize_to_vec(&frame);
        // SAFETY: NULL or valid for a write.
        unsafe { write_opt(count, p.payloads.len()) };
        rtsp_core_status::Ok
    })
}

/// Copies the next payload of the current frame into `out` (capacity `cap`); `*len` receives its
/// length (also when the buffer is too small) and `*last` (if not NULL) whether it is the frame's
/// last payload (set the RTP marker bit on it). Returns `RTSP_CORE_STATUS_NOT_READY` when the frame
/// has no payload left.
#[no_mangle]
pub extern "C" fn rtsp_core_jpeg_packetizer_next(
    packetizer: *mut rtsp_core_jpeg_packetizer,
    out: *mut u8,
    cap: usize,
    len: *mut usize,
    last: *mut bool,
) -> rtsp_core_status {
    guard(|| {
        let p = arg_mut!(packetizer);
        let len = arg_mut!(len);
        let Some(payload) = p.payloads.get(p.next) else {
            return rtsp_core_status::NotReady;
        };
        *len = payload.len();
        if cap < payload.len() {
            return rtsp_core_status::BufferTooSmall;
        }
        // SAFETY: `cap` writable bytes per the contract.
        let buf = try_status!(unsafe { buf_arg(out, cap) });
        if let Some(dst) = buf.get_mut(..payload.len()) {
            dst.copy_from_slice(payload);
        }
        p.next += 1;
        // SAFETY: NULL or valid for a write.
        unsafe { write_opt(last, p.next == p.payloads.len()) };
        rtsp_core_status::Ok
    })
}

/// Frees a packetizer. NULL is ignored.
#[no_mangle]
pub extern "C" fn rtsp_core_jpeg_packetizer_free(packetizer: *mut rtsp_core_jpeg_packetizer) {
    let _ = guard(|| {
        if !packetizer.is_null() {
            // SAFETY: from Box::into_raw in rtsp_core_jpeg_packetizer_new, freed once.
            drop(unsafe { Box::from_raw(packetizer) });
        }
        rtsp_core_status::Ok
    });
}

/// Creates a depacketizer.
#[no_mangle]
pub extern "C" fn rtsp_core_jpeg_depacketizer_new(
    out: *mut *mut rtsp_core_jpeg_depacketizer,
) -> rtsp_core_status {
    guard(|| {
        let out = arg_mut!(out);
        *out = Box::into_raw(Box::new(rtsp_core_jpeg_depacketizer {
            depacketizer: Depacketizer::new(),
            frame: Vec::new(),
        }));
        rtsp_core_status::Ok
    })
}

/// Feeds the payload of one RTP packet, in sequence order, with its RTP timestamp and marker
/// bit. When it completes a frame, returns `RTSP_CORE_STATUS_OK` and points `*frame` at the
/// complete JPEG file (`*frame_len` bytes), borrowed until the next call on this depacketizer or
/// its free; otherwise returns `RTSP_CORE_STATUS_NOT_READY`. Frames with a missing or
/// inconsistent packet are never returned (they are counted as dropped).
#[no_mangle]
pub extern "C" fn rtsp_core_jpeg_depacketizer_push(
    depacketizer: *mut rtsp_core_jpeg_depacketizer,
    timestamp: u32,
    marker: bool,
    payload: *const u8,
    len: usize,
    frame: *mut *const u8,
    frame_len: *mut usize,
) -> rtsp_core_status {
    guard(|| {
        let d = arg_mut!(depacketizer);
        let frame = arg_mut!(frame);
        let frame_len = arg_mut!(frame_len);
        *frame = std::ptr::null();
        *frame_len = 0;
        // SAFETY: `len` readable bytes per the contract.
        let data = try_status!(unsafe { bytes_arg(payload, len) });
        match d.depacketizer.push(timestamp, marker, data) {
            Some(done) => {
                let old = std::mem::replace(&mut d.frame, done.jpeg);
                d.depacketizer.recycle(old);
                *frame = d.frame.as_ptr();
                *frame_len = d.frame.len();
                rtsp_core_status::Ok
            }
            None => rtsp_core_status::NotReady,
        }
    })
}

/// Reports how many frames were completed and how many were dropped as incomplete. Either
/// pointer may be NULL.
#[no_mangle]
pub extern "C" fn rtsp_core_jpeg_depacketizer_stats(
    depacketizer: *const rtsp_core_jpeg_depacketizer,
    frames_complete: *mut u64,
    frames_dropped: *mut u64,
) -> rtsp_core_status {
    guard(|| {
        let d = arg_ref!(depacketizer);
        let s = d.depacketizer.stats();
        // SAFETY: NULL or valid for writes.
        unsafe {
            write_opt(frames_complete, s.frames_complete);
            write_opt(frames_dropped, s.frames_dropped);
        }
        rtsp_core_status::Ok
    })
}

/// Frees a depacketizer (and the frame it lent). NULL is ignored.
#[no_mangle]
pub extern "C" fn rtsp_core_jpeg_depacketizer_free(depacketizer: *mut rtsp_core_jpeg_depacketizer) {
    let _ = guard(|| {
        if !depacketizer.is_null() {
            // SAFETY: from Box::into_raw in rtsp_core_jpeg_depacketizer_new, freed once.
            drop(unsafe { Box::from_raw(depacketizer) });
        }
        rtsp_core_status::Ok
    });
}
