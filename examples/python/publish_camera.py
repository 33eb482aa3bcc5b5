#!/usr/bin/env python3
"""Publish a live camera (or a drawn test card) to an RTSP server that records.

    python publish_camera.py rtsp://127.0.0.1:8554/live/cam --seconds 10
    python publish_camera.py rtsp://user:pw@host/live/cam --source 0       # OpenCV camera 0
    python publish_camera.py rtsp://host/live/cam --source video.mp4 --transport udp

Without OpenCV (or without --source) the frames are drawn with Pillow: a moving bar and the
frame number. With OpenCV installed, --source is any OpenCV capture (a camera index, a file,
an RTSP or HTTP URL); its frames are JPEG-encoded with OpenCV. Each frame is sent with its
capture time; Ctrl-C stops.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import sys
import time
from collections.abc import Iterator
from typing import Any

from PIL import Image, ImageDraw

import rtsp_core


def drawn_frames(width: int, height: int) -> Iterator[bytes]:
    """A test card: a bar sweeping across and the frame number, as 4:2:0 baseline JPEGs."""
    n = 0
    while True:
        image = Image.new("RGB", (width, height), (20, 40, 80))
        draw = ImageDraw.Draw(image)
        x = (n * 8) % width
        draw.rectangle((x, 0, x + width // 10, height), fill=(240, 200, 40))
        draw.text((10, 10), f"frame {n}", fill=(255, 255, 255))
        out = io.BytesIO()
        # Pillow's defaults: baseline, 4:2:0, the standard Huffman tables RFC 2435 needs.
        image.save(out, "JPEG", quality=80)
        yield out.getvalue()
        n += 1


def opencv_frames(source: str) -> Iterator[bytes]:
    """JPEG frames from any OpenCV capture source."""
    cv2: Any = __import__("cv2")
    capture = cv2.VideoCapture(int(source) if source.isdigit() else source)
    if not capture.isOpened():
        raise SystemExit(f"OpenCV cannot open {source!r}")
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
            if ok:
                yield jpeg.tobytes()
    finally:
        capture.release()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("url", help="rtsp://[user:password@]host[:port]/path")
    p.add_argument("--source", help="OpenCV capture source (camera index, file, URL)")
    p.add_argument("--seconds", type=float, default=10.0, help="how long to publish")
    p.add_argument("--fps", type=float, default=20.0, help="frame rate of the drawn card")
    p.add_argument("--size", default="640x480", help="size of the drawn card, WxH")
    p.add_argument("--transport", choices=["tcp", "udp"], default="tcp")
    args = p.parse_args()

    if args.source is not None:
        if importlib.util.find_spec("cv2") is None:
            print("--source needs OpenCV (pip install opencv-python-headless)", file=sys.stderr)
            return 2
        frames = opencv_frames(args.source)
    else:
        width, height = (int(v) for v in args.size.split("x"))
        frames = drawn_frames(width, height)

    period = 1.0 / args.fps
    start = time.monotonic()
    sent = 0
    # reencode_quality: OpenCV may write 4:4:4 JPEGs, which RFC 2435 cannot carry.
    with rtsp_core.Publisher(args.url, transport=args.transport, reencode_quality=80) as pub:
        try:
            for jpeg in frames:
                now = time.monotonic()
                if now - start >= args.seconds:
                    break
                pub.send(jpeg, timestamp=now - start)
                sent += 1
                if args.source is None:
                    time.sleep(max(0.0, start + sent * period - time.monotonic()))
        except KeyboardInterrupt:
            pass
        counters = pub.counters()
    print(f"published {sent} frames ({counters['frames_reencoded']} re-encoded) to {args.url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
