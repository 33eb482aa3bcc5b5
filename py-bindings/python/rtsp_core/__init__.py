"""rtsp_core: the rtsp-core RTSP/RTP/RTP-JPEG engine (Rust) for Python.

Drop-in classes with the networking lab's names and signatures:

- :class:`RtpPacket`: ``encode(version, padding, extension, cc, seqnum, marker, pt, ssrc,
  payload)``, ``decode(byteStream)``, ``version()``, ``seqNum()``, ``timestamp()``,
  ``payloadType()``, ``getPayload()``, ``getPacket()``.
- :class:`VideoStream`: ``VideoStream(filename)``, ``nextFrame()``, ``frameNbr()``, plus the
  report's ``totalFrames()``, ``forward()``, ``backward()``, ``restart()``, ``toFrame()``.
- :class:`rtsp_core.lab.Client`: the lab's Tk client on the engine (see ``rtsp_core.lab``).

A Pythonic API:

- :class:`Client`: RTSP client (standard and lab dialects, UDP or TCP), a context manager
  with an iterator of frames, optional callbacks, :class:`Stats` and an optional protocol log
  (:class:`ProtocolMessage`).
- :class:`Server`: the project's RTSP server running inside this process.
- :class:`Publisher`: pushes JPEG frames (from OpenCV, Pillow, a camera) to an RTSP server
  that records (ANNOUNCE/RECORD), as a live stream.
"""

from __future__ import annotations

from ._errors import (
    AuthenticationError,
    CertificateError,
    ClientClosedError,
    ForbiddenError,
    FrameError,
    InvalidTarget,
    MediaError,
    ProtocolError,
    RtspConnectionError,
    RtspConnectionRefusedError,
    RtspError,
    RtspTimeoutError,
    StateError,
    StatusError,
    TlsError,
)
from ._native import (
    ENGINE_VERSION,
    Frame,
    Publisher,
    PublisherStats,
    RtpPacket,
    Server,
    VideoStream,
)
from .client import (
    Client,
    Description,
    EndOfStream,
    ErrorEvent,
    Event,
    ProtocolMessage,
    StateChanged,
    Stats,
)

__version__ = ENGINE_VERSION

__all__ = [
    "AuthenticationError",
    "CertificateError",
    "Client",
    "ClientClosedError",
    "Description",
    "EndOfStream",
    "ErrorEvent",
    "Event",
    "ForbiddenError",
    "Frame",
    "FrameError",
    "InvalidTarget",
    "MediaError",
    "ProtocolError",
    "ProtocolMessage",
    "Publisher",
    "PublisherStats",
    "RtpPacket",
    "RtspConnectionError",
    "RtspConnectionRefusedError",
    "RtspError",
    "RtspTimeoutError",
    "Server",
    "StateChanged",
    "StateError",
    "Stats",
    "StatusError",
    "TlsError",
    "VideoStream",
]
