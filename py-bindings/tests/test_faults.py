"""Faults seen from Python: the server process killed or frozen mid-stream, UDP blocked."""

from __future__ import annotations

import io
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

import rtsp_core

# A server in a process of its own (the engine's server, as `rtsp-server` runs it), so that it
# can be killed or frozen without taking the test down. It lives until stdin closes.
CHILD_SERVER = """
import sys, rtsp_core
server = rtsp_core.Server(sys.argv[1], port=0, looping=True)
print(server.port, flush=True)
sys.stdin.read()
"""


@pytest.fixture
def server_process(media_dir: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD_SERVER, str(media_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    port = int(child.stdout.readline())
    try:
        yield child, port
    finally:
        # SIGCONT first: a frozen child never sees its stdin close.
        child.send_signal(signal.SIGCONT)
        child.kill()
        child.wait()


def take_frames(client: rtsp_core.Client, n: int) -> list[rtsp_core.Frame]:
    frames = []
    for frame in client.frames(timeout=10):
        frames.append(frame)
        if len(frames) == n:
            break
    assert len(frames) == n
    return frames


def first_error(client: rtsp_core.Client, limit: float) -> tuple[Exception, float] | None:
    deadline = time.monotonic() + limit
    while (left := deadline - time.monotonic()) > 0:
        event = client.next_event(timeout=min(left, 0.05))
        if isinstance(event, rtsp_core.ErrorEvent):
            return event.error, time.monotonic()
    return None


def test_server_killed_mid_stream_is_reported_within_2s(server_process):
    child, port = server_process
    url = f"rtsp://127.0.0.1:{port}/movie.Mjpeg"
    with rtsp_core.Client(url, transport="udp", stats_interval=None) as client:
        client.player_play()
        take_frames(client, 5)
        killed = time.monotonic()
        child.kill()  # SIGKILL: no TEARDOWN reply, no RTCP BYE
        reported = first_error(client, 5.0)
        assert reported is not None, "the killed server was never reported"
        error, at = reported
        latency = at - killed
        print(f"python: {error!r} {latency * 1000:.1f} ms after SIGKILL")
        assert isinstance(error, rtsp_core.RtspConnectionError)
        assert latency < 2.0
        assert client.state == "INIT"
        # No hang: a request fails instead of waiting for a dead server.
        with pytest.raises(rtsp_core.RtspError):
            client.pause()


def test_frozen_server_is_reported_stalled(server_process):
    child, port = server_process
    url = f"rtsp://127.0.0.1:{port}/movie.Mjpeg"
    with rtsp_core.Client(url, transport="udp", stats_interval=None, media_timeout=1.0) as client:
        client.player_play()
        take_frames(client, 5)
        frozen = time.monotonic()
        child.send_signal(signal.SIGSTOP)  # the TCP connection stays open, nothing arrives
        reported = first_error(client, 6.0)
        child.send_signal(signal.SIGCONT)
        assert reported is not None, "the frozen server was never reported"
        error, at = reported
        print(f"python: {error!r} {(at - frozen) * 1000:.1f} ms after SIGSTOP")
        assert isinstance(error, rtsp_core.RtspTimeoutError)
        assert "no media" in str(error)
        assert 0.8 <= at - frozen < 4.0
        assert client.state == "PLAYING"
        take_frames(client, 3)  # it plays on once the server is back


class UdpBlockingProxy:
    """Forwards the RTSP connection but points SETUP's client ports at sockets that swallow
    every datagram, as a firewall blocking UDP would."""

    def __init__(self, server_port: int) -> None:
        self.server_port = server_port
        self.swallowed = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sinks: list[socket.socket] = []
        self._closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.server_port))
            rewrites: list[tuple[bytes, bytes]] = []
            threading.Thread(
                target=self._pump, args=(client, upstream, rewrites, True), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(upstream, client, rewrites, False), daemon=True
            ).start()

    def _sink_pair(self) -> int:
        while True:
            rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            rtp.bind(("127.0.0.1", 0))
            port = rtp.getsockname()[1]
            rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                rtcp.bind(("127.0.0.1", port + 1))
            except OSError:
                rtp.close()
                rtcp.close()
                continue
            for s in (rtp, rtcp):
                self._sinks.append(s)
                threading.Thread(target=self._swallow, args=(s,), daemon=True).start()
            return port

    def _swallow(self, sock: socket.socket) -> None:
        while True:
            try:
                sock.recv(65536)
            except OSError:
                return
            self.swallowed += 1

    def _pump(
        self,
        src: socket.socket,
        dst: socket.socket,
        rewrites: list[tuple[bytes, bytes]],
        to_server: bool,
    ) -> None:
        with src, dst:
            while data := self._recv(src):
                if to_server and data.startswith(b"SETUP"):
                    m = re.search(rb"client_port=(\d+-\d+)", data)
                    if m:
                        port = self._sink_pair()
                        sink = b"%d-%d" % (port, port + 1)
                        rewrites.append((sink, m.group(1)))
                        data = data.replace(m.group(1), sink)
                elif not to_server:
                    for sink, original in rewrites:
                        data = data.replace(sink, original)
                try:
                    dst.sendall(data)
                except OSError:
                    return

    @staticmethod
    def _recv(sock: socket.socket) -> bytes:
        try:
            return sock.recv(65536)
        except OSError:
            return b""

    def close(self) -> None:
        self._closing = True
        self._listener.close()
        for s in self._sinks:
            s.close()


def test_udp_blocked_falls_back_to_tcp(server):
    proxy = UdpBlockingProxy(server.port)
    try:
        url = f"rtsp://127.0.0.1:{proxy.port}/movie.Mjpeg"
        with rtsp_core.Client(url, transport="auto", udp_fallback_after=1.5) as client:
            client.player_play()
            assert client.transport is not None and client.transport[0] == "udp"
            frames = take_frames(client, 10)
            assert client.transport is not None and client.transport[0] == "tcp"
            assert client.state == "PLAYING"
            assert proxy.swallowed > 0, "the server sent no UDP: nothing was blocked"
            for frame in frames:
                with Image.open(io.BytesIO(bytes(frame))) as im:
                    im.load()
                    assert im.size == (640, 480)
            print(f"python: UDP blocked ({proxy.swallowed} datagrams swallowed), TCP took over")
    finally:
        proxy.close()
