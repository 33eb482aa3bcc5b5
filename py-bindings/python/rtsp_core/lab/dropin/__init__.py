"""One-line drop-in modules for the lab's own programs.

Copy them next to the lab's files and the lab's unmodified programs run on the Rust engine:

- ``Client.py`` (``from Client import Client`` in ``ClientLauncher.py``): the Tk client;
- ``RtpPacket.py`` and ``VideoStream.py`` (imported by ``ServerWorker.py`` and ``Client.py``).

``python -m rtsp_core.lab.dropin [DIR]`` copies ``Client.py`` into DIR (default: the current
folder); ``--all`` copies the three.
"""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["FILES", "install"]

FILES = ("Client.py", "RtpPacket.py", "VideoStream.py")
"""The drop-in module files shipped in this folder."""


def install(directory: str | Path = ".", files: tuple[str, ...] = ("Client.py",)) -> list[Path]:
    """Copy drop-in modules into ``directory``; returns the paths written.

    An existing file of the same name (for example the student's own ``Client.py``) is kept
    as ``<name>.orig`` the first time.
    """
    here = Path(__file__).resolve().parent
    target = Path(directory)
    written = []
    for name in files:
        if name not in FILES:
            raise ValueError(f"unknown drop-in module {name!r} (have {', '.join(FILES)})")
        dest = target / name
        if dest.exists():
            backup = dest.with_name(name + ".orig")
            if not backup.exists():
                shutil.copy2(dest, backup)
        shutil.copyfile(here / name, dest)
        written.append(dest)
    return written
