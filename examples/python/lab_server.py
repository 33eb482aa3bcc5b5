#!/usr/bin/env python3
"""A minimal lab-style RTSP server on rtsp_core's RtpPacket and VideoStream.

    python lab_server.py 8554 [--media DIR]

It is organised like the lab's Server.py / ServerWorker.py (one thread per client, the states
INIT/READY/PLAYING, a sender thread that packs one frame every 50 ms), but every frame is read
by rtsp_core.VideoStream and packed by rtsp_core.RtpPacket, the engine's drop-ins for the lab's
classes. Replies have the lab's shape (status line, CSeq, Session, "\\n" line ends); unlike the
lab's server it answers errors (404, 400, 455) and only serves files inside the media folder.

Play it with the lab's ClientLauncher.py, the drop-in Client.py, or:
    python play_and_save.py --lab 127.0.0.1 8554 25000 movie.Mjpeg
"""

from __future__ import annotations

import argparse
import random
import socket
import sys
import threading
from pathlib import Path

from rtsp_core import RtpPacket, VideoStream

FRAME_INTERVAL = 0.05  # the lab's 20 frames per second


class ServerWorker:
    INIT, READY, PLAYING = 0, 1, 2

    def __init__(self, conn: socket.socket, addr: tuple[str, int], media: Path) -> None:
        self.conn = conn
        self.addr = addr
        self.media = media
        self.state = self.INIT
        self.session = 0
        self.stream: VideoStream | None = None
        self.rtp_port = 0
        self.rtp_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.stop = threading.Event()
        self.sender: threading.Thread | None = None
        self.ssrc = random.getrandbits(32)

    def run(self) -> None:
        with self.conn:
            while data := self.recv():
                self.process(data.decode("utf-8", "replace"))
        self.stop.set()
        self.rtp_socket.close()

    def recv(self) -> bytes:
        try:
            return self.conn.recv(1024)
        except OSError:
            return b""

    def process(self, request: str) -> None:
        lines = request.split("\n")
        words = lines[0].split(" ")
        cseq = lines[1].split(" ")[-1].strip() if len(lines) > 1 else "0"
        if len(words) != 3:
            return self.reply(400, "Bad Request", cseq)
        method, name = words[0], words[1]
        if method == "SETUP" and self.state == self.INIT:
            path = (self.media / name).resolve()
            if not path.is_relative_to(self.media):
                return self.reply(404, "Not Found", cseq)
            try:
                self.stream = VideoStream(str(path))  # IOError (OSError) if it cannot be read
            except OSError:
                return self.reply(404, "Not Found", cseq)
            transport = lines[2] if len(lines) > 2 else ""
            self.rtp_port = int(transport.split("client_port=")[-1].strip().split("-")[0])
            self.session = random.randint(100000, 999999)
            self.state = self.READY
            self.reply(200, "OK", cseq)
        elif method == "PLAY" and self.state == self.READY:
            self.state = self.PLAYING
            self.stop = threading.Event()
            self.sender = threading.Thread(target=self.send_rtp, args=(self.stop,), daemon=True)
            self.reply(200, "OK", cseq)
            self.sender.start()
        elif method == "PAUSE" and self.state == self.PLAYING:
            self.state = self.READY
            self.stop.set()
            self.reply(200, "OK", cseq)
        elif method == "TEARDOWN" and self.state != self.INIT:
            self.state = self.INIT
            self.stop.set()
            self.reply(200, "OK", cseq)
        else:
            self.reply(455, "Method Not Valid in This State", cseq)

    def send_rtp(self, stop: threading.Event) -> None:
        while not stop.wait(FRAME_INTERVAL):
            data = self.stream.nextFrame() if self.stream else b""
            if not data:
                break  # end of the file: the lab's server just stops sending
            packet = self.make_rtp(data, self.stream.frameNbr())
            try:
                self.rtp_socket.sendto(packet, (self.addr[0], self.rtp_port))
            except OSError as e:
                print(f"RTP send failed: {e}", file=sys.stderr)

    def make_rtp(self, payload: bytes, frame_nbr: int) -> bytes:
        """The lab's makeRtp: V=2, P=X=CC=M=0, PT=26 (JPEG), seq = frame number."""
        packet = RtpPacket()
        packet.encode(2, 0, 0, 0, frame_nbr, 0, 26, self.ssrc, payload)
        return packet.getPacket()

    def reply(self, code: int, reason: str, cseq: str) -> None:
        text = f"RTSP/1.0 {code} {reason}\nCSeq: {cseq}\nSession: {self.session}"
        self.conn.sendall(text.encode())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("port", type=int, help="RTSP port (0: pick a free one)")
    p.add_argument("--media", type=Path, default=Path("."), help="folder of .Mjpeg files")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    args = p.parse_args()
    media = args.media.resolve()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((args.host, args.port))
        listener.listen(5)
        print(f"listening on {args.host}:{listener.getsockname()[1]}, media {media}", flush=True)
        try:
            while True:
                conn, addr = listener.accept()
                worker = ServerWorker(conn, addr, media)
                threading.Thread(target=worker.run, daemon=True).start()
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
