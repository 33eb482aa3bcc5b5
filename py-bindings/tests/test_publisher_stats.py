"""Publisher.stats(): the engine's PublisherStats (rtsp_core_publisher_stats in C), with the
frames sent and refused by reason, against the in-process rtsp-server (which sends no
receiver reports to publishers)."""

from __future__ import annotations

import pytest

import rtsp_core


@pytest.fixture
def live_server(media_dir):  # type: ignore[no-untyped-def]
    with rtsp_core.Server(media_dir, publish=True) as srv:
        yield srv


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_sent_and_refused_frames_are_counted(
    live_server: rtsp_core.Server, sample_frames: list[bytes], transport: str
) -> None:
    publisher = rtsp_core.Publisher(live_server.url("live/cam"), transport=transport)
    with publisher:
        with pytest.raises(rtsp_core.FrameError):
            publisher.send(b"not a jpeg")
        with pytest.raises(rtsp_core.FrameError):
            publisher.send(sample_frames[0][: len(sample_frames[0]) // 2])
        for frame in sample_frames[:5]:
            publisher.send(frame)
        stats = publisher.stats()
        assert isinstance(stats, rtsp_core.PublisherStats)
        assert stats.frames_sent == 5
        assert stats.frames_refused_not_jpeg == 1
        assert stats.frames_refused_unsupported == 1
        assert stats.frames_refused_reencode_failed == 0
        assert stats.packets_sent >= 5
        assert stats.bytes_sent == publisher.counters()["bytes_sent"]
        # rtsp-server sends publishers no receiver reports.
        assert stats.receiver_reports == 0
        assert stats.report_jitter_ms is None
        assert stats.as_dict()["frames_sent"] == 5
        assert "frames_sent=5" in repr(stats)
    # Still there after close.
    assert publisher.closed
    assert publisher.stats().frames_sent == 5
