//! MJPEG indexing: the first byte picks the format (detected, lab, raw) and whether a small
//! frame limit applies; the rest is the file. Indexing must never panic, and what it accepts
//! must be consistent.
use crate::media::{MjpegFormat, OpenOptions};

/// The `mjpeg_reader` fuzz target.
pub fn mjpeg_reader(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let mut options = OpenOptions::new().max_frames(10_000);
    options = match selector % 3 {
        1 => options.format(MjpegFormat::Lab),
        2 => options.format(MjpegFormat::Raw),
        _ => options,
    };
    if selector & 0x80 != 0 {
        options = options.max_frame_size(usize::from(selector & 0x3F) + 4);
    }
    let Ok(file) = options.open_bytes(body) else {
        return;
    };
    assert!(file.frame_count() > 0);
    assert_eq!(file.as_bytes(), body);
    let mut previous_end = 0;
    for (n, frame) in file.frames().enumerate() {
        let range = file.frame_range(n).unwrap();
        assert!(range.start >= previous_end && range.end <= body.len());
        assert_eq!(frame, &body[range.clone()]);
        assert!(frame.starts_with(&[0xFF, 0xD8]));
        if file.format() == MjpegFormat::Raw {
            assert!(frame.ends_with(&[0xFF, 0xD9]));
            assert_eq!(range.start, previous_end);
        }
        previous_end = range.end;
    }
    assert_eq!(previous_end, body.len());
    assert!(file.frame(file.frame_count()).is_none());

    // Cursor moves driven by the data itself.
    let mut cursor = file.cursor();
    for &b in body.iter().take(64) {
        match b % 5 {
            0 => drop(cursor.next_frame()),
            1 => cursor.forward(usize::from(b)),
            2 => cursor.backward(usize::from(b)),
            3 => cursor.seek(usize::from(b)),
            _ => cursor.restart(),
        }
        assert!(cursor.frame_nbr() <= file.frame_count());
    }
    let t = f64::from(selector) / 7.0;
    let nearest = file.frame_at_time(t, 20.0).unwrap();
    assert!(nearest < file.frame_count());
    let _ = file.duration(f64::from(selector));
}
