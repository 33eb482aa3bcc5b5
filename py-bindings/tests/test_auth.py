"""Authentication: an in-process Server with a credentials file, Clients with and without
credentials (keyword arguments and URL userinfo), over real loopback sockets."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import rtsp_core

USER = "alice"
PASSWORD = "p@ss:word"
REALM = "rtsp-server"


def _entry(user: str, password: str, realm: str = REALM) -> str:
    ha1 = f"{user}:{realm}:{password}".encode()
    return f"{user}:{realm}:{hashlib.md5(ha1).hexdigest()}:{hashlib.sha256(ha1).hexdigest()}\n"


@pytest.fixture
def credentials(tmp_path: Path) -> Path:
    path = tmp_path / "users"
    path.write_text("# test users\n" + _entry(USER, PASSWORD))
    path.chmod(0o600)
    return path


@pytest.fixture
def server(media_dir: Path, credentials: Path):  # type: ignore[no-untyped-def]
    with rtsp_core.Server(media_dir, credentials=credentials) as srv:
        yield srv


def _frames(client: rtsp_core.Client, n: int = 5) -> int:
    client.player_play()
    got = 0
    for _ in client.frames(timeout=10.0):
        got += 1
        if got == n:
            break
    return got


def test_keyword_credentials_play(server: rtsp_core.Server) -> None:
    with rtsp_core.Client(server.url("movie.Mjpeg"), "tcp", username=USER, password=PASSWORD) as c:
        assert _frames(c) == 5


def test_url_userinfo_is_used_and_not_shown(server: rtsp_core.Server) -> None:
    url = server.url("movie.Mjpeg").replace("rtsp://", "rtsp://alice:p%40ss%3Aword@")
    with rtsp_core.Client(url, "tcp") as c:
        assert "word" not in repr(c) and "alice@" in c.url
        assert _frames(c) == 5


@pytest.mark.parametrize("password", ["wrong", None])
def test_refused_credentials_raise_authentication_error(
    server: rtsp_core.Server, password: str | None
) -> None:
    kwargs = {"username": USER, "password": password} if password else {}
    with rtsp_core.Client(server.url("movie.Mjpeg"), "tcp", **kwargs) as c:  # type: ignore[arg-type]
        with pytest.raises(rtsp_core.AuthenticationError) as info:
            c.player_play()
    assert info.value.realm == REALM
    assert isinstance(info.value, PermissionError)


def test_bad_credentials_file_is_a_value_error(media_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.write_text("alice:rtsp-server:nothex\n")
    with pytest.raises(ValueError, match="line 1"):
        rtsp_core.Server(media_dir, credentials=bad)
