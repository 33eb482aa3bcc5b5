#!/usr/bin/python3
"""GStreamer's rtsp-server standing for a network camera, for the relay tests.

Serves a live JPEG test picture (videotestsrc, 320x240 at 20 fps, jpegenc, rtpjpegpay) on
rtsp://127.0.0.1:PORT/test, one pipeline shared by every client, for as long as it runs. The
first line it prints is the port it listens on.

Usage: gst_camera.py
Needs Debian's gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-good and python3-gi.
"""

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main():
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service("0")
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        "( videotestsrc is-live=true"
        " ! video/x-raw,format=I420,width=320,height=240,framerate=20/1"
        " ! jpegenc quality=85 ! rtpjpegpay name=pay0 pt=26 )"
    )
    factory.set_shared(True)
    server.get_mount_points().add_factory("/test", factory)
    server.attach(None)
    print(server.get_bound_port(), flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
