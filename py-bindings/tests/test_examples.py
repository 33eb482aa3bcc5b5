"""The scripts in examples/python run and do what they say."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path

import pytest

import rtsp_core
from conftest import REPO

EXAMPLES = REPO / "examples" / "python"


def run(script: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_play_and_save(tmp_path, server, sample_frames, transport):
    out = tmp_path / "frames"
    proc = run(
        "play_and_save.py",
        server.url("movie.Mjpeg"),
        "-n",
        "8",
        "-o",
        str(out),
        "--transport",
        transport,
    )
    assert proc.returncode == 0, proc.stderr
    files = sorted(out.glob("frame-*.jpg"))
    assert len(files) == 8
    assert all(f.read_bytes().startswith(b"\xff\xd8") for f in files)
    assert "saved 8 frames" in proc.stdout


def test_play_and_save_with_its_own_server(tmp_path, media_dir, sample_frames):
    out = tmp_path / "frames"
    proc = run(
        "play_and_save.py", "--serve", str(media_dir), "short.Mjpeg", "-n", "50", "-o", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    # The file has 10 frames: the stream ends before 50.
    assert 1 <= len(list(out.glob("frame-*.jpg"))) <= 10


def test_live_stats(server):
    proc = run("live_stats.py", server.url("movie.Mjpeg"), "--seconds", "3.5")
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if "fps" in line]
    assert len(rows) >= 3  # two live snapshots and the final one
    assert re.search(r"frames\s+[1-9]\d*", rows[-1])
    assert "lost 0 (0.00%)" in rows[-1]


@pytest.fixture()
def lab_server(media_dir):
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "lab_server.py"), "0", "--media", str(media_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r":(\d+),", line)
        assert match, f"no port in {line!r}"
        yield int(match.group(1))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_lab_server_example_with_the_engine_client(lab_server, sample_frames):
    with rtsp_core.Client.lab("127.0.0.1", lab_server, 0, "movie.Mjpeg") as client:
        client.setup()
        client.play()
        frames = list(itertools.islice(client.frames(timeout=5), 10))
        client.pause()
        assert client.state == "READY"
        client.teardown()
    # RtpPacket carried VideoStream's frames unchanged, numbered from 1.
    assert [f.data for f in frames] == [sample_frames[f.number - 1] for f in frames]
    assert frames[0].number <= 2


def test_lab_server_example_answers_404(lab_server):
    with rtsp_core.Client.lab("127.0.0.1", lab_server, 0, "missing.Mjpeg") as client:
        with pytest.raises(rtsp_core.StatusError) as info:
            client.setup()
    assert info.value.code == 404


def test_examples_show_usage():
    for script in ["play_and_save.py", "live_stats.py", "lab_server.py"]:
        proc = run(script, "--help")
        assert proc.returncode == 0 and "usage" in proc.stdout, script
    assert Path(EXAMPLES / "README.md").is_file()
