"""rtsp_core.VideoStream against the lab's documented behaviour and the report's extension."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_lab_file
from rtsp_core import MediaError, VideoStream


def test_next_frame_over_the_sample_to_the_end(sample, sample_frames):
    stream = VideoStream(str(sample))
    assert stream.frameNbr() == 0
    n = 0
    while data := stream.nextFrame():
        assert data == sample_frames[n], f"frame {n + 1} differs from the lab's reading"
        n += 1
        assert stream.frameNbr() == n
    assert n == len(sample_frames) == stream.totalFrames() == len(stream) == 500
    # At the end the lab's nextFrame keeps returning b'' and the number stays.
    assert stream.nextFrame() == b""
    assert stream.frameNbr() == n


def test_frames_are_whole_jpegs(sample):
    stream = VideoStream(sample)  # a Path works too
    for frame in stream:
        assert frame[:2] == b"\xff\xd8" and frame[-2:] == b"\xff\xd9"
    assert stream.frameNbr() == 500


def test_filename_is_kept(sample):
    assert VideoStream(str(sample)).filename == str(sample)


def test_forward_backward_restart_and_to_frame(sample, sample_frames):
    s = VideoStream(str(sample))
    s.nextFrame()
    s.forward()  # the report's 20 frames
    assert s.frameNbr() == 21
    assert s.nextFrame() == sample_frames[21]
    s.backward(5)
    assert s.frameNbr() == 17
    assert s.nextFrame() == sample_frames[17]
    s.backward(1000)
    assert s.frameNbr() == 0
    s.forward(10_000)
    assert s.frameNbr() == 500 and s.nextFrame() == b""
    s.restart()
    assert s.frameNbr() == 0 and s.nextFrame() == sample_frames[0]
    s.toFrame(250)
    assert s.frameNbr() == 250 and s.nextFrame() == sample_frames[250]
    s.toFrame(500)
    assert s.nextFrame() == b""
    with pytest.raises(ValueError, match="past the end"):
        s.toFrame(501)


def test_missing_file_raises_ioerror_like_the_lab(tmp_path):
    # The lab's ServerWorker catches IOError to answer 404: FileNotFoundError is one.
    with pytest.raises(FileNotFoundError):
        VideoStream(str(tmp_path / "nope.Mjpeg"))
    with pytest.raises(IOError):
        VideoStream(str(tmp_path))


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "no frames"),
        (b"abcdefghij", "not 5 decimal digits"),
        (b"00010\xff\xd8\xff", "truncated"),
        (b"00000", "zero"),
    ],
)
def test_corrupt_files_raise_media_error(tmp_path, content, reason):
    path = tmp_path / "bad.Mjpeg"
    path.write_bytes(content)
    with pytest.raises(MediaError, match=reason) as info:
        VideoStream(str(path))
    # An OSError (the lab's server answers 404 instead of crashing) and a ValueError.
    assert isinstance(info.value, OSError) and isinstance(info.value, ValueError)


def test_small_generated_file(tmp_path: Path, sample_frames):
    path = write_lab_file(tmp_path / "three.Mjpeg", sample_frames[:3])
    s = VideoStream(str(path))
    assert [s.nextFrame() for _ in range(4)] == [*sample_frames[:3], b""]
    assert repr(s).endswith("frame 3 of 3)")
