"""rtsp_core.Client against the in-process rtsp_core.Server: both dialects, both transports."""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import signal
import socket
import threading
import time

import pytest
from PIL import Image

import rtsp_core
from conftest import free_port

# (dialect, transport) combinations the engine supports; the lab dialect is UDP only.
MODES = [("standard", "udp"), ("standard", "tcp"), ("lab", "udp")]


def connect(server: rtsp_core.Server, dialect: str, transport: str, name="movie.Mjpeg", **kw):
    if dialect == "lab":
        return rtsp_core.Client.lab("127.0.0.1", str(server.port), "0", name, **kw)
    return rtsp_core.Client(server.url(name), transport=transport, **kw)


def is_jpeg(data: bytes, size=(640, 480)) -> bool:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.format == "JPEG" and im.size == size


@pytest.mark.parametrize("dialect, transport", MODES)
def test_setup_play_pause_teardown(server, sample_frames, dialect, transport):
    with connect(server, dialect, transport) as client:
        assert client.state == "INIT" and client.is_lab == (dialect == "lab")
        client.setup()
        assert client.state == "READY"
        kind, _ = client.transport
        assert kind == transport
        client.play()
        assert client.state == "PLAYING"
        frames = []
        for frame in client.frames(timeout=5):
            frames.append(frame)
            if len(frames) == 15:
                break
        numbers = [f.number for f in frames]
        assert numbers == sorted(numbers) and len(set(numbers)) == 15
        for f in frames:
            data, number, timestamp = f  # unpacks like a tuple
            assert bytes(f) == data and number == f.number and timestamp == f.timestamp
            if dialect == "lab":
                # The lab sends the file's bytes; the sequence number is the frame number.
                assert data == sample_frames[number - 1]
            else:
                # RFC 2435 rebuilds the headers; the picture must still decode.
                assert data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9")
        assert is_jpeg(frames[-1].data)
        assert frames[-1].pts > frames[0].pts

        client.pause()
        assert client.state == "READY"
        # Drain what was in flight, then nothing more arrives while paused.
        while client.next_event(timeout=0.3) is not None:
            pass
        assert all(not isinstance(e, rtsp_core.Frame) for e in client.events(timeout=0.3))

        stats = client.stats()
        assert isinstance(stats, rtsp_core.Stats)
        assert stats.frames_complete >= 15
        if dialect == "lab":
            assert stats.packets_received == stats.frames_complete  # one packet, one frame
        else:
            assert stats.packets_received > stats.frames_complete  # RFC 2435 fragments
        assert stats.bytes_received > 15 * 5000
        assert stats.packets_lost == stats.packets_expected - stats.packets_received
        if dialect == "standard":
            assert stats.packets_lost == 0 and stats.loss_rate == 0.0
        else:
            # The lab's sequence number is the frame number: a frame the server skips because
            # it fell behind (a loaded machine) shows up as a lost packet.
            assert 0.0 <= stats.loss_rate < 0.2
        assert stats.as_dict()["frames_complete"] == stats.frames_complete

        client.teardown()
        assert client.state == "INIT" and client.transport is None
    assert client.closed


@pytest.mark.parametrize("dialect, transport", MODES)
def test_frames_iterator_ends_at_end_of_stream(server, sample_frames, dialect, transport):
    extra = {"lab_end_silence": 1.0} if dialect == "lab" else {}
    with connect(server, dialect, transport, name="short.Mjpeg", **extra) as c:
        c.setup()
        c.play()
        frames = list(c.frames(timeout=5))  # 10 frames at 20 fps, then the end
        assert c.ended
    numbers = [f.number for f in frames]
    # A server that falls behind its clock skips to the current frame, so on a loaded
    # machine a frame may be missing; the order and the range are certain.
    assert numbers == sorted(set(numbers)) and 1 <= numbers[0] and numbers[-1] <= 10
    assert len(frames) >= 5
    if dialect == "lab":
        assert [f.data for f in frames] == [sample_frames[n - 1] for n in numbers]


@pytest.mark.parametrize("dialect, transport", MODES)
def test_callbacks(server, dialect, transport):
    got: list[rtsp_core.Frame] = []
    states: list[str] = []
    enough = threading.Event()

    def on_frame(frame):
        got.append(frame)
        if len(got) >= 5:
            enough.set()

    def on_event(event):
        if isinstance(event, rtsp_core.StateChanged):
            states.append(event.state)

    with connect(server, dialect, transport, on_frame=on_frame, on_event=on_event) as c:
        c.player_play()  # SETUP is implicit
        assert enough.wait(10), f"only {len(got)} frames through the callback"
        with pytest.raises(RuntimeError, match="callbacks"):
            next(c.frames())
    assert states[:2] == ["READY", "PLAYING"]
    assert all(is_jpeg(f.data) for f in got[:2])


def test_describe_standard(server):
    with rtsp_core.Client(server.url("movie.Mjpeg")) as c:
        d = c.describe()
    assert d.content_type == "application/sdp"
    assert "m=video 0 RTP/AVP 26" in d.text and "JPEG/90000" in d.text


def test_lab_forward_backward_restart(server):
    with rtsp_core.Client.lab("127.0.0.1", server.port, 0, "movie.Mjpeg") as c:
        c.setup()
        c.play()
        first = next(c.frames())
        c.forward()  # the report's FORWARD: 20 frames
        # A frame sent before the request may still be on its way; the jump follows it.
        after = [f.number for f in itertools.islice(c.frames(), 5)]
        assert max(after) >= first.number + 20
        c.restart()
        again = [f.number for f in itertools.islice(c.frames(), 5)]
        assert min(again) < max(after) - 15


def test_rates_are_frames_and_bits_per_second(server):
    with rtsp_core.Client(server.url("movie.Mjpeg"), transport="udp") as c:
        c.player_play()
        started = time.monotonic()
        frames = list(itertools.islice(c.frames(), 60))
        elapsed = time.monotonic() - started
        s = c.stats()
    # The server paces at 20 fps; frames over the time they span read just that.
    assert s.frame_rate_fps_overall == pytest.approx((len(frames) - 1) / elapsed, rel=0.05)
    assert s.frame_rate_fps_overall == pytest.approx(20.0, rel=0.02)
    bits_per_frame = s.bytes_received * 8 / s.frames_complete
    assert s.bitrate_bps_overall == pytest.approx(
        bits_per_frame * s.frame_rate_fps_overall, rel=0.03
    )
    assert s.first_frame_latency_ms is not None and s.first_frame_latency_ms >= 0


def test_lab_seeks_renumber_frames_without_upsetting_the_statistics(server):
    # FORWARD, BACKWARD and RESTART restart the lab's frame numbering on purpose: the frames
    # after them are neither duplicates nor losses, and one packet is one frame throughout.
    with rtsp_core.Client.lab("127.0.0.1", server.port, 0, "movie.Mjpeg") as c:
        c.setup()
        c.play()
        numbers = [f.number for f in itertools.islice(c.frames(), 10)]
        for move in (c.forward, c.backward, c.restart):
            move()
            numbers += [f.number for f in itertools.islice(c.frames(), 10)]
        c.pause()
        while c.next_event(timeout=0.3) is not None:  # what was in flight
            pass
        s = c.stats()
    assert min(numbers[-10:]) <= 10, numbers  # RESTART went back to the start
    assert s.packets_duplicated == 0, s
    assert s.packets_received == s.frames_complete, s
    assert s.packets_lost == s.packets_expected - s.packets_received, s
    # The server skips a frame only when it falls behind (a loaded machine).
    assert s.packets_lost <= 3, s


def test_standard_seek_while_playing(server, sample_frames):
    with rtsp_core.Client(server.url("movie.Mjpeg"), transport="tcp") as c:
        c.setup()
        c.play()
        next(c.frames())
        c.seek(frame=300)  # 15 s at 20 fps
        # A frame from before the seek may still be waiting; the new position follows it.
        after = list(itertools.islice(c.frames(), 5))
    assert 300 in [source_index(f.data, sample_frames) for f in after]
    assert any(f.pts == pytest.approx(15.0, abs=0.06) for f in after[1:])


def source_index(data: bytes, sample_frames: list[bytes]) -> int | None:
    """Which frame of the sample `data` is: RFC 2435 rebuilds the JPEG headers but carries the
    entropy-coded scan unchanged, so the frame's tail identifies it."""
    tail = data[-4000:]
    found = [i for i, f in enumerate(sample_frames) if f.endswith(tail)]
    return found[0] if len(found) == 1 else None


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_play_from_a_position(server, sample_frames, transport):
    with rtsp_core.Client(server.url("movie.Mjpeg"), transport=transport) as c:
        c.setup()
        c.play(start=20.0)
        frames = list(itertools.islice(c.frames(), 3))
    # 20 s at 20 fps: the stream starts at frame 400 (zero-based) and goes on in order.
    assert [source_index(f.data, sample_frames) for f in frames] == [400, 401, 402]
    assert frames[1].pts == pytest.approx(20.05, abs=0.01)
    assert is_jpeg(frames[0].data)


def test_first_frame_pts_after_play_from_a_position(server):
    for _ in range(3):
        with rtsp_core.Client(server.url("movie.Mjpeg"), transport="udp") as c:
            c.setup()
            c.play(start=20.0)
            assert next(c.frames()).pts == pytest.approx(20.0, abs=0.01)


# -- error paths ----------------------------------------------------------------------------------


def test_refused_connection():
    port = free_port()
    with pytest.raises(rtsp_core.RtspConnectionRefusedError) as info:
        rtsp_core.Client(f"rtsp://127.0.0.1:{port}/movie.Mjpeg")
    assert isinstance(info.value, ConnectionRefusedError)
    with pytest.raises(ConnectionRefusedError):
        rtsp_core.Client.lab("127.0.0.1", port, 0, "movie.Mjpeg")


def test_unknown_file_standard(server):
    with rtsp_core.Client(server.url("nope.Mjpeg")) as c:
        with pytest.raises(rtsp_core.StatusError) as info:
            c.setup()
    assert info.value.code == 404 and "404" in str(info.value)


def test_unknown_file_lab(server):
    with rtsp_core.Client.lab("127.0.0.1", server.port, 0, "nope.Mjpeg") as c:
        with pytest.raises(rtsp_core.StatusError) as info:
            c.setup()
        assert info.value.code == 404 and info.value.method == "SETUP"
        assert c.state == "INIT"


def test_path_escape_is_refused(server):
    with rtsp_core.Client.lab("127.0.0.1", server.port, 0, "../../etc/passwd") as c:
        with pytest.raises(rtsp_core.StatusError, match="404"):
            c.setup()


def test_bad_targets():
    with pytest.raises(rtsp_core.InvalidTarget):
        rtsp_core.Client("http://example.invalid/x")
    with pytest.raises(ValueError):
        rtsp_core.Client.lab("127.0.0.1", 554, 0, "two words.Mjpeg")
    with pytest.raises(ValueError, match="transport"):
        rtsp_core.Client("rtsp://127.0.0.1:1/x", transport="carrier-pigeon")
    with pytest.raises(ValueError):
        rtsp_core.Client.lab("127.0.0.1", "not a port", 0, "movie.Mjpeg")


def test_rtsps_to_a_server_without_tls_is_a_tls_error(server, tmp_path):
    url = server.url("movie.Mjpeg").replace("rtsp://", "rtsps://")
    with pytest.raises(rtsp_core.TlsError) as info:
        rtsp_core.Client(url, reply_timeout=2.0, tls_insecure_accept_any=True)
    assert isinstance(info.value, ConnectionError)
    assert not isinstance(info.value, rtsp_core.CertificateError)
    # A CA file that does not exist is named in the error.
    missing = tmp_path / "no-such-ca.pem"
    with pytest.raises(rtsp_core.TlsError, match=r"no-such-ca\.pem"):
        rtsp_core.Client(url, reply_timeout=2.0, tls_ca_file=missing)
    with pytest.raises(ValueError, match="contradict"):
        rtsp_core.Client(url, tls_ca_file=missing, tls_insecure_accept_any=True)
    assert issubclass(rtsp_core.CertificateError, rtsp_core.TlsError)


def test_state_errors_and_closed_client(server):
    c = rtsp_core.Client(server.url("movie.Mjpeg"))
    with pytest.raises(rtsp_core.StateError):
        c.play()  # before SETUP
    c.close()
    c.close()  # idempotent
    assert c.closed and c.state == "INIT"
    with pytest.raises(rtsp_core.ClientClosedError):
        c.setup()
    assert c.next_event(timeout=0.1) is None
    assert list(c.frames(timeout=0.1)) == []


def test_no_frame_in_time_raises_timeout(server):
    with rtsp_core.Client(server.url("movie.Mjpeg")) as c:
        c.setup()  # READY, nothing is sent
        with pytest.raises(rtsp_core.RtspTimeoutError) as info:
            next(c.frames(timeout=0.3))
        assert isinstance(info.value, TimeoutError)


class SilentServer:
    """Accepts RTSP connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        self.sock.close()
        for c in self.conns:
            c.close()


def test_silent_lab_server_times_out_with_a_hint():
    silent = SilentServer()
    try:
        with rtsp_core.Client.lab("127.0.0.1", silent.port, 0, "x.Mjpeg", reply_timeout=0.5) as c:
            with pytest.raises(rtsp_core.RtspTimeoutError, match="file name"):
                c.setup()
    finally:
        silent.close()


# -- the GIL and Ctrl-C -------------------------------------------------------------------------


def test_blocking_wait_releases_the_gil(server):
    counter = 0
    stop = threading.Event()

    def spin():
        nonlocal counter
        while not stop.is_set():
            counter += 1

    with rtsp_core.Client(server.url("movie.Mjpeg")) as c:
        t = threading.Thread(target=spin)
        t.start()
        try:
            assert c.next_event(timeout=1.0) is None
        finally:
            stop.set()
            t.join()
    # Python threads run while the engine waits: far more than the few switch intervals a
    # GIL-holding wait would allow.
    assert counter > 100_000


@contextlib.contextmanager
def interrupt_after(seconds: float):
    """Sends this process SIGINT (Ctrl-C) after `seconds`, and cancels it on the way out.

    Python's own Ctrl-C handler is installed for the duration: a process started in the
    background by a non-interactive shell (as CI may run the suite) inherits SIGINT ignored,
    and then Ctrl-C would never reach Python at all.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    t = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    t.start()
    try:
        yield
    finally:
        t.cancel()
        t.join()
        signal.signal(signal.SIGINT, previous)


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals")
def test_ctrl_c_interrupts_waiting_for_frames(server):
    with rtsp_core.Client(server.url("movie.Mjpeg")) as c:
        c.setup()
        while c.next_event(timeout=0.2) is not None:  # the READY state change
            pass
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt), interrupt_after(0.3):
            c.next_event(timeout=30)
        assert time.monotonic() - start < 3


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals")
def test_ctrl_c_interrupts_a_request_waiting_for_its_reply():
    silent = SilentServer()
    try:
        c = rtsp_core.Client.lab("127.0.0.1", silent.port, 0, "x.Mjpeg", reply_timeout=30)
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt), interrupt_after(0.3):
            c.setup()
        assert time.monotonic() - start < 3
        c.close()
    finally:
        silent.close()
