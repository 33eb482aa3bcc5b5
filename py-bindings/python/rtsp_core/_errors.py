"""Exceptions raised by rtsp_core.

Every error of the RTSP client derives from :class:`RtspError`. Some also derive from the
built-in exception a caller would naturally catch: a refused connection is a
``ConnectionRefusedError``, a missing reply a ``TimeoutError``, a bad URL a ``ValueError``.
A media file that is not MJPEG raises :class:`MediaError`, which is both an ``OSError`` (so the
lab's server, which catches ``IOError``, answers 404 instead of crashing) and a ``ValueError``.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "CertificateError",
    "ClientClosedError",
    "ForbiddenError",
    "FrameError",
    "InvalidTarget",
    "MediaError",
    "ProtocolError",
    "RtspConnectionError",
    "RtspConnectionRefusedError",
    "RtspError",
    "RtspTimeoutError",
    "StateError",
    "StatusError",
    "TlsError",
]


class RtspError(Exception):
    """Base class of every error of the RTSP client."""


class InvalidTarget(RtspError, ValueError):
    """The URL or the lab target (host, port, file name) cannot be used."""


class RtspConnectionError(RtspError, ConnectionError):
    """The RTSP connection failed or was closed by the server."""


class RtspConnectionRefusedError(RtspConnectionError, ConnectionRefusedError):
    """Nothing listens on the server's address and port."""


class RtspTimeoutError(RtspError, TimeoutError):
    """No reply (or no frame) arrived in time.

    The lab's Python server answers errors such as an unknown file with silence, so against a
    lab server this usually means the file name is wrong.
    """


class StatusError(RtspError):
    """The server answered a request with a non-2xx status (404 for an unknown file).

    Attributes: ``method`` (the request), ``code`` (the status code), ``reason`` (the phrase).
    """

    method: str
    code: int
    reason: str

    def __init__(self, message: str, method: str = "", code: int = 0, reason: str = "") -> None:
        super().__init__(message)
        self.method = method
        self.code = code
        self.reason = reason


class ForbiddenError(StatusError, PermissionError):
    """The server refused the request for this user (403 Forbidden), for example a user who
    may read a path but not publish it. ``reason`` is the server's explanation; ``code`` is
    403. A :class:`StatusError`, so code that catches those still catches it."""


class StateError(RtspError):
    """The request is not allowed in the session's state (for example PLAY before SETUP)."""


class ProtocolError(RtspError):
    """The server's reply is malformed, or it offers nothing this client can play."""


class ClientClosedError(RtspError):
    """The client was closed."""


class FrameError(RtspError, ValueError):
    """A frame given to :class:`Publisher` cannot be sent: it is not a JPEG that RFC 2435 can
    carry (progressive, 4:4:4, not a JPEG at all...), or re-encoding it failed. Nothing was
    sent; the stream goes on."""


class MediaError(OSError, ValueError):
    """A media file is not a usable MJPEG file (corrupt, empty, too large)."""


class AuthenticationError(RtspError, PermissionError):
    """The server requires authentication and refused the credentials (or none were given).

    Attribute: ``realm`` (the realm the server named, "" if none).
    """

    realm: str

    def __init__(self, message: str, realm: str = "") -> None:
        super().__init__(message)
        self.realm = realm


class TlsError(RtspConnectionError):
    """``rtsps://``: TLS failed (no common version or cipher, an unreadable CA file, no TLS on
    the port)."""


class CertificateError(TlsError):
    """``rtsps://``: the server's certificate is not trusted (unknown CA, expired, another
    name). ``tls_ca_file`` names a CA to trust; ``tls_insecure_accept_any=True`` skips the
    check (anyone on the path can then read and change the stream)."""
