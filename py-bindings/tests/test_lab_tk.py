"""The lab's Tk client on the engine, in a real window under Xvfb.

Each test writes a launcher script that does what the lab's ClientLauncher.py does and runs it
in a child process against the in-process server, pressing the buttons programmatically.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# In CI (CI=true) a missing tkinter or Pillow is a failed install, so the import error stands.
if os.environ.get("CI", "") in ("", "0", "false"):
    pytest.importorskip("tkinter", reason="needs a Python with tkinter")
    pytest.importorskip("PIL.ImageTk", reason="needs Pillow")

# What the lab's ClientLauncher.py does, written out for the test (the lab's file is not
# shipped here): arguments from sys.argv, a Tk root, the Client, the title, the main loop.
LAUNCHER = """\
import sys
from tkinter import Tk
from Client import Client

if __name__ == "__main__":
    try:
        serverAddr = sys.argv[1]
        serverPort = sys.argv[2]
        rtpPort = sys.argv[3]
        fileName = sys.argv[4]
    except IndexError:
        print("[Usage: ClientLauncher.py Server_name Server_port RTP_port Video_file]")
        sys.exit(2)

    root = Tk()
    app = Client(root, serverAddr, serverPort, rtpPort, fileName)
    app.master.title("RTPClient")
    root.mainloop()
"""

# Runs the unmodified launcher with runpy; before its main loop starts, schedules a script
# that finds the four buttons by their text and presses them like a user would.
DRIVER = """\
import json, runpy, sys, tkinter

RESULT = sys.argv[1]
sys.argv = ["ClientLauncher.py"] + sys.argv[2:]
result = {"steps": []}

def buttons(root):
    return {w.cget("text"): w for w in root.winfo_children() if isinstance(w, tkinter.Button)}

def label(root):
    return next(w for w in root.winfo_children() if isinstance(w, tkinter.Label))

def drive(root):
    deadline = [0]
    def wait(cond, then, what, limit=200):
        if cond():
            result["steps"].append(what)
            then()
        elif limit == 0:
            result["failed"] = what
            root.destroy()
        else:
            root.after(50, lambda: wait(cond, then, what, limit - 1))
    b = buttons(root)
    result["buttons"] = sorted(b)
    result["title"] = root.title()
    def shown():
        return bool(label(root).cget("image"))
    def after_frame():
        img = root.tk.call("image", "width", label(root).cget("image"))
        result["image_width"] = int(img)
        b["Pause"].invoke()
        root.after(300, lambda: b["Teardown"].invoke())
    b["Setup"].invoke()
    root.after(300, lambda: (b["Play"].invoke(), wait(shown, after_frame, "frame shown")))

original = tkinter.Tk.mainloop
def mainloop(self, n=0):
    self.after(200, lambda: drive(self))
    original(self, n)
tkinter.Tk.mainloop = mainloop
try:
    runpy.run_path("ClientLauncher.py", run_name="__main__")
finally:
    with open(RESULT, "w") as f:
        json.dump(result, f)
"""


def run_child(script: Path, args: list[str], display: str, cwd: Path, timeout=60):
    env = dict(os.environ, DISPLAY=display)
    env.pop("XAUTHORITY", None)
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_unmodified_launcher_with_the_dropin_client(tmp_path, server, display):
    # What a student does: put the drop-in Client.py next to the lab's ClientLauncher.py.
    subprocess.run(
        [sys.executable, "-m", "rtsp_core.lab.dropin", str(tmp_path)], check=True, timeout=60
    )
    assert (tmp_path / "Client.py").read_text().startswith("from rtsp_core.lab import Client")
    (tmp_path / "ClientLauncher.py").write_text(LAUNCHER)
    (tmp_path / "drive.py").write_text(DRIVER)
    result_file = tmp_path / "result.json"
    proc = run_child(
        tmp_path / "drive.py",
        [str(result_file), "127.0.0.1", str(server.port), "0", "movie.Mjpeg"],
        display,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(result_file.read_text())
    assert "failed" not in result, (result, proc.stdout, proc.stderr)
    assert result["buttons"] == ["Pause", "Play", "Setup", "Teardown"]
    assert result["title"] == "RTPClient"
    assert result["steps"] == ["frame shown"]
    assert result["image_width"] == 640
    # The report's statistics printout at teardown.
    assert "RTP Packet Loss Rate: 0.0" in proc.stdout
    assert "Total data:" in proc.stdout


# A launcher like the lab's, plus programmatic button presses through the app object, the
# close confirmation (first answered Cancel, then OK) and checks written to a JSON file.
APP_SCRIPT = """\
import json, sys
from tkinter import Tk, messagebox
from rtsp_core.lab import Client

result = {}
answers = iter([False, True])
def askokcancel(title, message):
    result.setdefault("asked", []).append(title)
    return next(answers)
messagebox.askokcancel = askokcancel

root = Tk()
app = Client(root, sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4])
app.master.title("RTPClient")

def check(cond, then, what, limit=200):
    if cond():
        then()
    elif limit == 0:
        result["failed"] = what
        root.destroy()
    else:
        root.after(50, lambda: check(cond, then, what, limit - 1))

def playing():
    result["frames_at_first_check"] = app.framesShown
    result["frame_number"] = app.frameNbr
    result["label_image"] = bool(app.label.cget("image"))
    app.handler()          # the window's close button: pause, ask (Cancel), play again
    more = result["frames_at_first_check"] + 5
    check(lambda: app.state == app.PLAYING and app.framesShown > more,
          closing, "resumed after Cancel")

def closing():
    result["resumed"] = True
    app.handler()          # close again, answer OK: teardown and the window goes away

app.setup.invoke()
check(lambda: app.state == app.READY, app.start.invoke, "READY after Setup")
check(lambda: app.framesShown >= 10, playing, "10 frames shown")
root.mainloop()
result["closed"] = True
with open(sys.argv[5], "w") as f:
    json.dump(result, f)
"""


def test_launcher_app_buttons_and_close_confirmation(tmp_path, server, display):
    script = tmp_path / "launcher.py"
    script.write_text(APP_SCRIPT)
    result_file = tmp_path / "result.json"
    proc = run_child(
        script,
        ["127.0.0.1", str(server.port), "0", "movie.Mjpeg", str(result_file)],
        display,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(result_file.read_text())
    assert "failed" not in result, (result, proc.stdout, proc.stderr)
    assert result["label_image"] and result["frame_number"] >= 10
    assert result["asked"] == ["Quit?", "Quit?"]
    assert result["resumed"] and result["closed"]
    assert "STATISTIC" in proc.stdout


def test_connection_failure_warns_like_the_lab(tmp_path, display):
    script = tmp_path / "refused.py"
    script.write_text(
        textwrap.dedent(
            """\
            import sys
            from tkinter import Tk, messagebox
            from rtsp_core.lab import Client
            shown = []
            messagebox.showwarning = lambda title, message: shown.append((title, message))
            root = Tk()
            app = Client(root, "127.0.0.1", sys.argv[1], "0", "movie.Mjpeg")
            app.setup.invoke()  # does nothing without a connection
            root.update()
            root.destroy()
            print(shown)
            """
        )
    )
    from conftest import free_port

    proc = run_child(script, [str(free_port())], display, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Connection Failed" in proc.stdout and "127.0.0.1" in proc.stdout


def test_report_statistics_keep_the_reports_units_and_count_every_frame(server):
    import rtsp_core
    from rtsp_core.lab import format_stats

    with rtsp_core.Client.lab(
        "127.0.0.1", server.port, 0, "short.Mjpeg", lab_end_silence=1.0
    ) as client:
        client.player_play()
        frames = list(client.frames(timeout=5))
        stats = client.stats()
    text = format_stats(stats)
    figures = dict(re.findall(r"^([A-Za-z ]+): ([\d.]+)", text, re.M))
    assert int(figures["Total data"]) == stats.bytes_received
    # The report prints bytes per second; the engine measures bits per second.
    assert "bytes/second" in text
    rate = float(figures["Video Data Rate"])
    assert rate == pytest.approx(stats.bitrate_bps_overall / 8, abs=0.1)
    # Time taken is printed to the millisecond: a 0.45 s stream is known to 0.1 %.
    assert rate * float(figures["Total time taken"]) == pytest.approx(
        stats.bytes_received, rel=3e-3
    )
    # One packet is one frame: every frame received is a packet, every packet lost a frame.
    assert int(figures["Frames received"]) == stats.frames_complete == len(frames)
    lost, expected = re.search(r"RTP packets lost: (\d+) of (\d+)", text).groups()
    assert int(expected) == stats.frames_complete + int(lost), text
