#!/usr/bin/env python3
"""Times one viewer's start, COUNT times in a row, against an RTSP URL (loopback only).

Each probe opens a fresh TCP connection and does OPTIONS, DESCRIBE, SETUP (TCP interleaved)
and PLAY, then waits for the end of the first complete RTP/JPEG frame (RTP marker bit) and
tears down. It prints one JSON line with, per probe: the DESCRIBE round trip, PLAY to the
first RTP packet, and connect to the first complete frame (all in ms). The first probe of a
cold relay includes the edge's pull from the origin.

    first_frame_probe.py rtsp://127.0.0.20:18600/movie.Mjpeg [COUNT] [TIMEOUT_S]
"""
import ipaddress
import json
import socket
import sys
import time
from urllib.parse import urlsplit


def read_msg(sock, buf):
    """Returns (kind, payload, buf): kind 'rtsp' (status, headers, body) or 'rtp' (channel, data)."""
    while True:
        if buf[:1] == b"$":
            if len(buf) >= 4:
                n = int.from_bytes(buf[2:4], "big")
                if len(buf) >= 4 + n:
                    return "rtp", (buf[1], buf[4:4 + n]), buf[4 + n:]
        elif b"\r\n\r\n" in buf:
            head, rest = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            n = int(headers.get("content-length", "0"))
            if len(rest) >= n:
                status = int(lines[0].split()[1])
                return "rtsp", (status, headers, rest[:n]), rest[n:]
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed")
        buf += data


def request(sock, buf, cseq, method, url, extra=""):
    sock.sendall(f"{method} {url} RTSP/1.0\r\nCSeq: {cseq}\r\nUser-Agent: first-frame-probe\r\n{extra}\r\n".encode())
    while True:
        kind, msg, buf = read_msg(sock, buf)
        if kind == "rtsp":
            status, headers, body = msg
            if status != 200:
                raise RuntimeError(f"{method} answered {status}")
            return headers, body, buf


def probe(url, timeout):
    u = urlsplit(url)
    if not ipaddress.ip_address(socket.gethostbyname(u.hostname)).is_loopback:
        raise SystemExit("loopback addresses only")
    t0 = time.monotonic()
    sock = socket.create_connection((u.hostname, u.port or 554), timeout=timeout)
    try:
        buf = b""
        _, _, buf = request(sock, buf, 1, "OPTIONS", url)
        t = time.monotonic()
        headers, body, buf = request(sock, buf, 2, "DESCRIBE", url, "Accept: application/sdp\r\n")
        describe_ms = (time.monotonic() - t) * 1000
        base = headers.get("content-base") or headers.get("content-location") or url
        control = next((l[len("a=control:"):].strip() for l in body.decode("latin-1").splitlines()
                        if l.startswith("a=control:") and l.strip() != "a=control:*"), "")
        if control.startswith("rtsp://"):
            setup_url = control
        else:
            setup_url = base + ("" if base.endswith("/") else "/") + control
        headers, _, buf = request(sock, buf, 3, "SETUP", setup_url,
                                  "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")
        session = headers.get("session", "").split(";")[0]
        sock.sendall(f"PLAY {base} RTSP/1.0\r\nCSeq: 4\r\nSession: {session}\r\nRange: npt=0.000-\r\n\r\n".encode())
        t_play = time.monotonic()
        first_packet_ms = None
        while True:
            kind, msg, buf = read_msg(sock, buf)
            if kind == "rtsp":
                if msg[0] != 200:
                    raise RuntimeError(f"PLAY answered {msg[0]}")
                continue
            channel, data = msg
            if channel != 0 or len(data) < 12:
                continue
            now = time.monotonic()
            if first_packet_ms is None:
                first_packet_ms = (now - t_play) * 1000
            if data[1] & 0x80:
                first_frame_ms = (now - t0) * 1000
                break
        try:
            sock.sendall(f"TEARDOWN {base} RTSP/1.0\r\nCSeq: 5\r\nSession: {session}\r\n\r\n".encode())
        except OSError:
            pass
        return {"describe_ms": round(describe_ms, 3), "play_first_packet_ms": round(first_packet_ms, 3),
                "connect_first_frame_ms": round(first_frame_ms, 3)}
    finally:
        sock.close()


def main():
    url = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
    probes, errors = [], []
    for _ in range(count):
        try:
            probes.append(probe(url, timeout))
        except Exception as e:  # a failed probe is recorded, not fatal
            errors.append(str(e))
        time.sleep(0.05)
    print(json.dumps({"url": url, "probes": probes, "errors": errors}))


if __name__ == "__main__":
    main()
