//! Parses arbitrary bytes as a JPEG; whatever parses must survive packetization and
//! depacketization unchanged and parse again (frames above 2040 pixels through the ONVIF
//! header extension the first fragment carries).
use crate::jpeg::{
    Depacketizer, Packetizer, ParsedJpeg, MAX_DIMENSION, MAX_EXTENDED_DIMENSION, MIN_MAX_PAYLOAD,
    ONVIF_JPEG_PROFILE,
};
use crate::rtp::RtpExtension;

/// The `jpeg_parse` fuzz target.
pub fn jpeg_parse(data: &[u8]) {
    let Ok(frame) = ParsedJpeg::parse(data) else {
        return;
    };
    for d in [frame.width(), frame.height()] {
        assert!(d % 8 == 0 && d > 0 && d <= MAX_EXTENDED_DIMENSION);
    }
    let extended = frame.width() > MAX_DIMENSION || frame.height() > MAX_DIMENSION;
    assert_eq!(frame.needs_size_extension(), extended);
    assert!(!frame.scan_data().is_empty());

    // Let the input pick the payload size so that fragmentation varies too.
    let max_payload = MIN_MAX_PAYLOAD + usize::from(data.last().copied().unwrap_or(0)) * 7;
    let packetizer = Packetizer::with_max_payload(max_payload).expect("size above the minimum");
    let count = packetizer.fragments(&frame).len();
    let mut depacketizer = Depacketizer::with_max_frame_size(data.len() + 4096);
    let mut emitted = None;
    let mut offset = 0usize;
    for (i, fragment) in packetizer.fragments(&frame).enumerate() {
        assert!(fragment.len() <= max_payload);
        assert_eq!(fragment.is_last(), i + 1 == count);
        assert_eq!(fragment.fragment_offset() as usize, offset);
        offset += fragment.data().len();
        let payload = fragment.to_vec();
        assert_eq!(fragment.extension().is_some(), extended && i == 0);
        let extension = fragment.extension().map(|data| RtpExtension {
            profile: ONVIF_JPEG_PROFILE,
            data,
        });
        let out = depacketizer.push_with_extension(90_000, fragment.is_last(), &payload, extension);
        if let Some(out) = out {
            assert!(emitted.is_none());
            emitted = Some(out);
        }
    }
    assert_eq!(offset, frame.scan_data().len());
    let out = emitted.expect("an undamaged frame is emitted");
    assert_eq!(out.jpeg, frame.to_rtp_jpeg());
    let again = ParsedJpeg::parse(&out.jpeg).expect("the rebuilt JPEG parses");
    assert_eq!(
        again,
        ParsedJpeg::parse(&frame.to_rtp_jpeg()).expect("parses")
    );
    assert_eq!(again.scan_data(), frame.scan_data());
    assert_eq!(again.luma_quant_table(), frame.luma_quant_table());
    assert_eq!(again.chroma_quant_table(), frame.chroma_quant_table());
    assert_eq!(
        (again.width(), again.height(), again.rtp_type()),
        (frame.width(), frame.height(), frame.rtp_type())
    );
}
