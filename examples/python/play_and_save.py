#!/usr/bin/env python3
"""Play a stream with rtsp_core and save its first N frames as JPEG files.

    python play_and_save.py rtsp://127.0.0.1:8554/movie.Mjpeg -n 50 -o frames/
    python play_and_save.py --lab 127.0.0.1 8554 25000 movie.Mjpeg -n 50 -o frames/
    python play_and_save.py --serve ../../media movie.Mjpeg -n 50 -o frames/   # own server

Writes frame-0001.jpg, frame-0002.jpg, ... (the number is the frame number the stream
carries) and prints the receive statistics. Ctrl-C stops it cleanly.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import rtsp_core


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("url", nargs="?", help="rtsp://host:port/path")
    target.add_argument(
        "--lab",
        nargs=4,
        metavar=("HOST", "PORT", "RTP_PORT", "FILE"),
        help="a lab server, with the lab ClientLauncher's four values",
    )
    target.add_argument(
        "--serve",
        nargs=2,
        metavar=("MEDIA_DIR", "FILE"),
        help="start an in-process server on MEDIA_DIR and play FILE from it",
    )
    p.add_argument("-n", "--frames", type=int, default=20, help="frames to save (default 20)")
    p.add_argument("-o", "--out", type=Path, default=Path("frames"), help="output folder")
    p.add_argument("--transport", choices=["auto", "udp", "tcp"], default="auto")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for a frame")
    args = p.parse_args()

    with contextlib.ExitStack() as stack:
        if args.serve:
            server = stack.enter_context(rtsp_core.Server(args.serve[0]))
            url = server.url(args.serve[1])
            print(f"serving {args.serve[0]} at {url}")
        else:
            url = args.url
        if args.lab:
            client = rtsp_core.Client.lab(*args.lab)
        else:
            client = rtsp_core.Client(url, transport=args.transport)
        stack.enter_context(client)

        client.setup()
        client.play()
        args.out.mkdir(parents=True, exist_ok=True)
        saved = 0
        try:
            for frame in client.frames(timeout=args.timeout):
                path = args.out / f"frame-{frame.number:04d}.jpg"
                path.write_bytes(frame.data)
                saved += 1
                if saved >= args.frames:
                    break
        except rtsp_core.RtspError as e:
            print(f"stopped: {e}", file=sys.stderr)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
        stats = client.stats()
        client.teardown()

    print(f"saved {saved} frames to {args.out}/")
    print(
        f"packets {stats.packets_received} received, {stats.packets_lost} lost "
        f"({stats.loss_rate:.2%}); {stats.bytes_received} bytes, "
        f"{stats.bitrate_bps_overall / 1000:.1f} kbit/s; {stats.frames_complete} frames "
        f"at {stats.frame_rate_fps_overall:.1f} fps"
    )
    return 0 if saved else 1


if __name__ == "__main__":
    sys.exit(main())
