//! SDP reading: parse arbitrary bytes; when they parse, every accessor must work, and control
//! URL resolution must accept any base and control text.
use crate::sdp::{resolve_control_url, session_base_url, NptRange, Sdp};

/// The `sdp` fuzz target.
pub fn sdp(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let base = text.lines().next().unwrap_or("rtsp://h/m/");
    let _ = resolve_control_url(base, text.lines().nth(1).unwrap_or("track1"));
    let _ = session_base_url(Some(base), None, "rtsp://h/m");
    let _ = NptRange::parse(&text).map(|r| (r.duration(), r.is_live()));

    let Ok(sdp) = Sdp::parse_bytes(data) else {
        return;
    };
    let _ = (
        sdp.origin(),
        sdp.session_name(),
        sdp.connection(),
        sdp.bandwidths(),
    );
    let _ = (sdp.control(), sdp.attribute("tool"), sdp.attributes().len());
    let _ = sdp.aggregate_url("rtsp://h:8554/movie/");
    if let Some(range) = sdp.range() {
        let _ = (range.duration(), range.is_live());
    }
    for media in sdp.media() {
        let _ = (
            media.kind(),
            media.port(),
            media.port_count(),
            media.protocol(),
        );
        let _ = (
            media.formats(),
            media.connection(),
            sdp.connection_for(media),
        );
        let _ = (media.payload_type(), media.rtpmap(), media.control());
        let _ = media.control_url("rtsp://h:8554/movie");
        if let Some(fps) = media.framerate() {
            assert!(fps.is_finite() && fps > 0.0);
        }
        if let Some(d) = media.dimensions() {
            assert!(d.width > 0 && d.height > 0);
        }
        let _ = media.range();
    }
    let _ = sdp.video();
}
