"""The Pythonic RTSP client: :class:`Client`, its events and :class:`Stats` (the engine's
statistics struct, the same in Rust, C and Python).

The protocol work runs in the Rust engine's threads; this module only adapts it to Python
(context manager, iterator of frames, optional callbacks on a helper thread).
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from os import PathLike
from typing import Any, Literal

from . import _native
from ._errors import RtspConnectionError, RtspError, RtspTimeoutError
from ._native import Frame, Stats

__all__ = [
    "Client",
    "Description",
    "EndOfStream",
    "ErrorEvent",
    "Event",
    "Frame",
    "ProtocolMessage",
    "StateChanged",
    "Stats",
    "Transport",
]

log = logging.getLogger("rtsp_core")

Transport = Literal["udp", "tcp", "auto"]


@dataclasses.dataclass(frozen=True)
class Description:
    """The answer to DESCRIBE: SDP from standard servers, free text from the lab extension."""

    content_type: str
    text: str


@dataclasses.dataclass(frozen=True)
class StateChanged:
    """The session state changed to ``state`` ("INIT", "READY" or "PLAYING")."""

    state: str


@dataclasses.dataclass(frozen=True)
class ErrorEvent:
    """Something failed in the background (keepalive, receive path, transport fallback)."""

    error: RtspError


@dataclasses.dataclass(frozen=True)
class EndOfStream:
    """The server ended the stream (RTCP BYE, or the lab's last frame)."""


@dataclasses.dataclass(frozen=True)
class ProtocolMessage:
    """One RTSP message as it crossed the wire (with ``protocol_log=True`` or ``on_message``).

    ``text`` is the message decoded as UTF-8 (invalid bytes replaced), line ends as on the
    wire, cut after 8 KiB. It never holds a password: request-URIs never carry a URL's
    ``user:password@``, and an ``Authorization`` value shows ``<redacted>`` for the Digest
    ``response`` (every other scheme keeps only its name).
    """

    direction: Literal["sent", "received"]
    """``"sent"`` by the client, or ``"received"`` from the server."""
    at: float
    """Seconds since the client was created."""
    text: str

    @property
    def first_line(self) -> str:
        """The request line or status line."""
        return self.text.split("\n", 1)[0].rstrip("\r")


Event = Frame | StateChanged | Stats | Description | ErrorEvent | EndOfStream | ProtocolMessage
"""Everything :meth:`Client.events` yields, in the order it happened."""


_open_clients: weakref.WeakSet[Client] = weakref.WeakSet()


@atexit.register
def _close_open_clients() -> None:
    # Before the interpreter finalizes: sends TEARDOWN and stops the callback threads while
    # they can still exit normally.
    for client in list(_open_clients):
        client.close()


def _event(raw: tuple[str, Any]) -> Event:
    kind, value = raw
    if kind == "frame":
        frame: Frame = value
        return frame
    if kind == "state":
        return StateChanged(value)
    if kind == "stats":
        stats: Stats = value
        return stats
    if kind == "description":
        return Description(*value)
    if kind == "error":
        return ErrorEvent(value)
    if kind == "message":
        return ProtocolMessage(*value)
    return EndOfStream()


class Client:
    """An RTSP client on the Rust engine.

    ``Client(url)`` connects to an ``rtsp://host:port/path`` URL and speaks RFC 2326 (the
    dialect of VLC, FFmpeg and GStreamer); :meth:`Client.lab` speaks the networking lab's
    dialect to a lab server. The methods block until the server answered (with the GIL
    released, and Ctrl-C interrupts them)::

        with rtsp_core.Client("rtsp://127.0.0.1:8554/movie.Mjpeg") as client:
            client.setup()
            client.play()
            for frame in client.frames(timeout=5):
                data, number, timestamp = frame

    ``transport`` picks how RTP travels in the standard dialect: ``"udp"``, ``"tcp"``
    (interleaved in the RTSP connection) or ``"auto"`` (UDP, switching to TCP when no UDP
    packet arrives within ``udp_fallback_after`` seconds). While playing, ``media_timeout``
    seconds without any RTP or RTCP packet (a server or network that stalled without closing
    the connection) are reported once as an :class:`ErrorEvent` holding an
    :class:`RtspTimeoutError`; the session is kept, so media that resumes plays on. ``None``
    disables that watchdog.

    ``rtsps://`` URLs play over TLS. The server's certificate is checked against the system's
    trusted roots, or against the CA certificates of the PEM file ``tls_ca_file``; a refused
    one raises :class:`CertificateError`. ``tls_insecure_accept_any=True`` takes any
    certificate unchecked (tests, self-made certificates on a trusted network).

    ``protocol_log=True`` adds every RTSP message sent and received to the events, as a
    :class:`ProtocolMessage` (credentials redacted), in order with the others.

    Callbacks are an alternative to :meth:`frames`: with ``on_frame`` (and/or ``on_event``,
    ``on_stats``, ``on_error``, ``on_end``, ``on_message``) a helper thread delivers every
    event to them, and :meth:`frames`/:meth:`events` are not available. ``on_message`` turns
    the protocol log on. Callbacks run on that thread, not the caller's; a slow callback only
    misses intermediate frames (counted in ``Stats.frames_dropped``).
    """

    def __init__(
        self,
        url: str,
        transport: Transport = "auto",
        *,
        reply_timeout: float = 5.0,
        stats_interval: float | None = 1.0,
        udp_fallback_after: float = 3.0,
        media_timeout: float | None = 5.0,
        username: str | None = None,
        password: str | None = None,
        protocol_log: bool = False,
        tls_ca_file: str | PathLike[str] | None = None,
        tls_insecure_accept_any: bool = False,
        on_frame: Callable[[Frame], object] | None = None,
        on_event: Callable[[Event], object] | None = None,
        on_stats: Callable[[Stats], object] | None = None,
        on_error: Callable[[RtspError], object] | None = None,
        on_end: Callable[[], object] | None = None,
        on_message: Callable[[ProtocolMessage], object] | None = None,
    ) -> None:
        core = _native.ClientCore(
            url,
            transport=transport,
            reply_timeout=reply_timeout,
            stats_interval=stats_interval,
            udp_fallback_after=udp_fallback_after,
            media_timeout=media_timeout,
            username=username,
            password=password,
            protocol_log=protocol_log or on_message is not None,
            tls_ca_file=tls_ca_file,
            tls_insecure_accept_any=tls_insecure_accept_any,
        )
        self._start(core, url, on_frame, on_event, on_stats, on_error, on_end, on_message)

    @classmethod
    def lab(
        cls,
        host: str,
        server_port: int | str,
        rtp_port: int | str = 0,
        filename: str = "movie.Mjpeg",
        *,
        reply_timeout: float = 5.0,
        stats_interval: float | None = 1.0,
        lab_end_silence: float = 2.0,
        protocol_log: bool = False,
        on_frame: Callable[[Frame], object] | None = None,
        on_event: Callable[[Event], object] | None = None,
        on_stats: Callable[[Stats], object] | None = None,
        on_error: Callable[[RtspError], object] | None = None,
        on_end: Callable[[], object] | None = None,
        on_message: Callable[[ProtocolMessage], object] | None = None,
    ) -> Client:
        """Connect in the lab's dialect, with the four values of the lab's ``ClientLauncher.py``.

        Ports may be strings (as they come from ``sys.argv``); ``rtp_port=0`` lets the system
        pick the local RTP port. RTP always travels over UDP. The lab's server just stops
        sending at the end of the file, so ``lab_end_silence`` seconds without a frame after
        the last one count as the end of the stream.
        """
        target = (host, int(server_port), int(rtp_port), filename)
        core = _native.ClientCore(
            lab=target,
            transport="udp",
            reply_timeout=reply_timeout,
            stats_interval=stats_interval,
            lab_end_silence=lab_end_silence,
            protocol_log=protocol_log or on_message is not None,
        )
        self = cls.__new__(cls)
        url = f"lab://{host}:{target[1]}/{filename}"
        self._start(core, url, on_frame, on_event, on_stats, on_error, on_end, on_message)
        return self

    def _start(self, core: _native.ClientCore, url: str, *callbacks: Any) -> None:
        self._core = core
        self.url = _without_password(url)
        """The URL, without any password from its userinfo.

        ``lab://host:port/file`` for the lab dialect.
        """
        self.ended = False
        """Whether the end of the stream was seen."""
        self._callbacks = dict(
            zip(("frame", "event", "stats", "error", "end", "message"), callbacks, strict=True)
        )
        self._pump: threading.Thread | None = None
        _open_clients.add(self)
        if any(callbacks):
            self._pump = threading.Thread(
                target=self._deliver, name="rtsp-core-callbacks", daemon=True
            )
            self._pump.start()

    # -- RTSP methods -------------------------------------------------------------------------

    def describe(self) -> Description:
        """DESCRIBE: the session description."""
        return Description(*self._core.describe())

    def setup(self) -> None:
        """SETUP: create the session (INIT -> READY)."""
        self._core.setup()

    def play(self, start: float | None = None, *, frame: int | None = None) -> None:
        """PLAY (READY -> PLAYING), from where the stream is, or from ``start`` seconds or
        ``frame`` frames from the beginning."""
        self._core.play(start, frame)

    def pause(self) -> None:
        """PAUSE (PLAYING -> READY)."""
        self._core.pause()

    def seek(
        self,
        position: float | None = None,
        *,
        frame: int | None = None,
        whence: Literal["set", "forward", "backward"] = "set",
    ) -> None:
        """Move the play position to ``position`` seconds (or ``frame`` frames), or by that
        amount with ``whence="forward"``/``"backward"``. A playing stream keeps playing from
        there. In the lab dialect this sends the report's RESTART/FORWARD/BACKWARD requests
        (20 frames each)."""
        kinds: dict[str, Literal["to", "forward", "backward"]] = {
            "set": "to",
            "forward": "forward",
            "backward": "backward",
        }
        if whence not in kinds:
            raise ValueError(f"whence must be 'set', 'forward' or 'backward', not {whence!r}")
        self._core.seek(kinds[whence], position, frame)

    def forward(self, seconds: float | None = None, *, frames: int | None = None) -> None:
        """Skip ahead (default: one second, the lab's FORWARD of 20 frames)."""
        if seconds is None and frames is None:
            seconds = 1.0
        self._core.seek("forward", seconds, frames)

    def backward(self, seconds: float | None = None, *, frames: int | None = None) -> None:
        """Skip back (default: one second, the lab's BACKWARD of 20 frames)."""
        if seconds is None and frames is None:
            seconds = 1.0
        self._core.seek("backward", seconds, frames)

    def restart(self) -> None:
        """Back to the beginning (the lab's RESTART)."""
        self._core.seek("restart")

    def teardown(self) -> None:
        """TEARDOWN: end the session (-> INIT). The connection stays open for a new SETUP."""
        self._core.teardown()

    def player_play(self) -> None:
        """A media player's Play button: SETUP if there is no session, then PLAY."""
        self._core.player_play()

    def player_pause(self) -> None:
        """A media player's Pause button: PAUSE if playing."""
        self._core.player_pause()

    def player_stop(self) -> None:
        """A media player's Stop button: TEARDOWN if a session exists."""
        self._core.player_stop()

    # -- state --------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """The session state: "INIT", "READY" or "PLAYING"."""
        return self._core.state

    @property
    def transport(self) -> tuple[str, int] | None:
        """``("udp", local_rtp_port)`` or ``("tcp", channel)`` while a session exists."""
        return self._core.transport

    @property
    def is_lab(self) -> bool:
        """Whether this client speaks the lab dialect."""
        return self._core.is_lab

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._core.closed

    def stats(self) -> Stats:
        """The receive statistics right now."""
        return self._core.stats()

    # -- events -------------------------------------------------------------------------------

    def next_event(self, timeout: float | None = None) -> Event | None:
        """The next event, waiting up to ``timeout`` seconds (None: until one arrives).
        Returns None on timeout or once the client is closed."""
        self._check_no_callbacks()
        raw = self._core.next_event(timeout)
        if raw is None:
            return None
        event = _event(raw)
        if isinstance(event, EndOfStream):
            self.ended = True
        return event

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """Every event as it happens; stops after ``timeout`` seconds without one, or when
        the client is closed."""
        while (event := self.next_event(timeout)) is not None:
            yield event

    def frames(self, timeout: float | None = 5.0) -> Iterator[Frame]:
        """The frames as they arrive, until the end of the stream.

        Raises :class:`RtspTimeoutError` when no frame arrives within ``timeout`` seconds
        (None waits forever), and :class:`RtspConnectionError` if the connection is lost.
        A consumer slower than the stream sees only the newest frame each time.
        """
        self._check_no_callbacks()
        while True:
            raw = self._core.next_event(timeout)
            if raw is None:
                if self.closed:
                    return
                raise RtspTimeoutError(f"no frame within {timeout} s")
            event = _event(raw)
            if isinstance(event, Frame):
                yield event
            elif isinstance(event, EndOfStream):
                self.ended = True
                return
            elif isinstance(event, ErrorEvent):
                if isinstance(event.error, RtspConnectionError):
                    raise event.error
                log.warning("rtsp_core: %s", event.error)

    def _check_no_callbacks(self) -> None:
        if self._pump is not None:
            raise RuntimeError("this client delivers its events to callbacks")

    def _deliver(self) -> None:
        cb = self._callbacks
        while True:
            raw = self._core.next_event(None)
            if raw is None:
                return
            event = _event(raw)
            try:
                if cb["event"] is not None:
                    cb["event"](event)
                if isinstance(event, Frame) and cb["frame"] is not None:
                    cb["frame"](event)
                elif isinstance(event, Stats) and cb["stats"] is not None:
                    cb["stats"](event)
                elif isinstance(event, ErrorEvent) and cb["error"] is not None:
                    cb["error"](event.error)
                elif isinstance(event, ProtocolMessage) and cb["message"] is not None:
                    cb["message"](event)
                elif isinstance(event, EndOfStream):
                    self.ended = True
                    if cb["end"] is not None:
                        cb["end"]()
            except Exception:  # a callback's bug must not kill delivery
                log.exception("rtsp_core: callback failed")

    # -- lifetime -----------------------------------------------------------------------------

    def close(self) -> None:
        """TEARDOWN if a session exists, then stop the engine. Idempotent."""
        self._core.close()
        _open_clients.discard(self)
        pump, self._pump = self._pump, None
        if pump is not None and pump is not threading.current_thread():
            pump.join(timeout=5)
        # Keep the marker: a callback client still refuses frames() after close.
        self._pump = pump

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.url!r}, state={self.state})"


def _without_password(url: str) -> str:
    """``rtsp://user:secret@host/x`` as ``rtsp://user@host/x``.

    The URL is shown in reprs and logs.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    userinfo, at, host = rest[:end].rpartition("@")
    if not at:
        return url
    return f"{scheme}://{userinfo.partition(':')[0]}@{host}{rest[end:]}"
