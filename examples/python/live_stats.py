#!/usr/bin/env python3
"""Play a stream and print its statistics live, once a second (with callbacks).

    python live_stats.py rtsp://127.0.0.1:8554/movie.Mjpeg --seconds 10
    python live_stats.py --lab 127.0.0.1 8554 25000 movie.Mjpeg
    python live_stats.py --serve ../../media movie.Mjpeg --transport tcp

The engine sends a statistics snapshot every second; the `on_stats` callback prints it, and
`on_frame` counts frames. Ctrl-C stops early.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time

import rtsp_core


def line(elapsed: float, s: rtsp_core.Stats) -> str:
    latency = s.first_frame_latency_ms
    first = f"{latency:.1f} ms" if latency is not None else "-"
    return (
        f"{elapsed:5.1f}s  frames {s.frames_complete:5d}  {s.frame_rate_fps_recent:5.1f} fps  "
        f"{s.bitrate_bps_recent / 1000:7.1f} kbit/s  lost {s.packets_lost} "
        f"({s.loss_rate:.2%})  jitter {s.jitter_ms:5.2f} ms  first frame {first}"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("url", nargs="?", help="rtsp://host:port/path")
    target.add_argument("--lab", nargs=4, metavar=("HOST", "PORT", "RTP_PORT", "FILE"))
    target.add_argument("--serve", nargs=2, metavar=("MEDIA_DIR", "FILE"))
    p.add_argument("--seconds", type=float, default=10.0, help="how long to play")
    p.add_argument("--transport", choices=["auto", "udp", "tcp"], default="auto")
    args = p.parse_args()

    start = time.monotonic()
    frames = 0
    ended = threading.Event()

    def on_frame(frame: rtsp_core.Frame) -> None:
        nonlocal frames
        frames += 1

    def on_stats(stats: rtsp_core.Stats) -> None:
        print(line(time.monotonic() - start, stats), flush=True)

    callbacks = dict(
        on_frame=on_frame,
        on_stats=on_stats,
        on_end=ended.set,
        on_error=lambda e: print(f"error: {e}", file=sys.stderr),
    )
    with contextlib.ExitStack() as stack:
        if args.serve:
            server = stack.enter_context(rtsp_core.Server(args.serve[0]))
            url = server.url(args.serve[1])
        else:
            url = args.url
        if args.lab:
            client = rtsp_core.Client.lab(*args.lab, **callbacks)
        else:
            client = rtsp_core.Client(url, transport=args.transport, **callbacks)
        stack.enter_context(client)
        client.player_play()  # SETUP, then PLAY
        print(f"playing {url if not args.lab else args.lab[3]} over {client.transport[0]}")
        try:
            ended.wait(args.seconds)
        except KeyboardInterrupt:
            pass
        final = client.stats()
    print("end of stream" if ended.is_set() else "stopped")
    print(line(time.monotonic() - start, final))
    print(f"{frames} frames reached the callback")
    return 0


if __name__ == "__main__":
    sys.exit(main())
