"""The engine's client follows a server's 302 to another server (the C and Python clients
share it): it plays from the server the Location names, and the protocol log shows the move."""

from __future__ import annotations

from pathlib import Path

import pytest

import rtsp_core


def test_client_follows_a_redirect_to_another_server(media_dir: Path) -> None:
    with rtsp_core.Server(media_dir) as b:
        target = b.url("movie.Mjpeg")
        with rtsp_core.Server(media_dir, redirects={"moved.mjpg": target}) as a:
            with rtsp_core.Client(a.url("moved.mjpg"), "tcp", protocol_log=True) as c:
                c.setup()
                c.play()
                frames = []
                log = []
                for event in c.events(timeout=10):
                    if isinstance(event, rtsp_core.ProtocolMessage):
                        log.append(event)
                    elif isinstance(event, rtsp_core.Frame):
                        frames.append(event)
                        if len(frames) == 5:
                            break
    assert len(frames) == 5
    lines = [(m.direction, m.first_line) for m in log]
    assert ("received", "RTSP/1.0 302 Moved Temporarily") in lines
    moved = next(m for m in log if m.first_line.startswith("RTSP/1.0 302"))
    assert f"\r\nLocation: {target}\r\n" in moved.text
    assert ("sent", f"DESCRIBE {target} RTSP/1.0") in lines


def test_a_redirect_rule_must_name_an_rtsp_url(media_dir: Path) -> None:
    with pytest.raises(ValueError, match="rtsp://"):
        rtsp_core.Server(media_dir, redirects={"moved.mjpg": "http://elsewhere/x"})
