"""The package itself: import without Tk, stubs, docstrings, the drop-ins, the Server object."""

from __future__ import annotations

import ast
import inspect
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import rtsp_core
import rtsp_core.lab.dropin as dropin
from conftest import REPO

PACKAGE = Path(rtsp_core.__file__).parent


def test_import_needs_neither_tk_nor_pillow():
    code = "import sys, rtsp_core; print('tkinter' in sys.modules, 'PIL' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_typed_package_with_stubs():
    assert (PACKAGE / "py.typed").is_file()
    stub = (PACKAGE / "_native.pyi").read_text()
    for name in [
        "class RtpPacket",
        "class VideoStream",
        "class Server",
        "class ClientCore",
        "def seqNum",
        "def nextFrame",
        "def getPacket",
    ]:
        assert name in stub


def test_public_names_exist_and_have_docstrings():
    for name in rtsp_core.__all__:
        obj = getattr(rtsp_core, name)
        if inspect.isclass(obj):
            assert obj.__doc__ and obj.__doc__.strip(), name
    for cls in [rtsp_core.RtpPacket, rtsp_core.VideoStream, rtsp_core.Client, rtsp_core.Server]:
        for attr, member in vars(cls).items():
            if not attr.startswith("_") and callable(member):
                assert getattr(cls, attr).__doc__, f"{cls.__name__}.{attr} has no docstring"


def test_lab_method_names():
    p = rtsp_core.RtpPacket
    for name in [
        "encode",
        "decode",
        "version",
        "seqNum",
        "timestamp",
        "payloadType",
        "getPayload",
        "getPacket",
    ]:
        assert callable(getattr(p, name))
    for name in ["nextFrame", "frameNbr"]:
        assert callable(getattr(rtsp_core.VideoStream, name))


def test_dropin_installs_next_to_the_launcher(tmp_path):
    (tmp_path / "Client.py").write_text("# the student's own client\n")
    out = subprocess.run(
        [sys.executable, "-m", "rtsp_core.lab.dropin", "--all", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    for name in dropin.FILES:
        assert f"wrote {tmp_path / name}" in out.stdout
        assert len((tmp_path / name).read_text().strip().splitlines()) == 1  # one line
    # The student's file is kept the first time.
    assert (tmp_path / "Client.py.orig").read_text() == "# the student's own client\n"
    # The drop-ins import as the lab's modules do.
    code = (
        "from Client import Client; from RtpPacket import RtpPacket; "
        "from VideoStream import VideoStream; import rtsp_core, rtsp_core.lab; "
        "assert Client is rtsp_core.lab.Client and RtpPacket is rtsp_core.RtpPacket "
        "and VideoStream is rtsp_core.VideoStream"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True)
    with pytest.raises(ValueError):
        dropin.install(tmp_path, ("Server.py",))


def test_server_port_url_and_close(media_dir):
    server = rtsp_core.Server(media_dir, port=0, fps=25)
    assert server.port > 0 and server.host == "127.0.0.1" and server.fps == 25
    assert server.url("movie.Mjpeg") == f"rtsp://127.0.0.1:{server.port}/movie.Mjpeg"
    with socket.create_connection(("127.0.0.1", server.port), timeout=5):
        pass
    server.close()
    server.close()  # idempotent
    assert server.closed
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=5).close()


def test_server_context_manager_and_fixed_port(media_dir):
    from conftest import free_port

    port = free_port()
    with rtsp_core.Server(str(media_dir), port=port) as server:
        assert server.port == port
        with rtsp_core.Client(server.url("movie.Mjpeg")) as c:
            assert "JPEG/90000" in c.describe().text
    assert server.closed


def test_server_bad_arguments(tmp_path, server):
    with pytest.raises(NotADirectoryError):
        rtsp_core.Server(tmp_path / "missing")
    with pytest.raises(ValueError, match="fps"):
        rtsp_core.Server(tmp_path, fps=0)
    with pytest.raises(ValueError, match="host"):
        rtsp_core.Server(tmp_path, host="not-an-ip")
    with pytest.raises(OSError):
        rtsp_core.Server(tmp_path, port=server.port)  # already taken


@pytest.mark.parametrize(
    ("cls", "c_name"),
    [
        (rtsp_core.Stats, "rtsp_core_stats"),
        (rtsp_core.PublisherStats, "rtsp_core_publisher_stats"),
    ],
)
def test_stats_have_the_engines_fields_in_every_language(cls: Any, c_name: str) -> None:
    # The engine's field list, which the Rust compiler checks against the struct...
    fields = dict(cls.FIELDS)
    assert fields and len(fields) == len(cls.FIELDS)
    # ...is the C struct the header declares (generated from the same Rust struct)...
    header = (REPO / "rtsp-core" / "include" / "rtsp_core.h").read_text()
    body = re.search(rf"typedef struct {c_name} \{{(.*?)\}} {c_name};", header, re.S)
    assert body, f"no {c_name} in the header"
    assert re.findall(r"^\s+\w+ (\w+);", body.group(1), re.M) == list(fields)
    # ...what the type stub tells mypy...
    stub = ast.parse((PACKAGE / "_native.pyi").read_text())
    stub_cls = next(n for n in stub.body if isinstance(n, ast.ClassDef) and n.name == cls.__name__)
    declared = {
        n.target.id: ast.unparse(n.annotation)
        for n in stub_cls.body
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
    }
    declared.pop("FIELDS")
    assert declared == fields
    # ...and what an instance holds.
    stats = cls()
    assert list(stats.as_dict()) == list(fields)
    for name, kind in fields.items():
        value = getattr(stats, name)
        assert isinstance(value, {"int": int, "float": float, "float | None": type(None)}[kind])


def test_stats_reads_like_a_record() -> None:
    stats = rtsp_core.Stats()
    assert stats == rtsp_core.Stats() and "packets_received=0" in repr(stats)
    with pytest.raises(AttributeError):
        stats.bitrate_overall  # noqa: B018 - the bytes-per-second name is gone
