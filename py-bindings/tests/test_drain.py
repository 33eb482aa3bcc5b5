"""Server.drain(): new sessions are refused with 503, the session already playing goes on."""

from __future__ import annotations

import pytest

import rtsp_core


def test_drain_refuses_new_sessions_and_keeps_the_current_one(media_dir):
    with rtsp_core.Server(media_dir, port=0, fps=20) as server:
        assert not server.draining
        with rtsp_core.Client(server.url("movie.Mjpeg"), transport="tcp") as playing:
            playing.setup()
            playing.play()
            first = next(iter(playing.frames(timeout=10)))
            server.drain()
            server.drain()
            assert server.draining
            with rtsp_core.Client(server.url("movie.Mjpeg"), transport="tcp") as newcomer:
                with pytest.raises(rtsp_core.StatusError) as refused:
                    newcomer.setup()
                assert refused.value.code == 503
            later = []
            for frame in playing.frames(timeout=10):
                later.append(frame)
                if len(later) == 10:
                    break
            assert len(later) == 10 and later[0].number > first.number
    assert not server.draining
