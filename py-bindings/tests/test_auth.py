"""Authentication: an in-process Server with a credentials file, Clients with and without
credentials (keyword arguments and URL userinfo), over real loopback sockets."""

from __future__ import annotations

import hashlib
import itertools
import threading
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


def test_protocol_log_shows_the_digest_exchange_without_the_password(
    server: rtsp_core.Server,
) -> None:
    url = server.url("movie.Mjpeg").replace("rtsp://", "rtsp://alice:p%40ss%3Aword@")
    with rtsp_core.Client(url, "tcp", protocol_log=True) as c:
        c.describe()
        events = list(c.events(timeout=0.5))
    log = [e for e in events if isinstance(e, rtsp_core.ProtocolMessage)]
    bare = server.url("movie.Mjpeg")
    assert [(m.direction, m.first_line) for m in log] == [
        ("sent", f"OPTIONS {bare} RTSP/1.0"),
        ("received", "RTSP/1.0 200 OK"),
        ("sent", f"DESCRIBE {bare} RTSP/1.0"),
        ("received", "RTSP/1.0 401 Unauthorized"),
        ("sent", f"DESCRIBE {bare} RTSP/1.0"),
        ("received", "RTSP/1.0 200 OK"),
    ]
    assert '\r\nAuthorization: Digest username="alice", ' in log[4].text
    assert "response=<redacted>" in log[4].text
    assert all(a.at <= b.at for a, b in itertools.pairwise(log))
    for m in log:
        assert "word" not in m.text and "alice:" not in m.text


def test_on_message_turns_the_log_on_and_plain_clients_have_none(
    server: rtsp_core.Server,
) -> None:
    seen: list[rtsp_core.ProtocolMessage] = []
    done = threading.Event()

    def on_message(m: rtsp_core.ProtocolMessage) -> None:
        seen.append(m)
        if m.first_line.startswith("RTSP/1.0 200") and "Content-Type: application/sdp" in m.text:
            done.set()

    with rtsp_core.Client(
        server.url("movie.Mjpeg"), "tcp", username=USER, password=PASSWORD, on_message=on_message
    ) as c:
        c.describe()
        assert done.wait(5)
    assert [m.direction for m in seen[:2]] == ["sent", "received"]
    with rtsp_core.Client(server.url("movie.Mjpeg"), "tcp", username=USER, password=PASSWORD) as c:
        c.describe()
        events = list(c.events(timeout=0.5))
    assert events and not any(isinstance(e, rtsp_core.ProtocolMessage) for e in events)
