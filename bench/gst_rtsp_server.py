#!/usr/bin/python3
"""Serve a lab .Mjpeg file with GStreamer's rtsp-server, for side-by-side benchmarks.

The file's JPEG frames are pushed into an appsrc with timestamps at the nominal rate and
looped forever; rtpjpegpay (RFC 2435, mtu 1400) packetizes them. The media is shared, so all
clients get one pipeline (the cheapest way to run GStreamer's server for many viewers).

Usage: gst_rtsp_server.py --port 8555 --file media/movie.Mjpeg [--fps 20]
URL:   rtsp://127.0.0.1:PORT/movie.Mjpeg

Live mode (the fan-out benchmark): gst_rtsp_server.py --port 8555 --rtp-port 5000 serves
rtsp://127.0.0.1:PORT/live/bench from RTP/JPEG datagrams arriving on 127.0.0.1:RTP_PORT
(udpsrc ! rtpjpegdepay ! rtpjpegpay), shared by all clients: a live source relayed the way a
GStreamer user would relay a camera's RTP, reassembled and packetized once for every reader.
Needs Debian's gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-good/-bad and python3-gi.
"""

import argparse
import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def read_lab_mjpeg(path):
    """Frames of a lab .Mjpeg: 5 ASCII digits of length, then that many JPEG bytes."""
    data = open(path, "rb").read()
    frames, at = [], 0
    while at + 5 <= len(data):
        n = int(data[at:at + 5])
        frames.append(data[at + 5:at + 5 + n])
        at += 5 + n
    if not frames:
        sys.exit(f"{path}: no frames")
    return frames


class Factory(GstRtspServer.RTSPMediaFactory):
    def __init__(self, frames, fps):
        super().__init__()
        self.frames = frames
        self.fps = fps
        self.set_shared(True)
        self.set_launch(
            "( appsrc name=src is-live=false format=time "
            f"caps=image/jpeg,framerate={fps}/1 ! jpegparse ! "
            "rtpjpegpay name=pay0 pt=26 mtu=1400 )"
        )
        self.connect("media-configure", self.on_configure)

    def on_configure(self, _factory, media):
        src = media.get_element().get_child_by_name("src")
        state = {"n": 0}
        period = Gst.SECOND // self.fps

        def need_data(appsrc, _length):
            i = state["n"]
            buf = Gst.Buffer.new_wrapped(self.frames[i % len(self.frames)])
            buf.pts = i * period
            buf.duration = period
            state["n"] = i + 1
            appsrc.emit("push-buffer", buf)

        src.connect("need-data", need_data)


class LiveFactory(GstRtspServer.RTSPMediaFactory):
    def __init__(self, rtp_port):
        super().__init__()
        self.set_shared(True)
        # Once prepared the media stays up (and udpsrc bound) while readers come and go.
        self.set_suspend_mode(GstRtspServer.RTSPSuspendMode.NONE)
        self.set_launch(
            f"( udpsrc address=127.0.0.1 port={rtp_port} "
            "caps=\"application/x-rtp,media=video,encoding-name=JPEG,clock-rate=90000,payload=26\" ! "
            "rtpjpegdepay ! rtpjpegpay name=pay0 pt=26 mtu=1400 )"
        )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8555)
    ap.add_argument("--file")
    ap.add_argument("--rtp-port", type=int, help="live mode: RTP/JPEG arrives on this UDP port")
    ap.add_argument("--fps", type=int, default=20)
    args = ap.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    server.set_backlog(4096)
    if args.rtp_port:
        mount = "/live/bench"
        factory = LiveFactory(args.rtp_port)
    elif args.file:
        mount = "/" + os.path.basename(args.file)
        factory = Factory(read_lab_mjpeg(args.file), args.fps)
    else:
        sys.exit("give --file or --rtp-port")
    server.get_mount_points().add_factory(mount, factory)
    if server.attach(None) == 0:
        sys.exit(f"cannot listen on port {args.port}")
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print(f"ready rtsp://127.0.0.1:{args.port}{mount}", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
