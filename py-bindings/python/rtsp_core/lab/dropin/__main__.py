"""``python -m rtsp_core.lab.dropin [--all] [DIR]``: copy the drop-in modules into DIR."""

from __future__ import annotations

import argparse

from . import FILES, install


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m rtsp_core.lab.dropin",
        description="Copy the rtsp_core drop-in Client.py (with --all also RtpPacket.py and "
        "VideoStream.py) next to the lab's ClientLauncher.py, so it runs on the Rust engine.",
    )
    parser.add_argument("directory", nargs="?", default=".", help="where (default: here)")
    parser.add_argument("--all", action="store_true", help="also RtpPacket.py, VideoStream.py")
    args = parser.parse_args()
    for path in install(args.directory, FILES if args.all else ("Client.py",)):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
