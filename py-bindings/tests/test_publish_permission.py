"""Who may publish: with credentials and publish=True, a reader's Publisher is refused with
403 (ForbiddenError, a StatusError and a PermissionError, with the server's reason), a user
marked `publish` in the credentials file publishes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import rtsp_core

REALM = "rtsp-server"
PASSWORD = "pw-0123"


def _entry(user: str, suffix: str = "") -> str:
    ha1 = f"{user}:{REALM}:{PASSWORD}".encode()
    md5, sha = hashlib.md5(ha1).hexdigest(), hashlib.sha256(ha1).hexdigest()
    return f"{user}:{REALM}:{md5}:{sha}{suffix}\n"


@pytest.fixture
def server(media_dir: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    users = tmp_path / "users"
    users.write_text(_entry("reader") + _entry("camera", ":publish"))
    users.chmod(0o600)
    with rtsp_core.Server(media_dir, credentials=users, publish=True) as srv:
        yield srv


def test_a_reader_is_refused_with_403(server: rtsp_core.Server) -> None:
    with pytest.raises(rtsp_core.StatusError) as info:
        rtsp_core.Publisher(server.url("live/cam"), username="reader", password=PASSWORD)
    assert (info.value.method, info.value.code) == ("ANNOUNCE", 403)
    # A wrong password is an authentication failure, not a permission one.
    with pytest.raises(rtsp_core.AuthenticationError):
        rtsp_core.Publisher(server.url("live/cam"), username="camera", password="wrong")


def test_forbidden_is_a_status_and_permission_error() -> None:
    assert issubclass(rtsp_core.ForbiddenError, rtsp_core.StatusError)
    assert issubclass(rtsp_core.ForbiddenError, PermissionError)
    assert not issubclass(rtsp_core.ForbiddenError, rtsp_core.AuthenticationError)


def test_a_reader_gets_forbidden_with_the_servers_reason(server: rtsp_core.Server) -> None:
    with pytest.raises(rtsp_core.ForbiddenError) as info:
        rtsp_core.Publisher(server.url("live/cam"), username="reader", password=PASSWORD)
    assert (info.value.method, info.value.code) == ("ANNOUNCE", 403)
    assert "may not publish, only read" in info.value.reason, info.value.reason
    assert "may not publish, only read" in str(info.value)
    # The refusal is about publishing: the same user reads.
    with rtsp_core.Client(
        server.url("movie.Mjpeg"), username="reader", password=PASSWORD
    ) as client:
        client.describe()


def test_a_publisher_publishes(server: rtsp_core.Server, sample_frames: list[bytes]) -> None:
    with rtsp_core.Publisher(
        server.url("live/cam"), username="camera", password=PASSWORD
    ) as publisher:
        for frame in sample_frames[:5]:
            publisher.send(frame)
        assert publisher.counters()["frames_sent"] == 5
