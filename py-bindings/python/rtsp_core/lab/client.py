"""The lab's Tk client (``Client.py``) on the Rust engine.

Same constructor, widgets and buttons as the lab's ``Client``: ``Client(master, serveraddr,
serverport, rtpport, filename)``, the four buttons Setup/Play/Pause/Teardown (attributes
``setup``, ``start``, ``pause``, ``teardown``) under the video ``label``, the
confirmation when the window is closed, and the lab report's statistics printed at teardown.

The RTSP and RTP work is the engine's. RTSP requests run one at a time on a worker thread, so a
slow server never freezes the window, and frames reach the Tk main loop through a short
``after()`` poll that never blocks it: Tk is only ever touched from the main loop's thread.
"""

from __future__ import annotations

import io
import os
import queue
import sys
import threading
import tkinter
from tkinter import messagebox as tkMessageBox
from typing import Any

from PIL import Image, ImageTk

from .. import _errors
from .._native import Frame
from ..client import Client as RtspClient
from ..client import EndOfStream, StateChanged, Stats

__all__ = ["Client", "format_stats"]

CACHE_FILE_NAME = "cache-"
CACHE_FILE_EXT = ".jpg"

_STATES = {"INIT": 0, "READY": 1, "PLAYING": 2}


def format_stats(stats: Stats) -> str:
    """The lab report's statistics printout (extension 1) for ``stats``: like the report, it
    gives the data rate in bytes per second (the engine measures bits per second)."""
    byte_rate = stats.bitrate_bps_overall / 8
    seconds = stats.bytes_received / byte_rate if byte_rate > 0 else 0.0
    line = "-" * 40
    return "\n".join(
        [
            "",
            " STATISTIC ",
            f"{line}\nTotal data: {stats.bytes_received} bytes",
            f"{line}\nTotal time taken: {seconds:.3f} seconds",
            f"{line}\nVideo Data Rate: {byte_rate:.1f} bytes/second",
            f"{line}\nFrames received: {stats.frames_complete}",
            f"{line}\nRTP packets lost: {stats.packets_lost} of {stats.packets_expected}",
            f"{line}\nRTP Packet Loss Rate: {stats.loss_rate}",
            line,
        ]
    )


class Client:
    """The lab's RTPClient window, on the Rust engine.

    ``serverport`` and ``rtpport`` may be strings (they come from ``sys.argv``). Keyword-only
    extras: ``print_stats`` (print the statistics at teardown; default on, or the value of the
    environment variable ``RTSP_CORE_LAB_STATS``: ``0`` turns it off) and ``poll_ms`` (how
    often the window looks for a new frame).
    """

    INIT = 0
    READY = 1
    PLAYING = 2
    state = INIT

    SETUP = 0
    PLAY = 1
    PAUSE = 2
    TEARDOWN = 3

    def __init__(
        self,
        master: tkinter.Tk | tkinter.Toplevel,
        serveraddr: str,
        serverport: int | str,
        rtpport: int | str,
        filename: str,
        *,
        print_stats: bool | None = None,
        poll_ms: int = 15,
    ) -> None:
        self.master = master
        self.master.protocol("WM_DELETE_WINDOW", self.handler)
        self.createWidgets()
        self.serverAddr = serveraddr
        self.serverPort = int(serverport)
        self.rtpPort = int(rtpport)
        self.fileName = filename
        self.sessionId = 0
        self.requestSent = -1
        self.teardownAcked = 0
        self.frameNbr = 0
        if print_stats is None:
            print_stats = os.environ.get("RTSP_CORE_LAB_STATS", "1") != "0"
        self.printStats = print_stats
        self.framesShown = 0
        self.lastStats: Stats | None = None
        self._poll_ms = max(1, int(poll_ms))
        self._client: RtspClient | None = None
        self._requests: queue.Queue[str | None] = queue.Queue()
        self._problems: queue.Queue[str] = queue.Queue()
        self._closed = False
        self.connectToServer()
        self.master.bind("<Destroy>", self._on_destroy, add="+")
        self.master.after(self._poll_ms, self._poll)

    # -- the lab's methods ----------------------------------------------------------------------

    def createWidgets(self) -> None:
        """Build the GUI: the video label and the four buttons, laid out as in the lab."""
        self.setup = tkinter.Button(self.master, width=20, padx=3, pady=3)
        self.setup["text"] = "Setup"
        self.setup["command"] = self.setupMovie
        self.setup.grid(row=1, column=0, padx=2, pady=2)

        self.start = tkinter.Button(self.master, width=20, padx=3, pady=3)
        self.start["text"] = "Play"
        self.start["command"] = self.playMovie
        self.start.grid(row=1, column=1, padx=2, pady=2)

        self.pause = tkinter.Button(self.master, width=20, padx=3, pady=3)
        self.pause["text"] = "Pause"
        self.pause["command"] = self.pauseMovie
        self.pause.grid(row=1, column=2, padx=2, pady=2)

        self.teardown = tkinter.Button(self.master, width=20, padx=3, pady=3)
        self.teardown["text"] = "Teardown"
        self.teardown["command"] = self.exitClient
        self.teardown.grid(row=1, column=3, padx=2, pady=2)

        self.label = tkinter.Label(self.master, height=19)
        self.label.grid(
            row=0,
            column=0,
            columnspan=4,
            sticky=tkinter.W + tkinter.E + tkinter.N + tkinter.S,
            padx=5,
            pady=5,
        )

    def setupMovie(self) -> None:
        """Setup button handler: SETUP when in INIT."""
        self._request("setup")

    def playMovie(self) -> None:
        """Play button handler: PLAY when READY."""
        self._request("play")

    def pauseMovie(self) -> None:
        """Pause button handler: PAUSE when PLAYING."""
        self._request("pause")

    def exitClient(self) -> None:
        """Teardown button handler: TEARDOWN, print the statistics, close the window."""
        self._shutdown(teardown=True)
        try:
            self.master.destroy()
        except tkinter.TclError:
            pass  # already gone

    def handler(self) -> None:
        """Handler on explicitly closing the GUI window: pause, ask, then quit or resume."""
        was_playing = self._engine_state() == "PLAYING"
        self.pauseMovie()
        if tkMessageBox.askokcancel("Quit?", "Are you sure you want to quit?"):
            self.exitClient()
        elif was_playing:
            self.playMovie()

    def connectToServer(self) -> None:
        """Connect to the server (the engine opens the RTSP connection)."""
        try:
            self._client = RtspClient.lab(
                self.serverAddr, self.serverPort, self.rtpPort, self.fileName
            )
        except (_errors.RtspError, OSError, ValueError) as e:
            print(f"Connection to '{self.serverAddr}' failed: {e}", file=sys.stderr)
            tkMessageBox.showwarning(
                "Connection Failed", f"Connection to '{self.serverAddr}' failed."
            )
            return
        threading.Thread(target=self._work, name="rtsp-lab-requests", daemon=True).start()

    def writeFrame(self, data: bytes) -> str:
        """Write a frame to the lab's cache file and return its name (kept for lab code that
        calls it; this client shows frames straight from memory)."""
        cachename = f"{CACHE_FILE_NAME}{self.sessionId}{CACHE_FILE_EXT}"
        with open(cachename, "wb") as file:
            file.write(data)
        return cachename

    def updateMovie(self, imageFile: Any) -> None:
        """Show an image: a file name or file object as in the lab, or JPEG bytes."""
        if isinstance(imageFile, (bytes, bytearray, memoryview)):
            imageFile = io.BytesIO(imageFile)
        photo = ImageTk.PhotoImage(Image.open(imageFile))
        self.label.configure(image=photo, height=photo.height())
        self.label.image = photo  # type: ignore[attr-defined]  # keep it alive, as the lab does

    # -- plumbing ---------------------------------------------------------------------------------

    def _engine_state(self) -> str:
        client = self._client
        return client.state if client is not None else "INIT"

    def _request(self, what: str) -> None:
        if self._client is not None and not self._closed:
            self._requests.put(what)

    def _work(self) -> None:
        """The request thread: runs the button presses one at a time, in the state the lab
        allows each one (a press in another state does nothing, as in the lab)."""
        while (what := self._requests.get()) is not None:
            client = self._client
            if client is None:
                return
            try:
                state = client.state
                if what == "setup" and state == "INIT":
                    self.requestSent = self.SETUP
                    client.setup()
                elif what == "play" and state == "READY":
                    self.requestSent = self.PLAY
                    client.play()
                elif what == "pause" and state == "PLAYING":
                    self.requestSent = self.PAUSE
                    client.pause()
            except _errors.ClientClosedError:
                return
            except (_errors.RtspError, OSError) as e:
                self._problems.put(f"{what.upper()} failed: {e}")

    def _poll(self) -> None:
        """Runs in the Tk main loop: shows the newest frame and reports problems."""
        client = self._client
        if self._closed:
            return
        if client is not None:
            newest: Frame | None = None
            while (event := client.next_event(0)) is not None:
                if isinstance(event, Frame):
                    newest = event
                elif isinstance(event, StateChanged):
                    self.state = _STATES.get(event.state, self.INIT)
                elif isinstance(event, Stats):
                    self.lastStats = event
                elif isinstance(event, EndOfStream):
                    print("End of stream")
            if newest is not None:
                self.frameNbr = newest.number
                self._show(newest)
        while not self._problems.empty():
            message = self._problems.get_nowait()
            print(message, file=sys.stderr)
            tkMessageBox.showwarning("RTSP", message)
        self.master.after(self._poll_ms, self._poll)

    def _show(self, frame: Frame) -> None:
        try:
            self.updateMovie(frame.data)
        except (OSError, SyntaxError, ValueError) as e:  # what Pillow raises for a bad JPEG
            print(f"frame {frame.number}: cannot decode: {e}", file=sys.stderr)
            return
        self.framesShown += 1

    def _shutdown(self, teardown: bool) -> None:
        if self._closed:
            return
        self._closed = True
        self._requests.put(None)
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if teardown and client.state != "INIT":
                self.requestSent = self.TEARDOWN
                if self.printStats:
                    print(format_stats(client.stats()))
                client.teardown()
                self.teardownAcked = 1
                self.state = self.INIT
        except _errors.RtspError as e:
            print(f"TEARDOWN failed: {e}", file=sys.stderr)
        finally:
            client.close()

    def _on_destroy(self, event: tkinter.Event) -> None:
        if event.widget is self.master:
            self._shutdown(teardown=True)
