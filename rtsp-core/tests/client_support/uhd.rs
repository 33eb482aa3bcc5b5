//! A 3840x2160 MJPEG sample made at run time with the test pattern (a 4K file is too large to
//! check in).

use std::collections::HashMap;
use std::path::PathBuf;

use rtsp_core::jpeg::ParsedJpeg;
use rtsp_core::media::TestPattern;

/// A media directory holding `uhd.mjpeg` (`frames` test-pattern frames of 3840x2160), the
/// source frames, and each frame as an RFC 2435 receiver rebuilds it, mapped to its index.
pub fn uhd_media(tag: &str, frames: usize) -> (PathBuf, Vec<Vec<u8>>, HashMap<Vec<u8>, usize>) {
    let dir = std::env::temp_dir().join(format!("client_uhd_{tag}_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = TestPattern::new(3840, 2160, 20.0)
        .unwrap()
        .generate(frames)
        .unwrap();
    std::fs::write(dir.join("uhd.mjpeg"), file.as_bytes()).unwrap();
    let source: Vec<Vec<u8>> = file.frames().map(<[u8]>::to_vec).collect();
    let rebuilt = source
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let parsed = ParsedJpeg::parse(f).unwrap();
            assert!(parsed.needs_size_extension());
            (parsed.to_rtp_jpeg(), i)
        })
        .collect();
    (dir, source, rebuilt)
}
