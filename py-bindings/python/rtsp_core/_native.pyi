"""Type stubs of the compiled module rtsp_core._native (import from rtsp_core instead)."""

from collections.abc import Iterator, Mapping
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

ENGINE_VERSION: str

_Bytes = bytes | bytearray

class RtpPacket:
    """An RTP packet with the lab's RtpPacket interface (see rtsp_core.RtpPacket)."""

    def __init__(self) -> None: ...
    def encode(
        self,
        version: int,
        padding: int,
        extension: int,
        cc: int,
        seqnum: int,
        marker: int,
        pt: int,
        ssrc: int,
        payload: _Bytes,
        *,
        timestamp: int | None = None,
        strict: bool = False,
    ) -> None:
        """Encode the RTP packet with header fields and payload (the lab's signature)."""
    def decode(self, byteStream: _Bytes) -> None:
        """Split a received packet into its 12-byte header and payload; ValueError if short."""
    def version(self) -> int: ...
    def seqNum(self) -> int: ...
    def timestamp(self) -> int: ...
    def payloadType(self) -> int: ...
    def getPayload(self) -> bytes: ...
    def getPacket(self) -> bytes: ...
    def marker(self) -> int: ...
    def padding(self) -> int: ...
    def extension(self) -> int: ...
    def cc(self) -> int: ...
    def ssrc(self) -> int: ...
    @property
    def header(self) -> bytes: ...
    @property
    def payload(self) -> bytes: ...

class VideoStream:
    """Reads an MJPEG file frame by frame with the lab's VideoStream interface."""

    def __init__(self, filename: str | PathLike[str]) -> None: ...
    @property
    def filename(self) -> str | PathLike[str]: ...
    def nextFrame(self) -> bytes:
        """The next frame's JPEG bytes, or b'' after the last one."""
    def frameNbr(self) -> int:
        """How many frames nextFrame() has returned."""
    def totalFrames(self) -> int: ...
    def forward(self, frames: int = 20) -> None: ...
    def backward(self, frames: int = 20) -> None: ...
    def restart(self) -> None: ...
    def toFrame(self, frameNum: int) -> None: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> VideoStream: ...
    def __next__(self) -> bytes: ...

class Frame:
    """One complete JPEG frame: data, number, timestamp (RTP) and pts (seconds)."""

    @property
    def data(self) -> bytes: ...
    @property
    def number(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def pts(self) -> float: ...
    def __bytes__(self) -> bytes: ...
    def __iter__(self) -> Iterator[Any]:
        """Unpacks as (data, number, timestamp)."""

class Stats:
    """Receive statistics: the engine's struct (rtsp_core_stats in C); see rtsp_core.Stats.

    The annotations below must match FIELDS (the tests compare them).
    """

    FIELDS: tuple[tuple[str, str], ...]
    packets_received: int
    packets_expected: int
    packets_lost: int
    packets_duplicated: int
    packets_reordered: int
    loss_rate: float
    bytes_received: int
    frames_complete: int
    frames_broken: int
    frames_dropped: int
    jitter_ms: float
    bitrate_bps_recent: float
    bitrate_bps_overall: float
    frame_rate_fps_recent: float
    frame_rate_fps_overall: float
    first_frame_latency_ms: float | None
    def __init__(self) -> None: ...
    def as_dict(self) -> dict[str, int | float | None]:
        """The fields as a dict, in FIELDS order."""

class PublisherStats:
    """A publisher's statistics: the engine's struct (rtsp_core_publisher_stats in C).

    The annotations below must match FIELDS (the tests compare them).
    """

    FIELDS: tuple[tuple[str, str], ...]
    frames_sent: int
    packets_sent: int
    bytes_sent: int
    frames_reencoded: int
    frames_refused_not_jpeg: int
    frames_refused_unsupported: int
    frames_refused_reencode_failed: int
    packets_dropped: int
    receiver_reports: int
    report_fraction_lost: float | None
    report_packets_lost: int
    report_jitter_ms: float | None
    def __init__(self) -> None: ...
    def as_dict(self) -> dict[str, int | float | None]:
        """The fields as a dict, in FIELDS order."""

class ClientCore:
    """The engine's client runtime; use rtsp_core.Client."""

    def __init__(
        self,
        url: str | None = None,
        *,
        lab: tuple[str, int, int, str] | None = None,
        transport: Literal["udp", "tcp", "auto"] = "auto",
        reply_timeout: float = 5.0,
        stats_interval: float | None = 1.0,
        udp_fallback_after: float = 3.0,
        media_timeout: float | None = 5.0,
        lab_frame_interval: float = 0.05,
        lab_end_silence: float = 2.0,
        username: str | None = None,
        password: str | None = None,
        protocol_log: bool = False,
        tls_ca_file: str | PathLike[str] | None = None,
        tls_insecure_accept_any: bool = False,
    ) -> None: ...
    @property
    def is_lab(self) -> bool: ...
    def describe(self) -> tuple[str, str]: ...
    def setup(self) -> None: ...
    def play(self, start: float | None = None, start_frame: int | None = None) -> None: ...
    def pause(self) -> None: ...
    def seek(
        self,
        kind: Literal["to", "forward", "backward", "restart"],
        seconds: float | None = None,
        frames: int | None = None,
    ) -> None: ...
    def teardown(self) -> None: ...
    def player_play(self) -> None: ...
    def player_pause(self) -> None: ...
    def player_stop(self) -> None: ...
    @property
    def state(self) -> Literal["INIT", "READY", "PLAYING"]: ...
    @property
    def transport(self) -> tuple[str, int] | None: ...
    def stats(self) -> Stats: ...
    def next_event(self, timeout: float | None = None) -> tuple[str, Any] | None: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...

class Server:
    """The project's RTSP server running in this process (both dialects)."""

    def __init__(
        self,
        media_dir: str | PathLike[str],
        port: int = 0,
        fps: float = 20.0,
        *,
        host: str = "127.0.0.1",
        session_timeout: float = 60.0,
        looping: bool = False,
        credentials: str | PathLike[str] | None = None,
        realm: str = "rtsp-server",
        auth_basic: bool = False,
        max_connections_per_address: int | None = None,
        redirects: Mapping[str, str] | None = None,
        publish: bool = False,
    ) -> None: ...
    @property
    def port(self) -> int: ...
    @property
    def host(self) -> str: ...
    @property
    def media_dir(self) -> Path: ...
    @property
    def fps(self) -> float: ...
    @property
    def closed(self) -> bool: ...
    @property
    def draining(self) -> bool: ...
    def url(self, name: str) -> str:
        """rtsp://host:port/name"""
    def drain(self) -> None:
        """New sessions get 503 with Retry-After; current ones play on to their end."""
    def close(self) -> None: ...
    def __enter__(self) -> Server: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> bool: ...

class Publisher:
    """Publishes one live RTP/JPEG stream to an RTSP server that records (ANNOUNCE/RECORD)."""

    def __init__(
        self,
        url: str,
        *,
        transport: Literal["tcp", "udp"] = "tcp",
        reply_timeout: float = 5.0,
        username: str | None = None,
        password: str | None = None,
        reencode_quality: int | None = None,
    ) -> None: ...
    def send(self, jpeg: bytes, timestamp: float | None = None) -> None:
        """Sends one JPEG frame; FrameError if RFC 2435 cannot carry it."""
    def counters(self) -> dict[str, int]: ...
    def stats(self) -> PublisherStats:
        """Frames sent, refused (by reason) and re-encoded, and the last receiver report."""
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    def __enter__(self) -> Publisher: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> bool: ...
