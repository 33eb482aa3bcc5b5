//! `RtpPacket`: the lab's class, same method names, on the engine's lab RTP dialect.

use std::time::{SystemTime, UNIX_EPOCH};

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyBytes;
use rtsp_core::rtp::lab::{LabRtpHeader, LabRtpPacketRef};

use crate::errors::value_error;

/// Length of the fixed RTP header the lab writes.
const HEADER_SIZE: usize = 12;

/// An RTP packet with the lab's `RtpPacket` interface.
///
/// `encode(version, padding, extension, cc, seqnum, marker, pt, ssrc, payload)` builds a packet
/// the way the lab's server does (each field masked to its width, the timestamp taken from the
/// clock, a 12-byte header whatever CC says); `decode(byteStream)` splits a received packet into
/// its 12-byte header and the payload, as the lab's client does. The accessors `version()`,
/// `seqNum()`, `timestamp()`, `payloadType()`, `getPayload()` and `getPacket()` read it back.
///
/// Bad input raises `ValueError` (or `TypeError` for a wrong type) with the reason; a new
/// packet is all zeros, like the lab's `bytearray(HEADER_SIZE)`.
#[pyclass(module = "rtsp_core._native", subclass, skip_from_py_object)]
#[derive(Clone)]
pub struct RtpPacket {
    header: [u8; HEADER_SIZE],
    payload: Vec<u8>,
}

/// Checks that `value` fits the field: negative or too large values are refused, since they
/// would be silently misread (the lab's own code raised or produced garbage for them).
fn field(name: &str, value: i64, max: u64) -> PyResult<u64> {
    match u64::try_from(value) {
        Ok(v) if v <= max => Ok(v),
        _ => Err(value_error(format!(
            "RTP field {name} = {value} is out of range (0..={max})"
        ))),
    }
}

/// Small-field values above their bit width are masked like the lab does, but must still be
/// bytes: anything else is a caller mistake rather than the lab's deliberate masking.
fn small(name: &str, value: i64) -> PyResult<u8> {
    // The range check above makes the conversion infallible; map it anyway to stay panic-free.
    u8::try_from(field(name, value, 0xff)?).map_err(|_| value_error(format!("bad {name}")))
}

fn wide(name: &str, value: i64) -> PyResult<u32> {
    u32::try_from(field(name, value, u64::from(u32::MAX))?)
        .map_err(|_| value_error(format!("bad {name}")))
}

#[pymethods]
impl RtpPacket {
    /// A packet whose 12 header bytes are zero and whose payload is empty.
    #[new]
    fn new() -> Self {
        Self {
            header: [0; HEADER_SIZE],
            payload: Vec::new(),
        }
    }

    /// Encode the RTP packet with header fields and payload (the lab's signature).
    ///
    /// version, padding, extension, cc, marker and pt are masked to their bit widths (2, 1, 1,
    /// 4, 1 and 7 bits), seqnum to 16 bits (so a frame number past 65535 wraps), as the lab
    /// does; negative values, small fields above 255 and seqnum/ssrc above 2**32-1 raise
    /// `ValueError`. The timestamp is `int(time.time())` like the lab's, unless given.
    /// With `strict=True`, values a standard RTP receiver would misread (version other than 2,
    /// nonzero P/X/CC, a field wider than its width) raise `ValueError` instead of being masked.
    #[pyo3(signature = (version, padding, extension, cc, seqnum, marker, pt, ssrc, payload, *, timestamp=None, strict=false))]
    #[allow(clippy::too_many_arguments)]
    fn encode(
        &mut self,
        version: i64,
        padding: i64,
        extension: i64,
        cc: i64,
        seqnum: i64,
        marker: i64,
        pt: i64,
        ssrc: i64,
        payload: PyBackedBytes,
        timestamp: Option<i64>,
        strict: bool,
    ) -> PyResult<()> {
        let timestamp = match timestamp {
            Some(t) => wide("timestamp", t)?,
            None => {
                let secs = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                // RTP timestamps wrap modulo 2**32.
                (secs & u64::from(u32::MAX)) as u32
            }
        };
        let header = LabRtpHeader {
            version: small("version", version)?,
            padding: small("padding", padding)?,
            extension: small("extension", extension)?,
            cc: small("cc", cc)?,
            seqnum: wide("seqnum", seqnum)?,
            marker: small("marker", marker)?,
            pt: small("pt", pt)?,
            ssrc: wide("ssrc", ssrc)?,
            timestamp,
        };
        if strict {
            header.to_strict().map_err(|e| value_error(e.to_string()))?;
        }
        self.header = header.to_bytes();
        self.payload = payload.to_vec();
        Ok(())
    }

    /// Decode the RTP packet: the first 12 bytes are the header, the rest is the payload
    /// (as the lab's client reads it, whatever CC, X and P say).
    ///
    /// Raises `ValueError` for fewer than 12 bytes and leaves the packet unchanged.
    #[pyo3(name = "decode", text_signature = "($self, byteStream)")]
    fn decode(&mut self, byte_stream: PyBackedBytes) -> PyResult<()> {
        let packet =
            LabRtpPacketRef::parse(&byte_stream).map_err(|e| value_error(e.to_string()))?;
        self.header = *packet.header_bytes();
        self.payload = packet.payload().to_vec();
        Ok(())
    }

    /// Return RTP version.
    fn version(&self) -> u8 {
        self.field(|p| p.version())
    }

    /// Return sequence (frame) number.
    #[pyo3(name = "seqNum")]
    fn seq_num(&self) -> u16 {
        self.field(|p| p.seq_num())
    }

    /// Return timestamp.
    fn timestamp(&self) -> u32 {
        self.field(|p| p.timestamp())
    }

    /// Return payload type.
    #[pyo3(name = "payloadType")]
    fn payload_type(&self) -> u8 {
        self.field(|p| p.payload_type())
    }

    /// Return payload.
    #[pyo3(name = "getPayload")]
    fn get_payload<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.payload)
    }

    /// Return RTP packet: the 12 header bytes followed by the payload.
    #[pyo3(name = "getPacket")]
    fn get_packet<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        PyBytes::new_with(py, HEADER_SIZE + self.payload.len(), |buf| {
            let (head, tail) = buf.split_at_mut(HEADER_SIZE);
            head.copy_from_slice(&self.header);
            tail.copy_from_slice(&self.payload);
            Ok(())
        })
    }

    /// The marker bit (0 or 1).
    fn marker(&self) -> u8 {
        self.field(|p| u8::from(p.marker()))
    }

    /// The padding bit (0 or 1).
    fn padding(&self) -> u8 {
        self.field(|p| u8::from(p.padding()))
    }

    /// The extension bit (0 or 1).
    fn extension(&self) -> u8 {
        self.field(|p| u8::from(p.extension()))
    }

    /// The CSRC count field (no CSRC list is ever written or read).
    fn cc(&self) -> u8 {
        self.field(|p| p.cc())
    }

    /// The synchronization source identifier.
    fn ssrc(&self) -> u32 {
        self.field(|p| p.ssrc())
    }

    /// The 12 header bytes.
    #[getter]
    fn header<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.header)
    }

    /// The payload bytes (same as `getPayload()`).
    #[getter]
    fn payload<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.payload)
    }

    fn __repr__(&self) -> String {
        format!(
            "RtpPacket(version={}, seqnum={}, timestamp={}, pt={}, ssrc={}, marker={}, payload={} bytes)",
            self.version(),
            self.seq_num(),
            self.timestamp(),
            self.payload_type(),
            self.ssrc(),
            self.marker(),
            self.payload.len()
        )
    }
}

impl RtpPacket {
    /// Reads a header field through the engine's lab accessors. Parsing a 12-byte array cannot
    /// fail; the default keeps this total without a panic path.
    fn field<T: Default>(&self, read: impl Fn(&LabRtpPacketRef<'_>) -> T) -> T {
        LabRtpPacketRef::parse(&self.header)
            .map(|p| read(&p))
            .unwrap_or_default()
    }
}
