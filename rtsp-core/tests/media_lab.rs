#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The lab `.Mjpeg` format: writer/reader round trip, corrupt files, index, time and the
//! `VideoStream`-like cursor.

use std::time::Duration;

use rtsp_core::media::{
    CorruptReason, MediaError, MjpegFile, MjpegFormat, MjpegWriter, OpenOptions, TestPattern,
};

/// Real JPEG frames of different sizes.
fn frames(count: u64) -> Vec<Vec<u8>> {
    let pattern = TestPattern::new(64, 48, 20.0).unwrap();
    (0..count).map(|n| pattern.frame(n).unwrap()).collect()
}

fn lab_bytes(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut w = MjpegWriter::new(Vec::new());
    for f in frames {
        w.write_frame(f).unwrap();
    }
    w.into_inner()
}

fn corrupt(result: Result<MjpegFile, MediaError>) -> (usize, usize, CorruptReason) {
    match result {
        Err(MediaError::Corrupt {
            frame,
            offset,
            reason,
        }) => (frame, offset, reason),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn round_trip_through_a_file_on_disk() {
    let frames = frames(7);
    let bytes = lab_bytes(&frames);
    // The format is exactly "ddddd" + JPEG, as the lab's VideoStream reads it.
    assert_eq!(&bytes[..5], format!("{:05}", frames[0].len()).as_bytes());
    assert_eq!(&bytes[5..5 + frames[0].len()], &frames[0][..]);

    let dir = std::env::temp_dir().join(format!("media_lab_rt_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("clip.Mjpeg");
    std::fs::write(&path, &bytes).unwrap();
    let file = MjpegFile::open(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();

    assert_eq!(file.format(), MjpegFormat::Lab);
    assert_eq!(file.frame_count(), 7);
    assert_eq!(file.as_bytes(), &bytes[..]);
    for (n, f) in frames.iter().enumerate() {
        assert_eq!(file.frame(n).unwrap(), &f[..]);
        assert_eq!(file.frame_handle(n).unwrap().as_bytes(), &f[..]);
    }
    assert_eq!(file.frame(7), None);
    assert!(file.frame_handle(7).is_none());
    let collected: Vec<&[u8]> = file.frames().collect();
    assert_eq!(collected.len(), 7);
    assert_eq!(collected[6], &frames[6][..]);

    // Byte ranges exclude the length prefixes.
    let mut offset = 0;
    for (n, f) in frames.iter().enumerate() {
        assert_eq!(
            file.frame_range(n).unwrap(),
            offset + 5..offset + 5 + f.len()
        );
        offset += 5 + f.len();
    }
}

#[test]
fn space_padded_length_prefix_is_accepted() {
    // Python's int() accepts "  123", so a "%5d" writer produces valid lab files.
    let jpeg = &frames(1)[0];
    let mut bytes = format!("{:5}", jpeg.len()).into_bytes();
    assert_eq!(bytes[0], b' ');
    bytes.extend_from_slice(jpeg);
    let file = MjpegFile::from_bytes(bytes).unwrap();
    assert_eq!(file.frame(0).unwrap(), &jpeg[..]);
}

#[test]
fn bad_length_digits_name_the_frame_and_offset() {
    let frames = frames(3);
    let mut bytes = lab_bytes(&frames);
    let second = 5 + frames[0].len();
    bytes[second + 2] = b'x';
    let (frame, offset, reason) = corrupt(MjpegFile::from_bytes(bytes));
    assert_eq!((frame, offset), (1, second));
    assert_eq!(reason, CorruptReason::BadLengthPrefix);
}

#[test]
fn truncated_last_frame() {
    let frames = frames(3);
    let mut bytes = lab_bytes(&frames);
    bytes.truncate(bytes.len() - 10);
    let third = 10 + frames[0].len() + frames[1].len();
    let (frame, offset, reason) = corrupt(MjpegFile::from_bytes(bytes));
    assert_eq!((frame, offset), (2, third));
    assert_eq!(
        reason,
        CorruptReason::Truncated {
            needed: 5 + frames[2].len(),
            available: 5 + frames[2].len() - 10
        }
    );
}

#[test]
fn truncated_length_prefix() {
    let frames = frames(1);
    let mut bytes = lab_bytes(&frames);
    bytes.extend_from_slice(b"012");
    let (frame, offset, reason) = corrupt(MjpegFile::from_bytes(bytes));
    assert_eq!((frame, offset), (1, 5 + frames[0].len()));
    assert_eq!(
        reason,
        CorruptReason::Truncated {
            needed: 5,
            available: 3
        }
    );
}

#[test]
fn garbage_between_frames() {
    let frames = frames(3);
    let mut bytes = lab_bytes(&frames[..1]);
    let garbage_at = bytes.len();
    bytes.extend_from_slice(b"\r\n");
    bytes.extend(lab_bytes(&frames[1..]));
    let (frame, offset, reason) = corrupt(MjpegFile::from_bytes(bytes));
    assert_eq!(
        (frame, offset, reason),
        (1, garbage_at, CorruptReason::BadLengthPrefix)
    );
}

#[test]
fn length_prefix_too_short_lands_inside_the_jpeg() {
    // Frame 0 claims 2 bytes fewer than it has, so "frame 1" starts at its EOI.
    let frames = frames(2);
    let mut bytes = lab_bytes(&frames);
    let short = format!("{:05}", frames[0].len() - 2);
    bytes[..5].copy_from_slice(short.as_bytes());
    let (frame, offset, reason) = corrupt(MjpegFile::from_bytes(bytes));
    assert_eq!((frame, offset), (1, 5 + frames[0].len() - 2));
    assert_eq!(reason, CorruptReason::BadLengthPrefix);
}

#[test]
fn length_prefix_too_long_misses_the_next_soi() {
    // Frame 0 claims 3 bytes more, swallowing 3 digits of frame 1's prefix; the 2 digits left
    // and the start of the JPEG are then read as a prefix, which is not digits.
    let frames = frames(2);
    let mut bytes = lab_bytes(&frames);
    let long = format!("{:05}", frames[0].len() + 3);
    bytes[..5].copy_from_slice(long.as_bytes());
    let (frame, offset, reason) = corrupt(MjpegFile::from_bytes(bytes));
    assert_eq!((frame, offset), (1, 5 + frames[0].len() + 3));
    assert_eq!(reason, CorruptReason::BadLengthPrefix);
}

#[test]
fn frame_without_soi_and_empty_frame() {
    let (frame, offset, reason) = corrupt(MjpegFile::from_bytes(b"00004ABCD".to_vec()));
    assert_eq!((frame, offset, reason), (0, 5, CorruptReason::MissingSoi));

    let jpeg = &frames(1)[0];
    let mut bytes = lab_bytes(std::slice::from_ref(jpeg));
    bytes.extend_from_slice(b"00000");
    let (frame, offset, reason) = corrupt(MjpegFile::from_bytes(bytes));
    assert_eq!(
        (frame, offset, reason),
        (1, 5 + jpeg.len(), CorruptReason::EmptyFrame)
    );
}

#[test]
fn limits_are_enforced() {
    let frames = frames(4);
    let bytes = lab_bytes(&frames);
    let biggest = frames.iter().map(Vec::len).max().unwrap();
    let (n, _) = frames
        .iter()
        .enumerate()
        .find(|(_, f)| f.len() == biggest)
        .unwrap();
    match OpenOptions::new()
        .max_frame_size(biggest - 1)
        .open_bytes(bytes.clone())
    {
        Err(MediaError::FrameTooLarge {
            frame, size, limit, ..
        }) => {
            assert_eq!(frame, n);
            assert_eq!(size, biggest);
            assert_eq!(limit, biggest - 1);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        OpenOptions::new().max_frames(3).open_bytes(bytes.clone()),
        Err(MediaError::TooManyFrames { limit: 3 })
    ));
    assert!(OpenOptions::new().max_frames(4).open_bytes(bytes).is_ok());
}

#[test]
fn file_size_limit_on_disk() {
    let bytes = lab_bytes(&frames(2));
    let dir = std::env::temp_dir().join(format!("media_lab_limit_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.Mjpeg");
    std::fs::write(&path, &bytes).unwrap();
    let result = OpenOptions::new().max_file_size(100).open(&path);
    std::fs::remove_dir_all(&dir).unwrap();
    match result {
        Err(MediaError::FileTooLarge { size, limit: 100 }) => {
            assert_eq!(size, bytes.len() as u64)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_file_is_an_io_error() {
    assert!(matches!(
        MjpegFile::open("/nonexistent/dir/movie.Mjpeg"),
        Err(MediaError::Io(_))
    ));
}

#[test]
fn duration_and_nearest_frame() {
    let file = MjpegFile::from_bytes(lab_bytes(&frames(50))).unwrap();
    assert_eq!(file.duration(20.0), Some(Duration::from_millis(2500)));
    assert_eq!(file.duration(25.0), Some(Duration::from_secs(2)));
    assert_eq!(file.frame_at_time(0.0, 20.0), Some(0));
    assert_eq!(file.frame_at_time(0.024, 20.0), Some(0));
    assert_eq!(file.frame_at_time(0.026, 20.0), Some(1));
    assert_eq!(file.frame_at_time(1.0, 20.0), Some(20));
    assert_eq!(file.frame_at_time(2.45, 20.0), Some(49));
    assert_eq!(file.frame_at_time(100.0, 20.0), Some(49));
    assert_eq!(file.frame_at_time(-3.0, 20.0), Some(0));
}

#[test]
fn cursor_reads_like_the_lab_video_stream() {
    let frames = frames(5);
    let file = MjpegFile::from_bytes(lab_bytes(&frames)).unwrap();
    let mut stream = file.cursor();
    assert_eq!(stream.frame_nbr(), 0);
    assert_eq!(stream.frame_count(), 5);
    for (i, expected) in frames.iter().enumerate() {
        let frame = stream.next_frame().unwrap();
        assert_eq!(frame.as_bytes(), &expected[..]);
        assert_eq!(frame.index(), i);
        // The lab server sends frameNbr() as the RTP sequence number: 1 for the first frame.
        assert_eq!(stream.frame_nbr(), i + 1);
    }
    assert!(stream.is_at_end());
    assert!(stream.next_frame().is_none());
    assert!(stream.next_frame().is_none());
    assert_eq!(stream.frame_nbr(), 5);
}

#[test]
fn cursor_forward_backward_restart_seek() {
    let frames = frames(10);
    let file = MjpegFile::from_bytes(lab_bytes(&frames)).unwrap();
    let mut stream = file.cursor();

    stream.forward(3);
    assert_eq!(stream.frame_nbr(), 3);
    assert_eq!(stream.next_frame().unwrap().as_bytes(), &frames[3][..]);
    assert_eq!(stream.frame_nbr(), 4);

    stream.forward(20);
    assert_eq!(stream.frame_nbr(), 10);
    assert!(stream.next_frame().is_none());

    stream.backward(2);
    assert_eq!(stream.frame_nbr(), 8);
    assert_eq!(stream.next_frame().unwrap().as_bytes(), &frames[8][..]);

    stream.backward(20);
    assert_eq!(stream.frame_nbr(), 0);
    assert_eq!(stream.next_frame().unwrap().as_bytes(), &frames[0][..]);

    stream.forward(usize::MAX);
    assert_eq!(stream.frame_nbr(), 10);

    stream.restart();
    assert_eq!(stream.frame_nbr(), 0);
    assert_eq!(stream.remaining(), 10);

    stream.seek(6);
    assert_eq!(stream.next_frame().unwrap().index(), 6);
    stream.seek(99);
    assert_eq!(stream.frame_nbr(), 10);

    stream.restart();
    let all: Vec<usize> = stream.by_ref().map(|f| f.index()).collect();
    assert_eq!(all, (0..10).collect::<Vec<_>>());
}
