"""Shared fixtures: the sample movie, small generated media, an in-process server, Xvfb."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import rtsp_core

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "media" / "movie.Mjpeg"


def lab_frames(path: Path) -> list[bytes]:
    """Reads a lab .Mjpeg file the way the lab's own VideoStream does (5 ASCII digits of
    length, then that many bytes), as an independent reference for the engine's reader."""
    frames = []
    with open(path, "rb") as f:
        while header := f.read(5):
            frames.append(f.read(int(header)))
    return frames


def write_lab_file(path: Path, frames: list[bytes]) -> Path:
    """Writes frames in the lab format."""
    with open(path, "wb") as f:
        for frame in frames:
            f.write(b"%05d" % len(frame))
            f.write(frame)
    return path


@pytest.fixture(scope="session")
def sample() -> Path:
    assert SAMPLE.is_file(), f"sample movie missing at {SAMPLE}"
    return SAMPLE


@pytest.fixture(scope="session")
def sample_frames(sample: Path) -> list[bytes]:
    return lab_frames(sample)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory, sample: Path, sample_frames) -> Path:
    """The sample movie plus `short.Mjpeg`, its first 10 frames (to reach the end quickly)."""
    d = tmp_path_factory.mktemp("media")
    shutil.copyfile(sample, d / "movie.Mjpeg")
    write_lab_file(d / "short.Mjpeg", sample_frames[:10])
    return d


@pytest.fixture(scope="session")
def server(media_dir: Path) -> Iterator[rtsp_core.Server]:
    with rtsp_core.Server(media_dir, port=0, fps=20) as s:
        yield s


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port nothing listens on right now."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def display() -> Iterator[str]:
    """An X display: a private Xvfb (started here), or skip if there is none to be had."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        if os.environ.get("DISPLAY"):
            yield os.environ["DISPLAY"]
            return
        if os.environ.get("CI", "") not in ("", "0", "false"):
            pytest.fail("Xvfb is not installed, and CI=true: the GUI tests cannot run")
        pytest.skip("needs Xvfb (apt-get install xvfb) or a DISPLAY")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as r:
        number = r.readline().strip()
    if not number:
        proc.kill()
        pytest.fail("Xvfb did not start")
    try:
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
