#!/usr/bin/python3
"""GStreamer's rtsp-server in record mode, for the publisher tests (Rust, C and Python).

Accepts one published RTP/JPEG stream on rtsp://127.0.0.1:PORT/live (ANNOUNCE, SETUP
mode=record over UDP or TCP, RECORD), depayloads and decodes it, and prints one line per decoded
frame: `frame WIDTH HEIGHT`, and one per keep-alive request (OPTIONS or GET_PARAMETER):
`keepalive METHOD`. The first line is the port it listens on. With `--user U --password
P` it requires those credentials (Basic, which is what gst-rtsp-server offers). With
`--session-timeout S` sessions expire after S seconds without a request (the default is 60).

Usage: gst_record_server.py [--user U --password P] [--session-timeout S]
Needs Debian's gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-good and python3-gi.
"""

import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def on_frame(pad, info):
    caps = pad.get_current_caps()
    s = caps.get_structure(0) if caps else None
    if s is not None:
        _, width = s.get_int("width")
        _, height = s.get_int("height")
        print(f"frame {width} {height}", flush=True)
    return Gst.PadProbeReturn.OK


def on_configure(_factory, media):
    sink = media.get_element().get_child_by_name("sink")
    sink.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, on_frame)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--session-timeout", type=int)
    args = ap.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service("0")
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_transport_mode(GstRtspServer.RTSPTransportMode.RECORD)
    factory.set_launch(
        "( rtpjpegdepay name=depay0 ! jpegparse ! jpegdec"
        " ! fakesink name=sink sync=false async=false )"
    )
    factory.set_latency(50)
    factory.connect("media-configure", on_configure)
    if args.user:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "publisher")
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password), token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        for permission in (
            GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS,
            GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT,
        ):
            permissions.add_permission_for_role("publisher", permission, True)
        factory.set_permissions(permissions)

    def on_client(_server, client):
        client.connect("options-request", lambda *_: print("keepalive OPTIONS", flush=True))
        client.connect(
            "get-parameter-request", lambda *_: print("keepalive GET_PARAMETER", flush=True)
        )
        if args.session_timeout:
            client.connect("new-session", lambda _c, s: s.set_timeout(args.session_timeout))

    server.connect("client-connected", on_client)
    server.get_mount_points().add_factory("/live", factory)
    server.attach(None)
    print(server.get_bound_port(), flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    sys.exit(main())
