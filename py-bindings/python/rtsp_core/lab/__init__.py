"""The networking lab's programs on the Rust engine.

- :class:`Client`: the lab's Tk client window (``Client(master, serveraddr, serverport,
  rtpport, filename)``), a drop-in for the lab's ``Client.py``.
- :mod:`rtsp_core.lab.dropin`: one-line modules ``Client.py``, ``RtpPacket.py`` and
  ``VideoStream.py`` to put next to the lab's unmodified ``ClientLauncher.py`` /
  ``Server.py``; ``python -m rtsp_core.lab.dropin [DIR]`` copies them there.

Importing this package needs tkinter and Pillow (``import rtsp_core`` alone needs neither).
"""

from __future__ import annotations

from .client import Client, format_stats

__all__ = ["Client", "format_stats"]
