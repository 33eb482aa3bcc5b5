"""rtsp_core.Publisher against GStreamer's rtsp-server in record mode
(rtsp-core/tests/peers/gst_record_server.py), which decodes what it receives and reports the
size of every frame: N frames pushed must come out as N decoded frames, over TCP and UDP."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

import rtsp_core

REPO = Path(__file__).resolve().parents[2]
RECORD_SERVER = REPO / "rtsp-core" / "tests" / "peers" / "gst_record_server.py"
# Debian's interpreter has the GStreamer bindings (python3-gi); a venv's may not.
SYSTEM_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"
DECODE_DEADLINE = 20.0


def gst_record_available() -> bool:
    probe = (
        "import gi; gi.require_version('GstRtspServer', '1.0');"
        " from gi.repository import GstRtspServer"
    )
    return subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True).returncode == 0


class Recorder:
    """The recording server and the sizes of the frames it decoded."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [SYSTEM_PYTHON, str(RECORD_SERVER)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self.frames: list[tuple[int, int]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            words = line.split()
            if len(words) == 3 and words[0] == "frame":
                with self.lock:
                    self.frames.append((int(words[1]), int(words[2])))

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/live"

    def decoded(self) -> list[tuple[int, int]]:
        with self.lock:
            return list(self.frames)

    def wait_for(self, n: int) -> list[tuple[int, int]]:
        deadline = time.monotonic() + DECODE_DEADLINE
        while len(self.decoded()) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.decoded()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    if not gst_record_available():
        if os.environ.get("CI", "") not in ("", "0", "false"):
            pytest.fail("gst-rtsp-server (python3-gi) is not installed, and CI=true")
        pytest.skip("needs gst-rtsp-server: apt-get install gir1.2-gst-rtsp-server-1.0 python3-gi")
    r = Recorder()
    try:
        yield r
    finally:
        r.proc.kill()
        r.proc.wait(timeout=10)


def jpeg(width: int, height: int, shade: int, subsampling: int = 2) -> bytes:
    """A baseline JPEG drawn with Pillow (4:2:0 by default, standard Huffman tables)."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (shade, 255 - shade, 128)).save(
        out, "JPEG", quality=80, subsampling=subsampling
    )
    return out.getvalue()


FRAMES = 20


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_frames_pushed_are_frames_decoded(recorder: Recorder, transport: str) -> None:
    with rtsp_core.Publisher(recorder.url, transport=transport) as publisher:
        for i in range(FRAMES):
            publisher.send(jpeg(320, 240, i * 10), timestamp=i * 0.05)
            time.sleep(0.05)
        counters = publisher.counters()
        assert counters["frames_sent"] == FRAMES
        assert counters["packets_sent"] >= FRAMES
        decoded = recorder.wait_for(FRAMES)
    assert publisher.closed
    assert len(decoded) == FRAMES, decoded
    assert set(decoded) == {(320, 240)}
    with pytest.raises(rtsp_core.ClientClosedError):
        publisher.send(jpeg(320, 240, 0))


def test_bad_frames_raise_frame_error_and_the_stream_goes_on(recorder: Recorder) -> None:
    with rtsp_core.Publisher(recorder.url) as publisher:
        with pytest.raises(rtsp_core.FrameError, match="not a JPEG"):
            publisher.send(b"\x89PNG, not a JPEG")
        with pytest.raises(rtsp_core.FrameError, match="4:4:4"):
            publisher.send(jpeg(64, 48, 0, subsampling=0))
        with pytest.raises(ValueError):
            publisher.send(jpeg(64, 48, 0), timestamp=-1.0)
        assert publisher.counters()["frames_sent"] == 0
        # A lone frame may wait in GStreamer's parser for the next one: send until decoded.
        deadline = time.monotonic() + DECODE_DEADLINE
        while not recorder.decoded() and time.monotonic() < deadline:
            publisher.send(jpeg(64, 48, 0))
            time.sleep(0.05)
    assert recorder.decoded() and set(recorder.decoded()) == {(64, 48)}


def test_reencodes_when_asked(recorder: Recorder) -> None:
    with rtsp_core.Publisher(recorder.url, reencode_quality=80) as publisher:
        png = io.BytesIO()
        Image.new("RGB", (96, 64), (10, 200, 30)).save(png, "PNG")
        deadline = time.monotonic() + DECODE_DEADLINE
        while not recorder.decoded() and time.monotonic() < deadline:
            publisher.send(png.getvalue())
            time.sleep(0.05)
        counters = publisher.counters()
    assert counters["frames_reencoded"] == counters["frames_sent"] > 0
    assert set(recorder.decoded()) == {(96, 64)}


def test_connection_errors() -> None:
    with pytest.raises(rtsp_core.InvalidTarget):
        rtsp_core.Publisher("http://127.0.0.1/live")
    with pytest.raises(ValueError):
        rtsp_core.Publisher("rtsp://127.0.0.1/live", transport="carrier-pigeon")
    with pytest.raises(ValueError):
        rtsp_core.Publisher("rtsp://127.0.0.1/live", password="x")


def test_publish_camera_example_draws_and_publishes(recorder: Recorder) -> None:
    example = REPO / "examples" / "python" / "publish_camera.py"
    proc = subprocess.run(
        [sys.executable, str(example), recorder.url, "--seconds", "1.5", "--size", "160x120"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "published" in proc.stdout
    sent = int(proc.stdout.split()[1])
    assert sent > 0
    decoded = recorder.wait_for(1)
    assert decoded and set(decoded) == {(160, 120)}
